//! Pixels for the lossy output formats (SPEC §1.1). WebP and JPEG are encoded by well-kept
//! libraries on the Python side (libwebp and libjpeg-turbo, through Pillow, which release the
//! GIL): measured on the `blog` card they encode 1.6x (WebP) and 6.7x (JPEG) faster than the
//! pure-Rust / source-built encoders tried here (bench/RESULTS.md). The renderer hands them
//! straight (un-premultiplied) pixels; PNG stays ours ([`crate::encode`]).
use resvg::tiny_skia::Pixmap;

/// Straight-alpha pixels of a rendered image: RGB when opaque (or flattened), else RGBA.
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    /// 3 (RGB) or 4 (RGBA).
    pub channels: u8,
    pub data: Vec<u8>,
}

/// The pixmap as straight pixels: flattened on `matte` when one is given (JPEG has no alpha),
/// RGB when every pixel is opaque (smaller and faster to encode), RGBA otherwise.
pub fn export(pixmap: &Pixmap, matte: Option<[u8; 3]>) -> Pixels {
    export_parts(&[pixmap.data()], pixmap.width(), pixmap.height(), matte)
}

/// [`export`] of an image given as consecutive parts of its premultiplied RGBA rows (a
/// layered render takes untouched bands straight from the cached background).
pub fn export_parts(parts: &[&[u8]], width: u32, height: u32, matte: Option<[u8; 3]>) -> Pixels {
    let pixels = |channels, data| Pixels {
        width,
        height,
        channels,
        data,
    };
    let len = width as usize * height as usize;
    if let Some(matte) = matte {
        let mut rgb = Vec::with_capacity(len * 3);
        parts.iter().for_each(|part| flatten(part, matte, &mut rgb));
        return pixels(3, rgb);
    }
    let mut rgb = Vec::with_capacity(len * 3);
    if parts.iter().all(|part| opaque_rgb(part, &mut rgb)) {
        return pixels(3, rgb);
    }
    let mut rgba = Vec::with_capacity(len * 4);
    parts.iter().for_each(|part| straight(part, &mut rgba));
    pixels(4, rgba)
}

/// Appends the RGB of opaque pixels; false (stopping early) at the first that is not.
fn opaque_rgb(data: &[u8], rgb: &mut Vec<u8>) -> bool {
    for p in data.chunks_exact(4) {
        if p[3] != 255 {
            return false;
        }
        rgb.extend_from_slice(&p[..3]);
    }
    true
}

/// Appends the RGB of premultiplied pixels composited over `matte`.
fn flatten(data: &[u8], matte: [u8; 3], rgb: &mut Vec<u8>) {
    for p in data.chunks_exact(4) {
        let a = p[3];
        if a == 255 {
            rgb.extend_from_slice(&p[..3]);
            continue;
        }
        let keep = 255 - u16::from(a);
        for (c, m) in p[..3].iter().zip(matte) {
            // Premultiplied: colour + matte × (1 − alpha), rounded; colour clamped to alpha.
            let c = u16::from((*c).min(a));
            rgb.push((c + (u16::from(m) * keep + 127) / 255).min(255) as u8);
        }
    }
}

/// Appends straight (un-premultiplied) RGBA, colour clamped to alpha first as resvg does.
fn straight(data: &[u8], rgba: &mut Vec<u8>) {
    for p in data.chunks_exact(4) {
        let a = p[3];
        match a {
            0 => rgba.extend_from_slice(&[0, 0, 0, 0]),
            255 => rgba.extend_from_slice(p),
            _ => {
                for c in &p[..3] {
                    let c = u16::from((*c).min(a));
                    rgba.push(((c * 255 + u16::from(a) / 2) / u16::from(a)) as u8);
                }
                rgba.push(a);
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
    fn opaque_images_export_as_rgb() {
        let pixels = export(&card(true), None);
        assert_eq!((pixels.width, pixels.height, pixels.channels), (24, 12, 3));
        assert_eq!(pixels.data.len(), 24 * 12 * 3);
        assert_eq!(&pixels.data[..3], &[20, 30, 200]);
    }

    #[test]
    fn transparent_images_keep_alpha_unless_flattened() {
        let pixels = export(&card(false), None);
        assert_eq!(pixels.channels, 4);
        assert_eq!(&pixels.data[..4], &[0, 0, 0, 0]);
        let flat = export(&card(false), Some([255, 255, 255]));
        assert_eq!(flat.channels, 3);
        assert_eq!(
            &flat.data[..3],
            &[255, 255, 255],
            "transparent corner takes the matte"
        );
    }

    #[test]
    fn parts_export_as_one_image() {
        let image = card(true);
        let (top, bottom) = image.data().split_at(24 * 5 * 4);
        let whole = export(&image, None);
        let split = export_parts(&[top, bottom], 24, 12, None);
        assert_eq!((split.channels, split.data), (whole.channels, whole.data));
    }

    #[test]
    fn straight_clamps_colour_to_alpha() {
        let mut pixmap = Pixmap::new(1, 1).unwrap();
        pixmap.data_mut().copy_from_slice(&[200, 10, 0, 100]);
        let mut out = Vec::new();
        straight(pixmap.data(), &mut out);
        assert_eq!(out, vec![255, 26, 0, 100]);
    }
}
