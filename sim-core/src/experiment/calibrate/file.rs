//! Reading a calibration file (its format is in the `calibrate` module's doc): the raw shapes
//! serde reads, then each part checked on its own (the base with `days` and `set`, the method, the
//! parameters, the targets, the observed series) into a [`Calibration`]. Every error names the
//! file, line, column and field ([`CalibrationError::Field`]), or the CSV's line and column.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::abc::{Method, Prior, Settings};
use super::{
    Calibration, CalibrationError, DAYS_PER_YEAR, DEFAULT_ALPHA, DEFAULT_GENERATIONS, DEFAULT_MAX_SIMULATIONS, DEFAULT_MIN_ACCEPTANCE,
    DEFAULT_PARTICLES, DEFAULT_PERIOD_DAYS, DEFAULT_PREDICTIVE_RUNS, Parameter, Statistic, Target, strip_location,
};
use crate::metrics::{Metric, Summary};
use crate::scenario::{self, Override, ParamSpec, PathSeg, Scenario, ScenarioError};

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

/// Where a field's error points: the file's name, its text and where each key was written.
struct Fields<'a> {
    file: &'a str,
    text: &'a str,
    spans: &'a toml::de::DeTable<'a>,
}

impl Fields<'_> {
    fn err(&self, field: &str, message: String) -> CalibrationError {
        CalibrationError::Field {
            file: self.file.to_string(),
            at: scenario::locate(self.text, self.spans, field),
            field: field.to_string(),
            message,
        }
    }
}

/// The base scenario as the calibration runs it, before any parameter is set.
struct Base {
    file: PathBuf,
    text: String,
    scenario: Scenario,
    /// `days` and `set` as overrides, in that order.
    fixed: Vec<Override>,
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
        let (spans, table) =
            scenario::parse_toml(text).map_err(|(at, message)| CalibrationError::Syntax { file: file.clone(), at, message })?;
        let fields = Fields { file: &file, text, spans: spans.get_ref() };
        let raw: CalibrationFile = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
            let (field, message) = scenario::field_and_message(&e);
            fields.err(&field, message)
        })?;

        let name =
            raw.name.clone().unwrap_or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| file.clone()));
        let seed = match &raw.seed {
            Some(v) => scenario::parse_seed(v).map_err(|m| fields.err("seed", m))?,
            None => 1,
        };
        let dir = path.parent().unwrap_or(Path::new(""));
        let base = base(&raw, dir, &fields)?;
        let (method, particles, predictive_runs) = method(raw.method.as_ref().unwrap_or(&MethodRaw::default()), &fields)?;
        let parameters = parameters(&raw.parameters, &base, &fields)?;

        // Targets: the listed ones, then the series' rows.
        let (days, window_start) = (base.scenario.run.days, base.scenario.run.warmup_days);
        let mut targets = Vec::new();
        for (list, held_out, key) in [(&raw.targets, false, "targets"), (&raw.held_out, true, "held_out")] {
            for (i, t) in list.iter().flatten().enumerate() {
                targets.push(target(t, held_out, &format!("{key}[{i}]"), days, window_start, &fields)?);
            }
        }
        let series_file = match &raw.series {
            Some(s) => Some(series(s, dir, days, window_start, &fields, &mut targets)?),
            None => None,
        };
        if !targets.iter().any(|t| !t.held_out) {
            return Err(fields
                .err("targets", "a calibration needs at least one fitted target ([[targets]] or a series column not held out)".into()));
        }
        no_figure_fitted_and_held_out(&targets, raw.held_out.as_ref().map_or(0, Vec::len), &fields)?;

        Ok(Calibration {
            name,
            file: path.to_path_buf(),
            base_file: base.file,
            base_text: base.text,
            base: base.scenario,
            fixed: base.fixed,
            seed,
            settings: Settings { method, particles, seed },
            predictive_runs,
            parameters,
            targets,
            series_file,
        })
    }
}

/// The base scenario (relative to the calibration file's folder `dir`) with `days` and `set`; an
/// error in an override is put on the `set` entry (or `days`) it came from.
fn base(raw: &CalibrationFile, dir: &Path, fields: &Fields) -> Result<Base, CalibrationError> {
    let file = crate::experiment::normalize(&dir.join(&raw.base));
    let name = file.display().to_string();
    let text = std::fs::read_to_string(&file).map_err(|e| {
        let resolved = if name == raw.base { String::new() } else { format!(" (resolved to {name})") };
        fields.err("base", format!("cannot read the base scenario `{}`{resolved}: {e}", raw.base))
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
        let o = Override::parse(s).map_err(|e| fields.err(&format!("set[{i}]"), strip_location(&e)))?;
        fixed.push(o);
    }
    let scenario = Scenario::from_toml_str(&text, &name, &fixed).map_err(|e| match e.first() {
        ScenarioError::Field { origin: Some(o), .. } | ScenarioError::Override { arg: o, .. } => {
            let o = o.strip_prefix("--set ").unwrap_or(o);
            let field = raw
                .set
                .iter()
                .flatten()
                .position(|s| s.trim() == o.trim() || o.starts_with(s.split('=').next().unwrap_or("").trim()))
                .map(|i| format!("set[{i}]"))
                .unwrap_or_else(|| "days".into());
            fields.err(&field, strip_location(&e))
        }
        _ => CalibrationError::Base(e),
    })?;
    Ok(Base { file, text, scenario, fixed })
}

/// The `[method]` table: the sampler, the particles kept and the predictive runs.
fn method(m: &MethodRaw, fields: &Fields) -> Result<(Method, usize, usize), CalibrationError> {
    let err = |field: &str, message: String| fields.err(field, message);
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
            let samples =
                m.samples.ok_or_else(|| err("method.samples", "method kind `rejection` needs `samples` (draws from the prior)".into()))?;
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
    Ok((method, particles, predictive_runs))
}

/// The `[[parameters]]`: each a numeric scenario parameter, estimated once, with a prior inside
/// its valid range; then each alone at its bounds, applied to the base, so a combination the
/// scenario rejects is caught before anything runs.
fn parameters(raw: &[ParameterRaw], base: &Base, fields: &Fields) -> Result<Vec<Parameter>, CalibrationError> {
    if raw.is_empty() {
        return Err(fields.err("parameters", "a calibration needs at least one [[parameters]] entry".into()));
    }
    let specs = Scenario::parameter_specs();
    let mut parameters: Vec<Parameter> = Vec::new();
    for (i, p) in raw.iter().enumerate() {
        let parameter = parameter(p, i, &parameters, &specs, fields)?;
        parameters.push(parameter);
    }
    let base_name = base.file.display().to_string();
    for (i, p) in parameters.iter().enumerate() {
        let (lo, hi) = p.prior.bounds();
        for (x, f) in [(lo, "min"), (hi, "max")] {
            let mut ovs = base.fixed.clone();
            ovs.push(p.override_with(x));
            if let Err(e) = Scenario::from_toml_str(&base.text, &base_name, &ovs) {
                return Err(fields.err(&format!("parameters[{i}].{f}"), format!("`{}` = {x}: {}", p.path, strip_location(&e))));
            }
        }
    }
    Ok(parameters)
}

/// `parameters[i]`: its path (not one of the `earlier` parameters'), bounds and prior.
fn parameter(
    p: &ParameterRaw,
    i: usize,
    earlier: &[Parameter],
    specs: &[ParamSpec],
    fields: &Fields,
) -> Result<Parameter, CalibrationError> {
    let field = |f: &str| format!("parameters[{i}].{f}");
    let err = |f: &str, message: String| fields.err(&field(f), message);
    let path = p.path.trim().to_string();
    let not_a_path = || err("path", format!("`{path}` is not a parameter path (e.g. governance.discretion)"));
    let template = Override::parse(&format!("{path}=0"))
        .ok()
        .filter(|o| !path.contains('=') && !o.path.is_empty())
        .map(|o| o.path)
        .ok_or_else(not_a_path)?;
    if earlier.iter().any(|q| q.path == path) {
        return Err(err("path", format!("`{path}` is estimated twice")));
    }
    let (section, leaf) = match (template.first(), template.last()) {
        (Some(PathSeg::Key(s)), Some(PathSeg::Key(l))) => (s.clone(), l.clone()),
        _ => return Err(not_a_path()),
    };
    let Some(spec) = specs.iter().find(|s| s.section == section && s.name == leaf) else {
        let known = specs.iter().map(|s| format!("{}.{}", s.section, s.name)).collect::<Vec<_>>();
        let hint =
            scenario::did_you_mean(&path, known.iter().map(String::as_str)).map(|k| format!("; did you mean `{k}`?")).unwrap_or_default();
        return Err(err("path", format!("`{path}` is not a parameter of the scenario{hint}; `sim describe parameters` lists them")));
    };
    if !spec.min.is_finite() || !spec.max.is_finite() || !spec.allowed.is_empty() {
        return Err(err("path", format!("`{path}` is not a number ({}); only numeric parameters can be estimated", spec.allowed)));
    }
    let integer = !spec.default.contains(['.', 'e', 'E', '"']) && spec.default.parse::<i64>().is_ok();
    let range =
        if spec.unit == "-" { format!("[{}, {}]", spec.min, spec.max) } else { format!("[{}, {}] {}", spec.min, spec.max, spec.unit) };
    let bound = |v: Option<f64>, f: &str, dflt: f64| -> Result<f64, CalibrationError> {
        match v {
            None => Ok(dflt),
            Some(x) if !x.is_finite() || x < spec.min || x > spec.max => {
                Err(err(f, format!("{x} is outside `{path}`'s valid range; allowed range {range}")))
            }
            Some(x) => Ok(x),
        }
    };
    let lo = bound(p.min, "min", spec.min)?;
    let hi = bound(p.max, "max", spec.max)?;
    if lo >= hi {
        return Err(err("max", format!("empty range: max ({hi}) must be above min ({lo}); allowed range {range}")));
    }
    let kind = p.prior.as_deref().unwrap_or("uniform");
    let given = [("mean", p.mean), ("sd", p.sd), ("mu", p.mu), ("sigma", p.sigma), ("a", p.a), ("b", p.b)];
    let uses: &[&str] = match kind {
        "uniform" => &[],
        "normal" => &["mean", "sd"],
        "lognormal" => &["mu", "sigma"],
        "beta" => &["a", "b"],
        other => return Err(err("prior", format!("unknown prior `{other}`; allowed: uniform, normal, lognormal, beta"))),
    };
    if let Some((f, _)) = given.iter().find(|(f, v)| v.is_some() && !uses.contains(f)) {
        return Err(err(f, format!("not used by a `{kind}` prior")));
    }
    let need = |f: &str, v: Option<f64>, positive: bool| -> Result<f64, CalibrationError> {
        let x = v.ok_or_else(|| err("prior", format!("a `{kind}` prior needs `{f}`")))?;
        if !x.is_finite() || (positive && x <= 0.0) {
            return Err(err(f, format!("{x}: allowed range {}", if positive { "(0, inf)" } else { "any finite number" })));
        }
        Ok(x)
    };
    let prior = match kind {
        "uniform" => Prior::Uniform { lo, hi },
        "normal" => Prior::Normal { mean: need("mean", p.mean, false)?, sd: need("sd", p.sd, true)?, lo, hi },
        "lognormal" => {
            if lo < 0.0 {
                return Err(err("min", format!("{lo}: a log-normal prior needs min >= 0")));
            }
            Prior::LogNormal { mu: need("mu", p.mu, false)?, sigma: need("sigma", p.sigma, true)?, lo, hi }
        }
        _ => Prior::Beta { a: need("a", p.a, true)?, b: need("b", p.b, true)?, lo, hi },
    };
    let mass = prior.mass_inside();
    if mass < MIN_PRIOR_MASS {
        return Err(err(
            "prior",
            format!("only {mass:.2e} of the {kind} prior's mass lies in [{lo}, {hi}]; move its centre into the bounds"),
        ));
    }
    Ok(Parameter { path, prior, integer, template })
}

/// One `[[targets]]` or `[[held_out]]` entry (`at` is its field, `targets[2]` say) of a run of
/// `days` days whose own window starts at `window_start`.
fn target(t: &TargetRaw, held_out: bool, at: &str, days: u32, window_start: u32, fields: &Fields) -> Result<Target, CalibrationError> {
    let err = |f: &str, message: String| fields.err(&format!("{at}.{f}"), message);
    let metric = Metric::from_name(&t.metric)
        .ok_or_else(|| err("metric", format!("unknown metric `{}`; `sim describe metrics` lists them", t.metric)))?;
    let statistic = match &t.statistic {
        None => Statistic::Mean,
        Some(s) => Statistic::from_name(s)
            .ok_or_else(|| err("statistic", format!("unknown statistic `{s}`; allowed: mean, final, sum, summary")))?,
    };
    if metric.summary() == Summary::Window && statistic != Statistic::Summary {
        return Err(err("statistic", format!("`{}` is a whole-window metric; it takes statistic = \"summary\" only", metric.name())));
    }
    if statistic == Statistic::Sum && metric.summary() != Summary::Mean {
        return Err(err("statistic", format!("`{}` is a ratio; `sum` adds up counts only (use mean)", metric.name())));
    }
    let window = match (t.days, t.years) {
        (Some(_), Some(_)) => return Err(err("years", "give `days` or `years`, not both".into())),
        (Some(d), None) => Some((d, "days", 1.0)),
        (None, Some(y)) => Some((y, "years", DAYS_PER_YEAR)),
        (None, None) => None,
    };
    let (from_day, to_day) = match window {
        Some(_) if statistic == Statistic::Summary => {
            return Err(err(
                if t.days.is_some() { "days" } else { "years" },
                "statistic `summary` uses the run's own window after its warm-up; leave the window out".into(),
            ));
        }
        Some(([a, b], f, scale)) => {
            let (from, to) = ((a * scale).round(), (b * scale).round());
            if !(from >= 0.0 && to > from && to <= days as f64) || a.fract() != 0.0 && f == "days" || b.fract() != 0.0 && f == "days" {
                return Err(err(
                    f,
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
        return Err(err("observed", format!("{} is not a finite number", t.observed)));
    }
    if !(t.sd.is_finite() && t.sd > 0.0) {
        return Err(err("sd", format!("{}: the uncertainty must be a positive number; allowed range (0, inf)", t.sd)));
    }
    Ok(Target {
        name: t.name.clone().unwrap_or_else(|| format!("{} {} [{from_day}, {to_day})", metric.name(), statistic.name())),
        metric,
        statistic,
        from_day,
        to_day,
        observed: t.observed,
        sd: t.sd,
        source: t.source.clone().unwrap_or_default(),
        held_out,
    })
}

/// The `[series]` table: a target for each row of each named column of the observed CSV (read
/// relative to `dir`), appended to `targets`; returns the CSV's resolved path.
fn series(
    s: &SeriesRaw,
    dir: &Path,
    days: u32,
    window_start: u32,
    fields: &Fields,
    targets: &mut Vec<Target>,
) -> Result<PathBuf, CalibrationError> {
    let err = |field: &str, message: String| fields.err(field, message);
    let csv_path = crate::experiment::normalize(&dir.join(&s.file));
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
    let rows = parse_csv(&csv_text).map_err(|(line, message)| CalibrationError::Series {
        file: csv_name.clone(),
        line,
        column: String::new(),
        message,
    })?;
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
            return Err(err(&field("statistic"), format!("`{}` cannot be summed per period; use statistic = \"mean\"", metric.name())));
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
    Ok(csv_path)
}

/// No figure both fitted and held out. The held-out targets are the `listed_held_out`
/// `[[held_out]]` entries, in order, then the series' held-out rows.
fn no_figure_fitted_and_held_out(targets: &[Target], listed_held_out: usize, fields: &Fields) -> Result<(), CalibrationError> {
    let figure = |t: &Target| (t.metric, t.statistic.name(), t.from_day, t.to_day);
    let fitted: BTreeSet<_> = targets.iter().filter(|t| !t.held_out).map(figure).collect();
    for (i, t) in targets.iter().filter(|t| t.held_out).enumerate() {
        if fitted.contains(&figure(t)) {
            let field = if i < listed_held_out { format!("held_out[{i}]") } else { "series.columns".into() };
            return Err(fields.err(
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
    Ok(())
}

/// An observed-series CSV as (line number, cells) per record, by the `csv` crate: cells may be
/// quoted (a quoted cell may hold a comma: `"1,234"` is one cell, refused as a number, where a
/// split at every comma would have shifted the columns after it) and are trimmed, blank
/// lines are skipped, and lines starting with `#` are comments (a provenance note, say). An error
/// is the line it was found on and what is wrong (the crate is lenient: a quote left open runs to
/// the end of the file).
fn parse_csv(text: &str) -> Result<Vec<CsvRow>, (usize, String)> {
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).comment(Some(b'#')).trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut counted = (0, 1); // (a byte, the line it is on): records come in order, so count on from it
    for record in reader.records() {
        let record = record.map_err(|e| (e.position().map_or(0, |p| record_line(text, p.byte(), &mut counted)), e.to_string()))?;
        if record.len() == 1 && record[0].is_empty() {
            continue; // a line of spaces
        }
        let line = record.position().map_or(0, |p| record_line(text, p.byte(), &mut counted));
        rows.push((line, record.iter().map(str::to_string).collect()));
    }
    Ok(rows)
}

/// The line a record starts on, from the byte where the `csv` crate began reading it: that is
/// before the blank and comment lines it skipped on the way (its own line count is off by them).
/// `counted` is a byte at or before this one and its line, moved on to this one.
fn record_line(text: &str, byte: u64, counted: &mut (usize, usize)) -> usize {
    let byte = (byte as usize).clamp(counted.0, text.len());
    *counted = (byte, counted.1 + text.as_bytes()[counted.0..byte].iter().filter(|&&b| b == b'\n').count());
    let mut line = counted.1;
    let mut rest = &text.as_bytes()[byte..];
    while let [b'\n', ..] | [b'\r', b'\n', ..] | [b'#', ..] = rest {
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                rest = &rest[i + 1..];
                line += 1;
            }
            None => break,
        }
    }
    line
}

/// A CSV record: the line it starts on and its cells.
type CsvRow = (usize, Vec<String>);
