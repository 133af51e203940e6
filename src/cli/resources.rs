//! `keyhaven resource ...`: the registry of resource servers and the algorithm of their access
//! tokens, through the resources service (as the admin API).

use clap::Subcommand;
use serde::Serialize;
use serde_json::json;

use super::{CliError, Output};
use crate::domain::{ResourceServer, SigningAlg};
use crate::service::resources::{self, ResourceChanges};
use crate::service::{Actor, Services};

#[derive(Debug, Subcommand)]
pub enum ResourceCommand {
    /// Register a resource server: its access tokens are signed with `--alg`.
    #[command(alias = "create")]
    Add {
        /// The audience value: what clients name in `resource` and tokens carry in `aud`.
        #[arg(long)]
        uri: String,
        #[arg(long)]
        name: String,
        /// RS256, ES256 or EdDSA (default: the access_token_alg setting).
        #[arg(long)]
        alg: Option<String>,
        /// Whether self-registered and metadata-document clients may ask for its tokens
        /// (default false).
        #[arg(long, value_name = "true|false")]
        open_to_self_registered: Option<bool>,
    },
    List,
    Show {
        uri: String,
    },
    /// Change a resource server's name, algorithm or openness to self-registered clients.
    Update {
        uri: String,
        #[arg(long)]
        name: Option<String>,
        /// RS256, ES256 or EdDSA.
        #[arg(long)]
        alg: Option<String>,
        #[arg(long, value_name = "true|false")]
        open_to_self_registered: Option<bool>,
    },
    /// Delete a resource server: its audience takes the access_token_alg setting again.
    Delete {
        uri: String,
    },
}

#[derive(Serialize)]
struct ResourceView<'a> {
    uri: &'a str,
    name: &'a str,
    access_token_alg: SigningAlg,
    open_to_self_registered: bool,
    created_at: i64,
    updated_at: i64,
}

impl<'a> From<&'a ResourceServer> for ResourceView<'a> {
    fn from(r: &'a ResourceServer) -> Self {
        Self {
            uri: &r.uri,
            name: &r.name,
            access_token_alg: r.access_token_alg,
            open_to_self_registered: r.open_to_self_registered,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

fn describe(r: &ResourceServer) -> String {
    let open = if r.open_to_self_registered {
        ", open to self-registered clients"
    } else {
        ""
    };
    format!("{}  {} ({}{open})", r.uri, r.name, r.access_token_alg)
}

/// `--alg`, parsed here so that a bad one is a usage error naming the option.
fn alg(text: Option<String>) -> Result<Option<SigningAlg>, CliError> {
    text.map(|t| t.parse().map_err(|e| CliError::usage(format!("--alg: {e}"))))
        .transpose()
}

pub(super) async fn run(cmd: ResourceCommand, services: &Services, out: &Output) -> Result<(), CliError> {
    let actor = Actor::CommandLine;
    match cmd {
        ResourceCommand::Add {
            uri,
            name,
            alg: text,
            open_to_self_registered,
        } => {
            let changes = ResourceChanges {
                name: Some(name),
                access_token_alg: alg(text)?,
                open_to_self_registered,
            };
            let made = resources::create(services, &uri, changes, &actor).await?;
            out.print(&ResourceView::from(&made), || describe(&made));
        }
        ResourceCommand::List => {
            let all = resources::list(services).await?;
            let views: Vec<ResourceView> = all.iter().map(ResourceView::from).collect();
            out.print(&views, || all.iter().map(describe).collect::<Vec<_>>().join("\n"));
        }
        ResourceCommand::Show { uri } => {
            let resource = resources::find(services, &uri).await?;
            out.print(&ResourceView::from(&resource), || describe(&resource));
        }
        ResourceCommand::Update {
            uri,
            name,
            alg: text,
            open_to_self_registered,
        } => {
            let changes = ResourceChanges {
                name,
                access_token_alg: alg(text)?,
                open_to_self_registered,
            };
            let changed = resources::update(services, &uri, changes, &actor).await?;
            out.print(&ResourceView::from(&changed), || describe(&changed));
        }
        ResourceCommand::Delete { uri } => {
            resources::delete(services, &uri, &actor).await?;
            out.print(&json!({ "deleted": uri }), || format!("deleted resource server {uri}"));
        }
    }
    Ok(())
}
