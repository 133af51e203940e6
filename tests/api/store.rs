//! The store contract: the same tests on SQLite and on PostgreSQL, each on a fresh database.

use std::collections::BTreeMap;
use std::sync::Arc;

use keyhaven::crypto::keys::{KeyState, SigningAlg};
use keyhaven::domain::client::{Client, ClientType, GrantType, RedirectUri};
use keyhaven::domain::scope::ScopeSet;
use keyhaven::domain::user::lockout;
use keyhaven::domain::user::User;
use keyhaven::storage::{
    self, CodeRecord, CodeRedemption, Expired, PendingAuthorization, PendingLogin, RefreshTokenRecord, SessionRecord,
    SigningKeyRecord, Store, StoreError,
};

use crate::helpers::PgTestDb;

/// A store on a fresh database; the guard keeps the database alive.
pub struct Fresh {
    pub store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<PgTestDb>,
}

pub async fn fresh_sqlite() -> Fresh {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = storage::connect(&format!("sqlite://{}/nested/store.db", dir.path().display()))
        .await
        .expect("sqlite store");
    Fresh {
        store,
        _dir: Some(dir),
        _pg: None,
    }
}

pub async fn fresh_postgres() -> Fresh {
    let pg = PgTestDb::create().await;
    let store = storage::connect(&pg.url).await.expect("postgres store");
    Fresh {
        store,
        _dir: None,
        _pg: Some(pg),
    }
}

/// Generates `sqlite` and `postgres` tests for a contract function.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(super::fresh_sqlite().await.store).await;
            }

            #[tokio::test]
            #[ignore = "needs PostgreSQL: set KEYHAVEN_TEST_POSTGRES_URL"]
            async fn postgres() {
                super::$name(super::fresh_postgres().await.store).await;
            }
        }
    )*};
}

contract!(
    signing_keys_one_active_and_one_next_per_alg,
    promotion_retires_the_active_key_and_has_one_winner,
    retired_keys_are_deleted_after_their_time,
    clients_round_trip_and_delete,
    users_are_unique_and_found_by_username_or_email,
    user_password_and_disabled_flag_update,
    ping_answers_until_closed,
    sessions_are_live_until_ended_or_expired,
    pending_authorizations_round_trip_and_expire,
    a_browser_keeps_a_bounded_number_of_pending_requests,
    consent_is_one_row_per_person_and_client,
    a_code_is_redeemed_once_under_concurrency,
    families_revoke_once_and_refresh_tokens_round_trip,
    a_lease_has_one_holder_at_a_time,
    the_login_throttle_locks_backs_off_and_forgets_only_failures,
    the_housekeeping_pass_keeps_a_lock_history_for_a_day,
    a_pending_login_keeps_the_name_key_of_its_password_step,
);

fn key(kid: &str, alg: SigningAlg, state: KeyState, activates_at: i64) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: kid.into(),
        alg,
        state,
        public_jwk: format!("{{\"kid\":\"{kid}\"}}"),
        private_sealed: "kek1.sealed".into(),
        created_at: 1_000,
        activates_at,
        activated_at: (state == KeyState::Active).then_some(1_000),
        retire_until: None,
    }
}

async fn signing_keys_one_active_and_one_next_per_alg(store: Arc<dyn Store>) {
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
    assert_eq!(keys.len(), 3);
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

fn client(id: &str) -> Client {
    Client {
        id: id.into(),
        name: "App".into(),
        client_type: ClientType::Confidential,
        secret_hash: Some("hash".into()),
        redirect_uris: vec![RedirectUri::parse("https://app.example/cb").expect("uri")],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        scopes: Some(ScopeSet::parse("openid email").expect("scope")),
        audiences: vec!["https://api.example".into()],
        first_party: true,
        id_token_alg: keyhaven::domain::SigningAlg::Es256,
        post_logout_redirect_uris: vec![RedirectUri::parse("https://app.example/bye").expect("uri")],
        permissions: vec![keyhaven::domain::client::Permission::Introspect],
        introspect_any_audience: true,
        created_at: 10,
        updated_at: 11,
    }
}

async fn clients_round_trip_and_delete(store: Arc<dyn Store>) {
    store.insert_client(&client("c1")).await.expect("insert");
    let mut public = client("c2");
    public.client_type = ClientType::Public;
    public.secret_hash = None;
    public.scopes = None;
    public.first_party = false;
    store.insert_client(&public).await.expect("insert");
    assert!(matches!(
        store.insert_client(&client("c1")).await,
        Err(StoreError::Conflict)
    ));

    let c1 = store.find_client("c1").await.expect("find").expect("c1");
    assert_eq!(c1.client_type, ClientType::Confidential);
    assert_eq!(c1.secret_hash.as_deref(), Some("hash"));
    assert_eq!(c1.redirect_uris[0].as_str(), "https://app.example/cb");
    assert_eq!(
        c1.grant_types,
        vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
    );
    assert_eq!(c1.scopes.expect("scopes").to_string(), "email openid");
    assert_eq!(c1.audiences, vec!["https://api.example".to_owned()]);
    assert!(c1.first_party);
    assert_eq!(c1.id_token_alg, keyhaven::domain::SigningAlg::Es256);
    assert_eq!(c1.post_logout_redirect_uris[0].as_str(), "https://app.example/bye");
    assert_eq!(c1.permissions, vec![keyhaven::domain::client::Permission::Introspect]);
    assert!(c1.introspect_any_audience);
    assert_eq!((c1.created_at, c1.updated_at), (10, 11));
    let c2 = store.find_client("c2").await.expect("find").expect("c2");
    assert!(c2.secret_hash.is_none() && c2.scopes.is_none() && !c2.first_party);

    assert_eq!(store.list_clients().await.expect("list").len(), 2);
    assert!(store.delete_client("c1").await.expect("delete"));
    assert!(!store.delete_client("c1").await.expect("delete"));
    assert!(store.find_client("c1").await.expect("find").is_none());
}

fn user(id: &str, username: &str, email: &str) -> User {
    User {
        id: id.into(),
        username: username.into(),
        email: email.into(),
        email_verified: false,
        password_hash: "$argon2id$dummy".into(),
        disabled: false,
        claims: BTreeMap::from([("name".to_owned(), "Alice".to_owned())]),
        totp_secret: None,
        totp_pending: None,
        created_at: 1,
        updated_at: 1,
    }
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
    assert_eq!(store.list_users().await.expect("list").len(), 1);
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

async fn ping_answers_until_closed(store: Arc<dyn Store>) {
    store.ping().await.expect("ping");
    store.close().await;
    assert!(store.ping().await.is_err(), "a closed store does not answer");
}

fn session(id_hash: &str, user_id: &str) -> SessionRecord {
    SessionRecord {
        id_hash: id_hash.into(),
        sid: format!("sid-{id_hash}"),
        user_id: user_id.into(),
        auth_time: 100,
        amr: vec!["pwd".into()],
        created_at: 100,
        last_seen_at: 100,
        expires_at: 1_000,
        ip: Some("127.0.0.1".into()),
        user_agent: Some("test".into()),
    }
}

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
    assert_eq!(
        store.find_live_session("h1", 999).await.expect("find"),
        Some(session("h1", "u1"))
    );
    assert!(
        store.find_live_session("h1", 1_000).await.expect("find").is_none(),
        "expired at expires_at"
    );
    assert!(store.end_session("h1", 500).await.expect("end"));
    assert!(!store.end_session("h1", 501).await.expect("end"), "ends once");
    assert!(store.find_live_session("h1", 600).await.expect("find").is_none());
}

async fn pending_authorizations_round_trip_and_expire(store: Arc<dyn Store>) {
    let mut pending = PendingAuthorization {
        id_hash: "p1".into(),
        browser_hash: "b1".into(),
        request: "{}".into(),
        created_at: 10,
        expires_at: 20,
        login_done_at: None,
        consent_done: false,
    };
    store.insert_pending_authorization(&pending, 16).await.expect("insert");
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
    assert!(store
        .find_pending_authorization("p1", 16)
        .await
        .expect("find")
        .is_none());
}

async fn a_browser_keeps_a_bounded_number_of_pending_requests(store: Arc<dyn Store>) {
    let pending = |id: &str, browser: &str, created_at: i64| PendingAuthorization {
        id_hash: id.into(),
        browser_hash: browser.into(),
        request: "{}".into(),
        created_at,
        expires_at: 1_000,
        login_done_at: None,
        consent_done: false,
    };
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

fn code(hash: &str) -> CodeRecord {
    CodeRecord {
        code_hash: hash.into(),
        client_id: "c1".into(),
        user_id: "u1".into(),
        sid: "s1".into(),
        redirect_uri: None,
        code_challenge: "challenge".into(),
        nonce: Some("n".into()),
        scope: "openid".into(),
        claims: None,
        audience: "[]".into(),
        auth_time: 5,
        amr: vec!["pwd".into()],
        created_at: 10,
        expires_at: 70,
    }
}

async fn a_code_is_redeemed_once_under_concurrency(store: Arc<dyn Store>) {
    store.insert_authorization_code(&code("k1")).await.expect("insert");
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
    assert_eq!(store.find_refresh_token("r1").await.expect("find"), Some(token));
    assert!(store.revoke_family("fam-1", 30, "code_replay").await.expect("revoke"));
    assert!(!store.revoke_family("fam-1", 31, "again").await.expect("revoke"));
    let family = store.find_family("fam-1").await.expect("find").expect("family");
    assert_eq!(
        (family.revoked_at, family.revoked_reason.as_deref()),
        (Some(30), Some("code_replay"))
    );
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
    assert!(!store.take_lease("janitor", "late", 699, 1_300).await.expect("lease"));
    assert!(
        store.take_lease("janitor", "late", 700, 1_300).await.expect("lease"),
        "free once expired"
    );
}

/// Records failures of `key` at `at`, one a second; returns the lock the last one started.
async fn fail(store: &Arc<dyn Store>, key: &str, at: i64, times: i64) -> Option<i64> {
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
