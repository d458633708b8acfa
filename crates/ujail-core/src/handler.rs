// SPDX-License-Identifier: GPL-3.0-or-later
//! The policy interface: given a decoded call, return a verdict.
//!
//! Nothing here knows about ptrace. A handler sees the call (ABI, number,
//! name, arguments) and the tracee's memory, and decides.
#![forbid(unsafe_code)]

use ujail_mem::{MemError, RemoteAddr};
use ujail_regs::Abi;

pub use crate::seccomp::Watch;

/// A thread id of a tracee.
pub type Pid = i32;

/// One system call, as decoded at its entry stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The thread that made it.
    pub pid: Pid,
    /// Its ABI (decided for this call, not for the process).
    pub abi: Abi,
    /// Its number in that ABI.
    pub nr: u64,
    /// Its name from the generated tables, `None` if unknown.
    pub name: Option<&'static str>,
    /// The six argument registers, truncated to the ABI's width.
    pub args: [u64; 6],
    /// Instruction pointer after the syscall instruction.
    pub ip: u64,
    /// The jail's own `execve` of the program it was asked to run (the
    /// first exec of the first tracee): a syscall policy lets it through, a
    /// path policy still judges its path.
    pub initial_exec: bool,
}

#[cfg(test)]
impl Call {
    /// A call of thread 1 to `name` in `abi` with arguments `args` (tests).
    pub(crate) fn named(abi: Abi, name: &str, args: [u64; 6]) -> Call {
        let nr = ujail_regs::table::number(abi, name).expect("syscall name in the tables");
        Call {
            pid: 1,
            abi,
            nr,
            name: ujail_regs::table::name(abi, nr),
            args,
            ip: 0,
            initial_exec: false,
        }
    }
}

/// What to do with a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let the kernel run it.
    Forward,
    /// Let the kernel run it and call [`Handler::on_result`] with the result.
    ForwardReport,
    /// Do not run it; the call returns this value.
    Emulate(i64),
    /// Do not run it; the call fails with this errno (returns `-errno`).
    Deny(i32),
    /// Kill the calling process with SIGKILL.
    Kill,
    /// Let the kernel run call `nr` with `args` instead (e.g. a path
    /// argument pointing at a checked copy placed with [`Memory::place`]).
    /// The tracee's own number and argument registers are put back after
    /// the call, so the program sees only the result. With `report`,
    /// [`Handler::on_result`] gets the result.
    Rewrite {
        /// The number the kernel runs (same ABI as the call).
        nr: u64,
        /// The arguments the kernel sees.
        args: [u64; 6],
        /// Report the result to the handler.
        report: bool,
    },
}

/// Access to a stopped tracee's memory, as handlers see it.
pub trait Memory {
    /// Fill `buf` from tracee address `addr` (all or nothing).
    fn read(&mut self, addr: RemoteAddr, buf: &mut [u8]) -> Result<(), MemError>;
    /// Read a NUL-terminated string of at most `limit` bytes.
    fn read_cstr(&mut self, addr: RemoteAddr, limit: usize) -> Result<Vec<u8>, MemError>;

    /// Copy `data` into the calling thread's scratch area — tracee memory
    /// mapped read-only, which no tracee thread can change while the kernel
    /// reads it — and return its tracee address, for a [`Verdict::Rewrite`].
    /// Each call of the handler starts with an empty area. `None` when the
    /// thread has no scratch area ([`Handler::wants_scratch`] is false or
    /// its creation failed) or `data` does not fit.
    fn place(&mut self, data: &[u8]) -> Option<RemoteAddr> {
        let _ = data;
        None
    }

    /// True when `pid` (a process or thread id) is traced by this jail.
    fn is_jailed(&self, pid: Pid) -> bool {
        let _ = pid;
        false
    }

    /// Write `data` at tracee address `addr` the way the kernel writes a
    /// result to user memory: page protections hold (a read-only page, the
    /// scratch area included, is an error, never written).
    fn write(&mut self, addr: RemoteAddr, data: &[u8]) -> Result<(), MemError> {
        let _ = data;
        Err(MemError::Fault {
            op: ujail_mem::Access::Write,
            pid: 0,
            addr,
        })
    }
}

/// What the tracer does with a reported result ([`Handler::on_result`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum ResultAction {
    /// The program gets the result.
    Keep,
    /// The program gets this value instead (`-errno` for an error).
    Set(i64),
    /// The result is dropped and the call runs again, judged anew (as a
    /// restarted call: the program never sees the first result).
    Repeat,
}

/// Something that happened to a tracee other than a system call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `parent` created `child` (process or thread).
    Spawned {
        /// The creator.
        parent: Pid,
        /// The new tracee.
        child: Pid,
    },
    /// `pid` completed an exec; `former` is the tid that called execve (it
    /// differs from `pid` when a non-leader thread execs).
    Exec {
        /// The process, after exec.
        pid: Pid,
        /// The thread that called execve.
        former: Pid,
    },
    /// A signal is delivered to `pid`.
    Signal {
        /// The receiving thread.
        pid: Pid,
        /// The signal number.
        sig: i32,
    },
    /// A thread exited normally with `status`.
    Exited {
        /// The thread.
        pid: Pid,
        /// Its exit status.
        status: i32,
    },
    /// The jail itself refused `call` before any policy saw it (see
    /// [`crate::integrity`]).
    Refused {
        /// The call.
        call: Call,
        /// What the tracer did with it.
        verdict: Verdict,
    },
    /// A thread was killed by `sig`.
    Killed {
        /// The thread.
        pid: Pid,
        /// The signal.
        sig: i32,
    },
}

/// A policy. The tracer calls it at each syscall-entry stop and, for
/// [`Verdict::ForwardReport`], at the real exit.
pub trait Handler {
    /// Decide what to do with `call`.
    fn on_call(&mut self, call: &Call, mem: &mut dyn Memory) -> Verdict;

    /// The result of a call forwarded with [`Verdict::ForwardReport`] or a
    /// reported [`Verdict::Rewrite`] (`None` when the call never returned,
    /// e.g. the thread died in it; the action is then ignored).
    fn on_result(&mut self, call: &Call, ret: Option<i64>, mem: &mut dyn Memory) -> ResultAction {
        let _ = (call, ret, mem);
        ResultAction::Keep
    }

    /// A non-syscall event.
    fn on_event(&mut self, event: &Event) {
        let _ = event;
    }

    /// What the `seccomp` engine's filter does with call `nr` of `abi`
    /// ([`crate::seccomp`]): [`Watch::Trace`] for every call whose
    /// [`Handler::on_call`] might not be a plain forward, [`Watch::Errno`]
    /// for a call always denied with that errno, [`Watch::Allow`] for a
    /// call always forwarded unseen. The default watches everything.
    fn watch(&self, abi: Abi, nr: u64) -> Watch {
        let _ = (abi, nr);
        Watch::Trace
    }

    /// True when this policy places checked copies with [`Memory::place`]:
    /// the tracer then gives each thread a scratch area before its first
    /// call is judged.
    fn wants_scratch(&self) -> bool {
        false
    }

    /// The run is over: flush what the handler writes; the first write
    /// error, if any (a call log on a full disk must not fail silently).
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
