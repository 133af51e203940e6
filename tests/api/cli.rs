//! The `keyhaven` CLI, run as a process against a live server's database.

use keyhaven::crypto::tokens::SecretHash;
use serde_json::Value;

use crate::helpers::{spawn_app, stdout_json, Backend};

#[tokio::test]
async fn client_create_prints_the_secret_once_and_stores_only_its_hash() {
    let app = spawn_app(Backend::Sqlite).await;
    let created = stdout_json(
        &app.cli(&[
            "client",
            "create",
            "--name",
            "Photo app",
            "--type",
            "confidential",
            "--redirect-uri",
            "https://photos.example/cb",
            "--redirect-uri",
            "http://127.0.0.1/cb",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "refresh_token",
            "--scope",
            "openid",
            "--scope",
            "profile",
            "--audience",
            "https://api.photos.example",
            "--json",
        ])
        .await,
    );
    let id = created["client_id"].as_str().expect("client_id").to_owned();
    let secret = created["client_secret"]
        .as_str()
        .expect("secret shown at creation")
        .to_owned();
    assert!(
        secret.starts_with("khs_") && secret.len() >= 4 + 43,
        "256-bit prefixed secret"
    );
    assert_eq!(created["redirect_uris"].as_array().expect("uris").len(), 2);

    // The running server's store sees the client the CLI wrote; only the hash is stored.
    let stored = app.state.store.find_client(&id).await.expect("store").expect("client");
    let hash = stored.secret_hash.expect("hash");
    assert_ne!(hash, secret);
    assert!(SecretHash::from_stored(hash).matches(&secret));

    let shown = stdout_json(&app.cli(&["client", "show", &id, "--json"]).await);
    assert_eq!(shown["client_id"], Value::from(id.clone()));
    assert!(shown.get("client_secret").is_none(), "the secret is never shown again");
    let listed = stdout_json(&app.cli(&["client", "list", "--json"]).await);
    assert_eq!(listed.as_array().expect("list").len(), 1);
    assert!(!String::from_utf8_lossy(&app.cli(&["client", "list"]).await.stdout).contains(&secret));

    stdout_json(&app.cli(&["client", "delete", &id, "--json"]).await);
    assert!(app.state.store.find_client(&id).await.expect("store").is_none());
    let again = app.cli(&["client", "delete", &id]).await;
    assert_eq!(again.status.code(), Some(1));
}

#[tokio::test]
async fn public_clients_get_no_secret_and_bad_registrations_are_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let created = stdout_json(
        &app.cli(&[
            "client",
            "create",
            "--name",
            "CLI tool",
            "--type",
            "public",
            "--redirect-uri",
            "http://127.0.0.1/cb",
            "--json",
        ])
        .await,
    );
    assert!(created.get("client_secret").is_none());
    let stored = app
        .state
        .store
        .find_client(created["client_id"].as_str().expect("id"))
        .await
        .expect("store")
        .expect("client");
    assert!(stored.secret_hash.is_none());

    for (args, why) in [
        (
            vec!["--type", "public", "--grant-type", "client_credentials"],
            "public + client_credentials",
        ),
        (
            vec!["--redirect-uri", "http://app.example/cb"],
            "http on a non-loopback host",
        ),
        (vec!["--redirect-uri", "https://app.example/cb#x"], "fragment"),
        (vec!["--type", "secret"], "unknown type"),
        (vec!["--grant-type", "password"], "password grant"),
        (
            vec!["--grant-type", "authorization_code"],
            "code grant without redirect URI",
        ),
        (
            vec!["--redirect-uri", "https://a.example/cb", "--scope", "bad\"scope"],
            "scope grammar",
        ),
    ] {
        let mut argv = vec!["client", "create", "--name", "x"];
        argv.extend(args);
        let out = app.cli(&argv).await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{why}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(app.state.store.list_clients().await.expect("store").len(), 1);
}

#[tokio::test]
async fn client_create_warns_when_a_service_has_no_scopes() {
    let app = spawn_app(Backend::Sqlite).await;
    let service = [
        "client",
        "create",
        "--name",
        "billing",
        "--grant-type",
        "client_credentials",
        "--audience",
        "https://api.example",
    ];
    // Positive control: with its scopes, no warning.
    let scoped = app
        .cli(&[&service[..], &["--scope", "invoices:read", "--json"]].concat())
        .await;
    stdout_json(&scoped);
    let stderr = String::from_utf8_lossy(&scoped.stderr);
    assert!(!stderr.lines().any(|l| l.contains("warning")), "{stderr}");

    let unscoped = app.cli(&[&service[..], &["--json"]].concat()).await;
    let created = stdout_json(&unscoped);
    assert!(created["client_id"].is_string(), "created all the same");
    let stderr = String::from_utf8_lossy(&unscoped.stderr);
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].starts_with("keyhaven: warning: the client has no scopes"),
        "{stderr}"
    );
}

#[tokio::test]
async fn public_clients_cannot_be_given_the_introspect_permission() {
    let app = spawn_app(Backend::Sqlite).await;
    let create = |client_type: &'static str| {
        let app = &app;
        async move {
            app.cli(&[
                "client",
                "create",
                "--name",
                "native",
                "--type",
                client_type,
                "--redirect-uri",
                "http://127.0.0.1/cb",
                "--permission",
                "introspect",
                "--json",
            ])
            .await
        }
    };
    // Positive control: a confidential client may have it.
    stdout_json(&create("confidential").await);
    let refused = create("public").await;
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("keyhaven: permissions: a public client cannot have the introspect permission"),
        "{stderr}"
    );
    assert_eq!(app.state.store.list_clients().await.expect("store").len(), 1);
}

#[tokio::test]
async fn user_commands_create_list_set_password_and_disable() {
    let app = spawn_app(Backend::Sqlite).await;
    let password = "correct horse battery staple";
    let out = app
        .cli_with_stdin(
            &[
                "user",
                "create",
                "--username",
                "Alice",
                "--email",
                "Alice@Example.com",
                "--claim",
                "name=Alice Liddell",
                "--password-stdin",
                "--json",
            ],
            &format!("{password}\n"),
        )
        .await;
    let user = stdout_json(&out);
    assert_eq!(user["username"], "alice");
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["claims"]["name"], "Alice Liddell");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(password) && !String::from_utf8_lossy(&out.stdout).contains(password));

    let stored = app
        .state
        .store
        .find_user_by_login("ALICE@example.com")
        .await
        .expect("store")
        .expect("user");
    assert!(stored.password_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert!(
        app.state
            .passwords
            .verify(Some(&stored.password_hash), &password.to_owned().into())
            .await
    );

    let dup = app
        .cli_with_stdin(
            &[
                "user",
                "create",
                "--username",
                "alice",
                "--email",
                "other@example.com",
                "--password-stdin",
            ],
            "another long password\n",
        )
        .await;
    assert_eq!(dup.status.code(), Some(1), "duplicate username refused");
    let short = app
        .cli_with_stdin(
            &[
                "user",
                "create",
                "--username",
                "bob",
                "--email",
                "bob@example.com",
                "--password-stdin",
            ],
            "short\n",
        )
        .await;
    assert_eq!(short.status.code(), Some(2), "short password refused");
    let bad_claim = app
        .cli_with_stdin(
            &[
                "user",
                "create",
                "--username",
                "bob",
                "--email",
                "bob@example.com",
                "--claim",
                "sub=x",
                "--password-stdin",
            ],
            "long enough password\n",
        )
        .await;
    assert_eq!(bad_claim.status.code(), Some(2), "sub is not a profile claim");

    stdout_json(
        &app.cli_with_stdin(
            &["user", "set-password", "alice", "--password-stdin", "--json"],
            "a different long password\n",
        )
        .await,
    );
    let stored = app
        .state
        .store
        .find_user_by_login("alice")
        .await
        .expect("store")
        .expect("user");
    assert!(
        app.state
            .passwords
            .verify(
                Some(&stored.password_hash),
                &"a different long password".to_owned().into()
            )
            .await
    );

    let listed = stdout_json(&app.cli(&["user", "list", "--json"]).await);
    assert_eq!(listed.as_array().expect("list").len(), 1);
    assert!(!listed.to_string().contains("argon2"), "hashes are never printed");

    stdout_json(&app.cli(&["user", "disable", "alice", "--json"]).await);
    assert!(
        app.state
            .store
            .find_user_by_login("alice")
            .await
            .expect("store")
            .expect("user")
            .disabled
    );
    assert_eq!(app.cli(&["user", "disable", "nobody"]).await.status.code(), Some(1));
}

#[tokio::test]
async fn migrate_and_keys_list_print_json() {
    let app = spawn_app(Backend::Sqlite).await;
    assert_eq!(stdout_json(&app.cli(&["migrate", "--json"]).await)["migrated"], true);
    let keys = stdout_json(&app.cli(&["keys", "list", "--json"]).await);
    let keys = keys.as_array().expect("list");
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().all(|k| k["state"] == "active"));
    assert!(
        !keys.iter().any(|k| k.to_string().contains("kek1.")),
        "sealed private keys are never printed"
    );
}

#[tokio::test]
async fn events_prints_the_security_log_filtered() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_user("alice").await;
    app.submit_login("/login", "alice", "not the password").await;
    app.submit_login("/login", "alice", crate::flow::PASSWORD).await;
    app.state.events.flush().await;
    let all = stdout_json(&app.cli(&["events", "--user", "alice", "--json"]).await);
    let all = all.as_array().expect("list");
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(
        (all[0]["kind"].as_str(), all[0]["outcome"].as_str()),
        (Some("login"), Some("success")),
        "newest first"
    );
    let failures = stdout_json(&app.cli(&["events", "--kind", "login", "--since", "1h", "--json"]).await);
    assert_eq!(failures.as_array().expect("list").len(), 2);
    let none = stdout_json(&app.cli(&["events", "--kind", "lockout", "--json"]).await);
    assert!(none.as_array().expect("list").is_empty());
    let human = app.cli(&["events"]).await;
    assert!(String::from_utf8_lossy(&human.stdout).contains("login"));
    assert_eq!(
        app.cli(&["events", "--since", "yesterday-ish"]).await.status.code(),
        Some(2)
    );
}

#[tokio::test]
async fn demo_makes_a_person_and_a_client_that_finish_the_code_flow() {
    let app = spawn_app(Backend::Sqlite).await;
    // Nothing is made by default.
    assert!(app.state.store.list_clients().await.expect("clients").is_empty());
    assert!(app.state.store.list_users().await.expect("users").is_empty());

    let demo = stdout_json(&app.cli(&["demo", "--json"]).await);
    let text = |name: &str| demo[name].as_str().unwrap_or_else(|| panic!("{name}")).to_owned();
    let (username, password) = (text("username"), text("password"));
    assert!(password.len() >= 24, "a generated password, never a fixed one");
    let again = stdout_json(&app.cli(&["demo", "--json"]).await);
    assert_ne!(again["password"], demo["password"]);
    assert_ne!(again["username"], demo["username"]);

    // The printed URLs work as printed: the code flow, then the account page, signed in.
    let landed = app
        .authorize_with(&text("authorize_url"), &username, &password, &text("redirect_uri"))
        .await;
    let code = crate::flow::query(&landed)["code"].clone();
    let exchange = |code: String| {
        app.http
            .post(format!("{}/token", app.address))
            .basic_auth(text("client_id"), Some(text("client_secret")))
            .form(&[
                ("grant_type", "authorization_code".to_owned()),
                ("code", code),
                ("redirect_uri", text("redirect_uri")),
                ("code_verifier", text("code_verifier")),
            ])
            .send()
    };
    let tokens: Value = {
        let response = exchange(code.clone()).await.expect("token");
        assert_eq!(response.status(), 200);
        response.json().await.expect("json")
    };
    assert!(tokens["access_token"].is_string() && tokens["id_token"].is_string());
    let account = app.get_url(&text("account_url")).await;
    assert_eq!(account.status(), 200);
    assert!(account.text().await.expect("html").contains(&username));
    // The code is spent.
    assert_eq!(exchange(code).await.expect("token").status(), 400);
    // The printed curl line is the same request.
    assert!(text("token_request").contains(&format!("-u '{}:{}'", text("client_id"), text("client_secret"))));
    assert!(text("token_request").contains(&text("code_verifier")));
}

#[tokio::test]
async fn cli_and_admin_api_register_clients_through_one_service() {
    let app = spawn_app(Backend::Sqlite).await;
    // The same rule refuses the same registration on both faces, naming the same field.
    let cli = app
        .cli(&[
            "client",
            "create",
            "--name",
            "Tool",
            "--type",
            "public",
            "--grant-type",
            "client_credentials",
        ])
        .await;
    assert_eq!(cli.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&cli.stderr)
        .contains("grant_types: a public client cannot use the client_credentials grant"));
    // Positive control: the same client with a grant a public client may use is made.
    let made = stdout_json(
        &app.cli(&[
            "client",
            "create",
            "--name",
            "Tool",
            "--type",
            "public",
            "--redirect-uri",
            "http://127.0.0.1/cb",
            "--json",
        ])
        .await,
    );
    let id = made["client_id"].as_str().expect("id").to_owned();
    // Each change is a security event naming the command line, as the admin API's name it.
    let rotated = app.cli(&["client", "rotate-secret", &id]).await;
    assert_eq!(rotated.status.code(), Some(2), "a public client has no secret");
    stdout_json(&app.cli(&["client", "delete", &id, "--json"]).await);
    let events = stdout_json(&app.cli(&["events", "--json"]).await);
    let kinds: Vec<&str> = events
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["detail"].as_str().is_some_and(|d| d.contains(&id)))
        .map(|e| e["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["client_deleted", "client_created"]);
}

#[tokio::test]
async fn cli_operations_on_a_person_end_their_sessions_and_let_them_back() {
    use crate::flow::{ClientSpec, PASSWORD};
    use keyhaven::domain::Clock;
    let app = spawn_app(Backend::Sqlite).await;
    let alice = app.create_user("alice").await;
    let client = app.register_client(ClientSpec::default()).await;
    let live = || async {
        app.state
            .store
            .list_live_sessions(&alice.id, app.clock.now())
            .await
            .expect("sessions")
            .len()
    };
    app.code_for(&client, "alice", &[]).await;
    assert_eq!(live().await, 1, "signed in");

    // sign-out ends every session, as the admin API's revoke-sessions does.
    stdout_json(&app.cli(&["user", "sign-out", "alice", "--json"]).await);
    assert_eq!(live().await, 0);

    // disable refuses sign-in; enable lets the person back (positive control).
    stdout_json(&app.cli(&["user", "disable", "alice", "--json"]).await);
    let login = app.submit_login("/login", "alice", PASSWORD).await;
    assert_eq!(login.status(), 401, "the form again with an error, not a session");
    assert_eq!(live().await, 0);
    stdout_json(&app.cli(&["user", "enable", "alice", "--json"]).await);
    let login = app.submit_login("/login", "alice", PASSWORD).await;
    assert_eq!(login.status(), 303, "signed in: on to the account");
    assert_eq!(crate::flow::location(&login), "/account");
    assert_eq!(live().await, 1);

    // Each is a security event naming the command line.
    let events = stdout_json(&app.cli(&["events", "--user", "alice", "--json"]).await);
    let kinds: Vec<&str> = events
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["detail"] == "command line")
        .map(|e| e["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["account_enabled", "account_disabled", "logout"]);
}

#[tokio::test]
async fn calibrate_measures_password_checks_and_each_signing_algorithm() {
    let app = spawn_app(Backend::Sqlite).await;
    let limits = stdout_json(&app.cli(&["calibrate", "--seconds", "1", "--json"]).await);
    assert!(limits["cores"].as_u64().expect("cores") >= 1);
    assert!(limits["password_checks_per_s"].as_f64().expect("checks") > 0.0);
    for alg in ["RS256", "ES256"] {
        assert!(
            limits["signatures_per_s"][alg].as_f64().unwrap_or(0.0) > 0.0,
            "{alg}: {limits}"
        );
    }
}
