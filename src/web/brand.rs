//! The operator's brand on the hosted pages: the product name, a logo, a primary colour and an
//! extra stylesheet (the `brand_*` settings). The files are read and checked once, at start;
//! a file that is missing, too large or of the wrong kind stops the server with a line naming
//! its setting. What the pages link to is served from memory.

use std::io::Read;
use std::path::Path;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::config::{ConfigError, Settings};
use crate::domain::color::{Rgb, AA_TEXT, BLACK, WHITE};

use super::WebState;

/// The most a logo or an extra stylesheet may weigh.
pub const MAX_FILE_BYTES: u64 = 256 * 1024;

/// The backgrounds that text in the primary colour sits on, as `static/keyhaven.css` defines
/// them (page, card, badge), in the light scheme and in the dark one.
const LIGHT_BACKGROUNDS: [Rgb; 3] = [
    Rgb::new(0xf3, 0xf5, 0xf8),
    Rgb::new(0xff, 0xff, 0xff),
    Rgb::new(0xe7, 0xee, 0xfc),
];
const DARK_BACKGROUNDS: [Rgb; 3] = [
    Rgb::new(0x0f, 0x13, 0x18),
    Rgb::new(0x1a, 0x1f, 0x27),
    Rgb::new(0x24, 0x33, 0x52),
];

/// An SVG may carry script: served as an image that may run nothing, even when opened alone.
pub const SVG_LOGO_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'";

/// Cached for an hour, like the built-in stylesheet: a changed brand shows within that.
const CACHE: &str = "public, max-age=3600";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoKind {
    Png,
    Svg,
    Webp,
}

impl LogoKind {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Svg => "image/svg+xml",
            Self::Webp => "image/webp",
        }
    }

    /// What the bytes are: PNG and WebP by their magic bytes, SVG by an `<svg>` root element
    /// (after an XML declaration, comments and a doctype); anything else is refused.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Some(Self::Png);
        }
        if bytes.get(0..4) == Some(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
            return Some(Self::Webp);
        }
        let text = std::str::from_utf8(bytes).ok()?;
        has_svg_root(text.strip_prefix('\u{feff}').unwrap_or(text)).then_some(Self::Svg)
    }
}

/// Whether the first element of an XML text is `<svg ...>`.
fn has_svg_root(mut text: &str) -> bool {
    loop {
        text = text.trim_start();
        let skipped = if text.starts_with("<?") {
            text.find("?>").map(|end| end + 2)
        } else if text.starts_with("<!--") {
            text.find("-->").map(|end| end + 3)
        } else if text.starts_with("<!DOCTYPE") || text.starts_with("<!doctype") {
            // An internal subset (`[...]`) may hold `>`; it ends with `]>`.
            match (text.find('['), text.find('>')) {
                (Some(open), Some(close)) if open < close => text.find("]>").map(|end| end + 2),
                (_, Some(close)) => Some(close + 1),
                _ => None,
            }
        } else {
            let Some(rest) = text.strip_prefix("<svg") else {
                return false;
            };
            return rest
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_whitespace() || c == '>' || c == '/');
        };
        match skipped.and_then(|at| text.get(at..)) {
            Some(rest) => text = rest,
            None => return false,
        }
    }
}

pub struct Logo {
    pub kind: LogoKind,
    pub bytes: Bytes,
}

/// The brand, as the pages use it.
pub struct Brand {
    pub name: String,
    pub logo: Option<Logo>,
    /// `/static/brand.css`: the primary colour as custom properties, when one is set.
    pub css: Option<String>,
    /// `/static/brand-extra.css`: the operator's own stylesheet, when one is set.
    pub extra_css: Option<String>,
}

impl Brand {
    /// Reads and checks the brand files named by the settings.
    pub fn load(settings: &Settings) -> Result<Self, ConfigError> {
        let logo = match &settings.brand_logo {
            None => None,
            Some(path) => {
                let bytes = read_small_file(path).map_err(|m| ConfigError::invalid("brand_logo", m))?;
                let kind = LogoKind::sniff(&bytes).ok_or_else(|| {
                    ConfigError::invalid(
                        "brand_logo",
                        format!("{} is not a PNG, SVG or WebP image", path.display()),
                    )
                })?;
                Some(Logo {
                    kind,
                    bytes: Bytes::from(bytes),
                })
            }
        };
        let extra_css = match &settings.brand_stylesheet {
            None => None,
            Some(path) => {
                let bytes = read_small_file(path).map_err(|m| ConfigError::invalid("brand_stylesheet", m))?;
                Some(String::from_utf8(bytes).map_err(|_| {
                    ConfigError::invalid("brand_stylesheet", format!("{} is not UTF-8 text", path.display()))
                })?)
            }
        };
        Ok(Self {
            name: settings.brand_name.clone(),
            logo,
            css: settings.brand_primary_color.map(primary_css),
            extra_css,
        })
    }
}

fn read_small_file(path: &Path) -> Result<Vec<u8>, String> {
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_FILE_BYTES {
        return Err(format!("{} is larger than 256 KiB", path.display()));
    }
    Ok(bytes)
}

/// The stylesheet of a primary colour: the colour itself for buttons, with black or white text
/// on it (whichever contrasts more), and for text in that colour (links, the name) the nearest
/// shade that reaches 4.5:1 on the light backgrounds, and on the dark ones in dark mode.
pub fn primary_css(primary: Rgb) -> String {
    let on_light = primary.readable_on(&LIGHT_BACKGROUNDS, BLACK, AA_TEXT);
    let on_dark = primary.readable_on(&DARK_BACKGROUNDS, WHITE, AA_TEXT);
    format!(
        "/* Made by Keyhaven at start from brand_primary_color. */\n\
         :root {{ --primary: {primary}; --primary-contrast: {contrast}; --primary-text: {on_light}; }}\n\
         @media (prefers-color-scheme: dark) {{\n  :root {{ --primary-text: {on_dark}; }}\n}}\n",
        contrast = primary.contrast_text(),
    )
}

fn asset(content_type: &'static str, body: impl IntoResponse) -> Response {
    (
        [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, CACHE)],
        body,
    )
        .into_response()
}

/// `/static/brand-logo` (mounted only when `brand_logo` is set).
pub async fn logo(State(state): State<WebState>) -> Response {
    let Some(logo) = &state.pages.brand().logo else {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    };
    let mut response = asset(logo.kind.content_type(), logo.bytes.clone());
    if logo.kind == LogoKind::Svg {
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(SVG_LOGO_CSP));
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    }
    response
}

/// `/static/brand.css` (mounted only when `brand_primary_color` is set).
pub async fn stylesheet(State(state): State<WebState>) -> Response {
    match &state.pages.brand().css {
        Some(css) => asset("text/css; charset=utf-8", css.clone()),
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

/// `/static/brand-extra.css` (mounted only when `brand_stylesheet` is set).
pub async fn extra_stylesheet(State(state): State<WebState>) -> Response {
    match &state.pages.brand().extra_css {
        Some(css) => asset("text/css; charset=utf-8", css.clone()),
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logos_are_known_by_their_bytes() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(LogoKind::sniff(png), Some(LogoKind::Png));
        assert_eq!(LogoKind::sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some(LogoKind::Webp));
        for svg in [
            "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            "\u{feff}<?xml version=\"1.0\"?>\n<!-- logo -->\n<svg>\n</svg>",
            "<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x.dtd\"><svg\nviewBox=\"0 0 1 1\"></svg>",
            "<!DOCTYPE svg [ <!ENTITY a \">\"> ]><svg/>",
        ] {
            assert_eq!(LogoKind::sniff(svg.as_bytes()), Some(LogoKind::Svg), "{svg}");
        }
        for other in [
            &b"GIF89a"[..],
            b"<html><svg></svg></html>",
            b"<svgfoo/>",
            b"<?xml version=\"1.0\"?><!-- never closed",
            b"RIFF\0\0\0\0WAVE",
            b"\xff\xd8\xff\xe0 jpeg",
            b"",
            b"plain text",
        ] {
            assert_eq!(LogoKind::sniff(other), None, "{}", String::from_utf8_lossy(other));
        }
    }

    #[test]
    fn the_primary_stylesheet_keeps_text_readable() {
        let css = primary_css(Rgb::parse("#ffd400").unwrap());
        assert!(css.contains("--primary: #ffd400;"), "{css}");
        assert!(css.contains("--primary-contrast: #000000;"), "{css}");
        let css = primary_css(Rgb::parse("#2456c9").unwrap());
        assert!(css.contains("--primary-contrast: #ffffff;"), "{css}");
        assert!(css.contains("--primary-text: #2456c9;"), "{css}");
        assert!(css.contains("prefers-color-scheme: dark"), "{css}");
    }

    #[test]
    fn the_backgrounds_are_those_of_the_built_in_stylesheet() {
        let css = super::super::pages::STYLESHEET;
        for (name, light, dark) in [("--bg", 0, 0), ("--surface", 1, 1), ("--badge-bg", 2, 2)] {
            for (scheme, colour) in [("light", LIGHT_BACKGROUNDS[light]), ("dark", DARK_BACKGROUNDS[dark])] {
                let declaration = format!("{name}: {colour};");
                assert!(
                    css.contains(&declaration),
                    "{scheme}: {declaration} not in keyhaven.css"
                );
            }
        }
    }
}
