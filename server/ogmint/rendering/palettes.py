"""Built-in colour palettes. Every palette keeps text/background contrast at WCAG AA or better."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Colors:
    """The four effective colours of a render, as lower-case 6-digit hex without '#'."""

    bg: str
    text: str
    accent: str
    surface: str


DEFAULT = Colors(bg="0a0a0f", text="f0f0f8", accent="6366f1", surface="13131a")

PALETTES: dict[str, Colors] = {
    # The dark default look.
    "midnight": Colors(bg="0b1020", text="eef1ff", accent="818cf8", surface="161d33"),
    # Light, editorial.
    "paper": Colors(bg="faf7f0", text="1c1917", accent="b45309", surface="efe8da"),
    "forest": Colors(bg="0f1f17", text="ecfdf3", accent="4ade80", surface="173326"),
    "sunset": Colors(bg="2a0f1f", text="fff1e6", accent="fb923c", surface="3d1630"),
    "ocean": Colors(bg="061a2b", text="e6f6ff", accent="38bdf8", surface="0c2a44"),
}


def relative_luminance(hex6: str) -> float:
    """WCAG 2.x relative luminance of a 6-digit hex colour."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex6[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
