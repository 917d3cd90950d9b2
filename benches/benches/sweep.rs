//! Sweep throughput: the shipped scenarios/sweeps/random.toml design (16 points of the
//! 5,000-citizen, 400-day small base) widened to 50 points x 2 replicates = 100 runs, run through
//! `run_ordered` (one rayon task per run, results in run order, as `sim sweep` does without the
//! files) on a local pool of 1 and of 2 threads. The ratio of the two is the parallel speed-up
//! reported in docs/performance.md ("Sweeps"; target >= 1.8x on 2 cores).
//!
//! The workshop what-if of issue 23: scenarios/top-down.toml and scenarios/enablement.toml, 4
//! replicates each, three years (1095 days), as `sim compare --replicates 4 --days 1095` runs them
//! (each scenario's replicates in parallel, then the next scenario's) without its figures and
//! report; goal under 1 s on two cores.
//!
//! Run with `cargo bench -p sim-benches --bench sweep`.

use std::path::Path;

use divan::{Bencher, black_box};
use rayon::prelude::*;
use sim_core::experiment::sweep::{Panicked, Planner, Sweep, run_ordered};
use sim_core::model;
use sim_core::rng::run_seed;
use sim_core::scenario::{Override, Scenario};

/// The allocator `sim` uses (large arrays on huge pages), so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: sim_core::alloc::HugePageAlloc = sim_core::alloc::HugePageAlloc;

fn main() {
    divan::main();
}

/// The shipped random sweep with 50 samples (the file says 16): 100 runs.
fn sweep() -> Sweep {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/sweeps/random.toml"));
    let text = std::fs::read_to_string(path).expect("scenarios/sweeps/random.toml");
    let text = text.replace("samples = 16", "samples = 50");
    let sweep = Sweep::from_toml_str(&text, path).expect("a valid sweep");
    assert_eq!(sweep.runs(), 100);
    sweep
}

#[divan::bench(args = [1, 2], sample_count = 5, sample_size = 1)]
fn sweep_100_runs(bencher: Bencher, threads: usize) {
    let sweep = sweep();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool");
    bencher.bench_local(|| {
        let mut planner = Planner::new(&sweep, None);
        let round = planner.next_round().expect("one round");
        let mut sum = 0.0;
        let result: Result<(), Panicked> = run_ordered(
            Some(&pool),
            round.runs(),
            4 * threads,
            |run| {
                let scenario = sweep.scenario_for(&sweep.points[run.point]).expect("validated points");
                sim_core::simulation::run(&scenario, run.seed).summary.get("backlog").unwrap_or(f64::NAN)
            },
            |_, backlog| {
                sum += backlog;
                Ok(())
            },
        );
        result.expect("no run panics");
        black_box(sum)
    });
}

/// Two regimes x 4 replicates x 3 years at 40,000 citizens on a pool of `threads`, seeds as
/// `sim compare --seed 1` derives them, each seed's population shared as `sim compare` shares it
/// (the regimes one after the other: `sim compare` also runs them side by side).
#[divan::bench(args = [1, 2], sample_count = 5, sample_size = 1)]
fn workshop_what_if(bencher: Bencher, threads: usize) {
    let days = [Override::parse("run.days=1095").expect("a valid override")];
    let scenarios: Vec<Scenario> = ["top-down.toml", "enablement.toml"]
        .iter()
        .map(|f| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(f);
            Scenario::from_file(&path, &days).expect("a shipped scenario")
        })
        .collect();
    assert!(scenarios.iter().all(|s| s.population.citizens == 40_000 && s.run.days == 1095));
    let seeds: Vec<u64> = (0..4).map(|r| run_seed(1, 0, r)).collect();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool");
    assert_eq!(scenarios[0].population, scenarios[1].population);
    bencher.bench_local(|| {
        pool.install(|| {
            // As `sim compare` does: each seed's population built once, shared by both regimes.
            let populations: Vec<model::Population> =
                seeds.par_iter().map(|&seed| model::Population::new(&scenarios[0].population, seed)).collect();
            let backlogs: Vec<Vec<f64>> = scenarios
                .iter()
                .map(|s| {
                    seeds
                        .par_iter()
                        .zip(&populations)
                        .map(|(&seed, p)| sim_core::simulation::run_on(s, seed, p.clone()).summary.get("backlog").unwrap_or(f64::NAN))
                        .collect()
                })
                .collect();
            black_box(backlogs)
        })
    });
}
