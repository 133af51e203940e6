//! `keyhaven client registration-token`: an initial access token for dynamic client
//! registration, through the registration service (as the admin API).

use clap::Args;
use serde_json::json;

use super::{CliError, Output};
use crate::service::registration;
use crate::service::{Actor, Services};

#[derive(Debug, Args)]
pub struct RegistrationTokenArgs {
    /// How many registrations the token allows.
    #[arg(long, default_value_t = 1)]
    pub uses: u32,
    /// How long it is good for (`1d`, `12h`, `3600`).
    #[arg(long, default_value = "1d")]
    pub expires_in: String,
    /// Who it is for, for the operator's own memory.
    #[arg(long)]
    pub note: Option<String>,
}

pub(super) async fn issue(
    args: RegistrationTokenArgs,
    services: &Services,
    out: &Output,
    actor: &Actor,
) -> Result<(), CliError> {
    if args.uses == 0 {
        return Err(CliError::usage("--uses: must be at least 1"));
    }
    let expires_in = crate::config::parse_duration(&args.expires_in)
        .ok()
        .and_then(|secs| u64::try_from(secs).ok())
        .filter(|secs| *secs > 0)
        .ok_or_else(|| CliError::usage(format!("--expires-in: `{}` is not a duration", args.expires_in)))?;
    let made = registration::issue_token(services, args.uses, expires_in, args.note.as_deref(), actor).await?;
    out.print(
        &json!({
            "token": made.token.expose(),
            "uses": made.uses,
            "expires_at": made.expires_at,
        }),
        || {
            format!(
                "initial access token (shown once): {}\nuses: {}, expires at {} (unix time)",
                made.token.expose(),
                made.uses,
                made.expires_at
            )
        },
    );
    Ok(())
}
