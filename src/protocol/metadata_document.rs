//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): a `client_id`
//! that is an https URL with a path names a JSON document the client hosts, and that document
//! is its registration. Two rules live here, free of I/O: which ids are such URLs
//! ([`document_url`]) and what a fetched document must say to become a client
//! ([`client_of_document`]). Fetching and caching are `crate::fetch`; the service is
//! `service::metadata_documents`.

use serde_json::{Map, Value};
use url::{Host, Url};

use crate::domain::client::{AuthMethod, Client, ClientOrigin, ClientRegistration, ClientType, GrantType, RedirectUri};
use crate::domain::scope::ScopeSet;
use crate::domain::{ClientId, UnixTime};

/// What an id says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentId {
    /// An ordinary client id (or the feature is off): look it up in the store.
    NotADocument,
    /// A metadata document's URL, to fetch.
    Url(Url),
    /// Meant as a document URL but not one Keyhaven fetches; the reason in words.
    Refused(String),
}

/// What [`document_url`] needs of the settings.
#[derive(Clone, Copy)]
pub struct UrlPolicy<'a> {
    pub enabled: bool,
    /// `dev_allow_loopback_fetch`: also `http` on a loopback host.
    pub allow_loopback_http: bool,
    /// The `client_id_metadata_documents` host rule.
    pub allows_host: &'a dyn Fn(&str) -> bool,
}

/// Whether `id` names a metadata document: an `https` URL with a path other than `/`, no
/// fragment, no user info and no `.` or `..` segment (the draft's §3), on a host the settings
/// allow. An id that does not start like an http(s) URL is an ordinary id.
pub fn document_url(id: &str, policy: UrlPolicy<'_>) -> DocumentId {
    let lower = id.get(..8).unwrap_or(id).to_ascii_lowercase();
    if !policy.enabled || !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return DocumentId::NotADocument;
    }
    let refuse = |reason: &str| DocumentId::Refused(reason.to_owned());
    let Ok(url) = Url::parse(id) else {
        return refuse("the client id is not a valid URL");
    };
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_loopback_http && loopback => {}
        _ => return refuse("the client id must be an https URL"),
    }
    if url.fragment().is_some() || id.contains('#') {
        return refuse("the client id URL must not have a fragment");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return refuse("the client id URL must not hold a user name or password");
    }
    // The parser removes dot segments; the id as sent must not have had any.
    let raw_path = id
        .split_once("://")
        .map(|(_, rest)| rest)
        .and_then(|rest| rest.find('/').and_then(|i| rest.get(i..)))
        .unwrap_or("");
    let raw_path = raw_path.split(['?', '#']).next().unwrap_or("");
    if raw_path.split('/').any(|segment| {
        matches!(
            segment,
            "." | ".." | "%2e" | "%2E" | "%2e%2e" | "%2E%2E" | ".%2e" | "%2e."
        )
    }) {
        return refuse("the client id URL must not have `.` or `..` path segments");
    }
    if url.path() == "/" || url.path().is_empty() {
        return refuse("the client id URL must have a path (not just `/`)");
    }
    let Some(host) = url.host_str() else {
        return refuse("the client id URL has no host");
    };
    if !(policy.allows_host)(host) {
        return DocumentId::Refused(format!(
            "this server does not accept client metadata documents from the host {host}"
        ));
    }
    DocumentId::Url(url)
}

/// What clients nobody vetted may use: the `self_registered_*` settings.
#[derive(Debug, Clone)]
pub struct SelfRegisteredPolicy<'a> {
    pub grants: &'a [GrantType],
    pub scopes: &'a ScopeSet,
}

/// The client a fetched document describes, or why it is refused (in words for a page).
/// `id` is the client id exactly as sent; the document's `client_id` must equal it.
pub fn client_of_document(
    id: &str,
    body: &[u8],
    policy: &SelfRegisteredPolicy<'_>,
    now: UnixTime,
) -> Result<Client, String> {
    let doc: Map<String, Value> = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(doc)) => doc,
        Ok(_) => return Err("the document is not a JSON object".into()),
        Err(_) => return Err("the document is not valid JSON".into()),
    };
    match doc.get("client_id") {
        Some(Value::String(claimed)) if claimed == id => {}
        Some(Value::String(_)) => {
            return Err("the client_id in the document differs from the URL it was fetched from".into())
        }
        _ => return Err("the document has no client_id".into()),
    }
    if doc.contains_key("client_secret") || doc.contains_key("client_secret_expires_at") {
        return Err("the document holds a client_secret; a metadata document cannot hold a shared secret".into());
    }
    let auth_method = match doc.get("token_endpoint_auth_method") {
        None => AuthMethod::None,
        Some(Value::String(m)) if m == "none" => AuthMethod::None,
        Some(Value::String(m)) if m == "private_key_jwt" => AuthMethod::PrivateKeyJwt,
        Some(Value::String(m)) => {
            return Err(format!(
                "token_endpoint_auth_method `{m}` is not accepted (none or private_key_jwt)"
            ))
        }
        Some(_) => return Err("token_endpoint_auth_method must be a string".into()),
    };
    let redirect_uris = match doc.get("redirect_uris") {
        Some(Value::Array(uris)) if !uris.is_empty() => uris
            .iter()
            .map(|u| match u {
                Value::String(u) => RedirectUri::parse(u),
                _ => Err("redirect_uris must be strings".into()),
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err("the document needs redirect_uris: a non-empty array of URLs".into()),
    };
    let post_logout_redirect_uris = match doc.get("post_logout_redirect_uris") {
        None => vec![],
        Some(Value::Array(uris)) => uris
            .iter()
            .map(|u| match u {
                Value::String(u) => RedirectUri::parse(u),
                _ => Err("post_logout_redirect_uris must be strings".into()),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err("post_logout_redirect_uris must be an array".into()),
    };
    let grant_types = grants(doc.get("grant_types"), policy.grants)?;
    let scopes = scopes(doc.get("scope"), policy.scopes)?;
    let name = match doc.get("client_name") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.trim().chars().take(200).collect(),
        None | Some(Value::String(_)) => Url::parse(id)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| id.chars().take(200).collect()),
        Some(_) => return Err("client_name must be a string".into()),
    };
    let jwks = doc.get("jwks").cloned();
    let reg = ClientRegistration {
        name,
        client_type: if auth_method == AuthMethod::None {
            ClientType::Public
        } else {
            ClientType::Confidential
        },
        redirect_uris,
        grant_types,
        scopes: Some(scopes),
        post_logout_redirect_uris,
        auth_method,
        origin: ClientOrigin::MetadataDocument,
        jwks,
        jwks_uri: url_member(&doc, "jwks_uri")?,
        logo_uri: url_member(&doc, "logo_uri")?,
        client_uri: url_member(&doc, "client_uri")?,
        ..ClientRegistration::new("")
    };
    reg.validate()
        .map_err(|e| format!("the document is not a valid registration: {e}"))?;
    Ok(reg.into_client(ClientId::from(id), None, now))
}

/// `grant_types`: absent means the code grant; each one named must be one clients nobody vetted
/// may use, except `refresh_token`, which is left out when the policy does not allow it.
fn grants(member: Option<&Value>, allowed: &[GrantType]) -> Result<Vec<GrantType>, String> {
    let named: Vec<String> = match member {
        None => vec!["authorization_code".into()],
        Some(Value::Array(grants)) => grants
            .iter()
            .map(|g| g.as_str().map(str::to_owned).ok_or("grant_types must be strings"))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("grant_types must be an array".into()),
    };
    let mut grants = Vec::new();
    for name in named {
        let grant: GrantType = name
            .parse()
            .map_err(|_| format!("grant type `{name}` is not supported"))?;
        if allowed.contains(&grant) {
            grants.push(grant);
        } else if grant != GrantType::RefreshToken {
            return Err(format!(
                "grant type `{name}` is not allowed for a metadata-document client"
            ));
        }
    }
    if !grants.contains(&GrantType::AuthorizationCode) {
        return Err("grant_types must include authorization_code".into());
    }
    grants.sort();
    grants.dedup();
    Ok(grants)
}

/// `scope`: what the client may ask for, within what the settings allow (tokens beyond them
/// are left out); absent means everything the settings allow.
fn scopes(member: Option<&Value>, allowed: &ScopeSet) -> Result<ScopeSet, String> {
    match member {
        None => Ok(allowed.clone()),
        Some(Value::String(raw)) => {
            let asked = ScopeSet::parse(raw).map_err(|e| format!("scope: {e}"))?;
            let kept: Vec<String> = asked.tokens().into_iter().filter(|t| allowed.contains(t)).collect();
            ScopeSet::from_tokens(kept).map_err(|_| "none of the document's scopes is allowed here".to_owned())
        }
        Some(_) => Err("scope must be a space-separated string".into()),
    }
}

fn url_member(doc: &Map<String, Value>, name: &str) -> Result<Option<Url>, String> {
    match doc.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(raw)) => match Url::parse(raw) {
            Ok(url) if matches!(url.scheme(), "https" | "http") => Ok(Some(url)),
            _ => Err(format!("{name} must be an https URL")),
        },
        Some(_) => Err(format!("{name} must be a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(id: &str, loopback: bool, allows: &dyn Fn(&str) -> bool) -> DocumentId {
        document_url(
            id,
            UrlPolicy {
                enabled: true,
                allow_loopback_http: loopback,
                allows_host: allows,
            },
        )
    }

    #[test]
    fn only_https_urls_with_a_path_name_documents() {
        let any = |_: &str| true;
        assert!(matches!(
            check("https://app.example/client.json", false, &any),
            DocumentId::Url(_)
        ));
        assert_eq!(check("khc-abc", false, &any), DocumentId::NotADocument);
        let off = document_url(
            "https://app.example/c",
            UrlPolicy {
                enabled: false,
                allow_loopback_http: false,
                allows_host: &any,
            },
        );
        assert_eq!(off, DocumentId::NotADocument);
        for bad in [
            "https://app.example/",
            "https://app.example",
            "https://app.example/c#x",
            "https://user@app.example/c",
            "https://app.example/a/../c",
            "https://app.example/./c",
            "http://app.example/c",
            "http://127.0.0.1:8080/c",
        ] {
            assert!(matches!(check(bad, false, &any), DocumentId::Refused(_)), "{bad}");
        }
        assert!(matches!(
            check("http://127.0.0.1:8080/c", true, &any),
            DocumentId::Url(_)
        ));
        assert!(matches!(
            check("http://app.example/c", true, &any),
            DocumentId::Refused(_)
        ));
        let only = |h: &str| h == "tools.example";
        assert!(matches!(
            check("https://tools.example/c", false, &only),
            DocumentId::Url(_)
        ));
        assert!(matches!(
            check("https://other.example/c", false, &only),
            DocumentId::Refused(_)
        ));
    }

    fn self_registered() -> (Vec<GrantType>, ScopeSet) {
        (
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            ScopeSet::parse("openid profile offline_access").unwrap(),
        )
    }

    fn parse(doc: Value) -> Result<Client, String> {
        let (grants, scopes) = self_registered();
        let policy = SelfRegisteredPolicy {
            grants: &grants,
            scopes: &scopes,
        };
        client_of_document("https://app.example/c", doc.to_string().as_bytes(), &policy, 0)
    }

    #[test]
    fn a_document_becomes_an_unverified_public_client() {
        let client = parse(serde_json::json!({
            "client_id": "https://app.example/c",
            "client_name": "App",
            "redirect_uris": ["https://app.example/cb"],
            "grant_types": ["authorization_code", "refresh_token"],
            "logo_uri": "https://app.example/logo.png",
        }))
        .unwrap();
        assert_eq!(client.id.as_str(), "https://app.example/c");
        assert_eq!(client.name, "App");
        assert_eq!(client.origin, ClientOrigin::MetadataDocument);
        assert_eq!(client.auth_method, AuthMethod::None);
        assert!(!client.is_verified());
        assert!(!client.first_party);
        assert!(client.allows_grant(GrantType::RefreshToken));
        assert_eq!(
            client.scopes.as_ref().map(ScopeSet::tokens),
            Some(vec!["offline_access".to_owned(), "openid".into(), "profile".into()])
        );
    }

    #[test]
    fn what_a_document_must_not_say() {
        let base = serde_json::json!({
            "client_id": "https://app.example/c",
            "redirect_uris": ["https://app.example/cb"],
        });
        assert!(parse(base.clone()).is_ok());
        let with = |k: &str, v: Value| {
            let mut doc = base.clone();
            doc[k] = v;
            parse(doc).unwrap_err()
        };
        assert!(with("client_id", "https://app.example/other".into()).contains("differs"));
        assert!(with("client_secret", "s".into()).contains("client_secret"));
        assert!(with("token_endpoint_auth_method", "client_secret_basic".into()).contains("not accepted"));
        assert!(with("token_endpoint_auth_method", "private_key_jwt".into()).contains("jwks"));
        assert!(with("redirect_uris", serde_json::json!([])).contains("redirect_uris"));
        assert!(with("redirect_uris", serde_json::json!(["http://app.example/cb"])).contains("http"));
        assert!(with("grant_types", serde_json::json!(["client_credentials"])).contains("not allowed"));
        assert!(parse(serde_json::json!([1])).unwrap_err().contains("object"));
        assert!(client_of_document(
            "https://app.example/c",
            b"<html>",
            &SelfRegisteredPolicy {
                grants: &[],
                scopes: &ScopeSet::parse("openid").unwrap()
            },
            0
        )
        .unwrap_err()
        .contains("JSON"));
    }
}
