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
    assert!(s.first_invalid().is_none(), "{:?}", s.first_invalid());
    s.governance = Governance::enablement();
    assert!(s.first_invalid().is_none(), "{:?}", s.first_invalid());
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
