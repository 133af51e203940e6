//! OAuth 2.0 / OIDC rules, free of HTTP: each RFC rule lives in exactly one file here.

pub mod discovery;
