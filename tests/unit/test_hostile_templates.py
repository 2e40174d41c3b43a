"""Every template of the hostile corpus (tests/hostile) is refused by the sanitiser, quickly,
with an error that says what (and, for element-level problems, where)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ogmint.rendering.template import TemplateError, TemplateTooLarge, compile_template

CORPUS = Path(__file__).resolve().parents[1] / "hostile"
FILES = sorted(CORPUS.glob("*.svg"))


def test_the_corpus_is_large_enough() -> None:
    assert len(FILES) >= 40


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_refused(path: Path) -> None:
    # CPU time, not wall time: refusing must cost little work, whatever else the host runs.
    started = time.thread_time()
    with pytest.raises(TemplateError) as refused:
        compile_template(path.stem, path.read_bytes(), custom=True)
    assert time.thread_time() - started < 1.0
    error = refused.value
    assert error.reason
    if path.stem == "source-too-large":
        assert isinstance(error, TemplateTooLarge)
    if error.element is not None:  # located errors name the line too
        assert error.line is not None and str(error).startswith(f"line {error.line}, <")
