//! client_credentials issuance counts: one row per client and minute, to which every instance
//! adds its counts; deleted with the security events after the retention.

use std::sync::Arc;

use keyhaven::domain::ClientId;
use keyhaven::storage::{Expired, IssuanceCount, Store};

contract!(
    issuance_counts_add_up_per_client_and_minute,
    concurrent_issuance_counts_all_add_up,
    issuance_counts_go_with_the_events_after_the_retention
);

fn count(client: &str, minute: i64, count: i64, first_at: i64, last_at: i64) -> IssuanceCount {
    IssuanceCount {
        client_id: client.into(),
        minute,
        count,
        first_at,
        last_at,
    }
}

async fn issuance_counts_add_up_per_client_and_minute(store: Arc<dyn Store>) {
    let c1 = ClientId::from("c1");
    store.add_issuance_counts(&[]).await.expect("an empty batch is fine");
    assert!(store.list_issuance_counts(&c1, 0).await.expect("list").is_empty());

    store
        .add_issuance_counts(&[
            count("c1", 120, 3, 125, 150),
            count("c1", 60, 2, 61, 70),
            count("c2", 120, 7, 120, 179),
        ])
        .await
        .expect("add");
    assert_eq!(
        store.list_issuance_counts(&c1, 0).await.expect("list"),
        [count("c1", 60, 2, 61, 70), count("c1", 120, 3, 125, 150)],
        "one client's rows, oldest first"
    );

    // Another instance's counts for the same minutes add to the rows: counts sum, the first
    // is the earlier and the last the later, whichever instance saw them.
    store
        .add_issuance_counts(&[count("c1", 120, 4, 121, 140), count("c1", 60, 1, 65, 119)])
        .await
        .expect("add to the rows");
    assert_eq!(
        store.list_issuance_counts(&c1, 0).await.expect("list"),
        [count("c1", 60, 3, 61, 119), count("c1", 120, 7, 121, 150)]
    );
    assert_eq!(
        store.list_issuance_counts(&c1, 120).await.expect("list"),
        [count("c1", 120, 7, 121, 150)],
        "from `since` on"
    );
    assert_eq!(
        store.list_issuance_counts(&"c2".into(), 0).await.expect("list"),
        [count("c2", 120, 7, 120, 179)],
        "the other client's row is untouched"
    );
}

async fn concurrent_issuance_counts_all_add_up(store: Arc<dyn Store>) {
    // Instances flushing the same rows at once, in different orders: none is lost.
    let writers: Vec<_> = (0..8_i64)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut batch = vec![count("c1", 0, 1, i, i), count("c2", 0, 2, 10 + i, 10 + i)];
                if i % 2 == 1 {
                    batch.reverse();
                }
                store.add_issuance_counts(&batch).await
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("join").expect("add");
    }
    assert_eq!(
        store.list_issuance_counts(&"c1".into(), 0).await.expect("list"),
        [count("c1", 0, 8, 0, 7)]
    );
    assert_eq!(
        store.list_issuance_counts(&"c2".into(), 0).await.expect("list"),
        [count("c2", 0, 16, 10, 17)]
    );
}

async fn issuance_counts_go_with_the_events_after_the_retention(store: Arc<dyn Store>) {
    let c1 = ClientId::from("c1");
    store
        .add_issuance_counts(&[
            count("c1", 0, 1, 0, 0),
            count("c1", 60, 1, 60, 60),
            count("c1", 120, 1, 120, 120),
        ])
        .await
        .expect("add");
    // The cut-off is a time: minutes that started at or before it go.
    let deleted = store.delete_expired(Expired::Events, 60, 100).await.expect("delete");
    assert_eq!(deleted, 2);
    assert_eq!(
        store.list_issuance_counts(&c1, 0).await.expect("list"),
        [count("c1", 120, 1, 120, 120)]
    );
    // Bounded like every other housekeeping delete.
    store
        .add_issuance_counts(&[count("c1", 180, 1, 180, 180), count("c1", 240, 1, 240, 240)])
        .await
        .expect("add");
    assert_eq!(
        store.delete_expired(Expired::Events, 1_000, 2).await.expect("delete"),
        2
    );
    assert_eq!(store.list_issuance_counts(&c1, 0).await.expect("list").len(), 1);
}
