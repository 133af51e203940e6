//! Endpoint paths, shared by the router and by discovery.

pub const OIDC_DISCOVERY: &str = "/.well-known/openid-configuration";
pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
pub const JWKS: &str = "/jwks";
pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";
