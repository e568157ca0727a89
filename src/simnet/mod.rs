//! A simulated chainweb network: many loopback HTTPS nodes serving peer lists, with ground
//! truth.
//!
//! # Layout
//! - [`cert`]: self-signed node certificates shaped like chainweb's, and peer ids.
//! - [`topology`]: the seeded generator of who lives where and who lists whom.
//! - [`server`]: one node's HTTPS server (routes, paging, headers).
//! - [`truth`]: what was served, and what a perfect crawl must find.
//! - [`fault`]: the hostile profile's faults as data; [`hostile`] serves them.
//!
//! # Rules
//! Every address is in `127.{subnet}.0.0/16`; the simulator never binds or contacts
//! anything else. Everything a [`Simnet`] serves follows from its [`SimnetConfig`] alone.
//! Dropping a [`Simnet`] stops every task it started; [`Simnet::shutdown`] also waits for
//! them.

pub mod cert;
pub mod churn;
pub mod fault;
pub mod gauge;
pub mod hostile;
pub mod info;
pub mod latency;
pub mod peerdb;
pub mod put;
pub mod realistic;
pub mod server;
pub mod topology;
pub mod truth;

#[cfg(test)]
mod conformance_tests;
#[cfg(test)]
mod put_tests;
#[cfg(test)]
pub(crate) mod test_client;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

pub use cert::{CertError, KeyKind, NodeCert};
pub use topology::{MAX_NODES, P2P_PORT, Profile, SimnetConfig, Topology};
pub use truth::{ExpectedCrawl, ExpectedEdge, GroundTruth, TruthError, TruthList, TruthNode};

use crate::api::{HostAddress, PeerInfo};
use churn::{Applied, ExpectedChurn};
use server::{NodeHandle, Served, SharedServed};
use topology::LiveNode;

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

/// A snapshot of the served topology (see [`Simnet::topology`]).
#[derive(Debug, Clone)]
pub struct TopologyRef(Arc<Served>);

impl std::ops::Deref for TopologyRef {
    type Target = Topology;
    fn deref(&self) -> &Topology {
        &self.0.topology
    }
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
    /// What every node serves now (replaced by [`Simnet::churn`]).
    served: SharedServed,
    /// The listener task of each live address.
    listeners: HashMap<SocketAddr, AbortHandle>,
    /// Churn steps applied so far.
    round: u64,
    /// Live-address slots ever used (new nodes never reuse a stopped node's address).
    next_index: usize,
    /// Requests being answered, network-wide.
    gauge: Arc<gauge::NetworkGauge>,
}

/// One churn step: what the simulator did, and what a perfect crawl sees change.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ChurnReport {
    /// The step's number (1 for the first).
    pub round: u64,
    /// Its probability.
    pub p: f64,
    /// What it did.
    pub applied: Applied,
    /// What a crawl before and a crawl after it see change (the ground truth of `diff`).
    pub expected: ExpectedChurn,
}

/// Binds one node's address with its certificate (another node's, for a certificate
/// mismatch fault).
async fn bind(
    node: &LiveNode,
    fault: Option<&fault::Fault>,
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Result<(TcpListener, TlsAcceptor), SimnetError> {
    let addr = node.addr;
    let cert = match fault {
        Some(fault::Fault::CertMismatch(other)) => other,
        _ => &node.cert,
    };
    let tls = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .and_then(|b| {
            b.with_no_client_auth()
                .with_single_cert(vec![cert.der.clone()], cert.private_key())
        })
        .map_err(|source| SimnetError::Tls { addr, source });
    let mut tls = tls?;
    tls.alpn_protocols = if matches!(fault, Some(fault::Fault::OneByteAtATime)) {
        // Trickling is done per byte on an HTTP/1.1 connection.
        vec![b"http/1.1".to_vec()]
    } else {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    };
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| SimnetError::Bind { addr, source })?;
    Ok((listener, TlsAcceptor::from(Arc::new(tls))))
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

        // TLS setup and binding first: a failure returns before any task exists.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut bound = Vec::with_capacity(topology.nodes.len());
        for (index, node) in topology.nodes.iter().enumerate() {
            let fault = topology.faults.get(index);
            if matches!(fault, Some(fault::Fault::NothingListening)) {
                continue;
            }
            bound.push((index, node.addr, bind(node, fault, &provider).await?));
        }
        let live: Vec<HostAddress> = bound
            .iter()
            .map(|(_, addr, _)| HostAddress::from(*addr))
            .collect();

        let next_index = topology.nodes.len();
        let raw_faults: HashMap<SocketAddr, fault::Fault> = bound
            .iter()
            .filter_map(|(index, addr, _)| {
                let f = topology.faults.get(*index).filter(|f| f.is_raw())?;
                Some((*addr, f.clone()))
            })
            .collect();
        let served: SharedServed = Arc::new(RwLock::new(Arc::new(Served::new(topology)?)));
        let (stop, _) = watch::channel(false);
        let mut net = Simnet {
            config,
            truth,
            bootstrap,
            live,
            stop,
            tasks: JoinSet::new(),
            served,
            listeners: HashMap::new(),
            round: 0,
            next_index,
            gauge: Arc::default(),
        };
        for (_, addr, (listener, acceptor)) in bound {
            match raw_faults.get(&addr) {
                // Faults below HTTP (silence, trickling, plain HTTP) get a raw listener.
                Some(f) => {
                    let handle = net.tasks.spawn(hostile::run_raw(
                        listener,
                        acceptor,
                        f.clone(),
                        net.stop.subscribe(),
                        net.config.connection_deadline,
                    ));
                    net.listeners.insert(addr, handle);
                }
                None => net.spawn_listener(addr, listener, acceptor),
            }
        }
        Ok(net)
    }

    fn spawn_listener(&mut self, addr: SocketAddr, listener: TcpListener, acceptor: TlsAcceptor) {
        let node = NodeHandle {
            served: self.served.clone(),
            addr,
            gauge: self.gauge.clone(),
            node_gauge: Arc::default(),
            delay: latency::address_delay(
                self.config.seed,
                addr,
                self.config.latency,
                self.config.latency_jitter,
            ),
        };
        let handle = self.tasks.spawn(server::run(
            listener,
            acceptor,
            node,
            self.stop.subscribe(),
            self.config.connection_deadline,
        ));
        self.listeners.insert(addr, handle);
    }

    /// Applies one churn step of probability `p` (see [`churn`]): stops the nodes that
    /// leave, replaces certificates, starts new nodes, and swaps every peer list at once.
    /// Run it between crawls; the truth then describes the new round.
    ///
    /// # Errors
    /// [`SimnetError::Config`] for `p` outside 0..=1; [`SimnetError::Bind`],
    /// [`SimnetError::Cert`] or [`SimnetError::Tls`] when a new node cannot start (the
    /// network then keeps serving, with that node missing).
    pub async fn churn(&mut self, p: f64) -> Result<ChurnReport, SimnetError> {
        let old = self
            .served
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let round = self.round + 1;
        let mut next_index = self.next_index;
        let (topology, applied) =
            churn::step(&old.topology, &self.config, round, p, &mut next_index)?;
        let before = churn::listeners(&old.topology);
        let after = churn::listeners(&topology);
        // Stop the nodes that leave or change certificate, and wait until their sockets
        // are closed, so that the next crawl finds them gone.
        // Waited for by task id: another listener task that ends meanwhile must not count
        // as one of these, or a node re-bound at its address would find it still in use.
        let mut stopped = std::collections::HashSet::new();
        for (addr, id) in &before {
            if after.get(addr) != Some(id)
                && let Some(h) = self.listeners.remove(addr)
            {
                h.abort();
                stopped.insert(h.id());
            }
        }
        while !stopped.is_empty() {
            match tokio::time::timeout(server::GRACE * 5, self.tasks.join_next_with_id()).await {
                Ok(Some(Ok((id, ())))) => {
                    stopped.remove(&id);
                }
                Ok(Some(Err(e))) => {
                    if e.is_panic() {
                        std::panic::resume_unwind(e.into_panic());
                    }
                    stopped.remove(&e.id());
                }
                Ok(None) | Err(_) => break,
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut bound = Vec::new();
        for node in &topology.nodes {
            if before.get(&node.addr) != Some(&node.cert.id) {
                bound.push((node.addr, bind(node, None, &provider).await?));
            }
        }
        let expected_before =
            std::mem::replace(&mut self.truth, GroundTruth::from_topology(&topology));
        self.bootstrap = topology.bootstrap_peers();
        self.live = topology
            .nodes
            .iter()
            .map(|n| HostAddress::from(n.addr))
            .collect();
        let served = Arc::new(Served::new(topology)?);
        *self.served.write().unwrap_or_else(PoisonError::into_inner) = served;
        for (addr, (listener, acceptor)) in bound {
            self.spawn_listener(addr, listener, acceptor);
        }
        self.round = round;
        self.next_index = next_index;
        Ok(ChurnReport {
            round,
            p,
            applied,
            expected: ExpectedChurn::between(&expected_before, &self.truth),
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

    /// The most requests the network has answered at once since start (or the last
    /// [`Simnet::reset_request_peaks`]), in all and on its busiest node.
    pub fn request_peaks(&self) -> gauge::RequestPeaks {
        self.gauge.peaks()
    }

    /// Starts counting [`Simnet::request_peaks`] afresh.
    pub fn reset_request_peaks(&self) {
        self.gauge.reset();
    }

    /// Everything the network served at start (before any `PUT`).
    pub fn truth(&self) -> &GroundTruth {
        &self.truth
    }

    /// Everything the network serves now: the start's truth changed by every accepted
    /// `PUT` (added entries, replaced ids, merged networks).
    pub fn current_truth(&self) -> GroundTruth {
        GroundTruth::from_served(&self.current())
    }

    /// A receiver that sees the number of changes so far; it changes after every `PUT`
    /// that altered a served list (to rewrite a truth file, say). A churn step starts a new
    /// count: subscribe again after one.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.current().state.generation.subscribe()
    }

    /// The topology served now (as generated, or as the last churn step left it).
    pub fn topology(&self) -> TopologyRef {
        TopologyRef(self.current())
    }

    fn current(&self) -> Arc<Served> {
        self.served
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
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
