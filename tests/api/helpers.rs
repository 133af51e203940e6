//! Test harness: each test owns a server on port 0 with a fresh database (a SQLite file in a
//! temp dir, or a PostgreSQL database created for it and dropped after), a fresh KEK and key
//! set, and a clock it can move.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use keyhaven::app::{AppState, Application};
use keyhaven::config::Settings;
use keyhaven::domain::OffsetClock;
use sqlx::{Connection, Executor, PgConnection};
use tempfile::TempDir;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A PostgreSQL database made for one test and dropped (with its connections) when dropped.
pub struct PgTestDb {
    pub url: String,
    admin_url: String,
    name: String,
}

pub fn postgres_admin_url() -> String {
    std::env::var("KEYHAVEN_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!("KEYHAVEN_TEST_POSTGRES_URL is not set: this test needs PostgreSQL (CI sets it; e.g. postgres://postgres@127.0.0.1:5432/test)")
    })
}

impl PgTestDb {
    pub async fn create() -> Self {
        let admin_url = postgres_admin_url();
        let name = format!("kh_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&admin_url)
            .await
            .expect("connect to KEYHAVEN_TEST_POSTGRES_URL");
        conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .expect("create test database");
        let mut url = url::Url::parse(&admin_url).expect("KEYHAVEN_TEST_POSTGRES_URL is a URL");
        url.set_path(&name);
        Self {
            url: url.to_string(),
            admin_url,
            name,
        }
    }

    /// Drops the database now, cutting every connection to it.
    pub async fn drop_now(&self) {
        let mut conn = PgConnection::connect(&self.admin_url).await.expect("connect admin");
        conn.execute(format!(r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#, self.name).as_str())
            .await
            .expect("drop test database");
    }
}

impl Drop for PgTestDb {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime: use a thread with a runtime of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&admin_url).await {
                    let _ = conn
                        .execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
                        .await;
                }
            });
        })
        .join();
    }
}

/// Every log line of every server in this test binary (one global subscriber per process).
static LOGS: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

#[derive(Clone, Copy)]
pub struct CapturedLogs;

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLogs {
    type Writer = CapturedLogs;
    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

/// What the servers logged so far.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

pub struct TestApp {
    pub address: String,
    /// The `metrics_listen` listener's address, when the settings give it one.
    pub metrics_addr: Option<std::net::SocketAddr>,
    pub http: reqwest::Client,
    pub state: AppState,
    pub clock: Arc<OffsetClock>,
    pub dir: TempDir,
    /// The settings given to the server, as name/value pairs (also used for CLI calls).
    pub settings: Vec<(&'static str, String)>,
    pub pg: Option<PgTestDb>,
}

pub fn random_kek() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

/// Spawns a server; `extra` settings override the test defaults.
pub async fn spawn_app_with(backend: Backend, extra: &[(&'static str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let pg = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(PgTestDb::create().await),
    };
    let database_url = match &pg {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}/keyhaven.db", dir.path().display()),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let port = listener.local_addr().expect("local addr").port();
    let address = format!("http://127.0.0.1:{port}");
    let mut settings: Vec<(&'static str, String)> = vec![
        ("listen", format!("127.0.0.1:{port}")),
        ("issuer", address.clone()),
        ("data_dir", dir.path().join("data").display().to_string()),
        ("database_url", database_url),
        ("kek", random_kek()),
        ("key_refresh_interval", "100ms".into()),
        ("password_hash_concurrency", "2".into()),
        // Generous limits: flows in tests sign in many times from one address. The rate-limit
        // tests set their own.
        ("rate_limit_pages", "10000/1s".into()),
        ("rate_limit_api", "10000/1s".into()),
        ("rate_limit_authorize", "10000/1s".into()),
        // The old 10 s database waits: bursts of concurrent requests in debug builds on a busy
        // two-core machine can wait longer than the 3 s defaults for a connection. The timeout
        // tests set their own short ones.
        // A sign-in mail per new browser would be most of the outbox in tests; the mail tests
        // turn it on.
        ("mail_new_sign_in", "false".into()),
        ("database_acquire_timeout", "10s".into()),
        ("database_statement_timeout", "10s".into()),
        // Verbose, and captured: the tests search every log line for the secrets they used.
        (
            "log_level",
            std::env::var("KEYHAVEN_TEST_LOG").unwrap_or_else(|_| "debug,hyper=info,h2=info,reqwest=info".into()),
        ),
    ];
    for (name, value) in extra {
        settings.retain(|(n, _)| n != name);
        // `{port}` stands for the server's port (an issuer on `localhost`, for passkeys).
        settings.push((name, value.replace("{port}", &port.to_string())));
    }
    let parsed = Settings::from_pairs(settings.iter().map(|(k, v)| (*k, v.clone()))).expect("valid test settings");
    keyhaven::telemetry::init_with_writer(parsed.log_format, &parsed.log_level, CapturedLogs, false);
    let clock = Arc::new(OffsetClock::default());
    let app = Application::build_on(parsed, clock.clone(), listener)
        .await
        .expect("server starts");
    let state = app.state();
    let metrics_addr = app.metrics_addr();
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("http client");
    TestApp {
        address,
        metrics_addr,
        http,
        state,
        clock,
        dir,
        settings,
        pg,
    }
}

/// Another server on the same database and KEK, as a second instance behind a load balancer.
pub async fn spawn_second_instance(first: &TestApp) -> TestApp {
    spawn_second_instance_with(first, &[]).await
}

/// [`spawn_second_instance`] with `extra` settings of its own.
pub async fn spawn_second_instance_with(first: &TestApp, extra: &[(&'static str, &str)]) -> TestApp {
    let shared: Vec<(&'static str, String)> = first
        .settings
        .iter()
        .filter(|(k, _)| matches!(*k, "database_url" | "kek" | "issuer"))
        .cloned()
        .collect();
    let mut settings: Vec<(&'static str, &str)> = shared.iter().map(|(k, v)| (*k, v.as_str())).collect();
    settings.extend_from_slice(extra);
    spawn_app_with(Backend::Sqlite, &settings).await
}

impl TestApp {
    /// The same server seen through another handle (tests replace `http` for a second browser).
    pub fn shallow_clone(&self) -> TestApp {
        TestApp {
            address: self.address.clone(),
            metrics_addr: self.metrics_addr,
            http: self.http.clone(),
            state: self.state.clone(),
            clock: self.clock.clone(),
            dir: tempfile::tempdir().expect("temp dir"),
            settings: self.settings.clone(),
            pg: None,
        }
    }

    pub fn outbox(&self) -> std::path::PathBuf {
        self.dir.path().join("data/outbox")
    }

    /// Bodies of the mails in the outbox (unfolding quoted-printable soft breaks), oldest first.
    pub fn mails(&self) -> Vec<String> {
        let mut files: Vec<_> = std::fs::read_dir(self.outbox())
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .map(|p| {
                std::fs::read_to_string(p)
                    .unwrap()
                    .replace("=\r\n", "")
                    .replace("=3D", "=")
            })
            .collect()
    }

    /// Waits (bounded) for the `n`-th mail to arrive.
    pub async fn wait_for_mails(&self, n: usize) -> Vec<String> {
        for _ in 0..100 {
            let mails = self.mails();
            if mails.len() >= n {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} mails in the outbox, found {}", self.mails().len());
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request")
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON body")
    }

    /// Runs the `keyhaven` binary on this app's database and KEK. The wait is off the runtime:
    /// the server runs on the test's own runtime, and a server transaction caught there while
    /// the test thread blocked would hold SQLite's write lock against the command.
    pub async fn cli(&self, args: &[&str]) -> Output {
        self.cli_with_stdin(args, "").await
    }

    pub async fn cli_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let env: Vec<(String, String)> = self
            .settings
            .iter()
            .filter(|(k, _)| *k != "listen")
            .map(|(k, v)| (keyhaven::config::env_name(k), v.clone()))
            .collect();
        let dir = self.dir.path().to_path_buf();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let stdin = stdin.to_owned();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_binary(dir, &env, &args, &stdin)
        })
        .await
        .expect("the command ran")
    }

    /// Polls (bounded) until `check` holds for the JWKS, returning it.
    pub async fn wait_for_jwks(&self, check: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        for _ in 0..100 {
            let jwks = self.get_json("/jwks").await;
            if check(&jwks) {
                return jwks;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("JWKS did not reach the expected state within 10 s");
    }

    /// Runs the key schedule once now (what the background task does every tick).
    pub async fn maintain_keys(&self) {
        self.state.keys.maintain().await.expect("key maintenance");
    }
}

/// Runs the binary in `dir` with only the given environment (plus PATH), feeding `stdin`.
/// A run that has not ended after 90 s is killed and fails the test.
pub fn run_binary(dir: PathBuf, env: &[(String, String)], args: &[&str], stdin: &str) -> Output {
    use std::io::{Read, Write};
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyhaven"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keyhaven");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("keyhaven {args:?} did not exit within 90 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_reader.join().expect("stdout"),
        stderr: err_reader.join().expect("stderr"),
    }
}

pub fn stdout_json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "keyhaven failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("--json output is JSON")
}
