"""The first minutes with ogmint (SPEC §9): what the server says when it starts, where `/` goes,
and a CLI that never writes to a state no server reads."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from backends import RedisServer
from conftest import Server, start_server
from support import request

FIRST_ADMIN = "users create admin --email you@example.com --admin"


def ogmint(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real command, run from ``cwd`` with only the given OGMINT_* settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OGMINT_")}
    return subprocess.run(
        [sys.executable, "-m", "ogmint.cli", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_start_up_text_names_urls_and_the_first_admin_command(tmp_path: Path) -> None:
    srv = start_server(tmp_path)
    port = srv.url.rsplit(":", 1)[1]
    try:
        log = (tmp_path / f"server-{port}.log").read_text()
        assert f"ogmint listening on {srv.url}\n" in log
        assert f"dashboard: {srv.url}/dashboard\n" in log
        assert FIRST_ADMIN in log
        srv.cli("users", "create", "admin", "--email", "admin@example.com", "--admin")
    finally:
        srv.stop()
    # With a user, the hint is gone (the same data directory, a new server).
    again = start_server(tmp_path, OGMINT_DATA_DIR=str(srv.data_dir))
    try:
        log = (tmp_path / f"server-{again.url.rsplit(':', 1)[1]}.log").read_text()
        assert f"dashboard: {again.url}/dashboard\n" in log
        assert "users create" not in log
    finally:
        again.stop()


class NoFollow(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_root_redirects_to_the_dashboard(server_factory: Callable[..., Server]) -> None:
    srv = server_factory()

    opener = urllib.request.build_opener(NoFollow)
    try:
        opener.open(srv.url + "/", timeout=10)
        raise AssertionError("expected a redirect")
    except urllib.error.HTTPError as e:
        assert e.code == 302
        assert e.headers["location"] == "/dashboard"
    # ... where a person who is not signed in gets the sign-in page.
    assert request(srv.url + "/").status == 200


def test_cli_refuses_to_create_an_empty_data_directory(tmp_path: Path) -> None:
    # From a directory where no server runs: nothing is created, the message says where it
    # looked and what to do.
    refused = ogmint(tmp_path, "keys", "create", "--user", "alice")
    assert refused.returncode == 2, refused.stdout
    assert str(tmp_path / "data") in refused.stderr and "--init" in refused.stderr
    assert "OGMINT_DATA_DIR" in refused.stderr
    assert not (tmp_path / "data").exists()
    listed = ogmint(tmp_path, "keys", "list")  # reading would create the database as well
    assert listed.returncode == 2 and not (tmp_path / "data").exists()

    made = ogmint(tmp_path, "users", "create", "alice", "--email", "a@example.com", "--init")
    assert made.returncode == 0, made.stderr
    assert f"using data directory {tmp_path / 'data'}" in made.stderr
    assert (tmp_path / "data" / "ogmint.sqlite3").is_file()
    # Now it exists: no --init needed, and writes still say where they go.
    key = ogmint(tmp_path, "keys", "create", "--user", "alice")
    assert key.returncode == 0, key.stderr
    assert f"using data directory {tmp_path / 'data'}" in key.stderr
    assert key.stdout.strip().splitlines()[-1].startswith("ogm_live_")
    # A read says nothing about where it writes.
    assert ogmint(tmp_path, "keys", "list").stderr == ""


def test_cli_names_the_redis_it_writes_to_without_its_password(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    env = redis_server.namespace()
    url = env["OGMINT_REDIS_URL"]
    with_password = url.replace("redis://", "redis://:s3cret@", 1)
    made = ogmint(tmp_path, "keys", "create", "--user", "bob", **{**env, "OGMINT_REDIS_URL": url})
    assert made.returncode == 0, made.stderr
    assert "using Redis redis://127.0.0.1:" in made.stderr
    assert not (tmp_path / "data").exists()  # Redis needs no --init and no data directory
    shown = ogmint(
        tmp_path, "plans", "set", "nobody", "pro", **{**env, "OGMINT_REDIS_URL": with_password}
    )
    assert "s3cret" not in shown.stderr + shown.stdout


def test_health_command(server_factory: Callable[..., Server], tmp_path: Path) -> None:
    srv = server_factory()
    port = srv.url.rsplit(":", 1)[1]
    up = ogmint(tmp_path, "health", OGMINT_PORT=port)
    assert up.returncode == 0, up.stderr
    assert ogmint(tmp_path, "health", "--ready", OGMINT_PORT=port).returncode == 0
    down = ogmint(tmp_path, "health", OGMINT_PORT="1")
    assert down.returncode == 1 and "healthz" in down.stderr
