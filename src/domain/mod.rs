//! Plain domain types: no axum, no sqlx. Input is parsed into these once, at the edge.

pub mod alg;
pub mod client;
pub mod client_trust;
pub mod clock;
pub mod color;
pub mod device;
pub mod event;
pub mod ids;
pub mod local_path;
pub mod password_policy;
pub mod pkce;
pub mod redirect_uri;
pub mod resource_server;
pub mod scope;
pub mod signing_key;
pub mod user;

/// What `Debug` prints in place of a secret, a hash of one, or a sealed one.
pub const REDACTED: &str = "<redacted>";

pub use alg::SigningAlg;
pub use clock::{Clock, OffsetClock, SystemClock, UnixTime};
pub use ids::{Audience, ClientId, FamilyId, SessionId, UserId};
pub use resource_server::ResourceServer;
pub use signing_key::KeyState;
