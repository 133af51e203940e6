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

use super::pages::Pages;
use super::WebState;
use crate::service::failure::{self, Triage, RETRY_AFTER_SECS};

/// What the error page says.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    pub title: &'static str,
    pub message: Cow<'static, str>,
}

#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    page: ErrorPage,
}

impl PageError {
    /// A page with this status, title and message (in words a person understands).
    pub fn new(status: StatusCode, title: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            page: ErrorPage {
                title,
                message: message.into(),
            },
        }
    }

    /// Something failed: 503 when the store is unavailable, else 500. The chain is logged.
    pub fn failed(error: impl Into<anyhow::Error>, what: &str) -> Self {
        match failure::triage(&error.into(), what) {
            Triage::Unavailable => Self::unavailable(),
            Triage::Fault => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Please try again later.",
            ),
        }
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Temporarily unavailable",
            "The service is temporarily unavailable. Please try again in a few seconds.",
        )
    }

    /// The form's CSRF token is missing or wrong (or the browser has no cookie yet).
    pub fn form_expired() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "For your security the form could not be accepted. Go back, reload the page and try again.",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The page, rendered now (for code that holds the templates).
    pub fn render(self, pages: &Pages) -> Response {
        with_retry_after(
            self.status,
            pages.error(self.status, self.page.title, &self.page.message),
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
    let error = match status {
        StatusCode::SERVICE_UNAVAILABLE => PageError::unavailable(),
        StatusCode::REQUEST_TIMEOUT => PageError::new(
            status,
            "Request timed out",
            "The form took too long to arrive. Please try again.",
        ),
        StatusCode::TOO_MANY_REQUESTS => PageError::new(
            status,
            "Too many requests",
            "Too many attempts from your network. Try again in about a minute.",
        ),
        _ => PageError::new(status, "Something went wrong", "Please try again later."),
    };
    super::with_page_headers(error.render(pages))
}

/// The layer that renders the pages of [`PageError`]s, keeping their status and headers.
pub async fn render_error_pages(State(state): State<WebState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let Some(page) = response.extensions_mut().remove::<ErrorPage>() else {
        return response;
    };
    let mut rendered = state.pages.error(response.status(), page.title, &page.message);
    for (name, value) in response.headers() {
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
