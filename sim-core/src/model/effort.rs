//! Effort under pressure (MODEL.md §4.4; Oliva & Sterman 2001, "Cutting corners and working
//! overtime", Management Science 47(7)). Work pressure p = hours the queue requires / hours
//! available; time per case T = T* x p^alpha (alpha = -0.64), clamped; the desired time T* drifts
//! toward T, fast down (tau_down = 18.8 weeks) and almost never back up (tau_up very long).

/// Work pressure: hours required by the backlog over the hours the team can give it in the
/// desired backlog time. 1 means the team clears its backlog exactly on time.
pub fn work_pressure(required_hours: f64, available_hours_per_day: f64, desired_backlog_days: f64) -> f64 {
    if required_hours <= 0.0 {
        return 0.0;
    }
    if available_hours_per_day <= 0.0 {
        return f64::INFINITY;
    }
    required_hours / (available_hours_per_day * desired_backlog_days)
}

/// The factor T / T* = p^alpha, clamped to [floor, ceiling] (T never falls below the floor, nor
/// rises above the ceiling when there is slack).
pub fn time_factor(pressure: f64, alpha: f64, floor: f64, ceiling: f64) -> f64 {
    if pressure <= 0.0 {
        return ceiling;
    }
    pressure.powf(alpha).clamp(floor, ceiling)
}

/// Moves T* toward T over `dt` days: first-order adjustment with tau_down when T < T*, tau_up
/// when T > T* (exact exponential, so the result does not depend on the step size).
pub fn erode_desired_time(t_star: f64, t: f64, dt: f64, tau_down: f64, tau_up: f64) -> f64 {
    let tau = if t < t_star { tau_down } else { tau_up };
    t_star + (t - t_star) * (1.0 - (-dt / tau).exp())
}

/// Quality of an encounter: q = min(1, T / required)^theta.
pub fn quality(time_given: f64, required: f64, theta: f64) -> f64 {
    if required <= 0.0 {
        return 1.0;
    }
    (time_given / required).clamp(0.0, 1.0).powf(theta)
}

/// Overtime as a share of contracted hours: the excess pressure, capped.
pub fn overtime_fraction(pressure: f64, cap: f64) -> f64 {
    (pressure - 1.0).clamp(0.0, cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_percent_excess_pressure_cuts_time_six_percent() {
        let f = time_factor(1.1, -0.64, 0.3, 1.25);
        assert!((f - 0.941).abs() < 5e-4, "{f}");
        assert_eq!(time_factor(1.0, -0.64, 0.3, 1.25), 1.0);
        assert_eq!(time_factor(100.0, -0.64, 0.3, 1.25), 0.3);
        assert_eq!(time_factor(0.0, -0.64, 0.3, 1.25), 1.25);
    }

    #[test]
    fn desired_time_halves_its_gap_in_tau_down_ln2() {
        let (tau_down, tau_up) = (131.6, 3650.0);
        let days = (tau_down * std::f64::consts::LN_2).round() as usize;
        let mut t_star = 2.0;
        for _ in 0..days {
            t_star = erode_desired_time(t_star, 1.0, 1.0, tau_down, tau_up);
        }
        // Gap 1.0 -> 0.5 (rounding the day count moves it by < 0.3%).
        assert!((t_star - 1.5).abs() < 0.003, "{t_star}");
        // Upward the same gap barely moves in that time.
        let mut up = 1.0;
        for _ in 0..days {
            up = erode_desired_time(up, 2.0, 1.0, tau_down, tau_up);
        }
        assert!(up < 1.03, "{up}");
    }

    #[test]
    fn pressure_and_quality() {
        assert_eq!(work_pressure(30.0, 10.0, 3.0), 1.0);
        assert_eq!(work_pressure(0.0, 0.0, 3.0), 0.0);
        assert!(work_pressure(1.0, 0.0, 3.0).is_infinite());
        assert_eq!(quality(1.0, 2.0, 1.0), 0.5);
        assert_eq!(quality(3.0, 2.0, 1.0), 1.0);
        assert_eq!(overtime_fraction(1.5, 0.2), 0.2);
        assert_eq!(overtime_fraction(0.7, 0.2), 0.0);
    }
}
