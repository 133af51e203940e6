//! Clients: round trip of every registration field, unique ids, updates that keep id, secret and
//! creation time, secrets only for confidential clients.

use std::sync::Arc;

use keyhaven::domain::client::{AuthMethod, ClientOrigin, ClientType, GrantType, RedirectUri};
use keyhaven::domain::SigningAlg;
use keyhaven::storage::{Store, StoreError};

use super::client;

contract!(
    clients_round_trip_and_delete,
    an_update_rewrites_the_registration_but_not_id_secret_or_creation,
    only_a_confidential_client_gets_a_new_secret,
);

async fn clients_round_trip_and_delete(store: Arc<dyn Store>) {
    store.insert_client(&client("c1")).await.expect("insert");
    let mut public = client("c2");
    public.client_type = ClientType::Public;
    public.secret_hash = None;
    public.scopes = None;
    public.first_party = false;
    store.insert_client(&public).await.expect("insert");
    assert!(matches!(
        store.insert_client(&client("c1")).await,
        Err(StoreError::Conflict)
    ));

    let c1 = store.find_client("c1").await.expect("find").expect("c1");
    assert_eq!(c1.client_type, ClientType::Confidential);
    assert_eq!(c1.secret_hash.as_deref(), Some("hash"));
    assert_eq!(c1.redirect_uris[0].as_str(), "https://app.example/cb");
    assert_eq!(
        c1.grant_types,
        vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
    );
    assert_eq!(c1.scopes.expect("scopes").to_string(), "email openid");
    assert_eq!(c1.audiences, vec!["https://api.example".to_owned()]);
    assert!(c1.first_party);
    assert_eq!(c1.id_token_alg, SigningAlg::Es256);
    assert_eq!(c1.post_logout_redirect_uris[0].as_str(), "https://app.example/bye");
    assert_eq!(c1.permissions, vec![keyhaven::domain::client::Permission::Introspect]);
    assert!(c1.introspect_any_audience);
    assert_eq!(
        (c1.auth_method, c1.origin),
        (AuthMethod::PrivateKeyJwt, ClientOrigin::Registered)
    );
    assert_eq!(c1.jwks.expect("jwks")["keys"][0]["crv"], "Ed25519");
    assert_eq!(
        c1.jwks_uri.map(String::from).as_deref(),
        Some("https://app.example/jwks.json")
    );
    assert_eq!(
        c1.logo_uri.map(String::from).as_deref(),
        Some("https://app.example/logo.png")
    );
    assert_eq!(c1.client_uri.map(String::from).as_deref(), Some("https://app.example/"));
    assert_eq!((c1.created_at, c1.updated_at), (10, 11));
    let c2 = store.find_client("c2").await.expect("find").expect("c2");
    assert!(c2.secret_hash.is_none() && c2.scopes.is_none() && !c2.first_party);

    assert!(store.find_client("nope").await.expect("find").is_none());
    let ids: Vec<String> = store
        .list_clients()
        .await
        .expect("list")
        .into_iter()
        .map(|c| c.id.into_string())
        .collect();
    assert_eq!(ids, ["c1", "c2"], "oldest first, then by id");
    assert!(store.delete_client("c1").await.expect("delete"));
    assert!(!store.delete_client("c1").await.expect("delete"));
    assert!(store.find_client("c1").await.expect("find").is_none());
}

async fn an_update_rewrites_the_registration_but_not_id_secret_or_creation(store: Arc<dyn Store>) {
    store.insert_client(&client("c1")).await.expect("insert");
    store.insert_client(&client("c2")).await.expect("insert");
    let mut changed = client("c1");
    changed.name = "Renamed".into();
    changed.client_type = ClientType::Public;
    changed.secret_hash = Some("ignored".into());
    changed.redirect_uris = vec![RedirectUri::parse("https://new.example/cb").expect("uri")];
    changed.grant_types = vec![GrantType::ClientCredentials];
    changed.scopes = None;
    changed.audiences = vec![];
    changed.first_party = false;
    changed.id_token_alg = SigningAlg::Rs256;
    changed.post_logout_redirect_uris = vec![];
    changed.permissions = vec![];
    changed.introspect_any_audience = false;
    changed.auth_method = AuthMethod::None;
    changed.origin = ClientOrigin::Operator;
    changed.jwks = None;
    changed.jwks_uri = None;
    changed.logo_uri = None;
    changed.client_uri = Some(url::Url::parse("https://new.example/").expect("url"));
    changed.created_at = 99;
    changed.updated_at = 50;
    assert!(store.update_client(&changed).await.expect("update"));

    let c1 = store.find_client("c1").await.expect("find").expect("c1");
    assert_eq!(c1.name, "Renamed");
    assert_eq!(c1.client_type, ClientType::Public);
    assert_eq!(c1.redirect_uris[0].as_str(), "https://new.example/cb");
    assert_eq!(c1.grant_types, vec![GrantType::ClientCredentials]);
    assert!(c1.scopes.is_none() && c1.audiences.is_empty() && !c1.first_party);
    assert_eq!(c1.id_token_alg, SigningAlg::Rs256);
    assert!(c1.post_logout_redirect_uris.is_empty() && c1.permissions.is_empty());
    assert!(!c1.introspect_any_audience);
    assert_eq!((c1.auth_method, c1.origin), (AuthMethod::None, ClientOrigin::Operator));
    assert!(c1.jwks.is_none() && c1.jwks_uri.is_none() && c1.logo_uri.is_none());
    assert_eq!(c1.client_uri.map(String::from).as_deref(), Some("https://new.example/"));
    assert_eq!(c1.updated_at, 50);
    // Not rewritten: the secret (set_client_secret's job) and the creation time.
    assert_eq!(c1.secret_hash.as_deref(), Some("hash"));
    assert_eq!(c1.created_at, 10);
    // Only that client.
    assert_eq!(store.find_client("c2").await.expect("find").expect("c2").name, "App");

    assert!(
        !store.update_client(&client("nope")).await.expect("update"),
        "an unknown client is not created"
    );
    assert!(store.find_client("nope").await.expect("find").is_none());
}

async fn only_a_confidential_client_gets_a_new_secret(store: Arc<dyn Store>) {
    let mut secret_client = client("c1");
    secret_client.auth_method = AuthMethod::ClientSecretBasic;
    store.insert_client(&secret_client).await.expect("insert");
    let mut public = client("p1");
    public.client_type = ClientType::Public;
    public.auth_method = AuthMethod::None;
    public.secret_hash = None;
    store.insert_client(&public).await.expect("insert");
    // A client of private_key_jwt is confidential but has no secret to replace.
    let mut keyed = client("k1");
    keyed.secret_hash = None;
    store.insert_client(&keyed).await.expect("insert");
    assert!(!store.set_client_secret("k1", "new-hash", 40).await.expect("set"));
    assert!(store
        .find_client("k1")
        .await
        .expect("find")
        .expect("k1")
        .secret_hash
        .is_none());

    assert!(store.set_client_secret("c1", "new-hash", 40).await.expect("set"));
    let c1 = store.find_client("c1").await.expect("find").expect("c1");
    assert_eq!((c1.secret_hash.as_deref(), c1.updated_at), (Some("new-hash"), 40));

    assert!(!store.set_client_secret("p1", "new-hash", 40).await.expect("set"));
    let p1 = store.find_client("p1").await.expect("find").expect("p1");
    assert_eq!(
        (p1.secret_hash, p1.updated_at),
        (None, 11),
        "a public client stays without one"
    );
    assert!(!store.set_client_secret("nope", "new-hash", 40).await.expect("set"));
}
