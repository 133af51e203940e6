//! axum glue: routes, the metadata endpoints, middleware.

pub mod error;
pub mod metadata;
pub mod routes;
