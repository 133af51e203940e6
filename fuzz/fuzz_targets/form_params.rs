#![no_main]
//! `FormParams::parse`, the body of `/token`, `/introspect` and `/revoke`: it never panics, it
//! refuses exactly the bodies that give a parameter other than `resource` twice (with a value),
//! and what it takes reads back as sent.
//!
//! Run it on inputs of at most 4 KiB (`fuzz/run.sh` does): its duplicate check is quadratic
//! today, and that is being rewritten separately.

use std::collections::HashSet;

use keyhaven::http::token::FormParams;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let sent: Vec<(String, String)> = url::form_urlencoded::parse(body)
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut seen = HashSet::new();
    let repeated = sent.iter().any(|(k, _)| k != "resource" && !seen.insert(k.as_str()));
    match FormParams::parse(body) {
        Ok(form) => {
            assert!(!repeated, "a repeated parameter was taken");
            for (k, v) in &sent {
                if k == "resource" {
                    assert!(form.all(k).contains(&v.as_str()));
                } else {
                    assert_eq!(form.get(k), Some(v.as_str()));
                }
            }
        }
        Err(_) => assert!(repeated, "a body without repeats was refused"),
    }
});
