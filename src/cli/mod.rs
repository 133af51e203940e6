//! The `keyhaven` command line: serve, migrate, keys, client, resource, user, events, demo. Each command that prints a
//! result prints it for people, or as JSON with `--json`. Every command works on the same
//! database as a running server.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use serde::Serialize;
use serde_json::json;

use crate::app::{Application, StartupError};
use crate::config::{LogFormat, Settings};
use crate::domain::{Clock, SystemClock};
use crate::service::accounts::AccountError;
use crate::service::clients::ClientError;
use crate::service::resources::ResourceError;
use crate::service::Services;
use crate::storage::StoreError;

mod audit;
mod calibrate;
mod clients;
mod demo;
mod registration;
mod resources;
mod users;

pub use audit::{EventsArgs, KeysCommand};
pub use clients::{ClientCommand, ClientCreate};
pub use resources::ResourceCommand;
pub use users::{UserCommand, UserCreate};

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
    /// Resource servers (audiences) and the algorithm of their access tokens.
    #[command(subcommand)]
    Resource(ResourceCommand),
    /// People who sign in.
    #[command(subcommand)]
    User(UserCommand),
    /// The security event log, newest first.
    Events(EventsArgs),
    /// Measure this machine: password checks per second with the configured argon2 parameters
    /// and pool, and signatures per second per signing algorithm on every core.
    Calibrate {
        /// How long each measurement runs.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
    },
    /// Make a demo client and a demo person to try the code flow with (never done by default):
    /// prints the person's generated password and the client's secret once.
    Demo,
}

/// A failure the CLI reports as one line; `code` is the exit status.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub code: i32,
}

impl CliError {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 2,
        }
    }
    pub(crate) fn failed(message: impl Into<String>) -> Self {
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

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Invalid { field, message } => Self::usage(format!("{field}: {message}")),
            ClientError::NotFound => Self::failed("no such client"),
            ClientError::Store(e) => e.into(),
        }
    }
}

impl From<ResourceError> for CliError {
    fn from(e: ResourceError) -> Self {
        match e {
            ResourceError::Invalid { field, message } => Self::usage(format!("{field}: {message}")),
            ResourceError::Taken => Self::failed("a resource server with this URI is registered already"),
            ResourceError::NotFound => Self::failed("no such resource server"),
            ResourceError::Store(e) => e.into(),
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
            crate::service::migrate(&settings).await?;
            out.print(&json!({ "migrated": true }), || "migrations applied".to_owned());
            Ok(())
        }
        command => {
            // Every other command works through the same services as the server, so what it
            // does is checked and recorded as the admin API's twin would be.
            let services = Services::open(settings, clock).await?;
            let done = match command {
                Command::Keys(cmd) => audit::keys(cmd, &services, &out).await,
                Command::Client(cmd) => clients::run(cmd, &services, &out).await,
                Command::Resource(cmd) => resources::run(cmd, &services, &out).await,
                Command::User(cmd) => users::run(cmd, &services, &out).await,
                Command::Events(args) => audit::events(args, &services, &out).await,
                Command::Demo => demo::run(&services, &out).await,
                Command::Calibrate { seconds } => calibrate::run(&services, seconds, &out).await,
                Command::Serve | Command::Migrate => Ok(()),
            };
            services.finish().await;
            done
        }
    }
}

pub(crate) struct Output {
    json: bool,
}

impl Output {
    pub(crate) fn print<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
        } else {
            println!("{}", human());
        }
    }
}
