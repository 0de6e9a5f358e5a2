//! Shared code of the generated-program tests: the scenario harness, the two scenario
//! generators and the meaning-preserving rewrites of the metamorphic tests.

#![allow(dead_code)]

pub mod harness;
pub mod python_gen;
pub mod rewrite;
pub mod rust_gen;
