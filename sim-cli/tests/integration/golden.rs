//! Issue 19 guard: the outputs of every shipped scenario keep their bytes. The SHA-256 of
//! timeseries.csv, summary.json and networks.json of `sim run FILE` (its own seed and horizon) are
//! committed in `golden-digests.txt`; any change to the model's arithmetic or order of draws, or to
//! the writers, changes a digest. A refactor must leave them all unchanged.
//!
//! city-1m.toml (1,000,000 citizens) runs 200 days instead of its 365 (`--days 200`; warm-up 180)
//! to keep this test to a few seconds; region-10m.toml (10,000,000 citizens, about a minute and
//! 1.5 GB however short) is left out: it is the benchmark of issue 23, validated and run shrunk
//! by validate.rs like every shipped scenario. Every other scenario runs its full horizon.
//!
//! After a deliberate change of the outputs, rewrite the file with
//! `SIM_BLESS_DIGESTS=1 cargo test --release -p sim-cli --test integration golden` and say in the
//! commit why the bytes moved.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{bytes, scenarios_dir, sim, temp, toml_files};

/// The files compared, as `sim run` writes them.
const FILES: &[&str] = &["timeseries.csv", "summary.json", "networks.json"];

/// Extra arguments for scenarios too heavy to run in full here.
fn shortened(name: &str) -> &'static [&'static str] {
    match name {
        "city-1m" => &["--days", "200"],
        _ => &[],
    }
}

/// Scenarios too heavy to run here at any horizon (issue 23: the region-scale benchmark).
const LEFT_OUT: &[&str] = &["region-10m"];

fn digests_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/golden-digests.txt")
}

fn sha256(data: &[u8]) -> String {
    Sha256::digest(data).iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `name file digest` lines for every shipped scenario, in file order.
fn current_digests() -> String {
    let tmp = temp();
    let mut lines = String::new();
    for path in toml_files(&scenarios_dir()) {
        let name = path.file_stem().expect("a file name").to_string_lossy().into_owned();
        if LEFT_OUT.contains(&name.as_str()) {
            continue;
        }
        let p = path.to_str().expect("a UTF-8 path");
        let mut args = vec!["-q", "run", p, "--out", name.as_str()];
        args.extend(shortened(&name));
        sim(tmp.path(), &args).assert_success();
        for f in FILES {
            let _ = writeln!(lines, "{name} {f} {}", sha256(&bytes(&tmp.path().join(&name).join(f))));
        }
    }
    lines
}

#[test]
fn issue_19_shipped_scenarios_keep_their_bytes() {
    let now = current_digests();
    let file = digests_file();
    if std::env::var_os("SIM_BLESS_DIGESTS").is_some() {
        std::fs::write(&file, &now).expect("write golden-digests.txt");
        return;
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let changed: Vec<String> =
        committed.lines().zip(now.lines()).filter(|(a, b)| a != b).map(|(a, b)| format!("  committed {a}\n  now       {b}")).collect();
    assert!(
        changed.is_empty() && committed.lines().count() == now.lines().count(),
        "outputs of shipped scenarios changed ({} of {} lines differ; {} lines committed, {} now):\n{}",
        changed.len(),
        now.lines().count(),
        committed.lines().count(),
        now.lines().count(),
        changed.join("\n")
    );
}
