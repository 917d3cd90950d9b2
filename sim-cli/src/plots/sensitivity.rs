//! Sensitivity figures from indices.csv. Sobol: horizontal bars of S1 (first-order) and ST
//! (total) per parameter with their bootstrap CIs, in tornado order (largest ST at the top).
//! Morris: bars of mu* in tornado order, and the mu*-sigma scatter (Campolongo et al. 2007),
//! where a parameter far right matters, and one high up (sigma near or above mu*) acts through
//! non-linearity or interactions. One panel per metric.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::{IndexRow, unique};
use super::figure::{self, Area, DrawResult, Figure, FixedTicks, Header, Key, Mark};
use super::style::{self, CAPTION, DARK, GREY, LABEL, LIGHT_GREY, TICK, Ticks};

/// Base samples N of a Saltelli design below which Sobol indices are too noisy to rank
/// parameters: Saltelli et al. (2010) work with N of 500 and more; with fewer, estimates scatter
/// widely, can fall below zero and S1 can exceed ST.
pub const MIN_SOBOL_SAMPLES: u64 = 500;
/// Morris trajectories below which mu* and sigma are unreliable: Campolongo et al. (2007) use
/// r = 10 to 20 (Morris 1991 used 4, for screening only).
pub const MIN_MORRIS_TRAJECTORIES: u64 = 10;

/// The warnings a sensitivity result carries, in words: a sample too small for the indices to be
/// reliable (from the manifest's `design`), first-order indices above total ones (S1 > ST, which
/// a variance decomposition cannot give), and indices below zero (a share of variance cannot be
/// negative). Each names what it found so the reader can check.
pub fn warnings(rows: &[IndexRow], design: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let kind = design.get("kind").and_then(|k| k.as_str()).unwrap_or("");
    let has = |method: &str| rows.iter().any(|r| r.method == method);
    if let Some(n) =
        design.get("samples").and_then(|v| v.as_u64()).filter(|&n| (kind == "saltelli" || has("sobol")) && n < MIN_SOBOL_SAMPLES)
    {
        out.push(format!(
            "small sample: {n} base samples; Sobol indices need about {MIN_SOBOL_SAMPLES} or more (Saltelli et al. 2010) before their values or ranking can be trusted"
        ));
    }
    if let Some(r) =
        design.get("trajectories").and_then(|v| v.as_u64()).filter(|&r| (kind == "morris" || has("morris")) && r < MIN_MORRIS_TRAJECTORIES)
    {
        out.push(format!(
            "small sample: {r} Morris trajectories; mu* and sigma need about {MIN_MORRIS_TRAJECTORIES} or more (Campolongo et al. 2007) beyond a first screening"
        ));
    }
    let sobol: Vec<&IndexRow> = rows.iter().filter(|r| r.method == "sobol").collect();
    let mut above = Vec::new();
    for s1 in sobol.iter().filter(|r| r.index == "S1") {
        if let Some(st) = sobol.iter().find(|r| r.index == "ST" && r.parameter == s1.parameter && r.metric == s1.metric)
            && s1.value > st.value
        {
            above.push(format!("{} on {} (S1 {} > ST {})", s1.parameter, s1.metric, style::number(s1.value), style::number(st.value)));
        }
    }
    if !above.is_empty() {
        out.push(format!(
            "S1 exceeds ST for {} of {} parameter-metric pairs, which a variance decomposition cannot give: estimation noise, so take more samples; e.g. {}",
            above.len(),
            sobol.iter().filter(|r| r.index == "S1").count(),
            above.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
        ));
    }
    let negative: Vec<String> = sobol
        .iter()
        .filter(|r| r.value < 0.0)
        .map(|r| format!("{} of {} on {} = {}", r.index, r.parameter, r.metric, style::number(r.value)))
        .collect();
    if !negative.is_empty() {
        out.push(format!(
            "{} Sobol indices are negative, which a share of variance cannot be: estimation noise, so take more samples; e.g. {}",
            negative.len(),
            negative.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
        ));
    }
    out
}

/// Most metric panels in one figure.
const MAX_PANELS: usize = 9;

/// Indices of `values` ordered for a tornado chart: largest first, undefined (NaN) last, ties by
/// name so the order is the same on every run.
pub fn tornado_order(values: &[(String, f64)]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| {
        let (na, va) = &values[a];
        let (nb, vb) = &values[b];
        match (va.is_nan(), vb.is_nan()) {
            (false, false) => vb.total_cmp(va).then_with(|| na.cmp(nb)),
            (true, true) => na.cmp(nb),
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
        }
    });
    idx
}

fn find<'a>(rows: &'a [IndexRow], method: &str, metric: &str, parameter: &str, index: &str) -> Option<&'a IndexRow> {
    rows.iter().find(|r| r.method == method && r.metric == metric && r.parameter == parameter && r.index == index)
}

/// A value with its CI.
#[derive(Debug, Clone, Copy)]
struct Est {
    value: f64,
    lo: f64,
    hi: f64,
}

fn est(r: Option<&IndexRow>) -> Est {
    r.map(|r| Est { value: r.value, lo: r.ci_low, hi: r.ci_high }).unwrap_or(Est { value: f64::NAN, lo: f64::NAN, hi: f64::NAN })
}

/// A parameter's name and its estimates, one per index drawn.
type Bars = (String, Vec<Est>);
/// A metric's name and its parameters' bars in tornado order (largest first).
type BarPanel = (String, Vec<Bars>);
/// A metric's name and per parameter (name, mu*, sigma).
type ScatterPanel = (String, Vec<(String, Est, Est)>);

/// Tornado bars: per metric, parameters top to bottom by the first index in `indices`, one bar per
/// index side by side.
pub struct Tornado {
    title: String,
    subtitle: &'static str,
    /// (label, colour) of each index drawn, e.g. S1 and ST.
    indices: Vec<(String, RGBColor)>,
    /// Per metric: caption, and per parameter (in tornado order, largest first) its name and
    /// one estimate per index.
    panels: Vec<BarPanel>,
    x_desc: &'static str,
}

const BAR_PANEL: (u32, u32) = (560, 0);

impl Tornado {
    fn keys(&self) -> Vec<Key> {
        let mut k: Vec<Key> = self.indices.iter().map(|(l, c)| Key::new(l.clone(), *c, Mark::Bar)).collect();
        k.push(Key::new("95% CI", DARK, Mark::Line));
        k
    }

    fn panel_height(&self) -> u32 {
        let most = self.panels.iter().map(|p| p.1.len()).max().unwrap_or(1) as u32;
        (110 + most * (18 + 14 * self.indices.len() as u32)).max(260)
    }

    fn header<'k>(&'k self, keys: &'k [Key]) -> Header<'k> {
        Header { title: &self.title, subtitle: Some(self.subtitle), keys }
    }
}

impl Figure for Tornado {
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = figure::grid(self.panels.len(), 2);
        let w = (BAR_PANEL.0 * cols as u32).max(900);
        let keys = self.keys();
        (w, self.header(&keys).height(w) + rows as u32 * self.panel_height())
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        let keys = self.keys();
        let body = self.header(&keys).draw(root)?;
        let (rows, cols) = figure::grid(self.panels.len(), 2);
        let body = body.shrink((0, 0), (BAR_PANEL.0 * cols as u32, self.panel_height() * rows as u32));
        for (area, (metric, params)) in body.split_evenly((rows, cols)).iter().zip(&self.panels) {
            self.panel(area, metric, params)?;
        }
        Ok(())
    }
}

impl Tornado {
    fn panel<DB: DrawingBackend>(&self, area: &Area<DB>, metric: &str, params: &[Bars]) -> DrawResult<DB> {
        if !params.iter().any(|(_, e)| e.iter().any(|e| e.value.is_finite())) {
            return figure::empty_panel(area, metric, "no values");
        }
        let n = params.len();
        let (x0, x1) = style::padded_range(params.iter().flat_map(|(_, e)| e.iter().flat_map(|e| [e.value, e.lo, e.hi])).chain([0.0]));
        let ticks = Ticks::for_range(x0, x1);
        // Largest at the top: parameter of rank r sits at y = n - 1 - r.
        let names: Vec<String> = params.iter().rev().map(|p| p.0.clone()).collect();
        let y_room = names.iter().map(|l| figure::text_width(l, TICK)).max().unwrap_or(40) + 16;
        let mut chart = ChartBuilder::on(area)
            .caption(super::compare::caption(metric), style::text(CAPTION))
            .margin(8)
            .margin_right(20)
            .x_label_area_size(48)
            .y_label_area_size(y_room)
            .build_cartesian_2d(x0..x1, FixedTicks::categories(n))?;
        chart
            .configure_mesh()
            .x_desc(self.x_desc)
            .x_labels(6)
            .x_label_formatter(&|v| ticks.format(*v))
            .y_label_formatter(&|v| names.get(v.round().max(0.0) as usize).cloned().unwrap_or_default())
            .label_style(style::text(TICK))
            .axis_desc_style(style::text(LABEL))
            .bold_line_style(LIGHT_GREY)
            .light_line_style(TRANSPARENT)
            .disable_y_mesh()
            .draw()?;
        chart.draw_series(std::iter::once(PathElement::new(vec![(0.0, -0.5), (0.0, n as f64 - 0.5)], GREY.stroke_width(1))))?;
        let k = self.indices.len();
        let slot = 0.8 / k as f64;
        for (rank, (_, ests)) in params.iter().enumerate() {
            let y = (n - 1 - rank) as f64;
            for (j, (e, (_, c))) in ests.iter().zip(&self.indices).enumerate() {
                // First index on top within the row.
                let top = y + 0.4 - j as f64 * slot;
                let (b0, b1) = (top - slot * 0.9, top);
                if e.value.is_finite() {
                    chart.draw_series(std::iter::once(Rectangle::new([(0.0, b0), (e.value, b1)], c.filled())))?;
                }
                if e.lo.is_finite() && e.hi.is_finite() {
                    let mid = (b0 + b1) / 2.0;
                    chart.draw_series(std::iter::once(PathElement::new(vec![(e.lo, mid), (e.hi, mid)], DARK.stroke_width(2))))?;
                    for x in [e.lo, e.hi] {
                        chart.draw_series(std::iter::once(PathElement::new(
                            vec![(x, mid - slot * 0.3), (x, mid + slot * 0.3)],
                            DARK.stroke_width(1),
                        )))?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Methods present in indices.csv (lower case).
pub fn methods(rows: &[IndexRow]) -> Vec<String> {
    unique(rows.iter().map(|r| r.method.as_str()))
}

/// Per metric, the parameters in tornado order of `by`, with the estimates of `show`.
fn tornado_panels(rows: &[IndexRow], method: &str, by: &str, show: &[&str]) -> Vec<BarPanel> {
    let rows: Vec<IndexRow> = rows.iter().filter(|r| r.method == method).cloned().collect();
    let metrics = unique(rows.iter().map(|r| r.metric.as_str()));
    let params = unique(rows.iter().map(|r| r.parameter.as_str()));
    metrics
        .into_iter()
        .take(MAX_PANELS)
        .map(|m| {
            let keyed: Vec<(String, f64)> = params.iter().map(|p| (p.clone(), est(find(&rows, method, &m, p, by)).value)).collect();
            let ordered = tornado_order(&keyed)
                .into_iter()
                .map(|i| (params[i].clone(), show.iter().map(|ix| est(find(&rows, method, &m, &params[i], ix))).collect()))
                .collect();
            (m, ordered)
        })
        .collect()
}

/// S1 and ST bars with CIs in tornado order (by ST). `None` without Sobol indices.
pub fn sobol_figure(rows: &[IndexRow]) -> Option<Tornado> {
    if !rows.iter().any(|r| r.method == "sobol") {
        return None;
    }
    let mut panels = tornado_panels(rows, "sobol", "ST", &["S1", "ST"]);
    // A share of variance lies in [0, 1]: intervals are drawn clipped to it (indices.csv keeps
    // the estimates as computed, and the warnings name any outside it).
    for e in panels.iter_mut().flat_map(|(_, bars)| bars.iter_mut().flat_map(|(_, ests)| ests.iter_mut())) {
        (e.lo, e.hi) = (e.lo.clamp(0.0, 1.0), e.hi.clamp(0.0, 1.0));
    }
    Some(Tornado {
        title: "Sobol sensitivity indices".into(),
        subtitle: "S1: share of the metric's variance due to the parameter alone; ST: including its interactions. ST well above S1 means the parameter acts through interactions. Intervals are drawn within 0 to 1.",
        indices: vec![("S1 (first order)".into(), style::colour(0)), ("ST (total)".into(), style::colour(1))],
        panels,
        x_desc: "share of variance (index)",
    })
}

/// mu* bars with CIs in tornado order. `None` without Morris indices.
pub fn morris_bars_figure(rows: &[IndexRow]) -> Option<Tornado> {
    if !rows.iter().any(|r| r.method == "morris") {
        return None;
    }
    Some(Tornado {
        title: "Morris screening: mu* (mean absolute elementary effect)".into(),
        subtitle: "mu*: how much the metric moves, on average, when the parameter steps across its range; parameters in order of influence.",
        indices: vec![("mu*".into(), style::colour(0))],
        panels: tornado_panels(rows, "morris", "mu_star", &["mu_star"]),
        x_desc: "mu* (metric units per parameter range)",
    })
}

/// The mu*-sigma scatter of every metric. `None` without Morris indices.
pub struct MorrisScatter {
    /// Per metric: caption and per parameter (name, mu*, sigma).
    panels: Vec<ScatterPanel>,
}

const SCATTER_PANEL: (u32, u32) = (520, 420);
const SCATTER_TITLE: &str = "Morris screening: mu* against sigma";
const SCATTER_SUBTITLE: &str = "Right: influential. Up: the effect varies across the space (non-linear or interacting). Above the dashed line sigma > mu*. Whiskers: 95% CI of mu*.";

pub fn morris_scatter_figure(rows: &[IndexRow]) -> Option<MorrisScatter> {
    let rows: Vec<IndexRow> = rows.iter().filter(|r| r.method == "morris").cloned().collect();
    if rows.is_empty() {
        return None;
    }
    let metrics = unique(rows.iter().map(|r| r.metric.as_str()));
    let params = unique(rows.iter().map(|r| r.parameter.as_str()));
    let panels = metrics
        .into_iter()
        .take(MAX_PANELS)
        .map(|m| {
            let ps = params
                .iter()
                .map(|p| (p.clone(), est(find(&rows, "morris", &m, p, "mu_star")), est(find(&rows, "morris", &m, p, "sigma"))))
                .collect();
            (m, ps)
        })
        .collect();
    Some(MorrisScatter { panels })
}

impl MorrisScatter {
    fn keys(&self) -> Vec<Key> {
        let params = unique(self.panels.iter().flat_map(|p| p.1.iter().map(|q| q.0.as_str())));
        params.iter().enumerate().map(|(i, p)| Key::new(p.clone(), style::colour(i), Mark::Dot)).collect()
    }
}

impl Figure for MorrisScatter {
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = figure::grid(self.panels.len(), 3);
        let w = (SCATTER_PANEL.0 * cols as u32).max(900);
        let keys = self.keys();
        (w, Header { title: SCATTER_TITLE, subtitle: Some(SCATTER_SUBTITLE), keys: &keys }.height(w) + rows as u32 * SCATTER_PANEL.1)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> DrawResult<DB> {
        let keys = self.keys();
        let body = Header { title: SCATTER_TITLE, subtitle: Some(SCATTER_SUBTITLE), keys: &keys }.draw(root)?;
        let (rows, cols) = figure::grid(self.panels.len(), 3);
        let body = body.shrink((0, 0), (SCATTER_PANEL.0 * cols as u32, SCATTER_PANEL.1 * rows as u32));
        let names: Vec<String> = keys.iter().map(|k| k.label.clone()).collect();
        for (area, (metric, ps)) in body.split_evenly((rows, cols)).iter().zip(&self.panels) {
            if !ps.iter().any(|p| p.1.value.is_finite() && p.2.value.is_finite()) {
                figure::empty_panel(area, metric, "no values")?;
                continue;
            }
            let (x0, x1) = style::padded_range(ps.iter().flat_map(|p| [p.1.value, p.1.lo, p.1.hi]).chain([0.0]));
            let (y0, y1) = style::padded_range(ps.iter().map(|p| p.2.value).chain([0.0]));
            let (xt, yt) = (Ticks::for_range(x0, x1), Ticks::for_range(y0, y1));
            let mut chart = ChartBuilder::on(area)
                .caption(super::compare::caption(metric), style::text(CAPTION))
                .margin(8)
                .margin_right(20)
                .x_label_area_size(48)
                .y_label_area_size(figure::y_label_room(&yt, y0, y1))
                .build_cartesian_2d(x0..x1, y0..y1)?;
            chart
                .configure_mesh()
                .x_desc("mu* (mean |elementary effect|)")
                .y_desc("sigma (sd of elementary effects)")
                .x_labels(6)
                .y_labels(6)
                .x_label_formatter(&|v| xt.format(*v))
                .y_label_formatter(&|v| yt.format(*v))
                .label_style(style::text(TICK))
                .axis_desc_style(style::text(LABEL))
                .bold_line_style(LIGHT_GREY)
                .light_line_style(TRANSPARENT)
                .draw()?;
            let top = x1.min(y1);
            if top > 0.0 {
                chart.draw_series(DashedLineSeries::new(vec![(0.0, 0.0), (top, top)], 6, 4, GREY.stroke_width(1)))?;
            }
            for (name, mu, sigma) in ps {
                if !(mu.value.is_finite() && sigma.value.is_finite()) {
                    continue;
                }
                let c = style::colour(names.iter().position(|n| n == name).unwrap_or(0));
                if mu.lo.is_finite() && mu.hi.is_finite() {
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(mu.lo, sigma.value), (mu.hi, sigma.value)],
                        c.stroke_width(2),
                    )))?;
                }
                chart.draw_series(std::iter::once(Circle::new((mu.value, sigma.value), 6, c.filled())))?;
                let label = style::text(style::NOTE).color(&DARK).pos(Pos::new(HPos::Left, VPos::Bottom));
                chart.draw_series(std::iter::once(Text::new(short(name), (mu.value, sigma.value), label)))?;
            }
        }
        Ok(())
    }
}

/// The last segment of a parameter path, for labels beside points ("governance.discretion" ->
/// "discretion"); the legend gives the full path.
fn short(path: &str) -> String {
    format!("  {}", path.rsplit('.').next().unwrap_or(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(parameter: &str, index: &str, value: f64) -> IndexRow {
        IndexRow {
            parameter: parameter.into(),
            metric: "failure_demand_share".into(),
            method: "sobol".into(),
            index: index.into(),
            value,
            ci_low: value - 0.5,
            ci_high: value + 0.5,
        }
    }

    #[test]
    fn sobol_warnings_name_small_samples_s1_above_st_and_negative_indices() {
        let healthy = [row("a", "S1", 0.4), row("a", "ST", 0.5), row("b", "S1", 0.1), row("b", "ST", 0.2)];
        let big = serde_json::json!({"kind": "saltelli", "samples": 1024});
        assert!(warnings(&healthy, &big).is_empty(), "{:?}", warnings(&healthy, &big));
        let small = serde_json::json!({"kind": "saltelli", "samples": 8});
        let w = warnings(&healthy, &small);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("8 base samples"), "{w:?}");
        let odd = [row("a", "S1", 0.6), row("a", "ST", 0.5), row("b", "S1", -0.23), row("b", "ST", 0.2)];
        let w = warnings(&odd, &big);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("S1 exceeds ST for 1 of 2") && w[0].contains("a on failure_demand_share"), "{w:?}");
        assert!(w[1].contains("1 Sobol indices are negative") && w[1].contains("-0.23"), "{w:?}");
        let morris = serde_json::json!({"kind": "morris", "trajectories": 4});
        assert!(warnings(&[], &morris)[0].contains("4 Morris trajectories"));
    }

    #[test]
    fn sobol_intervals_are_drawn_within_zero_and_one() {
        // Intervals of 0.8 +- 0.5 and -0.23 +- 0.5 reach 1.3 and -0.73 as estimated.
        let rows = [row("a", "S1", 0.8), row("a", "ST", 0.9), row("b", "S1", -0.23), row("b", "ST", 0.2)];
        let fig = sobol_figure(&rows).expect("Sobol rows give a figure");
        let ests: Vec<Est> = fig.panels.iter().flat_map(|(_, bars)| bars.iter().flat_map(|(_, e)| e.iter().copied())).collect();
        assert_eq!(ests.len(), 4);
        for e in &ests {
            assert!((0.0..=1.0).contains(&e.lo) && (0.0..=1.0).contains(&e.hi), "{e:?}");
        }
        // The estimate itself is drawn as computed: a negative S1 shows as noise.
        assert!(ests.iter().any(|e| e.value == -0.23));
    }

    #[test]
    fn tornado_puts_the_largest_first_and_undefined_last() {
        let v = |xs: &[(&str, f64)]| xs.iter().map(|(n, x)| (n.to_string(), *x)).collect::<Vec<_>>();
        let values = v(&[("a", 0.1), ("b", f64::NAN), ("c", 0.7), ("d", -0.2), ("e", 0.7)]);
        let order = tornado_order(&values);
        let names: Vec<&str> = order.iter().map(|&i| values[i].0.as_str()).collect();
        assert_eq!(names, ["c", "e", "a", "d", "b"]);
        assert!(tornado_order(&[]).is_empty());
    }

    #[test]
    fn sobol_panels_follow_st() {
        let row = |p: &str, ix: &str, v: f64| IndexRow {
            parameter: p.into(),
            metric: "m".into(),
            method: "sobol".into(),
            index: ix.into(),
            value: v,
            ci_low: v - 0.1,
            ci_high: v + 0.1,
        };
        let rows = vec![row("x", "S1", 0.5), row("x", "ST", 0.5), row("y", "S1", 0.1), row("y", "ST", 0.9)];
        let fig = sobol_figure(&rows).expect("sobol rows");
        let order: Vec<&str> = fig.panels[0].1.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(order, ["y", "x"], "ST decides the order, not S1");
        assert!(morris_bars_figure(&rows).is_none() && morris_scatter_figure(&rows).is_none());
    }
}
