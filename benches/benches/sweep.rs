//! Sweep throughput: the shipped scenarios/sweeps/random.toml design (16 points of the
//! 5,000-citizen, 400-day small base) widened to 50 points x 2 replicates = 100 runs, run through
//! `run_ordered` (one rayon task per run, results in run order, as `sim sweep` does without the
//! files) on a local pool of 1 and of 2 threads. The ratio of the two is the parallel speed-up
//! reported in docs/performance.md ("Sweeps"; target >= 1.8x on 2 cores).
//!
//! Run with `cargo bench -p sim-benches --bench sweep`.

use std::path::Path;

use divan::{Bencher, black_box};
use sim_core::experiment::sweep::{Panicked, Planner, Sweep, run_ordered};
use sim_core::model;

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
                model::run(&scenario, run.seed).summary.get("backlog").unwrap_or(f64::NAN)
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
