//! The schema: an ordered list of migrations and the public views' column contract.
//!
//! # Rules for the migration list
//! Never edit, reorder or remove a shipped entry: a database's `PRAGMA user_version` is the
//! number of entries already applied to it, so changes only ever append. Public views
//! (`crawl_nodes`, `crawl_edges`) may gain columns at the end in a new migration (drop and
//! recreate the view), but never lose, rename or reorder one; [`PUBLIC_VIEWS`] and its test
//! guard that.

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

/// Migration 1: crawls, nodes, edges, responses, invalid entries and the public views.
///
/// Networks are stored compactly in the internal tables as `net`: `-1` for the cut network,
/// the chain id for a chain's mempool network (`NULL` in `responses` for requests that are
/// not peer-list pages). The views turn that back into `network` / `chain`.
const MIGRATION_1: &str = r#"
CREATE TABLE crawls (
    id            INTEGER PRIMARY KEY,
    network       TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    ended_at      TEXT,
    status        TEXT NOT NULL
                  CHECK (status IN ('running', 'complete', 'interrupted', 'failed')),
    parameters    TEXT NOT NULL DEFAULT '{}',
    frontier_left INTEGER,
    error         TEXT
);

-- One row per node known in a crawl; `node` is the crawl's own node number.
CREATE TABLE nodes (
    crawl_id         INTEGER NOT NULL REFERENCES crawls (id) ON DELETE CASCADE,
    node             INTEGER NOT NULL,
    hostname         TEXT NOT NULL,
    port             INTEGER NOT NULL,
    peer_id          TEXT,
    bootstrap        INTEGER NOT NULL DEFAULT 0,
    reachable        INTEGER,
    tls_fingerprint  TEXT,
    node_version     TEXT,
    server_timestamp INTEGER,
    peer_addr        TEXT,
    clock_skew_s     REAL,
    pages            INTEGER,
    error            TEXT,
    PRIMARY KEY (crawl_id, node)
) WITHOUT ROWID;
CREATE INDEX nodes_address ON nodes (crawl_id, hostname, port);

-- One row per advertised peer entry. A clustered key of four small integers keeps ten
-- million rows per crawl compact, makes reading one crawl a range scan, and de-duplicates.
-- No foreign keys on purpose: checking two parents per row costs write throughput, and a
-- cascade through `dst` would need a second index as large as the table. The writer only
-- stores node numbers it has seen in `NodeLearned`; deleting a crawl deletes its edges first.
CREATE TABLE edges (
    crawl_id INTEGER NOT NULL,
    src      INTEGER NOT NULL,
    net      INTEGER NOT NULL,
    dst      INTEGER NOT NULL,
    PRIMARY KEY (crawl_id, src, net, dst)
) WITHOUT ROWID;

CREATE TABLE responses (
    crawl_id         INTEGER NOT NULL,
    node             INTEGER NOT NULL,
    net              INTEGER,
    page             INTEGER NOT NULL,
    cursor           TEXT,
    status           INTEGER,
    latency_ms       REAL NOT NULL,
    peer_addr        TEXT,
    server_timestamp TEXT,
    node_version     TEXT,
    tls_fingerprint  TEXT,
    items            INTEGER NOT NULL,
    next             TEXT,
    bytes            INTEGER NOT NULL,
    error            TEXT,
    detail           TEXT,
    observed_at_ms   INTEGER NOT NULL,
    FOREIGN KEY (crawl_id, node) REFERENCES nodes (crawl_id, node) ON DELETE CASCADE
);
CREATE INDEX responses_node ON responses (crawl_id, node);

CREATE TABLE invalid_entries (
    crawl_id INTEGER NOT NULL,
    src      INTEGER NOT NULL,
    net      INTEGER NOT NULL,
    reason   TEXT NOT NULL,
    raw      TEXT NOT NULL,
    FOREIGN KEY (crawl_id, src) REFERENCES nodes (crawl_id, node) ON DELETE CASCADE
);
CREATE INDEX invalid_entries_src ON invalid_entries (crawl_id, src);

CREATE VIEW crawl_nodes AS
SELECT n.crawl_id, n.hostname, n.port, n.peer_id, n.reachable, n.tls_fingerprint,
       n.node_version, n.server_timestamp, n.peer_addr, n.error
FROM nodes AS n;

CREATE VIEW crawl_edges AS
SELECT e.crawl_id,
       s.hostname AS src_hostname, s.port AS src_port,
       d.hostname AS dst_hostname, d.port AS dst_port, d.peer_id AS dst_peer_id,
       CASE WHEN e.net < 0 THEN 'cut' ELSE 'mempool' END AS network,
       CASE WHEN e.net < 0 THEN NULL ELSE e.net END AS chain
FROM edges AS e
JOIN nodes AS s ON s.crawl_id = e.crawl_id AND s.node = e.src
JOIN nodes AS d ON d.crawl_id = e.crawl_id AND d.node = e.dst;

CREATE VIEW crawl_responses AS
SELECT r.crawl_id, n.hostname, n.port,
       CASE WHEN r.net IS NULL THEN NULL WHEN r.net < 0 THEN 'cut' ELSE 'mempool' END
           AS network,
       CASE WHEN r.net >= 0 THEN r.net END AS chain,
       r.page, r.cursor, r.status, r.latency_ms, r.peer_addr, r.server_timestamp,
       r.node_version, r.tls_fingerprint, r.items, r.next, r.bytes, r.error, r.detail,
       strftime('%Y-%m-%dT%H:%M:%fZ', r.observed_at_ms / 1000.0, 'unixepoch') AS observed_at
FROM responses AS r
JOIN nodes AS n ON n.crawl_id = r.crawl_id AND n.node = r.node;

CREATE VIEW crawl_invalid_entries AS
SELECT i.crawl_id, n.hostname AS src_hostname, n.port AS src_port,
       CASE WHEN i.net < 0 THEN 'cut' ELSE 'mempool' END AS network,
       CASE WHEN i.net < 0 THEN NULL ELSE i.net END AS chain,
       i.reason, i.raw
FROM invalid_entries AS i
JOIN nodes AS n ON n.crawl_id = i.crawl_id AND n.node = i.src;
"#;

/// Migration 3: what `crawl --cut-heights` reads from each reachable node's `GET …/cut`
/// and `GET …/config`, and the companion view `crawl_node_info` (the columns of
/// `crawl_nodes` stay as they are).
const MIGRATION_3_NODE_INFO: &str = r#"
CREATE TABLE node_info (
    crawl_id      INTEGER NOT NULL REFERENCES crawls (id) ON DELETE CASCADE,
    node          INTEGER NOT NULL,
    cut_height    INTEGER,
    self_hostname TEXT,
    self_port     INTEGER,
    mempool_p2p   INTEGER,
    error         TEXT,
    PRIMARY KEY (crawl_id, node)
) WITHOUT ROWID;

CREATE VIEW crawl_node_info AS
SELECT i.crawl_id, n.hostname, n.port, i.cut_height, i.self_hostname, i.self_port,
       i.mempool_p2p, i.error
FROM node_info AS i
JOIN nodes AS n ON n.crawl_id = i.crawl_id AND n.node = i.node
JOIN crawls AS c ON c.id = i.crawl_id AND c.status <> 'running';
"#;

/// Every migration, oldest first. Append only (see the module docs).
const MIGRATIONS: &[&str] = &[
    MIGRATION_1,
    super::history::MIGRATION_SEALED_VIEWS_AND_HISTORY,
    MIGRATION_3_NODE_INFO,
    super::edge_lists::MIGRATION_EDGE_LISTS,
];

/// The schema version this program writes: the number of migrations it knows.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The public views and their columns, in order. Part of the contract with researchers and
/// dashboards (see `DESIGN.md`): columns are only ever appended.
pub const PUBLIC_VIEWS: &[(&str, &[&str])] = &[
    (
        "crawl_nodes",
        &[
            "crawl_id",
            "hostname",
            "port",
            "peer_id",
            "reachable",
            "tls_fingerprint",
            "node_version",
            "server_timestamp",
            "peer_addr",
            "error",
            "bootstrap",
            "clock_skew_s",
        ],
    ),
    (
        "crawl_edges",
        &[
            "crawl_id",
            "src_hostname",
            "src_port",
            "dst_hostname",
            "dst_port",
            "dst_peer_id",
            "network",
            "chain",
        ],
    ),
    (
        "crawl_responses",
        &[
            "crawl_id",
            "hostname",
            "port",
            "network",
            "chain",
            "page",
            "cursor",
            "status",
            "latency_ms",
            "peer_addr",
            "server_timestamp",
            "node_version",
            "tls_fingerprint",
            "items",
            "next",
            "bytes",
            "error",
            "detail",
            "observed_at",
        ],
    ),
    (
        "crawl_invalid_entries",
        &[
            "crawl_id",
            "src_hostname",
            "src_port",
            "network",
            "chain",
            "reason",
            "raw",
        ],
    ),
    (
        "crawl_summary",
        &[
            "crawl_id",
            "network",
            "status",
            "started_at",
            "ended_at",
            "duration_s",
            "nodes_known",
            "nodes_reachable",
            "nodes_failed",
            "nodes_not_contacted",
            "cut_edges",
            "mempool_edges",
            "frontier_left",
        ],
    ),
    (
        "crawl_node_history",
        &[
            "network",
            "hostname",
            "port",
            "first_crawl_id",
            "first_seen",
            "last_crawl_id",
            "last_seen",
            "crawls_seen",
            "crawls_reached",
            "last_reached_crawl_id",
            "last_reachable",
            "last_version",
            "last_peer_id",
            "last_tls_fingerprint",
        ],
    ),
    (
        "crawl_node_info",
        &[
            "crawl_id",
            "hostname",
            "port",
            "cut_height",
            "self_hostname",
            "self_port",
            "mempool_p2p",
            "error",
        ],
    ),
];

/// Reads `PRAGMA user_version`.
pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Applies every migration the database lacks, in one exclusive transaction.
///
/// The version is read again inside the transaction, so two processes opening a new
/// database at once apply each migration exactly once.
///
/// # Errors
/// [`StoreError::TooNew`] when the database was written by a newer program; SQLite errors.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    let found = user_version(&tx)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    let applied = usize::try_from(found).unwrap_or(0);
    for migration in &MIGRATIONS[applied..] {
        tx.execute_batch(migration)?;
    }
    if found != SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrate_twice_in_memory() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 6);
    }

    #[test]
    fn newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
    }

    /// Fails when a public view loses, renames or reorders a column.
    #[test]
    fn public_view_columns_are_the_contract() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        for (view, expected) in PUBLIC_VIEWS {
            let stmt = conn.prepare(&format!("SELECT * FROM {view}")).unwrap();
            let names: Vec<&str> = stmt.column_names().collect();
            assert_eq!(&names, expected, "columns of view {view}");
        }
        // And literally as DESIGN.md states them.
        let stmt = conn.prepare("SELECT * FROM crawl_nodes").unwrap();
        assert_eq!(
            stmt.column_names().collect::<Vec<_>>().join(", "),
            "crawl_id, hostname, port, peer_id, reachable, tls_fingerprint, node_version, \
             server_timestamp, peer_addr, error, bootstrap, clock_skew_s"
        );
        let stmt = conn.prepare("SELECT * FROM crawl_edges").unwrap();
        assert_eq!(
            stmt.column_names().collect::<Vec<_>>().join(", "),
            "crawl_id, src_hostname, src_port, dst_hostname, dst_port, dst_peer_id, network, chain"
        );
    }
}
