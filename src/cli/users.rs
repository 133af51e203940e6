//! `keyhaven user ...`: people, through the accounts service (as the admin API and the pages).

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal};

use clap::{Args, Subcommand};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::json;

use super::{CliError, Output};
use crate::domain::user::User;
use crate::service::accounts::{self, NewAccount, PasswordChange};
use crate::service::passkeys::{self, PasskeyError};
use crate::service::{Actor, Services};

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
    /// Stop a person from signing in: every session ends with its tokens.
    Disable {
        user: String,
    },
    /// Let a disabled person sign in again.
    Enable {
        user: String,
    },
    /// Lift a lockout after failed sign-ins.
    Unlock {
        user: String,
    },
    /// Turn off a person's two-step sign-in (they lost the device).
    ResetTotp {
        user: String,
    },
    /// End every session of a person, with its refresh and access tokens.
    SignOut {
        user: String,
    },
    /// List a person's passkeys.
    Passkeys {
        user: String,
    },
    /// Remove one of a person's passkeys (by its credential id, as `passkeys` lists it).
    RemovePasskey {
        user: String,
        credential_id: String,
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

pub(super) async fn run(cmd: UserCommand, services: &Services, out: &Output) -> Result<(), CliError> {
    let actor = Actor::CommandLine;
    match cmd {
        UserCommand::Create(args) => create(args, services, out, &actor).await?,
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
            let users = accounts::list(services).await?;
            let views: Vec<UserView> = users.iter().map(UserView::from).collect();
            out.print(&views, || {
                users.iter().map(describe_user).collect::<Vec<_>>().join("\n")
            });
        }
        UserCommand::Passkeys { user } => {
            let found = accounts::find(services, &user).await?;
            let listed = passkeys::list(services, &found.id).await?;
            let views: Vec<_> = listed
                .iter()
                .map(|p| {
                    json!({
                        "credential_id": p.credential_id,
                        "name": p.name,
                        "created_at": p.created_at,
                        "last_used_at": p.last_used_at,
                        "backup_eligible": p.backup_eligible,
                        "backed_up": p.backed_up,
                        "aaguid": p.aaguid,
                    })
                })
                .collect();
            out.print(&views, || {
                listed
                    .iter()
                    .map(|p| format!("{}  {}", p.credential_id, p.name))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        UserCommand::RemovePasskey { user, credential_id } => {
            let found = accounts::find(services, &user).await?;
            match passkeys::remove_by_operator(services, &found, &credential_id, &actor).await {
                Ok(()) => done(out, &found, "passkey_removed", "passkey removed"),
                Err(PasskeyError::NotFound) => {
                    return Err(CliError::failed(format!(
                        "{} has no passkey {credential_id}",
                        found.username
                    )))
                }
                Err(e) => return Err(CliError::failed(e.to_string())),
            }
        }
        operation => operate(operation, services, out, &actor).await?,
    }
    Ok(())
}

/// Prints what was done to a person: `{"id": .., what: true}`, or a line.
fn done(out: &Output, user: &User, what: &str, words: &str) {
    out.print(&json!({ "id": user.id, what: true }), || {
        format!("{}: {words}", user.username)
    });
}

async fn create(args: UserCreate, services: &Services, out: &Output, actor: &Actor) -> Result<(), CliError> {
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
    let user = accounts::create(services, new, actor).await?;
    out.print(&UserView::from(&user), || {
        format!("created user {}", describe_user(&user))
    });
    Ok(())
}

/// What an operator does to one person: the same service calls as the admin API's user actions.
async fn operate(cmd: UserCommand, services: &Services, out: &Output, actor: &Actor) -> Result<(), CliError> {
    let (who, what, words) = match &cmd {
        UserCommand::Disable { user } => (user, "disabled", "disabled; every session of it was signed out"),
        UserCommand::Enable { user } => (user, "enabled", "enabled"),
        UserCommand::Unlock { user } => (user, "unlocked", "unlocked"),
        UserCommand::ResetTotp { user } => (user, "totp_reset", "two-step sign-in turned off"),
        UserCommand::SignOut { user } => (user, "signed_out", "every session signed out"),
        _ => return Err(CliError::usage("not an operation on a person")),
    };
    let found = accounts::find(services, who).await?;
    match cmd {
        UserCommand::Disable { .. } => accounts::disable(services, &found, actor).await?,
        UserCommand::Enable { .. } => accounts::enable(services, &found, actor).await?,
        UserCommand::Unlock { .. } => accounts::unlock(services, &found, actor).await?,
        UserCommand::ResetTotp { .. } => accounts::reset_second_factor(services, &found, actor).await?,
        _ => accounts::end_sessions(services, &found, actor).await?,
    }
    done(out, &found, what, words);
    Ok(())
}
