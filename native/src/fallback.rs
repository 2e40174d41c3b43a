//! Per-character font fallback for every `<text>` of a document, as fitted text has it.
//!
//! usvg falls back for a missing glyph by shaping the whole text chunk again with another font
//! and taking its glyphs only when both shapings have as many glyphs, so a chunk mixing
//! scripts whose shaping changes the glyph count (Devanagari conjuncts, Arabic ligatures,
//! emoji sequences) keeps empty boxes. `text.rs` avoids this for fitted text by splitting it
//! into runs by the family that can draw each character; this module does the same to the
//! text content of a document before usvg parses it: each run the text's own font lacks is
//! wrapped in a `<tspan font-family>` naming its fallback (`FontLibrary::family_for_char`).
//! A `<tspan>` without positions changes neither the characters' indices (for `x`, `y`,
//! `rotate` lists) nor whitespace handling. usvg's own fallback (`fonts::fallback_selector`)
//! still covers what this leaves (text styled by CSS rules, for one).
use crate::fonts::FontLibrary;
use crate::text::{escape, is_attached};
use resvg::usvg::fontdb;
use roxmltree::{Document, Node};
use std::fmt::Write as _;

const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// `svg` with the runs of text its fonts lack wrapped in fallback `<tspan>`s, or `None` when
/// every character has its font already (fitted text, most templates) or the result would
/// be longer than `max_len` bytes.
pub fn split_runs(
    svg: &str,
    doc: &Document,
    fonts: &FontLibrary,
    max_len: usize,
) -> Option<String> {
    let mut out = String::new();
    let mut at = 0;
    for node in doc.descendants().filter(|n| n.is_text()) {
        let Some(parent) = node.parent().filter(in_text) else {
            continue;
        };
        let Some(runs) = fallback_runs(parent, node.text().unwrap_or(""), fonts) else {
            continue;
        };
        // roxmltree merges text, CDATA and references into one node whose range covers only
        // the first piece: the content runs up to the next node or the parent's end tag.
        let start = node.range().start;
        let end = match node.next_sibling() {
            Some(next) => next.range().start,
            None => match svg[..parent.range().end].rfind("</") {
                Some(end) => end,
                None => continue,
            },
        };
        if end < start {
            continue;
        }
        out.push_str(&svg[at..start]);
        for (family, text) in runs {
            match family {
                Some(family) => {
                    let _ = write!(
                        out,
                        r#"<tspan font-family="'{}'">{}</tspan>"#,
                        escape(&family),
                        escape(&text)
                    );
                }
                None => out.push_str(&escape(&text)),
            }
            if out.len() > max_len {
                return None;
            }
        }
        at = end;
    }
    if at == 0 {
        return None;
    }
    out.push_str(&svg[at..]);
    Some(out)
}

/// Whether the text content of `element` is drawn as text.
fn in_text(element: &Node) -> bool {
    ["text", "tspan", "textPath"]
        .iter()
        .any(|name| is_svg(element, name))
        || (is_svg(element, "a") && element.ancestors().any(|a| is_svg(&a, "text")))
}

fn is_svg(node: &Node, name: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == name
        && node.tag_name().namespace() == Some(SVG_NS)
}

/// `text` split into runs with the fallback family each needs (`None`: the element's own
/// font), or `None` if the element's font has every character.
fn fallback_runs(
    element: Node,
    text: &str,
    fonts: &FontLibrary,
) -> Option<Vec<(Option<String>, String)>> {
    let primary = primary_family(element, fonts)?;
    let mut runs: Vec<(&str, String)> = Vec::new();
    for c in text.chars() {
        let neutral = c.is_whitespace() || is_attached(c) || is_format(c);
        if let Some((family, run)) = runs.last_mut() {
            // Spaces, joiners, marks, direction marks and punctuation the current font has
            // stay in its run.
            if neutral || (!c.is_alphabetic() && fonts.covers(family, c)) {
                run.push(c);
                continue;
            }
        }
        // A font the document names keeps every character it has (emoji too, unlike
        // fitted text, which prefers colour emoji).
        let family = if neutral || fonts.covers(&primary, c) {
            primary.as_str()
        } else {
            fonts.family_for_char(&primary, c)
        };
        match runs.last_mut() {
            Some((current, run)) if *current == family => run.push(c),
            _ => runs.push((family, c.to_string())),
        }
    }
    if runs.iter().all(|(family, _)| *family == primary) {
        return None;
    }
    Some(
        runs.into_iter()
            .map(|(family, run)| ((family != primary).then(|| family.to_string()), run))
            .collect(),
    )
}

/// Invisible formatting characters (direction marks and embeddings, zero-width space, word
/// joiner, BOM): shapers draw them as nothing whether the font maps them or not.
fn is_format(c: char) -> bool {
    matches!(c as u32, 0x061C | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2069 | 0xFEFF)
}

/// The family usvg's default font selector picks for `element`'s text: its `font-family`
/// list (attribute or `style` property, inherited) at its `font-weight`, then the defaults.
fn primary_family(element: Node, fonts: &FontLibrary) -> Option<String> {
    let families = inherited(element, "font-family").unwrap_or_default();
    let weight = match inherited(element, "font-weight").as_deref() {
        Some("bold" | "bolder") => 700,
        Some(w) => w.trim().parse().unwrap_or(400),
        None => 400,
    };
    let parsed = svgtypes::parse_font_families(&families).unwrap_or_default();
    let mut names: Vec<fontdb::Family> = parsed
        .iter()
        .map(|f| match f {
            svgtypes::FontFamily::Serif => fontdb::Family::Serif,
            svgtypes::FontFamily::SansSerif => fontdb::Family::SansSerif,
            svgtypes::FontFamily::Cursive => fontdb::Family::Cursive,
            svgtypes::FontFamily::Fantasy => fontdb::Family::Fantasy,
            svgtypes::FontFamily::Monospace => fontdb::Family::Monospace,
            svgtypes::FontFamily::Named(s) => fontdb::Family::Name(s),
        })
        .collect();
    if names.is_empty() {
        names.push(fontdb::Family::Name(crate::fonts::DEFAULT_FAMILY));
    }
    names.push(fontdb::Family::Serif);
    let db = fonts.database();
    let id = db.query(&fontdb::Query {
        families: &names,
        weight: fontdb::Weight(weight),
        ..fontdb::Query::default()
    })?;
    let face = db.face(id)?;
    let name = face
        .families
        .iter()
        .find(|f| f.1 == fontdb::Language::English_UnitedStates)
        .or(face.families.first())?;
    Some(name.0.clone())
}

/// The value of presentation property `name` on `element` or its nearest ancestor that sets
/// it, as an attribute or in its `style` attribute.
fn inherited(element: Node, name: &str) -> Option<String> {
    element.ancestors().filter(Node::is_element).find_map(|n| {
        let styled = n.attribute("style").and_then(|style| {
            style.split(';').find_map(|declaration| {
                let (property, value) = declaration.split_once(':')?;
                (property.trim() == name).then(|| value.trim().to_string())
            })
        });
        styled.or_else(|| n.attribute(name).map(str::to_string))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use resvg::usvg::{Group, Node as TreeNode, Tree};

    fn doc(body: &str) -> String {
        format!(r#"<svg xmlns="http://www.w3.org/2000/svg" width="600" height="200">{body}</svg>"#)
    }

    fn split(body: &str) -> Option<String> {
        let svg = doc(body);
        let xml = Document::parse(&svg).expect("xml");
        split_runs(&svg, &xml, crate::test_fonts::library(), usize::MAX)
    }

    /// Glyphs usvg lays out for the document's texts: (missing, total).
    fn glyphs(svg: &str) -> (usize, usize) {
        fn walk(group: &Group, out: &mut (usize, usize)) {
            for node in group.children() {
                match node {
                    TreeNode::Text(text) => {
                        for g in text.layouted().iter().flat_map(|s| &s.positioned_glyphs) {
                            out.0 += usize::from(g.id.0 == 0);
                            out.1 += 1;
                        }
                    }
                    TreeNode::Group(g) => walk(g, out),
                    _ => {}
                }
            }
        }
        let fonts = crate::test_fonts::library();
        let tree = Tree::from_str(svg, &fonts.options()).expect("svg");
        let mut out = (0, 0);
        walk(tree.root(), &mut out);
        out
    }

    #[test]
    fn text_its_fonts_have_is_left_alone() {
        for body in [
            r#"<text x="10" y="50" font-family="Inter">Plain Latin, café — “quoted”</text>"#,
            r#"<text x="10" y="50" style="font-size:30px;font-family:Noto Sans Arabic">مرحبا بالعالم</text>"#,
            r#"<g font-family="Heebo"><text x="10" y="50"><tspan>שלום</tspan> עולם</text></g>"#,
            "<text x=\"10\" y=\"50\" font-family=\"Inter\">\n    spaced\n  </text>",
            r#"<text x="10" y="50" font-family="Inter"><title>日本語</title>Title aside</text>"#,
        ] {
            assert_eq!(split(body), None, "{body}");
        }
    }

    #[test]
    fn fitted_text_is_left_alone() {
        use crate::text::{Align, TextBox, TextLayout, VAlign};
        let fonts = crate::test_fonts::library();
        for (text, family) in [
            ("Rendering social cards in under ten milliseconds", "Inter"),
            ("עברית: כותרת ארוכה עם English mixed in ושוב עברית", "Heebo"),
            ("عام 2024 مع Google و Ogmint 2.0", "Noto Sans Arabic"),
            ("Interview with محمد الأحمد today", "Inter"),
            ("Ship it 🚀 with friends 👩‍👩‍👧 नमस्ते 日本語 ไทย", "Inter"),
            ("Ελληνικά and кириллица, Zoë & Łukasz", "Playfair Display"),
        ] {
            let tb = TextBox {
                text: text.to_string(),
                family: family.to_string(),
                weight: 700,
                x: 40.0,
                y: 30.0,
                width: 820.0,
                height: 330.0,
                max_size: 64.0,
                min_size: 28.0,
                line_height: 1.15,
                max_lines: 4,
                align: Align::Start,
                valign: VAlign::Top,
                fill: "#eef1ff".to_string(),
                letter_spacing: 0.0,
                mirror_rtl: true,
            };
            let fitted = TextLayout::new().fit(fonts, &tb).expect("fit").svg;
            assert_eq!(split(&fitted), None, "{fitted}");
        }
    }

    #[test]
    fn mixed_scripts_get_every_glyph() {
        // usvg's own fallback keeps boxes here: Devanagari shaping changes the glyph count.
        let body =
            r#"<text x="10" y="100" font-family="Inter" font-size="40">नमस्ते दुनिया 🎉</text>"#;
        let (missing, total) = glyphs(&doc(body));
        assert!(
            missing > 0 && total > 0,
            "usvg alone draws it: {missing} of {total}"
        );
        assert_eq!(glyphs(&split(body).expect("split")).0, 0);
        let body = r#"<text x="10" y="100" font-family="Inter" font-size="40">Hi नमस्ते दुनिया 🎉 &amp; 日本</text>"#;
        let split = split(body).expect("split");
        assert_eq!(glyphs(&split).0, 0, "{split}");
        assert!(split.contains(
            r#"Hi <tspan font-family="'Noto Sans Devanagari'">नमस्ते दुनिया </tspan><tspan font-family="'Noto Color Emoji'">🎉 </tspan>&amp; <tspan font-family="'Noto Sans CJK SC'">日本</tspan>"#
        ), "{split}");
    }

    #[test]
    fn entities_and_cdata_are_rewritten_whole() {
        let body = "<text x=\"10\" y=\"50\">a&amp;b<![CDATA[ 日本 <c> ]]>&#x41;\n</text>";
        let split = split(body).expect("split");
        assert!(
            split.contains("<text x=\"10\" y=\"50\">a&amp;b <tspan font-family=\"'Noto Sans CJK SC'\">日本 &lt;</tspan>c&gt; A\n</text>"),
            "{split}"
        );
    }

    #[test]
    fn the_result_is_bounded() {
        let svg = doc(&format!(
            r#"<text x="1" y="50">{}</text>"#,
            "a日".repeat(100)
        ));
        let xml = Document::parse(&svg).expect("xml");
        let fonts = crate::test_fonts::library();
        let split = split_runs(&svg, &xml, fonts, usize::MAX).expect("split");
        assert!(split_runs(&svg, &xml, fonts, split.len()).is_some());
        assert!(split_runs(&svg, &xml, fonts, split.len() - 100).is_none());
    }

    #[test]
    fn a_named_font_keeps_what_it_has() {
        // The CJK font has U+2600, which colour emoji has too: it stays.
        let body = r#"<text x="10" y="50" font-family="Noto Sans CJK SC">晴れ ☀ 🎉</text>"#;
        let split = split(body).expect("split");
        assert!(
            split.contains(r#">晴れ ☀ <tspan font-family="'Noto Color Emoji'">🎉</tspan>"#),
            "{split}"
        );
    }

    #[test]
    fn runs_follow_the_inherited_font_and_positions_stay() {
        // The Arabic family (from the group's style) has the Arabic; the Latin falls back to
        // Noto Sans; per-character x positions stay on the text element.
        let body = r#"<g style="font-family: 'Noto Sans Arabic'"><text x="10 40 70" y="100">سلام Ωmega</text></g>"#;
        let split = split(body).expect("split");
        assert!(
            split.contains(r#"<text x="10 40 70" y="100">سلام <tspan"#),
            "{split}"
        );
        assert_eq!(glyphs(&split).0, 0, "{split}");
    }
}
