//! What a run shows beyond the day's record: the networks at one moment (for snapshots), and
//! the run-level measures read off the series (recovery after a shock, half adoption).

use super::World;
use crate::metrics::{Metric, TimeSeries};
use crate::scenario::Scenario;

/// The networks at one moment: a sample of the community network with each citizen's trust, and
/// the organisation network with each node's group (department, or management).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NetworkSnapshot {
    pub community_nodes: usize,
    pub community_edges: Vec<(u32, u32)>,
    pub trust: Vec<f64>,
    pub organisation_nodes: usize,
    pub organisation_edges: Vec<(u32, u32)>,
    pub organisation_group: Vec<usize>,
    pub organisation_group_names: Vec<String>,
    /// What the organisation's groups are (absent from files written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation_grouped_by: Option<OrgGrouping>,
}

/// What the organisation network's groups in a [`NetworkSnapshot`] stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgGrouping {
    /// Teams by department (patch or stage), before any team uses a new practice.
    Department,
    /// Teams by the practice they use (MODEL.md §5.2).
    Practice,
}

impl World {
    /// The first `sample` citizens (part of neighbourhood 0, numbered consecutively) with the links
    /// among them, and the whole organisation network with its teams grouped by practice or
    /// department.
    pub fn network_snapshot(&self, sample: usize) -> NetworkSnapshot {
        let k = sample.min(self.citizens.len());
        let community_edges = self.community.edges().filter(|&(a, b)| (a as usize) < k && (b as usize) < k).collect();
        let org = &self.organisation;
        // Teams by the practice they use once any team uses a new one (MODEL.md §5.2), otherwise
        // by department.
        let by_practice = self.learning.in_use.iter().any(Option::is_some);
        let (group, names) = if by_practice {
            let mut group = vec![3; org.graph.node_count()];
            for (t, &node) in org.teams.iter().enumerate() {
                group[node.index()] = match self.learning.in_use.get(t).copied().flatten() {
                    None => 0,
                    Some(_) if self.team_efficacy(t) > 0.0 => 1,
                    Some(_) => 2,
                };
            }
            (group, ["established way", "better practice", "worse practice", "management"].map(String::from).to_vec())
        } else {
            let departments = org.team_department.iter().copied().max().map_or(1, |d| d + 1);
            let mut group = vec![departments; org.graph.node_count()];
            for (t, &node) in org.teams.iter().enumerate() {
                group[node.index()] = org.team_department[t];
            }
            let unit = if self.governance.place_based { "patch" } else { "stage" };
            let mut names: Vec<String> = (0..departments).map(|d| format!("{unit} {d}")).collect();
            names.push("management".into());
            (group, names)
        };
        NetworkSnapshot {
            community_nodes: k,
            community_edges,
            trust: self.citizens.trust[..k].to_vec(),
            organisation_nodes: org.graph.node_count(),
            organisation_edges: org.graph.raw_edges().iter().map(|e| (e.source().index() as u32, e.target().index() as u32)).collect(),
            organisation_group: group,
            organisation_group_names: names,
            organisation_grouped_by: Some(if by_practice { OrgGrouping::Practice } else { OrgGrouping::Department }),
        }
    }
}

/// Days from the first shock (surge, funding cut or staff loss) until the backlog's 30-day mean is
/// back within 10% (plus one case) of its mean over the 90 days before the shock, counted from the
/// shock's start and searched from its end. NaN without a shock or without recovery in the run.
pub fn recovery_days(scenario: &Scenario, series: &TimeSeries) -> f64 {
    use crate::scenario::Event;
    let Some((start, end)) = scenario.events.iter().find_map(|e| match e {
        Event::DemandSurge { day, duration_days, .. } => Some((*day, day + duration_days)),
        Event::FundingCut { day, .. } | Event::StaffLoss { day, .. } => Some((*day, *day)),
        _ => None,
    }) else {
        return f64::NAN;
    };
    let backlog = series.get(Metric::Backlog);
    let (start, end) = (start as usize, (end as usize).min(backlog.len()));
    if start == 0 || start >= backlog.len() {
        return f64::NAN;
    }
    let before = &backlog[start.saturating_sub(90)..start];
    let baseline = before.iter().sum::<f64>() / before.len() as f64;
    for t in end.max(start + 30)..backlog.len() {
        let recent = &backlog[t + 1 - 30..=t];
        if recent.iter().sum::<f64>() / 30.0 <= 1.1 * baseline + 1.0 {
            return (t - start) as f64;
        }
    }
    f64::NAN
}

/// First day on which practices_adopted reaches one half; NaN if it never does.
pub fn adoption_half_days(series: &TimeSeries) -> f64 {
    series.get(Metric::PracticesAdopted).iter().position(|&a| a >= 0.5).map_or(f64::NAN, |d| series.days[d] as f64)
}
