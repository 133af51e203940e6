//! The store contract: the same tests on SQLite and on PostgreSQL, each on a fresh database.
//! One file per aggregate, as in `src/storage/`; [`COVERAGE`] lists every store method with the
//! contract tests that call it, and `every_store_method_has_a_contract_test` keeps that list
//! whole.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use keyhaven::domain::client::{Client, ClientType, GrantType, Permission, RedirectUri};
use keyhaven::domain::scope::ScopeSet;
use keyhaven::domain::user::User;
use keyhaven::domain::SigningAlg;
use keyhaven::storage::{self, CodeRecord, PendingAuthorization, RefreshTokenRecord, SessionRecord, Store};

use crate::helpers::PgTestDb;

/// A store on a fresh database; the guard keeps the database alive.
pub struct Fresh {
    pub store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<PgTestDb>,
}

/// The app tests' generous waits: the concurrency cases start several statements at once, and on
/// a busy two-core machine the 3 s defaults can run out before a connection frees up.
fn test_timeouts() -> storage::Timeouts {
    storage::Timeouts {
        acquire: std::time::Duration::from_secs(10),
        statement: std::time::Duration::from_secs(10),
    }
}

pub async fn fresh_sqlite() -> Fresh {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = storage::connect_with(
        &format!("sqlite://{}/nested/store.db", dir.path().display()),
        test_timeouts(),
    )
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
    let store = storage::connect_with(&pg.url, test_timeouts())
        .await
        .expect("postgres store");
    Fresh {
        store,
        _dir: None,
        _pg: Some(pg),
    }
}

/// Generates `sqlite` and `postgres` tests for each contract function of the module.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(crate::store::fresh_sqlite().await.store).await;
            }

            #[tokio::test]
            #[ignore = "needs PostgreSQL: set KEYHAVEN_TEST_POSTGRES_URL"]
            async fn postgres() {
                super::$name(crate::store::fresh_postgres().await.store).await;
            }
        }
    )*};
}

mod authorization;
mod clients;
mod credentials;
mod device;
mod events;
mod grants;
mod housekeeping;
mod issuance;
mod keys;
mod passkeys;
mod registration;
mod resources;
mod sessions;
mod users;

/// Every method of the store traits, and the contract tests (in `tests/api/store/`) that call
/// it with its rules.
const COVERAGE: &[(&str, &[&str])] = &[
    // keys.rs
    ("insert_signing_key", &["signing_keys_one_active_and_one_next_per_alg"]),
    ("list_signing_keys", &["signing_keys_one_active_and_one_next_per_alg"]),
    (
        "promote_signing_key",
        &["promotion_retires_the_active_key_and_has_one_winner"],
    ),
    (
        "delete_retired_signing_keys",
        &[
            "retired_keys_are_deleted_after_their_time",
            "an_unused_alg_retires_its_active_key_and_drops_its_next",
        ],
    ),
    (
        "retire_signing_alg",
        &["an_unused_alg_retires_its_active_key_and_drops_its_next"],
    ),
    // clients.rs
    ("insert_client", &["clients_round_trip_and_delete"]),
    ("find_client", &["clients_round_trip_and_delete"]),
    ("list_clients", &["clients_round_trip_and_delete"]),
    ("delete_client", &["clients_round_trip_and_delete"]),
    (
        "update_client",
        &["an_update_rewrites_the_registration_but_not_id_secret_or_creation"],
    ),
    ("set_client_secret", &["only_a_confidential_client_gets_a_new_secret"]),
    // resources.rs
    ("insert_resource", &["resource_servers_round_trip_by_uri_and_delete"]),
    ("find_resource", &["resource_servers_round_trip_by_uri_and_delete"]),
    ("list_resources", &["resource_servers_round_trip_by_uri_and_delete"]),
    ("delete_resource", &["resource_servers_round_trip_by_uri_and_delete"]),
    (
        "update_resource",
        &["a_resource_update_rewrites_name_and_alg_but_not_uri_or_creation"],
    ),
    // registration.rs
    (
        "insert_registration_token",
        &["an_initial_access_token_has_its_uses_until_it_expires"],
    ),
    (
        "use_registration_token",
        &[
            "an_initial_access_token_has_its_uses_until_it_expires",
            "the_last_use_of_a_token_has_one_winner",
        ],
    ),
    (
        "insert_client_registration",
        &["a_registration_access_token_goes_with_its_client"],
    ),
    (
        "find_client_registration",
        &["a_registration_access_token_goes_with_its_client"],
    ),
    // users.rs
    ("insert_user", &["users_are_unique_and_found_by_username_or_email"]),
    ("find_user_by_id", &["users_are_unique_and_found_by_username_or_email"]),
    (
        "find_user_by_login",
        &["users_are_unique_and_found_by_username_or_email"],
    ),
    ("list_users", &["users_are_unique_and_found_by_username_or_email"]),
    (
        "search_users",
        &["search_matches_username_or_email_without_wildcards_and_pages"],
    ),
    ("set_user_password", &["user_password_and_disabled_flag_update"]),
    ("set_user_disabled", &["user_password_and_disabled_flag_update"]),
    ("update_user_claims", &["profile_claims_are_replaced_whole"]),
    ("set_user_email", &["a_new_email_is_verified_and_unique"]),
    (
        "replace_email_change",
        &["an_email_change_link_works_once_before_it_expires"],
    ),
    (
        "consume_email_change",
        &[
            "an_email_change_link_works_once_before_it_expires",
            "an_email_change_link_has_one_winner",
            "a_restore_link_puts_the_old_address_back_once_and_voids_pending_links",
        ],
    ),
    (
        "find_pending_email_change",
        &["an_email_change_link_works_once_before_it_expires"],
    ),
    (
        "insert_email_restore",
        &["a_restore_link_puts_the_old_address_back_once_and_voids_pending_links"],
    ),
    (
        "consume_email_restore",
        &["a_restore_link_puts_the_old_address_back_once_and_voids_pending_links"],
    ),
    // credentials.rs
    (
        "replace_reset_token",
        &["a_reset_link_works_once_before_it_expires_and_a_newer_one_voids_it"],
    ),
    (
        "find_reset_token",
        &["a_reset_link_works_once_before_it_expires_and_a_newer_one_voids_it"],
    ),
    (
        "consume_reset_token",
        &[
            "a_reset_link_works_once_before_it_expires_and_a_newer_one_voids_it",
            "a_reset_link_has_one_winner",
        ],
    ),
    (
        "set_totp_pending",
        &["totp_enrolment_enables_and_disables_with_recovery_codes"],
    ),
    (
        "enable_totp",
        &["totp_enrolment_enables_and_disables_with_recovery_codes"],
    ),
    (
        "disable_totp",
        &["totp_enrolment_enables_and_disables_with_recovery_codes"],
    ),
    (
        "accept_totp_step",
        &[
            "a_totp_step_is_accepted_once_and_only_forward",
            "totp_enrolment_enables_and_disables_with_recovery_codes",
        ],
    ),
    (
        "use_recovery_code",
        &[
            "a_recovery_code_works_once_for_its_person",
            "totp_enrolment_enables_and_disables_with_recovery_codes",
        ],
    ),
    ("replace_recovery_codes", &["a_recovery_code_works_once_for_its_person"]),
    (
        "login_locked_until",
        &["the_login_throttle_locks_backs_off_and_forgets_only_failures"],
    ),
    (
        "record_login_failure",
        &[
            "the_login_throttle_locks_backs_off_and_forgets_only_failures",
            "concurrent_failures_are_all_counted",
        ],
    ),
    (
        "forget_login_failures",
        &["the_login_throttle_locks_backs_off_and_forgets_only_failures"],
    ),
    (
        "clear_login_failures",
        &["the_login_throttle_locks_backs_off_and_forgets_only_failures"],
    ),
    // sessions.rs
    ("insert_session", &["sessions_are_live_until_ended_or_expired"]),
    ("find_live_session", &["sessions_are_live_until_ended_or_expired"]),
    ("end_session", &["sessions_are_live_until_ended_or_expired"]),
    (
        "find_session_by_sid",
        &["a_session_ends_once_by_sid_and_stays_findable"],
    ),
    ("end_session_by_sid", &["a_session_ends_once_by_sid_and_stays_findable"]),
    ("list_live_sessions", &["a_person_lists_only_their_live_sessions"]),
    ("has_live_session_from", &["a_person_lists_only_their_live_sessions"]),
    ("touch_session", &["a_person_lists_only_their_live_sessions"]),
    (
        "lapsed_sessions",
        &["lapsed_sessions_are_expired_or_idle_and_not_ended"],
    ),
    // authorization.rs
    (
        "insert_pending_authorization",
        &[
            "pending_authorizations_round_trip_and_expire",
            "a_browser_keeps_a_bounded_number_of_pending_requests",
        ],
    ),
    (
        "find_pending_authorization",
        &["pending_authorizations_round_trip_and_expire"],
    ),
    (
        "update_pending_authorization",
        &["pending_authorizations_round_trip_and_expire"],
    ),
    (
        "delete_pending_authorization",
        &["pending_authorizations_round_trip_and_expire"],
    ),
    (
        "put_pending_login",
        &[
            "a_pending_login_keeps_the_name_key_of_its_password_step",
            "a_pending_login_is_replaced_counted_and_deleted",
        ],
    ),
    (
        "find_pending_login",
        &["a_pending_login_keeps_the_name_key_of_its_password_step"],
    ),
    (
        "record_otp_failure",
        &["a_pending_login_is_replaced_counted_and_deleted"],
    ),
    (
        "delete_pending_login",
        &["a_pending_login_is_replaced_counted_and_deleted"],
    ),
    ("find_consent", &["consent_is_one_row_per_person_and_client"]),
    ("save_consent", &["consent_is_one_row_per_person_and_client"]),
    (
        "list_consents",
        &["consents_are_listed_and_deleted_per_person_and_client"],
    ),
    (
        "delete_consent",
        &["consents_are_listed_and_deleted_per_person_and_client"],
    ),
    (
        "insert_authorization_code",
        &["a_code_is_redeemed_once_under_concurrency"],
    ),
    (
        "redeem_authorization_code",
        &["a_code_is_redeemed_once_under_concurrency"],
    ),
    // grants.rs
    ("find_family", &["families_revoke_once_and_refresh_tokens_round_trip"]),
    ("list_live_families", &["a_person_lists_only_their_live_families"]),
    ("revoke_family", &["families_revoke_once_and_refresh_tokens_round_trip"]),
    (
        "revoke_session_families",
        &["families_are_revoked_by_session_person_and_client"],
    ),
    (
        "revoke_user_families",
        &["families_are_revoked_by_session_person_and_client"],
    ),
    (
        "revoke_client_families",
        &["families_are_revoked_by_session_person_and_client"],
    ),
    (
        "revoke_all_client_families",
        &["families_are_revoked_for_every_person_of_a_client"],
    ),
    (
        "insert_refresh_token",
        &["families_revoke_once_and_refresh_tokens_round_trip"],
    ),
    (
        "find_refresh_token",
        &[
            "families_revoke_once_and_refresh_tokens_round_trip",
            "a_refresh_token_rotates_once_under_concurrency",
        ],
    ),
    (
        "find_refresh_grant",
        &["families_revoke_once_and_refresh_tokens_round_trip"],
    ),
    (
        "rotate_refresh_token",
        &["a_refresh_token_rotates_once_under_concurrency"],
    ),
    (
        "append_revocation",
        &[
            "the_revocation_log_answers_what_still_matters_in_order",
            "the_revocation_log_takes_client_changes",
        ],
    ),
    (
        "revocations_since",
        &[
            "the_revocation_log_answers_what_still_matters_in_order",
            "the_revocation_log_takes_client_changes",
        ],
    ),
    // device.rs
    (
        "insert_device_authorization",
        &["device_authorizations_are_found_by_user_code_while_pending"],
    ),
    (
        "find_device_authorization_by_user_code",
        &["device_authorizations_are_found_by_user_code_while_pending"],
    ),
    (
        "decide_device_authorization",
        &["device_authorizations_are_found_by_user_code_while_pending"],
    ),
    (
        "poll_device_authorization",
        &["a_device_poll_sooner_than_the_interval_grows_it"],
    ),
    (
        "redeem_device_authorization",
        &["an_approved_device_authorization_is_redeemed_once_under_concurrency"],
    ),
    (
        "record_device_code_failure",
        &["wrong_device_codes_are_counted_per_key_and_deleted_after_the_window"],
    ),
    (
        "device_code_failures",
        &["wrong_device_codes_are_counted_per_key_and_deleted_after_the_window"],
    ),
    // events.rs
    ("insert_events", &["events_are_listed_newest_first_by_filter"]),
    ("list_events", &["events_are_listed_newest_first_by_filter"]),
    // issuance.rs
    (
        "add_issuance_counts",
        &[
            "issuance_counts_add_up_per_client_and_minute",
            "concurrent_issuance_counts_all_add_up",
        ],
    ),
    (
        "list_issuance_counts",
        &[
            "issuance_counts_add_up_per_client_and_minute",
            "concurrent_issuance_counts_all_add_up",
            "issuance_counts_go_with_the_events_after_the_retention",
        ],
    ),
    // housekeeping.rs
    ("ping", &["ping_answers_until_closed"]),
    ("close", &["ping_answers_until_closed"]),
    ("take_lease", &["a_lease_has_one_holder_at_a_time"]),
    (
        "delete_expired",
        &[
            "the_housekeeping_pass_keeps_a_lock_history_for_a_day",
            "every_expired_kind_deletes_only_what_nobody_needs",
            "the_housekeeping_pass_deletes_at_most_its_limit",
            "issuance_counts_go_with_the_events_after_the_retention",
            "a_client_assertion_is_spent_once_until_it_expires",
            "a_webauthn_challenge_is_taken_once_by_its_browser_before_it_expires",
        ],
    ),
    // passkeys.rs
    (
        "insert_passkey",
        &[
            "a_passkey_belongs_to_one_person",
            "a_passkey_is_used_renamed_and_removed_only_by_its_person",
        ],
    ),
    ("find_passkey", &["a_passkey_belongs_to_one_person"]),
    ("list_passkeys", &["a_passkey_belongs_to_one_person"]),
    (
        "record_passkey_use",
        &["a_passkey_is_used_renamed_and_removed_only_by_its_person"],
    ),
    (
        "rename_passkey",
        &["a_passkey_is_used_renamed_and_removed_only_by_its_person"],
    ),
    (
        "delete_passkey",
        &["a_passkey_is_used_renamed_and_removed_only_by_its_person"],
    ),
    (
        "insert_webauthn_challenge",
        &[
            "a_webauthn_challenge_is_taken_once_by_its_browser_before_it_expires",
            "a_webauthn_challenge_has_one_winner",
            "a_browser_keeps_its_newest_webauthn_challenges_only",
        ],
    ),
    (
        "take_webauthn_challenge",
        &[
            "a_webauthn_challenge_is_taken_once_by_its_browser_before_it_expires",
            "a_webauthn_challenge_has_one_winner",
        ],
    ),
    // credentials.rs (private_key_jwt)
    (
        "spend_client_assertion",
        &[
            "a_client_assertion_is_spent_once_until_it_expires",
            "a_client_assertion_has_one_winner",
        ],
    ),
];

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn rust_files(dir: &str) -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .map(|path| (path.display().to_string(), read(&path)))
        .collect();
    files.sort();
    files
}

/// `async fn` names declared inside `pub trait ...Store` blocks of `src/storage/*.rs` (the
/// store traits; `sql::Backend` is the layer beneath them).
fn store_trait_methods() -> BTreeSet<String> {
    let mut methods = BTreeSet::new();
    for (_, text) in rust_files("src/storage") {
        let mut in_trait = false;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("pub trait ") {
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric()).collect();
                in_trait = name.ends_with("Store");
            } else if in_trait && line == "}" {
                in_trait = false;
            } else if in_trait {
                if let Some(rest) = line.trim_start().strip_prefix("async fn ") {
                    let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    methods.insert(name);
                }
            }
        }
    }
    methods
}

/// Contract functions of `tests/api/store/*.rs`: name -> (body, registered with `contract!`).
fn contract_functions() -> BTreeMap<String, (String, bool)> {
    let mut functions = BTreeMap::new();
    for (path, text) in rust_files("tests/api/store") {
        let registered: BTreeSet<String> = text
            .split("contract!(")
            .skip(1)
            .flat_map(|rest| {
                rest.split(");")
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(|n| n.trim().to_owned())
            })
            .filter(|n| !n.is_empty())
            .collect();
        let mut starts: Vec<(usize, String)> = text
            .match_indices("\nasync fn ")
            .map(|(at, m)| {
                let name: String = text[at + m.len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                (at, name)
            })
            .collect();
        starts.push((text.len(), String::new()));
        for pair in starts.windows(2) {
            let ((from, name), (to, _)) = (&pair[0], &pair[1]);
            let body = text[*from..*to].to_owned();
            let is_registered = registered.contains(name);
            assert!(
                functions.insert(name.clone(), (body, is_registered)).is_none(),
                "{name} is defined twice ({path})"
            );
        }
    }
    functions
}

#[test]
fn every_store_method_has_a_contract_test() {
    let methods = store_trait_methods();
    assert!(
        methods.len() >= 70,
        "found only {} store methods: is the parser broken?",
        methods.len()
    );
    let listed: BTreeSet<String> = COVERAGE.iter().map(|(m, _)| (*m).to_owned()).collect();
    assert_eq!(listed.len(), COVERAGE.len(), "a method is listed twice in COVERAGE");
    let unlisted: Vec<_> = methods.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "store methods without a contract test in COVERAGE: {unlisted:?}"
    );
    let stale: Vec<_> = listed.difference(&methods).collect();
    assert!(stale.is_empty(), "COVERAGE lists methods no store trait has: {stale:?}");

    let functions = contract_functions();
    for (method, tests) in COVERAGE {
        assert!(!tests.is_empty(), "{method} has no contract test");
        for test in *tests {
            let (body, registered) = functions
                .get(*test)
                .unwrap_or_else(|| panic!("{method}: no contract function {test} in tests/api/store/"));
            assert!(
                registered,
                "{test} is not in a contract!(...) list, so it runs on no backend"
            );
            assert!(body.contains(&format!(".{method}(")), "{test} does not call {method}");
        }
    }
}

// Records the contract tests share.

pub fn key(
    kid: &str,
    alg: SigningAlg,
    state: keyhaven::domain::KeyState,
    activates_at: i64,
) -> storage::SigningKeyRecord {
    storage::SigningKeyRecord {
        kid: kid.into(),
        alg,
        state,
        public_jwk: format!("{{\"kid\":\"{kid}\"}}"),
        private_sealed: "kek1.sealed".into(),
        created_at: 1_000,
        activates_at,
        activated_at: (state == keyhaven::domain::KeyState::Active).then_some(1_000),
        retire_until: None,
    }
}

pub fn client(id: &str) -> Client {
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
        id_token_alg: SigningAlg::Es256,
        post_logout_redirect_uris: vec![RedirectUri::parse("https://app.example/bye").expect("uri")],
        permissions: vec![Permission::Introspect],
        introspect_any_audience: true,
        // Every column written and read back: the store does not judge a registration.
        auth_method: keyhaven::domain::client::AuthMethod::PrivateKeyJwt,
        origin: keyhaven::domain::client::ClientOrigin::Registered,
        jwks: Some(serde_json::json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "abc"}]})),
        jwks_uri: Some(url::Url::parse("https://app.example/jwks.json").expect("url")),
        logo_uri: Some(url::Url::parse("https://app.example/logo.png").expect("url")),
        client_uri: Some(url::Url::parse("https://app.example/").expect("url")),
        created_at: 10,
        updated_at: 11,
    }
}

pub fn user(id: &str, username: &str, email: &str) -> User {
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

/// Inserts person `u1` (alice), whom most rows point at.
pub async fn alice(store: &Arc<dyn Store>) {
    store
        .insert_user(&user("u1", "alice", "alice@example.com"))
        .await
        .expect("insert alice");
}

pub fn session(id_hash: &str, user_id: &str) -> SessionRecord {
    SessionRecord {
        id_hash: id_hash.into(),
        sid: format!("sid-{id_hash}").into(),
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

pub fn pending(id_hash: &str, browser_hash: &str, created_at: i64, expires_at: i64) -> PendingAuthorization {
    PendingAuthorization {
        id_hash: id_hash.into(),
        browser_hash: browser_hash.into(),
        request: "{}".into(),
        created_at,
        expires_at,
        login_done_at: None,
        consent_done: false,
    }
}

pub fn code(hash: &str) -> CodeRecord {
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

/// A code for `user_id`/`client_id`/`sid`, redeemed into family `family_id` (created at 20,
/// ending at `expires_at`).
pub async fn family(
    store: &Arc<dyn Store>,
    family_id: &str,
    user_id: &str,
    client_id: &str,
    sid: &str,
    expires_at: i64,
) {
    let code = CodeRecord {
        user_id: user_id.into(),
        client_id: client_id.into(),
        sid: sid.into(),
        ..code(&format!("code-{family_id}"))
    };
    store.insert_authorization_code(&code).await.expect("insert code");
    let redeemed = store
        .redeem_authorization_code(&code.code_hash, family_id, 20, expires_at)
        .await
        .expect("redeem");
    assert!(matches!(redeemed, storage::CodeRedemption::Redeemed(_)));
}

pub fn refresh(hash: &str, family_id: &str, expires_at: i64) -> RefreshTokenRecord {
    RefreshTokenRecord {
        token_hash: hash.into(),
        family_id: family_id.into(),
        created_at: 20,
        expires_at,
        rotated_at: None,
        successor_hash: None,
    }
}
