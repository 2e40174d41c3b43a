"""The reference social card: one plain 1200x630 SVG that ogmint, resvg-py and cairosvg all draw.

Gradient background, translucent rounded surface, pill tag, two-line 64 px bold title,
description, and an author line with a circular avatar from an embedded PNG. Everything is
deterministic, so every run and every renderer sees the same bytes.

``python bench/render/reference_card.py > card.svg`` writes it out for a look.
"""

from __future__ import annotations

import base64
import io

from PIL import Image, ImageDraw

AVATAR_SIDE = 96


def avatar_png() -> bytes:
    """A deterministic 96x96 RGB PNG: a diagonal two-colour gradient with a light disc."""
    img = Image.new("RGB", (AVATAR_SIDE, AVATAR_SIDE))
    px = img.load()
    assert px is not None
    for y in range(AVATAR_SIDE):
        for x in range(AVATAR_SIDE):
            t = (x + y) / (2 * (AVATAR_SIDE - 1))
            px[x, y] = (int(249 - 150 * t), int(115 + 40 * t), int(22 + 220 * t))
    draw = ImageDraw.Draw(img)
    draw.ellipse((28, 18, 68, 58), fill=(255, 237, 213))
    draw.ellipse((16, 62, 80, 118), fill=(255, 237, 213))
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def reference_card_svg() -> str:
    """The reference card as an SVG document (about 8 KB, most of it the avatar)."""
    avatar = base64.b64encode(avatar_png()).decode("ascii")
    return f"""<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630" \
viewBox="0 0 1200 630">
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#0b1020"/>
      <stop offset="1" stop-color="#3b1d6e"/>
    </linearGradient>
    <clipPath id="avatar-clip"><circle cx="128" cy="520" r="40"/></clipPath>
  </defs>
  <rect width="1200" height="630" fill="url(#bg)"/>
  <rect x="48" y="48" width="1104" height="534" rx="32" fill="#ffffff" fill-opacity="0.08"
        stroke="#ffffff" stroke-opacity="0.14"/>
  <rect x="88" y="92" width="176" height="44" rx="22" fill="#818cf8" fill-opacity="0.22"/>
  <text x="176" y="121" text-anchor="middle" font-family="Inter" font-size="20"
        font-weight="600" fill="#c7d2fe" letter-spacing="1.5">ENGINEERING</text>
  <text font-family="Inter" font-size="64" font-weight="700" fill="#f5f7ff">
    <tspan x="88" y="232">Rendering social cards in</tspan>
    <tspan x="88" y="308">under ten milliseconds</tspan>
  </text>
  <text x="88" y="380" font-family="Inter" font-size="30" font-weight="400" fill="#c9cee6">\
How a Rust rasteriser, a font cache and a fast PNG encoder fit together.</text>
  <image x="88" y="480" width="80" height="80" clip-path="url(#avatar-clip)"
         preserveAspectRatio="xMidYMid slice" href="data:image/png;base64,{avatar}"/>
  <text x="192" y="512" font-family="Inter" font-size="26" font-weight="600"
        fill="#f5f7ff">Ada Lovelace</text>
  <text x="192" y="546" font-family="Inter" font-size="22" font-weight="400"
        fill="#9aa3c7">Staff engineer · 6 min read</text>
</svg>
"""


if __name__ == "__main__":
    print(reference_card_svg(), end="")
