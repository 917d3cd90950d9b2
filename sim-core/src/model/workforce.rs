//! Staff (MODEL.md §5.1): fatigue from overtime with slow recovery (Homer 1985), strain from job
//! demand x (1 - control) (Karasek 1979), burnout that raises sickness and quitting, vacancies filled
//! through a recruitment pipeline with a delay, recruits with low skill (experience dilution), skill
//! that grows by doing (bespoke work teaches more) and from peers, and morale that rises with
//! meaningful resolved work (Tummers & Bekkers 2014) and falls with failure demand and gaming.

use rand::RngExt;
use rand_distr::{Distribution, Exp};

use super::needs::{NO_WORKER, Need};
use super::{World, beta};
use crate::metrics::{DayRecord, Metric};
use crate::scenario::{StaffParams, TimeStandard};

/// Frontline worker slots as struct-of-arrays. A slot is a funded post; it may be vacant.
#[derive(Debug, Clone, Default)]
pub struct Workers {
    pub team: Vec<u32>,
    pub skill: Vec<f64>,
    pub integrity: Vec<f64>,
    pub in_post: Vec<bool>,
    pub fatigue: Vec<f64>,
    pub burnout: Vec<f64>,
    pub morale: Vec<f64>,
    /// Days of sickness left (0 = at work).
    pub sick_days: Vec<u32>,
    /// Scratch: case hours left today.
    pub(super) hours_left: Vec<f64>,
    /// Scratch: case hours used today in the team being served.
    pub(super) hours_used: Vec<f64>,
    /// Scratch: hours worked today (casework plus admin and prevention pro rata), over every team.
    pub(super) worked_today: Vec<f64>,
}

impl Workers {
    pub(super) fn push(&mut self, skill: f64, integrity: f64, morale: f64) {
        self.team.push(0);
        self.skill.push(skill);
        self.integrity.push(integrity);
        self.in_post.push(true);
        self.fatigue.push(0.0);
        self.burnout.push(0.0);
        self.morale.push(morale);
        self.sick_days.push(0);
        self.hours_left.push(0.0);
        self.hours_used.push(0.0);
        self.worked_today.push(0.0);
    }

    /// Whether the worker in slot `w` works today.
    pub fn at_work(&self, w: usize) -> bool {
        self.in_post[w] && self.sick_days[w] == 0
    }

    pub fn in_post_count(&self) -> usize {
        self.in_post.iter().filter(|&&p| p).count()
    }

    /// Mean integrity of the workers in post among `members`.
    pub fn team_integrity(&self, members: &[u32]) -> f64 {
        let (sum, n) =
            members.iter().filter(|&&w| self.in_post[w as usize]).fold((0.0, 0usize), |(s, n), &w| (s + self.integrity[w as usize], n + 1));
        if n == 0 { 0.0 } else { sum / n as f64 }
    }
}

/// Recruits placed so far and their cost not yet accounted: recruitment adds to both, the
/// accounts take the cost at the end of the day.
#[derive(Debug, Clone, Default)]
pub struct Recruitment {
    /// Recruits placed so far (compared with the stock of arrivals to place new ones).
    pub placed: u64,
    /// Recruitment cost of recruits placed since the last accounting.
    pub cost_due: f64,
}

/// Job control (Karasek 1979's decision latitude), from what the worker actually decides, in the
/// three parts Wall et al. 1996 measure: decision authority (the share of non-standard needs the
/// worker decided on without referring them up or being held to the standard response), method
/// control (whether the worker sets the time a case gets: need-led, not imposed) and timing
/// control (whether need, not a target clock, orders the work: 1 - target pressure). A weighted
/// mean, with the weights of `staff.control_weight_*`.
pub fn control(authority: f64, time_standard: TimeStandard, target_pressure: f64, p: &StaffParams) -> f64 {
    let method = if time_standard == TimeStandard::NeedLed { 1.0 } else { 0.0 };
    let timing = 1.0 - target_pressure;
    let total = p.control_weight_authority + p.control_weight_method + p.control_weight_timing;
    if total <= 0.0 {
        return 0.0;
    }
    ((p.control_weight_authority * authority + p.control_weight_method * method + p.control_weight_timing * timing) / total).clamp(0.0, 1.0)
}

/// Job demand from work pressure: 0 with no work, 1 at 1.5 times the capacity or more.
pub fn job_demand(pressure: f64) -> f64 {
    (pressure / 1.5).clamp(0.0, 1.0)
}

/// Fatigue after one day with `overtime` (overtime hours / contracted hours).
pub fn fatigue_step(fatigue: f64, overtime: f64, p: &StaffParams) -> f64 {
    (fatigue + p.fatigue_gain * overtime - fatigue / p.fatigue_recovery_days).clamp(0.0, 1.0)
}

/// Burnout after one day, moving toward the level strain and fatigue sustain.
pub fn burnout_step(burnout: f64, strain: f64, fatigue: f64, p: &StaffParams) -> f64 {
    let level = (p.burnout_from_strain * strain + p.burnout_from_fatigue * fatigue).clamp(0.0, 1.0);
    let tau = if level > burnout { p.burnout_up_days } else { p.burnout_down_days };
    (burnout + (level - burnout) / tau).clamp(0.0, 1.0)
}

/// The morale a team's recent outcomes sustain.
pub fn morale_level(resolution: f64, failure_share: f64, gaming_share: f64, p: &StaffParams) -> f64 {
    (p.morale_base + p.morale_from_resolution * resolution
        - p.morale_from_failure_demand * failure_share
        - p.morale_from_gaming * gaming_share)
        .clamp(0.0, 1.0)
}

/// Daily chance of going off sick.
pub fn sick_chance(burnout: f64, p: &StaffParams) -> f64 {
    (p.sick_base_per_day + p.sick_burnout_per_day * burnout).clamp(0.0, 1.0)
}

/// Daily chance of quitting.
pub fn quit_chance(burnout: f64, morale: f64, p: &StaffParams) -> f64 {
    ((p.quit_base_per_year + p.quit_burnout_per_year * burnout + p.quit_low_morale_per_year * (1.0 - morale)) / 365.0).clamp(0.0, 1.0)
}

/// Skill after one delivery: learning by doing, more from bespoke work.
pub fn learn_by_doing(skill: f64, bespoke: bool, p: &StaffParams) -> f64 {
    let rate = p.learning_per_case * if bespoke { p.bespoke_learning_factor } else { 1.0 };
    (skill + rate * (1.0 - skill)).min(1.0)
}

impl World {
    /// The day's staff update: fatigue, burnout, morale, peer learning, sickness and quitting.
    #[inline(never)] // a phase: one call a day, kept apart so a profile shows it by name
    pub(super) fn staff_day(&mut self, rec: &mut DayRecord) {
        let p = self.scenario.staff.clone();
        let h = self.scenario.workforce.hours_per_day;
        let sick_len = Exp::new(1.0 / p.sick_days_mean).expect("validated mean > 0");
        let mut quits = 0usize;
        for t in 0..self.teams.len() {
            let team = &self.teams[t];
            let demand = job_demand(team.felt_pressure);
            let time_standard = team.levers.time_standard.unwrap_or(self.governance.time_standard);
            let control = control(team.outcomes.authority, time_standard, self.governance.target_pressure, &p);
            let strain = demand * (1.0 - control);
            let o = team.outcomes;
            let morale_target = morale_level(o.resolution, o.failure_share, o.gaming_share, &p);
            let rng = &mut self.streams.staff;
            // Peer learning: toward the team's mean skill, when above one's own.
            let (sum, n) = team
                .workers
                .iter()
                .filter(|&&w| self.workers.in_post[w as usize])
                .fold((0.0, 0usize), |(s, n), &w| (s + self.workers.skill[w as usize], n + 1));
            let team_skill = if n > 0 { sum / n as f64 } else { 0.0 };
            for &w in &team.workers {
                let w = w as usize;
                // Each worker once, in their home team (pipeline staff also work in other stages).
                if !self.workers.in_post[w] || self.workers.team[w] != t as u32 {
                    continue;
                }
                let worked = self.workers.worked_today[w];
                let overtime = ((worked - h) / h).max(0.0);
                let wk = &mut self.workers;
                wk.fatigue[w] = fatigue_step(wk.fatigue[w], overtime, &p);
                wk.burnout[w] = burnout_step(wk.burnout[w], strain, wk.fatigue[w], &p);
                wk.morale[w] += (morale_target - wk.morale[w]) / p.morale_days;
                if team_skill > wk.skill[w] {
                    wk.skill[w] += p.peer_learning_per_year / 365.0 * (team_skill - wk.skill[w]);
                }
                if wk.sick_days[w] > 0 {
                    wk.sick_days[w] -= 1;
                } else if rng.random::<f64>() < sick_chance(wk.burnout[w], &p) {
                    wk.sick_days[w] = 1 + sick_len.sample(rng).floor() as u32;
                }
                if rng.random::<f64>() < quit_chance(wk.burnout[w], wk.morale[w], &p) {
                    wk.in_post[w] = false;
                    wk.sick_days[w] = 0;
                    quits += 1;
                }
            }
        }
        if quits > 0 {
            self.release_cases_of_leavers();
        }
        rec[Metric::Quits as usize] += quits as f64;
    }

    /// Cases in service with someone who left go back to the queue. Each need on its own, so at
    /// scale (`World::split`) in blocks on the thread pool.
    pub(super) fn release_cases_of_leavers(&mut self) {
        let in_post = &self.workers.in_post;
        let release = |slots: &mut [Need], live: &[bool]| {
            for (n, &live) in slots.iter_mut().zip(live) {
                if live && n.worker != NO_WORKER && !in_post[n.worker as usize] {
                    n.worker = NO_WORKER;
                    n.in_service = false;
                }
            }
        };
        let (slots, live) = (&mut self.needs.slots, &self.needs.live);
        if self.split {
            use rayon::prelude::*;
            slots.par_chunks_mut(super::SPLIT_ROWS).zip(live.par_chunks(super::SPLIT_ROWS)).for_each(|(s, l)| release(s, l));
        } else {
            release(slots, live);
        }
    }

    /// A share of staff leave at once (a shock), chosen at random.
    pub(super) fn staff_loss(&mut self, share: f64) {
        let rng = &mut self.streams.staff;
        for w in 0..self.workers.in_post.len() {
            if self.workers.in_post[w] && rng.random::<f64>() < share {
                self.workers.in_post[w] = false;
                self.workers.sick_days[w] = 0;
            }
        }
        self.release_cases_of_leavers();
    }

    /// Vacancies approved into the recruitment pipeline (unless a deficit freezes hiring) and
    /// recruits placed as the pipeline delivers them (a first-order delay in the stocks).
    #[inline(never)] // a phase: one call a day, kept apart so a profile shows it by name
    pub(super) fn recruit(&mut self) {
        let in_post = self.workers.in_post_count() as f64;
        let pipeline = self.stocks.stocks[STOCK_PIPELINE];
        let budget = self.stocks.stocks[STOCK_BUDGET];
        let wanted = (self.management.establishment - in_post - pipeline).floor();
        // A deficit freezes hiring: an overdrawn budget, or spending running above funding.
        let deficit = budget < 0.0 || self.accounts.net_flow_estimate < 0.0;
        if wanted >= 1.0 && !deficit {
            self.stocks.stocks[STOCK_PIPELINE] += wanted;
        }
        // Place recruits whose arrival the stocks have delivered.
        let arrived = self.stocks.stocks[STOCK_ARRIVED].floor() as u64;
        let ws = self.scenario.workforce.clone();
        let sk = beta(self.scenario.staff.recruit_skill_mean, ws.spread_concentration);
        let ig = beta(ws.integrity_mean, ws.spread_concentration);
        while self.recruitment.placed < arrived {
            self.recruitment.placed += 1;
            self.recruitment.cost_due += self.scenario.money.recruitment_cost;
            let rng = &mut self.streams.staff;
            let (skill, integrity) = (sk.sample(rng), ig.sample(rng));
            // A vacant slot is refilled; with none, a new post joins the smallest team.
            match self.workers.in_post.iter().position(|&p| !p) {
                Some(slot) => {
                    self.workers.skill[slot] = skill;
                    self.workers.integrity[slot] = integrity;
                    self.workers.in_post[slot] = true;
                    self.workers.fatigue[slot] = 0.0;
                    self.workers.burnout[slot] = 0.0;
                    self.workers.morale[slot] = self.scenario.staff.morale_base;
                    self.workers.sick_days[slot] = 0;
                }
                None => {
                    self.workers.push(skill, integrity, self.scenario.staff.morale_base);
                    let slot = self.workers.team.len() - 1;
                    if self.governance.place_based {
                        let t = (0..self.teams.len()).min_by_key(|&t| (self.teams[t].workers.len(), t)).expect("teams");
                        self.teams[t].workers.push(slot as u32);
                        self.workers.team[slot] = t as u32;
                    } else {
                        // Pipeline staff work in every stage; their home is the delivery stage.
                        for team in &mut self.teams {
                            team.workers.push(slot as u32);
                        }
                        self.workers.team[slot] = *self.stage_teams.last().expect("a pipeline has a delivery stage");
                    }
                }
            }
        }
        for t in 0..self.teams.len() {
            self.teams[t].integrity_mean = self.workers.team_integrity(&self.teams[t].workers);
        }
    }
}

pub(super) const STOCK_BUDGET: usize = 0;
pub(super) const STOCK_PERCEIVED: usize = 1;
pub(super) const STOCK_PIPELINE: usize = 2;
pub(super) const STOCK_ARRIVED: usize = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_follows_what_workers_decide() {
        let p = StaffParams::default();
        // Referring most non-standard needs up, an imposed time and a target clock: little control.
        let td = control(0.1, TimeStandard::Imposed, 0.8, &p);
        let en = control(0.9, TimeStandard::NeedLed, 0.1, &p);
        assert!(td < 0.15 && en > 0.85, "{td} {en}");
        // Each part counts: more authority, method or timing control is more control.
        assert!(control(0.5, TimeStandard::Imposed, 0.8, &p) > td);
        assert!(control(0.1, TimeStandard::NeedLed, 0.8, &p) > td);
        assert!(control(0.1, TimeStandard::Imposed, 0.2, &p) > td);
        let only_authority = StaffParams { control_weight_method: 0.0, control_weight_timing: 0.0, ..p.clone() };
        assert!((control(0.3, TimeStandard::Imposed, 0.8, &only_authority) - 0.3).abs() < 1e-12);
    }

    #[test]
    fn fatigue_builds_with_overtime_and_recovers_slowly() {
        let p = StaffParams::default();
        let mut f = 0.0;
        for _ in 0..20 {
            f = fatigue_step(f, 0.2, &p);
        }
        assert!(f > 0.5, "{f}");
        let peak = f;
        for _ in 0..20 {
            f = fatigue_step(f, 0.0, &p);
        }
        // 20 days of rest at a 30-day time constant leave about half.
        assert!(f > 0.4 * peak && f < 0.6 * peak, "{peak} -> {f}");
    }

    #[test]
    fn burnout_needs_demand_without_control() {
        let p = StaffParams::default();
        let run = |strain: f64| (0..365).fold(0.0, |b, _| burnout_step(b, strain, 0.0, &p));
        let high_demand_low_control = run(job_demand(1.5) * (1.0 - 0.0));
        let high_demand_high_control = run(job_demand(1.5) * (1.0 - 0.8));
        let low_demand_low_control = run(job_demand(0.3) * (1.0 - 0.0));
        assert!(high_demand_low_control > high_demand_high_control && high_demand_low_control > low_demand_low_control);
        // A year at full strain reaches most of the level: 1 - e^{-365/90} = 98%.
        assert!((high_demand_low_control - p.burnout_from_strain).abs() < 0.03, "{high_demand_low_control}");
    }

    #[test]
    fn burnout_and_low_morale_raise_sickness_and_quitting() {
        let p = StaffParams::default();
        assert!(sick_chance(0.8, &p) > sick_chance(0.1, &p));
        assert!(quit_chance(0.8, 0.5, &p) > quit_chance(0.1, 0.5, &p));
        assert!(quit_chance(0.1, 0.1, &p) > quit_chance(0.1, 0.9, &p));
        assert!((quit_chance(0.0, 1.0, &p) * 365.0 - p.quit_base_per_year).abs() < 1e-12);
    }

    #[test]
    fn bespoke_work_teaches_more_and_morale_follows_outcomes() {
        let p = StaffParams::default();
        assert!(learn_by_doing(0.3, true, &p) - 0.3 > learn_by_doing(0.3, false, &p) - 0.3);
        assert!(learn_by_doing(0.999_999, true, &p) <= 1.0);
        assert!(morale_level(0.9, 0.1, 0.0, &p) > morale_level(0.4, 0.5, 0.2, &p));
    }
}
