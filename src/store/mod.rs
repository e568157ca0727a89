//! The SQLite database of crawls: schema and migrations, the writer thread, readers and the
//! public views.
//!
//! One database file holds many crawls. The crawl engine never touches SQLite: it sends
//! [`Event`](crate::crawl::Event)s to the writer ([`spawn_writer`]), and everything else
//! (CLI, graph, tests) reads through [`Store`].
//!
//! # Schema
//! Internal tables (`crawls`, `nodes`, `edge_lists`, `responses`, `invalid_entries`) are ours
//! to change through migrations (see [`schema`]). Nodes are keyed by `(crawl_id, node)` where
//! `node` is the crawl's [`NodeIdx`](crate::crawl::NodeIdx); edges are stored one row per
//! peer list, `(crawl_id, src, net)` with the destinations as a JSON array (see
//! `edge_lists`), where `net` is `-1` for the cut network and the chain id for a mempool
//! network. Host names are stored as text in the normalized form of
//! [`Hostname`](crate::api::Hostname)'s `Display` (IPv6 without brackets), peer ids and
//! fingerprints as base64url text, times of day as ISO-8601 UTC text.
//!
//! # Compatibility of the public views
//! `crawl_nodes` and `crawl_edges` are the contract with researchers and dashboards
//! (`DESIGN.md`). Their columns may only be appended to, never renamed, removed or reordered;
//! `schema::PUBLIC_VIEWS` lists them and a unit test compares it with the database. The
//! companion views `crawl_responses` and `crawl_invalid_entries` are readable renderings of
//! the response log and the rejected peer entries. A database whose `user_version` is newer
//! than this program knows is refused rather than misread.
//!
//! `crawl_nodes.reachable` is 1 when the node answered its peer lists, 0 when contacting it
//! failed, and NULL when it was not contacted; `error` then names the reason (for example
//! `policy_private` or `not_visited`).
//!
//! # Concurrency
//! Every connection uses WAL, `foreign_keys = ON` and a 5 s busy timeout. During a crawl one
//! writer thread owns its own connection and is the only writer of node, edge and response
//! rows; the main connection only creates and seals the `crawls` row. The internal tables show
//! the writer's progress at every commit, at most a few hundred milliseconds apart; the
//! public views show a crawl only once it is sealed (see `history`), so their readers never
//! see half a crawl.
//!
//! # Performance
//! The writer batches many events per transaction and reuses cached prepared statements.
//! `synchronous = NORMAL` is used with WAL: a power loss may lose the last commits, never
//! consistency. Edge lists carry no foreign keys (see `schema`): checking a parent per list
//! would cost throughput, and their destinations are inside the JSON text anyway.

mod diff;
mod edge_lists;
mod history;
mod node_info;
mod prune;
mod read;
pub mod schema;
mod sql;
mod writer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use crate::api::NetworkId;

pub use diff::{Changed, CrawlDiff, DiffEdge, NetworkDelta, network_label};
pub use node_info::NodeInfoRow;
pub use prune::CrawlSummary;
pub use read::{CrawlData, EdgeCount, EdgeRow, NodeRow};
pub use writer::{WRITER_CHANNEL_CAPACITY, WriterStats, spawn_writer};

/// How long a connection waits for another connection's lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The file exists but is not a SQLite database; it was left untouched.
    #[error("{path} is not a SQLite database (the file was left unchanged)")]
    NotADatabase {
        /// The file.
        path: PathBuf,
    },
    /// A SQLite database, but not one of ours (it has tables and no schema version).
    #[error("{path} is a SQLite database of another program (the file was left unchanged)")]
    ForeignDatabase {
        /// The file.
        path: PathBuf,
    },
    /// The file is empty: no crawl was ever stored in it.
    #[error("{path} is empty, not a chainweb-crawler database (the file was left unchanged)")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The database was written by a newer version of this program.
    #[error(
        "database schema version {found} is newer than this program knows ({known}); \
         use a newer chainweb-crawler"
    )]
    TooNew {
        /// `PRAGMA user_version` of the database.
        found: i64,
        /// The newest version this program knows.
        known: i64,
    },
    /// The database could not be opened.
    #[error("cannot open database {path}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rusqlite::Error,
    },
    /// No crawl has this id.
    #[error("no crawl with id {0}")]
    NoSuchCrawl(CrawlId),
    /// A stored value this program cannot interpret.
    #[error("invalid stored value: {0}")]
    Invalid(String),
    /// The writer thread (or its timer) could not be started.
    #[error("cannot start the store writer thread")]
    Thread(#[source] std::io::Error),
    /// The crawl parameters could not be encoded or decoded as JSON.
    #[error("crawl parameters: {0}")]
    Json(#[from] serde_json::Error),
    /// Any other SQLite error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// The id of one crawl in the database (the `crawls.id` column).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct CrawlId(pub i64);

impl fmt::Display for CrawlId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The state of a crawl, stored as lowercase text in `crawls.status`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CrawlStatus {
    /// Still going (or the process died without sealing it).
    Running,
    /// Ended with an empty frontier.
    Complete,
    /// Stopped by the user or a deadline; what was learned is kept.
    Interrupted,
    /// Stopped by an error.
    Failed,
}

impl CrawlStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            CrawlStatus::Running => "running",
            CrawlStatus::Complete => "complete",
            CrawlStatus::Interrupted => "interrupted",
            CrawlStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for CrawlStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CrawlStatus {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "running" => Ok(CrawlStatus::Running),
            "complete" => Ok(CrawlStatus::Complete),
            "interrupted" => Ok(CrawlStatus::Interrupted),
            "failed" => Ok(CrawlStatus::Failed),
            other => Err(StoreError::Invalid(format!("crawl status {other:?}"))),
        }
    }
}

/// One row of the `crawls` table.
#[derive(Clone, Debug, PartialEq)]
pub struct CrawlRecord {
    /// Its id.
    pub id: CrawlId,
    /// The chainweb network crawled.
    pub network: NetworkId,
    /// When it started, ISO-8601 UTC (`2026-01-31T12:00:00.000Z`).
    pub started_at: String,
    /// When it was sealed, if it was.
    pub ended_at: Option<String>,
    /// Its state.
    pub status: CrawlStatus,
    /// The parameters it ran with, as given to [`Store::begin_crawl`].
    pub parameters: serde_json::Value,
    /// Addresses still waiting in the frontier when it was sealed.
    pub frontier_left: Option<u64>,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// An open database: the main connection, used for crawl lifecycle and reading.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

/// SQL for an ISO-8601 UTC "now" with milliseconds.
const NOW_SQL: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// A file that is not a SQLite database, or is another program's SQLite database, or was
    /// written by a newer version of this program, is refused before anything is written.
    ///
    /// # Errors
    /// [`StoreError::NotADatabase`], [`StoreError::ForeignDatabase`], [`StoreError::TooNew`],
    /// [`StoreError::Open`], or a SQLite error while migrating.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        Store::setup(conn, Some(path))
    }

    /// Opens an existing database for reading only: no migration, no write lock, so it works
    /// on a read-only file and beside a running crawl. A database from an older version is
    /// upgraded first (that needs write access once); an empty file is refused rather than
    /// turned into a database.
    ///
    /// # Errors
    /// A missing, empty, foreign, non-SQLite or too new file; SQLite errors.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let (version, objects) = probe(&conn).map_err(|e| match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => StoreError::NotADatabase {
                path: path.to_path_buf(),
            },
            _ => StoreError::Sqlite(e),
        })?;
        if version == 0 && objects == 0 {
            return Err(StoreError::Empty {
                path: path.to_path_buf(),
            });
        }
        if version == 0 {
            return Err(StoreError::ForeignDatabase {
                path: path.to_path_buf(),
            });
        }
        if version > schema::SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                found: version,
                known: schema::SCHEMA_VERSION,
            });
        }
        if version < schema::SCHEMA_VERSION {
            drop(conn);
            return Store::open(path);
        }
        Ok(Store { conn })
    }

    /// A fresh private database in memory, for tests.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Store::setup(Connection::open_in_memory()?, None)
    }

    fn setup(mut conn: Connection, path: Option<&Path>) -> Result<Store, StoreError> {
        let display_path = || path.unwrap_or(Path::new(":memory:")).to_path_buf();
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Look before writing anything: reading the version reads the file header, which
        // fails with NOTADB on a file that is not SQLite.
        let (version, objects) = probe(&conn).map_err(|e| match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => StoreError::NotADatabase {
                path: display_path(),
            },
            _ => StoreError::Sqlite(e),
        })?;
        if version == 0 && objects > 0 {
            return Err(StoreError::ForeignDatabase {
                path: display_path(),
            });
        }
        if version > schema::SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                found: version,
                known: schema::SCHEMA_VERSION,
            });
        }
        // In memory the journal mode stays `memory`; that is fine.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        schema::migrate(&mut conn)?;
        Ok(Store { conn })
    }

    /// The underlying connection, for ad-hoc queries (tests, the CLI's `sql` helpers).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn into_connection(self) -> Connection {
        self.conn
    }

    /// Records the start of a crawl (status `running`) and returns its id.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn begin_crawl(
        &self,
        network: NetworkId,
        parameters: &serde_json::Value,
    ) -> Result<CrawlId, StoreError> {
        let parameters = serde_json::to_string(parameters)?;
        self.conn.execute(
            &format!(
                "INSERT INTO crawls (network, started_at, status, parameters) \
                 VALUES (?1, {NOW_SQL}, 'running', ?2)"
            ),
            params![network, parameters],
        )?;
        Ok(CrawlId(self.conn.last_insert_rowid()))
    }

    /// Seals a crawl: sets its status, end time, frontier size and error.
    ///
    /// Nodes that were neither contacted nor skipped (no `NodeVisited` or `NodeSkipped`
    /// arrived, e.g. after a hard interrupt) get the error `not_visited`, so that every
    /// uncontacted node in `crawl_nodes` says why. Call this after the writer has been
    /// joined.
    ///
    /// # Errors
    /// [`StoreError::NoSuchCrawl`]; SQLite errors.
    pub fn finish_crawl(
        &self,
        id: CrawlId,
        status: CrawlStatus,
        frontier_left: u64,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let frontier_left = i64::try_from(frontier_left).unwrap_or(i64::MAX);
        let tx = self.conn.unchecked_transaction()?;
        let changed = tx.execute(
            &format!(
                "UPDATE crawls SET status = ?2, ended_at = {NOW_SQL}, frontier_left = ?3, \
                 error = ?4 WHERE id = ?1"
            ),
            params![id, status, frontier_left, error],
        )?;
        if changed == 0 {
            return Err(StoreError::NoSuchCrawl(id));
        }
        tx.execute(
            "UPDATE nodes SET error = 'not_visited' \
             WHERE crawl_id = ?1 AND reachable IS NULL AND error IS NULL",
            params![id],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The most recently started crawl that is sealed (not `running`), if any: the same
    /// crawl the ready queries call the latest, so a crawl in progress is never read half
    /// written by default.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn latest_crawl(&self) -> Result<Option<CrawlId>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT max(id) FROM crawls WHERE status <> 'running'",
                [],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// Every crawl, oldest first.
    ///
    /// # Errors
    /// SQLite errors; [`StoreError::Invalid`] for rows this program cannot read.
    pub fn list_crawls(&self) -> Result<Vec<CrawlRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{CRAWL_SELECT} ORDER BY id"))?;
        let rows = stmt.query_map([], crawl_row)?;
        rows.map(|r| r?).collect()
    }

    /// One crawl.
    ///
    /// # Errors
    /// [`StoreError::NoSuchCrawl`]; SQLite errors.
    pub fn crawl(&self, id: CrawlId) -> Result<CrawlRecord, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{CRAWL_SELECT} WHERE id = ?1"))?;
        stmt.query_row([id], crawl_row)
            .optional()?
            .ok_or(StoreError::NoSuchCrawl(id))?
    }
}

fn probe(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    let version = schema::user_version(conn)?;
    let objects = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    Ok((version, objects))
}

const CRAWL_SELECT: &str = "SELECT id, network, started_at, ended_at, status, parameters, \
                            frontier_left, error FROM crawls";

/// Reads one `crawls` row; the outer `Result` is SQLite's, the inner one ours.
fn crawl_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<CrawlRecord, StoreError>> {
    let parameters: String = r.get(5)?;
    let frontier_left: Option<i64> = r.get(6)?;
    let record = (|| {
        Ok(CrawlRecord {
            id: r.get(0)?,
            network: r.get(1)?,
            started_at: r.get(2)?,
            ended_at: r.get(3)?,
            status: r.get(4)?,
            parameters: serde_json::from_str(&parameters)?,
            frontier_left: frontier_left.map(|n| u64::try_from(n).unwrap_or(0)),
            error: r.get(7)?,
        })
    })();
    Ok(record)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A unique scratch path under the system temp dir (removed by [`Scratch`]'s drop).
    pub(crate) struct Scratch(pub PathBuf);

    impl Scratch {
        pub(crate) fn new(name: &str) -> Scratch {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let dir = std::env::temp_dir().join(format!(
                "chainweb-crawler-store-{}-{}-{name}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn crawl_lifecycle() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.latest_crawl().unwrap(), None);
        let params = serde_json::json!({"concurrency": 64, "bootstrap": ["a:443"]});
        let id = store.begin_crawl(NetworkId::Mainnet01, &params).unwrap();
        let rec = store.crawl(id).unwrap();
        assert_eq!(rec.status, CrawlStatus::Running);
        assert_eq!(rec.network, NetworkId::Mainnet01);
        assert_eq!(rec.parameters, params);
        assert!(rec.ended_at.is_none());
        assert_eq!(rec.started_at.len(), "2026-01-31T12:00:00.000Z".len());

        store
            .finish_crawl(id, CrawlStatus::Interrupted, 12, Some("ctrl-c"))
            .unwrap();
        let rec = store.crawl(id).unwrap();
        assert_eq!(rec.status, CrawlStatus::Interrupted);
        assert_eq!(rec.frontier_left, Some(12));
        assert_eq!(rec.error.as_deref(), Some("ctrl-c"));
        assert!(rec.ended_at.is_some());

        let id2 = store
            .begin_crawl(NetworkId::Testnet06, &serde_json::json!({}))
            .unwrap();
        assert_eq!(
            store.latest_crawl().unwrap(),
            Some(id),
            "a running crawl is not the latest"
        );
        store
            .finish_crawl(id2, CrawlStatus::Complete, 0, None)
            .unwrap();
        assert_eq!(store.latest_crawl().unwrap(), Some(id2));
        let all = store.list_crawls().unwrap();
        assert_eq!(all.iter().map(|c| c.id).collect::<Vec<_>>(), vec![id, id2]);
        assert!(matches!(
            store.crawl(CrawlId(99)),
            Err(StoreError::NoSuchCrawl(CrawlId(99)))
        ));
        assert!(matches!(
            store.finish_crawl(CrawlId(99), CrawlStatus::Failed, 0, None),
            Err(StoreError::NoSuchCrawl(_))
        ));
    }

    #[test]
    fn not_a_database_is_refused_and_untouched() {
        let dir = Scratch::new("notadb");
        let path = dir.0.join("notes.db");
        let content: Vec<u8> = b"these are my notes, not a database\n"
            .iter()
            .copied()
            .cycle()
            .take(3000)
            .collect();
        std::fs::write(&path, &content).unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::NotADatabase { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("is not a SQLite database"), "{msg}");
        assert_eq!(std::fs::read(&path).unwrap(), content);
        let mut names: Vec<_> = std::fs::read_dir(&dir.0)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, vec![std::ffi::OsString::from("notes.db")]);
    }

    #[test]
    fn foreign_and_newer_databases_are_refused() {
        let dir = Scratch::new("foreign");
        let path = dir.0.join("other.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE t (x)").unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::ForeignDatabase { .. }), "{err:?}");
        assert_eq!(std::fs::read(&path).unwrap(), before);

        let path = dir.0.join("newer.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", 1000).unwrap();
        }
        let err = Store::open(&path).unwrap_err();
        assert!(
            matches!(err, StoreError::TooNew { found: 1000, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("newer"), "{err}");
    }

    #[test]
    fn reopen_file_database() {
        let dir = Scratch::new("reopen");
        let path = dir.0.join("crawls.db");
        let id = {
            let store = Store::open(&path).unwrap();
            store
                .begin_crawl(NetworkId::Development, &serde_json::json!(null))
                .unwrap()
        };
        let store = Store::open(&path).unwrap();
        assert_eq!(store.crawl(id).unwrap().status, CrawlStatus::Running);
        let mode: String = store
            .connection()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = store
            .connection()
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
    }
}
