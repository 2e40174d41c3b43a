use _native::{
    fonts::FontLibrary,
    render::{parse, rasterise, Limits},
};
use std::time::Instant;

fn enc(rgb: &[u8], w: u32, h: u32, c: png::DeflateCompression, f: png::Filter) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = png::Encoder::new(&mut out, w, h);
    e.set_color(png::ColorType::Rgb);
    e.set_depth(png::BitDepth::Eight);
    e.set_deflate_compression(c);
    e.set_filter(f);
    let mut wr = e.write_header().unwrap();
    wr.write_image_data(rgb).unwrap();
    wr.finish().unwrap();
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let svg = std::fs::read_to_string(&args[1]).unwrap();
    let dirs: Vec<&str> = args[2].split(':').collect();
    let fonts = FontLibrary::load(&dirs);
    let tree = parse(&svg, &Limits::default(), &fonts.options()).unwrap();
    let pm = rasterise(&tree, &Limits::default()).unwrap();
    let t = Instant::now();
    let mut rgb = Vec::new();
    for _ in 0..20 {
        rgb = Vec::with_capacity(pm.data().len() / 4 * 3);
        for p in pm.data().chunks_exact(4) {
            rgb.extend_from_slice(&p[..3]);
        }
    }
    println!("rgb conv {:?}", t.elapsed() / 20);
    let t = Instant::now();
    for _ in 0..20 {
        std::hint::black_box(pm.data().chunks_exact(4).all(|p| p[3] == 255));
    }
    println!("opaque check {:?}", t.elapsed() / 20);
    use png::DeflateCompression as D;
    use png::Filter as F;
    for (cn, c) in [
        ("fdeflate", D::FdeflateUltraFast),
        ("lvl1", D::Level(1)),
        ("lvl2", D::Level(2)),
        ("lvl3", D::Level(3)),
        ("lvl6", D::Level(6)),
    ] {
        for (fname, f) in [
            ("none", F::NoFilter),
            ("sub", F::Sub),
            ("up", F::Up),
            ("avg", F::Avg),
            ("paeth", F::Paeth),
            ("adaptive", F::Adaptive),
            ("minent", F::MinEntropy),
        ] {
            let mut v = vec![];
            let mut n = 0;
            for _ in 0..7 {
                let t = Instant::now();
                n = enc(&rgb, pm.width(), pm.height(), c, f).len();
                v.push(t.elapsed());
            }
            v.sort();
            println!("{cn:9} {fname:9} {:>8.2?} {n}", v[3]);
        }
    }
}
