//! The renderer as plain Rust: everything a render needs, built in one place and shared by
//! every thread: the font library, the text layout with its width cache, the glyph coverage and
//! background caches, and the input limits.
//!
//! `py.rs` adapts it to Python; the examples and the Rust tests use it as is. Its methods are
//! the crate's entry points: a render to PNG bytes (`render_png`, `render_layers_png`), text
//! fitted into a box (`fit_text`), straight pixels for another encoder (`render_pixels`,
//! `render_layers_pixels`), and the figures of its caches. The pipeline itself lives in
//! `render` (parse → layout → rasterise → encode); each output is one method here over
//! `render`'s pixmap-producing steps.
use crate::cache::CacheStats;
use crate::deadline::Deadline;
use crate::error::RenderError;
use crate::fonts::{FamilyInfo, FontLibrary};
use crate::glyphs::GlyphCache;
use crate::pixels::Pixels;
use crate::render::{
    render_layers_pixels, render_layers_png, render_pixels, render_png, BackgroundCache, Context,
    Limits,
};
use crate::text::{FittedText, TextBox, TextLayout};
use std::path::Path;

/// The renderer: fonts loaded once, caches shared between threads, inputs held to `limits`.
pub struct Engine {
    fonts: FontLibrary,
    layout: TextLayout,
    /// Rasterised glyphs of `fonts`' faces (keyed by face id, so they belong to this library).
    glyphs: GlyphCache,
    backgrounds: BackgroundCache,
    limits: Limits,
}

impl Engine {
    /// An engine drawing with the fonts found (recursively) under `font_dirs`.
    pub fn new<P: AsRef<Path>>(font_dirs: &[P], limits: Limits) -> Self {
        Self::with_fonts(FontLibrary::load(font_dirs), limits)
    }

    /// An engine drawing with `fonts`, its caches empty and at their default bounds.
    pub fn with_fonts(fonts: FontLibrary, limits: Limits) -> Self {
        Self {
            fonts,
            layout: TextLayout::new(),
            glyphs: GlyphCache::default(),
            backgrounds: BackgroundCache::default(),
            limits,
        }
    }

    /// What a render reads: the fonts, the glyph cache and the limits.
    pub fn context(&self) -> Context<'_> {
        Context {
            fonts: &self.fonts,
            glyphs: &self.glyphs,
            limits: &self.limits,
        }
    }

    /// The font library.
    pub fn fonts(&self) -> &FontLibrary {
        &self.fonts
    }

    /// The glyph coverage cache text is drawn from.
    pub fn glyphs(&self) -> &GlyphCache {
        &self.glyphs
    }

    /// The input limits every render is held to.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Rasterises an SVG document to PNG bytes, abandoned once `deadline` has passed.
    pub fn render_png(&self, svg: &str, deadline: Deadline) -> Result<Vec<u8>, RenderError> {
        render_png(svg, self.context(), deadline)
    }

    /// Draws `foreground` over `background` (its pixels cached under `key`) to PNG bytes.
    pub fn render_layers_png(
        &self,
        background: &str,
        foreground: &str,
        key: &str,
        deadline: Deadline,
    ) -> Result<Vec<u8>, RenderError> {
        render_layers_png(
            background,
            foreground,
            key,
            self.context(),
            &self.backgrounds,
            deadline,
        )
    }

    /// [`Self::render_png`]'s pixels, straight (flattened on `matte` when given), unencoded.
    pub fn render_pixels(
        &self,
        svg: &str,
        matte: Option<[u8; 3]>,
        deadline: Deadline,
    ) -> Result<Pixels, RenderError> {
        render_pixels(svg, self.context(), matte, deadline)
    }

    /// [`Self::render_layers_png`]'s pixels, as [`Self::render_pixels`].
    pub fn render_layers_pixels(
        &self,
        background: &str,
        foreground: &str,
        key: &str,
        matte: Option<[u8; 3]>,
        deadline: Deadline,
    ) -> Result<Pixels, RenderError> {
        render_layers_pixels(
            background,
            foreground,
            key,
            self.context(),
            &self.backgrounds,
            matte,
            deadline,
        )
    }

    /// Lays out a text box as an SVG `<text>` element.
    pub fn fit_text(&self, tb: &TextBox) -> Result<FittedText, RenderError> {
        self.layout.fit(&self.fonts, tb)
    }

    /// The glyph and background caches' figures, by name (`glyph`, `background`).
    pub fn cache_stats(&self) -> [(&'static str, CacheStats); 2] {
        [
            ("glyph", self.glyphs.stats()),
            ("background", self.backgrounds.stats()),
        ]
    }

    /// The installed font families, sorted by name.
    pub fn families(&self) -> Vec<FamilyInfo> {
        self.fonts.families()
    }
}
