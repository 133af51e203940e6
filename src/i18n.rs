//! The languages of the pages and of mail: the message catalogues (Fluent, `locales/<lang>/*.ftl`,
//! built into the binary), the languages we ship, and how one is chosen for a request
//! (`ui_locales`, then `Accept-Language`, then the `default_locale` setting).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

use crate::domain::UnixTime;

fluent_templates::static_loader! {
    static CATALOGUES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around variables: the pages and mail are plain text in
        // one direction, and the marks would show up in mail and in tests.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A language we ship a catalogue for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Locale {
    #[default]
    En,
    De,
}

impl Locale {
    pub const SUPPORTED: [Locale; 2] = [Locale::En, Locale::De];

    /// The language tag (`en`, `de`).
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::De => "de",
        }
    }

    /// A shipped language for a tag, by its primary subtag (`de-AT` is `de`); None otherwise.
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?;
        Self::SUPPORTED
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(primary))
    }

    fn langid(self) -> LanguageIdentifier {
        match self {
            Locale::En => fluent_templates::langid!("en"),
            Locale::De => fluent_templates::langid!("de"),
        }
    }

    /// The message `key`, without variables.
    pub fn text(self, key: &str) -> String {
        CATALOGUES.lookup(&self.langid(), key)
    }

    /// The message `key` with its variables (numbers are Fluent numbers, so plurals work).
    pub fn text_with(self, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    Arg::Str(s) => FluentValue::from((*s).to_owned()),
                    Arg::Num(n) => FluentValue::from(*n),
                };
                (Cow::Owned((*name).to_owned()), value)
            })
            .collect();
        CATALOGUES.lookup_with_args(&self.langid(), key, &args)
    }

    /// A time as people of this language read it, in UTC and saying so: "5 December 2026,
    /// 14:03 UTC", "5. Dezember 2026, 14:03 UTC". No time zone per person is stored.
    pub fn readable_time(self, at: UnixTime) -> String {
        let days = at.div_euclid(86_400);
        let seconds = at.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let month_name = self.text(&format!("month-{month}"));
        self.text_with(
            "date-time",
            &[
                ("day", Arg::Num(day)),
                ("month", Arg::Str(&month_name)),
                ("year", Arg::Str(&year.to_string())),
                (
                    "time",
                    Arg::Str(&format!("{:02}:{:02}", seconds / 3600, (seconds % 3600) / 60)),
                ),
            ],
        )
    }

    /// The language for a request: the first shipped one of `ui_locales` (space-separated, in
    /// order of preference), else the best of `Accept-Language` by q-value, else `default`.
    pub fn negotiate(ui_locales: Option<&str>, accept_language: Option<&str>, default: Locale) -> Locale {
        ui_locales
            .and_then(|u| u.split_whitespace().take(MAX_TAGS).find_map(Locale::from_tag))
            .or_else(|| accept_language.and_then(from_accept_language))
            .unwrap_or(default)
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Locale {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let supported = Self::SUPPORTED.map(Locale::as_str).join(", ");
        // Only an exact shipped tag: a setting names the language, not a preference.
        Self::SUPPORTED
            .into_iter()
            .find(|l| l.as_str() == s.trim())
            .ok_or_else(|| format!("`{s}` is not a shipped language ({supported})"))
    }
}

/// A value for a message variable.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Str(&'a str),
    Num(i64),
}

/// At most this many language tags of a header or parameter are looked at.
const MAX_TAGS: usize = 32;

/// The shipped language the `Accept-Language` header (RFC 9110 §12.5.4) prefers most: by
/// q-value, then by order; `q=0` means "not this one", `*` adds nothing.
fn from_accept_language(header: &str) -> Option<Locale> {
    let mut best: Option<(u16, Locale)> = None;
    for item in header.split(',').take(MAX_TAGS) {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
            .map_or(Some(1000), parse_q);
        let (Some(q), Some(locale)) = (q, Locale::from_tag(tag)) else {
            continue;
        };
        if q > 0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, locale));
        }
    }
    best.map(|(_, l)| l)
}

/// A q-value in thousandths ("0.8" is 800); None when it does not parse.
fn parse_q(text: &str) -> Option<u16> {
    let value: f32 = text.trim().parse().ok()?;
    (0.0..=1.0).contains(&value).then(|| (value * 1000.0).round() as u16)
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    /// The message ids of every `.ftl` file of one language folder.
    fn keys_of(lang: &str) -> BTreeSet<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales").join(lang);
        let mut keys = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "ftl") {
                for line in std::fs::read_to_string(&path).unwrap().lines() {
                    if line.starts_with(|c: char| c.is_ascii_lowercase()) {
                        if let Some((id, _)) = line.split_once('=') {
                            assert!(keys.insert(id.trim().to_owned()), "{lang}: {} twice", id.trim());
                        }
                    }
                }
            }
        }
        keys
    }

    #[test]
    fn every_language_has_every_key() {
        let en = keys_of("en");
        assert!(en.len() > 100, "{}", en.len());
        for locale in Locale::SUPPORTED {
            let other = keys_of(locale.as_str());
            let missing: Vec<_> = en.difference(&other).collect();
            let extra: Vec<_> = other.difference(&en).collect();
            assert!(missing.is_empty(), "{locale} lacks {missing:?}");
            assert!(extra.is_empty(), "{locale} has keys English lacks: {extra:?}");
            // Every variable any message uses, so each formats without an error.
            let args: Vec<(&str, Arg<'_>)> = [
                "address",
                "agent",
                "app",
                "at",
                "brand",
                "browser",
                "client",
                "code",
                "count",
                "day",
                "device",
                "email",
                "host",
                "issuer",
                "max",
                "minutes",
                "month",
                "name",
                "new_email",
                "os",
                "scope",
                "time",
                "try_again",
                "until",
                "username",
                "what",
                "year",
            ]
            .into_iter()
            .map(|name| {
                let number = matches!(name, "minutes" | "count");
                (name, if number { Arg::Num(2) } else { Arg::Str("x") })
            })
            .collect();
            for key in &en {
                let text = locale.text_with(key, &args);
                assert!(
                    !text.is_empty() && !text.contains("Unknown localization key"),
                    "{locale} {key}: {text}"
                );
            }
        }
    }

    #[test]
    fn times_read_as_words_in_each_language() {
        assert_eq!(Locale::En.readable_time(1_796_479_380), "5 December 2026, 14:03 UTC");
        assert_eq!(Locale::En.readable_time(0), "1 January 1970, 00:00 UTC");
        assert_eq!(Locale::En.readable_time(951_782_400), "29 February 2000, 00:00 UTC");
        assert_eq!(Locale::De.readable_time(1_796_479_380), "5. Dezember 2026, 14:03 UTC");
        assert_eq!(Locale::De.readable_time(951_782_400), "29. Februar 2000, 00:00 UTC");
    }

    #[test]
    fn minutes_take_their_plural() {
        let minutes = |l: Locale, n| l.text_with("try-again-in", &[("minutes", Arg::Num(n))]);
        assert_eq!(minutes(Locale::En, 1), "Try again in about 1 minute.");
        assert_eq!(minutes(Locale::En, 5), "Try again in about 5 minutes.");
        assert_eq!(minutes(Locale::De, 1), "Versuchen Sie es in etwa 1 Minute erneut.");
        assert_eq!(minutes(Locale::De, 5), "Versuchen Sie es in etwa 5 Minuten erneut.");
    }

    #[test]
    fn the_language_is_negotiated() {
        use Locale::*;
        let cases: &[(Option<&str>, Option<&str>, Locale, Locale)] = &[
            (None, None, En, En),
            (None, None, De, De),
            (None, Some("de-DE,de;q=0.9,en;q=0.8"), En, De),
            (None, Some("en;q=0.5, de;q=0.9"), En, De),
            (None, Some("fr, de;q=0.1"), En, De),
            (None, Some("fr, it"), De, De),
            (None, Some("fr, it"), En, En),
            (None, Some("de;q=0, en;q=0.1"), De, En),
            (None, Some("*"), De, De),
            (None, Some("de;q=bogus, en;q=0.2"), De, En),
            (Some("de"), Some("en"), En, De),
            (Some("fr de-CH"), Some("en"), En, De),
            (Some("fr"), Some("de"), En, De),
            (Some("fr"), None, De, De),
        ];
        for (ui, accept, default, want) in cases {
            assert_eq!(
                Locale::negotiate(*ui, *accept, *default),
                *want,
                "{ui:?} {accept:?} {default:?}"
            );
        }
    }

    #[test]
    fn a_setting_names_a_shipped_language_exactly() {
        assert_eq!("de".parse::<Locale>(), Ok(Locale::De));
        assert_eq!(" en ".parse::<Locale>(), Ok(Locale::En));
        assert!("fr".parse::<Locale>().is_err());
        assert!("de-AT".parse::<Locale>().is_err());
    }
}
