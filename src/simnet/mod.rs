//! A simulated chainweb network: many loopback HTTPS nodes serving peer lists, with ground
//! truth.
//!
//! # Layout
//! - [`cert`]: self-signed node certificates shaped like chainweb's, and peer ids.
//! - [`topology`]: the seeded generator of who lives where and who lists whom.
//! - [`server`]: one node's HTTPS server (routes, paging, headers).
//! - [`truth`]: what was served, and what a perfect crawl must find.
//!
//! # Rules
//! Every address is in `127.{subnet}.0.0/16`; the simulator never binds or contacts
//! anything else. Everything a [`Simnet`] serves follows from its [`SimnetConfig`] alone.
//! Dropping a [`Simnet`] stops every task it started; [`Simnet::shutdown`] also waits for
//! them.

pub mod cert;
pub mod latency;
pub mod server;
pub mod topology;
pub mod truth;

#[cfg(test)]
mod conformance_tests;
#[cfg(test)]
pub(crate) mod test_client;

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

pub use cert::{CertError, KeyKind, NodeCert};
pub use topology::{MAX_NODES, P2P_PORT, Profile, SimnetConfig, Topology};
pub use truth::{ExpectedCrawl, ExpectedEdge, GroundTruth, TruthError, TruthList, TruthNode};

use crate::api::{HostAddress, PeerInfo};
use server::{NodeHandle, Served};

/// Why a simulated network could not be started or written out.
#[derive(Debug, thiserror::Error)]
pub enum SimnetError {
    /// The configuration cannot be simulated.
    #[error("invalid simnet configuration: {0}")]
    Config(String),
    /// A node certificate could not be made.
    #[error(transparent)]
    Cert(#[from] CertError),
    /// rustls rejected a node's certificate or key.
    #[error("cannot set up TLS for {addr}: {source}")]
    Tls {
        /// The node.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: rustls::Error,
    },
    /// A node's address could not be bound (in use by another simnet? pick another subnet).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// An entry could not be serialized.
    #[error("cannot serialize a peer entry: {0}")]
    Serialize(#[from] serde_json::Error),
    /// Generating the topology did not finish (its task panicked or was cancelled).
    #[error("topology generation failed: {0}")]
    Generate(String),
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// A running simulated network.
///
/// Dropping it signals every listener and connection task to stop and aborts them; call
/// [`Simnet::shutdown`] to also wait until they have ended.
#[derive(Debug)]
pub struct Simnet {
    /// The configuration it was started with.
    config: SimnetConfig,
    /// What every node serves.
    truth: GroundTruth,
    /// The bootstrap hubs, with ids.
    bootstrap: Vec<PeerInfo>,
    /// Every bound address, in node order.
    live: Vec<HostAddress>,
    /// Set to `true` (or dropped) to stop every task.
    stop: watch::Sender<bool>,
    /// One task per listening node; each owns its connection tasks.
    tasks: JoinSet<()>,
}

impl Simnet {
    /// Generates the network of `config`, binds every live node and starts serving.
    ///
    /// # Errors
    /// [`SimnetError::Config`] for an impossible configuration, [`SimnetError::Bind`] naming
    /// the address if one cannot be bound (nothing is left running then), and
    /// [`SimnetError::Cert`] / [`SimnetError::Tls`] if a certificate cannot be made or used.
    pub async fn start(config: SimnetConfig) -> Result<Simnet, SimnetError> {
        let gen_config = config.clone();
        let topology = tokio::task::spawn_blocking(move || Topology::generate(&gen_config))
            .await
            .map_err(|e| SimnetError::Generate(e.to_string()))??;
        let truth = GroundTruth::from_topology(&topology);
        let bootstrap = topology.bootstrap_peers();
        let live: Vec<HostAddress> = topology
            .nodes
            .iter()
            .map(|n| HostAddress::from(n.addr))
            .collect();

        // TLS setup and binding first: a failure returns before any task exists.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut bound = Vec::with_capacity(topology.nodes.len());
        for node in &topology.nodes {
            let addr = node.addr;
            let tls = rustls::ServerConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .and_then(|b| {
                    b.with_no_client_auth()
                        .with_single_cert(vec![node.cert.der.clone()], node.cert.private_key())
                })
                .map_err(|source| SimnetError::Tls { addr, source });
            let mut tls = tls?;
            tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| SimnetError::Bind { addr, source })?;
            bound.push((listener, TlsAcceptor::from(Arc::new(tls))));
        }

        let served = Arc::new(Served::new(topology)?);
        let (stop, _) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for (index, (listener, acceptor)) in bound.into_iter().enumerate() {
            let node = NodeHandle {
                served: served.clone(),
                index,
                delay: latency::node_delay(
                    config.seed,
                    index,
                    config.latency,
                    config.latency_jitter,
                ),
            };
            tasks.spawn(server::run(
                listener,
                acceptor,
                node,
                stop.subscribe(),
                config.connection_deadline,
            ));
        }
        Ok(Simnet {
            config,
            truth,
            bootstrap,
            live,
            stop,
            tasks,
        })
    }

    /// The configuration the network was started with.
    pub fn config(&self) -> &SimnetConfig {
        &self.config
    }

    /// The bootstrap hubs, with their ids.
    pub fn bootstrap(&self) -> Vec<PeerInfo> {
        self.bootstrap.clone()
    }

    /// Everything the network serves.
    pub fn truth(&self) -> &GroundTruth {
        &self.truth
    }

    /// The address of every live node, in node order.
    pub fn live_addresses(&self) -> Vec<HostAddress> {
        self.live.clone()
    }

    /// Number of listener tasks still running (0 after [`Simnet::shutdown`]).
    pub fn running_tasks(&self) -> usize {
        self.tasks.len()
    }

    /// Writes the bootstrap peers as a bootstrap list file (see [`bootstrap_list_text`]).
    ///
    /// # Errors
    /// [`SimnetError::Io`] if the file cannot be written.
    pub fn write_bootstrap_file(&self, path: &Path) -> Result<(), SimnetError> {
        std::fs::write(path, bootstrap_list_text(&self.bootstrap)).map_err(|source| {
            SimnetError::Io {
                path: path.to_path_buf(),
                source,
            }
        })
    }

    /// Stops every node and waits until every listener and connection task has ended.
    ///
    /// # Panics
    /// Re-raises the panic of a server task, so that tests see it.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while let Some(res) = self.tasks.join_next().await {
            if let Err(e) = res
                && e.is_panic()
            {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    }
}

impl Drop for Simnet {
    /// The drop guard: signal every task and abort the listeners (aborting a listener
    /// drops its `JoinSet`, which aborts its connections).
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        self.tasks.abort_all();
    }
}

/// A bootstrap list in the format `api::parse_bootstrap_list` reads: a `#` comment header,
/// then one `id@host:port` per line.
pub fn bootstrap_list_text(peers: &[PeerInfo]) -> String {
    let mut text = String::from("# chainweb-crawler simnet bootstrap peers: id@host:port\n");
    for p in peers {
        text.push_str(&p.to_string());
        text.push('\n');
    }
    text
}
