"""What the load benchmarks share: loopback ports, processes in their own groups, wrk, CPU time.

Every process a benchmark starts gets its own session (``start_new_session``), so stopping it
stops its workers too; ``Processes`` stops them all, newest first, even when the run fails.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import results

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
#: Scratch output of benchmark runs (PNGs, logs, reports); not kept in git.
OUT = BENCH / "out"
#: The interpreter running the benchmark: app servers and helpers run on the same one.
PYTHON = Path(sys.executable)
HZ = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_env(port: int, data_dir: Path, workers: int) -> dict[str, str]:
    """The environment of a benchmarked app server on the embedded default: loopback, its own
    data directory, and an anonymous allowance no benchmark runs out of."""
    return {
        **os.environ,
        "OGMINT_HOST": "127.0.0.1",
        "OGMINT_PORT": str(port),
        "OGMINT_WORKERS": str(workers),
        "OGMINT_DATA_DIR": str(data_dir),
        "OGMINT_ANONYMOUS_DAILY_LIMIT": "100000000",
    }


def http(
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, str, bytes]:
    """(status, content type, body); status 0 when nothing answered."""
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get("content-type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()
    except OSError:
        return 0, "", b""


class Processes:
    """Processes started for one benchmark; a context manager that stops all of them."""

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self._started: list[subprocess.Popen[bytes]] = []

    def start(
        self, name: str, args: list[str], env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Starts ``args`` in its own process group, output to ``<log_dir>/<name>.log``."""
        with self.log(name).open("ab") as log:
            proc = subprocess.Popen(
                args,
                cwd=REPO,
                env=dict(env) if env is not None else None,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._started.append(proc)
        return proc

    def log(self, name: str) -> Path:
        return self._log_dir / f"{name}.log"

    def wait_until(
        self, name: str, proc: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float
    ) -> float:
        """Polls ``ready()`` until true; seconds it took. Raises with the log's tail otherwise."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if proc.poll() is not None:
                tail = self.log(name).read_text()[-3000:]
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")
            if ready():
                return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(
            f"{name} not ready after {timeout}s:\n{self.log(name).read_text()[-3000:]}"
        )

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        """Stops one process and its whole group (workers outlive a crashed leader): SIGTERM,
        then SIGKILL after 15 s."""
        if proc in self._started:
            self._started.remove(proc)
        for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break  # nothing left in the group
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _group_alive(proc):
                time.sleep(0.05)
            if not _group_alive(proc):
                break
        proc.wait(timeout=5)

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in reversed(list(self._started)):
            self.stop(proc)


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def replace_once(text: str, old: str, new: str) -> str:
    """``text`` with its one ``old`` replaced; a changed nginx.conf fails loudly."""
    if text.count(old) != 1:
        raise RuntimeError(f"nginx.conf no longer has exactly one {old!r}")
    return text.replace(old, new)


def repo_conf(
    upstreams: list[int],
    port: int,
    *,
    data_dir: Path | None = None,
    s3_endpoint: str = "http://127.0.0.1:9",
    edits: tuple[tuple[str, str], ...] = (),
) -> str:
    """The repo's nginx.conf on ``port``, in front of app servers on ``upstreams``, taking
    X-Accel files from ``data_dir`` or ``s3_endpoint``; ``edits`` are further replacements."""
    conf = (REPO / "nginx.conf").read_text()
    servers = "\n".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in upstreams)
    files = free_port()
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


def start_nginx(
    procs: Processes, name: str, prefix: Path, conf: str, port: int
) -> subprocess.Popen[bytes]:
    """nginx with ``conf`` under the prefix directory ``prefix``, answering on ``port``."""
    (prefix / "logs").mkdir(parents=True)
    (prefix / "nginx.conf").write_text(conf)
    args = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"]
    if os.geteuid() == 0:
        args[-1] += " user root;"  # workers must reach the 0700 temporary directories
    proc = procs.start(name, args)
    procs.wait_until(name, proc, lambda: http(f"http://127.0.0.1:{port}/")[0] != 0, 10)
    return proc


def write_section(
    name: str, text: str, figures: dict[str, Any] | None = None, others: float | None = None
) -> None:
    """Records this run of benchmark ``name``: its Markdown section ``text`` and its
    ``figures``, stamped with the command, date, machine and load (``bench/results/NAME.json``),
    then regenerates ``bench/RESULTS.md`` (every other benchmark keeps its latest result).
    ``others``: cores other processes kept busy meanwhile, when the benchmark measured it."""
    results.record(name, text, figures, others)


def row(*cells: object) -> str:
    """One row of a Markdown table."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


def met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def redis_answers(port: int) -> bool:
    """True when a Redis server on 127.0.0.1:``port`` answers PING."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(procs: Processes, port: int) -> subprocess.Popen[bytes]:
    """A scratch ``redis-server`` on 127.0.0.1:``port`` (no persistence), ready when returned."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (`make setup` installs it)")
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = procs.start("redis", args)
    procs.wait_until("redis", proc, lambda: redis_answers(port), 30)
    return proc


def _group_alive(proc: subprocess.Popen[bytes]) -> bool:
    proc.poll()  # reap the leader, so a dead one does not count as alive
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return False
    return True


def wrk(cmd: list[str]) -> tuple[dict, str]:
    """Runs wrk; (the script's ``WRK_JSON`` summary, wrk's whole output)."""
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("WRK_JSON "))
    return json.loads(line.removeprefix("WRK_JSON ")), out


def wrk_figures(stats: dict) -> dict:
    """Requests/s (all, and 2xx/3xx only), failures and latency percentiles of one wrk run."""
    seconds = stats["duration_us"] / 1e6
    socket_errors = sum(
        stats[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    ok = stats["requests"] - stats["non_2xx_3xx"] - socket_errors
    return {
        "requests": stats["requests"],
        "seconds": round(seconds, 2),
        "rps": round(stats["requests"] / seconds, 1),
        "ok_rps": round(ok / seconds, 1),
        "non_2xx_3xx": stats["non_2xx_3xx"],
        "socket_errors": socket_errors,
        "latency_ms": {k: round(stats[f"{k}_us"] / 1000, 2) for k in ("p50", "p90", "p99", "max")},
    }


@dataclass(frozen=True)
class CpuSnapshot:
    """Wall time, CPU seconds of the whole machine, of this process and its reaped children."""

    wall: float
    machine: float
    own: float


def cpu_snapshot() -> CpuSnapshot:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    t = os.times()
    own = t.user + t.system + t.children_user + t.children_system
    return CpuSnapshot(time.monotonic(), (user + nice + system + irq + softirq + steal) / HZ, own)


def others_busy(before: CpuSnapshot, after: CpuSnapshot) -> float:
    """Cores kept busy by other processes between two snapshots (children must be reaped)."""
    wall = after.wall - before.wall
    return round(((after.machine - before.machine) - (after.own - before.own)) / wall, 2)


def group_cpu(pgid: int) -> float:
    """CPU seconds used so far by the live processes of one process group."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        # The command name (field 2) may hold spaces: split after its closing parenthesis.
        rest = stat.rsplit(")", 1)[1].split()
        if int(rest[2]) == pgid:  # pgrp
            total += int(rest[11]) + int(rest[12])  # utime, stime
    return total / HZ


#: The benchmarks' `blog` card: everything but the title (and what a caller adds) fixed.
BLOG_CARD = {
    "template": "blog",
    "description": "How a Rust rasteriser, a font cache and a fast PNG encoder fit.",
    "tag": "Engineering",
    "author": "Ada Lovelace",
    "palette": "midnight",
}


class BlogCards:
    """The V1 path for the `blog` card in this process (``parse_params`` → template → PNG),
    on a one-thread renderer with the bundled fonts. ``close()`` when done."""

    def __init__(self) -> None:
        # Imported here: the load benchmarks use this module without the extension built.
        from ogmint.rendering.native import Renderer, bundled_font_dirs
        from ogmint.rendering.template import load_directory

        self.renderer = Renderer(
            bundled_font_dirs(), threads=1, queue=1, max_svg_bytes=2 << 20, max_nodes=20000
        )
        self.templates = load_directory(REPO / "templates")
        self.blog = self.templates["blog"]

    def spec(self, title: str, **extra: str) -> Any:
        """The card's validated parameters (a ``RenderSpec``) with ``title`` and ``extra``."""
        from ogmint.rendering.params import parse_params

        return parse_params(
            {**BLOG_CARD, "title": title, **extra},
            strict=False,
            template_exists=self.templates.__contains__,
            resolve_font=self.renderer.resolve_family,
        )

    def layers(self, title: str) -> Any:
        """The card's background and foreground SVG and background key."""
        return self.blog.layers(self.spec(title), {}, self.renderer)

    def png(self, title: str, images: Mapping[str, bytes] | None = None, **extra: str) -> bytes:
        """The card rendered as V1 renders it."""
        from ogmint.rendering.pipeline import render_image

        return render_image(self.renderer, self.blog, self.spec(title, **extra), images or {})

    def close(self) -> None:
        self.renderer.close()
