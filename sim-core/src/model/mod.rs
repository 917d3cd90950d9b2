//! The world and its day. State (citizens as struct-of-arrays, needs, workers, teams, stocks,
//! the community network) lives in [`World`]; [`World::step`] advances one day in the order of
//! ARCHITECTURE.md: needs arise, presentation, routing, work allocation, service encounters,
//! outcomes, money. Each mechanism's rule lives in its own module and is cited there.

pub mod citizens;
pub mod demand;
pub mod effort;
pub mod gaming;
pub mod learning;
pub mod management;
pub mod money;
pub mod needs;
pub mod presentation;
pub mod response;
pub mod safety;
pub mod shocks;
mod structure;
pub mod workforce;

use rand::RngExt;
use rand_distr::{Beta, Distribution, Exp, Poisson, StandardNormal};

use crate::metrics::{DayRecord, Metric, RunSummary, TimeSeries, quantile_sorted, total_order_key};
use crate::network::{CommunitySpec, Csr, OrgNetwork, OrgSpec, community, organisation};
use crate::rng::{Stream, stream};
use crate::scenario::{Governance, Scenario, TimeStandard};
use crate::sd::{StockFlow, smooth_rate};
use money::OverheadStaff;
use needs::{Approval, NO_WORKER, Need, NeedSet, NeedState};
use workforce::{STOCK_ARRIVED, STOCK_BUDGET, STOCK_PERCEIVED, STOCK_PIPELINE};
pub use workforce::{Staffing, Workers};

/// Citizens as struct-of-arrays (MODEL.md §2).
#[derive(Debug, Clone, Default)]
pub struct Citizens {
    pub neighbourhood: Vec<u32>,
    pub deprivation: Vec<f64>,
    pub wellbeing: Vec<f64>,
    pub wellbeing_baseline: Vec<f64>,
    pub trust: Vec<f64>,
    pub latent: Vec<f64>,
    /// Opinion on a contested service question, -1..1 (MODEL.md §2).
    pub opinion: Vec<f64>,
    /// Needs of an enforcement type (arrears) the citizen has had.
    pub arrears: Vec<u16>,
    /// The worker who last served the citizen (continuity), or `NO_WORKER`.
    pub last_worker: Vec<u32>,
    /// The delivery team that serves the citizen's patch (place-based) or the delivery team.
    pub home_team: Vec<u32>,
    /// Whether the citizen was served in the summary window (hours per client).
    pub served_in_window: Vec<bool>,
    /// Day the citizen was last served, to count distinct clients per day.
    pub last_served_day: Vec<u32>,
}

impl Citizens {
    pub fn len(&self) -> usize {
        self.deprivation.len()
    }
    pub fn is_empty(&self) -> bool {
        self.deprivation.is_empty()
    }
}

/// What a team does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamRole {
    /// A self-contained team owning a neighbourhood patch: it assesses and delivers.
    Patch { neighbourhood: u32 },
    /// A stage of the functional pipeline; the last stage delivers.
    Stage { stage: u8, last: bool },
}

#[derive(Debug, Clone)]
pub struct Team {
    pub role: TeamRole,
    pub workers: Vec<u32>,
    /// T* as a multiple of the time a case's response calls for (1 = the full time).
    pub desired_time_factor: f64,
    /// Prevention hours accrued and not yet spent on root causes.
    pub prevention_bank: f64,
    pub integrity_mean: f64,
    /// Hours of work waiting, smoothed over a week (pipeline staffing follows it).
    pub smoothed_workload: f64,
    /// Share of hours this team gives to prevention (teams that review true outcomes adapt it).
    pub prevention_share: f64,
    /// Recent outcomes the team sees (and that move its morale).
    pub outcomes: management::TeamOutcomes,
    /// Today's work pressure.
    pub pressure: f64,
    /// The work pressure the team's members feel today (their own team's, or the whole pipeline's
    /// for staff who split their hours between stages).
    pub felt_pressure: f64,
    /// Cases handled per member since the current reform began (its learning curve).
    pub reform_experience: f64,
    /// Members in post today (counted when the team is served).
    pub members_in_post: usize,
    /// Share of each member's casework hours given to this team: 1 for a patch team; pipeline
    /// stages split every member's hours in proportion to their workload.
    pub time_share: f64,
    /// Share of encounters in which the team follows the safety protocol (MODEL.md §9).
    pub compliance: f64,
    /// The levers the team sets for itself (none: the service-wide values).
    pub levers: TeamLevers,
}

/// A team's own values of the levers a team may set (`scenario::TEAM_LEVERS`); `None` follows the
/// service-wide lever. A restructuring (new teams) clears them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TeamLevers {
    pub discretion: Option<f64>,
    pub time_standard: Option<TimeStandard>,
    /// The team's ceiling on the prevention share its own review may reach is raised from this.
    pub prevention_share: Option<f64>,
}

impl Team {
    /// Whether the team delivers responses (a patch team, or the pipeline's last stage).
    pub fn delivers(&self) -> bool {
        matches!(self.role, TeamRole::Patch { .. } | TeamRole::Stage { last: true, .. })
    }
}

impl World {
    /// The discretion in force in team `t`: its own, or the service-wide lever.
    fn discretion(&self, t: usize) -> f64 {
        self.teams[t].levers.discretion.unwrap_or(self.governance.discretion)
    }

    /// The time standard in force in team `t`: its own, or the service-wide lever.
    fn time_standard(&self, t: usize) -> TimeStandard {
        self.teams[t].levers.time_standard.unwrap_or(self.governance.time_standard)
    }

    /// Whether worker `w` works in team `t`: its own patch team, or any stage of the pipeline
    /// (pipeline staff split their hours between stages; their home is the delivery stage).
    fn member_of(&self, w: u32, t: usize) -> bool {
        match self.teams[t].role {
            TeamRole::Patch { .. } => self.workers.team[w as usize] == t as u32,
            TeamRole::Stage { .. } => true,
        }
    }
}

/// Cumulative case counts since day 0 (for conservation checks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseTotals {
    pub arrived: u64,
    pub closed_resolved: u64,
    pub closed_unresolved: u64,
    pub abandoned: u64,
    pub escalated: u64,
}

/// Named random streams, one per mechanism.
#[derive(Debug, Clone)]
struct Streams {
    demand: Stream,
    presentation: Stream,
    response: Stream,
    outcome: Stream,
    gaming: Stream,
    staff: Stream,
    social: Stream,
}

/// A queued case's place as one integer: higher priority first (in `f64::total_cmp` order), then
/// lower id. A total order, so the serving order is the same however the queue is built.
fn queue_key(priority: f64, id: u32) -> u128 {
    (u128::from(total_order_key(priority)) << 32) | u128::from(u32::MAX - id)
}

fn queue_key_id(key: u128) -> u32 {
    u32::MAX - key as u32
}

/// Scratch buffers of the day stepper; not part of the state.
#[derive(Debug, Clone, Default)]
struct Scratch {
    /// Per-citizen values (trust snapshot, wellbeing for the Gini).
    values: Vec<f64>,
    /// Queue keys, reused as the heap's storage.
    keyed: Vec<u128>,
    /// Radix-sort keys (the wellbeing Gini).
    keys: Vec<u64>,
    /// Hours each team's queue calls for today.
    required: Vec<f64>,
    /// Today's opinion exchanges: (citizen, index of the neighbour in the community's targets).
    pairs: Vec<(u32, u32)>,
    queues: Vec<Vec<u32>>,
    waits: Vec<f64>,
}

/// The whole state of one run.
#[derive(Debug, Clone)]
pub struct World {
    pub scenario: Scenario,
    /// The levers in force today (scheduled reforms and management tightening change them).
    pub governance: Governance,
    /// The levers as the scenario and its events set them, before management's adjustments:
    /// management loosens back toward these, never past them.
    pub(crate) policy: Governance,
    pub seed: u64,
    pub day: u32,
    pub citizens: Citizens,
    pub community: Csr,
    /// Reporting tree of teams and managers plus peer links (MODEL.md §2).
    pub organisation: OrgNetwork,
    /// Practices, who uses which, trials and pilots (MODEL.md §5.2).
    pub learning: learning::Learning,
    pub workers: Workers,
    pub teams: Vec<Team>,
    pub needs: NeedSet,
    pub totals: CaseTotals,
    /// Budget and perceived performance (MODEL.md §2, §5.4).
    pub stocks: StockFlow,
    /// Rate-weighted mean standard hours, to express T* in hours.
    reference_hours: f64,
    /// Rate-weighted mean complexity of the need types, at which practices' efficacy is reported.
    reference_complexity: f64,
    stage_teams: Vec<u32>,
    neighbourhood_sizes: Vec<usize>,
    /// Establishment, vacancies and recruitment (MODEL.md §5.1).
    pub staffing: Staffing,
    /// The reform in progress, if any: its start day (learning cost, MODEL.md §5.6).
    reform: Option<u32>,
    /// Levers on their way to new values.
    ramps: Vec<shocks::Ramp>,
    /// Perceived performance by day, for management's delayed view.
    perceived_history: Vec<f64>,
    window_hours: f64,
    window_cost: f64,
    /// The last citizens' assembly, if any.
    pub last_assembly: Option<citizens::AssemblyRecord>,
    wellbeing_gini: f64,
    opinion_polarisation: f64,
    /// Sums of daily neighbourhood wellbeing means over the window (weekly samples) and their count.
    window_neighbourhood_wellbeing: (Vec<f64>, u32),
    streams: Streams,
    scratch: Scratch,
}

/// Everything a run produces.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub series: TimeSeries,
    pub summary: RunSummary,
    pub totals: CaseTotals,
    /// The networks at the end of the run, for snapshots.
    pub networks: NetworkSnapshot,
}

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
        let (group, names) = if self.learning.in_use.iter().any(Option::is_some) {
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
        }
    }
}

fn beta(mean: f64, concentration: f64) -> Beta<f64> {
    Beta::new(mean * concentration, (1.0 - mean) * concentration).expect("validated mean in (0,1) and concentration > 0")
}

impl World {
    /// Builds the world of `scenario` for run seed `seed`.
    pub fn new(scenario: &Scenario, seed: u64) -> Self {
        let s = scenario;
        let pop = &s.population;
        let n = pop.citizens;
        let nn = pop.neighbourhoods;

        // Citizens, neighbourhood by neighbourhood in equal blocks.
        let sizes: Vec<usize> = (0..nn).map(|k| n / nn + usize::from(k < n % nn)).collect();
        let mut rng = stream(seed, "population");
        let mut c = Citizens::default();
        let (dep, wb, tr, lat) = (
            beta(pop.deprivation_mean, pop.spread_concentration),
            beta(pop.wellbeing_mean, pop.spread_concentration),
            beta(pop.trust_mean, pop.spread_concentration),
            beta(pop.latent_mean, pop.spread_concentration),
        );
        let mut opinions = stream(seed, "opinions");
        for (k, &size) in sizes.iter().enumerate() {
            // Deprivation may differ between neighbourhoods (0: the same everywhere).
            let tilt = if nn > 1 { 2.0 * k as f64 / (nn - 1) as f64 - 1.0 } else { 0.0 };
            let dep_k = if pop.deprivation_gradient > 0.0 {
                beta((pop.deprivation_mean * (1.0 + pop.deprivation_gradient * tilt)).clamp(0.01, 0.99), pop.spread_concentration)
            } else {
                dep
            };
            for _ in 0..size {
                c.neighbourhood.push(k as u32);
                c.deprivation.push(dep_k.sample(&mut rng));
                // Two camps on the contested question, with noise.
                let camp = if opinions.random::<bool>() { pop.opinion_camps } else { -pop.opinion_camps };
                let noise: f64 = opinions.sample(StandardNormal);
                c.opinion.push((camp + 0.2 * noise).clamp(-1.0, 1.0));
                let w = wb.sample(&mut rng);
                c.wellbeing.push(w);
                c.wellbeing_baseline.push(w);
                c.trust.push(tr.sample(&mut rng));
                c.latent.push(lat.sample(&mut rng));
            }
        }
        c.arrears = vec![0; n];
        c.last_worker = vec![NO_WORKER; n];
        c.home_team = vec![0; n];
        c.served_in_window = vec![false; n];
        c.last_served_day = vec![u32::MAX; n];
        let community = community(
            &CommunitySpec {
                neighbourhood_sizes: sizes.clone(),
                k: pop.community_k,
                rewire: pop.community_rewire,
                cross_links_per_citizen: pop.cross_links_per_citizen,
            },
            seed,
        );

        // Workforce and teams.
        let g = &s.governance;
        let staff = s.workforce.frontline_staff;
        let mut wrng = stream(seed, "workforce");
        let (sk, ig) = (
            beta(s.workforce.skill_mean, s.workforce.spread_concentration),
            beta(s.workforce.integrity_mean, s.workforce.spread_concentration),
        );
        let mut workers = Workers::default();
        for _ in 0..staff {
            let (skill, integrity) = (sk.sample(&mut wrng), ig.sample(&mut wrng));
            workers.push(skill, integrity, s.staff.morale_base + 0.5 * s.staff.morale_from_resolution);
        }

        let rate_total: f64 = s.need_types.iter().map(|t| t.rate_per_year).sum();
        let reference_hours = if rate_total > 0.0 {
            s.need_types.iter().map(|t| t.rate_per_year * t.standard_hours).sum::<f64>() / rate_total
        } else {
            s.need_types.iter().map(|t| t.standard_hours).sum::<f64>() / s.need_types.len() as f64
        };
        let reference_complexity = if rate_total > 0.0 {
            s.need_types.iter().map(|t| t.rate_per_year * t.complexity_mean).sum::<f64>() / rate_total
        } else {
            s.need_types.iter().map(|t| t.complexity_mean).sum::<f64>() / s.need_types.len() as f64
        };
        let stocks = StockFlow::from_pairs(&[
            ("budget", s.money.initial_budget),
            ("perceived_performance", 1.0),
            ("recruitment_pipeline", 0.0),
            ("recruits_arrived", 0.0),
        ]);
        let mut world = World {
            scenario: s.clone(),
            governance: g.clone(),
            policy: g.clone(),
            seed,
            day: 0,
            citizens: c,
            community,
            organisation: organisation(
                &OrgSpec { teams: 0, management_layers: 0, span_of_control: 1, peer_links: 0.0, departments: 1, ..Default::default() },
                seed,
            ),
            learning: learning::Learning::new(seed),
            workers,
            teams: Vec::new(),
            needs: NeedSet::default(),
            totals: CaseTotals::default(),
            stocks,
            reference_hours,
            reference_complexity,
            stage_teams: Vec::new(),
            window_hours: 0.0,
            streams: Streams {
                demand: stream(seed, "demand"),
                presentation: stream(seed, "presentation"),
                response: stream(seed, "response"),
                outcome: stream(seed, "outcome"),
                gaming: stream(seed, "gaming"),
                social: stream(seed, "social"),
                staff: stream(seed, "staff"),
            },
            scratch: Scratch::default(),
            neighbourhood_sizes: sizes,
            staffing: Staffing::new(staff),
            reform: None,
            ramps: Vec::new(),
            perceived_history: Vec::new(),
            window_cost: 0.0,
            last_assembly: None,
            wellbeing_gini: f64::NAN,
            opinion_polarisation: f64::NAN,
            window_neighbourhood_wellbeing: (Vec::new(), 0),
        };
        world.build_structure();
        world
    }

    /// Open cases: queued, in service or awaiting approval.
    pub fn open_cases(&self) -> usize {
        self.needs.in_state(NeedState::Queued) + self.needs.in_state(NeedState::AwaitingApproval)
    }

    /// The team that first receives a new case of citizen `i`.
    fn intake_team(&self, i: usize) -> u32 {
        if self.governance.place_based { self.citizens.home_team[i] } else { self.stage_teams[0] }
    }

    /// Turns a need into an open case (MODEL.md §4.3 routing).
    fn open_case(&mut self, id: u32, rec: &mut DayRecord) {
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
    fn acute_event(&mut self, id: u32, rec: &mut DayRecord) {
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
        let w = &mut self.citizens.wellbeing[citizen];
        *w = (*w - self.scenario.demand.acute_wellbeing_loss).max(0.0);
        self.needs.remove(id);
    }

    /// Advances one day and records it.
    pub fn step(&mut self) -> DayRecord {
        let mut rec: DayRecord = [0.0; Metric::COUNT];
        self.scratch.waits.clear();
        self.apply_events();
        self.life_events();
        self.needs_arise(&mut rec);
        self.review_needs(&mut rec);
        self.serve_teams(&mut rec);
        self.staff_day(&mut rec);
        self.social_day();
        self.assembly_day();
        self.account(&mut rec);
        self.manage(&rec);
        self.learning_day(&mut rec);
        self.safety_day();
        self.recruit();
        self.day += 1;
        rec
    }

    /// New underlying problems (latent onsets) and the slow return of wellbeing to its baseline.
    fn life_events(&mut self) {
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
            for (w, b) in self.citizens.wellbeing.iter_mut().zip(&self.citizens.wellbeing_baseline) {
                *w += (b - *w) * k;
            }
        }
    }

    /// Needs arise by thinning (MODEL.md §4.1) and are presented at once or stay hidden (§4.2).
    fn needs_arise(&mut self, rec: &mut DayRecord) {
        let s = &self.scenario;
        let n = self.citizens.len();
        let surge = self.staffing.surge_multiplier;
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
            for _ in 0..candidates {
                let rng = &mut self.streams.demand;
                let i = rng.random_range(0..n);
                let c = &self.citizens;
                let mult = demand::rate_multiplier(&self.scenario.demand, c.deprivation[i], c.latent[i], c.wellbeing[i])
                    * self.scenario.demand.demand_multiplier
                    * surge;
                if rng.random::<f64>() * bound_mult >= mult {
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
            }
        }
    }

    /// Daily review of every live need: severity, crisis, presentation of hidden needs, returns,
    /// approvals coming back, abandonment; open cases go to their team's queue.
    fn review_needs(&mut self, rec: &mut DayRecord) {
        let day = self.day;
        for q in &mut self.scratch.queues {
            q.clear();
        }
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
            match n.state {
                NeedState::Hidden => {
                    let i = n.citizen as usize;
                    let p = presentation::present_hidden(&self.scenario.presentation, self.citizens.trust[i], n.severity);
                    if n.case_arrival != day && self.streams.presentation.random::<f64>() < p {
                        self.open_case(id, rec);
                        self.enqueue(id, day, target_days, tp);
                    }
                }
                NeedState::Returning => {
                    if day >= n.due {
                        self.open_case(id, rec);
                        self.enqueue(id, day, target_days, tp);
                    }
                }
                NeedState::AwaitingApproval => {
                    if self.game_target(id) {
                        // Put up for early closure: a worker must record it (see `serve_queue`).
                        self.enqueue(id, day, target_days, tp);
                        continue;
                    }
                    if day >= self.needs.slots[id as usize].due {
                        self.needs.set_state(id, NeedState::Queued);
                        self.enqueue(id, day, target_days, tp);
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
                    } else {
                        self.game_target(id);
                        self.enqueue(id, day, target_days, tp);
                    }
                }
            }
        }
    }

    fn enqueue(&mut self, id: u32, day: u32, target_days: f64, tp: f64) {
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
        self.scratch.queues[n.team as usize].push(id);
    }

    /// The hours a team plans for a case before pressure: the response's time at T* = 1.
    fn planned_hours(&self, n: &Need) -> f64 {
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
        let nt = &self.scenario.need_types[n.need_type as usize];
        nt.standard_hours + self.protocol_hours(nt)
    }

    /// Hours a mandated safety protocol adds to an encounter of need type `nt` (MODEL.md §9).
    fn protocol_hours(&self, nt: &crate::scenario::NeedType) -> f64 {
        if self.scenario.safety.protocol && nt.harm_per_encounter > 0.0 { self.scenario.safety.protocol_hours } else { 0.0 }
    }

    /// Work allocation and service encounters, team by team (MODEL.md §4.3-4.7).
    fn serve_teams(&mut self, rec: &mut DayRecord) {
        let s = &self.scenario;
        let g = self.governance.clone();
        let e = s.effort.clone();
        let fatigue_loss = s.staff.fatigue_productivity_loss;
        let hours_per_day = s.workforce.hours_per_day;
        let mut queues = std::mem::take(&mut self.scratch.queues);
        // Hours each team's queue calls for, summed once for rebalancing and pressure.
        let mut required_by_team = std::mem::take(&mut self.scratch.required);
        required_by_team.clear();
        required_by_team.extend(queues.iter().map(|q| q.iter().map(|&id| self.planned_hours(&self.needs.slots[id as usize])).sum::<f64>()));
        if !g.place_based {
            self.rebalance_pipeline(&required_by_team);
        }
        self.workers.worked_today.iter_mut().for_each(|h| *h = 0.0);
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
            // id. A heap yields them in that order without sorting the cases nobody reaches today.
            let mut keyed = std::mem::take(&mut self.scratch.keyed);
            keyed.clear();
            keyed.extend(queue.iter().map(|&id| queue_key(self.needs.slots[id as usize].priority, id)));
            let mut heap = std::collections::BinaryHeap::from(keyed);
            let time_factor_today = self.teams[t].desired_time_factor * factor;
            self.serve_queue(t, std::iter::from_fn(|| heap.pop().map(queue_key_id)), time_factor_today, rec);
            self.scratch.keyed = heap.into_vec();
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
            if !queue.is_empty() && team.delivers() {
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
        self.scratch.required = required_by_team;
    }

    /// Share of a worker's hours left for casework in team `t`: not admin, not the team's prevention
    /// time, and not training while a reform is being learnt.
    fn casework_share(&self, t: usize) -> f64 {
        let training =
            if self.reform.is_some() { self.scenario.management.reform_training_share * (1.0 - self.reform_familiarity(t)) } else { 0.0 };
        (1.0 - self.governance.admin_share - self.teams[t].prevention_share - training).max(0.05)
    }

    /// Functional managers move staff time between pipeline stages weekly, in proportion to each
    /// stage's smoothed workload (Little's law staffing: capacity where the hours are needed). Staff
    /// split their hours, so the staffing is fractional and does not depend on the service's size;
    /// every stage keeps at least 1% of the hours, so none starves until the next rebalancing.
    fn rebalance_pipeline(&mut self, required_by_team: &[f64]) {
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

    /// Whether an open case near the target threshold is put up today for early closure (MODEL.md
    /// §4.7); a worker must then record it, in `serve_queue`. Most cases are not near the
    /// threshold: that test is inlined into the daily review, the rest is not.
    #[inline(always)]
    fn game_target(&mut self, id: u32) -> bool {
        let n = &self.needs.slots[id as usize];
        let tg = &self.scenario.targets;
        let wait = (self.day - n.case_arrival) as f64;
        if n.in_service || self.governance.target_pressure <= 0.0 || !gaming::near_threshold(wait, tg.target_days, tg.near_threshold_days) {
            return false;
        }
        self.game_target_near_threshold(id)
    }

    #[inline(never)]
    fn game_target_near_threshold(&mut self, id: u32) -> bool {
        let n = &self.needs.slots[id as usize];
        let tg = &self.scenario.targets;
        let g = &self.governance;
        let integrity = self.teams[n.team as usize].integrity_mean;
        let chance = gaming::early_closure_chance(g.target_pressure, tg.gaming_propensity, integrity, g.inspection_share, tg.deterrence);
        let put_up = self.streams.gaming.random::<f64>() < chance;
        self.needs.slots[id as usize].gaming = put_up;
        put_up
    }

    /// An early closure put up today: the worker records it (it takes `targets.gaming_hours`, and
    /// without those hours left it is not done), then inspection may catch it (Bevan & Hood 2006).
    fn record_early_closure(&mut self, id: u32, worker: u32, rec: &mut DayRecord) {
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
    fn serve_queue(&mut self, t: usize, queue: impl Iterator<Item = u32>, time_factor: f64, rec: &mut DayRecord) {
        let team_size = self.teams[t].workers.len();
        if team_size == 0 {
            return;
        }
        let mut cursor = 0usize;
        for id in queue {
            // Choose the worker: the one already serving, or the next free (continuity may then
            // hand the case to the worker the citizen knows, see `start_service`).
            let n = &self.needs.slots[id as usize];
            let preferred = if n.worker != NO_WORKER && self.member_of(n.worker, t) { Some(n.worker) } else { None };
            let mut worker = match preferred.filter(|&w| self.workers.hours_left[w as usize] > 1e-9) {
                Some(w) => w,
                None => {
                    let mut found = None;
                    for k in 0..team_size {
                        let w = self.teams[t].workers[(cursor + k) % team_size];
                        if self.workers.hours_left[w as usize] > 1e-9 {
                            found = Some(w);
                            cursor = (cursor + k + 1) % team_size;
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
    fn start_service(&mut self, id: u32, t: usize, worker: u32, time_factor: f64) -> Option<u32> {
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
    fn network_support(&self, citizen: usize) -> f64 {
        let nb = self.community.neighbours(citizen);
        if nb.is_empty() {
            return 0.0;
        }
        nb.iter().filter(|&&j| self.citizens.wellbeing[j as usize] > 0.5).count() as f64 / nb.len() as f64
    }

    /// The encounter's outcome (MODEL.md §4.5-4.6).
    fn deliver(&mut self, id: u32, t: usize, worker: u32, rec: &mut DayRecord) {
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
        let trust = &mut self.citizens.trust[citizen];
        *trust = citizens::trust_after(*trust, resolved, &s.citizens);
        if resolved {
            // Getting the need met restores some wellbeing.
            let (w, b) = (self.citizens.wellbeing[citizen], self.citizens.wellbeing_baseline[citizen]);
            if w < b {
                self.citizens.wellbeing[citizen] = w + s.citizens.resolution_wellbeing * (b - w);
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
    fn harm_risk(&mut self, t: usize, risk: f64, q: f64, citizen: usize, rec: &mut DayRecord) {
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
            let w = &mut self.citizens.wellbeing[citizen];
            *w = (*w - self.scenario.demand.acute_wellbeing_loss).max(0.0);
        }
    }

    /// The enforcement route after a failed standard response to arrears: a bailiff's visit costs
    /// money, adds a fee to the debt (the latent problem) and may raise a need elsewhere.
    fn enforce(&mut self, citizen: usize, need_type: usize, rec: &mut DayRecord) {
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
    fn close_case(&mut self, id: u32, resolved: bool, gamed: bool, rec: &mut DayRecord) {
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

    /// Costs, stocks and the levels recorded at the end of the day (MODEL.md §5.4, §6).
    fn account(&mut self, rec: &mut DayRecord) {
        let s = &self.scenario;
        let g = &self.governance;
        let m = &s.money;
        let in_post = self.workers.in_post_count() as f64;
        let frontline = money::frontline_pay(
            in_post,
            s.workforce.hours_per_day,
            rec[Metric::OvertimeHours as usize],
            g.hourly_rate,
            m.overtime_premium,
        );
        let inspection_hours = rec[Metric::InspectionHoursInternal as usize]
            + g.inspection_share * rec[Metric::CasesClosed as usize] * s.targets.inspection_hours;
        // The structure is sized on the funded posts (the establishment) and paid whatever the work.
        let structure = OverheadStaff::for_frontline(self.staffing.establishment, g).cost_per_day(m, s.workforce.hours_per_day);
        let recruitment = std::mem::take(&mut self.staffing.recruitment_cost_due);
        rec[Metric::CostRecruitment as usize] = recruitment;
        let overhead = structure + inspection_hours * m.manager_hourly_rate + recruitment;
        let acute = rec[Metric::CostAcute as usize];
        let waits = &mut self.scratch.waits;
        // The target as reported: closures within target_days (gamed closures count as on time).
        let on_time = waits.iter().filter(|&&w| w <= s.targets.target_days).count() as f64;
        rec[Metric::OnTimeShare as usize] = if waits.is_empty() { f64::NAN } else { on_time / waits.len() as f64 };
        if waits.is_empty() {
            rec[Metric::WaitMeanDays as usize] = f64::NAN;
            rec[Metric::WaitP90Days as usize] = f64::NAN;
        } else {
            rec[Metric::WaitMeanDays as usize] = waits.iter().sum::<f64>() / waits.len() as f64;
            waits.sort_by(f64::total_cmp);
            rec[Metric::WaitP90Days as usize] = quantile_sorted(waits, 0.9);
        }
        rec[Metric::CostFrontline as usize] = frontline;
        rec[Metric::CostOverhead as usize] = overhead;
        rec[Metric::CostService as usize] = frontline + overhead;
        rec[Metric::CostTotal as usize] = frontline + overhead + acute + rec[Metric::CostEnforcement as usize];
        let closed = rec[Metric::CasesClosed as usize];
        let (reported, truly) = if closed > 0.0 {
            (rec[Metric::ClosedReported as usize] / closed, rec[Metric::ResolvedTrue as usize] / closed)
        } else {
            (f64::NAN, f64::NAN)
        };
        rec[Metric::ReportedResolutionRate as usize] = reported;
        rec[Metric::TrueResolutionRate as usize] = truly;
        rec[Metric::GamingGap as usize] = reported - truly;
        let arrived = rec[Metric::CasesArrived as usize];
        rec[Metric::FailureDemandShare as usize] = ratio(rec[Metric::DemandFailure as usize], arrived);
        rec[Metric::TimePerCase as usize] = ratio(rec[Metric::DeliveryHours as usize], rec[Metric::Deliveries as usize]);
        rec[Metric::BespokeShare as usize] = ratio(rec[Metric::BespokeDeliveries as usize], rec[Metric::Deliveries as usize]);
        rec[Metric::HarmRate as usize] = ratio(rec[Metric::HarmEvents as usize], rec[Metric::HarmRiskEncounters as usize]);
        rec[Metric::ProtocolCompliance as usize] = ratio(rec[Metric::ProtocolFollowed as usize], rec[Metric::HarmRiskEncounters as usize]);
        rec[Metric::TargetBunching as usize] = ratio(rec[Metric::ClosedBeforeTarget as usize], rec[Metric::ClosedAfterTarget as usize]);
        rec[Metric::OverheadShare as usize] = ratio(overhead, frontline + overhead);
        rec[Metric::CostPerHourWorked as usize] = ratio(frontline + overhead, rec[Metric::HoursWorked as usize]);
        rec[Metric::CostPerResolvedNeed as usize] = ratio(rec[Metric::CostTotal as usize], rec[Metric::ResolvedTrue as usize]);
        rec[Metric::OvertimeShare as usize] = if rec[Metric::HoursWorked as usize] > 0.0 {
            rec[Metric::OvertimeHours as usize] / rec[Metric::HoursWorked as usize]
        } else {
            0.0
        };

        // Stocks (MODEL.md §2, §5.4): budget (funding in, costs out), perceived performance (the
        // reported on-time share, smoothed), and the recruitment pipeline as a first-order delay
        // whose outflow accumulates in `recruits_arrived`.
        let funding = m.funding_per_year / 365.0 * self.staffing.funding_share;
        let cost = rec[Metric::CostTotal as usize];
        let on_time_share = rec[Metric::OnTimeShare as usize];
        let observed = if on_time_share.is_finite() { on_time_share } else { self.stocks.stocks[STOCK_PERCEIVED] };
        let tau = m.perception_days;
        let delay = s.staff.recruitment_delay_days;
        let flows = move |_t: f64, x: &nalgebra::DVector<f64>, out: &mut nalgebra::DVector<f64>| {
            out[STOCK_BUDGET] = funding - cost;
            out[STOCK_PERCEIVED] = smooth_rate(observed, x[STOCK_PERCEIVED], tau);
            out[STOCK_PIPELINE] = -x[STOCK_PIPELINE] / delay;
            out[STOCK_ARRIVED] = x[STOCK_PIPELINE] / delay;
        };
        self.stocks.step(&flows, 1.0, s.run.integrator);
        rec[Metric::Funding as usize] = funding;
        // Past the warm-up, finance watches the running balance (90-day smoothing).
        if self.day >= s.run.warmup_days.min(90) {
            self.staffing.net_flow_estimate += (funding - cost - self.staffing.net_flow_estimate) / 90.0;
        }
        rec[Metric::Budget as usize] = self.stocks.stocks[STOCK_BUDGET];
        rec[Metric::PerceivedPerformance as usize] = self.stocks.stocks[STOCK_PERCEIVED];
        rec[Metric::RecruitmentPipeline as usize] = self.stocks.stocks[STOCK_PIPELINE];

        // Levels at the end of the day.
        let backlog = self.needs.in_state(NeedState::Queued) + self.needs.in_state(NeedState::AwaitingApproval);
        let hidden = self.needs.in_state(NeedState::Hidden);
        rec[Metric::Backlog as usize] = backlog as f64;
        rec[Metric::HiddenNeeds as usize] = hidden as f64;
        let (factor_sum, deliverers) =
            self.teams.iter().filter(|t| t.delivers()).fold((0.0, 0usize), |(s, n), t| (s + t.desired_time_factor, n + 1));
        rec[Metric::TimeStandard as usize] = self.reference_hours * factor_sum / deliverers.max(1) as f64;
        // Workforce: staff in post, and their state.
        let wk = &self.workers;
        let (mut sick, mut skill, mut burnout, mut morale, mut fatigue) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for w in 0..wk.in_post.len() {
            if wk.in_post[w] {
                sick += f64::from(u8::from(wk.sick_days[w] > 0));
                skill += wk.skill[w];
                burnout += wk.burnout[w];
                morale += wk.morale[w];
                fatigue += wk.fatigue[w];
            }
        }
        let per = |x: f64| if in_post > 0.0 { x / in_post } else { f64::NAN };
        rec[Metric::WorkforceFte as usize] = in_post;
        rec[Metric::Establishment as usize] = self.staffing.establishment;
        rec[Metric::Vacancies as usize] = (self.staffing.establishment - in_post).max(0.0);
        rec[Metric::SickRate as usize] = per(sick);
        rec[Metric::SkillMean as usize] = per(skill);
        rec[Metric::BurnoutMean as usize] = per(burnout);
        rec[Metric::MoraleMean as usize] = per(morale);
        rec[Metric::FatigueMean as usize] = per(fatigue);
        rec[Metric::TurnoverRate as usize] = per(rec[Metric::Quits as usize] * 365.0);
        let nc = self.citizens.len() as f64;
        // One pass, each sum in citizen order (same bits as two separate sums).
        let (wellbeing_sum, trust_sum) =
            self.citizens.wellbeing.iter().zip(&self.citizens.trust).fold((0.0, 0.0), |(w, t), (a, b)| (w + a, t + b));
        rec[Metric::WellbeingMean as usize] = wellbeing_sum / nc;
        rec[Metric::TrustMean as usize] = trust_sum / nc;
        // Weekly (carried between), like the Gini: opinions move slowly and the pass is per citizen.
        if self.day.is_multiple_of(7)
            || self.opinion_polarisation.is_nan()
            || self.last_assembly.as_ref().is_some_and(|a| a.day == self.day)
        {
            self.opinion_polarisation = citizens::polarisation(self.citizens.opinion.iter().copied());
        }
        rec[Metric::OpinionPolarisation as usize] = self.opinion_polarisation;
        rec[Metric::WellbeingGini as usize] = self.wellbeing_inequality();
        if self.day >= self.scenario.run.warmup_days && self.day.is_multiple_of(7) {
            let (mut sums, count) = std::mem::take(&mut self.window_neighbourhood_wellbeing);
            sums.resize(self.neighbourhood_sizes.len(), 0.0);
            self.for_each_neighbourhood_wellbeing(|k, mean| sums[k] += mean);
            self.window_neighbourhood_wellbeing = (sums, count + 1);
        }
        if self.day >= self.scenario.run.warmup_days {
            self.window_hours += rec[Metric::HoursWorked as usize];
            self.window_cost += rec[Metric::CostService as usize];
        }
        rec[Metric::CostPerClient as usize] = ratio(rec[Metric::CostService as usize], rec[Metric::ClientsServed as usize]);
        rec[Metric::HoursPerClient as usize] = ratio(rec[Metric::HoursWorked as usize], rec[Metric::ClientsServed as usize]);
    }

    /// Mean wellbeing per neighbourhood over the summary window (weekly samples).
    pub fn window_neighbourhood_wellbeing(&self) -> Vec<f64> {
        let (sums, count) = &self.window_neighbourhood_wellbeing;
        sums.iter().map(|s| if *count > 0 { s / *count as f64 } else { f64::NAN }).collect()
    }

    /// Hours worked and service cost per distinct client served in the summary window.
    pub fn window_per_client(&self) -> (f64, f64) {
        let clients = self.citizens.served_in_window.iter().filter(|&&b| b).count();
        if clients == 0 { (f64::NAN, f64::NAN) } else { (self.window_hours / clients as f64, self.window_cost / clients as f64) }
    }
}

/// Least share of the pipeline's hours a stage keeps when rebalanced.
const MIN_STAGE_SHARE: f64 = 0.01;

/// How many needs ahead the daily review asks for the citizen data it will read.
const PREFETCH_AHEAD: usize = 16;

/// A hint to bring `x` into the cache before it is read. It changes no result (a no-op off x86_64).
#[inline(always)]
fn prefetch<T>(x: Option<&T>) {
    #[cfg(target_arch = "x86_64")]
    if let Some(x) = x {
        // SAFETY: a prefetch is only a hint and cannot fault; the address is a valid reference.
        #[allow(unused_unsafe)]
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>((x as *const T).cast::<i8>())
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// a / b, or NaN when there is nothing to divide by (a day with no closures, no deliveries...).
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

/// Expected hours of a delivery, to staff the pipeline's stages in proportion.
fn expected_delivery_hours(s: &Scenario) -> f64 {
    let total: f64 = s.need_types.iter().map(|t| t.rate_per_year).sum();
    if total <= 0.0 {
        return 1.0;
    }
    s.need_types.iter().map(|t| t.rate_per_year * t.standard_hours).sum::<f64>() / total
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

/// Runs a scenario for its configured days with run seed `seed` (a [`Simulation`] run to its end).
///
/// [`Simulation`]: crate::simulation::Simulation
pub fn run(scenario: &Scenario, seed: u64) -> RunOutput {
    crate::simulation::Simulation::new(scenario, seed).finish()
}

#[cfg(test)]
mod tests;
