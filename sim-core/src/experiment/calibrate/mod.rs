//! Calibration files: a base scenario, the parameters to estimate with their priors, the targets
//! (summary statistics of the runs against observed values with their uncertainty, and
//! optionally a CSV of observed series), the figures held out of the fit to check it, and the
//! method (`abc` holds the samplers). A file becomes a validated [`Calibration`] (read and
//! checked in `file`) whose `distance` ([`abc::Simulator`]) is the simulator ABC sees.
//!
//! # The file
//!
//! ```toml
//! # Sources: ... / Held out: ...   (every shipped calibration starts so)
//! name = "top-down"            # optional; default: the file name without .toml
//! base = "../top-down.toml"    # scenario file, relative to this file (required)
//! seed = 1                     # master seed, default 1
//! days = 730                   # optional: overrides run.days of the base
//! set = ["population.citizens=2000"]   # optional fixed overrides, as `--set` takes them
//!
//! [method]
//! kind = "smc"          # smc (ABC-SMC, default) | rejection
//! particles = 200       # posterior sample size, default 200
//! generations = 10      # smc: most generations (generation 0 is the prior), default 10
//! alpha = 0.5           # smc: share of the ESS kept when the tolerance falls, default 0.5
//! min_tolerance = 0.0   # smc: stop at this tolerance, default 0
//! min_acceptance = 0.02 # smc: stop below this acceptance rate, default 0.02
//! max_simulations = 100000  # smc: budget over all generations, default 100000
//! samples = 2000        # rejection: draws from the prior (required for rejection)
//! predictive_runs = 50  # runs drawn from the posterior for the predictive check, default 50
//!
//! [[parameters]]
//! path = "governance.discretion"  # any path `--set` accepts
//! prior = "uniform"     # uniform (default) | normal | lognormal | beta
//! min = 0.0             # optional bounds, inside the parameter's valid range (default: that range)
//! max = 1.0
//! # mean, sd (normal); mu, sigma (lognormal, of log x); a, b (beta on [min, max])
//!
//! [[targets]]
//! name = "failure demand"        # optional label
//! metric = "failure_demand_share"
//! statistic = "mean"    # mean (over the window, rates as ratios of totals) | final (the
//!                       # window's last day) | sum (daily values added up) | summary (the run's
//!                       # own summary after its warm-up; no window)
//! days = [180, 730]     # window [from, to) in days; or years = [0.5, 2]; default: after the warm-up
//! observed = 0.45
//! sd = 0.05             # the observed value's uncertainty (standard deviation), > 0
//! source = "Seddon 2003"
//!
//! [[held_out]]          # same fields as [[targets]]: checked after the fit, never fitted
//!
//! [series]              # optional observed series, each row a period of `period_days`
//! file = "monthly.csv"  # relative to this file; a header row, then one row per period; cells
//!                       # may be quoted; blank lines and lines starting with # are skipped
//! period_days = 30      # default 30
//! start_day = 180       # the day the first row's period begins, default the warm-up's end
//! [[series.columns]]
//! column = "new_cases"  # a CSV column
//! metric = "demand_new"
//! statistic = "sum"     # sum (default) or mean over each period
//! sd = 20.0             # or cv = 0.1 (sd as a share of each observed value), or sd_column = "..."
//! held_out = false      # true: check only
//! ```
//!
//! # Distance
//!
//! d(theta) = sum over fitted targets j of ((s_j(theta) - y_j) / sd_j)^2: squared differences
//! standardised by the stated uncertainty. A run that gives no value for a target (NaN) is at an
//! infinite distance.
//!
//! # Validation
//!
//! Every error names the file, line and column and the field (`parameters[1].min`,
//! `targets[0].days`, ...) and, for bounds, the allowed range. Each parameter is applied to the
//! base scenario at its bounds, so unknown paths and combinations the scenario rejects are caught
//! before anything runs. No figure may be both fitted and held out.

pub mod abc;
mod file;

use std::path::PathBuf;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::metrics::{Metric, Summary, TimeSeries};
use crate::model::RunOutput;
use crate::scenario::{Location, Override, PathSeg, Scenario, ScenarioError};
use abc::{Prior, Settings};

pub const DEFAULT_PARTICLES: usize = 200;
pub const DEFAULT_GENERATIONS: usize = 10;
pub const DEFAULT_ALPHA: f64 = 0.5;
pub const DEFAULT_MIN_ACCEPTANCE: f64 = 0.02;
pub const DEFAULT_MAX_SIMULATIONS: u64 = 100_000;
pub const DEFAULT_PREDICTIVE_RUNS: usize = 50;
pub const DEFAULT_PERIOD_DAYS: u32 = 30;
/// Days in a year for `years = [a, b]` windows.
pub const DAYS_PER_YEAR: f64 = 365.0;
/// Why a calibration file could not be loaded. Every variant is bad input (exit code 2 in the CLI).
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    #[error("{file}: cannot read the calibration file: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: invalid TOML: {message}", line = .at.line, column = .at.column)]
    Syntax { file: String, at: Location, message: String },
    #[error("{}: field `{field}`: {message}", located(.file, .at))]
    Field { file: String, at: Option<Location>, field: String, message: String },
    /// A problem in the observed-series CSV: its file, line and column name.
    #[error("{file}:{line}: column `{column}`: {message}")]
    Series { file: String, line: usize, column: String, message: String },
    /// The base scenario is invalid on its own.
    #[error("base scenario of the calibration: {0}")]
    Base(#[source] ScenarioError),
}

fn located(file: &str, at: &Option<Location>) -> String {
    match at {
        Some(at) => format!("{file}:{}:{}", at.line, at.column),
        None => file.to_string(),
    }
}

impl CalibrationError {
    /// The calibration-file field the error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            CalibrationError::Field { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// How a target summarises a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Statistic {
    Mean,
    Final,
    Sum,
    Summary,
}

impl Statistic {
    pub const ALL: [Statistic; 4] = [Statistic::Mean, Statistic::Final, Statistic::Sum, Statistic::Summary];
    pub const fn name(self) -> &'static str {
        match self {
            Statistic::Mean => "mean",
            Statistic::Final => "final",
            Statistic::Sum => "sum",
            Statistic::Summary => "summary",
        }
    }
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// One figure the runs are compared with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    pub name: String,
    #[serde(serialize_with = "metric_name")]
    pub metric: Metric,
    pub statistic: Statistic,
    /// Window [from, to) in days; for `summary`, the run's own window after its warm-up.
    pub from_day: u32,
    pub to_day: u32,
    pub observed: f64,
    pub sd: f64,
    pub source: String,
    /// Checked after the fit, never fitted.
    pub held_out: bool,
}

impl Target {
    /// This target's statistic of a run; NaN when the run gives none.
    pub fn value(&self, out: &RunOutput) -> f64 {
        match self.statistic {
            Statistic::Summary => out.summary.get(self.metric.name()).unwrap_or(f64::NAN),
            s => window_value(&out.series, self.metric, s, self.from_day, self.to_day),
        }
    }
}

/// A statistic of `metric` over days [from, to): the mean (ratio metrics as ratios of the means
/// of their parts, as run summaries are formed), the sum of daily values, or the last day's value.
pub fn window_value(series: &TimeSeries, metric: Metric, statistic: Statistic, from: u32, to: u32) -> f64 {
    let range = || series.days.iter().enumerate().filter(move |(_, d)| **d >= from && **d < to).map(|(i, _)| i);
    let mean = |m: Metric| -> f64 {
        let col = series.get(m);
        let (s, n) = range().map(|i| col[i]).filter(|x| x.is_finite()).fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
        if n == 0 { f64::NAN } else { s / n as f64 }
    };
    fn value(m: Metric, mean: &dyn Fn(Metric) -> f64) -> f64 {
        match m.summary() {
            Summary::Mean => mean(m),
            Summary::Ratio(a, b) => {
                let d = mean(b);
                if d > 0.0 { mean(a) / d } else { f64::NAN }
            }
            Summary::Difference(a, b) => value(a, mean) - value(b, mean),
            Summary::Window => f64::NAN,
        }
    }
    match statistic {
        Statistic::Mean => value(metric, &mean),
        Statistic::Sum => {
            let col = series.get(metric);
            let xs: Vec<f64> = range().map(|i| col[i]).collect();
            if xs.is_empty() || xs.iter().any(|x| !x.is_finite()) { f64::NAN } else { xs.iter().sum() }
        }
        Statistic::Final => range().next_back().map(|i| series.get(metric)[i]).unwrap_or(f64::NAN),
        Statistic::Summary => f64::NAN,
    }
}

/// One parameter to estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parameter {
    /// The scenario path, as `--set` takes it; also its column name in outputs.
    pub path: String,
    #[serde(serialize_with = "prior_words")]
    pub prior: Prior,
    /// The scenario holds a whole number: the value is rounded when applied.
    pub integer: bool,
    #[serde(skip)]
    template: Vec<PathSeg>,
}

fn metric_name<S: serde::Serializer>(m: &Metric, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.name())
}

fn prior_words<S: serde::Serializer>(p: &Prior, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&prior_text(p))
}

/// A prior in words, e.g. `uniform(0, 1)`, `normal(0.5, 0.1) on [0, 1]`.
pub fn prior_text(p: &Prior) -> String {
    match *p {
        Prior::Uniform { lo, hi } => format!("uniform({lo}, {hi})"),
        Prior::Normal { mean, sd, lo, hi } => format!("normal({mean}, {sd}) on [{lo}, {hi}]"),
        Prior::LogNormal { mu, sigma, lo, hi } => format!("lognormal({mu}, {sigma}) on [{lo}, {hi}]"),
        Prior::Beta { a, b, lo, hi } => format!("beta({a}, {b}) on [{lo}, {hi}]"),
    }
}

impl Parameter {
    /// The override that gives this parameter `x` (rounded for whole-number parameters).
    pub fn override_with(&self, x: f64) -> Override {
        let value = if self.integer { toml::Value::Integer(x.round() as i64) } else { toml::Value::Float(x) };
        Override { path: self.template.clone(), raw: format!("{}={value}", self.path), value }
    }
}

/// A validated calibration.
#[derive(Debug)]
pub struct Calibration {
    pub name: String,
    pub file: PathBuf,
    pub base_file: PathBuf,
    base_text: String,
    /// The base with `days` and `set` applied, before any parameter is set.
    pub base: Scenario,
    /// `days` and `set`, applied before the parameters.
    pub fixed: Vec<Override>,
    pub seed: u64,
    pub settings: Settings,
    pub predictive_runs: usize,
    pub parameters: Vec<Parameter>,
    /// Fitted targets, then held-out ones (see `Target::held_out`).
    pub targets: Vec<Target>,
    /// The observed-series CSV, if any (resolved against the calibration file).
    pub series_file: Option<PathBuf>,
}

impl Calibration {
    /// The fitted targets.
    pub fn fitted(&self) -> impl Iterator<Item = &Target> {
        self.targets.iter().filter(|t| !t.held_out)
    }

    pub fn priors(&self) -> Vec<Prior> {
        self.parameters.iter().map(|p| p.prior.clone()).collect()
    }

    /// The overrides that set the parameters to `theta` (after `days` and `set`).
    pub fn overrides(&self, theta: &[f64]) -> Vec<Override> {
        let mut ovs = self.fixed.clone();
        ovs.extend(self.parameters.iter().zip(theta).map(|(p, &x)| p.override_with(x)));
        ovs
    }

    /// The base scenario with the parameters at `theta`.
    pub fn scenario_for(&self, theta: &[f64]) -> Result<Scenario, ScenarioError> {
        Scenario::from_toml_str(&self.base_text, &self.base_file.display().to_string(), &self.overrides(theta))
    }

    /// The parameter values at which `scenario` is this calibration's base with its `days` and
    /// `set` (a calibrated preset: its posterior medians), read from the scenario; an error naming
    /// the sections where it differs otherwise (another population, horizon or preset). Names and
    /// descriptions are not compared.
    pub fn theta_of(&self, scenario: &Scenario) -> Result<Vec<f64>, String> {
        let body = |s: &Scenario| -> serde_json::Map<String, serde_json::Value> {
            let mut v = match serde_json::to_value(s).expect("a scenario always serialises") {
                serde_json::Value::Object(m) => m,
                _ => unreachable!("a scenario serialises to an object"),
            };
            v.remove("name");
            v.remove("description");
            v
        };
        let given = body(scenario);
        let mut theta = Vec::with_capacity(self.parameters.len());
        let root = serde_json::Value::Object(given.clone());
        for p in &self.parameters {
            let at = p.template.iter().try_fold(&root, |v, seg| match seg {
                PathSeg::Key(k) => v.get(k),
                PathSeg::Index(i) => v.get(i),
            });
            theta.push(at.and_then(serde_json::Value::as_f64).ok_or_else(|| format!("has no number at {}", p.path))?);
        }
        let wanted = body(&self.scenario_for(&theta).map_err(|e| strip_location(&e))?);
        let differ: Vec<&str> = wanted.iter().filter(|(k, v)| given.get(k.as_str()) != Some(v)).map(|(k, _)| k.as_str()).collect();
        if differ.is_empty() {
            Ok(theta)
        } else {
            Err(format!(
                "is not the base of calibration `{}` ({} with its days and set) at any values of its parameters: it differs in [{}]",
                self.name,
                self.base_file.display(),
                differ.join("], [")
            ))
        }
    }

    /// The base scenario's file text (the calibrated scenario is written from it).
    pub fn base_text(&self) -> &str {
        &self.base_text
    }

    /// One run at `theta` with `seed`: every target's value (fitted and held out, in order);
    /// `None` when the scenario rejects the combination.
    pub fn simulate(&self, theta: &[f64], seed: u64) -> Option<Vec<f64>> {
        let scenario = self.scenario_for(theta).ok()?;
        let out = crate::simulation::run(&scenario, seed);
        Some(self.targets.iter().map(|t| t.value(&out)).collect())
    }

    /// The distance of target values to the observed ones (fitted targets only).
    pub fn distance_of(&self, values: &[f64]) -> f64 {
        let mut d = 0.0;
        for (t, v) in self.targets.iter().zip(values) {
            if t.held_out {
                continue;
            }
            if !v.is_finite() {
                return f64::INFINITY;
            }
            d += ((v - t.observed) / t.sd).powi(2);
        }
        d
    }

    /// SHA-256 of everything that decides the posterior: the resolved base scenario, fixed
    /// overrides, seed, method, parameters and targets (not comments or formatting).
    pub fn content_hash(&self) -> String {
        #[derive(Serialize)]
        struct Canonical<'a> {
            base: String,
            fixed: Vec<&'a str>,
            seed: u64,
            method: String,
            particles: usize,
            parameters: &'a [Parameter],
            targets: &'a [Target],
        }
        let c = Canonical {
            base: self.base.content_hash(),
            fixed: self.fixed.iter().map(|o| o.raw.as_str()).collect(),
            seed: self.seed,
            method: format!("{:?}", self.settings.method),
            particles: self.settings.particles,
            parameters: &self.parameters,
            targets: &self.targets,
        };
        let json = serde_json::to_vec(&c).expect("a calibration always serialises");
        Sha256::digest(&json).iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl abc::Simulator for Calibration {
    fn distance(&self, theta: &[f64], seed: u64) -> f64 {
        match self.simulate(theta, seed) {
            Some(v) => self.distance_of(&v),
            None => f64::INFINITY,
        }
    }
}

/// A scenario error's message without its own file location.
fn strip_location(e: &ScenarioError) -> String {
    match e {
        ScenarioError::Field { field, message, .. } => format!("`{field}`: {message}"),
        ScenarioError::Override { message, .. } => message.clone(),
        ScenarioError::Several(all) => all.iter().map(strip_location).collect::<Vec<_>>().join("; "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
