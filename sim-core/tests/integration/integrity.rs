//! Model integrity (issue 15, MODEL.md §10): what a service pays for, scale invariance, and
//! extreme conditions that must stay physically possible (Sterman 2000, Business Dynamics ch. 21).
//! Stochastic properties run over several seeds and are judged on 95% confidence bounds.

use sim_core::metrics::{Metric, mean_ci95};
use sim_core::model::RunOutput;
use sim_core::model::money::OverheadStaff;
use sim_core::rng::run_seed;
use sim_core::scenario::{Override, Scenario};
use sim_core::simulation::run;

fn scenario(sets: &[&str]) -> Scenario {
    let o: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    Scenario::builtin(&o).unwrap()
}

fn runs(s: &Scenario, seeds: u64, master: u64) -> Vec<RunOutput> {
    use rayon::prelude::*;
    (0..seeds).into_par_iter().map(|i| run(s, run_seed(master, 0, i))).collect()
}

const NO_DEMAND: [&str; 5] = [
    "need_types[0].rate_per_year=0",
    "need_types[1].rate_per_year=0",
    "need_types[2].rate_per_year=0",
    "demand.latent_onset_per_year=0",
    "run.days=400",
];

/// With no demand at all, the service still pays its staff in post for their contracted hours and
/// its structure (managers, back office, coaches), plus the recruitment of any replacements: every
/// day, to rounding.
#[test]
fn no_demand_costs_the_pay_of_staff_in_post_plus_the_structure() {
    for preset in ["top_down", "enablement"] {
        let p = format!("governance.preset={preset}");
        let s = scenario(&NO_DEMAND.iter().copied().chain([p.as_str()]).collect::<Vec<_>>());
        let o = run(&s, 11);
        let g = &s.governance;
        let h = s.workforce.hours_per_day;
        for d in 0..o.series.len() {
            let v = |m: Metric| o.series.get(m)[d];
            assert_eq!(v(Metric::CasesArrived), 0.0);
            let pay = v(Metric::WorkforceFte) * h * g.hourly_rate;
            let structure = OverheadStaff::for_frontline(v(Metric::Establishment), g).cost_per_day(&s.money, h);
            let expected = pay + structure + v(Metric::CostRecruitment);
            let total = v(Metric::CostTotal);
            assert!(total > 0.0 && (total - expected).abs() <= 1e-9 * expected, "{preset} day {d}: {total} vs {expected}");
        }
    }
}

/// Extra staff on the same demand, with nothing for them to do, can only add cost: doubling the
/// frontline of a service whose staff are already under-used (demand x0.3) never lowers cost per
/// resolved need (paired seeds, 95% CI of the difference above 0), under either preset.
#[test]
fn more_staff_on_the_same_demand_never_lowers_cost_per_resolved_need_through_idle_time() {
    for preset in ["top_down", "enablement"] {
        let p = format!("governance.preset={preset}");
        let base = ["demand.demand_multiplier=0.3", "run.days=730", "population.citizens=20000", p.as_str()];
        let a = scenario(&base.iter().copied().chain(["workforce.frontline_staff=60"]).collect::<Vec<_>>());
        let b = scenario(&base.iter().copied().chain(["workforce.frontline_staff=120"]).collect::<Vec<_>>());
        let (ra, rb) = (runs(&a, 8, 41), runs(&b, 8, 41));
        let diff: Vec<f64> = ra
            .iter()
            .zip(&rb)
            .map(|(x, y)| y.summary.get("cost_per_resolved_need").unwrap() - x.summary.get("cost_per_resolved_need").unwrap())
            .collect();
        let (mean, lo, _) = mean_ci95(&diff);
        assert!(lo > 0.0, "{preset}: doubling idle staff changed cost per resolved need by {mean} (CI low {lo})");
    }
}

/// Halving or doubling citizens, staff and funding together leaves the rate metrics where they
/// were: the 95% CI of the difference of means (Welch) covers 0. Base: the default size, 3 years.
#[test]
fn rates_do_not_depend_on_the_size_of_the_service() {
    let metrics = ["failure_demand_share", "true_resolution_rate", "cost_per_resolved_need", "wait_mean_days"];
    for preset in ["top_down", "enablement"] {
        let p = format!("governance.preset={preset}");
        let sized = |k: f64| {
            let (c, st, f) = (
                format!("population.citizens={}", (40_000.0 * k) as u64),
                format!("workforce.frontline_staff={}", (120.0 * k) as u64),
                format!("money.funding_per_year={}", 1.8e7 * k),
            );
            scenario(&[p.as_str(), "run.days=1095", c.as_str(), st.as_str(), f.as_str()])
        };
        let base = runs(&sized(1.0), 10, 43);
        for k in [0.5, 2.0] {
            let other = runs(&sized(k), 10, 44);
            for m in metrics {
                let xs: Vec<f64> = base.iter().map(|o| o.summary.get(m).unwrap()).collect();
                let ys: Vec<f64> = other.iter().map(|o| o.summary.get(m).unwrap()).collect();
                let (lo, hi) = welch_ci95(&ys, &xs);
                assert!(lo <= 0.0 && hi >= 0.0, "{preset} x{k}: {m} moved by [{lo}, {hi}]");
            }
        }
    }
}

/// 95% CI of mean(a) - mean(b), Welch's t with the Welch-Satterthwaite degrees of freedom.
fn welch_ci95(a: &[f64], b: &[f64]) -> (f64, f64) {
    let stats = |x: &[f64]| {
        let n = x.len() as f64;
        let m = x.iter().sum::<f64>() / n;
        (m, x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0), n)
    };
    let ((ma, va, na), (mb, vb, nb)) = (stats(a), stats(b));
    let se2 = va / na + vb / nb;
    let df = se2 * se2 / ((va / na).powi(2) / (na - 1.0) + (vb / nb).powi(2) / (nb - 1.0));
    let t = sim_core::metrics::t_quantile_975(df.floor().max(1.0) as usize);
    let d = ma - mb;
    (d - t * se2.sqrt(), d + t * se2.sqrt())
}

/// Every day of a run is physically possible: shares within 0..1, no more true resolutions than
/// deliveries, no more reported closures than cases someone worked on (deliveries plus early
/// closures, each of which takes a worker `targets.gaming_hours`), costs finite and not negative.
fn assert_possible(label: &str, s: &Scenario, o: &RunOutput) {
    let gaming_hours = s.targets.gaming_hours;
    for d in 0..o.series.len() {
        let v = |m: Metric| o.series.get(m)[d];
        for m in [
            Metric::FailureDemandShare,
            Metric::TrueResolutionRate,
            Metric::ReportedResolutionRate,
            Metric::OverheadShare,
            Metric::SickRate,
            Metric::BurnoutMean,
            Metric::MoraleMean,
            Metric::WellbeingMean,
            Metric::TrustMean,
            Metric::OnTimeShare,
        ] {
            let x = v(m);
            assert!(x.is_nan() || (-1e-12..=1.0 + 1e-12).contains(&x), "{label} day {d}: {} = {x}", m.name());
        }
        assert!(v(Metric::ResolvedTrue) <= v(Metric::Deliveries), "{label} day {d}: more resolutions than deliveries");
        let gamed = v(Metric::ClosedReported) - v(Metric::ResolvedTrue);
        assert!(
            gamed >= 0.0 && gamed * gaming_hours <= v(Metric::HoursWorked) + 1e-6,
            "{label} day {d}: {gamed} early closures in {} hours worked",
            v(Metric::HoursWorked)
        );
        assert!(v(Metric::ClosedReported) <= v(Metric::CasesClosed) + 1e-9);
        for m in [Metric::CostTotal, Metric::CostFrontline, Metric::CostOverhead, Metric::Backlog, Metric::HiddenNeeds, Metric::HoursWorked]
        {
            let x = v(m);
            assert!(x.is_finite() && x >= 0.0, "{label} day {d}: {} = {x}", m.name());
        }
        assert!(v(Metric::WorkforceFte) <= v(Metric::Establishment).max(s.workforce.frontline_staff as f64) * 1.5 + 1.0);
    }
}

/// Extreme conditions (Sterman 2000 ch. 21): one member of staff, no demand, no money, extreme
/// complexity and twenty times the demand, under both presets, on a small service (4,000 citizens,
/// 12 staff, 1 year) so that twenty times its demand still runs in seconds.
#[test]
fn extreme_conditions_stay_physically_possible() {
    let small =
        ["population.citizens=4000", "workforce.frontline_staff=12", "money.funding_per_year=1.8e6", "run.days=365", "run.warmup_days=30"];
    let cases: &[(&str, &[&str])] = &[
        ("one worker", &["workforce.frontline_staff=1"]),
        ("no demand", &NO_DEMAND[..4]),
        ("no money", &["money.funding_per_year=0"]),
        (
            "extreme complexity",
            &["need_types[0].complexity_mean=0.99", "need_types[1].complexity_mean=0.99", "need_types[2].complexity_mean=0.99"],
        ),
        ("twenty times the demand", &["demand.demand_multiplier=20"]),
    ];
    for preset in ["top_down", "enablement"] {
        for (label, sets) in cases {
            let p = format!("governance.preset={preset}");
            let all: Vec<&str> = small.iter().chain(sets.iter()).copied().chain([p.as_str()]).collect();
            let s = scenario(&all);
            let o = run(&s, 5);
            let label = format!("{preset}, {label}");
            assert_possible(&label, &s, &o);
            // One worker cannot report more closures a day than the hours allow.
            if label.ends_with("one worker") {
                let reported = o.summary.get("closed_reported").unwrap();
                assert!(reported < 1.5 * s.workforce.hours_per_day / s.targets.gaming_hours, "{label}: {reported} reported closures a day");
            }
        }
    }
}
