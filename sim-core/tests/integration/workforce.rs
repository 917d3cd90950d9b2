//! Patterns of the workforce, management and money loops (MODEL.md §5.1, §5.3, §5.4, §5.6), each
//! over 20 seeds with 95% confidence bounds. Where a test runs at half scale (20,000 citizens, 60
//! staff, half the funding) it says so; per-capita rates are the same, so the patterns are too.

use rayon::prelude::*;
use sim_core::metrics::{Metric, mean_ci95};
use sim_core::model::{RunOutput, run};
use sim_core::rng::run_seed;
use sim_core::scenario::{Override, Scenario};

const SEEDS: u64 = 20;

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

fn runs(s: &Scenario) -> Vec<RunOutput> {
    (0..SEEDS).into_par_iter().map(|i| run(s, run_seed(2027, 1, i))).collect()
}

fn window_mean(o: &RunOutput, m: Metric, from: usize, to: usize) -> f64 {
    let xs: Vec<f64> = o.series.get(m)[from..to].iter().copied().filter(|x| x.is_finite()).collect();
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn ci(xs: &[f64]) -> (f64, f64, f64) {
    mean_ci95(xs)
}

/// MODEL.md §7.1 (Oliva & Sterman 2001): after a temporary surge, top-down's time per case stays
/// below its pre-surge level a year after the surge ends; teams that see their true outcomes
/// restore their time standard, and their time per case comes back to within 10%.
/// Surge: x1.5 for days 400-520 (scenarios/surge.toml); windows: days 310-400 before, 885-975 after.
#[test]
fn surge_erodes_top_down_time_but_enablement_recovers() {
    let ratio = |o: &RunOutput, m: Metric| window_mean(o, m, 885, 975) / window_mean(o, m, 310, 400);
    let td = runs(&load(Some("scenarios/surge.toml"), &["governance.preset=top_down".into()]));
    let en = runs(&load(Some("scenarios/surge.toml"), &["governance.preset=enablement".into()]));
    let td_time: Vec<f64> = td.iter().map(|o| ratio(o, Metric::TimePerCase)).collect();
    let en_time: Vec<f64> = en.iter().map(|o| ratio(o, Metric::TimePerCase)).collect();
    let en_standard: Vec<f64> = en.iter().map(|o| ratio(o, Metric::TimeStandard)).collect();
    let (t, tlo, thi) = ci(&td_time);
    let (e, elo, ehi) = ci(&en_time);
    let (s, slo, shi) = ci(&en_standard);
    eprintln!(
        "time_per_case after/before: top-down {t:.3} [{tlo:.3}, {thi:.3}], enablement {e:.3} [{elo:.3}, {ehi:.3}]; enablement T* {s:.3} [{slo:.3}, {shi:.3}]"
    );
    assert!(thi < 1.0, "top-down time per case should stay below its pre-surge level");
    assert!(elo > 0.9, "enablement time per case should come back to within 10%");
    assert!(slo > 0.97, "enablement teams should restore their time standard");
}

/// MODEL.md §7.4 (KPMG 2015): overhead near 8% under enablement and near 25% under top-down.
/// Tolerance: each mean within 5 percentage points of the figure, CIs not overlapping.
#[test]
fn overhead_share_near_buurtzorg_figures() {
    let td = runs(&load(None, &["governance.preset=top_down".into(), "run.days=730".into()]));
    let en = runs(&load(None, &["governance.preset=enablement".into(), "run.days=730".into()]));
    let share = |v: &[RunOutput]| ci(&v.iter().map(|o| o.summary.get("overhead_share").unwrap()).collect::<Vec<_>>());
    let (t, tlo, thi) = share(&td);
    let (e, elo, ehi) = share(&en);
    eprintln!("overhead_share: top-down {t:.3} [{tlo:.3}, {thi:.3}], enablement {e:.3} [{elo:.3}, {ehi:.3}]");
    assert!((t - 0.25).abs() < 0.05 && (e - 0.08).abs() < 0.05 && ehi < tlo);
}

/// MODEL.md §7.8 (Karasek 1979): across a 2x2 grid of demand (x0.7, x1.4) and control (top-down vs
/// enablement levers), burnout is highest at high demand with low control. Half scale, 3 years.
#[test]
fn burnout_peaks_with_high_demand_and_low_control() {
    let cell = |preset: &str, demand: f64| {
        let mut sets = half_scale();
        sets.extend([format!("governance.preset={preset}"), format!("demand.demand_multiplier={demand}"), "run.days=1095".into()]);
        runs(&load(None, &sets)).iter().map(|o| o.summary.get("burnout_mean").unwrap()).collect::<Vec<f64>>()
    };
    let hi_lo = cell("top_down", 1.4);
    for (name, other) in [
        ("high demand, high control", cell("enablement", 1.4)),
        ("low demand, low control", cell("top_down", 0.7)),
        ("low demand, high control", cell("enablement", 0.7)),
    ] {
        let diffs: Vec<f64> = hi_lo.iter().zip(&other).map(|(a, b)| a - b).collect();
        let (d, lo, hi) = ci(&diffs);
        eprintln!("burnout high demand, low control minus {name}: {d:.3} [{lo:.3}, {hi:.3}]");
        assert!(lo > 0.0, "{name}");
    }
}

/// MODEL.md §7.10, §5.6: a reform from top-down to enablement (day 540, scenarios/reform-transition.toml)
/// first raises the total cost (days 540-570 against 450-540), then brings it below the old level
/// (days 900-1080).
#[test]
fn reform_shows_a_j_curve_in_cost() {
    let out = runs(&load(Some("scenarios/reform-transition.toml"), &["run.days=1100".into()]));
    let before: Vec<f64> = out.iter().map(|o| window_mean(o, Metric::CostTotal, 450, 540)).collect();
    let dip: Vec<f64> = out.iter().map(|o| window_mean(o, Metric::CostTotal, 540, 570)).collect();
    let after: Vec<f64> = out.iter().map(|o| window_mean(o, Metric::CostTotal, 900, 1080)).collect();
    let worse: Vec<f64> = dip.iter().zip(&before).map(|(d, b)| d - b).collect();
    let better: Vec<f64> = before.iter().zip(&after).map(|(b, a)| b - a).collect();
    let (w, wlo, whi) = ci(&worse);
    let (b, blo, bhi) = ci(&better);
    eprintln!(
        "cost_total: first month after reform minus before {w:.0} [{wlo:.0}, {whi:.0}]; before minus a year on {b:.0} [{blo:.0}, {bhi:.0}]"
    );
    assert!(wlo > 0.0, "costs should rise first");
    assert!(blo > 0.0, "then fall below the old level");
}

/// MODEL.md §5.1, §5.4: a funding cut under top-down (scenarios/austerity.toml, 30% from day 365)
/// freezes hiring; the workforce shrinks and burnout rises (days 1300-1460 against 275-365).
#[test]
fn funding_cut_drives_the_burnout_turnover_loop() {
    let out = runs(&load(Some("scenarios/austerity.toml"), &[]));
    for (m, sign) in [(Metric::WorkforceFte, -1.0), (Metric::BurnoutMean, 1.0), (Metric::WorkPressure, 1.0)] {
        let change: Vec<f64> = out.iter().map(|o| sign * (window_mean(o, m, 1300, 1460) - window_mean(o, m, 275, 365))).collect();
        let (d, lo, hi) = ci(&change);
        eprintln!("{}: signed change {d:.3} [{lo:.3}, {hi:.3}]", m.name());
        assert!(lo > 0.0, "{}", m.name());
    }
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
#[test]
fn enablement_fewer_hours_and_lower_cost_per_client() {
    let td = load(None, &["governance.preset=top_down".into()]);
    let en = load(None, &["governance.preset=enablement".into()]);
    assert!(en.governance.hourly_rate > 1.1 * td.governance.hourly_rate);
    let pairs: Vec<(RunOutput, RunOutput)> =
        (0..SEEDS).into_par_iter().map(|i| (run(&en, run_seed(2027, 3, i)), run(&td, run_seed(2027, 3, i)))).collect();
    for metric in ["hours_per_client", "cost_per_client"] {
        let rel: Vec<f64> = pairs.iter().map(|(e, t)| e.summary.get(metric).unwrap() / t.summary.get(metric).unwrap() - 1.0).collect();
        let (m, lo, hi) = ci(&rel);
        eprintln!("{metric}: enablement relative to top-down {:+.1}% [{:+.1}%, {:+.1}%]", 100.0 * m, 100.0 * lo, 100.0 * hi);
        assert!(hi < 0.0, "{metric}");
    }
}
