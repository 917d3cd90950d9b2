//! The shipped scenarios a facilitator can pick on the page, compiled in. The two city-scale
//! scenarios (city-1m, region-10m) are left out: they cannot keep a workshop's pace.

/// File name and TOML of each shipped scenario offered on the page, the defaults first.
pub const SHIPPED: &[(&str, &str)] = &[
    ("top-down.toml", include_str!("../../../scenarios/top-down.toml")),
    ("enablement.toml", include_str!("../../../scenarios/enablement.toml")),
    ("austerity.toml", include_str!("../../../scenarios/austerity.toml")),
    ("citizens-assembly.toml", include_str!("../../../scenarios/citizens-assembly.toml")),
    ("debt-arrears.toml", include_str!("../../../scenarios/debt-arrears.toml")),
    ("low-variety.toml", include_str!("../../../scenarios/low-variety.toml")),
    ("one-team-gov.toml", include_str!("../../../scenarios/one-team-gov.toml")),
    ("reform-transition.toml", include_str!("../../../scenarios/reform-transition.toml")),
    ("safety-protocol.toml", include_str!("../../../scenarios/safety-protocol.toml")),
    ("skilled-vs-novice.toml", include_str!("../../../scenarios/skilled-vs-novice.toml")),
    ("surge.toml", include_str!("../../../scenarios/surge.toml")),
    ("targets-gaming.toml", include_str!("../../../scenarios/targets-gaming.toml")),
];

/// The scenarios a session runs when none are given: top-down and enablement.
pub const DEFAULTS: &[&str] = &["top-down.toml", "enablement.toml"];

/// The TOML of a shipped scenario by its file name.
pub fn shipped(file: &str) -> Option<&'static str> {
    SHIPPED.iter().find(|(name, _)| *name == file).map(|(_, text)| *text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shipped scenario a workshop can run is offered: a new file in scenarios/ is either
    /// listed here or too big for the default --max-citizens.
    #[test]
    fn every_workshop_sized_scenario_is_offered() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let mut on_disk = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                let text = std::fs::read_to_string(&path).unwrap();
                let s = sim_core::scenario::Scenario::from_toml_str(&text, &name, &[]).unwrap();
                if s.population.citizens <= super::super::DEFAULT_MAX_CITIZENS {
                    on_disk.push(name);
                }
            }
        }
        on_disk.sort();
        let mut offered: Vec<String> = SHIPPED.iter().map(|(n, _)| n.to_string()).collect();
        offered.sort();
        assert_eq!(offered, on_disk);
        for d in DEFAULTS {
            assert!(shipped(d).is_some(), "{d}");
        }
    }
}
