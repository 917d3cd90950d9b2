//! `sim compare` and the built-in comparison that plain `sim` runs.

use std::path::Path;

use crate::{FAST, bytes, entries, names, sim, sim_env, temp};

const TOP_DOWN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/top-down.toml");
const ENABLEMENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/enablement.toml");

fn compare_files() -> std::collections::BTreeSet<String> {
    let mut files = names(&[
        crate::MARKER,
        "ensemble.csv",
        "summary.csv",
        "effects.csv",
        "trends.csv",
        "replicates.csv",
        "replicates.parquet",
        "manifest.json",
        "report.html",
    ]);
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
    assert_eq!(header(&out.join("summary.csv")), ["scenario", "window", "metric", "mean", "ci_low", "ci_high", "n"]);
    assert_eq!(
        header(&out.join("effects.csv")),
        [
            "scenario_a",
            "scenario_b",
            "metric",
            "difference",
            "ci_low",
            "ci_high",
            "pct_change",
            "pct_ci_low",
            "pct_ci_high",
            "verdict",
            "effect_size",
            "n",
            "ci_low_clipped",
            "ci_high_clipped"
        ]
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
        let (m, lo, hi, n) = (num(&r[3]), num(&r[4]), num(&r[5]), num(&r[6]));
        assert!(n <= 4.0);
        if n >= 2.0 && lo.is_finite() {
            assert!(lo <= m + 1e-12 && m <= hi + 1e-12, "{r:?}");
        }
    }
    // Effects: option minus baseline (the first scenario by default) equals the difference of the
    // summary means (paired, same replicates).
    let summary = rows(&out.join("summary.csv"));
    let mean_of = |sc: &str, metric: &str| num(&summary.iter().find(|r| &r[0] == sc && &r[1] == "all" && &r[2] == metric).unwrap()[3]);
    let effects = rows(&out.join("effects.csv"));
    let fd = effects.iter().find(|r| &r[2] == "failure_demand_share").expect("failure_demand_share effect");
    assert_eq!((&fd[0], &fd[1]), ("enablement", "top-down"));
    let diff = num(&fd[3]);
    assert!((diff - (mean_of("enablement", "failure_demand_share") - mean_of("top-down", "failure_demand_share"))).abs() < 1e-9);
    assert!(num(&fd[4]) <= diff && diff <= num(&fd[5]));
    let pct = num(&fd[6]);
    assert!((pct - 100.0 * diff / mean_of("top-down", "failure_demand_share")).abs() < 1e-6, "% of the baseline's mean");
    assert!(num(&fd[10]).is_finite());

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
    // The figures too: with two threads they are drawn two at a time.
    for f in [
        "ensemble.csv",
        "summary.csv",
        "effects.csv",
        "dashboard.png",
        "dashboard.svg",
        "true_vs_reported.png",
        "summary.svg",
        "effects.png",
    ] {
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
    let get =
        |sc: &str, m: &str| summary.iter().find(|r| &r[0] == sc && &r[1] == "all" && &r[2] == m).map(|r| (num(&r[3]), num(&r[6]))).unwrap();
    assert_eq!(get("top-down", "failure_demand_share").1, 20.0);
    // The report shows the dashboard (issue 7: `cargo run --release` writes report.html with it).
    let report = String::from_utf8(bytes(&out.join("report.html"))).unwrap();
    assert!(report.contains("src=\"dashboard.png\""), "report.html lacks the dashboard");
    assert!(get("top-down", "failure_demand_share").0 > get("enablement", "failure_demand_share").0);
}

/// The direction of a metric by its name, as the report and effects.csv must follow it.
fn direction(metric: &str) -> sim_core::metrics::Direction {
    sim_core::metrics::Metric::from_name(metric).unwrap_or_else(|| panic!("unknown metric {metric}")).direction()
}

/// Issue 18: with --baseline, every effect is option minus that baseline, and its better/worse
/// label agrees with its sign and the metric's direction (checked for a higher-is-better and a
/// lower-is-better metric, and for every other row).
#[test]
fn issue_18_baseline_effects_sign_and_verdict_follow_the_metric_direction() {
    use sim_core::metrics::Direction;
    let tmp = temp();
    std::fs::write(tmp.path().join("middle.toml"), "name = \"middle\"\n[governance]\npreset = \"enablement\"\napproval_layers = 3\n")
        .unwrap();
    let mut args = vec!["compare", TOP_DOWN, "middle.toml", ENABLEMENT, "--replicates", "5", "--baseline", "enablement", "--out", "cmp"];
    args.extend(FAST);
    let o = sim(tmp.path(), &args);
    o.assert_success().assert_stdout_has(&["top-down against enablement:", "middle against enablement:"]);
    let out = tmp.path().join("cmp");
    let summary = rows(&out.join("summary.csv"));
    let mean_of = |sc: &str, metric: &str| num(&summary.iter().find(|r| &r[0] == sc && &r[1] == "all" && &r[2] == metric).unwrap()[3]);
    let effects = rows(&out.join("effects.csv"));
    assert_eq!(
        effects.iter().map(|r| r[0].to_string()).collect::<std::collections::BTreeSet<_>>(),
        ["middle", "top-down"].map(String::from).into()
    );
    let mut judged = std::collections::BTreeSet::new();
    for r in &effects {
        assert_eq!(&r[1], "enablement", "every effect is against the baseline: {r:?}");
        let (metric, diff, lo, hi, verdict) = (&r[2], num(&r[3]), num(&r[4]), num(&r[5]), &r[9]);
        // Over all replicates (where some are undefined, the pairs differ from the means).
        if diff.is_finite() && &r[11] == "5" {
            assert!((diff - (mean_of(&r[0], metric) - mean_of("enablement", metric))).abs() < 1e-9 * (1.0 + diff.abs()), "{r:?}");
        }
        let clear = lo.is_finite() && hi.is_finite() && (lo > 0.0 || hi < 0.0);
        let expected = match (direction(metric), clear) {
            (_, false) => "unclear",
            (Direction::Neutral, true) => "neutral",
            (Direction::HigherIsBetter, true) => {
                if diff > 0.0 {
                    "better"
                } else {
                    "worse"
                }
            }
            (Direction::LowerIsBetter, true) => {
                if diff < 0.0 {
                    "better"
                } else {
                    "worse"
                }
            }
        };
        assert_eq!(verdict, expected, "{r:?}");
        if matches!(verdict, "better" | "worse") {
            judged.insert(metric.to_string());
        }
    }
    // The two metrics the check rests on got a verdict (else the test would prove nothing).
    assert_eq!(direction("true_resolution_rate"), Direction::HigherIsBetter);
    assert_eq!(direction("failure_demand_share"), Direction::LowerIsBetter);
    for m in ["true_resolution_rate", "failure_demand_share"] {
        assert!(judged.contains(m), "{m} has a clear effect of top-down against enablement in this set-up: {effects:?}");
    }
    // The headline says it in words, with the verdicts of effects.csv.
    let fd = effects.iter().find(|r| &r[0] == "top-down" && &r[2] == "failure_demand_share").unwrap();
    let word = &fd[9];
    let line = o.stdout.lines().find(|l| l.starts_with("top-down against enablement:")).unwrap();
    assert!(line.contains(&format!("failure demand {}", if num(&fd[3]) > 0.0 { "+" } else { "-" })), "{line}");
    assert!(line.contains(&format!("({word})")), "{line}");
    let report = String::from_utf8(bytes(&out.join("report.html"))).unwrap();
    assert!(report.contains("top-down against enablement:"), "the report opens with the headline");
    let manifest: serde_json::Value = serde_json::from_slice(&bytes(&out.join("manifest.json"))).unwrap();
    assert_eq!(manifest["baseline"], "enablement");
}

#[test]
fn issue_18_an_unknown_baseline_is_refused_by_name() {
    let tmp = temp();
    let o = sim(tmp.path(), &["compare", TOP_DOWN, ENABLEMENT, "--baseline", "bottom-up", "--out", "cmp"]);
    o.assert_code(2).assert_stderr_has(&["--baseline", "bottom-up", "top-down", "enablement"]);
    assert!(!tmp.path().join("cmp").exists());
}

/// Issue 18: a small sample carries a visible warning (terminal and report); the JSON format
/// stays one object per line; replicates.csv and .parquet hold every replicate's summary, and
/// their mean is summary.csv's mean.
#[test]
fn issue_18_small_samples_warn_and_replicates_are_kept() {
    let tmp = temp();
    let mut args = vec!["compare", TOP_DOWN, ENABLEMENT, "--replicates", "3", "--format", "json", "--out", "cmp"];
    args.extend(FAST);
    let o = sim(tmp.path(), &args);
    o.assert_success().assert_stderr_has(&["warning: only 3 replicates"]);
    let kinds: Vec<String> = o
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}"))["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(kinds.contains(&"headline".to_string()) && kinds.last().map(String::as_str) == Some("wrote"), "{kinds:?}");
    let out = tmp.path().join("cmp");
    let report = String::from_utf8(bytes(&out.join("report.html"))).unwrap();
    assert!(report.contains("Small sample: only 3 replicates"), "the report warns");

    let reps = rows(&out.join("replicates.csv"));
    let head = header(&out.join("replicates.csv"));
    assert_eq!(&head[..3], ["scenario", "replicate", "seed"]);
    assert_eq!(reps.len(), 2 * 3);
    let manifest: serde_json::Value = serde_json::from_slice(&bytes(&out.join("manifest.json"))).unwrap();
    let summary = rows(&out.join("summary.csv"));
    for sc in ["top-down", "enablement"] {
        let mine: Vec<&csv::StringRecord> = reps.iter().filter(|r| &r[0] == sc).collect();
        for (i, r) in mine.iter().enumerate() {
            assert_eq!(r[1].parse::<usize>().unwrap(), i);
            assert_eq!(r[2].parse::<u64>().unwrap(), manifest["seeds"][i].as_u64().unwrap(), "replicate r runs with seed r");
        }
        let col = head.iter().position(|h| h == "failure_demand_share").unwrap();
        let mean = mine.iter().map(|r| num(&r[col])).sum::<f64>() / 3.0;
        let s = summary.iter().find(|r| &r[0] == sc && &r[1] == "all" && &r[2] == "failure_demand_share").unwrap();
        assert!((mean - num(&s[3])).abs() < 1e-12, "{sc}: replicate mean {mean} vs summary {}", &s[3]);
    }
    // The Parquet file holds the same rows.
    let file = std::fs::File::open(out.join("replicates.parquet")).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
    let n: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(n, reps.len());
}

/// Issue 18: bounded metrics' intervals stay within their bounds in every file (shares in [0, 1]).
#[test]
fn issue_18_no_interval_of_a_share_leaves_its_bounds() {
    let tmp = temp();
    // Two replicates: the widest Student's t intervals (t = 12.7).
    let mut args = vec!["compare", TOP_DOWN, ENABLEMENT, "--replicates", "2", "--out", "cmp"];
    args.extend(FAST);
    sim(tmp.path(), &args).assert_success();
    let out = tmp.path().join("cmp");
    let mut checked = 0;
    for (file, metric, lo, hi) in [("summary.csv", 2, 4, 5), ("ensemble.csv", 2, 4, 5)] {
        for r in rows(&out.join(file)) {
            let m = sim_core::metrics::Metric::from_name(&r[metric]).unwrap();
            let (b0, b1) = m.bounds();
            let (l, h) = (num(&r[lo]), num(&r[hi]));
            if l.is_finite() {
                assert!(l >= b0 && h <= b1, "{file}: {r:?} leaves [{b0}, {b1}]");
                checked += usize::from(m.is_share());
            }
        }
    }
    assert!(checked > 100, "shares with intervals were checked");
}

/// Issue 18: an option that drifts (a reform to enablement in the middle of the window) is
/// flagged as still changing in trends.csv, the terminal and the report, and its year-by-year
/// summaries show the drift.
#[test]
fn issue_18_a_drifting_option_is_flagged_with_its_yearly_values() {
    let tmp = temp();
    std::fs::write(
        tmp.path().join("late.toml"),
        "name = \"late-reform\"\n[governance]\npreset = \"top_down\"\n[[events]]\nkind = \"reform\"\nday = 545\npreset = \"enablement\"\n",
    )
    .unwrap();
    let mut args = vec!["compare", TOP_DOWN, "late.toml", "--replicates", "5", "--out", "cmp", "--days", "1100"];
    args.extend(&FAST[2..]);
    let o = sim(tmp.path(), &args);
    o.assert_success();
    let out = tmp.path().join("cmp");
    let trends = rows(&out.join("trends.csv"));
    let t = trends.iter().find(|r| &r[0] == "late-reform" && &r[1] == "failure_demand_share").expect("a trend row");
    assert_eq!(&t[2], "3", "three years in the window: 180..544, 545..909, 910..1099");
    assert_eq!(&t[8], "true", "the drift is flagged: {t:?}");
    // Year-by-year values in summary.csv agree with trends.csv and fall after the reform.
    let summary = rows(&out.join("summary.csv"));
    let year = |w: &str| num(&summary.iter().find(|r| &r[0] == "late-reform" && &r[1] == w && &r[2] == "failure_demand_share").unwrap()[3]);
    let (y1, y2, y3) = (year("year_1"), year("year_2"), year("year_3"));
    assert!((y1 - num(&t[3])).abs() < 1e-12 && (y3 - num(&t[4])).abs() < 1e-12);
    assert!(y1 > y3, "failure demand falls after the reform: {y1} {y2} {y3}");
    assert!(num(&t[6]) < 0.0, "the slope's CI lies below zero");
    // The whole window lies between the years.
    let all = year("all");
    assert!(all < y1.max(y2) && all > y3.min(y2), "{all} vs {y1} {y2} {y3}");
    o.assert_stdout_has(&["still changing: late-reform's failure demand fell", "from year 1 to year 3"]);
    let report = String::from_utf8(bytes(&out.join("report.html"))).unwrap();
    assert!(report.contains("late-reform's failure demand fell"), "the report's headline shows the drift");
    assert!(report.contains("Year by year") && report.contains("year 3"));
}

/// Issue 18: money is shown with the baseline scenario's `money.currency_symbol`, in the terminal,
/// the report and the figures, and `sim plot` redraws it the same; the model's numbers do not
/// depend on it.
#[test]
fn issue_18_money_shows_the_scenarios_currency_symbol() {
    let tmp = temp();
    let euro =
        |name: &str, preset: &str| format!("name = \"{name}\"\n[governance]\npreset = \"{preset}\"\n[money]\ncurrency_symbol = \"€\"\n");
    std::fs::write(tmp.path().join("a.toml"), euro("td-euro", "top_down")).unwrap();
    std::fs::write(tmp.path().join("b.toml"), euro("en-euro", "enablement")).unwrap();
    let mut args = vec!["compare", "a.toml", "b.toml", "--replicates", "2", "--out", "eur"];
    args.extend(FAST);
    let o = sim(tmp.path(), &args);
    o.assert_success().assert_stdout_has(&["cost per resolved need €"]);
    assert!(!o.stdout.contains('£'), "{o}");
    let out = tmp.path().join("eur");
    let report = String::from_utf8(bytes(&out.join("report.html"))).unwrap();
    assert!(report.contains("€ per resolution") && !report.contains('£'));
    let summary_svg = String::from_utf8(bytes(&out.join("summary.svg"))).unwrap();
    assert!(summary_svg.contains("€/resolution"));
    let before = bytes(&out.join("summary.svg"));
    sim(tmp.path(), &["plot", "eur"]).assert_success();
    assert!(bytes(&out.join("summary.svg")) == before, "sim plot redraws with the same symbol");
    // Same numbers as the pound-sign presets.
    let mut args = vec!["compare", TOP_DOWN, ENABLEMENT, "--replicates", "2", "--out", "gbp"];
    args.extend(FAST);
    sim(tmp.path(), &args).assert_success();
    let col = |dir: &str| -> Vec<String> { rows(&tmp.path().join(dir).join("summary.csv")).iter().map(|r| r[3].to_string()).collect() };
    assert_eq!(col("eur"), col("gbp"), "the symbol changes no result");
}

#[test]
fn an_interval_cut_at_a_bound_is_marked_and_explained() {
    // Two replicates: the t intervals are wide, and enablement's waits and burnout lie near 0,
    // so those intervals reach past what the metric can take and are cut there.
    let tmp = temp();
    let mut args = vec!["compare", TOP_DOWN, ENABLEMENT, "--replicates", "2", "--out", "cmp"];
    args.extend(FAST);
    let o = sim(tmp.path(), &args);
    o.assert_success();
    let headline = o.stdout.lines().find(|l| l.starts_with("enablement against top-down:")).expect("a headline");
    let note = "* cut at the limit the metric can take";
    assert!(headline.contains("*]") || headline.contains("*,"), "a cut end is marked: {headline}");
    assert!(o.stdout.lines().any(|l| l.starts_with(note)), "the note follows the headline:\n{}", o.stdout);
    let out = tmp.path().join("cmp");
    let mut r = csv::Reader::from_path(out.join("effects.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name}"));
    let (metric, low, high, ci_low, diff) =
        (col("metric"), col("ci_low_clipped"), col("ci_high_clipped"), col("ci_low"), col("difference"));
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let wait = rows.iter().find(|r| &r[metric] == "wait_mean_days").unwrap();
    assert_eq!((&wait[low], &wait[high]), ("true", "false"), "{wait:?}");
    // Cut at the bound: the option's mean wait cannot be below 0, so the difference not below
    // minus the baseline's mean.
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let base_wait: f64 =
        summary.lines().find(|l| l.starts_with("top-down,all,wait_mean_days,")).and_then(|l| l.split(',').nth(3)).unwrap().parse().unwrap();
    let (lo, d): (f64, f64) = (wait[ci_low].parse().unwrap(), wait[diff].parse().unwrap());
    assert!((lo + base_wait).abs() < 1e-3 * base_wait, "ci_low {lo} at -baseline {base_wait}");
    assert!(d > lo);
    assert!(rows.iter().all(|r| ["true", "false"].contains(&&r[low]) && ["true", "false"].contains(&&r[high])));
    let report = String::from_utf8(bytes(&out.join("report.html"))).unwrap();
    assert!(report.contains(&note[2..]), "the report explains the mark");
    // Enough replicates for the intervals to stay inside: nothing marked, no note.
    let mut args = vec!["compare", TOP_DOWN, ENABLEMENT, "--replicates", "3", "--out", "cmp3"];
    args.extend(FAST);
    let o = sim(tmp.path(), &args);
    assert!(!o.stdout.contains(note) && !o.stdout.contains("*]") && !o.stdout.contains("*,"), "{}", o.stdout);
}
