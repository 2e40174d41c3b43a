//! The font library: loaded once per process, shared by every render and every thread.
//!
//! The bottom of the text stack: the faces, the families offered, usvg's font options and
//! per-character fallback, and what is derived from a face alone (its harfrust shaping data,
//! its glyph outlines). Imports nothing of the crate; shaping, layout and glyphs build on it.
use resvg::tiny_skia::Path as Outline;
use resvg::usvg::fontdb::{Database, Family, Query, Source, Style, ID};
use resvg::usvg::{
    FallbackSelectionFn, FontResolver, FontVariation, ImageHrefResolver, ImageKind, Options,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;

/// Families tried, in order, for characters the requested font lacks.
/// Colour emoji first for emoji code points, then one font per common script.
const FALLBACK_FAMILIES: &[&str] = &[
    "Noto Sans Arabic",
    "Heebo",
    "Noto Sans Devanagari",
    "Noto Sans Thai",
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK KR",
    // Latin extensions, Greek and Cyrillic the chosen family may lack.
    "Noto Sans",
    "Noto Color Emoji",
];
const EMOJI_FAMILY: &str = "Noto Color Emoji";
/// The family used when a document names none that is installed.
pub const DEFAULT_FAMILY: &str = "Inter";
/// Font files up to this size are read into memory once at start-up. fontdb re-opens and
/// re-maps a file-backed font on every access (per glyph outline, per text chunk), which cost
/// ~40 % of text parsing; the few larger files (CJK collections) stay file-backed.
const MAX_RESIDENT_FONT_BYTES: u64 = 12 * 1024 * 1024;

/// A font family as the service offers it.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyInfo {
    pub name: String,
    /// Static weights available (100–900) plus, for variable fonts, the whole `wght` range.
    pub weights: Vec<u16>,
    pub variable: bool,
}

/// Every font the renderer may use, loaded from the given directories.
pub struct FontLibrary {
    db: Arc<Database>,
    fallback: Arc<Vec<String>>,
    coverage: Mutex<HashMap<(String, char), bool>>,
    /// Shaping data of these faces, keyed the same way.
    shapers: Shapers,
}

impl FontLibrary {
    /// Loads every font file found (recursively) under `dirs`.
    pub fn load<P: AsRef<Path>>(dirs: &[P]) -> Self {
        let mut db = Database::new();
        let mut seen = HashSet::new();
        for dir in dirs {
            load_dir(&mut db, dir.as_ref(), &mut seen);
        }
        db.set_sans_serif_family(DEFAULT_FAMILY);
        db.set_serif_family("Noto Serif");
        db.set_monospace_family("JetBrains Mono");
        let installed: Vec<String> = FALLBACK_FAMILIES
            .iter()
            .filter(|f| query_family(&db, f, 400).is_some())
            .map(|f| f.to_string())
            .collect();
        Self {
            db: Arc::new(db),
            fallback: Arc::new(installed),
            coverage: Mutex::new(HashMap::new()),
            shapers: Shapers::default(),
        }
    }

    /// The shaping data of the faces `plain_text` shapes with.
    pub fn shapers(&self) -> &Shapers {
        &self.shapers
    }

    /// The font database every render uses.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Number of font faces loaded.
    pub fn face_count(&self) -> usize {
        self.db.len()
    }

    /// Whether `name` is an installed family (exact, case-insensitive match).
    pub fn resolve_family(&self, name: &str) -> Option<String> {
        self.db
            .faces()
            .flat_map(|f| f.families.iter())
            .find(|(fam, _)| fam.eq_ignore_ascii_case(name))
            .map(|(fam, _)| fam.clone())
    }

    /// The family that should draw `c` in text set in `primary`: the primary family when it
    /// has the glyph (emoji excepted), else the first script fallback that has it.
    ///
    /// Text is split into runs by this before it reaches usvg, because usvg's own per-glyph
    /// fallback gives up on mixed scripts whose shaping changes the glyph count (Arabic).
    pub fn family_for_char<'a>(&'a self, primary: &'a str, c: char) -> &'a str {
        if is_emoji(c) && self.covers(EMOJI_FAMILY, c) {
            return EMOJI_FAMILY;
        }
        if self.covers(primary, c) {
            return primary;
        }
        self.fallback
            .iter()
            .find(|f| self.covers(f, c))
            .map_or(primary, String::as_str)
    }

    /// Whether `family` has a glyph for `c` (cached).
    pub fn covers(&self, family: &str, c: char) -> bool {
        let key = (family.to_string(), c);
        if let Some(v) = self
            .coverage
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return *v;
        }
        let v = query_family(&self.db, family, 400).is_some_and(|id| has_char(&self.db, id, c));
        let mut cache = self.coverage.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() > 200_000 {
            cache.clear();
        }
        cache.insert(key, v);
        v
    }

    /// All installed families, sorted by name.
    pub fn families(&self) -> Vec<FamilyInfo> {
        let mut map: BTreeMap<String, FamilyInfo> = BTreeMap::new();
        for face in self.db.faces() {
            if face.style != Style::Normal {
                continue;
            }
            let Some((name, _)) = face.families.first() else {
                continue;
            };
            let variable = self.db.with_face_data(face.id, wght_range).flatten();
            let info = map.entry(name.clone()).or_insert_with(|| FamilyInfo {
                name: name.clone(),
                weights: Vec::new(),
                variable: false,
            });
            match variable {
                Some((lo, hi)) => {
                    info.variable = true;
                    info.weights
                        .extend((1..=9).map(|w| w * 100).filter(|w| *w >= lo && *w <= hi));
                }
                None => info.weights.push(face.weight.0),
            }
        }
        map.into_values()
            .map(|mut f| {
                f.weights.sort_unstable();
                f.weights.dedup();
                f
            })
            .collect()
    }

    /// usvg options that use this library, refuse every external resource and accept
    /// only PNG images embedded as `data:` URLs (the server re-encodes fetched images to PNG).
    pub fn options(&self) -> Options<'static> {
        Options {
            font_family: DEFAULT_FAMILY.to_string(),
            fontdb: Arc::clone(&self.db),
            image_href_resolver: ImageHrefResolver {
                resolve_data: Box::new(|_mime, data, _opts| {
                    data.starts_with(b"\x89PNG\r\n\x1a\n")
                        .then(|| ImageKind::PNG(data))
                }),
                resolve_string: Box::new(|_href, _opts| None),
            },
            font_resolver: FontResolver {
                select_font: FontResolver::default_font_selector(),
                select_fallback: fallback_selector(Arc::clone(&self.fallback)),
            },
            ..Options::default()
        }
    }
}

/// usvg's fallback for a character the chosen font lacks, in any `<text>` (fitted text has
/// its runs split by [`FontLibrary::family_for_char`] already, so it never gets here): the
/// same families in the same order — colour emoji first for emoji —, in the style, weight and
/// stretch of the text's own font; then, for fonts outside that list, usvg's default search of
/// the whole library (what resvg does).
fn fallback_selector(families: Arc<Vec<String>>) -> FallbackSelectionFn<'static> {
    let anywhere = FontResolver::default_fallback_selector();
    Box::new(move |c, used, db| {
        let base = db.face(*used.first()?)?;
        let (weight, stretch, style) = (base.weight, base.stretch, base.style);
        let emoji = is_emoji(c).then_some(EMOJI_FAMILY);
        emoji
            .into_iter()
            .chain(families.iter().map(String::as_str))
            .filter_map(|family| {
                db.query(&Query {
                    families: &[Family::Name(family)],
                    weight,
                    stretch,
                    style,
                })
            })
            .find(|id| !used.contains(id) && has_char(db, *id, c))
            .or_else(|| anywhere(c, used, db))
    })
}

/// Loads every font file under `dir` (recursively, following symlinks once), in directory order
/// like `Database::load_fonts_dir`, but keeping files of up to `MAX_RESIDENT_FONT_BYTES` in memory.
fn load_dir(db: &mut Database, dir: &Path, seen: &mut HashSet<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(path) = std::fs::canonicalize(entry.path()) else {
            continue;
        };
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !seen.insert(path.clone()) {
            continue;
        }
        if meta.is_dir() {
            load_dir(db, &path, seen);
        } else if meta.is_file() && is_font_file(&path) {
            let resident = (meta.len() <= MAX_RESIDENT_FONT_BYTES)
                .then(|| std::fs::read(&path).ok())
                .flatten();
            match resident {
                Some(data) => {
                    db.load_font_source(Source::Binary(Arc::new(data)));
                }
                // Unreadable or large: leave it to fontdb, which skips files it cannot parse.
                None => {
                    let _ = db.load_font_file(&path);
                }
            }
        }
    }
}

fn is_font_file(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        ["ttf", "ttc", "otf", "otc"]
            .iter()
            .any(|x| e.eq_ignore_ascii_case(x))
    })
}

fn query_family(db: &Database, name: &str, weight: u16) -> Option<ID> {
    db.query(&Query {
        families: &[Family::Name(name)],
        weight: resvg::usvg::fontdb::Weight(weight),
        ..Query::default()
    })
}

fn has_char(db: &Database, id: ID, c: char) -> bool {
    use skrifa::MetadataProvider;
    db.with_face_data(id, |data, index| {
        skrifa::FontRef::from_index(data, index)
            .ok()
            .and_then(|f| f.charmap().map(c))
            .is_some()
    })
    .unwrap_or(false)
}

/// Code points that should be drawn by the colour emoji font even if a text font has a glyph.
pub fn is_emoji(c: char) -> bool {
    matches!(c as u32, 0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0xFE0F | 0x200D)
}

/// The `wght` axis range of a variable font, if it has one.
fn wght_range(data: &[u8], index: u32) -> Option<(u16, u16)> {
    use skrifa::MetadataProvider;
    let font = skrifa::FontRef::from_index(data, index).ok()?;
    let axes = font.axes();
    let axis = axes.iter().find(|a| a.tag() == skrifa::Tag::new(b"wght"))?;
    Some((axis.min_value() as u16, axis.max_value() as u16))
}

/// harfrust's shaping data of each face used (its lookup caches), built once: usvg builds it
/// for every text, about a third of the shaping time. Caches only, so the glyphs are the
/// same. At most one entry per face of the library.
#[derive(Default)]
pub struct Shapers(Mutex<HashMap<ID, Arc<harfrust::ShaperData>>>);

impl Shapers {
    pub fn get(&self, id: ID, font: &harfrust::FontRef) -> Arc<harfrust::ShaperData> {
        let lock = || self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(data) = lock().get(&id) {
            return Arc::clone(data);
        }
        // Built outside the lock; two threads may both build it once.
        let data = Arc::new(harfrust::ShaperData::new(font));
        Arc::clone(lock().entry(id).or_insert(data))
    }
}

/// The outline of `glyph` in font units, as usvg reads it (skrifa, unhinted, at `variations`).
pub fn outline(
    db: &Database,
    font: ID,
    glyph: u32,
    variations: &[FontVariation],
) -> Option<Outline> {
    use resvg::tiny_skia::PathBuilder;
    use skrifa::outline::{DrawSettings, OutlinePen};
    use skrifa::MetadataProvider;
    struct Pen(PathBuilder);
    impl OutlinePen for Pen {
        fn move_to(&mut self, x: f32, y: f32) {
            self.0.move_to(x, y);
        }
        fn line_to(&mut self, x: f32, y: f32) {
            self.0.line_to(x, y);
        }
        fn quad_to(&mut self, cx0: f32, cy0: f32, x: f32, y: f32) {
            self.0.quad_to(cx0, cy0, x, y);
        }
        fn curve_to(&mut self, cx0: f32, cy0: f32, cx1: f32, cy1: f32, x: f32, y: f32) {
            self.0.cubic_to(cx0, cy0, cx1, cy1, x, y);
        }
        fn close(&mut self) {
            self.0.close();
        }
    }
    db.with_face_data(font, |data, index| {
        let font = skrifa::FontRef::from_index(data, index).ok()?;
        let outline = font.outline_glyphs().get(skrifa::GlyphId::new(glyph))?;
        let location = font.axes().location(
            variations
                .iter()
                .map(|v| (skrifa::Tag::from_be_bytes(v.tag), v.value)),
        );
        let mut pen = Pen(PathBuilder::new());
        let size = skrifa::prelude::Size::unscaled();
        outline
            .draw(DrawSettings::unhinted(size, &location), &mut pen)
            .ok()?;
        pen.0.finish()
    })?
}
