// SPDX-License-Identifier: GPL-3.0-or-later
//! CPU placement of the tracer and the jailed program.
//!
//! A ptrace stop costs about 7 µs when tracer and tracee share a CPU and
//! 50–60 µs when they do not (the wake-up crosses CPUs; see the README's
//! benchmarks). With [`Placement::Shared`] (the default) ujail pins itself
//! to the CPU it runs on before it starts the program, which inherits the
//! pin: a single-threaded program and its tracer then hand the CPU to each
//! other at every stop. Parallel work must not be serialised on one CPU, so
//! the pin is released — ujail and every tracee get their original affinity
//! back — as soon as the jail has a second thread in a process, or more than
//! two processes at once (a shell and the command it waits for stay
//! pinned). [`Placement::Free`] leaves placement to the scheduler.
#![forbid(unsafe_code)]

use crate::handler::Pid;
use crate::sys;

/// Where tracer and program run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Share the tracer's CPU while the jail is not parallel (default).
    Shared,
    /// Let the scheduler place everything.
    Free,
}

/// An active pin: the affinity to give back.
pub(crate) struct Pin {
    original: libc::cpu_set_t,
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pin").finish_non_exhaustive()
    }
}

impl Pin {
    /// Pin the calling thread to the CPU it runs on (children inherit it);
    /// `None` when it may only run on one CPU anyway or the kernel refuses.
    pub(crate) fn start() -> Option<Pin> {
        let original = sys::affinity(0).ok()?;
        if sys::cpu_count(&original) < 2 {
            return None;
        }
        let cpu = sys::current_cpu().ok()?;
        sys::set_affinity(0, &sys::single_cpu(cpu)).ok()?;
        Some(Pin { original })
    }

    /// Give ujail and the threads `tids` their original affinity back.
    pub(crate) fn release(self, tids: impl Iterator<Item = Pid>) {
        let _ = sys::set_affinity(0, &self.original);
        for tid in tids {
            // A thread that just died has nothing to give back.
            let _ = sys::set_affinity(tid, &self.original);
        }
    }
}
