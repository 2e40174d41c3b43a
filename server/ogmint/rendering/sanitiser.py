"""The template sanitiser: customer SVG is hostile input (SPEC §5.1, §7).

Everything here runs before a template is compiled, on built-ins and uploads alike: parsing
without DTDs, entities or processing instructions (keeping each element's line for errors),
then bounds on what the document would make the renderer do — ``<use>`` and ``url(#…)``
references expanded as the renderer would (instances counted, cycles refused), transforms'
accumulated scale, filters (count, region, blur), gradient stops, geometry numbers, dashes and
strokes — and, for uploads only, embedded ``data:`` images (PNG/JPEG, pixel-bounded,
re-encoded). Errors name the element and its line.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.parsers import expat

from PIL import Image

from ogmint.rendering.cost import Cost, CostExceeded, CostLimits, Inherited

SVG_NS = "http://www.w3.org/2000/svg"
OG_NS = "https://ogmint.dev/ns/template"
XLINK_NS = "http://www.w3.org/1999/xlink"
WIDTH, HEIGHT = 1200, 630
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)
#: A DOCTYPE line as design tools write it, in the prolog, without an internal subset: it
#: declares nothing, so it is dropped (its newlines kept, so lines stay right).
_LITERAL = r"""(?:"[^"<>\[\]]*"|'[^'<>\[\]]*')"""
_BARE_DOCTYPE = re.compile(
    r"\A((?:\s*<\?xml[^>]*\?>)?(?:\s*<!--(?:(?!-->).)*-->)*\s*)"
    rf"(<!DOCTYPE\s+svg(?:\s+PUBLIC\s+{_LITERAL}\s+{_LITERAL}|\s+SYSTEM\s+{_LITERAL})?\s*>)",
    re.DOTALL,
)
_ENCODING = re.compile(r"""^\s*<\?xml[^>]*encoding\s*=\s*["']([^"']*)["']""")
#: A root ``width``/``height``: a number and its unit, if any (only ``px`` is accepted).
_ROOT_LENGTH = re.compile(r"\s*(?P<number>\d+(?:\.\d*)?)\s*(?P<unit>[a-zA-Z%]*)\s*")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_URL_REF = re.compile(r"url\(\s*['\"]?([^)'\"]*)", re.IGNORECASE)
_TRANSFORM = re.compile(r"([a-zA-Z]+)\s*\(([^)]*)\)")
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg);base64,([A-Za-z0-9+/=\s]*)\Z")
#: What in an attribute value is not a number although it may contain digits: references,
#: hex colours and colour placeholders (the numeric checks look at everything else).
_NOT_NUMBERS = re.compile(
    r"url\([^)]*\)|#[0-9a-fA-F]{3,8}(?![0-9a-zA-Z_-])|\{\{(?:bg|text|accent|surface)\}\}"
)
#: Attributes whose values are names or references, not geometry.
_NOT_GEOMETRY = frozenset({"id", "href", "class", "font-family", "font-weight"})
#: What a ``url(#id)`` reference draws again where it is used (gradients are just paint).
_DRAWN_AGAIN = frozenset({"pattern", "clipPath", "mask", "filter", "marker", "symbol"})
#: Elements whose content is drawn only where they are referenced.
_DEFINITIONS = frozenset(
    "defs symbol clipPath mask pattern marker filter linearGradient radialGradient".split()
)
_FILTER_PRIMITIVES = frozenset(
    "feGaussianBlur feOffset feFlood feComposite feMerge feBlend feColorMatrix".split()
)


class TemplateError(ValueError):
    """The template document is invalid or unsafe; says what and, when known, where."""

    def __init__(self, message: str, element: str | None = None, line: int | None = None):
        self.reason = message
        self.element = element
        self.line = line
        where = ", ".join(
            p for p in (f"line {line}" if line else "", f"<{element}>" if element else "") if p
        )
        super().__init__(f"{where}: {message}" if where else message)


class TemplateTooLarge(TemplateError):
    """The source is over the size bound (the API answers 413)."""


@dataclass(frozen=True, slots=True)
class TemplateLimits:
    """The bounds a template must stay within; each is a setting (``OGMINT_TEMPLATE_*``)."""

    max_bytes: int = 256 * 1024
    max_elements: int = 2000
    max_depth: int = 24
    #: Elements the renderer would draw after expanding every ``<use>`` and ``url(#…)``.
    max_instances: int = 5000
    max_filters: int = 8
    #: A hard cap; the cost model (``cost.max_filter_work``) bounds what they cost.
    max_filter_primitives: int = 24
    #: Largest filter region, in multiples of the element's box (or of the canvas).
    max_filter_region: float = 3.0
    max_blur: float = 40.0
    max_stops: int = 32
    #: Largest accumulated scale of transforms and the root viewBox.
    max_scale: float = 16.0
    #: Largest absolute value of any number in a geometry attribute.
    max_number: float = 100_000.0
    max_stroke_width: float = 500.0
    max_dashes: int = 16
    min_dash_period: float = 2.0
    max_images: int = 4
    max_image_pixels: int = 2_000_000
    #: The static cost model's bounds (``rendering/cost.py``).
    cost: CostLimits = field(default_factory=CostLimits)


def local_name(tag: str) -> tuple[str, str]:
    ns, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return ns, local


class Document:
    """A parsed template: the element tree and each element's line."""

    def __init__(self, root: ET.Element, lines: dict[int, int]) -> None:
        self.root = root
        self._lines = lines

    def line(self, el: ET.Element) -> int | None:
        return self._lines.get(id(el))

    def error(self, el: ET.Element, message: str) -> TemplateError:
        ns, local = local_name(el.tag)
        return TemplateError(message, f"og:{local}" if ns == OG_NS else local, self.line(el))


def parse(source: bytes, limits: TemplateLimits) -> Document:
    """UTF-8 XML without DTD, entities or processing instructions, within the size bound."""
    if len(source) > limits.max_bytes:
        raise TemplateTooLarge(f"template is larger than {limits.max_bytes} bytes")
    try:
        # UTF-8 only: a check on bytes could be dodged with another encoding (UTF-16).
        text = source.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TemplateError(f"template must be UTF-8 (invalid byte at offset {e.start})") from e
    declared = _ENCODING.match(text)
    if declared and declared.group(1).lower().replace("_", "-") not in {"utf-8", "utf8"}:
        raise TemplateError(f"template must be UTF-8, not {declared.group(1)!r}", line=1)
    text = drop_doctype(text)
    if _DTD.search(text):
        raise TemplateError("DTDs and entities are not allowed")
    builder = ET.TreeBuilder()
    lines: dict[int, int] = {}
    parser = expat.ParserCreate(namespace_separator="}")

    def qname(name: str) -> str:
        return "{" + name if "}" in name else name

    def start(name: str, attrs: dict[str, str]) -> None:
        el = builder.start(qname(name), {qname(k): v for k, v in attrs.items()})
        lines[id(el)] = parser.CurrentLineNumber

    def refuse(what: str) -> None:
        raise TemplateError(f"{what} are not allowed", line=parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: builder.end(qname(name))
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = lambda *_: refuse("DTDs")
    parser.EntityDeclHandler = lambda *_: refuse("entities")
    parser.ProcessingInstructionHandler = lambda *_: refuse("processing instructions")
    parser.ExternalEntityRefHandler = lambda *_: refuse("external entities")  # type: ignore[assignment]
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(text, True)
    except expat.ExpatError as e:
        raise TemplateError(
            f"not well-formed XML: {expat.errors.messages[e.code]}", line=e.lineno
        ) from e
    except RecursionError as e:  # pragma: no cover - expat itself is iterative
        raise TemplateError("elements nested too deeply") from e
    return Document(builder.close(), lines)


def drop_doctype(text: str) -> str:
    """``text`` without a bare ``<!DOCTYPE svg …>`` in its prolog (one with an internal
    subset, or anywhere else, is left for the DTD check to refuse)."""
    m = _BARE_DOCTYPE.match(text)
    if m is None:
        return text
    return m.group(1) + "\n" * m.group(2).count("\n") + text[m.end() :]


def check_document(
    doc: Document, limits: TemplateLimits, canvas: tuple[int, int] = (WIDTH, HEIGHT)
) -> None:
    """The whole-document bounds: size of canvas, element count, and the expanded references.

    ``canvas`` is the size the document must declare: 1200×630, or an aspect layout's
    (``rendering/sizes.py``)."""
    root = doc.root
    if root.tag != f"{{{SVG_NS}}}svg":
        raise doc.error(root, "root element must be <svg> in the SVG namespace")
    width, height = canvas
    for attr, want in (("width", width), ("height", height)):
        _root_length(doc, attr, want, canvas)
    elements = sum(1 for _ in root.iter())
    if elements > limits.max_elements:
        raise doc.error(root, f"template has {elements} elements, more than {limits.max_elements}")
    _check_depth(doc, limits)
    filters = [el for el in root.iter() if local_name(el.tag)[1] == "filter"]
    if len(filters) > limits.max_filters:
        raise doc.error(filters[limits.max_filters], f"more than {limits.max_filters} filters")
    scale = 1.0
    box = root.get("viewBox")
    if box is not None:
        numbers = _numbers(box)
        if len(numbers) != 4 or numbers[2] <= 0 or numbers[3] <= 0:
            raise doc.error(root, "viewBox must be four numbers with a positive width and height")
        scale = max(width / numbers[2], height / numbers[3])
    _Expansion(doc, limits, canvas).walk(root, scale, 0)


def _root_length(doc: Document, attr: str, want: int, canvas: tuple[int, int]) -> None:
    """The root's ``attr`` must say ``want`` pixels: a plain number, or with ``px`` as
    Illustrator writes it (``1200px``), which is normalised to the plain number so the rest of
    the pipeline reads one form; any other unit (``pt``, ``mm``, ``%``…) is refused by name."""
    root = doc.root
    raw = root.get(attr)
    m = _ROOT_LENGTH.fullmatch(raw or "")
    if m is not None and m["unit"] not in {"", "px"}:
        raise doc.error(
            root,
            f"root <svg> {attr}={raw!r}: only px units (or none) are allowed; "
            f"export at width={canvas[0]} height={canvas[1]} pixels",
        )
    if m is None or float(m["number"]) != want:
        raise doc.error(root, f"root <svg> must have width={canvas[0]} height={canvas[1]}")
    root.set(attr, str(want))


def _check_depth(doc: Document, limits: TemplateLimits) -> None:
    stack = [(doc.root, 0)]
    while stack:  # iterative: the document is not trusted to be shallow
        el, depth = stack.pop()
        if depth > limits.max_depth:
            raise doc.error(el, f"elements nested deeper than {limits.max_depth}")
        stack.extend((child, depth + 1) for child in el)


def check_attribute(
    doc: Document, el: ET.Element, name: str, value: str, limits: TemplateLimits, custom: bool
) -> None:
    """Refuses event handlers, styles, references leaving the document, absurd geometry."""
    element = local_name(el.tag)[1]
    lname = name.lower()
    if lname.startswith("on") or lname == "style":
        raise doc.error(el, f"attribute {name!r} is not allowed")
    if lname == "href":
        if value.startswith("#"):
            return
        if custom and element == "image" and value.startswith("data:"):
            return  # checked and re-encoded by embedded_image
        raise doc.error(el, "href may only reference elements in the template")
    for ref in _URL_REF.findall(value):
        if not ref.startswith("#"):
            raise doc.error(el, f"url() in {name!r} may only reference elements in the template")
    if lname in _NOT_GEOMETRY:
        return
    # Placeholders are colours: they never hide a number from the checks below.
    numbers = _numbers(_NOT_NUMBERS.sub(" ", value))
    if lname == "stddeviation" and any(n > limits.max_blur for n in numbers):
        raise doc.error(el, f"blur larger than {limits.max_blur:g} is not allowed")
    if any(abs(n) > limits.max_number for n in numbers):
        raise doc.error(el, f"{name}: numbers beyond ±{limits.max_number:g} are not allowed")
    if lname == "stroke-width" and numbers and numbers[0] > limits.max_stroke_width:
        raise doc.error(el, f"stroke-width larger than {limits.max_stroke_width:g}")
    if lname == "stroke-dasharray" and numbers and any(n > 0 for n in numbers):
        if len(numbers) > limits.max_dashes:
            raise doc.error(el, f"stroke-dasharray has more than {limits.max_dashes} values")
        # Dashes cost per period along the path: tiny periods explode, dots (0 + gap) do not.
        if any(n < 0 for n in numbers) or sum(numbers) < limits.min_dash_period:
            raise doc.error(
                el, f"stroke-dasharray must repeat every {limits.min_dash_period:g} units or more"
            )
    if element == "pattern" and lname in {"width", "height"} and numbers:
        units = el.get("patternUnits", "objectBoundingBox")
        smallest = 1.0 if units == "userSpaceOnUse" else 0.01
        if numbers[0] < smallest and not value.strip().endswith("%"):
            raise doc.error(el, f"pattern {name} smaller than {smallest:g}")


def check_element(
    doc: Document, el: ET.Element, limits: TemplateLimits, canvas: tuple[int, int] = (WIDTH, HEIGHT)
) -> None:
    """Per-element bounds: gradient stops, filter primitives and region (``canvas``: the
    document's size)."""
    element = local_name(el.tag)[1]
    if element in {"linearGradient", "radialGradient"}:
        stops = sum(1 for c in el if local_name(c.tag)[1] == "stop")
        if stops > limits.max_stops:
            raise doc.error(el, f"gradient has {stops} stops, more than {limits.max_stops}")
    if element == "filter":
        primitives = sum(1 for c in el if local_name(c.tag)[1] in _FILTER_PRIMITIVES)
        if primitives > limits.max_filter_primitives:
            raise doc.error(el, f"filter has more than {limits.max_filter_primitives} primitives")
        user_space = el.get("filterUnits") == "userSpaceOnUse"
        for attr, side in zip(("width", "height"), canvas, strict=True):
            raw = el.get(attr)
            if raw is None:
                continue
            numbers = _numbers(raw)
            if not numbers:
                continue
            n = numbers[0] / 100 if raw.strip().endswith("%") else numbers[0]
            bound = limits.max_filter_region * (
                side if user_space and not raw.strip().endswith("%") else 1
            )
            if n > bound:
                raise doc.error(el, f"filter region {attr}={raw!r} is larger than allowed")


def embedded_image(doc: Document, el: ET.Element, href: str, limits: TemplateLimits) -> str:
    """A ``data:`` PNG/JPEG checked (type from the bytes, decoded size) and re-encoded as PNG."""
    m = _DATA_IMAGE.match(href)
    if m is None:
        raise doc.error(el, "images must be data:image/png or data:image/jpeg base64 URLs")
    try:
        raw = base64.b64decode(re.sub(r"\s", "", m.group(2)), validate=True)
    except (binascii.Error, ValueError) as e:
        raise doc.error(el, "image data is not valid base64") from e
    kind = (
        "png"
        if raw.startswith(b"\x89PNG\r\n\x1a\n")
        else "jpeg"
        if raw[:3] == b"\xff\xd8\xff"
        else ""
    )
    if kind != m.group(1):
        raise doc.error(el, f"image data is not a {m.group(1).upper()} file")
    try:
        with Image.open(io.BytesIO(raw), formats=[kind.upper()]) as img:
            width, height = img.size
            if width * height > limits.max_image_pixels:
                raise doc.error(
                    el, f"image of {width}×{height} pixels is larger than {limits.max_image_pixels}"
                )
            img.load()
            out = io.BytesIO()
            img.convert("RGBA").save(out, "PNG")
    except TemplateError:
        raise
    except Image.DecompressionBombError as e:
        raise doc.error(el, "image is a decompression bomb (too many pixels to decode)") from e
    except (OSError, ValueError, SyntaxError) as e:
        raise doc.error(el, "image data could not be decoded") from e
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


class _Expansion:
    """Walks the document as the renderer draws it: every ``<use>`` and ``url(#id)`` target
    again at each reference, so fan-out and recursion are seen, bounded by a visit count."""

    def __init__(self, doc: Document, limits: TemplateLimits, canvas: tuple[int, int]) -> None:
        self.doc = doc
        self.limits = limits
        self.canvas = canvas
        self.ids = {i: el for el in doc.root.iter() if (i := el.get("id"))}
        self.visits = 0
        self.active: set[int] = set()
        self.cost = Cost(limits.cost, canvas, self.ids)
        #: Each element's references, found once: a fan-out must not rescan long attributes.
        self._targets: dict[int, list[ET.Element]] = {}

    def targets(self, el: ET.Element) -> list[ET.Element]:
        """What ``el`` draws again: its ``href`` target (``<use>``, and the templates a
        pattern or gradient inherits), and each ``url(#id)`` that draws content."""
        known = self._targets.get(id(el))
        if known is None:
            known = self._targets[id(el)] = self._find_targets(el)
        return known

    def _find_targets(self, el: ET.Element) -> list[ET.Element]:
        found = []
        for key, value in el.attrib.items():
            if local_name(key)[1] == "href":
                target = self.ids.get(value[1:]) if value.startswith("#") else None
                found += [target] if target is not None else []
                continue
            for ref in _URL_REF.findall(value):
                target = self.ids.get(ref[1:]) if ref.startswith("#") else None
                if target is not None and local_name(target.tag)[1] in _DRAWN_AGAIN:
                    found.append(target)
        return found

    def walk(
        self,
        el: ET.Element,
        scale: float,
        depth: int,
        inherited: Inherited = Inherited(),  # noqa: B008 - frozen
        via: ET.Element | None = None,
        drawn: bool = True,
    ) -> None:
        """Visits ``el`` at ``scale``, with what it inherits; ``via`` is the element that
        references it (a ``<use>`` sizes the viewport of the ``<symbol>`` it draws). Content
        that is only a definition where it stands (in ``<defs>``, a ``<symbol>``…) is checked
        but costs nothing there: it is counted where it is referenced."""
        doc, limits = self.doc, self.limits
        self.visits += 1
        if self.visits > limits.max_instances:
            raise doc.error(
                el, f"references expand to more than {limits.max_instances} drawn elements"
            )
        if depth > limits.max_depth * 4:
            raise doc.error(el, "references nested too deeply")
        key = id(el)
        if key in self.active:
            raise doc.error(el, f"recursive reference to #{el.get('id')}")
        ns, element = local_name(el.tag)
        # A gradientTransform only maps paint coordinates (design tools scale unit gradients
        # by hundreds); it draws nothing larger, so it is not a zoom.
        for attr in ("transform", "patternTransform"):
            value = el.get(attr)
            if value is not None:
                scale *= _transform_scale(doc, el, value)
        if el is not doc.root:
            scale *= self._viewport_zoom(el, element, via)
        if scale > limits.max_scale:
            raise doc.error(el, f"transforms and viewports scale by more than {limits.max_scale:g}")
        if element == "feGaussianBlur":
            deviation = max(_numbers(el.get("stdDeviation", "0")) or [0.0])
            if deviation * scale > limits.max_blur:
                raise doc.error(el, f"blur larger than {limits.max_blur:g} once scaled")
        inherited = inherited.child(el)
        try:
            if drawn and ns == SVG_NS:  # og: elements: the renderer's own text and images
                self.cost.visit(el, element, scale, inherited)
        except CostExceeded as e:
            raise doc.error(el, str(e)) from e
        self.active.add(key)
        children_drawn = drawn and not (element in _DEFINITIONS and via is None)
        for child in el:
            self.walk(child, scale, depth + 1, inherited, drawn=children_drawn)
        # A <use> passes on what it inherits; paint servers and effects start afresh.
        passed = inherited if element == "use" else Inherited()
        for target in self.targets(el):
            self.walk(target, scale, depth + 1, passed, el)
        self.active.discard(key)

    def _viewport_zoom(self, el: ET.Element, element: str, via: ET.Element | None) -> float:
        """How much a nested ``<svg>``, a ``<symbol>`` or a ``<pattern>`` with a viewBox
        magnifies its content: its viewport over its viewBox (a viewport the document does
        not size counts as the canvas)."""
        box = el.get("viewBox")
        if element not in {"svg", "symbol", "pattern"} or box is None:
            return 1.0
        numbers = _numbers(box)
        if len(numbers) != 4 or numbers[2] <= 0 or numbers[3] <= 0:
            raise self.doc.error(
                el, "viewBox must be four numbers with a positive width and height"
            )
        if element == "symbol" and via is None:
            return 1.0  # a definition: drawn (and sized) only by the <use>s reaching it
        sized = via if element == "symbol" and via is not None else el
        bounding_box = element == "pattern" and el.get("patternUnits") != "userSpaceOnUse"

        def side(attr: str, canvas: int) -> float:
            raw = (sized.get(attr) or "").strip()
            found = _numbers(raw)
            if bounding_box or not found or raw.endswith("%"):
                return float(canvas)
            return abs(found[0])

        width, height = self.canvas
        return max(side("width", width) / numbers[2], side("height", height) / numbers[3])


def _transform_scale(doc: Document, el: ET.Element, value: str) -> float:
    scale = 1.0
    for name, args in _TRANSFORM.findall(value):
        n = _numbers(args)
        if name == "matrix" and len(n) == 6:
            scale *= max(math.hypot(n[0], n[1]), math.hypot(n[2], n[3]), 1.0)
        elif name == "scale" and n:
            scale *= max(abs(v) for v in n[:2])
        elif name in {"skewX", "skewY"} and n:
            if abs(n[0]) % 180 > 80 and abs(n[0]) % 180 < 100:
                raise doc.error(el, f"{name}({n[0]:g}) is too steep")
            scale *= 1 + abs(math.tan(math.radians(n[0])))
        elif name not in {"translate", "rotate", "matrix", "scale"}:
            raise doc.error(el, f"unknown transform {name!r}")
    return scale


def _numbers(value: str) -> list[float]:
    return [float(n) for n in _NUMBER.findall(value)]
