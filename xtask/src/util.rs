// SPDX-License-Identifier: GPL-3.0-or-later
//! Helpers shared by the xtask modules: where the workspace and its target
//! directory are, running commands with an echo and a clear error, banners.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    let xtask_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask_dir.parent().unwrap_or(xtask_dir).to_path_buf()
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` when set (made absolute),
/// else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                std::env::current_dir()
                    .map(|cwd| cwd.join(&dir))
                    .unwrap_or(dir)
            }
        }
        _ => workspace_root().join("target"),
    }
}

/// A `cargo` command: the cargo that runs us (`$CARGO`), else `cargo`,
/// with the workspace root as working directory.
pub fn cargo() -> Command {
    let prog = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(prog);
    cmd.current_dir(workspace_root());
    cmd
}

/// Whether we run as root (`/proc/self` is owned by the effective uid).
pub fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Quotes `s` for a POSIX shell when it needs it.
fn shell_quote(s: &OsStr) -> String {
    let s = s.to_string_lossy();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The command as a shell line: explicitly set env vars, program, args.
pub fn display(cmd: &Command) -> String {
    let mut line = String::new();
    for (key, val) in cmd.get_envs() {
        if let Some(val) = val {
            let _ = write!(line, "{}={} ", key.to_string_lossy(), shell_quote(val));
        }
    }
    line.push_str(&shell_quote(cmd.get_program()));
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&shell_quote(arg));
    }
    line
}

/// Describes a failed exit status: "exit status N" or "killed by signal N".
fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        (None, None) => status.to_string(),
    }
}

/// Runs `cmd` (echoed as `$ …` on stderr) and fails with
/// "command `…` failed: exit status N" unless it succeeds.
pub fn run(cmd: &mut Command) -> Result<()> {
    let line = display(cmd);
    eprintln!("$ {line}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{line}`"))?;
    if !status.success() {
        bail!("command `{line}` failed: {}", describe(status));
    }
    Ok(())
}

/// Runs `cmd` quietly and returns its stdout as text; fails like [`run`]
/// (with its stderr in the message) unless it succeeds.
pub fn output(cmd: &mut Command) -> Result<String> {
    let line = display(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start `{line}`"))?;
    if !out.status.success() {
        bail!(
            "command `{line}` failed: {}\n{}",
            describe(out.status),
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    String::from_utf8(out.stdout).with_context(|| format!("`{line}` printed non-UTF-8 output"))
}

/// Prints a step banner.
pub fn banner(title: &str) {
    let rule = "=".repeat(72);
    eprintln!("\n{rule}\n== {title}\n{rule}");
}

/// Formats a duration as `1m 23.4s` / `4.5s`.
pub fn fmt_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 60.0 {
        let mins = d.as_secs() / 60;
        let rest = secs - 60.0 * f64::from(u32::try_from(mins).unwrap_or(u32::MAX));
        format!("{mins}m {rest:04.1}s")
    } else {
        format!("{secs:.1}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_what_needs_it() {
        let mut cmd = Command::new("cargo");
        cmd.args(["build", "--target", "i686-unknown-linux-gnu", "a b", "it's"])
            .env("RUSTFLAGS", "-C target-feature=+crt-static");
        assert_eq!(
            display(&cmd),
            "RUSTFLAGS='-C target-feature=+crt-static' cargo build --target \
             i686-unknown-linux-gnu 'a b' 'it'\\''s'"
        );
    }

    #[test]
    fn run_reports_the_exit_status() {
        let err = run(Command::new("sh").args(["-c", "exit 3"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "command `sh -c 'exit 3'` failed: exit status 3"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(fmt_duration(Duration::from_millis(4500)), "4.5s");
        assert_eq!(fmt_duration(Duration::from_millis(83_400)), "1m 23.4s");
    }
}
