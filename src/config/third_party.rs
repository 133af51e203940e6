//! The settings of clients that introduce themselves: metadata documents and registration.

/// `client_id_metadata_documents`: whether a client id may be the URL of its metadata
/// document, and from which hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataDocuments {
    Off,
    On,
    /// Host patterns: a host name, or `*.` and a suffix (any host under it, not the suffix).
    Hosts(Vec<String>),
}

impl MetadataDocuments {
    pub(super) fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "off" => return Ok(Self::Off),
            "on" => return Ok(Self::On),
            _ => {}
        }
        let mut hosts = Vec::new();
        for pattern in text.split([' ', ',']).filter(|p| !p.is_empty()) {
            let name = pattern.strip_prefix("*.").unwrap_or(pattern);
            let valid = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                && !name.starts_with('.')
                && !name.ends_with('.');
            if !valid {
                return Err(format!(
                    "`{pattern}` is not `off`, `on`, or a host pattern (`tools.example`, `*.agents.example`)"
                ));
            }
            hosts.push(pattern.to_ascii_lowercase());
        }
        if hosts.is_empty() {
            return Err("give `off`, `on`, or host patterns".into());
        }
        Ok(Self::Hosts(hosts))
    }

    pub fn enabled(&self) -> bool {
        *self != Self::Off
    }

    /// Whether a document on `host` may be fetched.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        match self {
            Self::Off => false,
            Self::On => true,
            Self::Hosts(patterns) => patterns.iter().any(|p| match p.strip_prefix("*.") {
                Some(suffix) => host
                    .strip_suffix(suffix)
                    .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.')),
                None => *p == host,
            }),
        }
    }
}

/// `client_registration`: who may register a client at `/register`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationPolicy {
    Off,
    Open,
    /// Only with an initial access token.
    Token,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_document_hosts_match_exactly_or_below_a_wildcard() {
        let hosts = MetadataDocuments::parse("tools.example *.agents.example").unwrap();
        assert!(hosts.allows("tools.example") && hosts.allows("TOOLS.example"));
        assert!(hosts.allows("a.agents.example") && hosts.allows("b.a.agents.example"));
        assert!(!hosts.allows("agents.example") && !hosts.allows("evilagents.example"));
        assert!(!hosts.allows("tools.example.evil") && !hosts.allows("x.tools.example"));
        assert!(MetadataDocuments::parse("on").unwrap().allows("anything.example"));
        assert!(!MetadataDocuments::parse("off").unwrap().allows("tools.example"));
        assert!(MetadataDocuments::parse("*.").is_err() && MetadataDocuments::parse("a/b").is_err());
    }
}
