//! Time series: a metric's daily ensemble mean with its 95% band, one colour per scenario; the
//! dashboard of the key metrics in one figure; and true against reported resolution on one plot,
//! so the gaming gap shows as the space between two lines. For a single run (`sim run`) the same
//! figures are drawn without bands.

use plotters::prelude::*;

use super::data::{Band, SeriesSet};
use super::figure::{self, Area, DrawResult, Figure, Header, Key, Mark};
use super::style::{self, BAND_ALPHA, CAPTION, LABEL, LIGHT_GREY, TICK, Ticks};

/// Horizons longer than this many days are drawn against years, not days.
pub const YEARS_AFTER_DAYS: f64 = 730.0;

/// The time axis of a figure: days, or years for long horizons (day / 365).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeAxis {
    pub per_unit: f64,
    pub name: &'static str,
}

impl TimeAxis {
    /// Years when the series span more than [`YEARS_AFTER_DAYS`], else days.
    pub fn for_span(first_day: f64, last_day: f64) -> Self {
        if last_day - first_day > YEARS_AFTER_DAYS { Self { per_unit: 365.0, name: "year" } } else { Self { per_unit: 1.0, name: "day" } }
    }

    /// `b` with its days in this axis' unit.
    pub fn scale(&self, mut b: Band) -> Band {
        if self.per_unit != 1.0 {
            for d in &mut b.day {
                *d /= self.per_unit;
            }
        }
        b
    }
}

/// The grid and axes of a chart over time: `axis.name` along x, `y_desc` (with its unit) up the
/// side, `labels` = (x, y) label counts.
fn day_mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>,
    y_desc: &str,
    labels: (usize, usize),
    ticks: &Ticks,
    axis: TimeAxis,
    x: (f64, f64),
) -> DrawResult<DB> {
    let x_ticks = Ticks::for_range(x.0, x.1);
    chart
        .configure_mesh()
        .x_desc(axis.name)
        .y_desc(y_desc)
        .x_labels(labels.0)
        .y_labels(labels.1)
        .x_label_formatter(&|v| if axis.per_unit == 1.0 { format!("{v:.0}") } else { x_ticks.format(*v) })
        .y_label_formatter(&|v| ticks.format(*v))
        .label_style(style::text(TICK))
        .axis_desc_style(style::text(LABEL))
        .bold_line_style(LIGHT_GREY)
        .light_line_style(TRANSPARENT)
        .draw()
}

/// The time axis and the bands of `lines` in its unit.
fn on_time_axis<K: Clone>(lines: Vec<(K, Band)>) -> (TimeAxis, Vec<(K, Band)>) {
    let (d0, d1) = day_range(lines.iter().map(|(_, b)| b));
    let axis = TimeAxis::for_span(d0, d1);
    (axis, lines.into_iter().map(|(k, b)| (k, axis.scale(b))).collect())
}

/// Most points drawn per series.
const MAX_POINTS: usize = 600;

/// Days averaged into one drawn point: a week once a series is long enough for weekly means to
/// read better than noisy daily values (20 weeks or more), more for horizons beyond
/// [`MAX_POINTS`] weeks' worth of points; 1 (daily) for short series.
pub fn bucket(days: usize) -> usize {
    if days < 140 { 1 } else { days.div_ceil(MAX_POINTS).max(7) }
}

/// Words for a bucket size, for subtitles: "daily values", "7-day means".
pub fn bucket_words(size: usize) -> String {
    if size <= 1 { "daily values".into() } else { format!("{size}-day means") }
}

/// The vertical range of a panel: every mean in full, and the bands between their 2nd and 98th
/// percentiles, so a few near-empty days (a ratio over a handful of cases) do not flatten the
/// rest. Bands beyond the range are drawn clipped at its edge.
fn value_range<'a>(bands: impl Iterator<Item = &'a Band> + Clone, with_bands: bool) -> (f64, f64) {
    let means = bands.clone().flat_map(|b| b.mean.iter().copied());
    let (mut lo, mut hi) = (style::quantile(means.clone(), 0.0), style::quantile(means, 1.0));
    if with_bands {
        let bounds = bands.flat_map(|b| b.lo.iter().chain(&b.hi).copied());
        let (q_lo, q_hi) = (style::quantile(bounds.clone(), 0.02), style::quantile(bounds, 0.98));
        if q_lo.is_finite() {
            lo = lo.min(q_lo);
            hi = hi.max(q_hi);
        }
    }
    style::padded_range([lo, hi])
}

/// The dashboard metrics `set` holds values of: the key metrics of the summary figures
/// ([`super::compare::KEY_METRICS`], `wellbeing_mean` standing in for `wellbeing_gini` when the
/// Gini is not recorded) less `true_resolution_rate`, which the resolution figure draws against the
/// reported rate.
pub fn dashboard_metrics(set: &SeriesSet) -> Vec<String> {
    super::compare::key_metrics(|m| set.has_values(m)).into_iter().filter(|m| m != "true_resolution_rate").collect()
}

/// One legend entry per scenario, named exactly as the file names it.
pub fn scenario_keys(set: &SeriesSet, bands: bool) -> Vec<Key> {
    set.scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| Key::new(s.clone(), style::colour(i), if bands { Mark::Band } else { Mark::Line }))
        .collect()
}

/// Panels of daily series, one per metric, in a grid.
pub struct SeriesFigure<'a> {
    pub set: &'a SeriesSet,
    pub metrics: Vec<String>,
    pub title: String,
    pub subtitle: Option<String>,
    /// Draw the 95% bands (false for a single run, which has none).
    pub bands: bool,
    pub columns: usize,
    pub panel: (u32, u32),
    /// Days per drawn point (see [`bucket`]).
    pub bucket: usize,
}

impl SeriesFigure<'_> {
    fn keys(&self) -> Vec<Key> {
        scenario_keys(self.set, self.bands)
    }

    fn header<'k>(&'k self, keys: &'k [Key]) -> Header<'k> {
        Header { title: &self.title, subtitle: self.subtitle.as_deref(), keys }
    }

    fn width(&self) -> u32 {
        style::px(self.panel.0) * figure::grid(self.metrics.len(), self.columns).1 as u32
    }
}

impl Figure for SeriesFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let keys = self.keys();
        let (rows, _) = figure::grid(self.metrics.len(), self.columns);
        (self.width(), self.header(&keys).height(self.width()) + rows as u32 * style::px(self.panel.1))
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        let keys = self.keys();
        let body = self.header(&keys).draw(root)?;
        let panels = body.split_evenly(figure::grid(self.metrics.len(), self.columns));
        for (area, metric) in panels.iter().zip(&self.metrics) {
            panel(area, self.set, metric, self.bands, self.bucket)?;
        }
        Ok(())
    }
}

/// One metric over days: each scenario's mean line over its band (when `bands`).
pub fn panel<DB: DrawingBackend>(area: &Area<DB>, set: &SeriesSet, metric: &str, bands: bool, bucket: usize) -> DrawResult<DB> {
    let lines: Vec<(usize, Band)> = (0..set.scenarios.len()).filter_map(|s| set.get(s, metric).map(|b| (s, b.bucketed(bucket)))).collect();
    let caption = super::compare::caption(metric);
    if !lines.iter().any(|(_, b)| b.mean.iter().any(|v| v.is_finite())) {
        return figure::empty_panel(area, &caption, "no values");
    }
    let (axis, lines) = on_time_axis(lines);
    let (x0, x1) = day_range(lines.iter().map(|(_, b)| b));
    let (y0, y1) = value_range(lines.iter().map(|(_, b)| b), bands);
    let ticks = Ticks::for_range(y0, y1);
    let mut chart = ChartBuilder::on(area)
        .caption(&caption, style::text(CAPTION))
        .margin(8)
        .margin_right(16)
        .x_label_area_size(style::px(44))
        .y_label_area_size(figure::y_label_room(&ticks, y0, y1))
        .build_cartesian_2d(x0..x1, y0..y1)?;
    day_mesh(&mut chart, &style::unit_label(metric), (6, 6), &ticks, axis, (x0, x1))?;
    for (s, b) in &lines {
        let c = style::colour(*s);
        if bands {
            draw_band(&mut chart, b, c, (y0, y1))?;
        }
        draw_line(&mut chart, &b.day, &b.mean, c, false)?;
    }
    Ok(())
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>;

/// The days covered by the series (at least one day wide).
fn day_range<'a>(bands: impl Iterator<Item = &'a Band>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for b in bands {
        for &d in b.day.iter().filter(|d| d.is_finite()) {
            lo = lo.min(d);
            hi = hi.max(d);
        }
    }
    if !lo.is_finite() {
        (0.0, 1.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        (lo, lo + 1.0)
    }
}

/// The 95% band of `b` as filled polygons, split where a bound is undefined and clipped to the
/// vertical range `y` (plotters does not clip to the plotting area).
fn draw_band<DB: DrawingBackend>(chart: &mut Chart<DB>, b: &Band, c: RGBColor, y: (f64, f64)) -> DrawResult<DB> {
    let clip = |v: f64| v.clamp(y.0, y.1);
    for r in figure::runs(b.len(), |i| b.lo[i].is_finite() && b.hi[i].is_finite() && b.day[i].is_finite()) {
        let mut pts: Vec<(f64, f64)> = r.clone().map(|i| (b.day[i], clip(b.hi[i]))).collect();
        pts.extend(r.rev().map(|i| (b.day[i], clip(b.lo[i]))));
        chart.draw_series(std::iter::once(Polygon::new(pts, c.mix(BAND_ALPHA).filled())))?;
    }
    Ok(())
}

/// A line through the finite points, broken at undefined days; dashed when `dashed`.
fn draw_line<DB: DrawingBackend>(chart: &mut Chart<DB>, x: &[f64], y: &[f64], c: RGBColor, dashed: bool) -> DrawResult<DB> {
    for r in figure::runs(x.len(), |i| x[i].is_finite() && y[i].is_finite()) {
        let pts: Vec<(f64, f64)> = r.map(|i| (x[i], y[i])).collect();
        if pts.len() == 1 {
            chart.draw_series(std::iter::once(Circle::new(pts[0], 2, c.filled())))?;
        } else if dashed {
            chart.draw_series(DashedLineSeries::new(pts, 8, 5, c.stroke_width(style::line_width())))?;
        } else {
            chart.draw_series(LineSeries::new(pts, c.stroke_width(style::line_width())))?;
        }
    }
    Ok(())
}

/// True (solid) and reported (dashed) resolution rates of every scenario on one plot.
pub struct TrueVsReported<'a> {
    pub set: &'a SeriesSet,
    pub bands: bool,
    /// Days per drawn point (see [`bucket`]).
    pub bucket: usize,
}

pub const TRUE: &str = "true_resolution_rate";
pub const REPORTED: &str = "reported_resolution_rate";

impl TrueVsReported<'_> {
    /// Whether the set has either rate.
    pub fn applies(set: &SeriesSet) -> bool {
        set.has_values(TRUE) || set.has_values(REPORTED)
    }

    /// Small multiples (one panel per scenario) from three scenarios on, so bands never pile up.
    fn multiples(&self) -> bool {
        self.set.scenarios.len() > 2
    }

    fn keys(&self) -> Vec<Key> {
        let mut keys = Vec::new();
        if self.multiples() {
            keys.push(Key::new("true", style::DARK, if self.bands { Mark::Band } else { Mark::Line }));
            keys.push(Key::new("reported", style::DARK, Mark::Dashed));
            return keys;
        }
        for (i, s) in self.set.scenarios.iter().enumerate() {
            keys.push(Key::new(format!("{s}: true"), style::colour(i), if self.bands { Mark::Band } else { Mark::Line }));
            keys.push(Key::new(format!("{s}: reported"), style::colour(i), Mark::Dashed));
        }
        keys
    }

    fn subtitle(&self) -> String {
        format!(
            "Solid: share of closures that truly resolved the need; dashed: share recorded as resolved. The space between them is the gaming gap.{} Shown: {}{}.",
            if self.multiples() { " One panel per scenario, on the same scale." } else { "" },
            bucket_words(self.bucket),
            if self.bands { " of the mean over replicates, with 95% bands" } else { " of one run" }
        )
    }

    fn columns(&self) -> usize {
        if self.set.scenarios.len() <= 4 { 2 } else { 3 }
    }
}

const TVR_TITLE: &str = "True vs reported resolution";

impl Figure for TrueVsReported<'_> {
    fn size(&self) -> (u32, u32) {
        let (keys, sub) = (self.keys(), self.subtitle());
        let h = Header { title: TVR_TITLE, subtitle: Some(&sub), keys: &keys };
        if self.multiples() {
            let (rows, _) = figure::grid(self.set.scenarios.len(), self.columns());
            let w = style::px(1100);
            (w, h.height(w) + rows as u32 * style::px(380))
        } else {
            let w = style::px(1100);
            (w, h.height(w) + style::px(560))
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        let (keys, sub) = (self.keys(), self.subtitle());
        let body = Header { title: TVR_TITLE, subtitle: Some(&sub), keys: &keys }.draw(root)?;
        let mut lines = Vec::new();
        for s in 0..self.set.scenarios.len() {
            for (metric, dashed) in [(TRUE, false), (REPORTED, true)] {
                if let Some(b) = self.set.get(s, metric) {
                    lines.push(((s, dashed), b.bucketed(self.bucket)));
                }
            }
        }
        let (axis, lines) = on_time_axis(lines);
        let (x0, x1) = day_range(lines.iter().map(|(_, b)| b));
        let (y0, y1) = value_range(lines.iter().map(|(_, b)| b), self.bands);
        let ticks = Ticks::for_range(y0, y1);
        let areas = if self.multiples() { body.split_evenly(figure::grid(self.set.scenarios.len(), self.columns())) } else { vec![body] };
        for (i, area) in areas.iter().enumerate() {
            let mine: Vec<&((usize, bool), Band)> = lines.iter().filter(|((s, _), _)| !self.multiples() || *s == i).collect();
            if self.multiples() && i >= self.set.scenarios.len() {
                break;
            }
            let mut builder = ChartBuilder::on(area);
            builder.margin(12).margin_right(24).x_label_area_size(style::px(48)).y_label_area_size(figure::y_label_room(&ticks, y0, y1));
            if self.multiples() {
                let room = area.dim_in_pixel().0.saturating_sub(40);
                builder.caption(super::compare::fit(&self.set.scenarios[i], room, CAPTION), style::text(CAPTION));
            }
            let mut chart = builder.build_cartesian_2d(x0..x1, y0..y1)?;
            day_mesh(&mut chart, "resolution rate: share of closures, 0..1", (10, 8), &ticks, axis, (x0, x1))?;
            if self.bands {
                for ((s, _), b) in &mine {
                    draw_band(&mut chart, b, style::colour(*s), (y0, y1))?;
                }
            }
            for ((s, dashed), b) in &mine {
                draw_line(&mut chart, &b.day, &b.mean, style::colour(*s), *dashed)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_horizons_are_drawn_in_years() {
        assert_eq!(TimeAxis::for_span(0.0, 400.0).name, "day");
        let years = TimeAxis::for_span(0.0, 1824.0);
        assert_eq!(years.name, "year");
        let b = Band { day: vec![0.0, 365.0, 1825.0], mean: vec![1.0; 3], lo: vec![f64::NAN; 3], hi: vec![f64::NAN; 3] };
        assert_eq!(years.scale(b).day, vec![0.0, 1.0, 5.0]);
    }
}
