//! Text drawn from cached glyph coverage instead of filling every glyph outline on every render.
//!
//! resvg fills each text span as one path: tiny-skia builds, sorts and walks the edges of every
//! glyph and blends through its general pipeline, most of the time of a typical card's
//! foreground. Titles differ per render but their glyphs recur (same font, size and weight), so a
//! glyph's anti-aliased coverage is rasterised once, by tiny-skia (same 4x4 supersampling), at
//! its sub-pixel phase rounded to 1/[`SUBPIXEL_STEPS`] px, and kept in a bounded cache. A span's
//! glyphs are summed into one coverage buffer (the sum of disjoint glyphs is what tiny-skia
//! accumulates for the merged path) and blended with tiny-skia's lowp formulas.
//!
//! Only text a solid colour fills, without stroke, decoration or colour/bitmap glyphs, takes
//! this path; anything else is left to resvg. Glyphs come from usvg's layout of a text node
//! ([`draw_text`]) or from `plain_text`'s identical one ([`TextPlan::of_plain`]). The rounded
//! phase moves a glyph by at most 1/32 px: edge pixels can differ from resvg by a few levels,
//! never the shapes.
use crate::cache::{BoundedCache, CacheStats, Eviction};
use crate::fonts::outline;
use crate::plain_text::{Placed, PlainText};
use resvg::tiny_skia::{Color, FillRule, Mask, PixmapMut, Transform};
use resvg::usvg::{self, fontdb, FontOpticalSizing, Node, Paint, Text, TextRendering};
use std::sync::Arc;

/// Sub-pixel positions per pixel a glyph is rasterised at, on each axis.
pub const SUBPIXEL_STEPS: f32 = 16.0;
/// Most glyph masks kept.
pub const GLYPH_CACHE_ENTRIES: usize = 32_768;
/// Most coverage bytes kept (a 68 px Latin glyph is ~3 KB).
pub const GLYPH_CACHE_BYTES: usize = 32 * 1024 * 1024;
/// Larger glyphs (type over ~250 px) are left to resvg, which clips them to the canvas.
const MAX_GLYPH_PIXELS: u64 = 256 * 256;
/// Most bytes of new masks one text element may rasterise before it is left to resvg: the
/// masks of a text are held until it is drawn, and hostile text may have many distinct glyphs.
const MAX_FRESH_BYTES: usize = 8 * 1024 * 1024;
/// Variation axes a cached glyph may have (`wght`, `opsz`, a few more); more go to resvg.
const MAX_AXES: usize = 4;
/// Origins beyond this (in pixels) are refused (left to resvg) so integer maths cannot overflow.
const MAX_COORD: f32 = (1 << 24) as f32;

/// What determines a glyph's coverage: the outline (face, glyph, variation), its scale and
/// orientation on the canvas, and its sub-pixel phase.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    font: fontdb::ID,
    glyph: u32,
    /// `(tag, value bits)` of the span's variations, unused slots zero.
    axes: [(u32, u32); MAX_AXES],
    /// The font size bits, for an automatic `opsz` (usvg sets it to the size).
    auto_opsz: Option<u32>,
    /// Font units → device pixels, without translation (`sx, ky, kx, sy` bits).
    linear: [u32; 4],
    even_odd: bool,
    phase: (u8, u8),
}

/// A glyph's coverage, placed relative to the integer pixel of its (rounded) origin.
struct GlyphMask {
    left: i32,
    top: i32,
    width: u32,
    height: u32,
    coverage: Vec<u8>,
}

/// Rasterised glyphs, least recently used quarter evicted at once, bounded by count and bytes.
/// Shared by every render and thread of an engine; the lock is never held while rasterising.
pub struct GlyphCache(BoundedCache<Key, GlyphMask>);

impl Default for GlyphCache {
    fn default() -> Self {
        Self::new(GLYPH_CACHE_ENTRIES, GLYPH_CACHE_BYTES)
    }
}

impl GlyphCache {
    /// An empty cache holding at most `max_entries` masks and `max_bytes` of coverage.
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self(BoundedCache::new(
            max_entries,
            max_bytes,
            Eviction::OldestQuarter,
        ))
    }

    /// Number of glyph masks held.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no glyph is held.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Coverage bytes held.
    pub fn bytes(&self) -> usize {
        self.0.bytes()
    }

    /// Hits, misses and bytes held so far.
    pub fn stats(&self) -> CacheStats {
        self.0.stats()
    }

    fn get(&self, key: &Key) -> Option<Arc<GlyphMask>> {
        self.0.get(key)
    }

    fn insert(&self, key: Key, mask: &Arc<GlyphMask>) {
        let size = mask.coverage.len() + std::mem::size_of::<GlyphMask>();
        self.0.insert(key, Arc::clone(mask), size);
    }
}

/// Draws `text` from cached glyphs if it qualifies (see the module docs) and returns whether it
/// did; nothing is drawn when it returns `false`.
pub fn draw_text(
    text: &Text,
    db: &fontdb::Database,
    cache: &GlyphCache,
    pixmap: &mut PixmapMut,
) -> bool {
    if text.rendering_mode() == TextRendering::OptimizeSpeed
        || !text
            .flattened()
            .children()
            .iter()
            .all(|n| matches!(n, Node::Path(_)))
    {
        return false;
    }
    let to_device = text.abs_transform();
    let mut plans = Vec::with_capacity(text.layouted().len());
    let mut fresh = 0;
    for span in text.layouted() {
        match plan_span(span, to_device, db, cache, &mut fresh) {
            Some(Some(plan)) => plans.push(plan),
            Some(None) => {}
            None => return false,
        }
    }
    TextPlan(plans).draw(pixmap);
    true
}

/// A text's spans, ready to draw from cached glyphs.
pub struct TextPlan(Vec<SpanPlan>);

impl TextPlan {
    /// Whether [`Self::of_plain`] can plan `text` at all (its font variations fit the cache).
    pub fn plannable(text: &PlainText) -> bool {
        text.variations.len() <= MAX_AXES
    }

    /// Plans `text` (laid out by `plain_text`, in user space) drawn with `to_device`; `None` if
    /// it cannot be drawn from the cache (glyphs too large, too many new masks), as for
    /// [`draw_text`]. `held` counts the bytes of new masks the plans of a document hold until
    /// it is drawn: all of them together get the budget one text drawn by [`draw_text`] has.
    pub fn of_plain(
        text: &PlainText,
        to_device: Transform,
        db: &fontdb::Database,
        cache: &GlyphCache,
        held: &mut usize,
    ) -> Option<Self> {
        if !Self::plannable(text) {
            return None;
        }
        let mut fresh = *held;
        let paint = premultiplied(text.color, text.opacity);
        text.chunks
            .iter()
            .map(|glyphs| {
                // Automatic optical sizing (a plain text never sets it) and nonzero winding
                // (what usvg gives every text span).
                plan_glyphs(
                    paint,
                    &text.variations,
                    true,
                    false,
                    glyphs.iter().copied(),
                    to_device,
                    db,
                    cache,
                    &mut fresh,
                )
            })
            .collect::<Option<Vec<_>>>()
            .map(|plans| {
                *held = fresh;
                Self(plans)
            })
    }

    /// Draws the spans in order, as [`draw_text`] does.
    pub fn draw(&self, pixmap: &mut PixmapMut) {
        for plan in &self.0 {
            plan.draw(pixmap);
        }
    }

    /// The device rows (`top..bottom`) the glyphs' coverage reaches, if any.
    pub fn rows(&self) -> Option<(i32, i32)> {
        self.0
            .iter()
            .flat_map(|p| &p.glyphs)
            .filter(|(m, _, _)| m.height > 0)
            .map(|(m, _, y)| (*y, y + m.height as i32))
            .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
    }
}

/// A span's glyphs, placed on the canvas, and the colour they are filled with.
struct SpanPlan {
    color: [u16; 4],
    glyphs: Vec<(Arc<GlyphMask>, i32, i32)>,
}

/// A solid paint as resvg sets it (opacity rounded to 8 bits) and tiny-skia loads it
/// (premultiplied), in 0..=255.
fn premultiplied(c: usvg::Color, opacity: usvg::Opacity) -> [u16; 4] {
    let premultiplied = Color::from_rgba8(c.red, c.green, c.blue, opacity.to_u8()).premultiply();
    let channel = |v: f32| (v * 255.0 + 0.5) as u16;
    [
        channel(premultiplied.red()),
        channel(premultiplied.green()),
        channel(premultiplied.blue()),
        channel(premultiplied.alpha()),
    ]
}

/// The plan of one span; `Some(None)` when it draws nothing, `None` when resvg must draw the text.
/// `fresh` counts the bytes of masks rasterised for this text so far.
fn plan_span(
    span: &usvg::layout::Span,
    to_device: Transform,
    db: &fontdb::Database,
    cache: &GlyphCache,
    fresh: &mut usize,
) -> Option<Option<SpanPlan>> {
    if span.stroke.is_some()
        || span.underline.is_some()
        || span.overline.is_some()
        || span.line_through.is_some()
        || span.variations.len() > MAX_AXES
    {
        return None;
    }
    let Some(fill) = span.fill.as_ref().filter(|_| span.visible) else {
        return Some(None);
    };
    let Paint::Color(c) = fill.paint() else {
        return None;
    };
    let glyphs = span.positioned_glyphs.iter().map(|g| Placed {
        font: g.font,
        id: g.id.0,
        font_size: g.font_size(),
        outline: g.outline_transform(),
    });
    plan_glyphs(
        premultiplied(*c, fill.opacity()),
        &span.variations,
        span.font_optical_sizing == FontOpticalSizing::Auto,
        fill.rule() == usvg::FillRule::EvenOdd,
        glyphs,
        to_device,
        db,
        cache,
        fresh,
    )
    .map(Some)
}

/// Places `glyphs` (of one span) from the cache, rasterising the missing masks; `None` when
/// resvg must draw the text.
#[allow(clippy::too_many_arguments)]
fn plan_glyphs(
    color: [u16; 4],
    variations: &[usvg::FontVariation],
    optical_sizing: bool,
    even_odd: bool,
    glyphs: impl ExactSizeIterator<Item = Placed>,
    to_device: Transform,
    db: &fontdb::Database,
    cache: &GlyphCache,
    fresh: &mut usize,
) -> Option<SpanPlan> {
    let mut axes = [(0, 0); MAX_AXES];
    for (slot, v) in axes.iter_mut().zip(variations) {
        *slot = (u32::from_be_bytes(v.tag), v.value.to_bits());
    }
    let auto = optical_sizing && !variations.iter().any(|v| &v.tag == b"opsz");
    let mut placed = Vec::with_capacity(glyphs.len());
    for glyph in glyphs {
        let ts = to_device.pre_concat(glyph.outline);
        let linear = [ts.sx, ts.ky, ts.kx, ts.sy];
        let placeable = linear.iter().all(|v| v.is_finite())
            && ts.tx.abs() < MAX_COORD
            && ts.ty.abs() < MAX_COORD;
        if !placeable {
            return None;
        }
        let (x, qx) = split_phase(ts.tx);
        let (y, qy) = split_phase(ts.ty);
        let key = Key {
            font: glyph.font,
            glyph: glyph.id,
            axes,
            auto_opsz: auto.then(|| glyph.font_size.to_bits()),
            linear: linear.map(f32::to_bits),
            even_odd,
            phase: (qx, qy),
        };
        let mask = match cache.get(&key) {
            Some(mask) => mask,
            None => {
                let mask = Arc::new(rasterise(db, &key, variations, &glyph)?);
                *fresh += mask.coverage.len();
                if *fresh > MAX_FRESH_BYTES {
                    return None;
                }
                cache.insert(key, &mask);
                mask
            }
        };
        if mask.width > 0 {
            placed.push((Arc::clone(&mask), x + mask.left, y + mask.top));
        }
    }
    Some(SpanPlan {
        color,
        glyphs: placed,
    })
}

/// A device coordinate as its whole pixel and its fraction in 1/`SUBPIXEL_STEPS` steps.
fn split_phase(v: f32) -> (i32, u8) {
    let whole = v.floor();
    let steps = ((v - whole) * SUBPIXEL_STEPS).round() as i32;
    let steps_per_px = SUBPIXEL_STEPS as i32;
    if steps >= steps_per_px {
        (whole as i32 + 1, 0)
    } else {
        (whole as i32, steps as u8)
    }
}

/// Rasterises the glyph of `key` at its phase; `None` if it is too big to handle here.
fn rasterise(
    db: &fontdb::Database,
    key: &Key,
    variations: &[usvg::FontVariation],
    glyph: &Placed,
) -> Option<GlyphMask> {
    let empty = GlyphMask {
        left: 0,
        top: 0,
        width: 0,
        height: 0,
        coverage: Vec::new(),
    };
    let mut variations = variations.to_vec();
    if key.auto_opsz.is_some() {
        variations.push(usvg::FontVariation::new(*b"opsz", glyph.font_size));
    }
    let Some(outline) = outline(db, glyph.font, glyph.id, &variations) else {
        return Some(empty);
    };
    let [sx, ky, kx, sy] = key.linear.map(f32::from_bits);
    let step = 1.0 / SUBPIXEL_STEPS;
    let at = Transform::from_row(
        sx,
        ky,
        kx,
        sy,
        f32::from(key.phase.0) * step,
        f32::from(key.phase.1) * step,
    );
    let Some(path) = outline.transform(at) else {
        return Some(empty);
    };
    let b = path.bounds();
    let (left, top) = (b.left().floor(), b.top().floor());
    let (width, height) = (b.right().ceil() - left, b.bottom().ceil() - top);
    // NaN (a degenerate transform) is refused too.
    let area = width * height;
    if area.is_nan() || area > MAX_GLYPH_PIXELS as f32 {
        return None;
    }
    let (width, height) = (width.max(1.0) as u32, height.max(1.0) as u32);
    let Some(mut mask) = Mask::new(width, height) else {
        return Some(empty);
    };
    let rule = if key.even_odd {
        FillRule::EvenOdd
    } else {
        FillRule::Winding
    };
    mask.fill_path(&path, rule, true, Transform::from_translate(-left, -top));
    Some(GlyphMask {
        left: left as i32,
        top: top as i32,
        width,
        height,
        coverage: mask.take(),
    })
}

impl SpanPlan {
    fn draw(&self, pixmap: &mut PixmapMut) {
        let (cw, ch) = (pixmap.width() as i32, pixmap.height() as i32);
        // The glyphs' union, clipped to the canvas.
        let (mut x0, mut y0, mut x1, mut y1) = (cw, ch, 0, 0);
        for (m, x, y) in &self.glyphs {
            x0 = x0.min((*x).max(0));
            y0 = y0.min((*y).max(0));
            x1 = x1.max((x + m.width as i32).min(cw));
            y1 = y1.max((y + m.height as i32).min(ch));
        }
        if x0 >= x1 || y0 >= y1 {
            return;
        }
        let w = (x1 - x0) as usize;
        let mut coverage = vec![0u8; w * (y1 - y0) as usize];
        for (m, x, y) in &self.glyphs {
            let (mw, mh) = (m.width as i32, m.height as i32);
            let (cx0, cx1) = ((*x).max(x0), (x + mw).min(x1));
            if cx0 >= cx1 {
                continue;
            }
            for row in (*y).max(y0)..(y + mh).min(y1) {
                let src = ((row - y) * mw + (cx0 - x)) as usize;
                let dst = (row - y0) as usize * w + (cx0 - x0) as usize;
                let n = (cx1 - cx0) as usize;
                for (d, s) in coverage[dst..dst + n]
                    .iter_mut()
                    .zip(&m.coverage[src..src + n])
                {
                    *d = d.saturating_add(*s);
                }
            }
        }
        let stride = pixmap.width() as usize * 4;
        let data = pixmap.data_mut();
        for (i, row) in coverage.chunks_exact(w).enumerate() {
            let start = (y0 as usize + i) * stride + x0 as usize * 4;
            blend_row(&mut data[start..start + w * 4], row, self.color);
        }
    }
}

/// tiny-skia's lowp `(v + 255) >> 8`.
#[inline(always)]
fn div255(v: u16) -> u16 {
    (v + 255) >> 8
}

/// Blends `color` (premultiplied) over `pixels` with per-pixel `coverage`, exactly as tiny-skia's
/// anti-aliased solid fill does: an opaque colour is lerped by coverage (its `Source` mode), a
/// translucent one is scaled by coverage, then drawn source-over. (tiny-skia passes coverage
/// as `alpha / 255.0` and converts it back with `+ 0.5`, which gives `alpha` again: tested.)
fn blend_row(pixels: &mut [u8], coverage: &[u8], color: [u16; 4]) {
    const RUN: usize = 8;
    let opaque = color[3] == 255;
    for (px8, cov8) in pixels.chunks_mut(4 * RUN).zip(coverage.chunks(RUN)) {
        // Most of a text's box is empty: skip eight uncovered pixels at a time.
        if cov8.iter().all(|&c| c == 0) {
            continue;
        }
        for (px, &alpha) in px8.chunks_exact_mut(4).zip(cov8) {
            let c = u16::from(alpha);
            if c == 0 {
                continue;
            }
            if opaque {
                for (d, s) in px.iter_mut().zip(color) {
                    *d = div255(u16::from(*d) * (255 - c) + s * c) as u8;
                }
            } else {
                let s = color.map(|v| div255(v * c));
                let inv = 255 - s[3];
                for (d, s) in px.iter_mut().zip(s) {
                    *d = (s + div255(u16::from(*d) * inv)) as u8;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draw::draw;
    use crate::render::{parse, Limits};
    use resvg::tiny_skia::Pixmap;

    /// (pixels differing at all, largest channel difference, mean channel difference) between
    /// the cached-glyph drawing of `body` and resvg's, as per-pixel counts.
    fn compare(body: &str, cache: &GlyphCache) -> (usize, u8, f64) {
        let svg = format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="600" height="200"><rect width="600" height="200" fill="#1b2440"/>{body}</svg>"##
        );
        let fonts = crate::test_fonts::library();
        let tree = parse(&svg, &Limits::default(), &fonts.options()).expect("svg");
        let mut ours = Pixmap::new(600, 200).expect("pixmap");
        let mut theirs = ours.clone();
        draw(&tree, &[], &mut ours.as_mut(), cache);
        resvg::render(&tree, Transform::identity(), &mut theirs.as_mut());
        let mut differing = 0;
        let (mut worst, mut sum) = (0u8, 0u64);
        for (a, b) in ours
            .data()
            .chunks_exact(4)
            .zip(theirs.data().chunks_exact(4))
        {
            let d = a
                .iter()
                .zip(b)
                .map(|(x, y)| x.abs_diff(*y))
                .max()
                .unwrap_or(0);
            differing += usize::from(d > 0);
            worst = worst.max(d);
            sum += a
                .iter()
                .zip(b)
                .map(|(x, y)| u64::from(x.abs_diff(*y)))
                .sum::<u64>();
        }
        (differing, worst, sum as f64 / ours.data().len() as f64)
    }

    fn text(attrs: &str, content: &str) -> String {
        format!(r#"<text x="20.3" y="120.7" {attrs} xml:space="preserve">{content}</text>"#)
    }

    #[test]
    fn cached_glyphs_match_resvg_within_antialiasing() {
        let cases = [
            text(
                r##"font-family="Inter" font-size="68" font-weight="700" fill="#eef1ff""##,
                "Shipping faster",
            ),
            text(
                r##"font-family="Inter" font-size="18" font-weight="600" fill="#818cf8""##,
                "ENGINEERING · take 42",
            ),
            // Translucent paint, inherited from a group, and a thin weight at an odd size.
            format!(
                r#"<g fill-opacity="0.72">{}</g>"#,
                text(
                    r##"font-family="Inter" font-size="29.5" font-weight="300" fill="#ffffff""##,
                    "How a rasteriser fits."
                )
            ),
            // Right to left, and mixed directions.
            text(
                r##"font-family="Heebo" font-size="44" fill="#ffd""##,
                "עברית: כותרת עם English",
            ),
            text(
                r##"font-family="Noto Sans Arabic" font-size="40" fill="#fda""##,
                "إصدار 2.0 من Ogmint",
            ),
            // CJK (the fallback font fit_text names for it).
            text(
                r##"font-family="Noto Sans CJK SC" font-size="36" fill="#fff""##,
                "你好，世界",
            ),
        ];
        let cache = GlyphCache::default();
        for body in &cases {
            let held = cache.len();
            let (differing, worst, mean) = compare(body, &cache);
            assert!(cache.len() > held, "{body} did not take the glyph cache");
            // Glyphs sit at most 1/32 px from resvg's positions: a few edge pixels change by
            // up to a quarter of the range (a vertical edge crossing a supersample), never more
            // than a small share of the text.
            assert!(
                worst <= 112 && mean < 0.25 && differing < 1500,
                "{body}: {differing} px, worst {worst}, mean {mean}"
            );
        }
        // Drawing again from a warm cache gives the same pixels.
        let before = cache.len();
        for body in &cases {
            let (d1, w1, _) = compare(body, &cache);
            let (d2, w2, _) = compare(body, &GlyphCache::default());
            assert_eq!((d1, w1), (d2, w2), "{body}");
        }
        assert_eq!(cache.len(), before);
    }

    #[test]
    fn other_text_is_left_to_resvg() {
        let cache = GlyphCache::default();
        for body in [
            // Stroke, gradient paint, decoration, colour emoji, crisp edges, clip.
            text(r##"font-family="Inter" font-size="50" fill="#fff" stroke="#f00""##, "Stroke"),
            r##"<defs><linearGradient id="g"><stop stop-color="#f00"/><stop offset="1" stop-color="#00f"/></linearGradient></defs>"##.to_string()
                + &text(r#"font-family="Inter" font-size="50" fill="url(#g)""#, "Gradient"),
            text(r##"font-family="Inter" font-size="50" fill="#fff" text-decoration="underline""##, "Under"),
            text(r##"font-family="Noto Color Emoji" font-size="50" fill="#fff""##, "🎉🚀"),
            text(r##"font-family="Inter" font-size="50" fill="#fff" text-rendering="optimizeSpeed""##, "Crisp"),
            format!(
                r#"<clipPath id="c"><rect width="100" height="200"/></clipPath><g clip-path="url(#c)">{}</g>"#,
                text(r##"font-family="Inter" font-size="50" fill="#fff""##, "Clipped")
            ),
            // A translated group (templates have none) leaves its text to resvg.
            format!(
                r#"<g transform="translate(3.25 -10)">{}</g>"#,
                text(r##"font-family="Inter" font-size="50" fill="#fff""##, "Moved")
            ),
            format!(r#"<g opacity="0.5">{}</g>"#, text(r##"font-family="Inter" font-size="50" fill="#fff""##, "Group")),
        ] {
            assert_eq!(compare(&body, &cache).0, 0, "{body}");
        }
        assert!(cache.is_empty());
    }

    #[test]
    fn huge_and_far_text_is_bounded() {
        let cache = GlyphCache::default();
        for body in [
            text(r##"font-family="Inter" font-size="4000" fill="#fff""##, "W"),
            r##"<text x="1e30" y="50" font-family="Inter" font-size="20" fill="#fff">far</text>"##.to_string(),
            r##"<text x="-9e9" y="-9e9" font-family="Inter" font-size="20" fill="#fff">far</text>"##.to_string(),
            // Many distinct large glyphs: more new masks than one text may hold.
            text(
                r##"font-family="Inter" font-size="250" fill="#fff""##,
                &"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".repeat(20),
            ),
        ] {
            assert_eq!(compare(&body, &cache).0, 0, "{body}");
        }
        // What the refused text rasterised before it was refused stays cached, within bounds.
        assert!(cache.bytes() <= MAX_FRESH_BYTES + 2 * MAX_GLYPH_PIXELS as usize);
    }

    #[test]
    fn coverage_round_trips_as_tiny_skia_converts_it() {
        for alpha in 0..=255u8 {
            let c = (f32::from(alpha) * (1.0 / 255.0) * 255.0 + 0.5) as u16;
            assert_eq!(c, u16::from(alpha));
        }
    }

    #[test]
    fn cache_is_bounded() {
        let cache = GlyphCache::new(8, usize::MAX);
        let body = text(
            r##"font-family="Inter" font-size="30" fill="#fff""##,
            "abcdefghijklmnopqrstuvwxyz",
        );
        let (_, worst, _) = compare(&body, &cache);
        assert!(worst <= 112);
        assert!(cache.len() <= 8);
        let small = GlyphCache::new(usize::MAX, 4096);
        compare(&body, &small);
        assert!(small.bytes() <= 4096 && !small.is_empty());
        let none = GlyphCache::new(0, 0);
        compare(&body, &none);
        assert!(none.is_empty());
    }

    #[test]
    fn stats_count_hits_misses_and_bytes() {
        let cache = GlyphCache::default();
        let body = text(
            r##"font-family="Inter" font-size="30" fill="#fff""##,
            "abcab",
        );
        compare(&body, &cache);
        let first = cache.stats();
        // Five look-ups (a repeated letter may sit at another phase: a miss too).
        assert_eq!(first.hits + first.misses, 5);
        assert_eq!(first.misses as usize, first.entries);
        assert_eq!(first.bytes, cache.bytes());
        assert_eq!(first.max_bytes, GLYPH_CACHE_BYTES);
        compare(&body, &cache);
        let second = cache.stats();
        assert_eq!((second.hits, second.misses), (first.hits + 5, first.misses));
        assert_eq!(second.bytes, first.bytes);
    }
}
