//! Signing keys: generation (josekit), encryption at rest under the KEK, the JWKS, signing and
//! verifying JWTs, and the key life cycle `next -> active -> retired -> deleted`.
//!
//! Every instance runs [`KeyManager::maintain`] on a timer. The store is the coordinator: a
//! unique index allows one `active` and one `next` key per algorithm, so two instances racing to
//! create or promote a key cannot both win, and all of them publish and sign with the same keys.
//!
//! An algorithm has keys while it is in use: RS256 and ES256 always (ID tokens), and whatever
//! the `access_token_alg` default or a registered resource server names (EdDSA only then). The
//! same pass reads the resource registry, so an instance that knows an audience's algorithm
//! always holds a key of it; an algorithm no longer in use retires its key, which stays
//! published until what it signed has expired.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwk::Ed25519;
use josekit::jwk::Jwk;
use josekit::jws::{EdDSA, JwsHeader, JwsSigner, JwsVerifier, ES256, RS256};
use josekit::jwt::{self, JwtPayload};
use serde::Serialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::kek::{Kek, KekError};
use crate::domain::{Audience, Clock, ResourceServer, UnixTime};
use crate::storage::{SigningKeyRecord, Store, StoreError};

pub use crate::domain::{KeyState, SigningAlg};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing key {kid}: {source}")]
    Kek { kid: String, source: KekError },
    #[error("JOSE error: {0}")]
    Jose(String),
    #[error("no active {0} signing key")]
    NoActiveKey(&'static str),
}

fn jose(e: josekit::JoseError) -> KeyError {
    KeyError::Jose(e.to_string())
}

/// The rules of the key life cycle: its timing, in seconds, and the default algorithm of access
/// tokens (whose keys are always kept).
#[derive(Debug, Clone, Copy)]
pub struct KeyPolicy {
    /// How long a key signs before the next one takes over.
    pub rotation_interval: i64,
    /// How long a next key is published before it signs, so JWKS caches learn it first.
    pub lead: i64,
    /// How long a retired key stays published: the longest lifetime of anything it signed.
    pub retired_for: i64,
    /// The `access_token_alg` setting: audiences not in the registry take it.
    pub default_access_token_alg: SigningAlg,
}

/// A freshly generated key pair: the public JWK (with `kid`, `use`, `alg`) and the private key
/// as PKCS#8 DER, to be sealed under the KEK before it touches the store.
struct GeneratedKey {
    kid: String,
    public_jwk: Jwk,
    private_der: zeroize::Zeroizing<Vec<u8>>,
}

fn generate(alg: SigningAlg) -> Result<GeneratedKey, KeyError> {
    let (mut jwk, der) = match alg {
        SigningAlg::Rs256 => {
            let pair = RS256.generate_key_pair(2048).map_err(jose)?;
            (pair.to_jwk_public_key(), pair.to_der_private_key())
        }
        SigningAlg::Es256 => {
            let pair = ES256.generate_key_pair().map_err(jose)?;
            (pair.to_jwk_public_key(), pair.to_der_private_key())
        }
        // Ed25519 only: the JWK is an OKP key with `crv` Ed25519 (RFC 8037).
        SigningAlg::EdDsa => {
            let pair = EdDSA.generate_key_pair(Ed25519).map_err(jose)?;
            (pair.to_jwk_public_key(), pair.to_der_private_key())
        }
    };
    let kid = jwk_thumbprint(&jwk)?;
    jwk.set_key_id(&kid);
    jwk.set_key_use("sig");
    jwk.set_algorithm(alg.as_str());
    Ok(GeneratedKey {
        kid,
        public_jwk: jwk,
        private_der: zeroize::Zeroizing::new(der),
    })
}

/// RFC 7638 JWK thumbprint (SHA-256, base64url): the JSON of the required members only, in
/// lexicographic order, without white space.
pub fn jwk_thumbprint(jwk: &Jwk) -> Result<String, KeyError> {
    let members: &[&str] = match jwk.key_type() {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        other => return Err(KeyError::Jose(format!("no thumbprint rule for kty {other}"))),
    };
    let mut canonical = Map::new();
    for name in members {
        let value = jwk
            .parameter(name)
            .ok_or_else(|| KeyError::Jose(format!("JWK lacks `{name}`")))?;
        canonical.insert((*name).to_owned(), value.clone());
    }
    // serde_json's Map is a BTreeMap here (no preserve_order feature): keys come out sorted.
    let text = serde_json::to_string(&canonical).map_err(|e| KeyError::Jose(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes())))
}

/// One key as an instance holds it in memory.
struct LoadedKey {
    kid: String,
    alg: SigningAlg,
    state: KeyState,
    public_jwk: Jwk,
    verifier: Box<dyn JwsVerifier>,
    /// Present for the active key only: next and retired keys never sign.
    signer: Option<Box<dyn JwsSigner>>,
}

impl fmt::Debug for LoadedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

fn verifier_for(alg: SigningAlg, jwk: &Jwk) -> Result<Box<dyn JwsVerifier>, KeyError> {
    Ok(match alg {
        SigningAlg::Rs256 => Box::new(RS256.verifier_from_jwk(jwk).map_err(jose)?),
        SigningAlg::Es256 => Box::new(ES256.verifier_from_jwk(jwk).map_err(jose)?),
        SigningAlg::EdDsa => Box::new(EdDSA.verifier_from_jwk(jwk).map_err(jose)?),
    })
}

fn signer_for(alg: SigningAlg, der: &[u8]) -> Result<Box<dyn JwsSigner>, KeyError> {
    Ok(match alg {
        SigningAlg::Rs256 => Box::new(RS256.signer_from_der(der).map_err(jose)?),
        SigningAlg::Es256 => Box::new(ES256.signer_from_der(der).map_err(jose)?),
        SigningAlg::EdDsa => Box::new(EdDSA.signer_from_der(der).map_err(jose)?),
    })
}

impl LoadedKey {
    fn load(record: &SigningKeyRecord, kek: &Kek) -> Result<Self, KeyError> {
        let public_jwk = Jwk::from_bytes(record.public_jwk.as_bytes()).map_err(jose)?;
        let verifier = verifier_for(record.alg, &public_jwk)?;
        let signer = if record.state == KeyState::Active {
            let der = kek
                .open(&record.kid, &record.private_sealed)
                .map_err(|source| KeyError::Kek {
                    kid: record.kid.clone(),
                    source,
                })?;
            Some(signer_for(record.alg, &der)?)
        } else {
            None
        };
        Ok(Self {
            kid: record.kid.clone(),
            alg: record.alg,
            state: record.state,
            public_jwk,
            verifier,
            signer,
        })
    }
}

/// The keys an instance publishes and signs with, and the algorithms of the registered resource
/// servers, rebuilt from the store as a whole: every algorithm it names has an active key here.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<LoadedKey>,
    jwks: Arc<Value>,
    audience_algs: HashMap<Audience, SigningAlg>,
    /// The resource servers open to self-registered clients, by URI.
    open_audiences: Vec<Audience>,
}

impl KeySet {
    fn build(records: &[SigningKeyRecord], resources: &[ResourceServer], kek: &Kek) -> Result<Self, KeyError> {
        let mut keys = records
            .iter()
            .map(|r| LoadedKey::load(r, kek))
            .collect::<Result<Vec<_>, _>>()?;
        // Active keys first, then next, then retired: a reader sees the signing keys first.
        keys.sort_by_key(|k| (k.state != KeyState::Active, k.state != KeyState::Next, k.kid.clone()));
        let published: Vec<Value> = keys
            .iter()
            .map(|k| Value::Object(k.public_jwk.as_ref().clone()))
            .collect();
        Ok(Self {
            keys,
            jwks: Arc::new(json!({ "keys": published })),
            audience_algs: resources.iter().map(|r| (r.uri.clone(), r.access_token_alg)).collect(),
            open_audiences: resources
                .iter()
                .filter(|r| r.open_to_self_registered)
                .map(|r| r.uri.clone())
                .collect(),
        })
    }

    fn active(&self, alg: SigningAlg) -> Option<&LoadedKey> {
        self.keys.iter().find(|k| k.alg == alg && k.state == KeyState::Active)
    }

    /// The algorithm the resource registry names for `audience`'s access tokens, if it is
    /// registered.
    pub fn registered_alg(&self, audience: &str) -> Option<SigningAlg> {
        self.audience_algs.get(audience).copied()
    }

    /// The resource servers open to clients nobody vetted (`open_to_self_registered`), in the
    /// registry's order (by URI).
    pub fn open_audiences(&self) -> &[Audience] {
        &self.open_audiences
    }

    /// Signs `claims` as a JWT with the active key of `alg`; the header carries `kid` and `typ`.
    pub fn sign_jwt(&self, alg: SigningAlg, typ: &str, claims: Map<String, Value>) -> Result<String, KeyError> {
        let key = self.active(alg).ok_or(KeyError::NoActiveKey(alg.as_str()))?;
        let signer = key.signer.as_deref().ok_or(KeyError::NoActiveKey(alg.as_str()))?;
        let mut header = JwsHeader::new();
        header.set_token_type(typ);
        header.set_key_id(&key.kid);
        let payload = JwtPayload::from_map(claims).map_err(jose)?;
        jwt::encode_with_signer(&payload, &header, signer).map_err(jose)
    }
}

/// What a key looks like to an operator (`keys list`).
#[derive(Debug, Clone, Serialize)]
pub struct KeySummary {
    pub kid: String,
    pub alg: SigningAlg,
    pub state: KeyState,
    pub created_at: UnixTime,
    pub activates_at: UnixTime,
    pub activated_at: Option<UnixTime>,
    pub retire_until: Option<UnixTime>,
}

impl From<&SigningKeyRecord> for KeySummary {
    fn from(r: &SigningKeyRecord) -> Self {
        Self {
            kid: r.kid.clone(),
            alg: r.alg,
            state: r.state,
            created_at: r.created_at,
            activates_at: r.activates_at,
            activated_at: r.activated_at,
            retire_until: r.retire_until,
        }
    }
}

pub struct KeyManager {
    store: Arc<dyn Store>,
    kek: Arc<Kek>,
    clock: Arc<dyn Clock>,
    policy: KeyPolicy,
    current: RwLock<Arc<KeySet>>,
    /// One pass at a time on this instance: a pass that read the registry before a change
    /// must not install its key set after the pass that the change ran.
    pass: tokio::sync::Mutex<()>,
}

impl KeyManager {
    pub fn new(store: Arc<dyn Store>, kek: Arc<Kek>, clock: Arc<dyn Clock>, policy: KeyPolicy) -> Self {
        Self {
            store,
            kek,
            clock,
            policy,
            current: RwLock::new(Arc::new(KeySet::default())),
            pass: tokio::sync::Mutex::new(()),
        }
    }

    fn snapshot(&self) -> Arc<KeySet> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Rebuilds the in-memory key set from the store, with the registry `resources` was read
    /// from (before the keys, so that the keys of every algorithm it names were made).
    async fn reload(&self, resources: &[ResourceServer]) -> Result<(), KeyError> {
        let records = self.store.list_signing_keys().await?;
        let mut set = KeySet::build(&records, resources, &self.kek)?;
        // An unchanged published set keeps its `Arc`, so readers of `jwks()` tell a change by it.
        let before = self.snapshot();
        if before.jwks == set.jwks {
            set.jwks = before.jwks.clone();
        }
        let set = Arc::new(set);
        match self.current.write() {
            Ok(mut guard) => *guard = set,
            Err(poisoned) => *poisoned.into_inner() = set,
        }
        Ok(())
    }

    /// The algorithms that need keys: RS256 and ES256 (ID tokens), the access-token default and
    /// every algorithm a registered resource server names.
    fn algs_in_use(&self, resources: &[ResourceServer]) -> Vec<SigningAlg> {
        SigningAlg::ALL
            .into_iter()
            .filter(|alg| {
                alg.signs_id_tokens()
                    || *alg == self.policy.default_access_token_alg
                    || resources.iter().any(|r| r.access_token_alg == *alg)
            })
            .collect()
    }

    /// One pass of the life cycle: make the first keys, promote a due next key, publish the next
    /// key `lead` seconds before the active one's interval ends, retire the keys of an algorithm
    /// no longer in use, delete retired keys whose tokens have all expired; then reload. Safe to
    /// run on every instance at once.
    pub async fn maintain(&self) -> Result<(), KeyError> {
        let _pass = self.pass.lock().await;
        self.maintain_now().await
    }

    async fn maintain_now(&self) -> Result<(), KeyError> {
        let now = self.clock.now();
        let resources = self.store.list_resources().await?;
        let in_use = self.algs_in_use(&resources);
        let records = self.store.list_signing_keys().await?;
        for alg in SigningAlg::ALL {
            let of = |state| records.iter().find(|r| r.alg == alg && r.state == state);
            if !in_use.contains(&alg) {
                if of(KeyState::Active).is_some() || of(KeyState::Next).is_some() {
                    self.store
                        .retire_signing_alg(alg, now + self.policy.retired_for)
                        .await?;
                }
                continue;
            }
            match (of(KeyState::Active), of(KeyState::Next)) {
                (_, Some(next)) if next.activates_at <= now => {
                    self.store
                        .promote_signing_key(&next.kid, now, now + self.policy.retired_for)
                        .await?;
                }
                (None, None) => self.create(alg, KeyState::Active, now).await?,
                (Some(active), None) => {
                    let ends = active.activated_at.unwrap_or(active.created_at) + self.policy.rotation_interval;
                    if ends - self.policy.lead <= now {
                        self.create(alg, KeyState::Next, ends.max(now)).await?;
                    }
                }
                _ => {}
            }
        }
        self.store.delete_retired_signing_keys(now).await?;
        self.reload(&resources).await
    }

    /// Starts a rotation now (`keyhaven keys rotate`): for each algorithm in use, a next key is
    /// published that signs after the lead; with a lead of 0 it signs at once. An already
    /// published next key is kept (and promoted if the lead is 0).
    pub async fn rotate(&self) -> Result<Vec<KeySummary>, KeyError> {
        let _pass = self.pass.lock().await;
        let now = self.clock.now();
        let resources = self.store.list_resources().await?;
        let records = self.store.list_signing_keys().await?;
        for alg in self.algs_in_use(&resources) {
            let has_next = records.iter().any(|r| r.alg == alg && r.state == KeyState::Next);
            if !has_next {
                self.create(alg, KeyState::Next, now + self.policy.lead).await?;
            }
        }
        self.maintain_now().await?;
        self.summaries().await
    }

    pub async fn summaries(&self) -> Result<Vec<KeySummary>, KeyError> {
        let records = self.store.list_signing_keys().await?;
        Ok(records.iter().map(KeySummary::from).collect())
    }

    async fn create(&self, alg: SigningAlg, state: KeyState, activates_at: UnixTime) -> Result<(), KeyError> {
        let now = self.clock.now();
        // RSA generation takes a noticeable moment: keep it off the async workers.
        let key = tokio::task::spawn_blocking(move || generate(alg))
            .await
            .map_err(|e| KeyError::Jose(format!("key generation task failed: {e}")))??;
        let private_sealed = self
            .kek
            .seal(&key.kid, &key.private_der)
            .map_err(|source| KeyError::Kek {
                kid: key.kid.clone(),
                source,
            })?;
        let record = SigningKeyRecord {
            kid: key.kid,
            alg,
            state,
            public_jwk: key.public_jwk.to_string(),
            private_sealed,
            created_at: now,
            activates_at,
            activated_at: (state == KeyState::Active).then_some(now),
            retire_until: None,
        };
        match self.store.insert_signing_key(&record).await {
            // Another instance made this key first; theirs is as good as ours.
            Ok(()) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The published key set: public members only. The same `Arc` until the set changes.
    pub fn jwks(&self) -> Arc<Value> {
        self.snapshot().jwks.clone()
    }

    /// The kid that signs for `alg` right now.
    pub fn active_kid(&self, alg: SigningAlg) -> Option<String> {
        self.snapshot().active(alg).map(|k| k.kid.clone())
    }

    /// The keys and registry as loaded now: choosing an algorithm and signing with it from one
    /// set cannot see an algorithm whose key another pass just retired.
    pub fn current(&self) -> Arc<KeySet> {
        self.snapshot()
    }

    /// Signs `claims` as a JWT with the active key of `alg`; the header carries `kid` and `typ`.
    pub fn sign_jwt(&self, alg: SigningAlg, typ: &str, claims: Map<String, Value>) -> Result<String, KeyError> {
        self.snapshot().sign_jwt(alg, typ, claims)
    }

    /// Checks a JWT's signature against any published key (active, next or retired) of any
    /// algorithm, chosen by its `kid`: the key decides the algorithm, and the header's `alg`
    /// must be that one (so `none`, HS256 keyed with a public key, or an RS256 header on an
    /// EdDSA key never verify). Claims are not checked here.
    pub fn verify_jwt(&self, token: &str) -> Result<VerifiedJwt, KeyError> {
        let set = self.snapshot();
        let by_kid: HashMap<&str, &LoadedKey> = set.keys.iter().map(|k| (k.kid.as_str(), k)).collect();
        let (payload, header) = jwt::decode_with_verifier_selector(token, |header| {
            let key = header.key_id().and_then(|kid| by_kid.get(kid));
            Ok(match key {
                Some(key) if header.algorithm() == Some(key.alg.as_str()) => Some(&*key.verifier),
                _ => None,
            })
        })
        .map_err(jose)?;
        Ok(VerifiedJwt {
            claims: payload.claims_set().clone(),
            kid: header.key_id().unwrap_or_default().to_owned(),
            typ: header.token_type().map(str::to_owned),
        })
    }
}

/// A JWT whose signature checked out.
#[derive(Debug, Clone)]
pub struct VerifiedJwt {
    pub claims: Map<String, Value>,
    pub kid: String,
    pub typ: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unavailable_store_is_found_behind_a_key_error() {
        // `KeyError::Store` is transparent: the marker type is what survives it.
        let unavailable = StoreError::Unavailable(crate::storage::Unavailable(sqlx::Error::PoolTimedOut));
        let keys = KeyError::Store(unavailable);
        assert!(crate::storage::is_unavailable(&anyhow::Error::new(keys)));
    }

    #[test]
    fn generated_keys_carry_their_thumbprint_and_no_private_members() {
        for alg in SigningAlg::ALL {
            let key = generate(alg).unwrap();
            assert_eq!(key.public_jwk.key_id(), Some(key.kid.as_str()));
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(key.public_jwk.parameter(private).is_none());
            }
            assert_eq!(key.kid.len(), 43);
        }
    }

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // RFC 7638 §3.1.
        let jwk = Jwk::from_bytes(br#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#).unwrap();
        assert_eq!(
            jwk_thumbprint(&jwk).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
