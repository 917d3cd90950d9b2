//! Shocks and reforms scheduled in the scenario (MODEL.md §5.6): demand surges, funding cuts, staff
//! loss, and lever changes (instant or ramped over N days), including whole reforms to a preset.
//! A reform that changes the structure (place-based teams, handoffs) rebuilds the teams and starts
//! a learning period: training takes hours and new ways of working are not yet mastered, so things
//! get worse before they get better.

use super::World;
use crate::scenario::{Event, Governance};

/// What only shocks and reforms change: the funding share, today's demand surge, the reform being
/// learnt and the levers on their way.
#[derive(Debug, Clone)]
pub struct Shocks {
    /// Funding as a share of the scenario's funding (cuts lower it).
    pub funding_share: f64,
    /// Demand multiplier from active surges.
    pub surge_multiplier: f64,
    /// The reform in progress, if any: its start day (learning cost, MODEL.md §5.6).
    pub reform: Option<u32>,
    /// Levers on their way to new values.
    pub ramps: Vec<Ramp>,
}

impl Default for Shocks {
    fn default() -> Self {
        Shocks { funding_share: 1.0, surge_multiplier: 1.0, reform: None, ramps: Vec::new() }
    }
}

/// A lever on its way to a new value.
#[derive(Debug, Clone, PartialEq)]
pub struct Ramp {
    pub lever: String,
    pub from: f64,
    pub to: f64,
    pub start: u32,
    pub days: u32,
    /// Whole numbers (layers, handoffs) are rounded.
    pub integer: bool,
}

impl Ramp {
    /// The value on `day`: linear from `from` at `start` to `to` at `start + days`.
    pub fn value(&self, day: u32) -> f64 {
        let x = if self.days == 0 { 1.0 } else { ((day.saturating_sub(self.start)) as f64 / self.days as f64).min(1.0) };
        let v = self.from + (self.to - self.from) * x;
        if self.integer { v.round() } else { v }
    }

    pub fn done(&self, day: u32) -> bool {
        day >= self.start.saturating_add(self.days)
    }
}

fn lever_number(g: &Governance, lever: &str) -> Option<(f64, bool)> {
    let table = toml::Table::try_from(g).ok()?;
    match table.get(lever)? {
        toml::Value::Float(x) => Some((*x, false)),
        toml::Value::Integer(i) => Some((*i as f64, true)),
        _ => None,
    }
}

fn number_value(x: f64, integer: bool) -> toml::Value {
    if integer { toml::Value::Integer(x.round() as i64) } else { toml::Value::Float(x) }
}

impl World {
    /// Applies the events of today and advances ramps.
    #[inline(never)] // a phase: one call a day, kept apart so a profile shows it by name
    pub(super) fn apply_events(&mut self) {
        let day = self.day;
        let mut structure_changed = false;
        let events: Vec<Event> = self.scenario.events.iter().filter(|e| e.day() == day).cloned().collect();
        for e in events {
            match e {
                Event::DemandSurge { .. } => {}
                Event::FundingCut { share, .. } => self.shocks.funding_share *= 1.0 - share,
                Event::StaffLoss { share, .. } => self.staff_loss(share),
                Event::Lever { lever, value, team: Some(t), .. } => self.set_team_lever(t as usize, &lever, &value),
                Event::Lever { lever, value, ramp_days, team: None, .. } => {
                    structure_changed |= self.change_lever(&lever, &value, ramp_days);
                }
                Event::Reform { preset, ramp_days, .. } => {
                    let target = Governance::preset(&preset).expect("validated preset");
                    let table = toml::Table::try_from(&target).expect("governance serialises");
                    for (lever, value) in table {
                        structure_changed |= self.change_lever(&lever, &value, ramp_days);
                    }
                    self.shocks.reform = Some(day);
                    self.teams.iter_mut().for_each(|t| t.reform_experience = 0.0);
                }
            }
        }
        // Surges active today.
        self.shocks.surge_multiplier = self
            .scenario
            .events
            .iter()
            .filter_map(|e| match e {
                Event::DemandSurge { day: d, multiplier, duration_days } if day >= *d && day < d.saturating_add(*duration_days) => {
                    Some(*multiplier)
                }
                _ => None,
            })
            .product();
        // Ramps in progress.
        if !self.shocks.ramps.is_empty() {
            let ramps = std::mem::take(&mut self.shocks.ramps);
            for r in &ramps {
                let v = number_value(r.value(day), r.integer);
                if let Ok(g) = self.governance.with_lever(&r.lever, &v) {
                    structure_changed |= structural(&self.governance, &g);
                    self.governance = g;
                }
                if let Ok(p) = self.policy.with_lever(&r.lever, &v) {
                    self.policy = p;
                }
            }
            self.shocks.ramps = ramps.into_iter().filter(|r| !r.done(day)).collect();
        }
        if structure_changed {
            self.build_structure();
            if self.shocks.reform.is_none() {
                self.shocks.reform = Some(day);
            }
        }
    }

    /// Sets a lever now, or starts a ramp for a numeric one; true if the structure changed.
    fn change_lever(&mut self, lever: &str, value: &toml::Value, ramp_days: u32) -> bool {
        let numeric = lever_number(&self.governance, lever);
        let target = match value {
            toml::Value::Float(x) => Some(*x),
            toml::Value::Integer(i) => Some(*i as f64),
            _ => None,
        };
        if let (Some((from, integer)), Some(to), true) = (numeric, target, ramp_days > 0) {
            self.shocks.ramps.retain(|r| r.lever != lever);
            self.shocks.ramps.push(Ramp { lever: lever.to_string(), from, to, start: self.day, days: ramp_days, integer });
            return false;
        }
        if let Ok(p) = self.policy.with_lever(lever, value) {
            self.policy = p;
        }
        match self.governance.with_lever(lever, value) {
            Ok(g) => {
                let changed = structural(&self.governance, &g);
                self.governance = g;
                changed
            }
            Err(_) => false, // validated when the scenario was loaded
        }
    }

    /// Sets team `t`'s own value of a lever a team may set (validated with the event); a team that
    /// no longer exists (a restructuring renumbered the teams) is left alone.
    fn set_team_lever(&mut self, t: usize, lever: &str, value: &toml::Value) {
        let Some(team) = self.teams.get_mut(t) else { return };
        let number = match value {
            toml::Value::Float(x) => Some(*x),
            toml::Value::Integer(i) => Some(*i as f64),
            _ => None,
        };
        match lever {
            "discretion" => team.levers.discretion = number,
            "prevention_share" => {
                if let Some(x) = number {
                    team.levers.prevention_share = Some(x);
                    team.prevention_share = x;
                }
            }
            "time_standard" => team.levers.time_standard = value.clone().try_into().ok(),
            _ => {} // refused when the event was checked
        }
    }

    /// How far team `t` is through learning a reform's new way of working: 0 at its start, toward 1
    /// with the cases its members handle (a learning curve on experience; Argote & Epple 1990).
    pub(super) fn reform_familiarity(&self, t: usize) -> f64 {
        match self.shocks.reform {
            None => 1.0,
            Some(_) => 1.0 - (-self.teams[t].reform_experience / self.scenario.management.reform_learning_cases).exp(),
        }
    }

    /// The share of skill judgement brings in team `t` while a reform is being learnt.
    pub(super) fn reform_proficiency(&self, t: usize) -> f64 {
        let start = self.scenario.management.reform_initial_proficiency;
        start + (1.0 - start) * self.reform_familiarity(t)
    }

    /// Team `t` handled one more case: experience in the way of working, per member in post.
    pub(super) fn gain_experience(&mut self, t: usize) {
        if self.shocks.reform.is_some() {
            let team = &mut self.teams[t];
            team.reform_experience += 1.0 / team.members_in_post.max(1) as f64;
        }
    }
}

/// Whether going from `a` to `b` changes how teams are organised.
fn structural(a: &Governance, b: &Governance) -> bool {
    a.place_based != b.place_based
        || (!b.place_based && a.handoffs != b.handoffs)
        || a.management_layers != b.management_layers
        || a.span_of_control != b.span_of_control
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramps_move_linearly_and_round_whole_numbers() {
        let r = Ramp { lever: "discretion".into(), from: 0.1, to: 0.9, start: 100, days: 80, integer: false };
        assert!((r.value(100) - 0.1).abs() < 1e-12);
        assert!((r.value(140) - 0.5).abs() < 1e-12);
        assert!((r.value(500) - 0.9).abs() < 1e-12);
        assert!(r.done(180) && !r.done(179));
        let layers = Ramp { lever: "approval_layers".into(), from: 3.0, to: 0.0, start: 0, days: 3, integer: true };
        assert_eq!(layers.value(1), 2.0);
    }

    #[test]
    fn structure_changes_are_detected() {
        let td = Governance::top_down();
        let en = Governance::enablement();
        assert!(structural(&td, &en));
        let mut g = td.clone();
        g.discretion = 0.5;
        assert!(!structural(&td, &g));
    }
}
