// SPDX-License-Identifier: GPL-3.0-or-later
//! The instruction that made a syscall, decoded from the bytes before ip.
//!
//! At a syscall stop ip points just past the instruction that entered the
//! kernel. All three x86 syscall instructions are two bytes long in their
//! canonical form: `int $0x80` (CD 80), `sysenter` (0F 34) and `syscall`
//! (0F 05). We decode exactly the final two bytes before ip with iced-x86 in
//! the tracee's current bitness and always report a length of 2.
//!
//! Why not look for prefixed forms (e.g. `66 0F 05`, `3E CD 80`)? Decoding
//! x86 backwards is ambiguous: a byte in front of the opcode may be a prefix
//! or the tail of the previous instruction, and no amount of context settles
//! it. It does not need settling: the kernel's own syscall restart
//! (`arch/x86/kernel/signal.c`, `regs->ip -= 2`) rewinds by exactly 2 and
//! re-executes the bare opcode, whatever prefixes preceded it — none of them
//! change what these instructions do. The hybrid engine rewinds the same way,
//! so it reproduces exactly what the kernel already does for restarts.
//!
//! Note that calls made through the 32-bit vDSO (`sysenter`, or `syscall` in
//! compatibility mode on AMD) come back with ip at the `int $0x80` landing
//! pad, so their stops show `CD 80` before ip; rewinding re-enters through
//! `int $0x80`, which is the same i386 ABI.

use iced_x86::{Code, Decoder, DecoderOptions};

use crate::Abi;

/// Which syscall instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyscallInsnKind {
    /// `int $0x80` (CD 80): i386 ABI in any mode.
    Int80,
    /// `sysenter` (0F 34): i386 ABI.
    Sysenter,
    /// `syscall` (0F 05): x86_64 ABI in 64-bit mode, i386 ABI in 32-bit
    /// (compatibility) mode, where only AMD CPUs allow it.
    Syscall,
}

/// A decoded syscall instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyscallInsn {
    /// Which instruction.
    pub kind: SyscallInsnKind,
    /// Its length in bytes: what the hybrid rewinds ip by (always 2, see the
    /// module docs).
    pub len: u8,
    /// The code bitness it was decoded in (32 or 64).
    pub bitness: u32,
}

impl SyscallInsn {
    /// The ABI this instruction selects.
    ///
    /// `syscall` executed in 32-bit mode enters the kernel's compat entry
    /// (`entry_SYSCALL_compat`) and uses the i386 numbering and registers.
    pub fn abi(self) -> Abi {
        match self.kind {
            SyscallInsnKind::Int80 | SyscallInsnKind::Sysenter => Abi::I386,
            SyscallInsnKind::Syscall if self.bitness == 32 => Abi::I386,
            SyscallInsnKind::Syscall => Abi::X86_64,
        }
    }
}

/// Length of every syscall instruction we accept.
const INSN_LEN: usize = 2;

/// Decode the syscall instruction that ends exactly at the end of `bytes`
/// (the bytes just before the stopped tracee's ip), for code of `bitness`
/// (32 or 64). `None` when those bytes are not a syscall instruction, when
/// fewer than two bytes are given, or for any other bitness.
///
/// Only the last two bytes are examined; bytes before them (prefixes or the
/// previous instruction) are ignored, see the module docs.
pub fn decode_syscall_insn(bytes: &[u8], bitness: u32) -> Option<SyscallInsn> {
    if bitness != 32 && bitness != 64 {
        return None;
    }
    let tail = bytes.get(bytes.len().checked_sub(INSN_LEN)?..)?;
    let mut decoder = Decoder::try_new(bitness, tail, DecoderOptions::NONE).ok()?;
    let insn = decoder.decode();
    if insn.is_invalid() || insn.len() != INSN_LEN {
        return None;
    }
    let kind = match insn.code() {
        Code::Int_imm8 if insn.immediate8() == 0x80 => SyscallInsnKind::Int80,
        Code::Sysenter => SyscallInsnKind::Sysenter,
        Code::Syscall => SyscallInsnKind::Syscall,
        _ => return None,
    };
    Some(SyscallInsn {
        kind,
        len: 2,
        bitness,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(bytes: &[u8], bitness: u32) -> Option<(SyscallInsnKind, u8, Abi)> {
        decode_syscall_insn(bytes, bitness).map(|i| (i.kind, i.len, i.abi()))
    }

    #[test]
    fn int80_both_bitnesses() {
        for b in [32, 64] {
            assert_eq!(
                dec(&[0xcd, 0x80], b),
                Some((SyscallInsnKind::Int80, 2, Abi::I386)),
                "bitness {b}"
            );
        }
    }

    #[test]
    fn sysenter_both_bitnesses() {
        for b in [32, 64] {
            assert_eq!(
                dec(&[0x0f, 0x34], b),
                Some((SyscallInsnKind::Sysenter, 2, Abi::I386)),
                "bitness {b}"
            );
        }
    }

    #[test]
    fn syscall_64_is_x86_64_abi() {
        assert_eq!(
            dec(&[0x0f, 0x05], 64),
            Some((SyscallInsnKind::Syscall, 2, Abi::X86_64))
        );
    }

    #[test]
    fn syscall_in_32_bit_mode_is_i386_abi() {
        let insn = decode_syscall_insn(&[0x0f, 0x05], 32).unwrap();
        assert_eq!(insn.kind, SyscallInsnKind::Syscall);
        assert_eq!(insn.len, 2);
        assert_eq!(insn.bitness, 32);
        assert_eq!(insn.abi(), Abi::I386);
    }

    #[test]
    fn instruction_must_end_at_the_end_of_the_slice() {
        // A realistic 15-byte window: `mov eax, 1; mov edi, 1; syscall`.
        let window = [
            0x90, 0x90, 0x90, 0x90, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xbf, 0x01, 0x00, 0x00, 0x00,
            0x0f, 0x05,
        ];
        assert_eq!(
            dec(&window[1..], 64),
            Some((SyscallInsnKind::Syscall, 2, Abi::X86_64))
        );
        // The syscall is there but not at the end: ip is one byte further.
        assert_eq!(dec(&[0x0f, 0x05, 0x90], 64), None);
        assert_eq!(dec(&[0xcd, 0x80, 0xc3], 32), None);
    }

    #[test]
    fn garbage_is_refused() {
        for bytes in [
            &[0x90, 0x90][..], // nop nop
            &[0xcd, 0x81],     // int 0x81
            &[0xcd, 0x03],     // int 3 (long form)
            &[0x00, 0xcc],     // ... int3
            &[0x0f, 0x07],     // sysret
            &[0x0f, 0x35],     // sysexit
            &[0x0f, 0x0b],     // ud2
            &[0x31, 0xc0],     // xor eax, eax
            &[0xff, 0xff],     // invalid
            &[0x05, 0x0f],     // reversed syscall
            &[0x80, 0xcd],     // reversed int 0x80
        ] {
            for b in [32, 64] {
                assert_eq!(dec(bytes, b), None, "{bytes:02x?} bitness {b}");
            }
        }
    }

    #[test]
    fn short_slices_are_refused() {
        for b in [32, 64] {
            assert_eq!(dec(&[], b), None);
            assert_eq!(dec(&[0x05], b), None);
            assert_eq!(dec(&[0x80], b), None);
        }
    }

    #[test]
    fn bad_bitness_is_refused() {
        for b in [0, 8, 16, 63, 128] {
            assert_eq!(dec(&[0x0f, 0x05], b), None, "bitness {b}");
            assert_eq!(dec(&[0xcd, 0x80], b), None, "bitness {b}");
        }
    }

    #[test]
    fn prefixes_are_ignored_and_rewind_is_two() {
        // 66 0F 05 (o16 syscall), 48 0F 05 (REX.W syscall), 3E CD 80 (ds int
        // 0x80): the kernel's restart rewinds by 2 onto the bare opcode, and so
        // do we; the prefix byte is not part of the reported instruction.
        assert_eq!(
            dec(&[0x66, 0x0f, 0x05], 64),
            Some((SyscallInsnKind::Syscall, 2, Abi::X86_64))
        );
        assert_eq!(
            dec(&[0x48, 0x0f, 0x05], 64),
            Some((SyscallInsnKind::Syscall, 2, Abi::X86_64))
        );
        assert_eq!(
            dec(&[0x3e, 0xcd, 0x80], 32),
            Some((SyscallInsnKind::Int80, 2, Abi::I386))
        );
        // The same final bytes after the tail of another instruction (the
        // immediate of `mov eax, 0x0f000000`) decode identically: the bytes
        // before the opcode are never consulted.
        assert_eq!(
            dec(&[0xb8, 0x00, 0x00, 0x00, 0x0f, 0x0f, 0x34], 32),
            Some((SyscallInsnKind::Sysenter, 2, Abi::I386))
        );
    }
}
