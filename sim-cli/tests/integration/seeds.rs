//! Seeds are full u64 everywhere (issue 17: seeds >= 2^63 were rejected by `--seed` and in files,
//! yet 12 of the 20 seeds in the built-in comparison's manifest are above 2^63). Every seed a
//! manifest or runs.csv records re-runs with `sim run --seed` to identical bytes.

use std::fs;

use crate::{assert_same_file, read_json, sim, temp};

const BASE: &str = "[run]\ndays = 150\nwarmup_days = 20\n[population]\ncitizens = 1000\n[workforce]\nfrontline_staff = 5\n";

#[test]
fn every_seed_of_a_sweep_re_runs_to_identical_bytes() {
    let tmp = temp();
    let d = tmp.path();
    fs::write(d.join("base.toml"), BASE).unwrap();
    // A master seed above 2^63, written as a string (TOML integers stop at 2^63 - 1).
    fs::write(
        d.join("sweep.toml"),
        "base = \"base.toml\"\nseed = \"18446744073709551614\"\nreplicates = 2\n[design]\nkind = \"grid\"\nlevels = 2\n\
         [[parameters]]\npath = \"governance.discretion\"\nvalues = [0.2, 0.8]\n",
    )
    .unwrap();
    sim(d, &["sweep", "sweep.toml", "--out", "sw", "--timeseries", "-q"]).assert_success();
    let m = read_json(&d.join("sw/manifest.json"));
    assert_eq!(m["seeds"]["master"].as_u64(), Some(u64::MAX - 1), "the manifest records the master seed exactly");
    let mut r = csv::Reader::from_path(d.join("sw/runs.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let mut above = 0;
    for row in &rows {
        let (id, seed, value) = (&row[col("run_id")], &row[col("seed")], &row[col("governance.discretion")]);
        if seed.parse::<u64>().unwrap() > i64::MAX as u64 {
            above += 1;
        }
        let out = format!("r{id}");
        let set = format!("governance.discretion={value}");
        let o = sim(d, &["run", "base.toml", "--seed", seed, "--set", &set, "--out", &out, "-q"]);
        o.assert_success();
        assert_same_file(&d.join(&out).join("timeseries.csv"), &d.join(format!("sw/runs/{id}.csv")), "a sweep run re-run by its seed");
        // And the seed `sim run` records re-runs to the same bytes again, from its manifest.
        let recorded = read_json(&d.join(&out).join("manifest.json"))["seeds"][0].as_u64().expect("a u64 seed");
        assert_eq!(recorded.to_string(), seed);
    }
    assert!(above > 0, "no run seed above 2^63; the test proves nothing for them");
}

#[test]
fn compare_manifest_seeds_above_2_63_re_run() {
    let tmp = temp();
    let d = tmp.path();
    fs::write(d.join("a.toml"), BASE).unwrap();
    fs::write(d.join("b.toml"), format!("{BASE}[governance]\npreset = \"enablement\"\n")).unwrap();
    // The built-in comparison's master seed (1) and replicate count (20).
    sim(d, &["compare", "a.toml", "b.toml", "--replicates", "20", "--seed", "1", "--out", "cmp", "-q"]).assert_success();
    let seeds: Vec<u64> =
        read_json(&d.join("cmp/manifest.json"))["seeds"].as_array().unwrap().iter().map(|s| s.as_u64().unwrap()).collect();
    let big: Vec<u64> = seeds.iter().copied().filter(|&s| s > i64::MAX as u64).collect();
    assert!(big.len() >= 2, "expected seeds above 2^63 among {seeds:?}");
    for (i, s) in big.iter().take(2).enumerate() {
        let s = s.to_string();
        sim(d, &["run", "a.toml", "--seed", &s, "--out", &format!("x{i}"), "-q"]).assert_success();
        sim(d, &["run", "a.toml", "--set", &format!("run.seed={s}"), "--out", &format!("y{i}"), "-q"]).assert_success();
        assert_same_file(&d.join(format!("x{i}/timeseries.csv")), &d.join(format!("y{i}/timeseries.csv")), "--seed vs --set run.seed");
    }
    // Beyond u64 and negative seeds are bad input.
    sim(d, &["run", "a.toml", "--seed", "18446744073709551616"]).assert_code(2);
    sim(d, &["run", "a.toml", "--set", "run.seed=-1"]).assert_code(2).assert_stderr_has(&["run.seed"]);
}
