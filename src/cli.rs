//! The `keyhaven` command line: serve, migrate, keys, client, user. Each command that prints a
//! result prints it for people, or as JSON with `--json`. Every command works on the same
//! database as a running server.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::json;

use crate::app::{Application, StartupError};
use crate::config::{LogFormat, Settings};
use crate::crypto::tokens::{prefix, random_base64url, OpaqueSecret};
use crate::domain::client::{Client, ClientRegistration, ClientType, GrantType, Permission, RedirectUri};
use crate::domain::scope::ScopeSet;
use crate::domain::user::User;
use crate::domain::{Clock, SystemClock};
use crate::service::accounts::{self, AccountError, Actor, NewAccount, PasswordChange};
use crate::service::{open_keys, open_store, Services};
use crate::storage::{Store, StoreError};

#[derive(Debug, Parser)]
#[command(
    name = "keyhaven",
    version,
    about = "OAuth 2.0 / OpenID Connect authorization server"
)]
pub struct Cli {
    /// TOML settings file (default: ./keyhaven.toml when present).
    #[arg(long, global = true, env = "KEYHAVEN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format: text or json (overrides the log_format setting).
    #[arg(long, global = true, value_parser = ["text", "json"])]
    pub log_format: Option<String>,
    /// Print results as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// OAuth clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// People who sign in.
    #[command(subcommand)]
    User(UserCommand),
    /// The security event log, newest first.
    Events(EventsArgs),
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Only this person's events (username, email or id).
    #[arg(long)]
    pub user: Option<String>,
    /// Only events of this kind (e.g. login, lockout, refresh_token_reuse).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only events since this time: RFC 3339 (2026-11-22T10:00:00Z), Unix seconds, or an age (1h, 7d).
    #[arg(long)]
    pub since: Option<String>,
    /// At most this many events.
    #[arg(long, default_value_t = 100)]
    pub limit: i64,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Publish a next key for each algorithm; it signs after `key_rotation_lead`.
    Rotate,
    /// List keys and their states.
    List,
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints its id and, for a confidential client, its secret once.
    Create(ClientCreate),
    List,
    Show {
        id: String,
    },
    Delete {
        id: String,
    },
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
    /// authorization_code, refresh_token, client_credentials; repeat for several.
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
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a person; the password comes from a prompt or `--password-stdin`.
    Create(UserCreate),
    /// Set a person's password (by username, email or id).
    SetPassword {
        user: String,
        #[arg(long)]
        password_stdin: bool,
    },
    List,
    /// Stop a person from signing in.
    Disable {
        user: String,
    },
}

#[derive(Debug, Args)]
pub struct UserCreate {
    #[arg(long)]
    pub username: String,
    #[arg(long)]
    pub email: String,
    /// Profile claim as name=value (OIDC Core §5.1, e.g. name, given_name); repeat for several.
    #[arg(long = "claim")]
    pub claims: Vec<String>,
    /// Read the password from the first line of stdin instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
}

/// A failure the CLI reports as one line; `code` is the exit status.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub code: i32,
}

impl CliError {
    fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 2,
        }
    }
    fn failed(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 1,
        }
    }
}

impl From<StartupError> for CliError {
    fn from(e: StartupError) -> Self {
        Self {
            message: e.to_string(),
            code: 2,
        }
    }
}

impl From<crate::config::ConfigError> for CliError {
    fn from(e: crate::config::ConfigError) -> Self {
        Self {
            message: e.to_string(),
            code: 2,
        }
    }
}

impl From<AccountError> for CliError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Invalid { field, message } => Self::usage(format!("{field}: {message}")),
            AccountError::Taken => Self::failed("that username or email is already taken"),
            AccountError::NotFound => Self::failed("no such user"),
            AccountError::Failed(e) => Self::failed(format!("{e:#}")),
        }
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        Self::failed(format!("store: {e:#}"))
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    if let Some(format) = &cli.log_format {
        settings.log_format = if format == "json" {
            LogFormat::Json
        } else {
            LogFormat::Text
        };
    }
    crate::telemetry::init(settings.log_format, &settings.log_level);
    for var in crate::config::unknown_env_vars() {
        tracing::warn!(variable = %var, "environment variable names no Keyhaven setting; ignored");
    }
    let out = Output { json: cli.json };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(settings, clock).await?;
            app.run_until_stopped()
                .await
                .map_err(|e| CliError::failed(format!("server: {e}")))
        }
        Command::Migrate => {
            open_store(&settings).await?;
            out.print(&json!({ "migrated": true }), || "migrations applied".to_owned());
            Ok(())
        }
        Command::Keys(cmd) => keys(cmd, &settings, clock, &out).await,
        Command::Client(cmd) => client(cmd, &*open_store(&settings).await?, clock, &out).await,
        Command::User(cmd) => {
            let services = Services::open(settings, clock).await?;
            let done = user(cmd, &services, &out).await;
            services.finish().await;
            done
        }
        Command::Events(args) => events(args, &*open_store(&settings).await?, clock, &out).await,
    }
}

struct Output {
    json: bool,
}

impl Output {
    fn print<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
        } else {
            println!("{}", human());
        }
    }
}

async fn keys(cmd: KeysCommand, settings: &Settings, clock: Arc<dyn Clock>, out: &Output) -> Result<(), CliError> {
    let store = open_store(settings).await?;
    let (manager, _) = open_keys(settings, store, clock).await?;
    let summaries = match cmd {
        KeysCommand::Rotate => manager.rotate().await,
        KeysCommand::List => manager.summaries().await,
    }
    .map_err(|e| CliError::failed(e.to_string()))?;
    out.print(&summaries, || {
        summaries
            .iter()
            .map(|k| {
                format!(
                    "{:<7} {:<5} {}  activates_at={}",
                    k.state.as_str(),
                    k.alg.as_str(),
                    k.kid,
                    k.activates_at
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

#[derive(Serialize)]
struct ClientView<'a> {
    client_id: &'a str,
    name: &'a str,
    client_type: ClientType,
    redirect_uris: Vec<&'a str>,
    grant_types: &'a [GrantType],
    scopes: Option<String>,
    audiences: &'a [String],
    first_party: bool,
    id_token_alg: crate::domain::SigningAlg,
    post_logout_redirect_uris: Vec<&'a str>,
    permissions: &'a [Permission],
    introspect_any_audience: bool,
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
            created_at: c.created_at,
        }
    }
}

fn describe_client(c: &Client) -> String {
    let grants: Vec<&str> = c.grant_types.iter().map(|g| g.as_str()).collect();
    let uris: Vec<&str> = c.redirect_uris.iter().map(RedirectUri::as_str).collect();
    format!(
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
    )
}

fn parse_registration(args: ClientCreate) -> Result<ClientRegistration, CliError> {
    let client_type: ClientType = args.client_type.parse().map_err(CliError::usage)?;
    let redirect_uris = args
        .redirect_uris
        .iter()
        .map(|u| RedirectUri::parse(u))
        .collect::<Result<Vec<_>, _>>()
        .map_err(CliError::usage)?;
    let mut grant_types = args
        .grant_types
        .iter()
        .map(|g| g.parse::<GrantType>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(CliError::usage)?;
    grant_types.sort();
    grant_types.dedup();
    let scopes = if args.scopes.is_empty() {
        None
    } else {
        Some(ScopeSet::from_tokens(&args.scopes).map_err(|e| CliError::usage(e.to_string()))?)
    };
    let registration = ClientRegistration {
        name: args.name,
        client_type,
        redirect_uris,
        grant_types,
        scopes,
        audiences: args.audiences,
        first_party: args.first_party,
        id_token_alg: args.id_token_alg.parse().map_err(CliError::usage)?,
        post_logout_redirect_uris: args
            .post_logout_redirect_uris
            .iter()
            .map(|u| RedirectUri::parse(u))
            .collect::<Result<Vec<_>, _>>()
            .map_err(CliError::usage)?,
        permissions: args
            .permissions
            .iter()
            .map(|p| p.parse::<Permission>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(CliError::usage)?,
        introspect_any_audience: args.introspect_any_audience,
    };
    registration.validate().map_err(CliError::usage)?;
    Ok(registration)
}

async fn client(cmd: ClientCommand, store: &dyn Store, clock: Arc<dyn Clock>, out: &Output) -> Result<(), CliError> {
    match cmd {
        ClientCommand::Create(args) => {
            let reg = parse_registration(args)?;
            for warning in reg.warnings() {
                eprintln!("keyhaven: warning: {warning}");
            }
            let secret =
                (reg.client_type == ClientType::Confidential).then(|| OpaqueSecret::generate(prefix::CLIENT_SECRET));
            let client = reg.into_client(
                format!("khc-{}", random_base64url(16)),
                secret.as_ref().map(|s| s.hash().as_str().to_owned()),
                clock.now(),
            );
            store.insert_client(&client).await?;
            let mut view = serde_json::to_value(ClientView::from(&client)).unwrap_or_default();
            if let (Some(secret), Some(map)) = (&secret, view.as_object_mut()) {
                map.insert("client_secret".into(), json!(secret.expose()));
            }
            out.print(&view, || {
                let mut text = describe_client(&client);
                if let Some(secret) = &secret {
                    text.push_str(&format!(
                        "\n  client secret (shown once, store it now): {}",
                        secret.expose()
                    ));
                }
                text
            });
        }
        ClientCommand::List => {
            let clients = store.list_clients().await?;
            let views: Vec<ClientView> = clients.iter().map(ClientView::from).collect();
            out.print(&views, || {
                clients.iter().map(describe_client).collect::<Vec<_>>().join("\n")
            });
        }
        ClientCommand::Show { id } => {
            let client = store
                .find_client(&id)
                .await?
                .ok_or_else(|| CliError::failed(format!("no client `{id}`")))?;
            out.print(&ClientView::from(&client), || describe_client(&client));
        }
        ClientCommand::Delete { id } => {
            if !store.delete_client(&id).await? {
                return Err(CliError::failed(format!("no client `{id}`")));
            }
            out.print(&json!({ "deleted": id }), || format!("deleted client {id}"));
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct UserView<'a> {
    id: &'a str,
    username: &'a str,
    email: &'a str,
    disabled: bool,
    claims: &'a BTreeMap<String, String>,
    created_at: i64,
}

impl<'a> From<&'a User> for UserView<'a> {
    fn from(u: &'a User) -> Self {
        Self {
            id: &u.id,
            username: &u.username,
            email: &u.email,
            disabled: u.disabled,
            claims: &u.claims,
            created_at: u.created_at,
        }
    }
}

fn describe_user(u: &User) -> String {
    format!(
        "{}  {} <{}>{}",
        u.id,
        u.username,
        u.email,
        if u.disabled { " (disabled)" } else { "" }
    )
}

/// Reads a new password: the first line of stdin, or twice at a terminal prompt. Never argv.
fn read_new_password(from_stdin: bool) -> Result<SecretString, CliError> {
    let password = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::failed(format!("cannot read the password from stdin: {e}")))?;
        SecretString::from(line.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        let first = rpassword::prompt_password("New password: ")
            .map_err(|e| CliError::failed(format!("cannot read the password: {e}")))?;
        let again = rpassword::prompt_password("Repeat it: ")
            .map_err(|e| CliError::failed(format!("cannot read the password: {e}")))?;
        if first != again {
            return Err(CliError::usage("the passwords differ"));
        }
        SecretString::from(first)
    };
    // The password policy (length included) is the accounts service's, as for every face.
    Ok(password)
}

async fn find_user(store: &dyn Store, who: &str) -> Result<User, CliError> {
    let found = match store.find_user_by_id(who).await? {
        Some(user) => Some(user),
        None => store.find_user_by_login(who).await?,
    };
    found.ok_or_else(|| CliError::failed(format!("no user `{who}`")))
}

async fn user(cmd: UserCommand, services: &Services, out: &Output) -> Result<(), CliError> {
    let actor = Actor::CommandLine;
    match cmd {
        UserCommand::Create(args) => {
            let mut claims = BTreeMap::new();
            for pair in &args.claims {
                let (name, value) = pair
                    .split_once('=')
                    .ok_or_else(|| CliError::usage(format!("--claim `{pair}` is not name=value")))?;
                claims.insert(name.to_owned(), value.to_owned());
            }
            let new = NewAccount {
                username: args.username,
                email: args.email,
                password: read_new_password(args.password_stdin)?,
                claims,
            };
            let user = accounts::create(services, new, &actor).await?;
            out.print(&UserView::from(&user), || {
                format!("created user {}", describe_user(&user))
            });
        }
        UserCommand::SetPassword { user, password_stdin } => {
            let found = accounts::find(services, &user).await?;
            let password = read_new_password(password_stdin)?;
            accounts::set_password(services, &found, &password, PasswordChange::ByOperator, &actor).await?;
            out.print(&json!({ "id": found.id, "password_set": true }), || {
                format!(
                    "password set for {}; every session of it was signed out",
                    found.username
                )
            });
        }
        UserCommand::List => {
            let users = services.store.list_users().await?;
            let views: Vec<UserView> = users.iter().map(UserView::from).collect();
            out.print(&views, || {
                users.iter().map(describe_user).collect::<Vec<_>>().join("\n")
            });
        }
        UserCommand::Disable { user } => {
            let found = accounts::find(services, &user).await?;
            accounts::disable(services, &found, &actor).await?;
            out.print(&json!({ "id": found.id, "disabled": true }), || {
                format!("disabled {}; every session of it was signed out", found.username)
            });
        }
    }
    Ok(())
}

/// `--since`: RFC 3339, Unix seconds, or an age before now.
fn parse_since(text: &str, now: i64) -> Result<i64, CliError> {
    if let Ok(secs) = text.parse::<i64>() {
        return Ok(secs);
    }
    if let Ok(at) = humantime::parse_rfc3339_weak(text) {
        let secs = at
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        return Ok(i64::try_from(secs).unwrap_or(i64::MAX));
    }
    crate::config::parse_duration(text).map(|age| now - age).map_err(|_| {
        CliError::usage(format!(
            "--since `{text}` is neither a time, Unix seconds nor an age like 1h"
        ))
    })
}

async fn events(args: EventsArgs, store: &dyn Store, clock: Arc<dyn Clock>, out: &Output) -> Result<(), CliError> {
    let user_id = match &args.user {
        Some(who) => Some(find_user(store, who).await?.id),
        None => None,
    };
    let since = args.since.as_deref().map(|s| parse_since(s, clock.now())).transpose()?;
    let filter = crate::domain::event::EventFilter {
        user_id,
        kind: args.kind,
        since,
        limit: args.limit.clamp(1, 10_000),
        offset: 0,
    };
    let events = store.list_events(&filter).await?;
    out.print(&events, || {
        events
            .iter()
            .map(|e| {
                format!(
                    "{} {:<20} {:<7} user={} client={} ip={} {}",
                    humantime::format_rfc3339_seconds(
                        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(e.at).unwrap_or(0))
                    ),
                    e.kind,
                    e.outcome,
                    e.user_id.as_deref().unwrap_or("-"),
                    e.client_id.as_deref().unwrap_or("-"),
                    e.ip.as_deref().unwrap_or("-"),
                    e.detail.as_deref().unwrap_or(""),
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}
