//! The command line: parse, run one subcommand, map the result to an exit code.
//!
//! stdout carries data only (statistics, JSON, exports to `-`); progress, notes and errors
//! go to stderr. Peer-controlled strings are sanitized before they are printed.

mod add_peer;
pub mod args;
mod bench;
pub mod crawl;
mod demo;
mod diff;
pub mod duration;
mod fd_limit;
mod html_report;
pub mod interrupt;
pub mod output;
mod report;
pub mod schedule;
mod simnet;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

pub use args::Opts;

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The job finished.
    Success,
    /// A runtime error, or a crawl that reached nothing.
    Failure,
    /// Interrupted by Ctrl-C after sealing the crawl.
    Interrupted,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        match e {
            Exit::Success => ExitCode::SUCCESS,
            Exit::Failure => ExitCode::from(1),
            Exit::Interrupted => ExitCode::from(130),
        }
    }
}

/// A mistake in what the user typed that clap cannot see (a value out of range, a bad
/// bootstrap file): reported like clap's own errors, with exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The error and its causes on one line, each cause once: a message that already quotes
/// its cause (as many library errors do) does not repeat it. Control characters that a
/// peer may have put into a message are escaped.
pub fn error_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if text.is_empty() || out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    crate::sanitize::sanitize(&out, 2000)
}

/// Parses the command line and runs it; what `main` calls.
pub fn main() -> ExitCode {
    let opts = Opts::parse();
    fd_limit::raise_open_file_limit();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            crate::crawl::progress::stderr_line(&format!(
                "chainweb-crawler: cannot start the async runtime: {e}"
            ));
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(opts)) {
        Ok(exit) => exit.into(),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            crate::crawl::progress::stderr_line(&format!("chainweb-crawler: {}", error_line(&e)));
            if e.chain().any(|c| c.is::<UsageError>()) {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

async fn run(opts: Opts) -> Result<Exit> {
    let ui = output::Ui::new(&opts);
    match opts.command {
        args::Command::Demo(a) => demo::run(a, &ui).await,
        args::Command::Crawl(a) => crawl::run(a, &ui).await,
        args::Command::Simnet(a) => simnet::run(a, &ui).await,
        args::Command::Stats(a) => report::stats(a),
        args::Command::Export(a) => report::export(a),
        args::Command::Diff(a) => diff::diff(a),
        args::Command::Prune(a) => diff::prune(a),
        args::Command::Report(a) => html_report::run(a, &ui),
        args::Command::AddPeer(a) => add_peer::run(a).await,
        args::Command::Bench(a) => bench::run(a, &ui).await,
    }
}
