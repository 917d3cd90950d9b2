//! `sim describe`: every lever, parameter and metric the code defines is printed (compared with
//! sim-core's own lists, not a copy), CSV parses, a bad scenario exits 2 naming file and line,
//! and docs/model.md's generated tables match what the commands print now.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sim_core::metrics::Metric;
use sim_core::scenario::{Governance, NeedType, ParamSpec, Scenario};

use crate::{Outcome, sim, temp};

const FORMATS: &[&str] = &["text", "markdown", "csv"];

fn describe(args: &[&str]) -> Outcome {
    let tmp = temp();
    let mut all = vec!["describe"];
    all.extend(args);
    let o = sim(tmp.path(), &all);
    o.assert_success();
    o
}

/// CSV output as header and rows, failing the test if it does not parse or a row is ragged.
fn parse_csv(o: &Outcome) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(o.stdout.as_bytes());
    let header = r.headers().unwrap_or_else(|e| panic!("CSV header: {e}\n{o}")).iter().map(str::to_string).collect::<Vec<_>>();
    let rows: Vec<Vec<String>> =
        r.records().map(|rec| rec.unwrap_or_else(|e| panic!("CSV row: {e}\n{o}")).iter().map(str::to_string).collect()).collect();
    (header, rows)
}

fn column(header: &[String], rows: &[Vec<String>], name: &str) -> Vec<String> {
    let i = header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column `{name}` in {header:?}"));
    rows.iter().map(|r| r[i].clone()).collect()
}

fn param_path(p: &ParamSpec) -> String {
    if p.section == NeedType::KEY { format!("{}[].{}", p.section, p.name) } else { format!("{}.{}", p.section, p.name) }
}

#[test]
fn levers_prints_every_governance_lever_with_both_presets() {
    let top = Governance::specs_with(&Governance::top_down());
    let en = Governance::specs_with(&Governance::enablement());
    for format in FORMATS {
        let o = describe(&["levers", "--format", format]);
        for p in &top {
            o.assert_stdout_has(&[p.name]);
        }
    }
    let o = describe(&["levers", "--format", "csv"]);
    let (header, rows) = parse_csv(&o);
    let names: Vec<&str> = top.iter().map(|p| p.name).collect();
    assert_eq!(column(&header, &rows, "lever"), names, "one row per lever, in the code's order\n{o}");
    assert_eq!(column(&header, &rows, "top_down"), top.iter().map(|p| p.default.clone()).collect::<Vec<_>>(), "top-down column\n{o}");
    assert_eq!(column(&header, &rows, "enablement"), en.iter().map(|p| p.default.clone()).collect::<Vec<_>>(), "enablement column\n{o}");
}

#[test]
fn metrics_prints_every_metric_with_unit_and_doc() {
    for format in FORMATS {
        let o = describe(&["metrics", "--format", format]);
        for m in Metric::ALL {
            o.assert_stdout_has(&[m.name()]);
        }
    }
    let o = describe(&["metrics", "--format", "csv"]);
    let (header, rows) = parse_csv(&o);
    assert_eq!(header, ["metric", "label", "unit", "better", "bounds", "summary", "undefined_when", "doc"], "{o}");
    assert_eq!(column(&header, &rows, "label"), Metric::ALL.iter().map(|m| m.label().to_string()).collect::<Vec<_>>(), "{o}");
    assert_eq!(column(&header, &rows, "better"), Metric::ALL.iter().map(|m| m.direction().word().to_string()).collect::<Vec<_>>(), "{o}");
    let fd = rows.iter().position(|r| r[0] == "failure_demand_share").unwrap();
    assert_eq!((rows[fd][3].as_str(), rows[fd][4].as_str()), ("lower", "0 to 1"), "{o}");
    assert_eq!(column(&header, &rows, "metric"), Metric::ALL.iter().map(|m| m.name().to_string()).collect::<Vec<_>>(), "{o}");
    assert_eq!(column(&header, &rows, "unit"), Metric::ALL.iter().map(|m| m.unit().to_string()).collect::<Vec<_>>(), "{o}");
    assert_eq!(column(&header, &rows, "doc"), Metric::ALL.iter().map(|m| m.doc().to_string()).collect::<Vec<_>>(), "{o}");
    assert!(column(&header, &rows, "summary").iter().all(|s| !s.is_empty()), "every metric says how it is summarised\n{o}");
}

#[test]
fn parameters_prints_every_parameter_with_default_unit_range_and_source() {
    let specs = Scenario::parameter_specs();
    for format in FORMATS {
        let o = describe(&["parameters", "--format", format]);
        for p in &specs {
            o.assert_stdout_has(&[&param_path(p)]);
        }
    }
    let o = describe(&["parameters", "--format", "csv"]);
    let (header, rows) = parse_csv(&o);
    assert_eq!(header, ["parameter", "default", "unit", "range", "source", "doc"], "{o}");
    assert_eq!(column(&header, &rows, "parameter"), specs.iter().map(param_path).collect::<Vec<_>>(), "{o}");
    assert_eq!(column(&header, &rows, "default"), specs.iter().map(|p| p.default.clone()).collect::<Vec<_>>(), "{o}");
    assert_eq!(column(&header, &rows, "source"), specs.iter().map(|p| p.source.to_string()).collect::<Vec<_>>(), "{o}");
    for (p, range) in specs.iter().zip(column(&header, &rows, "range")) {
        assert!(!range.is_empty(), "{}: no range\n{o}", param_path(p));
    }
}

const SCENARIO: &str = "\
# Question: does a made-up service work?
# Look at: nothing in particular.
name = \"probe\"
description = \"A scenario for the describe test\"

[governance]
preset = \"enablement\"
target_pressure = 0.35

[run]
days = 400

[[events]]
kind = \"funding_cut\"
day = 300
share = 0.2
";

#[test]
fn scenario_prints_header_resolved_parameters_marks_and_events() {
    let tmp = temp();
    std::fs::write(tmp.path().join("probe.toml"), SCENARIO).unwrap();
    let o = sim(tmp.path(), &["describe", "scenario", "probe.toml"]);
    o.assert_success().assert_stdout_has(&[
        "Question: does a made-up service work?",
        "Look at: nothing in particular.",
        "funding_cut",
        "day 300",
    ]);
    let line = |p: &str| o.stdout.lines().find(|l| l.split_whitespace().next() == Some(p)).unwrap_or_else(|| panic!("no `{p}` line\n{o}"));
    assert!(line("run.days").trim_end().ends_with('*'), "run.days differs from the default\n{o}");
    assert!(line("governance.target_pressure").trim_end().ends_with('*'), "set in the file\n{o}");
    assert!(line("governance.discretion").ends_with("* preset"), "the preset's value\n{o}");
    assert!(!line("run.warmup_days").contains('*'), "a default is not marked\n{o}");

    let o = sim(tmp.path(), &["describe", "scenario", "probe.toml", "--format", "csv"]);
    o.assert_success();
    let (header, rows) = parse_csv(&o);
    let params = column(&header, &rows, "parameter");
    let differs = column(&header, &rows, "differs");
    let of = |p: &str| differs[params.iter().position(|x| x == p).unwrap_or_else(|| panic!("no row {p}\n{o}"))].clone();
    // Every parameter outside the need types, once; every field of each (built-in) need type.
    let listed: BTreeSet<&str> = params.iter().map(String::as_str).collect();
    for p in Scenario::parameter_specs() {
        let want = if p.section == NeedType::KEY { format!("need_types[0].{}", p.name) } else { param_path(&p) };
        assert!(listed.contains(want.as_str()), "no row for {want}\n{o}");
    }
    assert_eq!(of("run.days"), "set");
    assert_eq!(of("governance.target_pressure"), "set");
    assert_eq!(of("governance.discretion"), "preset");
    assert_eq!(of("run.warmup_days"), "");
    assert_eq!(of("events[0].share"), "set");
    let values = column(&header, &rows, "value");
    assert_eq!(values[params.iter().position(|x| x == "governance.target_pressure").unwrap()], "0.35", "{o}");
}

#[test]
fn scenario_with_a_bad_file_exits_2_naming_file_line_and_field() {
    let tmp = temp();
    std::fs::write(tmp.path().join("bad.toml"), "name = \"bad\"\n[governance]\ncontinuity = 1.5\n").unwrap();
    for format in FORMATS {
        let o = sim(tmp.path(), &["describe", "scenario", "bad.toml", "--format", format]);
        o.assert_code(2).assert_stderr_has(&["bad.toml:3:", "governance.continuity"]);
        assert!(o.stdout.is_empty(), "nothing printed for a bad file\n{o}");
    }
    sim(tmp.path(), &["describe", "scenario", "missing.toml"]).assert_code(2).assert_stderr_has(&["missing.toml"]);
    sim(tmp.path(), &["describe"]).assert_code(2).assert_stderr_has(&["levers"]);
}

#[test]
fn describe_help_shows_examples() {
    let tmp = temp();
    sim(tmp.path(), &["describe", "--help"]).assert_success().assert_stdout_has(&["Examples", "sim describe scenario"]);
}

fn model_doc() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/model.md")).to_path_buf()
}

/// The generated sections of docs/model.md and the commands that print them.
const GENERATED: &[(&str, &[&str])] = &[
    ("levers", &["levers", "--format", "markdown"]),
    ("parameters", &["parameters", "--format", "markdown"]),
    ("metrics", &["metrics", "--format", "markdown"]),
];

fn section<'a>(text: &'a str, name: &str) -> &'a str {
    let begin = format!("<!-- BEGIN GENERATED: {name} -->\n");
    let end = format!("<!-- END GENERATED: {name} -->");
    let start = text.find(&begin).unwrap_or_else(|| panic!("docs/model.md has no `{}` marker", begin.trim())) + begin.len();
    let stop = text[start..].find(&end).unwrap_or_else(|| panic!("docs/model.md has no `{end}` after its BEGIN marker")) + start;
    &text[start..stop]
}

#[test]
fn model_doc_generated_tables_match_the_code() {
    let path = model_doc();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    for (name, args) in GENERATED {
        let o = describe(args);
        let in_doc = section(&text, name);
        if in_doc != o.stdout {
            let first = in_doc.lines().zip(o.stdout.lines()).enumerate().find(|(_, (a, b))| a != b);
            let detail = match first {
                Some((i, (a, b))) => format!("first difference at line {} of the section:\n  doc:  {a}\n  code: {b}", i + 1),
                None => format!("{} lines in the doc, {} printed", in_doc.lines().count(), o.stdout.lines().count()),
            };
            panic!(
                "docs/model.md's generated section `{name}` differs from `sim describe {}`; regenerate it with \
                 `cargo run --release -p sim-cli -- describe --update-doc docs/model.md`\n{detail}",
                args.join(" ")
            );
        }
    }
}

#[test]
fn update_doc_rewrites_only_the_generated_sections_and_check_doc_notices() {
    let tmp = temp();
    let real = std::fs::read_to_string(model_doc()).expect("read docs/model.md");
    let doc = tmp.path().join("model.md");
    // Replace the metrics table with something stale.
    let stale = real.replacen(section(&real, "metrics"), "| metric |\n|---|\n| old |\n", 1);
    assert_ne!(stale, real);
    std::fs::write(&doc, &stale).unwrap();
    sim(tmp.path(), &["describe", "--check-doc", "model.md"]).assert_code(1).assert_stderr_has(&["metrics", "--update-doc"]);
    sim(tmp.path(), &["describe", "--update-doc", "model.md"]).assert_success();
    let regenerated = std::fs::read_to_string(&doc).unwrap();
    assert!(regenerated == real, "--update-doc should give back the committed docs/model.md (is it up to date?)");
    sim(tmp.path(), &["describe", "--check-doc", "model.md"]).assert_success();
    // A file without the markers is bad input.
    std::fs::write(tmp.path().join("plain.md"), "# nothing generated here\n").unwrap();
    sim(tmp.path(), &["describe", "--update-doc", "plain.md"]).assert_code(2).assert_stderr_has(&["BEGIN GENERATED"]);
}
