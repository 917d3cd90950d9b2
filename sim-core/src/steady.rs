//! Is the summary window a steady state? (MODEL.md §10: "a summary over a window assumes the
//! window is steady: show the trend when it is not".) Two standard tools, both pure functions of
//! a series:
//!
//! - [`mser`] / [`mser5`]: the MSER-5 truncation rule (White 1997, "An effective truncation
//!   heuristic for bias reduction in simulation output", Simulation 69(6):323-334; White, Cobb &
//!   Spratt 2000; Hoad, Robinson & Davies 2010 recommend it among 40+ warm-up methods). The series
//!   is cut into non-overlapping batches of 5 observations; for each candidate truncation `d`
//!   (in batches) over the first half of the batches, the statistic
//!   `MSER(d) = sum_{j>d} (Z_j - mean_{>d} Z)^2 / (m - d)^2` (the squared marginal standard error
//!   of the truncated mean) is computed, and the `d` that minimises it is the truncation point.
//! - [`trend`]: an ordinary least-squares slope of a few (nearly independent) batch means against
//!   time, with a 95% confidence interval from Student's t on `n - 2` degrees of freedom (the
//!   classical regression t-test, e.g. Draper & Smith 1998, Applied Regression Analysis, §1.4;
//!   applied to batch means as in Law 2015, Simulation Modeling and Analysis, §9.5). The batches
//!   here are years of the summary window: the model's slowest loops (burnout, wellbeing, T*)
//!   have time constants of months, so yearly means are close to independent, which the t-test
//!   needs; a trend is *significant* when the interval excludes zero.
//!
//! [`steady_state`] applies both to the key metrics of a run: the means of each year of the
//! summary window (by the metric's own summary rule, so ratios are ratios of totals), the slope
//! per year with its CI, and the MSER-5 truncation day of the daily series from day 0.
//! `sim run` writes it into summary.json, `sim run` and `sim compare` warn on a trend, and
//! `sim warmup` reports the truncation points over replicates.

use serde::Serialize;

use crate::metrics::{Metric, RunSummary, TimeSeries, t_quantile_975};

/// The metrics whose steadiness every summary reports (the headline comparisons rest on them).
pub const KEY_METRICS: &[Metric] = &[
    Metric::FailureDemandShare,
    Metric::TrueResolutionRate,
    Metric::CostPerResolvedNeed,
    Metric::WaitMeanDays,
    Metric::BurnoutMean,
    Metric::Backlog,
];

/// Batch size of MSER-5 (White 1997).
pub const MSER_BATCH: usize = 5;

/// Days in one summary year.
pub const YEAR_DAYS: u32 = 365;

/// A last, partial year of the window is summarised only if it has at least this many days
/// (half a year); shorter tails are left out of the yearly means and the trend.
pub const MIN_PARTIAL_YEAR_DAYS: u32 = 182;

/// The result of an MSER truncation search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mser {
    /// Observations to delete from the start (a multiple of the batch size).
    pub truncation: usize,
    /// The minimised statistic (squared marginal standard error of the batch means kept).
    pub statistic: f64,
}

/// MSER with batches of `batch` observations (MSER-5 for `batch = 5`). Non-finite observations
/// (days on which a ratio is undefined) are skipped inside a batch; a batch with none takes the
/// previous batch's mean (the first finite one for leading empty batches). Candidates are the
/// truncations of 0 to half of the batches, as White (1997) advises (a minimum further out means
/// the series is too short to tell). Returns `None` for fewer than 4 batches or an all-undefined
/// series.
pub fn mser(series: &[f64], batch: usize) -> Option<Mser> {
    let batch = batch.max(1);
    let m = series.len() / batch;
    if m < 4 {
        return None;
    }
    let mut means: Vec<f64> = series
        .chunks_exact(batch)
        .map(|c| {
            let (s, n) = c.iter().filter(|x| x.is_finite()).fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
            if n > 0 { s / n as f64 } else { f64::NAN }
        })
        .collect();
    let first = means.iter().copied().find(|x| x.is_finite())?;
    let mut last = first;
    for z in &mut means {
        if z.is_finite() {
            last = *z;
        } else {
            *z = last;
        }
    }
    // Suffix sums give every candidate's mean and sum of squares in one pass.
    let (mut sum, mut sq) = (vec![0.0; m + 1], vec![0.0; m + 1]);
    for j in (0..m).rev() {
        sum[j] = sum[j + 1] + means[j];
        sq[j] = sq[j + 1] + means[j] * means[j];
    }
    let mut best = Mser { truncation: 0, statistic: f64::INFINITY };
    for d in 0..=m / 2 {
        let k = (m - d) as f64;
        let ss = (sq[d] - sum[d] * sum[d] / k).max(0.0);
        let stat = ss / (k * k);
        if stat < best.statistic {
            best = Mser { truncation: d * batch, statistic: stat };
        }
    }
    Some(best)
}

/// MSER-5: the truncation point (in observations) of `series`, see [`mser`].
pub fn mser5(series: &[f64]) -> Option<usize> {
    mser(series, MSER_BATCH).map(|r| r.truncation)
}

/// An OLS slope with its 95% CI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trend {
    /// Change per unit of x.
    pub slope: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Points used (finite y).
    pub n: usize,
}

impl Trend {
    /// The CI excludes zero. False when there are too few points for an interval (n < 3).
    pub fn significant(&self) -> bool {
        self.ci_low > 0.0 || self.ci_high < 0.0
    }
}

/// OLS slope of `y` on `x` over the points where `y` is finite, with a 95% CI
/// `b ± t_{0.975, n-2} sqrt(s^2 / Sxx)`. With 2 points the slope has no interval (NaN bounds);
/// with fewer, or no spread in x, everything is NaN.
pub fn trend(x: &[f64], y: &[f64]) -> Trend {
    let pts: Vec<(f64, f64)> = x.iter().zip(y).filter(|(a, b)| a.is_finite() && b.is_finite()).map(|(a, b)| (*a, *b)).collect();
    let n = pts.len();
    let nan = Trend { slope: f64::NAN, ci_low: f64::NAN, ci_high: f64::NAN, n };
    if n < 2 {
        return nan;
    }
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx <= 0.0 {
        return nan;
    }
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    if n < 3 {
        return Trend { slope, ..nan };
    }
    let rss: f64 = pts.iter().map(|p| (p.1 - my - slope * (p.0 - mx)).powi(2)).sum();
    let half = t_quantile_975(n - 2) * (rss / (n - 2) as f64 / sxx).sqrt();
    Trend { slope, ci_low: slope - half, ci_high: slope + half, n }
}

/// One year of the summary window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YearMean {
    /// First and last day of the year (inclusive).
    pub from_day: u32,
    pub to_day: u32,
    /// The metric's summary over the year (ratio of totals for ratios); None where undefined.
    pub mean: Option<f64>,
}

/// The steadiness of one metric over a run's summary window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricSteadiness {
    /// Summaries of each year of the window (a last partial year of at least 182 days included).
    pub years: Vec<YearMean>,
    /// OLS slope of the yearly means against the years' mid-days, per year, with its 95% CI
    /// (Student's t, n - 2 df); None where undefined (fewer than 3 years for the interval).
    pub slope_per_year: Option<f64>,
    pub slope_ci_low: Option<f64>,
    pub slope_ci_high: Option<f64>,
    /// The CI of the slope excludes 0.
    pub significant_trend: bool,
    /// Last year's mean minus the first year's.
    pub change_first_to_last_year: Option<f64>,
    /// MSER-5 truncation point of the daily series from day 0, in days (White 1997).
    pub mser5_truncation_day: Option<u32>,
}

/// Three significant digits, plain where that reads well.
pub fn short(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    if (-3..6).contains(&mag) {
        let decimals = (2 - mag).max(0) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.2e}")
    }
}

/// The steadiness of the key metrics of a run, in [`KEY_METRICS`] order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SteadyState {
    /// How it was measured, in words (for readers of summary.json).
    pub method: &'static str,
    /// Metric name -> its steadiness (a JSON object in metric order).
    #[serde(serialize_with = "as_map")]
    pub metrics: Vec<(&'static str, MetricSteadiness)>,
}

fn as_map<S: serde::Serializer>(v: &[(&'static str, MetricSteadiness)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(v.iter().map(|(k, m)| (*k, m)))
}

const METHOD: &str = "yearly means of the summary window (each metric's summary rule; a last partial year of >= 182 days included); OLS slope of the yearly means per year with a 95% CI from Student's t on n-2 df, significant when the CI excludes 0; MSER-5 truncation day of the daily series from day 0 (White 1997)";

/// The window's years: `[from, from + 365)`, ... up to `end` (inclusive), the last kept if it has
/// at least [`MIN_PARTIAL_YEAR_DAYS`] days.
pub fn years(from: u32, end: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut a = from;
    while a <= end {
        let b = (a + YEAR_DAYS - 1).min(end);
        if b - a + 1 >= MIN_PARTIAL_YEAR_DAYS {
            out.push((a, b));
        }
        a += YEAR_DAYS;
    }
    out
}

/// The summaries (by each metric's rule) of days `from..=to` of `series`.
pub fn summary_between(series: &TimeSeries, from: u32, to: u32) -> RunSummary {
    let keep: Vec<usize> = series.days.iter().enumerate().filter(|(_, d)| **d >= from && **d <= to).map(|(i, _)| i).collect();
    let sub = TimeSeries {
        days: keep.iter().map(|&i| series.days[i]).collect(),
        columns: series.columns.iter().map(|c| keep.iter().map(|&i| c[i]).collect()).collect(),
    };
    RunSummary::from_series(&sub, from, &|_| f64::NAN)
}

/// Yearly means over days `from..` (the summary window), their trend and the MSER-5 truncation
/// day, for each of `metrics`.
pub fn steadiness(series: &TimeSeries, from: u32, metrics: &[Metric]) -> Vec<(&'static str, MetricSteadiness)> {
    let end = series.days.last().copied().unwrap_or(0);
    let spans = if series.is_empty() { Vec::new() } else { years(from, end) };
    let yearly: Vec<RunSummary> = spans.iter().map(|&(a, b)| summary_between(series, a, b)).collect();
    let mid: Vec<f64> = spans.iter().map(|&(a, b)| (a as f64 + b as f64) / 2.0 / YEAR_DAYS as f64).collect();
    let finite = |x: f64| x.is_finite().then_some(x);
    metrics
        .iter()
        .map(|&m| {
            let ys: Vec<f64> = yearly.iter().map(|s| s.get(m.name()).unwrap_or(f64::NAN)).collect();
            let t = trend(&mid, &ys);
            let defined: Vec<f64> = ys.iter().copied().filter(|x| x.is_finite()).collect();
            let change = (defined.len() >= 2).then(|| defined[defined.len() - 1] - defined[0]);
            let first_day = series.days.first().copied().unwrap_or(0);
            let steadiness = MetricSteadiness {
                years: spans.iter().zip(&ys).map(|(&(a, b), &y)| YearMean { from_day: a, to_day: b, mean: finite(y) }).collect(),
                slope_per_year: finite(t.slope),
                slope_ci_low: finite(t.ci_low),
                slope_ci_high: finite(t.ci_high),
                significant_trend: t.significant(),
                change_first_to_last_year: change,
                mser5_truncation_day: mser5(series.get(m)).map(|k| first_day + k as u32),
            };
            (m.name(), steadiness)
        })
        .collect()
}

/// [`steadiness`] of the [`KEY_METRICS`] over the window starting at `from`.
pub fn steady_state(series: &TimeSeries, from: u32) -> SteadyState {
    SteadyState { method: METHOD, metrics: steadiness(series, from, KEY_METRICS) }
}

/// The steadiness of an ensemble: per metric, each year's mean over replicates, the mean slope
/// over replicates with a 95% CI across them (replicates are independent runs, so the t-test
/// needs no assumption about autocorrelation within a run; significant when it excludes 0), the
/// mean change from the first to the last year, and the median MSER-5 truncation day.
/// Replicates must share the horizon and warm-up.
pub fn pooled(runs: &[SteadyState]) -> SteadyState {
    let Some(first) = runs.first() else {
        return SteadyState { method: METHOD_POOLED, metrics: Vec::new() };
    };
    let metrics = first
        .metrics
        .iter()
        .enumerate()
        .map(|(k, (name, m0))| {
            let of = |r: &SteadyState| r.metrics[k].1.clone();
            let all: Vec<MetricSteadiness> = runs.iter().map(of).collect();
            let mean_of = |xs: Vec<Option<f64>>| -> Option<f64> {
                let v: Vec<f64> = xs.into_iter().flatten().collect();
                (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
            };
            let years = m0
                .years
                .iter()
                .enumerate()
                .map(|(y, ym)| YearMean {
                    from_day: ym.from_day,
                    to_day: ym.to_day,
                    mean: mean_of(all.iter().map(|m| m.years.get(y).and_then(|v| v.mean)).collect()),
                })
                .collect();
            let t = mean_trend(&all.iter().map(|m| m.slope_per_year.unwrap_or(f64::NAN)).collect::<Vec<_>>());
            let mut cuts: Vec<u32> = all.iter().filter_map(|m| m.mser5_truncation_day).collect();
            cuts.sort_unstable();
            let finite = |x: f64| x.is_finite().then_some(x);
            let steadiness = MetricSteadiness {
                years,
                slope_per_year: finite(t.slope),
                slope_ci_low: finite(t.ci_low),
                slope_ci_high: finite(t.ci_high),
                significant_trend: t.significant(),
                change_first_to_last_year: mean_of(all.iter().map(|m| m.change_first_to_last_year).collect()),
                mser5_truncation_day: cuts.get(cuts.len() / 2).copied(),
            };
            (*name, steadiness)
        })
        .collect();
    SteadyState { method: METHOD_POOLED, metrics }
}

const METHOD_POOLED: &str = "over replicates: yearly means averaged; the mean of the replicates' OLS slopes per year with a 95% CI across replicates (Student's t), significant when the CI excludes 0; the median of the replicates' MSER-5 truncation days (White 1997)";

/// Replicates' slopes of one metric reduced to a mean slope with a 95% CI across replicates
/// (independent runs, so the t-test needs no assumption about autocorrelation within a run).
pub fn mean_trend(slopes: &[f64]) -> Trend {
    let finite: Vec<f64> = slopes.iter().copied().filter(|x| x.is_finite()).collect();
    let (slope, ci_low, ci_high) = crate::metrics::mean_ci95(&finite);
    Trend { slope, ci_low, ci_high, n: finite.len() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;
    use rand_distr::{Distribution, Normal};

    fn noise(seed: u64, n: usize, sd: f64) -> Vec<f64> {
        let mut rng = crate::rng::from_u64(seed);
        let d = Normal::new(0.0, sd).unwrap();
        (0..n).map(|_| d.sample(&mut rng)).collect()
    }

    #[test]
    fn mser5_truncates_near_the_end_of_an_initial_transient() {
        // An exponential transient (time constant 40 days, so ~ gone by day 200) on noise.
        for seed in 0..20 {
            let y: Vec<f64> = noise(seed, 1500, 1.0).iter().enumerate().map(|(t, e)| 10.0 * (-(t as f64) / 40.0).exp() + e).collect();
            let d = mser5(&y).unwrap();
            assert!((60..=300).contains(&d), "seed {seed}: truncation {d}");
            assert_eq!(d % MSER_BATCH, 0);
        }
        // A step: level 5 for 300 days, then 0.
        let y: Vec<f64> = noise(99, 1200, 0.5).iter().enumerate().map(|(t, e)| if t < 300 { 5.0 + e } else { *e }).collect();
        let d = mser5(&y).unwrap();
        assert!((295..=320).contains(&d), "step at 300: truncation {d}");
    }

    #[test]
    fn mser5_keeps_a_stationary_series_and_handles_gaps() {
        let mut early = 0;
        for seed in 0..40 {
            let y = noise(1000 + seed, 1000, 1.0);
            let d = mser5(&y).unwrap();
            if d <= 100 {
                early += 1;
            }
        }
        // Without a transient the minimum falls anywhere, usually early; never past half-way.
        assert!(early >= 20, "{early} of 40 stationary series truncated within 100 days");
        let mut y = noise(5, 100, 1.0);
        y[0..7].fill(f64::NAN);
        y[50] = f64::NAN;
        assert!(mser5(&y).unwrap() <= 50);
        assert_eq!(mser5(&[1.0; 19]), None);
        assert_eq!(mser5(&[f64::NAN; 40]), None);
    }

    #[test]
    fn trend_known_values_and_small_samples() {
        let t = trend(&[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 6.0, 8.0]);
        assert_eq!((t.slope, t.ci_low, t.ci_high), (2.0, 2.0, 2.0));
        // y = 1, 3, 2: slope 0.5, residuals -0.25 ... s^2 = 1.5/1, Sxx = 2: half = 12.706 * sqrt(0.75)
        let t = trend(&[0.0, 1.0, 2.0], &[1.0, 3.0, 2.0]);
        assert!((t.slope - 0.5).abs() < 1e-12);
        assert!((t.ci_high - 0.5 - 12.706 * 0.75f64.sqrt()).abs() < 1e-9);
        assert!(!t.significant());
        let t = trend(&[0.0, 1.0], &[0.0, 5.0]);
        assert_eq!(t.slope, 5.0);
        assert!(t.ci_low.is_nan() && !t.significant());
        assert!(trend(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).slope.is_nan());
        assert_eq!(trend(&[0.0, 1.0, 2.0, 3.0], &[1.0, f64::NAN, 3.0, 4.0]).n, 3);
    }

    /// Yearly means of a daily series of `years` years, the way `steadiness` forms them.
    fn yearly(y: &[f64]) -> Vec<f64> {
        y.chunks(365).map(|c| c.iter().sum::<f64>() / c.len() as f64).collect()
    }

    #[test]
    fn stationary_series_are_flagged_at_about_the_nominal_rate() {
        // 400 stationary series of five years (AR(1) days, phi 0.9: autocorrelated like the
        // model's daily metrics): a 5% test flags about 5%; allow 1.5% to 9% (binomial, n = 400).
        let mut flagged = 0;
        let x: Vec<f64> = (0..5).map(|k| k as f64 + 0.5).collect();
        for seed in 0..400 {
            let e = noise(7000 + seed, 5 * 365, 1.0);
            let mut y = Vec::with_capacity(e.len());
            let mut prev = 0.0;
            for v in e {
                prev = 0.9 * prev + v;
                y.push(10.0 + prev);
            }
            if trend(&x, &yearly(&y)).significant() {
                flagged += 1;
            }
        }
        assert!((6..=36).contains(&flagged), "{flagged} of 400 stationary series flagged");
    }

    #[test]
    fn linear_drift_is_flagged() {
        let x: Vec<f64> = (0..5).map(|k| k as f64 + 0.5).collect();
        for seed in 0..50 {
            // Drift of 0.5 a year against daily noise of sd 1 (a yearly mean's sd is ~0.05).
            let y: Vec<f64> = noise(100 + seed, 5 * 365, 1.0).iter().enumerate().map(|(t, e)| 3.0 - 0.5 * t as f64 / 365.0 + e).collect();
            let t = trend(&x, &yearly(&y));
            assert!(t.significant() && t.ci_high < 0.0, "seed {seed}: {t:?}");
            assert!((t.slope + 0.5).abs() < 0.1);
        }
    }

    #[test]
    fn pooled_steadiness_tests_slopes_across_replicates() {
        let run = |seed: u64, drift: f64| {
            let days = 3 * 365 + 100;
            let mut s = TimeSeries::with_capacity(days);
            let e = noise(seed, days, 1.0);
            for day in 0..days as u32 {
                let mut r = [0.0; Metric::COUNT];
                r[Metric::BurnoutMean as usize] = 5.0 + drift * day as f64 / 365.0 + e[day as usize];
                s.push(day, &r);
            }
            steady_state(&s, 100)
        };
        let flat: Vec<SteadyState> = (0..10).map(|k| run(k, 0.0)).collect();
        let drifting: Vec<SteadyState> = (0..10).map(|k| run(k, 0.3)).collect();
        let burnout = |p: &SteadyState| p.metrics.iter().find(|(n, _)| *n == "burnout_mean").unwrap().1.clone();
        let (f, d) = (burnout(&pooled(&flat)), burnout(&pooled(&drifting)));
        assert!(!f.significant_trend, "{f:?}");
        assert!(d.significant_trend && (d.slope_per_year.unwrap() - 0.3).abs() < 0.05, "{d:?}");
        assert_eq!(d.years.len(), 3);
        assert!((d.change_first_to_last_year.unwrap() - 0.6).abs() < 0.05, "{d:?}");
        assert!(pooled(&[]).metrics.is_empty());
    }

    #[test]
    fn steadiness_of_a_series_uses_summary_rules_and_warns_on_drift() {
        let days = 5 * 365 + 180;
        let mut s = TimeSeries::with_capacity(days);
        let mut rng = crate::rng::from_u64(4);
        for day in 0..days as u32 {
            let mut r = [0.0; Metric::COUNT];
            // Failure demand falls from 50% to 30% over the run; backlog is flat with noise.
            let share = 0.5 - 0.2 * day as f64 / days as f64;
            r[Metric::CasesArrived as usize] = 100.0;
            r[Metric::DemandFailure as usize] = 100.0 * share;
            r[Metric::Backlog as usize] = 50.0 + rng.random::<f64>();
            r[Metric::WaitMeanDays as usize] = f64::NAN;
            s.push(day, &r);
        }
        let st = steady_state(&s, 180);
        let get = |name: &str| &st.metrics.iter().find(|(n, _)| *n == name).unwrap().1;
        let fd = get("failure_demand_share");
        assert_eq!(fd.years.len(), 5);
        assert_eq!((fd.years[0].from_day, fd.years[0].to_day), (180, 544));
        assert!(fd.significant_trend && fd.slope_per_year.unwrap() < 0.0);
        // From 0.464 in the first year (mid-day 362) to 0.318 in the fifth (mid-day 1822).
        assert!((fd.change_first_to_last_year.unwrap() + 0.146).abs() < 0.005, "{fd:?}");
        let backlog = get("backlog");
        assert!(!backlog.significant_trend, "{backlog:?}");
        let wait = get("wait_mean_days");
        assert!(wait.years.iter().all(|y| y.mean.is_none()) && !wait.significant_trend && wait.mser5_truncation_day.is_none());
        // The tail of 180 days is below the half-year minimum: left out.
        assert_eq!(years(180, 5 * 365 + 179), vec![(180, 544), (545, 909), (910, 1274), (1275, 1639), (1640, 2004)]);
        assert_eq!(years(180, 1824).len(), 5);
        assert_eq!(years(180, 1700).len(), 4);
    }
}
