// SPDX-License-Identifier: GPL-3.0-or-later
//! `cargo xtask build-guests`: builds the `ujail-guest` test program for
//! x86_64 and i686, dynamic and static, copies the four binaries to
//! `<target>/guests/ujail-guest-{x86_64,i686}-{dyn,static}` and checks
//! each one's ELF header (class, machine, interpreter or not).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::deps::I686;
use crate::util;

const X86_64: &str = "x86_64-unknown-linux-gnu";

/// One of the four guest flavours.
#[derive(Debug, Clone, Copy)]
struct Flavour {
    /// Rust target triple.
    triple: &'static str,
    /// Name part: `x86_64` or `i686`.
    arch: &'static str,
    /// `crt-static` build.
    is_static: bool,
}

const FLAVOURS: [Flavour; 4] = [
    Flavour {
        triple: X86_64,
        arch: "x86_64",
        is_static: false,
    },
    Flavour {
        triple: X86_64,
        arch: "x86_64",
        is_static: true,
    },
    Flavour {
        triple: I686,
        arch: "i686",
        is_static: false,
    },
    Flavour {
        triple: I686,
        arch: "i686",
        is_static: true,
    },
];

impl Flavour {
    fn file_name(self) -> String {
        let kind = if self.is_static { "static" } else { "dyn" };
        format!("ujail-guest-{}-{kind}", self.arch)
    }
}

/// Builds the four guests; returns the directory holding them
/// (`<target>/guests`, the value for `UJAIL_GUESTS`).
pub fn build_all() -> Result<PathBuf> {
    let target = util::target_dir();
    // The static builds get their own target dir: a RUSTFLAGS change would
    // otherwise invalidate (and rebuild) everything else in `target`.
    let static_target = target.join("guest-static");

    for is_static in [false, true] {
        let mut cmd = util::cargo();
        cmd.args(["build", "--release", "--package", "ujail-guest"])
            .args(["--target", X86_64, "--target", I686]);
        if is_static {
            let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
            if !flags.is_empty() {
                flags.push(' ');
            }
            flags.push_str("-C target-feature=+crt-static");
            cmd.env("RUSTFLAGS", flags)
                .env("CARGO_TARGET_DIR", &static_target);
        } else {
            cmd.env("CARGO_TARGET_DIR", &target);
        }
        util::run(&mut cmd)?;
    }

    let out_dir = target.join("guests");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    for f in FLAVOURS {
        let built_in = if f.is_static { &static_target } else { &target };
        let src = built_in.join(f.triple).join("release/ujail-guest");
        let dst = out_dir.join(f.file_name());
        install(&src, &dst)?;
        check_elf(&dst, f)?;
    }
    eprintln!("xtask: guests in {}", out_dir.display());
    Ok(out_dir)
}

/// Copies `src` to `dst` through a temporary file and a rename, so a guest
/// that is running (a test in progress) is replaced, not overwritten
/// (which would fail with ETXTBSY).
fn install(src: &Path, dst: &Path) -> Result<()> {
    let tmp = dst.with_extension("tmp");
    std::fs::copy(src, &tmp)
        .with_context(|| format!("copying {} to {}", src.display(), tmp.display()))?;
    std::fs::rename(&tmp, dst)
        .with_context(|| format!("renaming {} to {}", tmp.display(), dst.display()))
}

/// What the ELF header and program headers say about a binary.
#[derive(Debug, PartialEq, Eq)]
struct ElfInfo {
    /// 32 or 64.
    bits: u8,
    /// `e_machine`: 3 = EM_386, 62 = EM_X86_64.
    machine: u16,
    /// Has a `PT_INTERP` (a dynamic loader): dynamically linked.
    has_interp: bool,
}

const EM_386: u16 = 3;
const EM_X86_64: u16 = 62;
const PT_INTERP: u32 = 3;

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(off..off + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(off..off + 8)?.try_into().ok()?))
}

/// Parses the little-endian ELF header and program headers of `b`.
fn parse_elf(b: &[u8]) -> Option<ElfInfo> {
    if b.get(..4)? != b"\x7fELF" || *b.get(5)? != 1 {
        return None;
    }
    let (bits, phoff, phentsize, phnum) = match *b.get(4)? {
        1 => (
            32,
            u64::from(u32_at(b, 28)?),
            u16_at(b, 42)?,
            u16_at(b, 44)?,
        ),
        2 => (64, u64_at(b, 32)?, u16_at(b, 54)?, u16_at(b, 56)?),
        _ => return None,
    };
    let machine = u16_at(b, 18)?;
    let phoff = usize::try_from(phoff).ok()?;
    let has_interp = (0..usize::from(phnum))
        .map(|i| u32_at(b, phoff + i * usize::from(phentsize)))
        .collect::<Option<Vec<_>>>()?
        .contains(&PT_INTERP);
    Some(ElfInfo {
        bits,
        machine,
        has_interp,
    })
}

/// Fails unless `path` is the ELF class, machine and linkage `f` asks for.
fn check_elf(path: &Path, f: Flavour) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let Some(info) = parse_elf(&bytes) else {
        bail!("{}: not a little-endian ELF file", path.display());
    };
    let want = ElfInfo {
        bits: if f.arch == "i686" { 32 } else { 64 },
        machine: if f.arch == "i686" { EM_386 } else { EM_X86_64 },
        has_interp: !f.is_static,
    };
    if info != want {
        bail!(
            "{}: wrong build: found {info:?}, expected {want:?}",
            path.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_running_xtask() {
        let exe = std::env::current_exe().unwrap();
        let info = parse_elf(&std::fs::read(exe).unwrap()).unwrap();
        assert_eq!(
            info.bits,
            if cfg!(target_pointer_width = "64") {
                64
            } else {
                32
            }
        );
        assert!(info.has_interp, "xtask is dynamically linked");
    }

    #[test]
    fn rejects_non_elf() {
        assert_eq!(parse_elf(b"#!/bin/sh\n"), None);
        assert_eq!(parse_elf(b"\x7fELF"), None);
    }
}
