#![no_main]
//! JWT/JWS parsing and verification: `access_token::validate` (through the key manager's
//! `verify_jwt`) and josekit's compact parsing with a fixed key. Nothing panics; only a token
//! our key signed verifies, a changed signature never does, and an access token that passes
//! has an unexpired, already valid lifetime and our issuer.
//!
//! Input: a first byte choosing what the rest is:
//! 0: a token for `access_token::validate`;
//! 1: a JSON object of claims, signed with the key manager's RS256 key, then validated (and
//!    validated again with its signature changed);
//! 2: a token for josekit's `decode_with_verifier` with a fixed ES256 public key (its private
//!    key was thrown away once the seed tokens were signed).

use std::sync::{Arc, OnceLock};

use josekit::jwk::Jwk;
use josekit::jws::ES256;
use josekit::jwt;
use keyhaven::config::Settings;
use keyhaven::crypto::keys::{KeyManager, SigningAlg};
use keyhaven::domain::{Clock, UnixTime};
use keyhaven::events::EventLog;
use keyhaven::metrics::Metrics;
use keyhaven::protocol::access_token_cache::AccessTokenCache;
use keyhaven::protocol::revocation::RevocationCache;
use keyhaven::protocol::{access_token, Context};
use keyhaven::storage::Store;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const NOW: UnixTime = 1_800_000_000;
const FIXED_ES256_KEY: &str = r#"{"kty":"EC","crv":"P-256","x":"PbAN2h3mWa891304CTf9Y2aWRX9uLw8ZPe7vvKtKkc8","y":"0l66JGTWf51m1IkGZQD7MLMg-bZZIK_GdSiKfChc5wI","alg":"ES256","kid":"fuzz-es256"}"#;

struct FixedClock;
impl Clock for FixedClock {
    fn now(&self) -> UnixTime {
        NOW
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
    settings: Settings,
    store: Arc<dyn Store>,
    keys: Arc<KeyManager>,
    revocations: RevocationCache,
    access_tokens: AccessTokenCache,
    events: EventLog,
    metrics: Metrics,
}

impl Fixture {
    fn context(&self) -> Context<'_> {
        Context {
            store: &*self.store,
            keys: &self.keys,
            settings: &self.settings,
            revocations: &self.revocations,
            access_tokens: &self.access_tokens,
            events: &self.events,
            metrics: &self.metrics,
            now: NOW,
        }
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let database = format!("sqlite://{}/fuzz.db", dir.path().display());
        let settings = Settings::from_pairs([
            ("database_url", database),
            ("kek", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned()),
        ])
        .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (store, keys, events) = runtime.block_on(async {
            let store = keyhaven::service::open_store(&settings).await.unwrap();
            let (keys, _) = keyhaven::service::open_keys(&settings, store.clone(), Arc::new(FixedClock))
                .await
                .unwrap();
            let events = EventLog::start(store.clone(), Arc::new(FixedClock));
            (store, keys, events)
        });
        Fixture {
            _dir: dir,
            _runtime: runtime,
            settings,
            store,
            keys,
            revocations: RevocationCache::default(),
            access_tokens: AccessTokenCache::default(),
            events,
            metrics: Metrics::new(),
        }
    })
}

fn fixed_verifier() -> &'static josekit::jws::alg::ecdsa::EcdsaJwsVerifier {
    static VERIFIER: OnceLock<josekit::jws::alg::ecdsa::EcdsaJwsVerifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        ES256
            .verifier_from_jwk(&Jwk::from_bytes(FIXED_ES256_KEY).unwrap())
            .unwrap()
    })
}

fn check_accepted(claims: &access_token::AccessClaims) {
    assert!(
        claims.exp > NOW && claims.nbf <= NOW,
        "an expired or not yet valid token passed"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let f = fixture();
    let ctx = f.context();
    match which % 3 {
        0 => {
            let Ok(token) = std::str::from_utf8(rest) else { return };
            if let Ok(claims) = access_token::validate(&ctx, token) {
                check_accepted(&claims);
            }
        }
        1 => {
            let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(rest) else {
                return;
            };
            let Ok(token) = f.keys.sign_jwt(SigningAlg::Rs256, access_token::TYP, claims.clone()) else {
                return;
            };
            match access_token::validate(&ctx, &token) {
                Ok(accepted) => {
                    check_accepted(&accepted);
                    assert_eq!(
                        claims.get("iss").and_then(Value::as_str),
                        Some(f.settings.issuer.as_str())
                    );
                    assert_eq!(claims.get("sub").and_then(Value::as_str), Some(accepted.sub.as_str()));
                    assert_eq!(claims.get("jti").and_then(Value::as_str), Some(accepted.jti.as_str()));
                }
                Err(_) => {
                    let text = |name: &str| claims.get(name).and_then(Value::as_str);
                    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
                    let valid = text("iss") == Some(f.settings.issuer.as_str())
                        && number("exp").is_some_and(|exp| exp > NOW)
                        && number("nbf").is_some_and(|nbf| nbf <= NOW)
                        && number("iat").is_some()
                        && matches!(claims.get("aud"), Some(Value::String(_) | Value::Array(_)))
                        && ["sub", "client_id", "jti"].iter().all(|name| text(name).is_some());
                    assert!(!valid, "a token with every required claim was refused");
                }
            }
            // Any change to the signature, and it no longer verifies.
            let (signed, signature) = token.rsplit_once('.').unwrap();
            let first = signature.as_bytes()[0];
            let changed = format!("{signed}.{}{}", if first == b'A' { 'B' } else { 'A' }, &signature[1..]);
            assert!(f.keys.verify_jwt(&changed).is_err(), "a changed signature verified");
        }
        _ => {
            let Ok(token) = std::str::from_utf8(rest) else { return };
            if let Ok((_, header)) = jwt::decode_with_verifier(token, fixed_verifier()) {
                assert_eq!(header.algorithm(), Some("ES256"));
            }
        }
    }
});
