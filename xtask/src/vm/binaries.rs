// SPDX-License-Identifier: GPL-3.0-or-later
//! The i686 programs the VM runs: `ujail` and the integration-test
//! binaries, built statically in their own target dir (the guests come from
//! `cargo xtask build-guests`); and
//! the i386 loader and libraries a dynamic guest needs, taken from the host's
//! multilib directories.

use super::sh;
use crate::util;
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const TARGET: &str = "i686-unknown-linux-gnu";

/// Host directories holding i386 shared libraries, in search order.
const I386_LIB_DIRS: &[&str] = &[
    "/lib32",
    "/usr/lib32",
    "/lib/i386-linux-gnu",
    "/usr/lib/i386-linux-gnu",
];

/// The static i686 programs of one build.
#[derive(Debug)]
pub struct Built {
    pub ujail: PathBuf,
    /// Integration-test binaries: (test target name, executable).
    pub tests: Vec<(String, PathBuf)>,
}

/// Builds `ujail` and the integration tests of `ujail-cli` for i686,
/// statically linked, in `target_dir`.
pub fn build_static(target_dir: &Path) -> Result<Built> {
    let ujail = cargo_json(target_dir, &["build", "-p", "ujail-cli", "--bin", "ujail"])?
        .into_iter()
        .find(|a| a.kind == "bin" && a.name == "ujail")
        .map(|a| a.executable)
        .with_context(|| format!("cargo built no `ujail` binary for {TARGET}"))?;
    let tests: Vec<(String, PathBuf)> = cargo_json(
        target_dir,
        &["test", "--no-run", "-p", "ujail-cli", "--tests"],
    )?
    .into_iter()
    .filter(|a| a.kind == "test")
    .map(|a| (a.name, a.executable))
    .collect();
    if tests.is_empty() {
        bail!("`cargo test --no-run -p ujail-cli` produced no integration-test binary");
    }
    Ok(Built { ujail, tests })
}

/// One executable cargo reported.
#[derive(Debug)]
struct Artifact {
    /// The first `target.kind` (`bin`, `test`, `lib`, …).
    kind: String,
    name: String,
    executable: PathBuf,
}

/// Runs a cargo command for the i686 target with static linking and returns
/// the executables it reports (`--message-format=json-render-diagnostics`:
/// compiler messages still reach the terminal).
fn cargo_json(target_dir: &Path, args: &[&str]) -> Result<Vec<Artifact>> {
    let mut rustflags = std::env::var("RUSTFLAGS").unwrap_or_default();
    if !rustflags.is_empty() {
        rustflags.push(' ');
    }
    // Static so the VM needs no i386 libc for our own programs; debuginfo
    // stripped to keep the initramfs (unpacked into the VM's RAM) small.
    rustflags.push_str("-C target-feature=+crt-static -C strip=debuginfo");
    let mut cmd = util::cargo();
    cmd.args(args)
        .args([
            "--target",
            TARGET,
            "--message-format=json-render-diagnostics",
        ])
        .arg("--target-dir")
        .arg(target_dir)
        .env("RUSTFLAGS", rustflags)
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    let out = sh::output_live(&mut cmd)?;
    Ok(out.lines().filter_map(parse_artifact).collect())
}

/// Picks the executable artifacts out of cargo's JSON messages, without a
/// JSON library: the fields needed are plain strings in a fixed shape.
fn parse_artifact(line: &str) -> Option<Artifact> {
    if !line.contains(r#""reason":"compiler-artifact""#) {
        return None;
    }
    let target = &line[line.find(r#""target":{"#)?..];
    let kind_at = target.find(r#""kind":["#)? + r#""kind":["#.len();
    let kind = json_string(&target[kind_at..])?;
    let name = json_field(target, "name")?;
    let executable = json_field(line, "executable")?;
    Some(Artifact {
        kind,
        name,
        executable: PathBuf::from(executable),
    })
}

/// The string value of the first `"key":"…"` in `s`.
fn json_field(s: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\":");
    let at = s.find(&pat)? + pat.len();
    json_string(&s[at..])
}

/// Decodes the JSON string literal at the start of `s`.
fn json_string(s: &str) -> Option<String> {
    let mut chars = s.strip_prefix('"')?.chars();
    let mut out = String::new();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                c => out.push(c),
            },
            c => out.push(c),
        }
    }
}

/// The program interpreter and the shared libraries (recursively) an i386
/// dynamic ELF needs, as host paths: where the VM must have them too.
pub fn dynamic_deps(elf: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let headers = readelf(&["-l"], elf)?;
    let interp = headers
        .lines()
        .find_map(|l| l.split("program interpreter: ").nth(1))
        .map(|rest| rest.trim_end_matches(']').trim().to_owned())
        .with_context(|| format!("{} has no program interpreter", elf.display()))?;
    out.push(PathBuf::from(interp));
    let mut seen = BTreeSet::new();
    let mut todo = needed(elf)?;
    while let Some(soname) = todo.pop() {
        if !seen.insert(soname.clone()) {
            continue;
        }
        let path = I386_LIB_DIRS
            .iter()
            .map(|d| Path::new(d).join(&soname))
            .find(|p| p.exists())
            .with_context(|| {
                format!(
                    "{} needs {soname}, found in none of {} (install gcc-multilib)",
                    elf.display(),
                    I386_LIB_DIRS.join(" ")
                )
            })?;
        todo.extend(needed(&path)?);
        out.push(path);
    }
    Ok(out)
}

fn needed(elf: &Path) -> Result<Vec<String>> {
    // ` 0x00000001 (NEEDED)  Shared library: [libc.so.6]`
    Ok(readelf(&["-d"], elf)?
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split('[').nth(1))
        .map(|s| s.trim_end_matches(']').to_owned())
        .collect())
}

fn readelf(args: &[&str], elf: &Path) -> Result<String> {
    util::output(Command::new("readelf").args(args).arg("-W").arg(elf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_test_artifacts() {
        let line = r#"{"reason":"compiler-artifact","package_id":"x","manifest_path":"/m","target":{"kind":["test"],"crate_types":["bin"],"name":"guests_native","src_path":"/s","edition":"2021","doc":false,"doctest":false,"test":true},"profile":{"test":true},"features":[],"filenames":["/t/guests_native-1"],"executable":"/t/guests_native-1","fresh":false}"#;
        let a = parse_artifact(line).unwrap();
        assert_eq!(
            (a.kind.as_str(), a.name.as_str()),
            ("test", "guests_native")
        );
        assert_eq!(a.executable, PathBuf::from("/t/guests_native-1"));
        let lib = line.replace(
            r#""executable":"/t/guests_native-1""#,
            r#""executable":null"#,
        );
        assert!(parse_artifact(&lib).is_none());
        assert!(parse_artifact(r#"{"reason":"build-finished","success":true}"#).is_none());
    }

    #[test]
    fn decodes_escapes() {
        assert_eq!(json_string(r#""a\"b\\c\u0041""#).unwrap(), "a\"b\\cA");
    }
}
