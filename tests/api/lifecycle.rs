//! Token lifecycle: refresh rotation and reuse detection, introspection, revocation,
//! client credentials, logout, and revocation across instances.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use keyhaven::domain::client::{ClientType, GrantType, Permission};
use keyhaven::domain::event::EventFilter;
use keyhaven::domain::{Clock, SigningAlg};
use serde_json::{json, Value};

use crate::flow::{location, query, ClientSpec, TestClient, API};
use crate::helpers::{spawn_app, spawn_app_with, spawn_second_instance, Backend, TestApp};
use crate::token::jwt_claims;

const OTHER_API: &str = "https://other-api.example";

impl TestApp {
    pub async fn refresh(&self, client: &TestClient, refresh_token: &str, scope: Option<&str>) -> reqwest::Response {
        let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.token(client, &form).await
    }

    /// A resource server allowed to introspect tokens for `audience`.
    pub async fn resource_server(&self, audience: &'static str) -> TestClient {
        self.register_client(ClientSpec {
            redirect_uris: vec![],
            grants: vec![GrantType::ClientCredentials],
            audiences: vec![audience],
            permissions: vec![Permission::Introspect],
            ..Default::default()
        })
        .await
    }

    pub async fn introspect(&self, caller: &TestClient, token: &str) -> Value {
        let response = self
            .http
            .post(format!("{}/introspect", self.address))
            .basic_auth(&caller.id, caller.secret.as_deref())
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        response.json().await.unwrap()
    }

    pub async fn revoke(&self, client: &TestClient, token: &str, hint: Option<&str>) -> reqwest::Response {
        let mut form = vec![("token", token)];
        if let Some(hint) = hint {
            form.push(("token_type_hint", hint));
        }
        self.http
            .post(format!("{}/revoke", self.address))
            .basic_auth(&client.id, client.secret.as_deref())
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Signs in as alice and returns the token response.
    pub async fn tokens_for(&self, client: &TestClient, username: &str) -> Value {
        let (code, p) = self.code_for(client, username, &[]).await;
        let response = self.exchange(client, &code, &p.verifier).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }
}

fn text(v: &Value, name: &str) -> String {
    v[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {v}"))
        .to_owned()
}

async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, text(&body, "error"))
}

async fn setup(extra: &[(&'static str, &str)]) -> (TestApp, TestClient, TestClient) {
    let app = spawn_app_with(Backend::Sqlite, extra).await;
    let client = app.register_client(ClientSpec::default()).await;
    let rs = app.resource_server(API).await;
    app.create_user("alice").await;
    (app, client, rs)
}

#[tokio::test]
async fn a_rotation_chain_kills_each_used_token_and_keeps_the_absolute_lifetime() {
    let (app, client, _) = setup(&[("refresh_idle_ttl", "1d"), ("refresh_absolute_ttl", "3d")]).await;
    let first = app.tokens_for(&client, "alice").await;
    let mut chain = vec![text(&first, "refresh_token")];
    for _ in 0..5 {
        app.clock.advance(12 * 3600);
        let response = app.refresh(&client, chain.last().unwrap(), None).await;
        assert_eq!(response.status(), 200);
        let tokens: Value = response.json().await.unwrap();
        let id = jwt_claims(&text(&tokens, "id_token"));
        let original = jwt_claims(&text(&first, "id_token"));
        assert_eq!(
            (id["sub"].clone(), id["auth_time"].clone(), id["sid"].clone()),
            (
                original["sub"].clone(),
                original["auth_time"].clone(),
                original["sid"].clone()
            )
        );
        assert!(id.get("nonce").is_none(), "no nonce on refresh");
        for used in &chain {
            assert_eq!(
                app.introspect(&client, used).await,
                json!({"active": false}),
                "a used refresh token is dead"
            );
        }
        chain.push(text(&tokens, "refresh_token"));
        let live = app.introspect(&client, chain.last().unwrap()).await;
        assert_eq!(
            (live["active"].clone(), live["token_type"].clone()),
            (json!(true), json!("refresh_token"))
        );
    }
    // 60 h have passed; the idle lifetime (1 d) slid with each rotation but the absolute (3 d)
    // does not: 13 h more is past it although the last token is only 13 h old.
    app.clock.advance(13 * 3600);
    assert_eq!(
        error_of(app.refresh(&client, chain.last().unwrap(), None).await).await,
        (400, "invalid_grant".into())
    );
}

#[tokio::test]
async fn an_idle_refresh_token_expires() {
    let (app, client, _) = setup(&[("refresh_idle_ttl", "1h")]).await;
    let tokens = app.tokens_for(&client, "alice").await;
    // Positive control: inside the idle hour a refresh works, and starts a new hour.
    app.clock.advance(3000);
    let refreshed = app.refresh(&client, &text(&tokens, "refresh_token"), None).await;
    assert_eq!(refreshed.status(), 200);
    let next = text(&refreshed.json().await.unwrap(), "refresh_token");
    // Past that hour (though well within the family's 30 days), the same request fails.
    app.clock.advance(3601);
    let expired = app.refresh(&client, &next, None).await;
    assert_eq!(expired.status(), 400);
    let body: Value = expired.json().await.unwrap();
    assert_eq!(
        (text(&body, "error"), text(&body, "error_description")),
        ("invalid_grant".into(), "the refresh token has expired".into())
    );
}

#[tokio::test]
async fn a_refresh_may_narrow_the_scope_but_never_widen_it() {
    let (app, client, _) = setup(&[]).await;
    let tokens = app.tokens_for(&client, "alice").await;
    let narrowed: Value = app
        .refresh(&client, &text(&tokens, "refresh_token"), Some("openid email"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(narrowed["scope"], "email openid");
    assert_eq!(jwt_claims(&text(&narrowed, "access_token"))["scope"], "email openid");
    let wider = app
        .refresh(&client, &text(&narrowed, "refresh_token"), Some("openid email phone"))
        .await;
    assert_eq!(error_of(wider).await, (400, "invalid_scope".into()));
    // The refresh token keeps the scope of the grant: a later refresh may ask for all of it.
    let next: Value = app
        .refresh(&client, &text(&narrowed, "refresh_token"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["scope"], "email offline_access openid profile");
}

#[tokio::test]
async fn reuse_of_a_rotated_token_revokes_the_family_and_is_recorded() {
    let (app, client, rs) = setup(&[]).await;
    let t1: Value = app.tokens_for(&client, "alice").await;
    let t2: Value = app
        .refresh(&client, &text(&t1, "refresh_token"), None)
        .await
        .json()
        .await
        .unwrap();
    let t3: Value = app
        .refresh(&client, &text(&t2, "refresh_token"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(app.introspect(&rs, &text(&t3, "access_token")).await["active"], true);

    assert_eq!(
        error_of(app.refresh(&client, &text(&t2, "refresh_token"), None).await).await,
        (400, "invalid_grant".into())
    );
    assert_eq!(
        app.introspect(&client, &text(&t3, "refresh_token")).await,
        json!({"active": false})
    );
    for tokens in [&t1, &t2, &t3] {
        assert_eq!(
            app.introspect(&rs, &text(tokens, "access_token")).await,
            json!({"active": false})
        );
    }
    assert_eq!(
        error_of(app.refresh(&client, &text(&t3, "refresh_token"), None).await).await,
        (400, "invalid_grant".into())
    );
    app.state.events.flush().await;
    let events = app
        .state
        .store
        .list_events(&EventFilter {
            kind: Some("refresh_token_reuse".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].client_id.as_deref(), Some(client.id.as_str()));
}

#[tokio::test]
async fn within_the_grace_time_a_quick_retry_fails_without_revoking_the_family() {
    let (app, client, rs) = setup(&[("refresh_reuse_grace", "10s")]).await;
    let t1: Value = app.tokens_for(&client, "alice").await;
    let t2: Value = app
        .refresh(&client, &text(&t1, "refresh_token"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        error_of(app.refresh(&client, &text(&t1, "refresh_token"), None).await).await,
        (400, "invalid_grant".into())
    );
    assert_eq!(
        app.introspect(&rs, &text(&t2, "access_token")).await["active"],
        true,
        "the family lives"
    );
    let t3 = app.refresh(&client, &text(&t2, "refresh_token"), None).await;
    assert_eq!(t3.status(), 200);
    // Past the grace time, the same retry is theft.
    app.clock.advance(11);
    assert_eq!(
        error_of(app.refresh(&client, &text(&t1, "refresh_token"), None).await).await,
        (400, "invalid_grant".into())
    );
    assert_eq!(
        app.introspect(&rs, &text(&t2, "access_token")).await,
        json!({"active": false})
    );
}

#[tokio::test]
async fn a_refresh_token_of_another_client_is_refused_without_revoking_it() {
    let (app, client, _) = setup(&[]).await;
    let other = app.register_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(&client, "alice").await;
    assert_eq!(
        error_of(app.refresh(&other, &text(&tokens, "refresh_token"), None).await).await,
        (400, "invalid_grant".into())
    );
    assert_eq!(
        app.refresh(&client, &text(&tokens, "refresh_token"), None)
            .await
            .status(),
        200
    );
}

async fn concurrent_refreshes(app: &TestApp, others: &[&TestApp], client: &TestClient, token: &str, n: usize) -> usize {
    let mut tasks = Vec::new();
    for i in 0..n {
        let target = if i % 2 == 0 || others.is_empty() {
            app
        } else {
            others[0]
        };
        let url = format!("{}/token", target.address);
        let http = reqwest::Client::new();
        let (id, secret, token) = (client.id.clone(), client.secret.clone(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .basic_auth(id, secret)
                .form(&[("grant_type", "refresh_token"), ("refresh_token", token.as_str())])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut ok = 0;
    for task in tasks {
        let status = task.await.unwrap();
        assert!(status == 200 || status == 400, "unexpected status {status}");
        ok += usize::from(status == 200);
    }
    ok
}

#[tokio::test]
async fn fifty_concurrent_refreshes_have_exactly_one_winner() {
    let (app, client, _) = setup(&[]).await;
    let tokens = app.tokens_for(&client, "alice").await;
    assert_eq!(
        concurrent_refreshes(&app, &[], &client, &text(&tokens, "refresh_token"), 50).await,
        1
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set KEYHAVEN_TEST_POSTGRES_URL"]
async fn fifty_concurrent_refreshes_have_exactly_one_winner_on_postgres() {
    let app = spawn_app(Backend::Postgres).await;
    let client = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    let tokens = app.tokens_for(&client, "alice").await;
    assert_eq!(
        concurrent_refreshes(&app, &[], &client, &text(&tokens, "refresh_token"), 50).await,
        1
    );
}

/// A JWT with the given header and claims and a junk signature.
fn forge(header: Value, claims: &Value, signature: &str) -> String {
    let enc = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.{signature}", enc(&header), enc(claims))
}

#[tokio::test]
async fn introspection_says_inactive_for_every_kind_of_bad_token() {
    let (app, client, rs) = setup(&[]).await;
    let tokens = app.tokens_for(&client, "alice").await;
    let at = text(&tokens, "access_token");
    let active = app.introspect(&rs, &at).await;
    assert_eq!(active["active"], true);
    for name in [
        "iss",
        "sub",
        "aud",
        "client_id",
        "scope",
        "exp",
        "iat",
        "nbf",
        "jti",
        "sid",
    ] {
        assert!(active.get(name).is_some(), "introspection lacks {name}: {active}");
    }
    assert_eq!(active["token_type"], "Bearer");
    assert_eq!(active["username"], "alice");

    let claims = jwt_claims(&at);
    let kid = app.state.keys.active_kid(SigningAlg::Rs256).unwrap();
    let sign = |claims: Value| {
        app.state
            .keys
            .sign_jwt(SigningAlg::Rs256, "at+jwt", claims.as_object().unwrap().clone())
            .unwrap()
    };
    let now = app.clock.now();

    let mut flipped = at.clone().into_bytes();
    let last = flipped.len() - 5;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let alg_none = forge(json!({"alg": "none", "typ": "at+jwt", "kid": kid}), &claims, "");
    let jwks = app.get_json("/jwks").await;
    let public = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == json!(kid))
        .unwrap()
        .to_string();
    let hs256 = {
        let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": kid});
        let signer = josekit::jws::HS256.signer_from_bytes(public.as_bytes()).unwrap();
        let payload = josekit::jwt::JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
        let mut h = josekit::jws::JwsHeader::new();
        h.set_token_type("at+jwt");
        h.set_key_id(&kid);
        let _ = header;
        josekit::jwt::encode_with_signer(&payload, &h, &signer).unwrap()
    };
    let unknown_kid = {
        let (h, rest) = at.split_once('.').unwrap();
        let mut header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap();
        header["kid"] = json!("no-such-key");
        format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()))
    };
    let mut foreign = claims.clone();
    foreign["iss"] = json!("https://evil.example");
    let mut expired = claims.clone();
    expired["exp"] = json!(now - 1);
    let mut future = claims.clone();
    future["nbf"] = json!(now + 300);
    let mut wrong_typ_header_token = claims.clone();
    wrong_typ_header_token["jti"] = json!("other");
    let id_token = text(&tokens, "id_token");

    let cases = [
        ("flipped signature", flipped),
        ("alg none", alg_none),
        ("HS256 keyed with the public key", hs256),
        ("unknown kid", unknown_kid),
        ("foreign issuer", sign(foreign)),
        ("expired", sign(expired)),
        ("nbf in the future", sign(future)),
        ("an ID token", id_token),
        ("malformed", "not-a-token".to_owned()),
        ("empty-ish", "a.b.c".to_owned()),
    ];
    for (what, token) in cases {
        assert_eq!(app.introspect(&rs, &token).await, json!({"active": false}), "{what}");
    }
}

#[tokio::test]
async fn introspection_needs_an_authenticated_client_with_the_permission_and_keeps_to_its_audience() {
    let (app, client, rs) = setup(&[]).await;
    let tokens = app.tokens_for(&client, "alice").await;
    let at = text(&tokens, "access_token");
    let url = format!("{}/introspect", app.address);

    let anonymous = app
        .http
        .post(&url)
        .form(&[("token", at.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    assert_eq!(anonymous.json::<Value>().await.unwrap()["error"], "invalid_client");
    let wrong = app
        .http
        .post(&url)
        .basic_auth(&rs.id, Some("khs_nope"))
        .form(&[("token", at.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let no_permission = app
        .register_client(ClientSpec {
            grants: vec![GrantType::ClientCredentials],
            redirect_uris: vec![],
            permissions: vec![],
            ..Default::default()
        })
        .await;
    let refused = app
        .http
        .post(&url)
        .basic_auth(&no_permission.id, no_permission.secret.as_deref())
        .form(&[("token", at.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"], "unauthorized_client");

    // A third-party resource server sees only tokens for its own audience, unless allowed more.
    let other_rs = app.resource_server(OTHER_API).await;
    assert_eq!(app.introspect(&other_rs, &at).await, json!({"active": false}));
    let broad = app
        .register_client(ClientSpec {
            redirect_uris: vec![],
            grants: vec![GrantType::ClientCredentials],
            audiences: vec![OTHER_API],
            permissions: vec![Permission::Introspect],
            introspect_any_audience: true,
            ..Default::default()
        })
        .await;
    assert_eq!(app.introspect(&broad, &at).await["active"], true);

    // Refresh tokens: active for the client that holds them, inactive for anyone else.
    let owner = app
        .register_client(ClientSpec {
            permissions: vec![Permission::Introspect],
            ..Default::default()
        })
        .await;
    let own_tokens = app.tokens_for(&owner, "alice").await;
    let rt = text(&own_tokens, "refresh_token");
    let answer = app.introspect(&owner, &rt).await;
    assert_eq!(
        (answer["active"].clone(), answer["token_type"].clone()),
        (json!(true), json!("refresh_token"))
    );
    assert_eq!(app.introspect(&rs, &rt).await, json!({"active": false}));
    let missing = app
        .http
        .post(&url)
        .basic_auth(&rs.id, rs.secret.as_deref())
        .form(&[("token_type_hint", "access_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(missing).await, (400, "invalid_request".into()));
}

#[tokio::test]
async fn revocation_ends_access_and_refresh_tokens() {
    let (app, client, rs) = setup(&[]).await;
    let tokens = app.tokens_for(&client, "alice").await;
    let at = text(&tokens, "access_token");

    assert_eq!(app.revoke(&client, &at, Some("access_token")).await.status(), 200);
    assert_eq!(app.introspect(&rs, &at).await, json!({"active": false}));
    let userinfo = app
        .http
        .get(format!("{}/userinfo", app.address))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 401);
    // The refresh token of the same grant still works: only that access token was revoked.
    let next: Value = app
        .refresh(&client, &text(&tokens, "refresh_token"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(app.introspect(&rs, &text(&next, "access_token")).await["active"], true);

    assert_eq!(
        app.revoke(&client, &text(&next, "refresh_token"), Some("refresh_token"))
            .await
            .status(),
        200
    );
    assert_eq!(
        error_of(app.refresh(&client, &text(&next, "refresh_token"), None).await).await,
        (400, "invalid_grant".into())
    );
    assert_eq!(
        app.introspect(&rs, &text(&next, "access_token")).await,
        json!({"active": false}),
        "the family's access tokens die too"
    );

    assert_eq!(app.revoke(&client, "khr_no-such-token", None).await.status(), 200);
    assert_eq!(app.revoke(&client, "garbage", None).await.status(), 200);
    let (status, error) = error_of(app.revoke(&client, &at, Some("id_token")).await).await;
    assert_eq!((status, error.as_str()), (400, "unsupported_token_type"));

    // Another client's token: 200, and nothing changes.
    let fresh = app.tokens_for(&client, "alice").await;
    let other = app.register_client(ClientSpec::default()).await;
    assert_eq!(
        app.revoke(&other, &text(&fresh, "access_token"), None).await.status(),
        200
    );
    assert_eq!(
        app.revoke(&other, &text(&fresh, "refresh_token"), None).await.status(),
        200
    );
    assert_eq!(app.introspect(&rs, &text(&fresh, "access_token")).await["active"], true);
    assert_eq!(
        app.refresh(&client, &text(&fresh, "refresh_token"), None)
            .await
            .status(),
        200
    );
    let unauthenticated = app
        .http
        .post(format!("{}/revoke", app.address))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
}

#[tokio::test]
async fn client_credentials_are_audience_restricted() {
    let app = spawn_app(Backend::Sqlite).await;
    let service = app
        .register_client(ClientSpec {
            redirect_uris: vec![],
            grants: vec![GrantType::ClientCredentials],
            audiences: vec![API, OTHER_API],
            ..Default::default()
        })
        .await;
    let grant = |resources: Vec<&'static str>| {
        let mut form = vec![("grant_type", "client_credentials")];
        for r in resources {
            form.push(("resource", r));
        }
        form
    };
    let default: Value = app.token(&service, &grant(vec![])).await.json().await.unwrap();
    let claims = jwt_claims(&text(&default, "access_token"));
    assert_eq!(claims["aud"], API);
    assert_eq!(claims["sub"], service.id);
    assert!(default.get("refresh_token").is_none() && default.get("id_token").is_none());
    let both: Value = app
        .token(&service, &grant(vec![API, OTHER_API]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(jwt_claims(&text(&both, "access_token"))["aud"], json!([API, OTHER_API]));
    assert_eq!(
        error_of(app.token(&service, &grant(vec!["https://nope.example"])).await).await,
        (400, "invalid_target".into())
    );

    let no_default = app
        .register_client(ClientSpec {
            redirect_uris: vec![],
            grants: vec![GrantType::ClientCredentials],
            audiences: vec![],
            ..Default::default()
        })
        .await;
    assert_eq!(
        error_of(app.token(&no_default, &grant(vec![])).await).await,
        (400, "invalid_request".into())
    );
    let public = app
        .register_client(ClientSpec {
            client_type: ClientType::Public,
            ..Default::default()
        })
        .await;
    assert_eq!(
        error_of(app.token(&public, &grant(vec![])).await).await,
        (400, "unauthorized_client".into())
    );
    let code_only = app.register_client(ClientSpec::default()).await;
    assert_eq!(
        error_of(app.token(&code_only, &grant(vec![])).await).await,
        (400, "unauthorized_client".into())
    );

    let rs = app.resource_server(API).await;
    let answer = app.introspect(&rs, &text(&default, "access_token")).await;
    assert_eq!(
        (answer["active"].clone(), answer["sub"].clone()),
        (json!(true), json!(service.id))
    );
}

#[tokio::test]
async fn client_credentials_grant_only_registered_scopes_and_none_without() {
    let app = spawn_app(Backend::Sqlite).await;
    let ask = |scope: Option<&'static str>| {
        let mut form = vec![("grant_type", "client_credentials"), ("resource", "keyhaven-admin")];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        form
    };
    // Positive control: a service registered with scopes gets what it asks for among them,
    // all of them when it asks for none, and nothing beyond.
    let scoped = app
        .register_client(ClientSpec {
            redirect_uris: vec![],
            grants: vec![GrantType::ClientCredentials],
            audiences: vec!["keyhaven-admin"],
            scopes: Some("keyhaven:admin read"),
            ..Default::default()
        })
        .await;
    let granted: Value = app
        .token(&scoped, &ask(Some("keyhaven:admin")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(granted["scope"], "keyhaven:admin", "{granted}");
    assert_eq!(jwt_claims(&text(&granted, "access_token"))["scope"], "keyhaven:admin");
    let all: Value = app.token(&scoped, &ask(None)).await.json().await.unwrap();
    assert_eq!(all["scope"], "keyhaven:admin read", "{all}");
    assert_eq!(
        error_of(app.token(&scoped, &ask(Some("keyhaven:admin root"))).await).await,
        (400, "invalid_scope".into())
    );

    // A service registered without scopes may ask for none, and gets a token with none.
    let unscoped = app
        .register_client(ClientSpec {
            redirect_uris: vec![],
            grants: vec![GrantType::ClientCredentials],
            audiences: vec!["keyhaven-admin"],
            scopes: None,
            ..Default::default()
        })
        .await;
    for asked in ["keyhaven:admin root write:all", "keyhaven:admin", "openid"] {
        assert_eq!(
            error_of(app.token(&unscoped, &ask(Some(asked))).await).await,
            (400, "invalid_scope".into()),
            "{asked}"
        );
    }
    let bare: Value = app.token(&unscoped, &ask(None)).await.json().await.unwrap();
    assert_eq!(bare["scope"], "", "{bare}");
    assert_eq!(jwt_claims(&text(&bare, "access_token"))["scope"], "");
    let admin = app
        .http
        .get(format!("{}/admin/v1/clients", app.address))
        .bearer_auth(text(&bare, "access_token"))
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), 403, "no admin scope, no admin API");
}

#[tokio::test]
async fn public_clients_never_reach_introspection() {
    let (app, client, rs) = setup(&[]).await;
    let tokens = app.tokens_for(&client, "alice").await;
    let access_token = text(&tokens, "access_token");
    // Positive control: an authenticated resource server introspects the token.
    assert_eq!(app.introspect(&rs, &access_token).await["active"], json!(true));

    // A public client with the introspect permission, as a row written before the rule (the
    // CLI and the admin API refuse to make one now), naming itself with its client_id only.
    let public = keyhaven::domain::client::ClientRegistration {
        name: "native app".into(),
        client_type: ClientType::Public,
        redirect_uris: vec![keyhaven::domain::client::RedirectUri::parse("http://127.0.0.1/cb").unwrap()],
        grant_types: vec![GrantType::AuthorizationCode],
        scopes: None,
        audiences: vec![API.into()],
        first_party: false,
        id_token_alg: SigningAlg::Rs256,
        post_logout_redirect_uris: vec![],
        permissions: vec![Permission::Introspect],
        introspect_any_audience: false,
        auth_method: keyhaven::domain::client::AuthMethod::None,
        ..keyhaven::domain::client::ClientRegistration::new("")
    }
    .into_client("public-introspector".into(), None, 0);
    app.state.store.insert_client(&public).await.unwrap();
    let response = app
        .http
        .post(format!("{}/introspect", app.address))
        .form(&[("client_id", "public-introspector"), ("token", access_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client", "{body}");
    assert!(body.get("active").is_none(), "{body}");
}

/// A second browser (its own cookie jar) signed in as `username` with tokens for `client`.
async fn second_browser(app: &TestApp, client: &TestClient, username: &str) -> (TestApp, Value) {
    let other = TestApp {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap(),
        ..app.shallow_clone()
    };
    let tokens = other.tokens_for(client, username).await;
    (other, tokens)
}

#[tokio::test]
async fn logout_ends_the_session_and_its_tokens_but_not_other_sessions() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app
        .register_client(ClientSpec {
            post_logout_redirect_uris: vec!["https://rp.example/bye"],
            ..Default::default()
        })
        .await;
    let rs = app.resource_server(API).await;
    app.create_user("alice").await;
    let here = app.tokens_for(&client, "alice").await;
    let (_other_browser, there) = second_browser(&app, &client, "alice").await;

    let mut url = url::Url::parse(&format!("{}/logout", app.address)).unwrap();
    url.query_pairs_mut()
        .append_pair("id_token_hint", &text(&here, "id_token"))
        .append_pair("post_logout_redirect_uri", "https://rp.example/bye")
        .append_pair("state", "s1");
    let response = app.get_url(url.as_str()).await;
    assert_eq!(
        response.status(),
        303,
        "the hint names this session: no confirmation page"
    );
    let to = location(&response);
    assert!(to.starts_with("https://rp.example/bye"));
    assert_eq!(query(&to)["state"], "s1");
    let cleared = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    assert_eq!(
        app.introspect(&rs, &text(&here, "access_token")).await,
        json!({"active": false})
    );
    assert_eq!(
        error_of(app.refresh(&client, &text(&here, "refresh_token"), None).await).await,
        (400, "invalid_grant".into())
    );
    let userinfo = app
        .http
        .get(format!("{}/userinfo", app.address))
        .bearer_auth(text(&here, "access_token"))
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 401);
    // The other browser's session lives on.
    assert_eq!(app.introspect(&rs, &text(&there, "access_token")).await["active"], true);
    assert_eq!(
        app.refresh(&client, &text(&there, "refresh_token"), None)
            .await
            .status(),
        200
    );
    // And this browser must sign in again.
    let p = crate::flow::pkce();
    let again = app
        .get_url(&app.authorize_url(&client.id, &p.challenge, &[("prompt", Some("none"))]))
        .await;
    assert_eq!(query(&location(&again))["error"], "login_required");
}

#[tokio::test]
async fn logout_without_a_hint_asks_first_and_refuses_unregistered_redirects() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app
        .register_client(ClientSpec {
            post_logout_redirect_uris: vec!["https://rp.example/bye"],
            ..Default::default()
        })
        .await;
    let rs = app.resource_server(API).await;
    app.create_user("alice").await;
    let tokens = app.tokens_for(&client, "alice").await;

    let mut bad = url::Url::parse(&format!("{}/logout", app.address)).unwrap();
    bad.query_pairs_mut()
        .append_pair("client_id", &client.id)
        .append_pair("post_logout_redirect_uri", "https://evil.example/");
    let refused = app.get_url(bad.as_str()).await;
    assert_eq!(refused.status(), 400);
    assert!(
        refused.headers().get("location").is_none(),
        "never redirects to an unregistered URI"
    );

    let page = app.get_url("/logout").await;
    assert_eq!(page.status(), 200, "a confirmation page");
    let html = page.text().await.unwrap();
    assert_eq!(
        app.introspect(&rs, &text(&tokens, "access_token")).await["active"],
        true,
        "nothing ended yet"
    );
    let no_csrf = app
        .http
        .post(format!("{}/logout", app.address))
        .form(&[("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 403);
    let csrf = crate::flow::hidden(&html, "csrf_token").unwrap();
    let done = app
        .http
        .post(format!("{}/logout", app.address))
        .form(&[("confirm", "yes"), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303, "Post/Redirect/Get");
    assert_eq!(crate::flow::location(&done), "/login");
    assert!(app.get_url("/login").await.text().await.unwrap().contains("signed out"));
    assert_eq!(
        app.introspect(&rs, &text(&tokens, "access_token")).await,
        json!({"active": false})
    );
}

#[tokio::test]
async fn an_access_token_is_not_a_logout_hint() {
    let (app, client, rs) = setup(&[]).await;
    let tokens = app.tokens_for(&client, "alice").await;
    let access_token = text(&tokens, "access_token");
    let logout = |hint: &str, client_id: Option<&str>| {
        let mut url = url::Url::parse(&format!("{}/logout", app.address)).unwrap();
        url.query_pairs_mut().append_pair("id_token_hint", hint);
        if let Some(id) = client_id {
            url.query_pairs_mut().append_pair("client_id", id);
        }
        url.to_string()
    };

    // A resource server holding the person's access token (it carries their sid) cannot sign
    // them out with it, naming the client or not.
    for client_id in [None, Some(client.id.as_str())] {
        let response = app.get_url(&logout(&access_token, client_id)).await;
        assert_eq!(response.status(), 400, "{client_id:?}");
        assert!(response.headers().get("location").is_none());
        assert!(response.headers().get("set-cookie").is_none());
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("sign-out request we cannot verify"));
        assert_eq!(
            app.introspect(&rs, &access_token).await["active"],
            true,
            "still signed in"
        );
    }

    // Positive control: the ID token of the same sign-in does.
    let response = app.get_url(&logout(&text(&tokens, "id_token"), Some(&client.id))).await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("signed out"));
    assert_eq!(app.introspect(&rs, &access_token).await, json!({"active": false}));
}

#[tokio::test]
async fn a_logout_hint_signed_by_a_retired_key_is_accepted() {
    let app = spawn_app_with(Backend::Sqlite, &[("key_rotation_lead", "0")]).await;
    let client = app
        .register_client(ClientSpec {
            post_logout_redirect_uris: vec!["https://rp.example/bye"],
            ..Default::default()
        })
        .await;
    app.create_user("alice").await;
    let tokens = app.tokens_for(&client, "alice").await;
    app.state.keys.rotate().await.unwrap();
    let mut url = url::Url::parse(&format!("{}/logout", app.address)).unwrap();
    url.query_pairs_mut()
        .append_pair("id_token_hint", &text(&tokens, "id_token"))
        .append_pair("post_logout_redirect_uri", "https://rp.example/bye");
    let response = app.get_url(url.as_str()).await;
    assert_eq!(response.status(), 303);
}

async fn assert_inactive_within(app: &TestApp, rs: &TestClient, token: &str, seconds: u64) -> std::time::Duration {
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(seconds) {
        if app.introspect(rs, token).await == json!({"active": false}) {
            return started.elapsed();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the revocation was not seen within {seconds} s");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set KEYHAVEN_TEST_POSTGRES_URL"]
async fn two_instances_share_revocations_and_refresh_races() {
    let a = spawn_app(Backend::Postgres).await;
    let b = spawn_second_instance(&a).await;
    let client = a.register_client(ClientSpec::default()).await;
    let rs = a.resource_server(API).await;
    a.create_user("alice").await;
    let tokens = a.tokens_for(&client, "alice").await;
    let at = text(&tokens, "access_token");
    assert_eq!(
        b.introspect(&rs, &at).await["active"],
        true,
        "B verifies A's token with the shared keys"
    );

    assert_eq!(a.revoke(&client, &at, None).await.status(), 200);
    // The stated bound is 2 s (log read every second); allow scheduling slack on a busy machine.
    let seen_after = assert_inactive_within(&b, &rs, &at, 3).await;
    eprintln!("revocation through A seen at B after {seen_after:?}");

    let race = a.tokens_for(&client, "alice").await;
    assert_eq!(
        concurrent_refreshes(&a, &[&b], &client, &text(&race, "refresh_token"), 20).await,
        1
    );
}
