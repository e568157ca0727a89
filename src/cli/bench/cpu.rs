//! CPU time from `/proc`, so the benchmark can show which process used the two cores
//! during each phase: a crawl that is slower than its ceiling on a saturated machine is
//! CPU-bound, one that leaves the cores idle is waiting on its own scheduling.

use std::path::Path;

/// Clock ticks per second of `/proc/<pid>/stat` times.
fn ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a constant of the running system.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// User plus system CPU seconds of a process, from its `/proc/<pid>/stat`.
pub fn cpu_seconds_of(stat: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(stat).ok()?;
    parse_stat(&text).map(|ticks| ticks as f64 / ticks_per_second())
}

/// This process's CPU seconds so far.
pub fn own_cpu_seconds() -> Option<f64> {
    cpu_seconds_of(Path::new("/proc/self/stat"))
}

/// utime + stime (fields 14 and 15) of a stat line; the command name before them may
/// hold spaces and parentheses, so fields are counted from the last `)`.
fn parse_stat(text: &str) -> Option<u64> {
    let (_, rest) = text.rsplit_once(')')?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// CPU used by the crawler and the simnet over one phase.
#[derive(Debug, Clone, Copy, Default)]
pub struct PhaseCpu {
    /// Seconds of this process.
    pub own_s: f64,
    /// Seconds of the simnet process.
    pub simnet_s: f64,
}

impl PhaseCpu {
    /// Both processes' cores in use on average over `wall_s`.
    pub fn cores(&self, wall_s: f64) -> f64 {
        if wall_s > 0.0 {
            (self.own_s + self.simnet_s) / wall_s
        } else {
            0.0
        }
    }
}

/// A starting point of a phase's CPU accounting.
#[derive(Debug, Clone, Copy)]
pub struct CpuMark {
    own: Option<f64>,
    simnet: Option<f64>,
}

impl CpuMark {
    /// Reads both clocks now; `simnet_pid` is the child's id.
    pub fn now(simnet_pid: Option<u32>) -> CpuMark {
        CpuMark {
            own: own_cpu_seconds(),
            simnet: simnet_pid.and_then(|p| cpu_seconds_of(Path::new(&format!("/proc/{p}/stat")))),
        }
    }

    /// CPU used since this mark (zero where a clock could not be read).
    pub fn since(&self, simnet_pid: Option<u32>) -> PhaseCpu {
        let end = CpuMark::now(simnet_pid);
        let diff = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (b - a).max(0.0),
            _ => 0.0,
        };
        PhaseCpu {
            own_s: diff(self.own, end.own),
            simnet_s: diff(self.simnet, end.simnet),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_and_stime_after_the_command_name() {
        let line = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0";
        assert_eq!(parse_stat(line), Some(325));
        assert_eq!(parse_stat("garbage"), None);
        assert!(own_cpu_seconds().is_some());
    }
}
