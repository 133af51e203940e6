//! Signing keys: one active and one next per algorithm, promotion with one winner, deletion of
//! retired keys after their time, retirement of an algorithm no longer in use.

use std::sync::Arc;

use keyhaven::domain::{KeyState, SigningAlg};
use keyhaven::storage::{Store, StoreError};

use super::key;

contract!(
    signing_keys_one_active_and_one_next_per_alg,
    promotion_retires_the_active_key_and_has_one_winner,
    retired_keys_are_deleted_after_their_time,
    an_unused_alg_retires_its_active_key_and_drops_its_next,
);

async fn signing_keys_one_active_and_one_next_per_alg(store: Arc<dyn Store>) {
    assert!(store.list_signing_keys().await.expect("list").is_empty());
    store
        .insert_signing_key(&key("rs-1", SigningAlg::Rs256, KeyState::Active, 1_000))
        .await
        .expect("insert");
    store
        .insert_signing_key(&key("es-1", SigningAlg::Es256, KeyState::Active, 1_000))
        .await
        .expect("insert");
    assert!(matches!(
        store
            .insert_signing_key(&key("rs-2", SigningAlg::Rs256, KeyState::Active, 1_000))
            .await,
        Err(StoreError::Conflict)
    ));
    store
        .insert_signing_key(&key("rs-2", SigningAlg::Rs256, KeyState::Next, 2_000))
        .await
        .expect("next");
    assert!(matches!(
        store
            .insert_signing_key(&key("rs-3", SigningAlg::Rs256, KeyState::Next, 2_000))
            .await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store
            .insert_signing_key(&key("rs-1", SigningAlg::Rs256, KeyState::Retired, 1_000))
            .await,
        Err(StoreError::Conflict)
    ));
    let keys = store.list_signing_keys().await.expect("list");
    let kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(kids, ["es-1", "rs-1", "rs-2"], "oldest first, then by kid");
    let next = keys.iter().find(|k| k.kid == "rs-2").expect("rs-2");
    assert_eq!(
        (next.state, next.alg, next.activates_at),
        (KeyState::Next, SigningAlg::Rs256, 2_000)
    );
    assert_eq!(next.private_sealed, "kek1.sealed");
}

async fn promotion_retires_the_active_key_and_has_one_winner(store: Arc<dyn Store>) {
    store
        .insert_signing_key(&key("rs-1", SigningAlg::Rs256, KeyState::Active, 1_000))
        .await
        .expect("insert");
    store
        .insert_signing_key(&key("es-1", SigningAlg::Es256, KeyState::Active, 1_000))
        .await
        .expect("insert");
    store
        .insert_signing_key(&key("rs-2", SigningAlg::Rs256, KeyState::Next, 2_000))
        .await
        .expect("insert");
    // Several instances promoting at once: exactly one succeeds.
    let attempts = (0..8).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.promote_signing_key("rs-2", 2_000, 5_000).await.expect("promote") })
    });
    let mut wins = 0;
    for attempt in attempts {
        wins += usize::from(attempt.await.expect("task"));
    }
    assert_eq!(wins, 1);
    let keys = store.list_signing_keys().await.expect("list");
    let state = |kid: &str| {
        keys.iter()
            .find(|k| k.kid == kid)
            .map(|k| (k.state, k.retire_until, k.activated_at))
    };
    assert_eq!(state("rs-1"), Some((KeyState::Retired, Some(5_000), Some(1_000))));
    assert_eq!(state("rs-2"), Some((KeyState::Active, None, Some(2_000))));
    assert_eq!(
        state("es-1").map(|s| s.0),
        Some(KeyState::Active),
        "other algs untouched"
    );
    assert!(!store.promote_signing_key("nope", 2_000, 5_000).await.expect("promote"));
    assert!(
        !store.promote_signing_key("rs-1", 2_000, 5_000).await.expect("promote"),
        "a retired key cannot be promoted"
    );
}

async fn retired_keys_are_deleted_after_their_time(store: Arc<dyn Store>) {
    store
        .insert_signing_key(&key("rs-1", SigningAlg::Rs256, KeyState::Active, 1_000))
        .await
        .expect("insert");
    store
        .insert_signing_key(&key("rs-2", SigningAlg::Rs256, KeyState::Next, 2_000))
        .await
        .expect("insert");
    assert!(store.promote_signing_key("rs-2", 2_000, 5_000).await.expect("promote"));
    assert_eq!(store.delete_retired_signing_keys(4_999).await.expect("delete"), 0);
    assert_eq!(store.delete_retired_signing_keys(5_000).await.expect("delete"), 1);
    let kids: Vec<String> = store
        .list_signing_keys()
        .await
        .expect("list")
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(kids, vec!["rs-2".to_owned()]);
}

async fn an_unused_alg_retires_its_active_key_and_drops_its_next(store: Arc<dyn Store>) {
    for (kid, alg, state) in [
        ("ed-1", SigningAlg::EdDsa, KeyState::Active),
        ("ed-2", SigningAlg::EdDsa, KeyState::Next),
        ("rs-1", SigningAlg::Rs256, KeyState::Active),
        ("rs-2", SigningAlg::Rs256, KeyState::Next),
    ] {
        store
            .insert_signing_key(&key(kid, alg, state, 1_000))
            .await
            .expect("insert");
    }
    assert_eq!(
        store
            .retire_signing_alg(SigningAlg::EdDsa, 5_000)
            .await
            .expect("retire"),
        2
    );
    let keys = store.list_signing_keys().await.expect("list");
    let state = |kid: &str| keys.iter().find(|k| k.kid == kid).map(|k| (k.state, k.retire_until));
    assert_eq!(state("ed-1"), Some((KeyState::Retired, Some(5_000))), "still published");
    assert_eq!(state("ed-2"), None, "a next key never signed: deleted");
    assert_eq!(state("rs-1"), Some((KeyState::Active, None)), "other algs untouched");
    assert_eq!(state("rs-2"), Some((KeyState::Next, None)));
    // Nothing left to retire; the retired key goes with the others after its time.
    assert_eq!(
        store
            .retire_signing_alg(SigningAlg::EdDsa, 6_000)
            .await
            .expect("retire"),
        0
    );
    assert_eq!(store.delete_retired_signing_keys(5_000).await.expect("delete"), 1);
    // In use again: a new active key may be made.
    store
        .insert_signing_key(&key("ed-3", SigningAlg::EdDsa, KeyState::Active, 6_000))
        .await
        .expect("a new active key");
}
