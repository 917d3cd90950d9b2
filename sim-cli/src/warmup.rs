//! `sim warmup`: choose and justify the warm-up with MSER-5 (White 1997; sim_core::steady). Runs
//! replicates of each scenario (replicate r of every scenario with the seed run_seed(seed, 0, r),
//! as `sim compare`), finds the MSER-5 truncation day of each key metric's daily series from day
//! 0, and prints per scenario and metric the mean, minimum and maximum over replicates, then the
//! warm-up each replicate needs (the largest truncation over the key metrics) and how often the
//! scenario's own `run.warmup_days` covers it. Writes nothing: the table goes to stdout, progress
//! and the verdict to stderr.

use std::path::PathBuf;

use rayon::prelude::*;
use sim_core::metrics::Metric;
use sim_core::rng::run_seed;
use sim_core::simulation::run;
use sim_core::steady::{KEY_METRICS, mser5};

use crate::CliError;
use crate::describe::{Format, Table};

const EXAMPLES: &str = "\
Examples:
  sim warmup scenarios/top-down.toml scenarios/enablement.toml
                                        10 replicates each, the MSER-5 truncation day per key metric
  sim warmup scenarios/enablement.toml --replicates 20 --days 3650 --format markdown
  sim warmup scenarios/surge.toml --set governance.preset=enablement --format csv

The key metrics are failure_demand_share, true_resolution_rate, cost_per_resolved_need,
wait_mean_days, burnout_mean and backlog. MSER-5 (White 1997) cuts each daily series into
batches of 5 days and picks the truncation, within the first half of the run, that minimises the
marginal standard error of the mean of what is kept. A truncation near half the horizon means the
series is still drifting: run longer before trusting any warm-up.";

#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct WarmupArgs {
    /// Scenario files (TOML), one or more.
    #[arg(required = true, num_args = 1..)]
    scenarios: Vec<PathBuf>,
    /// Replicates per scenario (2 to 10,000).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..=10_000))]
    replicates: u32,
    /// Master seed; replicate r runs with the seed derived from (seed, 0, r).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Days to simulate (overrides run.days of every scenario).
    #[arg(long)]
    days: Option<u32>,
    /// Override one parameter in every scenario, e.g. workforce.frontline_staff=100 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Table format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Mean, minimum and maximum of whole days.
fn describe(days: &[u32]) -> [String; 3] {
    if days.is_empty() {
        return ["NaN".into(), "NaN".into(), "NaN".into()];
    }
    let mean = days.iter().map(|&d| d as f64).sum::<f64>() / days.len() as f64;
    [format!("{mean:.0}"), days.iter().min().unwrap().to_string(), days.iter().max().unwrap().to_string()]
}

pub fn warmup(args: WarmupArgs) -> Result<(), CliError> {
    let mut set = args.set.clone();
    if let Some(days) = args.days {
        set.push(format!("run.days={days}"));
    }
    let scenarios = args.scenarios.iter().map(|p| crate::load(Some(p), &set)).collect::<Result<Vec<_>, _>>()?;
    let seeds: Vec<u64> = (0..args.replicates as u64).map(|r| run_seed(args.seed, 0, r)).collect();
    let mut table = Table::new(&[
        "scenario",
        "metric",
        "truncation_day_mean",
        "truncation_day_min",
        "truncation_day_max",
        "replicates",
        "warmup_days",
        "horizon_days",
    ]);
    for (k, s) in scenarios.iter().enumerate() {
        crate::note!("[{}/{}] {}: {} replicates of {} days ...", k + 1, scenarios.len(), s.name, seeds.len(), s.run.days);
        // cuts[replicate][metric]: the MSER-5 truncation day (None: series undefined or too short).
        let cuts: Vec<Vec<Option<u32>>> = seeds
            .par_iter()
            .map(|&seed| {
                let out = run(s, seed);
                KEY_METRICS.iter().map(|&m| mser5(out.series.get(m)).map(|d| d as u32)).collect()
            })
            .collect();
        let row = |metric: &str, days: &[u32]| {
            let [mean, min, max] = describe(days);
            vec![
                s.name.clone(),
                metric.to_string(),
                mean,
                min,
                max,
                days.len().to_string(),
                s.run.warmup_days.to_string(),
                s.run.days.to_string(),
            ]
        };
        for (j, m) in KEY_METRICS.iter().enumerate() {
            let days: Vec<u32> = cuts.iter().filter_map(|c| c[j]).collect();
            table.push(row(m.name(), &days));
        }
        let worst: Vec<u32> = cuts.iter().filter_map(|c| c.iter().flatten().max().copied()).collect();
        table.push(row("max over key metrics", &worst));
        let covered = worst.iter().filter(|&&d| d <= s.run.warmup_days).count();
        let (arg, which) = cuts
            .iter()
            .flat_map(|c| c.iter().enumerate().filter_map(|(j, d)| d.map(|d| (d, j))))
            .max()
            .map(|(d, j)| (d, KEY_METRICS[j]))
            .unwrap_or((0, Metric::Backlog));
        crate::note!(
            "{}: the warm-up of {} days covers the MSER-5 truncation of every key metric in {covered} of {} replicates; the longest truncation is {arg} days ({}){}",
            s.name,
            s.run.warmup_days,
            worst.len(),
            which.name(),
            if arg as f64 >= 0.45 * s.run.days as f64 { ", near half the horizon: that series is still drifting" } else { "" }
        );
    }
    print!("{}", table.render(args.format));
    Ok(())
}
