//! The shipped benchmark: it finishes by itself, prints every figure, checks the crawl
//! against the ground truth, and fails cleanly when its simnet child cannot start.

use std::process::Command;

// Subprocess simnets of this module use subnets 240 and 241 (the two runs of the first
// test), 242, 245, 246, 247 and 248 (the repeated runs), 249 and 250; tests/cli.rs runs
// 243 and 244.
fn bench(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chainweb-crawler"))
        .args(["--progress", "never", "bench", "--time-limit", "120"])
        .args(args)
        .output()
        .expect("binary runs")
}

#[test]
fn small_bench_prints_every_figure() {
    let o = bench(&["--nodes", "30", "--latency-ms", "0,2", "--subnet", "240"]);
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "stdout: {out}\nstderr: {err}");
    for needle in [
        "bench: 30 nodes",
        "pages/s",
        "edges written/s",
        "equal the ground truth",
        "crawler peak RSS",
        "cores busy",
        "T_net",
        "T_store",
        "× ceiling",
        "× lower bound",
        "stats ",
        "summary (issue 6's targets",
        "30 nodes,    0 ms: crawl ",
        "30 nodes,    2 ms: crawl ",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in: {out}");
    }
}

/// With small pages the lists span several pages: the bench says how many, asks for pages
/// of that size, and the crawl still equals the ground truth.
#[test]
fn small_pages_make_multi_page_lists() {
    let o = bench(&["--nodes", "30", "--page-limit", "8", "--subnet", "250"]);
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "stdout: {out}\nstderr: {err}");
    assert!(out.contains(", 8 entries a page;"), "{out}");
    assert!(out.contains("equal the ground truth"), "{out}");
    let t_net = out
        .lines()
        .find(|l| l.trim_start().starts_with("T_net"))
        .expect("a T_net line");
    // "T_net     P pages of L lists (M longer than one page; 0 failed), …"
    let number_before = |word: &str| -> u64 {
        let head = t_net.split(word).next().expect("the word");
        let n = head
            .rsplit([' ', '('])
            .find(|w| !w.is_empty())
            .expect("a number");
        n.parse().unwrap_or_else(|_| panic!("{n:?} in {t_net}"))
    };
    let (pages, lists) = (number_before(" pages of"), number_before(" lists"));
    let long = number_before(" longer than one page");
    assert!(long > 0 && long < lists, "{t_net}");
    assert!(pages > lists, "{t_net}");
    assert!(t_net.contains("; 0 failed)"), "{t_net}");
}

/// `--repeat` runs every size again, labels each run, keeps each run's folder apart and
/// gives the ratio's spread over the runs.
#[test]
fn repeated_runs_are_labelled_kept_apart_and_summarised() {
    let keep = crate::support::scratch("bench-repeat");
    let keep_arg = keep.to_str().expect("utf-8 path");
    let o = bench(&[
        "--nodes", "30", "--repeat", "2", "--subnet", "247", "--keep", keep_arg,
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "stdout: {out}\nstderr: {err}");
    for needle in [
        "; run 1 of 2;",
        "; run 2 of 2;",
        "30 nodes,    0 ms, run 1: crawl ",
        "30 nodes,    0 ms, run 2: crawl ",
        "spread over 2 runs",
        "of 2 runs ≤ 1.3",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in: {out}");
    }
    // min ≤ median ≤ max, as printed.
    let spread = out
        .lines()
        .find(|l| l.contains("× ceiling;") && l.contains(" / "))
        .expect("a spread line");
    let figures: Vec<f64> = spread
        .split("crawl ")
        .nth(1)
        .and_then(|r| r.split(" × ").next())
        .expect("figures")
        .split(" / ")
        .map(|x| x.trim().parse().expect("a number"))
        .collect();
    assert_eq!(figures.len(), 3, "{spread}");
    assert!(
        figures[0] <= figures[1] && figures[1] <= figures[2],
        "{spread}"
    );
    for run in ["bench-30-0ms-run1", "bench-30-0ms-run2"] {
        let db = keep.join(run).join("crawl.sqlite");
        assert!(db.is_file(), "{run} kept");
        // The realistic profile advertises public addresses: the bench's crawl, like the
        // demo's, records them as refused and never sends them a request.
        let conn = rusqlite::Connection::open(&db).expect("open the kept crawl");
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
        assert!(
            count("SELECT count(*) FROM crawl_nodes WHERE error = 'policy_public'") > 0,
            "{run}: public entries recorded as refused"
        );
        assert_eq!(
            count("SELECT count(*) FROM crawl_responses WHERE hostname NOT LIKE '127.%'"),
            0,
            "{run}: a request went to a non-loopback address"
        );
    }
    let _ = std::fs::remove_dir_all(keep);
}

#[test]
fn a_simnet_that_cannot_start_fails_the_bench() {
    // The simnet's first node address is taken: the bench accepts the run, its child
    // simnet cannot bind and ends before serving.
    let _taken = std::net::TcpListener::bind("127.242.0.1:1789").expect("bind the address");
    let o = bench(&["--nodes", "30", "--profile", "clean", "--subnet", "242"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(err.contains("ended before serving"), "{err}");
    assert!(err.contains("30-node"), "{err}");
}

/// SIGTERM to a bench stops its run, and the run's simnet, and removes the run's scratch
/// folder: nothing is left running or written behind.
#[test]
fn a_terminated_bench_leaves_no_process_and_no_scratch_folder() {
    use std::io::{BufRead, BufReader};
    let mut bench = Command::new(env!("CARGO_BIN_EXE_chainweb-crawler"))
        .args(["--progress", "never", "bench", "--time-limit", "120"])
        .args(["--nodes", "40", "--latency-ms", "3000", "--subnet", "245"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("binary runs");
    let stderr = bench.stderr.take().expect("stderr");
    let mut simnet_pid = None;
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("utf-8");
        // "bench: simnet ready in 0.4 s (pid 123); crawling…"
        if let Some(rest) = line.split("(pid ").nth(1) {
            simnet_pid = rest.split(')').next().and_then(|p| p.parse::<u32>().ok());
            break;
        }
    }
    let simnet_pid = simnet_pid.expect("the run started its simnet");
    let pid = i32::try_from(bench.id()).expect("pid");
    // SAFETY: a signal to our own child.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let status = bench.wait().expect("bench exits");
    assert_eq!(status.code(), Some(130));
    let alive = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while alive(simnet_pid) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(!alive(simnet_pid), "simnet {simnet_pid} still runs");
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .expect("temp dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("-bench-40-3000ms"))
        .collect();
    assert!(left.is_empty(), "scratch folders left: {left:?}");
}

/// Figures written into a closed pipe (`bench | head -1`) are dropped, not a panic: the
/// run still finishes, stops its simnet and exits 0.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let mut bench = Command::new(env!("CARGO_BIN_EXE_chainweb-crawler"))
        .args(["--progress", "never", "bench", "--time-limit", "120"])
        .args(["--nodes", "30", "--subnet", "246"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("binary runs");
    drop(bench.stdout.take());
    let out = bench.wait_with_output().expect("bench exits");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}

/// Figures that cannot be written (a full disk) fail the bench after it has cleaned up;
/// only a closed pipe is taken as "nobody wants the rest".
#[test]
fn figures_that_cannot_be_written_fail_the_bench() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = Command::new(env!("CARGO_BIN_EXE_chainweb-crawler"))
        .args(["--progress", "never", "bench", "--time-limit", "120"])
        .args(["--nodes", "30", "--subnet", "249"])
        .stdout(full)
        .output()
        .expect("binary runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot write the figures"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
