//! `keyhaven calibrate`: what this machine can do, for capacity planning and for the benchmark's
//! ceilings: password checks per second with the configured argon2 parameters and worker pool,
//! and signatures per second for each signing algorithm, on every core.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::{json, Map, Value};

use super::{CliError, Output};
use crate::domain::SigningAlg;
use crate::service::Services;

pub(super) async fn run(services: &Services, seconds: u64, out: &Output) -> Result<(), CliError> {
    let span = Duration::from_secs(seconds.clamp(1, 60));
    let checks = password_checks(services, span).await?;
    let mut signatures = BTreeMap::new();
    for alg in SigningAlg::ALL {
        if services.keys.active_kid(alg).is_some() {
            signatures.insert(alg.as_str(), signatures_per_second(services, alg, span).await?);
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    out.print(
        &json!({ "cores": cores, "password_checks_per_s": checks, "signatures_per_s": signatures }),
        || {
            let mut text = format!("{cores} cores\npassword checks: {checks:.1}/s");
            for (alg, rate) in &signatures {
                text.push_str(&format!("\n{alg} signatures: {rate:.0}/s"));
            }
            text
        },
    );
    Ok(())
}

/// Right-password checks per second through the server's own argon2 pool, as many at once as
/// the pool runs.
async fn password_checks(services: &Services, span: Duration) -> Result<f64, CliError> {
    let password = SecretString::from("calibration password, not a real one".to_owned());
    let hash = services
        .passwords
        .hash(&password)
        .await
        .map_err(|e| CliError::failed(e.to_string()))?;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()) * 2;
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + span;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (hash, password, done) = (hash.clone(), password.clone(), done.clone());
        let passwords = services.passwords.clone();
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                if passwords.verify(Some(&hash), &password).await {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        task.await.map_err(|e| CliError::failed(e.to_string()))?;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

/// Access-token-sized JWT signatures per second with the active key of `alg`, one thread a core.
async fn signatures_per_second(services: &Services, alg: SigningAlg, span: Duration) -> Result<f64, CliError> {
    let keys = services.keys.clone();
    tokio::task::spawn_blocking(move || {
        let mut claims = Map::new();
        for (name, value) in [
            ("iss", "https://issuer.example"),
            ("sub", "calibration"),
            ("scope", "read"),
        ] {
            claims.insert(name.into(), Value::from(value));
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let done = AtomicU64::new(0);
        let started = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..cores {
                scope.spawn(|| {
                    while started.elapsed() < span {
                        if keys.sign_jwt(alg, "at+jwt", claims.clone()).is_ok() {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
    })
    .await
    .map_err(|e| CliError::failed(e.to_string()))
}
