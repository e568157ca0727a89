//! `crawl` once or on a schedule (`--every`): crawls back to back into one database, with
//! pruning (`--keep`), a Prometheus metrics file and a JSON summary after every crawl.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use tokio::sync::watch;

use crate::crawl::Outcome;
use crate::store::{CrawlSummary, Store};

use super::Exit;
use super::args::CrawlArgs;
use super::crawl::{
    Finished, bootstrap_list, crawl_config, exit_for, node_info_settings, parameters, print_stats,
    record_cut_heights, report_end, run_crawl, write_outputs,
};
use super::duration::parse_duration;
use super::output::{self, Ui};

/// Scheduling and reporting options of `crawl`.
#[derive(Debug, Args, Clone)]
pub struct ScheduleArgs {
    /// Crawl again and again, one crawl starting this long after the previous one started
    /// (at once if it took longer), until Ctrl-C or --count: e.g. 30m, 1h, 90s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub every: Option<Duration>,
    /// With --every: stop after this many crawls.
    #[arg(long, value_name = "N", requires = "every", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// After each crawl, delete all but the newest N sealed crawls of the database.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub keep: Option<u64>,
    /// After each crawl, write its figures here in the Prometheus text format (for the
    /// node exporter's textfile collector), replacing the file atomically.
    #[arg(long, value_name = "FILE")]
    pub metrics_file: Option<PathBuf>,
    /// After each crawl, write its crawl_summary row here as JSON, replacing the file.
    #[arg(long, value_name = "FILE")]
    pub summary_file: Option<PathBuf>,
}

/// Resolves when `stop` turns true (or its sender is gone, which never happens first).
async fn stopped(mut stop: watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// `chainweb-crawler crawl`.
pub async fn run(a: CrawlArgs, ui: &Ui) -> Result<Exit> {
    let bootstrap = bootstrap_list(&a)?;
    // Checks every flag before anything is written.
    crawl_config(a.network, bootstrap.clone(), &a.crawl, None)?;
    output::prepare_dir(&a.out)?;
    output::prepare_db_dir(&a.db)?;
    // Files written after each crawl: a bad path should fail now, not after the crawl.
    for file in [&a.schedule.metrics_file, &a.schedule.summary_file]
        .into_iter()
        .flatten()
    {
        output::prepare_file_dir(file)?;
    }
    let s = &a.schedule;
    let (stop_tx, stop_rx) = watch::channel(false);
    let note_ui = *ui;
    tokio::spawn(async move {
        super::interrupt::interrupted(note_ui).await;
        let _ = stop_tx.send(true);
    });
    let mut totals = Totals::default();
    loop {
        let started = Instant::now();
        let config = crawl_config(a.network, bootstrap.clone(), &a.crawl, None)?;
        let params = parameters(a.network, &bootstrap, &a.crawl);
        let info = node_info_settings(&config, &a.crawl);
        let finished = run_crawl(config, &a.db, params, *ui, stopped(stop_rx.clone())).await?;
        report_end(ui, &finished.summary, finished.id, &a.db);
        // An interrupted crawl stops: no further requests after Ctrl-C or the deadline.
        let completed = matches!(finished.summary.outcome, Outcome::Complete);
        if let (true, Some((settings, resolver))) = (completed, info) {
            record_cut_heights(&a.db, finished.id, &settings, resolver, ui).await?;
        }
        let (stats, files) = write_outputs(&a.db, finished.id, &a.out)?;
        let report = super::html_report::write(&a.db, finished.id, &a.out)?;
        // The table is for a person; under --quiet only asked-for data (--json) is printed.
        if !matches!(finished.summary.outcome, Outcome::Failed(_)) && (ui.notes || a.json) {
            print_stats(&stats, a.json)?;
        }
        ui.note(format!(
            "wrote {}, {}, {}, {}",
            files.dot.display(),
            files.graphml.display(),
            files.stats.display(),
            report.display()
        ));
        totals.add(&finished);
        after_crawl(&a, &finished, &totals, ui)?;
        let exit = exit_for(&finished.summary);
        if exit == Exit::Interrupted || *stop_rx.borrow() {
            return Ok(Exit::Interrupted);
        }
        let Some(every) = s.every else {
            return Ok(exit);
        };
        if s.count.is_some_and(|n| totals.crawls >= n) {
            return Ok(exit);
        }
        let wait = every.saturating_sub(started.elapsed());
        ui.note(format!(
            "next crawl in {:.0} s (Ctrl-C to stop)",
            wait.as_secs_f64()
        ));
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = stopped(stop_rx.clone()) => return Ok(Exit::Interrupted),
        }
    }
}

/// Counts over the life of this process, for the metrics file.
#[derive(Debug, Default)]
struct Totals {
    crawls: u64,
    failed: u64,
}

impl Totals {
    fn add(&mut self, f: &Finished) {
        self.crawls += 1;
        if matches!(f.summary.outcome, Outcome::Failed(_)) {
            self.failed += 1;
        }
    }
}

/// Pruning, the summary file and the metrics file of one sealed crawl.
fn after_crawl(a: &CrawlArgs, f: &Finished, totals: &Totals, ui: &Ui) -> Result<()> {
    let s = &a.schedule;
    let store = Store::open(&a.db)?;
    if let Some(keep) = s.keep {
        let keep = usize::try_from(keep).unwrap_or(usize::MAX);
        let deleted = store.prune(keep).context("cannot prune old crawls")?;
        if !deleted.is_empty() {
            ui.note(format!(
                "pruned {} old crawl(s), keeping the newest {keep}",
                deleted.len()
            ));
        }
    }
    let summary = store
        .crawl_summary(f.id)
        .context("cannot read the crawl summary")?;
    if let (Some(path), Some(summary)) = (&s.summary_file, &summary) {
        let mut json = serde_json::to_string_pretty(summary)?;
        json.push('\n');
        output::write_atomic(path, json.as_bytes())?;
    }
    if let Some(path) = &s.metrics_file {
        output::write_atomic(path, metrics_text(f, summary.as_ref(), totals).as_bytes())?;
    }
    Ok(())
}

/// The Prometheus text exposition of one crawl.
fn metrics_text(f: &Finished, s: Option<&CrawlSummary>, totals: &Totals) -> String {
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, f64)]| {
        let _ = writeln!(out, "# HELP chainweb_crawler_{name} {help}");
        let _ = writeln!(out, "# TYPE chainweb_crawler_{name} {kind}");
        for (labels, v) in samples {
            let _ = writeln!(out, "chainweb_crawler_{name}{labels} {v}");
        }
    };
    let c = &f.summary.counters;
    let ok = matches!(f.summary.outcome, Outcome::Complete);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64().floor());
    metric(
        "last_crawl_id",
        "gauge",
        "Id of the last crawl in the database.",
        &[("", f.id.0 as f64)],
    );
    metric(
        "last_crawl_timestamp_seconds",
        "gauge",
        "Unix time at which the last crawl was sealed.",
        &[("", now)],
    );
    metric(
        "last_crawl_success",
        "gauge",
        "1 if the last crawl completed, 0 if it was interrupted or failed.",
        &[("", if ok { 1.0 } else { 0.0 })],
    );
    metric(
        "last_crawl_duration_seconds",
        "gauge",
        "Wall time of the last crawl.",
        &[("", f.summary.elapsed_s)],
    );
    metric(
        "last_crawl_nodes",
        "gauge",
        "Nodes of the last crawl by state (see docs/schema.md).",
        &[
            ("{state=\"known\"}", c.known as f64),
            ("{state=\"reachable\"}", c.reachable as f64),
            ("{state=\"failed\"}", c.failed as f64),
            ("{state=\"skipped\"}", c.skipped as f64),
        ],
    );
    let (cut, mempool) = s.map_or((0, 0), |s| (s.cut_edges, s.mempool_edges));
    metric(
        "last_crawl_edges",
        "gauge",
        "Peer entries recorded by the last crawl, by peer network.",
        &[
            ("{network=\"cut\"}", cut as f64),
            ("{network=\"mempool\"}", mempool as f64),
        ],
    );
    metric(
        "last_crawl_requests",
        "gauge",
        "HTTP requests made by the last crawl.",
        &[("", c.pages as f64)],
    );
    metric(
        "last_crawl_frontier_left",
        "gauge",
        "Addresses left unvisited when the last crawl was sealed.",
        &[("", f.summary.frontier_left as f64)],
    );
    metric(
        "crawls_total",
        "counter",
        "Crawls run by this process.",
        &[("", totals.crawls as f64)],
    );
    metric(
        "crawl_failures_total",
        "counter",
        "Crawls of this process that failed (no bootstrap node reached, or an error).",
        &[("", totals.failed as f64)],
    );
    out
}
