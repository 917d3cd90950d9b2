//! Running a sweep's runs into a folder: the journal (runs.csv, one line per finished run,
//! appended in run order and written with one `write` per line, so the file is always a prefix of
//! the final one), resuming from it, the rayon runner with its bounded reorder window, and progress.
//!
//! Resume: the journal is cut after its last complete line (a kill can leave a partial one), its
//! rows are checked against the plan's first runs (run_id, point, replicate, seed) and consumed in
//! place of running them, and the remaining runs are appended. With adaptive replication the
//! journal's values of the target metric feed the planner exactly as fresh results would, so the
//! later rounds come out the same.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use sim_core::experiment::sweep::{AdaptiveTarget, Panicked, Planner, RunSpec, Shard, Sweep, run_ordered};
use sim_core::metrics::{Metric, TimeSeries};

use crate::CliError;
use crate::output::number;
use crate::sweep_tables::{FIXED, Layout, run_line, write_atomically};

/// Runs each worker may have in flight or waiting to be written, per thread. Bounds memory: a
/// waiting run holds one formatted row, an in-flight one its world.
const WINDOW_PER_THREAD: usize = 4;

impl From<Panicked> for CliError {
    fn from(p: Panicked) -> Self {
        CliError::Failed(format!("a run panicked, which is a bug in sim (please report it with the sweep file): {}", p.message))
    }
}

/// What to run and where.
pub struct Settings<'a> {
    pub sweep: &'a Sweep,
    pub layout: &'a Layout,
    /// The folder that receives runs.csv (and runs/ with `timeseries`).
    pub dir: &'a Path,
    /// A local pool for `--threads`; the global pool (RAYON_NUM_THREADS) otherwise.
    pub pool: Option<&'a rayon::ThreadPool>,
    pub shard: Option<Shard>,
    pub target: Option<AdaptiveTarget>,
    pub timeseries: bool,
    /// Continue the journal already in `dir` instead of starting a new one.
    pub resume: bool,
    /// Names the command in progress lines.
    pub label: &'static str,
}

/// What was run.
#[derive(Debug, Clone, Copy)]
pub struct Executed {
    /// Rows in runs.csv.
    pub rows: u64,
    /// Rows taken from the journal of an earlier, interrupted invocation.
    pub resumed: u64,
    pub rounds: usize,
    pub threads: usize,
}

/// Runs the plan into `settings.dir/runs.csv`.
pub fn execute(s: &Settings) -> Result<Executed, CliError> {
    let threads = s.pool.map(|p| p.current_num_threads()).unwrap_or_else(rayon::current_num_threads);
    let window = WINDOW_PER_THREAD * threads.max(1);
    let target_column = match s.target {
        Some(t) => Some(s.sweep.metrics.iter().position(|&m| m == t.metric).ok_or_else(|| {
            CliError::BadInput(format!("--target-ci: metric `{}` is not recorded by the sweep (add it to `metrics`)", t.metric.name()))
        })?),
        None => None,
    };
    let series_dir = s.dir.join("runs");
    if s.timeseries {
        fs::create_dir_all(&series_dir).map_err(|e| failed(&series_dir, e))?;
    }
    let mut journal = Journal::open(&s.dir.join("runs.csv"), &s.layout.header(), s.resume)?;
    let mut planner = Planner::new(s.sweep, s.target);
    let mut progress = Progress::new(s.label);
    let in_shard = |r: &RunSpec| s.shard.is_none_or(|sh| sh.contains(r.run_id));
    let (mut rows, mut resumed, mut rounds) = (0u64, 0u64, 0usize);

    while let Some(round) = planner.next_round() {
        rounds += 1;
        let count = round.runs().filter(|r| in_shard(r)).count() as u64;
        progress.add_total(count);
        if s.target.is_some() {
            progress.round(rounds, count);
        }
        let mut runs = round.runs().filter(|r| in_shard(r)).peekable();
        // Runs already in the journal are read back, not run.
        while let Some(&run) = runs.peek() {
            let Some(value) = journal.take_existing(&run, target_column.map(|c| FIXED.len() + s.layout.parameters + c))? else { break };
            if let Some(v) = value {
                planner.record(&run, v);
            }
            runs.next();
            rows += 1;
            resumed += 1;
            progress.resumed(1);
        }
        let work = |run: &RunSpec| run_one(s.sweep, run, s.timeseries.then_some(series_dir.as_path()), target_column);
        run_ordered(s.pool, runs, window, work, |run, result| {
            let (line, value) = result?;
            journal.append(&line)?;
            if let Some(v) = value {
                planner.record(&run, v);
            }
            rows += 1;
            progress.inc();
            Ok::<(), CliError>(())
        })?;
    }
    journal.finish()?;
    progress.finish();
    Ok(Executed { rows, resumed, rounds, threads })
}

/// One run: its runs.csv line and the target metric's value.
fn run_one(
    sweep: &Sweep,
    run: &RunSpec,
    series_dir: Option<&Path>,
    target_column: Option<usize>,
) -> Result<(Vec<u8>, Option<f64>), CliError> {
    let point = &sweep.points[run.point];
    // Every point was validated when the sweep was loaded, so this fails only on a changed base file.
    let scenario = sweep.scenario_for(point).map_err(|e| CliError::Failed(format!("point {}: {e}", point.id)))?;
    let out = sim_core::simulation::run(&scenario, run.seed);
    if let Some(dir) = series_dir {
        let path = dir.join(format!("{}.csv", run.run_id));
        write_atomically(&path, |w| write_series(w, &out.series).map_err(|e| format!("{}: {e}", path.display())))
            .map_err(CliError::Failed)?;
    }
    let values: Vec<f64> = sweep.metrics.iter().map(|m| out.summary.get(m.name()).unwrap_or(f64::NAN)).collect();
    let target = target_column.map(|c| values[c]);
    Ok((run_line(run, point, &values), target))
}

/// A run's daily series as CSV: day, then one column per metric (as `sim run` writes timeseries.csv).
fn write_series(w: &mut impl Write, series: &TimeSeries) -> io::Result<()> {
    let mut header = String::from("day");
    for m in Metric::ALL {
        header.push(',');
        header.push_str(m.name());
    }
    writeln!(w, "{header}")?;
    let mut line = String::new();
    for (i, day) in series.days.iter().enumerate() {
        line.clear();
        line.push_str(&day.to_string());
        for &m in Metric::ALL {
            line.push(',');
            line.push_str(&number(series.get(m)[i]));
        }
        writeln!(w, "{line}")?;
    }
    Ok(())
}

fn failed(path: &Path, e: io::Error) -> CliError {
    CliError::Failed(format!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// The journal
// ---------------------------------------------------------------------------------------------

/// runs.csv while a sweep runs.
struct Journal {
    path: PathBuf,
    /// Append handle; unbuffered, one `write` per line.
    file: File,
    /// Rows written by an earlier invocation that have not been matched to the plan yet.
    existing: Option<csv::Reader<BufReader<File>>>,
    record: csv::StringRecord,
    row: u64,
}

impl Journal {
    /// A new runs.csv holding the header, or with `resume` the existing one (if any) cut after
    /// its last complete line.
    fn open(path: &Path, header: &[u8], resume: bool) -> Result<Self, CliError> {
        let io = |e: io::Error| failed(path, e);
        let mut existing = None;
        if resume && path.exists() {
            let mut f = OpenOptions::new().read(true).write(true).open(path).map_err(io)?;
            let mut head = vec![0u8; header.len()];
            let len = f.metadata().map_err(io)?.len();
            let n = f.read(&mut head).map_err(io)?;
            if len >= header.len() as u64 && n == header.len() && head == header {
                let keep = after_last_newline(&mut f, len).map_err(io)?.max(header.len() as u64);
                f.set_len(keep).map_err(io)?;
                existing = Some(csv::ReaderBuilder::new().has_headers(true).from_reader(BufReader::new(File::open(path).map_err(io)?)));
            } else if len >= header.len() as u64 || !header.starts_with(&head[..n]) {
                return Err(CliError::BadInput(format!(
                    "{}: its columns differ from this sweep's; it belongs to another sweep (delete its folder to start again)",
                    path.display()
                )));
            }
            // Otherwise a kill cut the header itself: start again below.
        }
        if existing.is_none() {
            let mut f = File::create(path).map_err(io)?;
            f.write_all(header).map_err(io)?;
        }
        let file = OpenOptions::new().append(true).open(path).map_err(io)?;
        Ok(Self { path: path.to_path_buf(), file, existing, record: csv::StringRecord::new(), row: 0 })
    }

    /// If the journal holds a row for `run`, checks that it is that run and returns
    /// `Some(value of column value_column)` (inner `None` without a column); `None` when the
    /// journal has no more rows.
    fn take_existing(&mut self, run: &RunSpec, value_column: Option<usize>) -> Result<Option<Option<f64>>, CliError> {
        let Some(reader) = self.existing.as_mut() else { return Ok(None) };
        let more = reader.read_record(&mut self.record).map_err(|e| CliError::Failed(format!("{}: {e}", self.path.display())))?;
        if !more {
            self.existing = None;
            return Ok(None);
        }
        self.row += 1;
        let r = &self.record;
        let expected = [run.run_id.to_string(), run.point.to_string(), run.replicate.to_string(), run.seed.to_string()];
        if r.len() < FIXED.len() || (0..FIXED.len()).any(|i| r[i] != expected[i]) {
            return Err(CliError::BadInput(format!(
                "{}: row {} is not run {} of this sweep (point {}, replicate {}, seed {}); the folder holds another sweep's runs",
                self.path.display(),
                self.row,
                run.run_id,
                run.point,
                run.replicate,
                run.seed
            )));
        }
        let value = match value_column {
            Some(c) => {
                let text = r.get(c).unwrap_or("");
                Some(Some(
                    text.parse::<f64>()
                        .map_err(|_| CliError::BadInput(format!("{}: row {}: `{text}` is not a number", self.path.display(), self.row)))?,
                ))
            }
            None => Some(None),
        };
        Ok(value)
    }

    fn append(&mut self, line: &[u8]) -> Result<(), CliError> {
        self.file.write_all(line).map_err(|e| failed(&self.path, e))
    }

    /// Fails if the journal holds runs the plan does not have.
    fn finish(&mut self) -> Result<(), CliError> {
        if let Some(reader) = self.existing.as_mut()
            && reader.read_record(&mut self.record).map_err(|e| CliError::Failed(format!("{}: {e}", self.path.display())))?
        {
            return Err(CliError::BadInput(format!(
                "{}: holds more runs than this sweep has ({} planned); the folder holds another sweep's runs",
                self.path.display(),
                self.row
            )));
        }
        self.file.sync_data().map_err(|e| failed(&self.path, e))
    }
}

/// The file length up to and including its last newline (0 if it has none).
fn after_last_newline(f: &mut File, len: u64) -> io::Result<u64> {
    const BLOCK: u64 = 64 * 1024;
    let mut end = len;
    let mut buf = vec![0u8; BLOCK as usize];
    while end > 0 {
        let start = end.saturating_sub(BLOCK);
        let n = (end - start) as usize;
        f.seek(SeekFrom::Start(start))?;
        f.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

// ---------------------------------------------------------------------------------------------
// Progress
// ---------------------------------------------------------------------------------------------

/// Progress on stderr. On a terminal: a bar with runs done of the total, rate and ETA. Otherwise
/// one plain line each time another tenth of the runs is done (adaptive rounds add to the total,
/// so the share can step back).
struct Progress {
    label: &'static str,
    bar: Option<ProgressBar>,
    total: u64,
    done: u64,
    resumed: u64,
    started: Instant,
    reported_tenths: u64,
}

impl Progress {
    fn new(label: &'static str) -> Self {
        let bar = (io::stderr().is_terminal() && !crate::ui::quiet()).then(|| {
            let bar = ProgressBar::new(0);
            let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} runs  {per_sec}  eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(label);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self { label, bar, total: 0, done: 0, resumed: 0, started: Instant::now(), reported_tenths: 0 }
    }

    fn add_total(&mut self, n: u64) {
        self.total += n;
        if let Some(bar) = &self.bar {
            bar.set_length(self.total);
        }
    }

    /// The start of an adaptive round (each round is announced, not only the first).
    fn round(&mut self, round: usize, runs: u64) {
        let text = format!("{}: adaptive round {round}: {runs} runs (total so far {})", self.label, self.total);
        match &self.bar {
            Some(bar) => bar.println(text),
            None if !crate::ui::quiet() => eprintln!("{text}"),
            None => {}
        }
        // Each round reports its own tenths.
        self.reported_tenths = (self.done * 10).checked_div(self.total).unwrap_or(0);
    }

    /// Runs taken from the journal: counted as done, not in the rate.
    fn resumed(&mut self, n: u64) {
        self.done += n;
        self.resumed += n;
        if let Some(bar) = &self.bar {
            bar.set_position(self.done);
            bar.reset_eta();
        }
    }

    fn inc(&mut self) {
        self.done += 1;
        match &self.bar {
            Some(bar) => bar.set_position(self.done),
            None => {
                let tenths = (self.done * 10).checked_div(self.total).unwrap_or(10);
                if tenths > self.reported_tenths && self.done < self.total && !crate::ui::quiet() {
                    self.reported_tenths = tenths;
                    let secs = self.started.elapsed().as_secs_f64();
                    let rate = (self.done - self.resumed) as f64 / secs.max(1e-9);
                    let left = (self.total - self.done) as f64 / rate.max(1e-9);
                    eprintln!(
                        "{}: {}% ({}/{} runs), {rate:.1} runs/s, about {left:.0} s left",
                        self.label,
                        tenths * 10,
                        self.done,
                        self.total
                    );
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
