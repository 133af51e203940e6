//! The database itself and keeping it small: ping and close, the janitor lease, and the
//! housekeeping pass, which deletes only what nobody can need, in bounded batches.

use std::sync::Arc;

use keyhaven::domain::event::{kind, EventFilter, Outcome, SecurityEvent};
use keyhaven::domain::user::lockout;
use keyhaven::storage::{CodeRedemption, Expired, PendingLogin, SessionRecord, Store};

use super::credentials::fail;
use super::{alice, code, family, pending, refresh, session, user};

contract!(
    ping_answers_until_closed,
    a_lease_has_one_holder_at_a_time,
    the_housekeeping_pass_keeps_a_lock_history_for_a_day,
    every_expired_kind_deletes_only_what_nobody_needs,
    the_housekeeping_pass_deletes_at_most_its_limit,
);

async fn ping_answers_until_closed(store: Arc<dyn Store>) {
    store.ping().await.expect("ping");
    store.close().await;
    assert!(store.ping().await.is_err(), "a closed store does not answer");
}

async fn a_lease_has_one_holder_at_a_time(store: Arc<dyn Store>) {
    let attempts: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .take_lease("janitor", &format!("instance-{i}"), 100, 700)
                    .await
                    .expect("lease")
            })
        })
        .collect();
    let mut holders = 0;
    for attempt in attempts {
        holders += usize::from(attempt.await.expect("task"));
    }
    assert_eq!(holders, 1, "one instance gets the lease");
    assert!(
        store.take_lease("other", "late", 100, 700).await.expect("lease"),
        "per name"
    );
    assert!(!store.take_lease("janitor", "late", 699, 1_300).await.expect("lease"));
    assert!(
        store.take_lease("janitor", "late", 700, 1_300).await.expect("lease"),
        "free once expired"
    );
    assert!(
        store.take_lease("janitor", "late", 800, 1_400).await.expect("lease"),
        "its holder renews it"
    );
    assert!(!store.take_lease("janitor", "early", 1_399, 2_000).await.expect("lease"));
}

async fn the_housekeeping_pass_keeps_a_lock_history_for_a_day(store: Arc<dyn Store>) {
    let t = 1_000_000;
    let until = fail(&store, "locked", t, lockout::MAX_FAILURES).await.unwrap();
    fail(&store, "failed", t, 2).await;
    // Quiet failures go after their window; a lock's row stays a day after the lock ended.
    let later = until + lockout::WINDOW;
    assert_eq!(
        store.delete_expired(Expired::LoginThrottle, later, 100).await.unwrap(),
        1
    );
    assert_eq!(
        store
            .delete_expired(Expired::LoginThrottle, until + lockout::MEMORY - 1, 100)
            .await
            .unwrap(),
        0
    );
    // So the back-off still holds for a lock within that day.
    let again = until + lockout::MEMORY - 100;
    assert_eq!(
        fail(&store, "locked", again, lockout::MAX_FAILURES).await,
        Some(again + lockout::MAX_FAILURES - 1 + 2 * lockout::BASE)
    );
    let until = again + lockout::MAX_FAILURES - 1 + 2 * lockout::BASE;
    assert_eq!(
        store
            .delete_expired(Expired::LoginThrottle, until + lockout::MEMORY, 100)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        fail(&store, "locked", until + lockout::MEMORY, lockout::MAX_FAILURES).await,
        Some(until + lockout::MEMORY + lockout::MAX_FAILURES - 1 + lockout::BASE),
        "a day after, the back-off starts over"
    );
}

fn pending_login(browser_hash: &str, expires_at: i64) -> PendingLogin {
    PendingLogin {
        browser_hash: browser_hash.into(),
        user_id: "u1".into(),
        request_id: None,
        created_at: 100,
        expires_at,
        failures: 0,
        name_key: None,
    }
}

async fn every_expired_kind_deletes_only_what_nobody_needs(store: Arc<dyn Store>) {
    alice(&store).await;
    for (id, name) in [("u2", "bob"), ("u3", "carol")] {
        store
            .insert_user(&user(id, name, &format!("{name}@example.com")))
            .await
            .expect("insert");
    }
    let delete = |what: Expired, now: i64| {
        let store = store.clone();
        async move { store.delete_expired(what, now, 100).await.expect("delete") }
    };

    // Codes stay an hour past expiry, so that a late replay still finds its family.
    store.insert_authorization_code(&code("k-old")).await.expect("insert");
    let later = keyhaven::storage::CodeRecord {
        expires_at: 5_000,
        ..code("k-new")
    };
    store.insert_authorization_code(&later).await.expect("insert");
    assert_eq!(delete(Expired::Codes, 70 + 3_599).await, 0);
    assert_eq!(delete(Expired::Codes, 70 + 3_600).await, 1);
    let gone = store
        .redeem_authorization_code("k-old", "f-x", 10, 100)
        .await
        .expect("redeem");
    assert_eq!(gone, CodeRedemption::NotFound);

    // Refresh tokens at their idle end; families at their absolute end, with their tokens.
    family(&store, "f-live", "u1", "c1", "s1", 10_000).await;
    family(&store, "f-old", "u1", "c1", "s1", 600).await;
    store
        .insert_refresh_token(&refresh("r-old", "f-live", 500))
        .await
        .expect("insert");
    store
        .insert_refresh_token(&refresh("r-new", "f-live", 900))
        .await
        .expect("insert");
    store
        .insert_refresh_token(&refresh("r-fam", "f-old", 10_000))
        .await
        .expect("insert");
    assert_eq!(delete(Expired::RefreshTokens, 499).await, 0);
    assert_eq!(delete(Expired::RefreshTokens, 500).await, 1);
    assert!(store.find_refresh_token("r-old").await.expect("find").is_none());
    assert!(store.find_refresh_token("r-new").await.expect("find").is_some());
    assert_eq!(delete(Expired::Families, 599).await, 0);
    assert_eq!(delete(Expired::Families, 600).await, 1);
    assert!(store.find_family("f-old").await.expect("find").is_none());
    assert!(
        store.find_refresh_token("r-fam").await.expect("find").is_none(),
        "tokens go with their family"
    );
    assert!(store.find_family("f-live").await.expect("find").is_some());

    // Sessions a day after they ended or expired.
    let day = 86_400;
    let with = |id: &str, expires_at: i64| SessionRecord {
        expires_at,
        ..session(id, "u1")
    };
    store.insert_session(&with("ended", 1_000_000)).await.expect("insert");
    store.insert_session(&with("expired", 2_000)).await.expect("insert");
    store.insert_session(&with("live", 1_000_000)).await.expect("insert");
    assert!(store.end_session("ended", 1_000).await.expect("end"));
    assert_eq!(delete(Expired::Sessions, 1_000 + day - 1).await, 0);
    assert_eq!(delete(Expired::Sessions, 1_000 + day).await, 1);
    assert!(store.find_session_by_sid("sid-ended").await.expect("find").is_none());
    assert_eq!(delete(Expired::Sessions, 2_000 + day - 1).await, 0);
    assert_eq!(delete(Expired::Sessions, 2_000 + day).await, 1);
    assert!(store.find_session_by_sid("sid-expired").await.expect("find").is_none());
    assert!(store.find_session_by_sid("sid-live").await.expect("find").is_some());

    // Pending requests and second-factor steps at expiry, together.
    store
        .insert_pending_authorization(&pending("p-old", "b1", 100, 300), 16)
        .await
        .expect("insert");
    store
        .insert_pending_authorization(&pending("p-new", "b1", 100, 10_000), 16)
        .await
        .expect("insert");
    store
        .put_pending_login(&pending_login("b-old", 300))
        .await
        .expect("put");
    store
        .put_pending_login(&pending_login("b-new", 10_000))
        .await
        .expect("put");
    assert_eq!(delete(Expired::PendingSteps, 299).await, 0);
    assert_eq!(delete(Expired::PendingSteps, 300).await, 2);
    assert!(store
        .find_pending_authorization("p-old", 0)
        .await
        .expect("find")
        .is_none());
    assert!(store
        .find_pending_authorization("p-new", 0)
        .await
        .expect("find")
        .is_some());
    assert!(store.find_pending_login("b-old", 0).await.expect("find").is_none());
    assert!(store.find_pending_login("b-new", 0).await.expect("find").is_some());

    // Reset and email-change links once used, or at expiry, together.
    store
        .replace_reset_token("u1", "reset-expiring", 100, 300)
        .await
        .expect("reset");
    store
        .replace_reset_token("u2", "reset-used", 100, 10_000)
        .await
        .expect("reset");
    store
        .replace_reset_token("u3", "reset-live", 100, 10_000)
        .await
        .expect("reset");
    store
        .replace_email_change("u1", "email-expiring", "a@new.example", 100, 300)
        .await
        .expect("email");
    store
        .replace_email_change("u2", "email-used", "b@new.example", 100, 10_000)
        .await
        .expect("email");
    store
        .replace_email_change("u3", "email-live", "c@new.example", 100, 10_000)
        .await
        .expect("email");
    assert!(store
        .consume_reset_token("reset-used", 200)
        .await
        .expect("consume")
        .is_some());
    assert!(store
        .consume_email_change("email-used", 200)
        .await
        .expect("consume")
        .is_some());
    assert_eq!(delete(Expired::Links, 299).await, 2, "the used ones");
    assert_eq!(delete(Expired::Links, 300).await, 2, "the expired ones");
    assert_eq!(delete(Expired::Links, 300).await, 0);
    assert_eq!(
        store.find_reset_token("reset-live", 0).await.expect("find").as_deref(),
        Some("u3")
    );
    assert!(store
        .consume_email_change("email-live", 200)
        .await
        .expect("consume")
        .is_some());

    // Revocation-log entries once their tokens have expired.
    store
        .append_revocation("family", "f-1", 100, 300)
        .await
        .expect("append");
    store
        .append_revocation("family", "f-2", 100, 10_000)
        .await
        .expect("append");
    assert_eq!(delete(Expired::Revocations, 299).await, 0);
    assert_eq!(delete(Expired::Revocations, 300).await, 1);
    let left: Vec<String> = store
        .revocations_since(0, 0)
        .await
        .expect("since")
        .into_iter()
        .map(|r| r.subject)
        .collect();
    assert_eq!(left, ["f-2"]);

    // Events at or before the cut-off.
    store
        .insert_events(&[
            SecurityEvent::new(100, kind::LOGIN, Outcome::Success),
            SecurityEvent::new(200, kind::LOGIN, Outcome::Success),
        ])
        .await
        .expect("insert");
    assert_eq!(delete(Expired::Events, 99).await, 0);
    assert_eq!(delete(Expired::Events, 100).await, 1);
    let events = store
        .list_events(&EventFilter {
            limit: 10,
            ..EventFilter::default()
        })
        .await
        .expect("list");
    assert_eq!(events.iter().map(|e| e.at).collect::<Vec<_>>(), [200]);

    // Sign-in counters after their window (the lock history is the other test's).
    fail(&store, "quiet", 1_000, 1).await;
    assert_eq!(delete(Expired::LoginThrottle, 1_000 + lockout::WINDOW - 1).await, 0);
    assert_eq!(delete(Expired::LoginThrottle, 1_000 + lockout::WINDOW).await, 1);
}

async fn the_housekeeping_pass_deletes_at_most_its_limit(store: Arc<dyn Store>) {
    alice(&store).await;
    let events: Vec<SecurityEvent> = (0..5)
        .map(|i| SecurityEvent::new(100 + i, kind::LOGIN, Outcome::Success))
        .collect();
    store.insert_events(&events).await.expect("insert");
    let mut batches = Vec::new();
    for _ in 0..4 {
        batches.push(store.delete_expired(Expired::Events, 1_000, 2).await.expect("delete"));
    }
    assert_eq!(batches, [2, 2, 1, 0]);
    // A kind with a companion table takes at most `limit` from each.
    for i in 0..3 {
        store
            .insert_pending_authorization(&pending(&format!("p{i}"), &format!("b{i}"), 100, 200), 16)
            .await
            .expect("insert");
        store
            .put_pending_login(&pending_login(&format!("b{i}"), 200))
            .await
            .expect("put");
    }
    let mut batches = Vec::new();
    for _ in 0..3 {
        batches.push(
            store
                .delete_expired(Expired::PendingSteps, 1_000, 2)
                .await
                .expect("delete"),
        );
    }
    assert_eq!(batches, [4, 2, 0]);
}
