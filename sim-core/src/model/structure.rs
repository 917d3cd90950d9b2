//! The organisation's structure, built from the levers in force: place-based patch teams of at most
//! `max_team_size` (Buurtzorg) or a functional pipeline of one team per stage (MODEL.md §3, §4.3),
//! the organisation network and the overhead staff. Built at the start and again after a reform
//! changes the structure (MODEL.md §5.6), with every open case routed afresh.

use super::needs::{NO_WORKER, NeedState};
use super::{Team, TeamRole, World};
use crate::network::{OrgSpec, organisation};
use crate::scenario::Scenario;

impl World {
    /// (Re)builds teams, the citizens' home teams, the organisation network and the overhead from
    /// `self.governance` and the current worker slots.
    pub(super) fn build_structure(&mut self) {
        let g = self.governance.clone();
        let s = &self.scenario;
        let slots = self.workers.team.len();
        let sizes = &self.neighbourhood_sizes;
        let nn = sizes.len();
        let n: usize = sizes.iter().sum();
        let old_factor = self.teams.iter().filter(|t| t.delivers()).map(|t| t.desired_time_factor).sum::<f64>()
            / self.teams.iter().filter(|t| t.delivers()).count().max(1) as f64;
        let old_factor = if self.teams.is_empty() { 1.0 } else { old_factor };
        // Compliance with a safety protocol carries over a restructuring as the mean of the old teams.
        let compliance = if self.teams.is_empty() {
            s.safety.compliance_start
        } else {
            self.teams.iter().map(|t| t.compliance).sum::<f64>() / self.teams.len() as f64
        };
        let new_team = |role| Team {
            role,
            workers: Vec::new(),
            desired_time_factor: old_factor,
            prevention_bank: 0.0,
            prevention_share: g.prevention_share,
            integrity_mean: 0.0,
            smoothed_workload: 0.0,
            outcomes: super::management::TeamOutcomes { authority: g.discretion, ..Default::default() },
            pressure: 0.0,
            felt_pressure: 0.0,
            reform_experience: 0.0,
            members_in_post: 0,
            time_share: 1.0,
            compliance,
            levers: super::TeamLevers::default(),
        };
        let mut teams = Vec::new();
        let mut patch_teams = Vec::new();
        let mut stage_teams = Vec::new();
        if g.place_based {
            // Slots split over patches by population; each patch gets teams of at most max_team_size.
            let mut next = 0usize;
            for k in 0..nn {
                let upto: usize = sizes[..=k].iter().sum();
                let end = if k + 1 == nn { slots } else { (slots * upto / n.max(1)).min(slots) };
                let share = end.saturating_sub(next);
                let team_count = share.div_ceil(s.routing.max_team_size).max(1);
                let first = teams.len() as u32;
                for _ in 0..team_count {
                    teams.push(new_team(TeamRole::Patch { neighbourhood: k as u32 }));
                }
                for j in 0..share {
                    let t = first as usize + j % team_count;
                    teams[t].workers.push(next as u32);
                    self.workers.team[next] = t as u32;
                    next += 1;
                }
                patch_teams.push((first, team_count as u32));
            }
        } else {
            // Pipeline: one team per stage; every member of staff splits their hours between the
            // stages in proportion to the expected hours per stage (rebalanced weekly by workload
            // afterwards), so the staffing is fractional and the same at any size.
            let stages = g.handoffs as usize + 1;
            let delivery_hours = expected_delivery_hours(s);
            let weights: Vec<f64> =
                (0..stages).map(|st| if st + 1 == stages { delivery_hours } else { s.routing.handoff_hours.max(0.05) }).collect();
            let total: f64 = weights.iter().sum();
            let everyone: Vec<u32> = (0..slots as u32).collect();
            for (st, w) in weights.iter().enumerate() {
                let t = teams.len() as u32;
                let mut team = new_team(TeamRole::Stage { stage: st as u8, last: st + 1 == stages });
                team.workers = everyone.clone();
                team.time_share = w / total;
                teams.push(team);
                stage_teams.push(t);
            }
            let delivery = *stage_teams.last().expect("a pipeline has a delivery stage");
            self.workers.team.iter_mut().for_each(|t| *t = delivery);
        }
        for t in &mut teams {
            t.integrity_mean = self.workers.team_integrity(&t.workers);
        }
        for i in 0..n {
            self.citizens.home_team[i] = if g.place_based {
                let (first, count) = patch_teams[self.citizens.neighbourhood[i] as usize];
                first + (i as u32 % count)
            } else {
                *stage_teams.last().expect("a pipeline has a delivery stage")
            };
        }
        let team_count = teams.len();
        self.organisation = organisation(
            &OrgSpec {
                teams: team_count,
                management_layers: g.management_layers,
                span_of_control: g.span_of_control,
                peer_links: g.peer_links,
                // Patches are departments when place-based; pipeline stages are when functional.
                departments: if g.place_based { nn } else { team_count },
                peer_structure: s.learning.peer_structure,
                peer_rewire: s.learning.peer_rewire,
            },
            self.seed,
        );
        self.learning.reset_teams(team_count, self.organisation.peer_csr());
        self.teams = teams;
        self.stage_teams = stage_teams;
        self.scratch.queues = vec![Vec::new(); team_count];

        // Open cases start again at the new intake; service in progress stops.
        for id in 0..self.needs.slots.len() {
            if !self.needs.live[id] {
                continue;
            }
            let citizen = self.needs.slots[id].citizen as usize;
            let intake = self.intake_team(citizen);
            let need = &mut self.needs.slots[id];
            if matches!(need.state, NeedState::Queued | NeedState::AwaitingApproval) {
                need.team = intake;
                need.stage = 0;
                need.in_service = false;
                need.worker = NO_WORKER;
            }
        }
    }
}

/// Expected hours of a delivery, to staff the pipeline's stages in proportion.
fn expected_delivery_hours(s: &Scenario) -> f64 {
    let total: f64 = s.need_types.iter().map(|t| t.rate_per_year).sum();
    if total <= 0.0 {
        return 1.0;
    }
    s.need_types.iter().map(|t| t.rate_per_year * t.standard_hours).sum::<f64>() / total
}
