//! The world and its day. [`World`] holds the state of a run, built in `setup`: what one phase
//! alone changes in that phase's own struct (`shocks::Shocks`, `citizens::Assemblies`,
//! `accounting::Accounts`, `management::Management`, `learning::Learning`), what several phases
//! change in its other fields. [`World::step`] is the one place that orders the day's phases, each
//! a block of `World` methods in its own module. The rules the phases apply are small functions,
//! each in its mechanism's module and cited there; `structure` builds the teams, `observe` takes
//! snapshots and run-level measures.

mod accounting;
mod ahead;
pub mod citizens;
pub mod demand;
pub mod effort;
pub mod gaming;
pub mod learning;
pub mod management;
pub mod money;
pub mod needs;
mod observe;
pub mod presentation;
pub mod response;
mod review;
pub mod safety;
mod service;
mod setup;
pub mod shocks;
mod structure;
pub mod workforce;

use rand_distr::Beta;

use std::sync::Arc;

use crate::metrics::{DayRecord, ExactSum, Metric, RunSummary, TimeSeries, total_order_key};
use crate::network::{CommunitySpec, Csr, OrgNetwork, OrgSpec, community, organisation};
use crate::rng::{Stream, stream};
use crate::scenario::{Governance, Scenario, TimeStandard};
use crate::sd::StockFlow;
use needs::{NeedSet, NeedState};

pub use observe::{NetworkSnapshot, OrgGrouping, adoption_half_days, recovery_days};
pub use setup::Population;
pub use workforce::{Recruitment, Workers};

/// A hint to bring the cache line holding the start of `x` in before it is read. It changes no
/// result (a no-op off x86_64).
#[inline(always)]
pub(crate) fn prefetch<T>(x: Option<&T>) {
    if let Some(x) = x {
        prefetch_address((x as *const T).cast::<i8>());
    }
}

/// As [`prefetch`], for every cache line `x` spans (a record may straddle two).
#[inline(always)]
pub(crate) fn prefetch_whole<T>(x: Option<&T>) {
    if let Some(x) = x {
        let first = (x as *const T).cast::<i8>();
        prefetch_address(first);
        prefetch_address(first.wrapping_add(std::mem::size_of::<T>().saturating_sub(1)));
    }
}

#[inline(always)]
fn prefetch_address(p: *const i8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint and cannot fault, whatever the address.
    #[allow(unused_unsafe)]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Citizens as struct-of-arrays (MODEL.md §2).
#[derive(Debug, Clone, Default)]
pub struct Citizens {
    pub neighbourhood: Vec<u32>,
    pub deprivation: Vec<f64>,
    pub wellbeing: SummedValues,
    pub wellbeing_baseline: Vec<f64>,
    pub trust: SummedValues,
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

/// From this many citizens, work that draws no random number or draws from a stream of its own is
/// run on the thread pool: trust spreading, the exact sums and the release of leavers' cases in
/// blocks of [`SPLIT_ROWS`], the Gini's sorted copy (`metrics::copy_sorted`: the two halves
/// spread into buckets side by side, then the buckets sorted in two runs side by side), the
/// teams' first queue chunks, the opinion exchanges and a share of trust spreading's neighbour
/// sums (`citizens::TrustSums`) beside the service (`World::step`). Each piece's result depends on its own inputs alone and is combined
/// exactly, so the bits do not depend on the split or the threads. Below it, or on a pool of one
/// thread (`World::split`), a run does one thing at a time (a sweep's runs already fill the pool).
pub(crate) const SPLIT_FROM: usize = 1 << 18;

/// Citizens in a block of a split pass ([`SPLIT_FROM`]): 512 KiB of one f64 value each.
pub(crate) const SPLIT_ROWS: usize = 1 << 16;

/// A value per citizen with its exact sum kept as values change, so the day's mean over citizens
/// needs no pass over them (`metrics::ExactSum`; issue 23). Read it as a slice; change a value
/// with [`SummedValues::set`], many at once with [`SummedValues::update_all`].
#[derive(Debug, Clone, Default)]
pub struct SummedValues {
    values: Vec<f64>,
    sum: ExactSum,
    /// While some are noting them: the indices [`SummedValues::set`] changed since the note was
    /// started ([`SummedValues::changes_since`]); None once `push` or `update_all` changed any.
    changes: Option<Vec<u32>>,
}

impl std::ops::Deref for SummedValues {
    type Target = [f64];
    fn deref(&self) -> &[f64] {
        &self.values
    }
}

impl SummedValues {
    /// None yet, with room for `n` without reallocating.
    pub fn with_capacity(n: usize) -> Self {
        SummedValues { values: Vec::with_capacity(n), sum: ExactSum::default(), changes: None }
    }

    pub fn push(&mut self, x: f64) {
        self.sum.add(x);
        self.values.push(x);
        self.changes = None;
    }

    /// Sets value `i` to `x`.
    pub fn set(&mut self, i: usize, x: f64) {
        self.sum.replace(self.values[i], x);
        self.values[i] = x;
        if let Some(changes) = &mut self.changes {
            changes.push(i as u32);
        }
    }

    /// Changes any number of values at once; the sum is then taken afresh.
    pub fn update_all(&mut self, change: impl FnOnce(&mut [f64])) {
        change(&mut self.values);
        self.changes = None;
        self.sum = if self.values.len() >= SPLIT_FROM { ExactSum::of_split(&self.values, SPLIT_ROWS) } else { ExactSum::of(&self.values) };
    }

    /// The mean value (NaN when there are none).
    pub fn mean(&self) -> f64 {
        self.sum.total() / self.values.len() as f64
    }

    /// The kept sum (to check it against one taken afresh).
    pub fn sum(&self) -> ExactSum {
        self.sum
    }

    /// Starts a new note of the values that change, in `buffer` (emptied first), and returns
    /// the last: the index of every value `set` since that note began, in the order set (an index
    /// again for each change), or None if there was no note or a `push` or `update_all` ended it.
    pub fn changes_since(&mut self, mut buffer: Vec<u32>) -> Option<Vec<u32>> {
        buffer.clear();
        self.changes.replace(buffer)
    }

    /// Stops noting changes.
    pub fn stop_noting(&mut self) {
        self.changes = None;
    }
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
    /// Set as the team's prevention share when given; its own review may raise it at most 0.15 above.
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

/// Scratch buffers of the day stepper; not part of the state.
#[derive(Debug, Clone, Default)]
struct Scratch {
    /// Per-citizen values: the trust snapshot of trust spreading, and from
    /// `metrics::SORT_AFRESH_FROM` citizens the wellbeing the Gini sorts.
    values: Vec<f64>,
    /// The citizens' wellbeing sorted at the last Gini, kept up to date (below
    /// `metrics::SORT_AFRESH_FROM` citizens).
    sorted_wellbeing: crate::metrics::SortedCopy,
    /// Hours each team's queue calls for today (summed by the review, read by the service).
    required: Vec<f64>,
    /// Each need type's planned hours for a case not yet served (`World::case_hours`), set by
    /// the review each day.
    case_hours: Vec<f64>,
    /// Today's opinion exchanges: (citizen, index of the neighbour in the community's targets).
    pairs: Vec<(u32, u32)>,
    /// Each team's queue of open cases as `service::queue_key`s, written by the review; the
    /// service puts their heads in order in place (`service::QueueHead`).
    queues: Vec<Vec<u128>>,
    /// How many keys of its queue each team's service took yesterday: a hint for how much of the
    /// queue to put in order; results never depend on it.
    reached: Vec<usize>,
    waits: Vec<f64>,
    /// The community network packed by degree for trust spreading.
    rows_by_degree: citizens::RowsByDegree,
    /// Trust spreading's neighbour sums, taken a share a day on a split world.
    trust_sums: citizens::TrustSums,
}

/// The whole state of one run.
///
/// What one phase alone changes lives in that phase's own struct, the last five fields. What
/// several phases change stays here, shared: the levers (shocks, assemblies and management change
/// them), citizens (demand, review, service, community), needs and case totals (demand, review,
/// service), workers and teams (demand, service, staff, management, safety, shocks), the stocks
/// (the accounts integrate them, recruitment fills the pipeline), recruits placed and their cost
/// (recruitment, then the accounts), the structure (networks, neighbourhoods, pipeline stages:
/// built at the start and rebuilt by a reform, read by many), and the random streams (a
/// mechanism's stream is drawn from in more than one phase).
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
    /// The community network: fixed in a run, so shared (with the opinion exchanges, and between
    /// the runs of a shared population).
    pub community: Arc<Csr>,
    /// Reporting tree of teams and managers plus peer links (MODEL.md §2).
    pub organisation: OrgNetwork,
    pub workers: Workers,
    pub teams: Vec<Team>,
    pub needs: NeedSet,
    pub totals: CaseTotals,
    /// Budget and perceived performance (MODEL.md §2, §5.4).
    pub stocks: StockFlow,
    /// Recruits placed and their cost not yet accounted (MODEL.md §5.1).
    pub recruitment: Recruitment,
    stage_teams: Vec<u32>,
    neighbourhood_sizes: Vec<usize>,
    streams: Streams,
    scratch: Scratch,
    /// Whether the passes that can are split across the thread pool ([`SPLIT_FROM`] citizens or
    /// more, and a pool of more than one thread when the world is built). Either way the same
    /// bits; tests set it both ways.
    split: bool,
    /// Funding share, today's demand surge, the reform being learnt, levers on their way.
    pub shocks: shocks::Shocks,
    /// The last citizens' assembly.
    pub assemblies: citizens::Assemblies,
    /// Window sums, slow levels and the running balance.
    accounts: accounting::Accounts,
    /// Reported performance seen, estimates for hiring, the establishment.
    pub management: management::Management,
    /// Practices, who uses which, trials and pilots (MODEL.md §5.2).
    pub learning: learning::Learning,
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

fn beta(mean: f64, concentration: f64) -> Beta<f64> {
    Beta::new(mean * concentration, (1.0 - mean) * concentration).expect("validated mean in (0,1) and concentration > 0")
}

impl World {
    /// Open cases: queued, in service or awaiting approval.
    pub fn open_cases(&self) -> usize {
        self.needs.in_state(NeedState::Queued) + self.needs.in_state(NeedState::AwaitingApproval)
    }

    /// Advances one day and records it. The phases, in order (docs/model.md §3 details each):
    /// 1. shocks and reforms (`shocks`);
    /// 2. life events and needs arising (`demand`);
    /// 3. the review of every live need (`review`);
    /// 4. service, team by team (`service`);
    /// 5. staff: fatigue, burnout, morale, sickness, quitting (`workforce`);
    /// 6. community: opinions, trust spreading, and an assembly when due (`citizens`); from
    ///    `SPLIT_FROM` citizens the opinion exchanges run beside phases 2-5, which never touch
    ///    opinions, the social stream or the network (`OpinionExchange`);
    /// 7. the accounts and the day's levels (`accounting`);
    /// 8. management's estimates and reviews (`management`);
    /// 9. learning and diffusion of practices (`learning`);
    /// 10. safety-protocol compliance (`safety`);
    /// 11. recruitment (`workforce`).
    pub fn step(&mut self) -> DayRecord {
        let mut rec: DayRecord = [0.0; Metric::COUNT];
        self.scratch.waits.clear();
        self.apply_events(); // shocks
        let mut talk = citizens::OpinionExchange::take(self); // citizens
        let mut sums = citizens::TrustSumsDay::take(self); // citizens, on a split world
        if self.split {
            // The opinion exchanges and a share of trust spreading's sums beside the phases that
            // cannot touch what they touch.
            rayon::join(
                || {
                    talk.run();
                    if let Some(sums) = &mut sums {
                        sums.run();
                    }
                },
                || self.service_day(&mut rec),
            );
        } else {
            self.service_day(&mut rec);
            talk.run();
        }
        talk.put_back(self);
        self.spread_trust_day(sums); // citizens
        self.assembly_day(); // citizens
        self.account(&mut rec); // accounting
        self.manage(&rec); // management
        self.learning_day(&mut rec); // learning
        self.safety_day(); // safety
        self.recruit(); // workforce
        self.day += 1;
        rec
    }

    /// The day's needs, their review and service, and the staff's day (phases 2-5 of `step`).
    fn service_day(&mut self, rec: &mut DayRecord) {
        self.life_events(); // demand
        self.needs_arise(rec); // demand
        self.review_needs(rec); // review
        self.serve_teams(rec); // service
        self.staff_day(rec); // workforce
    }
}

#[cfg(test)]
mod tests;
