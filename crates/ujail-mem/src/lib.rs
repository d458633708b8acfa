// SPDX-License-Identifier: GPL-3.0-or-later
//! Memory of a ptrace-stopped tracee.
//!
//! INTERFACE STUB — filled in by the mem work item. The public API below is
//! what ujail-core relies on; keep it.
#![deny(missing_docs)]

use std::fmt;

/// An address in the tracee's address space (never a tracer pointer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct RemoteAddr(pub u64);

/// Errors from tracee memory access.
#[derive(Debug)]
pub enum MemError {
    /// The tracee address range is not mapped / not accessible: the jail
    /// answers the tracee's call with `EFAULT`.
    Fault {
        /// Tracee pid.
        pid: i32,
        /// First address that failed.
        addr: RemoteAddr,
    },
    /// A string or struct was longer than the caller's hard limit.
    TooLong {
        /// Tracee pid.
        pid: i32,
        /// Start address.
        addr: RemoteAddr,
        /// The limit in bytes.
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
        source: std::io::Error,
    },
}

impl fmt::Display for MemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let _ = f;
        todo!()
    }
}
impl std::error::Error for MemError {}

/// Read and write access to a stopped tracee's memory.
pub trait TraceeMem {
    /// Fill `buf` from tracee memory at `addr`; all or nothing.
    fn read(&mut self, addr: RemoteAddr, buf: &mut [u8]) -> Result<(), MemError>;
    /// Write `data` at `addr` (works on read-only mappings for /proc/PID/mem
    /// and POKEDATA alike).
    fn write(&mut self, addr: RemoteAddr, data: &[u8]) -> Result<(), MemError>;
    /// Read a NUL-terminated string of at most `limit` bytes (NUL excluded);
    /// `TooLong` when no NUL within the limit.
    fn read_cstr(&mut self, addr: RemoteAddr, limit: usize) -> Result<Vec<u8>, MemError> {
        let _ = (addr, limit);
        todo!()
    }
}

/// Word-by-word access via `PTRACE_PEEKDATA`/`PTRACE_POKEDATA` (word = the
/// tracer's `long`).
#[derive(Debug)]
pub struct PeekPoke {
    pid: i32,
}

impl PeekPoke {
    /// Access for tracee `pid` (must be ptrace-stopped by this thread).
    pub fn new(pid: i32) -> PeekPoke {
        PeekPoke { pid }
    }
}

/// Bulk access via `/proc/PID/mem`; reopen after the tracee execs.
#[derive(Debug)]
pub struct ProcMem {
    pid: i32,
    file: std::fs::File,
}

impl ProcMem {
    /// Open `/proc/PID/mem` read-write.
    pub fn open(pid: i32) -> Result<ProcMem, MemError> {
        let _ = pid;
        todo!()
    }
}
