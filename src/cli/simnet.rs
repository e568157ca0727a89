//! `simnet`: serve a simulated network until Ctrl-C.

use anyhow::{Context, Result};

use crate::simnet::{Simnet, SimnetConfig};

use super::Exit;
use super::args::SimnetArgs;
use super::output::Ui;

/// `chainweb-crawler simnet`.
pub async fn run(a: SimnetArgs, ui: &Ui) -> Result<Exit> {
    let net = Simnet::start(SimnetConfig {
        nodes: a.nodes,
        seed: a.seed,
        subnet: a.subnet,
        network: a.network,
        profile: a.profile,
        latency: std::time::Duration::from_millis(a.latency_ms),
        latency_jitter: std::time::Duration::from_millis(a.jitter_ms),
        ..SimnetConfig::default()
    })
    .await
    .context("cannot start the simulated network")?;
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
        "serving {} simulated {} nodes on 127.{}.x.y:1789 (bootstrap: {}); Ctrl-C to stop",
        net.live_addresses().len(),
        a.network,
        a.subnet,
        net.bootstrap()
            .iter()
            .map(|p| p.address.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let _ = tokio::signal::ctrl_c().await;
    ui.note("stopping the simulated network");
    net.shutdown().await;
    Ok(Exit::Success)
}
