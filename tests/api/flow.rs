//! Helpers that drive the authorization flow the way a browser does: follow redirects by
//! hand, read CSRF tokens out of the forms, submit them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use keyhaven::domain::client::{ClientRegistration, ClientType, GrantType, Permission, RedirectUri};
use keyhaven::domain::scope::ScopeSet;
use keyhaven::domain::user::User;
use keyhaven::domain::{Clock, SigningAlg};
use reqwest::header::LOCATION;
use sha2::{Digest, Sha256};
use url::Url;

use crate::helpers::TestApp;

pub const REDIRECT: &str = "https://rp.example/cb";
pub const PASSWORD: &str = "correct horse battery staple";
pub const API: &str = "https://api.example";

pub struct TestClient {
    pub id: String,
    pub secret: Option<String>,
}

pub struct ClientSpec {
    pub client_type: ClientType,
    pub redirect_uris: Vec<&'static str>,
    pub first_party: bool,
    pub scopes: Option<&'static str>,
    pub grants: Vec<GrantType>,
    pub audiences: Vec<&'static str>,
    pub post_logout_redirect_uris: Vec<&'static str>,
    pub permissions: Vec<Permission>,
    pub introspect_any_audience: bool,
    pub id_token_alg: SigningAlg,
}

impl Default for ClientSpec {
    fn default() -> Self {
        Self {
            client_type: ClientType::Confidential,
            redirect_uris: vec![REDIRECT],
            first_party: false,
            scopes: None,
            grants: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            audiences: vec![API],
            post_logout_redirect_uris: vec![],
            // So a test can ask whether this client's own refresh tokens are active.
            permissions: vec![Permission::Introspect],
            introspect_any_audience: false,
            id_token_alg: SigningAlg::Rs256,
        }
    }
}

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

pub fn pkce() -> Pkce {
    let verifier = keyhaven::crypto::tokens::random_base64url(32);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Pkce { verifier, challenge }
}

/// The value of `name` in a hidden input of an HTML form.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("no Location on a {} response", response.status()))
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// The query parameters of a URL, as a map.
pub fn query(url: &str) -> std::collections::HashMap<String, String> {
    Url::parse(url)
        .expect("absolute URL")
        .query_pairs()
        .into_owned()
        .collect()
}

impl TestApp {
    pub async fn register_client(&self, spec: ClientSpec) -> TestClient {
        let secret = (spec.client_type == ClientType::Confidential)
            .then(|| keyhaven::crypto::tokens::OpaqueSecret::generate("khs_"));
        let registration = ClientRegistration {
            name: "Relying Party".into(),
            client_type: spec.client_type,
            redirect_uris: spec
                .redirect_uris
                .iter()
                .map(|u| RedirectUri::parse(u).expect("uri"))
                .collect(),
            grant_types: spec.grants,
            scopes: spec.scopes.map(|s| ScopeSet::parse(s).expect("scope")),
            audiences: spec.audiences.iter().map(|a| (*a).into()).collect(),
            first_party: spec.first_party,
            id_token_alg: spec.id_token_alg,
            post_logout_redirect_uris: spec
                .post_logout_redirect_uris
                .iter()
                .map(|u| RedirectUri::parse(u).expect("uri"))
                .collect(),
            // The default spec's `introspect` is refused to public clients: they cannot
            // authenticate. (A test of that rule registers one by hand.)
            permissions: if spec.client_type == ClientType::Public {
                vec![]
            } else {
                spec.permissions
            },
            introspect_any_audience: spec.introspect_any_audience,
            auth_method: if spec.client_type == ClientType::Public {
                keyhaven::domain::client::AuthMethod::None
            } else {
                keyhaven::domain::client::AuthMethod::ClientSecretBasic
            },
            ..ClientRegistration::new("")
        };
        registration.validate().expect("valid client");
        let id = format!("client-{}", uuid::Uuid::new_v4().simple());
        let client = registration.into_client(
            id.clone().into(),
            secret.as_ref().map(|s| s.hash().as_str().to_owned()),
            self.clock.now(),
        );
        self.state.store.insert_client(&client).await.expect("insert client");
        TestClient {
            id,
            secret: secret.map(|s| s.expose().to_owned()),
        }
    }

    pub async fn create_user(&self, username: &str) -> User {
        let now = self.clock.now();
        let user = User {
            id: uuid::Uuid::new_v4().to_string().into(),
            username: username.into(),
            email: format!("{username}@example.com"),
            email_verified: true,
            password_hash: self
                .state
                .passwords
                .hash(&PASSWORD.to_owned().into())
                .await
                .expect("hash"),
            disabled: false,
            claims: [
                ("name".to_owned(), format!("{username} Example")),
                ("locale".to_owned(), "en".to_owned()),
            ]
            .into(),
            totp_secret: None,
            totp_pending: None,
            created_at: now,
            updated_at: now,
        };
        self.state.store.insert_user(&user).await.expect("insert user");
        user
    }

    /// `/authorize?...` with the usual parameters, overridden or removed (value None) by `extra`.
    pub fn authorize_url(&self, client_id: &str, challenge: &str, extra: &[(&str, Option<&str>)]) -> String {
        let mut params: Vec<(String, String)> = vec![
            ("response_type".into(), "code".into()),
            ("client_id".into(), client_id.into()),
            ("redirect_uri".into(), REDIRECT.into()),
            ("scope".into(), "openid profile email offline_access".into()),
            ("state".into(), "st4te".into()),
            ("nonce".into(), "n0nce".into()),
            ("code_challenge".into(), challenge.into()),
            ("code_challenge_method".into(), "S256".into()),
        ];
        for (name, value) in extra {
            params.retain(|(k, _)| k != name);
            if let Some(v) = value {
                params.push(((*name).into(), (*v).into()));
            }
        }
        let mut url = Url::parse(&format!("{}/authorize", self.address)).expect("url");
        url.query_pairs_mut().extend_pairs(params);
        url.into()
    }

    pub async fn get_url(&self, url: &str) -> reqwest::Response {
        let url = if url.starts_with('/') {
            format!("{}{url}", self.address)
        } else {
            url.to_owned()
        };
        self.http.get(url).send().await.expect("request")
    }

    /// Submits the sign-in form found at `login_url`.
    pub async fn submit_login(&self, login_url: &str, login: &str, password: &str) -> reqwest::Response {
        let page = self.get_url(login_url).await;
        assert_eq!(page.status(), 200, "login page");
        let html = page.text().await.expect("html");
        let csrf = hidden(&html, "csrf_token").expect("csrf token in the form");
        let mut form: Vec<(&str, String)> = vec![
            ("csrf_token", csrf),
            ("login", login.to_owned()),
            ("password", password.to_owned()),
        ];
        for name in ["request", "return_to"] {
            if let Some(value) = hidden(&html, name) {
                form.push((name, value.replace("&#x2F;", "/")));
            }
        }
        self.http
            .post(format!("{}/login", self.address))
            .form(&form)
            .send()
            .await
            .expect("post login")
    }

    /// Submits the consent form found at `consent_url` with `decision`.
    pub async fn submit_consent(&self, consent_url: &str, decision: &str) -> reqwest::Response {
        let page = self.get_url(consent_url).await;
        assert_eq!(page.status(), 200, "consent page");
        let html = page.text().await.expect("html");
        let form = [
            ("csrf_token", hidden(&html, "csrf_token").expect("csrf")),
            ("request", hidden(&html, "request").expect("request")),
            ("decision", decision.to_owned()),
        ];
        self.http
            .post(format!("{}/consent", self.address))
            .form(&form)
            .send()
            .await
            .expect("post consent")
    }

    /// Follows the flow from an authorization URL to the client's redirect URI, signing in as
    /// `username` and allowing consent when asked. Returns the final Location.
    pub async fn authorize_as(&self, url: &str, username: &str) -> String {
        self.authorize_with(url, username, PASSWORD, REDIRECT).await
    }

    /// [`Self::authorize_as`] with this password, until a Location starting with `redirect`.
    pub async fn authorize_with(&self, url: &str, username: &str, password: &str, redirect: &str) -> String {
        let mut response = self.get_url(url).await;
        for _ in 0..10 {
            assert_eq!(response.status(), 303, "expected a redirect, got {}", response.status());
            let next = location(&response);
            if next.starts_with(redirect) || !next.starts_with('/') && !next.starts_with(&self.address) {
                return next;
            }
            let path = next.trim_start_matches(&self.address).to_owned();
            response = if path.starts_with("/login") {
                self.submit_login(&path, username, password).await
            } else if path.starts_with("/consent") {
                self.submit_consent(&path, "allow").await
            } else {
                self.get_url(&path).await
            };
        }
        panic!("the flow did not reach the client");
    }

    /// A code for `client`, signing in as `username`; returns (code, pkce).
    pub async fn code_for(
        &self,
        client: &TestClient,
        username: &str,
        extra: &[(&str, Option<&str>)],
    ) -> (String, Pkce) {
        let pkce = pkce();
        let done = self
            .authorize_as(&self.authorize_url(&client.id, &pkce.challenge, extra), username)
            .await;
        let params = query(&done);
        let code = params
            .get("code")
            .unwrap_or_else(|| panic!("no code in {done}"))
            .clone();
        (code, pkce)
    }

    /// A bearer token for the admin API: a new client_credentials client for audience
    /// `keyhaven-admin` with scope `keyhaven:admin`.
    pub async fn admin_token(&self) -> String {
        let operator = self
            .register_client(ClientSpec {
                redirect_uris: vec![],
                grants: vec![GrantType::ClientCredentials],
                audiences: vec!["keyhaven-admin"],
                scopes: Some("keyhaven:admin"),
                ..Default::default()
            })
            .await;
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", "keyhaven:admin"),
            ("resource", "keyhaven-admin"),
        ];
        let tokens: serde_json::Value = self.token(&operator, &form).await.json().await.expect("json");
        tokens["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{tokens}"))
            .to_owned()
    }

    /// `POST /token` with client_secret_basic (or `client_id` only for public clients).
    pub async fn token(&self, client: &TestClient, form: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.http.post(format!("{}/token", self.address));
        let mut form: Vec<(&str, &str)> = form.to_vec();
        match &client.secret {
            Some(secret) => request = request.basic_auth(&client.id, Some(secret)),
            None => form.push(("client_id", &client.id)),
        }
        request.form(&form).send().await.expect("token request")
    }

    pub async fn exchange(&self, client: &TestClient, code: &str, verifier: &str) -> reqwest::Response {
        self.token(
            client,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier),
            ],
        )
        .await
    }
}
