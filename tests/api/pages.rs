//! Hosted pages: CSRF, headers, the session cookie, sign-in answers.

use crate::flow::{hidden, location, pkce, ClientSpec, PASSWORD};
use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp};

fn assert_page_headers(response: &reqwest::Response, what: &str) {
    let h = response.headers();
    let csp = h
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"))
        .to_str()
        .unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(
        !csp.contains("unsafe-inline") && csp.contains("default-src 'none'"),
        "{what}: {csp}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
    assert_eq!(h["cache-control"], "no-store", "{what}");
}

fn set_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned())
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

#[tokio::test]
async fn every_page_sends_the_security_headers() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    let p = pkce();
    let authorize = app.get_url(&app.authorize_url(&client.id, &p.challenge, &[])).await;
    assert_page_headers(&authorize, "authorize redirect");
    let login_url = location(&authorize);
    let login = app.get_url(&login_url).await;
    assert_page_headers(&login, "login page");
    let error_page = app.get_url(&app.authorize_url("nobody", &p.challenge, &[])).await;
    assert_page_headers(&error_page, "error page");
    let failed = app.submit_login(&login_url, "alice", "wrong password").await;
    assert_page_headers(&failed, "failed login");
    let resume = location(&app.submit_login(&login_url, "alice", PASSWORD).await);
    let consent_url = location(&app.get_url(&resume).await);
    let consent = app.get_url(&consent_url).await;
    assert_page_headers(&consent, "consent page");
    let forbidden = app
        .http
        .post(format!("{}/login", app.address))
        .form(&[("login", "alice")])
        .send()
        .await
        .unwrap();
    assert_page_headers(&forbidden, "403 page");
    let css = app.get_url("/static/keyhaven.css").await;
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
}

#[tokio::test]
async fn every_response_of_an_https_issuer_sends_hsts() {
    let client = |app: &TestApp| {
        let form = [("grant_type", "client_credentials"), ("client_id", "nobody")];
        app.http.post(format!("{}/token", app.address)).form(&form)
    };
    let hsts_of = |response: &reqwest::Response| {
        response
            .headers()
            .get("strict-transport-security")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let https = spawn_app_with(Backend::Sqlite, &[("issuer", "https://id.example.test")]).await;
    let http = spawn_app(Backend::Sqlite).await;
    for (app, expected) in [
        (&https, Some("max-age=63072000; includeSubDomains".to_owned())),
        (&http, None),
    ] {
        for path in [
            "/jwks",
            "/.well-known/openid-configuration",
            "/healthz",
            "/login",
            "/no/such/page",
        ] {
            let response = app.get_url(path).await;
            assert_eq!(hsts_of(&response), expected, "{path} -> {}", response.status());
        }
        let refused = client(app).send().await.unwrap();
        assert_eq!(refused.status(), 401);
        assert_eq!(hsts_of(&refused), expected, "an error");
    }
}

#[tokio::test]
async fn the_session_cookie_has_every_attribute_and_changes_at_login() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    let client = app.register_client(ClientSpec::default()).await;
    // The authorization request anchors itself to a cookie (the sign-in page alone sets none).
    let authorize = app
        .get_url(&app.authorize_url(&client.id, &pkce().challenge, &[]))
        .await;
    let before = set_cookie(&authorize).expect("a cookie on first visit");
    for attribute in ["Path=/", "HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(before.contains(attribute), "{attribute} missing: {before}");
    }
    assert!(before.starts_with("__Host-keyhaven="), "{before}");
    assert!(!before.to_ascii_lowercase().contains("domain="), "{before}");
    let response = app.submit_login(&location(&authorize), "alice", PASSWORD).await;
    assert_eq!(response.status(), 303);
    let after = set_cookie(&response).expect("a new cookie at sign-in");
    assert_ne!(
        cookie_value(&before),
        cookie_value(&after),
        "the session id changes at login"
    );
    assert!(after.starts_with("__Host-keyhaven=") && after.contains("Secure") && after.contains("HttpOnly"));

    // The old value is worth nothing: a browser presenting it is not signed in.
    let stale = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = app.authorize_url(&client.id, &pkce().challenge, &[("prompt", Some("none"))]);
    let response = stale
        .get(&url)
        .header("cookie", format!("__Host-keyhaven={}", cookie_value(&before)))
        .send()
        .await
        .unwrap();
    assert_eq!(crate::flow::query(&location(&response))["error"], "login_required");
}

#[tokio::test]
async fn dev_insecure_cookies_drop_secure_and_the_prefix() {
    let app = spawn_app_with(Backend::Sqlite, &[("dev_insecure_cookies", "true")]).await;
    app.create_user("alice").await;
    let cookie = set_cookie(&app.submit_login("/login", "alice", PASSWORD).await).unwrap();
    assert!(
        cookie.starts_with("keyhaven=") && !cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

async fn sessions_in_store(app: &TestApp) -> i64 {
    let url = &app.settings.iter().find(|(k, _)| *k == "database_url").unwrap().1;
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(url)
        .await
        .unwrap();
    sqlx::query_scalar("SELECT count(*) FROM browser_sessions")
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_login_post_without_the_right_csrf_token_is_403_and_does_nothing() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    let page = app.get_url("/login").await;
    let real = hidden(&page.text().await.unwrap(), "csrf_token").unwrap();
    for token in [None, Some("wrong"), Some(&real[..real.len() - 1])] {
        let mut form = vec![("login", "alice"), ("password", PASSWORD)];
        if let Some(t) = token {
            form.push(("csrf_token", t));
        }
        let response = app
            .http
            .post(format!("{}/login", app.address))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{token:?}");
    }
    assert_eq!(sessions_in_store(&app).await, 0, "no session was created");
    // A token from another browser does not work either.
    let other = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let response = other
        .post(format!("{}/login", app.address))
        .form(&[
            ("csrf_token", real.as_str()),
            ("login", "alice"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(sessions_in_store(&app).await, 0);
}

#[tokio::test]
async fn a_consent_post_without_the_csrf_token_is_403() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    let login = location(
        &app.get_url(&app.authorize_url(&client.id, &pkce().challenge, &[]))
            .await,
    );
    let resume = location(&app.submit_login(&login, "alice", PASSWORD).await);
    let consent_url = location(&app.get_url(&resume).await);
    let html = app.get_url(&consent_url).await.text().await.unwrap();
    let request = hidden(&html, "request").unwrap();
    let response = app
        .http
        .post(format!("{}/consent", app.address))
        .form(&[("request", request.as_str()), ("decision", "allow")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let alice = app.state.store.find_user_by_login("alice").await.unwrap().unwrap();
    assert!(
        app.state
            .store
            .find_consent(&alice.id, &client.id)
            .await
            .unwrap()
            .is_none(),
        "no consent was stored"
    );
}

#[tokio::test]
async fn wrong_username_and_wrong_password_get_the_same_answer() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    let wrong_password = app.submit_login("/login", "alice", "not the password").await;
    let wrong_user = app.submit_login("/login", "mallory", PASSWORD).await;
    let disabled = {
        let bob = app.create_user("bob").await;
        app.state.store.set_user_disabled(&bob.id, true, 0).await.unwrap();
        app.submit_login("/login", "bob", PASSWORD).await
    };
    let mut bodies = Vec::new();
    for response in [wrong_password, wrong_user, disabled] {
        assert_eq!(response.status(), 401);
        let html = response.text().await.unwrap();
        assert!(html.contains("Wrong username or password."));
        // The pages differ only in their CSRF token value.
        let token = hidden(&html, "csrf_token").unwrap();
        bodies.push(
            html.replace(&token, "TOKEN")
                .replace("value=\"mallory\"", "")
                .replace("value=\"alice\"", "")
                .replace("value=\"bob\"", ""),
        );
    }
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[1], bodies[2]);
}

#[tokio::test]
async fn the_login_hint_prefills_the_form() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    let url = app.authorize_url(
        &client.id,
        &pkce().challenge,
        &[("login_hint", Some("alice@example.com"))],
    );
    let login = location(&app.get_url(&url).await);
    let html = app.get_url(&login).await.text().await.unwrap();
    assert!(html.contains("value=\"alice@example.com\""), "{html}");
    assert!(
        html.contains("<label for=\"login\">") && html.contains("<label for=\"password\">"),
        "labelled inputs"
    );
}

#[tokio::test]
async fn templates_can_be_overridden_from_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("error.html"),
        "{% extends \"base.html\" %}{% block content %}<h1>Custom: {{ title }}</h1>{% endblock content %}",
    )
    .unwrap();
    let app = spawn_app_with(Backend::Sqlite, &[("templates_dir", dir.path().to_str().unwrap())]).await;
    let html = app.get_url("/authorize?client_id=nobody").await.text().await.unwrap();
    assert!(
        html.contains("<h1>Custom: This request cannot be completed</h1>"),
        "{html}"
    );
    // Templates not overridden keep the built-in version.
    assert!(app
        .get_url("/login")
        .await
        .text()
        .await
        .unwrap()
        .contains("Username or email"));
}
