//! Targets and gaming (MODEL.md §4.7; Goodhart 1975, Campbell 1979, Bevan & Hood 2006). Under
//! target pressure, queues are ordered by closeness to breaching the target rather than by need,
//! breached cases lose priority, and cases near the threshold may be closed early: recorded as
//! resolved, truly unresolved. Inspection catches a share at a time cost, and the known chance of
//! being inspected deters (Becker 1968): structured monitoring improves true outcomes (Bloom et al.
//! 2015) by catching and by deterring.

/// Queue priority (higher first): need (severity) blended with target urgency by target pressure.
/// Urgency rises as the wait nears the target and collapses once it is breached.
pub fn priority(severity: f64, wait_days: f64, target_days: f64, target_pressure: f64) -> f64 {
    let urgency = if wait_days <= target_days { wait_days / target_days } else { 0.0 };
    (1.0 - target_pressure) * severity + target_pressure * urgency
}

/// Whether a case waiting `wait_days` is within `near_days` of breaching the target.
pub fn near_threshold(wait_days: f64, target_days: f64, near_days: f64) -> bool {
    wait_days <= target_days && target_days - wait_days <= near_days
}

/// Chance a near-threshold case is closed early today, less what the known chance of inspection
/// deters.
pub fn early_closure_chance(target_pressure: f64, propensity: f64, integrity: f64, inspection_share: f64, deterrence: f64) -> f64 {
    (target_pressure * propensity * (1.0 - integrity) * (1.0 - deterrence * inspection_share)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_reorder_queues_away_from_need() {
        // Without target pressure the more severe case goes first.
        assert!(priority(0.9, 1.0, 14.0, 0.0) > priority(0.2, 12.0, 14.0, 0.0));
        // Under strong pressure the case close to breach goes first, and a breached one last.
        assert!(priority(0.2, 12.0, 14.0, 0.8) > priority(0.9, 1.0, 14.0, 0.8));
        assert!(priority(0.9, 20.0, 14.0, 0.8) < priority(0.2, 5.0, 14.0, 0.8));
    }

    #[test]
    fn gaming_needs_pressure_and_low_integrity() {
        assert_eq!(early_closure_chance(0.0, 0.6, 0.0, 0.0, 1.0), 0.0);
        assert_eq!(early_closure_chance(0.8, 0.6, 1.0, 0.0, 1.0), 0.0);
        assert!((early_closure_chance(0.8, 0.5, 0.5, 0.0, 1.0) - 0.2).abs() < 1e-12);
        // Inspecting half the closures halves the attempts at full deterrence, not at none.
        assert!((early_closure_chance(0.8, 0.5, 0.5, 0.5, 1.0) - 0.1).abs() < 1e-12);
        assert!((early_closure_chance(0.8, 0.5, 0.5, 0.5, 0.0) - 0.2).abs() < 1e-12);
        assert!(near_threshold(12.0, 14.0, 3.0) && !near_threshold(5.0, 14.0, 3.0) && !near_threshold(15.0, 14.0, 3.0));
    }
}
