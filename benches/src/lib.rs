//! Benchmarks of the simulator. The benchmarks themselves live in `benches/benches/` (run them
//! with `cargo bench -p sim-benches`); this library target exists only because Cargo needs a lib
//! or bin target in every package. Results and how they were taken: docs/performance.md.
