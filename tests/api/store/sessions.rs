//! Browser sessions: live until ended or expired, ended once (by cookie hash or sid), listed per
//! person, touched, and found when they lapse.

use std::sync::Arc;

use keyhaven::storage::{SessionRecord, Store, StoreError};

use super::{alice, session, user};

contract!(
    sessions_are_live_until_ended_or_expired,
    a_session_ends_once_by_sid_and_stays_findable,
    a_person_lists_only_their_live_sessions,
    lapsed_sessions_are_expired_or_idle_and_not_ended,
);

async fn sessions_are_live_until_ended_or_expired(store: Arc<dyn Store>) {
    store
        .insert_user(&user("u1", "alice", "alice@example.com"))
        .await
        .expect("user");
    store.insert_session(&session("h1", "u1")).await.expect("insert");
    assert!(matches!(
        store.insert_session(&session("h1", "u1")).await,
        Err(StoreError::Conflict)
    ));
    let same_sid = SessionRecord {
        id_hash: "h2".into(),
        ..session("h1", "u1")
    };
    assert!(
        matches!(store.insert_session(&same_sid).await, Err(StoreError::Conflict)),
        "the sid is unique too"
    );
    assert!(store.find_live_session("h2", 500).await.expect("find").is_none());
    assert_eq!(
        store.find_live_session("h1", 999).await.expect("find"),
        Some(session("h1", "u1"))
    );
    assert!(
        store.find_live_session("h1", 1_000).await.expect("find").is_none(),
        "expired at expires_at"
    );
    assert!(!store.end_session("nope", 500).await.expect("end"));
    assert!(store.end_session("h1", 500).await.expect("end"));
    assert!(!store.end_session("h1", 501).await.expect("end"), "ends once");
    assert!(store.find_live_session("h1", 600).await.expect("find").is_none());
}

async fn a_session_ends_once_by_sid_and_stays_findable(store: Arc<dyn Store>) {
    alice(&store).await;
    store.insert_session(&session("h1", "u1")).await.expect("insert");
    assert_eq!(
        store.find_session_by_sid("sid-h1").await.expect("find"),
        Some(session("h1", "u1"))
    );
    assert!(store.find_session_by_sid("nope").await.expect("find").is_none());
    assert!(!store.end_session_by_sid("nope", 500).await.expect("end"));
    assert!(store.end_session_by_sid("sid-h1", 500).await.expect("end"));
    assert!(
        !store.end_session_by_sid("sid-h1", 501).await.expect("end"),
        "ends once"
    );
    assert!(!store.end_session("h1", 502).await.expect("end"), "either way");
    assert!(store.find_live_session("h1", 600).await.expect("find").is_none());
    // Ended, it is still found by sid (logout and token checks need it).
    assert_eq!(
        store.find_session_by_sid("sid-h1").await.expect("find"),
        Some(session("h1", "u1"))
    );
}

async fn a_person_lists_only_their_live_sessions(store: Arc<dyn Store>) {
    alice(&store).await;
    store
        .insert_user(&user("u2", "bob", "bob@example.com"))
        .await
        .expect("insert");
    let at = |id: &str, user_id: &str, created_at: i64, expires_at: i64| SessionRecord {
        created_at,
        expires_at,
        ..session(id, user_id)
    };
    store
        .insert_session(&at("late", "u1", 300, 1_000))
        .await
        .expect("insert");
    store
        .insert_session(&at("early", "u1", 200, 1_000))
        .await
        .expect("insert");
    store
        .insert_session(&at("short", "u1", 100, 600))
        .await
        .expect("insert");
    store
        .insert_session(&at("ended", "u1", 100, 1_000))
        .await
        .expect("insert");
    store
        .insert_session(&at("bob", "u2", 100, 1_000))
        .await
        .expect("insert");
    assert!(store.end_session("ended", 400).await.expect("end"));

    let live = |now: i64| {
        let store = store.clone();
        async move {
            store
                .list_live_sessions("u1", now)
                .await
                .expect("list")
                .into_iter()
                .map(|s| s.id_hash)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        live(599).await,
        ["short", "early", "late"],
        "oldest first, not ended, not another's"
    );
    assert_eq!(live(600).await, ["early", "late"], "expired at expires_at");
    assert!(store.list_live_sessions("nobody", 500).await.expect("list").is_empty());
    // One live session from this browser is enough; ended, expired, other browsers are not.
    assert!(store.has_live_session_from("u1", Some("test"), 599).await.expect("has"));
    assert!(!store
        .has_live_session_from("u1", Some("other"), 599)
        .await
        .expect("has"));
    assert!(!store.has_live_session_from("u1", None, 599).await.expect("has"));
    assert!(
        !store
            .has_live_session_from("u1", Some("test"), 1_000)
            .await
            .expect("has"),
        "all expired"
    );
    assert!(!store
        .has_live_session_from("nobody", Some("test"), 500)
        .await
        .expect("has"));

    // Touching notes the use on that session alone.
    store.touch_session("early", 450).await.expect("touch");
    store.touch_session("nope", 450).await.expect("touch");
    let sessions = store.list_live_sessions("u1", 500).await.expect("list");
    let seen: Vec<(&str, i64)> = sessions.iter().map(|s| (s.id_hash.as_str(), s.last_seen_at)).collect();
    assert_eq!(seen, [("short", 100), ("early", 450), ("late", 100)]);
}

async fn lapsed_sessions_are_expired_or_idle_and_not_ended(store: Arc<dyn Store>) {
    alice(&store).await;
    let at = |id: &str, last_seen_at: i64, expires_at: i64| SessionRecord {
        last_seen_at,
        expires_at,
        ..session(id, "u1")
    };
    store.insert_session(&at("fresh", 500, 1_000)).await.expect("insert");
    store.insert_session(&at("idle", 300, 1_000)).await.expect("insert");
    store.insert_session(&at("expired", 500, 600)).await.expect("insert");
    store.insert_session(&at("ended", 100, 200)).await.expect("insert");
    assert!(store.end_session("ended", 150).await.expect("end"));

    let lapsed = |now: i64, idle_since: i64, limit: i64| {
        let store = store.clone();
        async move {
            let mut sids = store.lapsed_sessions(now, idle_since, limit).await.expect("lapsed");
            sids.sort();
            sids
        }
    };
    assert!(lapsed(599, 299, 10).await.is_empty(), "nothing has lapsed yet");
    // Boundaries: expired at expires_at, idle when last seen at or before `idle_since`.
    assert_eq!(lapsed(600, 299, 10).await, ["sid-expired"]);
    assert_eq!(lapsed(599, 300, 10).await, ["sid-idle"]);
    assert_eq!(
        lapsed(600, 300, 10).await,
        ["sid-expired", "sid-idle"],
        "an ended session never"
    );
    assert_eq!(lapsed(600, 300, 1).await.len(), 1, "at most `limit`");
}
