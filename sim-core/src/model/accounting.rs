//! The day's accounts (MODEL.md §5.4, §6): costs, rates, the stocks integrated over the day, and
//! the levels recorded at its end.

use super::money::OverheadStaff;
use super::needs::NeedState;
use super::workforce::{STOCK_ARRIVED, STOCK_BUDGET, STOCK_PERCEIVED, STOCK_PIPELINE};
use super::*;
use crate::metrics::{DayRecord, Metric, quantile_sorted};
use crate::metrics::{SORT_AFRESH_FROM, copy_sorted, gini_sorted};
use crate::sd::smooth_rate;

/// What only the accounts change: sums over the summary window, the slow levels carried between
/// the days they are recomputed, and finance's running balance.
#[derive(Debug, Clone)]
pub struct Accounts {
    /// Rate-weighted mean standard hours, to express T* in hours.
    pub(super) reference_hours: f64,
    /// Hours worked and service cost over the summary window.
    window_hours: f64,
    window_cost: f64,
    /// Wellbeing Gini, recomputed every 28 days.
    wellbeing_gini: f64,
    /// Opinion polarisation, recomputed weekly and after an assembly.
    opinion_polarisation: f64,
    /// Polarisation taken after the day's meetings when due (`OpinionExchange`): the day's value
    /// unless an assembly then moved opinions.
    pub(super) polarisation_after_meetings: Option<f64>,
    /// Sums of daily neighbourhood wellbeing means over the window (weekly samples) and their count.
    window_neighbourhood_wellbeing: (Vec<f64>, u32),
    /// Funding minus costs per day, smoothed over 90 days (a running deficit when negative).
    pub(super) net_flow_estimate: f64,
}

impl Accounts {
    pub(super) fn new(reference_hours: f64) -> Self {
        Accounts {
            reference_hours,
            window_hours: 0.0,
            window_cost: 0.0,
            wellbeing_gini: f64::NAN,
            opinion_polarisation: f64::NAN,
            polarisation_after_meetings: None,
            window_neighbourhood_wellbeing: (Vec::new(), 0),
            net_flow_estimate: 0.0,
        }
    }
}

impl World {
    /// Costs, stocks and the levels recorded at the end of the day (MODEL.md §5.4, §6).
    #[inline(never)] // a phase: one call a day, kept apart so a profile shows it by name
    pub(super) fn account(&mut self, rec: &mut DayRecord) {
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
        let structure = OverheadStaff::for_frontline(self.management.establishment, g).cost_per_day(m, s.workforce.hours_per_day);
        let recruitment = std::mem::take(&mut self.recruitment.cost_due);
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
        let funding = m.funding_per_year / 365.0 * self.shocks.funding_share;
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
            self.accounts.net_flow_estimate += (funding - cost - self.accounts.net_flow_estimate) / 90.0;
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
        rec[Metric::TimeStandard as usize] = self.accounts.reference_hours * factor_sum / deliverers.max(1) as f64;
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
        rec[Metric::Establishment as usize] = self.management.establishment;
        rec[Metric::Vacancies as usize] = (self.management.establishment - in_post).max(0.0);
        rec[Metric::SickRate as usize] = per(sick);
        rec[Metric::SkillMean as usize] = per(skill);
        rec[Metric::BurnoutMean as usize] = per(burnout);
        rec[Metric::MoraleMean as usize] = per(morale);
        rec[Metric::FatigueMean as usize] = per(fatigue);
        rec[Metric::TurnoverRate as usize] = per(rec[Metric::Quits as usize] * 365.0);
        // Exact sums kept as the values change (`SummedValues`): no pass over the citizens.
        rec[Metric::WellbeingMean as usize] = self.citizens.wellbeing.mean();
        rec[Metric::TrustMean as usize] = self.citizens.trust.mean();
        // Weekly (carried between), like the Gini: opinions move slowly and the pass is per citizen.
        // Taken after the day's meetings (`OpinionExchange::run`), again after an assembly.
        let after_meetings = self.accounts.polarisation_after_meetings.take();
        let assembly_today = self.assemblies.last.as_ref().is_some_and(|a| a.day == self.day);
        if self.polarisation_due() || assembly_today {
            self.accounts.opinion_polarisation = match after_meetings {
                Some(p) if !assembly_today => p,
                _ => citizens::polarisation(self.citizens.opinion.iter().copied()),
            };
        }
        rec[Metric::OpinionPolarisation as usize] = self.accounts.opinion_polarisation;
        rec[Metric::WellbeingGini as usize] = self.wellbeing_inequality();
        if self.day >= self.scenario.run.warmup_days && self.day.is_multiple_of(7) {
            let (mut sums, count) = std::mem::take(&mut self.accounts.window_neighbourhood_wellbeing);
            sums.resize(self.neighbourhood_sizes.len(), 0.0);
            self.for_each_neighbourhood_wellbeing(|k, mean| sums[k] += mean);
            self.accounts.window_neighbourhood_wellbeing = (sums, count + 1);
        }
        if self.day >= self.scenario.run.warmup_days {
            self.accounts.window_hours += rec[Metric::HoursWorked as usize];
            self.accounts.window_cost += rec[Metric::CostService as usize];
        }
        rec[Metric::CostPerClient as usize] = ratio(rec[Metric::CostService as usize], rec[Metric::ClientsServed as usize]);
        rec[Metric::HoursPerClient as usize] = ratio(rec[Metric::HoursWorked as usize], rec[Metric::ClientsServed as usize]);
    }

    /// Whether today's opinion polarisation is taken afresh, assemblies aside: weekly, or none yet.
    pub(super) fn polarisation_due(&self) -> bool {
        self.day.is_multiple_of(7) || self.accounts.opinion_polarisation.is_nan()
    }

    /// Wellbeing Gini, computed every 28 days and carried between: it needs a sort of every
    /// citizen's wellbeing, and inequality moves slowly. Below `SORT_AFRESH_FROM` citizens the
    /// sorted wellbeing is kept and brought up to date (`SortedCopy`: most citizens' wellbeing has
    /// not changed since the last time); from there, where memory counts, a fresh sorted copy
    /// (`copy_sorted`: spread over buckets, sorted bucket by bucket, on every core at scale).
    fn wellbeing_inequality(&mut self) -> f64 {
        if self.day.is_multiple_of(28) || self.accounts.wellbeing_gini.is_nan() {
            self.accounts.wellbeing_gini = if self.citizens.wellbeing.len() < SORT_AFRESH_FROM {
                gini_sorted(self.scratch.sorted_wellbeing.update(&self.citizens.wellbeing))
            } else {
                // The trust sums' buffer when it holds nothing (after a spreading), else its own.
                let v = match self.scratch.trust_sums.spare() {
                    Some(spare) => spare,
                    None => &mut self.scratch.values,
                };
                copy_sorted(&self.citizens.wellbeing, v, self.split);
                gini_sorted(v)
            };
        }
        self.accounts.wellbeing_gini
    }

    /// Mean wellbeing per neighbourhood over the summary window (weekly samples).
    pub fn window_neighbourhood_wellbeing(&self) -> Vec<f64> {
        let (sums, count) = &self.accounts.window_neighbourhood_wellbeing;
        sums.iter().map(|s| if *count > 0 { s / *count as f64 } else { f64::NAN }).collect()
    }

    /// Hours worked and service cost per distinct client served in the summary window.
    pub fn window_per_client(&self) -> (f64, f64) {
        let clients = self.citizens.served_in_window.iter().filter(|&&b| b).count();
        if clients == 0 {
            (f64::NAN, f64::NAN)
        } else {
            (self.accounts.window_hours / clients as f64, self.accounts.window_cost / clients as f64)
        }
    }
}

/// a / b, or NaN when there is nothing to divide by (a day with no closures, no deliveries...).
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}
