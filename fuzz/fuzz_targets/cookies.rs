#![no_main]
//! `Browser::from_headers`: the browser's cookie from `Cookie` headers (one per input line). It
//! never panics; a cookie it takes was sent as such, and the cookie it would set reads back as
//! the same browser, with CSRF tokens that check out.
//!
//! Input: a first byte choosing the secure (`__Host-keyhaven`) or dev cookie, then the headers.

use std::sync::OnceLock;

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use keyhaven::config::Settings;
use keyhaven::crypto::tokens::SecretHash;
use keyhaven::web::browser::Browser;
use libfuzzer_sys::fuzz_target;

fn settings(dev: bool) -> &'static Settings {
    static SECURE: OnceLock<Settings> = OnceLock::new();
    static DEV: OnceLock<Settings> = OnceLock::new();
    if dev {
        DEV.get_or_init(|| Settings::from_pairs([("dev_insecure_cookies", "true".to_owned())]).unwrap())
    } else {
        SECURE.get_or_init(|| Settings::from_pairs([]).unwrap())
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let settings = settings(first & 1 == 1);
    let mut headers = HeaderMap::new();
    for line in rest.split(|&b| b == b'\n') {
        if let Ok(value) = HeaderValue::from_bytes(line) {
            headers.append(COOKIE, value);
        }
    }
    let browser = Browser::from_headers(&headers, settings);
    if !browser.fresh {
        let sent = headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(|c: char| c == ';' || c == '=' || c.is_whitespace()));
        let hash = browser.hash();
        assert!(
            sent.into_iter().any(|value| SecretHash::of(value).as_str() == hash),
            "a cookie value that was not sent"
        );
    }

    let set = browser.set_cookie(settings);
    let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
    let mut again = HeaderMap::new();
    again.insert(COOKIE, HeaderValue::from_str(&pair).unwrap());
    let back = Browser::from_headers(&again, settings);
    assert!(!back.fresh, "our own cookie was refused: {pair}");
    assert_eq!(back.hash(), browser.hash());
    let key = [7u8; 32];
    assert!(back.csrf_ok(&key, Some(&browser.csrf_token(&key))));
    assert!(!back.csrf_ok(&key, Some("")));
});
