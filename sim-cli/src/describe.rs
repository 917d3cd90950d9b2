//! `sim describe`: documentation printed from the code's own definitions, so it cannot drift from
//! what the simulator does. Parameters come from `Scenario::parameter_specs()` (the `section!`
//! declarations), levers from the governance section and its presets, metrics from `Metric::ALL`.
//! `--update-doc` and `--check-doc` keep the generated tables of a Markdown file (docs/model.md)
//! in step with these commands, between `<!-- BEGIN GENERATED: NAME -->` and
//! `<!-- END GENERATED: NAME -->` markers.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sim_core::metrics::{Metric, Summary};
use sim_core::scenario::{Governance, NeedType, ParamSpec, Scenario, default_need_types};

use crate::CliError;

const EXAMPLES: &str = "\
Examples:
  sim describe levers                          the governance levers, top-down and enablement presets
  sim describe metrics --format csv            every metric: name, label, unit, which way is better, bounds, summary, doc
  sim describe parameters --format markdown    every parameter: default, unit, range, source, doc
  sim describe scenario scenarios/surge.toml   the file's question, its resolved parameters
                                               (* marks those that differ from the defaults), events
  sim describe scenario scenarios/top-down.toml --set governance.discretion=0.5
  sim describe --update-doc docs/model.md      rewrite the generated tables of docs/model.md
  sim describe --check-doc docs/model.md       exit 1 if they are out of date";

#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES, args_conflicts_with_subcommands = true)]
pub struct DescribeArgs {
    #[command(subcommand)]
    what: Option<What>,
    /// Rewrite the generated sections of a Markdown file in place (the
    /// `<!-- BEGIN GENERATED: levers|parameters|metrics -->` ... `<!-- END GENERATED: ... -->` blocks).
    #[arg(long, value_name = "FILE")]
    update_doc: Option<PathBuf>,
    /// Exit 1, naming the section and the command that regenerates it, if a Markdown file's
    /// generated sections differ from what `sim describe` prints now.
    #[arg(long, value_name = "FILE", conflicts_with = "update_doc")]
    check_doc: Option<PathBuf>,
}

#[derive(clap::Subcommand, Debug)]
enum What {
    /// The governance levers (MODEL.md §3) with the top-down and enablement preset values.
    #[command(after_help = EXAMPLES)]
    Levers(FormatArg),
    /// Every metric: name, unit, how a run's summary is formed, when it is undefined, doc.
    #[command(after_help = EXAMPLES)]
    Metrics(FormatArg),
    /// Every parameter: path, default, unit, valid range, source, doc.
    #[command(after_help = EXAMPLES)]
    Parameters(FormatArg),
    /// A scenario file: its header comment, its fully resolved parameters (marking those that
    /// differ from the defaults) and its events. Exit 2 with the located error if it is invalid.
    #[command(after_help = EXAMPLES)]
    Scenario {
        /// Scenario file (TOML).
        file: PathBuf,
        /// Override one parameter by its path before describing, as with `sim run` (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        #[command(flatten)]
        format: FormatArg,
    },
}

#[derive(clap::Args, Debug)]
struct FormatArg {
    /// Output format: aligned text, a Markdown table, or CSV with a header row.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Csv,
}

/// The sections `--update-doc` fills, each with the command that prints it.
pub const GENERATED: &[(&str, &str)] = &[
    ("levers", "sim describe levers --format markdown"),
    ("parameters", "sim describe parameters --format markdown"),
    ("metrics", "sim describe metrics --format markdown"),
];

pub fn describe(args: DescribeArgs) -> Result<(), CliError> {
    if let Some(path) = &args.update_doc {
        return update_doc(path);
    }
    if let Some(path) = &args.check_doc {
        return check_doc(path);
    }
    let text = match args.what {
        None => {
            return Err(CliError::BadInput(
                "say what to describe: `sim describe levers|metrics|parameters|scenario FILE` (or --update-doc FILE); see `sim describe --help`"
                    .into(),
            ));
        }
        Some(What::Levers(f)) => levers(f.format),
        Some(What::Metrics(f)) => metrics(f.format),
        Some(What::Parameters(f)) => parameters(f.format),
        Some(What::Scenario { file, set, format }) => {
            let scenario = crate::load(Some(&file), &set)?;
            let header = std::fs::read_to_string(&file).map(|t| header_comment(&t)).unwrap_or_default();
            scenario_text(&scenario, &header, format.format)
        }
    };
    print!("{text}");
    Ok(())
}

/// A table: header and rows of cells, rendered in one of the formats.
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&'static str]) -> Self {
        Self { header: header.to_vec(), rows: Vec::new() }
    }

    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.header.len());
        self.rows.push(row);
    }

    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => self.text(),
            Format::Markdown => self.markdown(),
            Format::Csv => self.csv(),
        }
    }

    /// Columns padded to their widest cell; the last column is not padded.
    fn text(&self) -> String {
        let cols = self.header.len();
        let mut width = vec![0usize; cols];
        for row in std::iter::once(self.header.iter().map(|h| h.to_string()).collect::<Vec<_>>()).chain(self.rows.iter().cloned()) {
            for (w, c) in width.iter_mut().zip(&row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: &[String]| {
            let mut l = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i + 1 == cols {
                    l.push_str(c);
                } else {
                    let _ = write!(l, "{c}{}  ", " ".repeat(width[i] - c.chars().count()));
                }
            }
            out.push_str(l.trim_end());
            out.push('\n');
        };
        line(&self.header.iter().map(|h| h.to_string()).collect::<Vec<_>>());
        line(&width.iter().map(|&w| "-".repeat(w)).collect::<Vec<_>>());
        for row in &self.rows {
            line(row);
        }
        out
    }

    fn markdown(&self) -> String {
        let cell = |c: &str| if c.is_empty() { String::new() } else { c.replace('|', "\\|").replace('\n', " ") };
        let mut out = format!("| {} |\n", self.header.join(" | "));
        out.push_str(&format!("|{}\n", "---|".repeat(self.header.len())));
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out
    }

    fn csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.header).expect("writing to memory");
        for row in &self.rows {
            w.write_record(row).expect("writing to memory");
        }
        String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of UTF-8 cells")
    }
}

/// A bound as written in a range: whole numbers plainly, large ones in exponent form.
fn bound(x: f64) -> String {
    if x.abs() >= 1e6 { format!("{x:e}") } else { format!("{x}") }
}

/// The valid range of a parameter: `[min, max]` for numbers, the allowed values otherwise.
fn range(spec: &ParamSpec) -> String {
    if spec.min.is_nan() { spec.allowed.to_string() } else { format!("[{}, {}]", bound(spec.min), bound(spec.max)) }
}

/// The path of a parameter as `--set` and sweep files write it.
fn path(spec: &ParamSpec) -> String {
    if spec.section == NeedType::KEY { format!("{}[].{}", spec.section, spec.name) } else { format!("{}.{}", spec.section, spec.name) }
}

pub fn levers(format: Format) -> String {
    let top = Governance::specs_with(&Governance::top_down());
    let en = Governance::specs_with(&Governance::enablement());
    let mut t = Table::new(&["lever", "top_down", "enablement", "unit", "range", "source", "doc"]);
    for (a, b) in top.iter().zip(&en) {
        t.push(vec![a.name.into(), a.default.clone(), b.default.clone(), a.unit.into(), range(a), a.source.into(), a.doc.into()]);
    }
    t.render(format)
}

/// How a metric's run summary is formed, in words.
fn summary_kind(m: Metric) -> String {
    match m.summary() {
        Summary::Mean => "mean of daily values".into(),
        Summary::Ratio(a, b) => format!("ratio of window totals: {} / {}", a.name(), b.name()),
        Summary::Difference(a, b) => format!("difference of summaries: {} - {}", a.name(), b.name()),
        Summary::Window => "computed over the window by the model".into(),
    }
}

pub fn metrics(format: Format) -> String {
    let mut t = Table::new(&["metric", "label", "unit", "better", "bounds", "summary", "undefined_when", "doc"]);
    let bound = |x: f64| {
        if x.is_finite() {
            format!("{x}")
        } else if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    };
    for &m in Metric::ALL {
        let (lo, hi) = m.bounds();
        t.push(vec![
            m.name().into(),
            m.label().into(),
            m.unit().into(),
            m.direction().word().into(),
            format!("{} to {}", bound(lo), bound(hi)),
            summary_kind(m),
            m.undefined_when().unwrap_or_else(|| "never".into()),
            m.doc().into(),
        ]);
    }
    t.render(format)
}

pub fn parameters(format: Format) -> String {
    let mut t = Table::new(&["parameter", "default", "unit", "range", "source", "doc"]);
    for spec in Scenario::parameter_specs() {
        t.push(vec![path(&spec), spec.default.clone(), spec.unit.into(), range(&spec), spec.source.into(), spec.doc.into()]);
    }
    let mut out = t.render(format);
    if format != Format::Csv {
        let names: Vec<String> = default_need_types().iter().map(|n| n.name.clone()).collect();
        let note = format!(
            "need_types[] defaults apply to a need type that leaves the field out; without a [[need_types]] list the \
             built-in types are {} (`sim describe scenario` on any file without one shows their values).",
            names.join(", ")
        );
        out.push('\n');
        out.push_str(&note);
        out.push('\n');
    }
    out
}

/// The comment block that opens a scenario file (the question it asks), without the `#`.
pub fn header_comment(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let l = line.trim_start();
        if let Some(rest) = l.strip_prefix('#') {
            out.push_str(rest.strip_prefix(' ').unwrap_or(rest));
            out.push('\n');
        } else if l.is_empty() && out.is_empty() {
            continue;
        } else {
            break;
        }
    }
    out
}

/// A JSON value as the scenario file would write it.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// (path, value, default, origin) of every resolved parameter, need types and events included.
/// `origin` is empty where the value is the built-in default, `preset` where it is the chosen
/// governance preset's value, and `set` where the file (or `--set`) sets it otherwise.
fn resolved_rows(s: &Scenario) -> Vec<[String; 4]> {
    let value = serde_json::to_value(s).expect("a scenario serialises");
    let defaults = serde_json::to_value(Scenario::default()).expect("a scenario serialises");
    let preset = s.preset.as_deref().and_then(Governance::preset).map(|g| serde_json::to_value(g).expect("governance serialises"));
    let mut rows = Vec::new();
    let specs = Scenario::parameter_specs();
    for spec in specs.iter().filter(|p| p.section != NeedType::KEY) {
        let v = &value[spec.section][spec.name];
        let d = &defaults[spec.section][spec.name];
        let origin = if v == d {
            ""
        } else if preset.as_ref().is_some_and(|p| spec.section == Governance::KEY && &p[spec.name] == v) {
            "preset"
        } else {
            "set"
        };
        rows.push([format!("{}.{}", spec.section, spec.name), cell(v), cell(d), origin.into()]);
    }
    let builtin = serde_json::to_value(default_need_types()).expect("need types serialise");
    let template = serde_json::to_value(NeedType::default()).expect("need types serialise");
    let default_list = s.need_types == default_need_types();
    for (i, nt) in value["need_types"].as_array().into_iter().flatten().enumerate() {
        // A file's own need types are compared with the built-in type of the same place when it
        // keeps the built-in list, otherwise with the defaults of a need type's fields.
        let base = if default_list { &builtin[i] } else { &template };
        for spec in specs.iter().filter(|p| p.section == NeedType::KEY) {
            let (v, d) = (&nt[spec.name], &base[spec.name]);
            rows.push([format!("need_types[{i}].{}", spec.name), cell(v), cell(d), if v == d { "" } else { "set" }.into()]);
        }
    }
    for (i, e) in value["events"].as_array().into_iter().flatten().enumerate() {
        for (k, v) in e.as_object().into_iter().flatten() {
            rows.push([format!("events[{i}].{k}"), cell(v), String::new(), "set".into()]);
        }
    }
    rows
}

/// One line per event, in day order.
fn event_lines(s: &Scenario) -> Vec<String> {
    let value = serde_json::to_value(&s.events).expect("events serialise");
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let obj = e.as_object().expect("an event is a table");
            let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("?");
            let day = obj.get("day").map(cell).unwrap_or_default();
            let rest: Vec<String> =
                obj.iter().filter(|(k, _)| *k != "kind" && *k != "day").map(|(k, v)| format!("{k} = {}", cell(v))).collect();
            format!("day {day}: {kind} ({})", rest.join(", "))
        })
        .collect()
}

pub fn scenario_text(s: &Scenario, header: &str, format: Format) -> String {
    let mut t = Table::new(&["parameter", "value", "default", "differs"]);
    for [p, v, d, origin] in resolved_rows(s) {
        // Events have no default; they are listed separately outside CSV.
        if p.starts_with("events[") && format != Format::Csv {
            continue;
        }
        let mark = match origin.as_str() {
            "" => String::new(),
            "preset" => "* preset".into(),
            _ => "*".into(),
        };
        t.push(vec![p, v, d, if format == Format::Csv { origin } else { mark }]);
    }
    if format == Format::Csv {
        return t.render(format);
    }
    let preset = s.preset.as_deref().unwrap_or("none (the top_down values are the defaults)");
    let events = event_lines(s);
    let mut out = String::new();
    match format {
        Format::Markdown => {
            let _ = writeln!(out, "## Scenario `{}`\n", s.name);
            for l in header.lines() {
                let _ = writeln!(out, "> {l}");
            }
            let _ = writeln!(out, "\n{}\n\nGovernance preset: {preset}\n\n### Parameters\n", s.description);
            out.push_str(&t.render(format));
            let _ = writeln!(out, "\n### Events\n");
            if events.is_empty() {
                let _ = writeln!(out, "None.");
            }
            for e in &events {
                let _ = writeln!(out, "- {e}");
            }
        }
        _ => {
            let _ = writeln!(out, "scenario: {}", s.name);
            if !s.description.is_empty() {
                let _ = writeln!(out, "description: {}", s.description);
            }
            let _ = writeln!(out, "governance preset: {preset}\n");
            if !header.is_empty() {
                out.push_str(header);
                out.push('\n');
            }
            let _ = writeln!(out, "Parameters (* differs from the default; `* preset`: the preset's value):\n");
            out.push_str(&t.render(format));
            let _ = writeln!(out, "\nEvents:");
            if events.is_empty() {
                let _ = writeln!(out, "  none");
            }
            for e in &events {
                let _ = writeln!(out, "  {e}");
            }
        }
    }
    out
}

/// What `sim describe NAME --format markdown` prints for a generated section.
pub fn generated(name: &str) -> Option<String> {
    match name {
        "levers" => Some(levers(Format::Markdown)),
        "parameters" => Some(parameters(Format::Markdown)),
        "metrics" => Some(metrics(Format::Markdown)),
        _ => None,
    }
}

fn markers(name: &str) -> (String, String) {
    (format!("<!-- BEGIN GENERATED: {name} -->"), format!("<!-- END GENERATED: {name} -->"))
}

/// The text between a section's markers (without the marker lines), or an error naming what is missing.
fn section_span(text: &str, name: &str) -> Result<std::ops::Range<usize>, String> {
    let (begin, end) = markers(name);
    let b = text.find(&begin).ok_or_else(|| format!("no `{begin}` marker"))?;
    let start = text[b..].find('\n').map(|i| b + i + 1).ok_or_else(|| format!("nothing after `{begin}`"))?;
    let e = text[start..].find(&end).map(|i| start + i).ok_or_else(|| format!("`{begin}` without `{end}` after it"))?;
    Ok(start..e)
}

/// `text` with the generated section `name` replaced by `content` (used by `sim patterns --update-doc`).
pub fn replace_section(text: &str, name: &str, content: &str) -> Result<String, String> {
    let mut out = text.to_string();
    let span = section_span(&out, name)?;
    out.replace_range(span, content);
    Ok(out)
}

/// The file's text with every generated section filled from the code.
pub fn regenerate(text: &str) -> Result<String, String> {
    let mut out = text.to_string();
    for (name, _) in GENERATED {
        let span = section_span(&out, name)?;
        out.replace_range(span, &generated(name).expect("a known section"));
    }
    Ok(out)
}

fn read_doc(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| CliError::BadInput(format!("{}: cannot read: {e}", path.display())))
}

fn update_doc(path: &Path) -> Result<(), CliError> {
    let text = read_doc(path)?;
    let new = regenerate(&text).map_err(|e| CliError::BadInput(format!("{}: {e}", path.display())))?;
    if new == text {
        eprintln!("{}: generated sections already up to date", path.display());
        return Ok(());
    }
    std::fs::write(path, new).map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))?;
    let names: Vec<&str> = GENERATED.iter().map(|(n, _)| *n).collect();
    eprintln!("{}: regenerated sections {}", path.display(), names.join(", "));
    Ok(())
}

fn check_doc(path: &Path) -> Result<(), CliError> {
    let text = read_doc(path)?;
    for (name, command) in GENERATED {
        let span = section_span(&text, name).map_err(|e| CliError::BadInput(format!("{}: {e}", path.display())))?;
        if text[span] != generated(name).expect("a known section") {
            return Err(CliError::Failed(format!(
                "{}: generated section `{name}` differs from `{command}`; regenerate with `sim describe --update-doc {}`",
                path.display(),
                path.display()
            )));
        }
    }
    eprintln!("{}: generated sections up to date", path.display());
    Ok(())
}
