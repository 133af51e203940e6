//! axum glue: routes, endpoint handlers, middleware.

pub mod admin;
pub mod authorize;
pub mod deadline;
pub mod error;
pub mod form;
pub mod metadata;
pub mod rate_limit;
pub mod routes;
pub mod server;
pub mod token;
pub mod userinfo;
