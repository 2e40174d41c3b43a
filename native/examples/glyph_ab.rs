//! Same-run A/B of text drawing for `bench/glyph_bench.py`: the `blog` card's foreground drawn
//! over its cached background with resvg filling the glyphs (`resvg`, what `draw` did before
//! the glyph cache) and with the glyph cache (`cached`, plain texts laid out without usvg by
//! `parse_document`), as `render_layers_png` does it
//! (parse, copy of the background, draw, PNG over the background's bands).
//!
//! `glyph_ab FONTDIRS DIR ROUNDS MODE` with `DIR` holding `bg.svg` and `fg*.svg` (one unique
//! title each, used in turn). `MODE` `ab` interleaves both and prints JSON medians (µs);
//! `resvg` or `cached` runs one (for instruction counts under callgrind).
use _native::{
    draw::draw,
    encode::{encode_bands, encode_png_over},
    engine::Engine,
    render::{parse, parse_document, rasterise, Document, Limits},
};
use resvg::tiny_skia::{Pixmap, Transform};
use std::time::{Duration, Instant};

/// A foreground as each mode parses it.
enum Parsed {
    Usvg(resvg::usvg::Tree),
    Ours(Document),
}

struct Stages([Vec<Duration>; 4]);

fn median_us(v: &mut [Duration]) -> f64 {
    v.sort_unstable();
    v[v.len() / 2].as_secs_f64() * 1e6
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dirs: Vec<&str> = args[1].split(':').collect();
    let dir = std::path::Path::new(&args[2]);
    let rounds: usize = args[3].parse().expect("rounds");
    let mode = args[4].as_str();
    let engine = Engine::new(&dirs, Limits::default());
    let (fonts, glyphs, limits) = (engine.fonts(), engine.glyphs(), engine.limits());
    let options = fonts.options();
    let bg = std::fs::read_to_string(dir.join("bg.svg")).expect("bg.svg");
    let mut fgs: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("fg"))
        })
        .collect();
    fgs.sort();
    let fgs: Vec<String> = fgs
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("fg"))
        .collect();
    let base = rasterise(
        &parse_document(&bg, limits, fonts, glyphs).expect("bg"),
        limits,
        glyphs,
    )
    .expect("raster");
    let bands = encode_bands(&base).expect("bands");
    let modes: Vec<&str> = if mode == "ab" {
        vec!["resvg", "cached"]
    } else {
        vec![mode]
    };
    let mut stats: Vec<Stages> = modes.iter().map(|_| Stages(Default::default())).collect();
    let mut bytes = vec![0usize; modes.len()];
    for round in 0..rounds {
        let fg = &fgs[round % fgs.len()];
        for (m, name) in modes.iter().enumerate() {
            let t0 = Instant::now();
            let parsed = if *name == "resvg" {
                Parsed::Usvg(parse(fg, limits, &options).expect("fg"))
            } else {
                Parsed::Ours(parse_document(fg, limits, fonts, glyphs).expect("fg"))
            };
            let t1 = Instant::now();
            let mut pixmap = Pixmap::clone(&base);
            let t2 = Instant::now();
            match &parsed {
                Parsed::Usvg(tree) => {
                    resvg::render(tree, Transform::identity(), &mut pixmap.as_mut())
                }
                Parsed::Ours(doc) => draw(&doc.tree, &doc.texts, &mut pixmap.as_mut(), glyphs),
            }
            let t3 = Instant::now();
            bytes[m] = encode_png_over(
                &pixmap,
                &base,
                &bands,
                &vec![true; (base.height() as usize).div_ceil(bands.band_rows())],
            )
            .expect("png")
            .len();
            let t4 = Instant::now();
            for (s, d) in stats[m]
                .0
                .iter_mut()
                .zip([t1 - t0, t2 - t1, t3 - t2, t4 - t3])
            {
                s.push(d);
            }
        }
    }
    let report: Vec<String> = modes
        .iter()
        .zip(&mut stats)
        .zip(&bytes)
        .map(|((name, s), b)| {
            let totals: Vec<Duration> =
                (0..rounds).map(|i| s.0.iter().map(|v| v[i]).sum()).collect();
            let [p, c, d, e] = &mut s.0;
            format!(
                r#""{name}": {{"parse_us": {:.1}, "copy_us": {:.1}, "draw_us": {:.1}, "encode_us": {:.1}, "total_us": {:.1}, "png_bytes": {b}}}"#,
                median_us(p),
                median_us(c),
                median_us(d),
                median_us(e),
                median_us(&mut totals.clone()),
            )
        })
        .collect();
    println!(
        r#"{{"rounds": {rounds}, "titles": {}, "glyph_masks": {}, "glyph_bytes": {}, {}}}"#,
        fgs.len(),
        glyphs.len(),
        glyphs.bytes(),
        report.join(", ")
    );
}
