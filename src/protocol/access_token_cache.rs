//! Access tokens already verified, so a resource server that introspects the same token on
//! every request costs one signature check per token, not one per call.
//!
//! Keyed by the token's SHA-256, an entry holds the claims that passed
//! [`access_token::validate`] and the key that signed them, until the token's `exp`; at most
//! [`CAPACITY`] entries, the oldest forgotten first. What can change after the check is checked
//! again on every hit: the time (`exp`, `nbf`) and that the signing key is still published;
//! otherwise the token is verified afresh, with the same answer as without the cache. Only a
//! token that passed is kept. Revocation, audience and the caller's rights stay the caller's,
//! checked on every call as for a token verified just now.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::access_token::{self, AccessClaims};
use super::Context;
use crate::crypto::keys::KeyManager;
use crate::domain::UnixTime;

/// Entries held at most (each a token's claims, a few hundred bytes).
pub const CAPACITY: usize = 100_000;

type TokenHash = [u8; 32];

struct Entry {
    claims: AccessClaims,
    kid: String,
    /// Which insertion made it, so a stale place in `order` does not remove a newer entry.
    seq: u64,
}

#[derive(Default)]
struct Entries {
    by_hash: HashMap<TokenHash, Entry>,
    /// Insertion order, for forgetting the oldest: (hash, seq, exp).
    order: VecDeque<(TokenHash, u64, UnixTime)>,
    next_seq: u64,
}

pub struct AccessTokenCache {
    entries: RwLock<Entries>,
    capacity: usize,
    /// Signature checks made (the tokens not answered from memory).
    verifications: AtomicU64,
}

impl Default for AccessTokenCache {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl AccessTokenCache {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: RwLock::new(Entries::default()),
            capacity: capacity.max(1),
            verifications: AtomicU64::new(0),
        }
    }

    /// [`access_token::validate`], answered from memory when this token passed it before.
    pub fn validate(&self, ctx: &Context<'_>, token: &str) -> Result<AccessClaims, &'static str> {
        let hash: TokenHash = Sha256::digest(token.as_bytes()).into();
        self.lookup_or_verify(
            hash,
            ctx.now,
            |kid| is_published(ctx.keys, kid),
            || {
                let claims = access_token::validate(ctx, token)?;
                Ok((claims, header_kid(token)))
            },
        )
    }

    /// The cached claims under `hash` if they still hold at `now` and their key is
    /// `published`; else `verify`'s answer, kept when it passed (and names its key).
    fn lookup_or_verify(
        &self,
        hash: TokenHash,
        now: UnixTime,
        published: impl Fn(&str) -> bool,
        verify: impl FnOnce() -> Result<(AccessClaims, Option<String>), &'static str>,
    ) -> Result<AccessClaims, &'static str> {
        if let Some(claims) = self.cached(&hash, now, published) {
            return Ok(claims);
        }
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let (claims, kid) = verify()?;
        if let Some(kid) = kid {
            self.insert(hash, claims.clone(), kid, now);
        }
        Ok(claims)
    }

    fn cached(&self, hash: &TokenHash, now: UnixTime, published: impl Fn(&str) -> bool) -> Option<AccessClaims> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let entry = entries.by_hash.get(hash)?;
        let holds = entry.claims.exp > now && entry.claims.nbf <= now && published(&entry.kid);
        holds.then(|| entry.claims.clone())
    }

    fn insert(&self, hash: TokenHash, claims: AccessClaims, kid: String, now: UnixTime) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        // Forget from the oldest: those expired, then as many as needed to make room.
        while let Some(&(old, seq, exp)) = entries.order.front() {
            if exp > now && entries.order.len() < self.capacity {
                break;
            }
            entries.order.pop_front();
            if entries.by_hash.get(&old).is_some_and(|e| e.seq == seq) {
                entries.by_hash.remove(&old);
            }
        }
        let seq = entries.next_seq;
        entries.next_seq += 1;
        entries.order.push_back((hash, seq, claims.exp));
        entries.by_hash.insert(hash, Entry { claims, kid, seq });
    }

    /// How many signature checks went through this cache.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// How many tokens are held.
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|p| p.into_inner()).by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether the key `kid` is still in the published set (the set the signature is checked
/// against).
fn is_published(keys: &KeyManager, kid: &str) -> bool {
    keys.jwks()
        .get("keys")
        .and_then(Value::as_array)
        .is_some_and(|keys| keys.iter().any(|k| k.get("kid").and_then(Value::as_str) == Some(kid)))
}

/// The `kid` of a JWT's header (already verified by the caller: this only reads it).
fn header_kid(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let bytes = URL_SAFE_NO_PAD.decode(header).ok()?;
    let header: Value = serde_json::from_slice(&bytes).ok()?;
    header.get("kid").and_then(Value::as_str).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

    use std::cell::Cell;

    use super::*;
    use crate::domain::ClientId;

    const NOW: UnixTime = 1_000_000;

    fn claims(jti: &str, exp: UnixTime) -> AccessClaims {
        AccessClaims {
            sub: "svc".into(),
            client_id: ClientId::from("svc"),
            scope: "read".into(),
            audience: vec!["https://api.example".into()],
            sid: None,
            family_id: None,
            jti: jti.into(),
            iat: NOW - 10,
            nbf: NOW - 10,
            exp,
            auth_time: None,
        }
    }

    fn hash(n: u8) -> TokenHash {
        [n; 32]
    }

    /// Calls through the cache with a verifier that counts its calls and answers `answer`.
    fn check(
        cache: &AccessTokenCache,
        key: TokenHash,
        now: UnixTime,
        published: bool,
        answer: Result<AccessClaims, &'static str>,
        calls: &Cell<u32>,
    ) -> Result<AccessClaims, &'static str> {
        cache.lookup_or_verify(
            key,
            now,
            |_| published,
            || {
                calls.set(calls.get() + 1);
                answer.map(|c| (c, Some("kid-1".to_owned())))
            },
        )
    }

    #[test]
    fn repeated_introspection_of_one_token_verifies_the_signature_once() {
        let cache = AccessTokenCache::default();
        let calls = Cell::new(0);
        for _ in 0..5 {
            let got = check(&cache, hash(1), NOW, true, Ok(claims("a", NOW + 60)), &calls).unwrap();
            assert_eq!(got.jti, "a");
        }
        assert_eq!(calls.get(), 1);
        assert_eq!(cache.verifications(), 1);
        // Another token is verified on its own.
        check(&cache, hash(2), NOW, true, Ok(claims("b", NOW + 60)), &calls).unwrap();
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn a_token_that_failed_verification_is_not_cached() {
        let cache = AccessTokenCache::default();
        let calls = Cell::new(0);
        for _ in 0..3 {
            assert_eq!(
                check(&cache, hash(1), NOW, true, Err("bad signature or unknown key"), &calls).unwrap_err(),
                "bad signature or unknown key"
            );
        }
        assert_eq!(calls.get(), 3, "every attempt is verified");
        assert!(cache.is_empty());
        // Positive control: the same key passing once is then answered from memory.
        check(&cache, hash(1), NOW, true, Ok(claims("a", NOW + 60)), &calls).unwrap();
        check(&cache, hash(1), NOW, true, Err("unused"), &calls).unwrap();
        assert_eq!(calls.get(), 4);
    }

    #[test]
    fn a_cached_token_is_verified_again_once_expired_or_its_key_unpublished() {
        let cache = AccessTokenCache::default();
        let calls = Cell::new(0);
        check(&cache, hash(1), NOW, true, Ok(claims("a", NOW + 60)), &calls).unwrap();
        // Positive control: a hit within the lifetime, key published.
        check(&cache, hash(1), NOW + 59, true, Err("unused"), &calls).unwrap();
        assert_eq!(calls.get(), 1);
        // At exp the verifier decides again (and says expired).
        assert_eq!(
            check(&cache, hash(1), NOW + 60, true, Err("expired"), &calls).unwrap_err(),
            "expired"
        );
        assert_eq!(calls.get(), 2);
        // The key no longer published: verified again.
        assert_eq!(
            check(&cache, hash(1), NOW, false, Err("bad signature or unknown key"), &calls).unwrap_err(),
            "bad signature or unknown key"
        );
        assert_eq!(calls.get(), 3);
    }

    #[test]
    fn a_token_not_yet_valid_is_not_answered_from_memory() {
        let cache = AccessTokenCache::default();
        let calls = Cell::new(0);
        check(&cache, hash(1), NOW, true, Ok(claims("a", NOW + 60)), &calls).unwrap();
        assert_eq!(
            check(&cache, hash(1), NOW - 11, true, Err("not yet valid"), &calls).unwrap_err(),
            "not yet valid"
        );
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn the_cache_holds_at_most_its_capacity_forgetting_the_oldest() {
        let cache = AccessTokenCache::with_capacity(3);
        let calls = Cell::new(0);
        for n in 0..5u8 {
            check(&cache, hash(n), NOW, true, Ok(claims(&n.to_string(), NOW + 60)), &calls).unwrap();
        }
        assert_eq!(cache.len(), 3);
        // The newest are held, the oldest verified again.
        check(&cache, hash(4), NOW, true, Err("unused"), &calls).unwrap();
        assert_eq!(calls.get(), 5);
        check(&cache, hash(0), NOW, true, Ok(claims("0", NOW + 60)), &calls).unwrap();
        assert_eq!(calls.get(), 6);
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn expired_entries_are_forgotten_first() {
        let cache = AccessTokenCache::with_capacity(10);
        let calls = Cell::new(0);
        for n in 0..4u8 {
            check(&cache, hash(n), NOW, true, Ok(claims(&n.to_string(), NOW + 5)), &calls).unwrap();
        }
        check(&cache, hash(9), NOW + 10, true, Ok(claims("9", NOW + 70)), &calls).unwrap();
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn the_header_kid_is_read() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"k1","typ":"at+jwt"}"#);
        assert_eq!(header_kid(&format!("{header}.e30.sig")).as_deref(), Some("k1"));
        assert_eq!(header_kid("not a jwt"), None);
    }
}
