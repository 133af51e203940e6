//! Hardening against hostile input: linear parsing under caps, bounded bodies and reflected
//! values, rate limits on every endpoint that writes for unauthenticated callers, bounded
//! writes (pending requests, rate-limit events), and the authorization request's edges
//! (response_mode, a `claims` request for one `sub`, loopback port 0).

use std::time::{Duration, Instant};

use keyhaven::domain::client::{ClientType, GrantType};
use keyhaven::domain::event::EventFilter;
use keyhaven::domain::Clock;
use serde_json::Value;

use crate::flow::{location, pkce, query, ClientSpec, REDIRECT};
use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp};
use crate::token::jwt_claims;

/// A form body of `n` distinct throw-away parameters, about 9 bytes each.
fn padding(n: usize) -> String {
    (0..n).map(|i| format!("x{i}=1")).collect::<Vec<_>>().join("&")
}

impl TestApp {
    async fn token_body(&self, client: &crate::flow::TestClient, body: String) -> reqwest::Response {
        self.http
            .post(format!("{}/token", self.address))
            .basic_auth(&client.id, client.secret.as_deref())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    fn service_spec() -> ClientSpec {
        ClientSpec {
            redirect_uris: vec![],
            grants: vec![GrantType::ClientCredentials],
            ..Default::default()
        }
    }

    async fn count_rows(&self, table: &str) -> i64 {
        let url = self
            .settings
            .iter()
            .find(|(k, _)| *k == "database_url")
            .map(|(_, v)| v.clone())
            .unwrap();
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        n
    }
}

#[tokio::test]
async fn parameter_count_is_capped_at_one_hundred() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(TestApp::service_spec()).await;
    // Positive control: 100 parameters in all (one grant_type and 99 of padding) are served.
    let at_cap = app
        .token_body(&client, format!("grant_type=client_credentials&{}", padding(99)))
        .await;
    assert_eq!(at_cap.status(), 200);
    // One more is refused before anything else happens.
    let over = app
        .token_body(&client, format!("grant_type=client_credentials&{}", padding(100)))
        .await;
    assert_eq!(over.status(), 400);
    let body: Value = over.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(body["error_description"], "the request has too many parameters");

    // The same cap at /authorize: a page, never a redirect (nothing is trusted yet).
    let p = pkce();
    let ok = app
        .get_url(&app.authorize_url(&client_id_of_rp(&app).await, &p.challenge, &[]))
        .await;
    assert_eq!(ok.status(), 303, "positive control");
    let crowded = format!(
        "{}&{}",
        app.authorize_url(&client_id_of_rp(&app).await, &p.challenge, &[]),
        padding(100)
    );
    let refused = app.get_url(&crowded).await;
    assert_eq!(refused.status(), 400);
    assert!(refused.headers().get("location").is_none());
    assert!(refused.text().await.unwrap().contains("too many parameters"));
}

async fn client_id_of_rp(app: &TestApp) -> String {
    app.register_client(ClientSpec::default()).await.id
}

#[tokio::test]
async fn oauth_request_bodies_are_capped_at_64_kib() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(TestApp::service_spec()).await;
    // Positive control: a long but legal body (one 60 KiB parameter) is served.
    let long = app
        .token_body(
            &client,
            format!("grant_type=client_credentials&note={}", "a".repeat(60 * 1024)),
        )
        .await;
    assert_eq!(long.status(), 200);
    for path in ["/token", "/introspect", "/revoke", "/userinfo"] {
        let response = app
            .http
            .post(format!("{}{path}", app.address))
            .basic_auth(&client.id, client.secret.as_deref())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token=x&note={}", "a".repeat(70 * 1024)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{path}");
        assert_eq!(body["error_description"], "the request body is too large");
    }
}

/// The attack that found the quadratic check: 40,000 parameters in 350 KB. Each is refused at
/// once and the server stays responsive while eight run together.
#[tokio::test]
async fn forty_thousand_parameters_do_not_stall_the_server() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(TestApp::service_spec()).await;
    let rp = app.register_client(ClientSpec::default()).await;
    let attack = padding(40_000);
    assert!(attack.len() > 340_000);
    let mut attackers = Vec::new();
    for i in 0..8 {
        let http = reqwest::Client::new();
        let address = app.address.clone();
        let (id, secret) = (client.id.clone(), client.secret.clone());
        let authorize = app.authorize_url(&rp.id, &pkce().challenge, &[]);
        let authorize_body = format!("{}&{}", authorize.split_once('?').unwrap().1, attack);
        let body = attack.clone();
        attackers.push(tokio::spawn(async move {
            let started = Instant::now();
            let request = if i % 2 == 0 {
                http.post(format!("{address}/token"))
                    .basic_auth(&id, secret.as_deref())
                    .body(body)
            } else {
                http.post(format!("{address}/authorize")).body(authorize_body)
            };
            let status = request
                .header("content-type", "application/x-www-form-urlencoded")
                .send()
                .await
                .map(|r| r.status().as_u16())
                // The server may close the connection before the whole body is sent.
                .unwrap_or(0);
            (status, started.elapsed())
        }));
    }
    let mut slowest_health = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        assert_eq!(app.get("/healthz").await.status(), 200);
        slowest_health = slowest_health.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for attacker in attackers {
        let (status, took) = attacker.await.unwrap();
        assert!([0, 400, 413].contains(&status), "refused, got {status}");
        // Loose bounds: the quadratic check took seconds per request (release build).
        assert!(took < Duration::from_secs(2), "an attack request took {took:?}");
    }
    assert!(
        slowest_health < Duration::from_secs(1),
        "/healthz took {slowest_health:?}"
    );
}

#[tokio::test]
async fn authorize_and_userinfo_are_rate_limited() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("rate_limit_authorize", "3/1m"), ("rate_limit_api", "3/1m")],
    )
    .await;
    let rp = app.register_client(ClientSpec::default()).await;
    let url = app.authorize_url(&rp.id, &pkce().challenge, &[]);
    for _ in 0..3 {
        assert_eq!(app.get_url(&url).await.status(), 303, "within the limit");
    }
    let limited = app.get_url(&url).await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    assert!(limited.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(app.get_url("/authorize/resume?request=x").await.status(), 429);

    for _ in 0..3 {
        let r = app
            .http
            .post(format!("{}/userinfo", app.address))
            .form(&[("access_token", "not-a-token")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "within the limit");
    }
    let r = app
        .http
        .post(format!("{}/userinfo", app.address))
        .form(&[("access_token", "not-a-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "too_many_requests");
}

#[tokio::test]
async fn rate_limit_refusals_are_recorded_once_per_address_and_minute() {
    let app = spawn_app_with(Backend::Sqlite, &[("rate_limit_api", "1/1m")]).await;
    let client = app.register_client(TestApp::service_spec()).await;
    let mut refused = 0;
    for _ in 0..50 {
        if app
            .token(&client, &[("grant_type", "client_credentials")])
            .await
            .status()
            == 429
        {
            refused += 1;
        }
    }
    assert_eq!(refused, 49);
    let events = |app: &TestApp| {
        let store = app.state.store.clone();
        let events = app.state.events.clone();
        async move {
            events.flush().await;
            store
                .list_events(&EventFilter {
                    kind: Some("rate_limited".into()),
                    limit: 100,
                    ..Default::default()
                })
                .await
                .unwrap()
        }
    };
    let first = events(&app).await;
    assert_eq!(first.len(), 1, "one event for the first refusal, not one per request");
    assert_eq!(first[0].detail.as_deref(), Some("/token"));
    // At the end of the period the rest are summed up in one event.
    app.state.limits.flush_refusals(app.clock.now(), &app.state.events);
    let after = events(&app).await;
    assert_eq!(after.len(), 2);
    assert_eq!(after[0].detail.as_deref(), Some("/token: 48 more refused"));
}

#[tokio::test]
async fn a_browser_keeps_at_most_sixteen_pending_sign_ins() {
    let app = spawn_app(Backend::Sqlite).await;
    let rp = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    let mut last = String::new();
    for _ in 0..30 {
        let r = app.get_url(&app.authorize_url(&rp.id, &pkce().challenge, &[])).await;
        assert_eq!(r.status(), 303);
        last = location(&r);
    }
    assert_eq!(app.count_rows("pending_authorizations").await, 16);
    // The newest request still works (positive control).
    let p = pkce();
    let r = app.get_url(&app.authorize_url(&rp.id, &p.challenge, &[])).await;
    let login = location(&r);
    assert_ne!(login, last);
    let done = app.submit_login(&login, "alice", crate::flow::PASSWORD).await;
    assert_eq!(done.status(), 303);
    assert!(location(&done).starts_with("/authorize/resume"));
}

#[tokio::test]
async fn reflected_values_are_bounded() {
    let app = spawn_app(Backend::Sqlite).await;
    let rp = app.register_client(ClientSpec::default()).await;
    let p = pkce();
    // An unknown scope as long as the cap allows comes back truncated in error_description.
    let huge_scope = format!("openid {}", "s".repeat(60_000));
    let r = app
        .get_url(&app.authorize_url(&rp.id, &p.challenge, &[("scope", Some(&huge_scope))]))
        .await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(to.len() < 1_000, "Location is {} bytes", to.len());
    let params = query(&to);
    assert_eq!(params["error"], "invalid_scope");
    assert_eq!(params["state"], "st4te");
    assert!(params["error_description"].ends_with("..."));

    // A state of 2048 characters is echoed (positive control); one longer is refused, unechoed.
    let fits = "s".repeat(2048);
    let r = app
        .get_url(&app.authorize_url(&rp.id, &p.challenge, &[("state", Some(&fits)), ("scope", Some("nope"))]))
        .await;
    assert_eq!(query(&location(&r))["state"], fits);
    let too_long = "s".repeat(2049);
    let r = app
        .get_url(&app.authorize_url(&rp.id, &p.challenge, &[("state", Some(&too_long))]))
        .await;
    assert_eq!(r.status(), 303);
    let params = query(&location(&r));
    assert_eq!(params["error"], "invalid_request");
    assert_eq!(params["error_description"], "state is longer than 2048 characters");
    assert!(!params.contains_key("state"));
}

#[tokio::test]
async fn response_mode_other_than_query_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let rp = app.register_client(ClientSpec::default()).await;
    let p = pkce();
    let ok = app
        .get_url(&app.authorize_url(&rp.id, &p.challenge, &[("response_mode", Some("query"))]))
        .await;
    assert_eq!(ok.status(), 303);
    assert!(location(&ok).starts_with("/login"), "positive control");
    for mode in ["form_post", "fragment", "web_message"] {
        let r = app
            .get_url(&app.authorize_url(&rp.id, &p.challenge, &[("response_mode", Some(mode))]))
            .await;
        assert_eq!(r.status(), 303);
        let to = location(&r);
        assert!(to.starts_with(REDIRECT), "{to}");
        let params = query(&to);
        assert_eq!(params["error"], "invalid_request", "{mode}");
        assert_eq!(params["error_description"], "only response_mode=query is supported");
    }
    let discovery = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(discovery["response_modes_supported"], serde_json::json!(["query"]));
}

#[tokio::test]
async fn a_claims_request_for_one_sub_gets_no_code_for_another_person() {
    let app = spawn_app(Backend::Sqlite).await;
    let rp = app.register_client(ClientSpec::default()).await;
    let alice = app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    // alice signs in and consents.
    app.code_for(&rp, "alice", &[]).await;
    let asking_for = |sub: &str| format!(r#"{{"id_token":{{"sub":{{"value":"{sub}"}}}}}}"#);

    // Positive control: asking for alice while alice is signed in gets a code for alice.
    let p = pkce();
    let mine = asking_for(&alice.id);
    let r = app
        .get_url(&app.authorize_url(
            &rp.id,
            &p.challenge,
            &[("prompt", Some("none")), ("claims", Some(&mine))],
        ))
        .await;
    let code = query(&location(&r)).get("code").cloned().expect("a code for alice");
    let tokens: Value = app.exchange(&rp, &code, &p.verifier).await.json().await.unwrap();
    assert_eq!(
        jwt_claims(tokens["id_token"].as_str().unwrap())["sub"],
        alice.id.as_str()
    );

    // Asking for bob with prompt=none: login_required, no code.
    let theirs = asking_for(&bob.id);
    let r = app
        .get_url(&app.authorize_url(
            &rp.id,
            &pkce().challenge,
            &[("prompt", Some("none")), ("claims", Some(&theirs))],
        ))
        .await;
    let params = query(&location(&r));
    assert_eq!(params["error"], "login_required");
    assert!(!params.contains_key("code"));

    // Without prompt=none the person must sign in; signing in as alice again ends in
    // login_required rather than a code for alice or a loop.
    let r = app
        .get_url(&app.authorize_url(&rp.id, &pkce().challenge, &[("claims", Some(&theirs))]))
        .await;
    let login = location(&r);
    assert!(login.starts_with("/login"));
    let after = app.submit_login(&login, "alice", crate::flow::PASSWORD).await;
    let resume = app.get_url(&location(&after)).await;
    let params = query(&location(&resume));
    assert_eq!(params["error"], "login_required");
    assert!(!params.contains_key("code"));

    // A claims request whose sub is not a string is malformed.
    let r = app
        .get_url(&app.authorize_url(
            &rp.id,
            &pkce().challenge,
            &[("claims", Some(r#"{"id_token":{"sub":{"value":7}}}"#))],
        ))
        .await;
    assert_eq!(query(&location(&r))["error"], "invalid_request");
}

#[tokio::test]
async fn a_loopback_redirect_to_port_zero_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let native = app
        .register_client(ClientSpec {
            client_type: ClientType::Public,
            redirect_uris: vec!["http://127.0.0.1/callback"],
            ..Default::default()
        })
        .await;
    let p = pkce();
    let ok = app
        .get_url(&app.authorize_url(
            &native.id,
            &p.challenge,
            &[("redirect_uri", Some("http://127.0.0.1:49152/callback"))],
        ))
        .await;
    assert_eq!(ok.status(), 303, "positive control: any other port");
    let zero = app
        .get_url(&app.authorize_url(
            &native.id,
            &p.challenge,
            &[("redirect_uri", Some("http://127.0.0.1:0/callback"))],
        ))
        .await;
    assert_eq!(zero.status(), 400);
    assert!(zero.headers().get("location").is_none());
    assert!(keyhaven::domain::client::RedirectUri::parse("http://127.0.0.1:0/callback").is_err());
}

/// One IPv6 host is given a whole /64 (RFC 6177) and can send from any address in it: a
/// per-address limit counts the /64 as one address, or it would be multiplied by 2^64.
#[tokio::test]
async fn rate_limits_count_an_ipv6_64_as_one_address() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("rate_limit_api", "3/1m"), ("trust_forwarded_for", "true")],
    )
    .await;
    let userinfo = |from: &'static str| {
        app.http
            .post(format!("{}/userinfo", app.address))
            .header("x-forwarded-for", from)
            .form(&[("access_token", "not-a-token")])
            .send()
    };
    for from in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"] {
        assert_eq!(userinfo(from).await.unwrap().status(), 401, "within the limit: {from}");
    }
    // A fourth address of the same /64 is the same sender.
    let limited = userinfo("2001:db8:1:2:abcd::4").await.unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.json::<Value>().await.unwrap()["error"], "too_many_requests");
    // Positive controls: the next /64 and distinct IPv4 addresses each have their own budget.
    assert_eq!(userinfo("2001:db8:1:3::1").await.unwrap().status(), 401);
    for from in ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"] {
        assert_eq!(userinfo(from).await.unwrap().status(), 401, "{from}");
    }
    // An IPv4-mapped IPv6 address is its IPv4 address.
    for _ in 0..2 {
        assert_eq!(userinfo("203.0.113.1").await.unwrap().status(), 401);
    }
    assert_eq!(userinfo("::ffff:203.0.113.1").await.unwrap().status(), 429);
}
