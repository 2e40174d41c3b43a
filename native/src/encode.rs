//! PNG encoding: fast for what changes per render, thorough for what is cached.
//!
//! Image data is deflated in bands of rows, each band independent of the others (a full flush
//! resets the compressor between them). A template's static background is encoded once this
//! way and cached; a render over it re-encodes only the bands whose pixels changed and copies
//! the others' compressed bytes. Text covers well under half of a card's rows.
//!
//! Cached bands are encoded once per background, so each gets the row filters that make it
//! smallest (tried per band: smooth gradients differ in which predictor suits them) and the
//! highest compression level. Bands a render redraws are written unfiltered by
//! [`crate::deflate`], which reuses the matches found once in the background's own unfiltered
//! bytes. Documents drawn in one pass (`render_svg`) are compressed whole, unfiltered, by
//! [`deflate::ImageDeflate`], which searches where image bytes repeat (the row above and the
//! pixels beside it: diagonal gradients) before a short hash chain.
use crate::deflate::{self, BitWriter, Token};
use crate::error::RenderError;
use flate2::{Compress, Compression, FlushCompress};
use resvg::tiny_skia::{Pixmap, PremultipliedColorU8};
use std::sync::OnceLock;

/// Rows of a document drawn in one pass per Huffman block: codes fit to each part of the image
/// (on the reference card 16 rows are 1 % larger, 64 rows the same as 32). Row filters are not
/// used: on rendered cards every filter, chosen per image or per row (png's MinSum), made
/// zlib's output 20-50 % larger, as they break the long matches between rows of a gradient.
const IMAGE_BLOCK_ROWS: usize = 32;
/// Rows converted and fed to the compressor at a time.
const CHUNK_ROWS: usize = 8;
/// zlib level for cached bands, compressed once per background.
const THOROUGH_LEVEL: u32 = 9;
/// zlib level at which the candidate filterings of a cached band are compared; the smallest
/// is then compressed at [`THOROUGH_LEVEL`]. On the `blog` card, comparing at level 2 came
/// within 0.5 % of comparing at level 9 (and level 4 no closer), for a fraction of the time.
const TRIAL_LEVEL: u32 = 2;
/// The zlib stream header for deflate with a 32 KiB window (the level bits are informative).
const ZLIB_HEADER: [u8; 2] = [0x78, 0x01];
/// A final, empty, fixed-Huffman deflate block: ends a stream of flushed bands.
const FINAL_BLOCK: [u8; 2] = [0x03, 0x00];
/// Redrawn bands Huffman-coded together in one block: fewer block headers, codes still fit
/// to the content (on the `blog` card 75.9 KB with one band per block, 75.4 KB with four).
const BANDS_PER_BLOCK: usize = 4;
/// Rows per band for cached backgrounds: small enough that text lines leave whole bands
/// untouched, large enough that restarting the compressor costs little size.
pub const BAND_ROWS: usize = 16;

/// PNG's row filter types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Filter {
    None = 0,
    Sub = 1,
    Up = 2,
    Paeth = 4,
}

/// The filterings tried for a cached band: (first row, other rows). The first row of a band
/// never refers to the row above it, which belongs to the previous band and may be redrawn
/// by a render that reuses this one.
const CANDIDATES: [(Filter, Filter); 4] = [
    (Filter::None, Filter::None),
    (Filter::Sub, Filter::Sub),
    (Filter::Sub, Filter::Up),
    (Filter::Sub, Filter::Paeth),
];

/// How hard to work on the bands being compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effort {
    /// A whole document drawn in one pass: [`deflate::ImageDeflate`].
    Fast,
    /// The bands a render changed over a cached background: [`crate::deflate`].
    Over,
    /// A background's bands, cached: filters tried per band, [`THOROUGH_LEVEL`].
    Thorough,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Color {
    Rgb,
    Rgba,
}

impl Color {
    fn channels(self) -> usize {
        match self {
            Self::Rgb => 3,
            Self::Rgba => 4,
        }
    }

    fn png_type(self) -> u8 {
        match self {
            Self::Rgb => 2,
            Self::Rgba => 6,
        }
    }
}

/// One band's compressed rows and the Adler-32 of its uncompressed (filtered) bytes.
#[derive(Debug, Clone)]
struct Band {
    deflated: Vec<u8>,
    adler: u32,
    raw_len: usize,
}

/// An image's compressed PNG data, in independently reusable bands.
#[derive(Debug, Clone)]
pub struct Encoded {
    width: u32,
    height: u32,
    color: Color,
    band_rows: usize,
    bands: Vec<Band>,
    /// For a cached background: each band's unfiltered rows parsed into LZ77 tokens, made the
    /// first time a render redraws that band.
    parses: Vec<OnceLock<Vec<Token>>>,
}

/// Encodes a rendered pixmap as PNG.
///
/// Opaque images (every social card) drop the alpha channel, which saves ~20 % of the work.
pub fn encode_png(pixmap: &Pixmap) -> Result<Vec<u8>, RenderError> {
    Ok(encode(pixmap, pixmap.height() as usize, Effort::Fast)?.to_png())
}

/// Encodes `pixmap` in bands of [`BAND_ROWS`], thoroughly, to be reused by [`encode_png_over`].
pub fn encode_bands(pixmap: &Pixmap) -> Result<Encoded, RenderError> {
    encode(pixmap, BAND_ROWS, Effort::Thorough)
}

/// Encodes `pixmap`, which was drawn over `base` (encoded as `encoded`) in the bands marked in
/// `touched` only: the other bands are taken to be the base's, whatever `pixmap` holds there
/// (the caller need not have copied them), and touched bands whose pixels equal the base's
/// are copied from `encoded` too instead of compressed again.
pub fn encode_png_over(
    pixmap: &Pixmap,
    base: &Pixmap,
    encoded: &Encoded,
    touched: &[bool],
) -> Result<Vec<u8>, RenderError> {
    let same_canvas = (pixmap.width(), pixmap.height()) == (base.width(), base.height())
        && (encoded.width, encoded.height) == (base.width(), base.height());
    if !same_canvas {
        return Err(RenderError::Encode(
            "drawn over a canvas of another size".into(),
        ));
    }
    let over = Over {
        base,
        encoded,
        touched,
    };
    let first = encoded.color;
    if let Some(png) = deflate_bands(pixmap, first, encoded.band_rows, Some(over), Effort::Over)? {
        return Ok(png.to_png());
    }
    // Translucent pixels drawn over an opaque base (a blend mode that clears): encode the whole
    // image as RGBA, untouched bands filled in from the base first.
    let mut whole = pixmap.clone();
    let band_bytes = encoded.band_rows * base.width() as usize * 4;
    for (index, (dst, src)) in whole
        .data_mut()
        .chunks_mut(band_bytes)
        .zip(base.data().chunks(band_bytes))
        .enumerate()
    {
        if !touched.get(index).copied().unwrap_or(true) {
            dst.copy_from_slice(src);
        }
    }
    encode_png(&whole)
}

/// What a render was drawn over: the base's pixels and encoding, and which bands it drew in.
#[derive(Clone, Copy)]
struct Over<'a> {
    base: &'a Pixmap,
    encoded: &'a Encoded,
    touched: &'a [bool],
}

fn encode(pixmap: &Pixmap, band_rows: usize, effort: Effort) -> Result<Encoded, RenderError> {
    if let Some(encoded) = deflate_bands(pixmap, Color::Rgb, band_rows, None, effort)? {
        return Ok(encoded);
    }
    // Translucent pixels where RGB was hoped for: start again as RGBA. Such pixels come early
    // in translucent images.
    deflate_bands(pixmap, Color::Rgba, band_rows, None, effort)?
        .ok_or_else(|| RenderError::Encode("RGBA rows refused".into()))
}

/// Deflates the pixmap's rows as `color`, band by band; `None` if a pixel turns out not to be
/// opaque while writing RGB.
fn deflate_bands(
    pixmap: &Pixmap,
    color: Color,
    band_rows: usize,
    reuse: Option<Over<'_>>,
    effort: Effort,
) -> Result<Option<Encoded>, RenderError> {
    let width = pixmap.width() as usize;
    let band_bytes = band_rows.max(1) * width * 4;
    let mut compressor = (effort == Effort::Thorough)
        .then(|| Compress::new(Compression::new(THOROUGH_LEVEL), false));
    let mut bands = Vec::new();
    // Consecutive bands changed over the base, compressed together once the run ends.
    let mut run = 0..0;
    // The text matcher of every run, sized for a block and its history row.
    let line = 1 + width * color.channels();
    let mut recent = deflate::Recent::new(match reuse {
        Some(_) => line * (1 + BANDS_PER_BLOCK * band_rows.max(1)),
        None => 0,
    });
    for (index, pixels) in pixmap.data().chunks(band_bytes).enumerate() {
        if let Some(Over {
            base,
            encoded,
            touched,
        }) = reuse
        {
            let start = index * band_bytes;
            let unchanged = !touched.get(index).copied().unwrap_or(true)
                || base.data().get(start..start + pixels.len()) == Some(pixels);
            match encoded.bands.get(index).filter(|_| unchanged) {
                Some(band) => {
                    if !run.is_empty() {
                        let Some(redrawn) =
                            redrawn_run(pixmap, base, encoded, run, color, &mut recent)?
                        else {
                            return Ok(None);
                        };
                        bands.push(redrawn);
                    }
                    bands.push(band.clone());
                    run = index + 1..index + 1;
                }
                None => run.end = index + 1,
            }
            continue;
        }
        let band = match compressor.as_mut() {
            Some(compressor) => thorough_band(compressor, pixels, width, color)?,
            // Bands drawn over a base are handled above: this is the whole image, one pass.
            None => image_band(pixels, width, color),
        };
        let Some(band) = band else {
            return Ok(None);
        };
        bands.push(band);
    }
    if let Some(Over { base, encoded, .. }) = reuse.filter(|_| !run.is_empty()) {
        let Some(redrawn) = redrawn_run(pixmap, base, encoded, run, color, &mut recent)? else {
            return Ok(None);
        };
        bands.push(redrawn);
    }
    let parses = match effort {
        Effort::Thorough => bands.iter().map(|_| OnceLock::new()).collect(),
        Effort::Fast | Effort::Over => Vec::new(),
    };
    Ok(Some(Encoded {
        width: pixmap.width(),
        height: pixmap.height(),
        color,
        band_rows,
        bands,
        parses,
    }))
}

/// `pixels` (whole rows) as PNG scanlines without filtering; `None` if RGB was asked for and
/// a pixel is not opaque.
fn unfiltered(pixels: &[u8], width: usize, color: Color, out: &mut Vec<u8>) -> Option<()> {
    let line = width * color.channels();
    for row in pixels.chunks_exact(width * 4) {
        out.push(Filter::None as u8);
        let at = out.len();
        out.resize(at + line, 0);
        if !convert_row(row, color, &mut out[at..]) {
            return None;
        }
    }
    Some(())
}

/// Bands `run` of `pixmap`, redrawn over `base`, compressed into one flushed piece: unfiltered,
/// in blocks of [`BANDS_PER_BLOCK`] bands, with the matches of the base's bands reused where
/// they still hold, and the previous block's last row as history.
fn redrawn_run(
    pixmap: &Pixmap,
    base: &Pixmap,
    encoded: &Encoded,
    run: std::ops::Range<usize>,
    color: Color,
    recent: &mut deflate::Recent,
) -> Result<Option<Band>, RenderError> {
    let width = pixmap.width() as usize;
    let band_bytes = encoded.band_rows * width * 4;
    let line = 1 + width * color.channels();
    let band_raw = encoded.band_rows * line;
    // History (one row) and the bands of the block being made.
    let mut raw = Vec::with_capacity(line + BANDS_PER_BLOCK * band_raw);
    let mut block_start = 0;
    let mut tokens = Vec::new();
    let mut band_tokens = Vec::new();
    let mut adler = simd_adler32::Adler32::new();
    let mut raw_len = 0;
    let mut out = BitWriter::new(run.len() * band_raw / 8);
    for index in run.clone() {
        let start = raw.len();
        if unfiltered(band_of(pixmap, index, band_bytes), width, color, &mut raw).is_none() {
            return Ok(None);
        }
        let base_tokens = encoded.parses.get(index).map(|cell| {
            cell.get_or_init(|| {
                // The base was encoded in this colour type, so its pixels convert.
                let mut base_raw = Vec::with_capacity(band_raw);
                let _ = unfiltered(
                    band_of(base, index, band_bytes),
                    width,
                    color,
                    &mut base_raw,
                );
                deflate::parse(&base_raw)
            })
        });
        let base_tokens = base_tokens.map_or(&[][..], Vec::as_slice);
        deflate::reparse(
            &raw,
            start,
            base_tokens,
            line,
            color.channels(),
            recent,
            &mut band_tokens,
        );
        tokens.extend_from_slice(&band_tokens);
        if (index + 1 - run.start) % BANDS_PER_BLOCK == 0 || index + 1 == run.end {
            let block = &raw[block_start..];
            adler.write(block);
            raw_len += block.len();
            deflate::write_block(&tokens, block, &mut out);
            tokens.clear();
            raw.drain(..raw.len() - line);
            block_start = raw.len();
        }
    }
    Ok(Some(Band {
        deflated: out.finish(),
        adler: adler.finish(),
        raw_len,
    }))
}

/// The pixels of band `index` of `image`.
fn band_of(image: &Pixmap, index: usize, band_bytes: usize) -> &[u8] {
    let data = image.data();
    &data[(index * band_bytes).min(data.len())..((index + 1) * band_bytes).min(data.len())]
}

/// Converts one row of premultiplied RGBA to PNG's `color` bytes; false if RGB was asked for
/// and a pixel is not opaque.
fn convert_row(row: &[u8], color: Color, out: &mut [u8]) -> bool {
    match color {
        Color::Rgb => opaque_rgb(row, out),
        Color::Rgba => {
            straight_rgba(row, out);
            true
        }
    }
}

/// Compresses `pixels` (whole rows: the image drawn in one pass) unfiltered, with
/// [`deflate::ImageDeflate`], a few rows at a time so they are still in cache; `None` if RGB
/// was asked for and a pixel is not opaque.
fn image_band(pixels: &[u8], width: usize, color: Color) -> Option<Band> {
    let line = 1 + width * color.channels();
    let raw_len = pixels.len() / (4 * width).max(1) * line;
    let mut deflater = deflate::ImageDeflate::new(
        line,
        color.channels(),
        IMAGE_BLOCK_ROWS * line,
        raw_len / 16,
    );
    let mut adler = simd_adler32::Adler32::new();
    for rows in pixels.chunks((CHUNK_ROWS * 4 * width).max(1)) {
        let input = deflater.input();
        let start = input.len();
        unfiltered(rows, width, color, input)?;
        adler.write(&input[start..]);
        deflater.compress();
    }
    Some(Band {
        deflated: deflater.finish(),
        adler: adler.finish(),
        raw_len,
    })
}

/// Compresses a band with each of the [`CANDIDATES`] filterings at [`TRIAL_LEVEL`] and keeps
/// the smallest, compressed again at the compressor's (high) level.
fn thorough_band(
    compressor: &mut Compress,
    pixels: &[u8],
    width: usize,
    color: Color,
) -> Result<Option<Band>, RenderError> {
    let row_bytes = width * 4;
    let line = width * color.channels();
    let rows = pixels.len() / row_bytes;
    let mut plain = vec![0u8; rows * line];
    for (row, out) in pixels
        .chunks_exact(row_bytes)
        .zip(plain.chunks_exact_mut(line))
    {
        if !convert_row(row, color, out) {
            return Ok(None);
        }
    }
    let bpp = color.channels();
    let mut trial = Compress::new(Compression::new(TRIAL_LEVEL), false);
    let mut best: Option<(usize, Vec<u8>)> = None;
    let mut out = Vec::new();
    for (first, rest) in CANDIDATES {
        let filtered = filter_rows(&plain, line, bpp, first, rest);
        out.clear();
        trial.reset();
        deflate(&mut trial, &filtered, &mut out, FlushCompress::Full)?;
        if best.as_ref().is_none_or(|(size, _)| out.len() < *size) {
            best = Some((out.len(), filtered));
        }
    }
    let filtered = best.map(|(_, f)| f).unwrap_or_default();
    let mut deflated = Vec::with_capacity(filtered.len() / 8);
    deflate(compressor, &filtered, &mut deflated, FlushCompress::None)?;
    finish_band(
        compressor,
        deflated,
        simd_adler32::adler32(&filtered.as_slice()),
        filtered.len(),
    )
}

/// Ends a band with a full flush: byte-aligned, and what follows refers to nothing before it,
/// so bands can be spliced in any combination.
fn finish_band(
    compressor: &mut Compress,
    mut deflated: Vec<u8>,
    adler: u32,
    raw_len: usize,
) -> Result<Option<Band>, RenderError> {
    deflate(compressor, &[], &mut deflated, FlushCompress::Full)?;
    Ok(Some(Band {
        deflated,
        adler,
        raw_len,
    }))
}

/// PNG scanlines of `plain` (rows of `line` bytes, `bpp` bytes per pixel): the first row
/// filtered with `first`, the others with `rest`, each prefixed with its filter type.
fn filter_rows(plain: &[u8], line: usize, bpp: usize, first: Filter, rest: Filter) -> Vec<u8> {
    let mut out = Vec::with_capacity(plain.len() + plain.len() / line);
    let mut above: Option<&[u8]> = None;
    for row in plain.chunks_exact(line) {
        let filter = if above.is_none() { first } else { rest };
        out.push(filter as u8);
        let at = out.len();
        out.extend_from_slice(row);
        let dst = &mut out[at..];
        match (filter, above) {
            (Filter::None, _) => {}
            (Filter::Sub, _) => {
                for i in bpp..line {
                    dst[i] = row[i].wrapping_sub(row[i - bpp]);
                }
            }
            (Filter::Up, Some(up)) => {
                for i in 0..line {
                    dst[i] = row[i].wrapping_sub(up[i]);
                }
            }
            (Filter::Paeth, Some(up)) => {
                for i in 0..line {
                    let (a, c) = if i >= bpp {
                        (row[i - bpp], up[i - bpp])
                    } else {
                        (0, 0)
                    };
                    dst[i] = row[i].wrapping_sub(paeth(a, up[i], c));
                }
            }
            // Up and Paeth with no row above predict from zeros: the row as it is.
            (Filter::Up | Filter::Paeth, None) => {}
        }
        above = Some(row);
    }
    out
}

/// PNG's Paeth predictor.
fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// Feeds `input` to the compressor, appending what it gives to `out`.
fn deflate(
    compressor: &mut Compress,
    input: &[u8],
    out: &mut Vec<u8>,
    flush: FlushCompress,
) -> Result<(), RenderError> {
    let start_in = compressor.total_in();
    loop {
        let consumed = (compressor.total_in() - start_in) as usize;
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(1024));
        }
        compressor
            .compress_vec(&input[consumed..], out, flush)
            .map_err(|e| RenderError::Encode(e.to_string()))?;
        // Done once all input is taken and the output was not filled (zlib's rule).
        let all_in = (compressor.total_in() - start_in) as usize == input.len();
        if all_in && out.len() < out.capacity() {
            return Ok(());
        }
    }
}

impl Encoded {
    /// Rows per band.
    pub fn band_rows(&self) -> usize {
        self.band_rows
    }

    /// Compressed bytes held.
    pub fn size(&self) -> usize {
        self.bands.iter().map(|b| b.deflated.len()).sum()
    }

    /// The PNG file: signature, header, one IDAT chunk holding the zlib stream, end.
    fn to_png(&self) -> Vec<u8> {
        let deflated: usize = self.bands.iter().map(|b| b.deflated.len()).sum();
        let mut png = Vec::with_capacity(deflated + 128);
        png.extend_from_slice(b"\x89PNG\r\n\x1a\n");
        let mut header = Vec::with_capacity(13);
        header.extend_from_slice(&self.width.to_be_bytes());
        header.extend_from_slice(&self.height.to_be_bytes());
        header.extend_from_slice(&[8, self.color.png_type(), 0, 0, 0]);
        write_chunk(&mut png, b"IHDR", &[&header]);
        let adler = self
            .bands
            .iter()
            .fold(1u32, |sum, b| adler32_combine(sum, b.adler, b.raw_len));
        let adler = adler.to_be_bytes();
        let mut parts: Vec<&[u8]> = Vec::with_capacity(self.bands.len() + 3);
        parts.push(&ZLIB_HEADER);
        parts.extend(self.bands.iter().map(|b| b.deflated.as_slice()));
        parts.push(&FINAL_BLOCK);
        parts.push(&adler);
        write_chunk(&mut png, b"IDAT", &parts);
        write_chunk(&mut png, b"IEND", &[]);
        png
    }
}

fn write_chunk(png: &mut Vec<u8>, kind: &[u8; 4], parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    // A chunk holds up to 2^31 - 1 bytes; canvases are bounded far below that.
    png.extend_from_slice(&(len as u32).to_be_bytes());
    let mut crc = crc32fast::Hasher::new();
    png.extend_from_slice(kind);
    crc.update(kind);
    for part in parts {
        png.extend_from_slice(part);
        crc.update(part);
    }
    png.extend_from_slice(&crc.finalize().to_be_bytes());
}

/// The Adler-32 of `a ++ b` from the checksums of `a` and `b` (`b_len` bytes), as zlib's
/// `adler32_combine` computes it.
fn adler32_combine(a: u32, b: u32, b_len: usize) -> u32 {
    const BASE: u64 = 65_521;
    let rem = b_len as u64 % BASE;
    let (a_lo, a_hi) = (u64::from(a & 0xffff), u64::from(a >> 16));
    let (b_lo, b_hi) = (u64::from(b & 0xffff), u64::from(b >> 16));
    let lo = (a_lo + b_lo + BASE - 1) % BASE;
    let hi = (rem * a_lo % BASE + a_hi + b_hi + BASE - rem) % BASE;
    ((hi << 16) | lo) as u32
}

/// Writes the RGB of premultiplied RGBA `data` to `rgb`; false if a pixel is not fully opaque.
fn opaque_rgb(data: &[u8], rgb: &mut [u8]) -> bool {
    const PIXELS: usize = 16;
    let mut alpha = 0xFFu8;
    let mut dst = rgb.chunks_exact_mut(3 * PIXELS);
    let mut src = data.chunks_exact(4 * PIXELS);
    // Fixed-size blocks, constant indices and no early exit: the compiler turns this into
    // byte shuffles.
    for (d, s) in dst.by_ref().zip(src.by_ref()) {
        for i in 0..PIXELS {
            d[3 * i] = s[4 * i];
            d[3 * i + 1] = s[4 * i + 1];
            d[3 * i + 2] = s[4 * i + 2];
            alpha &= s[4 * i + 3];
        }
    }
    for (d, s) in dst
        .into_remainder()
        .chunks_exact_mut(3)
        .zip(src.remainder().chunks_exact(4))
    {
        d.copy_from_slice(&s[..3]);
        alpha &= s[3];
    }
    alpha == 0xFF
}

/// Writes straight (non-premultiplied) RGBA, as PNG wants it, to `rgba`.
fn straight_rgba(data: &[u8], rgba: &mut [u8]) {
    for (dst, p) in rgba.chunks_exact_mut(4).zip(data.chunks_exact(4)) {
        // Most pixels of a card are fully opaque or fully clear: skip the divisions for them.
        match p[3] {
            0 => dst.fill(0),
            255 => dst.copy_from_slice(p),
            a => {
                // A colour above its alpha (anti-aliased pattern edges can give one) is clamped
                // to it, as tiny-skia's own encoder saturates it: never dropped.
                let c = PremultipliedColorU8::from_rgba(p[0].min(a), p[1].min(a), p[2].min(a), a)
                    .map_or([0, 0, 0, 0], |c| {
                        let c = c.demultiply();
                        [c.red(), c.green(), c.blue(), c.alpha()]
                    });
                dst.copy_from_slice(&c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use resvg::tiny_skia::{Color as SkColor, Paint, Rect, Transform};

    fn decode(png_bytes: &[u8]) -> (png::ColorType, Vec<u8>) {
        // The png crate skips the zlib checksum; zlib itself checks it.
        let idat_len = u32::from_be_bytes(png_bytes[33..37].try_into().expect("len")) as usize;
        assert_eq!(&png_bytes[37..41], b"IDAT");
        let mut inflated = Vec::new();
        let zlib = &png_bytes[41..41 + idat_len];
        std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(zlib), &mut inflated)
            .expect("zlib stream with a valid Adler-32");
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().expect("png header");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("png frame");
        buf.truncate(info.buffer_size());
        (info.color_type, buf)
    }

    fn rgb(pixmap: &Pixmap) -> Vec<u8> {
        pixmap
            .data()
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect()
    }

    /// A noisy opaque image: deflate cannot shortcut it, bands differ from each other.
    fn noise(width: u32, height: u32, seed: u32) -> Pixmap {
        let mut pixmap = Pixmap::new(width, height).expect("pixmap");
        let mut state = seed;
        for p in pixmap.data_mut().chunks_exact_mut(4) {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            p.copy_from_slice(&[
                (state >> 24) as u8,
                (state >> 16) as u8,
                (state >> 8) as u8,
                255,
            ]);
        }
        pixmap
    }

    #[test]
    fn opaque_image_round_trips_as_rgb() {
        let mut pixmap = Pixmap::new(37, 5).expect("pixmap");
        pixmap.fill(SkColor::from_rgba8(10, 200, 30, 255));
        let (color, data) = decode(&encode_png(&pixmap).expect("encode"));
        assert_eq!(color, png::ColorType::Rgb);
        assert_eq!(data, [10, 200, 30].repeat(37 * 5));
        let noisy = noise(101, 67, 7);
        assert_eq!(decode(&encode_png(&noisy).expect("encode")).1, rgb(&noisy));
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

    #[test]
    fn colour_above_alpha_is_clamped_like_tiny_skia() {
        let mut pixmap = Pixmap::new(3, 1).expect("pixmap");
        // Premultiplied pixels whose colour exceeds their alpha, and a valid one.
        pixmap
            .data_mut()
            .copy_from_slice(&[90, 10, 60, 40, 200, 0, 255, 128, 20, 30, 40, 80]);
        let (color, data) = decode(&encode_png(&pixmap).expect("encode"));
        assert_eq!(color, png::ColorType::Rgba);
        let expected: Vec<u8> = pixmap
            .pixels()
            .iter()
            .flat_map(|p| {
                let c = p.demultiply();
                [c.red(), c.green(), c.blue(), c.alpha()]
            })
            .collect();
        assert_eq!(data, expected);
        assert_eq!(&data[..4], &[255, 64, 255, 40]);
    }

    /// Every band of `pixmap` marked as drawn in.
    fn all(pixmap: &Pixmap) -> Vec<bool> {
        vec![true; (pixmap.height() as usize).div_ceil(BAND_ROWS)]
    }

    #[test]
    fn untouched_bands_are_the_base_s_whatever_the_pixmap_holds() {
        let base = noise(40, 50, 8);
        let encoded = encode_bands(&base).expect("bands");
        // Drawn in band 1 only; the rest of the pixmap was never filled in.
        let mut drawn = Pixmap::new(40, 50).expect("pixmap");
        let band = BAND_ROWS * 40 * 4;
        drawn.data_mut()[band..2 * band].copy_from_slice(&base.data()[band..2 * band]);
        drawn.data_mut()[band..band + 8].fill(255);
        let mut expected = base.clone();
        expected.data_mut()[band..band + 8].fill(255);
        let touched = [false, true, false, false];
        let png = encode_png_over(&drawn, &base, &encoded, &touched).expect("over");
        assert_eq!(decode(&png).1, rgb(&expected));
        // A translucent pixel drawn there: RGBA, the untouched bands still the base's.
        drawn.data_mut()[band..band + 4].fill(0);
        expected.data_mut()[band..band + 4].fill(0);
        let (color, data) =
            decode(&encode_png_over(&drawn, &base, &encoded, &touched).expect("rgba"));
        assert_eq!(color, png::ColorType::Rgba);
        let opaque: Vec<u8> = data
            .chunks_exact(4)
            .skip(1)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        assert_eq!(opaque, rgb(&expected)[3..]);
        // Another canvas size is refused rather than misread.
        let small = Pixmap::new(40, 20).expect("pixmap");
        assert!(encode_png_over(&small, &base, &encoded, &touched).is_err());
    }

    #[test]
    fn drawing_over_an_encoded_base_reuses_unchanged_bands() {
        let base = noise(90, 100, 1);
        let encoded = encode_bands(&base).expect("bands");
        assert_eq!(encoded.bands.len(), 100_usize.div_ceil(BAND_ROWS));
        let mut over = base.clone();
        // Change rows 20..22 only: one band is compressed again, the others are copied.
        let changed = noise(90, 2, 2);
        over.data_mut()[20 * 90 * 4..22 * 90 * 4].copy_from_slice(changed.data());
        let png = encode_png_over(&over, &base, &encoded, &all(&over)).expect("over");
        assert_eq!(decode(&png).1, rgb(&over));
        // Unchanged, the result is the base's own bands.
        let same = encode_png_over(&base, &base, &encoded, &all(&base)).expect("same");
        assert_eq!(decode(&same).1, rgb(&base));
        assert_eq!(same, encoded.to_png());
        // A translucent pixel drawn over an RGB base is still encoded faithfully (as RGBA).
        let mut clear = base.clone();
        clear.data_mut()[..4].fill(0);
        let (color, data) =
            decode(&encode_png_over(&clear, &base, &encoded, &all(&clear)).expect("rgba"));
        assert_eq!(
            (color, &data[..4]),
            (png::ColorType::Rgba, &[0u8, 0, 0, 0][..])
        );
    }

    #[test]
    fn long_runs_of_redrawn_bands_round_trip() {
        // A gradient base (what redrawn bands reuse matches from), 7 bands, the last short.
        let mut base = Pixmap::new(90, 100).expect("pixmap");
        for (i, p) in base.data_mut().chunks_exact_mut(4).enumerate() {
            let (x, y) = (i % 90, i / 90);
            p.copy_from_slice(&[(x + y) as u8, (2 * x) as u8, y as u8, 255]);
        }
        let encoded = encode_bands(&base).expect("bands");
        // Every band redrawn (one run, two blocks), then every other one (runs of one band).
        for step in [1, 2 * BAND_ROWS] {
            let mut over = base.clone();
            let changed = noise(90, 100, 4);
            for y in (3..100).step_by(step) {
                let row = y * 90 * 4..(y + 1) * 90 * 4;
                over.data_mut()[row.clone()].copy_from_slice(&changed.data()[row]);
            }
            let png = encode_png_over(&over, &base, &encoded, &all(&over)).expect("over");
            assert_eq!(decode(&png).1, rgb(&over), "step {step}");
        }
    }

    #[test]
    fn reused_bands_never_depend_on_the_row_above_them() {
        // Columns of noise brightening row by row: no row repeats another, but each predicts
        // the next, so the cached bands take filters that use the row above.
        let column = noise(64, 1, 5);
        let mut base = Pixmap::new(64, 64).expect("pixmap");
        for (y, row) in base.data_mut().chunks_exact_mut(4 * 64).enumerate() {
            for (dst, src) in row.chunks_exact_mut(4).zip(column.data().chunks_exact(4)) {
                let lift = |c: u8| c.wrapping_add(3 * y as u8);
                dst.copy_from_slice(&[lift(src[0]), lift(src[1]), lift(src[2]), 255]);
            }
        }
        let encoded = encode_bands(&base).expect("bands");
        // Redraw only the last row of the first band: the second band is reused as it is.
        let mut over = base.clone();
        let row = 4 * 64;
        over.data_mut()[(BAND_ROWS - 1) * row..BAND_ROWS * row].fill(255);
        let png = encode_png_over(&over, &base, &encoded, &all(&over)).expect("over");
        assert_eq!(decode(&png).1, rgb(&over));
        // Each cached band starts with a row filtered without the row above, and the rows
        // after it do predict from above (here, where every row is alike, they should).
        for band in &encoded.bands {
            let mut raw = Vec::with_capacity(band.raw_len);
            flate2::Decompress::new(false)
                .decompress_vec(&band.deflated, &mut raw, flate2::FlushDecompress::Sync)
                .expect("inflate band");
            assert_eq!(raw.len(), band.raw_len);
            let filters: Vec<u8> = raw.chunks_exact(1 + 64 * 3).map(|r| r[0]).collect();
            assert!(filters[0] <= Filter::Sub as u8, "{filters:?}");
            assert!(
                filters[1..].iter().all(|f| *f >= Filter::Up as u8),
                "{filters:?}"
            );
        }
    }

    #[test]
    fn every_filter_round_trips() {
        let noisy = noise(33, 9, 3);
        let plain = rgb(&noisy);
        let line = 33 * 3;
        for (first, rest) in CANDIDATES {
            let filtered = filter_rows(&plain, line, 3, first, rest);
            let mut png = Vec::new();
            png.extend_from_slice(b"\x89PNG\r\n\x1a\n");
            let mut header = Vec::new();
            header.extend_from_slice(&33u32.to_be_bytes());
            header.extend_from_slice(&9u32.to_be_bytes());
            header.extend_from_slice(&[8, 2, 0, 0, 0]);
            write_chunk(&mut png, b"IHDR", &[&header]);
            let zlib = {
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
                std::io::Write::write_all(&mut e, &filtered).expect("deflate");
                e.finish().expect("zlib")
            };
            write_chunk(&mut png, b"IDAT", &[&zlib]);
            write_chunk(&mut png, b"IEND", &[]);
            assert_eq!(decode(&png).1, plain, "{first:?} then {rest:?}");
        }
    }

    #[test]
    fn adler32_combines_like_one_pass() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for split in [0, 1, 5_552, 65_521, 100_000, 200_000] {
            let (a, b) = data.split_at(split);
            let combined = adler32_combine(
                simd_adler32::adler32(&a),
                simd_adler32::adler32(&b),
                b.len(),
            );
            assert_eq!(
                combined,
                simd_adler32::adler32(&data.as_slice()),
                "split {split}"
            );
        }
    }
}
