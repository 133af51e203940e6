//! Identifiers that are all strings on the wire and in the store, and easy to mix up in code: a
//! client's id passed where a person's is expected compiles no more. Each is made from a
//! string at the edge (`From<String>`) and read as one (`as_str`, `Display`); none is a secret,
//! so `Debug` prints it.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl From<&$name> for String {
            fn from(value: &$name) -> Self {
                value.0.clone()
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        /// Read as the string it is (to bind in SQL, to put in a token or a page).
        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

string_id!(
    /// A registered client's `client_id`.
    ClientId
);
string_id!(
    /// A person's id: the `sub` of their tokens.
    UserId
);
string_id!(
    /// A sign-in session's id: the `sid` of its tokens.
    SessionId
);
string_id!(
    /// A refresh-token family's id: the `fid` of its access tokens.
    FamilyId
);
string_id!(
    /// A resource server an access token is for: a value of its `aud`.
    Audience
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_as_their_string_and_print_their_kind() {
        let id = ClientId::from("khc-1");
        assert_eq!(id, "khc-1");
        assert_eq!(id.to_string(), "khc-1");
        assert_eq!(format!("{id:?}"), "ClientId(\"khc-1\")");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"khc-1\"");
    }
}
