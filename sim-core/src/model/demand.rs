//! Needs arising (MODEL.md §4.1). Per citizen and need type, a Poisson rate
//! lambda_k x (1 + a_dep x deprivation) x (1 + a_latent x latent) x (1 + a_wb x (1 - wellbeing))
//! x demand_multiplier. Drawn by thinning (Lewis & Shedler 1979): candidates arrive at the
//! population's upper-bound rate and are kept with probability rate / bound, so the work is
//! proportional to the number of needs, not to the population.

use crate::scenario::DemandParams;

/// Rate multiplier of one citizen relative to lambda_k.
pub fn rate_multiplier(p: &DemandParams, deprivation: f64, latent: f64, wellbeing: f64) -> f64 {
    (1.0 + p.deprivation_gain * deprivation) * (1.0 + p.latent_gain * latent) * (1.0 + p.wellbeing_gain * (1.0 - wellbeing))
}

/// The largest possible `rate_multiplier` (all factors at their worst), the thinning bound.
pub fn max_rate_multiplier(p: &DemandParams) -> f64 {
    (1.0 + p.deprivation_gain) * (1.0 + p.latent_gain) * (1.0 + p.wellbeing_gain)
}

/// Complexity pushed up by the latent problem: c + push x latent x (1 - c).
pub fn complexity_with_latent(c: f64, latent: f64, push: f64) -> f64 {
    (c + push * latent * (1.0 - c)).clamp(0.0, 1.0)
}

/// Effort a need-led response takes at complexity c, from the type's effort at c = 0.5.
/// Flat-ish: understanding the person costs time even when the need is simple.
pub fn effort_required(effort_hours: f64, complexity: f64) -> f64 {
    effort_hours * (0.7 + 0.6 * complexity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplier_known_values() {
        let p = DemandParams::default();
        assert_eq!(rate_multiplier(&p, 0.0, 0.0, 1.0), 1.0);
        let m = rate_multiplier(&p, 0.5, 0.2, 0.5);
        let expected = (1.0 + p.deprivation_gain * 0.5) * (1.0 + p.latent_gain * 0.2) * (1.0 + p.wellbeing_gain * 0.5);
        assert!((m - expected).abs() < 1e-12);
        assert!(rate_multiplier(&p, 1.0, 1.0, 0.0) <= max_rate_multiplier(&p) + 1e-12);
    }

    #[test]
    fn latent_pushes_complexity_up_within_bounds() {
        assert_eq!(complexity_with_latent(0.4, 0.0, 0.3), 0.4);
        assert!((complexity_with_latent(0.4, 1.0, 0.5) - 0.7).abs() < 1e-12);
        assert_eq!(complexity_with_latent(1.0, 1.0, 1.0), 1.0);
        assert!((effort_required(3.0, 0.5) - 3.0).abs() < 1e-12);
    }
}
