//! Peak resident memory from `/proc`: `VmHWM`, and resetting it between phases.

use std::path::Path;

/// `VmHWM` of a `/proc/<pid>/status` file, in bytes.
pub fn peak_rss_of(status: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(status).ok()?;
    parse_kib(&text, "VmHWM:").map(|k| k * 1024)
}

/// This process's peak resident memory, in bytes.
pub fn peak_rss() -> Option<u64> {
    peak_rss_of(Path::new("/proc/self/status"))
}

/// This process's current resident memory, in bytes.
pub fn current_rss() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_kib(&text, "VmRSS:").map(|k| k * 1024)
}

/// Resets the peak to the current resident size (Linux `clear_refs` 5), so the next
/// [`peak_rss`] covers only what follows. Returns whether the kernel accepted it.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", b"5").is_ok()
}

/// Hands memory glibc's malloc keeps but no longer uses back to the system, so one phase's
/// freed heap does not count as the next phase's resident memory. The binary allocates
/// with mimalloc (see `main.rs`), which returns freed memory by itself after a short delay
/// and keeps some for reuse; there this does nothing, and the bench prints the resident
/// size each phase starts from.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own arenas; it takes no pointers from us and
    // is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn parse_kib(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|n| n.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_lines() {
        let text = "Name:\tx\nVmHWM:\t  123456 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(parse_kib(text, "VmHWM:"), Some(123_456));
        assert_eq!(parse_kib(text, "VmRSS:"), Some(1000));
        assert_eq!(parse_kib(text, "VmSwap:"), None);
        assert!(peak_rss().is_some_and(|b| b > 0));
    }
}
