//! Checking a stored crawl of a hostile simnet fault by fault, through the public views.
//!
//! For every [`TruthFault`] of the ground truth: the node row's `reachable` and `error`, a
//! response carrying the expected error, the invalid entries it served by reason, the
//! refused entries (recorded as nodes, never contacted), its edge to itself, and the
//! fingerprint of a mismatched certificate.

use rusqlite::{OptionalExtension, params};

use crate::simnet::fault::TruthFault;
use crate::store::{CrawlId, Store, StoreError};

/// `host:port` (IPv6 in brackets) split into the view's `hostname` and `port`.
fn split(address: &str) -> (String, i64) {
    let (host, port) = address.rsplit_once(':').unwrap_or((address, "0"));
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (host.to_string(), port.parse().unwrap_or(-1))
}

type NodeFacts = (Option<bool>, Option<String>, Option<String>, Option<String>);

fn node(store: &Store, id: CrawlId, address: &str) -> Result<Option<NodeFacts>, StoreError> {
    let (host, port) = split(address);
    Ok(store
        .connection()
        .query_row(
            "SELECT reachable, error, peer_id, tls_fingerprint FROM crawl_nodes
             WHERE crawl_id = ?1 AND hostname = ?2 AND port = ?3",
            params![id.0, host, port],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?)
}

fn count(
    store: &Store,
    sql: &str,
    id: CrawlId,
    address: &str,
    arg: &str,
) -> Result<i64, StoreError> {
    let (host, port) = split(address);
    Ok(store
        .connection()
        .query_row(sql, params![id.0, host, port, arg], |r| r.get(0))?)
}

/// Every way crawl `id` differs from what the faults require; empty when all are found
/// with the right reason.
///
/// # Errors
/// A failed query.
pub fn check_faults(
    store: &Store,
    id: CrawlId,
    faults: &[TruthFault],
) -> Result<Vec<String>, StoreError> {
    let mut problems = Vec::new();
    for f in faults {
        let who = format!("{} ({})", f.fault, f.address);
        let Some((reachable, error, peer_id, fingerprint)) = node(store, id, &f.address)? else {
            problems.push(format!("{who}: no node row"));
            continue;
        };
        if reachable != Some(f.reachable) || error != f.error {
            problems.push(format!(
                "{who}: reachable {reachable:?} error {error:?}, want {} {:?}",
                f.reachable, f.error
            ));
        }
        if let Some(want) = &f.response_error {
            let n = count(
                store,
                "SELECT count(*) FROM crawl_responses
                 WHERE crawl_id = ?1 AND hostname = ?2 AND port = ?3 AND error = ?4",
                id,
                &f.address,
                want,
            )?;
            if n == 0 {
                problems.push(format!("{who}: no response with error {want}"));
            }
        }
        for (reason, want) in &f.invalid_entries {
            let n = count(
                store,
                "SELECT count(*) FROM crawl_invalid_entries
                 WHERE crawl_id = ?1 AND src_hostname = ?2 AND src_port = ?3 AND reason = ?4",
                id,
                &f.address,
                reason,
            )?;
            if n != *want as i64 {
                problems.push(format!("{who}: {n} invalid entries {reason}, want {want}"));
            }
        }
        for (address, want) in &f.refused_entries {
            match node(store, id, address)? {
                Some((None, Some(e), _, _)) if &e == want => {}
                got => problems.push(format!(
                    "{who}: entry {address} recorded as {got:?}, want never contacted ({want})"
                )),
            }
            let (host, port) = split(address);
            let contacted: i64 = store.connection().query_row(
                "SELECT count(*) FROM crawl_responses
                 WHERE crawl_id = ?1 AND hostname = ?2 AND port = ?3",
                params![id.0, host, port],
                |r| r.get(0),
            )?;
            if contacted > 0 {
                problems.push(format!("{who}: entry {address} was contacted"));
            }
        }
        if f.lists_itself {
            let (host, port) = split(&f.address);
            let n: i64 = store.connection().query_row(
                "SELECT count(*) FROM crawl_edges WHERE crawl_id = ?1
                 AND src_hostname = ?2 AND src_port = ?3 AND dst_hostname = ?2 AND dst_port = ?3",
                params![id.0, host, port],
                |r| r.get(0),
            )?;
            if n == 0 {
                problems.push(format!("{who}: no edge to itself"));
            }
        }
        if let Some(served) = &f.served_id
            && (fingerprint.as_ref() != Some(served) || peer_id.as_ref() == Some(served))
        {
            problems.push(format!(
                "{who}: peer_id {peer_id:?} fingerprint {fingerprint:?}, want the served {served}"
            ));
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crawl_without_the_faults_fails_every_check() {
        let store = Store::open_in_memory().unwrap();
        let id = store
            .begin_crawl(crate::api::NetworkId::Mainnet01, &serde_json::json!({}))
            .unwrap();
        let faults = vec![
            TruthFault {
                address: "127.0.0.1:1789".into(),
                fault: "slow".into(),
                reachable: true,
                ..TruthFault::default()
            },
            TruthFault {
                address: "[::1]:1789".into(),
                fault: "html".into(),
                ..TruthFault::default()
            },
        ];
        let problems = check_faults(&store, id, &faults).unwrap();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("slow (127.0.0.1:1789): no node row"));
    }

    #[test]
    fn splits_addresses() {
        assert_eq!(split("127.0.0.1:1789"), ("127.0.0.1".into(), 1789));
        assert_eq!(split("[::1]:80"), ("::1".into(), 80));
        assert_eq!(
            split("node.example.org:443"),
            ("node.example.org".into(), 443)
        );
    }
}
