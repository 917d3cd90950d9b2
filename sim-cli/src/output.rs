//! Output files. Everything is written into a fresh temporary folder next to the destination and
//! moved into place only when complete, so a failure never leaves a half-written output.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sim_core::metrics::Metric;
use sim_core::model::RunOutput;
use sim_core::scenario::Scenario;
use sim_core::steady::SteadyState;

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

#[derive(Serialize)]
struct SummaryFile<'a> {
    scenario: &'a str,
    seed: u64,
    window_start_day: u32,
    window_end_day: u32,
    /// Metric name -> value; null where undefined (e.g. no closures in the window).
    metrics: serde_json::Map<String, serde_json::Value>,
    /// Mean wellbeing of each neighbourhood over the window, neighbourhood 0 first.
    neighbourhood_wellbeing: Vec<Option<f64>>,
    /// Whether the window is steady: yearly means, trend and MSER-5 truncation day of the key
    /// metrics (sim_core::steady).
    steady_state: &'a SteadyState,
}

/// A number as CSV text: shortest round-trip form; NaN for undefined (pandas and R read it).
pub fn number(x: f64) -> String {
    if x.is_nan() { "NaN".into() } else { format!("{x}") }
}

/// Writes timeseries.csv, summary.json, manifest.json and the plots into `dir`.
pub fn write_run(dir: &Path, scenario: &Scenario, seed: u64, out: &RunOutput, steady: &SteadyState, manifest: &Manifest) -> io::Result<()> {
    let staging = Staging::new(dir)?;
    {
        let mut w = csv::Writer::from_path(staging.path().join("timeseries.csv"))?;
        let mut header = vec!["day".to_string()];
        header.extend(Metric::ALL.iter().map(|m| m.name().to_string()));
        w.write_record(&header)?;
        let mut row = Vec::with_capacity(header.len());
        for (i, day) in out.series.days.iter().enumerate() {
            row.clear();
            row.push(day.to_string());
            row.extend(Metric::ALL.iter().map(|&m| number(out.series.get(m)[i])));
            w.write_record(&row)?;
        }
        w.flush()?;
    }
    let metrics = out
        .summary
        .metrics
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Number::from_f64(*v).map(serde_json::Value::Number).unwrap_or(serde_json::Value::Null)))
        .collect();
    let summary = SummaryFile {
        scenario: &scenario.name,
        seed,
        window_start_day: out.summary.window_start_day,
        window_end_day: out.summary.window_end_day,
        metrics,
        neighbourhood_wellbeing: out.summary.neighbourhood_wellbeing.iter().map(|v| v.is_finite().then_some(*v)).collect(),
        steady_state: steady,
    };
    write_json(&staging.path().join("summary.json"), &summary)?;
    write_json(&staging.path().join("manifest.json"), manifest)?;
    write_json(&staging.path().join("networks.json"), &out.networks)?;
    // The dashboard of the run's series and the network snapshots, drawn from the files just written.
    crate::report::draw_into(staging.path(), "run", false);
    staging.commit()
}

pub fn write_json<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let mut f = io::BufWriter::new(fs::File::create(path)?);
    serde_json::to_writer_pretty(&mut f, value)?;
    f.write_all(b"\n")?;
    f.flush()
}

/// A temporary folder beside the destination; removed on drop unless committed.
pub struct Staging {
    tmp: PathBuf,
    dest: PathBuf,
    done: bool,
}

impl Staging {
    pub fn new(dest: &Path) -> io::Result<Self> {
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent)?;
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir(&tmp)?;
        Ok(Self { tmp, dest: dest.to_path_buf(), done: false })
    }

    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Moves the folder into place. An existing destination is set aside first and restored if
    /// the move fails, so the destination always holds one command's complete output.
    pub fn commit(mut self) -> io::Result<()> {
        move_into_place(&self.tmp, &self.dest)?;
        self.done = true;
        Ok(())
    }
}

/// Renames the folder `tmp` to `dest`. An existing destination is set aside first and restored if
/// the move fails, so the destination always holds one command's complete output.
fn move_into_place(tmp: &Path, dest: &Path) -> io::Result<()> {
    if dest.exists() {
        if !dest.is_dir() {
            return Err(io::Error::other("exists and is not a folder"));
        }
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
        let old = tmp.with_file_name(format!(".{name}.old-{}", std::process::id()));
        fs::rename(dest, &old)?;
        if let Err(e) = fs::rename(tmp, dest) {
            let _ = fs::rename(&old, dest);
            return Err(e);
        }
        let _ = fs::remove_dir_all(&old);
    } else {
        fs::rename(tmp, dest)?;
    }
    Ok(())
}

/// A work folder beside the destination with a fixed name, `.NAME.partial`, for commands that can
/// resume (`sim sweep`): unlike [`Staging`] it survives a kill or an error, so a later run can find
/// it and continue; [`Partial::commit`] moves it into place like [`Staging::commit`].
pub struct Partial {
    path: PathBuf,
    dest: PathBuf,
}

impl Partial {
    /// Where the work folder of `dest` lives.
    pub fn path_for(dest: &Path) -> PathBuf {
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
        parent.join(format!(".{name}.partial"))
    }

    /// The work folder of `dest`, created if missing (existing contents are kept).
    pub fn open(dest: &Path) -> io::Result<Self> {
        let path = Self::path_for(dest);
        fs::create_dir_all(&path)?;
        Ok(Self { path, dest: dest.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves the folder into place (see [`Staging::commit`]).
    pub fn commit(self) -> io::Result<()> {
        move_into_place(&self.path, &self.dest)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}
