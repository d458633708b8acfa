// SPDX-License-Identifier: GPL-3.0-or-later
//! `vm/pins.txt`: the Debian packages the VM image is made of, pinned by
//! version and sha256 (a whitespace table, parsed by hand).

use anyhow::{bail, Context, Result};
use std::path::Path;

/// What a pinned package is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The kernel image (`boot/vmlinuz-*`).
    Kernel,
    /// The static busybox (`bin/busybox`).
    Busybox,
}

/// One pinned Debian package.
#[derive(Debug, Clone)]
pub struct Pin {
    pub role: Role,
    /// Package name without the architecture, e.g. `busybox-static`.
    pub name: String,
    /// Debian architecture, e.g. `i386`.
    pub arch: String,
    /// Exact Debian version, epoch included.
    pub version: String,
    /// Lower-case hex sha256 of the `.deb`.
    pub sha256: String,
}

impl Pin {
    /// `name:arch`, as apt spells it.
    pub fn apt_name(&self) -> String {
        format!("{}:{}", self.name, self.arch)
    }

    /// The file name `apt-get download` gives the `.deb` (`:` in the
    /// version is written `%3a`).
    pub fn deb_file_name(&self) -> String {
        format!(
            "{}_{}_{}.deb",
            self.name,
            self.version.replace(':', "%3a"),
            self.arch
        )
    }
}

/// The pins of the image: exactly one kernel and one busybox.
#[derive(Debug, Clone)]
pub struct Pins {
    pub kernel: Pin,
    pub busybox: Pin,
}

/// Reads and checks `path`.
pub fn load(path: &Path) -> Result<Pins> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text).with_context(|| format!("in {}", path.display()))
}

fn parse(text: &str) -> Result<Pins> {
    let mut kernel = None;
    let mut busybox = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let pin = parse_line(line).with_context(|| format!("line {}", i + 1))?;
        let slot = match pin.role {
            Role::Kernel => &mut kernel,
            Role::Busybox => &mut busybox,
        };
        if slot.is_some() {
            bail!("line {}: {:?} pinned twice", i + 1, pin.role);
        }
        *slot = Some(pin);
    }
    Ok(Pins {
        kernel: kernel.context("no `kernel` line")?,
        busybox: busybox.context("no `busybox` line")?,
    })
}

fn parse_line(line: &str) -> Result<Pin> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [role, package, version, sha256] = fields[..] else {
        bail!("expected `ROLE PACKAGE:ARCH VERSION SHA256`, got `{line}`");
    };
    let role = match role {
        "kernel" => Role::Kernel,
        "busybox" => Role::Busybox,
        other => bail!("unknown role `{other}` (kernel or busybox)"),
    };
    let Some((name, arch)) = package.split_once(':') else {
        bail!("package `{package}` has no `:ARCH`");
    };
    if name.is_empty() || arch.is_empty() {
        bail!("bad package `{package}`");
    }
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("`{sha256}` is not a sha256 (64 hex digits)");
    }
    Ok(Pin {
        role,
        name: name.to_owned(),
        arch: arch.to_owned(),
        version: version.to_owned(),
        sha256: sha256.to_ascii_lowercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "725ef9e6fbac4ab79b353165b05005e8c140d6e42177ebbc202ff1e13ded8b7c";

    #[test]
    fn parses_the_table() {
        let text = format!(
            "# comment\n\nkernel linux-image-6.1.0-50-686:i386 6.1.176-1 {SHA}\n\
             busybox  busybox-static:i386  1:1.35.0-4+deb12u1+b1  {SHA}\n"
        );
        let pins = parse(&text).unwrap();
        assert_eq!(pins.kernel.apt_name(), "linux-image-6.1.0-50-686:i386");
        assert_eq!(
            pins.busybox.deb_file_name(),
            "busybox-static_1%3a1.35.0-4+deb12u1+b1_i386.deb"
        );
    }

    #[test]
    fn rejects_bad_lines() {
        assert!(parse(&format!(
            "kernel linux-image-686 1 {SHA}\nbusybox b:i386 1 {SHA}"
        ))
        .is_err());
        assert!(parse(&format!("kernel k:i386 1 {SHA}")).is_err());
        assert!(parse("kernel k:i386 1 abc\nbusybox b:i386 1 abc").is_err());
        let twice = format!("kernel k:i386 1 {SHA}\nkernel k:i386 1 {SHA}\nbusybox b:i386 1 {SHA}");
        assert!(parse(&twice).is_err());
    }
}
