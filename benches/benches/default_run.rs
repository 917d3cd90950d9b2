//! Benchmarks of the default scenario: the headline figure (a whole run of 40,000 citizens over
//! five years, goal < 1 s on one core in release) and the pieces it is made of (one day's step
//! of a warmed world, the community network, the stock-and-flow layer); and of the scale target,
//! scenarios/city-1m.toml (one day's step at 200,000 and 1,000,000 citizens, and its whole year,
//! goal < 30 s on one core), and the monthly wellbeing Gini at 1 and 10 million citizens.
//!
//! Run with `cargo bench -p sim-benches`; pin to one core with
//! `taskset -c 0 cargo bench -p sim-benches` for the one-core figure (the community network is
//! built with rayon, which follows the process's CPU affinity). Recorded figures:
//! docs/performance.md.

use std::path::Path;

use divan::{Bencher, black_box};
use nalgebra::DVector;
use sim_core::model::World;
use sim_core::network::{CommunitySpec, community};
use sim_core::scenario::{Override, Scenario};
use sim_core::sd::{Integrator, StockFlow, smooth_rate};

/// Run seed used throughout: the default scenario's `run.seed`, so the run benchmarked is the run
/// `sim run` makes (checked in `default_run`).
const SEED: u64 = 1;

/// Days a world runs before the one-day step is timed: the backlog and hidden needs have built up.
const WARMUP_DAYS: u32 = 365;

/// The allocator `sim` uses (large arrays on huge pages), so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: sim_core::alloc::HugePageAlloc = sim_core::alloc::HugePageAlloc;

fn main() {
    divan::main();
}

fn default_scenario() -> Scenario {
    Scenario::builtin(&[]).expect("the built-in default scenario is valid")
}

/// (a) The headline figure: the whole default scenario (40,000 citizens, 1825 days), as
/// `sim run` does it without writing files. Few samples: each one takes about a second.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn default_run(bencher: Bencher) {
    let scenario = default_scenario();
    assert_eq!(scenario.population.citizens, 40_000);
    assert_eq!(scenario.run.days, 1825);
    assert_eq!(scenario.run.seed, SEED);
    bencher.bench_local(|| sim_core::simulation::run(black_box(&scenario), black_box(SEED)));
}

/// (b) One day's step at 40,000 citizens from a world warmed for a year (day 365, which is not a
/// weekly wellbeing day). Each sample steps a fresh clone; cloning is outside the timed part.
#[divan::bench(sample_count = 200)]
fn day_step_warmed(bencher: Bencher) {
    let scenario = default_scenario();
    let mut world = World::new(&scenario, SEED);
    for _ in 0..WARMUP_DAYS {
        world.step();
    }
    bencher.with_inputs(|| world.clone()).bench_local_refs(|w| w.step());
}

/// scenarios/city-1m.toml (1,000,000 citizens in neighbourhoods of 5,000, staff and funding 25x the
/// default), scaled down to `citizens` with the same neighbourhood size, staff and funding per
/// citizen.
fn city(citizens: usize) -> Scenario {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/city-1m.toml"));
    let scale = citizens as f64 / 1_000_000.0;
    let overrides: Vec<Override> = [
        format!("population.citizens={citizens}"),
        format!("population.neighbourhoods={}", citizens / 5_000),
        format!("workforce.frontline_staff={}", (3_000.0 * scale).round()),
        format!("money.funding_per_year={:e}", 4.5e8 * scale),
    ]
    .iter()
    .map(|o| Override::parse(o).expect("a well-formed override"))
    .collect();
    let scenario = Scenario::from_file(path, &overrides).expect("scenarios/city-1m.toml is valid");
    assert_eq!(scenario.population.citizens, citizens);
    scenario
}

/// (b') One day's step at 200,000 and 1,000,000 citizens (city-1m and its one-fifth scale), from a
/// world warmed for 365 days (day 365, as in (b)). Each sample steps a fresh clone.
#[divan::bench(args = [200_000, 1_000_000], sample_count = 20, sample_size = 1)]
fn day_step_city(bencher: Bencher, citizens: usize) {
    let scenario = city(citizens);
    let mut world = World::new(&scenario, SEED);
    for _ in 0..WARMUP_DAYS {
        world.step();
    }
    bencher.with_inputs(|| world.clone()).bench_local_refs(|w| w.step());
}

/// (e) The scale target: scenarios/city-1m.toml as `sim run` runs it without files (1,000,000
/// citizens, 365 days, the file's seed). Three samples: each takes several seconds.
#[divan::bench(sample_count = 3, sample_size = 1)]
fn city_1m_one_year(bencher: Bencher) {
    let scenario = city(1_000_000);
    assert_eq!(scenario.run.days, 365);
    let seed = scenario.run.seed;
    bencher.bench_local(|| sim_core::simulation::run(black_box(&scenario), black_box(seed)));
}

/// (f) The monthly wellbeing Gini at scale as the accounts take it (a sorted copy spread over
/// buckets, the halves and buckets side by side, then the sums): city-1m's wellbeing after 200
/// days, and the same values ten times over with a different last bit each time (region-10m's
/// size).
#[divan::bench(args = [1_000_000, 10_000_000], sample_count = 10, sample_size = 1)]
fn wellbeing_gini_at_scale(bencher: Bencher, citizens: usize) {
    use sim_core::metrics::{copy_sorted, gini_sorted};
    let scenario = city(1_000_000);
    let mut world = World::new(&scenario, SEED);
    for _ in 0..200 {
        world.step();
    }
    let one: Vec<f64> = world.citizens.wellbeing.to_vec();
    let values: Vec<f64> = (0..citizens).map(|i| f64::from_bits(one[i % one.len()].to_bits() ^ (i / one.len()) as u64)).collect();
    let mut v = Vec::new();
    bencher.bench_local(|| {
        copy_sorted(black_box(&values), &mut v, true);
        gini_sorted(&v)
    });
}

/// (c) The community network of the default scenario: 8 neighbourhoods of 5,000, k = 6,
/// rewiring 0.1, 0.05 cross links per citizen (the defaults of `CommunitySpec`).
#[divan::bench(sample_count = 30)]
fn community_network_40k(bencher: Bencher) {
    let spec = CommunitySpec::default();
    assert_eq!(spec.neighbourhood_sizes.iter().sum::<usize>(), 40_000);
    bencher.bench_local(|| community(black_box(&spec), black_box(SEED)));
}

/// (c') The community network of city-1m: 200 neighbourhoods of 5,000.
#[divan::bench(sample_count = 10)]
fn community_network_1m(bencher: Bencher) {
    let spec = CommunitySpec { neighbourhood_sizes: vec![5_000; 200], ..CommunitySpec::default() };
    bencher.bench_local(|| community(black_box(&spec), black_box(SEED)));
}

/// (d) Five years of daily RK4 steps of a two-stock system shaped like the model's own (a budget
/// with funding in and costs out, and a perceived performance smoothing an observed rate).
#[divan::bench]
fn stock_flow_rk4_1825_steps(bencher: Bencher) {
    let flows = |t: f64, x: &DVector<f64>, out: &mut DVector<f64>| {
        let cost = 1_000.0 + 100.0 * (t / 365.0).sin();
        out[0] = 1_050.0 - cost;
        out[1] = smooth_rate(0.7, x[1], 90.0);
    };
    bencher.with_inputs(|| StockFlow::from_pairs(&[("budget", 1.0e6), ("perceived_performance", 1.0)])).bench_local_refs(|stocks| {
        for _ in 0..1825 {
            stocks.step(black_box(&flows), 1.0, Integrator::Rk4);
        }
    });
}
