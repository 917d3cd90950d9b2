//! Every parameter of the model, by section, with default, unit, valid range and source.
//! "assumption" marks a value chosen for plausibility where no study gives one; MODEL.md is the
//! project's specification (../shared/MODEL.md).

use super::params::{TimeStandard, named_choices, section};
use crate::sd::Integrator;

section! {
    /// Length of the run and the integrator of the stock-and-flow layer (MODEL.md §1).
    pub struct RunParams / RunRaw in "run" {
        /// Days simulated, one step per day.
        days: u32 = 1825, "days", [1, 36_500], "MODEL.md §1 (5 years)";
        /// Days at the start that run summaries skip.
        warmup_days: u32 = 180, "days", [0, 36_499], "MODEL.md §1 (below `days`)";
        /// Master seed; `--seed` overrides it. Any u64; above 9223372036854775807 write it as a string (`seed = "18446744073709551615"`).
        seed: u64 = 1, "-", [0, u64::MAX], "assumption";
        /// Integrator of the aggregate stocks.
        integrator: Integrator = Integrator::Rk4, "-", [f64::NAN, f64::NAN], "Sterman 2000, Business Dynamics ch. 4";
    }
}

section! {
    /// Citizens, neighbourhoods and the community network (MODEL.md §1, §2).
    pub struct PopulationParams / PopulationRaw in "population" {
        /// Number of citizens. Time and memory grow about linearly: 1,000,000 citizens for a year took 6 s and 143 MB on one core.
        citizens: usize = 40_000, "people", [100, 10_000_000], "MODEL.md §1";
        /// Neighbourhoods the citizens live in (equal sizes). Time and memory grow with its square (1,000 adds about a second per year of a 40,000-citizen run; 20,000 took 66 s and 2.8 GB), hence the cap.
        neighbourhoods: usize = 8, "count", [1, 1_000], "MODEL.md §1 (Buurtzorg patch of 5,000-10,000 people)";
        /// Mean deprivation, Beta-distributed across citizens.
        deprivation_mean: f64 = 0.3, "0..1", [0.01, 0.99], "assumption";
        /// Mean wellbeing at the start.
        wellbeing_mean: f64 = 0.7, "0..1", [0.01, 0.99], "assumption";
        /// Mean trust in the service at the start.
        trust_mean: f64 = 0.6, "0..1", [0.01, 0.99], "assumption";
        /// Mean latent underlying problem (debt, isolation) at the start.
        latent_mean: f64 = 0.15, "0..1", [0.01, 0.99], "assumption";
        /// Concentration (a + b) of the Beta distributions above; higher is less spread.
        spread_concentration: f64 = 6.0, "-", [0.5, 1000], "assumption";
        /// Neighbours per citizen in the Watts-Strogatz ring lattice (even).
        community_k: usize = 6, "links", [0, 100], "MODEL.md §2; Watts & Strogatz 1998 (0: no community network)";
        /// Rewiring probability of the small world.
        community_rewire: f64 = 0.1, "probability", [0, 1], "MODEL.md §2; Watts & Strogatz 1998";
        /// Spread of mean deprivation across neighbourhoods: 0 equal, 1 from none in the first to twice the mean in the last.
        deprivation_gradient: f64 = 0.0, "-", [0, 1], "assumption";
        /// Spread of initial opinions on the contested question (+1: order the service by need; -1: by targets and rules): each citizen starts near -s or +s (two camps) with noise.
        opinion_camps: f64 = 0.5, "-1..1", [0, 1], "assumption";
        /// Extra links across neighbourhoods per citizen.
        cross_links_per_citizen: f64 = 0.05, "links/person", [0, 10], "assumption";
    }
}

section! {
    /// Governance levers (MODEL.md §3). A regime is a point in this space; the defaults are the
    /// `top_down` preset, and `preset = "enablement"` swaps in the other column.
    pub struct Governance / GovernanceRaw in "governance" {
        /// Chance a worker may give a bespoke response without approval.
        discretion: f64 = 0.1, "probability", [0, 1], "MODEL.md §3";
        /// Layers an exception request climbs; each adds a delay and may refuse.
        approval_layers: u32 = 3, "layers", [0, 10], "MODEL.md §3";
        /// Teams own a neighbourhood patch (true) or work as a functional pipeline (false).
        place_based: bool = false, "-", [f64::NAN, f64::NAN], "MODEL.md §3; Buurtzorg";
        /// Hand-overs a case passes in the functional pipeline (ignored when place-based).
        handoffs: u32 = 3, "hand-overs", [0, 6], "MODEL.md §3; Seddon 2008";
        /// Chance a returning citizen meets the same worker.
        continuity: f64 = 0.1, "probability", [0, 1], "MODEL.md §3";
        /// Procedure-imposed time per case or need-led time.
        time_standard: TimeStandard = TimeStandard::Imposed, "-", [f64::NAN, f64::NAN], "MODEL.md §3; Oliva & Sterman 2001";
        /// Weight of numeric targets (closure within `targets.target_days`).
        target_pressure: f64 = 0.8, "0..1", [0, 1], "MODEL.md §3; Bevan & Hood 2006";
        /// Share of worker hours spent recording, reporting and being inspected.
        admin_share: f64 = 0.30, "share of hours", [0, 0.9], "MODEL.md §3";
        /// Depth of the management hierarchy above frontline staff.
        management_layers: u32 = 4, "layers", [0, 10], "MODEL.md §3";
        /// Staff (or managers) per manager.
        span_of_control: u32 = 8, "people", [1, 200], "MODEL.md §3";
        /// Share of hours that may go to root causes and proactive work.
        prevention_share: f64 = 0.02, "share of hours", [0, 0.9], "MODEL.md §3";
        /// Density of cross-team peer links.
        peer_links: f64 = 0.02, "probability", [0, 1], "MODEL.md §3";
        /// Strength with which workers mobilise the citizen's own network.
        coproduction: f64 = 0.05, "0..1", [0, 1], "MODEL.md §3, §4.6";
        /// Back-office staff per frontline worker.
        back_office_ratio: f64 = 0.12, "FTE/FTE", [0, 2], "assumption calibrated to overhead ~25% (KPMG 2015)";
        /// Coaches per 100 frontline staff (enablement's support in place of managers).
        coaches_per_100_staff: f64 = 0.0, "FTE/100 FTE", [0, 50], "Buurtzorg: ~20 coaches for ~10,000 nurses (KPMG 2015); assumption";
        /// Share of closures audited by inspection.
        inspection_share: f64 = 0.1, "share of closures", [0, 1], "MODEL.md §4.7; assumption";
        /// Days between citizens' assemblies (0: none).
        assembly_interval_days: u32 = 0, "days", [0, 3650], "MODEL.md §3 participation";
        /// Members of each assembly.
        assembly_size: usize = 100, "people", [2, 100_000], "MODEL.md §3 participation";
        /// How members are chosen: a random sample stratified by neighbourhood, or self-selected by opinion.
        assembly_selection: AssemblySelection = AssemblySelection::Random, "-", [f64::NAN, f64::NAN], "MODEL.md §5.5; Fishkin 2009; Schkade et al. 2007";
        /// Who reviews performance: managers on reported metrics, or teams on true outcomes.
        review: Review = Review::Management, "-", [f64::NAN, f64::NAN], "MODEL.md §5.3";
        /// How new practices spread: a central unit pilots and mandates them, or teams explore and copy peers.
        practice_rollout: PracticeRollout = PracticeRollout::Mandated, "-", [f64::NAN, f64::NAN], "MODEL.md §5.2";
        /// Frontline pay per contracted hour.
        hourly_rate: f64 = 30.0, "currency/hour", [1, 1000], "MODEL.md §5.4 (enablement +12%, Buurtzorg; KPMG 2015)";
    }
}

impl Governance {
    /// The top-down column of MODEL.md §3.
    pub fn top_down() -> Self {
        Self::default()
    }

    /// The enablement column of MODEL.md §3.
    pub fn enablement() -> Self {
        Self {
            discretion: 0.9,
            approval_layers: 0,
            place_based: true,
            handoffs: 0,
            continuity: 0.8,
            time_standard: TimeStandard::NeedLed,
            target_pressure: 0.1,
            admin_share: 0.10,
            management_layers: 1,
            span_of_control: 40,
            prevention_share: 0.15,
            peer_links: 0.2,
            coproduction: 0.5,
            back_office_ratio: 0.03,
            coaches_per_100_staff: 2.0,
            inspection_share: 0.0,
            review: Review::Team,
            practice_rollout: PracticeRollout::Local,
            assembly_interval_days: 365,
            assembly_size: 100,
            assembly_selection: AssemblySelection::Random,
            hourly_rate: 33.6,
        }
    }

    /// A preset by name, as written after `preset =`.
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "top_down" | "top-down" => Some(Self::top_down()),
            "enablement" => Some(Self::enablement()),
            _ => None,
        }
    }

    pub const PRESETS: &'static [&'static str] = &["top_down", "enablement"];

    /// A copy with one lever set from a TOML value, checked for name, type and range.
    pub fn with_lever(&self, lever: &str, value: &toml::Value) -> Result<Self, String> {
        let mut table = toml::Table::try_from(self).map_err(|e| e.to_string())?;
        if !table.contains_key(lever) {
            let names: Vec<&str> = table.keys().map(String::as_str).collect();
            return Err(format!("unknown lever `{lever}`; levers: {}", names.join(", ")));
        }
        table.insert(lever.to_string(), value.clone());
        let g: Governance =
            toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| format!("`{lever}`: {}", e.message().trim()))?;
        if let Some((name, v, spec)) = g.validate().into_iter().next() {
            return Err(format!("`{name}` = {v} is out of range; allowed {} to {}", spec.min, spec.max));
        }
        Ok(g)
    }
}

section! {
    /// How needs arise (MODEL.md §4.1) and how underlying problems and wellbeing change.
    pub struct DemandParams / DemandRaw in "demand" {
        /// Gain of deprivation on the need rate (a_dep).
        deprivation_gain: f64 = 1.0, "-", [0, 20], "MODEL.md §4.1; assumption";
        /// Gain of the latent problem on the need rate (a_latent).
        latent_gain: f64 = 3.0, "-", [0, 20], "MODEL.md §4.1; assumption";
        /// Gain of low wellbeing on the need rate (a_wb).
        wellbeing_gain: f64 = 1.0, "-", [0, 20], "MODEL.md §4.1; assumption";
        /// How far the latent problem pushes complexity up: c + push * latent * (1 - c).
        latent_complexity_push: f64 = 0.15, "-", [0, 1], "MODEL.md §4.1; assumption";
        /// Rate at which a citizen acquires a new underlying problem.
        latent_onset_per_year: f64 = 0.1, "1/year", [0, 10], "assumption";
        /// Latent problem added by one onset.
        latent_onset_size: f64 = 0.3, "0..1", [0, 1], "assumption";
        /// Multiplier on all need rates (shocks change it over time in later releases).
        demand_multiplier: f64 = 1.0, "-", [0, 20], "MODEL.md §4.1";
        /// Wellbeing lost in an acute event.
        acute_wellbeing_loss: f64 = 0.2, "0..1", [0, 1], "MODEL.md §4.2; assumption";
        /// Time constant with which wellbeing returns toward its baseline.
        wellbeing_recovery_days: f64 = 365.0, "days", [1, 36_500], "assumption";
    }
}

section! {
    /// Presentation and hidden needs (MODEL.md §4.2).
    pub struct PresentationParams / PresentationRaw in "presentation" {
        /// Chance a new need is presented at once, for full trust and severity.
        present_now: f64 = 0.8, "probability", [0, 1], "MODEL.md §4.2; assumption";
        /// Daily chance a hidden need is presented, for full trust and severity.
        hidden_present_per_day: f64 = 0.1, "1/day", [0, 1], "MODEL.md §4.2; assumption";
        /// Weight of trust in the presentation chance (rest is a floor).
        trust_weight: f64 = 0.6, "0..1", [0, 1], "MODEL.md §4.2; assumption";
        /// Upper bound of the uniform initial severity of a need.
        initial_severity_max: f64 = 0.4, "0..1", [0, 0.99], "assumption";
    }
}

section! {
    /// Routing: functional pipeline with handoffs vs place-based teams (MODEL.md §4.3).
    pub struct RoutingParams / RoutingRaw in "routing" {
        /// Hours of work at each pipeline stage before delivery (intake, triage, assessment).
        handoff_hours: f64 = 0.1, "hours", [0, 20], "MODEL.md §4.3; assumption";
        /// Information lost per handoff, scaled by complexity: resolution x (1 - loss*c) per handoff.
        info_loss_per_handoff: f64 = 0.15, "share", [0, 1], "MODEL.md §4.3; Seddon 2008; assumption";
        /// Effort saved when the worker already knows the citizen.
        continuity_effort_saving: f64 = 0.2, "share", [0, 0.9], "assumption";
        /// Speed-up of standard responses by staff who specialise in one function.
        specialisation_gain: f64 = 0.15, "share", [0, 0.9], "Smith 1776; Arenas et al. 2010; assumption";
        /// Largest team; patches get as many teams as this requires.
        max_team_size: usize = 12, "people", [1, 1000], "Buurtzorg: teams of at most 12 (KPMG 2015)";
    }
}

section! {
    /// Effort under pressure (MODEL.md §4.4; Oliva & Sterman 2001).
    pub struct EffortParams / EffortRaw in "effort" {
        /// Elasticity of time per case to work pressure: T = T* x p^alpha.
        alpha: f64 = -0.64, "-", [-3, 0], "Oliva & Sterman 2001";
        /// Time constant with which T* erodes toward a lower T.
        tau_down_days: f64 = 131.6, "days", [1, 36_500], "Oliva & Sterman 2001 (18.8 weeks)";
        /// Time constant with which T* recovers toward a higher T.
        tau_up_days: f64 = 3650.0, "days", [1, 1.0e6], "Oliva & Sterman 2001 (very long); assumption";
        /// Floor of time given, as a share of T*.
        time_floor: f64 = 0.3, "share", [0.01, 1], "assumption";
        /// Ceiling of need-led time under low pressure, as a multiple of T* (an imposed standard caps it at 1).
        time_ceiling: f64 = 1.25, "multiple", [1, 5], "assumption";
        /// Backlog the team aims to hold, in days of work: pressure = backlog hours / (capacity x this).
        desired_backlog_days: f64 = 3.0, "days", [0.1, 365], "Oliva & Sterman 2001; assumption";
        /// Exponent of quality in the time ratio: q = min(1, T/required)^theta.
        quality_exponent: f64 = 1.0, "-", [0.1, 5], "MODEL.md §4.4; assumption";
        /// Most overtime, as a share of contracted hours.
        overtime_cap: f64 = 0.2, "share", [0, 1], "assumption";
    }
}

section! {
    /// Standard vs bespoke responses (MODEL.md §4.5; Ashby 1956).
    pub struct ResponseParams / ResponseRaw in "response" {
        /// Error of a worker's judgement of complexity at skill 0 (falls linearly to 0 at skill 1).
        recognition_noise: f64 = 0.35, "complexity sd", [0, 2], "assumption";
        /// Beyond coverage, the standard response's resolution chance decays with this scale.
        standard_falloff: f64 = 0.25, "complexity", [0.001, 10], "MODEL.md §4.5; assumption";
        /// Bespoke resolution chance at skill 0 without continuity.
        bespoke_base: f64 = 0.35, "probability", [0, 1], "assumption";
        /// Added to bespoke resolution chance per unit skill.
        bespoke_skill_weight: f64 = 0.5, "probability", [0, 1], "assumption";
        /// Added to bespoke resolution chance when the worker knows the citizen.
        bespoke_continuity_weight: f64 = 0.12, "probability", [0, 1], "assumption";
        /// Extra effort of a bespoke response, as a multiple of the need's effort.
        bespoke_effort_factor: f64 = 1.3, "multiple", [1, 10], "MODEL.md §4.5; assumption";
        /// Delay an exception request waits at each approval layer.
        approval_delay_days: f64 = 3.0, "days/layer", [0, 365], "MODEL.md §4.5; assumption";
        /// Chance each approval layer grants the exception.
        approval_grant: f64 = 0.7, "probability/layer", [0, 1], "assumption";
        /// Share of the latent problem removed when a bespoke response addresses the root cause.
        root_cause_fix: f64 = 0.6, "share", [0, 1], "MODEL.md §4.5; assumption";
        /// Prevention hours addressing a root cause takes.
        root_cause_hours: f64 = 2.0, "hours", [0, 100], "assumption";
        /// Share of a need the citizen's network can take on at full coproduction and support.
        coproduction_share: f64 = 0.3, "share", [0, 1], "MODEL.md §4.6; assumption";
    }
}

section! {
    /// Outcomes and failure demand (MODEL.md §4.6; Seddon 2003).
    pub struct OutcomeParams / OutcomeRaw in "outcome" {
        /// Chance an unresolved citizen comes back (failure demand) rather than giving up.
        return_probability: f64 = 0.7, "probability", [0, 1], "MODEL.md §4.6; assumption";
        /// Mean delay before an unresolved citizen comes back.
        return_delay_days: f64 = 10.0, "days", [0, 365], "assumption";
        /// Mean wait a citizen tolerates before giving up on a queued case.
        patience_days: f64 = 90.0, "days", [1, 3650], "assumption";
    }
}

section! {
    /// Targets and gaming (MODEL.md §4.7; Bevan & Hood 2006).
    pub struct TargetParams / TargetRaw in "targets" {
        /// The target: close a case within this many days of arrival.
        target_days: f64 = 14.0, "days", [1, 365], "assumption (a typical closure target)";
        /// Chance, at full target pressure and zero integrity, that a case near the threshold is closed early.
        gaming_propensity: f64 = 0.3, "probability", [0, 1], "Bevan & Hood 2006; assumption";
        /// Hours a worker takes to record an early closure (the closure, its codes and notes): gaming is work and uses the team's hours.
        gaming_hours: f64 = 0.25, "hours", [0.01, 10], "Bevan & Hood 2006 (gaming is done by staff, in their time); assumption (15 minutes)";
        /// How close to the target a case must be for early closure.
        near_threshold_days: f64 = 3.0, "days", [0, 365], "assumption";
        /// Hours one inspection of a closure takes.
        inspection_hours: f64 = 0.5, "hours", [0, 100], "assumption";
        /// How far the known chance of inspection deters early closure: the chance is cut by deterrence x inspection_share.
        deterrence: f64 = 1.0, "0..1", [0, 1], "Becker 1968 (expected sanction deters); Bevan & Hood 2006 (gaming thrives where audit is rare); assumption";
    }
}

section! {
    /// Frontline workforce (MODEL.md §2; dynamics come in a later release).
    pub struct WorkforceParams / WorkforceRaw in "workforce" {
        /// Frontline staff in full-time equivalents.
        frontline_staff: usize = 120, "FTE", [1, 1_000_000], "assumption (sized to the default demand)";
        /// Contracted hours per calendar day (37.5 hours a week / 7).
        hours_per_day: f64 = 5.357, "hours/day", [0.1, 24], "assumption";
        /// Mean skill, Beta-distributed.
        skill_mean: f64 = 0.6, "0..1", [0.01, 0.99], "assumption";
        /// Mean integrity (resistance to gaming), Beta-distributed.
        integrity_mean: f64 = 0.7, "0..1", [0.01, 0.99], "assumption";
        /// Concentration (a + b) of the Beta distributions above.
        spread_concentration: f64 = 10.0, "-", [0.5, 1000], "assumption";
    }
}

section! {
    /// Money (MODEL.md §5.4): rates and the budget stock.
    pub struct MoneyParams / MoneyRaw in "money" {
        /// Pay premium on overtime hours.
        overtime_premium: f64 = 1.5, "multiple", [1, 5], "assumption";
        /// Manager pay per hour.
        manager_hourly_rate: f64 = 45.0, "currency/hour", [0, 1000], "assumption";
        /// Back-office pay per hour.
        back_office_hourly_rate: f64 = 28.0, "currency/hour", [0, 1000], "assumption";
        /// Coach pay per hour.
        coach_hourly_rate: f64 = 40.0, "currency/hour", [0, 1000], "assumption";
        /// Recruitment and induction cost of each recruit who starts (advertising, selection, checks, induction).
        recruitment_cost: f64 = 3000.0, "currency/recruit", [0, 1.0e6], "CIPD 2022, Resourcing and talent planning (a few thousand pounds per non-senior hire); assumption";
        /// Funding into the budget.
        funding_per_year: f64 = 1.8e7, "currency/year", [0, 1.0e13], "assumption: about the top-down default's total cost, acute knock-on included";
        /// Budget at the start.
        initial_budget: f64 = 0.0, "currency", [-1.0e13, 1.0e13], "assumption";
        /// Time constant of perceived performance (smoothing of the reported resolution rate).
        perception_days: f64 = 30.0, "days", [1, 3650], "MODEL.md §2; Sterman 2000 ch. 11";
        /// Symbol that reports, plots and the terminal show money with ("£", "€", "$"). Presentation only: the model's amounts are the same whatever it is.
        currency_symbol: String = "£".to_string(), "-", [f64::NAN, f64::NAN], "assumption: the money defaults are UK figures (CIPD 2022, in pounds)";
    }
}

section! {
    /// One need type (MODEL.md §4.1): its rate, complexity, effort, standard coverage and costs.
    pub struct NeedType / NeedTypeRaw in "need_types" {
        /// Name used in outputs.
        name: String = "need".to_string(), "-", [f64::NAN, f64::NAN], "scenario data";
        /// Needs per citizen per year at zero deprivation, latent problem and full wellbeing.
        rate_per_year: f64 = 0.2, "1/person/year", [0, 100], "assumption";
        /// Mean complexity (Beta).
        complexity_mean: f64 = 0.35, "0..1", [0.01, 0.99], "MODEL.md §4.1; assumption";
        /// Concentration (a + b) of the complexity Beta.
        complexity_concentration: f64 = 4.0, "-", [0.5, 1000], "assumption";
        /// Hours a need-led response takes at complexity 0.5 (scales as 0.7 + 0.6 c): it includes understanding the person, so it exceeds the standard procedure on simple needs.
        effort_hours: f64 = 4.0, "hours", [0.01, 1000], "assumption";
        /// Hours the standard procedure takes.
        standard_hours: f64 = 2.0, "hours", [0.01, 1000], "assumption";
        /// Complexity up to which the standard response resolves fully.
        standard_coverage: f64 = 0.4, "0..1", [0, 1], "MODEL.md §4.5; Ashby 1956";
        /// Days an unmet need takes to reach crisis at zero deprivation.
        days_to_crisis: f64 = 120.0, "days", [1, 36_500], "assumption";
        /// Knock-on cost of an acute event (A&E, eviction, bailiff).
        acute_cost: f64 = 2000.0, "currency", [0, 1.0e9], "MODEL.md §4.2; assumption";
        /// The standard response is enforcement (letters, then a bailiff when it fails), as for council-tax arrears.
        enforcement: bool = false, "-", [f64::NAN, f64::NAN], "Gateshead council tax (Vanguard/Locality 2014); assumption";
        /// Cost of one enforcement step (bailiff visit) after a failed standard response.
        enforcement_cost: f64 = 300.0, "currency", [0, 1.0e9], "assumption";
        /// Latent problem (debt) added by a bailiff's fee.
        enforcement_debt: f64 = 0.15, "0..1", [0, 1], "assumption";
        /// Chance that enforcement raises a need of another type (knock-on demand elsewhere).
        enforcement_knock_on: f64 = 0.3, "probability", [0, 1], "assumption";
        /// Chance that one encounter harms the citizen (a care-associated infection, a fall, a medication error) when no safety protocol is followed.
        harm_per_encounter: f64 = 0.0, "probability/encounter", [0, 1], "Pronovost et al. 2006 (2.7-7.7 catheter infections per 1,000 catheter-days before the checklist); 0: the need carries no such risk";
    }
}

/// The built-in need types of a mixed community care and support service (high variety).
pub fn default_need_types() -> Vec<NeedType> {
    vec![
        NeedType {
            name: "personal_care".into(),
            rate_per_year: 0.14,
            complexity_mean: 0.4,
            complexity_concentration: 4.0,
            effort_hours: 3.0,
            standard_hours: 2.0,
            standard_coverage: 0.4,
            days_to_crisis: 180.0,
            acute_cost: 2500.0,
            ..NeedType::default()
        },
        NeedType {
            name: "housing_repair".into(),
            rate_per_year: 0.1,
            complexity_mean: 0.3,
            complexity_concentration: 4.0,
            effort_hours: 2.2,
            standard_hours: 1.5,
            standard_coverage: 0.45,
            days_to_crisis: 365.0,
            acute_cost: 1500.0,
            ..NeedType::default()
        },
        NeedType {
            name: "money_advice".into(),
            rate_per_year: 0.06,
            complexity_mean: 0.5,
            complexity_concentration: 4.0,
            effort_hours: 2.5,
            standard_hours: 1.5,
            standard_coverage: 0.35,
            days_to_crisis: 240.0,
            acute_cost: 1200.0,
            ..NeedType::default()
        },
    ]
}

section! {
    /// Staff dynamics (MODEL.md §5.1): fatigue, strain, burnout, sickness, quitting, recruitment,
    /// skill and morale.
    pub struct StaffParams / StaffRaw in "staff" {
        /// Fatigue added per day per unit of overtime (overtime hours / contracted hours).
        fatigue_gain: f64 = 0.5, "1/day", [0, 10], "Homer 1985; assumption";
        /// Time constant of recovery from fatigue.
        fatigue_recovery_days: f64 = 30.0, "days", [1, 3650], "Homer 1985 (slow recovery); assumption";
        /// Productivity lost at full fatigue.
        fatigue_productivity_loss: f64 = 0.3, "share", [0, 1], "Homer 1985; assumption";
        /// Burnout reached under sustained full strain (demand x (1 - control)).
        burnout_from_strain: f64 = 0.8, "0..1", [0, 1], "Karasek 1979; assumption";
        /// Burnout added by full fatigue.
        burnout_from_fatigue: f64 = 0.3, "0..1", [0, 1], "assumption";
        /// Time constant with which burnout builds up toward its level.
        burnout_up_days: f64 = 90.0, "days", [1, 3650], "Maslach & Leiter 2016 (months); assumption";
        /// Time constant with which burnout recedes.
        burnout_down_days: f64 = 180.0, "days", [1, 3650], "assumption";
        /// Daily chance of going off sick at zero burnout.
        sick_base_per_day: f64 = 0.003, "1/day", [0, 1], "UK public sector ~2.5% absence; assumption";
        /// Extra daily chance of going off sick at full burnout.
        sick_burnout_per_day: f64 = 0.008, "1/day", [0, 1], "assumption";
        /// Mean length of a sickness spell.
        sick_days_mean: f64 = 8.0, "days", [1, 365], "assumption";
        /// Yearly quit rate at zero burnout and full morale.
        quit_base_per_year: f64 = 0.08, "1/year", [0, 5], "assumption (public-sector turnover ~8-15%)";
        /// Extra yearly quit rate at full burnout.
        quit_burnout_per_year: f64 = 0.3, "1/year", [0, 20], "assumption";
        /// Extra yearly quit rate at zero morale.
        quit_low_morale_per_year: f64 = 0.1, "1/year", [0, 20], "assumption";
        /// Mean delay from a vacancy's approval to the recruit's start (a first-order delay).
        recruitment_delay_days: f64 = 90.0, "days", [1, 3650], "assumption (3 months)";
        /// Mean skill of recruits (experience dilution).
        recruit_skill_mean: f64 = 0.35, "0..1", [0.01, 0.99], "assumption";
        /// Skill gained per standard delivery, scaled by (1 - skill).
        learning_per_case: f64 = 0.0005, "skill/case", [0, 1], "assumption";
        /// Multiple of that learning for a bespoke delivery.
        bespoke_learning_factor: f64 = 3.0, "multiple", [1, 100], "MODEL.md §5.1; assumption";
        /// Share of the gap to the team's best skill closed per year by learning from peers.
        peer_learning_per_year: f64 = 0.2, "1/year", [0, 10], "assumption";
        /// Weight of decision authority (non-standard needs the worker decided on) in job control.
        control_weight_authority: f64 = 0.5, "weight", [0, 1], "Karasek 1979 (decision authority is half of decision latitude); Wall et al. 1996; assumption";
        /// Weight of method control (the worker sets the time a case gets) in job control.
        control_weight_method: f64 = 0.25, "weight", [0, 1], "Wall, Jackson, Mullarkey & Parker 1996 (method control); assumption";
        /// Weight of timing control (need, not a target clock, orders the work) in job control.
        control_weight_timing: f64 = 0.25, "weight", [0, 1], "Wall, Jackson, Mullarkey & Parker 1996 (timing control); assumption";
        /// Time constant with which morale follows its level.
        morale_days: f64 = 60.0, "days", [1, 3650], "assumption";
        /// Morale level with no meaningful work, failure demand or gaming (starting morale is this plus half of `morale_from_resolution`, at most 1).
        morale_base: f64 = 0.5, "0..1", [0, 0.8], "assumption";
        /// Morale gained at a true resolution rate of 1 among the worker's team.
        morale_from_resolution: f64 = 0.4, "0..1", [0, 1], "Tummers & Bekkers 2014; assumption";
        /// Morale lost at a failure-demand share of 1 among the team's cases.
        morale_from_failure_demand: f64 = 0.3, "0..1", [0, 1], "Seddon 2003; assumption";
        /// Morale lost per gamed closure share of 1 among the team's closures.
        morale_from_gaming: f64 = 0.5, "0..1", [0, 1], "Bevan & Hood 2006; assumption";
    }
}

/// Who reviews performance and on what (MODEL.md §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Review {
    /// Managers review REPORTED metrics monthly through a delay, tighten and hire on them.
    Management,
    /// Teams see their own citizens' TRUE outcomes weekly and adapt.
    Team,
}

named_choices!(Review { Review::Management => "management", Review::Team => "team" });

/// How practices spread through the organisation (MODEL.md §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PracticeRollout {
    /// A central unit pilots a practice in one team, selects on REPORTED outcomes and mandates it
    /// everywhere after a delay, whatever the local fit.
    Mandated,
    /// Teams with discretion try practices, keep those their TRUE outcomes favour, and copy what
    /// their peers use (complex contagion).
    Local,
}

named_choices!(PracticeRollout { PracticeRollout::Mandated => "mandated", PracticeRollout::Local => "local" });

named_choices!(crate::network::PeerStructure {
    crate::network::PeerStructure::Random => "random",
    crate::network::PeerStructure::Clustered => "clustered",
    crate::network::PeerStructure::RandomRegular => "random-regular",
});

section! {
    /// Learning and diffusion of practices across teams (MODEL.md §5.2).
    pub struct LearningParams / LearningRaw in "learning" {
        /// Practices a team tries per year when it has full discretion (scaled by `governance.discretion`).
        exploration_per_year: f64 = 1.0, "trials/team/year", [0, 52], "MODEL.md §5.2; assumption";
        /// Days a team runs a practice before comparing its resolutions per hour with those before.
        trial_days: u32 = 56, "days", [7, 730], "assumption (two months of cases)";
        /// Mean effect of a new practice on the chance a response resolves the need (relative).
        resolution_gain_mean: f64 = -0.02, "relative change", [-1, 1], "assumption: most new ideas do not beat the established way";
        /// Spread of that effect across practices (some are worse than what they replace).
        resolution_gain_sd: f64 = 0.10, "relative change", [0, 1], "MODEL.md §5.2; assumption";
        /// Mean effect of a new practice on the hours a response takes (relative; negative saves time).
        effort_mean: f64 = 0.0, "relative change", [-0.9, 2], "assumption";
        /// Spread of the effect on hours across practices.
        effort_sd: f64 = 0.08, "relative change", [0, 1], "assumption";
        /// Spread of a practice's resolution gain across neighbourhoods for a need of complexity 1 (local fit; scales with complexity).
        fit_sd: f64 = 0.3, "relative change", [0, 2], "MODEL.md §5.2; Cartwright & Hardie 2012 (it worked there; will it work here?); assumption";
        /// Relative improvement in resolutions per hour a team (or the centre) needs to keep a practice.
        keep_margin: f64 = 0.0, "relative change", [-0.5, 1], "assumption";
        /// Peer teams using a practice before a team takes it up (1: simple contagion).
        threshold: u32 = 2, "peer teams", [1, 50], "Centola 2010 (complex contagion)";
        /// Chance per week that a team whose threshold is met trials the practice.
        adoption_per_week: f64 = 0.5, "probability/week", [0, 1], "assumption";
        /// Chance per week relative to `adoption_per_week` for a team exposed by fewer peers than the threshold.
        below_threshold_factor: f64 = 0.0, "multiple", [0, 1], "Centola 2010 (single exposures rarely convince); assumption";
        /// Layout of the peer links between teams (expected degree from `governance.peer_links`).
        peer_structure: crate::network::PeerStructure = crate::network::PeerStructure::Random, "-", [f64::NAN, f64::NAN], "Centola 2010; Watts & Strogatz 1998";
        /// Rewiring of the clustered lattice into a small world.
        peer_rewire: f64 = 0.0, "probability", [0, 1], "Watts & Strogatz 1998";
        /// Days between the central unit's pilots (mandated roll-out).
        pilot_interval_days: u32 = 182, "days", [1, 3650], "assumption";
        /// Days from a successful pilot to the mandate reaching every team.
        rollout_delay_days: u32 = 180, "days", [0, 3650], "assumption (approval and procedure writing)";
        /// Teams given a proven practice at `seed_day` (a team and its nearest peers; 0: none).
        seed_teams: u32 = 0, "teams", [0, 10_000], "OneTeamGov case (a few enthusiasts start); assumption";
        /// Day the seeded practice starts.
        seed_day: u32 = 0, "day", [0, 36_500], "assumption";
        /// Effect of the seeded practice on the chance of resolution (relative), the same in every neighbourhood.
        seed_resolution_gain: f64 = 0.15, "relative change", [-1, 1], "assumption";
    }
}

section! {
    /// A standardised safety protocol for need types that carry a risk of harm (MODEL.md §9;
    /// Pronovost et al. 2006; Urbach et al. 2014): it works only when followed, and how often it is
    /// followed (compliance) drifts toward what observation and feedback sustain.
    pub struct SafetyParams / SafetyRaw in "safety" {
        /// A protocol is mandated for every need type with `harm_per_encounter` > 0.
        protocol: bool = false, "-", [f64::NAN, f64::NAN], "Pronovost et al. 2006 (central-line checklist)";
        /// Share of harm a fully followed protocol prevents.
        harm_reduction: f64 = 0.8, "share", [0, 1], "Pronovost et al. 2006 (mean 7.7 -> 1.4 infections per 1,000 catheter-days at high compliance)";
        /// Hours following the protocol adds to an encounter.
        protocol_hours: f64 = 0.1, "hours", [0, 100], "assumption (a few minutes of checks)";
        /// Share of protocol encounters observed by an auditor who checks the steps and feeds the team's true harm rate back.
        audit_share: f64 = 0.0, "share of encounters", [0, 1], "Pronovost et al. 2006 (observation and feedback of infection rates)";
        /// Hours one observation takes.
        audit_hours: f64 = 0.25, "hours", [0, 100], "assumption";
        /// Weight of a team's own weekly review of its true outcomes (enablement) as feedback on the protocol.
        team_feedback: f64 = 0.5, "0..1", [0, 1], "Dixon-Woods et al. 2011 (the programme worked through teams owning their data); assumption";
        /// Compliance when the mandate starts (staff trained, forms issued).
        compliance_start: f64 = 0.5, "share of encounters", [0, 1], "assumption";
        /// Compliance that unobserved practice drifts to (steps skipped, boxes ticked).
        compliance_floor: f64 = 0.2, "share of encounters", [0, 1], "Urbach et al. 2014 (mandated checklists, no measurable effect); Vaughan 1996 (normalisation of deviance); assumption";
        /// Time constant of the drift of compliance toward what feedback sustains.
        compliance_days: f64 = 60.0, "days", [1, 3650], "assumption";
        /// Knock-on cost of one harm (extra treatment, longer stay).
        harm_cost: f64 = 5000.0, "currency", [0, 1.0e9], "assumption (Pronovost et al. 2006 cite tens of thousands of dollars per infection)";
    }
}

section! {
    /// Management control (MODEL.md §5.3; Oliva & Sterman 2001 for hiring on perceived productivity).
    pub struct ManagementParams / ManagementRaw in "management" {
        /// Days between management reviews of reported metrics.
        review_interval_days: u32 = 30, "days", [1, 365], "MODEL.md §5.3 (monthly)";
        /// Reporting lag per management layer.
        reporting_lag_days_per_layer: f64 = 7.0, "days/layer", [0, 365], "MODEL.md §5.3; assumption";
        /// Reported share of closures within the target time management aims for; below it, it tightens.
        reported_target: f64 = 0.8, "share", [0, 1], "assumption";
        /// How far reported performance must be above `reported_target` before management loosens (a dead band).
        loosen_margin: f64 = 0.05, "share", [0, 1], "Sterman 2000, Business Dynamics ch. 8 (goal seeking); assumption";
        /// Admin share added per tightening (recording, reporting, checking).
        tighten_admin_step: f64 = 0.01, "share", [0, 0.5], "assumption";
        /// Target pressure added per tightening.
        tighten_target_step: f64 = 0.02, "0..1", [0, 1], "assumption";
        /// Cut in the time standard per tightening.
        tighten_time_step: f64 = 0.01, "share", [0, 0.5], "assumption";
        /// Highest admin share tightening can reach.
        admin_share_max: f64 = 0.45, "share", [0, 0.9], "assumption";
        /// Days of arrivals over which management estimates demand for hiring.
        demand_smoothing_days: f64 = 60.0, "days", [1, 3650], "Oliva & Sterman 2001; assumption";
        /// Most the establishment moves per review, as a share.
        establishment_step: f64 = 0.05, "share", [0, 1], "assumption";
        /// Days between team reviews of true outcomes.
        team_review_interval_days: u32 = 7, "days", [1, 365], "MODEL.md §5.3 (weekly)";
        /// Share of the gap between T* and the full time teams close per review when outcomes fall short.
        team_time_learning: f64 = 0.1, "share/review", [0, 1], "MODEL.md §5.2-5.3; assumption";
        /// Prevention share added (or removed) per team review as failure demand is above (below) its aim.
        team_prevention_step: f64 = 0.005, "share/review", [0, 0.2], "assumption";
        /// How far above their aim teams' true resolution must be, with work piling up, before they give less time per case.
        team_tighten_margin: f64 = 0.05, "share", [0, 1], "MODEL.md §5.3; assumption";
        /// True resolution rate teams aim for.
        team_resolution_target: f64 = 0.9, "share", [0, 1], "assumption";
        /// Cases handled per member of a team (deliveries and handoffs) for the team to learn 63% of a reform's new way of working (a learning curve on experience).
        reform_learning_cases: f64 = 100.0, "cases/worker", [1, 10_000], "Wright 1936; Argote & Epple 1990 (learning by doing on cumulative output); assumption: about 120 days at enablement's 0.8 deliveries per worker per day";
        /// Proficiency in a reform's new way of working at its start: judgement counts for this share of skill until learnt.
        reform_initial_proficiency: f64 = 0.6, "share", [0.1, 1], "Edmondson, Bohmer & Pisano 2001 (new routines are slower and less reliable at first); assumption";
        /// Share of hours spent on training during a reform's learning period, at its start.
        reform_training_share: f64 = 0.15, "share", [0, 0.9], "assumption";
    }
}

/// A scheduled shock or reform (MODEL.md §5.6).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// All need rates multiplied by `multiplier` from `day` for `duration_days`.
    DemandSurge { day: u32, multiplier: f64, duration_days: u32 },
    /// Funding cut by `share` from `day` on.
    FundingCut { day: u32, share: f64 },
    /// A `share` of frontline staff leave at once on `day`.
    StaffLoss { day: u32, share: f64 },
    /// A governance lever set to `value` on `day`, or ramped linearly over `ramp_days`; with
    /// `team`, that team's own value of one of [`TEAM_LEVERS`] (set on `day`, never ramped).
    Lever {
        day: u32,
        lever: String,
        value: toml::Value,
        #[serde(default)]
        ramp_days: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        team: Option<u32>,
    },
    /// Every governance lever moved to a preset's value on `day` (ramped over `ramp_days` where
    /// numeric); structure (place-based, handoffs) changes on `day`.
    Reform {
        day: u32,
        preset: String,
        #[serde(default)]
        ramp_days: u32,
    },
}

/// The levers a team may set for itself; every other lever is service-wide.
pub const TEAM_LEVERS: &[&str] = &["discretion", "time_standard", "prevention_share"];

impl Event {
    pub fn day(&self) -> u32 {
        match self {
            Event::DemandSurge { day, .. }
            | Event::FundingCut { day, .. }
            | Event::StaffLoss { day, .. }
            | Event::Lever { day, .. }
            | Event::Reform { day, .. } => *day,
        }
    }
}

/// How an assembly's members are chosen (MODEL.md §5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AssemblySelection {
    /// A random sample stratified by neighbourhood (a mini-public; Fishkin 2009).
    Random,
    /// Those who care most put themselves forward: the most convinced of one camp.
    SelfSelected,
}

named_choices!(AssemblySelection { AssemblySelection::Random => "random", AssemblySelection::SelfSelected => "self-selected" });

section! {
    /// Citizens' trust, opinions and assemblies (MODEL.md §5.5).
    pub struct CitizenParams / CitizenRaw in "citizens" {
        /// Trust gained after a good encounter, as a share of the distance to 1.
        trust_rise: f64 = 0.05, "share", [0, 1], "Kampen, Van De Walle & Bouckaert 2006; assumption";
        /// How many times faster trust falls after a bad encounter than it rises after a good one.
        trust_asymmetry: f64 = 2.5, "multiple", [1, 10], "Kampen et al. 2006 (2-3x)";
        /// Share of the gap to the neighbours' mean trust closed at each spreading step.
        trust_spread: f64 = 0.1, "share", [0, 1], "MODEL.md §5.5 (weighted averaging; DeGroot 1974)";
        /// Days between spreading steps of trust over the community network.
        trust_spread_interval_days: u32 = 7, "days", [1, 365], "assumption";
        /// Confidence bound: citizens only listen to opinions closer than this (Deffuant et al. 2000).
        confidence_bound: f64 = 0.4, "opinion distance", [0, 2], "Deffuant et al. 2000; assumption";
        /// Share of the opinion gap closed in an interaction.
        convergence: f64 = 0.3, "share", [0, 0.5], "Deffuant et al. 2000";
        /// Opinion interactions per citizen per day, with a random community neighbour.
        interactions_per_day: f64 = 0.02, "1/day", [0, 10], "assumption";
        /// Rounds of deliberation inside an assembly (each member meets each round).
        deliberation_rounds: u32 = 20, "rounds", [0, 1000], "assumption";
        /// Widening of the confidence bound among a random, mixed assembly (facilitated deliberation).
        deliberation_widening: f64 = 3.0, "multiple", [1, 10], "Fishkin 2009; assumption";
        /// Shift of a like-minded group toward its own extreme per round (group polarisation).
        like_minded_shift: f64 = 0.02, "opinion/round", [0, 1], "Schkade, Sunstein & Hastie 2007";
        /// Trust gained by an assembly member through voice.
        voice_trust: f64 = 0.15, "share", [0, 1], "MODEL.md §5.5; assumption";
        /// How far the service follows an assembly's recommendation: target pressure moves this share of the way toward 0 (or 1) per unit of the members' mean opinion after deliberation.
        assembly_priority_shift: f64 = 0.5, "share", [0, 1], "MODEL.md §5.5; Fishkin 2009 (recommendations of deliberative polls); assumption";
        /// Wellbeing regained when a need is truly resolved, as a share of the gap to the baseline.
        resolution_wellbeing: f64 = 0.1, "share", [0, 1], "assumption";
    }
}
