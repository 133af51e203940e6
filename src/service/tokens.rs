//! The token endpoint's grants, carried out: the store, the keys, the events and the metrics
//! around the rules of `protocol::token`. One [`issue_tokens`] for a person's grant (the code
//! and the refresh grants alike); refresh rotation as a typed [`Rotation`].

pub use crate::storage::IssuanceCount;
use serde_json::Value;

use super::Services;
use crate::crypto::tokens::{prefix, random_base64url, OpaqueSecret, SecretHash};
use crate::domain::client::{AuthMethod, Client, GrantType};
use crate::domain::event::{kind, Outcome, SecurityEvent};
use crate::domain::scope::ScopeSet;
use crate::domain::user::User;
use crate::domain::{Audience, ClientId, FamilyId, UnixTime};
use crate::fetch::Freshness;
use crate::protocol::access_token::{self, AccessGrant};
use crate::protocol::client_assertion;
use crate::protocol::client_auth::{self, Credentials};
use crate::protocol::error::{err, OAuthError};
use crate::protocol::token::authorization_code::{self, CodeExchange};
use crate::protocol::token::client_credentials::{self, ClientCredentialsRequest};
use crate::protocol::token::device_code::{self, DeviceCodeRequest};
use crate::protocol::token::id_token::{self, IdTokenClaims};
use crate::protocol::token::refresh_token::{self, RefreshRequest, Standing};
use crate::protocol::token::{check_grant, TokenRequest, TokenResponse};
use crate::protocol::{revocation, userinfo, Context, Failure};
use crate::storage::{CodeRedemption, FamilyRecord, RefreshTokenRecord, StoreError};

fn invalid_grant(description: &str) -> Failure {
    Failure::Protocol(err(OAuthError::InvalidGrant, description))
}

/// The client the credentials prove (token, introspection and revocation endpoints alike),
/// found in the in-memory client cache: a secret or a public client's id by
/// `protocol::client_auth`, a `private_key_jwt` assertion by [`check_assertion`]. A refusal is
/// logged, with the client id as sent cut short and the reason (never the credential), and
/// recorded as a security event.
pub async fn authenticate_client(services: &Services, credentials: &Credentials) -> Result<Client, Failure> {
    let registered = match credentials.client_id() {
        // A refused metadata document is no client: `invalid_client` (the reason is logged).
        Some(id) => match super::clients::lookup(services, id).await {
            Ok(found) => found,
            Err(super::clients::LookupError::Document(_)) => None,
            Err(super::clients::LookupError::Store(e)) => return Err(e.into()),
        },
        None => None,
    };
    let outcome = match (credentials, registered.as_deref()) {
        (
            Credentials::Assertion {
                assertion, endpoint, ..
            },
            Some(client),
        ) => check_assertion(services, client, assertion, endpoint.as_deref())
            .await?
            .map(|()| client.clone()),
        (Credentials::Assertion { .. }, None) => Err("no such client"),
        (_, registered) => {
            client_auth::authenticate(registered, credentials).map_err(|_| "wrong or missing credentials")
        }
    };
    match outcome {
        Ok(client) => Ok(client),
        Err(why) => {
            let client_id = credentials
                .client_id()
                .unwrap_or("-")
                .chars()
                .take(100)
                .collect::<String>();
            tracing::info!(client_id = %client_id, reason = why, "client authentication failed");
            let mut event = SecurityEvent::new(services.clock.now(), kind::CLIENT_AUTH_FAILED, Outcome::Failure);
            if credentials.client_id().is_some() {
                event = event.client(client_id);
            }
            services.events.record(event);
            Err(Failure::Protocol(err(
                OAuthError::InvalidClient,
                "client authentication failed",
            )))
        }
    }
}

/// Checks a `private_key_jwt` assertion of `client` (RFC 7523 §3, the rules of
/// `protocol::client_assertion`): the client must be registered for it; the key comes from its
/// inline `jwks`, or from its `jwks_uri` through the cache, fetched once more when the key id
/// is not in the copy held (the cache limits how often); the `jti` is spent in the store, so an
/// assertion works once on every instance. `Ok(Err(why))` is a refusal.
async fn check_assertion(
    services: &Services,
    client: &Client,
    assertion: &str,
    endpoint: Option<&str>,
) -> Result<Result<(), client_assertion::Refusal>, StoreError> {
    if client.auth_method != AuthMethod::PrivateKeyJwt {
        return Ok(Err("the client is not registered for private_key_jwt"));
    }
    let header = match client_assertion::read_header(assertion) {
        Ok(header) => header,
        Err(why) => return Ok(Err(why)),
    };
    let key = match (&client.jwks, &client.jwks_uri) {
        (Some(jwks), _) => client_assertion::select_key(jwks, &header),
        (None, Some(url)) => fetched_key(services, url, &header).await,
        (None, None) => Err("the client has no keys"),
    };
    let key = match key {
        Ok(Some(key)) => key,
        Ok(None) => return Ok(Err("no key of the client has the assertion's kid")),
        Err(why) => return Ok(Err(why)),
    };
    let claims = match client_assertion::verify_signature(assertion, &header, &key) {
        Ok(claims) => claims,
        Err(why) => return Ok(Err(why)),
    };
    let issuer = &services.settings.issuer;
    let audiences: Vec<String> = std::iter::once(issuer.clone())
        .chain(endpoint.map(|path| format!("{issuer}{path}")))
        .collect();
    let now = services.clock.now();
    let accepted = match client_assertion::check_claims(&claims, client.id.as_str(), &audiences, now) {
        Ok(accepted) => accepted,
        Err(why) => return Ok(Err(why)),
    };
    let fresh = services
        .store
        .spend_client_assertion(client.id.as_str(), &accepted.jti, accepted.keep_until, now)
        .await?;
    Ok(if fresh {
        Ok(())
    } else {
        Err("the assertion's jti was used before")
    })
}

/// The key of the client's `jwks_uri` that the header names: from the cached copy, or from one
/// fetch more when the copy does not have it.
async fn fetched_key(
    services: &Services,
    url: &url::Url,
    header: &client_assertion::AssertionHeader,
) -> Result<Option<josekit::jwk::Jwk>, client_assertion::Refusal> {
    let now = services.clock.now();
    for freshness in [Freshness::Cached, Freshness::Refetch] {
        let body = services.client_jwks.get(url, now, freshness).await.map_err(|e| {
            tracing::info!(jwks_uri = %url, error = %e, "cannot fetch a client's jwks_uri");
            "the client's jwks_uri could not be fetched"
        })?;
        let jwks: Value = serde_json::from_slice(&body).map_err(|_| "the client's jwks_uri is not JSON")?;
        if let Some(key) = client_assertion::select_key(&jwks, header)? {
            return Ok(Some(key));
        }
    }
    Ok(None)
}

/// Runs the grant an authenticated client asks for.
pub async fn grant(services: &Services, client: &Client, request: TokenRequest) -> Result<TokenResponse, Failure> {
    let ctx = services.protocol();
    let grant_type = request.grant_type();
    let response = match request {
        TokenRequest::AuthorizationCode(exchange) => exchange_code(&ctx, client, exchange).await?,
        TokenRequest::RefreshToken(request) => refresh(&ctx, client, request).await?,
        TokenRequest::ClientCredentials(request) => client_credentials(&ctx, client, &request)?,
        TokenRequest::DeviceCode(request) => redeem_device_code(&ctx, client, request).await?,
    };
    services.metrics.token_issued(grant_type.as_str());
    Ok(response)
}

async fn active_user(ctx: &Context<'_>, id: &str) -> Result<Option<User>, StoreError> {
    Ok(ctx.store.find_user_by_id(id).await?.filter(|user| !user.disabled))
}

/// The code is spent by one atomic store operation; a second redemption revokes everything
/// the first one issued.
async fn exchange_code(ctx: &Context<'_>, client: &Client, request: CodeExchange) -> Result<TokenResponse, Failure> {
    check_grant(client, GrantType::AuthorizationCode)?;
    let code = request
        .code
        .as_deref()
        .ok_or_else(|| err(OAuthError::InvalidRequest, "code is required"))?;
    let family_id = format!("fam_{}", random_base64url(16));
    let family_ends_at = ctx.now + ctx.settings.refresh_absolute_ttl;
    let redemption = ctx
        .store
        .redeem_authorization_code(SecretHash::of(code).as_str(), &family_id, ctx.now, family_ends_at)
        .await?;
    let granted = match redemption {
        CodeRedemption::Redeemed(granted) => granted,
        CodeRedemption::NotFound => return Err(invalid_grant("the code is invalid")),
        CodeRedemption::Replayed { family_id } => {
            if let Some(family) = family_id {
                code_replayed(ctx, client, &family).await?;
            }
            return Err(invalid_grant("the code was already used"));
        }
    };
    // The code is spent from here on; a refusal also kills the family made for it (nothing was
    // issued from it yet).
    let user = match authorization_code::check(&granted, client, &request, ctx.now) {
        Ok(()) => active_user(ctx, &granted.user_id)
            .await?
            .ok_or("the account is not active"),
        Err(why) => Err(why),
    };
    let user = match user {
        Ok(user) => user,
        Err(why) => {
            ctx.store
                .revoke_family(&family_id, ctx.now, "failed_redemption")
                .await?;
            return Err(invalid_grant(why));
        }
    };
    let grant = PersonGrant {
        client,
        user: &user,
        family_id: &family_id,
        sid: &granted.sid,
        scope: &granted.scope,
        audience: &granted.audience,
        auth_time: granted.auth_time,
        amr: &granted.amr,
        claims: granted.claims.as_deref(),
        nonce: granted.nonce.as_deref(),
    };
    let response = issue_tokens(ctx, &grant, RefreshToken::FirstIfOffline { family_ends_at }).await?;
    ctx.record(
        SecurityEvent::new(ctx.now, kind::TOKEN_ISSUED, Outcome::Success)
            .user(&user.id)
            .client(&client.id)
            .session(&granted.sid)
            .detail("authorization_code"),
    );
    Ok(response)
}

/// A device's poll (RFC 8628 §3.4): recorded (a poll too soon grows the interval), answered
/// by the authorization's state, and once the person approved, spent by one atomic store
/// operation that starts the grant family; the tokens are the code grant's.
async fn redeem_device_code(
    ctx: &Context<'_>,
    client: &Client,
    request: DeviceCodeRequest,
) -> Result<TokenResponse, Failure> {
    check_grant(client, GrantType::DeviceCode)?;
    let presented = request
        .device_code
        .as_deref()
        .ok_or_else(|| err(OAuthError::InvalidRequest, "device_code is required"))?;
    let hash = SecretHash::of(presented);
    let Some(poll) = ctx.store.poll_device_authorization(hash.as_str(), ctx.now).await? else {
        return Err(invalid_grant("the device code is invalid"));
    };
    device_code::check(&poll, client, ctx.now)?;
    let family_id = format!("fam_{}", random_base64url(16));
    let family_ends_at = ctx.now + ctx.settings.refresh_absolute_ttl;
    let Some(granted) = ctx
        .store
        .redeem_device_authorization(hash.as_str(), &family_id, ctx.now, family_ends_at)
        .await?
    else {
        return Err(invalid_grant("the device code was already used"));
    };
    let user = match &granted.approval {
        Some(approval) => active_user(ctx, &approval.user_id).await?.map(|user| (user, approval)),
        None => None,
    };
    let Some((user, approval)) = user else {
        ctx.store
            .revoke_family(&family_id, ctx.now, "failed_redemption")
            .await?;
        return Err(invalid_grant("the account is not active"));
    };
    let grant = PersonGrant {
        client,
        user: &user,
        family_id: &family_id,
        sid: &approval.sid,
        scope: &granted.scope,
        audience: &granted.audience,
        auth_time: approval.auth_time,
        amr: &approval.amr,
        claims: None,
        nonce: None,
    };
    let response = issue_tokens(ctx, &grant, RefreshToken::FirstIfOffline { family_ends_at }).await?;
    ctx.record(
        SecurityEvent::new(ctx.now, kind::DEVICE_CODE_REDEEMED, Outcome::Success)
            .user(&user.id)
            .client(&client.id)
            .session(&approval.sid)
            .detail(GrantType::DeviceCode.as_str()),
    );
    Ok(response)
}

async fn code_replayed(ctx: &Context<'_>, client: &Client, family: &FamilyId) -> Result<(), StoreError> {
    revocation::revoke_family(ctx, family, "code_replay").await?;
    ctx.record(
        SecurityEvent::new(ctx.now, kind::CODE_REPLAY, Outcome::Failure)
            .client(&client.id)
            .detail(format!("family {family} revoked")),
    );
    tracing::warn!(client_id = %client.id, family = %family, "authorization code replayed; its grant family is revoked");
    Ok(())
}

async fn refresh(ctx: &Context<'_>, client: &Client, request: RefreshRequest) -> Result<TokenResponse, Failure> {
    check_grant(client, GrantType::RefreshToken)?;
    let presented = request
        .refresh_token
        .as_deref()
        .ok_or_else(|| err(OAuthError::InvalidRequest, "refresh_token is required"))?;
    let (next, family, user, scope) =
        match rotate(ctx, client, &SecretHash::of(presented), request.scope.as_deref()).await? {
            Rotation::Rotated {
                next,
                family,
                user,
                scope,
            } => (next, family, user, scope.to_string()),
            Rotation::Reused { token, family } => {
                reused(ctx, &token, &family).await?;
                return Err(invalid_grant("the refresh token was already used"));
            }
            Rotation::Invalid(why) => return Err(invalid_grant(why)),
        };
    let grant = PersonGrant {
        client,
        user: &user,
        family_id: &family.id,
        sid: &family.sid,
        scope: &scope,
        audience: &family.audience,
        auth_time: family.auth_time,
        amr: &family.amr,
        claims: family.claims.as_deref(),
        nonce: None,
    };
    let response = issue_tokens(ctx, &grant, RefreshToken::Rotated(next)).await?;
    ctx.record(
        SecurityEvent::new(ctx.now, kind::TOKEN_REFRESHED, Outcome::Success)
            .user(&user.id)
            .client(&client.id)
            .session(&family.sid),
    );
    Ok(response)
}

/// What presenting a refresh token came to.
enum Rotation {
    /// It was live and is now replaced by `next` (stored); the refreshed tokens get `scope`.
    Rotated {
        next: OpaqueSecret,
        family: FamilyRecord,
        user: User,
        scope: ScopeSet,
    },
    /// It had been rotated before, or a concurrent request rotated it first.
    Reused {
        token: RefreshTokenRecord,
        family: FamilyRecord,
    },
    /// `invalid_grant` with this description; nothing is revoked.
    Invalid(&'static str),
}

async fn rotate(
    ctx: &Context<'_>,
    client: &Client,
    hash: &SecretHash,
    asked_scope: Option<&str>,
) -> Result<Rotation, Failure> {
    let Some((token, family)) = ctx.store.find_refresh_grant(hash.as_str()).await? else {
        return Ok(Rotation::Invalid("the refresh token is invalid"));
    };
    match refresh_token::standing(&token, &family, client, ctx.now) {
        Standing::Live => {}
        Standing::Rotated => return Ok(Rotation::Reused { token, family }),
        Standing::Refused(why) => return Ok(Rotation::Invalid(why)),
    }
    // Checked before the swap, so a refused request leaves the token usable.
    let scope = refresh_token::scope(&family.scope, asked_scope)?;
    let Some(user) = active_user(ctx, &family.user_id).await? else {
        return Ok(Rotation::Invalid("the account is not active"));
    };
    // The compare-and-swap: of concurrent requests with this token, one rotates it.
    let next = OpaqueSecret::generate(prefix::REFRESH_TOKEN);
    let record = RefreshTokenRecord {
        token_hash: next.hash().as_str().to_owned(),
        family_id: family.id.clone(),
        created_at: ctx.now,
        expires_at: refresh_token::expires_at(ctx.now, ctx.settings.refresh_idle_ttl, family.expires_at),
        rotated_at: None,
        successor_hash: None,
    };
    if ctx.store.rotate_refresh_token(hash.as_str(), &record, ctx.now).await? {
        return Ok(Rotation::Rotated {
            next,
            family,
            user,
            scope,
        });
    }
    let token = ctx.store.find_refresh_token(hash.as_str()).await?.unwrap_or(token);
    Ok(Rotation::Reused { token, family })
}

/// A token presented after its rotation: theft, so its family is revoked, unless it is a quick
/// retry of the token just replaced (its successor still unused) within the grace time.
async fn reused(ctx: &Context<'_>, token: &RefreshTokenRecord, family: &FamilyRecord) -> Result<(), StoreError> {
    if refresh_token::may_be_retry(token, ctx.settings.refresh_reuse_grace, ctx.now) {
        let successor_unused = match &token.successor_hash {
            Some(next) => ctx
                .store
                .find_refresh_token(next)
                .await?
                .is_some_and(|t| t.rotated_at.is_none()),
            None => false,
        };
        if successor_unused {
            return Ok(());
        }
    }
    revocation::revoke_family(ctx, &family.id, "refresh_token_reuse").await?;
    ctx.metrics.refresh_reuse();
    ctx.record(
        SecurityEvent::new(ctx.now, kind::REFRESH_TOKEN_REUSE, Outcome::Failure)
            .user(&family.user_id)
            .client(&family.client_id)
            .session(&family.sid)
            .detail(format!("family {} revoked", family.id)),
    );
    tracing::warn!(client_id = %family.client_id, family = %family.id, "refresh token reuse; family revoked");
    Ok(())
}

fn client_credentials(
    ctx: &Context<'_>,
    client: &Client,
    request: &ClientCredentialsRequest,
) -> Result<TokenResponse, Failure> {
    let granted = client_credentials::grant(client, request)?;
    let (access_token, expires_in) = access_token::issue(
        ctx,
        &AccessGrant {
            sub: &client.id,
            client_id: &client.id,
            scope: &granted.scope,
            audience: granted.audience,
            sid: None,
            family_id: None,
            auth_time: None,
        },
    )?;
    // Counted per client and minute, not an event per token: services mint these at rates
    // where a row each would be most of the database's writes.
    ctx.events.count_issuance(&client.id, ctx.now);
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in,
        scope: granted.scope,
        refresh_token: None,
        id_token: None,
    })
}

/// How many minutes of client_credentials issuance [`issuance_of`] answers with.
pub const ISSUANCE_MINUTES: i64 = 60;

/// A client's client_credentials tokens per minute over the last [`ISSUANCE_MINUTES`] minutes
/// (the current one included), oldest first, as stored: each instance stores a minute's counts
/// once it has ended, and on a flush.
pub async fn issuance_of(services: &Services, client_id: &ClientId) -> Result<Vec<IssuanceCount>, StoreError> {
    let now = services.clock.now();
    let since = now - now.rem_euclid(60) - (ISSUANCE_MINUTES - 1) * 60;
    services.store.list_issuance_counts(client_id, since).await
}

/// A person's grant, as a spent code or a refresh family carries it.
struct PersonGrant<'a> {
    client: &'a Client,
    user: &'a User,
    family_id: &'a str,
    sid: &'a str,
    scope: &'a str,
    /// The resource servers (a JSON array), resolved at the authorization request.
    audience: &'a str,
    auth_time: UnixTime,
    amr: &'a [String],
    /// The OIDC `claims` request, as JSON.
    claims: Option<&'a str>,
    nonce: Option<&'a str>,
}

/// The refresh token that goes with a person's tokens.
enum RefreshToken {
    /// The code grant's first one, when the grant has `offline_access` and the client may
    /// refresh; it lives until its idle end, at most the family's.
    FirstIfOffline { family_ends_at: UnixTime },
    /// The one a rotation just stored.
    Rotated(OpaqueSecret),
}

/// The tokens of a person's grant: an access token for its audiences (and userinfo with
/// `openid`), an ID token with `openid`, and the refresh token.
async fn issue_tokens(
    ctx: &Context<'_>,
    grant: &PersonGrant<'_>,
    refresh: RefreshToken,
) -> Result<TokenResponse, Failure> {
    let has = |scope: &str| grant.scope.split(' ').any(|s| s == scope);
    let mut audience: Vec<Audience> = serde_json::from_str(grant.audience).unwrap_or_default();
    if has("openid") {
        audience.push(ctx.userinfo_audience());
    }
    let (access_token, expires_in) = access_token::issue(
        ctx,
        &AccessGrant {
            sub: &grant.user.id,
            client_id: &grant.client.id,
            scope: grant.scope,
            audience,
            sid: Some(grant.sid),
            family_id: Some(grant.family_id),
            auth_time: Some(grant.auth_time),
        },
    )?;
    let id_token = if has("openid") {
        let requested: Option<Value> = grant.claims.and_then(|c| serde_json::from_str(c).ok());
        let extra = userinfo::requested_claims(grant.user, requested.as_ref().and_then(|r| r.get("id_token")));
        Some(id_token::issue(
            ctx,
            IdTokenClaims {
                client: grant.client,
                sub: &grant.user.id,
                auth_time: grant.auth_time,
                nonce: grant.nonce,
                sid: grant.sid,
                amr: grant.amr,
                access_token: &access_token,
                extra,
            },
        )?)
    } else {
        None
    };
    let refresh_token = match refresh {
        RefreshToken::Rotated(next) => Some(next),
        RefreshToken::FirstIfOffline { family_ends_at }
            if has("offline_access") && grant.client.allows_grant(GrantType::RefreshToken) =>
        {
            let token = OpaqueSecret::generate(prefix::REFRESH_TOKEN);
            ctx.store
                .insert_refresh_token(&RefreshTokenRecord {
                    token_hash: token.hash().as_str().to_owned(),
                    family_id: FamilyId::new(grant.family_id),
                    created_at: ctx.now,
                    expires_at: refresh_token::expires_at(ctx.now, ctx.settings.refresh_idle_ttl, family_ends_at),
                    rotated_at: None,
                    successor_hash: None,
                })
                .await?;
            Some(token)
        }
        RefreshToken::FirstIfOffline { .. } => None,
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in,
        scope: grant.scope.to_owned(),
        refresh_token: refresh_token.map(|t| t.expose().to_owned()),
        id_token,
    })
}
