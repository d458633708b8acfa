// SPDX-License-Identifier: GPL-3.0-or-later
//! `user_regs_struct` layouts and one accessor trait over both.
//!
//! A 64-bit tracer sees every tracee — i386 ones included — through
//! [`RegsX86_64`]; a 32-bit tracer sees [`RegsI386`] (17 words), on a native
//! i386 kernel and on a 64-bit kernel alike. Which one the tracer gets is
//! [`NativeRegs`]. The syscall arguments live in different registers per
//! *call* ABI, so the argument accessors take an [`Abi`].

use crate::Abi;

/// i386 `struct user_regs_struct` (arch/x86/include/asm/user_32.h).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct RegsI386 {
    pub ebx: u32,
    pub ecx: u32,
    pub edx: u32,
    pub esi: u32,
    pub edi: u32,
    pub ebp: u32,
    pub eax: u32,
    pub xds: u32,
    pub xes: u32,
    pub xfs: u32,
    pub xgs: u32,
    pub orig_eax: u32,
    pub eip: u32,
    pub xcs: u32,
    pub eflags: u32,
    pub esp: u32,
    pub xss: u32,
}

/// x86_64 `struct user_regs_struct` (arch/x86/include/asm/user_64.h).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct RegsX86_64 {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub orig_rax: u64,
    pub rip: u64,
    pub cs: u64,
    pub eflags: u64,
    pub rsp: u64,
    pub ss: u64,
    pub fs_base: u64,
    pub gs_base: u64,
    pub ds: u64,
    pub es: u64,
    pub fs: u64,
    pub gs: u64,
}

/// The register struct `PTRACE_GETREGS` fills for this build of the tracer.
#[cfg(target_arch = "x86_64")]
pub type NativeRegs = RegsX86_64;
/// The register struct `PTRACE_GETREGS` fills for this build of the tracer.
#[cfg(target_arch = "x86")]
pub type NativeRegs = RegsI386;

/// Uniform access to the registers that matter at a syscall stop.
///
/// Values are widened to `u64`; setters truncate to the register's width
/// for the call's ABI (an i386 call only sees the low 32 bits).
pub trait Registers: Copy + std::fmt::Debug {
    /// Instruction pointer.
    fn ip(&self) -> u64;
    /// Set the instruction pointer.
    fn set_ip(&mut self, ip: u64);
    /// Stack pointer.
    fn sp(&self) -> u64;
    /// `eax`/`rax`: the syscall number at entry, the result at exit.
    fn ax(&self) -> u64;
    /// Set `eax`/`rax`.
    fn set_ax(&mut self, v: u64);
    /// `orig_eax`/`orig_rax`: the syscall number the kernel acts on.
    fn orig_nr(&self) -> u64;
    /// Set `orig_eax`/`orig_rax` (changing it at entry changes the call; -1 skips it).
    fn set_orig_nr(&mut self, v: u64);
    /// True when the tracee executes in 32-bit mode (`cs == 0x23`).
    fn is_compat_mode(&self) -> bool;
    /// Syscall argument `i` (0..6) for a call of `abi`.
    fn arg(&self, abi: Abi, i: usize) -> u64;
    /// Set syscall argument `i` (0..6) for a call of `abi`.
    fn set_arg(&mut self, abi: Abi, i: usize, v: u64);
    /// All six arguments.
    fn args(&self, abi: Abi) -> [u64; 6] {
        std::array::from_fn(|i| self.arg(abi, i))
    }
    /// The syscall return value, sign-extended from the ABI's width.
    fn ret(&self, abi: Abi) -> i64 {
        sign_extend(abi, self.ax())
    }
    /// Set the syscall return value (e.g. `-EACCES`).
    fn set_ret(&mut self, abi: Abi, v: i64) {
        self.set_ax(truncate(abi, v.cast_unsigned()));
    }
}

/// Sign-extend a raw register value to `i64` per the ABI's word width.
pub fn sign_extend(abi: Abi, v: u64) -> i64 {
    match abi {
        Abi::I386 => i64::from((v & 0xffff_ffff) as u32 as i32),
        Abi::X86_64 => v.cast_signed(),
    }
}

/// Keep only the bits an ABI's register holds.
pub fn truncate(abi: Abi, v: u64) -> u64 {
    match abi {
        Abi::I386 => v & 0xffff_ffff,
        Abi::X86_64 => v,
    }
}

/// Low 32 bits of a value, for i386 registers.
fn lo32(v: u64) -> u32 {
    u32::try_from(v & 0xffff_ffff).unwrap_or(u32::MAX)
}

impl Registers for RegsX86_64 {
    fn ip(&self) -> u64 {
        self.rip
    }
    fn set_ip(&mut self, ip: u64) {
        self.rip = ip;
    }
    fn sp(&self) -> u64 {
        self.rsp
    }
    fn ax(&self) -> u64 {
        self.rax
    }
    fn set_ax(&mut self, v: u64) {
        self.rax = v;
    }
    fn orig_nr(&self) -> u64 {
        self.orig_rax
    }
    fn set_orig_nr(&mut self, v: u64) {
        self.orig_rax = v;
    }
    fn is_compat_mode(&self) -> bool {
        self.cs == 0x23
    }
    fn arg(&self, abi: Abi, i: usize) -> u64 {
        let v = match (abi, i) {
            (Abi::I386, 0) => self.rbx,
            (Abi::I386, 1) => self.rcx,
            (Abi::I386, 2) => self.rdx,
            (Abi::I386, 3) => self.rsi,
            (Abi::I386, 4) => self.rdi,
            (Abi::I386, 5) => self.rbp,
            (Abi::X86_64, 0) => self.rdi,
            (Abi::X86_64, 1) => self.rsi,
            (Abi::X86_64, 2) => self.rdx,
            (Abi::X86_64, 3) => self.r10,
            (Abi::X86_64, 4) => self.r8,
            (Abi::X86_64, 5) => self.r9,
            _ => panic!("syscall argument index {i} out of range"),
        };
        truncate(abi, v)
    }
    fn set_arg(&mut self, abi: Abi, i: usize, v: u64) {
        let v = truncate(abi, v);
        let r = match (abi, i) {
            (Abi::I386, 0) => &mut self.rbx,
            (Abi::I386, 1) => &mut self.rcx,
            (Abi::I386, 2) => &mut self.rdx,
            (Abi::I386, 3) => &mut self.rsi,
            (Abi::I386, 4) => &mut self.rdi,
            (Abi::I386, 5) => &mut self.rbp,
            (Abi::X86_64, 0) => &mut self.rdi,
            (Abi::X86_64, 1) => &mut self.rsi,
            (Abi::X86_64, 2) => &mut self.rdx,
            (Abi::X86_64, 3) => &mut self.r10,
            (Abi::X86_64, 4) => &mut self.r8,
            (Abi::X86_64, 5) => &mut self.r9,
            _ => panic!("syscall argument index {i} out of range"),
        };
        *r = v;
    }
}

impl Registers for RegsI386 {
    fn ip(&self) -> u64 {
        u64::from(self.eip)
    }
    fn set_ip(&mut self, ip: u64) {
        self.eip = lo32(ip);
    }
    fn sp(&self) -> u64 {
        u64::from(self.esp)
    }
    fn ax(&self) -> u64 {
        u64::from(self.eax)
    }
    fn set_ax(&mut self, v: u64) {
        self.eax = lo32(v);
    }
    fn orig_nr(&self) -> u64 {
        // orig_eax is -1 outside a syscall: sign-extend it so that "no
        // syscall" reads as u64::MAX on both layouts.
        sign_extend(Abi::I386, u64::from(self.orig_eax)).cast_unsigned()
    }
    fn set_orig_nr(&mut self, v: u64) {
        self.orig_eax = lo32(v);
    }
    fn is_compat_mode(&self) -> bool {
        true
    }
    fn arg(&self, _abi: Abi, i: usize) -> u64 {
        u64::from(match i {
            0 => self.ebx,
            1 => self.ecx,
            2 => self.edx,
            3 => self.esi,
            4 => self.edi,
            5 => self.ebp,
            _ => panic!("syscall argument index {i} out of range"),
        })
    }
    fn set_arg(&mut self, _abi: Abi, i: usize, v: u64) {
        let v = lo32(v);
        let r = match i {
            0 => &mut self.ebx,
            1 => &mut self.ecx,
            2 => &mut self.edx,
            3 => &mut self.esi,
            4 => &mut self.edi,
            5 => &mut self.ebp,
            _ => panic!("syscall argument index {i} out of range"),
        };
        *r = v;
    }
}
