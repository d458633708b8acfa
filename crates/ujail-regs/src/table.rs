// SPDX-License-Identifier: GPL-3.0-or-later
//! Syscall name/number tables per ABI (generated, see `table_i386.rs` and
//! `table_x86_64.rs`).
//!
//! INTERFACE STUB — filled in by the regs work item.

use crate::Abi;

/// The name of syscall `nr` in `abi`, `None` for numbers the table lacks.
pub fn name(abi: Abi, nr: u64) -> Option<&'static str> {
    let _ = (abi, nr);
    todo!("regs work item")
}

/// The number of syscall `name` in `abi`, `None` if that ABI lacks it.
pub fn number(abi: Abi, name: &str) -> Option<u64> {
    let _ = (abi, name);
    todo!("regs work item")
}
