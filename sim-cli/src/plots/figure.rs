//! One figure, two files: a [`Figure`] draws onto any plotters backend, and [`save`] draws it
//! into `STEM.svg` (vector, for documents) and rasterises that into `STEM.png` (for the report and
//! slides). Both are deterministic: the same inputs give the same bytes. Each file is written
//! under a temporary name and renamed, so a reader never sees half a file.
//!
//! Also here: the figure header (title, subtitle, legend) and small drawing helpers shared by the
//! plot modules.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::font::{self, FAMILY};
use super::style::{self, DARK, GREY, NOTE, TITLE};

/// A drawing area in pixels.
pub type Area<DB> = DrawingArea<DB, Shift>;
/// The result of drawing on backend `DB`.
pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Something that can be drawn on a canvas of a fixed size.
pub trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws onto `root`, already filled white.
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB>;
}

fn failed<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> io::Error {
    io::Error::other(format!("drawing failed: {e}"))
}

/// Draws `fig` into `dir/STEM.png` and `dir/STEM.svg`; returns both paths (PNG first). The PNG
/// is the SVG rasterised, so both files show the same text in the same places.
pub fn save<F: Figure>(fig: &F, dir: &Path, stem: &str) -> io::Result<Vec<PathBuf>> {
    let (w, h) = fig.size();
    let svg = render_svg(fig)?;
    let rgb = rasterise(&svg, w, h)?;
    let png_path = dir.join(format!("{stem}.png"));
    let svg_path = dir.join(format!("{stem}.svg"));
    write_file(&png_path, &encode_png(&rgb, w, h)?)?;
    write_file(&svg_path, svg.as_bytes())?;
    Ok(vec![png_path, svg_path])
}

/// `svg` drawn on a white `w` x `h` canvas by resvg with the built-in font, as RGB bytes.
fn rasterise(svg: &str, w: u32, h: u32) -> io::Result<Vec<u8>> {
    use resvg::{tiny_skia, usvg};
    let options = usvg::Options { fontdb: font::database(), font_family: font::NAME.into(), ..usvg::Options::default() };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| io::Error::other(format!("plot SVG does not parse: {e}")))?;
    let mut pixmap = tiny_skia::Pixmap::new(w, h).ok_or_else(|| io::Error::other(format!("plot of {w} x {h} pixels")))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    // Opaque (white underneath), so the premultiplied colours are the colours.
    Ok(pixmap.data().chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect())
}

/// The SVG text of `fig`.
pub fn render_svg<F: Figure>(fig: &F) -> io::Result<String> {
    font::register();
    let (w, h) = fig.size();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        fig.draw(&root).map_err(failed)?;
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

/// `text` broken into lines of at most `width` pixels at `size` (at spaces; a word longer than
/// the width gets a line of its own).
pub fn wrap(text: &str, width: u32, size: u32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if !line.is_empty() && text_width(&candidate, size) > width {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// An 8-bit RGB PNG of `rgb` (row-major, 3 bytes a pixel).
fn encode_png(rgb: &[u8], w: u32, h: u32) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(io::Error::other)?;
        writer.write_image_data(rgb).map_err(io::Error::other)?;
        writer.finish().map_err(io::Error::other)?;
    }
    Ok(out)
}

/// Writes through `.NAME.tmp` beside `path` and renames it into place.
pub fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, path)).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

/// Width of `text` at `size` pixels in the built-in font.
pub fn text_width(text: &str, size: u32) -> u32 {
    pixel_width(text, style::px(size))
}

/// Width of `text` at exactly `size` pixels (no style scaling).
pub fn pixel_width(text: &str, size: u32) -> u32 {
    font::register();
    (FAMILY, size).into_font().box_size(text).map(|(w, _)| w).unwrap_or(size * text.chars().count() as u32 / 2)
}

/// How a legend entry is marked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mark {
    /// A solid line over a light band (a mean with its 95% CI).
    Band,
    Line,
    Dashed,
    Dot,
    Bar,
}

/// One legend entry.
#[derive(Debug, Clone)]
pub struct Key {
    pub label: String,
    pub colour: RGBColor,
    pub mark: Mark,
}

impl Key {
    pub fn new(label: impl Into<String>, colour: RGBColor, mark: Mark) -> Self {
        Self { label: label.into(), colour, mark }
    }
}

const SWATCH: i32 = 26;
const KEY_GAP: i32 = 22;
const KEY_ROW: i32 = 24;

/// Positions (x, row) of legend entries wrapped to `width`, and the number of rows.
fn legend_layout(keys: &[Key], width: i32) -> (Vec<(i32, i32)>, i32) {
    let (mut x, mut row) = (0, 0);
    let mut at = Vec::with_capacity(keys.len());
    for k in keys {
        let w = SWATCH + 6 + text_width(&k.label, style::LABEL) as i32;
        if x > 0 && x + w > width {
            x = 0;
            row += 1;
        }
        at.push((x, row));
        x += w + KEY_GAP;
    }
    (at, if keys.is_empty() { 0 } else { row + 1 })
}

/// The header of a figure: a title, an optional grey subtitle (how to read it) and a legend.
pub struct Header<'a> {
    pub title: &'a str,
    pub subtitle: Option<&'a str>,
    pub keys: &'a [Key],
}

const MARGIN: i32 = 16;

impl Header<'_> {
    /// Height in pixels on a figure `width` wide.
    pub fn height(&self, width: u32) -> u32 {
        let (_, rows) = legend_layout(self.keys, width as i32 - 2 * MARGIN);
        let sub = self.subtitle_lines(width).len() as i32;
        let (title, note, key_row) = (style::px(TITLE) as i32, style::px(NOTE) as i32, style::px(KEY_ROW as u32) as i32);
        (12 + title + 8 + sub * (note + 6) + if sub > 0 { 2 } else { 0 } + rows * key_row + 6) as u32
    }

    /// The subtitle wrapped to the figure's width, so it is never cut off.
    fn subtitle_lines(&self, width: u32) -> Vec<String> {
        self.subtitle.map(|s| wrap(s, width.saturating_sub(2 * MARGIN as u32), NOTE)).unwrap_or_default()
    }

    /// Draws the header at the top of `root`; returns the area below it.
    pub fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Result<Area<DB>, DrawingAreaErrorKind<DB::ErrorType>> {
        let (w, _) = root.dim_in_pixel();
        let (top, rest) = root.split_vertically(self.height(w));
        let mut y = 12;
        top.draw(&Text::new(self.title.to_string(), (MARGIN, y), style::text(TITLE).color(&DARK)))?;
        y += style::px(TITLE) as i32 + 8;
        let lines = self.subtitle_lines(w);
        for line in &lines {
            top.draw(&Text::new(line.clone(), (MARGIN, y), style::text(NOTE).color(&style::SUBTLE)))?;
            y += style::px(NOTE) as i32 + 6;
        }
        if !lines.is_empty() {
            y += 2;
        }
        let (at, _) = legend_layout(self.keys, w as i32 - 2 * MARGIN);
        for (k, (x, row)) in self.keys.iter().zip(at) {
            let key_row = style::px(KEY_ROW as u32) as i32;
            let (x, yy) = (MARGIN + x, y + row * key_row);
            let mid = yy + key_row / 2 - 2;
            let c = k.colour;
            match k.mark {
                Mark::Band => {
                    top.draw(&Rectangle::new([(x, mid - 7), (x + SWATCH, mid + 7)], c.mix(style::BAND_ALPHA).filled()))?;
                    top.draw(&PathElement::new(vec![(x, mid), (x + SWATCH, mid)], c.stroke_width(2)))?;
                }
                Mark::Line => top.draw(&PathElement::new(vec![(x, mid), (x + SWATCH, mid)], c.stroke_width(2)))?,
                Mark::Dashed => {
                    for s in [0, 10, 20] {
                        top.draw(&PathElement::new(vec![(x + s, mid), (x + (s + 6).min(SWATCH), mid)], c.stroke_width(2)))?;
                    }
                }
                Mark::Dot => top.draw(&Circle::new((x + SWATCH / 2, mid), 5, c.filled()))?,
                Mark::Bar => top.draw(&Rectangle::new([(x + 3, mid - 7), (x + SWATCH - 3, mid + 7)], c.filled()))?,
            }
            let anchor = Pos::new(HPos::Left, VPos::Center);
            top.draw(&Text::new(k.label.clone(), (x + SWATCH + 6, mid), style::text(style::LABEL).color(&DARK).pos(anchor)))?;
        }
        Ok(rest)
    }
}

/// A grid of `n` panels, `columns` wide at most: (rows, columns).
pub fn grid(n: usize, columns: usize) -> (usize, usize) {
    let c = n.clamp(1, columns.max(1));
    (n.div_ceil(c).max(1), c)
}

/// Writes `message` in the middle of `area` (a panel with nothing to show), under `caption`.
pub fn empty_panel<DB: DrawingBackend>(area: &Area<DB>, caption: &str, message: &str) -> DrawResult<DB> {
    let (w, h) = area.dim_in_pixel();
    let centre = Pos::new(HPos::Center, VPos::Center);
    area.draw(&Text::new(caption.to_string(), (w as i32 / 2, 16), style::text(style::CAPTION).color(&DARK).pos(centre)))?;
    area.draw(&Text::new(message.to_string(), (w as i32 / 2, h as i32 / 2), style::text(style::LABEL).color(&GREY).pos(centre)))
}

/// Room for the tick labels of a value axis spanning `lo..hi` plus the rotated axis label.
pub fn y_label_room(ticks: &style::Ticks, lo: f64, hi: f64) -> u32 {
    let widest = [lo, hi, (lo + hi) / 2.0].iter().map(|v| text_width(&ticks.format(*v), style::TICK)).max().unwrap_or(30);
    widest + 14 + style::px(style::LABEL) + 10
}

/// A linear axis over `lo..hi` with ticks exactly at `ticks`: category positions (0, 1, 2, ...)
/// or the levels of a sweep parameter. (plotters' `with_key_points` does not accept a custom
/// label formatter on f64 axes, so this small axis type stands in for it.)
pub struct FixedTicks {
    pub lo: f64,
    pub hi: f64,
    pub ticks: Vec<f64>,
}

impl FixedTicks {
    pub fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Self {
        Self { lo, hi, ticks }
    }

    /// Categories 0..n, each in a unit-wide slot.
    pub fn categories(n: usize) -> Self {
        Self::new(-0.5, n as f64 - 0.5, (0..n).map(|i| i as f64).collect())
    }
}

impl Ranged for FixedTicks {
    type ValueType = f64;
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        if self.hi == self.lo {
            return (limit.0 + limit.1) / 2;
        }
        let t = (v - self.lo) / (self.hi - self.lo);
        limit.0 + ((limit.1 - limit.0) as f64 * t + 1e-3).floor() as i32
    }

    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Bold grid lines and labels at the ticks; no light lines.
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// The segments of consecutive indices where `ok(i)` holds (gaps split lines and bands).
pub fn runs(n: usize, ok: impl Fn(usize) -> bool) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for i in 0..=n {
        match (start, i < n && ok(i)) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                out.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Text boxes of an SVG drawn by plotters, for layout tests: each `<text>` element's content and
/// its extent in pixels (x0, y0, x1, y1), measured in the built-in font at the size it was drawn.
#[cfg(test)]
pub fn text_boxes(svg: &str) -> Vec<(String, [f64; 4])> {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let key = format!(" {name}=\"");
        let start = tag.find(&key)? + key.len();
        Some(tag[start..].split('"').next()?.to_string())
    };
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("<text ") {
        rest = &rest[i..];
        let Some(end_tag) = rest.find('>') else { break };
        let tag = &rest[..end_tag];
        let Some(close) = rest.find("</text>") else { break };
        let content = rest[end_tag + 1..close].trim().replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
        rest = &rest[close..];
        let num = |n: &str| attr(tag, n).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        let (x, y, svg_size) = (num("x"), num("y"), num("font-size"));
        // plotters writes a font of N pixels as font-size N / 1.24.
        let size = (svg_size * 1.24).round() as u32;
        let w = f64::from(pixel_width(&content, size));
        let h = svg_size;
        let x0 = match attr(tag, "text-anchor").as_deref() {
            Some("middle") => x - w / 2.0,
            Some("end") => x - w,
            _ => x,
        };
        let y0 = match attr(tag, "dy").as_deref() {
            Some("0.76em") => y,
            Some("0.5ex") => y - h / 2.0,
            _ => y - h,
        };
        let mut b = [x0, y0, x0 + w, y0 + h];
        if attr(tag, "transform").is_some_and(|t| t.starts_with("rotate(270") || t.starts_with("rotate(90")) {
            // A quarter turn about (x, y): the box turns about the same point.
            let (cx, cy) = (x, y);
            let pts = [(b[0], b[1]), (b[2], b[3])].map(|(px, py)| (cx + (py - cy), cy - (px - cx)));
            b = [pts[0].0.min(pts[1].0), pts[0].1.min(pts[1].1), pts[0].0.max(pts[1].0), pts[0].1.max(pts[1].1)];
        }
        if !content.is_empty() {
            out.push((content, b));
        }
    }
    out
}

/// Pairs of text boxes that overlap by more than `tolerance` pixels each way.
#[cfg(test)]
pub fn overlapping(boxes: &[(String, [f64; 4])], tolerance: f64) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, (ta, a)) in boxes.iter().enumerate() {
        for (tb, b) in &boxes[i + 1..] {
            let dx = a[2].min(b[2]) - a[0].max(b[0]);
            let dy = a[3].min(b[3]) - a[1].max(b[1]);
            if dx > tolerance && dy > tolerance {
                out.push((ta.clone(), tb.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text `label` at 48 px, black on white.
    struct Label(&'static str);
    impl Figure for Label {
        fn size(&self) -> (u32, u32) {
            (200, 80)
        }
        fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
            root.draw(&Text::new(self.0, (10, 10), (FAMILY, 48).into_font().color(&BLACK)))
        }
    }

    /// Columns (x ranges) of ink in `rgb`, and the lowest inked row of each.
    fn glyph_bottoms(rgb: &[u8], w: usize) -> Vec<(std::ops::Range<usize>, usize)> {
        let inked = |x: usize, y: usize| rgb[(y * w + x) * 3] < 128;
        let h = rgb.len() / 3 / w;
        let column_inked = |x: usize| (0..h).any(|y| inked(x, y));
        runs(w, column_inked)
            .into_iter()
            .map(|r| {
                let bottom = (0..h).rev().find(|&y| r.clone().any(|x| inked(x, y))).unwrap_or(0);
                (r, bottom)
            })
            .collect()
    }

    #[test]
    fn png_text_sits_on_one_baseline() {
        // A full stop ends on the baseline with the letter before it (plotters' own bitmap text
        // drew it half a letter higher).
        let fig = Label("n.");
        let (w, h) = fig.size();
        let rgb = rasterise(&render_svg(&fig).unwrap(), w, h).unwrap();
        let glyphs = glyph_bottoms(&rgb, w as usize);
        assert_eq!(glyphs.len(), 2, "two glyphs, n and the full stop: {glyphs:?}");
        let (n, stop) = (glyphs[0].1, glyphs[1].1);
        assert!(n.abs_diff(stop) <= 1, "n ends on row {n}, the full stop on row {stop}");
        // Letters keep their own side bearings: the gap between n and the stop is DejaVu's, 4-10 px.
        let gap = glyphs[1].0.start - glyphs[0].0.end;
        assert!((3..=12).contains(&gap), "gap of {gap} px between n and the full stop");
    }

    #[test]
    fn runs_split_at_gaps() {
        let v = [1.0, f64::NAN, 2.0, 3.0, f64::NAN];
        assert_eq!(runs(v.len(), |i| v[i].is_finite()), vec![0..1, 2..4]);
        assert!(runs(0, |_| true).is_empty());
    }

    #[test]
    fn legend_wraps_to_the_width() {
        let keys: Vec<Key> = (0..6).map(|i| Key::new(format!("scenario number {i}"), style::colour(i), Mark::Band)).collect();
        let (_, one_row) = legend_layout(&keys[..1], 1000);
        let (at, rows) = legend_layout(&keys, 500);
        assert_eq!(one_row, 1);
        assert!(rows >= 3, "{rows}");
        assert!(at.iter().all(|&(x, _)| x < 500));
        assert_eq!(grid(7, 4), (2, 4));
        assert_eq!(grid(2, 4), (1, 2));
    }
}
