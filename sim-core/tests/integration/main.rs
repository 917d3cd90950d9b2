//! Integration tests of sim-core, one binary (STYLE.md): patterns over many seeds.
mod patterns;
mod workforce;
