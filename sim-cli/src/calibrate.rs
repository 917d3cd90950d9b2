//! `sim calibrate CALIBRATION.toml --out DIR`: fits a scenario's parameters to observed figures
//! by approximate Bayesian computation (the file format and the distance in
//! `sim_core::experiment::calibrate`, the samplers in its `abc` module).
//!
//! Where outputs are written (as `sim sweep` does): the work folder `.NAME.partial/` beside
//! `--out NAME` survives a kill; each finished generation goes to `generations/gen-NNN.csv` there
//! (written under a temporary name and renamed, so a file present is complete). At the end the
//! posterior, the tables, the predictive check, the calibrated scenario, the plots and
//! report.html are written there and the folder is renamed to NAME. `--resume` continues from the
//! last complete generation and gives the same bytes as a run that was never interrupted: every
//! draw comes from streams keyed by (seed, generation, attempt), and the generation files hold
//! every number in its shortest round-trip form.
//!
//! Files:
//! - posterior.csv / posterior.parquet: the last generation's particles: particle, generation,
//!   weight, distance, then one column per parameter.
//! - generations.csv: generation, tolerance, acceptance_rate, ess, simulations, attempts.
//! - parameters.csv: per parameter, its prior and the weighted posterior mean, sd, median and 90%
//!   credible interval (5% and 95% quantiles).
//! - ppc.csv: the posterior predictive check: for every target (fitted and held out) the
//!   observed value and sd, the simulated median and 90% interval over runs drawn from the
//!   posterior, the 90% interval of a new observation (simulated value plus observation error
//!   N(0, sd^2)), and `pass` when the observed value lies inside that interval.
//! - calibrated.toml: the fitted scenario (base, `days`, `set`) with every estimated parameter at
//!   its posterior median, runnable by `sim run`.
//! - With `--check-preset SCENARIO`, no fit and no files: the same check at one point (a
//!   calibrated preset's posterior medians) over `--runs` seeds, printed as ppc.csv on stdout.
//! - generations/gen-NNN.csv, manifest.json, plots (posterior_marginals, posterior_pairs,
//!   predictive_check) and report.html.

use std::fs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use indicatif::{ProgressBar, ProgressStyle};
use rand::RngExt;
use rand_distr::Distribution;
use rayon::prelude::*;
use serde_json::{Value, json};
use sim_core::experiment::calibrate::abc::{self, Generation, Particle, Sampler};
use sim_core::experiment::calibrate::{Calibration, prior_text};
use sim_core::metrics::quantile_sorted;
use sim_core::rng;
use sim_core::scenario::Scenario;

use crate::CliError;
use crate::output::{OutDir, Partial, number, write_json};
use crate::sweep_tables::write_atomically;

const EXAMPLES: &str = "\
Examples:
  sim calibrate scenarios/calibration/top-down.toml --out out/cal-td
  sim calibrate scenarios/calibration/top-down.toml --out out/cal-td --threads 2
  sim calibrate scenarios/calibration/top-down.toml --out out/cal-td --resume   (after an interruption)
  sim run out/cal-td/calibrated.toml                                            (the fitted scenario)
  sim compare A.toml B.toml --posterior out/cal-td/posterior.csv                 (carry the uncertainty)
  sim calibrate scenarios/calibration/top-down.toml \
      --check-preset scenarios/calibration/calibrated/top-down.toml --runs 20    (check a fitted preset)";

const MAX_THREADS: i64 = 256;
/// Predictive interval: 90% (5% and 95% quantiles), as the credible intervals.
const LOW_Q: f64 = 0.05;
const HIGH_Q: f64 = 0.95;

#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct CalibrateArgs {
    /// Calibration file (TOML): base scenario, parameters with priors, targets, method.
    #[arg(required_unless_present = "self_check")]
    file: Option<PathBuf>,
    /// Output folder: new, empty, or an earlier sim output (replaced as a whole).
    #[arg(long, default_value = "sim-out/calibrate")]
    out: PathBuf,
    /// How the result lines on stdout are printed.
    #[arg(long, value_enum, default_value_t)]
    format: crate::ui::Format,
    /// Worker threads (default: one per core, or RAYON_NUM_THREADS). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=MAX_THREADS))]
    threads: Option<u16>,
    /// Continue an interrupted calibration into the same --out from its last complete generation.
    #[arg(long)]
    resume: bool,
    /// Validate the calibration file and print its size; run nothing.
    #[arg(long)]
    check: bool,
    /// Check the sampler instead: ABC-SMC on a normal mean with a conjugate prior, whose posterior
    /// is known exactly; prints both (with --format json, the particles too). Writes nothing.
    #[arg(long, conflicts_with_all = ["file", "resume", "check"])]
    self_check: bool,
    /// With --self-check: the master seed.
    #[arg(long, default_value_t = 1, requires = "self_check")]
    seed: u64,
    /// With --self-check: particles.
    #[arg(long, default_value_t = 400, requires = "self_check", value_parser = clap::value_parser!(u32).range(10..=100_000))]
    particles: u32,
    /// Check a fitted scenario instead of fitting: run SCENARIO (the calibration's base at some
    /// parameter values, e.g. its calibrated.toml) over --runs seeds and print the predictive
    /// check of every target as ppc.csv's columns on stdout. Writes nothing.
    #[arg(long, value_name = "SCENARIO", conflicts_with_all = ["resume", "check", "self_check"])]
    check_preset: Option<PathBuf>,
    /// With --check-preset: runs, each with its own seed.
    #[arg(long, default_value_t = 20, requires = "check_preset", value_parser = clap::value_parser!(u32).range(2..=100_000))]
    runs: u32,
    /// Stop (exit 1, work folder kept) once this generation is written, as an interruption would.
    #[arg(long, hide = true)]
    stop_after_generation: Option<usize>,
}

fn bad(e: impl std::fmt::Display) -> CliError {
    CliError::BadInput(e.to_string())
}

fn failed_at(path: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
    move |e| CliError::Failed(format!("{}: {e}", path.display()))
}

/// What decides the outputs; compared on `--resume`.
fn plan(cal: &Calibration) -> Value {
    json!({ "calibration_hash": cal.content_hash(), "parameters": cal.parameters.iter().map(|p| &p.path).collect::<Vec<_>>() })
}

fn method_words(cal: &Calibration) -> String {
    match &cal.settings.method {
        abc::Method::Rejection { samples } => format!("rejection ABC: {samples} prior draws, {} kept", cal.settings.particles),
        abc::Method::Smc { generations, alpha, .. } => {
            format!("ABC-SMC: {} particles, up to {generations} generations, alpha {alpha}", cal.settings.particles)
        }
    }
}

/// `--self-check`: the sampler against the analytic posterior of a normal mean.
fn self_check(args: &CalibrateArgs) -> Result<(), CliError> {
    let toy = abc::NormalMean::STANDARD;
    let priors = [toy.prior()];
    let settings = abc::self_check_settings(args.seed, args.particles as usize);
    let sampler = Sampler { priors: &priors, settings: &settings, simulator: &toy };
    let (gens, stop) = sampler.run(Vec::new(), None, &|| {}, &mut |_, _| true);
    let last = gens.last().expect("one generation at least");
    let m = abc::weighted_moments(last, 1)[0];
    let (mean, sd) = (m.0, m.1.sqrt());
    let (am, asd) = toy.posterior();
    let sims: u64 = gens.iter().map(|g| g.simulations).sum();
    crate::ui::result(
        args.format,
        &format!(
            "self-check (normal mean, prior N({}, {}^2), n = {}, sigma = {}, ybar = {}): ABC-SMC posterior mean {mean:.4}, sd {sd:.4} \
             ({} particles, {} generations, {sims} simulations, final tolerance {}, {}); analytic mean {am:.4}, sd {asd:.4}",
            toy.m0,
            toy.s0,
            toy.n,
            toy.sigma,
            toy.ybar,
            last.particles.len(),
            gens.len(),
            short(last.tolerance),
            stop.words()
        ),
        json!({
            "kind": "self_check",
            "model": {"m0": toy.m0, "s0": toy.s0, "n": toy.n, "sigma": toy.sigma, "ybar": toy.ybar},
            "seed": args.seed,
            "abc_mean": mean, "abc_sd": sd, "analytic_mean": am, "analytic_sd": asd,
            "generations": gens.len(), "simulations": sims, "tolerance": last.tolerance,
            "theta": last.particles.iter().map(|p| p.theta[0]).collect::<Vec<_>>(),
            "weight": last.particles.iter().map(|p| p.weight).collect::<Vec<_>>(),
        }),
    );
    Ok(())
}

pub fn calibrate(args: CalibrateArgs, command_line: &[String]) -> Result<(), CliError> {
    if args.self_check {
        return self_check(&args);
    }
    let started = SystemTime::now();
    let clock = Instant::now();
    let file = args.file.clone().expect("clap requires FILE without --self-check");
    let cal = Calibration::from_file(&file).map_err(bad)?;
    let fitted = cal.fitted().count();
    let held = cal.targets.len() - fitted;
    if args.check {
        println!(
            "ok: {} ({}): {}; {} parameters ({}); {fitted} fitted targets, {held} held out; base {}",
            file.display(),
            cal.name,
            method_words(&cal),
            cal.parameters.len(),
            cal.parameters.iter().map(|p| p.path.as_str()).collect::<Vec<_>>().join(", "),
            cal.base_file.display()
        );
        return Ok(());
    }
    let pool = args
        .threads
        .map(|n| rayon::ThreadPoolBuilder::new().num_threads(n.into()).build())
        .transpose()
        .map_err(|e| CliError::Failed(format!("cannot start threads: {e}")))?;
    if let Some(preset) = &args.check_preset {
        return check_preset(&cal, preset, args.runs, pool.as_ref());
    }
    let threads = pool.as_ref().map(|p| p.current_num_threads()).unwrap_or_else(rayon::current_num_threads);
    let plan = plan(&cal);
    let mut inputs: Vec<&Path> = vec![file.as_path(), cal.base_file.as_path()];
    if let Some(s) = &cal.series_file {
        inputs.push(s.as_path());
    }
    let dest = OutDir::prepare(&args.out, &inputs)?;
    let work = dest.partial_path();
    let mut resume = false;
    if work.exists() {
        if !args.resume {
            return Err(bad(format!(
                "{}: an interrupted calibration is in {}; add --resume to continue it, or delete that folder to start again",
                args.out.display(),
                work.display()
            )));
        }
        match fs::read_to_string(work.join("plan.json")).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok()) {
            Some(p) if p == plan => resume = true,
            Some(_) => {
                return Err(bad(format!(
                    "{}: the interrupted work in {} was started from another calibration file (or another version of it); resume with \
                     the same file, or delete that folder to start again",
                    args.out.display(),
                    work.display()
                )));
            }
            None => fs::remove_dir_all(&work).map_err(failed_at(&work))?,
        }
    } else if args.resume {
        crate::note!("{}: no interrupted calibration to resume; starting from the beginning", args.out.display());
    }
    let partial = Partial::open(&dest).map_err(failed_at(&work))?;
    let dir = partial.path().to_path_buf();
    let gen_dir = dir.join("generations");
    fs::create_dir_all(&gen_dir).map_err(failed_at(&gen_dir))?;
    if !resume {
        write_atomically(&dir.join("plan.json"), |w| serde_json::to_writer_pretty(w, &plan).map_err(|e| e.to_string()))
            .map_err(CliError::Failed)?;
    }
    let k = cal.parameters.len();
    let done = if resume { read_generations(&gen_dir, k)? } else { Vec::new() };
    if !done.is_empty() {
        crate::note!("calibrate {}: resuming after generation {} (read from {})", cal.name, done.len() - 1, gen_dir.display());
    }
    crate::note!(
        "calibrate {}: {}; {k} parameters, {fitted} fitted targets, {held} held out; {threads} threads",
        cal.name,
        method_words(&cal)
    );

    let priors = cal.priors();
    let sampler = Sampler { priors: &priors, settings: &cal.settings, simulator: &cal };
    let progress = Progress::new(cal.settings.particles as u64);
    let tick = || progress.tick();
    let mut stopped_by_flag = false;
    let mut write_error: Option<CliError> = None;
    let mut gen_started = Instant::now();
    let names: Vec<&str> = cal.parameters.iter().map(|p| p.path.as_str()).collect();
    let mut finished = |g: &Generation, _eps: f64| -> bool {
        progress.generation_done(g, gen_started.elapsed());
        gen_started = Instant::now();
        let path = gen_dir.join(format!("gen-{:03}.csv", g.index));
        if let Err(e) = write_atomically(&path, |w| write_particles(w, g, &names).map_err(|e| e.to_string())) {
            write_error = Some(CliError::Failed(e));
            return false;
        }
        if args.stop_after_generation == Some(g.index) {
            stopped_by_flag = true;
            return false;
        }
        true
    };
    let (generations, stop) = sampler.run(done, pool.as_ref(), &tick, &mut finished);
    progress.finish();
    if let Some(e) = write_error {
        return Err(e);
    }
    if stopped_by_flag {
        return Err(CliError::Failed(format!(
            "stopped after generation {} (--stop-after-generation); continue with --resume",
            generations.len() - 1
        )));
    }
    let last = generations.last().expect("at least one generation");
    crate::note!("calibrate {}: stopped after generation {}: {}", cal.name, last.index, stop.words());

    // Tables.
    write_atomically(&dir.join("posterior.csv"), |w| write_particles(w, last, &names).map_err(|e| e.to_string()))
        .map_err(CliError::Failed)?;
    write_posterior_parquet(&dir.join("posterior.parquet"), last, &names).map_err(CliError::Failed)?;
    write_atomically(&dir.join("generations.csv"), |w| write_generations(w, &generations).map_err(|e| e.to_string()))
        .map_err(CliError::Failed)?;
    let summaries = parameter_summaries(&cal, last);
    write_atomically(&dir.join("parameters.csv"), |w| write_parameters(w, &summaries).map_err(|e| e.to_string()))
        .map_err(CliError::Failed)?;
    crate::note!("calibrate {}: posterior predictive check: {} runs", cal.name, cal.predictive_runs);
    let checks = predictive_check(&cal, last, pool.as_ref());
    write_atomically(&dir.join("ppc.csv"), |w| write_ppc(w, &cal, &checks).map_err(|e| e.to_string())).map_err(CliError::Failed)?;
    let medians: Vec<f64> = summaries.iter().map(|s| s.median).collect();
    let calibrated = calibrated_toml(&cal, &medians, &file)?;
    write_atomically(&dir.join("calibrated.toml"), |w| w.write_all(calibrated.as_bytes()).map_err(|e| e.to_string()))
        .map_err(CliError::Failed)?;

    let total_sims: u64 = generations.iter().map(|g| g.simulations).sum();
    let held_pass = checks.iter().zip(&cal.targets).filter(|(c, t)| t.held_out && c.pass).count();
    let fit_pass = checks.iter().zip(&cal.targets).filter(|(c, t)| !t.held_out && c.pass).count();
    let manifest = json!({
        "sim_version": env!("CARGO_PKG_VERSION"),
        "git_commit": option_env!("SIM_GIT_COMMIT").filter(|c| !c.is_empty()),
        "command": "calibrate",
        "command_line": command_line,
        "calibration_file": file.display().to_string(),
        "calibration_name": cal.name,
        "calibration_hash": cal.content_hash(),
        "scenario_file": cal.base_file.display().to_string(),
        "scenario_hash": cal.base.content_hash(),
        "series_file": cal.series_file.as_ref().map(|p| p.display().to_string()),
        "seeds": {
            "master": cal.seed,
            "simulation": "abc::simulation_seed(master, generation, attempt)",
            "proposal": "rng::keyed_stream(master, \"calibrate-proposal\", [generation, attempt])",
            "predictive": "rng::keyed_stream(master, \"calibrate-predictive\", [run])",
        },
        "method": method_words(&cal),
        "settings": format!("{:?}", cal.settings.method),
        "particles": cal.settings.particles,
        "stop": stop.words(),
        "generations": generations.len(),
        "simulations": total_sims,
        "predictive_runs": cal.predictive_runs,
        "fixed": cal.fixed.iter().map(|o| o.raw.clone()).collect::<Vec<_>>(),
        "estimated": cal.parameters,
        "targets": cal.targets,
        "fitted_pass": fit_pass,
        "fitted": fitted,
        "held_out_pass": held_pass,
        "held_out": held,
        "parameters": cal.base,
        "plan": plan,
        "threads": threads,
        "start_time": humantime::format_rfc3339_seconds(started).to_string(),
        "wall_time_seconds": clock.elapsed().as_secs_f64(),
    });
    let mpath = dir.join("manifest.json");
    write_json(&dir.join("manifest.json.tmp"), &manifest).map_err(failed_at(&mpath))?;
    fs::rename(dir.join("manifest.json.tmp"), &mpath).map_err(failed_at(&mpath))?;
    let plots = crate::report::draw_into(&dir, "calibrate", true);
    fs::remove_file(dir.join("plan.json")).map_err(failed_at(&dir.join("plan.json")))?;
    let written = partial.commit(plots)?;

    let ci: Vec<String> =
        summaries.iter().map(|s| format!("{} {} [{}, {}]", s.path, short(s.median), short(s.low), short(s.high))).collect();
    crate::ui::result(
        args.format,
        &format!(
            "calibrate {}: {} generations, {total_sims} simulations, final tolerance {}; posterior medians [90% CI]: {}; \
             predictive check: {fit_pass} of {fitted} fitted and {held_pass} of {held} held-out targets inside their 90% interval",
            cal.name,
            generations.len(),
            short(last.tolerance),
            ci.join("; ")
        ),
        json!({
            "kind": "summary",
            "command": "calibrate",
            "calibration": cal.name,
            "generations": generations.len(),
            "simulations": total_sims,
            "tolerance": crate::ui::num(last.tolerance),
            "parameters": summaries.iter().map(|s| json!({"path": s.path, "median": s.median, "low": s.low, "high": s.high})).collect::<Vec<_>>(),
            "fitted_pass": fit_pass, "fitted": fitted, "held_out_pass": held_pass, "held_out": held,
        }),
    );
    crate::ui::wrote(args.format, "calibrate", dest.shown(), &written.files);
    written.check_plots(&dest)
}

/// A number with 4 significant digits for messages.
fn short(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return format!("{x}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.digits$}")
}

// ---------------------------------------------------------------------------------------------
// Generation files
// ---------------------------------------------------------------------------------------------

const PARTICLE_COLUMNS: [&str; 7] = ["particle", "generation", "weight", "distance", "tolerance", "simulations", "attempts"];

/// A generation as CSV: one row per particle; the generation's tolerance, simulations and attempts
/// repeat on each row, so one file holds everything needed to resume.
fn write_particles(w: &mut impl Write, g: &Generation, names: &[&str]) -> std::io::Result<()> {
    let mut header: Vec<String> = PARTICLE_COLUMNS.iter().map(|s| s.to_string()).collect();
    header.extend(names.iter().map(|s| s.to_string()));
    writeln!(w, "{}", header.join(","))?;
    for (i, p) in g.particles.iter().enumerate() {
        let mut row = vec![
            i.to_string(),
            g.index.to_string(),
            number(p.weight),
            number(p.distance),
            number(g.tolerance),
            g.simulations.to_string(),
            g.attempts.to_string(),
        ];
        row.extend(p.theta.iter().map(|&x| number(x)));
        writeln!(w, "{}", row.join(","))?;
    }
    Ok(())
}

/// Reads gen-000.csv, gen-001.csv, ... up to the first missing one.
fn read_generations(dir: &Path, k: usize) -> Result<Vec<Generation>, CliError> {
    let mut out = Vec::new();
    loop {
        let path = dir.join(format!("gen-{:03}.csv", out.len()));
        let Ok(text) = fs::read_to_string(&path) else { break };
        let g = parse_generation(&text, out.len(), k).map_err(|m| {
            bad(format!("{}: {m}; the work folder holds another calibration's files (delete it to start again)", path.display()))
        })?;
        out.push(g);
    }
    Ok(out)
}

fn parse_generation(text: &str, index: usize, k: usize) -> Result<Generation, String> {
    let mut lines = text.lines();
    let header = lines.next().ok_or("empty file")?;
    if header.split(',').count() != PARTICLE_COLUMNS.len() + k {
        return Err(format!("expected {} columns", PARTICLE_COLUMNS.len() + k));
    }
    let mut g = Generation { index, tolerance: f64::NAN, simulations: 0, attempts: 0, particles: Vec::new() };
    for (n, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let f = |i: usize| -> Result<f64, String> {
            cells.get(i).and_then(|c| c.parse::<f64>().ok()).ok_or_else(|| format!("row {}: column {} is not a number", n + 1, i + 1))
        };
        let u = |i: usize| -> Result<u64, String> {
            cells.get(i).and_then(|c| c.parse::<u64>().ok()).ok_or_else(|| format!("row {}: column {} is not a count", n + 1, i + 1))
        };
        if cells.len() != PARTICLE_COLUMNS.len() + k || u(1)? != index as u64 {
            return Err(format!("row {} is not a particle of generation {index}", n + 1));
        }
        g.tolerance = f(4)?;
        g.simulations = u(5)?;
        g.attempts = u(6)?;
        g.particles.push(Particle {
            weight: f(2)?,
            distance: f(3)?,
            theta: (0..k).map(|j| f(PARTICLE_COLUMNS.len() + j)).collect::<Result<_, _>>()?,
        });
    }
    if g.particles.is_empty() {
        return Err("no particles".into());
    }
    Ok(g)
}

fn write_generations(w: &mut impl Write, gens: &[Generation]) -> std::io::Result<()> {
    writeln!(w, "generation,tolerance,acceptance_rate,ess,simulations,attempts,particles")?;
    for g in gens {
        writeln!(
            w,
            "{},{},{},{},{},{},{}",
            g.index,
            number(g.tolerance),
            number(g.acceptance_rate()),
            number(g.ess()),
            g.simulations,
            g.attempts,
            g.particles.len()
        )?;
    }
    Ok(())
}

fn write_posterior_parquet(dest: &Path, g: &Generation, names: &[&str]) -> Result<(), String> {
    use arrow_array::{ArrayRef, Float64Array, RecordBatch, UInt64Array};
    use arrow_schema::{DataType, Field, Schema};
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;
    let mut fields = vec![
        Field::new("particle", DataType::UInt64, false),
        Field::new("generation", DataType::UInt64, false),
        Field::new("weight", DataType::Float64, false),
        Field::new("distance", DataType::Float64, false),
    ];
    fields.extend(names.iter().map(|n| Field::new(*n, DataType::Float64, false)));
    let schema = Arc::new(Schema::new(fields));
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(UInt64Array::from((0..g.particles.len() as u64).collect::<Vec<_>>())),
        Arc::new(UInt64Array::from(vec![g.index as u64; g.particles.len()])),
        Arc::new(Float64Array::from(g.particles.iter().map(|p| p.weight).collect::<Vec<_>>())),
        Arc::new(Float64Array::from(g.particles.iter().map(|p| p.distance).collect::<Vec<_>>())),
    ];
    for j in 0..names.len() {
        arrays.push(Arc::new(Float64Array::from(g.particles.iter().map(|p| p.theta[j]).collect::<Vec<_>>())));
    }
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| e.to_string())?;
    let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    write_atomically(dest, |w| {
        let mut writer = ArrowWriter::try_new(w, schema.clone(), Some(props)).map_err(|e| format!("{}: {e}", dest.display()))?;
        writer.write(&batch).map_err(|e| e.to_string())?;
        writer.close().map_err(|e| e.to_string())?;
        Ok::<(), String>(())
    })
}

// ---------------------------------------------------------------------------------------------
// Posterior summaries, predictive check, calibrated scenario
// ---------------------------------------------------------------------------------------------

/// A parameter's posterior in numbers.
pub struct ParameterSummary {
    pub path: String,
    pub prior: String,
    pub mean: f64,
    pub sd: f64,
    pub median: f64,
    pub low: f64,
    pub high: f64,
}

fn parameter_summaries(cal: &Calibration, g: &Generation) -> Vec<ParameterSummary> {
    let moments = abc::weighted_moments(g, cal.parameters.len());
    let ws: Vec<f64> = g.particles.iter().map(|p| p.weight).collect();
    cal.parameters
        .iter()
        .enumerate()
        .map(|(j, p)| {
            let xs: Vec<f64> = g.particles.iter().map(|q| q.theta[j]).collect();
            ParameterSummary {
                path: p.path.clone(),
                prior: prior_text(&p.prior),
                mean: moments[j].0,
                sd: moments[j].1.sqrt(),
                median: abc::weighted_quantile(&xs, &ws, 0.5),
                low: abc::weighted_quantile(&xs, &ws, LOW_Q),
                high: abc::weighted_quantile(&xs, &ws, HIGH_Q),
            }
        })
        .collect()
}

fn write_parameters(w: &mut impl Write, rows: &[ParameterSummary]) -> std::io::Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record(["parameter", "prior", "mean", "sd", "median", "ci_low", "ci_high"])?;
    for r in rows {
        csv.write_record([&r.path, &r.prior, &number(r.mean), &number(r.sd), &number(r.median), &number(r.low), &number(r.high)])?;
    }
    csv.flush()
}

/// One target's predictive check.
pub struct Check {
    pub median: f64,
    pub low: f64,
    pub high: f64,
    pub obs_low: f64,
    pub obs_high: f64,
    pub pass: bool,
    /// Runs that gave a value.
    pub n: usize,
}

/// Runs drawn from the posterior (particle by weight, a fresh seed each) against every target.
fn predictive_check(cal: &Calibration, g: &Generation, pool: Option<&rayon::ThreadPool>) -> Vec<Check> {
    let cumulative: Vec<f64> = g
        .particles
        .iter()
        .scan(0.0, |c, p| {
            *c += p.weight;
            Some(*c)
        })
        .collect();
    let total = *cumulative.last().unwrap_or(&1.0);
    let seed = cal.seed;
    let run = |r: u64| -> (Vec<f64>, Vec<f64>) {
        let mut s = rng::keyed_stream(seed, "calibrate-predictive", &[r]);
        let u = s.random::<f64>() * total;
        let j = cumulative.partition_point(|&c| c <= u).min(g.particles.len() - 1);
        let noise: Vec<f64> = cal.targets.iter().map(|_| rand_distr::StandardNormal.sample(&mut s)).collect();
        let run_seed = rng::run_seed(rng::derive(seed, rng::name_hash("calibrate-predictive")), r, 0);
        let values = cal.simulate(&g.particles[j].theta, run_seed).unwrap_or_else(|| vec![f64::NAN; cal.targets.len()]);
        (values, noise)
    };
    let go = || (0..cal.predictive_runs as u64).into_par_iter().map(run).collect::<Vec<_>>();
    let runs = match pool {
        Some(p) => p.install(go),
        None => go(),
    };
    let runs: Vec<(Vec<f64>, Vec<Vec<f64>>)> = runs.into_iter().map(|(v, z)| (v, vec![z])).collect();
    checks_of(cal, &runs)
}

/// Every target's check from runs, each its target values and standard-normal draws (one per
/// target, as many sets as wanted): the simulated median and 90% interval, and the 90% interval
/// of a new observation, the simulated value plus N(0, sd^2) observation error (Gelman et al.
/// 2013, Bayesian Data Analysis, ch. 6: posterior predictive checking).
fn checks_of(cal: &Calibration, runs: &[(Vec<f64>, Vec<Vec<f64>>)]) -> Vec<Check> {
    cal.targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut sim: Vec<f64> = runs.iter().map(|(v, _)| v[i]).filter(|x| x.is_finite()).collect();
            let mut obs: Vec<f64> =
                runs.iter().filter(|(v, _)| v[i].is_finite()).flat_map(|(v, zs)| zs.iter().map(move |z| v[i] + t.sd * z[i])).collect();
            sim.sort_by(f64::total_cmp);
            obs.sort_by(f64::total_cmp);
            let (obs_low, obs_high) = (quantile_sorted(&obs, LOW_Q), quantile_sorted(&obs, HIGH_Q));
            Check {
                median: quantile_sorted(&sim, 0.5),
                low: quantile_sorted(&sim, LOW_Q),
                high: quantile_sorted(&sim, HIGH_Q),
                obs_low,
                obs_high,
                pass: t.observed >= obs_low && t.observed <= obs_high,
                n: sim.len(),
            }
        })
        .collect()
}

/// Observation-error draws per run in `--check-preset`: with few runs, the 90% interval of a new
/// observation is the quantiles of runs x draws values (simulated value plus N(0, sd^2)), so the
/// interval's own Monte Carlo error comes from the runs, not from the noise.
const PRESET_NOISE_DRAWS: usize = 200;

/// `--check-preset`: the predictive check at one point (a calibrated preset's posterior medians)
/// over `runs` seeds, printed as ppc.csv. Run seeds and noise come from streams keyed by the
/// calibration's seed and the run index, so the output does not depend on the thread count.
fn check_preset(cal: &Calibration, preset: &Path, runs: u32, pool: Option<&rayon::ThreadPool>) -> Result<(), CliError> {
    let scenario = Scenario::from_file(preset, &[]).map_err(bad)?;
    let theta = cal.theta_of(&scenario).map_err(|e| bad(format!("{}: {e}", preset.display())))?;
    crate::note!(
        "calibrate {}: predictive check of {} at {}: {runs} runs",
        cal.name,
        preset.display(),
        cal.parameters.iter().zip(&theta).map(|(p, x)| format!("{} = {}", p.path, short(*x))).collect::<Vec<_>>().join(", ")
    );
    let stream = "calibrate-preset-check";
    let run = |r: u64| -> (Vec<f64>, Vec<Vec<f64>>) {
        let mut s = rng::keyed_stream(cal.seed, stream, &[r]);
        let noise =
            (0..PRESET_NOISE_DRAWS).map(|_| cal.targets.iter().map(|_| rand_distr::StandardNormal.sample(&mut s)).collect()).collect();
        let run_seed = rng::run_seed(rng::derive(cal.seed, rng::name_hash(stream)), r, 0);
        let values = cal.simulate(&theta, run_seed).unwrap_or_else(|| vec![f64::NAN; cal.targets.len()]);
        (values, noise)
    };
    let go = || (0..u64::from(runs)).into_par_iter().map(run).collect::<Vec<_>>();
    let results = match pool {
        Some(p) => p.install(go),
        None => go(),
    };
    let checks = checks_of(cal, &results);
    let mut out = std::io::stdout().lock();
    write_ppc(&mut out, cal, &checks).map_err(|e| CliError::Failed(format!("stdout: {e}")))
}

fn write_ppc(w: &mut impl Write, cal: &Calibration, checks: &[Check]) -> std::io::Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record([
        "target",
        "use",
        "metric",
        "statistic",
        "from_day",
        "to_day",
        "observed",
        "sd",
        "predicted_median",
        "predicted_low",
        "predicted_high",
        "observation_low",
        "observation_high",
        "pass",
        "runs",
        "source",
    ])?;
    for (t, c) in cal.targets.iter().zip(checks) {
        csv.write_record([
            t.name.as_str(),
            if t.held_out { "held_out" } else { "fitted" },
            t.metric.name(),
            t.statistic.name(),
            &t.from_day.to_string(),
            &t.to_day.to_string(),
            &number(t.observed),
            &number(t.sd),
            &number(c.median),
            &number(c.low),
            &number(c.high),
            &number(c.obs_low),
            &number(c.obs_high),
            if c.pass { "pass" } else { "fail" },
            &c.n.to_string(),
            t.source.as_str(),
        ])?;
    }
    csv.flush()
}

/// The fitted scenario at the posterior medians, with a header saying where it came from.
fn calibrated_toml(cal: &Calibration, medians: &[f64], file: &Path) -> Result<String, CliError> {
    let mut scenario =
        cal.scenario_for(medians).map_err(|e| CliError::Failed(format!("the posterior medians do not make a valid scenario: {e}")))?;
    scenario.name = format!("{}-calibrated", cal.base.name);
    let mut head = format!(
        "# Calibrated by `sim calibrate {}` (calibration `{}`): the base scenario {} with\n",
        file.display(),
        cal.name,
        cal.base_file.display()
    );
    for o in &cal.fixed {
        head.push_str(&format!("# fixed: {}\n", o.raw));
    }
    for (p, m) in cal.parameters.iter().zip(medians) {
        let shown = if p.integer { format!("{}", m.round()) } else { format!("{m}") };
        head.push_str(&format!("# posterior median: {} = {shown} (prior {})\n", p.path, prior_text(&p.prior)));
    }
    head.push_str("# The posterior's spread is in posterior.csv and parameters.csv beside this file.\n");
    Ok(format!("{head}{}", scenario.to_toml()))
}

// ---------------------------------------------------------------------------------------------
// Progress
// ---------------------------------------------------------------------------------------------

/// Progress on stderr: on a terminal a bar per generation (simulations run; the length grows by
/// one batch of N whenever a batch starts); otherwise one line per finished generation.
struct Progress {
    bar: Option<ProgressBar>,
    batch: u64,
    count: AtomicU64,
}

impl Progress {
    fn new(batch: u64) -> Self {
        let bar = (std::io::stderr().is_terminal() && !crate::ui::quiet()).then(|| Self::bar(0, batch));
        Self { bar, batch, count: AtomicU64::new(0) }
    }

    fn bar(generation: usize, len: u64) -> ProgressBar {
        let bar = ProgressBar::new(len);
        let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} simulations  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(format!("calibrate: generation {generation}"));
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    }

    fn tick(&self) {
        let n = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &self.bar {
            if n > bar.length().unwrap_or(0) {
                bar.set_length(n.div_ceil(self.batch) * self.batch);
            }
            bar.set_position(n);
        }
    }

    fn generation_done(&self, g: &Generation, took: Duration) {
        self.count.store(0, Ordering::Relaxed);
        let text = format!(
            "calibrate: generation {}: tolerance {}, acceptance {:.1}%, ESS {:.0}, {} simulations in {:.1} s",
            g.index,
            short(g.tolerance),
            100.0 * g.acceptance_rate(),
            g.ess(),
            g.simulations,
            took.as_secs_f64()
        );
        match &self.bar {
            Some(bar) => {
                bar.println(text);
                bar.set_prefix(format!("calibrate: generation {}", g.index + 1));
                bar.set_length(self.batch);
                bar.set_position(0);
                bar.reset_eta();
            }
            None if !crate::ui::quiet() => eprintln!("{text}"),
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
