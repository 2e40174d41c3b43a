"""The static cost model of a template (SPEC §5.1, §7): what rendering it would cost, estimated
from the document alone, before anything is rendered.

The sanitiser's walk (``sanitiser._Expansion``) visits every element as many times as the
renderer draws it (``<use>`` and ``url(#…)`` fan-out included) with the scale it is drawn at;
:class:`Cost` adds up, per visit, what the renderer's time grows with:

- filters: each application's region in device pixels × its primitives (merge nodes count as
  primitives; blurs weigh more, small ones most: resvg blurs those with a slower IIR filter);
- painted pixels: each shape's box clipped to the canvas, weighted for gradient/pattern paint
  and for the layer an isolated group (opacity, clip, mask, filter) is drawn into;
- dash segments: each dashed outline's length ÷ its dash period × the values per period;
- outline segments: each path's (and polyline's) segments, as often as it is drawn;
- static text: characters drawn by ``<text>``.

Geometry is estimated from the attributes (shapes, path data, transforms); what cannot be
estimated (text, percentages of unknown boxes) counts as the whole canvas. The weights were
measured on the renderer (``bench/RESULTS.md``, "Template cost model").

The bounds hold at the document's own canvas (an aspect layout's is its own, 1080×1920 for
``tall``); a larger output (``scale``, a bigger ``WIDTHxHEIGHT``) multiplies the work by its
pixels over the canvas's, and the render deadline grows with them the same way
(``sizes.timeout_for``), so what passes here fits its deadline at every size alike.
"""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

#: A box ``(x0, y0, x1, y1)`` in some user space.
Box = tuple[float, float, float, float]
Matrix = tuple[float, float, float, float, float, float]

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_TRANSFORM = re.compile(r"([a-zA-Z]+)\s*\(([^)]*)\)")
_PATH_TOKEN = re.compile(r"([MmLlHhVvCcSsQqTtAaZz])|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")
_FLAG = re.compile(r"\s*,?\s*([01])")
#: Values per path command (arcs: rx ry rotation large-arc sweep x y).
_ARITY = {"m": 2, "l": 2, "h": 1, "v": 1, "c": 6, "s": 4, "q": 4, "t": 2, "a": 7, "z": 0}
SHAPES = frozenset("rect circle ellipse line polyline polygon path image".split())
#: Extra filter cost of a blur over other primitives: resvg blurs with a box blur above this
#: deviation (in device pixels) and with a slower IIR filter at or below it.
BOX_BLUR_ABOVE = 2.0
BOX_BLUR_WEIGHT = 2.0
IIR_BLUR_WEIGHT = 10.0
#: Painted-pixel weights relative to a translucent solid fill.
PAINT_SERVER_WEIGHT = 10.0
LAYER_WEIGHT = 8.0
#: resvg clips a filtered layer to 5 × the canvas on each side.
LAYER_SIDES = 5


@dataclass(frozen=True, slots=True)
class CostLimits:
    """The cost model's bounds; each is a setting (``OGMINT_TEMPLATE_*``)."""

    #: Σ filter applications × region (megapixels) × weighted primitives.
    max_filter_work: float = 12.0
    #: ``<feMergeNode>``s in one ``<feMerge>``.
    max_merge_nodes: int = 16
    #: Σ painted pixels (weighted), in canvases.
    max_paint: float = 200.0
    #: Σ dash segments over every dashed outline drawn.
    max_dash_segments: int = 100_000
    #: Σ segments of every path and polyline drawn.
    max_path_segments: int = 200_000
    #: Σ characters of static ``<text>`` drawn.
    max_text_chars: int = 2_000


class CostExceeded(ValueError):
    """A cost bound was crossed; the message says which and by how much."""


@dataclass(frozen=True, slots=True)
class Inherited:
    """Properties a visit inherits from its ancestors (and from the ``<use>`` drawing it)."""

    #: ``(period, values)`` of the stroke-dasharray in force, or None.
    dashes: tuple[float, int] | None = None
    #: Whether fill, or stroke, is a paint server (``url(#…)``: gradient, pattern).
    fill_server: bool = False
    stroke_server: bool = False

    @property
    def paint_server(self) -> bool:
        return self.fill_server or self.stroke_server

    def child(self, el: ET.Element) -> Inherited:
        """What ``el`` and its content inherit: its own attributes over this."""
        dashes = self.dashes
        raw = el.get("stroke-dasharray")
        if raw is not None:
            values = [abs(n) for n in numbers(raw)]
            if len(values) % 2:
                values *= 2  # an odd list repeats to make an even one
            dashes = (sum(values), len(values)) if values and sum(values) > 0 else None
        fill, stroke = el.get("fill"), el.get("stroke")
        return Inherited(
            dashes,
            self.fill_server if fill is None else "url(" in fill,
            self.stroke_server if stroke is None else "url(" in stroke,
        )


class Cost:
    """What drawing a document costs, added up visit by visit; raises :class:`CostExceeded`
    as soon as a bound is crossed."""

    def __init__(self, limits: CostLimits, canvas: tuple[int, int], ids: dict[str, ET.Element]):
        self.limits = limits
        self.width, self.height = canvas
        self.ids = ids
        self.filter_work = 0.0
        self.paint = 0.0
        self.dash_segments = 0.0
        self.path_segments = 0
        self.text_chars = 0
        self._boxes: dict[int, Box | None] = {}
        #: Per element, as for boxes: a <use> fan-out must not parse the same path again.
        self._lengths: dict[int, float] = {}
        self._segment_counts: dict[int, int] = {}

    # -- visits -------------------------------------------------------------------------------
    def visit(self, el: ET.Element, element: str, scale: float, inherited: Inherited) -> None:
        """Counts one drawing of ``el`` at ``scale`` (device pixels per user unit)."""
        if element in SHAPES:
            self._paint(self.box(el), scale, PAINT_SERVER_WEIGHT if inherited.paint_server else 0)
            if element in {"path", "polyline", "polygon"}:
                self._segments(el, element)
            if inherited.dashes is not None and element != "image":
                self._dashes(el, element, inherited.dashes)
        elif element == "text":
            self.text_chars += sum(len(t.strip()) for t in el.itertext())
            if self.text_chars > self.limits.max_text_chars:
                raise CostExceeded(
                    f"static text of more than {self.limits.max_text_chars} characters"
                )
            self._paint(None, scale, 0)
        isolated = (
            el.get("clip-path") is not None
            or el.get("mask") is not None
            or _opacity(el.get("opacity")) < 1
        )
        filter_ref = _url_id(el.get("filter"))
        if isolated or filter_ref is not None:
            self._paint(self.box(el), scale, LAYER_WEIGHT - 1)
        if filter_ref is not None and (target := self.ids.get(filter_ref)) is not None:
            self._filter(el, target, scale)

    def _paint(self, box: Box | None, scale: float, extra: float) -> None:
        canvas = self.width * self.height
        area = canvas if box is None else (box[2] - box[0]) * (box[3] - box[1]) * scale * scale
        self.paint += min(area, canvas) / canvas * (1 + extra)
        if self.paint > self.limits.max_paint:
            raise CostExceeded(
                f"paints more than {self.limits.max_paint:g} canvases of pixels "
                "(large shapes, gradients and layers drawn many times)"
            )

    def _segments(self, el: ET.Element, element: str) -> None:
        count = self._segment_counts.get(id(el))
        if count is None:
            if element == "path":
                count = len(_PATH_TOKEN.findall(el.get("d", "")))  # ≥ its segments
            else:
                count = len(numbers(el.get("points", ""))) // 2
            self._segment_counts[id(el)] = count
        self.path_segments += count
        if self.path_segments > self.limits.max_path_segments:
            raise CostExceeded(
                f"draws more than {self.limits.max_path_segments} path segments "
                "(long paths drawn many times)"
            )

    def _dashes(self, el: ET.Element, element: str, dashes: tuple[float, int]) -> None:
        period, values = dashes
        length = self._lengths.get(id(el))
        if length is None:
            length = self._lengths[id(el)] = outline_length(el, element)
        self.dash_segments += length / period * values
        if self.dash_segments > self.limits.max_dash_segments:
            raise CostExceeded(
                f"dashed outlines draw more than {self.limits.max_dash_segments} dash segments"
            )

    def _filter(self, el: ET.Element, flt: ET.Element, scale: float) -> None:
        width, height = self._filter_region(el, flt, scale)
        work = 1.0  # the source graphic's layer and the result's composition
        for primitive in flt:
            name = _local(primitive.tag)
            if name == "feMerge":
                merged = sum(1 for n in primitive if _local(n.tag) == "feMergeNode")
                if merged > self.limits.max_merge_nodes:
                    raise CostExceeded(
                        f"<feMerge> has {merged} nodes, more than {self.limits.max_merge_nodes}"
                    )
                work += 1 + merged
            elif name == "feGaussianBlur":
                deviation = min(numbers(primitive.get("stdDeviation", "0")) or [0.0]) * scale
                work += 1 + (BOX_BLUR_WEIGHT if deviation > BOX_BLUR_ABOVE else IIR_BLUR_WEIGHT)
            elif name.startswith("fe"):
                work += 1
        self.filter_work += width * height / 1e6 * work
        if self.filter_work > self.limits.max_filter_work:
            raise CostExceeded(
                f"filters cost {self.filter_work:.1f} megapixel-primitives, more than "
                f"{self.limits.max_filter_work:g} (smaller regions, fewer primitives or uses)"
            )

    def _filter_region(self, el: ET.Element, flt: ET.Element, scale: float) -> tuple[float, float]:
        """The filter region's size in device pixels, clipped as resvg clips it."""
        user_space = flt.get("filterUnits") == "userSpaceOnUse"
        sides = []
        for attr, default, canvas_side, axis in (
            ("width", 1.2, self.width, 0),
            ("height", 1.2, self.height, 1),
        ):
            raw = (flt.get(attr) or "").strip()
            value = (numbers(raw) or [default])[0]
            percent = raw.endswith("%")
            if user_space:
                side = value / 100 * canvas_side if percent else value
                device = abs(side) * scale
            else:
                fraction = value / 100 if percent else value
                box = self.box(el)
                extent = canvas_side / scale if box is None else box[axis + 2] - box[axis]
                device = abs(fraction) * extent * scale
            sides.append(min(device, LAYER_SIDES * canvas_side))
        return sides[0], sides[1]

    # -- geometry -----------------------------------------------------------------------------
    def box(self, el: ET.Element) -> Box | None:
        """The box ``el`` draws in its own user space (before its transform), or None when it
        cannot be estimated."""
        key = id(el)
        if key not in self._boxes:
            self._boxes[key] = None  # a reference cycle (refused elsewhere) estimates nothing
            self._boxes[key] = self._box(el)
        return self._boxes[key]

    def _box(self, el: ET.Element) -> Box | None:
        element = _local(el.tag)
        n = self._length
        if element in {"rect", "image"}:
            x, y = n(el, "x", 0), n(el, "y", 0)
            return (x, y, x + n(el, "width", 0), y + n(el, "height", 0))
        if element in {"circle", "ellipse"}:
            cx, cy = n(el, "cx", 0), n(el, "cy", 0)
            rx = n(el, "r" if element == "circle" else "rx", 0)
            ry = rx if element == "circle" else n(el, "ry", 0)
            return (cx - rx, cy - ry, cx + rx, cy + ry)
        if element == "line":
            xs, ys = (n(el, "x1", 0), n(el, "x2", 0)), (n(el, "y1", 0), n(el, "y2", 0))
            return (min(xs), min(ys), max(xs), max(ys))
        if element in {"polyline", "polygon"}:
            return _points_box(_pairs(numbers(el.get("points", ""))))
        if element == "path":
            geometry = path_geometry(el.get("d", ""))
            return None if geometry is None else geometry[1]
        if element == "use":
            target = self.ids.get((el.get("href") or _xlink(el) or "#")[1:])
            inner = None if target is None else self.box(target)
            if inner is None:
                return None
            dx, dy = n(el, "x", 0), n(el, "y", 0)
            return (inner[0] + dx, inner[1] + dy, inner[2] + dx, inner[3] + dy)
        if element in {"g", "a", "switch"}:
            boxes = []
            for child in el:
                if _local(child.tag) in {"defs", "title", "desc", "clipPath", "mask", "filter"}:
                    continue
                inner = self.box(child)
                if inner is None:
                    return None
                matrix = transform_matrix(child.get("transform", ""))
                boxes.append(_transform_box(inner, matrix))
            if not boxes:
                return (0.0, 0.0, 0.0, 0.0)
            return (
                min(b[0] for b in boxes),
                min(b[1] for b in boxes),
                max(b[2] for b in boxes),
                max(b[3] for b in boxes),
            )
        return None

    def _length(self, el: ET.Element, attr: str, default: float) -> float:
        raw = (el.get(attr) or "").strip()
        value = (numbers(raw) or [default])[0]
        if raw.endswith("%"):
            side = self.width if attr in {"x", "width", "cx", "rx", "x1", "x2"} else self.height
            return value / 100 * side
        return value


def outline_length(el: ET.Element, element: str) -> float:
    """An upper bound of the length of ``el``'s outline, in user units (what dashes follow)."""

    def n(attr: str) -> float:
        return abs((numbers(el.get(attr, "")) or [0.0])[0])

    if element == "rect":
        return 2 * (n("width") + n("height"))
    if element == "circle":
        return 2 * math.pi * n("r")
    if element == "ellipse":
        return 2 * math.pi * max(n("rx"), n("ry"))
    if element == "line":
        ends = [(numbers(el.get(a, "")) or [0.0])[0] for a in ("x1", "y1", "x2", "y2")]
        return math.hypot(ends[2] - ends[0], ends[3] - ends[1])
    if element in {"polyline", "polygon"}:
        points = _pairs(numbers(el.get("points", "")))
        if element == "polygon" and points:
            points.append(points[0])
        return sum(math.dist(a, b) for a, b in itertools.pairwise(points))
    if element == "path":
        geometry = path_geometry(el.get("d", ""))
        # Path data that cannot be followed draws nothing beyond its first error: its numbers'
        # sum is still an upper bound of what it could outline.
        if geometry is None:
            return sum(abs(v) for v in numbers(el.get("d", "")))
        return geometry[0]
    return 0.0


def path_geometry(d: str) -> tuple[float, Box] | None:
    """An upper bound of the length of path data ``d`` (control polygons; arcs as whole
    ellipses) and a box holding it, or None when ``d`` cannot be read."""
    length = 0.0
    points: list[tuple[float, float]] = []
    x = y = start_x = start_y = 0.0
    try:
        for command, values in _path_commands(d):
            lower = command.lower()
            relative = command.islower()
            ox, oy = (x, y) if relative else (0.0, 0.0)
            if lower == "z":
                length += math.hypot(start_x - x, start_y - y)
                x, y = start_x, start_y
                continue
            controls: list[tuple[float, float]] = []
            if lower == "h":
                nx, ny = values[0] + ox, y
            elif lower == "v":
                nx, ny = x, values[0] + oy
            elif lower == "a":
                rx, ry = abs(values[0]), abs(values[1])
                nx, ny = values[5] + ox, values[6] + oy
                chord = math.hypot(nx - x, ny - y)
                radius = max(rx, ry, chord / 2)
                length += 2 * math.pi * radius
                points += [(x - radius, y - radius), (x + radius, y + radius)]
                points.append((nx, ny))
                x, y = nx, ny
                continue
            else:
                pairs = [(values[i] + ox, values[i + 1] + oy) for i in range(0, len(values), 2)]
                (nx, ny), controls = pairs[-1], pairs[:-1]
            if lower == "m":
                start_x, start_y = nx, ny
            else:
                polygon = [(x, y), *controls, (nx, ny)]
                length += sum(math.dist(a, b) for a, b in itertools.pairwise(polygon))
            points += [*controls, (nx, ny)]
            x, y = nx, ny
    except (ValueError, IndexError):
        return None
    box = _points_box(points) or (0.0, 0.0, 0.0, 0.0)
    return length, box


def _path_commands(d: str) -> Iterator[tuple[str, list[float]]]:
    """Commands of path data with their values, implicit repeats made explicit."""
    pos, command = 0, ""
    while True:
        m = _PATH_TOKEN.search(d, pos)
        if m is None or d[pos : m.start()].strip(" \t\r\n,"):
            if m is not None:
                raise ValueError("unexpected characters in path data")
            return
        if m.group(1):
            command, pos = m.group(1), m.end()
            if command in "Zz":
                yield command, []
                continue
        elif not command or command in "Zz":
            raise ValueError("a number without a command")
        arity = _ARITY[command.lower()]
        values: list[float] = []
        while len(values) < arity:
            if command in "Aa" and len(values) in (3, 4):
                flag = _FLAG.match(d, pos)
                if flag is None:
                    raise ValueError("bad arc flag")
                values.append(float(flag.group(1)))
                pos = flag.end()
                continue
            m = _PATH_TOKEN.search(d, pos)
            if m is None or not m.group(2) or d[pos : m.start()].strip(" \t\r\n,"):
                raise ValueError("missing number")
            values.append(float(m.group(2)))
            pos = m.end()
        yield command, values
        if command == "M":
            command = "L"  # further pairs after a moveto are linetos
        elif command == "m":
            command = "l"


def transform_matrix(value: str) -> Matrix:
    """The affine matrix of an SVG ``transform`` list (unknown parts count as identity)."""
    a, b, c, d, e, f = 1.0, 0.0, 0.0, 1.0, 0.0, 0.0
    for name, args in _TRANSFORM.findall(value):
        n = numbers(args)
        if name == "matrix" and len(n) == 6:
            m = (n[0], n[1], n[2], n[3], n[4], n[5])
        elif name == "translate" and n:
            m = (1, 0, 0, 1, n[0], n[1] if len(n) > 1 else 0)
        elif name == "scale" and n:
            m = (n[0], 0, 0, n[1] if len(n) > 1 else n[0], 0, 0)
        elif name == "rotate" and n:
            r = math.radians(n[0])
            cx, cy = (n[1], n[2]) if len(n) >= 3 else (0.0, 0.0)
            cos, sin = math.cos(r), math.sin(r)
            m = (cos, sin, -sin, cos, cx - cos * cx + sin * cy, cy - sin * cx - cos * cy)
        elif name == "skewX" and n:
            m = (1, 0, math.tan(math.radians(n[0])), 1, 0, 0)
        elif name == "skewY" and n:
            m = (1, math.tan(math.radians(n[0])), 0, 1, 0, 0)
        else:
            continue
        a, b, c, d, e, f = (
            a * m[0] + c * m[1],
            b * m[0] + d * m[1],
            a * m[2] + c * m[3],
            b * m[2] + d * m[3],
            a * m[4] + c * m[5] + e,
            b * m[4] + d * m[5] + f,
        )
    return a, b, c, d, e, f


def numbers(value: str) -> list[float]:
    """Every number written in ``value``."""
    return [float(n) for n in _NUMBER.findall(value)]


def _transform_box(box: Box, m: Matrix) -> Box:
    corners = [(box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3])]
    moved = [(m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]) for x, y in corners]
    return _points_box(moved) or box


def _points_box(points: list[tuple[float, float]]) -> Box | None:
    if not points:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


def _pairs(values: list[float]) -> list[tuple[float, float]]:
    return [(values[i], values[i + 1]) for i in range(0, len(values) - 1, 2)]


def _opacity(value: str | None) -> float:
    found = numbers(value or "")
    if not found:
        return 1.0
    return found[0] / 100 if (value or "").strip().endswith("%") else found[0]


def _url_id(value: str | None) -> str | None:
    if value is None:
        return None
    m = re.search(r"url\(\s*['\"]?#([^)'\"]*)", value)
    return m.group(1) if m else None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _xlink(el: ET.Element) -> str | None:
    return el.get("{http://www.w3.org/1999/xlink}href")
