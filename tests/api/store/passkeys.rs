//! Passkeys: one credential id belongs to one person; listing, renaming, recording a use and
//! removing act only on that person's passkeys. WebAuthn challenges: taken once, only by the
//! browser that made them, for their purpose, before they expire; the housekeeping pass deletes
//! the expired ones.

use std::sync::Arc;

use keyhaven::domain::UserId;
use keyhaven::storage::{ChallengePurpose, ChallengeRecord, Expired, PasskeyRecord, Store, StoreError};

use super::{alice, user};

contract!(
    a_passkey_belongs_to_one_person,
    a_passkey_is_used_renamed_and_removed_only_by_its_person,
    a_webauthn_challenge_is_taken_once_by_its_browser_before_it_expires,
    a_webauthn_challenge_has_one_winner,
    a_browser_keeps_its_newest_webauthn_challenges_only,
);

fn passkey(credential_id: &str, user_id: &str, created_at: i64) -> PasskeyRecord {
    PasskeyRecord {
        credential_id: credential_id.into(),
        user_id: user_id.to_owned().into(),
        credential: format!("{{\"cred\":\"{credential_id}\",\"counter\":0}}"),
        name: format!("key {credential_id}"),
        aaguid: Some("00000000-0000-0000-0000-000000000000".into()),
        backup_eligible: true,
        backed_up: false,
        created_at,
        last_used_at: None,
    }
}

/// Room enough for every challenge a test makes.
const KEEP: i64 = 100;

fn challenge(id_hash: &str, purpose: ChallengePurpose, user_id: Option<&str>) -> ChallengeRecord {
    ChallengeRecord {
        id_hash: id_hash.into(),
        browser_hash: "browser-a".into(),
        purpose,
        user_id: user_id.map(|u| UserId::from(u.to_owned())),
        state: format!("{{\"challenge\":\"{id_hash}\"}}"),
        created_at: 1_000,
        expires_at: 1_300,
    }
}

async fn two_people(store: &Arc<dyn Store>) -> (UserId, UserId) {
    alice(store).await;
    store
        .insert_user(&user("u2", "bob", "bob@example.com"))
        .await
        .expect("insert bob");
    ("u1".to_owned().into(), "u2".to_owned().into())
}

async fn a_passkey_belongs_to_one_person(store: Arc<dyn Store>) {
    let (alice, bob) = two_people(&store).await;
    store
        .insert_passkey(&passkey("cred-2", "u1", 20))
        .await
        .expect("insert");
    store
        .insert_passkey(&passkey("cred-1", "u1", 10))
        .await
        .expect("insert");
    store.insert_passkey(&passkey("cred-b", "u2", 5)).await.expect("insert");
    // The same credential id cannot be registered again, to anyone.
    assert!(matches!(
        store.insert_passkey(&passkey("cred-1", "u2", 30)).await,
        Err(StoreError::Conflict)
    ));
    let found = store.find_passkey("cred-1").await.expect("find").expect("there");
    assert_eq!(found, passkey("cred-1", "u1", 10));
    assert_eq!(store.find_passkey("unknown").await.expect("find"), None);
    let listed: Vec<_> = store
        .list_passkeys(&alice)
        .await
        .expect("list")
        .into_iter()
        .map(|p| p.credential_id)
        .collect();
    assert_eq!(listed, ["cred-1", "cred-2"], "oldest first, only hers");
    assert_eq!(store.list_passkeys(&bob).await.expect("list").len(), 1);
    let nobody: UserId = "u9".to_owned().into();
    assert!(store.list_passkeys(&nobody).await.expect("list").is_empty());
}

async fn a_passkey_is_used_renamed_and_removed_only_by_its_person(store: Arc<dyn Store>) {
    let (alice, bob) = two_people(&store).await;
    store
        .insert_passkey(&passkey("cred-1", "u1", 10))
        .await
        .expect("insert");

    // Another person's id changes nothing.
    assert!(!store
        .record_passkey_use(&bob, "cred-1", "{\"counter\":9}", true, 50)
        .await
        .expect("use"));
    assert!(!store.rename_passkey(&bob, "cred-1", "mine now").await.expect("rename"));
    assert!(!store.delete_passkey(&bob, "cred-1").await.expect("delete"));
    assert_eq!(
        store.find_passkey("cred-1").await.expect("find"),
        Some(passkey("cred-1", "u1", 10))
    );

    // Its person's: the library's updated credential, the backup state and the time.
    assert!(store
        .record_passkey_use(&alice, "cred-1", "{\"counter\":1}", true, 60)
        .await
        .expect("use"));
    assert!(store.rename_passkey(&alice, "cred-1", "Laptop").await.expect("rename"));
    let used = store.find_passkey("cred-1").await.expect("find").expect("there");
    assert_eq!(used.credential, "{\"counter\":1}");
    assert!(used.backed_up);
    assert!(used.backup_eligible);
    assert_eq!(used.last_used_at, Some(60));
    assert_eq!(used.name, "Laptop");
    assert_eq!(used.created_at, 10);
    assert!(!store.rename_passkey(&alice, "unknown", "x").await.expect("rename"));

    assert!(store.delete_passkey(&alice, "cred-1").await.expect("delete"));
    assert!(!store.delete_passkey(&alice, "cred-1").await.expect("delete"), "once");
    assert_eq!(store.find_passkey("cred-1").await.expect("find"), None);
    assert!(!store
        .record_passkey_use(&alice, "cred-1", "{}", false, 70)
        .await
        .expect("use"));
}

async fn a_webauthn_challenge_is_taken_once_by_its_browser_before_it_expires(store: Arc<dyn Store>) {
    alice(&store).await;
    let registration = challenge("reg", ChallengePurpose::Registration, Some("u1"));
    store
        .insert_webauthn_challenge(&registration, KEEP)
        .await
        .expect("insert");
    store
        .insert_webauthn_challenge(&challenge("sign-in", ChallengePurpose::SignIn, None), KEEP)
        .await
        .expect("insert");
    store
        .insert_webauthn_challenge(&challenge("late", ChallengePurpose::SecondFactor, Some("u1")), KEEP)
        .await
        .expect("insert");
    assert!(matches!(
        store
            .insert_webauthn_challenge(&challenge("reg", ChallengePurpose::SignIn, None), KEEP)
            .await,
        Err(StoreError::Conflict)
    ));

    // Another browser, or another purpose, does not get it, and it stays for its browser.
    assert_eq!(
        store
            .take_webauthn_challenge("reg", "browser-b", ChallengePurpose::Registration, 1_100)
            .await
            .expect("take"),
        None
    );
    assert_eq!(
        store
            .take_webauthn_challenge("reg", "browser-a", ChallengePurpose::SignIn, 1_100)
            .await
            .expect("take"),
        None
    );
    assert_eq!(
        store
            .take_webauthn_challenge("reg", "browser-a", ChallengePurpose::Registration, 1_100)
            .await
            .expect("take"),
        Some(registration)
    );
    // Once.
    assert_eq!(
        store
            .take_webauthn_challenge("reg", "browser-a", ChallengePurpose::Registration, 1_100)
            .await
            .expect("take"),
        None
    );
    let sign_in = store
        .take_webauthn_challenge("sign-in", "browser-a", ChallengePurpose::SignIn, 1_299)
        .await
        .expect("take")
        .expect("before its expiry");
    assert_eq!(sign_in.user_id, None);
    assert_eq!(sign_in.purpose, ChallengePurpose::SignIn);
    // Not at its expiry.
    assert_eq!(
        store
            .take_webauthn_challenge("late", "browser-a", ChallengePurpose::SecondFactor, 1_300)
            .await
            .expect("take"),
        None
    );

    // Housekeeping deletes the expired one, not a live one.
    store
        .insert_webauthn_challenge(
            &ChallengeRecord {
                expires_at: 2_000,
                ..challenge("live", ChallengePurpose::SignIn, None)
            },
            KEEP,
        )
        .await
        .expect("insert");
    assert_eq!(
        store
            .delete_expired(Expired::WebauthnChallenges, 1_299, 100)
            .await
            .expect("delete"),
        0
    );
    assert_eq!(
        store
            .delete_expired(Expired::WebauthnChallenges, 1_300, 100)
            .await
            .expect("delete"),
        1
    );
    assert!(store
        .take_webauthn_challenge("live", "browser-a", ChallengePurpose::SignIn, 1_300)
        .await
        .expect("take")
        .is_some());
}

async fn a_webauthn_challenge_has_one_winner(store: Arc<dyn Store>) {
    store
        .insert_webauthn_challenge(&challenge("once", ChallengePurpose::SignIn, None), KEEP)
        .await
        .expect("insert");
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .take_webauthn_challenge("once", "browser-a", ChallengePurpose::SignIn, 1_100)
                    .await
                    .expect("take")
                    .is_some()
            })
        })
        .collect();
    let mut winners = 0;
    for attempt in attempts {
        winners += usize::from(attempt.await.expect("task"));
    }
    assert_eq!(winners, 1);
}

async fn a_browser_keeps_its_newest_webauthn_challenges_only(store: Arc<dyn Store>) {
    // Three per browser: a fourth (even one made in the same second) pushes out the oldest,
    // never itself, and never another browser's.
    let other = ChallengeRecord {
        browser_hash: "browser-b".into(),
        ..challenge("other", ChallengePurpose::SignIn, None)
    };
    store.insert_webauthn_challenge(&other, 3).await.expect("insert");
    for (n, created_at) in [(1, 1_000), (2, 1_001), (3, 1_002), (4, 1_002)] {
        let record = ChallengeRecord {
            created_at,
            ..challenge(&format!("c{n}"), ChallengePurpose::SignIn, None)
        };
        store.insert_webauthn_challenge(&record, 3).await.expect("insert");
    }
    let mut kept = Vec::new();
    for n in 1..=4 {
        let id = format!("c{n}");
        let taken = store
            .take_webauthn_challenge(&id, "browser-a", ChallengePurpose::SignIn, 1_100)
            .await
            .expect("take");
        if taken.is_some() {
            kept.push(id);
        }
    }
    assert_eq!(kept, ["c2", "c3", "c4"], "the oldest went");
    assert!(store
        .take_webauthn_challenge("other", "browser-b", ChallengePurpose::SignIn, 1_100)
        .await
        .expect("take")
        .is_some());
}
