//! Times the stages of one render:
//! `cargo run --release --example profile -- FILE.svg FONTDIR:... [ITERATIONS] [BACKGROUND.svg]`
//! Prints the median of each stage over ITERATIONS (default 50) warm renders. With a
//! BACKGROUND, FILE is drawn over it by `render_layers_png` (background cached after the first),
//! timed as a whole ("total").
use _native::{
    deadline::Deadline,
    encode::encode_png,
    engine::Engine,
    render::{parse_document, rasterise, Limits},
};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let svg = std::fs::read_to_string(&args[1]).expect("svg file");
    let dirs: Vec<&str> = args[2].split(':').collect();
    let iterations: usize = args.get(3).map_or(50, |n| n.parse().expect("iterations"));
    let background = args
        .get(4)
        .map(|p| std::fs::read_to_string(p).expect("background"));
    let engine = Engine::new(&dirs, Limits::default());
    let cx = engine.context();
    let (mut p, mut r, mut e, mut t) = (vec![], vec![], vec![], vec![]);
    let mut bytes = 0;
    for _ in 0..iterations {
        let t0 = Instant::now();
        if let Some(bg) = &background {
            bytes = engine
                .render_layers_png(bg, &svg, "bg", Deadline::NONE)
                .expect("layers")
                .len();
            t.push(t0.elapsed());
            continue;
        }
        let doc = parse_document(&svg, cx.limits, cx.fonts, cx.glyphs).expect("parse");
        let t1 = Instant::now();
        let pixmap = rasterise(&doc, cx.limits, cx.glyphs).expect("raster");
        let t2 = Instant::now();
        bytes = encode_png(&pixmap).expect("encode").len();
        let t3 = Instant::now();
        p.push(t1 - t0);
        r.push(t2 - t1);
        e.push(t3 - t2);
        t.push(t3 - t0);
    }
    if background.is_some() {
        println!(
            "median of {iterations}: total {:?} bytes {bytes}",
            median(t)
        );
        return;
    }
    println!(
        "median of {iterations}: parse {:?} raster {:?} encode {:?} total {:?} bytes {bytes}",
        median(p),
        median(r),
        median(e),
        median(t)
    );
}
