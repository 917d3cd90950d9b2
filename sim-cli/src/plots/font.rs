//! The built-in font. Plots use one font, DejaVu Sans (sim-cli/assets, Bitstream Vera licence),
//! compiled into the binary, registered with plotters' ab_glyph text renderer (which measures text
//! for the layout) and given to resvg (which draws the PNGs). Nothing is looked up on the system: no fontconfig, no font folders, so plots
//! render the same on a bare machine (tested with `FONTCONFIG_FILE=/nonexistent` and an empty
//! HOME).

use std::sync::{Arc, Once, OnceLock};

use resvg::usvg::fontdb::Database;

use plotters::style::{FontStyle, register_font};

/// The family name every text style of the plots uses. SVG files name it in `font-family`, so a
/// viewer falls back to its own sans-serif font; the layout was measured with DejaVu Sans.
pub const FAMILY: &str = "sans-serif";

/// The font's own family name, as resvg looks it up.
pub const NAME: &str = "DejaVu Sans";

/// DejaVu Sans Book.
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Registers the built-in font under [`FAMILY`] for every style (bold and italic fall back to the
/// book face: there is one font file). Safe to call any number of times.
pub fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold, FontStyle::Italic, FontStyle::Oblique] {
            // The bytes are a valid TrueType font, checked by the unit test below.
            if register_font(FAMILY, style, DEJAVU_SANS).is_err() {
                panic!("the built-in font DejaVuSans.ttf does not parse");
            }
        }
    });
}

/// A font database holding only the built-in font, which also answers for `sans-serif`.
pub fn database() -> Arc<Database> {
    static DATABASE: OnceLock<Arc<Database>> = OnceLock::new();
    DATABASE
        .get_or_init(|| {
            let mut db = Database::new();
            db.load_font_data(DEJAVU_SANS.to_vec());
            db.set_sans_serif_family(NAME);
            Arc::new(db)
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_font_parses_and_measures_text() {
        register();
        use plotters::style::IntoFont;
        let font = (FAMILY, 20).into_font();
        let (w, h) = font.box_size("share").expect("the registered font measures text");
        assert!(w > 20 && h > 5, "{w} x {h}");
        // Wider text measures wider.
        assert!(font.box_size("cost_per_resolved_need").unwrap().0 > w);
    }

    #[test]
    fn resvg_finds_the_built_in_font_for_sans_serif() {
        use resvg::usvg::fontdb::{Family, Query};
        let db = database();
        let query = Query { families: &[Family::SansSerif], ..Query::default() };
        assert!(db.query(&query).is_some(), "sans-serif resolves to no font");
        assert_eq!(db.faces().count(), 1, "only the built-in font, no system fonts");
    }
}
