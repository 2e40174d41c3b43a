//! Times the stages of a full redraw (a background not cached yet) of a layered card:
//! `redraw BG.svg FG.svg FONTDIRS [ITERATIONS]`: background parse+raster, its band encoding,
//! the whole `render_layers_png` with a new key each time (the full redraw), then again with
//! that key (its first reuse, which encodes the background's bands).
use _native::{
    deadline::Deadline,
    encode::encode_bands,
    engine::Engine,
    render::{parse_document, rasterise, Limits},
};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort_unstable();
    v[v.len() / 2].as_secs_f64() * 1e3
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bg = std::fs::read_to_string(&args[1]).expect("bg");
    let fg = std::fs::read_to_string(&args[2]).expect("fg");
    let dirs: Vec<&str> = args[3].split(':').collect();
    let n: usize = args.get(4).map_or(30, |s| s.parse().expect("n"));
    let engine = Engine::new(&dirs, Limits::default());
    let cx = engine.context();
    let (mut parse, mut raster, mut bands, mut total, mut hit) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut bytes = 0;
    for i in 0..n {
        let t0 = Instant::now();
        let doc = parse_document(&bg, cx.limits, cx.fonts, cx.glyphs).expect("parse");
        let t1 = Instant::now();
        let pixmap = rasterise(&doc, cx.limits, cx.glyphs).expect("raster");
        let t2 = Instant::now();
        let _ = encode_bands(&pixmap).expect("bands");
        let t3 = Instant::now();
        parse.push(t1 - t0);
        raster.push(t2 - t1);
        bands.push(t3 - t2);
        let t4 = Instant::now();
        bytes = engine
            .render_layers_png(&bg, &fg, &format!("k{i}"), Deadline::NONE)
            .expect("layers")
            .len();
        total.push(t4.elapsed());
        let t5 = Instant::now();
        let _ = engine
            .render_layers_png(&bg, &fg, &format!("k{i}"), Deadline::NONE)
            .expect("layers");
        hit.push(t5.elapsed());
    }
    println!(
        "bg parse {:.2} raster {:.2} encode_bands {:.2} | full redraw {:.2} ms ({bytes} B) | first reuse {:.2}",
        median(parse),
        median(raster),
        median(bands),
        median(total),
        median(hit)
    );
}
