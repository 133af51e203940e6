//! Bad configuration: the binary exits non-zero with one line naming the setting, never a
//! panic; and the defaults start a working server with no other step.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helpers::{random_kek, run_binary};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn each_bad_setting_exits_non_zero_with_one_line_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(root.join("unknown.toml"), "colour = \"blue\"\n").expect("write");
    std::fs::write(root.join("badvalue.toml"), "access_token_ttl = \"forever\"\n").expect("write");
    std::fs::write(root.join("garbage-kek"), "not a key\n").expect("write");
    std::fs::create_dir(root.join("kek-is-a-dir")).expect("mkdir");
    let open_kek = root.join("open-kek");
    std::fs::write(&open_kek, format!("{}\n", random_kek())).expect("write");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&open_kek, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let db = format!("sqlite://{}/db/keyhaven.db", root.display());
    let kek = random_kek();
    let base = [
        ("KEYHAVEN_DATABASE_URL", db.as_str()),
        ("KEYHAVEN_KEK", kek.as_str()),
        ("KEYHAVEN_LISTEN", "127.0.0.1:0"),
    ];

    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (&["--config", "unknown.toml"], &[], "`colour`"),
        (&["--config", "badvalue.toml"], &[], "`access_token_ttl`"),
        (&["--config", "missing.toml"], &[], "missing.toml"),
        (&[], &[("KEYHAVEN_ISSUER", "not a url")], "`issuer`"),
        (&[], &[("KEYHAVEN_ISSUER", "id.example.com/path")], "`issuer`"),
        (&[], &[("KEYHAVEN_ISSUER", "http://id.example.com")], "`issuer`"),
        (
            &[],
            &[("KEYHAVEN_ISSUER", "https://id.example.com/?tenant=1")],
            "`issuer`",
        ),
        (
            &[],
            &[("KEYHAVEN_DATABASE_URL", "mysql://localhost/keyhaven")],
            "`database_url`",
        ),
        (&[], &[("KEYHAVEN_DATABASE_URL", "keyhaven.db")], "`database_url`"),
        (
            &[],
            &[("KEYHAVEN_DATABASE_URL", "postgres://127.0.0.1:1/nothing")],
            "`database_url`",
        ),
        (&[], &[("KEYHAVEN_KEK", "too-short")], "`kek`"),
        (&[], &[("KEYHAVEN_KEK", "")], "`kek`"),
        (&[], &[("KEYHAVEN_KEK", "@@@@")], "`kek`"),
        (&["--config", "empty-kek.toml"], &[], "`kek_file`"),
        (&["--config", "dir-kek.toml"], &[], "`kek_file`"),
        (&["--config", "open-kek.toml"], &[], "`kek_file`"),
        (&[], &[("KEYHAVEN_LISTEN", "everywhere")], "`listen`"),
        (&[], &[("KEYHAVEN_ACCESS_TOKEN_TTL", "0")], "`access_token_ttl`"),
        (&[], &[("KEYHAVEN_KEY_ROTATION_LEAD", "60d")], "`key_rotation_lead`"),
        (&[], &[("KEYHAVEN_LOG_FORMAT", "xml")], "`log_format`"),
        (&[], &[("KEYHAVEN_LOG_LEVEL", "[[[")], "`log_level`"),
        (
            &[],
            &[("KEYHAVEN_DEV_ALLOW_HTTP_ISSUER", "maybe")],
            "`dev_allow_http_issuer`",
        ),
        (
            &[],
            &[("KEYHAVEN_OUTBOUND_CA_FILE", "/nonexistent/ca.pem")],
            "`outbound_ca_file`",
        ),
        (
            &[],
            &[("KEYHAVEN_OUTBOUND_CA_FILE", "badvalue.toml")],
            "`outbound_ca_file`",
        ),
        (
            &[],
            &[("KEYHAVEN_CLIENT_ID_METADATA_DOCUMENTS", "https://tools.example/")],
            "`client_id_metadata_documents`",
        ),
        (
            &[],
            &[("KEYHAVEN_CLIENT_REGISTRATION", "anyone")],
            "`client_registration`",
        ),
        (
            &[],
            &[("KEYHAVEN_SELF_REGISTERED_GRANTS", "client_credentials")],
            "`self_registered_grants`",
        ),
        (&[], &[("KEYHAVEN_METADATA_CACHE_MIN", "2d")], "`metadata_cache_min`"),
        (
            &[],
            &[("KEYHAVEN_PASSKEY_ATTESTATION_CA_FILE", "/nonexistent/roots.pem")],
            "`passkey_attestation_ca_file`",
        ),
        (
            &[],
            &[("KEYHAVEN_PASSKEY_ATTESTATION_CA_FILE", "badvalue.toml")],
            "`passkey_attestation_ca_file`",
        ),
        (
            &[],
            &[("KEYHAVEN_PASSKEY_AAGUIDS", "ee882879-721c-4913-9775-3dfcce97072a")],
            "`passkey_aaguids`",
        ),
    ];
    // KEK files are named through the config file so KEYHAVEN_KEK can be absent for them.
    for (file, kek_file) in [
        ("empty-kek.toml", "garbage-kek"),
        ("dir-kek.toml", "kek-is-a-dir"),
        ("open-kek.toml", "open-kek"),
    ] {
        std::fs::write(
            root.join(file),
            format!("kek_file = \"{}\"\n", root.join(kek_file).display()),
        )
        .expect("write");
    }
    for (args, overrides, named) in cases {
        let mut vars = env(&base);
        let uses_kek_file = args.iter().any(|a| a.ends_with("kek.toml"));
        vars.retain(|(k, _)| {
            let dropped_for_kek_file = uses_kek_file && k == "KEYHAVEN_KEK";
            let overridden = overrides.iter().any(|(o, _)| o == k);
            !(dropped_for_kek_file || overridden)
        });
        vars.extend(env(overrides));
        let mut argv: Vec<&str> = args.to_vec();
        argv.push("serve");
        let out = run_binary(root.to_path_buf(), &vars, &argv, "");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let case = format!("{args:?} {overrides:?}");
        assert!(!out.status.success(), "{case}: exited 0");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{case}: exit status {:?}\n{stderr}",
            out.status.code()
        );
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{case}: expected one line, got:\n{stderr}");
        assert!(
            lines[0].contains(named),
            "{case}: the line does not name {named}: {stderr}"
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("backtrace"),
            "{case}: {stderr}"
        );
    }
}

/// What `cargo run --release -- serve` does on a fresh clone, with the debug build: no settings,
/// an empty folder; it must create its database and KEK and serve discovery and JWKS.
#[tokio::test]
async fn the_defaults_start_a_working_server_in_an_empty_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyhaven"))
        .arg("serve")
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // The one departure from the defaults: port 0, so parallel tests never collide.
        .env("KEYHAVEN_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut addr = None;
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) {
        if let Some(rest) = line.split("addr=").nth(1) {
            addr = rest.split_whitespace().next().map(str::to_owned);
            break;
        }
    }
    let addr = addr.expect("the server logs the address it listens on");
    let http = reqwest::Client::new();
    let discovery: serde_json::Value = http
        .get(format!("http://{addr}/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("JSON");
    assert_eq!(discovery["issuer"], "http://127.0.0.1:8080", "the default issuer");
    let jwks: serde_json::Value = http
        .get(format!("http://{addr}/jwks"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("JSON");
    assert_eq!(jwks["keys"].as_array().expect("keys").len(), 2);
    let _ = child.kill();
    let _ = child.wait();

    use std::os::unix::fs::PermissionsExt;
    assert!(
        dir.path().join("data/keyhaven.db").exists(),
        "database made under data/"
    );
    let mode = std::fs::metadata(dir.path().join("keys/kek"))
        .expect("kek file")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn the_readme_documents_every_setting_and_its_environment_variable() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    for (name, _, _) in keyhaven::config::SETTINGS {
        let row = format!("| `{name}` | `{}` |", keyhaven::config::env_name(name));
        assert!(readme.contains(&row), "README lacks the row for {name}");
    }
    for line in readme
        .lines()
        .filter(|l| l.starts_with("| `") && l.contains("| `KEYHAVEN_"))
    {
        let name = line.trim_start_matches("| `").split('`').next().unwrap();
        assert!(
            keyhaven::config::SETTINGS.iter().any(|(n, _, _)| *n == name),
            "README documents unknown setting {name}"
        );
    }
}
