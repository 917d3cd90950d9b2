//! Integration tests of sim-core, one binary (STYLE.md): patterns over many seeds.
mod citizens;
mod learning;
mod patterns;
mod workforce;
