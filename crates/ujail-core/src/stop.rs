// SPDX-License-Identifier: GPL-3.0-or-later
//! What `waitpid` reported, named after ptrace(2)'s stop kinds.
#![forbid(unsafe_code)]

use libc::c_int;

/// `PTRACE_EVENT_STOP` (include/uapi/linux/ptrace.h).
const PTRACE_EVENT_STOP: c_int = 128;

/// `PTRACE_EVENT_*` codes (ptrace(2), "PTRACE_EVENT stops").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PtraceEvent {
    /// fork(2) or clone without CLONE_VFORK/CLONE_THREAD and SIGCHLD exit signal.
    Fork,
    /// vfork(2) or clone with CLONE_VFORK.
    Vfork,
    /// Any other clone, threads included.
    Clone,
    /// A successful execve(2)/execveat(2).
    Exec,
    /// A `SECCOMP_RET_TRACE` of the seccomp filter: a watched call, before
    /// the kernel runs it.
    Seccomp,
    /// PTRACE_EVENT_STOP of a seized tracee, with its stop signal: a
    /// group-stop (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU), the first stop of an
    /// auto-attached child or a re-trap after PTRACE_LISTEN (SIGTRAP).
    Stop(c_int),
    /// Any other event number (not requested; treated as fatal).
    Other(c_int),
}

/// One report of `waitpid(-1, .., __WALL)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Syscall-enter or syscall-exit stop (`SIGTRAP | 0x80` with TRACESYSGOOD);
    /// which one is asked of `PTRACE_GET_SYSCALL_INFO`.
    Syscall,
    /// A `PTRACE_EVENT_*` stop.
    Event(PtraceEvent),
    /// Signal-delivery stop or group-stop with this signal; told apart with
    /// `PTRACE_GETSIGINFO`.
    Signal(c_int),
    /// The thread exited with this status.
    Exited(c_int),
    /// The thread was killed by this signal.
    Killed(c_int),
}

impl Stop {
    /// Decode a raw wait status (wait(2) macros).
    pub fn from_wait_status(status: c_int) -> Stop {
        if libc::WIFEXITED(status) {
            return Stop::Exited(libc::WEXITSTATUS(status));
        }
        if libc::WIFSIGNALED(status) {
            return Stop::Killed(libc::WTERMSIG(status));
        }
        let sig = libc::WSTOPSIG(status);
        if sig == (libc::SIGTRAP | 0x80) {
            return Stop::Syscall;
        }
        let event = (status >> 16) & 0xff;
        if event == PTRACE_EVENT_STOP {
            return Stop::Event(PtraceEvent::Stop(sig));
        }
        if sig == libc::SIGTRAP && event != 0 {
            return Stop::Event(match event {
                libc::PTRACE_EVENT_FORK => PtraceEvent::Fork,
                libc::PTRACE_EVENT_VFORK => PtraceEvent::Vfork,
                libc::PTRACE_EVENT_CLONE => PtraceEvent::Clone,
                libc::PTRACE_EVENT_EXEC => PtraceEvent::Exec,
                libc::PTRACE_EVENT_SECCOMP => PtraceEvent::Seccomp,
                other => PtraceEvent::Other(other),
            });
        }
        Stop::Signal(sig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Raw statuses as the kernel builds them (wait(2), ptrace(2)).
    fn stopped(sig: c_int) -> c_int {
        (sig << 8) | 0x7f
    }

    #[test]
    fn decodes_each_kind() {
        assert_eq!(Stop::from_wait_status(3 << 8), Stop::Exited(3));
        assert_eq!(
            Stop::from_wait_status(libc::SIGKILL),
            Stop::Killed(libc::SIGKILL)
        );
        assert_eq!(
            Stop::from_wait_status(stopped(libc::SIGTRAP | 0x80)),
            Stop::Syscall
        );
        assert_eq!(
            Stop::from_wait_status(stopped(libc::SIGTRAP)),
            Stop::Signal(libc::SIGTRAP)
        );
        assert_eq!(
            Stop::from_wait_status(stopped(libc::SIGSTOP)),
            Stop::Signal(libc::SIGSTOP)
        );
        let exec = stopped(libc::SIGTRAP) | (libc::PTRACE_EVENT_EXEC << 16);
        assert_eq!(Stop::from_wait_status(exec), Stop::Event(PtraceEvent::Exec));
        let clone = stopped(libc::SIGTRAP) | (libc::PTRACE_EVENT_CLONE << 16);
        assert_eq!(
            Stop::from_wait_status(clone),
            Stop::Event(PtraceEvent::Clone)
        );
        let group = stopped(libc::SIGTSTP) | (128 << 16);
        assert_eq!(
            Stop::from_wait_status(group),
            Stop::Event(PtraceEvent::Stop(libc::SIGTSTP))
        );
        let odd = stopped(libc::SIGTRAP) | (99 << 16);
        assert_eq!(
            Stop::from_wait_status(odd),
            Stop::Event(PtraceEvent::Other(99))
        );
    }
}
