//! Endpoint paths: defined once beside discovery, which advertises them.

pub use crate::protocol::discovery::paths::*;
