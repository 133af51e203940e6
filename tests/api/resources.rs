//! Access tokens signed with their audience's algorithm (RS256, ES256, EdDSA), verified by
//! resource servers against the published JWKS; the registry of resource servers that decides
//! it, through the admin API and the command line.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwk::Jwk;
use josekit::jws::{EdDSA, ES256, RS256};
use josekit::jwt;
use keyhaven::domain::client::GrantType;
use keyhaven::domain::event::EventFilter;
use serde_json::{json, Map, Value};

use crate::admin::{admin_app, admin_app_with};
use crate::flow::{location, pkce, query, ClientSpec, TestClient, API, REDIRECT};
use crate::helpers::{spawn_app, stdout_json, Backend, TestApp};
use crate::token::jwt_claims;

const ES_API: &str = "https://orders.example";
const ED_API: &str = "https://ledger.example";
const PLAIN_API: &str = "https://plain.example";

fn header(token: &str) -> Value {
    let head = token.split('.').next().expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(head).expect("b64")).expect("JSON")
}

/// The published key `token`'s `kid` names, as a resource server fetches it from `/jwks`.
async fn published_key(app: &TestApp, token: &str) -> Result<Value, String> {
    let kid = header(token)["kid"].as_str().ok_or("no kid")?.to_owned();
    let jwks = app.get_json("/jwks").await;
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == json!(kid))
        .cloned()
        .ok_or_else(|| format!("kid {kid} is not published"))
}

/// Verifies `token` as a resource server would: the JWK of its `kid` from `/jwks`, with the
/// verifier of the algorithm that key states (never the header's word alone).
async fn verify_with_jwks(app: &TestApp, token: &str) -> Result<Map<String, Value>, String> {
    let key = published_key(app, token).await?;
    let jwk = Jwk::from_bytes(key.to_string().as_bytes()).map_err(|e| e.to_string())?;
    let verified = match key["alg"].as_str() {
        Some("RS256") => jwt::decode_with_verifier(token, &RS256.verifier_from_jwk(&jwk).map_err(|e| e.to_string())?),
        Some("ES256") => jwt::decode_with_verifier(token, &ES256.verifier_from_jwk(&jwk).map_err(|e| e.to_string())?),
        Some("EdDSA") => jwt::decode_with_verifier(token, &EdDSA.verifier_from_jwk(&jwk).map_err(|e| e.to_string())?),
        other => return Err(format!("unexpected key alg {other:?}")),
    };
    let (payload, _) = verified.map_err(|e| e.to_string())?;
    Ok(payload.claims_set().clone())
}

async fn service_client(app: &TestApp, audiences: Vec<&'static str>) -> TestClient {
    app.register_client(ClientSpec {
        redirect_uris: vec![],
        grants: vec![GrantType::ClientCredentials],
        audiences,
        ..Default::default()
    })
    .await
}

/// `client_credentials` for these resources: (status, body).
async fn token_for(app: &TestApp, client: &TestClient, resources: &[&str]) -> (u16, Value) {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend(resources.iter().map(|r| ("resource", *r)));
    let response = app.token(client, &form).await;
    (response.status().as_u16(), response.json().await.expect("JSON"))
}

/// A client_credentials access token for one resource, which must be issued.
async fn access_token(app: &TestApp, client: &TestClient, resource: &str) -> String {
    let (status, body) = token_for(app, client, &[resource]).await;
    assert_eq!(status, 200, "{resource}: {body}");
    body["access_token"].as_str().expect("access_token").to_owned()
}

fn has_okp_key(jwks: &Value) -> bool {
    jwks["keys"].as_array().expect("keys").iter().any(|k| k["kty"] == "OKP")
}

/// The path of a resource server in the admin API: its URI percent-encoded as one segment.
fn resource_path(uri: &str) -> String {
    format!(
        "/resources/{}",
        url::form_urlencoded::byte_serialize(uri.as_bytes()).collect::<String>()
    )
}

#[tokio::test]
async fn audience_configured_for_es256_gets_es256_tokens_that_verify_against_jwks() {
    let admin = admin_app().await;
    let app = &admin.app;
    let service = service_client(app, vec![ES_API, PLAIN_API]).await;
    let rs = app.resource_server(ES_API).await;

    // Positive control: before the registry names it, the audience gets the default, RS256.
    let before = access_token(app, &service, ES_API).await;
    assert_eq!(header(&before)["alg"], "RS256");
    verify_with_jwks(app, &before).await.expect("an RS256 token verifies");

    let (status, made) = admin
        .post(
            "/resources",
            json!({ "uri": ES_API, "name": "Orders API", "access_token_alg": "ES256" }),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["access_token_alg"], "ES256");

    let token = access_token(app, &service, ES_API).await;
    assert_eq!(header(&token)["alg"], "ES256");
    let key = published_key(app, &token).await.expect("its key is published");
    assert_eq!((key["kty"].as_str(), key["crv"].as_str()), (Some("EC"), Some("P-256")));
    let claims = verify_with_jwks(app, &token).await.expect("verifies with the JWKS key");
    assert_eq!(claims["aud"], ES_API);
    assert_eq!(claims["client_id"], json!(service.id));
    // Keyhaven's own validation takes it too.
    let answer = app.introspect(&rs, &token).await;
    assert_eq!(
        (answer["active"].as_bool(), &answer["aud"]),
        (Some(true), &json!([ES_API]))
    );

    // An audience the registry does not name keeps the default.
    let plain = access_token(app, &service, PLAIN_API).await;
    assert_eq!(header(&plain)["alg"], "RS256");
    verify_with_jwks(app, &plain).await.expect("verifies");
}

#[tokio::test]
async fn audience_configured_for_eddsa_gets_eddsa_tokens_that_verify_against_jwks() {
    let app = spawn_app(Backend::Sqlite).await;
    let service = service_client(&app, vec![ED_API]).await;
    let rs = app.resource_server(ED_API).await;

    // Positive control: no audience uses EdDSA yet, so no Ed25519 key is made or published.
    assert!(!has_okp_key(&app.get_json("/jwks").await));
    assert_eq!(header(&access_token(&app, &service, ED_API).await)["alg"], "RS256");

    // Registered by another process (the command line): the server learns of the algorithm
    // and its key in the same key pass (every 100 ms in tests).
    let made = stdout_json(
        &app.cli(&[
            "--json", "resource", "add", "--uri", ED_API, "--name", "Ledger", "--alg", "EdDSA",
        ])
        .await,
    );
    assert_eq!(made["access_token_alg"], "EdDSA");
    let jwks = app.wait_for_jwks(has_okp_key).await;
    let okp = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kty"] == "OKP")
        .unwrap()
        .clone();
    assert_eq!(
        (okp["crv"].as_str(), okp["alg"].as_str(), okp["use"].as_str()),
        (Some("Ed25519"), Some("EdDSA"), Some("sig"))
    );
    assert!(okp.get("d").is_none(), "no private member");

    let token = access_token(&app, &service, ED_API).await;
    assert_eq!(header(&token)["alg"], "EdDSA");
    assert_eq!(header(&token)["kid"], okp["kid"]);
    let claims = verify_with_jwks(&app, &token)
        .await
        .expect("verifies with the Ed25519 JWK");
    assert_eq!(claims["aud"], ED_API);
    assert_eq!(app.introspect(&rs, &token).await["active"], true);

    // The kid's key decides the algorithm: the same signature under a header that names
    // another algorithm is not an access token of ours.
    let (_, rest) = token.split_once('.').unwrap();
    for alg in ["RS256", "ES256", "none"] {
        let forged_header = json!({ "alg": alg, "kid": okp["kid"], "typ": "at+jwt" });
        let forged = format!(
            "{}.{rest}",
            URL_SAFE_NO_PAD.encode(forged_header.to_string().as_bytes())
        );
        assert_eq!(app.introspect(&rs, &forged).await["active"], false, "{alg}");
    }
}

#[tokio::test]
async fn a_persons_token_for_an_eddsa_audience_is_eddsa_and_userinfo_accepts_it() {
    let admin = admin_app().await;
    let app = &admin.app;
    let (status, _) = admin
        .post(
            "/resources",
            json!({ "uri": API, "name": "API", "access_token_alg": "EdDSA" }),
        )
        .await;
    assert_eq!(status, 201);
    let client = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    let tokens = app.tokens_for(&client, "alice").await;
    let at = tokens["access_token"].as_str().unwrap();
    // For the resource server and userinfo: Keyhaven's own audience has no say beside it.
    let aud = jwt_claims(at)["aud"].clone();
    assert_eq!(aud, json!([API, format!("{}/userinfo", app.address)]));
    assert_eq!(header(at)["alg"], "EdDSA");
    verify_with_jwks(app, at).await.expect("verifies");
    let userinfo = app
        .http
        .get(format!("{}/userinfo", app.address))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(
        userinfo.status(),
        200,
        "userinfo takes every algorithm Keyhaven publishes"
    );
    // ID tokens keep their client's algorithm.
    assert_eq!(header(tokens["id_token"].as_str().unwrap())["alg"], "RS256");
}

#[tokio::test]
async fn resources_of_different_algorithms_cannot_share_a_token() {
    let admin = admin_app().await;
    let app = &admin.app;
    app.create_user("alice").await;
    let (status, _) = admin
        .post(
            "/resources",
            json!({ "uri": ES_API, "name": "Orders", "access_token_alg": "ES256" }),
        )
        .await;
    assert_eq!(status, 201);
    let client = app
        .register_client(ClientSpec {
            grants: vec![
                GrantType::AuthorizationCode,
                GrantType::RefreshToken,
                GrantType::ClientCredentials,
            ],
            audiences: vec![ES_API, PLAIN_API],
            ..Default::default()
        })
        .await;

    // Positive controls: each alone, at the token endpoint and at /authorize.
    assert_eq!(header(&access_token(app, &client, ES_API).await)["alg"], "ES256");
    assert_eq!(header(&access_token(app, &client, PLAIN_API).await)["alg"], "RS256");
    let (code, p) = app.code_for(&client, "alice", &[("resource", Some(ES_API))]).await;
    let tokens: Value = app.exchange(&client, &code, &p.verifier).await.json().await.unwrap();
    assert_eq!(header(tokens["access_token"].as_str().unwrap())["alg"], "ES256");

    // Together: ES256 and the RS256 default cannot share one token.
    let (status, body) = token_for(app, &client, &[ES_API, PLAIN_API]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_target")),
        "{body}"
    );
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("different access-token algorithms"));
    // Refused at the authorization request, before anyone signs in.
    let url = format!(
        "{}&resource={}",
        app.authorize_url(&client.id, &pkce().challenge, &[("resource", Some(ES_API))]),
        url::form_urlencoded::byte_serialize(PLAIN_API.as_bytes()).collect::<String>()
    );
    let response = app.get_url(&url).await;
    assert_eq!(response.status(), 303);
    let to = location(&response);
    assert!(to.starts_with(REDIRECT), "{to}");
    assert_eq!(query(&to)["error"], "invalid_target", "{to}");
}

#[tokio::test]
async fn the_default_algorithm_signs_unregistered_and_keyhavens_own_audiences() {
    let admin = admin_app_with(&[("access_token_alg", "EdDSA")]).await;
    let app = &admin.app;
    // The admin client's own token (audience keyhaven-admin) took the default, and the admin
    // API accepts it: the call that registers a resource is the proof.
    assert_eq!(header(&admin.token)["alg"], "EdDSA");
    let (status, made) = admin
        .post(
            "/resources",
            json!({ "uri": ES_API, "name": "Orders", "access_token_alg": "RS256" }),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let (status, defaulted) = admin
        .post("/resources", json!({ "uri": ED_API, "name": "Ledger" }))
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        defaulted["access_token_alg"], "EdDSA",
        "registered with the setting as it is"
    );

    let service = service_client(app, vec![ES_API, PLAIN_API]).await;
    let plain = access_token(app, &service, PLAIN_API).await;
    assert_eq!(header(&plain)["alg"], "EdDSA");
    verify_with_jwks(app, &plain).await.expect("verifies");
    // The registry overrides the default.
    let registered = access_token(app, &service, ES_API).await;
    assert_eq!(header(&registered)["alg"], "RS256");
    verify_with_jwks(app, &registered).await.expect("verifies");
}

#[tokio::test]
async fn deleting_a_resource_returns_its_audience_to_the_default_and_retires_unused_keys() {
    let admin = admin_app_with(&[("access_token_ttl", "10m"), ("id_token_ttl", "5m")]).await;
    let app = &admin.app;
    let service = service_client(app, vec![ED_API]).await;
    let rs = app.resource_server(ED_API).await;
    let (status, _) = admin
        .post(
            "/resources",
            json!({ "uri": ED_API, "name": "Ledger", "access_token_alg": "EdDSA" }),
        )
        .await;
    assert_eq!(status, 201);
    let eddsa = access_token(app, &service, ED_API).await;
    assert_eq!(header(&eddsa)["alg"], "EdDSA");
    let ed_kid = header(&eddsa)["kid"].clone();

    let (status, _) = admin.call(reqwest::Method::DELETE, &resource_path(ED_API), None).await;
    assert_eq!(status, 204);
    assert_eq!(admin.get(&resource_path(ED_API)).await.0, 404);
    assert_eq!(header(&access_token(app, &service, ED_API).await)["alg"], "RS256");

    // EdDSA is used no more: its key is retired, still published while its tokens live.
    let (_, keys) = admin.get("/keys").await;
    let ed_key = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == ed_kid)
        .expect("the EdDSA key is listed");
    assert_eq!(ed_key["state"], "retired");
    verify_with_jwks(app, &eddsa).await.expect("still verifies");
    assert_eq!(app.introspect(&rs, &eddsa).await["active"], true);

    // Once its tokens have expired (10 min, a minute of skew), it is gone.
    app.clock.advance(11 * 60 + 1);
    app.maintain_keys().await;
    assert!(!has_okp_key(&app.get_json("/jwks").await));
}

#[tokio::test]
async fn the_resource_registry_through_the_admin_api() {
    let admin = admin_app().await;
    let app = &admin.app;
    let good = json!({ "uri": ES_API, "name": "Orders API", "access_token_alg": "ES256" });
    let userinfo = format!("{}/userinfo", app.address);
    for (body, field) in [
        (
            json!({ "uri": ES_API, "name": "Orders", "access_token_alg": "HS256" }),
            "access_token_alg",
        ),
        (
            json!({ "uri": ES_API, "name": "Orders", "access_token_alg": "eddsa" }),
            "access_token_alg",
        ),
        (
            json!({ "uri": ES_API, "name": "Orders", "access_token_alg": 256 }),
            "access_token_alg",
        ),
        (json!({ "uri": "orders.example", "name": "Orders" }), "uri"),
        (json!({ "uri": "https://orders.example/#x", "name": "Orders" }), "uri"),
        (
            json!({ "uri": format!("https://orders.example/{}", "a".repeat(512)), "name": "Orders" }),
            "uri",
        ),
        (json!({ "uri": "keyhaven-admin", "name": "Admin" }), "uri"),
        (json!({ "uri": userinfo, "name": "Userinfo" }), "uri"),
        (json!({ "uri": ES_API, "name": "" }), "name"),
        (json!({ "uri": ES_API, "name": "   " }), "name"),
        (json!({ "uri": ES_API, "name": "a".repeat(201) }), "name"),
        (json!({ "uri": ES_API }), "name"),
        (json!({ "uri": ES_API, "name": "Orders", "colour": "red" }), "colour"),
    ] {
        let (status, error) = admin.post("/resources", body.clone()).await;
        assert_eq!(
            (status, error["error"].as_str(), error["field"].as_str()),
            (400, Some("invalid_request"), Some(field)),
            "{body} -> {error}"
        );
    }
    assert_eq!(admin.get("/resources").await.1, json!([]), "nothing refused was stored");

    // Positive control, then the same URI again: a conflict naming it.
    let (status, made) = admin.post("/resources", good.clone()).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(
        (
            made["uri"].as_str(),
            made["name"].as_str(),
            made["access_token_alg"].as_str()
        ),
        (Some(ES_API), Some("Orders API"), Some("ES256"))
    );
    let (status, error) = admin.post("/resources", good.clone()).await;
    assert_eq!(
        (status, error["error"].as_str(), error["field"].as_str()),
        (409, Some("conflict"), Some("uri"))
    );
    let (status, _) = admin
        .post("/resources", json!({ "uri": "urn:example:legacy", "name": "Legacy" }))
        .await;
    assert_eq!(status, 201);

    let (status, list) = admin.get("/resources").await;
    assert_eq!(status, 200);
    let uris: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].as_str().unwrap())
        .collect();
    assert_eq!(uris, [ES_API, "urn:example:legacy"]);
    let (status, one) = admin.get(&resource_path(ES_API)).await;
    assert_eq!((status, one["name"].as_str()), (200, Some("Orders API")));
    assert_eq!(admin.get(&resource_path("https://nope.example")).await.0, 404);

    // PATCH changes only what it names; the URI cannot change.
    let path = resource_path(ES_API);
    let (status, changed) = admin
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(json!({ "access_token_alg": "EdDSA" })),
        )
        .await;
    assert_eq!(
        (status, changed["access_token_alg"].as_str(), changed["name"].as_str()),
        (200, Some("EdDSA"), Some("Orders API"))
    );
    for (body, field) in [
        (json!({ "access_token_alg": "RS512" }), "access_token_alg"),
        (json!({ "name": "" }), "name"),
        (json!({ "uri": "https://other.example" }), "uri"),
    ] {
        let (status, error) = admin.call(reqwest::Method::PATCH, &path, Some(body.clone())).await;
        assert_eq!(
            (status, error["field"].as_str()),
            (400, Some(field)),
            "{body} -> {error}"
        );
    }
    assert_eq!(
        admin
            .call(
                reqwest::Method::PATCH,
                &resource_path("https://nope.example"),
                Some(json!({ "name": "X" }))
            )
            .await
            .0,
        404
    );
    assert_eq!(
        admin.get(&path).await.1["access_token_alg"],
        "EdDSA",
        "the refused changes changed nothing"
    );

    assert_eq!(admin.call(reqwest::Method::DELETE, &path, None).await.0, 204);
    assert_eq!(admin.call(reqwest::Method::DELETE, &path, None).await.0, 404);
    assert_eq!(admin.get(&path).await.0, 404);

    // Each change is a security event, and each call an admin_action naming the client.
    app.state.events.flush().await;
    let kinds: Vec<String> = app
        .state
        .store
        .list_events(&EventFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind.starts_with("resource_"))
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "resource_deleted",
            "resource_updated",
            "resource_created",
            "resource_created"
        ]
    );
    let actions = app
        .state
        .store
        .list_events(&EventFilter {
            kind: Some("admin_action".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(actions.iter().any(
        |e| e.detail.as_deref() == Some(format!("create resource {ES_API}").as_str())
            && e.client_id.as_deref() == Some(admin.client.id.as_str())
    ));
}

#[tokio::test]
async fn a_client_cannot_register_eddsa_id_tokens() {
    let admin = admin_app().await;
    let body = |alg: &str| json!({ "name": "Shop", "redirect_uris": ["https://shop.example/cb"], "id_token_alg": alg });
    // Positive control: an ID-token algorithm is taken.
    let (status, made) = admin.post("/clients", body("ES256")).await;
    assert_eq!((status, made["id_token_alg"].as_str()), (201, Some("ES256")));
    let (status, error) = admin.post("/clients", body("EdDSA")).await;
    assert_eq!(
        (status, error["field"].as_str()),
        (400, Some("id_token_alg")),
        "EdDSA signs access tokens only: {error}"
    );
    // The document says so too: the ID-token enum has no EdDSA, the access-token one has.
    let doc = admin
        .app
        .http
        .get(format!("{}/admin/v1/openapi.json", admin.app.address))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let schemas = &doc["components"]["schemas"];
    let enum_of = |schema: &str, member: &str| -> Value {
        let property = &schemas[schema]["properties"][member];
        let target = property["$ref"]
            .as_str()
            .map(|r| schemas[r.trim_start_matches("#/components/schemas/")].clone())
            .or_else(|| {
                property["oneOf"][1]["$ref"]
                    .as_str()
                    .map(|r| schemas[r.trim_start_matches("#/components/schemas/")].clone())
            })
            .unwrap_or_else(|| property.clone());
        target["enum"].clone()
    };
    assert_eq!(enum_of("ClientOut", "id_token_alg"), json!(["RS256", "ES256"]));
    assert_eq!(
        enum_of("ResourceOut", "access_token_alg"),
        json!(["RS256", "ES256", "EdDSA"])
    );

    // The command line refuses it alike, naming the field.
    let out = admin
        .app
        .cli(&[
            "client",
            "create",
            "--name",
            "Shop",
            "--redirect-uri",
            "https://shop.example/cb",
            "--id-token-alg",
            "EdDSA",
        ])
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("id_token_alg"));
}

#[tokio::test]
async fn the_resource_command_registers_lists_shows_updates_and_deletes() {
    let app = spawn_app(Backend::Sqlite).await;
    let stderr = |out: &std::process::Output| String::from_utf8_lossy(&out.stderr).into_owned();
    // Refused, naming what is wrong, and nothing stored.
    let bad_alg = app
        .cli(&["resource", "add", "--uri", ES_API, "--name", "Orders", "--alg", "HS256"])
        .await;
    assert_eq!(bad_alg.status.code(), Some(2));
    assert!(stderr(&bad_alg).contains("--alg"), "{}", stderr(&bad_alg));
    let bad_uri = app
        .cli(&["resource", "add", "--uri", "orders.example", "--name", "Orders"])
        .await;
    assert_eq!(bad_uri.status.code(), Some(2));
    assert!(stderr(&bad_uri).contains("uri:"), "{}", stderr(&bad_uri));
    assert_eq!(stdout_json(&app.cli(&["--json", "resource", "list"]).await), json!([]));

    // Positive control: the same with a good algorithm, and one that takes the default.
    let made = stdout_json(
        &app.cli(&[
            "--json", "resource", "add", "--uri", ES_API, "--name", "Orders", "--alg", "ES256",
        ])
        .await,
    );
    assert_eq!(
        (made["uri"].as_str(), made["access_token_alg"].as_str()),
        (Some(ES_API), Some("ES256"))
    );
    let defaulted = stdout_json(
        &app.cli(&["--json", "resource", "add", "--uri", ED_API, "--name", "Ledger"])
            .await,
    );
    assert_eq!(defaulted["access_token_alg"], "RS256");
    let again = app.cli(&["resource", "add", "--uri", ES_API, "--name", "Orders"]).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("registered already"));

    let listed = stdout_json(&app.cli(&["--json", "resource", "list"]).await);
    let uris: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].as_str().unwrap())
        .collect();
    assert_eq!(uris, [ED_API, ES_API]);
    let shown = stdout_json(&app.cli(&["--json", "resource", "show", ES_API]).await);
    assert_eq!(shown["name"], "Orders");

    let changed = stdout_json(
        &app.cli(&[
            "--json",
            "resource",
            "update",
            ED_API,
            "--alg",
            "EdDSA",
            "--name",
            "General ledger",
        ])
        .await,
    );
    assert_eq!(
        (changed["access_token_alg"].as_str(), changed["name"].as_str()),
        (Some("EdDSA"), Some("General ledger"))
    );
    let bad_update = app.cli(&["resource", "update", ED_API, "--alg", "Ed25519"]).await;
    assert_eq!(bad_update.status.code(), Some(2));
    assert!(stderr(&bad_update).contains("--alg"));
    // The change ran the key schedule: EdDSA, now in use, has a key before the command ends.
    let keys = stdout_json(&app.cli(&["--json", "keys", "list"]).await);
    assert!(
        keys.as_array()
            .unwrap()
            .iter()
            .any(|k| k["alg"] == "EdDSA" && k["state"] == "active"),
        "{keys}"
    );

    let deleted = stdout_json(&app.cli(&["--json", "resource", "delete", ES_API]).await);
    assert_eq!(deleted["deleted"], ES_API);
    let gone = app.cli(&["resource", "show", ES_API]).await;
    assert_eq!(gone.status.code(), Some(1));
    assert!(stderr(&gone).contains("no such resource server"));
    assert_eq!(app.cli(&["resource", "delete", ES_API]).await.status.code(), Some(1));

    let events = stdout_json(&app.cli(&["--json", "events", "--limit", "100"]).await);
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .filter(|k| k.starts_with("resource_"))
        .collect();
    assert_eq!(
        kinds,
        [
            "resource_deleted",
            "resource_updated",
            "resource_created",
            "resource_created"
        ]
    );
}
