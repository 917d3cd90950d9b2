//! Plots of a command's outputs, drawn with plotters into PNG and SVG side by side.
//!
//! Every figure is drawn from the files the command wrote (timeseries.csv, ensemble.csv,
//! summary.csv, effects.csv, points.csv, indices.csv), never from memory, so `sim plot DIR`
//! redraws exactly what the command drew. Figures are deterministic: the same files give the same
//! SVG and PNG bytes. Text uses the built-in font ([`font`]), so nothing depends on the fonts of
//! the machine.
//!
//! | command | figures (each as .png and .svg) |
//! |---|---|
//! | run | dashboard, true_vs_reported, network_community, network_organisation |
//! | compare | dashboard, true_vs_reported, summary, effects |
//! | sweep | heatmap_P__Q (pairs of parameters), lines_P (each parameter) |
//! | sensitivity | sobol or morris and morris_mu_star |
//! | calibrate | posterior_marginals, posterior_pairs (two or more parameters), predictive_check |
//! | plot --metric M | series_M |
//!
//! A run also draws network_community and network_organisation ([`network::draw`]) from its
//! networks.json.

pub mod calibrate;
pub mod compare;
pub mod data;
pub mod figure;
pub mod font;
pub mod network;
pub mod robustness;
pub mod sensitivity;
pub mod series;
pub mod style;
pub mod sweep;

use std::io;
use std::path::{Path, PathBuf};

use data::SeriesSet;
use figure::save;
use series::{SeriesFigure, TrueVsReported};

/// Title and a one-line "how to read this" of a figure, by its file stem.
pub struct Description {
    pub title: String,
    pub how_to_read: String,
}

/// Describes the figure saved as `stem` (for the report), or `None` for a file that is not one
/// of ours.
pub fn describe(stem: &str) -> Option<Description> {
    let d = |t: &str, h: &str| Some(Description { title: t.to_string(), how_to_read: h.to_string() });
    match stem {
        "dashboard" => d(
            "Dashboard of the key metrics",
            "Each panel is one metric over time; lines are the mean over replicates and shaded bands their 95% confidence interval, clipped to the values the metric can take (a single run has no band). Horizons of 20 weeks or more are shown as 7-day means (the subtitle says), and horizons of more than two years are drawn against years. Units are on each vertical axis; an axis is never narrower than 5% of its values, so a flat line is not magnified into a slope.",
        ),
        "true_vs_reported" => d(
            "True vs reported resolution",
            "Solid lines: share of closures that truly resolved the need; dashed: share recorded as resolved. The space between a scenario's two lines is its gaming gap.",
        ),
        "summary" => d(
            "Summary per scenario",
            "Dots: each metric's run summary (after the warm-up) averaged over replicates; whiskers: 95% confidence intervals, clipped to the values the metric can take; small rings: each replicate's summary, so the spread behind the mean shows. Non-overlapping whiskers suggest a real difference; the effects plot tests it directly.",
        ),
        "effects" => d(
            "Effects against the baseline",
            "Each dot is an option minus the baseline, paired replicate by replicate (common random numbers), named under it; blue is better and vermillion worse by the metric's direction, grey no difference beyond noise (the whisker crosses the dashed zero line) or a metric where neither way is better.",
        ),
        "sobol" => d(
            "Sobol indices (S1 and ST)",
            "Parameters ordered by total effect ST (largest at the top). S1 is the share of variance a parameter explains alone; ST adds its interactions; whiskers are bootstrap 95% CIs.",
        ),
        "morris" => d(
            "Morris screening: mu* against sigma",
            "Right means influential; up means the effect changes across the space (non-linearity or interactions). Points above the dashed line have sigma > mu*.",
        ),
        "posterior_marginals" => d(
            "Marginal posteriors",
            "Each panel is one estimated parameter: bars are the posterior's weighted histogram, the solid line its median and the dashed lines its 90% credible interval. A panel as wide as the prior means the targets say little about that parameter.",
        ),
        "posterior_pairs" => d(
            "Pairwise posterior",
            "Each panel plots one pair of parameters, one dot per particle (area by weight). A tilted or curved cloud means the targets pin down a combination of the two (a trade-off) rather than each alone.",
        ),
        "predictive_check" => d(
            "Posterior predictive check",
            "Each row is a target in units of its sd from the observed value (dashed line at 0): the bar is the 90% interval of a new observation under the posterior, the dot the simulated median; blue passes (the observed value is inside), orange fails. Held-out targets are marked; they were not used in the fit.",
        ),
        "morris_mu_star" => d(
            "Morris screening: mu* in order of influence",
            "Bars: mean absolute elementary effect of each parameter, largest at the top; whiskers: bootstrap 95% CIs.",
        ),
        _ => {
            if let Some(rest) = stem.strip_prefix("heatmap_") {
                let (a, b) = rest.split_once("__").unwrap_or((rest, ""));
                d(
                    &format!("Heatmap over {a} and {b}"),
                    "Colour is each metric's mean (over replicates, and over any other parameters) at each combination, on one scale per metric shared by every heatmap of the sweep; numbers are printed where cells are large enough. Where both parameters were sampled at random (random, LHS or Sobol designs) each dot is one point at its own values instead. With a regime lever as an axis this is the phase diagram: compare along that axis to see where each regime wins.",
                )
            } else if let Some(p) = stem.strip_prefix("lines_") {
                d(
                    &format!("Metrics against {p}"),
                    "Each panel is one metric's mean over replicates against the parameter, with its 95% band; separate lines are the levels of a second parameter when the design has one.",
                )
            } else if let Some(m) = stem.strip_prefix("series_") {
                d(&format!("{m} over time"), "The mean over replicates of each scenario, with its 95% band.")
            } else {
                None
            }
        }
    }
}

/// The scenario name of a `sim run` folder (summary.json's `scenario`), or "run".
fn run_name(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("summary.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("scenario").and_then(|s| s.as_str()).map(str::to_string))
        .unwrap_or_else(|| "run".to_string())
}

/// What a series figure shows, for its subtitle.
fn series_subtitle(bands: bool, bucket: usize) -> String {
    let what = if bands { "the mean over replicates with its 95% band" } else { "one run" };
    let band_note = if bands && bucket > 1 { " (the band averages the daily 95% CIs of each bucket)" } else { "" };
    format!("Each line is {what}, as {}{band_note}; units on each vertical axis.", series::bucket_words(bucket))
}

/// The dashboard and true vs reported resolution, drawn side by side (`style::join`).
fn dashboard(set: &SeriesSet, bands: bool, title: String, dir: &Path) -> io::Result<Vec<PathBuf>> {
    let metrics = series::dashboard_metrics(set);
    let bucket = series::bucket(set.days());
    let (panels, true_vs_reported) = style::join(
        || {
            if metrics.is_empty() {
                return Ok(Vec::new());
            }
            let fig = SeriesFigure {
                set,
                metrics,
                title,
                subtitle: Some(series_subtitle(bands, bucket)),
                bands,
                columns: if style::plot_style() == style::PlotStyle::Projector { 2 } else { 4 },
                panel: (400, 300),
                bucket,
            };
            save(&fig, dir, "dashboard")
        },
        || {
            if TrueVsReported::applies(set) {
                save(&TrueVsReported { set, bands, bucket }, dir, "true_vs_reported")
            } else {
                Ok(Vec::new())
            }
        },
    );
    Ok([panels?, true_vs_reported?].concat())
}

/// The dashboard and true vs reported resolution of several runs on shared axes, one line each,
/// as SVG text (for `sim serve`'s debrief): `runs` are (name, series).
pub fn runs_svg(runs: &[(&str, &sim_core::metrics::TimeSeries)], title: &str) -> io::Result<Vec<String>> {
    let mut set = SeriesSet::default();
    for (name, series) in runs {
        set.push_run(name, series);
    }
    let mut out = Vec::new();
    let metrics = series::dashboard_metrics(&set);
    let bucket = series::bucket(set.days());
    if !metrics.is_empty() {
        let fig = SeriesFigure {
            set: &set,
            metrics,
            title: title.to_string(),
            subtitle: Some(series_subtitle(false, bucket)),
            bands: false,
            columns: 4,
            panel: (400, 300),
            bucket,
        };
        out.push(figure::render_svg(&fig)?);
    }
    if TrueVsReported::applies(&set) {
        out.push(figure::render_svg(&TrueVsReported { set: &set, bands: false, bucket })?);
    }
    Ok(out)
}

/// The figures of a `sim run` folder (timeseries.csv): the dashboard and true vs reported
/// resolution, without bands.
pub fn draw_run(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let (series, networks) = style::join(
        || {
            let name = run_name(dir);
            let set = SeriesSet::read_timeseries(&dir.join("timeseries.csv"), &name)?;
            dashboard(&set, false, format!("Run: {name}"), dir)
        },
        || draw_networks(dir),
    );
    Ok([series?, networks?].concat())
}

/// Network snapshots from a run's networks.json, when there is one: the community sample
/// coloured by trust and the organisation coloured by department, or by practice in use once
/// any team has taken up a new practice.
pub fn draw_networks(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let path = dir.join("networks.json");
    if !path.exists() {
        return Ok(Vec::new());
    }
    let snap: sim_core::model::NetworkSnapshot = serde_json::from_slice(&std::fs::read(&path)?)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display())))?;
    let (community, organisation) = style::join(
        || {
            let community = network::Graph { nodes: snap.community_nodes, edges: snap.community_edges.clone() };
            let colouring = network::Colouring::Scale { values: &snap.trust, label: "trust, 0..1" };
            network::draw(&community, colouring, "Community network (sample) by trust at the end", 1, dir, "network_community")
        },
        || {
            let org = network::Graph { nodes: snap.organisation_nodes, edges: snap.organisation_edges.clone() };
            let colouring = network::Colouring::Groups { group: &snap.organisation_group, names: &snap.organisation_group_names };
            network::draw(&org, colouring, organisation_title(&snap), 1, dir, "network_organisation")
        },
    );
    Ok([community?, organisation?].concat())
}

/// The organisation figure's title: by what the snapshot says its groups are; a networks.json
/// written before that was recorded is grouped by practice when it names the established way.
fn organisation_title(snap: &sim_core::model::NetworkSnapshot) -> &'static str {
    use sim_core::model::OrgGrouping;
    let by_practice = match snap.organisation_grouped_by {
        Some(grouping) => grouping == OrgGrouping::Practice,
        None => snap.organisation_group_names.iter().any(|n| n == "established way"),
    };
    if by_practice { "Organisation network by practice in use" } else { "Organisation network by department" }
}

/// The figures of a `sim compare` folder: the dashboard and true vs reported resolution with
/// bands (ensemble.csv), the summary dots (summary.csv) and the effects (effects.csv).
pub fn draw_compare(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let (series, summary) = style::join(
        || {
            let set = SeriesSet::read_ensemble(&dir.join("ensemble.csv"))?;
            let title = format!("Comparison: {}", set.scenarios.join(" vs "));
            dashboard(&set, true, title, dir)
        },
        || {
            let mut files = Vec::new();
            if let Some(fig) = compare::summary_figure(
                &data::read_summary(&dir.join("summary.csv"))?,
                &data::read_replicates(&dir.join("replicates.csv"))?,
            ) {
                files.extend(save(&fig, dir, "summary")?);
            }
            if let Some(fig) = compare::effects_figure(&data::read_effects(&dir.join("effects.csv"))?) {
                files.extend(save(&fig, dir, "effects")?);
            }
            io::Result::Ok(files)
        },
    );
    Ok([series?, summary?].concat())
}

/// The figures of a sweep folder (points.csv): a heatmap for each pair of parameters (at most
/// [`sweep::MAX_PAIRS`]) and the metrics against each parameter. Draws into `dir`; returns the
/// files written.
pub fn draw_sweep(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let points = data::read_points(&dir.join("points.csv"))?;
    let axes = sweep::axes(&points);
    let metrics = sweep::panel_metrics(&points);
    if metrics.is_empty() {
        return Ok(Vec::new());
    }
    // Heatmaps (Some(pair)), then lines (None, an axis): drawn side by side, listed in this order.
    let pairs = (0..axes.len()).flat_map(|i| (i + 1..axes.len()).map(move |j| (Some(i), j))).take(sweep::MAX_PAIRS);
    let figures: Vec<(Option<usize>, usize)> = pairs.chain((0..axes.len()).map(|x| (None, x))).collect();
    let drawn = style::par_map(&figures, |&(pair, j)| match pair {
        Some(i) => {
            // A regime lever goes on the horizontal axis.
            let (x, y) = if axes[j].is_regime() && !axes[i].is_regime() { (j, i) } else { (i, j) };
            let fig = sweep::Heatmap { points: &points, x: (x, &axes[x]), y: (y, &axes[y]), metrics: metrics.clone() };
            save(&fig, dir, &sweep::heatmap_stem(&axes[x].name, &axes[y].name))
        }
        None => {
            let split = sweep::split_for(&axes, j).map(|s| (s, &axes[s]));
            let fig = sweep::Lines { points: &points, x: (j, &axes[j]), split, metrics: metrics.clone() };
            save(&fig, dir, &sweep::lines_stem(&axes[j].name))
        }
    });
    Ok(drawn.into_iter().collect::<io::Result<Vec<_>>>()?.concat())
}

/// The figures of a sensitivity folder (indices.csv): Sobol S1/ST bars, or the Morris mu*-sigma
/// scatter and mu* bars. Draws into `dir`; returns the files written.
pub fn draw_sensitivity(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let rows = data::read_indices(&dir.join("indices.csv"))?;
    // Drawn side by side, listed in this order.
    let drawn = style::par_map(&["sobol", "morris", "morris_mu_star"], |&stem| {
        let none = || Ok(Vec::new());
        match stem {
            "sobol" => sensitivity::sobol_figure(&rows).map_or_else(none, |fig| save(&fig, dir, stem)),
            "morris" => sensitivity::morris_scatter_figure(&rows).map_or_else(none, |fig| save(&fig, dir, stem)),
            _ => sensitivity::morris_bars_figure(&rows).map_or_else(none, |fig| save(&fig, dir, stem)),
        }
    });
    Ok(drawn.into_iter().collect::<io::Result<Vec<_>>>()?.concat())
}

/// One figure per metric in `metrics` (`series_METRIC`): its daily mean per scenario with the 95%
/// band, from ensemble.csv or (without bands) timeseries.csv. Unknown metrics are an error
/// naming the ones the file holds.
pub fn draw_metric_series(dir: &Path, metrics: &[String]) -> io::Result<Vec<PathBuf>> {
    let (set, bands) = if dir.join("ensemble.csv").exists() {
        (SeriesSet::read_ensemble(&dir.join("ensemble.csv"))?, true)
    } else {
        (SeriesSet::read_timeseries(&dir.join("timeseries.csv"), &run_name(dir))?, false)
    };
    let mut files = Vec::new();
    for m in metrics {
        if !set.metrics.contains(m) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("no metric `{m}` in the series; they are: {}", set.metrics.join(", ")),
            ));
        }
        let bucket = series::bucket(set.days());
        let subtitle = Some(series_subtitle(bands, bucket));
        let fig = SeriesFigure {
            set: &set,
            metrics: vec![m.clone()],
            title: style::with_unit(m),
            subtitle,
            bands,
            columns: 1,
            panel: (1000, 520),
            bucket,
        };
        files.extend(save(&fig, dir, &format!("series_{}", style::file_stem(m)))?);
    }
    Ok(files)
}

/// Every figure of a finished command's folder, by the command that wrote it ("run", "compare",
/// "sweep" or "merge", "sensitivity").
pub fn draw_for(command: &str, dir: &Path) -> io::Result<Vec<PathBuf>> {
    match command {
        "run" => draw_run(dir),
        "compare" => draw_compare(dir),
        "sweep" | "merge" => draw_sweep(dir),
        "sensitivity" => draw_sensitivity(dir),
        "calibrate" => calibrate::draw(dir),
        other => Err(io::Error::new(io::ErrorKind::InvalidInput, format!("manifest.json: no plots for command `{other}`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::organisation_title;
    use sim_core::model::{NetworkSnapshot, OrgGrouping};

    #[test]
    fn the_organisation_title_follows_the_recorded_grouping_and_reads_older_files_by_name() {
        let practice_names: Vec<String> = ["established way", "better practice"].map(String::from).to_vec();
        let department_names: Vec<String> = ["stage 0", "management"].map(String::from).to_vec();
        let snap = |grouped_by, names: &[String]| NetworkSnapshot {
            organisation_group_names: names.to_vec(),
            organisation_grouped_by: grouped_by,
            ..NetworkSnapshot::default()
        };
        let by_practice = "Organisation network by practice in use";
        let by_department = "Organisation network by department";
        // Recorded: the record decides, whatever the names say.
        assert_eq!(organisation_title(&snap(Some(OrgGrouping::Practice), &department_names)), by_practice);
        assert_eq!(organisation_title(&snap(Some(OrgGrouping::Department), &practice_names)), by_department);
        // Older files: by the names.
        assert_eq!(organisation_title(&snap(None, &practice_names)), by_practice);
        assert_eq!(organisation_title(&snap(None, &department_names)), by_department);
        // The field reads back from JSON as written, and an older file without it reads as None.
        let written = serde_json::to_string(&snap(Some(OrgGrouping::Practice), &practice_names)).unwrap();
        assert!(written.contains(r#""organisation_grouped_by":"practice""#), "{written}");
        let mut old: serde_json::Value = serde_json::from_str(&written).unwrap();
        old.as_object_mut().unwrap().remove("organisation_grouped_by");
        let read: NetworkSnapshot = serde_json::from_value(old).unwrap();
        assert_eq!(read.organisation_grouped_by, None);
    }
}
