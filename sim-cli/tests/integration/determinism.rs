//! The determinism promise, through the binary: the same scenario and seed give byte-identical
//! timeseries.csv and summary.json, run after run and for any rayon pool size; another seed gives
//! another run.

use crate::{FAST, assert_same_file, bytes, scenario, sim_env, temp};

/// Runs `file` with `seed` into `out` (relative to `dir`) with extra environment variables.
fn run(dir: &std::path::Path, file: &str, seed: &str, out: &str, env: &[(&str, &str)]) {
    let path = scenario(file);
    let path = path.to_str().expect("a UTF-8 path");
    let mut args = vec!["run", path, "--seed", seed, "--out", out];
    args.extend(FAST);
    sim_env(dir, &args, env).assert_success();
}

fn same_seed_same_bytes(file: &str) {
    let tmp = temp();
    let d = tmp.path();
    run(d, file, "7", "a", &[]);
    run(d, file, "7", "b", &[]);
    run(d, file, "7", "one_thread", &[("RAYON_NUM_THREADS", "1")]);
    run(d, file, "7", "two_threads", &[("RAYON_NUM_THREADS", "2")]);
    run(d, file, "8", "other_seed", &[]);
    for f in ["timeseries.csv", "summary.json"] {
        assert_same_file(&d.join("a").join(f), &d.join("b").join(f), &format!("{file}: two runs with seed 7"));
        assert_same_file(&d.join("one_thread").join(f), &d.join("two_threads").join(f), &format!("{file}: RAYON_NUM_THREADS=1 vs 2"));
        assert_same_file(&d.join("a").join(f), &d.join("one_thread").join(f), &format!("{file}: default pool vs RAYON_NUM_THREADS=1"));
    }
    assert!(
        bytes(&d.join("a/timeseries.csv")) != bytes(&d.join("other_seed/timeseries.csv")),
        "{file}: seeds 7 and 8 gave identical timeseries.csv; the seed has no effect"
    );
}

#[test]
fn top_down_is_deterministic_for_any_pool_size() {
    same_seed_same_bytes("top-down.toml");
}

#[test]
fn enablement_is_deterministic_for_any_pool_size() {
    same_seed_same_bytes("enablement.toml");
}
