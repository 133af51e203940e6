//! Dynamic client registration: initial access tokens used up one use at a time (atomically,
//! until none is left or they expire), and the registration access token of a self-registered
//! client, gone with the client.

use std::sync::Arc;

use keyhaven::storage::Expired;
use keyhaven::storage::{Store, StoreError};

use super::client;

contract!(
    an_initial_access_token_has_its_uses_until_it_expires,
    the_last_use_of_a_token_has_one_winner,
    a_registration_access_token_goes_with_its_client,
);

async fn an_initial_access_token_has_its_uses_until_it_expires(store: Arc<dyn Store>) {
    store
        .insert_registration_token("two", 2, 100, 10, Some("partner"))
        .await
        .expect("insert");
    store
        .insert_registration_token("soon", 5, 50, 10, None)
        .await
        .expect("insert");
    assert!(matches!(
        store.insert_registration_token("two", 1, 100, 10, None).await,
        Err(StoreError::Conflict)
    ));
    // Two uses, then none.
    assert!(store.use_registration_token("two", 20).await.expect("use"));
    assert!(store.use_registration_token("two", 20).await.expect("use"));
    assert!(!store.use_registration_token("two", 20).await.expect("use"));
    // Good before its expiry, not at or after it.
    assert!(store.use_registration_token("soon", 49).await.expect("use"));
    assert!(!store.use_registration_token("soon", 50).await.expect("use"));
    assert!(!store.use_registration_token("soon", 51).await.expect("use"));
    assert!(!store.use_registration_token("unknown", 20).await.expect("use"));

    // Housekeeping takes the used-up and the expired ones, not a live one.
    store
        .insert_registration_token("live", 1, 1_000, 10, None)
        .await
        .expect("insert");
    assert_eq!(
        store
            .delete_expired(Expired::RegistrationTokens, 60, 100)
            .await
            .expect("delete"),
        2
    );
    assert!(store.use_registration_token("live", 60).await.expect("use"));
}

async fn the_last_use_of_a_token_has_one_winner(store: Arc<dyn Store>) {
    store
        .insert_registration_token("last", 1, 100, 10, None)
        .await
        .expect("insert");
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.use_registration_token("last", 20).await.expect("use") })
        })
        .collect();
    let mut winners = 0;
    for attempt in attempts {
        if attempt.await.expect("task") {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

async fn a_registration_access_token_goes_with_its_client(store: Arc<dyn Store>) {
    store.insert_client(&client("self-made")).await.expect("client");
    store.insert_client(&client("other")).await.expect("client");
    assert_eq!(store.find_client_registration("self-made").await.expect("find"), None);
    store
        .insert_client_registration("self-made", "hash-1", 10)
        .await
        .expect("insert");
    store
        .insert_client_registration("other", "hash-2", 10)
        .await
        .expect("insert");
    assert!(matches!(
        store.insert_client_registration("self-made", "hash-3", 11).await,
        Err(StoreError::Conflict)
    ));
    // Only for a client that exists.
    assert!(store.insert_client_registration("nobody", "hash-4", 10).await.is_err());
    assert_eq!(
        store
            .find_client_registration("self-made")
            .await
            .expect("find")
            .as_deref(),
        Some("hash-1")
    );
    assert!(store.delete_client("self-made").await.expect("delete"));
    assert_eq!(store.find_client_registration("self-made").await.expect("find"), None);
    assert_eq!(
        store.find_client_registration("other").await.expect("find").as_deref(),
        Some("hash-2")
    );
}
