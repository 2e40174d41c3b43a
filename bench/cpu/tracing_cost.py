"""What tracing costs when it is off: per-request server CPU of V1 renders on this tree (no
``OTEL_EXPORTER_OTLP_ENDPOINT``) against a build of the server without the tracing code, same
run, interleaved; plus the cost of one do-nothing span in a microbenchmark.

    .venv/bin/python -m bench.cpu.tracing_cost [--baseline REV] [--rounds 6] [--requests 150]

The baseline is ``REV``'s ``server/`` and ``templates/`` (default: ``main`` while it has no
tracing code, else the commit before tracing was added) with this tree's native extension. Both app servers run one worker on the embedded
default; one keep-alive client sends the same V1 request to each in turn, ``--requests`` at a
time, and the servers' process-group CPU time is read from /proc around each chunk.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tarfile
import tempfile
import timeit
from http.client import HTTPConnection
from io import BytesIO
from pathlib import Path

from bench.harness import REPO, Processes, app_env, free_port, group_cpu

QUERY = "/api/og?template=blog&title=Tracing+off&author=Ada&palette=midnight"


def before_tracing() -> str:
    """``main`` while it has no tracing code (this branch not merged yet), else the commit
    before tracing was added."""
    on_main = subprocess.run(
        ["git", "cat-file", "-e", "main:server/ogmint/tracing.py"], cwd=REPO, capture_output=True
    )
    if on_main.returncode != 0:
        return "main"
    out = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", "server/ogmint/tracing.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not out:
        raise SystemExit("server/ogmint/tracing.py is not in the history: pass --baseline")
    return out[-1] + "^"


def export(rev: str, into: Path) -> Path:
    """``rev``'s server/ and templates/ under ``into``, with this tree's native extension."""
    archive = subprocess.run(
        ["git", "archive", rev, "server", "templates"], cwd=REPO, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    for so in (REPO / "server" / "ogmint").glob("_native*.so"):
        shutil.copy2(so, into / "server" / "ogmint" / so.name)
    return into / "server"


def chunk(port: int, n: int) -> None:
    conn = HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(n):
        conn.request("GET", QUERY)
        reply = conn.getresponse()
        reply.read()
        if reply.status != 200:
            raise RuntimeError(f"V1 answered {reply.status}")
    conn.close()


def span_ns() -> float:
    from ogmint.tracing import Tracing

    tracing = Tracing()

    def step() -> None:
        with tracing.span("render", {"ogmint.api": "v1", "ogmint.template": "blog"}):
            pass

    runs = 200_000
    return min(timeit.repeat(step, number=runs, repeat=5)) / runs * 1e9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", help="git revision without tracing")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=150)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ogmint-tracing-"))
    trees = {
        "without tracing code": export(args.baseline or before_tracing(), tmp / "baseline"),
        "tracing off (this tree)": REPO / "server",
    }
    cpu: dict[str, list[float]] = {name: [] for name in trees}
    with Processes(tmp) as procs:
        ports = {}
        for i, (name, path) in enumerate(trees.items()):
            port = free_port()
            env = {**app_env(port, tmp / f"data{i}", 1), "PYTHONPATH": str(path)}
            # The same card every time: without this it would be a repeat (SPEC §2), not rendered.
            env["OGMINT_REPEAT_CACHE_BYTES"] = "0"
            env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
            proc, _ = procs.start_app(f"app{i}", env, 60)
            ports[name] = (port, proc.pid)
        for port, _ in ports.values():
            chunk(port, 20)  # warm: fonts, template cache, first renders
        for r in range(args.rounds):
            order = list(ports) if r % 2 == 0 else list(reversed(ports))
            for name in order:
                port, pgid = ports[name]
                before = group_cpu(pgid)
                chunk(port, args.requests)
                cpu[name].append((group_cpu(pgid) - before) / args.requests * 1e6)
    shutil.rmtree(tmp, ignore_errors=True)
    base, off = (statistics.median(v) for v in cpu.values())
    for name, values in cpu.items():
        print(
            f"{name}: median {statistics.median(values):.0f} µs CPU/request, rounds "
            + ", ".join(f"{v:.0f}" for v in values)
        )
    print(f"ratio off/without: {off / base:.3f}")
    print(f"one do-nothing span (enter + exit, with attributes): {span_ns():.0f} ns")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
