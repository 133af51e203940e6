//! Client ID Metadata Documents: a client id that is the URL of a JSON document the client
//! hosts. A document server on loopback (the development setting lets the fetcher reach it)
//! serves documents the tests set and counts the fetches of each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use keyhaven::domain::client::ClientOrigin;
use serde_json::{json, Value};

use crate::flow::{location, pkce, query, ClientSpec, TestClient, REDIRECT};
use crate::helpers::{spawn_app_with, stdout_json, Backend, TestApp};

/// What the document server answers at one path.
#[derive(Clone)]
enum Answer {
    Json { body: String, max_age: u64 },
    Redirect,
    Html,
    Slow,
}

#[derive(Clone, Default)]
struct Documents {
    answers: Arc<Mutex<HashMap<String, Answer>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Documents {
    fn set(&self, path: &str, answer: Answer) {
        self.answers.lock().unwrap().insert(path.to_owned(), answer);
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

struct DocumentServer {
    base: String,
    documents: Documents,
}

impl DocumentServer {
    async fn start() -> Self {
        let documents = Documents::default();
        let served = documents.clone();
        let app = Router::new().fallback(move |uri: Uri| {
            let served = served.clone();
            async move { answer(&served, uri.path()).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base: format!("http://{address}"),
            documents,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Serves at `path` a good document for its URL, with `changes` merged in.
    fn serve(&self, path: &str, changes: Value) -> String {
        let id = self.url(path);
        let mut doc = json!({
            "client_id": id,
            "client_name": "Demo Agent",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "client_uri": "https://agent.example",
        });
        if let (Some(doc), Value::Object(changes)) = (doc.as_object_mut(), changes) {
            doc.extend(changes);
        }
        self.documents.set(
            path,
            Answer::Json {
                body: doc.to_string(),
                max_age: 600,
            },
        );
        id
    }
}

async fn answer(documents: &Documents, path: &str) -> Response {
    *documents.hits.lock().unwrap().entry(path.to_owned()).or_default() += 1;
    let found = documents.answers.lock().unwrap().get(path).cloned();
    match found {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(Answer::Json { body, max_age }) => (
            [
                (header::CONTENT_TYPE, "application/json".to_owned()),
                (header::CACHE_CONTROL, format!("max-age={max_age}")),
            ],
            body,
        )
            .into_response(),
        Some(Answer::Redirect) => (StatusCode::FOUND, [(header::LOCATION, "/elsewhere")]).into_response(),
        Some(Answer::Html) => ([(header::CONTENT_TYPE, "text/html")], "<p>hello</p>").into_response(),
        Some(Answer::Slow) => {
            tokio::time::sleep(Duration::from_secs(8)).await;
            ([(header::CONTENT_TYPE, "application/json")], "{}").into_response()
        }
    }
}

const ON: &[(&str, &str)] = &[
    ("client_id_metadata_documents", "on"),
    ("dev_allow_loopback_fetch", "true"),
];

async fn app_with(settings: &[(&'static str, &str)]) -> TestApp {
    spawn_app_with(Backend::Sqlite, settings).await
}

fn public(id: &str) -> TestClient {
    TestClient {
        id: id.to_owned(),
        secret: None,
    }
}

/// `GET /authorize` for `client_id`: the first answer.
async fn start(app: &TestApp, client_id: &str) -> reqwest::Response {
    app.get_url(&app.authorize_url(client_id, &pkce().challenge, &[])).await
}

/// Asserts a refusal page: 400, no Location, these words.
async fn assert_refused(response: reqwest::Response, words: &str) {
    assert_eq!(response.status(), 400, "refused with a page");
    assert!(response.headers().get(header::LOCATION).is_none(), "never a redirect");
    let html = response.text().await.unwrap();
    assert!(html.contains(words), "the page should say `{words}`: {html}");
}

/// Asserts the flow carries on to sign-in, or to consent for a browser signed in already (the
/// client was accepted).
fn assert_accepted(response: &reqwest::Response) {
    assert_eq!(response.status(), 303, "accepted");
    let to = location(response);
    assert!(to.starts_with("/login") || to.starts_with("/consent"), "{to}");
}

#[tokio::test]
async fn a_metadata_document_client_completes_code_pkce_and_refresh_without_registration() {
    let docs = DocumentServer::start().await;
    let app = app_with(ON).await;
    app.create_user("alice").await;
    let id = docs.serve("/agent.json", json!({}));
    let client = public(&id);

    let (code, pkce) = app.code_for(&client, "alice", &[]).await;
    let tokens: Value = {
        let response = app.exchange(&client, &code, &pkce.verifier).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    };
    assert!(tokens["access_token"].is_string(), "{tokens}");
    let refresh = tokens["refresh_token"].as_str().expect("a refresh token").to_owned();
    let refreshed = app
        .token(&client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(refreshed.status(), 200);
    let refreshed: Value = refreshed.json().await.unwrap();
    assert!(refreshed["access_token"].is_string());

    // Operators see it: a client of origin metadata_document, listed by the command line.
    let stored = app.state.store.find_client(&id).await.unwrap().expect("recorded");
    assert_eq!(stored.origin, ClientOrigin::MetadataDocument);
    assert_eq!(stored.name, "Demo Agent");
    let listed = stdout_json(&app.cli(&["client", "list", "--json"]).await);
    assert!(listed.to_string().contains(&id), "{listed}");
}

#[tokio::test]
async fn deleting_a_metadata_document_client_revokes_its_grants_and_the_next_use_fetches_again() {
    let docs = DocumentServer::start().await;
    let app = app_with(ON).await;
    app.create_user("alice").await;
    let id = docs.serve("/agent.json", json!({}));
    let client = public(&id);
    let (code, pkce) = app.code_for(&client, "alice", &[]).await;
    let tokens: Value = app.exchange(&client, &code, &pkce.verifier).await.json().await.unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(docs.documents.hits("/agent.json"), 1);

    let deleted = app.cli(&["client", "delete", &id, "--json"]).await;
    assert!(deleted.status.success(), "{deleted:?}");
    // The CLI is another process: this server learns of the change from the revocation log.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(app.state.store.find_client(&id).await.unwrap().is_none());

    // The next use fetches the document again (at most once per 30 s); the grants made before
    // the deletion stay revoked.
    app.clock.advance(31);
    let after = app
        .token(&client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(after.status(), 400);
    let after: Value = after.json().await.unwrap();
    assert_eq!(after["error"], "invalid_grant", "{after}");

    // The next use records it again (a new authorization works).
    let (code, pkce) = app.code_for(&client, "alice", &[]).await;
    assert_eq!(app.exchange(&client, &code, &pkce.verifier).await.status(), 200);
    assert!(app.state.store.find_client(&id).await.unwrap().is_some());
    assert_eq!(
        docs.documents.hits("/agent.json"),
        2,
        "fetched again after the deletion"
    );
}

#[tokio::test]
async fn a_refused_document_is_a_page_in_words_and_never_a_redirect() {
    let docs = DocumentServer::start().await;
    let app = app_with(ON).await;

    // Positive control: a good document.
    let good = docs.serve("/good.json", json!({}));
    assert_accepted(&start(&app, &good).await);

    let differs = docs.url("/differs.json");
    docs.serve("/differs.json", json!({ "client_id": docs.url("/other.json") }));
    docs.documents.set("/redirect.json", Answer::Redirect);
    docs.documents.set(
        "/large.json",
        Answer::Json {
            body: format!(
                "{{\"client_id\":\"{}\",\"pad\":\"{}\"}}",
                docs.url("/large.json"),
                "a".repeat(100 * 1024)
            ),
            max_age: 600,
        },
    );
    docs.documents.set("/page.json", Answer::Html);
    docs.serve(
        "/secret.json",
        json!({ "token_endpoint_auth_method": "client_secret_basic" }),
    );
    docs.serve("/no-redirects.json", json!({ "redirect_uris": [] }));
    let cases = [
        (differs, "client_id in the document differs"),
        (docs.url("/redirect.json"), "redirected"),
        (docs.url("/large.json"), "too large"),
        (docs.url("/page.json"), "not JSON"),
        (docs.url("/secret.json"), "client_secret_basic"),
        (docs.url("/no-redirects.json"), "redirect_uris"),
        (docs.url("/missing.json"), "status 404"),
    ];
    for (id, words) in cases {
        assert_refused(start(&app, &id).await, words).await;
    }
}

#[tokio::test]
async fn a_slow_document_is_refused() {
    let docs = DocumentServer::start().await;
    let app = app_with(ON).await;
    let good = docs.serve("/good.json", json!({}));
    assert_accepted(&start(&app, &good).await);
    docs.documents.set("/slow.json", Answer::Slow);
    assert_refused(start(&app, &docs.url("/slow.json")).await, "too slow").await;
}

#[tokio::test]
async fn a_document_on_a_private_address_is_refused_without_the_development_setting() {
    let app = app_with(&[("client_id_metadata_documents", "on")]).await;
    // Positive control: an operator's client on the same server.
    let operator = app.register_client(ClientSpec::default()).await;
    assert_accepted(&start(&app, &operator.id).await);
    // A literal private address: refused before anything is sent.
    assert_refused(start(&app, "https://10.0.0.1/c").await, "private").await;
    assert_refused(start(&app, "https://[fd00::1]/client.json").await, "private").await;
}

#[tokio::test]
async fn the_token_endpoint_answers_a_refused_document_with_invalid_client() {
    let docs = DocumentServer::start().await;
    let app = app_with(ON).await;
    let good = public(&docs.serve("/good.json", json!({})));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", "not-a-code"),
        ("redirect_uri", REDIRECT),
        ("code_verifier", &"v".repeat(43)),
    ];
    // Positive control: the client is known, the code is not.
    let response = app.token(&good, &form).await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_grant");

    docs.documents.set("/page.json", Answer::Html);
    let refused = public(&docs.url("/page.json"));
    let response = app.token(&refused, &form).await;
    assert_eq!(response.status(), 401);
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_client");
}

#[tokio::test]
async fn a_cached_document_is_not_fetched_again_within_its_lifetime() {
    let docs = DocumentServer::start().await;
    let app = app_with(ON).await;
    app.create_user("alice").await;
    let id = docs.serve("/agent.json", json!({}));
    for _ in 0..3 {
        assert_accepted(&start(&app, &id).await);
    }
    assert_eq!(docs.documents.hits("/agent.json"), 1, "kept for its max-age");
    // Requests nobody signed in to approve write nothing (bounded writes from unauthenticated
    // traffic); a person's code records it.
    assert!(app.state.store.find_client(&id).await.unwrap().is_none());
    app.code_for(&public(&id), "alice", &[]).await;
    assert_eq!(docs.documents.hits("/agent.json"), 1);
    let recorded = app.state.store.find_client(&id).await.unwrap().expect("recorded");
    assert_eq!(
        recorded.updated_at, recorded.created_at,
        "an unchanged document is not written again"
    );
    // It changes; within its lifetime the copy held is used.
    docs.serve("/agent.json", json!({ "client_name": "Renamed Agent" }));
    assert_accepted(&start(&app, &id).await);
    assert_eq!(docs.documents.hits("/agent.json"), 1);
    // Positive control: past its lifetime it is fetched again, and the record follows it.
    app.clock.advance(601);
    assert_accepted(&start(&app, &id).await);
    assert_eq!(docs.documents.hits("/agent.json"), 2);
    let stored = app.state.store.find_client(&id).await.unwrap().expect("recorded");
    assert_eq!(stored.name, "Renamed Agent");
}

#[tokio::test]
async fn with_the_feature_off_a_url_is_just_an_unknown_client() {
    let docs = DocumentServer::start().await;
    let id = docs.serve("/agent.json", json!({}));
    // Positive control: on, the same id is a client.
    let on = app_with(ON).await;
    assert_accepted(&start(&on, &id).await);
    assert_eq!(docs.documents.hits("/agent.json"), 1);

    let off = app_with(&[("dev_allow_loopback_fetch", "true")]).await;
    assert_refused(start(&off, &id).await, "not registered").await;
    assert_eq!(docs.documents.hits("/agent.json"), 1, "nothing fetched");
}

#[tokio::test]
async fn the_allow_list_refuses_documents_on_other_hosts() {
    let docs = DocumentServer::start().await;
    let app = app_with(&[
        ("client_id_metadata_documents", "127.0.0.1"),
        ("dev_allow_loopback_fetch", "true"),
    ])
    .await;
    // Positive control: a host on the list.
    let listed = docs.serve("/agent.json", json!({}));
    assert_accepted(&start(&app, &listed).await);
    // Another host (the same server by another name) is refused before any fetch.
    let other = listed.replace("127.0.0.1", "localhost");
    assert_refused(start(&app, &other).await, "from the host localhost").await;
    assert_eq!(docs.documents.hits("/agent.json"), 1);
}

/// Signs in through the flow that `authorize` starts and returns the consent page's path.
async fn to_consent(app: &TestApp, authorize: &str) -> String {
    let mut response = app.get_url(authorize).await;
    for _ in 0..6 {
        assert_eq!(response.status(), 303);
        let next = location(&response).trim_start_matches(&app.address).to_owned();
        if next.starts_with("/consent") {
            return next;
        }
        assert!(next.starts_with('/'), "left for {next} before consent");
        response = if next.starts_with("/login") {
            app.submit_login(&next, "alice", crate::flow::PASSWORD).await
        } else {
            app.get_url(&next).await
        };
    }
    panic!("no consent page");
}

/// Allows at `consent` and follows the flow to the client; returns the final Location.
async fn allow(app: &TestApp, consent: &str) -> String {
    let mut response = app.submit_consent(consent, "allow").await;
    for _ in 0..4 {
        let next = location(&response);
        if next.starts_with(REDIRECT) {
            return next;
        }
        response = app.get_url(next.trim_start_matches(&app.address)).await;
    }
    panic!("the flow did not reach the client");
}

#[tokio::test]
async fn consent_for_an_unverified_client_shows_its_claim_and_hosts_and_is_asked_every_time() {
    let docs = DocumentServer::start().await;
    let app = app_with(ON).await;
    app.create_user("alice").await;
    let id = docs.serve("/agent.json", json!({ "logo_uri": "https://agent.example/logo.png" }));

    let consent = to_consent(&app, &app.authorize_url(&id, &pkce().challenge, &[])).await;
    let page = app.get_url(&consent).await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!csp.contains("https:"), "no outside images without client_logos: {csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("Unverified"), "{html}");
    assert!(html.contains("says it is <strong>Demo Agent</strong>"), "{html}");
    assert!(html.contains("go back to <strong>rp.example</strong>"), "{html}");
    assert!(
        html.contains("describes itself at <strong>127.0.0.1</strong>"),
        "{html}"
    );
    assert!(!html.contains("<img"), "no logo without client_logos");
    let done = allow(&app, &consent).await;
    assert!(query(&done).contains_key("code"), "{done}");

    // Asked again on the next authorization, though the person allowed the same scopes.
    let again = app.get_url(&app.authorize_url(&id, &pkce().challenge, &[])).await;
    assert_eq!(again.status(), 303);
    assert!(location(&again).contains("/consent"), "{}", location(&again));

    // Positive control: an operator's client allowed once gets its code straight away, and
    // its consent page looks as before.
    let operator = app.register_client(ClientSpec::default()).await;
    let consent = to_consent(&app, &app.authorize_url(&operator.id, &pkce().challenge, &[])).await;
    let html = app.get_url(&consent).await.text().await.unwrap();
    assert!(!html.contains("Unverified"), "{html}");
    assert!(html.contains("Allow Relying Party to access your account?"), "{html}");
    allow(&app, &consent).await;
    let again = app
        .get_url(&app.authorize_url(&operator.id, &pkce().challenge, &[]))
        .await;
    assert!(location(&again).starts_with(REDIRECT), "{}", location(&again));
}

#[tokio::test]
async fn a_client_logo_is_shown_only_with_client_logos_and_https_and_then_the_csp_allows_it() {
    let docs = DocumentServer::start().await;
    let app = app_with(&[
        ("client_id_metadata_documents", "on"),
        ("dev_allow_loopback_fetch", "true"),
        ("client_logos", "true"),
    ])
    .await;
    app.create_user("alice").await;
    let with_logo = docs.serve("/logo.json", json!({ "logo_uri": "https://agent.example/logo.png" }));
    let consent = to_consent(&app, &app.authorize_url(&with_logo, &pkce().challenge, &[])).await;
    let page = app.get_url(&consent).await;
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("img-src 'self' data: https:"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<img class=\"client-logo\" src=\"https:&#x2F;&#x2F;agent.example&#x2F;logo.png\""),
        "{html}"
    );

    // A plain-http logo is not shown, and the page keeps the strict policy.
    let http_logo = docs.serve(
        "/http-logo.json",
        json!({ "logo_uri": "http://agent.example/logo.png" }),
    );
    let consent = to_consent(&app, &app.authorize_url(&http_logo, &pkce().challenge, &[])).await;
    let page = app.get_url(&consent).await;
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!csp.contains("https:"), "{csp}");
    assert!(!page.text().await.unwrap().contains("<img"));
}

#[tokio::test]
async fn discovery_says_whether_metadata_documents_are_supported() {
    let on = app_with(ON).await;
    let doc = on.get_json("/.well-known/openid-configuration").await;
    assert_eq!(doc["client_id_metadata_document_supported"], true, "{doc}");
    let off = app_with(&[]).await;
    let doc = off.get_json("/.well-known/openid-configuration").await;
    assert!(
        doc.get("client_id_metadata_document_supported")
            .is_none_or(|v| v == false),
        "{doc}"
    );
}
