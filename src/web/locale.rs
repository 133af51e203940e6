//! The language of a page. A layer on every page chooses it from `Accept-Language` and the
//! `default_locale` setting; a page of an authorization flow then prefers the `ui_locales` its
//! request was sent with ([`prefer_ui_locales`]). The choice lives for the one request (a
//! task-local), so the templates, the error layer and the words built in Rust all use it
//! without every handler passing it along.

use std::cell::Cell;
use std::collections::HashMap;

use axum::extract::{Request, State};
use axum::http::header::ACCEPT_LANGUAGE;
use axum::middleware::Next;
use axum::response::Response;

use super::WebState;
use crate::i18n::{Arg, Locale};

tokio::task_local! {
    static CURRENT: Cell<Locale>;
}

/// The layer that chooses the language of every page.
pub async fn choose(State(state): State<WebState>, request: Request, next: Next) -> Response {
    let locale = of_headers(request.headers(), state.settings.default_locale);
    CURRENT.scope(Cell::new(locale), next.run(request)).await
}

/// The language for a browser's request by its headers alone (no `ui_locales`).
pub fn of_headers(headers: &axum::http::HeaderMap, default: Locale) -> Locale {
    let accept = headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    Locale::negotiate(None, accept, default)
}

/// Runs `f` with `locale` as the language (for pages answered outside the pages' layers).
pub fn within<R>(locale: Locale, f: impl FnOnce() -> R) -> R {
    CURRENT.sync_scope(Cell::new(locale), f)
}

/// The language of this request, if a page layer chose one.
pub fn current() -> Option<Locale> {
    CURRENT.try_with(Cell::get).ok()
}

/// A page of an authorization flow: the `ui_locales` of its request come first.
pub fn prefer_ui_locales(ui_locales: Option<&str>) {
    if let Some(locale) = ui_locales.and_then(|u| u.split_whitespace().take(32).find_map(Locale::from_tag)) {
        let _ = CURRENT.try_with(|c| c.set(locale));
    }
}

/// The message `key` in the language of this request.
pub fn t(key: &str) -> String {
    current().unwrap_or_default().text(key)
}

/// The message `key` with variables, in the language of this request.
pub fn t_with(key: &str, args: &[(&str, Arg<'_>)]) -> String {
    current().unwrap_or_default().text_with(key, args)
}

/// `{{ fluent(key="...", lang=lang, name=value...) }}` in a template: the message in `lang`,
/// the other arguments its variables. Escaped like any output.
pub struct Fluent {
    /// Variables are HTML-escaped and the result is not escaped again, so the message itself
    /// may hold markup (`fluent_html`).
    pub html: bool,
}

impl tera::Function for Fluent {
    fn call(&self, args: &HashMap<String, tera::Value>) -> tera::Result<tera::Value> {
        let key = args
            .get("key")
            .and_then(tera::Value::as_str)
            .ok_or_else(|| tera::Error::msg("fluent: `key` is missing"))?;
        let locale = args
            .get("lang")
            .and_then(tera::Value::as_str)
            .and_then(Locale::from_tag)
            .unwrap_or_default();
        let texts: Vec<(&str, String)> = args
            .iter()
            .filter(|(name, _)| name.as_str() != "key" && name.as_str() != "lang")
            .filter_map(|(name, value)| {
                let text = match value {
                    tera::Value::String(s) => s.clone(),
                    tera::Value::Null => return None,
                    other => other.to_string(),
                };
                let text = if self.html { tera::escape_html(&text) } else { text };
                Some((name.as_str(), text))
            })
            .collect();
        let numbers: Vec<(&str, Option<i64>)> = args
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_i64()))
            .collect();
        let fluent_args: Vec<(&str, Arg<'_>)> = texts
            .iter()
            .map(|(name, text)| {
                let number = numbers.iter().find(|(n, _)| n == name).and_then(|(_, v)| *v);
                (*name, number.map_or(Arg::Str(text), Arg::Num))
            })
            .collect();
        Ok(tera::Value::String(locale.text_with(key, &fluent_args)))
    }

    fn is_safe(&self) -> bool {
        self.html
    }
}
