//! Devices people sign in from, as they would name them.

/// "Firefox on Linux", from a user agent (woothee's parser).
pub fn label(user_agent: Option<&str>) -> String {
    let parsed = user_agent.and_then(|ua| woothee::parser::Parser::new().parse(ua));
    match parsed {
        Some(r) if r.name != "UNKNOWN" && r.os != "UNKNOWN" => format!("{} on {}", r.name, r.os),
        Some(r) if r.name != "UNKNOWN" => r.name.to_owned(),
        _ => "Unknown device".to_owned(),
    }
}
