//! `publicsim.sweep`: many runs in parallel on rayon, returned as one Arrow table whose rows and
//! columns are those of `sim sweep`'s runs.parquet.
//!
//! Two ways in, one way through:
//! - a sweep file, loaded and validated by `sim_core`'s [`Sweep`] exactly as `sim sweep FILE`
//!   loads it; its runs are the [`Planner`]'s single round (no `--target-ci`);
//! - points given in Python (one mapping {path: value} per point), applied to a scenario as
//!   `--set` overrides; run (point, replicate) gets `rng::run_seed(seed, point, replicate)` and
//!   run_id `point x replicates + replicate`, as a sweep file's plain plan gives them.
//!
//! Both run through [`run_ordered`] (one rayon task per run, results handed back in run order, so
//! the table is the same for any thread count) with `simulation::run`, as the CLI's sweep does, and
//! the GIL released. Ctrl-C is checked after each finished run.
//!
//! The columns and their Arrow types are those of runs.parquet (`sim-cli/src/sweep_tables.rs`):
//! run_id, point_id, replicate, seed (UInt64); one column per parameter, named by its path
//! (Float64 when every value is a number, else Utf8 with values as runs.csv writes them); one
//! Float64 column per recorded metric (NaN where undefined). No column is nullable. The CLI writes
//! numbers to runs.csv with Rust's shortest round-trip formatting and parses them back for the
//! Parquet file, so its values are these exact f64s.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, RecordBatchIterator, RecordBatchReader, StringArray, UInt64Array};
use arrow_pyarrow::IntoPyArrow;
use arrow_schema::{DataType, Field, Schema};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sim_core::experiment::sweep::{self, MetricListError, Panicked, Planner, RunSpec, Sweep, run_ordered, value_cell};
use sim_core::metrics::Metric;
use sim_core::rng;
use sim_core::scenario::{Override, Scenario};

use crate::{PyScenario, ScenarioError, toml_value, value_text};

/// Runs each worker may have in flight or waiting to be handed back, per thread (as `sim sweep`).
const WINDOW_PER_THREAD: usize = 4;
/// The most threads accepted (as `sim sweep --threads`).
const MAX_THREADS: usize = 256;

/// A parameter column: its path and, per point, its value.
struct ParamColumn {
    path: String,
    values: Vec<toml::Value>,
}

impl ParamColumn {
    /// Numeric when every value is a number, as `Parameter::is_numeric` decides for a sweep file.
    fn is_numeric(&self) -> bool {
        self.values.iter().all(|v| matches!(v, toml::Value::Integer(_) | toml::Value::Float(_)))
    }
}

/// Everything a sweep needs once the Python objects are read: one scenario per point, the
/// parameter columns, the runs in run_id order and the metrics to record.
struct Plan {
    scenarios: Vec<Scenario>,
    params: Vec<ParamColumn>,
    runs: Vec<RunSpec>,
    metrics: Vec<Metric>,
}

/// Why a sweep stopped early.
enum Stop {
    Panicked(Panicked),
    Interrupted(PyErr),
}

impl From<Panicked> for Stop {
    fn from(p: Panicked) -> Self {
        Stop::Panicked(p)
    }
}

/// The runs.parquet columns of finished runs, filled in run order.
struct Columns {
    fixed: [Vec<u64>; 4],
    params: Vec<Vec<toml::Value>>,
    metrics: Vec<Vec<f64>>,
}

fn metric_list(names: Option<Vec<String>>) -> PyResult<Vec<Metric>> {
    sweep::metric_list(names.as_deref()).map_err(|e| {
        PyValueError::new_err(match e {
            MetricListError::Empty => "metrics: the list is empty; leave it out (None) to record every metric".to_string(),
            MetricListError::Unknown { name, .. } => format!("metrics: unknown metric `{name}`; publicsim.METRICS lists them"),
            MetricListError::Twice { name, .. } => format!("metrics: `{name}` appears twice"),
        })
    })
}

/// The plan of a sweep over `points` (a list of dicts {path: value}) of `base`.
fn points_plan(
    base: &PyScenario,
    points: &Bound<'_, PyAny>,
    replicates: usize,
    seed: u64,
    days: Option<u32>,
    metrics: Vec<Metric>,
) -> PyResult<Plan> {
    let mut params: Vec<ParamColumn> = Vec::new();
    let mut scenarios = Vec::new();
    let mut rows = 0usize;
    for (i, point) in points.try_iter()?.enumerate() {
        let point = point?;
        let point = point.downcast::<PyDict>().map_err(|_| {
            PyTypeError::new_err(format!(
                "point {i}: a dict {{path: value}}, not {}",
                point.get_type().name().map(|n| n.to_string()).unwrap_or_default()
            ))
        })?;
        let mut args = Vec::with_capacity(point.len());
        let mut values = Vec::with_capacity(point.len());
        for (k, v) in point.iter() {
            let path: String = k.extract().map_err(|_| PyTypeError::new_err(format!("point {i}: parameter paths are strings")))?;
            args.push(format!("{path}={}", value_text(&v)?));
            values.push((path.trim().to_string(), toml_value(&v)?));
        }
        if i == 0 {
            params = values.iter().map(|(p, _)| ParamColumn { path: p.clone(), values: Vec::new() }).collect();
        }
        let same_keys = values.len() == params.len() && values.iter().all(|(p, _)| params.iter().any(|c| &c.path == p));
        if !same_keys {
            let first: Vec<&str> = params.iter().map(|c| c.path.as_str()).collect();
            let this: Vec<&str> = values.iter().map(|(p, _)| p.as_str()).collect();
            return Err(PyValueError::new_err(format!(
                "point {i} sets {this:?} but point 0 sets {first:?}: every point must set the same parameters (they are the table's columns)"
            )));
        }
        for (p, v) in values {
            params.iter_mut().find(|c| c.path == p).expect("checked above").values.push(v);
        }
        let mut overrides = Vec::with_capacity(args.len() + 1);
        if let Some(d) = days {
            overrides.push(format!("run.days={d}"));
        }
        overrides.extend(args);
        let parsed = overrides.iter().map(|a| Override::parse(a)).collect::<Result<Vec<_>, _>>();
        let scenario = parsed.and_then(|ovs| base.scenario_with(&ovs)).map_err(|e| {
            let described: Vec<String> = params.iter().map(|c| format!("{}={}", c.path, c.values[i])).collect();
            ScenarioError::new_err(format!("point {i} ({}): {e}", described.join(", ")))
        })?;
        scenarios.push(scenario);
        rows += 1;
    }
    if rows == 0 {
        return Err(PyValueError::new_err("points: the list is empty; give at least one point (a dict, {} for the scenario as it is)"));
    }
    if rows.checked_mul(replicates).is_none_or(|r| r > u32::MAX as usize) {
        return Err(PyValueError::new_err(format!("{rows} points x {replicates} replicates is too many runs")));
    }
    let runs = (0..rows)
        .flat_map(|point| {
            (0..replicates).map(move |replicate| RunSpec {
                run_id: (point * replicates + replicate) as u64,
                point,
                replicate,
                seed: rng::run_seed(seed, point as u64, replicate as u64),
            })
        })
        .collect();
    Ok(Plan { scenarios, params, runs, metrics })
}

/// The plan of a sweep file, as `sim sweep FILE` runs it.
fn file_plan(sweep: &Sweep) -> PyResult<Plan> {
    let mut scenarios = Vec::with_capacity(sweep.points.len());
    for point in &sweep.points {
        // Every point was validated when the sweep was loaded.
        scenarios.push(sweep.scenario_for(point).map_err(|e| ScenarioError::new_err(format!("point {}: {e}", point.id)))?);
    }
    let params = sweep
        .parameters
        .iter()
        .enumerate()
        .map(|(i, p)| ParamColumn { path: p.path.clone(), values: sweep.points.iter().map(|pt| pt.values[i].clone()).collect() })
        .collect();
    let mut planner = Planner::new(sweep, None);
    let runs = planner.next_round().map(|r| r.runs().collect()).unwrap_or_default();
    Ok(Plan { scenarios, params, runs, metrics: sweep.metrics.clone() })
}

/// Runs the plan on rayon with the GIL released; the table as one record batch.
fn execute(py: Python<'_>, plan: Plan, threads: Option<usize>) -> PyResult<RecordBatch> {
    let pool = match threads {
        None => crate::process_pool()?,
        Some(n) if n == 0 || n > MAX_THREADS => {
            return Err(PyValueError::new_err(format!("threads: {n}; give 1 to {MAX_THREADS}, or None for one per core")));
        }
        Some(n) => std::sync::Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| PyRuntimeError::new_err(format!("cannot start {n} threads: {e}")))?,
        ),
    };
    let threads = pool.current_num_threads();
    let n = plan.runs.len();
    let mut cols = Columns {
        fixed: std::array::from_fn(|_| Vec::with_capacity(n)),
        params: plan.params.iter().map(|_| Vec::with_capacity(n)).collect(),
        metrics: plan.metrics.iter().map(|_| Vec::with_capacity(n)).collect(),
    };
    let (scenarios, metrics, params) = (&plan.scenarios, &plan.metrics, &plan.params);
    let work = |run: &RunSpec| -> Vec<f64> {
        let out = sim_core::simulation::run(&scenarios[run.point], run.seed);
        metrics.iter().map(|m| out.summary.get(m.name()).unwrap_or(f64::NAN)).collect()
    };
    let result = py.detach(|| {
        run_ordered(Some(&pool), plan.runs.iter().copied(), WINDOW_PER_THREAD * threads.max(1), work, |run, values| {
            for (col, x) in cols.fixed.iter_mut().zip([run.run_id, run.point as u64, run.replicate as u64, run.seed]) {
                col.push(x);
            }
            for (col, p) in cols.params.iter_mut().zip(params) {
                col.push(p.values[run.point].clone());
            }
            for (col, x) in cols.metrics.iter_mut().zip(values) {
                col.push(x);
            }
            Python::attach(|py| py.check_signals()).map_err(Stop::Interrupted)
        })
    });
    match result {
        Ok(()) => {}
        Err(Stop::Interrupted(e)) => return Err(e),
        Err(Stop::Panicked(p)) => {
            return Err(PyRuntimeError::new_err(format!("run {} panicked, which is a bug in the simulator: {}", p.index, p.message)));
        }
    }
    batch(&plan, cols)
}

/// A parameter value as runs.parquet holds it: numbers as f64; text as runs.csv writes it.
fn number(v: &toml::Value) -> f64 {
    match v {
        toml::Value::Integer(i) => *i as f64,
        toml::Value::Float(x) => *x,
        _ => f64::NAN,
    }
}

fn batch(plan: &Plan, cols: Columns) -> PyResult<RecordBatch> {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (name, col) in ["run_id", "point_id", "replicate", "seed"].into_iter().zip(cols.fixed) {
        fields.push(Field::new(name, DataType::UInt64, false));
        arrays.push(Arc::new(UInt64Array::from(col)));
    }
    for (p, col) in plan.params.iter().zip(cols.params) {
        if p.is_numeric() {
            fields.push(Field::new(&p.path, DataType::Float64, false));
            arrays.push(Arc::new(Float64Array::from(col.iter().map(number).collect::<Vec<_>>())));
        } else {
            fields.push(Field::new(&p.path, DataType::Utf8, false));
            arrays.push(Arc::new(StringArray::from(col.iter().map(value_cell).collect::<Vec<_>>())));
        }
    }
    for (m, col) in plan.metrics.iter().zip(cols.metrics) {
        fields.push(Field::new(m.name(), DataType::Float64, false));
        arrays.push(Arc::new(Float64Array::from(col)));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// The batch as a `pyarrow.RecordBatchReader` (the Arrow C stream interface; no copy).
fn to_pyarrow(py: Python<'_>, batch: RecordBatch) -> PyResult<Bound<'_, PyAny>> {
    let schema = batch.schema();
    let reader: Box<dyn RecordBatchReader + Send> = Box::new(RecordBatchIterator::new(vec![Ok(batch)], schema));
    reader.into_pyarrow(py)
}

/// Runs `points` (dicts of overrides) of `scenario`, `replicates` each; a pyarrow
/// RecordBatchReader over the runs.parquet columns.
#[pyfunction]
#[pyo3(signature = (scenario, points, replicates, seed, days=None, metrics=None, threads=None))]
#[allow(clippy::too_many_arguments)]
pub fn sweep_points<'py>(
    py: Python<'py>,
    scenario: &PyScenario,
    points: &Bound<'py, PyAny>,
    replicates: usize,
    seed: u64,
    days: Option<u32>,
    metrics: Option<Vec<String>>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    if replicates == 0 {
        return Err(PyValueError::new_err("replicates: must be at least 1"));
    }
    let plan = points_plan(scenario, points, replicates, seed, days, metric_list(metrics)?)?;
    let batch = execute(py, plan, threads)?;
    to_pyarrow(py, batch)
}

/// Loads and validates a sweep file as `sim sweep FILE` does (errors are its messages) and runs
/// it as `sim sweep FILE` does; `replicates` and `seed`, when given, replace the file's (error
/// locations then refer to the file as rewritten with them); a pyarrow RecordBatchReader over the
/// runs.parquet columns.
#[pyfunction]
#[pyo3(signature = (path, replicates=None, seed=None, threads=None))]
pub fn sweep_file<'py>(
    py: Python<'py>,
    path: std::path::PathBuf,
    replicates: Option<usize>,
    seed: Option<u64>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let sweep_error = |e: sim_core::experiment::sweep::SweepError| ScenarioError::new_err(e.to_string());
    let sweep = if replicates.is_none() && seed.is_none() {
        Sweep::from_file(&path).map_err(sweep_error)?
    } else {
        // The file's text with `replicates`/`seed` set (as if written in the file), so the design
        // (drawn from the seed) and every check are those of a file that says so.
        let file = path.display().to_string();
        let text =
            std::fs::read_to_string(&path).map_err(|e| ScenarioError::new_err(format!("{file}: cannot read the sweep file: {e}")))?;
        let mut table: toml::Table = match text.parse() {
            Ok(t) => t,
            // Let the loader report the syntax error with its location.
            Err(_) => {
                return Err(Sweep::from_toml_str(&text, &path)
                    .err()
                    .map(sweep_error)
                    .unwrap_or_else(|| PyValueError::new_err(format!("{file}: invalid TOML"))));
            }
        };
        if let Some(r) = replicates {
            table.insert("replicates".into(), toml::Value::Integer(i64::try_from(r).unwrap_or(i64::MAX)));
        }
        if let Some(s) = seed {
            let v = i64::try_from(s).map(toml::Value::Integer).unwrap_or_else(|_| toml::Value::String(s.to_string()));
            table.insert("seed".into(), v);
        }
        Sweep::from_toml_str(&table.to_string(), &path).map_err(sweep_error)?
    };
    let plan = file_plan(&sweep)?;
    let batch = execute(py, plan, threads)?;
    to_pyarrow(py, batch)
}

/// `rng::run_seed(master, point, replicate)`: the seed `sim sweep` gives run (point, replicate).
#[pyfunction]
pub fn run_seed(master: u64, point: u64, replicate: u64) -> u64 {
    rng::run_seed(master, point, replicate)
}
