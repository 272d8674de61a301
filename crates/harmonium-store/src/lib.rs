//! The tracking store: one interface over the database, so the runner and the dashboard never
//! write SQL of their own.
//!
//! SQLite by default (WAL mode, busy timeout), schema from the sqlx migrations in `migrations/`.
//! Writes from training go through one [`writer::Writer`] task; reads are plain async functions.

pub mod query;
pub mod read;
pub mod writer;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use read::*;
pub use writer::{NewRun, Writer, WriterHandle};

/// Environment variable naming the database file.
pub const DB_ENV: &str = "HARMONIUM_DB";
/// The database file used when neither `--db` nor `HARMONIUM_DB` says otherwise.
pub const DEFAULT_DB: &str = "harmonium.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Open { path: PathBuf, source: sqlx::Error },
    #[error("database {path}: could not apply migrations: {source}")]
    Migrate {
        path: PathBuf,
        source: sqlx::migrate::MigrateError,
    },
    #[error("database {path} does not exist (run an experiment first, or pass --db)")]
    NotFound { path: PathBuf },
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("{0}")]
    Message(String),
    #[error("the database writer has stopped")]
    WriterGone,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Current time as RFC 3339 text, the format of every timestamp column.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// An open database.
#[derive(Clone, Debug)]
pub struct Store {
    pub pool: SqlitePool,
    pub path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Store> {
        Self::connect(path, true).await
    }

    /// Opens an existing database for reading; a missing file is an error, not a new database.
    pub async fn open_existing(path: &Path) -> Result<Store> {
        if !path.exists() {
            return Err(StoreError::NotFound { path: path.into() });
        }
        Self::connect(path, false).await
    }

    async fn connect(path: &Path, create: bool) -> Result<Store> {
        let url = format!("sqlite://{}", path.display());
        let opts = SqliteConnectOptions::from_str(&url)
            .map_err(|source| StoreError::Open {
                path: path.into(),
                source,
            })?
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|source| StoreError::Open {
                path: path.into(),
                source,
            })?;
        sqlx::migrate!("../../migrations")
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                path: path.into(),
                source,
            })?;
        Ok(Store {
            pool,
            path: path.into(),
        })
    }

    /// Marks runs left `running` or `queued` by a process on this host that no longer exists
    /// as `killed`. Returns how many were marked. Finished runs are never touched.
    pub async fn reap_dead_runs(&self, host: &str) -> Result<u64> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, pid FROM runs WHERE status IN ('running', 'queued') AND host = ?",
        )
        .bind(host)
        .fetch_all(&self.pool)
        .await?;
        let mut n = 0;
        for (id, pid) in rows {
            if pid as u32 != std::process::id() && !process_alive(pid) {
                sqlx::query(
                    "UPDATE runs SET status = 'killed', finished_at = ?, \
                     error = COALESCE(error, 'the process running this trial ended without finishing it (killed or crashed)') \
                     WHERE id = ? AND status IN ('running', 'queued')",
                )
                .bind(now())
                .bind(id)
                .execute(&self.pool)
                .await?;
                n += 1;
            }
        }
        Ok(n)
    }
}

/// Whether a process with this id exists. Only Linux can tell (through /proc); elsewhere every
/// process is assumed alive, so no run is wrongly marked killed.
fn process_alive(pid: i64) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

#[cfg(test)]
mod tests;
