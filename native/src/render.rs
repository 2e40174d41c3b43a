//! SVG → pixels → PNG, with every input bounded before work is done.
use crate::cache::{BoundedCache, CacheStats, Eviction};
use crate::deadline::Deadline;
use crate::draw::{bands_drawn, draw_within, placeholders_reached, PLACEHOLDER};
use crate::encode::{encode_bands, encode_png, encode_png_over, Encoded, BAND_ROWS};
use crate::error::{guard, RenderError, Stage};
use crate::fonts::FontLibrary;
use crate::glyphs::{GlyphCache, TextPlan};
use crate::pixels::{Pixels, Rows};
use crate::plain_text::{self, PlainText};
use resvg::tiny_skia::Pixmap;
use resvg::usvg::{Options, Tree};
use std::fmt::Write as _;
use std::sync::Arc;

/// Bounds applied to every document before it is rasterised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted SVG document, in bytes.
    pub max_svg_bytes: usize,
    /// Most XML nodes (elements, text, attributes-free) a document may have.
    pub max_nodes: u32,
    /// Deepest element nesting accepted.
    pub max_depth: usize,
    /// Longest canvas side, in pixels.
    pub max_side: u32,
    /// Largest canvas area, in pixels.
    pub max_pixels: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_svg_bytes: 8 * 1024 * 1024,
            max_nodes: 20_000,
            max_depth: 64,
            max_side: 4096,
            max_pixels: 4096 * 4096,
        }
    }
}

/// What a render reads besides its input: the fonts, the glyph coverage cache drawn from (keyed
/// by the fonts' face ids, so it belongs to them) and the limits. An `Engine` lends it out.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub fonts: &'a FontLibrary,
    pub glyphs: &'a GlyphCache,
    pub limits: &'a Limits,
}

/// Parses an SVG document into a render tree, enforcing `limits`.
pub fn parse(svg: &str, limits: &Limits, options: &Options) -> Result<Tree, RenderError> {
    let doc = parse_xml(svg, limits)?;
    Tree::from_xmltree(&doc, options).map_err(|e| RenderError::InvalidSvg(e.to_string()))
}

/// A parsed document: usvg's tree, and the plain texts laid out without usvg, each drawn in
/// the place of its placeholder path in the tree.
pub struct Document {
    pub tree: Tree,
    pub texts: Vec<TextPlan>,
}

/// Parses an SVG document as [`parse`] does, but lays out and plans its plain `<text>`
/// elements itself (`plain_text`): usvg sees a placeholder path in the place of each, so it
/// neither shapes them nor builds their outlines. The same pixels either way.
pub fn parse_document(
    svg: &str,
    limits: &Limits,
    fonts: &FontLibrary,
    glyphs: &GlyphCache,
) -> Result<Document, RenderError> {
    parse_document_within(svg, limits, fonts, glyphs, Deadline::NONE)
}

/// [`parse_document`], giving up once `deadline` has passed (checked between its steps: XML,
/// the plain texts' layout, usvg's tree).
fn parse_document_within(
    svg: &str,
    limits: &Limits,
    fonts: &FontLibrary,
    glyphs: &GlyphCache,
    deadline: Deadline,
) -> Result<Document, RenderError> {
    let options = fonts.options();
    let doc = parse_xml(svg, limits)?;
    deadline.check()?;
    // Text its fonts lack split into fallback runs; kept as it was if that breaks a limit.
    let runs = crate::fallback::split_runs(svg, &doc, fonts, limits.max_svg_bytes);
    let (svg, doc) = match runs.as_deref().map(|s| (s, parse_xml(s, limits))) {
        Some((split, Ok(split_doc))) => (split, split_doc),
        _ => (svg, doc),
    };
    deadline.check()?;
    let mut plain = plain_texts(&doc, svg, fonts, deadline)?;
    deadline.check()?;
    // A second pass leaves to usvg the texts the first could not plan (too many new glyph
    // masks, say), as their placeholders' transforms are known only once usvg has parsed them.
    for _ in 0..2 {
        if plain.is_empty() {
            break;
        }
        let tree = parse(&with_placeholders(svg, &plain), limits, &options)?;
        // Each placeholder must be drawn where the text would have been, with a transform its
        // glyphs can be planned with; otherwise usvg lays out every text after all.
        let mut reached = placeholders_reached(&tree).unwrap_or_default();
        reached.sort_unstable_by_key(|(n, _)| *n);
        if !reached.iter().map(|(n, _)| *n).eq(0..plain.len()) {
            break;
        }
        let db = fonts.database();
        let mut held = 0;
        let plans: Vec<Option<TextPlan>> = plain
            .iter()
            .zip(&reached)
            .map(|((_, text), (_, to_device))| {
                TextPlan::of_plain(text, *to_device, db, glyphs, &mut held)
            })
            .collect();
        if plans.iter().all(Option::is_some) {
            let texts = plans.into_iter().flatten().collect();
            return Ok(Document { tree, texts });
        }
        plain = plain
            .into_iter()
            .zip(plans)
            .filter_map(|(text, plan)| plan.map(|_| text))
            .collect();
        deadline.check()?;
    }
    let tree =
        Tree::from_xmltree(&doc, &options).map_err(|e| RenderError::InvalidSvg(e.to_string()))?;
    Ok(Document {
        tree,
        texts: Vec::new(),
    })
}

/// `svg` with each of `texts` replaced by its placeholder path.
fn with_placeholders(svg: &str, texts: &[(std::ops::Range<usize>, PlainText)]) -> String {
    let mut replaced = String::with_capacity(svg.len());
    let mut at = 0;
    for (n, (range, _)) in texts.iter().enumerate() {
        replaced.push_str(&svg[at..range.start]);
        let _ = write!(
            replaced,
            r#"<path id="{PLACEHOLDER}{n}" d="M0 0H1V1Z" fill="none"/>"#
        );
        at = range.end;
    }
    replaced.push_str(&svg[at..]);
    replaced
}

/// The `<text>` elements of `doc` that `plain_text` lays out and the glyph cache can draw,
/// with their byte ranges in `svg`, in document order. None when the document has CSS or
/// `<use>` (which could style or copy a text), or already names a placeholder.
fn plain_texts(
    doc: &roxmltree::Document,
    svg: &str,
    fonts: &FontLibrary,
    deadline: Deadline,
) -> Result<Vec<(std::ops::Range<usize>, PlainText)>, RenderError> {
    let risky = |n: &roxmltree::Node| {
        n.is_pi() || (n.is_element() && matches!(n.tag_name().name(), "style" | "use"))
    };
    if svg.contains(PLACEHOLDER) || doc.descendants().any(|n| risky(&n)) {
        return Ok(Vec::new());
    }
    let mut texts = Vec::new();
    for n in doc
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "text")
    {
        deadline.check()?;
        if let Some(text) = plain_text::lay_out(n, fonts).filter(TextPlan::plannable) {
            texts.push((n.range(), text));
        }
    }
    Ok(texts)
}

/// Parses the XML of a document, enforcing `limits`.
fn parse_xml<'a>(svg: &'a str, limits: &Limits) -> Result<roxmltree::Document<'a>, RenderError> {
    if svg.len() > limits.max_svg_bytes {
        return Err(RenderError::InputTooLarge {
            size: svg.len(),
            limit: limits.max_svg_bytes,
        });
    }
    let xml_opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: limits.max_nodes,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(svg, xml_opts).map_err(|e| match e {
        roxmltree::Error::NodesLimitReached => RenderError::TooManyNodes {
            limit: limits.max_nodes,
        },
        other => RenderError::InvalidSvg(other.to_string()),
    })?;
    check_depth(&doc, limits.max_depth)?;
    Ok(doc)
}

fn check_depth(doc: &roxmltree::Document, limit: usize) -> Result<(), RenderError> {
    let mut stack = vec![(doc.root(), 0usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth > limit {
            return Err(RenderError::TooDeep { limit });
        }
        stack.extend(
            node.children()
                .filter(|c| c.is_element())
                .map(|c| (c, depth + 1)),
        );
    }
    Ok(())
}

/// Rasterises a parsed document at its natural size, glyphs drawn through `glyphs`.
pub fn rasterise(
    doc: &Document,
    limits: &Limits,
    glyphs: &GlyphCache,
) -> Result<Pixmap, RenderError> {
    rasterise_within(doc, limits, glyphs, Deadline::NONE)
}

/// [`rasterise`], giving up once `deadline` has passed (checked before each node is drawn).
fn rasterise_within(
    doc: &Document,
    limits: &Limits,
    glyphs: &GlyphCache,
    deadline: Deadline,
) -> Result<Pixmap, RenderError> {
    let size = doc.tree.size().to_int_size();
    let (width, height) = (size.width(), size.height());
    if width > limits.max_side
        || height > limits.max_side
        || u64::from(width) * u64::from(height) > limits.max_pixels
    {
        return Err(RenderError::CanvasTooLarge { width, height });
    }
    let mut pixmap =
        Pixmap::new(width, height).ok_or(RenderError::CanvasTooLarge { width, height })?;
    draw_within(
        &doc.tree,
        &doc.texts,
        &mut pixmap.as_mut(),
        glyphs,
        deadline,
    )?;
    Ok(pixmap)
}

/// The whole pipeline: SVG text in, PNG bytes out, or [`RenderError::DeadlineExceeded`] once
/// `deadline` has passed. A panic inside a stage (usvg/resvg on hostile input, say) becomes
/// [`RenderError::Internal`] naming it, never a crashed worker.
pub fn render_png(svg: &str, cx: Context, deadline: Deadline) -> Result<Vec<u8>, RenderError> {
    let pixmap = render_pixmap(svg, cx, deadline)?;
    deadline.check()?;
    guard(Stage::Encode, || encode_png(&pixmap))?
}

/// The pixels of [`render_png`] before encoding (premultiplied RGBA).
pub fn render_pixmap(svg: &str, cx: Context, deadline: Deadline) -> Result<Pixmap, RenderError> {
    let doc = guard(Stage::Parse, || {
        parse_document_within(svg, cx.limits, cx.fonts, cx.glyphs, deadline)
    })??;
    guard(Stage::Raster, || {
        rasterise_within(&doc, cx.limits, cx.glyphs, deadline)
    })?
}

/// Renders `foreground` over the raster of `background` (taken from `cache` when present under
/// `key`) and encodes the result as PNG.
///
/// Templates split into static art (gradients, glows, panels: most of the raster time) and
/// per-request content (text, images); only the latter is parsed and drawn on every call, and
/// only the rows it changed are compressed again. Gives up with
/// [`RenderError::DeadlineExceeded`] once `deadline` has passed.
pub fn render_layers_png(
    background: &str,
    foreground: &str,
    key: &str,
    cx: Context,
    cache: &BackgroundCache,
    deadline: Deadline,
) -> Result<Vec<u8>, RenderError> {
    let drawn = draw_layers(background, foreground, key, cx, cache, Use::Png, deadline)?;
    deadline.check()?;
    guard(Stage::Encode, || match &drawn.base.encoded {
        Some(encoded) => encode_png_over(&drawn.pixmap, &drawn.base.pixmap, encoded, &drawn.bands),
        // A background's first use: every band was copied and drawn over, and the whole image
        // is compressed in one pass, as `render_png` does.
        None => encode_png(&drawn.pixmap),
    })?
}

/// [`render_png`] without the encoding: straight pixels for the lossy formats (flattened on
/// `matte` when given), written out by the caller.
pub fn render_pixels(
    svg: &str,
    cx: Context,
    matte: Option<[u8; 3]>,
    deadline: Deadline,
) -> Result<Pixels, RenderError> {
    let pixmap = render_pixmap(svg, cx, deadline)?;
    deadline.check()?;
    guard(Stage::Encode, || Pixels::of(pixmap, matte))
}

/// [`render_layers_png`] without the encoding, as [`render_pixels`]: every row of the
/// background is written, not only the bands the foreground reached.
pub fn render_layers_pixels(
    background: &str,
    foreground: &str,
    key: &str,
    cx: Context,
    cache: &BackgroundCache,
    matte: Option<[u8; 3]>,
    deadline: Deadline,
) -> Result<Pixels, RenderError> {
    let drawn = draw_layers(
        background,
        foreground,
        key,
        cx,
        cache,
        Use::Pixels,
        deadline,
    )?;
    deadline.check()?;
    let (width, height) = (drawn.pixmap.width(), drawn.pixmap.height());
    guard(Stage::Encode, || {
        Pixels::new(Box::new(drawn), width, height, matte)
    })
}

/// A foreground drawn over a background, before encoding.
struct Drawn {
    base: Arc<Background>,
    /// The background's pixels with the foreground drawn over them, in `bands` only: the
    /// other rows are left blank, never copied.
    pixmap: Pixmap,
    /// Which bands of the background's encoding the foreground may have drawn in.
    bands: Vec<bool>,
}

impl Rows for Drawn {
    /// Bands the foreground never reached are read from the cached background in place.
    fn parts(&self) -> Vec<&[u8]> {
        let band_bytes = BAND_ROWS * self.base.pixmap.width() as usize * 4;
        self.pixmap
            .data()
            .chunks(band_bytes)
            .zip(self.base.pixmap.data().chunks(band_bytes))
            .zip(&self.bands)
            .map(|((over, base), reached)| if *reached { over } else { base })
            .collect()
    }
}

/// What a layered render makes of its background.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// A PNG: the background's bands are encoded for reuse once it is used a second time.
    Png,
    /// Straight pixels for another encoder: the background is never encoded.
    Pixels,
}

/// The pixels of [`render_layers_png`] before encoding, and the background they were drawn on.
fn draw_layers(
    background: &str,
    foreground: &str,
    key: &str,
    cx: Context,
    cache: &BackgroundCache,
    usage: Use,
    deadline: Deadline,
) -> Result<Drawn, RenderError> {
    let base = cache.get_or_render(key, background, usage == Use::Png, || {
        let pixmap = render_pixmap(background, cx, deadline)?;
        deadline.check()?;
        Ok(pixmap)
    })?;
    let Document { tree, texts } = guard(Stage::Parse, || {
        parse_document_within(foreground, cx.limits, cx.fonts, cx.glyphs, deadline)
    })??;
    let size = tree.size().to_int_size();
    let (width, height) = (base.pixmap.width(), base.pixmap.height());
    if (size.width(), size.height()) != (width, height) {
        return Err(RenderError::InvalidSvg(format!(
            "foreground is {}x{} but background is {width}x{height}",
            size.width(),
            size.height(),
        )));
    }
    // Only the bands the foreground reaches get the background's pixels: copying all 3 MB of
    // a card's background cost more than drawing its text. The rest stays untouched, zeroed
    // pages never written.
    let band_rows = BAND_ROWS;
    let bands = match (&base.encoded, usage) {
        // Encoded in one pass: the whole background is needed.
        (None, Use::Png) => vec![true; height.div_ceil(band_rows as u32) as usize],
        _ => bands_drawn(&tree, &texts, height, band_rows),
    };
    let mut pixmap =
        Pixmap::new(width, height).ok_or(RenderError::CanvasTooLarge { width, height })?;
    let band_bytes = band_rows * width as usize * 4;
    for ((dst, src), _) in pixmap
        .data_mut()
        .chunks_mut(band_bytes)
        .zip(base.pixmap.data().chunks(band_bytes))
        .zip(&bands)
        .filter(|(_, drawn)| **drawn)
    {
        dst.copy_from_slice(src);
    }
    guard(Stage::Raster, || {
        draw_within(&tree, &texts, &mut pixmap.as_mut(), cx.glyphs, deadline)
    })??;
    Ok(Drawn {
        base,
        pixmap,
        bands,
    })
}

/// A rasterised background, with its PNG data encoded in reusable bands once it is reused.
pub struct Background {
    /// The pixels foregrounds are drawn over.
    pub pixmap: Arc<Pixmap>,
    /// `pixmap` encoded, for the bands a foreground leaves untouched: made when the background
    /// is first reused for a PNG. A background drawn on once (a new palette, a one-off colour)
    /// never pays for the thorough encoding its reuse needs; its render is encoded whole.
    pub encoded: Option<Encoded>,
}

impl Background {
    /// `pixmap`, its bands not encoded yet.
    pub fn new(pixmap: Pixmap) -> Self {
        Self {
            pixmap: Arc::new(pixmap),
            encoded: None,
        }
    }

    /// The same pixels, their bands encoded for reuse.
    pub fn encoded(&self) -> Result<Self, RenderError> {
        Ok(Self {
            pixmap: Arc::clone(&self.pixmap),
            encoded: Some(encode_bands(&self.pixmap)?),
        })
    }

    /// Bytes held: the pixels and their compressed bands.
    fn size(&self) -> usize {
        self.pixmap.data().len() + self.encoded.as_ref().map_or(0, Encoded::size)
    }
}

/// Most backgrounds kept; with 1200x630 cards the byte bound below is reached first.
pub const BACKGROUND_CACHE_ENTRIES: usize = 64;
/// Most pixel bytes kept (a 1200x630 card is ~3 MB).
pub const BACKGROUND_CACHE_BYTES: usize = 128 * 1024 * 1024;

/// Rasterised backgrounds, least recently used evicted first (one at a time), bounded by count
/// and bytes.
pub struct BackgroundCache(BoundedCache<String, CachedBackground>);

struct CachedBackground {
    /// The document the pixels came from: a key reused for other art re-renders, never lies.
    svg: String,
    background: Arc<Background>,
}

impl Default for BackgroundCache {
    fn default() -> Self {
        Self::new(BACKGROUND_CACHE_ENTRIES, BACKGROUND_CACHE_BYTES)
    }
}

impl BackgroundCache {
    /// An empty cache holding at most `max_entries` backgrounds and `max_bytes` of pixels.
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self(BoundedCache::new(max_entries, max_bytes, Eviction::Oldest))
    }

    /// Number of backgrounds held.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no background is held.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Hits, misses and bytes held so far.
    pub fn stats(&self) -> CacheStats {
        self.0.stats()
    }

    /// The background cached under `key` for `svg`, or the one `render` draws (then cached).
    /// With `bands`, a background found in the cache is returned encoded for reuse (encoded
    /// now, and kept so, if this is its first reuse). The lock is not held while rendering or
    /// encoding; concurrent misses each render once.
    pub fn get_or_render(
        &self,
        key: &str,
        svg: &str,
        bands: bool,
        render: impl FnOnce() -> Result<Pixmap, RenderError>,
    ) -> Result<Arc<Background>, RenderError> {
        if let Some(hit) = self.0.get_if(key, |e| e.svg == svg) {
            if !bands || hit.background.encoded.is_some() {
                return Ok(Arc::clone(&hit.background));
            }
            let encoded = guard(Stage::Encode, || hit.background.encoded())??;
            return Ok(self.keep(key, svg, encoded));
        }
        let background = Background::new(render()?);
        Ok(self.keep(key, svg, background))
    }

    /// Caches `background` under `key` for `svg`, replacing what was there.
    fn keep(&self, key: &str, svg: &str, background: Background) -> Arc<Background> {
        let background = Arc::new(background);
        // Bytes held: the pixels, their encoding and the document (up to the SVG size limit).
        let size = background.size() + svg.len();
        let entry = CachedBackground {
            svg: svg.to_string(),
            background: Arc::clone(&background),
        };
        self.0.insert(key.to_string(), Arc::new(entry), size);
        background
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" width="320" height="160">"#;
    const ART: &str = r##"<defs><linearGradient id="bg" x2="1" y2="1"><stop stop-color="#2a0f1f"/><stop offset="1" stop-color="#3d1630"/></linearGradient><radialGradient id="glow" cx="1" cy="0" r="0.9"><stop stop-color="#fb923c" stop-opacity="0.35"/><stop offset="1" stop-color="#fb923c" stop-opacity="0"/></radialGradient></defs><rect width="320" height="160" fill="url(#bg)"/><rect width="320" height="160" fill="url(#glow)"/><rect x="10" y="10" width="300" height="140" rx="12" fill="#3d1630" fill-opacity="0.55"/>"##;
    const CONTENT: &str = r##"<rect x="20" y="20" width="60" height="20" rx="10" fill="#fb923c" fill-opacity="0.18"/><text x="24" y="90" font-family="Inter" font-weight="700" font-size="40" fill="#fff1e6">Layered</text>"##;

    fn doc(body: &str) -> String {
        format!("{HEAD}{body}</svg>")
    }

    fn blank(side: u32) -> Result<Pixmap, RenderError> {
        Pixmap::new(side, side).ok_or(RenderError::Encode("pixmap".into()))
    }

    fn size_of(side: u32, bands: bool) -> usize {
        let background = Background::new(blank(side).expect("blank"));
        match bands {
            true => background.encoded().expect("encoded").size(),
            false => background.size(),
        }
    }

    /// The whole image of `drawn`: its blank bands filled in from the background.
    fn filled(drawn: &Drawn) -> Pixmap {
        let mut pixmap = drawn.pixmap.clone();
        let band_bytes = BAND_ROWS * pixmap.width() as usize * 4;
        let base = drawn.base.pixmap.data().chunks(band_bytes);
        for ((dst, src), used) in pixmap
            .data_mut()
            .chunks_mut(band_bytes)
            .zip(base)
            .zip(&drawn.bands)
        {
            if !used {
                dst.copy_from_slice(src);
            }
        }
        pixmap
    }

    fn decode(png: &[u8]) -> Vec<u8> {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .expect("png");
        let mut decoded = vec![0; decoder.output_buffer_size().expect("size")];
        decoder.next_frame(&mut decoded).expect("frame");
        decoded
    }

    #[test]
    fn layers_match_single_pass() {
        let cx = crate::test_fonts::engine().context();
        let cache = BackgroundCache::default();
        let (bg, fg) = (doc(ART), doc(CONTENT));
        // The first render draws over a copy of the whole background, its bands not encoded.
        let first =
            draw_layers(&bg, &fg, "art", cx, &cache, Use::Png, Deadline::NONE).expect("first");
        assert!(first.base.encoded.is_none() && !first.bands.contains(&false));
        let once = render_layers_png(&bg, &fg, "art2", cx, &cache, Deadline::NONE).expect("once");
        let drawn =
            draw_layers(&bg, &fg, "art", cx, &cache, Use::Png, Deadline::NONE).expect("layers");
        assert!(drawn.base.encoded.is_some());
        assert_eq!(first.pixmap.data(), filled(&drawn).data());
        // Some bands were left blank (the content does not reach them): fill them in.
        assert!(drawn.bands.contains(&false) && drawn.bands.contains(&true));
        let layered = filled(&drawn);
        let whole = parse_document(
            &doc(&format!("{ART}{CONTENT}")),
            cx.limits,
            cx.fonts,
            cx.glyphs,
        )
        .and_then(|d| rasterise(&d, cx.limits, cx.glyphs))
        .expect("single pass");
        let worst = layered
            .data()
            .iter()
            .zip(whole.data())
            .map(|(a, b)| a.abs_diff(*b))
            .max();
        assert!(
            worst.is_some_and(|d| d <= 1),
            "largest channel difference {worst:?}"
        );
        // The PNG (unchanged bands copied from the cached background) holds exactly those pixels.
        let png = render_layers_png(&bg, &fg, "art", cx, &cache, Deadline::NONE).expect("png");
        let decoded = decode(&png);
        let rgb: Vec<u8> = layered
            .data()
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        assert!(decoded == rgb, "decoded PNG differs from the drawn pixels");
        assert!(decode(&once) == rgb, "the first render's PNG differs");
        // The second call is served from the cache and draws the same pixels.
        let again =
            draw_layers(&bg, &fg, "art", cx, &cache, Use::Png, Deadline::NONE).expect("cached");
        assert!(Arc::ptr_eq(&again.base, &drawn.base));
        assert_eq!(filled(&again).data(), layered.data());
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn whole_scales_keep_the_glyph_cache() {
        let cx = crate::test_fonts::engine().context();
        let at = |size: &str| {
            format!(
                r##"<svg xmlns="http://www.w3.org/2000/svg" {size} viewBox="0 0 320 160">{ART}<text font-family="Inter" font-size="40" fill="#fff1e6" xml:space="preserve"><tspan x="24" y="90">Plain</tspan></text></svg>"##
            )
        };
        let plans = |svg: &str| {
            parse_document(svg, cx.limits, cx.fonts, cx.glyphs)
                .expect("svg")
                .texts
                .len()
        };
        // @2x and @3x: the text is drawn from the glyph cache, as at 1:1.
        assert_eq!(plans(&at(r#"width="320" height="160""#)), 1);
        assert_eq!(plans(&at(r#"width="640" height="320""#)), 1);
        assert_eq!(plans(&at(r#"width="960" height="480""#)), 1);
        // Covering another aspect moves glyph origins off their grid: usvg lays the text out.
        let covered = r#"width="300" height="400" preserveAspectRatio="xMidYMid slice""#;
        assert_eq!(plans(&at(covered)), 0);
        assert_eq!(plans(&at(r#"width="480" height="240""#)), 0);
    }

    #[test]
    fn layers_must_share_a_size() {
        let engine = crate::test_fonts::fontless(Limits::default());
        let small = r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>"#;
        let err = draw_layers(
            &doc(ART),
            small,
            "k",
            engine.context(),
            &BackgroundCache::default(),
            Use::Png,
            Deadline::NONE,
        );
        assert!(matches!(err, Err(RenderError::InvalidSvg(_))));
    }

    #[test]
    fn both_layers_are_limited() {
        let engine = crate::test_fonts::fontless(Limits {
            max_side: 200,
            max_pixels: 200 * 200,
            ..Limits::default()
        });
        let cache = BackgroundCache::default();
        let small = r#"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"/>"#;
        let big = doc(ART);
        let bg_too_big = draw_layers(
            &big,
            small,
            "a",
            engine.context(),
            &cache,
            Use::Png,
            Deadline::NONE,
        );
        assert!(matches!(
            bg_too_big,
            Err(RenderError::CanvasTooLarge { .. })
        ));
        let engine = crate::test_fonts::fontless(Limits {
            max_svg_bytes: 100,
            ..Limits::default()
        });
        let fg_too_long = draw_layers(
            small,
            &big,
            "b",
            engine.context(),
            &cache,
            Use::Png,
            Deadline::NONE,
        );
        assert!(matches!(
            fg_too_long,
            Err(RenderError::InputTooLarge { .. })
        ));
    }

    #[test]
    fn an_expired_deadline_abandons_the_render_and_caches_nothing() {
        let engine = crate::test_fonts::fontless(Limits::default());
        let expired = Deadline::after(std::time::Duration::ZERO);
        let whole = engine.render_png(&doc(ART), expired);
        assert_eq!(whole, Err(RenderError::DeadlineExceeded));
        assert!(engine.render_png(&doc(ART), Deadline::NONE).is_ok());
        let layered = engine.render_layers_png(&doc(ART), &doc(""), "k", expired);
        assert_eq!(layered, Err(RenderError::DeadlineExceeded));
        assert_eq!(engine.cache_stats()[1].1.entries, 0);
    }

    #[test]
    fn key_reused_for_other_art_rerenders() {
        let cache = BackgroundCache::default();
        let one = |_: ()| blank(1);
        let first = cache
            .get_or_render("k", "<a/>", false, || one(()))
            .expect("first");
        let same = cache
            .get_or_render("k", "<a/>", false, || panic!("must be cached"))
            .expect("hit");
        assert!(Arc::ptr_eq(&first, &same));
        let other = cache
            .get_or_render("k", "<b/>", false, || one(()))
            .expect("other art");
        assert!(!Arc::ptr_eq(&first, &other));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn cache_is_bounded_and_evicts_least_recently_used() {
        let pixmap = || blank(10);
        let cache = BackgroundCache::new(3, usize::MAX);
        for key in ["a", "b", "c"] {
            cache.get_or_render(key, "", false, pixmap).expect("render");
        }
        cache
            .get_or_render("a", "", false, || panic!("a is cached"))
            .expect("hit");
        cache.get_or_render("d", "", false, pixmap).expect("render");
        assert_eq!(cache.len(), 3);
        // "b" was the least recently used, so it is the one that went.
        let mut rendered = false;
        cache
            .get_or_render("b", "", false, || {
                rendered = true;
                pixmap()
            })
            .expect("render");
        assert!(rendered);
        cache
            .get_or_render("a", "", false, || panic!("a survived"))
            .expect("hit");

        let one_size = size_of(10, false);
        let by_bytes = BackgroundCache::new(100, 2 * one_size + one_size / 2);
        for key in ["a", "b", "c", "d"] {
            by_bytes
                .get_or_render(key, "", false, pixmap)
                .expect("render");
        }
        assert_eq!(by_bytes.len(), 2);
        // The documents kept count too.
        let long = "x".repeat(one_size);
        let with_documents = BackgroundCache::new(100, 2 * one_size + one_size / 2);
        for key in ["a", "b"] {
            with_documents
                .get_or_render(key, &long, false, pixmap)
                .expect("render");
        }
        assert_eq!(with_documents.len(), 1);
        assert_eq!(with_documents.stats().bytes, 2 * one_size);
    }

    #[test]
    fn stats_count_hits_misses_and_bytes() {
        let cache = BackgroundCache::default();
        cache
            .get_or_render("a", "<a/>", true, || blank(10))
            .expect("miss");
        // Unencoded until reused for a PNG; then its encoding counts too.
        assert_eq!(cache.stats().bytes, size_of(10, false) + "<a/>".len());
        let hit = cache
            .get_or_render("a", "<a/>", true, || blank(10))
            .expect("hit");
        assert!(hit.encoded.is_some());
        assert_eq!(cache.stats().bytes, size_of(10, true) + "<a/>".len());
        cache
            .get_or_render("a", "<b/>", true, || blank(10))
            .expect("other art");
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses, stats.entries), (1, 2, 1));
        assert_eq!(stats.bytes, size_of(10, false) + "<b/>".len());
        assert_eq!(stats.max_bytes, BACKGROUND_CACHE_BYTES);
    }

    #[test]
    fn pixels_never_encode_the_background() {
        let cache = BackgroundCache::default();
        for _ in 0..3 {
            let hit = cache
                .get_or_render("a", "<a/>", false, || blank(10))
                .expect("render");
            assert!(hit.encoded.is_none());
        }
    }
}
