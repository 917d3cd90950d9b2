//! Cost accounting (MODEL.md §5.4), as a real service pays it. Frontline staff are paid for their
//! contracted hours while in post, whether busy, idle or off sick, and overtime on top at a premium
//! (Curtis & Burns 2019, Unit Costs of Health and Social Care, cost staff per contracted hour and
//! add overheads; KPMG 2015 compares Buurtzorg's hourly cost on the same basis). Overhead is the
//! cost of the structure: managers (from layers and span), back office and coaches on their
//! contracted hours, inspection hours, and recruiting each new member of staff (CIPD 2022). It
//! does not scale with the hours worked. Acute events add knock-on costs borne elsewhere. Overhead
//! share is overhead over the service's own cost; cost per hour worked is a unit cost beside it.

use crate::scenario::{Governance, MoneyParams};

/// Salaried overhead staff, in FTE, for a frontline establishment of `posts`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OverheadStaff {
    pub managers: f64,
    pub back_office: f64,
    pub coaches: f64,
}

impl OverheadStaff {
    /// Managers are the service's share of each layer above it: `posts / span^l` at layer `l`
    /// (fractional, so the top of a hierarchy shared with other services is charged in
    /// proportion and the cost per post does not depend on the service's size).
    pub fn for_frontline(posts: f64, g: &Governance) -> Self {
        let span = f64::from(g.span_of_control.max(1));
        let managers = (1..=g.management_layers).map(|l| posts / span.powi(l as i32)).sum();
        Self { managers, back_office: g.back_office_ratio * posts, coaches: g.coaches_per_100_staff * posts / 100.0 }
    }

    /// Cost of the structure per day at `hours_per_day` contracted hours.
    pub fn cost_per_day(&self, m: &MoneyParams, hours_per_day: f64) -> f64 {
        hours_per_day
            * (self.managers * m.manager_hourly_rate + self.back_office * m.back_office_hourly_rate + self.coaches * m.coach_hourly_rate)
    }
}

/// Frontline pay for one day: `in_post` staff on `hours_per_day` contracted hours each, plus
/// `overtime_hours` paid at `overtime_premium` times the rate.
pub fn frontline_pay(in_post: f64, hours_per_day: f64, overtime_hours: f64, hourly_rate: f64, overtime_premium: f64) -> f64 {
    in_post * hours_per_day * hourly_rate + overtime_hours * hourly_rate * overtime_premium
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overhead_emerges_from_layers_span_and_back_office() {
        let m = MoneyParams::default();
        let td = OverheadStaff::for_frontline(120.0, &Governance::top_down());
        let en = OverheadStaff::for_frontline(120.0, &Governance::enablement());
        // 120/8 + 120/64 + 120/512 + 120/4096 managers; 120/40 under enablement.
        assert!((td.managers - 17.138_671_875).abs() < 1e-9, "{}", td.managers);
        assert!((en.managers - 3.0).abs() < 1e-12);
        let h = 5.357;
        let share = |o: &OverheadStaff, g: &Governance| {
            let over = o.cost_per_day(&m, h);
            over / (over + frontline_pay(120.0, h, 0.0, g.hourly_rate, m.overtime_premium))
        };
        let (s_td, s_en) = (share(&td, &Governance::top_down()), share(&en, &Governance::enablement()));
        // The structures' shares at full establishment; KPMG 2015 reports ~25% and ~8%.
        assert!(s_td > 2.0 * s_en, "{s_td} {s_en}");
        assert!((0.1..0.4).contains(&s_td) && (0.02..0.15).contains(&s_en), "{s_td} {s_en}");
    }

    #[test]
    fn staff_in_post_are_paid_whether_busy_or_not_and_overtime_on_top() {
        assert_eq!(frontline_pay(10.0, 7.5, 0.0, 30.0, 1.5), 2250.0);
        assert_eq!(frontline_pay(10.0, 7.5, 2.0, 30.0, 1.5), 2250.0 + 90.0);
        assert_eq!(frontline_pay(0.0, 7.5, 0.0, 30.0, 1.5), 0.0);
    }

    #[test]
    fn cost_per_post_does_not_depend_on_size() {
        let g = Governance::top_down();
        let m = MoneyParams::default();
        let per_post = |n: f64| OverheadStaff::for_frontline(n, &g).cost_per_day(&m, 5.0) / n;
        assert!((per_post(30.0) - per_post(480.0)).abs() < 1e-9);
    }
}
