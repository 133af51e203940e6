#![no_main]
//! The admin API's request bodies and query strings (`parse_body`, `parse_query` and the typed
//! structs of `http::admin`): they never panic, every error names a field, and what they accept
//! keeps the bounds the OpenAPI document declares. A client body that is accepted is applied to
//! a registration, which either passes its own rules or names the field at fault.
//!
//! Input: a first byte choosing the request, then the body or query string.

use keyhaven::domain::client::ClientRegistration;
use keyhaven::domain::user::{Email, Username};
use keyhaven::http::admin::{
    parse_body, parse_query, Audiences, ClientChanges, ClientName, EventQuery, FieldError, GrantTypes, Limit,
    NewClient, NewUser, Offset, Password, Permissions, RedirectUris, ScopeTokens, UserChanges, UserQuery,
};
use keyhaven::service::clients::ClientError;
use libfuzzer_sys::fuzz_target;

fn named<T>(result: Result<T, FieldError>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(e) => {
            assert!(!e.field.is_empty(), "an error names no field: {e:?}");
            None
        }
    }
}

fn check_client(c: &ClientChanges) {
    if let Some(name) = &c.name {
        let length = name.as_str().chars().count();
        assert!((ClientName::MIN_CHARS..=ClientName::MAX_CHARS).contains(&length));
    }
    let counts = [
        c.redirect_uris
            .as_ref()
            .map(|l| (l.items().len(), RedirectUris::MAX_ITEMS)),
        c.post_logout_redirect_uris
            .as_ref()
            .map(|l| (l.items().len(), RedirectUris::MAX_ITEMS)),
        c.grant_types.as_ref().map(|l| (l.items().len(), GrantTypes::MAX_ITEMS)),
        c.scopes.as_ref().map(|l| (l.items().len(), ScopeTokens::MAX_ITEMS)),
        c.audiences.as_ref().map(|l| (l.items().len(), Audiences::MAX_ITEMS)),
        c.permissions
            .as_ref()
            .map(|l| (l.items().len(), Permissions::MAX_ITEMS)),
    ];
    for (count, max) in counts.into_iter().flatten() {
        assert!(count <= max);
    }
}

fn apply(changes: ClientChanges) {
    check_client(&changes);
    let Some(changes) = named(changes.into_changes()) else {
        return;
    };
    let mut reg = ClientRegistration::new("fuzz");
    match changes.apply(&mut reg) {
        Ok(()) => assert!(reg.validate().is_ok()),
        Err(ClientError::Invalid { field, .. }) => assert!(!field.is_empty()),
        Err(e) => panic!("a registration fails without a field: {e}"),
    }
}

fn check_page(offset: &Offset, limit: &Limit) {
    assert!((Offset::MIN_VALUE..=Offset::MAX_VALUE).contains(&offset.get()));
    assert!((Limit::MIN_VALUE..=Limit::MAX_VALUE).contains(&limit.get()));
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, input)) = data.split_first() else {
        return;
    };
    match which % 6 {
        0 => {
            if let Some(new) = named(parse_body::<NewClient>(input)) {
                apply(ClientChanges::from(new));
            }
        }
        1 => {
            if let Some(changes) = named(parse_body::<ClientChanges>(input)) {
                apply(changes);
            }
        }
        2 => {
            if let Some(new) = named(parse_body::<NewUser>(input)) {
                // What is kept reads back as itself.
                let username = &new.username.0;
                assert_eq!(Username::parse(username.as_str()).as_ref(), Ok(username));
                let email = &new.email.0;
                assert_eq!(Email::parse(email.as_str()).as_ref(), Ok(email));
                let length = new.password.as_str().chars().count();
                assert!((Password::MIN_CHARS..=Password::MAX_CHARS).contains(&length));
            }
        }
        3 => {
            let _ = named(parse_body::<UserChanges>(input));
        }
        4 => {
            let Ok(query) = std::str::from_utf8(input) else { return };
            if let Some(q) = named(parse_query::<UserQuery>(query)) {
                check_page(&q.offset, &q.limit);
            }
        }
        _ => {
            let Ok(query) = std::str::from_utf8(input) else { return };
            if let Some(q) = named(parse_query::<EventQuery>(query)) {
                check_page(&q.offset, &q.limit);
            }
        }
    }
});
