//! `crawl`: build the settings, run the engine into the database, seal the crawl, write
//! the result files. `demo` reuses all of it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};

use crate::api::{NetworkId, PeerInfo, parse_bootstrap_list};
use crate::crawl::resolve::{NameResolver, SystemResolver};
use crate::crawl::{CrawlConfig, EgressPolicy, Engine, FetchLimits, Outcome, Progress, Summary};
use crate::graph::Stats;
use crate::graph::export::ExportFormat;
use crate::store::{self, CrawlId, CrawlStatus, Store};

use super::Exit;
use super::args::{CrawlArgs, CrawlOptions, DnsMode};
use super::output::{self, OutputFiles, Ui};

fn secs(name: &str, v: f64) -> Result<Duration> {
    if !(v.is_finite() && v > 0.0 && v < 86_400.0) {
        bail!("--{name} must be a number of seconds between 0 and 86400, got {v}");
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
    let dns = o.dns.unwrap_or(if o.allow_loopback {
        DnsMode::Off
    } else {
        DnsMode::System
    });
    let mut c = CrawlConfig::new(network, bootstrap);
    c.policy = EgressPolicy {
        allow_loopback: o.allow_loopback,
        allow_private: o.allow_private,
        resolve_dns: dns == DnsMode::System,
    };
    c.resolver = resolver.unwrap_or_else(|| Arc::new(SystemResolver));
    c.concurrency = o.concurrency;
    c.per_node = o.per_node;
    c.max_nodes = o.max_nodes;
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
    c.validate().map_err(|e| anyhow!(e))?;
    Ok(c)
}

/// The bootstrap list from `--bootstrap`, `--bootstrap-file`, or the network's built-in one.
fn bootstrap_list(a: &CrawlArgs) -> Result<Vec<PeerInfo>> {
    let mut peers: Vec<PeerInfo> = a.bootstrap.clone();
    if let Some(f) = &a.bootstrap_file {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("cannot read bootstrap file {}", f.display()))?;
        let listed = parse_bootstrap_list(&text)
            .with_context(|| format!("invalid bootstrap file {}", f.display()))?;
        if listed.is_empty() {
            bail!("bootstrap file {} lists no nodes", f.display());
        }
        peers.extend(listed);
    }
    if peers.is_empty() {
        peers = a
            .network
            .bootstrap_peers()
            .context("built-in bootstrap list is malformed")?;
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

/// Waits for Ctrl-C; a second Ctrl-C ends the process at once.
pub async fn ctrl_c(ui: Ui) {
    if tokio::signal::ctrl_c().await.is_err() {
        // No signal handling available: never cancel.
        std::future::pending::<()>().await;
    }
    ui.note("interrupted: stopping the crawl and saving what was learned (Ctrl-C again to quit at once)");
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(130);
        }
    });
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
    let store =
        Store::open(db).with_context(|| format!("cannot open database {}", db.display()))?;
    let id = store
        .begin_crawl(config.network, &parameters)
        .context("cannot record the crawl")?;
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
    let store =
        Store::open(db).with_context(|| format!("cannot open database {}", db.display()))?;
    let data = store.load_crawl(id).context("cannot read the crawl back")?;
    let stats = Stats::compute(&data);
    let files = OutputFiles::in_dir(out);
    output::write_atomic(&files.dot, &ExportFormat::Dot.exporter().serialize(&data)?)?;
    output::write_atomic_with(&files.graphml, |w| {
        Ok(ExportFormat::GraphMl.exporter().write_to(&data, w)?)
    })?;
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
        Outcome::Interrupted => Exit::Interrupted,
        Outcome::Failed(_) => Exit::Failure,
    }
}

/// One line describing how the crawl ended.
pub fn describe(summary: &Summary, id: CrawlId, db: &Path) -> String {
    let c = &summary.counters;
    let head = match &summary.outcome {
        Outcome::Complete => "complete".to_string(),
        Outcome::Interrupted => format!(
            "interrupted with {} nodes left unvisited",
            summary.frontier_left
        ),
        Outcome::Failed(why) => format!("failed: {why}"),
    };
    format!(
        "crawl {} ({}) {head}: {} nodes known, {} reachable, {} failed, {} skipped, {} pages, {} edges in {:.1} s",
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

/// `chainweb-crawler crawl`.
pub async fn run(a: CrawlArgs, ui: &Ui) -> Result<Exit> {
    let bootstrap = bootstrap_list(&a)?;
    let config = crawl_config(a.network, bootstrap.clone(), &a.crawl, None)?;
    output::prepare_dir(&a.out)?;
    output::prepare_db_dir(&a.db)?;
    let params = parameters(a.network, &bootstrap, &a.crawl);
    let finished = run_crawl(config, &a.db, params, *ui, ctrl_c(*ui)).await?;
    ui.note(describe(&finished.summary, finished.id, &a.db));
    let (stats, files) = write_outputs(&a.db, finished.id, &a.out)?;
    if !matches!(finished.summary.outcome, Outcome::Failed(_)) {
        print_stats(&stats, a.json)?;
    }
    ui.note(format!(
        "wrote {}, {}, {}",
        files.dot.display(),
        files.graphml.display(),
        files.stats.display()
    ));
    Ok(exit_for(&finished.summary))
}
