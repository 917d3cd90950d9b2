//! `sim patterns`: the validation suite's command. Only the quick scale with a few seeds and two
//! cheap patterns runs here (the full suite takes minutes; the patterns themselves are tested at
//! full scale by sim-core's integration tests).

use crate::{read_json, sim, temp};

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
