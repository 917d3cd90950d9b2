//! One stepping API for every caller (the `sim` commands, a web page, Python): a [`Simulation`]
//! is built from a scenario and a seed, stepped day by day or run to a day, steered between days
//! (a service-wide lever, or a team's own lever), and observed (the day's metrics and the history,
//! the summary, each team, the agents as columns). A lever change is recorded as a scheduled
//! event of the scenario, so [`Simulation::replay_toml`] writes a scenario file that replays the
//! steered run bit for bit.

use crate::metrics::{DayRecord, Metric, RunSummary, TimeSeries};
use crate::model::needs::NeedState;
use crate::model::{Population, RunOutput, TeamRole, World, adoption_half_days, recovery_days};
use crate::scenario::{Event, Override, PathSeg, Scenario, ScenarioError, TEAM_LEVERS, TimeStandard};

/// A run in progress: the world and the days recorded so far.
#[derive(Debug, Clone)]
pub struct Simulation {
    world: World,
    series: TimeSeries,
    /// The last day stepped and its record.
    last: Option<(u32, DayRecord)>,
}

/// The day's record and the history (one row per day stepped).
#[derive(Debug, Clone, Copy)]
pub struct Metrics<'a> {
    /// The last day stepped and its record; `None` before the first step.
    pub today: Option<(u32, &'a DayRecord)>,
    pub history: &'a TimeSeries,
}

impl Metrics<'_> {
    /// A metric of the last day stepped.
    pub fn get(&self, metric: Metric) -> Option<f64> {
        self.today.map(|(_, rec)| rec[metric as usize])
    }
}

/// One team as it stands: what it is, the levers in force in it, and its own outcomes.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamState {
    pub team: u32,
    pub role: TeamRole,
    /// Whether it gives responses (a patch team, or the pipeline's last stage): discretion and
    /// the time standard matter only there.
    pub delivers: bool,
    /// Worker slots (in post or vacant) and staff in post.
    pub members: usize,
    pub members_in_post: usize,
    /// Levers in force in the team (its own where it set one, otherwise the service's).
    pub discretion: f64,
    pub time_standard: TimeStandard,
    pub prevention_share: f64,
    /// Which of those the team set for itself.
    pub own_levers: Vec<&'static str>,
    /// T* as a multiple of the time a case's response calls for.
    pub desired_time_factor: f64,
    /// Today's work pressure (hours required / hours available).
    pub pressure: f64,
    /// Cases in the team's hands: queued, in service or awaiting approval.
    pub open_cases: usize,
    /// Smoothed (30 days) true resolution, failure-demand share and gamed share of its closures.
    pub resolution: f64,
    pub failure_share: f64,
    pub gaming_share: f64,
    /// Since the start: hours worked, closures truly resolved, closures reported resolved.
    pub hours_worked: f64,
    pub resolved_true: f64,
    pub closed_reported: f64,
}

/// Agents at one moment, as columns (one entry per citizen, one per worker in post).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentSnapshot {
    /// The state at the start of this day, after `day` days were stepped.
    pub day: u32,
    pub citizens: CitizenColumns,
    pub workers: WorkerColumns,
}

/// Citizens by id (0..n).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CitizenColumns {
    pub neighbourhood: Vec<u32>,
    pub wellbeing: Vec<f64>,
    pub trust: Vec<f64>,
    /// The latent underlying problem (debt, isolation), 0..1.
    pub latent: Vec<f64>,
    /// Needs arisen and not yet resolved: hidden, due to return, or open cases.
    pub open_needs: Vec<u32>,
}

/// Workers in post.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkerColumns {
    /// The worker's slot id.
    pub worker: Vec<u32>,
    pub team: Vec<u32>,
    pub skill: Vec<f64>,
    pub fatigue: Vec<f64>,
    pub burnout: Vec<f64>,
}

impl Simulation {
    /// Builds the world of `scenario` for run seed `seed`; nothing is stepped yet.
    pub fn new(scenario: &Scenario, seed: u64) -> Self {
        Self::with_population(scenario, seed, Population::new(&scenario.population, seed))
    }

    /// [`Simulation::new`] on a population already built for this run (`Population::fits`).
    pub fn with_population(scenario: &Scenario, seed: u64, population: Population) -> Self {
        Self {
            world: World::with_population(scenario, seed, population),
            series: TimeSeries::with_capacity(scenario.run.days as usize),
            last: None,
        }
    }

    /// The next day to be stepped (the number of days stepped so far).
    pub fn day(&self) -> u32 {
        self.world.day
    }

    /// The run's horizon (`run.days`).
    pub fn days(&self) -> u32 {
        self.world.scenario.run.days
    }

    /// The scenario with every lever change made so far as an event.
    pub fn scenario(&self) -> &Scenario {
        &self.world.scenario
    }

    /// The world's state (read-only).
    pub fn world(&self) -> &World {
        &self.world
    }

    /// Steps one day and returns its record; `None` once the horizon is reached.
    pub fn step(&mut self) -> Option<DayRecord> {
        if self.world.day >= self.days() {
            return None;
        }
        let day = self.world.day;
        let rec = self.world.step();
        self.series.push(day, &rec);
        self.last = Some((day, rec));
        Some(rec)
    }

    /// Steps until `day` days are done (at most the horizon).
    pub fn run_until(&mut self, day: u32) {
        while self.world.day < day.min(self.days()) {
            self.step();
        }
    }

    /// Runs to the horizon and returns the run's series, summary, totals and networks.
    pub fn finish(mut self) -> RunOutput {
        self.run_until(self.days());
        let summary = self.summary();
        RunOutput { summary, totals: self.world.totals, networks: self.world.network_snapshot(400), series: self.series }
    }

    /// The last day's record and the history.
    pub fn metrics(&self) -> Metrics<'_> {
        Metrics { today: self.last.as_ref().map(|(d, rec)| (*d, rec)), history: &self.series }
    }

    /// The summary over the window (from `run.warmup_days`) of the days stepped so far.
    pub fn summary(&self) -> RunSummary {
        let scenario = &self.world.scenario;
        let series = &self.series;
        let (hours_per_client, cost_per_client) = self.world.window_per_client();
        let recovery = recovery_days(scenario, series);
        let window = |m: Metric| match m {
            Metric::HoursPerClient => hours_per_client,
            Metric::CostPerClient => cost_per_client,
            Metric::RecoveryDays => recovery,
            Metric::AdoptionHalfDays => adoption_half_days(series),
            _ => f64::NAN,
        };
        let mut summary = RunSummary::from_series(series, scenario.run.warmup_days, &window);
        summary.neighbourhood_wellbeing = self.world.window_neighbourhood_wellbeing();
        summary
    }

    /// Sets a parameter by its path, as `--set path=value` would (same paths, same errors), from
    /// the next day on. Only governance levers (and `governance.preset`, a reform) may change
    /// during a run; the change is recorded as a `lever` (or `reform`) event of today.
    pub fn set(&mut self, path: &str, value: impl Into<toml::Value>) -> Result<(), ScenarioError> {
        self.set_arg(&format!("{path}={}", value.into()))
    }

    /// [`Simulation::set`] with `path=value` written as on the command line.
    pub fn set_arg(&mut self, arg: &str) -> Result<(), ScenarioError> {
        let o = Override::parse(arg)?;
        self.check(&o)?;
        let refuse = |message: String| ScenarioError::Override { arg: o.raw.clone(), message };
        let day = self.world.day;
        let event = match o.path.as_slice() {
            [PathSeg::Key(section), PathSeg::Key(lever)] if section == "governance" && lever == "preset" => {
                let preset = o.value.as_str().expect("a validated preset name").to_string();
                Event::Reform { day, preset, ramp_days: 0 }
            }
            [PathSeg::Key(section), PathSeg::Key(lever)] if section == "governance" => {
                Event::Lever { day, lever: lever.clone(), value: o.value.clone(), ramp_days: 0, team: None }
            }
            _ => {
                return Err(refuse(format!(
                    "only governance levers can change during a run; `{}` is fixed when the run starts",
                    arg.split('=').next().unwrap_or_default().trim()
                )));
            }
        };
        self.schedule(event);
        Ok(())
    }

    /// Sets team `team`'s own value of `lever` (one of `scenario::TEAM_LEVERS`, with or without
    /// `governance.`), checked as `--set governance.LEVER=value` would be, from the next day on;
    /// recorded as a `lever` event with `team`. The team keeps it until a restructuring.
    pub fn set_team(&mut self, team: usize, lever: &str, value: impl Into<toml::Value>) -> Result<(), ScenarioError> {
        let lever = lever.strip_prefix("governance.").unwrap_or(lever);
        let o = Override::parse(&format!("governance.{lever}={}", value.into()))?;
        self.check(&o)?;
        let refuse = |message: String| ScenarioError::Override { arg: format!("team {team}: {}", o.raw), message };
        if !TEAM_LEVERS.contains(&lever) {
            return Err(refuse(format!("`{lever}` is service-wide; a team may set only {} for itself", TEAM_LEVERS.join(", "))));
        }
        let teams = self.world.teams.len();
        if team >= teams {
            return Err(refuse(format!("there is no team {team}; the teams are 0 to {}", teams.saturating_sub(1))));
        }
        let day = self.world.day;
        self.schedule(Event::Lever { day, lever: lever.to_string(), value: o.value.clone(), ramp_days: 0, team: Some(team as u32) });
        Ok(())
    }

    /// Validates an override as `--set` does, against the scenario as it stands, and refuses one
    /// after the run's last day.
    fn check(&self, o: &Override) -> Result<(), ScenarioError> {
        let s = &self.world.scenario;
        Scenario::from_toml_str(&s.to_toml(), &s.name, std::slice::from_ref(o))?;
        if self.world.day >= s.run.days {
            return Err(ScenarioError::Override {
                arg: o.raw.clone(),
                message: format!("the run has ended (all {} days stepped); nothing can change any more", s.run.days),
            });
        }
        Ok(())
    }

    /// Adds an event for today after today's events already scheduled (as a file lists it last).
    fn schedule(&mut self, event: Event) {
        let events = &mut self.world.scenario.events;
        let at = events.partition_point(|e| e.day() <= event.day());
        events.insert(at, event);
    }

    /// A scenario file (TOML) that replays this run bit for bit: the scenario with this run's
    /// seed as `run.seed` and every lever change as an event.
    pub fn replay_toml(&self) -> String {
        let mut s = self.world.scenario.clone();
        s.run.seed = self.world.seed;
        format!(
            "# Question: replay of `{}` (seed {}) as steered day by day; the lever changes are its [[events]].\n\
             # Look at: the same outputs as the steered run.\n\
             # Expected pattern: byte-identical outputs to the steered run with the same seed.\n{}",
            s.name,
            self.world.seed,
            s.to_toml()
        )
    }

    /// Every team as it stands today.
    pub fn teams(&self) -> Vec<TeamState> {
        let w = &self.world;
        let mut open = vec![0usize; w.teams.len()];
        for (n, &live) in w.needs.slots.iter().zip(&w.needs.live) {
            if live && matches!(n.state, NeedState::Queued | NeedState::AwaitingApproval) && (n.team as usize) < open.len() {
                open[n.team as usize] += 1;
            }
        }
        w.teams
            .iter()
            .enumerate()
            .map(|(t, team)| {
                let l = &team.levers;
                let own = [l.discretion.is_some(), l.time_standard.is_some(), l.prevention_share.is_some()];
                TeamState {
                    team: t as u32,
                    role: team.role,
                    delivers: team.delivers(),
                    members: team.workers.len(),
                    members_in_post: team.workers.iter().filter(|&&m| w.workers.in_post[m as usize]).count(),
                    discretion: l.discretion.unwrap_or(w.governance.discretion),
                    time_standard: l.time_standard.unwrap_or(w.governance.time_standard),
                    prevention_share: team.prevention_share,
                    own_levers: TEAM_LEVERS.iter().zip(own).filter(|(_, o)| *o).map(|(name, _)| *name).collect(),
                    desired_time_factor: team.desired_time_factor,
                    pressure: team.pressure,
                    open_cases: open[t],
                    resolution: team.outcomes.resolution,
                    failure_share: team.outcomes.failure_share,
                    gaming_share: team.outcomes.gaming_share,
                    hours_worked: team.outcomes.total_hours,
                    resolved_true: team.outcomes.total_resolved,
                    closed_reported: team.outcomes.total_reported,
                }
            })
            .collect()
    }

    /// The citizens and the workers in post as columns.
    pub fn agents(&self) -> AgentSnapshot {
        let w = &self.world;
        let c = &w.citizens;
        let mut open_needs = vec![0u32; c.len()];
        for (n, &live) in w.needs.slots.iter().zip(&w.needs.live) {
            if live {
                open_needs[n.citizen as usize] += 1;
            }
        }
        let k = &w.workers;
        let posts: Vec<usize> = (0..k.in_post.len()).filter(|&i| k.in_post[i]).collect();
        AgentSnapshot {
            day: w.day,
            citizens: CitizenColumns {
                neighbourhood: c.neighbourhood.clone(),
                wellbeing: c.wellbeing.to_vec(),
                trust: c.trust.to_vec(),
                latent: c.latent.clone(),
                open_needs,
            },
            workers: WorkerColumns {
                worker: posts.iter().map(|&i| i as u32).collect(),
                team: posts.iter().map(|&i| k.team[i]).collect(),
                skill: posts.iter().map(|&i| k.skill[i]).collect(),
                fatigue: posts.iter().map(|&i| k.fatigue[i]).collect(),
                burnout: posts.iter().map(|&i| k.burnout[i]).collect(),
            },
        }
    }
}

/// Runs a scenario for its configured days with run seed `seed`: a [`Simulation`] run to its end.
pub fn run(scenario: &Scenario, seed: u64) -> RunOutput {
    Simulation::new(scenario, seed).finish()
}

/// [`run`] on a population already built for this run ([`Population::fits`]): the same output.
pub fn run_on(scenario: &Scenario, seed: u64, population: Population) -> RunOutput {
    Simulation::with_population(scenario, seed, population).finish()
}

#[cfg(test)]
mod tests;
