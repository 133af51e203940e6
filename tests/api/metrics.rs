//! `/metrics`: Prometheus text that parses, with counters that move.

use std::collections::HashMap;

use crate::flow::{ClientSpec, API};
use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp};

/// Parses the text exposition format strictly enough to catch a malformed line; returns
/// every sample as "name{labels}" -> value.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# ") {
            let word = rest.split_whitespace().next().unwrap();
            assert!(
                ["HELP", "TYPE", "UNIT", "EOF"].contains(&word),
                "bad comment line: {line}"
            );
            if word == "TYPE" {
                let kind = rest.split_whitespace().nth(2).unwrap();
                assert!(
                    ["counter", "gauge", "histogram", "summary", "unknown"].contains(&kind),
                    "{line}"
                );
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number: {line}"));
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad name: {line}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "bad labels: {line}");
        }
        samples.insert(series.to_owned(), value);
    }
    samples
}

/// A `metrics_bearer_token` for the tests (32+ characters).
const TOKEN: &str = "metrics-test-token-0123456789abcdef";

async fn metrics_with(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut request = app.http.get(format!("{}/metrics", app.address));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn scrape(app: &TestApp) -> HashMap<String, f64> {
    let response = metrics_with(app, Some(TOKEN)).await;
    assert_eq!(response.status(), 200);
    parse(&response.text().await.unwrap())
}

fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_parse_and_move_with_the_actions() {
    let app = spawn_app_with(Backend::Sqlite, &[("metrics_bearer_token", TOKEN)]).await;
    let client = app.register_client(ClientSpec::default()).await;
    let rs = app.resource_server(API).await;
    app.create_user("alice").await;
    let before = scrape(&app).await;
    let tokens = app.tokens_for(&client, "alice").await;
    let refreshed: serde_json::Value = app
        .refresh(&client, tokens["refresh_token"].as_str().unwrap(), None)
        .await
        .json()
        .await
        .unwrap();
    app.refresh(&client, tokens["refresh_token"].as_str().unwrap(), None)
        .await; // reuse
    app.introspect(&rs, refreshed["access_token"].as_str().unwrap()).await;
    app.introspect(&rs, "garbage").await;
    app.submit_login("/login", "alice", "wrong password").await;
    let after = scrape(&app).await;

    for (series, at_least) in [
        ("keyhaven_tokens_issued_total{name=\"authorization_code\"}", 1.0),
        ("keyhaven_tokens_issued_total{name=\"refresh_token\"}", 1.0),
        ("keyhaven_refresh_rotations_total", 1.0),
        ("keyhaven_refresh_reuse_detected_total", 1.0),
        ("keyhaven_introspections_total{name=\"inactive\"}", 2.0),
        ("keyhaven_logins_total{name=\"success\"}", 1.0),
        ("keyhaven_logins_total{name=\"failure\"}", 1.0),
        (
            "keyhaven_http_requests_total{route=\"/token\",method=\"POST\",status=\"200\"}",
            2.0,
        ),
    ] {
        let moved = value(&after, series) - value(&before, series);
        assert!(
            moved >= at_least,
            "{series} moved by {moved}; samples: {:?}",
            after
                .keys()
                .filter(|k| k.contains(series.split('{').next().unwrap()))
                .collect::<Vec<_>>()
        );
    }
    assert!(after
        .keys()
        .any(|k| k.starts_with("keyhaven_http_request_duration_seconds_bucket{")));
    assert!(after.contains_key("keyhaven_revocation_cache_entries"));
    assert!(after.contains_key("keyhaven_security_events_dropped"));
    assert!(after
        .keys()
        .any(|k| k.starts_with("keyhaven_store_query_duration_seconds_count")));
}

#[tokio::test]
async fn metrics_are_not_public_on_the_main_listener() {
    // Without metrics_listen or metrics_bearer_token there is no /metrics at all.
    let app = spawn_app(Backend::Sqlite).await;
    for token in [None, Some(TOKEN)] {
        let response = metrics_with(&app, token).await;
        assert_eq!(response.status(), 404, "{token:?}");
        assert!(!response.text().await.unwrap().contains("keyhaven_"));
    }
}

#[tokio::test]
async fn metrics_on_the_main_listener_need_the_bearer_token() {
    let app = spawn_app_with(Backend::Sqlite, &[("metrics_bearer_token", TOKEN)]).await;
    // Positive control: the token opens it.
    let response = metrics_with(&app, Some(TOKEN)).await;
    assert_eq!(response.status(), 200);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("keyhaven_revocation_cache_entries"));

    let wrong = format!("{TOKEN}x");
    for token in [None, Some(""), Some("metrics-test-token"), Some(wrong.as_str())] {
        let response = metrics_with(&app, token).await;
        assert_eq!(response.status(), 401, "{token:?}");
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"keyhaven-metrics\""
        );
        assert!(!response.text().await.unwrap().contains("keyhaven_"), "{token:?}");
    }
    let basic = app
        .http
        .get(format!("{}/metrics", app.address))
        .basic_auth("metrics", Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
}

/// GETs `/metrics` on the app's own metrics listener. It is bound before the server starts
/// (port 0 in the settings, the port it got from the app), so there is nothing to wait for.
async fn get_metrics_listener(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let addr = app.metrics_addr.expect("a metrics listener");
    let mut request = reqwest::Client::new().get(format!("http://{addr}/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn metrics_can_have_a_listener_of_their_own() {
    let app = spawn_app_with(Backend::Sqlite, &[("metrics_listen", "127.0.0.1:0")]).await;
    let addr = app.metrics_addr.expect("the bound metrics address");
    assert_ne!(addr.port(), 0);
    assert!(
        !app.address.ends_with(&format!(":{}", addr.port())),
        "a listener of its own"
    );
    assert_eq!(metrics_with(&app, None).await.status(), 404, "not on the main listener");
    // Positive control: served on the metrics listener, counting the main listener's traffic
    // (the 404 just above).
    let response = get_metrics_listener(&app, None).await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(body.contains("keyhaven_http_requests"), "{body}");
}

#[tokio::test]
async fn a_metrics_listener_asks_for_the_token_when_one_is_set() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("metrics_listen", "127.0.0.1:0"), ("metrics_bearer_token", TOKEN)],
    )
    .await;
    let with = get_metrics_listener(&app, Some(TOKEN)).await;
    assert_eq!(with.status(), 200);
    assert!(with.text().await.unwrap().contains("keyhaven_revocation_cache_entries"));
    assert_eq!(get_metrics_listener(&app, None).await.status(), 401);
    assert_eq!(
        metrics_with(&app, Some(TOKEN)).await.status(),
        404,
        "never on the main listener when it has its own"
    );
}

#[tokio::test]
async fn without_metrics_listen_there_is_no_metrics_listener() {
    let app = spawn_app_with(Backend::Sqlite, &[("metrics_bearer_token", TOKEN)]).await;
    assert_eq!(app.metrics_addr, None);
    // Positive control: the main listener serves them instead.
    assert_eq!(metrics_with(&app, Some(TOKEN)).await.status(), 200);
}
