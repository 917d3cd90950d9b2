//! `sim compare`: replicates of several scenarios with common random numbers (replicate r of every
//! scenario uses the same seed), reduced to ensemble.csv, summary.csv and effects.csv. With no
//! arguments `sim` runs the built-in comparison of the top-down and enablement presets.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use sim_core::experiment::ensemble::{Ensemble, effects};
use sim_core::metrics::Metric;
use sim_core::model::{RunOutput, run};
use sim_core::rng::run_seed;
use sim_core::scenario::{Override, Scenario};
use sim_core::steady::{SteadyState, pooled, steady_state};

use crate::CliError;
use crate::output::{OutDir, Written, number};
use crate::ui::num;
use serde_json::json;

const EXAMPLES: &str = "\
Examples:
  sim compare scenarios/top-down.toml scenarios/enablement.toml
  sim compare scenarios/*.toml --replicates 50 --days 1095 --out out/reforms
  sim compare a.toml b.toml --set workforce.frontline_staff=100   (applied to every scenario)";

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
    /// Output folder: new, empty, or an earlier sim output (replaced as a whole).
    #[arg(long, default_value = "sim-out/compare")]
    pub out: PathBuf,
    /// How the result lines on stdout are printed.
    #[arg(long, value_enum, default_value_t)]
    pub format: crate::ui::Format,
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
    /// Seed of replicate r, the same in every scenario.
    seeds: Vec<u64>,
    scenarios: Vec<ScenarioRecord<'a>>,
    start_time: String,
    wall_time_seconds: f64,
}

pub fn compare(args: CompareArgs, command_line: &[String]) -> Result<(), CliError> {
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
    let inputs: Vec<&Path> = args.scenarios.iter().map(PathBuf::as_path).collect();
    let dest = OutDir::prepare(&args.out, &inputs)?;
    execute(named, args.replicates, args.seed, &dest, args.format, command_line)
}

/// The built-in comparison: the top-down and enablement presets on the default scenario.
pub fn builtin(command_line: &[String]) -> Result<(), CliError> {
    let preset = |p: &str, name: &str| -> Result<Scenario, CliError> {
        let o = [Override::parse(&format!("governance.preset={p}"))?, Override::parse(&format!("name={name}"))?];
        Ok(Scenario::builtin(&o)?)
    };
    let named = vec![(None, preset("top_down", "top-down")?), (None, preset("enablement", "enablement")?)];
    let dest = OutDir::prepare(Path::new("sim-out/compare"), &[])?;
    execute(named, 20, 1, &dest, crate::ui::Format::Text, command_line)
}

fn execute(
    mut named: Vec<(Option<PathBuf>, Scenario)>,
    replicates: u32,
    master: u64,
    out: &OutDir,
    format: crate::ui::Format,
    command_line: &[String],
) -> Result<(), CliError> {
    let started = SystemTime::now();
    let clock = Instant::now();
    // Names label every output row; make them unique.
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for (_, s) in &mut named {
        let count = seen.entry(s.name.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            s.name = format!("{}-{}", s.name, count);
        }
    }
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
    let (ensembles, steady): (Vec<Ensemble>, Vec<SteadyState>) = named
        .iter()
        .map(|(_, s)| {
            let runs: Vec<RunOutput> = seeds
                .par_iter()
                .map(|&seed| {
                    let r = run(s, seed);
                    bar.inc(1);
                    r
                })
                .collect();
            let steady: Vec<SteadyState> = runs.iter().map(|r| steady_state(&r.series, r.summary.window_start_day)).collect();
            (Ensemble::from_runs(&s.name, &runs), pooled(&steady))
        })
        .unzip();
    bar.finish_and_clear();

    let manifest = CompareManifest {
        sim_version: env!("CARGO_PKG_VERSION"),
        git_commit: option_env!("SIM_GIT_COMMIT").filter(|c| !c.is_empty()),
        command: "compare",
        command_line: command_line.to_vec(),
        master_seed: master,
        replicates,
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
        start_time: humantime::format_rfc3339_seconds(started).to_string(),
        wall_time_seconds: clock.elapsed().as_secs_f64(),
    };
    let written = write(out, &ensembles, &manifest)?;

    for e in &ensembles {
        let f = |m: Metric| e.summary(m);
        let (fd, tr, cost) = (f(Metric::FailureDemandShare), f(Metric::TrueResolutionRate), f(Metric::CostPerResolvedNeed));
        let est = |x: &sim_core::experiment::ensemble::Estimate| json!({"mean": num(x.mean), "ci_low": num(x.ci_low), "ci_high": num(x.ci_high), "n": x.n});
        crate::ui::result(
            format,
            &format!(
                "{:<16} failure demand {:5.1}% [{:.1}, {:.1}]  true resolution {:5.1}%  cost per resolved need {:7.0} [{:.0}, {:.0}]",
                e.scenario,
                100.0 * fd.mean,
                100.0 * fd.ci_low,
                100.0 * fd.ci_high,
                100.0 * tr.mean,
                cost.mean,
                cost.ci_low,
                cost.ci_high
            ),
            json!({
                "kind": "summary",
                "command": "compare",
                "scenario": e.scenario,
                "replicates": replicates,
                "metrics": Metric::ALL.iter().map(|&m| (m.name().to_string(), est(&f(m)))).collect::<serde_json::Map<_, _>>(),
            }),
        );
    }
    for (e, st) in ensembles.iter().zip(&steady) {
        for (metric, m) in &st.metrics {
            if let Some(w) = m.warning(metric) {
                eprintln!("warning: {}: still changing: {w} (mean over {replicates} replicates)", e.scenario);
            }
        }
    }
    crate::ui::wrote(format, "compare", out.shown(), &written.files);
    written.check_plots(out)
}

fn write(out: &OutDir, ensembles: &[Ensemble], manifest: &CompareManifest) -> Result<Written, CliError> {
    let staging = out.staging()?;
    write_tables(staging.path(), ensembles, manifest).map_err(|e| out.failed(e))?;
    // Plots and report.html, drawn from the files just written.
    let plots = crate::report::draw_into(staging.path(), "compare", true);
    staging.commit(plots)
}

fn write_tables(dir: &Path, ensembles: &[Ensemble], manifest: &CompareManifest) -> io::Result<()> {
    let mut w = csv::Writer::from_path(dir.join("ensemble.csv"))?;
    w.write_record(["scenario", "day", "metric", "mean", "ci_low", "ci_high"])?;
    for e in ensembles {
        for (mi, m) in Metric::ALL.iter().enumerate() {
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
        }
    }
    w.flush()?;
    let mut w = csv::Writer::from_path(dir.join("summary.csv"))?;
    w.write_record(["scenario", "metric", "mean", "ci_low", "ci_high", "n"])?;
    for e in ensembles {
        for &m in Metric::ALL {
            let est = e.summary(m);
            w.write_record([
                e.scenario.as_str(),
                m.name(),
                &number(est.mean),
                &number(est.ci_low),
                &number(est.ci_high),
                &est.n.to_string(),
            ])?;
        }
    }
    w.flush()?;
    let mut w = csv::Writer::from_path(dir.join("effects.csv"))?;
    w.write_record(["scenario_a", "scenario_b", "metric", "difference", "ci_low", "ci_high", "effect_size", "n"])?;
    for i in 0..ensembles.len() {
        for j in i + 1..ensembles.len() {
            for e in effects(&ensembles[i], &ensembles[j]) {
                w.write_record([
                    &e.scenario_a,
                    &e.scenario_b,
                    e.metric,
                    &number(e.difference),
                    &number(e.ci_low),
                    &number(e.ci_high),
                    &number(e.effect_size),
                    &e.n.to_string(),
                ])?;
            }
        }
    }
    w.flush()?;
    crate::output::write_json(&dir.join("manifest.json"), manifest)
}
