//! The `chainweb-crawler` binary: all logic lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    chainweb_crawler::cli::main()
}
