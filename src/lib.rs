//! Keyhaven: an OAuth 2.0 / OpenID Connect authorization server.
//! `docs/architecture.md` is the map of this crate: its layers, services and where each rule lives.

pub mod app;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod events;
pub mod fetch;
pub mod http;
pub mod i18n;
pub mod janitor;
pub mod mail;
pub mod metrics;
pub mod private_files;
pub mod protocol;
pub mod service;
pub mod storage;
pub mod telemetry;
pub mod web;
