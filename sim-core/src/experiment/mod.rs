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
