//! Levers steered per team from a scenario file (issue 19): a team's lever event changes the run,
//! and one for a team the service does not have is said on stderr and changes nothing.

use crate::{assert_same_file, sim, temp};

/// A team's lever event runs from a file; one for a team the service does not have is said on
/// stderr and changes nothing.
#[test]
fn team_lever_events_run_and_unknown_teams_are_warned_about() {
    let tmp = temp();
    let d = tmp.path();
    let event = |team: u32| {
        format!("[run]\ndays = 400\n\n[[events]]\nkind = \"lever\"\nday = 250\nlever = \"discretion\"\nvalue = 0.9\nteam = {team}\n")
    };
    std::fs::write(d.join("team.toml"), event(3)).expect("write");
    std::fs::write(d.join("nobody.toml"), event(999)).expect("write");
    std::fs::write(d.join("plain.toml"), "[run]\ndays = 400\n").expect("write");
    let small = ["--set", "population.citizens=5000", "--set", "workforce.frontline_staff=15"];
    for name in ["team", "nobody", "plain"] {
        let file = format!("{name}.toml");
        let mut args = vec!["run", file.as_str(), "--out", name];
        args.extend(small);
        let o = sim(d, &args);
        o.assert_success();
        assert_eq!(o.stderr.contains("is for team 999"), name == "nobody", "{o}");
    }
    assert_same_file(&d.join("nobody/timeseries.csv"), &d.join("plain/timeseries.csv"), "an event for no team");
    assert!(
        crate::bytes(&d.join("team/timeseries.csv")) != crate::bytes(&d.join("plain/timeseries.csv")),
        "team 3 given more discretion on day 250 changes the run"
    );
}
