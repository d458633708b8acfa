// SPDX-License-Identifier: GPL-3.0-or-later
//! `cargo xtask test` and `cargo xtask test-host`.
//!
//! test-host: dependencies, lints (rustfmt, clippy for both builds, xtask's
//! own tests), the guest programs, then the workspace's tests for the x86_64
//! build and for the i686 build, each once per engine (`UJAIL_ENGINE`:
//! seccomp, sysemu, patch; `UJAIL_GUESTS` points at the guests). `test` adds
//! `test-vm`, which does the same in the VM. Each step has a banner; the timings are printed at the end,
//! also when a step fails.
//!
//! Options (test-host and test): `--skip-lint` skips the lint step; what
//! follows `--` goes to the test binaries (e.g. a test name filter).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::deps::I686;
use crate::{deps, guests, util};

/// Options of test-host.
#[derive(Debug, Default)]
struct Options {
    skip_lint: bool,
    test_args: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut opts = Options::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--skip-lint" => opts.skip_lint = true,
            "--" => {
                opts.test_args = it.cloned().collect();
                break;
            }
            other => {
                bail!("test-host: unknown option `{other}` (known: --skip-lint, -- TEST-ARGS)")
            }
        }
    }
    Ok(opts)
}

/// Runs named steps, timing each, and prints a summary at the end.
#[derive(Debug)]
struct Steps {
    start: Instant,
    done: Vec<(String, Duration, bool)>,
}

impl Steps {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            done: Vec::new(),
        }
    }

    fn step(&mut self, name: &str, f: impl FnOnce() -> Result<()>) -> Result<()> {
        util::banner(name);
        let t = Instant::now();
        let res = f();
        self.done.push((name.to_string(), t.elapsed(), res.is_ok()));
        res
    }

    fn summary(&self, what: &str) {
        util::banner(&format!("{what}: summary"));
        for (name, took, ok) in &self.done {
            let mark = if *ok { "ok    " } else { "FAILED" };
            eprintln!("  {mark} {:>9}  {name}", util::fmt_duration(*took));
        }
        eprintln!(
            "  total wall time: {}",
            util::fmt_duration(self.start.elapsed())
        );
    }
}

/// `cargo xtask test-host`.
pub fn host(args: &[String]) -> Result<()> {
    let opts = parse(args)?;
    let mut steps = Steps::new();
    let res = host_steps(&opts, &mut steps);
    steps.summary("test-host");
    res
}

fn host_steps(opts: &Options, steps: &mut Steps) -> Result<()> {
    steps.step("deps: Rust targets and Debian packages", deps::ensure_all)?;
    if !opts.skip_lint {
        steps.step("lint: rustfmt", || {
            util::run(util::cargo().args(["fmt", "--all", "--", "--check"]))
        })?;
        steps.step("lint: clippy", || {
            util::run(util::cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))
        })?;
        // The i686 build has code of its own (`cfg(target_arch = "x86")`:
        // the 32-bit tracer's register layout, the guest's asm): lint it too.
        steps.step(&format!("lint: clippy ({I686})"), || {
            util::run(util::cargo().args([
                "clippy",
                "--workspace",
                "--exclude",
                "xtask",
                "--all-targets",
                "--target",
                I686,
                "--",
                "-D",
                "warnings",
            ]))
        })?;
        steps.step("xtask's own tests", || {
            util::run(util::cargo().args(["test", "--package", "xtask", "--quiet"]))
        })?;
    }
    let mut guests_dir = None;
    steps.step("build guests (x86_64, i686; dynamic, static)", || {
        guests_dir = Some(guests::build_all()?);
        Ok(())
    })?;
    let Some(guests_dir) = guests_dir else {
        bail!("guest build gave no directory");
    };
    // The whole suite once per engine: UJAIL_ENGINE is ujail's default.
    for engine in ENGINES {
        steps.step(&format!("tests: x86_64 build, {engine} engine"), || {
            cargo_test(None, engine, &guests_dir, &opts.test_args)
        })?;
        steps.step(
            &format!("tests: i686 build ({I686}), {engine} engine"),
            || cargo_test(Some(I686), engine, &guests_dir, &opts.test_args),
        )?;
    }
    Ok(())
}

/// ujail's engines, each of which runs the whole suite (the VM's
/// `vm/run-tests` runs the same list).
pub const ENGINES: [&str; 3] = ["seccomp", "sysemu", "patch"];

/// `cargo test` of the workspace (without xtask and the guest crate) for
/// the host or the given target.
fn cargo_test(
    target: Option<&str>,
    engine: &str,
    guests_dir: &Path,
    test_args: &[String],
) -> Result<()> {
    let mut cmd = util::cargo();
    // --no-fail-fast: one run reports every failing test binary.
    cmd.args([
        "test",
        "--no-fail-fast",
        "--workspace",
        "--exclude",
        "xtask",
        "--exclude",
        "ujail-guest",
    ]);
    if let Some(t) = target {
        cmd.args(["--target", t]);
    }
    cmd.env("UJAIL_GUESTS", guests_dir);
    cmd.env("UJAIL_ENGINE", engine);
    if !test_args.is_empty() {
        cmd.arg("--").args(test_args);
    }
    util::run(&mut cmd)
}

/// `cargo xtask test`: test-host, then test-vm.
pub fn all(args: &[String]) -> Result<()> {
    let start = Instant::now();
    host(args)?;
    util::banner("test-vm");
    let res = crate::vm::test_vm(args);
    eprintln!(
        "\nxtask test: {} (total wall time {})",
        if res.is_ok() {
            "all passed"
        } else {
            "FAILED in test-vm"
        },
        util::fmt_duration(start.elapsed())
    );
    res
}
