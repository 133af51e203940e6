//! `GET`/`POST /consent`: the person allows or denies a third-party client the scopes it asked
//! for. A grant is remembered per person and client, and asked again when the scopes grow.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use serde_json::json;
use tera::Context;

use super::authorize::{expired, load_pending, see_other};
use super::browser::{self, Browser};
use super::login::forbidden;
use super::WebState;
use crate::domain::scope::ScopeSet;
use crate::http::routes;
use crate::protocol::authorize::{error_redirect, scope_description, ErrorRedirect};
use crate::protocol::error::{err, OAuthError};

#[derive(Deserialize)]
pub struct ConsentQuery {
    request: String,
}

#[derive(Deserialize)]
pub struct ConsentForm {
    csrf_token: Option<String>,
    request: String,
    decision: Option<String>,
}

fn failed(state: &WebState, e: impl Into<anyhow::Error>) -> Response {
    super::error::page_failure(&state.pages, e, "consent failed")
}

pub async fn show(State(state): State<WebState>, headers: HeaderMap, Query(query): Query<ConsentQuery>) -> Response {
    let browser = Browser::from_headers(&headers, &state.settings);
    let Some((_, request)) = (match load_pending(&state, &browser, &query.request).await {
        Ok(found) => found,
        Err(response) => return response,
    }) else {
        return expired(&state);
    };
    let (_, user) = match browser::signed_in(&state, &browser).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return see_other(
                &format!("{}?request={}", routes::LOGIN, query.request),
                &browser,
                &state,
            )
        }
        Err(e) => return failed(&state, e),
    };
    let client = match state.store.find_client(&request.client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => return expired(&state),
        Err(e) => return failed(&state, e),
    };
    let scopes: Vec<_> = request
        .scopes()
        .map(|s| s.tokens())
        .unwrap_or_default()
        .into_iter()
        .map(|name| json!({ "name": name, "description": scope_description(&name) }))
        .collect();
    let mut context = Context::new();
    context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
    context.insert("request_id", &query.request);
    context.insert("client_name", &client.name);
    context.insert("username", &user.username);
    context.insert("scopes", &scopes);
    state.pages.render(StatusCode::OK, "consent.html", &context)
}

pub async fn submit(State(state): State<WebState>, headers: HeaderMap, Form(form): Form<ConsentForm>) -> Response {
    let browser = Browser::from_headers(&headers, &state.settings);
    if !browser.csrf_ok(&state.csrf_key, form.csrf_token.as_deref()) {
        return forbidden(&state);
    }
    let Some((mut pending, request)) = (match load_pending(&state, &browser, &form.request).await {
        Ok(found) => found,
        Err(response) => return response,
    }) else {
        return expired(&state);
    };
    let (session, _) = match browser::signed_in(&state, &browser).await {
        Ok(Some(found)) => found,
        Ok(None) => return see_other(&format!("{}?request={}", routes::LOGIN, form.request), &browser, &state),
        Err(e) => return failed(&state, e),
    };
    let now = state.clock.now();
    if form.decision.as_deref() != Some("allow") {
        if let Err(e) = state.store.delete_pending_authorization(&pending.id_hash).await {
            return failed(&state, e);
        }
        let denied = ErrorRedirect {
            redirect_to: request.redirect_to.clone(),
            state: request.state.clone(),
            error: err(OAuthError::AccessDenied, "the person denied the request"),
        };
        return see_other(&error_redirect(&denied, &state.settings.issuer), &browser, &state);
    }
    // Remember the union of what was granted before and what is granted now.
    let granted = match state.store.find_consent(&session.user_id, &request.client_id).await {
        Ok(before) => {
            let mut tokens = before
                .map(|s| s.split(' ').map(str::to_owned).collect::<Vec<_>>())
                .unwrap_or_default();
            tokens.extend(request.scope.split(' ').map(str::to_owned));
            ScopeSet::from_tokens(tokens.iter().filter(|t| !t.is_empty()))
                .map(|s| s.to_string())
                .unwrap_or(request.scope.clone())
        }
        Err(e) => return failed(&state, e),
    };
    if let Err(e) = state
        .store
        .save_consent(&session.user_id, &request.client_id, &granted, now)
        .await
    {
        return failed(&state, e);
    }
    pending.consent_done = true;
    if let Err(e) = state.store.update_pending_authorization(&pending).await {
        return failed(&state, e);
    }
    see_other(
        &format!("{}?request={}", routes::AUTHORIZE_RESUME, form.request),
        &browser,
        &state,
    )
}
