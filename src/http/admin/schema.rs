//! Bounded values of the admin API: each type enforces its bounds when deserialized and
//! declares them in its schema, so the OpenAPI document and the checks cannot differ.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Error as _, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::crypto::keys::KeyState;
use crate::domain::client::{
    AuthMethod, ClientOrigin, ClientType, GrantType, Permission, RedirectUri, MAX_CLIENT_KEYS,
};
use crate::domain::user::{is_settable_claim, scope_claims, Email, Username, CLAIM_SCOPES};
use crate::domain::SigningAlg;

fn string_schema() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// A string of `MIN` to `MAX` characters (Unicode scalar values, as JSON Schema counts them).
pub struct Text<const MIN: usize, const MAX: usize>(pub(super) String);

impl<const MIN: usize, const MAX: usize> Text<MIN, MAX> {
    pub const MIN_CHARS: usize = MIN;
    pub const MAX_CHARS: usize = MAX;

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<'de, const MIN: usize, const MAX: usize> Deserialize<'de> for Text<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let length = text.chars().count();
        if !(MIN..=MAX).contains(&length) {
            return Err(D::Error::custom(format!("must be {MIN} to {MAX} characters")));
        }
        Ok(Self(text))
    }
}

impl<const MIN: usize, const MAX: usize> PartialSchema for Text<MIN, MAX> {
    fn schema() -> RefOr<Schema> {
        string_schema().min_length(Some(MIN)).max_length(Some(MAX)).into()
    }
}

impl<const MIN: usize, const MAX: usize> ToSchema for Text<MIN, MAX> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("Text{MIN}to{MAX}"))
    }
}

/// A list of at most `MAX` items; refused as soon as the item past the bound is read.
pub struct List<T, const MAX: usize>(pub(super) Vec<T>);

impl<T, const MAX: usize> List<T, MAX> {
    pub const MAX_ITEMS: usize = MAX;

    pub fn items(&self) -> &[T] {
        &self.0
    }
}

impl<'de, T: Deserialize<'de>, const MAX: usize> Deserialize<'de> for List<T, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Items<T, const MAX: usize>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const MAX: usize> Visitor<'de> for Items<T, MAX> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a list of at most {MAX} items")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    if items.len() == MAX {
                        return Err(A::Error::custom(format!("must have at most {MAX} items")));
                    }
                    items.push(item);
                }
                Ok(items)
            }
        }
        deserializer.deserialize_seq(Items::<T, MAX>(PhantomData)).map(Self)
    }
}

impl<T: PartialSchema, const MAX: usize> PartialSchema for List<T, MAX> {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new().items(T::schema()).max_items(Some(MAX)).into()
    }
}

impl<T: PartialSchema, const MAX: usize> ToSchema for List<T, MAX> {}

/// A whole number from `MIN` to `MAX`.
pub struct Int<const MIN: i64, const MAX: i64>(pub(super) i64);

impl<const MIN: i64, const MAX: i64> Int<MIN, MAX> {
    pub const MIN_VALUE: i64 = MIN;
    pub const MAX_VALUE: i64 = MAX;

    pub fn get(&self) -> i64 {
        self.0
    }
}

impl<'de, const MIN: i64, const MAX: i64> Deserialize<'de> for Int<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(deserializer)?;
        if !(MIN..=MAX).contains(&value) {
            return Err(D::Error::custom(format!("must be {MIN} to {MAX}")));
        }
        Ok(Self(value))
    }
}

impl<const MIN: i64, const MAX: i64> PartialSchema for Int<MIN, MAX> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(MIN))
            .maximum(Some(MAX))
            .into()
    }
}

impl<const MIN: i64, const MAX: i64> ToSchema for Int<MIN, MAX> {}

/// How many items a page holds: 1 to 1000, 50 when not given.
pub type Limit = Int<1, 1000>;
/// How many items to skip: 0 to 1,000,000 (an SQL `OFFSET` costs what it skips).
pub type Offset = Int<0, 1_000_000>;

impl Default for Int<1, 1000> {
    fn default() -> Self {
        Self(50)
    }
}

impl Default for Int<0, 1_000_000> {
    fn default() -> Self {
        Self(0)
    }
}

/// A string enum's schema, from the values serde writes for `all` (so the two cannot differ).
fn enum_schema<T: Serialize>(all: &[T], description: &str) -> RefOr<Schema> {
    string_schema()
        .enum_values(Some(all.iter().filter_map(|v| serde_json::to_value(v).ok())))
        .description(Some(description))
        .into()
}

/// Every variant of the domain's enums; the `match`es fail to compile when one is added.
const CLIENT_TYPES: [ClientType; 2] = [ClientType::Confidential, ClientType::Public];
const PERMISSIONS: [Permission; 1] = [Permission::Introspect];
const KEY_STATES: [KeyState; 3] = [KeyState::Next, KeyState::Active, KeyState::Retired];
const ORIGINS: [ClientOrigin; 3] = [
    ClientOrigin::Operator,
    ClientOrigin::Registered,
    ClientOrigin::MetadataDocument,
];
#[allow(dead_code)]
fn every_origin_is_listed(o: ClientOrigin) {
    match o {
        ClientOrigin::Operator | ClientOrigin::Registered | ClientOrigin::MetadataDocument => {}
    }
}
#[allow(dead_code)]
fn every_variant_is_listed(t: ClientType, p: Permission, s: KeyState) {
    match t {
        ClientType::Confidential | ClientType::Public => {}
    }
    match p {
        Permission::Introspect => {}
    }
    match s {
        KeyState::Next | KeyState::Active | KeyState::Retired => {}
    }
}

impl PartialSchema for GrantType {
    fn schema() -> RefOr<Schema> {
        enum_schema(&GrantType::ALL, "An OAuth grant (no implicit, no password grant).")
    }
}
impl ToSchema for GrantType {}

impl PartialSchema for ClientType {
    fn schema() -> RefOr<Schema> {
        enum_schema(&CLIENT_TYPES, "RFC 6749 client type; a public client has no secret.")
    }
}
impl ToSchema for ClientType {}

impl PartialSchema for AuthMethod {
    fn schema() -> RefOr<Schema> {
        enum_schema(
            &AuthMethod::ALL,
            "How the client authenticates (token_endpoint_auth_method): a secret (basic or post), \
             none (a public client), or a JWT signed with a key of its jwks or jwks_uri (private_key_jwt).",
        )
    }
}
impl ToSchema for AuthMethod {}

impl PartialSchema for ClientOrigin {
    fn schema() -> RefOr<Schema> {
        enum_schema(
            &ORIGINS,
            "Who made the client: an operator (verified), dynamic registration or a metadata document.",
        )
    }
}
impl ToSchema for ClientOrigin {}

impl PartialSchema for Permission {
    fn schema() -> RefOr<Schema> {
        enum_schema(&PERMISSIONS, "What a client may do beyond OAuth grants.")
    }
}
impl ToSchema for Permission {}

impl PartialSchema for SigningAlg {
    fn schema() -> RefOr<Schema> {
        enum_schema(&SigningAlg::ALL, "JWS signing algorithm.")
    }
}
impl ToSchema for SigningAlg {}

/// The algorithm of a client's ID tokens: RS256 or ES256 (EdDSA signs access tokens only).
pub struct IdTokenAlg(pub SigningAlg);

impl<'de> Deserialize<'de> for IdTokenAlg {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let alg = SigningAlg::deserialize(deserializer)?;
        if !alg.signs_id_tokens() {
            return Err(D::Error::custom("ID tokens are signed with RS256 or ES256"));
        }
        Ok(Self(alg))
    }
}

impl Serialize for IdTokenAlg {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl PartialSchema for IdTokenAlg {
    fn schema() -> RefOr<Schema> {
        enum_schema(&SigningAlg::ID_TOKEN, "JWS signing algorithm of ID tokens.")
    }
}
impl ToSchema for IdTokenAlg {}

impl PartialSchema for KeyState {
    fn schema() -> RefOr<Schema> {
        enum_schema(
            &KEY_STATES,
            "next (published, not signing), active (signs), retired (published)",
        )
    }
}
impl ToSchema for KeyState {}

/// A redirect URI as [`RedirectUri::parse`] accepts it, of at most 2000 characters.
pub struct Uri(pub RedirectUri);

impl Uri {
    pub const MAX_CHARS: usize = 2000;
}

impl<'de> Deserialize<'de> for Uri {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Text::<1, { Uri::MAX_CHARS }>::deserialize(deserializer)?;
        RedirectUri::parse(raw.as_str()).map(Self).map_err(D::Error::custom)
    }
}

impl PartialSchema for Uri {
    fn schema() -> RefOr<Schema> {
        string_schema()
            .format(Some(SchemaFormat::Custom("uri".into())))
            .min_length(Some(1))
            .max_length(Some(Self::MAX_CHARS))
            .description(Some(
                "Absolute, no fragment: https, http only to a loopback host, or a private-use \
                 scheme with a period (RFC 8252).",
            ))
            .into()
    }
}
impl ToSchema for Uri {}

/// One RFC 6749 §3.3 scope token: visible ASCII but `"` and `\`.
pub struct ScopeToken(pub String);

impl ScopeToken {
    pub const MAX_CHARS: usize = 128;
    pub const PATTERN: &'static str = r"^[!#-\[\]-~]+$";
}

impl<'de> Deserialize<'de> for ScopeToken {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let token = Text::<1, { ScopeToken::MAX_CHARS }>::deserialize(deserializer)?.into_string();
        if !token
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\')
        {
            return Err(D::Error::custom(
                "a scope token is visible ASCII other than '\"' and '\\'",
            ));
        }
        Ok(Self(token))
    }
}

impl PartialSchema for ScopeToken {
    fn schema() -> RefOr<Schema> {
        string_schema()
            .min_length(Some(1))
            .max_length(Some(Self::MAX_CHARS))
            .pattern(Some(Self::PATTERN))
            .into()
    }
}
impl ToSchema for ScopeToken {}

/// An audience (resource server identifier): no white space.
pub struct Audience(pub String);

impl Audience {
    pub const MAX_CHARS: usize = 512;
    pub const PATTERN: &'static str = r"^\S+$";
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let audience = Text::<1, { Audience::MAX_CHARS }>::deserialize(deserializer)?.into_string();
        if audience.chars().any(char::is_whitespace) {
            return Err(D::Error::custom("an audience has no white space"));
        }
        Ok(Self(audience))
    }
}

impl PartialSchema for Audience {
    fn schema() -> RefOr<Schema> {
        string_schema()
            .min_length(Some(1))
            .max_length(Some(Self::MAX_CHARS))
            .pattern(Some(Self::PATTERN))
            .into()
    }
}
impl ToSchema for Audience {}

/// A username as [`Username::parse`] accepts it (at most 64 characters as sent, too).
pub struct UsernameIn(pub Username);

impl<'de> Deserialize<'de> for UsernameIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Text::<1, 64>::deserialize(deserializer)?;
        Username::parse(raw.as_str()).map(Self).map_err(D::Error::custom)
    }
}

impl PartialSchema for UsernameIn {
    fn schema() -> RefOr<Schema> {
        Text::<1, 64>::schema()
    }
}
impl ToSchema for UsernameIn {}

/// An email address as [`Email::parse`] accepts it.
pub struct EmailIn(pub Email);

impl<'de> Deserialize<'de> for EmailIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Text::<3, 254>::deserialize(deserializer)?;
        Email::parse(raw.as_str()).map(Self).map_err(D::Error::custom)
    }
}

impl PartialSchema for EmailIn {
    fn schema() -> RefOr<Schema> {
        string_schema()
            .format(Some(SchemaFormat::Custom("email".into())))
            .min_length(Some(3))
            .max_length(Some(254))
            .into()
    }
}
impl ToSchema for EmailIn {}

/// Profile claims an operator may set (OIDC Core §5.1 names, not those kept in columns of their
/// own), each a string of at most 1000 characters; any other name is refused.
pub struct ProfileClaims(pub BTreeMap<String, String>);

impl ProfileClaims {
    pub const MAX_CHARS: usize = 1000;

    pub fn settable() -> impl Iterator<Item = &'static str> {
        CLAIM_SCOPES
            .iter()
            .flat_map(|scope| scope_claims(scope).iter().copied())
            .filter(|name| is_settable_claim(name))
    }
}

impl<'de> Deserialize<'de> for ProfileClaims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Claims;
        impl<'de> Visitor<'de> for Claims {
            type Value = BTreeMap<String, String>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of profile claims")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut claims = BTreeMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    if !is_settable_claim(&name) {
                        return Err(A::Error::custom(format!("{name} is not a profile claim")));
                    }
                    let value = map.next_value::<Text<0, { ProfileClaims::MAX_CHARS }>>()?;
                    if claims.insert(name, value.into_string()).is_some() {
                        return Err(A::Error::custom("a claim is given twice"));
                    }
                }
                Ok(claims)
            }
        }
        deserializer.deserialize_map(Claims).map(Self)
    }
}

impl PartialSchema for ProfileClaims {
    fn schema() -> RefOr<Schema> {
        let value = Text::<0, { ProfileClaims::MAX_CHARS }>::schema();
        Self::settable()
            .fold(ObjectBuilder::new(), |object, name| {
                object.property(name, value.clone())
            })
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into()
    }
}
impl ToSchema for ProfileClaims {}

/// An https URL (http only to a loopback host) of at most 2000 characters: a client's
/// `jwks_uri`. The clients service checks the scheme.
pub struct HttpsUrl(pub url::Url);

impl HttpsUrl {
    pub const MAX_CHARS: usize = 2000;
}

impl<'de> Deserialize<'de> for HttpsUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Text::<1, { HttpsUrl::MAX_CHARS }>::deserialize(deserializer)?;
        url::Url::parse(raw.as_str())
            .map(Self)
            .map_err(|e| D::Error::custom(format!("not an absolute URL: {e}")))
    }
}

impl PartialSchema for HttpsUrl {
    fn schema() -> RefOr<Schema> {
        string_schema()
            .format(Some(SchemaFormat::Custom("uri".into())))
            .min_length(Some(1))
            .max_length(Some(Self::MAX_CHARS))
            .description(Some("An https URL (http only to a loopback host)."))
            .into()
    }
}
impl ToSchema for HttpsUrl {}

/// A client's public keys inline: a JWK Set (`{"keys": [...]}`) of 1 to 20 public RSA, EC or
/// OKP keys. The clients service checks the keys.
pub struct JwkSet(pub serde_json::Value);

impl<'de> Deserialize<'de> for JwkSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        if !value.get("keys").is_some_and(serde_json::Value::is_array) {
            return Err(D::Error::custom("must be a JWK Set: an object with a `keys` array"));
        }
        Ok(Self(value))
    }
}

impl PartialSchema for JwkSet {
    fn schema() -> RefOr<Schema> {
        let key = ObjectBuilder::new()
            .property("kty", string_schema().enum_values(Some(["RSA", "EC", "OKP"])))
            .required("kty");
        ObjectBuilder::new()
            .property(
                "keys",
                ArrayBuilder::new()
                    .items(key)
                    .min_items(Some(1))
                    .max_items(Some(MAX_CLIENT_KEYS)),
            )
            .required("keys")
            .description(Some("A JWK Set of public keys (no private or symmetric key material)."))
            .into()
    }
}
impl ToSchema for JwkSet {}
