//! Reading back the tables the commands wrote, so every figure is drawn from the files alone (and
//! `sim plot DIR` can redraw without re-running). Columns are found by their header names; order
//! of rows is kept as written, and scenarios, metrics and parameters keep the order of their first
//! appearance, so colours and panels follow the files.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

/// An error naming the file: "FILE: what".
pub fn invalid(path: &Path, what: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{}: {what}", path.display()))
}

/// A CSV file with its header, as text cells.
pub struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<csv::StringRecord>,
}

impl Csv {
    pub fn read(path: &Path) -> io::Result<Self> {
        let mut r = csv::Reader::from_path(path).map_err(|e| invalid(path, e))?;
        let header = r.headers().map_err(|e| invalid(path, e))?.iter().map(str::to_string).collect();
        let rows = r.records().collect::<Result<Vec<_>, _>>().map_err(|e| invalid(path, e))?;
        Ok(Self { header, rows })
    }

    /// Index of the column `name`, or an error naming the file and column.
    pub fn column(&self, path: &Path, name: &str) -> io::Result<usize> {
        column(&self.header, path, name)
    }
}

/// Index of the column `name` in `header`, or an error naming the file and column.
fn column(header: &[String], path: &Path, name: &str) -> io::Result<usize> {
    header.iter().position(|h| h == name).ok_or_else(|| invalid(path, format!("no column `{name}`")))
}

/// A number cell ("NaN" for undefined, as the writers put it); anything unparsable is NaN too.
pub fn num(cell: &str) -> f64 {
    cell.trim().parse().unwrap_or(f64::NAN)
}

/// One series over days: the mean and its 95% band (NaN bounds when there is no band, as for a
/// single run).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Band {
    pub day: Vec<f64>,
    pub mean: Vec<f64>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

impl Band {
    fn push(&mut self, day: f64, mean: f64, lo: f64, hi: f64) {
        self.day.push(day);
        self.mean.push(mean);
        self.lo.push(lo);
        self.hi.push(hi);
    }

    pub fn len(&self) -> usize {
        self.day.len()
    }

    /// `other`'s days after this band's.
    fn extend(&mut self, other: Band) {
        if self.day.is_empty() {
            *self = other;
            return;
        }
        self.day.extend(other.day);
        self.mean.extend(other.mean);
        self.lo.extend(other.lo);
        self.hi.extend(other.hi);
    }

    /// Means of consecutive buckets of `size` days (finite values only; the last bucket may be
    /// shorter), each at the mean day of its bucket. A size of 0 or 1 returns the series as is.
    pub fn bucketed(&self, size: usize) -> Band {
        if size <= 1 {
            return self.clone();
        }
        let n = self.len();
        let mean_of = |xs: &[f64]| {
            let (s, k) = xs.iter().filter(|x| x.is_finite()).fold((0.0, 0usize), |(s, k), x| (s + x, k + 1));
            if k == 0 { f64::NAN } else { s / k as f64 }
        };
        let mut out = Band::default();
        for start in (0..n).step_by(size) {
            let r = start..(start + size).min(n);
            out.push(mean_of(&self.day[r.clone()]), mean_of(&self.mean[r.clone()]), mean_of(&self.lo[r.clone()]), mean_of(&self.hi[r]));
        }
        out
    }
}

/// Daily series of several scenarios: ensemble.csv of `sim compare`, or timeseries.csv of
/// `sim run` as a one-scenario set without bands.
#[derive(Debug, Clone, Default)]
pub struct SeriesSet {
    /// Scenario names as the file gives them, in order of first appearance.
    pub scenarios: Vec<String>,
    /// Metric names in order of first appearance.
    pub metrics: Vec<String>,
    series: BTreeMap<(usize, String), Band>,
}

impl SeriesSet {
    /// Reads ensemble.csv: scenario, day, metric, mean, ci_low, ci_high.
    /// Row by row: the file holds each series' days together, so a row usually extends the
    /// series the row before it did, and is added to it without a lookup.
    pub fn read_ensemble(path: &Path) -> io::Result<Self> {
        let mut r = csv::Reader::from_path(path).map_err(|e| invalid(path, e))?;
        let header: Vec<String> = r.headers().map_err(|e| invalid(path, e))?.iter().map(str::to_string).collect();
        let mut idx = Vec::new();
        for name in ["scenario", "day", "metric", "mean", "ci_low", "ci_high"] {
            idx.push(column(&header, path, name)?);
        }
        let (s, d, m, mean, lo, hi) = (idx[0], idx[1], idx[2], idx[3], idx[4], idx[5]);
        let mut set = SeriesSet::default();
        // The series being read: its (scenario, metric) key and its rows so far.
        let mut current: Option<((usize, String), Band)> = None;
        let mut row = csv::StringRecord::new();
        while r.read_record(&mut row).map_err(|e| invalid(path, e))? {
            let same = current.as_ref().is_some_and(|((k, metric), _)| set.scenarios[*k] == row[s] && *metric == row[m]);
            if !same {
                if let Some((key, band)) = current.take() {
                    set.series.entry(key).or_default().extend(band);
                }
                let scenario = set.scenario_index(&row[s]);
                set.note_metric(&row[m]);
                current = Some(((scenario, row[m].to_string()), Band::default()));
            }
            if let Some((_, band)) = current.as_mut() {
                band.push(num(&row[d]), num(&row[mean]), num(&row[lo]), num(&row[hi]));
            }
        }
        if let Some((key, band)) = current {
            set.series.entry(key).or_default().extend(band);
        }
        Ok(set)
    }

    /// Reads timeseries.csv (day and one column per metric) as the one scenario `name`.
    pub fn read_timeseries(path: &Path, name: &str) -> io::Result<Self> {
        let csv = Csv::read(path)?;
        let day = csv.column(path, "day")?;
        let mut set = SeriesSet { scenarios: vec![name.to_string()], ..Default::default() };
        for (c, metric) in csv.header.iter().enumerate().filter(|(c, _)| *c != day) {
            set.metrics.push(metric.clone());
            let mut band = Band::default();
            for row in &csv.rows {
                band.push(num(&row[day]), num(&row[c]), f64::NAN, f64::NAN);
            }
            set.series.insert((0, metric.clone()), band);
        }
        Ok(set)
    }

    /// Adds one run's series in memory (the same values timeseries.csv holds) as scenario `name`.
    pub fn push_run(&mut self, name: &str, series: &sim_core::metrics::TimeSeries) {
        let scenario = self.scenario_index(name);
        for &m in sim_core::metrics::Metric::ALL.iter() {
            self.note_metric(m.name());
            let mut band = Band::default();
            for (&day, &v) in series.days.iter().zip(series.get(m)) {
                band.push(day as f64, v, f64::NAN, f64::NAN);
            }
            self.series.insert((scenario, m.name().to_string()), band);
        }
    }

    fn scenario_index(&mut self, name: &str) -> usize {
        match self.scenarios.iter().position(|s| s == name) {
            Some(i) => i,
            None => {
                self.scenarios.push(name.to_string());
                self.scenarios.len() - 1
            }
        }
    }

    fn note_metric(&mut self, name: &str) {
        // Rows come metric by metric, so the last one is the usual match.
        if self.metrics.last().map(String::as_str) != Some(name) && !self.metrics.iter().any(|m| m == name) {
            self.metrics.push(name.to_string());
        }
    }

    /// The series of scenario `scenario` (an index into `scenarios`) and `metric`.
    pub fn get(&self, scenario: usize, metric: &str) -> Option<&Band> {
        self.series.get(&(scenario, metric.to_string()))
    }

    /// The longest series' number of days.
    pub fn days(&self) -> usize {
        self.series.values().map(Band::len).max().unwrap_or(0)
    }

    /// Whether any scenario has a finite value of `metric`.
    pub fn has_values(&self, metric: &str) -> bool {
        (0..self.scenarios.len()).any(|s| self.get(s, metric).is_some_and(|b| b.mean.iter().any(|v| v.is_finite())))
    }
}

/// A row of summary.csv: a metric's run summary across replicates of one scenario, over the
/// whole window (`window` "all") or one year of it ("year_1", ...).
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub scenario: String,
    pub window: String,
    pub metric: String,
    pub mean: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub n: f64,
}

/// Every row of summary.csv (a file without a `window` column is all whole-window rows).
pub fn read_summary_windows(path: &Path) -> io::Result<Vec<SummaryRow>> {
    let csv = Csv::read(path)?;
    let mut idx = Vec::new();
    for name in ["scenario", "metric", "mean", "ci_low", "ci_high", "n"] {
        idx.push(csv.column(path, name)?);
    }
    let window = csv.header.iter().position(|h| h == "window");
    Ok(csv
        .rows
        .iter()
        .map(|r| SummaryRow {
            scenario: r[idx[0]].to_string(),
            window: window.map(|w| r[w].to_string()).unwrap_or_else(|| "all".to_string()),
            metric: r[idx[1]].to_string(),
            mean: num(&r[idx[2]]),
            ci_low: num(&r[idx[3]]),
            ci_high: num(&r[idx[4]]),
            n: num(&r[idx[5]]),
        })
        .collect())
}

/// The whole-window rows of summary.csv.
pub fn read_summary(path: &Path) -> io::Result<Vec<SummaryRow>> {
    Ok(read_summary_windows(path)?.into_iter().filter(|r| r.window == "all").collect())
}

/// A row of effects.csv: scenario A (an option) minus scenario B (the baseline) on one metric,
/// paired over replicates.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectRow {
    pub scenario_a: String,
    pub scenario_b: String,
    pub metric: String,
    pub difference: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// As a percentage of the baseline's mean (NaN when the file has no such column).
    pub pct_change: f64,
    pub pct_ci_low: f64,
    pub pct_ci_high: f64,
    pub effect_size: f64,
    pub n: f64,
    /// Whether the CI's low (high) end was cut to the metric's bounds (false when the file has
    /// no such column: folders written before it).
    pub ci_low_clipped: bool,
    pub ci_high_clipped: bool,
}

pub fn read_effects(path: &Path) -> io::Result<Vec<EffectRow>> {
    let csv = Csv::read(path)?;
    let mut idx = Vec::new();
    for name in ["scenario_a", "scenario_b", "metric", "difference", "ci_low", "ci_high", "effect_size", "n"] {
        idx.push(csv.column(path, name)?);
    }
    let optional = |name: &str| csv.header.iter().position(|h| h == name);
    let (pct, pct_lo, pct_hi) = (optional("pct_change"), optional("pct_ci_low"), optional("pct_ci_high"));
    let cell = |r: &csv::StringRecord, c: Option<usize>| c.map(|c| num(&r[c])).unwrap_or(f64::NAN);
    let (low_cut, high_cut) = (optional("ci_low_clipped"), optional("ci_high_clipped"));
    let flag = |r: &csv::StringRecord, c: Option<usize>| c.is_some_and(|c| r[c].trim().eq_ignore_ascii_case("true"));
    Ok(csv
        .rows
        .iter()
        .map(|r| EffectRow {
            scenario_a: r[idx[0]].to_string(),
            scenario_b: r[idx[1]].to_string(),
            metric: r[idx[2]].to_string(),
            difference: num(&r[idx[3]]),
            ci_low: num(&r[idx[4]]),
            ci_high: num(&r[idx[5]]),
            pct_change: cell(r, pct),
            pct_ci_low: cell(r, pct_lo),
            pct_ci_high: cell(r, pct_hi),
            effect_size: num(&r[idx[6]]),
            n: num(&r[idx[7]]),
            ci_low_clipped: flag(r, low_cut),
            ci_high_clipped: flag(r, high_cut),
        })
        .collect())
}

/// A row of trends.csv: does a key metric of a scenario still drift over the window?
#[derive(Debug, Clone, PartialEq)]
pub struct TrendRow {
    pub scenario: String,
    pub metric: String,
    pub still_changing: bool,
}

/// trends.csv, or nothing when the folder has none (an older comparison).
pub fn read_trends(path: &Path) -> io::Result<Vec<TrendRow>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let csv = Csv::read(path)?;
    let (s, m, c) = (csv.column(path, "scenario")?, csv.column(path, "metric")?, csv.column(path, "still_changing")?);
    Ok(csv
        .rows
        .iter()
        .map(|r| TrendRow { scenario: r[s].to_string(), metric: r[m].to_string(), still_changing: &r[c] == "true" })
        .collect())
}

/// replicates.csv: per scenario, per metric, the replicates' summaries (empty when absent).
pub fn read_replicates(path: &Path) -> io::Result<BTreeMap<(String, String), Vec<f64>>> {
    let mut out = BTreeMap::new();
    if !path.exists() {
        return Ok(out);
    }
    let csv = Csv::read(path)?;
    let s = csv.column(path, "scenario")?;
    for r in &csv.rows {
        for (c, name) in csv.header.iter().enumerate().skip(3) {
            out.entry((r[s].to_string(), name.clone())).or_insert_with(Vec::new).push(num(&r[c]));
        }
    }
    Ok(out)
}

/// points.csv of a sweep: point_id, one column per varied parameter (named by its path), metric,
/// mean, ci_low, ci_high, n.
#[derive(Debug, Clone, Default)]
pub struct Points {
    /// Parameter paths, in column order.
    pub parameters: Vec<String>,
    /// Metric names in order of first appearance.
    pub metrics: Vec<String>,
    pub rows: Vec<PointRow>,
}

/// One point's summary of one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct PointRow {
    pub point_id: u64,
    /// The parameter values as written (numbers or category names), in `parameters` order.
    pub cells: Vec<String>,
    pub metric: String,
    pub mean: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub n: f64,
}

pub const POINT_TAIL: [&str; 5] = ["metric", "mean", "ci_low", "ci_high", "n"];

pub fn read_points(path: &Path) -> io::Result<Points> {
    let csv = Csv::read(path)?;
    let h = &csv.header;
    if h.len() < 1 + POINT_TAIL.len() || h[0] != "point_id" || h[h.len() - POINT_TAIL.len()..] != POINT_TAIL {
        return Err(invalid(path, "expected the columns point_id, <parameters...>, metric, mean, ci_low, ci_high, n"));
    }
    let k = h.len() - 1 - POINT_TAIL.len();
    let mut points = Points { parameters: h[1..=k].to_vec(), ..Default::default() };
    for r in &csv.rows {
        let metric = r[k + 1].to_string();
        if !points.metrics.contains(&metric) {
            points.metrics.push(metric.clone());
        }
        points.rows.push(PointRow {
            point_id: r[0].parse().map_err(|_| invalid(path, format!("point_id `{}` is not a number", &r[0])))?,
            cells: (1..=k).map(|c| r[c].to_string()).collect(),
            metric,
            mean: num(&r[k + 2]),
            ci_low: num(&r[k + 3]),
            ci_high: num(&r[k + 4]),
            n: num(&r[k + 5]),
        });
    }
    Ok(points)
}

/// A row of indices.csv: one sensitivity index of one parameter for one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRow {
    pub parameter: String,
    pub metric: String,
    /// `sobol` or `morris` (compared case-insensitively).
    pub method: String,
    /// `S1`, `ST` (Sobol); `mu`, `mu_star`, `sigma` (Morris).
    pub index: String,
    pub value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

pub fn read_indices(path: &Path) -> io::Result<Vec<IndexRow>> {
    let csv = Csv::read(path)?;
    let mut idx = Vec::new();
    for name in ["parameter", "metric", "method", "index", "value", "ci_low", "ci_high"] {
        idx.push(csv.column(path, name)?);
    }
    Ok(csv
        .rows
        .iter()
        .map(|r| IndexRow {
            parameter: r[idx[0]].to_string(),
            metric: r[idx[1]].to_string(),
            method: r[idx[2]].to_ascii_lowercase(),
            index: r[idx[3]].to_string(),
            value: num(&r[idx[4]]),
            ci_low: num(&r[idx[5]]),
            ci_high: num(&r[idx[6]]),
        })
        .collect())
}

/// Names in order of first appearance.
pub fn unique<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        if !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_average_consecutive_days() {
        let mut b = Band::default();
        for d in 0..10 {
            b.push(d as f64, if d == 3 { f64::NAN } else { d as f64 }, f64::NAN, f64::NAN);
        }
        assert_eq!(b.bucketed(1).day, b.day);
        let t = b.bucketed(2);
        assert_eq!(t.day, vec![0.5, 2.5, 4.5, 6.5, 8.5]);
        assert_eq!(t.mean[1], 2.0, "NaN days are left out of a bucket's mean");
        assert!(t.lo.iter().all(|x| x.is_nan()));
    }

    #[test]
    fn ensemble_rows_join_their_series_in_file_order_wherever_they_stand() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ensemble.csv");
        // Columns out of the writer's order; b's wait rows split by a's and by another metric.
        let text = "metric,scenario,day,mean,ci_low,ci_high\n\
            wait,b,0,1,0.5,1.5\n\
            wait,a,0,2,NaN,NaN\n\
            wait,a,1,3,2,4\n\
            cost,b,0,9,8,10\n\
            wait,b,1,5,4,6\n\
            wait,b,2, 6 ,x,7\n";
        std::fs::write(&path, text).unwrap();
        let set = SeriesSet::read_ensemble(&path).unwrap();
        assert_eq!(set.scenarios, ["b", "a"]);
        assert_eq!(set.metrics, ["wait", "cost"]);
        let b = set.get(0, "wait").unwrap();
        assert_eq!(b.day, [0.0, 1.0, 2.0]);
        assert_eq!(b.mean, [1.0, 5.0, 6.0]);
        assert_eq!(b.hi, [1.5, 6.0, 7.0]);
        assert!(b.lo[2].is_nan(), "an unparsable cell is NaN");
        let a = set.get(1, "wait").unwrap();
        assert_eq!((a.day.as_slice(), a.mean.as_slice()), ([0.0, 1.0].as_slice(), [2.0, 3.0].as_slice()));
        assert_eq!(set.get(0, "cost").unwrap().mean, [9.0]);
        assert!(set.get(1, "cost").is_none());
        std::fs::write(&path, "scenario,day,metric,mean,ci_low\n").unwrap();
        let e = SeriesSet::read_ensemble(&path).unwrap_err().to_string();
        assert!(e.contains("ensemble.csv") && e.contains("no column `ci_high`"), "{e}");
    }
}
