//! `sim run --snapshot-days`: agents.parquet and agents.csv hold every citizen and every worker in
//! post at each snapshot day with the columns README documents, read back in Parquet; snapshots
//! leave the run's own outputs unchanged; a day after the run is refused.

use std::path::Path;

use crate::{FAST, assert_same_file, scenario, sim, temp};

/// The documented columns, in order, with their Arrow types.
const COLUMNS: &[(&str, &str)] = &[
    ("day", "UInt32"),
    ("agent_type", "Utf8"),
    ("agent_id", "UInt32"),
    ("neighbourhood", "UInt32"),
    ("wellbeing", "Float64"),
    ("trust", "Float64"),
    ("latent", "Float64"),
    ("open_needs", "UInt32"),
    ("team", "UInt32"),
    ("skill", "Float64"),
    ("fatigue", "Float64"),
    ("burnout", "Float64"),
];

/// Every row as (day, agent_type, agent_id, nulls per column, the row's numbers as text).
/// Column names with their types, and the rows as optional text cells.
type Table = (Vec<(String, String)>, Vec<Vec<Option<String>>>);

fn parquet_rows(path: &Path) -> Table {
    use arrow_array::{Array, Float64Array, StringArray, UInt32Array};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("a Parquet file");
    let schema: Vec<(String, String)> =
        builder.schema().fields().iter().map(|f| (f.name().clone(), format!("{:?}", f.data_type()))).collect();
    let mut rows = Vec::new();
    for batch in builder.build().expect("a reader") {
        let batch = batch.expect("a record batch");
        for i in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|c| {
                        if c.is_null(i) {
                            None
                        } else if let Some(a) = c.as_any().downcast_ref::<UInt32Array>() {
                            Some(a.value(i).to_string())
                        } else if let Some(a) = c.as_any().downcast_ref::<Float64Array>() {
                            Some(format!("{}", a.value(i)))
                        } else if let Some(a) = c.as_any().downcast_ref::<StringArray>() {
                            Some(a.value(i).to_string())
                        } else {
                            panic!("unexpected column type {:?}", c.data_type())
                        }
                    })
                    .collect(),
            );
        }
    }
    (schema, rows)
}

#[test]
fn snapshots_read_back_with_the_documented_columns() {
    let tmp = temp();
    let d = tmp.path();
    let file = scenario("enablement.toml");
    let file = file.to_str().expect("a UTF-8 path");
    let mut args = vec!["run", file, "--out", "snap", "--snapshot-days", "200,0"];
    args.extend(FAST);
    sim(d, &args).assert_success().assert_stdout_has(&["agents.parquet", "agents.csv"]);
    let mut plain = vec!["run", file, "--out", "plain"];
    plain.extend(FAST);
    sim(d, &plain).assert_success();
    for f in ["timeseries.csv", "summary.json", "networks.json"] {
        assert_same_file(&d.join("snap").join(f), &d.join("plain").join(f), "with and without snapshots");
    }
    assert!(!d.join("plain/agents.parquet").exists(), "no snapshots unless asked for");

    let (schema, rows) = parquet_rows(&d.join("snap/agents.parquet"));
    let expected: Vec<(String, String)> = COLUMNS.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
    assert_eq!(schema, expected);
    let citizens = 5000;
    let col = |name: &str| COLUMNS.iter().position(|(n, _)| *n == name).expect("a documented column");
    for day in ["0", "200"] {
        let of_day: Vec<_> = rows.iter().filter(|r| r[0].as_deref() == Some(day)).collect();
        let people: Vec<_> = of_day.iter().filter(|r| r[1].as_deref() == Some("citizen")).collect();
        let staff: Vec<_> = of_day.iter().filter(|r| r[1].as_deref() == Some("worker")).collect();
        assert_eq!(people.len(), citizens, "day {day}: one row per citizen");
        assert!(!staff.is_empty() && people.len() + staff.len() == of_day.len(), "day {day}: citizens and workers only");
        let ids: Vec<String> = (0..citizens).map(|i| i.to_string()).collect();
        assert!(people.iter().zip(&ids).all(|(r, id)| r[col("agent_id")].as_deref() == Some(id)), "citizens in id order");
        for r in &people {
            assert!(r[col("team")].is_none() && r[col("skill")].is_none(), "citizens have no worker columns: {r:?}");
            let w: f64 = r[col("wellbeing")].as_deref().expect("wellbeing").parse().expect("a number");
            assert!((0.0..=1.0).contains(&w));
        }
        for r in &staff {
            assert!(r[col("neighbourhood")].is_none() && r[col("trust")].is_none(), "workers have no citizen columns: {r:?}");
            assert!(r[col("burnout")].is_some() && r[col("team")].is_some());
        }
    }
    let open_at = |day: &str| -> u64 {
        rows.iter()
            .filter(|r| r[0].as_deref() == Some(day))
            .filter_map(|r| r[col("open_needs")].as_deref())
            .map(|x| x.parse::<u64>().expect("a count"))
            .sum()
    };
    assert_eq!(open_at("0"), 0, "no needs before the first day");
    assert!(open_at("200") > 0, "needs after 200 days");

    // agents.csv: the same cells.
    let text = std::fs::read_to_string(d.join("snap/agents.csv")).expect("agents.csv");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(COLUMNS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(",").as_str()));
    let csv_rows: Vec<Vec<Option<String>>> =
        lines.map(|l| l.split(',').map(|c| (!c.is_empty()).then(|| c.to_string())).collect()).collect();
    assert_eq!(csv_rows, rows, "agents.csv and agents.parquet hold the same rows");

    // README documents every column.
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README");
    for (name, _) in COLUMNS {
        assert!(readme.contains(&format!("`{name}`")), "README does not document the agents column `{name}`");
    }
}

#[test]
fn a_snapshot_after_the_run_is_refused() {
    let tmp = temp();
    let mut args = vec!["run", "--out", "o", "--snapshot-days", "365,401"];
    args.extend(FAST);
    sim(tmp.path(), &args).assert_code(2).assert_stderr_has(&["--snapshot-days 401", "0 (the start) to 400"]);
    assert!(!tmp.path().join("o").exists(), "nothing written");
    sim(tmp.path(), &["run", "--snapshot-days", "ten", "--out", "o"]).assert_code(2);
}
