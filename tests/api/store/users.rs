//! People: unique usernames and emails, look-up by either, search, profile and email updates,
//! email-change links.

use std::collections::BTreeMap;
use std::sync::Arc;

use keyhaven::storage::{Store, StoreError};

use super::{alice, user};

contract!(
    users_are_unique_and_found_by_username_or_email,
    user_password_and_disabled_flag_update,
    search_matches_username_or_email_without_wildcards_and_pages,
    profile_claims_are_replaced_whole,
    a_new_email_is_verified_and_unique,
    an_email_change_link_works_once_before_it_expires,
    an_email_change_link_has_one_winner,
    a_restore_link_puts_the_old_address_back_once_and_voids_pending_links,
);

async fn a_restore_link_puts_the_old_address_back_once_and_voids_pending_links(store: Arc<dyn Store>) {
    alice(&store).await;
    store
        .insert_email_restore("u1", "r1", "alice@example.com", 100, 1_000)
        .await
        .expect("insert restore");
    // A restore link is no change link, and the other way round.
    assert_eq!(store.consume_email_change("r1", 120).await.expect("consume"), None);
    store
        .replace_email_change("u1", "c1", "thief@example.com", 110, 1_000)
        .await
        .expect("replace");
    assert_eq!(store.consume_email_restore("c1", 120).await.expect("consume"), None);
    // A newer change link does not void the restore link.
    store
        .replace_email_change("u1", "c2", "thief2@example.com", 115, 1_000)
        .await
        .expect("replace");
    store
        .replace_reset_token("u1", "reset-1", 115, 1_000)
        .await
        .expect("reset token");
    assert_eq!(store.consume_email_restore("r1", 1_000).await.expect("expired"), None);
    assert_eq!(
        store.consume_email_restore("r1", 120).await.expect("consume"),
        Some(("u1".to_owned(), "alice@example.com".to_owned()))
    );
    assert_eq!(
        store.consume_email_restore("r1", 121).await.expect("again"),
        None,
        "once"
    );
    // The pending change and the reset link went with it.
    assert_eq!(store.consume_email_change("c2", 122).await.expect("consume"), None);
    assert!(store.find_reset_token("reset-1", 122).await.expect("reset").is_none());
}

async fn users_are_unique_and_found_by_username_or_email(store: Arc<dyn Store>) {
    store
        .insert_user(&user("u1", "alice", "alice@example.com"))
        .await
        .expect("insert");
    assert!(matches!(
        store.insert_user(&user("u2", "alice", "other@example.com")).await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store.insert_user(&user("u2", "other", "alice@example.com")).await,
        Err(StoreError::Conflict)
    ));
    for login in ["alice", "ALICE", "alice@example.com", " Alice@Example.com "] {
        let found = store.find_user_by_login(login).await.expect("find").expect(login);
        assert_eq!(found.id, "u1");
        assert_eq!(found.claims["name"], "Alice");
    }
    assert!(store.find_user_by_login("bob").await.expect("find").is_none());
    assert_eq!(
        store.find_user_by_id("u1").await.expect("find").expect("u1").username,
        "alice"
    );
    assert!(store.find_user_by_id("u2").await.expect("find").is_none());
    store
        .insert_user(&user("u0", "aaron", "aaron@example.com"))
        .await
        .expect("insert");
    let names: Vec<String> = store
        .list_users()
        .await
        .expect("list")
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["aaron", "alice"], "by username");
}

async fn user_password_and_disabled_flag_update(store: Arc<dyn Store>) {
    store
        .insert_user(&user("u1", "alice", "alice@example.com"))
        .await
        .expect("insert");
    assert!(store.set_user_password("u1", "$argon2id$new", 50).await.expect("set"));
    assert!(store.set_user_disabled("u1", true, 60).await.expect("set"));
    let u = store.find_user_by_id("u1").await.expect("find").expect("u1");
    assert_eq!(
        (u.password_hash.as_str(), u.disabled, u.updated_at),
        ("$argon2id$new", true, 60)
    );
    assert!(!store.set_user_password("nobody", "x", 1).await.expect("set"));
    assert!(!store.set_user_disabled("nobody", true, 1).await.expect("set"));
}

async fn search_matches_username_or_email_without_wildcards_and_pages(store: Arc<dyn Store>) {
    for (id, name, email) in [
        ("u1", "alice", "alice@example.com"),
        ("u2", "bob", "bob@corp.example"),
        ("u3", "carol", "carol@example.com"),
    ] {
        store.insert_user(&user(id, name, email)).await.expect("insert");
    }
    let names =
        |found: Vec<keyhaven::domain::user::User>| -> Vec<String> { found.into_iter().map(|u| u.username).collect() };
    assert_eq!(
        names(store.search_users(None, 0, 10).await.expect("search")),
        ["alice", "bob", "carol"],
        "all, by username"
    );
    assert_eq!(
        names(store.search_users(Some("CORP"), 0, 10).await.expect("search")),
        ["bob"],
        "email, any case"
    );
    assert_eq!(
        names(store.search_users(Some("aro"), 0, 10).await.expect("search")),
        ["carol"],
        "username"
    );
    assert_eq!(
        names(store.search_users(Some("example.com"), 0, 10).await.expect("search")),
        ["alice", "carol"]
    );
    // `%` and `_` are dropped, not wildcards: "b_b" would match "bob", "a%e" would match "alice".
    assert!(store.search_users(Some("b_b"), 0, 10).await.expect("search").is_empty());
    assert!(store.search_users(Some("a%e"), 0, 10).await.expect("search").is_empty());
    assert!(store
        .search_users(Some("dave"), 0, 10)
        .await
        .expect("search")
        .is_empty());
    // Pages.
    assert_eq!(names(store.search_users(None, 1, 1).await.expect("search")), ["bob"]);
    assert_eq!(names(store.search_users(None, 2, 10).await.expect("search")), ["carol"]);
    assert!(store.search_users(None, 3, 10).await.expect("search").is_empty());
    assert!(store.search_users(None, 0, 0).await.expect("search").is_empty());
}

async fn profile_claims_are_replaced_whole(store: Arc<dyn Store>) {
    alice(&store).await;
    store
        .insert_user(&user("u2", "bob", "bob@example.com"))
        .await
        .expect("insert");
    let claims = BTreeMap::from([
        ("given_name".to_owned(), "Alice".to_owned()),
        ("locale".to_owned(), "fr-FR".to_owned()),
    ]);
    store.update_user_claims("u1", &claims, 70).await.expect("update");
    let u1 = store.find_user_by_id("u1").await.expect("find").expect("u1");
    assert_eq!(u1.claims, claims, "the old `name` is gone");
    assert_eq!(u1.updated_at, 70);
    let u2 = store.find_user_by_id("u2").await.expect("find").expect("u2");
    assert_eq!(u2.claims["name"], "Alice", "only that person");
    // An unknown person: nothing to update, no error.
    store.update_user_claims("nobody", &claims, 70).await.expect("update");
}

async fn a_new_email_is_verified_and_unique(store: Arc<dyn Store>) {
    alice(&store).await;
    store
        .insert_user(&user("u2", "bob", "bob@example.com"))
        .await
        .expect("insert");
    store
        .set_user_email("u1", "alice@new.example", 80)
        .await
        .expect("set email");
    let u1 = store.find_user_by_id("u1").await.expect("find").expect("u1");
    assert_eq!(
        (u1.email.as_str(), u1.email_verified, u1.updated_at),
        ("alice@new.example", true, 80)
    );
    assert_eq!(
        store
            .find_user_by_login("alice@new.example")
            .await
            .expect("find")
            .map(|u| u.id),
        Some("u1".into())
    );
    assert!(store
        .find_user_by_login("alice@example.com")
        .await
        .expect("find")
        .is_none());
    assert!(matches!(
        store.set_user_email("u1", "bob@example.com", 81).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store.find_user_by_id("u1").await.expect("find").expect("u1").email,
        "alice@new.example",
        "a conflict changes nothing"
    );
}

async fn an_email_change_link_works_once_before_it_expires(store: Arc<dyn Store>) {
    alice(&store).await;
    store
        .replace_email_change("u1", "t1", "first@example.com", 100, 200)
        .await
        .expect("replace");
    // A newer link voids the older one.
    store
        .replace_email_change("u1", "t2", "second@example.com", 110, 200)
        .await
        .expect("replace");
    assert_eq!(store.consume_email_change("t1", 120).await.expect("consume"), None);
    assert_eq!(store.consume_email_change("nope", 120).await.expect("consume"), None);
    assert_eq!(
        store.find_pending_email_change("u1", 120).await.expect("pending"),
        Some("second@example.com".to_owned()),
        "the newest change is the pending one"
    );
    assert_eq!(
        store.find_pending_email_change("u1", 200).await.expect("pending"),
        None,
        "expired"
    );
    // At its expiry it no longer works; just before, it does, once.
    assert_eq!(store.consume_email_change("t2", 200).await.expect("consume"), None);
    assert_eq!(
        store.consume_email_change("t2", 199).await.expect("consume"),
        Some(("u1".to_owned(), "second@example.com".to_owned()))
    );
    assert_eq!(
        store.consume_email_change("t2", 199).await.expect("consume"),
        None,
        "once"
    );
    assert_eq!(
        store.find_pending_email_change("u1", 199).await.expect("pending"),
        None,
        "used"
    );
    // Another person's link is theirs alone.
    store
        .insert_user(&user("u2", "bob", "bob@example.com"))
        .await
        .expect("insert");
    store
        .replace_email_change("u2", "t3", "bob@new.example", 120, 300)
        .await
        .expect("replace");
    store
        .replace_email_change("u1", "t4", "third@example.com", 130, 300)
        .await
        .expect("replace");
    assert_eq!(
        store.consume_email_change("t3", 140).await.expect("consume"),
        Some(("u2".to_owned(), "bob@new.example".to_owned()))
    );
}

async fn an_email_change_link_has_one_winner(store: Arc<dyn Store>) {
    alice(&store).await;
    store
        .replace_email_change("u1", "t1", "new@example.com", 100, 200)
        .await
        .expect("replace");
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.consume_email_change("t1", 150).await.expect("consume") })
        })
        .collect();
    let mut wins = 0;
    for attempt in attempts {
        wins += usize::from(attempt.await.expect("task").is_some());
    }
    assert_eq!(wins, 1);
}
