//! The tracking store: one interface over the database, so the runner and the dashboard never
//! write SQL of their own.
//!
//! SQLite by default (WAL mode, busy timeout), schema from the sqlx migrations in `migrations/`.
//! Writes from training go through one [`writer::Writer`] task; reads are plain async methods
//! of [`Store`] returning typed rows, so no other crate holds a connection or writes SQL:
//!
//! - [`runs`]: experiments, runs, their params, metrics and artifacts, pages of runs;
//! - [`aggregate`]: the one group aggregation (n, mean, std, min, max per group, final and per
//!   step; Welch intervals between levels) behind `harmonium compare` and the dashboard;
//! - [`feed`]: the change stamp and what was written since a position (the live feed);
//! - [`curves`] and [`columns`]: the packed per-run curves and the per-experiment run columns
//!   the writer keeps beside the recorded rows (`summaries.rs`), so that reads over 100,000
//!   runs touch a few rows per run or fewer.
//!
//! Queries are written to be portable (bound values, `IN` lists built from binds, explicit id
//! columns for positions, statistics computed here rather than by the engine), so that another
//! engine is a new connection type and a migration folder.

pub mod aggregate;
pub mod columns;
pub mod curves;
pub mod feed;
pub mod runs;
mod summaries;
pub mod writer;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use aggregate::{Contrast, GroupCurve, GroupFinal, GroupQuery, Stat};
pub use runs::*;
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
    #[error(
        "cannot read {path} as a harmonium results database: {reason}\n\
         (is it corrupt, or another kind of file? pass the database `harmonium run` wrote with --db)"
    )]
    Unreadable { path: PathBuf, reason: String },
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
    pool: SqlitePool,
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
        let store = Store {
            pool,
            path: path.into(),
        };
        summaries::build_pending(&store).await?;
        Ok(store)
    }

    /// Opens an existing harmonium database for reading only: its schema is first brought up to
    /// date (new tables and indexes; recorded results are never changed), then every query goes
    /// through read-only connections.
    pub async fn open_read_only(path: &Path) -> Result<Store> {
        if !path.exists() {
            return Err(StoreError::NotFound { path: path.into() });
        }
        let unreadable = |reason: String| StoreError::Unreadable {
            path: path.into(),
            reason,
        };
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(|e| unreadable(e.to_string()))?
            .read_only(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|e| unreadable(e.to_string()))?;
        let probe = sqlx::query("SELECT 1 FROM experiments, runs, metrics LIMIT 1")
            .fetch_optional(&pool)
            .await;
        if let Err(e) = probe {
            pool.close().await;
            let reason = match &e {
                sqlx::Error::Database(d) if d.message().contains("no such table") => {
                    "it has no experiments, runs and metrics tables".to_string()
                }
                _ => e.to_string(),
            };
            return Err(unreadable(reason));
        }
        Self::open_existing(path)
            .await
            .map_err(|e| unreadable(e.to_string()))?
            .pool
            .close()
            .await;
        Ok(Store {
            pool,
            path: path.into(),
        })
    }

    /// Closes every connection (pending reads finish first).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The folder, below the artifacts folder, that this database's runs write their artifacts
    /// to: the database's file name and a number drawn when it was first asked for (kept in the
    /// database, so it does not change when the file is moved or renamed). Two databases never
    /// share it, so their run ids cannot collide on disk.
    pub async fn artifact_folder(&self) -> Result<String> {
        let stem: String = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "db".into())
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(&(now(), std::process::id(), &self.path), &mut h);
        let drawn = format!("{stem}-{:08x}", std::hash::Hasher::finish(&h) as u32);
        sqlx::query("INSERT INTO store_info (key, value) VALUES ('artifact_folder', ?) ON CONFLICT (key) DO NOTHING")
            .bind(&drawn)
            .execute(&self.pool)
            .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM store_info WHERE key = 'artifact_folder'")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Marks the summaries as stale, so that the next [`Store::open`] rebuilds them from the
    /// recorded rows (for rows written by other means than the writer).
    pub async fn invalidate_summaries(&self) -> Result<()> {
        sqlx::query("UPDATE store_meta SET value = 0 WHERE key = 'summaries_built'")
            .execute(&self.pool)
            .await?;
        Ok(())
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
                let mut tx = self.pool.begin().await?;
                let marked = sqlx::query(
                    "UPDATE runs SET status = 'killed', finished_at = ?, \
                     error = COALESCE(error, 'the process running this trial ended without finishing it (killed or crashed)') \
                     WHERE id = ? AND status IN ('running', 'queued')",
                )
                .bind(now())
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if marked > 0 {
                    summaries::on_status(&mut *tx, id, "killed").await?;
                    feed::bump_revision(&mut *tx).await?;
                    n += 1;
                }
                tx.commit().await?;
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
