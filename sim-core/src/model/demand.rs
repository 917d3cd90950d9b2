//! Needs arising (MODEL.md §4.1). Per citizen and need type, a Poisson rate
//! lambda_k x (1 + a_dep x deprivation) x (1 + a_latent x latent) x (1 + a_wb x (1 - wellbeing))
//! x demand_multiplier. Drawn by thinning (Lewis & Shedler 1979): candidates arrive at the
//! population's upper-bound rate and are kept with probability rate / bound, so the work is
//! proportional to the number of needs, not to the population. The day's demand phase lives here
//! too: new latent problems, needs arising and presented (§4.2), cases opened, acute events.

use rand::RngExt;
use rand_distr::{Distribution, Exp, Poisson};

use super::ahead::StreamAhead;
use super::needs::{Approval, NO_WORKER, Need, NeedState};
use super::*;
use crate::metrics::{DayRecord, Metric};
use crate::scenario::DemandParams;

/// Rate multiplier of one citizen relative to lambda_k.
pub fn rate_multiplier(p: &DemandParams, deprivation: f64, latent: f64, wellbeing: f64) -> f64 {
    (1.0 + p.deprivation_gain * deprivation) * (1.0 + p.latent_gain * latent) * (1.0 + p.wellbeing_gain * (1.0 - wellbeing))
}

/// The largest possible `rate_multiplier` (all factors at their worst), the thinning bound.
pub fn max_rate_multiplier(p: &DemandParams) -> f64 {
    (1.0 + p.deprivation_gain) * (1.0 + p.latent_gain) * (1.0 + p.wellbeing_gain)
}

/// Complexity pushed up by the latent problem: c + push x latent x (1 - c).
pub fn complexity_with_latent(c: f64, latent: f64, push: f64) -> f64 {
    (c + push * latent * (1.0 - c)).clamp(0.0, 1.0)
}

/// Effort a need-led response takes at complexity c, from the type's effort at c = 0.5.
/// Flat-ish: understanding the person costs time even when the need is simple.
pub fn effort_required(effort_hours: f64, complexity: f64) -> f64 {
    effort_hours * (0.7 + 0.6 * complexity)
}

impl World {
    /// The team that first receives a new case of citizen `i`.
    pub(super) fn intake_team(&self, i: usize) -> u32 {
        if self.governance.place_based { self.citizens.home_team[i] } else { self.stage_teams[0] }
    }

    /// Turns a need into an open case (MODEL.md §4.3 routing).
    pub(super) fn open_case(&mut self, id: u32, rec: &mut DayRecord) {
        let day = self.day;
        let mean_patience = self.scenario.outcome.patience_days;
        let patience = Exp::new(1.0 / mean_patience).expect("validated patience > 0").sample(&mut self.streams.presentation) as f32;
        let citizen = self.needs.slots[id as usize].citizen as usize;
        let team = self.intake_team(citizen);
        let home = &mut self.teams[self.citizens.home_team[citizen] as usize].outcomes;
        home.day_arrived += 1.0;
        if self.needs.slots[id as usize].contacts > 0 {
            home.day_failure += 1.0;
        }
        let n = &mut self.needs.slots[id as usize];
        if n.contacts > 0 {
            rec[Metric::DemandFailure as usize] += 1.0;
        } else {
            rec[Metric::DemandNew as usize] += 1.0;
        }
        rec[Metric::CasesArrived as usize] += 1.0;
        n.contacts = n.contacts.saturating_add(1);
        n.case_arrival = day;
        n.patience_days = patience;
        n.team = team;
        n.stage = 0;
        n.handoffs = 0;
        n.approval = Approval::NotAsked;
        n.worker = NO_WORKER;
        n.in_service = false;
        self.needs.set_state(id, NeedState::Queued);
        self.totals.arrived += 1;
    }

    /// A need in crisis: an acute event with its knock-on cost and wellbeing loss (MODEL.md §4.2).
    pub(super) fn acute_event(&mut self, id: u32, rec: &mut DayRecord) {
        let n = &self.needs.slots[id as usize];
        let was_open = matches!(n.state, NeedState::Queued | NeedState::AwaitingApproval);
        let cost = self.scenario.need_types[n.need_type as usize].acute_cost;
        let citizen = n.citizen as usize;
        rec[Metric::AcuteEvents as usize] += 1.0;
        rec[Metric::CostAcute as usize] += cost;
        if was_open {
            rec[Metric::CasesEscalated as usize] += 1.0;
            self.totals.escalated += 1;
            self.encounter(citizen, false);
        }
        let w = self.citizens.wellbeing[citizen];
        self.citizens.wellbeing.set(citizen, (w - self.scenario.demand.acute_wellbeing_loss).max(0.0));
        self.needs.remove(id);
    }

    /// New underlying problems (latent onsets) and the slow return of wellbeing to its baseline.
    #[inline(never)] // a phase: one call a day, kept apart so a profile shows it by name
    pub(super) fn life_events(&mut self) {
        let d = &self.scenario.demand;
        let n = self.citizens.len();
        let rng = &mut self.streams.demand;
        let expected = n as f64 * d.latent_onset_per_year / 365.0;
        if expected > 0.0 {
            let onsets = Poisson::new(expected).expect("positive rate").sample(rng) as u64;
            for _ in 0..onsets {
                let i = rng.random_range(0..n);
                self.citizens.latent[i] = (self.citizens.latent[i] + d.latent_onset_size).min(1.0);
            }
        }
        if self.day % 7 == 6 {
            let k = 1.0 - (-7.0 / d.wellbeing_recovery_days).exp();
            let baseline = &self.citizens.wellbeing_baseline;
            self.citizens.wellbeing.update_all(|wellbeing| {
                for (w, b) in wellbeing.iter_mut().zip(baseline) {
                    *w += (b - *w) * k;
                }
            });
        }
    }

    /// Needs arise by thinning (MODEL.md §4.1) and are presented at once or stay hidden (§4.2).
    #[inline(never)] // a phase: one call a day, kept apart so a profile shows it by name
    pub(super) fn needs_arise(&mut self, rec: &mut DayRecord) {
        let s = &self.scenario;
        let n = self.citizens.len();
        let surge = self.shocks.surge_multiplier;
        let bound_mult = demand::max_rate_multiplier(&s.demand) * s.demand.demand_multiplier * surge;
        for k in 0..s.need_types.len() {
            let nt = &self.scenario.need_types[k];
            let bound = nt.rate_per_year / 365.0 * bound_mult;
            let expected = bound * n as f64;
            if expected <= 0.0 {
                continue;
            }
            let candidates = Poisson::new(expected).expect("positive rate").sample(&mut self.streams.demand) as u64;
            let (cmean, cconc, crisis) = (nt.complexity_mean, nt.complexity_concentration, nt.days_to_crisis);
            let cdist = beta(cmean, cconc);
            // A copy of the stream runs ahead as if no candidate between were kept, asking for
            // the citizens it draws; a kept candidate draws more, and the copy starts again.
            let steps = candidates as usize;
            let mut ahead =
                StreamAhead::<ARISE_PREFETCH_AHEAD>::new(&self.streams.demand, steps, n, |i| ask_for_candidate(&self.citizens, i));
            for step in 0..steps {
                let rng = &mut self.streams.demand;
                let i = rng.random_range(0..n);
                let c = &self.citizens;
                let mult = demand::rate_multiplier(&self.scenario.demand, c.deprivation[i], c.latent[i], c.wellbeing[i])
                    * self.scenario.demand.demand_multiplier
                    * surge;
                if rng.random::<f64>() * bound_mult >= mult {
                    ahead.done(step, i, true, &self.streams.demand, n, |i| ask_for_candidate(&self.citizens, i));
                    continue;
                }
                let complexity =
                    demand::complexity_with_latent(cdist.sample(rng), c.latent[i], self.scenario.demand.latent_complexity_push);
                let severity = rng.random::<f64>() * self.scenario.presentation.initial_severity_max;
                let need = Need::arising(
                    i as u32,
                    k as u16,
                    complexity,
                    severity,
                    presentation::severity_growth(crisis, c.deprivation[i]),
                    self.day,
                );
                if self.scenario.need_types[k].enforcement {
                    if self.citizens.arrears[i] > 0 {
                        rec[Metric::RepeatArrears as usize] += 1.0;
                    }
                    self.citizens.arrears[i] = self.citizens.arrears[i].saturating_add(1);
                }
                let c = &self.citizens;
                let p_now = presentation::present_now(&self.scenario.presentation, c.trust[i], severity);
                let id = self.needs.insert(need);
                if self.streams.presentation.random::<f64>() < p_now {
                    self.open_case(id, rec);
                    // Presented today: it does not also get today's hidden-need review.
                    self.needs.slots[id as usize].priority = -1.0;
                }
                ahead.done(step, i, false, &self.streams.demand, n, |i| ask_for_candidate(&self.citizens, i));
            }
        }
    }
}

/// How many candidates ahead needs arising asks for the drawn citizen's data.
const ARISE_PREFETCH_AHEAD: usize = 8;

/// Asks for what needs arising reads of a drawn citizen: the thinning's three values, and the
/// trust and team a kept need's presentation reads (the few wasted on rejected candidates cost
/// less than the wait on kept ones).
#[inline(always)]
fn ask_for_candidate(c: &Citizens, i: usize) {
    prefetch(c.deprivation.get(i));
    prefetch(c.latent.get(i));
    prefetch(c.wellbeing.get(i));
    prefetch(c.trust.get(i));
    prefetch(c.home_team.get(i));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplier_known_values() {
        let p = DemandParams::default();
        assert_eq!(rate_multiplier(&p, 0.0, 0.0, 1.0), 1.0);
        let m = rate_multiplier(&p, 0.5, 0.2, 0.5);
        let expected = (1.0 + p.deprivation_gain * 0.5) * (1.0 + p.latent_gain * 0.2) * (1.0 + p.wellbeing_gain * 0.5);
        assert!((m - expected).abs() < 1e-12);
        assert!(rate_multiplier(&p, 1.0, 1.0, 0.0) <= max_rate_multiplier(&p) + 1e-12);
    }

    #[test]
    fn latent_pushes_complexity_up_within_bounds() {
        assert_eq!(complexity_with_latent(0.4, 0.0, 0.3), 0.4);
        assert!((complexity_with_latent(0.4, 1.0, 0.5) - 0.7).abs() < 1e-12);
        assert_eq!(complexity_with_latent(1.0, 1.0, 1.0), 1.0);
        assert!((effort_required(3.0, 0.5) - 3.0).abs() < 1e-12);
    }
}
