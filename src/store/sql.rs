//! SQLite conversions for our identifiers. They live here, not in `api`, so that the wire
//! types do not depend on SQLite.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use super::{CrawlId, CrawlStatus};
use crate::api::{ChainId, NetworkId, PeerId, PeerNetwork};

impl ToSql for CrawlId {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        self.0.to_sql()
    }
}

impl FromSql for CrawlId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        i64::column_result(value).map(CrawlId)
    }
}

impl ToSql for CrawlStatus {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for CrawlStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// Stored as its name, e.g. `mainnet01`.
impl ToSql for NetworkId {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.name()))
    }
}

impl FromSql for NetworkId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// Stored as base64url text without padding, as it appears on the wire.
impl ToSql for PeerId {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.to_string()))
    }
}

impl FromSql for PeerId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// The compact `net` column: `-1` for cut, the chain id for a mempool network.
pub(crate) fn net_code(network: PeerNetwork) -> i64 {
    match network {
        PeerNetwork::Cut => -1,
        PeerNetwork::Mempool(ChainId(c)) => i64::from(c),
    }
}

/// The inverse of [`net_code`]; `None` for values no writer produces.
pub(crate) fn net_from_code(code: i64) -> Option<PeerNetwork> {
    match code {
        -1 => Some(PeerNetwork::Cut),
        c => u16::try_from(c)
            .ok()
            .map(|c| PeerNetwork::Mempool(ChainId(c))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_codes_round_trip() {
        for n in [
            PeerNetwork::Cut,
            PeerNetwork::Mempool(ChainId(0)),
            PeerNetwork::Mempool(ChainId(19)),
            PeerNetwork::Mempool(ChainId(u16::MAX)),
        ] {
            assert_eq!(net_from_code(net_code(n)), Some(n));
        }
        assert_eq!(net_from_code(-2), None);
        assert_eq!(net_from_code(70000), None);
    }

    #[test]
    fn identifiers_round_trip_through_sqlite() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let id = PeerId::from_certificate_der(b"cert");
        let (net, peer, status, crawl): (NetworkId, PeerId, CrawlStatus, CrawlId) = conn
            .query_row(
                "SELECT ?1, ?2, ?3, ?4",
                rusqlite::params![NetworkId::Testnet06, id, CrawlStatus::Complete, CrawlId(7)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(
            (net, peer, status, crawl),
            (NetworkId::Testnet06, id, CrawlStatus::Complete, CrawlId(7))
        );
        let bad: rusqlite::Result<NetworkId> = conn.query_row("SELECT 'nope'", [], |r| r.get(0));
        assert!(bad.is_err());
    }
}
