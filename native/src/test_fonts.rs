//! The fonts the Rust tests render with: the service's own font directories, found robustly.
//!
//! `OGMINT_TEST_FONT_DIRS` (a `PATH`-style list, set by `make test`) names them; without it they are
//! asked of the project's Python (`../.venv/bin/python`, or `OGMINT_PYTHON`), which knows where
//! the `fontpkg-*` packages and Debian fonts are. Missing directories or a library without the
//! families the tests rely on fail the tests loudly instead of quietly rendering without text.
use crate::engine::Engine;
use crate::fonts::FontLibrary;
use crate::render::Limits;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Families the tests draw with: the default, and the Hebrew and Arabic fallbacks.
const REQUIRED: &[&str] = &["Inter", "Heebo", "Noto Sans Arabic"];

const ASK_PYTHON: &str =
    "from ogmint.rendering.native import bundled_font_dirs; print('\\n'.join(bundled_font_dirs()))";

fn font_dirs() -> Vec<PathBuf> {
    if let Some(list) = std::env::var_os("OGMINT_TEST_FONT_DIRS") {
        return std::env::split_paths(&list).collect();
    }
    let python = std::env::var_os("OGMINT_PYTHON").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python"),
        PathBuf::from,
    );
    let out = Command::new(&python)
        .args(["-c", ASK_PYTHON])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "no OGMINT_TEST_FONT_DIRS and {} could not be run ({e}); run `make setup` or set \
                 OGMINT_TEST_FONT_DIRS",
                python.display()
            )
        });
    assert!(
        out.status.success(),
        "{} could not list the font directories: {}",
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(PathBuf::from)
        .collect()
}

/// The font library of [`engine`].
pub fn library() -> &'static FontLibrary {
    engine().fonts()
}

/// The engine every test shares (default limits), its fonts loaded once.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let dirs = font_dirs();
        assert!(!dirs.is_empty(), "no font directories found");
        for dir in &dirs {
            assert!(
                dir.is_dir(),
                "font directory {} does not exist",
                dir.display()
            );
        }
        let fonts = FontLibrary::load(&dirs);
        assert!(fonts.face_count() > 0, "no font loaded from {dirs:?}");
        for family in REQUIRED {
            assert!(
                fonts.resolve_family(family).is_some(),
                "family {family} is not in {dirs:?}"
            );
        }
        Engine::with_fonts(fonts, Limits::default())
    })
}

/// An engine without fonts, for tests that draw no text.
pub fn fontless(limits: Limits) -> Engine {
    Engine::with_fonts(FontLibrary::load::<&str>(&[]), limits)
}
