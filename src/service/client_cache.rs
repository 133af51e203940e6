//! Registered clients in memory, so client authentication at `/token`, `/introspect` and
//! `/revoke` reads nothing from the store.
//!
//! Every client is read at start (clients are made by operators, so the registry, not the
//! traffic, sets the size). A change made through `service::clients` writes a `client` entry
//! to the revocation log and reloads that client here at once; every other instance reloads it
//! when it reads the log, within one `revocation_refresh_interval`. All clients are read again
//! every [`FULL_RELOAD_INTERVAL`], which catches rows written outside the services and entries
//! an instance could not read in time.
//!
//! An id not in memory (a client inserted behind the services' back, or made elsewhere less
//! than a refresh ago) is looked up in the store, so nothing that worked before stops working.
//! That path is what an attacker controls, so it is bounded: at most
//! [`MISS_READS_PER_SECOND`] such reads per second per instance (beyond that an unknown id is
//! refused without a read; a known client is never affected), and an id found absent is
//! remembered for [`ABSENT_TTL`] seconds in a map of at most [`ABSENT_CAPACITY`] short ids.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::domain::client::Client;
use crate::domain::{ClientId, UnixTime};
use crate::storage::{Store, StoreError};

use super::Services;

/// How often every client is read again, in seconds.
pub const FULL_RELOAD_INTERVAL: i64 = 300;
/// How long an id found absent is believed absent, in seconds.
pub const ABSENT_TTL: i64 = 60;
/// How many absent ids are remembered at most.
pub const ABSENT_CAPACITY: usize = 10_000;
/// Store reads for ids not in memory, per second and instance.
pub const MISS_READS_PER_SECOND: u32 = 100;
/// Longer ids are never remembered as absent (they still cost a read from the budget): no
/// client we make has one, and they would let the absent map grow by their length.
const ABSENT_ID_MAX_LEN: usize = 128;

#[derive(Default)]
struct State {
    clients: HashMap<ClientId, Arc<Client>>,
    /// Ids read from the store and not found, until when that answer stands.
    absent: HashMap<ClientId, UnixTime>,
    /// Bumped by every reload: a lookup whose store read overlapped one keeps nothing, since
    /// its read may predate the change the reload applied.
    generation: u64,
    /// Ids whose reload failed (they are out of memory, so refused or read again meanwhile):
    /// reloaded on the next refresh.
    retry: HashSet<ClientId>,
    /// When every client was last read; `None` before the first full read.
    loaded_at: Option<UnixTime>,
    /// The second of the last lookup that read the store, and how many did in it.
    miss_second: UnixTime,
    miss_reads: u32,
}

#[derive(Default)]
pub struct ClientCache {
    state: RwLock<State>,
    /// Reloads run one at a time, so the last store read is also the last one applied.
    reloads: tokio::sync::Mutex<()>,
    /// Store reads made by lookups (ids not in memory), for tests and metrics.
    lookup_reads: AtomicU64,
}

impl ClientCache {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The client with this id, from memory; from the store only if memory does not know the
    /// id and the per-second budget allows (see the module documentation).
    pub async fn find(&self, store: &dyn Store, id: &str, now: UnixTime) -> Result<Option<Arc<Client>>, StoreError> {
        let generation = {
            let state = self.read();
            if let Some(client) = state.clients.get(id) {
                return Ok(Some(client.clone()));
            }
            if state.absent.get(id).is_some_and(|until| *until > now) {
                return Ok(None);
            }
            state.generation
        };
        if !self.take_miss_read(now) {
            return Ok(None);
        }
        self.lookup_reads.fetch_add(1, Ordering::Relaxed);
        let found = store.find_client(id).await?.map(Arc::new);
        let mut state = self.write();
        if state.generation == generation {
            match &found {
                Some(client) => {
                    state.clients.entry(client.id.clone()).or_insert_with(|| client.clone());
                }
                None => remember_absent(&mut state, id, now),
            }
        }
        Ok(found)
    }

    /// Whether a lookup may read the store now; counts the read.
    fn take_miss_read(&self, now: UnixTime) -> bool {
        let mut state = self.write();
        if state.miss_second != now {
            state.miss_second = now;
            state.miss_reads = 0;
        }
        if state.miss_reads >= MISS_READS_PER_SECOND {
            if state.miss_reads == MISS_READS_PER_SECOND {
                state.miss_reads += 1;
                tracing::warn!(
                    limit = MISS_READS_PER_SECOND,
                    "too many unknown client ids this second; refusing the rest without a store read"
                );
            }
            return false;
        }
        state.miss_reads += 1;
        true
    }

    /// Reads one client again (after a change here, or a `client` entry in the log). A failed
    /// read leaves the client out of memory (refused, or read again by a lookup) and due for
    /// another reload on the next refresh.
    pub async fn reload(&self, store: &dyn Store, id: &ClientId, now: UnixTime) {
        let _one_at_a_time = self.reloads.lock().await;
        let read = store.find_client(id).await;
        let mut state = self.write();
        state.generation += 1;
        state.retry.remove(id);
        match read {
            Ok(Some(client)) => {
                state.absent.remove(id.as_str());
                state.clients.insert(id.clone(), Arc::new(client));
            }
            Ok(None) => {
                state.clients.remove(id.as_str());
                // Not bounded by the capacity: only operators delete clients.
                state.absent.insert(id.clone(), now + ABSENT_TTL);
            }
            Err(e) => {
                state.clients.remove(id.as_str());
                state.retry.insert(id.clone());
                tracing::warn!(client_id = %id, error = %e, "could not reload a changed client; it is read again on the next refresh");
            }
        }
    }

    /// Reads every client, replacing what memory held.
    pub async fn load_all(&self, store: &dyn Store, now: UnixTime) -> Result<(), StoreError> {
        let _one_at_a_time = self.reloads.lock().await;
        let all = store.list_clients().await?;
        let clients: HashMap<ClientId, Arc<Client>> = all.into_iter().map(|c| (c.id.clone(), Arc::new(c))).collect();
        let mut state = self.write();
        state.generation += 1;
        state
            .absent
            .retain(|id, until| *until > now && !clients.contains_key(id));
        state.clients = clients;
        state.retry.clear();
        state.loaded_at = Some(now);
        Ok(())
    }

    fn full_reload_due(&self, now: UnixTime) -> bool {
        self.read()
            .loaded_at
            .is_none_or(|at| now - at >= FULL_RELOAD_INTERVAL || now < at)
    }

    fn take_retries(&self) -> Vec<ClientId> {
        self.write().retry.drain().collect()
    }

    /// How many clients are held.
    pub fn len(&self) -> usize {
        self.read().clients.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many clients held came from `origin`.
    pub fn count_of(&self, origin: crate::domain::client::ClientOrigin) -> usize {
        self.read().clients.values().filter(|c| c.origin == origin).count()
    }

    /// How many lookups read the store (ids not in memory) so far.
    pub fn lookup_reads(&self) -> u64 {
        self.lookup_reads.load(Ordering::Relaxed)
    }
}

fn remember_absent(state: &mut State, id: &str, now: UnixTime) {
    if id.len() > ABSENT_ID_MAX_LEN {
        return;
    }
    if state.absent.len() >= ABSENT_CAPACITY {
        state.absent.retain(|_, until| *until > now);
    }
    if state.absent.len() < ABSENT_CAPACITY {
        state.absent.insert(ClientId::from(id), now + ABSENT_TTL);
    }
}

/// One tick of the shared state (every `revocation_refresh_interval`): the revocation log,
/// then the clients its entries name and those whose reload failed before; or every client
/// when the last full read is [`FULL_RELOAD_INTERVAL`] old.
pub async fn refresh(services: &Services) -> Result<(), StoreError> {
    let now = services.clock.now();
    let store = &*services.store;
    let changed = services.revocations.refresh(store, now).await?;
    let cache = &services.client_cache;
    if cache.full_reload_due(now) {
        return cache.load_all(store, now).await;
    }
    let due: BTreeSet<ClientId> = changed.into_iter().chain(cache.take_retries()).collect();
    for id in &due {
        cache.reload(store, id, now).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

    use super::*;
    use crate::domain::client::ClientRegistration;

    const NOW: UnixTime = 1_000_000;

    async fn store() -> (Arc<dyn Store>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::storage::connect(&format!("sqlite://{}/store.db", dir.path().display()))
            .await
            .unwrap();
        (store, dir)
    }

    fn client(id: &str, name: &str) -> Client {
        ClientRegistration::new(name.to_owned()).into_client(ClientId::from(id), Some("hash".into()), NOW)
    }

    async fn name_of(cache: &ClientCache, store: &dyn Store, id: &str, now: UnixTime) -> Option<String> {
        cache.find(store, id, now).await.unwrap().map(|c| c.name.clone())
    }

    #[tokio::test]
    async fn known_clients_are_answered_from_memory_and_unknown_ids_read_once() {
        let (store, _dir) = store().await;
        store.insert_client(&client("c1", "one")).await.unwrap();
        let cache = ClientCache::default();
        cache.load_all(&*store, NOW).await.unwrap();
        for _ in 0..3 {
            assert_eq!(name_of(&cache, &*store, "c1", NOW).await.as_deref(), Some("one"));
        }
        assert_eq!(cache.lookup_reads(), 0, "a known client costs no read");

        for _ in 0..3 {
            assert_eq!(name_of(&cache, &*store, "nope", NOW).await, None);
        }
        assert_eq!(cache.lookup_reads(), 1, "an absent id is remembered");
        assert_eq!(name_of(&cache, &*store, "nope", NOW + ABSENT_TTL).await, None);
        assert_eq!(cache.lookup_reads(), 2, "for a while");

        // A client inserted behind the services' back is found by a lookup, then held.
        store.insert_client(&client("c2", "two")).await.unwrap();
        assert_eq!(name_of(&cache, &*store, "c2", NOW).await.as_deref(), Some("two"));
        assert_eq!(name_of(&cache, &*store, "c2", NOW).await.as_deref(), Some("two"));
        assert_eq!(cache.lookup_reads(), 3);
    }

    #[tokio::test]
    async fn unknown_ids_read_the_store_at_most_the_budget_per_second() {
        let (store, _dir) = store().await;
        store.insert_client(&client("c1", "one")).await.unwrap();
        let cache = ClientCache::default();
        cache.load_all(&*store, NOW).await.unwrap();
        let budget = u64::from(MISS_READS_PER_SECOND);
        for n in 0..budget + 50 {
            assert_eq!(name_of(&cache, &*store, &format!("unknown-{n}"), NOW).await, None);
        }
        assert_eq!(cache.lookup_reads(), budget);
        // A known client is unaffected; the next second has a budget again.
        assert_eq!(name_of(&cache, &*store, "c1", NOW).await.as_deref(), Some("one"));
        store.insert_client(&client("c2", "two")).await.unwrap();
        assert_eq!(
            name_of(&cache, &*store, "c2", NOW).await,
            None,
            "no read left this second"
        );
        assert_eq!(name_of(&cache, &*store, "c2", NOW + 1).await.as_deref(), Some("two"));
        assert_eq!(cache.lookup_reads(), budget + 1);
    }

    #[tokio::test]
    async fn absent_ids_are_remembered_within_bounds() {
        let (store, _dir) = store().await;
        let cache = ClientCache::default();
        let long = "x".repeat(ABSENT_ID_MAX_LEN + 1);
        assert_eq!(name_of(&cache, &*store, &long, NOW).await, None);
        assert_eq!(name_of(&cache, &*store, &long, NOW).await, None);
        assert_eq!(cache.lookup_reads(), 2, "a long id is not remembered");
        let mut state = State::default();
        for n in 0..ABSENT_CAPACITY + 10 {
            remember_absent(&mut state, &format!("id-{n}"), NOW);
        }
        assert_eq!(state.absent.len(), ABSENT_CAPACITY);
        // Once those have expired, room is made.
        remember_absent(&mut state, "late", NOW + ABSENT_TTL);
        assert_eq!(state.absent.len(), 1);
    }

    #[tokio::test]
    async fn a_reload_applies_a_change_and_a_deletion() {
        let (store, _dir) = store().await;
        store.insert_client(&client("c1", "one")).await.unwrap();
        let cache = ClientCache::default();
        cache.load_all(&*store, NOW).await.unwrap();
        let mut changed = client("c1", "renamed");
        changed.updated_at = NOW + 1;
        assert!(store.update_client(&changed).await.unwrap());
        assert_eq!(
            name_of(&cache, &*store, "c1", NOW).await.as_deref(),
            Some("one"),
            "memory holds the client until told"
        );
        cache.reload(&*store, &ClientId::from("c1"), NOW).await;
        assert_eq!(name_of(&cache, &*store, "c1", NOW).await.as_deref(), Some("renamed"));
        assert!(store.delete_client("c1").await.unwrap());
        cache.reload(&*store, &ClientId::from("c1"), NOW).await;
        assert_eq!(name_of(&cache, &*store, "c1", NOW).await, None);
        assert_eq!(cache.lookup_reads(), 0, "the deleted id is remembered absent");
        assert!(cache.is_empty());
    }

    #[tokio::test]
    async fn every_client_is_read_again_after_the_full_reload_interval() {
        let (store, _dir) = store().await;
        let cache = ClientCache::default();
        assert!(cache.full_reload_due(NOW), "before the first read");
        cache.load_all(&*store, NOW).await.unwrap();
        assert!(!cache.full_reload_due(NOW + FULL_RELOAD_INTERVAL - 1));
        assert!(cache.full_reload_due(NOW + FULL_RELOAD_INTERVAL));
        assert!(cache.full_reload_due(NOW - 1), "a clock set back");
    }
}
