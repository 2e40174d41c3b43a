//! Plain `<text>` elements laid out as usvg lays them out, without usvg's text pipeline.
//!
//! usvg shapes every text and then builds the outline of every glyph (`flatten`), which
//! nothing here uses: `glyphs` draws text from cached coverage, placed by usvg's layout.
//! For the text `text.rs` emits (one `<tspan x y>` chunk per line or direction run, one solid
//! fill, no transform), this module repeats usvg 0.49's layout step for step — the same font
//! query, harfrust shaping per bidi run, clusters, letter spacing and transforms, in the same
//! floating-point order — so each glyph gets bit for bit the font, id and transform usvg
//! gives it (the tests compare them). Anything outside that subset is left to usvg.
use crate::fonts::FontLibrary;
use resvg::tiny_skia::Transform;
use resvg::usvg::fontdb::{self, Database, ID};
use resvg::usvg::{ApproxZeroUlps, Color, FontVariation, Opacity};
use roxmltree::Node;
use svgtypes::{FontFamily, Length, LengthUnit};

const SVG_NS: &str = "http://www.w3.org/2000/svg";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// usvg's default family (`Options::font_family`, set by `FontLibrary::options`).
const DEFAULT_FAMILY: &str = crate::fonts::DEFAULT_FAMILY;

/// A glyph placed as usvg places it: what `glyphs` needs of a `usvg::layout::PositionedGlyph`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    pub font: ID,
    pub id: u32,
    pub font_size: f32,
    /// Font units (y up) → user space, as `PositionedGlyph::outline_transform`.
    pub outline: Transform,
}

/// A text element's paint and its chunks' glyphs (one usvg span per chunk).
#[derive(Debug, Clone)]
pub struct PlainText {
    pub color: Color,
    pub opacity: Opacity,
    /// The variations usvg gives every span (`wght` from `font-weight`).
    pub variations: Vec<FontVariation>,
    pub chunks: Vec<Vec<Placed>>,
}

/// Lays out `text` (a `<text>` element) as usvg would, or `None` if it is outside the subset
/// handled here. The caller makes sure the document has no CSS and no `<use>`.
pub fn lay_out(text: Node, fonts: &FontLibrary) -> Option<PlainText> {
    let db = fonts.database();
    if !is_svg(text, "text") || !attributes_within(text, TEXT_ATTRIBUTES) {
        return None;
    }
    if text.attribute((XML_NS, "space")) != Some("preserve") {
        return None;
    }
    for ancestor in text.ancestors().skip(1).filter(Node::is_element) {
        let root = ancestor.parent().is_some_and(|p| p.is_root());
        let allowed = if root {
            is_svg(ancestor, "svg") && attributes_within(ancestor, ROOT_ATTRIBUTES)
        } else {
            is_svg(ancestor, "g") && attributes_within(ancestor, GROUP_ATTRIBUTES)
        };
        if !allowed {
            return None;
        }
    }
    let font_size = user_length(text.attribute("font-size")?, None)?;
    if !(font_size > 0.0 && font_size.is_finite()) {
        return None;
    }
    let weight = font_weight(text.attribute("font-weight"));
    let letter_spacing = match text.attribute("letter-spacing") {
        Some(v) => user_length(v, Some(font_size))?,
        None => 0.0,
    };
    let color = match text.attribute("fill") {
        Some(v) => match svgtypes::Paint::from_str(v) {
            Ok(svgtypes::Paint::Color(c)) => c,
            Ok(_) => return None,
            // usvg's fallback for an unparseable fill.
            Err(_) => svgtypes::Color::black(),
        },
        None => svgtypes::Color::black(),
    };
    let fill_opacity = text
        .ancestors()
        .find(|n| n.has_attribute("fill-opacity"))
        .and_then(|n| opacity(n.attribute("fill-opacity")?))
        .unwrap_or(Opacity::ONE);
    let variations = vec![FontVariation::new(*b"wght", f32::from(weight))];
    let mut chunks = Vec::new();
    for tspan in text.children() {
        if !is_svg(tspan, "tspan") || !attributes_within(tspan, TSPAN_ATTRIBUTES) {
            return None;
        }
        let x = single_length(tspan.attribute("x")?)?;
        let y = single_length(tspan.attribute("y")?)?;
        let mut content = tspan.children();
        let chars = match (content.next(), content.next()) {
            (None, _) => continue,
            (Some(t), None) if t.is_text() => t.text()?,
            _ => return None,
        };
        // usvg turns these into spaces under `xml:space="preserve"`; text.rs never emits them.
        if chars.chars().any(|c| matches!(c, '\n' | '\r' | '\t')) {
            return None;
        }
        let families = tspan
            .ancestors()
            .find(|n| n.has_attribute("font-family"))
            .and_then(|n| n.attribute("font-family"))
            .unwrap_or("");
        let font = select_font(db, families, weight, &variations)?;
        let glyphs = shape(fonts, &font, chars, font_size, &variations)?;
        chunks.push(place(chars, &font, glyphs, font_size, letter_spacing, x, y));
    }
    Some(PlainText {
        color: Color::new_rgb(color.red, color.green, color.blue),
        opacity: Opacity::new_u8(color.alpha) * fill_opacity,
        variations,
        chunks,
    })
}

const TEXT_ATTRIBUTES: &[&str] = &[
    "font-family",
    "font-weight",
    "font-size",
    "fill",
    "fill-opacity",
    "letter-spacing",
];
const TSPAN_ATTRIBUTES: &[&str] = &["x", "y", "font-family"];
const GROUP_ATTRIBUTES: &[&str] = &["fill-opacity"];
// The root's size and aspect only place the user space on the canvas: a transform the text is
// planned with (`render::parse_document`), not part of its layout.
const ROOT_ATTRIBUTES: &[&str] = &[
    "width",
    "height",
    "viewBox",
    "preserveAspectRatio",
    "version",
];

fn is_svg(node: Node, name: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == name
        && node.tag_name().namespace() == Some(SVG_NS)
}

/// Whether every attribute of `node` is in `allowed` (no namespace), `xml:space` aside.
fn attributes_within(node: Node, allowed: &[&str]) -> bool {
    node.attributes().all(|a| match a.namespace() {
        None => allowed.contains(&a.name()),
        Some(ns) => ns == XML_NS && a.name() == "space",
    })
}

/// A length in user units as usvg converts it (`number as f32`), `em` relative to `em`.
fn user_length(value: &str, em: Option<f32>) -> Option<f32> {
    let length: Length = value.parse().ok()?;
    let n = length.number as f32;
    match length.unit {
        LengthUnit::None | LengthUnit::Px => Some(n),
        LengthUnit::Em => em.map(|size| n * size),
        _ => None,
    }
}

/// An `x`/`y` list of exactly one plain length.
fn single_length(value: &str) -> Option<f32> {
    let mut list = svgtypes::LengthListParser::from(value);
    let length = list.next()?.ok()?;
    if list.next().is_some() || !matches!(length.unit, LengthUnit::None | LengthUnit::Px) {
        return None;
    }
    Some(length.number as f32)
}

/// `fill-opacity` as usvg parses it (a number or a percentage, clamped).
fn opacity(value: &str) -> Option<Opacity> {
    let length: Length = value.parse().ok()?;
    match length.unit {
        LengthUnit::Percent => Some(Opacity::new_clamped(length.number as f32 / 100.0)),
        LengthUnit::None => Some(Opacity::new_clamped(length.number as f32)),
        _ => None,
    }
}

/// usvg's `resolve_font_weight` for a weight set on the text element only.
fn font_weight(value: Option<&str>) -> u16 {
    match value.unwrap_or("") {
        "normal" | "400" => 400,
        "bold" | "700" => 700,
        "100" => 100,
        "200" => 200,
        "300" => 300,
        "500" => 500,
        "600" => 600,
        "800" => 800,
        "900" => 900,
        // From 400, as Chrome does (see usvg).
        "bolder" => 700,
        "lighter" => 200,
        _ => 400,
    }
}

/// The font usvg resolves (`load_font`): what layout needs of it.
struct Font {
    id: ID,
    units_per_em: u16,
    /// Ascent and descent in font units, rounded as usvg rounds them.
    ascent: i16,
    descent: i16,
    /// Whether the font has an `opsz` axis (usvg then sets it to the font size).
    opsz: bool,
}

/// usvg's default font selector and `load_font`, refusing colour fonts (drawn by resvg).
fn select_font(
    db: &Database,
    families: &str,
    weight: u16,
    variations: &[FontVariation],
) -> Option<Font> {
    let mut parsed = svgtypes::parse_font_families(families).unwrap_or_default();
    if parsed.is_empty() {
        parsed.push(FontFamily::Named(DEFAULT_FAMILY.to_string()));
    }
    let mut names: Vec<fontdb::Family> = parsed
        .iter()
        .map(|f| match f {
            FontFamily::Serif => fontdb::Family::Serif,
            FontFamily::SansSerif => fontdb::Family::SansSerif,
            FontFamily::Cursive => fontdb::Family::Cursive,
            FontFamily::Fantasy => fontdb::Family::Fantasy,
            FontFamily::Monospace => fontdb::Family::Monospace,
            FontFamily::Named(s) => fontdb::Family::Name(s),
        })
        .collect();
    names.push(fontdb::Family::Serif);
    let id = db.query(&fontdb::Query {
        families: &names,
        weight: fontdb::Weight(weight),
        stretch: fontdb::Stretch::Normal,
        style: fontdb::Style::Normal,
    })?;
    db.with_face_data(id, |data, index| {
        use skrifa::MetadataProvider;
        let font = skrifa::FontRef::from_index(data, index).ok()?;
        let colour = [b"COLR", b"CBDT", b"sbix", b"SVG "]
            .iter()
            .any(|t| font.table_data(skrifa::Tag::new(t)).is_some());
        if colour {
            return None;
        }
        let location = font.axes().location(
            variations
                .iter()
                .map(|v| (skrifa::Tag::from_be_bytes(v.tag), v.value)),
        );
        let metrics = font.metrics(skrifa::prelude::Size::unscaled(), &location);
        if !(16..=16384).contains(&metrics.units_per_em) {
            return None;
        }
        // `load_font` fails (and usvg drops the span) when no x-height can be derived.
        let x_height = metrics
            .x_height
            .filter(|x| *x > 0.0)
            .and_then(|x| u16::try_from(x.round() as i32).ok())
            .filter(|x| *x != 0)
            .or_else(|| {
                let derived = (metrics.ascent - metrics.descent) * 0.45;
                u16::try_from(derived.round() as i32)
                    .ok()
                    .filter(|x| *x != 0)
            });
        x_height.map(|_| Font {
            id,
            units_per_em: metrics.units_per_em,
            ascent: metrics.ascent.round() as i16,
            descent: metrics.descent.round() as i16,
            opsz: font.axes().get_by_tag(skrifa::Tag::new(b"opsz")).is_some(),
        })
    })?
}

/// A shaped glyph (usvg's `layout::Glyph`).
struct Glyph {
    id: u32,
    byte_idx: usize,
    dx: i32,
    dy: i32,
    width: i32,
}

/// usvg's `shape_text_with_font`: bidi runs of a left-to-right paragraph, each shaped by
/// harfrust with the span's variations (and an automatic `opsz`). `None` when the font lacks a
/// glyph: usvg then falls back to other fonts (`fonts::fallback_selector`), which is not
/// repeated here. Fitted text never lacks one (its runs are split by font coverage).
fn shape(
    fonts: &FontLibrary,
    font: &Font,
    text: &str,
    font_size: f32,
    variations: &[FontVariation],
) -> Option<Vec<Glyph>> {
    fonts.database().with_face_data(font.id, |data, index| {
        use harfrust::{ShapeOptions, ShaperInstance, Tag, UnicodeBuffer, Variation};
        use skrifa::MetadataProvider;
        let hr_font = harfrust::FontRef::from_index(data, index).ok()?;
        let mut variations: Vec<Variation> = variations
            .iter()
            .map(|v| Variation {
                tag: Tag::from_be_bytes(v.tag),
                value: v.value,
            })
            .collect();
        let opsz = Tag::new(b"opsz");
        if !variations.iter().any(|v| v.tag == opsz) && hr_font.axes().get_by_tag(opsz).is_some() {
            variations.push(Variation {
                tag: opsz,
                value: font_size,
            });
        }
        let bidi = unicode_bidi::BidiInfo::new(text, Some(unicode_bidi::Level::ltr()));
        let paragraph = bidi.paragraphs.first()?;
        let instance = ShaperInstance::from_variations(&hr_font, &variations);
        let shaper_data = fonts.shapers().get(font.id, &hr_font);
        let shaper = shaper_data
            .shaper(&hr_font)
            .instance(Some(&instance))
            .build();
        let features = [];
        let (levels, runs) = bidi.visual_runs(paragraph, paragraph.range.clone());
        let mut glyphs = Vec::new();
        for run in runs {
            let sub_text = &text[run.clone()];
            if sub_text.is_empty() {
                continue;
            }
            let direction = if levels[run.start].is_ltr() {
                harfrust::Direction::LeftToRight
            } else {
                harfrust::Direction::RightToLeft
            };
            let mut buffer = UnicodeBuffer::new();
            buffer.push_str(sub_text);
            buffer.set_direction(direction);
            buffer.guess_segment_properties();
            let output = shaper.shape(buffer, ShapeOptions::new().features(&features));
            for (pos, info) in output.glyph_positions().iter().zip(output.glyph_infos()) {
                glyphs.push(Glyph {
                    id: info.glyph_id,
                    byte_idx: run.start + info.cluster as usize,
                    dx: pos.x_offset,
                    dy: pos.y_offset,
                    width: pos.x_advance,
                });
            }
        }
        // usvg's `Glyph::is_missing`.
        glyphs.iter().all(|g| g.id != 0).then_some(glyphs)
    })?
}

/// A cluster of glyphs (usvg's `GlyphCluster`, horizontal, one span).
struct Cluster {
    codepoint: char,
    advance: f32,
    glyphs: Vec<(u32, Transform)>,
    transform: Transform,
}

/// usvg's clustering (`form_glyph_clusters`), `apply_letter_spacing` and horizontal
/// positioning with `text-anchor: start` (each cluster's transform set).
fn position(
    text: &str,
    font: &Font,
    glyphs: &[Glyph],
    font_size: f32,
    letter_spacing: f32,
) -> Vec<Cluster> {
    let mut clusters = Vec::new();
    let mut rest = glyphs;
    while let Some(first) = rest.first() {
        let len = rest
            .iter()
            .take_while(|g| g.byte_idx == first.byte_idx)
            .count();
        let (cluster, tail) = rest.split_at(len);
        rest = tail;
        let sx = font_size / f32::from(font.units_per_em);
        let mut pen = 0.0f32;
        let mut advance = 0.0f32;
        let mut placed = Vec::with_capacity(cluster.len());
        for g in cluster {
            placed.push((
                g.id,
                Transform::from_translate(pen + g.dx as f32, -g.dy as f32),
            ));
            pen += g.width as f32;
            advance += g.width as f32 * sx;
        }
        clusters.push(Cluster {
            codepoint: text[first.byte_idx..].chars().next().unwrap_or(' '),
            advance,
            glyphs: placed,
            transform: Transform::default(),
        });
    }
    if clusters.is_empty() {
        return clusters;
    }
    if !letter_spacing.approx_zero_ulps(4) {
        let last = clusters.len() - 1;
        for (i, cluster) in clusters.iter_mut().enumerate() {
            if script_supports_letter_spacing(cluster.codepoint) {
                if i != last {
                    cluster.advance += letter_spacing;
                }
                if !(cluster.advance > 0.0 && cluster.advance.is_finite()) {
                    cluster.advance = 0.0;
                    cluster.glyphs.clear();
                }
            }
        }
    }
    // `resolve_clusters_positions_horizontal` without dx/dy/rotate (all shifts zero). Its zero
    // terms are kept so the floating-point steps (and signed zeros) are usvg's own.
    let (shift_x, shift_y) = (0.0f32, 0.0f32);
    let mut left = f32::INFINITY;
    let mut advance = 0.0f32;
    for cluster in &clusters {
        let start = advance + shift_x;
        let end = start + cluster.advance - 0.0;
        left = left.min(start).min(end);
        advance += cluster.advance;
    }
    let mut pen = shift_x - left + 0.0;
    for cluster in &mut clusters {
        cluster.transform = cluster.transform.pre_translate(pen + shift_x, shift_y);
        pen += cluster.advance;
    }
    clusters
}

/// Each glyph's outline transform in a chunk at `(x, y)`.
fn place(
    text: &str,
    font: &Font,
    glyphs: Vec<Glyph>,
    font_size: f32,
    letter_spacing: f32,
    x: f32,
    y: f32,
) -> Vec<Placed> {
    let clusters = position(text, font, &glyphs, font_size, letter_spacing);
    // `resolve_baseline` with no baseline shift and the auto baseline: `-0.0 + 0.0`.
    let shift = -0.0f32 + 0.0;
    let span_ts = Transform::default()
        .pre_translate(x, y)
        .pre_translate(0.0, shift);
    let sx = font_size / f32::from(font.units_per_em);
    let mut out = Vec::with_capacity(glyphs.len());
    for cluster in &clusters {
        // `GlyphCluster::transform`: the identity path transform, then the cluster's.
        let cluster_ts = Transform::default().post_concat(cluster.transform);
        for (id, glyph_ts) in &cluster.glyphs {
            let outline = span_ts
                .pre_concat(cluster_ts)
                .pre_concat(Transform::from_scale(sx, sx))
                .pre_concat(*glyph_ts)
                .pre_concat(Transform::from_scale(1.0, -1.0));
            out.push(Placed {
                font: font.id,
                id: *id,
                font_size,
                outline,
            });
        }
    }
    out
}

/// What `Text::bounding_box().width()` is for `<text x="0" y="..." font-family=families
/// font-weight=weight font-size=font_size letter-spacing=letter_spacing
/// xml:space="preserve">text</text>` (attribute values as written, unescaped): the union of
/// the clusters' metric boxes. `None` when usvg would drop the text (no ink: its width is
/// then 0) or this module cannot tell (colour fonts, control characters), for the caller to
/// ask usvg.
pub fn measure(
    fonts: &FontLibrary,
    families: &str,
    weight: &str,
    font_size: &str,
    letter_spacing: Option<&str>,
    text: &str,
) -> Option<f32> {
    if text.is_empty() || text.chars().any(|c| (c as u32) < 0x20) {
        return None;
    }
    let font_size = user_length(font_size, None).filter(|s| *s > 0.0 && s.is_finite())?;
    let weight = font_weight(Some(weight));
    let letter_spacing = match letter_spacing {
        Some(v) => user_length(v, Some(font_size))?,
        None => 0.0,
    };
    let variations = [FontVariation::new(*b"wght", f32::from(weight))];
    let db = fonts.database();
    let font = select_font(db, families, weight, &variations)?;
    let glyphs = shape(fonts, &font, text, font_size, &variations)?;
    let clusters = position(text, &font, &glyphs, font_size, letter_spacing);
    let scale = font_size / f32::from(font.units_per_em);
    let height = f32::from(font.ascent) * scale - f32::from(font.descent) * scale;
    let inked = has_ink(db, &font, &clusters, font_size, &variations);
    if clusters.is_empty() || height.is_nan() || height <= 0.0 || !inked {
        return None;
    }
    let (mut left, mut right) = (f32::INFINITY, f32::NEG_INFINITY);
    for cluster in &clusters {
        // `convert_span`: a cluster without advance still gets a box one unit wide.
        let advance = if cluster.advance <= 0.0 {
            1.0
        } else {
            cluster.advance
        };
        let x = cluster.transform.tx;
        left = left.min(x);
        right = right.max(advance + x);
    }
    Some(right - left)
}

/// Whether some glyph has an outline with an area, as usvg's `flatten` needs to keep a text.
fn has_ink(
    db: &Database,
    font: &Font,
    clusters: &[Cluster],
    font_size: f32,
    variations: &[FontVariation],
) -> bool {
    let mut variations = variations.to_vec();
    if font.opsz {
        variations.push(FontVariation::new(*b"opsz", font_size));
    }
    clusters.iter().flat_map(|c| &c.glyphs).any(|(id, _)| {
        crate::fonts::outline(db, font.id, *id, &variations).is_some_and(|p| {
            let b = p.bounds();
            b.width() > 0.0 && b.height() > 0.0
        })
    })
}

/// usvg's list of scripts letter spacing does not apply to (cursive ones).
fn script_supports_letter_spacing(c: char) -> bool {
    use unicode_script::{Script, UnicodeScript};
    !matches!(
        c.script(),
        Script::Arabic
            | Script::Syriac
            | Script::Nko
            | Script::Manichaean
            | Script::Psalter_Pahlavi
            | Script::Mandaic
            | Script::Mongolian
            | Script::Phags_Pa
            | Script::Devanagari
            | Script::Bengali
            | Script::Gurmukhi
            | Script::Modi
            | Script::Sharada
            | Script::Syloti_Nagri
            | Script::Tirhuta
            | Script::Ogham
    )
}

/// The usvg layout of a parsed text, for comparison in tests.
#[cfg(test)]
pub fn usvg_glyphs(text: &resvg::usvg::Text) -> Vec<Vec<Placed>> {
    text.layouted()
        .iter()
        .map(|span| {
            span.positioned_glyphs
                .iter()
                .map(|g| Placed {
                    font: g.font,
                    id: g.id.0,
                    font_size: g.font_size(),
                    outline: g.outline_transform(),
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{parse, parse_document, rasterise, Document, Limits};
    use crate::text::{Align, TextBox, TextLayout, VAlign};
    use resvg::usvg::{Group, Node as TreeNode};

    fn doc(body: &str) -> String {
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="900" height="400" viewBox="0 0 900 400"><rect width="900" height="400" fill="#1b2440"/>{body}</svg>"##
        )
    }

    fn text(attrs: &str, tspans: &str) -> String {
        format!(r#"<text {attrs} xml:space="preserve">{tspans}</text>"#)
    }

    /// Texts as `text.rs` emits them: titles fitted into a box, in several families, weights,
    /// letter spacings and directions (bidi lines become one tspan per direction run).
    fn fitted(title: &str, family: &str, weight: u16, spacing: f32, align: Align) -> String {
        let fonts = crate::test_fonts::library();
        let tb = TextBox {
            text: title.to_string(),
            family: family.to_string(),
            weight,
            x: 40.0,
            y: 30.0,
            width: 820.0,
            height: 330.0,
            max_size: 64.0,
            min_size: 28.0,
            line_height: 1.15,
            max_lines: 4,
            align,
            valign: VAlign::Top,
            fill: "#eef1ff".to_string(),
            letter_spacing: spacing,
            mirror_rtl: true,
        };
        TextLayout::new().fit(fonts, &tb).expect("fit").svg
    }

    fn cases() -> Vec<String> {
        let latin = r##"font-family="'Inter', sans-serif" font-size="68" font-weight="700" fill="#eef1ff""##;
        vec![
            // Kerning pairs, odd positions and sizes.
            text(latin, r#"<tspan x="20.3" y="120.7">AVATAR Wave To, Ty. Vo — “quoted” fi ffl</tspan>"#),
            text(
                r##"font-family="'Inter', sans-serif" font-size="29.5" font-weight="300" fill="#818cf8""##,
                r#"<tspan x="80" y="60.25">Thin type at an odd size</tspan><tspan x="80" y="99.9">second line</tspan>"#,
            ),
            // Letter spacing, positive and negative, in em and px.
            text(
                r##"font-family="'Inter', sans-serif" font-size="18" font-weight="600" letter-spacing="0.12em" fill="#fb923c""##,
                r#"<tspan x="98" y="102.3">ENGINEERING · TAKE 42</tspan>"#,
            ),
            text(
                r##"font-family="'Inter', sans-serif" font-size="40" letter-spacing="-1.5" fill="#ffffff""##,
                r#"<tspan x="10" y="300">Tight tracking</tspan>"#,
            ),
            // Translucent fill from a group; a colour with alpha.
            format!(
                r#"<g fill-opacity="0.72"><g>{}</g></g>"#,
                text(
                    r##"font-family="'Inter', sans-serif" font-size="30" fill="#eef1ff""##,
                    r#"<tspan x="80" y="220.5">How a Rust rasteriser fits.</tspan>"#
                )
            ),
            text(
                r##"font-family="Inter" font-size="30" fill="rgba(255, 200, 100, 0.5)" fill-opacity="50%""##,
                r#"<tspan x="80" y="250">Half and half</tspan>"#,
            ),
            // Right to left pieces (RLM-wrapped as text.rs emits them), Arabic with spacing
            // (not applied to cursive scripts), marks, CJK, a glyph the font lacks.
            text(
                r##"font-family="'Heebo', sans-serif" font-size="44" letter-spacing="0.05em" fill="#ffd""##,
                "<tspan x=\"600\" y=\"80\">\u{200F}עברית: כותרת עם\u{200F}</tspan><tspan x=\"300\" y=\"80\" font-family=\"'Inter'\">English (mixed)</tspan>",
            ),
            text(
                r##"font-family="'Noto Sans Arabic'" font-size="40" letter-spacing="0.1em" fill="#fda""##,
                "<tspan x=\"500\" y=\"200\">\u{200F}إصدار من أوغمينت\u{200F}</tspan><tspan x=\"400\" y=\"200\">2.0</tspan>",
            ),
            text(
                r##"font-family="'Noto Sans CJK SC'" font-size="36" fill="#fff""##,
                r#"<tspan x="40" y="360">你好，世界</tspan>"#,
            ),
            text(latin, "<tspan x=\"40\" y=\"380\">Cafe\u{301} ש missing</tspan>"),
            // Emoji (a colour font): left to usvg and resvg.
            text(
                latin,
                "<tspan x=\"40\" y=\"200\">Launch </tspan><tspan x=\"300\" y=\"200\" font-family=\"'Noto Color Emoji'\">🎉🚀</tspan>",
            ),
            fitted("Rendering social cards in under ten milliseconds, take 7", "Inter", 700, 0.0, Align::Start),
            fitted("עברית: כותרת ארוכה מאוד עם English mixed in the middle ושוב עברית", "Heebo", 600, 0.0, Align::Start),
            fitted("عام 2024 مع Google و Ogmint 2.0", "Noto Sans Arabic", 500, 0.0, Align::Middle),
            fitted("Interview with محمد الأحمد today", "Inter", 400, 0.02, Align::End),
            fitted("Ship it 🚀 with friends 👩‍👩‍👧", "Inter", 700, 0.0, Align::Start),
            fitted("Ελληνικά and кириллица, Zoë & Łukasz", "Inter", 800, -0.01, Align::Middle),
        ]
    }

    fn usvg_texts(group: &Group, out: &mut Vec<Vec<Vec<Placed>>>) {
        for node in group.children() {
            match node {
                TreeNode::Text(t) => out.push(usvg_glyphs(t)),
                TreeNode::Group(g) => usvg_texts(g, out),
                _ => {}
            }
        }
    }

    /// A glyph as bits: font, id, size and outline transform.
    type Bits = (ID, u32, u32, [u32; 6]);

    fn bits(chunks: &[Vec<Placed>]) -> Vec<Vec<Bits>> {
        chunks
            .iter()
            .filter(|c| !c.is_empty())
            .map(|c| {
                c.iter()
                    .map(|g| {
                        let t = g.outline;
                        let ts = [t.sx, t.ky, t.kx, t.sy, t.tx, t.ty].map(f32::to_bits);
                        (g.font, g.id, g.font_size.to_bits(), ts)
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn glyphs_match_usvg_layout_bit_for_bit() {
        let fonts = crate::test_fonts::library();
        let (mut laid_out, mut refused) = (0, 0);
        for body in cases() {
            let svg = doc(&body);
            let tree = parse(&svg, &Limits::default(), &fonts.options()).expect("svg");
            let mut theirs = Vec::new();
            usvg_texts(tree.root(), &mut theirs);
            let xml = roxmltree::Document::parse(&svg).expect("xml");
            let ours: Vec<Option<PlainText>> = xml
                .descendants()
                .filter(|n| n.has_tag_name("text"))
                .map(|n| lay_out(n, fonts))
                .collect();
            assert_eq!(ours.len(), theirs.len(), "{body}");
            for (mine, usvg) in ours.iter().zip(&theirs) {
                match mine {
                    Some(text) => {
                        laid_out += 1;
                        assert_eq!(bits(&text.chunks), bits(usvg), "{body}");
                    }
                    None => refused += 1,
                }
            }
        }
        // Only the texts with emoji (colour glyphs) and the one with a glyph its font lacks
        // (usvg falls back to other fonts for it) are refused.
        assert_eq!(refused, 3);
        assert_eq!(laid_out, cases().len() - 3);
    }

    #[test]
    fn documents_draw_the_same_pixels_either_way() {
        let fonts = crate::test_fonts::library();
        let limits = Limits::default();
        let all = cases().concat();
        for body in cases().iter().chain([&all]) {
            let svg = doc(body);
            let ours = parse_document(&svg, &limits, fonts, crate::test_fonts::engine().glyphs())
                .expect("svg");
            let refused =
                body.contains("Color Emoji") || body.contains('🚀') || body.contains(" ש ");
            assert_eq!(ours.texts.is_empty(), refused && body != &all, "{body}");
            let theirs = Document {
                tree: parse(&svg, &limits, &fonts.options()).expect("svg"),
                texts: Vec::new(),
            };
            let a = rasterise(&ours, &limits, crate::test_fonts::engine().glyphs()).expect("ours");
            let b =
                rasterise(&theirs, &limits, crate::test_fonts::engine().glyphs()).expect("theirs");
            assert!(a.data() == b.data(), "{body}: pixels differ");
        }
    }

    #[test]
    fn plans_of_a_document_share_one_budget() {
        let fonts = crate::test_fonts::library();
        let limits = Limits::default();
        // Eight texts of large glyphs, each at its own sub-pixel phase (so none reuses the
        // others' masks): more new masks than one document's plans may hold.
        let body: String = (0..8u8)
            .map(|i| {
                let tspan = format!(
                    r#"<tspan x="{}" y="{}">ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789</tspan>"#,
                    f32::from(i) / 16.0,
                    200.0 + f32::from(i) / 16.0
                );
                text(r##"font-family="Inter" font-size="231.5" fill="#fff""##, &tspan)
            })
            .collect();
        let svg = doc(&body);
        let ours = parse_document(&svg, &limits, fonts, crate::test_fonts::engine().glyphs())
            .expect("svg");
        assert!(
            !ours.texts.is_empty() && ours.texts.len() < 8,
            "{}",
            ours.texts.len()
        );
        let theirs = Document {
            tree: parse(&svg, &limits, &fonts.options()).expect("svg"),
            texts: Vec::new(),
        };
        let a = rasterise(&ours, &limits, crate::test_fonts::engine().glyphs()).expect("ours");
        let b = rasterise(&theirs, &limits, crate::test_fonts::engine().glyphs()).expect("theirs");
        assert!(a.data() == b.data(), "pixels differ");
    }

    #[test]
    fn other_documents_are_left_to_usvg() {
        let fonts = crate::test_fonts::library();
        let plain = text(
            r##"font-family="Inter" font-size="30" fill="#fff""##,
            r#"<tspan x="10" y="50">Plain</tspan>"#,
        );
        for body in [
            // CSS, <use>, a transform, opacity, a stroke, a gradient, decoration, dx, a
            // placeholder id in the input.
            format!("<style>text {{ fill: red }}</style>{plain}"),
            format!(r##"<defs>{plain}</defs><use href="#t"/>"##),
            format!(r#"<g transform="translate(3 4)">{plain}</g>"#),
            format!(r#"<g opacity="0.5">{plain}</g>"#),
            plain.replace(r##"fill="#fff""##, r##"fill="#fff" stroke="red""##),
            plain.replace(r##"fill="#fff""##, r##"fill="url(#g)""##),
            plain.replace(
                r##"fill="#fff""##,
                r##"fill="#fff" text-decoration="underline""##,
            ),
            plain.replace(r#"x="10""#, r#"x="10" dx="3""#),
            plain.replace(r#"x="10""#, r#"x="10 20""#),
            plain.replace("Plain", "two\nlines"),
            format!(r#"{plain}<rect id="ogmint-plain-text-0" width="1" height="1"/>"#),
        ] {
            let svg = doc(&body);
            let ours = parse_document(
                &svg,
                &Limits::default(),
                fonts,
                crate::test_fonts::engine().glyphs(),
            )
            .expect("svg");
            assert!(ours.texts.is_empty(), "{body}");
        }
        let svg = doc(&plain);
        assert_eq!(
            parse_document(
                &svg,
                &Limits::default(),
                fonts,
                crate::test_fonts::engine().glyphs()
            )
            .expect("svg")
            .texts
            .len(),
            1
        );
    }
}
