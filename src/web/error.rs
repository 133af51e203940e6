//! Errors of the hosted pages. A handler returns `Result<Response, PageError>` and uses `?`;
//! the error becomes a page in words. A 500 says nothing specific and logs the whole cause
//! chain; an unavailable store is a 503 with `Retry-After` that says to try again shortly.
//!
//! Rendering needs the templates, which `IntoResponse` cannot reach: a `PageError` answers with
//! its status and an [`ErrorPage`] extension, and [`render_error_pages`] (a layer on every
//! page) turns that into the page.

use std::borrow::Cow;

use axum::extract::{Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::locale::t;
use super::pages::Pages;
use super::WebState;
use crate::service::failure::{self, Triage, RETRY_AFTER_SECS};

/// What the error page says.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    pub title: String,
    pub message: Cow<'static, str>,
    /// Where the person can go from here: (path, words of the link).
    pub next: Option<(&'static str, String)>,
}

#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    page: ErrorPage,
}

impl PageError {
    /// A page with this status, title and message (in words a person understands, in the
    /// page's language).
    pub fn new(status: StatusCode, title: impl Into<String>, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            page: ErrorPage {
                title: title.into(),
                message: message.into(),
                next: None,
            },
        }
    }

    /// A page whose title and message are the catalogue's `title` and `message`.
    pub fn words(status: StatusCode, title: &str, message: &str) -> Self {
        Self::new(status, t(title), t(message))
    }

    /// The same page with a link to where the person can go next (`label`: a message key).
    pub fn with_next(mut self, href: &'static str, label: &str) -> Self {
        self.page.next = Some((href, t(label)));
        self
    }

    /// Something failed: 503 when the store is unavailable, else 500. The chain is logged.
    pub fn failed(error: impl Into<anyhow::Error>, what: &str) -> Self {
        match failure::triage(&error.into(), what) {
            Triage::Unavailable => Self::unavailable(),
            Triage::Fault => Self::words(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error-failed-title",
                "error-failed-message",
            ),
        }
    }

    pub fn unavailable() -> Self {
        Self::words(
            StatusCode::SERVICE_UNAVAILABLE,
            "error-unavailable-title",
            "error-unavailable-message",
        )
    }

    /// The form's CSRF token is missing or wrong (or the browser has no cookie yet).
    pub fn form_expired() -> Self {
        Self::words(
            StatusCode::FORBIDDEN,
            "error-form-expired-title",
            "error-form-expired-message",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The page, rendered now (for code that holds the templates).
    pub fn render(self, pages: &Pages) -> Response {
        with_retry_after(
            self.status,
            pages.error(
                self.status,
                &self.page.title,
                &self.page.message,
                self.page.next.as_ref().map(|(href, label)| (*href, label.as_str())),
            ),
        )
    }
}

/// Any other error is a failure: `?` on a store or key error gives a 500 (or 503).
impl<E: Into<anyhow::Error>> From<E> for PageError {
    fn from(e: E) -> Self {
        Self::failed(e, "page failed")
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self.page);
        with_retry_after(self.status, response)
    }
}

fn with_retry_after(status: StatusCode, mut response: Response) -> Response {
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    }
    response
}

/// The page that a layer in front of the pages answers with, by status: the answer's deadline
/// passed (503, with `Retry-After`), the body came too slowly (408), the address is over a rate
/// limit (429). Those layers run outside the pages' own, so the pages' headers are added here.
pub fn answer_page(pages: &Pages, status: StatusCode) -> Response {
    // Outside the pages' language layer, with no request at hand: the default language.
    super::locale::within(pages.default_locale(), || answer_page_now(pages, status))
}

fn answer_page_now(pages: &Pages, status: StatusCode) -> Response {
    let error = match status {
        StatusCode::SERVICE_UNAVAILABLE => PageError::unavailable(),
        StatusCode::REQUEST_TIMEOUT => PageError::words(status, "error-timeout-title", "error-timeout-message"),
        StatusCode::TOO_MANY_REQUESTS => PageError::words(
            status,
            "error-too-many-requests-title",
            "error-too-many-requests-message",
        ),
        _ => PageError::words(status, "error-failed-title", "error-failed-message"),
    };
    super::with_page_headers(error.render(pages))
}

/// The page in words for an error the framework answered itself (a query or form that does
/// not parse, a method a page does not take), by its status.
fn framework_error(status: StatusCode) -> ErrorPage {
    let (title, message, next) = match status {
        StatusCode::NOT_FOUND => (
            "error-not-found-title",
            "error-not-found-message",
            Some(super::paths::ACCOUNT),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "error-method-title",
            "error-method-message",
            Some(super::paths::ACCOUNT),
        ),
        s if s.is_client_error() => (
            "error-incomplete-title",
            "error-incomplete-message",
            Some(super::paths::ACCOUNT),
        ),
        _ => ("error-failed-title", "error-failed-message", None),
    };
    ErrorPage {
        title: t(title),
        message: Cow::Owned(t(message)),
        next: next.map(|href| (href, t("next-account"))),
    }
}

/// A styled 404 page for a browser at an address that is no page, in its language.
pub fn not_found_page(pages: &Pages, headers: &axum::http::HeaderMap) -> Response {
    let locale = super::locale::of_headers(headers, pages.default_locale());
    super::locale::within(locale, || not_found_page_now(pages))
}

fn not_found_page_now(pages: &Pages) -> Response {
    let page = framework_error(StatusCode::NOT_FOUND);
    super::with_page_headers(pages.error(
        StatusCode::NOT_FOUND,
        &page.title,
        &page.message,
        page.next.as_ref().map(|(href, label)| (*href, label.as_str())),
    ))
}

fn is_html(response: &Response) -> bool {
    response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// A JSON answer of the pages' own scripts (the passkey ceremony): kept as it is.
fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// The layer that renders the pages of [`PageError`]s, keeping their status and headers, and
/// puts a page in words in place of the framework's own error answers (plain text).
pub async fn render_error_pages(State(state): State<WebState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let page = match response.extensions_mut().remove::<ErrorPage>() {
        Some(page) => page,
        None if (response.status().is_client_error() || response.status().is_server_error())
            && !is_html(&response)
            && !is_json(&response) =>
        {
            framework_error(response.status())
        }
        None => return response,
    };
    let mut rendered = state.pages.error(
        response.status(),
        &page.title,
        &page.message,
        page.next.as_ref().map(|(href, label)| (*href, label.as_str())),
    );
    for (name, value) in response.headers() {
        if name == axum::http::header::CONTENT_LENGTH {
            continue;
        }
        if !rendered.headers().contains_key(name) {
            rendered.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rendered
}

/// A failure of a hosted page, rendered now (for handlers that build their responses by hand).
pub fn page_failure(pages: &Pages, error: impl Into<anyhow::Error>, what: &str) -> Response {
    PageError::failed(error, what).render(pages)
}
