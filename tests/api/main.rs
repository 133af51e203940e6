#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::type_complexity
)]
//! One black-box test binary: each module spawns its own server(s) and talks HTTP (or runs the
//! `keyhaven` binary) against them.

mod account;
mod admin;
mod authorize;
mod branding;
mod caches;
mod cli;
mod config;
mod device;
mod drift;
mod fetch;
mod files;
mod flow;
mod hardening;
mod hardening_lockout;
mod hardening_timeouts;

mod helpers;
mod i18n;
mod issuance;
mod janitor;
mod keys;
mod layers;
mod lifecycle;
mod mails;
mod metadata;
mod metadata_documents;
mod metrics;
mod oidc;
mod pages;
mod pages_flow;
mod pages_words;
mod passkey_attestation;
mod passkey_policy;
mod passkey_second_factor;
mod passkeys;
mod private_key_jwt;
mod registration;
mod resources;
mod security;
mod signin;
mod store;
mod token;
