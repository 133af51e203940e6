//! Devices people sign in from, as they would name them.

/// What a user agent says about the device (woothee's parser).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceName {
    /// A browser on a known system: "Firefox", "Linux".
    BrowserOn {
        browser: String,
        os: String,
    },
    Browser(String),
    Unknown,
}

pub fn name(user_agent: Option<&str>) -> DeviceName {
    let parsed = user_agent.and_then(|ua| woothee::parser::Parser::new().parse(ua));
    match parsed {
        Some(r) if r.name != "UNKNOWN" && r.os != "UNKNOWN" => DeviceName::BrowserOn {
            browser: r.name.to_owned(),
            os: r.os.to_owned(),
        },
        Some(r) if r.name != "UNKNOWN" => DeviceName::Browser(r.name.to_owned()),
        _ => DeviceName::Unknown,
    }
}

/// "Firefox on Linux", in English (the admin API, mail); the pages say it in their language.
pub fn label(user_agent: Option<&str>) -> String {
    match name(user_agent) {
        DeviceName::BrowserOn { browser, os } => format!("{browser} on {os}"),
        DeviceName::Browser(browser) => browser,
        DeviceName::Unknown => "Unknown device".to_owned(),
    }
}
