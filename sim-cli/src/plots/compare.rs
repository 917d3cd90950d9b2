//! Summary comparison of `sim compare`: each key metric's run summary per scenario as a dot (the
//! mean over replicates) with a whisker (its 95% CI) and each replicate's summary as a small ring
//! beside it, and the effects (each option minus the baseline, paired over replicates) with their
//! CIs against a zero line, coloured better or worse by the metric's direction. One panel per
//! metric, since units differ; panels are captioned with the metric's label in words, and the
//! names under the dots are shortened to the room each has, so they never overprint.

use plotters::prelude::*;

use std::collections::BTreeMap;

use sim_core::metrics::Metric;

use super::data::{EffectRow, SummaryRow, unique};
use super::figure::{self, Area, DrawResult, Figure, FixedTicks, Header, Key, Mark};
use super::style::{self, CAPTION, DARK, GREY, LABEL, LIGHT_GREY, TICK, Ticks};
use crate::words::Verdict;

/// The metrics of the summary and effects figures, in panel order; the dashboard of daily series
/// shows the same less the true resolution rate. `harm_rate` has values only where a need type
/// carries a risk of harm (scenarios/safety-protocol.toml), so it shows only there.
pub const KEY_METRICS: [&str; 11] = [
    "failure_demand_share",
    "backlog",
    "wait_mean_days",
    "cost_per_resolved_need",
    "burnout_mean",
    "trust_mean",
    "wellbeing_gini",
    "wellbeing_mean",
    "gaming_gap",
    "true_resolution_rate",
    "harm_rate",
];

/// The key metrics that `has` holds (in [`KEY_METRICS`] order), with `wellbeing_mean` only when
/// there is no `wellbeing_gini`.
pub fn key_metrics(has: impl Fn(&str) -> bool) -> Vec<String> {
    let gini = has("wellbeing_gini");
    KEY_METRICS.iter().filter(|&&m| has(m) && !(m == "wellbeing_mean" && gini)).map(|m| m.to_string()).collect()
}

/// One dot with its whisker: a label on the category axis, a value and its CI.
#[derive(Debug, Clone)]
pub struct Dot {
    pub label: String,
    pub colour: RGBColor,
    pub value: f64,
    pub lo: f64,
    pub hi: f64,
    /// Each replicate's value, drawn as small rings beside the dot (none: no rings).
    pub replicates: Vec<f64>,
}

/// A grid of dot-and-whisker panels (also drawn by `sim patterns`).
pub struct DotPanels {
    pub title: String,
    pub subtitle: String,
    pub keys: Vec<Key>,
    /// Panel caption, y-axis label, dots.
    pub panels: Vec<(String, String, Vec<Dot>)>,
    /// Draw a dashed line at zero (for differences).
    pub zero_line: bool,
    /// Width and height of one panel in pixels.
    pub panel: (u32, u32),
    /// What a panel without values says.
    pub empty_message: &'static str,
}

pub const PANEL: (u32, u32) = (380, 330);
/// Panels per row: three for up to nine panels (a 3 x 3 block rather than a ragged 4 + 4 + 1),
/// four beyond.
fn columns(n: usize) -> usize {
    if style::plot_style() == style::PlotStyle::Projector {
        // Few, large panels for a room.
        n.clamp(1, 2)
    } else if n <= 4 && n != 3 {
        n.max(1)
    } else if n <= 9 && n != 8 {
        3
    } else {
        4
    }
}

impl DotPanels {
    fn header(&self) -> Header<'_> {
        Header { title: &self.title, subtitle: Some(&self.subtitle), keys: &self.keys }
    }
}

impl Figure for DotPanels {
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = figure::grid(self.panels.len(), columns(self.panels.len()));
        let w = style::px(self.panel.0) * cols as u32;
        (w, self.header().height(w) + rows as u32 * style::px(self.panel.1))
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        let body = self.header().draw(root)?;
        let areas = body.split_evenly(figure::grid(self.panels.len(), columns(self.panels.len())));
        for (area, (caption, y_desc, dots)) in areas.iter().zip(&self.panels) {
            dot_panel(area, caption, y_desc, dots, self.zero_line, self.empty_message)?;
        }
        Ok(())
    }
}

fn dot_panel<DB: DrawingBackend>(
    area: &Area<DB>,
    caption: &str,
    y_desc: &str,
    dots: &[Dot],
    zero_line: bool,
    empty: &str,
) -> DrawResult<DB> {
    if !dots.iter().any(|d| d.value.is_finite()) {
        return figure::empty_panel(area, caption, empty);
    }
    let zero = if zero_line { Some(0.0) } else { None };
    let (y0, y1) = style::padded_range(dots.iter().flat_map(|d| [d.value, d.lo, d.hi]).chain(d_reps(dots)).chain(zero));
    let ticks = Ticks::for_range(y0, y1);
    let n = dots.len();
    // Each name gets the width of its category, less a gap; longer names are shortened.
    let room = (area.dim_in_pixel().0 as i64 - figure::y_label_room(&ticks, y0, y1) as i64 - 40).max(40) / n.max(1) as i64 - 8;
    let labels: Vec<String> = dots.iter().map(|d| fit(&d.label, room.max(8) as u32, TICK)).collect();
    let x = FixedTicks::categories(n);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, style::text(CAPTION))
        .margin(8)
        .margin_right(16)
        .x_label_area_size(style::px(34))
        .y_label_area_size(figure::y_label_room(&ticks, y0, y1))
        .build_cartesian_2d(x, y0..y1)?;
    chart
        .configure_mesh()
        .y_desc(y_desc)
        .y_labels(6)
        .x_label_formatter(&|v| labels.get(v.round().max(0.0) as usize).cloned().unwrap_or_default())
        .y_label_formatter(&|v| ticks.format(*v))
        .label_style(style::text(TICK))
        .axis_desc_style(style::text(LABEL))
        .bold_line_style(LIGHT_GREY)
        .light_line_style(TRANSPARENT)
        .disable_x_mesh()
        .draw()?;
    if zero_line {
        chart.draw_series(DashedLineSeries::new(vec![(-0.5, 0.0), (n as f64 - 0.5, 0.0)], 6, 4, GREY.stroke_width(1)))?;
    }
    for (i, d) in dots.iter().enumerate() {
        let x = i as f64;
        if d.lo.is_finite() && d.hi.is_finite() {
            let style = d.colour.stroke_width(style::line_width());
            chart.draw_series(std::iter::once(PathElement::new(vec![(x, d.lo), (x, d.hi)], style)))?;
            for y in [d.lo, d.hi] {
                chart.draw_series(std::iter::once(PathElement::new(vec![(x - 0.08, y), (x + 0.08, y)], style)))?;
            }
        }
        let finite: Vec<f64> = d.replicates.iter().copied().filter(|v| v.is_finite()).collect();
        chart.draw_series(finite.iter().map(|&v| Circle::new((x - 0.22, v), 3, d.colour.stroke_width(1))))?;
        if d.value.is_finite() {
            chart.draw_series(std::iter::once(Circle::new((x, d.value), 6, d.colour.filled())))?;
            chart.draw_series(std::iter::once(Circle::new((x, d.value), 6, DARK.stroke_width(1))))?;
        }
    }
    Ok(())
}

fn d_reps(dots: &[Dot]) -> impl Iterator<Item = f64> + '_ {
    dots.iter().flat_map(|d| d.replicates.iter().copied())
}

/// `text` shortened with an ellipsis to at most `width` pixels at `size`.
pub fn fit(text: &str, width: u32, size: u32) -> String {
    if figure::text_width(text, size) <= width {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    for k in (0..chars.len()).rev() {
        let t: String = chars[..k].iter().collect::<String>() + "\u{2026}";
        if figure::text_width(&t, size) <= width || k == 0 {
            return if k == 0 { String::new() } else { t };
        }
    }
    String::new()
}

/// A panel caption: the metric's label, or its first part when the whole is too long.
pub fn caption(metric: &str) -> String {
    let label = crate::words::label_of(metric);
    if figure::text_width(&label, CAPTION) + 24 <= style::px(PANEL.0) {
        label
    } else {
        label.split(',').next().unwrap_or(&label).to_string()
    }
}

/// One panel per metric (caption, y-axis label, dots) with a dot for each group (a scenario or a
/// pair) that has a value for it; `dot` gets the group's index, the group and the metric.
fn metric_panels<G>(
    metrics: &[String],
    groups: &[G],
    y_desc: impl Fn(&str) -> String,
    dot: impl Fn(usize, &G, &str) -> Option<Dot>,
) -> Vec<(String, String, Vec<Dot>)> {
    metrics.iter().map(|m| (caption(m), y_desc(m), groups.iter().enumerate().filter_map(|(i, g)| dot(i, g, m)).collect())).collect()
}

/// Dot-and-whisker of each key metric's mean and 95% CI per scenario, from summary.csv. `None`
/// when the file holds none of the key metrics.
pub fn summary_figure(rows: &[SummaryRow], replicates: &BTreeMap<(String, String), Vec<f64>>) -> Option<impl Figure> {
    let scenarios = unique(rows.iter().map(|r| r.scenario.as_str()));
    let has = |m: &str| rows.iter().any(|r| r.metric == m && r.mean.is_finite());
    let metrics = key_metrics(has);
    if metrics.is_empty() {
        return None;
    }
    let panels = metric_panels(&metrics, &scenarios, style::unit_label, |i, s, m| {
        rows.iter().find(|r| &r.scenario == s && r.metric == m).map(|r| Dot {
            label: s.clone(),
            colour: style::colour(i),
            value: r.mean,
            lo: r.ci_low,
            hi: r.ci_high,
            replicates: replicates.get(&(s.clone(), m.to_string())).cloned().unwrap_or_default(),
        })
    });
    Some(DotPanels {
        title: "Summary: mean and 95% CI over replicates".into(),
        subtitle: "Each run is summarised over the days after the warm-up; dots are the mean over replicates, whiskers its 95% confidence interval, small rings each replicate.".into(),
        keys: scenarios.iter().enumerate().map(|(i, s)| Key::new(s.clone(), style::colour(i), Mark::Dot)).collect(),
        panels,
        zero_line: false,
        panel: PANEL,
        empty_message: "no values",
    })
}

/// Colours of a verdict: blue better, vermillion worse, grey unclear or neutral (Okabe-Ito).
pub fn verdict_colour(v: Verdict) -> RGBColor {
    match v {
        Verdict::Better => style::colour(0),
        Verdict::Worse => style::colour(1),
        Verdict::Unclear | Verdict::Neutral => GREY,
    }
}

/// Effects (each option minus the baseline) of each key metric with their 95% CIs, from
/// effects.csv, one dot per option named under it, coloured better or worse by the metric's
/// direction. `None` when the file holds none of the key metrics.
pub fn effects_figure(rows: &[EffectRow]) -> Option<impl Figure> {
    let options = unique(rows.iter().map(|r| r.scenario_a.as_str()));
    let baselines = unique(rows.iter().map(|r| r.scenario_b.as_str()));
    let has = |m: &str| rows.iter().any(|r| r.metric == m && r.difference.is_finite());
    let metrics = key_metrics(has);
    if metrics.is_empty() {
        return None;
    }
    let y_desc = |m: &str| match style::unit_label(m) {
        unit if unit.is_empty() => "change".to_string(),
        unit => format!("change ({unit})"),
    };
    let panels = metric_panels(&metrics, &options, y_desc, |_, o, m| {
        rows.iter().find(|r| &r.scenario_a == o && r.metric == m).map(|r| {
            let verdict = Metric::from_name(m).map(|mm| Verdict::of(mm, r.difference, r.ci_low, r.ci_high)).unwrap_or(Verdict::Neutral);
            Dot {
                label: o.clone(),
                colour: verdict_colour(verdict),
                value: r.difference,
                lo: r.ci_low,
                hi: r.ci_high,
                replicates: Vec::new(),
            }
        })
    });
    let keys = vec![
        Key::new("better", verdict_colour(Verdict::Better), Mark::Dot),
        Key::new("worse", verdict_colour(Verdict::Worse), Mark::Dot),
        Key::new("no clear difference, or neither way better", GREY, Mark::Dot),
    ];
    Some(DotPanels {
        title: format!("Effects against {}: option minus baseline, 95% CI", baselines.join(", ")),
        subtitle: "Each dot is an option minus the baseline, paired replicate by replicate (common random numbers), named under it; a whisker clear of the dashed zero line is a difference beyond noise.".into(),
        keys,
        panels,
        zero_line: true,
        panel: PANEL,
        empty_message: "no values",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_metrics_prefer_the_gini_when_recorded() {
        let without = key_metrics(|m| m != "wellbeing_gini");
        assert!(without.contains(&"wellbeing_mean".to_string()) && !without.contains(&"wellbeing_gini".to_string()));
        let with = key_metrics(|_| true);
        assert!(with.contains(&"wellbeing_gini".to_string()) && !with.contains(&"wellbeing_mean".to_string()));
        assert!(key_metrics(|m| m == "backlog") == ["backlog"]);
    }

    /// Issue 18: four scenarios with long names, the summary and effects figures: no text box
    /// overlaps another, and every one lies within the figure.
    #[test]
    fn issue_18_four_scenarios_render_with_no_overlapping_text() {
        let names = ["top-down", "place-based teams, half the approval layers, targets kept", "enablement", "one team government pilot"];
        let mut rows = Vec::new();
        let mut effects = Vec::new();
        let mut reps = BTreeMap::new();
        for (i, s) in names.iter().enumerate() {
            for m in KEY_METRICS {
                let v = 0.2 + 0.1 * i as f64;
                rows.push(SummaryRow {
                    scenario: s.to_string(),
                    window: "all".into(),
                    metric: m.to_string(),
                    mean: v,
                    ci_low: v - 0.02,
                    ci_high: v + 0.02,
                    n: 5.0,
                });
                reps.insert((s.to_string(), m.to_string()), vec![v - 0.01, v, v + 0.01]);
                if i > 0 {
                    let d = 0.1 * i as f64 * if i % 2 == 0 { 1.0 } else { -1.0 };
                    effects.push(EffectRow {
                        scenario_a: s.to_string(),
                        scenario_b: names[0].to_string(),
                        metric: m.to_string(),
                        difference: d,
                        ci_low: d - 0.03,
                        ci_high: d + 0.03,
                        pct_change: 50.0 * d,
                        pct_ci_low: 50.0 * (d - 0.03),
                        pct_ci_high: 50.0 * (d + 0.03),
                        effect_size: 3.0,
                        n: 5.0,
                        ci_low_clipped: false,
                        ci_high_clipped: false,
                    });
                }
            }
        }
        let check = |svg: String, what: &str| {
            let boxes = figure::text_boxes(&svg);
            assert!(boxes.len() > 40, "{what}: the text was found ({} boxes)", boxes.len());
            let overlaps = figure::overlapping(&boxes, 1.0);
            assert!(overlaps.is_empty(), "{what}: overlapping text: {overlaps:?}");
            let width: f64 = svg.split("width=\"").nth(1).and_then(|r| r.split('"').next()).and_then(|w| w.parse().ok()).unwrap();
            for (t, b) in &boxes {
                assert!(b[0] >= -0.5 && b[2] <= width + 0.5, "{what}: `{t}` leaves the figure ({b:?}, width {width})");
            }
        };
        check(figure::render_svg(&summary_figure(&rows, &reps).unwrap()).unwrap(), "summary");
        check(figure::render_svg(&effects_figure(&effects).unwrap()).unwrap(), "effects");
        // The projector style: larger type, same guarantee.
        style::set_plot_style(style::PlotStyle::Projector);
        let big = summary_figure(&rows, &reps).unwrap();
        assert!(big.size().0 <= 2 * style::px(PANEL.0), "two panels a row for a room");
        check(figure::render_svg(&big).unwrap(), "summary, projector");
        check(figure::render_svg(&effects_figure(&effects).unwrap()).unwrap(), "effects, projector");
        style::set_plot_style(style::PlotStyle::Screen);
        // The checker finds overlaps where there are some.
        let clash = vec![("abc".to_string(), [0.0, 0.0, 30.0, 10.0]), ("def".to_string(), [20.0, 5.0, 50.0, 15.0])];
        assert_eq!(figure::overlapping(&clash, 1.0).len(), 1);
    }

    #[test]
    fn harm_shows_only_where_it_has_values() {
        assert!(!key_metrics(|m| m != "harm_rate").contains(&"harm_rate".to_string()));
        assert_eq!(key_metrics(|_| true).last().map(String::as_str), Some("harm_rate"));
    }
}
