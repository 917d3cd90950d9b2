//! Patterns of the workforce, management and money loops (MODEL.md §5.1, §5.3, §5.4, §5.6), each
//! over 20 seeds with 95% confidence bounds; the set-ups and verdicts are the registry's
//! (`sim_core::validation`, as `sim patterns` runs them), with extra asserts here. Where a test runs at half scale (20,000 citizens, 60
//! staff, half the funding) it says so; per-capita rates are the same, so the patterns are too.

use sim_core::metrics::Metric;
use sim_core::scenario::{Override, Scenario};
use sim_core::simulation::run;

use crate::patterns::check;

fn load(file: Option<&str>, sets: &[String]) -> Scenario {
    let o: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    match file {
        Some(f) => Scenario::from_file(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(f), &o).unwrap(),
        None => Scenario::builtin(&o).unwrap(),
    }
}

fn half_scale() -> Vec<String> {
    vec!["population.citizens=20000".into(), "workforce.frontline_staff=60".into(), "money.funding_per_year=9.0e6".into()]
}

/// MODEL.md §7.1 (Oliva & Sterman 2001): after a temporary surge, top-down's time per case stays
/// below its pre-surge level a year after the surge ends; teams that see their true outcomes
/// restore their time standard, and their time per case comes back to within 10%.
/// Surge: x1.5 for days 400-520 (scenarios/surge.toml); windows: days 310-400 before, 885-975 after.
#[test]
fn surge_erodes_top_down_time_but_enablement_recovers() {
    let r = check("surge_erodes_top_down_time_but_enablement_recovers");
    assert!(
        r.extra("enablement time per case after/before").unwrap().ci_low > 0.9,
        "enablement time per case should come back to within 10%"
    );
    assert!(r.extra("enablement T* after/before").unwrap().ci_low > 0.97, "enablement teams should restore their time standard");
}

/// MODEL.md §7.4 (KPMG 2015): overhead is a larger share of cost under the managed hierarchy than
/// under self-managing teams. Only the direction is tested: the back-office ratios were calibrated
/// to KPMG's ~25% and ~8%, so the levels are a calibration, not evidence (MODEL.md §10).
#[test]
fn overhead_share_near_buurtzorg_figures() {
    let r = check("overhead_share_near_buurtzorg_figures");
    let (t, e) = (r.extra("top-down").unwrap(), r.extra("enablement").unwrap());
    assert!(e.ci_high < t.ci_low, "{t:?} {e:?}");
}

/// MODEL.md §7.8 (Karasek 1979): across a 2x2 grid of demand (x0.7, x1.4) and control (top-down vs
/// enablement levers), burnout is highest at high demand with low control. Half scale, 3 years.
#[test]
fn burnout_peaks_with_high_demand_and_low_control() {
    check("burnout_peaks_with_high_demand_and_low_control");
}

/// MODEL.md §7.10, §5.6: a reform from top-down to enablement (day 540, scenarios/reform-transition.toml)
/// first raises the total cost (days 540-570 against 450-540), then brings it below the old level
/// (days 900-1080).
///
/// The pattern FAILS on the corrected model (issue 15): with staff paid for contracted hours,
/// training and slower first cases cost no extra pay, while the smaller structure costs less from
/// the first day, so total cost falls at once (about -18% in the first month) and keeps falling
/// (about -48% a year on). The J-curve now shows in outcomes, not in cost. This test records that
/// finding and fails if it changes.
#[test]
fn reform_cost_falls_at_once_once_staff_are_paid_for_contracted_hours() {
    let r = crate::patterns::observe("reform_shows_a_j_curve_in_cost");
    assert!(!r.pass && r.observed.checks[0].ci_high < 0.0 && r.observed.checks[1].ci_low > 0.0, "{:?}", r.observed.checks);
}

/// MODEL.md §5.1, §5.4: a funding cut under top-down (scenarios/austerity.toml, 30% from day 365)
/// freezes hiring; the workforce shrinks and burnout rises (days 1300-1460 against 275-365).
#[test]
fn funding_cut_drives_the_burnout_turnover_loop() {
    check("funding_cut_drives_the_burnout_turnover_loop");
}

/// MODEL.md §5.4: money is conserved: the budget's change is funding in minus costs out.
#[test]
fn budget_conserves_money() {
    let s = load(None, &half_scale().into_iter().chain(["run.days=400".to_string()]).collect::<Vec<_>>());
    let o = run(&s, 3);
    let budget = o.series.get(Metric::Budget);
    let flows: f64 = (1..400).map(|d| o.series.get(Metric::Funding)[d] - o.series.get(Metric::CostTotal)[d]).sum();
    let change = budget[399] - budget[0];
    assert!((change - flows).abs() < 1e-6 * flows.abs().max(1.0), "change {change} vs flows {flows}");
}

/// MODEL.md §7.4 (KPMG 2015; Buurtzorg): with the presets on the built-in demand, enablement uses
/// fewer hours per client and costs less per client despite a 12% higher hourly rate. Direction
/// with 95% CIs on paired differences; the sizes (KPMG: -35% hours, -28% cost) are reported, not
/// asserted: the model gives a smaller gap (see docs and the issue note).
///
/// The pattern FAILS on the corrected model (issue 15): enablement still costs less per client
/// (about -5%, 95% CI below 0), but its hours per client are no longer lower (about +3%, CI
/// covering 0). This test records that finding and fails if it changes.
#[test]
fn enablement_lower_cost_per_client_but_not_fewer_hours() {
    let td = load(None, &["governance.preset=top_down".into()]);
    let en = load(None, &["governance.preset=enablement".into()]);
    assert!(en.governance.hourly_rate > 1.1 * td.governance.hourly_rate);
    let r = crate::patterns::observe("enablement_fewer_hours_and_lower_cost_per_client");
    let (hours, cost) = (&r.observed.checks[0], &r.observed.checks[1]);
    assert!(!r.pass && hours.ci_high > 0.0 && cost.ci_high < 0.0, "{:?}", r.observed.checks);
}
