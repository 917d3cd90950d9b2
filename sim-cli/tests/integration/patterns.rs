//! `sim patterns`: the validation suite's command. Only the quick scale with a few seeds and two
//! cheap patterns runs here (the full suite takes minutes; the patterns themselves are tested at
//! full scale by sim-core's integration tests).

use crate::{read_json, sim, sim_env, temp};

const CHEAP: [&str; 2] = ["equal_good_and_bad_encounters_lower_trust", "failure_demand_higher_under_top_down"];

const COLUMNS: [&str; 16] = [
    "pattern",
    "reference",
    "source",
    "expected",
    "criterion",
    "check",
    "mean",
    "ci_low",
    "ci_high",
    "unit",
    "seeds",
    "check_pass",
    "pass",
    "status",
    "seconds",
    "kind",
];

fn rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    (header, r.records().map(|x| x.unwrap().iter().map(str::to_string).collect()).collect())
}

#[test]
fn quick_patterns_print_csv_with_the_columns_and_exit_by_verdict() {
    let tmp = temp();
    let o = sim(tmp.path(), &["patterns", "--quick", "--seeds", "4", "--only", CHEAP[0], CHEAP[1], "--format", "csv", "--out", "out"]);
    let (header, rows) = rows(&o.stdout);
    assert_eq!(header, COLUMNS, "{o}");
    let ids: Vec<&str> = rows.iter().filter(|r| r[15] == "check").map(|r| r[0].as_str()).collect();
    assert_eq!(ids, CHEAP, "{o}");
    assert!(rows.iter().all(|r| r[15] == "check" || (r[15] == "extra" && r[11].is_empty())), "{o}");
    for r in &rows {
        for k in [6, 7, 8] {
            r[k].parse::<f64>().unwrap_or_else(|_| panic!("{} is not a number in {r:?}", COLUMNS[k]));
        }
        assert!(r[7].parse::<f64>().unwrap() <= r[8].parse::<f64>().unwrap());
        assert_eq!(r[10], "4");
        assert!(["true", "false"].contains(&r[12].as_str()));
    }
    // Exit 0 exactly when every pattern passed, 1 otherwise.
    let all = rows.iter().all(|r| r[12] == "true");
    o.assert_code(if all { 0 } else { 1 });
    // The files: patterns.csv is what stdout printed; the plot and manifest are there.
    let out = tmp.path().join("out");
    assert_eq!(std::fs::read_to_string(out.join("patterns.csv")).unwrap(), o.stdout);
    for f in ["patterns.png", "patterns.svg", "patterns.md", "manifest.json"] {
        assert!(out.join(f).exists(), "{f} missing\n{o}");
    }
    let m = read_json(&out.join("manifest.json"));
    assert_eq!(m["command"], "patterns");
    assert_eq!(m["seeds_per_arm"], 4);
    assert_eq!(m["scale"], "quick");
}

#[test]
fn unknown_ids_and_too_few_seeds_are_bad_input() {
    let tmp = temp();
    sim(tmp.path(), &["patterns", "--only", "no_such_pattern"]).assert_code(2).assert_stderr_has(&["no such pattern"]);
    sim(tmp.path(), &["patterns", "--seeds", "5", "--only", CHEAP[0]]).assert_code(2).assert_stderr_has(&["at least 20 seeds"]);
    let help = sim(tmp.path(), &["patterns", "--help"]);
    help.assert_success().assert_stdout_has(&["Examples", "Exit status"]);
    sim(tmp.path(), &["patterns", "--list"]).assert_success().assert_stdout_has(&[
        "§7.5",
        "§7.10",
        "§9",
        "safety_protocols_need_compliance",
    ]);
}

#[test]
fn quick_robustness_labels_every_pattern_and_writes_its_tables() {
    let tmp = temp();
    let args = |out: &'static str| {
        vec![
            "patterns",
            "--robustness",
            "--quick",
            "--seeds",
            "3",
            "--points",
            "8",
            "--robust-seeds",
            "2",
            "--only",
            CHEAP[0],
            "overhead_share_near_buurtzorg_figures",
            "--format",
            "csv",
            "--out",
            out,
        ]
    };
    let o = sim_env(tmp.path(), &args("out"), &[("RAYON_NUM_THREADS", "2")]);
    assert!(matches!(o.code(), Some(0 | 1)), "{o}");
    o.assert_stderr_has(&["robustness of equal_good_and_bad_encounters_lower_trust over 2 parameters: 8 points x 2 seeds", "ROBUST"]);
    let out = tmp.path().join("out");
    let summary = std::fs::read_to_string(out.join("robustness_summary.csv")).unwrap();
    assert!(o.stdout.ends_with(&summary), "stdout ends with robustness_summary.csv\n{o}");
    let (header, rows) = rows(&summary);
    assert_eq!(header[..9], ["pattern", "reference", "verdict", "points", "seeds_per_arm", "holding", "share_holding", "label", "region"]);
    assert_eq!(rows.len(), 2);
    for r in &rows {
        let (points, holding): (usize, usize) = (r[3].parse().unwrap(), r[5].parse().unwrap());
        assert_eq!((points, r[4].as_str()), (8, "2"));
        // The 90% rule: 8 of 8 or at least 7.2 of 8 is ROBUST.
        assert_eq!(r[7], if holding * 10 >= 9 * points { "ROBUST" } else { "CONDITIONAL" }, "{r:?}");
        assert!(r[8].contains("8 points"), "{r:?}");
        if r[7] == "CONDITIONAL" {
            assert!(out.join(format!("robustness_{}.png", &r[0])).exists());
        }
    }
    // The trust rule at every point of its parameters' range: equal good and bad news lower trust.
    assert_eq!((&rows[0][0], &rows[0][7]), (&CHEAP[0].to_string(), &"ROBUST".to_string()));
    // robustness.csv: per point, every parameter value and check mean, and whether it holds.
    let (header, long) = rows_of(&out.join("robustness.csv"));
    assert_eq!(header, ["pattern", "point", "kind", "name", "value", "holds"]);
    let trust: Vec<&Vec<String>> = long.iter().filter(|r| r[0] == CHEAP[0]).collect();
    assert_eq!(trust.len(), 8 * 3, "two parameters and one check per point");
    for r in trust.iter().filter(|r| r[3] == "citizens.trust_asymmetry") {
        let v: f64 = r[4].parse().unwrap();
        assert!((2.0..=3.0).contains(&v), "{r:?}");
    }
    for r in trust.iter().filter(|r| r[2] == "check") {
        assert_eq!(r[4].parse::<f64>().unwrap() < 0.0, r[5] == "true", "{r:?}");
    }
    let m = read_json(&out.join("manifest.json"));
    assert_eq!((m["robustness"]["points"].as_u64(), m["robustness"]["seeds_per_arm"].as_u64()), (Some(8), Some(2)));
    // The same on one thread, byte for byte.
    sim_env(tmp.path(), &args("one"), &[("RAYON_NUM_THREADS", "1")]);
    for f in ["robustness.csv", "robustness.md"] {
        crate::assert_same_file(&out.join(f), &tmp.path().join("one").join(f), f);
    }
}

#[test]
fn robustness_needs_32_points_unless_quick() {
    let tmp = temp();
    sim(tmp.path(), &["patterns", "--robustness", "--points", "8", "--only", CHEAP[0]])
        .assert_code(2)
        .assert_stderr_has(&["at least 32 points"]);
    sim(tmp.path(), &["patterns", "--points", "40", "--only", CHEAP[0]]).assert_code(2);
    sim(tmp.path(), &["patterns", "--list", "--only", CHEAP[0]]).assert_success().assert_stdout_has(&["citizens.trust_asymmetry [2, 3]"]);
}

fn rows_of(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    rows(&std::fs::read_to_string(path).unwrap())
}
