//! `sim sweep`, `sim sensitivity` and `sim merge`. The sweep file format is documented in
//! `sim_core::experiment::sweep`; the runs.csv journal and resume in `sweep_exec`; the derived
//! tables in `sweep_tables`.
//!
//! Where outputs are written:
//! - `sim sweep` works in `.NAME.partial/` beside `--out NAME`, a folder that survives a kill.
//!   runs.csv there is the journal from the start; at the end runs.parquet, points.csv and
//!   manifest.json are written (each through a temporary name) and the folder is renamed to NAME.
//!   So NAME only ever holds a complete sweep, and after an interruption `--resume` continues the
//!   work folder. Without `--resume` an existing work folder is an error (so a forgotten flag does
//!   not throw work away); delete it to start again. Two sweeps must not share an `--out` at once.
//! - `sim sensitivity` and `sim merge` write into a staging folder moved into place at the end
//!   (like `sim run`); they do not resume.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use serde::Serialize;
use serde_json::{Value, json};
use sim_core::experiment::sensitivity::{SensitivityIndex, morris_indices, sobol_indices};
use sim_core::experiment::sweep::{AdaptiveTarget, DesignKind, Parameter, Shard, Sweep};
use sim_core::metrics::Metric;
use sim_core::rng;
use sim_core::scenario::Scenario;

use crate::CliError;
use crate::output::{OutDir, Partial, number, write_json};
use crate::sweep_exec::{Executed, Settings, execute};
use crate::sweep_tables::{
    Column, Layout, MergeProblem, for_each_point, merge_runs, summarise, write_atomically, write_parquet, write_points,
};

const SWEEP_EXAMPLES: &str = "\
Examples:
  sim sweep scenarios/sweeps/grid.toml --out out/grid
  sim sweep scenarios/sweeps/lhs.toml --threads 2 --timeseries
  sim sweep scenarios/sweeps/grid.toml --shard 0/3 --out out/s0   (then 1/3, 2/3; then sim merge)
  sim sweep scenarios/sweeps/grid.toml --out out/grid --resume    (after an interruption)
  sim sweep scenarios/sweeps/random.toml --target-ci failure_demand_share=0.01 --max-replicates 40
  sim sweep scenarios/sweeps/sobol.toml --check";

/// Most `--threads`: runs are coarse tasks, so more threads than cores only cost memory (each
/// holds a world and a window of rows); 256 is far above any machine this runs on.
const MAX_THREADS: i64 = 256;

/// Confidence level of the sensitivity indices' bootstrap intervals.
const CONFIDENCE: f64 = 0.95;

#[derive(clap::Args, Debug)]
#[command(after_help = SWEEP_EXAMPLES)]
pub struct SweepArgs {
    /// Sweep file (TOML): base scenario, parameters, design, replicates.
    sweep: PathBuf,
    /// Output folder: new, empty, or an earlier sim output (replaced as a whole).
    #[arg(long, default_value = "sim-out/sweep")]
    out: PathBuf,
    /// How the result lines on stdout are printed.
    #[arg(long, value_enum, default_value_t)]
    format: crate::ui::Format,
    /// Worker threads (default: one per core, or RAYON_NUM_THREADS). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=MAX_THREADS))]
    threads: Option<u16>,
    /// Run only slice i of N, 0-based (0/3, 1/3, 2/3): the runs with run_id % N == i. Combine the
    /// folders with `sim merge`.
    #[arg(long, value_name = "i/N")]
    shard: Option<String>,
    /// Continue an interrupted sweep into the same --out (runs already written are kept).
    #[arg(long)]
    resume: bool,
    /// Adaptive replication: add `replicates` more runs to each point whose 95% CI half-width of
    /// METRIC is above HALFWIDTH, round after round, up to --max-replicates.
    #[arg(long, value_name = "METRIC=HALFWIDTH")]
    target_ci: Option<String>,
    /// Most replicates per point with --target-ci [default: 100].
    #[arg(long, value_name = "M", requires = "target_ci")]
    max_replicates: Option<usize>,
    /// Also write each run's daily series to runs/<run_id>.csv.
    #[arg(long)]
    timeseries: bool,
    /// Validate the sweep file (and every point's scenario) and print its size; run nothing.
    #[arg(long)]
    check: bool,
}

const SENSITIVITY_NOTES: &str = "\
How the indices are formed:
  Every point of the design runs `replicates` times; a point's output y for a metric is the mean
  of its replicates' finite values (NaN if none), which averages out most of the run-to-run noise
  before the estimators see it. Saltelli designs give Sobol S1 (Saltelli et al. 2010) and ST
  (Jansen 1999); Morris designs give mu, mu_star and sigma, with effects per the whole range of a
  parameter (unit-cube steps).
  CIs: 95% bootstrap percentile intervals. Indices for every metric the sweep records.

Examples:
  sim sensitivity scenarios/sweeps/saltelli.toml --out out/sobol
  sim sensitivity scenarios/sweeps/morris.toml --bootstrap 2000 --threads 2
  # the runs on a cluster in shards (sim slurm, or sim sweep --shard i/N), then the indices:
  sim merge out/shard-* --out out/runs
  sim sensitivity scenarios/sweeps/saltelli.toml --runs out/runs --out out/sobol";

#[derive(clap::Args, Debug)]
#[command(after_help = SENSITIVITY_NOTES)]
pub struct SensitivityArgs {
    /// Sweep file (TOML) with design kind `saltelli` (Sobol indices) or `morris` (Morris indices).
    sweep: PathBuf,
    /// Output folder: new, empty, or an earlier sim output (replaced as a whole).
    #[arg(long, default_value = "sim-out/sensitivity")]
    out: PathBuf,
    /// How the result lines on stdout are printed.
    #[arg(long, value_enum, default_value_t)]
    format: crate::ui::Format,
    /// Bootstrap resamples for the confidence intervals (0: none).
    #[arg(long, default_value_t = 1000)]
    bootstrap: usize,
    /// Worker threads (default: one per core, or RAYON_NUM_THREADS). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=MAX_THREADS))]
    threads: Option<u16>,
    /// Take the runs from DIR, a finished `sim sweep`, `sim merge` or `sim sensitivity` of this same
    /// sweep file (its shards run on a cluster, say), instead of running them: the same indices.csv.
    #[arg(long, value_name = "DIR")]
    runs: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// Output folders of `sim sweep --shard i/N` (all N of them).
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Output folder: new, empty, or an earlier sim output (replaced as a whole); not one of DIRS
    /// nor a folder holding them.
    #[arg(long, default_value = "sim-out/merge")]
    out: PathBuf,
    /// How the result lines on stdout are printed.
    #[arg(long, value_enum, default_value_t)]
    format: crate::ui::Format,
}

fn bad(e: impl std::fmt::Display) -> CliError {
    CliError::BadInput(e.to_string())
}

fn failed_at(path: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
    move |e| CliError::Failed(format!("{}: {e}", path.display()))
}

fn pool(threads: Option<u16>) -> Result<Option<rayon::ThreadPool>, CliError> {
    threads
        .map(|n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n.into())
                .build()
                .map_err(|e| CliError::Failed(format!("cannot start {n} threads: {e}")))
        })
        .transpose()
}

/// Parses `--target-ci METRIC=HALFWIDTH`.
fn parse_target(text: &str, max_replicates: usize, sweep: &Sweep) -> Result<AdaptiveTarget, CliError> {
    let (name, hw) = text
        .split_once('=')
        .ok_or_else(|| bad(format!("--target-ci {text}: expected METRIC=HALFWIDTH, e.g. failure_demand_share=0.01")))?;
    let metric = Metric::from_name(name.trim())
        .ok_or_else(|| bad(format!("--target-ci {text}: unknown metric `{}`; `sim describe metrics` lists them", name.trim())))?;
    if !sweep.metrics.contains(&metric) {
        return Err(bad(format!(
            "--target-ci {text}: the sweep does not record `{}`; add it to `metrics` in {}",
            metric.name(),
            sweep.file.display()
        )));
    }
    let half_width: f64 = hw.trim().parse().map_err(|_| bad(format!("--target-ci {text}: `{}` is not a number", hw.trim())))?;
    if !(half_width.is_finite() && half_width > 0.0) {
        return Err(bad(format!("--target-ci {text}: the half-width must be a positive number")));
    }
    if max_replicates < sweep.replicates {
        return Err(bad(format!("--max-replicates {max_replicates} is below the sweep's replicates ({})", sweep.replicates)));
    }
    Ok(AdaptiveTarget { metric, half_width, max_replicates })
}

/// What decides a sweep folder's runs.csv: recorded in the work folder (plan.json) and in
/// manifest.json, and compared on `--resume`.
fn plan(sweep: &Sweep, layout: &Layout, shard: Option<Shard>, target: Option<AdaptiveTarget>, timeseries: bool) -> Value {
    json!({
        "sweep_hash": sweep.content_hash(),
        "shard": shard,
        "adaptive": target,
        "timeseries": timeseries,
        "columns": layout.columns,
    })
}

/// The provenance of a sweep's outputs (ARCHITECTURE.md's manifest, plus the sweep's own fields).
#[derive(Serialize)]
struct SweepManifest<'a> {
    sim_version: &'static str,
    git_commit: Option<&'static str>,
    command: &'static str,
    command_line: Vec<String>,
    sweep_file: String,
    sweep_name: &'a str,
    /// SHA-256 of the resolved sweep (shards of one sweep share it).
    sweep_hash: String,
    /// The base scenario.
    scenario_file: String,
    /// SHA-256 of the resolved base scenario (with the sweep's `days`).
    scenario_hash: String,
    seeds: Seeds,
    /// The resolved base scenario, before the varied parameters are set.
    parameters: &'a Scenario,
    varied: &'a [Parameter],
    design: Value,
    replicates: usize,
    metrics: Vec<&'static str>,
    plan: &'a Value,
    shard: Option<Shard>,
    adaptive: Option<AdaptiveTarget>,
    points: usize,
    /// Runs of the whole sweep (all shards); with adaptive replication, the runs it took.
    runs_total: u64,
    /// Rows of this folder's runs.csv.
    runs: u64,
    /// SHA-256 of runs.csv, checked by `--resume` on a finished folder.
    runs_csv_sha256: String,
    /// Runs read back from an interrupted invocation's journal instead of run again.
    resumed_runs: u64,
    rounds: usize,
    threads: usize,
    columns: &'a [Column],
    start_time: String,
    wall_time_seconds: f64,
}

#[derive(Serialize)]
struct Seeds {
    master: u64,
    run_seed: &'static str,
    design_seed: u64,
}

#[allow(clippy::too_many_arguments)]
fn manifest<'a>(
    command: &'static str,
    command_line: &[String],
    sweep: &'a Sweep,
    layout: &'a Layout,
    plan: &'a Value,
    shard: Option<Shard>,
    target: Option<AdaptiveTarget>,
    executed: &Executed,
    runs_csv_sha256: String,
    started: SystemTime,
    clock: Instant,
) -> SweepManifest<'a> {
    let mut design = serde_json::to_value(&sweep.design).unwrap_or(Value::Null);
    if let Value::Object(o) = &mut design {
        o.insert("points".into(), json!(sweep.points.len()));
    }
    SweepManifest {
        sim_version: env!("CARGO_PKG_VERSION"),
        git_commit: option_env!("SIM_GIT_COMMIT").filter(|c| !c.is_empty()),
        command,
        command_line: command_line.to_vec(),
        sweep_file: sweep.file.display().to_string(),
        sweep_name: &sweep.name,
        sweep_hash: sweep.content_hash(),
        scenario_file: sweep.base_file.display().to_string(),
        scenario_hash: sweep.base.content_hash(),
        seeds: Seeds {
            master: sweep.seed,
            run_seed: "rng::run_seed(master, point_id, replicate)",
            design_seed: rng::derive(sweep.seed, rng::name_hash("design")),
        },
        parameters: &sweep.base,
        varied: &sweep.parameters,
        design,
        replicates: sweep.replicates,
        metrics: sweep.metrics.iter().map(|m| m.name()).collect(),
        plan,
        shard,
        adaptive: target,
        points: sweep.points.len(),
        runs_total: if target.is_some() { executed.rows } else { sweep.runs() },
        runs: executed.rows,
        runs_csv_sha256,
        resumed_runs: executed.resumed,
        rounds: executed.rounds,
        threads: executed.threads,
        columns: &layout.columns,
        start_time: humantime::format_rfc3339_seconds(started).to_string(),
        wall_time_seconds: clock.elapsed().as_secs_f64(),
    }
}

fn write_manifest<T: Serialize>(path: &Path, value: &T) -> Result<(), CliError> {
    let tmp = path.with_file_name("manifest.json.tmp");
    write_json(&tmp, value).map_err(failed_at(&tmp))?;
    fs::rename(&tmp, path).map_err(failed_at(path))
}

fn read_json_file(path: &Path) -> Option<Value> {
    fs::read_to_string(path).ok().and_then(|t| serde_json::from_str(&t).ok())
}

pub fn sweep(args: SweepArgs, command_line: &[String]) -> Result<(), CliError> {
    let started = SystemTime::now();
    let clock = Instant::now();
    let sweep = Sweep::from_file(&args.sweep).map_err(bad)?;
    let shard = args.shard.as_deref().map(Shard::parse).transpose().map_err(|e| bad(format!("--shard {e}")))?;
    let target = args.target_ci.as_deref().map(|t| parse_target(t, args.max_replicates.unwrap_or(100), &sweep)).transpose()?;
    if shard.is_some() && target.is_some() {
        return Err(bad(
            "--shard and --target-ci do not combine: adaptive rounds depend on every point's runs; run adaptive sweeps unsharded",
        ));
    }
    if args.check {
        let params: Vec<String> = sweep.parameters.iter().map(|p| p.path.clone()).collect();
        println!(
            "ok: {} ({}): design {}, {} points x {} replicates = {} runs; parameters {}; base {}",
            args.sweep.display(),
            sweep.name,
            sweep.design.kind.name(),
            sweep.points.len(),
            sweep.replicates,
            sweep.runs(),
            params.join(", "),
            sweep.base_file.display()
        );
        return Ok(());
    }
    let pool = pool(args.threads)?;
    let layout = Layout::for_sweep(&sweep);
    let plan = plan(&sweep, &layout, shard, target, args.timeseries);

    let inputs = [args.sweep.as_path(), sweep.base_file.as_path()];
    let dest = OutDir::prepare(&args.out, &inputs)?;
    let work = dest.partial_path();
    let mut resume = false;
    if work.exists() {
        if !args.resume {
            return Err(bad(format!(
                "{}: an interrupted sweep is in {}; add --resume to continue it, or delete that folder to start again",
                args.out.display(),
                work.display()
            )));
        }
        match read_json_file(&work.join("plan.json")) {
            Some(p) if p == plan => resume = true,
            Some(_) => {
                return Err(bad(format!(
                    "{}: the interrupted sweep in {} was started with another sweep file or other options (--shard, --target-ci, \
                     --max-replicates, --timeseries); resume it with the same ones, or delete that folder to start again",
                    args.out.display(),
                    work.display()
                )));
            }
            // Killed before its plan was written: nothing to keep (only sim's own files are in it).
            None => fs::remove_dir_all(&work).map_err(failed_at(&work))?,
        }
    } else if args.resume {
        if let Some(m) = read_json_file(&args.out.join("manifest.json")).filter(|m| m.get("plan") == Some(&plan)) {
            verify_finished(&args.out, &m)?;
            crate::note!(
                "{}: already holds this sweep's complete output (runs.csv checked against manifest.json); nothing to resume",
                args.out.display()
            );
            return Ok(());
        }
        crate::note!("{}: no interrupted sweep to resume; starting from the beginning", args.out.display());
    }
    let partial = Partial::open(&dest).map_err(failed_at(&work))?;
    if !resume {
        write_atomically(&partial.path().join("plan.json"), |w| serde_json::to_writer_pretty(w, &plan).map_err(|e| e.to_string()))
            .map_err(CliError::Failed)?;
    }

    let executed = execute(&Settings {
        sweep: &sweep,
        layout: &layout,
        dir: partial.path(),
        pool: pool.as_ref(),
        shard,
        target,
        timeseries: args.timeseries,
        resume,
        label: "sweep",
    })?;

    let dir = partial.path();
    let runs_csv = dir.join("runs.csv");
    write_parquet(&runs_csv, &dir.join("runs.parquet"), &layout).map_err(CliError::Failed)?;
    write_points(&runs_csv, &dir.join("points.csv"), &layout, sweep.points.len(), target.is_none()).map_err(CliError::Failed)?;
    let digest = file_digest(&runs_csv).map_err(failed_at(&runs_csv))?;
    let m = manifest("sweep", command_line, &sweep, &layout, &plan, shard, target, &executed, digest, started, clock);
    write_manifest(&dir.join("manifest.json"), &m)?;
    // Figures and report.html from points.csv.
    let plots = crate::report::draw_into(dir, "sweep", true);
    fs::remove_file(dir.join("plan.json")).map_err(failed_at(&dir.join("plan.json")))?;
    let written = partial.commit(plots)?;

    let secs = clock.elapsed().as_secs_f64();
    let ran = executed.rows - executed.resumed;
    let mut what = format!("{} runs", executed.rows);
    if let Some(s) = shard {
        what.push_str(&format!(" (shard {}/{} of {})", s.index, s.count, sweep.runs()));
    }
    if executed.resumed > 0 {
        what.push_str(&format!(", {} of them resumed", executed.resumed));
    }
    if target.is_some() {
        what.push_str(&format!(" in {} adaptive rounds", executed.rounds));
    }
    crate::ui::result(
        args.format,
        &format!(
            "sweep {}: {} points, {what}; {ran} ran in {secs:.1} s ({:.1} runs/s on {} threads)",
            sweep.name,
            sweep.points.len(),
            ran as f64 / secs.max(1e-9),
            executed.threads
        ),
        json!({
            "kind": "summary",
            "command": "sweep",
            "sweep": sweep.name,
            "points": sweep.points.len(),
            "runs": executed.rows,
            "resumed_runs": executed.resumed,
            "ran": ran,
            "rounds": executed.rounds,
            "threads": executed.threads,
            "seconds": secs,
        }),
    );
    crate::ui::wrote(args.format, "sweep", dest.shown(), &written.files);
    written.check_plots(&dest)
}

/// SHA-256 of a file, hex.
fn file_digest(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    std::io::copy(&mut std::io::BufReader::new(fs::File::open(path)?), &mut h)?;
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Checks a finished sweep folder's runs.csv against what its manifest records (rows and
/// SHA-256), before `--resume` trusts it.
fn verify_finished(out: &Path, m: &Value) -> Result<(), CliError> {
    let runs_csv = out.join("runs.csv");
    let problem = runs_csv_problem(&runs_csv, m)
        .map_err(|e| bad(format!("{}: {e}; the output is incomplete, run without --resume to replace it", runs_csv.display())))?;
    match problem {
        Some(p) => Err(bad(format!(
            "{}: {p}, so the output was changed or cut after the sweep finished; run without --resume to replace it",
            runs_csv.display()
        ))),
        None => Ok(()),
    }
}

/// How `runs_csv` differs from what manifest `m` records of it (its rows and SHA-256), if it does;
/// an error if it cannot be read.
fn runs_csv_problem(runs_csv: &Path, m: &Value) -> std::io::Result<Option<String>> {
    let text = fs::read(runs_csv)?;
    let rows = text.iter().filter(|&&b| b == b'\n').count().saturating_sub(1) as u64;
    let expected_rows = m.get("runs").and_then(Value::as_u64);
    let expected_digest = m.get("runs_csv_sha256").and_then(Value::as_str);
    let digest = file_digest(runs_csv)?;
    Ok(match (expected_rows, expected_digest) {
        (Some(r), _) if r != rows => Some(format!("it has {rows} rows where manifest.json records {r}")),
        (_, Some(d)) if d != digest => Some("its SHA-256 differs from the one manifest.json records".to_string()),
        (None, _) | (_, None) => Some("manifest.json records no row count or digest to check it against".to_string()),
        _ => None,
    })
}

/// The runs of a finished sweep folder given to `sim sensitivity --runs`.
struct GivenRuns {
    dir: PathBuf,
    runs_csv: PathBuf,
    rows: u64,
    /// `sweep`, `merge` or `sensitivity`.
    command: String,
}

/// Checks that `dir` holds every run of `sweep`, as `sim sweep` (unsharded, not adaptive), `sim
/// merge` or an earlier `sim sensitivity` wrote them: the same sweep (its content hash), all its
/// runs, and a runs.csv with the rows and SHA-256 its manifest.json records.
fn finished_runs_of(dir: &Path, sweep: &Sweep) -> Result<GivenRuns, CliError> {
    let at = |problem: String| bad(format!("--runs {}: {problem}", dir.display()));
    let m = read_json_file(&dir.join("manifest.json")).ok_or_else(|| {
        at("not a finished sweep folder (no readable manifest.json); give the folder of `sim sweep`, `sim merge` or `sim sensitivity`"
            .into())
    })?;
    let command = m.get("command").and_then(Value::as_str).unwrap_or("").to_string();
    if !["sweep", "merge", "sensitivity"].contains(&command.as_str()) {
        return Err(at(format!("manifest.json is from `sim {command}`; give the folder of `sim sweep`, `sim merge` or `sim sensitivity`")));
    }
    if m.get("sweep_hash").and_then(Value::as_str) != Some(sweep.content_hash().as_str()) {
        let name = m.get("sweep_file").and_then(Value::as_str).unwrap_or("another sweep file");
        return Err(at(format!(
            "its runs are of {name}, not of {} as it now reads (the sweep's content hash differs)",
            sweep.file.display()
        )));
    }
    if let Some(shard) = m.get("shard").filter(|s| !s.is_null()) {
        let (i, n) = (shard.get("index").and_then(Value::as_u64).unwrap_or(0), shard.get("count").and_then(Value::as_u64).unwrap_or(0));
        return Err(at(format!("it holds shard {i}/{n} only; merge the {n} shards first (`sim merge DIR...`)")));
    }
    if !m.get("adaptive").is_none_or(Value::is_null) {
        return Err(at("an adaptive sweep's replicates differ from point to point; the indices need the design's replicates".into()));
    }
    let rows = m.get("runs").and_then(Value::as_u64).unwrap_or(0);
    let total = sweep.points.len() as u64 * sweep.replicates as u64;
    if rows != total {
        return Err(at(format!("manifest.json records {rows} runs where the sweep has {total}")));
    }
    let runs_csv = dir.join("runs.csv");
    if let Some(p) = runs_csv_problem(&runs_csv, &m).map_err(|e| at(format!("{}: {e}", runs_csv.display())))? {
        return Err(at(format!("{}: {p}, so it was changed or cut after the sweep finished", runs_csv.display())));
    }
    Ok(GivenRuns { dir: dir.to_path_buf(), runs_csv, rows, command })
}

pub fn sensitivity(args: SensitivityArgs, command_line: &[String]) -> Result<(), CliError> {
    let started = SystemTime::now();
    let clock = Instant::now();
    let sweep = Sweep::from_file(&args.sweep).map_err(bad)?;
    let method = match sweep.design.kind {
        DesignKind::Saltelli => "Sobol",
        DesignKind::Morris => "Morris",
        other => {
            return Err(bad(format!(
                "{}: sim sensitivity needs design kind `saltelli` (Sobol indices) or `morris` (Morris indices), not `{}`; \
                 run this sweep with `sim sweep`",
                args.sweep.display(),
                other.name()
            )));
        }
    };
    let pool = pool(args.threads)?;
    let layout = Layout::for_sweep(&sweep);
    let plan = plan(&sweep, &layout, None, None, false);
    let given_runs = args.runs.as_deref().map(|dir| finished_runs_of(dir, &sweep)).transpose()?;
    let mut inputs = vec![args.sweep.as_path(), sweep.base_file.as_path()];
    inputs.extend(args.runs.as_deref());
    let dest = OutDir::prepare(&args.out, &inputs)?;
    let staging = dest.staging()?;
    let executed = match &given_runs {
        // A copy: the folder the runs came from is left as it was.
        Some(given) => {
            let to = staging.path().join("runs.csv");
            fs::copy(&given.runs_csv, &to).map_err(failed_at(&to))?;
            let threads = pool.as_ref().map(|p| p.current_num_threads()).unwrap_or_else(rayon::current_num_threads);
            Executed { rows: given.rows, resumed: 0, rounds: 0, threads }
        }
        None => execute(&Settings {
            sweep: &sweep,
            layout: &layout,
            dir: staging.path(),
            pool: pool.as_ref(),
            shard: None,
            target: None,
            timeseries: false,
            resume: false,
            label: "sensitivity",
        })?,
    };

    // y of each metric: the mean over a point's replicates (finite values; NaN if none).
    let runs_csv = staging.path().join("runs.csv");
    let n = sweep.points.len();
    let mut y = vec![vec![f64::NAN; n]; sweep.metrics.len()];
    for_each_point(&runs_csv, &layout, n, true, |p| {
        for (ys, values) in y.iter_mut().zip(&p.values) {
            ys[p.point_id as usize] = summarise(values).0;
        }
        Ok(())
    })
    .map_err(CliError::Failed)?;
    let estimate = || -> Vec<Vec<SensitivityIndex>> {
        sweep
            .metrics
            .iter()
            .zip(&y)
            .map(|(m, ys)| {
                let seed = rng::derive(rng::derive(sweep.seed, rng::name_hash("bootstrap")), rng::name_hash(m.name()));
                match (&sweep.saltelli, &sweep.morris) {
                    (Some(d), _) => sobol_indices(d, ys, args.bootstrap, CONFIDENCE, seed),
                    (_, Some(d)) => morris_indices(d, ys, args.bootstrap, CONFIDENCE, seed),
                    _ => Vec::new(),
                }
            })
            .collect()
    };
    let indices = match &pool {
        Some(p) => p.install(estimate),
        None => estimate(),
    };
    let mut rows = 0usize;
    write_atomically(&staging.path().join("indices.csv"), |w| {
        let mut csv = csv::Writer::from_writer(w);
        let err = |e: csv::Error| e.to_string();
        csv.write_record(["parameter", "metric", "method", "index", "value", "ci_low", "ci_high"]).map_err(err)?;
        for (m, list) in sweep.metrics.iter().zip(&indices) {
            for ix in list {
                let path = &sweep.parameters[ix.parameter].path;
                csv.write_record([
                    path.as_str(),
                    m.name(),
                    ix.method,
                    ix.index,
                    &number(ix.value),
                    &number(ix.ci_low),
                    &number(ix.ci_high),
                ])
                .map_err(err)?;
                rows += 1;
            }
        }
        csv.flush().map_err(|e| e.to_string())?;
        drop(csv);
        Ok::<(), String>(())
    })
    .map_err(CliError::Failed)?;
    let digest = file_digest(&runs_csv).map_err(failed_at(&runs_csv))?;
    let mut m =
        serde_json::to_value(manifest("sensitivity", command_line, &sweep, &layout, &plan, None, None, &executed, digest, started, clock))
            .map_err(|e| CliError::Failed(e.to_string()))?;
    if let Value::Object(o) = &mut m {
        o.insert("bootstrap".into(), json!(args.bootstrap));
        o.insert("confidence".into(), json!(CONFIDENCE));
        o.insert("y".into(), json!("per point, the mean over its replicates of the metric's finite values"));
        if let Some(given) = &given_runs {
            o.insert("runs_from".into(), json!(given.dir.display().to_string()));
            o.insert("runs_from_command".into(), json!(given.command));
        }
    }
    write_manifest(&staging.path().join("manifest.json"), &m)?;
    let plots = crate::report::draw_into(staging.path(), "sensitivity", true);
    let written = staging.commit(plots)?;
    let index_rows: Vec<crate::plots::data::IndexRow> = sweep
        .metrics
        .iter()
        .zip(&indices)
        .flat_map(|(m, list)| {
            list.iter().map(|ix| crate::plots::data::IndexRow {
                parameter: sweep.parameters[ix.parameter].path.clone(),
                metric: m.name().to_string(),
                method: ix.method.to_ascii_lowercase(),
                index: ix.index.to_string(),
                value: ix.value,
                ci_low: ix.ci_low,
                ci_high: ix.ci_high,
            })
        })
        .collect();
    for w in crate::plots::sensitivity::warnings(&index_rows, m.get("design").unwrap_or(&Value::Null)) {
        eprintln!("warning: {w}");
    }

    crate::ui::result(
        args.format,
        &format!(
            "sensitivity {}: {method} indices of {} parameters for {} metrics from {} runs{} ({} points x {} replicates) in {:.1} s; \
             indices.csv has {rows} rows",
            sweep.name,
            sweep.parameters.len(),
            sweep.metrics.len(),
            executed.rows,
            given_runs.as_ref().map(|g| format!(" of {}", g.dir.display())).unwrap_or_default(),
            n,
            sweep.replicates,
            clock.elapsed().as_secs_f64()
        ),
        json!({
            "kind": "summary",
            "command": "sensitivity",
            "sweep": sweep.name,
            "method": method,
            "parameters": sweep.parameters.len(),
            "metrics": sweep.metrics.len(),
            "runs": executed.rows,
            "runs_from": given_runs.as_ref().map(|g| g.dir.display().to_string()),
            "indices": rows,
        }),
    );
    crate::ui::wrote(args.format, "sensitivity", dest.shown(), &written.files);
    written.check_plots(&dest)
}

pub fn merge(args: MergeArgs, command_line: &[String]) -> Result<(), CliError> {
    let started = SystemTime::now();
    let clock = Instant::now();
    // Every input must be a finished sweep folder of the same sweep.
    let mut manifests = Vec::with_capacity(args.dirs.len());
    for d in &args.dirs {
        let m = read_json_file(&d.join("manifest.json"))
            .ok_or_else(|| bad(format!("{}: not a finished sweep folder (no readable manifest.json)", d.display())))?;
        if m.get("command").and_then(Value::as_str) != Some("sweep") {
            return Err(bad(format!("{}: manifest.json is not from `sim sweep`", d.display())));
        }
        manifests.push(m);
    }
    let first = &manifests[0];
    let same = |key: &str| -> Result<(), CliError> {
        for (d, m) in args.dirs.iter().zip(&manifests).skip(1) {
            if m.get(key) != first.get(key) {
                return Err(bad(format!(
                    "{} and {} are from different sweeps: their manifest.json `{key}` differ ({} vs {})",
                    args.dirs[0].display(),
                    d.display(),
                    first.get(key).unwrap_or(&Value::Null),
                    m.get(key).unwrap_or(&Value::Null)
                )));
            }
        }
        Ok(())
    };
    same("sweep_hash")?;
    same("adaptive")?;
    same("columns")?;
    same("runs_total")?;
    let columns: Vec<Column> = first
        .get("columns")
        .cloned()
        .and_then(|c| serde_json::from_value(c).ok())
        .ok_or_else(|| bad(format!("{}: manifest.json has no `columns`", args.dirs[0].display())))?;
    let metrics = first.get("metrics").and_then(Value::as_array).map(Vec::len).unwrap_or(0);
    let parameters = columns
        .len()
        .checked_sub(crate::sweep_tables::FIXED.len() + metrics)
        .ok_or_else(|| bad("manifest.json: `columns` and `metrics` disagree"))?;
    let layout = Layout { columns, parameters };
    let runs_total = first.get("runs_total").and_then(Value::as_u64).unwrap_or(0);
    let points = first.get("points").and_then(Value::as_u64).unwrap_or(0) as usize;
    let adaptive = !first.get("adaptive").is_none_or(Value::is_null);
    let shards: BTreeMap<u64, u64> = manifests
        .iter()
        .filter_map(|m| m.get("shard").and_then(|s| Some((s.get("count")?.as_u64()?, s.get("index")?.as_u64()?))))
        .collect();
    let owner = |run_id: u64| match shards.keys().next() {
        Some(&count) => format!("it belongs to shard {}/{count}", run_id % count),
        None => "no folder holds it".to_string(),
    };

    let dirs: Vec<&Path> = args.dirs.iter().map(PathBuf::as_path).collect();
    let dest = OutDir::prepare(&args.out, &dirs)?;
    let staging = dest.staging()?;
    let inputs: Vec<(String, PathBuf)> = args.dirs.iter().map(|d| (d.display().to_string(), d.join("runs.csv"))).collect();
    let runs_csv = staging.path().join("runs.csv");
    merge_runs(&inputs, &runs_csv, &layout.header(), runs_total, owner).map_err(|p| match p {
        MergeProblem::Inputs(m) => CliError::BadInput(m),
        MergeProblem::Io(m) => CliError::Failed(m),
    })?;
    // Per-run series, if the shards wrote them.
    for d in &args.dirs {
        let from = d.join("runs");
        if from.is_dir() {
            let to = staging.path().join("runs");
            fs::create_dir_all(&to).map_err(failed_at(&to))?;
            for e in fs::read_dir(&from).map_err(failed_at(&from))? {
                let e = e.map_err(failed_at(&from))?;
                fs::copy(e.path(), to.join(e.file_name())).map_err(failed_at(&e.path()))?;
            }
        }
    }
    let rows = write_parquet(&runs_csv, &staging.path().join("runs.parquet"), &layout).map_err(CliError::Failed)?;
    write_points(&runs_csv, &staging.path().join("points.csv"), &layout, points, !adaptive).map_err(CliError::Failed)?;

    let mut m = first.clone();
    if let Value::Object(o) = &mut m {
        o.insert("command".into(), json!("merge"));
        o.insert("command_line".into(), json!(command_line));
        o.insert("shard".into(), Value::Null);
        if let Some(Value::Object(p)) = o.get_mut("plan") {
            p.insert("shard".into(), Value::Null);
        }
        o.insert("merged_from".into(), json!(args.dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>()));
        o.insert("runs".into(), json!(rows));
        o.insert("runs_csv_sha256".into(), json!(file_digest(&runs_csv).map_err(failed_at(&runs_csv))?));
        o.insert("resumed_runs".into(), json!(0));
        o.insert("start_time".into(), json!(humantime::format_rfc3339_seconds(started).to_string()));
        o.insert("wall_time_seconds".into(), json!(clock.elapsed().as_secs_f64()));
        // The time the runs took: the merge itself takes a moment, the shards took the hours.
        let shard_times: Vec<f64> = manifests.iter().filter_map(|m| m.get("wall_time_seconds").and_then(Value::as_f64)).collect();
        o.insert("shard_wall_time_seconds".into(), json!(shard_times));
        o.insert("runs_wall_time_seconds".into(), json!(shard_times.iter().sum::<f64>()));
    }
    write_manifest(&staging.path().join("manifest.json"), &m)?;
    let plots = crate::report::draw_into(staging.path(), "merge", true);
    let written = staging.commit(plots)?;
    let name = first.get("sweep_name").and_then(Value::as_str).unwrap_or("?");
    crate::ui::result(
        args.format,
        &format!("merged {} folders: {rows} runs of sweep {name}", args.dirs.len()),
        json!({"kind": "summary", "command": "merge", "sweep": name, "folders": args.dirs.len(), "runs": rows}),
    );
    crate::ui::wrote(args.format, "merge", dest.shown(), &written.files);
    written.check_plots(&dest)
}
