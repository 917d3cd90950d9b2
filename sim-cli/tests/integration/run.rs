//! `sim run` and plain `sim`: which files are written, their shape (timeseries.csv columns and
//! rows, summary.json metrics, manifest.json provenance) and how the flags reach them.

use std::collections::BTreeSet;
use std::path::Path;

use crate::{FAST, Table, entries, names, read_json, run_files, sim, staging_leftovers, temp};

/// The metric names of MODEL.md §6 that timeseries.csv and summary.json must carry, spelled exactly.
const MODEL_METRICS: &[&str] = &[
    "demand_new",
    "demand_failure",
    "failure_demand_share",
    "hidden_needs",
    "acute_events",
    "backlog",
    "wait_mean_days",
    "wait_p90_days",
    "resolved_true",
    "closed_reported",
    "reported_resolution_rate",
    "true_resolution_rate",
    "gaming_gap",
    "time_per_case",
    "time_standard",
    "hours_per_client",
    "cost_total",
    "cost_frontline",
    "cost_overhead",
    "cost_acute",
    "overhead_share",
    "cost_per_resolved_need",
    "workforce_fte",
    "overtime_share",
    "skill_mean",
    "wellbeing_mean",
    "trust_mean",
    "budget",
];

/// Checks timeseries.csv in `dir`: `day` then metric names (all of MODEL.md §6, none twice),
/// `days` rows numbered 0..days-1, every cell a number. Returns the metric names.
fn check_timeseries(dir: &Path, days: usize) -> Vec<String> {
    let path = dir.join("timeseries.csv");
    let t = Table::read(&path);
    assert_eq!(t.header.first().map(String::as_str), Some("day"), "first column of {}: {:?}", path.display(), t.header);
    let metrics: Vec<String> = t.header[1..].to_vec();
    let unique: BTreeSet<&str> = metrics.iter().map(String::as_str).collect();
    assert_eq!(unique.len(), metrics.len(), "a column appears twice in {}: {:?}", path.display(), t.header);
    let missing: Vec<_> = MODEL_METRICS.iter().filter(|m| !unique.contains(**m)).collect();
    assert!(missing.is_empty(), "{} lacks MODEL.md §6 columns {missing:?}; header: {:?}", path.display(), t.header);
    assert_eq!(t.rows.len(), days, "rows of {} (one per day)", path.display());
    let day: Vec<f64> = t.column("day");
    let expected: Vec<f64> = (0..days).map(|d| d as f64).collect();
    assert_eq!(day, expected, "the day column of {} must be 0..{}", path.display(), days - 1);
    metrics
}

/// Checks summary.json in `dir` has a `metrics` object with exactly `metrics` as keys, each a
/// number or null. Returns the parsed file.
fn check_summary(dir: &Path, metrics: &[String]) -> serde_json::Value {
    let path = dir.join("summary.json");
    let s = read_json(&path);
    let m = s["metrics"].as_object().unwrap_or_else(|| panic!("{}: `metrics` is not an object:\n{s:#}", path.display()));
    let keys: BTreeSet<&str> = m.keys().map(String::as_str).collect();
    let columns: BTreeSet<&str> = metrics.iter().map(String::as_str).collect();
    assert_eq!(keys, columns, "{}: metric names differ from timeseries.csv's columns", path.display());
    for (k, v) in m {
        assert!(v.is_number() || v.is_null(), "{}: metrics.{k} = {v} is neither a number nor null", path.display());
    }
    s
}

/// Checks manifest.json in `dir` holds every provenance key of the contract. Returns it.
fn check_manifest(dir: &Path) -> serde_json::Value {
    let path = dir.join("manifest.json");
    let m = read_json(&path);
    let show = || format!("{}:\n{m:#}", path.display());
    assert!(m["sim_version"].as_str().is_some_and(|v| !v.is_empty()), "sim_version missing or empty in {}", show());
    let commit = m.get("git_commit").unwrap_or_else(|| panic!("git_commit key missing in {}", show()));
    assert!(commit.is_null() || commit.as_str().is_some_and(|c| !c.is_empty()), "git_commit must be null or a commit id in {}", show());
    let line = m["command_line"].as_array().unwrap_or_else(|| panic!("command_line is not a list in {}", show()));
    assert!(!line.is_empty() && line.iter().all(|a| a.is_string()), "command_line must be a non-empty list of strings in {}", show());
    let hash = m["scenario_hash"].as_str().unwrap_or_else(|| panic!("scenario_hash missing in {}", show()));
    assert!(hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()), "scenario_hash `{hash}` is not 64 hex digits");
    let seeds = m["seeds"].as_array().unwrap_or_else(|| panic!("seeds is not a list in {}", show()));
    assert!(!seeds.is_empty() && seeds.iter().all(|s| s.is_u64()), "seeds must be a non-empty list of integers in {}", show());
    assert!(m["parameters"].is_object(), "parameters is not an object in {}", show());
    assert!(m["parameters"]["governance"]["discretion"].is_number(), "parameters.governance.discretion missing in {}", show());
    assert!(m["parameters"]["run"]["days"].is_u64(), "parameters.run.days missing in {}", show());
    let start = m["start_time"].as_str().unwrap_or_else(|| panic!("start_time missing in {}", show()));
    assert!(start.len() >= 19 && start.contains('T'), "start_time `{start}` is not an RFC 3339 time");
    let wall = m["wall_time_seconds"].as_f64().unwrap_or_else(|| panic!("wall_time_seconds missing in {}", show()));
    assert!(wall.is_finite() && wall >= 0.0, "wall_time_seconds = {wall}");
    m
}

#[test]
fn run_writes_exactly_the_three_files_with_the_contracted_shape() {
    let tmp = temp();
    let mut args = vec!["run", "--out", "out"];
    args.extend(FAST);
    sim(tmp.path(), &args).assert_success();

    assert_eq!(entries(tmp.path()), names(&["out"]), "only the output folder may appear beside it (no staging folder left)");
    let out = tmp.path().join("out");
    assert_eq!(entries(&out), run_files(), "files in {}", out.display());

    let metrics = check_timeseries(&out, 400);
    let summary = check_summary(&out, &metrics);
    assert_eq!(summary["seed"], 1, "default seed in summary.json");
    let manifest = check_manifest(&out);
    assert_eq!(manifest["seeds"], serde_json::json!([1]), "default seed in manifest.json");
    assert_eq!(manifest["parameters"]["population"]["citizens"], 5000, "--set population.citizens reaches the parameters");
    assert_eq!(manifest["parameters"]["run"]["days"], 400, "--days reaches the parameters");
}

#[test]
fn run_into_a_nested_new_folder_creates_its_parents() {
    let tmp = temp();
    let mut args = vec!["run", "--out", "a/b/run"];
    args.extend(FAST);
    sim(tmp.path(), &args).assert_success();
    assert_eq!(entries(&tmp.path().join("a/b")), names(&["run"]), "beside the output folder");
    assert_eq!(entries(&tmp.path().join("a/b/run")), run_files());
    assert!(staging_leftovers(tmp.path()).is_empty(), "staging left over: {:?}", staging_leftovers(tmp.path()));
}

#[test]
fn run_into_an_existing_output_folder_replaces_the_files() {
    let tmp = temp();
    let mut first = vec!["run", "--out", "out", "--seed", "1"];
    first.extend(FAST);
    sim(tmp.path(), &first).assert_success();
    let mut second = vec!["run", "--out", "out", "--seed", "2"];
    second.extend(FAST);
    sim(tmp.path(), &second).assert_success();
    let mut fresh = vec!["run", "--out", "fresh", "--seed", "2"];
    fresh.extend(FAST);
    sim(tmp.path(), &fresh).assert_success();

    assert_eq!(entries(tmp.path()), names(&["out", "fresh"]), "no staging folder left");
    assert_eq!(entries(&tmp.path().join("out")), run_files());
    for f in ["timeseries.csv", "summary.json"] {
        crate::assert_same_file(&tmp.path().join("out").join(f), &tmp.path().join("fresh").join(f), "a re-run over an old folder");
    }
    assert_eq!(read_json(&tmp.path().join("out/manifest.json"))["seeds"], serde_json::json!([2]));
}

/// `sim run` without a scenario runs the full built-in default into ./sim-out/run (about half a
/// second in release).
#[test]
fn run_without_scenario_runs_the_default_into_sim_out_run() {
    let tmp = temp();
    sim(tmp.path(), &["run"]).assert_success();
    assert_eq!(entries(tmp.path()), names(&["sim-out"]));
    let sim_out = tmp.path().join("sim-out");
    assert_eq!(entries(&sim_out), names(&["run"]), "beside the output folder (no staging folder left)");
    let out = sim_out.join("run");
    assert_eq!(entries(&out), run_files());
    let manifest = check_manifest(&out);
    let days = manifest["parameters"]["run"]["days"].as_u64().expect("parameters.run.days") as usize;
    assert_eq!(days, 1825, "the built-in default runs five years");
    assert_eq!(manifest["parameters"]["population"]["citizens"], 40_000, "the built-in default population");
    let metrics = check_timeseries(&out, days);
    check_summary(&out, &metrics);
}

#[test]
fn set_overrides_reach_the_manifest_parameters_and_hash() {
    let tmp = temp();
    let mut base = vec!["run", "--out", "base"];
    base.extend(FAST);
    sim(tmp.path(), &base).assert_success();
    let mut set = vec!["run", "--out", "set", "--set", "governance.discretion=0.5"];
    set.extend(FAST);
    sim(tmp.path(), &set).assert_success();

    let b = read_json(&tmp.path().join("base/manifest.json"));
    let s = read_json(&tmp.path().join("set/manifest.json"));
    assert_ne!(b["parameters"]["governance"]["discretion"], 0.5, "the default discretion must differ for this test to mean anything");
    assert_eq!(s["parameters"]["governance"]["discretion"], 0.5, "--set governance.discretion=0.5 in manifest parameters:\n{s:#}");
    assert_ne!(b["scenario_hash"], s["scenario_hash"], "a changed parameter must change scenario_hash");
    let line: Vec<&str> = s["command_line"].as_array().unwrap().iter().filter_map(|a| a.as_str()).collect();
    assert!(line.contains(&"governance.discretion=0.5"), "command_line {line:?} lacks the --set argument");

    // The same scenario gives the same hash.
    let mut again = vec!["run", "--out", "again", "--set", "governance.discretion=0.5"];
    again.extend(FAST);
    sim(tmp.path(), &again).assert_success();
    assert_eq!(read_json(&tmp.path().join("again/manifest.json"))["scenario_hash"], s["scenario_hash"]);
}

#[test]
fn seed_flag_reaches_manifest_and_summary() {
    let tmp = temp();
    let mut args = vec!["run", "--out", "out", "--seed", "9"];
    args.extend(FAST);
    sim(tmp.path(), &args).assert_success();
    let m = read_json(&tmp.path().join("out/manifest.json"));
    assert_eq!(m["seeds"], serde_json::json!([9]), "manifest seeds");
    assert_eq!(m["parameters"]["run"]["seed"], 9, "manifest parameters.run.seed");
    let s = read_json(&tmp.path().join("out/summary.json"));
    assert_eq!(s["seed"], 9, "summary.json seed");
}

#[test]
fn days_flag_sets_the_number_of_rows() {
    let tmp = temp();
    sim(
        tmp.path(),
        &["run", "--out", "out", "--days", "300", "--set", "population.citizens=5000", "--set", "workforce.frontline_staff=15"],
    )
    .assert_success();
    let out = tmp.path().join("out");
    check_timeseries(&out, 300);
    assert_eq!(read_json(&out.join("manifest.json"))["parameters"]["run"]["days"], 300);
    let s = read_json(&out.join("summary.json"));
    assert_eq!(s["window_end_day"], 299, "the summary window ends on the last day:\n{s:#}");
}
