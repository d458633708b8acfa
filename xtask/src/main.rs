// SPDX-License-Identifier: GPL-3.0-or-later
//! ujail's task runner: `cargo xtask <task>`.
//!
//! One module per task; each shells out to cargo, apt-get, qemu and friends
//! and says which command failed.

mod bench;
mod codegen;
mod deps;
mod guests;
mod test;
mod util;
mod vm;

use anyhow::{bail, Result};

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  test           host tests (x86_64 and i686 builds) and then test-vm
  test-host      host tests only
  test-vm        the i686 suite inside a QEMU i386 VM (Debian 686 kernel)
  build-guests   build the guest programs for x86_64 and i686, static and dynamic
  codegen        regenerate the syscall tables from the kernel headers
  bench          benchmarks: per-call cost per engine, real workloads vs
                 native, strace and proot (target/bench/results.md, ratios.png)
  deps           install what the build and the tests need (rustup targets, apt)

test / test-host options:
  --skip-lint    skip rustfmt, clippy and xtask's own tests
  -- ARGS...     passed to the test binaries (e.g. a test name filter)
";

fn main() {
    if let Err(e) = run() {
        eprintln!("xtask: error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(task) = args.first() else {
        eprint!("{USAGE}");
        bail!("no task given");
    };
    let rest = &args[1..];
    match task.as_str() {
        "test" => test::all(rest),
        "test-host" => test::host(rest),
        "test-vm" => vm::test_vm(rest),
        "build-guests" => guests::build_all().map(|_| ()),
        "codegen" => codegen::run(rest),
        "bench" => bench::run(rest),
        "deps" => deps::ensure_all(),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => {
            eprint!("{USAGE}");
            bail!("unknown task `{other}`")
        }
    }
}
