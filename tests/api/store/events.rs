//! Security events: appended in batches, read back newest first by filter.

use std::sync::Arc;

use keyhaven::domain::event::{kind, EventFilter, Outcome, SecurityEvent};
use keyhaven::storage::Store;

contract!(events_are_listed_newest_first_by_filter);

async fn events_are_listed_newest_first_by_filter(store: Arc<dyn Store>) {
    let full = SecurityEvent::new(100, kind::LOGIN, Outcome::Success)
        .user("u1")
        .client("c1")
        .session("s1")
        .from_peer(Some("127.0.0.1".into()), Some("agent".into()))
        .detail("password");
    store
        .insert_events(&[
            full.clone(),
            SecurityEvent::new(110, kind::LOGIN, Outcome::Failure).user("u2"),
            SecurityEvent::new(120, kind::TOKEN_ISSUED, Outcome::Success).user("u1"),
        ])
        .await
        .expect("insert");
    store.insert_events(&[]).await.expect("an empty batch is fine");
    // A later batch is newer even with an earlier time.
    store
        .insert_events(&[SecurityEvent::new(105, kind::LOGOUT, Outcome::Success).user("u1")])
        .await
        .expect("insert");

    let list = |filter: EventFilter| {
        let store = store.clone();
        async move {
            store
                .list_events(&filter)
                .await
                .expect("list")
                .into_iter()
                .map(|e| (e.at, e.kind))
                .collect::<Vec<_>>()
        }
    };
    let all = EventFilter {
        limit: 10,
        ..EventFilter::default()
    };
    let event = |at: i64, kind: &str| (at, kind.to_owned());
    assert_eq!(
        list(all.clone()).await,
        [
            event(105, "logout"),
            event(120, "token_issued"),
            event(110, "login"),
            event(100, "login")
        ],
        "newest first"
    );
    let found = store.list_events(&all).await.expect("list");
    assert_eq!(found.last(), Some(&full), "every field round-trips");

    let by_user = EventFilter {
        user_id: Some("u1".into()),
        ..all.clone()
    };
    assert_eq!(
        list(by_user.clone()).await,
        [event(105, "logout"), event(120, "token_issued"), event(100, "login")]
    );
    let by_kind = EventFilter {
        kind: Some("login".into()),
        ..all.clone()
    };
    assert_eq!(list(by_kind).await, [event(110, "login"), event(100, "login")]);
    let since = EventFilter {
        since: Some(110),
        ..all.clone()
    };
    assert_eq!(
        list(since).await,
        [event(120, "token_issued"), event(110, "login")],
        "at or after `since`"
    );
    let both = EventFilter {
        kind: Some("login".into()),
        since: Some(101),
        ..by_user
    };
    assert!(list(both).await.is_empty(), "filters combine");
    let page = EventFilter {
        limit: 2,
        offset: 1,
        ..all
    };
    assert_eq!(list(page).await, [event(120, "token_issued"), event(110, "login")]);
}
