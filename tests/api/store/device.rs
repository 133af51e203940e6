//! The device authorization grant: requests found by either code hash while pending, decided
//! once, polled with the interval growing on polls too soon, redeemed once into a grant
//! family; wrong user codes counted per key; all deleted after expiry.

use std::sync::Arc;

use keyhaven::storage::{DeviceApproval, DeviceAuthorization, DeviceStatus, Expired, Store, StoreError};

contract!(
    device_authorizations_are_found_by_user_code_while_pending,
    a_device_poll_sooner_than_the_interval_grows_it,
    an_approved_device_authorization_is_redeemed_once_under_concurrency,
    wrong_device_codes_are_counted_per_key_and_deleted_after_the_window,
);

fn device(code: &str, user_code: &str, created_at: i64, expires_at: i64) -> DeviceAuthorization {
    DeviceAuthorization {
        device_code_hash: format!("dev-{code}"),
        user_code_hash: format!("user-{user_code}"),
        client_id: "tv".into(),
        scope: "openid offline_access".into(),
        audience: "[\"https://api.example\"]".into(),
        created_at,
        expires_at,
        interval: 5,
        last_polled_at: None,
        status: DeviceStatus::Pending,
        approval: None,
    }
}

fn approval() -> DeviceApproval {
    DeviceApproval {
        user_id: "alice".into(),
        sid: "sid-1".into(),
        auth_time: 90,
        amr: vec!["pwd".into()],
    }
}

async fn device_authorizations_are_found_by_user_code_while_pending(store: Arc<dyn Store>) {
    let d = device("a", "A", 100, 700);
    store.insert_device_authorization(&d).await.expect("insert");
    let same_user_code = DeviceAuthorization {
        device_code_hash: "dev-other".into(),
        ..d.clone()
    };
    assert!(matches!(
        store.insert_device_authorization(&same_user_code).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store
            .find_device_authorization_by_user_code("user-A", 699)
            .await
            .expect("find"),
        Some(d.clone())
    );
    assert_eq!(
        store
            .find_device_authorization_by_user_code("user-A", 700)
            .await
            .expect("find"),
        None,
        "expired"
    );
    assert_eq!(
        store
            .find_device_authorization_by_user_code("user-B", 200)
            .await
            .expect("find"),
        None
    );

    // Decided once: the second answer finds it no longer pending, nor does an expired one change.
    assert!(!store
        .decide_device_authorization("user-A", None, 700)
        .await
        .expect("decide"));
    assert!(store
        .decide_device_authorization("user-A", Some(&approval()), 200)
        .await
        .expect("decide"));
    assert!(!store
        .decide_device_authorization("user-A", None, 201)
        .await
        .expect("decide"));
    assert_eq!(
        store
            .find_device_authorization_by_user_code("user-A", 202)
            .await
            .expect("find"),
        None
    );
    let polled = store
        .poll_device_authorization("dev-a", 203)
        .await
        .expect("poll")
        .expect("found");
    assert_eq!(polled.authorization.status, DeviceStatus::Approved);
    assert_eq!(polled.authorization.approval, Some(approval()));

    let denied = device("b", "B", 100, 700);
    store.insert_device_authorization(&denied).await.expect("insert");
    assert!(store
        .decide_device_authorization("user-B", None, 200)
        .await
        .expect("deny"));
    let polled = store
        .poll_device_authorization("dev-b", 203)
        .await
        .expect("poll")
        .expect("found");
    assert_eq!(polled.authorization.status, DeviceStatus::Denied);
    assert_eq!(polled.authorization.approval, None);
    assert_eq!(
        store.poll_device_authorization("dev-none", 203).await.expect("poll"),
        None
    );

    // Kept an hour past expiry, then deleted.
    assert_eq!(
        store
            .delete_expired(Expired::DeviceAuthorizations, 700 + 3_599, 100)
            .await
            .expect("delete"),
        0
    );
    assert_eq!(
        store
            .delete_expired(Expired::DeviceAuthorizations, 700 + 3_600, 100)
            .await
            .expect("delete"),
        2
    );
}

async fn a_device_poll_sooner_than_the_interval_grows_it(store: Arc<dyn Store>) {
    store
        .insert_device_authorization(&device("a", "A", 100, 700))
        .await
        .expect("insert");
    let first = store
        .poll_device_authorization("dev-a", 110)
        .await
        .expect("poll")
        .expect("found");
    assert!(!first.too_fast, "the first poll");
    assert_eq!(
        (first.authorization.interval, first.authorization.last_polled_at),
        (5, Some(110))
    );
    let second = store
        .poll_device_authorization("dev-a", 114)
        .await
        .expect("poll")
        .expect("found");
    assert!(second.too_fast);
    assert_eq!(
        (second.authorization.interval, second.authorization.last_polled_at),
        (10, Some(114))
    );
    let third = store
        .poll_device_authorization("dev-a", 124)
        .await
        .expect("poll")
        .expect("found");
    assert!(!third.too_fast, "10 s later is fine");
    assert_eq!(third.authorization.interval, 10);
    // Once approved, a quick poll is not slowed down: the tokens are ready.
    assert!(store
        .decide_device_authorization("user-A", Some(&approval()), 125)
        .await
        .expect("approve"));
    let ready = store
        .poll_device_authorization("dev-a", 126)
        .await
        .expect("poll")
        .expect("found");
    assert!(!ready.too_fast);
    assert_eq!(ready.authorization.interval, 10);
}

async fn an_approved_device_authorization_is_redeemed_once_under_concurrency(store: Arc<dyn Store>) {
    store
        .insert_device_authorization(&device("a", "A", 100, 700))
        .await
        .expect("insert");
    assert_eq!(
        store
            .redeem_device_authorization("dev-a", "fam-0", 150, 10_000)
            .await
            .expect("redeem"),
        None,
        "pending: nothing to redeem"
    );
    assert!(store
        .decide_device_authorization("user-A", Some(&approval()), 200)
        .await
        .expect("approve"));
    let attempts = (0..6).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .redeem_device_authorization("dev-a", &format!("fam-{}", i + 1), 300, 10_000)
                .await
                .expect("redeem")
        })
    });
    let mut winners = Vec::new();
    for attempt in attempts {
        if let Some(redeemed) = attempt.await.expect("task") {
            winners.push(redeemed);
        }
    }
    assert_eq!(winners.len(), 1, "one redemption wins");
    assert_eq!(winners[0].status, DeviceStatus::Redeemed);
    assert_eq!(winners[0].approval, Some(approval()));
    let polled = store
        .poll_device_authorization("dev-a", 301)
        .await
        .expect("poll")
        .expect("found");
    assert_eq!(polled.authorization.status, DeviceStatus::Redeemed);
    // The winner's family exists, with the approval's person and session.
    let mut families = 0;
    for i in 1..=6 {
        if let Some(family) = store.find_family(&format!("fam-{i}")).await.expect("family") {
            families += 1;
            assert_eq!(family.user_id.as_str(), "alice");
            assert_eq!(family.sid.as_str(), "sid-1");
            assert_eq!(family.scope, "openid offline_access");
            assert_eq!(family.expires_at, 10_000);
        }
    }
    assert_eq!(families, 1);

    // An approved one past its expiry is not redeemed.
    store
        .insert_device_authorization(&device("b", "B", 100, 700))
        .await
        .expect("insert");
    assert!(store
        .decide_device_authorization("user-B", Some(&approval()), 200)
        .await
        .expect("approve"));
    assert_eq!(
        store
            .redeem_device_authorization("dev-b", "fam-b", 700, 10_000)
            .await
            .expect("redeem"),
        None
    );
}

async fn wrong_device_codes_are_counted_per_key_and_deleted_after_the_window(store: Arc<dyn Store>) {
    assert_eq!(store.device_code_failures("sid:1", 0).await.expect("count"), (0, None));
    for at in [100, 200, 300] {
        store.record_device_code_failure("sid:1", at).await.expect("record");
    }
    store.record_device_code_failure("ip:1", 250).await.expect("record");
    assert_eq!(
        store.device_code_failures("sid:1", 0).await.expect("count"),
        (3, Some(100))
    );
    assert_eq!(
        store.device_code_failures("sid:1", 200).await.expect("count"),
        (2, Some(200))
    );
    assert_eq!(
        store.device_code_failures("ip:1", 0).await.expect("count"),
        (1, Some(250))
    );
    assert_eq!(
        store
            .delete_expired(Expired::DeviceAuthorizations, 100 + 899, 100)
            .await
            .expect("delete"),
        0
    );
    assert_eq!(
        store
            .delete_expired(Expired::DeviceAuthorizations, 200 + 900, 100)
            .await
            .expect("delete"),
        2
    );
    assert_eq!(
        store.device_code_failures("sid:1", 0).await.expect("count"),
        (1, Some(300))
    );
}
