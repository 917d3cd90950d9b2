//! Calibration files: target statistics over windows, and located errors.

use std::path::Path;

use super::*;

fn base() -> String {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/top-down.toml")).display().to_string()
}

fn file(body: &str) -> String {
    format!(
        "base = '{}'\ndays = 60\nset = ['population.citizens=300', 'run.warmup_days=10']\n\
         [[parameters]]\npath = 'demand.demand_multiplier'\nmin = 0.5\nmax = 2.0\n{body}",
        base()
    )
}

const TARGET: &str = "[[targets]]\nmetric = 'demand_new'\nobserved = 3.0\nsd = 0.5\n";

#[test]
fn window_statistics_follow_the_run_summary() {
    let c = Calibration::from_toml_str(&file(TARGET), Path::new("c.toml")).unwrap();
    let scenario = c.scenario_for(&[1.0]).unwrap();
    let out = crate::simulation::run(&scenario, 5);
    // Over the run's own window, `mean` equals the run summary, ratio metrics included.
    let (from, to) = (scenario.run.warmup_days, scenario.run.days);
    for m in [Metric::DemandNew, Metric::FailureDemandShare, Metric::Backlog] {
        let w = window_value(&out.series, m, Statistic::Mean, from, to);
        let s = out.summary.get(m.name()).unwrap();
        assert!((w - s).abs() < 1e-12 || (w.is_nan() && s.is_nan()), "{}: {w} vs {s}", m.name());
    }
    // sum = mean x days for a count; final = the last day's value.
    let col = out.series.get(Metric::DemandNew);
    let sum = window_value(&out.series, Metric::DemandNew, Statistic::Sum, 20, 50);
    assert!((sum - col[20..50].iter().sum::<f64>()).abs() < 1e-9);
    assert_eq!(window_value(&out.series, Metric::Backlog, Statistic::Final, 20, 50), out.series.get(Metric::Backlog)[49]);
    // The default window is the run's own after the warm-up.
    assert_eq!((c.targets[0].from_day, c.targets[0].to_day), (10, 60));
}

#[test]
fn distance_is_the_sum_of_squared_standardised_differences() {
    let body = format!(
        "{TARGET}[[targets]]\nmetric = 'backlog'\nobserved = 10\nsd = 2\n[[held_out]]\nmetric = 'wait_mean_days'\nobserved = 1\nsd = 1\n"
    );
    let c = Calibration::from_toml_str(&file(&body), Path::new("c.toml")).unwrap();
    // ((4 - 3) / 0.5)^2 + ((6 - 10) / 2)^2 = 4 + 4; the held-out target is not in it.
    assert_eq!(c.distance_of(&[4.0, 6.0, 100.0]), 8.0);
    assert_eq!(c.distance_of(&[f64::NAN, 6.0, 1.0]), f64::INFINITY);
}

fn error(body: &str) -> (String, Option<usize>) {
    let text = file(body);
    match Calibration::from_toml_str(&text, Path::new("c.toml")) {
        Err(CalibrationError::Field { field, at, .. }) => (field, at.map(|a| a.line)),
        Err(e) => (e.to_string(), None),
        Ok(_) => panic!("accepted:\n{text}"),
    }
}

#[test]
fn errors_name_the_field_and_its_line() {
    let lines = |b: &str| file(b).lines().count();
    let (f, line) = error(&format!("{TARGET}[[held_out]]\nmetric = 'demand_new'\nobserved = 3.5\nsd = 1\n"));
    assert_eq!(f, "held_out[0]");
    assert_eq!(line, Some(lines(TARGET) + 1));
    let (f, line) = error(&TARGET.replace("sd = 0.5", "sd = -0.5"));
    assert_eq!((f.as_str(), line), ("targets[0].sd", Some(lines(TARGET))));
    assert_eq!(error(&format!("{TARGET}[method]\nkind = 'rejection'\n")).0, "method.samples");
    assert_eq!(error(&format!("{TARGET}[method]\nkind = 'rejection'\nsamples = 100\nalpha = 0.3\n")).0, "method.alpha");
    assert_eq!(error(&TARGET.replace("metric = 'demand_new'", "metric = 'hours_per_client'")).0, "targets[0].statistic");
    assert_eq!(error("").0, "targets");
    let text = file(TARGET).replace("min = 0.5", "prior = 'normal'\nmean = 100.0\nsd = 0.1\nmin = 0.5");
    assert!(
        matches!(Calibration::from_toml_str(&text, Path::new("c.toml")), Err(CalibrationError::Field { field, .. }) if field == "parameters[0].prior")
    );
}

/// A calibration file in a fresh folder beside an observed series `csv` (as monthly.csv).
fn with_series(name: &str, csv: &str, column: &str) -> Result<Calibration, CalibrationError> {
    let dir = std::env::temp_dir().join(format!("sim-calibrate-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("monthly.csv"), csv).unwrap();
    let body = format!(
        "[series]\nfile = 'monthly.csv'\nperiod_days = 10\n[[series.columns]]\ncolumn = '{column}'\nmetric = 'demand_new'\ncv = 0.1\n"
    );
    let c = Calibration::from_toml_str(&file(&body), &dir.join("c.toml"));
    std::fs::remove_dir_all(&dir).unwrap();
    c
}

#[test]
fn a_series_csv_is_read_as_csv_with_quoted_cells_comments_and_blank_lines() {
    // A spreadsheet's export: a quoted header holding a comma, quoted numbers, a provenance
    // comment and a blank line; each row's target names the line it came from.
    let csv = "# source: monthly returns\nmonth,\"needs, new\"\n1,\"540\"\n\n2, 560 \n\"3\",530\n";
    let c = with_series("quoted", csv, "needs, new").unwrap();
    let rows: Vec<(f64, u32, &str)> = c.targets.iter().map(|t| (t.observed, t.from_day, t.source.as_str())).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows.iter().map(|r| (r.0, r.1)).collect::<Vec<_>>(), [(540.0, 10), (560.0, 20), (530.0, 30)]);
    for (row, line) in rows.iter().zip([3, 5, 6]) {
        assert!(row.2.ends_with(&format!("monthly.csv line {line}")), "{}", row.2);
    }
    assert!((c.targets[1].sd - 56.0).abs() < 1e-9, "cv x observed");
    // A cell that is not a number is located at its line, past comments and blank lines.
    match with_series("bad-cell", "month,new\n1,540\n2,lots\n", "new") {
        Err(CalibrationError::Series { line, column, message, .. }) => {
            assert_eq!((line, column.as_str()), (3, "new"));
            assert!(message.contains("`lots`"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // A thousands separator in a quoted cell is one cell refused, not a split that shifts columns.
    match with_series("thousands", "month,new,other\n1,\"1,540\",7\n", "other") {
        Ok(c) => assert_eq!(c.targets[0].observed, 7.0),
        Err(e) => panic!("{e}"),
    }
    assert!(matches!(with_series("thousands-cell", "month,new\n1,\"1,540\"\n", "new"), Err(CalibrationError::Series { line: 2, .. })));
    let csv = "# a\n# b\nmonth,new\n\n1,540\r\n\r\n# c\n2,lots\n";
    assert!(matches!(with_series("bad-late", csv, "new"), Err(CalibrationError::Series { line: 8, .. })));
    // A column the file does not have is named with the columns it has.
    match with_series("no-column", "month,new\n1,540\n", "old") {
        Err(CalibrationError::Field { field, message, .. }) => {
            assert_eq!(field, "series.columns[0].column");
            assert!(message.contains("its columns are: month, new"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}
