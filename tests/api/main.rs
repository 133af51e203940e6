#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! One black-box test binary: each module spawns its own server(s) and talks HTTP (or runs the
//! `keyhaven` binary) against them.

mod cli;
mod config;
mod helpers;
mod keys;
mod metadata;
mod store;
