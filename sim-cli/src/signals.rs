//! What a signal must not leave behind. Staging folders (`.NAME.tmp-PID`) and lock files
//! (`.NAME.lock`) are registered here while they exist; on SIGINT, SIGTERM or SIGHUP a watcher
//! thread removes them and exits with 128 + the signal's number. A sweep's work folder
//! (`.NAME.partial`) is not registered: it is meant to survive so `--resume` can continue it.
//!
//! Moving an output into place holds the same lock as the watcher ([`commit_guard`]), so a
//! signal never lands between setting the old output aside and moving the new one in.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
pub struct Registered {
    dirs: Vec<PathBuf>,
    files: Vec<PathBuf>,
}

static REGISTERED: Mutex<Registered> = Mutex::new(Registered { dirs: Vec::new(), files: Vec::new() });

fn registered() -> MutexGuard<'static, Registered> {
    REGISTERED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts the watcher. Without it (it fails only if the OS refuses the handlers) sim still runs;
/// a later run sweeps what a signal left (see `output`).
pub fn install() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else { return };
    let _ = std::thread::Builder::new().name("signals".into()).spawn(move || {
        if let Some(signal) = signals.forever().next() {
            clean_up();
            std::process::exit(128 + signal);
        }
    });
}

/// Attempts at removing a staging folder that files are still being written into.
const REMOVAL_TRIES: usize = 100;

/// Removes every registered staging folder and lock file (the watcher's work; also safe to call
/// on the way out after an error).
fn clean_up() {
    let r = registered();
    for d in &r.dirs {
        // The main thread may still be writing into the folder: a file it adds between the
        // listing and the removal of the folder fails the removal, so try until it is gone.
        for _ in 0..REMOVAL_TRIES {
            if std::fs::remove_dir_all(d).is_ok() || std::fs::symlink_metadata(d).is_err() {
                break;
            }
        }
    }
    for f in &r.files {
        let _ = std::fs::remove_file(f);
    }
    // The guard is held until exit, so nothing can be moved into place half-way.
    std::mem::forget(r);
}

pub fn add_dir(path: &Path) {
    registered().dirs.push(path.to_path_buf());
}

pub fn remove_dir(path: &Path) {
    registered().dirs.retain(|p| p != path);
}

pub fn remove_file(path: &Path) {
    registered().files.retain(|p| p != path);
}

/// Held while an output is moved into place (a signal waits for the move to finish), and while
/// the lock file is created and registered.
pub fn commit_guard() -> MutexGuard<'static, Registered> {
    registered()
}

impl Registered {
    /// Registers a file while the guard is held.
    pub fn hold_file(&mut self, path: &Path) {
        self.files.push(path.to_path_buf());
    }

    /// Unregisters a staging folder while the guard is held.
    pub fn forget_dir(&mut self, path: &Path) {
        self.dirs.retain(|p| p != path);
    }
}
