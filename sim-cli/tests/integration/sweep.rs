//! `sim sweep`, `sim merge` and `sim sensitivity` through the binary: the files of the contract,
//! byte-identical runs.csv for any thread count, shard split and kill-and-resume, runs.parquet
//! against runs.csv, points.csv CIs, adaptive replication, every shipped sweep file, and located
//! errors (exit 2) for bad sweep files. The sweeps are small (the 5,000-citizen base of
//! scenarios/sweeps/small-base.toml, 250-400 days, a few dozen runs).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Outcome, assert_same_file, entries, names, read_json, scenarios_dir, sim, sim_env, staging_leftovers, temp};

/// The files every finished `sim sweep` writes.
const SWEEP_FILES: &[&str] = &["runs.csv", "runs.parquet", "points.csv", "manifest.json"];

/// A 3 x 3 grid (discretion; staff, an integer) over 250 days, 2 replicates: 18 runs.
const GRID: &str = "\
name = \"test-grid\"
days = 250
replicates = 2
seed = 11

[design]
kind = \"grid\"
levels = 3

[[parameters]]
path = \"governance.discretion\"
min = 0.1
max = 0.9

[[parameters]]
path = \"workforce.frontline_staff\"
min = 12
max = 18
integer = true
";

fn base_path() -> String {
    scenarios_dir().join("sweeps/small-base.toml").display().to_string()
}

/// Writes sweep file `name` into `dir`: `base = <the small base>` then `body`. Returns the name.
fn sweep_file(dir: &Path, name: &str, body: &str) -> String {
    fs::write(dir.join(name), format!("base = '{}'\n{body}", base_path())).expect("write a sweep file");
    name.to_string()
}

/// `sim sweep FILE --out OUT ARGS...` in `dir`, which must succeed.
#[track_caller]
fn run_sweep(dir: &Path, file: &str, out: &str, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let mut all = vec!["sweep", file, "--out", out];
    all.extend(args);
    let o = sim_env(dir, &all, env);
    o.assert_success();
    o
}

/// Rows of a CSV file as string cells, after the header; and the header.
fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = r.headers().expect("a header").iter().map(str::to_string).collect();
    let rows = r.records().map(|rec| rec.expect("a CSV record").iter().map(str::to_string).collect()).collect();
    (header, rows)
}

fn column(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column `{name}` in {header:?}"))
}

/// Panics unless `dir` holds every one of `files` (the plots beside them are checked elsewhere).
#[track_caller]
fn assert_has(dir: &Path, files: &[&str], o: &Outcome) {
    let present = entries(dir);
    let missing: Vec<_> = files.iter().filter(|f| !present.contains(**f)).collect();
    assert!(missing.is_empty(), "{} lacks {missing:?}; it holds {present:?}\n{o}", dir.display());
}

/// Lines of a file (0 if it does not exist).
fn line_count(path: &Path) -> usize {
    fs::read(path).map(|b| b.iter().filter(|&&c| c == b'\n').count()).unwrap_or(0)
}

/// The work folder `sim sweep` keeps beside `--out` while it runs.
fn work_folder(dir: &Path, out: &str) -> PathBuf {
    dir.join(format!(".{out}.partial"))
}

#[test]
fn sweep_writes_the_contract_files() {
    let tmp = temp();
    let d = tmp.path();
    let f = sweep_file(d, "grid.toml", GRID);
    let o = run_sweep(d, &f, "out", &["--timeseries"], &[]);
    let mut expected: Vec<&str> = SWEEP_FILES.to_vec();
    expected.extend(["runs", "report.html"]);
    assert_has(&d.join("out"), &expected, &o);
    assert!(staging_leftovers(d).is_empty() && !work_folder(d, "out").exists(), "leftovers\n{o}");

    let (header, rows) = csv_rows(&d.join("out/runs.csv"));
    let mut start = vec!["run_id", "point_id", "replicate", "seed", "governance.discretion", "workforce.frontline_staff"];
    start.push("demand_new");
    assert_eq!(&header[..7], &start[..], "runs.csv header");
    assert_eq!(rows.len(), 18);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[0], i.to_string(), "run_id");
        assert_eq!(r[1], (i / 2).to_string(), "point_id");
        assert_eq!(r[2], (i % 2).to_string(), "replicate");
        assert!(["12", "15", "18"].contains(&r[5].as_str()), "staff is a whole number: {r:?}");
        for cell in &r[6..] {
            assert!(cell.parse::<f64>().is_ok(), "metric cell `{cell}` is not a number (NaN allowed)");
        }
    }
    let seeds: std::collections::BTreeSet<&String> = rows.iter().map(|r| &r[3]).collect();
    assert_eq!(seeds.len(), 18, "every run has its own seed");
    // One series per run, as `sim run` writes them.
    assert_eq!(entries(&d.join("out/runs")).len(), 18);
    assert_eq!(line_count(&d.join("out/runs/17.csv")), 251, "header + 250 days");

    let m = read_json(&d.join("out/manifest.json"));
    for key in [
        "sim_version",
        "git_commit",
        "command_line",
        "sweep_hash",
        "scenario_file",
        "scenario_hash",
        "seeds",
        "parameters",
        "design",
        "start_time",
        "wall_time_seconds",
    ] {
        assert!(m.get(key).is_some(), "manifest.json lacks `{key}`:\n{m:#}");
    }
    assert_eq!(m["seeds"]["master"], 11);
    assert_eq!(m["runs"], 18);
    assert_eq!(m["parameters"]["run"]["days"], 250, "the resolved base carries the sweep's days");
}

#[test]
fn runs_csv_and_figures_are_identical_for_any_thread_count() {
    let tmp = temp();
    let d = tmp.path();
    let f = sweep_file(d, "grid.toml", GRID);
    run_sweep(d, &f, "t1", &["--threads", "1"], &[]);
    run_sweep(d, &f, "t2", &["--threads", "2"], &[]);
    run_sweep(d, &f, "r1", &[], &[("RAYON_NUM_THREADS", "1")]);
    run_sweep(d, &f, "r2", &[], &[("RAYON_NUM_THREADS", "2")]);
    // The figures too (drawn side by side on the pool's threads).
    let figures: Vec<String> = std::fs::read_dir(d.join("t1"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".png") || f.ends_with(".svg"))
        .collect();
    assert!(figures.len() >= 4, "heatmaps and lines: {figures:?}");
    for out in ["t2", "r1", "r2"] {
        for file in ["runs.csv", "points.csv"].into_iter().chain(figures.iter().map(String::as_str)) {
            assert_same_file(&d.join("t1").join(file), &d.join(out).join(file), &format!("{file}: --threads 1 vs {out}"));
        }
    }
    assert_eq!(read_json(&d.join("t2/manifest.json"))["threads"], 2);
}

#[test]
fn shards_merge_to_the_unsharded_sweep() {
    let tmp = temp();
    let d = tmp.path();
    let f = sweep_file(d, "grid.toml", GRID);
    run_sweep(d, &f, "whole", &[], &[]);
    for i in 0..3 {
        run_sweep(d, &f, &format!("s{i}"), &["--shard", &format!("{i}/3")], &[]);
        let (_, rows) = csv_rows(&d.join(format!("s{i}/runs.csv")));
        assert_eq!(rows.len(), 6);
        assert!(rows.iter().all(|r| r[0].parse::<u64>().unwrap() % 3 == i), "shard {i}/3 holds run_id % 3 == {i}");
    }
    let o = sim(d, &["merge", "s2", "s0", "s1", "--out", "merged"]);
    o.assert_success();
    assert_has(&d.join("merged"), SWEEP_FILES, &o);
    for file in ["runs.csv", "points.csv"] {
        assert_same_file(&d.join("whole").join(file), &d.join("merged").join(file), &format!("{file}: merged shards vs unsharded"));
    }
    assert_eq!(parquet_rows(&d.join("merged/runs.parquet")), parquet_rows(&d.join("whole/runs.parquet")));
    // Issue 18: the merged report gives the time the runs took (the shards' wall times), not
    // only the moment the merge took.
    let wall = |dir: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(d.join(dir).join("manifest.json")).unwrap()).unwrap()
    };
    let shards: f64 = (0..3).map(|i| wall(&format!("s{i}"))["wall_time_seconds"].as_f64().unwrap()).sum();
    let merged = wall("merged");
    assert!((merged["runs_wall_time_seconds"].as_f64().unwrap() - shards).abs() < 1e-9, "{merged}");
    assert_eq!(merged["shard_wall_time_seconds"].as_array().unwrap().len(), 3);
    let report = std::fs::read_to_string(d.join("merged/report.html")).unwrap();
    assert!(report.contains(&format!("wall time of the runs (sum over shards): {shards:.1} s")), "the report states the runs' wall time");

    // A shard missing, a shard twice, another sweep's shard: exit 2, nothing written.
    sim(d, &["merge", "s0", "s1", "--out", "bad1"]).assert_code(2).assert_stderr_has(&["run 2 is missing", "shard 2/3"]);
    sim(d, &["merge", "s0", "s1", "s2", "s1", "--out", "bad2"]).assert_code(2).assert_stderr_has(&["appears twice"]);
    let other = sweep_file(d, "other.toml", &GRID.replace("seed = 11", "seed = 12"));
    run_sweep(d, &other, "o0", &["--shard", "0/3"], &[]);
    sim(d, &["merge", "s0", "s1", "o0", "--out", "bad3"]).assert_code(2).assert_stderr_has(&["different sweeps", "sweep_hash"]);
    sim(d, &["merge", "s0", "nowhere", "--out", "bad4"]).assert_code(2).assert_stderr_has(&["nowhere", "manifest.json"]);
    for out in ["bad1", "bad2", "bad3", "bad4"] {
        assert!(!d.join(out).exists(), "{out} was written");
    }
    assert!(staging_leftovers(d).is_empty());
}

#[test]
fn bad_shard_and_adaptive_arguments_exit_2() {
    let tmp = temp();
    let d = tmp.path();
    let f = sweep_file(d, "grid.toml", GRID);
    for shard in ["3/3", "0/0", "x", "1"] {
        sim(d, &["sweep", &f, "--out", "o", "--shard", shard]).assert_code(2).assert_stderr_has(&["--shard"]);
    }
    sim(d, &["sweep", &f, "--out", "o", "--shard", "0/2", "--target-ci", "backlog=1"])
        .assert_code(2)
        .assert_stderr_has(&["--shard", "--target-ci"]);
    sim(d, &["sweep", &f, "--out", "o", "--target-ci", "nope=1"]).assert_code(2).assert_stderr_has(&["nope"]);
    sim(d, &["sweep", &f, "--out", "o", "--target-ci", "backlog=-1"]).assert_code(2).assert_stderr_has(&["positive"]);
    sim(d, &["sweep", &f, "--out", "o", "--target-ci", "backlog=1", "--max-replicates", "1"])
        .assert_code(2)
        .assert_stderr_has(&["--max-replicates"]);
    sim(d, &["sweep", &f, "--out", "o", "--threads", "0"]).assert_code(2);
    assert!(!d.join("o").exists() && !work_folder(d, "o").exists());
}

/// Starts `sim sweep`, kills it (SIGKILL) once its journal holds more than `rows` runs, and
/// returns; panics if the sweep finished first.
fn kill_midway(dir: &Path, args: &[&str], out: &str, rows: usize) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sim");
    let journal = work_folder(dir, out).join("runs.csv");
    let started = Instant::now();
    loop {
        if line_count(&journal) > rows + 1 {
            break;
        }
        if let Some(status) = child.try_wait().expect("wait for sim") {
            panic!("the sweep ended ({status}) before it could be killed; make it longer");
        }
        assert!(started.elapsed() < Duration::from_secs(120), "the journal did not grow");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().expect("kill sim");
    child.wait().expect("reap sim");
}

#[test]
fn killed_then_resumed_equals_uninterrupted() {
    let tmp = temp();
    let d = tmp.path();
    // 25 points x 4 replicates = 100 runs of 400 days: a few seconds on one thread.
    let body = GRID.replace("days = 250", "days = 400").replace("replicates = 2", "replicates = 4").replace("levels = 3", "levels = 5");
    let f = sweep_file(d, "grid.toml", &body);
    run_sweep(d, &f, "whole", &["--threads", "2"], &[]);

    kill_midway(d, &["sweep", &f, "--out", "cut", "--threads", "1"], "cut", 10);
    assert!(!d.join("cut").exists(), "a killed sweep must not leave --out");
    let journal = work_folder(d, "cut").join("runs.csv");
    let kept = line_count(&journal) - 1;
    assert!(kept < 100, "killed before the end");
    // A kill in the middle of a write leaves a partial last line: simulate one.
    let mut text = fs::read(&journal).unwrap();
    text.extend_from_slice(b"99,24,3,123");
    fs::write(&journal, text).unwrap();

    // Forgetting --resume does not throw the work away.
    sim(d, &["sweep", &f, "--out", "cut"]).assert_code(2).assert_stderr_has(&["--resume", ".cut.partial"]);
    // Resuming with other options is refused.
    sim(d, &["sweep", &f, "--out", "cut", "--resume", "--timeseries"]).assert_code(2).assert_stderr_has(&["other options"]);

    let o = run_sweep(d, &f, "cut", &["--resume", "--threads", "2"], &[]);
    assert_same_file(&d.join("whole/runs.csv"), &d.join("cut/runs.csv"), "runs.csv: killed and resumed vs uninterrupted");
    assert_same_file(&d.join("whole/points.csv"), &d.join("cut/points.csv"), "points.csv: killed and resumed vs uninterrupted");
    assert_eq!(parquet_rows(&d.join("cut/runs.parquet")), parquet_rows(&d.join("whole/runs.parquet")));
    let m = read_json(&d.join("cut/manifest.json"));
    assert_eq!(m["resumed_runs"].as_u64(), Some(kept as u64), "{o}");
    assert!(!work_folder(d, "cut").exists() && staging_leftovers(d).is_empty());
    // Resuming a finished sweep does nothing.
    let o = run_sweep(d, &f, "cut", &["--resume"], &[]);
    o.assert_stderr_has(&["nothing to resume"]);
}

#[test]
fn adaptive_sweep_killed_in_a_later_round_resumes_identically() {
    let tmp = temp();
    let d = tmp.path();
    // 9 points x 2 replicates in round 1; a tiny target makes every point go on to 8.
    let body = GRID.replace("days = 250", "days = 400");
    let f = sweep_file(d, "grid.toml", &body);
    let adaptive = ["--target-ci", "backlog=0.000001", "--max-replicates", "8"];
    let mut args = adaptive.to_vec();
    args.extend(["--threads", "2"]);
    run_sweep(d, &f, "whole", &args, &[]);
    let (_, rows) = csv_rows(&d.join("whole/runs.csv"));
    assert_eq!(rows.len(), 9 * 8);

    let mut cmd = vec!["sweep", f.as_str(), "--out", "cut", "--threads", "1"];
    cmd.extend(adaptive);
    kill_midway(d, &cmd, "cut", 9 * 2 + 5);
    let mut args = adaptive.to_vec();
    args.push("--resume");
    run_sweep(d, &f, "cut", &args, &[]);
    assert_same_file(
        &d.join("whole/runs.csv"),
        &d.join("cut/runs.csv"),
        "adaptive runs.csv: killed in round 2+ and resumed vs uninterrupted",
    );
    assert_same_file(&d.join("whole/points.csv"), &d.join("cut/points.csv"), "adaptive points.csv");
}

/// Every row of runs.parquet as strings comparable with runs.csv's cells (numbers re-parsed).
fn parquet_rows(path: &Path) -> Vec<Vec<Cell>> {
    use arrow_array::{Array, Float64Array, StringArray, UInt64Array};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).expect("a Parquet file").build().expect("a reader");
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.expect("a record batch");
        let columns: Vec<&dyn Array> = batch.columns().iter().map(|c| c.as_ref()).collect();
        for i in 0..batch.num_rows() {
            rows.push(
                columns
                    .iter()
                    .map(|c| {
                        if let Some(a) = c.as_any().downcast_ref::<UInt64Array>() {
                            Cell::U(a.value(i))
                        } else if let Some(a) = c.as_any().downcast_ref::<Float64Array>() {
                            Cell::F(a.value(i).to_bits())
                        } else if let Some(a) = c.as_any().downcast_ref::<StringArray>() {
                            Cell::S(a.value(i).to_string())
                        } else {
                            panic!("unexpected column type {:?}", c.data_type())
                        }
                    })
                    .collect(),
            );
        }
    }
    rows
}

/// A typed cell; floats by their bits, so NaN equals NaN.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cell {
    U(u64),
    F(u64),
    S(String),
}

#[test]
fn runs_parquet_reads_back_with_the_rows_of_runs_csv() {
    let tmp = temp();
    let d = tmp.path();
    let body = format!("{GRID}\n[[parameters]]\npath = \"governance.preset\"\nvalues = [\"top_down\", \"enablement\"]\n")
        .replace("levels = 3", "levels = 2");
    let f = sweep_file(d, "grid.toml", &body);
    run_sweep(d, &f, "out", &[], &[]);
    let (header, rows) = csv_rows(&d.join("out/runs.csv"));
    let parquet = parquet_rows(&d.join("out/runs.parquet"));
    assert_eq!(parquet.len(), rows.len(), "runs.parquet has as many rows as runs.csv");
    assert_eq!(rows.len(), 2 * 2 * 2 * 2);
    let preset = column(&header, "governance.preset");
    for (i, (p, c)) in parquet.iter().zip(&rows).enumerate() {
        assert_eq!(p.len(), c.len(), "row {i}: cells");
        for (j, (pv, cv)) in p.iter().zip(c).enumerate() {
            let expected = match (j, pv) {
                (0..4, _) => Cell::U(cv.parse().unwrap()),
                (_, Cell::S(_)) => Cell::S(cv.clone()),
                _ => Cell::F(cv.parse::<f64>().unwrap().to_bits()),
            };
            assert_eq!(pv, &expected, "row {i}, column {}", header[j]);
        }
        assert!(matches!(&p[preset], Cell::S(s) if s == "top_down" || s == "enablement"), "the preset column is text");
    }
}

#[test]
fn points_csv_means_lie_within_their_cis_and_match_the_runs() {
    let tmp = temp();
    let d = tmp.path();
    let f = sweep_file(d, "grid.toml", &GRID.replace("replicates = 2", "replicates = 3"));
    run_sweep(d, &f, "out", &[], &[]);
    let (ph, points) = csv_rows(&d.join("out/points.csv"));
    assert_eq!(&ph[..3], &["point_id", "governance.discretion", "workforce.frontline_staff"]);
    assert_eq!(&ph[3..], &["metric", "mean", "ci_low", "ci_high", "n"]);
    let (rh, runs) = csv_rows(&d.join("out/runs.csv"));
    let metrics = rh.len() - 6;
    assert_eq!(points.len(), 9 * metrics, "one row per point and metric");
    let (mean, lo, hi, n) = (column(&ph, "mean"), column(&ph, "ci_low"), column(&ph, "ci_high"), column(&ph, "n"));
    let mut checked = 0;
    for p in &points {
        let x = |i: usize| p[i].parse::<f64>().unwrap();
        let count: usize = p[n].parse().unwrap();
        assert!(count <= 3);
        // The mean is the mean of the point's finite values in runs.csv.
        let values: Vec<f64> =
            runs.iter().filter(|r| r[1] == p[0]).map(|r| r[column(&rh, &p[3])].parse::<f64>().unwrap()).filter(|v| v.is_finite()).collect();
        assert_eq!(values.len(), count, "n of point {} metric {}", p[0], p[3]);
        if count >= 2 {
            let m = values.iter().sum::<f64>() / count as f64;
            assert!((x(mean) - m).abs() <= 1e-12 * m.abs().max(1.0), "mean of point {} {}: {} vs {m}", p[0], p[3], x(mean));
            assert!(x(lo) <= x(mean) && x(mean) <= x(hi), "point {} {}: mean {} outside [{}, {}]", p[0], p[3], x(mean), x(lo), x(hi));
            checked += 1;
        }
    }
    assert!(checked > 9 * 20, "most metrics are defined ({checked} rows checked)");
}

/// Per point: replicates (n) and CI half-width of `metric`, from points.csv.
fn point_stats(path: &Path, metric: &str) -> BTreeMap<u64, (usize, f64)> {
    let (h, rows) = csv_rows(path);
    let (mean, hi, n) = (column(&h, "mean"), column(&h, "ci_high"), column(&h, "n"));
    rows.iter()
        .filter(|r| r[column(&h, "metric")] == metric)
        .map(|r| (r[0].parse().unwrap(), (r[n].parse().unwrap(), r[hi].parse::<f64>().unwrap() - r[mean].parse::<f64>().unwrap())))
        .collect()
}

#[test]
fn adaptive_replication_stops_at_the_target_and_never_exceeds_the_maximum() {
    let tmp = temp();
    let d = tmp.path();
    let body = GRID.replace("replicates = 2", "replicates = 3").replace("levels = 3", "levels = 2");
    let f = sweep_file(d, "grid.toml", &body);
    let metric = "failure_demand_share";
    // A target every point meets at once: round 1 only.
    run_sweep(d, &f, "easy", &["--target-ci", &format!("{metric}=1000")], &[]);
    let first = point_stats(&d.join("easy/points.csv"), metric);
    assert!(first.values().all(|&(n, _)| n == 3), "{first:?}");
    // A target no point meets: 3 + 3 + 1 = the maximum 7, never more.
    run_sweep(d, &f, "never", &["--target-ci", &format!("{metric}=1e-12"), "--max-replicates", "7"], &[]);
    let never = point_stats(&d.join("never/points.csv"), metric);
    assert!(never.values().all(|&(n, _)| n == 7), "{never:?}");
    assert_eq!(read_json(&d.join("never/manifest.json"))["rounds"], 3);
    // A target between the points' first half-widths: those at or below it stop after round 1,
    // the others get more, and every point ends at the target or at the maximum.
    let mut widths: Vec<f64> = first.values().map(|&(_, hw)| hw).collect();
    widths.sort_by(f64::total_cmp);
    let target = widths[widths.len() / 2];
    let spec = format!("{metric}={target}");
    let args = ["--target-ci", spec.as_str(), "--max-replicates", "12"];
    let o = run_sweep(d, &f, "mid", &[&args[..], &["--threads", "1"]].concat(), &[]);
    let mid = point_stats(&d.join("mid/points.csv"), metric);
    for (p, &(n, hw)) in &mid {
        let (_, first_hw) = first[p];
        if first_hw <= target {
            assert_eq!(n, 3, "point {p} met the target ({first_hw} <= {target}) after round 1\n{o}");
        } else {
            assert!(n > 3, "point {p} ({first_hw} > {target}) needed more replicates\n{o}");
        }
        assert!(n <= 12, "point {p}: {n} replicates exceed the maximum");
        assert!(n == 12 || hw <= target, "point {p} stopped at {n} replicates with half-width {hw} > {target}");
    }
    assert!(mid.values().any(|&(n, _)| n > 3) && mid.values().any(|&(n, _)| n == 3));
    run_sweep(d, &f, "mid2", &[&args[..], &["--threads", "2"]].concat(), &[]);
    assert_same_file(&d.join("mid/runs.csv"), &d.join("mid2/runs.csv"), "adaptive runs.csv: 1 vs 2 threads");
}

/// The small design demonstrations shipped in scenarios/sweeps/ (one per design kind), run at
/// their shipped size. The full-size studies beside them are checked and run shrunk in
/// scenario_library.rs.
fn shipped_sweeps() -> Vec<PathBuf> {
    const DEMOS: &[&str] = &["grid", "random", "lhs", "sobol", "morris", "saltelli"];
    let dir = scenarios_dir().join("sweeps");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("a folder entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.file_stem().is_some_and(|s| DEMOS.iter().any(|d| s == *d)))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_sweep_file_checks_and_runs() {
    let files = shipped_sweeps();
    let stems: Vec<String> = files.iter().map(|p| p.file_stem().unwrap().to_string_lossy().into_owned()).collect();
    for kind in ["grid", "random", "lhs", "sobol", "morris", "saltelli"] {
        assert!(stems.iter().any(|s| s == kind), "scenarios/sweeps/{kind}.toml is missing");
    }
    let tmp = temp();
    let d = tmp.path();
    sim(d, &["validate", &base_path()]).assert_success();
    for file in &files {
        let path = file.display().to_string();
        let text = fs::read_to_string(file).unwrap();
        assert!(text.starts_with("# Question:"), "{path} must open with its question");
        for part in ["# Look at:", "# Expected pattern:"] {
            assert!(text.contains(part), "{path} lacks `{part}`");
        }
        sim(d, &["sweep", &path, "--check"]).assert_success().assert_stdout_has(&["ok: "]);
        let out = file.file_stem().unwrap().to_string_lossy().into_owned();
        let o = run_sweep(d, &path, &out, &[], &[]);
        assert_has(&d.join(&out), SWEEP_FILES, &o);
    }
}

#[test]
fn sensitivity_writes_sobol_and_morris_indices() {
    let tmp = temp();
    let d = tmp.path();
    let saltelli = scenarios_dir().join("sweeps/saltelli.toml").display().to_string();
    let o = sim(d, &["sensitivity", &saltelli, "--out", "s", "--bootstrap", "100"]);
    o.assert_success();
    // Issue 18: 8 base samples is far too few, and both the terminal and the report say so.
    o.assert_stderr_has(&["warning: small sample: 8 base samples"]);
    let report = std::fs::read_to_string(d.join("s/report.html")).unwrap();
    assert!(report.contains("Warning: small sample: 8 base samples"), "the Sobol report carries the warning");
    assert_has(&d.join("s"), &["indices.csv", "runs.csv", "manifest.json", "report.html"], &o);
    let (h, rows) = csv_rows(&d.join("s/indices.csv"));
    assert_eq!(h, ["parameter", "metric", "method", "index", "value", "ci_low", "ci_high"]);
    let params = ["governance.discretion", "governance.target_pressure", "need_types[0].complexity_mean"];
    let metrics = ["failure_demand_share", "cost_per_resolved_need", "gaming_gap"];
    assert_eq!(rows.len(), params.len() * metrics.len() * 2);
    for p in params {
        for m in metrics {
            for index in ["S1", "ST"] {
                let row = rows.iter().find(|r| r[0] == p && r[1] == m && r[3] == index);
                let row = row.unwrap_or_else(|| panic!("no {index} row for {p} / {m}"));
                assert_eq!(row[2], "sobol");
                assert!(row[4].parse::<f64>().unwrap().is_finite(), "{row:?}");
            }
        }
    }
    let morris = scenarios_dir().join("sweeps/morris.toml").display().to_string();
    sim(d, &["sensitivity", &morris, "--out", "m", "--bootstrap", "100", "--threads", "1"])
        .assert_success()
        .assert_stderr_has(&["warning: small sample: 6 Morris trajectories"]);
    let (_, rows) = csv_rows(&d.join("m/indices.csv"));
    assert_eq!(rows.len(), 4 * 3 * 3, "mu, mu_star, sigma per parameter and metric");
    assert!(rows.iter().any(|r| r[3] == "mu_star" && r[2] == "morris"));

    let grid = scenarios_dir().join("sweeps/grid.toml").display().to_string();
    sim(d, &["sensitivity", &grid, "--out", "g"]).assert_code(2).assert_stderr_has(&["saltelli", "morris", "grid"]);
    assert!(!d.join("g").exists() && staging_leftovers(d).is_empty());
}

/// A Sobol design run in shards (as on a cluster), merged, then `sim sensitivity --runs`: the
/// same indices.csv and runs.csv as running it in one go; the given folder left as it was; a
/// single shard, another sweep's runs, a changed runs.csv or a folder of another command refused
/// with exit 2 and nothing written.
#[test]
fn sensitivity_takes_the_runs_of_a_merged_sweep() {
    let tmp = temp();
    let d = tmp.path();
    let saltelli = scenarios_dir().join("sweeps/saltelli.toml").display().to_string();
    sim(d, &["sensitivity", &saltelli, "--out", "whole", "--bootstrap", "50"]).assert_success();
    for i in 0..2 {
        sim(d, &["sweep", &saltelli, "--out", &format!("s{i}"), "--shard", &format!("{i}/2")]).assert_success();
    }
    sim(d, &["merge", "s0", "s1", "--out", "merged"]).assert_success();
    let before = std::fs::read(d.join("merged/runs.csv")).unwrap();
    let o = sim(d, &["sensitivity", &saltelli, "--runs", "merged", "--out", "given", "--bootstrap", "50", "--format", "json"]);
    o.assert_success().assert_stdout_has(&["\"runs_from\":\"merged\""]);
    for file in ["indices.csv", "runs.csv"] {
        assert_same_file(&d.join("whole").join(file), &d.join("given").join(file), &format!("{file}: --runs merged vs run in one go"));
    }
    assert_eq!(std::fs::read(d.join("merged/runs.csv")).unwrap(), before, "the given folder is left as it was");
    let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("given/manifest.json")).unwrap()).unwrap();
    assert_eq!((m["runs_from"].as_str(), m["runs_from_command"].as_str()), (Some("merged"), Some("merge")));
    // An earlier sensitivity's folder gives its runs again (to re-estimate with other settings).
    sim(d, &["sensitivity", &saltelli, "--runs", "whole", "--out", "again", "--bootstrap", "50"]).assert_success();
    assert_same_file(&d.join("whole/indices.csv"), &d.join("again/indices.csv"), "indices.csv: --runs of a sensitivity folder");

    let morris = scenarios_dir().join("sweeps/morris.toml").display().to_string();
    let grid = scenarios_dir().join("sweeps/grid.toml").display().to_string();
    sim(d, &["sweep", &grid, "--out", "grid"]).assert_success();
    let mut cut = before.clone();
    cut.truncate(before.len() / 2);
    std::fs::create_dir(d.join("cut")).unwrap();
    std::fs::write(d.join("cut/runs.csv"), &cut).unwrap();
    std::fs::copy(d.join("merged/manifest.json"), d.join("cut/manifest.json")).unwrap();
    for (sweep, runs, says) in [
        (&saltelli, "s0", "shard 0/2 only"),
        (&morris, "merged", "content hash differs"),
        (&saltelli, "grid", "content hash differs"),
        (&saltelli, "cut", "changed or cut"),
        (&saltelli, "nowhere", "no readable manifest.json"),
    ] {
        sim(d, &["sensitivity", sweep, "--runs", runs, "--out", "bad"])
            .assert_code(2)
            .assert_stderr_has(&[&format!("--runs {runs}: "), says]);
        assert!(!d.join("bad").exists() && staging_leftovers(d).is_empty(), "--runs {runs}: nothing written");
    }
}

/// One bad sweep file: its text (after the `base = ...` line, which is line 1), and what stderr
/// must mention (`bad.toml:LINE:` and the field).
struct Bad {
    name: &'static str,
    body: &'static str,
    stderr: &'static [&'static str],
}

const PARAM: &str = "[[parameters]]\npath = \"governance.discretion\"\nmin = 0.0\nmax = 1.0\n";

const BAD: &[Bad] = &[
    Bad {
        name: "unknown parameter path",
        body: "[design]\nkind = \"grid\"\nlevels = 2\n[[parameters]]\npath = \"governance.discretionn\"\nmin = 0.0\nmax = 1.0\n",
        stderr: &["bad.toml:6:", "parameters[0].path", "governance.discretionn"],
    },
    Bad {
        name: "index past the end",
        body: "[design]\nkind = \"grid\"\nlevels = 2\n[[parameters]]\npath = \"need_types[7].rate_per_year\"\nmin = 0.1\nmax = 0.5\n",
        stderr: &["bad.toml:6:", "parameters[0].path", "need_types[7]"],
    },
    Bad {
        name: "empty range",
        body: "[design]\nkind = \"grid\"\nlevels = 2\n[[parameters]]\npath = \"governance.discretion\"\nmin = 0.6\nmax = 0.4\n",
        stderr: &["bad.toml:8:", "parameters[0].max", "empty range"],
    },
    Bad {
        name: "range outside the parameter's valid range",
        body: "[design]\nkind = \"grid\"\nlevels = 2\n[[parameters]]\npath = \"governance.discretion\"\nmin = 0.5\nmax = 1.5\n",
        stderr: &["bad.toml:8:", "parameters[0].max", "0 to 1"],
    },
    Bad {
        name: "empty values",
        body: "[design]\nkind = \"grid\"\n[[parameters]]\npath = \"governance.discretion\"\nvalues = []\n",
        stderr: &["bad.toml:6:", "parameters[0].values", "empty"],
    },
    Bad {
        name: "unknown design kind",
        body: "[design]\nkind = \"factorial\"\n",
        stderr: &["bad.toml:3:", "design.kind", "factorial", "saltelli"],
    },
    Bad {
        name: "saltelli with too few samples",
        body: "[design]\nkind = \"saltelli\"\nsamples = 1\n",
        stderr: &["bad.toml:4:", "design.samples", "at least 2"],
    },
    Bad {
        name: "morris with odd levels",
        body: "[design]\nkind = \"morris\"\nlevels = 5\ntrajectories = 4\n",
        stderr: &["bad.toml:4:", "design.levels", "even"],
    },
    Bad { name: "morris without trajectories", body: "[design]\nkind = \"morris\"\n", stderr: &["design.trajectories"] },
    Bad { name: "lhs without samples", body: "[design]\nkind = \"lhs\"\n", stderr: &["design.samples"] },
    Bad {
        name: "unknown metric",
        body: "metrics = [\"backlog\", \"happiness\"]\n[design]\nkind = \"grid\"\nlevels = 2\n",
        stderr: &["bad.toml:2:", "metrics[1]", "happiness"],
    },
    Bad { name: "replicates 0", body: "replicates = 0\n[design]\nkind = \"grid\"\nlevels = 2\n", stderr: &["bad.toml:2:", "replicates"] },
    Bad {
        name: "unknown top-level field",
        body: "replicate = 3\n[design]\nkind = \"grid\"\nlevels = 2\n",
        stderr: &["bad.toml:2:", "replicate"],
    },
    Bad { name: "unknown design field", body: "[design]\nkind = \"grid\"\nlevel = 2\n", stderr: &["bad.toml:4:", "design.level"] },
    Bad {
        name: "design field the kind does not use",
        body: "[design]\nkind = \"grid\"\nlevels = 2\ntrajectories = 3\n",
        stderr: &["bad.toml:5:", "design.trajectories"],
    },
    Bad {
        name: "count without integer = true",
        body: "[design]\nkind = \"grid\"\nlevels = 2\n[[parameters]]\npath = \"workforce.frontline_staff\"\nmin = 10\nmax = 20\n",
        stderr: &["bad.toml:7:", "parameters[0].min", "integer = true"],
    },
    Bad {
        name: "days below the warm-up",
        body: "days = 100\n[design]\nkind = \"grid\"\nlevels = 2\n",
        stderr: &["bad.toml:2:", "days", "warmup_days"],
    },
    Bad { name: "malformed TOML", body: "[design\nkind = \"grid\"\n", stderr: &["bad.toml:2:"] },
];

#[test]
fn bad_sweep_files_exit_2_with_file_line_and_field() {
    let tmp = temp();
    let d = tmp.path();
    for case in BAD {
        // Cases without their own parameters get a valid one after the body.
        let body = if case.body.contains("[[parameters]]") || case.name == "malformed TOML" {
            case.body.to_string()
        } else {
            format!("{}{PARAM}", case.body)
        };
        let f = sweep_file(d, "bad.toml", &body);
        let o = sim(d, &["sweep", &f, "--out", "out"]);
        assert_eq!(o.code(), Some(2), "{}: expected exit 2\n{o}", case.name);
        o.assert_stderr_has(case.stderr);
        assert!(!d.join("out").exists() && !work_folder(d, "out").exists(), "{}: something was written\n{o}", case.name);
        sim(d, &["sweep", &f, "--check"]).assert_code(2);
    }
    // A missing base file is named.
    fs::write(d.join("nobase.toml"), format!("base = \"nowhere/base.toml\"\n[design]\nkind = \"grid\"\nlevels = 2\n{PARAM}")).unwrap();
    sim(d, &["sweep", "nobase.toml", "--out", "out"]).assert_code(2).assert_stderr_has(&["nobase.toml:1:", "base", "nowhere/base.toml"]);
    // A missing sweep file too.
    sim(d, &["sweep", "missing.toml", "--out", "out"]).assert_code(2).assert_stderr_has(&["missing.toml"]);
    assert_eq!(entries(d), names(&["bad.toml", "nobase.toml"]));
}
