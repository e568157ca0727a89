//! `stats` and `export`: read a stored crawl.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::graph::Stats;
use crate::graph::export::ExportFormat;
use crate::store::{CrawlData, CrawlId, Store};

use super::Exit;
use super::args::{CrawlSel, ExportArgs, ExportFormat as FormatArg, StatsArgs};
use super::crawl::print_stats;
use super::output;

/// Opens an existing database and loads one of its crawls.
fn load(db: &Path, sel: CrawlSel) -> Result<CrawlData> {
    if !db.exists() {
        bail!(
            "database {} does not exist (run `chainweb-crawler crawl` or `demo` first, or pass --db)",
            db.display()
        );
    }
    let store = Store::open_read_only(db)?;
    let id = match sel {
        CrawlSel::Latest => store
            .latest_crawl()?
            .with_context(|| format!("database {} holds no finished crawl yet", db.display()))?,
        CrawlSel::Id(i) => CrawlId(i),
    };
    store
        .load_crawl(id)
        .with_context(|| format!("cannot read crawl {} from {}", id.0, db.display()))
}

/// `chainweb-crawler stats`.
pub fn stats(a: StatsArgs) -> Result<Exit> {
    let data = load(&a.db, a.crawl)?;
    print_stats(&Stats::compute(&data), a.json)?;
    Ok(Exit::Success)
}

/// `chainweb-crawler export`.
pub fn export(a: ExportArgs) -> Result<Exit> {
    use crate::graph::filter::NetworkFilter;
    if matches!(a.format, FormatArg::Dot)
        && matches!(a.network, NetworkFilter::Mempool | NetworkFilter::Chain(_))
    {
        return Err(super::UsageError(
            "--format dot draws the cut network only; use --format graphml, json or csv \
             for mempool networks"
                .into(),
        )
        .into());
    }
    let data = load(&a.db, a.crawl)?;
    if let NetworkFilter::Chain(c) = a.network {
        let network = data.crawl.network;
        if c.0 >= network.chains() {
            // An empty file would look like a chain without edges.
            return Err(super::UsageError(format!(
                "{network} has chains 0 to {}, not {c}",
                network.chains().saturating_sub(1)
            ))
            .into());
        }
    }
    let format = match a.format {
        FormatArg::Dot => ExportFormat::Dot,
        FormatArg::Graphml => ExportFormat::GraphMl,
        FormatArg::Json => ExportFormat::Json,
        FormatArg::Csv => ExportFormat::Csv,
        FormatArg::Peers => ExportFormat::Peers,
    };
    let filter = crate::graph::filter::Filter {
        network: a.network,
        reachable_only: a.reachable_only,
        version_prefix: a.version.clone(),
    };
    let data = if filter.is_all() {
        data
    } else {
        filter.apply(&data)
    };
    let exporter = format.exporter();
    if a.output == std::path::Path::new("-") {
        // Streamed: a large crawl's file never has to fit in memory.
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        exporter.write_to(&data, &mut out)?;
        std::io::Write::flush(&mut out).context("cannot write to stdout")?;
    } else {
        output::write_atomic_with(&a.output, |w| Ok(exporter.write_to(&data, w)?))?;
    }
    Ok(Exit::Success)
}
