//! The one error type of the native crate.
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
        }
    }
}

impl std::error::Error for RenderError {}
