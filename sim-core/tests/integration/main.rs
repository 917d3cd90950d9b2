//! Integration tests of sim-core, one binary (STYLE.md): patterns over many seeds.
mod citizens;
mod holds_its_own;
mod integrity;
mod learning;
mod patterns;
mod workforce;
