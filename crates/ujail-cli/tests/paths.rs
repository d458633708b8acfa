// SPDX-License-Identifier: GPL-3.0-or-later
//! Integration tests of the path policy (issue 4) and of the jail's default
//! denials, on every guest flavour of this build, on the host and in the
//! i386 VM: `--ro`/`--rw`/`--exec`/`--hide`, `..`, symlink and /proc magic
//! link escapes, hard links and renames out of a writable directory, policy
//! files (`ujail check`, `--policy`, `--audit`, bad files), the calls denied
//! by default (ptrace, io_uring, kill of the tracer, namespaces,
//! personality, bpf, perf_event_open, userfaultfd), and the
//! time-of-check/time-of-use races (`race-mem`, `race-dir`).
//!
//! Every jailed command runs under a watchdog ([`common::run_with_timeout`]);
//! each test collects every failure, naming the flavour, before it fails.
//! Nothing here needs more than `/bin/busybox`-level userland: the guests do
//! all the work, so the tests run unchanged in the VM (never skipped).
#![forbid(unsafe_code)]

mod common;

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use common::Guest;
use ujail_regs::Abi;

/// Watchdog for one jailed command, seconds (the VM runs under TCG).
const WATCHDOG: u64 = 120;
/// The i386 static busybox (host: Debian busybox-static:i386; VM: /bin/busybox).
const BUSYBOX: &str = "/bin/busybox";
/// Watchdog of a race run (thousands of traced calls under TCG).
const RACE_WATCHDOG: u64 = 600;
/// Iterations of `race-mem` and `race-dir` under the jail.
const RACE_MEM_N: u32 = 5000;
const RACE_DIR_N: u32 = 2000;
/// Iterations of the races against anchored calls (`race-dir` with another
/// call than open, `race-fd`, `race-reopen`): 2000 on the host, 500 in the
/// VM, where TCG makes every traced call slow and they run for each engine.
fn race_anchor_n() -> u32 {
    if common::in_vm() {
        500
    } else {
        RACE_DIR_N
    }
}

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

/// The race tests run one at a time: two of them at once (each a busy
/// flipping thread, a racing thread and a tracer) starve each other's
/// tracers on two CPUs. In the VM (TCG) that made the jailed calls so slow
/// that one run of the suite took 25 minutes and some runs never saw the
/// allowed state; other tests still run beside them.
fn one_race_at_a_time() -> MutexGuard<'static, ()> {
    static RACES: Mutex<()> = Mutex::new(());
    RACES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A temporary directory under `std::env::temp_dir()`, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ujail-paths-{tag}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        // Rules match resolved paths: use the canonical name (/tmp may be a
        // symlink somewhere).
        let dir = fs::canonicalize(&dir).expect("canonicalize temp dir");
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    /// `self/rel`, created as a directory.
    fn mkdir(&self, rel: &str) -> PathBuf {
        let p = self.0.join(rel);
        fs::create_dir_all(&p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
        p
    }

    /// `self/rel`, written with `text` and a newline.
    fn file(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        fs::write(&p, format!("{text}\n")).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A path as a `String` for command lines (the temp dirs are UTF-8).
fn s(p: &Path) -> String {
    p.to_str().expect("UTF-8 temp path").to_owned()
}

/// The result of one run, for comparisons and messages.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from(out: &Output) -> Run {
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The guest's one line of output.
    fn line(&self) -> &str {
        self.stdout.trim_end()
    }
}

/// Runs `ujail <ujail_args> -- <guest> <guest_args>` under the watchdog.
fn jail<A: AsRef<OsStr>>(g: &Guest, ujail_args: &[A], guest_args: &[&str], secs: u64) -> Run {
    let mut cmd = Command::new(common::ujail_bin());
    cmd.args(ujail_args).arg("--").arg(&g.path).args(guest_args);
    // Cargo points LD_LIBRARY_PATH at its target dirs: the dynamic guests'
    // loader would probe them (denied, logged) before finding libc.
    cmd.env_remove("LD_LIBRARY_PATH");
    Run::from(&common::run_with_timeout(&mut cmd, secs))
}

/// Runs the guest without the jail.
fn bare(g: &Guest, guest_args: &[&str], secs: u64) -> Run {
    Run::from(&common::run_with_timeout(&mut g.command(guest_args), secs))
}

/// Collects failures; panics with all of them at the end.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    /// The run exited with `code` and printed exactly `line`.
    fn expect(&mut self, g: &Guest, what: &str, r: &Run, code: i32, line: &str) {
        self.check(r.code == Some(code) && r.line() == line, || {
            format!(
                "[{}] {what}: expected exit {code} and {line:?}, saw exit {:?}, stdout {:?}, stderr {:?}",
                g.name, r.code, r.stdout, r.stderr
            )
        });
    }

    /// The run failed with exit 1 and one of the `lines` (alternatives).
    fn expect_any(&mut self, g: &Guest, what: &str, r: &Run, lines: &[&str]) {
        self.check(r.code == Some(1) && lines.contains(&r.line()), || {
            format!(
                "[{}] {what}: expected exit 1 and one of {lines:?}, saw exit {:?}, stdout {:?}, stderr {:?}",
                g.name, r.code, r.stdout, r.stderr
            )
        });
    }

    fn finish(self) {
        assert!(
            self.0.is_empty(),
            "{} failure(s):\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

/// The guest's ABI for the syscall tables.
fn abi(g: &Guest) -> Abi {
    if g.abi == "x86_64" {
        Abi::X86_64
    } else {
        Abi::I386
    }
}

/// The number of `name` in the guest's ABI, as a decimal argument.
fn nr(g: &Guest, name: &str) -> String {
    ujail_regs::table::number(abi(g), name)
        .unwrap_or_else(|| panic!("no {name} in the {} table", g.abi))
        .to_string()
}

const DENIED: &str = "Permission denied";
const ENOENT: &str = "No such file or directory";
const EPERM: &str = "Operation not permitted";

/// A jail tree: `rw/` (granted rw), `ro/` (ro), `hid/` (hidden), `out/`
/// (outside every rule), each with a file `f`.
struct Tree {
    tmp: TempDir,
    rw: PathBuf,
    ro: PathBuf,
    hid: PathBuf,
    out: PathBuf,
}

impl Tree {
    fn new(tag: &str) -> Tree {
        let tmp = TempDir::new(tag);
        let rw = tmp.mkdir("rw");
        let ro = tmp.mkdir("ro");
        let hid = tmp.mkdir("hid");
        let out = tmp.mkdir("out");
        tmp.file("rw/f", "rw content");
        tmp.file("ro/f", "ro content");
        tmp.file("hid/f", "hidden content");
        tmp.file("out/f", "secret content");
        Tree {
            tmp,
            rw,
            ro,
            hid,
            out,
        }
    }

    /// `--system-ro --rw rw --ro ro --hide hid`.
    fn flags(&self) -> Vec<OsString> {
        vec![
            "run".into(),
            "--system-ro".into(),
            "--rw".into(),
            self.rw.clone().into(),
            "--ro".into(),
            self.ro.clone().into(),
            "--hide".into(),
            self.hid.clone().into(),
        ]
    }

    fn run(&self, g: &Guest, guest_args: &[&str]) -> Run {
        jail(g, &self.flags(), guest_args, WATCHDOG)
    }
}

// ---------------------------------------------------------------------------
// ro / rw / hide / outside
// ---------------------------------------------------------------------------

#[test]
fn rw_ro_hide_and_outside() {
    let mut f = Failures::default();
    for g in common::guests() {
        let t = Tree::new(&format!("access-{}", g.name));
        let (rw, ro, hid, out) = (s(&t.rw), s(&t.ro), s(&t.hid), s(&t.out));
        let j = |a: &[&str]| t.run(&g, a);
        let p = |d: &str, n: &str| format!("{d}/{n}");

        // Inside --rw: everything.
        f.expect(
            &g,
            "read rw/f",
            &j(&["fs", "read", &p(&rw, "f")]),
            0,
            "rw content",
        );
        f.expect(
            &g,
            "write rw/new",
            &j(&["fs", "write", &p(&rw, "new"), "fresh"]),
            0,
            "write ok",
        );
        f.expect(
            &g,
            "read rw/new",
            &j(&["fs", "read", &p(&rw, "new")]),
            0,
            "fresh",
        );
        f.expect(
            &g,
            "append rw/new",
            &j(&["fs", "append", &p(&rw, "new"), "more"]),
            0,
            "append ok",
        );
        f.check(
            fs::read_to_string(t.rw.join("new")).ok().as_deref() == Some("fresh\nmore\n"),
            || format!("[{}] rw/new content after write+append", g.name),
        );
        f.expect(
            &g,
            "stat rw/f",
            &j(&["fs", "stat", &p(&rw, "f")]),
            0,
            "stat ok file",
        );
        f.expect(
            &g,
            "access rw/f",
            &j(&["fs", "access", &p(&rw, "f")]),
            0,
            "access ok",
        );
        f.expect(
            &g,
            "mkdir rw/d",
            &j(&["fs", "mkdir", &p(&rw, "d")]),
            0,
            "mkdir ok",
        );
        f.expect(
            &g,
            "rename rw/d rw/e",
            &j(&["fs", "rename", &p(&rw, "d"), &p(&rw, "e")]),
            0,
            "rename ok",
        );
        f.expect(
            &g,
            "rmdir rw/e",
            &j(&["fs", "rmdir", &p(&rw, "e")]),
            0,
            "rmdir ok",
        );
        f.expect(
            &g,
            "chmod rw/new",
            &j(&["fs", "chmod", &p(&rw, "new"), "600"]),
            0,
            "chmod ok",
        );
        f.expect(
            &g,
            "truncate rw/new",
            &j(&["fs", "truncate", &p(&rw, "new"), "0"]),
            0,
            "truncate ok",
        );
        f.expect(
            &g,
            "utimes rw/new",
            &j(&["fs", "utimes", &p(&rw, "new")]),
            0,
            "utimes ok",
        );
        f.expect(
            &g,
            "symlink in rw",
            &j(&["fs", "symlink", "f", &p(&rw, "lnk")]),
            0,
            "symlink ok",
        );
        f.expect(
            &g,
            "readlink rw/lnk",
            &j(&["fs", "readlink", &p(&rw, "lnk")]),
            0,
            "f",
        );
        f.expect(
            &g,
            "read through rw/lnk",
            &j(&["fs", "read", &p(&rw, "lnk")]),
            0,
            "rw content",
        );
        f.expect(
            &g,
            "link in rw",
            &j(&["fs", "link", &p(&rw, "f"), &p(&rw, "hard")]),
            0,
            "link ok",
        );
        f.expect(
            &g,
            "unlink rw/new",
            &j(&["fs", "unlink", &p(&rw, "new")]),
            0,
            "unlink ok",
        );
        f.check(!t.rw.join("new").exists(), || {
            format!("[{}] rw/new still there", g.name)
        });

        // --ro: read, never change.
        f.expect(
            &g,
            "read ro/f",
            &j(&["fs", "read", &p(&ro, "f")]),
            0,
            "ro content",
        );
        f.expect(
            &g,
            "stat ro/f",
            &j(&["fs", "stat", &p(&ro, "f")]),
            0,
            "stat ok file",
        );
        f.expect(
            &g,
            "openat-read ro f",
            &j(&["fs", "openat-read", &ro, "f"]),
            0,
            "ro content",
        );
        f.expect(
            &g,
            "write ro/f",
            &j(&["fs", "write", &p(&ro, "f"), "x"]),
            1,
            &format!("write: {DENIED}"),
        );
        f.expect(
            &g,
            "create ro/new",
            &j(&["fs", "write", &p(&ro, "new"), "x"]),
            1,
            &format!("write: {DENIED}"),
        );
        f.expect(
            &g,
            "append ro/f",
            &j(&["fs", "append", &p(&ro, "f"), "x"]),
            1,
            &format!("append: {DENIED}"),
        );
        f.expect(
            &g,
            "unlink ro/f",
            &j(&["fs", "unlink", &p(&ro, "f")]),
            1,
            &format!("unlink: {DENIED}"),
        );
        f.expect(
            &g,
            "mkdir ro/d",
            &j(&["fs", "mkdir", &p(&ro, "d")]),
            1,
            &format!("mkdir: {DENIED}"),
        );
        f.expect(
            &g,
            "truncate ro/f",
            &j(&["fs", "truncate", &p(&ro, "f"), "0"]),
            1,
            &format!("truncate: {DENIED}"),
        );
        f.expect(
            &g,
            "chmod ro/f",
            &j(&["fs", "chmod", &p(&ro, "f"), "777"]),
            1,
            &format!("chmod: {EPERM}"),
        );
        f.expect_any(
            &g,
            "utimes ro/f",
            &j(&["fs", "utimes", &p(&ro, "f")]),
            &[&format!("utimes: {EPERM}"), &format!("utimes: {DENIED}")],
        );
        f.expect(
            &g,
            "rename ro/f",
            &j(&["fs", "rename", &p(&ro, "f"), &p(&ro, "g")]),
            1,
            &format!("rename: {DENIED}"),
        );
        f.check(
            fs::read_to_string(t.ro.join("f")).ok().as_deref() == Some("ro content\n")
                && !t.ro.join("new").exists()
                && !t.ro.join("d").exists(),
            || format!("[{}] the ro dir was changed", g.name),
        );

        // Outside every rule: EACCES.
        f.expect(
            &g,
            "read out/f",
            &j(&["fs", "read", &p(&out, "f")]),
            1,
            &format!("read: {DENIED}"),
        );
        f.expect(
            &g,
            "stat out/f",
            &j(&["fs", "stat", &p(&out, "f")]),
            1,
            &format!("stat: {DENIED}"),
        );
        f.expect(
            &g,
            "write out/new",
            &j(&["fs", "write", &p(&out, "new"), "x"]),
            1,
            &format!("write: {DENIED}"),
        );
        f.expect(
            &g,
            "mkdir out/d",
            &j(&["fs", "mkdir", &p(&out, "d")]),
            1,
            &format!("mkdir: {DENIED}"),
        );
        f.check(
            !t.out.join("new").exists() && !t.out.join("d").exists(),
            || format!("[{}] something was created outside the jail", g.name),
        );

        // --hide: not there at all, for every op.
        f.expect(
            &g,
            "read hid/f",
            &j(&["fs", "read", &p(&hid, "f")]),
            1,
            &format!("read: {ENOENT}"),
        );
        f.expect(
            &g,
            "stat hid",
            &j(&["fs", "stat", &hid]),
            1,
            &format!("stat: {ENOENT}"),
        );
        f.expect(
            &g,
            "lstat hid/f",
            &j(&["fs", "lstat", &p(&hid, "f")]),
            1,
            &format!("lstat: {ENOENT}"),
        );
        f.expect(
            &g,
            "access hid/f",
            &j(&["fs", "access", &p(&hid, "f")]),
            1,
            &format!("access: {ENOENT}"),
        );
        f.expect(
            &g,
            "write hid/new",
            &j(&["fs", "write", &p(&hid, "new"), "x"]),
            1,
            &format!("write: {ENOENT}"),
        );

        // The denial is logged with pid, program, call and path.
        let r = j(&["fs", "read", &p(&out, "f")]);
        f.check(
            r.stderr.contains("denied")
                && r.stderr.contains(&p(&out, "f"))
                && r.stderr.contains("EACCES"),
            || {
                format!(
                    "[{}] no denial line for out/f in stderr {:?}",
                    g.name, r.stderr
                )
            },
        );
        drop(t);
    }
    f.finish();
}

#[test]
fn stat_of_ancestors_of_a_grant() {
    let mut f = Failures::default();
    for g in common::guests() {
        let t = Tree::new(&format!("anc-{}", g.name));
        let top = s(t.tmp.path());
        let j = |a: &[&str]| t.run(&g, a);
        // The directories leading to rw/ may be stat'ed ...
        f.expect(
            &g,
            "stat parent of rw",
            &j(&["fs", "stat", &top]),
            0,
            "stat ok dir",
        );
        f.expect(&g, "stat /", &j(&["fs", "stat", "/"]), 0, "stat ok dir");
        let tmp_root = s(&fs::canonicalize(std::env::temp_dir()).expect("temp dir"));
        f.expect(
            &g,
            "stat temp dir",
            &j(&["fs", "stat", &tmp_root]),
            0,
            "stat ok dir",
        );
        // ... but not listed (opened), and their other children stay denied.
        f.expect(
            &g,
            "open parent of rw",
            &j(&["fs", "read", &top]),
            1,
            &format!("read: {DENIED}"),
        );
        f.expect(
            &g,
            "stat sibling out/",
            &j(&["fs", "stat", &s(&t.out)]),
            1,
            &format!("stat: {DENIED}"),
        );
        // The granted directory itself, of course.
        f.expect(
            &g,
            "stat rw itself",
            &j(&["fs", "stat", &s(&t.rw)]),
            0,
            "stat ok dir",
        );
        // A hide rule's ancestors gain nothing from it.
        let only_hide: Vec<OsString> = vec![
            "run".into(),
            "--system-ro".into(),
            "--hide".into(),
            t.hid.join("inner").into(),
        ];
        let r = jail(&g, &only_hide, &["fs", "stat", &s(&t.hid)], WATCHDOG);
        f.expect(
            &g,
            "stat parent of a hide rule",
            &r,
            1,
            &format!("stat: {DENIED}"),
        );
    }
    f.finish();
}

// ---------------------------------------------------------------------------
// escapes: symlinks, .., /proc magic links, links and renames
// ---------------------------------------------------------------------------

#[test]
fn symlinks_pointing_outside_are_judged_on_their_target() {
    let mut f = Failures::default();
    for g in common::guests() {
        let t = Tree::new(&format!("sym-{}", g.name));
        // Made by the test, outside the jail's control.
        symlink(t.out.join("f"), t.rw.join("to-secret")).expect("symlink");
        symlink(&t.out, t.rw.join("to-out")).expect("symlink");
        symlink("../out/f", t.rw.join("rel-secret")).expect("symlink");
        let rw = s(&t.rw);
        let j = |a: &[&str]| t.run(&g, a);
        for link in ["to-secret", "rel-secret", "to-out/f"] {
            let path = format!("{rw}/{link}");
            f.expect(
                &g,
                &format!("read {link}"),
                &j(&["fs", "read", &path]),
                1,
                &format!("read: {DENIED}"),
            );
            f.expect(
                &g,
                &format!("write {link}"),
                &j(&["fs", "write", &path, "x"]),
                1,
                &format!("write: {DENIED}"),
            );
            f.expect(
                &g,
                &format!("stat {link}"),
                &j(&["fs", "stat", &path]),
                1,
                &format!("stat: {DENIED}"),
            );
        }
        f.expect(
            &g,
            "openat-read to-out f",
            &j(&["fs", "openat-read", &format!("{rw}/to-out"), "f"]),
            1,
            &format!("openat-read: {DENIED}"),
        );
        f.expect(
            &g,
            "chdir-read to-out f",
            &j(&["fs", "chdir-read", &format!("{rw}/to-out"), "f"]),
            1,
            &format!("chdir-read: {DENIED}"),
        );
        // The link itself lives in rw: lstat and readlink are fine.
        f.expect(
            &g,
            "lstat to-secret",
            &j(&["fs", "lstat", &format!("{rw}/to-secret")]),
            0,
            "lstat ok link",
        );
        f.expect(
            &g,
            "readlink rel-secret",
            &j(&["fs", "readlink", &format!("{rw}/rel-secret")]),
            0,
            "../out/f",
        );
        // A link the jailed program makes itself is no better.
        f.expect(
            &g,
            "symlink made inside",
            &j(&["fs", "symlink", &s(&t.out.join("f")), &format!("{rw}/mine")]),
            0,
            "symlink ok",
        );
        f.expect(
            &g,
            "read own link",
            &j(&["fs", "read", &format!("{rw}/mine")]),
            1,
            &format!("read: {DENIED}"),
        );
        f.check(
            fs::read_to_string(t.out.join("f")).ok().as_deref() == Some("secret content\n"),
            || format!("[{}] the secret was overwritten through a symlink", g.name),
        );
    }
    f.finish();
}

#[test]
fn dotdot_escapes_are_denied() {
    let mut f = Failures::default();
    for g in common::guests() {
        let t = Tree::new(&format!("dots-{}", g.name));
        t.tmp.mkdir("rw/sub/deeper");
        let rw = s(&t.rw);
        let j = |a: &[&str]| t.run(&g, a);
        let no = format!("read: {DENIED}");
        f.expect(
            &g,
            "rw/../out/f",
            &j(&["fs", "read", &format!("{rw}/../out/f")]),
            1,
            &no,
        );
        f.expect(
            &g,
            "rw/sub/../../out/f",
            &j(&["fs", "read", &format!("{rw}/sub/../../out/f")]),
            1,
            &no,
        );
        f.expect(
            &g,
            "rw/./../out/f",
            &j(&["fs", "read", &format!("{rw}/./../out/f")]),
            1,
            &no,
        );
        f.expect(
            &g,
            "rw//..//out//f",
            &j(&["fs", "read", &format!("{rw}//..//out//f")]),
            1,
            &no,
        );
        f.expect(
            &g,
            "write rw/../out/new",
            &j(&["fs", "write", &format!("{rw}/../out/new"), "x"]),
            1,
            &format!("write: {DENIED}"),
        );
        // Relative to a cwd inside the jail.
        let cno = format!("chdir-read: {DENIED}");
        f.expect(
            &g,
            "cwd rw, ../out/f",
            &j(&["fs", "chdir-read", &rw, "../out/f"]),
            1,
            &cno,
        );
        f.expect(
            &g,
            "cwd rw/sub/deeper, ../../../out/f",
            &j(&[
                "fs",
                "chdir-read",
                &format!("{rw}/sub/deeper"),
                "../../../out/f",
            ]),
            1,
            &cno,
        );
        // Relative to a directory fd inside the jail.
        f.expect(
            &g,
            "openat rw, ../out/f",
            &j(&["fs", "openat-read", &rw, "../out/f"]),
            1,
            &format!("openat-read: {DENIED}"),
        );
        // .. that stays inside is fine.
        f.expect(
            &g,
            "rw/sub/../f",
            &j(&["fs", "read", &format!("{rw}/sub/../f")]),
            0,
            "rw content",
        );
        f.expect(
            &g,
            "cwd rw/sub, ../f",
            &j(&["fs", "chdir-read", &format!("{rw}/sub"), "../f"]),
            0,
            "rw content",
        );
        f.expect(
            &g,
            "openat rw/sub, ../f",
            &j(&["fs", "openat-read", &format!("{rw}/sub"), "../f"]),
            0,
            "rw content",
        );
        f.check(!t.out.join("new").exists(), || {
            format!("[{}] out/new created through ..", g.name)
        });
    }
    f.finish();
}

#[test]
fn proc_magic_links_are_judged_on_the_resolved_path() {
    let mut f = Failures::default();
    for g in common::guests() {
        let t = Tree::new(&format!("proc-{}", g.name));
        let (rw, out) = (s(&t.rw), s(&t.out));
        let j = |a: &[&str]| t.run(&g, a);
        let no = format!("read: {DENIED}");
        f.expect(
            &g,
            "/proc/self/root + out/f",
            &j(&["fs", "read", &format!("/proc/self/root{out}/f")]),
            1,
            &no,
        );
        f.expect(
            &g,
            "/proc/thread-self/root + out/f",
            &j(&["fs", "read", &format!("/proc/thread-self/root{out}/f")]),
            1,
            &no,
        );
        f.expect(
            &g,
            "/proc/self/root + rw/f",
            &j(&["fs", "read", &format!("/proc/self/root{rw}/f")]),
            0,
            "rw content",
        );
        let cno = format!("chdir-read: {DENIED}");
        f.expect(
            &g,
            "cwd rw, /proc/self/cwd/../out/f",
            &j(&["fs", "chdir-read", &rw, "/proc/self/cwd/../out/f"]),
            1,
            &cno,
        );
        f.expect(
            &g,
            "cwd rw, /proc/self/cwd/f",
            &j(&["fs", "chdir-read", &rw, "/proc/self/cwd/f"]),
            0,
            "rw content",
        );
        f.expect(
            &g,
            "write /proc/self/root + out",
            &j(&["fs", "write", &format!("/proc/self/root{out}/new"), "x"]),
            1,
            &format!("write: {DENIED}"),
        );
        // Its own /proc entries are readable, /proc/PID/mem never writable.
        let r = j(&["fs", "read", "/proc/self/status"]);
        f.check(
            r.code == Some(0) && r.line().starts_with("Name:\tujail-guest"),
            || format!("[{}] read /proc/self/status: {r:?}", g.name),
        );
        f.expect(
            &g,
            "write /proc/self/mem",
            &j(&["fs", "write", "/proc/self/mem", "x"]),
            1,
            &format!("write: {DENIED}"),
        );
        f.check(!t.out.join("new").exists(), || {
            format!("[{}] out/new created through /proc", g.name)
        });
    }
    f.finish();
}

#[test]
fn hard_links_and_renames_out_of_the_jail_are_denied() {
    let mut f = Failures::default();
    for g in common::guests() {
        let t = Tree::new(&format!("link-{}", g.name));
        let (rw, ro, out) = (s(&t.rw), s(&t.ro), s(&t.out));
        let j = |a: &[&str]| t.run(&g, a);
        let link_no = [format!("link: {DENIED}"), format!("link: {EPERM}")];
        let link_no: Vec<&str> = link_no.iter().map(String::as_str).collect();
        f.expect_any(
            &g,
            "link out/f -> rw/l",
            &j(&["fs", "link", &format!("{out}/f"), &format!("{rw}/l")]),
            &link_no,
        );
        f.expect_any(
            &g,
            "link ro/f -> rw/l2",
            &j(&["fs", "link", &format!("{ro}/f"), &format!("{rw}/l2")]),
            &link_no,
        );
        f.check(
            !t.rw.join("l").exists() && !t.rw.join("l2").exists(),
            || format!("[{}] a hard link to a file outside rw was made", g.name),
        );
        let rno = format!("rename: {DENIED}");
        f.expect(
            &g,
            "rename rw/f -> out/f2",
            &j(&["fs", "rename", &format!("{rw}/f"), &format!("{out}/f2")]),
            1,
            &rno,
        );
        f.expect(
            &g,
            "rename out/f -> rw/f3",
            &j(&["fs", "rename", &format!("{out}/f"), &format!("{rw}/f3")]),
            1,
            &rno,
        );
        f.expect(
            &g,
            "rename rw/f -> ro/f4",
            &j(&["fs", "rename", &format!("{rw}/f"), &format!("{ro}/f4")]),
            1,
            &rno,
        );
        f.check(
            t.rw.join("f").exists()
                && t.out.join("f").exists()
                && !t.out.join("f2").exists()
                && !t.rw.join("f3").exists(),
            || format!("[{}] a rename across the jail's border happened", g.name),
        );
    }
    f.finish();
}

#[test]
fn exec_needs_an_exec_rule() {
    let mut f = Failures::default();
    for g in common::guests() {
        let t = Tree::new(&format!("exec-{}", g.name));
        let bin = t.tmp.mkdir("bin");
        let name = format!("prog-{}", g.name);
        for d in [&t.rw, &bin] {
            fs::copy(&g.path, d.join(&name)).expect("copy guest");
        }
        let in_rw = s(&t.rw.join(&name));
        let in_bin = s(&bin.join(&name));
        let mut flags = t.flags();
        flags.extend(["--exec".into(), bin.clone().into_os_string()]);
        let r = jail(&g, &flags, &["fs", "exec", &in_rw, "hello"], WATCHDOG);
        f.expect(
            &g,
            "exec from rw (no exec rule)",
            &r,
            1,
            &format!("exec: {DENIED}"),
        );
        let r = jail(&g, &flags, &["fs", "exec", &in_bin, "hello"], WATCHDOG);
        f.expect(&g, "exec from --exec dir", &r, 0, "hello");
        let r = jail(
            &g,
            &flags,
            &["fs", "exec", &s(&t.out.join("f")), "x"],
            WATCHDOG,
        );
        f.expect(&g, "exec outside", &r, 1, &format!("exec: {DENIED}"));
        // The program named on ujail's command line may always run.
        let r = jail(&g, &t.flags(), &["hello"], WATCHDOG);
        f.expect(&g, "the jailed program itself", &r, 0, "hello");
    }
    f.finish();
}

// ---------------------------------------------------------------------------
// policy files, check, audit
// ---------------------------------------------------------------------------

/// A policy file equivalent to [`Tree::flags`].
fn policy_for(t: &Tree) -> PathBuf {
    let text = format!(
        "# test policy\nsystem_ro = true\n\n[paths]\n{:?} = \"rw\"\n{:?} = \"ro\"\n{:?} = \"hide\"\n",
        s(&t.rw),
        s(&t.ro),
        s(&t.hid)
    );
    t.tmp.file("policy.toml", text.trim_end())
}

#[test]
fn check_prints_the_grants_of_a_policy_file() {
    let t = Tree::new("check");
    let policy = policy_for(&t);
    let mut cmd = Command::new(common::ujail_bin());
    cmd.arg("check").arg(&policy);
    let r = Run::from(&common::run_with_timeout(&mut cmd, WATCHDOG));
    assert_eq!(r.code, Some(0), "ujail check {}: {r:?}", policy.display());
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(format!("{}: ok", policy.display()).as_str()),
        "{r:?}"
    );
    for (access, p) in [("rw", &t.rw), ("ro", &t.ro), ("hide", &t.hid)] {
        let want = format!("{access:<5} {}", p.display());
        assert!(
            lines.contains(&want.as_str()),
            "ujail check: no line {want:?} in {:?}",
            r.stdout
        );
    }
    // system_ro = true brings the profile in (the loader's directories).
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("exec ") && l.ends_with("/lib")),
        "no system-ro lines: {:?}",
        r.stdout
    );
    assert!(
        !lines.iter().any(|l| l.contains(&s(&t.out))),
        "out/ must not be granted: {:?}",
        r.stdout
    );
}

#[test]
fn policy_file_is_equivalent_to_the_flags() {
    let mut f = Failures::default();
    for g in common::guests() {
        let t = Tree::new(&format!("pol-{}", g.name));
        let policy = policy_for(&t);
        let (rw, ro, hid, out) = (s(&t.rw), s(&t.ro), s(&t.hid), s(&t.out));
        let ops: Vec<Vec<String>> = vec![
            vec!["read".into(), format!("{rw}/f")],
            vec!["write".into(), format!("{rw}/n"), "x".into()],
            vec!["read".into(), format!("{ro}/f")],
            vec!["write".into(), format!("{ro}/f"), "x".into()],
            vec!["read".into(), format!("{hid}/f")],
            vec!["read".into(), format!("{out}/f")],
            vec!["stat".into(), s(t.tmp.path())],
            vec!["read".into(), format!("{rw}/../out/f")],
            vec!["unlink".into(), format!("{rw}/n")],
        ];
        let pol_args: Vec<OsString> =
            vec!["run".into(), "--policy".into(), policy.into_os_string()];
        for op in &ops {
            let mut args = vec!["fs"];
            args.extend(op.iter().map(String::as_str));
            // Both runs start from the same tree: rw/n exists.
            t.tmp.file("rw/n", "n");
            let by_flags = jail(&g, &t.flags(), &args, WATCHDOG);
            t.tmp.file("rw/n", "n");
            let by_file = jail(&g, &pol_args, &args, WATCHDOG);
            f.check(
                by_flags.code == by_file.code && by_flags.stdout == by_file.stdout,
                || {
                    format!(
                        "[{}] fs {}: flags gave {by_flags:?}, --policy gave {by_file:?}",
                        g.name,
                        op.join(" ")
                    )
                },
            );
        }
        // And the file's rules really apply.
        let r = jail(
            &g,
            &pol_args,
            &["fs", "read", &format!("{out}/f")],
            WATCHDOG,
        );
        f.expect(
            &g,
            "--policy: read out/f",
            &r,
            1,
            &format!("read: {DENIED}"),
        );
    }
    f.finish();
}

#[test]
fn audit_allows_and_logs_would_deny() {
    let mut f = Failures::default();
    for g in common::guests() {
        let t = Tree::new(&format!("audit-{}", g.name));
        let out = s(&t.out);
        let mut flags = t.flags();
        flags.push("--audit".into());
        let r = jail(&g, &flags, &["fs", "read", &format!("{out}/f")], WATCHDOG);
        f.expect(&g, "--audit read out/f", &r, 0, "secret content");
        f.check(
            r.stderr.contains("would deny") && r.stderr.contains(&format!("{out}/f")),
            || {
                format!(
                    "[{}] --audit: no \"would deny\" line for out/f in {:?}",
                    g.name, r.stderr
                )
            },
        );
        let r = jail(
            &g,
            &flags,
            &["fs", "read", &format!("{}/f", s(&t.rw))],
            WATCHDOG,
        );
        f.expect(&g, "--audit read rw/f", &r, 0, "rw content");
        // Nothing that enforcing would allow is reported (the allowed read,
        // and the calls whose checked copy needs the scratch area).
        let rwf = format!("{}/f", s(&t.rw));
        f.check(
            !r.stderr
                .lines()
                .any(|l| l.contains("would deny") && (l.contains(&rwf) || l.contains("scratch"))),
            || {
                format!(
                    "[{}] --audit logged an allowed call as \"would deny\": {:?}",
                    g.name, r.stderr
                )
            },
        );
        // A policy file's `audit = true` does the same.
        let policy = t.tmp.file(
            "audit.toml",
            &format!(
                "audit = true\nsystem_ro = true\n[paths]\n{:?} = \"rw\"",
                s(&t.rw)
            ),
        );
        let args: Vec<OsString> = vec!["run".into(), "--policy".into(), policy.into_os_string()];
        let r = jail(&g, &args, &["fs", "read", &format!("{out}/f")], WATCHDOG);
        f.expect(&g, "audit = true read out/f", &r, 0, "secret content");
        f.check(r.stderr.contains("would deny"), || {
            format!(
                "[{}] audit = true: no \"would deny\" in {:?}",
                g.name, r.stderr
            )
        });
    }
    f.finish();
}

#[test]
fn bad_policy_files_fail_with_file_and_line() {
    let tmp = TempDir::new("badpol");
    let g = common::guests().remove(0);
    let cases = [
        (
            "unknown-key.toml",
            "system_ro = true\n[paths]\n\"/srv\" = \"ro\"\nbogus_key = \"x\"\n",
            4,
        ),
        (
            "bad-access.toml",
            "[paths]\n\"/srv\" = \"ro\"\n\"/srv/www\" = \"rwx\"\n",
            3,
        ),
        ("relative.toml", "\n[paths]\n\"srv/www\" = \"rw\"\n", 3),
        ("bad-section.toml", "[pathz]\n\"/srv\" = \"ro\"\n", 1),
        ("syntax.toml", "system_ro = true\n[paths\n", 2),
    ];
    let mut f = Failures::default();
    for (name, text, line) in cases {
        let p = tmp.path().join(name);
        fs::write(&p, text).expect("write policy");
        let want = format!("{}:{line}", p.display());
        let mut check = Command::new(common::ujail_bin());
        check.arg("check").arg(&p);
        let mut run = Command::new(common::ujail_bin());
        run.args(["run", "--policy"])
            .arg(&p)
            .arg("--")
            .arg(&g.path)
            .arg("hello");
        for (what, cmd) in [("check", &mut check), ("run --policy", &mut run)] {
            let r = Run::from(&common::run_with_timeout(cmd, WATCHDOG));
            let lines: Vec<&str> = r.stderr.lines().collect();
            f.check(
                r.code == Some(125)
                    && r.stdout.is_empty()
                    && lines.len() == 1
                    && lines[0].starts_with("ujail: ")
                    && lines[0].contains(&want),
                || format!("ujail {what} {name}: expected exit 125 and one stderr line naming {want:?}, saw {r:?}"),
            );
        }
    }
    f.finish();
}

// ---------------------------------------------------------------------------
// default denials
// ---------------------------------------------------------------------------

/// `raw` with the call's number in the guest's ABI.
fn raw(g: &Guest, ujail_args: &[OsString], name: &str, args: &[&str]) -> Run {
    let n = nr(g, name);
    let mut a = vec!["raw", n.as_str()];
    a.extend_from_slice(args);
    jail(g, ujail_args, &a, WATCHDOG)
}

/// The default denials, with and without path rules.
#[test]
fn dangerous_calls_are_denied_by_default() {
    let mut f = Failures::default();
    for g in common::guests() {
        let t = Tree::new(&format!("deny-{}", g.name));
        let plain: Vec<OsString> = vec!["run".into()];
        for (mode, ujail_args) in [
            ("no path rule", plain.clone()),
            ("with path rules", t.flags()),
        ] {
            let what = |s: &str| format!("{mode}: {s}");
            // name, args, expected line, whether a "denied" log line names it
            let cases: &[(&str, &[&str], &str, bool)] = &[
                ("ptrace", &["16", "ppid", "0", "0"], "errno EPERM", true),
                ("ptrace", &["16", "1", "0", "0"], "errno EPERM", true),
                ("io_uring_setup", &["1", "buf"], "errno EPERM", true),
                ("kill", &["ppid", "0"], "errno EPERM", true),
                ("kill", &["pid", "0"], "ret 0", false),
                ("kill", &["-1", "0"], "errno EPERM", true),
                ("unshare", &["0x10000000"], "errno EPERM", true),
                ("personality", &["3"], "errno EPERM", true),
                ("bpf", &["0", "buf", "0"], "errno EPERM", true),
                (
                    "perf_event_open",
                    &["buf", "0", "-1", "-1", "0"],
                    "errno EPERM",
                    true,
                ),
                ("userfaultfd", &["0"], "errno EPERM", true),
                // kill(0) signals the caller's process group: ujail's too.
                ("kill", &["0", "0"], "errno EPERM", true),
                // Limits, priorities, affinity and signal owners of
                // processes outside the jail; the caller's own are fine.
                ("prlimit64", &["ppid", "7", "buf", "0"], "errno EPERM", true),
                ("prlimit64", &["0", "7", "0", "buf"], "ret 0", false),
                ("setpriority", &["2", "0", "5"], "errno EPERM", true),
                (
                    "sched_setaffinity",
                    &["ppid", "8", "buf"],
                    "errno EPERM",
                    true,
                ),
                ("fcntl", &["1", "8", "ppid"], "errno EPERM", true),
                // TIOCSTI types into the terminal: the user's shell reads it.
                ("ioctl", &["0", "0x5412", "buf"], "errno EPERM", true),
                // A seccomp user-notification listener could let calls the
                // seccomp engine must stop run (natively: EFAULT, no
                // filter at NULL); a filter without one only denies more.
                ("seccomp", &["1", "8", "0"], "errno EPERM", false),
                ("seccomp", &["1", "0", "0"], "errno EFAULT", false),
            ];
            for &(name, args, want, logged) in cases {
                let r = raw(&g, &ujail_args, name, args);
                let label = what(&format!("{name}({})", args.join(", ")));
                f.expect(&g, &label, &r, 0, want);
                f.check(
                    !logged || (r.stderr.contains("denied") && r.stderr.contains(name)),
                    || format!("[{}] {label}: no denial log line in {:?}", g.name, r.stderr),
                );
            }
            // The personality query is fine.
            let r = raw(&g, &ujail_args, "personality", &["0xffffffff"]);
            f.check(r.code == Some(0) && r.line().starts_with("ret "), || {
                format!("[{}] {}: {r:?}", g.name, what("personality(0xffffffff)"))
            });
        }
        // --allow-syscall lifts a default denial: whatever the kernel says,
        // the jail no longer refuses (no denial in the log).
        let args: Vec<OsString> = vec![
            "run".into(),
            "--allow-syscall".into(),
            "io_uring_setup".into(),
        ];
        let r = raw(&g, &args, "io_uring_setup", &["1", "buf"]);
        f.check(
            r.code == Some(0)
                && (r.line().starts_with("ret ") || r.line().starts_with("errno "))
                && !r.stderr.contains("denied"),
            || format!("[{}] --allow-syscall io_uring_setup: {r:?}", g.name),
        );
        let r = raw(&g, &plain, "io_uring_setup", &["1", "buf"]);
        f.check(
            r.stderr.contains("io_uring_setup") && r.stderr.contains("denied"),
            || format!("[{}] io_uring_setup without --allow-syscall: {r:?}", g.name),
        );
    }
    f.finish();
}

/// A magic link to an object without a path (`/proc/self/fd/0` on a pipe)
/// is followed as that link, never re-resolved as a relative name: with the
/// cwd in an ungranted directory that holds a file named `0`,
/// `openat(open("/proc/self/fd"), "0")` reads the pipe, not the file.
#[test]
fn magic_links_to_pipes_are_not_resolved_as_relative_names() {
    let mut f = Failures::default();
    for g in common::guests() {
        let t = Tree::new(&format!("anon-{}", g.name));
        let secret_dir = TempDir::new(&format!("anon-secret-{}", g.name));
        secret_dir.file("0", "secret content\n");
        let mut cmd = Command::new(common::ujail_bin());
        cmd.args(t.flags())
            .arg("--")
            .arg(&g.path)
            .args(["fs", "openat-read", "/proc/self/fd", "0"])
            .current_dir(secret_dir.path());
        let r = Run::from(&common::run_with_input(
            &mut cmd,
            WATCHDOG,
            Some(b"from the pipe\n"),
        ));
        f.expect(
            &g,
            "openat(/proc/self/fd, \"0\") with stdin a pipe",
            &r,
            0,
            "from the pipe",
        );
        f.check(!r.stdout.contains("secret"), || {
            format!("[{}] read the cwd's file: {r:?}", g.name)
        });
    }
    f.finish();
}

// ---------------------------------------------------------------------------
// time-of-check/time-of-use races
// ---------------------------------------------------------------------------

/// `leaked K allowed A failed F` → (K, A, F).
fn tally(r: &Run) -> Option<(u64, u64, u64)> {
    let w: Vec<&str> = r.line().split(' ').collect();
    match w.as_slice() {
        ["leaked", k, "allowed", a, "failed", f, "eloop", _] => {
            Some((k.parse().ok()?, a.parse().ok()?, f.parse().ok()?))
        }
        _ => None,
    }
}

/// Runs a race guest natively and under a plain `ujail run` (no path rule:
/// nothing is checked, nothing copied) and reports both tallies: the race
/// is winnable. Not asserted: it depends on scheduling (the figures are in
/// the test output with `--nocapture`). In the VM (TCG: every traced call
/// is slow) only the native run is made; the jailed runs, which are
/// asserted, are the same everywhere.
fn report_unprotected(g: &Guest, what: &str, args: &[&str]) {
    let native = bare(g, args, RACE_WATCHDOG);
    eprintln!("[{}] {what} natively: {}", g.name, native.line());
    if common::in_vm() {
        return;
    }
    let plain = jail(g, &["run"], args, RACE_WATCHDOG);
    eprintln!(
        "[{}] {what} under ujail run without path rules: {}",
        g.name,
        plain.line()
    );
}

/// The jailed tally must show no leak, some allowed opens (the test can
/// fail) and some refused ones (the flipping thread was seen by the check).
fn expect_no_leak(f: &mut Failures, g: &Guest, what: &str, run: impl Fn() -> Run) {
    // No run may leak. Some run must also show allowed and refused opens (so
    // the test can fail); one run may lack them under slow scheduling (TCG),
    // hence up to three runs.
    for attempt in 1..=3 {
        let r = run();
        eprintln!("[{}] {what} jailed (run {attempt}): {}", g.name, r.line());
        match tally(&r) {
            Some((0, a, fl)) if r.code == Some(0) => {
                if a > 0 && fl > 0 {
                    return;
                }
            }
            _ => {
                f.0.push(format!(
                    "[{}] {what} jailed: expected \"leaked 0 ...\", saw {r:?}",
                    g.name
                ));
                return;
            }
        }
    }
    f.0.push(format!(
        "[{}] {what} jailed: no run of three had both allowed and refused opens",
        g.name
    ));
}

/// A race tree: `rw/f` ("allowed") and `xx/f` ("secret"): paths of the
/// same length that differ in two bytes.
fn race_tree(tag: &str) -> (TempDir, PathBuf) {
    let tmp = TempDir::new(tag);
    let rw = tmp.mkdir("rw");
    tmp.mkdir("xx");
    tmp.file("rw/f", "allowed");
    tmp.file("xx/f", "secret");
    (tmp, rw)
}

#[test]
fn race_mem_never_leaks() {
    let _race = one_race_at_a_time();
    let mut f = Failures::default();
    for g in common::guests() {
        let (tmp, rw) = race_tree(&format!("rmem-{}", g.name));
        let allowed = s(&rw.join("f"));
        let secret = s(&tmp.path().join("xx/f"));
        assert_eq!(allowed.len(), secret.len());
        let n = RACE_MEM_N.to_string();
        let args = ["race-mem", allowed.as_str(), secret.as_str(), n.as_str()];

        report_unprotected(&g, &format!("race-mem {n}"), &args);
        let flags: Vec<OsString> = vec![
            "run".into(),
            "--system-ro".into(),
            "--rw".into(),
            rw.clone().into(),
        ];
        expect_no_leak(&mut f, &g, &format!("race-mem {n}"), || {
            jail(&g, &flags, &args, RACE_WATCHDOG)
        });
    }
    f.finish();
}

#[test]
fn race_dir_never_leaks() {
    race_dir("open");
}

/// The symlink swap against calls that are not opens: anchored paths.
#[test]
fn race_dir_stat_never_leaks() {
    race_dir("stat");
}

#[test]
fn race_dir_lstat_never_leaks() {
    race_dir("lstat");
}

/// A write that follows the final symlink: `chmod` must never reach the
/// file outside, whose mode the test checks afterwards too.
#[test]
fn race_dir_chmod_never_leaks() {
    race_dir("chmod");
}

/// `fchmod` on an fd number that a sibling thread `dup2`s between a file
/// of the `rw` tree and one of the `ro` tree: the read-only file's mode
/// never changes.
#[test]
fn race_fd_never_leaks() {
    race_fd("fchmod");
}

/// `futimens` is `utimensat(fd, NULL, ...)`: a call on its dirfd's object.
#[test]
fn race_fd_futimens_never_leaks() {
    race_fd("futimens");
}

fn race_fd(call: &str) {
    let _race = one_race_at_a_time();
    let mut f = Failures::default();
    for g in common::guests() {
        let tmp = TempDir::new(&format!("rfd-{call}-{}", g.name));
        let rw = tmp.mkdir("rw");
        let ro = tmp.mkdir("ro");
        tmp.file("rw/f", "allowed");
        tmp.file("ro/f", "read-only");
        let ro_file = ro.join("f");
        let reset = || {
            fs::set_permissions(&ro_file, fs::Permissions::from_mode(0o644)).expect("chmod ro/f");
        };
        let n = race_anchor_n().to_string();
        let args =
            ["race-fd", &s(&rw.join("f")), &s(&ro_file), n.as_str(), call].map(str::to_owned);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        reset();
        report_unprotected(&g, &format!("race-fd {n} {call}"), &args);
        reset();
        let flags: Vec<OsString> = vec![
            "run".into(),
            "--system-ro".into(),
            "--rw".into(),
            rw.clone().into(),
            "--ro".into(),
            ro.clone().into(),
        ];
        let mtime = fs::metadata(&ro_file).and_then(|m| m.modified()).ok();
        expect_no_leak(&mut f, &g, &format!("race-fd {n} {call}"), || {
            jail(&g, &flags, &args, RACE_WATCHDOG)
        });
        let mode = fs::metadata(&ro_file).map(|m| format!("{:o}", m.permissions().mode() & 0o7777));
        f.check(mode.as_deref().is_ok_and(|m| m == "644"), || {
            format!(
                "[{}] race-fd {call}: the read-only file is now {mode:?}",
                g.name
            )
        });
        let now = fs::metadata(&ro_file).and_then(|m| m.modified()).ok();
        f.check(now == mtime, || {
            format!(
                "[{}] race-fd {call}: the read-only file's mtime changed",
                g.name
            )
        });
    }
    f.finish();
}

fn race_dir(call: &str) {
    let _race = one_race_at_a_time();
    let mut f = Failures::default();
    for g in common::guests() {
        let tmp = TempDir::new(&format!("rdir-{call}-{}", g.name));
        let rw = tmp.mkdir("rw");
        let outside = tmp.mkdir("xx");
        tmp.file("xx/f", "secret");
        tmp.mkdir("rw/realsub");
        tmp.file("rw/realsub/f", "allowed");
        symlink(&outside, rw.join("linksub")).expect("symlink");
        let secret = tmp.path().join("xx/f");
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644))
            .expect("chmod xx/f");
        let n = if call == "open" {
            RACE_DIR_N
        } else {
            race_anchor_n()
        }
        .to_string();
        let args = ["race-dir", &s(&rw), n.as_str(), call].map(str::to_owned);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();

        report_unprotected(&g, &format!("race-dir {n} {call}"), &args);
        // The unprotected runs may have changed it.
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644))
            .expect("chmod xx/f");
        let flags: Vec<OsString> = vec![
            "run".into(),
            "--system-ro".into(),
            "--rw".into(),
            rw.clone().into(),
        ];
        expect_no_leak(&mut f, &g, &format!("race-dir {n} {call}"), || {
            jail(&g, &flags, &args, RACE_WATCHDOG)
        });
        f.check(
            rw.join("realsub/f").exists() && rw.join("linksub").is_symlink(),
            || format!("[{}] race-dir {call} left the tree changed", g.name),
        );
        let mode = std::fs::metadata(&secret).map(|m| m.permissions().mode() & 0o7777);
        f.check(mode.as_ref().is_ok_and(|&m| m == 0o644), || {
            let mode = mode.as_ref().map(|m| format!("{m:o}"));
            format!(
                "[{}] race-dir {call}: the file outside is now {mode:?}",
                g.name
            )
        });
    }
    f.finish();
}

/// Under a path policy every thread's scratch area (where checked copies
/// live) is sealed on kernels that have mseal (Linux 6.10+): `sl` among its
/// VmFlags. Older kernels (the VM's 6.1) have no sealed mapping at all.
#[test]
fn scratch_area_is_sealed_where_the_kernel_can() {
    let release = fs::read_to_string("/proc/sys/kernel/osrelease").expect("osrelease");
    let mut v = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|x| x.parse::<u32>().ok());
    let version = (v.next().unwrap_or(0), v.next().unwrap_or(0));
    let mut cmd = Command::new(common::ujail_bin());
    cmd.args([
        "run",
        "--system-ro",
        "--",
        BUSYBOX,
        "grep",
        "-c",
        "^VmFlags:.* sl",
        "/proc/self/smaps",
    ]);
    let r = Run::from(&common::run_with_timeout(&mut cmd, WATCHDOG));
    let sealed: u32 = r.stdout.trim().parse().unwrap_or(u32::MAX);
    if version >= (6, 10) {
        assert!(
            sealed >= 1 && sealed != u32::MAX,
            "kernel {version:?}: no sealed mapping in the jailed process: {r:?}"
        );
    } else {
        assert_eq!(sealed, 0, "kernel {version:?} has no mseal, yet: {r:?}");
    }
}

/// An exec of a missing file in a granted directory fails as the kernel
/// fails it (ENOENT), not as a refusal: execvp's PATH search depends on it.
#[test]
fn exec_of_a_missing_file_is_enoent() {
    let mut f = Failures::default();
    for g in common::guests() {
        let flags: Vec<OsString> = vec!["run".into(), "--system-ro".into()];
        let r = jail(
            &g,
            &flags,
            &["fs", "exec", "/usr/bin/nonexistent-ujail-prog"],
            WATCHDOG,
        );
        f.expect(
            &g,
            "exec of a missing /usr/bin file",
            &r,
            1,
            &format!("exec: {ENOENT}"),
        );
        f.check(!r.stderr.contains("denied"), || {
            format!("[{}] a denial was logged: {r:?}", g.name)
        });
    }
    f.finish();
}

#[test]
fn a_path_cannot_forge_log_lines() {
    let dir = TempDir::new("forge");
    let granted = s(&dir.mkdir("granted"));
    let name = "x\nujail: denied: pid 1 (forged) openat y (Read): EACCES";
    let file = dir.file(name, "secret");
    let path = s(&file);
    let mut f = Failures::default();
    for g in common::guests() {
        let r = jail(
            &g,
            &["run", "--system-ro", "--ro", granted.as_str()],
            &["fs", "read", path.as_str()],
            WATCHDOG,
        );
        // One denial line, holding the escaped path; nothing starts a
        // line of its own with the forged text.
        let lines: Vec<&str> = r.stderr.lines().filter(|l| l.contains("forged")).collect();
        f.check(
            lines.len() == 1
                && lines[0].starts_with("ujail: denied: pid ")
                && lines[0].contains("/x\\nujail: denied: pid 1 (forged)"),
            || format!("{}: {:?}", g.name, r.stderr),
        );
    }
    f.finish();
}

/// A unix path socket server at `path` answering one line with `pong`.
fn unix_server_at(path: &Path) {
    let l = std::os::unix::net::UnixListener::bind(path).expect("bind unix");
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut b = [0u8; 256];
                let _ = c.read(&mut b);
                let _ = c.write_all(b"pong\n");
            });
        }
    });
}

/// Unix path sockets are judged by the path rules like files: a socket in
/// a granted tree connects (through its anchored path), one outside or
/// behind a symlink to outside is refused.
#[test]
fn unix_path_sockets_follow_the_path_rules() {
    let mut f = Failures::default();
    for g in common::guests() {
        let tmp = TempDir::new(&format!("unix-{}", g.name));
        let rw = tmp.mkdir("rw");
        let xx = tmp.mkdir("xx");
        unix_server_at(&rw.join("s"));
        unix_server_at(&xx.join("s"));
        symlink(xx.join("s"), rw.join("l")).expect("symlink");
        let flags: Vec<OsString> = vec![
            "run".into(),
            "--system-ro".into(),
            "--rw".into(),
            rw.clone().into(),
        ];
        let cases = [
            (s(&rw.join("s")), "reply pong"),
            (s(&xx.join("s")), "connect: EACCES"),
            (s(&rw.join("l")), "connect: EACCES"),
        ];
        for (path, want) in cases {
            let r = jail(&g, &flags, &["net", "unix", &path], WATCHDOG);
            f.check(r.line() == want, || {
                format!("[{}] net unix {path}: expected {want:?}, saw {r:?}", g.name)
            });
        }
    }
    f.finish();
}

/// Anchored paths (`/proc/<fd mirror>/fd/N`) must work for a jailed
/// program without privilege: run as root, the test runs ujail as `nobody`
/// (uid and gid 65534, no supplementary groups); ujail stays non-dumpable,
/// its fd mirror is what the program follows.
#[test]
fn anchored_calls_work_without_privilege() {
    use std::os::unix::process::CommandExt;
    let root = running_as_root();
    let mut f = Failures::default();
    for g in common::guests() {
        let tmp = TempDir::new(&format!("unpriv-{}", g.name));
        let rw = tmp.mkdir("rw");
        let ro = tmp.mkdir("ro");
        tmp.file("rw/f", "x");
        tmp.file("ro/f", "x");
        for p in [tmp.path(), rw.as_path(), ro.as_path()] {
            fs::set_permissions(p, fs::Permissions::from_mode(0o777)).expect("chmod dir");
        }
        for p in [rw.join("f"), ro.join("f")] {
            fs::set_permissions(&p, fs::Permissions::from_mode(0o666)).expect("chmod file");
        }
        if root {
            std::os::unix::fs::chown(rw.join("f"), Some(65534), Some(65534)).expect("chown");
        }
        let run = |args: &[&str]| -> Run {
            let mut cmd = Command::new(common::ujail_bin());
            cmd.args(["run", "--system-ro", "--ro"])
                .arg(tmp.path())
                .arg("--rw")
                .arg(&rw)
                .arg("--")
                .arg(&g.path)
                .args(args)
                .env_remove("LD_LIBRARY_PATH");
            if root {
                cmd.uid(65534).gid(65534);
            }
            Run::from(&common::run_with_timeout(&mut cmd, WATCHDOG))
        };
        let (f_rw, f_ro) = (s(&rw.join("f")), s(&ro.join("f")));
        let (d, d2) = (s(&rw.join("d")), s(&rw.join("e")));
        let cases: [(&[&str], &str); 7] = [
            (&["fs", "stat", &f_rw], "stat ok file"),
            (&["fs", "lstat", &f_ro], "lstat ok file"),
            (&["fs", "chmod", &f_rw, "600"], "chmod ok"),
            (&["fs", "mkdir", &d], "mkdir ok"),
            (&["fs", "rename", &d, &d2], "rename ok"),
            (&["fs", "rmdir", &d2], "rmdir ok"),
            (
                &["fs", "chmod", &f_ro, "600"],
                "chmod: Operation not permitted",
            ),
        ];
        for (args, want) in cases {
            let r = run(args);
            f.check(r.line() == want, || {
                format!(
                    "[{}] {args:?} (root: {root}): expected {want:?}, saw {r:?}",
                    g.name
                )
            });
        }
        let mode = fs::metadata(rw.join("f")).map(|m| m.permissions().mode() & 0o777);
        f.check(mode.as_ref().is_ok_and(|&m| m == 0o600), || {
            format!("[{}] rw/f mode after chmod: {mode:?}", g.name)
        });
    }
    f.finish();
}

/// A root-run jail reads each thread's credentials once (may it follow the
/// fd mirror's links?) and again after a call that may change them. A
/// program that stats a file, drops to `nobody` (no capabilities left) and
/// stats it again gets an answer both times: anchored first, then the
/// plain checked path. A jail that kept the first reading would hand the
/// second stat a link `nobody` may not follow (EACCES). Run without root,
/// the program cannot drop and says so. A program that keeps uid 0 but
/// drops its capabilities must still be able to follow the links.
#[test]
fn a_program_that_drops_root_is_seen_to() {
    let root = running_as_root();
    let mut f = Failures::default();
    for g in common::guests() {
        let tmp = TempDir::new(&format!("drop-{}", g.name));
        let rw = tmp.mkdir("rw");
        let file = tmp.file("rw/f", "x");
        let flags: Vec<OsString> = vec![
            "run".into(),
            "--system-ro".into(),
            "--rw".into(),
            rw.clone().into(),
        ];
        let r = jail(
            &g,
            &flags,
            &["fs", "drop-stat", "65534", &s(&file)],
            WATCHDOG,
        );
        let want = if root {
            "drop-stat ok file file"
        } else {
            "drop-stat: Operation not permitted"
        };
        f.check(r.line() == want, || {
            format!(
                "[{}] drop-stat (root: {root}): expected {want:?}, saw {r:?}",
                g.name
            )
        });
        // Root without capabilities (uid 0 kept): the fd mirror holds none
        // either, so its links stay open to the program.
        let r = jail(&g, &flags, &["fs", "capdrop-stat", &s(&file)], WATCHDOG);
        f.check(r.line() == "capdrop-stat ok file file", || {
            format!("[{}] capdrop-stat (root: {root}): saw {r:?}", g.name)
        });
    }
    f.finish();
}

/// The fd mirror's pid is in the program's checked copies (its anchored
/// paths), but its `/proc` entry stays hidden, even where `/proc` is
/// granted: it holds ujail's fds.
#[test]
fn the_fd_mirror_is_hidden() {
    let mut f = Failures::default();
    for g in common::guests() {
        let tmp = TempDir::new(&format!("mirror-{}", g.name));
        let rw = tmp.mkdir("rw");
        tmp.file("rw/f", "x");
        let flags: Vec<OsString> = vec![
            "run".into(),
            "--system-ro".into(),
            "--ro".into(),
            "/proc".into(),
            "--rw".into(),
            rw.clone().into(),
        ];
        let r = jail(&g, &flags, &["fs", "mirror", &s(&rw.join("f"))], WATCHDOG);
        f.check(r.line() == "mirror fd/0: No such file or directory", || {
            format!(
                "[{}] fs mirror: expected the mirror hidden, saw {r:?}",
                g.name
            )
        });
    }
    f.finish();
}

/// An i386 program without `PT_GNU_STACK` runs with `READ_IMPLIES_EXEC`:
/// its scratch area (where checked paths are placed) is mapped
/// read+execute, not read-only. That is still an area the program cannot
/// write, and its path calls must be judged as anyone's, not refused for
/// want of a scratch area (they were: ENOMEM).
#[test]
fn a_legacy_i386_program_gets_its_path_calls_judged() {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = TempDir::new("legacy");
    let bin = tmp.mkdir("bin");
    let ok = tmp.file("ok", "x");
    let no = tmp.file("no", "x");
    let mut f = Failures::default();
    for (target, want) in [(&ok, 0), (&no, libc_eacces())] {
        let prog = bin.join(format!("access-{want}"));
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o755)
            .open(&prog)
            .expect("create prog");
        std::io::Write::write_all(&mut file, &common::elf32_access(&s(target)))
            .expect("write prog");
        drop(file);
        let mut cmd = Command::new(common::ujail_bin());
        cmd.args(["run", "--exec"])
            .arg(&bin)
            .arg("--ro")
            .arg(&ok)
            .arg("--")
            .arg(&prog);
        let r = Run::from(&common::run_with_timeout(&mut cmd, WATCHDOG));
        f.check(r.code == Some(want), || {
            format!(
                "access {}: expected exit {want}, saw {r:?}",
                target.display()
            )
        });
    }
    f.finish();
}

/// True when the tests run as root (`/proc/self` is owned by uid 0).
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// EACCES, the errno (and exit status) of a denied access(2).
fn libc_eacces() -> i32 {
    13
}

/// An exec of a descriptor (`execveat(fd, "", AT_EMPTY_PATH)`) runs what
/// the descriptor holds: judged as its file (exec rights), pinned through
/// ujail's copy of the descriptor, `#!` line included (the interpreter is
/// the i386 busybox, which the i686 build can trace too).
#[test]
fn execs_of_descriptors_are_judged_and_run() {
    use std::os::unix::fs::OpenOptionsExt;
    let write = |path: &Path, bytes: &[u8]| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o755)
            .open(path)
            .expect("create program");
        std::io::Write::write_all(&mut f, bytes).expect("write program");
    };
    let mut f = Failures::default();
    for g in common::guests() {
        let tmp = TempDir::new(&format!("fexec-{}", g.name));
        let bin = tmp.mkdir("bin");
        let ro = tmp.mkdir("ro");
        write(&bin.join("prog"), &common::elf32_exit(3, 42));
        write(&bin.join("script"), b"#!/bin/busybox sh\nexit 7\n");
        write(&ro.join("prog"), &common::elf32_exit(3, 42));
        let flags: Vec<OsString> = vec![
            "run".into(),
            "--system-ro".into(),
            "--exec".into(),
            bin.clone().into(),
            "--ro".into(),
            ro.clone().into(),
        ];
        let cases = [
            (bin.join("prog"), 42, ""),
            (bin.join("script"), 7, ""),
            (ro.join("prog"), 1, "fexec: Permission denied"),
        ];
        for (prog, code, line) in cases {
            let r = jail(&g, &flags, &["fs", "fexec", &s(&prog)], WATCHDOG);
            f.check(r.code == Some(code) && r.line() == line, || {
                format!(
                    "[{}] fexec {}: expected exit {code} and {line:?}, saw {r:?}",
                    g.name,
                    prog.display()
                )
            });
        }
    }
    f.finish();
}

/// Exec of `DIR/sub/prog` while another process (not jailed) keeps
/// exchanging `DIR/sub`, a directory in the tree the policy lets programs
/// run from, with a symlink to a directory outside it holding another
/// `prog`. The
/// kernel walks the exec path again after the check, so a swap can make it
/// run the other program; ujail pins the checked one and kills any exec
/// that ran something else before its first instruction. The programs are
/// tiny i386 ELF files that exit 0 (the checked one) and 42.
#[test]
fn race_exec_never_runs_the_swapped_program() {
    use std::os::unix::fs::OpenOptionsExt;
    let _race = one_race_at_a_time();
    let n = if common::in_vm() { 200 } else { 1000 }.to_string();
    let write_prog = |path: &Path, code: u8| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o755)
            .open(path)
            .expect("create prog");
        std::io::Write::write_all(&mut f, &common::elf32_exit(3, code)).expect("write prog");
    };
    let mut f = Failures::default();
    for g in common::guests() {
        let tmp = TempDir::new(&format!("rexec-{}", g.name));
        let rw = tmp.mkdir("rw");
        let outside = tmp.mkdir("xx");
        tmp.mkdir("rw/realsub");
        let prog = rw.join("realsub/prog");
        write_prog(&prog, 0);
        write_prog(&outside.join("prog"), 42);
        symlink(&outside, rw.join("linksub")).expect("symlink");
        let stop = tmp.path().join("stop");
        let sub_prog = s(&rw.join("sub/prog"));
        let args = ["race-exec", sub_prog.as_str(), n.as_str()];
        // Rule paths are resolved when the policy is loaded: the granted
        // directory is rw itself, never the name that flips.
        let flags: Vec<OsString> = vec![
            "run".into(),
            "--system-ro".into(),
            "--exec".into(),
            rw.clone().into(),
        ];
        let mut flip_cmd = g.command(&["race-flip", &s(&rw), &s(&stop)]);
        // Only a safety net: the stop file ends it.
        let flipper =
            std::thread::spawn(move || common::run_with_timeout(&mut flip_cmd, 5 * RACE_WATCHDOG));
        let started = std::time::Instant::now();
        while !rw.join("sub").exists() && started.elapsed().as_secs() < WATCHDOG {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let native = bare(&g, &args, RACE_WATCHDOG);
        eprintln!("[{}] race-exec {n} natively: {}", g.name, native.line());
        expect_no_leak(&mut f, &g, &format!("race-exec {n}"), || {
            jail(&g, &flags, &args, RACE_WATCHDOG)
        });
        fs::write(&stop, "").expect("write stop");
        let out = Run::from(&flipper.join().expect("race-flip thread"));
        f.check(
            out.line().starts_with("flips ") && out.line() != "flips 0",
            || format!("[{}] race-flip: {out:?}", g.name),
        );
        f.check(prog.exists() && rw.join("linksub").is_symlink(), || {
            format!("[{}] race-flip left the tree changed", g.name)
        });
    }
    f.finish();
}

/// Reopening `/proc/self/fd/K` for writing while a sibling thread `dup2`s
/// a pipe and a read-only file's fd over K: the file is never reopened for
/// writing (the open goes through ujail's copy of the fd, judged).
#[test]
fn race_reopen_never_leaks() {
    let _race = one_race_at_a_time();
    let mut f = Failures::default();
    for g in common::guests() {
        let tmp = TempDir::new(&format!("rreopen-{}", g.name));
        let ro = tmp.mkdir("ro");
        let rw = tmp.mkdir("rw");
        tmp.file("ro/f", "read-only");
        let n = race_anchor_n().to_string();
        let file = s(&ro.join("f"));
        let args = ["race-reopen", file.as_str(), n.as_str()];
        report_unprotected(&g, &format!("race-reopen {n}"), &args);
        let flags: Vec<OsString> = vec![
            "run".into(),
            "--system-ro".into(),
            "--ro".into(),
            ro.clone().into(),
            "--rw".into(),
            rw.clone().into(),
        ];
        expect_no_leak(&mut f, &g, &format!("race-reopen {n}"), || {
            jail(&g, &flags, &args, RACE_WATCHDOG)
        });
        let text = fs::read_to_string(ro.join("f")).unwrap_or_default();
        f.check(text.trim_end() == "read-only", || {
            format!("[{}] race-reopen: ro/f now holds {text:?}", g.name)
        });
    }
    f.finish();
}

/// `chmod("/proc/self/fd/N")` where N is an O_PATH fd of a symlink in the
/// rw tree: the kernel acts on the symlink itself, never on its target
/// outside the granted trees.
#[test]
fn magic_links_to_symlinks_are_not_followed() {
    let mut f = Failures::default();
    for g in common::guests() {
        let tmp = TempDir::new(&format!("opath-{}", g.name));
        let rw = tmp.mkdir("rw");
        tmp.mkdir("xx");
        let secret = tmp.file("xx/f", "secret");
        fs::set_permissions(&secret, fs::Permissions::from_mode(0o644)).expect("chmod");
        symlink(&secret, rw.join("l")).expect("symlink");
        let flags: Vec<OsString> = vec![
            "run".into(),
            "--system-ro".into(),
            "--rw".into(),
            rw.clone().into(),
        ];
        let r = jail(
            &g,
            &flags,
            &["fs", "opath-chmod", &s(&rw.join("l")), "777"],
            WATCHDOG,
        );
        let mode = fs::metadata(&secret).map(|m| m.permissions().mode() & 0o7777);
        f.check(mode.as_ref().is_ok_and(|&m| m == 0o644), || {
            format!(
                "[{}] opath-chmod reached the target: mode {mode:?}, run {r:?}",
                g.name
            )
        });
    }
    f.finish();
}

/// A descriptor of a process outside the jail (`/proc/<pid>/fd/0`, its
/// stdin pipe) is refused, whatever object it is.
#[test]
fn outside_processes_descriptors_are_refused() {
    let mut sleeper = Command::new(BUSYBOX)
        .args(["sleep", "60"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("busybox sleep");
    if let Some(stdin) = sleeper.stdin.as_mut() {
        use std::io::Write;
        let _ = stdin.write_all(b"outside\n");
    }
    let link = format!("/proc/{}/fd/0", sleeper.id());
    let mut f = Failures::default();
    for g in common::guests() {
        let r = jail(
            &g,
            &["run", "--system-ro"],
            &["fs", "read", &link],
            WATCHDOG,
        );
        f.check(r.line() == "read: Permission denied", || {
            format!("[{}] fs read {link}: expected a refusal, saw {r:?}", g.name)
        });
    }
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    f.finish();
}
