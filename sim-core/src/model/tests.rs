//! Tests of the world as a whole: conservation of cases, determinism, and mechanisms observed in
//! a running world. Small populations keep them fast; patterns over many seeds live in
//! sim-core/tests/integration.

use super::needs::{NO_WORKER, NeedState};
use super::*;
use crate::scenario::{Governance, Override};
use crate::simulation::{run, run_on};

fn small(preset: &str, days: u32) -> Scenario {
    let sets = [
        format!("governance.preset={preset}"),
        "population.citizens=6000".into(),
        "workforce.frontline_staff=18".into(),
        format!("run.days={days}"),
        "run.warmup_days=30".into(),
    ];
    let o: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    Scenario::builtin(&o).unwrap()
}

/// Every case is in exactly one state each day: arrivals = open + closed + abandoned + escalated,
/// where open = queued + in service + awaiting approval.
#[test]
fn cases_are_conserved_every_day() {
    for preset in ["top_down", "enablement"] {
        let s = small(preset, 400);
        let mut w = World::new(&s, 11);
        let mut any_abandoned = false;
        let mut any_escalated = false;
        for _ in 0..s.run.days {
            let rec = w.step();
            let t = w.totals;
            let queued = w.needs.count(NeedState::Queued);
            let awaiting = w.needs.count(NeedState::AwaitingApproval);
            let open = queued + awaiting;
            assert_eq!(
                t.arrived,
                open as u64 + t.closed_resolved + t.closed_unresolved + t.abandoned + t.escalated,
                "{preset} day {}: {t:?} open {open}",
                w.day
            );
            assert_eq!(rec[Metric::Backlog as usize], open as f64);
            assert_eq!(w.needs.len(), queued + awaiting + w.needs.count(NeedState::Hidden) + w.needs.count(NeedState::Returning));
            // The counts kept as needs move agree with a walk over every need.
            for state in [NeedState::Hidden, NeedState::Queued, NeedState::AwaitingApproval, NeedState::Returning] {
                assert_eq!(w.needs.in_state(state), w.needs.count(state), "{preset} day {}: {state:?}", w.day);
            }
            // Service in progress only for queued cases with a worker.
            for (_, n) in w.needs.iter() {
                if n.in_service {
                    assert_eq!(n.state, NeedState::Queued);
                    assert_ne!(n.worker, NO_WORKER);
                }
            }
            any_abandoned |= t.abandoned > 0;
            any_escalated |= t.escalated > 0;
        }
        assert!(w.totals.arrived > 1000, "{preset}: {:?}", w.totals);
        assert!(w.totals.closed_resolved > 0 && w.totals.closed_unresolved > 0, "{preset}: {:?}", w.totals);
        if preset == "top_down" {
            assert!(any_abandoned && any_escalated, "top-down should see both abandonment and escalation: {:?}", w.totals);
        }
    }
}

#[test]
fn same_seed_same_bits_different_seed_different_output() {
    let s = small("top_down", 250);
    let a = run(&s, 5);
    let b = run(&s, 5);
    let c = run(&s, 6);
    let bits = |o: &RunOutput| o.series.columns.iter().flatten().map(|x| x.to_bits()).collect::<Vec<u64>>();
    assert_eq!(bits(&a), bits(&b));
    assert_ne!(bits(&a), bits(&c));
    let summary_bits = |o: &RunOutput| o.summary.metrics.iter().map(|(n, v)| (*n, v.to_bits())).collect::<Vec<_>>();
    assert_eq!(summary_bits(&a), summary_bits(&b));
}

/// A population built once (for another scenario with the same population section, as `sim
/// compare` shares them) gives the bits of a run that builds its own; one built for another seed
/// or section is refused.
#[test]
fn a_shared_population_gives_the_same_bits() {
    let (top_down, enablement) = (small("top_down", 250), small("enablement", 250));
    assert_eq!(top_down.population, enablement.population);
    let bits = |o: &RunOutput| o.series.columns.iter().flatten().map(|x| x.to_bits()).collect::<Vec<u64>>();
    let built = Population::new(&enablement.population, 5);
    assert!(built.fits(&top_down, 5) && !built.fits(&top_down, 6));
    for s in [&top_down, &enablement] {
        assert_eq!(bits(&run_on(s, 5, built.clone())), bits(&run(s, 5)), "{}", s.name);
    }
    let mut other = top_down.clone();
    other.population.trust_mean = 0.4;
    assert!(!built.fits(&other, 5));
    let refused = std::panic::catch_unwind(|| World::with_population(&other, 5, built.clone()));
    assert!(refused.is_err(), "a population of another section is refused");
}

#[test]
fn thread_count_does_not_change_output() {
    let s = small("enablement", 200);
    let in_pool = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| run(&s, 3))
    };
    let one = in_pool(1);
    let two = in_pool(2);
    for (x, y) in one.series.columns.iter().zip(&two.series.columns) {
        assert_eq!(x.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), y.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
    }
}

#[test]
fn a_run_past_the_split_size_gives_the_same_bits_on_one_thread_and_two() {
    // From SPLIT_FROM citizens, on a pool of two threads, trust spreading, the exact sums, the
    // Gini's sort, the set-up, the queues' first chunks, the release of leavers' cases and the
    // opinion exchanges run on the pool; on one thread the one-thread paths. 30 days: four
    // spreading steps, two Ginis (days 0 and 28), both regimes (pipeline stages and patches).
    for preset in ["top_down", "enablement"] {
        let sets = [
            format!("governance.preset={preset}"),
            format!("population.citizens={}", SPLIT_FROM + 4_321),
            "workforce.frontline_staff=800".into(),
            "run.days=30".into(),
            "run.warmup_days=10".into(),
        ];
        let o: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
        let s = Scenario::builtin(&o).unwrap();
        let in_pool = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                assert_eq!(World::new(&s, 4).split, threads > 1);
                run(&s, 4)
            })
        };
        let bits = |o: &RunOutput| o.series.columns.iter().flatten().map(|x| x.to_bits()).collect::<Vec<u64>>();
        let (one, two) = (in_pool(1), in_pool(2));
        assert_eq!(bits(&one), bits(&two), "{preset}");
        let gini = one.series.get(Metric::WellbeingGini);
        assert!(gini.iter().all(|g| *g > 0.0 && *g < 1.0), "{preset}: a Gini every day");
        if preset == "top_down" {
            // The Gini at scale (a copy spread over buckets, the buckets sorted side by side) is
            // the Gini of every citizen's wellbeing that day, bit for bit.
            let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
            pool.install(|| {
                let mut w = World::new(&s, 4);
                for day in 0..=28 {
                    let rec = w.step();
                    if day % 28 == 0 {
                        let whole = crate::metrics::gini(&w.citizens.wellbeing);
                        assert_eq!(rec[Metric::WellbeingGini as usize].to_bits(), whole.to_bits(), "day {day}");
                    }
                }
            });
        }
    }
}

#[test]
fn the_split_passes_give_the_bits_of_the_one_thread_passes() {
    // The split paths forced on a small run (on two threads) against the one-thread paths: every
    // day's record and the citizens' trust and opinions, bit for bit.
    // Trust spreading every 1, 3 and 7 days (its sums taken a share a day on a split world), the
    // interval changed on day 50 and spreading stopped from day 80 to 95.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    for preset in ["top_down", "enablement"] {
        for interval in [1, 3, 7] {
            let mut s = small(preset, 120);
            s.citizens.trust_spread_interval_days = interval;
            let days = |split: bool| {
                let mut w = World::new(&s, 9);
                w.split = split;
                let records: Vec<u64> = pool.install(|| {
                    (0..120u32)
                        .flat_map(|day| {
                            match day {
                                50 => w.scenario.citizens.trust_spread_interval_days = interval + 2,
                                80 => w.scenario.citizens.trust_spread = 0.0,
                                95 => w.scenario.citizens.trust_spread = s.citizens.trust_spread,
                                _ => {}
                            }
                            w.step()
                        })
                        .map(f64::to_bits)
                        .collect()
                });
                let citizens: Vec<u64> = w.citizens.trust.iter().chain(&w.citizens.opinion).map(|x| x.to_bits()).collect();
                (records, citizens)
            };
            let (split, whole) = (days(true), days(false));
            assert!(split == whole, "{preset}, every {interval} days");
        }
    }
}

#[test]
fn no_need_is_lost_from_the_queues() {
    // Every queued case is in its team's queue exactly once after the daily review.
    let s = small("top_down", 120);
    let mut w = World::new(&s, 2);
    for _ in 0..120 {
        w.step();
        let mut seen = vec![0u8; w.needs.slots.len()];
        for q in &w.scratch.queues {
            for &key in q {
                seen[super::service::queue_key_id(key) as usize] += 1;
            }
        }
        assert!(seen.iter().all(|&c| c <= 1));
    }
}

#[test]
fn place_based_teams_are_small_and_cover_every_neighbourhood() {
    let s = small("enablement", 40);
    let w = World::new(&s, 1);
    assert!(w.teams.iter().all(|t| t.workers.len() <= s.routing.max_team_size && !t.workers.is_empty()));
    for i in (0..w.citizens.len()).step_by(97) {
        let team = &w.teams[w.citizens.home_team[i] as usize];
        assert_eq!(team.role, TeamRole::Patch { neighbourhood: w.citizens.neighbourhood[i] });
    }
    let staffed: usize = w.teams.iter().map(|t| t.workers.len()).sum();
    assert_eq!(staffed, s.workforce.frontline_staff);
}

#[test]
fn pipeline_has_one_stage_per_handoff_plus_delivery() {
    let s = small("top_down", 40);
    let w = World::new(&s, 1);
    assert_eq!(w.teams.len(), s.governance.handoffs as usize + 1);
    assert!(matches!(w.teams.last().unwrap().role, TeamRole::Stage { last: true, .. }));
}

/// Sustained excess pressure erodes T* (Oliva & Sterman 2001): with too few staff for the demand,
/// the desired time per case ends well below where it started, and time per case follows.
#[test]
fn sustained_pressure_erodes_the_time_standard() {
    let mut s = small("top_down", 500);
    s.workforce.frontline_staff = 8;
    let out = run(&s, 4);
    let ts = out.series.get(Metric::TimeStandard);
    assert!(ts[499] < 0.8 * ts[0], "time_standard {} -> {}", ts[0], ts[499]);
    let pressure = out.series.get(Metric::WorkPressure);
    assert!(pressure[400..].iter().sum::<f64>() / 100.0 > 1.0);
}

/// With target pressure, early closures make reported resolution exceed true resolution; with no
/// target pressure the two agree exactly (MODEL.md §4.7).
#[test]
fn reported_and_true_metrics_part_only_under_targets() {
    let mut s = small("top_down", 400);
    let gamed = run(&s, 8);
    assert!(gamed.summary.get("gaming_gap").unwrap() > 0.0);
    s.governance.target_pressure = 0.0;
    let honest = run(&s, 8);
    assert_eq!(honest.summary.get("gaming_gap").unwrap(), 0.0);
    assert_eq!(honest.summary.get("gaming_caught").unwrap(), 0.0);
}

/// Without discretion, approvals or recognition, no bespoke responses; with full discretion and a
/// skilled workforce on complex demand, many.
#[test]
fn bespoke_responses_need_discretion_or_approval() {
    let mut s = small("top_down", 200);
    s.governance.discretion = 0.0;
    s.governance.approval_layers = 0;
    assert_eq!(run(&s, 1).summary.get("bespoke_deliveries").unwrap(), 0.0);
    s.governance = Governance::enablement();
    assert!(run(&s, 1).summary.get("bespoke_share").unwrap() > 0.2);
}

#[test]
fn overhead_share_reflects_the_structure() {
    let td = run(&small("top_down", 200), 1).summary.get("overhead_share").unwrap();
    let en = run(&small("enablement", 200), 1).summary.get("overhead_share").unwrap();
    assert!(td > 2.0 * en, "top-down {td} vs enablement {en}");
}

#[test]
fn costs_add_up() {
    let out = run(&small("top_down", 200), 1);
    for d in 0..200 {
        let g = |m: Metric| out.series.get(m)[d];
        let total = g(Metric::CostFrontline) + g(Metric::CostOverhead) + g(Metric::CostAcute);
        assert!((g(Metric::CostTotal) - total).abs() <= 1e-9 * total.max(1.0));
        assert_eq!(g(Metric::CasesArrived), g(Metric::DemandNew) + g(Metric::DemandFailure));
    }
}

/// Issue 23: the means of wellbeing and trust come from sums kept as the values change. Every
/// day of runs that take every path that changes them (encounters, resolutions, acute events,
/// harm, the weekly recovery and spreading, an assembly), the kept sums are the sums taken afresh.
#[test]
fn kept_sums_of_wellbeing_and_trust_are_the_sums_taken_afresh() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let smaller = ["population.citizens=6000", "workforce.frontline_staff=18", "run.days=400"];
    let o: Vec<Override> = smaller.iter().map(|s| Override::parse(s).unwrap()).collect();
    let (mut acute, mut harm, mut assembly) = (0.0, 0.0, false);
    for file in ["top-down.toml", "citizens-assembly.toml", "safety-protocol.toml"] {
        let s = Scenario::from_file(&dir.join(file), &o).unwrap();
        let mut w = World::new(&s, 5);
        for _ in 0..s.run.days {
            let rec = w.step();
            acute += rec[Metric::AcuteEvents as usize];
            harm += rec[Metric::HarmEvents as usize];
            let (wellbeing, trust) = (&w.citizens.wellbeing, &w.citizens.trust);
            assert_eq!(wellbeing.sum(), crate::metrics::ExactSum::of(wellbeing), "{file} day {}", w.day);
            assert_eq!(trust.sum(), crate::metrics::ExactSum::of(trust), "{file} day {}", w.day);
            let n = wellbeing.len() as f64;
            assert_eq!(rec[Metric::WellbeingMean as usize], crate::metrics::ExactSum::of(wellbeing).total() / n);
            assert_eq!(rec[Metric::TrustMean as usize], crate::metrics::ExactSum::of(trust).total() / n);
        }
        assembly |= w.assemblies.last.is_some();
    }
    assert!(acute > 0.0 && harm > 0.0 && assembly, "every path was taken: acute {acute}, harm {harm}, assembly {assembly}");
}

#[test]
fn the_network_snapshot_records_what_the_organisation_is_grouped_by() {
    let s = small("enablement", 400);
    let mut w = World::new(&s, 3);
    let snap = w.network_snapshot(50);
    assert_eq!(snap.organisation_grouped_by, Some(OrgGrouping::Department));
    assert!(snap.organisation_group_names.iter().all(|n| n != "established way"));
    // Once a team takes up a new practice, the teams are grouped by practice.
    for _ in 0..s.run.days {
        if w.learning.in_use.iter().any(Option::is_some) {
            break;
        }
        w.step();
    }
    assert!(w.learning.in_use.iter().any(Option::is_some), "a team tried a practice within {} days", s.run.days);
    let snap = w.network_snapshot(50);
    assert_eq!(snap.organisation_grouped_by, Some(OrgGrouping::Practice));
    assert_eq!(snap.organisation_group_names[0], "established way");
}

#[test]
fn summed_values_note_each_value_set_until_all_may_change() {
    let mut v = SummedValues::default();
    for x in [0.1, 0.2, 0.3] {
        v.push(x);
    }
    assert_eq!(v.changes_since(Vec::new()), None, "no note before the first");
    v.set(2, 0.5);
    v.set(0, 0.4);
    v.set(2, 0.6);
    assert_eq!(v.changes_since(Vec::new()), Some(vec![2, 0, 2]));
    // The buffer handed in is emptied and takes the next note.
    assert_eq!(v.changes_since(vec![9, 9]), Some(vec![]));
    v.set(1, 0.7);
    assert_eq!(v.changes_since(Vec::new()), Some(vec![1]));
    // A change of every value, a new value or a stop ends the note.
    v.set(1, 0.8);
    v.update_all(|x| x[0] = 0.0);
    assert_eq!(v.changes_since(Vec::new()), None);
    v.set(1, 0.1);
    v.push(0.2);
    assert_eq!(v.changes_since(Vec::new()), None);
    v.set(1, 0.3);
    v.stop_noting();
    v.set(1, 0.4);
    assert_eq!(v.changes_since(Vec::new()), None);
    assert_eq!(v.sum(), crate::metrics::ExactSum::of(&v));
    assert_eq!(&v[..], &[0.0, 0.4, 0.6, 0.2]);
}

#[test]
fn polarisation_is_recorded_after_the_days_meetings_and_any_assembly() {
    // Taken after the opinion exchanges (beside the service on a split world) when due, and again
    // after an assembly: with assemblies every 7 days (each on a weekly day) and every 10 (none
    // in 60 days), the day's record is the polarisation of the opinions at the end of the day, on
    // split and whole runs.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    for (interval, expected) in [(7, 8), (10, 5)] {
        let mut s = small("enablement", 60);
        s.governance.assembly_interval_days = interval;
        s.governance.assembly_size = 400;
        for split in [false, true] {
            let mut w = World::new(&s, 4);
            w.split = split;
            w.governance.assembly_interval_days = interval;
            let mut assemblies = 0;
            pool.install(|| {
                for _ in 0..60 {
                    let day = w.day;
                    let rec = w.step();
                    let assembly = w.assemblies.last.as_ref().is_some_and(|a| a.day == day);
                    assemblies += usize::from(assembly);
                    if day.is_multiple_of(7) || assembly {
                        let now = citizens::polarisation(w.citizens.opinion.iter().copied());
                        assert_eq!(rec[Metric::OpinionPolarisation as usize].to_bits(), now.to_bits(), "day {day}, split {split}");
                    }
                }
            });
            assert_eq!(assemblies, expected, "every {interval} days");
        }
    }
}

#[test]
fn trust_sums_start_afresh_on_another_network() {
    // The community network is fixed in a run, but a world given another one mid-week (day 13,
    // between two shares of day 14's sums) must not spread over sums of the old one.
    let s = small("top_down", 40);
    let other = World::new(&s, 99).community;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let days = |split: bool| {
        let mut w = World::new(&s, 9);
        w.split = split;
        assert!(!Arc::ptr_eq(&w.community, &other));
        let records: Vec<u64> = pool.install(|| {
            (0..30u32)
                .flat_map(|day| {
                    if day == 13 {
                        w.community = Arc::clone(&other);
                    }
                    w.step()
                })
                .map(f64::to_bits)
                .collect()
        });
        (records, w.citizens.trust.iter().map(|x| x.to_bits()).collect::<Vec<u64>>())
    };
    assert!(days(true) == days(false));
}
