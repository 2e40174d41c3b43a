"""``python -m bench --quick``: cheap benchmarks run for real, and RESULTS.md made from them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done


def _section(text: str, name: str) -> str:
    return text.split(f"<!-- section:{name} -->")[1].split(f"<!-- /section:{name} -->")[0]


def test_quick_runs_record_results_and_keep_the_others(tmp_path: Path) -> None:
    kept = (ROOT / "bench" / "RESULTS.md").read_text()
    # One that prints JSON (recorded by the runner), one that records itself.
    _bench("--quick", "--results-dir", str(tmp_path), "durable-commit")
    _bench("--quick", "--results-dir", str(tmp_path), "render")
    # One that prints Markdown, run later on its own: the others' results stay.
    _bench("--quick", "--results-dir", str(tmp_path), "fit-ab")

    stored = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "results").glob("*.json")}
    assert set(stored) == {"durable-commit", "render", "fit-ab"}
    durable = stored["durable-commit"]
    assert durable["figures"]["saves_each"] == 6  # 2 rounds x 3 saves, from its JSON
    assert durable["command"] == "python -m bench.state.durable_commit --rounds 2 --block 3"
    assert durable["quick"] is True
    assert durable["machine"]["nproc"] and durable["load"]["start"] and durable["date"]
    assert stored["render"]["figures"]["rounds"] == 3  # recorded by the script itself
    assert stored["render"]["command"].startswith("python -m bench.render.render_bench --rounds 3")

    text = (tmp_path / "RESULTS.md").read_text()
    assert "| M1 |" in text
    section = _section(text, "durable-commit")
    assert "| full_median_ms |" in section
    assert "*Run:* `python -m bench.state.durable_commit --rounds 2 --block 3`" in section
    assert "Quick mode" in section
    assert "other processes kept" in section  # the runner measured the machine's load
    assert "Two threads" in _section(text, "render")
    assert "ms of fitting per card" in _section(text, "fit-ab")
    assert "No result recorded yet" in _section(text, "load-v1")
    # A smoke run never touches the real figures.
    assert (ROOT / "bench" / "RESULTS.md").read_text() == kept


def test_list_names_every_benchmark() -> None:
    from bench.registry import BENCHMARKS

    listed = _bench("--list").stdout
    for b in BENCHMARKS:
        assert f"  {b.name} " in listed, b.name
        assert b.command() in listed, b.name
