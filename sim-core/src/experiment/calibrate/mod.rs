//! Calibration files: a base scenario, the parameters to estimate with their priors, the targets
//! (summary statistics of the runs against observed values with their uncertainty, and
//! optionally a CSV of observed series), the figures held out of the fit to check it, and the
//! method (`abc` holds the samplers). A file becomes a validated [`Calibration`] whose
//! `distance` ([`abc::Simulator`]) is the simulator ABC sees.
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
//! file = "monthly.csv"  # relative to this file; a header row, then one row per period; lines
//!                       # starting with # are comments
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

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::metrics::{Metric, Summary, TimeSeries};
use crate::model::RunOutput;
use crate::scenario::{self, Location, Override, PathSeg, Scenario, ScenarioError};
use abc::{Method, Prior, Settings};

pub const DEFAULT_PARTICLES: usize = 200;
pub const DEFAULT_GENERATIONS: usize = 10;
pub const DEFAULT_ALPHA: f64 = 0.5;
pub const DEFAULT_MIN_ACCEPTANCE: f64 = 0.02;
pub const DEFAULT_MAX_SIMULATIONS: u64 = 100_000;
pub const DEFAULT_PREDICTIVE_RUNS: usize = 50;
pub const DEFAULT_PERIOD_DAYS: u32 = 30;
/// Days in a year for `years = [a, b]` windows.
pub const DAYS_PER_YEAR: f64 = 365.0;
/// The least share of a normal or log-normal prior's mass inside its bounds.
const MIN_PRIOR_MASS: f64 = 1e-3;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalibrationFile {
    name: Option<String>,
    base: String,
    seed: Option<toml::Value>,
    days: Option<u32>,
    set: Option<Vec<String>>,
    method: Option<MethodRaw>,
    parameters: Vec<ParameterRaw>,
    targets: Option<Vec<TargetRaw>>,
    held_out: Option<Vec<TargetRaw>>,
    series: Option<SeriesRaw>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MethodRaw {
    kind: Option<String>,
    particles: Option<usize>,
    generations: Option<usize>,
    alpha: Option<f64>,
    min_tolerance: Option<f64>,
    min_acceptance: Option<f64>,
    max_simulations: Option<u64>,
    samples: Option<usize>,
    predictive_runs: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParameterRaw {
    path: String,
    prior: Option<String>,
    min: Option<f64>,
    max: Option<f64>,
    mean: Option<f64>,
    sd: Option<f64>,
    mu: Option<f64>,
    sigma: Option<f64>,
    a: Option<f64>,
    b: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetRaw {
    name: Option<String>,
    metric: String,
    statistic: Option<String>,
    days: Option<[f64; 2]>,
    years: Option<[f64; 2]>,
    observed: f64,
    sd: f64,
    source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeriesRaw {
    file: String,
    period_days: Option<u32>,
    start_day: Option<u32>,
    columns: Vec<SeriesColumnRaw>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeriesColumnRaw {
    column: String,
    metric: String,
    statistic: Option<String>,
    sd: Option<f64>,
    cv: Option<f64>,
    sd_column: Option<String>,
    held_out: Option<bool>,
}

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
    pub fn from_file(path: &Path) -> Result<Self, CalibrationError> {
        let bytes = std::fs::read(path).map_err(|source| CalibrationError::Read { file: path.display().to_string(), source })?;
        let text =
            scenario::utf8(bytes).map_err(|(at, message)| CalibrationError::Syntax { file: path.display().to_string(), at, message })?;
        Self::from_toml_str(&text, path)
    }

    pub fn from_toml_str(text: &str, path: &Path) -> Result<Self, CalibrationError> {
        let file = path.display().to_string();
        let syntax = |e: toml::de::Error| CalibrationError::Syntax {
            file: file.clone(),
            at: e.span().map(|s| scenario::line_col(text, s.start)).unwrap_or(Location { line: 1, column: 1 }),
            message: e.message().trim().to_string(),
        };
        let spans = toml::de::DeTable::parse(text).map_err(syntax)?;
        let table: toml::Table = toml::from_str(text).map_err(syntax)?;
        let err = |field: &str, message: String| CalibrationError::Field {
            file: file.clone(),
            at: scenario::locate(text, spans.get_ref(), field),
            field: field.to_string(),
            message,
        };
        let raw: CalibrationFile = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
            let (field, message) = scenario::field_and_message(&e);
            err(&field, message)
        })?;

        let name = raw.name.unwrap_or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| file.clone()));
        let seed = match &raw.seed {
            Some(v) => scenario::parse_seed(v).map_err(|m| err("seed", m))?,
            None => 1,
        };

        // The base scenario with `days` and `set`.
        let dir = path.parent().unwrap_or(Path::new(""));
        let base_file = normalize(&dir.join(&raw.base));
        let base_name = base_file.display().to_string();
        let base_text = std::fs::read_to_string(&base_file).map_err(|e| {
            let resolved = if base_name == raw.base { String::new() } else { format!(" (resolved to {base_name})") };
            err("base", format!("cannot read the base scenario `{}`{resolved}: {e}", raw.base))
        })?;
        let mut fixed = Vec::new();
        if let Some(d) = raw.days {
            fixed.push(Override {
                path: vec![PathSeg::Key("run".into()), PathSeg::Key("days".into())],
                value: toml::Value::Integer(d.into()),
                raw: format!("run.days={d}"),
            });
        }
        for (i, s) in raw.set.iter().flatten().enumerate() {
            let o = Override::parse(s).map_err(|e| err(&format!("set[{i}]"), strip_location(&e)))?;
            fixed.push(o);
        }
        let base = Scenario::from_toml_str(&base_text, &base_name, &fixed).map_err(|e| match e.first() {
            ScenarioError::Field { origin: Some(o), .. } | ScenarioError::Override { arg: o, .. } => {
                let o = o.strip_prefix("--set ").unwrap_or(o);
                let field = raw
                    .set
                    .iter()
                    .flatten()
                    .position(|s| s.trim() == o.trim() || o.starts_with(s.split('=').next().unwrap_or("").trim()))
                    .map(|i| format!("set[{i}]"))
                    .unwrap_or_else(|| "days".into());
                err(&field, strip_location(&e))
            }
            _ => CalibrationError::Base(e),
        })?;
        let days = base.run.days;

        // Method.
        let m = raw.method.unwrap_or_default();
        let kind = m.kind.as_deref().unwrap_or("smc");
        let particles = m.particles.unwrap_or(DEFAULT_PARTICLES);
        if particles < 2 {
            return Err(err("method.particles", format!("{particles}: at least 2 particles are needed (allowed: 2 to 1000000)")));
        }
        if particles > 1_000_000 {
            return Err(err("method.particles", format!("{particles}: at most 1000000 (allowed: 2 to 1000000)")));
        }
        let smc_only = [
            ("generations", m.generations.is_some()),
            ("alpha", m.alpha.is_some()),
            ("min_tolerance", m.min_tolerance.is_some()),
            ("min_acceptance", m.min_acceptance.is_some()),
            ("max_simulations", m.max_simulations.is_some()),
        ];
        let method = match kind {
            "smc" => {
                if m.samples.is_some() {
                    return Err(err("method.samples", "not used by method kind `smc` (it is the prior draws of `rejection`)".into()));
                }
                let generations = m.generations.unwrap_or(DEFAULT_GENERATIONS);
                if !(1..=1000).contains(&generations) {
                    return Err(err("method.generations", format!("{generations}: allowed 1 to 1000")));
                }
                let alpha = m.alpha.unwrap_or(DEFAULT_ALPHA);
                if !(alpha > 0.0 && alpha < 1.0) {
                    return Err(err("method.alpha", format!("{alpha}: allowed range (0, 1), both ends excluded")));
                }
                let min_tolerance = m.min_tolerance.unwrap_or(0.0);
                if !(min_tolerance >= 0.0 && min_tolerance.is_finite()) {
                    return Err(err("method.min_tolerance", format!("{min_tolerance}: allowed range [0, inf)")));
                }
                let min_acceptance = m.min_acceptance.unwrap_or(DEFAULT_MIN_ACCEPTANCE);
                if !(0.0..=1.0).contains(&min_acceptance) {
                    return Err(err("method.min_acceptance", format!("{min_acceptance}: allowed range [0, 1]")));
                }
                let max_simulations = m.max_simulations.unwrap_or(DEFAULT_MAX_SIMULATIONS);
                if max_simulations < particles as u64 {
                    return Err(err(
                        "method.max_simulations",
                        format!("{max_simulations}: below `particles` ({particles}); allowed {particles} or more"),
                    ));
                }
                Method::Smc { generations, alpha, min_tolerance, min_acceptance, max_simulations }
            }
            "rejection" => {
                if let Some((f, _)) = smc_only.iter().find(|(_, given)| *given) {
                    return Err(err(&format!("method.{f}"), "not used by method kind `rejection`".into()));
                }
                let samples = m
                    .samples
                    .ok_or_else(|| err("method.samples", "method kind `rejection` needs `samples` (draws from the prior)".into()))?;
                if samples < particles || samples > 100_000_000 {
                    return Err(err("method.samples", format!("{samples}: allowed {particles} (the particles kept) to 100000000")));
                }
                Method::Rejection { samples }
            }
            other => return Err(err("method.kind", format!("unknown method `{other}`; allowed: smc, rejection"))),
        };
        let predictive_runs = m.predictive_runs.unwrap_or(DEFAULT_PREDICTIVE_RUNS);
        if !(2..=100_000).contains(&predictive_runs) {
            return Err(err("method.predictive_runs", format!("{predictive_runs}: allowed 2 to 100000")));
        }

        // Parameters.
        if raw.parameters.is_empty() {
            return Err(err("parameters", "a calibration needs at least one [[parameters]] entry".into()));
        }
        let specs = Scenario::parameter_specs();
        let mut parameters: Vec<Parameter> = Vec::new();
        for (i, p) in raw.parameters.iter().enumerate() {
            let field = |f: &str| format!("parameters[{i}].{f}");
            let path = p.path.trim().to_string();
            let template = Override::parse(&format!("{path}=0"))
                .ok()
                .filter(|o| !path.contains('=') && !o.path.is_empty())
                .map(|o| o.path)
                .ok_or_else(|| err(&field("path"), format!("`{path}` is not a parameter path (e.g. governance.discretion)")))?;
            if parameters.iter().any(|q| q.path == path) {
                return Err(err(&field("path"), format!("`{path}` is estimated twice")));
            }
            let (section, leaf) = match (template.first(), template.last()) {
                (Some(PathSeg::Key(s)), Some(PathSeg::Key(l))) => (s.clone(), l.clone()),
                _ => return Err(err(&field("path"), format!("`{path}` is not a parameter path (e.g. governance.discretion)"))),
            };
            let Some(spec) = specs.iter().find(|s| s.section == section && s.name == leaf) else {
                let known = specs.iter().map(|s| format!("{}.{}", s.section, s.name)).collect::<Vec<_>>();
                let hint = scenario::did_you_mean(&path, known.iter().map(String::as_str))
                    .map(|k| format!("; did you mean `{k}`?"))
                    .unwrap_or_default();
                return Err(err(
                    &field("path"),
                    format!("`{path}` is not a parameter of the scenario{hint}; `sim describe parameters` lists them"),
                ));
            };
            if !spec.min.is_finite() || !spec.max.is_finite() || !spec.allowed.is_empty() {
                return Err(err(
                    &field("path"),
                    format!("`{path}` is not a number ({}); only numeric parameters can be estimated", spec.allowed),
                ));
            }
            let integer = !spec.default.contains(['.', 'e', 'E', '"']) && spec.default.parse::<i64>().is_ok();
            let range = if spec.unit == "-" {
                format!("[{}, {}]", spec.min, spec.max)
            } else {
                format!("[{}, {}] {}", spec.min, spec.max, spec.unit)
            };
            let bound = |v: Option<f64>, f: &str, dflt: f64| -> Result<f64, CalibrationError> {
                match v {
                    None => Ok(dflt),
                    Some(x) if !x.is_finite() || x < spec.min || x > spec.max => {
                        Err(err(&field(f), format!("{x} is outside `{path}`'s valid range; allowed range {range}")))
                    }
                    Some(x) => Ok(x),
                }
            };
            let lo = bound(p.min, "min", spec.min)?;
            let hi = bound(p.max, "max", spec.max)?;
            if lo >= hi {
                return Err(err(&field("max"), format!("empty range: max ({hi}) must be above min ({lo}); allowed range {range}")));
            }
            let kind = p.prior.as_deref().unwrap_or("uniform");
            let given = [("mean", p.mean), ("sd", p.sd), ("mu", p.mu), ("sigma", p.sigma), ("a", p.a), ("b", p.b)];
            let uses: &[&str] = match kind {
                "uniform" => &[],
                "normal" => &["mean", "sd"],
                "lognormal" => &["mu", "sigma"],
                "beta" => &["a", "b"],
                other => {
                    return Err(err(&field("prior"), format!("unknown prior `{other}`; allowed: uniform, normal, lognormal, beta")));
                }
            };
            if let Some((f, _)) = given.iter().find(|(f, v)| v.is_some() && !uses.contains(f)) {
                return Err(err(&field(f), format!("not used by a `{kind}` prior")));
            }
            let need = |f: &str, v: Option<f64>, positive: bool| -> Result<f64, CalibrationError> {
                let x = v.ok_or_else(|| err(&field("prior"), format!("a `{kind}` prior needs `{f}`")))?;
                if !x.is_finite() || (positive && x <= 0.0) {
                    return Err(err(&field(f), format!("{x}: allowed range {}", if positive { "(0, inf)" } else { "any finite number" })));
                }
                Ok(x)
            };
            let prior = match kind {
                "uniform" => Prior::Uniform { lo, hi },
                "normal" => Prior::Normal { mean: need("mean", p.mean, false)?, sd: need("sd", p.sd, true)?, lo, hi },
                "lognormal" => {
                    if lo < 0.0 {
                        return Err(err(&field("min"), format!("{lo}: a log-normal prior needs min >= 0")));
                    }
                    Prior::LogNormal { mu: need("mu", p.mu, false)?, sigma: need("sigma", p.sigma, true)?, lo, hi }
                }
                _ => Prior::Beta { a: need("a", p.a, true)?, b: need("b", p.b, true)?, lo, hi },
            };
            let mass = prior.mass_inside();
            if mass < MIN_PRIOR_MASS {
                return Err(err(
                    &field("prior"),
                    format!("only {mass:.2e} of the {kind} prior's mass lies in [{lo}, {hi}]; move its centre into the bounds"),
                ));
            }
            parameters.push(Parameter { path, prior, integer, template });
        }
        // Each parameter alone at its bounds, applied to the base.
        for (i, p) in parameters.iter().enumerate() {
            let (lo, hi) = p.prior.bounds();
            for (x, f) in [(lo, "min"), (hi, "max")] {
                let mut ovs = fixed.clone();
                ovs.push(p.override_with(x));
                if let Err(e) = Scenario::from_toml_str(&base_text, &base_name, &ovs) {
                    return Err(err(&format!("parameters[{i}].{f}"), format!("`{}` = {x}: {}", p.path, strip_location(&e))));
                }
            }
        }

        // Targets.
        let window_start = base.run.warmup_days;
        let mut targets = Vec::new();
        for (list, held_out, key) in [(&raw.targets, false, "targets"), (&raw.held_out, true, "held_out")] {
            for (i, t) in list.iter().flatten().enumerate() {
                let field = |f: &str| format!("{key}[{i}].{f}");
                let metric = Metric::from_name(&t.metric)
                    .ok_or_else(|| err(&field("metric"), format!("unknown metric `{}`; `sim describe metrics` lists them", t.metric)))?;
                let statistic = match &t.statistic {
                    None => Statistic::Mean,
                    Some(s) => Statistic::from_name(s)
                        .ok_or_else(|| err(&field("statistic"), format!("unknown statistic `{s}`; allowed: mean, final, sum, summary")))?,
                };
                if metric.summary() == Summary::Window && statistic != Statistic::Summary {
                    return Err(err(
                        &field("statistic"),
                        format!("`{}` is a whole-window metric; it takes statistic = \"summary\" only", metric.name()),
                    ));
                }
                if statistic == Statistic::Sum && metric.summary() != Summary::Mean {
                    return Err(err(&field("statistic"), format!("`{}` is a ratio; `sum` adds up counts only (use mean)", metric.name())));
                }
                let window = match (t.days, t.years) {
                    (Some(_), Some(_)) => return Err(err(&field("years"), "give `days` or `years`, not both".into())),
                    (Some(d), None) => Some((d, "days", 1.0)),
                    (None, Some(y)) => Some((y, "years", DAYS_PER_YEAR)),
                    (None, None) => None,
                };
                let (from_day, to_day) = match window {
                    Some(_) if statistic == Statistic::Summary => {
                        return Err(err(
                            &field(if t.days.is_some() { "days" } else { "years" }),
                            "statistic `summary` uses the run's own window after its warm-up; leave the window out".into(),
                        ));
                    }
                    Some(([a, b], f, scale)) => {
                        let (from, to) = ((a * scale).round(), (b * scale).round());
                        if !(from >= 0.0 && to > from && to <= days as f64)
                            || a.fract() != 0.0 && f == "days"
                            || b.fract() != 0.0 && f == "days"
                        {
                            return Err(err(
                                &field(f),
                                format!(
                                    "[{a}, {b}]: a window [from, to) of whole days with 0 <= from < to <= {days} (the run's days); allowed range [0, {}] {f}",
                                    days as f64 / scale
                                ),
                            ));
                        }
                        (from as u32, to as u32)
                    }
                    None => (window_start, days),
                };
                if !t.observed.is_finite() {
                    return Err(err(&field("observed"), format!("{} is not a finite number", t.observed)));
                }
                if !(t.sd.is_finite() && t.sd > 0.0) {
                    return Err(err(&field("sd"), format!("{}: the uncertainty must be a positive number; allowed range (0, inf)", t.sd)));
                }
                targets.push(Target {
                    name: t.name.clone().unwrap_or_else(|| format!("{} {} [{from_day}, {to_day})", metric.name(), statistic.name())),
                    metric,
                    statistic,
                    from_day,
                    to_day,
                    observed: t.observed,
                    sd: t.sd,
                    source: t.source.clone().unwrap_or_default(),
                    held_out,
                });
            }
        }

        // Observed series.
        let mut series_file = None;
        if let Some(s) = &raw.series {
            let csv_path = normalize(&dir.join(&s.file));
            let period = s.period_days.unwrap_or(DEFAULT_PERIOD_DAYS);
            if period == 0 || period > days {
                return Err(err("series.period_days", format!("{period}: allowed 1 to {days} (the run's days)")));
            }
            let start = s.start_day.unwrap_or(window_start);
            if start >= days {
                return Err(err("series.start_day", format!("{start}: allowed 0 to {} (before the run's last day)", days - 1)));
            }
            if s.columns.is_empty() {
                return Err(err("series.columns", "name at least one [[series.columns]] entry".into()));
            }
            let csv_text = std::fs::read_to_string(&csv_path)
                .map_err(|e| err("series.file", format!("cannot read `{}` (resolved to {}): {e}", s.file, csv_path.display())))?;
            let csv_name = csv_path.display().to_string();
            let rows = parse_csv(&csv_text);
            let header = rows.first().map(|(_, r)| r.clone()).unwrap_or_default();
            let col_of = |name: &str, f: &str| -> Result<usize, CalibrationError> {
                header
                    .iter()
                    .position(|h| h == name)
                    .ok_or_else(|| err(f, format!("`{name}` is not a column of {csv_name}; its columns are: {}", header.join(", "))))
            };
            let body = &rows[rows.len().min(1)..];
            if body.len() as u64 * period as u64 + start as u64 > days as u64 {
                return Err(err(
                    "series.period_days",
                    format!(
                        "{} rows of {period} days from day {start} reach day {}, past the run's {days} days; shorten the series or set `days`",
                        body.len(),
                        start as u64 + body.len() as u64 * period as u64
                    ),
                ));
            }
            for (c, col) in s.columns.iter().enumerate() {
                let field = |f: &str| format!("series.columns[{c}].{f}");
                let idx = col_of(&col.column, &field("column"))?;
                let metric = Metric::from_name(&col.metric)
                    .ok_or_else(|| err(&field("metric"), format!("unknown metric `{}`; `sim describe metrics` lists them", col.metric)))?;
                let statistic = match col.statistic.as_deref() {
                    None | Some("sum") => Statistic::Sum,
                    Some("mean") => Statistic::Mean,
                    Some(o) => return Err(err(&field("statistic"), format!("unknown statistic `{o}` for a series; allowed: sum, mean"))),
                };
                if metric.summary() == Summary::Window || (statistic == Statistic::Sum && metric.summary() != Summary::Mean) {
                    return Err(err(
                        &field("statistic"),
                        format!("`{}` cannot be summed per period; use statistic = \"mean\"", metric.name()),
                    ));
                }
                let sd_col = match &col.sd_column {
                    Some(n) => Some(col_of(n, &field("sd_column"))?),
                    None => None,
                };
                match (col.sd, col.cv, sd_col) {
                    (None, None, None) => return Err(err(&field("sd"), "give the observations' uncertainty: sd, cv or sd_column".into())),
                    (Some(_), Some(_), _) | (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
                        return Err(err(&field("sd"), "give one of sd, cv and sd_column".into()));
                    }
                    (Some(x), _, _) | (_, Some(x), _) if !(x.is_finite() && x > 0.0) => {
                        let f = if col.sd.is_some() { "sd" } else { "cv" };
                        return Err(err(&field(f), format!("{x}: allowed range (0, inf)")));
                    }
                    _ => {}
                }
                for (r, (line, row)) in body.iter().enumerate() {
                    let cell = |i: usize, name: &str| -> Result<f64, CalibrationError> {
                        let text = row.get(i).map(String::as_str).unwrap_or("");
                        text.trim().parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| CalibrationError::Series {
                            file: csv_name.clone(),
                            line: *line,
                            column: name.to_string(),
                            message: format!("`{text}` is not a finite number"),
                        })
                    };
                    let observed = cell(idx, &col.column)?;
                    let sd = match (col.sd, col.cv, sd_col) {
                        (Some(x), _, _) => x,
                        (_, Some(cv), _) => cv * observed.abs(),
                        (_, _, Some(i)) => cell(i, col.sd_column.as_deref().unwrap_or(""))?,
                        _ => unreachable!("checked above"),
                    };
                    if sd.is_nan() || sd <= 0.0 {
                        return Err(CalibrationError::Series {
                            file: csv_name.clone(),
                            line: *line,
                            column: col.sd_column.clone().unwrap_or_else(|| col.column.clone()),
                            message: format!(
                                "the uncertainty of this row is {sd}; it must be positive (with cv, the observed value must not be 0)"
                            ),
                        });
                    }
                    let from_day = start + r as u32 * period;
                    targets.push(Target {
                        name: format!("{} row {}", col.column, r + 1),
                        metric,
                        statistic,
                        from_day,
                        to_day: from_day + period,
                        observed,
                        sd,
                        source: format!("{csv_name} line {line}"),
                        held_out: col.held_out.unwrap_or(false),
                    });
                }
            }
            series_file = Some(csv_path);
        }
        if !targets.iter().any(|t| !t.held_out) {
            return Err(err(
                "targets",
                "a calibration needs at least one fitted target ([[targets]] or a series column not held out)".into(),
            ));
        }
        // No figure both fitted and held out.
        let mut fitted = BTreeSet::new();
        for t in targets.iter().filter(|t| !t.held_out) {
            fitted.insert((t.metric, t.statistic.name(), t.from_day, t.to_day));
        }
        for (i, t) in targets.iter().filter(|t| t.held_out).enumerate() {
            if fitted.contains(&(t.metric, t.statistic.name(), t.from_day, t.to_day)) {
                let field =
                    if raw.held_out.as_ref().is_some_and(|h| i < h.len()) { format!("held_out[{i}]") } else { "series.columns".into() };
                return Err(err(
                    &field,
                    format!(
                        "`{}` ({} over days [{}, {})) is also a fitted target; a figure used to fit may not be used to check the fit",
                        t.metric.name(),
                        t.statistic.name(),
                        t.from_day,
                        t.to_day
                    ),
                ));
            }
        }

        Ok(Calibration {
            name,
            file: path.to_path_buf(),
            base_file,
            base_text,
            base,
            fixed,
            seed,
            settings: Settings { method, particles, seed },
            predictive_runs,
            parameters,
            targets,
            series_file,
        })
    }

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
        let out = crate::model::run(&scenario, seed);
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

/// A CSV as (line number, cells) per non-empty line; lines starting with `#` are comments (a
/// provenance note, say); quotes around a cell are removed.
fn parse_csv(text: &str) -> Vec<(usize, Vec<String>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| (i + 1, l.split(',').map(|c| c.trim().trim_matches('"').to_string()).collect()))
        .collect()
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

/// Removes `.` and `name/..` pairs lexically (as sweeps do).
fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out.iter().collect()
}

#[cfg(test)]
mod tests;
