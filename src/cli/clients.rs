//! `keyhaven client ...`: the client registry, through the clients service (as the admin API).

use clap::{Args, Subcommand};
use serde::Serialize;
use serde_json::json;

use super::{CliError, Output};
use crate::domain::client::{AuthMethod, Client, ClientOrigin, ClientType, GrantType, Permission, RedirectUri};
use crate::domain::scope::ScopeSet;
use crate::domain::Audience;
use crate::service::clients::{self, ClientChanges, Registered};
use crate::service::{Actor, Services};

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints its id and, for a confidential client, its secret once.
    Create(Box<ClientCreate>),
    List,
    Show {
        id: String,
    },
    Delete {
        id: String,
    },
    /// Give a confidential client a new secret, printed once; the old one stops working.
    RotateSecret {
        id: String,
    },
    /// Change a client: only the options given change.
    Update(Box<ClientUpdate>),
    /// Make an initial access token for dynamic client registration
    /// (`client_registration = token`), printed once.
    RegistrationToken(super::registration::RegistrationTokenArgs),
}

/// How a client authenticates, and its keys for private_key_jwt (create and update alike).
#[derive(Debug, Args)]
pub struct ClientKeys {
    /// client_secret_basic, client_secret_post, none or private_key_jwt (default: a secret for a
    /// confidential client, none for a public one). private_key_jwt needs --jwks-uri or
    /// --jwks-file.
    #[arg(long = "auth-method")]
    pub auth_method: Option<String>,
    /// Where the client publishes its public keys (a JWK Set) for private_key_jwt.
    #[arg(long = "jwks-uri", conflicts_with = "jwks_file")]
    pub jwks_uri: Option<String>,
    /// A file holding the client's public keys (a JWK Set) for private_key_jwt, kept inline.
    #[arg(long = "jwks-file")]
    pub jwks_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct ClientUpdate {
    pub id: String,
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub keys: ClientKeys,
}

#[derive(Debug, Args)]
pub struct ClientCreate {
    #[arg(long)]
    pub name: String,
    /// Repeat for several.
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// confidential or public.
    #[arg(long = "type", default_value = "confidential")]
    pub client_type: String,
    /// authorization_code, refresh_token, client_credentials, device_code; repeat for several.
    #[arg(long = "grant-type", default_values = ["authorization_code", "refresh_token"])]
    pub grant_types: Vec<String>,
    /// Scopes the client may ask for; repeat for several (default: any OpenID scope the server
    /// knows at /authorize, none at client_credentials).
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// Audiences (resource servers) its access tokens may be for; the first is the default.
    #[arg(long = "audience")]
    pub audiences: Vec<String>,
    /// A first-party client: people are not asked for consent.
    #[arg(long)]
    pub first_party: bool,
    /// Signing algorithm of its ID tokens: RS256 (default) or ES256.
    #[arg(long, default_value = "RS256")]
    pub id_token_alg: String,
    /// Where RP-initiated logout may return to; repeat for several.
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Extra permissions: `introspect` for resource servers; repeat for several.
    #[arg(long = "permission")]
    pub permissions: Vec<String>,
    /// Let this (third-party) client introspect tokens of any audience, not only its own.
    #[arg(long)]
    pub introspect_any_audience: bool,
    #[command(flatten)]
    pub keys: ClientKeys,
}

#[derive(Serialize)]
struct ClientView<'a> {
    client_id: &'a str,
    name: &'a str,
    client_type: ClientType,
    redirect_uris: Vec<&'a str>,
    grant_types: &'a [GrantType],
    scopes: Option<String>,
    audiences: &'a [Audience],
    first_party: bool,
    id_token_alg: crate::domain::SigningAlg,
    post_logout_redirect_uris: Vec<&'a str>,
    permissions: &'a [Permission],
    introspect_any_audience: bool,
    token_endpoint_auth_method: AuthMethod,
    jwks: Option<&'a serde_json::Value>,
    jwks_uri: Option<&'a str>,
    origin: ClientOrigin,
    logo_uri: Option<&'a str>,
    client_uri: Option<&'a str>,
    created_at: i64,
}

impl<'a> From<&'a Client> for ClientView<'a> {
    fn from(c: &'a Client) -> Self {
        Self {
            client_id: &c.id,
            name: &c.name,
            client_type: c.client_type,
            redirect_uris: c.redirect_uris.iter().map(RedirectUri::as_str).collect(),
            grant_types: &c.grant_types,
            scopes: c.scopes.as_ref().map(ToString::to_string),
            audiences: &c.audiences,
            first_party: c.first_party,
            id_token_alg: c.id_token_alg,
            post_logout_redirect_uris: c.post_logout_redirect_uris.iter().map(RedirectUri::as_str).collect(),
            permissions: &c.permissions,
            introspect_any_audience: c.introspect_any_audience,
            token_endpoint_auth_method: c.auth_method,
            jwks: c.jwks.as_ref(),
            jwks_uri: c.jwks_uri.as_ref().map(url::Url::as_str),
            origin: c.origin,
            logo_uri: c.logo_uri.as_ref().map(url::Url::as_str),
            client_uri: c.client_uri.as_ref().map(url::Url::as_str),
            created_at: c.created_at,
        }
    }
}

fn describe_client(c: &Client) -> String {
    let grants: Vec<&str> = c.grant_types.iter().map(|g| g.as_str()).collect();
    let uris: Vec<&str> = c.redirect_uris.iter().map(RedirectUri::as_str).collect();
    let mut text = format!(
        "{}  {} ({}{})\n  grants: {}\n  redirect URIs: {}\n  scopes: {}\n  audiences: {}",
        c.id,
        c.name,
        c.client_type.as_str(),
        if c.first_party { ", first-party" } else { "" },
        grants.join(" "),
        uris.join(" "),
        c.scopes
            .as_ref()
            .map_or_else(|| "(any)".to_owned(), ToString::to_string),
        c.audiences.join(" "),
    );
    text.push_str(&format!(
        "\n  authentication: {}\n  origin: {}",
        c.auth_method.as_str(),
        c.origin.as_str()
    ));
    let keys = match (&c.jwks, &c.jwks_uri) {
        (_, Some(uri)) => Some(uri.to_string()),
        (Some(jwks), None) => Some(format!(
            "{} inline",
            jwks.get("keys")
                .and_then(serde_json::Value::as_array)
                .map_or(0, Vec::len)
        )),
        (None, None) => None,
    };
    for (label, value) in [
        ("keys", keys),
        ("logo", c.logo_uri.as_ref().map(ToString::to_string)),
        ("home page", c.client_uri.as_ref().map(ToString::to_string)),
    ] {
        if let Some(value) = value {
            text.push_str(&format!("\n  {label}: {value}"));
        }
    }
    text
}

/// The options on how the client authenticates, as the clients service takes them.
fn key_changes(changes: ClientChanges, keys: ClientKeys) -> Result<ClientChanges, CliError> {
    let auth_method = keys
        .auth_method
        .map(|m| m.parse::<AuthMethod>())
        .transpose()
        .map_err(CliError::usage)?;
    let jwks_uri = keys
        .jwks_uri
        .map(|u| url::Url::parse(&u).map_err(|e| CliError::usage(format!("--jwks-uri: {e}"))))
        .transpose()?;
    let jwks = match keys.jwks_file {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| CliError::usage(format!("--jwks-file: cannot read {}: {e}", path.display())))?;
            Some(
                serde_json::from_str::<serde_json::Value>(&text)
                    .map_err(|e| CliError::usage(format!("--jwks-file: {} is not JSON: {e}", path.display())))?,
            )
        }
    };
    Ok(ClientChanges { auth_method, ..changes }.with_keys(jwks, jwks_uri))
}

/// What the command line asks for, as the clients service takes it. Values are parsed here so
/// a bad one is a usage error naming the option; the rules across fields are the service's.
fn changes(args: ClientCreate) -> Result<ClientChanges, CliError> {
    fn each<T, E: ToString>(values: &[String], parse: impl Fn(&str) -> Result<T, E>) -> Result<Vec<T>, CliError> {
        values
            .iter()
            .map(|v| parse(v).map_err(|e| CliError::usage(e.to_string())))
            .collect()
    }
    let scopes = if args.scopes.is_empty() {
        None
    } else {
        Some(ScopeSet::from_tokens(&args.scopes).map_err(|e| CliError::usage(e.to_string()))?)
    };
    let changes = ClientChanges {
        name: None,
        client_type: Some(args.client_type.parse::<ClientType>().map_err(CliError::usage)?),
        redirect_uris: Some(each(&args.redirect_uris, RedirectUri::parse)?),
        grant_types: Some(each(&args.grant_types, str::parse::<GrantType>)?),
        scopes: Some(scopes),
        audiences: Some(args.audiences.into_iter().map(Audience::from).collect()),
        first_party: Some(args.first_party),
        id_token_alg: Some(args.id_token_alg.parse().map_err(CliError::usage)?),
        post_logout_redirect_uris: Some(each(&args.post_logout_redirect_uris, RedirectUri::parse)?),
        permissions: Some(each(&args.permissions, str::parse::<Permission>)?),
        introspect_any_audience: Some(args.introspect_any_audience),
        ..ClientChanges::default()
    };
    key_changes(changes, args.keys)
}

/// Prints a client just made or given a new secret, with the secret (once) and the warnings.
pub(super) fn print_registered(out: &Output, made: &Registered) {
    for warning in &made.warnings {
        eprintln!("keyhaven: warning: {warning}");
    }
    let mut view = serde_json::to_value(ClientView::from(&made.client)).unwrap_or_default();
    if let (Some(secret), Some(map)) = (&made.secret, view.as_object_mut()) {
        map.insert("client_secret".into(), json!(secret.expose()));
    }
    out.print(&view, || {
        let mut text = describe_client(&made.client);
        if let Some(secret) = &made.secret {
            text.push_str(&format!(
                "\n  client secret (shown once, store it now): {}",
                secret.expose()
            ));
        }
        text
    });
}

pub(super) async fn run(cmd: ClientCommand, services: &Services, out: &Output) -> Result<(), CliError> {
    let actor = Actor::CommandLine;
    match cmd {
        ClientCommand::Create(args) => {
            let name = args.name.clone();
            let made = clients::create(services, name, changes(*args)?, &actor).await?;
            print_registered(out, &made);
        }
        ClientCommand::List => {
            let clients = clients::list(services).await?;
            let views: Vec<ClientView> = clients.iter().map(ClientView::from).collect();
            out.print(&views, || {
                clients.iter().map(describe_client).collect::<Vec<_>>().join("\n")
            });
        }
        ClientCommand::Show { id } => {
            let client = clients::find(services, &id).await?;
            out.print(&ClientView::from(&client), || describe_client(&client));
        }
        ClientCommand::Update(args) => {
            let changes = key_changes(
                ClientChanges {
                    name: args.name,
                    ..ClientChanges::default()
                },
                args.keys,
            )?;
            print_registered(out, &clients::update(services, &args.id, changes, &actor).await?);
        }
        ClientCommand::RotateSecret { id } => {
            print_registered(out, &clients::rotate_secret(services, &id, &actor).await?);
        }
        ClientCommand::Delete { id } => {
            clients::delete(services, &id, &actor).await?;
            out.print(&json!({ "deleted": id }), || format!("deleted client {id}"));
        }
        ClientCommand::RegistrationToken(args) => super::registration::issue(args, services, out, &actor).await?,
    }
    Ok(())
}
