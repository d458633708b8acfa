// SPDX-License-Identifier: GPL-3.0-or-later
//! Gets the pinned Debian packages (`apt-get download`), checks their sha256
//! against `vm/pins.txt`, caches them under `target/vm-cache/debs` (a second
//! run downloads nothing) and unpacks them (`dpkg-deb -x`).

use super::pins::Pin;
use super::sh;
use crate::util;
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Returns the path of the verified `.deb` for `pin` in `cache`, downloading
/// it only when it is not there yet.
pub fn deb(pin: &Pin, cache: &Path) -> Result<PathBuf> {
    let debs = cache.join("debs");
    fs::create_dir_all(&debs).with_context(|| format!("creating {}", debs.display()))?;
    let dest = debs.join(pin.deb_file_name());
    if dest.exists() {
        let sum = sh::sha256(&dest)?;
        if sum == pin.sha256 {
            println!("vm: cached {}", dest.display());
            return Ok(dest);
        }
        eprintln!(
            "vm: {} has sha256 {sum}, pinned {}; downloading it again",
            dest.display(),
            pin.sha256
        );
        fs::remove_file(&dest).with_context(|| format!("removing {}", dest.display()))?;
    }
    download(pin, &debs, &dest)?;
    Ok(dest)
}

fn download(pin: &Pin, debs: &Path, dest: &Path) -> Result<()> {
    let spec = format!("{}={}", pin.apt_name(), pin.version);
    if sh::which("apt-get").is_none() {
        bail!(
            "apt-get not found: cannot download {spec}; put {} (sha256 {}) into {} by hand",
            pin.deb_file_name(),
            pin.sha256,
            debs.display()
        );
    }
    ensure_available(pin)?;
    // A fresh directory per download so that the one .deb in it is ours.
    let tmp = debs.join(".download");
    if tmp.exists() {
        fs::remove_dir_all(&tmp).with_context(|| format!("removing {}", tmp.display()))?;
    }
    fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    println!("vm: apt-get download {spec}");
    let mut cmd = Command::new("apt-get");
    if util::is_root() {
        // apt would otherwise warn that the `_apt` user cannot write here.
        cmd.args(["-o", "APT::Sandbox::User=root"]);
    }
    cmd.args(["-q", "download", &spec]).current_dir(&tmp);
    util::run(&mut cmd).with_context(|| format!("downloading {spec}"))?;
    let got = tmp.join(pin.deb_file_name());
    if !got.exists() {
        bail!("apt-get download {spec} did not produce {}", got.display());
    }
    let sum = sh::sha256(&got)?;
    if sum != pin.sha256 {
        bail!(
            "{}: sha256 {sum} does not match the pin {} in vm/pins.txt",
            pin.deb_file_name(),
            pin.sha256
        );
    }
    fs::rename(&got, dest).with_context(|| format!("moving the .deb to {}", dest.display()))?;
    fs::remove_dir_all(&tmp).with_context(|| format!("removing {}", tmp.display()))?;
    Ok(())
}

/// Makes sure apt knows the pinned version: enables the package's foreign
/// architecture and refreshes the package lists when needed (as root), and
/// fails with one line naming the pin otherwise.
fn ensure_available(pin: &Pin) -> Result<()> {
    if versions(pin)?.contains(&pin.version) {
        return Ok(());
    }
    if util::is_root() {
        let native = util::output(Command::new("dpkg").arg("--print-architecture"))?;
        let foreign = util::output(Command::new("dpkg").arg("--print-foreign-architectures"))?;
        if native.trim() != pin.arch && !foreign.split_whitespace().any(|a| a == pin.arch) {
            println!("vm: dpkg --add-architecture {}", pin.arch);
            util::run(Command::new("dpkg").args(["--add-architecture", &pin.arch]))?;
        }
        println!("vm: apt-get update");
        // Part of a mirror may be mid-sync (an index of another suite fails to
        // download); that is not our problem as long as our package shows up.
        if let Err(e) = util::run(Command::new("apt-get").args(["-q", "update"])) {
            eprintln!("vm: warning: {e:#} (continuing)");
        }
    }
    let have = versions(pin)?;
    if have.contains(&pin.version) {
        return Ok(());
    }
    let have = if have.is_empty() {
        "none".to_owned()
    } else {
        have.join(", ")
    };
    let hint = if util::is_root() {
        ""
    } else {
        " (not root: run `dpkg --add-architecture i386 && apt-get update` as root)"
    };
    bail!(
        "pinned {} {} is not available from apt (apt has: {have}){hint}; update vm/pins.txt as vm/README.md says",
        pin.apt_name(),
        pin.version
    )
}

/// The versions of `pin`'s package apt can download (`apt-cache madison`).
fn versions(pin: &Pin) -> Result<Vec<String>> {
    let out = util::output(Command::new("apt-cache").args(["madison", &pin.apt_name()]))?;
    // `busybox-static | 1:1.35.0-4+deb12u1+b1 | http://… bookworm/main i386 Packages`
    Ok(out
        .lines()
        .filter_map(|l| l.split('|').nth(1))
        .map(|v| v.trim().to_owned())
        .collect())
}

/// Unpacks `deb` into `cache/root/<deb file stem>` once and returns that
/// directory.
pub fn unpack(deb: &Path, cache: &Path) -> Result<PathBuf> {
    let stem = deb
        .file_stem()
        .context("a .deb path without a file name")?
        .to_string_lossy()
        .into_owned();
    let dir = cache.join("root").join(stem);
    let stamp = dir.join(".unpacked");
    if stamp.exists() {
        return Ok(dir);
    }
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    util::run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&dir))?;
    fs::write(&stamp, b"").with_context(|| format!("writing {}", stamp.display()))?;
    Ok(dir)
}

/// The kernel image in an unpacked linux-image package (`boot/vmlinuz-*`)
/// and its config (`boot/config-*`).
pub fn kernel_files(root: &Path) -> Result<(PathBuf, PathBuf)> {
    let boot = root.join("boot");
    let mut vmlinuz = None;
    let mut config = None;
    for entry in fs::read_dir(&boot).with_context(|| format!("reading {}", boot.display()))? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with("vmlinuz-") {
            vmlinuz = Some(path.clone());
        } else if name.starts_with("config-") {
            config = Some(path.clone());
        }
    }
    Ok((
        vmlinuz.with_context(|| format!("no vmlinuz-* in {}", boot.display()))?,
        config.with_context(|| format!("no config-* in {}", boot.display()))?,
    ))
}

/// Kernel options the image relies on; all must be built in (`=y`) because
/// the initramfs carries no modules.
const NEEDED_CONFIG: &[&str] = &[
    "CONFIG_BLK_DEV_INITRD",
    "CONFIG_RD_GZIP",
    "CONFIG_SERIAL_8250",
    "CONFIG_SERIAL_8250_CONSOLE",
    "CONFIG_PROC_FS",
    "CONFIG_SYSFS",
    "CONFIG_DEVTMPFS",
    "CONFIG_TMPFS",
    "CONFIG_SHMEM",
    "CONFIG_UNIX98_PTYS",
    "CONFIG_FUTEX",
    "CONFIG_X86_32",
];

/// Fails when the pinned kernel lacks a built-in option the image needs.
pub fn check_kernel_config(config: &Path) -> Result<()> {
    let text =
        fs::read_to_string(config).with_context(|| format!("reading {}", config.display()))?;
    let missing: Vec<&str> = NEEDED_CONFIG
        .iter()
        .copied()
        .filter(|opt| !text.lines().any(|l| l == format!("{opt}=y")))
        .collect();
    if !missing.is_empty() {
        bail!(
            "the pinned kernel ({}) lacks built-in {}: the initramfs carries no modules",
            config.display(),
            missing.join(", ")
        );
    }
    Ok(())
}
