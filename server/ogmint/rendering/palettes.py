"""Colours (SPEC §1): parsing, the built-in palettes, and the tones templates draw with.

A render has four caller-facing colours (background, text, accent, surface). Templates also
draw derived tones — a muted text, accent text, an accent-tinted backdrop — computed here so
that whenever text and background are at least 4.5:1 apart (WCAG AA), every text tone is at
least 4.5:1 against every backdrop tone a template puts behind text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

#: ``rrggbb`` or ``rgb``, with or without a leading ``#``, any case.
_COLOR = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
#: The WCAG AA ratio for normal text.
AA = 4.5
#: Derived tones aim a little above AA so anti-aliasing and gradient sampling keep AA.
_TARGET = 4.65


def parse_color(value: str) -> str | None:
    """The canonical lower-case ``rrggbb`` of ``value``, or None when it is not a colour."""
    m = _COLOR.fullmatch(value)
    if m is None:
        return None
    digits = m.group(1).lower()
    return digits if len(digits) == 6 else "".join(c * 2 for c in digits)


@dataclass(frozen=True, slots=True)
class Colors:
    """The four effective colours of a render, as lower-case 6-digit hex without '#'."""

    bg: str
    text: str
    accent: str
    surface: str

    def tone(self, name: str) -> str:
        """A colour a template may name: the four above or a derived tone (see :class:`Tones`)."""
        return str(getattr(self if name in _BASE else tones(self), name))


_BASE = frozenset(("bg", "text", "accent", "surface"))

DEFAULT = Colors(bg="0a0a0f", text="f0f0f8", accent="6366f1", surface="13131a")

PALETTES: dict[str, Colors] = {
    # The dark default look.
    "midnight": Colors(bg="0b1020", text="eef1ff", accent="818cf8", surface="161d33"),
    # Light, editorial.
    "paper": Colors(bg="faf7f0", text="1c1917", accent="b45309", surface="efe8da"),
    "forest": Colors(bg="0f1f17", text="ecfdf3", accent="4ade80", surface="173326"),
    "sunset": Colors(bg="2a0f1f", text="fff1e6", accent="fb923c", surface="3d1630"),
    "ocean": Colors(bg="061a2b", text="e6f6ff", accent="38bdf8", surface="0c2a44"),
    # Neutral white and black.
    "light": Colors(bg="ffffff", text="111111", accent="2563eb", surface="f4f4f5"),
    "dark": Colors(bg="0a0a0a", text="f5f5f5", accent="a3a3a3", surface="171717"),
}

#: The text colours tried, in order, when a caller's background needs one (and vice versa).
_INK = ("111111", "fafafa")


@dataclass(frozen=True, slots=True)
class Tones:
    """Tones derived from the four colours, for templates (``{{muted}}`` etc.)."""

    #: Secondary text (descriptions, roles): the text colour moved towards the background.
    muted: str
    #: The accent as far as it can be used for text (labels, versions) — or as a solid fill
    #: under ``{{bg}}`` text: the accent moved towards the text colour until both hold AA.
    accentText: str
    #: An accent-washed backdrop for pills and tiles (text on it keeps AA).
    tint: str


def derive(
    base: Colors, *, bg: str | None, text: str | None, accent: str | None, surface: str | None
) -> Colors:
    """The effective colours: the caller's, then ``base``'s (palette or default), with what
    the caller left out derived from what they gave rather than taken from ``base``.

    A text colour missing next to a given background is ``base``'s when that keeps AA, else
    near-black or near-white; likewise a background for a given text. The surface is derived
    from background and text whenever either was given and the surface was not. A surface
    (given or not) is moved towards the background when text on it would fall below AA.
    """
    b, t = bg or base.bg, text or base.text
    if bg is not None and text is None and contrast(b, t) < AA:
        t = max(_INK, key=lambda c: contrast(b, c))
    if text is not None and bg is None and contrast(b, t) < AA:
        b = max(_INK, key=lambda c: contrast(t, c))
    s = surface or (base.surface if bg is None and text is None else _derived_surface(b, t))
    return Colors(bg=b, text=t, accent=accent or base.accent, surface=_safe_surface(b, t, s))


def _target(bg: str, text: str) -> float:
    """The contrast derived tones keep: a margin over AA, or what the caller's pair has."""
    return min(_TARGET, contrast(bg, text))


def _derived_surface(bg: str, text: str) -> str:
    """A raised surface: the background moved 5 % towards the text."""
    return mix(bg, text, 0.05)


def _safe_surface(bg: str, text: str, surface: str) -> str:
    """``surface``, moved towards ``bg`` just enough for text on it (and on the gradients
    between the two) to keep the target contrast."""
    target = _target(bg, text)
    for step in range(17):
        s = mix(surface, bg, step / 16)
        if all(contrast(text, c) >= target for c in _blends((bg, s))):
            return s
    return bg


@lru_cache(maxsize=4096)
def tones(c: Colors) -> Tones:
    """The derived tones of ``c`` (cached: the same colours come back render after render)."""
    target = _target(c.bg, c.text)
    # The tint: the surface washed with up to 16 % accent, as long as text on it keeps AA.
    tint = c.surface
    for step in range(16, -1, -2):
        candidate = mix(c.surface, c.accent, step / 100)
        if all(contrast(c.text, b) >= target for b in _blends((c.bg, c.surface, candidate))):
            tint = candidate
            break
    backdrops = _blends((c.bg, c.surface, tint))

    def holds(ink: str) -> bool:
        return all(contrast(ink, b) >= target for b in backdrops)

    # Muted: up to 30 % of the way to the background; the text itself always holds.
    muted = next((m for k in range(30, 0, -2) if holds(m := mix(c.text, c.bg, k / 100))), c.text)
    accent_text = next(
        (a for k in range(0, 101, 5) if holds(a := mix(c.accent, c.text, k / 100))), c.text
    )
    return Tones(muted=muted, accentText=accent_text, tint=tint)


def _blends(colors: tuple[str, ...]) -> list[str]:
    """``colors`` and a grid of their mixtures: what gradients and translucent layers of them
    put behind text (the luminance of a mixture can dip below both ends)."""
    out = set(colors)
    weights = [w for w in product(range(5), repeat=len(colors)) if sum(w) == 4]
    for w in weights:
        rgb = [
            sum(wi * _rgb(c)[ch] for wi, c in zip(w, colors, strict=True)) / 4 for ch in range(3)
        ]
        out.add("".join(f"{round(v):02x}" for v in rgb))
    return sorted(out)


def mix(a: str, b: str, t: float) -> str:
    """``a`` moved a fraction ``t`` of the way to ``b`` (sRGB channels, as a renderer blends)."""
    ra, rb = _rgb(a), _rgb(b)
    return "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ra, rb, strict=True))


@lru_cache(maxsize=16384)
def _rgb(hex6: str) -> tuple[int, int, int]:
    return int(hex6[0:2], 16), int(hex6[2:4], 16), int(hex6[4:6], 16)


_LINEAR = [
    (s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4)
    for s in (c / 255 for c in range(256))
]


@lru_cache(maxsize=16384)
def relative_luminance(hex6: str) -> float:
    """WCAG 2.x relative luminance of a 6-digit hex colour."""
    r, g, b = _rgb(hex6)
    return 0.2126 * _LINEAR[r] + 0.7152 * _LINEAR[g] + 0.0722 * _LINEAR[b]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
