//! Integration tests of the `sim` command: they run the real binary (`CARGO_BIN_EXE_sim`) in a
//! temporary folder and check the command-line contract of ARCHITECTURE.md (files written, exit
//! codes, located errors). One test binary for the crate (STYLE.md); each area is a submodule.
//! Helpers shared by the submodules live here.

mod agents;
mod bad_input;
mod calibrate;
mod cli;
mod compare;
mod describe;
mod determinism;
mod golden;
mod hostile;
mod output_safety;
mod patterns;
mod plots;
mod run;
mod scenario_library;
mod seeds;
mod serve;
mod slurm;
mod steady;
mod steering;
mod strict_input;
mod sweep;
mod validate;

use std::collections::BTreeSet;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Arguments that keep a run short: 400 days (warm-up is 180) and a small population and staff.
pub const FAST: &[&str] = &["--days", "400", "--set", "population.citizens=5000", "--set", "workforce.frontline_staff=15"];

/// The longest any single invocation may take before the test fails (instead of hanging).
const TIMEOUT: Duration = Duration::from_secs(120);

/// A shipped scenario file of the workspace, by file name.
pub fn scenario(file: &str) -> PathBuf {
    scenarios_dir().join(file)
}

/// The workspace `scenarios/` folder.
pub fn scenarios_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios")).to_path_buf()
}

/// Every `.toml` directly inside `dir`, sorted.
pub fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("a folder entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .toml files in {}", dir.display());
    files
}

/// What one invocation of `sim` did.
pub struct Outcome {
    pub command: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "command: {}", self.command)?;
        writeln!(f, "exit:    {:?}", self.status.code())?;
        writeln!(f, "--- stdout ---\n{}", self.stdout.trim_end())?;
        write!(f, "--- stderr ---\n{}", self.stderr.trim_end())
    }
}

impl Outcome {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Panics, showing the command, stdout and stderr, unless the exit code is `code`.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), Some(code), "expected exit code {code}\n{self}");
        self
    }

    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        self.assert_code(0)
    }

    /// Panics unless stderr contains every one of `needles`.
    #[track_caller]
    pub fn assert_stderr_has(&self, needles: &[&str]) -> &Self {
        let missing: Vec<_> = needles.iter().filter(|n| !self.stderr.contains(**n)).collect();
        assert!(missing.is_empty(), "stderr lacks {missing:?}\n{self}");
        self
    }

    /// Panics unless stdout contains every one of `needles`.
    #[track_caller]
    pub fn assert_stdout_has(&self, needles: &[&str]) -> &Self {
        let missing: Vec<_> = needles.iter().filter(|n| !self.stdout.contains(**n)).collect();
        assert!(missing.is_empty(), "stdout lacks {missing:?}\n{self}");
        self
    }
}

/// Runs `sim ARGS...` with `dir` as the current folder.
pub fn sim(dir: &Path, args: &[&str]) -> Outcome {
    sim_env(dir, args, &[])
}

/// Runs `sim ARGS...` with `dir` as the current folder and extra environment variables. Fails the
/// test if the command takes longer than [`TIMEOUT`].
pub fn sim_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sim"));
    cmd.args(args).current_dir(dir).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let env_text: String = env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
    let command = format!("(cd {} && {env_text}sim {})", dir.display(), args.join(" "));
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {command}: {e}"));
    let pipe_reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = pipe_reader(Box::new(child.stdout.take().expect("piped stdout")));
    let err = pipe_reader(Box::new(child.stderr.take().expect("piped stderr")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for sim") {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command} took more than {TIMEOUT:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Outcome { command, status, stdout: out.join().expect("stdout reader"), stderr: err.join().expect("stderr reader") }
}

/// A fresh temporary folder.
pub fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary folder")
}

/// Names of the entries directly inside `dir`.
pub fn entries(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("read a folder entry").file_name().to_string_lossy().into_owned())
        .collect()
}

/// Every path under `dir` (recursively) that looks like a staging or set-aside folder (`.NAME.tmp-*`, `.NAME.old-*`).
pub fn staging_leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&d) else { continue };
        for e in read.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.contains(".tmp-") || name.contains(".old-") {
                found.push(e.path());
            }
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push(e.path());
            }
        }
    }
    found
}

/// Set of `&str` as owned strings, for comparing with [`entries`].
pub fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The files every `sim run` writes: the data and the plots of its series.
pub fn run_files() -> BTreeSet<String> {
    let mut files = names(&[MARKER, "timeseries.csv", "summary.json", "manifest.json", "networks.json"]);
    files.extend(plots::figure_files(plots::RUN_FIGURES));
    files
}

/// The marker file of a folder sim wrote (it lists the files sim wrote there).
pub const MARKER: &str = ".sim-output";

/// A parsed timeseries.csv: header and rows of numbers.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<f64>>,
}

impl Table {
    /// Reads a CSV of plain numbers (the format `sim run` writes; no quoting is needed there).
    /// Panics, naming the line and column, on a cell that does not parse as f64.
    pub fn read(path: &Path) -> Table {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let mut lines = text.lines();
        let header: Vec<String> =
            lines.next().unwrap_or_else(|| panic!("{} is empty", path.display())).split(',').map(str::to_string).collect();
        let mut rows = Vec::new();
        for (i, line) in lines.enumerate() {
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(cells.len(), header.len(), "{}:{}: {} cells for {} columns", path.display(), i + 2, cells.len(), header.len());
            let row = cells
                .iter()
                .zip(&header)
                .map(|(c, col)| {
                    c.parse::<f64>().unwrap_or_else(|e| panic!("{}:{}: column {col}: `{c}` is not a number ({e})", path.display(), i + 2))
                })
                .collect();
            rows.push(row);
        }
        Table { header, rows }
    }

    pub fn column(&self, name: &str) -> Vec<f64> {
        let i = self.header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column `{name}` in {:?}", self.header));
        self.rows.iter().map(|r| r[i]).collect()
    }
}

/// Reads and parses a JSON file.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}\n{text}", path.display()))
}

/// Reads a file as bytes.
pub fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Panics with the first differing line when two text files differ (a readable diff for outputs
/// expected to be byte-identical).
#[track_caller]
pub fn assert_same_file(a: &Path, b: &Path, what: &str) {
    let (x, y) = (bytes(a), bytes(b));
    if x == y {
        return;
    }
    let (xs, ys) = (String::from_utf8_lossy(&x), String::from_utf8_lossy(&y));
    let first = xs.lines().zip(ys.lines()).enumerate().find(|(_, (l, r))| l != r);
    let detail = match first {
        Some((i, (l, r))) => format!("first difference at line {}:\n  {}: {l}\n  {}: {r}", i + 1, a.display(), b.display()),
        None => format!("one is a prefix of the other ({} vs {} lines)", xs.lines().count(), ys.lines().count()),
    };
    panic!("{what}: {} and {} differ; {detail}", a.display(), b.display());
}
