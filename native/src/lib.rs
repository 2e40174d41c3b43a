//! ogmint's native renderer, exposed to Python as `ogmint._native`.
//!
//! This file only exports; the logic lives in plain Rust modules without PyO3 types.
#![forbid(unsafe_code)]

#[cfg(test)]
mod conformance;
pub mod deadline;
pub mod deflate;
pub mod draw;
pub mod encode;
pub mod error;
mod fallback;
pub mod fonts;
pub mod glyphs;
pub mod pixels;
pub mod plain_text;
mod py;
pub mod render;
#[cfg(test)]
mod test_fonts;
pub mod text;

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
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
