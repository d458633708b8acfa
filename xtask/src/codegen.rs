// SPDX-License-Identifier: GPL-3.0-or-later
//! `cargo xtask codegen [--check]`: regenerate ujail-regs' syscall tables.
//!
//! Reads Debian's linux-libc-dev headers (`asm/unistd_32.h`, `asm/unistd_64.h`)
//! and writes `crates/ujail-regs/src/table_{i386,x86_64}.rs`. The parsing and
//! rendering live in `ujail_regs::codegen`, shared with the crate's staleness
//! test. `--check` writes nothing and fails if a committed table is stale.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use ujail_regs::codegen::{self, HEADER_DIRS, HEADER_PACKAGE};
use ujail_regs::Abi;

/// Entry point called by `main.rs` with the arguments after `codegen`.
pub fn run(args: &[String]) -> Result<()> {
    let mut check = false;
    for a in args {
        match a.as_str() {
            "--check" => check = true,
            other => bail!("codegen: unknown argument `{other}` (usage: codegen [--check])"),
        }
    }
    let crate_dir = regs_crate_dir();
    let mut stale = Vec::new();
    for abi in [Abi::I386, Abi::X86_64] {
        let header = codegen::find_header(abi).with_context(|| {
            format!(
                "{} not found in {}: install it with `apt-get install {HEADER_PACKAGE}`",
                codegen::header_name(abi),
                HEADER_DIRS.join(", ")
            )
        })?;
        let text = std::fs::read_to_string(&header)
            .with_context(|| format!("reading {}", header.display()))?;
        let out = codegen::generate(abi, &text)
            .with_context(|| format!("parsing {}", header.display()))?;
        let dest = crate_dir.join(codegen::table_file(abi));
        let current = std::fs::read_to_string(&dest).unwrap_or_default();
        if current == out {
            println!("codegen: {} is up to date", dest.display());
        } else if check {
            stale.push(dest.display().to_string());
        } else {
            std::fs::write(&dest, &out).with_context(|| format!("writing {}", dest.display()))?;
            println!(
                "codegen: wrote {} from {}",
                dest.display(),
                header.display()
            );
        }
    }
    if !stale.is_empty() {
        bail!(
            "stale syscall tables (run `cargo xtask codegen`): {}",
            stale.join(", ")
        );
    }
    Ok(())
}

/// `crates/ujail-regs` in this checkout (xtask lives in `<root>/xtask`).
fn regs_crate_dir() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask
        .parent()
        .unwrap_or(xtask)
        .join("crates")
        .join("ujail-regs")
}
