//! `keyhaven keys` and `keyhaven events`: the signing keys and the security event log.

use clap::{Args, Subcommand};

use super::{CliError, Output};
use crate::domain::event::EventFilter;
use crate::service::{accounts, admin, Services};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Publish a next key for each algorithm; it signs after `key_rotation_lead`.
    Rotate,
    /// List keys and their states.
    List,
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

pub(super) async fn keys(cmd: KeysCommand, services: &Services, out: &Output) -> Result<(), CliError> {
    let summaries = match cmd {
        KeysCommand::Rotate => services.keys.rotate().await,
        KeysCommand::List => services.keys.summaries().await,
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

pub(super) async fn events(args: EventsArgs, services: &Services, out: &Output) -> Result<(), CliError> {
    let user_id = match &args.user {
        Some(who) => Some(accounts::find(services, who).await?.id.into_string()),
        None => None,
    };
    let now = services.clock.now();
    let since = args.since.as_deref().map(|s| parse_since(s, now)).transpose()?;
    let filter = EventFilter {
        user_id,
        kind: args.kind,
        since,
        limit: args.limit.clamp(1, 10_000),
        offset: 0,
    };
    let events = admin::events(services, &filter).await?;
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
