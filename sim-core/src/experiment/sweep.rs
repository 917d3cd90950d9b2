//! Sweep files: a base scenario, the parameters to vary (by their path in the scenario, as with
//! `--set`), a design over the unit cube, replicates per point and the summary metrics to record.
//! A file becomes a validated [`Sweep`] that lists its points with concrete parameter values; the
//! [`Planner`] turns it into runs (one round, or rounds of adaptive replication), and
//! [`run_ordered`] runs them on rayon and hands the results back in run order.
//!
//! # The file
//!
//! ```toml
//! # Question: ... / Look at: ... / Expected pattern: ...  (every shipped sweep starts so)
//! name = "variety-vs-discretion"   # optional; default: the file name without .toml
//! base = "../top-down.toml"        # scenario file, relative to the sweep file (required)
//! replicates = 5                   # runs per point, default 5
//! seed = 1                         # master seed, default 1
//! days = 730                       # optional: overrides run.days of the base
//! metrics = ["failure_demand_share", "cost_per_resolved_need"]  # optional; default: all
//!
//! [design]
//! kind = "grid"      # grid | random | lhs | sobol | morris | saltelli
//! levels = 5         # grid: levels per range parameter; morris: grid levels (even, default 4)
//! samples = 64       # random / lhs / sobol: points; saltelli: base samples N (>= 2)
//! trajectories = 10  # morris: trajectories (>= 2)
//!
//! [[parameters]]
//! path = "governance.discretion"   # any path `--set` accepts, e.g. need_types[0].rate_per_year
//! min = 0.0                        # a range [min, max] ...
//! max = 1.0
//! # values = [0.1, 0.5, 0.9]       # ... or a list of values (numbers, strings or booleans)
//! # integer = true                 # round to whole numbers (counts such as frontline_staff)
//! ```
//!
//! A design field the kind does not use is an error, as is any unknown field.
//!
//! # From the unit cube to values
//!
//! Every design gives points in `[0, 1]^k`, one coordinate per parameter (in file order). A range
//! maps `u` to `min + u (max - min)`, rounded to the nearest whole number when `integer = true`
//! (so the end points get half the weight of inner integers under random designs). A value list
//! of `n` entries maps by index: `round(u (n - 1))` for a grid (whose coordinates are
//! `0, 1/(n-1), ..., 1`, so every value appears once) and `min(floor(u n), n - 1)` for the other
//! designs (equal probability per value). In a grid a range parameter takes `levels` levels and a
//! value list takes one level per value. Point ids follow the design's row order (for Saltelli the
//! `A, AB^1..AB^k, B` blocks; for Morris trajectory by trajectory).
//!
//! # Seeds
//!
//! Run `(point, replicate)` uses `rng::run_seed(seed, point, replicate)`, whatever the thread
//! count, shard or resume. The random designs (random, lhs, sobol, morris, saltelli) draw from
//! `rng::derive(seed, name_hash("design"))`.
//!
//! # Validation
//!
//! Every error names the sweep file, line and column and the field (`parameters[1].path`,
//! `design.samples`, ...). A parameter path is checked by applying it to the base scenario: each
//! parameter alone at its extremes (its min and max, or each of its values), then every point of
//! the design with all parameters set, so out-of-range values and combinations the scenario rejects
//! (an odd `population.community_k`, say) are caught before anything runs.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::experiment::design::{self, DesignError, MorrisDesign, SaltelliDesign};
use crate::metrics::{Metric, mean_ci95, number_text};
use crate::rng;
use crate::scenario::{self, Location, Override, Scenario, ScenarioError};

/// Replicates per point when the file does not say.
pub const DEFAULT_REPLICATES: usize = 5;
/// Morris grid levels when the file does not say.
pub const DEFAULT_MORRIS_LEVELS: usize = 4;
/// The largest design accepted (points), so a typo in `levels` cannot exhaust memory.
pub const MAX_POINTS: usize = 10_000_000;

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    name: Option<String>,
    base: String,
    replicates: Option<usize>,
    /// A TOML integer, or a string for seeds above 2^63 - 1 (see `scenario::parse_seed`).
    seed: Option<toml::Value>,
    days: Option<u32>,
    metrics: Option<Vec<String>>,
    design: DesignRaw,
    parameters: Vec<ParameterRaw>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DesignRaw {
    kind: String,
    levels: Option<usize>,
    samples: Option<usize>,
    trajectories: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParameterRaw {
    path: String,
    min: Option<f64>,
    max: Option<f64>,
    values: Option<Vec<toml::Value>>,
    integer: Option<bool>,
}

/// Why a sweep file could not be loaded. Every variant is bad input (exit code 2 in the CLI).
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("{file}: cannot read the sweep file: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: invalid TOML: {message}", line = .at.line, column = .at.column)]
    Syntax { file: String, at: Location, message: String },
    #[error("{}: field `{field}`: {message}", located(.file, .at))]
    Field { file: String, at: Option<Location>, field: String, message: String },
    /// The base scenario is invalid on its own, whatever the sweep sets.
    #[error("base scenario of the sweep: {0}")]
    Base(#[source] ScenarioError),
}

fn located(file: &str, at: &Option<Location>) -> String {
    match at {
        Some(at) => format!("{file}:{}:{}", at.line, at.column),
        None => file.to_string(),
    }
}

impl SweepError {
    /// The sweep-file field the error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            SweepError::Field { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// The kinds of design a sweep can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DesignKind {
    Grid,
    Random,
    Lhs,
    Sobol,
    Morris,
    Saltelli,
}

impl DesignKind {
    pub const ALL: [DesignKind; 6] =
        [DesignKind::Grid, DesignKind::Random, DesignKind::Lhs, DesignKind::Sobol, DesignKind::Morris, DesignKind::Saltelli];

    pub const fn name(self) -> &'static str {
        match self {
            DesignKind::Grid => "grid",
            DesignKind::Random => "random",
            DesignKind::Lhs => "lhs",
            DesignKind::Sobol => "sobol",
            DesignKind::Morris => "morris",
            DesignKind::Saltelli => "saltelli",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Which of `levels`, `samples`, `trajectories` this kind reads.
    const fn uses(self) -> (bool, bool, bool) {
        match self {
            DesignKind::Grid => (true, false, false),
            DesignKind::Random | DesignKind::Lhs | DesignKind::Sobol | DesignKind::Saltelli => (false, true, false),
            DesignKind::Morris => (true, false, true),
        }
    }
}

/// The design as resolved (defaults filled in).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesignSpec {
    pub kind: DesignKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub levels: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samples: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trajectories: Option<usize>,
}

/// What a parameter ranges over.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Domain {
    /// `[min, max]`, mapped linearly from the unit interval.
    Range { min: f64, max: f64 },
    /// A list of values, mapped by index.
    Values { values: Vec<toml::Value> },
}

/// One varied parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parameter {
    /// The scenario path, as `--set` takes it; also the parameter's column name in outputs.
    pub path: String,
    #[serde(flatten)]
    pub domain: Domain,
    /// Values are rounded to whole numbers.
    pub integer: bool,
    /// The parsed path, with a placeholder value.
    #[serde(skip)]
    template: Override,
}

impl Parameter {
    /// The value at unit coordinate `u`; `grid` selects the grid's mapping of value lists.
    pub fn value_at(&self, u: f64, grid: bool) -> toml::Value {
        match &self.domain {
            Domain::Range { min, max } => self.number(min + u.clamp(0.0, 1.0) * (max - min)),
            Domain::Values { values } => {
                let n = values.len();
                let i = if grid { (u * (n - 1) as f64).round() } else { (u * n as f64).floor() };
                let i = if i.is_finite() && i > 0.0 { (i as usize).min(n - 1) } else { 0 };
                match &values[i] {
                    toml::Value::Float(x) if self.integer => self.number(*x),
                    v => v.clone(),
                }
            }
        }
    }

    fn number(&self, x: f64) -> toml::Value {
        if self.integer { toml::Value::Integer(x.round() as i64) } else { toml::Value::Float(x) }
    }

    /// True when every value is a number (the column is numeric in runs.parquet).
    pub fn is_numeric(&self) -> bool {
        match &self.domain {
            Domain::Range { .. } => true,
            Domain::Values { values } => values.iter().all(|v| matches!(v, toml::Value::Integer(_) | toml::Value::Float(_))),
        }
    }

    /// The `--set` override that gives this parameter `value`.
    pub fn override_with(&self, value: toml::Value) -> Override {
        let raw = format!("{}={}", self.path, value);
        Override { path: self.template.path.clone(), value, raw }
    }

    /// The values to test one at a time: (value, sweep-file field that holds it).
    fn extremes(&self, i: usize) -> Vec<(toml::Value, String)> {
        match &self.domain {
            Domain::Range { .. } => vec![
                (self.value_at(0.0, false), format!("parameters[{i}].min")),
                (self.value_at(1.0, false), format!("parameters[{i}].max")),
            ],
            Domain::Values { values } => (0..values.len())
                .map(|j| (self.value_at(j as f64 / (values.len() - 1).max(1) as f64, true), format!("parameters[{i}].values[{j}]")))
                .collect(),
        }
    }
}

/// One point of the design.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// 0, 1, ... in the design's row order.
    pub id: usize,
    /// Unit-cube coordinates, one per parameter.
    pub unit: Vec<f64>,
    /// The concrete value of each parameter.
    pub values: Vec<toml::Value>,
}

/// Why a list of metric names was refused (each caller words it for its users).
#[derive(Debug, Clone, PartialEq)]
pub enum MetricListError {
    Empty,
    Unknown { index: usize, name: String },
    Twice { index: usize, name: String },
}

/// The metrics a sweep records: those `names` gives, in its order, each once; every metric when
/// there is no list.
pub fn metric_list(names: Option<&[String]>) -> Result<Vec<Metric>, MetricListError> {
    let Some(names) = names else { return Ok(Metric::ALL.to_vec()) };
    if names.is_empty() {
        return Err(MetricListError::Empty);
    }
    let mut list = Vec::with_capacity(names.len());
    for (index, n) in names.iter().enumerate() {
        let m = Metric::from_name(n).ok_or_else(|| MetricListError::Unknown { index, name: n.clone() })?;
        if list.contains(&m) {
            return Err(MetricListError::Twice { index, name: n.clone() });
        }
        list.push(m);
    }
    Ok(list)
}

/// A parameter value as runs.csv writes it (and runs.parquet's text columns hold it): numbers as
/// [`number_text`], strings bare.
pub fn value_cell(v: &toml::Value) -> String {
    match v {
        toml::Value::Float(x) => number_text(*x),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::String(s) => s.clone(),
        toml::Value::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// A validated sweep.
pub struct Sweep {
    pub name: String,
    /// The sweep file.
    pub file: PathBuf,
    /// The base scenario file, resolved against the sweep file's folder.
    pub base_file: PathBuf,
    /// The base scenario as resolved (with `days` applied), before any parameter is set.
    pub base: Scenario,
    base_text: String,
    pub replicates: usize,
    /// The master seed.
    pub seed: u64,
    pub days: Option<u32>,
    /// Summary metrics recorded per run, in file order (all of `Metric::ALL` by default).
    pub metrics: Vec<Metric>,
    pub design: DesignSpec,
    pub parameters: Vec<Parameter>,
    pub points: Vec<Point>,
    /// The Morris design, when `design.kind = "morris"` (its rows are `points`).
    pub morris: Option<MorrisDesign>,
    /// The Saltelli design, when `design.kind = "saltelli"` (its rows are `points`).
    pub saltelli: Option<SaltelliDesign>,
}

impl std::fmt::Debug for Sweep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sweep")
            .field("name", &self.name)
            .field("file", &self.file)
            .field("base_file", &self.base_file)
            .field("replicates", &self.replicates)
            .field("seed", &self.seed)
            .field("design", &self.design)
            .field("parameters", &self.parameters)
            .field("points", &self.points.len())
            .finish_non_exhaustive()
    }
}

impl Sweep {
    /// Loads and validates a sweep file.
    pub fn from_file(path: &Path) -> Result<Self, SweepError> {
        let bytes = std::fs::read(path).map_err(|source| SweepError::Read { file: path.display().to_string(), source })?;
        let text = scenario::utf8(bytes).map_err(|(at, message)| SweepError::Syntax { file: path.display().to_string(), at, message })?;
        Self::from_toml_str(&text, path)
    }

    /// Parses and validates sweep text; `path` names it in errors and anchors `base`.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Self, SweepError> {
        let file = path.display().to_string();
        let (spans, table) = scenario::parse_toml(text).map_err(|(at, message)| SweepError::Syntax { file: file.clone(), at, message })?;
        let err = |field: &str, message: String| SweepError::Field {
            file: file.clone(),
            at: scenario::locate(text, spans.get_ref(), field),
            field: field.to_string(),
            message,
        };

        let raw: SweepFile = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
            let (field, message) = scenario::field_and_message(&e);
            err(&field, message)
        })?;

        let name = raw.name.unwrap_or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| file.clone()));
        let replicates = raw.replicates.unwrap_or(DEFAULT_REPLICATES);
        if replicates == 0 {
            return Err(err("replicates", "must be at least 1".into()));
        }
        let seed = match &raw.seed {
            Some(v) => scenario::parse_seed(v).map_err(|m| err("seed", m))?,
            None => 1,
        };

        let metrics = metric_list(raw.metrics.as_deref()).map_err(|e| match e {
            MetricListError::Empty => err("metrics", "the list is empty; leave it out to record every metric".into()),
            MetricListError::Unknown { index, name } => {
                err(&format!("metrics[{index}]"), format!("unknown metric `{name}`; `sim describe metrics` lists them"))
            }
            MetricListError::Twice { index, name } => err(&format!("metrics[{index}]"), format!("metric `{name}` appears twice")),
        })?;

        // The base scenario, with the horizon override.
        let base_file = super::normalize(&path.parent().unwrap_or(Path::new("")).join(&raw.base));
        let base_name = base_file.display().to_string();
        let base_text = std::fs::read_to_string(&base_file).map_err(|e| {
            let resolved = if base_name == raw.base { String::new() } else { format!(" (resolved to {base_name})") };
            err("base", format!("cannot read the base scenario `{}`{resolved}: {e}", raw.base))
        })?;
        let days_override = match raw.days {
            Some(d) => vec![Override {
                path: vec![scenario::PathSeg::Key("run".into()), scenario::PathSeg::Key("days".into())],
                value: toml::Value::Integer(d.into()),
                raw: format!("run.days={d}"),
            }],
            None => vec![],
        };
        let base = Scenario::from_toml_str(&base_text, &base_name, &days_override).map_err(|e| match e.field() {
            Some("run.days" | "run.warmup_days") if raw.days.is_some() => err("days", strip_scenario_location(&e)),
            _ => SweepError::Base(e),
        })?;

        // The design's settings.
        let kind = DesignKind::from_name(&raw.design.kind).ok_or_else(|| {
            let allowed: Vec<&str> = DesignKind::ALL.iter().map(|k| k.name()).collect();
            err("design.kind", format!("unknown design kind `{}`; allowed: {}", raw.design.kind, allowed.join(", ")))
        })?;
        let (uses_levels, uses_samples, uses_trajectories) = kind.uses();
        for (given, used, field) in [
            (raw.design.levels.is_some(), uses_levels, "levels"),
            (raw.design.samples.is_some(), uses_samples, "samples"),
            (raw.design.trajectories.is_some(), uses_trajectories, "trajectories"),
        ] {
            if given && !used {
                return Err(err(&format!("design.{field}"), format!("not used by design kind `{}`", kind.name())));
            }
        }

        // Parameters.
        if raw.parameters.is_empty() {
            return Err(err("parameters", "a sweep needs at least one [[parameters]] entry".into()));
        }
        let mut parameters = Vec::with_capacity(raw.parameters.len());
        for (i, p) in raw.parameters.iter().enumerate() {
            let field = |f: &str| format!("parameters[{i}].{f}");
            let template = Override::parse(&format!("{}=0", p.path))
                .ok()
                .filter(|o| !p.path.contains('=') && !o.path.is_empty())
                .ok_or_else(|| {
                    err(
                        &field("path"),
                        format!("`{}` is not a parameter path (e.g. governance.discretion, need_types[0].rate_per_year)", p.path),
                    )
                })?;
            let path = p.path.trim().to_string();
            if parameters.iter().any(|q: &Parameter| q.path == path) {
                return Err(err(&field("path"), format!("`{path}` is varied twice")));
            }
            let integer = p.integer.unwrap_or(false);
            let domain = match (p.min, p.max, &p.values) {
                (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
                    return Err(err(&field("values"), "give either min and max or values, not both".into()));
                }
                (Some(min), Some(max), None) => {
                    if !min.is_finite() {
                        return Err(err(&field("min"), format!("{min} is not a finite number")));
                    }
                    if !max.is_finite() {
                        return Err(err(&field("max"), format!("{max} is not a finite number")));
                    }
                    if min >= max {
                        return Err(err(&field("max"), format!("empty range: max ({max}) must be above min ({min})")));
                    }
                    if integer && min.round() == max.round() {
                        return Err(err(&field("max"), format!("empty range: min ({min}) and max ({max}) round to the same whole number")));
                    }
                    Domain::Range { min, max }
                }
                (Some(_), None, None) => return Err(err(&field("min"), "a range needs max too".into())),
                (None, Some(_), None) => return Err(err(&field("max"), "a range needs min too".into())),
                (None, None, Some(values)) => {
                    if values.is_empty() {
                        return Err(err(&field("values"), "the list of values is empty".into()));
                    }
                    for (j, v) in values.iter().enumerate() {
                        let ok = match v {
                            toml::Value::Integer(_) => true,
                            toml::Value::Float(x) => x.is_finite(),
                            toml::Value::String(s) => !s.contains(['\n', '\r']),
                            toml::Value::Boolean(_) => !integer,
                            _ => false,
                        };
                        let numeric = matches!(v, toml::Value::Integer(_) | toml::Value::Float(_));
                        if !ok || (integer && !numeric) {
                            let why = if integer {
                                "integer = true needs numbers"
                            } else {
                                "values must be finite numbers, one-line strings or booleans"
                            };
                            return Err(err(&format!("parameters[{i}].values[{j}]"), format!("{v}: {why}")));
                        }
                    }
                    Domain::Values { values: values.clone() }
                }
                (None, None, None) => return Err(err(&format!("parameters[{i}]"), "give min and max, or values".into())),
            };
            parameters.push(Parameter { path, domain, integer, template });
        }
        let k = parameters.len();

        // The unit-cube design.
        let design_seed = rng::derive(seed, rng::name_hash("design"));
        let design_err = |field: &str, e: DesignError| err(field, e.to_string());
        let (mut morris, mut saltelli) = (None, None);
        let spec;
        let unit: Vec<Vec<f64>> = match kind {
            DesignKind::Grid => {
                let any_range = parameters.iter().any(|p| matches!(p.domain, Domain::Range { .. }));
                let levels = raw.design.levels;
                match levels {
                    None if any_range => return Err(err("design.levels", "a grid with min/max parameters needs `levels` (e.g. 5)".into())),
                    Some(l) if l < 2 => return Err(err("design.levels", format!("{l}: a grid needs at least 2 levels per range"))),
                    _ => {}
                }
                let per: Vec<usize> = parameters
                    .iter()
                    .map(|p| match &p.domain {
                        Domain::Range { .. } => levels.unwrap_or(2),
                        Domain::Values { values } => values.len(),
                    })
                    .collect();
                match design::grid_size(&per) {
                    Some(n) if n <= MAX_POINTS => {}
                    _ => return Err(err("design.levels", format!("the grid {per:?} has more than {MAX_POINTS} points"))),
                }
                spec = DesignSpec { kind, levels, samples: None, trajectories: None };
                design::grid(&per).map_err(|e| design_err("design", e))?
            }
            DesignKind::Random | DesignKind::Lhs | DesignKind::Sobol | DesignKind::Saltelli => {
                let min = if kind == DesignKind::Saltelli { 2 } else { 1 };
                let n = match raw.design.samples {
                    None => return Err(err("design.samples", format!("design kind `{}` needs `samples`", kind.name()))),
                    Some(n) if n < min => {
                        let what = if kind == DesignKind::Saltelli {
                            "base samples; Sobol indices need at least 2"
                        } else {
                            "points; at least 1 is needed"
                        };
                        return Err(err("design.samples", format!("{n} {what}")));
                    }
                    Some(n) => n,
                };
                let rows = if kind == DesignKind::Saltelli { n.checked_mul(k + 2) } else { Some(n) };
                if rows.is_none_or(|r| r > MAX_POINTS) {
                    return Err(err("design.samples", format!("{n} samples give more than {MAX_POINTS} points")));
                }
                spec = DesignSpec { kind, levels: None, samples: Some(n), trajectories: None };
                match kind {
                    DesignKind::Random => design::random(n, k, design_seed).map_err(|e| design_err("design.samples", e))?,
                    DesignKind::Lhs => design::latin_hypercube(n, k, design_seed).map_err(|e| design_err("design.samples", e))?,
                    DesignKind::Sobol => design::sobol(n, k, design_seed).map_err(|e| design_err(sobol_field(&e), e))?,
                    _ => {
                        let d = design::saltelli(n, k, design_seed).map_err(|e| design_err(sobol_field(&e), e))?;
                        let points = d.points.clone();
                        saltelli = Some(d);
                        points
                    }
                }
            }
            DesignKind::Morris => {
                let levels = raw.design.levels.unwrap_or(DEFAULT_MORRIS_LEVELS);
                if levels < 2 || levels % 2 == 1 {
                    return Err(err("design.levels", format!("{levels}: Morris needs an even number of levels, at least 2 (4 is usual)")));
                }
                let trajectories = match raw.design.trajectories {
                    None => return Err(err("design.trajectories", "design kind `morris` needs `trajectories` (e.g. 10)".into())),
                    Some(t) if t < 2 => {
                        return Err(err(
                            "design.trajectories",
                            format!("{t}: Morris needs at least 2 trajectories (sigma needs two effects)"),
                        ));
                    }
                    Some(t) => t,
                };
                if trajectories.checked_mul(k + 1).is_none_or(|r| r > MAX_POINTS) {
                    return Err(err("design.trajectories", format!("{trajectories} trajectories give more than {MAX_POINTS} points")));
                }
                spec = DesignSpec { kind, levels: Some(levels), samples: None, trajectories: Some(trajectories) };
                let d = design::morris(trajectories, k, levels, design_seed).map_err(|e| design_err("design", e))?;
                let points = d.points.clone();
                morris = Some(d);
                points
            }
        };
        if unit.len().checked_mul(replicates).is_none_or(|r| r > u32::MAX as usize) {
            return Err(err("replicates", format!("{} points x {replicates} replicates is too many runs", unit.len())));
        }
        let grid = kind == DesignKind::Grid;
        let points: Vec<Point> = unit
            .into_iter()
            .enumerate()
            .map(|(id, u)| {
                let values = parameters.iter().zip(&u).map(|(p, &x)| p.value_at(x, grid)).collect();
                Point { id, unit: u, values }
            })
            .collect();

        let sweep = Sweep {
            name,
            file: path.to_path_buf(),
            base_file,
            base,
            base_text,
            replicates,
            seed,
            days: raw.days,
            metrics,
            design: spec,
            parameters,
            points,
            morris,
            saltelli,
        };

        // Each parameter alone at its extremes: unknown paths and out-of-range values, located at
        // the path or at the value.
        for (i, p) in sweep.parameters.iter().enumerate() {
            for (value, value_field) in p.extremes(i) {
                let mut ovs = days_override.clone();
                ovs.push(p.override_with(value.clone()));
                if let Err(e) = Scenario::from_toml_str(&sweep.base_text, &base_name, &ovs) {
                    let (field, message) = explain(p, i, &value, &value_field, &e);
                    return Err(err(&field, message));
                }
            }
        }
        // Every point with all parameters set: combinations the scenario rejects.
        for point in &sweep.points {
            if let Err(e) = sweep.scenario_for(point) {
                let culprit = origin_path(&e).and_then(|o| sweep.parameters.iter().position(|p| p.path == o));
                let field = culprit.map(|i| format!("parameters[{i}].path")).unwrap_or_else(|| "parameters".into());
                return Err(err(
                    &field,
                    format!("point {} ({}) is not a valid scenario: {}", point.id, sweep.describe(point), strip_scenario_location(&e)),
                ));
            }
        }
        Ok(sweep)
    }

    /// The base scenario with this point's parameter values (and the sweep's `days`).
    pub fn scenario_for(&self, point: &Point) -> Result<Scenario, ScenarioError> {
        Scenario::from_toml_str(&self.base_text, &self.base_file.display().to_string(), &self.overrides(point))
    }

    /// The overrides that turn the base into `point`'s scenario.
    pub fn overrides(&self, point: &Point) -> Vec<Override> {
        let mut ovs = Vec::with_capacity(self.parameters.len() + 1);
        if let Some(d) = self.days {
            ovs.push(Override {
                path: vec![scenario::PathSeg::Key("run".into()), scenario::PathSeg::Key("days".into())],
                value: toml::Value::Integer(d.into()),
                raw: format!("run.days={d}"),
            });
        }
        ovs.extend(self.parameters.iter().zip(&point.values).map(|(p, v)| p.override_with(v.clone())));
        ovs
    }

    /// The seed of run (point, replicate): `rng::run_seed(seed, point, replicate)`.
    pub fn run_seed(&self, point: usize, replicate: usize) -> u64 {
        rng::run_seed(self.seed, point as u64, replicate as u64)
    }

    /// Runs of the plain (non-adaptive) sweep: points x replicates.
    pub fn runs(&self) -> u64 {
        (self.points.len() * self.replicates) as u64
    }

    /// `path=value, ...` of a point, for messages.
    pub fn describe(&self, point: &Point) -> String {
        self.parameters.iter().zip(&point.values).map(|(p, v)| format!("{}={v}", p.path)).collect::<Vec<_>>().join(", ")
    }

    /// SHA-256 of everything that decides the runs and their rows: name, the resolved base scenario,
    /// replicates, seed, metrics, design and parameters (not comments or formatting). Shards of one
    /// sweep share it.
    pub fn content_hash(&self) -> String {
        #[derive(Serialize)]
        struct Canonical<'a> {
            name: &'a str,
            base: String,
            replicates: usize,
            seed: u64,
            metrics: Vec<&'static str>,
            design: &'a DesignSpec,
            parameters: &'a [Parameter],
        }
        let c = Canonical {
            name: &self.name,
            base: self.base.content_hash(),
            replicates: self.replicates,
            seed: self.seed,
            metrics: self.metrics.iter().map(|m| m.name()).collect(),
            design: &self.design,
            parameters: &self.parameters,
        };
        let json = serde_json::to_vec(&c).expect("a sweep always serialises");
        Sha256::digest(&json).iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The Sobol/Saltelli error's field: too many parameters points at the list, too many points at samples.
fn sobol_field(e: &DesignError) -> &'static str {
    match e {
        DesignError::TooManySobolDimensions { .. } | DesignError::TooManySaltelliParameters { .. } => "parameters",
        _ => "design.samples",
    }
}

/// The `--set` path a scenario error came from, if any.
fn origin_path(e: &ScenarioError) -> Option<&str> {
    match e.first() {
        ScenarioError::Field { origin: Some(o), .. } => o.strip_prefix("--set "),
        ScenarioError::Override { arg, .. } => arg.split_once('=').map(|(p, _)| p.trim()),
        _ => None,
    }
}

/// A scenario error's message without its own file location (the sweep supplies one).
fn strip_scenario_location(e: &ScenarioError) -> String {
    match e {
        ScenarioError::Field { field, message, .. } => format!("`{field}`: {message}"),
        ScenarioError::Override { message, .. } => message.clone(),
        ScenarioError::Several(all) => all.iter().map(strip_scenario_location).collect::<Vec<_>>().join("; "),
        other => other.to_string(),
    }
}

/// Attributes the scenario's rejection of parameter `p` (index `i`) at `value` to a sweep field:
/// the path when the scenario has no such parameter, the value's field otherwise.
fn explain(p: &Parameter, i: usize, value: &toml::Value, value_field: &str, e: &ScenarioError) -> (String, String) {
    let base = "the base scenario";
    let path_field = format!("parameters[{i}].path");
    match e.first() {
        ScenarioError::Override { message, .. } => (path_field, format!("`{}` is not a parameter of {base}: {message}", p.path)),
        ScenarioError::Field { field, message, .. } => {
            let not_a_leaf = message.starts_with("invalid type")
                && (message.contains("struct") || message.contains("sequence") || message.contains("map"));
            if message.starts_with("unknown field") || not_a_leaf {
                let at = if *field == p.path { String::new() } else { format!("`{field}`: ") };
                (path_field, format!("`{}` is not a parameter of {base}: {at}{message}", p.path))
            } else if message.contains("whole number") && !p.integer {
                (value_field.to_string(), format!("{value} for `{field}`: {message}; add `integer = true` to this parameter"))
            } else {
                (value_field.to_string(), format!("{value} for `{field}`: {message}"))
            }
        }
        other => (path_field, other.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Runs: shards, rounds, adaptive replication
// ---------------------------------------------------------------------------------------------

/// One run of a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunSpec {
    /// 0, 1, ... in the fixed run order (round, point, replicate).
    pub run_id: u64,
    pub point: usize,
    pub replicate: usize,
    pub seed: u64,
}

/// Slice `index` of `count` interleaved slices: the runs with `run_id % count == index`.
/// Written `index/count` on the command line, 0-based: `0/3`, `1/3`, `2/3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Parses `i/N` with `N >= 1` and `0 <= i < N`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (i, n) = text.split_once('/').ok_or_else(|| format!("`{text}`: expected i/N, e.g. 0/3 (0-based)"))?;
        let index: u64 = i.trim().parse().map_err(|_| format!("`{text}`: the shard index `{i}` is not a whole number"))?;
        let count: u64 = n.trim().parse().map_err(|_| format!("`{text}`: the shard count `{n}` is not a whole number"))?;
        if count == 0 {
            return Err(format!("`{text}`: the shard count must be at least 1"));
        }
        if index >= count {
            return Err(format!(
                "`{text}`: the shard index must be below the count (shards are 0-based: 0/{count} .. {}/{count})",
                count - 1
            ));
        }
        Ok(Self { index, count })
    }

    pub fn contains(&self, run_id: u64) -> bool {
        run_id % self.count == self.index
    }
}

/// Adaptive replication: add replicates to a point until the 95% CI half-width of `metric` is at
/// most `half_width`, or the point has `max_replicates`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AdaptiveTarget {
    #[serde(serialize_with = "metric_name")]
    pub metric: Metric,
    pub half_width: f64,
    pub max_replicates: usize,
}

fn metric_name<S: serde::Serializer>(m: &Metric, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.name())
}

/// Half-width of the 95% CI of the finite values (`metrics::mean_ci95`); NaN with fewer than two.
pub fn ci_half_width(values: &[f64]) -> f64 {
    let finite: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let (mean, _, hi) = mean_ci95(&finite);
    hi - mean
}

/// One round of runs: `replicates` of each listed point, in (point, replicate) order.
#[derive(Debug, Clone, PartialEq)]
pub struct Round {
    /// 0 for the first round.
    pub index: usize,
    /// The points of this round, ascending.
    pub points: Vec<usize>,
    /// Replicate numbers run for each point.
    pub replicates: Range<usize>,
    /// run_id of the round's first run.
    pub first_run_id: u64,
    seed: u64,
}

impl Round {
    /// Number of runs in the round.
    pub fn len(&self) -> u64 {
        (self.points.len() * self.replicates.len()) as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The round's runs in run_id order.
    pub fn runs(&self) -> impl Iterator<Item = RunSpec> + '_ {
        let per = self.replicates.len() as u64;
        self.points.iter().enumerate().flat_map(move |(k, &point)| {
            self.replicates.clone().enumerate().map(move |(j, replicate)| RunSpec {
                run_id: self.first_run_id + k as u64 * per + j as u64,
                point,
                replicate,
                seed: rng::run_seed(self.seed, point as u64, replicate as u64),
            })
        })
    }
}

/// Plans a sweep's runs round by round. Without a target there is one round: every point,
/// replicates `0..replicates`, so run_id = point x replicates + replicate. With a target, round
/// `r` adds replicates `r R .. min((r+1) R, max)` to each point whose half-width is still above
/// the target after the earlier rounds (R = the sweep's replicates), until none is. The decisions
/// depend only on the recorded values, so the plan is the same for any thread count or resume.
#[derive(Debug)]
pub struct Planner {
    points: usize,
    batch: usize,
    seed: u64,
    target: Option<AdaptiveTarget>,
    next_round: usize,
    next_run_id: u64,
    /// Replicates planned so far, per point (all points share it within a round).
    done: Vec<usize>,
    /// The target metric's values per point (adaptive only), in replicate order.
    values: Vec<Vec<f64>>,
    finished: bool,
}

impl Planner {
    pub fn new(sweep: &Sweep, target: Option<AdaptiveTarget>) -> Self {
        let points = sweep.points.len();
        Self {
            points,
            batch: sweep.replicates,
            seed: sweep.seed,
            target,
            next_round: 0,
            next_run_id: 0,
            done: vec![0; points],
            values: if target.is_some() { vec![Vec::new(); points] } else { Vec::new() },
            finished: false,
        }
    }

    /// Records the target metric's value of a finished run (needed before the next round).
    pub fn record(&mut self, run: &RunSpec, value: f64) {
        if let Some(v) = self.values.get_mut(run.point) {
            v.push(value);
        }
    }

    /// Replicates planned so far for `point`.
    pub fn replicates_of(&self, point: usize) -> usize {
        self.done[point]
    }

    /// The next round, or `None` when the sweep is complete.
    pub fn next_round(&mut self) -> Option<Round> {
        if self.finished {
            return None;
        }
        let (points, from, to) = if self.next_round == 0 {
            let to = match self.target {
                Some(t) => self.batch.min(t.max_replicates),
                None => self.batch,
            };
            ((0..self.points).collect::<Vec<_>>(), 0, to)
        } else {
            let Some(t) = self.target else {
                self.finished = true;
                return None;
            };
            // A NaN half-width (fewer than two finite values) does not meet the target.
            let met = |p: usize| ci_half_width(&self.values[p]) <= t.half_width;
            let need: Vec<usize> = (0..self.points).filter(|&p| self.done[p] < t.max_replicates && !met(p)).collect();
            let Some(&first) = need.first() else {
                self.finished = true;
                return None;
            };
            let from = self.done[first];
            (need, from, (from + self.batch).min(t.max_replicates))
        };
        if points.is_empty() || from >= to {
            self.finished = true;
            return None;
        }
        for &p in &points {
            debug_assert_eq!(self.done[p], from, "points of one round share their replicate count");
            self.done[p] = to;
        }
        let round = Round { index: self.next_round, points, replicates: from..to, first_run_id: self.next_run_id, seed: self.seed };
        self.next_round += 1;
        self.next_run_id += round.len();
        Some(round)
    }
}

// ---------------------------------------------------------------------------------------------
// Running in parallel, results in order
// ---------------------------------------------------------------------------------------------

/// A run panicked (a bug in the model, never bad input).
#[derive(Debug, Clone, thiserror::Error)]
#[error("item {index} panicked: {message}")]
pub struct Panicked {
    /// Position of the item in the input.
    pub index: usize,
    pub message: String,
}

/// Runs `work` on every item, one rayon task per item, on `pool` (or the global pool), and hands
/// each result to `sink` in input order. At most `window` items are in flight or waiting for an
/// earlier one, so memory is bounded however many items there are; items are taken from
/// `items` only as the window allows. `sink` runs on the calling thread. The first error of
/// `sink` (or a panic of `work`, as [`Panicked`]) stops new submissions; tasks already running
/// finish before this returns.
pub fn run_ordered<T, R, E, W, S>(
    pool: Option<&rayon::ThreadPool>,
    items: impl Iterator<Item = T>,
    window: usize,
    work: W,
    mut sink: S,
) -> Result<(), E>
where
    T: Send,
    R: Send,
    W: Fn(&T) -> R + Sync,
    S: FnMut(T, R) -> Result<(), E>,
    E: From<Panicked>,
{
    let window = window.max(1);
    let work = &work;
    match pool {
        Some(p) => p.in_place_scope_fifo(|scope| submit_in_order(scope, items, window, work, &mut sink)),
        None => rayon::in_place_scope_fifo(|scope| submit_in_order(scope, items, window, work, &mut sink)),
    }
}

/// The body of [`run_ordered`] inside its scope: submits within the window, reorders, sinks.
fn submit_in_order<'s, T, R, E, W, S>(
    scope: &rayon::ScopeFifo<'s>,
    items: impl Iterator<Item = T>,
    window: usize,
    work: &'s W,
    sink: &mut S,
) -> Result<(), E>
where
    T: Send + 's,
    R: Send + 's,
    W: Fn(&T) -> R + Sync,
    S: FnMut(T, R) -> Result<(), E>,
    E: From<Panicked>,
{
    use std::collections::BTreeMap;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    let (tx, rx) = std::sync::mpsc::channel::<(usize, T, std::thread::Result<R>)>();
    let mut items = items.enumerate();
    let mut waiting: BTreeMap<usize, (T, std::thread::Result<R>)> = BTreeMap::new();
    let (mut submitted, mut written, mut exhausted) = (0usize, 0usize, false);
    loop {
        while !exhausted && submitted < written + window {
            match items.next() {
                Some((i, item)) => {
                    let tx = tx.clone();
                    scope.spawn_fifo(move |_| {
                        let result = catch_unwind(AssertUnwindSafe(|| work(&item)));
                        // The receiver is gone only when the sink failed; nothing to report then.
                        let _ = tx.send((i, item, result));
                    });
                    submitted += 1;
                }
                None => exhausted = true,
            }
        }
        if written == submitted {
            return Ok(());
        }
        // Every submitted task sends exactly once (panics are caught), so this cannot hang.
        let (i, item, result) = rx.recv().expect("this function holds a sender");
        waiting.insert(i, (item, result));
        while let Some((item, result)) = waiting.remove(&written) {
            match result {
                Ok(r) => sink(item, r)?,
                Err(payload) => return Err(Panicked { index: written, message: panic_message(payload.as_ref()) }.into()),
            }
            written += 1;
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sweep file placed in the workspace's scenarios/sweeps/, so `base = "../top-down.toml"`
    /// resolves to the shipped scenario.
    fn load(text: &str) -> Result<Sweep, SweepError> {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/sweeps/unit-test.toml"));
        Sweep::from_toml_str(text, path)
    }

    const HEAD: &str = "base = \"../top-down.toml\"\ndays = 400\n";

    #[test]
    fn metric_list_keeps_the_order_and_names_the_entry_refused() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(metric_list(None).unwrap(), Metric::ALL.to_vec());
        assert_eq!(metric_list(Some(&names(&["gaming_gap", "backlog"]))).unwrap(), vec![Metric::GamingGap, Metric::Backlog]);
        assert_eq!(metric_list(Some(&[])), Err(MetricListError::Empty));
        assert_eq!(metric_list(Some(&names(&["backlog", "nope"]))), Err(MetricListError::Unknown { index: 1, name: "nope".into() }));
        assert_eq!(
            metric_list(Some(&names(&["backlog", "gaming_gap", "backlog"]))),
            Err(MetricListError::Twice { index: 2, name: "backlog".into() })
        );
    }

    #[track_caller]
    fn load_err(text: &str) -> SweepError {
        match load(text) {
            Ok(s) => panic!("expected an error, got {s:?}"),
            Err(e) => e,
        }
    }

    #[track_caller]
    fn assert_located(e: &SweepError, line: usize, field: &str) {
        let SweepError::Field { at, field: f, .. } = e else { panic!("not a field error: {e}") };
        assert_eq!(f, field, "{e}");
        assert_eq!(at.as_ref().map(|a| a.line), Some(line), "{e}");
        assert!(e.to_string().contains(&format!("unit-test.toml:{line}:")), "{e}");
    }

    /// As [`assert_located`], and the message says `words`.
    #[track_caller]
    fn assert_located_saying(e: &SweepError, line: usize, field: &str, words: &str) {
        assert_located(e, line, field);
        assert!(e.to_string().contains(words), "{e}");
    }

    #[test]
    fn grid_points_values_and_seeds() {
        let s = load(&format!(
            "{HEAD}replicates = 2\n[design]\nkind = \"grid\"\nlevels = 3\n\
             [[parameters]]\npath = \"governance.discretion\"\nmin = 0.0\nmax = 1.0\n\
             [[parameters]]\npath = \"governance.preset\"\nvalues = [\"top_down\", \"enablement\"]\n"
        ))
        .unwrap();
        assert_eq!(s.points.len(), 6);
        assert_eq!(s.runs(), 12);
        let values: Vec<(f64, String)> =
            s.points.iter().map(|p| (p.values[0].as_float().unwrap(), p.values[1].as_str().unwrap().to_string())).collect();
        assert_eq!(values[0], (0.0, "top_down".into()));
        assert_eq!(values[1], (0.0, "enablement".into()));
        assert_eq!(values[3], (0.5, "enablement".into()));
        assert_eq!(values[4], (1.0, "top_down".into()));
        assert!(s.parameters[0].is_numeric() && !s.parameters[1].is_numeric());
        let sc = s.scenario_for(&s.points[3]).unwrap();
        assert_eq!(sc.governance.discretion, 0.5);
        assert_eq!(sc.preset.as_deref(), Some("enablement"));
        assert_eq!(sc.run.days, 400);
        assert_eq!(s.run_seed(2, 1), rng::run_seed(1, 2, 1));
        assert_eq!(s.metrics, Metric::ALL);
    }

    #[test]
    fn integer_parameters_round_and_value_lists_map_by_index() {
        let s = load(&format!(
            "{HEAD}[design]\nkind = \"random\"\nsamples = 50\n\
             [[parameters]]\npath = \"workforce.frontline_staff\"\nmin = 10\nmax = 20\ninteger = true\n\
             [[parameters]]\npath = \"governance.discretion\"\nvalues = [0.1, 0.9]\n"
        ))
        .unwrap();
        for p in &s.points {
            let staff = p.values[0].as_integer().expect("an integer");
            assert!((10..=20).contains(&staff));
            assert_eq!(staff, (10.0 + p.unit[0] * 10.0).round() as i64);
            let d = p.values[1].as_float().unwrap();
            assert_eq!(d, if p.unit[1] < 0.5 { 0.1 } else { 0.9 });
            assert_eq!(s.scenario_for(p).unwrap().workforce.frontline_staff, staff as usize);
        }
    }

    #[test]
    fn saltelli_and_morris_keep_their_designs() {
        let s = load(&format!(
            "{HEAD}replicates = 1\n[design]\nkind = \"saltelli\"\nsamples = 4\n\
             [[parameters]]\npath = \"governance.discretion\"\nmin = 0.2\nmax = 0.8\n\
             [[parameters]]\npath = \"governance.target_pressure\"\nmin = 0.0\nmax = 1.0\n"
        ))
        .unwrap();
        let d = s.saltelli.as_ref().expect("a Saltelli design");
        assert_eq!(s.points.len(), 4 * 4);
        assert_eq!(d.points.len(), s.points.len());
        assert!(s.points.iter().all(|p| (0.2..=0.8).contains(&p.values[0].as_float().unwrap())));
        let m = load(&format!(
            "{HEAD}[design]\nkind = \"morris\"\ntrajectories = 3\n\
             [[parameters]]\npath = \"governance.discretion\"\nmin = 0.0\nmax = 1.0\n"
        ))
        .unwrap();
        assert_eq!(m.design.levels, Some(DEFAULT_MORRIS_LEVELS));
        assert_eq!(m.points.len(), 3 * 2);
        assert!(m.morris.is_some());
    }

    #[test]
    fn located_errors() {
        let p = "[[parameters]]\npath = \"governance.discretion\"\nmin = 0.0\nmax = 1.0\n";
        // line numbers: HEAD is two lines.
        assert_located(&load_err(&format!("{HEAD}bogus = 1\n[design]\nkind = \"grid\"\nlevels = 2\n{p}")), 3, "bogus");
        assert_located(&load_err(&format!("{HEAD}[design]\nkind = \"grid\"\nlevels = 2\nextra = 1\n{p}")), 6, "design.extra");
        assert_located(&load_err(&format!("{HEAD}[design]\nkind = \"nope\"\n{p}")), 4, "design.kind");
        assert_located(&load_err(&format!("{HEAD}replicates = 0\n[design]\nkind = \"grid\"\nlevels = 2\n{p}")), 3, "replicates");
        assert_located(
            &load_err(&format!("{HEAD}metrics = [\"backlog\", \"nope\"]\n[design]\nkind = \"grid\"\nlevels = 2\n{p}")),
            3,
            "metrics[1]",
        );
        let twice = load_err(&format!("{HEAD}metrics = [\"backlog\", \"backlog\"]\n[design]\nkind = \"grid\"\nlevels = 2\n{p}"));
        assert_located_saying(&twice, 3, "metrics[1]", "metric `backlog` appears twice");
        let empty = load_err(&format!("{HEAD}metrics = []\n[design]\nkind = \"grid\"\nlevels = 2\n{p}"));
        assert_located_saying(&empty, 3, "metrics", "the list is empty");
        assert_located(&load_err(&format!("{HEAD}[design]\nkind = \"saltelli\"\nsamples = 1\n{p}")), 5, "design.samples");
        assert_located(&load_err(&format!("{HEAD}[design]\nkind = \"morris\"\nlevels = 3\ntrajectories = 4\n{p}")), 5, "design.levels");
        assert_located(&load_err(&format!("{HEAD}[design]\nkind = \"grid\"\nsamples = 3\n{p}")), 5, "design.samples");
        let design = "[design]\nkind = \"grid\"\nlevels = 2\n";
        assert_located(
            &load_err(&format!("{HEAD}{design}[[parameters]]\npath = \"governance.bogus\"\nmin = 0.0\nmax = 1.0\n")),
            7,
            "parameters[0].path",
        );
        assert_located(
            &load_err(&format!("{HEAD}{design}{p}[[parameters]]\npath = \"need_types[9].rate_per_year\"\nmin = 0.1\nmax = 1.0\n")),
            11,
            "parameters[1].path",
        );
        assert_located(
            &load_err(&format!("{HEAD}{design}[[parameters]]\npath = \"governance.discretion\"\nmin = 0.5\nmax = 0.5\n")),
            9,
            "parameters[0].max",
        );
        let e = load_err(&format!("{HEAD}{design}[[parameters]]\npath = \"governance.discretion\"\nmin = 0.0\nmax = 1.5\n"));
        assert_located_saying(&e, 9, "parameters[0].max", "0 to 1");
        assert_located(
            &load_err(&format!("{HEAD}{design}[[parameters]]\npath = \"governance.discretion\"\nvalues = []\n")),
            8,
            "parameters[0].values",
        );
        let e = load_err(&format!("{HEAD}{design}[[parameters]]\npath = \"workforce.frontline_staff\"\nmin = 10\nmax = 20\n"));
        assert_located_saying(&e, 8, "parameters[0].min", "integer = true");
        let e = load_err(&format!("base = \"../nowhere.toml\"\n{design}{p}"));
        assert_located_saying(&e, 1, "base", "nowhere.toml");
    }

    #[test]
    fn a_bad_combination_names_the_point() {
        // community_k must be even: the extremes 4 and 8 pass alone, the middle level 6 too, but
        // a 4-level grid over [4, 8] hits 5 and 7 (rounded).
        let e = load_err(&format!(
            "{HEAD}[design]\nkind = \"grid\"\nlevels = 4\n\
             [[parameters]]\npath = \"population.community_k\"\nmin = 4\nmax = 8\ninteger = true\n"
        ));
        assert_located(&e, 7, "parameters[0].path");
        assert!(e.to_string().contains("point 1"), "{e}");
    }

    #[test]
    fn hash_ignores_comments_but_not_values() {
        let body = "[design]\nkind = \"grid\"\nlevels = 2\n[[parameters]]\npath = \"governance.discretion\"\nmin = 0.0\nmax = 1.0\n";
        let a = load(&format!("{HEAD}{body}")).unwrap().content_hash();
        let b = load(&format!("# a comment\n{HEAD}{body}")).unwrap().content_hash();
        let c = load(&format!("{HEAD}seed = 2\n{body}")).unwrap().content_hash();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn shards_parse_zero_based() {
        assert_eq!(Shard::parse("0/3"), Ok(Shard { index: 0, count: 3 }));
        assert_eq!(Shard::parse("2/3").map(|s| s.contains(5)), Ok(true));
        for bad in ["3/3", "0/0", "1", "a/2", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    fn small_sweep(replicates: usize) -> Sweep {
        load(&format!(
            "base = \"../top-down.toml\"\nreplicates = {replicates}\n[design]\nkind = \"grid\"\nlevels = 3\n\
             [[parameters]]\npath = \"governance.discretion\"\nmin = 0.0\nmax = 1.0\n"
        ))
        .unwrap()
    }

    #[test]
    fn plain_plan_is_one_round_point_major() {
        let s = small_sweep(2);
        let mut p = Planner::new(&s, None);
        let round = p.next_round().unwrap();
        let runs: Vec<RunSpec> = round.runs().collect();
        assert_eq!(runs.len(), 6);
        for r in &runs {
            assert_eq!(r.run_id, (r.point * 2 + r.replicate) as u64);
            assert_eq!(r.seed, s.run_seed(r.point, r.replicate));
        }
        assert!(p.next_round().is_none());
    }

    #[test]
    fn adaptive_rounds_stop_at_target_or_max() {
        let s = small_sweep(2);
        let metric = Metric::Backlog;
        let mut p = Planner::new(&s, Some(AdaptiveTarget { metric, half_width: 1.0, max_replicates: 5 }));
        let mut ids = Vec::new();
        let mut rounds = 0;
        while let Some(round) = p.next_round() {
            rounds += 1;
            for r in round.runs() {
                ids.push(r.run_id);
                // Point 0 is constant (met after 2 replicates); point 1 varies widely (never met,
                // stops at the maximum 5); point 2 has half-width 1.27 after 2 replicates
                // (1.0, 1.2) and 0.13 after 4 (1.0, 1.2, 1.1, 1.1), so it stops at 4.
                let v = match r.point {
                    0 => 3.0,
                    1 => (r.replicate as f64) * 100.0,
                    _ => [1.0, 1.2, 1.1, 1.1, 1.0][r.replicate],
                };
                p.record(&r, v);
            }
        }
        assert_eq!(ids, (0..ids.len() as u64).collect::<Vec<_>>(), "run ids are consecutive");
        assert_eq!(p.replicates_of(0), 2);
        assert_eq!(p.replicates_of(1), 5);
        assert_eq!(p.replicates_of(2), 4);
        assert_eq!(rounds, 3, "2 replicates of all; 2 more of points 1 and 2; the last of point 1");
    }

    #[test]
    fn run_ordered_keeps_order_for_any_pool_and_bounds_the_window() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        for threads in [1, 2, 4] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let in_flight = AtomicUsize::new(0);
            let peak = AtomicUsize::new(0);
            let mut seen = Vec::new();
            let result: Result<(), Panicked> = run_ordered(
                Some(&pool),
                0..200u64,
                6,
                |&i| {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_micros(rng::splitmix64(i) % 300));
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    i * i
                },
                |i, sq| {
                    assert_eq!(sq, i * i);
                    seen.push(i);
                    Ok(())
                },
            );
            result.unwrap();
            assert_eq!(seen, (0..200).collect::<Vec<_>>());
            assert!(peak.load(Ordering::SeqCst) <= threads.min(6));
        }
    }

    #[test]
    fn run_ordered_reports_panics_and_sink_errors() {
        let r: Result<(), Panicked> = run_ordered(None, 0..10u32, 4, |&i| if i == 3 { panic!("boom {i}") } else { i }, |_, _| Ok(()));
        let e = r.unwrap_err();
        assert_eq!(e.index, 3);
        assert!(e.message.contains("boom 3"));
        #[derive(Debug)]
        enum E {
            Sink,
            Panic,
        }
        impl From<Panicked> for E {
            fn from(_: Panicked) -> Self {
                E::Panic
            }
        }
        let mut n = 0;
        let r = run_ordered(
            None,
            0..100u32,
            4,
            |&i| i,
            |_, _| {
                n += 1;
                if n == 5 { Err(E::Sink) } else { Ok(()) }
            },
        );
        assert!(matches!(r, Err(E::Sink)), "{r:?}");
        assert_eq!(n, 5);
        let _ = E::Panic;
    }
}
