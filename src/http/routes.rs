//! Paths of the JSON endpoints and the metadata: the router mounts these, and discovery
//! advertises them (with the pages' own, from `web::paths`) through the endpoints `app` gives it.

pub const OIDC_DISCOVERY: &str = "/.well-known/openid-configuration";
pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
pub const JWKS: &str = "/jwks";
pub const TOKEN: &str = "/token";
/// Also the audience of the access tokens it accepts, hence defined beside that rule.
pub const USERINFO: &str = crate::protocol::userinfo::PATH;
pub const INTROSPECT: &str = "/introspect";
pub const REVOKE: &str = "/revoke";
pub const HEALTHZ: &str = "/healthz";
pub const METRICS: &str = "/metrics";
pub const READYZ: &str = "/readyz";
pub const DEVICE_AUTHORIZATION: &str = "/device_authorization";
/// Dynamic client registration (RFC 7591), and each client's own registration (RFC 7592).
pub const REGISTER: &str = "/register";
pub const REGISTER_CLIENT: &str = "/register/{client_id}";
