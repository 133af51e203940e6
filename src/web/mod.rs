//! Hosted pages: sign-in, consent, errors. Server-rendered (tera), no JavaScript, CSRF-protected
//! forms, strict headers (set by a layer in `startup::router`).

pub mod account;
pub mod browser;
pub mod consent;
pub mod lockout;
pub mod login;
pub mod logout;
pub mod otp;
pub mod pages;
pub mod reset;
pub mod security;
