//! The safe fetcher of outside documents (client metadata documents, `jwks_uri`): against a
//! small HTTP server on loopback, with the development setting on, and refusals with it off.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use keyhaven::fetch::{CachePolicy, DocumentCache, FetchError, FetchPolicy, Fetcher, Freshness};
use url::Url;

const JSON: &[&str] = &["application/json"];

/// A document server on loopback; returns its base URL and a counter of `/doc` fetches.
async fn document_server() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = Router::new()
        .route(
            "/doc",
            get(move || {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    (
                        [
                            (header::CONTENT_TYPE, "application/json"),
                            (header::CACHE_CONTROL, "max-age=600"),
                        ],
                        r#"{"client_id":"x"}"#,
                    )
                }
            }),
        )
        .route(
            "/redirect",
            get(|| async { (axum::http::StatusCode::FOUND, [(header::LOCATION, "/doc")]) }),
        )
        .route(
            "/big",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    format!("\"{}\"", "a".repeat(100 * 1024)),
                )
            }),
        )
        .route(
            "/big-chunked",
            get(|| async {
                let chunks = (0..100).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024]));
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    axum::body::Body::from_stream(futures_util::stream::iter(chunks)),
                )
                    .into_response()
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                ([(header::CONTENT_TYPE, "application/json")], "{}")
            }),
        )
        .route(
            "/text",
            get(|| async { ([(header::CONTENT_TYPE, "text/html")], "<p>hi</p>") }),
        )
        .route("/missing", get(|| async { axum::http::StatusCode::NOT_FOUND }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), hits)
}

fn dev_fetcher(timeout: Duration) -> Fetcher {
    Fetcher::new(FetchPolicy {
        allow_loopback: true,
        timeout,
        max_bytes: 64 * 1024,
        extra_roots: Vec::new(),
    })
    .unwrap()
}

fn url(base: &str, path: &str) -> Url {
    Url::parse(&format!("{base}{path}")).unwrap()
}

#[tokio::test]
async fn documents_are_fetched_only_within_the_policy() {
    let (base, _) = document_server().await;
    let fetcher = dev_fetcher(Duration::from_secs(2));
    // The positive control: a JSON document of an accepted size.
    let fetched = fetcher.fetch(&url(&base, "/doc"), JSON).await.expect("fetched");
    assert_eq!(&*fetched.body, br#"{"client_id":"x"}"#);
    assert_eq!(fetched.max_age, Some(Duration::from_secs(600)));

    assert_eq!(
        fetcher.fetch(&url(&base, "/redirect"), JSON).await.unwrap_err(),
        FetchError::Redirect
    );
    assert_eq!(
        fetcher.fetch(&url(&base, "/big"), JSON).await.unwrap_err(),
        FetchError::TooLarge(64 * 1024)
    );
    assert_eq!(
        fetcher.fetch(&url(&base, "/big-chunked"), JSON).await.unwrap_err(),
        FetchError::TooLarge(64 * 1024),
        "a body without a length is cut at the limit too"
    );
    assert_eq!(
        fetcher.fetch(&url(&base, "/text"), JSON).await.unwrap_err(),
        FetchError::WrongType("text/html".into())
    );
    assert_eq!(
        fetcher.fetch(&url(&base, "/missing"), JSON).await.unwrap_err(),
        FetchError::Status(404)
    );
    let started = std::time::Instant::now();
    assert_eq!(
        fetcher.fetch(&url(&base, "/slow"), JSON).await.unwrap_err(),
        FetchError::Timeout(2)
    );
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test]
async fn loopback_and_plain_http_are_refused_without_the_development_setting() {
    let (base, hits) = document_server().await;
    let strict = Fetcher::new(FetchPolicy::default()).unwrap();
    // http is refused before anything is sent, and so is the loopback address over https.
    assert_eq!(
        strict.fetch(&url(&base, "/doc"), JSON).await.unwrap_err(),
        FetchError::NotHttps
    );
    let https_loopback = base.replace("http://", "https://");
    assert_eq!(
        strict.fetch(&url(&https_loopback, "/doc"), JSON).await.unwrap_err(),
        FetchError::ForbiddenAddress
    );
    // A name that resolves to loopback is refused by the resolver.
    let port = base.rsplit(':').next().unwrap();
    assert_eq!(
        strict
            .fetch(&Url::parse(&format!("https://localhost:{port}/doc")).unwrap(), JSON)
            .await
            .unwrap_err(),
        FetchError::ForbiddenAddress
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing reached the server");
}

#[tokio::test]
async fn a_cached_document_is_not_fetched_again_within_its_lifetime() {
    let (base, hits) = document_server().await;
    let cache = DocumentCache::new(
        dev_fetcher(Duration::from_secs(2)),
        CachePolicy {
            floor: Duration::from_secs(60),
            ceiling: Duration::from_secs(300),
            refetch_interval: Duration::from_secs(30),
            stale_for: Duration::from_secs(120),
            max_entries: 10,
        },
        JSON,
    );
    let doc = url(&base, "/doc");
    cache.get(&doc, 1_000, Freshness::Cached).await.unwrap();
    cache.get(&doc, 1_100, Freshness::Cached).await.unwrap();
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "max-age 600, kept for the ceiling of 300 s"
    );
    // A refetch (an unknown key id) within the refetch interval does not fetch.
    cache.get(&doc, 1_010, Freshness::Refetch).await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // After it, it does.
    cache.get(&doc, 1_200, Freshness::Refetch).await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    // Past the ceiling, fetched again.
    cache.get(&doc, 1_200 + 301, Freshness::Cached).await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 3);

    // A failing URL: the error, and no second attempt within the interval.
    let missing = url(&base, "/missing");
    assert_eq!(
        cache.get(&missing, 2_000, Freshness::Cached).await.unwrap_err(),
        FetchError::Status(404)
    );
    assert_eq!(
        cache.get(&missing, 2_001, Freshness::Cached).await.unwrap_err(),
        FetchError::Status(404)
    );
}
