"""A short smoke of ``bench/drill/locustfile.py`` against a plain app server (no nginx), with a key."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, Server


def test_locustfile_runs_clean_against_a_plain_server(server: Server, tmp_path: Path) -> None:
    api_key = server.create_key("locust")
    # A signing key made beforehand: crawlers asking for their own at spawn would spend the
    # one test key's burst allowance before the integrator's first render.
    created = server.cli("signing-keys", "create", "--user", "locust").strip().splitlines()
    env = {
        **os.environ,
        "OGMINT_LOAD_API_KEYS": api_key,
        "OGMINT_LOAD_SIGNING_KEYS": f"{created[0].split()[1]}:{created[-1]}",
    }
    args = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "drill" / "locustfile.py")]
    args += ["--headless", "-u", "10", "-r", "10", "-t", "8s", "--host", server.url]
    args += ["--csv", str(tmp_path / "smoke"), "--only-summary"]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    output = (done.stdout + done.stderr)[-4000:]
    assert done.returncode == 0, output  # locust exits 1 on any failure
    with (tmp_path / "smoke_stats.csv").open() as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    assert int(rows["Aggregated"]["Failure Count"]) == 0, output
    for name in ("GET /i/{slug}", "GET /api/og (anonymous)", "POST /api/v2/render (new)"):
        # The one test key's burst bucket is shared with the seeding step, so a request may
        # be a well-formed 429 (the locustfile names those "… (429)" and counts them as fine).
        sent = sum(int(rows[n]["Request Count"]) for n in (name, f"{name} (429)") if n in rows)
        assert sent > 0, output
