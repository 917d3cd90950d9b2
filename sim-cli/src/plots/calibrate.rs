//! The figures of `sim calibrate`, drawn from posterior.csv, parameters.csv and ppc.csv:
//! the marginal posterior of each parameter (a weighted histogram with its median and 90%
//! credible interval), the pairwise posterior (each pair of parameters, one dot per particle,
//! larger for heavier weights) and the predictive check (each target's observed value against the
//! 90% interval of a new observation under the posterior, in units of the target's sd).

use std::io;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::data::{Csv, num};
use super::figure::{self, Area, DrawResult, Figure, Header, Key, Mark, save};
use super::style::{self, DARK, GREY, LABEL, LIGHT_GREY, TICK, Ticks};

const FIXED_COLUMNS: usize = 7;
const BINS: usize = 24;
const PASS: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const FAIL: RGBColor = RGBColor(0xD5, 0x5E, 0x00);

/// The posterior particles: parameter names, weights and values (one vector per parameter).
pub struct Posterior {
    pub names: Vec<String>,
    pub weights: Vec<f64>,
    pub values: Vec<Vec<f64>>,
    /// Median and 90% interval per parameter (parameters.csv).
    pub intervals: Vec<(f64, f64, f64)>,
}

pub fn read_posterior(dir: &Path) -> io::Result<Posterior> {
    let path = dir.join("posterior.csv");
    let csv = Csv::read(&path)?;
    let w = csv.column(&path, "weight")?;
    let names: Vec<String> = csv.header.iter().skip(FIXED_COLUMNS).cloned().collect();
    let weights = csv.rows.iter().map(|r| num(&r[w])).collect();
    let values = (0..names.len()).map(|j| csv.rows.iter().map(|r| num(&r[FIXED_COLUMNS + j])).collect()).collect();
    let ppath = dir.join("parameters.csv");
    let pcsv = Csv::read(&ppath)?;
    let (m, lo, hi) = (pcsv.column(&ppath, "median")?, pcsv.column(&ppath, "ci_low")?, pcsv.column(&ppath, "ci_high")?);
    let intervals = pcsv.rows.iter().map(|r| (num(&r[m]), num(&r[lo]), num(&r[hi]))).collect();
    Ok(Posterior { names, weights, values, intervals })
}

fn span(xs: &[f64]) -> (f64, f64) {
    let lo = xs.iter().copied().filter(|x| x.is_finite()).fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().filter(|x| x.is_finite()).fold(f64::NEG_INFINITY, f64::max);
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    let pad = if hi > lo { 0.04 * (hi - lo) } else { 0.5 * lo.abs().max(1e-3) };
    (lo - pad, hi + pad)
}

/// Marginal posteriors, one panel per parameter.
pub struct Marginals<'a> {
    pub post: &'a Posterior,
}

const PANEL: (u32, u32) = (420, 300);
const MARGINAL_NOTE: &str = "Bars: the posterior's weighted histogram of each parameter; solid line: its median; dashed lines: the 90% credible interval (5% and 95% quantiles).";

impl Figure for Marginals<'_> {
    fn size(&self) -> (u32, u32) {
        let (_, cols) = figure::grid(self.post.names.len(), 3);
        let rows = self.post.names.len().div_ceil(cols.max(1));
        let w = PANEL.0 * cols as u32;
        (w, Header { title: "Marginal posteriors", subtitle: Some(MARGINAL_NOTE), keys: &[] }.height(w) + PANEL.1 * rows as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        let body = Header { title: "Marginal posteriors", subtitle: Some(MARGINAL_NOTE), keys: &[] }.draw(root)?;
        let (_, cols) = figure::grid(self.post.names.len(), 3);
        let rows = self.post.names.len().div_ceil(cols.max(1));
        for (j, area) in body.split_evenly((rows, cols)).iter().enumerate().take(self.post.names.len()) {
            let xs = &self.post.values[j];
            let (lo, hi) = span(xs);
            let width = (hi - lo) / BINS as f64;
            let mut bins = [0.0; BINS];
            let total: f64 = self.post.weights.iter().sum();
            for (x, w) in xs.iter().zip(&self.post.weights) {
                if x.is_finite() {
                    let b = (((x - lo) / width) as usize).min(BINS - 1);
                    bins[b] += w / total.max(1e-300) / width;
                }
            }
            let top = bins.iter().copied().fold(0.0, f64::max).max(1e-300) * 1.08;
            let xt = Ticks::for_range(lo, hi);
            let mut chart = ChartBuilder::on(area)
                .caption(&self.post.names[j], style::text(style::CAPTION))
                .margin(10)
                .x_label_area_size(36)
                .y_label_area_size(54)
                .build_cartesian_2d(lo..hi, 0.0..top)?;
            chart
                .configure_mesh()
                .x_labels(5)
                .y_labels(4)
                .x_label_formatter(&|v| xt.format(*v))
                .y_label_formatter(&|v| crate::words::significant(*v, 2))
                .y_desc("density")
                .label_style(style::text(TICK))
                .axis_desc_style(style::text(LABEL))
                .bold_line_style(LIGHT_GREY)
                .light_line_style(TRANSPARENT)
                .draw()?;
            chart.draw_series(bins.iter().enumerate().map(|(b, &h)| {
                let x0 = lo + b as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width, h)], style::colour(0).mix(0.55).filled())
            }))?;
            if let Some(&(m, l, h)) = self.post.intervals.get(j) {
                chart.draw_series(LineSeries::new(vec![(m, 0.0), (m, top)], DARK.stroke_width(2)))?;
                for x in [l, h] {
                    chart.draw_series(DashedLineSeries::new(vec![(x, 0.0), (x, top)], 6, 4, DARK.stroke_width(1)))?;
                }
            }
        }
        Ok(())
    }
}

/// Pairwise posterior: a scatter of each pair of parameters.
pub struct Pairs<'a> {
    pub post: &'a Posterior,
}

/// At most this many parameters in the pairs figure (the first ones).
const MAX_PAIR_PARAMETERS: usize = 6;
const PAIRS_NOTE: &str = "Each dot is one particle of the posterior, its area proportional to its weight; a tilted cloud means the data pin down a combination of the two parameters rather than each alone.";

impl Pairs<'_> {
    fn k(&self) -> usize {
        self.post.names.len().min(MAX_PAIR_PARAMETERS)
    }
}

impl Figure for Pairs<'_> {
    fn size(&self) -> (u32, u32) {
        let n = self.k() - 1;
        let cell = 300;
        let w = (cell * n as u32).max(520);
        (w, Header { title: "Pairwise posterior", subtitle: Some(PAIRS_NOTE), keys: &[] }.height(w) + cell * n as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        let body = Header { title: "Pairwise posterior", subtitle: Some(PAIRS_NOTE), keys: &[] }.draw(root)?;
        let n = self.k() - 1;
        let cells = body.split_evenly((n, n));
        let wmax = self.post.weights.iter().copied().fold(0.0, f64::max).max(1e-300);
        for row in 0..n {
            for col in 0..n {
                // Lower triangle: y = parameter row + 1, x = parameter col.
                if col > row {
                    continue;
                }
                let (xi, yi) = (col, row + 1);
                let area = &cells[row * n + col];
                let (x0, x1) = span(&self.post.values[xi]);
                let (y0, y1) = span(&self.post.values[yi]);
                let (xt, yt) = (Ticks::for_range(x0, x1), Ticks::for_range(y0, y1));
                let mut chart =
                    ChartBuilder::on(area).margin(8).x_label_area_size(40).y_label_area_size(60).build_cartesian_2d(x0..x1, y0..y1)?;
                chart
                    .configure_mesh()
                    .x_labels(4)
                    .y_labels(4)
                    .x_desc(self.post.names[xi].as_str())
                    .y_desc(self.post.names[yi].as_str())
                    .x_label_formatter(&|v| xt.format(*v))
                    .y_label_formatter(&|v| yt.format(*v))
                    .label_style(style::text(TICK))
                    .axis_desc_style(style::text(TICK))
                    .bold_line_style(LIGHT_GREY)
                    .light_line_style(TRANSPARENT)
                    .draw()?;
                let pts = self.post.values[xi].iter().zip(&self.post.values[yi]).zip(&self.post.weights);
                chart.draw_series(pts.filter(|((x, y), _)| x.is_finite() && y.is_finite()).map(|((&x, &y), &w)| {
                    let r = (1.5 + 4.5 * (w / wmax).sqrt()).round() as i32;
                    Circle::new((x, y), r, style::colour(0).mix(0.45).filled())
                }))?;
            }
        }
        Ok(())
    }
}

/// One row of ppc.csv as drawn.
pub struct CheckRow {
    pub target: String,
    pub held_out: bool,
    /// Observation interval and predicted median, in units of sd from the observed value.
    pub low: f64,
    pub high: f64,
    pub median: f64,
    pub pass: bool,
}

pub fn read_checks(dir: &Path) -> io::Result<Vec<CheckRow>> {
    let path = dir.join("ppc.csv");
    let csv = Csv::read(&path)?;
    let c = |n: &str| csv.column(&path, n);
    let (t, u, o, sd, m, lo, hi, p) = (
        c("target")?,
        c("use")?,
        c("observed")?,
        c("sd")?,
        c("predicted_median")?,
        c("observation_low")?,
        c("observation_high")?,
        c("pass")?,
    );
    Ok(csv
        .rows
        .iter()
        .map(|r| {
            let (obs, s) = (num(&r[o]), num(&r[sd]));
            let z = |x: f64| (x - obs) / s;
            CheckRow {
                target: r[t].to_string(),
                held_out: &r[u] == "held_out",
                low: z(num(&r[lo])),
                high: z(num(&r[hi])),
                median: z(num(&r[m])),
                pass: &r[p] == "pass",
            }
        })
        .collect())
}

/// The predictive check: one row per target.
pub struct PredictiveCheck<'a> {
    pub rows: &'a [CheckRow],
}

/// At most this many targets are drawn (a long observed series is summarised in ppc.csv).
const MAX_CHECK_ROWS: usize = 60;
const CHECK_NOTE: &str = "Each row is a target, fitted or held out (marked), in units of its stated sd from the observed value (the dashed line at 0). Bar: the 90% interval of a new observation under the posterior (simulated value plus observation error); dot: the simulated median. Blue: the observed value lies inside the interval (pass); orange: outside (fail).";

impl Figure for PredictiveCheck<'_> {
    fn size(&self) -> (u32, u32) {
        let n = self.rows.len().min(MAX_CHECK_ROWS) as u32;
        let keys = keys();
        let w = 900;
        (w, Header { title: "Posterior predictive check", subtitle: Some(CHECK_NOTE), keys: &keys }.height(w) + 80 + 26 * n)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        let keys = keys();
        let body = Header { title: "Posterior predictive check", subtitle: Some(CHECK_NOTE), keys: &keys }.draw(root)?;
        let rows: Vec<&CheckRow> = self.rows.iter().take(MAX_CHECK_ROWS).collect();
        let n = rows.len();
        let lim =
            rows.iter().flat_map(|r| [r.low, r.high, r.median]).filter(|x| x.is_finite()).fold(3.0f64, |a, x| a.max(x.abs())).min(50.0)
                * 1.05;
        let label_room = rows.iter().map(|r| figure::text_width(&label(r), TICK)).max().unwrap_or(80) + 16;
        let xt = Ticks::for_range(-lim, lim);
        let mut chart = ChartBuilder::on(&body)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(44)
            .y_label_area_size(label_room)
            .build_cartesian_2d(-lim..lim, -0.5..(n as f64 - 0.5))?;
        let names: Vec<String> = rows.iter().map(|r| label(r)).collect();
        chart
            .configure_mesh()
            .x_labels(9)
            .y_labels(n.max(1))
            .x_desc("(value - observed) / sd")
            .x_label_formatter(&|v| xt.format(*v))
            .y_label_formatter(&|v| {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 { names.get(n - 1 - i as usize).cloned().unwrap_or_default() } else { String::new() }
            })
            .label_style(style::text(TICK))
            .axis_desc_style(style::text(LABEL))
            .bold_line_style(LIGHT_GREY)
            .light_line_style(TRANSPARENT)
            .draw()?;
        chart.draw_series(DashedLineSeries::new(vec![(0.0, -0.5), (0.0, n as f64 - 0.5)], 6, 4, GREY.stroke_width(2)))?;
        for (i, r) in rows.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let c = if r.pass { PASS } else { FAIL };
            let clamp = |x: f64| x.clamp(-lim, lim);
            if r.low.is_finite() && r.high.is_finite() {
                chart.draw_series(LineSeries::new(vec![(clamp(r.low), y), (clamp(r.high), y)], c.stroke_width(4)))?;
            }
            if r.median.is_finite() {
                chart.draw_series(std::iter::once(Circle::new((clamp(r.median), y), 5, c.filled())))?;
            }
        }
        Ok(())
    }
}

fn label(r: &CheckRow) -> String {
    let t = super::compare::fit(&r.target, 300, TICK);
    if r.held_out { format!("{t} (held out)") } else { t }
}

fn keys() -> Vec<Key> {
    vec![Key::new("pass: observed inside the 90% interval", PASS, Mark::Bar), Key::new("fail", FAIL, Mark::Bar)]
}

/// Every figure of a calibration folder.
pub fn draw(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let post = read_posterior(dir)?;
    let mut files = Vec::new();
    if !post.names.is_empty() {
        files.extend(save(&Marginals { post: &post }, dir, "posterior_marginals")?);
    }
    if post.names.len() >= 2 {
        files.extend(save(&Pairs { post: &post }, dir, "posterior_pairs")?);
    }
    let rows = read_checks(dir)?;
    if !rows.is_empty() {
        files.extend(save(&PredictiveCheck { rows: &rows }, dir, "predictive_check")?);
    }
    Ok(files)
}
