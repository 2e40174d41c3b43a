//! ogmint's native renderer, exposed to Python as `ogmint._native`.
//!
//! This file only exports; the logic lives in plain Rust modules without PyO3 types, reached
//! through [`engine::Engine`]. The modules form a one-way graph, listed below from the bottom.
#![forbid(unsafe_code)]

// Layers, each importing only the ones above it in this list (tests aside):
// foundations (no crate imports)
pub mod cache;
pub mod deadline;
pub mod error;
// font library
pub mod fonts;
// shaping and layout
mod fallback;
pub mod plain_text;
pub mod text;
// glyph rasterising
pub mod glyphs;
// drawing
pub mod draw;
// encoding
pub mod deflate;
pub mod encode;
pub mod pixels;
// the pipeline, the engine over it, and its Python adapter
pub mod engine;
mod py;
pub mod render;

#[cfg(test)]
mod conformance;
#[cfg(test)]
mod test_fonts;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<py::Renderer>()?;
    m.add_class::<py::FittedText>()?;
    m.add_class::<py::FontFamily>()?;
    m.add_class::<py::CacheStats>()?;
    m.add_class::<py::RawImage>()?;
    m.add("RenderError", m.py().get_type::<py::RenderError>())?;
    m.add(
        "RenderTimeoutError",
        m.py().get_type::<py::RenderTimeoutError>(),
    )?;
    m.add(
        "RenderInternalError",
        m.py().get_type::<py::RenderInternalError>(),
    )?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
