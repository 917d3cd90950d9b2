//! `sim validate FILE...`: exit 0 with `ok:` per file when all are valid, 2 with the bad file's
//! line and field otherwise. Every shipped scenario is validated and run, so none can rot.

use crate::{FAST, entries, names, scenarios_dir, sim, temp, toml_files};

#[test]
fn every_shipped_scenario_validates() {
    let files = toml_files(&scenarios_dir());
    let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let mut args = vec!["validate"];
    args.extend(paths.iter().map(String::as_str));
    let tmp = temp();
    let o = sim(tmp.path(), &args);
    o.assert_success();
    for p in &paths {
        o.assert_stdout_has(&[&format!("ok: {p}")]);
    }
    assert_eq!(o.stdout.lines().filter(|l| l.starts_with("ok:")).count(), paths.len(), "one `ok:` line per file\n{o}");
    assert_eq!(entries(tmp.path()), names(&[]), "validate writes nothing\n{o}");
}

#[test]
fn every_shipped_scenario_runs() {
    for file in toml_files(&scenarios_dir()) {
        let tmp = temp();
        let path = file.display().to_string();
        let mut args = vec!["run", path.as_str(), "--out", "out"];
        args.extend(FAST);
        sim(tmp.path(), &args).assert_success();
        assert_eq!(entries(&tmp.path().join("out")), crate::run_files(), "outputs of {path}");
    }
}

#[test]
fn validate_names_the_bad_file_line_and_field() {
    let tmp = temp();
    std::fs::write(tmp.path().join("good.toml"), "name = \"good\"\n[governance]\npreset = \"enablement\"\n").unwrap();
    std::fs::write(tmp.path().join("bad.toml"), "name = \"bad\"\n[governance]\ndiscretion = 0.5\nhandoffs = \"three\"\n").unwrap();
    let o = sim(tmp.path(), &["validate", "good.toml", "bad.toml"]);
    o.assert_code(2).assert_stdout_has(&["ok: good.toml"]).assert_stderr_has(&["bad.toml:4:", "governance.handoffs"]);
    assert!(!o.stdout.contains("ok: bad.toml"), "bad.toml reported as ok\n{o}");
    assert!(!o.stderr.contains("good.toml"), "good.toml reported as bad\n{o}");
    assert_eq!(entries(tmp.path()), names(&["good.toml", "bad.toml"]), "validate writes nothing\n{o}");
}

#[test]
fn validate_reports_every_bad_file_not_only_the_first() {
    let tmp = temp();
    std::fs::write(tmp.path().join("one.toml"), "[governance]\nbogus = 1\n").unwrap();
    std::fs::write(tmp.path().join("two.toml"), "[run]\n\nwarmup_days = -3\n").unwrap();
    let o = sim(tmp.path(), &["validate", "one.toml", "missing.toml", "two.toml"]);
    o.assert_code(2).assert_stderr_has(&["one.toml:2:", "governance.bogus", "missing.toml", "two.toml:3:", "run.warmup_days"]);
}
