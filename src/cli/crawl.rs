//! `crawl`: build the settings, run the engine into the database, seal the crawl, write
//! the result files. `demo` reuses all of it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use crate::api::{NetworkId, PeerInfo, parse_bootstrap_list};
use crate::crawl::node_info::{NodeInfoSettings, fetch_node_info};
use crate::crawl::resolve::{NameResolver, SystemResolver};
use crate::crawl::{CrawlConfig, EgressPolicy, Engine, FetchLimits, Outcome, Progress, Summary};
use crate::graph::Stats;
use crate::graph::export::ExportFormat;
use crate::store::{self, CrawlId, CrawlStatus, Store};

use super::args::{CrawlArgs, CrawlOptions, DnsMode};
use super::output::{self, OutputFiles, Ui};
use super::{Exit, UsageError, interrupt};

fn secs(name: &str, v: f64) -> Result<Duration> {
    if !(v.is_finite() && v > 0.0 && v <= 86_400.0) {
        return Err(UsageError(format!(
            "--{name} must be a number of seconds greater than 0 and at most 86400, got {v}"
        ))
        .into());
    }
    Ok(Duration::from_secs_f64(v))
}

/// Turns the typed options into checked engine settings.
///
/// # Errors
/// A message naming the flag that is out of range.
pub fn crawl_config(
    network: NetworkId,
    bootstrap: Vec<PeerInfo>,
    o: &CrawlOptions,
    resolver: Option<Arc<dyn NameResolver>>,
) -> Result<CrawlConfig> {
    let dns = o.dns.unwrap_or(if o.allow_loopback || o.loopback_only {
        DnsMode::Off
    } else {
        DnsMode::System
    });
    let mut c = CrawlConfig::new(network, bootstrap);
    if o.loopback_only && (o.allow_private || dns == DnsMode::System) {
        return Err(UsageError(
            "--loopback-only contacts nothing but loopback: drop --allow-private and --dns system"
                .into(),
        )
        .into());
    }
    c.policy = EgressPolicy {
        allow_loopback: o.allow_loopback || o.loopback_only,
        allow_private: o.allow_private,
        resolve_dns: dns == DnsMode::System,
        allow_public: !o.loopback_only,
    };
    c.resolver = resolver.unwrap_or_else(|| Arc::new(SystemResolver));
    c.concurrency = o.concurrency;
    c.per_node = o.per_node;
    c.max_nodes = o.max_nodes;
    c.max_duration = o
        .max_duration
        .map(|v| secs("max-duration", v))
        .transpose()?;
    c.limits = FetchLimits {
        page_limit: o.page_limit,
        connect_timeout: secs("connect-timeout", o.connect_timeout)?,
        request_timeout: secs("request-timeout", o.request_timeout)?,
        node_timeout: secs("node-timeout", o.node_timeout)?,
        max_body_bytes: o.max_body_bytes,
        max_pages_per_list: o.max_pages_per_list,
        max_items_per_list: o.max_items_per_list,
        ..FetchLimits::default()
    };
    c.validate().map_err(UsageError)?;
    // Each open visit holds a connection; past the open-file limit connects would fail and
    // healthy nodes would be stored as unreachable.
    let needed = c.max_open_visits() as u64 + FILES_BESIDES_VISITS;
    if let Some(limit) = super::fd_limit::raise_open_file_limit()
        && limit < needed
    {
        return Err(UsageError(format!(
            "--concurrency {} opens up to {} connections, and this process may open only {limit} files (raise `ulimit -Hn` or lower --concurrency)",
            c.concurrency,
            c.max_open_visits()
        ))
        .into());
    }
    Ok(c)
}

/// Open files a crawl needs besides its connections: database, journal, standard streams,
/// resolver and runtime.
const FILES_BESIDES_VISITS: u64 = 64;

/// The bootstrap list from `--bootstrap`, `--bootstrap-file`, or the network's built-in one.
pub(super) fn bootstrap_list(a: &CrawlArgs) -> Result<Vec<PeerInfo>> {
    let mut peers: Vec<PeerInfo> = a.bootstrap.clone();
    if let Some(f) = &a.bootstrap_file {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("cannot read bootstrap file {}", f.display()))?;
        let listed = parse_bootstrap_list(&text)
            .map_err(|e| UsageError(format!("invalid bootstrap file {}: {e}", f.display())))?;
        if listed.is_empty() {
            return Err(
                UsageError(format!("bootstrap file {} lists no nodes", f.display())).into(),
            );
        }
        peers.extend(listed);
    }
    if peers.is_empty() {
        peers = a
            .network
            .bootstrap_peers()
            .context("built-in bootstrap list is malformed")?;
        if peers.is_empty() {
            return Err(UsageError(format!(
                "{} has no built-in bootstrap nodes (its operators publish none); \
                 name some with --bootstrap or --bootstrap-file",
                a.network
            ))
            .into());
        }
    }
    let mut seen = std::collections::HashSet::new();
    peers.retain(|p| seen.insert(p.address.clone()));
    Ok(peers)
}

/// A crawl that ran to its end (complete, interrupted or failed) and was sealed.
pub struct Finished {
    /// The crawl's id in the database.
    pub id: CrawlId,
    /// What the engine reported.
    pub summary: Summary,
}

/// Runs the engine into a new crawl of `db` and seals it.
///
/// # Errors
/// Database failures; a crawl that reaches nothing is not an error here.
pub async fn run_crawl(
    config: CrawlConfig,
    db: &Path,
    parameters: serde_json::Value,
    ui: Ui,
    cancel: impl std::future::Future<Output = ()>,
) -> Result<Finished> {
    let store = Store::open(db)?;
    let id = store
        .begin_crawl(config.network, &parameters)
        .context("cannot record the crawl")?;
    interrupt::set_running(Some((db.to_path_buf(), id)));
    let finished = drive(&store, id, config, db, ui, cancel).await;
    interrupt::set_running(None);
    finished
}

/// The part of [`run_crawl`] between recording the crawl and sealing it.
async fn drive(
    store: &Store,
    id: CrawlId,
    config: CrawlConfig,
    db: &Path,
    ui: Ui,
    cancel: impl std::future::Future<Output = ()>,
) -> Result<Finished> {
    let (events, writer) = store::spawn_writer(db.to_path_buf(), id);
    let engine = match Engine::new(config, events, Progress::new(ui.progress)) {
        Ok(e) => e,
        Err(e) => {
            let _ = store.finish_crawl(id, CrawlStatus::Failed, 0, Some(&e.to_string()));
            return Err(e).context("invalid crawl settings");
        }
    };
    let summary = engine.run(cancel).await;
    let written = tokio::task::spawn_blocking(move || writer.join())
        .await
        .context("store writer task failed")?
        .map_err(|_| anyhow!("store writer panicked"))?;
    if let Err(e) = written {
        let _ = store.finish_crawl(
            id,
            CrawlStatus::Failed,
            summary.frontier_left,
            Some(&e.to_string()),
        );
        return Err(e).context("cannot store the crawl");
    }
    let (status, error) = match &summary.outcome {
        Outcome::Complete => (CrawlStatus::Complete, None),
        Outcome::Interrupted if summary.deadline_reached => {
            (CrawlStatus::Interrupted, Some("deadline"))
        }
        Outcome::Interrupted => (CrawlStatus::Interrupted, None),
        Outcome::Failed(why) => (CrawlStatus::Failed, Some(why.as_str())),
    };
    store
        .finish_crawl(id, status, summary.frontier_left, error)
        .context("cannot seal the crawl")?;
    Ok(Finished { id, summary })
}

/// Loads a stored crawl, writes DOT, GraphML and stats.json into `out`, returns the stats.
///
/// # Errors
/// Database or file-system failures, naming the file.
pub fn write_outputs(db: &Path, id: CrawlId, out: &Path) -> Result<(Stats, OutputFiles)> {
    let store = Store::open(db)?;
    let data = store.load_crawl(id).context("cannot read the crawl back")?;
    let stats = Stats::compute(&data);
    let files = OutputFiles::in_dir(out);
    for (format, path) in [
        (ExportFormat::Dot, &files.dot),
        (ExportFormat::GraphMl, &files.graphml),
    ] {
        output::write_atomic_with(path, |w| Ok(format.exporter().write_to(&data, w)?))?;
    }
    output::write_atomic(&files.stats, stats.to_json()?.as_bytes())?;
    Ok((stats, files))
}

/// Prints statistics: JSON on stdout, or the table on stdout.
///
/// # Errors
/// Only a failed write to stdout.
pub fn print_stats(stats: &Stats, json: bool) -> Result<()> {
    let bytes = if json {
        stats.to_json()?.into_bytes()
    } else {
        stats.to_table().into_bytes()
    };
    output::write_to(Path::new("-"), &bytes)
}

/// The parameters recorded with a crawl.
pub fn parameters(
    network: NetworkId,
    bootstrap: &[PeerInfo],
    o: &CrawlOptions,
) -> serde_json::Value {
    serde_json::json!({
        "network": network.name(),
        "bootstrap": bootstrap.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "options": o,
        "version": env!("CARGO_PKG_VERSION"),
    })
}

/// The exit code for a sealed crawl.
pub fn exit_for(summary: &Summary) -> Exit {
    match summary.outcome {
        Outcome::Complete => Exit::Success,
        // The user's own bound: the crawl ended as asked.
        Outcome::Interrupted if summary.deadline_reached => Exit::Success,
        Outcome::Interrupted => Exit::Interrupted,
        Outcome::Failed(_) => Exit::Failure,
    }
}

/// One line describing how the crawl ended.
pub fn describe(summary: &Summary, id: CrawlId, db: &Path) -> String {
    let c = &summary.counters;
    let head = match &summary.outcome {
        Outcome::Complete => "complete".to_string(),
        Outcome::Interrupted if summary.deadline_reached => format!(
            "stopped at --max-duration with {} nodes left unvisited",
            summary.frontier_left
        ),
        Outcome::Interrupted => format!(
            "interrupted with {} nodes left unvisited",
            summary.frontier_left
        ),
        Outcome::Failed(why) => format!("failed: {why}"),
    };
    let dropped = if summary.dropped_entries > 0 {
        format!(
            "; {} advertised entries beyond --max-nodes were kept as frontier_full invalid entries, not followed",
            summary.dropped_entries
        )
    } else {
        String::new()
    };
    format!(
        "crawl {} ({}) {head}: {} nodes known, {} reachable, {} failed, {} skipped, {} pages, {} edges in {:.1} s{dropped}",
        id.0,
        db.display(),
        c.known,
        c.reachable,
        c.failed,
        c.skipped,
        c.pages,
        c.edges,
        summary.elapsed_s
    )
}

/// Tells the user how the crawl ended: a note, except that a failed crawl is reported even
/// under `--quiet` (its exit code alone would not say why).
pub fn report_end(ui: &Ui, summary: &Summary, id: CrawlId, db: &Path) {
    let line = describe(summary, id, db);
    if matches!(summary.outcome, Outcome::Failed(_)) {
        crate::crawl::progress::stderr_line(&format!("chainweb-crawler: {line}"));
    } else {
        ui.note(line);
    }
}

/// `chainweb-crawler crawl`: one crawl, or crawls on a schedule (see `schedule`).
pub async fn run(a: CrawlArgs, ui: &Ui) -> Result<Exit> {
    super::schedule::run(a, ui).await
}

/// The node-info settings of a crawl with `--cut-heights`, else `None`.
pub fn node_info_settings(
    c: &CrawlConfig,
    o: &CrawlOptions,
) -> Option<(NodeInfoSettings, Arc<dyn NameResolver>)> {
    o.cut_heights.then(|| {
        (
            NodeInfoSettings {
                network: c.network,
                policy: c.policy.clone(),
                concurrency: c.concurrency,
                timeout: c.limits.request_timeout,
                max_body_bytes: c.limits.max_body_bytes,
            },
            c.resolver.clone(),
        )
    })
}

/// `--cut-heights`: reads cut and config of every reachable node of the crawl and stores
/// them (view `crawl_node_info`).
///
/// # Errors
/// Database failures; unreachable nodes are rows with an error, not failures.
pub async fn record_cut_heights(
    db: &Path,
    id: CrawlId,
    settings: &NodeInfoSettings,
    resolver: Arc<dyn NameResolver>,
    ui: &Ui,
) -> Result<()> {
    let store =
        Store::open(db).with_context(|| format!("cannot open database {}", db.display()))?;
    let nodes = store
        .reachable_nodes(id)
        .context("cannot read the reachable nodes")?;
    let rows = fetch_node_info(nodes, settings, resolver)
        .await
        .map_err(|e| anyhow!("cannot read cut heights: {e}"))?;
    store
        .record_node_info(id, &rows)
        .context("cannot store the cut heights")?;
    let read = rows.iter().filter(|r| r.cut_height.is_some()).count();
    ui.note(format!(
        "cut heights: {read} of {} reachable nodes answered (view crawl_node_info)",
        rows.len()
    ));
    Ok(())
}
