//! A small deflate encoder (RFC 1951) for the bands a render redraws over a cached background,
//! and for whole images drawn in one pass ([`ImageDeflate`]).
//!
//! Most bytes of a redrawn band are still the background's, whose matches were found once,
//! thoroughly, when the background was first used ([`parse`]). [`reparse`] re-checks those
//! matches against the new bytes, which is one comparison per byte, and looks for new ones only
//! where a match broke (where text changed the pixels), among the distances text repeats at
//! (the pixel to the left, the row above and a pixel either side of it) and a small hash table
//! of recent positions. The tokens are then Huffman-coded in dynamic blocks ([`write_block`]).
//! zlib at a middle level searches hash chains at every position instead: several times slower
//! for larger output.
//!
//! Streams written here end byte-aligned after an empty stored block (zlib's full flush), so
//! they can be spliced between other flushed deflate data, as the PNG encoder does.

/// Farthest back a match may refer.
const WINDOW: usize = 32 * 1024;
const MIN_MATCH: usize = 3;
const MAX_MATCH: usize = 258;
/// Longest code length deflate allows for literals/lengths and distances, and for the code
/// lengths' own code.
const MAX_BITS: u32 = 15;
const MAX_CL_BITS: u32 = 7;
/// Symbols: 256 literals, end of block, 29 length codes; 30 distance codes; 19 code-length codes.
const LITLEN_CODES: usize = 286;
const DIST_CODES: usize = 30;
const CL_CODES: usize = 19;
const END_OF_BLOCK: usize = 256;
/// The order code-length code lengths are sent in.
const CL_ORDER: [usize; CL_CODES] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];
const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// Length code (0..29) of each match length 0..=258 (entries below 3 unused).
const LEN_CODE: [u8; MAX_MATCH + 1] = len_codes();
/// Distance code of distances 1..=256 (at `d - 1`), and of larger ones at `256 + (d - 1) >> 7`.
const DIST_CODE: [u8; 512] = dist_codes();

const fn len_codes() -> [u8; MAX_MATCH + 1] {
    let mut table = [0u8; MAX_MATCH + 1];
    let mut code = 0;
    while code < 29 {
        let end = if code == 28 {
            MAX_MATCH + 1
        } else {
            LEN_BASE[code + 1] as usize
        };
        let mut len = LEN_BASE[code] as usize;
        while len < end {
            table[len] = code as u8;
            len += 1;
        }
        code += 1;
    }
    // 258 has its own code (28), though 227 + 31 would also reach it with code 27.
    table[MAX_MATCH] = 28;
    table
}

const fn dist_codes() -> [u8; 512] {
    let mut table = [0u8; 512];
    let mut code = 0;
    while code < 30 {
        let start = DIST_BASE[code] as usize;
        let end = start + (1usize << DIST_EXTRA[code]);
        let mut d = start;
        while d < end {
            if d <= 256 {
                table[d - 1] = code as u8;
            } else {
                table[256 + ((d - 1) >> 7)] = code as u8;
            }
            d += 1;
        }
        code += 1;
    }
    table
}

fn dist_code(dist: usize) -> usize {
    usize::from(if dist <= 256 {
        DIST_CODE[dist - 1]
    } else {
        DIST_CODE[256 + ((dist - 1) >> 7)]
    })
}

/// One LZ77 token: a literal byte, or a match of `len` bytes `dist` back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token(u32);

impl Token {
    const MATCH: u32 = 1 << 31;

    fn literal(byte: u8) -> Self {
        Self(u32::from(byte))
    }

    fn matched(len: usize, dist: usize) -> Self {
        debug_assert!((MIN_MATCH..=MAX_MATCH).contains(&len) && (1..=WINDOW).contains(&dist));
        Self(Self::MATCH | ((len - MIN_MATCH) as u32) << 16 | dist as u32)
    }

    fn is_match(self) -> bool {
        self.0 & Self::MATCH != 0
    }

    /// Bytes covered.
    fn len(self) -> usize {
        if self.is_match() {
            ((self.0 >> 16) & 0xff) as usize + MIN_MATCH
        } else {
            1
        }
    }

    fn dist(self) -> usize {
        (self.0 & 0xffff) as usize
    }

    fn byte(self) -> u8 {
        self.0 as u8
    }
}

/// How many leading bytes of `a` and `b` agree, at most `max`.
fn common(a: &[u8], b: &[u8], max: usize) -> usize {
    let max = max.min(a.len()).min(b.len());
    let (a, b) = (&a[..max], &b[..max]);
    let mut n = 0;
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        let diff = u64::from_le_bytes(x.try_into().unwrap_or_default())
            ^ u64::from_le_bytes(y.try_into().unwrap_or_default());
        if diff != 0 {
            return n + (diff.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + a[n..]
        .iter()
        .zip(&b[n..])
        .take_while(|(x, y)| x == y)
        .count()
}

const HASH_BITS: u32 = 15;

fn hash3(data: &[u8], at: usize) -> usize {
    let v = u32::from(data[at]) | u32::from(data[at + 1]) << 8 | u32::from(data[at + 2]) << 16;
    (v.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
}

/// Hash chains over `data`: every position's most recent predecessor with the same hash.
struct Chains {
    head: Vec<u32>,
    prev: Vec<u32>,
    inserted: usize,
}

impl Chains {
    const NONE: u32 = u32::MAX;

    fn new(len: usize) -> Self {
        Self {
            head: vec![Self::NONE; 1 << HASH_BITS],
            prev: vec![Self::NONE; len],
            inserted: 0,
        }
    }

    /// Adds every position before `end` that has three bytes to hash.
    fn insert_until(&mut self, data: &[u8], end: usize) {
        let end = end.min(data.len().saturating_sub(MIN_MATCH - 1));
        while self.inserted < end {
            let h = hash3(data, self.inserted);
            self.prev[self.inserted] = self.head[h];
            self.head[h] = self.inserted as u32;
            self.inserted += 1;
        }
    }

    /// The longest match for `at` among up to `depth` earlier positions: (length, distance).
    fn longest(&self, data: &[u8], at: usize, depth: usize) -> (usize, usize) {
        let max = MAX_MATCH.min(data.len() - at);
        if max < MIN_MATCH {
            return (0, 0);
        }
        let (mut best, mut best_dist) = (MIN_MATCH - 1, 0);
        let mut candidate = self.head[hash3(data, at)];
        let mut left = depth;
        while candidate != Self::NONE && left > 0 {
            let c = candidate as usize;
            if c >= at || at - c > WINDOW {
                break;
            }
            // The byte that would make this candidate better is checked first.
            if data[c + best] == data[at + best] {
                let n = common(&data[c..], &data[at..], max);
                if n > best {
                    (best, best_dist) = (n, at - c);
                    if n == max {
                        break;
                    }
                }
            }
            candidate = self.prev[c];
            left -= 1;
        }
        if best >= MIN_MATCH {
            (best, best_dist)
        } else {
            (0, 0)
        }
    }
}

/// Hash chain steps per position in [`parse`]: its output is reused by every render over the
/// same background, so it searches much as zlib's level 9 does.
const PARSE_DEPTH: usize = 1024;

/// A thorough LZ77 parse of `data` (greedy with one step of lazy evaluation, like zlib's
/// higher levels), referring only to `data` itself.
pub fn parse(data: &[u8]) -> Vec<Token> {
    let mut chains = Chains::new(data.len());
    let mut tokens = Vec::with_capacity(data.len() / 8);
    let mut at = 0;
    let mut pending: Option<(usize, usize)> = None;
    while at < data.len() {
        chains.insert_until(data, at);
        let here = pending
            .take()
            .unwrap_or_else(|| chains.longest(data, at, PARSE_DEPTH));
        if here.0 >= MIN_MATCH && here.0 < MAX_MATCH && at + 1 < data.len() {
            chains.insert_until(data, at + 1);
            let next = chains.longest(data, at + 1, PARSE_DEPTH);
            if next.0 > here.0 {
                tokens.push(Token::literal(data[at]));
                pending = Some(next);
                at += 1;
                continue;
            }
        }
        if here.0 >= MIN_MATCH {
            tokens.push(Token::matched(here.0, here.1));
            at += here.0;
        } else {
            tokens.push(Token::literal(data[at]));
            at += 1;
        }
    }
    tokens
}

/// Chain steps per text position. On the `blog` card, one step makes a 1.5 % larger PNG than
/// two; more steps, or lazy matching as zlib's middle levels do, find under 1 % more for 5-9 %
/// more render time. zlib's level 9 makes its text bands 15 % smaller than ours by searching
/// every position's chain 4096 deep, at ten times the time.
const TEXT_DEPTH: usize = 2;
/// Buckets of [`Recent`].
const RECENT_BITS: u32 = 14;

/// Hash chains over the positions where text was searched: where text pixels repeat farther
/// away than the pixel to the left or the row above (the same letter twice on a line).
///
/// Kept from one call of [`reparse`] to the next, uncleared: a chain may lead to positions
/// recorded for other bytes, which the byte comparisons of every candidate then reject.
pub struct Recent {
    head: Vec<u32>,
    prev: Vec<u32>,
}

impl Recent {
    /// Chains for data of up to `len` bytes.
    pub fn new(len: usize) -> Self {
        Self {
            head: vec![u32::MAX; 1 << RECENT_BITS],
            prev: vec![0; len],
        }
    }

    /// The longest match for `at` (four bytes at least, or a repeated pixel) at one pixel
    /// back, one row back and a pixel either side of it, or along `at`'s chain; records `at`
    /// in the chains.
    fn search(&mut self, data: &[u8], at: usize, bpp: usize, row: usize) -> (usize, usize) {
        let Some(here) = load32(data, at) else {
            return (0, 0);
        };
        let left = (data.len() - at).min(MAX_MATCH);
        let mut seen = self.insert(here, at);
        let mut best = (0, 0);
        consider(data, at, here, left, bpp, bpp, &mut best);
        consider(data, at, here, left, bpp, row, &mut best);
        // Antialiased glyph edges repeat along slants and curves: one row back, a pixel aside
        // (on the `blog` endpoint path 0.6 % smaller for ~1 % more CPU; ±2 pixels and a lazy
        // step as well, 1.3 % smaller for 10 % more).
        for dist in [row.saturating_sub(bpp), row + bpp] {
            consider(data, at, here, left, bpp, dist, &mut best);
        }
        for _ in 0..TEXT_DEPTH {
            if seen as usize >= at || best.0 == left {
                break;
            }
            consider(data, at, here, left, bpp, at - seen as usize, &mut best);
            seen = self.prev[seen as usize];
        }
        best
    }

    /// Records `at`, whose four bytes are `value`; returns the chain of earlier positions.
    #[inline(always)]
    fn insert(&mut self, value: u32, at: usize) -> u32 {
        let slot = (value.wrapping_mul(0x9E37_79B1) >> (32 - RECENT_BITS)) as usize;
        let old = std::mem::replace(&mut self.head[slot], at as u32);
        self.prev[at] = old;
        old
    }
}

/// The four bytes at `at`, when there are four.
#[inline(always)]
fn load32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// Tokens for `data[start..]` (what comes before is history matches may refer to) into
/// `tokens`, given `base`, a parse of other bytes as long as `data[start..]` (the background
/// under a redrawn band), and `row`, the distance to the byte above in the image.
///
/// Each of the base's matches is kept as far as it still holds for `data`; where it does not,
/// or the base has a literal, the longest of the matches at one pixel (`bpp` bytes) back, one
/// row back (or a pixel either side of it) or along a short hash chain of earlier searched positions is taken, if any. `base` must
/// refer only to its own bytes.
pub fn reparse(
    data: &[u8],
    start: usize,
    base: &[Token],
    row: usize,
    bpp: usize,
    recent: &mut Recent,
    tokens: &mut Vec<Token>,
) {
    let n = data.len();
    tokens.clear();
    if recent.prev.len() < n {
        // Any value will do: chains are only walked backwards from `at`, and every candidate
        // they give is compared byte by byte.
        recent.prev.resize(n, 0);
    }
    // The base token covering `at`, and where it starts.
    let (mut next, mut base_at) = (0, start);
    let mut at = start;
    while at < n {
        while let Some(t) = base.get(next).filter(|t| base_at + t.len() <= at) {
            base_at += t.len();
            next += 1;
        }
        let left = (n - at).min(MAX_MATCH);
        if let Some(t) = base
            .get(next)
            .filter(|t| t.is_match() && t.dist() <= at - start)
        {
            let dist = t.dist();
            let len = common(
                &data[at - dist..],
                &data[at..],
                left.min(base_at + t.len() - at),
            );
            if len >= MIN_MATCH {
                tokens.push(Token::matched(len, dist));
                at += len;
                continue;
            }
        }
        let (best, best_dist) = recent.search(data, at, bpp, row);
        if best >= MIN_MATCH {
            tokens.push(Token::matched(best, best_dist));
            at += best;
        } else {
            tokens.push(Token::literal(data[at]));
            at += 1;
        }
    }
}

/// Hash chain steps per position in [`ImageDeflate`]. On the reference card, 2 steps make a
/// 0.8 % larger PNG than 4, 8 steps 0.3 % smaller for ~10 % more parse time.
const IMAGE_DEPTH: usize = 4;
/// Positions inside matches longer than this are not hashed: the long matches of gradients
/// and flat panels are found again one row back (on the reference card, hashing every byte
/// takes ~30 % more instructions and is no smaller; 8 makes it 0.8 % larger).
const IMAGE_HASH_MAX: usize = 64;
const IMAGE_HASH_BITS: u32 = 15;

/// Bytes of history dropped from an [`ImageDeflate`]'s buffer at a time, at least.
const IMAGE_COMPACT: usize = 64 * 1024;

/// A deflate stream of an image's unfiltered scanlines, compressed as they are written: for
/// images drawn in one pass. The parse is greedy with one step of lazy evaluation, searching
/// the distances image bytes repeat at (the match just used, the pixel to the left, the row
/// above and the pixels beside it: diagonal gradients, slanted edges) and a short hash chain;
/// on rendered cards about as small as zlib's level 7 in well under its time. Only the window
/// and the block being made are kept, so a large image needs no more memory than a small one.
pub struct ImageDeflate {
    /// Scanlines from absolute position `base` on.
    buf: Vec<u8>,
    base: usize,
    head: Vec<u32>,
    /// Each position's predecessor with the same hash, at the position modulo [`WINDOW`].
    prev: Vec<u32>,
    inserted: usize,
    /// The next position to parse, the distance of the last match, and a match found at `at`
    /// by the lazy step.
    at: usize,
    last: usize,
    pending: Option<(usize, usize)>,
    tokens: Vec<Token>,
    block_start: usize,
    block_bytes: usize,
    /// One pixel back, one row back, and the row back one and two pixels either side.
    near: Vec<usize>,
    out: BitWriter,
}

impl ImageDeflate {
    const NONE: u32 = u32::MAX;

    /// For scanlines of `row` bytes, `bpp` bytes to a pixel, Huffman-coded in blocks of about
    /// `block_bytes`; `capacity` is a guess at the compressed size.
    pub fn new(row: usize, bpp: usize, block_bytes: usize, capacity: usize) -> Self {
        let near = [
            Some(bpp),
            Some(row),
            row.checked_sub(bpp),
            Some(row + bpp),
            row.checked_sub(2 * bpp),
            Some(row + 2 * bpp),
        ]
        .into_iter()
        .flatten()
        .filter(|d| (1..=WINDOW).contains(d))
        .collect();
        Self {
            buf: Vec::with_capacity(WINDOW + IMAGE_COMPACT + 2 * block_bytes),
            base: 0,
            head: vec![Self::NONE; 1 << IMAGE_HASH_BITS],
            prev: vec![Self::NONE; WINDOW],
            inserted: 0,
            at: 0,
            last: 0,
            pending: None,
            tokens: Vec::with_capacity(block_bytes / 16),
            block_start: 0,
            block_bytes: block_bytes.max(1),
            near,
            out: BitWriter::new(capacity),
        }
    }

    /// Where the next scanlines are to be appended; [`Self::compress`] then takes them in.
    pub fn input(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Compresses what was appended, up to where a match could still run into bytes to come.
    pub fn compress(&mut self) {
        let end = self.base + self.buf.len();
        self.parse(end.saturating_sub(MAX_MATCH + 1));
    }

    /// Compresses the rest: a stream ending byte-aligned after a full flush.
    pub fn finish(mut self) -> Vec<u8> {
        self.parse(self.base + self.buf.len());
        if self.at > self.block_start {
            self.end_block();
        }
        self.out.finish()
    }

    fn parse(&mut self, limit: usize) {
        let end = self.base + self.buf.len();
        while self.at < limit {
            let at = self.at;
            let here = match self.pending.take() {
                Some(found) => found,
                None => self.longest(at),
            };
            if here.0 >= MIN_MATCH && here.0 < MAX_MATCH && at + 1 < end {
                let next = self.longest(at + 1);
                if next.0 > here.0 {
                    self.tokens.push(Token::literal(self.buf[at - self.base]));
                    self.pending = Some(next);
                    self.at += 1;
                    continue;
                }
            }
            if here.0 >= MIN_MATCH {
                self.tokens.push(Token::matched(here.0, here.1));
                self.last = here.1;
                if here.0 > IMAGE_HASH_MAX {
                    self.inserted = self.inserted.max(at + here.0);
                }
                self.at += here.0;
            } else {
                self.tokens.push(Token::literal(self.buf[at - self.base]));
                self.at += 1;
            }
            if self.at - self.block_start >= self.block_bytes {
                self.end_block();
            }
        }
    }

    /// Writes the tokens parsed since the last block as one block, and drops history no
    /// match can reach any more.
    fn end_block(&mut self) {
        let data = &self.buf[self.block_start - self.base..self.at - self.base];
        write_block(&self.tokens, data, &mut self.out);
        self.tokens.clear();
        self.block_start = self.at;
        let keep = self.at.saturating_sub(WINDOW);
        if keep >= self.base + IMAGE_COMPACT {
            self.buf.drain(..keep - self.base);
            self.base = keep;
        }
    }

    /// Hashes every position up to and including `at` not hashed yet.
    fn insert_through(&mut self, at: usize) {
        let end = (at + 1).min((self.base + self.buf.len()).saturating_sub(3));
        while self.inserted < end {
            if let Some(value) = load32(&self.buf, self.inserted - self.base) {
                let slot = (value.wrapping_mul(0x9E37_79B1) >> (32 - IMAGE_HASH_BITS)) as usize;
                self.prev[self.inserted & (WINDOW - 1)] = self.head[slot];
                self.head[slot] = self.inserted as u32;
            }
            self.inserted += 1;
        }
    }

    /// The longest match for `at` (four bytes at least, or a repeated pixel) at the last
    /// match's distance, at the [`Self::near`] distances or along `at`'s hash chain:
    /// (length, distance).
    fn longest(&mut self, at: usize) -> (usize, usize) {
        self.insert_through(at);
        let data = &self.buf[..];
        let i = at - self.base;
        let Some(here) = load32(data, i) else {
            return (0, 0);
        };
        let left = (data.len() - i).min(MAX_MATCH);
        let bpp = self.near[0];
        let mut best = (0, 0);
        consider(data, i, here, left, bpp, self.last, &mut best);
        for &dist in &self.near {
            if best.0 == left {
                return best;
            }
            consider(data, i, here, left, bpp, dist, &mut best);
        }
        let mut seen = self.prev[at & (WINDOW - 1)];
        for _ in 0..IMAGE_DEPTH {
            let s = seen as usize;
            if seen == Self::NONE || s >= at || s < self.base || best.0 == left {
                break;
            }
            consider(data, i, here, left, bpp, at - s, &mut best);
            // A slot may have been reused by a later position: chains only lead back.
            let next = self.prev[s & (WINDOW - 1)];
            if next >= seen {
                break;
            }
            seen = next;
        }
        best
    }
}

/// Makes `best` the match for `data[i..]` at `dist` back if that is longer (`here`: the four
/// bytes at `i`; `left`: the longest match allowed).
#[inline(always)]
fn consider(
    data: &[u8],
    i: usize,
    here: u32,
    left: usize,
    bpp: usize,
    dist: usize,
    best: &mut (usize, usize),
) {
    // Nothing beats a match of all that is left.
    if dist == 0 || dist > i || dist > WINDOW || dist == best.1 || best.0 >= left {
        return;
    }
    // The byte that would make this candidate better is checked first.
    if best.0 >= 4 && data[i - dist + best.0] != data[i + best.0] {
        return;
    }
    let there = load32(data, i - dist).unwrap_or(!here);
    if there == here {
        let len = 4 + common(&data[i - dist + 4..], &data[i + 4..], left - 4);
        if len > best.0 {
            *best = (len, dist);
        }
    } else if dist == bpp && (there ^ here) & 0x00ff_ffff == 0 && best.0 < 3 {
        // One pixel repeated: three bytes, still cheaper than three literals.
        *best = (3, dist);
    }
}

/// Deflate's bit order: least significant first.
pub struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    bits: u32,
}

impl BitWriter {
    pub fn new(capacity: usize) -> Self {
        Self {
            out: Vec::with_capacity(capacity),
            acc: 0,
            bits: 0,
        }
    }

    #[inline]
    fn put(&mut self, value: u32, bits: u32) {
        debug_assert!(bits <= 32 && u64::from(value) < 1u64 << bits);
        self.acc |= u64::from(value) << self.bits;
        self.bits += bits;
        if self.bits >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.bits -= 32;
        }
    }

    /// Pads with zero bits to a byte boundary.
    fn align(&mut self) {
        while self.bits > 0 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.bits = self.bits.saturating_sub(8);
        }
        self.acc = 0;
    }

    /// A full flush: an empty stored block, leaving the stream byte-aligned and independent
    /// of what follows. Returns the bytes written.
    pub fn finish(mut self) -> Vec<u8> {
        self.put(0, 3); // not final, stored
        self.align();
        self.out.extend_from_slice(&[0, 0, 0xff, 0xff]);
        self.out
    }
}

/// Code lengths of a Huffman code for `freqs`, none longer than `limit`. Symbols with no
/// frequency get no code. Over-long codes are avoided by flattening the frequencies and
/// building again, which costs a little size only in rare, skewed blocks.
fn code_lengths(freqs: &[u32], limit: u32) -> Vec<u8> {
    let mut lengths = vec![0u8; freqs.len()];
    let mut symbols: Vec<(u32, usize)> = freqs
        .iter()
        .enumerate()
        .filter(|(_, f)| **f > 0)
        .map(|(s, f)| (*f, s))
        .collect();
    if symbols.len() < 2 {
        if let Some((_, s)) = symbols.first() {
            lengths[*s] = 1;
        }
        return lengths;
    }
    let leaves = symbols.len();
    let mut parent = vec![0usize; 2 * leaves - 1];
    let mut depth = vec![0u32; 2 * leaves - 1];
    let mut weight = vec![0u64; 2 * leaves - 1];
    for shift in 0.. {
        for s in &mut symbols {
            s.0 = (freqs[s.1] >> shift).max(1);
        }
        symbols.sort_unstable();
        for (i, s) in symbols.iter().enumerate() {
            weight[i] = u64::from(s.0);
        }
        // Two queues: leaves in weight order, then inner nodes in the order they are made
        // (their weights never decrease), so the two lightest are always at the fronts.
        let (mut next_leaf, mut next_inner) = (0, leaves);
        for node in leaves..2 * leaves - 1 {
            let mut take = || {
                let leaf_first = next_leaf < leaves
                    && (next_inner >= node || weight[next_leaf] <= weight[next_inner]);
                let chosen = if leaf_first {
                    &mut next_leaf
                } else {
                    &mut next_inner
                };
                *chosen += 1;
                *chosen - 1
            };
            let (a, b) = (take(), take());
            weight[node] = weight[a] + weight[b];
            parent[a] = node;
            parent[b] = node;
        }
        depth[2 * leaves - 2] = 0;
        for node in (0..2 * leaves - 2).rev() {
            depth[node] = depth[parent[node]] + 1;
        }
        if depth[..leaves].iter().all(|d| *d <= limit) {
            break;
        }
    }
    for (i, s) in symbols.iter().enumerate() {
        lengths[s.1] = depth[i] as u8;
    }
    lengths
}

/// Canonical codes for `lengths`, bit-reversed for writing least significant bit first.
fn codes(lengths: &[u8]) -> Vec<u16> {
    let mut count = [0u16; MAX_BITS as usize + 1];
    for l in lengths {
        count[usize::from(*l)] += 1;
    }
    count[0] = 0;
    let mut next = [0u16; MAX_BITS as usize + 2];
    for bits in 1..=MAX_BITS as usize {
        next[bits + 1] = (next[bits] + count[bits]) << 1;
    }
    lengths
        .iter()
        .map(|l| {
            let l = usize::from(*l);
            if l == 0 {
                return 0;
            }
            let code = next[l];
            next[l] += 1;
            code.reverse_bits() >> (16 - l)
        })
        .collect()
}

/// Code lengths run-length encoded as deflate sends them: (symbol, extra bits value).
fn run_lengths(lengths: &[u8]) -> Vec<(u8, u8)> {
    let mut out = Vec::with_capacity(lengths.len());
    let mut i = 0;
    while i < lengths.len() {
        let l = lengths[i];
        let run = lengths[i..].iter().take_while(|x| **x == l).count();
        if l == 0 && run >= 11 {
            let n = run.min(138);
            out.push((18, (n - 11) as u8));
            i += n;
        } else if l == 0 && run >= 3 {
            out.push((17, (run - 3) as u8));
            i += run;
        } else if l != 0 && run >= 4 {
            out.push((l, 0));
            let n = (run - 1).min(6);
            out.push((16, (n - 3) as u8));
            i += 1 + n;
        } else {
            out.push((l, 0));
            i += 1;
        }
    }
    out
}

fn cl_extra_bits(symbol: u8) -> u32 {
    match symbol {
        16 => 2,
        17 => 3,
        18 => 7,
        _ => 0,
    }
}

/// A dynamic Huffman block's codes and header, ready to write.
struct Block {
    lit_lengths: Vec<u8>,
    dist_lengths: Vec<u8>,
    cl_lengths: Vec<u8>,
    runs: Vec<(u8, u8)>,
    hlit: usize,
    hdist: usize,
    hclen: usize,
    bits: u64,
}

impl Block {
    fn plan(tokens: &[Token]) -> Self {
        let mut lit = [0u32; LITLEN_CODES];
        let mut dist = [0u32; DIST_CODES];
        let mut extra = 0u64;
        for t in tokens {
            if t.is_match() {
                let code = usize::from(LEN_CODE[t.len()]);
                lit[257 + code] += 1;
                let d = dist_code(t.dist());
                dist[d] += 1;
                extra += u64::from(LEN_EXTRA[code]) + u64::from(DIST_EXTRA[d]);
            } else {
                lit[usize::from(t.byte())] += 1;
            }
        }
        lit[END_OF_BLOCK] += 1;
        // Two distance codes at least, so every decoder accepts the distance code as complete.
        for d in &mut dist[..2] {
            *d = (*d).max(1);
        }
        let lit_lengths = code_lengths(&lit, MAX_BITS);
        let dist_lengths = code_lengths(&dist, MAX_BITS);
        let hlit = 257
            + lit_lengths[257..]
                .iter()
                .rposition(|l| *l > 0)
                .map_or(0, |p| p + 1);
        let hdist = dist_lengths
            .iter()
            .rposition(|l| *l > 0)
            .map_or(1, |p| p + 1);
        let mut all = lit_lengths[..hlit].to_vec();
        all.extend_from_slice(&dist_lengths[..hdist]);
        let runs = run_lengths(&all);
        let mut cl = [0u32; CL_CODES];
        for (s, _) in &runs {
            cl[usize::from(*s)] += 1;
        }
        let cl_lengths = code_lengths(&cl, MAX_CL_BITS);
        let hclen = 4.max(
            CL_ORDER
                .iter()
                .rposition(|s| cl_lengths[*s] > 0)
                .map_or(0, |p| p + 1),
        );
        let sum = |freqs: &[u32], lengths: &[u8]| -> u64 {
            freqs
                .iter()
                .zip(lengths)
                .map(|(f, l)| u64::from(*f) * u64::from(*l))
                .sum()
        };
        let header = 3
            + 5
            + 5
            + 4
            + 3 * hclen as u64
            + runs
                .iter()
                .map(|(s, _)| u64::from(cl_lengths[usize::from(*s)]) + u64::from(cl_extra_bits(*s)))
                .sum::<u64>();
        let bits = header + sum(&lit, &lit_lengths) + sum(&dist, &dist_lengths) + extra;
        Self {
            lit_lengths,
            dist_lengths,
            cl_lengths,
            runs,
            hlit,
            hdist,
            hclen,
            bits,
        }
    }

    fn write(&self, tokens: &[Token], w: &mut BitWriter) {
        w.put(0b100, 3); // not final, dynamic Huffman
        w.put((self.hlit - 257) as u32, 5);
        w.put((self.hdist - 1) as u32, 5);
        w.put((self.hclen - 4) as u32, 4);
        for s in &CL_ORDER[..self.hclen] {
            w.put(u32::from(self.cl_lengths[*s]), 3);
        }
        let cl_codes = codes(&self.cl_lengths);
        for (s, extra) in &self.runs {
            let s = usize::from(*s);
            w.put(u32::from(cl_codes[s]), u32::from(self.cl_lengths[s]));
            let extra_bits = cl_extra_bits(s as u8);
            if extra_bits > 0 {
                w.put(u32::from(*extra), extra_bits);
            }
        }
        let lit_codes = codes(&self.lit_lengths);
        let dist_codes = codes(&self.dist_lengths);
        // Each code with its extra bits above it, in one write.
        for t in tokens {
            if t.is_match() {
                let len = t.len();
                let code = usize::from(LEN_CODE[len]);
                let bits = u32::from(self.lit_lengths[257 + code]);
                let extra = (len - usize::from(LEN_BASE[code])) as u32;
                w.put(
                    u32::from(lit_codes[257 + code]) | extra << bits,
                    bits + u32::from(LEN_EXTRA[code]),
                );
                let dist = t.dist();
                let d = dist_code(dist);
                let bits = u32::from(self.dist_lengths[d]);
                let extra = (dist - usize::from(DIST_BASE[d])) as u32;
                w.put(
                    u32::from(dist_codes[d]) | extra << bits,
                    bits + u32::from(DIST_EXTRA[d]),
                );
            } else {
                let b = usize::from(t.byte());
                w.put(u32::from(lit_codes[b]), u32::from(self.lit_lengths[b]));
            }
        }
        w.put(
            u32::from(lit_codes[END_OF_BLOCK]),
            u32::from(self.lit_lengths[END_OF_BLOCK]),
        );
    }
}

/// Largest stored block.
const STORED_MAX: usize = 65_535;

/// Writes `tokens`, which encode `data`, as one block: dynamic Huffman, or stored when that
/// would be smaller (noise).
pub fn write_block(tokens: &[Token], data: &[u8], w: &mut BitWriter) {
    let block = Block::plan(tokens);
    let stored_bits = 8 * data.len() as u64 + 40 * data.len().div_ceil(STORED_MAX).max(1) as u64;
    if block.bits <= stored_bits {
        block.write(tokens, w);
        return;
    }
    for chunk in data.chunks(STORED_MAX) {
        w.put(0, 3); // not final, stored
        w.align();
        let len = chunk.len() as u16;
        w.out.extend_from_slice(&len.to_le_bytes());
        w.out.extend_from_slice(&(!len).to_le_bytes());
        w.out.extend_from_slice(chunk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn inflate(stream: &[u8]) -> Vec<u8> {
        // A flushed stream has no final block: append one (empty, fixed Huffman) to end it.
        let mut whole = stream.to_vec();
        whole.extend_from_slice(&[0x03, 0x00]);
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(whole.as_slice())
            .read_to_end(&mut out)
            .expect("valid deflate");
        out
    }

    fn encode(tokens: &[Token], data: &[u8]) -> Vec<u8> {
        let mut w = BitWriter::new(data.len());
        write_block(tokens, data, &mut w);
        w.finish()
    }

    fn reparsed(data: &[u8], base: &[Token], row: usize) -> Vec<Token> {
        let mut tokens = Vec::new();
        reparse(data, 0, base, row, 3, &mut Recent::new(0), &mut tokens);
        tokens
    }

    fn check_tokens(tokens: &[Token], data: &[u8]) {
        let mut at = 0;
        for t in tokens {
            if t.is_match() {
                assert!(t.dist() <= at && t.dist() <= WINDOW, "{t:?} at {at}");
                for i in 0..t.len() {
                    assert_eq!(data[at + i], data[at + i - t.dist()], "{t:?} at {at}");
                }
            } else {
                assert_eq!(data[at], t.byte());
            }
            at += t.len();
        }
        assert_eq!(at, data.len());
    }

    fn noise(len: usize, seed: u32) -> Vec<u8> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 24) as u8
            })
            .collect()
    }

    /// Rows of a diagonal gradient with a few "glyphs" (flat runs and edges) drawn in.
    fn card_rows(width: usize, rows: usize, text: bool) -> Vec<u8> {
        let mut data = Vec::new();
        for y in 0..rows {
            data.push(0);
            for x in 0..width {
                let t = (x + 2 * y) as f32 / (width + 2 * rows) as f32;
                let mut px = [(20.0 + 60.0 * t) as u8, (16.0 + 30.0 * t) as u8, 40, 0];
                if text && (x / 7) % 3 == 0 && (y / 5) % 2 == 0 && x > 30 {
                    px = [238, 241, 255, 0];
                }
                data.extend_from_slice(&px[..3]);
            }
        }
        data
    }

    #[test]
    fn parse_round_trips() {
        for data in [
            Vec::new(),
            vec![7],
            vec![0; 100_000],
            noise(70_000, 1),
            card_rows(300, 40, false),
            card_rows(300, 40, true),
            b"abcabcabcabcabcab".repeat(999),
        ] {
            let tokens = parse(&data);
            check_tokens(&tokens, &data);
            assert_eq!(inflate(&encode(&tokens, &data)), data);
        }
    }

    /// `data` through an [`ImageDeflate`], written `chunk` bytes at a time.
    fn image_stream(data: &[u8], row: usize, bpp: usize, chunk: usize) -> Vec<u8> {
        let mut deflater = ImageDeflate::new(row, bpp, 32 * row, data.len());
        for part in data.chunks(chunk.max(1)) {
            deflater.input().extend_from_slice(part);
            deflater.compress();
        }
        deflater.finish()
    }

    #[test]
    fn image_streams_round_trip() {
        let row = 1 + 3 * 300;
        for data in [
            Vec::new(),
            vec![7],
            vec![0; 100_000],
            noise(70_000, 1),
            card_rows(300, 40, false),
            card_rows(300, 40, true),
            b"abcabcabcabcabcab".repeat(999),
            // Several windows long: history is dropped, and chains must not lead to reused
            // slots or dropped bytes.
            [
                card_rows(300, 100, true),
                noise(40_000, 2),
                card_rows(300, 100, true),
            ]
            .concat(),
        ] {
            for (row, bpp, chunk) in [(row, 3, 8 * row), (1 + 4 * 300, 4, 5_000), (2, 1, 1)] {
                let stream = image_stream(&data, row, bpp, chunk);
                assert_eq!(inflate(&stream), data, "row {row}, chunk {chunk}");
            }
        }
        // A gradient with text compresses well below a byte per pixel.
        let card = card_rows(300, 40, true);
        assert!(image_stream(&card, row, 3, 8 * row).len() < card.len() / 20);
    }

    #[test]
    fn reparse_keeps_what_still_matches_and_round_trips() {
        let width = 300;
        let row = 1 + 3 * width;
        let base = card_rows(width, 32, false);
        let drawn = card_rows(width, 32, true);
        let base_tokens = parse(&base);
        let tokens = reparsed(&drawn, &base_tokens, row);
        check_tokens(&tokens, &drawn);
        assert_eq!(inflate(&encode(&tokens, &drawn)), drawn);
        // Unchanged bytes keep every match of the base (and may find more where it had literals).
        assert!(reparsed(&base, &base_tokens, row).len() <= base_tokens.len());
        // Bytes unrelated to the base (and a base of other length) still encode faithfully.
        let other = noise(base.len() + 100, 9);
        let tokens = reparsed(&other, &base_tokens, row);
        check_tokens(&tokens, &other);
        assert_eq!(inflate(&encode(&tokens, &other)), other);
        // Much smaller than the data, and than a byte per pixel.
        assert!(encode(&reparsed(&drawn, &base_tokens, row), &drawn).len() < drawn.len() / 8);
    }

    #[test]
    fn noise_is_stored_not_inflated() {
        let data = noise(150_000, 3);
        let stream = encode(&parse(&data), &data);
        assert!(stream.len() < data.len() + 64, "{}", stream.len());
        assert_eq!(inflate(&stream), data);
    }

    #[test]
    fn code_lengths_stay_within_the_limit() {
        // Fibonacci frequencies make the deepest possible Huffman tree.
        let mut fib = vec![1u32, 1];
        while fib.len() < 40 {
            let n = fib[fib.len() - 1] + fib[fib.len() - 2];
            fib.push(n);
        }
        for limit in [7, 15] {
            let lengths = code_lengths(&fib, limit);
            assert!(lengths.iter().all(|l| (1..=limit as u8).contains(l)));
            // Complete (Kraft sum exactly 1) and so decodable.
            let kraft: f64 = lengths.iter().map(|l| 0.5f64.powi(i32::from(*l))).sum();
            assert!((kraft - 1.0).abs() < 1e-9, "{kraft}");
        }
        assert_eq!(code_lengths(&[0, 5, 0], 15), vec![0, 1, 0]);
        assert_eq!(code_lengths(&[0, 0], 15), vec![0, 0]);
    }

    #[test]
    fn code_tables_cover_every_length_and_distance() {
        for (len, code) in LEN_CODE.iter().enumerate().skip(MIN_MATCH) {
            let code = usize::from(*code);
            let base = usize::from(LEN_BASE[code]);
            assert!(len >= base && len - base < 1 << LEN_EXTRA[code], "{len}");
        }
        for dist in 1..=WINDOW {
            let code = dist_code(dist);
            let base = usize::from(DIST_BASE[code]);
            assert!(
                dist >= base && dist - base < 1 << DIST_EXTRA[code],
                "{dist}"
            );
        }
    }
}
