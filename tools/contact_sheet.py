"""Draws the README's contact sheets, rendered by the real renderer with example content:
``docs/cards.png``, every built-in template as a grid of captioned thumbnails, and
``docs/sizes.png``, every built-in template at every size preset (SPEC §1.1), one row each.

    .venv/bin/python tools/contact_sheet.py          # writes docs/cards.png and docs/sizes.png

Templates are found in ``templates/`` (a new or redesigned one shows up on the next run); those
without example content below get a generic set. The sheets are palette PNGs (256 colours),
small enough to commit. For a designer's look at every palette and hard text, per size, see
``tests/golden/sheet.py``.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "server"), str(ROOT / "tests")]

from PIL import Image, ImageDraw, ImageFont  # noqa: E402 - after the path above

from golden.samples import avatar_png, fetched, logo_png  # noqa: E402
from ogmint.rendering.native import Renderer, bundled_font_dirs  # noqa: E402
from ogmint.rendering.palettes import PALETTES  # noqa: E402
from ogmint.rendering.params import PRESETS, parse_params  # noqa: E402
from ogmint.rendering.pipeline import render_image  # noqa: E402
from ogmint.rendering.template import Template, load_directory  # noqa: E402

OUT = ROOT / "docs" / "cards.png"
SIZES_OUT = ROOT / "docs" / "sizes.png"
#: Height of every card on the sizes sheet, whatever its aspect.
ROW = 200
COLUMNS = 3
THUMB = (384, 202)  # 1200x630 scaled by 0.32
GAP = 16
CAPTION = 26
BACKGROUND = (246, 246, 248)

#: Image fields name these URLs; the sheet draws the images itself (nothing is fetched).
AVATAR = "https://images.example.com/avatar.png"
LOGO = "https://images.example.com/logo.png"

#: What each template is for, said with its own fields (one palette each, for variety).
EXAMPLES: dict[str, tuple[str, dict[str, str]]] = {
    "blog": (
        "sunset",
        {
            "title": "Shipping faster with edge rendering and smart caching",
            "description": "How we cut p95 latency by 63% by moving image generation to the edge.",
            "tag": "Engineering",
            "author": "Ada Lovelace",
            "avatar": AVATAR,
            "logo": LOGO,
        },
    ),
    "docs": (
        "paper",
        {
            "title": "Signed URLs",
            "description": "Embed images in your pages without exposing an API key.",
            "tag": "Guides / Security",
            "logo": LOGO,
        },
    ),
    "product": (
        "midnight",
        {
            "title": "Introducing custom templates",
            "description": "Upload your own SVG, render it with every field and font.",
            "tag": "New",
            "logo": LOGO,
        },
    ),
    "event": (
        "ocean",
        {
            "title": "Rendering at the edge",
            "description": "A talk on fast, cacheable social cards.",
            "tag": "Oct 14 · Berlin",
            "author": "Grace Hopper",
            "avatar": AVATAR,
            "logo": LOGO,
        },
    ),
    "changelog": (
        "forest",
        {
            "title": "Webhooks with retries and redelivery",
            "description": "Every attempt is recorded; redeliver any of them from the dashboard.",
            "tag": "v2.4.0",
            "logo": LOGO,
        },
    ),
    "minimal": (
        "paper",
        {"title": "Hello, world 👋", "author": "Jane Doe", "avatar": AVATAR},
    ),
    "quote": (
        "midnight",
        {
            "title": "Our link previews finally look like our brand, everywhere.",
            "tag": "Head of Growth, Acme",
            "author": "Mia Chen",
            "avatar": AVATAR,
            "logo": LOGO,
        },
    ),
}
GENERIC = {
    "title": "What your link looks like when it is shared",
    "description": "A 1200×630 card from a template, text and a few colours.",
    "tag": "Example",
    "author": "Jane Doe",
    "avatar": AVATAR,
    "logo": LOGO,
}
#: Cards after the templates: the text other scripts get (fallback fonts, right to left).
SCRIPTS: list[tuple[str, str, dict[str, str]]] = [
    (
        "blog",
        "ocean",
        {
            "title": "エッジでのレンダリングとキャッシュで配信を高速化する方法",
            "description": "我们如何将图像生成迁移到边缘节点，并把延迟降低了百分之六十三。",
            "tag": "工程",
            "author": "山田 太郎",
            "avatar": AVATAR,
        },
    ),
    (
        "quote",
        "paper",
        {
            "title": "إطلاق Ogmint 2.0 مع دعم Redis و Amazon S3 في عام 2026",
            "tag": "الإصدار 2.0",
            "author": "ليلى أحمد",
            "avatar": AVATAR,
            "logo": LOGO,
        },
    ),
]


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def caption_font(renderer_dirs: list[str]) -> Font:
    for d in renderer_dirs:
        for path in sorted(Path(d).glob("Inter*.ttf")):
            if "Italic" not in path.name:
                return ImageFont.truetype(str(path), 15)
    return ImageFont.load_default(15)


def render(
    renderer: Renderer,
    templates: dict[str, Template],
    name: str,
    palette: str,
    params: dict[str, str],
    size: str = "og",
) -> Image.Image:
    """One card as a request with these parameters gets it (only the template's fields)."""
    template = templates[name]
    fields = {f.name for f in template.fields}
    spec = parse_params(
        {
            "template": name,
            "palette": palette,
            "size": size,
            **{k: v for k, v in params.items() if k in fields},
        },
        strict=True,
        template_exists=templates.__contains__,
        resolve_font=renderer.resolve_family,
    )
    sources = {"avatar": avatar_png(), "logo": logo_png()}
    images = {f: fetched(f, src) for f, src in sources.items() if f in fields and f in params}
    png = render_image(renderer, template, spec, images)
    return Image.open(io.BytesIO(png)).convert("RGB")


def save(sheet: Image.Image, out: Path, what: str) -> None:
    out.parent.mkdir(exist_ok=True)
    # 256 colours, dithered so that the cards' gradients do not band.
    small = sheet.quantize(
        colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG
    )
    small.save(out, "PNG", optimize=True)
    print(
        f"{out.relative_to(ROOT)}: {what}, {sheet.width}x{sheet.height}, "
        f"{out.stat().st_size // 1024} KB"
    )


def jobs(templates: dict[str, Template]) -> list[tuple[str, str, dict[str, str]]]:
    """Every template with its example (palette, parameters), in the README's order."""
    palettes = list(PALETTES)
    return [
        (name, *EXAMPLES.get(name, (palettes[i % len(palettes)], GENERIC)))
        for i, name in enumerate(sorted(templates, key=_order))
    ]


def cards_sheet(renderer: Renderer, templates: dict[str, Template], font: Font) -> None:
    todo = jobs(templates) + [job for job in SCRIPTS if job[0] in templates]
    cards = [
        (
            f"{name} · {palette}",
            render(renderer, templates, name, palette, params).resize(
                THUMB, Image.Resampling.LANCZOS
            ),
        )
        for name, palette, params in todo
    ]
    rows = -(-len(cards) // COLUMNS)
    width = COLUMNS * THUMB[0] + (COLUMNS + 1) * GAP
    height = rows * (THUMB[1] + CAPTION) + (rows + 1) * GAP - GAP // 2
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for i, (label, card) in enumerate(cards):
        x = GAP + (i % COLUMNS) * (THUMB[0] + GAP)
        y = GAP + (i // COLUMNS) * (THUMB[1] + CAPTION + GAP)
        sheet.paste(card, (x, y))
        draw.text((x + 2, y + THUMB[1] + 5), label, fill=(70, 70, 80), font=font)
    save(sheet, OUT, f"{len(cards)} cards")


def sizes_sheet(renderer: Renderer, templates: dict[str, Template], font: Font) -> None:
    """One row per template, one card per preset, all ``ROW`` pixels high."""
    widths = {p: round(ROW * w / h) for p, (w, h) in PRESETS.items()}
    width = sum(widths.values()) + (len(widths) + 1) * GAP
    todo = jobs(templates)
    height = len(todo) * (ROW + CAPTION + GAP) + GAP + CAPTION
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    x = GAP
    for preset, (w, h) in PRESETS.items():
        draw.text((x + 2, GAP // 2 + 4), f"{preset} {w}×{h}", fill=(70, 70, 80), font=font)
        x += widths[preset] + GAP
    for row, (name, palette, params) in enumerate(todo):
        y = GAP + CAPTION + row * (ROW + CAPTION + GAP)
        x = GAP
        for preset in PRESETS:
            card = render(renderer, templates, name, palette, params, preset)
            sheet.paste(card.resize((widths[preset], ROW), Image.Resampling.LANCZOS), (x, y))
            x += widths[preset] + GAP
        draw.text((GAP + 2, y + ROW + 5), f"{name} · {palette}", fill=(70, 70, 80), font=font)
    save(sheet, SIZES_OUT, f"{len(todo)} templates x {len(PRESETS)} sizes")


def main() -> int:
    dirs = bundled_font_dirs()
    renderer = Renderer(dirs, threads=1, queue=1, max_svg_bytes=2 << 20, max_nodes=20_000)
    templates = load_directory(ROOT / "templates")
    font = caption_font(dirs)
    cards_sheet(renderer, templates, font)
    sizes_sheet(renderer, templates, font)
    renderer.close()
    return 0


def _order(name: str) -> tuple[int, str]:
    """The templates with examples first, in the README's order; any others after."""
    known = list(EXAMPLES)
    return (known.index(name), name) if name in known else (len(known), name)


if __name__ == "__main__":
    sys.exit(main())
