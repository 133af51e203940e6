//! Timeouts and caps that keep one slow or hostile client, or a stalled database, from holding
//! the server: header, body, idle and request timeouts, the connection cap, and the 503 with
//! `Retry-After` that a store past its timeouts earns. Raw sockets where reqwest would be too
//! polite to misbehave.
//!
//! The time bounds here are loose: they show that what used to hang for ever (or for the old
//! 10 s pool timeout) now ends, not how fast.

use std::time::{Duration, Instant};

use keyhaven::domain::client::GrantType;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Connection;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::flow::{ClientSpec, TestClient, PASSWORD};
use crate::helpers::{captured_logs, spawn_app_with, Backend, TestApp};

fn host(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(host(app)).await.expect("connect")
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";

/// Reads until the server closes the connection (end of stream or reset) or `limit` passes;
/// returns what was read and whether it closed.
async fn read_until_closed(stream: &mut (impl AsyncRead + Unpin), limit: Duration) -> (String, bool) {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let mut buf = [0u8; 4096];
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&seen).into_owned(), false),
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&seen).into_owned(), true),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// Reads one response (head and a `content-length` body) from a kept-alive connection.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let read = async {
        loop {
            let text = String::from_utf8_lossy(&seen).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length: usize = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if seen.len() >= end + 4 + length {
                    return text;
                }
            }
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "the server closed the connection; read so far: {text}");
            seen.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("a response within 10 s")
}

async fn healthz_on(stream: &mut TcpStream) -> String {
    stream.write_all(HEALTHZ).await.expect("write");
    read_response(stream).await
}

#[tokio::test]
async fn slowloris_headers_are_cut_off_at_the_header_timeout() {
    let app = spawn_app_with(Backend::Sqlite, &[("http_header_timeout", "1")]).await;
    let (mut reader, mut writer) = connect(&app).await.into_split();
    writer
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();
    let started = Instant::now();
    // One more header byte every 300 ms, for ten seconds at most.
    let trickle = tokio::spawn(async move {
        for _ in 0..33 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if writer.write_all(b"x").await.is_err() {
                break;
            }
        }
    });
    // Positive control: meanwhile the same request sent at once is answered.
    let mut other = connect(&app).await;
    assert!(healthz_on(&mut other).await.starts_with("HTTP/1.1 200"));
    let (_, closed) = read_until_closed(&mut reader, Duration::from_secs(10)).await;
    let elapsed = started.elapsed();
    trickle.abort();
    assert!(closed, "the trickling connection was still open after 10 s");
    assert!(
        elapsed < Duration::from_secs(5),
        "closed after {elapsed:?}; header timeout 1 s"
    );
    // And a client that comes after is served as usual.
    assert!(healthz_on(&mut connect(&app).await).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn idle_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let app = spawn_app_with(Backend::Sqlite, &[("http_idle_timeout", "1")]).await;
    let mut stream = connect(&app).await;
    // Positive control: used more often than the idle timeout, the connection keeps serving
    // (three requests 400 ms apart span longer than the timeout).
    for _ in 0..3 {
        assert!(healthz_on(&mut stream).await.starts_with("HTTP/1.1 200"));
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let idle_since = Instant::now();
    let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    let elapsed = idle_since.elapsed();
    assert!(closed, "the idle connection was still open after 10 s");
    assert!(
        elapsed < Duration::from_secs(5),
        "closed after {elapsed:?}; idle timeout 1 s"
    );
}

#[tokio::test]
async fn trickled_body_is_cut_off_at_the_body_timeout() {
    let app = spawn_app_with(Backend::Sqlite, &[("http_body_timeout", "1")]).await;
    let body = "grant_type=client_credentials&client_id=nobody&scope=openid";
    let head = format!(
        "POST /token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    // Positive control: sent at once, the request reaches the token endpoint.
    let mut prompt = connect(&app).await;
    prompt.write_all(format!("{head}{body}").as_bytes()).await.unwrap();
    let answer = read_response(&mut prompt).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("invalid_client"), "{answer}");

    let (mut reader, mut writer) = connect(&app).await.into_split();
    writer.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    // One body byte every 200 ms: the whole body would take twelve seconds.
    let body_bytes = body.as_bytes().to_vec();
    let trickle = tokio::spawn(async move {
        for byte in body_bytes {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if writer.write_all(&[byte]).await.is_err() {
                break;
            }
        }
    });
    let (answer, closed) = read_until_closed(&mut reader, Duration::from_secs(15)).await;
    let elapsed = started.elapsed();
    trickle.abort();
    assert!(closed, "the trickling connection was still open after 15 s: {answer}");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    assert!(
        elapsed < Duration::from_secs(5),
        "cut off after {elapsed:?}; body timeout 1 s"
    );
}

#[tokio::test]
async fn connections_beyond_the_cap_are_refused_and_the_others_kept() {
    let app = spawn_app_with(Backend::Sqlite, &[("max_connections", "4")]).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = connect(&app).await;
        assert!(healthz_on(&mut stream).await.starts_with("HTTP/1.1 200"));
        held.push(stream);
    }
    let mut fifth = connect(&app).await;
    let (answer, closed) = read_until_closed(&mut fifth, Duration::from_secs(5)).await;
    assert!(closed, "the fifth connection was left open: {answer}");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("retry-after:"), "{answer}");
    assert!(answer.contains("temporarily_unavailable"), "{answer}");
    // The four are not harmed.
    for stream in &mut held {
        assert!(healthz_on(stream).await.starts_with("HTTP/1.1 200"));
    }
    // Once one closes, a new connection is served (the server notices the close shortly).
    drop(held.pop());
    let mut served = false;
    for _ in 0..50 {
        let mut stream = connect(&app).await;
        stream.write_all(HEALTHZ).await.unwrap();
        let (answer, _) = read_until_closed(&mut stream, Duration::from_millis(500)).await;
        if answer.starts_with("HTTP/1.1 200") {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served, "no connection was served after one of the four closed");
    assert!(captured_logs().contains("connection cap reached"));
}

fn sqlite_url(app: &TestApp) -> String {
    app.settings
        .iter()
        .find(|(k, _)| *k == "database_url")
        .unwrap()
        .1
        .clone()
}

/// Another connection holding SQLite's write lock until it rolls back.
async fn hold_sqlite_write_lock(app: &TestApp) -> sqlx::SqliteConnection {
    let mut conn = sqlx::SqliteConnection::connect(&sqlite_url(app)).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await.unwrap();
    conn
}

async fn assert_temporarily_unavailable_json(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let retry_after = response
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse::<u64>()
        .expect("Retry-After in seconds");
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    assert!(body["error_description"].is_string(), "{body}");
}

async fn assert_temporarily_unavailable_page(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().get("location").is_none());
    assert!(response.headers().get("retry-after").is_some());
    let html = response.text().await.unwrap();
    assert!(
        html.to_lowercase().contains("temporarily unavailable"),
        "the page does not say so in words: {html}"
    );
}

#[tokio::test]
async fn a_request_past_the_request_timeout_gets_503_with_retry_after() {
    // The store would wait 20 s for the lock: the request timeout ends it first.
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("request_timeout", "2"), ("database_statement_timeout", "20")],
    )
    .await;
    let client = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    let (code, pkce) = app.code_for(&client, "alice", &[]).await;
    let other = second_browser(&app);
    let login_page = format!("{}/login", app.address);

    let mut lock = hold_sqlite_write_lock(&app).await;
    let started = Instant::now();
    let response = app.exchange(&client, &code, &pkce.verifier).await;
    let elapsed = started.elapsed();
    assert_temporarily_unavailable_json(response).await;
    assert!(
        elapsed < Duration::from_secs(8),
        "answered after {elapsed:?}; request timeout 2 s (the bound leaves room for a busy machine)"
    );
    // A hosted page says it in words, with the pages' headers.
    let signed_in = other.submit_login(&login_page, "alice", PASSWORD).await;
    assert!(signed_in.headers().get("content-security-policy").is_some());
    assert_eq!(signed_in.headers()["cache-control"], "no-store");
    assert_temporarily_unavailable_page(signed_in).await;
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();

    // Positive controls: the same requests, once the lock is gone, succeed.
    let response = app.exchange(&client, &code, &pkce.verifier).await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    assert!(tokens["access_token"].is_string());
    let signed_in = other.submit_login(&login_page, "alice", PASSWORD).await;
    assert_eq!(signed_in.status(), 303);
}

/// The same server seen from another browser (its own cookies).
fn second_browser(app: &TestApp) -> TestApp {
    let mut other = app.shallow_clone();
    other.http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    other
}

#[tokio::test]
async fn a_locked_sqlite_store_answers_503_not_500() {
    let app = spawn_app_with(Backend::Sqlite, &[("database_statement_timeout", "1")]).await;
    let client = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    let (code, pkce) = app.code_for(&client, "alice", &[]).await;
    // A second browser, to sign in on a page while the store is locked.
    let other = second_browser(&app);
    let login_page = format!("{}/login", app.address);

    let mut lock = hold_sqlite_write_lock(&app).await;
    let started = Instant::now();
    let response = app.exchange(&client, &code, &pkce.verifier).await;
    let elapsed = started.elapsed();
    assert_temporarily_unavailable_json(response).await;
    assert!(
        elapsed < Duration::from_secs(8),
        "answered after {elapsed:?}; busy timeout 1 s, retried for at most 2 s (the bound leaves room for a busy machine)"
    );
    // Signing in writes: the page says in words that the service is unavailable.
    let signed_in = other.submit_login(&login_page, "alice", PASSWORD).await;
    assert_temporarily_unavailable_page(signed_in).await;
    // What does not write is unaffected.
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/jwks").await.status(), 200);
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();

    // Positive controls: the same requests once the lock is gone.
    let response = app.exchange(&client, &code, &pkce.verifier).await;
    assert_eq!(response.status(), 200);
    let signed_in = other.submit_login(&login_page, "alice", PASSWORD).await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(crate::flow::location(&signed_in), "/account");
}

/// A client for `client_credentials` and a person's access token for `/userinfo`.
async fn service_and_userinfo_token(app: &TestApp) -> (TestClient, TestClient, String) {
    let service = app
        .register_client(ClientSpec {
            redirect_uris: vec![],
            grants: vec![GrantType::ClientCredentials],
            ..Default::default()
        })
        .await;
    let web = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    let (code, pkce) = app.code_for(&web, "alice", &[]).await;
    let tokens: Value = app.exchange(&web, &code, &pkce.verifier).await.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    (service, web, access)
}

async fn client_credentials(app: &TestApp, service: &TestClient) -> reqwest::Response {
    app.token(service, &[("grant_type", "client_credentials")]).await
}

/// Introspection of an opaque token: a refresh-token lookup in the store.
async fn introspect_opaque(app: &TestApp, caller: &TestClient) -> reqwest::Response {
    app.http
        .post(format!("{}/introspect", app.address))
        .basic_auth(&caller.id, caller.secret.as_deref())
        .form(&[("token", "khr_no-such-refresh-token")])
        .send()
        .await
        .unwrap()
}

async fn userinfo(app: &TestApp, token: &str) -> reqwest::Response {
    app.http
        .get(format!("{}/userinfo", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set KEYHAVEN_TEST_POSTGRES_URL"]
async fn stalled_postgres_answers_503_within_the_statement_timeout_without_spreading() {
    let app = spawn_app_with(
        Backend::Postgres,
        &[("database_statement_timeout", "2"), ("database_acquire_timeout", "2")],
    )
    .await;
    let (service, web, access) = service_and_userinfo_token(&app).await;
    let pkce = crate::flow::pkce();
    let authorize = app.authorize_url(&web.id, &pkce.challenge, &[]);
    assert_eq!(client_credentials(&app, &service).await.status(), 200);
    assert_eq!(userinfo(&app, &access).await.status(), 200);
    assert_eq!(introspect_opaque(&app, &web).await.status(), 200);
    // Another connection holds the tables that introspecting a refresh token and the
    // authorization page read (the browser's session; the client itself comes from memory).
    let pg_url = app.pg.as_ref().unwrap().url.clone();
    let mut lock = sqlx::PgConnection::connect(&pg_url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut lock).await.unwrap();
    sqlx::query("LOCK TABLE refresh_tokens, clients, browser_sessions IN ACCESS EXCLUSIVE MODE")
        .execute(&mut lock)
        .await
        .unwrap();

    let started = Instant::now();
    let response = tokio::time::timeout(Duration::from_secs(20), introspect_opaque(&app, &web))
        .await
        .expect("the introspection endpoint hung on the locked table for 20 s");
    let elapsed = started.elapsed();
    assert_temporarily_unavailable_json(response).await;
    assert!(
        elapsed < Duration::from_secs(5),
        "answered after {elapsed:?}; statement timeout 2 s"
    );

    // Client authentication reads no table (clients are held in memory): a service still gets
    // its token.
    assert_eq!(client_credentials(&app, &service).await.status(), 200);

    // What does not read the locked tables answers at once.
    for path in ["/healthz", "/jwks"] {
        let started = Instant::now();
        assert_eq!(app.get(path).await.status(), 200, "{path}");
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_secs(1), "{path} took {elapsed:?}");
    }

    // Forty stalled introspections at once, more than the pool's sixteen connections: the
    // userinfo endpoint (other tables) waits at most the acquire and statement timeouts.
    let stalled: Vec<_> = (0..40)
        .map(|_| {
            let app = app.shallow_clone();
            let web = TestClient {
                id: web.id.clone(),
                secret: web.secret.clone(),
            };
            tokio::spawn(async move { introspect_opaque(&app, &web).await.status() })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let status = userinfo(&app, &access).await.status();
    let elapsed = started.elapsed();
    assert!(
        status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE,
        "userinfo answered {status}"
    );
    assert!(elapsed < Duration::from_secs(7), "userinfo took {elapsed:?}");
    for request in stalled {
        assert_eq!(request.await.unwrap(), StatusCode::SERVICE_UNAVAILABLE);
    }

    // A hosted page reading the table says so in words.
    assert_temporarily_unavailable_page(app.get_url(&authorize).await).await;

    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    // Positive controls: the same requests once the lock is released.
    assert_eq!(introspect_opaque(&app, &web).await.status(), 200);
    assert_eq!(client_credentials(&app, &service).await.status(), 200);
    assert_eq!(userinfo(&app, &access).await.status(), 200);
    assert_eq!(app.get_url(&authorize).await.status(), 303);
}
