// SPDX-License-Identifier: GPL-3.0-or-later
//! `cargo xtask bench`: what the jail costs.
//!
//! Two parts, both on the release `ujail`. The microbenchmarks ([`micro`])
//! give the per-syscall cost of a forwarded, an emulated and a path-checked
//! call. The workloads ([`workloads`]) time everyday programs (tar, find,
//! python3, gcc, a fork loop) natively, under `ujail run`, under `strace` and
//! under `proot`, and report medians, ratios to native and the tracers' peak
//! RSS ([`report`]) in `target/bench/results.md`, with a bar chart of the
//! ratios in `target/bench/ratios.png` ([`png`]). Missing packages are
//! installed first (`cargo xtask deps`). Timing is reported, never asserted.
#![forbid(unsafe_code)]

mod micro;
mod png;
mod report;
mod workloads;

use std::fs;

use anyhow::{bail, Context, Result};

use crate::util;

const USAGE: &str = "\
usage: cargo xtask bench [OPTIONS]

  --calls N      microbenchmarks: calls per loop (default 20000; --quick: 2000)
  --reps R       microbenchmarks: best of R runs (default 3; --quick: 1)
  --runs N       workloads: runs per tool, median taken (default 5; --quick: 1)
  --unpinned     workloads: do not pin every run to CPU 0 (taskset -c 0)
  --quick        smoke test: the defaults above and no slow workload
  --skip-micro   only the workloads
";

/// The command line of `cargo xtask bench`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    calls: u64,
    reps: u32,
    runs: u32,
    pinned: bool,
    quick: bool,
    micro: bool,
}

/// Parses the options; `--quick` changes the defaults, not explicit values.
fn parse(args: &[String]) -> Result<Options> {
    let (mut calls, mut reps, mut runs) = (None, None, None);
    let mut o = Options {
        calls: 20_000,
        reps: 3,
        runs: 5,
        pinned: true,
        quick: false,
        micro: true,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut number = |name: &str| -> Result<u64> {
            let n: u64 = it
                .next()
                .with_context(|| format!("{name} needs a number"))?
                .parse()
                .with_context(|| name.to_string())?;
            if n == 0 {
                bail!("{name} must be positive");
            }
            Ok(n)
        };
        match a.as_str() {
            "--calls" => calls = Some(number("--calls")?),
            "--reps" => reps = Some(u32::try_from(number("--reps")?).context("--reps")?),
            "--runs" => runs = Some(u32::try_from(number("--runs")?).context("--runs")?),
            "--unpinned" => o.pinned = false,
            "--quick" => o.quick = true,
            "--skip-micro" => o.micro = false,
            "-h" | "--help" => bail!("{USAGE}"),
            other => bail!("bench: unknown argument `{other}`\n{USAGE}"),
        }
    }
    let (c, r, n) = if o.quick {
        (2_000, 1, 1)
    } else {
        (o.calls, o.reps, o.runs)
    };
    o.calls = calls.unwrap_or(c);
    o.reps = reps.unwrap_or(r);
    o.runs = runs.unwrap_or(n);
    Ok(o)
}

pub fn run(args: &[String]) -> Result<()> {
    let o = parse(args)?;
    crate::deps::ensure_all()?;
    util::banner("build release ujail (x86_64)");
    util::run(util::cargo().args(["build", "--release", "-p", "ujail-cli"]))?;
    let target = util::target_dir();
    let out = target.join("bench");
    fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;

    let micro_report = if o.micro {
        Some(micro::run(o.calls, o.reps)?)
    } else {
        None
    };

    let outcome = workloads::run(
        &target.join("release/ujail"),
        workloads::Options {
            runs: o.runs,
            pinned: o.pinned,
            skip_slow: o.quick,
        },
    )?;
    let (chart, step, top) = report::chart(&report::ratios(&outcome));
    let png_path = out.join("ratios.png");
    fs::write(&png_path, chart.to_png()?)
        .with_context(|| format!("writing {}", png_path.display()))?;

    let mut md = report::markdown(&outcome, &machine(), step, top);
    match micro_report {
        Some(m) => {
            md.push_str("## Microbenchmarks\n\n(also in `syscall-cost.txt`)\n\n```\n");
            md.push_str(&m);
            md.push_str("```\n");
        }
        None => md.push_str("Microbenchmarks not run (--skip-micro).\n"),
    }
    let md_path = out.join("results.md");
    fs::write(&md_path, &md).with_context(|| format!("writing {}", md_path.display()))?;
    println!("\n{md}");
    println!(
        "written to {} and {}",
        md_path.display(),
        png_path.display()
    );
    Ok(())
}

/// "MODEL, N CPUs, Linux RELEASE" from /proc/cpuinfo, nproc and uname -r.
fn machine() -> String {
    let model = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let nproc = util::output(&mut std::process::Command::new("nproc"))
        .map(|n| n.trim().to_string())
        .unwrap_or_else(|_| "?".into());
    let kernel = util::output(std::process::Command::new("uname").arg("-r"))
        .map(|k| k.trim().to_string())
        .unwrap_or_else(|_| "?".into());
    format!("{model}, {nproc} CPUs (nproc), Linux {kernel}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options() {
        let d = parse(&[]).unwrap();
        assert_eq!(
            (d.calls, d.reps, d.runs, d.pinned, d.quick, d.micro),
            (20_000, 3, 5, true, false, true)
        );
        let q = parse(&args(&["--quick", "--runs", "2", "--unpinned"])).unwrap();
        assert_eq!(
            (q.calls, q.reps, q.runs, q.pinned, q.quick),
            (2_000, 1, 2, false, true)
        );
        let s = parse(&args(&["--skip-micro", "--calls", "7"])).unwrap();
        assert_eq!((s.calls, s.micro), (7, false));
        assert!(parse(&args(&["--runs", "0"])).is_err());
        assert!(parse(&args(&["--runs"])).is_err());
        assert!(parse(&args(&["--fast"])).is_err());
    }
}
