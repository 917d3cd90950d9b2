//! `sim patterns`: the validation suite (sim_core::validation). Runs every named pattern of
//! MODEL.md §7 and §9 (or those given with --only) over >= 20 seeds, prints the table (pattern,
//! MODEL.md reference, source, expected, observed with its 95% CI, pass) and writes
//! patterns.csv, patterns.md, the plot patterns.png/.svg and manifest.json into --out through a
//! staging folder. With --robustness it then re-runs each pattern over a Latin hypercube of its
//! uncertain parameters (MODEL.md §10), labels it ROBUST or CONDITIONAL with the region where it
//! fails, and adds robustness.csv, robustness_summary.csv, robustness.md and a plot per
//! conditional pattern. Exit 0 when every pattern run passes, 1 when any fails (a pattern the
//! model does not have counts as failed; a CONDITIONAL label is a finding, not a failure), 2 for
//! bad arguments.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use sim_core::validation::{Expect, Label, PATTERNS, Pattern, PatternResult, ROBUST_SHARE, Robustness, RobustnessSettings, Scale, find};

use crate::CliError;
use crate::describe::{Format, Table};
use crate::output::{OutDir, number, write_json};
use crate::plots::compare::{Dot, DotPanels};
use crate::plots::figure::{Key, Mark, save};
use crate::plots::robustness::PassFail;
use crate::words::significant;

const EXAMPLES: &str = "\
Examples:
  sim patterns                                   every pattern, 20 seeds each, into ./sim-out/patterns
  sim patterns --seeds 40 --format markdown      40 seeds, the table as Markdown
  sim patterns --only failure_demand_higher_under_top_down gaming_gap_higher_under_top_down
  sim patterns --list                            the patterns' ids, references and set-ups, without running
  sim patterns --quick --seeds 3 --only equal_good_and_bad_encounters_lower_trust --format csv
                                                 a smoke test: quarter-scale set-ups, few seeds (not evidence)
  sim patterns --update-doc docs/validation.md   run, then rewrite the table in the doc
  sim patterns --robustness                      verdicts, then each pattern over a Latin hypercube of
                                                 its uncertain parameters: 32 points x 4 seeds per arm
  sim patterns --robustness --out docs/validation --update-doc docs/validation.md
                                                 regenerate both generated sections of the doc
  sim patterns --robustness --quick --seeds 3 --points 8 --robust-seeds 2 --only equal_good_and_bad_encounters_lower_trust
                                                 a smoke test of the robustness machinery (not evidence)

Exit status: 0 when every pattern run passes, 1 when any fails (patterns the model does not
have count as failures; a CONDITIONAL robustness label does not change it), 2 for bad arguments
(e.g. fewer than 20 seeds, or fewer than 32 robustness points, without --quick).

Robustness (MODEL.md §10): each pattern lists the uncertain mechanism parameters it rests on with a
plausible range (`sim patterns --list` shows them). At every point of a Latin hypercube over them
(McKay et al. 1979) the pattern runs with those values on top of its own set-up, every arm with
the same --robust-seeds seeds; the direction holds at the point when every check's mean lies on
the expected side of the bound. ROBUST: it holds at >= 90% of the points; CONDITIONAL otherwise,
with the single-parameter threshold that best separates failing from passing points (Youden's J).";

#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct PatternsArgs {
    /// Seeds per arm of each pattern (at least 20 unless --quick; default 20, with --quick 5).
    #[arg(long)]
    seeds: Option<u64>,
    /// Quarter-scale set-ups (population, staff and funding / 4) and any seed count: a smoke
    /// test of the machinery, whose verdicts are not evidence.
    #[arg(long)]
    quick: bool,
    /// Run only these patterns (ids as `--list` prints them).
    #[arg(long, value_name = "ID", num_args = 1..)]
    only: Vec<String>,
    /// Table format on stdout: aligned text, Markdown, or CSV (the same as patterns.csv).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Output folder.
    #[arg(long, default_value = "sim-out/patterns")]
    out: PathBuf,
    /// Print the registry (id, reference, source, expected, set-up) and exit without running.
    #[arg(long)]
    list: bool,
    /// After running, rewrite the `<!-- BEGIN GENERATED: patterns -->` section of this Markdown
    /// file with the Markdown table and a line giving the date, commit, seeds and wall time.
    #[arg(long, value_name = "FILE")]
    update_doc: Option<PathBuf>,
    /// After the verdicts, re-run each pattern over a Latin hypercube of its uncertain parameters
    /// and label it ROBUST (direction holds at >= 90% of points) or CONDITIONAL; with
    /// --update-doc also rewrites the `robustness` generated section.
    #[arg(long)]
    robustness: bool,
    /// Latin-hypercube points per pattern for --robustness (at least 32 unless --quick; default 32).
    #[arg(long, value_name = "N", requires = "robustness")]
    points: Option<usize>,
    /// Seeds per arm at each robustness point, paired across arms (1 to 1000; default 4).
    #[arg(long, value_name = "N", requires = "robustness", value_parser = clap::value_parser!(u64).range(1..=1000))]
    robust_seeds: Option<u64>,
}

pub fn patterns(args: PatternsArgs, command_line: &[String]) -> Result<(), CliError> {
    let chosen: Vec<&'static Pattern> = if args.only.is_empty() {
        PATTERNS.iter().collect()
    } else {
        args.only
            .iter()
            .map(|id| {
                find(id).ok_or_else(|| {
                    let ids: Vec<&str> = PATTERNS.iter().map(|p| p.id).collect();
                    CliError::BadInput(format!("--only {id}: no such pattern; the patterns are: {}", ids.join(", ")))
                })
            })
            .collect::<Result<_, _>>()?
    };
    if args.list {
        let mut t =
            Table::new(&["pattern", "ref", "source", "expected", "criterion", "set-up", "uncertain parameters (robustness ranges)"]);
        for p in &chosen {
            t.push(vec![p.id.into(), p.reference.into(), p.source.into(), p.expected.into(), p.expect.words(), p.setup.into(), ranges(p)]);
        }
        print!("{}", t.render(args.format));
        return Ok(());
    }
    let seeds = args.seeds.unwrap_or(if args.quick { 5 } else { 20 });
    if seeds < 20 && !args.quick {
        return Err(CliError::BadInput(format!("--seeds {seeds}: a pattern needs at least 20 seeds (use --quick for a smoke test)")));
    }
    if seeds < 2 {
        return Err(CliError::BadInput(format!("--seeds {seeds}: a confidence interval needs at least 2 seeds")));
    }
    let points = args.points.unwrap_or(32);
    let robust_seeds = args.robust_seeds.unwrap_or(4);
    if args.robustness && points < 32 && !args.quick {
        return Err(CliError::BadInput(format!(
            "--points {points}: a robustness label needs at least 32 points (use --quick for a smoke test)"
        )));
    }
    if args.robustness && points == 0 {
        return Err(CliError::BadInput("--points 0: a robustness run needs at least one point".into()));
    }
    let scale = if args.quick { Scale::Quick } else { Scale::Full };
    let inputs: Vec<&std::path::Path> = args.update_doc.iter().map(PathBuf::as_path).collect();
    let dest = OutDir::prepare(&args.out, &inputs)?;
    let started = SystemTime::now();
    let clock = Instant::now();
    let mut results = Vec::with_capacity(chosen.len());
    for (k, p) in chosen.iter().enumerate() {
        if !crate::ui::quiet() {
            eprint!("[{}/{}] {} ({}) ... ", k + 1, chosen.len(), p.id, p.reference);
        }
        let r = p.evaluate(seeds, scale);
        crate::note!("{} in {:.1} s (total {:.0} s)", verdict(&r), r.seconds, clock.elapsed().as_secs_f64());
        results.push(r);
    }
    let verdict_wall = clock.elapsed().as_secs_f64();
    let failed = results.iter().filter(|r| !r.pass).count();
    let robust: Vec<Robustness> = if args.robustness {
        let settings = RobustnessSettings { points, seeds: robust_seeds, scale };
        let clock = Instant::now();
        chosen
            .iter()
            .enumerate()
            .map(|(k, p)| {
                if !crate::ui::quiet() {
                    eprint!(
                        "[{}/{}] robustness of {} over {} parameters: {points} points x {robust_seeds} seeds ... ",
                        k + 1,
                        chosen.len(),
                        p.id,
                        p.uncertain.len()
                    );
                }
                let bar = ProgressBar::new(points as u64).with_style(
                    ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} points, ETA {eta}")
                        .expect("valid template")
                        .progress_chars("=> "),
                );
                if crate::ui::quiet() {
                    bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
                }
                let r = p.robustness(settings, &|| bar.inc(1));
                bar.finish_and_clear();
                crate::note!(
                    "{} ({} of {} points) in {:.1} s (total {:.0} s)",
                    r.label.words(),
                    r.holding(),
                    r.points.len(),
                    r.seconds,
                    clock.elapsed().as_secs_f64()
                );
                r
            })
            .collect()
    } else {
        Vec::new()
    };
    let wall = clock.elapsed().as_secs_f64();

    let staging = dest.staging()?;
    let io = |e: std::io::Error| dest.failed(e);
    std::fs::write(staging.path().join("patterns.csv"), csv(&results)).map_err(io)?;
    std::fs::write(staging.path().join("patterns.md"), table(&results, Format::Markdown)).map_err(io)?;
    let manifest = Manifest {
        sim_version: env!("CARGO_PKG_VERSION"),
        git_commit: option_env!("SIM_GIT_COMMIT").filter(|c| !c.is_empty()),
        command: "patterns",
        command_line: command_line.to_vec(),
        scale: if args.quick { "quick" } else { "full" },
        seeds_per_arm: seeds,
        patterns: results.iter().map(|r| r.pattern.id).collect(),
        passed: results.len() - failed,
        failed,
        robustness: args.robustness.then(|| RobustnessManifest {
            points,
            seeds_per_arm: robust_seeds,
            robust_share: ROBUST_SHARE,
            seed_rule: "replicate r at point p of a pattern with seed master (m, _) runs with run_seed(m, 1000 + p, r) in every arm",
            robust: robust.iter().filter(|r| r.label == Label::Robust).count(),
            conditional: robust.iter().filter(|r| r.label == Label::Conditional).count(),
            wall_time_seconds: wall - verdict_wall,
        }),
        start_time: humantime::format_rfc3339_seconds(started).to_string(),
        wall_time_seconds: wall,
    };
    write_json(&staging.path().join("manifest.json"), &manifest).map_err(io)?;
    let mut plots = save(&figure(&results, seeds, args.quick), staging.path(), "patterns").map(|_| ()).map_err(|e| e.to_string());
    if args.robustness {
        std::fs::write(staging.path().join("robustness.csv"), robustness_csv(&robust)).map_err(io)?;
        std::fs::write(staging.path().join("robustness_summary.csv"), robustness_summary_csv(&robust, &results)).map_err(io)?;
        std::fs::write(staging.path().join("robustness.md"), robustness_table(&robust, &results, Format::Markdown)).map_err(io)?;
        for r in robust.iter().filter(|r| r.label == Label::Conditional && !r.points.is_empty()) {
            let drawn = save(&pass_fail(r, args.quick), staging.path(), &format!("robustness_{}", r.pattern.id))
                .map(|_| ())
                .map_err(|e| e.to_string());
            if plots.is_ok() {
                plots = drawn;
            }
        }
    }
    let written = staging.commit(plots)?;

    print!("{}", if args.format == Format::Csv { csv(&results) } else { table(&results, args.format) });
    if args.robustness {
        if args.format != Format::Csv {
            println!();
        }
        print!(
            "{}",
            if args.format == Format::Csv {
                robustness_summary_csv(&robust, &results)
            } else {
                robustness_table(&robust, &results, args.format)
            }
        );
    }
    crate::note!(
        "{} of {} patterns passed ({} seeds per arm, {} scale) in {:.0} s",
        results.len() - failed,
        results.len(),
        seeds,
        if args.quick { "quick" } else { "full" },
        wall,
    );
    if args.robustness {
        crate::note!(
            "robustness: {} ROBUST, {} CONDITIONAL of {} patterns ({points} points x {robust_seeds} seeds per arm) in {:.0} s",
            robust.iter().filter(|r| r.label == Label::Robust).count(),
            robust.iter().filter(|r| r.label == Label::Conditional).count(),
            robust.len(),
            wall - verdict_wall
        );
    }
    // The table is stdout's content in Markdown or CSV, so the paths go to stderr there.
    if args.format == Format::Text {
        crate::ui::wrote(crate::ui::Format::Text, "patterns", dest.shown(), &written.files);
    } else {
        crate::note!("wrote {}: {}", dest.shown().display(), written.files.join(", "));
    }
    written.check_plots(&dest)?;
    if let Some(doc) = &args.update_doc {
        let text = std::fs::read_to_string(doc).map_err(|e| CliError::BadInput(format!("{}: cannot read: {e}", doc.display())))?;
        let when = humantime::format_rfc3339_seconds(started).to_string();
        let commit = option_env!("SIM_GIT_COMMIT").filter(|c| !c.is_empty()).unwrap_or("unknown");
        let content = format!(
            "Generated by `{}` on {when} (commit {commit}): {} of {} patterns passed, {seeds} seeds per arm, {} scale, wall time {:.0} s on this machine.\n\n{}",
            command_line.iter().skip(1).fold("sim".to_string(), |a, b| a + " " + b),
            results.len() - failed,
            results.len(),
            if args.quick { "quick" } else { "full" },
            verdict_wall,
            table(&results, Format::Markdown)
        );
        let new = crate::describe::replace_section(&text, "patterns", &content)
            .map_err(|e| CliError::BadInput(format!("{}: {e}", doc.display())))?;
        let new = if args.robustness {
            let content = format!(
                "Generated by `{}` on {when} (commit {commit}): {} of {} patterns ROBUST, {} CONDITIONAL; {points} Latin-hypercube points per pattern, {robust_seeds} seeds per arm at each point, {} scale, robustness wall time {:.0} s on this machine.\n\n{}",
                command_line.iter().skip(1).fold("sim".to_string(), |a, b| a + " " + b),
                robust.iter().filter(|r| r.label == Label::Robust).count(),
                robust.len(),
                robust.iter().filter(|r| r.label == Label::Conditional).count(),
                if args.quick { "quick" } else { "full" },
                wall - verdict_wall,
                robustness_table(&robust, &results, Format::Markdown)
            );
            crate::describe::replace_section(&new, "robustness", &content)
                .map_err(|e| CliError::BadInput(format!("{}: {e}", doc.display())))?
        } else {
            new
        };
        std::fs::write(doc, new).map_err(|e| CliError::Failed(format!("{}: {e}", doc.display())))?;
        eprintln!(
            "{}: rewrote the generated section{}",
            doc.display(),
            if args.robustness { "s `patterns` and `robustness`" } else { " `patterns`" }
        );
    }
    if failed > 0 {
        let ids: Vec<&str> = results.iter().filter(|r| !r.pass).map(|r| r.pattern.id).collect();
        return Err(CliError::Failed(format!("{failed} of {} patterns did not pass: {}", results.len(), ids.join(", "))));
    }
    Ok(())
}

#[derive(Serialize)]
struct Manifest {
    sim_version: &'static str,
    git_commit: Option<&'static str>,
    command: &'static str,
    command_line: Vec<String>,
    scale: &'static str,
    seeds_per_arm: u64,
    patterns: Vec<&'static str>,
    passed: usize,
    failed: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    robustness: Option<RobustnessManifest>,
    start_time: String,
    wall_time_seconds: f64,
}

#[derive(Serialize)]
struct RobustnessManifest {
    points: usize,
    seeds_per_arm: u64,
    robust_share: f64,
    seed_rule: &'static str,
    robust: usize,
    conditional: usize,
    wall_time_seconds: f64,
}

fn verdict(r: &PatternResult) -> &'static str {
    if !r.pattern.modelled() {
        "not modelled"
    } else if r.pass {
        "pass"
    } else {
        "FAIL"
    }
}

/// The observed column: the check the verdict hinges on, with its CI and unit.
fn observed(r: &PatternResult) -> String {
    match r.binding() {
        None => "not modelled".into(),
        Some(c) => {
            let mut s = format!(
                "{}: {} [{}, {}] {}",
                c.label,
                significant(c.mean, 3),
                significant(c.ci_low, 3),
                significant(c.ci_high, 3),
                r.observed.unit
            );
            let n = r.observed.checks.len();
            if n > 1 {
                let _ = write!(s, " (weakest of {n} checks)");
            }
            let _ = write!(s, "; n={}", r.observed.seeds);
            s
        }
    }
}

fn table(results: &[PatternResult], format: Format) -> String {
    let mut t = Table::new(&["pattern", "ref", "source", "expected", "observed (mean [95% CI])", "pass"]);
    for r in results {
        let p = r.pattern;
        let expected = format!("{} ({})", p.expected, p.expect.words());
        t.push(vec![p.id.into(), p.reference.into(), p.source.into(), expected, observed(r), verdict(r).into()]);
    }
    t.render(format)
}

/// patterns.csv: one row per check (kind `check`; one row with an empty check for a pattern not
/// modelled) and per informational estimate (kind `extra`), so pandas and R read it as a tidy table.
fn csv(results: &[PatternResult]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "pattern",
        "reference",
        "source",
        "expected",
        "criterion",
        "check",
        "mean",
        "ci_low",
        "ci_high",
        "unit",
        "seeds",
        "check_pass",
        "pass",
        "status",
        "seconds",
        "kind",
    ];
    w.write_record(header).expect("writing to memory");
    for r in results {
        let p = r.pattern;
        let base = |check: &str, m: f64, lo: f64, hi: f64, check_pass: &str, kind: &str| {
            vec![
                p.id.to_string(),
                p.reference.to_string(),
                p.source.to_string(),
                p.expected.to_string(),
                p.expect.words(),
                check.to_string(),
                number(m),
                number(lo),
                number(hi),
                r.observed.unit.clone(),
                r.observed.seeds.to_string(),
                check_pass.to_string(),
                r.pass.to_string(),
                verdict(r).to_lowercase(),
                format!("{:.2}", r.seconds),
                kind.to_string(),
            ]
        };
        if r.observed.checks.is_empty() {
            w.write_record(base("", f64::NAN, f64::NAN, f64::NAN, "false", "check")).expect("writing to memory");
        }
        for c in &r.observed.checks {
            let ok = match p.expect {
                Expect::Above(b) => c.ci_low > b,
                Expect::Below(b) => c.ci_high < b,
                Expect::NotModelled => false,
            };
            w.write_record(base(&c.label, c.mean, c.ci_low, c.ci_high, &ok.to_string(), "check")).expect("writing to memory");
        }
        // Informational estimates (levels of each arm, sizes against the literature): not part of
        // the verdict, so check_pass is empty; their unit may differ from the checks' (see label).
        for c in &r.observed.extras {
            w.write_record(base(&c.label, c.mean, c.ci_low, c.ci_high, "", "extra")).expect("writing to memory");
        }
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("UTF-8")
}

const PASS: plotters::style::RGBColor = plotters::style::RGBColor(0x00, 0x9E, 0x73);
const FAIL: plotters::style::RGBColor = plotters::style::RGBColor(0xD5, 0x5E, 0x00);

/// One panel per pattern: each check's mean (dot) and 95% CI (whisker) against the dashed zero
/// line, green where the check passes, orange where it fails.
fn figure(results: &[PatternResult], seeds: u64, quick: bool) -> DotPanels {
    let panels = results
        .iter()
        .map(|r| {
            let dots = r
                .observed
                .checks
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let ok = match r.pattern.expect {
                        Expect::Above(b) => c.ci_low > b,
                        Expect::Below(b) => c.ci_high < b,
                        Expect::NotModelled => false,
                    };
                    Dot {
                        label: if r.observed.checks.len() > 1 { format!("{}", i + 1) } else { String::new() },
                        colour: if ok { PASS } else { FAIL },
                        value: c.mean,
                        lo: c.ci_low,
                        hi: c.ci_high,
                        replicates: Vec::new(),
                    }
                })
                .collect();
            let want = match r.pattern.expect {
                Expect::Above(_) => " (expect > 0)",
                Expect::Below(_) => " (expect < 0)",
                Expect::NotModelled => "",
            };
            (format!("{} {}", r.pattern.reference, short(r.pattern.id)), format!("{}{want}", r.observed.unit), dots)
        })
        .collect();
    DotPanels {
        title: "Validation patterns: observed effect and 95% CI".into(),
        subtitle: format!(
            "One panel per pattern of MODEL.md §7 and §9; numbered dots are a pattern's checks (see patterns.csv). {seeds} seeds per arm{}.",
            if quick { ", quick scale (not evidence)" } else { "" }
        ),
        keys: vec![
            Key::new("check passes (CI clear of 0 on the expected side)", PASS, Mark::Dot),
            Key::new("check fails", FAIL, Mark::Dot),
        ],
        panels,
        zero_line: true,
        panel: (470, 300),
        empty_message: "not modelled",
    }
}

/// A pattern id short enough for a panel caption.
fn short(id: &str) -> String {
    const MAX: usize = 40;
    if id.chars().count() <= MAX { id.to_string() } else { format!("{}…", id.chars().take(MAX - 1).collect::<String>()) }
}

/// A pattern's uncertain parameters and their ranges, e.g. "effort.alpha [-1, -0.3]; ...".
fn ranges(p: &Pattern) -> String {
    p.uncertain.iter().map(|u| format!("{} [{}, {}]", u.path, u.low, u.high)).collect::<Vec<_>>().join("; ")
}

/// The verdict at the defaults of the pattern a robustness result belongs to.
fn verdict_of<'a>(r: &Robustness, results: &'a [PatternResult]) -> &'a str {
    results.iter().find(|v| v.pattern.id == r.pattern.id).map(verdict).unwrap_or("")
}

/// The robustness table: each pattern's verdict at its defaults and its label, where it fails,
/// and what was varied.
fn robustness_table(robust: &[Robustness], results: &[PatternResult], format: Format) -> String {
    let mut t = Table::new(&["pattern", "ref", "verdict", "robustness", "holds at", "where it fails", "uncertain parameters (ranges)"]);
    for r in robust {
        t.push(vec![
            r.pattern.id.into(),
            r.pattern.reference.into(),
            verdict_of(r, results).into(),
            r.label.words().into(),
            format!("{} of {} points", r.holding(), r.points.len()),
            if r.region.is_empty() { "-".into() } else { r.region.clone() },
            ranges(r.pattern),
        ]);
    }
    t.render(format)
}

/// robustness.csv, long (tidy) form: one row per pattern, point and parameter value or check mean
/// (kind `parameter` or `check`), with whether the direction holds at the point; pivot on `name`
/// for one row per point.
fn robustness_csv(robust: &[Robustness]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["pattern", "point", "kind", "name", "value", "holds"]).expect("writing to memory");
    for r in robust {
        for (k, p) in r.points.iter().enumerate() {
            let row = |kind: &str, name: &str, v: f64| {
                vec![r.pattern.id.to_string(), k.to_string(), kind.to_string(), name.to_string(), number(v), p.holds.to_string()]
            };
            for (u, v) in r.pattern.uncertain.iter().zip(&p.values) {
                w.write_record(row("parameter", u.path, *v)).expect("writing to memory");
            }
            for (c, v) in r.checks.iter().zip(&p.means) {
                w.write_record(row("check", c, *v)).expect("writing to memory");
            }
        }
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("UTF-8")
}

/// robustness_summary.csv: one row per pattern.
fn robustness_summary_csv(robust: &[Robustness], results: &[PatternResult]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "pattern",
        "reference",
        "verdict",
        "points",
        "seeds_per_arm",
        "holding",
        "share_holding",
        "label",
        "region",
        "best_parameter",
        "best_threshold",
        "best_direction",
        "best_youden",
        "seconds",
    ])
    .expect("writing to memory");
    for r in robust {
        let best = r.splits.first();
        w.write_record([
            r.pattern.id.to_string(),
            r.pattern.reference.to_string(),
            verdict_of(r, results).to_lowercase(),
            r.points.len().to_string(),
            r.settings.seeds.to_string(),
            r.holding().to_string(),
            number(r.share()),
            r.label.words().to_string(),
            r.region.clone(),
            best.map(|s| r.pattern.uncertain[s.parameter].path.to_string()).unwrap_or_default(),
            best.map(|s| number(s.threshold)).unwrap_or_default(),
            best.map(|s| if s.above { "above" } else { "below" }.to_string()).unwrap_or_default(),
            best.map(|s| number(s.youden)).unwrap_or_default(),
            format!("{:.2}", r.seconds),
        ])
        .expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("UTF-8")
}

/// The pass/fail plot of a conditional pattern on its two most separating parameters (the best
/// and the next; with one parameter, the first other one).
fn pass_fail(r: &Robustness, quick: bool) -> PassFail {
    let u = r.pattern.uncertain;
    let a = r.splits.first().map_or(0, |s| s.parameter);
    let b = r.splits.iter().map(|s| s.parameter).find(|&p| p != a).unwrap_or(if a == 0 { 1.min(u.len() - 1) } else { 0 });
    PassFail {
        title: format!("{} {}: {}", r.pattern.reference, r.pattern.id, r.label.words()),
        subtitle: format!(
            "{}. Each dot a Latin-hypercube point ({} seeds per arm{}).",
            r.region,
            r.settings.seeds,
            if quick { ", quick scale: not evidence" } else { "" }
        ),
        x: (u[a].path.to_string(), u[a].low, u[a].high),
        y: (u[b].path.to_string(), u[b].low, u[b].high),
        points: r.points.iter().map(|p| (p.values[a], p.values[b], p.holds)).collect(),
        threshold: r.splits.first().map(|s| (true, s.threshold)),
    }
}
