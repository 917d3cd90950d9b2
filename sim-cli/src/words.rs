//! Results in words: how a metric's value and a change in it are written for people (shares as
//! percentages and changes in percentage points, money as a percentage change, everything else
//! in its unit), whether a change is better or worse by the metric's direction, and the headline
//! of a comparison ("enablement against top-down: failure demand -45 points [-47, -43] (better);
//! ..."). The terminal and report.html both use these, so they say the same thing; numbers to
//! significant digits (`significant`) live here too, for the figures as for the words.

use sim_core::metrics::Metric;

/// The symbol money is shown with by default (the scenario parameter `money.currency_symbol`
/// sets it; the model's money defaults are UK figures, in pounds).
pub const DEFAULT_CURRENCY: &str = "£";

thread_local! {
    static CURRENCY: std::cell::RefCell<String> = std::cell::RefCell::new(DEFAULT_CURRENCY.to_string());
}

/// Sets the symbol money is shown with from now on by this thread (the compared scenarios'
/// `money.currency_symbol`).
pub fn set_currency(symbol: &str) {
    CURRENCY.with(|c| *c.borrow_mut() = symbol.to_string());
}

/// The symbol money is shown with.
pub fn currency() -> String {
    CURRENCY.with(|c| c.borrow().clone())
}

/// The currency symbol of a sim output folder's manifest: its first scenario's (compare) or its
/// scenario's (run, sweep base) `money.currency_symbol`, else the default.
pub fn currency_of_manifest(m: &serde_json::Value) -> String {
    // A comparison shows money as its baseline does.
    let baseline = m.get("baseline").and_then(|b| b.as_str());
    let of_baseline = m.get("scenarios").and_then(|s| s.as_array()).and_then(|list| {
        list.iter()
            .find(|s| baseline.is_some() && s.get("name").and_then(|n| n.as_str()) == baseline)
            .and_then(|s| s.pointer("/parameters/money/currency_symbol")?.as_str())
    });
    if let Some(c) = of_baseline {
        return c.to_string();
    }
    ["/scenarios/0/parameters/money/currency_symbol", "/parameters/money/currency_symbol", "/base/money/currency_symbol"]
        .iter()
        .find_map(|p| m.pointer(p).and_then(|v| v.as_str()))
        .unwrap_or(DEFAULT_CURRENCY)
        .to_string()
}

/// Replicates below which intervals are too unreliable to read without a warning.
pub const MIN_RELIABLE_REPLICATES: usize = 5;

/// The metrics a headline speaks of, in order (those with a clear difference are named).
pub const HEADLINE_METRICS: [Metric; 7] = [
    Metric::FailureDemandShare,
    Metric::TrueResolutionRate,
    Metric::CostPerResolvedNeed,
    Metric::WaitMeanDays,
    Metric::BurnoutMean,
    Metric::TrustMean,
    Metric::HarmRate,
];

/// The label's first part in lower case: "Failure demand, share of contacts" -> "failure demand".
pub fn short_label(m: Metric) -> String {
    let head = m.label().split(',').next().unwrap_or(m.label());
    let mut c = head.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The label of a metric by name, or the name itself when it is not a known metric.
pub fn label_of(name: &str) -> String {
    Metric::from_name(name).map(|m| m.label().to_string()).unwrap_or_else(|| name.to_string())
}

/// The unit of a metric by name as people read it ("" when unknown).
pub fn unit_of(name: &str) -> String {
    Metric::from_name(name).map(|m| m.unit_for_people(&currency())).unwrap_or_default()
}

fn signed(x: f64) -> String {
    let s = significant(x, 2);
    if x > 0.0 { format!("+{s}") } else { s }
}

fn plain(x: f64) -> String {
    significant(x, 2)
}

/// A value of the metric: "45.2%" for a share, "£1,234"-style money ("£1234"), else the number.
pub fn value(m: Metric, v: f64) -> String {
    if !v.is_finite() {
        return "\u{2013}".to_string();
    }
    if m.is_share() {
        format!("{}%", significant(100.0 * v, 3))
    } else if m.is_money() {
        format!("{}{}", currency(), significant(v, 3))
    } else {
        significant(v, 3)
    }
}

/// An interval "[lo, hi]" of values of the metric, or "" when it has none.
pub fn interval(m: Metric, lo: f64, hi: f64) -> String {
    if lo.is_finite() && hi.is_finite() { format!("[{}, {}]", value(m, lo), value(m, hi)) } else { String::new() }
}

/// Whether an option's effect is better or worse for citizens, staff or money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Better,
    Worse,
    /// The 95% CI includes zero (or there is none): no difference beyond noise.
    Unclear,
    /// Neither way is better for this metric.
    Neutral,
}

impl Verdict {
    /// The effect `diff` with its 95% CI `[lo, hi]` on `m`.
    pub fn of(m: Metric, diff: f64, lo: f64, hi: f64) -> Self {
        let clear = lo.is_finite() && hi.is_finite() && (lo > 0.0 || hi < 0.0);
        if clear { Verdict::by_direction(m, diff) } else { Verdict::Unclear }
    }

    /// Better, worse or neutral by `m`'s direction alone, without asking whether `diff` is beyond
    /// noise (one run each, as in `sim serve`'s debrief).
    pub fn by_direction(m: Metric, diff: f64) -> Self {
        match m.direction().judge(diff) {
            Some(true) => Verdict::Better,
            Some(false) => Verdict::Worse,
            None => Verdict::Neutral,
        }
    }

    /// The word written in effects.csv and the report.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::Unclear => "unclear",
            Verdict::Neutral => "neutral",
        }
    }
}

/// The unit written after a number of `m` (" days"), or nothing where the unit is a bare scale
/// ("0 to 1", "ratio") or there is none.
pub fn unit_suffix(m: Metric) -> String {
    match m.unit_for_people(&currency()) {
        u if u.is_empty() || u == "0 to 1" || u == "ratio" => String::new(),
        u => format!(" {u}"),
    }
}

/// One effect as the headline and tables need it.
#[derive(Debug, Clone, Copy)]
pub struct Change {
    pub metric: Metric,
    pub difference: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub pct_change: f64,
    pub pct_ci_low: f64,
    pub pct_ci_high: f64,
    /// Whether the interval's low (high) end was cut to the metric's bounds (`Effect`).
    pub clipped_low: bool,
    pub clipped_high: bool,
}

/// The mark after an interval's end that was cut to the metric's bounds; [`CLIPPED_NOTE`] says why.
pub const CLIPPED_MARK: &str = "*";

/// What [`CLIPPED_MARK`] means, for the line after a headline or table that shows it.
pub const CLIPPED_NOTE: &str = "* cut at the limit the metric can take (no value below 0, no share above 100%): the option's values lie close to it, and the symmetric 95% interval reached past it";

impl Change {
    /// Whether either end of the interval was cut to the metric's bounds.
    pub fn clipped(&self) -> bool {
        self.clipped_low || self.clipped_high
    }

    pub fn verdict(&self) -> Verdict {
        Verdict::of(self.metric, self.difference, self.ci_low, self.ci_high)
    }

    /// The change in the unit people read: percentage points for shares ("-45 points [-47, -43]"),
    /// percent for money ("-76% [-78, -74]"), the metric's unit otherwise ("+12 days [10, 14]").
    /// An end cut to the metric's bounds is marked ("-76% [-100*, -53]"); in percent or points,
    /// an end that is not cut but rounds to a fall of 100 gets a third digit ("-99.6"), so it
    /// does not read as that limit.
    pub fn words(&self) -> String {
        let m = self.metric;
        // `percent`: the ends are in percent or percentage points, where a fall of 100 is a limit.
        let end = |x: f64, cut: bool, percent: bool| {
            let text = plain(x);
            if cut {
                format!("{text}{CLIPPED_MARK}")
            } else if percent && text == "-100" && x > -100.0 {
                significant(x, 3)
            } else {
                text
            }
        };
        let ci = |lo: f64, hi: f64, scale: f64, percent: bool| {
            if lo.is_finite() && hi.is_finite() {
                format!(" [{}, {}]", end(scale * lo, self.clipped_low, percent), end(scale * hi, self.clipped_high, percent))
            } else {
                String::new()
            }
        };
        if m.is_share() {
            format!("{} points{}", signed(100.0 * self.difference), ci(self.ci_low, self.ci_high, 100.0, true))
        } else if m.is_money() && self.pct_change.is_finite() {
            format!("{}%{}", signed(self.pct_change), ci(self.pct_ci_low, self.pct_ci_high, 1.0, true))
        } else {
            format!("{}{}{}", signed(self.difference), unit_suffix(m), ci(self.ci_low, self.ci_high, 1.0, false))
        }
    }
}

/// The headline of an option against the baseline: the headline metrics with a clear difference,
/// each with its change, CI and (better)/(worse); or that none differs beyond noise.
pub fn headline(option: &str, baseline: &str, changes: &[Change]) -> String {
    let parts: Vec<String> =
        in_headline(changes).map(|c| format!("{} {} ({})", short_label(c.metric), c.words(), c.verdict().word())).collect();
    if parts.is_empty() {
        format!("{option} against {baseline}: no difference beyond noise in the key metrics")
    } else {
        format!("{option} against {baseline}: {}", parts.join("; "))
    }
}

/// The changes [`headline`] names, in its order: the headline metrics that differ beyond noise.
fn in_headline(changes: &[Change]) -> impl Iterator<Item = &Change> {
    HEADLINE_METRICS
        .iter()
        .filter_map(|&m| changes.iter().find(|c| c.metric == m))
        .filter(|c| matches!(c.verdict(), Verdict::Better | Verdict::Worse))
}

/// Whether [`headline`] shows an interval end cut to the metric's bounds (then [`CLIPPED_NOTE`]
/// goes after it).
pub fn headline_clipped(changes: &[Change]) -> bool {
    in_headline(changes).any(Change::clipped)
}

/// The words of a drifting metric: "failure demand rose 31 points from year 1 to year 5 (21% to
/// 52%)". `years` are the yearly means (NaN where undefined).
pub fn drift(m: Metric, years: &[f64]) -> Option<String> {
    let defined: Vec<(usize, f64)> = years.iter().copied().enumerate().filter(|(_, y)| y.is_finite()).collect();
    let (&(i0, first), &(i1, last)) = (defined.first()?, defined.last()?);
    if i0 == i1 {
        return None;
    }
    let change = last - first;
    let verb = if change < 0.0 { "fell" } else { "rose" };
    let amount = if m.is_share() {
        format!("{} points", plain(100.0 * change.abs()))
    } else if m.is_money() && first != 0.0 {
        format!("{}%", plain(100.0 * change.abs() / first.abs()))
    } else {
        match m.unit_for_people(&currency()) {
            u if u.is_empty() || u == "0 to 1" || u == "ratio" => plain(change.abs()),
            u => format!("{} {u}", plain(change.abs())),
        }
    };
    Some(format!("{} {verb} {amount} from year {} to year {} ({} to {})", short_label(m), i0 + 1, i1 + 1, value(m, first), value(m, last)))
}

/// The result line of a key metric still drifting over the window, from [`drift`]'s words:
/// "still changing: top-down's failure demand rose 14 points from year 1 to year 5 (...)".
pub fn still_changing_line(scenario: &str, drift: &str) -> String {
    format!("still changing: {scenario}'s {drift}")
}

/// The one warning of a scenario whose key metrics (`drifting`, by name) still drift over the
/// window, with where their slopes are (`slopes`: "the years and slopes ... are in trends.csv");
/// None when nothing drifts.
pub fn still_changing_warning(scenario: &str, drifting: &[&str], slopes: &str) -> Option<String> {
    let count = match drifting.len() {
        0 => return None,
        1 => "1 metric is".to_string(),
        k => format!("{k} metrics are"),
    };
    Some(format!(
        "warning: {scenario}: {count} still changing over the window ({}): a whole-window mean hides the trend; {slopes}",
        drifting.join(", ")
    ))
}

/// `v` with `digits` significant digits (at least), trailing zeros trimmed; NaN as an en dash.
pub fn significant(v: f64, digits: i32) -> String {
    if !v.is_finite() {
        return "\u{2013}".to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let magnitude = v.abs().log10().floor() as i32;
    if magnitude >= 6 || magnitude <= -4 {
        return format!("{v:.*e}", (digits - 1).max(0) as usize);
    }
    let decimals = (digits - 1 - magnitude).max(0) as usize;
    trim_zeros(format!("{v:.decimals$}"))
}

/// Removes trailing zeros after a decimal point ("1.500" -> "1.5", "2.0" -> "2").
pub(crate) fn trim_zeros(s: String) -> String {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(metric: Metric, d: f64, lo: f64, hi: f64) -> Change {
        Change {
            metric,
            difference: d,
            ci_low: lo,
            ci_high: hi,
            pct_change: 100.0 * d,
            pct_ci_low: 100.0 * lo,
            pct_ci_high: 100.0 * hi,
            clipped_low: false,
            clipped_high: false,
        }
    }

    #[test]
    fn changes_read_in_points_percent_or_units() {
        assert_eq!(short_label(Metric::FailureDemandShare), "failure demand");
        let c = change(Metric::FailureDemandShare, -0.45, -0.47, -0.43);
        assert_eq!(c.words(), "-45 points [-47, -43]");
        assert_eq!(c.verdict(), Verdict::Better);
        let c = change(Metric::BurnoutMean, 0.1, 0.05, 0.15);
        assert_eq!(c.words(), "+0.1 [0.05, 0.15]");
        assert_eq!(c.verdict(), Verdict::Worse);
        let c = change(Metric::CostPerResolvedNeed, -0.76, -0.78, -0.74);
        assert_eq!(c.words(), "-76% [-78, -74]");
        assert_eq!(change(Metric::TrueResolutionRate, 0.1, -0.01, 0.2).verdict(), Verdict::Unclear);
        assert_eq!(change(Metric::CasesArrived, 3.0, 1.0, 5.0).verdict(), Verdict::Neutral);
        let h = headline(
            "enablement",
            "top-down",
            &[change(Metric::FailureDemandShare, -0.45, -0.47, -0.43), change(Metric::BurnoutMean, 0.1, 0.05, 0.15)],
        );
        assert_eq!(
            h,
            "enablement against top-down: failure demand -45 points [-47, -43] (better); staff burnout +0.1 [0.05, 0.15] (worse)"
        );
        assert!(headline("a", "b", &[change(Metric::TrustMean, 0.1, -0.1, 0.3)]).contains("no difference beyond noise"));
    }

    #[test]
    fn an_interval_cut_at_the_bounds_is_marked_and_noted() {
        let cost = Change { clipped_low: true, ..change(Metric::CostPerResolvedNeed, -0.76, -1.0, -0.53) };
        assert_eq!(cost.words(), "-76% [-100*, -53]");
        let burnout = Change { clipped_high: true, ..change(Metric::BurnoutMean, 0.2, 0.1, 0.3) };
        assert_eq!(burnout.words(), "+0.2 [0.1, 0.3*]");
        // Not cut, only near the limit: enough digits not to read as a fall of 100%.
        let near = change(Metric::CostPerResolvedNeed, -0.76, -0.9958, -0.53);
        assert_eq!(near.words(), "-76% [-99.6, -53]");
        assert_eq!(change(Metric::CostPerResolvedNeed, -0.5, -1.0, 0.1).words(), "-50% [-100, 10]", "at the limit: as it is");
        assert_eq!(change(Metric::WaitMeanDays, -50.0, -99.6, -10.0).words(), "-50 days [-100, -10]", "no limit at -100 days");
        assert!(headline_clipped(&[cost]));
        assert!(!headline_clipped(&[change(Metric::CostPerResolvedNeed, -0.76, -0.78, -0.74)]), "nothing cut");
        // Not shown in the headline (unclear, or not a headline metric): no note.
        assert!(!headline_clipped(&[Change { clipped_low: true, ..change(Metric::TrustMean, 0.1, -0.1, 0.3) }]));
        assert!(!headline_clipped(&[Change { clipped_low: true, ..change(Metric::CasesArrived, -3.0, -5.0, -1.0) }]));
        assert!(CLIPPED_NOTE.starts_with(CLIPPED_MARK));
    }

    #[test]
    fn money_shows_the_chosen_symbol() {
        assert_eq!(value(Metric::CostPerResolvedNeed, 300.0), "£300");
        set_currency("€");
        assert_eq!(value(Metric::CostPerResolvedNeed, 300.0), "€300");
        assert_eq!(unit_of("cost_per_resolved_need"), "€ per resolution");
        set_currency(DEFAULT_CURRENCY);
        let m = serde_json::json!({"scenarios": [{"parameters": {"money": {"currency_symbol": "$"}}}]});
        assert_eq!(currency_of_manifest(&m), "$");
        assert_eq!(currency_of_manifest(&serde_json::json!({})), "£");
    }

    #[test]
    fn drift_names_the_years_and_values() {
        let d = drift(Metric::FailureDemandShare, &[0.21, 0.27, 0.34, 0.48, 0.52]).unwrap();
        assert_eq!(d, "failure demand rose 31 points from year 1 to year 5 (21% to 52%)");
        assert!(drift(Metric::Backlog, &[f64::NAN, 3.0]).is_none());
        assert_eq!(drift(Metric::WaitMeanDays, &[9.86, 1.62]).unwrap(), "mean wait fell 8.2 days from year 1 to year 2 (9.86 to 1.62)");
    }
}
