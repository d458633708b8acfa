// SPDX-License-Identifier: GPL-3.0-or-later
//! The ujail tracer: runs a program and every process and thread it starts
//! under ptrace, stopping each system call before the kernel runs it.
//!
//! * [`spawn()`] starts a program traced and returns a [`Tracer`];
//! * [`Tracer::run`] drives the `sysemu` engine (the hybrid
//!   `PTRACE_SYSEMU`/`PTRACE_SYSCALL` loop, see [`tracer`]) until every
//!   tracee is gone;
//! * policy plugs in through [`Handler`]: given a decoded [`Call`] and the
//!   tracee's memory it returns a [`Verdict`]. [`policy::DenyList`] and the
//!   call log [`log::Logger`] are handlers.
#![deny(missing_docs)]

pub mod errno;
pub mod error;
pub mod fs;
pub mod handler;
pub mod integrity;
pub mod log;
pub mod net;
pub mod placement;
pub mod policy;
pub mod seccomp;
pub mod spawn;
pub mod stop;
mod sys;
pub mod tracer;

pub use error::{Error, SpawnError};
pub use handler::{Call, Event, Handler, Memory, Pid, ResultAction, Verdict, Watch};
pub use placement::Placement;
pub use spawn::{auto_engine, spawn, spawn_with, SpawnOptions};
pub use tracer::{Engine, Outcome, Tracer};
