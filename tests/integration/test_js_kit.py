"""The JavaScript kit's own tests on the shared vectors (live-server runs are in
test_signed_urls_http.py and test_kits_http.py)."""

from __future__ import annotations

from jskit import run_node_tests


def test_js_kit_vectors() -> None:
    out = run_node_tests()
    assert "# skipped 4" in out  # only the four live tests, which need a server
