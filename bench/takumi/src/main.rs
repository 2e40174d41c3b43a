//! Renders, with takumi on one thread, a card equivalent to one of ogmint's: the `blog`
//! template (midnight palette: diagonal gradient, accent glow, translucent rounded surface, tag
//! pill, bold two-line title, description, rule, author) or the reference card of
//! `bench/reference_card.py` (diagonal gradient, translucent rounded surface with a stroke,
//! letter-spaced pill tag, two-line title, description, author line with a circular avatar from
//! PNG bytes), each with the coordinates ogmint gives it, so the two PNGs compare pixel for
//! pixel. Prints JSON: the milliseconds of each render, whole (layout + raster + PNG) and
//! without the PNG encoding, and the PNG bytes.
//!
//! `ogmint-bench-takumi blog FONT.ttf ROUNDS OUT.png FIRST` — after 10 warm-ups, every render
//! gets its own title (numbered from FIRST), as in ogmint's benchmark, so no cache serves a
//! repeat.
//!
//! `ogmint-bench-takumi reference FONT.ttf ROUNDS OUT.png AVATAR.png` — the same fixed card
//! every time, as ogmint's `render_svg` of the reference card draws one fixed SVG; the avatar is
//! decoded from its PNG bytes in every render, as resvg decodes the SVG's data URI.
//!
//! Run by `bench/takumi_compare.py`.
use std::time::Instant;
use takumi::prelude::*;
use takumi::{render, write_image};

fn css(s: &str) -> Style {
    s.parse().expect("valid inline CSS")
}

/// The `blog` template in the midnight palette, with the coordinates ogmint's layout gives it
/// (`templates/blog.svg`: 68 px title fitted to its box and set bottom-aligned on two lines).
/// takumi wraps the title itself, in the template's 1040 px box.
fn blog_card(title: &str) -> Node {
    let surface = Node::container([]).with_style(css(
        "position: absolute; left: 40px; top: 40px; width: 1120px; height: 550px; \
         box-sizing: border-box; border-radius: 32px; \
         background-color: rgba(22, 29, 51, 0.55); border: 1px solid rgba(238, 241, 255, 0.08)",
    ));
    let pill = Node::container([Node::text("ENGINEERING").with_style(css(
        "font-size: 18px; font-weight: 600; line-height: 40px; color: #818cf8",
    ))])
    // The width ogmint's pill gets (its measure of the tag plus 2 x 18 px): takumi's
    // measure of the tag comes out 3 px wider, though its glyphs land on the same pixels.
    .with_style(css(
        "position: absolute; left: 80px; top: 76px; width: 154.23px; height: 40px; \
         box-sizing: border-box; padding: 0 18px; display: flex; border-radius: 20px; \
         background-color: rgba(129, 140, 248, 0.18)",
    ));
    // Baselines 276.84 and 353.
    let title = Node::text(title).with_style(css(
        "position: absolute; left: 80px; top: 213.76px; width: 1040px; font-size: 68px; \
         font-weight: 700; line-height: 76.16px; color: #eef1ff",
    ));
    let description = line(
        "How a Rust rasteriser, a font cache and a fast PNG encoder fit.",
        80,
        391.5,
        "font-size: 30px; font-weight: 400; color: rgba(238, 241, 255, 0.72)",
    );
    let rule = Node::container([]).with_style(css(
        "position: absolute; left: 80px; top: 500px; width: 1040px; height: 1px; \
         background-color: rgba(238, 241, 255, 0.12)",
    ));
    let author = line(
        "Ada Lovelace",
        80,
        527.4,
        "font-size: 24px; font-weight: 600; color: #eef1ff",
    );
    // The glow is the SVG's objectBoundingBox radial gradient (r = 0.9): an ellipse of
    // 0.9 x 1200 by 0.9 x 630 px centred on the top right corner.
    Node::container([surface, pill, title, description, rule, author]).with_style(css(
        "position: relative; width: 1200px; height: 630px; font-family: Inter; \
         background-image: radial-gradient(1080px 567px at 100% 0%, \
         rgba(129, 140, 248, 0.35), rgba(129, 140, 248, 0)), \
         linear-gradient(to bottom right, #0b1020, #161d33)",
    ))
}

/// A line of text placed as the SVG places it: `top` is its baseline (the SVG's `y`) less the
/// ascent Inter's metrics (hhea 1984/2048 em, rounded as Blink rounds it) put above it.
fn line(text: &str, left: u32, top: f32, rest: &str) -> Node {
    Node::text(text).with_style(css(&format!(
        "position: absolute; left: {left}px; top: {top}px; white-space: pre; {rest}"
    )))
}

/// The reference card of `bench/reference_card.py`, with its coordinates.
fn reference_card(avatar: &[u8]) -> Node {
    // A CSS border lies inside the box (48-49 px) where the SVG stroke straddles the edge
    // (47.5-48.5 px); Blink-style painting snaps boxes to whole pixels, so this is the closest.
    let surface = Node::container([]).with_style(css(
        "position: absolute; left: 48px; top: 48px; width: 1104px; height: 534px; \
         box-sizing: border-box; border-radius: 32px; \
         background-color: rgba(255, 255, 255, 0.08); border: 1px solid rgba(255, 255, 255, 0.14)",
    ));
    // Centred in the pill as `text-anchor="middle"` centres it: CSS counts the spacing after
    // the last letter in the width and resvg does not, so 1.5 px of padding moves the centre
    // back by 0.75 px. Line-height 44 px puts the baseline at y = 121.
    let pill = Node::container([Node::text("ENGINEERING").with_style(css(
        "font-size: 20px; font-weight: 600; line-height: 44px; letter-spacing: 1.5px; \
         padding-left: 1.5px; color: #c7d2fe",
    ))])
    .with_style(css(
        "position: absolute; left: 88px; top: 92px; width: 176px; height: 44px; display: flex; \
         justify-content: center; border-radius: 22px; \
         background-color: rgba(129, 140, 248, 0.22)",
    ));
    // Baselines 232 and 308: 76 px apart.
    let title = line(
        "Rendering social cards in\nunder ten milliseconds",
        88,
        170.5,
        "font-size: 64px; font-weight: 700; line-height: 76px; color: #f5f7ff",
    );
    let description = line(
        "How a Rust rasteriser, a font cache and a fast PNG encoder fit together.",
        88,
        351.0,
        "font-size: 30px; font-weight: 400; color: #c9cee6",
    );
    let avatar = Node::image(avatar).with_style(css(
        "position: absolute; left: 88px; top: 480px; width: 80px; height: 80px; \
         border-radius: 40px; object-fit: cover",
    ));
    let name = line(
        "Ada Lovelace",
        192,
        487.0,
        "font-size: 26px; font-weight: 600; color: #f5f7ff",
    );
    let role = line(
        "Staff engineer · 6 min read",
        192,
        525.0,
        "font-size: 22px; font-weight: 400; color: #9aa3c7",
    );
    // `to bottom right` is the SVG's objectBoundingBox gradient (0,0)→(1,1): the midline runs
    // through the other two corners.
    Node::container([surface, pill, title, description, avatar, name, role]).with_style(css(
        "position: relative; width: 1200px; height: 630px; font-family: Inter; \
         background-image: linear-gradient(to bottom right, #0b1020, #3b1d6e)",
    ))
}

enum Card {
    /// Unique titles numbered from this.
    Blog(usize),
    /// The avatar's PNG bytes.
    Reference(Vec<u8>),
}

impl Card {
    fn node(&self, i: usize) -> Node {
        match self {
            Card::Blog(first) => blog_card(&format!(
                "Rendering social cards in under ten milliseconds, take {}",
                first + i
            )),
            Card::Reference(avatar) => reference_card(avatar),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage =
        "usage: ogmint-bench-takumi blog|reference FONT.ttf ROUNDS OUT.png FIRST|AVATAR.png";
    let [_, card, font, rounds, out, last] = args.as_slice() else {
        panic!("{usage}");
    };
    let card = match card.as_str() {
        "blog" => Card::Blog(last.parse().expect("first title number")),
        "reference" => Card::Reference(std::fs::read(last).expect("avatar PNG")),
        _ => panic!("{usage}"),
    };
    let rounds: usize = rounds.parse().expect("rounds");
    let mut fonts = Fonts::default();
    fonts
        .register(FontResource::new(std::fs::read(font).expect("font file")))
        .expect("font registers");
    let (mut total, mut raster) = (Vec::new(), Vec::new());
    let mut png = Vec::new();
    for i in 0..rounds + 10 {
        let t0 = Instant::now();
        let options = RenderOptions::builder()
            .viewport(Viewport::new((1200, 630)))
            .node(card.node(i))
            .fonts(&fonts)
            .build();
        let image = render(options).expect("render");
        let t1 = Instant::now();
        png.clear();
        write_image(&image, &mut png, OutputFormat::Png).expect("png");
        let t2 = Instant::now();
        if i >= 10 {
            total.push((t2 - t0).as_secs_f64() * 1000.0);
            raster.push((t1 - t0).as_secs_f64() * 1000.0);
        }
    }
    std::fs::write(out, &png).expect("write png");
    let list = |v: &[f64]| {
        v.iter()
            .map(|ms| format!("{ms:.4}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "{{\"total_ms\": [{}], \"raster_ms\": [{}], \"png_bytes\": {}}}",
        list(&total),
        list(&raster),
        png.len()
    );
}
