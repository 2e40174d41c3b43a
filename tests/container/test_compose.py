"""compose.yaml (SPEC §9): one command brings up nginx, two app servers, Redis and the S3 server;
renders go through nginx (V1 cached at the edge, V2 stored in S3 and served through nginx's
X-Accel path), both app servers share the state; one command takes it all down."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import orjson
import pytest

from backends import free_port
from receiver import wait_until
from support import request, until_admitted

from .conftest import GLOBAL_FLAGS, LIMITS, ROOT, build_args, podman, wait_healthy

#: A subnet of its own: the project may run beside an operator's `ogmint` stack.
SUBNET = "10.89.117.0/24"


def compose_command() -> list[str]:
    beside = Path(sys.executable).parent / "podman-compose"  # the venv's (pyproject dev extra)
    found = str(beside) if beside.exists() else shutil.which("podman-compose")
    if found is None:
        pytest.fail("podman-compose is not installed: `make test` installs it (PyPI)")
    return [found]


class Stack:
    def __init__(self, image: str) -> None:
        self.project = f"ogmint-test-{uuid.uuid4().hex[:6]}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "OGMINT_IMAGE": image,
            "OGMINT_HTTP_PORT": str(self.port),
            "OGMINT_SUBNET": SUBNET,
            "OGMINT_PUBLIC_URL": self.url,
            "OGMINT_WORKERS": "1",  # two app servers on a shared 2-core machine
        }

    def ready(self, app: str) -> bool:
        return self("exec", "-T", app, "ogmint", "health", "--ready", check=False).returncode == 0

    def __call__(
        self, *args: str, timeout: float = 600, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [
                *compose_command(),
                "-p",
                self.project,
                "-f",
                str(ROOT / "compose.yaml"),
                "--podman-args",
                " ".join(GLOBAL_FLAGS),
                "--podman-build-args",
                " ".join(build_args()),
                "--podman-run-args",
                " ".join(LIMITS),
                *args,
            ],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"podman-compose {' '.join(args)}: {done.stdout[-2000:]}\n{done.stderr[-3000:]}"
            )
        return done


def test_up_renders_through_nginx_on_two_app_servers_and_down(image: str) -> None:
    stack = Stack(image)
    stack("build", "nginx", "redis", "s3", timeout=1800)
    stack("up", "-d")
    try:
        # Both app servers up (nginx counts one that refused a connection as down for 10 s),
        # then nginx answering.
        for app in ("app1", "app2"):
            wait_until(lambda app=app: stack.ready(app) or None, timeout=120, step=0.5)
        wait_healthy(stack.url + "/healthz", timeout=60)
        renders_through_nginx(stack)
    except BaseException:
        logs = stack("logs")
        print(logs.stdout[-6000:], logs.stderr[-3000:], file=sys.stderr)
        raise
    finally:
        stack("down", "-v", "-t", "30")
    # Down means down: no container, network or volume of the project is left.
    assert stack.project not in podman("ps", "-a", "--format", "{{.Names}}").stdout
    assert stack.project not in podman("volume", "ls", "--format", "{{.Name}}").stdout
    assert stack.project not in podman("network", "ls", "--format", "{{.Name}}").stdout


def renders_through_nginx(stack: Stack) -> None:
    v1_url = f"{stack.url}/api/og?template=blog&title=From+compose&palette=ocean"
    first = request(v1_url)
    assert first.status == 200, first.body[:300]
    assert first.image().size == (1200, 630)
    assert request(v1_url).headers["x-cache-status"] == "HIT"  # nginx's cache, as configured

    made = stack("exec", "-T", "app1", "ogmint", "keys", "create", "--user", "composed")
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("ogm_live_"), made.stdout
    assert "using Redis redis://redis:6379/0" in made.stderr + made.stdout
    headers = {"content-type": "application/json", "x-api-key": key}
    slugs = []
    for i in range(4):  # nginx spreads them over both app servers; the key is in Redis
        body = orjson.dumps({"template": "minimal", "title": f"V2 through nginx {i}"})
        reply = until_admitted(
            lambda body=body: request(stack.url + "/api/v2/render", "POST", headers, body)
        )
        assert reply.status == 201, reply.body[:300]
        slugs.append(reply.json()["slug"])
    for slug in slugs:  # stored in S3, streamed by nginx (X-Accel-Redirect)
        got = request(f"{stack.url}/i/{slug}")
        assert got.status == 200, got.body[:300]
        assert got.image().size == (1200, 630)
    for app in ("app1", "app2"):
        assert stack("exec", "-T", app, "ogmint", "health", "--ready").returncode == 0
