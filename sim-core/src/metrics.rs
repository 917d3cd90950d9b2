//! Observation, kept apart from the model so recording never changes dynamics: the per-day metric
//! record (names exactly as MODEL.md §6), the run summary over the post-warm-up window, and small
//! statistics helpers (mean, confidence interval, Gini).

use serde::Serialize;

macro_rules! metrics {
    ($( $(#[doc = $doc:literal])+ $variant:ident => $name:literal, $unit:literal, $summary:ident; )*) => {
        /// A metric recorded every day.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Metric { $( $(#[doc = $doc])+ $variant, )* }

        impl Metric {
            pub const ALL: &'static [Metric] = &[$(Metric::$variant,)*];
            pub const COUNT: usize = Self::ALL.len();

            /// The stable snake_case name used in every output.
            pub const fn name(self) -> &'static str {
                match self { $(Metric::$variant => $name,)* }
            }
            pub const fn unit(self) -> &'static str {
                match self { $(Metric::$variant => $unit,)* }
            }
            pub fn doc(self) -> &'static str {
                match self { $(Metric::$variant => concat!($($doc),+).trim_ascii(),)* }
            }
            /// How a run's daily values become its summary.
            pub const fn summary(self) -> Summary {
                match self { $(Metric::$variant => $summary,)* }
            }
            pub fn from_name(name: &str) -> Option<Metric> {
                Self::ALL.iter().copied().find(|m| m.name() == name)
            }
        }
    };
}

impl Metric {
    /// When the metric has no value (NaN in the CSV files, `null` in JSON), in words; None when it
    /// always has one. Daily values follow the same rule for that day.
    pub fn undefined_when(self) -> Option<String> {
        match (self, self.summary()) {
            (Metric::WaitMeanDays | Metric::WaitP90Days | Metric::OnTimeShare, _) => {
                Some("on a day with no closure; the summary when no day of the window has one".into())
            }
            (Metric::HoursPerClient | Metric::CostPerClient, _) => Some("when no client is served (in the day, or in the window)".into()),
            (Metric::RecoveryDays, _) => Some(
                "when the run has no shock (surge, funding cut, staff loss), or the backlog never returns within 10% of its level before it"
                    .into(),
            ),
            (Metric::AdoptionHalfDays, _) => Some("when practices_adopted never reaches one half".into()),
            (_, Summary::Ratio(_, b)) => Some(format!("when {} is 0 (over the day, or the window)", b.name())),
            (_, Summary::Difference(a, b)) => Some(format!("when {} or {} is undefined", a.name(), b.name())),
            _ => None,
        }
    }
}

/// Which way a metric should move for citizens, staff or public money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
    /// Neither way is better in itself (volumes, stocks, inputs).
    Neutral,
}

impl Direction {
    /// "higher", "lower" or "neutral": the words of tables and `sim describe metrics`.
    pub const fn word(self) -> &'static str {
        match self {
            Direction::HigherIsBetter => "higher",
            Direction::LowerIsBetter => "lower",
            Direction::Neutral => "neutral",
        }
    }

    /// Whether a change of `delta` is for the better (Some(true)), the worse (Some(false)), or
    /// neither (None: a neutral metric, no change or an undefined one).
    pub fn judge(self, delta: f64) -> Option<bool> {
        if !delta.is_finite() || delta == 0.0 {
            return None;
        }
        match self {
            Direction::HigherIsBetter => Some(delta > 0.0),
            Direction::LowerIsBetter => Some(delta < 0.0),
            Direction::Neutral => None,
        }
    }
}

/// What a reader needs to show a metric: its label in words, which way is better, its natural
/// bounds (a value outside them is impossible), and how its unit reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricInfo {
    /// "Failure demand, share of contacts": sentence case, no snake_case.
    pub label: &'static str,
    pub direction: Direction,
    /// Natural lower and upper bounds (infinite where there is none).
    pub bounds: (f64, f64),
}

impl Metric {
    /// The metric's label, direction and bounds (one place for every report, plot and table).
    pub fn info(self) -> MetricInfo {
        use Direction::*;
        use Metric::*;
        const SHARE: (f64, f64) = (0.0, 1.0);
        const POS: (f64, f64) = (0.0, f64::INFINITY);
        let (label, direction, bounds) = match self {
            DemandNew => ("New demand, cases per day", Neutral, POS),
            DemandFailure => ("Failure demand, cases per day", LowerIsBetter, POS),
            CasesArrived => ("Cases arriving per day", Neutral, POS),
            FailureDemandShare => ("Failure demand, share of contacts", LowerIsBetter, SHARE),
            HiddenNeeds => ("Hidden needs", LowerIsBetter, POS),
            AcuteEvents => ("Acute events per day", LowerIsBetter, POS),
            Backlog => ("Backlog, open cases", LowerIsBetter, POS),
            WaitMeanDays => ("Mean wait, days", LowerIsBetter, POS),
            WaitP90Days => ("Wait at the 90th percentile, days", LowerIsBetter, POS),
            CasesClosed => ("Cases closed per day", Neutral, POS),
            ResolvedTrue => ("Needs truly resolved per day", HigherIsBetter, POS),
            ClosedReported => ("Closures recorded as resolved per day", Neutral, POS),
            ReportedResolutionRate => ("Reported resolution rate", Neutral, SHARE),
            TrueResolutionRate => ("True resolution rate", HigherIsBetter, SHARE),
            GamingGap => ("Gaming gap, reported minus true resolution", LowerIsBetter, (-1.0, 1.0)),
            CasesAbandoned => ("Cases abandoned per day", LowerIsBetter, POS),
            CasesEscalated => ("Cases escalated to crisis per day", LowerIsBetter, POS),
            TimePerCase => ("Time per delivery, hours", Neutral, POS),
            TimeStandard => ("Desired time per case, hours", Neutral, POS),
            ClientsServed => ("Clients served per day", Neutral, POS),
            HoursPerClient => ("Hours per client served", Neutral, POS),
            CostTotal => ("Total cost per day", LowerIsBetter, POS),
            CostFrontline => ("Frontline cost per day", Neutral, POS),
            CostOverhead => ("Overhead cost per day", LowerIsBetter, POS),
            CostRecruitment => ("Recruitment cost per day", LowerIsBetter, POS),
            CostAcute => ("Acute knock-on cost per day", LowerIsBetter, POS),
            CostService => ("Service cost per day", LowerIsBetter, POS),
            InspectionHoursInternal => ("Inspection hours per day", Neutral, POS),
            OverheadShare => ("Overhead, share of service cost", LowerIsBetter, SHARE),
            CostPerResolvedNeed => ("Cost per resolved need", LowerIsBetter, POS),
            WorkforceFte => ("Frontline staff in post, FTE", Neutral, POS),
            Establishment => ("Establishment, FTE", Neutral, POS),
            Vacancies => ("Vacancies, FTE", LowerIsBetter, POS),
            RecruitmentPipeline => ("Recruits in the pipeline", Neutral, POS),
            Quits => ("Staff quitting per day", LowerIsBetter, POS),
            TurnoverRate => ("Staff turnover per year", LowerIsBetter, POS),
            SickRate => ("Staff off sick, share", LowerIsBetter, SHARE),
            BurnoutMean => ("Staff burnout, 0 to 1", LowerIsBetter, SHARE),
            FatigueMean => ("Staff fatigue, 0 to 1", LowerIsBetter, SHARE),
            MoraleMean => ("Staff morale, 0 to 1", HigherIsBetter, SHARE),
            OvertimeShare => ("Overtime, share of hours worked", LowerIsBetter, SHARE),
            SkillMean => ("Frontline skill, 0 to 1", HigherIsBetter, SHARE),
            WellbeingMean => ("Citizen wellbeing, 0 to 1", HigherIsBetter, SHARE),
            TrustMean => ("Trust in the service, 0 to 1", HigherIsBetter, SHARE),
            WellbeingGini => ("Inequality of wellbeing (Gini)", LowerIsBetter, SHARE),
            OpinionPolarisation => ("Opinion polarisation (variance)", LowerIsBetter, SHARE),
            EnforcementActions => ("Enforcement actions per day", LowerIsBetter, POS),
            CostEnforcement => ("Enforcement cost per day", LowerIsBetter, POS),
            RepeatArrears => ("Repeat arrears per day", LowerIsBetter, POS),
            KnockOnNeeds => ("Knock-on needs per day", LowerIsBetter, POS),
            Funding => ("Funding per day", Neutral, POS),
            CostPerClient => ("Service cost per client served", LowerIsBetter, POS),
            OnTimeShare => ("Closures on time, as reported", Neutral, SHARE),
            RecoveryDays => ("Days to recover from a shock", LowerIsBetter, POS),
            Budget => ("Budget balance", HigherIsBetter, (f64::NEG_INFINITY, f64::INFINITY)),
            WorkPressure => ("Work pressure, hours needed over hours available", LowerIsBetter, POS),
            PerceivedPerformance => ("Performance as management sees it", Neutral, SHARE),
            HoursWorked => ("Frontline hours worked per day", Neutral, POS),
            OvertimeHours => ("Overtime hours per day", LowerIsBetter, POS),
            CostPerHourWorked => ("Cost per frontline hour worked", Neutral, POS),
            DeliveryHours => ("Hours given to deliveries per day", Neutral, POS),
            Deliveries => ("Deliveries per day", Neutral, POS),
            BespokeShare => ("Bespoke responses, share of deliveries", Neutral, SHARE),
            BespokeDeliveries => ("Bespoke deliveries per day", Neutral, POS),
            RootCausesAddressed => ("Root causes addressed per day", HigherIsBetter, POS),
            GamingCaught => ("Gamed closures caught per day", Neutral, POS),
            PracticesAdopted => ("Teams using an improved practice, share", HigherIsBetter, SHARE),
            PracticeCoverage => ("Teams using any new practice, share", Neutral, SHARE),
            PracticeEfficacyMean => ("Efficacy of practices in use", HigherIsBetter, (-1.0, f64::INFINITY)),
            PracticeTrials => ("Practice trials started per day", Neutral, POS),
            AdoptionHalfDays => ("Days until half the teams use an improved practice", LowerIsBetter, POS),
            HarmRiskEncounters => ("Encounters with a risk of harm per day", Neutral, POS),
            HarmEvents => ("Harm events per day", LowerIsBetter, POS),
            HarmRate => ("Harm per risky encounter", LowerIsBetter, SHARE),
            ProtocolFollowed => ("Encounters with the protocol followed per day", Neutral, POS),
            ProtocolCompliance => ("Safety protocol followed, share of encounters", HigherIsBetter, SHARE),
            ClosedBeforeTarget => ("Closures just before the target per day", Neutral, POS),
            ClosedAfterTarget => ("Closures just after the target per day", Neutral, POS),
            TargetBunching => ("Closures bunched under the target (ratio)", LowerIsBetter, POS),
        };
        MetricInfo { label, direction, bounds }
    }

    /// The label in words, e.g. "Failure demand, share of contacts".
    pub fn label(self) -> &'static str {
        self.info().label
    }

    pub fn direction(self) -> Direction {
        self.info().direction
    }

    /// Natural bounds (infinite where there is none).
    pub fn bounds(self) -> (f64, f64) {
        self.info().bounds
    }

    /// A proportion of a whole (unit "share", "share of teams", "share of encounters"): shown as
    /// a percentage, and its changes in percentage points.
    pub fn is_share(self) -> bool {
        self.unit().starts_with("share")
    }

    /// Whether the metric is money (its unit starts with "currency").
    pub fn is_money(self) -> bool {
        self.unit().starts_with("currency")
    }

    /// The unit as people read it, with `currency` as the symbol of money: "cases per day",
    /// "£ per resolution", "%" for shares, "0 to 1" for indices.
    pub fn unit_for_people(self, currency: &str) -> String {
        match self.unit() {
            u if u.starts_with("share") => "%".to_string(),
            "0..1" => "0 to 1".to_string(),
            "1/year" => "per year".to_string(),
            "-" => String::new(),
            u => u.replace("currency", currency).replace('/', " per "),
        }
    }

    /// Clamps `x` into the metric's natural bounds (NaN stays NaN): for drawing and printing
    /// intervals, which must not claim values the metric cannot take.
    pub fn clamp(self, x: f64) -> f64 {
        let (lo, hi) = self.bounds();
        if x.is_nan() { x } else { x.clamp(lo, hi) }
    }
}

/// How the summary of a metric is formed over the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    /// Mean of the daily values.
    Mean,
    /// Ratio of window totals (numerator, denominator), not the mean of daily ratios.
    Ratio(Metric, Metric),
    /// Difference of two summaries.
    Difference(Metric, Metric),
    /// Hours over distinct clients served in the window (computed by the model).
    Window,
}

use Summary::*;
const FAILURE_DEMAND_RATIO: Summary = Ratio(Metric::DemandFailure, Metric::CasesArrived);
const REPORTED_RATIO: Summary = Ratio(Metric::ClosedReported, Metric::CasesClosed);
const TRUE_RATIO: Summary = Ratio(Metric::ResolvedTrue, Metric::CasesClosed);
const GAP: Summary = Difference(Metric::ReportedResolutionRate, Metric::TrueResolutionRate);
const OVERHEAD_RATIO: Summary = Ratio(Metric::CostOverhead, Metric::CostService);
const COST_PER_RESOLVED: Summary = Ratio(Metric::CostTotal, Metric::ResolvedTrue);
const TIME_PER_CASE: Summary = Ratio(Metric::DeliveryHours, Metric::Deliveries);
const BESPOKE_RATIO: Summary = Ratio(Metric::BespokeDeliveries, Metric::Deliveries);
const OVERTIME_RATIO: Summary = Ratio(Metric::OvertimeHours, Metric::HoursWorked);
const HARM_RATIO: Summary = Ratio(Metric::HarmEvents, Metric::HarmRiskEncounters);
const COMPLIANCE_RATIO: Summary = Ratio(Metric::ProtocolFollowed, Metric::HarmRiskEncounters);
const BUNCHING_RATIO: Summary = Ratio(Metric::ClosedBeforeTarget, Metric::ClosedAfterTarget);
const COST_PER_HOUR: Summary = Ratio(Metric::CostService, Metric::HoursWorked);

metrics! {
    /// New needs presented as cases for the first time (value demand).
    DemandNew => "demand_new", "cases/day", Mean;
    /// Cases that repeat an earlier unresolved case (failure demand, Seddon).
    DemandFailure => "demand_failure", "cases/day", Mean;
    /// All cases arriving: demand_new + demand_failure.
    CasesArrived => "cases_arrived", "cases/day", Mean;
    /// Share of arriving cases that are failure demand.
    FailureDemandShare => "failure_demand_share", "share", FAILURE_DEMAND_RATIO;
    /// Needs not (or no longer) presented to the service, at the end of the day.
    HiddenNeeds => "hidden_needs", "needs", Mean;
    /// Needs that reached crisis (A&E, eviction, bailiff) this day.
    AcuteEvents => "acute_events", "events/day", Mean;
    /// Open cases (queued, in service, awaiting approval) at the end of the day.
    Backlog => "backlog", "cases", Mean;
    /// Mean days from arrival to closure of cases closed this day.
    WaitMeanDays => "wait_mean_days", "days", Mean;
    /// 90th percentile of days from arrival to closure of cases closed this day.
    WaitP90Days => "wait_p90_days", "days", Mean;
    /// Cases closed this day (by a response or closed early).
    CasesClosed => "cases_closed", "cases/day", Mean;
    /// Closed cases whose need was truly resolved.
    ResolvedTrue => "resolved_true", "cases/day", Mean;
    /// Closed cases recorded as resolved (true resolutions plus gamed closures).
    ClosedReported => "closed_reported", "cases/day", Mean;
    /// Recorded resolutions per closure.
    ReportedResolutionRate => "reported_resolution_rate", "share", REPORTED_RATIO;
    /// True resolutions per closure.
    TrueResolutionRate => "true_resolution_rate", "share", TRUE_RATIO;
    /// Reported minus true resolution rate (Goodhart/Campbell; Bevan & Hood 2006).
    GamingGap => "gaming_gap", "share", GAP;
    /// Cases abandoned by citizens who gave up waiting.
    CasesAbandoned => "cases_abandoned", "cases/day", Mean;
    /// Open cases that became acute events while waiting.
    CasesEscalated => "cases_escalated", "cases/day", Mean;
    /// Hours given per delivery (the response itself, not handoffs or admin).
    TimePerCase => "time_per_case", "hours", TIME_PER_CASE;
    /// Desired time per case T* of the frontline, averaged over delivery teams.
    TimeStandard => "time_standard", "hours", Mean;
    /// Distinct citizens who received a delivery this day.
    ClientsServed => "clients_served", "people/day", Mean;
    /// Frontline hours worked per distinct client served (daily: that day's; summary: hours in the
    /// window over distinct clients served in the window).
    HoursPerClient => "hours_per_client", "hours/client", Window;
    /// All costs this day: frontline, overhead, acute knock-on and enforcement.
    CostTotal => "cost_total", "currency/day", Mean;
    /// Pay of the frontline staff in post for their contracted hours (busy, idle or sick), plus
    /// overtime at the premium rate.
    CostFrontline => "cost_frontline", "currency/day", Mean;
    /// The structure: managers (from layers and span), back office and coaches on their contracted
    /// hours, inspection, and recruitment of new staff.
    CostOverhead => "cost_overhead", "currency/day", Mean;
    /// Recruitment and induction of the recruits who started this day (part of overhead).
    CostRecruitment => "cost_recruitment", "currency/day", Mean;
    /// Knock-on costs of acute events.
    CostAcute => "cost_acute", "currency/day", Mean;
    /// The service's own cost: frontline plus overhead (acute knock-on costs fall elsewhere).
    CostService => "cost_service", "currency/day", Mean;
    /// Hours spent inspecting closures.
    InspectionHoursInternal => "inspection_hours", "hours/day", Mean;
    /// Overhead over the service's own cost (frontline plus overhead).
    OverheadShare => "overhead_share", "share", OVERHEAD_RATIO;
    /// Total cost per truly resolved need.
    CostPerResolvedNeed => "cost_per_resolved_need", "currency/resolution", COST_PER_RESOLVED;
    /// Frontline staff in post.
    WorkforceFte => "workforce_fte", "FTE", Mean;
    /// Posts management wants filled.
    Establishment => "establishment", "FTE", Mean;
    /// Posts not filled: establishment minus staff in post.
    Vacancies => "vacancies", "FTE", Mean;
    /// Recruits on their way (the recruitment pipeline stock).
    RecruitmentPipeline => "recruitment_pipeline", "people", Mean;
    /// Staff who quit this day.
    Quits => "quits", "people/day", Mean;
    /// Quits per staff in post, annualised.
    TurnoverRate => "turnover_rate", "1/year", Mean;
    /// Share of staff in post off sick.
    SickRate => "sick_rate", "share", Mean;
    /// Mean burnout of staff in post (Maslach; Karasek demand-control).
    BurnoutMean => "burnout_mean", "0..1", Mean;
    /// Mean fatigue of staff in post (Homer 1985).
    FatigueMean => "fatigue_mean", "0..1", Mean;
    /// Mean morale of staff in post.
    MoraleMean => "morale_mean", "0..1", Mean;
    /// Overtime hours over hours worked.
    OvertimeShare => "overtime_share", "share", OVERTIME_RATIO;
    /// Mean frontline skill.
    SkillMean => "skill_mean", "0..1", Mean;
    /// Mean citizen wellbeing.
    WellbeingMean => "wellbeing_mean", "0..1", Mean;
    /// Mean citizen trust in the service.
    TrustMean => "trust_mean", "0..1", Mean;
    /// Gini coefficient of wellbeing across citizens (computed every 28 days, carried between).
    WellbeingGini => "wellbeing_gini", "0..1", Mean;
    /// Opinion polarisation: the variance of opinions on the contested question (0..1).
    OpinionPolarisation => "opinion_polarisation", "variance", Mean;
    /// Enforcement steps (bailiff visits) after failed standard responses to arrears.
    EnforcementActions => "enforcement_actions", "actions/day", Mean;
    /// Cost of enforcement.
    CostEnforcement => "cost_enforcement", "currency/day", Mean;
    /// Arrears needs arising again for a citizen who had arrears before.
    RepeatArrears => "repeat_arrears", "needs/day", Mean;
    /// Needs raised elsewhere by enforcement (knock-on demand).
    KnockOnNeeds => "knock_on_needs", "needs/day", Mean;
    /// Funding coming in.
    Funding => "funding", "currency/day", Mean;
    /// Service cost per distinct client served (summary: over the window's distinct clients).
    CostPerClient => "cost_per_client", "currency/client", Window;
    /// Share of closures within the target time, as reported (gamed closures count as on time).
    OnTimeShare => "on_time_share", "share", Mean;
    /// Days after the first shock until the backlog is back near its pre-shock level (summary only).
    RecoveryDays => "recovery_days", "days", Window;
    /// Budget stock (funding in minus costs out).
    Budget => "budget", "currency", Mean;
    /// Work pressure: hours required by the queues over hours available (Oliva & Sterman 2001).
    WorkPressure => "work_pressure", "ratio", Mean;
    /// Perceived performance: the reported on-time share smoothed as management sees it.
    PerceivedPerformance => "perceived_performance", "share", Mean;
    /// Frontline hours worked (casework, handoffs, admin, prevention, overtime).
    HoursWorked => "hours_worked", "hours/day", Mean;
    /// Overtime hours worked.
    OvertimeHours => "overtime_hours", "hours/day", Mean;
    /// The service's own cost per frontline hour worked: a unit cost, as KPMG 2015 compares
    /// (idle paid hours raise it).
    CostPerHourWorked => "cost_per_hour_worked", "currency/hour", COST_PER_HOUR;
    /// Hours given to deliveries.
    DeliveryHours => "delivery_hours", "hours/day", Mean;
    /// Deliveries (standard or bespoke responses) completed.
    Deliveries => "deliveries", "cases/day", Mean;
    /// Share of deliveries that were bespoke responses.
    BespokeShare => "bespoke_share", "share", BESPOKE_RATIO;
    /// Bespoke deliveries completed.
    BespokeDeliveries => "bespoke_deliveries", "cases/day", Mean;
    /// Root causes addressed (latent problems reduced by a bespoke response).
    RootCausesAddressed => "root_causes_addressed", "citizens/day", Mean;
    /// Early closures caught by inspection and reopened.
    GamingCaught => "gaming_caught", "cases/day", Mean;
    /// Share of delivering teams using a practice that resolves more needs per hour where they are than the established way.
    PracticesAdopted => "practices_adopted", "share of teams", Mean;
    /// Share of delivering teams using any new practice, better or worse than the established way.
    PracticeCoverage => "practice_coverage", "share of teams", Mean;
    /// Mean efficacy (relative change in needs resolved per hour) over delivering teams; 0 for the established way.
    PracticeEfficacyMean => "practice_efficacy_mean", "relative change", Mean;
    /// Practice trials started (local trials, peer adoptions on trial and central pilots).
    PracticeTrials => "practice_trials", "trials/day", Mean;
    /// First day (from day 0) on which at least half the delivering teams use an improved practice (summary only).
    AdoptionHalfDays => "adoption_half_days", "days", Window;
    /// Deliveries of need types that carry a risk of harm (MODEL.md §9; Pronovost et al. 2006).
    HarmRiskEncounters => "harm_risk_encounters", "encounters/day", Mean;
    /// Harm done in encounters (care-associated infections, falls, medication errors).
    HarmEvents => "harm_events", "events/day", Mean;
    /// Harm per encounter with a risk of harm.
    HarmRate => "harm_rate", "harm/encounter", HARM_RATIO;
    /// Encounters in which every step of the safety protocol was followed.
    ProtocolFollowed => "protocol_followed", "encounters/day", Mean;
    /// Share of encounters with a risk of harm in which the safety protocol was followed (true, not as recorded).
    ProtocolCompliance => "protocol_compliance", "share of encounters", COMPLIANCE_RATIO;
    /// Cases closed in the last `targets.near_threshold_days` before the target (wait in (T - near, T]).
    ClosedBeforeTarget => "closed_before_target", "cases/day", Mean;
    /// Cases closed in the first `targets.near_threshold_days` after the target (wait in (T, T + near]).
    ClosedAfterTarget => "closed_after_target", "cases/day", Mean;
    /// Closures just before the target over those just after: about 1 for a smooth distribution of closure times, far above 1 when closures bunch under the threshold (Bevan & Hood 2006).
    TargetBunching => "target_bunching", "ratio", BUNCHING_RATIO;
}

/// One day's values, indexed by `Metric as usize`.
pub type DayRecord = [f64; Metric::COUNT];

/// Daily series of every metric, column-major so each metric's series is contiguous.
#[derive(Debug, Clone, Default)]
pub struct TimeSeries {
    pub days: Vec<u32>,
    pub columns: Vec<Vec<f64>>,
}

impl TimeSeries {
    pub fn with_capacity(days: usize) -> Self {
        Self { days: Vec::with_capacity(days), columns: (0..Metric::COUNT).map(|_| Vec::with_capacity(days)).collect() }
    }

    pub fn push(&mut self, day: u32, record: &DayRecord) {
        self.days.push(day);
        for (col, v) in self.columns.iter_mut().zip(record.iter()) {
            col.push(*v);
        }
    }

    pub fn get(&self, m: Metric) -> &[f64] {
        &self.columns[m as usize]
    }

    pub fn len(&self) -> usize {
        self.days.len()
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }
}

/// Summary of one run over the post-warm-up window, metric name -> value, in `Metric::ALL` order.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunSummary {
    pub window_start_day: u32,
    pub window_end_day: u32,
    pub metrics: Vec<(&'static str, f64)>,
    /// Mean wellbeing of each neighbourhood over the window.
    pub neighbourhood_wellbeing: Vec<f64>,
}

impl RunSummary {
    pub fn get(&self, name: &str) -> Option<f64> {
        self.metrics.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// Summarises `series` over days >= `from`; `window` gives the `Summary::Window` metrics.
    pub fn from_series(series: &TimeSeries, from: u32, window: &dyn Fn(Metric) -> f64) -> Self {
        let start = series.days.iter().position(|&d| d >= from).unwrap_or(series.len());
        let mean = |m: Metric| -> f64 {
            let xs = &series.get(m)[start..];
            let finite: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
            if finite.is_empty() { f64::NAN } else { finite.iter().sum::<f64>() / finite.len() as f64 }
        };
        fn value(m: Metric, mean: &dyn Fn(Metric) -> f64, window: &dyn Fn(Metric) -> f64) -> f64 {
            match m.summary() {
                Summary::Mean => mean(m),
                Summary::Ratio(a, b) => {
                    let d = mean(b);
                    if d > 0.0 { mean(a) / d } else { f64::NAN }
                }
                Summary::Difference(a, b) => value(a, mean, window) - value(b, mean, window),
                Summary::Window => window(m),
            }
        }
        let metrics = Metric::ALL.iter().map(|&m| (m.name(), value(m, &mean, window))).collect();
        Self {
            window_start_day: from,
            window_end_day: series.days.last().copied().unwrap_or(0),
            metrics,
            neighbourhood_wellbeing: Vec::new(),
        }
    }
}

/// A number as the CSV files and run tables write it: Rust's shortest round-trip form, `NaN` for
/// NaN (pandas and R read both).
pub fn number_text(x: f64) -> String {
    if x.is_nan() { "NaN".into() } else { format!("{x}") }
}

/// Mean and a 95% confidence interval from Student's t (normal beyond 30 degrees of freedom).
pub fn mean_ci95(xs: &[f64]) -> (f64, f64, f64) {
    let n = xs.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (mean, f64::NAN, f64::NAN);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let half = t_quantile_975(n - 1) * (var / n as f64).sqrt();
    (mean, mean - half, mean + half)
}

/// Two-sided 97.5% quantile of Student's t for `df` degrees of freedom (table, then 1.96).
pub fn t_quantile_975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101,
        2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    if df == 0 {
        f64::NAN
    } else if df <= 30 {
        T[df - 1]
    } else {
        1.96 + 2.4 / df as f64
    }
}

/// Gini coefficient of non-negative values (0 equal, 1 one holds all).
pub fn gini(xs: &[f64]) -> f64 {
    gini_in_place(&mut xs.to_vec())
}

/// Gini coefficient, sorting `v` in place (no allocation; the hot path uses a scratch buffer).
pub fn gini_in_place(v: &mut [f64]) -> f64 {
    v.sort_unstable_by(f64::total_cmp);
    gini_sorted(v)
}

/// Gini coefficient of values already sorted ascending.
pub fn gini_sorted(v: &[f64]) -> f64 {
    // The sum and the sum of each value times its rank (from 1), each in order from -0.0 (as
    // `Iterator::sum`), in one pass: two chains of additions side by side.
    let (mut total, mut weighted) = (-0.0, -0.0);
    for (i, x) in v.iter().enumerate() {
        total += x;
        weighted += (i as f64 + 1.0) * x;
    }
    if v.is_empty() || total <= 0.0 {
        return 0.0;
    }
    let n = v.len() as f64;
    (2.0 * weighted) / (n * total) - (n + 1.0) / n
}

/// The sum of values kept exactly: each value is rounded to a multiple of 2^-50 (to nearest, ties
/// to even) and added as an integer. Integer additions do not depend on their order, so a sum kept
/// up to date value by value ([`ExactSum::replace`]) has the same bits as one taken afresh
/// ([`ExactSum::of`]), on any machine and thread count. For values in 0..1 the mean is within
/// 4.5e-16 of the exact mean of the values. Exact for |value| < 8192 (larger ones saturate, NaN
/// counts 0); the daily means over citizens (docs/model.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExactSum(i128);

impl ExactSum {
    /// 2^50: values are counted in units of 2^-50.
    const SCALE: f64 = 1_125_899_906_842_624.0;
    /// For |x| < 2, x + 6 lies in [4, 8), where one step of the f64 grid is 2^-50: the addition
    /// rounds x to the grid, and the bits of the sum less those of 6 count the units.
    const OFFSET: f64 = 6.0;
    /// Values added at a time as i64 in [`ExactSum::of`] (each under 2^51 units in magnitude).
    const CHUNK: usize = 2048;

    fn units(x: f64) -> i128 {
        if x.abs() < 2.0 {
            i128::from((x + Self::OFFSET).to_bits() as i64 - Self::OFFSET.to_bits() as i64)
        } else {
            // The same rounding (a power-of-two scale is exact); the cast saturates, NaN gives 0.
            i128::from((x * Self::SCALE).round_ties_even() as i64)
        }
    }

    /// The sum of `xs`: chunks of values under 2 in magnitude (all of them, for citizens'
    /// wellbeing and trust) are added as i64 in lanes the compiler can vectorise.
    pub fn of(xs: &[f64]) -> Self {
        let mut sum = 0i128;
        for chunk in xs.chunks(Self::CHUNK) {
            let near = chunk.iter().fold(true, |ok, x| ok & (x.abs() < 2.0));
            sum += if near {
                let bits = chunk.iter().fold(0i64, |s, x| s.wrapping_add((x + Self::OFFSET).to_bits() as i64));
                // At most 2048 values of under 2^51 units: the true sum fits an i64.
                i128::from(bits.wrapping_sub((chunk.len() as i64).wrapping_mul(Self::OFFSET.to_bits() as i64)))
            } else {
                chunk.iter().map(|&x| Self::units(x)).sum::<i128>()
            };
        }
        ExactSum(sum)
    }

    /// [`ExactSum::of`] over blocks of `per_task` values on the thread pool: integer sums, so
    /// the same sum whatever the blocks or their order.
    pub fn of_split(xs: &[f64], per_task: usize) -> Self {
        use rayon::prelude::*;
        ExactSum(xs.par_chunks(per_task.max(1)).map(|block| ExactSum::of(block).0).sum())
    }

    /// Adds one value.
    pub fn add(&mut self, x: f64) {
        self.0 += Self::units(x);
    }

    /// The sum after one of its values changes from `old` to `new`.
    pub fn replace(&mut self, old: f64, new: f64) {
        self.0 += Self::units(new) - Self::units(old);
    }

    /// The sum, rounded to the nearest f64.
    pub fn total(self) -> f64 {
        self.0 as f64 / Self::SCALE
    }
}

/// Buckets [`copy_sorted`] spreads the values over before sorting each.
const COPY_BUCKETS: usize = 256;

/// Copies `values` into `dst` (resized to their length) in `f64::total_cmp` order: the sequence
/// `sort_unstable_by(f64::total_cmp)` gives (keys tie only for identical bits). The values are
/// spread over 256 buckets cut at quantiles of up to 4,095 values taken at an even stride (a
/// samplesort: each bucket about as full whatever the distribution, where a radix digit of a
/// float's top bits leaves most empty), each value written once into its bucket's place in
/// `dst`, then each bucket sorted in place, small enough for the cache. With `split`, the two
/// halves of `values` are counted and spread side by side, and the buckets sorted in two runs
/// of about half the values each, side by side.
pub fn copy_sorted(values: &[f64], dst: &mut Vec<f64>, split: bool) {
    let n = values.len();
    if dst.len() != n {
        dst.clear();
        dst.resize(n, 0.0);
    }
    if n < 4 * COPY_BUCKETS {
        dst.copy_from_slice(values);
        dst.sort_unstable_by(f64::total_cmp);
        return;
    }
    // The cuts: quantiles of a strided sample, sorted as keys in `dst`'s first slots before the
    // values are spread over it (no allocation in the day step, and a small stack).
    let step = n.div_ceil(4095);
    let mut taken = 0;
    for &x in values.iter().step_by(step) {
        dst[taken] = f64::from_bits(total_order_key(x));
        taken += 1;
    }
    dst[..taken].sort_unstable_by_key(|k| k.to_bits());
    let mut cuts = [u64::MAX; COPY_BUCKETS - 1];
    for (j, cut) in cuts.iter_mut().enumerate() {
        *cut = dst[(j + 1) * taken / COPY_BUCKETS].to_bits();
    }
    // A value's bucket: how many cuts are at or below its key (a search without jumps).
    let bucket = |x: f64| {
        let k = total_order_key(x);
        let mut b = 0usize;
        let mut half = COPY_BUCKETS / 2;
        while half > 0 {
            b += usize::from(k >= cuts[b + half - 1]) * half;
            half /= 2;
        }
        b
    };
    let count = |part: &[f64]| {
        let mut counts = [0usize; COPY_BUCKETS];
        for &x in part {
            counts[bucket(x)] += 1;
        }
        counts
    };
    let (front, back) = values.split_at(n / 2);
    let (c0, c1) = if split { rayon::join(|| count(front), || count(back)) } else { (count(front), count(back)) };
    // Each bucket's slots: the front half's values first, then the back half's.
    let mut ends = [0usize; COPY_BUCKETS];
    let mut start = 0;
    for b in 0..COPY_BUCKETS {
        start += c0[b] + c1[b];
        ends[b] = start;
    }
    let spread = |part: &[f64], slots: [&mut [f64]; COPY_BUCKETS]| {
        let mut next = [0usize; COPY_BUCKETS];
        for &x in part {
            let b = bucket(x);
            slots[b][next[b]] = x;
            next[b] += 1;
        }
    };
    {
        let mut halves = buckets(dst, &ends, 0).zip(c0).map(|(slots, c)| slots.split_at_mut(c));
        let mut slots1: [&mut [f64]; COPY_BUCKETS] = std::array::from_fn(|_| <&mut [f64]>::default());
        let slots0: [&mut [f64]; COPY_BUCKETS] = std::array::from_fn(|b| {
            let (s0, s1) = halves.next().expect("a bucket for each end");
            slots1[b] = s1;
            s0
        });
        if split {
            rayon::join(|| spread(front, slots0), || spread(back, slots1));
        } else {
            spread(front, slots0);
            spread(back, slots1);
        }
    }
    let sort_bucket = |bucket: &mut [f64]| {
        // Keys held as the slots' bits, sorted by radix over their range, then back to values.
        let (mut lo, mut hi) = (u64::MAX, 0);
        for x in bucket.iter_mut() {
            let k = total_order_key(*x);
            (lo, hi) = (lo.min(k), hi.max(k));
            *x = f64::from_bits(k);
        }
        range_sort(bucket, lo, hi);
        bucket.iter_mut().for_each(|x| *x = from_total_order_key(x.to_bits()));
    };
    // The buckets in two runs of about half the values each, side by side when split.
    let half = ends.partition_point(|&end| end <= n / 2);
    let mid = if half == 0 { 0 } else { ends[half - 1] };
    let (low, high) = dst.split_at_mut(mid);
    let sort_run = |run: &mut [f64], ends: &[usize], start: usize| buckets(run, ends, start).for_each(&sort_bucket);
    if split {
        rayon::join(|| sort_run(low, &ends[..half], 0), || sort_run(high, &ends[half..], mid));
    } else {
        sort_run(low, &ends[..half], 0);
        sort_run(high, &ends[half..], mid);
    }
}

/// Sorts keys held as `f64` bits, every one in `lo..=hi`, in place: an American flag sort
/// (McIlroy, Bostic & McIlroy 1993, "Engineering radix sort") whose
/// digit is the top bits of the key less `lo` (not a fixed byte, so the keys of a narrow range
/// spread over every bucket; up to 8 bits, about 32 keys a bucket), down to buckets of 64 keys
/// sorted by comparison.
fn range_sort(keys: &mut [f64], lo: u64, hi: u64) {
    if keys.len() <= SMALL_SORT {
        keys.sort_unstable_by_key(|x| x.to_bits());
        return;
    }
    let span = hi - lo;
    if span == 0 {
        return; // all keys equal
    }
    // About 32 keys a bucket, at most 256 buckets.
    let bits = (usize::BITS - keys.len().leading_zeros()).saturating_sub(5).clamp(1, 8);
    let radix = 1usize << bits;
    let shift = (64 - span.leading_zeros()).saturating_sub(bits);
    let digit = |x: f64| ((x.to_bits() - lo) >> shift) as usize;
    let mut counts = [0usize; 256];
    for &x in keys.iter() {
        counts[digit(x)] += 1;
    }
    let mut ends = [0usize; 256];
    let mut next = [0usize; 256];
    let mut start = 0;
    for d in 0..radix {
        next[d] = start;
        start += counts[d];
        ends[d] = start;
    }
    // Cycle each misplaced key to its bucket's next free slot.
    for d in 0..radix {
        while next[d] < ends[d] {
            let mut x = keys[next[d]];
            let mut b = digit(x);
            while b != d {
                std::mem::swap(&mut x, &mut keys[next[b]]);
                next[b] += 1;
                b = digit(x);
            }
            keys[next[d]] = x;
            next[d] += 1;
        }
    }
    if shift == 0 {
        return; // each bucket holds one key value
    }
    for (d, bucket) in buckets(keys, &ends[..radix], 0).enumerate().filter(|(_, b)| b.len() > 1) {
        let from = lo + ((d as u64) << shift);
        range_sort(bucket, from, hi.min(from.saturating_add((1u64 << shift) - 1)));
    }
}

/// A key whose unsigned order is `f64::total_cmp`'s order (equal keys only for identical bits).
pub fn total_order_key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 { !b } else { b ^ (1 << 63) }
}

fn from_total_order_key(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k ^ (1 << 63) } else { !k })
}

/// From this many citizens on, the Gini sorts a fresh copy of the wellbeing ([`copy_sorted`])
/// instead of keeping one sorted ([`SortedCopy`], whose index of positions costs 4 bytes a
/// citizen, and whose merge reads every value anyway once most have changed).
pub const SORT_AFRESH_FROM: usize = 1 << 18;

/// A sorted copy of a slice of values that change a few at a time (the citizens' wellbeing, which
/// moves only for those off their baseline: under 1% of the citizens in a year of enablement, 6%
/// to 50% over five years of top-down), brought up to date by merging: the values unchanged since
/// the last update keep their order, the changed ones are sorted alone and merged in. The result
/// is the sequence `sort_unstable_by(f64::total_cmp)` gives (values tie in that order only when
/// their bits are identical, so any correct sort gives the same sequence).
#[derive(Debug, Clone, Default)]
pub struct SortedCopy {
    /// The values at the last update, ascending in `f64::total_cmp` order.
    sorted: Vec<f64>,
    /// The position in the slice of each sorted value.
    index: Vec<u32>,
    /// The values changed since the last update, as (order key, position).
    changed: Vec<(u64, u32)>,
}

impl SortedCopy {
    /// Brings the copy up to date with `values` (at most `u32::MAX` of them) and returns it. A
    /// slice of another length than the last sorts every value.
    pub fn update(&mut self, values: &[f64]) -> &[f64] {
        let n = values.len();
        self.changed.clear();
        let mut kept = 0;
        let all = self.index.len() != n;
        if all {
            self.sorted = vec![0.0; n];
            self.index = vec![0; n];
            self.changed.extend(values.iter().enumerate().map(|(i, &x)| (total_order_key(x), i as u32)));
        } else {
            // The unchanged values, in their old order, to the front.
            for k in 0..n {
                let i = self.index[k];
                let x = values[i as usize];
                if x.to_bits() == self.sorted[k].to_bits() {
                    self.sorted[kept] = x;
                    self.index[kept] = i;
                    kept += 1;
                } else {
                    self.changed.push((total_order_key(x), i));
                }
            }
        }
        self.changed.sort_unstable();
        // Merge from the back: the unchanged in sorted[..kept], the changed ascending.
        let (mut a, mut b, mut w) = (kept, self.changed.len(), n);
        while b > 0 {
            w -= 1;
            let (key, i) = self.changed[b - 1];
            if a > 0 && total_order_key(self.sorted[a - 1]) > key {
                a -= 1;
                self.sorted[w] = self.sorted[a];
                self.index[w] = self.index[a];
            } else {
                b -= 1;
                self.sorted[w] = from_total_order_key(key);
                self.index[w] = i;
            }
        }
        if all {
            // Later updates change few values: do not keep a buffer for all of them.
            self.changed = Vec::new();
        }
        &self.sorted
    }
}

/// Below this many keys a bucket of [`range_sort`] is finished by a comparison sort.
const SMALL_SORT: usize = 64;

/// The buckets of `keys`, in order: `ends[d]` is where bucket `d` ends, counted from `start`
/// (where `keys` begins, for a run of buckets cut from a longer slice).
fn buckets<'a>(mut keys: &'a mut [f64], ends: &'a [usize], mut start: usize) -> impl Iterator<Item = &'a mut [f64]> {
    ends.iter().map(move |&end| {
        let (bucket, rest) = std::mem::take(&mut keys).split_at_mut(end - start);
        (keys, start) = (rest, end);
        bucket
    })
}

/// The p-th quantile (0..1) of a sorted slice by linear interpolation.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_snake_case() {
        let mut names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Metric::COUNT);
        assert_eq!(Metric::from_name("gaming_gap"), Some(Metric::GamingGap));
    }

    #[test]
    fn every_metric_has_a_label_a_direction_and_bounds() {
        let mut labels: Vec<&str> = Metric::ALL.iter().map(|m| m.label()).collect();
        for (&m, l) in Metric::ALL.iter().zip(&labels) {
            assert!(!l.is_empty() && !l.contains('_'), "{}: label `{l}` is empty or snake_case", m.name());
            assert!(l.chars().next().is_some_and(char::is_uppercase), "{}: label `{l}` starts in lower case", m.name());
            let (lo, hi) = m.bounds();
            assert!(lo < hi, "{}: bounds", m.name());
            if m.is_share() || m.unit() == "0..1" {
                // A difference of two shares (the gaming gap) lies in [-1, 1].
                let floor = if matches!(m.summary(), Summary::Difference(..)) { -1.0 } else { 0.0 };
                assert!(lo >= floor && hi <= 1.0, "{}: a share or index lies in [{floor}, 1]", m.name());
            }
            if m.is_money() {
                assert!(m.unit_for_people("£").contains('£'), "{}", m.name());
            }
            assert!(m.clamp(f64::NAN).is_nan());
            assert!(m.clamp(lo - 1.0) >= lo && m.clamp(hi + 1.0) <= hi);
        }
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), Metric::COUNT, "labels are unique");
        assert_eq!(Metric::FailureDemandShare.label(), "Failure demand, share of contacts");
        assert_eq!(Metric::CostPerResolvedNeed.unit_for_people("£"), "£ per resolution");
        assert_eq!(Metric::TrueResolutionRate.direction().judge(0.1), Some(true));
        assert_eq!(Metric::BurnoutMean.direction().judge(0.1), Some(false));
        assert_eq!(Metric::CasesArrived.direction().judge(0.1), None);
        assert_eq!(Direction::LowerIsBetter.judge(0.0), None);
    }

    #[test]
    fn ci_and_gini_known_values() {
        let (m, lo, hi) = mean_ci95(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(m, 3.0);
        // sd = sqrt(2.5), se = 0.7071, t(4) = 2.776
        assert!((hi - m - 2.776 * (2.5f64 / 5.0).sqrt()).abs() < 1e-9 && (m - lo - (hi - m)).abs() < 1e-12);
        assert_eq!(gini(&[1.0, 1.0, 1.0]), 0.0);
        assert!((gini(&[0.0, 0.0, 0.0, 1.0]) - 0.75).abs() < 1e-12);
        assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.9), 4.6);
    }

    #[test]
    fn an_exact_sum_kept_value_by_value_is_the_sum_taken_afresh() {
        let mut rng = crate::rng::from_u64(11);
        use rand::RngExt;
        use rand::seq::SliceRandom;
        let mut xs: Vec<f64> = (0..5000).map(|_| rng.random::<f64>()).collect();
        xs.extend([0.0, -0.0, 1.0, 1e-300, 0.999_999_999_999_999_9, -0.25, 2047.5]);
        let mut kept = ExactSum::of(&xs);
        // Any order of additions gives the same bits.
        let mut shuffled = xs.clone();
        shuffled.shuffle(&mut rng);
        let mut added = ExactSum::default();
        shuffled.iter().for_each(|&x| added.add(x));
        assert_eq!(added, kept);
        // Split into blocks on one thread or two: the same sum.
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            for per_task in [1, 7, 2048, 2049, xs.len() + 1] {
                assert_eq!(pool.install(|| ExactSum::of_split(&xs, per_task)), kept, "{threads} threads, {per_task} a block");
            }
        }
        // Values changed one at a time (some back and forth) keep the sum of the values now.
        for k in 0..20_000 {
            let i = rng.random_range(0..xs.len());
            let new = if k % 3 == 0 { xs[(i + 1) % xs.len()] } else { rng.random::<f64>() };
            kept.replace(xs[i], new);
            xs[i] = new;
        }
        assert_eq!(kept, ExactSum::of(&xs));
        assert_eq!(kept.total().to_bits(), ExactSum::of(&xs).total().to_bits());
        // Close to the sum of the values (a compensated sum): each is off by at most 2^-51.
        let (mut sum, mut carry) = (0.0f64, 0.0f64);
        for &x in &xs {
            let t = sum + x;
            carry += if sum.abs() >= x.abs() { (sum - t) + x } else { (x - t) + sum };
            sum = t;
        }
        let exact = sum + carry;
        assert!((kept.total() - exact).abs() <= xs.len() as f64 * 4.5e-16, "{} {exact}", kept.total());
        assert_eq!(ExactSum::of(&[0.25, 0.5, 2.0]).total(), 2.75);
        assert_eq!(ExactSum::of(&[]).total(), 0.0);
        assert_eq!(ExactSum::of(&[f64::NAN, 1.0]).total(), 1.0);
        // Both ways of counting units agree, on the grid, between grid points, at ties and past 2.
        let q = 1.0 / ExactSum::SCALE;
        for x in [0.0, 1.0, 1.0 + q, 0.5 * q, 1.5 * q, 2.5 * q, 0.3, 1.999_999_9, -1.999_999_9, -0.7, -2.5 * q] {
            assert_eq!(ExactSum::units(x), i128::from((x * ExactSum::SCALE).round_ties_even() as i64), "{x}");
            assert_eq!(ExactSum::of(&[x]), ExactSum(ExactSum::units(x)));
        }
        assert_eq!(ExactSum::units(0.5 * q), 0);
        assert_eq!(ExactSum::units(1.5 * q), 2);
        // A chunk with one value past 2 is counted value by value, to the same sum.
        let mut wide: Vec<f64> = (0..5000).map(|i| (i as f64 * 0.618_033_988_7).fract()).collect();
        let narrow = ExactSum::of(&wide);
        wide[4100] += 3.0;
        let mut expected = narrow;
        expected.replace(wide[4100] - 3.0, wide[4100]);
        assert_eq!(ExactSum::of(&wide), expected);
    }

    #[test]
    fn a_sorted_copy_kept_by_merging_is_the_sort_of_the_values_after_every_update() {
        use rand::RngExt;
        // Over 40 seeds: updates that change none, a few, half or all of the values, to values
        // that tie with others (a coarse grid), to -0.0 and 0.0, and a change of length.
        for seed in 0..40 {
            let mut rng = crate::rng::from_u64(seed);
            let n = rng.random_range(1..3000);
            let grid = |r: &mut crate::rng::Stream| (r.random::<f64>() * 40.0).round() / 40.0;
            let mut values: Vec<f64> = (0..n).map(|_| if seed % 2 == 0 { grid(&mut rng) } else { rng.random() }).collect();
            let mut copy = SortedCopy::default();
            for update in 0..12 {
                let share = [0.0, 0.001, 0.01, 0.1, 0.5, 1.0][update % 6];
                for x in values.iter_mut() {
                    if rng.random::<f64>() < share {
                        *x = match rng.random_range(0..4) {
                            0 => grid(&mut rng),
                            1 => -0.0,
                            2 => 0.0,
                            _ => *x * 0.9 + 0.05,
                        };
                    }
                }
                if update == 7 {
                    values.truncate(n / 2 + 1);
                }
                let mut expected = values.clone();
                expected.sort_unstable_by(f64::total_cmp);
                let got = copy.update(&values);
                assert!(
                    got.len() == expected.len() && got.iter().zip(&expected).all(|(a, b)| a.to_bits() == b.to_bits()),
                    "seed {seed}, update {update}"
                );
                assert_eq!(gini_sorted(got).to_bits(), gini_sorted(&expected).to_bits());
            }
        }
    }

    #[test]
    fn a_sorted_copy_is_the_comparison_sort_with_ties_shared_prefixes_and_equal_keys() {
        use rand::RngExt;
        let mut rng = crate::rng::from_u64(7);
        let mut dst = vec![7.0; 3];
        // Below the buckets' size (a comparison sort), about it, and well past it.
        for n in [0, 1, 5, 1023, 1024, 1025, 20_000, SORT_AFRESH_FROM + 1000] {
            let mut signed: Vec<f64> = (0..n).map(|_| rng.random::<f64>() * 2.0 - 1.0).collect();
            signed.extend([0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -f64::NAN, 1e-300, f64::MIN_POSITIVE / 4.0]);
            let cases: Vec<Vec<f64>> = vec![
                (0..n).map(|_| rng.random::<f64>()).collect(),
                // Many ties: cuts that fall on the same value, buckets of one value.
                (0..n).map(|_| (rng.random::<f64>() * 50.0).round() / 50.0).collect(),
                // Most values equal (wellbeing at 0 after crises), the rest spread.
                (0..n).map(|_| if rng.random::<f64>() < 0.6 { 0.0 } else { rng.random::<f64>() }).collect(),
                // Wellbeing-like: one sign and exponent, long shared prefixes.
                (0..n).map(|_| 0.5 + rng.random::<f64>() * 0.4).collect(),
                vec![0.3; n],
                (0..n).map(|i| if i % 2 == 0 { -0.0 } else { 0.0 }).collect(),
                signed,
            ];
            for (c, v) in cases.iter().enumerate() {
                let mut expected = v.clone();
                expected.sort_unstable_by(f64::total_cmp);
                // Whole and split, on one thread and on two: the same bits.
                for (threads, split) in [(1, false), (1, true), (2, true)] {
                    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                    pool.install(|| copy_sorted(v, &mut dst, split));
                    assert!(
                        dst.len() == expected.len() && dst.iter().zip(&expected).all(|(a, b)| a.to_bits() == b.to_bits()),
                        "n = {n}, case {c}, {threads} threads, split {split}"
                    );
                }
                if v.iter().all(|x| x.is_finite() && *x >= 0.0) {
                    assert_eq!(gini_sorted(&dst).to_bits(), gini(v).to_bits(), "n = {n}, case {c}");
                }
            }
        }
    }

    #[test]
    fn a_range_sort_sorts_keys_over_any_range() {
        use rand::RngExt;
        let mut rng = crate::rng::from_u64(9);
        for case in 0..60 {
            let n = rng.random_range(0..3000);
            // Ranges at the bottom, the top (no overflow past u64::MAX) and in between; narrow
            // ones where a fixed byte would not tell the keys apart.
            let lo: u64 = [0, u64::MAX - 5000, 1 << 40, rng.random::<u64>() / 2][case % 4];
            let width: u64 = [1, 255, 4096, 1 << 20, u64::MAX - lo][rng.random_range(0..5)].min(u64::MAX - lo);
            let keys: Vec<u64> = (0..n).map(|_| lo + rng.random_range(0..=width)).collect();
            let (klo, khi) = (keys.iter().copied().min().unwrap_or(lo), keys.iter().copied().max().unwrap_or(lo));
            let mut slots: Vec<f64> = keys.iter().map(|&k| f64::from_bits(k)).collect();
            range_sort(&mut slots, klo, khi);
            let mut expected = keys.clone();
            expected.sort_unstable();
            assert!(slots.iter().map(|x| x.to_bits()).eq(expected.iter().copied()), "case {case}: n {n}, lo {lo}, width {width}");
        }
    }

    #[test]
    fn summary_uses_window_and_ratios_of_totals() {
        let mut s = TimeSeries::with_capacity(4);
        for day in 0..4u32 {
            let mut r = [0.0; Metric::COUNT];
            r[Metric::DemandFailure as usize] = if day < 2 { 100.0 } else { day as f64 };
            r[Metric::CasesArrived as usize] = 10.0;
            r[Metric::Backlog as usize] = day as f64;
            s.push(day, &r);
        }
        let sum = RunSummary::from_series(&s, 2, &|_| 7.0);
        assert_eq!(sum.get("backlog"), Some(2.5));
        assert_eq!(sum.get("failure_demand_share"), Some(0.25));
        assert_eq!(sum.get("hours_per_client"), Some(7.0));
    }
}
