// SPDX-License-Identifier: GPL-3.0-or-later
//! [`ProcMem`]: bulk tracee memory through `/proc/PID/mem`.
//!
//! The file offset is the tracee address (proc(5), `/proc/pid/mem`). One
//! `pread`/`pwrite` moves many pages; the kernel copies page by page and
//! stops at the first inaccessible one, returning a short count (or `EIO`
//! when the very first page fails), so the first failing address is where
//! the transfer stopped. Writes use `FOLL_FORCE` and so work on read-only
//! private mappings, like POKEDATA (kernels with `proc_mem.force_override`
//! allow this to the tracer).
//!
//! The open file is bound to the tracee's address space (`mm`) at open time.
//! After the tracee execs (`PTRACE_EVENT_EXEC`) it has a new one and the old
//! file reads nothing (every access is a [`MemError::Fault`]): call
//! [`ProcMem::reopen`] then. The same holds once the tracee has exited: an
//! already open file reports [`MemError::Fault`], not [`MemError::Gone`]
//! (the kernel just transfers nothing); the tracer learns of the exit from
//! `waitpid`.
#![forbid(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;

use crate::{Access, MemError, RemoteAddr, TraceeMem};

/// File offsets are signed 64-bit (`loff_t`): addresses from 2^63 up cannot
/// be reached through the file. No user-space mapping lives there on x86.
const OFFSET_END: u64 = 1 << 63;

/// Bulk access via `/proc/PID/mem`; reopen after the tracee execs.
#[derive(Debug)]
pub struct ProcMem {
    pid: i32,
    file: File,
}

impl ProcMem {
    /// Open `/proc/PID/mem` read-write.
    ///
    /// The caller must be allowed to ptrace `pid` (being its tracer is
    /// enough). A pid without a `/proc` entry is [`MemError::Gone`].
    pub fn open(pid: i32) -> Result<ProcMem, MemError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(format!("/proc/{pid}/mem"))
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => MemError::Gone { pid },
                _ => MemError::Os {
                    op: "open /proc/PID/mem",
                    pid,
                    source: e,
                },
            })?;
        Ok(ProcMem { pid, file })
    }

    /// Open `/proc/PID/mem` again, for the tracee's current address space:
    /// required after it execs. On error the old file is kept.
    pub fn reopen(&mut self) -> Result<(), MemError> {
        self.file = ProcMem::open(self.pid)?.file;
        Ok(())
    }

    /// One transfer step at `cur`: the offset and how many of `remaining`
    /// bytes may be moved, or a fault when `cur` is not a valid offset.
    fn step(
        &self,
        op: Access,
        cur: Option<RemoteAddr>,
        remaining: usize,
    ) -> Result<(RemoteAddr, usize), MemError> {
        let fault = |addr| MemError::Fault {
            op,
            pid: self.pid,
            addr,
        };
        let cur = cur.ok_or(fault(RemoteAddr(u64::MAX)))?;
        if cur.0 >= OFFSET_END {
            return Err(fault(cur));
        }
        let room = usize::try_from(OFFSET_END - cur.0).unwrap_or(usize::MAX);
        Ok((cur, remaining.min(room)))
    }

    fn os_error(&self, err: io::Error, op: Access, cur: RemoteAddr) -> MemError {
        let what = match op {
            Access::Read => "pread /proc/PID/mem",
            Access::Write => "pwrite /proc/PID/mem",
        };
        MemError::from_os(err, op, what, self.pid, cur)
    }
}

impl TraceeMem for ProcMem {
    fn pid(&self) -> i32 {
        self.pid
    }

    fn read(&mut self, addr: RemoteAddr, buf: &mut [u8]) -> Result<(), MemError> {
        let mut done = 0;
        while done < buf.len() {
            let (cur, n) = self.step(Access::Read, addr.checked_add(done), buf.len() - done)?;
            let part = buf.get_mut(done..done + n).unwrap_or_default();
            match self.file.read_at(part, cur.0) {
                // Nothing readable at `cur` (or the address space is gone).
                Ok(0) => {
                    return Err(MemError::Fault {
                        op: Access::Read,
                        pid: self.pid,
                        addr: cur,
                    })
                }
                Ok(got) => done += got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.os_error(e, Access::Read, cur)),
            }
        }
        Ok(())
    }

    fn write(&mut self, addr: RemoteAddr, data: &[u8]) -> Result<(), MemError> {
        let mut done = 0;
        while done < data.len() {
            let (cur, n) = self.step(Access::Write, addr.checked_add(done), data.len() - done)?;
            let part = data.get(done..done + n).unwrap_or_default();
            match self.file.write_at(part, cur.0) {
                Ok(0) => {
                    return Err(MemError::Fault {
                        op: Access::Write,
                        pid: self.pid,
                        addr: cur,
                    })
                }
                Ok(put) => done += put,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.os_error(e, Access::Write, cur)),
            }
        }
        Ok(())
    }
}
