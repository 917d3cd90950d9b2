//! Ensembles: replicates of one scenario summarised per day (mean and 95% CI of every metric) and
//! per run, and pairwise effects between scenarios. Replicate r of every scenario uses the same
//! seed (common random numbers), so differences are paired: less noise for the same runs.
//!
//! Intervals of a bounded metric are clipped to its natural bounds (`Metric::bounds`): a share's
//! interval never leaves [0, 1], a difference of shares never leaves [-1, 1]. Student's t
//! intervals are symmetric and can overshoot a bound near it; clipping keeps the part of the
//! interval the metric can take.

use serde::Serialize;

use crate::metrics::{Metric, RunSummary, mean_ci95};
use crate::model::RunOutput;

/// Mean and 95% CI (Student's t) of one quantity across replicates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub mean: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Replicates with a finite value.
    pub n: usize,
}

impl Estimate {
    /// From the finite values among `xs` (NaN marks an undefined day or run).
    pub fn of(xs: impl IntoIterator<Item = f64>) -> Self {
        let finite: Vec<f64> = xs.into_iter().filter(|x| x.is_finite()).collect();
        let (mean, ci_low, ci_high) = mean_ci95(&finite);
        Self { mean, ci_low, ci_high, n: finite.len() }
    }

    /// [`Estimate::of`] with the interval clipped to `metric`'s natural bounds.
    pub fn of_metric(metric: Metric, xs: impl IntoIterator<Item = f64>) -> Self {
        let e = Self::of(xs);
        Self { ci_low: metric.clamp(e.ci_low), ci_high: metric.clamp(e.ci_high), ..e }
    }
}

/// Replicates of one scenario, reduced.
#[derive(Debug, Clone)]
pub struct Ensemble {
    pub scenario: String,
    pub days: Vec<u32>,
    /// `daily[metric][day]`, metrics in `Metric::ALL` order.
    pub daily: Vec<Vec<Estimate>>,
    /// One summary per replicate, in replicate order.
    pub summaries: Vec<RunSummary>,
}

impl Ensemble {
    /// Reduces the replicates' outputs (all of the same scenario and horizon).
    pub fn from_runs(scenario: &str, runs: &[RunOutput]) -> Self {
        let days = runs.first().map(|r| r.series.days.clone()).unwrap_or_default();
        let daily = Metric::ALL
            .iter()
            .map(|&m| (0..days.len()).map(|d| Estimate::of_metric(m, runs.iter().map(|r| r.series.get(m)[d]))).collect())
            .collect();
        Self { scenario: scenario.to_string(), days, daily, summaries: runs.iter().map(|r| r.summary.clone()).collect() }
    }

    /// The per-replicate summary values of a metric, in replicate order.
    pub fn summary_values(&self, metric: Metric) -> Vec<f64> {
        self.summaries.iter().map(|s| s.get(metric.name()).unwrap_or(f64::NAN)).collect()
    }

    /// Mean and CI across replicates of a metric's run summary.
    pub fn summary(&self, metric: Metric) -> Estimate {
        Estimate::of_metric(metric, self.summary_values(metric))
    }
}

/// The effect of scenario A (an option) relative to B (the baseline) on one metric's run summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effect {
    pub scenario_a: String,
    pub scenario_b: String,
    pub metric: &'static str,
    /// Mean of A - B over paired replicates, with its 95% CI (clipped to the differences the
    /// metric's bounds allow from B's mean).
    pub difference: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// B's mean over the same pairs.
    pub baseline_mean: f64,
    /// The difference and its CI as a percentage of B's mean (NaN when B's mean is 0).
    pub pct_change: f64,
    pub pct_ci_low: f64,
    pub pct_ci_high: f64,
    /// Hedges' g: the difference over the pooled standard deviation, small-sample corrected
    /// (Hedges 1981). NaN when both spreads are zero.
    pub effect_size: f64,
    /// Pairs with finite values in both.
    pub n: usize,
    /// Whether the CI's low (high) end was cut to the metric's bounds: the symmetric t interval
    /// reached past what the metric can take (the option's values lie close to a bound).
    pub ci_low_clipped: bool,
    pub ci_high_clipped: bool,
}

/// Paired effects of A (an option) against B (the baseline) for every metric: A - B.
pub fn effects(a: &Ensemble, b: &Ensemble) -> Vec<Effect> {
    Metric::ALL
        .iter()
        .map(|&m| {
            let (xa, xb) = (a.summary_values(m), b.summary_values(m));
            let pairs: Vec<(f64, f64)> =
                xa.iter().zip(&xb).filter(|(x, y)| x.is_finite() && y.is_finite()).map(|(x, y)| (*x, *y)).collect();
            let diffs: Vec<f64> = pairs.iter().map(|(x, y)| x - y).collect();
            let (difference, ci_low, ci_high) = mean_ci95(&diffs);
            let ga: Vec<f64> = pairs.iter().map(|p| p.0).collect();
            let gb: Vec<f64> = pairs.iter().map(|p| p.1).collect();
            let baseline_mean = if gb.is_empty() { f64::NAN } else { gb.iter().sum::<f64>() / gb.len() as f64 };
            // The option's value lies within the metric's bounds, so the difference from the
            // baseline's mean lies within [lo - mean, hi - mean] (a cost cannot fall by more
            // than 100%, a share not below 0).
            let (lo, hi) = m.bounds();
            let clip = |x: f64| if x.is_nan() || !baseline_mean.is_finite() { x } else { x.clamp(lo - baseline_mean, hi - baseline_mean) };
            let (raw_low, raw_high) = (ci_low, ci_high);
            let (ci_low, ci_high) = (clip(ci_low), clip(ci_high));
            let cut = |raw: f64, clipped: f64| raw.is_finite() && clipped != raw;
            let pct = |x: f64| if baseline_mean != 0.0 && baseline_mean.is_finite() { 100.0 * x / baseline_mean.abs() } else { f64::NAN };
            Effect {
                scenario_a: a.scenario.clone(),
                scenario_b: b.scenario.clone(),
                metric: m.name(),
                difference,
                ci_low,
                ci_high,
                baseline_mean,
                pct_change: pct(difference),
                pct_ci_low: pct(ci_low),
                pct_ci_high: pct(ci_high),
                effect_size: hedges_g(&ga, &gb),
                n: pairs.len(),
                ci_low_clipped: cut(raw_low, ci_low),
                ci_high_clipped: cut(raw_high, ci_high),
            }
        })
        .collect()
}

/// Hedges' g of two samples (pooled SD, small-sample correction J = 1 - 3/(4(na+nb) - 9)).
pub fn hedges_g(a: &[f64], b: &[f64]) -> f64 {
    let (na, nb) = (a.len() as f64, b.len() as f64);
    if na < 2.0 || nb < 2.0 {
        return f64::NAN;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let var = |v: &[f64], m: f64| v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0);
    let (ma, mb) = (mean(a), mean(b));
    let pooled = (((na - 1.0) * var(a, ma) + (nb - 1.0) * var(b, mb)) / (na + nb - 2.0)).sqrt();
    if pooled == 0.0 {
        return f64::NAN;
    }
    let j = 1.0 - 3.0 / (4.0 * (na + nb) - 9.0);
    j * (ma - mb) / pooled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hedges_g_known_value() {
        // Means 2 and 1, both sd 1 (var 1), n = 3 each: d = 1, J = 1 - 3/15 = 0.8.
        let g = hedges_g(&[1.0, 2.0, 3.0], &[0.0, 1.0, 2.0]);
        assert!((g - 0.8).abs() < 1e-12, "{g}");
        assert!(hedges_g(&[1.0, 1.0], &[1.0, 1.0]).is_nan());
    }

    #[test]
    fn intervals_of_bounded_metrics_stay_within_bounds() {
        // Shares near 0 with a wide spread: Student's t would reach below 0.
        let e = Estimate::of_metric(Metric::FailureDemandShare, [0.0, 0.01, 0.3]);
        assert!(Estimate::of([0.0, 0.01, 0.3]).ci_low < 0.0, "the unclipped interval overshoots");
        assert_eq!(e.ci_low, 0.0);
        assert!(e.ci_high <= 1.0 && e.ci_high > e.mean);
        let e = Estimate::of_metric(Metric::TrueResolutionRate, [1.0, 0.99, 0.6]);
        assert_eq!(e.ci_high, 1.0);
        // An unbounded-above metric keeps its upper bound.
        let raw = Estimate::of([1.0, 50.0, 200.0]);
        let e = Estimate::of_metric(Metric::Backlog, [1.0, 50.0, 200.0]);
        assert_eq!((e.ci_low, e.ci_high), (0.0, raw.ci_high));
    }

    #[test]
    fn effect_intervals_respect_the_bounds_from_the_baseline() {
        use crate::metrics::RunSummary;
        let ens = |name: &str, cost: &[f64], share: &[f64]| Ensemble {
            scenario: name.into(),
            days: Vec::new(),
            daily: Vec::new(),
            summaries: cost
                .iter()
                .zip(share)
                .map(|(&c, &s)| RunSummary {
                    window_start_day: 0,
                    window_end_day: 1,
                    metrics: vec![("cost_per_resolved_need", c), ("failure_demand_share", s)],
                    neighbourhood_wellbeing: Vec::new(),
                })
                .collect(),
        };
        // Big, noisy falls: the unclipped t interval would claim a fall of more than 100%.
        let option = ens("option", &[10.0, 400.0, 20.0], &[0.0, 0.3, 0.01]);
        let base = ens("base", &[500.0, 520.0, 480.0], &[0.3, 0.31, 0.29]);
        let e = effects(&option, &base);
        let cost = e.iter().find(|x| x.metric == "cost_per_resolved_need").unwrap();
        assert!(cost.ci_low >= -cost.baseline_mean - 1e-9 && cost.pct_ci_low >= -100.0 - 1e-9, "{cost:?}");
        assert!(cost.difference < 0.0 && cost.pct_change < 0.0);
        let share = e.iter().find(|x| x.metric == "failure_demand_share").unwrap();
        assert!(share.ci_low >= -0.3 - 1e-9 && share.ci_high <= 0.7 + 1e-9, "{share:?}");
        assert_eq!(share.scenario_a, "option");
        // Marked where cut: the cost's low end (the t interval passes -100%), nothing else.
        assert!(cost.ci_low_clipped && !cost.ci_high_clipped, "{cost:?}");
        assert_eq!(cost.ci_low, -cost.baseline_mean);
        let quiet = effects(&base, &base);
        assert!(quiet.iter().all(|x| !x.ci_low_clipped && !x.ci_high_clipped), "no difference, nothing cut");
    }

    #[test]
    fn estimate_skips_undefined_values() {
        let e = Estimate::of([1.0, f64::NAN, 3.0]);
        assert_eq!((e.mean, e.n), (2.0, 2));
        assert!(e.ci_low < 2.0 && e.ci_high > 2.0);
    }
}
