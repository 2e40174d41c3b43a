"""Benchmark results: each benchmark's latest run as ``bench/results/NAME.json``, and
``bench/RESULTS.md`` generated from them and from the hand-written ``bench/notes/*.md``.

A result holds the benchmark's Markdown section, its figures (JSON), and the stamp of the run
that made them: the command, when, on which machine, and how busy the machine was. Recording
one result rewrites ``RESULTS.md`` with every benchmark's latest result, so running one
benchmark keeps the others' figures.

Where results go: ``bench/results/`` and ``bench/RESULTS.md``, or the directory named by
``OGMINT_BENCH_RESULTS`` (``python -m bench --quick`` points it at ``bench/out/quick/`` so a
smoke run never replaces real figures).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.registry import BENCHMARKS, BY_NAME, Benchmark

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
NOTES_DIR = BENCH / "notes"
#: Set by the runner: where results go (a directory holding ``results/`` and ``RESULTS.md``).
RESULTS_ENV = "OGMINT_BENCH_RESULTS"
#: Set by the runner: the command as the user typed it (``make bench NAME=…``).
VIA_ENV = "OGMINT_BENCH_VIA"
#: Set by the runner for ``--quick`` runs.
QUICK_ENV = "OGMINT_BENCH_QUICK"
#: A section's markers in RESULTS.md (other branches add sections in this form; see
#: ``import_sections``).
SECTION = re.compile(r"<!-- section:(\S+) -->\n?(.*?)\n?<!-- /section:\1 -->", re.S)


@dataclass
class Result:
    """One benchmark run: its Markdown section, its figures, and where and how it ran."""

    name: str
    markdown: str
    figures: dict[str, Any] = field(default_factory=dict)
    command: str = ""
    via: str = ""
    date: str = ""
    machine: dict[str, Any] = field(default_factory=dict)
    load: dict[str, Any] = field(default_factory=dict)
    seconds: float | None = None
    quick: bool = False
    #: Set for a section taken over from a hand-kept RESULTS.md: where it came from.
    imported: str = ""

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, ensure_ascii=False, default=str) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Result:
        return cls(**json.loads(text))


def output_dir() -> Path:
    """The directory whose ``results/`` and ``RESULTS.md`` this process writes."""
    return Path(os.environ.get(RESULTS_ENV) or BENCH)


def results_dir(root: Path | None = None) -> Path:
    return (root or output_dir()) / "results"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    """The facts of this machine a figure depends on."""
    return {
        "cpu": _cpu_model(),
        "nproc": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "host": platform.node(),
    }


def loadavg() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


#: When this process started measuring: the first import of this module (a benchmark imports
#: the harness, which imports this, before it does anything).
_STARTED = (time.monotonic(), loadavg())


def _command() -> str:
    """This process's command, as one would type it from the repository root."""
    argv = list(sys.argv)
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name:  # run with -m
        return shlex.join(["python", "-m", spec.name.removesuffix(".__main__"), *argv[1:]])
    path = Path(argv[0]).resolve() if argv else Path("?")
    shown = str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)
    return shlex.join(["python", shown, *argv[1:]])


def record(
    name: str,
    markdown: str,
    figures: dict[str, Any] | None = None,
    others_busy: float | None = None,
    *,
    command: str | None = None,
    started: tuple[float, str] | None = None,
) -> Result:
    """Stores a run of benchmark ``name`` and regenerates RESULTS.md beside it. A benchmark
    calls it about itself (through ``harness.write_section``); the runner calls it for a script
    that only printed its figures, with the script's ``command`` and when it ``started``
    (``time.monotonic()``, load average)."""
    began, load_start = started or _STARTED
    load: dict[str, Any] = {"start": load_start, "end": loadavg()}
    if others_busy is not None:
        load["others_busy"] = others_busy
    result = Result(
        name=name,
        markdown=markdown.strip(),
        figures=figures or {},
        command=command or _command(),
        via=os.environ.get(VIA_ENV, ""),
        date=_now(),
        machine=machine(),
        load=load,
        seconds=round(time.monotonic() - began, 1),
        quick=bool(os.environ.get(QUICK_ENV)),
    )
    save(result)
    return result


def save(result: Result, root: Path | None = None) -> None:
    """Writes ``result`` as its benchmark's latest and regenerates RESULTS.md."""
    directory = results_dir(root)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{result.name}.json").write_text(result.to_json())
    write_report(root)


def from_output(name: str, heading: str, stdout: str) -> tuple[str, dict[str, Any]]:
    """The section and figures of a script that only printed them: JSON becomes tables,
    anything else is taken as Markdown (under ``heading`` unless it brings its own)."""
    text = stdout.strip()
    try:
        figures = json.loads(text)
    except ValueError:
        figures = None
    if isinstance(figures, dict):
        return f"## {heading}\n\n" + "\n".join(figures_markdown(figures)), figures
    if not text.startswith("#"):
        text = f"## {heading}\n\n{text}"
    return text, {}


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (dict, list)):
        return f"`{json.dumps(value, ensure_ascii=False)}`"
    return str(value)


def figures_markdown(figures: dict[str, Any], depth: int = 3) -> list[str]:
    """Tables of a benchmark's JSON figures: scalars as one table, a list of records as a
    table with their keys as columns, nested objects under headings of their own."""
    lines: list[str] = []
    scalars = {k: v for k, v in figures.items() if not isinstance(v, (dict, list))}
    if scalars:
        lines += ["| figure | value |", "| --- | ---: |"]
        lines += [f"| {k} | {_cell(v)} |" for k, v in scalars.items()]
        lines.append("")
    for key, value in figures.items():
        if isinstance(value, dict) and depth <= 4:
            lines += [f"{'#' * depth} {key}", "", *figures_markdown(value, depth + 1)]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            columns = list(dict.fromkeys(k for v in value for k in v))
            lines += [f"{'#' * depth} {key}", ""]
            lines += ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
            lines += ["| " + " | ".join(_cell(v.get(c, "")) for c in columns) + " |" for v in value]
            lines.append("")
        elif isinstance(value, (dict, list)):
            lines += [f"- {key}: {_cell(value)}", ""]
    return lines


def load_results(root: Path | None = None) -> dict[str, Result]:
    """Every stored result under ``root`` (default: where this process writes), by name."""
    directory = results_dir(root)
    if not directory.is_dir():
        return {}
    return {p.stem: Result.from_json(p.read_text()) for p in sorted(directory.glob("*.json"))}


def notes_for(name: str, notes_dir: Path = NOTES_DIR) -> list[Path]:
    """The hand-written notes of benchmark ``name``: ``NAME.md`` and ``NAME.TOPIC.md``."""
    return sorted(p for p in notes_dir.glob("*.md") if p.stem.split(".")[0] == name)


def _general_notes(notes_dir: Path = NOTES_DIR) -> list[Path]:
    return sorted(p for p in notes_dir.glob("*.md") if p.stem.split(".")[0] not in BY_NAME)


def _stamp(r: Result, machines: dict[str, str]) -> str:
    if r.imported:
        return f"*Taken over from {r.imported}; the command and date are in the text above.*"
    via = f" (via `{r.via}`)" if r.via else ""
    load = (
        f"load average {r.load.get('start', '?')} at the start, {r.load.get('end', '?')} at the end"
    )
    if "others_busy" in r.load:
        load += f"; other processes kept {r.load['others_busy']} cores busy"
    quick = " **Quick mode: small sizes, a smoke test, not a figure.**" if r.quick else ""
    took = f", took {r.seconds:g} s" if r.seconds is not None else ""
    return (
        f"*Run:* `{r.command}`{via} — {r.date}, machine {machines[_machine_key(r)]}{took}; "
        f"{load}.{quick}"
    )


def _machine_key(r: Result) -> str:
    m = r.machine
    return (
        f"{m.get('cpu', '?')}|{m.get('nproc', '?')}|{m.get('kernel', '?')}|{m.get('python', '?')}"
    )


def _block(name: str, body: str) -> list[str]:
    return [f"<!-- section:{name} -->", body.strip(), f"<!-- /section:{name} -->", ""]


def _notes_block(path: Path) -> list[str]:
    return _block(f"notes-{path.stem}", path.read_text())


def report(root: Path | None = None, notes_dir: Path = NOTES_DIR) -> str:
    """RESULTS.md from the results under ``root`` and the notes in ``notes_dir``."""
    results = load_results(root)
    machines: dict[str, str] = {}
    for r in results.values():
        if not r.imported:
            machines.setdefault(_machine_key(r), f"M{len(machines) + 1}")
    lines = [
        "# Benchmark results",
        "",
        "Generated by `python -m bench` (`make bench`) from each benchmark's latest result",
        "(`bench/results/NAME.json`) and the hand-written notes in `bench/notes/` (included",
        "verbatim). Do not edit this file: run the benchmark (`make bench NAME=…`), or edit its",
        "notes file, then `python -m bench --report`. Every ratio compares figures of one run.",
        "",
        "## Machines",
        "",
    ]
    if machines:
        lines += [
            "| machine | CPU | cores | kernel | Python |",
            "| --- | --- | ---: | --- | --- |",
        ]
        for key, label in machines.items():
            cpu, nproc, kernel, python = key.split("|")
            lines.append(f"| {label} | {cpu} | {nproc} | {kernel} | {python} |")
    else:
        lines.append("No result here was recorded by the runner yet.")
    lines += [
        "",
        "Each section ends with the stamp of its run: the command, the date, the machine (above),",
        "how long it took and the load average at its start and end (and the cores other",
        "processes kept busy meanwhile, when the runner ran it). Sections marked as taken over",
        "come from the hand-kept RESULTS.md before the runner (the project's shared 2-core",
        "machine, as their text says); the next run of their benchmark replaces them.",
        "",
        "## Benchmarks",
        "",
        "| benchmark | kind | what it measures | latest result | in `make bench` |",
        "| --- | --- | --- | --- | --- |",
    ]
    for b in BENCHMARKS:
        latest = results.get(b.name)
        when = "—" if latest is None else ("taken over" if latest.imported else latest.date)
        if latest is not None and latest.quick:
            when += " (quick)"
        lines.append(
            f"| [`{b.name}`](#{b.name}) | {b.kind} | {b.description} | {when} | "
            f"{'yes' if b.in_all else 'by name'} |"
        )
    lines.append("")
    for b in BENCHMARKS:
        lines += _section(b, results.get(b.name), machines, notes_dir)
    general = _general_notes(notes_dir)
    if general:
        lines += ["## Notes not tied to one benchmark", ""]
        for path in general:
            lines += _notes_block(path)
    unknown = sorted(set(results) - set(BY_NAME))
    for name in unknown:  # a result whose benchmark is no longer registered: keep, flagged
        lines += _block(name, results[name].markdown + "\n\n*(benchmark no longer registered)*")
    return "\n".join(lines).rstrip() + "\n"


def _section(
    b: Benchmark, r: Result | None, machines: dict[str, str], notes_dir: Path
) -> list[str]:
    lines = [f'<a id="{b.name}"></a>', ""]
    if r is None:
        body = (
            f"## {b.name}\n\n{b.description}. No result recorded yet: "
            f"`make bench NAME={b.name}` (`{b.command()}`)."
        )
    else:
        body = f"{r.markdown}\n\n{_stamp(r, machines)}"
    lines += _block(b.name, body)
    for path in notes_for(b.name, notes_dir):
        lines += _notes_block(path)
    return lines


def write_report(root: Path | None = None, notes_dir: Path = NOTES_DIR) -> Path:
    """Regenerates ``RESULTS.md`` under ``root`` (default: where this process writes)."""
    target = (root or output_dir()) / "RESULTS.md"
    target.write_text(report(root, notes_dir))
    return target


#: Sections of the hand-kept RESULTS.md that became notes under another name (a branch made
#: before the runner may still change them under the old one).
RENAMED_NOTES = {
    "refbytes": "encode.refbytes",
    "v2-durable-writes": "load-v2.durable-writes",
    "plain-text": "native-ab.plain-text",
    "renders-cost": "tree-cpu.renders-cost",
    "domain-cpu": "tree-cpu.domain-cpu",
    "looks": "native-ab.looks",
    "engine": "native-ab.engine",
}


#: Section names a branch may have used for a registered benchmark's output.
RENAMED_RESULTS = {"formats": "format"}


def sections(text: str) -> dict[str, str]:
    """The ``<!-- section:NAME -->`` blocks of a RESULTS.md, by name."""
    return {m.group(1): m.group(2).strip() for m in SECTION.finditer(text)}


def import_sections(
    text: str,
    source: str,
    root: Path | None = None,
    notes_dir: Path = NOTES_DIR,
    since: str | None = None,
) -> list[str]:
    """Takes the ``<!-- section:NAME -->`` blocks of ``text`` (another branch's RESULTS.md)
    that are not here already — with ``since`` (that branch's merge base's RESULTS.md), only
    those it added or changed: a registered benchmark's becomes its result (marked as taken
    over from ``source``), any other ``bench/notes/NAME.md``. Returns what was taken, as
    ``results/NAME`` or ``notes/NAME``."""
    base = sections(since) if since is not None else {}
    taken = []
    for name, body in sections(text).items():
        if base.get(name) == body:
            continue  # the branch did not touch it
        name = RENAMED_RESULTS.get(name, name)
        if name in BY_NAME:
            body = re.sub(r"\n\n\*(Run:|Taken over).*\Z", "", body, flags=re.S)
            if body == _markdown_of(name, root) or "No result recorded yet: `make bench" in body:
                continue  # already here, or this tree's "no result yet" placeholder
            r = Result(name=name, markdown=body, imported=source)
            results_dir(root).mkdir(parents=True, exist_ok=True)
            (results_dir(root) / f"{name}.json").write_text(r.to_json())
            taken.append(f"results/{name}")
        else:
            stem = name.removeprefix("notes-")
            stem = RENAMED_NOTES.get(stem, stem)
            path = notes_dir / f"{stem}.md"
            if path.exists() and path.read_text().strip() == body:
                continue
            notes_dir.mkdir(exist_ok=True)
            path.write_text(body + "\n")
            taken.append(f"notes/{stem}")
    write_report(root, notes_dir)
    return taken


def _markdown_of(name: str, root: Path | None) -> str:
    r = load_results(root).get(name)
    return r.markdown if r else ""
