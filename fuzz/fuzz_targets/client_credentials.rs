#![no_main]
//! `credentials`: the client's credentials from `Authorization: Basic` and the form body. It
//! never panics; Basic credentials, form-urlencoded and base64-encoded again (RFC 6749
//! §2.3.1), read back as the same; a secret is never taken from both places, nor beside a
//! client assertion.
//!
//! Input: the `Authorization` value, a newline, the form body (no newline: no header).

use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderValue};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyhaven::http::extract::credentials;
use keyhaven::protocol::client_assertion::ASSERTION_TYPE;
use keyhaven::protocol::client_auth::Credentials;
use keyhaven::protocol::params::Params;
use libfuzzer_sys::fuzz_target;

fn basic(client_id: &str, secret: &str) -> HeaderMap {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let value = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)))
    );
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, HeaderValue::from_str(&value).unwrap());
    headers
}

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (Some(&data[..i]), &data[i + 1..]),
        None => (None, data),
    };
    let Ok(form) = Params::parse_unique(body) else { return };
    let mut headers = HeaderMap::new();
    if let Some(header) = header {
        let Ok(value) = HeaderValue::from_bytes(header) else {
            return;
        };
        headers.insert(AUTHORIZATION, value);
    }
    match credentials(headers.get(AUTHORIZATION), &form) {
        Ok(Credentials::Basic { client_id, secret }) => {
            assert!(form.get("client_secret").is_none());
            match credentials(basic(&client_id, &secret).get(AUTHORIZATION), &form) {
                Ok(Credentials::Basic {
                    client_id: again_id,
                    secret: again_secret,
                }) => assert!(again_id == client_id && again_secret == secret),
                other => panic!("re-encoded Basic credentials read back as {other:?}"),
            }
        }
        Ok(Credentials::Post { client_id, secret }) => {
            assert!(headers.is_empty());
            assert_eq!(form.get("client_id"), Some(client_id.as_str()));
            assert_eq!(form.get("client_secret"), Some(secret.as_str()));
        }
        Ok(Credentials::IdOnly { client_id }) => {
            assert!(headers.is_empty() && form.get("client_secret").is_none());
            assert_eq!(form.get("client_id"), Some(client_id.as_str()));
        }
        Ok(Credentials::Assertion {
            client_id,
            assertion,
            endpoint,
        }) => {
            // One method only: no Basic, no secret beside an assertion.
            assert!(headers.is_empty() && form.get("client_secret").is_none());
            assert_eq!(form.get("client_assertion_type"), Some(ASSERTION_TYPE));
            assert_eq!(form.get("client_assertion"), Some(assertion.as_str()));
            assert!(endpoint.is_none());
            if let Some(id) = form.get("client_id") {
                assert_eq!(client_id.as_deref(), Some(id));
            }
        }
        Ok(Credentials::Missing) => assert!(headers.is_empty() && form.get("client_id").is_none()),
        Err(_) => {}
    }
});
