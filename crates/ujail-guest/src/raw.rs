// SPDX-License-Identifier: GPL-3.0-or-later
//! `ujail-guest raw NR [A0..A5]`: one system call made with the native
//! instruction (`syscall` on x86_64, `int $0x80` on i686), so the tests can
//! issue calls libc has no wrapper for (io_uring_setup, bpf, ...) with
//! the numbers of the guest's ABI. Prints `ret N` or `errno ENAME`.
#![forbid(unsafe_code)]

use std::ffi::OsString;

use crate::{say, sys, Fail, Res};

/// Runs `raw NR [A0..A5]`.
pub fn run(args: &[OsString]) -> Res {
    let nr = word(&args[0])?;
    let mut a = [0usize; 6];
    for (slot, arg) in a.iter_mut().zip(&args[1..]) {
        *slot = word(arg)?;
    }
    let ret = sys::raw_syscall(nr, a);
    match i32::try_from(-ret) {
        Ok(e @ 1..=4095) => say(&format!("errno {}", errno_name(e))),
        _ => say(&format!("ret {ret}")),
    }
}

/// Parses an argument: decimal, negative decimal (two's complement in the
/// native word), `0x` hex, `buf` for the address of a zeroed buffer, `pid`
/// and `ppid` for the guest's own and its parent's process id.
fn word(arg: &OsString) -> Result<usize, Fail> {
    let bad = || Fail::Usage(format!("bad raw argument `{}`", arg.to_string_lossy()));
    let s = arg.to_str().ok_or_else(bad)?;
    match s {
        "buf" => return Ok(sys::scratch_buffer()),
        "pid" => return usize::try_from(sys::getpid()).map_err(|_| bad()),
        "ppid" => return usize::try_from(sys::getppid()).map_err(|_| bad()),
        _ => {}
    }
    if let Some(hex) = s.strip_prefix("0x") {
        return usize::from_str_radix(hex, 16).map_err(|_| bad());
    }
    if let Some(neg) = s.strip_prefix('-') {
        let v: usize = neg.parse().map_err(|_| bad())?;
        return Ok(v.wrapping_neg());
    }
    s.parse().map_err(|_| bad())
}

/// The symbolic name of an errno value (the common ones; others `E<n>`);
/// `net` prints its errors with it too.
pub fn errno_name(e: i32) -> String {
    let name = match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::E2BIG => "E2BIG",
        libc::ENOEXEC => "ENOEXEC",
        libc::EBADF => "EBADF",
        libc::ECHILD => "ECHILD",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EXDEV => "EXDEV",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE",
        libc::ENOTTY => "ENOTTY",
        libc::EFBIG => "EFBIG",
        libc::ENOSPC => "ENOSPC",
        libc::ESPIPE => "ESPIPE",
        libc::EROFS => "EROFS",
        libc::EMLINK => "EMLINK",
        libc::EPIPE => "EPIPE",
        libc::ERANGE => "ERANGE",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ENOSYS => "ENOSYS",
        libc::ENOTEMPTY => "ENOTEMPTY",
        libc::ELOOP => "ELOOP",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::ENOTSOCK => "ENOTSOCK",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::ESOCKTNOSUPPORT => "ESOCKTNOSUPPORT",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::ENETUNREACH => "ENETUNREACH",
        libc::ECONNABORTED => "ECONNABORTED",
        libc::ECONNRESET => "ECONNRESET",
        libc::EISCONN => "EISCONN",
        libc::ENOTCONN => "ENOTCONN",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::EHOSTUNREACH => "EHOSTUNREACH",
        libc::EALREADY => "EALREADY",
        libc::EINPROGRESS => "EINPROGRESS",
        _ => return format!("E{e}"),
    };
    name.to_owned()
}
