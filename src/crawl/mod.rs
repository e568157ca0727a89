//! The crawl: frontier, fetcher, egress policy and the events it reports.

pub mod event;
pub mod failure;
pub mod policy;

pub use event::{Event, NodeIdx, NodeVisit, PageRecord};
pub use failure::FailureKind;
pub use policy::{AddrClass, EgressPolicy, classify};
pub mod config;
pub mod fetch;
pub mod node_info;
pub mod parse;
pub mod resolve;
pub mod tls;

pub use config::{CrawlConfig, FetchLimits};
pub mod engine;
pub mod progress;

pub use engine::{Engine, Outcome, Summary};
pub use progress::{Counters, Progress};
