//! `sim compare`: replicates of several scenarios with common random numbers (replicate r of every
//! scenario uses the same seed), reduced to ensemble.csv, summary.csv (the whole window and each
//! year of it), effects.csv (every option minus the baseline), trends.csv (does a metric still
//! drift over the window?) and replicates.csv/.parquet (every replicate's summary). With no
//! arguments `sim` runs the built-in comparison of the top-down and enablement presets.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use sim_core::experiment::ensemble::{Effect, Ensemble, Estimate, effects};
use sim_core::metrics::{Metric, RunSummary};
use sim_core::model::{Population, RunOutput};
use sim_core::rng::run_seed;
use sim_core::scenario::{Override, Scenario};
use sim_core::simulation::{run, run_on};
use sim_core::steady::{SteadyState, pooled, steady_state, summary_between, years};

use crate::CliError;
use crate::output::{OutDir, Written, number};
use crate::ui::num;
use crate::words::{self, Change, MIN_RELIABLE_REPLICATES};
use serde_json::json;

const EXAMPLES: &str = "\
Examples:
  sim compare scenarios/top-down.toml scenarios/enablement.toml
  sim compare scenarios/*.toml --replicates 50 --days 1095 --out out/reforms
  sim compare a.toml b.toml --set workforce.frontline_staff=100   (applied to every scenario)
  sim compare top-down.toml reform.toml enablement.toml --baseline reform
  sim compare a.toml b.toml --posterior out/cal/posterior.csv --replicates 40 --seeds-per-draw 2
                                        (parameters drawn from a calibration's posterior)";

#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct CompareArgs {
    /// Scenario files (TOML), two or more; names in outputs come from each file's `name`.
    #[arg(required = true, num_args = 1..)]
    pub scenarios: Vec<PathBuf>,
    /// Replicates per scenario.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(2..=100_000))]
    pub replicates: u32,
    /// Master seed; replicate r runs with the seed derived from (seed, 0, r) in every scenario.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Days to simulate (overrides run.days of every scenario).
    #[arg(long)]
    pub days: Option<u32>,
    /// Override one parameter in every scenario, e.g. workforce.frontline_staff=100 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// The scenario (by its name) every other is compared against: effects are option minus
    /// baseline. Default: the first scenario.
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// Output folder: new, empty, or an earlier sim output (replaced as a whole).
    #[arg(long, default_value = "sim-out/compare")]
    pub out: PathBuf,
    /// How the result lines on stdout are printed.
    #[arg(long, value_enum, default_value_t)]
    pub format: crate::ui::Format,
    /// How the figures are drawn: `screen`, or `projector` (large type, thick lines, two panels
    /// a row) for a room.
    #[arg(long, value_enum, default_value_t)]
    pub style: crate::plots::style::PlotStyle,
    /// A posterior.csv of `sim calibrate`: each draw of replicates takes one particle (by weight)
    /// and sets its parameters in every scenario; uncertainty.csv says which share of each
    /// effect's variance comes from the parameters and which from run-to-run noise.
    #[arg(long, value_name = "FILE")]
    pub posterior: Option<PathBuf>,
    /// With --posterior: replicates (seeds) per posterior draw, at least 2 so run-to-run noise can
    /// be told from parameter uncertainty; --replicates must be a multiple of it.
    #[arg(long, default_value_t = 2, requires = "posterior", value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub seeds_per_draw: u32,
}

/// Scenarios with parameters drawn from a posterior: `variants[scenario][draw]`.
struct Draws {
    post: crate::compare_posterior::Posterior,
    k: usize,
    particles: Vec<usize>,
    variants: Vec<Vec<Scenario>>,
}

/// One compared scenario as the manifest records it.
#[derive(Serialize)]
struct ScenarioRecord<'a> {
    name: &'a str,
    file: Option<String>,
    scenario_hash: String,
    parameters: &'a Scenario,
}

#[derive(Serialize)]
struct CompareManifest<'a> {
    sim_version: &'static str,
    git_commit: Option<&'static str>,
    command: &'static str,
    command_line: Vec<String>,
    master_seed: u64,
    replicates: u32,
    /// The scenario every other is compared against.
    baseline: &'a str,
    /// Seed of replicate r, the same in every scenario.
    seeds: Vec<u64>,
    scenarios: Vec<ScenarioRecord<'a>>,
    /// The posterior.csv whose particles set the parameters (`sim compare --posterior`).
    #[serde(skip_serializing_if = "Option::is_none")]
    posterior: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seeds_per_draw: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    posterior_parameters: Option<&'a [String]>,
    start_time: String,
    wall_time_seconds: f64,
}

pub fn compare(args: CompareArgs, command_line: &[String]) -> Result<(), CliError> {
    crate::plots::style::set_plot_style(args.style);
    let mut set = args.set.clone();
    if let Some(days) = args.days {
        set.push(format!("run.days={days}"));
    }
    let mut named = Vec::new();
    for path in &args.scenarios {
        let s = crate::load(Some(path), &set)?;
        named.push((Some(path.clone()), s));
    }
    if named.len() < 2 {
        return Err(CliError::BadInput("compare needs at least two scenarios".into()));
    }
    unique_names(&mut named);
    let baseline = match &args.baseline {
        None => 0,
        Some(b) => named.iter().position(|(_, s)| &s.name == b).ok_or_else(|| {
            let names: Vec<&str> = named.iter().map(|(_, s)| s.name.as_str()).collect();
            CliError::BadInput(format!("--baseline `{b}` is none of the compared scenarios; their names are: {}", names.join(", ")))
        })?,
    };
    let draws = match &args.posterior {
        None => None,
        Some(p) => {
            let post = crate::compare_posterior::Posterior::read(p)?;
            let k = args.seeds_per_draw as usize;
            if !(args.replicates as usize).is_multiple_of(k) {
                return Err(CliError::BadInput(format!(
                    "--replicates {} is not a multiple of --seeds-per-draw {k}; each posterior draw runs {k} seeds",
                    args.replicates
                )));
            }
            let particles: Vec<usize> = (0..(args.replicates as usize / k) as u64).map(|d| post.draw(args.seed, d)).collect();
            let mut variants = Vec::with_capacity(named.len());
            for (path, s) in &named {
                let path = path.as_ref().expect("compare's scenarios are files");
                let mut per_draw = Vec::with_capacity(particles.len());
                for (d, &i) in particles.iter().enumerate() {
                    let mut v = crate::compare_posterior::scenario_with(path, &set, &post.overrides(i)).map_err(|e| {
                        CliError::BadInput(format!("--posterior {}: particle {i} (draw {d}) in {}: {e}", post.file, path.display()))
                    })?;
                    v.name = s.name.clone();
                    per_draw.push(v);
                }
                variants.push(per_draw);
            }
            Some(Draws { post, k, particles, variants })
        }
    };
    let mut inputs: Vec<&Path> = args.scenarios.iter().map(PathBuf::as_path).collect();
    if let Some(p) = &args.posterior {
        inputs.push(p.as_path());
    }
    let dest = OutDir::prepare(&args.out, &inputs)?;
    execute(named, baseline, args.replicates, args.seed, &dest, args.format, command_line, draws)
}

/// Names label every output row; make them unique ("a", "a-2", ...).
fn unique_names(named: &mut [(Option<PathBuf>, Scenario)]) {
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for (_, s) in named.iter_mut() {
        let count = seen.entry(s.name.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            s.name = format!("{}-{}", s.name, count);
        }
    }
}

/// The built-in comparison: the top-down and enablement presets on the default scenario.
pub fn builtin(command_line: &[String]) -> Result<(), CliError> {
    let preset = |p: &str, name: &str| -> Result<Scenario, CliError> {
        let o = [Override::parse(&format!("governance.preset={p}"))?, Override::parse(&format!("name={name}"))?];
        Ok(Scenario::builtin(&o)?)
    };
    let named = vec![(None, preset("top_down", "top-down")?), (None, preset("enablement", "enablement")?)];
    let dest = OutDir::prepare(Path::new("sim-out/compare"), &[])?;
    execute(named, 0, 20, 1, &dest, crate::ui::Format::Text, command_line, None)
}

/// One scenario's replicates, reduced: the ensemble, the pooled steadiness of the key metrics and
/// each replicate's summary of every year of the window.
struct Reduced {
    ensemble: Ensemble,
    steady: SteadyState,
    /// `yearly[replicate][year]`.
    yearly: Vec<Vec<RunSummary>>,
}

impl Reduced {
    fn years(&self) -> usize {
        self.yearly.first().map(Vec::len).unwrap_or(0)
    }

    /// The estimate over replicates of `m` in year `y` (0-based).
    fn year(&self, m: Metric, y: usize) -> Estimate {
        Estimate::of_metric(m, self.yearly.iter().map(|r| r.get(y).and_then(|s| s.get(m.name())).unwrap_or(f64::NAN)))
    }
}

/// The words of a steadiness check: the drift of each key metric whose slope over the window is
/// significant across replicates.
fn drifts(r: &Reduced) -> Vec<String> {
    r.steady
        .metrics
        .iter()
        .filter(|(_, st)| st.significant_trend)
        .filter_map(|(name, _)| {
            let m = Metric::from_name(name)?;
            let years: Vec<f64> = (0..r.years()).map(|y| r.year(m, y).mean).collect();
            words::drift(m, &years)
        })
        .collect()
}

/// Most citizens times replicates whose populations are built once and kept through the runs
/// (about 100 bytes a citizen: 100 MB at this bound).
const SHARED_POPULATION_CITIZENS: usize = 1_000_000;

/// The citizens and community network of each seed, built once for every population section that
/// two or more of the scenarios share (a population depends on the section and the seed alone, and
/// every scenario runs on the same seeds), when they fit `SHARED_POPULATION_CITIZENS`: one list,
/// seed by seed, for each such section. Runs on them give the same bytes as runs that build their own.
fn shared_populations(named: &[(Option<PathBuf>, Scenario)], seeds: &[u64]) -> Vec<Vec<Population>> {
    let mut sections: Vec<&sim_core::scenario::PopulationParams> = Vec::new();
    for (i, (_, s)) in named.iter().enumerate() {
        let shared = named[i + 1..].iter().any(|(_, t)| t.population == s.population);
        if shared && !sections.contains(&&s.population) {
            sections.push(&s.population);
        }
    }
    let citizens: usize = sections.iter().map(|p| p.citizens * seeds.len()).sum();
    if citizens > SHARED_POPULATION_CITIZENS {
        return Vec::new();
    }
    sections.iter().map(|p| seeds.par_iter().map(|&seed| Population::new(p, seed)).collect()).collect()
}

fn changes(effects: &[Effect]) -> Vec<Change> {
    effects
        .iter()
        .filter_map(|e| {
            Some(Change {
                metric: Metric::from_name(e.metric)?,
                difference: e.difference,
                ci_low: e.ci_low,
                ci_high: e.ci_high,
                pct_change: e.pct_change,
                pct_ci_low: e.pct_ci_low,
                pct_ci_high: e.pct_ci_high,
                clipped_low: e.ci_low_clipped,
                clipped_high: e.ci_high_clipped,
            })
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn execute(
    named: Vec<(Option<PathBuf>, Scenario)>,
    baseline: usize,
    replicates: u32,
    master: u64,
    out: &OutDir,
    format: crate::ui::Format,
    command_line: &[String],
    draws: Option<Draws>,
) -> Result<(), CliError> {
    let started = SystemTime::now();
    let clock = Instant::now();
    words::set_currency(&named[baseline].1.money.currency_symbol);
    let seeds: Vec<u64> = (0..replicates as u64).map(|r| run_seed(master, 0, r)).collect();
    let total = (named.len() * seeds.len()) as u64;
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} runs, {per_sec}, ETA {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message("compare");
    if crate::ui::quiet() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let populations = if draws.is_none() { shared_populations(&named, &seeds) } else { Vec::new() };
    // Scenarios side by side as well as their replicates: each is reduced once its replicates
    // are in, while other scenarios' runs go on (no barrier between scenarios).
    let reduced: Vec<Reduced> = named
        .par_iter()
        .enumerate()
        .map(|(i, (_, s))| {
            let runs: Vec<RunOutput> = seeds
                .par_iter()
                .enumerate()
                .map(|(rep, &seed)| {
                    // With a posterior, replicate r runs the parameters of draw r / k.
                    let s = draws.as_ref().map_or(s, |d| &d.variants[i][rep / d.k]);
                    let shared = populations.iter().find(|p| p[rep].fits(s, seed)).map(|p| p[rep].clone());
                    let r = match shared {
                        Some(population) => run_on(s, seed, population),
                        None => run(s, seed),
                    };
                    bar.inc(1);
                    r
                })
                .collect();
            let steady: Vec<SteadyState> = runs.iter().map(|r| steady_state(&r.series, r.summary.window_start_day)).collect();
            let yearly = runs
                .iter()
                .map(|r| {
                    let end = r.series.days.last().copied().unwrap_or(0);
                    let spans = if r.series.is_empty() { Vec::new() } else { years(r.summary.window_start_day, end) };
                    spans.iter().map(|&(a, b)| summary_between(&r.series, a, b)).collect()
                })
                .collect();
            Reduced { ensemble: Ensemble::from_runs(&s.name, &runs), steady: pooled(&steady), yearly }
        })
        .collect();
    bar.finish_and_clear();

    let manifest = CompareManifest {
        sim_version: env!("CARGO_PKG_VERSION"),
        git_commit: option_env!("SIM_GIT_COMMIT").filter(|c| !c.is_empty()),
        command: "compare",
        command_line: command_line.to_vec(),
        master_seed: master,
        replicates,
        baseline: &named[baseline].1.name,
        seeds: seeds.clone(),
        scenarios: named
            .iter()
            .map(|(f, s)| ScenarioRecord {
                name: &s.name,
                file: f.as_ref().map(|p| p.display().to_string()),
                scenario_hash: s.content_hash(),
                parameters: s,
            })
            .collect(),
        posterior: draws.as_ref().map(|d| d.post.file.clone()),
        seeds_per_draw: draws.as_ref().map(|d| d.k),
        posterior_parameters: draws.as_ref().map(|d| d.post.paths.as_slice()),
        start_time: humantime::format_rfc3339_seconds(started).to_string(),
        wall_time_seconds: clock.elapsed().as_secs_f64(),
    };
    let base = &reduced[baseline].ensemble;
    let option_effects: Vec<(usize, Vec<Effect>)> =
        reduced.iter().enumerate().filter(|(i, _)| *i != baseline).map(|(i, r)| (i, effects(&r.ensemble, base))).collect();
    // With a posterior: which share of each effect's variance comes from the parameters.
    let decomposition: Vec<crate::compare_posterior::Decomposition> = match &draws {
        Some(d) => option_effects
            .iter()
            .flat_map(|(i, _)| {
                crate::compare_posterior::decompose(
                    (&reduced[*i].ensemble.scenario, &reduced[*i].ensemble.summaries),
                    (&base.scenario, &base.summaries),
                    d.k,
                )
            })
            .collect(),
        None => Vec::new(),
    };
    let extra = |dir: &Path| -> io::Result<()> {
        if let Some(d) = &draws {
            crate::compare_posterior::write_uncertainty(dir, &decomposition, d.k)?;
            crate::compare_posterior::write_draws(dir, &d.post, &d.particles, d.k)?;
        }
        Ok(())
    };
    let written = write(out, &reduced, &option_effects, &seeds, &manifest, &extra)?;

    // Per scenario: the key metrics in words.
    for r in &reduced {
        let e = &r.ensemble;
        let f = |m: Metric| e.summary(m);
        let est = |x: &Estimate| json!({"mean": num(x.mean), "ci_low": num(x.ci_low), "ci_high": num(x.ci_high), "n": x.n});
        let text: Vec<String> = [Metric::FailureDemandShare, Metric::TrueResolutionRate, Metric::CostPerResolvedNeed]
            .iter()
            .map(|&m| {
                let x = f(m);
                format!("{} {} {}", words::short_label(m), words::value(m, x.mean), words::interval(m, x.ci_low, x.ci_high))
            })
            .collect();
        crate::ui::result(
            format,
            &format!("{:<16} {}", e.scenario, text.join("; ")),
            json!({
                "kind": "summary",
                "command": "compare",
                "scenario": e.scenario,
                "replicates": replicates,
                "metrics": Metric::ALL.iter().map(|&m| (m.name().to_string(), est(&f(m)))).collect::<serde_json::Map<_, _>>(),
            }),
        );
    }
    // The headline: every option against the baseline, and what is still changing.
    for (i, effs) in &option_effects {
        let (option, base_name) = (&reduced[*i].ensemble.scenario, &base.scenario);
        let changes = changes(effs);
        let line = words::headline(option, base_name, &changes);
        crate::ui::result(
            format,
            &line,
            json!({"kind": "headline", "command": "compare", "option": option, "baseline": base_name, "text": line}),
        );
        if words::headline_clipped(&changes) {
            crate::ui::result(
                format,
                words::CLIPPED_NOTE,
                json!({"kind": "interval_note", "command": "compare", "option": option, "baseline": base_name, "text": words::CLIPPED_NOTE}),
            );
        }
    }
    for ((option, base_name), lines) in crate::compare_posterior::words(&decomposition) {
        let line = format!("{option} against {base_name}, with parameters drawn from the posterior: {}", lines.join("; "));
        crate::ui::result(
            format,
            &line,
            json!({"kind": "uncertainty", "command": "compare", "option": option, "baseline": base_name, "text": line}),
        );
    }
    for r in &reduced {
        for d in drifts(r) {
            let line = words::still_changing_line(&r.ensemble.scenario, &d);
            crate::ui::result(
                format,
                &line,
                json!({"kind": "still_changing", "command": "compare", "scenario": r.ensemble.scenario, "text": line}),
            );
        }
    }
    if (replicates as usize) < MIN_RELIABLE_REPLICATES {
        eprintln!(
            "warning: only {replicates} replicates per scenario: intervals from fewer than {MIN_RELIABLE_REPLICATES} are wide and unreliable; use --replicates 20 or more for a decision"
        );
    }
    // One warning a scenario: the drifts themselves are the result lines above.
    for r in &reduced {
        let drifting: Vec<&str> = r.steady.metrics.iter().filter(|(_, m)| m.significant_trend).map(|(name, _)| *name).collect();
        let slopes = format!("the years and slopes (95% CI over {replicates} replicates) are in trends.csv and the report");
        if let Some(w) = words::still_changing_warning(&r.ensemble.scenario, &drifting, &slopes) {
            eprintln!("{w}");
        }
    }
    crate::ui::wrote(format, "compare", out.shown(), &written.files);
    written.check_plots(out)
}

fn write(
    out: &OutDir,
    reduced: &[Reduced],
    option_effects: &[(usize, Vec<Effect>)],
    seeds: &[u64],
    manifest: &CompareManifest,
    extra: &dyn Fn(&Path) -> io::Result<()>,
) -> Result<Written, CliError> {
    let staging = out.staging()?;
    write_tables(staging.path(), reduced, option_effects, seeds, manifest).map_err(|e| out.failed(e))?;
    extra(staging.path()).map_err(|e| out.failed(e))?;
    // Plots and report.html, drawn from the files just written.
    let plots = crate::report::draw_into(staging.path(), "compare", true);
    staging.commit(plots)
}

/// The `window` of the whole summary window in summary.csv; years are `year_1`, `year_2`, ...
pub const WHOLE_WINDOW: &str = "all";

fn write_tables(
    dir: &Path,
    reduced: &[Reduced],
    option_effects: &[(usize, Vec<Effect>)],
    seeds: &[u64],
    manifest: &CompareManifest,
) -> io::Result<()> {
    let mut w = csv::Writer::from_path(dir.join("ensemble.csv"))?;
    w.write_record(["scenario", "day", "metric", "mean", "ci_low", "ci_high"])?;
    w.flush()?;
    let mut file = w.into_inner().map_err(|e| e.into_error())?;
    for e in reduced.iter().map(|r| &r.ensemble) {
        // A scenario's metrics written as text side by side, then into the file in order.
        let blocks = Metric::ALL
            .par_iter()
            .enumerate()
            .map(|(mi, m)| {
                let mut w = csv::Writer::from_writer(Vec::new());
                for (d, est) in e.daily[mi].iter().enumerate() {
                    w.write_record([
                        e.scenario.as_str(),
                        &e.days[d].to_string(),
                        m.name(),
                        &number(est.mean),
                        &number(est.ci_low),
                        &number(est.ci_high),
                    ])?;
                }
                w.into_inner().map_err(|e| e.into_error())
            })
            .collect::<io::Result<Vec<Vec<u8>>>>()?;
        for block in blocks {
            io::Write::write_all(&mut file, &block)?;
        }
    }
    io::Write::flush(&mut file)?;
    let mut w = csv::Writer::from_path(dir.join("summary.csv"))?;
    w.write_record(["scenario", "window", "metric", "mean", "ci_low", "ci_high", "n"])?;
    for r in reduced {
        let scenario = r.ensemble.scenario.as_str();
        let mut row = |window: &str, m: Metric, est: Estimate| {
            w.write_record([scenario, window, m.name(), &number(est.mean), &number(est.ci_low), &number(est.ci_high), &est.n.to_string()])
        };
        for &m in Metric::ALL {
            row(WHOLE_WINDOW, m, r.ensemble.summary(m))?;
        }
        for y in 0..r.years() {
            let window = format!("year_{}", y + 1);
            for &m in Metric::ALL {
                row(&window, m, r.year(m, y))?;
            }
        }
    }
    w.flush()?;
    let mut w = csv::Writer::from_path(dir.join("effects.csv"))?;
    w.write_record([
        "scenario_a",
        "scenario_b",
        "metric",
        "difference",
        "ci_low",
        "ci_high",
        "pct_change",
        "pct_ci_low",
        "pct_ci_high",
        "verdict",
        "effect_size",
        "n",
        "ci_low_clipped",
        "ci_high_clipped",
    ])?;
    for (_, effs) in option_effects {
        for e in effs {
            let verdict =
                Metric::from_name(e.metric).map(|m| words::Verdict::of(m, e.difference, e.ci_low, e.ci_high).word()).unwrap_or("");
            w.write_record([
                &e.scenario_a,
                &e.scenario_b,
                e.metric,
                &number(e.difference),
                &number(e.ci_low),
                &number(e.ci_high),
                &number(e.pct_change),
                &number(e.pct_ci_low),
                &number(e.pct_ci_high),
                verdict,
                &number(e.effect_size),
                &e.n.to_string(),
                &e.ci_low_clipped.to_string(),
                &e.ci_high_clipped.to_string(),
            ])?;
        }
    }
    w.flush()?;
    let mut w = csv::Writer::from_path(dir.join("trends.csv"))?;
    w.write_record([
        "scenario",
        "metric",
        "years",
        "first_year",
        "last_year",
        "slope_per_year",
        "slope_ci_low",
        "slope_ci_high",
        "still_changing",
    ])?;
    for r in reduced {
        for (name, st) in &r.steady.metrics {
            let Some(m) = Metric::from_name(name) else { continue };
            let years: Vec<f64> = (0..r.years()).map(|y| r.year(m, y).mean).collect();
            let opt = |x: Option<f64>| number(x.unwrap_or(f64::NAN));
            w.write_record([
                r.ensemble.scenario.as_str(),
                name,
                &years.len().to_string(),
                &number(years.first().copied().unwrap_or(f64::NAN)),
                &number(years.last().copied().unwrap_or(f64::NAN)),
                &opt(st.slope_per_year),
                &opt(st.slope_ci_low),
                &opt(st.slope_ci_high),
                if st.significant_trend { "true" } else { "false" },
            ])?;
        }
    }
    w.flush()?;
    write_replicates(dir, reduced, seeds)?;
    crate::output::write_json(&dir.join("manifest.json"), manifest)
}

/// replicates.csv and replicates.parquet: one row per scenario and replicate, with its seed and
/// its summary of every metric over the whole window.
fn write_replicates(dir: &Path, reduced: &[Reduced], seeds: &[u64]) -> io::Result<()> {
    use crate::sweep_tables::{Column, ColumnType, Layout};
    let csv_path = dir.join("replicates.csv");
    let mut w = csv::Writer::from_path(&csv_path)?;
    let mut header = vec!["scenario", "replicate", "seed"];
    header.extend(Metric::ALL.iter().map(|m| m.name()));
    w.write_record(&header)?;
    for r in reduced {
        for (rep, (s, seed)) in r.ensemble.summaries.iter().zip(seeds).enumerate() {
            let mut row = vec![r.ensemble.scenario.clone(), rep.to_string(), seed.to_string()];
            row.extend(Metric::ALL.iter().map(|m| number(s.get(m.name()).unwrap_or(f64::NAN))));
            w.write_record(&row)?;
        }
    }
    w.flush()?;
    drop(w);
    let kind = |i: usize| match i {
        0 => ColumnType::Utf8,
        1 | 2 => ColumnType::UInt64,
        _ => ColumnType::Float64,
    };
    let layout =
        Layout { columns: header.iter().enumerate().map(|(i, n)| Column { name: n.to_string(), kind: kind(i) }).collect(), parameters: 0 };
    crate::sweep_tables::write_parquet(&csv_path, &dir.join("replicates.parquet"), &layout).map_err(io::Error::other)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(sets: &[&str]) -> (Option<PathBuf>, Scenario) {
        let o: Vec<Override> = sets.iter().map(|s| Override::parse(s).expect("an override")).collect();
        (None, Scenario::builtin(&o).expect("a scenario"))
    }

    /// Populations are built once only for a section two scenarios share, seed by seed, and only
    /// within the bound on citizens times replicates.
    #[test]
    fn populations_are_shared_only_between_scenarios_with_the_same_section() {
        let seeds = [run_seed(1, 0, 0), run_seed(1, 0, 1), run_seed(1, 0, 2)];
        let a = scenario(&["population.citizens=2000", "governance.preset=top_down"]);
        let b = scenario(&["population.citizens=2000", "governance.preset=enablement"]);
        let c = scenario(&["population.citizens=3000"]);
        let shared = shared_populations(&[a.clone(), c.clone(), b.clone()], &seeds);
        assert_eq!(shared.len(), 1);
        assert_eq!(shared[0].len(), seeds.len());
        for (p, &seed) in shared[0].iter().zip(&seeds) {
            assert!(p.fits(&a.1, seed) && p.fits(&b.1, seed) && !p.fits(&c.1, seed));
        }
        assert!(shared_populations(&[a.clone(), c.clone()], &seeds).is_empty(), "nothing shared");
        let big = |preset: &str| scenario(&["population.citizens=400000", &format!("governance.preset={preset}")]);
        assert!(shared_populations(&[big("top_down"), big("enablement")], &seeds).is_empty(), "past the bound");
    }
}
