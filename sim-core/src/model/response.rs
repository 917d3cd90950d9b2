//! Standard vs bespoke responses (MODEL.md §4.5; Ashby 1956, requisite variety). A standard
//! response resolves fully up to the need type's coverage and with falling probability above;
//! a bespoke response resolves with probability rising with skill, continuity and quality, costs
//! more effort, and can address the root cause. Recognising a non-standard need takes skill;
//! handoffs lose information (MODEL.md §4.3).

use crate::scenario::ResponseParams;

/// Chance a standard response resolves a need of complexity c at quality q.
pub fn standard_resolution(c: f64, coverage: f64, falloff: f64, q: f64) -> f64 {
    let fit = if c <= coverage { 1.0 } else { (-(c - coverage) / falloff).exp() };
    (q * fit).clamp(0.0, 1.0)
}

/// Chance a bespoke response resolves, for the worker's skill and whether they know the citizen.
pub fn bespoke_resolution(p: &ResponseParams, skill: f64, knows_citizen: bool, q: f64) -> f64 {
    let cont = if knows_citizen { p.bespoke_continuity_weight } else { 0.0 };
    (q * (p.bespoke_base + p.bespoke_skill_weight * skill + cont).min(1.0)).clamp(0.0, 1.0)
}

/// Share of what matters that survives `handoffs` hand-overs: (1 - loss x c)^handoffs. Simple needs
/// fit the form and lose little; complex ones lose most.
pub fn information_retained(c: f64, loss_per_handoff: f64, handoffs: u32) -> f64 {
    (1.0 - loss_per_handoff * c).clamp(0.0, 1.0).powi(handoffs as i32)
}

/// Noise of a worker's judgement of complexity: falls linearly to 0 at skill 1.
pub fn recognition_sd(p: &ResponseParams, skill: f64) -> f64 {
    p.recognition_noise * (1.0 - skill).max(0.0)
}

/// Chance an exception request climbs every layer and is granted.
pub fn approval_chance(grant_per_layer: f64, layers: u32) -> f64 {
    grant_per_layer.powi(layers as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_resolves_below_coverage_with_adequate_time() {
        assert_eq!(standard_resolution(0.3, 0.4, 0.12, 1.0), 1.0);
        assert!(standard_resolution(0.6, 0.4, 0.12, 1.0) < 0.2);
        assert_eq!(standard_resolution(0.3, 0.4, 0.12, 0.5), 0.5);
    }

    #[test]
    fn novice_bespoke_is_worse_than_standard_on_simple_needs() {
        let p = ResponseParams::default();
        let novice = bespoke_resolution(&p, 0.1, false, 1.0);
        let expert = bespoke_resolution(&p, 0.9, true, 1.0);
        assert!(novice < standard_resolution(0.2, 0.4, p.standard_falloff, 1.0));
        assert!(expert > novice);
        // On a complex need the expert's bespoke response beats the standard one.
        assert!(expert > standard_resolution(0.7, 0.4, p.standard_falloff, 1.0));
    }

    #[test]
    fn handoffs_lose_more_on_complex_needs() {
        assert_eq!(information_retained(0.5, 0.1, 0), 1.0);
        assert!((information_retained(0.5, 0.1, 3) - 0.95f64.powi(3)).abs() < 1e-12);
        assert!(information_retained(0.9, 0.1, 3) < information_retained(0.1, 0.1, 3));
        assert!((approval_chance(0.7, 3) - 0.343).abs() < 1e-12);
        assert_eq!(approval_chance(0.7, 0), 1.0);
    }
}
