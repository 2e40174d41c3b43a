//! Text layout for template text areas: wrap to the box width, shrink between a maximum and a
//! minimum font size to fit the box height, then clamp with an ellipsis.
//!
//! Widths are measured by usvg itself, with the same fonts, shaping and fallback the final
//! render uses, so what fits here fits in the image.
use crate::error::{guard, RenderError, Stage};
use crate::fonts::FontLibrary;
use resvg::usvg::{Node, Tree};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use unicode_linebreak::{linebreaks, BreakOpportunity};

const ELLIPSIS: &str = "\u{2026}";
/// Font size of the width test (widths are measured at the size they are drawn at: with an
/// `opsz` axis, usvg shapes every size differently, so widths do not scale linearly).
#[cfg(test)]
const MEASURE_SIZE: f32 = 100.0;
/// Height of a line's ink box relative to the font size (ascender + descender).
const LINE_BOX: f32 = 1.2;
/// Position of the baseline below the top of a line's ink box, relative to the font size.
const BASELINE: f32 = 0.95;
const CACHE_LIMIT: usize = 100_000;

/// Horizontal alignment, relative to the text's reading direction for `Start`/`End`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Start,
    Middle,
    End,
}

/// Vertical placement of the block of lines inside the box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VAlign {
    Top,
    Middle,
    Bottom,
}

/// One text area of a template, with its text.
#[derive(Debug, Clone, PartialEq)]
pub struct TextBox {
    pub text: String,
    pub family: String,
    pub weight: u16,
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
    pub max_size: f32,
    pub min_size: f32,
    /// Distance between baselines, as a multiple of the font size.
    pub line_height: f32,
    pub max_lines: u32,
    pub align: Align,
    pub valign: VAlign,
    /// SVG paint for the text (already validated by the caller; escaped here anyway).
    pub fill: String,
    /// Extra letter spacing in em.
    pub letter_spacing: f32,
    /// Mirror `Start`/`End` for right-to-left text (true), or keep them physical (false),
    /// e.g. for a name that must stay next to an avatar.
    pub mirror_rtl: bool,
}

/// The result of fitting text into a box.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedText {
    /// An SVG `<text>` element with one `<tspan>` per line.
    pub svg: String,
    pub font_size: f32,
    pub lines: Vec<String>,
    pub truncated: bool,
    /// Height actually used by the lines, in pixels.
    pub height: f32,
    /// Width of the widest line, in pixels.
    pub width: f32,
}

/// A piece of text between two line-break opportunities.
#[derive(Debug, Clone)]
struct Segment {
    text: String,
    /// Width of the text without trailing whitespace, at 1 px font size.
    width: f32,
    /// Width of the trailing whitespace, at 1 px font size.
    space: f32,
    /// A hard break (newline) follows this segment.
    hard_break: bool,
}

type CacheKey = (String, u16, String);

/// Measures and lays out text; caches segment widths across renders.
pub struct TextLayout {
    cache: Mutex<HashMap<CacheKey, f32>>,
}

impl Default for TextLayout {
    fn default() -> Self {
        Self::new()
    }
}

impl TextLayout {
    pub fn new() -> Self {
        Self {
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Fits `tb.text` into its box.
    pub fn fit(&self, fonts: &FontLibrary, tb: &TextBox) -> Result<FittedText, RenderError> {
        validate(tb)?;
        let family = fonts
            .resolve_family(&tb.family)
            .unwrap_or_else(|| crate::fonts::DEFAULT_FAMILY.to_string());
        let text = normalise(&tb.text);
        let step = ((tb.max_size - tb.min_size) / 24.0).max(1.0);
        // Sizes as `emit` writes them, so measuring and drawing agree.
        let mut size = round(tb.max_size);
        let min_size = round(tb.min_size).min(size);
        loop {
            let segments = self.segments(fonts, &family, tb, &text, size)?;
            if segments.is_empty() {
                return Ok(self.emit(fonts, tb, &family, size, Vec::new(), false));
            }
            let cap = line_capacity(tb, size);
            let target = tb.width / size;
            let fits = |lines: &[Line]| {
                lines.len() <= cap && lines.iter().all(|l| l.width <= target + 1e-3)
            };
            let greedy = wrap(&segments, target);
            if cap > 0 && fits(&greedy) {
                // Usually the segments' widths add up to the line's: balance on them, then
                // measure the lines as drawn (`emit` reuses those measurements).
                let lines = balance(&segments, target, greedy);
                if let Some(lines) = self.measured(fonts, &family, tb, size, lines)? {
                    let texts = lines.into_iter().map(|l| l.text).collect();
                    return Ok(self.emit(fonts, tb, &family, size, texts, false));
                }
                // They did not: wrap measuring every line.
                let (lines, limit) = self.wrap_measured(fonts, &family, tb, size, &segments)?;
                if fits(&lines) {
                    let lines = self.balanced(fonts, &family, tb, size, &segments, limit, lines)?;
                    let texts = lines.into_iter().map(|l| l.text).collect();
                    return Ok(self.emit(fonts, tb, &family, size, texts, false));
                }
            }
            if size <= min_size {
                break;
            }
            size = round((size - step).max(min_size));
        }
        // Nothing fits at the minimum size: break inside words if needed, then clamp.
        let size = min_size;
        let cap = line_capacity(tb, size).max(1);
        let segments = self.segments(fonts, &family, tb, &text, size)?;
        let fine = self.split_wide(fonts, &family, tb, size, segments)?;
        let (mut lines, limit) = self.wrap_measured(fonts, &family, tb, size, &fine)?;
        let truncated = lines.len() > cap;
        lines.truncate(cap);
        if truncated {
            let last = lines.pop().unwrap_or_default();
            lines.push(self.ellipsize(fonts, &family, tb, size, &last.text)?);
        } else {
            lines = self.balanced(fonts, &family, tb, size, &fine, limit, lines)?;
        }
        // A line still wider than the box (shaping across a forced break) is clamped too.
        for line in &mut lines {
            if line.width > tb.width / size + 1e-3 {
                *line = self.ellipsize(fonts, &family, tb, size, &line.text)?;
            }
        }
        let texts = lines.into_iter().map(|l| l.text).collect();
        Ok(self.emit(fonts, tb, &family, size, texts, truncated))
    }

    /// Greedy wrapping whose lines are measured as drawn — shaping across segment boundaries
    /// (kerning, a glyph's side bearings, bidi reordering) makes a line wider than the sum of
    /// its segments — and wrapped again narrower until every line fits the box. Returns the
    /// lines (widths at 1 px) and the wrapping width that produced them.
    fn wrap_measured(
        &self,
        fonts: &FontLibrary,
        family: &str,
        tb: &TextBox,
        size: f32,
        segments: &[Segment],
    ) -> Result<(Vec<Line>, f32), RenderError> {
        let target = tb.width / size;
        let mut limit = target;
        let mut lines = Vec::new();
        for _ in 0..6 {
            lines = wrap(segments, limit);
            let mut widest = 0.0f32;
            for line in &mut lines {
                line.width = self.line_width(fonts, family, tb, size, &line.text)? / size;
                widest = widest.max(line.width);
            }
            if widest <= target + 1e-3 {
                break;
            }
            limit -= widest - target + 1e-3;
            if limit <= 0.0 {
                break;
            }
        }
        Ok((lines, limit))
    }

    /// `lines` with their widths measured as drawn, or `None` when one is wider than the box.
    fn measured(
        &self,
        fonts: &FontLibrary,
        family: &str,
        tb: &TextBox,
        size: f32,
        mut lines: Vec<Line>,
    ) -> Result<Option<Vec<Line>>, RenderError> {
        for line in &mut lines {
            line.width = self.line_width(fonts, family, tb, size, &line.text)? / size;
            if line.width > tb.width / size + 1e-3 {
                return Ok(None);
            }
        }
        Ok(Some(lines))
    }

    /// [`balance`]d lines when they still fit measured as drawn, else `lines`.
    #[allow(clippy::too_many_arguments)]
    fn balanced(
        &self,
        fonts: &FontLibrary,
        family: &str,
        tb: &TextBox,
        size: f32,
        segments: &[Segment],
        limit: f32,
        lines: Vec<Line>,
    ) -> Result<Vec<Line>, RenderError> {
        let candidate = balance(segments, limit, lines.clone());
        Ok(self
            .measured(fonts, family, tb, size, candidate)?
            .unwrap_or(lines))
    }

    /// The width of `line` at `size` in pixels, exactly as [`Self::emit`] lays it out.
    fn line_width(
        &self,
        fonts: &FontLibrary,
        family: &str,
        tb: &TextBox,
        size: f32,
        line: &str,
    ) -> Result<f32, RenderError> {
        let (weight, spacing) = (tb.weight, tb.letter_spacing);
        let space = self.measure_plain(
            fonts,
            weight,
            spacing,
            size,
            &[(family, "x x"), (family, "xx")],
        )?;
        let space_w = (space[0] - space[1]).max(0.0) * size;
        let pieces = visual_pieces(fonts, family, line, is_rtl(&tb.text));
        let plain: Vec<(&str, &str)> = pieces.iter().map(|p| (p.family, p.text.as_str())).collect();
        let widths = self.measure_plain(fonts, weight, spacing, size, &plain)?;
        Ok(pieces
            .iter()
            .zip(widths)
            .map(|(p, w)| w * size + (p.left + p.right) as f32 * space_w)
            .sum())
    }

    /// Splits text at line-break opportunities (UAX #14, which also gives CJK's per-character
    /// breaks) and measures each piece.
    fn segments(
        &self,
        fonts: &FontLibrary,
        family: &str,
        tb: &TextBox,
        text: &str,
        size: f32,
    ) -> Result<Vec<Segment>, RenderError> {
        let (weight, spacing) = (tb.weight, tb.letter_spacing);
        let mut pieces = Vec::new();
        let mut start = 0;
        for (end, kind) in linebreaks(text) {
            let raw = &text[start..end];
            start = end;
            let hard = kind == BreakOpportunity::Mandatory && raw.ends_with('\n');
            let piece = raw.trim_end_matches('\n');
            if !piece.is_empty() || hard {
                pieces.push((piece.to_string(), hard));
            }
        }
        let trimmed: Vec<&str> = pieces.iter().map(|(p, _)| p.trim_end()).collect();
        let widths = self.measure(fonts, family, weight, spacing, size, &trimmed)?;
        let space = self.measure(fonts, family, weight, spacing, size, &["x x", "xx"])?;
        let space_w = (space[0] - space[1]).max(0.0);
        Ok(pieces
            .iter()
            .zip(widths)
            .map(|((p, hard), w)| {
                let trailing = p.len() - p.trim_end().len();
                Segment {
                    text: p.clone(),
                    width: w,
                    space: trailing as f32 * space_w,
                    hard_break: *hard,
                }
            })
            .collect())
    }

    /// Replaces segments wider than the box with one segment per character.
    fn split_wide(
        &self,
        fonts: &FontLibrary,
        family: &str,
        tb: &TextBox,
        size: f32,
        segments: Vec<Segment>,
    ) -> Result<Vec<Segment>, RenderError> {
        let limit = tb.width / size;
        let mut out = Vec::with_capacity(segments.len());
        for seg in segments {
            if seg.width <= limit {
                out.push(seg);
                continue;
            }
            let chars: Vec<String> = seg.text.trim_end().chars().map(String::from).collect();
            let refs: Vec<&str> = chars.iter().map(String::as_str).collect();
            let widths = self.measure(fonts, family, tb.weight, tb.letter_spacing, size, &refs)?;
            let n = chars.len();
            for (i, (c, w)) in chars.into_iter().zip(widths).enumerate() {
                let last = i + 1 == n;
                out.push(Segment {
                    text: if last {
                        format!("{c}{}", &seg.text[seg.text.trim_end().len()..])
                    } else {
                        c
                    },
                    width: w,
                    space: if last { seg.space } else { 0.0 },
                    hard_break: last && seg.hard_break,
                });
            }
        }
        Ok(out)
    }

    /// Shortens `line` until it fits the box with an ellipsis appended.
    fn ellipsize(
        &self,
        fonts: &FontLibrary,
        family: &str,
        tb: &TextBox,
        size: f32,
        line: &str,
    ) -> Result<Line, RenderError> {
        let limit = tb.width / size;
        let mut chars: Vec<char> = line.trim_end().chars().collect();
        loop {
            let candidate: String = chars.iter().collect::<String>().trim_end().to_string();
            let candidate = format!("{candidate}{ELLIPSIS}");
            let w = self.line_width(fonts, family, tb, size, &candidate)? / size;
            if w <= limit || chars.is_empty() {
                return Ok(Line {
                    text: candidate,
                    width: w,
                });
            }
            // Prefer cutting at a word boundary when one is near.
            let cut = chars.iter().rposition(|c| c.is_whitespace());
            match cut {
                Some(i) if chars.len() - i <= 12 => chars.truncate(i),
                _ => {
                    chars.pop();
                }
            }
        }
    }

    /// Widths of `texts` drawn at `size`, divided by `size`. Each text is split into font runs
    /// (see [`runs`]), and each run is measured on its own, from the cache or with usvg in one
    /// parse.
    fn measure(
        &self,
        fonts: &FontLibrary,
        family: &str,
        weight: u16,
        spacing: f32,
        size: f32,
        texts: &[&str],
    ) -> Result<Vec<f32>, RenderError> {
        let space = self.measure_plain(
            fonts,
            weight,
            spacing,
            size,
            &[(family, "x x"), (family, "xx")],
        )?;
        let space_w = (space[0] - space[1]).max(0.0);
        let split: Vec<Vec<Run>> = texts.iter().map(|t| runs(fonts, family, t)).collect();
        let plain: Vec<(&str, &str)> = split
            .iter()
            .flatten()
            .map(|r| (r.family, r.text.trim_end()))
            .collect();
        let widths = self.measure_plain(fonts, weight, spacing, size, &plain)?;
        let mut widths = widths.into_iter();
        Ok(split
            .iter()
            .map(|text_runs| {
                text_runs
                    .iter()
                    .map(|r| {
                        let trailing = r.text.len() - r.text.trim_end().len();
                        widths.next().unwrap_or(0.0) + trailing as f32 * space_w
                    })
                    .sum::<f32>()
            })
            .collect())
    }

    /// Widths of single-font texts drawn at `size`, divided by `size`.
    fn measure_plain(
        &self,
        fonts: &FontLibrary,
        weight: u16,
        spacing: f32,
        size: f32,
        texts: &[(&str, &str)],
    ) -> Result<Vec<f32>, RenderError> {
        let key = |fam: &str, t: &str| (format!("{fam}|{spacing}|{size}"), weight, t.to_string());
        let mut out = vec![0.0f32; texts.len()];
        let mut missing = Vec::new();
        {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            for (i, (fam, t)) in texts.iter().enumerate() {
                match cache.get(&key(fam, t)) {
                    Some(w) => out[i] = *w,
                    None if t.is_empty() => {}
                    None => missing.push(i),
                }
            }
        }
        // Most texts are measured by laying them out as usvg would (`plain_text::measure`,
        // the same figure); the rest in one usvg parse.
        let measured: Vec<(usize, f32)> = missing
            .iter()
            .filter_map(|&i| {
                let (fam, t) = texts[i];
                let w = measure_plain_text(fonts, fam, weight, spacing, size, t)?;
                Some((i, w / size))
            })
            .collect();
        if !measured.is_empty() {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() > CACHE_LIMIT {
                cache.clear();
            }
            for &(i, w) in &measured {
                out[i] = w;
                let (fam, t) = texts[i];
                cache.insert(key(fam, t), w);
            }
            missing.retain(|i| !measured.iter().any(|(j, _)| j == i));
        }
        if missing.is_empty() {
            return Ok(out);
        }
        let mut svg =
            String::from(r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">"#);
        for &i in &missing {
            let (fam, t) = texts[i];
            let _ = write!(
                svg,
                r#"<text id="m{i}" x="0" y="100" {} font-size="{size}" xml:space="preserve">{}</text>"#,
                font_attrs(fam, weight, spacing),
                escape(t)
            );
        }
        svg.push_str("</svg>");
        let tree = guard(Stage::Layout, || Tree::from_str(&svg, &fonts.options()))?
            .map_err(|e| RenderError::InvalidLayout(e.to_string()))?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() > CACHE_LIMIT {
            cache.clear();
        }
        for &i in &missing {
            let w = match tree.node_by_id(&format!("m{i}")) {
                Some(Node::Text(t)) => t.bounding_box().width() / size,
                _ => 0.0,
            };
            out[i] = w;
            let (fam, t) = texts[i];
            cache.insert(key(fam, t), w);
        }
        Ok(out)
    }

    fn emit(
        &self,
        fonts: &FontLibrary,
        tb: &TextBox,
        family: &str,
        size: f32,
        lines: Vec<String>,
        truncated: bool,
    ) -> FittedText {
        let n = lines.len();
        let line_step = size * tb.line_height;
        let block = if n == 0 {
            0.0
        } else {
            (n - 1) as f32 * line_step + size * LINE_BOX
        };
        let top = match tb.valign {
            VAlign::Top => tb.y,
            VAlign::Middle => tb.y + (tb.height - block) / 2.0,
            VAlign::Bottom => tb.y + tb.height - block,
        };
        let rtl = is_rtl(&tb.text);
        let mirror = tb.mirror_rtl && rtl;
        let mut svg = String::with_capacity(256 + tb.text.len() * 2);
        let _ = write!(
            svg,
            r#"<text {} font-size="{}" fill="{}" xml:space="preserve">"#,
            font_attrs(family, tb.weight, tb.letter_spacing),
            round(size),
            escape(&tb.fill)
        );
        let space = self
            .measure_plain(
                fonts,
                tb.weight,
                tb.letter_spacing,
                size,
                &[(family, "x x"), (family, "xx")],
            )
            .unwrap_or_else(|_| vec![0.0; 2]);
        let space_w = (space[0] - space[1]).max(0.0) * size;
        let mut widest = 0.0f32;
        for (i, line) in lines.iter().enumerate() {
            let y = round(top + size * BASELINE + i as f32 * line_step);
            let pieces = visual_pieces(fonts, family, line, rtl);
            let plain: Vec<(&str, &str)> =
                pieces.iter().map(|p| (p.family, p.text.as_str())).collect();
            let widths: Vec<f32> = self
                .measure_plain(fonts, tb.weight, tb.letter_spacing, size, &plain)
                .unwrap_or_else(|_| vec![0.0; plain.len()])
                .into_iter()
                .map(|w| w * size)
                .collect();
            let gaps = |p: &Piece| (p.left + p.right) as f32 * space_w;
            let total: f32 = pieces.iter().zip(&widths).map(|(p, w)| w + gaps(p)).sum();
            widest = widest.max(total);
            let left = match (tb.align, mirror) {
                (Align::Middle, _) => tb.x + (tb.width - total) / 2.0,
                (Align::Start, false) | (Align::End, true) => tb.x,
                (Align::End, false) | (Align::Start, true) => tb.x + tb.width - total,
            };
            // Pieces come in visual order, left to right, each its own positioned chunk: usvg
            // lays out every chunk as a left-to-right paragraph, so the reordering between
            // directions is done here, and spaces at direction boundaries become gaps between
            // chunks (inside a chunk they would land on the wrong side). Separate chunks also
            // keep usvg from merging spans of different fonts (its span merging mishandles
            // emoji ZWJ clusters).
            let mut pen = left;
            for (piece, w) in pieces.iter().zip(&widths) {
                pen += piece.left as f32 * space_w;
                if !piece.text.is_empty() {
                    let font = if piece.family == family {
                        String::new()
                    } else {
                        format!(r#" font-family="'{}'""#, escape(piece.family))
                    };
                    let _ = write!(
                        svg,
                        r#"<tspan x="{}" y="{y}"{font}>{}</tspan>"#,
                        round(pen),
                        escape(&piece.text)
                    );
                }
                pen += w + piece.right as f32 * space_w;
            }
        }
        svg.push_str("</text>");
        FittedText {
            svg,
            font_size: size,
            lines,
            truncated,
            height: block,
            width: widest,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Line {
    text: String,
    /// Width without trailing whitespace, at 1 px font size.
    width: f32,
}

/// Greedy line filling; `limit` is the box width at 1 px font size.
fn wrap(segments: &[Segment], limit: f32) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut cur = Line::default();
    let mut pending_space = 0.0;
    let mut empty = true;
    for seg in segments {
        let needed = cur.width + pending_space + seg.width;
        if !empty && needed > limit + 1e-4 {
            lines.push(finish(std::mem::take(&mut cur)));
            pending_space = 0.0;
            empty = true;
        }
        if empty {
            cur.width = seg.width;
        } else {
            cur.width += pending_space + seg.width;
        }
        cur.text.push_str(&seg.text);
        pending_space = seg.space;
        empty = false;
        if seg.hard_break {
            lines.push(finish(std::mem::take(&mut cur)));
            pending_space = 0.0;
            empty = true;
        }
    }
    if !empty {
        lines.push(finish(cur));
    }
    lines
}

/// Evens out wrapped lines like CSS `text-wrap: balance`: the narrowest width that still
/// wraps `segments` into as many lines as `lines` (the greedy wrap at `limit`), found by
/// bisection. Only widths change, so what fitted still fits; a lone short last word moves
/// up its line's neighbours instead.
fn balance(segments: &[Segment], limit: f32, lines: Vec<Line>) -> Vec<Line> {
    let n = lines.len();
    if n < 2 {
        return lines;
    }
    let widest_segment = segments.iter().map(|s| s.width).fold(0.0f32, f32::max);
    // No line can be narrower than the widest piece, nor than the ink spread evenly.
    let ink: f32 = segments.iter().map(|s| s.width).sum();
    let (mut lo, mut hi) = (widest_segment.max(ink / n as f32), limit);
    if lo >= hi {
        return lines;
    }
    let mut best = lines;
    // 10 halvings bring the width within 0.1 % of the box of the narrowest.
    for _ in 0..10 {
        let mid = (lo + hi) / 2.0;
        let candidate = wrap(segments, mid);
        if candidate.len() <= n {
            hi = mid;
            best = candidate;
        } else {
            lo = mid;
        }
    }
    best
}

fn finish(mut line: Line) -> Line {
    let trimmed = line.text.trim_end().len();
    line.text.truncate(trimmed);
    line
}

/// How many lines fit in the box at `size`.
fn line_capacity(tb: &TextBox, size: f32) -> usize {
    if tb.height < size * LINE_BOX - 1e-3 {
        return 0;
    }
    let extra = ((tb.height - size * LINE_BOX) / (size * tb.line_height)).floor() as usize;
    (extra + 1).min(tb.max_lines as usize)
}

fn validate(tb: &TextBox) -> Result<(), RenderError> {
    let ok = tb.width > 0.0
        && tb.height > 0.0
        && tb.min_size > 0.0
        && tb.max_size >= tb.min_size
        && tb.max_size <= 1000.0
        && tb.line_height > 0.0
        && tb.max_lines > 0
        && [tb.x, tb.y, tb.width, tb.height, tb.letter_spacing]
            .iter()
            .all(|v| v.is_finite());
    if ok {
        Ok(())
    } else {
        Err(RenderError::InvalidLayout(format!(
            "box {}x{} sizes {}..{} line-height {} max-lines {}",
            tb.width, tb.height, tb.min_size, tb.max_size, tb.line_height, tb.max_lines
        )))
    }
}

/// Collapses runs of spaces and tabs, keeps newlines, drops control characters.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_space = true;
    for c in text.trim().chars() {
        if c == '\n' {
            while out.ends_with(' ') {
                out.pop();
            }
            out.push('\n');
            last_space = true;
        } else if c.is_whitespace() || c.is_control() {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
        } else {
            out.push(c);
            last_space = false;
        }
    }
    out
}

/// A stretch of text drawn with one font family.
#[derive(Debug, Clone, PartialEq)]
struct Run<'a> {
    family: &'a str,
    text: String,
}

/// Splits text into runs by the family that can draw each character: the primary family,
/// colour emoji, or a script fallback. Spaces and punctuation stay with the current run.
fn runs<'a>(fonts: &'a FontLibrary, family: &'a str, text: &str) -> Vec<Run<'a>> {
    let mut out: Vec<Run<'a>> = Vec::new();
    for c in text.chars() {
        if let Some(cur) = out.last_mut() {
            if is_attached(c) || (!c.is_alphabetic() && fonts.covers(cur.family, c)) {
                cur.text.push(c);
                continue;
            }
        }
        let fam = fonts.family_for_char(family, c);
        match out.last_mut() {
            Some(cur) if cur.family == fam => cur.text.push(c),
            _ => out.push(Run {
                family: fam,
                text: c.to_string(),
            }),
        }
    }
    out
}

/// A chunk of a line in visual order: one font, one direction, spaces at its edges moved out.
#[derive(Debug, Clone, PartialEq)]
struct Piece<'a> {
    family: &'a str,
    /// The text in logical order; right-to-left text is wrapped in RLMs so that usvg, which
    /// shapes every chunk as a left-to-right paragraph, keeps the punctuation at its edges
    /// right-to-left too (and mirrors brackets).
    text: String,
    /// Spaces drawn before (left of) and after (right of) the text.
    left: usize,
    right: usize,
}

const RLM: char = '\u{200F}';

/// Splits a line into [`Piece`]s in visual order, with the bidi algorithm (UAX #9) and a
/// paragraph direction of right-to-left when `rtl`.
fn visual_pieces<'a>(
    fonts: &'a FontLibrary,
    family: &'a str,
    line: &str,
    rtl: bool,
) -> Vec<Piece<'a>> {
    use unicode_bidi::{BidiInfo, Level};
    let level = if rtl { Level::rtl() } else { Level::ltr() };
    let info = BidiInfo::new(line, Some(level));
    let mut out = Vec::new();
    for para in &info.paragraphs {
        let (levels, level_runs) = info.visual_runs(para, para.range.clone());
        for range in level_runs {
            let backwards = levels[range.start].is_rtl();
            let mut font_runs = runs(fonts, family, &line[range]);
            if backwards {
                font_runs.reverse();
            }
            for run in font_runs {
                let core = run.text.trim_matches(' ');
                let lead = run.text.len() - run.text.trim_start_matches(' ').len();
                // A run of spaces only counts once.
                let trail = run.text.len() - lead - core.len();
                let (left, right) = if backwards {
                    (trail, lead)
                } else {
                    (lead, trail)
                };
                let text = match (core.is_empty(), backwards) {
                    (true, _) => String::new(),
                    (false, true) => format!("{RLM}{core}{RLM}"),
                    (false, false) => core.to_string(),
                };
                out.push(Piece {
                    family: run.family,
                    text,
                    left,
                    right,
                });
            }
        }
    }
    out
}

/// Characters that belong to the preceding character's cluster: joiners, variation selectors,
/// combining marks, emoji modifiers and tags.
pub(crate) fn is_attached(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x200C | 0x200D | 0xFE00..=0xFE0F | 0x20D0..=0x20FF
        | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F)
}

fn is_rtl(text: &str) -> bool {
    matches!(
        unicode_bidi::get_base_direction(text),
        unicode_bidi::Direction::Rtl
    )
}

fn font_attrs(family: &str, weight: u16, spacing: f32) -> String {
    let mut s = format!(
        r#"font-family="'{}', sans-serif" font-weight="{weight}""#,
        escape(&family.replace('\'', ""))
    );
    if spacing != 0.0 {
        let _ = write!(s, r#" letter-spacing="{}em""#, round(spacing));
    }
    s
}

/// The width usvg gives the text `measure_plain` writes for `(family, t)`, without parsing it;
/// `None` when it must be parsed (see `plain_text::measure`).
fn measure_plain_text(
    fonts: &FontLibrary,
    family: &str,
    weight: u16,
    spacing: f32,
    size: f32,
    t: &str,
) -> Option<f32> {
    // `escape` drops characters XML forbids; such text is left to the parse.
    let dropped = |c: char| (c as u32) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}');
    if family.chars().any(dropped) || t.chars().any(dropped) {
        return None;
    }
    // What `font_attrs` writes, as usvg reads it back.
    let families = format!("'{}', sans-serif", family.replace('\'', ""));
    let spacing = (spacing != 0.0).then(|| format!("{}em", round(spacing)));
    crate::plain_text::measure(
        fonts,
        &families,
        &weight.to_string(),
        &size.to_string(),
        spacing.as_deref(),
        t,
    )
}

fn round(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}

/// XML-escapes text for use in element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 forbids would make the document unparseable.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            '\u{FFFE}' | '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(w: f32, s: f32) -> Segment {
        Segment {
            text: "ab ".into(),
            width: w,
            space: s,
            hard_break: false,
        }
    }

    #[test]
    fn wrap_breaks_when_full() {
        let segs = vec![seg(1.0, 0.25), seg(1.0, 0.25), seg(1.0, 0.25)];
        assert_eq!(wrap(&segs, 2.3).len(), 2);
        assert_eq!(wrap(&segs, 3.5).len(), 1);
    }

    fn word(text: &str, w: f32) -> Segment {
        Segment {
            text: format!("{text} "),
            width: w,
            space: 0.25,
            hard_break: false,
        }
    }

    #[test]
    fn balance_leaves_no_lone_last_word() {
        // Greedy: "aaaa bbbb cccc" / "dd" — balanced: two lines of similar width.
        let segs = vec![
            word("aaaa", 4.0),
            word("bbbb", 4.0),
            word("cccc", 4.0),
            word("dd", 2.0),
        ];
        let greedy = wrap(&segs, 13.0);
        assert_eq!(greedy.len(), 2);
        assert_eq!(greedy[1].text, "dd");
        let balanced = balance(&segs, 13.0, greedy);
        let texts: Vec<&str> = balanced.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["aaaa bbbb", "cccc dd"]);
        assert!(balanced.iter().all(|l| l.width <= 13.0));
    }

    #[test]
    fn balance_keeps_the_line_count_and_single_lines() {
        let segs = vec![word("a", 1.0), word("b", 1.0)];
        let one = wrap(&segs, 10.0);
        assert_eq!(balance(&segs, 10.0, one.clone()).len(), 1);
        let segs: Vec<Segment> = (0..7).map(|_| word("xx", 2.0)).collect();
        let greedy = wrap(&segs, 9.0);
        let balanced = balance(&segs, 9.0, greedy.clone());
        assert_eq!(balanced.len(), greedy.len());
    }

    #[test]
    fn escape_handles_markup_and_controls() {
        assert_eq!(
            escape("<a href='x'>&\u{1}"),
            "&lt;a href=&apos;x&apos;&gt;&amp;"
        );
    }

    /// The line as it appears left to right: spaces where the pieces put them, each piece's
    /// text (logical order inside a piece) without its direction marks.
    fn visual(line: &str, rtl: bool) -> String {
        let fonts = crate::test_fonts::library();
        visual_pieces(fonts, DEFAULT_FAMILY_FOR_TESTS, line, rtl)
            .iter()
            .map(|p| {
                let text = p.text.trim_matches(RLM);
                format!("{}{text}{}", " ".repeat(p.left), " ".repeat(p.right))
            })
            .collect()
    }

    const DEFAULT_FAMILY_FOR_TESTS: &str = crate::fonts::DEFAULT_FAMILY;

    #[test]
    fn spaces_at_direction_boundaries_stay_between_the_words() {
        // Hebrew paragraph with English inside: one space on each side of the English.
        assert_eq!(
            visual("עם English mixed ושוב", true),
            "ושוב English mixed עם"
        );
        assert_eq!(
            visual("עברית: כותרת עם English", true),
            "English עברית: כותרת עם"
        );
        assert_eq!(
            visual("in the middle ושוב עברית", true),
            "ושוב עברית in the middle"
        );
        // Arabic with numbers and a Latin brand name: the numbers read left to right.
        assert_eq!(visual("عام 2024 مع Google", true), "Google مع 2024 عام");
        // English with an Arabic name: the name is one right-to-left piece.
        assert_eq!(
            visual("Interview with محمد الأحمد today", false),
            "Interview with محمد الأحمد today"
        );
    }

    #[test]
    fn right_to_left_pieces_are_marked_and_left_to_right_ones_are_not() {
        let fonts = crate::test_fonts::library();
        let pieces = visual_pieces(fonts, DEFAULT_FAMILY_FOR_TESTS, "שלום (CEO)!", true);
        let texts: Vec<&str> = pieces.iter().map(|p| p.text.as_str()).collect();
        assert!(texts.contains(&"CEO"), "{texts:?}");
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with(RLM) && t.ends_with(RLM) && t.contains("שלום")),
            "{texts:?}"
        );
        assert!(pieces
            .iter()
            .all(|p| !p.text.contains(' ') || p.text.contains('ש')));
    }

    /// usvg's width of the text `measure_plain` writes, by parsing it.
    fn usvg_width(fonts: &FontLibrary, family: &str, weight: u16, spacing: f32, t: &str) -> f32 {
        let svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text id="m" x="0" y="100" {} font-size="{MEASURE_SIZE}" xml:space="preserve">{}</text></svg>"#,
            font_attrs(family, weight, spacing),
            escape(t)
        );
        let tree = Tree::from_str(&svg, &fonts.options()).expect("svg");
        match tree.node_by_id("m") {
            Some(Node::Text(t)) => t.bounding_box().width(),
            _ => 0.0,
        }
    }

    #[test]
    fn widths_match_usvg_bit_for_bit() {
        let fonts = crate::test_fonts::library();
        let texts = [
            "x x",
            "xx",
            "AVATAR Wave To,",
            "Rendering social cards in under",
            "ten milliseconds, take 0",
            "fi ffl “quoted” — dash",
            "Zoë Łukasz Ελληνικά кириллица",
            "\u{200F}עברית: כותרת עם\u{200F}",
            "\u{200F}إصدار من أوغمينت\u{200F}",
            "2024",
            "你好，世界",
            "Cafe\u{301}",
            "ש",
            "…",
            "-",
            ".",
        ];
        let (mut fast, mut total) = (0, 0);
        for (family, weight) in [
            ("Inter", 700),
            ("Inter", 450),
            ("Heebo", 400),
            ("Noto Sans Arabic", 600),
            ("Noto Sans CJK SC", 400),
        ] {
            for spacing in [0.0, 0.02, -0.05] {
                for t in texts {
                    let theirs = usvg_width(fonts, family, weight, spacing, t);
                    // A text with a character its family lacks goes to usvg, which falls back
                    // to other fonts for it (fitted text never has one: `runs` splits them off).
                    let lacks = t.chars().any(|c| c != RLM && !fonts.covers(family, c));
                    match measure_plain_text(fonts, family, weight, spacing, MEASURE_SIZE, t) {
                        Some(ours) => {
                            fast += 1;
                            assert_eq!(
                                ours.to_bits(),
                                theirs.to_bits(),
                                "{family} {weight} {spacing} {t:?}: {ours} vs {theirs}"
                            );
                        }
                        None => assert!(lacks, "{family} {t:?} was not measured"),
                    }
                    total += usize::from(!lacks);
                }
            }
        }
        assert_eq!(fast, total);
        // Text without ink (usvg drops it), emoji and control characters go to usvg.
        for (family, t) in [
            ("Inter", "\u{200B}"),
            ("Noto Color Emoji", "🚀"),
            ("Inter", "a\u{1}b"),
        ] {
            assert_eq!(
                measure_plain_text(fonts, family, 400, 0.0, MEASURE_SIZE, t),
                None,
                "{t:?}"
            );
        }
    }

    #[test]
    fn normalise_collapses_space() {
        assert_eq!(normalise("  a \t b \n c "), "a b\nc");
    }
}
