//! The steps of an authorization: pending requests (bounded per browser), second-factor steps,
//! consents, codes redeemed once.

use std::sync::Arc;

use keyhaven::storage::{CodeRedemption, PendingLogin, Store, StoreError};

use super::{alice, code, pending, user};

contract!(
    pending_authorizations_round_trip_and_expire,
    a_browser_keeps_a_bounded_number_of_pending_requests,
    a_pending_login_keeps_the_name_key_of_its_password_step,
    a_pending_login_is_replaced_counted_and_deleted,
    consent_is_one_row_per_person_and_client,
    consents_are_listed_and_deleted_per_person_and_client,
    a_code_is_redeemed_once_under_concurrency,
);

async fn pending_authorizations_round_trip_and_expire(store: Arc<dyn Store>) {
    let mut pending = pending("p1", "b1", 10, 20);
    store.insert_pending_authorization(&pending, 16).await.expect("insert");
    assert!(matches!(
        store.insert_pending_authorization(&pending, 16).await,
        Err(StoreError::Conflict)
    ));
    assert!(store
        .find_pending_authorization("nope", 15)
        .await
        .expect("find")
        .is_none());
    assert_eq!(
        store.find_pending_authorization("p1", 19).await.expect("find"),
        Some(pending.clone())
    );
    assert!(store
        .find_pending_authorization("p1", 20)
        .await
        .expect("find")
        .is_none());
    pending.browser_hash = "b2".into();
    pending.login_done_at = Some(15);
    pending.consent_done = true;
    store.update_pending_authorization(&pending).await.expect("update");
    assert_eq!(
        store.find_pending_authorization("p1", 16).await.expect("find"),
        Some(pending)
    );
    store.delete_pending_authorization("p1").await.expect("delete");
    store
        .delete_pending_authorization("p1")
        .await
        .expect("deleting twice is fine");
    assert!(store
        .find_pending_authorization("p1", 16)
        .await
        .expect("find")
        .is_none());
}

async fn a_browser_keeps_a_bounded_number_of_pending_requests(store: Arc<dyn Store>) {
    let pending = |id: &str, browser: &str, created_at: i64| pending(id, browser, created_at, 1_000);
    // Another browser's request is never pushed out.
    store
        .insert_pending_authorization(&pending("other", "b2", 1), 3)
        .await
        .expect("insert");
    for (i, id) in ["p1", "p2", "p3"].iter().enumerate() {
        store
            .insert_pending_authorization(&pending(id, "b1", 10 + i as i64), 3)
            .await
            .expect("insert");
    }
    let live = |id: &'static str| {
        let store = store.clone();
        async move { store.find_pending_authorization(id, 100).await.expect("find").is_some() }
    };
    assert!(
        live("p1").await && live("p2").await && live("p3").await,
        "up to the bound all stay"
    );
    // A fourth (even one made in the same second) pushes out the oldest, never itself.
    store
        .insert_pending_authorization(&pending("p4", "b1", 12), 3)
        .await
        .expect("insert");
    assert!(!live("p1").await);
    assert!(live("p2").await && live("p3").await && live("p4").await);
    assert!(live("other").await);
}

async fn a_pending_login_keeps_the_name_key_of_its_password_step(store: Arc<dyn Store>) {
    store
        .insert_user(&user("u1", "alice", "alice@example.com"))
        .await
        .unwrap();
    let pending = PendingLogin {
        browser_hash: "b1".into(),
        user_id: "u1".into(),
        request_id: Some("r1".into()),
        created_at: 100,
        expires_at: 400,
        failures: 0,
        name_key: Some("name:abc".into()),
    };
    store.put_pending_login(&pending).await.unwrap();
    assert_eq!(
        store.find_pending_login("b1", 399).await.unwrap(),
        Some(pending.clone())
    );
    assert_eq!(store.record_otp_failure("b1").await.unwrap(), 1);
    let without = PendingLogin {
        browser_hash: "b2".into(),
        name_key: None,
        ..pending
    };
    store.put_pending_login(&without).await.unwrap();
    assert_eq!(store.find_pending_login("b2", 399).await.unwrap(), Some(without));
    assert_eq!(store.find_pending_login("b1", 400).await.unwrap(), None, "expired");
}

async fn a_pending_login_is_replaced_counted_and_deleted(store: Arc<dyn Store>) {
    alice(&store).await;
    store
        .insert_user(&user("u2", "bob", "bob@example.com"))
        .await
        .expect("insert");
    let first = PendingLogin {
        browser_hash: "b1".into(),
        user_id: "u1".into(),
        request_id: None,
        created_at: 100,
        expires_at: 400,
        failures: 0,
        name_key: None,
    };
    store.put_pending_login(&first).await.expect("put");
    assert_eq!(store.record_otp_failure("b1").await.expect("count"), 1);
    assert_eq!(store.record_otp_failure("b1").await.expect("count"), 2);
    assert_eq!(
        store
            .find_pending_login("b1", 300)
            .await
            .expect("find")
            .map(|p| p.failures),
        Some(2)
    );
    // A new password step of the same browser replaces the old one whole, failures included.
    let second = PendingLogin {
        user_id: "u2".into(),
        request_id: Some("r2".into()),
        created_at: 200,
        expires_at: 500,
        ..first.clone()
    };
    store.put_pending_login(&second).await.expect("put");
    assert_eq!(store.find_pending_login("b1", 450).await.expect("find"), Some(second));
    assert_eq!(store.record_otp_failure("b1").await.expect("count"), 1);
    // Gone: a failure counts as over every limit.
    store.delete_pending_login("b1").await.expect("delete");
    assert_eq!(store.find_pending_login("b1", 300).await.expect("find"), None);
    assert_eq!(store.record_otp_failure("b1").await.expect("count"), i64::MAX);
    store.delete_pending_login("b1").await.expect("deleting twice is fine");
    assert_eq!(store.record_otp_failure("nope").await.expect("count"), i64::MAX);
}

async fn consent_is_one_row_per_person_and_client(store: Arc<dyn Store>) {
    store
        .insert_user(&user("u1", "alice", "alice@example.com"))
        .await
        .expect("user");
    assert!(store.find_consent("u1", "c1").await.expect("find").is_none());
    store.save_consent("u1", "c1", "openid", 1).await.expect("save");
    store
        .save_consent("u1", "c1", "email openid", 2)
        .await
        .expect("save again");
    assert_eq!(
        store.find_consent("u1", "c1").await.expect("find").as_deref(),
        Some("email openid")
    );
    assert!(store.find_consent("u1", "c2").await.expect("find").is_none());
}

async fn consents_are_listed_and_deleted_per_person_and_client(store: Arc<dyn Store>) {
    alice(&store).await;
    store
        .insert_user(&user("u2", "bob", "bob@example.com"))
        .await
        .expect("insert");
    store.save_consent("u1", "c2", "openid", 20).await.expect("save");
    store.save_consent("u1", "c1", "openid email", 10).await.expect("save");
    store.save_consent("u2", "c1", "openid", 5).await.expect("save");
    assert_eq!(
        store.list_consents("u1").await.expect("list"),
        vec![
            ("c1".to_owned(), "openid email".to_owned(), 10),
            ("c2".to_owned(), "openid".to_owned(), 20),
        ],
        "oldest first, only the person's"
    );
    // Saving again moves the grant time.
    store.save_consent("u1", "c1", "openid", 30).await.expect("save");
    let clients: Vec<String> = store
        .list_consents("u1")
        .await
        .expect("list")
        .into_iter()
        .map(|(client, _, _)| client)
        .collect();
    assert_eq!(clients, ["c2", "c1"]);

    store.delete_consent("u1", "c1").await.expect("delete");
    store.delete_consent("u1", "c1").await.expect("deleting twice is fine");
    assert!(store.find_consent("u1", "c1").await.expect("find").is_none());
    assert_eq!(
        store.find_consent("u1", "c2").await.expect("find").as_deref(),
        Some("openid")
    );
    assert_eq!(
        store.find_consent("u2", "c1").await.expect("find").as_deref(),
        Some("openid"),
        "another person's stays"
    );
    assert!(store.list_consents("nobody").await.expect("list").is_empty());
}

async fn a_code_is_redeemed_once_under_concurrency(store: Arc<dyn Store>) {
    store.insert_authorization_code(&code("k1")).await.expect("insert");
    assert!(matches!(
        store.insert_authorization_code(&code("k1")).await,
        Err(StoreError::Conflict)
    ));
    let attempts: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .redeem_authorization_code("k1", &format!("fam-{i}"), 20, 1_000)
                    .await
                    .expect("redeem")
            })
        })
        .collect();
    let mut redeemed = Vec::new();
    let mut replays = Vec::new();
    for attempt in attempts {
        match attempt.await.expect("task") {
            CodeRedemption::Redeemed(c) => redeemed.push(c),
            CodeRedemption::Replayed { family_id } => replays.push(family_id),
            CodeRedemption::NotFound => panic!("the code exists"),
        }
    }
    assert_eq!(redeemed.len(), 1, "exactly one redemption wins");
    assert_eq!(*redeemed[0], code("k1"));
    assert_eq!(replays.len(), 7);
    let winner = replays[0].clone().expect("replays name the first redemption's family");
    assert!(replays.iter().all(|f| f.as_deref() == Some(winner.as_str())));
    let family = store
        .find_family(&winner)
        .await
        .expect("find")
        .expect("family made with the redemption");
    assert_eq!(
        (family.client_id.as_str(), family.user_id.as_str(), family.sid.as_str()),
        ("c1", "u1", "s1")
    );
    assert_eq!(
        (family.created_at, family.expires_at, family.revoked_at),
        (20, 1_000, None)
    );
    assert_eq!(
        store
            .redeem_authorization_code("nope", "fam-x", 20, 1_000)
            .await
            .expect("redeem"),
        CodeRedemption::NotFound
    );
}
