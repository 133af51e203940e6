//! `keyhaven demo`: a client and a person to try the code flow with, made on request only.
//! The person's password is generated and printed once; nothing here is ever made by default.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{CliError, Output};
use crate::crypto::tokens::random_base64url;
use crate::domain::client::{ClientType, GrantType, RedirectUri};
use crate::domain::scope::ScopeSet;
use crate::domain::user::User;
use crate::service::accounts::{self, NewAccount};
use crate::service::clients::{self, ClientChanges, Registered};
use crate::service::{Actor, Services};

/// Where the demo client's code arrives: nothing needs to listen there, the browser's address
/// bar shows the code.
const REDIRECT_URI: &str = "http://127.0.0.1:9999/callback";

/// A person with a generated name and password.
async fn make_person(services: &Services, actor: &Actor) -> Result<(User, SecretString), CliError> {
    let suffix = random_base64url(4).to_ascii_lowercase().replace(['-', '_'], "x");
    let username = format!("demo-{suffix}");
    // 24 random base64url characters: 144 bits, far from any common password.
    let password = SecretString::from(random_base64url(18));
    let new = NewAccount {
        username: username.clone(),
        email: format!("{username}@example.com"),
        password: password.clone(),
        claims: [("name".to_owned(), "Demo Person".to_owned())].into(),
    };
    Ok((accounts::create(services, new, actor).await?, password))
}

/// A confidential client of the code flow, sent back to [`REDIRECT_URI`].
async fn make_client(services: &Services, actor: &Actor) -> Result<Registered, CliError> {
    let scopes = ScopeSet::parse("openid profile email offline_access").map_err(|e| CliError::failed(e.to_string()))?;
    let changes = ClientChanges {
        client_type: Some(ClientType::Confidential),
        redirect_uris: Some(vec![RedirectUri::parse(REDIRECT_URI).map_err(CliError::failed)?]),
        grant_types: Some(vec![GrantType::AuthorizationCode, GrantType::RefreshToken]),
        scopes: Some(Some(scopes)),
        ..ClientChanges::default()
    };
    Ok(clients::create(services, "Demo app".into(), changes, actor).await?)
}

pub(super) async fn run(services: &Services, out: &Output) -> Result<(), CliError> {
    let actor = Actor::CommandLine;
    let (person, password) = make_person(services, &actor).await?;
    let made = make_client(services, &actor).await?;
    let secret = made.secret.as_ref().map(|s| s.expose().to_owned()).unwrap_or_default();
    let issuer = services.settings.issuer.trim_end_matches('/');
    let client_id = &made.client.id;
    // A fresh PKCE pair (RFC 7636 S256) for this demo's one request.
    let verifier = random_base64url(32);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let authorize = format!(
        "{issuer}/authorize?response_type=code&client_id={client_id}&redirect_uri={REDIRECT_URI}\
         &scope=openid%20profile%20email&state=demo&code_challenge={challenge}&code_challenge_method=S256"
    );
    let exchange = format!(
        "curl -s -u '{client_id}:{secret}' -d grant_type=authorization_code -d code=CODE \
         -d redirect_uri={REDIRECT_URI} -d code_verifier={verifier} {issuer}/token"
    );
    let demo = Demo {
        username: person.username,
        password,
        client_id: made.client.id.to_string(),
        secret,
        issuer: issuer.to_owned(),
        authorize,
        verifier,
        exchange,
    };
    print(out, &demo);
    Ok(())
}

/// What the demo made, to print once.
struct Demo {
    username: String,
    password: SecretString,
    client_id: String,
    secret: String,
    issuer: String,
    authorize: String,
    verifier: String,
    exchange: String,
}

fn print(out: &Output, demo: &Demo) {
    let Demo {
        username,
        password,
        client_id,
        secret,
        issuer,
        authorize,
        verifier,
        exchange,
    } = demo;
    out.print(
        &json!({
            "username": username,
            "password": password.expose_secret(),
            "client_id": client_id,
            "client_secret": secret,
            "redirect_uri": REDIRECT_URI,
            "account_url": format!("{issuer}/account"),
            "authorize_url": authorize,
            "code_verifier": verifier,
            "token_request": exchange,
        }),
        || {
            format!(
                "A demo person and a demo client (shown once; remove them with `keyhaven user disable {}` \
                 and `keyhaven client delete {client_id}`):\n\
                 \n  person:        {} / {}\n  client:        {client_id}\n  client secret: {secret}\n\
                 \n1. Sign in at   {issuer}/account\n\
                 2. Then open    {authorize}\n   \
                    and after consent copy `code` from the address the browser lands on ({REDIRECT_URI}?code=...).\n\
                 3. Exchange it within a minute:\n   {exchange}\n",
                username,
                username,
                password.expose_secret(),
            )
        },
    );
}
