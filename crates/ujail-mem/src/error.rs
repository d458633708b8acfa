// SPDX-License-Identifier: GPL-3.0-or-later
//! Errors of tracee memory access: a bad tracee pointer is a value
//! ([`MemError::Fault`]), which the jail answers with `EFAULT`.
#![forbid(unsafe_code)]

use std::fmt;
use std::io;

use crate::RemoteAddr;

/// Which direction an access went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Reading tracee memory.
    Read,
    /// Writing tracee memory.
    Write,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Read => "read",
            Access::Write => "write",
        })
    }
}

/// Errors from tracee memory access.
#[derive(Debug)]
pub enum MemError {
    /// The tracee address range is not mapped / not accessible: the jail
    /// answers the tracee's call with `EFAULT`.
    Fault {
        /// Whether a read or a write faulted.
        op: Access,
        /// Tracee pid.
        pid: i32,
        /// First address that failed.
        addr: RemoteAddr,
    },
    /// A string, array or struct was longer than the caller's hard limit.
    TooLong {
        /// Tracee pid.
        pid: i32,
        /// Start address.
        addr: RemoteAddr,
        /// The limit: bytes for strings and buffers, entries for pointer
        /// arrays.
        limit: usize,
    },
    /// The tracee is gone (ESRCH).
    Gone {
        /// Tracee pid.
        pid: i32,
    },
    /// Any other OS error, with the operation that failed.
    Os {
        /// What was being done ("open /proc/PID/mem", "PTRACE_PEEKDATA"...).
        op: &'static str,
        /// Tracee pid.
        pid: i32,
        /// The cause.
        source: io::Error,
    },
}

impl MemError {
    /// The tracee this error is about.
    pub fn pid(&self) -> i32 {
        match self {
            MemError::Fault { pid, .. }
            | MemError::TooLong { pid, .. }
            | MemError::Gone { pid }
            | MemError::Os { pid, .. } => *pid,
        }
    }

    /// Whether this is a bad tracee address (answer the call with `EFAULT`).
    pub fn is_fault(&self) -> bool {
        matches!(self, MemError::Fault { .. })
    }

    /// Map an OS error of an access at `addr` to a [`MemError`]: `EIO` and
    /// `EFAULT` are what ptrace and `/proc/PID/mem` report for unmapped or
    /// inaccessible tracee memory; `ESRCH` means the tracee died (or is no
    /// longer stopped for us).
    pub(crate) fn from_os(
        err: io::Error,
        op: Access,
        what: &'static str,
        pid: i32,
        addr: RemoteAddr,
    ) -> MemError {
        match err.raw_os_error() {
            Some(libc::EIO | libc::EFAULT) => MemError::Fault { op, pid, addr },
            Some(libc::ESRCH) => MemError::Gone { pid },
            _ => MemError::Os {
                op: what,
                pid,
                source: err,
            },
        }
    }
}

impl fmt::Display for MemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemError::Fault { op, pid, addr } => {
                write!(f, "{op} of tracee {pid} memory at {addr}: bad address")
            }
            MemError::TooLong { pid, addr, limit } => write!(
                f,
                "read of tracee {pid} memory at {addr}: no terminator within the limit of {limit}"
            ),
            MemError::Gone { pid } => write!(f, "tracee {pid} is gone (no such process)"),
            MemError::Os { op, pid, source } => write!(f, "{op} of tracee {pid}: {source}"),
        }
    }
}

impl std::error::Error for MemError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MemError::Os { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn display_names_operation_pid_and_address() {
        let e = MemError::Fault {
            op: Access::Read,
            pid: 1234,
            addr: RemoteAddr(0),
        };
        assert_eq!(
            e.to_string(),
            "read of tracee 1234 memory at 0x0: bad address"
        );
        let e = MemError::Fault {
            op: Access::Write,
            pid: 7,
            addr: RemoteAddr(0x1000),
        };
        assert_eq!(
            e.to_string(),
            "write of tracee 7 memory at 0x1000: bad address"
        );
        let e = MemError::TooLong {
            pid: 7,
            addr: RemoteAddr(0x10),
            limit: 4096,
        };
        assert_eq!(
            e.to_string(),
            "read of tracee 7 memory at 0x10: no terminator within the limit of 4096"
        );
        assert_eq!(
            MemError::Gone { pid: 9 }.to_string(),
            "tracee 9 is gone (no such process)"
        );
    }

    #[test]
    fn os_errors_are_classified() {
        let at = RemoteAddr(0x42);
        let f = |errno| {
            MemError::from_os(
                io::Error::from_raw_os_error(errno),
                Access::Read,
                "PTRACE_PEEKDATA",
                5,
                at,
            )
        };
        assert!(
            matches!(f(libc::EIO), MemError::Fault { addr, pid: 5, op: Access::Read } if addr == at)
        );
        assert!(f(libc::EFAULT).is_fault());
        assert!(matches!(f(libc::ESRCH), MemError::Gone { pid: 5 }));
        let os = f(libc::EPERM);
        assert!(matches!(
            os,
            MemError::Os {
                op: "PTRACE_PEEKDATA",
                ..
            }
        ));
        assert!(os.source().is_some());
        assert!(os.to_string().starts_with("PTRACE_PEEKDATA of tracee 5: "));
        assert_eq!(os.pid(), 5);
    }
}
