#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
//! What hostile requests cost the server: the release binary runs as its own process (a fresh
//! data folder, SQLite), and this process sends the attacks and measures.
//!
//!     cargo bench --bench attack
//!
//! Prints, for a 350 KB body of 40,000 parameters at `POST /token` and `POST /authorize`:
//! the server's CPU time per refused request, the client-side latency, and `GET /healthz`
//! latency while eight such requests run back to back; and the same health figures with no
//! attack, as the baseline of the same run.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn env_for(dir: &std::path::Path) -> Vec<(String, String)> {
    let kek: [u8; 32] = rand::random();
    use base64::Engine;
    vec![
        ("KEYHAVEN_DATA_DIR".into(), dir.join("data").display().to_string()),
        (
            "KEYHAVEN_KEK".into(),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(kek),
        ),
        ("KEYHAVEN_LISTEN".into(), "127.0.0.1:0".into()),
        ("KEYHAVEN_LOG_LEVEL".into(), "warn,keyhaven=info".into()),
        // The attacks come from one address: keep the limiters out of the measurement.
        ("KEYHAVEN_RATE_LIMIT_API".into(), "1000000/1s".into()),
        ("KEYHAVEN_RATE_LIMIT_AUTHORIZE".into(), "1000000/1s".into()),
    ]
}

fn cli(dir: &std::path::Path, env: &[(String, String)], args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_keyhaven"))
        .args(args)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .expect("run keyhaven");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

fn start() -> (Server, serde_json::Value, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let env = env_for(dir.path());
    let service = cli(
        dir.path(),
        &env,
        &[
            "client",
            "create",
            "--json",
            "--name",
            "svc",
            "--grant-type",
            "client_credentials",
            "--audience",
            "https://api.example",
            "--scope",
            "read",
        ],
    );
    let rp = cli(
        dir.path(),
        &env,
        &[
            "client",
            "create",
            "--json",
            "--name",
            "rp",
            "--redirect-uri",
            "https://rp.example/cb",
        ],
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyhaven"))
        .arg("serve")
        .current_dir(dir.path())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stderr(Stdio::piped())
        .spawn()
        .expect("start keyhaven");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !sent {
                if let Some(at) = line.find("addr=") {
                    let addr: String = line[at + 5..].chars().take_while(|c| !c.is_whitespace()).collect();
                    tx.send(addr).unwrap();
                    sent = true;
                }
            }
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(60)).expect("server listening");
    (
        Server {
            child,
            address: format!("http://{addr}"),
            _dir: dir,
        },
        service,
        rp,
    )
}

/// utime + stime of a process, from /proc.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

/// /healthz latencies, probed every 10 ms for `window`.
async fn probe_health(address: &str, window: Duration) -> Vec<Duration> {
    let http = reqwest::Client::new();
    let until = Instant::now() + window;
    let mut latencies = Vec::new();
    while Instant::now() < until {
        let started = Instant::now();
        let ok = http
            .get(format!("{address}/healthz"))
            .send()
            .await
            .map(|r| r.status().is_success());
        assert!(matches!(ok, Ok(true)), "healthz failed");
        latencies.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    latencies.sort();
    latencies
}

fn report(label: &str, sorted: &[Duration]) {
    println!(
        "  {label}: n={} p50={:.2?} p99={:.2?} max={:.2?}",
        sorted.len(),
        percentile(sorted, 0.5),
        percentile(sorted, 0.99),
        sorted[sorted.len() - 1]
    );
}

#[tokio::main]
async fn main() {
    let (server, service, rp) = start();
    let address = server.address.clone();
    let pid = server.child.id();
    let attack: String = (0..40_000).map(|i| format!("x{i}=1")).collect::<Vec<_>>().join("&");
    println!(
        "attack body: {} bytes, 40000 parameters; server pid {pid}, {} cores",
        attack.len(),
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    let client_id = service["client_id"].as_str().unwrap().to_owned();
    let secret = service["client_secret"].as_str().unwrap().to_owned();
    let rp_id = rp["client_id"].as_str().unwrap().to_owned();
    let authorize_body = format!(
        "response_type=code&client_id={rp_id}&redirect_uri=https%3A%2F%2Frp.example%2Fcb&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&{attack}"
    );

    println!("baseline, no attack:");
    report("GET /healthz", &probe_health(&address, Duration::from_secs(3)).await);

    for (path, body) in [("/token", attack.clone()), ("/authorize", authorize_body)] {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicUsize::new(0));
        let latencies = Arc::new(std::sync::Mutex::new(Vec::new()));
        let cpu_before = cpu_time(pid);
        let started = Instant::now();
        let mut attackers = Vec::new();
        for _ in 0..8 {
            let (stop, sent, latencies) = (stop.clone(), sent.clone(), latencies.clone());
            let (url, body, id, secret) = (
                format!("{address}{path}"),
                body.clone(),
                client_id.clone(),
                secret.clone(),
            );
            attackers.push(tokio::spawn(async move {
                let http = reqwest::Client::new();
                while !stop.load(Ordering::Relaxed) {
                    let began = Instant::now();
                    let mut request = http
                        .post(&url)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(body.clone());
                    if url.ends_with("/token") {
                        request = request.basic_auth(&id, Some(&secret));
                    }
                    let status = request.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
                    assert!([0, 400, 413].contains(&status), "{url}: {status}");
                    latencies.lock().unwrap().push(began.elapsed());
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        let health = probe_health(&address, Duration::from_secs(5)).await;
        stop.store(true, Ordering::Relaxed);
        for a in attackers {
            a.await.unwrap();
        }
        let elapsed = started.elapsed();
        let cpu = cpu_time(pid) - cpu_before;
        let n = sent.load(Ordering::Relaxed);
        let mut lat = latencies.lock().unwrap().clone();
        lat.sort();
        println!("8 concurrent attackers on POST {path} for {elapsed:.1?}:");
        println!(
            "  refused {n} requests ({:.0}/s); server CPU {:.0?} in all = {:.3} ms per request",
            n as f64 / elapsed.as_secs_f64(),
            cpu,
            cpu.as_secs_f64() * 1000.0 / n.max(1) as f64
        );
        report("attack request (client side)", &lat);
        report("GET /healthz meanwhile", &health);
    }
}
