//! Progress bars on stderr: nodes known / visited / failed, pages and edges.
//!
//! Hidden when stderr is not a terminal (indicatif's stderr target checks), or when the
//! caller asks for no progress.

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Counters the engine keeps and the bar shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    /// Addresses learned.
    pub known: u64,
    /// Nodes whose visit is over.
    pub visited: u64,
    /// Visited nodes that answered.
    pub reachable: u64,
    /// Visited nodes that did not answer.
    pub failed: u64,
    /// Nodes never contacted (policy, caps, interrupt).
    pub skipped: u64,
    /// Requests made.
    pub pages: u64,
    /// Peer entries recorded as edges.
    pub edges: u64,
}

/// The bar being drawn, if any, so that notes print above it instead of through it.
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Prints a line on stderr, above the progress bar when one is drawn.
pub fn print_above(line: &str) {
    let bar = ACTIVE.lock().ok().and_then(|b| b.clone());
    match bar {
        Some(bar) if !bar.is_hidden() => bar.suspend(|| stderr_line(line)),
        _ => stderr_line(line),
    }
}

/// Writes one line to stderr. Unlike `eprintln!`, a closed stderr (`2>&1 | head`) is not
/// a panic: the line is dropped and the work goes on.
pub fn stderr_line(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// The crawl's progress display.
#[derive(Debug, Clone)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar on stderr, or a hidden one when `visible` is false.
    pub fn new(visible: bool) -> Self {
        let target = if visible {
            ProgressDrawTarget::stderr_with_hz(8)
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(0), target);
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} nodes visited · {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(125));
        if let Ok(mut active) = ACTIVE.lock() {
            *active = Some(bar.clone());
        }
        Progress { bar }
    }

    /// Shows the current counters.
    pub fn update(&self, c: &Counters) {
        self.bar.set_length(c.known.saturating_sub(c.skipped));
        self.bar.set_position(c.visited);
        self.bar.set_message(format!(
            "{} reachable, {} failed, {} skipped · {} pages · {} edges",
            c.reachable, c.failed, c.skipped, c.pages, c.edges
        ));
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
        if let Ok(mut active) = ACTIVE.lock() {
            *active = None;
        }
    }
}
