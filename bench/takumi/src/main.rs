//! Renders a card equivalent to ogmint's `blog` template (midnight palette: diagonal gradient,
//! accent glow, translucent rounded surface, tag pill, bold two-line title, description, rule,
//! author) with takumi, one thread, and prints JSON: the milliseconds of each render, whole
//! (layout + raster + PNG) and without the PNG encoding, and the PNG bytes.
//!
//! `ogmint-bench-takumi FONT.ttf ROUNDS [OUT.png] [FIRST]` — after 10 warm-ups, every render
//! gets its own title (numbered from FIRST), as in ogmint's benchmark, so no cache serves a
//! repeat. Run by `bench/takumi_compare.py`.
use std::time::Instant;
use takumi::prelude::*;
use takumi::{render, write_image};

fn css(s: &str) -> Style {
    s.parse().expect("valid inline CSS")
}

fn card(title: &str) -> Node {
    let pill = Node::container([Node::text("ENGINEERING")
        .with_style(css("font-size: 18px; font-weight: 600; color: #818cf8"))])
    .with_style(css(
        "display: flex; align-self: flex-start; align-items: center; height: 40px; \
         padding: 0 18px; border-radius: 20px; background-color: rgba(129, 140, 248, 0.18)",
    ));
    let title = Node::text(title).with_style(css(
        "margin-top: 62px; font-size: 64px; font-weight: 700; line-height: 1.12; color: #eef1ff",
    ));
    let description = Node::text("How a Rust rasteriser, a font cache and a fast PNG encoder fit.")
        .with_style(css(
            "margin-top: 14px; font-size: 30px; line-height: 1.35; color: rgba(238, 241, 255, 0.72)",
        ));
    let rule = Node::container([]).with_style(css(
        "margin-top: auto; height: 1px; background-color: rgba(238, 241, 255, 0.12)",
    ));
    let author = Node::text("Ada Lovelace").with_style(css(
        "margin-top: 28px; margin-bottom: 8px; font-size: 24px; font-weight: 600; color: #eef1ff",
    ));
    let surface = Node::container([pill, title, description, rule, author]).with_style(css(
        "display: flex; flex-direction: column; width: 100%; height: 100%; padding: 36px 40px; \
         border-radius: 32px; background-color: rgba(22, 29, 51, 0.55); \
         border: 1px solid rgba(238, 241, 255, 0.08)",
    ));
    Node::container([surface]).with_style(css(
        "display: flex; width: 1200px; height: 630px; padding: 40px; font-family: Inter; \
         background-image: radial-gradient(circle at 100% 0%, rgba(129, 140, 248, 0.35), \
         rgba(129, 140, 248, 0) 90%), linear-gradient(135deg, #0b1020, #161d33)",
    ))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let font = std::fs::read(&args[1]).expect("font file");
    let rounds: usize = args[2].parse().expect("rounds");
    let mut fonts = Fonts::default();
    fonts
        .register(FontResource::new(font))
        .expect("font registers");
    let (mut total, mut raster) = (Vec::new(), Vec::new());
    let mut png = Vec::new();
    let first: usize = args
        .get(4)
        .map_or(0, |n| n.parse().expect("first title number"));
    for i in 0..rounds + 10 {
        let n = first + i;
        let title = format!("Rendering social cards in under ten milliseconds, take {n}");
        let t0 = Instant::now();
        let options = RenderOptions::builder()
            .viewport(Viewport::new((1200, 630)))
            .node(card(&title))
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
    if let Some(out) = args.get(3) {
        std::fs::write(out, &png).expect("write png");
    }
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
