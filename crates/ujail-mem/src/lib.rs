// SPDX-License-Identifier: GPL-3.0-or-later
//! Memory of a ptrace-stopped tracee.
//!
//! Two back ends behind one trait, [`TraceeMem`]:
//! * [`PeekPoke`]: `PTRACE_PEEKDATA`/`PTRACE_POKEDATA`, one tracer `long` per
//!   call; needs no file and works on any stopped tracee;
//! * [`ProcMem`]: `/proc/PID/mem`, one `pread`/`pwrite` per transfer; for
//!   bulk data. Reopen it after the tracee execs.
//!
//! Both write through read-only mappings. Reads of C strings, argv-like
//! pointer arrays, buffers and plain-old-data values have hard limits. A bad
//! tracee pointer is [`MemError::Fault`] with the first failing address (the
//! jail answers `EFAULT`), never a panic.
//!
//! Only the private `sys` module holds unsafe code (the raw ptrace calls);
//! every other module is `#![forbid(unsafe_code)]` and this root denies it.
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod access;
mod addr;
mod error;
mod peekpoke;
mod procmem;
mod sys;

pub use access::{Pod, TraceeMem, SCAN_BOUNDARY};
pub use addr::{PtrWidth, RemoteAddr};
pub use error::{Access, MemError};
pub use peekpoke::PeekPoke;
pub use procmem::ProcMem;
