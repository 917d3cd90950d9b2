//! The tables of a sweep. runs.csv is the journal: one line per run, appended in run order. Every
//! other table is derived from it by streaming, so memory does not grow with the number of runs:
//! runs.parquet (record batches of [`BATCH_ROWS`] rows), points.csv (per point and metric: mean,
//! 95% CI, n), the per-point means that sensitivity indices need, and the merge of shards'
//! runs.csv files by run_id.
//!
//! Each derived file is written under a temporary name and renamed when complete, so a kill
//! never leaves a half-written one.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use serde::{Deserialize, Serialize};
use sim_core::experiment::sweep::{Point, RunSpec, Sweep, value_cell};
use sim_core::metrics::mean_ci95;

use crate::output::number;

/// Rows per Arrow record batch when converting runs.csv to Parquet.
pub const BATCH_ROWS: usize = 4096;
/// Rows per Parquet row group: the writer buffers one row group, so this bounds its memory
/// whatever the number of runs.
const ROW_GROUP_ROWS: usize = BATCH_ROWS;
/// Points aggregated per pass over runs.csv when its rows are not grouped by point (adaptive
/// replication), which bounds the memory of points.csv.
const POINTS_PER_PASS: usize = 4096;

/// The type of a runs.csv column in runs.parquet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnType {
    UInt64,
    Float64,
    Utf8,
}

/// One runs.csv column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ColumnType,
}

/// The columns of runs.csv: run_id, point_id, replicate, seed, one per parameter (named by its
/// path), one per recorded metric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub columns: Vec<Column>,
    pub parameters: usize,
}

/// The first four columns of runs.csv.
pub const FIXED: [&str; 4] = ["run_id", "point_id", "replicate", "seed"];

impl Layout {
    pub fn for_sweep(sweep: &Sweep) -> Self {
        let mut columns: Vec<Column> = FIXED.iter().map(|n| Column { name: n.to_string(), kind: ColumnType::UInt64 }).collect();
        columns.extend(
            sweep
                .parameters
                .iter()
                .map(|p| Column { name: p.path.clone(), kind: if p.is_numeric() { ColumnType::Float64 } else { ColumnType::Utf8 } }),
        );
        columns.extend(sweep.metrics.iter().map(|m| Column { name: m.name().to_string(), kind: ColumnType::Float64 }));
        Self { columns, parameters: sweep.parameters.len() }
    }

    /// The metric columns' names.
    pub fn metrics(&self) -> impl Iterator<Item = &str> {
        self.columns[FIXED.len() + self.parameters..].iter().map(|c| c.name.as_str())
    }

    pub fn metric_count(&self) -> usize {
        self.columns.len() - FIXED.len() - self.parameters
    }

    /// The parameter columns' names.
    pub fn parameter_names(&self) -> impl Iterator<Item = &str> {
        self.columns[FIXED.len()..FIXED.len() + self.parameters].iter().map(|c| c.name.as_str())
    }

    /// The header line of runs.csv, with its newline.
    pub fn header(&self) -> Vec<u8> {
        csv_line(self.columns.iter().map(|c| c.name.as_str()))
    }
}

/// One CSV line (quoted where needed), with its newline.
fn csv_line<I: IntoIterator<Item = S>, S: AsRef<[u8]>>(cells: I) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::with_capacity(256));
    w.write_record(cells).expect("writing CSV to memory cannot fail");
    w.into_inner().expect("flushing CSV to memory cannot fail")
}

/// The runs.csv line of one finished run.
pub fn run_line(run: &RunSpec, point: &Point, metrics: &[f64]) -> Vec<u8> {
    let mut cells = Vec::with_capacity(FIXED.len() + point.values.len() + metrics.len());
    cells.push(run.run_id.to_string());
    cells.push(run.point.to_string());
    cells.push(run.replicate.to_string());
    cells.push(run.seed.to_string());
    cells.extend(point.values.iter().map(value_cell));
    cells.extend(metrics.iter().map(|&x| number(x)));
    csv_line(&cells)
}

/// A CSV reader over runs.csv that has read (and returned) the header line.
fn open_runs(path: &Path) -> Result<csv::Reader<BufReader<File>>, String> {
    let f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(csv::ReaderBuilder::new().has_headers(true).from_reader(BufReader::new(f)))
}

fn record_error(path: &Path, e: csv::Error) -> String {
    format!("{}: {e}", path.display())
}

/// Writes `path` through `path.tmp`, renamed into place only when `write` succeeded. I/O errors
/// of the file itself become `E` from their message.
pub fn write_atomically<E: From<String>>(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> Result<(), E>) -> Result<(), E> {
    let tmp = tmp_name(path);
    let result = (|| {
        let mut w = BufWriter::new(File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?);
        write(&mut w)?;
        w.flush().map_err(|e| format!("{}: {e}", tmp.display()))?;
        fs::rename(&tmp, path).map_err(|e| E::from(format!("{}: {e}", path.display())))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn tmp_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!("{name}.tmp"))
}

// ---------------------------------------------------------------------------------------------
// runs.parquet
// ---------------------------------------------------------------------------------------------

enum Buffer {
    U(Vec<u64>),
    F(Vec<f64>),
    S(Vec<String>),
}

/// Converts runs.csv to Parquet (Snappy), batch by batch; returns the number of rows.
pub fn write_parquet(runs_csv: &Path, dest: &Path, layout: &Layout) -> Result<u64, String> {
    let schema = Arc::new(Schema::new(
        layout
            .columns
            .iter()
            .map(|c| {
                let t = match c.kind {
                    ColumnType::UInt64 => DataType::UInt64,
                    ColumnType::Float64 => DataType::Float64,
                    ColumnType::Utf8 => DataType::Utf8,
                };
                Field::new(&c.name, t, false)
            })
            .collect::<Vec<_>>(),
    ));
    // Dictionary encoding only for text columns: ids and metric values are almost all distinct,
    // so their dictionaries would cost memory and gain nothing.
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_size(ROW_GROUP_ROWS)
        .set_dictionary_enabled(false);
    for c in layout.columns.iter().filter(|c| c.kind == ColumnType::Utf8) {
        props = props.set_column_dictionary_enabled(ColumnPath::from(c.name.as_str()), true);
    }
    let props = props.build();
    let tmp = tmp_name(dest);
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| format!("{}: {e}", tmp.display()))?;
        let mut reader = open_runs(runs_csv)?;
        let new_buffers = || -> Vec<Buffer> {
            layout
                .columns
                .iter()
                .map(|c| match c.kind {
                    ColumnType::UInt64 => Buffer::U(Vec::with_capacity(BATCH_ROWS)),
                    ColumnType::Float64 => Buffer::F(Vec::with_capacity(BATCH_ROWS)),
                    ColumnType::Utf8 => Buffer::S(Vec::with_capacity(BATCH_ROWS)),
                })
                .collect()
        };
        let flush = |buffers: Vec<Buffer>, writer: &mut ArrowWriter<File>| -> Result<(), String> {
            let arrays: Vec<ArrayRef> = buffers
                .into_iter()
                .map(|b| -> ArrayRef {
                    match b {
                        Buffer::U(v) => Arc::new(UInt64Array::from(v)),
                        Buffer::F(v) => Arc::new(Float64Array::from(v)),
                        Buffer::S(v) => Arc::new(StringArray::from(v)),
                    }
                })
                .collect();
            let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| e.to_string())?;
            writer.write(&batch).map_err(|e| format!("{}: {e}", tmp.display()))
        };
        let mut buffers = new_buffers();
        let (mut rows, mut in_batch) = (0u64, 0usize);
        let mut record = csv::StringRecord::new();
        while reader.read_record(&mut record).map_err(|e| record_error(runs_csv, e))? {
            if record.len() != layout.columns.len() {
                return Err(format!(
                    "{}: row {} has {} cells for {} columns",
                    runs_csv.display(),
                    rows + 1,
                    record.len(),
                    layout.columns.len()
                ));
            }
            for ((buffer, text), column) in buffers.iter_mut().zip(record.iter()).zip(&layout.columns) {
                let bad = || format!("{}: row {}: column `{}`: `{text}` is not a number", runs_csv.display(), rows + 1, column.name);
                match buffer {
                    Buffer::U(v) => v.push(text.parse().map_err(|_| bad())?),
                    Buffer::F(v) => v.push(text.parse().map_err(|_| bad())?),
                    Buffer::S(v) => v.push(text.to_string()),
                }
            }
            rows += 1;
            in_batch += 1;
            if in_batch == BATCH_ROWS {
                flush(std::mem::replace(&mut buffers, new_buffers()), &mut writer)?;
                in_batch = 0;
            }
        }
        if in_batch > 0 {
            flush(buffers, &mut writer)?;
        }
        writer.close().map_err(|e| format!("{}: {e}", tmp.display()))?;
        fs::rename(&tmp, dest).map_err(|e| format!("{}: {e}", dest.display()))?;
        Ok(rows)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

// ---------------------------------------------------------------------------------------------
// Per point
// ---------------------------------------------------------------------------------------------

/// The runs of one point: its parameter cells as written, and per metric its values in run order.
pub struct PointRuns {
    pub point_id: u64,
    pub cells: Vec<String>,
    pub values: Vec<Vec<f64>>,
}

/// Calls `f` for every point that has rows in runs.csv, in point order, with all its runs.
/// `sorted` says the rows are grouped by point (true unless adaptive replication added rounds);
/// otherwise the file is read once per [`POINTS_PER_PASS`] points of the `points` in the design.
pub fn for_each_point(
    runs_csv: &Path,
    layout: &Layout,
    points: usize,
    sorted: bool,
    mut f: impl FnMut(&PointRuns) -> Result<(), String>,
) -> Result<(), String> {
    let k = layout.parameters;
    let m = layout.metric_count();
    // A row's point id and metric values, after checking it has every column.
    let parse = |record: &csv::StringRecord, row: u64| -> Result<(u64, Vec<f64>), String> {
        if record.len() != layout.columns.len() {
            return Err(format!("{}: row {row} has {} cells for {} columns", runs_csv.display(), record.len(), layout.columns.len()));
        }
        let bad = |col: usize| format!("{}: row {row}: column {}: `{}` is not a number", runs_csv.display(), col + 1, &record[col]);
        let point: u64 = record[1].parse().map_err(|_| bad(1))?;
        let values =
            (0..m).map(|j| record[FIXED.len() + k + j].parse::<f64>().map_err(|_| bad(FIXED.len() + k + j))).collect::<Result<_, _>>()?;
        Ok((point, values))
    };
    let new_point = |point_id: u64, record: &csv::StringRecord| PointRuns {
        point_id,
        cells: record.iter().skip(FIXED.len()).take(k).map(str::to_string).collect(),
        values: vec![Vec::new(); m],
    };
    let mut record = csv::StringRecord::new();
    if sorted {
        let mut reader = open_runs(runs_csv)?;
        let mut current: Option<PointRuns> = None;
        let mut row = 0u64;
        while reader.read_record(&mut record).map_err(|e| record_error(runs_csv, e))? {
            row += 1;
            let (point, values) = parse(&record, row)?;
            match &mut current {
                Some(c) if c.point_id == point => {}
                Some(c) if c.point_id > point => return Err(format!("{}: row {row}: rows are not in point order", runs_csv.display())),
                _ => {
                    if let Some(done) = current.take() {
                        f(&done)?;
                    }
                    current = Some(new_point(point, &record));
                }
            }
            let c = current.as_mut().expect("set above");
            for (column, v) in c.values.iter_mut().zip(values) {
                column.push(v);
            }
        }
        if let Some(done) = current {
            f(&done)?;
        }
        return Ok(());
    }
    for start in (0..points.max(1)).step_by(POINTS_PER_PASS) {
        let range = start as u64..(start + POINTS_PER_PASS) as u64;
        let mut block: BTreeMap<u64, PointRuns> = BTreeMap::new();
        let mut reader = open_runs(runs_csv)?;
        let mut row = 0u64;
        while reader.read_record(&mut record).map_err(|e| record_error(runs_csv, e))? {
            row += 1;
            let (point, values) = parse(&record, row)?;
            if !range.contains(&point) {
                continue;
            }
            let c = block.entry(point).or_insert_with(|| new_point(point, &record));
            for (column, v) in c.values.iter_mut().zip(values) {
                column.push(v);
            }
        }
        for c in block.values() {
            f(c)?;
        }
    }
    Ok(())
}

/// Mean and 95% CI of the finite values, and their count (undefined values, NaN, are left out).
pub fn summarise(values: &[f64]) -> (f64, f64, f64, usize) {
    let finite: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let (mean, lo, hi) = mean_ci95(&finite);
    (mean, lo, hi, finite.len())
}

/// Writes points.csv: point_id, the parameters, metric, mean, ci_low, ci_high, n; one row per
/// point and metric, points ascending, metrics in column order.
pub fn write_points(runs_csv: &Path, dest: &Path, layout: &Layout, points: usize, sorted: bool) -> Result<(), String> {
    let metrics: Vec<&str> = layout.metrics().collect();
    write_atomically(dest, |w| {
        let mut header = vec!["point_id"];
        header.extend(layout.parameter_names());
        header.extend(["metric", "mean", "ci_low", "ci_high", "n"]);
        let io = |e: io::Error| format!("{}: {e}", dest.display());
        w.write_all(&csv_line(&header)).map_err(io)?;
        for_each_point(runs_csv, layout, points, sorted, |p| {
            for (metric, values) in metrics.iter().zip(&p.values) {
                let (mean, lo, hi, n) = summarise(values);
                let mut cells = vec![p.point_id.to_string()];
                cells.extend(p.cells.iter().cloned());
                cells.extend([metric.to_string(), number(mean), number(lo), number(hi), n.to_string()]);
                w.write_all(&csv_line(&cells)).map_err(io)?;
            }
            Ok(())
        })
    })
}

// ---------------------------------------------------------------------------------------------
// Merging shards
// ---------------------------------------------------------------------------------------------

/// Why shards could not be merged.
pub enum MergeProblem {
    /// The inputs do not make up one sweep (a run missing or present twice): bad input.
    Inputs(String),
    /// Reading or writing failed.
    Io(String),
}

/// Merges runs.csv files (each in run_id order, with the same header) into `dest`, in run_id
/// order, byte for byte; every run_id in `0..runs_total` must appear exactly once. `label` names
/// each input in messages; `owner(run_id)` says which shard should hold a missing run.
pub fn merge_runs(
    inputs: &[(String, PathBuf)],
    dest: &Path,
    header: &[u8],
    runs_total: u64,
    owner: impl Fn(u64) -> String,
) -> Result<(), MergeProblem> {
    let mut readers = Vec::with_capacity(inputs.len());
    for (label, path) in inputs {
        let f = File::open(path).map_err(|e| MergeProblem::Inputs(format!("{label}: {}: {e}", path.display())))?;
        let mut r = BufReader::new(f);
        let mut first = Vec::new();
        r.read_until(b'\n', &mut first).map_err(|e| MergeProblem::Io(format!("{}: {e}", path.display())))?;
        if first != header {
            return Err(MergeProblem::Inputs(format!("{label}: runs.csv has another header than the first folder's")));
        }
        readers.push(r);
    }
    // Next line of each input, keyed by run_id.
    let next = |i: usize, r: &mut BufReader<File>| -> Result<Option<(u64, Vec<u8>)>, MergeProblem> {
        let mut line = Vec::new();
        let n = r.read_until(b'\n', &mut line).map_err(|e| MergeProblem::Io(format!("{}: {e}", inputs[i].1.display())))?;
        if n == 0 {
            return Ok(None);
        }
        if line.last() != Some(&b'\n') {
            return Err(MergeProblem::Inputs(format!("{}: runs.csv ends in a partial line (an unfinished sweep?)", inputs[i].0)));
        }
        let id = line.split(|&b| b == b',').next().and_then(|s| std::str::from_utf8(s).ok()).and_then(|s| s.parse::<u64>().ok());
        let id = id.ok_or_else(|| MergeProblem::Inputs(format!("{}: a runs.csv row does not start with a run_id", inputs[i].0)))?;
        Ok(Some((id, line)))
    };
    let mut heap = BinaryHeap::new();
    let mut lines: Vec<Option<Vec<u8>>> = vec![None; readers.len()];
    for (i, r) in readers.iter_mut().enumerate() {
        if let Some((id, line)) = next(i, r)? {
            heap.push(Reverse((id, i)));
            lines[i] = Some(line);
        }
    }
    write_atomically(dest, |w| {
        let io = |e: io::Error| MergeProblem::Io(format!("{}: {e}", dest.display()));
        let missing = |id: u64| MergeProblem::Inputs(format!("run {id} is missing ({}); merge every shard of the sweep", owner(id)));
        w.write_all(header).map_err(io)?;
        let mut expected = 0u64;
        let mut last_from: Option<usize> = None;
        while let Some(Reverse((id, i))) = heap.pop() {
            let line = lines[i].take().expect("a queued input has a line");
            if id < expected {
                let other = last_from.map(|j| inputs[j].0.as_str()).unwrap_or("?");
                return Err(MergeProblem::Inputs(format!("run {id} appears twice (in {} and {other})", inputs[i].0)));
            }
            if id > expected {
                return Err(missing(expected));
            }
            w.write_all(&line).map_err(io)?;
            expected += 1;
            last_from = Some(i);
            if let Some((nid, nline)) = next(i, &mut readers[i])? {
                if nid <= id {
                    return Err(MergeProblem::Inputs(format!("{}: runs.csv is not in run_id order (run {nid} after {id})", inputs[i].0)));
                }
                heap.push(Reverse((nid, i)));
                lines[i] = Some(nline);
            }
        }
        if expected < runs_total {
            return Err(missing(expected));
        }
        if expected > runs_total {
            return Err(MergeProblem::Inputs(format!("the folders hold {expected} runs but the sweep has {runs_total}")));
        }
        Ok(())
    })
}

impl From<String> for MergeProblem {
    fn from(message: String) -> Self {
        MergeProblem::Io(message)
    }
}
