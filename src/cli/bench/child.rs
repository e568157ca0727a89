//! The simulated network of a benchmark, in a process of its own (so simulator and crawler
//! do not share one runtime or one file-descriptor table).
//!
//! The child is this same program running `simnet`. It is killed when the [`SimnetChild`]
//! is dropped, so every way out of the benchmark (finish, error, Ctrl-C, panic) ends it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The process id of the running child, so an interrupt can wait until it is gone.
static RUNNING: AtomicU32 = AtomicU32::new(0);

/// Records the process the benchmark waits for on an interrupt (`None` once it is gone).
pub fn set_running(pid: Option<u32>) {
    RUNNING.store(pid.unwrap_or(0), Ordering::Relaxed);
}

/// Asks the recorded process to stop (SIGTERM), if there is one.
pub fn terminate_running() {
    let pid = RUNNING.load(Ordering::Relaxed);
    if let Ok(pid) = libc::pid_t::try_from(pid)
        && pid > 0
    {
        // SAFETY: kill only sends a signal. The pid is this process's own child, recorded
        // while it runs; had it just exited and been reaped, its number would have to be
        // reused within that instant to reach another process.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
}

/// Waits (at most `limit`) until the last started child has exited: after an interrupt the
/// benchmark returns only once its simnet is gone, not merely signalled.
pub async fn wait_gone(limit: Duration) {
    let pid = RUNNING.load(Ordering::Relaxed);
    if pid == 0 {
        return;
    }
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        // Gone once /proc has no entry, or only a zombie waiting to be reaped.
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok();
        let alive = state.is_some_and(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
        });
        if !alive {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Makes a child process die when the process that started it dies, however it dies: a
/// benchmark killed with SIGKILL must not leave a 10,000-node simnet behind.
pub fn die_with_parent(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    // SAFETY: the closure runs in the child between fork and exec and calls only prctl and
    // getppid, both async-signal-safe; it touches no memory of the parent.
    unsafe {
        let parent = libc::getpid();
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before the prctl: then nobody will send the signal.
            if libc::getppid() != parent {
                return Err(std::io::Error::other("the parent process is gone"));
            }
            Ok(())
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

/// The note `simnet` prints once every node listens and both files are written.
const READY_PREFIX: &str = "serving ";
/// Last lines of the child's stderr kept for error messages.
const TAIL_LINES: usize = 20;

/// How to start the child.
#[derive(Debug, Clone)]
pub struct ChildSpec {
    /// Live nodes.
    pub nodes: usize,
    /// Topology seed.
    pub seed: u64,
    /// Second address octet.
    pub subnet: u8,
    /// `--profile`, passed through verbatim when given.
    pub profile: Option<String>,
    /// Injected latency.
    pub latency_ms: u64,
    /// Per-node jitter.
    pub jitter_ms: u64,
    /// Folder for the truth and bootstrap files.
    pub dir: PathBuf,
}

/// A running simnet child process; killed on drop.
pub struct SimnetChild {
    child: Child,
    /// Its ground truth file.
    pub truth: PathBuf,
    /// Its bootstrap list file.
    pub bootstrap: PathBuf,
    tail: Arc<Mutex<Vec<String>>>,
}

impl SimnetChild {
    /// Starts the child and waits until it serves, at most `ready_timeout`.
    ///
    /// # Errors
    /// The program cannot be started, the child exits early (its last stderr lines are in
    /// the message) or does not become ready in time.
    pub async fn start(spec: &ChildSpec, ready_timeout: Duration) -> Result<SimnetChild> {
        let exe = std::env::current_exe().context("cannot find this program's executable")?;
        let truth = spec.dir.join("truth.json");
        let bootstrap = spec.dir.join("bootstrap.txt");
        let mut cmd = Command::new(exe);
        cmd.arg("--progress")
            .arg("never")
            .arg("simnet")
            .args(["--nodes", &spec.nodes.to_string()])
            .args(["--seed", &spec.seed.to_string()])
            .args(["--subnet", &spec.subnet.to_string()])
            .args(["--latency-ms", &spec.latency_ms.to_string()])
            .args(["--jitter-ms", &spec.jitter_ms.to_string()])
            .arg("--truth")
            .arg(&truth)
            .arg("--bootstrap-out")
            .arg(&bootstrap);
        if let Some(p) = &spec.profile {
            cmd.args(["--profile", p]);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        die_with_parent(&mut cmd);
        let mut child = cmd.spawn().context("cannot start the simnet process")?;
        set_running(child.id());
        let stderr = child
            .stderr
            .take()
            .context("the simnet process has no stderr pipe")?;
        let tail = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
        // Keep draining stderr for the child's whole life, so it never blocks on a full pipe.
        let lines_tail = tail.clone();
        tokio::spawn(async move {
            let mut ready = Some(ready_tx);
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if line.starts_with(READY_PREFIX)
                    && let Some(tx) = ready.take()
                {
                    let _ = tx.send(());
                }
                if let Ok(mut t) = lines_tail.lock() {
                    if t.len() >= TAIL_LINES {
                        t.remove(0);
                    }
                    t.push(line);
                }
            }
        });
        let mut me = SimnetChild {
            child,
            truth,
            bootstrap,
            tail,
        };
        tokio::select! {
            r = ready_rx => {
                if r.is_err() {
                    // stderr closed without the ready line: the child is exiting.
                    let status = me.child.wait().await.ok();
                    bail!(
                        "the simnet process ended before serving ({}): {}",
                        status.map_or("unknown status".to_string(), |s| s.to_string()),
                        me.tail_text()
                    );
                }
            }
            () = tokio::time::sleep(ready_timeout) => {
                bail!(
                    "the simnet process was not ready after {} s: {}",
                    ready_timeout.as_secs(),
                    me.tail_text()
                );
            }
        }
        Ok(me)
    }

    /// The child's process id.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// The peak resident memory of the child in bytes, if readable.
    pub fn peak_rss(&self) -> Option<u64> {
        let pid = self.child.id()?;
        super::rss::peak_rss_of(Path::new(&format!("/proc/{pid}/status")))
    }

    fn tail_text(&self) -> String {
        self.tail.lock().map(|t| t.join(" | ")).unwrap_or_default()
    }

    /// Stops the child and waits for it.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}
