//! The resource-server registry: round trip (with openness to self-registered clients), unique
//! URIs, updates that keep URI and creation time, deletion.

use std::sync::Arc;

use keyhaven::domain::{ResourceServer, SigningAlg};
use keyhaven::storage::{Store, StoreError};

contract!(
    resource_servers_round_trip_by_uri_and_delete,
    a_resource_update_rewrites_name_and_alg_but_not_uri_or_creation,
);

fn resource(uri: &str, alg: SigningAlg) -> ResourceServer {
    ResourceServer {
        uri: uri.into(),
        name: format!("API at {uri}"),
        access_token_alg: alg,
        open_to_self_registered: false,
        created_at: 10,
        updated_at: 11,
    }
}

async fn resource_servers_round_trip_by_uri_and_delete(store: Arc<dyn Store>) {
    assert!(store.list_resources().await.expect("list").is_empty());
    for (uri, alg) in [
        ("https://orders.example", SigningAlg::Es256),
        ("https://billing.example", SigningAlg::EdDsa),
        ("urn:example:legacy", SigningAlg::Rs256),
    ] {
        store.insert_resource(&resource(uri, alg)).await.expect("insert");
    }
    assert!(matches!(
        store
            .insert_resource(&resource("https://orders.example", SigningAlg::Rs256))
            .await,
        Err(StoreError::Conflict)
    ));
    let open = ResourceServer {
        open_to_self_registered: true,
        ..resource("https://mcp.example", SigningAlg::Es256)
    };
    store.insert_resource(&open).await.expect("insert");
    assert_eq!(
        store.find_resource("https://mcp.example").await.expect("find"),
        Some(open)
    );
    assert!(store.delete_resource("https://mcp.example").await.expect("delete"));
    let found = store
        .find_resource("https://billing.example")
        .await
        .expect("find")
        .expect("billing");
    assert_eq!(found, resource("https://billing.example", SigningAlg::EdDsa));
    // Found exactly as written: another spelling of the URI is another audience.
    assert!(store
        .find_resource("https://billing.example/")
        .await
        .expect("find")
        .is_none());
    let uris: Vec<String> = store
        .list_resources()
        .await
        .expect("list")
        .into_iter()
        .map(|r| r.uri.into_string())
        .collect();
    assert_eq!(
        uris,
        [
            "https://billing.example",
            "https://orders.example",
            "urn:example:legacy"
        ],
        "by URI"
    );
    assert!(store.delete_resource("https://orders.example").await.expect("delete"));
    assert!(!store.delete_resource("https://orders.example").await.expect("delete"));
    assert!(store
        .find_resource("https://orders.example")
        .await
        .expect("find")
        .is_none());
    assert_eq!(store.list_resources().await.expect("list").len(), 2);
}

async fn a_resource_update_rewrites_name_and_alg_but_not_uri_or_creation(store: Arc<dyn Store>) {
    store
        .insert_resource(&resource("https://orders.example", SigningAlg::Rs256))
        .await
        .expect("insert");
    let changed = ResourceServer {
        name: "Orders".into(),
        access_token_alg: SigningAlg::EdDsa,
        open_to_self_registered: true,
        created_at: 99,
        updated_at: 50,
        ..resource("https://orders.example", SigningAlg::Rs256)
    };
    assert!(store.update_resource(&changed).await.expect("update"));
    let stored = store
        .find_resource("https://orders.example")
        .await
        .expect("find")
        .expect("orders");
    assert_eq!(
        (
            stored.name.as_str(),
            stored.access_token_alg,
            stored.created_at,
            stored.updated_at,
            stored.open_to_self_registered
        ),
        ("Orders", SigningAlg::EdDsa, 10, 50, true)
    );
    assert!(!store
        .update_resource(&resource("https://nope.example", SigningAlg::Es256))
        .await
        .expect("update"));
    assert!(store
        .find_resource("https://nope.example")
        .await
        .expect("find")
        .is_none());
}
