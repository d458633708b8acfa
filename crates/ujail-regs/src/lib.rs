// SPDX-License-Identifier: GPL-3.0-or-later
//! Registers of a stopped tracee and the syscall ABI of one call.
//!
//! Knows nothing of ptrace or memory: it models the `user_regs_struct` layouts
//! the kernel hands a tracer (`PTRACE_GETREGS`), the two syscall ABIs
//! (i386 `int $0x80`/`sysenter`, x86_64 `syscall`), the instruction that made
//! a call (decoded with iced-x86) and the generated name/number tables.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod abi;
pub mod codegen;
pub mod insn;
pub mod regs;
pub mod signature;
pub mod table;
mod table_i386;
mod table_x86_64;

pub use abi::{Abi, AbiError, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64};
pub use insn::{decode_syscall_insn, SyscallInsn, SyscallInsnKind};
pub use regs::{NativeRegs, Registers, RegsI386, RegsX86_64};
pub use signature::{signature, signature_for, ArgKind};
