//! Outbound fetches of documents that outsiders name: a client's metadata document (its
//! `client_id` is the URL) and a client's `jwks_uri`. Every such URL is hostile until fetched
//! safely, so a [`Fetcher`]:
//!
//! - fetches `https` only (with `allow_loopback`, a development setting, also `http` to a
//!   loopback host);
//! - resolves the host itself and connects only to addresses that are not loopback, private,
//!   link-local, multicast, unspecified or otherwise reserved (unless `allow_loopback`): the
//!   check is in the resolver reqwest connects through, so a name that resolves differently on
//!   the second lookup (DNS rebinding) cannot slip past it, and an address literal in the URL is
//!   checked before anything is sent;
//! - follows no redirect, gives up after a total timeout (connect included), reads at most
//!   `max_bytes` of body, and takes only the media types the caller names.
//!
//! [`DocumentCache`] keeps what was fetched for as long as the response's `Cache-Control`
//! says, within a floor and a ceiling; fetches a URL again at most once per interval; and serves
//! a stale copy for a bounded time when a fetch fails.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use crate::domain::UnixTime;

/// What a fetch may do.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    /// Development and tests only: also `http` to loopback hosts, and any address.
    pub allow_loopback: bool,
    /// The whole fetch, connecting included.
    pub timeout: Duration,
    pub max_bytes: usize,
    /// CA certificates trusted beside the system's (the `outbound_ca_file` setting).
    pub extra_roots: Vec<reqwest::Certificate>,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self {
            allow_loopback: false,
            timeout: Duration::from_secs(5),
            max_bytes: 64 * 1024,
            extra_roots: Vec::new(),
        }
    }
}

impl FetchPolicy {
    /// Reads a PEM file of CA certificates (one or more) for [`FetchPolicy::extra_roots`].
    pub fn read_roots(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, String> {
        let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let roots = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("{} is not a PEM file of certificates: {e}", path.display()))?;
        if roots.is_empty() {
            return Err(format!("{} holds no certificate", path.display()));
        }
        Ok(roots)
    }
}

/// Why a document could not be had, in words an error page or a log can show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("the URL is not an https URL")]
    NotHttps,
    #[error("the URL's host is not one Keyhaven may fetch from (a loopback, private or reserved address)")]
    ForbiddenAddress,
    #[error("the URL's host could not be resolved")]
    Unresolvable,
    #[error("the server did not answer within {0} seconds")]
    Timeout(u64),
    #[error("the server answered with a redirect, which is not followed")]
    Redirect,
    #[error("the server answered with status {0}")]
    Status(u16),
    #[error("the document is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the document is not of an accepted type (it says {0:?})")]
    WrongType(String),
    #[error("the fetch failed: {0}")]
    Transport(String),
}

/// A fetched document and how long its server lets it be kept.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub body: Arc<[u8]>,
    /// From `Cache-Control`: `max-age`, or zero for `no-store`/`no-cache`; None when unsaid.
    pub max_age: Option<Duration>,
}

#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: FetchPolicy,
}

impl Fetcher {
    pub fn new(policy: FetchPolicy) -> Result<Self, FetchError> {
        let mut builder = reqwest::Client::builder();
        for root in &policy.extra_roots {
            builder = builder.add_root_certificate(root.clone());
        }
        let client = builder
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(policy.timeout)
            .timeout(policy.timeout)
            .dns_resolver(Arc::new(GuardedResolver {
                allow_any: policy.allow_loopback,
            }))
            .user_agent(concat!("keyhaven/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Transport(format!("{e:#}")))?;
        Ok(Self { client, policy })
    }

    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// Fetches `url` if the policy allows it; the body must be of one of `media_types`.
    pub async fn fetch(&self, url: &Url, media_types: &[&str]) -> Result<Fetched, FetchError> {
        self.check_url(url)?;
        let seconds = self.policy.timeout.as_secs();
        let work = async {
            let response = self
                .client
                .get(url.clone())
                .send()
                .await
                .map_err(|e| transport(&e, seconds))?;
            let status = response.status();
            if status.is_redirection() {
                return Err(FetchError::Redirect);
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            let content_type = header_text(response.headers(), reqwest::header::CONTENT_TYPE);
            if !accepted_type(&content_type, media_types) {
                return Err(FetchError::WrongType(content_type));
            }
            if response
                .content_length()
                .is_some_and(|length| length > self.policy.max_bytes as u64)
            {
                return Err(FetchError::TooLarge(self.policy.max_bytes));
            }
            let max_age = max_age(&header_text(response.headers(), reqwest::header::CACHE_CONTROL));
            let body = read_capped(response, self.policy.max_bytes, seconds).await?;
            Ok(Fetched {
                body: body.into(),
                max_age,
            })
        };
        // The client's timeout covers the body too; this bounds everything, reading included.
        tokio::time::timeout(self.policy.timeout, work)
            .await
            .unwrap_or(Err(FetchError::Timeout(seconds)))
    }

    /// The scheme and, for an address literal, the address: what can be refused before any
    /// connection. Names are checked by the resolver.
    fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        let loopback_host = match url.host() {
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            None => return Err(FetchError::NotHttps),
        };
        match url.scheme() {
            "https" => {}
            "http" if self.policy.allow_loopback && loopback_host => {}
            _ => return Err(FetchError::NotHttps),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::NotHttps);
        }
        let literal = match url.host() {
            Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal {
            if !self.policy.allow_loopback && !is_public(ip) {
                return Err(FetchError::ForbiddenAddress);
            }
        }
        Ok(())
    }
}

fn transport(e: &reqwest::Error, seconds: u64) -> FetchError {
    if e.is_timeout() {
        return FetchError::Timeout(seconds);
    }
    // The resolver's refusal comes back as a connect error carrying our message. The message
    // says every cause (a TLS failure says "certificate verify failed" deep down).
    let mut chain = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(error) = source {
        let text = error.to_string();
        if !chain.contains(&text) {
            if !chain.is_empty() {
                chain.push_str(": ");
            }
            chain.push_str(&text);
        }
        source = error.source();
    }
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(error) = source {
        if error.to_string().contains(FORBIDDEN) {
            return FetchError::ForbiddenAddress;
        }
        if error.to_string().contains(UNRESOLVABLE) {
            return FetchError::Unresolvable;
        }
        source = error.source();
    }
    FetchError::Transport(chain)
}

fn header_text(headers: &reqwest::header::HeaderMap, name: reqwest::header::HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Whether `content_type`'s media type (parameters aside) is one of `accepted`.
fn accepted_type(content_type: &str, accepted: &[&str]) -> bool {
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    accepted.iter().any(|a| a.eq_ignore_ascii_case(media_type))
}

/// `Cache-Control` as a lifetime: `no-store` or `no-cache` is zero, `max-age=N` is N seconds,
/// anything else says nothing.
pub fn max_age(cache_control: &str) -> Option<Duration> {
    let mut found = None;
    for directive in cache_control.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(value) = lower.strip_prefix("max-age=") {
            if let Ok(seconds) = value.trim_matches('"').parse::<u64>() {
                found = Some(Duration::from_secs(seconds));
            }
        }
    }
    found
}

async fn read_capped(mut response: reqwest::Response, max_bytes: usize, seconds: u64) -> Result<Vec<u8>, FetchError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport(&e, seconds))? {
        if body.len() + chunk.len() > max_bytes {
            return Err(FetchError::TooLarge(max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

const FORBIDDEN: &str = "keyhaven: address not allowed";
const UNRESOLVABLE: &str = "keyhaven: name not resolved";

/// Resolves with the system resolver and keeps only the addresses a fetch may connect to.
struct GuardedResolver {
    allow_any: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_any = self.allow_any;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await
                .map_err(|_| Box::new(std::io::Error::other(UNRESOLVABLE)) as Box<dyn std::error::Error + Send + Sync>)?
                .collect();
            if found.is_empty() {
                return Err(Box::new(std::io::Error::other(UNRESOLVABLE)) as Box<dyn std::error::Error + Send + Sync>);
            }
            let allowed: Vec<SocketAddr> = found.into_iter().filter(|a| allow_any || is_public(a.ip())).collect();
            if allowed.is_empty() {
                return Err(Box::new(std::io::Error::other(FORBIDDEN)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Whether `ip` is an address on the public internet: not loopback, private, shared (CGNAT),
/// link-local, multicast, broadcast, unspecified, documentation, benchmarking or reserved; an
/// IPv4-mapped or -compatible IPv6 address is judged by its IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        || first == 0x0064 && ip.segments()[1] == 0xff9b
        || ip.segments()[..6].iter().all(|s| *s == 0))
}

/// How long fetched documents are kept and how often they are fetched again.
#[derive(Debug, Clone)]
pub struct CachePolicy {
    /// A document is kept at least this long, whatever its server says.
    pub floor: Duration,
    /// And at most this long.
    pub ceiling: Duration,
    /// A URL is fetched again at most once per this interval (failures included).
    pub refetch_interval: Duration,
    /// When a fetch fails, a copy this much past its lifetime is still served.
    pub stale_for: Duration,
    /// At most this many URLs are kept (the oldest fetched goes first).
    pub max_entries: usize,
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self {
            floor: Duration::from_secs(5 * 60),
            ceiling: Duration::from_secs(24 * 3600),
            refetch_interval: Duration::from_secs(30),
            stale_for: Duration::from_secs(3600),
            max_entries: 10_000,
        }
    }
}

struct Entry {
    body: Option<Arc<[u8]>>,
    fetched_at: UnixTime,
    fresh_until: UnixTime,
    last_attempt: UnixTime,
    last_error: Option<FetchError>,
}

/// Documents by URL, fetched through a [`Fetcher`] and kept by a [`CachePolicy`].
pub struct DocumentCache {
    fetcher: Fetcher,
    policy: CachePolicy,
    media_types: &'static [&'static str],
    entries: Mutex<HashMap<String, Entry>>,
}

/// Whether [`DocumentCache::get`] may fetch before the copy it holds is stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// A fresh copy is enough.
    Cached,
    /// Fetch again (a key id the copy does not have), within the refetch interval's limit.
    Refetch,
}

impl DocumentCache {
    pub fn new(fetcher: Fetcher, policy: CachePolicy, media_types: &'static [&'static str]) -> Self {
        Self {
            fetcher,
            policy,
            media_types,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The document at `url` as of `now`.
    pub async fn get(&self, url: &Url, now: UnixTime, freshness: Freshness) -> Result<Arc<[u8]>, FetchError> {
        let key = url.as_str().to_owned();
        {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(entry) = entries.get_mut(&key) {
                let fresh = now < entry.fresh_until;
                let may_fetch = now >= entry.last_attempt + secs(self.policy.refetch_interval);
                match (&entry.body, fresh, freshness, may_fetch) {
                    (Some(body), true, Freshness::Cached, _) => return Ok(body.clone()),
                    (Some(body), true, Freshness::Refetch, false) => return Ok(body.clone()),
                    (_, _, _, false) => return self.stale_or(entry, now),
                    _ => entry.last_attempt = now,
                }
            }
        }
        let fetched = self.fetcher.fetch(url, self.media_types).await;
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match fetched {
            Ok(fetched) => {
                let keep = fetched
                    .max_age
                    .unwrap_or(self.policy.floor)
                    .clamp(self.policy.floor, self.policy.ceiling);
                if !entries.contains_key(&key) && entries.len() >= self.policy.max_entries {
                    let oldest = entries.iter().min_by_key(|(_, e)| e.fetched_at).map(|(k, _)| k.clone());
                    if let Some(oldest) = oldest {
                        entries.remove(&oldest);
                    }
                }
                entries.insert(
                    key,
                    Entry {
                        body: Some(fetched.body.clone()),
                        fetched_at: now,
                        fresh_until: now + secs(keep),
                        last_attempt: now,
                        last_error: None,
                    },
                );
                Ok(fetched.body)
            }
            Err(error) => {
                let entry = entries.entry(key).or_insert(Entry {
                    body: None,
                    fetched_at: now,
                    fresh_until: now,
                    last_attempt: now,
                    last_error: None,
                });
                entry.last_attempt = now;
                entry.last_error = Some(error.clone());
                self.stale_or(entry, now).map_err(|_| error)
            }
        }
    }

    /// Drops what is kept of `url`, so its next use fetches it again.
    pub fn forget(&self, url: &Url) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(url.as_str());
    }

    /// The copy held, if it is within its stale allowance; else the last error.
    fn stale_or(&self, entry: &Entry, now: UnixTime) -> Result<Arc<[u8]>, FetchError> {
        match &entry.body {
            Some(body) if now < entry.fresh_until + secs(self.policy.stale_for) => Ok(body.clone()),
            _ => Err(entry
                .last_error
                .clone()
                .unwrap_or_else(|| FetchError::Transport("fetched too recently to fetch again".into()))),
        }
    }
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:2800:220:1:248:1893:25c8:1946",
            "1.1.1.1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
    }

    #[test]
    fn cache_control_gives_a_lifetime() {
        assert_eq!(max_age("max-age=300"), Some(Duration::from_secs(300)));
        assert_eq!(
            max_age("public, max-age=60, must-revalidate"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("max-age=600, no-cache"), Some(Duration::ZERO));
        assert_eq!(max_age(""), None);
        assert_eq!(max_age("max-age=-1"), None);
    }

    #[test]
    fn media_types_are_compared_without_parameters() {
        assert!(accepted_type("application/json; charset=utf-8", &["application/json"]));
        assert!(accepted_type("Application/JSON", &["application/json"]));
        assert!(!accepted_type("text/html", &["application/json"]));
        assert!(!accepted_type("", &["application/json"]));
        assert!(!accepted_type("application/jsonx", &["application/json"]));
    }

    #[test]
    fn urls_are_checked_before_any_connection() {
        let strict = Fetcher::new(FetchPolicy::default()).unwrap();
        let dev = Fetcher::new(FetchPolicy {
            allow_loopback: true,
            ..FetchPolicy::default()
        })
        .unwrap();
        let url = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            strict.check_url(&url("http://example.com/x")),
            Err(FetchError::NotHttps)
        );
        assert_eq!(strict.check_url(&url("ftp://example.com/x")), Err(FetchError::NotHttps));
        assert_eq!(strict.check_url(&url("https://example.com/x")), Ok(()));
        assert_eq!(
            strict.check_url(&url("https://user:pw@example.com/x")),
            Err(FetchError::NotHttps)
        );
        assert_eq!(
            strict.check_url(&url("https://127.0.0.1/x")),
            Err(FetchError::ForbiddenAddress)
        );
        assert_eq!(
            strict.check_url(&url("https://[::1]/x")),
            Err(FetchError::ForbiddenAddress)
        );
        assert_eq!(
            strict.check_url(&url("https://10.0.0.1/x")),
            Err(FetchError::ForbiddenAddress)
        );
        assert_eq!(strict.check_url(&url("http://127.0.0.1/x")), Err(FetchError::NotHttps));
        // The development setting: http only to loopback hosts.
        assert_eq!(dev.check_url(&url("http://127.0.0.1:8080/x")), Ok(()));
        assert_eq!(dev.check_url(&url("http://localhost:8080/x")), Ok(()));
        assert_eq!(dev.check_url(&url("http://example.com/x")), Err(FetchError::NotHttps));
    }
}
