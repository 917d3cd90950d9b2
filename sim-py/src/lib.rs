//! The extension module `publicsim._native`: the simulator in-process for Python. It is thin on
//! purpose: scenarios are loaded and overridden exactly as `sim run` does (`Scenario::from_file`,
//! `--set` as `Override`s, `--days` and `--seed` as overrides after them), runs go through the one
//! stepping API (`sim_core::Simulation`), and results leave as plain columns (dicts of lists) that
//! the Python layer (`python/publicsim/__init__.py`) turns into pandas DataFrames.
//!
//! Errors: every bad scenario, value or path is a `ScenarioError` (a `ValueError`) carrying the
//! message the CLI prints after `error: `; nothing here panics on user input. Long calls release
//! the GIL (`Python::detach`) and take it back every [`CHUNK_DAYS`] days to let Ctrl-C through.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

mod sweep;

/// The allocator `sim` uses (large arrays on huge pages; sim_core::alloc): Rust's own allocations
/// in this module only, Python's are untouched.
#[global_allocator]
static ALLOCATOR: sim_core::alloc::HugePageAlloc = sim_core::alloc::HugePageAlloc;

use pyo3::create_exception;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};
use sim_core::Simulation;
use sim_core::metrics::{Metric, RunSummary, TimeSeries};
use sim_core::model::TeamRole;
use sim_core::scenario::{self, Override, Scenario};

create_exception!(
    _native,
    ScenarioError,
    PyValueError,
    "A scenario, parameter value or path the model refuses; the message is the one `sim` prints \
     (file, line, column and field where known)."
);

/// Days stepped between two checks for Ctrl-C while the GIL is released.
const CHUNK_DAYS: u32 = 30;

fn input_error(e: scenario::ScenarioError) -> PyErr {
    ScenarioError::new_err(e.to_string())
}

/// A parameter value as TOML, as a sweep point's column holds it: the one place the Python types
/// a parameter may take are told apart. An int beyond 64 bits is refused here, as the scenario
/// file's parser would refuse it.
pub(crate) fn toml_value(value: &Bound<'_, PyAny>) -> PyResult<toml::Value> {
    Ok(if value.is_instance_of::<PyBool>() {
        toml::Value::Boolean(value.extract()?)
    } else if value.is_instance_of::<PyInt>() {
        toml::Value::Integer(
            value.extract().map_err(|_| ScenarioError::new_err(format!("{value} does not fit a parameter (a 64-bit integer)")))?,
        )
    } else if value.is_instance_of::<PyFloat>() {
        toml::Value::Float(value.extract()?)
    } else if value.is_instance_of::<PyString>() {
        toml::Value::String(value.extract()?)
    } else {
        return Err(PyTypeError::new_err(format!("a parameter value must be a bool, int, float or str, not {}", value.get_type().name()?)));
    })
}

/// A parameter value as `--set` text: strings as written (so `governance.preset=enablement`
/// reads as on the command line), numbers and booleans as TOML writes them.
pub(crate) fn value_text(value: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(match toml_value(value)? {
        toml::Value::String(text) => text,
        other => other.to_string(),
    })
}

/// `set` as `--set` arguments: a mapping {path: value}, or an iterable of "path=value" strings.
fn set_args(set: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
    let Some(set) = set else { return Ok(Vec::new()) };
    if set.is_none() {
        return Ok(Vec::new());
    }
    if let Ok(map) = set.downcast::<PyDict>() {
        return map.iter().map(|(k, v)| Ok(format!("{}={}", k.extract::<String>()?, value_text(&v)?))).collect();
    }
    if set.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err("set: a dict {path: value} or a list of \"path=value\" strings, not one string"));
    }
    set.try_iter()?.map(|a| a?.extract::<String>()).collect()
}

/// What `Scenario.__reduce__` returns: `Scenario.from_toml` and its arguments (text, name, set).
type Reduced<'py> = (Bound<'py, PyAny>, (String, String, Vec<String>));

/// A scenario as loaded: its text and name (for errors) and the overrides applied, so further
/// overrides are applied to the text as the CLI applies them to the file.
#[pyclass(name = "Scenario", module = "publicsim._native", frozen)]
pub struct PyScenario {
    text: String,
    file: String,
    overrides: Vec<String>,
    scenario: Scenario,
}

impl PyScenario {
    fn parse(text: String, file: String, overrides: Vec<String>) -> PyResult<Self> {
        let parsed = overrides.iter().map(|a| Override::parse(a)).collect::<Result<Vec<_>, _>>().map_err(input_error)?;
        let scenario = Scenario::from_toml_str(&text, &file, &parsed).map_err(input_error)?;
        Ok(Self { text, file, overrides, scenario })
    }

    /// This scenario with `set`, then `days` and `seed`, applied as `sim run --set ... --days
    /// ... --seed ...` applies them (the same order, the same messages).
    fn resolve(&self, set: Option<&Bound<'_, PyAny>>, days: Option<u32>, seed: Option<u64>) -> PyResult<Self> {
        let mut overrides = self.overrides.clone();
        overrides.extend(set_args(set)?);
        if let Some(days) = days {
            overrides.push(format!("run.days={days}"));
        }
        if let Some(seed) = seed {
            overrides.push(format!("run.seed={seed}"));
        }
        let parsed = overrides.iter().map(|a| Override::parse(a)).collect::<Result<Vec<_>, _>>().map_err(input_error)?;
        match Scenario::from_toml_str(&self.text, &self.file, &parsed) {
            Ok(scenario) => Ok(Self { text: self.text.clone(), file: self.file.clone(), overrides, scenario }),
            Err(e) if days.is_some() && matches!(e.field(), Some("run.days" | "run.warmup_days")) => {
                Err(ScenarioError::new_err(format!("--days {}: {e}", days.unwrap_or_default())))
            }
            Err(e) => Err(input_error(e)),
        }
    }

    /// The scenario with `extra` overrides applied after its own (a sweep's point).
    fn scenario_with(&self, extra: &[Override]) -> Result<Scenario, scenario::ScenarioError> {
        let mut all = self.overrides.iter().map(|a| Override::parse(a)).collect::<Result<Vec<_>, _>>()?;
        all.extend_from_slice(extra);
        Scenario::from_toml_str(&self.text, &self.file, &all)
    }

    /// The run's provenance, as JSON (the Python layer parses it).
    fn manifest(&self) -> PyResult<String> {
        let parameters = serde_json::to_value(&self.scenario).map_err(|e| PyValueError::new_err(e.to_string()))?;
        let manifest = serde_json::json!({
            "sim_version": env!("CARGO_PKG_VERSION"),
            "git_commit": option_env!("SIM_GIT_COMMIT").filter(|c| !c.is_empty()),
            "scenario": self.scenario.name,
            "scenario_file": self.file,
            "scenario_hash": self.scenario.content_hash(),
            "overrides": self.overrides,
            "seed": self.scenario.run.seed,
            "days": self.scenario.run.days,
            "warmup_days": self.scenario.run.warmup_days,
            "parameters": parameters,
        });
        Ok(manifest.to_string())
    }
}

#[pymethods]
impl PyScenario {
    /// The built-in default scenario (what `sim run` runs without a file), with `set` applied.
    #[staticmethod]
    #[pyo3(signature = (set=None))]
    fn builtin(set: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        Self::parse(String::new(), "<built-in default>".into(), set_args(set)?)
    }

    /// A scenario from TOML text; `name` stands for the file in error messages.
    #[staticmethod]
    #[pyo3(signature = (text, name="<string>", set=None))]
    fn from_toml(text: String, name: &str, set: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        Self::parse(text, name.to_string(), set_args(set)?)
    }

    /// This scenario with further overrides, `days` and `seed` applied (a new Scenario).
    #[pyo3(signature = (set=None, days=None, seed=None))]
    fn with_set(&self, set: Option<&Bound<'_, PyAny>>, days: Option<u32>, seed: Option<u64>) -> PyResult<Self> {
        self.resolve(set, days, seed)
    }

    #[getter]
    fn name(&self) -> &str {
        &self.scenario.name
    }

    /// The file it was read from (or `<built-in default>`, or the name given to `from_toml`).
    #[getter]
    fn file(&self) -> &str {
        &self.file
    }

    /// The `--set` overrides applied, in order.
    #[getter]
    fn overrides(&self) -> Vec<String> {
        self.overrides.clone()
    }

    #[getter]
    fn days(&self) -> u32 {
        self.scenario.run.days
    }

    #[getter]
    fn seed(&self) -> u64 {
        self.scenario.run.seed
    }

    #[getter]
    fn warmup_days(&self) -> u32 {
        self.scenario.run.warmup_days
    }

    /// The fully resolved scenario as TOML (every parameter written out).
    fn to_toml(&self) -> String {
        self.scenario.to_toml()
    }

    /// The scenario's content hash, as in manifest.json.
    fn content_hash(&self) -> String {
        self.scenario.content_hash()
    }

    /// Pickling (multiprocessing evaluators send scenarios to workers): rebuilt from its text,
    /// name and overrides with `Scenario.from_toml`, so it resolves to the same scenario.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Reduced<'py>> {
        let from_toml = py.get_type::<PyScenario>().getattr("from_toml")?;
        Ok((from_toml, (self.text.clone(), self.file.clone(), self.overrides.clone())))
    }

    fn __repr__(&self) -> String {
        format!(
            "Scenario(name={:?}, file={:?}, days={}, seed={}, overrides={:?})",
            self.scenario.name, self.file, self.scenario.run.days, self.scenario.run.seed, self.overrides
        )
    }
}

/// Loads and validates a scenario file as `sim run FILE --set ...` does.
#[pyfunction]
#[pyo3(signature = (path, set=None))]
fn load(path: PathBuf, set: Option<&Bound<'_, PyAny>>) -> PyResult<PyScenario> {
    let file = path.display().to_string();
    let bytes = std::fs::read(&path).map_err(|source| input_error(scenario::ScenarioError::Read { file: file.clone(), source }))?;
    let text =
        scenario::utf8(bytes).map_err(|(at, message)| input_error(scenario::ScenarioError::Syntax { file: file.clone(), at, message }))?;
    PyScenario::parse(text, file, set_args(set)?)
}

/// Steps `sim` to `day` (at most the horizon) without the GIL, taking it back every
/// `CHUNK_DAYS` days to check for signals (Ctrl-C raises KeyboardInterrupt between chunks).
fn run_to(py: Python<'_>, sim: &mut Simulation, day: u32) -> PyResult<()> {
    let end = day.min(sim.days());
    while sim.day() < end {
        let next = sim.day().saturating_add(CHUNK_DAYS).min(end);
        py.detach(|| sim.run_until(next));
        py.check_signals()?;
    }
    Ok(())
}

/// The history as columns: `day`, then one column per metric (the columns of timeseries.csv).
fn series_dict<'py>(py: Python<'py>, series: &TimeSeries) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("day", series.days.as_slice())?;
    for &m in Metric::ALL.iter() {
        d.set_item(m.name(), series.get(m))?;
    }
    Ok(d)
}

/// The summary's metrics (NaN where summary.json has null), in summary.json's order.
fn summary_dict<'py>(py: Python<'py>, summary: &RunSummary) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (name, value) in &summary.metrics {
        d.set_item(*name, *value)?;
    }
    Ok(d)
}

fn window_dict<'py>(py: Python<'py>, summary: &RunSummary) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("window_start_day", summary.window_start_day)?;
    d.set_item("window_end_day", summary.window_end_day)?;
    d.set_item("neighbourhood_wellbeing", summary.neighbourhood_wellbeing.as_slice())?;
    Ok(d)
}

/// This process's worker threads (building a run's networks, a sweep without `threads`). rayon's
/// global pool does not survive fork(): a process forked after it started (multiprocessing's
/// "fork", EMA's MultiprocessingEvaluator on Linux) would wait for its threads forever. So one
/// pool per process id, built again in a forked child; the parent's, whose threads the child does
/// not have, is left untouched there. Called with the GIL held, as fork() is, so no thread holds
/// the lock when a process forks.
pub(crate) fn process_pool() -> PyResult<Arc<rayon::ThreadPool>> {
    static POOL: Mutex<Option<(u32, Arc<rayon::ThreadPool>)>> = Mutex::new(None);
    let pid = std::process::id();
    let mut slot = POOL.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((owner, pool)) = slot.as_ref()
        && *owner == pid
    {
        return Ok(pool.clone());
    }
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .build()
            .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(format!("cannot start the worker threads: {e}")))?,
    );
    if let Some((_, inherited)) = slot.replace((pid, pool.clone())) {
        // Dropping it would signal threads that exist only in the parent.
        std::mem::forget(inherited);
    }
    Ok(pool)
}

/// A finished run for the Python layer: series columns, summary metrics, window, manifest JSON.
type RunColumns<'py> = (Bound<'py, PyDict>, Bound<'py, PyDict>, Bound<'py, PyDict>, String);

/// Runs `scenario` to its horizon with the GIL released; returns (series columns, summary
/// metrics, window, manifest JSON).
#[pyfunction]
#[pyo3(signature = (scenario, seed=None, days=None, set=None))]
fn run<'py>(
    py: Python<'py>,
    scenario: &PyScenario,
    seed: Option<u64>,
    days: Option<u32>,
    set: Option<&Bound<'py, PyAny>>,
) -> PyResult<RunColumns<'py>> {
    let resolved = scenario.resolve(set, days, seed)?;
    let mut sim = process_pool()?.install(|| Simulation::new(&resolved.scenario, resolved.scenario.run.seed));
    run_to(py, &mut sim, resolved.scenario.run.days)?;
    let summary = sim.summary();
    Ok((series_dict(py, sim.metrics().history)?, summary_dict(py, &summary)?, window_dict(py, &summary)?, resolved.manifest()?))
}

/// A run in progress (`sim_core::Simulation`).
#[pyclass(name = "Simulation", module = "publicsim._native")]
pub struct PySimulation {
    sim: Simulation,
    manifest: String,
}

#[pymethods]
impl PySimulation {
    #[new]
    #[pyo3(signature = (scenario, seed=None, days=None, set=None))]
    fn new(scenario: &PyScenario, seed: Option<u64>, days: Option<u32>, set: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let resolved = scenario.resolve(set, days, seed)?;
        let sim = process_pool()?.install(|| Simulation::new(&resolved.scenario, resolved.scenario.run.seed));
        Ok(Self { sim, manifest: resolved.manifest()? })
    }

    /// The next day to be stepped (the number of days stepped so far).
    #[getter]
    fn day(&self) -> u32 {
        self.sim.day()
    }

    /// The horizon (`run.days`).
    #[getter]
    fn days(&self) -> u32 {
        self.sim.days()
    }

    /// Steps `n` days (fewer at the horizon); returns the number of days stepped.
    #[pyo3(signature = (n=1))]
    fn step(&mut self, py: Python<'_>, n: u32) -> PyResult<u32> {
        let start = self.sim.day();
        run_to(py, &mut self.sim, start.saturating_add(n))?;
        Ok(self.sim.day() - start)
    }

    /// Steps until `day` days are done (at most the horizon).
    fn run_until(&mut self, py: Python<'_>, day: u32) -> PyResult<()> {
        run_to(py, &mut self.sim, day)
    }

    /// Sets a governance lever from the next day on, as `--set path=value` (same checks).
    fn set(&mut self, path: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.sim.set_arg(&format!("{path}={}", value_text(value)?)).map_err(input_error)
    }

    /// Sets team `team`'s own value of `lever` from the next day on.
    fn set_team(&mut self, team: usize, lever: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let text = value_text(value)?;
        let value: toml::Value = match toml::from_str::<toml::Table>(&format!("v = {text}")) {
            Ok(mut t) => t.remove("v").unwrap_or(toml::Value::String(text)),
            Err(_) => toml::Value::String(text),
        };
        self.sim.set_team(team, lever, value).map_err(input_error)
    }

    /// The history: `day` and one column per metric.
    fn history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        series_dict(py, self.sim.metrics().history)
    }

    /// The last day's record as {day, metric: value}; None before the first step.
    fn today<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let m = self.sim.metrics();
        let Some((day, rec)) = m.today else { return Ok(None) };
        let d = PyDict::new(py);
        d.set_item("day", day)?;
        for &metric in Metric::ALL.iter() {
            d.set_item(metric.name(), rec[metric as usize])?;
        }
        Ok(Some(d))
    }

    /// The summary metrics over the window of the days stepped so far.
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        summary_dict(py, &self.sim.summary())
    }

    /// The summary window and neighbourhood wellbeing of the days stepped so far.
    fn window<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        window_dict(py, &self.sim.summary())
    }

    /// Every team as it stands, as columns.
    fn teams<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let teams = self.sim.teams();
        let d = PyDict::new(py);
        let col = |name: &str, values: Bound<'py, PyList>| d.set_item(name, values);
        macro_rules! column {
            ($name:literal, $f:expr) => {
                col($name, PyList::new(py, teams.iter().map($f))?)?
            };
        }
        column!("team", |t| t.team);
        column!("role", |t| match t.role {
            TeamRole::Patch { .. } => "patch",
            TeamRole::Stage { .. } => "stage",
        });
        column!("neighbourhood", |t| match t.role {
            TeamRole::Patch { neighbourhood } => Some(neighbourhood),
            TeamRole::Stage { .. } => None,
        });
        column!("stage", |t| match t.role {
            TeamRole::Stage { stage, .. } => Some(stage),
            TeamRole::Patch { .. } => None,
        });
        column!("delivers", |t| t.delivers);
        column!("members", |t| t.members);
        column!("members_in_post", |t| t.members_in_post);
        column!("discretion", |t| t.discretion);
        column!("time_standard", |t| serde_json::to_value(t.time_standard)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default());
        column!("prevention_share", |t| t.prevention_share);
        column!("own_levers", |t| t.own_levers.join(","));
        column!("desired_time_factor", |t| t.desired_time_factor);
        column!("pressure", |t| t.pressure);
        column!("open_cases", |t| t.open_cases);
        column!("resolution", |t| t.resolution);
        column!("failure_share", |t| t.failure_share);
        column!("gaming_share", |t| t.gaming_share);
        column!("hours_worked", |t| t.hours_worked);
        column!("resolved_true", |t| t.resolved_true);
        column!("closed_reported", |t| t.closed_reported);
        Ok(d)
    }

    /// Citizens and workers in post as the columns of agents.csv (`sim run --snapshot-days`):
    /// citizens first, then workers; a column that does not apply to a row's kind is None.
    fn agents<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.sim.agents();
        let (c, w) = (&s.citizens, &s.workers);
        let (nc, nw) = (c.neighbourhood.len(), w.worker.len());
        let cit_u = |v: &[u32]| v.iter().map(|&x| Some(x)).chain((0..nw).map(|_| None)).collect::<Vec<_>>();
        let cit_f = |v: &[f64]| v.iter().map(|&x| Some(x)).chain((0..nw).map(|_| None)).collect::<Vec<_>>();
        let wrk_u = |v: &[u32]| (0..nc).map(|_| None).chain(v.iter().map(|&x| Some(x))).collect::<Vec<_>>();
        let wrk_f = |v: &[f64]| (0..nc).map(|_| None).chain(v.iter().map(|&x| Some(x))).collect::<Vec<_>>();
        let d = PyDict::new(py);
        d.set_item("day", vec![s.day; nc + nw])?;
        d.set_item("agent_type", std::iter::repeat_n("citizen", nc).chain(std::iter::repeat_n("worker", nw)).collect::<Vec<_>>())?;
        d.set_item("agent_id", (0..nc as u32).chain(w.worker.iter().copied()).collect::<Vec<_>>())?;
        d.set_item("neighbourhood", cit_u(&c.neighbourhood))?;
        d.set_item("wellbeing", cit_f(&c.wellbeing))?;
        d.set_item("trust", cit_f(&c.trust))?;
        d.set_item("latent", cit_f(&c.latent))?;
        d.set_item("open_needs", cit_u(&c.open_needs))?;
        d.set_item("team", wrk_u(&w.team))?;
        d.set_item("skill", wrk_f(&w.skill))?;
        d.set_item("fatigue", wrk_f(&w.fatigue))?;
        d.set_item("burnout", wrk_f(&w.burnout))?;
        Ok(d)
    }

    /// A scenario file (TOML) that replays this run, lever changes included, bit for bit.
    fn replay_toml(&self) -> String {
        self.sim.replay_toml()
    }

    /// The run's provenance (JSON), as `run`'s manifest.
    fn manifest(&self) -> String {
        self.manifest.clone()
    }
}

/// The parameter table of `scenario`: every parameter path (`need_types[i].field` for each need
/// type) with its value in this scenario, the built-in default, unit, valid range, allowed values,
/// kind ("float", "int", "bool", "choice" or "text"), source and doc (`sim describe parameters`),
/// and last `governance.preset` (a choice of the presets).
#[pyfunction]
fn parameters<'py>(py: Python<'py>, scenario: &PyScenario) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let value = serde_json::to_value(&scenario.scenario).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let mut rows = Vec::new();
    for spec in Scenario::parameter_specs() {
        let values: Vec<(String, &serde_json::Value)> = if spec.section == "need_types" {
            value["need_types"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, nt)| (format!("need_types[{i}].{}", spec.name), &nt[spec.name]))
                .collect()
        } else {
            vec![(format!("{}.{}", spec.section, spec.name), &value[spec.section][spec.name])]
        };
        for (path, v) in values {
            let choices: Vec<String> = match spec.allowed {
                "" | "any text" | "true, false" => Vec::new(),
                list => list.split(", ").map(|c| c.trim_matches('"').to_string()).collect(),
            };
            let kind = match v {
                serde_json::Value::Bool(_) => "bool",
                serde_json::Value::Number(n) if n.is_f64() => "float",
                serde_json::Value::Number(_) => "int",
                serde_json::Value::String(_) if !choices.is_empty() => "choice",
                _ => "text",
            };
            let d = PyDict::new(py);
            d.set_item("path", path)?;
            d.set_item("value", pythonize_json(py, v)?)?;
            d.set_item("default", &spec.default)?;
            d.set_item("unit", spec.unit)?;
            d.set_item("min", spec.min)?;
            d.set_item("max", spec.max)?;
            d.set_item("choices", choices)?;
            d.set_item("kind", kind)?;
            d.set_item("source", spec.source)?;
            d.set_item("doc", spec.doc)?;
            rows.push(d);
        }
    }
    // The preset is the base of the governance levers, not a parameter of its own section.
    let d = PyDict::new(py);
    d.set_item("path", "governance.preset")?;
    d.set_item("value", scenario.scenario.preset.as_deref())?;
    d.set_item("default", "")?;
    d.set_item("unit", "-")?;
    d.set_item("min", f64::NAN)?;
    d.set_item("max", f64::NAN)?;
    d.set_item("choices", sim_core::scenario::Governance::PRESETS.to_vec())?;
    d.set_item("kind", "choice")?;
    d.set_item("source", "MODEL.md §3")?;
    d.set_item("doc", "A governance preset: every lever at the preset's value unless the scenario sets it.")?;
    rows.push(d);
    Ok(rows)
}

/// A JSON scalar as a Python value (None for anything else).
fn pythonize_json<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        serde_json::Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        serde_json::Value::String(s) => PyString::new(py, s).into_any(),
        _ => py.None().into_bound(py),
    })
}

/// The uncertain mechanism parameters of the validation patterns, each with the plausible range
/// `sim patterns --robustness` draws it from (MODEL.md §10), as (path, low, high) in first-seen
/// order; a path several patterns rest on gets the union of their ranges.
#[pyfunction]
fn uncertain_parameters() -> Vec<(String, f64, f64)> {
    let mut out: Vec<(String, f64, f64)> = Vec::new();
    for u in sim_core::validation::PATTERNS.iter().flat_map(|p| p.uncertain.iter()) {
        match out.iter_mut().find(|(p, _, _)| p == u.path) {
            Some((_, lo, hi)) => {
                *lo = lo.min(u.low);
                *hi = hi.max(u.high);
            }
            None => out.push((u.path.to_string(), u.low, u.high)),
        }
    }
    out
}

/// Every metric as (name, label, unit, direction: "higher", "lower" or "neutral" is better).
#[pyfunction]
fn metric_info() -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    Metric::ALL.iter().map(|m| (m.name(), m.label(), m.unit(), m.direction().word())).collect()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("ScenarioError", m.py().get_type::<ScenarioError>())?;
    m.add("METRICS", Metric::ALL.iter().map(|m| m.name()).collect::<Vec<_>>())?;
    m.add_class::<PyScenario>()?;
    m.add_class::<PySimulation>()?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(sweep::sweep_points, m)?)?;
    m.add_function(wrap_pyfunction!(sweep::sweep_file, m)?)?;
    m.add_function(wrap_pyfunction!(sweep::run_seed, m)?)?;
    m.add_function(wrap_pyfunction!(parameters, m)?)?;
    m.add_function(wrap_pyfunction!(uncertain_parameters, m)?)?;
    m.add_function(wrap_pyfunction!(metric_info, m)?)?;
    Ok(())
}
