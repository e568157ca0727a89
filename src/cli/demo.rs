//! `demo`: a simulated network in this process, crawled end to end, compared with its
//! ground truth.

use anyhow::{Context, Result};
use clap::Parser;

use crate::simnet::{KeyKind, Simnet, SimnetConfig};
use crate::store::Store;
use crate::{verify, verify_faults};

use super::Exit;
use super::args::{CrawlOptions, DemoArgs};
use super::crawl;
use super::interrupt;
use super::output::{self, Ui};

/// Parses crawl options from flags, so the demo uses exactly the documented defaults.
#[derive(Parser)]
struct DefaultOptions {
    #[command(flatten)]
    options: CrawlOptions,
}

/// `chainweb-crawler demo`.
pub async fn run(a: DemoArgs, ui: &Ui) -> Result<Exit> {
    output::prepare_dir(&a.out)?;
    let db = a.out.join("crawl.sqlite");
    let mut options = DefaultOptions::try_parse_from(["demo", "--loopback-only"])
        .context("internal: default crawl options")?
        .options;
    options.concurrency = a.concurrency;
    options.cut_heights = a.cut_heights;
    // Check the settings before the network is built: a bad flag should cost nothing. The
    // bootstrap list is not known yet; any loopback entry stands in for it.
    let stand_in = crate::api::PeerInfo::new(
        None,
        crate::api::HostAddress::new(
            crate::api::Hostname::Ipv4(std::net::Ipv4Addr::LOCALHOST),
            crate::simnet::P2P_PORT,
        ),
    );
    crawl::crawl_config(
        crate::api::NetworkId::Mainnet01,
        vec![stand_in],
        &options,
        None,
    )?;
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
        ..SimnetConfig::default()
    })
    .await
    .map_err(super::simnet::start_error)?;
    let truth_path = a.out.join("truth.json");
    net.truth()
        .write_json(&truth_path)
        .context("cannot write the ground truth")?;
    ui.note(format!(
        "simnet: {} live nodes on 127.{}.x.y, {} bootstrap nodes; crawling…",
        net.live_addresses().len(),
        a.subnet,
        net.bootstrap().len()
    ));
    let bootstrap = net.bootstrap();
    let config = crawl::crawl_config(net.config().network, bootstrap.clone(), &options, None)?;
    let params = crawl::parameters(net.config().network, &bootstrap, &options);
    let info = crawl::node_info_settings(&config, &options);
    let finished = crawl::run_crawl(config, &db, params, *ui, interrupt::interrupted(*ui)).await;
    if let Ok(f) = &finished {
        crawl::report_end(ui, &f.summary, f.id, &db);
        // The nodes must still be up to be asked for their cut and config.
        if let Some((settings, resolver)) = info {
            crawl::record_cut_heights(&db, f.id, &settings, resolver, ui).await?;
        }
    }
    let expected = net.truth().expected();
    let faults = net.truth().faults.clone();
    net.shutdown().await;
    let finished = finished?;
    let (stats, files) = crawl::write_outputs(&db, finished.id, &a.out)?;
    let report = super::html_report::write(&db, finished.id, &a.out)?;
    crawl::print_stats(&stats, a.json)?;
    let store = Store::open(&db)?;
    let data = store
        .load_crawl(finished.id)
        .with_context(|| format!("cannot read crawl {} back", finished.id.0))?;
    let faulty = faults.iter().map(|f| f.address.clone()).collect();
    let comparison = verify::compare_well_behaved(&expected, &data, &faulty);
    let fault_problems = verify_faults::check_faults(&store, finished.id, &faults)
        .context("cannot check the faults")?;
    ui.note(format!(
        "wrote {}, {}, {}, {}, {}, {}",
        db.display(),
        files.dot.display(),
        files.graphml.display(),
        files.stats.display(),
        report.display(),
        truth_path.display()
    ));
    ui.note(comparison.to_text().trim_end());
    if !faults.is_empty() {
        ui.note(format!(
            "  faults: {} injected, {} found with the right reason",
            faults.len(),
            faults
                .iter()
                .filter(|f| !fault_problems
                    .iter()
                    .any(|p| p.starts_with(&format!("{} (", f.fault))))
                .count()
        ));
        for p in &fault_problems {
            ui.note(format!("  fault mismatch: {p}"));
        }
    }
    if let Some(peak) = peak_memory_kib() {
        ui.note(format!("  peak memory (VmHWM): {} MiB", peak / 1024));
    }
    let exit = crawl::exit_for(&finished.summary);
    if exit == Exit::Success && !fault_problems.is_empty() {
        crate::crawl::progress::stderr_line(
            "chainweb-crawler: some faults were not recorded as the ground truth requires",
        );
        return Ok(Exit::Failure);
    }
    if exit == Exit::Success && !comparison.is_exact() {
        crate::crawl::progress::stderr_line(&format!(
            "chainweb-crawler: the crawl does not match the simulator's ground truth; missing e.g. {:?}, extra e.g. {:?}",
            comparison.missing_sample.first(),
            comparison.extra_sample.first()
        ));
        return Ok(Exit::Failure);
    }
    Ok(exit)
}

/// The process's peak resident memory in KiB (`VmHWM` of /proc/self/status), where the
/// system reports it.
pub fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
