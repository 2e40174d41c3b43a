"""Load benchmark: unique V1 renders per second from the real server, driven by wrk on loopback.

Starts ``python -m ogmint`` (2 workers, a throw-away data dir, the anonymous daily limit out of
the way), waits for ``/healthz``, warms it up, runs wrk with ``unique_v1.lua`` (every request a
different title, so every 200 is a real render) and stops the server's process group.

``python bench/load_v1.py [--duration 15] [--connections 8]`` prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = REPO / ".venv" / "bin" / "python"
LUA = Path(__file__).resolve().with_name("unique_v1.lua")
WORKERS = 2
STARTUP_TIMEOUT = 90.0
WARMUP_SECONDS = 3


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers.get("content-type", ""), r.read()
    except OSError:
        return 0, "", b""


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        if _get(base + "/healthz")[0] == 200:
            return
        time.sleep(0.25)
    raise RuntimeError(f"server not healthy after {STARTUP_TIMEOUT}s:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stops the server and its workers (its own process group)."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def wrk_command(base: str, threads: int, connections: int, seconds: int) -> list[str]:
    return [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(LUA),
        base,
    ]


def _wrk(cmd: list[str]) -> tuple[dict, str]:
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("WRK_JSON "))
    return json.loads(line.removeprefix("WRK_JSON ")), out


def run(duration: int = 15, threads: int = 1, connections: int = 8) -> dict:
    """Runs the server under wrk and returns requests/s, errors and latency percentiles."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="ogmint-bench-") as tmp:
        log = Path(tmp) / "server.log"
        env = {
            **os.environ,
            "OGMINT_HOST": "127.0.0.1",
            "OGMINT_PORT": str(port),
            "OGMINT_WORKERS": str(WORKERS),
            "OGMINT_DATA_DIR": str(Path(tmp) / "data"),
            "OGMINT_ANONYMOUS_DAILY_LIMIT": "100000000",
        }
        started = time.monotonic()
        with log.open("wb") as log_file:
            proc = subprocess.Popen(
                [str(PYTHON), "-m", "ogmint"],
                cwd=REPO,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait_healthy(base, proc, log)
            startup_s = time.monotonic() - started
            status, ctype, body = _get(base + "/api/og?template=blog&title=Warm%20up&author=Ada")
            if status != 200 or not body.startswith(b"\x89PNG"):
                raise RuntimeError(f"V1 render failed: {status} {ctype} {body[:200]!r}")
            _wrk(wrk_command(base, threads, connections, WARMUP_SECONDS))  # fonts, caches, JIT-free
            cmd = wrk_command(base, threads, connections, duration)
            stats, text = _wrk(cmd)
        finally:
            _stop(proc)

    seconds = stats["duration_us"] / 1e6
    failed = (
        stats["non_2xx_3xx"]
        + stats["connect_errors"]
        + stats["read_errors"]
        + stats["write_errors"]
        + stats["timeouts"]
    )
    return {
        "command": " ".join(cmd)
        .replace(str(REPO) + "/", "")
        .replace(base, "http://127.0.0.1:PORT"),
        "workers": WORKERS,
        "startup_s": round(startup_s, 2),
        "sample_png_bytes": len(body),
        "requests": stats["requests"],
        "seconds": round(seconds, 2),
        "ok": stats["requests"] - stats["non_2xx_3xx"],
        "non_2xx_3xx": stats["non_2xx_3xx"],
        "socket_errors": failed - stats["non_2xx_3xx"],
        "rps_total": round(stats["requests"] / seconds, 1),
        "unique_renders_per_s": round((stats["requests"] - failed) / seconds, 1),
        "latency_ms": {k: round(stats[f"{k}_us"] / 1000, 1) for k in ("p50", "p90", "p99", "max")},
        "wrk_output": text.strip(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    json.dump(run(args.duration, args.threads, args.connections), sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
