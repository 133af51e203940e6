//! `GET`/`POST /consent`: the person allows or denies a third-party client the scopes it asked
//! for. The flow (a grant remembered per person and client, asked again when the scopes grow)
//! is `service::authorization`.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use tera::Context;

use super::authorize::{go, visitor};
use super::browser::Browser;
use super::error::PageError;
use super::{locale, words, WebState};
use crate::service::authorization;

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

fn failed(e: anyhow::Error) -> PageError {
    PageError::failed(e, "consent failed")
}

pub async fn show(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(query): Query<ConsentQuery>,
) -> Result<Response, PageError> {
    let browser = Browser::from_headers(&headers, &state.settings);
    let visitor = visitor(&state, &browser).await?;
    let question = match authorization::consent_question(&state, &visitor, &query.request)
        .await
        .map_err(failed)?
    {
        Ok(question) => question,
        Err(next) => return go(&state, &browser, visitor.signed_in.is_some(), next),
    };
    locale::prefer_ui_locales(question.ui_locales.as_deref());
    let scopes: Vec<String> = question.scopes.iter().map(|s| words::scope_description(s)).collect();
    let mut context = Context::new();
    context.insert("csrf_token", &browser.csrf_token(&state.csrf_key));
    context.insert("request_id", &query.request);
    context.insert("client_name", &question.client_name);
    context.insert("username", &question.username);
    context.insert("scopes", &scopes);
    context.insert("return_host", &question.return_host);
    context.insert("verified", &question.verified);
    context.insert("client_id_host", &question.client_id_host);
    context.insert("logo_uri", &question.logo_uri);
    let mut response = state.pages.render(StatusCode::OK, "consent.html", &context);
    if question.logo_uri.is_some() {
        // The client's logo is an https image from its own host: only this page allows it.
        response.headers_mut().insert(
            axum::http::header::CONTENT_SECURITY_POLICY,
            axum::http::HeaderValue::from_static(super::CONSENT_LOGO_CSP),
        );
    }
    Ok(response)
}

pub async fn submit(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<ConsentForm>,
) -> Result<Response, PageError> {
    let browser = Browser::from_headers(&headers, &state.settings);
    if !browser.csrf_ok(&state.csrf_key, form.csrf_token.as_deref()) {
        return Err(PageError::form_expired());
    }
    let visitor = visitor(&state, &browser).await?;
    let allow = form.decision.as_deref() == Some("allow");
    let next = authorization::decide_consent(&state, &visitor, &form.request, allow)
        .await
        .map_err(failed)?;
    go(&state, &browser, visitor.signed_in.is_some(), next)
}
