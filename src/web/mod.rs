//! Hosted pages: the authorization endpoint's front channel, sign-in, consent, the account
//! area, errors. Server-rendered (tera), no JavaScript, CSRF-protected forms, strict headers
//! (set by a layer in `app::router`).

pub mod account;
pub mod authorize;
pub mod browser;
pub mod consent;
pub mod error;
pub mod extract;
pub mod login;
pub mod logout;
pub mod otp;
pub mod pages;
pub mod paths;
pub mod reset;
pub mod security;

use std::ops::Deref;
use std::sync::Arc;

use zeroize::Zeroizing;

use crate::service::Services;

/// What the pages work with: the services, the templates and the CSRF key. Cheap to clone.
#[derive(Clone)]
pub struct WebState(Arc<WebContext>);

pub struct WebContext {
    pub services: Arc<Services>,
    pub pages: pages::Pages,
    /// Key of the CSRF tokens, derived from the KEK so every instance shares it.
    pub csrf_key: Zeroizing<[u8; 32]>,
}

impl WebState {
    pub fn new(services: Arc<Services>, pages: pages::Pages) -> Self {
        let csrf_key = services.kek.derive("keyhaven csrf v1");
        Self(Arc::new(WebContext {
            services,
            pages,
            csrf_key,
        }))
    }
}

impl Deref for WebState {
    type Target = WebContext;
    fn deref(&self) -> &WebContext {
        &self.0
    }
}

impl Deref for WebContext {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.services
    }
}
