"""Contact sheets: every built-in template × palette × hard text, for a designer's eye.

    PYTHONPATH=server .venv/bin/python tests/golden/sheet.py [OUT_DIR] [--template NAME]
        [--size PRESET|WxH ...]

Writes one PNG per template and size (rows: palettes, caller colours and hard texts; images a
third of the card's size) into OUT_DIR (default ``tests/golden/_sheet``, not committed):
``NAME.png`` for ``og``, ``NAME.SIZE.png`` for the others (``--size all``: every preset).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from golden.cases import REPRESENTATIVE, STRESS, load_templates, make_renderer, template_names
from golden.samples import avatar_png, fetched, logo_png, wordmark_png
from ogmint.rendering.palettes import PALETTES
from ogmint.rendering.params import IMAGE_FIELDS, PRESETS, parse_params, parse_size
from ogmint.rendering.pipeline import render_image

SCALE = 3


LONG_WORD = "Supercalifragilisticexpialidocious" * 3
#: Rows after the palettes: (label, palette, parameters).
HARD: list[tuple[str, str | None, dict[str, str]]] = [
    (
        "caller white/dark",
        None,
        {**REPRESENTATIVE, "bgColor": "#FFFFFF", "textColor": "111", "accentColor": "ff5a3c"},
    ),
    (
        "caller navy/yellow",
        None,
        {**REPRESENTATIVE, "bg": "0b1a3a", "text": "ffe08a", "accent": "22d3ee"},
    ),
    ("long", "midnight", dict(STRESS["long"], logo=REPRESENTATIVE["logo"])),
    (
        "long word",
        "light",
        {
            "title": "Release notes for " + LONG_WORD[:60],
            "description": "See https://example.com/" + LONG_WORD + " for details " + LONG_WORD,
            "tag": LONG_WORD[:50],
            "author": LONG_WORD[:40],
        },
    ),
    (
        "blank fields",
        "dark",
        {"title": "Whitespace-only tag and author", "tag": " \u00a0", "author": "\u200b "},
    ),
    ("arabic", "paper", dict(STRESS["arabic"], logo="wordmark")),
    ("hebrew", "ocean", dict(STRESS["hebrew"], avatar=REPRESENTATIVE["avatar"])),
    ("cjk + emoji", "forest", {**STRESS["cjk"], "title": STRESS["emoji"]["title"] + " 発表"}),
    ("title only", "sunset", {"title": "Hello world"}),
    ("wordmark", "light", {**REPRESENTATIVE, "logo": "wordmark", "avatar": ""}),
    ("no avatar", "midnight", {k: v for k, v in REPRESENTATIVE.items() if k != "avatar"}),
]


def render(
    renderer, templates, template: str, palette: str | None, params: dict[str, str], size="og"
):
    raw = {"template": template, "size": size, **{k: v for k, v in params.items() if v}}
    if raw.get("logo") == "wordmark":
        raw["logo"] = REPRESENTATIVE["logo"]
    if palette:
        raw["palette"] = palette
    spec = parse_params(
        raw,
        strict=True,
        template_exists=templates.__contains__,
        resolve_font=renderer.resolve_family,
    )
    sources = {"avatar": avatar_png(), "logo": logo_png()}
    images = {}
    for f in IMAGE_FIELDS:
        if params.get(f):
            images[f] = fetched(f, wordmark_png() if params[f] == "wordmark" else sources[f])
    png = render_image(renderer, templates[template], spec, images)
    return Image.open(io.BytesIO(png)).convert("RGB")


def sheet(template: str, out: Path, renderer, templates, size: str = "og") -> Path:
    rows = [(p, p, REPRESENTATIVE) for p in PALETTES] + HARD
    _, width, height = parse_size(size) or ("og", 1200, 630)
    w, h = width // SCALE, height // SCALE
    cols = 2 if width > height else 4
    n = len(rows)
    board = Image.new(
        "RGB", (cols * (w + 8) + 8, ((n + cols - 1) // cols) * (h + 26) + 8), (128, 128, 128)
    )
    draw = ImageDraw.Draw(board)
    for i, (label, palette, params) in enumerate(rows):
        x, y = 8 + (i % cols) * (w + 8), 8 + (i // cols) * (h + 26)
        im = render(renderer, templates, template, palette, dict(params), size)
        board.paste(im.resize((w, h), Image.LANCZOS), (x, y + 18))
        draw.text((x, y + 2), f"{template} · {label}", fill=(0, 0, 0))
    path = out / (f"{template}.png" if size == "og" else f"{template}.{size}.png")
    board.save(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default=str(Path(__file__).parent / "_sheet"))
    ap.add_argument("--template", action="append")
    ap.add_argument("--size", action="append")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    renderer, templates = make_renderer(), load_templates()
    sizes = args.size or ["og"]
    if "all" in sizes:
        sizes = list(PRESETS)
    for t in args.template or template_names():
        for size in sizes:
            print(sheet(t, out, renderer, templates, size))


if __name__ == "__main__":
    main()
