//! The tracking store: one interface over the database, so the runner and the dashboard never
//! write SQL of their own.
//!
//! SQLite by default (WAL mode, busy timeout), schema from the sqlx migrations in `migrations/`;
//! or a PostgreSQL server (`postgres://…`, [`postgres`]) with the same versions of the schema in
//! `migrations/postgres/`. Both go through sqlx's `Any` driver, so every query below is one text
//! for both engines (numbered `$N` placeholders, which SQLite reads too).
//! Writes from training go through one [`writer::Writer`] task; reads are plain async methods
//! of [`Store`] returning typed rows, so no other crate holds a connection or writes SQL:
//!
//! - [`runs`]: experiments, runs, their params, metrics and artifacts, pages of runs;
//! - [`aggregate`]: the one group aggregation (n, mean, std, min, max per group, final and per
//!   step; Welch and paired-by-seed intervals between levels) behind `harmonium compare` and the dashboard;
//! - [`references`]: the published figures of an experiment file (`reference:`, read back from
//!   the file's text the store keeps), lined up with the groups of a comparison;
//! - [`feed`]: the change stamp and what was written since a position (the live feed);
//! - [`curves`] and [`columns`]: the packed per-run curves and the per-experiment run columns
//!   the writer keeps beside the recorded rows (`summaries.rs`), so that reads over 100,000
//!   runs touch a few rows per run or fewer.
//!
//! Queries are written to be portable (bound values, `IN` lists built from binds, explicit id
//! columns for positions, statistics computed here rather than by the engine).

pub mod aggregate;
pub mod columns;
pub mod curves;
pub mod feed;
pub mod lease;
pub mod postgres;
pub mod references;
pub mod runs;
pub mod schema;
mod summaries;
pub mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::sqlite::SqliteConnectOptions;

pub use aggregate::{Contrast, GroupCurve, GroupFinal, GroupQuery, Stat};
pub use runs::*;
pub use writer::{Claimed, NewRun, Writer, WriterHandle};

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
    #[error(
        "{path} is not a harmonium results database: it holds other tables ({tables}). \
         Nothing was written to it; pass a new file or one `harmonium run` wrote with --db"
    )]
    Foreign { path: PathBuf, tables: String },
    #[error(
        "{path} has the schema of an older harmonium (version {version}, this one reads \
         {latest}) and cannot be written here, so it is not upgraded: copy it somewhere \
         writable and run `harmonium migrate --db COPY` (ls, show, compare, export and serve \
         never write to a read-only database)"
    )]
    Outdated {
        path: PathBuf,
        version: i64,
        latest: i64,
    },
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
    pool: AnyPool,
    /// The database file, or for a server the URL with its password left out.
    pub path: PathBuf,
    engine: Engine,
}

/// The database engine behind a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// A file, the embedded default.
    Sqlite,
    /// A PostgreSQL server (`postgres://…`), which many hosts can share.
    Postgres,
}

/// Whether `--db` names a PostgreSQL server rather than a file.
pub fn is_server_url(db: &Path) -> bool {
    let s = db.to_string_lossy();
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// A server URL with its password replaced by `***`, for messages and [`Store::path`].
pub fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.into();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some(x) => x,
        None => return url.into(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.into(),
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date. A
    /// file that holds another application's tables is refused before anything is written.
    /// A `postgres://` URL opens that server's database instead (see [`postgres`]).
    pub async fn open(path: &Path) -> Result<Store> {
        if is_server_url(path) {
            return postgres::open(&path.to_string_lossy(), false).await;
        }
        refuse_server_urls(path)?;
        if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
            schema::inspect(path, false).await?;
        }
        Self::connect(path, true).await
    }

    /// Opens an existing database for reading: the same as [`Store::open_read_only`].
    pub async fn open_existing(path: &Path) -> Result<Store> {
        Self::open_read_only(path).await
    }

    /// The engine behind this store.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    async fn connect(path: &Path, create: bool) -> Result<Store> {
        let mode = if create { "rwc" } else { "rw" };
        let pool = sqlite_pool(path, mode, false).await?;
        // Processes started together on a new file race to create its tables: the loser's
        // migration fails on a table the winner just made, and is tried again after the
        // winner's commit, when there is nothing left to do.
        let mut attempt = 0;
        loop {
            match schema::MIGRATOR.run(&pool).await {
                Ok(()) => break,
                Err(_) if attempt < 8 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                }
                Err(source) => {
                    return Err(StoreError::Migrate {
                        path: path.into(),
                        source,
                    });
                }
            }
        }
        let store = Store {
            pool,
            path: path.into(),
            engine: Engine::Sqlite,
        };
        summaries::build_pending(&store).await?;
        Ok(store)
    }

    /// Opens an existing harmonium database for reading only; every query goes through
    /// read-only connections. A database this process cannot write (a read-only file, folder
    /// or mount) is read as it is, without a lock, journal or `-shm` file, when its schema is
    /// current, and is an [`StoreError::Outdated`] error when it is not. A writable database
    /// with an older schema is first brought up to date (new tables and indexes; recorded
    /// results are never changed). A `postgres://` URL is read from that server.
    pub async fn open_read_only(path: &Path) -> Result<Store> {
        if is_server_url(path) {
            return postgres::open(&path.to_string_lossy(), true).await;
        }
        refuse_server_urls(path)?;
        if !path.exists() {
            return Err(StoreError::NotFound { path: path.into() });
        }
        let writable = schema::writable(path);
        // A file that cannot change is read without locks or a `-shm` file, unless its
        // write-ahead log still holds results (then SQLite must read the log).
        let immutable = !writable && !schema::log_pending(path);
        match schema::inspect(path, immutable).await? {
            schema::Schema::Empty => {
                return Err(StoreError::Unreadable {
                    path: path.into(),
                    reason: "it has no experiments, runs and metrics tables".into(),
                });
            }
            schema::Schema::Harmonium { current: true, .. } => {}
            schema::Schema::Harmonium { version, .. } if !writable => {
                return Err(StoreError::Outdated {
                    path: path.into(),
                    version,
                    latest: schema::latest_version(),
                });
            }
            schema::Schema::Harmonium { .. } => Self::connect(path, false).await?.close().await,
        }
        let pool = sqlite_pool(path, "ro", immutable).await?;
        Ok(Store {
            pool,
            path: path.into(),
            engine: Engine::Sqlite,
        })
    }

    /// Closes every connection (pending reads finish first). A writer first moves what the
    /// write-ahead log holds into the database file, so that the file alone holds every result
    /// (to copy, archive or read from a read-only place).
    pub async fn close(&self) {
        if self.engine == Engine::Postgres {
            self.pool.close().await;
            return;
        }
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await;
        self.pool.close().await;
        // A busy moment can leave the (emptied) log and its index behind; the last connection
        // to close removes them, so open and close one more.
        let log = PathBuf::from(format!("{}-wal", self.path.display()));
        if log.exists() && schema::writable(&self.path) {
            let opts = SqliteConnectOptions::new()
                .filename(&self.path)
                .busy_timeout(std::time::Duration::from_secs(10));
            if let Ok(c) = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&opts).await {
                let _ = sqlx::Connection::close(c).await;
            }
        }
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
        sqlx::query("INSERT INTO store_info (key, value) VALUES ('artifact_folder', $1) ON CONFLICT (key) DO NOTHING")
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
            "SELECT id, pid FROM runs WHERE status IN ('running', 'queued') AND host = $1",
        )
        .bind(host)
        .fetch_all(&self.pool)
        .await?;
        let mut n = 0;
        for (id, pid) in rows {
            if pid as u32 != std::process::id() && !process_alive(pid) {
                let mut tx = self.pool.begin().await?;
                let marked = mark_orphan_killed(&mut tx, id).await?;
                if marked {
                    feed::bump_revision(&mut *tx).await?;
                    n += 1;
                }
                tx.commit().await?;
            }
        }
        Ok(n)
    }
}

/// Marks run `id`, left `running` or `queued` by a process that no longer exists, `killed`
/// (with its summary); whether it was still open.
pub(crate) async fn mark_orphan_killed(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
) -> Result<bool> {
    mark_killed(
        tx,
        id,
        "'the process running this trial ended without finishing it (killed or crashed)'",
    )
    .await
}

/// Marks open run `id` `killed` with the error `reason` (an SQL expression over the run's
/// columns) unless it has one, and updates its summary; whether it was still open.
pub(crate) async fn mark_killed(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    reason: &str,
) -> Result<bool> {
    let marked = sqlx::query(&format!(
        "UPDATE runs SET status = 'killed', finished_at = $1, error = COALESCE(error, {reason}) \
         WHERE id = $2 AND status IN ('running', 'queued')"
    ))
    .bind(now())
    .bind(id)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        > 0;
    if marked {
        summaries::on_status(&mut **tx, id, "killed").await?;
    }
    Ok(marked)
}

/// The URL of a server other than PostgreSQL where a file is expected: say so instead of
/// failing to open a file named like a URL.
fn refuse_server_urls(path: &Path) -> Result<()> {
    let p = path.to_string_lossy();
    if let Some((scheme, _)) = p.split_once("://") {
        return Err(StoreError::Message(format!(
            "--db {scheme}://…: results are stored in SQLite (a file path) or PostgreSQL \
             (postgres://user:password@host:port/database); {scheme} is not supported"
        )));
    }
    Ok(())
}

/// A pool of SQLite connections to `path` (`mode`: `rwc` creates the file, `rw` does not, `ro`
/// reads only; `immutable` for a file that cannot change). Writers use the write-ahead log and
/// wait up to 30 s for another process's write lock.
async fn sqlite_pool(path: &Path, mode: &'static str, immutable: bool) -> Result<AnyPool> {
    sqlx::any::install_default_drivers();
    let encoded: String = path
        .to_string_lossy()
        .chars()
        .map(|c| match c {
            '%' => "%25".to_string(),
            '?' => "%3F".to_string(),
            '#' => "%23".to_string(),
            c => c.to_string(),
        })
        .collect();
    let mut url = format!("sqlite://{encoded}?mode={mode}");
    if immutable {
        url.push_str("&immutable=true");
    }
    let write = mode != "ro";
    AnyPoolOptions::new()
        .max_connections(4)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                let pragmas = if write {
                    "PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON"
                } else {
                    "PRAGMA busy_timeout = 10000"
                };
                sqlx::Executor::execute(&mut *conn, pragmas).await?;
                Ok(())
            })
        })
        .connect(&url)
        .await
        .map_err(|source| StoreError::Open {
            path: path.into(),
            source,
        })
}

/// Whether a process with this id exists. Only Linux can tell (through /proc); elsewhere every
/// process is assumed alive, so no run is wrongly marked killed.
pub(crate) fn process_alive(pid: i64) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

#[cfg(test)]
mod tests;
