//! The built-in font. Plots use one font, DejaVu Sans (sim-cli/assets, Bitstream Vera licence),
//! compiled into the binary and registered with plotters' ab_glyph text renderer before the first
//! figure is drawn. Nothing is looked up on the system: no fontconfig, no font folders, so plots
//! render the same on a bare machine (tested with `FONTCONFIG_FILE=/nonexistent` and an empty
//! HOME).

use std::sync::Once;

use plotters::style::{FontStyle, register_font};

/// The family name every text style of the plots uses. SVG files name it in `font-family`, so a
/// viewer falls back to its own sans-serif font; the layout was measured with DejaVu Sans.
pub const FAMILY: &str = "sans-serif";

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
}
