//! The shipped benchmark: it finishes by itself, prints every figure, checks the crawl
//! against the ground truth, and fails cleanly when its simnet child cannot start.

use std::process::Command;

// Subprocess simnets of this module use subnets 240 and 241 (the two runs of the first
// test) and 242.
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

#[test]
fn a_simnet_that_cannot_start_fails_the_bench() {
    // More nodes than a simnet can hold: the bench accepts the number, the child refuses it.
    let o = bench(&["--nodes", "60000", "--subnet", "242"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(err.contains("ended before serving"), "{err}");
    assert!(err.contains("60000"), "{err}");
}
