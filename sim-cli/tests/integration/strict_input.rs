//! Strict input (issue 17): each defect the issue lists, through the binary. A table given
//! anything but a table, events after the horizon, ramps on true/false levers, unknown levers
//! and fields (with "did you mean"), huge durations, morale bounds, and event errors located at
//! the event's field; `sim validate` takes sweep files too and says which kind each file is.

use std::fs;

use crate::{entries, names, sim, temp};

/// (name, file text, what stderr must say): each must exit 2 from `sim validate` and `sim run`.
const CASES: &[(&str, &str, &[&str])] = &[
    ("table as array", "governance = [1, 2]\n", &["t.toml:1:", "`governance`", "expected a table"]),
    ("run as array", "run = [400, 10]\n", &["`run`", "expected a table"]),
    ("run as empty array", "run = []\n", &["`run`", "expected a table"]),
    ("need type as array", "need_types = [[\"x\", 0.5]]\n", &["need_types[0]", "expected a table"]),
    ("section as a number", "population = 3\n", &["`population`", "expected a table"]),
    (
        "event after the horizon",
        "[run]\ndays = 400\n\n[[events]]\nkind = \"funding_cut\"\nday = 400\nshare = 0.1\n",
        &["t.toml:6:", "events[0].day", "never happen"],
    ),
    (
        "ramp on a true/false lever",
        "[[events]]\nkind = \"lever\"\nday = 10\nlever = \"place_based\"\nvalue = true\nramp_days = 30\n",
        &["t.toml:6:", "events[0].ramp_days", "cannot be ramped"],
    ),
    (
        "unknown lever",
        "[[events]]\nkind = \"lever\"\nday = 10\nlever = \"discretoin\"\nvalue = 0.5\n",
        &["t.toml:4:", "events[0].lever", "did you mean `governance.discretion`"],
    ),
    ("event field of the wrong type", "[[events]]\nkind = \"funding_cut\"\n\nday = \"x\"\nshare = 0.5\n", &["t.toml:4:", "events[0].day"]),
    ("event share out of range", "[[events]]\nkind = \"funding_cut\"\nday = 3\n\nshare = 1.5\n", &["t.toml:5:", "events[0].share"]),
    ("unknown event field", "[[events]]\nkind = \"staff_loss\"\nday = 3\nshare = 0.1\nbogus = 1\n", &["t.toml:5:", "events[0].bogus"]),
    (
        "unknown event kind",
        "[[events]]\nkind = \"demand_surg\"\nday = 3\n",
        &["t.toml:2:", "events[0].kind", "did you mean `demand_surge`"],
    ),
    ("zero-day surge", "[[events]]\nkind = \"demand_surge\"\nday = 3\nmultiplier = 2.0\nduration_days = 0\n", &["events[0].duration_days"]),
    ("unknown field, did you mean", "[governance]\ndiscretoin = 0.5\n", &["t.toml:2:", "did you mean `discretion`"]),
    ("a lever at the top level", "discretion = 0.5\n", &["did you mean `governance.discretion`"]),
    ("starting morale above 1", "[staff]\nmorale_base = 0.8\nmorale_from_resolution = 0.6\n", &["staff.morale_base", "at most 1"]),
    ("morale_base above its range", "[staff]\nmorale_base = 1.0\n", &["staff.morale_base", "0.8"]),
    ("too many neighbourhoods", "[population]\nneighbourhoods = 20000\n", &["population.neighbourhoods", "1000"]),
    ("warm-up at its old maximum", "[run]\ndays = 36500\nwarmup_days = 36500\n", &["run.warmup_days"]),
];

#[test]
fn each_strict_input_defect_exits_2_with_a_located_message() {
    let mut failures = Vec::new();
    for (name, text, needles) in CASES {
        let tmp = temp();
        fs::write(tmp.path().join("t.toml"), text).unwrap();
        // Validation comes before any run, so the full default horizon costs nothing here.
        for cmd in [&["validate", "t.toml"][..], &["run", "t.toml", "--out", "out"][..]] {
            let o = sim(tmp.path(), cmd);
            let missing: Vec<_> = needles.iter().filter(|n| !o.stderr.contains(**n)).collect();
            if o.code() != Some(2) || !missing.is_empty() || entries(tmp.path()) != names(&["t.toml"]) {
                failures.push(format!("{name}: expected exit 2 with {missing:?}\n{o}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n\n"));
}

/// One lever path everywhere: events accept `governance.discretion` as --set and sweeps do, and
/// the short form means the same (identical output).
#[test]
fn events_accept_the_full_lever_path_with_the_same_meaning() {
    let tmp = temp();
    let d = tmp.path();
    let base = "[run]\ndays = 120\nwarmup_days = 10\n[population]\ncitizens = 1000\n[workforce]\nfrontline_staff = 5\n";
    let ev = |lever: &str| format!("{base}[[events]]\nkind = \"lever\"\nday = 30\nlever = \"{lever}\"\nvalue = 0.9\nramp_days = 20\n");
    fs::write(d.join("long.toml"), ev("governance.discretion")).unwrap();
    fs::write(d.join("short.toml"), ev("discretion")).unwrap();
    sim(d, &["run", "long.toml", "--out", "a", "-q"]).assert_success();
    sim(d, &["run", "short.toml", "--out", "b", "-q"]).assert_success();
    crate::assert_same_file(&d.join("a/timeseries.csv"), &d.join("b/timeseries.csv"), "long and short lever paths");
}

/// A surge of 4294967295 days silently never happened (`day + duration_days` wrapped); now it
/// lasts to the end of the run, like one of 10,000 days.
#[test]
fn a_huge_surge_duration_does_not_wrap() {
    let tmp = temp();
    let d = tmp.path();
    let base = "[run]\ndays = 120\nwarmup_days = 10\n[population]\ncitizens = 1000\n[workforce]\nfrontline_staff = 5\n";
    let surge = |n: u64| format!("{base}[[events]]\nkind = \"demand_surge\"\nday = 20\nmultiplier = 3.0\nduration_days = {n}\n");
    fs::write(d.join("huge.toml"), surge(4_294_967_295)).unwrap();
    fs::write(d.join("long.toml"), surge(10_000)).unwrap();
    fs::write(d.join("none.toml"), base).unwrap();
    for f in ["huge", "long", "none"] {
        sim(d, &["run", &format!("{f}.toml"), "--out", f, "-q"]).assert_success();
    }
    crate::assert_same_file(&d.join("huge/timeseries.csv"), &d.join("long/timeseries.csv"), "a surge to the end of the run");
    assert_ne!(crate::bytes(&d.join("huge/timeseries.csv")), crate::bytes(&d.join("none/timeseries.csv")), "the surge happens");
}

/// `sim validate` took 9 of 11 valid sweep files for invalid scenarios ("unknown field `base`").
#[test]
fn validate_accepts_sweep_files_and_names_the_kind() {
    let tmp = temp();
    let sweeps = crate::toml_files(&crate::scenarios_dir().join("sweeps"));
    let scenario = crate::scenario("enablement.toml").display().to_string();
    let mut args = vec!["validate".to_string(), scenario.clone()];
    args.extend(sweeps.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = sim(tmp.path(), &args);
    o.assert_success();
    o.assert_stdout_has(&[&format!("ok: {scenario} (scenario")]);
    for s in &sweeps {
        let shown = s.display().to_string();
        let is_base = fs::read_to_string(s).unwrap().lines().all(|l| !l.starts_with("base"));
        let kind = if is_base { "scenario" } else { "sweep" };
        o.assert_stdout_has(&[&format!("ok: {shown} ({kind}")]);
    }
    // A bad sweep file is reported as a sweep file, at its line.
    fs::write(tmp.path().join("bad.toml"), format!("base = '{scenario}'\n[design]\nkind = \"grid\"\nlevles = 3\n")).unwrap();
    sim(tmp.path(), &["validate", "bad.toml"]).assert_code(2).assert_stderr_has(&["bad.toml:4:", "sweep file", "did you mean `levels`"]);
}

/// Invalid UTF-8 names the byte offset and line.
#[test]
fn invalid_utf8_gives_the_byte_offset_and_line() {
    let tmp = temp();
    fs::write(tmp.path().join("latin1.toml"), b"name = \"x\"\n# caf\xe9\n").unwrap();
    sim(tmp.path(), &["validate", "latin1.toml"]).assert_code(2).assert_stderr_has(&["latin1.toml:2:", "byte 16", "UTF-8"]);
    sim(tmp.path(), &["run", "latin1.toml"]).assert_code(2).assert_stderr_has(&["latin1.toml:2:", "byte 16"]);
}
