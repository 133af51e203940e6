//! The admin API: every operation, its auth, its validation, its events, its OpenAPI document.

use keyhaven::domain::client::GrantType;
use keyhaven::domain::event::EventFilter;
use serde_json::{json, Value};

use crate::flow::{ClientSpec, TestClient, PASSWORD};
use crate::helpers::{spawn_app_with, Backend, TestApp};

pub struct Admin {
    pub app: TestApp,
    pub token: String,
    pub client: TestClient,
}

impl Admin {
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .app
            .http
            .request(method, format!("{}/admin/v1{path}", self.app.address))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
}

pub async fn admin_app() -> Admin {
    admin_app_with(&[]).await
}

/// An app with these settings, and an admin client with its token.
pub async fn admin_app_with(settings: &[(&'static str, &str)]) -> Admin {
    let app = spawn_app_with(Backend::Sqlite, settings).await;
    let client = app
        .register_client(ClientSpec {
            redirect_uris: vec![],
            grants: vec![GrantType::ClientCredentials],
            audiences: vec!["keyhaven-admin"],
            scopes: Some("keyhaven:admin"),
            ..Default::default()
        })
        .await;
    let tokens: Value = app
        .token(
            &client,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "keyhaven:admin"),
                ("resource", "keyhaven-admin"),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    let token = tokens["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{tokens}"))
        .to_owned();
    Admin { app, token, client }
}

/// A client_credentials token of a new service client, for `audience` with `scope`, and
/// whether the admin API lets it list clients (status).
async fn admin_status_with(admin: &Admin, audience: &'static str, scope: &'static str) -> u16 {
    let app = &admin.app;
    let service = app
        .register_client(ClientSpec {
            redirect_uris: vec![],
            grants: vec![GrantType::ClientCredentials],
            audiences: vec![audience],
            scopes: Some(scope),
            ..Default::default()
        })
        .await;
    let tokens: Value = app
        .token(
            &service,
            &[
                ("grant_type", "client_credentials"),
                ("scope", scope),
                ("resource", audience),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    let token = tokens["access_token"].as_str().unwrap_or_else(|| panic!("{tokens}"));
    let response = app
        .http
        .get(format!("{}/admin/v1/clients", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    if status == 403 {
        assert_eq!(response.json::<Value>().await.unwrap()["error"], "insufficient_scope");
    }
    status
}

#[tokio::test]
async fn an_admin_scoped_token_for_another_audience_is_forbidden() {
    let admin = admin_app().await;
    assert_eq!(
        admin_status_with(&admin, "https://api.example", "keyhaven:admin").await,
        403
    );
    // Positive control: the same kind of client, right in both, is let in.
    assert_eq!(admin_status_with(&admin, "keyhaven-admin", "keyhaven:admin").await, 200);
}

#[tokio::test]
async fn an_admin_audience_token_without_the_admin_scope_is_forbidden() {
    let admin = admin_app().await;
    assert_eq!(admin_status_with(&admin, "keyhaven-admin", "reports:read").await, 403);
    // Positive control: the same kind of client, right in both, is let in.
    assert_eq!(admin_status_with(&admin, "keyhaven-admin", "keyhaven:admin").await, 200);
}

#[tokio::test]
async fn the_admin_api_needs_an_admin_token() {
    let admin = admin_app().await;
    let app = &admin.app;
    let none = app
        .http
        .get(format!("{}/admin/v1/clients", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let garbage = app
        .http
        .get(format!("{}/admin/v1/clients", app.address))
        .bearer_auth("not.a.token")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 401);

    // The admin client's token is let in, with the scheme written in any case (RFC 9110 §11.1).
    assert_eq!(admin.get("/clients").await.0, 200);
    let lowercase = app
        .http
        .get(format!("{}/admin/v1/clients", app.address))
        .header("authorization", format!("bearer {}", admin.token))
        .send()
        .await
        .unwrap();
    assert_eq!(lowercase.status(), 200);

    // A revoked admin token stops working.
    assert_eq!(admin.get("/clients").await.0, 200);
    app.revoke(&admin.client, &admin.token, None).await;
    assert_eq!(admin.get("/clients").await.0, 401);
}

#[tokio::test]
async fn clients_can_be_listed_created_read_updated_rotated_and_deleted() {
    let admin = admin_app().await;
    let (status, created) = admin
        .post("/clients", json!({ "name": "Shop", "redirect_uris": ["https://shop.example/cb"], "scopes": ["openid", "email"], "audiences": ["https://api.shop.example"] }))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("khs_"));

    for (body, field) in [
        (json!({ "redirect_uris": ["https://x.example/cb"] }), "name"),
        (
            json!({ "name": "X", "redirect_uris": ["http://evil.example/cb"] }),
            "redirect_uris",
        ),
        (
            json!({ "name": "X", "redirect_uris": ["https://x.example/cb"], "grant_types": ["password"] }),
            "grant_types",
        ),
        (json!({ "name": "X", "client_type": "sometimes" }), "client_type"),
        (json!({ "name": "X", "scopes": "openid" }), "scopes"),
        (json!(["not", "an", "object"]), "body"),
    ] {
        let (status, error) = admin.post("/clients", body.clone()).await;
        assert_eq!(
            (status, error["field"].as_str()),
            (400, Some(field)),
            "{body} -> {error}"
        );
    }

    let (status, list) = admin.get("/clients").await;
    assert_eq!(status, 200);
    assert!(list.as_array().unwrap().iter().any(|c| c["client_id"] == json!(id)));
    assert!(!list.to_string().contains(&secret), "secrets are shown only once");
    let (status, got) = admin.get(&format!("/clients/{id}")).await;
    assert_eq!((status, got["name"].clone()), (200, json!("Shop")));
    assert_eq!(admin.get("/clients/nope").await.0, 404);

    let (status, updated) = admin
        .call(
            reqwest::Method::PATCH,
            &format!("/clients/{id}"),
            Some(json!({ "name": "Shop 2", "first_party": true })),
        )
        .await;
    assert_eq!(
        (status, updated["name"].clone(), updated["first_party"].clone()),
        (200, json!("Shop 2"), json!(true))
    );
    let (status, error) = admin
        .call(
            reqwest::Method::PATCH,
            &format!("/clients/{id}"),
            Some(json!({ "redirect_uris": ["nope"] })),
        )
        .await;
    assert_eq!((status, error["field"].as_str()), (400, Some("redirect_uris")));

    let (status, rotated) = admin.post(&format!("/clients/{id}/secret"), json!({})).await;
    assert_eq!(status, 200);
    let new_secret = rotated["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    let stored = admin.app.state.store.find_client(&id).await.unwrap().unwrap();
    assert!(keyhaven::crypto::tokens::SecretHash::from_stored(stored.secret_hash.unwrap()).matches(&new_secret));

    assert_eq!(
        admin
            .call(reqwest::Method::DELETE, &format!("/clients/{id}"), None)
            .await
            .0,
        204
    );
    assert_eq!(
        admin
            .call(reqwest::Method::DELETE, &format!("/clients/{id}"), None)
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn client_registration_warns_when_a_service_has_no_scopes() {
    let admin = admin_app().await;
    // Positive control: a service with its scopes gets no warnings.
    let (status, scoped) = admin
        .post("/clients", json!({ "name": "Billing", "grant_types": ["client_credentials"], "scopes": ["invoices:read"], "audiences": ["https://api.example"] }))
        .await;
    assert_eq!(status, 201, "{scoped}");
    assert!(scoped.get("warnings").is_none(), "{scoped}");

    let (status, unscoped) = admin
        .post(
            "/clients",
            json!({ "name": "Billing 2", "grant_types": ["client_credentials"], "audiences": ["https://api.example"] }),
        )
        .await;
    assert_eq!(status, 201, "created all the same: {unscoped}");
    let warnings = unscoped["warnings"].as_array().unwrap_or_else(|| panic!("{unscoped}"));
    assert_eq!(warnings.len(), 1, "{unscoped}");
    assert!(warnings[0].as_str().unwrap().starts_with("the client has no scopes"));

    // Taking a service's scopes away warns too.
    let id = scoped["client_id"].as_str().unwrap();
    let (status, updated) = admin
        .call(
            reqwest::Method::PATCH,
            &format!("/clients/{id}"),
            Some(json!({ "scopes": [] })),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["warnings"].as_array().map(Vec::len), Some(1), "{updated}");
}

#[tokio::test]
async fn public_clients_cannot_be_given_the_introspect_permission() {
    let admin = admin_app().await;
    let body = |client_type: &str| json!({ "name": "Native", "client_type": client_type, "redirect_uris": ["http://127.0.0.1/cb"], "permissions": ["introspect"] });
    // Positive control: a confidential client may have it.
    let (status, confidential) = admin.post("/clients", body("confidential")).await;
    assert_eq!(status, 201, "{confidential}");
    let (status, error) = admin.post("/clients", body("public")).await;
    assert_eq!(
        (status, error["error"].as_str(), error["field"].as_str()),
        (400, Some("invalid_request"), Some("permissions")),
        "{error}"
    );

    // Nor later, by an update.
    let (status, public) = admin
        .post(
            "/clients",
            json!({ "name": "Native", "client_type": "public", "redirect_uris": ["http://127.0.0.1/cb"] }),
        )
        .await;
    assert_eq!(status, 201, "{public}");
    let id = public["client_id"].as_str().unwrap();
    let (status, error) = admin
        .call(
            reqwest::Method::PATCH,
            &format!("/clients/{id}"),
            Some(json!({ "permissions": ["introspect"] })),
        )
        .await;
    assert_eq!((status, error["field"].as_str()), (400, Some("permissions")), "{error}");
    let stored = admin.app.state.store.find_client(id).await.unwrap().unwrap();
    assert!(stored.permissions.is_empty());
}

#[tokio::test]
async fn users_and_their_sessions_can_be_managed() {
    let admin = admin_app().await;
    let app = &admin.app;
    let (status, bob) = admin
        .post("/users", json!({ "username": "bob", "email": "bob@example.com", "password": "violet kettle marmalade", "claims": { "name": "Bob" } }))
        .await;
    assert_eq!(status, 201, "{bob}");
    let bob_id = bob["id"].as_str().unwrap().to_owned();
    for (body, field) in [
        (
            json!({ "username": "carol", "email": "not-an-email", "password": "violet kettle marmalade" }),
            "email",
        ),
        (
            json!({ "username": "carol", "email": "carol@example.com", "password": "password" }),
            "password",
        ),
        (
            json!({ "email": "carol@example.com", "password": "violet kettle marmalade" }),
            "username",
        ),
        (
            json!({ "username": "carol", "email": "carol@example.com", "password": "violet kettle marmalade", "claims": { "sub": "x" } }),
            "claims",
        ),
    ] {
        let (status, error) = admin.post("/users", body.clone()).await;
        assert_eq!(
            (status, error["field"].as_str()),
            (400, Some(field)),
            "{body} -> {error}"
        );
    }
    let alice = app.create_user("alice").await;

    let (status, page) = admin.get("/users?search=bo&limit=10").await;
    assert_eq!(status, 200);
    assert_eq!(page.as_array().unwrap().len(), 1);
    let (_, first) = admin.get("/users?limit=1&offset=0").await;
    let (_, second) = admin.get("/users?limit=1&offset=1").await;
    assert_eq!(
        (first[0]["username"].as_str(), second[0]["username"].as_str()),
        (Some("alice"), Some("bob"))
    );
    assert_eq!(admin.get("/users?limit=0").await.0, 400);
    assert_eq!(admin.get(&format!("/users/{bob_id}")).await.1["claims"]["name"], "Bob");
    assert_eq!(admin.get("/users/nobody").await.0, 404);
    let (status, updated) = admin
        .call(
            reqwest::Method::PATCH,
            &format!("/users/{bob_id}"),
            Some(json!({ "claims": { "name": "Robert" } })),
        )
        .await;
    assert_eq!((status, updated["claims"]["name"].clone()), (200, json!("Robert")));

    // Sessions: alice signs in; the admin lists and revokes them.
    let client = app.register_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(&client, "alice").await;
    let (status, sessions) = admin.get(&format!("/users/{}/sessions", alice.id)).await;
    assert_eq!(status, 200);
    let sid = sessions[0]["sid"].as_str().unwrap().to_owned();
    assert_eq!(
        admin
            .call(reqwest::Method::DELETE, &format!("/sessions/{sid}"), None)
            .await
            .0,
        204
    );
    assert_eq!(
        app.introspect(&client, tokens["refresh_token"].as_str().unwrap()).await,
        json!({"active": false})
    );
    assert_eq!(admin.call(reqwest::Method::DELETE, "/sessions/nope", None).await.0, 404);

    // Disable / enable, unlock, reset TOTP, revoke all sessions.
    let tokens = app.tokens_for(&client, "alice").await;
    assert_eq!(
        admin
            .post(&format!("/users/{}/revoke-sessions", alice.id), json!({}))
            .await
            .0,
        200
    );
    assert_eq!(
        app.introspect(&client, tokens["refresh_token"].as_str().unwrap()).await,
        json!({"active": false})
    );
    assert_eq!(
        admin.post(&format!("/users/{}/disable", alice.id), json!({})).await.1["disabled"],
        true
    );
    assert_eq!(app.submit_login("/login", "alice", PASSWORD).await.status(), 401);
    assert_eq!(
        admin.post(&format!("/users/{}/enable", alice.id), json!({})).await.1["disabled"],
        false
    );
    for _ in 0..5 {
        app.submit_login("/login", "alice", "wrong password").await;
    }
    assert_eq!(app.submit_login("/login", "alice", PASSWORD).await.status(), 429);
    assert_eq!(
        admin.post(&format!("/users/{}/unlock", alice.id), json!({})).await.0,
        200
    );
    assert_eq!(app.submit_login("/login", "alice", PASSWORD).await.status(), 303);
    app.state
        .store
        .enable_totp(&alice.id, "kek1.sealed", &[])
        .await
        .unwrap();
    assert_eq!(
        admin
            .post(&format!("/users/{}/reset-totp", alice.id), json!({}))
            .await
            .1["totp"],
        false
    );
    assert_eq!(
        admin
            .post(&format!("/users/{}/frobnicate", alice.id), json!({}))
            .await
            .0,
        404
    );
    assert_eq!(admin.post("/users/nobody/disable", json!({})).await.0, 404);
}

#[tokio::test]
async fn events_keys_and_the_openapi_document() {
    let admin = admin_app().await;
    let (status, keys) = admin.get("/keys").await;
    assert_eq!((status, keys.as_array().unwrap().len()), (200, 2));
    let (status, rotated) = admin.post("/keys/rotate", json!({})).await;
    assert_eq!(
        (status, rotated.as_array().unwrap().len()),
        (200, 4),
        "a next key per algorithm (24 h lead)"
    );

    admin.app.state.events.flush().await;
    let (status, events) = admin.get("/events?kind=admin_action&limit=100").await;
    assert_eq!(status, 200);
    let events = events.as_array().unwrap();
    assert!(events.len() >= 2);
    assert!(
        events.iter().all(|e| e["client_id"] == json!(admin.client.id)),
        "each names the acting client"
    );
    let (_, paged) = admin.get("/events?kind=admin_action&limit=1&offset=1").await;
    assert_eq!(paged.as_array().unwrap().len(), 1);
    let stored = admin
        .app
        .state
        .store
        .list_events(&EventFilter {
            kind: Some("admin_action".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(stored.iter().any(|e| e.detail.as_deref() == Some("rotate keys")));

    let doc: Value = admin
        .app
        .http
        .get(format!("{}/admin/v1/openapi.json", admin.app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with('3'));
    let paths = doc["paths"].as_object().unwrap();
    for route in [
        "/admin/v1/clients",
        "/admin/v1/clients/{id}",
        "/admin/v1/clients/{id}/secret",
        "/admin/v1/clients/{id}/issuance",
        "/admin/v1/resources",
        "/admin/v1/resources/{uri}",
        "/admin/v1/users",
        "/admin/v1/users/{id}",
        "/admin/v1/users/{id}/{action}",
        "/admin/v1/users/{id}/sessions",
        "/admin/v1/sessions/{sid}",
        "/admin/v1/events",
        "/admin/v1/keys",
        "/admin/v1/keys/rotate",
    ] {
        assert!(paths.contains_key(route), "the document lacks {route}");
    }
}

impl Admin {
    /// A request with a body as given (any bytes, any content type).
    pub async fn raw(&self, method: reqwest::Method, path: &str, content_type: &str, body: &str) -> (u16, Value) {
        let response = self
            .app
            .http
            .request(method, format!("{}/admin/v1{path}", self.app.address))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn document(&self) -> Value {
        self.app
            .http
            .get(format!("{}/admin/v1/openapi.json", self.app.address))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// The `{name}`s of a path template.
fn template_parameters(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

#[tokio::test]
async fn the_openapi_document_declares_every_path_parameter_and_required_member() {
    let admin = admin_app().await;
    let doc = admin.document().await;
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            operations += 1;
            let declared: Vec<&str> = operation["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path" && p["required"] == true)
                        .filter_map(|p| p["name"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            let mut wanted = template_parameters(path);
            wanted.sort();
            let mut declared_sorted: Vec<String> = declared.iter().map(|s| (*s).to_owned()).collect();
            declared_sorted.sort();
            assert_eq!(declared_sorted, wanted, "{method} {path} declares its path parameters");
            for status in ["401", "403"] {
                assert!(
                    operation["responses"][status].is_object(),
                    "{method} {path} declares {status}"
                );
            }
            if !wanted.is_empty() {
                assert!(
                    operation["responses"]["404"].is_object(),
                    "{method} {path} declares 404"
                );
            }
            if operation["requestBody"].is_object() {
                assert!(
                    operation["responses"]["400"].is_object(),
                    "{method} {path} declares 400"
                );
            }
        }
    }
    assert_eq!(operations, 25, "with a person's passkeys (list, delete)");

    let schemas = &doc["components"]["schemas"];
    let required = |schema: &str| -> Vec<String> {
        schemas[schema]["required"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema} has no required members"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let create_client = &paths["/admin/v1/clients"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(create_client["$ref"], "#/components/schemas/NewClient");
    assert_eq!(required("NewClient"), ["name"]);
    let create_user = &paths["/admin/v1/users"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(create_user["$ref"], "#/components/schemas/NewUser");
    assert_eq!(required("NewUser"), ["username", "email", "password"]);
    assert_eq!(schemas["NewClient"]["additionalProperties"], false);
    assert_eq!(schemas["NewClient"]["properties"]["name"]["maxLength"], 200);

    // The bounds of the page parameters, as enforced (`limits_are_enforced_as_declared`).
    for path in ["/admin/v1/users", "/admin/v1/events"] {
        let parameters = paths[path]["get"]["parameters"].as_array().unwrap();
        let find = |name: &str| {
            parameters
                .iter()
                .find(|p| p["name"] == name)
                .unwrap_or_else(|| panic!("{path} declares {name}"))
        };
        assert_eq!(
            (
                find("limit")["schema"]["minimum"].clone(),
                find("limit")["schema"]["maximum"].clone()
            ),
            (json!(1), json!(1000)),
            "{path}"
        );
        assert_eq!(find("offset")["schema"]["minimum"], json!(0), "{path}");
    }
}

#[tokio::test]
async fn limits_are_enforced_as_declared() {
    let admin = admin_app().await;
    for path in ["/users", "/events"] {
        assert_eq!(admin.get(&format!("{path}?limit=1000&offset=0")).await.0, 200, "{path}");
        for (query, field) in [
            ("limit=1001", "limit"),
            ("limit=0", "limit"),
            ("limit=ten", "limit"),
            ("offset=-1", "offset"),
            ("limit=5&limit=6", "limit"),
        ] {
            let (status, error) = admin.get(&format!("{path}?{query}")).await;
            assert_eq!(
                (status, error["error"].as_str(), error["field"].as_str()),
                (400, Some("invalid_request"), Some(field)),
                "{path}?{query} -> {error}"
            );
        }
    }
    let long = "a".repeat(201);
    assert_eq!(admin.get(&format!("/users?search={}", &long[..200])).await.0, 200);
    assert_eq!(admin.get(&format!("/users?search={long}")).await.1["field"], "search");
}

#[tokio::test]
async fn bad_bodies_answer_400_naming_the_field_never_415_or_422() {
    let admin = admin_app().await;
    let good = r#"{ "name": "Shop", "redirect_uris": ["https://shop.example/cb"] }"#;
    // Positive controls: the same body is taken whatever the content type says.
    for content_type in ["application/json", "text/plain"] {
        let (status, created) = admin.raw(reqwest::Method::POST, "/clients", content_type, good).await;
        assert_eq!(status, 201, "{content_type}: {created}");
    }
    let (_, created) = admin
        .raw(reqwest::Method::POST, "/clients", "application/json", good)
        .await;
    let id = created["client_id"].as_str().unwrap().to_owned();

    for (method, path, body, field) in [
        (reqwest::Method::POST, "/clients".to_owned(), "", "body"),
        (reqwest::Method::POST, "/clients".to_owned(), "{", "body"),
        (reqwest::Method::POST, "/clients".to_owned(), "not json", "body"),
        (
            reqwest::Method::POST,
            "/clients".to_owned(),
            r#"{ "name": "X" } trailing"#,
            "body",
        ),
        (reqwest::Method::POST, "/clients".to_owned(), r#"["Shop"]"#, "body"),
        (reqwest::Method::POST, "/clients".to_owned(), r#"{ "name": 5 }"#, "name"),
        (
            reqwest::Method::POST,
            "/clients".to_owned(),
            r#"{ "name": null }"#,
            "name",
        ),
        (
            reqwest::Method::POST,
            "/clients".to_owned(),
            r#"{ "redirect_uris": [] }"#,
            "name",
        ),
        (
            reqwest::Method::POST,
            "/clients".to_owned(),
            r#"{ "name": "Shop", "redirect_uris": ["https://shop.example/cb"], "colour": "red" }"#,
            "colour",
        ),
        (
            reqwest::Method::POST,
            "/clients".to_owned(),
            r#"{ "name": "Shop", "redirect_uris": ["https://shop.example/cb"], "first_party": "yes" }"#,
            "first_party",
        ),
        (
            reqwest::Method::POST,
            "/clients".to_owned(),
            r#"{ "name": "Shop", "redirect_uris": ["https://shop.example/cb"], "id_token_alg": "HS256" }"#,
            "id_token_alg",
        ),
        (
            reqwest::Method::POST,
            "/clients".to_owned(),
            r#"{ "name": "Shop", "redirect_uris": ["https://shop.example/cb"], "permissions": ["everything"] }"#,
            "permissions",
        ),
        (
            reqwest::Method::POST,
            "/clients".to_owned(),
            r#"{ "name": "Shop", "redirect_uris": ["https://shop.example/cb"], "scopes": ["open\"id"] }"#,
            "scopes",
        ),
        (
            reqwest::Method::POST,
            "/clients".to_owned(),
            r#"{ "name": "Shop", "redirect_uris": ["https://shop.example/cb"], "audiences": ["a b"] }"#,
            "audiences",
        ),
        (reqwest::Method::PATCH, format!("/clients/{id}"), "[null, null]", "body"),
        (
            reqwest::Method::PATCH,
            format!("/clients/{id}"),
            r#"{ "secret": "x" }"#,
            "secret",
        ),
        (
            reqwest::Method::POST,
            "/users".to_owned(),
            r#"{ "username": "carol", "email": "carol@example.com", "password": "violet kettle marmalade", "admin": true }"#,
            "admin",
        ),
    ] {
        let (status, error) = admin.raw(method.clone(), &path, "application/json", body).await;
        assert_eq!(
            (status, error["error"].as_str(), error["field"].as_str()),
            (400, Some("invalid_request"), Some(field)),
            "{method} {path} {body} -> {error}"
        );
    }

    // Caps on counts and lengths, each with the largest value that is taken.
    let uris = |n: usize| {
        (0..n)
            .map(|i| format!("https://shop.example/cb{i}"))
            .collect::<Vec<_>>()
    };
    for (body, field) in [
        (json!({ "name": "a".repeat(201), "redirect_uris": uris(1) }), "name"),
        (json!({ "name": "Shop", "redirect_uris": uris(21) }), "redirect_uris"),
    ] {
        let (status, error) = admin.post("/clients", body).await;
        assert_eq!((status, error["field"].as_str()), (400, Some(field)), "{error}");
    }
    assert_eq!(
        admin
            .post(
                "/clients",
                json!({ "name": "a".repeat(200), "redirect_uris": uris(20) })
            )
            .await
            .0,
        201
    );
}

#[tokio::test]
async fn a_path_naming_no_action_is_not_found() {
    let admin = admin_app().await;
    let alice = admin.app.create_user("alice").await;
    assert_eq!(
        admin.post(&format!("/users/{}/unlock", alice.id), json!({})).await.0,
        200
    );
    let (status, error) = admin.post(&format!("/users/{}/promote", alice.id), json!({})).await;
    assert_eq!((status, error["error"].as_str()), (404, Some("not_found")));
}

/// Found by the `admin_json` fuzz target: `{"": …}` answered a 400 whose `field` was "".
#[tokio::test]
async fn an_error_names_a_field_even_for_a_nameless_member() {
    let admin = admin_app().await;
    let good = r#"{ "name": "Shop", "redirect_uris": ["https://shop.example/cb"] }"#;
    assert_eq!(
        admin
            .raw(reqwest::Method::POST, "/clients", "application/json", good)
            .await
            .0,
        201
    );
    for body in [
        r#"{ "": "public", "name": "Shop", "redirect_uris": ["https://shop.example/cb"] }"#,
        r#"{ "name": "Shop", "redirect_uris": ["https://shop.example/cb"], "": 1 }"#,
    ] {
        let (status, error) = admin
            .raw(reqwest::Method::POST, "/clients", "application/json", body)
            .await;
        assert_eq!(
            (status, error["error"].as_str(), error["field"].as_str()),
            (400, Some("invalid_request"), Some("body")),
            "{body} -> {error}"
        );
    }
}
