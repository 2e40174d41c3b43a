//! SVG → pixels → PNG, with every input bounded before work is done.
use crate::encode::encode_png;
use crate::error::RenderError;
use crate::fonts::FontLibrary;
use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg::{Options, Tree};

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

/// Parses an SVG document into a render tree, enforcing `limits`.
pub fn parse(svg: &str, limits: &Limits, options: &Options) -> Result<Tree, RenderError> {
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
    Tree::from_xmltree(&doc, options).map_err(|e| RenderError::InvalidSvg(e.to_string()))
}

fn check_depth(doc: &roxmltree::Document, limit: usize) -> Result<(), RenderError> {
    let mut stack = vec![(doc.root(), 0usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth > limit {
            return Err(RenderError::TooDeep { limit });
        }
        stack.extend(node.children().filter(|c| c.is_element()).map(|c| (c, depth + 1)));
    }
    Ok(())
}

/// Rasterises a parsed tree at its natural size.
pub fn rasterise(tree: &Tree, limits: &Limits) -> Result<Pixmap, RenderError> {
    let size = tree.size().to_int_size();
    let (width, height) = (size.width(), size.height());
    if width > limits.max_side
        || height > limits.max_side
        || u64::from(width) * u64::from(height) > limits.max_pixels
    {
        return Err(RenderError::CanvasTooLarge { width, height });
    }
    let mut pixmap =
        Pixmap::new(width, height).ok_or(RenderError::CanvasTooLarge { width, height })?;
    resvg::render(tree, Transform::default(), &mut pixmap.as_mut());
    Ok(pixmap)
}

/// The whole pipeline: SVG text in, PNG bytes out.
pub fn render_png(svg: &str, limits: &Limits, fonts: &FontLibrary) -> Result<Vec<u8>, RenderError> {
    // A panic inside usvg/resvg on hostile input becomes an error, never a crashed worker.
    crate::text::guarded(|| {
        let tree = parse(svg, limits, &fonts.options())?;
        encode_png(&rasterise(&tree, limits)?)
    })?
}
