//! Where a browser goes back to after signing in (`return_to`): a path on this server, never
//! another origin. Parsed once from untrusted input; anything else is refused (no open redirect).

/// A local path with an optional query: starts with one `/` (not `//` or `/\`, which browsers
/// read as another host), printable ASCII without a backslash, at most 512 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPath(String);

pub const MAX_LEN: usize = 512;

impl LocalPath {
    pub fn parse(input: &str) -> Option<Self> {
        let rest = input.strip_prefix('/')?;
        let acceptable = input.len() <= MAX_LEN
            && !rest.starts_with('/')
            && input.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
        acceptable.then(|| Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::LocalPath;

    #[test]
    fn only_local_paths_are_accepted() {
        for good in ["/account", "/account/devices", "/account/apps?x=1", "/"] {
            assert_eq!(
                LocalPath::parse(good).map(|p| p.as_str().to_owned()),
                Some(good.to_owned())
            );
        }
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/account\\x",
            "account",
            "",
            "/a b",
            "/\u{e9}",
            "javascript:alert(1)",
        ] {
            assert_eq!(LocalPath::parse(bad), None, "{bad:?}");
        }
        assert_eq!(LocalPath::parse(&format!("/{}", "a".repeat(600))), None);
    }
}
