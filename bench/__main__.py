"""``python -m bench`` (``make bench``): runs the registered benchmarks, all or some by name.

    python -m bench                  # every benchmark marked for `make bench` (see --list)
    python -m bench render load-v1   # those two
    python -m bench --kind load      # every benchmark of one kind
    python -m bench --quick format   # small sizes: a smoke test; results under bench/out/quick/
    python -m bench --list           # name, kind, in `make bench`?, command, description
    python -m bench --report         # only regenerate RESULTS.md from bench/results/
    python -m bench --import FILE --since BASE   # a merged branch's new or changed sections
    python -m bench --adopt bench/new_bench.py render   # a flat-layout script into its folder
    python -m bench native-ab -- OLD.so NEW.so --v1   # arguments after -- replace the defaults

Each benchmark runs as its own process (``python -m bench.KIND.SCRIPT ARGS``, from the
repository root) and records its result in ``bench/results/NAME.json``; RESULTS.md is
regenerated after each, keeping every other benchmark's latest result.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

from bench import results
from bench.registry import BENCHMARKS, BY_NAME, HELPERS, KINDS, Benchmark

QUICK_DIR = results.BENCH / "out" / "quick"


def _list() -> None:
    width = max(len(b.name) for b in BENCHMARKS)
    for kind in KINDS:
        print(f"{kind}:")
        for b in (b for b in BENCHMARKS if b.kind == kind):
            mark = " " if b.in_all else "*"
            print(f"  {b.name:<{width}} {mark} {b.description}")
            print(f"  {'':<{width}}   {b.command()}")
    print("\n* not run by `make bench` without a name (compares two builds or trees, or runs for")
    print("  minutes on a stack of its own): `make bench NAME=…`")


def _wait_for_quiet(limit_s: float, busy: float = 0.3, window_s: float = 3.0) -> float | None:
    """Waits (at most ``limit_s``) until other processes use under ``busy`` cores."""
    if limit_s <= 0:
        return None
    from bench.harness import cpu_snapshot, others_busy

    deadline = time.monotonic() + limit_s
    while True:
        before = cpu_snapshot()
        time.sleep(window_s)
        others = others_busy(before, cpu_snapshot())
        if others < busy or time.monotonic() >= deadline:
            return others


def run_one(b: Benchmark, *, quick: bool, extra: tuple[str, ...] = ()) -> bool:
    """Runs one benchmark in its own process; True when it succeeded and a result is stored.

    A script that records itself (``harness.write_section``) gets the share of the machine
    other processes took meanwhile added to its stamp; one that only prints its figures (JSON
    or Markdown) is recorded here from its output."""
    from bench.harness import cpu_snapshot, others_busy

    stored = results.results_dir() / f"{b.name}.json"
    before = stored.stat().st_mtime if stored.exists() else 0.0
    argv = b.argv(quick, extra or None)
    command = shlex.join(["python", *argv])
    print(f"== {b.name}: {command}", flush=True)
    started, cpu0 = (time.monotonic(), results.loadavg()), cpu_snapshot()
    proc = subprocess.Popen(
        [sys.executable, *argv], cwd=results.REPO, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    printed = []
    for line in proc.stdout:  # shown as it comes, and kept
        sys.stdout.write(line)
        printed.append(line)
    code = proc.wait()
    others = others_busy(cpu0, cpu_snapshot())
    if code != 0:
        print(f"!! {b.name} failed (exit {code})", file=sys.stderr)
        return False
    if stored.exists() and stored.stat().st_mtime > before:
        result = results.Result.from_json(stored.read_text())
        result.load.setdefault("others_busy", others)
        results.save(result)
    elif "".join(printed).strip():
        markdown, figures = results.from_output(b.name, b.description, "".join(printed))
        results.record(b.name, markdown, figures, others, command=command, started=started)
    else:
        print(f"!! {b.name} printed nothing and recorded nothing", file=sys.stderr)
        return False
    return True


#: The modules a script written for the old flat bench/ imported, and where they are now.
MOVED_MODULES = {
    "harness": "bench.harness",
    **{
        b.module.rsplit(".", 1)[1]: b.dotted
        for b in BENCHMARKS
        if b.module.rsplit(".", 1)[1] != "load"  # drill/load.py: too common a name
    },
    **{
        h.removesuffix(".py").rsplit("/", 1)[1]: "bench." + h.removesuffix(".py").replace("/", ".")
        for h in HELPERS
    },
}


def adopt(path: Path, kind: str) -> str:
    """Moves a script written for the flat bench/ (``from harness import …``) into
    ``bench/KIND/`` (``git mv``), its imports of bench modules made package imports; returns
    the registry line to add for it."""
    if kind not in KINDS:
        raise SystemExit(f"unknown kind {kind!r}: one of {', '.join(KINDS)} (or add a folder)")
    target = results.BENCH / kind / path.name
    moved = subprocess.run(
        ["git", "mv", str(path), str(target)], cwd=results.REPO, capture_output=True, check=False
    )
    if moved.returncode:  # not tracked by git (yet)
        path.rename(target)
    text = target.read_text()
    for old, new in MOVED_MODULES.items():
        text = re.sub(rf"^(\s*)from {old} import ", rf"\1from {new} import ", text, flags=re.M)
        text = re.sub(
            rf"^(\s*)import {old}$",
            rf"\1from {new.rsplit('.', 1)[0]} import {old}",
            text,
            flags=re.M,
        )
    target.write_text(text)
    doc = (ast.get_docstring(ast.parse(text)) or path.stem).splitlines()[0].rstrip(".")
    name = path.stem.removesuffix("_bench").replace("_", "-")
    return f'    B("{name}", "{kind}", "{kind}.{path.stem}", "{doc}", quick=()),'


def main(argv: list[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    extra: tuple[str, ...] = ()
    if "--" in raw:
        cut = raw.index("--")
        raw, extra = raw[:cut], tuple(raw[cut + 1 :])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all in make bench)")
    parser.add_argument("--kind", choices=KINDS, help="run every benchmark of this kind")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--report", action="store_true", help="only regenerate RESULTS.md")
    parser.add_argument(
        "--import", dest="import_", metavar="FILE", help="take FILE's sections (a branch's)"
    )
    parser.add_argument(
        "--since",
        metavar="BASE",
        help="with --import: only the sections FILE added or changed since BASE (the merge "
        "base's RESULTS.md)",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        help="where results/ and RESULTS.md go (default: bench/, with --quick bench/out/quick/)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=None,
        metavar="S",
        help="wait up to S seconds for other processes to use under 0.3 cores before each "
        "benchmark (default: 30, none with --quick)",
    )
    parser.add_argument(
        "--adopt",
        nargs=2,
        metavar=("SCRIPT", "KIND"),
        help="move a script written for the flat bench/ into bench/KIND/ and fix its imports; "
        "prints the line to add to bench/registry.py",
    )
    args = parser.parse_args(raw)
    if args.adopt:
        print(adopt(Path(args.adopt[0]), args.adopt[1]))
        print("add that line to BENCHMARKS in bench/registry.py (set its args and quick args)")
        return 0
    out = args.results_dir or (QUICK_DIR if args.quick else results.BENCH)
    out = out.resolve()
    if args.list:
        _list()
        return 0
    if args.import_:
        since = Path(args.since).read_text() if args.since else None
        source = f"`{Path(args.import_).name}` (a merged branch's RESULTS.md)"
        taken = results.import_sections(Path(args.import_).read_text(), source, out, since=since)
        print("\n".join(taken) or "nothing new")
        return 0
    if args.report:
        print(results.write_report(out))
        return 0
    unknown = [n for n in args.names if n not in BY_NAME]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; see --list")
    if args.names:
        chosen = [BY_NAME[n] for n in args.names]
    elif args.kind:
        chosen = [b for b in BENCHMARKS if b.kind == args.kind]
    else:
        chosen = [b for b in BENCHMARKS if b.in_all]
    if extra and len(chosen) != 1:
        parser.error("arguments after -- need exactly one benchmark")
    wait = args.wait_quiet if args.wait_quiet is not None else (0.0 if args.quick else 30.0)
    via = os.environ.get(results.VIA_ENV) or shlex.join(["python", "-m", "bench", *raw])
    out.mkdir(parents=True, exist_ok=True)
    # The benchmarks' processes inherit where to record, how they were asked for, and whether
    # this is a smoke run.
    os.environ[results.RESULTS_ENV] = str(out)
    os.environ[results.VIA_ENV] = via
    if args.quick:
        os.environ[results.QUICK_ENV] = "1"
    else:
        os.environ.pop(results.QUICK_ENV, None)
    failed = []
    for b in chosen:
        others = _wait_for_quiet(wait)
        if others is not None:
            print(f"   other processes use {others} cores", flush=True)
        if not run_one(b, quick=args.quick, extra=extra):
            failed.append(b.name)
    report = results.write_report(out)
    print(f"{report}: {len(chosen) - len(failed)} of {len(chosen)} recorded")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
