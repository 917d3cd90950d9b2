//! `sim run`'s files: timeseries.csv (day and one column per metric), summary.json (the window's
//! metrics, the neighbourhoods' wellbeing, the steady-state check), manifest.json, networks.json,
//! the agent snapshots when asked for, and the plots drawn from them, written through an output
//! folder's staging (`output::OutDir`).

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;
use sim_core::metrics::Metric;
use sim_core::model::RunOutput;
use sim_core::scenario::Scenario;
use sim_core::simulation::AgentSnapshot;
use sim_core::steady::SteadyState;

use crate::CliError;
use crate::output::{Manifest, OutDir, Written, number, write_json};

#[derive(Serialize)]
struct SummaryFile<'a> {
    scenario: &'a str,
    seed: u64,
    window_start_day: u32,
    window_end_day: u32,
    /// Metric name -> value; null where undefined (e.g. no closures in the window).
    metrics: serde_json::Map<String, serde_json::Value>,
    /// Mean wellbeing of each neighbourhood over the window, neighbourhood 0 first.
    neighbourhood_wellbeing: Vec<Option<f64>>,
    /// Whether the window is steady: yearly means, trend and MSER-5 truncation day of the key
    /// metrics (sim_core::steady).
    steady_state: &'a SteadyState,
}

/// Writes a run's series as timeseries.csv: `day` and one column per metric (`sim run`'s file,
/// and `sim serve`'s `/api/timeseries` of the days stepped, byte for byte the same).
pub fn write_timeseries(to: impl Write, series: &sim_core::metrics::TimeSeries) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(to);
    let mut header = vec!["day".to_string()];
    header.extend(Metric::ALL.iter().map(|m| m.name().to_string()));
    w.write_record(&header)?;
    let mut row = Vec::with_capacity(header.len());
    for (i, day) in series.days.iter().enumerate() {
        row.clear();
        row.push(day.to_string());
        row.extend(Metric::ALL.iter().map(|&m| number(series.get(m)[i])));
        w.write_record(&row)?;
    }
    w.flush()
}

/// Writes timeseries.csv, summary.json, manifest.json, the plots and the agent snapshots (if any)
/// into `dir`.
/// Returns the names of the files written; a failure to draw the plots is returned after the
/// data files are in place (`Written::plots_failed`).
pub fn write_run(
    dest: &OutDir,
    scenario: &Scenario,
    seed: u64,
    out: &RunOutput,
    steady: &SteadyState,
    manifest: &Manifest,
    snapshots: &[AgentSnapshot],
) -> Result<Written, CliError> {
    let staging = dest.staging()?;
    write_run_files(staging.path(), scenario, seed, out, steady, manifest).map_err(|e| dest.failed(e))?;
    if !snapshots.is_empty() {
        crate::agents::write_parquet(staging.path(), snapshots).map_err(|e| dest.failed(e))?;
        crate::agents::write_csv(staging.path(), snapshots).map_err(|e| dest.failed(e))?;
    }
    // The dashboard of the run's series and the network snapshots, drawn from the files just written.
    let plots = crate::report::draw_into(staging.path(), "run", false);
    staging.commit(plots)
}

fn write_run_files(
    dir: &Path,
    scenario: &Scenario,
    seed: u64,
    out: &RunOutput,
    steady: &SteadyState,
    manifest: &Manifest,
) -> io::Result<()> {
    write_timeseries(File::create(dir.join("timeseries.csv"))?, &out.series)?;
    let metrics = out
        .summary
        .metrics
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Number::from_f64(*v).map(serde_json::Value::Number).unwrap_or(serde_json::Value::Null)))
        .collect();
    let summary = SummaryFile {
        scenario: &scenario.name,
        seed,
        window_start_day: out.summary.window_start_day,
        window_end_day: out.summary.window_end_day,
        metrics,
        neighbourhood_wellbeing: out.summary.neighbourhood_wellbeing.iter().map(|v| v.is_finite().then_some(*v)).collect(),
        steady_state: steady,
    };
    write_json(&dir.join("summary.json"), &summary)?;
    write_json(&dir.join("manifest.json"), manifest)?;
    write_json(&dir.join("networks.json"), &out.networks)?;
    Ok(())
}
