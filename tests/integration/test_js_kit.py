"""The JavaScript kit's own tests (``node --test``), run against the shared vectors and a live
server."""

from __future__ import annotations

import shutil
import subprocess

from conftest import ROOT

JS_TESTS = ROOT / "clients" / "js" / "test" / "ogmint.test.mjs"


def run_node_tests(env: dict[str, str]) -> str:
    node = shutil.which("node")
    assert node, "node is needed for the JS kit's tests (make test installs nodejs)"
    done = subprocess.run(
        [node, "--test", str(JS_TESTS)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return done.stdout


def test_js_kit_vectors() -> None:
    out = run_node_tests({"PATH": "/usr/bin:/bin"})
    assert "# fail 0" in out
