//! `crawl --cut-heights`: after the peer-list crawl, read `GET …/cut` and `GET …/config`
//! of every node that answered, for its cut height and its self-reported address.
//!
//! The same egress policy applies as to the crawl (checked on the address, and again on
//! every resolved IP through [`PolicyResolver`]); bodies are capped like peer pages.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use super::resolve::{DialLog, NameResolver, PolicyResolver};
use super::{EgressPolicy, tls};
use crate::api::{API_PREFIX, HostAddress, Hostname, NetworkId};
use crate::sanitize::sanitize;
use crate::store::NodeInfoRow;

/// Longest text kept from a node.
const MAX_TEXT: usize = 255;

/// Settings of the node-info pass.
#[derive(Clone, Debug)]
pub struct NodeInfoSettings {
    /// The chainweb version in the URL.
    pub network: NetworkId,
    /// What may be contacted.
    pub policy: EgressPolicy,
    /// Nodes asked at once.
    pub concurrency: usize,
    /// Time allowed per request, body included.
    pub timeout: Duration,
    /// Largest body accepted.
    pub max_body_bytes: usize,
}

/// Reads cut and config of every node of `nodes` (hostname text, port).
///
/// # Errors
/// Only if the HTTP client cannot be built; a node that fails gets a row with `error`.
pub async fn fetch_node_info(
    nodes: Vec<(String, u16)>,
    settings: &NodeInfoSettings,
    resolver: Arc<dyn NameResolver>,
) -> Result<Vec<NodeInfoRow>, String> {
    let tls = tls::client_config().map_err(|e| e.to_string())?;
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(settings.timeout)
        .dns_resolver(Arc::new(PolicyResolver {
            inner: resolver,
            policy: settings.policy.clone(),
            log: Arc::new(DialLog::default()),
        }))
        .build()
        .map_err(|e| e.to_string())?;
    let rows = futures::stream::iter(nodes)
        .map(|(hostname, port)| {
            let client = client.clone();
            async move { one_node(&client, settings, hostname, port).await }
        })
        .buffer_unordered(settings.concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    Ok(rows)
}

async fn one_node(
    client: &reqwest::Client,
    s: &NodeInfoSettings,
    hostname: String,
    port: u16,
) -> NodeInfoRow {
    let mut row = NodeInfoRow {
        hostname: hostname.clone(),
        port,
        ..NodeInfoRow::default()
    };
    let addr = match hostname.parse::<Hostname>() {
        Ok(h) => HostAddress::new(h, port),
        Err(e) => {
            row.error = Some(format!("invalid address: {e}"));
            return row;
        }
    };
    if let Err(reason) = s.policy.check(&addr) {
        row.error = Some(reason.to_string());
        return row;
    }
    let base = format!("{}{API_PREFIX}/{}", addr.origin(), s.network.name());
    let mut errors = Vec::new();
    match get_json(client, &format!("{base}/cut"), s.max_body_bytes).await {
        Ok(v) => row.cut_height = v["height"].as_u64(),
        Err(e) => errors.push(format!("cut: {e}")),
    }
    match get_json(client, &format!("{base}/config"), s.max_body_bytes).await {
        Ok(v) => {
            let host = &v["p2p"]["peer"]["hostaddress"];
            row.self_hostname = host["hostname"].as_str().map(|h| sanitize(h, MAX_TEXT));
            row.self_port = host["port"].as_u64().and_then(|p| u16::try_from(p).ok());
            row.mempool_p2p = v["mempoolP2p"]["enabled"].as_bool();
        }
        Err(e) => errors.push(format!("config: {e}")),
    }
    if !errors.is_empty() {
        row.error = Some(sanitize(&errors.join("; "), MAX_TEXT));
    }
    row
}

/// One `GET` whose body must be JSON of at most `cap` bytes.
async fn get_json(client: &reqwest::Client, url: &str, cap: usize) -> Result<Value, String> {
    let mut resp = client.get(url).send().await.map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status().as_u16()));
    }
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err("body too large".into());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > cap {
            return Err("body too large".into());
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| format!("not JSON: {e}"))
}
