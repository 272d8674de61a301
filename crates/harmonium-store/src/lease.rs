//! Leases on running trials, across hosts. A process running trials records a heartbeat for
//! each of them every [`heartbeat_interval`]; a run whose heartbeat is older than the lease
//! ([`lease`], 5 minutes, or `HARMONIUM_LEASE_SECONDS`) belongs to a process presumed dead — a
//! node that crashed, a preempted job that got no signal, a lost network — and the next claim of
//! its trial, from any host, marks it killed and takes the trial over. On its own host a dead
//! process is found at once by its pid; the lease is what finds it from elsewhere.

use std::time::Duration;

use crate::Result;

/// How long a run may go without a heartbeat before its trial is taken over.
pub fn lease() -> Duration {
    std::env::var("HARMONIUM_LEASE_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_secs(300))
}

/// How often a running process records its heartbeats: five times per lease.
pub fn heartbeat_interval() -> Duration {
    lease() / 5
}

/// The time before which a heartbeat has expired (in the store's timestamp format, which
/// orders as text).
pub(crate) fn expired_before() -> String {
    let lease = chrono::Duration::from_std(lease()).unwrap_or(chrono::Duration::MAX);
    (chrono::Utc::now() - lease).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Marks run `id`, whose heartbeat expired, killed (with its summary).
pub(crate) async fn mark_expired(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
) -> Result<bool> {
    crate::mark_killed(
        tx,
        id,
        "'no heartbeat from ' || host || ' since ' || heartbeat_at || \
         ': its process is presumed dead and the trial was taken over'",
    )
    .await
}
