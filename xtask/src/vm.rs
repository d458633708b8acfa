// SPDX-License-Identifier: GPL-3.0-or-later
//! `cargo xtask test-vm`: the i686 integration suite on a native i386 kernel.
//!
//! Builds `ujail` and the ujail-cli integration tests for i686 statically
//! (`<target>/vm-build`), fetches the Debian 686 kernel and busybox pinned in
//! `vm/pins.txt` (cached in `<target>/vm-cache`), packs them with the guests,
//! the i386 loader and libraries and `vm/init` into a gzipped newc initramfs
//! (`<target>/vm-image`), boots it in `qemu-system-i386` (KVM when it works,
//! else TCG), reads the results off the serial console and prints
//! `N passed, M failed`. Fails on any failed test, crash, kernel panic,
//! missing marker or time-out; QEMU never outlives the task.
//!
//! Options: `--shell` (boot to a busybox shell instead, see vm/README.md),
//! `--smp N` (CPUs, default 2), `--test-threads N` (libtest's, default 2),
//! `--timeout SECS` (the VM run, default 3600), `--skip-lint` (accepted and
//! ignored: `cargo xtask test` passes its options on), `-- ARGS` (to every
//! test binary, e.g. a name filter). `UJAIL_VM_ACCEL=kvm|tcg` forces the
//! accelerator.

mod binaries;
mod cpio;
mod fetch;
mod pins;
mod qemu;
mod report;
mod sh;

use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{deps, guests, util};
use qemu::{Accel, Boot, Limits};
use report::Report;

const USAGE: &str = "\
usage: cargo xtask test-vm [--shell] [--smp N] [--test-threads N] [--timeout SECS] [-- TEST-ARGS]
  --shell           boot the image to a busybox shell on the console instead
  --smp N           CPUs of the VM (default 2)
  --test-threads N  libtest threads in the VM (default 2)
  --timeout SECS    limit of the VM run (default 3600)
  -- TEST-ARGS      passed to every test binary (e.g. a test name filter)
env: UJAIL_VM_ACCEL=kvm|tcg|auto (default auto: KVM if a probe boot works)
see vm/README.md
";

/// Options of test-vm.
#[derive(Debug)]
struct Options {
    shell: bool,
    smp: u32,
    test_threads: u32,
    timeout: Duration,
    test_args: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        shell: false,
        smp: 2,
        test_threads: 2,
        timeout: Duration::from_secs(3600),
        test_args: Vec::new(),
    };
    let mut it = args.iter();
    let number = |it: &mut std::slice::Iter<'_, String>, opt: &str| -> Result<u32> {
        let v = it.next().with_context(|| format!("{opt} needs a number"))?;
        match v.parse::<u32>() {
            Ok(n) if n > 0 => Ok(n),
            _ => bail!("{opt}: `{v}` is not a positive number"),
        }
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            "--shell" => o.shell = true,
            "--smp" => o.smp = number(&mut it, "--smp")?,
            "--test-threads" => o.test_threads = number(&mut it, "--test-threads")?,
            "--timeout" => o.timeout = Duration::from_secs(number(&mut it, "--timeout")?.into()),
            "--skip-lint" => {}
            "--" => {
                o.test_args = it.cloned().collect();
                break;
            }
            other => {
                eprint!("{USAGE}");
                bail!("test-vm: unknown option `{other}`")
            }
        }
    }
    Ok(o)
}

/// `cargo xtask test-vm`.
pub fn test_vm(args: &[String]) -> Result<()> {
    let start = Instant::now();
    let opts = parse(args)?;
    let root = util::workspace_root();
    let target = util::target_dir();

    util::banner("test-vm: dependencies");
    deps::ensure_all()?;
    for tool in [
        "qemu-system-i386",
        "gzip",
        "dpkg-deb",
        "readelf",
        "sha256sum",
    ] {
        if sh::which(tool).is_none() {
            bail!("`{tool}` not found on PATH (test-vm needs it; see `cargo xtask deps`)");
        }
    }

    util::banner("test-vm: pinned kernel and busybox");
    let pins = pins::load(&root.join("vm/pins.txt"))?;
    let cache = target.join("vm-cache");
    let kernel_root = fetch::unpack(&fetch::deb(&pins.kernel, &cache)?, &cache)?;
    let (vmlinuz, config) = fetch::kernel_files(&kernel_root)?;
    fetch::check_kernel_config(&config)?;
    let busybox_root = fetch::unpack(&fetch::deb(&pins.busybox, &cache)?, &cache)?;
    let busybox = busybox_root.join("bin/busybox");

    util::banner("test-vm: i686 binaries (static)");
    let guests_dir = guests::build_all()?;
    let built = binaries::build_static(&target.join("vm-build"))?;

    util::banner("test-vm: initramfs");
    let image_dir = target.join("vm-image");
    std::fs::create_dir_all(&image_dir)
        .with_context(|| format!("creating {}", image_dir.display()))?;
    let initrd = image_dir.join("initramfs.cpio.gz");
    build_image(&ImageInputs {
        root: &root,
        busybox: &busybox,
        guests_dir: &guests_dir,
        built: &built,
        opts: &opts,
        out: &initrd,
    })?;
    let prepared = start.elapsed();

    let boot = |accel, mode| Boot {
        kernel: &vmlinuz,
        initrd: &initrd,
        mode,
        accel,
        smp: opts.smp,
    };
    if opts.shell {
        util::banner("test-vm: shell");
        return boot(choose_accel(&boot(Accel::Kvm, "probe"))?, "shell").interactive();
    }

    util::banner("test-vm: boot and run the suite");
    let accel = choose_accel(&boot(Accel::Kvm, "probe"))?;
    let limits = Limits {
        total: opts.timeout,
        idle: Duration::from_secs(600).min(opts.timeout),
    };
    let console = boot(accel, "test").run(limits, true, &|_| false)?;
    let log = image_dir.join("console.log");
    std::fs::write(&log, console.lines.join("\n") + "\n")
        .with_context(|| format!("writing {}", log.display()))?;

    let report = Report::parse(&console.lines);
    // vm/run-tests runs every binary once per engine, as `NAME@ENGINE`.
    let expected: Vec<String> = crate::test::ENGINES
        .iter()
        .flat_map(|e| built.tests.iter().map(move |(n, _)| format!("{n}@{e}")))
        .collect();
    let mut problems = report.problems(&expected);
    if let Some(why) = &console.timed_out {
        problems.insert(0, format!("time-out ({why}); QEMU killed"));
    }

    util::banner("test-vm: summary");
    for b in &report.binaries {
        let status =
            b.rc.map_or_else(|| "no end".to_owned(), |rc| format!("exit {rc}"));
        eprintln!(
            "  {:<28} {:>4} passed {:>3} failed {:>3} ignored  ({status})",
            b.name, b.passed, b.failed, b.ignored
        );
    }
    eprintln!(
        "  guest: {}",
        report.uname.as_deref().unwrap_or("(no uname printed)")
    );
    eprintln!(
        "  accel {accel:?}, {} CPUs; boot {}, VM run {}, QEMU {}; build and image {}, total {}",
        opts.smp,
        console
            .boot_time
            .map_or_else(|| "?".to_owned(), util::fmt_duration),
        util::fmt_duration(console.elapsed),
        console.exit,
        util::fmt_duration(prepared),
        util::fmt_duration(start.elapsed())
    );
    eprintln!("  console log: {}", log.display());
    for p in &problems {
        eprintln!("  PROBLEM: {p}");
    }
    if report.ignored() > 0 {
        eprintln!("  note: {} tests ignored", report.ignored());
    }
    println!("{} passed, {} failed", report.passed(), report.failed());
    if !problems.is_empty() {
        bail!("test-vm failed: {}", problems[0]);
    }
    Ok(())
}

/// What goes into the initramfs.
struct ImageInputs<'a> {
    root: &'a Path,
    busybox: &'a Path,
    guests_dir: &'a Path,
    built: &'a binaries::Built,
    opts: &'a Options,
    out: &'a Path,
}

/// Writes the gzipped newc initramfs; see vm/README.md for its layout.
fn build_image(i: &ImageInputs<'_>) -> Result<()> {
    let mut a = cpio::Archive::new();
    for d in [
        "proc", "sys", "dev", "tmp", "root", "sbin", "usr/bin", "usr/sbin",
    ] {
        a.dir(d)?;
    }
    a.char_dev("dev/console", 5, 1)?;
    // A minimal /etc so that the VM looks like a system: users for `id`,
    // a hostname, and an /etc/shadow that policy tests can be refused.
    for (path, text, mode) in [
        (
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
            0o644,
        ),
        ("etc/group", "root:x:0:\nnogroup:x:65534:\n", 0o644),
        (
            "etc/shadow",
            "root:*:20000:0:99999:7:::\nnobody:*:20000:0:99999:7:::\n",
            0o600,
        ),
        ("etc/hostname", "ujail-vm\n", 0o644),
    ] {
        a.bytes(path, text.as_bytes().to_vec(), mode)?;
    }
    a.file("init", &i.root.join("vm/init"), 0o755)?;
    a.file("etc/ujail/run-tests", &i.root.join("vm/run-tests"), 0o755)?;
    a.bytes(
        "etc/ujail/env",
        format!(
            "UJAIL_VM_TEST_THREADS={}\nUJAIL_VM_BINARY_TIMEOUT={}\nUJAIL_VM_ENGINES=\"{}\"\n",
            i.opts.test_threads,
            i.opts.timeout.as_secs(),
            crate::test::ENGINES.join(" ")
        )
        .into_bytes(),
        0o644,
    )?;
    let mut args = String::new();
    for arg in &i.opts.test_args {
        if arg.contains('\n') {
            bail!("test argument {arg:?} contains a newline");
        }
        args.push_str(arg);
        args.push('\n');
    }
    a.bytes("etc/ujail/test-args", args.into_bytes(), 0o644)?;
    a.file("bin/busybox", i.busybox, 0o755)?;
    a.file("bin/ujail", &i.built.ujail, 0o755)?;

    let dyn_guest = i.guests_dir.join("ujail-guest-i686-dyn");
    for name in ["ujail-guest-i686-static", "ujail-guest-i686-dyn"] {
        a.file(&format!("guests/{name}"), &i.guests_dir.join(name), 0o755)?;
    }
    // The dynamic guest's loader and libraries, at the paths the host's i386
    // loader looks in (its PT_INTERP, /lib32 for Debian's multilib glibc).
    // One copy per file; other names of it become symlinks.
    let mut copied: Vec<(std::path::PathBuf, String)> = Vec::new();
    for lib in binaries::dynamic_deps(&dyn_guest)? {
        let dest = lib.to_string_lossy().into_owned();
        if a.contains(&dest) {
            continue;
        }
        let real =
            std::fs::canonicalize(&lib).with_context(|| format!("resolving {}", lib.display()))?;
        match copied.iter().find(|(r, _)| *r == real) {
            Some((_, first)) => a.symlink(&dest, first)?,
            None => {
                a.file(&dest, &real, 0o755)?;
                copied.push((real, dest));
            }
        }
    }
    for (name, exe) in &i.built.tests {
        a.file(&format!("tests/{name}"), exe, 0o755)?;
    }

    let cpio_path = i.out.with_extension("");
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(&cpio_path)
            .with_context(|| format!("creating {}", cpio_path.display()))?,
    );
    let n = a.write(&mut file)?;
    std::io::Write::flush(&mut file).context("writing the initramfs")?;
    drop(file);
    let gz =
        std::fs::File::create(i.out).with_context(|| format!("creating {}", i.out.display()))?;
    let mut gzip = Command::new("gzip");
    gzip.args(["-6", "-n", "-c"]).arg(&cpio_path).stdout(gz);
    util::run(&mut gzip)?;
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len() / 1024).unwrap_or(0);
    eprintln!(
        "xtask: initramfs {} ({n} entries, {} KiB, {} KiB unpacked)",
        i.out.display(),
        size(i.out),
        size(&cpio_path)
    );
    Ok(())
}

/// KVM when `UJAIL_VM_ACCEL=kvm`, TCG when `=tcg`; otherwise KVM if
/// /dev/kvm can be opened and a probe boot with it reaches init, else TCG.
/// (On nested set-ups /dev/kvm may exist and still fail at the first
/// instruction it cannot emulate: "KVM internal error".)
fn choose_accel(probe: &Boot<'_>) -> Result<Accel> {
    match std::env::var("UJAIL_VM_ACCEL").as_deref() {
        Ok("kvm") => return Ok(Accel::Kvm),
        Ok("tcg") => return Ok(Accel::Tcg),
        Ok("" | "auto") | Err(_) => {}
        Ok(other) => bail!("UJAIL_VM_ACCEL={other}: expected kvm, tcg or auto"),
    }
    let kvm = Path::new("/dev/kvm");
    if std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(kvm)
        .is_err()
    {
        eprintln!("xtask: /dev/kvm not usable: TCG");
        return Ok(Accel::Tcg);
    }
    eprintln!("xtask: probing KVM");
    let limits = Limits {
        total: Duration::from_secs(60),
        idle: Duration::from_secs(30),
    };
    let console = probe.run(limits, false, &|line| {
        line.contains("KVM internal error") || line.trim_end().ends_with(qemu::INIT_MARKER)
    })?;
    if console.boot_time.is_some() {
        eprintln!("xtask: KVM works");
        Ok(Accel::Kvm)
    } else {
        let why = console
            .lines
            .iter()
            .find(|l| l.contains("KVM") || l.contains("kvm"))
            .cloned()
            .or(console.timed_out)
            .unwrap_or_else(|| format!("QEMU {}", console.exit));
        eprintln!("xtask: KVM does not work here ({}): TCG", why.trim());
        Ok(Accel::Tcg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn options() {
        let o = parse(&args(&[
            "--skip-lint",
            "--smp",
            "1",
            "--",
            "signals",
            "--nocapture",
        ]))
        .unwrap();
        assert_eq!((o.smp, o.test_threads, o.shell), (1, 2, false));
        assert_eq!(o.test_args, ["signals", "--nocapture"]);
        assert!(parse(&args(&["--smp", "0"])).is_err());
        assert!(parse(&args(&["--timeout"])).is_err());
        assert!(parse(&args(&["--bogus"])).is_err());
    }
}
