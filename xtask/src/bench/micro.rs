// SPDX-License-Identifier: GPL-3.0-or-later
//! The microbenchmarks of `cargo xtask bench`: the per-syscall cost of the jail.
//!
//! A guest makes N `getppid()` calls; the same run is timed natively, under
//! `ujail run` (every call forwarded: the sysemu engine's three stops; the
//! seccomp engine's filter lets it run natively) and under `ujail run
//! --deny-syscall getppid` (every call answered: one stop under sysemu, none
//! under seccomp, where the filter answers). The cost of one call is (time −
//! native time) / N, best of R runs. Under sysemu each is measured with
//! tracer and tracee on one CPU (`taskset -c 0`), on two different CPUs
//! (ujail on CPU 0, the guest moved to CPU 1 by busybox's `taskset 2` before
//! it execs the loop) and unpinned. A second table gives the cost of the
//! checks, per engine: `open`+`close`, `stat` and 4 KiB `read` loops
//! without and with a path policy (`--system-ro`), and a UDP `connect` loop
//! without and with a network policy (`--net loopback`). Timing is reported, never asserted.
#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::deps::I686;
use crate::util;

/// Where tracer and tracee run.
#[derive(Clone, Copy)]
enum Placement {
    SameCpu,
    SplitCpus,
    Unpinned,
}

impl Placement {
    fn name(self) -> &'static str {
        match self {
            Placement::SameCpu => "same CPU",
            Placement::SplitCpus => "two CPUs",
            Placement::Unpinned => "unpinned",
        }
    }
}

/// What runs the guest.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Native,
    Forward,
    Emulate,
}

struct Config {
    label: &'static str,
    ujail: PathBuf,
    guest: PathBuf,
}

/// Runs both microbenchmark tables with `calls` calls per loop, best of
/// `reps`; prints them and writes `target/bench/syscall-cost.txt`. Returns
/// the report. Expects the x86_64 release `ujail` to be built already.
pub fn run(calls: u64, reps: u32) -> Result<String> {
    if calls == 0 || reps == 0 {
        bail!("bench: --calls and --reps must be positive");
    }
    let guests = crate::guests::build_all()?;
    util::banner("build release ujail (i686)");
    util::run(util::cargo().args(["build", "--release", "-p", "ujail-cli", "--target", I686]))?;
    let target = util::target_dir();
    let ujail64 = target.join("release/ujail");
    let ujail32 = target.join(I686).join("release/ujail");
    let configs = [
        Config {
            label: "x86_64 ujail, x86_64 guest",
            ujail: ujail64.clone(),
            guest: guests.join("ujail-guest-x86_64-static"),
        },
        Config {
            label: "x86_64 ujail, i386 guest",
            ujail: ujail64,
            guest: guests.join("ujail-guest-i686-static"),
        },
        Config {
            label: "i686 ujail, i386 guest",
            ujail: ujail32,
            guest: guests.join("ujail-guest-i686-static"),
        },
    ];

    let mut report = String::new();
    let _ = writeln!(
        report,
        "ujail bench: getppid() loop, {calls} calls, best of {reps}; µs per call"
    );
    let _ = writeln!(report, "(sysemu: forward = hybrid PTRACE_SYSEMU/PTRACE_SYSCALL, 3 stops; emulate = answered at the SYSEMU entry, 1 stop;");
    let _ = writeln!(report, " patch: forward = a syscall instruction written after the program's, run, bytes put back, 4 stops;");
    let _ = writeln!(report, " seccomp: getppid is not watched and runs natively; denied, it is answered by the filter, no stop)");
    let _ = writeln!(
        report,
        "{:<28} {:<8} {:<9} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "tracer / guest", "engine", "placement", "native", "forward", "+cost", "emulate", "+cost"
    );
    for c in &configs {
        for (engine, placement) in [
            ("sysemu", Placement::SameCpu),
            ("sysemu", Placement::SplitCpus),
            ("sysemu", Placement::Unpinned),
            ("patch", Placement::SameCpu),
            ("seccomp", Placement::SameCpu),
        ] {
            let native = best(reps, || {
                time_once(c, placement, Mode::Native, engine, calls)
            })?;
            let fwd = best(reps, || {
                time_once(c, placement, Mode::Forward, engine, calls)
            })?;
            let emu = best(reps, || {
                time_once(c, placement, Mode::Emulate, engine, calls)
            })?;
            let per = |d: Duration| d.as_secs_f64() * 1e6 / calls as f64;
            let line = format!(
                "{:<28} {:<8} {:<9} {:>8.3} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                c.label,
                engine,
                placement.name(),
                per(native),
                per(fwd),
                per(fwd) - per(native),
                per(emu),
                per(emu) - per(native),
            );
            println!("{line}");
            report.push_str(&line);
            report.push('\n');
        }
    }
    let _ = writeln!(report);
    let _ = writeln!(
        report,
        "path check: open+close and stat of {BENCH_FILE}, {calls} calls, best of {reps}, same CPU; µs per call"
    );
    let _ = writeln!(
        report,
        "(plain = `ujail run`, no path rule; policy = `ujail run --system-ro`: resolve, check, checked copy, rewrite)"
    );
    let _ = writeln!(
        report,
        "{:<28} {:<8} {:<8} {:>8} {:>9} {:>9} {:>13}",
        "tracer / guest", "engine", "call", "native", "plain", "policy", "check cost"
    );
    // connect: a UDP connect to 127.0.0.1:9 (no packet); policy =
    // `--net loopback`: sockaddr read, judged, copied, call rewritten.
    let loops: [(&str, Vec<String>, &str); 4] = [
        (
            "open",
            vec!["open-loop".into(), "N".into(), BENCH_FILE.into()],
            "--system-ro",
        ),
        (
            "stat",
            vec!["stat-loop".into(), "N".into(), BENCH_FILE.into()],
            "--system-ro",
        ),
        // read 4 KiB from an fd: no path to check (unwatched by seccomp).
        (
            "read",
            vec!["read-loop".into(), "N".into(), "/dev/zero".into()],
            "--system-ro",
        ),
        (
            "connect",
            ["net", "connect-loop", "127.0.0.1", "9", "N"]
                .map(String::from)
                .to_vec(),
            "--net=loopback",
        ),
    ];
    for c in &configs {
        for engine in ["sysemu", "seccomp"] {
            for (call, args, policy_flag) in &loops {
                let args: Vec<String> = args
                    .iter()
                    .map(|a| {
                        if a == "N" {
                            calls.to_string()
                        } else {
                            a.clone()
                        }
                    })
                    .collect();
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let engine_flag = format!("--engine={engine}");
                let time = |ujail: Option<&[&str]>| best(reps, || time_cmd(c, ujail, &args, calls));
                let native = time(None)?;
                let plain = time(Some(&["run", &engine_flag, "--"]))?;
                let policy = time(Some(&["run", &engine_flag, policy_flag, "--"]))?;
                let per = |d: Duration| d.as_secs_f64() * 1e6 / calls as f64;
                let line = format!(
                    "{:<28} {:<8} {:<8} {:>8.3} {:>9.2} {:>9.2} {:>13.2}",
                    c.label,
                    engine,
                    call,
                    per(native),
                    per(plain),
                    per(policy),
                    per(policy) - per(plain),
                );
                println!("{line}");
                report.push_str(&line);
                report.push('\n');
            }
        }
    }
    let out = target.join("bench");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let file = out.join("syscall-cost.txt");
    std::fs::write(&file, &report).with_context(|| format!("writing {}", file.display()))?;
    println!("\n{report}\nwritten to {}", file.display());
    Ok(report)
}

fn best(reps: u32, mut f: impl FnMut() -> Result<Duration>) -> Result<Duration> {
    let mut best = Duration::MAX;
    for _ in 0..reps {
        best = best.min(f()?);
    }
    Ok(best)
}

fn time_once(
    c: &Config,
    placement: Placement,
    mode: Mode,
    engine: &str,
    calls: u64,
) -> Result<Duration> {
    let engine = format!("--engine={engine}");
    let mut argv: Vec<String> = Vec::new();
    match placement {
        // Two CPUs: ujail stays on CPU 0, the guest moves itself (below).
        Placement::SameCpu | Placement::SplitCpus => {
            argv.extend(["taskset", "-c", "0"].map(String::from))
        }
        Placement::Unpinned => {}
    }
    match mode {
        Mode::Native => {}
        Mode::Forward => argv.extend([path(&c.ujail), "run".into(), engine, "--".into()]),
        Mode::Emulate => argv.extend([
            path(&c.ujail),
            "run".into(),
            engine,
            "--deny-syscall".into(),
            "getppid=EPERM".into(),
            "--".into(),
        ]),
    }
    if let Placement::SplitCpus = placement {
        // The i386 busybox's taskset, so that the i686 ujail can run it too.
        argv.extend(["/bin/busybox", "taskset", "2"].map(String::from));
    }
    argv.extend([path(&c.guest), "getppid-loop".into(), calls.to_string()]);
    run_timed(&argv, calls)
}

/// A file every `--system-ro` policy may read.
const BENCH_FILE: &str = "/usr/share/zoneinfo/UTC";

/// Time `guest ARGS` (natively when `ujail` is `None`, else under
/// `ujail UJAIL-ARGS guest ARGS`), tracer and tracee on CPU 0.
fn time_cmd(c: &Config, ujail: Option<&[&str]>, args: &[&str], calls: u64) -> Result<Duration> {
    let mut argv: Vec<String> = ["taskset", "-c", "0"].map(String::from).to_vec();
    if let Some(u) = ujail {
        argv.push(path(&c.ujail));
        argv.extend(u.iter().map(|s| s.to_string()));
    }
    argv.push(path(&c.guest));
    argv.extend(args.iter().map(|s| s.to_string()));
    run_timed(&argv, calls)
}

/// Run `argv` (a guest loop of `calls` calls, maybe under taskset and
/// ujail); its wall time, or an error when it did not print `done CALLS`.
fn run_timed(argv: &[String], calls: u64) -> Result<Duration> {
    let start = Instant::now();
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {}", argv.join(" ")))?;
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !stdout.contains(&format!("done {calls}")) {
        bail!(
            "`{}` failed: {} (stdout: {})",
            argv.join(" "),
            out.status,
            stdout.trim()
        );
    }
    Ok(elapsed)
}

fn path(p: &Path) -> String {
    p.display().to_string()
}
