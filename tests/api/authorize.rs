//! The authorization endpoint: every error, prompt/max_age/id_token_hint, consent memory.

use keyhaven::domain::client::{Client, ClientType, GrantType, RedirectUri};
use keyhaven::domain::scope::ScopeSet;
use keyhaven::domain::Clock;

use crate::flow::{hidden, location, pkce, query, ClientSpec, TestClient, API, PASSWORD, REDIRECT};
use crate::helpers::{spawn_app, Backend, TestApp};

async fn app_with_client() -> (TestApp, crate::flow::TestClient) {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    (app, client)
}

/// An error shown on our page: 400, HTML, never a redirect.
async fn assert_error_page(app: &TestApp, url: &str) {
    let response = app.get_url(url).await;
    assert_eq!(response.status(), 400, "{url}");
    assert!(response.headers().get("location").is_none(), "must not redirect: {url}");
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
}

/// An error redirected to the client: 303 to the registered URI with error, state and iss.
async fn assert_error_redirect(app: &TestApp, url: &str, error: &str) {
    let response = app.get_url(url).await;
    assert_eq!(response.status(), 303, "{url}");
    let to = location(&response);
    assert!(to.starts_with(REDIRECT), "{to}");
    let params = query(&to);
    assert_eq!(params.get("error").map(String::as_str), Some(error), "{url} -> {to}");
    assert!(params.get("error_description").is_some_and(|d| d.is_ascii()));
    assert_eq!(params.get("iss"), Some(&app.address), "RFC 9207 iss");
    assert!(!params.contains_key("code"));
}

#[tokio::test]
async fn untrusted_client_or_redirect_uri_shows_a_page_and_never_redirects() {
    let (app, client) = app_with_client().await;
    let two = app
        .register_client(ClientSpec {
            redirect_uris: vec![REDIRECT, "https://rp.example/other"],
            ..Default::default()
        })
        .await;
    let challenge = pkce().challenge;
    let cases = [
        app.authorize_url("no-such-client", &challenge, &[]),
        app.authorize_url(&client.id, &challenge, &[("client_id", None)]),
        app.authorize_url(
            &client.id,
            &challenge,
            &[("redirect_uri", Some("https://evil.example/cb"))],
        ),
        app.authorize_url(
            &client.id,
            &challenge,
            &[("redirect_uri", Some("https://rp.example/cb/"))],
        ),
        app.authorize_url(
            &client.id,
            &challenge,
            &[("redirect_uri", Some("https://rp.example/cb?x=1"))],
        ),
        app.authorize_url(&two.id, &challenge, &[("redirect_uri", None)]),
        format!(
            "{}&client_id={}",
            app.authorize_url(&client.id, &challenge, &[]),
            client.id
        ),
        format!(
            "{}&redirect_uri=https%3A%2F%2Frp.example%2Fcb",
            app.authorize_url(&client.id, &challenge, &[])
        ),
    ];
    for url in cases {
        assert_error_page(&app, &url).await;
    }
}

#[tokio::test]
async fn every_other_error_is_redirected_with_state_and_iss() {
    let (app, client) = app_with_client().await;
    let c = pkce().challenge;
    let cases: Vec<(Vec<(&str, Option<&str>)>, &str)> = vec![
        (vec![("response_type", Some("token"))], "unsupported_response_type"),
        (
            vec![("response_type", Some("code id_token"))],
            "unsupported_response_type",
        ),
        (vec![("response_type", None)], "invalid_request"),
        (vec![("code_challenge", None)], "invalid_request"),
        (vec![("code_challenge_method", None)], "invalid_request"),
        (vec![("code_challenge_method", Some("plain"))], "invalid_request"),
        (vec![("code_challenge_method", Some("S512"))], "invalid_request"),
        (vec![("code_challenge", Some("too-short"))], "invalid_request"),
        (vec![("scope", Some("openid payments"))], "invalid_scope"),
        (vec![("scope", None)], "invalid_scope"),
        (vec![("prompt", Some("none login"))], "invalid_request"),
        (vec![("prompt", Some("sometimes"))], "invalid_request"),
        (vec![("max_age", Some("-5"))], "invalid_request"),
        (vec![("claims", Some("not json"))], "invalid_request"),
        (vec![("resource", Some("https://other-api.example"))], "invalid_target"),
        (vec![("id_token_hint", Some("not.a.jwt"))], "invalid_request"),
        (
            vec![("request", Some("eyJhbGciOiJub25lIn0.e30."))],
            "request_not_supported",
        ),
        (
            vec![("request_uri", Some("https://rp.example/req.jwt"))],
            "request_uri_not_supported",
        ),
        (vec![("prompt", Some("none"))], "login_required"),
    ];
    for (extra, error) in cases {
        assert_error_redirect(&app, &app.authorize_url(&client.id, &c, &extra), error).await;
    }
    // A parameter other than client_id / redirect_uri given twice.
    let twice = format!("{}&scope=openid", app.authorize_url(&client.id, &c, &[]));
    assert_error_redirect(&app, &twice, "invalid_request").await;
    // Unknown parameters are ignored; state comes back verbatim.
    let response = app
        .get_url(&app.authorize_url(&client.id, &c, &[("prompt", Some("none")), ("frobnicate", Some("1"))]))
        .await;
    assert_eq!(
        query(&location(&response)).get("state").map(String::as_str),
        Some("st4te")
    );
}

#[tokio::test]
async fn scopes_must_be_allowed_for_the_client() {
    let app = spawn_app(Backend::Sqlite).await;
    let narrow = app
        .register_client(ClientSpec {
            scopes: Some("openid email"),
            ..Default::default()
        })
        .await;
    let c = pkce().challenge;
    assert_error_redirect(
        &app,
        &app.authorize_url(&narrow.id, &c, &[("scope", Some("openid profile"))]),
        "invalid_scope",
    )
    .await;
    let no_refresh = app
        .register_client(ClientSpec {
            grants: vec![GrantType::AuthorizationCode],
            ..Default::default()
        })
        .await;
    assert_error_redirect(&app, &app.authorize_url(&no_refresh.id, &c, &[]), "invalid_scope").await;
    let service = app
        .register_client(ClientSpec {
            grants: vec![GrantType::ClientCredentials],
            ..Default::default()
        })
        .await;
    assert_error_redirect(&app, &app.authorize_url(&service.id, &c, &[]), "unauthorized_client").await;
}

#[tokio::test]
async fn denying_consent_redirects_access_denied() {
    let (app, client) = app_with_client().await;
    let response = app
        .get_url(&app.authorize_url(&client.id, &pkce().challenge, &[]))
        .await;
    let login = location(&response);
    let after_login = app.submit_login(&login, "alice", crate::flow::PASSWORD).await;
    let resume = location(&after_login);
    let consent = location(&app.get_url(&resume).await);
    assert!(consent.starts_with("/consent"), "{consent}");
    let denied = app.submit_consent(&consent, "deny").await;
    assert_eq!(denied.status(), 303);
    let params = query(&location(&denied));
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "st4te");
    assert_eq!(params["iss"], app.address);
}

#[tokio::test]
async fn prompt_none_with_a_session_and_consent_returns_a_code_without_any_page() {
    let (app, client) = app_with_client().await;
    let (first_code, first) = app.code_for(&client, "alice", &[]).await;
    let tokens: serde_json::Value = app
        .exchange(&client, &first_code, &first.verifier)
        .await
        .json()
        .await
        .unwrap();
    let first_claims = crate::token::id_token_claims(&tokens);

    // Consent is remembered and the session is live: no page at all.
    let p = pkce();
    let response = app
        .get_url(&app.authorize_url(&client.id, &p.challenge, &[("prompt", Some("none"))]))
        .await;
    assert_eq!(response.status(), 303);
    let params = query(&location(&response));
    let code = params.get("code").expect("a code without interaction");
    let tokens: serde_json::Value = app.exchange(&client, code, &p.verifier).await.json().await.unwrap();
    let claims = crate::token::id_token_claims(&tokens);
    assert_eq!(claims["sub"], first_claims["sub"]);
    assert_eq!(claims["auth_time"], first_claims["auth_time"]);

    // Scopes that grow need consent again: prompt=none says so.
    let app2_client = app.register_client(ClientSpec::default()).await;
    let response = app
        .get_url(&app.authorize_url(&app2_client.id, &p.challenge, &[("prompt", Some("none"))]))
        .await;
    assert_eq!(query(&location(&response))["error"], "consent_required");
}

#[tokio::test]
async fn prompt_login_and_an_old_session_under_max_age_sign_in_again() {
    let (app, client) = app_with_client().await;
    let (code, p) = app.code_for(&client, "alice", &[]).await;
    let tokens: serde_json::Value = app.exchange(&client, &code, &p.verifier).await.json().await.unwrap();
    let first_auth_time = crate::token::id_token_claims(&tokens)["auth_time"].as_i64().unwrap();

    for extra in [vec![("prompt", Some("login"))], vec![("max_age", Some("60"))]] {
        app.clock.advance(120);
        let p = pkce();
        let url = app.authorize_url(&client.id, &p.challenge, &extra);
        let first_hop = app.get_url(&url).await;
        assert!(
            location(&first_hop).starts_with("/login"),
            "{extra:?} shows the login page"
        );
        let done = app.authorize_as(&url, "alice").await;
        let code = query(&done)["code"].clone();
        let tokens: serde_json::Value = app.exchange(&client, &code, &p.verifier).await.json().await.unwrap();
        let auth_time = crate::token::id_token_claims(&tokens)["auth_time"].as_i64().unwrap();
        assert!(auth_time > first_auth_time, "{extra:?}: a later auth_time");
    }
    // max_age within the session's age needs no new sign-in.
    let p = pkce();
    let response = app
        .get_url(&app.authorize_url(&client.id, &p.challenge, &[("max_age", Some("3600"))]))
        .await;
    assert!(query(&location(&response)).contains_key("code"));
}

#[tokio::test]
async fn id_token_hint_is_verified_and_names_the_person() {
    let (app, client) = app_with_client().await;
    let bob = app.create_user("bob").await;
    let (code, p) = app.code_for(&client, "alice", &[]).await;
    let tokens: serde_json::Value = app.exchange(&client, &code, &p.verifier).await.json().await.unwrap();
    let hint = tokens["id_token"].as_str().unwrap().to_owned();

    let p = pkce();
    let ok = app
        .get_url(&app.authorize_url(
            &client.id,
            &p.challenge,
            &[("prompt", Some("none")), ("id_token_hint", Some(&hint))],
        ))
        .await;
    assert!(
        query(&location(&ok)).contains_key("code"),
        "a hint for the signed-in person is accepted"
    );

    // A hint that names someone else needs a sign-in.
    let bobs_hint = app
        .state
        .keys
        .sign_jwt(keyhaven::domain::SigningAlg::Rs256, "JWT", serde_json::json!({"iss": app.address, "sub": bob.id, "aud": client.id, "iat": app.clock.now(), "exp": app.clock.now() + 60}).as_object().unwrap().clone())
        .unwrap();
    let other = app
        .get_url(&app.authorize_url(
            &client.id,
            &p.challenge,
            &[("prompt", Some("none")), ("id_token_hint", Some(&bobs_hint))],
        ))
        .await;
    assert_eq!(query(&location(&other))["error"], "login_required");

    // A tampered hint is refused.
    let mut forged = hint.clone();
    forged.pop();
    forged.push(if hint.ends_with('A') { 'B' } else { 'A' });
    let bad = app
        .get_url(&app.authorize_url(&client.id, &p.challenge, &[("id_token_hint", Some(&forged))]))
        .await;
    assert_eq!(query(&location(&bad))["error"], "invalid_request");
}

#[tokio::test]
async fn id_token_hint_must_be_an_id_token_not_an_access_token() {
    let (app, client) = app_with_client().await;
    let (code, p) = app.code_for(&client, "alice", &[]).await;
    let tokens: serde_json::Value = app.exchange(&client, &code, &p.verifier).await.json().await.unwrap();
    let alice = tokens["id_token"].as_str().map(crate::token::jwt_claims).unwrap()["sub"].clone();
    // The same claims, for this client, signed by us: once as an ID token, once as an access
    // token (RFC 9068 `typ: at+jwt`).
    let hint = |typ: &str| {
        let claims = serde_json::json!({"iss": app.address, "sub": alice, "aud": client.id, "client_id": client.id, "iat": app.clock.now(), "exp": app.clock.now() + 60});
        app.state
            .keys
            .sign_jwt(
                keyhaven::domain::SigningAlg::Rs256,
                typ,
                claims.as_object().unwrap().clone(),
            )
            .unwrap()
    };
    let ask = |hint: String| {
        let p = pkce();
        app.authorize_url(
            &client.id,
            &p.challenge,
            &[("prompt", Some("none")), ("id_token_hint", Some(&hint))],
        )
    };
    // Positive control: as an ID token it names the signed-in person.
    let ok = app.get_url(&ask(hint("JWT"))).await;
    assert!(query(&location(&ok)).contains_key("code"), "{}", location(&ok));

    for refused in [
        hint("at+jwt"),
        hint("application/at+jwt"),
        tokens["access_token"].as_str().unwrap().to_owned(),
    ] {
        let response = app.get_url(&ask(refused)).await;
        assert_eq!(response.status(), 303);
        let to = location(&response);
        assert!(to.starts_with(REDIRECT), "{to}");
        let params = query(&to);
        assert_eq!(params["error"], "invalid_request", "{to}");
        assert!(params["error_description"].starts_with("id_token_hint"), "{to}");
        assert!(!params.contains_key("code"));
    }
}

/// `POST /token` for a code sent to `redirect_uri`.
async fn exchange_at(
    app: &TestApp,
    client: &TestClient,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> reqwest::Response {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ];
    app.token(client, &form).await
}

#[tokio::test]
async fn loopback_redirect_uris_may_change_port_only() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    let native = app
        .register_client(ClientSpec {
            client_type: ClientType::Public,
            redirect_uris: vec!["http://127.0.0.1/callback"],
            ..Default::default()
        })
        .await;
    // The code arrives at the port the request named, and is exchanged with that same URI.
    let changed = "http://127.0.0.1:49152/callback";
    let p = pkce();
    let url = app.authorize_url(&native.id, &p.challenge, &[("redirect_uri", Some(changed))]);
    let done = app.authorize_as(&url, "alice").await;
    assert!(done.starts_with(&format!("{changed}?")), "{done}");
    let code = query(&done)["code"].clone();
    let tokens = exchange_at(&app, &native, &code, changed, &p.verifier).await;
    assert_eq!(tokens.status(), 200);
    // The port's freedom ends at the authorization request: the token request repeats its URI.
    let (code, p) = app.code_for(&native, "alice", &[("redirect_uri", Some(changed))]).await;
    let registered = exchange_at(&app, &native, &code, "http://127.0.0.1/callback", &p.verifier).await;
    assert_eq!(registered.status(), 400);
    let body: serde_json::Value = registered.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");

    let c = pkce().challenge;
    assert_error_page(
        &app,
        &app.authorize_url(
            &native.id,
            &c,
            &[("redirect_uri", Some("http://127.0.0.1:49152/other"))],
        ),
    )
    .await;
    assert_error_page(
        &app,
        &app.authorize_url(
            &native.id,
            &c,
            &[("redirect_uri", Some("http://localhost:49152/callback"))],
        ),
    )
    .await;
}

#[tokio::test]
async fn first_party_clients_skip_consent() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    let own = app
        .register_client(ClientSpec {
            first_party: true,
            ..Default::default()
        })
        .await;
    let p = pkce();
    let login = location(&app.get_url(&app.authorize_url(&own.id, &p.challenge, &[])).await);
    let resume = location(&app.submit_login(&login, "alice", crate::flow::PASSWORD).await);
    let done = location(&app.get_url(&resume).await);
    assert!(
        done.starts_with(REDIRECT) && query(&done).contains_key("code"),
        "{done}"
    );
}

#[tokio::test]
async fn post_authorize_works_like_get() {
    let (app, client) = app_with_client().await;
    let url = app.authorize_url(&client.id, &pkce().challenge, &[("prompt", Some("none"))]);
    let body = url.split_once('?').unwrap().1.to_owned();
    let response = app
        .http
        .post(format!("{}/authorize", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(query(&location(&response))["error"], "login_required");
}

/// `client_credentials` for `client` with one `resource`: (status, body).
async fn client_credentials_for(app: &TestApp, client: &TestClient, resource: &str) -> (u16, serde_json::Value) {
    let response = app
        .token(client, &[("grant_type", "client_credentials"), ("resource", resource)])
        .await;
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn resource_is_resolved_the_same_for_every_grant() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    // Registered audiences, so that only their form can refuse them (RFC 8707 §2).
    const FRAGMENT: &str = "https://api.example/v2#part";
    const NOT_A_URI: &str = "api.example";
    let client = app
        .register_client(ClientSpec {
            grants: vec![
                GrantType::AuthorizationCode,
                GrantType::RefreshToken,
                GrantType::ClientCredentials,
            ],
            audiences: vec![API, FRAGMENT, NOT_A_URI],
            ..Default::default()
        })
        .await;

    // Positive control: an allowed resource works at both.
    let (code, p) = app.code_for(&client, "alice", &[("resource", Some(API))]).await;
    let tokens: serde_json::Value = app.exchange(&client, &code, &p.verifier).await.json().await.unwrap();
    let aud = crate::token::jwt_claims(tokens["access_token"].as_str().unwrap())["aud"].clone();
    assert!(aud.as_array().unwrap().contains(&API.into()), "{aud}");
    let (status, body) = client_credentials_for(&app, &client, API).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        crate::token::jwt_claims(body["access_token"].as_str().unwrap())["aud"],
        API
    );

    // Malformed (though registered) or not registered: invalid_target at both.
    for resource in [FRAGMENT, NOT_A_URI, "https://nope.example"] {
        let url = app.authorize_url(&client.id, &pkce().challenge, &[("resource", Some(resource))]);
        assert_error_redirect(&app, &url, "invalid_target").await;
        let (status, body) = client_credentials_for(&app, &client, resource).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_target")),
            "{resource}: {body}"
        );
    }
    // The one resource that is not a URI: the admin API's own audience.
    assert_eq!(
        keyhaven::protocol::resource::ADMIN_AUDIENCE,
        keyhaven::http::admin::AUDIENCE
    );
}

/// What becomes of a request kept for sign-in when its client changes meanwhile.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Resumed {
    /// It goes on (to consent).
    GoesOn,
    /// The error, at the client's redirect URI.
    Redirected(&'static str),
    /// A page: the redirect URI (or the client) can no longer be trusted.
    Page,
}

#[tokio::test]
async fn a_kept_request_is_checked_again_when_it_resumes() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    let elsewhere = || vec![RedirectUri::parse("https://rp.example/elsewhere").unwrap()];
    let cases: Vec<(&str, Box<dyn Fn(&mut Client)>, Resumed)> = vec![
        // Positive control: the same steps with the client left alone.
        ("unchanged", Box::new(|_| {}), Resumed::GoesOn),
        (
            "redirect URI removed",
            Box::new(move |c| c.redirect_uris = elsewhere()),
            Resumed::Page,
        ),
        (
            "scopes narrowed",
            Box::new(|c| c.scopes = Some(ScopeSet::parse("openid").unwrap())),
            Resumed::Redirected("invalid_scope"),
        ),
        (
            "refresh grant removed (offline_access asked)",
            Box::new(|c| c.grant_types = vec![GrantType::AuthorizationCode]),
            Resumed::Redirected("invalid_scope"),
        ),
        (
            "code grant removed",
            Box::new(|c| c.grant_types = vec![GrantType::RefreshToken]),
            Resumed::Redirected("unauthorized_client"),
        ),
        (
            "audience removed",
            Box::new(|c| c.audiences = vec!["https://other-api.example".into()]),
            Resumed::Redirected("invalid_target"),
        ),
    ];
    for (change, apply, expected) in cases {
        let client = app.register_client(ClientSpec::default()).await;
        // prompt=login: every round signs in, so the request is kept and resumed.
        let url = app.authorize_url(&client.id, &pkce().challenge, &[("prompt", Some("login"))]);
        let login = location(&app.get_url(&url).await);
        assert!(login.starts_with("/login?request="), "{change}: {login}");
        let mut registered = app.state.store.find_client(&client.id).await.unwrap().unwrap();
        apply(&mut registered);
        assert!(app.state.store.update_client(&registered).await.unwrap());
        announce_change(&app, &client.id).await;
        let resume = location(&app.submit_login(&login, "alice", PASSWORD).await);
        assert!(resume.starts_with("/authorize/resume?"), "{change}: {resume}");
        let answer = app.get_url(&resume).await;
        assert_eq!(resumed(answer).await, expected, "{change}");
    }

    // A deleted client: a page.
    let client = app.register_client(ClientSpec::default()).await;
    let url = app.authorize_url(&client.id, &pkce().challenge, &[("prompt", Some("login"))]);
    let login = location(&app.get_url(&url).await);
    assert!(app.state.store.delete_client(&client.id).await.unwrap());
    announce_change(&app, &client.id).await;
    let resume = location(&app.submit_login(&login, "alice", PASSWORD).await);
    assert_eq!(resumed(app.get_url(&resume).await).await, Resumed::Page);

    // At consent too: a denial is not sent to a redirect URI removed meanwhile.
    for (remove, expected) in [(false, Resumed::Redirected("access_denied")), (true, Resumed::Page)] {
        let client = app.register_client(ClientSpec::default()).await;
        let url = app.authorize_url(&client.id, &pkce().challenge, &[]);
        let consent = location(&app.get_url(&url).await);
        assert!(consent.starts_with("/consent?request="), "{consent}");
        let html = app.get_url(&consent).await.text().await.unwrap();
        if remove {
            let mut registered = app.state.store.find_client(&client.id).await.unwrap().unwrap();
            registered.redirect_uris = elsewhere();
            assert!(app.state.store.update_client(&registered).await.unwrap());
            announce_change(&app, &client.id).await;
        }
        let form = [
            ("csrf_token", hidden(&html, "csrf_token").unwrap()),
            ("request", hidden(&html, "request").unwrap()),
            ("decision", "deny".to_owned()),
        ];
        let denied = app
            .http
            .post(format!("{}/consent", app.address))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(resumed(denied).await, expected, "redirect URI removed: {remove}");
    }
}

async fn resumed(answer: reqwest::Response) -> Resumed {
    match answer.status().as_u16() {
        303 => {
            let to = location(&answer);
            if to.starts_with("/consent") {
                return Resumed::GoesOn;
            }
            assert!(to.starts_with(REDIRECT), "{to}");
            let params = query(&to);
            assert!(!params.contains_key("code"), "{to}");
            match params.get("error").map(String::as_str) {
                Some("invalid_scope") => Resumed::Redirected("invalid_scope"),
                Some("unauthorized_client") => Resumed::Redirected("unauthorized_client"),
                Some("invalid_target") => Resumed::Redirected("invalid_target"),
                Some("access_denied") => Resumed::Redirected("access_denied"),
                other => panic!("unexpected error {other:?} in {to}"),
            }
        }
        400 => {
            assert!(answer.headers().get("location").is_none());
            Resumed::Page
        }
        status => panic!("unexpected status {status}"),
    }
}

/// A change written straight to the store, then announced the way the clients service announces
/// an operator's change: the flows read clients from memory, so the cache reloads it.
async fn announce_change(app: &TestApp, id: &str) {
    let now = app.state.clock.now();
    app.state.client_cache.reload(&*app.state.store, &id.into(), now).await;
}
