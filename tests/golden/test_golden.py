"""Golden images: every built-in template x palette, plus text stress cases on ``blog``.

Renders are compared to the checked-in PNGs as decoded pixels, so encoder changes pass. The
comparison is near-exact: with the pinned fonts an unchanged render differs by nothing, and a
changed word, a dropped emoji, a one-letter typo or a changed accent colour must fail. Other font
or library builds draw anti-aliasing slightly differently; ``pytest --golden-loose`` accepts
that (and so misses small regressions). On failure the actual render and a diff image are written
to ``tests/golden/_diff/``. Regenerate (after checking the diffs!) with ``make golden-update``.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from golden.cases import (
    DIFFS,
    LOOSE,
    NEAR_EXACT,
    Case,
    Tolerance,
    all_cases,
    load_templates,
    make_renderer,
    render,
    within,
)
from ogmint.rendering.native import Renderer
from ogmint.rendering.params import PRESETS
from ogmint.rendering.template import Template

pytestmark = pytest.mark.golden


@pytest.fixture(scope="session")
def tolerance(pytestconfig: pytest.Config) -> Tolerance:
    return LOOSE if pytestconfig.getoption("golden_loose") else NEAR_EXACT


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


#: Templates whose current renders show a known renderer regression against their goldens, by
#: the reason. Strict: once the renderer is fixed these fail as XPASS and the entry must go.
KNOWN_REGRESSIONS: dict[str, str] = {}


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.name)
def test_matches_golden(
    case: Case,
    golden_renderer: Renderer,
    templates: dict[str, Template],
    tolerance: Tolerance,
    request: pytest.FixtureRequest,
) -> None:
    if case.template in KNOWN_REGRESSIONS and tolerance is NEAR_EXACT:
        reason = KNOWN_REGRESSIONS[case.template]
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    assert case.path.exists(), (
        f"no golden image {case.path.name}; run `.venv/bin/python tests/golden/update.py`"
    )
    actual = render(case, golden_renderer, templates)
    want, got = _pixels(case.path.read_bytes()), _pixels(actual)
    width, height = PRESETS[case.params.get("size", "og")]
    assert got.shape == (height, width, 3), (
        f"render is {got.shape[1]}x{got.shape[0]}, not {width}x{height}"
    )
    assert want.shape == got.shape, f"golden {case.path.name} has shape {want.shape}"

    problem = within(want, got, tolerance)
    if problem is not None:
        where = _write_diff(case, actual, np.abs(got - want))
        pytest.fail(
            f"{case.name} differs from its golden image: {problem}. "
            f"See {where}.actual.png and .diff.png; if the change is intended, run "
            "`make golden-update`; for another font build, `pytest --golden-loose`."
        )


def test_every_template_has_goldens() -> None:
    """A new template without goldens (or a removed one with stale goldens) is caught here."""
    expected = {c.path.name for c in all_cases()}
    present = {p.name for p in all_cases()[0].path.parent.glob("*.png")}
    assert present == expected, (
        f"missing: {sorted(expected - present)}, stale: {sorted(present - expected)}; "
        "run `.venv/bin/python tests/golden/update.py`"
    )


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("blog-paper", {"title": "Shipping faster with edge rendering and smart cashing"}),
        ("blog-paper", {"title": "Shipping faster with edge rendering and smart storage"}),
        ("blog-paper", {"accentColor": "c2410c"}),
        ("blog-emoji", {"title": "🚀 Launch week recap everything we shipped ✨"}),
        ("quote-midnight", {"tag": "Englneering"}),
        ("docs-midnight", {"tag": "Engineerlng"}),
        ("changelog-mixed-english", {"tag": "Interveiw"}),
    ],
    ids=["typo", "word", "accent", "emoji", "tag-letter", "tag-letter-docs", "tag-swap"],
)
def test_near_exact_comparison_catches_small_regressions(
    name: str, change: dict[str, str], golden_renderer: Renderer, templates: dict[str, Template]
) -> None:
    """The default tolerance fails each of these one-detail changes (the old one passed them)."""
    case = next(c for c in all_cases() if c.name == name)
    changed = Case(case.name, case.template, case.palette, {**case.params, **change})
    want = _pixels(case.path.read_bytes())
    got = _pixels(render(changed, golden_renderer, templates))
    assert within(want, got, NEAR_EXACT) is not None
