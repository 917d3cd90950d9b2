//! Ensembles: replicates of one scenario summarised per day (mean and 95% CI of every metric) and
//! per run, and pairwise effects between scenarios. Replicate r of every scenario uses the same
//! seed (common random numbers), so differences are paired: less noise for the same runs.

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
        let daily =
            Metric::ALL.iter().map(|&m| (0..days.len()).map(|d| Estimate::of(runs.iter().map(|r| r.series.get(m)[d]))).collect()).collect();
        Self { scenario: scenario.to_string(), days, daily, summaries: runs.iter().map(|r| r.summary.clone()).collect() }
    }

    /// The per-replicate summary values of a metric, in replicate order.
    pub fn summary_values(&self, metric: Metric) -> Vec<f64> {
        self.summaries.iter().map(|s| s.get(metric.name()).unwrap_or(f64::NAN)).collect()
    }

    /// Mean and CI across replicates of a metric's run summary.
    pub fn summary(&self, metric: Metric) -> Estimate {
        Estimate::of(self.summary_values(metric))
    }
}

/// The effect of scenario A relative to B on one metric's run summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effect {
    pub scenario_a: String,
    pub scenario_b: String,
    pub metric: &'static str,
    /// Mean of A - B over paired replicates, with its 95% CI.
    pub difference: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Hedges' g: the difference over the pooled standard deviation, small-sample corrected
    /// (Hedges 1981). NaN when both spreads are zero.
    pub effect_size: f64,
    /// Pairs with finite values in both.
    pub n: usize,
}

/// Paired effects of A vs B for every metric.
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
            Effect {
                scenario_a: a.scenario.clone(),
                scenario_b: b.scenario.clone(),
                metric: m.name(),
                difference,
                ci_low,
                ci_high,
                effect_size: hedges_g(&ga, &gb),
                n: pairs.len(),
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
    fn estimate_skips_undefined_values() {
        let e = Estimate::of([1.0, f64::NAN, 3.0]);
        assert_eq!((e.mean, e.n), (2.0, 2));
        assert!(e.ci_low < 2.0 && e.ci_high > 2.0);
    }
}
