//! Housekeeping: expired rows go, live ones stay, one instance at a time.

use keyhaven::janitor::run_pass;
use keyhaven::storage::Expired;

use crate::flow::ClientSpec;
use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp};

async fn count(app: &TestApp, table: &str) -> i64 {
    let url = &app.settings.iter().find(|(k, _)| *k == "database_url").unwrap().1;
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(url)
        .await
        .unwrap();
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_janitor_removes_expired_rows_and_keeps_live_ones() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = app.register_client(ClientSpec::default()).await;
    app.create_user("alice").await;
    let tokens = app.tokens_for(&client, "alice").await;
    let _unused_code = app.code_for(&client, "alice", &[]).await;
    app.revoke(&client, tokens["access_token"].as_str().unwrap(), None)
        .await;
    app.request_reset("alice@example.com").await;
    app.wait_for_mails(1).await;
    app.state.events.flush().await;
    let tables = [
        "authorization_codes",
        "grant_families",
        "refresh_tokens",
        "browser_sessions",
        "revocations",
        "reset_tokens",
        "security_events",
    ];
    let mut before = Vec::new();
    for t in tables {
        let n = count(&app, t).await;
        assert!(n > 0, "{t} has rows to begin with");
        before.push(n);
    }

    // Nothing has expired yet: a pass deletes nothing.
    let report = run_pass(&app.state, "instance-a")
        .await
        .unwrap()
        .expect("the lease is free");
    assert_eq!(report.lapsed_sessions, 0);
    for (t, n) in tables.iter().zip(&before) {
        assert_eq!(count(&app, t).await, *n, "{t} kept its live rows");
    }

    // 31 days on: codes, tokens, families, sessions, links and revocations are past their ends.
    app.clock.advance(31 * 86400);
    let report = run_pass(&app.state, "instance-a")
        .await
        .unwrap()
        .expect("the holder renews its lease");
    assert_eq!(report.lapsed_sessions, 1);
    assert!(report.deleted(Expired::Codes) >= 2);
    for t in [
        "authorization_codes",
        "grant_families",
        "refresh_tokens",
        "reset_tokens",
        "pending_authorizations",
    ] {
        assert_eq!(count(&app, t).await, 0, "{t} emptied");
    }
    // The old revocation entries are gone; ending the lapsed session wrote one that still counts.
    assert_eq!(count(&app, "revocations").await, 1);
    // The session ended at its absolute end (14 days) and is deleted a day after that; events
    // stay for the retention (90 days).
    assert_eq!(count(&app, "browser_sessions").await, 0);
    assert!(count(&app, "security_events").await > 0);
    app.clock.advance(60 * 86400);
    run_pass(&app.state, "instance-a").await.unwrap().expect("lease");
    assert_eq!(count(&app, "revocations").await, 0);
    app.state.events.flush().await;
    let remaining = app
        .state
        .store
        .list_events(&keyhaven::domain::event::EventFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        remaining
            .iter()
            .all(|e| e.at > keyhaven::domain::Clock::now(&*app.clock) - 90 * 86400),
        "old events are gone"
    );
}

#[tokio::test]
async fn only_the_lease_holder_works() {
    let app = spawn_app(Backend::Sqlite).await;
    assert!(run_pass(&app.state, "instance-a").await.unwrap().is_some());
    assert!(
        run_pass(&app.state, "instance-b").await.unwrap().is_none(),
        "b waits while a holds the lease"
    );
    assert!(
        run_pass(&app.state, "instance-a").await.unwrap().is_some(),
        "a renews it"
    );
    app.clock.advance(3600);
    assert!(
        run_pass(&app.state, "instance-b").await.unwrap().is_some(),
        "an expired lease can be taken"
    );
}

#[tokio::test]
async fn the_janitor_deletes_outbox_mail_once_its_link_has_expired() {
    let app = spawn_app_with(Backend::Sqlite, &[("reset_token_ttl", "5m")]).await;
    app.create_user("alice").await;
    app.request_reset("alice@example.com").await;
    app.wait_for_mails(1).await;
    app.request_reset("alice@example.com").await;
    app.wait_for_mails(2).await;
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(app.outbox())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let (old, fresh) = (files[0].clone(), files[1].clone());
    // One mail written 6 minutes ago: its link (reset_token_ttl, 5 minutes) is dead.
    let backdate = |path: &std::path::Path, by: u64| {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        let written = file.metadata().unwrap().modified().unwrap();
        file.set_modified(written - std::time::Duration::from_secs(by)).unwrap();
    };
    backdate(&old, 6 * 60);
    // A mail whose writing was cut short goes too; a file that is not a mail is not ours.
    let partial = app.outbox().join("cut-short.eml.part");
    std::fs::write(&partial, "Subject: half a mail").unwrap();
    backdate(&partial, 6 * 60);
    let note = app.outbox().join("note.txt");
    std::fs::write(&note, "not a mail").unwrap();
    backdate(&note, 3600);

    let report = run_pass(&app.state, "instance-a").await.unwrap().expect("lease");
    assert_eq!(report.outbox_mails, 2);
    assert!(!old.exists() && !partial.exists(), "the expired mails are deleted");
    assert!(fresh.exists(), "the fresh mail is kept");

    // Six minutes on by the server's clock the other one has expired too; an instance without
    // the lease sweeps its own outbox all the same.
    app.clock.advance(6 * 60);
    assert!(
        run_pass(&app.state, "instance-b").await.unwrap().is_none(),
        "a holds the lease"
    );
    assert!(!fresh.exists(), "deleted once its link has expired");
    assert!(note.exists());
}
