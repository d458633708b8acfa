// SPDX-License-Identifier: GPL-3.0-or-later
//! `cargo xtask bench`: the per-syscall cost of the jail.
//!
//! A guest makes N `getppid()` calls; the same run is timed natively, under
//! `ujail run` (every call forwarded: the hybrid's three stops) and under
//! `ujail run --deny-syscall getppid` (every call answered by the tracer: one
//! stop). The cost of one call is (time − native time) / N, best of R runs.
//! Each is measured with tracer and tracee on one CPU (`taskset -c 0`), on two
//! different CPUs (ujail on CPU 0, the guest moved to CPU 1 by busybox's
//! `taskset 2` before it execs the loop) and unpinned. A second table gives
//! the cost of the path check: `open`+`close` and `stat` loops without and
//! with a path policy (`--system-ro`). Timing is reported, never asserted.

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

pub fn run(args: &[String]) -> Result<()> {
    let mut calls: u64 = 20_000;
    let mut reps: u32 = 3;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--calls" => {
                calls = it
                    .next()
                    .context("--calls needs a number")?
                    .parse()
                    .context("--calls")?
            }
            "--reps" => {
                reps = it
                    .next()
                    .context("--reps needs a number")?
                    .parse()
                    .context("--reps")?
            }
            other => bail!("bench: unknown argument `{other}` (use --calls N, --reps R)"),
        }
    }
    if calls == 0 || reps == 0 {
        bail!("bench: --calls and --reps must be positive");
    }
    crate::deps::ensure_all()?;
    let guests = crate::guests::build_all()?;
    util::banner("build release ujail (x86_64 and i686)");
    util::run(util::cargo().args(["build", "--release", "-p", "ujail-cli"]))?;
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
    let _ = writeln!(report, "(forward = hybrid PTRACE_SYSEMU/PTRACE_SYSCALL, 3 stops; emulate = answered at the SYSEMU entry, 1 stop)");
    let _ = writeln!(
        report,
        "{:<28} {:<9} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "tracer / guest", "placement", "native", "forward", "+cost", "emulate", "+cost"
    );
    for c in &configs {
        for placement in [
            Placement::SameCpu,
            Placement::SplitCpus,
            Placement::Unpinned,
        ] {
            let native = best(reps, || time_once(c, placement, Mode::Native, calls))?;
            let fwd = best(reps, || time_once(c, placement, Mode::Forward, calls))?;
            let emu = best(reps, || time_once(c, placement, Mode::Emulate, calls))?;
            let per = |d: Duration| d.as_secs_f64() * 1e6 / calls as f64;
            let line = format!(
                "{:<28} {:<9} {:>8.3} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                c.label,
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
        "{:<28} {:<6} {:>8} {:>9} {:>9} {:>13}",
        "tracer / guest", "call", "native", "plain", "policy", "check cost"
    );
    for c in &configs {
        for (call, sub) in [("open", "open-loop"), ("stat", "stat-loop")] {
            let time = |ujail: Option<&[&str]>| {
                best(reps, || {
                    time_cmd(c, ujail, &[sub, &calls.to_string(), BENCH_FILE], calls)
                })
            };
            let native = time(None)?;
            let plain = time(Some(&["run", "--"]))?;
            let policy = time(Some(&["run", "--system-ro", "--"]))?;
            let per = |d: Duration| d.as_secs_f64() * 1e6 / calls as f64;
            let line = format!(
                "{:<28} {:<6} {:>8.3} {:>9.2} {:>9.2} {:>13.2}",
                c.label,
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
    let out = target.join("bench");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let file = out.join("syscall-cost.txt");
    std::fs::write(&file, &report).with_context(|| format!("writing {}", file.display()))?;
    println!("\n{report}\nwritten to {}", file.display());
    Ok(())
}

fn best(reps: u32, mut f: impl FnMut() -> Result<Duration>) -> Result<Duration> {
    let mut best = Duration::MAX;
    for _ in 0..reps {
        best = best.min(f()?);
    }
    Ok(best)
}

fn time_once(c: &Config, placement: Placement, mode: Mode, calls: u64) -> Result<Duration> {
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
        Mode::Forward => argv.extend([path(&c.ujail), "run".into(), "--".into()]),
        Mode::Emulate => argv.extend([
            path(&c.ujail),
            "run".into(),
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
