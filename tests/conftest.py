"""Shared fixtures: real ogmint server processes on loopback, a shared renderer."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ogmint import cli

pytest.register_assert_rewrite("backends", "support")

from backends import free_port  # noqa: E402

pytest_plugins = ["backends"]

ROOT = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--golden-loose",
        action="store_true",
        help="compare golden images with a wide tolerance (other font builds); misses small "
        "regressions",
    )


@dataclass
class Server:
    """A running ``python -m ogmint`` process."""

    url: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    env: dict[str, str]

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

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_server(tmp: Path, **env: str) -> Server:
    port = free_port()
    data = tmp / f"data-{port}"
    full_env = {
        **os.environ,
        "OGMINT_HOST": "127.0.0.1",
        "OGMINT_PORT": str(port),
        "OGMINT_DATA_DIR": str(data),
        "OGMINT_WORKERS": "1",  # tests ask for more where they need them; the box is shared
        **env,
    }
    log = open(tmp / f"server-{port}.log", "wb")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "ogmint"],
        env=full_env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {(tmp / f'server-{port}.log').read_text()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as r:
                if r.status == 200:
                    return Server(url, proc, data, full_env)
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not become healthy in 60 s")


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
