//! axum glue: routes, endpoint handlers, middleware.

pub mod admin;
pub mod error;
pub mod extract;
pub mod form;
pub mod metadata;
pub mod peer;
pub mod routes;
pub mod server;
pub mod token;
pub mod userinfo;

/// What the JSON endpoints work with: the services, nothing of the pages.
pub type ApiState = std::sync::Arc<crate::service::Services>;
