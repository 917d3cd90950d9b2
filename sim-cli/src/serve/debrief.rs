//! The debrief: the session's run as a report page, in the style of the other commands' reports
//! (report.rs): what differed between the regimes over the summary window (in words, by each
//! metric's better direction), the dashboard of every regime on shared axes, each regime's
//! summary, the session log, and the files to take away. One seed and one run per regime, so it
//! says plainly that the differences are not yet evidence and gives the `sim compare` command
//! that puts intervals on them.

use std::fmt::Write;

use sim_core::metrics::{Metric, RunSummary, TimeSeries};

use super::session::{LogEntry, Session};
use crate::report::{Html, esc};
use crate::words::{self, Change, HEADLINE_METRICS, Verdict};

/// One regime's run so far.
pub struct RegimeRun {
    pub name: String,
    pub description: String,
    pub summary: RunSummary,
    pub series: TimeSeries,
    pub warmup_days: u32,
    /// The name its exported scenario file gets.
    pub file: String,
}

/// What the debrief is drawn from, copied out of the session so drawing needs no lock.
pub struct Input {
    pub seed: u64,
    pub day: u32,
    pub days: u32,
    pub regimes: Vec<RegimeRun>,
    pub log: Vec<LogEntry>,
    pub participants: usize,
    pub currency: String,
}

impl Input {
    pub fn of(s: &Session) -> Self {
        Self {
            seed: s.seed,
            day: s.day(),
            days: s.days,
            regimes: s
                .regimes
                .iter()
                .map(|r| RegimeRun {
                    name: r.name.clone(),
                    description: r.description.clone(),
                    summary: r.sim.summary(),
                    series: r.sim.metrics().history.clone(),
                    warmup_days: r.sim.scenario().run.warmup_days,
                    file: super::session::session_file(&r.name),
                })
                .collect(),
            log: s.log.clone(),
            participants: s.participants.len(),
            currency: s.regimes.first().map(|r| r.sim.scenario().money.currency_symbol.clone()).unwrap_or_default(),
        }
    }
}

/// The change of `m` from `base` to `option` on one run each (no interval).
fn change(m: Metric, base: f64, option: f64) -> Change {
    let difference = option - base;
    let pct_change = if base != 0.0 && base.is_finite() { 100.0 * difference / base.abs() } else { f64::NAN };
    Change {
        metric: m,
        difference,
        ci_low: f64::NAN,
        ci_high: f64::NAN,
        pct_change,
        pct_ci_low: f64::NAN,
        pct_ci_high: f64::NAN,
        clipped_low: false,
        clipped_high: false,
    }
}

/// A value with its unit where words::value leaves it out ("9.99 days"; shares and money carry theirs).
fn with_unit(m: Metric, v: f64) -> String {
    let shown = words::value(m, v);
    if m.is_share() || m.is_money() || !v.is_finite() { shown } else { format!("{shown}{}", words::unit_suffix(m)) }
}

/// "better", "worse" or "neutral" by the metric's direction (or "" when undefined).
fn direction(m: Metric, difference: f64) -> &'static str {
    if !difference.is_finite() || difference == 0.0 {
        return "";
    }
    Verdict::by_direction(m, difference).word()
}

/// The debrief page of `input`.
pub fn render(input: &Input) -> Result<String, String> {
    words::set_currency(&input.currency);
    let names: Vec<&str> = input.regimes.iter().map(|r| r.name.as_str()).collect();
    let title = format!("Debrief: {}", names.join(" vs "));
    let state = if input.day >= input.days { "the run has ended".to_string() } else { "the run is still going".to_string() };
    let lead = format!(
        "Seed {} (common random numbers), day {} of {}: {state}. {} lever change(s) logged; {} participant(s).",
        input.seed,
        input.day,
        input.days,
        input.log.len(),
        input.participants
    );
    let mut h = Html::new();
    if input.day == 0 {
        h.p("warn", "Nothing has run yet: play or step the session first, then open the debrief again.");
        return Ok(h.finish(&title, &lead));
    }
    let Some(base) = input.regimes.first() else { return Ok(h.finish(&title, &lead)) };
    let warmup = base.warmup_days;
    let windowed = input.day > warmup;

    h.h2("differences", "What differed");
    if windowed {
        h.p(
            "lead",
            &format!(
                "Over the summary window (day {warmup} to day {}), each regime against {}; better or worse by what each metric counts as better.",
                input.day.saturating_sub(1),
                base.name
            ),
        );
        let mut list = String::from("<ul class=\"headline\">");
        for r in &input.regimes[1..] {
            let _ = write!(list, "<li><b>{}</b> against {}:<ul>", esc(&r.name), esc(&base.name));
            for m in HEADLINE_METRICS {
                let (b, o) = (base.summary.get(m.name()).unwrap_or(f64::NAN), r.summary.get(m.name()).unwrap_or(f64::NAN));
                if !(b.is_finite() && o.is_finite()) {
                    continue;
                }
                let c = change(m, b, o);
                let way = direction(m, c.difference);
                let _ = write!(
                    list,
                    "<li>{}: {} ({} against {}) <span class=\"{}\">{}</span></li>",
                    esc(&words::short_label(m)),
                    esc(&c.words()),
                    esc(&with_unit(m, o)),
                    esc(&with_unit(m, b)),
                    if way.is_empty() { "neutral" } else { way },
                    way
                );
            }
            list.push_str("</ul></li>");
        }
        list.push_str("</ul>");
        h.raw(&list);
    } else {
        h.p("warn", &format!("The run has not passed its warm-up yet (day {warmup}): there is no summary window to compare. The figures show the days so far."));
    }
    let files: Vec<&str> = input.regimes.iter().map(|r| r.file.as_str()).collect();
    h.p(
        "warn",
        &format!(
            "One seed, one run per regime: these differences include run-to-run noise and are not yet evidence. \
             For intervals, export the session's scenario files below and run: sim compare {} --baseline \"{}\" --replicates 20",
            files.join(" "),
            base.name
        ),
    );

    h.h2("figures", "Figures");
    let runs: Vec<(&str, &TimeSeries)> = input.regimes.iter().map(|r| (r.name.as_str(), &r.series)).collect();
    let svgs = crate::plots::runs_svg(&runs, &format!("Workshop: {}", names.join(" vs "))).map_err(|e| e.to_string())?;
    for svg in svgs {
        let start = svg.find("<svg").unwrap_or(0);
        h.raw(&format!("<div class=\"figure\">{}</div>\n", &svg[start..]));
    }

    h.h2("summary", "Summary of each regime");
    let mut table = String::from("<table><thead><tr><th>metric</th><th>unit</th>");
    for r in &input.regimes {
        let _ = write!(table, "<th>{}</th>", esc(&r.name));
    }
    table.push_str("</tr></thead><tbody>");
    for &m in Metric::ALL.iter() {
        let values: Vec<f64> = input.regimes.iter().map(|r| r.summary.get(m.name()).unwrap_or(f64::NAN)).collect();
        if !values.iter().any(|v| v.is_finite()) {
            continue;
        }
        let _ = write!(table, "<tr><td>{}</td><td>{}</td>", esc(m.label()), esc(&m.unit_for_people(&input.currency)));
        for v in values {
            let _ = write!(table, "<td class=\"num\">{}</td>", esc(&words::value(m, v)));
        }
        table.push_str("</tr>");
    }
    table.push_str("</tbody></table>");
    h.raw(&table);

    h.h2("log", "Session log");
    if input.log.is_empty() {
        h.p("muted", "No lever was changed.");
    } else {
        let mut log = String::from(
            "<table><thead><tr><th>day</th><th>who</th><th>regime</th><th>team</th><th>lever</th><th>value</th></tr></thead><tbody>",
        );
        for e in &input.log {
            let team = e.team.map(|t| t.to_string()).unwrap_or_else(|| "all".into());
            let _ = write!(
                log,
                "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                e.day,
                esc(&e.who),
                esc(&e.regime),
                esc(&team),
                esc(&e.lever),
                esc(&e.value.to_string())
            );
        }
        log.push_str("</tbody></table>");
        h.raw(&log);
    }

    h.h2("files", "Files");
    let mut links = String::from("<ul>");
    for (i, r) in input.regimes.iter().enumerate() {
        let _ = write!(
            links,
            "<li>{}: <a href=\"/api/export?regime={i}\" download=\"{}\">{}</a> (replays with <code>sim run {} --out DIR</code>) and <a href=\"/api/timeseries?regime={i}\">timeseries.csv</a> of the days so far; {}</li>",
            esc(&r.name),
            esc(&r.file),
            esc(&r.file),
            esc(&r.file),
            esc(&r.description)
        );
    }
    links.push_str("</ul>");
    h.raw(&links);
    Ok(h.finish(&title, &lead))
}
