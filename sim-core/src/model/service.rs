//! Service, team by team (MODEL.md §4.3-4.7, §9): capacity, work pressure and overtime, the
//! queue served in priority order, the choice of worker and response, delivery, harm, enforcement
//! and the case's closure.

use rand::RngExt;
use rand_distr::{Distribution, Exp, StandardNormal};

use super::needs::{Approval, NO_WORKER, Need, NeedState};
use super::*;
use crate::metrics::{DayRecord, Metric};
use crate::scenario::TimeStandard;

/// Least share of the pipeline's hours a stage keeps when rebalanced.
const MIN_STAGE_SHARE: f64 = 0.01;

/// A queued case's place as one integer: higher priority first (in `f64::total_cmp` order), then
/// lower id. A total order, so the serving order is the same however the queue is built.
pub(super) fn queue_key(priority: f64, id: u32) -> u128 {
    (u128::from(total_order_key(priority)) << 32) | u128::from(u32::MAX - id)
}

pub(super) fn queue_key_id(key: u128) -> u32 {
    u32::MAX - key as u32
}

/// Least number of queue keys put in order at a time.
const MIN_QUEUE_CHUNK: usize = 32;

/// A team's queue of keys handed out in descending order, the same order a max-heap pops them in
/// (the keys are distinct, so the order is total). Rather than heapify the whole queue (about 2N
/// compares, then log N a pop), it selects the top chunk (`select_nth_unstable`, about N compares)
/// and sorts only that; if the service wants more, the next chunk comes from the rest. Most of a
/// long queue is never reached in a day, so it is never put in order.
struct QueueHead<'a> {
    keys: &'a mut [u128],
    /// Keys handed out so far (`keys[..taken]`).
    taken: usize,
    /// End of the part in order (`keys[..sorted]` is sorted descending and above all the rest).
    sorted: usize,
    /// Size of the next chunk to put in order.
    chunk: usize,
}

impl<'a> QueueHead<'a> {
    /// `expected`: how many keys the service is likely to take (yesterday's count); a hint only.
    fn new(keys: &'a mut [u128], expected: usize) -> Self {
        let chunk = (expected + expected / 8).max(MIN_QUEUE_CHUNK);
        QueueHead { keys, taken: 0, sorted: 0, chunk }
    }

    /// The head [`QueueHead::new`] gives once [`QueueHead::order_next_chunk`] has run on it: for a
    /// queue whose first chunk was put in order before the service (`serve_teams`, from
    /// `SPLIT_FROM` citizens, on the thread pool).
    fn with_first_chunk_ordered(keys: &'a mut [u128], expected: usize) -> Self {
        let mut head = Self::new(keys, expected);
        let k = head.chunk.min(head.keys.len());
        if k > 0 {
            head.sorted = k;
            head.chunk *= 2;
        }
        head
    }

    /// Puts the next chunk after the part in order in order; false when nothing is left.
    fn order_next_chunk(&mut self) -> bool {
        let rest = &mut self.keys[self.sorted..];
        if rest.is_empty() {
            return false;
        }
        let k = self.chunk.min(rest.len());
        if k < rest.len() {
            rest.select_nth_unstable_by(k - 1, |a, b| b.cmp(a));
        }
        rest[..k].sort_unstable_by(|a, b| b.cmp(a));
        self.sorted += k;
        self.chunk *= 2;
        true
    }
}

impl Iterator for QueueHead<'_> {
    type Item = u128;

    fn next(&mut self) -> Option<u128> {
        if self.taken == self.sorted && !self.order_next_chunk() {
            return None;
        }
        let key = self.keys[self.taken];
        self.taken += 1;
        Some(key)
    }
}

impl QueueHead<'_> {
    /// The id of the case `d` places after the last one handed out, if it is already in order:
    /// only for asking for its record early.
    fn ahead(&self, d: usize) -> Option<u32> {
        let i = self.taken + d - 1;
        (i < self.sorted).then(|| queue_key_id(self.keys[i]))
    }
}

/// How many cases ahead the service asks for the need record it will read; half as far ahead it
/// asks for what a start and a delivery read of the citizen named in that record: last worker,
/// wellbeing (with the ring neighbours' beside it), network row, neighbourhood, last day served.
const SERVE_PREFETCH_AHEAD: usize = 8;

impl World {
    /// The hours a team plans for a case before pressure: the response's time at T* = 1.
    /// `case_hours`: each need type's standard hours plus its protocol's ([`Self::case_hours`]).
    #[inline(always)]
    pub(super) fn planned_hours(&self, n: &Need, case_hours: &[f64]) -> f64 {
        if n.in_service {
            return n.effort_left;
        }
        if n.gaming {
            return self.scenario.targets.gaming_hours;
        }
        let team = &self.teams[n.team as usize];
        if !team.delivers() {
            return self.scenario.routing.handoff_hours;
        }
        case_hours[n.need_type as usize]
    }

    /// Each need type's planned hours for an encounter at T* = 1: its standard hours plus its
    /// protocol's, into `out` (the same sum, so the same bits, as when done case by case).
    pub(super) fn case_hours(&self, out: &mut Vec<f64>) {
        out.clear();
        out.extend(self.scenario.need_types.iter().map(|nt| nt.standard_hours + self.protocol_hours(nt)));
    }

    /// Hours a mandated safety protocol adds to an encounter of need type `nt` (MODEL.md §9).
    pub(super) fn protocol_hours(&self, nt: &crate::scenario::NeedType) -> f64 {
        if self.scenario.safety.protocol && nt.harm_per_encounter > 0.0 { self.scenario.safety.protocol_hours } else { 0.0 }
    }

    /// Work allocation and service encounters, team by team (MODEL.md §4.3-4.7).
    #[inline(never)] // a phase: one call a day, kept apart so a profile shows it by name
    pub(super) fn serve_teams(&mut self, rec: &mut DayRecord) {
        let s = &self.scenario;
        let g = self.governance.clone();
        let e = s.effort.clone();
        let fatigue_loss = s.staff.fatigue_productivity_loss;
        let hours_per_day = s.workforce.hours_per_day;
        let mut queues = std::mem::take(&mut self.scratch.queues);
        // How far into its queue each team got yesterday: only a hint for how much to put in order.
        let mut reached = std::mem::take(&mut self.scratch.reached);
        reached.resize(queues.len(), 0);
        // Hours each team's queue calls for, summed by the review as cases joined the queues.
        let required_by_team = std::mem::take(&mut self.scratch.required);
        if !g.place_based {
            self.rebalance_pipeline(&required_by_team);
        }
        self.workers.worked_today.iter_mut().for_each(|h| *h = 0.0);
        // At scale the teams' first chunks are put in order side by side (the same keys, the same
        // order: they are distinct).
        let split = self.split;
        if split {
            use rayon::prelude::*;
            queues.par_iter_mut().zip(&reached).for_each(|(queue, &expected)| {
                QueueHead::new(queue, expected).order_next_chunk();
            });
        }
        let mut pressure_sum = 0.0;
        let mut capacity_sum = 0.0;
        for (t, queue) in queues.iter_mut().enumerate() {
            // An imposed standard caps the time per case; need-led time may stretch when there is slack.
            let ceiling = if self.time_standard(t) == TimeStandard::Imposed { 1.0 } else { e.time_ceiling };
            let team_workers = self.teams[t].workers.len();
            let casework_share = self.casework_share(t);
            let time_share = self.teams[t].time_share;
            // Hours for casework from those at work, less what fatigue takes (Homer 1985).
            let mut capacity = 0.0;
            let mut members_in_post = 0;
            for &w in &self.teams[t].workers {
                let w = w as usize;
                members_in_post += usize::from(self.workers.in_post[w]);
                let h = if self.workers.at_work(w) {
                    hours_per_day * casework_share * time_share * (1.0 - fatigue_loss * self.workers.fatigue[w])
                } else {
                    0.0
                };
                self.workers.hours_left[w] = h;
                self.workers.hours_used[w] = 0.0;
                capacity += h;
            }
            self.teams[t].members_in_post = members_in_post;
            let required = required_by_team[t];
            let p = effort::work_pressure(required, capacity, e.desired_backlog_days);
            let p_finite = if p.is_finite() { p } else { 10.0 };
            pressure_sum += p_finite * capacity;
            capacity_sum += capacity;
            let factor = effort::time_factor(p_finite, e.alpha, e.time_floor, ceiling);
            let overtime = effort::overtime_fraction(p_finite, e.overtime_cap);
            self.teams[t].pressure = p_finite;
            self.teams[t].felt_pressure = p_finite;
            for &w in &self.teams[t].workers {
                self.workers.hours_left[w as usize] *= 1.0 + overtime;
            }
            // Queue order: cases in service first, then by priority (need or target urgency), then
            // id: the keys the review wrote, in descending order. Only the head of the queue is put
            // in order, a chunk at a time, sized by how far the team got yesterday.
            let queued = queue.len();
            let time_factor_today = self.teams[t].desired_time_factor * factor;
            let mut head = if split { QueueHead::with_first_chunk_ordered(queue, reached[t]) } else { QueueHead::new(queue, reached[t]) };
            self.serve_queue(t, &mut head, time_factor_today, rec);
            reached[t] = head.taken;
            // Hours worked: casework plus admin and prevention pro rata.
            let mut used = 0.0;
            for &w in &self.teams[t].workers {
                let worked = self.workers.hours_used[w as usize] / casework_share;
                self.workers.worked_today[w as usize] += worked;
                used += worked;
            }
            let team = &mut self.teams[t];
            team.prevention_bank =
                (team.prevention_bank + used * team.prevention_share).min(team_workers as f64 * time_share * hours_per_day * 5.0);
            team.outcomes.day_hours += used;
            rec[Metric::HoursWorked as usize] += used;
            // T* drifts toward today's time (Oliva & Sterman 2001).
            // Only delivery has a desired time; pipeline stages follow a fixed procedure.
            if queued > 0 && team.delivers() {
                team.desired_time_factor =
                    effort::erode_desired_time(team.desired_time_factor, time_factor_today, 1.0, e.tau_down_days, e.tau_up_days)
                        .clamp(e.time_floor, ceiling);
            }
        }
        // Overtime: hours each worker worked beyond the contract, over all the teams they work in.
        rec[Metric::OvertimeHours as usize] += self.workers.worked_today.iter().map(|&h| (h - hours_per_day).max(0.0)).sum::<f64>();
        // Pipeline staff feel the whole pipeline's pressure, since their hours go to every stage.
        if !g.place_based && capacity_sum > 0.0 {
            let pooled = pressure_sum / capacity_sum;
            self.teams.iter_mut().for_each(|t| t.felt_pressure = pooled);
        }
        rec[Metric::WorkPressure as usize] = if capacity_sum > 0.0 { pressure_sum / capacity_sum } else { 0.0 };
        self.scratch.queues = queues;
        self.scratch.reached = reached;
        self.scratch.required = required_by_team;
    }

    /// Share of a worker's hours left for casework in team `t`: not admin, not the team's prevention
    /// time, and not training while a reform is being learnt.
    pub(super) fn casework_share(&self, t: usize) -> f64 {
        let training = if self.shocks.reform.is_some() {
            self.scenario.management.reform_training_share * (1.0 - self.reform_familiarity(t))
        } else {
            0.0
        };
        (1.0 - self.governance.admin_share - self.teams[t].prevention_share - training).max(0.05)
    }

    /// Functional managers move staff time between pipeline stages weekly, in proportion to each
    /// stage's smoothed workload (Little's law staffing: capacity where the hours are needed). Staff
    /// split their hours, so the staffing is fractional and does not depend on the service's size;
    /// every stage keeps at least 1% of the hours, so none starves until the next rebalancing.
    pub(super) fn rebalance_pipeline(&mut self, required_by_team: &[f64]) {
        for (t, &required) in required_by_team.iter().enumerate() {
            let team = &mut self.teams[t];
            team.smoothed_workload += (required - team.smoothed_workload) / 7.0;
        }
        let total: f64 = self.teams.iter().map(|t| t.smoothed_workload).sum();
        if !self.day.is_multiple_of(7) || total <= 0.0 {
            return;
        }
        let floor = MIN_STAGE_SHARE * total;
        let weights: Vec<f64> = self.teams.iter().map(|t| t.smoothed_workload.max(floor)).collect();
        let sum: f64 = weights.iter().sum();
        for (team, w) in self.teams.iter_mut().zip(weights) {
            team.time_share = w / sum;
        }
    }

    /// An early closure put up today: the worker records it (it takes `targets.gaming_hours`, and
    /// without those hours left it is not done), then inspection may catch it (Bevan & Hood 2006).
    pub(super) fn record_early_closure(&mut self, id: u32, worker: u32, rec: &mut DayRecord) {
        self.needs.slots[id as usize].gaming = false;
        let tg = &self.scenario.targets;
        let hours = tg.gaming_hours;
        let w = worker as usize;
        if self.workers.hours_left[w] + 1e-9 < hours {
            return;
        }
        self.workers.hours_left[w] -= hours;
        self.workers.hours_used[w] += hours;
        if self.streams.gaming.random::<f64>() < self.governance.inspection_share {
            rec[Metric::GamingCaught as usize] += 1.0;
            rec[Metric::InspectionHoursInternal as usize] += tg.inspection_hours;
            return;
        }
        let citizen = self.needs.slots[id as usize].citizen as usize;
        self.close_case(id, false, true, rec);
        self.encounter(citizen, false);
    }

    /// Serves a team's queue in order until its workers' hours run out.
    fn serve_queue(&mut self, t: usize, queue: &mut QueueHead, time_factor: f64, rec: &mut DayRecord) {
        let team_size = self.teams[t].workers.len();
        if team_size == 0 {
            return;
        }
        let mut cursor = 0usize;
        while let Some(key) = queue.next() {
            let id = queue_key_id(key);
            // Records are read in priority order, far apart at scale: ask for them early.
            prefetch_whole(queue.ahead(SERVE_PREFETCH_AHEAD).and_then(|a| self.needs.slots.get(a as usize)));
            if let Some(near) = queue.ahead(SERVE_PREFETCH_AHEAD / 2).and_then(|a| self.needs.slots.get(a as usize)) {
                let c = near.citizen as usize;
                prefetch(self.citizens.last_worker.get(c));
                prefetch(self.citizens.wellbeing.get(c));
                prefetch(self.community.offsets.get(c));
                prefetch(self.citizens.neighbourhood.get(c));
                prefetch(self.citizens.last_served_day.get(c));
            }
            // Choose the worker: the one already serving, or the next free (continuity may then
            // hand the case to the worker the citizen knows, see `start_service`).
            let n = &self.needs.slots[id as usize];
            let preferred = if n.worker != NO_WORKER && self.member_of(n.worker, t) { Some(n.worker) } else { None };
            let mut worker = match preferred.filter(|&w| self.workers.hours_left[w as usize] > 1e-9) {
                Some(w) => w,
                None => {
                    // The next member with hours, from the cursor round the team once (a wrap, not
                    // a division per step).
                    let mut found = None;
                    let workers = &self.teams[t].workers;
                    let mut i = cursor;
                    for _ in 0..team_size {
                        let w = workers[i];
                        i += 1;
                        if i == team_size {
                            i = 0;
                        }
                        if self.workers.hours_left[w as usize] > 1e-9 {
                            found = Some(w);
                            cursor = i;
                            break;
                        }
                    }
                    match found {
                        Some(w) => w,
                        None => break,
                    }
                }
            };
            if self.needs.slots[id as usize].gaming {
                self.record_early_closure(id, worker, rec);
                continue;
            }
            if !self.needs.slots[id as usize].in_service {
                match self.start_service(id, t, worker, time_factor) {
                    Some(w) => worker = w,
                    None => continue, // sent for approval
                }
            }
            let n = &mut self.needs.slots[id as usize];
            let spend = n.effort_left.min(self.workers.hours_left[worker as usize]);
            n.effort_left -= spend;
            self.workers.hours_left[worker as usize] -= spend;
            self.workers.hours_used[worker as usize] += spend;
            if n.effort_left > 1e-9 {
                n.in_service = true;
                n.worker = worker;
                continue;
            }
            n.in_service = false;
            if !self.teams[t].delivers() {
                // Handoff to the next stage's queue (served from tomorrow).
                n.stage += 1;
                n.handoffs += 1;
                n.team = self.stage_teams[n.stage as usize];
                n.worker = NO_WORKER;
                self.gain_experience(t);
                continue;
            }
            self.gain_experience(t);
            self.deliver(id, t, worker, rec);
        }
    }

    /// Decides who serves, the response and the time to give: the worker who serves (the one the
    /// citizen knows where continuity allows), or None if the case went for approval.
    pub(super) fn start_service(&mut self, id: u32, t: usize, worker: u32, time_factor: f64) -> Option<u32> {
        let s = &self.scenario;
        let n = &self.needs.slots[id as usize];
        let team = &self.teams[t];
        if !team.delivers() {
            let n = &mut self.needs.slots[id as usize];
            n.effort_left = s.routing.handoff_hours;
            n.worker = worker;
            return Some(worker);
        }
        let (discretion, time_standard) = (self.discretion(t), self.time_standard(t));
        let g = &self.governance;
        let r = &s.response;
        let nt = &s.need_types[n.need_type as usize];
        let (citizen, complexity, approval) = (n.citizen as usize, n.complexity, n.approval);
        let skill = self.workers.skill[worker as usize];
        let proficiency = self.reform_proficiency(t);
        let rng = &mut self.streams.response;
        // Continuity: a returning citizen meets the worker they know, if the lever allows.
        let last = self.citizens.last_worker[citizen];
        let mut worker = worker;
        let mut knows = false;
        if last != NO_WORKER
            && self.workers.team[last as usize] == t as u32
            && self.workers.in_post[last as usize]
            && rng.random::<f64>() < g.continuity
            && self.workers.hours_left[last as usize] > 1e-9
        {
            worker = last;
            knows = true;
        }
        // A reform's new way of working is not yet mastered: judgement counts for less (MODEL.md §5.6).
        let skill = if knows { self.workers.skill[worker as usize] } else { skill } * proficiency;
        // Recognising a non-standard need takes skill (Ashby).
        let noise: f64 = rng.sample(StandardNormal);
        let perceived = complexity + noise * response::recognition_sd(r, skill);
        let non_standard = perceived > nt.standard_coverage;
        let bespoke = match approval {
            Approval::Granted => true,
            Approval::Refused => false,
            Approval::NotAsked if non_standard => {
                if rng.random::<f64>() < discretion {
                    self.teams[t].outcomes.day_decided += 1.0;
                    true
                } else if g.approval_layers > 0 {
                    self.teams[t].outcomes.day_referred += 1.0;
                    let granted = rng.random::<f64>() < response::approval_chance(r.approval_grant, g.approval_layers);
                    let delay = (g.approval_layers as f64 * r.approval_delay_days).ceil() as u32;
                    self.needs.set_state(id, NeedState::AwaitingApproval);
                    let n = &mut self.needs.slots[id as usize];
                    n.due = self.day + delay.max(1);
                    n.approval = if granted { Approval::Granted } else { Approval::Refused };
                    n.worker = NO_WORKER;
                    return None;
                } else {
                    self.teams[t].outcomes.day_held += 1.0;
                    false
                }
            }
            Approval::NotAsked => false,
        };
        // Time: the response's requirement, eased by knowing the citizen and by coproduction.
        let known_factor = if knows { 1.0 - s.routing.continuity_effort_saving } else { 1.0 };
        let support = self.network_support(citizen);
        let copro_factor = 1.0 - r.coproduction_share * g.coproduction * support;
        let specialist = if g.place_based { 1.0 } else { 1.0 - s.routing.specialisation_gain };
        // The team's practice may take more or less time (MODEL.md §5.2).
        let (_, practice_effort) = self.practice_effect(t, self.citizens.neighbourhood[citizen] as usize, complexity);
        let practice_factor = 1.0 + practice_effort;
        // A mandated safety protocol's steps take their minutes whatever the response (MODEL.md §9).
        let protocol_time = self.protocol_hours(nt);
        let hours = |base: f64| base * known_factor * copro_factor * practice_factor + protocol_time;
        let need_led = demand::effort_required(nt.effort_hours, complexity);
        let standard_time = hours(nt.standard_hours * specialist);
        let bespoke_time = hours(need_led * r.bespoke_effort_factor);
        let required = if bespoke { bespoke_time } else { standard_time };
        // Imposed: the procedure's time whatever the need. Need-led: the time the worker judges
        // the person and need call for, which is never less than the procedure's.
        let base = match time_standard {
            TimeStandard::Imposed => standard_time,
            TimeStandard::NeedLed if bespoke => bespoke_time,
            TimeStandard::NeedLed => hours(need_led).max(standard_time),
        };
        let given = base * time_factor;
        let n = &mut self.needs.slots[id as usize];
        n.bespoke = bespoke;
        n.knows_citizen = knows;
        n.worker = worker;
        n.time_given = given;
        n.time_required = required;
        n.effort_left = given;
        Some(worker)
    }

    /// Share of the citizen's neighbours able to help (wellbeing above one half): coproduction.
    pub(super) fn network_support(&self, citizen: usize) -> f64 {
        let nb = self.community.neighbours(citizen);
        if nb.is_empty() {
            return 0.0;
        }
        nb.iter().filter(|&&j| self.citizens.wellbeing[j as usize] > 0.5).count() as f64 / nb.len() as f64
    }

    /// The encounter's outcome (MODEL.md §4.5-4.6).
    pub(super) fn deliver(&mut self, id: u32, t: usize, worker: u32, rec: &mut DayRecord) {
        let s = &self.scenario;
        let n = &self.needs.slots[id as usize];
        let nt = &s.need_types[n.need_type as usize];
        let q = effort::quality(n.time_given, n.time_required, s.effort.quality_exponent);
        let retained = response::information_retained(n.complexity, s.routing.info_loss_per_handoff, n.handoffs as u32);
        let skill = self.workers.skill[worker as usize] * self.reform_proficiency(t);
        let (practice_gain, _) = self.practice_effect(t, self.citizens.neighbourhood[n.citizen as usize] as usize, n.complexity);
        let p = if n.bespoke {
            response::bespoke_resolution(&s.response, skill, n.knows_citizen, q)
        } else {
            response::standard_resolution(n.complexity, nt.standard_coverage, s.response.standard_falloff, q)
        } * retained;
        let p = (p * (1.0 + practice_gain)).clamp(0.0, 1.0);
        let resolved = self.streams.outcome.random::<f64>() < p;
        rec[Metric::Deliveries as usize] += 1.0;
        rec[Metric::DeliveryHours as usize] += n.time_given;
        if n.bespoke {
            rec[Metric::BespokeDeliveries as usize] += 1.0;
        }
        let citizen = n.citizen as usize;
        let bespoke = n.bespoke;
        let risk = nt.harm_per_encounter;
        self.citizens.last_worker[citizen] = worker;
        let trust = self.citizens.trust[citizen];
        self.citizens.trust.set(citizen, citizens::trust_after(trust, resolved, &s.citizens));
        if resolved {
            // Getting the need met restores some wellbeing.
            let (w, b) = (self.citizens.wellbeing[citizen], self.citizens.wellbeing_baseline[citizen]);
            if w < b {
                self.citizens.wellbeing.set(citizen, w + s.citizens.resolution_wellbeing * (b - w));
            }
        }
        if self.day >= s.run.warmup_days {
            self.citizens.served_in_window[citizen] = true;
        }
        if self.citizens.last_served_day[citizen] != self.day {
            self.citizens.last_served_day[citizen] = self.day;
            rec[Metric::ClientsServed as usize] += 1.0;
        }
        // A bespoke response can address the root cause when prevention time allows.
        if bespoke
            && resolved
            && self.citizens.latent[citizen] > 0.05
            && self.teams[t].prevention_bank >= s.response.root_cause_hours
            && self.streams.outcome.random::<f64>() < skill
        {
            self.teams[t].prevention_bank -= s.response.root_cause_hours;
            self.citizens.latent[citizen] *= 1.0 - s.response.root_cause_fix;
            rec[Metric::RootCausesAddressed as usize] += 1.0;
        }
        if risk > 0.0 {
            self.harm_risk(t, risk, q, citizen, rec);
        }
        let w = worker as usize;
        self.workers.skill[w] = workforce::learn_by_doing(self.workers.skill[w], bespoke, &self.scenario.staff);
        let need_type = self.needs.slots[id as usize].need_type as usize;
        if !bespoke && !resolved && self.scenario.need_types[need_type].enforcement {
            self.enforce(citizen, need_type, rec);
        }
        self.close_case(id, resolved, false, rec);
    }

    /// An encounter with a risk of harm: the protocol, if mandated, is followed with the team's
    /// compliance when the encounter had the time its steps need (q); harm falls on the citizen and
    /// its knock-on cost elsewhere (MODEL.md §9; Pronovost et al. 2006). Draws only for need types
    /// with a risk, so services without one are unchanged.
    pub(super) fn harm_risk(&mut self, t: usize, risk: f64, q: f64, citizen: usize, rec: &mut DayRecord) {
        let p = &self.scenario.safety;
        rec[Metric::HarmRiskEncounters as usize] += 1.0;
        let followed = p.protocol && self.streams.outcome.random::<f64>() < self.teams[t].compliance * q;
        if p.protocol {
            rec[Metric::InspectionHoursInternal as usize] += p.audit_share * p.audit_hours;
        }
        if followed {
            rec[Metric::ProtocolFollowed as usize] += 1.0;
        }
        if self.streams.outcome.random::<f64>() < safety::harm_chance(risk, p.harm_reduction, followed) {
            rec[Metric::HarmEvents as usize] += 1.0;
            rec[Metric::CostAcute as usize] += p.harm_cost;
            let w = self.citizens.wellbeing[citizen];
            self.citizens.wellbeing.set(citizen, (w - self.scenario.demand.acute_wellbeing_loss).max(0.0));
        }
    }

    /// The enforcement route after a failed standard response to arrears: a bailiff's visit costs
    /// money, adds a fee to the debt (the latent problem) and may raise a need elsewhere.
    pub(super) fn enforce(&mut self, citizen: usize, need_type: usize, rec: &mut DayRecord) {
        let nt = &self.scenario.need_types[need_type];
        rec[Metric::EnforcementActions as usize] += 1.0;
        rec[Metric::CostEnforcement as usize] += nt.enforcement_cost;
        self.citizens.latent[citizen] = (self.citizens.latent[citizen] + nt.enforcement_debt).min(1.0);
        let knock_on = nt.enforcement_knock_on;
        let others: u32 = self.scenario.need_types.iter().filter(|t| !t.enforcement).count() as u32;
        if others == 0 || self.streams.outcome.random::<f64>() >= knock_on {
            return;
        }
        let pick = self.streams.outcome.random_range(0..others) as usize;
        let k = self.scenario.need_types.iter().enumerate().filter(|(_, t)| !t.enforcement).nth(pick).map(|(k, _)| k).expect("counted");
        let t = &self.scenario.need_types[k];
        let c = beta(t.complexity_mean, t.complexity_concentration).sample(&mut self.streams.outcome);
        let complexity = demand::complexity_with_latent(c, self.citizens.latent[citizen], self.scenario.demand.latent_complexity_push);
        let severity = self.streams.outcome.random::<f64>() * self.scenario.presentation.initial_severity_max;
        let growth = presentation::severity_growth(t.days_to_crisis, self.citizens.deprivation[citizen]);
        self.needs.insert(Need::arising(citizen as u32, k as u16, complexity, severity, growth, self.day));
        rec[Metric::KnockOnNeeds as usize] += 1.0;
    }

    /// Closes a case: resolved needs end; unresolved ones come back as failure demand or go hidden.
    pub(super) fn close_case(&mut self, id: u32, resolved: bool, gamed: bool, rec: &mut DayRecord) {
        let day = self.day;
        let n = &mut self.needs.slots[id as usize];
        let wait = (day - n.case_arrival) as f64;
        self.scratch.waits.push(wait);
        rec[Metric::CasesClosed as usize] += 1.0;
        let (target, near) = (self.scenario.targets.target_days, self.scenario.targets.near_threshold_days);
        if wait <= target && wait > target - near {
            rec[Metric::ClosedBeforeTarget as usize] += 1.0;
        } else if wait > target && wait <= target + near {
            rec[Metric::ClosedAfterTarget as usize] += 1.0;
        }
        let team = &mut self.teams[n.team as usize].outcomes;
        team.day_closed += 1.0;
        team.day_resolved += f64::from(u8::from(resolved));
        team.day_gamed += f64::from(u8::from(gamed));
        if resolved || gamed {
            rec[Metric::ClosedReported as usize] += 1.0;
        }
        if resolved {
            rec[Metric::ResolvedTrue as usize] += 1.0;
            self.totals.closed_resolved += 1;
            self.needs.remove(id);
            return;
        }
        self.totals.closed_unresolved += 1;
        n.in_service = false;
        n.worker = NO_WORKER;
        n.approval = Approval::NotAsked;
        let o = &self.scenario.outcome;
        let rng = &mut self.streams.outcome;
        let next = if rng.random::<f64>() < o.return_probability {
            let delay = if o.return_delay_days > 0.0 { Exp::new(1.0 / o.return_delay_days).expect("positive").sample(rng) } else { 0.0 };
            n.due = day + 1 + delay.floor() as u32;
            NeedState::Returning
        } else {
            NeedState::Hidden
        };
        self.needs.set_state(id, next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn queue_head_pops_in_heap_order_for_any_hint() {
        // Issue 23: the partial selection must hand out keys exactly as a max-heap pops them,
        // whatever yesterday's count, including a stop part-way through a chunk.
        let mut rng = crate::rng::Stream::seed_from_u64(23);
        for len in [0usize, 1, 2, 31, 32, 33, 100, 1000] {
            let keys: Vec<u128> =
                (0..len as u32).map(|id| queue_key(f64::from(rng.random_range(0..40u32)) / 8.0, id.wrapping_mul(2_654_435_761))).collect();
            let mut heap = std::collections::BinaryHeap::from(keys.clone());
            let expected: Vec<u128> = std::iter::from_fn(|| heap.pop()).collect();
            for hint in [0usize, 1, 5, 31, 32, 40, 99, 500, 2000] {
                for stop in [0, 1, len / 3, len] {
                    let mut queue = keys.clone();
                    let mut head = QueueHead::new(&mut queue, hint);
                    let got: Vec<u128> = head.by_ref().take(stop).collect();
                    assert_eq!(got, expected[..stop.min(len)], "len {len}, hint {hint}, stop {stop}");
                    assert_eq!(head.taken, stop.min(len));
                    let rest: Vec<u128> = head.collect();
                    assert_eq!(rest, expected[stop.min(len)..], "len {len}, hint {hint}, rest after {stop}");
                    // A first chunk put in order beforehand: the same keys, and the queue left
                    // as the head above left it.
                    let mut early = keys.clone();
                    QueueHead::new(&mut early, hint).order_next_chunk();
                    let mut head = QueueHead::with_first_chunk_ordered(&mut early, hint);
                    let got: Vec<u128> = head.by_ref().take(stop).collect();
                    assert_eq!(got, expected[..stop.min(len)], "ordered first: len {len}, hint {hint}, stop {stop}");
                    assert_eq!(head.collect::<Vec<u128>>(), expected[stop.min(len)..]);
                    assert_eq!(early, queue, "len {len}, hint {hint}, stop {stop}");
                }
            }
        }
    }
}
