// SPDX-License-Identifier: GPL-3.0-or-later
//! The instruction that made a syscall, decoded from the bytes before ip.
//!
//! INTERFACE STUB — filled in by the regs work item.

use crate::Abi;

/// Which syscall instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyscallInsnKind {
    /// `int $0x80` (CD 80): i386 ABI in any mode.
    Int80,
    /// `sysenter` (0F 34): i386 ABI.
    Sysenter,
    /// `syscall` (0F 05): x86_64 ABI in 64-bit mode.
    Syscall,
}

/// A decoded syscall instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyscallInsn {
    /// Which instruction.
    pub kind: SyscallInsnKind,
    /// Its length in bytes: what the hybrid rewinds ip by.
    pub len: u8,
}

impl SyscallInsn {
    /// The ABI this instruction selects.
    pub fn abi(self) -> Abi {
        match self.kind {
            SyscallInsnKind::Int80 | SyscallInsnKind::Sysenter => Abi::I386,
            SyscallInsnKind::Syscall => Abi::X86_64,
        }
    }
}

/// Decode the syscall instruction that ends exactly at the end of `bytes`
/// (the bytes just before the stopped tracee's ip), for code of `bitness`
/// (32 or 64). `None` when those bytes are not a syscall instruction.
pub fn decode_syscall_insn(bytes: &[u8], bitness: u32) -> Option<SyscallInsn> {
    let _ = (bytes, bitness);
    todo!("regs work item")
}
