//! Presentation (MODEL.md §4.2): a need becomes a case with a probability rising with trust and
//! severity; otherwise it stays hidden and its severity grows until crisis (an acute event).

use crate::scenario::PresentationParams;

/// Scale on a presentation chance from trust and severity: (1 - w + w x trust) x (0.5 + 0.5 x severity).
pub fn presentation_scale(p: &PresentationParams, trust: f64, severity: f64) -> f64 {
    (1.0 - p.trust_weight + p.trust_weight * trust) * (0.5 + 0.5 * severity.clamp(0.0, 1.0))
}

/// Chance a new need is presented at once.
pub fn present_now(p: &PresentationParams, trust: f64, severity: f64) -> f64 {
    (p.present_now * presentation_scale(p, trust, severity)).clamp(0.0, 1.0)
}

/// Daily chance a hidden need is presented.
pub fn present_hidden(p: &PresentationParams, trust: f64, severity: f64) -> f64 {
    (p.hidden_present_per_day * presentation_scale(p, trust, severity)).clamp(0.0, 1.0)
}

/// Severity added per day to an unmet need: deprived citizens reach crisis sooner.
pub fn severity_growth(days_to_crisis: f64, deprivation: f64) -> f64 {
    (1.0 + deprivation) / days_to_crisis
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presentation_rises_with_trust_and_severity() {
        let p = PresentationParams::default();
        assert!(present_now(&p, 0.9, 0.5) > present_now(&p, 0.2, 0.5));
        assert!(present_hidden(&p, 0.5, 0.9) > present_hidden(&p, 0.5, 0.1));
        assert!((present_now(&p, 1.0, 1.0) - p.present_now).abs() < 1e-12);
        assert!((severity_growth(100.0, 0.0) - 0.01).abs() < 1e-15);
    }
}
