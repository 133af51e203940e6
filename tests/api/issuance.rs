//! client_credentials issuance is recorded as per-client counts per minute, not as one
//! `token_issued` event per token; a person's tokens keep their events.

use keyhaven::domain::client::GrantType;
use keyhaven::domain::event::EventFilter;
use keyhaven::domain::Clock;
use keyhaven::storage::IssuanceCount;
use serde_json::Value;

use crate::flow::{ClientSpec, TestClient};
use crate::helpers::{spawn_app, spawn_second_instance, Backend, TestApp};

const BURST: usize = 1_000;
const WORKERS: usize = 8;

async fn service_client(app: &TestApp, audience: &'static str, scope: Option<&'static str>) -> TestClient {
    app.register_client(ClientSpec {
        redirect_uris: vec![],
        grants: vec![GrantType::ClientCredentials],
        audiences: vec![audience],
        scopes: scope,
        ..Default::default()
    })
    .await
}

/// `tokens` client_credentials tokens for `client`, from `WORKERS` concurrent callers.
async fn burst(app: &TestApp, client: &TestClient, tokens: usize) {
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..WORKERS {
        let (http, url) = (app.http.clone(), format!("{}/token", app.address));
        let (id, secret) = (client.id.clone(), client.secret.clone());
        workers.spawn(async move {
            for _ in 0..tokens / WORKERS {
                let response = http
                    .post(&url)
                    .basic_auth(&id, secret.as_deref())
                    .form(&[("grant_type", "client_credentials")])
                    .send()
                    .await
                    .expect("token request");
                assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.expect("worker");
    }
}

/// The `token_issued` events stored for `client_id`.
async fn token_issued_events(app: &TestApp, client_id: &str) -> usize {
    app.state.events.flush().await;
    app.state
        .store
        .list_events(&EventFilter {
            kind: Some("token_issued".into()),
            limit: 10_000,
            ..Default::default()
        })
        .await
        .expect("events")
        .iter()
        .filter(|e| e.client_id.as_deref() == Some(client_id))
        .count()
}

async fn stored_counts(app: &TestApp, client_id: &str, since: i64) -> Vec<IssuanceCount> {
    app.state
        .store
        .list_issuance_counts(&client_id.into(), since)
        .await
        .expect("issuance counts")
}

#[tokio::test]
async fn client_credentials_burst_adds_aggregate_rows_not_events() {
    let app = spawn_app(Backend::Sqlite).await;
    let service = service_client(&app, crate::flow::API, None).await;
    let started = app.clock.now();
    burst(&app, &service, BURST).await;
    let ended = app.clock.now();

    assert_eq!(token_issued_events(&app, &service.id).await, 0, "no event per token");
    // The flush (inside `token_issued_events`) stored the current minute too.
    let counts = stored_counts(&app, &service.id, 0).await;
    assert_eq!(counts.iter().map(|c| c.count).sum::<i64>(), BURST as i64);
    let minutes = (ended - ended.rem_euclid(60) - (started - started.rem_euclid(60))) / 60 + 1;
    assert!(
        counts.len() as i64 <= minutes,
        "one row per minute: {} rows over {minutes} minutes",
        counts.len()
    );
    for c in &counts {
        assert_eq!(c.minute % 60, 0, "{c:?}");
        assert!(
            c.minute <= c.first_at && c.first_at <= c.last_at && c.last_at < c.minute + 60,
            "{c:?}"
        );
        assert!(started <= c.first_at && c.last_at <= ended, "{c:?}");
    }

    // Positive control: a person's token (the code flow) still writes its event, and is not
    // counted as client_credentials issuance.
    let client = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    app.tokens_for(&client, "alice").await;
    assert_eq!(token_issued_events(&app, &client.id).await, 1);
    assert!(stored_counts(&app, &client.id, 0).await.is_empty());
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set KEYHAVEN_TEST_POSTGRES_URL"]
async fn counts_from_two_instances_add_up_in_one_row_per_minute() {
    let app = spawn_app(Backend::Postgres).await;
    let second = spawn_second_instance(&app).await;
    let service = service_client(&app, crate::flow::API, None).await;
    let started = app.clock.now();
    tokio::join!(burst(&app, &service, 200), burst(&second, &service, 120));
    let ended = app.clock.now();
    tokio::join!(app.state.events.flush(), second.state.events.flush());
    let counts = stored_counts(&app, &service.id, 0).await;
    assert_eq!(counts.iter().map(|c| c.count).sum::<i64>(), 320, "{counts:?}");
    let minutes = (ended - ended.rem_euclid(60) - (started - started.rem_euclid(60))) / 60 + 1;
    assert!(
        counts.len() as i64 <= minutes,
        "one row per minute for both: {counts:?}"
    );
    assert_eq!(token_issued_events(&app, &service.id).await, 0);
}

#[tokio::test]
async fn issuance_counts_are_stored_once_their_minute_ends_without_a_flush() {
    let app = spawn_app(Backend::Sqlite).await;
    let service = service_client(&app, crate::flow::API, None).await;
    for _ in 0..3 {
        let response = app.token(&service, &[("grant_type", "client_credentials")]).await;
        assert_eq!(response.status(), 200);
    }
    // The minute ends (by the injected clock): the writer stores it within its check interval
    // (5 s), no flush asked for.
    app.clock.advance(60);
    let mut stored = Vec::new();
    for _ in 0..100 {
        stored = stored_counts(&app, &service.id, 0).await;
        if !stored.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(stored.iter().map(|c| c.count).sum::<i64>(), 3, "{stored:?}");
}

#[tokio::test]
async fn the_admin_api_shows_a_clients_issuance_of_the_last_hour() {
    let app = spawn_app(Backend::Sqlite).await;
    let admin_token = app.admin_token().await;
    let service = service_client(&app, crate::flow::API, None).await;
    for _ in 0..5 {
        let response = app.token(&service, &[("grant_type", "client_credentials")]).await;
        assert_eq!(response.status(), 200);
    }
    app.state.events.flush().await;
    // Two hours ago: outside the window.
    let now = app.clock.now();
    let old_minute = now - now.rem_euclid(60) - 7_200;
    app.state
        .store
        .add_issuance_counts(&[IssuanceCount {
            client_id: service.id.as_str().into(),
            minute: old_minute,
            count: 40,
            first_at: old_minute,
            last_at: old_minute + 1,
        }])
        .await
        .unwrap();

    let get = |path: String, token: Option<String>| {
        let request = app.http.get(format!("{}/admin/v1{path}", app.address));
        async move {
            let request = match token {
                Some(token) => request.bearer_auth(token),
                None => request,
            };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let path = format!("/clients/{}/issuance", service.id);
    let (status, body) = get(path.clone(), Some(admin_token.clone())).await;
    assert_eq!(status, 200, "{body}");
    let rows = body.as_array().expect("array");
    let total: i64 = rows.iter().map(|r| r["count"].as_i64().unwrap()).sum();
    assert_eq!(total, 5, "the last hour only: {body}");
    for row in rows {
        for member in ["minute", "count", "first_at", "last_at"] {
            assert!(row[member].is_i64(), "{member} in {row}");
        }
    }

    let (status, body) = get("/clients/no-such-client/issuance".into(), Some(admin_token)).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    let (status, body) = get(path, None).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")));
}
