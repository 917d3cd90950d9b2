//! The stepping API against the scenario it steps: lever changes made between days equal the same
//! changes scheduled as events, the replay file reproduces a steered run, team overrides at the
//! service-wide value change nothing, and bad settings get the errors of `--set`.

use super::*;
use crate::simulation::run;

/// A small service for 600 days (warm-up 180), top-down or enablement.
fn small(preset: &str, events: &str) -> Scenario {
    let text = format!(
        "[run]\ndays = 600\n[population]\ncitizens = 4000\n[workforce]\nfrontline_staff = 14\n\
         [money]\nfunding_per_year = 1.8e6\n[governance]\npreset = \"{preset}\"\n{events}"
    );
    Scenario::from_toml_str(&text, "small.toml", &[]).unwrap()
}

/// Panics at the first metric and day where two runs differ in any bit.
#[track_caller]
fn assert_same(a: &RunOutput, b: &RunOutput, what: &str) {
    assert_eq!(a.series.days, b.series.days, "{what}: days");
    for m in Metric::ALL {
        let (x, y) = (a.series.get(*m), b.series.get(*m));
        if let Some(d) = x.iter().zip(y).position(|(p, q)| p.to_bits() != q.to_bits()) {
            panic!("{what}: {} differs on day {d}: {} vs {}", m.name(), x[d], y[d]);
        }
    }
    let bits = |s: &RunSummary| s.metrics.iter().map(|(k, v)| (k.to_string(), v.to_bits())).collect::<Vec<_>>();
    assert_eq!(bits(&a.summary), bits(&b.summary), "{what}: summary");
    assert_eq!(a.totals, b.totals, "{what}: totals");
    assert_eq!(a.networks, b.networks, "{what}: networks");
}

/// First day on which any metric differs, if any.
fn first_difference(a: &RunOutput, b: &RunOutput) -> Option<usize> {
    Metric::ALL.iter().filter_map(|m| a.series.get(*m).iter().zip(b.series.get(*m)).position(|(p, q)| p.to_bits() != q.to_bits())).min()
}

fn replay(sim: &Simulation) -> RunOutput {
    let s = Scenario::from_toml_str(&sim.replay_toml(), "replay.toml", &[]).unwrap();
    run(&s, s.run.seed)
}

#[test]
fn stepping_is_the_run() {
    let s = small("top-down", "");
    let mut sim = Simulation::new(&s, 3);
    while sim.step().is_some() {}
    assert_eq!(sim.day(), 600);
    assert!(sim.step().is_none(), "no day past the horizon");
    let today = sim.metrics().today.map(|(d, rec)| (d, rec[Metric::Backlog as usize]));
    let whole = run(&s, 3);
    assert_eq!(today, Some((599, *whole.series.get(Metric::Backlog).last().unwrap())));
    assert_same(&sim.finish(), &whole, "stepped vs run");
}

#[test]
fn a_lever_set_on_day_400_equals_the_scheduled_event_and_replays() {
    for (lever, value, toml_value) in
        [("governance.discretion", toml::Value::Float(0.7), "0.7"), ("governance.time_standard", "need-led".into(), "\"need-led\"")]
    {
        let mut sim = Simulation::new(&small("top-down", ""), 1);
        sim.run_until(400);
        sim.set(lever, value).unwrap();
        let replayed = replay(&sim);
        let steered = sim.finish();
        let event = format!("[[events]]\nkind = \"lever\"\nday = 400\nlever = \"{lever}\"\nvalue = {toml_value}\n");
        let scheduled = run(&small("top-down", &event), 1);
        assert_same(&steered, &scheduled, lever);
        assert_same(&steered, &replayed, "replay");
        let unchanged = run(&small("top-down", ""), 1);
        assert_eq!(first_difference(&steered, &unchanged), Some(400), "{lever} takes effect from day 400");
    }
}

#[test]
fn a_preset_set_mid_run_is_a_reform() {
    let mut sim = Simulation::new(&small("top-down", ""), 2);
    sim.run_until(300);
    sim.set("governance.preset", "enablement").unwrap();
    let replayed = replay(&sim);
    let steered = sim.finish();
    let reform = run(&small("top-down", "[[events]]\nkind = \"reform\"\nday = 300\npreset = \"enablement\"\n"), 2);
    assert_same(&steered, &reform, "set preset vs reform event");
    assert_same(&steered, &replayed, "replay");
}

#[test]
fn every_team_at_the_service_wide_value_changes_nothing() {
    for preset in ["top-down", "enablement"] {
        let s = small(preset, "");
        let g = s.governance.clone();
        let mut sim = Simulation::new(&s, 4);
        for t in 0..sim.teams().len() {
            sim.set_team(t, "discretion", g.discretion).unwrap();
            sim.set_team(t, "governance.time_standard", toml::Value::try_from(g.time_standard).unwrap()).unwrap();
            sim.set_team(t, "prevention_share", g.prevention_share).unwrap();
        }
        sim.step();
        assert!(sim.teams().iter().all(|t| t.own_levers.len() == 3), "every team holds its own levers");
        let replayed = replay(&sim);
        let overridden = sim.finish();
        assert_same(&overridden, &run(&s, 4), preset);
        assert_same(&overridden, &replayed, "replay");
    }
}

#[test]
fn one_team_with_more_discretion_differs_only_from_the_day_of_change() {
    let s = small("top-down", "");
    let mut sim = Simulation::new(&s, 5);
    sim.run_until(300);
    let before = sim.teams();
    // The delivery stage of the pipeline: the one team whose workers decide on responses.
    let t = before.iter().position(|t| t.delivers).unwrap();
    sim.set_team(t, "discretion", 0.9).unwrap();
    sim.step();
    let after = sim.teams();
    assert_eq!(after[t].discretion, 0.9);
    assert_eq!(after[t].own_levers, vec!["discretion"]);
    let others =
        |v: &[TeamState]| v.iter().filter(|x| x.team as usize != t).map(|x| (x.discretion, x.own_levers.len())).collect::<Vec<_>>();
    assert_eq!(others(&after), others(&before), "the other teams keep the service-wide lever");
    let replayed = replay(&sim);
    let steered = sim.finish();
    let first = first_difference(&steered, &run(&s, 5));
    assert!(first.is_some_and(|d| d >= 300), "first difference on day {first:?}");
    assert_same(&steered, &replayed, "replay");
}

/// `set` and `set_team` refuse what `--set` refuses with the same message (the file named by
/// the scenario's name instead of its path), and what cannot change during a run.
#[test]
fn bad_settings_get_the_errors_of_set() {
    let s = Scenario::builtin(&[]).unwrap();
    let mut small = s.clone();
    small.population.citizens = 2000;
    small.workforce.frontline_staff = 6;
    let mut sim = Simulation::new(&small, 1);
    sim.run_until(3);
    for arg in [
        "governance.discretion=2",
        "governance.discretion=much",
        "governance.bogus=1",
        "governance.time_standard=sometimes",
        "governance.preset=anarchy",
        "governance.prevention_share=0.7",
        "need_types[7].rate_per_year=1",
        "governance.discretion",
        "=1",
    ] {
        let cli = Scenario::builtin(&[match Override::parse(arg) {
            Ok(o) => o,
            Err(e) => {
                assert_eq!(sim.set_arg(arg).unwrap_err().to_string(), e.to_string(), "{arg}");
                continue;
            }
        }])
        .unwrap_err()
        .to_string();
        let api = sim.set_arg(arg).unwrap_err().to_string();
        assert_eq!(api.replacen(&small.name, "", 1), cli.replacen("<built-in default>", "", 1), "{arg}");
    }
    let e = sim.set("population.citizens", 100).unwrap_err().to_string();
    assert!(e.contains("only governance levers can change during a run"), "{e}");
    let e = sim.set_team(0, "admin_share", 0.2).unwrap_err().to_string();
    assert!(e.contains("service-wide"), "{e}");
    let e = sim.set_team(99, "discretion", 0.2).unwrap_err().to_string();
    assert!(e.contains("there is no team 99"), "{e}");
    let e = sim.set_team(0, "discretion", 1.5).unwrap_err().to_string();
    assert!(e.contains("field `governance.discretion`: 1.5 is out of range"), "{e}");
    assert!(sim.scenario().events.is_empty(), "refused settings leave no event");
    sim.run_until(small.run.days);
    assert!(sim.set("governance.discretion", 0.5).unwrap_err().to_string().contains("the run has ended"));
}

#[test]
fn agents_are_columns_of_the_citizens_and_the_staff_in_post() {
    let s = small("enablement", "");
    let mut sim = Simulation::new(&s, 6);
    sim.run_until(200);
    let a = sim.agents();
    assert_eq!(a.day, 200);
    let n = s.population.citizens;
    let c = &a.citizens;
    assert!([c.neighbourhood.len(), c.wellbeing.len(), c.trust.len(), c.latent.len(), c.open_needs.len()].iter().all(|&l| l == n));
    let w = &a.workers;
    let in_post = sim.world().workers.in_post_count();
    assert!([w.worker.len(), w.team.len(), w.skill.len(), w.fatigue.len(), w.burnout.len()].iter().all(|&l| l == in_post));
    let live = sim.world().needs.live.iter().filter(|&&l| l).count();
    assert_eq!(c.open_needs.iter().map(|&k| k as usize).sum::<usize>(), live);
    let teams = sim.teams();
    assert_eq!(teams.iter().map(|t| t.open_cases).sum::<usize>(), sim.world().open_cases());
    assert!(w.team.iter().all(|&t| (t as usize) < teams.len()));
    let trust_mean = crate::metrics::ExactSum::of(&c.trust).total() / n as f64;
    assert_eq!(sim.metrics().get(Metric::TrustMean), Some(trust_mean));
}
