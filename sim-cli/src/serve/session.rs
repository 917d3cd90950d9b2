//! A workshop session: two or more regimes stepped together on one seed (common random numbers),
//! the participants and their teams, the log of every lever change, and every event the pages
//! were sent so far (so a page opened late gets the history first). The session knows nothing of
//! HTTP; `routes` turns requests into calls here and results into responses.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Value, json};
use sim_core::Simulation;
use sim_core::metrics::Metric;
use sim_core::scenario::{Governance, Scenario, TEAM_LEVERS, TimeStandard};

/// The metrics every day's event carries for the charts, in this order.
pub const CHART_METRICS: &[Metric] = &[
    Metric::FailureDemandShare,
    Metric::TrueResolutionRate,
    Metric::ReportedResolutionRate,
    Metric::TimePerCase,
    Metric::GamingGap,
    Metric::TrustMean,
    Metric::BurnoutMean,
    Metric::Backlog,
    Metric::WorkPressure,
    Metric::WellbeingMean,
    Metric::CostTotal,
];

/// The fields of each team in a day's event, in this order.
pub const TEAM_FIELDS: &[&str] =
    &["open_cases", "resolution", "failure_share", "gaming_share", "pressure", "burnout", "discretion", "prevention_share", "need_led"];

/// The most regimes a session steps side by side.
pub const MAX_REGIMES: usize = 6;

/// Days per second the clock may be set to.
pub const SPEED_RANGE: (f64, f64) = (0.5, 2000.0);

/// One regime: a named scenario being stepped.
pub struct Regime {
    pub name: String,
    pub description: String,
    pub sim: Simulation,
}

/// Someone who joined at /join, and the team they steer.
#[derive(Debug, Clone, Serialize)]
pub struct Participant {
    pub name: String,
    pub regime: usize,
    pub team: u32,
    #[serde(skip)]
    pub token: String,
}

/// One lever change as the log shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    /// The first day the change is in force.
    pub day: u32,
    pub who: String,
    pub regime: String,
    /// The team, or none for a service-wide change.
    pub team: Option<u32>,
    pub lever: String,
    pub value: Value,
}

/// An event as the pages receive it: its kind (`day`, `log`, `control`, `join`) and JSON data.
#[derive(Debug, Clone)]
pub struct Sent {
    pub kind: &'static str,
    pub data: Arc<str>,
}

/// Who is asking: the facilitator (holding the key printed at start) or a participant.
#[derive(Debug, Clone, PartialEq)]
pub enum Caller {
    Facilitator,
    Participant(usize),
}

/// Why a request was refused; `routes` maps each to its status code.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// No key or token, or one the session never issued (401).
    Unknown(String),
    /// Allowed for someone else (403).
    Forbidden(String),
    /// A value outside its range, an unknown lever, a run that has ended (422).
    Invalid(String),
    /// The session is full (409).
    Full(String),
}

pub struct Session {
    pub regimes: Vec<Regime>,
    pub seed: u64,
    /// The horizon: the regimes' `run.days` (all equal, capped by --max-days).
    pub days: u32,
    pub playing: bool,
    /// Days per second while playing.
    pub speed: f64,
    /// Days still to step at once (the `step` control).
    pub pending_steps: u32,
    pub key: String,
    pub join_code: String,
    pub participants: Vec<Participant>,
    pub max_participants: usize,
    pub log: Vec<LogEntry>,
    /// Every event sent so far, oldest first.
    pub sent: Vec<Sent>,
    /// Where a page opened now starts reading `sent`: after the last restart.
    pub history_from: usize,
    /// The caps scenarios picked on the page must keep to.
    pub caps: super::Caps,
}

/// A random hexadecimal string of `len` digits (from the standard library's randomly keyed
/// hasher: unguessable enough for a workshop's join code and tokens, not a cryptographic secret).
pub fn random_hex(len: usize) -> String {
    let mut out = String::new();
    while out.len() < len {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(out.len());
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(len);
    out
}

/// Each scenario as a regime, all on `seed`.
fn regimes_of(scenarios: &[Scenario], seed: u64) -> Vec<Regime> {
    scenarios.iter().map(|s| Regime { name: s.name.clone(), description: s.description.clone(), sim: Simulation::new(s, seed) }).collect()
}

/// The session's horizon: the shortest of the regimes' `run.days`.
fn horizon(regimes: &[Regime]) -> u32 {
    regimes.iter().map(|r| r.sim.days()).min().unwrap_or(0)
}

/// A number rounded to 4 decimals for the team panels (NaN stays NaN, sent as null).
fn r4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

impl Session {
    /// A session of `scenarios` (at least two), all run with `seed`; `key` is the facilitator's.
    pub fn new(scenarios: &[Scenario], seed: u64, key: String, join_code: String, max_participants: usize, speed: f64) -> Self {
        let regimes = regimes_of(scenarios, seed);
        let days = horizon(&regimes);
        let mut session = Self {
            regimes,
            seed,
            days,
            playing: false,
            speed: speed.clamp(SPEED_RANGE.0, SPEED_RANGE.1),
            pending_steps: 0,
            key,
            join_code,
            participants: Vec::new(),
            max_participants,
            log: Vec::new(),
            sent: Vec::new(),
            history_from: 0,
            caps: super::Caps { max_days: u32::MAX, max_citizens: usize::MAX },
        };
        session.push_control();
        session
    }

    /// The session with these caps on scenarios picked later.
    pub fn with_caps(mut self, caps: super::Caps) -> Self {
        self.caps = caps;
        self
    }

    /// Starts again at day 0 with `scenarios` (at least two) on `seed`: the log is cleared, and
    /// participants keep their tokens and are given teams of the new regimes in the order they
    /// joined. Open pages get a `reset` event (and start over); pages opened later read the
    /// history from here.
    pub fn restart(&mut self, caller: &Caller, scenarios: &[Scenario], seed: u64) -> Result<(), Refusal> {
        if *caller != Caller::Facilitator {
            return Err(Refusal::Forbidden("only the facilitator picks the scenarios".into()));
        }
        if scenarios.len() < 2 {
            return Err(Refusal::Invalid(format!("pick at least two scenarios to compare (got {})", scenarios.len())));
        }
        if scenarios.len() > MAX_REGIMES {
            return Err(Refusal::Invalid(format!("at most {MAX_REGIMES} scenarios side by side (got {})", scenarios.len())));
        }
        self.regimes = regimes_of(scenarios, seed);
        self.seed = seed;
        self.days = horizon(&self.regimes);
        self.playing = false;
        self.pending_steps = 0;
        self.log.clear();
        let slots = self.team_slots();
        for (i, p) in self.participants.iter_mut().enumerate() {
            if let Some(&(regime, team)) = slots.get(i % slots.len().max(1)) {
                p.regime = regime;
                p.team = team;
            }
        }
        let names: Vec<&str> = self.regimes.iter().map(|r| r.name.as_str()).collect();
        self.push("reset", json!({"regimes": names, "seed": seed}));
        self.history_from = self.sent.len();
        self.push_control();
        for i in 0..self.participants.len() {
            let p = &self.participants[i];
            let data = json!({"name": p.name, "regime": p.regime, "team": p.team});
            self.push("join", data);
        }
        Ok(())
    }

    /// The next day to step (days stepped so far).
    pub fn day(&self) -> u32 {
        self.regimes.first().map(|r| r.sim.day()).unwrap_or(0)
    }

    pub fn finished(&self) -> bool {
        self.day() >= self.days
    }

    fn push(&mut self, kind: &'static str, data: Value) {
        self.sent.push(Sent { kind, data: data.to_string().into() });
    }

    fn push_control(&mut self) {
        let data = json!({"playing": self.playing, "speed": self.speed, "day": self.day(), "days": self.days});
        self.push("control", data);
    }

    /// Steps every regime one day and records the day's event; false once the horizon is reached.
    pub fn step(&mut self) -> bool {
        if self.finished() {
            return false;
        }
        let day = self.day();
        let mut regimes = Vec::with_capacity(self.regimes.len());
        for r in &mut self.regimes {
            let Some(rec) = r.sim.step() else { return false };
            let m: Vec<f64> = CHART_METRICS.iter().map(|&m| rec[m as usize]).collect();
            regimes.push(json!({"m": m, "teams": team_rows(&r.sim)}));
        }
        self.push("day", json!({"day": day, "regimes": regimes}));
        if self.finished() {
            self.playing = false;
            self.push_control();
        }
        true
    }

    /// Who holds `token`: the facilitator's key or a participant's token.
    pub fn caller(&self, token: Option<&str>) -> Result<Caller, Refusal> {
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Err(Refusal::Unknown(
                "no token: the facilitator's page carries the key printed when `sim serve` started; participants join at /join".into(),
            ));
        };
        if token == self.key {
            return Ok(Caller::Facilitator);
        }
        self.participants
            .iter()
            .position(|p| p.token == token)
            .map(Caller::Participant)
            .ok_or_else(|| Refusal::Unknown("unknown token: join at /join with the code on the facilitator's screen".into()))
    }

    /// play, pause, step (one day) or speed (days per second); the facilitator only.
    pub fn control(&mut self, caller: &Caller, action: &str, speed: Option<f64>) -> Result<(), Refusal> {
        if *caller != Caller::Facilitator {
            return Err(Refusal::Forbidden("only the facilitator plays, pauses, steps or sets the speed".into()));
        }
        match action {
            "play" if self.finished() => {
                return Err(Refusal::Invalid(format!("the run has ended (all {} days stepped)", self.days)));
            }
            "play" => self.playing = true,
            "pause" => self.playing = false,
            "step" if self.finished() => {
                return Err(Refusal::Invalid(format!("the run has ended (all {} days stepped)", self.days)));
            }
            "step" => {
                self.playing = false;
                self.pending_steps = self.pending_steps.saturating_add(1);
            }
            "speed" => {
                let (lo, hi) = SPEED_RANGE;
                match speed {
                    Some(s) if (lo..=hi).contains(&s) => self.speed = s,
                    Some(s) => return Err(Refusal::Invalid(format!("speed {s} is outside [{lo}, {hi}] days per second"))),
                    None => {
                        return Err(Refusal::Invalid(
                            "`speed` needs a number of days per second, e.g. {\"action\": \"speed\", \"speed\": 50}".into(),
                        ));
                    }
                }
            }
            other => {
                return Err(Refusal::Invalid(format!("unknown action `{other}`; the actions are play, pause, step and speed")));
            }
        }
        self.push_control();
        Ok(())
    }

    /// A participant joins with the code on the facilitator's screen and is given the next team
    /// that delivers, taking regimes in turn (regime 0 team a, regime 1 team a, regime 0 team b...).
    pub fn join(&mut self, code: &str, name: &str) -> Result<Participant, Refusal> {
        if !code.trim().eq_ignore_ascii_case(&self.join_code) {
            return Err(Refusal::Forbidden("wrong join code: use the code shown on the facilitator's screen".into()));
        }
        if self.participants.len() >= self.max_participants {
            return Err(Refusal::Full(format!(
                "the session is full ({} participants, the cap set by --max-participants)",
                self.max_participants
            )));
        }
        let slots = self.team_slots();
        if slots.is_empty() {
            return Err(Refusal::Invalid("no regime has a team that delivers; there is no team to steer".into()));
        }
        let (regime, team) = slots[self.participants.len() % slots.len()];
        let n = self.participants.len() + 1;
        let name: String = name.trim().chars().filter(|c| !c.is_control()).take(40).collect();
        let name = if name.is_empty() { format!("participant {n}") } else { name };
        let p = Participant { name, regime, team, token: random_hex(24) };
        self.participants.push(p.clone());
        self.push("join", json!({"name": p.name, "regime": regime, "team": team}));
        Ok(p)
    }

    /// The teams participants are given, in the order they are handed out.
    fn team_slots(&self) -> Vec<(usize, u32)> {
        let per: Vec<Vec<u32>> =
            self.regimes.iter().map(|r| r.sim.teams().iter().filter(|t| t.delivers).map(|t| t.team).collect()).collect();
        let longest = per.iter().map(Vec::len).max().unwrap_or(0);
        (0..longest).flat_map(|i| per.iter().enumerate().filter_map(move |(r, teams)| teams.get(i).map(|&t| (r, t)))).collect()
    }

    /// Sets a lever from the next day on: a service-wide lever (facilitator; every regime, or
    /// `regime`), or a team's own lever (the facilitator's choice of team, or a participant's own).
    pub fn set_lever(
        &mut self,
        caller: &Caller,
        regime: Option<usize>,
        team: Option<u32>,
        lever: &str,
        value: toml::Value,
        shown: Value,
    ) -> Result<(), Refusal> {
        let (regimes, team, who): (Vec<usize>, Option<u32>, String) = match caller {
            Caller::Facilitator => {
                let regimes = match regime {
                    Some(r) if r < self.regimes.len() => vec![r],
                    Some(r) => {
                        return Err(Refusal::Invalid(format!("there is no regime {r}; the regimes are 0 to {}", self.regimes.len() - 1)));
                    }
                    None if team.is_some() => {
                        return Err(Refusal::Invalid("a team's lever needs its `regime` (the teams differ between regimes)".into()));
                    }
                    None => (0..self.regimes.len()).collect(),
                };
                (regimes, team, "facilitator".to_string())
            }
            Caller::Participant(i) => {
                let p = &self.participants[*i];
                if regime.is_some_and(|r| r != p.regime) || team.is_some_and(|t| t != p.team) {
                    return Err(Refusal::Forbidden(format!(
                        "{} steers team {} of {}; a participant may change only their own team",
                        p.name, p.team, self.regimes[p.regime].name
                    )));
                }
                let bare = lever.strip_prefix("governance.").unwrap_or(lever);
                if !TEAM_LEVERS.contains(&bare) {
                    return Err(Refusal::Forbidden(format!(
                        "`{bare}` is service-wide and only the facilitator sets it; a team may set {}",
                        TEAM_LEVERS.join(", ")
                    )));
                }
                (vec![p.regime], Some(p.team), p.name.clone())
            }
        };
        if self.finished() {
            return Err(Refusal::Invalid(format!("the run has ended (all {} days stepped); nothing can change any more", self.days)));
        }
        let path = if lever.starts_with("governance.") { lever.to_string() } else { format!("governance.{lever}") };
        // Check every regime first, so a change is made in all of them or in none.
        for &r in &regimes {
            let mut trial = self.regimes[r].sim.clone();
            let checked = match team {
                Some(t) => trial.set_team(t as usize, &path, value.clone()),
                None => trial.set(&path, value.clone()),
            };
            checked.map_err(|e| Refusal::Invalid(e.to_string()))?;
        }
        let day = self.day();
        for r in regimes {
            let sim = &mut self.regimes[r].sim;
            let done = match team {
                Some(t) => sim.set_team(t as usize, &path, value.clone()),
                None => sim.set(&path, value.clone()),
            };
            done.map_err(|e| Refusal::Invalid(e.to_string()))?;
            let entry = LogEntry {
                day,
                who: who.clone(),
                regime: self.regimes[r].name.clone(),
                team,
                lever: path.trim_start_matches("governance.").to_string(),
                value: shown.clone(),
            };
            self.push("log", serde_json::to_value(&entry).unwrap_or(Value::Null));
            self.log.push(entry);
        }
        Ok(())
    }

    /// The levers with their units and ranges, and each regime's value in force today.
    pub fn levers(&self) -> Vec<Value> {
        let per: Vec<_> = self.regimes.iter().map(|r| Governance::specs_with(&r.sim.world().governance)).collect();
        let Some(first) = per.first() else { return Vec::new() };
        first
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let values: Vec<Value> = per
                    .iter()
                    .map(|specs| {
                        toml::from_str::<toml::Table>(&format!("v = {}", specs[i].default))
                            .ok()
                            .and_then(|t| t.get("v").map(toml_to_json))
                            .unwrap_or(Value::Null)
                    })
                    .collect();
                let allowed: Vec<Value> = if spec.min.is_nan() {
                    spec.allowed
                        .split(", ")
                        .map(|a| {
                            toml::from_str::<toml::Table>(&format!("v = {a}"))
                                .ok()
                                .and_then(|t| t.get("v").map(toml_to_json))
                                .unwrap_or(Value::Null)
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                json!({
                    "name": spec.name,
                    "unit": spec.unit,
                    "min": if spec.min.is_nan() { Value::Null } else { json!(spec.min) },
                    "max": if spec.max.is_nan() { Value::Null } else { json!(spec.max) },
                    "allowed": allowed,
                    "team_lever": TEAM_LEVERS.contains(&spec.name),
                    "doc": spec.doc,
                    "values": values,
                })
            })
            .collect()
    }

    /// The state a page starts from (the join code only for the facilitator).
    pub fn state(&self, facilitator: bool) -> Value {
        json!({
            "seed": self.seed,
            "day": self.day(),
            "days": self.days,
            "playing": self.playing,
            "speed": self.speed,
            "speed_range": [SPEED_RANGE.0, SPEED_RANGE.1],
            "join_code": if facilitator { json!(self.join_code) } else { Value::Null },
            "max_participants": self.max_participants,
            "metrics": CHART_METRICS.iter().map(|m| json!({"name": m.name(), "label": m.label(), "unit": m.unit()})).collect::<Vec<_>>(),
            "team_fields": TEAM_FIELDS,
            "team_levers": TEAM_LEVERS,
            "regimes": self.regimes.iter().map(|r| json!({
                "name": r.name,
                "description": r.description,
                "teams": r.sim.teams().iter().map(|t| json!({
                    "team": t.team,
                    "delivers": t.delivers,
                    "members": t.members,
                    "role": format!("{:?}", t.role),
                    "levers": {"discretion": t.discretion, "time_standard": t.time_standard, "prevention_share": t.prevention_share},
                    "own_levers": t.own_levers,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "levers": self.levers(),
            "participants": self.participants,
            "log": self.log,
        })
    }
}

/// JSON of a TOML value (numbers, strings and booleans are all a lever can be).
pub fn toml_to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::Integer(i) => json!(i),
        toml::Value::Float(f) => json!(f),
        toml::Value::Boolean(b) => json!(b),
        toml::Value::String(s) => json!(s),
        other => json!(other.to_string()),
    }
}

/// Each team's panel values today, in the order of [`TEAM_FIELDS`].
fn team_rows(sim: &Simulation) -> Vec<Vec<f64>> {
    let w = sim.world();
    let teams = sim.teams();
    let mut burnout = vec![(0.0, 0usize); teams.len()];
    for i in 0..w.workers.team.len() {
        let t = w.workers.team[i] as usize;
        if w.workers.in_post[i] && t < burnout.len() {
            burnout[t].0 += w.workers.burnout[i];
            burnout[t].1 += 1;
        }
    }
    teams
        .iter()
        .zip(&burnout)
        .map(|(t, &(sum, n))| {
            vec![
                t.open_cases as f64,
                r4(t.resolution),
                r4(t.failure_share),
                r4(t.gaming_share),
                r4(t.pressure),
                if n > 0 { r4(sum / n as f64) } else { f64::NAN },
                r4(t.discretion),
                r4(t.prevention_share),
                if t.time_standard == TimeStandard::NeedLed { 1.0 } else { 0.0 },
            ]
        })
        .collect()
}

/// The file name a regime's exported scenario gets.
pub fn session_file(name: &str) -> String {
    format!("{}-session.toml", file_stem(name))
}

/// A name safe in a file name.
fn file_stem(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect()
}
