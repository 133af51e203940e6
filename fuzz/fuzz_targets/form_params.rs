#![no_main]
//! `Params::parse_unique`, the body of `/token`, `/introspect`, `/revoke` and `/userinfo`: it
//! never panics, it refuses exactly the bodies that are too large, carry more than 100
//! parameters, or give a parameter other than `resource` twice (with a value), and what it
//! takes reads back as sent.

use std::collections::HashSet;

use keyhaven::protocol::params::{Params, MAX_ENCODED_LEN, MAX_PARAMS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let all = url::form_urlencoded::parse(body).count();
    let sent: Vec<(String, String)> = url::form_urlencoded::parse(body)
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut seen = HashSet::new();
    let repeated = sent.iter().any(|(k, _)| k != "resource" && !seen.insert(k.as_str()));
    let too_big = body.len() > MAX_ENCODED_LEN || all > MAX_PARAMS;
    match Params::parse_unique(body) {
        Ok(form) => {
            assert!(!repeated, "a repeated parameter was taken");
            assert!(!too_big, "a body over the caps was taken");
            for (k, v) in &sent {
                if k == "resource" {
                    assert!(form.all(k).contains(&v.as_str()));
                } else {
                    assert_eq!(form.get(k), Some(v.as_str()));
                }
            }
        }
        Err(_) => assert!(
            repeated || too_big,
            "a body without repeats within the caps was refused"
        ),
    }
});
