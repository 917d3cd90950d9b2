//! The `sim` command. Exit codes: 0 success, 2 bad input (with file, line and field; also an
//! `--out` that sim refuses to write into), 1 a failure while running (an output that could not
//! be written, plots included; a folder another sim is writing to), 3 not finished yet (`sim
//! slurm status`: shards still running, queued or missing, none failed), 128 + N after signal N.
//! Results go to stdout, progress and errors to stderr (see `ui`).

mod agents;
mod calibrate;
mod compare;
mod compare_posterior;
mod describe;
mod output;
mod patterns;
mod plots;
mod report;
mod run_files;
mod serve;
mod signals;
mod slurm;
mod slurm_scripts;
mod sweep;
mod sweep_exec;
mod sweep_tables;
mod ui;
mod warmup;
mod words;

/// Large arrays on transparent huge pages (sim_core::alloc): fewer TLB misses at scale.
#[global_allocator]
static ALLOCATOR: sim_core::alloc::HugePageAlloc = sim_core::alloc::HugePageAlloc;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use clap::{Parser, Subcommand};
use sim_core::Simulation;
use sim_core::metrics::Metric;
use sim_core::scenario::{Override, Scenario, ScenarioError};

const EXAMPLES: &str = "\
Examples:
  sim                                   compare the top-down and enablement presets (20 replicates)
                                        into ./sim-out/compare
  sim run                               run the built-in default scenario into ./sim-out/run
  sim run scenarios/enablement.toml --seed 7 --out out/enablement
  sim run scenarios/top-down.toml --days 730 --set governance.discretion=0.5
  sim run --set 'need_types[0].rate_per_year=0.3' --set governance.preset=enablement
  sim run scenarios/safety-protocol.toml --set safety.audit_share=0
                                        a safety protocol nobody checks (see harm_rate, protocol_compliance)
  sim validate scenarios/*.toml
  sim describe parameters               every parameter with default, unit, range and source
  sim describe scenario scenarios/surge.toml
  sim patterns                          the validation suite (MODEL.md §7, §9) into ./sim-out/patterns
  sim warmup scenarios/top-down.toml scenarios/enablement.toml
                                        the MSER-5 warm-up of the key metrics over 10 replicates
  sim slurm scenarios/sweeps/lhs.toml --shards 20 --out /scratch/me/lhs --time 1:00:00 --submit
                                        the sweep as a Slurm job array and a merge (docs/cluster.md)
  sim serve                             a live workshop: top-down vs enablement in the browser at
                                        http://127.0.0.1:8080/ (docs/workshop.md)";

/// Simulator of public services as complex adaptive systems: top-down control vs enablement.
#[derive(Parser, Debug)]
#[command(name = "sim", version, about, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// No progress or notes on stderr (results on stdout, warnings and errors on stderr remain).
    #[arg(long, short, global = true)]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one scenario and write timeseries.csv, summary.json, manifest.json and plots (and, with
    /// --snapshot-days, agents.parquet and agents.csv); print the headline, a `still changing`
    /// line for each key metric that drifts over the window, and a warning naming them. A run of
    /// 262,144 citizens or more uses every core (RAYON_NUM_THREADS=1 keeps it to one); the bytes
    /// are the same either way.
    #[command(after_help = EXAMPLES)]
    Run(RunArgs),
    /// Run replicates of several scenarios and compare them: ensemble.csv, summary.csv, effects.csv,
    /// plots and report.html; print a line per scenario, a headline per option (an interval end
    /// cut at what the metric can take marked `*`, and a line saying why), and a `still changing`
    /// line for each key metric that drifts over the window.
    Compare(compare::CompareArgs),
    /// Run a sweep file's design over parameters: runs.csv, runs.parquet, points.csv.
    Sweep(sweep::SweepArgs),
    /// Fit a scenario's parameters to observed figures by ABC (rejection or ABC-SMC): posterior.csv,
    /// generations.csv, ppc.csv, calibrated.toml, plots and report.html.
    Calibrate(calibrate::CalibrateArgs),
    /// Sobol or Morris sensitivity indices of a sweep file: indices.csv.
    Sensitivity(sweep::SensitivityArgs),
    /// Combine the output folders of a sharded sweep into one.
    Merge(sweep::MergeArgs),
    /// Redraw the plots and report of a finished command without re-running.
    Plot(report::PlotArgs),
    /// Check scenario, sweep and calibration files; exit 0 if all are valid, 2 with located errors otherwise.
    Validate {
        /// Scenario, sweep or calibration files (TOML); each is taken for a calibration file when it
        /// has a `[[targets]]` list, `held_out`, `series` or `method`, for a sweep file when it has
        /// `base`, `design` or `parameters`, for a scenario otherwise.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print documentation from the code's own definitions: levers, metrics, parameters, or a
    /// scenario file resolved.
    Describe(describe::DescribeArgs),
    /// Run the validation suite: every stylised fact of MODEL.md §7 and case of §9 over >= 20
    /// seeds; print the table and write patterns.csv and a plot. Exit 1 if any pattern fails.
    Patterns(patterns::PatternsArgs),
    /// Choose and justify the warm-up: the MSER-5 truncation day (White 1997) of each key metric
    /// over replicates of each scenario, against the scenario's run.warmup_days.
    Warmup(warmup::WarmupArgs),
    /// Run a sweep on a Slurm cluster as a job array of shards and a merge job: write the
    /// scripts (and with --submit, submit them); `sim slurm status DIR` follows the shards.
    Slurm(slurm::SlurmArgs),
    /// A live workshop in the browser: two or more regimes stepped together on one seed, drawn as
    /// the days pass, steered by the facilitator (/) and by participants who each take a team
    /// (/join); the session exports as scenario files that `sim run` replays bit for bit.
    Serve(serve::ServeArgs),
}

#[derive(clap::Args, Debug, Default)]
struct RunArgs {
    /// Scenario file (TOML); the built-in default when omitted.
    scenario: Option<PathBuf>,
    /// Seed of the run (overrides run.seed); any whole number from 0 to 18446744073709551615.
    #[arg(long)]
    seed: Option<u64>,
    /// Days to simulate (overrides run.days).
    #[arg(long)]
    days: Option<u32>,
    /// Override one parameter by its path, e.g. governance.discretion=0.5 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Output folder: new, empty, or an earlier sim output (replaced as a whole).
    #[arg(long, default_value = "sim-out/run")]
    out: PathBuf,
    /// How the result lines on stdout are printed.
    #[arg(long, value_enum, default_value_t)]
    format: ui::Format,
    /// Also write every citizen and worker in post after these many days (0 to the run's days)
    /// to agents.parquet and agents.csv, e.g. 365,730.
    #[arg(long, value_name = "DAY,...", value_delimiter = ',')]
    snapshot_days: Vec<u32>,
}

/// What went wrong, and which exit code it gets.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Input(#[from] ScenarioError),
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Failed(String),
    /// Work that is not finished yet, none of it failed (exit 3).
    #[error("{0}")]
    Unfinished(String),
}

impl CliError {
    /// The process exit code of this error.
    fn code(&self) -> u8 {
        match self {
            CliError::Input(_) | CliError::BadInput(_) => 2,
            CliError::Failed(_) => 1,
            CliError::Unfinished(_) => 3,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    ui::set_quiet(cli.quiet);
    signals::install();
    let command_line: Vec<String> = std::env::args().collect();
    let result = match cli.command {
        None => compare::builtin(&command_line),
        Some(Command::Run(args)) => run(args, &command_line),
        Some(Command::Validate { files }) => validate(&files),
        Some(Command::Compare(args)) => compare::compare(args, &command_line),
        Some(Command::Sweep(args)) => sweep::sweep(args, &command_line),
        Some(Command::Calibrate(args)) => calibrate::calibrate(args, &command_line),
        Some(Command::Sensitivity(args)) => sweep::sensitivity(args, &command_line),
        Some(Command::Merge(args)) => sweep::merge(args, &command_line),
        Some(Command::Plot(args)) => report::plot(args),
        Some(Command::Describe(args)) => describe::describe(args),
        Some(Command::Patterns(args)) => patterns::patterns(args, &command_line),
        Some(Command::Warmup(args)) => warmup::warmup(args),
        Some(Command::Slurm(args)) => slurm::slurm(args),
        Some(Command::Serve(args)) => serve::serve(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            match &e {
                // Not an error: the state of work still going on.
                CliError::Unfinished(m) => eprintln!("{m}"),
                _ => eprintln!("error: {e}"),
            }
            ExitCode::from(e.code())
        }
    }
}

pub fn load(path: Option<&PathBuf>, set: &[String]) -> Result<Scenario, CliError> {
    let overrides = set.iter().map(|s| Override::parse(s)).collect::<Result<Vec<_>, _>>()?;
    Ok(match path {
        Some(p) => Scenario::from_file(p, &overrides)?,
        None => Scenario::builtin(&overrides)?,
    })
}

fn run(args: RunArgs, command_line: &[String]) -> Result<(), CliError> {
    let started = SystemTime::now();
    let clock = Instant::now();
    // --days and --seed are overrides like --set, applied before validation.
    let mut set = args.set.clone();
    if let Some(days) = args.days {
        set.push(format!("run.days={days}"));
    }
    if let Some(seed) = args.seed {
        set.push(format!("run.seed={seed}"));
    }
    let scenario = match load(args.scenario.as_ref(), &set) {
        Err(CliError::Input(e)) if args.days.is_some() && matches!(e.field(), Some("run.days" | "run.warmup_days")) => {
            return Err(CliError::BadInput(format!("--days {}: {e}", args.days.unwrap_or_default())));
        }
        other => other?,
    };
    warn_events_outside(&scenario);
    let mut snapshot_days = args.snapshot_days.clone();
    snapshot_days.sort_unstable();
    snapshot_days.dedup();
    if let Some(late) = snapshot_days.iter().find(|&&d| d > scenario.run.days) {
        return Err(CliError::BadInput(format!(
            "--snapshot-days {late}: after the run's last day; snapshot days go from 0 (the start) to {} (the end)",
            scenario.run.days
        )));
    }
    let inputs: Vec<&std::path::Path> = args.scenario.iter().map(PathBuf::as_path).collect();
    let dest = output::OutDir::prepare(&args.out, &inputs)?;
    let seed = scenario.run.seed;
    let mut sim = Simulation::new(&scenario, seed);
    warn_unknown_teams(&sim);
    let snapshots: Vec<_> = snapshot_days
        .iter()
        .map(|&day| {
            sim.run_until(day);
            sim.agents()
        })
        .collect();
    let out = sim.finish();
    let manifest = output::Manifest {
        sim_version: env!("CARGO_PKG_VERSION"),
        git_commit: option_env!("SIM_GIT_COMMIT").filter(|c| !c.is_empty()),
        command: "run",
        command_line: command_line.to_vec(),
        scenario_file: args.scenario.as_ref().map(|p| p.display().to_string()),
        scenario_hash: scenario.content_hash(),
        seeds: vec![seed],
        parameters: &scenario,
        start_time: humantime::format_rfc3339_seconds(started).to_string(),
        wall_time_seconds: clock.elapsed().as_secs_f64(),
    };
    let steady = sim_core::steady::steady_state(&out.series, out.summary.window_start_day);
    let written = run_files::write_run(&dest, &scenario, seed, &out, &steady, &manifest, &snapshots)?;
    let s = &out.summary;
    crate::words::set_currency(&scenario.money.currency_symbol);
    let show = |m: Metric| crate::words::value(m, s.get(m.name()).unwrap_or(f64::NAN));
    ui::result(
        args.format,
        &format!(
            "{}: {} days, seed {seed}; failure demand {}, true resolution {}, gaming gap {}, cost per resolved need {}",
            scenario.name,
            scenario.run.days,
            show(Metric::FailureDemandShare),
            show(Metric::TrueResolutionRate),
            show(Metric::GamingGap),
            show(Metric::CostPerResolvedNeed),
        ),
        serde_json::json!({
            "kind": "summary",
            "command": "run",
            "scenario": scenario.name,
            "days": scenario.run.days,
            "seed": seed,
            "metrics": s.metrics.iter().map(|(k, v)| (k.to_string(), ui::num(*v))).collect::<serde_json::Map<_, _>>(),
        }),
    );
    // What is still changing, in words, as `sim compare` says it: one result line a metric, then
    // one warning naming them all.
    let mut drifting: Vec<&str> = Vec::new();
    for (name, st) in steady.metrics.iter().filter(|(_, st)| st.significant_trend) {
        drifting.push(name);
        let years: Vec<f64> = st.years.iter().map(|y| y.mean.unwrap_or(f64::NAN)).collect();
        let Some(d) = Metric::from_name(name).and_then(|m| crate::words::drift(m, &years)) else { continue };
        let line = crate::words::still_changing_line(&scenario.name, &d);
        ui::result(
            args.format,
            &line,
            serde_json::json!({"kind": "still_changing", "command": "run", "scenario": scenario.name, "metric": name, "text": line}),
        );
    }
    let slopes = "the yearly means and slopes (95% CI over the years of this run) are in summary.json's steady_state";
    if let Some(w) = crate::words::still_changing_warning(&scenario.name, &drifting, slopes) {
        eprintln!("{w}");
    }
    ui::wrote(args.format, "run", dest.shown(), &written.files);
    written.check_plots(&dest)
}

/// Events on or after the last day never happen; that is allowed only when the horizon was
/// shortened by `--days`, `--set run.days` or a sweep's `days` (the file itself must not schedule
/// them, see `Scenario::from_toml_str`), and said on stderr.
pub fn warn_events_outside(scenario: &Scenario) {
    let late = scenario.events.iter().filter(|e| e.day() >= scenario.run.days).count();
    if late > 0 {
        eprintln!("warning: {late} scheduled event(s) fall on or after day {} and do not happen in this shortened run", scenario.run.days);
    }
}

/// A team's lever event naming a team the service does not start with does nothing unless a
/// reform before it adds teams; said on stderr.
fn warn_unknown_teams(sim: &Simulation) {
    let teams = sim.teams().len();
    for e in &sim.scenario().events {
        if let sim_core::scenario::Event::Lever { day, lever, team: Some(t), .. } = e
            && *t as usize >= teams
        {
            eprintln!(
                "warning: the `{lever}` event of day {day} is for team {t}, but the service starts with {teams} teams (0 to {}); it does nothing unless a reform before it adds teams",
                teams.saturating_sub(1)
            );
        }
    }
}

/// The kinds of file `sim validate` reads, and why it took a file for one.
fn file_kind(path: &std::path::Path) -> (&'static str, &'static str) {
    let table = std::fs::read(path).ok().and_then(|b| String::from_utf8(b).ok()).and_then(|t| toml::from_str::<toml::Table>(&t).ok());
    match table {
        // A scenario has a `[targets]` table (target pressure); a calibration file a `[[targets]]` list.
        Some(t)
            if ["held_out", "series", "method"].iter().any(|k| t.contains_key(*k))
                || t.get("targets").is_some_and(toml::Value::is_array) =>
        {
            ("calibration", "taken for a calibration file: it has a top-level `[[targets]]` list, `held_out`, `series` or `method`")
        }
        Some(t) if ["base", "design", "parameters"].iter().any(|k| t.contains_key(*k)) => {
            ("sweep", "taken for a sweep file: it has a top-level `base`, `design` or `parameters`")
        }
        _ => ("scenario", "taken for a scenario file"),
    }
}

fn validate(files: &[PathBuf]) -> Result<(), CliError> {
    let mut bad = 0;
    for f in files {
        let (kind, why) = file_kind(f);
        let result = if kind == "calibration" {
            sim_core::experiment::calibrate::Calibration::from_file(f)
                .map(|c| {
                    format!(
                        "calibration {}: {} parameters, {} targets ({} held out); base {}",
                        c.name,
                        c.parameters.len(),
                        c.targets.len(),
                        c.targets.iter().filter(|t| t.held_out).count(),
                        c.base_file.display()
                    )
                })
                .map_err(|e| e.to_string())
        } else if kind == "sweep" {
            sim_core::experiment::sweep::Sweep::from_file(f)
                .map(|s| {
                    format!(
                        "sweep {}: design {}, {} points x {} replicates = {} runs; base {}",
                        s.name,
                        s.design.kind.name(),
                        s.points.len(),
                        s.replicates,
                        s.runs(),
                        s.base_file.display()
                    )
                })
                .map_err(|e| e.to_string())
        } else {
            Scenario::from_file(f, &[]).map(|s| format!("scenario {}", s.name)).map_err(|e| e.to_string())
        };
        match result {
            Ok(what) => println!("ok: {} ({what})", f.display()),
            Err(e) => {
                eprintln!("error: {e}\n  ({why})");
                bad += 1;
            }
        }
    }
    if bad > 0 { Err(CliError::BadInput(format!("{bad} of {} files are invalid", files.len()))) } else { Ok(()) }
}
