//! Deadlines inside a request, counted from the end of its headers: the whole body must have
//! arrived within `http_body_timeout` (else 408, and the connection is closed), and the answer
//! must be ready within `request_timeout` (else 503 with `Retry-After`). A trickled body gains
//! nothing by sending a byte now and then: the body deadline is one deadline, not an idle
//! timer between chunks.
//!
//! Answers are JSON on the API and a page in words on the hosted pages (which paths are pages,
//! and the page itself, are the pages' face's to say: see [`PageAnswers`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::header::CONNECTION;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body::Frame;
use serde_json::json;
use tokio::time::{Instant, Sleep};

use super::{error, PageAnswers};

/// The layer's state: the two deadlines, and how to answer the pages.
#[derive(Clone)]
pub struct Deadlines {
    /// The whole body, from the end of the headers (setting `http_body_timeout`).
    pub body: Duration,
    /// The answer, from the end of the headers (setting `request_timeout`).
    pub answer: Duration,
    pub pages: PageAnswers,
}

/// The middleware: `from_fn_with_state(deadlines, deadlines)`.
pub async fn deadlines(State(deadlines): State<Deadlines>, request: Request, next: Next) -> Response {
    let body_deadline = Instant::now() + deadlines.body;
    let page = deadlines.pages.is_page(request.uri().path());
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
    let answered = tokio::time::timeout(deadlines.answer, next.run(request)).await;
    let body_late = match progress.load(Ordering::Relaxed) {
        LATE => true,
        READING => Instant::now() >= body_deadline,
        _ => false,
    };
    match answered {
        _ if body_late => {
            tracing::info!("request body too slow");
            body_too_slow(&deadlines.pages, page)
        }
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                timeout_secs = deadlines.answer.as_secs(),
                "request timed out (setting `request_timeout`)"
            );
            if page {
                deadlines.pages.page(StatusCode::SERVICE_UNAVAILABLE)
            } else {
                error::unavailable_json()
            }
        }
    }
}

/// 408, closing the connection: the rest of the body is not worth waiting for.
fn body_too_slow(pages: &PageAnswers, page: bool) -> Response {
    let mut response = if page {
        pages.page(StatusCode::REQUEST_TIMEOUT)
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
