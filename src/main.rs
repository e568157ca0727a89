//! The `chainweb-crawler` binary: all logic lives in the library's `cli` module.
//!
//! # Allocator
//!
//! The crawl allocates a little for every page (request, headers, body, entries) on the
//! runtime's worker threads and frees much of it on others (the engine, the store writer).
//! With glibc's malloc that took about a tenth of the crawler's CPU (`perf`), and in
//! alternating `bench` runs a 10,000-node crawl took 16.9–19.5 s against 11.4–14.2 s with
//! mimalloc. The price is memory mimalloc keeps for reuse: the crawl's peak RSS grows from
//! about 115 MB to 135 MB, and small crawls' commands take 10–25 MB more. It also copies a
//! vector that grows by doubling and keeps the old block a while, which is why the crawl's
//! edges are read into a vector sized once and statistics use `graph::adjacency`. Telling
//! mimalloc to return freed memory at once (`purge_delay` 0) made the crawl as slow as
//! with glibc, so the defaults stay.

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    chainweb_crawler::cli::main()
}
