"""bench/: every script is registered with the runner, and RESULTS.md is made from results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import results
from bench.registry import BENCHMARKS, BY_NAME, HELPERS, KINDS
from conftest import ROOT

BENCH = ROOT / "bench"
#: The runner's own modules, at the top of bench/ (benchmarks live in the kind folders).
RUNNER = {"__init__.py", "__main__.py", "registry.py", "results.py", "harness.py"}


def _scripts() -> set[str]:
    """Every Python file under bench/, relative to it (the takumi crate and scratch output
    aside)."""
    skip = {"takumi", "out", "results", "notes"}
    return {
        str(p.relative_to(BENCH))
        for p in BENCH.rglob("*.py")
        if not skip & set(p.relative_to(BENCH).parts) and "__pycache__" not in p.parts
    }


def test_every_script_in_bench_is_registered_or_a_declared_helper() -> None:
    registered = {b.module.replace(".", "/") + ".py" for b in BENCHMARKS}
    packages = {f"{kind}/__init__.py" for kind in KINDS}
    unaccounted = _scripts() - registered - set(HELPERS) - RUNNER - packages
    assert not unaccounted, (
        f"{sorted(unaccounted)}: register each in bench/registry.py (BENCHMARKS), or list it "
        "in HELPERS if it is not a benchmark itself"
    )
    assert not (set(HELPERS) - _scripts()), "a helper listed in HELPERS is gone"
    assert not (registered - _scripts()), "a registered module does not exist"


def test_no_scripts_are_left_at_the_top_of_bench() -> None:
    top = {p.name for p in BENCH.glob("*.py")}
    assert top == RUNNER, f"scripts go in a folder of their kind: {sorted(top - RUNNER)}"


def test_each_benchmark_has_a_unique_name_a_kind_folder_and_a_description() -> None:
    assert len(BY_NAME) == len(BENCHMARKS)
    for b in BENCHMARKS:
        assert b.module.split(".")[0] == b.kind, b  # the script lives in its kind's folder
        assert (BENCH / b.kind / "__init__.py").exists(), b.kind
        assert b.description and "\n" not in b.description, b
        assert b.name == b.name.lower() and " " not in b.name, b
        assert b.argv()[:2] == ["-m", f"bench.{b.module}"]
        assert b.argv(quick=True)[:2] == ["-m", f"bench.{b.module}"]


def _result(name: str, markdown: str, **kw: object) -> results.Result:
    stamp = {
        "command": f"python -m bench.x.{name}",
        "date": "2026-12-07 12:00 UTC",
        "machine": {"cpu": "Test CPU", "nproc": 2, "kernel": "6.1", "python": "3.11.7"},
        "load": {"start": "0.10 / 0.20 / 0.30", "end": "0.40 / 0.50 / 0.60"},
        "seconds": 1.5,
    }
    return results.Result(name=name, markdown=markdown, **{**stamp, **kw})  # type: ignore[arg-type]


def test_report_has_every_benchmark_with_its_latest_result_stamp_and_notes(
    tmp_path: Path,
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "memory.md").write_text("Hand-written: the allocator was tried and dropped.\n")
    (notes / "memory.allocator.md").write_text("A second note on memory.\n")
    (notes / "container.md").write_text("A note tied to no benchmark.\n")
    results.save(_result("memory", "## Memory\n\n| a | b |\n| --- | --- |\n| 1 | 2 |"), tmp_path)
    results.save(_result("edge", "## Edge\n\nfigures", quick=True), tmp_path)

    text = results.report(tmp_path, notes)
    (tmp_path / "RESULTS.md").write_text(text)
    # One section per registered benchmark, with or without a result.
    for b in BENCHMARKS:
        assert f"<!-- section:{b.name} -->" in text, b.name
    assert "No result recorded yet: `make bench NAME=render`" in text
    memory = text.split("<!-- section:memory -->")[1].split("<!-- /section:memory -->")[0]
    assert "| 1 | 2 |" in memory
    assert "*Run:* `python -m bench.x.memory` — 2026-12-07 12:00 UTC, machine M1" in memory
    assert "0.10 / 0.20 / 0.30 at the start" in memory
    assert "| M1 | Test CPU | 2 | 6.1 | 3.11.7 |" in text
    assert "Quick mode" in text.split("<!-- section:edge -->")[1].split("<!-- /section")[0]
    # Notes verbatim, after their benchmark's section; a note of no benchmark at the end.
    after_memory = text.split("<!-- /section:memory -->")[1]
    assert after_memory.index("Hand-written: the allocator") < after_memory.index(
        "<!-- section:bombs -->"
    )
    assert "A second note on memory." in after_memory
    assert text.index("A note tied to no benchmark.") > text.index("## Notes not tied")


def test_sections_of_another_results_file_are_taken_over(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    results.save(_result("memory", "## Memory\n\nold figures"), tmp_path)
    other = (
        "# Benchmark results\n\n<!-- section:memory -->\n## Memory\n\nnew figures\n\n"
        "*Run:* `python -m bench memory` — a stamp of the other branch\n"
        "<!-- /section:memory -->\n\n<!-- section:formats-notes -->\n## Formats\n\nprose\n"
        "<!-- /section:formats-notes -->\n"
    )
    taken = results.import_sections(other, "branch formats", tmp_path, notes)
    assert taken == ["results/memory", "notes/formats-notes"]
    stored = json.loads((tmp_path / "results" / "memory.json").read_text())
    assert stored["markdown"] == "## Memory\n\nnew figures"
    assert stored["imported"] == "branch formats"
    assert (notes / "formats-notes.md").read_text() == "## Formats\n\nprose\n"
    # Taking the same file again changes nothing.
    assert results.import_sections(other, "branch formats", tmp_path, notes) == []


@pytest.mark.parametrize(
    ("stdout", "expected"),
    [
        ('{"full_median_ms": 4.01, "ratio": 44}', "| full_median_ms | 4.01 |"),
        ('{"rows": [{"card": "blog", "ms": 2.5}]}', "| blog | 2.5 |"),
        ("| card | ms |\n|---|---|\n| blog | 2.5 |", "## a benchmark\n\n| card | ms |"),
        ("## Its own heading\n\ntext", "## Its own heading"),
    ],
)
def test_printed_figures_become_a_section(stdout: str, expected: str) -> None:
    markdown, _ = results.from_output("x", "a benchmark", stdout)
    assert expected in markdown


def test_only_what_a_branch_changed_is_taken_with_since(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    base = (
        "<!-- section:takumi -->\n## takumi\n\n2.60 ms\n<!-- /section:takumi -->\n"
        "<!-- section:memory -->\n## memory\n\n+0.1%\n<!-- /section:memory -->\n"
        "<!-- section:plain-text -->\nold prose\n<!-- /section:plain-text -->\n"
    )
    theirs = base.replace("2.60 ms", "2.10 ms").replace("old prose", "new prose")
    taken = results.import_sections(theirs, "branch x", tmp_path, notes, since=base)
    # memory is untouched by the branch; plain-text lives on as a note under its new name.
    assert taken == ["results/takumi", "notes/native-ab.plain-text"]
    assert (notes / "native-ab.plain-text.md").read_text() == "new prose\n"
