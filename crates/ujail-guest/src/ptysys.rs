// SPDX-License-Identifier: GPL-3.0-or-later
//! The unsafe half of `ujail-guest pty ...`: the pseudo-terminal calls
//! (`posix_openpt`, `grantpt`, `unlockpt`, `ptsname_r`), the child's
//! session setup (`setsid`, `TIOCSCTTY`, `dup2`, `execvp`), `poll` on the
//! master, `waitpid(WNOHANG)` and `kill`.
//!
//! Descriptors are `OwnedFd`s; everything returns `io::Result` (or, for
//! `execvp`, the error it failed with). `pty.rs` is safe code.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::sys::{cvt, Pid};

/// Takes ownership of a descriptor a successful call just returned.
fn owned(fd: libc::c_int) -> OwnedFd {
    // SAFETY: `fd` was just returned by the kernel and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// A libc call that returns 0 on success and an error number otherwise
/// (`ptsname_r`), as `io::Result`.
fn cvt_errno(ret: libc::c_int) -> io::Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(ret))
    }
}

/// A new pseudo-terminal master, ready for its slave to be opened:
/// `posix_openpt(O_RDWR | O_NOCTTY)`, `grantpt`, `unlockpt`. Returns the
/// master and the slave's path (`ptsname_r`, i.e. `/dev/pts/N` from the
/// `TIOCGPTN` ioctl; see pts(4)).
pub fn open_master() -> io::Result<(OwnedFd, CString)> {
    // SAFETY: posix_openpt takes plain flags.
    let master = owned(cvt(unsafe {
        libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY)
    })?);
    // SAFETY: grantpt and unlockpt take a descriptor we own.
    cvt(unsafe { libc::grantpt(master.as_raw_fd()) })?;
    // SAFETY: as above.
    cvt(unsafe { libc::unlockpt(master.as_raw_fd()) })?;
    let mut buf = [0u8; 64];
    // SAFETY: `buf` is a writable buffer of `buf.len()` bytes; ptsname_r
    // NUL-terminates the name or fails with ERANGE.
    cvt_errno(unsafe { libc::ptsname_r(master.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) })?;
    let name =
        CStr::from_bytes_until_nul(&buf).map_err(|_| io::Error::from_raw_os_error(libc::ERANGE))?;
    Ok((master, name.to_owned()))
}

/// `open(path, O_RDWR | flags)` of a terminal.
pub fn open_tty(path: &CStr, flags: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: `path` is a valid NUL-terminated string; no O_CREAT, so open
    // reads no mode argument.
    cvt(unsafe { libc::open(path.as_ptr(), libc::O_RDWR | flags) }).map(owned)
}

/// `setsid(2)`: the caller becomes the leader of a new session, without a
/// controlling terminal.
pub fn setsid() -> io::Result<()> {
    // SAFETY: setsid has no preconditions.
    cvt(unsafe { libc::setsid() }).map(drop)
}

/// `ioctl(fd, TIOCSCTTY, 0)`: make the terminal `fd` the caller's
/// controlling terminal (a no-op if it already is; see ioctl_tty(2)).
pub fn set_controlling_tty(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: TIOCSCTTY takes an int argument (0: do not steal).
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSCTTY, 0 as libc::c_int) }).map(drop)
}

/// `dup2(fd, target)`.
pub fn dup2(fd: &OwnedFd, target: libc::c_int) -> io::Result<()> {
    // SAFETY: dup2 takes plain descriptors; `target` is one of the
    // standard descriptors, which the caller means to replace.
    cvt(unsafe { libc::dup2(fd.as_raw_fd(), target) }).map(drop)
}

/// Sets `SIGHUP` to be ignored (the disposition survives `execve`).
pub fn ignore_sighup() {
    // SAFETY: SIG_IGN is a valid disposition for SIGHUP.
    unsafe { libc::signal(libc::SIGHUP, libc::SIG_IGN) };
}

/// `execvp(argv[0], argv)`; returns only on failure, with its error.
pub fn execvp(argv: &[CString]) -> io::Error {
    let Some(file) = argv.first() else {
        return io::Error::from_raw_os_error(libc::EINVAL);
    };
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: `file` and every `argv` entry are NUL-terminated strings that
    // outlive the call, and `ptrs` is NULL-terminated.
    unsafe { libc::execvp(file.as_ptr(), ptrs.as_ptr()) };
    io::Error::last_os_error()
}

/// `poll` for input on one descriptor for up to `timeout_ms`: the
/// returned events (0 on timeout or `EINTR`).
pub fn poll_in(fd: &OwnedFd, timeout_ms: libc::c_int) -> io::Result<libc::c_short> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `pfd` is one valid, writable pollfd.
    match cvt(unsafe { libc::poll(&mut pfd, 1, timeout_ms) }) {
        Ok(_) => Ok(pfd.revents),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
        Err(e) => Err(e),
    }
}

/// Sleeps `ms` milliseconds with `poll` on no descriptors (a signal may
/// end it early).
pub fn sleep_ms(ms: libc::c_int) {
    // SAFETY: no descriptors: poll only waits; a null array is allowed
    // with nfds 0.
    unsafe { libc::poll(std::ptr::null_mut(), 0, ms) };
}

/// `waitpid(pid, &status, WNOHANG)`, retrying on `EINTR`: the raw status
/// if the child has ended, `None` if it is still running.
pub fn try_wait(pid: Pid) -> io::Result<Option<libc::c_int>> {
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: `status` is a valid `int` the kernel writes to.
        match cvt(unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) }) {
            Ok(0) => return Ok(None),
            Ok(_) => return Ok(Some(status)),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// `kill(-pgid, SIGKILL)`, then `kill(pid, SIGKILL)` in case the child has
/// no process group of its own yet (errors ignored: it may be gone).
pub fn kill_group(pid: Pid) {
    // SAFETY: kill takes plain integers; `pid` is our child, the leader of
    // its own process group after setsid.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
        libc::kill(pid, libc::SIGKILL);
    }
}
