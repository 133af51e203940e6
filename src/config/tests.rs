//! The settings' rules: defaults, bounds, and the checks across settings.

use super::*;

fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    Settings::from_pairs(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())))
}

#[test]
fn defaults_are_the_documented_ones() {
    let s = settings(&[]).unwrap();
    assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(s.issuer, "http://127.0.0.1:8080");
    assert_eq!(s.database_url, "sqlite://data/keyhaven.db");
    assert_eq!((s.access_token_ttl, s.id_token_ttl, s.code_ttl), (900, 900, 60));
    assert_eq!((s.refresh_idle_ttl, s.refresh_absolute_ttl), (14 * 86400, 30 * 86400));
    assert_eq!((s.key_rotation_interval, s.key_rotation_lead), (30 * 86400, 86400));
    let secs = |d: Duration| d.as_secs();
    assert_eq!(
        (
            secs(s.http_header_timeout),
            secs(s.http_body_timeout),
            secs(s.http_idle_timeout),
            secs(s.request_timeout),
        ),
        (10, 30, 60, 30)
    );
    assert_eq!(s.max_connections, 2048);
    assert_eq!(s.access_token_alg, SigningAlg::Rs256);
    assert_eq!(
        (secs(s.database_acquire_timeout), secs(s.database_statement_timeout)),
        (3, 3)
    );
}

#[test]
fn timeouts_and_the_connection_cap_must_be_positive() {
    for (name, bad) in [
        ("http_header_timeout", "0"),
        ("request_timeout", "soon"),
        ("database_statement_timeout", "0s"),
        ("max_connections", "0"),
        ("max_connections", "-1"),
        ("max_connections", "many"),
    ] {
        let err = settings(&[(name, bad)]).err().unwrap();
        assert!(err.to_string().contains(&format!("`{name}`")), "{err}");
    }
    let s = settings(&[("http_header_timeout", "1"), ("max_connections", "4")]).unwrap();
    assert_eq!((s.http_header_timeout, s.max_connections), (Duration::from_secs(1), 4));
}

#[test]
fn issuer_rules() {
    for (issuer, ok) in [
        ("https://id.example.com", true),
        ("https://id.example.com/tenant/", true),
        ("http://localhost:8080", true),
        ("http://[::1]:8080", true),
        ("http://id.example.com", false),
        ("id.example.com", false),
        ("https://id.example.com/?x=1", false),
        ("https://user:pw@id.example.com", false),
        ("ftp://id.example.com", false),
    ] {
        assert_eq!(settings(&[("issuer", issuer)]).is_ok(), ok, "{issuer}");
    }
    assert!(settings(&[("issuer", "http://id.example.com"), ("dev_allow_http_issuer", "true")]).is_ok());
    assert_eq!(
        settings(&[("issuer", "https://a.example/t/")]).unwrap().issuer,
        "https://a.example/t"
    );
}

#[test]
fn the_default_sender_is_at_the_issuers_host() {
    let https = settings(&[("issuer", "https://id.example.com")]).unwrap();
    assert_eq!(https.mail_from, "Keyhaven <no-reply@id.example.com>");
    assert!(settings(&[])
        .unwrap()
        .mail_from
        .parse::<lettre::message::Mailbox>()
        .is_ok());
    let set = settings(&[("mail_from", "Ops <ops@example.org>")]).unwrap();
    assert_eq!(set.mail_from, "Ops <ops@example.org>");
}

#[test]
fn brand_settings_default_to_keyhaven_and_are_checked() {
    let s = settings(&[]).unwrap();
    assert_eq!(s.brand_name, "Keyhaven");
    assert!(s.brand_logo.is_none() && s.brand_primary_color.is_none() && s.brand_stylesheet.is_none());
    assert_eq!(s.client_id_metadata_documents, MetadataDocuments::Off);
    assert_eq!(s.client_registration, RegistrationPolicy::Off);
    assert!(!s.dev_allow_loopback_fetch && !s.client_logos);
    let s = settings(&[
        ("brand_name", " Acme ID "),
        ("brand_primary_color", "#C8102E"),
        ("issuer", "https://id.acme.example"),
    ])
    .unwrap();
    assert_eq!(s.brand_name, "Acme ID");
    assert_eq!(s.brand_primary_color.unwrap().to_string(), "#c8102e");
    assert_eq!(s.mail_from, "Acme ID <no-reply@id.acme.example>");
    let quoted = settings(&[("brand_name", "Acme, Inc."), ("issuer", "https://id.acme.example")]).unwrap();
    assert!(
        quoted.mail_from.parse::<lettre::message::Mailbox>().is_ok(),
        "{}",
        quoted.mail_from
    );
    assert!(quoted.mail_from.contains("Acme, Inc."), "{}", quoted.mail_from);
    let long = "x".repeat(61);
    for (name, bad) in [
        ("brand_primary_color", "blue"),
        ("brand_primary_color", "#fff"),
        ("brand_primary_color", "#12345g"),
        ("brand_name", ""),
        ("brand_name", "two\nlines"),
        ("brand_name", long.as_str()),
    ] {
        let err = settings(&[(name, bad)]).err().unwrap();
        assert!(err.to_string().contains(&format!("`{name}`")), "{err}");
    }
}

#[test]
fn insecure_cookies_need_a_loopback_http_issuer() {
    assert!(settings(&[("dev_insecure_cookies", "true")]).is_ok());
    assert!(settings(&[("dev_insecure_cookies", "true"), ("issuer", "https://id.example")]).is_err());
}

#[test]
fn errors_name_the_setting() {
    let err = settings(&[("access_token_ttl", "soon")]).err().unwrap();
    assert!(
        err.to_string()
            .contains("`access_token_ttl` (KEYHAVEN_ACCESS_TOKEN_TTL)"),
        "{err}"
    );
    let err = settings(&[("nonsense", "1")]).err().unwrap();
    assert!(err.to_string().contains("`nonsense`"));
}

#[test]
fn a_metrics_token_is_long_and_never_echoed() {
    let good = "0123456789abcdefghijklmnopqrstuv";
    assert!(settings(&[("metrics_bearer_token", good)]).is_ok());
    for bad in ["short-secret", "0123456789abcdefghijklmnopqrstu v", ""] {
        let err = settings(&[("metrics_bearer_token", bad)]).err().unwrap().to_string();
        assert!(err.contains("`metrics_bearer_token`"), "{err}");
        assert!(bad.is_empty() || !err.contains(bad), "{err}");
    }
}

#[test]
fn durations_accept_seconds_and_humantime() {
    assert_eq!(parse_duration("900"), Ok(900));
    assert_eq!(parse_duration("15m"), Ok(900));
    assert_eq!(parse_duration("30d"), Ok(30 * 86400));
    assert!(parse_duration("-1").is_err());
}

#[test]
fn passkeys_required_names_everyone_or_usernames_and_needs_passkeys() {
    let s = settings(&[]).unwrap();
    assert_eq!(s.passkeys_required, PasskeysRequired::Off);
    assert!(!s.passkeys_required.applies_to("alice"));
    let everyone = settings(&[("passkeys", "true"), ("passkeys_required", "everyone")]).unwrap();
    assert!(everyone.passkeys_required.applies_to("anyone"));
    let some = settings(&[("passkeys", "true"), ("passkeys_required", "alice, Bob")]).unwrap();
    assert!(some.passkeys_required.applies_to("alice") && some.passkeys_required.applies_to("bob"));
    assert!(!some.passkeys_required.applies_to("carol"));
    assert!(s.passkeys, "passkeys are on by default");
    let err = settings(&[("passkeys", "false"), ("passkeys_required", "everyone")])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("passkeys_required") && err.contains("passkeys = true"),
        "{err}"
    );
    assert!(settings(&[("passkeys", "true"), ("passkeys_required", " ")]).is_err());
}

#[test]
fn passkey_aaguids_are_uuids_and_need_the_attestation_ca_file() {
    let s = settings(&[]).unwrap();
    assert!(s.passkey_attestation_ca_file.is_none() && s.passkey_aaguids.is_empty());
    let a = "cb69481e-8ff7-4039-93ec-0a2729a154a8";
    let b = "ee882879-721c-4913-9775-3dfcce97072a";
    let with_ca = |aaguids: &str| {
        settings(&[
            ("passkey_attestation_ca_file", "roots.pem"),
            ("passkey_aaguids", aaguids),
        ])
    };
    let s = with_ca(&format!("{a}, {b} {a}")).unwrap();
    assert_eq!(s.passkey_attestation_ca_file.as_deref(), Some(Path::new("roots.pem")));
    let listed: Vec<String> = s.passkey_aaguids.iter().map(ToString::to_string).collect();
    assert_eq!(listed, [a, b], "both separators, the same one once");
    // The CA file alone: any AAGUID under its roots.
    let s = settings(&[("passkey_attestation_ca_file", "roots.pem")]).unwrap();
    assert!(s.passkey_aaguids.is_empty());
    for bad in ["not-a-uuid", " , ", &format!("{a} yubikey")] {
        let err = with_ca(bad).unwrap_err().to_string();
        assert!(err.contains("passkey_aaguids"), "{bad}: {err}");
    }
    // AAGUIDs without the roots that make them mean something: refused.
    let err = settings(&[("passkey_aaguids", a)]).unwrap_err().to_string();
    assert!(
        err.contains("passkey_aaguids") && err.contains("passkey_attestation_ca_file"),
        "{err}"
    );
}
