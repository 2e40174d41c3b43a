//! Drawing a parsed tree onto a pixmap: resvg for everything, except opaque linear-gradient
//! rectangles aligned to the pixel grid, which are filled directly, and plain text, which is
//! drawn from cached glyph coverage (`glyphs`): usvg's text nodes, and the plain texts
//! `plain_text` laid out before usvg parsed the document, each in the place of its
//! placeholder path (see `render::parse_document`).
//!
//! A card's background is nearly always such a rectangle covering the whole canvas, and
//! tiny-skia shades gradients through a general pipeline whose float-to-integer step is scalar:
//! about a third of the time of a typical card. The direct fill computes the same colours
//! (tiny-skia's formula: linear in `t`, clamped, rounded to 0..=255) in a loop the
//! compiler vectorises; the tests compare it with resvg pixel by pixel.
use crate::deadline::Deadline;
use crate::error::RenderError;
use crate::glyphs::{draw_text, GlyphCache, TextPlan};
use resvg::tiny_skia::{PixmapMut, Transform};
use resvg::usvg::tiny_skia_path::NormalizedF32;
use resvg::usvg::{self, fontdb, Group, Node, Paint, SpreadMethod, Tree};

/// The id prefix of the path standing in for `texts[n]` (`{PLACEHOLDER}{n}`).
pub const PLACEHOLDER: &str = "ogmint-plain-text-";

/// Draws `tree` onto `pixmap` at its natural size, as `resvg::render` with an identity
/// transform does, with `texts` at their placeholders; glyphs come from (and go to) `glyphs`.
pub fn draw(tree: &Tree, texts: &[TextPlan], pixmap: &mut PixmapMut, glyphs: &GlyphCache) {
    // Without a deadline nothing can fail.
    let _ = draw_within(tree, texts, pixmap, glyphs, Deadline::NONE);
}

/// [`draw`], giving up with [`RenderError::DeadlineExceeded`] once `deadline` has passed:
/// it is checked before each node is drawn (resvg draws one node — a filtered group with all
/// its primitives, a dashed path — without a way to stop it; the template cost model bounds
/// what one node may cost).
pub fn draw_within(
    tree: &Tree,
    texts: &[TextPlan],
    pixmap: &mut PixmapMut,
    glyphs: &GlyphCache,
    deadline: Deadline,
) -> Result<(), RenderError> {
    deadline.check()?;
    // resvg draws a single node only when it has an area, which a horizontal or vertical line
    // made visible by its stroke has not; a document with such a node is drawn whole
    // (`parse_document` lays out no text for such a document).
    if !all_have_bounds(tree.root()) {
        resvg::render(tree, Transform::identity(), pixmap);
        return deadline.check();
    }
    let scene = Scene {
        texts,
        glyphs,
        deadline,
    };
    scene.draw_children(tree.root(), tree.fontdb(), pixmap)
}

/// The text plan a placeholder path stands for.
fn placeholder<'a>(node: &Node, texts: &'a [TextPlan]) -> Option<&'a TextPlan> {
    let Node::Path(path) = node else {
        return None;
    };
    let n: usize = path.id().strip_prefix(PLACEHOLDER)?.parse().ok()?;
    texts.get(n)
}

/// The placeholders `draw` reaches, by number, each with its transform to the canvas (the
/// identity, or a document's `viewBox` scaled to `@2x`) when that keeps glyphs on their grid
/// ([`keeps_glyph_grid`]); `None` if the document is drawn whole.
pub fn placeholders_reached(tree: &Tree) -> Option<Vec<(usize, Transform)>> {
    fn walk(group: &Group, out: &mut Vec<(usize, Transform)>) {
        for node in group.children() {
            match node {
                Node::Path(path) => {
                    if let Some(n) = path
                        .id()
                        .strip_prefix(PLACEHOLDER)
                        .and_then(|n| n.parse().ok())
                    {
                        if keeps_glyph_grid(path.abs_transform()) {
                            out.push((n, path.abs_transform()));
                        }
                    }
                }
                Node::Group(inner) if descends(inner) => walk(inner, out),
                _ => {}
            }
        }
    }
    if !all_have_bounds(tree.root()) {
        return None;
    }
    let mut out = Vec::new();
    walk(tree.root(), &mut out);
    Some(out)
}

/// Whether `draw` draws the children of `group` one by one (else resvg draws it whole): a
/// group that only places its children (a translation, a positive scale along the axes: a
/// `viewBox` fitted to the canvas) onto the canvas.
fn descends(group: &Group) -> bool {
    let ts = group.transform();
    let placed = ts.kx == 0.0 && ts.ky == 0.0 && ts.sx > 0.0 && ts.sy > 0.0;
    !group.should_isolate() && placed && all_have_bounds(group)
}

/// Whether text drawn with `ts` to the canvas comes from the glyph cache: the identity, or a
/// whole uniform scale (`@2x`, `@3x`), which keeps glyph origins on the cache's 1/16 px grid
/// wherever resvg would put them on it. Other transforms (a translated or rotated text, a
/// document scaled to cover another aspect) are left to resvg, whose outlines are filled
/// where they fall, as before scaled documents were drawn from the cache.
pub fn keeps_glyph_grid(ts: Transform) -> bool {
    ts.kx == 0.0
        && ts.ky == 0.0
        && ts.tx == 0.0
        && ts.ty == 0.0
        && ts.sx == ts.sy
        && ts.sx >= 1.0
        && ts.sx.fract() == 0.0
}

/// Which bands of `band_rows` rows drawing `tree` with [`draw`] may change: those that the
/// bounding boxes of the nodes it draws reach (widened for anti-aliasing), or all of them
/// when it draws the document whole.
pub fn bands_drawn(tree: &Tree, texts: &[TextPlan], height: u32, band_rows: usize) -> Vec<bool> {
    let band_rows = band_rows.max(1);
    let mut bands = vec![false; (height as usize).div_ceil(band_rows)];
    if all_have_bounds(tree.root()) {
        mark_children(tree.root(), texts, band_rows, &mut bands);
    } else {
        bands.fill(true);
    }
    bands
}

/// Marks the bands the children of `group` are drawn in, walking into the groups
/// [`draw_children`] walks into.
fn mark_children(group: &Group, texts: &[TextPlan], band_rows: usize, bands: &mut [bool]) {
    // Anti-aliased edges stay within the pixel an outline ends in; glyphs drawn from the cache
    // move by at most 1/32 px. Two rows more on each side leave room for both.
    const MARGIN: f32 = 2.0;
    let mark = |bands: &mut [bool], top: f32, bottom: f32| {
        let first = ((top - MARGIN).max(0.0) as usize) / band_rows;
        let last = ((bottom + MARGIN).max(0.0) as usize) / band_rows;
        for band in bands.iter_mut().take(last + 1).skip(first) {
            *band = true;
        }
    };
    for node in group.children() {
        if let Node::Group(inner) = node {
            if descends(inner) {
                mark_children(inner, texts, band_rows, bands);
                continue;
            }
        }
        if let Some(text) = placeholder(node, texts) {
            // The rows its glyph masks cover, exactly.
            if let Some((top, bottom)) = text.rows() {
                mark(bands, top as f32, bottom as f32);
            }
            continue;
        }
        let Some(bbox) = node.abs_layer_bounding_box() else {
            bands.fill(true);
            return;
        };
        mark(bands, bbox.y(), bbox.y() + bbox.height());
    }
}

fn all_have_bounds(group: &Group) -> bool {
    group
        .children()
        .iter()
        .all(|n| n.abs_layer_bounding_box().is_some())
}

/// What [`draw`] draws besides the tree: the plain texts and the glyph cache.
struct Scene<'a> {
    texts: &'a [TextPlan],
    glyphs: &'a GlyphCache,
    deadline: Deadline,
}

impl Scene<'_> {
    /// Draws the children of a group that resvg would draw straight onto the canvas (no
    /// opacity, clip, mask, filter or blend mode; any transform), one by one.
    fn draw_children(
        &self,
        group: &Group,
        db: &fontdb::Database,
        pixmap: &mut PixmapMut,
    ) -> Result<(), RenderError> {
        for node in group.children() {
            self.deadline.check()?;
            if let Some(text) = placeholder(node, self.texts) {
                text.draw(pixmap);
                continue;
            }
            match node {
                Node::Path(path) => {
                    if let Some(fill) = GradientRect::of(path, pixmap.width(), pixmap.height()) {
                        fill.paint(pixmap);
                        continue;
                    }
                    if let Some(fill) = RadialRect::of(path, pixmap.width(), pixmap.height()) {
                        fill.paint(pixmap);
                        continue;
                    }
                }
                Node::Text(text) => {
                    if keeps_glyph_grid(text.abs_transform())
                        && draw_text(text, db, self.glyphs, pixmap)
                    {
                        continue;
                    }
                }
                Node::Group(inner) => {
                    if descends(inner) {
                        self.draw_children(inner, db, pixmap)?;
                        continue;
                    }
                }
                Node::Image(_) => {}
            }
            // `render_node` draws a node with the transform given, relative to its own bounding
            // box; the group's transform to the canvas, shifted by that box, puts it back where
            // `resvg::render` would.
            if let Some(bbox) = node.abs_layer_bounding_box() {
                let at = group.abs_transform().pre_translate(bbox.x(), bbox.y());
                resvg::render_node(node, at, pixmap);
            }
        }
        self.deadline.check()
    }
}

/// One piece of the colour ramp: for `t` up to `end`, colour = `factor * t + bias`
/// (per channel, scaled to 0..=255).
#[derive(Debug, Clone, Copy)]
struct Segment {
    end: f32,
    factor: [f32; 3],
    bias: [f32; 3],
}

/// An opaque, pad-spread linear gradient filling a pixel-aligned rectangle of the canvas.
#[derive(Debug)]
struct GradientRect {
    /// Device pixels covered: `x0..x1`, `y0..y1`, clipped to the canvas.
    x0: usize,
    x1: usize,
    y0: usize,
    y1: usize,
    /// `t` at device point `(x, y)` is `tx * x + ty * y + t0`.
    tx: f64,
    ty: f64,
    t0: f64,
    /// Colour ramp pieces in increasing `end`; the last one also covers `t > 1`.
    segments: Vec<Segment>,
}

impl GradientRect {
    /// The direct fill for `path`, or `None` when resvg must draw it.
    fn of(path: &usvg::Path, width: u32, height: u32) -> Option<Self> {
        if !path.is_visible() || path.stroke().is_some() {
            return None;
        }
        let fill = path.fill()?;
        let Paint::LinearGradient(gradient) = fill.paint() else {
            return None;
        };
        if gradient.spread_method() != SpreadMethod::Pad || fill.opacity().get() < 1.0 {
            return None;
        }
        let to_device = path.abs_transform();
        if to_device.kx != 0.0 || to_device.ky != 0.0 || to_device.sx <= 0.0 || to_device.sy <= 0.0
        {
            return None;
        }
        let (x0, y0, x1, y1) = device_rect(path.data(), to_device, width, height)?;
        let clip = |v: f32, max: u32| v.clamp(0.0, max as f32) as usize;
        let (x0, x1) = (clip(x0, width), clip(x1, width));
        let (y0, y1) = (clip(y0, height), clip(y1, height));
        let (tx, ty, t0) = ramp_coordinates(gradient, to_device)?;
        let segments = segments(gradient.stops())?;
        Some(Self {
            x0,
            x1,
            y0,
            y1,
            tx,
            ty,
            t0,
            segments,
        })
    }

    fn paint(&self, pixmap: &mut PixmapMut) {
        if self.x0 >= self.x1 || self.y0 >= self.y1 {
            return;
        }
        let stride = pixmap.width() as usize * 4;
        let data = pixmap.data_mut();
        let step = self.tx as f32;
        for y in self.y0..self.y1 {
            // Pixel centres, as tiny-skia samples them.
            let start = self.tx * (self.x0 as f64 + 0.5) + self.ty * (y as f64 + 0.5) + self.t0;
            let row = &mut data[y * stride + self.x0 * 4..y * stride + self.x1 * 4];
            if let [only] = self.segments[..] {
                fill_row(row, start as f32, step, &only);
            } else {
                self.fill_row_segmented(row, start as f32, step);
            }
        }
    }

    fn fill_row_segmented(&self, row: &mut [u8], start: f32, step: f32) {
        let last = self.segments.len() - 1;
        for (i, px) in row.chunks_exact_mut(4).enumerate() {
            let t = (start + step * i as f32).clamp(0.0, 1.0);
            let k = self.segments[..last].partition_point(|s| s.end < t);
            px.copy_from_slice(&shade(t, &self.segments[k]));
        }
    }
}

/// A pad-spread, centred two-stop radial gradient (the glow of most cards: often translucent)
/// over a pixel-aligned rectangle, drawn source-over as tiny-skia's low-precision pipeline
/// draws it, step for step: the same `f32` transform to the unit circle, `t` = the distance
/// from its centre clamped to 0..=1, the colour `t * factor + bias` rounded to 0..=255,
/// premultiplied and blended with `(v + 255) >> 8` for division by 255 (the same pixels; under
/// a scaled document's transform within 1 level, as resvg composes that transform in another
/// order). resvg spends most of such a fill in its per-stage loop.
#[derive(Debug)]
struct RadialRect {
    x0: usize,
    x1: usize,
    y0: usize,
    y1: usize,
    /// Device → unit-circle space.
    to_unit: Transform,
    /// Straight RGBA at `t`: `factor * t + bias`, channels 0..=1.
    factor: [f32; 4],
    bias: [f32; 4],
}

impl RadialRect {
    /// The direct fill for `path`, or `None` when resvg must draw it.
    fn of(path: &usvg::Path, width: u32, height: u32) -> Option<Self> {
        let to_device = path.abs_transform();
        let scaled =
            to_device.kx == 0.0 && to_device.ky == 0.0 && to_device.sx > 0.0 && to_device.sy > 0.0;
        if !path.is_visible() || path.stroke().is_some() || !scaled {
            return None;
        }
        let fill = path.fill()?;
        let Paint::RadialGradient(gradient) = fill.paint() else {
            return None;
        };
        let [first, last] = gradient.stops() else {
            return None;
        };
        let centred = gradient.fx() == gradient.cx()
            && gradient.fy() == gradient.cy()
            && gradient.fr().get() == 0.0;
        if gradient.spread_method() != SpreadMethod::Pad
            || !centred
            || gradient.r().get() < 1.0 / 4096.0
            || first.offset().get() != 0.0
            || last.offset().get() != 1.0
        {
            return None;
        }
        let (x0, y0, x1, y1) = device_rect(path.data(), to_device, width, height)?;
        let clip = |v: f32, max: u32| v.clamp(0.0, max as f32) as usize;
        // As tiny-skia's `RadialGradient::new` (a radial gradient from its centre) and
        // `Gradient::push_stages` build it.
        let inv = 1.0 / gradient.r().get();
        let points_to_unit =
            Transform::from_translate(-gradient.cx(), -gradient.cy()).post_scale(inv, inv);
        // tiny-skia leaves the shader's transform alone when the path's is the identity.
        let shader = match to_device.is_identity() {
            true => gradient.transform(),
            false => gradient.transform().post_concat(to_device),
        };
        let to_unit = shader.invert()?.post_concat(points_to_unit);
        // resvg's stop colours: opacity folded into alpha as a byte, each channel byte / 255.
        let rgba = |s: &usvg::Stop| {
            let c = s.color();
            let a = (s.opacity() * fill.opacity()).to_u8();
            [c.red, c.green, c.blue, a].map(|v| NormalizedF32::new_u8(v).get())
        };
        let (c0, c1) = (rgba(first), rgba(last));
        Some(Self {
            x0: clip(x0, width),
            x1: clip(x1, width),
            y0: clip(y0, height),
            y1: clip(y1, height),
            to_unit,
            factor: std::array::from_fn(|i| c1[i] - c0[i]),
            bias: c0,
        })
    }

    fn paint(&self, pixmap: &mut PixmapMut) {
        if self.x0 >= self.x1 || self.y0 >= self.y1 {
            return;
        }
        let stride = pixmap.width() as usize * 4;
        let data = pixmap.data_mut();
        for y in self.y0..self.y1 {
            let row = &mut data[y * stride + self.x0 * 4..y * stride + self.x1 * 4];
            self.blend_row(row, self.x0, y);
        }
    }

    /// Blends one row, sixteen pixels at a time, each step over plain arrays so it vectorises.
    // `max(0).min(1)` is tiny-skia's `normalize` (NaN to 0), and plain vector min/max.
    #[allow(clippy::manual_clamp)]
    fn blend_row(&self, row: &mut [u8], x0: usize, y: usize) {
        const LANES: usize = 16;
        let ts = self.to_unit;
        let fy = y as f32 + 0.5;
        // tiny-skia's `transform` stage: `x * sx + (y * kx + tx)`, likewise for y.
        let (ky, ty) = (fy * ts.kx + ts.tx, fy * ts.sy + ts.ty);
        // Pixel centres: whole numbers plus a half, exact in f32 whatever the order of sums.
        let iota: [f32; LANES] = std::array::from_fn(|j| j as f32 + 0.5);
        let shade = |x: f32, t: &mut [f32]| {
            for (t, i) in t.iter_mut().zip(iota) {
                let fx = x + i;
                let (ux, uy) = (fx * ts.sx + ky, fx * ts.ky + ty);
                *t = (ux * ux + uy * uy).sqrt().max(0.0).min(1.0);
            }
        };
        let mut t = [0f32; LANES];
        let mut x = x0;
        for block in row.chunks_mut(4 * LANES) {
            let n = block.len() / 4;
            shade(x as f32, &mut t);
            // Straight colour rounded as `round_f32_to_u16` does (alpha unclamped), then
            // premultiplied and blended source-over, all in 16-bit steps that cannot overflow.
            let mut alpha = [0u32; LANES];
            for (a, t) in alpha.iter_mut().zip(&t) {
                *a = truncate(((t * self.factor[3] + self.bias[3]) * 255.0 + 0.5).max(0.0));
            }
            for c in 0..4 {
                let mut value = [0u32; LANES];
                if c < 3 {
                    for ((v, t), a) in value.iter_mut().zip(&t).zip(&alpha) {
                        let straight = (t * self.factor[c] + self.bias[c]).max(0.0).min(1.0);
                        *v = (truncate(straight * 255.0 + 0.5) * a + 255) >> 8;
                    }
                } else {
                    value = alpha;
                }
                for ((px, v), a) in block.chunks_exact_mut(4).zip(value).zip(alpha).take(n) {
                    let dst = u32::from(px[c]);
                    px[c] = (v + ((dst * (255 - a) + 255) >> 8)) as u8;
                }
            }
            x += LANES;
        }
    }
}

/// `v as u32` for `0 <= v < 2^23`, as arithmetic that vectorises (Rust's saturating `as` does
/// not): the whole part, placed in the low mantissa bits by adding 2^23.
#[inline(always)]
fn truncate(v: f32) -> u32 {
    (v.floor() + 8_388_608.0).to_bits() - 0x4B00_0000
}

/// Fills a row with one ramp piece, eight pixels at a time in plain arrays so it vectorises.
fn fill_row(row: &mut [u8], start: f32, step: f32, segment: &Segment) {
    const LANES: usize = 8;
    let done = (row.len() / 4) / LANES * LANES;
    let mut blocks = row.chunks_exact_mut(4 * LANES);
    for (n, block) in blocks.by_ref().enumerate() {
        let first = n * LANES;
        let mut pixels = [0u32; LANES];
        for (j, px) in pixels.iter_mut().enumerate() {
            let t = (start + step * (first + j) as f32).clamp(0.0, 1.0);
            *px = u32::from_le_bytes(shade(t, segment));
        }
        for (dst, px) in block.chunks_exact_mut(4).zip(pixels) {
            dst.copy_from_slice(&px.to_le_bytes());
        }
    }
    for (i, px) in blocks.into_remainder().chunks_exact_mut(4).enumerate() {
        let t = (start + step * (done + i) as f32).clamp(0.0, 1.0);
        px.copy_from_slice(&shade(t, segment));
    }
}

#[inline(always)]
fn shade(t: f32, s: &Segment) -> [u8; 4] {
    let channel = |i: usize| {
        let v = (s.factor[i] * t + s.bias[i]).clamp(0.0, 255.0);
        // Adding 2^23 leaves v rounded to an integer in the low mantissa bits: a float-to-int
        // conversion that vectorises (Rust's saturating `as` does not). It rounds halves to
        // even where tiny-skia rounds them up, so exact halves may differ by one.
        (v + 8_388_608.0).to_bits() as u8
    };
    [channel(0), channel(1), channel(2), 255]
}

/// Device bounds of `data` if it is exactly an axis-aligned rectangle whose edges fall on
/// pixel boundaries or outside the `width` × `height` canvas (so coverage is all-or-nothing
/// and anti-aliasing cannot differ): a background scaled to cover a canvas of another aspect
/// overhangs it by fractions of a pixel.
fn device_rect(
    data: &usvg::tiny_skia_path::Path,
    to: Transform,
    width: u32,
    height: u32,
) -> Option<(f32, f32, f32, f32)> {
    use usvg::tiny_skia_path::PathSegment;
    let bounds = data.bounds();
    let (l, t, r, b) = (bounds.left(), bounds.top(), bounds.right(), bounds.bottom());
    let mut points = Vec::with_capacity(5);
    let mut segments = data.segments();
    match segments.next() {
        Some(PathSegment::MoveTo(p)) => points.push(p),
        _ => return None,
    }
    let mut closed = false;
    for segment in segments {
        match segment {
            PathSegment::LineTo(p) if points.len() < 5 && !closed => points.push(p),
            PathSegment::Close if !closed => closed = true,
            _ => return None,
        }
    }
    if points.len() == 5 && points[4] == points[0] {
        points.pop();
    }
    // Four distinct corners of the bounds, each side (the closing one too) along one axis.
    let on_corner =
        |p: &usvg::tiny_skia_path::Point| (p.x == l || p.x == r) && (p.y == t || p.y == b);
    let rectangle = l < r
        && t < b
        && points.len() == 4
        && points.iter().all(on_corner)
        && (0..4).all(|i| {
            let (p, q) = (points[i], points[(i + 1) % 4]);
            (p.x == q.x) != (p.y == q.y)
        });
    if !rectangle {
        return None;
    }
    let device = [
        to.sx * l + to.tx,
        to.sy * t + to.ty,
        to.sx * r + to.tx,
        to.sy * b + to.ty,
    ];
    let on_pixel = |v: f32| (v - v.round()).abs() < 1e-3;
    let [l, t, r, b] = device;
    let aligned = (on_pixel(l) || l <= 0.0)
        && (on_pixel(t) || t <= 0.0)
        && (on_pixel(r) || r >= width as f32)
        && (on_pixel(b) || b >= height as f32);
    aligned.then(|| {
        let [x0, y0, x1, y1] = device.map(f32::round);
        (x0, y0, x1, y1)
    })
}

/// `t` as an affine function of device coordinates: device → gradient space (the inverse of
/// path and gradient transforms) → projection onto the gradient vector.
fn ramp_coordinates(
    gradient: &usvg::LinearGradient,
    to_device: Transform,
) -> Option<(f64, f64, f64)> {
    let total = to_device.pre_concat(gradient.transform()).invert()?;
    let (x1, y1) = (f64::from(gradient.x1()), f64::from(gradient.y1()));
    let (dx, dy) = (f64::from(gradient.x2()) - x1, f64::from(gradient.y2()) - y1);
    let len2 = dx * dx + dy * dy;
    // tiny-skia draws a near-degenerate gradient as a solid colour; leave those to it.
    if len2.sqrt() < f64::from(1.0f32 / (1 << 15) as f32) {
        return None;
    }
    let (sx, ky, kx, sy, tx, ty) = (
        f64::from(total.sx),
        f64::from(total.ky),
        f64::from(total.kx),
        f64::from(total.sy),
        f64::from(total.tx),
        f64::from(total.ty),
    );
    // gradient-space point: (sx*x + kx*y + tx, ky*x + sy*y + ty); t = ((p - p1) · d) / |d|².
    Some((
        (sx * dx + ky * dy) / len2,
        (kx * dx + sy * dy) / len2,
        ((tx - x1) * dx + (ty - y1) * dy) / len2,
    ))
}

/// The colour ramp of opaque `stops` as tiny-skia builds it, or `None` if any stop is
/// translucent (those need blending, which resvg does).
fn segments(stops: &[usvg::Stop]) -> Option<Vec<Segment>> {
    if stops.len() < 2 || stops.iter().any(|s| s.opacity().get() < 1.0) {
        return None;
    }
    let rgb = |s: &usvg::Stop| {
        let c = s.color();
        [c.red, c.green, c.blue].map(|v| f32::from(v) / 255.0)
    };
    // Positions clamped to be non-decreasing, with implied stops at 0 and 1.
    let mut points: Vec<(f32, [f32; 3])> = Vec::with_capacity(stops.len() + 2);
    let mut prev = 0.0f32;
    for s in stops {
        let at = s.offset().get().clamp(prev, 1.0);
        points.push((at, rgb(s)));
        prev = at;
    }
    if points[0].0 != 0.0 {
        points.insert(0, (0.0, points[0].1));
    }
    if let Some(&(at, color)) = points.last() {
        if at != 1.0 {
            points.push((1.0, color));
        }
    }
    let mut segments = Vec::with_capacity(points.len());
    for pair in points.windows(2) {
        let ((tl, cl), (tr, cr)) = (pair[0], pair[1]);
        if tl < tr {
            let factor: [f32; 3] = std::array::from_fn(|i| (cr[i] - cl[i]) / (tr - tl));
            segments.push(Segment {
                end: tr,
                factor: factor.map(|f| f * 255.0),
                bias: std::array::from_fn(|i| (cl[i] - factor[i] * tl) * 255.0),
            });
        }
    }
    (!segments.is_empty()).then_some(segments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use resvg::tiny_skia::Pixmap;

    fn both(svg: &str) -> (Pixmap, Pixmap) {
        let tree = Tree::from_str(svg, &usvg::Options::default()).expect("svg");
        let size = tree.size().to_int_size();
        let mut ours = Pixmap::new(size.width(), size.height()).expect("pixmap");
        let mut theirs = ours.clone();
        draw(&tree, &[], &mut ours.as_mut(), &GlyphCache::default());
        resvg::render(&tree, Transform::default(), &mut theirs.as_mut());
        (ours, theirs)
    }

    fn worst_difference(svg: &str) -> u8 {
        let (ours, theirs) = both(svg);
        ours.data()
            .iter()
            .zip(theirs.data())
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap_or(0)
    }

    fn doc(defs: &str, body: &str) -> String {
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="300" height="160"><defs>{defs}</defs>{body}</svg>"#
        )
    }

    const TWO_STOPS: &str = r##"<linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#0b1020"/><stop offset="1" stop-color="#f0e040"/></linearGradient>"##;

    #[test]
    fn matches_resvg_on_gradient_backgrounds() {
        let cases = [
            doc(
                TWO_STOPS,
                r#"<rect width="300" height="160" fill="url(#g)"/>"#,
            ),
            // Stops not at the ends, several pieces, user-space units and a gradient transform.
            doc(
                r##"<linearGradient id="g" gradientUnits="userSpaceOnUse" x1="20" y1="150" x2="260" y2="10" gradientTransform="rotate(10 150 80)"><stop offset="0.2" stop-color="#ff0000"/><stop offset="0.5" stop-color="#00ff80"/><stop offset="0.5" stop-color="#102030"/><stop offset="0.9" stop-color="#fafafa"/></linearGradient>"##,
                r#"<rect x="-20" y="10" width="400" height="120" fill="url(#g)"/>"#,
            ),
            // A rectangle drawn as a path, inside a translated group, under other shapes.
            doc(
                TWO_STOPS,
                r##"<circle cx="40" cy="40" r="30" fill="#123"/><g transform="translate(10 20)"><path d="M0 0 H200 V100 H0 Z" fill="url(#g)"/></g><rect x="5.5" y="5" width="50" height="50" fill="url(#g)"/>"##,
            ),
        ];
        for svg in &cases {
            assert!(worst_difference(svg) <= 1, "{svg}");
        }
    }

    #[test]
    fn matches_resvg_on_radial_glows() {
        let glow = |attrs: &str, stops: &str| {
            format!(r#"<radialGradient id="r" {attrs}>{stops}</radialGradient>"#)
        };
        let fading = r##"<stop offset="0" stop-color="#fb923c" stop-opacity="0.35"/><stop offset="1" stop-color="#fb923c" stop-opacity="0"/>"##;
        let opaque =
            r##"<stop offset="0" stop-color="#272f53"/><stop offset="1" stop-color="#f0e040"/>"##;
        let cases = [
            // The cards' glow: a corner, bounding-box units on a wide canvas, over a gradient.
            doc(
                &format!("{TWO_STOPS}{}", glow(r#"cx="1" cy="0" r="0.9""#, fading)),
                r#"<rect width="300" height="160" fill="url(#g)"/><rect width="300" height="160" fill="url(#r)"/>"#,
            ),
            doc(
                &glow(r#"cx="0.3" cy="0.6" r="0.4""#, opaque),
                r##"<rect width="300" height="160" fill="#123"/><rect x="20" y="10" width="200" height="120" fill="url(#r)" fill-opacity="0.6"/>"##,
            ),
            // User space, a gradient transform, partly off the canvas, on a transparent one.
            doc(
                &glow(
                    r#"gradientUnits="userSpaceOnUse" cx="120" cy="70" r="90" gradientTransform="rotate(20 150 80) scale(1.2 0.8)""#,
                    fading,
                ),
                r#"<rect x="-10" y="-20" width="280" height="200" fill="url(#r)"/>"#,
            ),
        ];
        for svg in &cases {
            let tree = Tree::from_str(svg, &usvg::Options::default()).expect("svg");
            let direct = tree
                .root()
                .children()
                .iter()
                .any(|n| matches!(n, Node::Path(p) if RadialRect::of(p, 300, 160).is_some()));
            assert!(direct, "the direct fill was not taken: {svg}");
            // Step for step what tiny-skia computes: the same pixels.
            assert_eq!(worst_difference(svg), 0, "{svg}");
        }
        // What it leaves to resvg: a focus off the centre, three stops, another spread.
        for attrs in [r#"fx="0.2""#, r#"spreadMethod="reflect""#] {
            let tree = Tree::from_str(
                &doc(
                    &glow(attrs, fading),
                    r#"<rect width="300" height="160" fill="url(#r)"/>"#,
                ),
                &usvg::Options::default(),
            )
            .expect("svg");
            let Some(Node::Path(path)) = tree.root().children().first() else {
                panic!("no path");
            };
            assert!(RadialRect::of(path, 300, 160).is_none(), "{attrs}");
        }
    }

    #[test]
    fn lines_drawn_by_their_stroke_alone_are_drawn() {
        // No area (a horizontal and a vertical line, one dashed) next to a direct gradient fill.
        let svg = doc(
            TWO_STOPS,
            r##"<rect width="300" height="160" fill="url(#g)"/><path d="M10 80 H290" stroke="#fff" stroke-width="2" stroke-dasharray="4 6"/><line x1="150" y1="10" x2="150" y2="150" stroke="#f00" stroke-width="3"/>"##,
        );
        let (ours, theirs) = both(&svg);
        assert_eq!(ours.data(), theirs.data());
        let white = ours.pixel(12, 79).expect("pixel");
        assert_eq!((white.red(), white.green(), white.blue()), (255, 255, 255));
    }

    #[test]
    fn only_safe_shapes_take_the_direct_fill() {
        let tree = |body: &str| {
            Tree::from_str(&doc(TWO_STOPS, body), &usvg::Options::default()).expect("svg")
        };
        let direct = |body: &str| {
            let tree = tree(body);
            let Some(Node::Path(path)) = tree.root().children().first() else {
                panic!("no path in {body}");
            };
            GradientRect::of(path, 300, 160).is_some()
        };
        assert!(direct(r#"<rect width="300" height="160" fill="url(#g)"/>"#));
        assert!(!direct(
            r#"<rect width="300" height="160" rx="8" fill="url(#g)"/>"#
        ));
        assert!(!direct(
            r#"<rect x="0.5" width="100" height="160" fill="url(#g)"/>"#
        ));
        assert!(!direct(
            r#"<rect width="300" height="160" fill="url(#g)" fill-opacity="0.5"/>"#
        ));
        assert!(!direct(
            r#"<rect width="300" height="160" fill="url(#g)" stroke="red"/>"#
        ));
        assert!(!direct(
            r#"<path d="M0 0 L300 0 L300 160 L0 100 Z" fill="url(#g)"/>"#
        ));
        // Anything resvg still draws comes out the same too.
        for body in [
            r#"<rect width="300" height="160" rx="8" fill="url(#g)"/>"#,
            r#"<rect x="0.5" width="100" height="160" fill="url(#g)"/>"#,
            r#"<rect width="300" height="160" fill="url(#g)" stroke="red"/>"#,
        ] {
            assert_eq!(worst_difference(&doc(TWO_STOPS, body)), 0, "{body}");
        }
    }
}
