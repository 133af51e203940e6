//! Deadlines inside a request, counted from the end of its headers: the whole body must have
//! arrived within `http_body_timeout` (else 408, and the connection is closed), and the answer
//! must be ready within `request_timeout` (else 503 with `Retry-After`). A trickled body gains
//! nothing by sending a byte now and then: the body deadline is one deadline, not an idle
//! timer between chunks.
//!
//! Answers are JSON on the API and a page in words on the hosted pages.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONNECTION, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_FRAME_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body::Frame;
use serde_json::json;
use tokio::time::{Instant, Sleep};

use super::{AppState, PAGE_CSP};
use crate::http::error;
use crate::web::paths as routes;

/// The middleware: `from_fn_with_state(state, deadlines)`.
pub async fn deadlines(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let body_deadline = Instant::now() + state.settings.http_body_timeout;
    let page = is_page(request.uri().path());
    let progress = Arc::new(AtomicU8::new(UNREAD));
    let request = request.map(|body| {
        if body.is_end_stream() {
            body
        } else {
            Body::new(DeadlineBody {
                inner: body,
                deadline: Box::pin(tokio::time::sleep_until(body_deadline)),
                progress: progress.clone(),
            })
        }
    });
    let answered = tokio::time::timeout(state.settings.request_timeout, next.run(request)).await;
    let body_late = match progress.load(Ordering::Relaxed) {
        LATE => true,
        READING => Instant::now() >= body_deadline,
        _ => false,
    };
    match answered {
        _ if body_late => {
            tracing::info!("request body too slow");
            body_too_slow(&state, page)
        }
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                timeout_secs = state.settings.request_timeout.as_secs(),
                "request timed out (setting `request_timeout`)"
            );
            if page {
                with_page_headers(crate::web::error::unavailable_page(&state.web.pages))
            } else {
                error::unavailable_json()
            }
        }
    }
}

/// The hosted pages (answered in HTML); everything else answers JSON.
fn is_page(path: &str) -> bool {
    [
        routes::LOGIN,
        routes::RESET,
        routes::ACCOUNT,
        routes::AUTHORIZE,
        routes::CONSENT,
        routes::LOGOUT,
    ]
    .iter()
    .any(|prefix| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// 408, closing the connection: the rest of the body is not worth waiting for.
fn body_too_slow(state: &AppState, page: bool) -> Response {
    let mut response = if page {
        with_page_headers(state.web.pages.error(
            StatusCode::REQUEST_TIMEOUT,
            "Request timed out",
            "The form took too long to arrive. Please try again.",
        ))
    } else {
        (
            StatusCode::REQUEST_TIMEOUT,
            Json(json!({
                "error": "invalid_request",
                "error_description": "the request body did not arrive in time",
            })),
        )
            .into_response()
    };
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// What the page layers would have added, for the pages answered here (outside them).
fn with_page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// How far the handler got with the body.
const UNREAD: u8 = 0;
const READING: u8 = 1;
const DONE: u8 = 2;
const LATE: u8 = 3;

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time (setting `http_body_timeout`)")]
struct BodyTooSlow;

/// A request body that fails once its deadline has passed, however it trickles.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
    progress: Arc<AtomicU8>,
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.progress.load(Ordering::Relaxed) == DONE {
            return Poll::Ready(None);
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.progress.store(LATE, Ordering::Relaxed);
            return Poll::Ready(Some(Err(Box::new(BodyTooSlow))));
        }
        this.progress.store(READING, Ordering::Relaxed);
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                this.progress.store(DONE, Ordering::Relaxed);
                Poll::Ready(None)
            }
            Poll::Ready(Some(frame)) => Poll::Ready(Some(frame.map_err(Into::into))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.progress.load(Ordering::Relaxed) == DONE || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::is_page;

    #[test]
    fn pages_are_told_from_the_api_by_path() {
        for page in [
            "/login",
            "/login/otp",
            "/reset",
            "/reset/khp_x",
            "/account",
            "/account/security/totp/start",
            "/authorize",
            "/authorize/resume",
            "/consent",
            "/logout",
        ] {
            assert!(is_page(page), "{page}");
        }
        for api in [
            "/token",
            "/userinfo",
            "/admin/v1/users",
            "/loginx",
            "/jwks",
            "/healthz",
            "/",
        ] {
            assert!(!is_page(api), "{api}");
        }
    }
}
