//! What a new password must be (OWASP ASVS 2.1): 12 to 256 characters, not the person's
//! username or email, not a common password (a bundled list), not trivially simple.

use std::collections::HashSet;
use std::sync::OnceLock;

const COMMON: &str = include_str!("common-passwords.txt");

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect()
    })
}

/// Every rule the password breaks, in words for the person.
pub fn problems(password: &str, username: &str, email: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    let length = password.chars().count();
    if length < 12 {
        out.push("Use at least 12 characters.");
    }
    if length > 256 {
        out.push("Use at most 256 characters.");
    }
    let lower = password.to_lowercase();
    let local_part = email.split('@').next().unwrap_or_default();
    if lower == username.to_lowercase()
        || lower == email.to_lowercase()
        || (!local_part.is_empty() && lower == local_part)
    {
        out.push("Do not use your username or email address.");
    }
    // A common password, also with digits and symbols tacked on ("password2024!").
    let core = lower.trim_end_matches(|c: char| !c.is_alphabetic());
    let distinct: HashSet<char> = lower.chars().collect();
    if common().contains(lower.as_str()) || common().contains(core) || distinct.len() < 5 || is_repetition(&lower) {
        out.push("This password is too common or too simple.");
    }
    out
}

/// "abcabcabc", "passwordpassword": a shorter string repeated.
fn is_repetition(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    (1..=n / 2).any(|p| n.is_multiple_of(p) && chars.chunks(p).all(|c| c == chars.get(..p).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_table() {
        let ok = "violet-kettle-marmalade";
        assert!(problems(ok, "alice", "alice@example.com").is_empty());
        for (bad, why) in [
            ("short", "Use at least 12 characters."),
            ("alice@example.com", "Do not use your username or email address."),
            ("passwordpassword", "This password is too common or too simple."),
            ("Password2024!", "This password is too common or too simple."),
            ("aaaaaaaaaaaaaaaa", "This password is too common or too simple."),
            ("111111222222", "This password is too common or too simple."),
        ] {
            assert!(problems(bad, "alice", "alice@example.com").contains(&why), "{bad}");
        }
        assert!(problems(&"x".repeat(257), "a", "a@b.c").contains(&"Use at most 256 characters."));
    }
}
