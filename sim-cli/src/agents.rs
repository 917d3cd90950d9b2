//! agents.csv and agents.parquet (`sim run --snapshot-days`): every citizen and every worker in
//! post at each snapshot day, one row per agent and day, as Mesa's and NetLogo's agent-level data
//! collection gives them. A column that does not apply to the row's kind of agent is empty in the
//! CSV and null in the Parquet file (NaN in pandas).

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt32Array};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use sim_core::simulation::AgentSnapshot;

use crate::output::number;

/// Column, type, and what it holds (README "Agent snapshots" lists the same).
pub const COLUMNS: &[(&str, DataType, &str)] = &[
    ("day", DataType::UInt32, "the state after this many days (snapshot day)"),
    ("agent_type", DataType::Utf8, "citizen or worker"),
    ("agent_id", DataType::UInt32, "citizen id, or the worker's slot"),
    ("neighbourhood", DataType::UInt32, "citizens: neighbourhood"),
    ("wellbeing", DataType::Float64, "citizens: wellbeing, 0..1"),
    ("trust", DataType::Float64, "citizens: trust in the service, 0..1"),
    ("latent", DataType::Float64, "citizens: latent underlying problem, 0..1"),
    ("open_needs", DataType::UInt32, "citizens: needs not yet resolved (hidden, due to return, or open cases)"),
    ("team", DataType::UInt32, "workers: team"),
    ("skill", DataType::Float64, "workers: skill, 0..1"),
    ("fatigue", DataType::Float64, "workers: fatigue, 0..1"),
    ("burnout", DataType::Float64, "workers: burnout, 0..1"),
];

/// One snapshot's rows as columns: citizens first, then workers.
fn arrays(s: &AgentSnapshot) -> Vec<ArrayRef> {
    let (c, w) = (&s.citizens, &s.workers);
    let (nc, nw) = (c.neighbourhood.len(), w.worker.len());
    let citizens_u = |v: &[u32]| -> ArrayRef { Arc::new(UInt32Array::from_iter(v.iter().map(|&x| Some(x)).chain((0..nw).map(|_| None)))) };
    let citizens_f = |v: &[f64]| -> ArrayRef { Arc::new(Float64Array::from_iter(v.iter().map(|&x| Some(x)).chain((0..nw).map(|_| None)))) };
    let workers_u = |v: &[u32]| -> ArrayRef { Arc::new(UInt32Array::from_iter((0..nc).map(|_| None).chain(v.iter().map(|&x| Some(x))))) };
    let workers_f = |v: &[f64]| -> ArrayRef { Arc::new(Float64Array::from_iter((0..nc).map(|_| None).chain(v.iter().map(|&x| Some(x))))) };
    vec![
        Arc::new(UInt32Array::from(vec![s.day; nc + nw])),
        Arc::new(StringArray::from_iter_values(std::iter::repeat_n("citizen", nc).chain(std::iter::repeat_n("worker", nw)))),
        Arc::new(UInt32Array::from_iter_values((0..nc as u32).chain(w.worker.iter().copied()))),
        citizens_u(&c.neighbourhood),
        citizens_f(&c.wellbeing),
        citizens_f(&c.trust),
        citizens_f(&c.latent),
        citizens_u(&c.open_needs),
        workers_u(&w.team),
        workers_f(&w.skill),
        workers_f(&w.fatigue),
        workers_f(&w.burnout),
    ]
}

/// Writes agents.parquet (Snappy, one row group per snapshot) into `dir`.
pub fn write_parquet(dir: &Path, snapshots: &[AgentSnapshot]) -> io::Result<()> {
    let schema =
        Arc::new(Schema::new(COLUMNS.iter().enumerate().map(|(i, (name, t, _))| Field::new(*name, t.clone(), i >= 3)).collect::<Vec<_>>()));
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(false)
        .set_column_dictionary_enabled(ColumnPath::from("agent_type"), true)
        .build();
    let file = File::create(dir.join("agents.parquet"))?;
    let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(io::Error::other)?;
    for s in snapshots {
        let batch = RecordBatch::try_new(schema.clone(), arrays(s)).map_err(io::Error::other)?;
        writer.write(&batch).map_err(io::Error::other)?;
        writer.flush().map_err(io::Error::other)?;
    }
    writer.close().map_err(io::Error::other)?;
    Ok(())
}

/// Writes agents.csv into `dir`: the same rows and columns as agents.parquet.
pub fn write_csv(dir: &Path, snapshots: &[AgentSnapshot]) -> io::Result<()> {
    let mut out = csv::Writer::from_path(dir.join("agents.csv"))?;
    out.write_record(COLUMNS.iter().map(|(name, _, _)| *name))?;
    for s in snapshots {
        let (c, w) = (&s.citizens, &s.workers);
        let day = s.day.to_string();
        for i in 0..c.neighbourhood.len() {
            out.write_record([
                day.as_str(),
                "citizen",
                &i.to_string(),
                &c.neighbourhood[i].to_string(),
                &number(c.wellbeing[i]),
                &number(c.trust[i]),
                &number(c.latent[i]),
                &c.open_needs[i].to_string(),
                "",
                "",
                "",
                "",
            ])?;
        }
        for j in 0..w.worker.len() {
            out.write_record([
                day.as_str(),
                "worker",
                &w.worker[j].to_string(),
                "",
                "",
                "",
                "",
                "",
                &w.team[j].to_string(),
                &number(w.skill[j]),
                &number(w.fatigue[j]),
                &number(w.burnout[j]),
            ])?;
        }
    }
    out.flush()
}
