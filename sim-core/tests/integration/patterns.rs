//! Pattern tests over >= 20 seeds with 95% confidence bounds on paired differences (same seed for
//! both regimes). The set-ups, statistics and verdicts live in `sim_core::validation` (the
//! registry `sim patterns` runs), so the tests and the command share one source of truth; each
//! test here runs the pattern of the same name at full scale and may add asserts of its own.

use sim_core::validation::{PatternResult, Scale, find};

pub const SEEDS: u64 = 20;

/// Runs the registry's pattern `id` at full scale over `SEEDS` seeds, prints what it observed and
/// asserts that it passed.
#[track_caller]
/// Runs a pattern at full scale and prints its checks, without judging it: for the patterns that
/// fail on the corrected model (issue 15), whose tests record what the model now shows.
pub fn observe(id: &str) -> PatternResult {
    let r = find(id).unwrap_or_else(|| panic!("no pattern {id}")).evaluate(SEEDS, Scale::Full);
    for c in r.observed.checks.iter().chain(&r.observed.extras) {
        eprintln!("{id}: {}: {:.4} [{:.4}, {:.4}] {}", c.label, c.mean, c.ci_low, c.ci_high, r.observed.unit);
    }
    r
}

pub fn check(id: &str) -> PatternResult {
    let r = observe(id);
    assert!(
        r.pass,
        "{id} ({}): expected {} ({}); observed {:?}",
        r.pattern.reference,
        r.pattern.expected,
        r.pattern.expect.words(),
        r.observed.checks
    );
    r
}

/// MODEL.md §7.2 (Seddon 2003): failure demand is higher in the fragmented top-down pipeline than
/// under place-based enablement, on high-variety demand.
#[test]
fn failure_demand_higher_under_top_down() {
    check("failure_demand_higher_under_top_down");
}

/// MODEL.md §7.5 (Bevan & Hood 2006): under target pressure reported and true performance drift
/// apart; the gap is higher under top-down.
#[test]
fn gaming_gap_higher_under_top_down() {
    check("gaming_gap_higher_under_top_down");
}

/// MODEL.md §9 (Seddon's caveat; Arenas et al. 2010): on low-variety demand top-down's cost per
/// resolved need should not be worse than enablement's. The pattern FAILS on the corrected model
/// (issue 15): once staff in post are paid for their contracted hours, the low-variety set-up's
/// establishment (sized for harder demand) is idle much of the time, and top-down, whose imposed
/// time standard cannot use slack, pays for it. This test records that finding: top-down costs
/// more per resolved need here (paired 95% CI above 0, 40 seeds), and it fails if that changes,
/// so the verdict in docs/validation.md is revisited.
#[test]
fn low_variety_top_down_costlier_once_idle_staff_are_paid() {
    let r = observe("low_variety_top_down_not_costlier");
    assert!(!r.pass && r.observed.checks[0].ci_low > 0.0, "{:?}", r.observed.checks);
}

/// The counterpart on high-variety demand: enablement's cost per resolved need is lower. Together
/// with the test above the winner depends on the demand, not on the regime's label.
#[test]
fn high_variety_enablement_cheaper() {
    check("high_variety_enablement_cheaper");
}

/// MODEL.md §9, the phase diagram (sweeps/variety-vs-discretion.toml): both regions should exist
/// on the same base. The pattern FAILS on the corrected model (issue 15): at high complexity (0.45)
/// enablement is cheaper per resolved need, but at low complexity (0.05) top-down is no longer
/// cheaper: the base's 120 staff are idle on simple demand and idle hours are now paid. This test
/// records that finding (paired 95% CIs, 40 seeds) and fails if either end changes.
#[test]
fn phase_diagram_has_only_the_enablement_region_once_idle_staff_are_paid() {
    let r = observe("phase_diagram_has_both_regions");
    assert_eq!(r.observed.checks.len(), 2, "one check per end of the complexity axis");
    assert!(!r.pass && r.observed.checks[0].ci_low > 0.0 && r.observed.checks[1].ci_high < 0.0, "{:?}", r.observed.checks);
}
