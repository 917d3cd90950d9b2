//! `sim compare ... --posterior DIR/posterior.csv`: parameter uncertainty carried into a
//! comparison. The replicates come in draws of `--seeds-per-draw` K: draw d (replicates dK to
//! dK + K - 1) takes one particle of the posterior, chosen by weight from the stream keyed by
//! (master seed, d), and sets its parameters in every scenario, so options are compared on the
//! same parameters (paired) as well as on the same seeds (common random numbers).
//!
//! Which share of an effect's spread comes from what (uncertainty.csv): with D draws of K seeds
//! and paired effects e_dk (option minus baseline), the one-way random-effects decomposition (the
//! law of total variance, Var e = Var_d E[e | d] + E_d Var[e | d]; Searle, Casella & McCulloch
//! 1992, ch. 3) estimates the run-to-run noise within a draw as W = mean over d of the sample
//! variance of e_d., and the variance from the parameters as P = max(0, B - W / K), B the sample
//! variance of the draw means. Their shares are P / (P + W) and W / (P + W). The interval of the
//! effect that carries both is the 5% to 95% range of the e_dk (`effect_low`, `effect_high`).

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use rand::RngExt;
use sim_core::metrics::{Metric, RunSummary, quantile_sorted};
use sim_core::rng;
use sim_core::scenario::{Override, Scenario};

use crate::CliError;
use crate::output::number;

/// The posterior's particles: parameter paths, weights, values.
pub struct Posterior {
    pub file: String,
    pub paths: Vec<String>,
    pub weights: Vec<f64>,
    pub theta: Vec<Vec<f64>>,
}

/// Columns of posterior.csv before the parameters (see `calibrate`).
const FIXED: [&str; 7] = ["particle", "generation", "weight", "distance", "tolerance", "simulations", "attempts"];

impl Posterior {
    pub fn read(path: &Path) -> Result<Self, CliError> {
        let file = path.display().to_string();
        let bad = |m: String| CliError::BadInput(format!("--posterior {file}: {m}"));
        let text = fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
        if header.len() <= FIXED.len() || header[..FIXED.len()] != FIXED {
            return Err(bad(format!(
                "not a posterior.csv of `sim calibrate` (its header must start {} and name at least one parameter)",
                FIXED.join(",")
            )));
        }
        let paths: Vec<String> = header[FIXED.len()..].iter().map(|s| s.to_string()).collect();
        let (mut weights, mut theta) = (Vec::new(), Vec::new());
        for (i, line) in lines.enumerate() {
            let cells: Vec<&str> = line.split(',').collect();
            let num = |j: usize| -> Result<f64, CliError> {
                cells.get(j).and_then(|c| c.parse::<f64>().ok()).filter(|x| x.is_finite()).ok_or_else(|| {
                    bad(format!("line {}: column `{}` is not a finite number", i + 2, header.get(j).copied().unwrap_or("?")))
                })
            };
            if cells.len() != header.len() {
                return Err(bad(format!("line {}: {} cells where the header has {}", i + 2, cells.len(), header.len())));
            }
            let w = num(2)?;
            if w < 0.0 {
                return Err(bad(format!("line {}: negative weight {w}", i + 2)));
            }
            weights.push(w);
            theta.push((FIXED.len()..header.len()).map(num).collect::<Result<Vec<_>, _>>()?);
        }
        if weights.is_empty() || weights.iter().sum::<f64>() <= 0.0 {
            return Err(bad("no particles with positive weight".into()));
        }
        Ok(Self { file, paths, weights, theta })
    }

    /// The particle of draw `d` (by weight, from the stream keyed by (master, d)).
    pub fn draw(&self, master: u64, d: u64) -> usize {
        let total: f64 = self.weights.iter().sum();
        let u = rng::keyed_stream(master, "compare-posterior", &[d]).random::<f64>() * total;
        let mut c = 0.0;
        for (i, w) in self.weights.iter().enumerate() {
            c += w;
            if u < c {
                return i;
            }
        }
        self.weights.len() - 1
    }

    /// The overrides of particle `i`. Whole-number parameters are rounded (as `sim calibrate`
    /// applies them) when the scenario rejects a fraction.
    pub fn overrides(&self, i: usize) -> Vec<(String, f64)> {
        self.paths.iter().cloned().zip(self.theta[i].iter().copied()).collect()
    }
}

/// Loads `path` (or the built-in default) with `set` and the particle's values.
pub fn scenario_with(path: &Path, set: &[String], values: &[(String, f64)]) -> Result<Scenario, CliError> {
    let specs = Scenario::parameter_specs();
    let mut all: Vec<String> = set.to_vec();
    for (p, x) in values {
        let leaf = p.rsplit('.').next().unwrap_or(p);
        let integer = specs.iter().any(|s| s.name == leaf && !s.default.contains(['.', 'e', 'E', '"']) && s.default.parse::<i64>().is_ok());
        all.push(if integer { format!("{p}={}", x.round() as i64) } else { format!("{p}={x:?}") });
    }
    let overrides = all.iter().map(|s| Override::parse(s)).collect::<Result<Vec<_>, _>>()?;
    Ok(Scenario::from_file(path, &overrides)?)
}

/// One row of uncertainty.csv.
pub struct Decomposition {
    pub option: String,
    pub baseline: String,
    pub metric: Metric,
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    pub var_parameters: f64,
    pub var_noise: f64,
    pub draws: usize,
}

impl Decomposition {
    pub fn share_parameters(&self) -> f64 {
        let t = self.var_parameters + self.var_noise;
        if t > 0.0 { self.var_parameters / t } else { f64::NAN }
    }
}

fn var(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return f64::NAN;
    }
    let m = xs.iter().sum::<f64>() / xs.len() as f64;
    xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64
}

/// The decomposition of each metric's paired effect, option minus baseline (see the module doc).
pub fn decompose(option: (&str, &[RunSummary]), baseline: (&str, &[RunSummary]), k: usize) -> Vec<Decomposition> {
    Metric::ALL
        .iter()
        .filter_map(|&m| {
            let e: Vec<f64> = option
                .1
                .iter()
                .zip(baseline.1)
                .map(|(a, b)| a.get(m.name()).unwrap_or(f64::NAN) - b.get(m.name()).unwrap_or(f64::NAN))
                .collect();
            // Draws whose every replicate has a value.
            let groups: Vec<&[f64]> = e.chunks(k).filter(|g| g.len() == k && g.iter().all(|x| x.is_finite())).collect();
            if groups.len() < 2 {
                return None;
            }
            let within = groups.iter().map(|g| var(g)).sum::<f64>() / groups.len() as f64;
            let means: Vec<f64> = groups.iter().map(|g| g.iter().sum::<f64>() / k as f64).collect();
            let between = var(&means);
            let mut all: Vec<f64> = groups.iter().flat_map(|g| g.iter().copied()).collect();
            all.sort_by(f64::total_cmp);
            Some(Decomposition {
                option: option.0.to_string(),
                baseline: baseline.0.to_string(),
                metric: m,
                mean: all.iter().sum::<f64>() / all.len() as f64,
                low: quantile_sorted(&all, 0.05),
                high: quantile_sorted(&all, 0.95),
                var_parameters: (between - within / k as f64).max(0.0),
                var_noise: within,
                draws: groups.len(),
            })
        })
        .collect()
}

pub fn write_uncertainty(dir: &Path, rows: &[Decomposition], k: usize) -> io::Result<()> {
    let mut w = csv::Writer::from_path(dir.join("uncertainty.csv"))?;
    w.write_record([
        "scenario_a",
        "scenario_b",
        "metric",
        "effect_mean",
        "effect_low",
        "effect_high",
        "var_parameters",
        "var_noise",
        "share_parameters",
        "share_noise",
        "draws",
        "seeds_per_draw",
    ])?;
    for r in rows {
        let s = r.share_parameters();
        w.write_record([
            r.option.as_str(),
            r.baseline.as_str(),
            r.metric.name(),
            &number(r.mean),
            &number(r.low),
            &number(r.high),
            &number(r.var_parameters),
            &number(r.var_noise),
            &number(s),
            &number(1.0 - s),
            &r.draws.to_string(),
            &k.to_string(),
        ])?;
    }
    w.flush()
}

/// draws.csv: each replicate's draw, the particle and its parameter values.
pub fn write_draws(dir: &Path, post: &Posterior, particles: &[usize], k: usize) -> io::Result<()> {
    let mut f = io::BufWriter::new(fs::File::create(dir.join("draws.csv"))?);
    writeln!(f, "replicate,draw,particle,{}", post.paths.join(","))?;
    for (d, &p) in particles.iter().enumerate() {
        for j in 0..k {
            let values: Vec<String> = post.theta[p].iter().map(|&x| number(x)).collect();
            writeln!(f, "{},{d},{p},{}", d * k + j, values.join(","))?;
        }
    }
    f.flush()
}

/// The words of the decomposition for a key metric: "cost per resolved need: 63% of the effect's
/// variance from parameter uncertainty, 37% from run-to-run noise".
pub fn words(rows: &[Decomposition]) -> BTreeMap<(String, String), Vec<String>> {
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for r in
        rows.iter().filter(|r| [Metric::FailureDemandShare, Metric::TrueResolutionRate, Metric::CostPerResolvedNeed].contains(&r.metric))
    {
        let s = r.share_parameters();
        if s.is_finite() {
            out.entry((r.option.clone(), r.baseline.clone())).or_default().push(format!(
                "{}: {:.0}% of the effect's variance from parameter uncertainty, {:.0}% from run-to-run noise",
                crate::words::short_label(r.metric),
                100.0 * s,
                100.0 * (1.0 - s)
            ));
        }
    }
    out
}
