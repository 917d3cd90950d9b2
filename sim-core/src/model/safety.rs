//! Safety protocols and compliance (MODEL.md §9; Pronovost et al. 2006; Urbach et al. 2014).
//! Some need types carry a risk of harm in every encounter (a care-associated infection, a fall).
//! A standardised protocol prevents most of it, but only in the encounters where every step is
//! followed. Whether it is followed depends on two things: the team's compliance, and whether the
//! encounter had the time the steps need (the quality q of MODEL.md §4.4: under pressure steps
//! are skipped). Compliance drifts toward what observation and feedback sustain: an auditor who
//! watches a share of encounters and feeds back the true harm rate (Pronovost's programme), or a
//! team that reviews its own true outcomes (enablement; Dixon-Woods et al. 2011). Unobserved, a
//! mandate decays toward a floor where boxes are ticked and steps skipped (Urbach et al. 2014;
//! Vaughan 1996). The protocol's minutes and the auditor's hours are paid for.

use super::World;
use crate::scenario::{Review, SafetyParams};

/// Compliance that feedback sustains: the floor, raised toward 1 by the share of encounters
/// observed plus the weight of the team's own review of true outcomes (capped at 1).
pub fn compliance_target(p: &SafetyParams, reviews_own_outcomes: bool) -> f64 {
    let feedback = (p.audit_share + if reviews_own_outcomes { p.team_feedback } else { 0.0 }).min(1.0);
    p.compliance_floor + (1.0 - p.compliance_floor) * feedback
}

/// One day's drift of compliance toward its target (first-order, time constant `days`).
pub fn drift(compliance: f64, target: f64, days: f64) -> f64 {
    compliance + (target - compliance) / days
}

/// Chance of harm in one encounter: the need type's risk, less the share a followed protocol prevents.
pub fn harm_chance(risk: f64, reduction: f64, followed: bool) -> f64 {
    if followed { risk * (1.0 - reduction) } else { risk }
}

impl World {
    /// Every team's compliance drifts toward what its feedback sustains (no random draws).
    #[inline(never)] // a phase: one call a day, kept apart so a profile shows it by name
    pub(super) fn safety_day(&mut self) {
        let p = &self.scenario.safety;
        if !p.protocol {
            return;
        }
        let target = compliance_target(p, self.governance.review == Review::Team);
        for t in &mut self.teams {
            t.compliance = drift(t.compliance, target, p.compliance_days);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unobserved_mandates_decay_to_the_floor_and_audits_sustain_compliance() {
        let p = SafetyParams { compliance_floor: 0.2, audit_share: 0.0, team_feedback: 0.5, ..SafetyParams::default() };
        assert!((compliance_target(&p, false) - 0.2).abs() < 1e-12);
        assert!((compliance_target(&p, true) - 0.6).abs() < 1e-12);
        let audited = SafetyParams { audit_share: 0.5, ..p.clone() };
        assert!((compliance_target(&audited, false) - 0.6).abs() < 1e-12);
        assert!((compliance_target(&SafetyParams { audit_share: 0.8, ..p.clone() }, true) - 1.0).abs() < 1e-12);
        // From the start value, a year without feedback ends near the floor; with audits near 0.6.
        let year = |target: f64| (0..365).fold(0.5, |c, _| drift(c, target, 60.0));
        assert!((year(0.2) - 0.2).abs() < 0.01);
        assert!((year(0.6) - 0.6).abs() < 0.01);
    }

    #[test]
    fn a_followed_protocol_prevents_its_share_of_harm() {
        assert!((harm_chance(0.01, 0.8, true) - 0.002).abs() < 1e-15);
        assert_eq!(harm_chance(0.01, 0.8, false), 0.01);
        assert_eq!(harm_chance(0.0, 0.8, true), 0.0);
    }
}
