// SPDX-License-Identifier: GPL-3.0-or-later
//! Process helpers the VM task needs beyond `crate::util`: stdout captured
//! while stderr stays live (cargo's progress), a PATH lookup, sha256.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util;

/// Runs `cmd` (echoed as `$ …`) and returns its stdout; its stderr goes to
/// ours as it comes. An error names the command.
pub fn output_live(cmd: &mut Command) -> Result<String> {
    let line = util::display(cmd);
    eprintln!("$ {line}");
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start `{line}`"))?;
    if !out.status.success() {
        bail!("command `{line}` failed: {}", out.status);
    }
    String::from_utf8(out.stdout).with_context(|| format!("`{line}` printed non-UTF-8 output"))
}

/// The full path of `program` if it is on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The lower-case hex sha256 of `path` (`sha256sum`).
pub fn sha256(path: &Path) -> Result<String> {
    let out = util::output(Command::new("sha256sum").arg(path))?;
    let sum = out.split_whitespace().next().unwrap_or_default();
    if sum.len() != 64 {
        bail!(
            "sha256sum {}: unexpected output `{}`",
            path.display(),
            out.trim()
        );
    }
    Ok(sum.to_owned())
}
