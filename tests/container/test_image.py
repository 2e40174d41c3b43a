"""The container image (SPEC §9): built from ``Containerfile``, run as a non-root user with
settings from the environment only; it renders V1 and V2, its CLI and HEALTHCHECK work inside,
and SIGTERM stops it cleanly (exit 0)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import orjson
import pytest

from backends import free_port
from receiver import wait_until
from support import request

from .conftest import LIMITS, exec_in, podman, wait_healthy


@pytest.fixture(scope="module")
def container(image: str) -> Iterator[tuple[str, str]]:
    """A running container of the image: (its name, its URL on the host)."""
    name = f"ogmint-test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    podman(
        "run",
        "-d",
        "--name",
        name,
        *LIMITS,
        "-p",
        f"127.0.0.1:{port}:8080",
        "-e",
        "OGMINT_WORKERS=2",
        "-e",
        f"OGMINT_PUBLIC_URL=http://127.0.0.1:{port}",
        image,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url + "/readyz")
        yield name, url
    finally:
        podman("rm", "-f", "-v", "-t", "0", name, check=False)


def test_runs_as_non_root_with_the_data_volume(container: tuple[str, str]) -> None:
    name, _ = container
    assert exec_in(name, "id", "-u").strip() != "0"
    assert exec_in(name, "ls", "-d", "/data/ogmint.sqlite3").strip() == "/data/ogmint.sqlite3"
    mounts = orjson.loads(podman("inspect", name).stdout)[0]["Mounts"]
    assert [m["Destination"] for m in mounts] == ["/data"]  # a volume: survives the container


def logs(name: str) -> str:
    done = podman("logs", name)
    return done.stdout + done.stderr


def test_start_up_text_and_healthcheck(container: tuple[str, str]) -> None:
    name, url = container
    text = logs(name)
    assert f"dashboard: {url}/dashboard" in text
    assert "ogmint users create admin --email you@example.com --admin" in text
    assert exec_in(name, "ogmint", "health").strip().endswith("ok")
    healthcheck = orjson.loads(podman("inspect", name).stdout)[0]["Config"]["Healthcheck"]
    assert healthcheck["Test"] == ["CMD", "ogmint", "health"]
    assert podman("healthcheck", "run", name, check=False).returncode == 0


def test_renders_v1_and_v2(container: tuple[str, str]) -> None:
    name, url = container
    v1 = request(f"{url}/api/og?template=blog&title=From+a+container&palette=sunset")
    assert v1.status == 200, v1.body[:300]
    assert v1.image().size == (1200, 630)
    # Colour emoji and CJK come from Debian's font packages in the image.
    cjk = request(f"{url}/api/og?template=minimal&title=%E6%97%A5%E6%9C%AC%E8%AA%9E+%F0%9F%9A%80")
    assert cjk.status == 200

    made = exec_in(name, "ogmint", "keys", "create", "--user", "boxed", "--plan", "pro")
    key = made.strip().splitlines()[-1]
    assert key.startswith("ogm_live_")
    body = orjson.dumps({"template": "minimal", "title": "V2 from a container"})
    headers = {"content-type": "application/json", "x-api-key": key}
    v2 = request(url + "/api/v2/render", "POST", headers, body)
    assert v2.status == 201, v2.body[:300]
    image = request(f"{url}/i/{v2.json()['slug']}")
    assert image.status == 200 and image.image().size == (1200, 630)
    assert request(url + "/").status == 200  # / -> /dashboard -> its sign-in page


def test_sigterm_stops_it_with_exit_0(image: str) -> None:
    # Its own container: the module's one is still needed by the tests above.
    name = f"ogmint-stop-{uuid.uuid4().hex[:8]}"
    port = free_port()
    podman(
        "run", "-d", "--name", name, *LIMITS, "-e", "OGMINT_WORKERS=2",
        "-p", f"127.0.0.1:{port}:8080", image,
    )  # fmt: skip
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz")
        wait_until(lambda: logs(name).count("Worker ready") == 2 or None, timeout=60)
        stopped_at = time.monotonic()
        podman("stop", "-t", "30", name, timeout=60)  # SIGTERM first, SIGKILL after 30 s
        took = time.monotonic() - stopped_at
        state = orjson.loads(podman("inspect", name).stdout)[0]["State"]
        assert state["ExitCode"] == 0, logs(name)[-2000:]
        assert "Server Stopped" in logs(name)
        assert took < 20, took  # idle: nothing to drain
    finally:
        podman("rm", "-f", "-v", "-t", "0", name, check=False)
