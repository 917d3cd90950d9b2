//! Hostile input (issue 17): a corpus of truncations, wrong structures, bad encodings and huge
//! values must give exit 2 (or 0 where the text happens to be valid) and never a panic; and a
//! property over the parameter table: a short run at each parameter's minimum and maximum exits
//! 0 with no inf anywhere and NaN only where a metric is documented as undefined (a ratio of
//! window totals with nothing to divide by: its summary is not "mean of daily values").

use std::fs;
use std::path::Path;

use sim_core::metrics::Metric;
use sim_core::scenario::{NeedType, Scenario};

use crate::{read_json, sim, temp};

/// A scenario using most features: sections, need types, events of every kind.
const FULL: &str = "name = \"hostile\"\n[run]\ndays = 300\nwarmup_days = 30\nseed = 7\n\n[governance]\npreset = \"enablement\"\ndiscretion = 0.5\n\n\
[population]\ncitizens = 1000\nneighbourhoods = 4\n\n[workforce]\nfrontline_staff = 6\n\n[[need_types]]\nname = \"care\"\nrate_per_year = 0.2\n\n\
[[need_types]]\nname = \"money\"\nenforcement = true\n\n[[events]]\nkind = \"demand_surge\"\nday = 50\nmultiplier = 2.0\nduration_days = 30\n\n\
[[events]]\nkind = \"lever\"\nday = 100\nlever = \"governance.continuity\"\nvalue = 0.9\nramp_days = 20\n\n[[events]]\nkind = \"reform\"\nday = 150\npreset = \"top_down\"\n\n\
[[events]]\nkind = \"funding_cut\"\nday = 200\nshare = 0.2\n";

#[test]
fn a_hostile_corpus_never_panics_and_exits_2() {
    let tmp = temp();
    let d = tmp.path();
    let mut corpus: Vec<(String, Vec<u8>)> = Vec::new();
    // Truncations at many offsets (every 7th byte): each is valid (exit 0 from validate) or bad input (2).
    for cut in (0..FULL.len()).step_by(7) {
        corpus.push((format!("cut{cut}"), FULL.as_bytes()[..cut].to_vec()));
    }
    // Wrong structures and huge values.
    for (i, text) in [
        "run = \"x\"",
        "[run]\ndays = 1e400",
        "[run]\ndays = 99999999999999999999",
        "[run]\ndays = -5",
        "[run]\nseed = 1.5",
        "[population]\ncitizens = 18446744073709551616",
        "[population]\ncitizens = 1e300",
        "need_types = 5",
        "need_types = []",
        "need_types = [{}, {}]",
        "events = {kind = 'lever'}",
        "events = [1, 2]",
        "[[events]]\nkind = 5",
        "[[events]]\nday = 1",
        "[[events]]\nkind = 'lever'\nday = 1\nlever = 'discretion'\nvalue = 'high'",
        "[[events]]\nkind = 'lever'\nday = 4294967295\nlever = 'discretion'\nvalue = 0.5",
        "[[events]]\nkind = 'demand_surge'\nday = 1\nmultiplier = inf\nduration_days = 1",
        "[[events]]\nkind = 'demand_surge'\nday = 1\nmultiplier = nan\nduration_days = 1",
        "[governance]\ndiscretion = nan",
        "[governance]\ndiscretion = inf",
        "[governance]\npreset = 3",
        "[governance]\npreset = ['a']",
        "[money]\nfunding_per_year = -inf",
        "name = 5",
        "[[need_types]]\nname = 'a'\n[[need_types]]\nname = 'a'",
        "[run]\n[run]",
        "a.b.c.d = 1",
        "[governance.sub]\nx = 1",
        "\u{feff}[run]\ndays = 100",
    ]
    .iter()
    .enumerate()
    {
        corpus.push((format!("struct{i}"), text.as_bytes().to_vec()));
    }
    // Encodings: Latin-1, UTF-16 with a BOM, a NUL byte, lone continuation bytes.
    corpus.push(("latin1".into(), b"name = \"caf\xe9\"\n".to_vec()));
    corpus.push(("utf16".into(), b"\xff\xfen\x00a\x00m\x00e\x00".to_vec()));
    corpus.push(("nul".into(), b"name = \"a\x00b\"\n".to_vec()));
    corpus.push(("continuation".into(), b"\x80\x80\x80".to_vec()));
    let mut failures = Vec::new();
    for (name, bytes) in &corpus {
        let file = format!("{name}.toml");
        fs::write(d.join(&file), bytes).unwrap();
        let o = sim(d, &["validate", &file]);
        let ok = matches!(o.code(), Some(0) | Some(2)) && !o.stderr.contains("panicked");
        // A bad file must say where: `file:LINE:COLUMN` or the file and a field.
        let located = o.code() != Some(2) || o.stderr.contains(&format!("{file}:")) || o.stderr.contains(&file);
        if !ok || !located {
            failures.push(format!("{name}\n{o}"));
        }
    }
    // Huge values through --set and the command line.
    for args in [
        &["run", "--set", "population.citizens=99999999999999999999999"][..],
        &["run", "--days", "4294967296"],
        &["run", "--set", "run.days=4294967295"],
        &["run", "--set", "need_types[18446744073709551615].rate_per_year=1"],
        &["sweep", "nowhere.toml", "--threads", "65535"],
        &["compare", "a", "b", "--replicates", "4294967295"],
    ] {
        let o = sim(d, args);
        if o.code() != Some(2) || o.stderr.contains("panicked") {
            failures.push(format!("{args:?}\n{o}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} hostile inputs misbehaved:\n{}", failures.len(), corpus.len() + 6, failures.join("\n\n"));
    assert!(!d.join("sim-out").exists(), "bad input wrote an output");
}

/// Metrics whose summary may be undefined (NaN, `null` in summary.json): exactly those that
/// document when (`Metric::undefined_when`, shown by `sim describe metrics`).
fn may_be_undefined(m: Metric) -> bool {
    m.undefined_when().is_some()
}

/// The bounds a metric's unit documents: shares and 0..1 scores in [0, 1], the gaming gap (a
/// difference of shares) in [-1, 1], counts, hours and costs non-negative; None for the budget
/// (a deficit is negative) and relative changes.
fn bounds(m: Metric) -> Option<(f64, f64)> {
    match (m.name(), m.unit()) {
        ("gaming_gap", _) => Some((-1.0, 1.0)),
        ("budget", _) | (_, "relative change") => None,
        (_, "share" | "0..1" | "share of teams" | "share of encounters" | "harm/encounter") => Some((0.0, 1.0)),
        _ => Some((0.0, f64::INFINITY)),
    }
}

/// Extra settings a parameter's extreme needs to be a valid scenario (cross-field rules).
fn companions(path: &str, at_max: bool) -> Vec<String> {
    let v: &[&str] = match (path, at_max) {
        ("run.days", false) => &["run.warmup_days=0"],
        ("run.warmup_days", true) => &["run.days=36500"],
        ("governance.prevention_share", true) => &["governance.admin_share=0"],
        ("governance.admin_share", true) => &["governance.prevention_share=0"],
        ("population.neighbourhoods", true) => &["population.citizens=1000"],
        _ => &[],
    };
    v.iter().map(|s| s.to_string()).collect()
}

fn check_outputs(out: &Path, label: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let series = fs::read_to_string(out.join("timeseries.csv")).unwrap_or_default();
    if series.is_empty() {
        problems.push(format!("{label}: no timeseries.csv"));
    }
    if series.contains("inf") {
        problems.push(format!("{label}: inf in timeseries.csv"));
    }
    let summary = read_json(&out.join("summary.json"));
    for m in Metric::ALL {
        if summary["metrics"][m.name()].is_null() && !may_be_undefined(*m) {
            problems.push(format!("{label}: summary metric {} is undefined (NaN) though its summary is a mean", m.name()));
        }
        if let Some(v) = summary["metrics"][m.name()].as_f64()
            && let Some((lo, hi)) = bounds(*m)
            && !(lo - 1e-9..=hi + 1e-9).contains(&v)
        {
            problems.push(format!("{label}: summary metric {} = {v} outside its bounds [{lo}, {hi}] ({})", m.name(), m.unit()));
        }
    }
    // Daily values too.
    let mut rows = csv::Reader::from_reader(series.as_bytes());
    let header = rows.headers().cloned().unwrap_or_default();
    for row in rows.records().flatten() {
        for (name, cell) in header.iter().zip(row.iter()) {
            // NaN is a day with nothing to divide by (see `may_be_undefined`).
            if let (Some(m), Ok(v)) = (Metric::from_name(name), cell.parse::<f64>())
                && !v.is_nan()
                && let Some((lo, hi)) = bounds(m)
                && !(lo - 1e-9..=hi + 1e-9).contains(&v)
            {
                problems.push(format!("{label}: {name} = {v} on day {} outside its bounds [{lo}, {hi}]", &row[0]));
                return problems;
            }
        }
    }
    problems
}

#[test]
fn every_parameter_at_its_minimum_and_maximum_runs() {
    let tmp = temp();
    let d = tmp.path();
    let specs: Vec<_> = Scenario::parameter_specs().into_iter().filter(|p| p.min.is_finite() && p.max.is_finite()).collect();
    assert!(specs.len() > 100, "the table has {} numeric parameters", specs.len());
    let cases: Vec<(String, bool, String)> = specs
        .iter()
        .flat_map(|p| {
            let path = if p.section == NeedType::KEY { format!("need_types[0].{}", p.name) } else { format!("{}.{}", p.section, p.name) };
            if path == "run.seed" {
                return [(path.clone(), false, "0".to_string()), (path, true, u64::MAX.to_string())];
            }
            let integer = p.default.parse::<i64>().is_ok();
            let text = |x: f64| if integer { format!("{}", x as i64) } else { format!("{x:?}") };
            [(path.clone(), false, text(p.min)), (path, true, text(p.max))]
        })
        .collect();
    let run_case = |(path, at_max, value): &(String, bool, String)| -> Vec<String> {
        let label = format!("{path}={value}");
        let out = format!("o-{}-{}", path.replace(['[', ']', '.'], "_"), if *at_max { "max" } else { "min" });
        // Short: 20 days, 200 citizens, 3 staff (10M citizens at that parameter's maximum: 2 days).
        let big = path == "population.citizens" && *at_max;
        let days = if big { "2" } else { "20" };
        let mut sets = vec![
            format!("run.days={days}"),
            "run.warmup_days=1".to_string(),
            "population.citizens=200".into(),
            "workforce.frontline_staff=3".into(),
        ];
        sets.extend(companions(path, *at_max));
        sets.push(label.clone());
        let mut args = vec!["run".to_string(), "--out".into(), out.clone(), "-q".into()];
        for s in &sets {
            args.extend(["--set".to_string(), s.clone()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = sim(d, &args);
        if o.code() != Some(0) || o.stderr.contains("panicked") {
            return vec![format!("{label}: exit {:?}\n{o}", o.code())];
        }
        let problems = check_outputs(&d.join(&out), &label);
        let _ = fs::remove_dir_all(d.join(&out));
        problems
    };
    // Two workers: the runs are short; most of the time is process start and plotting.
    let (a, b) = cases.split_at(cases.len() / 2);
    let (pa, pb) = std::thread::scope(|s| {
        let ha = s.spawn(|| a.iter().flat_map(run_case).collect::<Vec<_>>());
        let hb = s.spawn(|| b.iter().flat_map(run_case).collect::<Vec<_>>());
        (ha.join().unwrap(), hb.join().unwrap())
    });
    let problems: Vec<String> = pa.into_iter().chain(pb).collect();
    assert!(problems.is_empty(), "{} of {} extreme runs failed:\n{}", problems.len(), cases.len(), problems.join("\n\n"));
}
