"""Design-tool exports as they are (SPEC §5.1): what Inkscape, Illustrator and Figma write that
the sanitiser's checks would otherwise refuse, turned into the plain form they check.

- ``style="…"`` attributes and ``<style>`` rules with simple selectors (type, class, id, and
  compounds and lists of those) become presentation attributes, in CSS cascade order
  (presentation attribute < rule, by specificity then order < ``style``). The checks and the
  cost model (``rendering/cost.py``), which read attributes only, then see every property.
  Only presentation properties are accepted; a few that design tools write and that draw
  nothing (``line-height``, ``white-space``, vendor ``-inkscape-…``) are dropped; anything
  else — at-rules (``@import``, ``@font-face``…), other selectors, unknown properties, CSS
  escapes — is refused with its line. ``url()`` in a value is checked like any attribute's.
- Editor metadata is dropped: ``<metadata>`` and Inkscape/Sodipodi elements and attributes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass

from ogmint.rendering.sanitiser import OG_NS, SVG_NS, Document, TemplateLimits, local_name

#: CSS properties a template may set in ``style``: SVG presentation attributes of the same name.
PRESENTATION = frozenset(
    """
    alignment-baseline baseline-shift clip-path clip-rule color color-interpolation
    color-interpolation-filters color-rendering direction display dominant-baseline fill
    fill-opacity fill-rule filter flood-color flood-opacity font-family font-size
    font-size-adjust font-stretch font-style font-variant font-weight image-rendering isolation
    letter-spacing lighting-color mask mix-blend-mode opacity overflow paint-order
    shape-rendering stop-color stop-opacity stroke stroke-dasharray stroke-dashoffset
    stroke-linecap stroke-linejoin stroke-miterlimit stroke-opacity stroke-width text-anchor
    text-decoration text-rendering unicode-bidi visibility word-spacing writing-mode
    """.split()
)
#: Properties design tools write that the renderer does not use: dropped, not refused.
DROPPED = frozenset(
    """
    line-height text-align white-space enable-background font-variation-settings
    font-feature-settings font-variant-ligatures font-variant-caps font-variant-numeric
    font-variant-east-asian font-variant-alternates font-variant-position font-kerning
    """.split()
)
#: Namespaces of editor metadata: elements and attributes in them are dropped.
EDITOR_NAMESPACES = frozenset(
    {
        "http://www.inkscape.org/namespaces/inkscape",
        "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
    }
)
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_RULE = re.compile(r"([^{}]*)\{([^{}]*)\}")
_SELECTOR = re.compile(r"([a-zA-Z][\w-]*)?((?:[.#][a-zA-Z_-][\w-]*)*)")
_SIMPLE = re.compile(r"([.#])([\w-]+)")
_IMPORTANT = re.compile(r"\s*!\s*important\s*\Z", re.IGNORECASE)


class StyleError(ValueError):
    """A style attribute or rule that cannot be applied; says why."""


@dataclass(frozen=True, slots=True)
class _Selector:
    element: str | None
    classes: frozenset[str]
    id: str | None

    @property
    def specificity(self) -> tuple[int, int, int]:
        return (int(self.id is not None), len(self.classes), int(self.element is not None))

    def matches(self, el: ET.Element, classes: set[str]) -> bool:
        return (
            (self.element is None or local_name(el.tag) == (SVG_NS, self.element))
            and self.classes <= classes
            and (self.id is None or el.get("id") == self.id)
        )

    def key(self) -> str:
        """The index bucket: the id, else a class, else the element name."""
        if self.id is not None:
            return "#" + self.id
        if self.classes:
            return "." + min(self.classes)
        return self.element or ""


@dataclass(frozen=True, slots=True)
class _Rule:
    selector: _Selector
    order: int
    declarations: tuple[tuple[str, str], ...]


def normalise(doc: Document, limits: TemplateLimits) -> None:
    """Rewrites ``doc`` in place: styles into attributes, editor metadata out."""
    if sum(1 for _ in doc.root.iter()) > limits.max_elements:
        return  # refused by the sanitiser's count; not worth styling
    _drop_metadata(doc.root)
    rules: list[_Rule] = []
    for parent in list(doc.root.iter()):
        for el in list(parent):
            if local_name(el.tag) == (SVG_NS, "style"):
                if el.get("type", "text/css").strip().lower() != "text/css" or len(el):
                    raise doc.error(el, "only a text/css <style> without elements is allowed")
                try:
                    rules += parse_stylesheet("".join(el.itertext()), len(rules))
                except StyleError as e:
                    raise doc.error(el, str(e)) from e
                parent.remove(el)
    index: dict[str, list[_Rule]] = defaultdict(list)
    for rule in rules:
        index[rule.selector.key()].append(rule)
    for el in doc.root.iter():
        ns, element = local_name(el.tag)
        inline = el.attrib.pop("style", None)
        if ns == OG_NS:
            if inline is not None:
                raise doc.error(el, "og: elements take attributes, not style")
            continue
        classes = set((el.get("class") or "").split())
        buckets = [element, *("." + c for c in classes)]
        if el.get("id"):
            buckets.append("#" + el.get("id", ""))
        matched = sorted(
            (r for b in buckets for r in index.get(b, ()) if r.selector.matches(el, classes)),
            key=lambda r: (r.selector.specificity, r.order),
        )
        try:
            declared = [d for r in dict.fromkeys(matched) for d in r.declarations]
            if inline is not None:
                declared += parse_declarations(inline)
        except StyleError as e:
            raise doc.error(el, str(e)) from e
        for name, value in declared:
            el.set(name, value)


def _drop_metadata(root: ET.Element) -> None:
    for parent in root.iter():
        for child in list(parent):
            ns, local = local_name(child.tag)
            if ns in EDITOR_NAMESPACES or (ns == SVG_NS and local == "metadata"):
                parent.remove(child)
        for key in [k for k in parent.attrib if local_name(k)[0] in EDITOR_NAMESPACES]:
            del parent.attrib[key]


def parse_stylesheet(css: str, first: int = 0) -> list[_Rule]:
    """The rules of a stylesheet of simple selectors and presentation properties."""
    css = _COMMENT.sub(" ", css).replace("<!--", " ").replace("-->", " ")
    if "@" in css:
        raise StyleError("at-rules (@import, @font-face, @media…) are not allowed in <style>")
    if "\\" in css:
        raise StyleError("CSS escapes are not allowed in <style>")
    rules: list[_Rule] = []
    end = 0
    for m in _RULE.finditer(css):
        if css[end : m.start()].strip():
            raise StyleError(f"cannot read {css[end : m.start()].strip()[:40]!r}")
        end = m.end()
        declarations = tuple(parse_declarations(m.group(2)))
        for text in m.group(1).split(","):
            rules.append(_Rule(_selector(text.strip()), first + len(rules), declarations))
    if css[end:].strip():
        raise StyleError(f"cannot read {css[end:].strip()[:40]!r}")
    return rules


def _selector(text: str) -> _Selector:
    m = _SELECTOR.fullmatch(text)
    if not text or m is None:
        raise StyleError(
            f"selector {text[:40]!r} is not allowed (only type, class and id selectors)"
        )
    ids = [name for kind, name in _SIMPLE.findall(m.group(2)) if kind == "#"]
    if len(set(ids)) > 1:
        raise StyleError(f"selector {text[:40]!r} names two ids")
    return _Selector(
        element=m.group(1),
        classes=frozenset(n for k, n in _SIMPLE.findall(m.group(2)) if k == "."),
        id=ids[0] if ids else None,
    )


def parse_declarations(text: str) -> list[tuple[str, str]]:
    """``name: value`` pairs of presentation properties (others refused, inert ones dropped)."""
    if "\\" in text:
        raise StyleError("CSS escapes are not allowed in style")
    out = []
    for part in _split(text):
        if not part.strip():
            continue
        name, colon, value = part.partition(":")
        name = name.strip().lower()
        value = _IMPORTANT.sub("", value).strip()
        if not colon or not name:
            raise StyleError(f"cannot read style declaration {part.strip()[:40]!r}")
        if name.startswith("-") or name in DROPPED:
            continue  # vendor metadata or a property the renderer does not use
        if name not in PRESENTATION:
            raise StyleError(f"style property {name!r} is not allowed")
        if not value:
            raise StyleError(f"style property {name!r} has no value")
        out.append((name, value))
    return out


def _split(text: str) -> list[str]:
    """Splits declarations at ``;`` outside quotes and parentheses (font names, url())."""
    parts, start, depth, quote = [], 0, 0, ""
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == ";" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts
