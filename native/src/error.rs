//! The one error type of the native crate, and the guard that turns a panic into one.
//!
//! Two kinds: the input was refused (limits, invalid SVG, impossible layout, deadline) or the
//! renderer failed ([`RenderError::Internal`]: a panic inside a stage, a failed encoder). Python
//! sees the first as `RenderError` (a `ValueError`), the second as `RenderInternalError`.
use std::fmt;

/// Everything that can go wrong while turning an SVG into an image.
#[derive(Debug, Clone, PartialEq)]
pub enum RenderError {
    /// The SVG document is larger than `Limits::max_svg_bytes`.
    InputTooLarge { size: usize, limit: usize },
    /// The document has more XML nodes than `Limits::max_nodes`.
    TooManyNodes { limit: u32 },
    /// Elements are nested deeper than `Limits::max_depth`.
    TooDeep { limit: usize },
    /// The canvas is larger than `Limits::max_canvas_pixels` or a side exceeds `max_side`.
    CanvasTooLarge { width: u32, height: u32 },
    /// The document is not valid SVG.
    InvalidSvg(String),
    /// Text layout was asked for something impossible (e.g. an empty box).
    InvalidLayout(String),
    /// PNG encoding failed.
    Encode(String),
    /// The render ran past its deadline and was abandoned.
    DeadlineExceeded,
    /// A stage of the renderer panicked (a bug here or in a dependency, never the input's fault).
    Internal { stage: Stage },
}

/// The stages of a render, for the errors that say where it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// XML and usvg parsing of a document, with its plain texts' layout.
    Parse,
    /// Fitting text into a box.
    Layout,
    /// Drawing a parsed document onto pixels.
    Raster,
    /// PNG encoding.
    Encode,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Parse => "parse",
            Self::Layout => "layout",
            Self::Raster => "raster",
            Self::Encode => "encode",
        })
    }
}

impl RenderError {
    /// Whether the renderer failed, as opposed to refusing the input.
    pub fn is_internal(&self) -> bool {
        matches!(self, Self::Internal { .. } | Self::Encode(_))
    }
}

/// Runs `f` as `stage`, turning a panic inside it (or a dependency) into
/// [`RenderError::Internal`] instead of a crashed worker.
pub fn guard<T>(stage: Stage, f: impl FnOnce() -> T) -> Result<T, RenderError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .map_err(|_| RenderError::Internal { stage })
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InputTooLarge { size, limit } => {
                write!(f, "SVG is {size} bytes; the limit is {limit}")
            }
            Self::TooManyNodes { limit } => write!(f, "SVG has more than {limit} nodes"),
            Self::TooDeep { limit } => write!(f, "SVG nesting is deeper than {limit}"),
            Self::CanvasTooLarge { width, height } => {
                write!(f, "canvas {width}x{height} is larger than allowed")
            }
            Self::InvalidSvg(m) => write!(f, "invalid SVG: {m}"),
            Self::InvalidLayout(m) => write!(f, "invalid text layout: {m}"),
            Self::Encode(m) => write!(f, "PNG encoding failed: {m}"),
            Self::DeadlineExceeded => write!(f, "the render took longer than allowed"),
            Self::Internal { stage } => write!(f, "internal renderer failure in the {stage} stage"),
        }
    }
}

impl std::error::Error for RenderError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_reports_its_stage() {
        let err = guard(Stage::Raster, || panic!("boom")).unwrap_err();
        assert_eq!(
            err,
            RenderError::Internal {
                stage: Stage::Raster
            }
        );
        assert!(err.is_internal());
        assert_eq!(
            err.to_string(),
            "internal renderer failure in the raster stage"
        );
        assert_eq!(guard(Stage::Parse, || 7), Ok(7));
    }
}
