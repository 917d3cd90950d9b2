//! The streams: results (tables, summaries, the paths written) go to stdout; progress, notes,
//! warnings and errors to stderr. `--quiet` silences progress and notes (errors and warnings
//! stay); `--format json` prints each result line as one JSON object per line for scripts.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

static QUIET: AtomicBool = AtomicBool::new(false);

pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// A progress line or note on stderr, unless `--quiet`.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {
        if !$crate::ui::quiet() {
            eprintln!($($arg)*);
        }
    };
}

/// How result lines are printed.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Prints one result: `text` in text mode, `value` as one JSON line otherwise.
pub fn result(format: Format, text: &str, value: Value) {
    match format {
        Format::Text => println!("{text}"),
        Format::Json => println!("{value}"),
    }
}

/// The closing line of a command: the folder and the files now in it (only those written).
pub fn wrote(format: Format, command: &str, out: &std::path::Path, files: &[String]) {
    // Top-level files by name; a subfolder (runs/ of a sweep) as its name and file count.
    let mut shown: Vec<String> = Vec::new();
    let mut folders: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for f in files {
        match f.split_once('/') {
            Some((d, _)) => *folders.entry(d).or_default() += 1,
            None => shown.push(f.clone()),
        }
    }
    shown.extend(folders.iter().map(|(d, n)| format!("{d}/ ({n} files)")));
    result(
        format,
        &format!("wrote {}: {}", out.display(), shown.join(", ")),
        json!({"kind": "wrote", "command": command, "out": out.display().to_string(), "files": files}),
    );
}

/// A number for JSON: null when not finite.
pub fn num(x: f64) -> Value {
    serde_json::Number::from_f64(x).map(Value::Number).unwrap_or(Value::Null)
}
