//! `demo`: a simulated network in this process, crawled end to end, compared with its
//! ground truth.

use anyhow::{Context, Result};
use clap::Parser;

use crate::simnet::{KeyKind, Simnet, SimnetConfig};
use crate::store::Store;
use crate::verify;

use super::Exit;
use super::args::{CrawlOptions, DemoArgs};
use super::crawl::{self, ctrl_c};
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
    .context("cannot start the simulated network")?;
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
    let finished = crawl::run_crawl(config, &db, params, *ui, ctrl_c(*ui)).await;
    if let (Ok(f), Some((settings, resolver))) = (&finished, info) {
        crawl::record_cut_heights(&db, f.id, &settings, resolver, ui).await?;
    }
    let expected = net.truth().expected();
    net.shutdown().await;
    let finished = finished?;
    ui.note(crawl::describe(&finished.summary, finished.id, &db));
    let (stats, files) = crawl::write_outputs(&db, finished.id, &a.out)?;
    crawl::print_stats(&stats, a.json)?;
    let data = Store::open(&db)
        .and_then(|s| s.load_crawl(finished.id))
        .with_context(|| format!("cannot read crawl {} back", finished.id.0))?;
    let comparison = verify::compare(&expected, &data);
    ui.note(format!(
        "wrote {}, {}, {}, {}, {}",
        db.display(),
        files.dot.display(),
        files.graphml.display(),
        files.stats.display(),
        truth_path.display()
    ));
    eprint!("{}", comparison.to_text());
    let exit = crawl::exit_for(&finished.summary);
    if exit == Exit::Success && !comparison.is_exact() {
        eprintln!(
            "chainweb-crawler: the crawl does not match the simulator's ground truth; missing e.g. {:?}, extra e.g. {:?}",
            comparison.missing_sample.first(),
            comparison.extra_sample.first()
        );
        return Ok(Exit::Failure);
    }
    Ok(exit)
}
