"""Stop signals that arrive while Sanic's workers start (SPEC §9: SIGTERM always stops).

Two ways Sanic 25.12 never exits after a SIGTERM that comes while its workers start:

- the manager waits for every worker to acknowledge its start before it acts on anything, and
  marking the workers as terminated on the signal means the acknowledgement is never seen:
  :func:`stop_waiting_for_starts_on_shutdown` makes it stop waiting once it is shutting down;
- the manager passes the signal on as SIGINT, and a worker still starting (loading fonts and
  templates, opening the state) dies of KeyboardInterrupt without acknowledging: so until a
  worker serves, a stop signal is only noted, and once Sanic's own handlers are installed it is
  acted on (:func:`defer_stop_signals`, :func:`stop_when_serving`).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_noted: list[int] = []


def in_worker_process() -> bool:
    """Whether this process is one of the workers of Sanic's manager (it names them so)."""
    return "SANIC_WORKER_NAME" in os.environ


def defer_stop_signals() -> None:
    """From now until :func:`deliver_deferred_stop`, stop signals are noted, not acted on."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, _note)


def stop_when_serving(stop: Callable[[], object]) -> None:
    """Takes over the stop signals from Sanic once the worker is about to serve (its last
    start-up listener): ``stop`` runs a moment later, from the serving loop (Sanic's own handler
    stops the loop at once, and a stop while start-up listeners still run is lost), and a
    signal noted during start-up is acted on now."""
    loop = asyncio.get_running_loop()

    def stop_soon() -> None:
        loop.call_later(0.05, stop)

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop_soon)
    if _noted:
        stop_soon()


def stop_waiting_for_starts_on_shutdown() -> None:
    """Patches the manager's "all workers started" check to also hold once it shuts down."""
    from sanic.worker.manager import WorkerManager

    started = WorkerManager._all_workers_ack
    if getattr(started, "ogmint", False):
        return

    def started_or_stopping(self: WorkerManager) -> bool:
        return bool(started(self)) or bool(getattr(self, "_shutting_down", False))  # type: ignore[no-untyped-call]

    started_or_stopping.ogmint = True  # type: ignore[attr-defined]
    WorkerManager._all_workers_ack = started_or_stopping  # type: ignore[method-assign]


def _note(signum: int, frame: FrameType | None) -> None:
    _noted.append(signum)
