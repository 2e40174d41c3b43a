"""Shared fixtures: real ogmint server processes on loopback, a shared renderer."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ogmint import cli
from testbed.processes import AppServer, start_app

pytest.register_assert_rewrite("backends", "support")

pytest_plugins = ["backends"]

ROOT = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--golden-loose",
        action="store_true",
        help="compare golden images with a wide tolerance (other font builds); misses small "
        "regressions",
    )


class Server(AppServer):
    """A running ``python -m ogmint`` process (``testbed.processes``), with its CLI at hand."""

    def cli(self, *args: str) -> str:
        """Runs the ``ogmint`` CLI against this server's state in this process; returns its output.

        The CLI's own code path with the server's settings, minus a Python start-up per call
        (tests create over a hundred keys). ``tests/integration/test_cli.py`` runs the real
        command as a process.
        """
        out, err = io.StringIO(), io.StringIO()
        with (
            pytest.MonkeyPatch.context() as mp,
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            for name in [n for n in os.environ if n.startswith("OGMINT_")]:
                mp.delenv(name)
            for name, value in self.env.items():
                mp.setenv(name, value)
            code = cli.main(list(args))
        if code != 0:
            raise RuntimeError(f"ogmint {' '.join(args)} failed ({code}): {err.getvalue()[-2000:]}")
        return out.getvalue()

    def cli_process(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Runs the real ``ogmint`` command (``python -m ogmint.cli``) against this server's state."""
        return subprocess.run(
            [sys.executable, "-m", "ogmint.cli", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def create_key(self, user: str, plan: str = "pro") -> str:
        return self.cli("keys", "create", "--user", user, "--plan", plan).strip().splitlines()[-1]


def start_server(tmp: Path, **env: str) -> Server:
    """An app server with one worker (tests ask for more where they need them; the box is
    shared) and ``env`` on top, its data and log under ``tmp``."""
    app = start_app(tmp, {"OGMINT_WORKERS": "1", **env})
    return Server(app.url, app.process, app.data_dir, app.env)


@pytest.fixture(scope="module")
def server_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Server]]:
    """Starts servers with extra ``OGMINT_*`` settings; all are stopped when the module ends.

    Module scope, so no idle server (and its webhook worker) outlives the tests that use it.
    """
    started: list[Server] = []

    def factory(**env: str) -> Server:
        s = start_server(tmp_path_factory.mktemp("ogmint"), **env)
        started.append(s)
        return s

    yield factory
    for s in started:
        s.stop()


@pytest.fixture(scope="module")
def server(server_factory: Callable[..., Server]) -> Server:
    """A default server with a generous anonymous limit (tests of the limit start their own)."""
    return server_factory(OGMINT_ANONYMOUS_DAILY_LIMIT="1000000")


@pytest.fixture(scope="session")
def renderer():  # type: ignore[no-untyped-def]
    from ogmint.rendering.native import Renderer, bundled_font_dirs

    return Renderer(bundled_font_dirs(), threads=2, queue=4, max_svg_bytes=2 << 20, max_nodes=20000)
