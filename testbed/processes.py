"""Real servers on loopback, started by the tests and by the benchmarks alike.

Every process gets its own session (``start_new_session``), so stopping it stops its whole
process group (an app server's workers, nginx's workers) even when its leader has crashed.

- ``spawn`` / ``wait_ready`` / ``stop_group``: one process, its log, readiness, and stopping it.
- ``Processes``: the processes of one run, stopped together (newest first) when it ends.
- ``RedisServer``, ``SentinelServer``, ``SentinelGroup``, ``S3Server`` (moto): backing servers
  on a fixed port each, restartable on that port (a restarted one is empty).
- ``app_env`` / ``start_app`` / ``AppServer``: ``python -m ogmint`` on the embedded default.
- ``nginx_conf`` / ``start_nginx`` / ``Nginx``: nginx with the repository's ``nginx.conf``
  pointed at given app servers and object stores.

Nothing here imports pytest: ``tests/backends.py`` and ``tests/conftest.py`` wrap these in
fixtures, ``bench/harness.py`` re-exports them for the benchmarks.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import boto3  # type: ignore[import-untyped]
import redis

REPO = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

S3_REGION = "us-east-1"
S3_BUCKET = "ogmint-test"
#: Dummy credentials for moto: clients on the default credential chain find them in the env.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": S3_REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}
SENTINEL_SERVICE = "ogmint"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_answers(port: int) -> bool:
    """True when a Redis server (or sentinel) on 127.0.0.1:``port`` answers PING."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def http_status(url: str, timeout: float = 1.0) -> int:
    """The status of a GET of ``url``; 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


# -- one process ------------------------------------------------------------------------------


def spawn(
    args: list[str],
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Starts ``args`` in a session of its own, its output appended to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            args,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_ready(
    proc: subprocess.Popen[bytes],
    ready: Callable[[], bool],
    timeout: float,
    what: str,
    log: Path,
) -> float:
    """Polls ``ready()`` until true; the seconds it took. Raises with the log's tail when the
    process exits first or ``timeout`` passes (and then stops it)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{_tail(log)}")
        if ready():
            return time.monotonic() - started
        time.sleep(0.05)
    stop_group(proc, grace=5.0)
    raise RuntimeError(f"{what} not ready after {timeout} s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-3000:]
    except OSError:
        return "(no log)"


def group_alive(proc: subprocess.Popen[bytes]) -> bool:
    """Whether any process of ``proc``'s group is left (its leader reaped first)."""
    proc.poll()
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_group(
    proc: subprocess.Popen[bytes], grace: float = 15.0, sig: signal.Signals = signal.SIGTERM
) -> None:
    """Stops ``proc`` and its whole group: ``sig``, then SIGKILL after ``grace`` seconds (at
    once when ``sig`` is SIGKILL); returns when the leader is reaped."""
    for signum, wait in ((sig, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            break  # nothing left in the group
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and group_alive(proc):
            time.sleep(0.05)
        if not group_alive(proc) or signum == signal.SIGKILL:
            break
    proc.wait(timeout=5)


class Processes:
    """The processes of one run, each logging to ``<log_dir>/<name>.log``; a context manager
    that stops all of them, newest first, even when the run fails."""

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self._started: list[subprocess.Popen[bytes]] = []

    def start(
        self, name: str, args: list[str], env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Starts ``args`` in its own process group (from the repository root)."""
        proc = spawn(args, self.log(name), env, cwd=REPO)
        self._started.append(proc)
        return proc

    def adopt(self, proc: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        """Stops ``proc`` (started elsewhere, in a group of its own) with the others."""
        self._started.append(proc)
        return proc

    def log(self, name: str) -> Path:
        return self._log_dir / f"{name}.log"

    def wait_until(
        self, name: str, proc: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float
    ) -> float:
        """Polls ``ready()`` until true; seconds it took. Raises with the log's tail otherwise."""
        return wait_ready(proc, ready, timeout, name, self.log(name))

    def start_app(
        self, name: str, env: Mapping[str, str], timeout: float = 90.0
    ) -> tuple[subprocess.Popen[bytes], float]:
        """``python -m ogmint`` (this interpreter) on ``env`` (``app_env``'s, or any with its
        ``OGMINT_PORT``), ready when ``/healthz`` answers 200: (process, seconds it took)."""
        proc = self.start(name, [sys.executable, "-m", "ogmint"], env)
        url = f"http://127.0.0.1:{env['OGMINT_PORT']}/healthz"
        return proc, self.wait_until(name, proc, lambda: http_status(url) == 200, timeout)

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        """Stops one process and its whole group: SIGTERM, then SIGKILL after 15 s."""
        if proc in self._started:
            self._started.remove(proc)
        stop_group(proc)

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in reversed(list(self._started)):
            self.stop(proc)


# -- backing servers on a fixed port ----------------------------------------------------------


@dataclass
class ServerProcess:
    """A server process on a fixed loopback port, restartable on the same port."""

    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False, kw_only=True)

    def _launch(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        """Starts ``args`` and waits (30 s at most) until ``_answers()``."""
        self.process = spawn(args, self.log_path, env)
        try:
            wait_ready(self.process, self._answers, 30, name, self.log_path)
        except RuntimeError:
            self.process = None
            raise

    def _answers(self) -> bool:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Kills the server (SIGKILL, as a crash would, unless ``sig`` says otherwise); its
        port refuses connections until ``start()``."""
        if self.process is not None:
            stop_group(self.process, sig=sig)
        self.process = None


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed: `make setup-test` installs it (apt)")
    return found


@dataclass
class S3Server(ServerProcess):
    """A moto S3 server process (``python -m moto.server``); it keeps its data in memory only."""

    bucket: str = S3_BUCKET
    region: str = S3_REGION

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """App-server settings for images in this server's bucket (with ``AWS_ENV``)."""
        return {
            **AWS_ENV,
            "OGMINT_S3_BUCKET": self.bucket,
            "OGMINT_S3_ENDPOINT": self.endpoint_url,
            "OGMINT_S3_REGION": self.region,
        }

    def start(self) -> None:
        """Starts (or restarts) the server on the same port, waits for it and creates the bucket.

        A restarted server is empty: objects written before ``stop()`` are gone.
        """
        if self.running():
            return
        args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        self._launch("moto server", args, {**os.environ, **AWS_ENV})
        boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        ).create_bucket(Bucket=self.bucket)

    def _answers(self) -> bool:
        return http_status(self.endpoint_url + "/") != 0  # any HTTP answer: it is serving


@dataclass
class RedisServer(ServerProcess):
    """A ``redis-server`` process, in memory only (no RDB), or with ``appendonly`` an
    append-only file fsynced on every write in its log's directory (a restart keeps the data);
    a replica of the server on ``replica_of`` when set."""

    replica_of: int | None = field(default=None, kw_only=True)
    appendonly: bool = field(default=False, kw_only=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def namespace(self) -> dict[str, str]:
        """App-server settings for this Redis under a fresh key prefix: state no other user of
        the server sees. Servers meant to share state are given the same dict."""
        return {"OGMINT_REDIS_URL": self.url, "OGMINT_REDIS_PREFIX": f"t{uuid.uuid4().hex}:"}

    def start(self) -> None:
        """Starts (or restarts) the server on the same port and waits until it answers PING."""
        if self.running():
            return
        # Its own directory: a replica writes the primary's snapshot there while syncing.
        args = [_binary("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--dir", str(self.log_path.parent)]
        if self.replica_of is not None:
            args += ["--replicaof", "127.0.0.1", str(self.replica_of)]
        # A replica's full sync starts at once (Redis waits 5 s for more replicas by default).
        args += ["--repl-diskless-sync-delay", "0"]
        args += ["--save", "", "--appendonly", "yes" if self.appendonly else "no"]
        if self.appendonly:
            args += ["--appendfsync", "always"]
        self._launch("redis-server", args)

    def _answers(self) -> bool:
        return redis_answers(self.port)


@dataclass
class SentinelServer(ServerProcess):
    """A ``redis-sentinel`` process watching the primary on ``primary_port`` as
    ``SENTINEL_SERVICE``, tuned to fail over within about three seconds. (Shorter down-after
    times trip on a loaded machine: a sentinel stalled on fsync of its config file then sees
    the new primary as down and fails over again, to a replica that may still be empty.)"""

    primary_port: int = field(default=0, kw_only=True)

    def start(self) -> None:
        if self.running():
            return
        conf = self.log_path.with_suffix(".conf")  # sentinel rewrites it: one per process
        conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {conf.parent}\n"
            f"sentinel monitor {SENTINEL_SERVICE} 127.0.0.1 {self.primary_port} 2\n"
            f"sentinel down-after-milliseconds {SENTINEL_SERVICE} 1500\n"
            f"sentinel failover-timeout {SENTINEL_SERVICE} 4000\n"
        )
        self._launch("redis-sentinel", [_binary("redis-sentinel"), str(conf)])

    def _answers(self) -> bool:
        return redis_answers(self.port)

    def ask(self, *command: str) -> object:
        """One command to this sentinel, its reply decoded."""
        with redis.Redis(port=self.port, socket_timeout=2, decode_responses=True) as r:
            return r.execute_command(*command)


@dataclass
class SentinelGroup:
    """A primary, one replica and three sentinels on loopback: ``redis+sentinel://`` state."""

    servers: list[RedisServer]
    sentinels: list[SentinelServer]

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{SENTINEL_SERVICE}"

    def primary(self) -> RedisServer:
        """The server the sentinels name as primary now."""
        reply = self.sentinels[0].ask("SENTINEL", "GET-MASTER-ADDR-BY-NAME", SENTINEL_SERVICE)
        assert isinstance(reply, list | tuple), reply  # [host, port]
        return next(s for s in self.servers if s.port == int(reply[1]))

    def wait_until(self, ready: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline:
                raise AssertionError(f"sentinel group: {what} not within {timeout} s")
            time.sleep(0.05)

    def healthy(self) -> bool:
        """Every sentinel knows the others and the replica, and the replica is in sync."""
        try:
            for sentinel in self.sentinels:
                info = sentinel.ask("SENTINEL", "MASTER", SENTINEL_SERVICE)
                assert isinstance(info, dict)  # redis-py parses the reply
                if int(info["num-other-sentinels"]) < 2 or int(info["num-slaves"]) < 1:
                    return False
                if "s_down" in str(info["flags"]) or "o_down" in str(info["flags"]):
                    return False
            primary = self.primary()
            with redis.Redis(port=primary.port, socket_timeout=2) as r:
                replicas = r.info("replication")
            return any(
                isinstance(v, dict) and v.get("state") == "online"
                for k, v in replicas.items()
                if k.startswith("slave")
            )
        except (redis.RedisError, OSError, StopIteration):
            return False

    def wait_healthy(self) -> None:
        self.wait_until(self.healthy, "a healthy primary, replica and three sentinels", 40)

    def stop(self) -> None:
        for server in [*self.sentinels, *self.servers]:
            server.stop()


@contextmanager
def sentinel_group(directory: Path) -> Iterator[SentinelGroup]:
    """A healthy Sentinel group logging to ``directory``, stopped when the block ends."""
    primary = RedisServer(free_port(), directory / "primary.log")
    replica = RedisServer(free_port(), directory / "replica.log", replica_of=primary.port)
    group = SentinelGroup([primary, replica], [])
    try:
        primary.start()
        replica.start()
        for i in range(3):
            log = directory / f"sentinel-{i}.log"
            sentinel = SentinelServer(free_port(), log, primary_port=primary.port)
            group.sentinels.append(sentinel)
            sentinel.start()
        group.wait_healthy()
        yield group
    finally:
        group.stop()


# -- app servers ------------------------------------------------------------------------------


def app_env(port: int, data_dir: Path, workers: int = 1, **settings: str) -> dict[str, str]:
    """The environment of an app server on the embedded default: this environment, loopback
    on ``port``, its own data directory, ``workers`` workers, and ``settings`` on top."""
    return {
        **os.environ,
        "OGMINT_HOST": "127.0.0.1",
        "OGMINT_PORT": str(port),
        "OGMINT_WORKERS": str(workers),
        "OGMINT_DATA_DIR": str(data_dir),
        **settings,
    }


@dataclass
class AppServer:
    """A running ``python -m ogmint``."""

    url: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    env: dict[str, str]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def healthy(self) -> bool:
        return http_status(self.url + "/healthz") == 200

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM to its process group (a graceful shutdown), SIGKILL after ``grace`` s."""
        if self.process.poll() is None:
            stop_group(self.process, grace=grace)


def start_app(
    directory: Path, env: Mapping[str, str] | None = None, timeout: float = 60.0
) -> AppServer:
    """``python -m ogmint`` (this interpreter) on a free port with its data under
    ``directory``, on the settings of ``app_env`` plus ``env``; returns once ``/healthz``
    answers 200. Its output goes to ``directory/server-PORT.log``."""
    port = free_port()
    data = directory / f"data-{port}"
    full_env = {**app_env(port, data), **(env or {})}
    log = directory / f"server-{port}.log"
    proc = spawn([sys.executable, "-m", "ogmint"], log, full_env, cwd=REPO)
    server = AppServer(f"http://127.0.0.1:{port}", proc, data, full_env)
    wait_ready(proc, server.healthy, timeout, "python -m ogmint", log)
    return server


# -- nginx ------------------------------------------------------------------------------------


def replace_once(text: str, old: str, new: str) -> str:
    """``text`` with its one ``old`` replaced: a changed nginx.conf fails loudly, never silently
    proxies to the default port."""
    if text.count(old) != 1:
        raise RuntimeError(f"nginx.conf no longer has exactly one {old!r}")
    return text.replace(old, new)


def nginx_conf(
    upstreams: list[str],
    port: int,
    *,
    data_dir: Path | None = None,
    s3_endpoint: str = "http://127.0.0.1:9",
    edits: tuple[tuple[str, str], ...] = (),
) -> str:
    """The repository's nginx.conf listening on ``port``, its upstream the ``server`` lines
    ``upstreams`` (``"127.0.0.1:8080 max_fails=1"`` …), X-Accel files taken from ``data_dir``
    or ``s3_endpoint``; ``edits`` are further (old, new) replacements, each of exactly one."""
    conf = (REPO / "nginx.conf").read_text()
    files = free_port()
    servers = "\n".join(f"server {u};" for u in upstreams)
    conf = replace_once(conf, "server 127.0.0.1:8080;", servers)
    conf = replace_once(conf, "listen 127.0.0.1:8000;", f"listen 127.0.0.1:{port};")
    conf = replace_once(conf, "server 127.0.0.1:8001;", f"server 127.0.0.1:{files};")
    conf = replace_once(conf, "listen 127.0.0.1:8001;", f"listen 127.0.0.1:{files};")
    if data_dir is not None:
        conf = replace_once(conf, "alias /srv/ogmint/data/;", f"alias {data_dir}/;")
    conf = replace_once(conf, "proxy_pass http://127.0.0.1:9000/;", f"proxy_pass {s3_endpoint}/;")
    for old, new in edits:
        conf = replace_once(conf, old, new)
    return conf


@dataclass
class Nginx:
    """A running nginx."""

    url: str
    port: int
    prefix: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """SIGQUIT (a graceful shutdown), SIGKILL after 10 s."""
        if self.process.poll() is None:
            stop_group(self.process, grace=10.0, sig=signal.SIGQUIT)


def nginx_args(prefix: Path) -> list[str]:
    """nginx in the foreground on ``prefix/nginx.conf``."""
    args = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"]
    if os.geteuid() == 0:
        args[-1] += " user root;"  # workers must reach the 0700 temporary directories
    return args


def start_nginx(
    prefix: Path, conf: str, port: int, ready_path: str = "/", ready_status: int = 0
) -> Nginx:
    """nginx with ``conf`` under the new prefix directory ``prefix``, answering on ``port``
    (ready when ``ready_path`` answers ``ready_status``, or anything when 0); its output goes
    to ``prefix/nginx.log``."""
    if not Path(NGINX).exists():
        raise RuntimeError("nginx is not installed: `make setup-test` installs it (apt)")
    (prefix / "logs").mkdir(parents=True)
    (prefix / "nginx.conf").write_text(conf)
    log = prefix / "nginx.log"
    proc = spawn(nginx_args(prefix), log)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        status = http_status(url + ready_path)
        return status == ready_status if ready_status else status != 0

    wait_ready(proc, ready, 10, "nginx", log)
    return Nginx(url, port, prefix, proc)
