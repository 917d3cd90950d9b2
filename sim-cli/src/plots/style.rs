//! The look shared by every figure: the colour-blind-safe palette for scenarios and series, the
//! colour map for heatmaps, text sizes, number formats for ticks and tables, and axis labels with
//! units.

use plotters::style::{IntoFont, RGBColor, TextStyle};
use sim_core::metrics::Metric;

use super::font::FAMILY;
use crate::words::{significant, trim_zeros};

/// The Okabe-Ito palette (Okabe & Ito 2008, "Color universal design"), distinguishable with the
/// common colour-vision deficiencies. Ordered for a white background: the two strongest contrasts
/// first (the usual two-scenario comparison gets blue and vermillion), yellow last.
pub const OKABE_ITO: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x00, 0x00, 0x00), // black
    RGBColor(0xF0, 0xE4, 0x42), // yellow
];

/// Colour of the `i`-th scenario (or series) in file order; repeats after eight.
pub fn colour(i: usize) -> RGBColor {
    OKABE_ITO[i % OKABE_ITO.len()]
}

/// Grey for grids, reference lines and missing cells.
pub const GREY: RGBColor = RGBColor(0x99, 0x99, 0x99);
pub const LIGHT_GREY: RGBColor = RGBColor(0xE6, 0xE6, 0xE6);
pub const DARK: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// Subtitles and notes.
pub const SUBTLE: RGBColor = RGBColor(0x55, 0x55, 0x55);

/// Opacity of a 95% confidence band.
pub const BAND_ALPHA: f64 = 0.18;

/// Viridis (van der Walt & Smith, matplotlib's default colour map): perceptually uniform,
/// readable in grey and with colour-vision deficiencies. Nine stops, linearly interpolated.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (0x44, 0x01, 0x54),
    (0x47, 0x2c, 0x7a),
    (0x3b, 0x51, 0x8b),
    (0x2c, 0x71, 0x8e),
    (0x21, 0x90, 0x8d),
    (0x27, 0xad, 0x81),
    (0x5c, 0xc8, 0x63),
    (0xaa, 0xdc, 0x32),
    (0xfd, 0xe7, 0x25),
];

/// The colour of `t` in [0, 1] (clamped) on the viridis map: dark purple (low) to yellow (high).
pub fn viridis(t: f64) -> RGBColor {
    along(&VIRIDIS, if t.is_finite() { t } else { 0.0 })
}

/// The colour at `t` (clamped to [0, 1]) along `stops`, interpolated linearly between them.
fn along(stops: &[(u8, u8, u8)], t: f64) -> RGBColor {
    let x = t.clamp(0.0, 1.0) * (stops.len() - 1) as f64;
    let i = (x.floor() as usize).min(stops.len() - 2);
    let f = x - i as f64;
    let (a, b) = (stops[i], stops[i + 1]);
    let mix = |p: u8, q: u8| (p as f64 + (q as f64 - p as f64) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// ColorBrewer's PuOr, orange (low) through near-white (middle) to purple (high): a diverging
/// scale that colour-blind readers can tell apart.
const PUOR: [(u8, u8, u8); 9] = [
    (0xb3, 0x58, 0x06),
    (0xe0, 0x82, 0x14),
    (0xfd, 0xb8, 0x63),
    (0xfe, 0xe0, 0xb6),
    (0xf7, 0xf7, 0xf7),
    (0xd8, 0xda, 0xeb),
    (0xb2, 0xab, 0xd2),
    (0x80, 0x73, 0xac),
    (0x54, 0x27, 0x88),
];

/// A diverging colour at `t` in [0, 1]; 0.5 is the neutral middle.
pub fn diverging(t: f64) -> RGBColor {
    along(&PUOR, if t.is_finite() { t } else { 0.5 })
}

/// The colours of one metric's values: viridis from its least to its greatest value, or, when
/// its values take both signs, a diverging scale symmetric about zero so that zero is the
/// neutral middle and a sign is readable at a glance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColourScale {
    pub lo: f64,
    pub hi: f64,
    pub diverging: bool,
}

impl ColourScale {
    /// The scale for values from `lo` to `hi`.
    pub fn new(lo: f64, hi: f64) -> ColourScale {
        if lo < 0.0 && hi > 0.0 {
            let m = lo.abs().max(hi);
            ColourScale { lo: -m, hi: m, diverging: true }
        } else {
            ColourScale { lo, hi, diverging: false }
        }
    }

    /// Where `v` falls on the scale, 0 to 1.
    pub fn position(&self, v: f64) -> f64 {
        if self.hi > self.lo { (v - self.lo) / (self.hi - self.lo) } else { 0.5 }
    }

    /// The colour at position `t` (0 to 1) along the scale.
    pub fn at(&self, t: f64) -> RGBColor {
        if self.diverging { diverging(t) } else { viridis(t) }
    }

    /// The colour of value `v`.
    pub fn colour(&self, v: f64) -> RGBColor {
        self.at(self.position(v))
    }
}

/// Whether text on `c` should be white rather than black (relative luminance below a half).
pub fn is_dark(c: RGBColor) -> bool {
    0.2126 * f64::from(c.0) + 0.7152 * f64::from(c.1) + 0.0722 * f64::from(c.2) < 128.0
}

/// How figures are drawn: for a screen or a document (the default), or for a projector in a
/// room (`--style projector`: type 1.5 times larger, thicker lines, larger panels and so fewer
/// of them per row).
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlotStyle {
    #[default]
    Screen,
    Projector,
}

thread_local! {
    static PLOT_STYLE: std::cell::Cell<PlotStyle> = const { std::cell::Cell::new(PlotStyle::Screen) };
}

/// Sets the style of the figures drawn from now on by this thread.
pub fn set_plot_style(s: PlotStyle) {
    PLOT_STYLE.with(|c| c.set(s));
}

pub fn plot_style() -> PlotStyle {
    PLOT_STYLE.with(|c| c.get())
}

/// What the figures and their words are drawn with, set a thread at a time: the plot style and
/// the currency symbol (`words::set_currency`).
struct Settings {
    style: PlotStyle,
    currency: String,
}

impl Settings {
    fn here() -> Self {
        Settings { style: plot_style(), currency: crate::words::currency() }
    }

    fn set(&self) {
        set_plot_style(self.style);
        crate::words::set_currency(&self.currency);
    }

    /// `f` run under these settings; the thread's own are put back after.
    fn apply<R>(&self, f: impl FnOnce() -> R) -> R {
        let before = Settings::here();
        self.set();
        let r = f();
        before.set();
        r
    }
}

/// Runs `a` and `b` as `rayon::join` does (on two threads when the pool has them; called from
/// outside the pool, both on its threads), each under this thread's style and currency.
pub fn join<RA: Send, RB: Send>(a: impl FnOnce() -> RA + Send, b: impl FnOnce() -> RB + Send) -> (RA, RB) {
    let settings = Settings::here();
    rayon::join(|| settings.apply(a), || settings.apply(b))
}

/// `f` of each item, in order, drawn as rayon's `par_iter` does (several at once when the pool has
/// the threads), each under this thread's style and currency.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use rayon::prelude::*;
    let settings = Settings::here();
    items.par_iter().map(|x| settings.apply(|| f(x))).collect()
}

/// `size` pixels at the current style: text sizes, label areas and panel sizes all scale with it,
/// so a projector figure keeps the layout of a screen figure, only larger.
pub fn px(size: u32) -> u32 {
    match plot_style() {
        PlotStyle::Screen => size,
        PlotStyle::Projector => (size * 3).div_ceil(2),
    }
}

/// The width of a data line at the current style.
pub fn line_width() -> u32 {
    match plot_style() {
        PlotStyle::Screen => 2,
        PlotStyle::Projector => 4,
    }
}

/// Text sizes in pixels (at the screen style; see [`px`]).
pub const TITLE: u32 = 22;
pub const CAPTION: u32 = 17;
pub const LABEL: u32 = 15;
pub const TICK: u32 = 13;
pub const NOTE: u32 = 13;

/// The text style of `size` pixels in the built-in font.
pub fn text(size: u32) -> TextStyle<'static> {
    (FAMILY, px(size)).into_font().into()
}

/// The unit of a metric as its axis label: the unit `Metric::unit()` gives, spelled out where
/// the bare unit would read oddly. Unknown names (a metric of a newer version) get no unit.
pub fn unit_label(metric: &str) -> String {
    match Metric::from_name(metric).map(Metric::unit) {
        Some("0..1") => "index, 0..1".to_string(),
        Some("share") => "share, 0..1".to_string(),
        Some(u) => u.replace("currency", &crate::words::currency()),
        None => String::new(),
    }
}

/// `metric (unit)`, or the bare name when the unit is unknown.
pub fn with_unit(metric: &str) -> String {
    match unit_label(metric) {
        u if u.is_empty() => metric.to_string(),
        u => format!("{metric} ({u})"),
    }
}

/// Formats tick labels of an axis spanning `lo..hi`: enough decimals to tell ticks apart (about
/// ten ticks), trailing zeros trimmed, thousands (k) and millions (M) for large magnitudes.
#[derive(Debug, Clone, Copy)]
pub struct Ticks {
    scale: f64,
    suffix: &'static str,
    decimals: usize,
}

impl Ticks {
    pub fn for_range(lo: f64, hi: f64) -> Self {
        let biggest = lo.abs().max(hi.abs());
        let (scale, suffix) = if biggest >= 1e6 {
            (1e6, "M")
        } else if biggest >= 1e5 {
            (1e3, "k")
        } else {
            (1.0, "")
        };
        let span = ((hi - lo) / scale).abs();
        let decimals = if span > 0.0 && span.is_finite() { (1.0 - (span / 10.0).log10().floor()).clamp(0.0, 8.0) as usize } else { 3 };
        Self { scale, suffix, decimals }
    }

    pub fn format(&self, v: f64) -> String {
        if !v.is_finite() {
            return String::new();
        }
        let s = trim_zeros(format!("{:.*}", self.decimals, v / self.scale));
        let s = if s == "-0" { "0".to_string() } else { s };
        format!("{s}{}", self.suffix)
    }
}

/// A number for tables and cell labels: four significant digits, NaN as an en dash.
pub fn number(v: f64) -> String {
    significant(v, 4)
}

/// About `count` round tick positions (steps of 1, 2 or 5 times a power of ten) within `lo..hi`.
pub fn nice_ticks(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    if !lo.is_finite() || !hi.is_finite() || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / count.max(1) as f64;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * power).find(|s| *s >= raw).unwrap_or(10.0 * power);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    // Multiples of the step, so 0.1 + 0.2 drift does not show in the labels.
    (first..=last).map(|k| k as f64 * step).collect()
}

/// The `p`-quantile (0..1) of the finite `values` (NaN if none), by linear interpolation.
pub fn quantile(values: impl IntoIterator<Item = f64>, p: f64) -> f64 {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    sim_core::metrics::quantile_sorted(&v, p)
}

/// Lower and upper limits of an axis showing `values` (finite ones), padded by 5% so marks do not
/// sit on the frame; a flat or empty set gets a unit-wide range around its value.
pub fn padded_range(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo <= f64::EPSILON * lo.abs().max(1.0) {
        let half = if lo == 0.0 { 0.5 } else { lo.abs() * 0.1 };
        return (lo - half, hi + half);
    }
    // An axis no narrower than 5% of the values' magnitude, so a change in the fourth digit
    // (a Gini of 0.13944 against 0.13952) draws as the flat line it is, not as a cliff.
    let min_span = MIN_RELATIVE_SPAN * lo.abs().max(hi.abs());
    if hi - lo < min_span {
        let mid = (lo + hi) / 2.0;
        return (mid - min_span / 2.0, mid + min_span / 2.0);
    }
    let pad = 0.05 * (hi - lo);
    (lo - pad, hi + pad)
}

/// The narrowest axis span as a share of the largest magnitude shown (see [`padded_range`]).
pub const MIN_RELATIVE_SPAN: f64 = 0.05;

/// A file-name-safe form of a name (parameter paths such as `need_types[0].rate_per_year`):
/// ASCII letters, digits, `.`, `-` and `_` kept, anything else `_`.
pub fn file_stem(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_drawing_keeps_the_callers_style_and_currency() {
        // Called from a thread outside rayon's pool, both closures run on the pool's threads.
        set_plot_style(PlotStyle::Projector);
        crate::words::set_currency("€");
        let seen = || (plot_style(), crate::words::currency(), std::thread::current().id());
        let (a, b) = join(seen, seen);
        let mapped = par_map(&[1, 2, 3, 4], |&k| (k, plot_style(), crate::words::currency()));
        assert_eq!(mapped.iter().map(|m| m.0).collect::<Vec<_>>(), vec![1, 2, 3, 4], "in order");
        assert!(mapped.iter().all(|m| m.1 == PlotStyle::Projector && m.2 == "€"), "{mapped:?}");
        for (style, currency, _) in [&a, &b] {
            assert_eq!((*style, currency.as_str()), (PlotStyle::Projector, "€"));
        }
        assert_ne!(a.2, std::thread::current().id(), "the test ran on rayon's threads");
        // A pool thread lent to the drawing has its own settings back after.
        let after = rayon::join(seen, seen);
        for (style, currency, id) in [after.0, after.1] {
            if id != std::thread::current().id() {
                assert_eq!((style, currency.as_str()), (PlotStyle::Screen, crate::words::DEFAULT_CURRENCY));
            }
        }
        set_plot_style(PlotStyle::Screen);
        crate::words::set_currency(crate::words::DEFAULT_CURRENCY);
    }

    #[test]
    fn values_of_both_signs_diverge_about_zero() {
        let signed = ColourScale::new(-1.0, 3.0);
        assert!(signed.diverging);
        assert_eq!((signed.lo, signed.hi), (-3.0, 3.0), "symmetric about zero");
        assert_eq!(signed.colour(0.0), RGBColor(0xf7, 0xf7, 0xf7), "zero is the pale middle");
        // Below zero orange (red above blue), above zero purple (blue above green).
        let (below, above) = (signed.colour(-2.0), signed.colour(2.0));
        assert!(below.0 > below.2 && above.2 > above.1, "{below:?} {above:?}");
        // One sign only: viridis over the values' own range.
        let positive = ColourScale::new(0.2, 0.6);
        assert!(!positive.diverging);
        assert_eq!(positive.colour(0.2), viridis(0.0));
        assert_eq!(positive.colour(0.6), viridis(1.0));
    }

    #[test]
    fn palette_is_okabe_ito_distinct_and_repeats() {
        let mut seen: Vec<RGBColor> = Vec::new();
        for i in 0..8 {
            assert!(!seen.contains(&colour(i)), "colour {i} repeats an earlier one");
            seen.push(colour(i));
        }
        // The two-scenario comparison: Okabe-Ito blue and vermillion.
        assert_eq!(colour(0), RGBColor(0, 114, 178));
        assert_eq!(colour(1), RGBColor(213, 94, 0));
        assert_eq!(colour(8), colour(0));
        // Every palette colour is one of the eight Okabe-Ito colours.
        let okabe_ito = ["000000", "E69F00", "56B4E9", "009E73", "F0E442", "0072B2", "D55E00", "CC79A7"];
        for c in OKABE_ITO {
            assert!(okabe_ito.contains(&format!("{:02X}{:02X}{:02X}", c.0, c.1, c.2).as_str()));
        }
    }

    #[test]
    fn viridis_runs_dark_to_light() {
        assert_eq!(viridis(0.0), RGBColor(0x44, 0x01, 0x54));
        assert_eq!(viridis(1.0), RGBColor(0xfd, 0xe7, 0x25));
        assert_eq!(viridis(-3.0), viridis(0.0));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        assert!(is_dark(viridis(0.1)) && !is_dark(viridis(0.95)));
    }

    #[test]
    fn ticks_tell_neighbours_apart() {
        let t = Ticks::for_range(0.0, 0.5);
        assert_eq!((t.format(0.05), t.format(0.1), t.format(0.0)), ("0.05".into(), "0.1".into(), "0".into()));
        let t = Ticks::for_range(0.0, 400.0);
        assert_eq!(t.format(150.0), "150");
        let t = Ticks::for_range(0.0, 2.5e6);
        assert_eq!(t.format(1.5e6), "1.5M");
        assert_eq!(number(1234.5678), "1235");
        assert_eq!(number(0.0123456), "0.01235");
        assert_eq!(number(f64::NAN), "\u{2013}");
        assert_eq!(significant(0.073031, 3), "0.073");
        let t = nice_ticks(0.0, 1.0, 5);
        assert_eq!(t.len(), 6);
        assert!((t[3] - 0.6).abs() < 1e-12);
        assert_eq!(nice_ticks(3.0, 27.0, 5), vec![5.0, 10.0, 15.0, 20.0, 25.0]);
    }

    #[test]
    fn axes_do_not_magnify_noise() {
        let (lo, hi) = padded_range([0.13944, 0.13952]);
        assert!(hi - lo >= 0.05 * 0.13952 - 1e-12 && lo < 0.13944 && hi > 0.13952, "{lo} {hi}");
        // A real spread keeps the 5% padding.
        assert_eq!(padded_range([0.0, 10.0]), (-0.5, 10.5));
    }

    #[test]
    fn units_label_axes() {
        assert_eq!(unit_label("wait_mean_days"), "days");
        assert_eq!(unit_label("failure_demand_share"), "share, 0..1");
        assert_eq!(with_unit("no_such_metric"), "no_such_metric");
        assert_eq!(file_stem("need_types[0].rate_per_year"), "need_types_0_.rate_per_year");
    }
}
