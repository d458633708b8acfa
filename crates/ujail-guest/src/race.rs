// SPDX-License-Identifier: GPL-3.0-or-later
//! The time-of-check/time-of-use race helpers of the path-policy tests.
//!
//! * `race-mem ALLOWED SECRET N`: the opening thread passes one shared
//!   buffer to open(2) N times while a second thread keeps storing ALLOWED
//!   and SECRET into it. A jail that checks the path and then lets the
//!   kernel read the tracee's buffer again can be fooled.
//! * `race-dir DIR N [CALL]`: the racing thread opens `DIR/sub/f` N times
//!   while a second thread keeps exchanging (`renameat2(RENAME_EXCHANGE)`)
//!   `DIR/sub` (first `DIR/realsub`, a directory) and `DIR/linksub` (a
//!   symlink, to a directory outside the jail). A jail that checks
//!   `DIR/sub/f` and lets the kernel walk it again can be fooled by one
//!   exchange in between. CALL
//!   (default `open`) makes it another call on `DIR/sub/f`: `stat`, `lstat`
//!   (a leak: the inode is not that of `DIR/realsub/f`), or `chmod` (modes
//!   0600 and 0640 in turn; a leak: the call succeeded but `DIR/realsub/f`,
//!   held open from the start, did not get the mode).
//!
//! * `race-fd RW RO N [CALL]`: the racing thread calls `fchmod` N times
//!   on one fd number (modes 0600 and 0640 in turn; CALL `futimens`: the
//!   times, a new value each call) while a second thread `dup2`s an
//!   fd of RW and an fd of RO over that number in turn. A jail that judges
//!   the fd's file and lets the kernel look the number up again can be
//!   fooled into changing RO (a leak: after a successful call RO has the
//!   mode, or the time).
//!
//! * `race-reopen RO N`: the racing thread opens `/proc/self/fd/K` for
//!   writing N times while a second thread `dup2`s a pipe and a read-only
//!   fd of RO over K in turn. A jail that judges what K is at the check (a
//!   pipe) and lets the kernel follow the link again reopens RO for writing
//!   (a leak).
//!
//! The second thread holds each state for a random time: none half the
//! time, else a busy loop of 2^0 to 2^20 steps (log-uniform). Flips then
//! land inside the jail's check at any machine speed (the host, or TCG),
//! and some states last longer than a whole traced call, so every run also
//! sees the allowed outcome. Without holds a traced flipper can keep pace
//! with the racing thread so that, under TCG, no call ever saw the allowed
//! state.
//!
//! * `race-exec PROG N`: execs PROG (in a forked child) N times; the
//!   checked program exits 0, the other one 42 (a leak). Meanwhile a
//!   separate, unjailed
//!   `race-flip DIR STOP` exchanges `DIR/sub` (first `DIR/realsub`) and
//!   `DIR/linksub` until the file STOP exists, then puts them back.
//!
//! All print `leaked K allowed A failed F eloop E`: K opens read content
//! other than the allowed file's (read once before the race starts), A read
//! the allowed file, F failed, E of them with ELOOP.
#![forbid(unsafe_code)]

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::fs::first_line;
use crate::{cstring, errmsg, say, sys, Fail, Res};

/// Counts of the opening thread.
#[derive(Default)]
struct Tally {
    leaked: u64,
    allowed: u64,
    failed: u64,
    /// Failures with ELOOP (counted in `failed` too): under the jail, a
    /// symlink swapped in after the check, refused by RESOLVE_NO_SYMLINKS.
    eloop: u64,
}

impl Tally {
    fn count(&mut self, got: std::io::Result<String>, want: &str) {
        match got {
            Ok(s) if s == want => self.allowed += 1,
            Ok(_) => self.leaked += 1,
            Err(e) => {
                self.failed += 1;
                if e.raw_os_error() == Some(libc::ELOOP) {
                    self.eloop += 1;
                }
            }
        }
    }

    fn report(&self) -> Res {
        say(&format!(
            "leaked {} allowed {} failed {} eloop {}",
            self.leaked, self.allowed, self.failed, self.eloop
        ))
    }
}

/// The first line of the file at `path` (before any race starts).
fn content(path: &CString, what: &str) -> Result<String, Fail> {
    let fd = sys::open(path, libc::O_RDONLY, 0)
        .map_err(|e| Fail::Status(1, format!("{what}: {}", errmsg(&e))))?;
    first_line(fd).map_err(|e| Fail::Status(1, format!("{what}: {}", errmsg(&e))))
}

/// The second thread of a race: calls `flip(k)` for k = 0..round, round
/// after round until stopped, holding each state a random time (module
/// doc).
struct Flipper {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Result<(), String>>,
}

/// A xorshift64 generator: the holds need no more (and no syscalls).
struct Holds(u64);

impl Holds {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// No hold half the time, else a busy loop of 2^0..=2^20 steps.
    fn hold(&mut self) {
        let r = self.next();
        if r & 1 == 0 {
            return;
        }
        let steps = 1u64 << ((r >> 1) % 21);
        let mut x = 0u64;
        for i in 0..steps {
            x = std::hint::black_box(x.wrapping_add(i));
        }
        std::hint::black_box(x);
    }
}

impl Flipper {
    /// Starts the thread; returns once it has made one round (a thread may
    /// take longer to start than the N calls take).
    fn start(
        round: u64,
        mut flip: impl FnMut(u64) -> Result<(), String> + Send + 'static,
    ) -> Flipper {
        let stop = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            let started = Arc::clone(&started);
            std::thread::spawn(move || -> Result<(), String> {
                let mut holds = Holds(0x9e37_79b9_7f4a_7c15);
                // Whole rounds only: the last one leaves things as found.
                while !stop.load(Ordering::Relaxed) {
                    for k in 0..round {
                        flip(k)?;
                        holds.hold();
                    }
                    started.store(true, Ordering::Relaxed);
                }
                Ok(())
            })
        };
        while !started.load(Ordering::Relaxed) && !thread.is_finished() {
            std::thread::yield_now();
        }
        Flipper { stop, thread }
    }

    /// Stops the thread; its error, if it had one.
    fn finish(self, what: &str) -> Res {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.join() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(msg)) => Err(Fail::Status(1, format!("{what}: {msg}"))),
            Err(_) => Err(Fail::Status(1, format!("{what}: flipper panicked"))),
        }
    }
}

/// `st_ino` of a stat buffer.
#[allow(clippy::useless_conversion)]
fn ino(st: &libc::stat) -> u64 {
    u64::from(st.st_ino)
}

/// `st_mtime` of a stat buffer.
#[allow(clippy::useless_conversion)]
fn mtime(st: &libc::stat) -> i64 {
    i64::from(st.st_mtime)
}

/// `race-mem ALLOWED SECRET N`.
pub fn mem(allowed: &OsString, secret: &OsString, n: u64) -> Res {
    let want = content(&cstring(allowed)?, "race-mem: read ALLOWED")?;
    let a = sys::race_words(allowed.as_bytes());
    let s = sys::race_words(secret.as_bytes());
    sys::race_store(&a);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicBool::new(false));
    let flipper = {
        let stop = Arc::clone(&stop);
        let started = Arc::clone(&started);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                sys::race_store(&s);
                std::hint::spin_loop();
                sys::race_store(&a);
                started.store(true, Ordering::Relaxed);
                std::hint::spin_loop();
            }
        })
    };
    while !started.load(Ordering::Relaxed) && !flipper.is_finished() {
        std::thread::yield_now();
    }
    let mut tally = Tally::default();
    for _ in 0..n {
        tally.count(sys::race_open().and_then(first_line), &want);
    }
    stop.store(true, Ordering::Relaxed);
    flipper
        .join()
        .map_err(|_| Fail::Status(1, "race-mem: flipper panicked".into()))?;
    tally.report()
}

/// `DIR/name` as a C string.
fn join(dir: &OsString, name: &str) -> Result<CString, Fail> {
    let mut p = dir.as_bytes().to_vec();
    p.push(b'/');
    p.extend_from_slice(name.as_bytes());
    CString::new(p).map_err(|_| Fail::Usage("DIR with a NUL byte".into()))
}

/// One call of `race-dir` on `path`: `Ok(true)` when it reached `file`
/// (the allowed file, open on `fd` with inode `file_ino`), `Ok(false)` when it
/// reached something else.
fn race_call(
    call: &str,
    path: &CString,
    fd: libc::c_int,
    file_ino: u64,
    i: u64,
    want: &str,
) -> std::io::Result<bool> {
    match call {
        "open" => {
            let got = sys::open(path, libc::O_RDONLY, 0).and_then(first_line)?;
            Ok(got == want)
        }
        "stat" | "lstat" => Ok(ino(&sys::stat(path, call == "lstat")?) == file_ino),
        _ => {
            let mode = if i.is_multiple_of(2) { 0o600 } else { 0o640 };
            sys::chmod(path, mode)?;
            Ok(sys::fstat(fd)?.st_mode & 0o7777 == mode)
        }
    }
}

/// `race-dir DIR N [CALL]`.
pub fn dir(dir: &OsString, n: u64, call: &str) -> Res {
    if !matches!(call, "open" | "stat" | "lstat" | "chmod") {
        return Err(Fail::Usage(format!(
            "race-dir: CALL is open, stat, lstat or chmod, not {call:?}"
        )));
    }
    let real = join(dir, "realsub")?;
    let link = join(dir, "linksub")?;
    let sub = join(dir, "sub")?;
    let target = join(dir, "sub/f")?;
    let file = join(dir, "realsub/f")?;
    let want = content(&file, "race-dir: read DIR/realsub/f")?;
    let fd = sys::open_rdonly(&file)
        .map_err(|e| Fail::Status(1, format!("race-dir: open DIR/realsub/f: {}", errmsg(&e))))?;
    let file_ino = sys::fstat(fd)
        .map(|st| ino(&st))
        .map_err(|e| Fail::Status(1, format!("race-dir: fstat DIR/realsub/f: {}", errmsg(&e))))?;
    // DIR/sub is the directory, then the symlink, then the directory ...:
    // one step each way, so that a jail that lets the kernel walk the path
    // again loses whenever one exchange lands between its check and the
    // kernel's walk. The last round leaves realsub and linksub as found.
    let mv = |a: &CString, b: &CString| {
        sys::rename(a, b)
            .map_err(|e| Fail::Status(1, format!("race-dir: rename {a:?} {b:?}: {}", errmsg(&e))))
    };
    mv(&real, &sub)?;
    let flipper = Flipper::start(2, move |_| {
        sys::exchange(&sub, &link).map_err(|e| format!("exchange {sub:?} {link:?}: {}", errmsg(&e)))
    });
    let mut tally = Tally::default();
    for i in 0..n {
        let got = race_call(call, &target, fd, file_ino, i, &want);
        tally.count(
            got.map(|hit| if hit { want.clone() } else { String::new() }),
            &want,
        );
    }
    let done = flipper.finish("race-dir");
    let _ = sys::close(fd);
    done?;
    mv(&join(dir, "sub")?, &real)?;
    tally.report()
}

/// `race-fd RW RO N [CALL]`.
pub fn fd(rw: &OsString, ro: &OsString, n: u64, call: &str) -> Res {
    if !matches!(call, "fchmod" | "futimens") {
        return Err(Fail::Usage(format!(
            "race-fd: CALL is fchmod or futimens, not {call:?}"
        )));
    }
    let open = |p: &OsString, what: &str| {
        sys::open_rdonly(&cstring(p)?)
            .map_err(|e| Fail::Status(1, format!("race-fd: open {what}: {}", errmsg(&e))))
    };
    let (rw_fd, ro_fd) = (open(rw, "RW")?, open(ro, "RO")?);
    // The number both threads use, first a copy of RW's fd.
    let shared = open(rw, "RW")?;
    let flipper = Flipper::start(2, move |k| {
        let from = if k % 2 == 0 { ro_fd } else { rw_fd };
        sys::dup2(from, shared).map_err(|e| format!("dup2: {}", errmsg(&e)))
    });
    // What an earlier run left there is not a hit of this one.
    let ro_mtime = sys::fstat(ro_fd)
        .map(|st| mtime(&st))
        .map_err(|e| Fail::Status(1, format!("race-fd: fstat RO: {}", errmsg(&e))))?;
    let mut tally = Tally::default();
    for i in 0..n {
        let hit_ro = if call == "fchmod" {
            let mode = if i.is_multiple_of(2) { 0o600 } else { 0o640 };
            sys::fchmod(shared, mode)
                .and_then(|()| sys::fstat(ro_fd))
                .map(|st| st.st_mode & 0o7777 == mode)
        } else {
            let secs = 1_000_000 + i64::try_from(i).unwrap_or(0);
            sys::futimens(shared, secs)
                .and_then(|()| sys::fstat(ro_fd))
                .map(|st| mtime(&st) == secs && secs != ro_mtime)
        };
        let got = hit_ro.map(|hit| if hit { String::new() } else { "ok".to_string() });
        tally.count(got, "ok");
    }
    flipper.finish("race-fd")?;
    tally.report()
}

/// `race-reopen RO N`.
pub fn reopen(ro: &OsString, n: u64) -> Res {
    let ro_fd = sys::open_rdonly(&cstring(ro)?)
        .map_err(|e| Fail::Status(1, format!("race-reopen: open RO: {}", errmsg(&e))))?;
    let ro_ino = sys::fstat(ro_fd)
        .map(|st| ino(&st))
        .map_err(|e| Fail::Status(1, format!("race-reopen: fstat RO: {}", errmsg(&e))))?;
    let (pipe_rd, _pipe_wr) =
        sys::pipe().map_err(|e| Fail::Status(1, format!("race-reopen: pipe: {}", errmsg(&e))))?;
    let k = 100;
    sys::dup2(pipe_rd, k)
        .map_err(|e| Fail::Status(1, format!("race-reopen: dup2: {}", errmsg(&e))))?;
    let link =
        CString::new(format!("/proc/self/fd/{k}")).map_err(|_| Fail::Usage("link".into()))?;
    let flipper = Flipper::start(2, move |i| {
        let from = if i % 2 == 0 { ro_fd } else { pipe_rd };
        sys::dup2(from, k).map_err(|e| format!("dup2: {}", errmsg(&e)))
    });
    let mut tally = Tally::default();
    for _ in 0..n {
        let got = sys::open(&link, libc::O_WRONLY | libc::O_NONBLOCK, 0).and_then(|fd| {
            let st = sys::fstat(fd);
            let _ = sys::close(fd);
            st
        });
        let got = got.map(|st| {
            if ino(&st) == ro_ino {
                String::new()
            } else {
                "ok".into()
            }
        });
        tally.count(got, "ok");
    }
    flipper.finish("race-reopen")?;
    tally.report()
}

/// `race-exec PROG N`.
pub fn exec(prog: &OsString, n: u64) -> Res {
    let path = cstring(prog)?;
    let argv = [path.clone()];
    let mut tally = Tally::default();
    for _ in 0..n {
        // The child's exit status: the program's, or 100 + the exec's errno.
        let pid = sys::fork_run(|| 100 + sys::execv(&path, &argv).raw_os_error().unwrap_or(0))
            .map_err(|e| Fail::Status(1, format!("race-exec: fork: {}", errmsg(&e))))?;
        let status = sys::waitpid(pid)
            .map_err(|e| Fail::Status(1, format!("race-exec: waitpid: {}", errmsg(&e))))?;
        let got = match (libc::WIFEXITED(status), libc::WEXITSTATUS(status)) {
            (true, 0) => Ok("ok".to_string()),
            (true, 42) => Ok(String::new()),
            (true, code) if code > 100 => Err(std::io::Error::from_raw_os_error(code - 100)),
            _ => Err(std::io::Error::other("killed")),
        };
        tally.count(got, "ok");
    }
    tally.report()
}

/// `race-flip DIR STOP`.
pub fn flip(dir: &OsString, stop: &OsString) -> Res {
    let (real, link, sub) = (
        join(dir, "realsub")?,
        join(dir, "linksub")?,
        join(dir, "sub")?,
    );
    let stop = cstring(stop)?;
    let fail = |what: &str, e: std::io::Error| {
        Fail::Status(1, format!("race-flip: {what}: {}", errmsg(&e)))
    };
    sys::rename(&real, &sub).map_err(|e| fail("rename realsub", e))?;
    let mut holds = Holds(0x2545_f491_4f6c_dd1d);
    let mut flips = 0u64;
    while sys::access(&stop, libc::F_OK).is_err() {
        for _ in 0..2 {
            sys::exchange(&sub, &link).map_err(|e| fail("exchange", e))?;
            holds.hold();
        }
        flips += 2;
    }
    sys::rename(&sub, &real).map_err(|e| fail("rename sub", e))?;
    say(&format!("flips {flips}"))
}
