//! Needs and the cases they become: an arena of records with a free list, so the day loop reuses
//! slots instead of allocating. A need is one citizen's problem; each time it is presented to the
//! service it is a case (a need can be presented several times: failure demand).

/// Where a need is. Every live need is in exactly one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum NeedState {
    /// Not presented (never, or the citizen gave up); severity grows.
    Hidden,
    /// An open case in a team's queue or in service.
    Queued,
    /// An open case waiting for an exception to climb the approval layers.
    AwaitingApproval,
    /// Closed unresolved; the citizen will come back on `due` (failure demand).
    Returning,
}

/// The answer an exception request will get when it comes back down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    NotAsked,
    Granted,
    Refused,
}

pub const NO_WORKER: u32 = u32::MAX;

/// One need and its current case.
#[derive(Debug, Clone)]
pub struct Need {
    pub citizen: u32,
    pub need_type: u16,
    pub state: NeedState,
    pub complexity: f64,
    /// 0..1; crisis (an acute event) at 1.
    pub severity: f64,
    /// Severity added per day while unmet.
    pub severity_growth: f64,
    /// Cases this need has had so far (> 0 makes the next one failure demand).
    pub contacts: u16,
    /// Day the current case arrived.
    pub case_arrival: u32,
    /// Day a returning need comes back or an approval answer arrives.
    pub due: u32,
    /// Days the citizen will wait in a queue before giving up.
    pub patience_days: f32,
    /// Team whose queue holds the case.
    pub team: u32,
    /// Pipeline stage (0 = first); the last stage delivers.
    pub stage: u8,
    pub handoffs: u8,
    pub approval: Approval,
    /// Service in progress: worker, hours still to give, and the response being given.
    pub worker: u32,
    pub in_service: bool,
    pub bespoke: bool,
    pub knows_citizen: bool,
    pub effort_left: f64,
    pub time_given: f64,
    pub time_required: f64,
    /// Cached queue priority for today.
    pub priority: f64,
    /// Put up today for an early closure to meet the target (MODEL.md §4.7).
    pub gaming: bool,
}

impl Need {
    /// A need that has just arisen, not yet presented.
    pub fn arising(citizen: u32, need_type: u16, complexity: f64, severity: f64, severity_growth: f64, day: u32) -> Self {
        Self {
            citizen,
            need_type,
            state: NeedState::Hidden,
            complexity,
            severity,
            severity_growth,
            contacts: 0,
            case_arrival: day,
            due: 0,
            patience_days: 0.0,
            team: 0,
            stage: 0,
            handoffs: 0,
            approval: Approval::NotAsked,
            worker: NO_WORKER,
            in_service: false,
            bespoke: false,
            knows_citizen: false,
            effort_left: 0.0,
            time_given: 0.0,
            time_required: 0.0,
            priority: 0.0,
            gaming: false,
        }
    }
}

/// The arena of live needs, with a count of live needs per state kept up to date (so the day's
/// levels need no walk over every need). Change a live need's state only through [`NeedSet::set_state`].
#[derive(Debug, Clone, Default)]
pub struct NeedSet {
    pub slots: Vec<Need>,
    pub live: Vec<bool>,
    free: Vec<u32>,
    in_state: [usize; 4],
}

impl NeedSet {
    pub fn insert(&mut self, need: Need) -> u32 {
        self.in_state[need.state as usize] += 1;
        if let Some(id) = self.free.pop() {
            self.slots[id as usize] = need;
            self.live[id as usize] = true;
            id
        } else {
            self.slots.push(need);
            self.live.push(true);
            (self.slots.len() - 1) as u32
        }
    }

    pub fn remove(&mut self, id: u32) {
        debug_assert!(self.live[id as usize]);
        self.in_state[self.slots[id as usize].state as usize] -= 1;
        self.live[id as usize] = false;
        self.free.push(id);
    }

    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Live needs with their ids, in id order (deterministic).
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Need)> {
        self.slots.iter().zip(self.live.iter()).enumerate().filter(|(_, (_, l))| **l).map(|(i, (n, _))| (i as u32, n))
    }

    /// Moves live need `id` to `state`.
    pub fn set_state(&mut self, id: u32, state: NeedState) {
        let n = &mut self.slots[id as usize];
        self.in_state[n.state as usize] -= 1;
        self.in_state[state as usize] += 1;
        n.state = state;
    }

    /// Count of live needs in `state` (kept as needs move; no walk).
    pub fn in_state(&self, state: NeedState) -> usize {
        self.in_state[state as usize]
    }

    /// Count of live needs in `state` by a walk over every need (to check [`NeedSet::in_state`]).
    pub fn count(&self, state: NeedState) -> usize {
        self.iter().filter(|(_, n)| n.state == state).count()
    }
}
