"""Golden images: every built-in template x palette, plus text stress cases on ``blog``.

Renders are compared to the checked-in PNGs as decoded pixels with a tolerance, so encoder
changes and sub-pixel anti-aliasing differences pass while layout or colour regressions fail.
On failure the actual render and a diff image are written to ``tests/golden/_diff/``.
Regenerate (after checking the diffs!) with ``.venv/bin/python tests/golden/update.py``.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from golden.cases import DIFFS, Case, all_cases, load_templates, make_renderer, render
from ogmint.rendering.native import Renderer
from ogmint.rendering.template import Template

pytestmark = pytest.mark.golden

#: Largest accepted mean absolute difference per channel (0–255 scale).
MAX_MEAN_DIFF = 1.0
#: A pixel "differs" when any channel differs by more than this …
PIXEL_THRESHOLD = 32
#: … and at most this fraction of pixels may differ.
MAX_DIFFERING_FRACTION = 0.005


@pytest.fixture(scope="module")
def golden_renderer() -> Renderer:
    return make_renderer()


@pytest.fixture(scope="module")
def templates() -> dict[str, Template]:
    return load_templates()


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def _write_diff(case: Case, actual: bytes, delta: np.ndarray) -> str:
    DIFFS.mkdir(exist_ok=True)
    (DIFFS / f"{case.name}.actual.png").write_bytes(actual)
    # Differences are amplified x4 on black so small shifts are visible.
    heat = np.clip(delta.max(axis=2) * 4, 0, 255).astype(np.uint8)
    Image.fromarray(heat, "L").save(DIFFS / f"{case.name}.diff.png")
    return str(DIFFS / case.name)


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.name)
def test_matches_golden(
    case: Case, golden_renderer: Renderer, templates: dict[str, Template]
) -> None:
    assert case.path.exists(), (
        f"no golden image {case.path.name}; run `.venv/bin/python tests/golden/update.py`"
    )
    actual = render(case, golden_renderer, templates)
    want, got = _pixels(case.path.read_bytes()), _pixels(actual)
    assert got.shape == (630, 1200, 3), f"render is {got.shape[1]}x{got.shape[0]}, not 1200x630"
    assert want.shape == got.shape, f"golden {case.path.name} has shape {want.shape}"

    delta = np.abs(got - want)
    mean = float(delta.mean())
    differing = float((delta.max(axis=2) > PIXEL_THRESHOLD).mean())
    if mean > MAX_MEAN_DIFF or differing > MAX_DIFFERING_FRACTION:
        where = _write_diff(case, actual, delta)
        pytest.fail(
            f"{case.name} differs from its golden image: mean abs diff {mean:.3f} "
            f"(limit {MAX_MEAN_DIFF}), {differing:.3%} of pixels differ by > {PIXEL_THRESHOLD} "
            f"(limit {MAX_DIFFERING_FRACTION:.1%}). See {where}.actual.png and .diff.png; "
            "if the change is intended, run `.venv/bin/python tests/golden/update.py`."
        )


def test_every_template_has_goldens() -> None:
    """A new template without goldens (or a removed one with stale goldens) is caught here."""
    expected = {c.path.name for c in all_cases()}
    present = {p.name for p in all_cases()[0].path.parent.glob("*.png")}
    assert present == expected, (
        f"missing: {sorted(expected - present)}, stale: {sorted(present - expected)}; "
        "run `.venv/bin/python tests/golden/update.py`"
    )
