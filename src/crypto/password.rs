//! Password hashing with argon2id (m=19 MiB, t=2, p=1, the OWASP baseline). Hashing runs on
//! the blocking pool behind a semaphore sized to the cores, so a flood of logins queues here
//! instead of starving the async runtime.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing task failed")]
    Task,
}

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// A real hash of a random password, verified against when the user does not exist so that
    /// "no such user" costs the same as "wrong password".
    dummy_hash: Arc<String>,
}

fn argon2() -> Argon2<'static> {
    // The parameters are constants that argon2 accepts; fall back to its defaults (also argon2id)
    // rather than panic if that ever changed.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

fn verify_blocking(phc: &str, password: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

impl PasswordHasher {
    /// `concurrency` = how many hashes may run at once (0 = one per core).
    pub fn new(concurrency: usize) -> Result<Self, PasswordError> {
        let permits = if concurrency == 0 {
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
        } else {
            concurrency
        };
        let dummy = crate::crypto::tokens::random_base64url(24);
        Ok(Self {
            permits: Arc::new(Semaphore::new(permits)),
            dummy_hash: Arc::new(hash_blocking(&dummy)?),
        })
    }

    pub async fn hash(&self, password: &SecretString) -> Result<String, PasswordError> {
        let _permit = self.permits.acquire().await.map_err(|_| PasswordError::Task)?;
        let password = password.clone();
        tokio::task::spawn_blocking(move || hash_blocking(password.expose_secret()))
            .await
            .map_err(|_| PasswordError::Task)?
    }

    /// Verifies `password` against `phc`, or against the dummy hash when there is no user, so
    /// both paths take the same time. Returns false for `None`.
    pub async fn verify(&self, phc: Option<&str>, password: &SecretString) -> bool {
        let Ok(_permit) = self.permits.acquire().await else {
            return false;
        };
        let known = phc.is_some();
        let phc = phc.map_or_else(|| (*self.dummy_hash).clone(), str::to_owned);
        let password = password.clone();
        let ok = tokio::task::spawn_blocking(move || verify_blocking(&phc, password.expose_secret()))
            .await
            .unwrap_or(false);
        known && ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_and_verifies() {
        let hasher = PasswordHasher::new(1).unwrap();
        let pw = SecretString::from("correct horse battery staple");
        let phc = hasher.hash(&pw).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify(Some(&phc), &pw).await);
        assert!(!hasher.verify(Some(&phc), &SecretString::from("wrong")).await);
        assert!(!hasher.verify(None, &pw).await);
    }
}
