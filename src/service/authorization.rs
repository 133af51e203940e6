//! The authorization endpoint's flow, free of HTTP: a request is validated, kept while the
//! person signs in or consents (bound to their browser, a bounded number per browser), checked
//! again when it resumes (the client may have changed meanwhile), and ends in a code or an
//! error at the client's redirect URI. The rules are `protocol::authorize`; this is what they
//! do with the store.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::Value;

use super::clients::LookupError;
use super::Services;
use crate::crypto::tokens::{prefix, random_base64url, OpaqueSecret, SecretHash};
use crate::domain::client::Client;
use crate::domain::scope::{self, ScopeSet};
use crate::domain::user::User;
use crate::protocol::access_token;
use crate::protocol::authorize::{
    self, code_redirect, error_redirect, next_step, AuthorizationRequest, ErrorRedirect, Params, Progress,
    RequestError, Step,
};
use crate::protocol::error::{err, OAuthError};
use crate::protocol::token::id_token;
use crate::storage::{CodeRecord, PendingAuthorization, SessionRecord};

/// How long a person has to sign in and consent before the request must start over.
pub const PENDING_TTL: i64 = 600;
/// The most sign-in requests one browser keeps pending (tabs of several apps at once); a newer
/// one pushes out the oldest.
pub const PENDING_PER_BROWSER: i64 = 16;

/// A kept request: its row and the request it holds.
pub type Pending = (PendingAuthorization, AuthorizationRequest);

/// Who asks: a browser, known by the hash of its cookie, and its live session with its person
/// when it is signed in.
pub struct Visitor {
    pub browser_hash: String,
    pub signed_in: Option<(SessionRecord, User)>,
}

impl Visitor {
    fn session(&self) -> Option<&SessionRecord> {
        self.signed_in.as_ref().map(|(session, _)| session)
    }
}

/// Where the browser goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    SignIn {
        pending_id: String,
    },
    Consent {
        pending_id: String,
    },
    /// Back to the authorization endpoint, to carry on with the kept request.
    Resume {
        pending_id: String,
    },
    /// To the client's redirect URI: a code, or an error for the client.
    Redirect(String),
    /// The client or its redirect URI cannot be trusted: say why on a page, never redirect.
    Refuse(Cow<'static, str>),
    /// The kept request is gone: expired, never made, or another browser's.
    Expired,
}

fn refuse(message: &'static str) -> Next {
    Next::Refuse(Cow::Borrowed(message))
}

/// A client metadata document that was refused: a page saying why, never a redirect (the
/// redirect URIs are the document's, which is not trusted).
fn document_refused(client_id: &str, reason: &str) -> Next {
    let url: String = client_id.chars().take(200).collect();
    Next::Refuse(Cow::Owned(format!(
        "The application's client metadata document ({url}) was refused: {reason}."
    )))
}

fn refused(services: &Services, error: RequestError) -> Next {
    match error {
        RequestError::Untrusted(message) => Next::Refuse(message.into()),
        RequestError::Redirect(e) => Next::Redirect(error_redirect(&e, &services.settings.issuer)),
    }
}

/// A new authorization request: the query of `GET /authorize`, or the body of the POST.
pub async fn authorize(services: &Services, visitor: &Visitor, encoded: &[u8]) -> anyhow::Result<Next> {
    let Ok(params) = Params::parse(encoded) else {
        return Ok(refuse("The request is too large or has too many parameters."));
    };
    let client_id = match authorize::client_id(&params) {
        Ok(id) => id,
        Err(RequestError::Untrusted(message)) => return Ok(Next::Refuse(message.into())),
        Err(RequestError::Redirect(_)) => return Ok(refuse("The request is malformed.")),
    };
    let client = match super::clients::lookup(services, client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => return Ok(refuse("The application that sent you here is not registered.")),
        Err(LookupError::Document(reason)) => return Ok(document_refused(client_id, &reason)),
        Err(LookupError::Store(e)) => return Err(e.into()),
    };
    let verify_hint = |hint: &str| verify_id_token_hint(services, hint, &client.id);
    match authorize::validate(&params, &client, &verify_hint) {
        Ok(request) => {
            // Resources whose access tokens take different algorithms are refused now, not
            // after the person signed in and the code came back to the token endpoint.
            let keys = services.keys.current();
            if let Err(error) = access_token::signing_alg(&services.protocol(), &keys, &request.audience) {
                return Ok(refused(
                    services,
                    RequestError::Redirect(ErrorRedirect {
                        redirect_to: request.redirect_to,
                        state: request.state,
                        error,
                    }),
                ));
            }
            proceed(services, visitor, &client, request, None).await
        }
        Err(e) => Ok(refused(services, e)),
    }
}

/// Verifies an `id_token_hint` issued to this client (`id_token::verify_hint`, shared with
/// `/logout`) and returns the person it names.
pub fn verify_id_token_hint(services: &Services, hint: &str, client_id: &str) -> Result<String, String> {
    let claims = id_token::verify_hint(&services.keys, &services.settings.issuer, hint, Some(client_id))?;
    claims
        .get("sub")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| "has no sub".into())
}

/// The kept request `pending_id`, back from sign-in or consent: checked again against its
/// client as it is now, then the next step.
pub async fn resume(services: &Services, visitor: &Visitor, pending_id: &str) -> anyhow::Result<Next> {
    match reload(services, &visitor.browser_hash, pending_id).await? {
        Ok(kept) => {
            let pending = Some((pending_id, kept.pending));
            proceed(services, visitor, &kept.client, kept.request, pending).await
        }
        Err(next) => Ok(next),
    }
}

/// The pending request `id`, if it exists, has not expired and belongs to this browser.
pub async fn load_pending(services: &Services, browser_hash: &str, id: &str) -> anyhow::Result<Option<Pending>> {
    let now = services.clock.now();
    let pending = services
        .store
        .find_pending_authorization(SecretHash::of(id).as_str(), now)
        .await?;
    let Some(pending) = pending.filter(|p| p.browser_hash == browser_hash) else {
        return Ok(None);
    };
    let request = serde_json::from_str::<AuthorizationRequest>(&pending.request)?;
    Ok(Some((pending, request)))
}

/// After a successful sign-in, which gives the browser a new cookie: the pending request
/// follows the browser to it, marked as signed in for this very request (what `prompt=login`
/// asks). False when the request is gone.
pub async fn signed_in(
    services: &Services,
    pending_id: &str,
    from_browser_hash: &str,
    to_browser_hash: &str,
) -> anyhow::Result<bool> {
    let Some((mut pending, _)) = load_pending(services, from_browser_hash, pending_id).await? else {
        return Ok(false);
    };
    pending.browser_hash = to_browser_hash.to_owned();
    pending.login_done_at = Some(services.clock.now());
    services.store.update_pending_authorization(&pending).await?;
    Ok(true)
}

/// A kept request that still holds, with its client.
struct Kept {
    pending: PendingAuthorization,
    request: AuthorizationRequest,
    client: Arc<Client>,
}

/// The kept request with its client, checked again: the client may have been deleted or
/// changed since the request was made. One that no longer holds is forgotten, and the answer
/// says where the browser goes instead.
async fn reload(services: &Services, browser_hash: &str, id: &str) -> anyhow::Result<Result<Kept, Next>> {
    let Some((pending, request)) = load_pending(services, browser_hash, id).await? else {
        return Ok(Err(Next::Expired));
    };
    let checked = match super::clients::lookup(services, &request.client_id).await {
        Err(LookupError::Store(e)) => return Err(e.into()),
        Err(LookupError::Document(reason)) => Err(document_refused(&request.client_id, &reason)),
        Ok(None) => Err(refuse("The application that sent you here is no longer registered.")),
        Ok(Some(client)) => match authorize::recheck(&request, &client) {
            Ok(()) => Ok(client),
            Err(e) => Err(refused(services, e)),
        },
    };
    match checked {
        Ok(client) => Ok(Ok(Kept {
            pending,
            request,
            client,
        })),
        Err(next) => {
            services.store.delete_pending_authorization(&pending.id_hash).await?;
            Ok(Err(next))
        }
    }
}

/// Runs the next step of the flow for a request that holds: keeps it for a page, or ends it
/// with a code or an error at the client.
async fn proceed(
    services: &Services,
    visitor: &Visitor,
    client: &Client,
    request: AuthorizationRequest,
    pending: Option<(&str, PendingAuthorization)>,
) -> anyhow::Result<Next> {
    let session = visitor.session();
    let consented = match session {
        Some(s) => services.store.find_consent(&s.user_id, &client.id).await?,
        None => None,
    };
    let progress = pending
        .as_ref()
        .map(|(_, p)| Progress {
            login_done_at: p.login_done_at,
            consent_done: p.consent_done,
        })
        .unwrap_or_default();
    let step = next_step(
        &request,
        client,
        session,
        consented.as_deref(),
        progress,
        services.clock.now(),
    );
    let issuer = &services.settings.issuer;
    let location = match step {
        Ok(page @ (Step::Login | Step::Consent)) => {
            let pending_id = match pending {
                Some((id, _)) => id.to_owned(),
                None => remember(services, &visitor.browser_hash, &request).await?,
            };
            return Ok(if page == Step::Login {
                Next::SignIn { pending_id }
            } else {
                Next::Consent { pending_id }
            });
        }
        Ok(Step::IssueCode) => {
            let session = session.ok_or_else(|| anyhow::anyhow!("a code step without a session"))?;
            super::metadata_documents::record_first_use(services, client).await?;
            let code = issue_code(services, &request, session).await?;
            code_redirect(&request, code.expose(), issuer)
        }
        Err(error) => {
            let e = ErrorRedirect {
                redirect_to: request.redirect_to.clone(),
                state: request.state.clone(),
                error,
            };
            error_redirect(&e, issuer)
        }
    };
    if let Some((_, pending)) = pending {
        services.store.delete_pending_authorization(&pending.id_hash).await?;
    }
    Ok(Next::Redirect(location))
}

/// Keeps the request while the person signs in or consents; returns its id for page URLs.
async fn remember(services: &Services, browser_hash: &str, request: &AuthorizationRequest) -> anyhow::Result<String> {
    let now = services.clock.now();
    let id = random_base64url(32);
    let pending = PendingAuthorization {
        id_hash: SecretHash::of(&id).as_str().to_owned(),
        browser_hash: browser_hash.to_owned(),
        request: serde_json::to_string(request)?,
        created_at: now,
        expires_at: now + PENDING_TTL,
        login_done_at: None,
        consent_done: false,
    };
    services
        .store
        .insert_pending_authorization(&pending, PENDING_PER_BROWSER)
        .await?;
    Ok(id)
}

async fn issue_code(
    services: &Services,
    request: &AuthorizationRequest,
    session: &SessionRecord,
) -> anyhow::Result<OpaqueSecret> {
    let now = services.clock.now();
    let code = OpaqueSecret::generate(prefix::AUTHORIZATION_CODE);
    services
        .store
        .insert_authorization_code(&CodeRecord {
            code_hash: code.hash().as_str().to_owned(),
            client_id: request.client_id.clone(),
            user_id: session.user_id.clone(),
            sid: session.sid.clone(),
            redirect_uri: request.redirect_uri.clone(),
            code_challenge: request.code_challenge.clone(),
            nonce: request.nonce.clone(),
            scope: request.scope.clone(),
            claims: request.claims.as_ref().map(Value::to_string),
            audience: serde_json::to_string(&request.audience)?,
            auth_time: session.auth_time,
            amr: session.amr.clone(),
            created_at: now,
            expires_at: now + services.settings.code_ttl,
        })
        .await?;
    Ok(code)
}

/// What the consent page asks the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentQuestion {
    pub client_name: String,
    pub username: String,
    /// The scopes asked for, in reading order (the page says in words what each allows).
    pub scopes: Vec<String>,
    /// The languages the request asked the pages in (`ui_locales`).
    pub ui_locales: Option<String>,
    /// The host the person goes back to afterwards (none for an app's private-use scheme).
    pub return_host: Option<String>,
    /// Whether an operator made the client; otherwise its name is only its claim.
    pub verified: bool,
    /// For a metadata-document client, the host its client id (its document) lives on.
    pub client_id_host: Option<String>,
    /// The client's logo to show: only with `client_logos`, and only from https.
    pub logo_uri: Option<String>,
}

/// The question for the kept request `pending_id`, or where the browser goes instead.
pub async fn consent_question(
    services: &Services,
    visitor: &Visitor,
    pending_id: &str,
) -> anyhow::Result<Result<ConsentQuestion, Next>> {
    let kept = match reload(services, &visitor.browser_hash, pending_id).await? {
        Ok(kept) => kept,
        Err(next) => return Ok(Err(next)),
    };
    let Some((_, user)) = &visitor.signed_in else {
        return Ok(Err(Next::SignIn {
            pending_id: pending_id.to_owned(),
        }));
    };
    let tokens = kept.request.scopes().map(|s| s.tokens()).unwrap_or_default();
    let scopes = scope::in_reading_order(tokens);
    let return_host = url::Url::parse(&kept.request.redirect_to)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned));
    let client = &kept.client;
    let client_id_host = (client.origin == crate::domain::client::ClientOrigin::MetadataDocument)
        .then(|| url::Url::parse(&client.id).ok()?.host_str().map(str::to_owned))
        .flatten();
    let logo_uri = client
        .logo_uri
        .as_ref()
        .filter(|u| services.settings.client_logos && u.scheme() == "https")
        .map(|u| u.as_str().to_owned());
    Ok(Ok(ConsentQuestion {
        client_name: client.name.clone(),
        username: user.username.clone(),
        scopes,
        ui_locales: kept.request.ui_locales.clone(),
        return_host,
        verified: client.is_verified(),
        client_id_host,
        logo_uri,
    }))
}

/// The person's answer: allowing remembers the scopes (with those granted before) and resumes
/// the request; denying ends it with `access_denied` at the client.
pub async fn decide_consent(
    services: &Services,
    visitor: &Visitor,
    pending_id: &str,
    allow: bool,
) -> anyhow::Result<Next> {
    let Kept {
        mut pending, request, ..
    } = match reload(services, &visitor.browser_hash, pending_id).await? {
        Ok(kept) => kept,
        Err(next) => return Ok(next),
    };
    let Some(session) = visitor.session() else {
        return Ok(Next::SignIn {
            pending_id: pending_id.to_owned(),
        });
    };
    if !allow {
        services.store.delete_pending_authorization(&pending.id_hash).await?;
        let denied = ErrorRedirect {
            redirect_to: request.redirect_to.clone(),
            state: request.state.clone(),
            error: err(OAuthError::AccessDenied, "the person denied the request"),
        };
        return Ok(Next::Redirect(error_redirect(&denied, &services.settings.issuer)));
    }
    let before = services
        .store
        .find_consent(&session.user_id, &request.client_id)
        .await?;
    let granted = merged_consent(before.as_deref(), &request.scope);
    services
        .store
        .save_consent(&session.user_id, &request.client_id, &granted, services.clock.now())
        .await?;
    pending.consent_done = true;
    services.store.update_pending_authorization(&pending).await?;
    Ok(Next::Resume {
        pending_id: pending_id.to_owned(),
    })
}

/// The union of what was granted before and what is granted now.
fn merged_consent(before: Option<&str>, now: &str) -> String {
    let tokens = before
        .into_iter()
        .chain([now])
        .flat_map(|scope| scope.split(' '))
        .filter(|t| !t.is_empty());
    ScopeSet::from_tokens(tokens)
        .map(|s| s.to_string())
        .unwrap_or_else(|_| now.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_is_remembered_as_the_union_of_every_grant() {
        assert_eq!(merged_consent(None, "openid profile"), "openid profile");
        assert_eq!(
            merged_consent(Some("email openid"), "openid profile"),
            "email openid profile"
        );
        assert_eq!(merged_consent(Some(""), "openid"), "openid");
    }
}
