//! The whole flow driven by a strict relying-party library (the `openidconnect` crate):
//! discovery, PKCE S256, nonce, code exchange, ID token signature and claims against the JWKS,
//! at_hash, userinfo. For a confidential and a public client.

use keyhaven::domain::client::ClientType;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

use crate::flow::{query, ClientSpec, REDIRECT};
use crate::helpers::{spawn_app, Backend};

async fn relying_party_flow(client_type: ClientType) {
    let app = spawn_app(Backend::Sqlite).await;
    let registered = app
        .register_client(ClientSpec {
            client_type,
            ..Default::default()
        })
        .await;
    let alice = app.create_user("alice").await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(app.address.clone()).unwrap(), &http)
        .await
        .expect("discovery and JWKS");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(registered.id.clone()),
        registered.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.to_owned()).unwrap());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();

    let done = app.authorize_as(url.as_str(), "alice").await;
    let params = query(&done);
    assert_eq!(params.get("state"), Some(csrf.secret()));
    assert_eq!(params.get("iss"), Some(&app.address));

    let tokens = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("an ID token");
    let id_verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&id_verifier, &nonce)
        .expect("ID token verifies: signature, iss, aud, exp, nonce");
    assert_eq!(claims.subject().as_str(), alice.id);
    assert!(claims.auth_time().is_some());
    let expected_hash = claims.access_token_hash().expect("at_hash");
    let actual_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(*expected_hash, actual_hash);

    let userinfo: CoreUserInfoClaims = client
        .user_info(tokens.access_token().to_owned(), Some(claims.subject().clone()))
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(userinfo.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert!(userinfo.name().is_some());
}

#[tokio::test]
async fn a_confidential_client_completes_the_flow_with_a_relying_party_library() {
    relying_party_flow(ClientType::Confidential).await;
}

#[tokio::test]
async fn a_public_client_completes_the_flow_with_a_relying_party_library() {
    relying_party_flow(ClientType::Public).await;
}
