//! Localised pages (issue 12, point 3): the language comes from the authorization request's
//! `ui_locales`, then `Accept-Language`, then the `default_locale` setting; `<html lang>` says
//! which; a German page has no English left over; discovery lists the languages.

use std::collections::BTreeSet;

use crate::flow::{location, pkce, ClientSpec, PASSWORD};
use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp};

async fn page_in(app: &TestApp, path: &str, accept_language: Option<&str>) -> (u16, String) {
    let url = if path.starts_with('/') {
        format!("{}{path}", app.address)
    } else {
        path.to_owned()
    };
    let mut request = app.http.get(url).header("Accept", "text/html");
    if let Some(languages) = accept_language {
        request = request.header("Accept-Language", languages);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("html"))
}

fn lang_of(html: &str) -> &str {
    let start = html.find("<html lang=\"").expect("<html lang>") + "<html lang=\"".len();
    &html[start..start + html[start..].find('"').expect("closing quote")]
}

#[tokio::test]
async fn accept_language_de_gives_a_german_login_page() {
    let app = spawn_app(Backend::Sqlite).await;
    // Positive control: no preference, the default (English).
    let (status, english) = page_in(&app, "/login", None).await;
    assert_eq!(status, 200);
    assert_eq!(lang_of(&english), "en");
    assert!(english.contains("Forgot your password?"));

    let (status, german) = page_in(&app, "/login", Some("de-DE,de;q=0.9,en;q=0.8")).await;
    assert_eq!(status, 200);
    assert_eq!(lang_of(&german), "de");
    assert!(german.contains("Passwort vergessen?"), "{german}");
    assert!(german.contains("Angemeldet bleiben"));
    assert!(!german.contains("Forgot your password?"));

    // The q-values decide, not the order.
    let (_, by_q) = page_in(&app, "/login", Some("en;q=0.3, de;q=0.8")).await;
    assert_eq!(lang_of(&by_q), "de");
}

#[tokio::test]
async fn ui_locales_on_authorize_beats_accept_language_on_login_and_consent() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    let client = app.register_client(ClientSpec::default()).await;
    let pkce = pkce();

    // Positive control: the same flow without ui_locales is in the browser's language.
    let plain = app.authorize_url(&client.id, &pkce.challenge, &[]);
    let started = app
        .http
        .get(&plain)
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 303);
    let (_, english) = page_in(&app, &location(&started), Some("en")).await;
    assert_eq!(lang_of(&english), "en");
    assert!(english.contains("Keep me signed in"));

    let german_url = app.authorize_url(&client.id, &pkce.challenge, &[("ui_locales", Some("fr de"))]);
    let started = app
        .http
        .get(&german_url)
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 303);
    let login = location(&started);
    assert!(login.starts_with("/login?request="), "{login}");
    let (status, german) = page_in(&app, &login, Some("en")).await;
    assert_eq!(status, 200);
    assert_eq!(lang_of(&german), "de");
    assert!(german.contains("Angemeldet bleiben"), "{german}");

    // Signed in, the consent page of that flow speaks German too.
    let signed_in = app.submit_login(&login, "alice", PASSWORD).await;
    assert_eq!(signed_in.status(), 303);
    let resumed = app.get_url(&location(&signed_in)).await;
    assert_eq!(resumed.status(), 303);
    let consent = location(&resumed);
    assert!(consent.starts_with("/consent?request="), "{consent}");
    let (status, page) = page_in(&app, &consent, Some("en")).await;
    assert_eq!(status, 200);
    assert_eq!(lang_of(&page), "de");
    assert!(
        page.contains("Erlauben") && page.contains("Bestätigen, wer Sie sind"),
        "{page}"
    );
    assert!(!page.contains("Confirm who you are"));
}

#[tokio::test]
async fn unknown_languages_fall_back_to_the_default() {
    let app = spawn_app(Backend::Sqlite).await;
    let (status, html) = page_in(&app, "/login", Some("fr-FR, ja;q=0.5")).await;
    assert_eq!(status, 200);
    assert_eq!(lang_of(&html), "en");
    assert!(html.contains("Forgot your password?"));
    // Positive control: a shipped one among them is taken.
    let (_, html) = page_in(&app, "/login", Some("fr-FR, de;q=0.1")).await;
    assert_eq!(lang_of(&html), "de");

    let german_default = spawn_app_with(Backend::Sqlite, &[("default_locale", "de")]).await;
    let (_, html) = page_in(&german_default, "/login", Some("fr-FR, ja;q=0.5")).await;
    assert_eq!(lang_of(&html), "de");
    assert!(html.contains("Passwort vergessen?"));
}

#[tokio::test]
async fn the_default_locale_setting_chooses_the_language_without_a_preference() {
    let app = spawn_app_with(Backend::Sqlite, &[("default_locale", "de")]).await;
    assert_eq!(app.state.settings.default_locale.as_str(), "de");
    let (status, german) = page_in(&app, "/login", None).await;
    assert_eq!(status, 200);
    assert_eq!(lang_of(&german), "de");
    assert!(german.contains("Anmelden"));
    // Positive control: a browser asking for English still gets it.
    let (_, english) = page_in(&app, "/login", Some("en")).await;
    assert_eq!(lang_of(&english), "en");
    assert!(english.contains("Sign in"));
}

#[tokio::test]
async fn discovery_lists_the_languages_of_the_pages() {
    let app = spawn_app(Backend::Sqlite).await;
    let discovery = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(discovery["ui_locales_supported"], serde_json::json!(["en", "de"]));
}

/// The English messages of the catalogues that German says differently: a German page must
/// contain none of them.
fn english_only_messages() -> Vec<String> {
    let read = |lang: &str| -> Vec<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("locales")
            .join(lang);
        let mut messages = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for line in text.lines() {
                if let Some((id, value)) = line.split_once(" = ") {
                    if line.starts_with(|c: char| c.is_ascii_lowercase()) && !value.is_empty() {
                        messages.push((id.to_owned(), value.to_owned()));
                    }
                }
            }
        }
        messages
    };
    let german: BTreeSet<String> = read("de").into_iter().map(|(_, v)| v).collect();
    read("en")
        .into_iter()
        .filter(|(_, value)| !german.contains(value))
        // The words around variables, without markup: what a page would show of the message.
        .flat_map(|(_, value)| {
            value
                .split(['{', '}', '<', '>'])
                .map(str::trim)
                .filter(|part| part.split_whitespace().count() >= 2 && !part.starts_with('$'))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn visible_text(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        text.push(' ');
        let tag = &rest[start..];
        // Attributes a person meets (aria-label, data-label) count as text.
        let tag_end = tag.find('>').map_or(tag.len(), |end| end + 1);
        for attribute in ["aria-label=\"", "data-label=\""] {
            if let Some(at) = tag[..tag_end].find(attribute) {
                let value = &tag[at + attribute.len()..tag_end];
                text.push_str(&value[..value.find('"').unwrap_or(0)]);
                text.push(' ');
            }
        }
        rest = if tag.starts_with("<script") {
            tag.find("</script>").map_or("", |end| &tag[end + 9..])
        } else {
            &tag[tag_end.min(tag.len())..]
        };
    }
    text.push_str(rest);
    text.replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn german_pages_have_no_english_leftovers() {
    let app = spawn_app_with(Backend::Sqlite, &[("default_locale", "de")]).await;
    app.create_user("alice").await;
    let english = english_only_messages();
    assert!(
        english.iter().any(|m| m == "Forgot your password?"),
        "the check finds English"
    );

    // Signed out: sign-in, reset, an unknown page, a dead reset link.
    let mut pages = Vec::new();
    for path in ["/login", "/reset", "/no-such-page", "/reset/khr_bogus"] {
        pages.push((path, page_in(&app, path, None).await));
    }
    // Positive control: the same check finds the English of an English page.
    let (_, english_login) = page_in(&app, "/login", Some("en")).await;
    let text = visible_text(&english_login);
    assert!(english.iter().any(|m| text.contains(m.as_str())), "{text}");

    // Signed in: every tab of the account.
    let signed_in = app.submit_login("/login", "alice", PASSWORD).await;
    assert_eq!(signed_in.status(), 303);
    for path in [
        "/account",
        "/account/password",
        "/account/security",
        "/account/devices",
        "/account/apps",
        "/account/activity",
    ] {
        pages.push((path, page_in(&app, path, None).await));
    }
    for (path, (status, html)) in &pages {
        assert!(*status == 200 || *status >= 400, "{path}: {status}");
        assert_eq!(lang_of(html), "de", "{path}");
        let text = visible_text(html);
        let leftovers: Vec<&String> = english.iter().filter(|m| text.contains(m.as_str())).collect();
        assert!(leftovers.is_empty(), "{path} still says {leftovers:?}:\n{text}");
    }
    let activity = &pages.last().unwrap().1 .1;
    assert!(visible_text(activity).contains("Angemeldet"), "an event in German");
    assert!(activity.contains(" UTC"), "times say UTC");
}
