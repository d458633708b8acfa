// SPDX-License-Identifier: GPL-3.0-or-later
//! `cargo xtask deps`: makes sure what the build and the tests need is
//! installed — the i686 Rust target, rustfmt and clippy, and the Debian
//! packages — installing only what is missing (apt-get when root; otherwise
//! it prints the exact command and fails). Quick when all is present.

use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::util;

/// The Rust target of the i686 builds.
pub const I686: &str = "i686-unknown-linux-gnu";

/// Debian packages and why each is needed.
const PACKAGES: &[(&str, &str)] = &[
    (
        "gcc-multilib",
        "links the i686 Rust binaries (32-bit glibc, dynamic and static)",
    ),
    ("gcc", "the linker driver; gcc compiling a file under ujail"),
    (
        "busybox-static:i386",
        "the i386 busybox test (/bin/busybox)",
    ),
    (
        "linux-libc-dev",
        "syscall tables: codegen and its staleness test",
    ),
    ("python3", "real-program test: python3 under ujail"),
    ("coreutils", "real-program tests: coreutils under ujail"),
    ("qemu-system-x86", "test-vm: qemu-system-i386"),
    ("cpio", "test-vm: builds the initramfs"),
    ("binutils", "test-vm: readelf checks the VM's binaries"),
    ("strace", "bench: the workloads under strace, to compare"),
    ("proot", "bench: the workloads under proot, to compare"),
];

/// Ensures everything is installed; see the module doc.
pub fn ensure_all() -> Result<()> {
    ensure_rust()?;
    ensure_packages()
}

/// `rustup target add` the i686 target and `rustup component add` rustfmt
/// and clippy when they are missing.
fn ensure_rust() -> Result<()> {
    let installed =
        match util::output(Command::new("rustup").args(["target", "list", "--installed"])) {
            Ok(list) => list,
            Err(e) => {
                // No rustup: accept a toolchain that already has the i686 std.
                let sysroot = util::output(Command::new("rustc").args(["--print", "sysroot"]))?;
                let lib = std::path::Path::new(sysroot.trim())
                    .join("lib/rustlib")
                    .join(I686);
                if lib.is_dir() {
                    return Ok(());
                }
                return Err(e.context(format!(
                    "rustup is needed to install the {I686} target (or install its std by hand)"
                )));
            }
        };
    if installed.lines().any(|t| t.trim() == I686) {
        eprintln!("xtask: deps: Rust target {I686} present");
    } else {
        util::run(Command::new("rustup").args(["target", "add", I686]))?;
    }
    let components =
        util::output(Command::new("rustup").args(["component", "list", "--installed"]))?;
    for comp in ["rustfmt", "clippy"] {
        if !components.lines().any(|c| c.starts_with(comp)) {
            util::run(Command::new("rustup").args(["component", "add", comp]))?;
        }
    }
    Ok(())
}

/// Whether `dpkg-query` reports `pkg` as installed.
fn dpkg_installed(pkg: &str) -> Result<bool> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .output()
        .context("could not run dpkg-query (ujail's test set-up expects Debian or a derivative)")?;
    Ok(out.status.success()
        && String::from_utf8_lossy(&out.stdout).trim() == "install ok installed")
}

/// Installs the missing Debian packages.
fn ensure_packages() -> Result<()> {
    let mut missing = Vec::new();
    for &(pkg, why) in PACKAGES {
        if !dpkg_installed(pkg)? {
            eprintln!("xtask: missing Debian package {pkg} ({why})");
            missing.push(pkg);
        }
    }
    if missing.is_empty() {
        eprintln!(
            "xtask: deps: all {} Debian packages present ({})",
            PACKAGES.len(),
            PACKAGES
                .iter()
                .map(|(p, _)| *p)
                .collect::<Vec<_>>()
                .join(" ")
        );
        return Ok(());
    }
    let need_i386 = missing.iter().any(|p| p.ends_with(":i386"))
        && !util::output(Command::new("dpkg").arg("--print-foreign-architectures"))?
            .lines()
            .any(|a| a.trim() == "i386");

    if !util::is_root() {
        let mut steps = Vec::new();
        if need_i386 {
            steps.push("sudo dpkg --add-architecture i386".to_string());
        }
        steps.push("sudo apt-get update".to_string());
        steps.push(format!(
            "sudo apt-get install -y --no-install-recommends {}",
            missing.join(" ")
        ));
        bail!(
            "missing Debian packages; install them with:\n  {}",
            steps.join(" && ")
        );
    }

    if need_i386 {
        util::run(Command::new("dpkg").args(["--add-architecture", "i386"]))?;
    }
    // A mirror in the middle of a sync (e.g. one architecture's index of a
    // security suite) makes `apt-get update` fail while the rest of the
    // lists are fine: warn, go on, and let the install decide.
    if let Err(e) = util::run(apt_get().arg("update")) {
        eprintln!("xtask: warning: {e:#}; trying the install anyway");
    }
    util::run(
        apt_get()
            .args(["install", "-y", "--no-install-recommends"])
            .args(&missing),
    )
    .context("installing the missing Debian packages failed")?;
    Ok(())
}

/// `apt-get` without interactive prompts.
fn apt_get() -> Command {
    let mut cmd = Command::new("apt-get");
    cmd.env("DEBIAN_FRONTEND", "noninteractive");
    cmd
}
