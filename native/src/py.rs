//! PyO3 adapter: Python arguments → Rust options, GIL released while working,
//! Rust errors → Python exceptions. No rendering logic lives here.
use crate::deadline::Deadline;
use crate::engine::Engine;
use crate::error::RenderError as Error;
use crate::pixels::Pixels;
use crate::render::Limits;
use crate::text::{Align, TextBox, VAlign};
use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::{PyBackedBytes, PyBackedStr};
use pyo3::types::PyBytes;

create_exception!(
    _native,
    RenderError,
    PyValueError,
    "The SVG or layout request was refused or could not be rendered."
);

create_exception!(
    _native,
    RenderTimeoutError,
    RenderError,
    "The render ran past its timeout and was abandoned."
);

create_exception!(
    _native,
    RenderInternalError,
    PyRuntimeError,
    "The renderer failed (a bug, not the input's fault); the message names the stage."
);

fn to_py(e: Error) -> PyErr {
    match e {
        Error::DeadlineExceeded => RenderTimeoutError::new_err(e.to_string()),
        internal if internal.is_internal() => RenderInternalError::new_err(internal.to_string()),
        other => RenderError::new_err(other.to_string()),
    }
}

/// The deadline `timeout` seconds from now (`None`: no deadline).
fn deadline(timeout: Option<f64>) -> PyResult<Deadline> {
    match timeout {
        None => Ok(Deadline::NONE),
        Some(t) => std::time::Duration::try_from_secs_f64(t)
            .map(Deadline::after)
            .map_err(|_| PyValueError::new_err(format!("timeout must be ≥ 0 seconds, not {t}"))),
    }
}

/// A matte colour `#rrggbb` (or `None`).
fn parse_matte(matte: Option<&str>) -> PyResult<Option<[u8; 3]>> {
    let Some(text) = matte else { return Ok(None) };
    let hex = text.strip_prefix('#').unwrap_or(text);
    let channel = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
    };
    match (hex.len(), channel(0), channel(2), channel(4)) {
        (6, Some(r), Some(g), Some(b)) => Ok(Some([r, g, b])),
        _ => Err(PyValueError::new_err(format!(
            "matte {text:?} is not #rrggbb"
        ))),
    }
}

/// Straight pixels of a render, for an encoder of another format: 4 bytes a pixel,
/// `mode` `RGBX` (opaque or flattened) or `RGBA`.
#[pyclass(frozen, get_all, module = "ogmint._native")]
pub struct RawImage {
    width: u32,
    height: u32,
    /// `RGBX` or `RGBA` (Pillow's mode names, and its layout: 4 bytes a pixel).
    mode: &'static str,
    data: Py<PyBytes>,
}

impl RawImage {
    /// Writes `pixels` straight into a new `bytes` object, the GIL released meanwhile.
    fn new(py: Python<'_>, pixels: Pixels) -> PyResult<Self> {
        let data = PyBytes::new_with(py, pixels.len(), |out| {
            py.detach(|| pixels.write(out));
            Ok(())
        })?;
        Ok(Self {
            width: pixels.width,
            height: pixels.height,
            mode: pixels.mode.name(),
            data: data.unbind(),
        })
    }
}

#[derive(FromPyObject)]
enum SvgInput {
    Text(PyBackedStr),
    Bytes(PyBackedBytes),
}

impl SvgInput {
    fn text(&self) -> Result<&str, Error> {
        match self {
            Self::Text(s) => Ok(s.as_ref()),
            Self::Bytes(b) => std::str::from_utf8(b.as_ref())
                .map_err(|_| Error::InvalidSvg("document is not UTF-8".into())),
        }
    }
}

/// Text fitted into a template box.
#[pyclass(frozen, get_all, module = "ogmint._native")]
pub struct FittedText {
    svg: String,
    font_size: f32,
    lines: Vec<String>,
    truncated: bool,
    height: f32,
    width: f32,
}

/// A font family: name, available weights, whether it is a variable font.
#[pyclass(frozen, get_all, module = "ogmint._native")]
pub struct FontFamily {
    name: String,
    weights: Vec<u16>,
    variable: bool,
}

/// What one of the renderer's caches holds and how it has served since it was made.
#[pyclass(frozen, get_all, module = "ogmint._native")]
pub struct CacheStats {
    hits: u64,
    misses: u64,
    bytes: usize,
    entries: usize,
    max_bytes: usize,
}

impl From<crate::cache::CacheStats> for CacheStats {
    fn from(s: crate::cache::CacheStats) -> Self {
        Self {
            hits: s.hits,
            misses: s.misses,
            bytes: s.bytes,
            entries: s.entries,
            max_bytes: s.max_bytes,
        }
    }
}

/// The renderer: fonts loaded once, safe to share between threads.
#[pyclass(frozen, module = "ogmint._native")]
pub struct Renderer {
    engine: Engine,
}

#[pymethods]
impl Renderer {
    #[new]
    #[pyo3(signature = (font_dirs, *, max_svg_bytes=None, max_nodes=None, max_depth=None, max_side=None))]
    fn new(
        py: Python<'_>,
        font_dirs: Vec<String>,
        max_svg_bytes: Option<usize>,
        max_nodes: Option<u32>,
        max_depth: Option<usize>,
        max_side: Option<u32>,
    ) -> Self {
        let d = Limits::default();
        let side = max_side.unwrap_or(d.max_side);
        let limits = Limits {
            max_svg_bytes: max_svg_bytes.unwrap_or(d.max_svg_bytes),
            max_nodes: max_nodes.unwrap_or(d.max_nodes),
            max_depth: max_depth.unwrap_or(d.max_depth),
            max_side: side,
            max_pixels: u64::from(side) * u64::from(side),
        };
        Self {
            engine: py.detach(|| Engine::new(&font_dirs, limits)),
        }
    }

    /// Number of font faces loaded.
    #[getter]
    fn face_count(&self) -> usize {
        self.engine.fonts().face_count()
    }

    /// Rasterises an SVG document to PNG bytes, abandoning it with `RenderTimeoutError` once
    /// `timeout` seconds have passed.
    #[pyo3(signature = (svg, *, timeout=None))]
    fn render_svg<'py>(
        &self,
        py: Python<'py>,
        svg: SvgInput,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let deadline = deadline(timeout)?;
        let png = py.detach(|| self.engine.render_png(svg.text()?, deadline));
        Ok(PyBytes::new(py, &png.map_err(to_py)?))
    }

    /// Draws `foreground_svg` over `background_svg` and returns PNG bytes.
    ///
    /// The background's pixels are cached under `background_key` (bounded, least recently
    /// used evicted), so static template art is rasterised once; a key reused with different
    /// art renders afresh. Both documents must have the same size; both are held to the limits.
    /// Abandoned with `RenderTimeoutError` once `timeout` seconds have passed.
    #[pyo3(signature = (background_svg, foreground_svg, background_key, *, timeout=None))]
    fn render_layers<'py>(
        &self,
        py: Python<'py>,
        background_svg: SvgInput,
        foreground_svg: SvgInput,
        background_key: &str,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let deadline = deadline(timeout)?;
        let png = py.detach(|| {
            self.engine.render_layers_png(
                background_svg.text()?,
                foreground_svg.text()?,
                background_key,
                deadline,
            )
        });
        Ok(PyBytes::new(py, &png.map_err(to_py)?))
    }

    /// [`Self::render_svg`]'s pixels, unencoded: flattened on `matte` (`#rrggbb`) when given.
    #[pyo3(signature = (svg, *, matte=None, timeout=None))]
    fn render_svg_pixels(
        &self,
        py: Python<'_>,
        svg: SvgInput,
        matte: Option<&str>,
        timeout: Option<f64>,
    ) -> PyResult<RawImage> {
        let matte = parse_matte(matte)?;
        let deadline = deadline(timeout)?;
        let pixels = py.detach(|| self.engine.render_pixels(svg.text()?, matte, deadline));
        RawImage::new(py, pixels.map_err(to_py)?)
    }

    /// [`Self::render_layers`]'s pixels, unencoded, as [`Self::render_svg_pixels`].
    #[pyo3(signature = (background_svg, foreground_svg, background_key, *, matte=None,
                        timeout=None))]
    #[allow(clippy::too_many_arguments)]
    fn render_layers_pixels(
        &self,
        py: Python<'_>,
        background_svg: SvgInput,
        foreground_svg: SvgInput,
        background_key: &str,
        matte: Option<&str>,
        timeout: Option<f64>,
    ) -> PyResult<RawImage> {
        let matte = parse_matte(matte)?;
        let deadline = deadline(timeout)?;
        let pixels = py.detach(|| {
            self.engine.render_layers_pixels(
                background_svg.text()?,
                foreground_svg.text()?,
                background_key,
                matte,
                deadline,
            )
        });
        RawImage::new(py, pixels.map_err(to_py)?)
    }

    /// Lays out `text` in a box and returns it as an SVG `<text>` element.
    #[pyo3(signature = (text, *, family, weight, x, y, width, height, max_size, min_size,
                        line_height=1.2, max_lines=3, align="start", valign="top",
                        fill="#000000", letter_spacing=0.0, mirror_rtl=true))]
    #[allow(clippy::too_many_arguments)]
    fn fit_text(
        &self,
        py: Python<'_>,
        text: String,
        family: String,
        weight: u16,
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        max_size: f32,
        min_size: f32,
        line_height: f32,
        max_lines: u32,
        align: &str,
        valign: &str,
        fill: &str,
        letter_spacing: f32,
        mirror_rtl: bool,
    ) -> PyResult<FittedText> {
        let align = match align {
            "start" => Align::Start,
            "middle" => Align::Middle,
            "end" => Align::End,
            other => return Err(PyValueError::new_err(format!("unknown align {other:?}"))),
        };
        let valign = match valign {
            "top" => VAlign::Top,
            "middle" => VAlign::Middle,
            "bottom" => VAlign::Bottom,
            other => return Err(PyValueError::new_err(format!("unknown valign {other:?}"))),
        };
        let tb = TextBox {
            text,
            family,
            weight,
            x,
            y,
            width,
            height,
            max_size,
            min_size,
            line_height,
            max_lines,
            align,
            valign,
            fill: fill.to_string(),
            letter_spacing,
            mirror_rtl,
        };
        let fitted = py.detach(|| self.engine.fit_text(&tb)).map_err(to_py)?;
        Ok(FittedText {
            svg: fitted.svg,
            font_size: fitted.font_size,
            lines: fitted.lines,
            truncated: fitted.truncated,
            height: fitted.height,
            width: fitted.width,
        })
    }

    /// The glyph coverage cache's and the background cache's statistics, by name
    /// (`glyph`, `background`).
    fn cache_stats(&self) -> Vec<(&'static str, CacheStats)> {
        self.engine
            .cache_stats()
            .into_iter()
            .map(|(name, stats)| (name, stats.into()))
            .collect()
    }

    /// The installed font families, sorted by name.
    fn families(&self, py: Python<'_>) -> Vec<FontFamily> {
        py.detach(|| self.engine.families())
            .into_iter()
            .map(|f| FontFamily {
                name: f.name,
                weights: f.weights,
                variable: f.variable,
            })
            .collect()
    }

    /// The installed family matching `name` case-insensitively, in its canonical spelling.
    fn resolve_family(&self, name: &str) -> Option<String> {
        self.engine.fonts().resolve_family(name)
    }
}
