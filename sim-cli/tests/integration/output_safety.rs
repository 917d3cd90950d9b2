//! Output folders (issue 17): sim writes only into a new or empty folder or an earlier sim output
//! (marked `.sim-output`), never deletes a file it did not write, never replaces a folder holding
//! its inputs or the current folder, refuses a second writer (lock), removes its staging folder
//! on SIGINT/SIGTERM and sweeps the ones a dead process left; a failure to write any promised
//! file exits non-zero without claiming the file.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{FAST, MARKER, bytes, entries, names, run_files, sim, staging_leftovers, temp};

/// A folder of the user's: two files, one in a subfolder.
fn user_folder(dir: &Path) {
    fs::create_dir_all(dir.join("sub")).unwrap();
    fs::write(dir.join("thesis.txt"), b"four years of work").unwrap();
    fs::write(dir.join("sub/data.csv"), b"a,b\n1,2\n").unwrap();
}

#[track_caller]
fn assert_user_folder_intact(dir: &Path) {
    assert_eq!(entries(dir), names(&["sub", "thesis.txt"]), "{}", dir.display());
    assert_eq!(bytes(&dir.join("thesis.txt")), b"four years of work");
    assert_eq!(bytes(&dir.join("sub/data.csv")), b"a,b\n1,2\n");
}

const TINY: &str = "[run]\ndays = 200\nwarmup_days = 20\n[population]\ncitizens = 1000\n[workforce]\nfrontline_staff = 5\n";

fn tiny_sweep(dir: &Path) {
    fs::write(dir.join("base.toml"), TINY).unwrap();
    fs::write(
        dir.join("sweep.toml"),
        "base = \"base.toml\"\nreplicates = 2\n[design]\nkind = \"grid\"\nlevels = 2\n[[parameters]]\npath = \"governance.discretion\"\nmin = 0.1\nmax = 0.9\n",
    )
    .unwrap();
}

/// Issue 17: `--out` onto a folder of the user's deleted thesis.txt and sub/data.csv.
#[test]
fn out_onto_a_users_folder_is_refused_and_nothing_is_touched() {
    let tmp = temp();
    let d = tmp.path();
    tiny_sweep(d);
    fs::write(d.join("other.toml"), "name = \"other\"\n[governance]\npreset = \"enablement\"\n").unwrap();
    let commands: &[&[&str]] = &[
        &["run", "base.toml", "--out", "mine"],
        &["compare", "base.toml", "other.toml", "--replicates", "2", "--days", "200", "--out", "mine"],
        &["sweep", "sweep.toml", "--out", "mine"],
    ];
    for args in commands {
        user_folder(&d.join("mine"));
        let o = sim(d, args);
        o.assert_code(2).assert_stderr_has(&["mine", "not empty", MARKER, "nothing was touched"]);
        assert!(o.stdout.is_empty(), "nothing written, nothing claimed\n{o}");
        assert_user_folder_intact(&d.join("mine"));
        assert!(staging_leftovers(d).is_empty(), "{:?}", staging_leftovers(d));
        assert!(!d.join(".mine.partial").exists() && !d.join(".mine.lock").exists(), "{o}");
    }
}

/// Issue 17: `cd DIR && sim run my.toml --out DIR` deleted my.toml; `--out .` failed with
/// "Device or resource busy". Both are refused (exit 2) before anything runs.
#[test]
fn out_holding_an_input_or_the_current_folder_is_refused() {
    let tmp = temp();
    let d = tmp.path();
    let proj = d.join("proj");
    fs::create_dir(&proj).unwrap();
    fs::write(proj.join("my.toml"), TINY).unwrap();
    let abs = proj.display().to_string();
    for out in [abs.as_str(), ".", "..", "./"] {
        let o = sim(&proj, &["run", "my.toml", "--out", out]);
        o.assert_code(2).assert_stderr_has(&["--out"]);
        assert_eq!(entries(&proj), names(&["my.toml"]), "{o}");
        assert_eq!(bytes(&proj.join("my.toml")), TINY.as_bytes());
    }
    // An input inside --out (from elsewhere), and a sweep's base scenario inside --out.
    let o = sim(d, &["run", "proj/my.toml", "--out", "proj"]);
    o.assert_code(2).assert_stderr_has(&["holds the input", "my.toml"]);
    tiny_sweep(&proj);
    let o = sim(d, &["sweep", "proj/sweep.toml", "--out", "proj"]);
    o.assert_code(2).assert_stderr_has(&["holds the input"]);
    assert_eq!(entries(&proj), names(&["my.toml", "base.toml", "sweep.toml"]), "{o}");
    assert_eq!(entries(d), names(&["proj"]), "nothing beside it either\n{o}");
}

/// An empty folder (the current one's child) is a fine --out; so is an earlier sim output.
#[test]
fn out_into_an_empty_folder_writes_the_marker_listing_every_file() {
    let tmp = temp();
    fs::create_dir(tmp.path().join("empty")).unwrap();
    let mut args = vec!["run", "--out", "empty"];
    args.extend(FAST);
    let o = sim(tmp.path(), &args);
    o.assert_success();
    let out = tmp.path().join("empty");
    assert_eq!(entries(&out), run_files());
    let marker = fs::read_to_string(out.join(MARKER)).unwrap();
    let listed: std::collections::BTreeSet<String> =
        marker.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).map(str::to_string).collect();
    let mut expected = run_files();
    expected.remove(MARKER);
    assert_eq!(listed, expected, "the marker lists exactly the files written");
    // The result line on stdout names the files written, and each exists.
    let wrote = o.stdout.lines().find(|l| l.starts_with("wrote ")).unwrap_or_else(|| panic!("no `wrote` line on stdout\n{o}"));
    for f in &expected {
        assert!(wrote.contains(f.as_str()), "{f} not in {wrote}");
    }
}

/// Merging shard folders into a folder that holds them would delete them.
#[test]
fn merge_into_a_folder_holding_its_inputs_is_refused() {
    let tmp = temp();
    let d = tmp.path();
    tiny_sweep(d);
    sim(d, &["sweep", "sweep.toml", "--shard", "0/2", "--out", "all/s0", "-q"]).assert_success();
    sim(d, &["sweep", "sweep.toml", "--shard", "1/2", "--out", "all/s1", "-q"]).assert_success();
    let before = bytes(&d.join("all/s0/runs.csv"));
    sim(d, &["merge", "all/s0", "all/s1", "--out", "all"]).assert_code(2).assert_stderr_has(&["holds the input", "all/s0"]);
    sim(d, &["merge", "all/s0", "all/s1", "--out", "all/s1"]).assert_code(2).assert_stderr_has(&["holds the input"]);
    assert_eq!(bytes(&d.join("all/s0/runs.csv")), before);
    sim(d, &["merge", "all/s0", "all/s1", "--out", "merged", "-q"]).assert_success();
}

/// Issue 17: two writers to one --out had no lock. A held lock refuses the second (exit 1,
/// nothing touched); the lock file goes away with its holder.
#[test]
fn a_second_writer_is_refused_while_the_lock_is_held() {
    let tmp = temp();
    let d = tmp.path();
    let mut args = vec!["run", "--out", "out"];
    args.extend(FAST);
    sim(d, &args).assert_success();
    let summary = bytes(&d.join("out/summary.json"));
    assert!(!d.join(".out.lock").exists(), "the lock file is removed on exit");

    let lock = fs::OpenOptions::new().create(true).truncate(false).write(true).open(d.join(".out.lock")).unwrap();
    lock.try_lock().expect("take the lock as another sim would");
    let o = sim(d, &args);
    o.assert_code(1).assert_stderr_has(&["another sim is writing", ".out.lock"]);
    assert_eq!(bytes(&d.join("out/summary.json")), summary);
    assert!(staging_leftovers(d).is_empty());
    drop(lock);
    fs::remove_file(d.join(".out.lock")).unwrap();
    sim(d, &args).assert_success();

    // A file of the lock's name that sim did not write is neither overwritten nor removed.
    fs::write(d.join(".out.lock"), "my notes\n").unwrap();
    sim(d, &args).assert_code(1).assert_stderr_has(&["not a sim lock file", ".out.lock"]);
    assert_eq!(fs::read_to_string(d.join(".out.lock")).unwrap(), "my notes\n");
    assert_eq!(bytes(&d.join("out/summary.json")), summary);
    assert!(staging_leftovers(d).is_empty());
}

/// Two real sweeps started together into one --out: exactly one writes it (the other is refused
/// with exit 1 or, if it came second, replaces it with identical bytes), never a mix.
#[test]
fn two_concurrent_sweeps_into_one_out_never_mix() {
    let tmp = temp();
    let d = tmp.path();
    tiny_sweep(d);
    sim(d, &["sweep", "sweep.toml", "--out", "alone", "-q"]).assert_success();
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_sim"))
            .args(["sweep", "sweep.toml", "--out", "both", "-q", "--threads", "1"])
            .current_dir(d)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sim")
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let codes = [a.status.code(), b.status.code()];
    assert!(
        codes.contains(&Some(0)),
        "one must succeed: {codes:?}\n{}\n{}",
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr)
    );
    for (o, code) in [(&a, codes[0]), (&b, codes[1])] {
        if code != Some(0) {
            assert_eq!(code, Some(1), "{}", String::from_utf8_lossy(&o.stderr));
            assert!(String::from_utf8_lossy(&o.stderr).contains("another sim is writing"), "{}", String::from_utf8_lossy(&o.stderr));
        }
    }
    crate::assert_same_file(&d.join("alone/runs.csv"), &d.join("both/runs.csv"), "runs.csv of a concurrent sweep");
    assert!(staging_leftovers(d).is_empty() && !d.join(".both.lock").exists() && !d.join(".both.partial").exists());
}

/// Sends `signal` (TERM or INT) to `sim ARGS` after `delay`; returns its exit code.
fn signal_after(dir: &Path, args: &[&str], signal: &str, delay: Duration) -> Option<i32> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sim");
    std::thread::sleep(delay);
    let _ = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status();
    let started = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code();
        }
        assert!(started.elapsed() < Duration::from_secs(60), "sim did not stop after SIG{signal}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Issue 17: a signal late in a run left a hidden `.NAME.tmp-PID` staging folder (11 of 12
/// tries). At any moment, a signal leaves either no output or a complete one, and no staging
/// folder or lock file.
#[test]
fn signals_at_several_moments_leave_no_staging_folder() {
    let tmp = temp();
    let d = tmp.path();
    let args = ["run", "--days", "300", "--set", "population.citizens=20000", "--set", "workforce.frontline_staff=60", "--out", "out"];
    let mut stopped = 0;
    for (i, ms) in [0u64, 20, 60, 150, 300, 500, 800, 1200].into_iter().enumerate() {
        let signal = if i % 2 == 0 { "TERM" } else { "INT" };
        let code = signal_after(d, &args, signal, Duration::from_millis(ms));
        let expected_signal_code = if signal == "TERM" { 143 } else { 130 };
        // None: killed by the signal itself, before sim installed its handler (nothing written yet).
        assert!(code.is_none() || code == Some(0) || code == Some(expected_signal_code), "SIG{signal} after {ms} ms: exit {code:?}");
        if code != Some(0) {
            stopped += 1;
        }
        assert!(staging_leftovers(d).is_empty(), "SIG{signal} after {ms} ms left {:?}", staging_leftovers(d));
        assert!(!d.join(".out.lock").exists(), "SIG{signal} after {ms} ms left the lock file");
        if d.join("out").exists() {
            assert_eq!(entries(&d.join("out")), run_files(), "after SIG{signal} at {ms} ms the output is whole");
        }
    }
    assert!(stopped > 0, "no signal arrived while sim was running; the test proves nothing");
}

/// Staging folders of a process that died without a chance to clean up (kill -9) are removed by
/// the next command writing to the same --out, but only those carrying sim's marker.
#[test]
fn stale_staging_folders_of_dead_processes_are_swept() {
    let tmp = temp();
    let d = tmp.path();
    // PIDs above the kernel's maximum (4194304) are never alive.
    let dead = d.join(".out.tmp-4294967290");
    fs::create_dir(&dead).unwrap();
    fs::write(dead.join(MARKER), "# staging\n").unwrap();
    fs::write(dead.join("timeseries.csv"), "day\n").unwrap();
    let not_ours = d.join(".out.tmp-4294967291");
    fs::create_dir(&not_ours).unwrap();
    fs::write(not_ours.join("keep.txt"), "mine").unwrap();
    let mut args = vec!["run", "--out", "out"];
    args.extend(FAST);
    sim(d, &args).assert_success();
    assert!(!dead.exists(), "the dead process's staging folder is swept");
    assert_eq!(bytes(&not_ours.join("keep.txt")), b"mine", "a folder without the marker is never deleted");
}

/// Issue 17: a full disk exited 0 and printed "wrote .../dashboard.png" for a file not there.
/// On a tiny tmpfs (root only; skipped visibly otherwise) every size of too little space gives a
/// non-zero exit, and every file a `wrote` line names exists.
#[test]
fn a_full_disk_is_an_error_and_nothing_is_claimed() {
    let uid = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if !uid.is_ok_and(|u| u == "0") {
        eprintln!("SKIPPED a_full_disk_is_an_error_and_nothing_is_claimed: needs root to mount a tmpfs");
        return;
    }
    let tmp = temp();
    let mnt = tmp.path().join("mnt");
    fs::create_dir(&mnt).unwrap();
    for size in ["16k", "200k", "400k", "800k", "1100k"] {
        let mounted = Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]).arg(&mnt).status();
        if !mounted.is_ok_and(|s| s.success()) {
            eprintln!("SKIPPED a_full_disk_is_an_error_and_nothing_is_claimed: mount -t tmpfs failed (no privilege in this container)");
            return;
        }
        let mut args =
            vec!["run", "--out", "mnt/out", "--days", "400", "--set", "population.citizens=2000", "--set", "workforce.frontline_staff=8"];
        args.push("--quiet");
        let o = sim(tmp.path(), &args);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            assert_eq!(o.code(), Some(1), "size {size}: a full disk is an environment error\n{o}");
            for line in o.stdout.lines().filter(|l| l.starts_with("wrote ")) {
                let files = line.split_once(": ").map(|x| x.1).unwrap_or("");
                for f in files.split(", ") {
                    assert!(mnt.join("out").join(f).exists(), "size {size}: claims {f}, which is not there\n{o}");
                }
            }
            assert!(staging_leftovers(&mnt).is_empty(), "size {size}: staging left {:?}", staging_leftovers(&mnt));
        }));
        let _ = Command::new("umount").arg(&mnt).status();
        if let Err(e) = result {
            std::panic::resume_unwind(e);
        }
    }
}

/// Issue 17: `--resume` on a finished folder whose runs.csv lost its last line said it "already
/// holds this sweep's complete output". It now checks rows and digest against the manifest.
#[test]
fn resume_checks_a_finished_runs_csv_against_its_manifest() {
    let tmp = temp();
    let d = tmp.path();
    tiny_sweep(d);
    sim(d, &["sweep", "sweep.toml", "--out", "out", "-q"]).assert_success();
    sim(d, &["sweep", "sweep.toml", "--out", "out", "--resume"]).assert_success().assert_stderr_has(&["nothing to resume"]);
    let runs = d.join("out/runs.csv");
    let text = fs::read_to_string(&runs).unwrap();
    let cut: String = text.lines().take(text.lines().count() - 1).map(|l| format!("{l}\n")).collect();
    fs::write(&runs, &cut).unwrap();
    sim(d, &["sweep", "sweep.toml", "--out", "out", "--resume"]).assert_code(2).assert_stderr_has(&[
        "rows",
        "manifest.json",
        "without --resume",
    ]);
    // Same row count, one value changed: the digest catches it.
    fs::write(&runs, text.replacen(",0.", ",1.", 1)).unwrap();
    sim(d, &["sweep", "sweep.toml", "--out", "out", "--resume"]).assert_code(2).assert_stderr_has(&["SHA-256"]);
    // Without --resume the output is replaced (every file in it is listed in its marker).
    sim(d, &["sweep", "sweep.toml", "--out", "out", "-q"]).assert_success();
    assert_eq!(fs::read_to_string(&runs).unwrap(), text);
}
