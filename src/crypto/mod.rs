//! Keys, hashing and random secrets. No HTTP, no SQL.

pub mod kek;
pub mod keys;
pub mod password;
pub mod tokens;
pub mod totp;
