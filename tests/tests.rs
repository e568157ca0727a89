//! Integration tests: one binary (see `[[test]]` in Cargo.toml), one module per area.

mod support;

mod bench;
mod cli;
mod crawl_db;
mod engine;
