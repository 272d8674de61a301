//! Server-sent events: run status changes and new metric points of an experiment (or one run),
//! found by polling the database once a second.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use harmonium_store::Store;
use harmonium_store::feed::Scope;
use serde::Deserialize;

use crate::api::find_experiment;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::routes::AppState;

/// How often the database is polled for news.
pub const POLL: Duration = Duration::from_millis(1000);
/// Most metric points sent per poll; the rest follow on the next.
const MAX_POINTS: i64 = 5000;

#[derive(Deserialize)]
pub struct EventsQuery {
    experiment: Option<String>,
    run: Option<String>,
}

/// What a feed has already sent.
struct Feed {
    store: Store,
    scope: Scope,
    seq: i64,
    since: String,
    sent: HashMap<i64, String>,
    first: bool,
}

pub async fn events(
    State(app): State<AppState>,
    Query(q): Query<EventsQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let scope = match (q.experiment, q.run) {
        (Some(e), None) => Scope::Experiment(find_experiment(&app, &e).await?.id),
        (None, Some(r)) => {
            let missing = || ApiError::NotFound(format!("no run with id '{r}'"));
            let id: i64 = r.parse().map_err(|_| missing())?;
            app.store
                .runs_by_ids(&[id], Some(&[]))
                .await?
                .pop()
                .ok_or_else(missing)?;
            Scope::Run(id)
        }
        _ => {
            return Err(ApiError::BadRequest(
                "give either experiment=ID or run=ID".into(),
            ));
        }
    };
    let seq = app.store.last_metric_seq().await?;
    let sent = app
        .store
        .runs_changed_since(scope, "")
        .await?
        .into_iter()
        .map(|r| (r.run_id, r.status))
        .collect();
    let since = harmonium_store::now();
    let feed = Feed {
        store: app.store.clone(),
        scope,
        seq,
        since,
        sent,
        first: true,
    };
    let stream = stream::unfold(feed, |mut feed| async move {
        let events = if feed.first {
            feed.first = false;
            vec![
                Event::default()
                    .event("ready")
                    .data(format!("{{\"seq\":{}}}", feed.seq)),
            ]
        } else {
            tokio::time::sleep(POLL).await;
            poll(&mut feed).await
        };
        Some((stream::iter(events.into_iter().map(Ok)), feed))
    })
    .flatten();
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// One look at the database: status changes first, then new points. Errors are sent as
/// `error` events and the feed goes on.
async fn poll(feed: &mut Feed) -> Vec<Event> {
    let mut out = Vec::new();
    // Timestamps have millisecond resolution: look back a little and drop what was sent.
    match feed.store.runs_changed_since(feed.scope, &feed.since).await {
        Ok(changes) => {
            for c in changes {
                if feed.since < c.changed_at {
                    feed.since = c.changed_at.clone();
                }
                if feed.sent.get(&c.run_id) != Some(&c.status) {
                    feed.sent.insert(c.run_id, c.status.clone());
                    out.push(json_event("status", &c));
                }
            }
        }
        Err(e) => out.push(Event::default().event("error").data(e.to_string())),
    }
    match feed
        .store
        .metrics_since(feed.scope, feed.seq, MAX_POINTS)
        .await
    {
        Ok(points) => {
            for p in points {
                feed.seq = feed.seq.max(p.seq);
                out.push(json_event("metric", &p));
            }
        }
        Err(e) => out.push(Event::default().event("error").data(e.to_string())),
    }
    out
}

fn json_event<T: serde::Serialize>(name: &str, v: &T) -> Event {
    Event::default()
        .event(name)
        .data(serde_json::to_string(v).unwrap_or_default())
}
