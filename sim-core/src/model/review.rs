//! The daily review of every live need (MODEL.md §4.2, §4.6, §4.7): severity grows, crises,
//! hidden needs presented, returns and approvals due, abandonment, early closures put up under
//! target pressure; every open case joins its team's queue with its priority.

use rand::RngExt;

use super::needs::{NO_WORKER, NeedState};
use super::*;
use crate::metrics::{DayRecord, Metric};

/// How many needs ahead the daily review asks for the citizen data it will read.
const PREFETCH_AHEAD: usize = 16;

impl World {
    /// Daily review of every live need: severity, crisis, presentation of hidden needs, returns,
    /// approvals coming back, abandonment; open cases go to their team's queue.
    #[inline(never)] // a phase: one call a day, kept apart so a profile shows it by name
    pub(super) fn review_needs(&mut self, rec: &mut DayRecord) {
        let day = self.day;
        for q in &mut self.scratch.queues {
            q.clear();
        }
        // Each team's planned hours, summed as cases join its queue: in queue order, from the
        // same -0.0 start as `Iterator::sum`, so the same bits as a second pass over the queue.
        self.scratch.required.clear();
        self.scratch.required.resize(self.scratch.queues.len(), -0.0);
        let mut case_hours = std::mem::take(&mut self.scratch.case_hours);
        self.case_hours(&mut case_hours);
        self.scratch.case_hours = case_hours;
        let target_days = self.scenario.targets.target_days;
        let tp = self.governance.target_pressure;
        for id in 0..self.needs.slots.len() as u32 {
            // The citizen's trust (a random access) is read for hidden needs: ask for it early.
            if let Some(ahead) = self.needs.slots.get(id as usize + PREFETCH_AHEAD) {
                prefetch(self.citizens.trust.get(ahead.citizen as usize));
            }
            if !self.needs.live[id as usize] {
                continue;
            }
            let n = &mut self.needs.slots[id as usize];
            n.gaming = false;
            let fresh = n.priority < 0.0 && n.case_arrival == day;
            if !fresh {
                n.severity += n.severity_growth;
            }
            if n.severity >= 1.0 {
                self.acute_event(id, rec);
                continue;
            }
            // Whether the need is an open case in a queue today.
            let joins = match n.state {
                NeedState::Hidden => {
                    let i = n.citizen as usize;
                    let p = presentation::present_hidden(&self.scenario.presentation, self.citizens.trust[i], n.severity);
                    let presents = n.case_arrival != day && self.streams.presentation.random::<f64>() < p;
                    if presents {
                        self.open_case(id, rec);
                    }
                    presents
                }
                NeedState::Returning => {
                    let due = day >= n.due;
                    if due {
                        self.open_case(id, rec);
                    }
                    due
                }
                NeedState::AwaitingApproval => {
                    if self.game_target(id) {
                        // Put up for early closure: a worker must record it (see `serve_queue`).
                        true
                    } else if day >= self.needs.slots[id as usize].due {
                        self.needs.set_state(id, NeedState::Queued);
                        true
                    } else {
                        false
                    }
                }
                NeedState::Queued => {
                    let wait = (day - n.case_arrival) as f32;
                    if !n.in_service && wait > n.patience_days {
                        // The citizen gives up; the need goes hidden and keeps growing.
                        n.worker = NO_WORKER;
                        rec[Metric::CasesAbandoned as usize] += 1.0;
                        self.totals.abandoned += 1;
                        let citizen = n.citizen as usize;
                        self.needs.set_state(id, NeedState::Hidden);
                        self.encounter(citizen, false);
                        false
                    } else {
                        self.game_target(id);
                        true
                    }
                }
            };
            if joins {
                self.enqueue(id, day, target_days, tp);
            }
        }
    }

    /// Puts open case `id` in its team's queue with today's priority, as a key that orders the
    /// queue (`service::queue_key`), and adds the hours it calls for to the team's planned hours.
    /// Nothing the key or the hours depend on changes between the review and the service.
    /// Inlined at its one call in the review: it runs for every queued case every day.
    #[inline(always)]
    pub(super) fn enqueue(&mut self, id: u32, day: u32, target_days: f64, tp: f64) {
        let n = &mut self.needs.slots[id as usize];
        let wait = (day - n.case_arrival) as f64;
        n.priority = if n.in_service {
            f64::INFINITY
        } else if n.gaming {
            // An early closure to meet the target comes before any other new work.
            f64::MAX
        } else {
            gaming::priority(n.severity, wait, target_days, tp)
        };
        let (team, key) = (n.team as usize, service::queue_key(n.priority, id));
        let hours = self.planned_hours(&self.needs.slots[id as usize], &self.scratch.case_hours);
        self.scratch.required[team] += hours;
        self.scratch.queues[team].push(key);
    }

    /// Whether an open case near the target threshold is put up today for early closure (MODEL.md
    /// §4.7); a worker must then record it, in `serve_queue`. Most cases are not near the
    /// threshold: that test is inlined into the daily review, the rest is not.
    #[inline(always)]
    pub(super) fn game_target(&mut self, id: u32) -> bool {
        let n = &self.needs.slots[id as usize];
        let tg = &self.scenario.targets;
        let wait = (self.day - n.case_arrival) as f64;
        if n.in_service || self.governance.target_pressure <= 0.0 || !gaming::near_threshold(wait, tg.target_days, tg.near_threshold_days) {
            return false;
        }
        self.game_target_near_threshold(id)
    }

    #[inline(never)]
    pub(super) fn game_target_near_threshold(&mut self, id: u32) -> bool {
        let n = &self.needs.slots[id as usize];
        let tg = &self.scenario.targets;
        let g = &self.governance;
        let integrity = self.teams[n.team as usize].integrity_mean;
        let chance = gaming::early_closure_chance(g.target_pressure, tg.gaming_propensity, integrity, g.inspection_share, tg.deterrence);
        let put_up = self.streams.gaming.random::<f64>() < chance;
        self.needs.slots[id as usize].gaming = put_up;
        put_up
    }
}
