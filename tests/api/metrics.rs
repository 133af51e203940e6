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

async fn scrape(app: &TestApp) -> HashMap<String, f64> {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    parse(&response.text().await.unwrap())
}

fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_parse_and_move_with_the_actions() {
    let app = spawn_app(Backend::Sqlite).await;
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
async fn metrics_can_have_a_listener_of_their_own() {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let app = spawn_app_with(Backend::Sqlite, &[("metrics_listen", &addr.to_string())]).await;
    assert_eq!(app.get("/metrics").await.status(), 404, "not on the main listener");
    let mut body = String::new();
    for _ in 0..50 {
        if let Ok(r) = reqwest::get(format!("http://{addr}/metrics")).await {
            body = r.text().await.unwrap();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(body.contains("keyhaven_http_requests"), "{body}");
}
