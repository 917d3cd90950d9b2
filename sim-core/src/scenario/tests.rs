use super::*;

fn load(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::from_toml_str(text, "test.toml", &[])
}

#[test]
fn empty_file_gives_the_defaults() {
    let s = load("").unwrap();
    assert_eq!(s.governance, Governance::top_down());
    assert_eq!(s.population.citizens, 40_000);
    assert_eq!(s.run.days, 1825);
    assert_eq!(s.need_types.len(), 3);
}

#[test]
fn preset_then_field_override() {
    let s = load("[governance]\npreset = \"enablement\"\ndiscretion = 0.5\n").unwrap();
    let mut expected = Governance::enablement();
    expected.discretion = 0.5;
    assert_eq!(s.governance, expected);
    assert_eq!(s.preset.as_deref(), Some("enablement"));
}

#[test]
fn set_overrides_beat_the_file() {
    let o = Override::parse("governance.discretion=0.25").unwrap();
    let s = Scenario::from_toml_str("[governance]\ndiscretion = 0.5\n", "t.toml", &[o]).unwrap();
    assert_eq!(s.governance.discretion, 0.25);
    let o = Override::parse("need_types[1].rate_per_year=0.5").unwrap();
    let s = Scenario::builtin(&[o]).unwrap();
    assert_eq!(s.need_types[1].rate_per_year, 0.5);
    assert_eq!(s.need_types[0], default_need_types()[0]);
    let o = Override::parse("governance.time_standard=need-led").unwrap();
    assert_eq!(Scenario::builtin(&[o]).unwrap().governance.time_standard, TimeStandard::NeedLed);
}

#[test]
fn unknown_field_names_line_and_field() {
    let e = load("name = \"x\"\n\n[governance]\ndiscretion = 0.2\nbogus = 1\n").unwrap_err();
    let ScenarioError::Field { at, field, message, .. } = &e else { panic!("{e}") };
    assert_eq!(field, "governance.bogus");
    assert_eq!(at.as_ref().unwrap().line, 5);
    assert!(message.contains("unknown field"), "{message}");
    assert!(e.to_string().starts_with("test.toml:5:"), "{e}");
}

#[test]
fn wrong_type_names_line_and_field() {
    let e = load("[population]\ncitizens = \"many\"\n").unwrap_err();
    assert_eq!(e.field(), Some("population.citizens"));
    assert!(e.to_string().starts_with("test.toml:2:"), "{e}");
}

#[test]
fn out_of_range_names_line_field_and_range() {
    let e = load("[run]\ndays = 100\n\n[governance]\n\ndiscretion = 1.5\n").unwrap_err();
    let msg = e.to_string();
    assert_eq!(e.field(), Some("governance.discretion"));
    assert!(msg.starts_with("test.toml:6:"), "{msg}");
    assert!(msg.contains("allowed 0 to 1"), "{msg}");
}

#[test]
fn out_of_range_in_a_need_type() {
    let e = load("[[need_types]]\nname = \"a\"\n[[need_types]]\nname = \"b\"\nstandard_coverage = 2\n").unwrap_err();
    assert_eq!(e.field(), Some("need_types[1].standard_coverage"));
    assert!(e.to_string().starts_with("test.toml:5:"), "{e}");
}

#[test]
fn malformed_toml_gives_line() {
    let e = load("[run]\ndays = = 3\n").unwrap_err();
    assert!(matches!(e, ScenarioError::Syntax { ref at, .. } if at.line == 2), "{e}");
}

#[test]
fn unknown_preset_lists_allowed() {
    let e = load("[governance]\npreset = \"anarchy\"\n").unwrap_err();
    assert!(e.to_string().contains("top_down, enablement"), "{e}");
    assert!(e.to_string().starts_with("test.toml:2:"), "{e}");
}

#[test]
fn bad_override_is_named() {
    let o = Override::parse("governance.discretion=7").unwrap();
    let e = Scenario::builtin(&[o]).unwrap_err();
    assert!(e.to_string().contains("--set governance.discretion"), "{e}");
    assert!(Override::parse("nodots").is_err());
    let o = Override::parse("need_types[9].rate_per_year=1").unwrap();
    assert!(Scenario::builtin(&[o]).is_err());
}

#[test]
fn consistency_checks() {
    assert_eq!(load("[run]\ndays = 100\nwarmup_days = 100\n").unwrap_err().field(), Some("run.warmup_days"));
    assert_eq!(load("[population]\ncommunity_k = 5\n").unwrap_err().field(), Some("population.community_k"));
    assert!(load("need_types = []\n").is_err());
}

#[test]
fn every_parameter_has_unit_source_and_doc() {
    let specs = Scenario::parameter_specs();
    assert!(specs.len() > 60);
    for s in &specs {
        assert!(!s.unit.is_empty() && !s.source.is_empty() && !s.doc.is_empty(), "{}.{}", s.section, s.name);
        assert!(s.min.is_nan() == s.max.is_nan(), "{}.{}", s.section, s.name);
        assert!(s.min.is_nan() || s.min <= s.max, "{}.{}", s.section, s.name);
    }
}

#[test]
fn defaults_and_presets_are_within_range() {
    let mut s = Scenario::default();
    assert!(s.invalid().is_empty(), "{:?}", s.invalid());
    s.governance = Governance::enablement();
    assert!(s.invalid().is_empty(), "{:?}", s.invalid());
}

#[test]
fn content_hash_tracks_parameters() {
    let a = Scenario::default();
    let mut b = a.clone();
    assert_eq!(a.content_hash(), b.content_hash());
    b.governance.discretion = 0.11;
    assert_ne!(a.content_hash(), b.content_hash());
}

#[test]
fn named_choices_render_as_serde_spells_them() {
    use super::params::ParamValue;
    use crate::network::PeerStructure;
    use crate::sd::Integrator;
    fn check<T: ParamValue + serde::Serialize>(all: &[T]) {
        let names: Vec<String> = all.iter().map(|v| serde_json::to_string(v).unwrap()).collect();
        assert_eq!(all.iter().map(ParamValue::render).collect::<Vec<_>>(), names);
        assert_eq!(T::allowed(), names.join(", "));
    }
    check(&[TimeStandard::Imposed, TimeStandard::NeedLed]);
    check(&[Integrator::Euler, Integrator::Rk4]);
    check(&[Review::Management, Review::Team]);
    check(&[PracticeRollout::Mandated, PracticeRollout::Local]);
    check(&[PeerStructure::Random, PeerStructure::Clustered, PeerStructure::RandomRegular]);
    check(&[AssemblySelection::Random, AssemblySelection::SelfSelected]);
}

#[test]
fn every_range_consistency_and_event_error_of_a_file_comes_in_one_pass() {
    let text = "[run]\ndays = 100\nwarmup_days = 100\n\n[governance]\ndiscretion = 1.5\n\n[population]\ncommunity_k = 5\n\n\
[[events]]\nkind = \"funding_cut\"\nday = 10\nshare = 3.0\n\n[[events]]\nkind = \"funding_cut\"\nday = 20\nshare = 0.1\n";
    let e = load(text).unwrap_err();
    let fields: Vec<&str> = e.all().iter().filter_map(|x| x.field()).collect();
    assert_eq!(fields, ["governance.discretion", "population.community_k", "run.warmup_days", "events[0].share"], "{e}");
    let text = e.to_string();
    let lines: Vec<&str> = text.lines().map(|l| l.split(':').nth(1).unwrap_or("")).collect();
    assert_eq!(lines, ["6", "9", "3", "14"], "{e}");
    assert_eq!(e.field(), Some("governance.discretion"));
}

/// Every numeric parameter just below its minimum and just above its maximum is refused, and the
/// error names that parameter (not a neighbour, not a panic).
#[test]
fn every_parameter_just_beyond_its_bounds_is_refused_by_name() {
    let specs: Vec<_> = Scenario::parameter_specs().into_iter().filter(|p| p.min.is_finite() && p.max.is_finite()).collect();
    assert!(specs.len() > 100);
    let mut problems = Vec::new();
    for p in &specs {
        let path = if p.section == NeedType::KEY { format!("need_types[0].{}", p.name) } else { format!("{}.{}", p.section, p.name) };
        let integer = p.default.parse::<i64>().is_ok() || path == "run.seed";
        let beyond: Vec<String> = if path == "run.seed" {
            vec!["-1".into(), "\"18446744073709551616\"".into()]
        } else if integer {
            vec![format!("{}", p.min as i128 - 1), format!("{}", p.max as i128 + 1)]
        } else {
            let eps = |x: f64| (x.abs() * 1e-9).max(1e-9);
            vec![format!("{:?}", p.min - eps(p.min)), format!("{:?}", p.max + eps(p.max))]
        };
        for v in beyond {
            let o = Override::parse(&format!("{path}={v}")).unwrap();
            match Scenario::builtin(&[o]) {
                Ok(_) => problems.push(format!("{path}={v} accepted")),
                Err(e) if e.field() == Some(path.as_str()) || e.to_string().contains(&format!("--set {path}")) => {}
                Err(e) => problems.push(format!("{path}={v}: error names another field: {e}")),
            }
        }
    }
    assert!(problems.is_empty(), "{} of {} cases:\n{}", problems.len(), 2 * specs.len(), problems.join("\n"));
}

/// Every shipped scenario written back as a file loads to an equal scenario (the replay of a
/// steered run rests on it), a seed above 2^63 - 1 and lever events of a team included.
#[test]
fn to_toml_loads_back_equal() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "toml")).collect();
    files.sort();
    assert!(files.len() > 5);
    for f in files {
        let s = Scenario::from_file(&f, &[]).unwrap();
        let back = Scenario::from_toml_str(&s.to_toml(), "back.toml", &[]).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(back, s, "{}", f.display());
    }
    let text = "[run]\nseed = \"18446744073709551615\"\n[governance]\npreset = \"enablement\"\n\
                [[events]]\nkind = \"lever\"\nday = 10\nlever = \"time_standard\"\nvalue = \"imposed\"\nteam = 2\n";
    let s = load(text).unwrap();
    assert_eq!(s.run.seed, u64::MAX);
    assert!(matches!(s.events[0], Event::Lever { team: Some(2), .. }));
    assert_eq!(load(&s.to_toml()).unwrap(), s);
}

#[test]
fn team_lever_events_are_checked_with_located_errors() {
    let event = |body: &str| format!("[run]\ndays = 400\n\n[[events]]\nkind = \"lever\"\nday = 5\n{body}\n");
    let e = load(&event("lever = \"admin_share\"\nvalue = 0.2\nteam = 1")).unwrap_err();
    assert_eq!(e.field(), Some("events[0].lever"));
    assert!(e.to_string().contains("test.toml:7:9") && e.to_string().contains("service-wide"), "{e}");
    let e = load(&event("lever = \"discretion\"\nvalue = 0.5\nteam = 1\nramp_days = 30")).unwrap_err();
    assert_eq!(e.field(), Some("events[0].ramp_days"));
    let e = load(&event("lever = \"discretion\"\nvalue = 1.5\nteam = 1")).unwrap_err();
    assert_eq!(e.field(), Some("events[0].value"));
    let e = load(&event("lever = \"discretion\"\nvalue = 0.5\nteam = -1")).unwrap_err();
    assert_eq!(e.field(), Some("events[0].team"));
    assert!(load(&event("lever = \"governance.prevention_share\"\nvalue = 0.1\nteam = 0")).is_ok());
}
