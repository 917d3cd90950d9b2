//! Benchmarks of the simulator; see benches/.
