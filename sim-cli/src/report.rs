//! report.html, and `sim plot DIR`.
//!
//! The report is one self-contained HTML file beside the outputs it describes: it shows the
//! figures (PNG files of the same folder, each linked to its SVG), the summary tables rendered from
//! the CSV files, the scenarios and the parameters that differ between them, a list of the files,
//! and the manifest. No scripts, no fonts and no styles from elsewhere: the folder reads offline.
//! It links only files that exist (it is written from a listing of the folder). The markup is
//! well-formed XML (XHTML syntax), so tests can parse it.
//!
//! `sim plot DIR` finds the command in DIR/manifest.json, redraws its figures from the saved
//! files and rewrites the report (`sim run` folders have no report, as the command-line contract
//! says).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::CliError;
use crate::plots::{self, data, style};

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  sim plot sim-out/compare\n  sim plot out/grid\n  sim plot sim-out/compare --metric backlog --metric quits\n  sim plot sim-out/compare --style projector"
)]
pub struct PlotArgs {
    /// Output folder of `sim run`, `sim compare`, `sim sweep`, `sim merge` or `sim sensitivity`.
    pub dir: PathBuf,
    /// Also draw this metric's daily series on its own (series_METRIC.png/.svg; repeatable).
    #[arg(long = "metric", value_name = "METRIC")]
    pub metrics: Vec<String>,
    /// How the figures are drawn: `screen`, or `projector` (large type, thick lines, two panels
    /// a row) for a room.
    #[arg(long, value_enum, default_value_t)]
    pub style: plots::style::PlotStyle,
}

/// `sim plot DIR [--metric M]... [--style projector]`.
pub fn plot(args: PlotArgs) -> Result<(), CliError> {
    plots::style::set_plot_style(args.style);
    let mut files = redraw(&args.dir)?;
    if !args.metrics.is_empty() {
        files.extend(plots::draw_metric_series(&args.dir, &args.metrics).map_err(|e| error(&args.dir, e))?);
        if args.dir.join("report.html").exists() {
            files.push(write_report(&args.dir).map_err(|e| error(&args.dir, e))?);
        }
    }
    crate::output::note_written(&args.dir).map_err(|e| CliError::Failed(format!("{}: {e}", args.dir.display())))?;
    println!("redrew {} files in {}", files.len(), args.dir.display());
    Ok(())
}

fn error(dir: &Path, e: io::Error) -> CliError {
    let message = format!("{}: {e}", dir.display());
    match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput => CliError::BadInput(message),
        _ => CliError::Failed(message),
    }
}

/// The command that wrote `dir`, from manifest.json's `command`.
pub fn command_of(dir: &Path) -> io::Result<String> {
    let m = manifest(dir)?;
    m.get("command")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| data::invalid(&dir.join("manifest.json"), "no `command` field"))
}

fn manifest(dir: &Path) -> io::Result<Value> {
    let path = dir.join("manifest.json");
    let text = fs::read_to_string(&path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("no readable manifest.json ({e}); is this the output folder of sim run, compare, sweep or sensitivity?"),
        )
    })?;
    serde_json::from_str(&text).map_err(|e| data::invalid(&path, e))
}

/// Redraws the figures of the finished command in `dir` and, except for `sim run`, its report.
/// Returns the files written.
pub fn redraw(dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    let command = command_of(dir).map_err(|e| error(dir, e))?;
    if let Ok(m) = manifest(dir) {
        crate::words::set_currency(&crate::words::currency_of_manifest(&m));
    }
    let mut files = plots::draw_for(&command, dir).map_err(|e| error(dir, e))?;
    if command != "run" {
        files.push(write_report(dir).map_err(|e| error(dir, e))?);
    }
    Ok(files)
}

/// Draws the figures and the report of a command's output folder (usually its staging folder,
/// before it is moved into place). A drawing failure is returned so the caller can still move the
/// data into place and then fail (exit 1): a plotting problem never costs the simulation's
/// results, and never passes silently; `sim plot DIR` retries.
/// On failure the figures already drawn are removed again, so no half-written image is ever
/// listed as written.
pub fn draw_into(dir: &Path, command: &str, report: bool) -> Result<(), String> {
    let names = |d: &Path| -> std::collections::BTreeSet<std::ffi::OsString> {
        fs::read_dir(d).map(|r| r.flatten().map(|e| e.file_name()).collect()).unwrap_or_default()
    };
    let before = names(dir);
    let result = plots::draw_for(command, dir).and_then(|_| if report { write_report(dir).map(|_| ()) } else { Ok(()) });
    if result.is_err() {
        for new in names(dir).difference(&before) {
            let _ = fs::remove_file(dir.join(new));
        }
    }
    result.map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A file name as a relative URL: percent-encodes what is not safe in a path segment.
fn href(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1700px;margin:2em auto;padding:0 1.5em;color:#222;line-height:1.45}\
h1{margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}\
.lead{color:#555}.how{color:#444;background:#f5f7fa;border-left:4px solid #0072B2;padding:.4em .8em}\
img{max-width:100%;height:auto;border:1px solid #eee}\
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}th,td{border:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}\
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
.ci{color:#666}pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:.85em;max-height:40em}\
nav a{margin-right:1em}.muted{color:#777}\
.headline{font-size:1.15em;background:#fffbe6;border-left:4px solid #E69F00;padding:.5em .9em;margin:.8em 0}\
.headline li{margin:.2em 0}.warn{background:#fdecea;border-left:4px solid #D55E00;padding:.4em .8em}\
.figure{margin:.6em 0}.figure svg{max-width:100%;height:auto}.better{color:#0072B2;font-weight:bold}.worse{color:#D55E00;font-weight:bold}.unclear,.neutral{color:#777}";

/// A document under construction.
pub(crate) struct Html {
    out: String,
    nav: Vec<(String, String)>,
    /// Shown under the title, before everything else: the answer in words and any warning.
    top: String,
}

impl Html {
    pub(crate) fn new() -> Self {
        Self { out: String::new(), nav: Vec::new(), top: String::new() }
    }

    pub(crate) fn h2(&mut self, id: &str, title: &str) {
        self.nav.push((id.to_string(), title.to_string()));
        let _ = writeln!(self.out, "<h2 id=\"{}\">{}</h2>", esc(id), esc(title));
    }

    pub(crate) fn p(&mut self, class: &str, text: &str) {
        let _ = writeln!(self.out, "<p class=\"{class}\">{}</p>", esc(text));
    }

    pub(crate) fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }

    pub(crate) fn finish(self, title: &str, lead: &str) -> String {
        let mut doc = String::new();
        let _ =
            writeln!(doc, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>");
        let _ = writeln!(doc, "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>", esc(title));
        let _ = writeln!(doc, "<h1>{}</h1>\n<p class=\"lead\">{}</p>", esc(title), esc(lead));
        doc.push_str(&self.top);
        doc.push_str("<nav>");
        for (id, t) in &self.nav {
            let _ = write!(doc, "<a href=\"#{}\">{}</a>", esc(id), esc(t));
        }
        doc.push_str("</nav>\n");
        doc.push_str(&self.out);
        doc.push_str("</body>\n</html>\n");
        doc
    }
}

/// A number with its CI: "mean [lo, hi]".
fn with_ci(mean: f64, lo: f64, hi: f64) -> String {
    if lo.is_finite() && hi.is_finite() {
        format!("{} <span class=\"ci\">[{}, {}]</span>", esc(&style::number(mean)), esc(&style::number(lo)), esc(&style::number(hi)))
    } else {
        esc(&style::number(mean))
    }
}

/// The figure stems of `dir` (PNG files we know how to describe), in reading order.
fn figures(dir: &Path) -> io::Result<Vec<String>> {
    const ORDER: [&str; 11] = [
        "dashboard",
        "true_vs_reported",
        "summary",
        "effects",
        "sobol",
        "morris_mu_star",
        "morris",
        "series_",
        "posterior_marginals",
        "posterior_pairs",
        "predictive_check",
    ];
    let mut stems: Vec<String> = files(dir)?
        .into_iter()
        .filter_map(|f| f.strip_suffix(".png").map(str::to_string))
        .filter(|s| plots::describe(s).is_some())
        .collect();
    let rank = |s: &str| ORDER.iter().position(|o| s == *o || (o.ends_with('_') && s.starts_with(o))).unwrap_or(ORDER.len());
    stems.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    Ok(stems)
}

/// Names of the regular files directly in `dir` (not hidden), sorted.
fn files(dir: &Path) -> io::Result<Vec<String>> {
    let mut names = Vec::new();
    for e in fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type()?.is_file() && !name.starts_with('.') {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

fn figure_sections(h: &mut Html, dir: &Path) -> io::Result<()> {
    let stems = figures(dir)?;
    if stems.is_empty() {
        return Ok(());
    }
    h.h2("figures", "Figures");
    let present = files(dir)?;
    for stem in stems {
        let d = plots::describe(&stem).expect("figures() keeps described stems");
        let _ = writeln!(h.out, "<h3 id=\"fig-{}\">{}</h3>", esc(&stem), esc(&d.title));
        h.p("how", &format!("How to read this: {}", d.how_to_read));
        let png = format!("{stem}.png");
        let svg = format!("{stem}.svg");
        let img = format!("<img src=\"{}\" alt=\"{}\"/>", href(&png), esc(&d.title));
        if present.contains(&svg) {
            let _ = writeln!(h.out, "<p><a href=\"{}\">{img}</a></p>", href(&svg));
        } else {
            let _ = writeln!(h.out, "<p>{img}</p>");
        }
    }
    Ok(())
}

fn files_section(h: &mut Html, dir: &Path) -> io::Result<()> {
    h.h2("files", "Files");
    h.p("muted", "Everything in this folder; the CSV files open in any spreadsheet, pandas or R.");
    h.raw("<ul>\n");
    for name in files(dir)?.iter().filter(|n| *n != "report.html") {
        let size = fs::metadata(dir.join(name)).map(|m| m.len()).unwrap_or(0);
        let _ =
            writeln!(h.out, "<li><a href=\"{}\">{}</a> <span class=\"muted\">({})</span></li>", href(name), esc(name), human_size(size));
    }
    h.raw("</ul>\n");
    Ok(())
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} kB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

fn manifest_section(h: &mut Html, manifest: &Value) {
    h.h2("manifest", "Manifest");
    h.p("muted", "Provenance: version, command line, seeds, every resolved parameter, start and wall time (manifest.json).");
    let pretty = serde_json::to_string_pretty(manifest).unwrap_or_default();
    let _ = writeln!(h.out, "<details><summary>manifest.json</summary>\n<pre>{}</pre>\n</details>", esc(&pretty));
}

/// Flattens JSON into `path -> value` ("governance.discretion", `need_types[0].rate_per_year`).
fn flatten(v: &Value, prefix: &str, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(x, &p, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                flatten(x, &format!("{prefix}[{i}]"), out);
            }
        }
        Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// Lines of facts ("label: value") from the manifest, those present.
fn facts(m: &Value, keys: &[(&str, &str)]) -> String {
    keys.iter()
        .filter_map(|(k, label)| {
            let v = m.get(*k)?;
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Null => return None,
                Value::Number(n) if k.ends_with("_seconds") => format!("{:.1} s", n.as_f64().unwrap_or(0.0)),
                other => other.to_string(),
            };
            Some(format!("{label}: {text}"))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Writes `dir/report.html` for the command in its manifest; returns its path.
pub fn write_report(dir: &Path) -> io::Result<PathBuf> {
    let m = manifest(dir)?;
    let command = m.get("command").and_then(Value::as_str).unwrap_or("").to_string();
    let (title, lead, body) = match command.as_str() {
        "compare" => compare_report(dir, &m)?,
        "sweep" | "merge" => sweep_report(dir, &m)?,
        "sensitivity" => sensitivity_report(dir, &m)?,
        "calibrate" => calibrate_report(dir, &m)?,
        _ => run_report(dir, &m)?,
    };
    let path = dir.join("report.html");
    plots::figure::write_file(&path, body.finish(&title, &lead).as_bytes())?;
    Ok(path)
}

const COMMON_FACTS: [(&str, &str); 4] =
    [("sim_version", "sim"), ("git_commit", "commit"), ("start_time", "started"), ("wall_time_seconds", "wall time")];

fn compare_report(dir: &Path, m: &Value) -> io::Result<(String, String, Html)> {
    use crate::words::{self, Change, Verdict};
    use sim_core::metrics::Metric;
    let all_windows = data::read_summary_windows(&dir.join("summary.csv"))?;
    let summary: Vec<&data::SummaryRow> = all_windows.iter().filter(|r| r.window == "all").collect();
    let effects = data::read_effects(&dir.join("effects.csv"))?;
    let trends = data::read_trends(&dir.join("trends.csv"))?;
    let scenarios = data::unique(summary.iter().map(|r| r.scenario.as_str()));
    let baseline = m
        .get("baseline")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| effects.first().map(|e| e.scenario_b.clone()))
        .unwrap_or_default();
    let title = format!("Comparison: {}", scenarios.join(" vs "));
    let days = m.pointer("/scenarios/0/parameters/run/days").map(|d| format!("{d} days, ")).unwrap_or_default();
    let replicates = m.get("replicates").and_then(Value::as_u64);
    let lead = format!(
        "{}{} replicates per scenario with common random numbers (master seed {}); baseline {}. {}.",
        days,
        replicates.map(|v| v.to_string()).unwrap_or_else(|| "?".into()),
        m.get("master_seed").map(|v| v.to_string()).unwrap_or_else(|| "?".into()),
        if baseline.is_empty() { "?" } else { &baseline },
        facts(m, &COMMON_FACTS)
    );
    let mut h = Html::new();

    // The answer first: every option against the baseline, and what still drifts.
    let change_of = |r: &data::EffectRow| -> Option<Change> {
        Some(Change {
            metric: Metric::from_name(&r.metric)?,
            difference: r.difference,
            ci_low: r.ci_low,
            ci_high: r.ci_high,
            pct_change: r.pct_change,
            pct_ci_low: r.pct_ci_low,
            pct_ci_high: r.pct_ci_high,
            clipped_low: r.ci_low_clipped,
            clipped_high: r.ci_high_clipped,
        })
    };
    let options = data::unique(effects.iter().map(|r| r.scenario_a.as_str()));
    let year_means = |scenario: &str, metric: &str| -> Vec<f64> {
        all_windows
            .iter()
            .filter(|r| r.scenario == scenario && r.metric == metric && r.window.starts_with("year_"))
            .map(|r| r.mean)
            .collect()
    };
    let mut top = String::from("<div class=\"headline\"><ul>\n");
    let mut headline_clipped = false;
    for o in &options {
        let changes: Vec<Change> = effects.iter().filter(|r| &r.scenario_a == o).filter_map(change_of).collect();
        headline_clipped |= words::headline_clipped(&changes);
        let _ = writeln!(
            top,
            "<li>{}</li>",
            esc(&words::headline(
                o,
                &effects.iter().find(|r| &r.scenario_a == o).map(|r| r.scenario_b.clone()).unwrap_or_default(),
                &changes
            ))
        );
    }
    // One line per drifting scenario, its drifting metrics together.
    let mut drifting = false;
    for s in &scenarios {
        let drifts: Vec<String> = trends
            .iter()
            .filter(|t| &t.scenario == s && t.still_changing)
            .filter_map(|t| Metric::from_name(&t.metric).and_then(|mm| words::drift(mm, &year_means(&t.scenario, &t.metric))))
            .collect();
        if !drifts.is_empty() {
            drifting = true;
            let _ = writeln!(top, "<li><strong>still changing</strong>: {}'s {}</li>", esc(s), esc(&drifts.join("; ")));
        }
    }
    top.push_str("</ul>");
    if headline_clipped {
        let _ = writeln!(top, "<p>{}.</p>", esc(words::CLIPPED_NOTE));
    }
    if drifting {
        top.push_str("<p>A whole-window summary of a metric that is still changing hides its trend: read the year-by-year table before comparing options on it.</p>");
    }
    top.push_str("</div>\n");
    if let Some(n) = replicates.filter(|&n| (n as usize) < words::MIN_RELIABLE_REPLICATES) {
        let _ = writeln!(
            top,
            "<p class=\"warn\">Small sample: only {n} replicates per scenario. Intervals from fewer than {} replicates are wide and unreliable; run again with --replicates 20 or more before deciding anything.</p>",
            words::MIN_RELIABLE_REPLICATES
        );
    }
    h.top = top;

    // Summary table: metrics down, scenarios across.
    h.h2("summary", "Summary per scenario");
    h.p("how", "How to read this: each run is summarised over the days after the warm-up (rates as ratios of totals); the table gives the mean over replicates and its 95% confidence interval in brackets, clipped to the values the metric can take (summary.csv). Shares are in %. The last column says which way is better; \u{201c}still changing\u{201d} marks a metric that drifts over the window, so its whole-window mean hides a trend (the year-by-year table shows it).");
    let has = |metric: &str| summary.iter().any(|r| r.metric == metric);
    let key = plots::compare::key_metrics(|x| has(x));
    let all = data::unique(summary.iter().map(|r| r.metric.as_str()));
    let still = |s: &str, metric: &str| trends.iter().any(|t| t.scenario == s && t.metric == metric && t.still_changing);
    let show = |metric: &str, v: f64| match Metric::from_name(metric) {
        Some(mm) => words::value(mm, v),
        None => style::number(v),
    };
    let table = |metrics: &[String]| {
        let mut t = String::from("<table>\n<tr><th>metric</th><th>unit</th>");
        for s in &scenarios {
            let _ = write!(t, "<th>{}</th>", esc(s));
        }
        t.push_str("<th>n</th><th>better</th></tr>\n");
        for metric in metrics {
            let _ = write!(
                t,
                "<tr><td title=\"{}\">{}</td><td>{}</td>",
                esc(metric),
                esc(&words::label_of(metric)),
                esc(&words::unit_of(metric))
            );
            let mut n = f64::NAN;
            for s in &scenarios {
                match summary.iter().find(|r| &r.scenario == s && &r.metric == metric) {
                    Some(r) => {
                        n = if n.is_nan() { r.n } else { n.min(r.n) };
                        let ci = if r.ci_low.is_finite() && r.ci_high.is_finite() {
                            format!(" <span class=\"ci\">[{}, {}]</span>", esc(&show(metric, r.ci_low)), esc(&show(metric, r.ci_high)))
                        } else {
                            String::new()
                        };
                        let flag = if still(s, metric) { " <span class=\"worse\">still changing</span>" } else { "" };
                        let _ = write!(t, "<td class=\"num\">{}{ci}{flag}</td>", esc(&show(metric, r.mean)));
                    }
                    None => t.push_str("<td></td>"),
                }
            }
            let dir = Metric::from_name(metric).map(|mm| mm.direction().word()).unwrap_or("");
            let _ = writeln!(t, "<td class=\"num\">{}</td><td>{}</td></tr>", esc(&style::number(n)), esc(dir));
        }
        t.push_str("</table>\n");
        t
    };
    h.raw(&table(&key));
    let _ = writeln!(h.out, "<details><summary>All {} metrics</summary>\n{}</details>", all.len(), table(&all));

    // Year by year: the key metrics of each scenario in each year of the window.
    let years = data::unique(all_windows.iter().filter(|r| r.window.starts_with("year_")).map(|r| r.window.as_str()));
    if !years.is_empty() {
        h.h2("years", "Year by year");
        h.p("how", "How to read this: the same summaries for each year of the window (mean over replicates). A whole-window mean is a fair summary only when these are level; a metric marked still changing has a significant trend across replicates (trends.csv).");
        let mut t = String::from("<table>\n<tr><th>metric</th><th>scenario</th>");
        for y in &years {
            let _ = write!(t, "<th>{}</th>", esc(&y.replace('_', " ")));
        }
        t.push_str("<th>whole window</th><th>trend</th></tr>\n");
        for metric in &key {
            for s in &scenarios {
                let _ = write!(t, "<tr><td>{}</td><td>{}</td>", esc(&words::label_of(metric)), esc(s));
                for y in &years {
                    let v = all_windows
                        .iter()
                        .find(|r| &r.scenario == s && &r.metric == metric && &r.window == y)
                        .map(|r| r.mean)
                        .unwrap_or(f64::NAN);
                    let _ = write!(t, "<td class=\"num\">{}</td>", esc(&show(metric, v)));
                }
                let whole = summary.iter().find(|r| &r.scenario == s && &r.metric == metric).map(|r| r.mean).unwrap_or(f64::NAN);
                let flag = if still(s, metric) { "<span class=\"worse\">still changing</span>" } else { "" };
                let _ = writeln!(t, "<td class=\"num\">{}</td><td>{flag}</td></tr>", esc(&show(metric, whole)));
            }
        }
        t.push_str("</table>\n");
        h.raw(&t);
    }

    // Effects table.
    h.h2("effects", "Effects against the baseline");
    h.p("how", &format!("How to read this: each option minus the baseline ({}), paired replicate by replicate, with its 95% CI: shares in percentage points, money also as % of the baseline. Better or worse follows the metric's direction; \u{201c}unclear\u{201d} means the CI includes 0 (no difference beyond noise). effects.csv also gives Hedges' g, which here is large for almost any difference because replicates of one scenario vary little, so it says nothing about how much a difference matters.", if baseline.is_empty() { "?" } else { &baseline }));
    let effect_table = |metrics: &[String]| {
        let mut t = String::from(
            "<table>\n<tr><th>metric</th><th>option</th><th>change [95% CI]</th><th>% of baseline</th><th>verdict</th><th>n</th></tr>\n",
        );
        for metric in metrics {
            for r in effects.iter().filter(|r| &r.metric == metric) {
                let verdict =
                    Metric::from_name(metric).map(|mm| Verdict::of(mm, r.difference, r.ci_low, r.ci_high)).unwrap_or(Verdict::Neutral);
                let words_of = change_of(r).map(|c| c.words()).unwrap_or_else(|| style::number(r.difference));
                let mark = |cut: bool| if cut { words::CLIPPED_MARK } else { "" };
                let pct = if r.pct_change.is_finite() {
                    format!(
                        "{:+.1}% <span class=\"ci\">[{:.1}{}, {:.1}{}]</span>",
                        r.pct_change,
                        r.pct_ci_low,
                        mark(r.ci_low_clipped),
                        r.pct_ci_high,
                        mark(r.ci_high_clipped)
                    )
                } else {
                    "\u{2013}".to_string()
                };
                let _ = writeln!(
                    t,
                    "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"{v}\">{v}</td><td class=\"num\">{}</td></tr>",
                    esc(&words::label_of(metric)),
                    esc(&r.scenario_a),
                    esc(&words_of),
                    pct,
                    esc(&style::number(r.n)),
                    v = verdict.word(),
                );
            }
        }
        t.push_str("</table>\n");
        t
    };
    h.raw(&effect_table(&key));
    let _ = writeln!(h.out, "<details><summary>All metrics</summary>\n{}</details>", effect_table(&all));
    if effects.iter().any(|r| r.ci_low_clipped || r.ci_high_clipped) {
        h.p("how", &format!("{}.", words::CLIPPED_NOTE));
    }
    figure_sections(&mut h, dir)?;

    // Scenarios and what differs between them.
    h.h2("scenarios", "Scenarios");
    let list = m.get("scenarios").and_then(Value::as_array).cloned().unwrap_or_default();
    h.raw("<table>\n<tr><th>name</th><th>file</th><th>content hash (SHA-256)</th></tr>\n");
    for s in &list {
        let text = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("built in").to_string();
        let _ = writeln!(
            h.out,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            esc(&text("name")),
            esc(&text("file")),
            esc(&text("scenario_hash"))
        );
    }
    h.raw("</table>\n");
    let flat: Vec<BTreeMap<String, String>> = list
        .iter()
        .map(|s| {
            let mut f = BTreeMap::new();
            flatten(s.get("parameters").unwrap_or(&Value::Null), "", &mut f);
            f
        })
        .collect();
    let paths: Vec<&String> = {
        let mut p: Vec<&String> = flat.iter().flat_map(|f| f.keys()).collect();
        p.sort();
        p.dedup();
        p.into_iter().filter(|k| k.as_str() != "name" && flat.iter().any(|f| f.get(*k) != flat[0].get(*k))).collect()
    };
    if paths.is_empty() {
        h.p("muted", "The scenarios' parameters are identical apart from their names.");
    } else {
        h.p("how", "Parameters that differ between the scenarios (every parameter is in the manifest below):");
        h.raw("<table>\n<tr><th>parameter</th>");
        for s in &list {
            let _ = write!(h.out, "<th>{}</th>", esc(s.get("name").and_then(Value::as_str).unwrap_or("?")));
        }
        h.raw("</tr>\n");
        for p in paths {
            let _ = write!(h.out, "<tr><td><code>{}</code></td>", esc(p));
            for f in &flat {
                let _ = write!(h.out, "<td>{}</td>", esc(f.get(p).map(String::as_str).unwrap_or("")));
            }
            h.raw("</tr>\n");
        }
        h.raw("</table>\n");
    }
    uncertainty_section(&mut h, dir, m)?;
    files_section(&mut h, dir)?;
    manifest_section(&mut h, m);
    Ok((title, lead, h))
}

/// Most rows of a long table shown in the report (the CSV file has them all).
const MAX_ROWS: usize = 300;

fn sweep_report(dir: &Path, m: &Value) -> io::Result<(String, String, Html)> {
    let name = m.get("sweep_name").and_then(Value::as_str).unwrap_or("sweep");
    let title = format!("Sweep: {name}");
    let design = m.pointer("/design/kind").and_then(Value::as_str).unwrap_or("?");
    // A merged sweep's runs took the shards' time, not the merge's.
    let merged: [(&str, &str); 5] = [
        ("sim_version", "sim"),
        ("git_commit", "commit"),
        ("start_time", "merged"),
        ("runs_wall_time_seconds", "wall time of the runs (sum over shards)"),
        ("wall_time_seconds", "merge"),
    ];
    let lead = format!(
        "Design {design}, {} points x {} replicates ({} runs). {}.",
        m.get("points").map(|v| v.to_string()).unwrap_or_else(|| "?".into()),
        m.get("replicates").map(|v| v.to_string()).unwrap_or_else(|| "?".into()),
        m.get("runs").map(|v| v.to_string()).unwrap_or_else(|| "?".into()),
        if m.get("runs_wall_time_seconds").is_some() { facts(m, &merged) } else { facts(m, &COMMON_FACTS) }
    );
    let mut h = Html::new();
    varied_section(&mut h, m);
    figure_sections(&mut h, dir)?;
    let path = dir.join("points.csv");
    if path.exists() {
        let points = data::read_points(&path)?;
        h.h2("points", "Points");
        h.p("how", "How to read this: each point's metrics, mean over its replicates with the 95% CI (points.csv).");
        h.raw("<table>\n<tr><th>point</th>");
        for p in &points.parameters {
            let _ = write!(h.out, "<th><code>{}</code></th>", esc(p));
        }
        h.raw("<th>metric</th><th>mean [95% CI]</th><th>n</th></tr>\n");
        for r in points.rows.iter().take(MAX_ROWS) {
            let _ = write!(h.out, "<tr><td class=\"num\">{}</td>", r.point_id);
            for c in &r.cells {
                let _ = write!(h.out, "<td>{}</td>", esc(c));
            }
            let _ = writeln!(
                h.out,
                "<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&r.metric),
                with_ci(r.mean, r.ci_low, r.ci_high),
                esc(&style::number(r.n))
            );
        }
        h.raw("</table>\n");
        if points.rows.len() > MAX_ROWS {
            h.p("muted", &format!("The first {MAX_ROWS} of {} rows; points.csv has them all.", points.rows.len()));
        }
    }
    files_section(&mut h, dir)?;
    manifest_section(&mut h, m);
    Ok((title, lead, h))
}

/// A varied parameter's range or values in words: "0.1 to 0.9", "0.1 to 0.9 (whole numbers)",
/// "top_down, enablement"; anything else as the manifest gives it.
pub fn range_words(p: &Value) -> String {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if let (Some(lo), Some(hi)) = (p.get("min"), p.get("max")) {
        let whole = if p.get("integer").and_then(Value::as_bool) == Some(true) { " (whole numbers)" } else { "" };
        return format!("{} to {}{whole}", text(lo), text(hi));
    }
    if let Some(values) = p.get("values").and_then(Value::as_array) {
        return values.iter().map(text).collect::<Vec<_>>().join(", ");
    }
    let mut rest = p.clone();
    if let Value::Object(o) = &mut rest {
        o.remove("path");
    }
    rest.to_string()
}

/// The varied parameters of a sweep (manifest `varied`), one row each.
fn varied_section(h: &mut Html, m: &Value) {
    let Some(varied) = m.get("varied").and_then(Value::as_array) else { return };
    h.h2("parameters", "Varied parameters");
    h.raw("<table>\n<tr><th>parameter</th><th>range or values</th></tr>\n");
    for p in varied {
        let path = p.get("path").and_then(Value::as_str).unwrap_or("?");
        let _ = writeln!(h.out, "<tr><td><code>{}</code></td><td>{}</td></tr>", esc(path), esc(&range_words(p)));
    }
    h.raw("</table>\n");
    if let Some(base) = m.get("scenario_file").and_then(Value::as_str) {
        h.p("muted", &format!("Base scenario: {base} (every resolved parameter is in the manifest below)."));
    }
}

fn sensitivity_report(dir: &Path, m: &Value) -> io::Result<(String, String, Html)> {
    let name = m.get("sweep_name").and_then(Value::as_str).unwrap_or("sensitivity");
    let rows = data::read_indices(&dir.join("indices.csv"))?;
    let methods = plots::sensitivity::methods(&rows);
    let title = format!("Sensitivity: {name}");
    let lead = format!(
        "{} indices from {} runs, bootstrap CIs ({} resamples). {}.",
        if methods.is_empty() { "No".to_string() } else { methods.join(" and ") },
        m.get("runs").map(|v| v.to_string()).unwrap_or_else(|| "?".into()),
        m.get("bootstrap").map(|v| v.to_string()).unwrap_or_else(|| "?".into()),
        facts(m, &COMMON_FACTS)
    );
    let mut h = Html::new();
    for w in plots::sensitivity::warnings(&rows, m.get("design").unwrap_or(&Value::Null)) {
        let _ = writeln!(h.top, "<p class=\"warn\">Warning: {}.</p>", esc(&w));
    }
    varied_section(&mut h, m);
    figure_sections(&mut h, dir)?;
    h.h2("indices", "Indices");
    h.p("how", "How to read this: every index with its 95% bootstrap CI (indices.csv).");
    h.raw("<table>\n<tr><th>parameter</th><th>metric</th><th>method</th><th>index</th><th>value [95% CI]</th></tr>\n");
    for r in rows.iter().take(MAX_ROWS) {
        let _ = writeln!(
            h.out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            esc(&r.parameter),
            esc(&r.metric),
            esc(&r.method),
            esc(&r.index),
            with_ci(r.value, r.ci_low, r.ci_high)
        );
    }
    h.raw("</table>\n");
    if rows.len() > MAX_ROWS {
        h.p("muted", &format!("The first {MAX_ROWS} of {} rows; indices.csv has them all.", rows.len()));
    }
    files_section(&mut h, dir)?;
    manifest_section(&mut h, m);
    Ok((title, lead, h))
}

/// With `--posterior`: the effect of each option with parameter uncertainty and run-to-run noise
/// apart (uncertainty.csv).
fn uncertainty_section(h: &mut Html, dir: &Path, m: &Value) -> io::Result<()> {
    let path = dir.join("uncertainty.csv");
    if !path.exists() {
        return Ok(());
    }
    let t = data::Csv::read(&path)?;
    let c = |n: &str| t.column(&path, n);
    let (ca, cb, cm, cmean, clo, chi, cs) =
        (c("scenario_a")?, c("scenario_b")?, c("metric")?, c("effect_mean")?, c("effect_low")?, c("effect_high")?, c("share_parameters")?);
    h.h2("uncertainty", "Parameter uncertainty and run-to-run noise");
    h.p(
        "how",
        &format!(
            "How to read this: every replicate drew its parameters from the posterior {} ({} seeds per draw, the same draw in every scenario). The effect is option minus baseline per replicate; its interval (5% to 95% over replicates) carries both parameter uncertainty and run-to-run noise, and the last two columns split its variance between them (one-way random-effects decomposition over draws; uncertainty.csv).",
            m.get("posterior").and_then(Value::as_str).unwrap_or("?"),
            m.get("seeds_per_draw").map(|v| v.to_string()).unwrap_or_else(|| "?".into())
        ),
    );
    h.raw("<table>\n<tr><th>option</th><th>baseline</th><th>metric</th><th>effect [5%, 95%]</th><th>from parameters</th><th>from noise</th></tr>\n");
    for r in t.rows.iter().take(MAX_ROWS) {
        let share = data::num(&r[cs]);
        let pct = |x: f64| if x.is_finite() { format!("{:.0}%", 100.0 * x) } else { "-".into() };
        let _ = writeln!(
            h.out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&r[ca]),
            esc(&r[cb]),
            esc(&r[cm]),
            with_ci(data::num(&r[cmean]), data::num(&r[clo]), data::num(&r[chi])),
            pct(share),
            pct(1.0 - share)
        );
    }
    h.raw("</table>\n");
    Ok(())
}

/// The report of a `sim calibrate` folder: the posterior of each parameter, the held-out check
/// in words (pass or fail), the figures, the generations and the predictive check table.
fn calibrate_report(dir: &Path, m: &Value) -> io::Result<(String, String, Html)> {
    let name = m.get("calibration_name").and_then(Value::as_str).unwrap_or("calibration");
    let title = format!("Calibration: {name}");
    let get = |k: &str| m.get(k).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).unwrap_or_else(|| "?".into());
    let lead = format!(
        "{}; {} generations, {} simulations; stopped because {}. Base scenario {}. {}.",
        get("method"),
        get("generations"),
        get("simulations"),
        get("stop"),
        get("scenario_file"),
        facts(m, &COMMON_FACTS)
    );
    let mut h = Html::new();
    let params = data::Csv::read(&dir.join("parameters.csv"))?;
    let checks = data::Csv::read(&dir.join("ppc.csv"))?;
    let col = |c: &data::Csv, f: &str, n: &str| c.column(&dir.join(f), n);
    let (cu, cp) = (col(&checks, "ppc.csv", "use")?, col(&checks, "ppc.csv", "pass")?);
    let count = |held: bool, pass: Option<bool>| {
        checks.rows.iter().filter(|r| (&r[cu] == "held_out") == held && pass.is_none_or(|p| (&r[cp] == "pass") == p)).count()
    };
    let mut top = String::from("<div class=\"headline\"><ul>\n");
    for r in &params.rows {
        let _ = writeln!(
            top,
            "<li><code>{}</code>: posterior median {} (90% credible interval {} to {}; prior {})</li>",
            esc(&r[0]),
            esc(&style::number(data::num(&r[4]))),
            esc(&style::number(data::num(&r[5]))),
            esc(&style::number(data::num(&r[6]))),
            esc(&r[1])
        );
    }
    let _ = writeln!(
        top,
        "<li>Fitted targets reproduced (observed value inside the 90% predictive interval): {} of {}.</li>",
        count(false, Some(true)),
        count(false, None)
    );
    let held = count(true, None);
    if held > 0 {
        let failed = count(true, Some(false));
        let verdict =
            if failed == 0 { "PASS: every held-out figure".to_string() } else { format!("FAIL: {failed} held-out figure(s) outside") };
        let _ = writeln!(
            top,
            "<li><strong>Held-out check: {verdict}</strong> ({} of {held} inside their 90% predictive interval; none of them was used in the fit).</li>",
            count(true, Some(true))
        );
    } else {
        top.push_str("<li>No figures were held out, so this fit is not validated against independent data.</li>\n");
    }
    top.push_str("</ul></div>\n");
    h.top = top;
    h.h2("parameters", "Posterior of each parameter");
    h.p("how", "How to read this: weighted posterior mean and sd, median and 90% credible interval (5% and 95% quantiles) of each estimated parameter, with its prior (parameters.csv; the particles are in posterior.csv).");
    h.raw("<table>\n<tr><th>parameter</th><th>prior</th><th>mean</th><th>sd</th><th>median [90% CI]</th></tr>\n");
    for r in &params.rows {
        let _ = writeln!(
            h.out,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&r[0]),
            esc(&r[1]),
            esc(&style::number(data::num(&r[2]))),
            esc(&style::number(data::num(&r[3]))),
            with_ci(data::num(&r[4]), data::num(&r[5]), data::num(&r[6]))
        );
    }
    h.raw("</table>\n");
    figure_sections(&mut h, dir)?;
    h.h2("check", "Posterior predictive check");
    h.p("how", "How to read this: for every target, fitted or held out, the observed value and its sd; the simulated median and 90% interval over runs drawn from the posterior; and the 90% interval of a new observation (the simulated value plus observation error). Pass: the observed value lies inside that interval (ppc.csv).");
    h.raw("<table>\n<tr><th>target</th><th>use</th><th>observed (sd)</th><th>simulated median [90%]</th><th>observation interval</th><th>verdict</th></tr>\n");
    let c = |n: &str| col(&checks, "ppc.csv", n);
    let (ct, co, csd, cm, cl, chi, col_lo, col_hi) = (
        c("target")?,
        c("observed")?,
        c("sd")?,
        c("predicted_median")?,
        c("predicted_low")?,
        c("predicted_high")?,
        c("observation_low")?,
        c("observation_high")?,
    );
    for r in checks.rows.iter().take(MAX_ROWS) {
        let _ = writeln!(
            h.out,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{} ({})</td><td class=\"num\">{}</td><td class=\"num\">[{}, {}]</td><td>{}</td></tr>",
            esc(&r[ct]),
            esc(&r[cu].replace('_', " ")),
            esc(&style::number(data::num(&r[co]))),
            esc(&style::number(data::num(&r[csd]))),
            with_ci(data::num(&r[cm]), data::num(&r[cl]), data::num(&r[chi])),
            esc(&style::number(data::num(&r[col_lo]))),
            esc(&style::number(data::num(&r[col_hi]))),
            if &r[cp] == "pass" { "pass" } else { "<strong>fail</strong>" }
        );
    }
    h.raw("</table>\n");
    if checks.rows.len() > MAX_ROWS {
        h.p("muted", &format!("The first {MAX_ROWS} of {} rows; ppc.csv has them all.", checks.rows.len()));
    }
    let gens = data::Csv::read(&dir.join("generations.csv"))?;
    h.h2("generations", "Generations");
    h.p("how", "How to read this: each generation's tolerance (the largest distance accepted; infinite for the prior), acceptance rate, effective sample size (1 / sum of squared weights) and simulations run (generations.csv).");
    h.raw("<table>\n<tr><th>generation</th><th>tolerance</th><th>acceptance</th><th>ESS</th><th>simulations</th></tr>\n");
    for r in &gens.rows {
        let _ = writeln!(
            h.out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}%</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&r[0]),
            esc(&style::number(data::num(&r[1]))),
            esc(&style::number(100.0 * data::num(&r[2]))),
            esc(&style::number(data::num(&r[3]))),
            esc(&r[4])
        );
    }
    h.raw("</table>\n");
    files_section(&mut h, dir)?;
    manifest_section(&mut h, m);
    Ok((title, lead, h))
}

/// A report for a `sim run` folder (not written by the command itself; `write_report` on such a
/// folder gives the figures, files and manifest).
fn run_report(dir: &Path, m: &Value) -> io::Result<(String, String, Html)> {
    let name = m.pointer("/parameters/name").and_then(Value::as_str).unwrap_or("run");
    let title = format!("Run: {name}");
    let lead = format!("Seeds {}. {}.", m.get("seeds").map(|v| v.to_string()).unwrap_or_default(), facts(m, &COMMON_FACTS));
    let mut h = Html::new();
    figure_sections(&mut h, dir)?;
    files_section(&mut h, dir)?;
    manifest_section(&mut h, m);
    Ok((title, lead, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_links() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(href("heatmap_need_types_0_.x.png"), "heatmap_need_types_0_.x.png");
        assert_eq!(href("a b[0].png"), "a%20b%5B0%5D.png");
        let mut f = BTreeMap::new();
        flatten(&serde_json::json!({"a": {"b": 1, "c": ["x", true]}}), "", &mut f);
        assert_eq!(f.get("a.b").map(String::as_str), Some("1"));
        assert_eq!(f.get("a.c[0]").map(String::as_str), Some("x"));
        assert_eq!(f.get("a.c[1]").map(String::as_str), Some("true"));
    }

    #[test]
    fn ranges_read_as_words() {
        let p = serde_json::json!({"path": "governance.discretion", "integer": false, "min": 0.1, "max": 0.9});
        assert_eq!(range_words(&p), "0.1 to 0.9");
        let p = serde_json::json!({"path": "governance.approval_layers", "integer": true, "min": 0, "max": 5});
        assert_eq!(range_words(&p), "0 to 5 (whole numbers)");
        let p = serde_json::json!({"path": "governance.preset", "values": ["top_down", "enablement"]});
        assert_eq!(range_words(&p), "top_down, enablement");
    }
}
