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

/// A CA and a certificate it issued for 127.0.0.1 and `localhost`, made for one test.
struct TestPki {
    ca_pem: Vec<u8>,
    identity: native_tls::Identity,
}

fn test_pki() -> TestPki {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::{PKey, Private};
    use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
    use openssl::x509::{X509Builder, X509NameBuilder, X509};

    fn key() -> PKey<Private> {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
    }
    fn builder(cn: &str, serial: u32, key: &PKey<Private>) -> X509Builder {
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", cn).unwrap();
        let name = name.build();
        let mut b = X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&BigNum::from_u32(serial).unwrap().to_asn1_integer().unwrap())
            .unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_pubkey(key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
        b.set_not_after(&Asn1Time::days_from_now(1).unwrap()).unwrap();
        b
    }

    let ca_key = key();
    let mut ca = builder("Keyhaven test CA", 1, &ca_key);
    let ca_name = {
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "Keyhaven test CA").unwrap();
        name.build()
    };
    ca.set_issuer_name(&ca_name).unwrap();
    ca.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
        .unwrap();
    ca.append_extension(KeyUsage::new().critical().key_cert_sign().crl_sign().build().unwrap())
        .unwrap();
    ca.sign(&ca_key, MessageDigest::sha256()).unwrap();
    let ca: X509 = ca.build();

    let leaf_key = key();
    let mut leaf = builder("127.0.0.1", 2, &leaf_key);
    leaf.set_issuer_name(ca.subject_name()).unwrap();
    let san = SubjectAlternativeName::new()
        .ip("127.0.0.1")
        .dns("localhost")
        .build(&leaf.x509v3_context(Some(&ca), None))
        .unwrap();
    leaf.append_extension(san).unwrap();
    leaf.sign(&ca_key, MessageDigest::sha256()).unwrap();
    let leaf = leaf.build();

    let identity =
        native_tls::Identity::from_pkcs8(&leaf.to_pem().unwrap(), &leaf_key.private_key_to_pem_pkcs8().unwrap())
            .unwrap();
    TestPki {
        ca_pem: ca.to_pem().unwrap(),
        identity,
    }
}

/// An HTTPS server on loopback with the test CA's certificate that answers every request with
/// one JSON document; returns its base URL.
async fn https_document_server(identity: native_tls::Identity) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let acceptor = tokio_native_tls::TlsAcceptor::from(native_tls::TlsAcceptor::new(identity).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that does not trust the CA ends the handshake: nothing to serve.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(buf.get(..n).unwrap_or_default()),
                    }
                }
                let body = r#"{"client_id":"tls"}"#;
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://127.0.0.1:{port}")
}

#[tokio::test]
async fn outbound_https_trusts_an_extra_ca_only_when_configured() {
    let pki = test_pki();
    let base = https_document_server(pki.identity).await;
    let doc = url(&base, "/doc");

    // The system's roots do not know the test CA: the handshake is refused, verification on.
    let system_only = dev_fetcher(Duration::from_secs(5));
    match system_only.fetch(&doc, JSON).await {
        Err(FetchError::Transport(why)) => assert!(why.contains("certificate"), "{why}"),
        other => panic!("an unknown CA must be refused, got {other:?}"),
    }

    // The same fetch with the CA given as the `outbound_ca_file` setting would give it.
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    let with_ca = Fetcher::new(FetchPolicy {
        allow_loopback: true,
        extra_roots: FetchPolicy::read_roots(&ca_file).unwrap(),
        ..FetchPolicy::default()
    })
    .unwrap();
    let fetched = with_ca.fetch(&doc, JSON).await.expect("trusted through the extra CA");
    assert_eq!(&*fetched.body, br#"{"client_id":"tls"}"#);

    // A file that is not PEM certificates is refused when read (the setting names it at start).
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    assert!(FetchPolicy::read_roots(&not_pem).is_err());
    assert!(FetchPolicy::read_roots(&dir.path().join("absent.pem")).is_err());
}
