//! The HTTP/1.1 server: an accept loop with a connection cap, and on each connection a
//! header-read timeout and an idle timeout, so that a client that trickles its headers, or
//! holds a connection open without using it, cannot keep a descriptor for ever. Graceful
//! shutdown drains the requests in flight for a bounded time.
//!
//! Bodies and whole requests have their deadlines in `http::deadline`, inside the router.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tower::Service;

/// What a connection may cost.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// From when the server starts waiting for a request (on a new connection, or after the
    /// previous response on a kept-alive one) to the end of its headers.
    pub header_timeout: Duration,
    /// No byte read or written, and no request being handled, for this long: closed.
    pub idle_timeout: Duration,
    /// Open connections at most; more are answered 503 and closed at once.
    pub max_connections: usize,
    /// After the shutdown signal, how long requests in flight may take to finish.
    pub drain_timeout: Duration,
}

/// The body of the 503 a connection beyond the cap is given.
const REFUSED_BODY: &str = r#"{"error":"temporarily_unavailable","error_description":"too many connections"}"#;

/// At most one warning per this period about refused connections or failing accepts.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting, lets
/// requests in flight finish for up to `drain_timeout`, and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let mut refusals = Throttled::default();
    let mut accept_errors = Throttled::default();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    if !is_connection_error(&e) {
                        // Out of descriptors (EMFILE/ENFILE) or memory: the backlog keeps the
                        // connection; try again shortly instead of spinning.
                        if let Some(more) = accept_errors.note() {
                            tracing::warn!(error = %e, failures = more, "cannot accept connections");
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            refuse(stream);
            if let Some(refused) = refusals.note() {
                tracing::warn!(
                    refused,
                    max_connections = limits.max_connections,
                    "connection cap reached: refusing new connections (setting `max_connections`)"
                );
            }
            continue;
        };
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Watched {
            inner: stream,
            activity: activity.clone(),
        });
        let service = hyper::service::service_fn({
            let router = router.clone();
            let activity = activity.clone();
            move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                let busy = activity.busy();
                let mut router = router.clone();
                async move {
                    let response: Result<axum::response::Response, Infallible> = router.call(request).await;
                    drop(busy);
                    response
                }
            }
        });
        let connection = graceful.watch(http.serve_connection(io, service));
        let idle_timeout = limits.idle_timeout;
        tokio::spawn(async move {
            tokio::select! {
                served = connection => {
                    if let Err(e) = served {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                () = activity.idle_for(idle_timeout) => {
                    tracing::debug!("closing an idle connection");
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    match tokio::time::timeout(limits.drain_timeout, graceful.shutdown()).await {
        Ok(()) => tracing::info!("every connection closed"),
        Err(_) => tracing::warn!("requests still in flight after the drain timeout were cut off"),
    }
    Ok(())
}

/// Tells a connection beyond the cap to come back later, and closes it. Never waits: the
/// answer goes out in one write to an empty send buffer, or not at all.
fn refuse(stream: TcpStream) {
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\nretry-after: {}\r\nconnection: close\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{REFUSED_BODY}",
        crate::service::failure::RETRY_AFTER_SECS,
        REFUSED_BODY.len()
    );
    let _ = stream.try_write(answer.as_bytes());
}

/// Errors of one connection that the accept loop just skips.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// Counts occurrences, and says how many at most once per [`WARN_EVERY`] (rate-limited logs).
#[derive(Default)]
struct Throttled {
    last: Option<Instant>,
    unreported: u64,
}

impl Throttled {
    fn note(&mut self) -> Option<u64> {
        self.unreported += 1;
        let now = Instant::now();
        if self.last.is_some_and(|last| now.duration_since(last) < WARN_EVERY) {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.unreported))
    }
}

/// When a connection last moved a byte, and how many of its requests are being handled.
struct Activity {
    started: Instant,
    /// Milliseconds from `started` to the last byte read or written.
    last_ms: AtomicU64,
    busy: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            last_ms: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.started + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }

    /// Marks a request as being handled until the guard drops.
    fn busy(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::Relaxed);
        Busy(self.clone())
    }

    /// Completes once the connection has been idle for `timeout`: no byte either way and no
    /// request being handled (a slow handler is the request timeout's business).
    async fn idle_for(&self, timeout: Duration) {
        loop {
            tokio::time::sleep_until(self.last() + timeout).await;
            if self.busy.load(Ordering::Relaxed) > 0 {
                self.touch();
            } else if self.last() + timeout <= Instant::now() {
                return;
            }
        }
    }
}

struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

/// A socket that notes each byte it moves in its connection's [`Activity`].
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Raises the soft limit on open files towards what `connections` need (plus room for the
/// database pool, the listeners and logs), within the hard limit; warns when even the hard
/// limit is too low.
pub fn raise_open_files_limit(connections: usize) {
    #[cfg(unix)]
    {
        use rlimit::Resource;
        let needed = u64::try_from(connections).unwrap_or(u64::MAX).saturating_add(128);
        match rlimit::getrlimit(Resource::NOFILE) {
            Ok((soft, _)) if soft >= needed => {}
            Ok((soft, hard)) => {
                let target = needed.min(hard);
                if target > soft {
                    match rlimit::setrlimit(Resource::NOFILE, target, hard) {
                        Ok(()) => tracing::info!(
                            from = soft,
                            to = target,
                            "raised the open-files limit (RLIMIT_NOFILE) for max_connections"
                        ),
                        Err(e) => tracing::warn!(error = %e, soft, "cannot raise the open-files limit (RLIMIT_NOFILE)"),
                    }
                }
                if hard < needed {
                    tracing::warn!(
                        hard,
                        needed,
                        "the open-files hard limit is below what max_connections needs: lower max_connections or raise the limit"
                    );
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the open-files limit (RLIMIT_NOFILE)"),
        }
    }
    #[cfg(not(unix))]
    let _ = connections;
}
