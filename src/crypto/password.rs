//! Password hashing with argon2id (m=19 MiB, t=2, p=1, the OWASP baseline) on a small pool of
//! its own: `password_hash_concurrency` worker threads (0 = one per core), fed by a bounded
//! queue, each owning one argon2 memory block that it reuses for every hash. So a flood of
//! logins queues here instead of starving the async runtime, the number of hashes at once is
//! fixed, and nothing is allocated per hash: with a fresh 19 MiB block per hash on tokio's
//! blocking pool, glibc kept those blocks in a malloc arena per thread and the process grew
//! by hundreds of megabytes.
//!
//! Hashes are PHC strings, the same as the `argon2` crate writes and reads: verification parses
//! the stored string, recomputes with its parameters into the reused block and compares in
//! constant time.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use argon2::password_hash::rand_core::{OsRng, RngCore as _};
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq as _;
use tokio::sync::{mpsc, oneshot};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing task failed")]
    Task,
}

/// Jobs waiting per worker before `hash`/`verify` wait for room.
const QUEUE_PER_WORKER: usize = 8;
/// The largest memory a stored hash may ask for (in 1 KiB blocks): 256 MiB. Ours ask for 19 MiB;
/// a bigger one can only be an imported hash, and is grown into once and kept.
const MAX_BLOCKS: usize = 256 * 1024;
/// The longest argon2 output a PHC string can hold.
const MAX_OUTPUT: usize = Output::MAX_LENGTH;

fn params() -> Params {
    // The parameters are constants that argon2 accepts; fall back to its defaults (also argon2id,
    // the same cost) rather than panic if that ever changed.
    Params::new(19 * 1024, 2, 1, Some(Params::DEFAULT_OUTPUT_LEN)).unwrap_or_default()
}

enum Job {
    Hash {
        password: SecretString,
        reply: oneshot::Sender<Result<String, PasswordError>>,
    },
    Verify {
        phc: Arc<str>,
        password: SecretString,
        reply: oneshot::Sender<bool>,
    },
}

/// One worker's argon2 memory, allocated at its first job and reused for every later one.
#[derive(Default)]
struct Memory(Vec<Block>);

impl Memory {
    fn at_least(&mut self, blocks: usize) -> Result<&mut [Block], PasswordError> {
        if blocks > MAX_BLOCKS {
            return Err(PasswordError::Hash(format!("a hash asks for {blocks} KiB of memory")));
        }
        if self.0.len() < blocks {
            self.0.resize(blocks, Block::default());
        }
        Ok(&mut self.0)
    }
}

fn hash_with(memory: &mut Memory, password: &[u8]) -> Result<String, PasswordError> {
    let fail = |e: &dyn std::fmt::Display| PasswordError::Hash(e.to_string());
    let params = params();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf).map_err(|e| fail(&e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password, salt_bytes, &mut out, memory.at_least(params.block_count())?)
        .map_err(|e| fail(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| fail(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `phc`, recomputed with the string's own algorithm,
/// version and parameters (as the `argon2` crate's verifier does).
fn verify_with(memory: &mut Memory, phc: &str, password: &[u8]) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.salt,
        parsed.hash,
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out_buf = [0u8; MAX_OUTPUT];
    let Some(out) = out_buf.get_mut(..expected.len()) else {
        return false;
    };
    let blocks = match memory.at_least(params.block_count()) {
        Ok(blocks) => blocks,
        Err(e) => {
            tracing::error!(error = %e, "a stored password hash cannot be checked");
            return false;
        }
    };
    if Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt_bytes, &mut *out, blocks)
        .is_err()
    {
        return false;
    }
    out.ct_eq(expected.as_bytes()).into()
}

/// Lowers this (hashing) thread's scheduling priority (nice 10), so that on a busy machine the
/// threads answering requests run first: a flood of sign-ins then slows sign-ins, not token
/// requests. On Linux the nice value is per thread.
fn yield_to_requests() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: setpriority only changes the calling thread's nice value (who = 0 on Linux); a
    // failure leaves it as it was.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

/// Returns the allocator's free pages to the system (every arena's, not only this thread's):
/// after a burst of sign-ins the request threads' heaps hold what their pages and buffers used.
fn give_back_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory the allocator holds free.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A worker: takes jobs until every sender is gone. A job whose caller went away is skipped.
///
/// Its 19 MiB of argon2 memory is kept while jobs are waiting (a burst of sign-ins reuses it) and
/// given back when the queue is empty, so an idle server holds none.
fn work(jobs: Arc<Mutex<mpsc::Receiver<Job>>>, waiting: Arc<AtomicUsize>) {
    yield_to_requests();
    let mut memory = Memory::default();
    loop {
        if waiting.load(Ordering::Acquire) == 0 && !memory.0.is_empty() {
            memory = Memory::default();
            give_back_free_memory();
        }
        let job = jobs.lock().unwrap_or_else(PoisonError::into_inner).blocking_recv();
        let Some(job) = job else {
            return;
        };
        waiting.fetch_sub(1, Ordering::AcqRel);
        match job {
            Job::Hash { password, reply } => {
                if reply.is_closed() {
                    continue;
                }
                let hashed = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    hash_with(&mut memory, password.expose_secret().as_bytes())
                }))
                .unwrap_or(Err(PasswordError::Task));
                let _ = reply.send(hashed);
            }
            Job::Verify { phc, password, reply } => {
                if reply.is_closed() {
                    continue;
                }
                let ok = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    verify_with(&mut memory, &phc, password.expose_secret().as_bytes())
                }))
                .unwrap_or(false);
                let _ = reply.send(ok);
            }
        }
    }
}

/// A PHC string with our parameters, a random salt and a random output: verifying against it
/// costs what verifying against a real hash costs, and it matches no password.
fn dummy_hash() -> Result<String, PasswordError> {
    let params = params();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    OsRng.fill_bytes(&mut out);
    let salt = SaltString::generate(&mut OsRng);
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| PasswordError::Hash(e.to_string()))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| PasswordError::Hash(e.to_string()))?),
    };
    Ok(phc.to_string())
}

#[derive(Clone)]
pub struct PasswordHasher {
    jobs: mpsc::Sender<Job>,
    /// Jobs sent and not yet taken by a worker.
    waiting: Arc<AtomicUsize>,
    /// Verified against when the user does not exist, so that "no such user" costs the same as
    /// "wrong password".
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    /// Starts `concurrency` workers (0 = one per core). They stop when the last clone of the
    /// hasher is dropped.
    pub fn new(concurrency: usize) -> Result<Self, PasswordError> {
        let workers = if concurrency == 0 {
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
        } else {
            concurrency
        };
        let (jobs, queue) = mpsc::channel(workers.saturating_mul(QUEUE_PER_WORKER));
        let queue = Arc::new(Mutex::new(queue));
        let waiting = Arc::new(AtomicUsize::new(0));
        for i in 0..workers {
            let (queue, waiting) = (queue.clone(), waiting.clone());
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || work(queue, waiting))
                .map_err(|e| PasswordError::Hash(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(Self {
            jobs,
            waiting,
            dummy_hash: dummy_hash()?.into(),
        })
    }

    pub async fn hash(&self, password: &SecretString) -> Result<String, PasswordError> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Hash {
            password: password.clone(),
            reply,
        })
        .await?;
        answer.await.map_err(|_| PasswordError::Task)?
    }

    /// Verifies `password` against `phc`, or against the dummy hash when there is no user, so
    /// both paths take the same time. Returns false for `None`.
    pub async fn verify(&self, phc: Option<&str>, password: &SecretString) -> bool {
        let known = phc.is_some();
        let phc = phc.map_or_else(|| self.dummy_hash.clone(), Arc::from);
        let (reply, answer) = oneshot::channel();
        let job = Job::Verify {
            phc,
            password: password.clone(),
            reply,
        };
        if self.send(job).await.is_err() {
            return false;
        }
        let ok = answer.await.unwrap_or(false);
        known && ok
    }

    /// Queues a job (waiting while the queue is full), counted until a worker takes it.
    async fn send(&self, job: Job) -> Result<(), PasswordError> {
        /// Uncounts the job unless it was queued, also when the caller goes away while the queue
        /// is full (a client that disconnects mid-flood).
        struct Counted<'a>(&'a AtomicUsize, bool);
        impl Drop for Counted<'_> {
            fn drop(&mut self) {
                if !self.1 {
                    self.0.fetch_sub(1, Ordering::AcqRel);
                }
            }
        }
        self.waiting.fetch_add(1, Ordering::AcqRel);
        let mut counted = Counted(&self.waiting, false);
        self.jobs.send(job).await.map_err(|_| PasswordError::Task)?;
        counted.1 = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;

    fn plain_argon2() -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
    }

    #[tokio::test]
    async fn hashes_with_argon2id_and_verifies() {
        let hasher = PasswordHasher::new(1).unwrap();
        let pw = SecretString::from("correct horse battery staple");
        let phc = hasher.hash(&pw).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify(Some(&phc), &pw).await);
        assert!(!hasher.verify(Some(&phc), &SecretString::from("wrong")).await);
        assert!(!hasher.verify(None, &pw).await);
        assert!(!hasher.verify(Some("not a hash"), &pw).await);
    }

    #[tokio::test]
    async fn pool_hashes_verify_with_the_plain_argon2_crate_and_back() {
        let hasher = PasswordHasher::new(2).unwrap();
        let pw = "correct horse battery staple";
        let secret = SecretString::from(pw);

        // Made by the pool, checked by the argon2 crate.
        let ours = hasher.hash(&secret).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(plain_argon2().verify_password(pw.as_bytes(), &parsed).is_ok());
        assert!(plain_argon2().verify_password(b"wrong", &parsed).is_err());

        // Made by the argon2 crate (as stored hashes were), checked by the pool.
        let salt = SaltString::generate(&mut OsRng);
        let theirs = plain_argon2().hash_password(pw.as_bytes(), &salt).unwrap().to_string();
        assert!(hasher.verify(Some(&theirs), &secret).await);
        assert!(!hasher.verify(Some(&theirs), &SecretString::from("wrong")).await);

        // Other parameters (a smaller or a larger memory than ours) are read from the string.
        for (m, t, p) in [(8 * 1024, 1, 1), (32 * 1024, 3, 2)] {
            let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(m, t, p, None).unwrap());
            let phc = other.hash_password(pw.as_bytes(), &salt).unwrap().to_string();
            assert!(hasher.verify(Some(&phc), &secret).await, "{phc}");
            assert!(!hasher.verify(Some(&phc), &SecretString::from("wrong")).await);
        }
        // ...and the memory grown for the larger one still gives our own hashes right.
        assert!(hasher.verify(Some(&ours), &secret).await);
    }

    #[tokio::test]
    async fn many_hashes_at_once_all_finish_on_a_small_pool() {
        let hasher = PasswordHasher::new(2).unwrap();
        let pw = SecretString::from("correct horse battery staple");
        let phc = hasher.hash(&pw).await.unwrap();
        // More jobs than the queue holds: callers wait for room instead of failing.
        let checks: Vec<_> = (0..40)
            .map(|i| {
                let hasher = hasher.clone();
                let phc = phc.clone();
                let pw = SecretString::from(if i % 2 == 0 {
                    "correct horse battery staple"
                } else {
                    "wrong"
                });
                tokio::spawn(async move { hasher.verify(Some(&phc), &pw).await })
            })
            .collect();
        for (i, check) in checks.into_iter().enumerate() {
            assert_eq!(check.await.unwrap(), i % 2 == 0);
        }
    }

    #[test]
    fn the_dummy_hash_has_our_parameters_and_matches_nothing() {
        let dummy = dummy_hash().unwrap();
        assert!(dummy.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let mut memory = Memory::default();
        assert!(!verify_with(&mut memory, &dummy, b""));
    }
}
