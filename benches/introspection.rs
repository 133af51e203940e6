#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
//! Throughput and tail latency of `POST /introspect` on a valid access token, with `GET /jwks`
//! as the baseline measured in the same run. Not a test: run it by hand and read the figures.
//!
//!     cargo bench --bench introspection            # 32 connections, 10 s per endpoint
//!     BENCH_SECONDS=20 BENCH_CONNECTIONS=64 cargo bench --bench introspection
//!
//! The server runs in this process on its own Tokio runtime; the load comes from a second
//! runtime over loopback HTTP/1.1 keep-alive connections, so both share the machine's cores.

use std::sync::Arc;
use std::time::{Duration, Instant};

use keyhaven::app::Application;
use keyhaven::config::Settings;
use keyhaven::crypto::tokens::OpaqueSecret;
use keyhaven::domain::client::{ClientRegistration, ClientType, GrantType, Permission};
use keyhaven::domain::{Clock, OffsetClock, SigningAlg};

struct Figures {
    requests: usize,
    errors: usize,
    rps: f64,
    p50: Duration,
    p99: Duration,
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn load(
    request: Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync>,
    connections: usize,
    seconds: u64,
) -> Figures {
    let warmup = Duration::from_secs(2);
    let measure = Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .expect("client");
            let mut latencies = Vec::new();
            let mut errors = 0;
            loop {
                let sent = Instant::now();
                if sent - start >= warmup + measure {
                    break;
                }
                let ok = match request(&http).send().await {
                    Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if sent - start >= warmup {
                    latencies.push(sent.elapsed());
                    errors += usize::from(!ok);
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (latencies, e) = task.await.expect("load task");
        all.extend(latencies);
        errors += e;
    }
    all.sort();
    let pick = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Figures {
        requests: all.len(),
        errors,
        rps: all.len() as f64 / measure.as_secs_f64(),
        p50: pick(0.50),
        p99: pick(0.99),
    }
}

fn report(name: &str, f: &Figures) {
    println!(
        "{name:<12} {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} requests, {} errors)",
        f.rps,
        f.p50.as_secs_f64() * 1e3,
        f.p99.as_secs_f64() * 1e3,
        f.requests,
        f.errors
    );
}

fn main() {
    let connections = env_number("BENCH_CONNECTIONS", 32) as usize;
    let seconds = env_number("BENCH_SECONDS", 10);
    let dir = tempfile::tempdir().expect("temp dir");

    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("server runtime");
    let (address, state) = server.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("addr"));
        let settings = Settings::from_pairs([
            ("issuer", address.clone()),
            ("database_url", format!("sqlite://{}/bench.db", dir.path().display())),
            ("kek", keyhaven::crypto::tokens::random_base64url(32)),
            ("log_level", "warn".to_owned()),
            // The limiter stays in the path, set high enough not to refuse the benchmark.
            ("rate_limit_introspect", "10000000/1s".to_owned()),
            ("rate_limit_api", "10000000/1s".to_owned()),
        ])
        .expect("settings");
        keyhaven::telemetry::init(settings.log_format, &settings.log_level);
        let clock: Arc<dyn Clock> = Arc::new(OffsetClock::default());
        let app = Application::build_on(settings, clock, listener).await.expect("server");
        let state = app.state();
        tokio::spawn(app.run_until_stopped());
        (address, state)
    });

    // A resource server allowed to introspect, and a service token for its audience.
    let secret = OpaqueSecret::generate("khs_");
    let register = |name: &str, grants, permissions, secret: &OpaqueSecret| {
        ClientRegistration {
            name: name.into(),
            client_type: ClientType::Confidential,
            redirect_uris: vec![],
            grant_types: grants,
            scopes: None,
            audiences: vec!["https://api.example".into()],
            first_party: false,
            id_token_alg: SigningAlg::Rs256,
            post_logout_redirect_uris: vec![],
            permissions,
            introspect_any_audience: false,
            ..ClientRegistration::new(name)
        }
        .into_client(
            format!("bench-{name}").into(),
            Some(secret.hash().as_str().to_owned()),
            0,
        )
    };
    let rs = register(
        "rs",
        vec![GrantType::ClientCredentials],
        vec![Permission::Introspect],
        &secret,
    );
    let service = register("service", vec![GrantType::ClientCredentials], vec![], &secret);
    server.block_on(async {
        state.store.insert_client(&rs).await.expect("rs");
        state.store.insert_client(&service).await.expect("service");
    });

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("client runtime");
    client_rt.block_on(async {
        let http = reqwest::Client::new();
        let token: serde_json::Value = http
            .post(format!("{address}/token"))
            .basic_auth(&service.id, Some(secret.expose()))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("json");
        let access_token = token["access_token"].as_str().expect("access token").to_owned();
        let check: serde_json::Value = http
            .post(format!("{address}/introspect"))
            .basic_auth(&rs.id, Some(secret.expose()))
            .form(&[("token", access_token.as_str())])
            .send()
            .await
            .expect("introspect")
            .json()
            .await
            .expect("json");
        assert_eq!(check["active"], true, "the benchmark token must be active");

        println!(
            "{connections} connections, {seconds} s per endpoint after 2 s warm-up, {} cores",
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
        );
        let jwks_url = format!("{address}/jwks");
        let jwks = load(
            Arc::new(move |h: &reqwest::Client| h.get(&jwks_url)),
            connections,
            seconds,
        )
        .await;
        report("GET /jwks", &jwks);
        let introspect_url = format!("{address}/introspect");
        let (rs_id, rs_secret) = (rs.id.clone(), secret.expose().to_owned());
        let introspect = load(
            Arc::new(move |h: &reqwest::Client| {
                h.post(&introspect_url)
                    .basic_auth(&rs_id, Some(&rs_secret))
                    .form(&[("token", access_token.as_str())])
            }),
            connections,
            seconds,
        )
        .await;
        report("POST /introspect", &introspect);
        println!(
            "introspection / jwks: throughput {:.2}x, p99 {:.2}x",
            introspect.rps / jwks.rps,
            introspect.p99.as_secs_f64() / jwks.p99.as_secs_f64()
        );
    });
    drop(dir);
}
