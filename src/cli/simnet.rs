//! `simnet`: serve a simulated network until Ctrl-C.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;

use crate::simnet::{KeyKind, Simnet, SimnetConfig};

use super::Exit;
use super::args::SimnetArgs;
use super::duration::parse_duration;
use super::output::Ui;

/// Churn options of `simnet`.
#[derive(Debug, Args)]
pub struct ChurnArgs {
    /// Churn the network with this probability every --churn-every (0 = never): stop and
    /// start nodes, rewire lists, change versions and certificates (see `simnet::churn`).
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub churn: f64,
    /// Time between churn steps.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub churn_every: Duration,
    /// Append each churn step's report (what it did, and what a crawl sees change) to this
    /// file, one JSON object per line.
    #[arg(long, value_name = "FILE")]
    pub churn_log: Option<PathBuf>,
}

/// Why a simulated network did not start: an impossible configuration (too few nodes for
/// a profile, say) is the user's to fix, a usage error; anything else is a runtime error.
pub(super) fn start_error(e: crate::simnet::SimnetError) -> anyhow::Error {
    let out_of_files = matches!(
        &e,
        crate::simnet::SimnetError::Bind { source, .. } if source.raw_os_error() == Some(libc::EMFILE)
    );
    match e {
        crate::simnet::SimnetError::Config(why) => super::UsageError(why).into(),
        other if out_of_files => {
            // The soft limit was already raised to the hard one at start.
            let limit = super::fd_limit::raise_open_file_limit()
                .map_or("a limited number of".to_string(), |n| n.to_string());
            anyhow::Error::from(other).context(format!(
                "cannot start the simulated network: every node needs an open file and this process may open {limit} (raise the hard limit, `ulimit -Hn`, or use fewer --nodes)"
            ))
        }
        other => anyhow::Error::from(other).context("cannot start the simulated network"),
    }
}

/// `chainweb-crawler simnet`.
pub async fn run(a: SimnetArgs, ui: &Ui) -> Result<Exit> {
    if !(0.0..=1.0).contains(&a.churn.churn) {
        return Err(super::UsageError(format!(
            "--churn must be between 0 and 1, got {}",
            a.churn.churn
        ))
        .into());
    }
    let mut net = Simnet::start(SimnetConfig {
        nodes: a.nodes,
        seed: a.seed,
        subnet: a.subnet,
        profile: a.profile.into(),
        key_kind: if a.real_certs {
            KeyKind::Rsa4096
        } else {
            KeyKind::default()
        },
        network: a.network,
        latency: std::time::Duration::from_millis(a.latency_ms),
        latency_jitter: std::time::Duration::from_millis(a.jitter_ms),
        ..SimnetConfig::default()
    })
    .await
    .map_err(super::simnet::start_error)?;
    if a.profile == super::args::ProfileArg::Realistic {
        let f = crate::simnet::realistic::figures(&net.topology());
        ui.note(format!(
            "realistic profile: cut lists {}-{} entries (median {}), {:.0} % stale, {:.0} % outside, \
             {:.0} % null ids, {} nodes on port {}, {} /24 blocks (largest {:?})",
            f.cut_sizes.0,
            f.cut_sizes.2,
            f.cut_sizes.1,
            f.stale_share * 100.0,
            f.outside_share * 100.0,
            f.null_id_share * 100.0,
            f.ports
                .get(&crate::simnet::realistic::PROVIDER_PORT)
                .copied()
                .unwrap_or(0),
            crate::simnet::realistic::PROVIDER_PORT,
            f.blocks,
            f.top_blocks.iter().take(3).collect::<Vec<_>>()
        ));
    }
    if let Some(path) = &a.truth {
        net.truth()
            .write_json(path)
            .context("cannot write the ground truth")?;
        ui.note(format!("ground truth written to {}", path.display()));
    }
    if let Some(path) = &a.bootstrap_out {
        net.write_bootstrap_file(path)
            .context("cannot write the bootstrap list")?;
        ui.note(format!("bootstrap list written to {}", path.display()));
    }
    if !net.truth().faults.is_empty() {
        ui.note(format!(
            "hostile profile: {} faulty nodes (see the ground truth's \"faults\")",
            net.truth().faults.len()
        ));
    }
    ui.note(format!(
        "serving {} simulated {} nodes on 127.{}.x.y (bootstrap: {}); Ctrl-C to stop",
        net.live_addresses().len(),
        a.network,
        a.subnet,
        net.bootstrap()
            .iter()
            .map(|p| p.address.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    // Keep the truth file true to what is served: every accepted PUT and every churn step
    // rewrites it.
    let mut changes = net.changes();
    let churning = a.churn.churn > 0.0;
    // One signal future for the whole loop: one made anew each turn would miss a Ctrl-C
    // that arrives while the truth file is being written.
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            r = changes.changed() => {
                if r.is_err() {
                    break;
                }
                if let Some(path) = &a.truth {
                    write_truth_atomically(&net, path)?;
                }
            }
            () = tokio::time::sleep(a.churn.churn_every), if churning => {
                let report = net
                    .churn(a.churn.churn)
                    .await
                    .context("churn step failed")?;
                // A churn step serves a fresh state: follow its changes from now on.
                changes = net.changes();
                ui.note(format!(
                    "churn round {}: {} nodes stopped, {} started, {} certificates and {} versions changed, {} entries added, {} removed",
                    report.round,
                    report.applied.nodes_stopped,
                    report.applied.nodes_started,
                    report.applied.certificates_replaced,
                    report.applied.versions_changed,
                    report.applied.entries_added,
                    report.applied.entries_removed
                ));
                if let Some(path) = &a.truth {
                    write_truth_atomically(&net, path)?;
                }
                if let Some(path) = &a.churn.churn_log {
                    use std::io::Write as _;
                    let mut line = serde_json::to_string(&report)?;
                    line.push('\n');
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .and_then(|mut f| f.write_all(line.as_bytes()))
                        .with_context(|| format!("cannot write {}", path.display()))?;
                }
            }
        }
    }
    ui.note("stopping the simulated network");
    net.shutdown().await;
    Ok(Exit::Success)
}

/// Writes the current truth next to `path` and renames it into place, so that a reader
/// never sees half a file.
fn write_truth_atomically(net: &Simnet, path: &Path) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    net.current_truth()
        .write_json(&tmp)
        .context("cannot write the ground truth")?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))
}
