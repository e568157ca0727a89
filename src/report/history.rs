//! Node counts per crawl, for the chart over time.

use rusqlite::params;

use crate::store::{CrawlRecord, Store, StoreError};

use super::charts::CrawlCounts;

/// Most crawls shown in the chart over time (the newest ones).
pub const HISTORY_MAX: usize = 200;

/// Node counts of `crawl` and of the crawls of the same network before it (by id), oldest
/// first, at most [`HISTORY_MAX`]. Later crawls are left out, so a crawl's report does not
/// change when the database grows.
///
/// # Errors
/// SQLite errors.
pub fn load(store: &Store, crawl: &CrawlRecord) -> Result<Vec<CrawlCounts>, StoreError> {
    let mut stmt = store.connection().prepare(
        "SELECT c.id, c.started_at, count(n.node), \
                coalesce(sum(n.reachable = 1), 0), coalesce(sum(n.reachable = 0), 0), \
                coalesce(sum(n.node IS NOT NULL AND n.reachable IS NULL), 0) \
         FROM crawls c LEFT JOIN nodes n ON n.crawl_id = c.id \
         WHERE c.network = ?1 AND c.id <= ?2 \
         GROUP BY c.id ORDER BY c.id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![crawl.network, crawl.id, HISTORY_MAX as i64], |r| {
        let count = |i: usize| r.get::<_, i64>(i).map(|v| u64::try_from(v).unwrap_or(0));
        Ok(CrawlCounts {
            id: r.get(0)?,
            started_at: r.get(1)?,
            counts: [count(2)?, count(3)?, count(4)?, count(5)?],
        })
    })?;
    let mut out = rows.collect::<Result<Vec<_>, _>>()?;
    out.reverse();
    Ok(out)
}
