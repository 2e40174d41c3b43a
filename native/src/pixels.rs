//! Pixels for the lossy output formats (SPEC §1.1). WebP and JPEG are encoded by well-kept
//! libraries on the Python side (libwebp and libjpeg-turbo, through Pillow, which release the
//! GIL): measured on the `blog` card they encode 1.6x (WebP) and 6.7x (JPEG) faster than the
//! pure-Rust / source-built encoders tried here (`webp` 0.3 over libwebp-sys, `jpeg-encoder` 0.6:
//! commit 109cee5). PNG stays ours ([`crate::encode`]).
//!
//! The pixels are handed over in the layout Pillow keeps in memory (4 bytes a pixel: `RGBX` or
//! `RGBA`), so Pillow maps the buffer instead of unpacking it, and an opaque image (every social
//! card) is a plain copy of its rows: premultiplied and straight colour are the same at full
//! alpha. They are written once, straight into the caller's buffer ([`Pixels::write`]).
use resvg::tiny_skia::Pixmap;

/// Premultiplied RGBA rows of a rendered image, as consecutive parts (a layered render takes
/// untouched bands straight from the cached background).
pub trait Rows: Send + Sync {
    fn parts(&self) -> Vec<&[u8]>;
}

impl Rows for Pixmap {
    fn parts(&self) -> Vec<&[u8]> {
        vec![self.data()]
    }
}

/// How [`Pixels::write`] lays out each pixel (Pillow's mode names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Opaque (or flattened on a matte): RGB and a fourth byte of 255.
    Rgbx,
    /// Straight (un-premultiplied) RGBA.
    Rgba,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Self::Rgbx => "RGBX",
            Self::Rgba => "RGBA",
        }
    }
}

/// A rendered image to be written out as straight pixels: flattened on `matte` when one is
/// given (JPEG has no alpha), `RGBX` when every pixel is opaque, `RGBA` otherwise.
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    pub mode: Mode,
    /// Every pixel has full alpha: the rows are copied as they are.
    opaque: bool,
    matte: Option<[u8; 3]>,
    rows: Box<dyn Rows>,
}

impl Pixels {
    /// `rows` (`width` × `height`, premultiplied) to be written as straight pixels.
    pub fn new(rows: Box<dyn Rows>, width: u32, height: u32, matte: Option<[u8; 3]>) -> Self {
        let opaque = rows.parts().iter().all(|part| opaque(part));
        let mode = if opaque || matte.is_some() {
            Mode::Rgbx
        } else {
            Mode::Rgba
        };
        Self {
            width,
            height,
            mode,
            opaque,
            matte,
            rows,
        }
    }

    /// The pixmap's pixels, as [`Pixels::new`].
    pub fn of(pixmap: Pixmap, matte: Option<[u8; 3]>) -> Self {
        let (width, height) = (pixmap.width(), pixmap.height());
        Self::new(Box::new(pixmap), width, height, matte)
    }

    /// Bytes [`Pixels::write`] writes: 4 a pixel.
    pub fn len(&self) -> usize {
        self.width as usize * self.height as usize * 4
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the pixels into `out`, [`Pixels::len`] bytes.
    pub fn write(&self, out: &mut [u8]) {
        let mut at = 0;
        for part in self.rows.parts() {
            let dst = &mut out[at..at + part.len()];
            at += part.len();
            match (self.opaque, self.matte) {
                (true, _) => dst.copy_from_slice(part),
                (false, Some(matte)) => flatten(part, matte, dst),
                (false, None) => straight(part, dst),
            }
        }
    }

    /// The pixels in a new buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = vec![0; self.len()];
        self.write(&mut out);
        out
    }
}

/// Whether every pixel of `data` has full alpha (a branch-free fold the compiler vectorises,
/// stopping between chunks).
fn opaque(data: &[u8]) -> bool {
    data.chunks(16 * 1024)
        .all(|chunk| chunk.chunks_exact(4).fold(255, |all, p| all & p[3]) == 255)
}

/// Premultiplied pixels composited over `matte`, as RGBX.
fn flatten(data: &[u8], matte: [u8; 3], out: &mut [u8]) {
    for (p, o) in data.chunks_exact(4).zip(out.chunks_exact_mut(4)) {
        let a = p[3];
        let keep = 255 - u16::from(a);
        for ((c, m), o) in p[..3].iter().zip(matte).zip(o.iter_mut()) {
            // Premultiplied: colour + matte × (1 − alpha), rounded; colour clamped to alpha.
            let c = u16::from((*c).min(a));
            *o = (c + (u16::from(m) * keep + 127) / 255).min(255) as u8;
        }
        o[3] = 255;
    }
}

/// Straight (un-premultiplied) RGBA, colour clamped to alpha first as resvg does.
fn straight(data: &[u8], out: &mut [u8]) {
    for (p, o) in data.chunks_exact(4).zip(out.chunks_exact_mut(4)) {
        let a = p[3];
        match a {
            0 => o.fill(0),
            255 => o.copy_from_slice(p),
            _ => {
                for (c, o) in p[..3].iter().zip(o.iter_mut()) {
                    let c = u16::from((*c).min(a));
                    *o = ((c * 255 + u16::from(a) / 2) / u16::from(a)) as u8;
                }
                o[3] = a;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use resvg::tiny_skia::{Color, Paint, Rect, Transform};

    fn card(opaque: bool) -> Pixmap {
        let mut pixmap = Pixmap::new(24, 12).unwrap();
        if opaque {
            pixmap.fill(Color::from_rgba8(20, 30, 200, 255));
        }
        let mut paint = Paint::default();
        paint.set_color_rgba8(250, 120, 10, 200);
        let rect = Rect::from_xywh(4.0, 2.0, 10.0, 6.0).unwrap();
        pixmap.fill_rect(rect, &paint, Transform::identity(), None);
        pixmap
    }

    #[test]
    fn opaque_images_export_as_their_rows() {
        let image = card(true);
        let rows = image.data().to_vec();
        let pixels = Pixels::of(image, None);
        assert_eq!(
            (pixels.width, pixels.height, pixels.mode),
            (24, 12, Mode::Rgbx)
        );
        assert_eq!(pixels.to_vec(), rows);
        assert_eq!(&pixels.to_vec()[..4], &[20, 30, 200, 255]);
    }

    #[test]
    fn transparent_images_keep_alpha_unless_flattened() {
        let pixels = Pixels::of(card(false), None);
        assert_eq!(pixels.mode, Mode::Rgba);
        assert_eq!(&pixels.to_vec()[..4], &[0, 0, 0, 0]);
        let flat = Pixels::of(card(false), Some([255, 255, 255]));
        assert_eq!(flat.mode, Mode::Rgbx);
        assert_eq!(
            &flat.to_vec()[..4],
            &[255, 255, 255, 255],
            "transparent corner takes the matte"
        );
    }

    struct Split(Pixmap, usize);

    impl Rows for Split {
        fn parts(&self) -> Vec<&[u8]> {
            let (top, bottom) = self.0.data().split_at(self.1);
            vec![top, bottom]
        }
    }

    #[test]
    fn parts_export_as_one_image() {
        for opaque in [true, false] {
            let whole = Pixels::of(card(opaque), None);
            let split = Pixels::new(Box::new(Split(card(opaque), 24 * 5 * 4)), 24, 12, None);
            assert_eq!((split.mode, split.to_vec()), (whole.mode, whole.to_vec()));
        }
    }

    #[test]
    fn straight_clamps_colour_to_alpha() {
        let mut out = [0; 4];
        straight(&[200, 10, 0, 100], &mut out);
        assert_eq!(out, [255, 26, 0, 100]);
    }
}
