//! Output folders: where a command may write, and how. The rules (ARCHITECTURE.md, README
//! "Output folders"):
//! - A folder sim writes carries a marker file, `.sim-output`, listing every file sim wrote there.
//! - `--out DIR` is accepted when DIR does not exist, is empty, or is an earlier sim output whose
//!   files are all listed in its marker; sim then replaces it as a whole. Anything else (a folder
//!   of the user's, or a sim output holding files sim did not write) is refused with exit 2 and
//!   nothing touched. So sim never deletes a file it did not write.
//! - DIR may not hold an input of the command (the scenario, sweep or base file, a merged
//!   folder), nor the current folder (`--out .`): replacing it would delete them.
//! - A lock file `.DIR.lock` beside DIR (holding the holder's process id) refuses a second sim
//!   writing to DIR at the same time; a file of that name holding anything else is left alone.
//! - Everything is written into a staging folder `.DIR.tmp-PID` beside DIR and moved into place
//!   when complete, so a failure never leaves a half-written output. Staging folders are removed
//!   on SIGINT/SIGTERM (see `signals`); one left by a process that died anyway (kill -9, power
//!   loss) is removed by the next command writing to the same DIR, once it holds the lock.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use serde::Serialize;
use sim_core::scenario::Scenario;

use crate::{CliError, signals};

/// The marker file of a folder sim wrote.
pub const MARKER: &str = ".sim-output";
const MARKER_HEAD: &str = "# Written by the `sim` command: this folder is its output. A later `sim ... --out` may replace\n\
# it as a whole; sim refuses to if the folder holds a file not listed below.\n";

/// Provenance of a command's outputs (the contract in ARCHITECTURE.md).
#[derive(Debug, Serialize)]
pub struct Manifest<'a> {
    pub sim_version: &'static str,
    pub git_commit: Option<&'static str>,
    pub command: &'static str,
    pub command_line: Vec<String>,
    pub scenario_file: Option<String>,
    pub scenario_hash: String,
    pub seeds: Vec<u64>,
    pub parameters: &'a Scenario,
    pub start_time: String,
    pub wall_time_seconds: f64,
}

/// A number as CSV text: shortest round-trip form; NaN for undefined (pandas and R read it).
pub use sim_core::metrics::number_text as number;

pub fn write_json<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let mut f = io::BufWriter::new(fs::File::create(path)?);
    serde_json::to_writer_pretty(&mut f, value)?;
    f.write_all(b"\n")?;
    f.flush()
}

// ---------------------------------------------------------------------------------------------
// The output folder
// ---------------------------------------------------------------------------------------------

/// A checked, locked `--out` folder. Holding it keeps the lock; dropping it releases the lock.
pub struct OutDir {
    /// As the user wrote it (for messages).
    shown: PathBuf,
    /// Absolute, with symbolic links of its existing part resolved.
    dest: PathBuf,
    _lock: Lock,
}

/// What a command wrote: the files now in the output folder, and whether the plots failed.
pub struct Written {
    pub files: Vec<String>,
    /// The data files are in place but the figures (or report) could not be drawn.
    pub plots_failed: Option<String>,
}

impl Written {
    /// The error to return after the data went into place but the plots did not.
    pub fn check_plots(&self, out: &OutDir) -> Result<(), CliError> {
        match &self.plots_failed {
            Some(e) => Err(CliError::Failed(format!(
                "{}: the plots could not be drawn ({e}); the data files listed above are complete, and `sim plot {}` retries",
                out.shown.display(),
                out.shown.display()
            ))),
            None => Ok(()),
        }
    }
}

impl OutDir {
    /// Checks `out` against the rules of this module and takes its lock. `inputs` are the files
    /// and folders the command reads. Refusals are bad input (exit 2) and touch nothing;
    /// failing to create the parent or the lock file is an environment error (exit 1).
    pub fn prepare(out: &Path, inputs: &[&Path]) -> Result<Self, CliError> {
        let shown = out.to_path_buf();
        let bad = |m: String| CliError::BadInput(format!("--out {}: {m}", shown.display()));
        let failed = |e: io::Error| CliError::Failed(format!("{}: {e}", shown.display()));
        if out.as_os_str().is_empty() {
            return Err(bad("an empty path".into()));
        }
        let dest = resolve(out).map_err(failed)?;
        if dest.parent().is_none() {
            return Err(bad("the root folder cannot be an output folder".into()));
        }
        if let Ok(cwd) = std::env::current_dir().and_then(fs::canonicalize)
            && cwd.starts_with(&dest)
        {
            return Err(bad(format!(
                "is the current folder or holds it ({}); sim replaces its output folder as a whole, so name a folder of its own, e.g. --out sim-out/run",
                cwd.display()
            )));
        }
        for input in inputs {
            if let Ok(p) = resolve(input)
                && p.starts_with(&dest)
            {
                return Err(bad(format!(
                    "holds the input {}; sim replaces its output folder as a whole, so it may not hold the command's inputs",
                    input.display()
                )));
            }
        }
        check_replaceable(&dest).map_err(&bad)?;
        let parent = dest.parent().unwrap_or(Path::new("/")).to_path_buf();
        fs::create_dir_all(&parent).map_err(failed)?;
        let lock = lock_resolved(&dest, &shown)?;
        sweep_stale(&dest);
        // Checked again under the lock: another sim may have written it meanwhile.
        check_replaceable(&dest).map_err(bad)?;
        Ok(Self { shown, dest, _lock: lock })
    }

    /// The folder as the user named it.
    pub fn shown(&self) -> &Path {
        &self.shown
    }

    /// An environment error about this folder.
    pub fn failed(&self, e: impl std::fmt::Display) -> CliError {
        CliError::Failed(format!("{}: {e}", self.shown.display()))
    }

    /// A fresh staging folder for this output.
    pub fn staging(&self) -> Result<Staging, CliError> {
        Staging::new(&self.dest).map_err(|e| self.failed(e))
    }

    /// The sweep's resumable work folder `.NAME.partial` (see [`Partial`]).
    pub fn partial_path(&self) -> PathBuf {
        sibling(&self.dest, "partial")
    }
}

/// `path` made absolute, `.` and `..` resolved, and symbolic links resolved in the part that exists.
fn resolve(path: &Path) -> io::Result<PathBuf> {
    let abs = std::path::absolute(path)?;
    let mut existing = abs.clone();
    let mut rest = Vec::new();
    // Lexically drop `.`/`..` only after resolving the existing prefix (a `..` after a link
    // follows the link, as the OS does).
    while fs::symlink_metadata(&existing).is_err() {
        match (existing.file_name().map(|n| n.to_os_string()), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut out = fs::canonicalize(&existing).unwrap_or(existing);
    for name in rest.into_iter().rev() {
        match Path::new(&name).components().next() {
            Some(Component::ParentDir) => {
                out.pop();
            }
            Some(Component::CurDir) => {}
            _ => out.push(name),
        }
    }
    Ok(out)
}

/// `.NAME.<what>` beside `dest`.
fn sibling(dest: &Path, what: &str) -> PathBuf {
    let parent = dest.parent().unwrap_or(Path::new("/"));
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    parent.join(format!(".{name}.{what}"))
}

/// Why `dest` may not be replaced, if it may not.
fn check_replaceable(dest: &Path) -> Result<(), String> {
    let meta = match fs::symlink_metadata(dest) {
        Err(_) => return Ok(()),
        Ok(m) => m,
    };
    if !meta.is_dir() {
        return Err("exists and is not a folder; sim writes only into a new folder, an empty one or an earlier sim output".into());
    }
    let found = files_under(dest).map_err(|e| e.to_string())?;
    if found.is_empty() {
        return Ok(());
    }
    let Some(listed) = read_marker(dest) else {
        let sample: Vec<&str> = found.iter().take(3).map(String::as_str).collect();
        return Err(format!(
            "is not empty ({} files, e.g. {}) and not an earlier sim output (it has no {MARKER}); nothing was touched. \
             Choose a new or empty folder, or delete its contents yourself",
            found.len(),
            sample.join(", ")
        ));
    };
    let foreign: Vec<&String> = found.iter().filter(|f| f.as_str() != MARKER && !listed.contains(*f)).collect();
    if !foreign.is_empty() {
        let sample: Vec<&str> = foreign.iter().take(5).map(|s| s.as_str()).collect();
        return Err(format!(
            "is an earlier sim output but also holds {} files sim did not write ({}); sim replaces an output folder as a whole \
             and never deletes a file it did not write, so nothing was touched. Move those files out, or choose another --out",
            foreign.len(),
            sample.join(", ")
        ));
    }
    Ok(())
}

/// Every file (and symbolic link, and empty folder) under `dir`, as `/`-separated relative paths, sorted.
fn files_under(dir: &Path) -> io::Result<Vec<String>> {
    let mut found = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, prefix)) = stack.pop() {
        let mut empty = true;
        for e in fs::read_dir(&d)? {
            let e = e?;
            empty = false;
            let name = format!("{prefix}{}", e.file_name().to_string_lossy());
            if e.file_type()?.is_dir() {
                stack.push((e.path(), format!("{name}/")));
            } else {
                found.push(name);
            }
        }
        if empty && !prefix.is_empty() {
            found.push(prefix);
        }
    }
    found.sort();
    Ok(found)
}

/// The files a marker lists; `None` when `dir` has no marker.
fn read_marker(dir: &Path) -> Option<std::collections::BTreeSet<String>> {
    let text = fs::read_to_string(dir.join(MARKER)).ok()?;
    Some(text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).map(str::to_string).collect())
}

/// Writes the marker of `dir` listing every file in it; returns the list.
fn write_marker(dir: &Path) -> io::Result<Vec<String>> {
    let files: Vec<String> = files_under(dir)?.into_iter().filter(|f| f != MARKER).collect();
    let mut text = String::from(MARKER_HEAD);
    for f in &files {
        text.push_str(f);
        text.push('\n');
    }
    fs::write(dir.join(MARKER), text)?;
    Ok(files)
}

/// Adds files a command wrote into an existing sim output (`sim plot`) to its marker.
pub fn note_written(dir: &Path) -> io::Result<()> {
    if read_marker(dir).is_some() { write_marker(dir).map(|_| ()) } else { Ok(()) }
}

/// True when process `pid` is alive (Linux: /proc; elsewhere assumed alive, so nothing is swept).
fn alive(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new("/proc").join(pid.to_string()).exists()
}

/// Removes staging and set-aside folders of `dest` left by processes that died (they carry the
/// marker, so no folder of the user's is touched). A set-aside old output whose move was cut
/// short (the destination is missing) is moved back instead.
fn sweep_stale(dest: &Path) {
    let Some(parent) = dest.parent() else { return };
    let Some(name) = dest.file_name().map(|n| n.to_string_lossy().into_owned()) else { return };
    let Ok(read) = fs::read_dir(parent) else { return };
    for e in read.flatten() {
        let entry = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = entry.strip_prefix(&format!(".{name}.")) else { continue };
        let (kind, pid) = match rest.split_once('-') {
            Some((k @ ("tmp" | "old"), pid)) => (k, pid),
            _ => continue,
        };
        let Ok(pid) = pid.parse::<u32>() else { continue };
        if pid == std::process::id() || alive(pid) || !e.path().join(MARKER).is_file() {
            continue;
        }
        if kind == "old" && fs::symlink_metadata(dest).is_err() {
            let _ = fs::rename(e.path(), dest);
        } else {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The lock
// ---------------------------------------------------------------------------------------------

enum LockError {
    Busy,
    /// The lock's path holds a file sim did not write (not empty, not one process id).
    NotOurs,
    Io(io::Error),
}

/// Takes the lock `.NAME.lock` beside folder `dir` (the lock every command writing to `dir` takes),
/// for commands that change a folder in place instead of replacing it (`sim slurm`); held until
/// the returned guard is dropped. A held lock is an error naming the folder (exit 1).
pub fn lock_folder(dir: &Path) -> Result<FolderLock, CliError> {
    let dest = resolve(dir).map_err(|e| CliError::Failed(format!("{}: {e}", dir.display())))?;
    if dest.parent().is_none() {
        return Err(CliError::BadInput(format!("{}: the root folder cannot be an output folder", dir.display())));
    }
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(|e| CliError::Failed(format!("{}: {e}", dir.display())))?;
    }
    lock_resolved(&dest, dir).map(|lock| FolderLock { _lock: lock })
}

/// A held folder lock ([`lock_folder`]); dropping it releases and removes the lock file.
pub struct FolderLock {
    _lock: Lock,
}

fn lock_resolved(dest: &Path, shown: &Path) -> Result<Lock, CliError> {
    let path = sibling(dest, "lock");
    Lock::take(&path).map_err(|e| match e {
        LockError::Busy => CliError::Failed(format!(
            "{}: another sim is writing to this folder right now (lock {} is held); wait for it or choose another --out",
            shown.display(),
            path.display()
        )),
        LockError::NotOurs => CliError::Failed(format!(
            "{}: {} is in the way and is not a sim lock file (sim's hold one process id); nothing was touched. Move it away",
            shown.display(),
            path.display()
        )),
        LockError::Io(e) => CliError::Failed(format!("{}: {e}", shown.display())),
    })
}

/// Whether `text` is what a sim lock file holds: nothing (just created) or one process id.
fn is_sim_lock(text: &[u8]) -> bool {
    let id = text.strip_suffix(b"\n").unwrap_or(text);
    id.len() <= 20 && id.iter().all(u8::is_ascii_digit)
}

/// An exclusive lock on `.NAME.lock` beside the output, removed when released.
struct Lock {
    path: PathBuf,
    _file: File,
}

impl Lock {
    fn take(path: &Path) -> Result<Self, LockError> {
        // A holder removes the file before releasing it; if we locked a file that was removed
        // meanwhile, try again on the new one.
        for _ in 0..100 {
            // The signal watcher waits for this guard: a signal between creating the file and
            // registering it cannot leave it behind, and one while another sim holds it removes
            // nothing of theirs.
            let mut registered = signals::commit_guard();
            let file = OpenOptions::new().create(true).truncate(false).write(true).open(path).map_err(LockError::Io)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => return Err(LockError::Busy),
                Err(fs::TryLockError::Error(e)) => return Err(LockError::Io(e)),
            }
            if same_file(&file, path) {
                // A file someone else put there is neither overwritten nor removed.
                // A sim lock holds at most 21 bytes: read no more than one past that.
                let mut text = Vec::new();
                File::open(path).and_then(|f| f.take(22).read_to_end(&mut text)).map_err(LockError::Io)?;
                let ours = is_sim_lock(&text);
                if !ours {
                    return Err(LockError::NotOurs);
                }
                registered.hold_file(path);
                drop(registered);
                // The holder's process id, in place of any a crashed holder left.
                let mut f = &file;
                let _ = file.set_len(0);
                let _ = writeln!(f, "{}", std::process::id());
                return Ok(Self { path: path.to_path_buf(), _file: file });
            }
        }
        Err(LockError::Busy)
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still held (the file handle closes after this), see `take`.
        let _ = fs::remove_file(&self.path);
        signals::remove_file(&self.path);
    }
}

// ---------------------------------------------------------------------------------------------
// Staging
// ---------------------------------------------------------------------------------------------

/// A temporary folder beside the destination; removed on drop (and on a signal) unless committed.
pub struct Staging {
    tmp: PathBuf,
    dest: PathBuf,
    done: bool,
}

impl Staging {
    fn new(dest: &Path) -> io::Result<Self> {
        let tmp = sibling(dest, &format!("tmp-{}", std::process::id()));
        // A leftover of an earlier process with our PID: removed only if it is sim's (it carries
        // the marker, or is empty), as `sweep_stale` removes other PIDs' leftovers.
        if fs::symlink_metadata(&tmp).is_ok() {
            let removed = if tmp.join(MARKER).is_file() { fs::remove_dir_all(&tmp) } else { fs::remove_dir(&tmp) };
            removed.map_err(|_| {
                io::Error::other(format!(
                    "{} is in the way and is not a sim staging folder (it has no {MARKER}); nothing was touched. Move it away",
                    tmp.display()
                ))
            })?;
        }
        // Registered before it exists, so a signal between the two cannot leave it behind.
        signals::add_dir(&tmp);
        if let Err(e) = fs::create_dir(&tmp) {
            signals::remove_dir(&tmp);
            return Err(e);
        }
        let staging = Self { tmp, dest: dest.to_path_buf(), done: false };
        fs::write(staging.tmp.join(MARKER), MARKER_HEAD)?;
        Ok(staging)
    }

    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Writes the marker and moves the folder into place (see [`move_into_place`]). `plots` is
    /// the result of drawing the figures, carried into [`Written`].
    pub fn commit(mut self, plots: Result<(), String>) -> Result<Written, CliError> {
        let failed = |e: io::Error| CliError::Failed(format!("{}: {e}", self.dest.display()));
        let files = write_marker(&self.tmp).map_err(failed)?;
        let mut guard = signals::commit_guard();
        move_into_place(&self.tmp, &self.dest).map_err(failed)?;
        guard.forget_dir(&self.tmp);
        drop(guard);
        self.done = true;
        Ok(Written { files, plots_failed: plots.err() })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.tmp);
            signals::remove_dir(&self.tmp);
        }
    }
}

/// Renames the folder `tmp` to `dest`. An existing destination (checked replaceable again here)
/// is set aside first and restored if the move fails, so the destination always holds one
/// command's complete output.
fn move_into_place(tmp: &Path, dest: &Path) -> io::Result<()> {
    if fs::symlink_metadata(dest).is_ok() {
        check_replaceable(dest).map_err(io::Error::other)?;
        let old = sibling(dest, &format!("old-{}", std::process::id()));
        fs::rename(dest, &old)?;
        if let Err(e) = fs::rename(tmp, dest) {
            let _ = fs::rename(&old, dest);
            return Err(e);
        }
        // Only what the marker listed (checked above) is deleted.
        let _ = fs::remove_dir_all(&old);
    } else {
        fs::rename(tmp, dest)?;
    }
    Ok(())
}

/// A work folder beside the destination with a fixed name, `.NAME.partial`, for commands that can
/// resume (`sim sweep`): unlike [`Staging`] it survives a kill, a signal or an error, so a later
/// run can find it and continue; [`Partial::commit`] moves it into place like [`Staging::commit`].
pub struct Partial {
    path: PathBuf,
    dest: PathBuf,
}

impl Partial {
    /// The work folder of `out`, created if missing (existing contents are kept).
    pub fn open(out: &OutDir) -> io::Result<Self> {
        let path = out.partial_path();
        fs::create_dir_all(&path)?;
        if !path.join(MARKER).exists() {
            fs::write(path.join(MARKER), MARKER_HEAD)?;
        }
        Ok(Self { path, dest: out.dest.clone() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves the folder into place (see [`Staging::commit`]).
    pub fn commit(self, plots: Result<(), String>) -> Result<Written, CliError> {
        let failed = |e: io::Error| CliError::Failed(format!("{}: {e}", self.dest.display()));
        let files = write_marker(&self.path).map_err(failed)?;
        let guard = signals::commit_guard();
        move_into_place(&self.path, &self.dest).map_err(failed)?;
        drop(guard);
        Ok(Written { files, plots_failed: plots.err() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lock file left by a holder that was killed is taken over and holds only the new
    /// holder's process id; releasing the lock removes the file.
    #[test]
    fn a_leftover_lock_file_is_taken_over_with_only_our_process_id() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        let path = root.path().join(".out.lock");
        fs::write(&path, "4294967295\n").unwrap();
        let lock = lock_folder(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fs::read_to_string(&path).unwrap(), format!("{}\n", std::process::id()));
        drop(lock);
        assert!(!path.exists());
    }

    /// A file at the lock's path that sim did not write (anything but one process id) is
    /// refused, left as it was, and named in the error; an empty one is sim's (just created).
    #[test]
    fn a_lock_file_sim_did_not_write_is_left_alone() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        let path = root.path().join(".out.lock");
        let long = format!("{}\n", "7".repeat(5000));
        for mine in ["my notes\n", "4294967295\nleft by someone\n", "12 34\n", &long] {
            fs::write(&path, mine).unwrap();
            let e = lock_folder(&dir).err().expect("refused");
            assert!(e.to_string().contains("not a sim lock file") && e.to_string().contains(&*path.to_string_lossy()), "{e}");
            assert_eq!(fs::read_to_string(&path).unwrap(), mine, "untouched");
        }
        fs::write(&path, "").unwrap();
        drop(lock_folder(&dir).unwrap_or_else(|e| panic!("{e}")));
        assert!(!path.exists());
        assert!(is_sim_lock(b"123\n") && is_sim_lock(b"") && !is_sim_lock(b"\n\n") && !is_sim_lock(b"1\n2\n"));
    }

    /// A folder named as our staging folder is replaced only when it is sim's (marker or empty);
    /// anything else stays as it was and the error names it.
    #[test]
    fn staging_replaces_only_a_leftover_of_sim() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("out");
        let tmp = sibling(&dest, &format!("tmp-{}", std::process::id()));

        fs::create_dir(&tmp).unwrap();
        fs::write(tmp.join("notes.txt"), "mine").unwrap();
        let e = Staging::new(&dest).err().expect("a folder without the marker is refused");
        assert!(e.to_string().contains("not a sim staging folder") && e.to_string().contains(&*tmp.to_string_lossy()), "{e}");
        assert_eq!(fs::read_to_string(tmp.join("notes.txt")).unwrap(), "mine");
        fs::remove_dir_all(&tmp).unwrap();

        fs::write(&tmp, "a file").unwrap();
        assert!(Staging::new(&dest).is_err());
        assert_eq!(fs::read_to_string(&tmp).unwrap(), "a file");
        fs::remove_file(&tmp).unwrap();

        for leftover in [vec![MARKER, "timeseries.csv"], vec![]] {
            fs::create_dir(&tmp).unwrap();
            for f in &leftover {
                fs::write(tmp.join(f), "old").unwrap();
            }
            let staging = Staging::new(&dest).expect("sim's leftover is replaced");
            assert!(!staging.path().join("timeseries.csv").exists());
            assert!(staging.path().join(MARKER).is_file());
            drop(staging);
            assert!(fs::symlink_metadata(&tmp).is_err(), "an uncommitted staging folder is removed");
        }
    }
}
