// SPDX-License-Identifier: GPL-3.0-or-later
//! The time-of-check/time-of-use race helpers of the path-policy tests.
//!
//! * `race-mem ALLOWED SECRET N`: the opening thread passes one shared
//!   buffer to open(2) N times while a second thread keeps storing ALLOWED
//!   and SECRET into it. A jail that checks the path and then lets the
//!   kernel read the tracee's buffer again can be fooled.
//! * `race-dir DIR N`: the opening thread opens `DIR/sub/f` N times while a
//!   second thread renames `DIR/realsub` (a directory) and `DIR/linksub` (a
//!   symlink, to a directory outside the jail) in turn to `DIR/sub` and
//!   back. A jail that checks `DIR/sub/f` and lets the kernel walk it again
//!   can be fooled by a symlink swapped in between.
//!
//! Both print `leaked K allowed A failed F eloop E`: K opens read content
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

/// Waits until the flipping thread has done one full round (a thread may
/// take longer to start than the N opens take).
fn wait_for<T>(started: &AtomicBool, flipper: &std::thread::JoinHandle<T>) {
    while !started.load(Ordering::Relaxed) && !flipper.is_finished() {
        std::thread::yield_now();
    }
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
    wait_for(&started, &flipper);
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

/// `race-dir DIR N`.
pub fn dir(dir: &OsString, n: u64) -> Res {
    let real = join(dir, "realsub")?;
    let link = join(dir, "linksub")?;
    let sub = join(dir, "sub")?;
    let target = join(dir, "sub/f")?;
    let want = content(&join(dir, "realsub/f")?, "race-dir: read DIR/realsub/f")?;
    let stop = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicBool::new(false));
    let flipper = {
        let stop = Arc::clone(&stop);
        let started = Arc::clone(&started);
        std::thread::spawn(move || -> Result<(), String> {
            let mv = |a: &CString, b: &CString| {
                sys::rename(a, b).map_err(|e| format!("rename {a:?} {b:?}: {}", errmsg(&e)))
            };
            while !stop.load(Ordering::Relaxed) {
                mv(&real, &sub)?;
                mv(&sub, &real)?;
                mv(&link, &sub)?;
                mv(&sub, &link)?;
                started.store(true, Ordering::Relaxed);
            }
            Ok(())
        })
    };
    wait_for(&started, &flipper);
    let mut tally = Tally::default();
    for _ in 0..n {
        let got = sys::open(&target, libc::O_RDONLY, 0).and_then(first_line);
        tally.count(got, &want);
    }
    stop.store(true, Ordering::Relaxed);
    match flipper.join() {
        Ok(Ok(())) => tally.report(),
        Ok(Err(msg)) => Err(Fail::Status(1, format!("race-dir: {msg}"))),
        Err(_) => Err(Fail::Status(1, "race-dir: flipper panicked".into())),
    }
}
