//! The crawl: frontier, fetcher, egress policy and the events it reports.

pub mod event;
pub mod failure;
pub mod policy;

pub use event::{Event, NodeIdx, NodeVisit, PageRecord};
pub use failure::FailureKind;
pub use policy::{AddrClass, EgressPolicy, classify};
