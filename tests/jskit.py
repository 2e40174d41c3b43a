"""Runs the JavaScript kit's own tests (``node --test``), optionally against a live server."""

from __future__ import annotations

import os
import shutil
import subprocess

from conftest import ROOT

JS_TESTS = ROOT / "clients" / "js" / "test" / "ogmint.test.mjs"


def run_node_tests(**env: str) -> str:
    """Runs the suite with ``env`` (``OGMINT_URL`` etc. enable its live tests); its TAP output."""
    node = shutil.which("node")
    assert node, "node is needed for the JS kit's tests (make test installs nodejs)"
    done = subprocess.run(
        [node, "--test", str(JS_TESTS)],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout
    return done.stdout
