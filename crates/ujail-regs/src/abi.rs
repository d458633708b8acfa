// SPDX-License-Identifier: GPL-3.0-or-later
//! The syscall ABI of one call: decided per stop, never per process.

use std::fmt;

use crate::insn::SyscallInsn;

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

    /// Decide the ABI of the call at a syscall-entry stop.
    ///
    /// `arch` is `PTRACE_GET_SYSCALL_INFO`'s audit arch, `nr` the syscall
    /// number (`orig_rax`), `insn` the instruction decoded from the bytes
    /// before ip ([`crate::decode_syscall_insn`] with the tracee's bitness).
    /// The kernel's word is cross-checked against the instruction; a
    /// disagreement, an unknown arch, an undecodable instruction or an x32
    /// call (the x32 bit in the low 32 bits of an x86_64 number, which is
    /// all the kernel looks at) is an error, and the caller denies the call.
    /// A number of -1 has the x32 bit set too and is refused the same way;
    /// the kernel would fail it with `ENOSYS` anyway.
    pub fn decide(arch: u32, nr: u64, insn: Option<SyscallInsn>) -> Result<Abi, AbiError> {
        let reported = Abi::from_audit_arch(arch)?;
        if reported == Abi::X86_64 && nr & X32_SYSCALL_BIT != 0 {
            return Err(AbiError::X32(nr));
        }
        let decoded = insn.ok_or(AbiError::NoInstruction)?.abi();
        if decoded != reported {
            return Err(AbiError::Mismatch { reported, decoded });
        }
        Ok(reported)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode_syscall_insn;

    #[test]
    fn audit_arches() {
        assert_eq!(Abi::from_audit_arch(AUDIT_ARCH_I386), Ok(Abi::I386));
        assert_eq!(Abi::from_audit_arch(AUDIT_ARCH_X86_64), Ok(Abi::X86_64));
        assert_eq!(
            Abi::from_audit_arch(0xc000_00b7),
            Err(AbiError::UnknownArch(0xc000_00b7))
        );
    }

    #[test]
    fn decide_agreeing_reports() {
        let syscall = decode_syscall_insn(&[0x0f, 0x05], 64);
        let int80_64 = decode_syscall_insn(&[0xcd, 0x80], 64);
        let int80_32 = decode_syscall_insn(&[0xcd, 0x80], 32);
        assert_eq!(Abi::decide(AUDIT_ARCH_X86_64, 1, syscall), Ok(Abi::X86_64));
        // A 64-bit program issuing int $0x80 gets the i386 ABI.
        assert_eq!(Abi::decide(AUDIT_ARCH_I386, 4, int80_64), Ok(Abi::I386));
        assert_eq!(Abi::decide(AUDIT_ARCH_I386, 4, int80_32), Ok(Abi::I386));
        // i386 numbers are never checked for the x32 bit.
        assert_eq!(
            Abi::decide(AUDIT_ARCH_I386, X32_SYSCALL_BIT | 4, int80_32),
            Ok(Abi::I386)
        );
    }

    #[test]
    fn decide_refusals() {
        let syscall = decode_syscall_insn(&[0x0f, 0x05], 64);
        let int80 = decode_syscall_insn(&[0xcd, 0x80], 64);
        assert_eq!(
            Abi::decide(AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 1, syscall),
            Err(AbiError::X32(X32_SYSCALL_BIT | 1))
        );
        assert_eq!(
            Abi::decide(AUDIT_ARCH_X86_64, u64::MAX, syscall),
            Err(AbiError::X32(u64::MAX))
        );
        assert_eq!(
            Abi::decide(AUDIT_ARCH_X86_64, 1, int80),
            Err(AbiError::Mismatch {
                reported: Abi::X86_64,
                decoded: Abi::I386
            })
        );
        assert_eq!(
            Abi::decide(AUDIT_ARCH_I386, 4, syscall),
            Err(AbiError::Mismatch {
                reported: Abi::I386,
                decoded: Abi::X86_64
            })
        );
        assert_eq!(
            Abi::decide(AUDIT_ARCH_X86_64, 1, None),
            Err(AbiError::NoInstruction)
        );
        assert_eq!(Abi::decide(0, 1, syscall), Err(AbiError::UnknownArch(0)));
    }

    #[test]
    fn errors_display() {
        let e = AbiError::Mismatch {
            reported: Abi::X86_64,
            decoded: Abi::I386,
        };
        assert_eq!(
            e.to_string(),
            "kernel reports x86_64 but the instruction is i386"
        );
        assert_eq!(
            AbiError::X32(0x4000_0001).to_string(),
            "x32 syscall 0x40000001 refused"
        );
    }
}
