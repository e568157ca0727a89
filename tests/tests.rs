//! Integration tests: one binary (see `[[test]]` in Cargo.toml), one module per area.

mod support;

mod bench;
mod churn_diff;
mod cli;
mod cli_store;
mod crawl_db;
mod engine;
mod hostile;
mod queries;
mod report;
mod scheduled;
mod schema_upgrade;
mod simnet_live;
