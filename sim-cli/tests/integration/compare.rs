//! `sim compare` and the built-in comparison that plain `sim` runs.

use std::path::Path;

use crate::{FAST, bytes, entries, names, sim, sim_env, temp};

const TOP_DOWN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/top-down.toml");
const ENABLEMENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/enablement.toml");

fn compare_files() -> std::collections::BTreeSet<String> {
    let mut files = names(&[crate::MARKER, "ensemble.csv", "summary.csv", "effects.csv", "manifest.json", "report.html"]);
    files.extend(crate::plots::figure_files(crate::plots::COMPARE_FIGURES));
    files
}

fn rows(path: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    r.records().map(|x| x.expect("csv row")).collect()
}

fn header(path: &Path) -> Vec<String> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.headers().unwrap().iter().map(String::from).collect()
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s}"))
}

#[test]
fn compare_writes_ensemble_summary_effects_and_manifest() {
    let tmp = temp();
    let mut args = vec!["compare", TOP_DOWN, ENABLEMENT, "--replicates", "4", "--out", "cmp"];
    args.extend(FAST);
    sim(tmp.path(), &args).assert_success();
    let out = tmp.path().join("cmp");
    assert_eq!(entries(&out), compare_files());
    assert_eq!(header(&out.join("ensemble.csv")), ["scenario", "day", "metric", "mean", "ci_low", "ci_high"]);
    assert_eq!(header(&out.join("summary.csv")), ["scenario", "metric", "mean", "ci_low", "ci_high", "n"]);
    assert_eq!(
        header(&out.join("effects.csv")),
        ["scenario_a", "scenario_b", "metric", "difference", "ci_low", "ci_high", "effect_size", "n"]
    );

    // Every scenario, every day, every metric; names as the files give them.
    let ens = rows(&out.join("ensemble.csv"));
    let metrics: std::collections::BTreeSet<&str> = ens.iter().map(|r| r.get(2).unwrap()).collect();
    assert!(metrics.contains("failure_demand_share") && metrics.contains("gaming_gap"));
    assert_eq!(ens.len(), 2 * 400 * metrics.len());
    let scenarios: std::collections::BTreeSet<&str> = ens.iter().map(|r| r.get(0).unwrap()).collect();
    assert_eq!(scenarios, ["enablement", "top-down"].into_iter().collect());
    for r in &ens {
        let (m, lo, hi) = (num(&r[3]), num(&r[4]), num(&r[5]));
        if m.is_finite() && lo.is_finite() {
            assert!(lo <= m + 1e-12 && m <= hi + 1e-12, "{r:?}");
        }
    }
    // Summary: n = replicates where defined; CI brackets the mean.
    for r in rows(&out.join("summary.csv")) {
        let (m, lo, hi, n) = (num(&r[2]), num(&r[3]), num(&r[4]), num(&r[5]));
        assert!(n <= 4.0);
        if n >= 2.0 && lo.is_finite() {
            assert!(lo <= m + 1e-12 && m <= hi + 1e-12, "{r:?}");
        }
    }
    // Effects: A - B equals the difference of the summary means (paired, same replicates).
    let summary = rows(&out.join("summary.csv"));
    let mean_of = |sc: &str, metric: &str| num(&summary.iter().find(|r| &r[0] == sc && &r[1] == metric).unwrap()[2]);
    let effects = rows(&out.join("effects.csv"));
    let fd = effects.iter().find(|r| &r[2] == "failure_demand_share").expect("failure_demand_share effect");
    assert_eq!((&fd[0], &fd[1]), ("top-down", "enablement"));
    let diff = num(&fd[3]);
    assert!((diff - (mean_of("top-down", "failure_demand_share") - mean_of("enablement", "failure_demand_share"))).abs() < 1e-9);
    assert!(num(&fd[4]) <= diff && diff <= num(&fd[5]));
    assert!(num(&fd[6]).is_finite());

    let manifest: serde_json::Value = serde_json::from_slice(&bytes(&out.join("manifest.json"))).unwrap();
    assert_eq!(manifest["replicates"], 4);
    assert_eq!(manifest["seeds"].as_array().unwrap().len(), 4);
    assert_eq!(manifest["scenarios"].as_array().unwrap().len(), 2);
    assert_eq!(manifest["scenarios"][0]["scenario_hash"].as_str().unwrap().len(), 64);
}

#[test]
fn compare_is_identical_for_any_thread_count() {
    let tmp = temp();
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let dir = format!("cmp{threads}");
        let mut args = vec!["compare", TOP_DOWN, ENABLEMENT, "--replicates", "3", "--out", dir.as_str()];
        args.extend(FAST);
        sim_env(tmp.path(), &args, &[("RAYON_NUM_THREADS", threads)]).assert_success();
        outs.push(tmp.path().join(dir));
    }
    for f in ["ensemble.csv", "summary.csv", "effects.csv"] {
        crate::assert_same_file(&outs[0].join(f), &outs[1].join(f), "RAYON_NUM_THREADS=1 vs 2");
    }
}

#[test]
fn compare_rejects_bad_input_without_output() {
    let tmp = temp();
    std::fs::write(tmp.path().join("bad.toml"), "[governance]\ndiscretion = 3\n").unwrap();
    let o = sim(tmp.path(), &["compare", TOP_DOWN, "bad.toml", "--out", "cmp"]);
    o.assert_code(2).assert_stderr_has(&["bad.toml:2:", "governance.discretion"]);
    let o = sim(tmp.path(), &["compare", TOP_DOWN, "--out", "cmp"]);
    o.assert_code(2).assert_stderr_has(&["two"]);
    sim(tmp.path(), &["compare", TOP_DOWN, ENABLEMENT, "--replicates", "1", "--out", "cmp"]).assert_code(2);
    assert_eq!(entries(tmp.path()), names(&["bad.toml"]));
}

/// Plain `sim` is the built-in comparison of the two presets (20 replicates, five years).
#[test]
fn no_arguments_runs_the_builtin_comparison() {
    let tmp = temp();
    sim(tmp.path(), &[]).assert_success().assert_stdout_has(&["top-down", "enablement"]);
    let out = tmp.path().join("sim-out/compare");
    assert_eq!(entries(&tmp.path().join("sim-out")), names(&["compare"]));
    assert_eq!(entries(&out), compare_files());
    let summary = rows(&out.join("summary.csv"));
    let get = |sc: &str, m: &str| summary.iter().find(|r| &r[0] == sc && &r[1] == m).map(|r| (num(&r[2]), num(&r[5]))).unwrap();
    assert_eq!(get("top-down", "failure_demand_share").1, 20.0);
    // The report shows the dashboard (issue 7: `cargo run --release` writes report.html with it).
    let report = String::from_utf8(bytes(&out.join("report.html"))).unwrap();
    assert!(report.contains("src=\"dashboard.png\""), "report.html lacks the dashboard");
    assert!(get("top-down", "failure_demand_share").0 > get("enablement", "failure_demand_share").0);
}
