//! What a database file is, found before anything is written to it: empty (a new database),
//! harmonium's (and at which schema version), or another application's, which is refused.
//!
//! The look is taken through one read-only connection that changes nothing: no journal mode
//! is set, no migration runs. A file is harmonium's when its `_sqlx_migrations` table holds
//! harmonium's first migration with its checksum.

use std::path::Path;
use std::str::FromStr;

use sqlx::Connection;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use crate::{Result, StoreError};

/// The migrations this build knows (`migrations/` at the root of the workspace).
pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// What a file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schema {
    /// No tables: a new or empty database.
    Empty,
    /// Harmonium's, with migrations applied up to `version`; `current` when that is every
    /// migration of this build and the summaries are built.
    Harmonium { version: i64, current: bool },
}

/// The newest migration of this build.
pub fn latest_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Reads what `path` holds without writing to it. `immutable` opens the file as one that
/// cannot change (no lock, no `-shm` file), for files that cannot be written.
pub(crate) async fn inspect(path: &Path, immutable: bool) -> Result<Schema> {
    let unreadable = |reason: String| StoreError::Unreadable {
        path: path.into(),
        reason,
    };
    let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .map_err(|e| unreadable(e.to_string()))?
        .read_only(true)
        .immutable(immutable)
        .busy_timeout(std::time::Duration::from_secs(10));
    let mut conn = SqliteConnection::connect_with(&opts)
        .await
        .map_err(|e| unreadable(e.to_string()))?;
    let found = look(&mut conn, path).await;
    let _ = conn.close().await;
    found
}

async fn look(conn: &mut SqliteConnection, path: &Path) -> Result<Schema> {
    let unreadable = |reason: String| StoreError::Unreadable {
        path: path.into(),
        reason,
    };
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| unreadable(e.to_string()))?;
    let applied = if tables.iter().any(|t| t == "_sqlx_migrations") {
        sqlx::query_as("SELECT version, checksum, success FROM _sqlx_migrations")
            .fetch_all(&mut *conn)
            .await
            .ok()
    } else {
        None
    };
    let Some(version) = judge(path, &tables, applied, &MIGRATOR)? else {
        return Ok(Schema::Empty);
    };
    let built: Option<i64> = if tables.iter().any(|t| t == "store_meta") {
        sqlx::query_scalar("SELECT value FROM store_meta WHERE key = 'summaries_built'")
            .fetch_optional(&mut *conn)
            .await?
    } else {
        None
    };
    Ok(Schema::Harmonium {
        version,
        current: version == latest_version() && built == Some(1),
    })
}

/// A row of `_sqlx_migrations`: version, checksum, success.
pub(crate) type Applied = (i64, Vec<u8>, bool);

/// What a database's tables and its applied migrations (`None` when they could not be read) say,
/// on either engine: `None` for a new database, else the schema version harmonium's migrations
/// (`migrator`) reached. Another application's tables are [`StoreError::Foreign`], a newer
/// harmonium's schema an error.
pub(crate) fn judge(
    path: &Path,
    tables: &[String],
    applied: Option<Vec<Applied>>,
    migrator: &Migrator,
) -> Result<Option<i64>> {
    if tables.is_empty() {
        return Ok(None);
    }
    let foreign = || {
        let mut listed: Vec<&str> = tables.iter().map(String::as_str).take(8).collect();
        if tables.len() > 8 {
            listed.push("…");
        }
        StoreError::Foreign {
            path: path.into(),
            tables: listed.join(", "),
        }
    };
    if !tables.iter().any(|t| t == "_sqlx_migrations") {
        return Err(foreign());
    }
    let applied = applied.ok_or_else(foreign)?;
    // Only the bookkeeping table, with nothing recorded in it: another process is creating this
    // database at this moment (its first migration not yet committed), as when the tasks of an
    // array job start together on a new file. A new database, whose migrations wait for it.
    if tables.len() == 1 && applied.is_empty() {
        return Ok(None);
    }
    let first = migrator.iter().next().expect("a first migration");
    let ours = applied
        .iter()
        .any(|(version, checksum, _)| *version == first.version && **checksum == *first.checksum);
    if !ours {
        return Err(foreign());
    }
    let version = applied
        .iter()
        .filter(|(_, _, success)| *success)
        .map(|(version, _, _)| *version)
        .max()
        .unwrap_or(0);
    let latest = migrator.iter().map(|m| m.version).max().unwrap_or(0);
    if version > latest {
        return Err(StoreError::Message(format!(
            "database {}: written by a newer harmonium (schema version {version}; this one knows \
             up to {latest}): use that version to read it",
            path.display()
        )));
    }
    Ok(Some(version))
}

/// Whether this process can write the database and create the `-wal` and `-shm` files beside
/// it. Permission bits are read rather than trusted to the kernel, so a file made read-only
/// (`chmod a-w`) is treated as read-only even by root; a read-only mount is caught by
/// `access(2)`.
pub(crate) fn writable(path: &Path) -> bool {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let bits_allow = |p: &Path| std::fs::metadata(p).is_ok_and(|m| !m.permissions().readonly());
    bits_allow(path) && bits_allow(dir) && access_w(path) && access_w(dir)
}

/// Whether the write-ahead log beside the database holds pages not yet in the file.
pub(crate) fn log_pending(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(Path::new(&wal)).is_ok_and(|m| m.len() > 0)
}

#[cfg(unix)]
fn access_w(p: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(p.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated path; access only reads it.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

#[cfg(not(unix))]
fn access_w(_: &Path) -> bool {
    true
}
