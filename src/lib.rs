//! chainweb-crawler: maps the Kadena chainweb peer-to-peer network.
//!
//! # Layout
//! - [`api`]: the peer API's wire types, shared by the crawler and the simulator.
//! - `crawl`: the engine that pages through every node's peer lists.
//! - [`store`]: the SQLite database of crawls and its public views.
//! - [`graph`]: petgraph statistics and DOT / GraphML / JSON exports of a stored crawl.
//! - [`report`]: the self-contained HTML report (topology map, charts) of a stored crawl.
//! - `simnet`: a simulated chainweb network of loopback HTTPS nodes, with ground truth;
//!   its `hostile` profile adds one faulty node per fault kind.
//! - `verify`, `verify_faults`: a stored crawl against a simulator's ground truth.
//! - `cli`: the command line.
#![warn(missing_docs)]

pub mod api;
pub mod cli;
pub mod crawl;
pub mod graph;
pub mod report;
pub mod sanitize;
pub mod simnet;
pub mod store;
pub mod verify;
pub mod verify_faults;
