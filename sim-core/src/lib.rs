//! sim-core: the model of public services as complex adaptive systems and the machinery to run it.
//!
//! Layout follows ../shared/ARCHITECTURE.md: `rng` (seeded named streams), `network` (community and
//! organisation graphs), `sd` (stock-and-flow integration), `scenario` (parameters, presets,
//! validation), `model` (world state and one module per mechanism), `metrics` (observation and
//! summaries), `simulation` (the one stepping API every caller uses), `alloc` (the binaries'
//! allocator: large arrays on huge pages). Nothing here reads files or prints.

pub mod alloc;
pub mod experiment;
pub mod metrics;
pub mod model;
pub mod network;
pub mod rng;
pub mod scenario;
pub mod sd;
pub mod simulation;
pub mod steady;
pub mod validation;

pub use simulation::Simulation;
