//! looplint finds runtime-lifecycle bugs in async Rust and async Python.
//!
//! The pipeline: [`source`] files are lowered by a [`frontend`] into the language-neutral
//! lifecycle [`model`]; [`analysis`] computes which runtime instance and context each function
//! runs under; each rule in [`rules`] queries those facts and emits [`diagnostic::Finding`]s;
//! [`report`] renders them. [`check`] ties the steps together, [`cli`] is the command line.

pub mod alloc;
pub mod analysis;
pub mod baseline;
pub mod cargo;
pub mod check;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod frontend;
pub mod kb;
pub mod model;
pub mod project;
pub mod readfile;
pub mod report;
pub mod rules;
pub mod server;
pub mod server_actions;
pub mod server_io;
pub mod server_settings;
pub mod source;
pub mod suppress;
pub mod timing;
