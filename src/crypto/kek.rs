//! The key-encryption key (KEK): AES-256-GCM over every private key and TOTP secret the store
//! holds. It comes from `KEYHAVEN_KEK` (base64url, 32 bytes) or from a file (default
//! `keys/kek`), which is created with mode 0600 on first start.

use std::fmt;
use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::Zeroizing;

const SEALED_PREFIX: &str = "kek1.";
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum KekError {
    #[error("{0}")]
    Invalid(String),
    #[error("cannot decrypt: wrong key-encryption key or corrupted data")]
    Decrypt,
}

pub struct Kek {
    cipher: Aes256Gcm,
    raw: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Kek(<redacted>)")
    }
}

impl Kek {
    /// Decodes a KEK written as base64 (url-safe or standard, padding optional): 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, KekError> {
        let text = text.trim();
        let bytes = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .or_else(|_| STANDARD.decode(text))
                .map_err(|_| KekError::Invalid("is not base64".into()))?,
        );
        if bytes.len() != 32 {
            return Err(KekError::Invalid(format!(
                "must decode to 32 bytes, got {}",
                bytes.len()
            )));
        }
        let cipher =
            Aes256Gcm::new_from_slice(&bytes).map_err(|_| KekError::Invalid("must decode to 32 bytes".into()))?;
        let mut raw = Zeroizing::new([0u8; 32]);
        raw.copy_from_slice(&bytes);
        Ok(Self { cipher, raw })
    }

    /// Reads the KEK file, or creates it (parent folder 0700, file 0600) when it does not exist.
    /// A file that group or others may read is refused.
    pub fn load_or_create(path: &Path) -> Result<Self, KekError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                check_private(path)?;
                Self::from_base64(&text)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(path),
            Err(e) => Err(KekError::Invalid(format!("cannot read {}: {e}", path.display()))),
        }
    }

    fn create(path: &Path) -> Result<Self, KekError> {
        let mut raw = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut *raw);
        let text = Zeroizing::new(URL_SAFE_NO_PAD.encode(*raw));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(|e| KekError::Invalid(format!("cannot create {}: {e}", dir.display())))?;
        }
        write_private_file(path, text.as_bytes())
            .map_err(|e| KekError::Invalid(format!("cannot create {}: {e}", path.display())))?;
        Self::from_base64(&text)
    }

    /// A key for another purpose (e.g. CSRF tokens), derived as HMAC-SHA256(KEK, label), so
    /// every instance sharing the KEK derives the same one and the KEK itself is never reused.
    pub fn derive(&self, label: &str) -> Zeroizing<[u8; 32]> {
        use hmac::{Hmac, Mac};
        let mut out = Zeroizing::new([0u8; 32]);
        if let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&*self.raw) {
            mac.update(label.as_bytes());
            out.copy_from_slice(&mac.finalize().into_bytes());
        }
        out
    }

    /// Encrypts `plaintext`, bound to `context` (e.g. the key id) as associated data, so a
    /// sealed value moved to another row does not open.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<String, KekError> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| KekError::Invalid("encryption failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    pub fn open(&self, context: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, KekError> {
        let body = sealed.strip_prefix(SEALED_PREFIX).ok_or(KekError::Decrypt)?;
        let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| KekError::Decrypt)?;
        if bytes.len() < NONCE_LEN {
            return Err(KekError::Decrypt);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| KekError::Decrypt)
    }
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), KekError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| KekError::Invalid(format!("cannot read {}: {e}", path.display())))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(KekError::Invalid(format!(
            "{} may be read by group or others (mode {:o}); run chmod 600 on it",
            path.display(),
            mode & 0o777
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), KekError> {
    Ok(())
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(bytes)?;
    file.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_bind_context() {
        let kek = Kek::from_base64(&URL_SAFE_NO_PAD.encode([7u8; 32])).unwrap();
        let sealed = kek.seal("kid-1", b"private").unwrap();
        assert!(sealed.starts_with("kek1."));
        assert_eq!(&*kek.open("kid-1", &sealed).unwrap(), b"private");
        assert!(kek.open("kid-2", &sealed).is_err());
        let other = Kek::from_base64(&URL_SAFE_NO_PAD.encode([8u8; 32])).unwrap();
        assert!(other.open("kid-1", &sealed).is_err());
    }

    #[test]
    fn file_is_created_private_and_reloads() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/kek");
        let a = Kek::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let sealed = a.seal("x", b"y").unwrap();
        let b = Kek::load_or_create(&path).unwrap();
        assert_eq!(&*b.open("x", &sealed).unwrap(), b"y");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(Kek::load_or_create(&path).is_err());
    }

    #[test]
    fn bad_lengths_are_refused() {
        assert!(Kek::from_base64("abc").is_err());
        assert!(Kek::from_base64("not base64 !!").is_err());
    }
}
