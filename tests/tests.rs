//! Integration tests: one binary (see `[[test]]` in Cargo.toml), one module per area.

mod support;

mod cli;
mod crawl_db;
mod engine;
mod simnet_live;
