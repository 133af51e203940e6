//! TOTP (RFC 6238): SHA-1, 6 digits, 30-second steps, as every common authenticator app
//! expects; a code is accepted one step early or late. Recovery codes: 100 random bits each,
//! shown once, stored as SHA-256.

use qrcode::render::svg;
use qrcode::QrCode;
use rand::rngs::OsRng;
use rand::RngCore;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};
use zeroize::Zeroizing;

use super::tokens::SecretHash;
use crate::domain::UnixTime;

pub const STEP: i64 = 30;
const DIGITS: usize = 6;
const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new 160-bit secret (RFC 4226 §4 recommends 160 bits).
pub fn new_secret() -> Zeroizing<Vec<u8>> {
    let mut secret = Zeroizing::new(vec![0u8; 20]);
    OsRng.fill_bytes(&mut secret);
    secret
}

fn totp(secret: &[u8], issuer: &str, account: &str) -> Option<TOTP> {
    // Authenticator apps split the label on ':'.
    let account = account.replace(':', "_");
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        30,
        secret.to_vec(),
        Some(issuer.replace(':', "_")),
        account,
    )
    .ok()
}

/// What the enrollment page shows: the `otpauth://` URI as a QR code (SVG) and the secret
/// in base32 for typing.
pub struct Enrollment {
    pub uri: String,
    pub base32: String,
    pub qr_svg: String,
}

pub fn enrollment(secret: &[u8], issuer: &str, account: &str) -> Option<Enrollment> {
    let totp = totp(secret, issuer, account)?;
    let uri = totp.get_url();
    let qr_svg = QrCode::new(uri.as_bytes())
        .ok()?
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Some(Enrollment {
        base32: totp.get_secret_base32(),
        uri,
        qr_svg,
    })
}

/// The code for the step containing `time` (for tests and for enrollment checks).
pub fn code_at(secret: &[u8], time: UnixTime) -> String {
    totp(secret, "keyhaven", "user")
        .map(|t| t.generate(u64::try_from(time).unwrap_or(0)))
        .unwrap_or_default()
}

/// The time step whose code `code` is, among the current one and its neighbours; compared in
/// constant time. The caller must also refuse a step at or before the last one accepted.
pub fn matching_step(secret: &[u8], code: &str, now: UnixTime) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = now.div_euclid(STEP);
    let mut found = None;
    for step in [current - 1, current, current + 1] {
        let expected = code_at(secret, step * STEP);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            found = Some(step);
        }
    }
    found
}

/// Ten recovery codes like `ABCDE-FGHIJ-KLMNO-PQRST` (20 base32 characters, 100 bits).
pub fn new_recovery_codes() -> Vec<String> {
    (0..10)
        .map(|_| {
            let mut bytes = [0u8; 20];
            OsRng.fill_bytes(&mut bytes);
            let chars: Vec<char> = bytes
                .iter()
                .map(|b| char::from(BASE32.get(usize::from(b % 32)).copied().unwrap_or(b'A')))
                .collect();
            chars
                .chunks(5)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// SHA-256 of a recovery code, after normalising case, dashes and spaces.
pub fn recovery_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    SecretHash::of(&normal).as_str().to_owned()
}

pub fn looks_like_recovery_code(input: &str) -> bool {
    input.chars().filter(|c| c.is_ascii_alphanumeric()).count() == 20
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vector() {
        // RFC 6238 Appendix B, SHA-1, T = 59 s: 94287082 (8 digits); its last 6 digits.
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, 59), "287082");
        assert_eq!(matching_step(secret, "287082", 59), Some(1));
        assert_eq!(
            matching_step(secret, "287082", 59 + 30),
            Some(1),
            "one step late is accepted"
        );
        assert_eq!(
            matching_step(secret, "287082", 59 + 90),
            None,
            "three steps late is not"
        );
        assert_eq!(matching_step(secret, "28708", 59), None);
    }

    #[test]
    fn recovery_codes_are_long_and_normalised() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        assert!(codes.iter().all(|c| c.len() == 23 && looks_like_recovery_code(c)));
        assert_eq!(
            recovery_hash(&codes[0]),
            recovery_hash(&codes[0].to_lowercase().replace('-', " "))
        );
    }

    #[test]
    fn enrollment_renders_a_qr_code() {
        let e = enrollment(&new_secret(), "Keyhaven", "alice").unwrap();
        assert!(e.uri.starts_with("otpauth://totp/"));
        assert!(e.qr_svg.contains("<svg"));
        assert_eq!(e.base32.len(), 32);
    }
}
