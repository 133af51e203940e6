//! Grant families and refresh tokens: revoked once (alone, by session, by person, by client),
//! listed while live, rotation as a compare-and-swap; the revocation log.

use std::sync::Arc;

use keyhaven::storage::{CodeRedemption, RefreshTokenRecord, Store, StoreError};

use super::{code, family, refresh};

contract!(
    families_revoke_once_and_refresh_tokens_round_trip,
    a_person_lists_only_their_live_families,
    families_are_revoked_by_session_person_and_client,
    a_refresh_token_rotates_once_under_concurrency,
    the_revocation_log_answers_what_still_matters_in_order,
    the_revocation_log_takes_client_changes,
    families_are_revoked_for_every_person_of_a_client,
);

async fn families_revoke_once_and_refresh_tokens_round_trip(store: Arc<dyn Store>) {
    store.insert_authorization_code(&code("k1")).await.expect("insert");
    assert!(matches!(
        store
            .redeem_authorization_code("k1", "fam-1", 20, 1_000)
            .await
            .expect("redeem"),
        CodeRedemption::Redeemed(_)
    ));
    let token = RefreshTokenRecord {
        token_hash: "r1".into(),
        family_id: "fam-1".into(),
        created_at: 20,
        expires_at: 500,
        rotated_at: None,
        successor_hash: None,
    };
    store.insert_refresh_token(&token).await.expect("insert");
    assert_eq!(store.find_refresh_token("r1").await.expect("find"), Some(token.clone()));
    assert!(store.find_refresh_token("nope").await.expect("find").is_none());
    let (joined, family) = store
        .find_refresh_grant("r1")
        .await
        .expect("find grant")
        .expect("r1 and its family");
    assert_eq!(joined, token);
    assert_eq!(
        family,
        store.find_family("fam-1").await.expect("family").expect("fam-1")
    );
    assert!(store.find_refresh_grant("nope").await.expect("find grant").is_none());
    assert!(matches!(
        store.insert_refresh_token(&token).await,
        Err(StoreError::Conflict)
    ));
    assert!(
        store
            .insert_refresh_token(&refresh("r2", "no-family", 500))
            .await
            .is_err(),
        "a refresh token needs its family"
    );
    assert!(store.find_family("nope").await.expect("find").is_none());
    assert!(store.revoke_family("fam-1", 30, "code_replay").await.expect("revoke"));
    assert!(!store.revoke_family("fam-1", 31, "again").await.expect("revoke"));
    assert!(!store.revoke_family("nope", 31, "again").await.expect("revoke"));
    let family = store.find_family("fam-1").await.expect("find").expect("family");
    assert_eq!(
        (family.revoked_at, family.revoked_reason.as_deref()),
        (Some(30), Some("code_replay"))
    );
}

/// Revoked family ids, sorted.
fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

async fn a_person_lists_only_their_live_families(store: Arc<dyn Store>) {
    family(&store, "f-short", "u1", "c1", "s1", 600).await;
    family(&store, "f-long", "u1", "c1", "s1", 1_000).await;
    family(&store, "f-revoked", "u1", "c1", "s1", 1_000).await;
    family(&store, "f-bob", "u2", "c1", "s2", 1_000).await;
    assert!(store.revoke_family("f-revoked", 30, "test").await.expect("revoke"));
    let live = |now: i64| {
        let store = store.clone();
        async move {
            sorted(
                store
                    .list_live_families("u1", now)
                    .await
                    .expect("list")
                    .into_iter()
                    .map(|f| f.id.into_string())
                    .collect(),
            )
        }
    };
    assert_eq!(live(599).await, ["f-long", "f-short"]);
    assert_eq!(live(600).await, ["f-long"], "ended at its absolute end");
    assert!(store.list_live_families("nobody", 100).await.expect("list").is_empty());
}

async fn families_are_revoked_by_session_person_and_client(store: Arc<dyn Store>) {
    family(&store, "s1-a", "u1", "c1", "s1", 1_000).await;
    family(&store, "s1-b", "u1", "c2", "s1", 1_000).await;
    family(&store, "s2-a", "u1", "c1", "s2", 1_000).await;
    family(&store, "s3-a", "u1", "c2", "s3", 1_000).await;
    family(&store, "bob", "u2", "c1", "s9", 1_000).await;
    assert!(store.revoke_family("s1-b", 25, "earlier").await.expect("revoke"));

    // By session: only its live families; the already revoked one keeps its reason.
    assert_eq!(
        store.revoke_session_families("s1", 30, "logout").await.expect("revoke"),
        vec!["s1-a".to_owned()]
    );
    assert!(
        store
            .revoke_session_families("s1", 31, "logout")
            .await
            .expect("revoke")
            .is_empty(),
        "once"
    );
    let s1b = store.find_family("s1-b").await.expect("find").expect("s1-b");
    assert_eq!(
        (s1b.revoked_at, s1b.revoked_reason.as_deref()),
        (Some(25), Some("earlier"))
    );
    let s1a = store.find_family("s1-a").await.expect("find").expect("s1-a");
    assert_eq!(
        (s1a.revoked_at, s1a.revoked_reason.as_deref()),
        (Some(30), Some("logout"))
    );

    // By person and client.
    assert_eq!(
        store
            .revoke_client_families("u1", "c2", 40, "app_removed")
            .await
            .expect("revoke"),
        vec!["s3-a".to_owned()]
    );
    assert!(store
        .revoke_client_families("u1", "c2", 41, "again")
        .await
        .expect("revoke")
        .is_empty());

    // By person, keeping one session's families.
    family(&store, "s4-a", "u1", "c1", "s4", 1_000).await;
    assert_eq!(
        store
            .revoke_user_families("u1", Some("s4"), 50, "password_changed")
            .await
            .expect("revoke"),
        vec!["s2-a".to_owned()]
    );
    assert_eq!(
        store
            .revoke_user_families("u1", None, 60, "disabled")
            .await
            .expect("revoke"),
        vec!["s4-a".to_owned()]
    );
    assert!(store
        .revoke_user_families("u1", None, 61, "again")
        .await
        .expect("revoke")
        .is_empty());
    let bob = store.find_family("bob").await.expect("find").expect("bob");
    assert_eq!(bob.revoked_at, None, "another person's family is untouched");
    assert!(store
        .revoke_session_families("nope", 70, "x")
        .await
        .expect("revoke")
        .is_empty());
}

async fn a_refresh_token_rotates_once_under_concurrency(store: Arc<dyn Store>) {
    family(&store, "fam-1", "u1", "c1", "s1", 1_000).await;
    store
        .insert_refresh_token(&refresh("r1", "fam-1", 500))
        .await
        .expect("insert");
    let attempts: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let next = RefreshTokenRecord {
                    created_at: 40,
                    ..refresh(&format!("r2-{i}"), "fam-1", 600)
                };
                let rotated = store.rotate_refresh_token("r1", &next, 40).await.expect("rotate");
                rotated.then_some(next)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for attempt in attempts {
        winners.extend(attempt.await.expect("task"));
    }
    assert_eq!(winners.len(), 1, "exactly one rotation wins");
    let winner = winners.pop().expect("winner");
    let old = store.find_refresh_token("r1").await.expect("find").expect("r1");
    assert_eq!(
        (old.rotated_at, old.successor_hash.as_deref()),
        (Some(40), Some(winner.token_hash.as_str()))
    );
    assert_eq!(
        store.find_refresh_token(&winner.token_hash).await.expect("find"),
        Some(winner.clone())
    );
    // The losers' tokens were never stored.
    for i in 0..8 {
        let hash = format!("r2-{i}");
        if hash != winner.token_hash {
            assert!(store.find_refresh_token(&hash).await.expect("find").is_none());
        }
    }
    // A rotated or unknown token does not rotate again.
    assert!(!store
        .rotate_refresh_token("r1", &refresh("r3", "fam-1", 700), 50)
        .await
        .expect("rotate"));
    assert!(!store
        .rotate_refresh_token("nope", &refresh("r4", "fam-1", 700), 50)
        .await
        .expect("rotate"));
    assert!(store.find_refresh_token("r3").await.expect("find").is_none());
    assert!(store
        .rotate_refresh_token(&winner.token_hash, &refresh("r5", "fam-1", 700), 60)
        .await
        .expect("rotate"));
}

async fn the_revocation_log_answers_what_still_matters_in_order(store: Arc<dyn Store>) {
    store
        .append_revocation("session", "sid-1", 100, 500)
        .await
        .expect("append");
    store
        .append_revocation("family", "fam-1", 100, 300)
        .await
        .expect("append");
    store.append_revocation("jti", "jti-1", 200, 500).await.expect("append");
    assert!(
        store.append_revocation("user", "u1", 200, 500).await.is_err(),
        "only sessions, families and tokens are logged"
    );
    let log = |since: i64, now: i64| {
        let store = store.clone();
        async move {
            store
                .revocations_since(since, now)
                .await
                .expect("since")
                .into_iter()
                .map(|r| (r.kind, r.subject, r.created_at, r.expires_at))
                .collect::<Vec<_>>()
        }
    };
    let entry = |kind: &str, subject: &str, created_at: i64, expires_at: i64| {
        (kind.to_owned(), subject.to_owned(), created_at, expires_at)
    };
    assert_eq!(
        log(0, 299).await,
        [
            entry("session", "sid-1", 100, 500),
            entry("family", "fam-1", 100, 300),
            entry("jti", "jti-1", 200, 500),
        ],
        "in log order"
    );
    assert_eq!(
        log(200, 299).await,
        [entry("jti", "jti-1", 200, 500)],
        "written at or after `since`"
    );
    assert_eq!(
        log(0, 300).await,
        [entry("session", "sid-1", 100, 500), entry("jti", "jti-1", 200, 500)],
        "an entry stops mattering when its tokens expire"
    );
    assert!(log(201, 0).await.is_empty());
    let seqs: Vec<i64> = store
        .revocations_since(0, 0)
        .await
        .expect("since")
        .iter()
        .map(|r| r.seq)
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "sequence numbers grow: {seqs:?}");
}

async fn the_revocation_log_takes_client_changes(store: Arc<dyn Store>) {
    // Positive control: a kind logged from the start.
    store.append_revocation("jti", "jti-1", 100, 500).await.expect("append");
    store
        .append_revocation("client", "khc-1", 100, 3_700)
        .await
        .expect("a client change is logged");
    assert!(
        store.append_revocation("clients", "khc-1", 100, 3_700).await.is_err(),
        "the kinds are still checked"
    );
    let log: Vec<(String, String, i64)> = store
        .revocations_since(0, 0)
        .await
        .expect("since")
        .into_iter()
        .map(|r| (r.kind, r.subject, r.seq))
        .collect();
    assert_eq!(
        log.iter().map(|(k, s, _)| (k.as_str(), s.as_str())).collect::<Vec<_>>(),
        [("jti", "jti-1"), ("client", "khc-1")]
    );
    assert!(log[0].2 < log[1].2, "sequence numbers grow: {log:?}");
}

async fn families_are_revoked_for_every_person_of_a_client(store: Arc<dyn Store>) {
    family(&store, "a-1", "u1", "c1", "s1", 1_000).await;
    family(&store, "a-2", "u2", "c1", "s2", 1_000).await;
    family(&store, "b-1", "u1", "c2", "s1", 1_000).await;
    assert!(store.revoke_family("a-2", 25, "earlier").await.expect("revoke"));
    assert_eq!(
        store
            .revoke_all_client_families("c1", 30, "client_deleted")
            .await
            .expect("revoke"),
        vec!["a-1".to_owned()]
    );
    assert!(store
        .revoke_all_client_families("c1", 31, "again")
        .await
        .expect("revoke")
        .is_empty());
    let other = store.find_family("b-1").await.expect("find").expect("b-1");
    assert_eq!(other.revoked_at, None, "another client's family stays");
    let earlier = store.find_family("a-2").await.expect("find").expect("a-2");
    assert_eq!(earlier.revoked_reason.as_deref(), Some("earlier"));
}
