//! Experiments: designs over parameter space, replicates, parallel runs with seeds derived from
//! (master seed, point, replicate), ensemble statistics and sensitivity indices.
//!
//! - `calibrate`: calibration files and approximate Bayesian computation (rejection, ABC-SMC)
//! - `design`: unit-hypercube designs (grid, random, Latin hypercube, scrambled Sobol, Morris, Saltelli)
//! - `sensitivity`: Sobol indices (Saltelli sampling, Jansen/Saltelli 2010 estimators, bootstrap
//!   CIs) and Morris elementary effects
//! - `sweep`: sweep files (base scenario, parameters, design, replicates) -> run specifications
//! - `ensemble`: per-day and per-run statistics across replicates, pairwise effects

pub mod calibrate;
pub mod design;
pub mod ensemble;
pub mod sensitivity;
pub mod sweep;

/// Removes `.` and `name/..` pairs lexically, so `scenarios/sweeps/../top-down.toml` reads
/// `scenarios/top-down.toml` in messages (no file-system access; symlinks are not resolved). The
/// base files of sweeps and calibrations are resolved through it.
pub(crate) fn normalize(path: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() { std::path::PathBuf::from(".") } else { out.iter().collect() }
}
