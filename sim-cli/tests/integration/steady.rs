//! Steady state (MODEL.md §10): summary.json's `steady_state` section, the warnings of `sim run`
//! and `sim compare` on a window that is still changing, and `sim warmup`.

use crate::{read_json, scenario, sim, temp};

const SMALL: &[&str] =
    &["--set", "population.citizens=5000", "--set", "workforce.frontline_staff=15", "--set", "money.funding_per_year=2.25e6"];
const KEY: [&str; 6] =
    ["failure_demand_share", "true_resolution_rate", "cost_per_resolved_need", "wait_mean_days", "burnout_mean", "backlog"];

/// A metric's label as the result lines begin it ("failure demand" for failure_demand_share).
fn sim_words_label(name: &str) -> String {
    let label = sim_core::metrics::Metric::from_name(name).unwrap_or_else(|| panic!("unknown metric {name}")).label();
    let head = label.split(',').next().unwrap_or(label);
    let mut c = head.chars();
    c.next().map(|f| f.to_lowercase().chain(c).collect()).unwrap_or_default()
}

fn args<'a>(head: &[&'a str]) -> Vec<&'a str> {
    head.iter().copied().chain(SMALL.iter().copied()).collect()
}

#[test]
fn summary_json_states_the_yearly_means_trend_and_truncation_of_the_key_metrics() {
    let tmp = temp();
    let file = scenario("reform-transition.toml");
    let o = sim(tmp.path(), &args(&["run", file.to_str().unwrap(), "--days", "1275", "--out", "out"]));
    o.assert_success();
    let s = read_json(&tmp.path().join("out/summary.json"));
    // The existing fields come first, unchanged; steady_state is added after them.
    let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["scenario", "seed", "window_start_day", "window_end_day", "metrics", "neighbourhood_wellbeing", "steady_state"]);
    let st = &s["steady_state"];
    assert!(st["method"].as_str().unwrap().contains("MSER-5"));
    let metrics = st["metrics"].as_object().unwrap();
    assert_eq!(metrics.keys().map(String::as_str).collect::<Vec<_>>(), KEY);
    for (name, m) in metrics {
        let years = m["years"].as_array().unwrap();
        // Window 180..1274: three years.
        assert_eq!(years.len(), 3, "{name}: {m:#}");
        assert_eq!((years[0]["from_day"].as_u64(), years[2]["to_day"].as_u64()), (Some(180), Some(1274)));
        let cut = m["mser5_truncation_day"].as_u64().unwrap_or(0);
        assert!(cut <= 1275 / 2 && cut % 5 == 0, "{name}: {m:#}");
        let significant = m["significant_trend"].as_bool().unwrap();
        if let (Some(lo), Some(hi)) = (m["slope_ci_low"].as_f64(), m["slope_ci_high"].as_f64()) {
            assert_eq!(significant, lo > 0.0 || hi < 0.0, "{name}: {m:#}");
            // The warning on stderr names the metric exactly when the trend is significant, and a
            // result line says it in words.
            let warning =
                o.stderr.lines().find(|l| l.starts_with("warning: reform-transition: ") && l.contains("still changing over the window ("));
            assert_eq!(warning.is_some_and(|w| w.contains(name.as_str())), significant, "{name}\n{o}");
            let label = sim_words_label(name);
            assert_eq!(o.stdout.contains(&format!("still changing: reform-transition's {label} ")), significant, "{name}\n{o}");
        }
    }
    // With --format json, one `still_changing` object a drifting metric, naming it.
    let j = sim(tmp.path(), &args(&["run", file.to_str().unwrap(), "--days", "1275", "--format", "json", "--out", "out-json"]));
    j.assert_success();
    let named: Vec<String> = j
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|v| v["kind"] == "still_changing")
        .map(|v| {
            assert!(v["text"].as_str().unwrap().starts_with("still changing: reform-transition's "), "{v}");
            v["metric"].as_str().unwrap().to_string()
        })
        .collect();
    let drifting: Vec<String> =
        metrics.iter().filter(|(_, m)| m["significant_trend"].as_bool() == Some(true)).map(|(n, _)| n.clone()).collect();
    assert!(!drifting.is_empty(), "a reform three years in still moves something: {st:#}");
    assert_eq!(named, drifting, "{j}");
    // The summary over the whole window is the mean of the years' (by the ratio rule, weighted by
    // cases): it lies between the smallest and largest yearly failure demand share.
    let fd = &metrics["failure_demand_share"];
    let ys: Vec<f64> = fd["years"].as_array().unwrap().iter().map(|y| y["mean"].as_f64().unwrap()).collect();
    let whole = s["metrics"]["failure_demand_share"].as_f64().unwrap();
    assert!(ys.iter().cloned().fold(f64::INFINITY, f64::min) <= whole && whole <= ys.iter().cloned().fold(0.0, f64::max));
}

#[test]
fn compare_warns_when_a_reform_is_still_working_through_the_window() {
    let tmp = temp();
    let (a, b) = (scenario("reform-transition.toml"), scenario("top-down.toml"));
    let o = sim(
        tmp.path(),
        &args(&["compare", a.to_str().unwrap(), b.to_str().unwrap(), "--replicates", "4", "--days", "1275", "--out", "out"]),
    );
    o.assert_success();
    // Failure demand falls after the reform on day 540 in every replicate: the mean slope over
    // replicates is clearly negative.
    o.assert_stdout_has(&["still changing: reform-transition's failure demand fell"]);
    // Stated once: the result lines give each drift, one warning a scenario names them.
    o.assert_stderr_has(&["warning: reform-transition: ", "still changing over the window (", "failure_demand_share", "over 4 replicates"]);
    let warnings = o.stderr.lines().filter(|l| l.starts_with("warning: reform-transition:")).count();
    assert_eq!(warnings, 1, "one warning for the drifting scenario\n{o}");
}

#[test]
fn warmup_reports_mser5_truncation_per_key_metric() {
    let tmp = temp();
    let (a, b) = (scenario("top-down.toml"), scenario("enablement.toml"));
    let o = sim(
        tmp.path(),
        &args(&["warmup", a.to_str().unwrap(), b.to_str().unwrap(), "--replicates", "3", "--days", "600", "--format", "csv"]),
    );
    o.assert_success().assert_stderr_has(&["top-down: the warm-up of 180 days covers", "enablement: the warm-up of 180 days covers"]);
    let mut r = csv::Reader::from_reader(o.stdout.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[..5], ["scenario", "metric", "truncation_day_mean", "truncation_day_min", "truncation_day_max"]);
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 2 * (KEY.len() + 1), "{o}");
    for row in &rows {
        let (mean, min, max): (f64, f64, f64) = (row[2].parse().unwrap(), row[3].parse().unwrap(), row[4].parse().unwrap());
        assert!(min <= mean && mean <= max && max <= 300.0, "{row:?}");
    }
    // The max over key metrics is at least each metric's own maximum.
    for s in ["top-down", "enablement"] {
        let of = |m: &str| rows.iter().find(|r| &r[0] == s && &r[1] == m).unwrap()[4].parse::<f64>().unwrap();
        assert!(KEY.iter().all(|m| of(m) <= of("max over key metrics")));
    }
    sim(tmp.path(), &["warmup"]).assert_code(2);
    sim(tmp.path(), &["warmup", "--help"]).assert_success().assert_stdout_has(&["Examples", "MSER-5"]);
}
