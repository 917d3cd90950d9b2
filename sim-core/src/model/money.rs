//! Cost accounting (MODEL.md §5.4). Frontline cost counts hours worked (casework plus admin and
//! prevention pro rata) at the regime's hourly rate with an overtime premium: unit costing of care
//! hours, as in KPMG 2015's Buurtzorg study. Overhead is managers (from layers and span), back
//! office and coaches, charged per frontline hour at the structure's cost per contracted hour, plus
//! inspection. Acute events add knock-on costs borne elsewhere. Overhead share is overhead over the
//! service's own cost (frontline plus overhead).

use crate::network::managers_needed;
use crate::scenario::{Governance, MoneyParams};

/// Salaried overhead staff, in FTE, for a frontline of `staff`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OverheadStaff {
    pub managers: f64,
    pub back_office: f64,
    pub coaches: f64,
}

impl OverheadStaff {
    pub fn for_frontline(staff: usize, g: &Governance) -> Self {
        let managers = managers_needed(staff, g.management_layers, g.span_of_control).iter().sum::<usize>() as f64;
        Self { managers, back_office: g.back_office_ratio * staff as f64, coaches: g.coaches_per_100_staff * staff as f64 / 100.0 }
    }

    /// Overhead cost per day at `hours_per_day` contracted hours, plus `inspection_hours` today.
    pub fn cost_per_day(&self, m: &MoneyParams, hours_per_day: f64, inspection_hours: f64) -> f64 {
        hours_per_day
            * (self.managers * m.manager_hourly_rate + self.back_office * m.back_office_hourly_rate + self.coaches * m.coach_hourly_rate)
            + inspection_hours * m.manager_hourly_rate
    }
}

/// Frontline cost of `hours` worked of which `overtime` beyond contract.
pub fn frontline_cost(hours: f64, overtime: f64, hourly_rate: f64, overtime_premium: f64) -> f64 {
    hours * hourly_rate + overtime * hourly_rate * (overtime_premium - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overhead_emerges_from_layers_span_and_back_office() {
        let m = MoneyParams::default();
        let td = OverheadStaff::for_frontline(120, &Governance::top_down());
        let en = OverheadStaff::for_frontline(120, &Governance::enablement());
        assert_eq!(td.managers, 19.0); // 15 + 2 + 1 + 1
        assert_eq!(en.managers, 3.0);
        let h = 5.357;
        let share = |o: &OverheadStaff, g: &Governance| {
            let over = o.cost_per_day(&m, h, 0.0);
            over / (over + frontline_cost(120.0 * h, 0.0, g.hourly_rate, m.overtime_premium))
        };
        let (s_td, s_en) = (share(&td, &Governance::top_down()), share(&en, &Governance::enablement()));
        // KPMG 2015: ~25% vs ~8% at full utilisation.
        assert!((0.2..0.3).contains(&s_td), "{s_td}");
        assert!((0.05..0.11).contains(&s_en), "{s_en}");
        assert_eq!(frontline_cost(10.0, 2.0, 30.0, 1.5), 330.0);
    }
}
