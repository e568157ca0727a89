//! The command line as typed: clap definitions only. Turning these into checked settings
//! happens in the command modules.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::api::{NetworkId, PeerInfo};

/// Maps the Kadena chainweb peer-to-peer network into SQLite.
///
/// Crawls every node's cut peer list and every chain's mempool peer list, follows every
/// address it learns (within the egress policy), records nodes, edges and response headers
/// in a SQLite database, and writes reachability statistics, DOT, GraphML and an HTML report.
///
/// Exit codes: 0 finished (unreachable nodes are data, not errors); 1 runtime error or a
/// crawl that reached no bootstrap node; 2 usage error; 130 interrupted (the crawl is kept,
/// sealed as interrupted).
#[derive(Debug, Parser)]
#[command(name = "chainweb-crawler", version, max_term_width = 100)]
pub struct Opts {
    /// When to show progress bars on stderr.
    #[arg(long, value_enum, default_value_t = ProgressWhen::Auto, global = true)]
    pub progress: ProgressWhen,

    /// Print nothing but errors and requested data.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// When progress bars are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressWhen {
    /// Only when stderr is a terminal.
    Auto,
    /// Always (still only drawn on a terminal).
    Always,
    /// Never.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a simulated network in this process, crawl it, write the outputs and compare the
    /// crawl with the simulator's ground truth.
    Demo(DemoArgs),
    /// Crawl a chainweb network and store the crawl in a database.
    Crawl(CrawlArgs),
    /// Serve a simulated chainweb network on loopback addresses until Ctrl-C.
    Simnet(SimnetArgs),
    /// Print reachability statistics of a stored crawl.
    Stats(StatsArgs),
    /// Export a stored crawl as DOT, GraphML, JSON, CSV or a peer list.
    Export(ExportArgs),
    /// What changed between two stored crawls (default: the last two).
    Diff(super::diff::DiffArgs),
    /// Delete all but the newest stored crawls.
    Prune(super::diff::PruneArgs),
    /// Write a self-contained HTML report of a stored crawl: summary, topology map, charts.
    Report(ReportArgs),
    /// Announce a peer to one node (PUT of its peer list) and print the node's answer.
    AddPeer(AddPeerArgs),
    /// Benchmark: crawl a simulated network served by a child process, and measure the
    /// network and storage ceilings in the same run.
    Bench(BenchArgs),
}

/// Options of `add-peer`.
#[derive(Debug, Args)]
pub struct AddPeerArgs {
    /// The node to tell, as `[<id>@]<host>:<port>`; must be a loopback address unless
    /// --allow-remote is given.
    #[arg(long, value_name = "PEER", value_parser = parse_peer)]
    pub node: PeerInfo,
    /// The peer to announce, as `[<id>@]<host>:<port>` (sent as its PeerInfo JSON).
    #[arg(long, value_name = "PEER", value_parser = parse_peer)]
    pub peer: PeerInfo,
    /// Which peer list: the cut network or a chain's mempool network.
    #[arg(long, value_enum, default_value_t = PeerNetworkKind::Cut)]
    pub network: PeerNetworkKind,
    /// The chain of a mempool list.
    #[arg(long)]
    pub chain: Option<u16>,
    /// Chainweb version in the URL path.
    #[arg(long, default_value = "mainnet01", value_parser = parse_network)]
    pub chainweb_version: NetworkId,
    /// Allow a non-loopback target (an IP literal the egress policy allows: public only).
    #[arg(long)]
    pub allow_remote: bool,
    /// Seconds to wait for the answer (the node's own callback takes up to 4 s).
    #[arg(long, default_value_t = 15.0)]
    pub timeout: f64,
}

/// A peer network kind on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PeerNetworkKind {
    /// The cut network (`cut/peer`).
    Cut,
    /// A chain's mempool network (`chain/N/mempool/peer`, with --chain).
    Mempool,
}

/// Options of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of live simulated nodes.
    #[arg(long, default_value_t = 300)]
    pub nodes: usize,
    /// Seed of the simulated topology (same seed, same network).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Second octet of the simulated addresses (127.<subnet>.x.y), to run several at once.
    #[arg(long, default_value_t = 1)]
    pub subnet: u8,
    /// Shape of the simulated network (the well-behaved part is compared with the ground
    /// truth; with `hostile`, each fault is checked alone).
    #[arg(long, value_enum, default_value_t = ProfileArg::Clean)]
    pub profile: ProfileArg,
    /// Give nodes RSA-4096 / SHA-512 certificates like real nodes (one key made at start,
    /// shared by all nodes; ids change per run) instead of the fast, reproducible Ed25519
    /// default.
    #[arg(long)]
    pub real_certs: bool,
    /// Folder for crawl.sqlite, cut.dot, network.graphml, stats.json, report.html and
    /// truth.json.
    #[arg(long, default_value = "output")]
    pub out: PathBuf,
    /// Nodes crawled at once, as `crawl --concurrency` (requests in flight are capped at
    /// concurrency × 4, the crawl's default --per-node).
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Also read every reachable node's cut height and self-reported address (as
    /// `crawl --cut-heights`).
    #[arg(long)]
    pub cut_heights: bool,
    /// Print the statistics as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Options of `crawl`.
#[derive(Debug, Args)]
pub struct CrawlArgs {
    /// Chainweb network (version) to crawl.
    #[arg(long, default_value = "mainnet01", value_parser = parse_network)]
    pub network: NetworkId,
    /// A bootstrap node as `[<id>@]<host>:<port>` (IPv6 in brackets); repeatable. Replaces
    /// the network's built-in list.
    #[arg(long, value_name = "PEER", value_parser = parse_peer)]
    pub bootstrap: Vec<PeerInfo>,
    /// A file of bootstrap nodes, one `[<id>@]<host>:<port>` per line, `#` comments.
    #[arg(long, value_name = "FILE")]
    pub bootstrap_file: Option<PathBuf>,
    /// Engine settings.
    #[command(flatten)]
    pub crawl: CrawlOptions,
    /// Database to add the crawl to (created if missing).
    #[arg(long, default_value = "output/crawl.sqlite")]
    pub db: PathBuf,
    /// Folder for cut.dot, network.graphml, stats.json and report.html.
    #[arg(long, default_value = "output")]
    pub out: PathBuf,
    /// Print the statistics as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Scheduling, pruning and reporting.
    #[command(flatten)]
    pub schedule: super::schedule::ScheduleArgs,
}

/// Settings of the crawl engine shared by `crawl` and `demo`.
#[derive(Debug, Args, Clone, serde::Serialize)]
pub struct CrawlOptions {
    /// Also contact loopback addresses (127.0.0.0/8, ::1): needed for simulated networks.
    /// A loopback crawl does not resolve DNS names unless --dns system is given.
    #[arg(long)]
    pub allow_loopback: bool,
    /// Also contact private, CGNAT and unique-local addresses (lab networks).
    #[arg(long)]
    pub allow_private: bool,
    /// Contact nothing but loopback addresses (simulated networks): implies
    /// --allow-loopback and --dns off; public, private and every other address is recorded
    /// as skipped by policy. `demo` always crawls so.
    #[arg(long)]
    pub loopback_only: bool,
    /// How DNS names are handled: `system` resolves them (then checks the addresses against
    /// the policy); `off` records them without contacting them. Default: system, or off
    /// with --allow-loopback.
    #[arg(long, value_enum)]
    pub dns: Option<DnsMode>,
    /// Nodes crawled at once. With --per-node it caps the requests in flight at
    /// concurrency × per-node; nodes waiting for their first answer or finishing their last
    /// lists leave their idle slots to further nodes (up to twice as many open at once).
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// After the crawl, read `GET …/cut` and `GET …/config` of every reachable node and
    /// store its cut height and self-reported address (view crawl_node_info).
    #[arg(long)]
    pub cut_heights: bool,
    /// Requests at once to one node (its peer lists share them; the first page of its cut
    /// list goes alone).
    #[arg(long, default_value_t = 4)]
    pub per_node: usize,
    /// Items asked for per page (the node caps it at 512).
    #[arg(long, default_value_t = 512)]
    pub page_limit: usize,
    /// Seconds allowed for TCP connect and TLS handshake.
    #[arg(long, default_value_t = 5.0)]
    pub connect_timeout: f64,
    /// Seconds allowed for one request, body included.
    #[arg(long, default_value_t = 10.0)]
    pub request_timeout: f64,
    /// Seconds allowed for all requests to one node (time its whole visit spends waiting
    /// for a free request slot of the crawl does not count).
    #[arg(long, default_value_t = 60.0)]
    pub node_timeout: f64,
    /// Largest response body accepted, in bytes (chainweb-node's own cap is 2 MiB).
    #[arg(long, default_value_t = 2 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Pages read per list at most.
    #[arg(long, default_value_t = 100)]
    pub max_pages_per_list: u32,
    /// Entries accepted per list at most.
    #[arg(long, default_value_t = 20_000)]
    pub max_items_per_list: usize,
    /// Nodes learned per crawl at most; further entries are kept as `frontier_full`
    /// invalid entries, not followed.
    #[arg(long, default_value_t = 1_000_000)]
    pub max_nodes: usize,
    /// Seconds the whole crawl may take; then it stops as on Ctrl-C (in-flight nodes get a
    /// 2 s grace), is stored as `interrupted` with error `deadline`, and exits 0.
    #[arg(long, value_name = "SECS")]
    pub max_duration: Option<f64>,
}

/// DNS handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DnsMode {
    /// Resolve names with the system resolver.
    System,
    /// Never resolve names.
    Off,
}

/// Options of `simnet`.
#[derive(Debug, Args)]
pub struct SimnetArgs {
    /// Number of live simulated nodes.
    #[arg(long, default_value_t = 300)]
    pub nodes: usize,
    /// Seed of the simulated topology.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Second octet of the simulated addresses (127.<subnet>.x.y).
    #[arg(long, default_value_t = 1)]
    pub subnet: u8,
    /// Chainweb network the nodes claim to be.
    #[arg(long, default_value = "mainnet01", value_parser = parse_network)]
    pub network: NetworkId,
    /// Shape of the simulated network.
    #[arg(long, value_enum, default_value_t = ProfileArg::Clean)]
    pub profile: ProfileArg,
    /// Give nodes RSA-4096 / SHA-512 certificates like real nodes (one key made at start,
    /// shared by all nodes; ids change per run) instead of the fast, reproducible Ed25519
    /// default.
    #[arg(long)]
    pub real_certs: bool,
    /// Write the ground truth (every node and every list served) as JSON here; rewritten
    /// after every accepted PUT.
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
    /// Write the bootstrap nodes here, in the --bootstrap-file format.
    #[arg(long, value_name = "FILE")]
    pub bootstrap_out: Option<PathBuf>,
    /// Milliseconds every node waits before each answer (models a wide-area network).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Up to this many extra milliseconds per node, fixed per node by the seed.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub jitter_ms: u64,
    /// Churn between crawls.
    #[command(flatten)]
    pub churn: super::simnet::ChurnArgs,
}

/// A simulated network's shape on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    /// Plain: every node on 1789, short lists, about 10 % stale entries, all loopback.
    Clean,
    /// Like the real network: a provider cluster on port 31350, hubs, cut lists of
    /// 64–300 entries, 20–40 % stale entries, outside (never contacted) entries, two
    /// version groups. Crawl it with --loopback-only.
    Realistic,
    /// The clean network plus one node per fault kind (hangs, floods, loops, lies, bad
    /// entries, forbidden redirects); the ground truth names each faulty node and what a
    /// crawler must record for it. At least 80 nodes.
    Hostile,
}

impl From<ProfileArg> for crate::simnet::Profile {
    fn from(p: ProfileArg) -> Self {
        match p {
            ProfileArg::Clean => crate::simnet::Profile::Clean,
            ProfileArg::Realistic => crate::simnet::Profile::Realistic,
            ProfileArg::Hostile => crate::simnet::Profile::Hostile,
        }
    }
}

/// Options of `bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Live simulated nodes; a comma-separated list runs one benchmark per size (e.g.
    /// 1000,10000) and compares their peak memory.
    #[arg(long, value_delimiter = ',', default_value = "1000")]
    pub nodes: Vec<usize>,
    /// Simnet topology profile: realistic (the real network's shape: multi-page cut lists,
    /// stale and unroutable entries) or clean.
    #[arg(long, default_value = "realistic")]
    pub profile: Option<String>,
    /// Milliseconds every simulated node waits before each answer; a comma-separated list
    /// (e.g. 0,100) runs every size once per latency.
    #[arg(long, value_name = "MS", value_delimiter = ',', default_value = "0")]
    pub latency_ms: Vec<u64>,
    /// Up to this many extra milliseconds per node, fixed per node by the seed.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub jitter_ms: u64,
    /// Nodes crawled at once (the crawl's default).
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Requests at once to one node (the crawl's default).
    #[arg(long, default_value_t = 4)]
    pub per_node: usize,
    /// Entries asked for per page, 1 to 512 (the crawl's default, 512, is the most a
    /// node serves, so the realistic profile's lists take one page each; 64, chainweb's
    /// own default, makes most of its cut lists span 2–5 pages).
    #[arg(long, default_value_t = 512)]
    pub page_limit: usize,
    /// Seed of the simulated topology.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Second octet of the first simnet's addresses; each further run (size × latency ×
    /// repeat) uses the next one.
    #[arg(long, default_value_t = 200)]
    pub subnet: u8,
    /// Seconds each phase (simnet start, crawl, load loop) may take before it is stopped.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub time_limit: u64,
    /// Keep the scratch folder (databases, truth, exports) here instead of deleting it.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Runs of every size and latency (1 to 20). On a shared machine one run's ratios move
    /// with the host's load; with several, the summary gives each ratio's spread.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=20))]
    pub repeat: u32,
    /// Internal: run the one size and latency given in this process and write its figures
    /// here as JSON (each run of a bench is such a process of its own).
    #[arg(long, value_name = "FILE", hide = true)]
    pub figures_out: Option<PathBuf>,
    /// Internal: which repetition this process runs (from 1), with --figures-out.
    #[arg(long, value_name = "K", hide = true)]
    pub run_index: Option<u32>,
}

/// Which crawl of a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrawlSel {
    /// The newest crawl.
    Latest,
    /// A crawl by id.
    Id(i64),
}

pub(crate) fn parse_crawl_sel(s: &str) -> Result<CrawlSel, String> {
    if s == "latest" {
        return Ok(CrawlSel::Latest);
    }
    s.parse::<i64>()
        .map(CrawlSel::Id)
        .map_err(|_| format!("expected a crawl id or 'latest', got {s:?}"))
}

fn parse_peer(s: &str) -> Result<PeerInfo, String> {
    s.trim()
        .parse()
        .map_err(|e: crate::api::peer_info::PeerInfoTextError| {
            format!("{e} (expected [<id>@]<host>:<port>, IPv6 as [addr]:port)")
        })
}

fn parse_network(s: &str) -> Result<NetworkId, String> {
    s.parse()
        .map_err(|e: crate::api::UnknownNetwork| e.to_string())
}

/// Options of `stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Database to read.
    #[arg(long, default_value = "output/crawl.sqlite")]
    pub db: PathBuf,
    /// Crawl id, or `latest` (the newest crawl that is not still running).
    #[arg(long, default_value = "latest", value_parser = parse_crawl_sel)]
    pub crawl: CrawlSel,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Graphviz DOT of the cut network.
    Dot,
    /// GraphML of all networks (networkx, Gephi).
    Graphml,
    /// JSON nodes and edges of all networks.
    Json,
    /// CSV of the edges (the columns of the crawl_edges view).
    Csv,
    /// The nodes as a peer list, `[<id>@]<host>:<port>` per line (the --bootstrap-file
    /// format; ids are observed certificate fingerprints where the node was reachable).
    Peers,
}

/// Options of `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Database to read.
    #[arg(long, default_value = "output/crawl.sqlite")]
    pub db: PathBuf,
    /// Crawl id, or `latest` (the newest crawl that is not still running).
    #[arg(long, default_value = "latest", value_parser = parse_crawl_sel)]
    pub crawl: CrawlSel,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Keep only the edges of one peer network (`cut`, `mempool`, `chain:N`, `all`), and
    /// the nodes they connect. DOT always draws the cut network.
    #[arg(long, default_value = "all", value_parser = clap::value_parser!(crate::graph::filter::NetworkFilter))]
    pub network: crate::graph::filter::NetworkFilter,
    /// Keep only reachable nodes (and the edges between them).
    #[arg(long)]
    pub reachable_only: bool,
    /// Keep only nodes whose version starts with this (e.g. `3.`).
    #[arg(long, value_name = "PREFIX")]
    pub version: Option<String>,
    /// Output file, `-` for stdout.
    #[arg(short, long, default_value = "-")]
    pub output: PathBuf,
}

/// Options of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Database to read.
    #[arg(long, default_value = "output/crawl.sqlite")]
    pub db: PathBuf,
    /// Crawl id, or `latest`.
    #[arg(long, default_value = "latest", value_parser = parse_crawl_sel)]
    pub crawl: CrawlSel,
    /// Output file, `-` for stdout.
    #[arg(short, long, default_value = "output/report.html")]
    pub output: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Opts::command().debug_assert();
    }

    #[test]
    fn crawl_selector() {
        assert_eq!(parse_crawl_sel("latest"), Ok(CrawlSel::Latest));
        assert_eq!(parse_crawl_sel("3"), Ok(CrawlSel::Id(3)));
        assert!(parse_crawl_sel("x").is_err());
    }
}
