// SPDX-License-Identifier: GPL-3.0-or-later
//! The syscall ABI of one call: decided per stop, never per process.

use std::fmt;

/// `AUDIT_ARCH_I386` as reported by `PTRACE_GET_SYSCALL_INFO`.
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// `AUDIT_ARCH_X86_64` as reported by `PTRACE_GET_SYSCALL_INFO`.
pub const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
/// The x32 bit in an x86_64 syscall number; such calls are refused.
pub const X32_SYSCALL_BIT: u64 = 0x4000_0000;

/// A system-call ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Abi {
    /// i386: `int $0x80` or `sysenter`, arguments in ebx ecx edx esi edi ebp.
    I386,
    /// x86_64: `syscall`, arguments in rdi rsi rdx r10 r8 r9.
    X86_64,
}

/// Why the ABI of a call could not be decided; the call is then denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbiError {
    /// `PTRACE_GET_SYSCALL_INFO` reported an audit arch we do not know.
    UnknownArch(u32),
    /// An x86_64 call with the x32 bit set.
    X32(u64),
    /// The instruction before ip disagrees with the reported arch.
    Mismatch {
        /// ABI reported by the kernel.
        reported: Abi,
        /// ABI implied by the instruction.
        decoded: Abi,
    },
    /// The bytes before ip are not a syscall instruction.
    NoInstruction,
}

impl fmt::Display for AbiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AbiError::UnknownArch(a) => write!(f, "unknown audit arch {a:#x}"),
            AbiError::X32(nr) => write!(f, "x32 syscall {nr:#x} refused"),
            AbiError::Mismatch { reported, decoded } => write!(
                f,
                "kernel reports {reported} but the instruction is {decoded}"
            ),
            AbiError::NoInstruction => write!(f, "no syscall instruction before ip"),
        }
    }
}

impl std::error::Error for AbiError {}

impl Abi {
    /// The ABI for an audit arch from `PTRACE_GET_SYSCALL_INFO`.
    pub fn from_audit_arch(arch: u32) -> Result<Abi, AbiError> {
        match arch {
            AUDIT_ARCH_I386 => Ok(Abi::I386),
            AUDIT_ARCH_X86_64 => Ok(Abi::X86_64),
            other => Err(AbiError::UnknownArch(other)),
        }
    }

    /// Short name used in logs: `i386` or `x86_64`.
    pub fn name(self) -> &'static str {
        match self {
            Abi::I386 => "i386",
            Abi::X86_64 => "x86_64",
        }
    }

    /// Width of a `long` / pointer in this ABI, in bytes.
    pub fn word_size(self) -> usize {
        match self {
            Abi::I386 => 4,
            Abi::X86_64 => 8,
        }
    }
}

impl fmt::Display for Abi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
