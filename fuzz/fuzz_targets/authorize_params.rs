#![no_main]
//! `Params::parse`, `client_id` and `validate` of the authorization endpoint, for a fixed client:
//! they never panic, and a request they accept keeps every rule (a registered redirect URI, an
//! S256 challenge, scopes and audiences the client has, `prompt=none` alone, it survives being
//! kept as JSON while the person signs in, and the same client's check on resume passes it).

use std::sync::OnceLock;

use keyhaven::domain::client::{Client, ClientRegistration, ClientType, GrantType, RedirectUri};
use keyhaven::domain::scope::ScopeSet;
use keyhaven::domain::SigningAlg;
use keyhaven::protocol::authorize::{client_id, recheck, validate, AuthorizationRequest, Params};
use keyhaven::protocol::redirect_uri;
use libfuzzer_sys::fuzz_target;

fn client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let uris = ["https://app.example/cb", "http://127.0.0.1/cb", "com.example.app:/cb"];
        ClientRegistration {
            name: "fuzz".into(),
            client_type: ClientType::Confidential,
            redirect_uris: uris.iter().map(|u| RedirectUri::parse(u).unwrap()).collect(),
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            scopes: Some(ScopeSet::parse("openid profile email offline_access").unwrap()),
            audiences: vec!["https://api.example".into(), "https://other.example".into()],
            first_party: false,
            id_token_alg: SigningAlg::Rs256,
            post_logout_redirect_uris: vec![],
            permissions: vec![],
            introspect_any_audience: false,
            ..ClientRegistration::new("fuzz")
        }
        .into_client("fuzz-client".into(), None, 0)
    })
}

fn verify_hint(hint: &str) -> Result<String, String> {
    match hint {
        "valid-hint" => Ok("user-1".into()),
        _ => Err("not a token".into()),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else { return };
    let Ok(params) = Params::parse(query.as_bytes()) else {
        return;
    };
    let _ = client_id(&params);
    let client = client();
    let Ok(request) = validate(&params, client, &verify_hint) else {
        return;
    };
    assert!(redirect_uri::registered(&client.redirect_uris, &request.redirect_to).is_some());
    // What resumes after sign-in is checked again against the client: unchanged, it passes.
    assert_eq!(recheck(&request, client), Ok(()));
    assert_eq!(request.code_challenge.len(), 43);
    let scopes = request.scopes().expect("an accepted scope parses");
    assert!(scopes.is_subset_of(client.scopes.as_ref().unwrap()));
    assert!(request.audience.iter().all(|a| client.audiences.contains(a)));
    assert!(!request.audience.is_empty() || scopes.contains("openid"));
    assert!(!(request.prompt_none() && request.prompt.len() > 1));
    assert!(request.max_age.is_none_or(|age| age >= 0));
    let kept: AuthorizationRequest = serde_json::from_str(&serde_json::to_string(&request).unwrap()).unwrap();
    assert_eq!(kept, request);
});
