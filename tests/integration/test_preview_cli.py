"""``ogmint preview`` (issue 23 item 5) as a template author runs it: a real process, the same
checks as an upload, the PNG written, mistakes printed with their line and a non-zero exit."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from sized import COLOURS, corner, document

CARD = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:og="https://ogmint.dev/ns/template"
     width="1200" height="630" viewBox="0 0 1200 630">
  <style>.badge { fill: #00aa00 }</style>
  <rect width="1200" height="630" style="fill: #ffffff"/>
  <og:text field="title" x="72" y="72" width="600" height="200" max-size="48" fill="#111111"/>
  <rect og:if="date" class="badge" x="72" y="400" width="300" height="60"/>
  <og:text field="date" limit="20" x="90" y="410" width="260" height="40" max-size="24"/>
  <og:image field="screenshot" x="800" y="100" width="300" height="300" shape="rect"/>
</svg>"""


def preview(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OGMINT_DATA_DIR": str(tmp), "OGMINT_TEMPLATE_RENDER_BUDGET": "20"}
    return subprocess.run(
        [sys.executable, "-m", "ogmint.cli", "preview", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp,
        timeout=120,
    )


def test_preview_renders_custom_fields_and_images_from_files(tmp_path: Path) -> None:
    (tmp_path / "card.svg").write_text(CARD)
    red = io.BytesIO()
    Image.new("RGB", (100, 100), "#ff0000").save(red, "PNG")
    (tmp_path / "red.png").write_bytes(red.getvalue())
    done = preview(
        tmp_path,
        "card.svg",
        "--title",
        "Hello",
        "--field",
        "date=May 4",
        "--field",
        "screenshot=red.png",
        "--palette",
        "paper",
        "-o",
        "out.png",
    )
    assert done.returncode == 0, done.stderr
    px = np.asarray(Image.open(tmp_path / "out.png").convert("RGB"))
    assert px.shape == (630, 1200, 3)
    assert tuple(px[430, 362]) == (0, 170, 0)  # the date badge, styled by the <style> rule
    assert px[250, 950][0] > 200 and px[250, 950][1] < 60  # the screenshot, from the file


def test_preview_without_the_field_draws_the_other_branch(tmp_path: Path) -> None:
    (tmp_path / "card.svg").write_text(CARD)
    done = preview(tmp_path, "card.svg")  # the title defaults to a sample; -o to preview.png
    assert done.returncode == 0, done.stderr
    px = np.asarray(Image.open(tmp_path / "preview.png").convert("RGB"))
    assert tuple(px[430, 362]) == (255, 255, 255)


def test_template_mistakes_are_printed_with_their_line(tmp_path: Path) -> None:
    broken = CARD.replace('field="screenshot"', 'field="date"')
    (tmp_path / "card.svg").write_text(broken)
    done = preview(tmp_path, "card.svg", "-o", "out.png")
    assert done.returncode == 1
    assert "card.svg: line 8, <og:image>: field 'date' is image here but text on line 7" in (
        done.stderr
    ), done.stderr
    assert not (tmp_path / "out.png").exists()


def test_bad_fields_are_printed_naming_them(tmp_path: Path) -> None:
    (tmp_path / "card.svg").write_text(CARD)
    too_long = preview(tmp_path, "card.svg", "--field", "date=" + "x" * 21)
    assert too_long.returncode == 1 and "date: must be at most 20 characters" in too_long.stderr
    unknown = preview(tmp_path, "card.svg", "--field", "price=9")
    assert unknown.returncode == 1 and "price: unknown parameter" in unknown.stderr
    malformed = preview(tmp_path, "card.svg", "--field", "nope")
    assert malformed.returncode == 2 and "NAME=VALUE" in malformed.stderr


def test_preview_draws_a_size_from_its_own_document(tmp_path: Path) -> None:
    (tmp_path / "card.svg").write_text(document("og"))
    (tmp_path / "card.story.svg").write_text(document("story"))
    done = preview(
        tmp_path, "card.svg", "--size-svg", "story=card.story.svg", "--field", "size=story"
    )
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "preview.png") as image:
        assert image.size == (1080, 1920)
    assert corner((tmp_path / "preview.png").read_bytes()) == COLOURS["story"]
    # A preset without its document, and a document refused, each named.
    square = preview(tmp_path, "card.svg", "--field", "size=square")
    assert square.returncode == 1 and "parameters: size: this template has no document" in (
        square.stderr
    )
    (tmp_path / "wrong.svg").write_text(document("square", canvas=(1200, 630)))
    wrong = preview(tmp_path, "card.svg", "--size-svg", "square=wrong.svg")
    assert wrong.returncode == 1
    assert "wrong.svg: line 1, <svg>: root <svg> must have width=1080 height=1080" in wrong.stderr
    malformed = preview(tmp_path, "card.svg", "--size-svg", "square")
    assert malformed.returncode == 2 and "PRESET=FILE" in malformed.stderr
