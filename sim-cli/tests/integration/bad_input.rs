//! Bad input and failures: exit code 2 with a located message (file, `file:LINE:`, field path)
//! and no output at all; exit code 1 when the output cannot be written, with nothing partial left.

use std::path::Path;

use crate::{FAST, Outcome, bytes, entries, names, run_files, sim, staging_leftovers, temp};

/// One bad-input case: files to create in the working folder, the arguments after `sim run`
/// (`--out out/run` is added; no fast `--set`s, which would mask errors in the files), and what
/// stderr must mention.
struct Case {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    stderr: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "malformed TOML",
        files: &[("malformed.toml", "[run]\ndays = = 3\n")],
        args: &["malformed.toml"],
        stderr: &["malformed.toml:2:"],
    },
    Case {
        name: "unknown field",
        files: &[("unknown.toml", "[governance]\nbogus = 1\n")],
        args: &["unknown.toml"],
        stderr: &["unknown.toml:2:", "governance.bogus"],
    },
    Case {
        name: "unknown field further down, after other keys and comments",
        files: &[("unknown_deep.toml", "name = \"x\"\n\n[governance]\n# a comment\ndiscretion = 0.5\nbogus = 1\n")],
        args: &["unknown_deep.toml"],
        stderr: &["unknown_deep.toml:6:", "governance.bogus"],
    },
    Case {
        name: "unknown top-level field",
        files: &[("top.toml", "name = \"x\"\nbogus_top = 1\n")],
        args: &["top.toml"],
        stderr: &["top.toml:2:", "bogus_top"],
    },
    Case {
        name: "unknown field in the second need type",
        files: &[("needs.toml", "[[need_types]]\nname = \"a\"\n\n[[need_types]]\nname = \"b\"\nbogus = 2\n")],
        args: &["needs.toml"],
        stderr: &["needs.toml:6:", "need_types[1].bogus"],
    },
    Case {
        name: "wrong type",
        files: &[("wrong_type.toml", "[population]\ncitizens = \"many\"\n")],
        args: &["wrong_type.toml"],
        stderr: &["wrong_type.toml:2:", "population.citizens"],
    },
    Case {
        name: "out of range",
        files: &[("range.toml", "[governance]\ndiscretion = 1.5\n")],
        args: &["range.toml"],
        stderr: &["range.toml:2:", "governance.discretion", "0 to 1"],
    },
    Case {
        name: "out of range on a later line",
        files: &[("range_deep.toml", "# comment\n[run]\ndays = 400\n\n[governance]\n# a probability\ndiscretion = 1.5\n")],
        args: &["range_deep.toml"],
        stderr: &["range_deep.toml:7:", "governance.discretion", "0 to 1"],
    },
    Case { name: "missing file", files: &[], args: &["missing.toml"], stderr: &["missing.toml"] },
    Case {
        name: "unknown preset in the file",
        files: &[("preset.toml", "[governance]\npreset = \"nope\"\n")],
        args: &["preset.toml"],
        stderr: &["preset.toml:2:", "governance.preset", "nope"],
    },
    Case {
        name: "unknown preset via --set",
        files: &[],
        args: &["--set", "governance.preset=nope"],
        stderr: &["--set governance.preset", "nope"],
    },
    Case { name: "unknown field via --set", files: &[], args: &["--set", "governance.xyz=1"], stderr: &["--set governance.xyz"] },
    Case {
        name: "unknown field via --set on a scenario file",
        files: &[("good.toml", "[governance]\ndiscretion = 0.5\n")],
        args: &["good.toml", "--set", "governance.xyz=1"],
        stderr: &["--set governance.xyz"],
    },
    Case {
        name: "out of range via --set",
        files: &[],
        args: &["--set", "governance.discretion=2"],
        stderr: &["--set governance.discretion", "0 to 1"],
    },
    Case { name: "--set without `=`", files: &[], args: &["--set", "governance.discretion"], stderr: &["--set governance.discretion"] },
    Case {
        name: "--set index past the end",
        files: &[],
        args: &["--set", "need_types[99].rate_per_year=0.3"],
        stderr: &["--set need_types[99].rate_per_year"],
    },
];

/// Panics unless `dir` holds exactly the input files (so no output folder, no staging folder).
#[track_caller]
fn assert_nothing_written(dir: &Path, inputs: &[&str], outcome: &Outcome) {
    assert_eq!(entries(dir), names(inputs), "the working folder must hold only the inputs afterwards\n{outcome}");
    assert!(!dir.join("out/run").exists(), "the --out folder exists\n{outcome}");
    assert!(staging_leftovers(dir).is_empty(), "staging folders left: {:?}\n{outcome}", staging_leftovers(dir));
}

#[test]
fn bad_input_exits_2_with_a_located_message_and_writes_nothing() {
    let mut failures = Vec::new();
    for case in CASES {
        let tmp = temp();
        for (name, text) in case.files {
            std::fs::write(tmp.path().join(name), text).expect("write a scenario file");
        }
        let mut args = vec!["run"];
        args.extend(case.args);
        args.extend(["--out", "out/run"]);
        let o = sim(tmp.path(), &args);
        let inputs: Vec<&str> = case.files.iter().map(|(n, _)| *n).collect();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            o.assert_code(2).assert_stderr_has(case.stderr);
            assert_nothing_written(tmp.path(), &inputs, &o);
        }));
        if let Err(e) = result {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(panic)".into());
            failures.push(format!("case `{}`: {msg}", case.name));
        }
    }
    assert!(failures.is_empty(), "{} of {} bad-input cases failed:\n\n{}", failures.len(), CASES.len(), failures.join("\n\n"));
}

#[test]
fn bad_input_with_the_default_out_creates_no_sim_out() {
    let tmp = temp();
    std::fs::write(tmp.path().join("range.toml"), "[governance]\ndiscretion = 1.5\n").unwrap();
    let o = sim(tmp.path(), &["run", "range.toml"]);
    o.assert_code(2).assert_stderr_has(&["range.toml:2:", "governance.discretion"]);
    assert_eq!(entries(tmp.path()), names(&["range.toml"]), "no sim-out may be created\n{o}");
}

#[test]
fn days_at_or_below_the_warm_up_exit_2() {
    for days in ["100", "180", "0"] {
        let tmp = temp();
        let o = sim(tmp.path(), &["run", "--days", days, "--out", "out/run", "--set", "population.citizens=5000"]);
        o.assert_code(2).assert_stderr_has(&["--days"]);
        assert_nothing_written(tmp.path(), &[], &o);
    }
}

#[test]
fn usage_errors_exit_2_and_write_nothing() {
    let cases: &[&[&str]] = &[
        &["run", "--bogus"],
        &["--bogus"],
        &["frobnicate"],
        &["run", "--days", "many"],
        &["run", "--seed", "-1"],
        &["run", "--set"],
        &["validate"],
    ];
    for args in cases {
        let tmp = temp();
        let o = sim(tmp.path(), args);
        o.assert_code(2);
        assert!(!o.stderr.trim().is_empty(), "a usage error must explain itself on stderr\n{o}");
        assert_nothing_written(tmp.path(), &[], &o);
    }
}

#[test]
fn out_below_a_regular_file_exits_1_and_leaves_nothing() {
    let tmp = temp();
    std::fs::write(tmp.path().join("f"), "keep").unwrap();
    let mut args = vec!["run", "--out", "f/sub"];
    args.extend(FAST);
    let o = sim(tmp.path(), &args);
    o.assert_code(1).assert_stderr_has(&["f/sub"]);
    assert_eq!(entries(tmp.path()), names(&["f"]), "nothing may be left beside f\n{o}");
    assert_eq!(bytes(&tmp.path().join("f")), b"keep", "f must be untouched");
}

/// A regular file is refused as --out like any folder sim did not write (exit 2, untouched).
#[test]
fn out_that_is_a_regular_file_exits_2_and_leaves_it_alone() {
    let tmp = temp();
    std::fs::write(tmp.path().join("g"), "keep").unwrap();
    let mut args = vec!["run", "--out", "g"];
    args.extend(FAST);
    let o = sim(tmp.path(), &args);
    o.assert_code(2).assert_stderr_has(&["g", "not a folder"]);
    assert_eq!(entries(tmp.path()), names(&["g"]), "nothing may be left beside g\n{o}");
    assert_eq!(bytes(&tmp.path().join("g")), b"keep", "g must be untouched");
}

/// A run into a folder that already holds a run replaces it as a whole (the folder is swapped,
/// never filled file by file); but a file sim did not write in it (issue 17: `--out` deleted the
/// user's files) makes sim refuse with exit 2 and touch nothing.
#[test]
fn rerun_replaces_the_output_folder_whole_but_never_a_file_sim_did_not_write() {
    let tmp = temp();
    let mut first = vec!["run", "--out", "out", "--seed", "1"];
    first.extend(FAST);
    sim(tmp.path(), &first).assert_success();
    let out = tmp.path().join("out");
    let old_summary = bytes(&out.join("summary.json"));
    let mut second = vec!["run", "--out", "out", "--seed", "2"];
    second.extend(FAST);
    sim(tmp.path(), &second).assert_success();
    assert_eq!(entries(&out), run_files());
    let new_summary = bytes(&out.join("summary.json"));
    assert_ne!(new_summary, old_summary);
    assert!(staging_leftovers(tmp.path()).is_empty(), "staging left: {:?}", staging_leftovers(tmp.path()));

    std::fs::write(out.join("stray.txt"), b"mine").unwrap();
    let o = sim(tmp.path(), &first);
    o.assert_code(2).assert_stderr_has(&["stray.txt", "did not write"]);
    assert_eq!(bytes(&out.join("stray.txt")), b"mine");
    assert_eq!(bytes(&out.join("summary.json")), new_summary, "the earlier output is untouched");
    assert!(staging_leftovers(tmp.path()).is_empty(), "staging left: {:?}", staging_leftovers(tmp.path()));
}
