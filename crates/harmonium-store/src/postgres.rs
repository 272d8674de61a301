//! The store on a PostgreSQL server: `--db postgres://user:password@host:port/database`, which
//! processes on many hosts can share (the workers of one sweep, the tasks of a job array).
//!
//! The tables are those of the SQLite migrations, in PostgreSQL's types (`migrations/postgres/`,
//! the same versions), and every query of the store is written for both engines. What differs:
//! - what a database holds is read from `pg_tables` of the connection's schema; a database with
//!   another application's tables is refused before anything is written;
//! - concurrent first opens are safe: the migrations run under sqlx's advisory lock;
//! - the writer's transactions take `store_meta` in SHARE ROW EXCLUSIVE mode before reading, the
//!   counterpart of SQLite's `BEGIN IMMEDIATE`: writers commit one at a time, so a claim's check
//!   and insert see every earlier claim, and metric ids grow in commit order (the live feed's
//!   positions).

use std::path::PathBuf;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

use crate::{Engine, Result, Store, StoreError, mask_password, summaries};

/// The migrations for PostgreSQL (`migrations/postgres/` at the root of the workspace).
pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// The statement that makes a writer's transaction the only one writing (see the module doc).
pub(crate) const WRITE_LOCK: &str = "LOCK TABLE store_meta IN SHARE ROW EXCLUSIVE MODE";

/// Connects to the server at `url`, checks what its database holds, and brings harmonium's
/// schema up to date (also when `read_only`: a server database is shared, and the migrations only
/// add tables and columns). A new database (no tables) is set up unless `read_only`.
pub(crate) async fn open(url: &str, read_only: bool) -> Result<Store> {
    sqlx::any::install_default_drivers();
    let shown = PathBuf::from(mask_password(url));
    let cannot = |e: sqlx::Error| {
        StoreError::Message(format!(
            "cannot connect to the PostgreSQL database {}: {}",
            shown.display(),
            connect_reason(&e)
        ))
    };
    // No prepared-statement cache: sqlx's Any driver binds a NULL f64 as a float4, so a
    // statement prepared first with a NULL would then refuse the float8 of a number.
    let url = &if url.contains("statement-cache-capacity") {
        url.to_string()
    } else {
        format!(
            "{url}{}statement-cache-capacity=0",
            if url.contains('?') { '&' } else { '?' }
        )
    };
    // One connection first: a refused connection or a wrong password is an error at once,
    // where the pool would keep trying until its timeout.
    let first = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .map_err(cannot)?;
    let _ = sqlx::Connection::close(first).await;
    let pool: AnyPool = AnyPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(20))
        .connect(url)
        .await
        .map_err(cannot)?;
    if look(&pool, &shown).await?.is_none() && read_only {
        pool.close().await;
        return Err(StoreError::Message(format!(
            "the PostgreSQL database {} holds no harmonium results yet (no tables): run an \
             experiment against it first",
            shown.display()
        )));
    }
    if let Err(source) = MIGRATOR.run(&pool).await {
        pool.close().await;
        return Err(StoreError::Migrate {
            path: shown,
            source,
        });
    }
    let store = Store {
        pool,
        path: shown,
        engine: Engine::Postgres,
    };
    summaries::build_pending(&store).await?;
    Ok(store)
}

/// What a connection error means to a user: the server's own message when it sent one (a
/// wrong password, a database that does not exist), else the transport's.
fn connect_reason(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        sqlx::Error::Io(io) => {
            format!("{io} (is the server running, and is the host and port right?)")
        }
        sqlx::Error::PoolTimedOut => {
            "no connection within 20 s (is the server running, and is the host and port right?)"
                .into()
        }
        other => other.to_string(),
    }
}

/// What the connection's schema holds: `None` for nothing (a new database), else the version of
/// harmonium's schema ([`crate::schema::judge`]: another application's tables, or a newer
/// harmonium's, are an error).
async fn look(pool: &AnyPool, shown: &std::path::Path) -> Result<Option<i64>> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = current_schema() \
         ORDER BY tablename",
    )
    .fetch_all(pool)
    .await?;
    let applied = if tables.iter().any(|t| t == "_sqlx_migrations") {
        sqlx::query_as("SELECT version, checksum, success FROM _sqlx_migrations")
            .fetch_all(pool)
            .await
            .ok()
    } else {
        None
    };
    crate::schema::judge(shown, &tables, applied, &MIGRATOR)
}
