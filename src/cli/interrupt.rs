//! Stopping a crawl from outside: Ctrl-C, SIGTERM (systemd, `kill`) and SIGHUP (a closed
//! terminal) all ask the crawl to stop and seal what it learned.
//!
//! A second signal exits at once, but first marks the running crawl `interrupted` through a
//! fresh connection, so no crawl is ever left `running` by a hurried user. A second signal
//! that arrives within [`DEBOUNCE`] of the first is taken as the same request: `timeout`
//! and some shells deliver one Ctrl-C to the process and to its group.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::{CrawlId, CrawlStatus, Store};

use super::output::Ui;

/// Signals closer together than this count as one.
const DEBOUNCE: Duration = Duration::from_millis(500);

/// The crawl being written, for the hard exit to seal.
static RUNNING: Mutex<Option<(PathBuf, CrawlId)>> = Mutex::new(None);

/// Records the crawl a hard exit must seal (`None` once it is sealed normally).
pub fn set_running(crawl: Option<(PathBuf, CrawlId)>) {
    if let Ok(mut r) = RUNNING.lock() {
        *r = crawl;
    }
}

/// Marks the running crawl interrupted, best effort: the process is about to exit.
fn seal_running() {
    let crawl = RUNNING.lock().ok().and_then(|mut r| r.take());
    if let Some((db, id)) = crawl
        && let Ok(store) = Store::open(&db)
    {
        let _ = store.finish_crawl(
            id,
            CrawlStatus::Interrupted,
            0,
            Some("stopped at once by a second interrupt; frontier size unknown"),
        );
    }
}

#[cfg(unix)]
async fn next_signal(
    int: &mut tokio::signal::unix::Signal,
    term: &mut tokio::signal::unix::Signal,
    hup: &mut tokio::signal::unix::Signal,
) {
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
        _ = hup.recv() => {}
    }
}

/// Completes at the first interrupt (and tells the user); a later one exits the process
/// with code 130 after sealing the running crawl.
pub async fn interrupted(ui: Ui) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            // No signal handling available: never cancel.
            return std::future::pending().await;
        };
        next_signal(&mut int, &mut term, &mut hup).await;
        let first = Instant::now();
        ui.note(
            "interrupted: stopping the crawl and saving what was learned (interrupt again to quit at once)",
        );
        tokio::spawn(async move {
            loop {
                next_signal(&mut int, &mut term, &mut hup).await;
                if first.elapsed() >= DEBOUNCE {
                    break;
                }
            }
            seal_running();
            std::process::exit(130);
        });
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            return std::future::pending().await;
        }
        ui.note("interrupted: stopping the crawl and saving what was learned (Ctrl-C again to quit at once)");
        tokio::spawn(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                seal_running();
                std::process::exit(130);
            }
        });
    }
}
