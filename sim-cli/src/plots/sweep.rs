//! Sweep figures from points.csv: a heatmap of each summary metric over two parameters (a phase
//! diagram when one axis is a regime lever such as `governance.preset`: where does each regime
//! win?), and each metric against one parameter as lines with 95% bands, one line per level of a
//! second parameter when there is a natural one.
//!
//! A parameter becomes an axis of levels: a category per value for text parameters (presets), a
//! level per distinct value for numeric parameters with few values (grids), and eight equal bins
//! for numeric parameters with many (random, LHS, Sobol designs). Points falling in the same cell
//! (or level) are averaged: the colour or line is the mean of their means, the band the mean of
//! their CI bounds, so with more than two parameters each cell is averaged over the others.

use std::collections::BTreeMap;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::{PointRow, Points};
use super::figure::{self, Area, DrawResult, Figure, FixedTicks, Header, Key, Mark};
use super::style::{self, BAND_ALPHA, CAPTION, DARK, LABEL, LIGHT_GREY, TICK, Ticks};

/// Numeric parameters with at most this many distinct values get one level per value.
const MAX_LEVELS: usize = 12;
/// Bins of a numeric parameter with more distinct values.
const BINS: usize = 8;
/// Most metric panels in one figure.
const MAX_PANELS: usize = 9;
/// Most heatmap figures (parameter pairs) per sweep.
pub const MAX_PAIRS: usize = 6;
/// A parameter with at most this many distinct values may split the lines of another.
const MAX_SPLIT: usize = 5;

/// How a parameter's values map to the levels of an axis.
#[derive(Debug, Clone, PartialEq)]
pub enum Levels {
    /// Text values (presets, names), in order of first appearance.
    Categories,
    /// Distinct numbers, ascending; `centres` holds them.
    Values,
    /// Equal-width bins over [lo, hi]; `centres` holds their midpoints.
    Bins { lo: f64, hi: f64 },
}

/// A parameter as an axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub name: String,
    pub levels: Levels,
    /// Tick label of each level.
    pub labels: Vec<String>,
    /// Position of each level on a numeric axis (empty for categories).
    pub centres: Vec<f64>,
    /// Distinct values the parameter takes.
    pub distinct: usize,
}

impl Axis {
    /// The axis of parameter `name` from its cells (one per point, as written in points.csv).
    pub fn new(name: &str, cells: &[&str]) -> Axis {
        let numbers: Option<Vec<f64>> = cells.iter().map(|c| c.trim().parse::<f64>().ok().filter(|v| v.is_finite())).collect();
        match numbers {
            Some(mut v) if !v.is_empty() => {
                v.sort_by(f64::total_cmp);
                v.dedup();
                if v.len() <= MAX_LEVELS {
                    Axis {
                        name: name.into(),
                        levels: Levels::Values,
                        labels: v.iter().map(|x| style::number(*x)).collect(),
                        centres: v.clone(),
                        distinct: v.len(),
                    }
                } else {
                    let (lo, hi) = (v[0], v[v.len() - 1]);
                    let w = (hi - lo) / BINS as f64;
                    let centres: Vec<f64> = (0..BINS).map(|i| lo + (i as f64 + 0.5) * w).collect();
                    let labels = centres.iter().map(|x| crate::words::significant(*x, 3)).collect();
                    Axis { name: name.into(), levels: Levels::Bins { lo, hi }, labels, centres, distinct: v.len() }
                }
            }
            _ => {
                let labels = super::data::unique(cells.iter().copied());
                Axis { name: name.into(), levels: Levels::Categories, distinct: labels.len(), labels, centres: Vec::new() }
            }
        }
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_categorical(&self) -> bool {
        self.levels == Levels::Categories
    }

    /// The level of a cell value, if it belongs to the axis.
    pub fn level(&self, cell: &str) -> Option<usize> {
        match &self.levels {
            Levels::Categories => self.labels.iter().position(|l| l == cell),
            Levels::Values => {
                let v: f64 = cell.trim().parse().ok()?;
                self.centres.iter().position(|c| *c == v)
            }
            Levels::Bins { lo, hi } => {
                let v: f64 = cell.trim().parse().ok()?;
                if !(v >= *lo && v <= *hi) {
                    return None;
                }
                let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
                Some(((t * BINS as f64) as usize).min(BINS - 1))
            }
        }
    }

    /// Where level `i` sits on the chart: its value on a numeric axis, its index on categories.
    pub fn position(&self, i: usize) -> f64 {
        if self.is_categorical() { i as f64 } else { self.centres[i] }
    }

    /// Whether `name` reads as a regime lever (the governance preset, or any text parameter).
    pub fn is_regime(&self) -> bool {
        self.is_categorical() || self.name.ends_with("preset")
    }
}

/// The sweep's parameters as axes.
pub fn axes(points: &Points) -> Vec<Axis> {
    (0..points.parameters.len())
        .map(|k| {
            let cells: Vec<&str> = points.rows.iter().map(|r| r.cells[k].as_str()).collect();
            Axis::new(&points.parameters[k], &cells)
        })
        .collect()
}

/// Mean of the finite values (NaN if none).
fn mean(xs: impl IntoIterator<Item = f64>) -> f64 {
    let (s, n) = xs.into_iter().filter(|x| x.is_finite()).fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { f64::NAN } else { s / n as f64 }
}

/// Averages of the rows of `metric` grouped by `key`: (mean of means, mean of ci_low, mean of
/// ci_high, number of points).
fn aggregate<K: Ord>(rows: &[PointRow], metric: &str, key: impl Fn(&PointRow) -> Option<K>) -> BTreeMap<K, (f64, f64, f64, usize)> {
    let mut groups: BTreeMap<K, Vec<&PointRow>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.metric == metric) {
        if let Some(k) = key(r) {
            groups.entry(k).or_default().push(r);
        }
    }
    groups
        .into_iter()
        .map(|(k, rs)| {
            let m = mean(rs.iter().map(|r| r.mean));
            (k, (m, mean(rs.iter().map(|r| r.ci_low)), mean(rs.iter().map(|r| r.ci_high)), rs.len()))
        })
        .collect()
}

/// Heatmap panels of every metric over parameters `x` (horizontal) and `y` (vertical).
pub struct Heatmap<'a> {
    pub points: &'a Points,
    pub x: (usize, &'a Axis),
    pub y: (usize, &'a Axis),
    pub metrics: Vec<String>,
}

const HEAT_PANEL: (u32, u32) = (520, 420);
const BAR_WIDTH: u32 = 84;

impl Heatmap<'_> {
    fn title(&self) -> String {
        let (x, y) = (&self.x.1.name, &self.y.1.name);
        if self.x.1.is_regime() || self.y.1.is_regime() {
            format!("Phase diagram: {x} \u{00d7} {y}")
        } else {
            format!("Heatmap: {x} \u{00d7} {y}")
        }
    }

    fn subtitle(&self) -> &'static str {
        if self.is_scatter() {
            "Each dot is one point of the design at its two parameter values, coloured by its mean over replicates, on one scale per metric shared by every figure of the sweep. Metrics of both signs: orange below zero, purple above, zero pale."
        } else if self.x.1.is_regime() || self.y.1.is_regime() {
            "Colour: each metric's mean at each combination (averaged over replicates and any other parameters), on one scale per metric shared by every heatmap of the sweep. Compare along the regime axis to see where each regime wins. Metrics of both signs: orange below zero, purple above, zero pale."
        } else {
            "Colour: each metric's mean at each combination (averaged over replicates and any other parameters), on one scale per metric shared by every heatmap of the sweep; grey cells have no points. Metrics of both signs: orange below zero, purple above, zero pale."
        }
    }

    fn header<'k>(&'k self, title: &'k str) -> Header<'k> {
        Header { title, subtitle: Some(self.subtitle()), keys: &[] }
    }
}

impl Figure for Heatmap<'_> {
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = figure::grid(self.metrics.len(), 3);
        let w = HEAT_PANEL.0 * cols as u32;
        let title = self.title();
        (w.max(900), self.header(&title).height(w.max(900)) + rows as u32 * HEAT_PANEL.1)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        let title = self.title();
        let body = self.header(&title).draw(root)?;
        let (rows, cols) = figure::grid(self.metrics.len(), 3);
        let body = body.shrink((0, 0), (HEAT_PANEL.0 * cols as u32, HEAT_PANEL.1 * rows as u32));
        for (area, metric) in body.split_evenly((rows, cols)).iter().zip(&self.metrics) {
            self.panel(area, metric)?;
        }
        Ok(())
    }
}

impl Heatmap<'_> {
    /// Both parameters binned (a random, LHS or Sobol design: every point at its own values): a
    /// grid of bins would be mostly empty, so each point is drawn where it is, coloured by its mean.
    pub fn is_scatter(&self) -> bool {
        matches!(self.x.1.levels, Levels::Bins { .. }) && matches!(self.y.1.levels, Levels::Bins { .. })
    }

    fn scatter<DB: DrawingBackend>(&self, area: &Area<DB>, metric: &str, scale: &style::ColourScale) -> DrawResult<DB> {
        let (xi, xa) = self.x;
        let (yi, ya) = self.y;
        let pts: Vec<(f64, f64, f64)> = self
            .points
            .rows
            .iter()
            .filter(|r| r.metric == metric && r.mean.is_finite())
            .filter_map(|r| Some((r.cells[xi].trim().parse::<f64>().ok()?, r.cells[yi].trim().parse::<f64>().ok()?, r.mean)))
            .collect();
        let (x0, x1) = style::padded_range(pts.iter().map(|p| p.0));
        let (y0, y1) = style::padded_range(pts.iter().map(|p| p.1));
        let (xt, yt) = (Ticks::for_range(x0, x1), Ticks::for_range(y0, y1));
        let mut chart = ChartBuilder::on(area)
            .caption(super::compare::caption(metric), style::text(CAPTION))
            .margin(8)
            .x_label_area_size(52)
            .y_label_area_size(figure::y_label_room(&yt, y0, y1))
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(xa.name.as_str())
            .y_desc(ya.name.as_str())
            .x_label_formatter(&|v| xt.format(*v))
            .y_label_formatter(&|v| yt.format(*v))
            .label_style(style::text(TICK))
            .axis_desc_style(style::text(LABEL))
            .bold_line_style(LIGHT_GREY)
            .light_line_style(TRANSPARENT)
            .draw()?;
        for (x, y, v) in pts {
            chart.draw_series(std::iter::once(Circle::new((x, y), 6, scale.colour(v).filled())))?;
            chart.draw_series(std::iter::once(Circle::new((x, y), 6, DARK.stroke_width(1))))?;
        }
        Ok(())
    }

    fn panel<DB: DrawingBackend>(&self, area: &Area<DB>, metric: &str) -> DrawResult<DB> {
        let (xi, xa) = self.x;
        let (yi, ya) = self.y;
        let cells = aggregate(&self.points.rows, metric, |r| Some((xa.level(&r.cells[xi])?, ya.level(&r.cells[yi])?)));
        let values: Vec<f64> = cells.values().map(|c| c.0).filter(|v| v.is_finite()).collect();
        if values.is_empty() {
            return figure::empty_panel(area, &super::compare::caption(metric), "no values");
        }
        let (vmin, vmax) = colour_range(self.points, metric);
        let scale = style::ColourScale::new(vmin, vmax);
        let (w, _) = area.dim_in_pixel();
        let (main, bar) = area.split_horizontally(w - BAR_WIDTH);
        if self.is_scatter() {
            self.scatter(&main, metric, &scale)?;
            return colour_bar(&bar, &scale, &style::unit_label(metric));
        }
        let (nx, ny) = (xa.len(), ya.len());
        let (xl, yl) = (xa.labels.clone(), ya.labels.clone());
        let x_range = FixedTicks::categories(nx);
        let y_range = FixedTicks::categories(ny);
        let y_room = yl.iter().map(|l| figure::text_width(l, TICK)).max().unwrap_or(20) + 14 + LABEL + 10;
        let mut chart = ChartBuilder::on(&main)
            .caption(super::compare::caption(metric), style::text(CAPTION))
            .margin(8)
            .x_label_area_size(52)
            .y_label_area_size(y_room)
            .build_cartesian_2d(x_range, y_range)?;
        chart
            .configure_mesh()
            .x_desc(xa.name.as_str())
            .y_desc(ya.name.as_str())
            .x_label_formatter(&|v| xl.get(v.round().max(0.0) as usize).cloned().unwrap_or_default())
            .y_label_formatter(&|v| yl.get(v.round().max(0.0) as usize).cloned().unwrap_or_default())
            .label_style(style::text(TICK))
            .axis_desc_style(style::text(LABEL))
            .disable_mesh()
            .draw()?;
        let show_numbers = nx * ny <= 64;
        for a in 0..nx {
            for b in 0..ny {
                let (x0, x1, y0, y1) = (a as f64 - 0.5, a as f64 + 0.5, b as f64 - 0.5, b as f64 + 0.5);
                let v = cells.get(&(a, b)).map(|c| c.0).filter(|v| v.is_finite());
                let fill = v.map(|v| scale.colour(v)).unwrap_or(LIGHT_GREY);
                chart.draw_series(std::iter::once(Rectangle::new([(x0, y0), (x1, y1)], fill.filled())))?;
                chart.draw_series(std::iter::once(Rectangle::new([(x0, y0), (x1, y1)], WHITE.stroke_width(1))))?;
                if let (Some(v), true) = (v, show_numbers) {
                    let ink = if style::is_dark(fill) { WHITE } else { BLACK };
                    let t = style::text(style::NOTE).color(&ink).pos(Pos::new(HPos::Center, VPos::Center));
                    chart.draw_series(std::iter::once(Text::new(style::number(v), (a as f64, b as f64), t)))?;
                }
            }
        }
        colour_bar(&bar, &scale, &style::unit_label(metric))
    }
}

/// The colour scale of `metric` in every heatmap of a sweep: the range of its points' means, so
/// the same colour means the same value in every figure (cells averaged over other parameters
/// lie within it).
pub fn colour_range(points: &Points, metric: &str) -> (f64, f64) {
    points
        .rows
        .iter()
        .filter(|r| r.metric == metric && r.mean.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), r| (a.min(r.mean), b.max(r.mean)))
}

/// A vertical colour scale from its low end (bottom) to its high end (top) with tick labels on
/// its right.
fn colour_bar<DB: DrawingBackend>(area: &Area<DB>, scale: &style::ColourScale, unit: &str) -> DrawResult<DB> {
    let (lo, hi) = if scale.hi > scale.lo { (scale.lo, scale.hi) } else { (scale.lo - 0.5, scale.hi + 0.5) };
    let ticks = Ticks::for_range(lo, hi);
    let mut chart = ChartBuilder::on(area)
        .margin_top(8 + CAPTION + 12)
        .margin_bottom(8)
        .margin_right(4)
        .x_label_area_size(52)
        .right_y_label_area_size(BAR_WIDTH - 30)
        .build_cartesian_2d(0.0..1.0, lo..hi)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(5)
        .y_label_formatter(&|v| ticks.format(*v))
        .label_style(style::text(TICK))
        .draw()?;
    const STEPS: usize = 48;
    let step = (hi - lo) / STEPS as f64;
    chart.draw_series((0..STEPS).map(|i| {
        let y = lo + i as f64 * step;
        Rectangle::new([(0.0, y), (1.0, y + step)], scale.at((i as f64 + 0.5) / STEPS as f64).filled())
    }))?;
    if !unit.is_empty() {
        let (_, h) = area.dim_in_pixel();
        let t = style::text(style::NOTE).color(&DARK).pos(Pos::new(HPos::Left, VPos::Bottom));
        area.draw(&Text::new(unit.to_string(), (2, h as i32 - 6), t))?;
    }
    Ok(())
}

/// Each metric against parameter `x`, one line (or, on a categorical axis, one set of dots) per
/// level of `split` if given, with 95% bands.
pub struct Lines<'a> {
    pub points: &'a Points,
    pub x: (usize, &'a Axis),
    pub split: Option<(usize, &'a Axis)>,
    pub metrics: Vec<String>,
}

const LINE_PANEL: (u32, u32) = (420, 340);

impl Lines<'_> {
    fn keys(&self) -> Vec<Key> {
        match self.split {
            Some((_, s)) => {
                s.labels.iter().enumerate().map(|(i, l)| Key::new(format!("{} = {l}", s.name), style::colour(i), Mark::Band)).collect()
            }
            None => vec![Key::new("mean over points with 95% CI", style::colour(0), Mark::Band)],
        }
    }

    fn title(&self) -> String {
        format!("Against {}", self.x.1.name)
    }

    const SUBTITLE: &'static str =
        "Each metric's mean over replicates against the parameter (averaged over any other parameters), with the 95% band.";
}

impl Figure for Lines<'_> {
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = figure::grid(self.metrics.len(), 3);
        let w = (LINE_PANEL.0 * cols as u32).max(900);
        let (keys, title) = (self.keys(), self.title());
        (w, Header { title: &title, subtitle: Some(Self::SUBTITLE), keys: &keys }.height(w) + rows as u32 * LINE_PANEL.1)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        let (keys, title) = (self.keys(), self.title());
        let body = Header { title: &title, subtitle: Some(Self::SUBTITLE), keys: &keys }.draw(root)?;
        let (rows, cols) = figure::grid(self.metrics.len(), 3);
        let body = body.shrink((0, 0), (LINE_PANEL.0 * cols as u32, LINE_PANEL.1 * rows as u32));
        for (area, metric) in body.split_evenly((rows, cols)).iter().zip(&self.metrics) {
            self.panel(area, metric)?;
        }
        Ok(())
    }
}

impl Lines<'_> {
    fn panel<DB: DrawingBackend>(&self, area: &Area<DB>, metric: &str) -> DrawResult<DB> {
        let (xi, xa) = self.x;
        let groups = aggregate(&self.points.rows, metric, |r| {
            let s = match self.split {
                Some((si, sa)) => sa.level(&r.cells[si])?,
                None => 0,
            };
            Some((s, xa.level(&r.cells[xi])?))
        });
        if !groups.values().any(|g| g.0.is_finite()) {
            return figure::empty_panel(area, metric, "no values");
        }
        let (y0, y1) = style::padded_range(groups.values().flat_map(|g| [g.0, g.1, g.2]));
        let ticks = Ticks::for_range(y0, y1);
        let n = xa.len();
        let categorical = xa.is_categorical();
        let (x0, x1) = if categorical {
            (-0.5, n as f64 - 0.5)
        } else {
            let (lo, hi) = (xa.centres[0], xa.centres[n - 1]);
            if hi > lo { (lo - 0.04 * (hi - lo), hi + 0.04 * (hi - lo)) } else { (lo - 0.5, hi + 0.5) }
        };
        let labels = xa.labels.clone();
        // Ticks at the levels (categories, or the few values a grid took), else round numbers.
        let keys: Vec<f64> = if categorical || (xa.levels == Levels::Values && n <= 7) {
            (0..n).map(|i| xa.position(i)).collect()
        } else {
            style::nice_ticks(x0, x1, 5)
        };
        let x_ticks = Ticks::for_range(x0, x1);
        let mut chart = ChartBuilder::on(area)
            .caption(super::compare::caption(metric), style::text(CAPTION))
            .margin(8)
            .margin_right(18)
            .x_label_area_size(48)
            .y_label_area_size(figure::y_label_room(&ticks, y0, y1))
            .build_cartesian_2d(FixedTicks::new(x0, x1, keys), y0..y1)?;
        let x_fmt =
            |v: &f64| if categorical { labels.get(v.round().max(0.0) as usize).cloned().unwrap_or_default() } else { x_ticks.format(*v) };
        chart
            .configure_mesh()
            .x_desc(xa.name.as_str())
            .y_desc(style::unit_label(metric))
            .y_labels(6)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&|v| ticks.format(*v))
            .label_style(style::text(TICK))
            .axis_desc_style(style::text(LABEL))
            .bold_line_style(LIGHT_GREY)
            .light_line_style(TRANSPARENT)
            .draw()?;
        let series = self.split.map(|(_, s)| s.len()).unwrap_or(1);
        for s in 0..series {
            let c = style::colour(s);
            let pts: Vec<(f64, f64, f64, f64)> =
                (0..n).filter_map(|i| groups.get(&(s, i)).map(|g| (xa.position(i), g.0, g.1, g.2))).filter(|p| p.1.is_finite()).collect();
            if categorical {
                // Categories are not a continuum: dots with whiskers, offset per series.
                let dx = if series > 1 { 0.3 * (s as f64 / (series - 1) as f64 - 0.5) } else { 0.0 };
                for &(x, m, lo, hi) in &pts {
                    if lo.is_finite() && hi.is_finite() {
                        chart.draw_series(std::iter::once(PathElement::new(vec![(x + dx, lo), (x + dx, hi)], c.stroke_width(2))))?;
                    }
                    chart.draw_series(std::iter::once(Circle::new((x + dx, m), 5, c.filled())))?;
                }
                continue;
            }
            for r in figure::runs(pts.len(), |i| pts[i].2.is_finite() && pts[i].3.is_finite()) {
                if r.len() > 1 {
                    let mut poly: Vec<(f64, f64)> = pts[r.clone()].iter().map(|p| (p.0, p.3)).collect();
                    poly.extend(pts[r].iter().rev().map(|p| (p.0, p.2)));
                    chart.draw_series(std::iter::once(Polygon::new(poly, c.mix(BAND_ALPHA).filled())))?;
                }
            }
            chart.draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.1)), c.stroke_width(2)))?;
            chart.draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 3, c.filled())))?;
        }
        Ok(())
    }
}

/// The parameter that splits the lines against `x`: a regime lever (text parameter) first, else a
/// parameter with few distinct values (a grid's other axis); none for continuous designs.
pub fn split_for(axes: &[Axis], x: usize) -> Option<usize> {
    let others = || axes.iter().enumerate().filter(move |(i, _)| *i != x);
    others()
        .find(|(_, a)| a.is_categorical() && a.len() <= 8)
        .or_else(|| others().find(|(_, a)| a.levels == Levels::Values && a.distinct <= MAX_SPLIT))
        .map(|(i, _)| i)
}

/// The metrics drawn (in file order, at most [`MAX_PANELS`]).
pub fn panel_metrics(points: &Points) -> Vec<String> {
    points.metrics.iter().take(MAX_PANELS).cloned().collect()
}

/// The file stem of the heatmap over parameters `a` and `b`.
pub fn heatmap_stem(a: &str, b: &str) -> String {
    format!("heatmap_{}__{}", style::file_stem(a), style::file_stem(b))
}

/// The file stem of the lines against parameter `a`.
pub fn lines_stem(a: &str) -> String {
    format!("lines_{}", style::file_stem(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 18: two continuous (binned) parameters, as a random or LHS design gives, draw as a
    /// scatter of the points, not a mostly empty grid; levels and categories keep the grid.
    #[test]
    fn random_designs_draw_scatters_and_grids_keep_cells() {
        let many: Vec<String> = (0..40).map(|i| format!("{}", i as f64 / 40.0)).collect();
        let cells: Vec<&str> = many.iter().map(String::as_str).collect();
        let binned = Axis::new("a", &cells);
        assert!(matches!(binned.levels, Levels::Bins { .. }));
        let levels = Axis::new("b", &["0", "0.5", "1"]);
        let points = Points::default();
        let scatter = Heatmap { points: &points, x: (0, &binned), y: (1, &binned), metrics: vec![] };
        assert!(scatter.is_scatter());
        let grid = Heatmap { points: &points, x: (0, &binned), y: (1, &levels), metrics: vec![] };
        assert!(!grid.is_scatter());
    }

    /// Issue 18: a metric's colour scale spans all its points, whichever pair of parameters a
    /// heatmap shows, so colours compare across the sweep's heatmaps.
    #[test]
    fn one_colour_scale_per_metric_across_heatmaps() {
        let mut points = Points { parameters: vec!["a".into(), "b".into(), "c".into()], ..Default::default() };
        for (id, (a, b, c)) in [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)].into_iter().enumerate() {
            for (metric, v) in [("backlog", 10.0 * (a + 2 * b + 4 * c) as f64), ("trust_mean", f64::NAN)] {
                points.rows.push(PointRow {
                    point_id: id as u64,
                    cells: vec![a.to_string(), b.to_string(), c.to_string()],
                    metric: metric.into(),
                    mean: v,
                    ci_low: v,
                    ci_high: v,
                    n: 1.0,
                });
            }
        }
        assert_eq!(colour_range(&points, "backlog"), (0.0, 60.0));
        let (lo, hi) = colour_range(&points, "trust_mean");
        assert!(lo > hi, "no values: an empty range");
        // The cells of any pair, averaged over the third parameter, lie within it.
        let axes = axes(&points);
        for (i, j) in [(0, 1), (0, 2), (1, 2)] {
            let cells = aggregate(&points.rows, "backlog", |r| Some((axes[i].level(&r.cells[i])?, axes[j].level(&r.cells[j])?)));
            assert!(cells.values().all(|c| (0.0..=60.0).contains(&c.0)));
        }
    }

    #[test]
    fn axes_are_levels_bins_or_categories() {
        let grid = Axis::new("g", &["0.1", "0.5", "0.9", "0.1", "0.5"]);
        assert_eq!((grid.levels.clone(), grid.len()), (Levels::Values, 3));
        assert_eq!(grid.level("0.5"), Some(1));
        let many: Vec<String> = (0..40).map(|i| format!("{}", i as f64 / 39.0)).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let binned = Axis::new("r", &refs);
        assert_eq!(binned.len(), BINS);
        assert_eq!((binned.level("0"), binned.level("1"), binned.level("0.5")), (Some(0), Some(BINS - 1), Some(4)));
        let preset = Axis::new("governance.preset", &["top_down", "enablement", "top_down"]);
        assert!(preset.is_categorical() && preset.is_regime());
        assert_eq!(preset.labels, ["top_down", "enablement"]);
        assert_eq!(split_for(&[grid.clone(), preset.clone()], 0), Some(1));
        assert_eq!(split_for(&[grid.clone(), binned.clone()], 1), Some(0));
        assert_eq!(split_for(&[binned.clone(), binned], 0), None);
    }
}
