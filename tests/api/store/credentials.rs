//! Credentials: reset links, the second factor (TOTP steps, recovery codes), the sign-in
//! throttle.

use std::sync::Arc;

use keyhaven::domain::user::lockout;
use keyhaven::storage::Store;

use super::{alice, user};

contract!(
    a_reset_link_works_once_before_it_expires_and_a_newer_one_voids_it,
    a_reset_link_has_one_winner,
    totp_enrolment_enables_and_disables_with_recovery_codes,
    a_totp_step_is_accepted_once_and_only_forward,
    a_recovery_code_works_once_for_its_person,
    the_login_throttle_locks_backs_off_and_forgets_only_failures,
    concurrent_failures_are_all_counted,
    a_client_assertion_is_spent_once_until_it_expires,
    a_client_assertion_has_one_winner,
);

async fn a_reset_link_works_once_before_it_expires_and_a_newer_one_voids_it(store: Arc<dyn Store>) {
    alice(&store).await;
    store.replace_reset_token("u1", "r1", 100, 200).await.expect("replace");
    assert_eq!(
        store.find_reset_token("r1", 199).await.expect("find").as_deref(),
        Some("u1")
    );
    assert_eq!(
        store.find_reset_token("r1", 200).await.expect("find"),
        None,
        "expired at expires_at"
    );
    assert_eq!(store.find_reset_token("nope", 150).await.expect("find"), None);
    // A newer link voids the older one.
    store.replace_reset_token("u1", "r2", 110, 200).await.expect("replace");
    assert_eq!(store.find_reset_token("r1", 150).await.expect("find"), None);
    assert_eq!(store.consume_reset_token("r1", 150).await.expect("consume"), None);
    // Spent once, before it expires; finding it afterwards fails too.
    assert_eq!(
        store.consume_reset_token("r2", 200).await.expect("consume"),
        None,
        "expired"
    );
    assert_eq!(
        store.consume_reset_token("r2", 199).await.expect("consume").as_deref(),
        Some("u1")
    );
    assert_eq!(
        store.consume_reset_token("r2", 199).await.expect("consume"),
        None,
        "once"
    );
    assert_eq!(store.find_reset_token("r2", 150).await.expect("find"), None);
    assert_eq!(store.consume_reset_token("nope", 150).await.expect("consume"), None);
    // Another person's link is untouched by this person's newer one.
    store
        .insert_user(&user("u2", "bob", "bob@example.com"))
        .await
        .expect("insert");
    store.replace_reset_token("u2", "b1", 100, 300).await.expect("replace");
    store.replace_reset_token("u1", "r3", 120, 300).await.expect("replace");
    assert_eq!(
        store.find_reset_token("b1", 150).await.expect("find").as_deref(),
        Some("u2")
    );
}

async fn a_reset_link_has_one_winner(store: Arc<dyn Store>) {
    alice(&store).await;
    store.replace_reset_token("u1", "r1", 100, 200).await.expect("replace");
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.consume_reset_token("r1", 150).await.expect("consume") })
        })
        .collect();
    let mut wins = 0;
    for attempt in attempts {
        wins += usize::from(attempt.await.expect("task").is_some());
    }
    assert_eq!(wins, 1);
}

async fn totp_enrolment_enables_and_disables_with_recovery_codes(store: Arc<dyn Store>) {
    alice(&store).await;
    let totp = |store: Arc<dyn Store>| async move {
        let u = store.find_user_by_id("u1").await.expect("find").expect("u1");
        (u.totp_secret, u.totp_pending)
    };
    store.set_totp_pending("u1", Some("sealed-1")).await.expect("pending");
    assert_eq!(totp(store.clone()).await, (None, Some("sealed-1".to_owned())));
    store.set_totp_pending("u1", None).await.expect("pending");
    assert_eq!(totp(store.clone()).await, (None, None));
    store.set_totp_pending("u1", Some("sealed-2")).await.expect("pending");

    let codes = vec!["rc-1".to_owned(), "rc-2".to_owned()];
    store.enable_totp("u1", "sealed-2", &codes).await.expect("enable");
    assert_eq!(
        totp(store.clone()).await,
        (Some("sealed-2".to_owned()), None),
        "the pending secret is cleared"
    );
    assert!(store.use_recovery_code("u1", "rc-1", 10).await.expect("use"));
    assert!(store.accept_totp_step("u1", 100).await.expect("step"));

    // Enabling again replaces the codes and forgets the last step.
    store
        .enable_totp("u1", "sealed-3", &["rc-3".to_owned()])
        .await
        .expect("enable");
    assert_eq!(totp(store.clone()).await.0.as_deref(), Some("sealed-3"));
    assert!(
        !store.use_recovery_code("u1", "rc-2", 11).await.expect("use"),
        "old codes are gone"
    );
    assert!(
        store.accept_totp_step("u1", 100).await.expect("step"),
        "a new secret starts afresh"
    );

    store.set_totp_pending("u1", Some("sealed-4")).await.expect("pending");
    store.disable_totp("u1").await.expect("disable");
    assert_eq!(
        totp(store.clone()).await,
        (None, None),
        "secret and pending both cleared"
    );
    assert!(
        !store.use_recovery_code("u1", "rc-3", 12).await.expect("use"),
        "codes deleted"
    );
    store.enable_totp("u1", "sealed-5", &[]).await.expect("enable");
    assert!(
        store.accept_totp_step("u1", 100).await.expect("step"),
        "disabling forgot the last step"
    );
}

async fn a_totp_step_is_accepted_once_and_only_forward(store: Arc<dyn Store>) {
    alice(&store).await;
    store
        .insert_user(&user("u2", "bob", "bob@example.com"))
        .await
        .expect("insert");
    assert!(store.accept_totp_step("u1", 10).await.expect("step"));
    assert!(
        !store.accept_totp_step("u1", 10).await.expect("step"),
        "the same step twice"
    );
    assert!(!store.accept_totp_step("u1", 9).await.expect("step"), "an earlier step");
    assert!(store.accept_totp_step("u2", 10).await.expect("step"), "per person");
    assert!(store.accept_totp_step("u1", 11).await.expect("step"));
    assert!(!store.accept_totp_step("nobody", 12).await.expect("step"));
    // Concurrent uses of one code: exactly one is accepted.
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.accept_totp_step("u1", 20).await.expect("step") })
        })
        .collect();
    let mut wins = 0;
    for attempt in attempts {
        wins += usize::from(attempt.await.expect("task"));
    }
    assert_eq!(wins, 1);
}

async fn a_recovery_code_works_once_for_its_person(store: Arc<dyn Store>) {
    alice(&store).await;
    store
        .insert_user(&user("u2", "bob", "bob@example.com"))
        .await
        .expect("insert");
    store
        .replace_recovery_codes("u1", &["a".to_owned(), "b".to_owned()])
        .await
        .expect("replace");
    store
        .replace_recovery_codes("u2", &["c".to_owned()])
        .await
        .expect("replace");
    assert!(
        !store.use_recovery_code("u1", "c", 10).await.expect("use"),
        "another person's code"
    );
    assert!(
        !store.use_recovery_code("u1", "z", 10).await.expect("use"),
        "an unknown code"
    );
    assert!(store.use_recovery_code("u1", "a", 10).await.expect("use"));
    assert!(!store.use_recovery_code("u1", "a", 11).await.expect("use"), "once");
    // Concurrent uses: exactly one wins.
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.use_recovery_code("u1", "b", 12).await.expect("use") })
        })
        .collect();
    let mut wins = 0;
    for attempt in attempts {
        wins += usize::from(attempt.await.expect("task"));
    }
    assert_eq!(wins, 1);
    // New codes replace the old, spent or not, and start unspent.
    store
        .replace_recovery_codes("u1", &["a".to_owned(), "d".to_owned()])
        .await
        .expect("replace");
    assert!(store.use_recovery_code("u1", "a", 13).await.expect("use"));
    assert!(!store.use_recovery_code("u1", "b", 13).await.expect("use"));
    assert!(
        store.use_recovery_code("u2", "c", 13).await.expect("use"),
        "the other person keeps theirs"
    );
}

/// Records failures of `key` at `at`, one a second; returns the lock the last one started.
pub async fn fail(store: &Arc<dyn Store>, key: &str, at: i64, times: i64) -> Option<i64> {
    let mut locked = None;
    for i in 0..times {
        locked = store.record_login_failure(key, at + i).await.expect("record failure");
    }
    locked
}

async fn the_login_throttle_locks_backs_off_and_forgets_only_failures(store: Arc<dyn Store>) {
    let t = 1_000_000;
    // Four failures do not lock; the fifth does, for the first back-off.
    assert_eq!(fail(&store, "k", t, lockout::MAX_FAILURES - 1).await, None);
    assert_eq!(store.login_locked_until("k", t + 10).await.unwrap(), None);
    let first = store.record_login_failure("k", t + 10).await.unwrap();
    assert_eq!(first, Some(t + 10 + lockout::BASE));
    assert_eq!(store.login_locked_until("k", t + 11).await.unwrap(), first);
    assert_eq!(
        store.login_locked_until("other", t + 11).await.unwrap(),
        None,
        "per key"
    );

    // Forgetting failures (a whole sign-in) leaves a lock in place...
    store.forget_login_failures("k").await.unwrap();
    assert_eq!(store.login_locked_until("k", t + 11).await.unwrap(), first);
    let t = first.unwrap();
    assert_eq!(store.login_locked_until("k", t).await.unwrap(), None, "the lock ends");
    // ...and forgets the failures counted so far, but not the back-off.
    assert_eq!(fail(&store, "k", t, 3).await, None);
    store.forget_login_failures("k").await.unwrap();
    assert_eq!(fail(&store, "k", t + 10, lockout::MAX_FAILURES - 1).await, None);
    let second = store.record_login_failure("k", t + 20).await.unwrap();
    assert_eq!(
        second,
        Some(t + 20 + 2 * lockout::BASE),
        "the second lock lasts twice as long"
    );

    // Clearing (a reset, an administrator) unlocks and forgets the back-off.
    store.clear_login_failures("k").await.unwrap();
    assert_eq!(store.login_locked_until("k", t + 21).await.unwrap(), None);
    assert_eq!(
        fail(&store, "k", t + 30, lockout::MAX_FAILURES).await,
        Some(t + 30 + lockout::MAX_FAILURES - 1 + lockout::BASE)
    );
    // Forgetting or clearing a key that has no row is fine.
    store.forget_login_failures("none").await.unwrap();
    store.clear_login_failures("none").await.unwrap();
}

async fn concurrent_failures_are_all_counted(store: Arc<dyn Store>) {
    let t = 1_000_000;
    // As many failures at once as lock the account: every one counts, and one of them locks.
    let attempts: Vec<_> = (0..lockout::MAX_FAILURES)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.record_login_failure("k", t).await.expect("record failure") })
        })
        .collect();
    let mut locks = Vec::new();
    for attempt in attempts {
        locks.extend(attempt.await.expect("task"));
    }
    assert_eq!(locks, vec![t + lockout::BASE], "exactly one failure starts the lock");
    assert_eq!(
        store.login_locked_until("k", t).await.expect("locked"),
        Some(t + lockout::BASE)
    );
}

async fn a_client_assertion_is_spent_once_until_it_expires(store: Arc<dyn Store>) {
    use keyhaven::storage::Expired;
    assert!(store.spend_client_assertion("c1", "j1", 200, 100).await.expect("spend"));
    assert!(
        !store.spend_client_assertion("c1", "j1", 200, 150).await.expect("spend"),
        "a jti is used once"
    );
    // Another client's jti of the same value is its own.
    assert!(store.spend_client_assertion("c2", "j1", 200, 150).await.expect("spend"));
    assert!(store.spend_client_assertion("c1", "j2", 300, 150).await.expect("spend"));
    // The housekeeping pass deletes only what has expired.
    assert_eq!(
        store
            .delete_expired(Expired::ClientAssertions, 199, 100)
            .await
            .expect("delete"),
        0
    );
    assert!(!store.spend_client_assertion("c1", "j1", 200, 199).await.expect("spend"));
    assert_eq!(
        store
            .delete_expired(Expired::ClientAssertions, 200, 100)
            .await
            .expect("delete"),
        2,
        "c1/j1 and c2/j1 expired at 200; c1/j2 lives on"
    );
    assert!(!store.spend_client_assertion("c1", "j2", 300, 250).await.expect("spend"));
    // Once its assertion has expired, a row no longer guards anything, deleted or not.
    assert!(store.spend_client_assertion("c1", "j2", 400, 300).await.expect("spend"));
    assert!(!store.spend_client_assertion("c1", "j2", 400, 301).await.expect("spend"));
    assert!(store.spend_client_assertion("c1", "j1", 500, 300).await.expect("spend"));
}

async fn a_client_assertion_has_one_winner(store: Arc<dyn Store>) {
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.spend_client_assertion("c1", "j1", 200, 100).await.expect("spend") })
        })
        .collect();
    let mut wins = 0;
    for attempt in attempts {
        wins += usize::from(attempt.await.expect("task"));
    }
    assert_eq!(wins, 1);
}
