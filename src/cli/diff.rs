//! `diff` (what changed between two stored crawls) and `prune` (bound a database).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::sanitize;
use crate::store::{CrawlDiff, CrawlId, Store};

use super::Exit;
use super::output;

/// Options of `diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Database to read.
    #[arg(long, default_value = "output/crawl.sqlite")]
    pub db: PathBuf,
    /// The older crawl (default: the sealed crawl before --to).
    #[arg(long, value_name = "ID")]
    pub from: Option<i64>,
    /// The newer crawl (default: the newest sealed crawl).
    #[arg(long, value_name = "ID")]
    pub to: Option<i64>,
    /// Print the whole diff as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Rows listed per section of the table (the counts are always complete).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

/// Options of `prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Database to prune.
    #[arg(long, default_value = "output/crawl.sqlite")]
    pub db: PathBuf,
    /// Sealed crawls to keep (the newest ones); running crawls are never deleted.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub keep: u64,
    /// Afterwards give the freed space back to the file system (VACUUM; readers wait).
    #[arg(long)]
    pub vacuum: bool,
}

fn open_existing(db: &Path) -> Result<Store> {
    if !db.exists() {
        bail!("database {} does not exist (pass --db)", db.display());
    }
    Store::open(db).with_context(|| format!("cannot open database {}", db.display()))
}

/// The pair of crawls a `diff` compares.
fn pick(store: &Store, from: Option<i64>, to: Option<i64>) -> Result<(CrawlId, CrawlId)> {
    let sealed = store.sealed_crawls()?;
    let to = match to {
        Some(t) => CrawlId(t),
        None => *sealed
            .last()
            .context("the database holds no sealed crawl yet")?,
    };
    let from = match from {
        Some(f) => CrawlId(f),
        None => *sealed
            .iter()
            .rev()
            .find(|&&c| c < to)
            .with_context(|| format!("no sealed crawl before crawl {to} to compare with"))?,
    };
    Ok((from, to))
}

/// `chainweb-crawler diff`.
pub fn diff(a: DiffArgs) -> Result<Exit> {
    let store = open_existing(&a.db)?;
    let (from, to) = pick(&store, a.from, a.to)?;
    let (nf, nt) = (store.crawl(from)?.network, store.crawl(to)?.network);
    if nf != nt {
        return Err(super::UsageError(format!(
            "crawl {from} is of {nf} and crawl {to} of {nt}: diff compares crawls of one \
             network (pick them with --from and --to)"
        ))
        .into());
    }
    let d = store
        .diff(from, to)
        .with_context(|| format!("cannot compare crawls {from} and {to}"))?;
    let text = if a.json {
        let mut j = serde_json::to_string_pretty(&d)?;
        j.push('\n');
        j
    } else {
        table(&d, a.limit)
    };
    output::write_to(Path::new("-"), text.as_bytes())?;
    Ok(Exit::Success)
}

/// The diff as a table: counts, then up to `limit` rows of each section.
pub fn table(d: &CrawlDiff, limit: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "diff of crawl {} → crawl {}", d.from, d.to);
    let _ = writeln!(out, "  {:<22} {:>8}", "nodes joined", d.joined.len());
    let _ = writeln!(out, "  {:<22} {:>8}", "nodes left", d.left.len());
    let _ = writeln!(
        out,
        "  {:<22} {:>8}",
        "reachability changed",
        d.reachability_changed.len()
    );
    let _ = writeln!(
        out,
        "  {:<22} {:>8}",
        "version changed",
        d.version_changed.len()
    );
    let _ = writeln!(
        out,
        "  {:<22} {:>8}",
        "certificate changed",
        d.certificate_changed.len()
    );
    let _ = writeln!(out, "  {:<22} {:>8} {:>8}", "edges", "added", "removed");
    // Cut first, then chains in numeric order.
    let mut nets: Vec<(&String, &crate::store::NetworkDelta)> = d.per_network.iter().collect();
    nets.sort_by_key(|(k, _)| {
        k.rsplit_once(':')
            .and_then(|(_, c)| c.parse::<u32>().ok())
            .map_or(0, |c| c + 1)
    });
    for (net, delta) in nets {
        let _ = writeln!(
            out,
            "    {:<20} {:>8} {:>8}",
            net, delta.added, delta.removed
        );
    }
    let section = |out: &mut String, title: &str, rows: Vec<String>| {
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(out, "{title}:");
        for r in rows.iter().take(limit) {
            let _ = writeln!(out, "  {}", sanitize::sanitize(r, 400));
        }
        if rows.len() > limit {
            let _ = writeln!(
                out,
                "  … {} more (--limit, or --json for all)",
                rows.len() - limit
            );
        }
    };
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let reach = |r: Option<bool>| match r {
        Some(true) => "reachable",
        Some(false) => "unreachable",
        None => "not contacted",
    };
    section(&mut out, "joined", d.joined.clone());
    section(&mut out, "left", d.left.clone());
    section(
        &mut out,
        "reachability changed",
        d.reachability_changed
            .iter()
            .map(|c| format!("{}  {} → {}", c.address, reach(c.from), reach(c.to)))
            .collect(),
    );
    section(
        &mut out,
        "version changed",
        d.version_changed
            .iter()
            .map(|c| format!("{}  {} → {}", c.address, show(&c.from), show(&c.to)))
            .collect(),
    );
    section(
        &mut out,
        "certificate changed",
        d.certificate_changed
            .iter()
            .map(|c| format!("{}  {} → {}", c.address, show(&c.from), show(&c.to)))
            .collect(),
    );
    let edge = |e: &crate::store::DiffEdge| {
        format!(
            "{} → {}  {}",
            e.src,
            e.dst,
            crate::store::network_label(&e.network, e.chain)
        )
    };
    section(
        &mut out,
        "edges added",
        d.edges_added.iter().map(edge).collect(),
    );
    section(
        &mut out,
        "edges removed",
        d.edges_removed.iter().map(edge).collect(),
    );
    out
}

/// `chainweb-crawler prune`.
pub fn prune(a: PruneArgs) -> Result<Exit> {
    let store = open_existing(&a.db)?;
    let keep = usize::try_from(a.keep).unwrap_or(usize::MAX);
    let deleted = store.prune(keep).context("cannot prune")?;
    if a.vacuum {
        store.vacuum().context("cannot vacuum")?;
    }
    let ids: Vec<String> = deleted.iter().map(ToString::to_string).collect();
    crate::crawl::progress::stderr_line(&format!(
        "deleted {} crawl(s){}{}",
        deleted.len(),
        if ids.is_empty() { "" } else { ": " },
        ids.join(", ")
    ));
    Ok(Exit::Success)
}
