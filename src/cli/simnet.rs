//! `simnet`: serve a simulated network until Ctrl-C.

use std::path::Path;

use anyhow::{Context, Result};

use crate::simnet::{KeyKind, Simnet, SimnetConfig};

use super::Exit;
use super::args::SimnetArgs;
use super::output::Ui;

/// `chainweb-crawler simnet`.
pub async fn run(a: SimnetArgs, ui: &Ui) -> Result<Exit> {
    let net = Simnet::start(SimnetConfig {
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
        ..SimnetConfig::default()
    })
    .await
    .context("cannot start the simulated network")?;
    if a.profile == super::args::ProfileArg::Realistic {
        let f = crate::simnet::realistic::figures(net.topology());
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
    // Keep the truth file true to what is served: every accepted PUT rewrites it.
    let mut changes = net.changes();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            r = changes.changed() => {
                if r.is_err() {
                    break;
                }
                if let Some(path) = &a.truth {
                    write_truth_atomically(&net, path)?;
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
