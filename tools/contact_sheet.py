"""Draws the README's contact sheet: every built-in template, rendered by the real renderer with
example content, as a grid of thumbnails with captions.

    .venv/bin/python tools/contact_sheet.py          # writes docs/cards.png

Templates are found in ``templates/`` (a new or redesigned one shows up on the next run); those
without example content below get a generic set. The sheet is a palette PNG (256 colours), small
enough to commit.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402 - after the path above

from ogmint.rendering.images import _to_png as as_fetched  # noqa: E402
from ogmint.rendering.native import Renderer, bundled_font_dirs  # noqa: E402
from ogmint.rendering.palettes import PALETTES  # noqa: E402
from ogmint.rendering.params import parse_params  # noqa: E402
from ogmint.rendering.pipeline import IMAGE_SIDES, render_png  # noqa: E402
from ogmint.rendering.template import load_directory  # noqa: E402
from ogmint.settings import Settings  # noqa: E402

OUT = ROOT / "docs" / "cards.png"
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


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def avatar() -> bytes:
    """A drawn portrait (no photo to license): a gradient backdrop, head and shoulders."""
    im = Image.new("RGB", (256, 256))
    draw = ImageDraw.Draw(im)
    for y in range(256):
        draw.line([(0, y), (255, y)], fill=(40 + y // 3, 90 + y // 4, 200 - y // 3))
    draw.ellipse([78, 50, 178, 150], fill=(245, 214, 186))
    draw.ellipse([38, 160, 218, 340], fill=(245, 214, 186))
    return _png(im)


def logo() -> bytes:
    """A brand mark with transparent corners."""
    im = Image.new("RGBA", (128, 128), (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)
    draw.rounded_rectangle([4, 4, 124, 124], 30, fill=(236, 72, 153, 255))
    draw.polygon([(34, 94), (64, 30), (94, 94)], fill=(255, 255, 255, 255))
    return _png(im)


def caption_font(renderer_dirs: list[str]) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for d in renderer_dirs:
        for path in sorted(Path(d).glob("Inter*.ttf")):
            if "Italic" not in path.name:
                return ImageFont.truetype(str(path), 15)
    return ImageFont.load_default(15)


def main() -> int:
    dirs = bundled_font_dirs()
    renderer = Renderer(dirs, threads=1, queue=1, max_svg_bytes=2 << 20, max_nodes=20_000)
    templates = load_directory(ROOT / "templates")
    max_pixels = Settings.from_env({}).image_max_pixels
    sources = {"avatar": avatar(), "logo": logo()}
    palettes = list(PALETTES)
    jobs = [
        (name, *EXAMPLES.get(name, (palettes[i % len(palettes)], GENERIC)))
        for i, name in enumerate(sorted(templates, key=_order))
    ]
    jobs += [job for job in SCRIPTS if job[0] in templates]
    cards = []
    for name, palette, params in jobs:
        template = templates[name]
        fields = {f.name for f in template.fields}
        spec = parse_params(
            {
                "template": name,
                "palette": palette,
                **{k: v for k, v in params.items() if k in fields},
            },
            strict=True,
            template_exists=templates.__contains__,
            resolve_font=renderer.resolve_family,
        )
        images = {
            f: as_fetched(source, IMAGE_SIDES[f], max_pixels)
            for f, source in sources.items()
            if f in fields and f in params
        }
        png = render_png(renderer, template, spec, images)
        card = Image.open(io.BytesIO(png)).convert("RGB").resize(THUMB, Image.Resampling.LANCZOS)
        cards.append((f"{name} · {palette}", card))
    renderer.close()

    rows = -(-len(cards) // COLUMNS)
    width = COLUMNS * THUMB[0] + (COLUMNS + 1) * GAP
    height = rows * (THUMB[1] + CAPTION) + (rows + 1) * GAP - GAP // 2
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = caption_font(dirs)
    for i, (label, card) in enumerate(cards):
        x = GAP + (i % COLUMNS) * (THUMB[0] + GAP)
        y = GAP + (i // COLUMNS) * (THUMB[1] + CAPTION + GAP)
        sheet.paste(card, (x, y))
        draw.text((x + 2, y + THUMB[1] + 5), label, fill=(70, 70, 80), font=font)
    OUT.parent.mkdir(exist_ok=True)
    # 256 colours, dithered so that the cards' gradients do not band.
    small = sheet.quantize(
        colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG
    )
    small.save(OUT, "PNG", optimize=True)
    print(
        f"{OUT.relative_to(ROOT)}: {len(cards)} cards, {width}x{height}, "
        f"{OUT.stat().st_size // 1024} KB"
    )
    return 0


def _order(name: str) -> tuple[int, str]:
    """The templates with examples first, in the README's order; any others after."""
    known = list(EXAMPLES)
    return (known.index(name), name) if name in known else (len(known), name)


if __name__ == "__main__":
    sys.exit(main())
