// SPDX-License-Identifier: GPL-3.0-or-later
//! `ujail-guest pty [--stdin] ANSWER CMD [ARGS...]`: a tiny `expect` for the
//! tests of an interactive prompt (ujail's "allow [o]nce, [a]lways,
//! [n]ever? " question on `/dev/tty`).
//!
//! CMD runs in a new session whose controlling terminal is a new
//! pseudo-terminal; its stdin, stdout and stderr stay the guest's (so the
//! test still captures CMD's output), unless `--stdin` makes the terminal
//! its stdin too. The guest reads what CMD writes to the terminal, and at
//! the first `? ` writes `ANSWER\n` once; with ANSWER `-` it closes the
//! master instead, which hangs the terminal up, so CMD's reads on it
//! return end of input (CMD starts with `SIGHUP` ignored in that mode: the
//! hangup would otherwise kill it, see termios(3) "Hangup"). When CMD has
//! exited the guest prints `tty: TEXT`, everything read from the master as
//! one line (`\n` as the two characters `\n`, other bytes outside
//! printable ASCII and `\` as `\xNN`), and exits with CMD's status (128+N
//! if signal N killed it).
#![forbid(unsafe_code)]

use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use crate::ptysys;
use crate::raw::errno_name;
use crate::sys::{self, Pid};
use crate::{say, Fail, Res};

/// How long CMD may run before it is killed.
const TIMEOUT: Duration = Duration::from_secs(60);
/// Longest wait on the master before checking whether CMD has exited, in ms.
const SLICE_MS: libc::c_int = 50;
/// After CMD has exited, how long to wait for more terminal output (only
/// matters when something else still holds the slave open), in ms.
const DRAIN_MS: libc::c_int = 200;
/// Exit status of the child when CMD could not be started.
const NOT_RUN: i32 = 127;

/// What to do at the first question.
#[derive(Debug)]
enum Answer {
    /// Write these bytes (ANSWER and a newline).
    Line(Vec<u8>),
    /// Close the master (ANSWER `-`).
    Hangup,
}

/// Runs `pty [--stdin] ANSWER CMD [ARGS...]` (`args` without `pty`).
pub fn run(args: &[OsString]) -> Res {
    let (stdin, args) = match args.split_first() {
        Some((flag, rest)) if flag == "--stdin" => (true, rest),
        _ => (false, args),
    };
    let [answer, cmd @ ..] = args else {
        return Err(usage());
    };
    if cmd.is_empty() {
        return Err(usage());
    }
    let answer = if answer == "-" {
        Answer::Hangup
    } else {
        let mut line = answer.as_bytes().to_vec();
        line.push(b'\n');
        Answer::Line(line)
    };
    let argv = cmd
        .iter()
        .map(crate::cstring)
        .collect::<Result<Vec<_>, _>>()?;
    pty(&answer, &argv, stdin)
}

fn usage() -> Fail {
    Fail::Usage("`pty` takes [--stdin] ANSWER CMD [ARGS...]".into())
}

/// The errno name of an error (its text if it carries no errno).
fn ename(e: &io::Error) -> String {
    e.raw_os_error().map_or_else(|| e.to_string(), errno_name)
}

/// Turns a failed call into "CALL: ENAME", exit status 1.
fn failed(call: &str) -> impl FnOnce(io::Error) -> Fail + '_ {
    move |e| Fail::Status(1, format!("{call}: {}", ename(&e)))
}

/// Terminal output as one line: printable ASCII except `\` as is, `\n` as
/// the two characters `\n`, everything else (`\r` included) as `\xNN`.
fn one_line(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\n' => s.push_str("\\n"),
            b'\\' => s.push_str("\\x5c"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

/// The guest's exit status for CMD's wait status.
fn exit_code(status: libc::c_int) -> i32 {
    if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        libc::WEXITSTATUS(status)
    }
}

fn pty(answer: &Answer, argv: &[CString], stdin: bool) -> Res {
    let pty_failed = |e: io::Error| Fail::Status(1, format!("pty: {}", ename(&e)));
    let (master, slave_path) = ptysys::open_master().map_err(pty_failed)?;
    // Opened here, before the fork, so a missing /dev/pts is reported as
    // such; held open until CMD has exited so the master never reads EIO
    // while CMD has not yet opened the slave or has closed it for a while.
    let hold =
        ptysys::open_tty(&slave_path, libc::O_NOCTTY | libc::O_CLOEXEC).map_err(pty_failed)?;
    let hangup = matches!(answer, Answer::Hangup);
    let pid = sys::fork_run(|| child(&master, &slave_path, argv, stdin, hangup))
        .map_err(failed("fork"))?;
    let mut text = Vec::new();
    match converse(pid, master, hold, answer, &mut text) {
        Ok(Some(status)) => {
            say(&format!("tty: {}", one_line(&text)))?;
            match exit_code(status) {
                0 => Ok(()),
                code => Err(Fail::Status(code, String::new())),
            }
        }
        Ok(None) => {
            ptysys::kill_group(pid);
            let _ = sys::waitpid(pid);
            say(&format!("tty: {}", one_line(&text)))?;
            Err(Fail::Status(
                1,
                format!("pty: timed out after {} s", TIMEOUT.as_secs()),
            ))
        }
        Err(fail) => {
            ptysys::kill_group(pid);
            let _ = sys::waitpid(pid);
            Err(fail)
        }
    }
}

/// The forked child: a new session with the slave as its controlling
/// terminal, then `execvp` CMD. Returns the exit status if that fails
/// (the message goes to stdout, like the guest's other errors).
fn child(master: &OwnedFd, slave: &CString, argv: &[CString], stdin: bool, hangup: bool) -> i32 {
    let fail = |what: &str, e: &io::Error, code: i32| {
        let _ = sys::write_all(1, format!("{what}: {}\n", ename(e)).as_bytes());
        code
    };
    let _ = sys::close(master.as_raw_fd());
    if hangup {
        ptysys::ignore_sighup();
    }
    if let Err(e) = ptysys::setsid() {
        return fail("setsid", &e, NOT_RUN);
    }
    // A session leader without a controlling terminal acquires the first
    // terminal it opens without O_NOCTTY; TIOCSCTTY makes sure of it.
    // O_CLOEXEC: the terminal stays controlling after exec, only this
    // descriptor goes.
    let tty = match ptysys::open_tty(slave, libc::O_CLOEXEC) {
        Ok(fd) => fd,
        Err(e) => return fail("pty", &e, 1),
    };
    if let Err(e) = ptysys::set_controlling_tty(&tty) {
        return fail("ioctl TIOCSCTTY", &e, NOT_RUN);
    }
    if stdin {
        if let Err(e) = ptysys::dup2(&tty, 0) {
            return fail("dup2", &e, NOT_RUN);
        }
    }
    let e = ptysys::execvp(argv);
    fail("execvp", &e, NOT_RUN)
}

/// Reads the master until CMD exits, answering the first question.
/// Returns CMD's wait status, or `None` on timeout (CMD still running).
fn converse(
    pid: Pid,
    master: OwnedFd,
    hold: OwnedFd,
    answer: &Answer,
    text: &mut Vec<u8>,
) -> Result<Option<libc::c_int>, Fail> {
    let deadline = Instant::now() + TIMEOUT;
    let mut master = Some(master);
    let mut hold = Some(hold);
    let mut answered = false;
    let status = loop {
        if let Some(status) = ptysys::try_wait(pid).map_err(failed("waitpid"))? {
            break status;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        let slice = libc::c_int::try_from(left.as_millis()).map_or(SLICE_MS, |ms| ms.min(SLICE_MS));
        let Some(fd) = &master else {
            ptysys::sleep_ms(slice);
            continue;
        };
        if ptysys::poll_in(fd, slice).map_err(failed("poll"))? == 0 {
            continue;
        }
        if !read_some(fd, text)? {
            // The slave side is gone (cannot happen while `hold` is open):
            // nothing more to read, only CMD's exit to wait for.
            master = None;
            continue;
        }
        if !answered && text.windows(2).any(|w| w == b"? ") {
            answered = true;
            match answer {
                Answer::Line(line) => {
                    sys::write_all(fd.as_raw_fd(), line).map_err(failed("write"))?;
                }
                Answer::Hangup => {
                    master = None;
                    hold = None;
                }
            }
        }
    };
    // With no slave descriptor left, the master returns what CMD wrote
    // last and then EIO, so nothing still in flight in the terminal's
    // buffers is lost (see pty(7)).
    drop(hold);
    if let Some(fd) = &master {
        while ptysys::poll_in(fd, DRAIN_MS).map_err(failed("poll"))? != 0 {
            if !read_some(fd, text)? {
                break;
            }
        }
    }
    Ok(Some(status))
}

/// One `read` from the master, appended to `text`. `false` at the end of
/// the terminal's output (read returned 0 or EIO: no slave open).
fn read_some(fd: &OwnedFd, text: &mut Vec<u8>) -> Result<bool, Fail> {
    let mut buf = [0u8; 4096];
    match sys::read(fd.as_raw_fd(), &mut buf) {
        Ok(0) => Ok(false),
        Ok(n) => {
            text.extend_from_slice(&buf[..n]);
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EIO) => Ok(false),
        Err(e) => Err(failed("read")(e)),
    }
}
