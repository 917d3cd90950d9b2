//! The scenario library: every file in scenarios/ and scenarios/sweeps/ opens with the question it
//! asks, and every sweep file checks (`sim sweep --check`) and runs, shrunk to a short horizon, a
//! small population and one replicate of a small design (`sim sensitivity` too for Morris and
//! Saltelli designs). The scenario files of scenarios/ are validated and run in `validate.rs`.

use std::path::{Path, PathBuf};

use crate::{FAST, scenarios_dir, sim, temp, toml_files};

fn read_table(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{} is not TOML: {e}", path.display()))
}

/// A sweep file names a base scenario; a scenario file does not.
fn is_sweep(path: &Path) -> bool {
    read_table(path).contains_key("base")
}

#[test]
fn every_scenario_and_sweep_file_opens_with_its_question() {
    let mut files = toml_files(&scenarios_dir());
    files.extend(toml_files(&scenarios_dir().join("sweeps")));
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read");
        let header: String = text.lines().take_while(|l| l.starts_with('#')).collect::<Vec<_>>().join("\n");
        for needle in ["# Question:", "Look at:", "Expected pattern:"] {
            assert!(header.contains(needle), "{}: the opening comment lacks `{needle}`:\n{header}", f.display());
        }
    }
}

#[test]
fn every_sweep_folder_scenario_validates_and_runs() {
    for f in toml_files(&scenarios_dir().join("sweeps")).into_iter().filter(|f| !is_sweep(f)) {
        let tmp = temp();
        let path = f.display().to_string();
        sim(tmp.path(), &["validate", &path]).assert_success().assert_stdout_has(&[&format!("ok: {path}")]);
        let mut args = vec!["run", path.as_str(), "--out", "out"];
        args.extend(FAST);
        sim(tmp.path(), &args).assert_success();
    }
}

/// Writes a shrunk copy of `sweep` and its base scenario into `dir`: 250 days (warm-up 180), 3,000
/// citizens, 9 frontline staff, one replicate, and the smallest design of its kind.
fn shrink(sweep: &Path, dir: &Path) -> PathBuf {
    let mut s = read_table(sweep);
    let base_rel = s["base"].as_str().expect("base is text").to_string();
    let base_path = sweep.parent().expect("a folder").join(&base_rel);
    let mut base = read_table(&base_path);
    let mut set = |section: &str, key: &str, value: toml::Value| {
        let t = base.entry(section).or_insert_with(|| toml::Value::Table(Default::default()));
        t.as_table_mut().expect("a section is a table").insert(key.into(), value);
    };
    set("run", "days", toml::Value::Integer(250));
    set("population", "citizens", toml::Value::Integer(3000));
    set("workforce", "frontline_staff", toml::Value::Integer(9));
    std::fs::write(dir.join("base.toml"), toml::to_string(&base).expect("serialise")).expect("write base");
    s.insert("base".into(), "base.toml".into());
    s.insert("days".into(), toml::Value::Integer(250));
    s.insert("replicates".into(), toml::Value::Integer(1));
    let design = s["design"].as_table_mut().expect("design is a table");
    let (key, value) = match design["kind"].as_str().expect("kind is text") {
        "grid" => ("levels", 2),
        "saltelli" => ("samples", 2),
        "morris" => ("trajectories", 2),
        _ => ("samples", 4),
    };
    design.insert(key.into(), toml::Value::Integer(value));
    let out = dir.join("sweep.toml");
    std::fs::write(&out, toml::to_string(&s).expect("serialise")).expect("write sweep");
    out
}

#[test]
fn every_sweep_file_checks_and_runs_shrunk() {
    let sweeps: Vec<PathBuf> = toml_files(&scenarios_dir().join("sweeps")).into_iter().filter(|f| is_sweep(f)).collect();
    assert!(sweeps.len() >= 3, "expected the shipped sweeps, found {sweeps:?}");
    for f in sweeps {
        let path = f.display().to_string();
        let tmp = temp();
        // The file as shipped: its design and every point's scenario are valid.
        sim(tmp.path(), &["sweep", &path, "--check"]).assert_success().assert_stdout_has(&["ok:"]);
        let small = shrink(&f, tmp.path());
        let small = small.display().to_string();
        let o = sim(tmp.path(), &["sweep", &small, "--out", "out", "--threads", "2"]);
        o.assert_success();
        let runs = std::fs::read_to_string(tmp.path().join("out/runs.csv")).unwrap_or_else(|e| panic!("{path}: no runs.csv: {e}\n{o}"));
        assert!(runs.lines().count() >= 3, "{path}: a shrunk sweep should still run several points\n{runs}");
        let kind = read_table(&f)["design"]["kind"].as_str().expect("kind").to_string();
        if kind == "morris" || kind == "saltelli" {
            let o = sim(tmp.path(), &["sensitivity", &small, "--out", "sens", "--threads", "2", "--bootstrap", "20"]);
            o.assert_success();
            assert!(tmp.path().join("sens/indices.csv").is_file(), "{path}: no indices.csv\n{o}");
        }
    }
}
