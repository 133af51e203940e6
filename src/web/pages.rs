//! Templates, loaded once: the built-in pages, each overridable by a file of the same name in
//! `templates_dir`.

use std::path::Path;

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use tera::{Context, Tera};

use super::brand::Brand;
use super::locale;
use crate::i18n::Locale;

const BUILT_IN: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("consent.html", include_str!("../../templates/consent.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("message.html", include_str!("../../templates/message.html")),
    ("logout.html", include_str!("../../templates/logout.html")),
    ("otp.html", include_str!("../../templates/otp.html")),
    ("reset_request.html", include_str!("../../templates/reset_request.html")),
    ("reset_form.html", include_str!("../../templates/reset_form.html")),
    ("security.html", include_str!("../../templates/security.html")),
    ("account.html", include_str!("../../templates/account.html")),
    ("email_restore.html", include_str!("../../templates/email_restore.html")),
    ("account_nav.html", include_str!("../../templates/account_nav.html")),
    ("device.html", include_str!("../../templates/device.html")),
    ("device_done.html", include_str!("../../templates/device_done.html")),
];

pub const STYLESHEET: &str = include_str!("../../static/keyhaven.css");
pub const SCRIPT: &str = include_str!("../../static/keyhaven.js");
pub const FAVICON: &str = include_str!("../../static/favicon.svg");
/// The pages' one script: a "Show" button for password fields (the pages work without it).
pub const SHOW_PASSWORD_SCRIPT: &str = include_str!("../../static/show-password.js");
pub const PASSKEY_SCRIPT: &str = include_str!("../../static/passkeys.js");

pub struct Pages {
    tera: Tera,
    brand: Brand,
    /// What every page is given besides its own context: the brand name and which brand
    /// files there are (`brand_name`, `brand_logo`, `brand_css`, `brand_extra_css`).
    brand_context: Context,
    /// The language of a page answered outside the pages' language layer.
    default_locale: Locale,
}

impl Pages {
    pub fn load(dir: Option<&Path>, brand: Brand, default_locale: Locale) -> Result<Self, String> {
        let mut templates: Vec<(String, String)> = BUILT_IN
            .iter()
            .map(|(name, body)| ((*name).to_owned(), (*body).to_owned()))
            .collect();
        if let Some(dir) = dir {
            for (name, body) in &mut templates {
                let path = dir.join(&*name);
                if path.exists() {
                    *body =
                        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                }
            }
        }
        let mut tera = Tera::default();
        tera.autoescape_on(vec![".html"]);
        tera.register_function("fluent", locale::Fluent { html: false });
        tera.register_function("fluent_html", locale::Fluent { html: true });
        tera.add_raw_templates(templates)
            .map_err(|e| format!("bad template: {e:#}"))?;
        let mut brand_context = Context::new();
        brand_context.insert("brand_name", &brand.name);
        brand_context.insert("brand_logo", &brand.logo.is_some());
        brand_context.insert("brand_css", &brand.css.is_some());
        brand_context.insert("brand_extra_css", &brand.extra_css.is_some());
        Ok(Self {
            tera,
            brand,
            brand_context,
            default_locale,
        })
    }

    pub fn brand(&self) -> &Brand {
        &self.brand
    }

    /// The language of a page when the request does not choose one.
    pub fn default_locale(&self) -> Locale {
        self.default_locale
    }

    /// The language of this request's page.
    pub fn locale(&self) -> Locale {
        locale::current().unwrap_or(self.default_locale)
    }

    /// Renders a page; a template error is logged and answered with a bare 500.
    pub fn render(&self, status: StatusCode, name: &str, context: &Context) -> Response {
        let mut full = self.brand_context.clone();
        full.extend(context.clone());
        full.insert("lang", self.locale().as_str());
        match self.tera.render(name, &full) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(template = name, error = format!("{e:#}"), "template failed to render");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html("<h1>Something went wrong</h1>".to_owned()),
                )
                    .into_response()
            }
        }
    }

    /// An error page; `next` is where the person can go from here (path, words of the link).
    pub fn error(&self, status: StatusCode, title: &str, message: &str, next: Option<(&str, &str)>) -> Response {
        let mut context = Context::new();
        context.insert("title", title);
        context.insert("message", message);
        insert_next(&mut context, next);
        self.render(status, "error.html", &context)
    }

    /// A page that says how something ended, and where to go next.
    pub fn message(&self, title: &str, message: &str, next: (&str, &str)) -> Response {
        let mut context = Context::new();
        context.insert("title", title);
        context.insert("message", message);
        insert_next(&mut context, Some(next));
        self.render(StatusCode::OK, "message.html", &context)
    }
}

fn insert_next(context: &mut Context, next: Option<(&str, &str)>) {
    if let Some((href, label)) = next {
        context.insert("next_href", href);
        context.insert("next_label", label);
    }
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// The one script: the Copy button of the recovery codes (the page works without it).
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
        .into_response()
}

/// The icon, at `/favicon.ico` (where browsers look unasked) and at its own path.
pub async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

/// The "Show" button of password fields (the pages work without it).
pub async fn show_password_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SHOW_PASSWORD_SCRIPT,
    )
        .into_response()
}

/// The passkey ceremony of the sign-in page (the page works without it).
pub async fn passkey_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        PASSKEY_SCRIPT,
    )
        .into_response()
}
