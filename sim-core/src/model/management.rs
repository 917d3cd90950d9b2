//! Management control (MODEL.md §5.3). Top-down: managers review REPORTED performance (the share of
//! closures within target, smoothed) monthly, seen through a delay of layers x reporting lag; below
//! target they tighten (more admin, more target pressure, a shorter time standard) and they hire
//! on perceived productivity, which corner-cutting and gaming inflate (under-hiring; Oliva &
//! Sterman 2001); comfortably above target they loosen by the same steps, back toward the policy's
//! levers (a goal-seeking controller with a dead band; Sterman 2000 ch. 8). Enablement: each team
//! sees its own citizens' TRUE outcomes weekly and adapts its desired time T* both ways and its
//! prevention time.

use super::World;
use super::workforce::STOCK_PERCEIVED;
use crate::metrics::{DayRecord, Metric};
use crate::scenario::Review;

/// What only management changes: the reported performance it has seen, its estimates for hiring,
/// and the establishment it funds.
#[derive(Debug, Clone)]
pub struct Management {
    /// Perceived performance by day, for management's delayed view.
    pub perceived: Vec<f64>,
    /// Smoothed cases arriving per day, as management estimates demand.
    pub demand_estimate: f64,
    /// Smoothed closures per FTE in post per day, as recorded (corner-cutting and gaming inflate it).
    pub productivity_estimate: f64,
    /// Funded posts management wants filled.
    pub establishment: f64,
}

impl Management {
    /// No history or estimates yet; the establishment is the staff the service starts with.
    pub fn new(staff: usize) -> Self {
        Management { perceived: Vec::new(), demand_estimate: f64::NAN, productivity_estimate: f64::NAN, establishment: staff as f64 }
    }
}

/// A team's recent outcomes: weekly counts and 30-day exponential averages.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TeamOutcomes {
    pub week_closed: f64,
    pub week_resolved: f64,
    pub week_arrived: f64,
    pub week_failure: f64,
    /// Smoothed true resolution rate of the team's closures.
    pub resolution: f64,
    /// Smoothed failure-demand share of the team's citizens' arrivals.
    pub failure_share: f64,
    /// Smoothed share of the team's closures that were gamed.
    pub gaming_share: f64,
    pub day_closed: f64,
    pub day_resolved: f64,
    pub day_gamed: f64,
    pub day_arrived: f64,
    pub day_failure: f64,
    /// Hours the team worked today.
    pub day_hours: f64,
    /// Today's non-standard needs the team's workers decided on themselves, referred up for
    /// approval, or had to give the standard response to (no discretion, no one to ask).
    pub day_decided: f64,
    pub day_referred: f64,
    pub day_held: f64,
    /// Decision authority: the smoothed share of non-standard needs decided by the worker
    /// (Karasek 1979; starts at the discretion lever).
    pub authority: f64,
    /// Hours worked since the start, closures truly resolved, and those reported resolved
    /// (resolved or gamed).
    pub total_hours: f64,
    pub total_resolved: f64,
    pub total_reported: f64,
}

impl TeamOutcomes {
    /// Folds today's counts into the averages (30-day time constant) and the week.
    pub fn end_day(&mut self) {
        const K: f64 = 1.0 / 30.0;
        if self.day_closed > 0.0 {
            self.resolution += K * (self.day_resolved / self.day_closed - self.resolution);
            self.gaming_share += K * (self.day_gamed / self.day_closed - self.gaming_share);
        }
        if self.day_arrived > 0.0 {
            self.failure_share += K * (self.day_failure / self.day_arrived - self.failure_share);
        }
        let decisions = self.day_decided + self.day_referred + self.day_held;
        if decisions > 0.0 {
            self.authority += K * (self.day_decided / decisions - self.authority);
        }
        self.day_decided = 0.0;
        self.day_referred = 0.0;
        self.day_held = 0.0;
        self.total_hours += self.day_hours;
        self.day_hours = 0.0;
        self.total_resolved += self.day_resolved;
        self.total_reported += self.day_resolved + self.day_gamed;
        self.week_closed += self.day_closed;
        self.week_resolved += self.day_resolved;
        self.week_arrived += self.day_arrived;
        self.week_failure += self.day_failure;
        self.day_closed = 0.0;
        self.day_resolved = 0.0;
        self.day_gamed = 0.0;
        self.day_arrived = 0.0;
        self.day_failure = 0.0;
    }
}

/// The next desired-time factor after a team review. When true outcomes fall short of the aim,
/// the team closes a share `learning` of the gap back to the full time (1); when they are
/// comfortably above it (by `margin`) while work piles up (pressure > 1), it gives a little less
/// time per case, the same share of the gap to the floor, to see more people.
pub fn team_time_adjustment(factor: f64, resolution: f64, target: f64, margin: f64, pressure: f64, learning: f64, floor: f64) -> f64 {
    if resolution < target && factor < 1.0 {
        factor + learning * (1.0 - factor)
    } else if resolution > target + margin && pressure > 1.0 && factor > floor {
        factor - learning * (factor - floor)
    } else {
        factor
    }
}

impl World {
    /// Management's daily bookkeeping and its reviews.
    #[inline(never)] // a phase: one call a day, kept apart so a profile shows it by name
    pub(super) fn manage(&mut self, rec: &DayRecord) {
        let m = self.scenario.management.clone();
        for t in &mut self.teams {
            t.outcomes.end_day();
        }
        // Estimates for hiring: demand and reported productivity per FTE in post.
        let in_post = self.workers.in_post_count().max(1) as f64;
        let k = 1.0 / m.demand_smoothing_days;
        let arrived = rec[Metric::CasesArrived as usize];
        let productivity = rec[Metric::CasesClosed as usize] / in_post;
        let st = &mut self.management;
        st.demand_estimate = if st.demand_estimate.is_nan() { arrived } else { st.demand_estimate + k * (arrived - st.demand_estimate) };
        st.productivity_estimate = if st.productivity_estimate.is_nan() {
            productivity
        } else {
            st.productivity_estimate + k * (productivity - st.productivity_estimate)
        };
        self.management.perceived.push(self.stocks.stocks[STOCK_PERCEIVED]);

        match self.governance.review {
            Review::Management => {
                if self.day > 0 && self.day.is_multiple_of(m.review_interval_days) {
                    self.management_review();
                }
            }
            Review::Team => {
                if self.day > 0 && self.day.is_multiple_of(m.team_review_interval_days) {
                    self.team_review();
                }
            }
        }
    }

    /// Top-down review of reported performance, seen through the reporting delay.
    fn management_review(&mut self) {
        let m = self.scenario.management.clone();
        let delay = (self.governance.management_layers as f64 * m.reporting_lag_days_per_layer).round() as usize;
        let seen = self.management.perceived.len().checked_sub(1 + delay).map(|i| self.management.perceived[i]);
        let Some(perceived) = seen else { return };
        let policy = self.policy.clone();
        if perceived > m.reported_target + m.loosen_margin {
            // Comfortably above target: management relaxes its controls by the same steps, back
            // toward the policy's own levers (never below them), and restores time per case.
            let g = &mut self.governance;
            g.admin_share = (g.admin_share - m.tighten_admin_step).max(policy.admin_share);
            g.target_pressure = (g.target_pressure - m.tighten_target_step).max(policy.target_pressure);
            for t in self.teams.iter_mut().filter(|t| t.delivers()) {
                t.desired_time_factor = (t.desired_time_factor * (1.0 + m.tighten_time_step)).min(1.0).max(t.desired_time_factor);
            }
        } else if perceived < m.reported_target {
            let g = &mut self.governance;
            g.admin_share = (g.admin_share + m.tighten_admin_step).min(m.admin_share_max);
            if g.admin_share + g.prevention_share >= 0.95 {
                g.admin_share = 0.94 - g.prevention_share;
            }
            g.target_pressure = (g.target_pressure + m.tighten_target_step).min(1.0);
            let floor = self.scenario.effort.time_floor;
            for t in self.teams.iter_mut().filter(|t| t.delivers()) {
                t.desired_time_factor = (t.desired_time_factor * (1.0 - m.tighten_time_step)).max(floor);
            }
        }
        // Hire on perceived productivity: the posts the estimated demand needs, step-limited, once
        // the estimates have had time to form.
        let settled = f64::from(self.day) >= 2.0 * m.demand_smoothing_days;
        let st = &mut self.management;
        if settled && st.productivity_estimate > 0.0 && st.demand_estimate.is_finite() {
            let needed = st.demand_estimate / st.productivity_estimate;
            let lo = st.establishment * (1.0 - m.establishment_step);
            let hi = st.establishment * (1.0 + m.establishment_step);
            let initial = self.scenario.workforce.frontline_staff as f64;
            st.establishment = needed.clamp(lo, hi).clamp(0.5 * initial, 1.5 * initial);
        }
    }

    /// Each delivering team looks at its own true outcomes of the week.
    fn team_review(&mut self) {
        let m = self.scenario.management.clone();
        let base_prevention = self.governance.prevention_share;
        let admin = self.governance.admin_share;
        let floor = self.scenario.effort.time_floor;
        for t in self.teams.iter_mut() {
            let delivers = t.delivers();
            let o = &mut t.outcomes;
            if delivers && o.week_closed > 0.0 {
                let resolution = o.week_resolved / o.week_closed;
                t.desired_time_factor = team_time_adjustment(
                    t.desired_time_factor,
                    resolution,
                    m.team_resolution_target,
                    m.team_tighten_margin,
                    t.felt_pressure,
                    m.team_time_learning,
                    floor,
                );
                let failure = if o.week_arrived > 0.0 { o.week_failure / o.week_arrived } else { 0.0 };
                let step = m.team_prevention_step;
                let base = t.levers.prevention_share.unwrap_or(base_prevention);
                let upper = (0.9 - admin).min(base + 0.15).max(0.0);
                if failure > 0.2 {
                    t.prevention_share = (t.prevention_share + step).min(upper);
                } else if failure < 0.1 {
                    t.prevention_share = (t.prevention_share - step).max(0.0);
                }
            }
            o.week_closed = 0.0;
            o.week_resolved = 0.0;
            o.week_arrived = 0.0;
            o.week_failure = 0.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teams_restore_their_time_when_outcomes_fall_short_and_trim_it_when_work_piles_up() {
        assert!((team_time_adjustment(0.6, 0.5, 0.8, 0.05, 2.0, 0.1, 0.3) - 0.64).abs() < 1e-12);
        // Good outcomes, no queue: no change; good outcomes and work piling up: a little less time.
        assert_eq!(team_time_adjustment(0.6, 0.9, 0.8, 0.05, 0.9, 0.1, 0.3), 0.6);
        assert!((team_time_adjustment(0.6, 0.9, 0.8, 0.05, 1.2, 0.1, 0.3) - 0.57).abs() < 1e-12);
        // Within the margin above the aim: no change.
        assert_eq!(team_time_adjustment(0.6, 0.82, 0.8, 0.05, 1.2, 0.1, 0.3), 0.6);
        assert_eq!(team_time_adjustment(1.1, 0.5, 0.8, 0.05, 2.0, 0.1, 0.3), 1.1);
    }

    #[test]
    fn outcomes_average_and_reset_by_day() {
        let mut o = TeamOutcomes { day_closed: 10.0, day_resolved: 10.0, ..Default::default() };
        o.end_day();
        assert!((o.resolution - 1.0 / 30.0).abs() < 1e-12);
        assert_eq!(o.day_closed, 0.0);
        assert_eq!(o.week_closed, 10.0);
    }
}
