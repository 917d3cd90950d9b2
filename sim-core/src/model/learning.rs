//! Learning and diffusion of practices across teams (MODEL.md §5.2; the OneTeamGov case).
//!
//! A practice changes the chance a response resolves the need (its resolution gain, relative) and
//! the hours it takes (its effort, relative). Both are drawn at random, so some practices are
//! worse than the established way, and the gain varies by neighbourhood (fit to the local
//! context), the more so the more complex the need: a standard task works alike everywhere, a
//! relational one depends on the place (Cartwright & Hardie 2012). Its efficacy is the change in
//! needs resolved per hour: better resolution, less effort, or both.
//!
//! - Local learning (`practice_rollout = "local"`): teams try a new practice at a rate scaled by
//!   discretion and keep it when the needs they TRULY resolved per hour worked over the trial beat
//!   the rate before (local learning needs true feedback). Practices spread over the peer links between teams as
//!   complex contagion: a team trials a practice once at least `threshold` of its peers use it
//!   (Centola 2010; threshold 1 is simple contagion), and keeps it on the same test.
//! - Mandated roll-out (`practice_rollout = "mandated"`): a central unit pilots a practice in one
//!   team, judges it on REPORTED resolutions per hour worked (gamed closures count as resolved;
//!   Bevan & Hood 2006) and, if it looks better, mandates it in every team after a delay, whatever the
//!   fit: a pilot that won partly on its own neighbourhood's fit does less well elsewhere.

use rand::RngExt;
use rand_distr::{Distribution, Normal};

use super::{TeamRole, World};
use crate::metrics::{DayRecord, Metric};
use crate::network::Csr;
use crate::rng::{Stream, stream};
use crate::scenario::{LearningParams, PracticeRollout};

/// A way of working that a team may use instead of the established one.
#[derive(Debug, Clone, PartialEq)]
pub struct Practice {
    /// Relative change in the chance a response resolves, before local fit.
    pub resolution_gain: f64,
    /// Relative change in the hours a response takes (negative saves time).
    pub effort: f64,
    /// Deviation of the resolution gain in each neighbourhood for a need of complexity 1 (fit to
    /// the local context); a need of complexity c sees c times it.
    pub fit: Vec<f64>,
}

impl Practice {
    /// Resolution gain in neighbourhood `k` for a need of complexity `c`.
    pub fn gain_in(&self, k: usize, c: f64) -> f64 {
        self.resolution_gain + c * self.fit.get(k).copied().unwrap_or(0.0)
    }

    /// Efficacy for a resolution gain: the relative change in needs resolved per hour.
    fn efficacy_of(&self, gain: f64) -> f64 {
        (1.0 + gain) / (1.0 + self.effort) - 1.0
    }

    /// Efficacy in neighbourhood `k` for needs of complexity `c`.
    pub fn efficacy_in(&self, k: usize, c: f64) -> f64 {
        self.efficacy_of(self.gain_in(k, c))
    }

    /// Efficacy over all neighbourhoods alike (a team that serves every neighbourhood).
    pub fn efficacy_everywhere(&self, c: f64) -> f64 {
        let fit = if self.fit.is_empty() { 0.0 } else { self.fit.iter().sum::<f64>() / self.fit.len() as f64 };
        self.efficacy_of(self.resolution_gain + c * fit)
    }
}

/// A practice on trial: what it replaced, when it ends, the rate it has to beat, and whether it is
/// judged on reported resolutions (the central unit) or true ones (teams).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Trial {
    practice: u32,
    previous: Option<u32>,
    ends: u32,
    baseline: f64,
    reported: bool,
    hours_at_start: f64,
    good_at_start: f64,
}

/// Chance a team trials a practice this week, given how many of its peers use it.
pub fn adoption_chance(users: u32, p: &LearningParams) -> f64 {
    if users == 0 {
        0.0
    } else if users >= p.threshold {
        p.adoption_per_week
    } else {
        p.adoption_per_week * p.below_threshold_factor
    }
}

/// Whether a trial's rate beats the baseline by more than the relative `margin`.
pub fn keeps(trial_rate: f64, baseline: f64, margin: f64) -> bool {
    trial_rate.is_finite() && trial_rate > baseline * (1.0 + margin)
}

/// The practices, who uses which, trials, and the central unit's pilot.
#[derive(Debug, Clone)]
pub struct Learning {
    pub practices: Vec<Practice>,
    /// The practice each team uses (`None`: the established way).
    pub in_use: Vec<Option<u32>>,
    trials: Vec<Option<Trial>>,
    /// Practices each team tried and dropped (it does not try them again).
    rejected: Vec<Vec<u32>>,
    /// The central unit's pilot in progress: (team, trial).
    pilot: Option<(u32, Trial)>,
    next_pilot_day: u32,
    /// A centrally chosen practice and the day its mandate reaches every team.
    mandate: Option<(u32, u32)>,
    /// Peer links between teams.
    peers: Csr,
    rng: Stream,
    /// Each team's cumulative (hours, truly resolved, reported resolved) at the last two
    /// marks, set every `trial_days`: the rate since the older mark is the one a trial must beat.
    marks: Vec<[[f64; 3]; 2]>,
    /// Scratch: (practice, peers using it).
    counts: Vec<(u32, u32)>,
    /// Rate-weighted mean complexity of the need types, at which practices' efficacy is reported.
    reference_complexity: f64,
}

impl Learning {
    pub fn new(seed: u64, reference_complexity: f64) -> Self {
        Learning {
            practices: Vec::new(),
            in_use: Vec::new(),
            trials: Vec::new(),
            rejected: Vec::new(),
            pilot: None,
            next_pilot_day: 0,
            mandate: None,
            peers: Csr::default(),
            rng: stream(seed, "learning"),
            marks: Vec::new(),
            counts: Vec::new(),
            reference_complexity,
        }
    }

    /// Starts afresh on a new set of teams (a reform regroups staff; practices in use lapse).
    pub fn reset_teams(&mut self, teams: usize, peers: Csr) {
        self.in_use = vec![None; teams];
        self.trials = vec![None; teams];
        self.rejected = vec![Vec::new(); teams];
        self.marks = vec![[[0.0; 3]; 2]; teams];
        self.pilot = None;
        self.mandate = None;
        self.peers = peers;
    }

    fn draw(&mut self, p: &LearningParams, neighbourhoods: usize) -> u32 {
        let gain = Normal::new(p.resolution_gain_mean, p.resolution_gain_sd).expect("validated sd >= 0").sample(&mut self.rng);
        let effort = Normal::new(p.effort_mean, p.effort_sd).expect("validated sd >= 0").sample(&mut self.rng);
        let fit_dist = Normal::new(0.0, p.fit_sd).expect("validated sd >= 0");
        let fit = (0..neighbourhoods).map(|_| fit_dist.sample(&mut self.rng)).collect();
        self.practices.push(Practice { resolution_gain: gain, effort: effort.max(-0.9), fit });
        (self.practices.len() - 1) as u32
    }
}

impl World {
    /// Efficacy of team `t`'s practice where it works, for needs of the demand's mean complexity
    /// (0 for the established way).
    pub fn team_efficacy(&self, t: usize) -> f64 {
        let Some(p) = self.learning.in_use[t] else { return 0.0 };
        let practice = &self.learning.practices[p as usize];
        let c = self.learning.reference_complexity;
        match self.teams[t].role {
            TeamRole::Patch { neighbourhood } => practice.efficacy_in(neighbourhood as usize, c),
            TeamRole::Stage { .. } => practice.efficacy_everywhere(c),
        }
    }

    /// Relative effect on resolution and hours of team `t`'s practice for a need of complexity
    /// `c` of a citizen of neighbourhood `k`.
    pub(super) fn practice_effect(&self, t: usize, k: usize, c: f64) -> (f64, f64) {
        match self.learning.in_use.get(t).copied().flatten() {
            Some(p) => {
                let practice = &self.learning.practices[p as usize];
                (practice.gain_in(k, c), practice.effort)
            }
            None => (0.0, 0.0),
        }
    }

    /// Team `t` starts using `practice` on trial against `baseline`, judged on reported or true
    /// resolutions per hour.
    fn start_trial(&mut self, t: usize, practice: u32, baseline: f64, reported: bool) -> Trial {
        let o = &self.teams[t].outcomes;
        let trial = Trial {
            practice,
            previous: self.learning.in_use[t],
            ends: self.day + self.scenario.learning.trial_days,
            baseline,
            reported,
            hours_at_start: o.total_hours,
            good_at_start: if reported { o.total_reported } else { o.total_resolved },
        };
        self.learning.in_use[t] = Some(practice);
        trial
    }

    /// Team `t`'s needs truly resolved (or, `reported`, reported resolved: gamed closures count)
    /// per hour worked since its older mark, between one and two trial lengths ago. NaN without
    /// hours.
    fn recent_rate(&self, t: usize, reported: bool) -> f64 {
        let o = &self.teams[t].outcomes;
        let mark = self.learning.marks[t][0];
        let hours = o.total_hours - mark[0];
        let good = if reported { o.total_reported - mark[2] } else { o.total_resolved - mark[1] };
        if hours > 0.0 && good > 0.0 { good / hours } else { f64::NAN }
    }

    /// The same rate since the trial began, on the resolutions the trial is judged on.
    fn trial_rate(&self, t: usize, trial: &Trial) -> f64 {
        let o = &self.teams[t].outcomes;
        let hours = o.total_hours - trial.hours_at_start;
        let good = if trial.reported { o.total_reported } else { o.total_resolved } - trial.good_at_start;
        if hours > 0.0 { good / hours } else { f64::NAN }
    }

    /// One day of learning: seeding, trials ending, exploration and diffusion or the central pilot,
    /// and the day's adoption metrics.
    #[inline(never)] // a phase: one call a day, kept apart so a profile shows it by name
    pub(super) fn learning_day(&mut self, rec: &mut DayRecord) {
        let p = self.scenario.learning.clone();
        let teams = self.teams.len();
        if teams == 0 {
            return;
        }
        if p.seed_teams > 0 && self.day == p.seed_day {
            self.seed_practice(&p);
        }
        if self.day.is_multiple_of(p.trial_days) {
            for t in 0..teams {
                let o = &self.teams[t].outcomes;
                let marks = &mut self.learning.marks[t];
                marks[0] = marks[1];
                marks[1] = [o.total_hours, o.total_resolved, o.total_reported];
            }
        }
        match self.governance.practice_rollout {
            PracticeRollout::Local => self.local_learning(&p, rec),
            PracticeRollout::Mandated => self.central_pilot(&p, rec),
        }
        let (mut delivering, mut improved, mut using, mut efficacy) = (0usize, 0usize, 0usize, 0.0);
        for t in (0..teams).filter(|&t| self.teams[t].delivers()) {
            let e = self.team_efficacy(t);
            delivering += 1;
            improved += usize::from(e > 0.0);
            using += usize::from(self.learning.in_use[t].is_some());
            efficacy += e;
        }
        let n = delivering.max(1) as f64;
        rec[Metric::PracticesAdopted as usize] = improved as f64 / n;
        rec[Metric::PracticeCoverage as usize] = using as f64 / n;
        rec[Metric::PracticeEfficacyMean as usize] = efficacy / n;
    }

    /// A proven practice starts in a team and its nearest peers (breadth first from team 0).
    fn seed_practice(&mut self, p: &LearningParams) {
        let nn = self.neighbourhood_sizes.len();
        self.learning.practices.push(Practice { resolution_gain: p.seed_resolution_gain, effort: 0.0, fit: vec![0.0; nn] });
        let practice = (self.learning.practices.len() - 1) as u32;
        let mut order = vec![0u32];
        let mut seen = vec![false; self.teams.len()];
        seen[0] = true;
        let mut i = 0;
        while i < order.len() && order.len() < p.seed_teams as usize {
            for &v in self.learning.peers.neighbours(order[i] as usize) {
                if !seen[v as usize] && order.len() < p.seed_teams as usize {
                    seen[v as usize] = true;
                    order.push(v);
                }
            }
            i += 1;
        }
        for t in order {
            self.learning.in_use[t as usize] = Some(practice);
            self.learning.trials[t as usize] = None;
        }
    }

    /// Teams end their trials on true outcomes, explore, and copy practices their peers use.
    fn local_learning(&mut self, p: &LearningParams, rec: &mut DayRecord) {
        let teams = self.teams.len();
        for t in 0..teams {
            let Some(trial) = self.learning.trials[t] else { continue };
            if self.day < trial.ends {
                continue;
            }
            let rate = self.trial_rate(t, &trial);
            if !keeps(rate, trial.baseline, p.keep_margin) {
                self.learning.in_use[t] = trial.previous;
                self.learning.rejected[t].push(trial.practice);
            }
            self.learning.trials[t] = None;
        }
        let weekly = self.day.is_multiple_of(7);
        let nn = self.neighbourhood_sizes.len();
        for t in 0..teams {
            if !self.teams[t].delivers() || self.learning.trials[t].is_some() {
                continue;
            }
            let baseline = self.recent_rate(t, false);
            let explore = p.exploration_per_year * self.discretion(t) / 365.0;
            if explore > 0.0 && self.learning.rng.random::<f64>() < explore {
                let practice = self.learning.draw(p, nn);
                let trial = self.start_trial(t, practice, baseline, false);
                self.learning.trials[t] = Some(trial);
                rec[Metric::PracticeTrials as usize] += 1.0;
                continue;
            }
            if !weekly {
                continue;
            }
            // The practice most of the peers use (lowest id on a tie), if not tried before.
            let l = &mut self.learning;
            l.counts.clear();
            for &v in l.peers.neighbours(t) {
                if let Some(q) = l.in_use[v as usize] {
                    match l.counts.iter_mut().find(|(x, _)| *x == q) {
                        Some((_, c)) => *c += 1,
                        None => l.counts.push((q, 1)),
                    }
                }
            }
            let own = l.in_use[t];
            let best = l
                .counts
                .iter()
                .filter(|(q, _)| Some(*q) != own && !l.rejected[t].contains(q))
                .max_by_key(|&&(q, c)| (c, std::cmp::Reverse(q)))
                .copied();
            let Some((practice, users)) = best else { continue };
            if l.rng.random::<f64>() < adoption_chance(users, p) {
                let trial = self.start_trial(t, practice, baseline, false);
                self.learning.trials[t] = Some(trial);
                rec[Metric::PracticeTrials as usize] += 1.0;
            }
        }
    }

    /// The central unit pilots a practice, judges it on reported outcomes and mandates it.
    fn central_pilot(&mut self, p: &LearningParams, rec: &mut DayRecord) {
        if let Some((practice, due)) = self.learning.mandate
            && self.day >= due
        {
            for t in 0..self.teams.len() {
                if self.teams[t].delivers() {
                    self.learning.in_use[t] = Some(practice);
                }
            }
            self.learning.mandate = None;
        }
        if let Some((team, trial)) = self.learning.pilot
            && self.day >= trial.ends
        {
            let t = team as usize;
            let rate = self.trial_rate(t, &trial);
            if keeps(rate, trial.baseline, p.keep_margin) {
                self.learning.mandate = Some((trial.practice, self.day + p.rollout_delay_days));
            } else {
                self.learning.in_use[t] = trial.previous;
            }
            self.learning.pilot = None;
        }
        if self.learning.pilot.is_some() || self.learning.mandate.is_some() || self.day < self.learning.next_pilot_day {
            return;
        }
        // A delivering team chosen at random, without collecting them (this runs every day).
        let delivering = || (0..self.teams.len()).filter(|&t| self.teams[t].delivers());
        let count = delivering().count();
        if count == 0 {
            return;
        }
        let pick = self.learning.rng.random_range(0..count);
        let t = delivering().nth(pick).expect("pick < count");
        // The centre sees the pilot team's reported rate: gamed closures count as resolved. With
        // no record yet (the first weeks), it waits.
        let baseline = self.recent_rate(t, true);
        if baseline.is_nan() {
            return;
        }
        self.learning.next_pilot_day = self.day + p.pilot_interval_days;
        let practice = self.learning.draw(p, self.neighbourhood_sizes.len());
        let trial = self.start_trial(t, practice, baseline, true);
        self.learning.pilot = Some((t as u32, trial));
        rec[Metric::PracticeTrials as usize] += 1.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_separates_simple_from_complex_contagion() {
        let complex = LearningParams { threshold: 2, adoption_per_week: 0.5, below_threshold_factor: 0.0, ..Default::default() };
        assert_eq!(adoption_chance(0, &complex), 0.0);
        assert_eq!(adoption_chance(1, &complex), 0.0);
        assert_eq!(adoption_chance(2, &complex), 0.5);
        assert_eq!(adoption_chance(5, &complex), 0.5);
        let simple = LearningParams { threshold: 1, ..complex.clone() };
        assert_eq!(adoption_chance(1, &simple), 0.5);
        let leaky = LearningParams { below_threshold_factor: 0.1, ..complex };
        assert!((adoption_chance(1, &leaky) - 0.05).abs() < 1e-15);
    }

    #[test]
    fn a_practice_is_kept_only_when_it_beats_the_baseline() {
        assert!(keeps(0.8, 0.7, 0.0));
        assert!(!keeps(0.7, 0.7, 0.0));
        assert!(!keeps(0.75, 0.7, 0.1));
        assert!(keeps(0.78, 0.7, 0.1));
        assert!(!keeps(f64::NAN, 0.1, 0.0));
    }

    #[test]
    fn efficacy_depends_on_local_fit() {
        let p = Practice { resolution_gain: 0.1, effort: 0.0, fit: vec![0.05, -0.15] };
        assert!((p.efficacy_in(0, 1.0) - 0.15).abs() < 1e-15);
        assert!((p.efficacy_in(1, 1.0) + 0.05).abs() < 1e-15);
        assert!((p.efficacy_everywhere(1.0) - 0.05).abs() < 1e-15);
        // Fit matters in proportion to complexity: a simple need sees the same practice everywhere.
        assert!((p.gain_in(1, 0.5) - 0.025).abs() < 1e-15);
        assert_eq!(p.gain_in(0, 0.0), p.gain_in(1, 0.0));
        // Less effort at the same resolution is efficacy too: 1 / 0.8 - 1 = 0.25 more per hour.
        let quicker = Practice { resolution_gain: 0.0, effort: -0.2, fit: vec![0.0] };
        assert!((quicker.efficacy_in(0, 0.5) - 0.25).abs() < 1e-12);
        assert_eq!(quicker.gain_in(0, 0.5), 0.0);
    }
}
