//! PNG encoding tuned for speed first, then size.
use crate::error::RenderError;
use resvg::tiny_skia::{Pixmap, PremultipliedColorU8};
use std::io::Write as _;

/// zlib level 1 without row filters: on rendered cards (smooth gradients, flat panels, text)
/// it was both the fastest option measured and within ~1.4x of resvg's default output size;
/// row filters break the long diagonal-gradient matches deflate finds between rows, and
/// `fdeflate`'s fast mode (only sensible with filters) came out slower and ~1.7x larger.
const COMPRESSION: png::DeflateCompression = png::DeflateCompression::Level(1);
const FILTER: png::Filter = png::Filter::NoFilter;
/// Bytes per IDAT chunk when streaming rows.
const STREAM_CHUNK: usize = 1 << 16;

/// Encodes a rendered pixmap as PNG.
///
/// Opaque images (every social card) drop the alpha channel, which saves ~20 % of the work.
/// Rows are converted and compressed one at a time, so no second full-size buffer is made.
pub fn encode_png(pixmap: &Pixmap) -> Result<Vec<u8>, RenderError> {
    match encode_rows(pixmap, png::ColorType::Rgb)? {
        Some(png) => Ok(png),
        None => encode_rows(pixmap, png::ColorType::Rgba)?
            .ok_or_else(|| RenderError::Encode("RGBA rows refused".into())),
    }
}

/// Streams the pixmap's rows as `color`; `None` if a row turns out not to be opaque while
/// writing RGB (the caller starts again as RGBA: such rows come early in translucent images).
fn encode_rows(pixmap: &Pixmap, color: png::ColorType) -> Result<Option<Vec<u8>>, RenderError> {
    let err = |e: &dyn std::fmt::Display| RenderError::Encode(e.to_string());
    let width = pixmap.width() as usize;
    let channels = if color == png::ColorType::Rgb { 3 } else { 4 };
    let mut out = Vec::with_capacity(pixmap.data().len() / 16);
    {
        let mut enc = png::Encoder::new(&mut out, pixmap.width(), pixmap.height());
        enc.set_color(color);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_deflate_compression(COMPRESSION);
        enc.set_filter(FILTER);
        let mut writer = enc.write_header().map_err(|e| err(&e))?;
        let mut stream = writer
            .stream_writer_with_size(STREAM_CHUNK)
            .map_err(|e| err(&e))?;
        let mut line = vec![0u8; width * channels];
        let rows = pixmap.data().chunks_exact(width * 4);
        for (bytes, pixels) in rows.zip(pixmap.pixels().chunks_exact(width)) {
            if channels == 4 {
                straight_rgba(pixels, &mut line);
            } else if !opaque_rgb(bytes, &mut line) {
                return Ok(None);
            }
            stream.write_all(&line).map_err(|e| err(&e))?;
        }
        stream.finish().map_err(|e| err(&e))?;
        writer.finish().map_err(|e| err(&e))?;
    }
    Ok(Some(out))
}

/// Writes the RGB of premultiplied RGBA `data` to `rgb`; false if a pixel is not fully opaque.
fn opaque_rgb(data: &[u8], rgb: &mut [u8]) -> bool {
    let mut alpha = 0xFFu8;
    // Fixed-size chunks and no early exit let the compiler vectorise copy and alpha fold.
    for (dst, src) in rgb.chunks_exact_mut(3).zip(data.chunks_exact(4)) {
        dst.copy_from_slice(&src[..3]);
        alpha &= src[3];
    }
    alpha == 0xFF
}

/// Writes straight (non-premultiplied) RGBA, as PNG wants it, to `rgba`.
fn straight_rgba(pixels: &[PremultipliedColorU8], rgba: &mut [u8]) {
    for (dst, p) in rgba.chunks_exact_mut(4).zip(pixels) {
        // Most pixels of a card are fully opaque or fully clear: skip the divisions for them.
        match p.alpha() {
            0 => dst.fill(0),
            255 => dst.copy_from_slice(&[p.red(), p.green(), p.blue(), 255]),
            _ => {
                let c = p.demultiply();
                dst.copy_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use resvg::tiny_skia::{Color, Paint, Rect, Transform};

    fn decode(png_bytes: &[u8]) -> (png::ColorType, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().expect("png header");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("png frame");
        buf.truncate(info.buffer_size());
        (info.color_type, buf)
    }

    #[test]
    fn opaque_image_round_trips_as_rgb() {
        let mut pixmap = Pixmap::new(7, 5).expect("pixmap");
        pixmap.fill(Color::from_rgba8(10, 200, 30, 255));
        let (color, data) = decode(&encode_png(&pixmap).expect("encode"));
        assert_eq!(color, png::ColorType::Rgb);
        assert_eq!(data, [10, 200, 30].repeat(35));
    }

    #[test]
    fn translucent_image_keeps_straight_alpha() {
        let mut pixmap = Pixmap::new(4, 2).expect("pixmap");
        let mut paint = Paint::default();
        paint.set_color_rgba8(200, 100, 50, 128);
        let rect = Rect::from_xywh(0.0, 0.0, 2.0, 2.0).expect("rect");
        pixmap.fill_rect(rect, &paint, Transform::identity(), None);
        let (color, data) = decode(&encode_png(&pixmap).expect("encode"));
        assert_eq!(color, png::ColorType::Rgba);
        let first = &data[..4];
        assert!(
            first[0].abs_diff(200) <= 2 && first[1].abs_diff(100) <= 2,
            "{first:?}"
        );
        assert_eq!(first[3], 128);
        assert_eq!(&data[8..12], &[0, 0, 0, 0]);
    }
}
