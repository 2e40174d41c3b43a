"""``python -m ogmint``: serve the API with the settings from the environment."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import sys
import tempfile
from functools import partial
from pathlib import Path

from sanic import Sanic
from sanic.worker.loader import AppLoader

from ogmint.app import create_app, make_state
from ogmint.lifecycle import stop_waiting_for_starts_on_shutdown
from ogmint.operator import startup_text
from ogmint.settings import Settings, SettingsError


def metrics_directory(configured: str) -> tuple[Path, bool]:
    """The empty directory for this instance's metric files, and whether it is a temporary one."""
    if not configured:
        return Path(tempfile.mkdtemp(prefix="ogmint-metrics-")), True
    path = Path(configured)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):  # a previous run's counts would add to this run's
        stale.unlink()
    return path, False


async def has_users(settings: Settings) -> bool | None:
    """Whether any dashboard account exists; ``None`` when the state cannot be read now (the
    server then answers 503 per request and says so itself)."""
    state = make_state(settings)
    try:
        await asyncio.wait_for(state.open(), settings.dependency_timeout)
        try:
            return bool(await state.accounts.list_accounts())
        finally:
            await state.close()
    except Exception:  # only decides whether to print a hint
        return None


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as e:
        print(e, file=sys.stderr)
        return 2
    # 0700: the directory holds the database, webhook secrets included.
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    metrics_dir, temporary = metrics_directory(settings.metrics_dir)
    settings = dataclasses.replace(settings, metrics_dir=str(metrics_dir))
    # prometheus_client reads this when first imported, in this process and in every worker
    # (they inherit the environment): it makes all of them write to the one directory.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = settings.metrics_dir
    try:
        loader = AppLoader(factory=partial(create_app, settings))
        app = loader.load()
        app.prepare(
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            access_log=settings.access_log,
            motd=False,
            single_process=settings.workers == 1,
        )
        print(startup_text(settings, has_users=asyncio.run(has_users(settings))), flush=True)
        if settings.workers == 1:
            Sanic.serve_single(primary=app)
        else:
            stop_waiting_for_starts_on_shutdown()
            Sanic.serve(primary=app, app_loader=loader)
    finally:
        if temporary:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
