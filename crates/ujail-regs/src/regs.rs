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
    /// Put back the six argument registers of a call of `abi` from `from`,
    /// at their full width: an i386 call from a 64-bit program passes its
    /// arguments in rbx..rbp, whose high halves the program still owns.
    fn restore_args(&mut self, abi: Abi, from: &Self);
    /// All six arguments.
    fn args(&self, abi: Abi) -> [u64; 6] {
        std::array::from_fn(|i| self.arg(abi, i))
    }
    /// The syscall return value, sign-extended from the ABI's width.
    fn ret(&self, abi: Abi) -> i64 {
        sign_extend(abi, self.ax())
    }
    /// Set the syscall return value (e.g. `-EACCES`) as the kernel leaves
    /// it: an i386 call made from a 64-bit program (`int $0x80`) reads all
    /// of rax, where the kernel's compat entry stores an error sign-extended
    /// (its handlers return `long`) and a result zero-extended (an mmap2
    /// address above 2 GiB is positive).
    fn set_ret(&mut self, abi: Abi, v: i64) {
        if v < 0 {
            self.set_ax(v.cast_unsigned());
        } else {
            self.set_ax(truncate(abi, v.cast_unsigned()));
        }
    }
}

/// Sign-extend a raw register value to `i64` per the ABI's word width.
pub fn sign_extend(abi: Abi, v: u64) -> i64 {
    match abi {
        Abi::I386 => i64::from(lo32(v).cast_signed()),
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
    fn restore_args(&mut self, abi: Abi, from: &Self) {
        match abi {
            Abi::I386 => {
                self.rbx = from.rbx;
                self.rcx = from.rcx;
                self.rdx = from.rdx;
                self.rsi = from.rsi;
                self.rdi = from.rdi;
                self.rbp = from.rbp;
            }
            Abi::X86_64 => {
                self.rdi = from.rdi;
                self.rsi = from.rsi;
                self.rdx = from.rdx;
                self.r10 = from.r10;
                self.r8 = from.r8;
                self.r9 = from.r9;
            }
        }
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
    fn restore_args(&mut self, _abi: Abi, from: &Self) {
        self.ebx = from.ebx;
        self.ecx = from.ecx;
        self.edx = from.edx;
        self.esi = from.esi;
        self.edi = from.edi;
        self.ebp = from.ebp;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn i386_layout() {
        assert_eq!(size_of::<RegsI386>(), 68);
        assert_eq!(size_of::<RegsI386>() / 4, 17);
        let offsets = [
            offset_of!(RegsI386, ebx),
            offset_of!(RegsI386, ecx),
            offset_of!(RegsI386, edx),
            offset_of!(RegsI386, esi),
            offset_of!(RegsI386, edi),
            offset_of!(RegsI386, ebp),
            offset_of!(RegsI386, eax),
            offset_of!(RegsI386, xds),
            offset_of!(RegsI386, xes),
            offset_of!(RegsI386, xfs),
            offset_of!(RegsI386, xgs),
            offset_of!(RegsI386, orig_eax),
            offset_of!(RegsI386, eip),
            offset_of!(RegsI386, xcs),
            offset_of!(RegsI386, eflags),
            offset_of!(RegsI386, esp),
            offset_of!(RegsI386, xss),
        ];
        let expected: Vec<usize> = (0..17).map(|i| i * 4).collect();
        assert_eq!(offsets.to_vec(), expected);
        // The offsets ptrace(PTRACE_PEEKUSER) uses on i386 (asm/ptrace-abi.h).
        assert_eq!(offset_of!(RegsI386, eax), 6 * 4);
        assert_eq!(offset_of!(RegsI386, orig_eax), 11 * 4);
        assert_eq!(offset_of!(RegsI386, eip), 12 * 4);
        assert_eq!(offset_of!(RegsI386, esp), 15 * 4);
    }

    #[test]
    fn x86_64_layout() {
        assert_eq!(size_of::<RegsX86_64>(), 216);
        assert_eq!(size_of::<RegsX86_64>() / 8, 27);
        let offsets = [
            offset_of!(RegsX86_64, r15),
            offset_of!(RegsX86_64, r14),
            offset_of!(RegsX86_64, r13),
            offset_of!(RegsX86_64, r12),
            offset_of!(RegsX86_64, rbp),
            offset_of!(RegsX86_64, rbx),
            offset_of!(RegsX86_64, r11),
            offset_of!(RegsX86_64, r10),
            offset_of!(RegsX86_64, r9),
            offset_of!(RegsX86_64, r8),
            offset_of!(RegsX86_64, rax),
            offset_of!(RegsX86_64, rcx),
            offset_of!(RegsX86_64, rdx),
            offset_of!(RegsX86_64, rsi),
            offset_of!(RegsX86_64, rdi),
            offset_of!(RegsX86_64, orig_rax),
            offset_of!(RegsX86_64, rip),
            offset_of!(RegsX86_64, cs),
            offset_of!(RegsX86_64, eflags),
            offset_of!(RegsX86_64, rsp),
            offset_of!(RegsX86_64, ss),
            offset_of!(RegsX86_64, fs_base),
            offset_of!(RegsX86_64, gs_base),
            offset_of!(RegsX86_64, ds),
            offset_of!(RegsX86_64, es),
            offset_of!(RegsX86_64, fs),
            offset_of!(RegsX86_64, gs),
        ];
        let expected: Vec<usize> = (0..27).map(|i| i * 8).collect();
        assert_eq!(offsets.to_vec(), expected);
        // asm/ptrace-abi.h: ORIG_RAX 120, RIP 128, CS 136, EFLAGS 144, RSP 152.
        assert_eq!(offset_of!(RegsX86_64, rax), 80);
        assert_eq!(offset_of!(RegsX86_64, orig_rax), 120);
        assert_eq!(offset_of!(RegsX86_64, rip), 128);
        assert_eq!(offset_of!(RegsX86_64, cs), 136);
        assert_eq!(offset_of!(RegsX86_64, eflags), 144);
        assert_eq!(offset_of!(RegsX86_64, rsp), 152);
    }

    /// The struct `PTRACE_GETREGS` fills is libc's `user_regs_struct`; a
    /// mismatch would make the kernel write past (or short of) our struct.
    #[test]
    fn native_regs_match_libc() {
        assert_eq!(size_of::<NativeRegs>(), size_of::<libc::user_regs_struct>());
        assert_eq!(
            std::mem::align_of::<NativeRegs>(),
            std::mem::align_of::<libc::user_regs_struct>()
        );
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn native_regs_offsets_match_libc() {
        use libc::user_regs_struct as U;
        assert_eq!(offset_of!(NativeRegs, rax), offset_of!(U, rax));
        assert_eq!(offset_of!(NativeRegs, orig_rax), offset_of!(U, orig_rax));
        assert_eq!(offset_of!(NativeRegs, rip), offset_of!(U, rip));
        assert_eq!(offset_of!(NativeRegs, cs), offset_of!(U, cs));
        assert_eq!(offset_of!(NativeRegs, rsp), offset_of!(U, rsp));
        assert_eq!(offset_of!(NativeRegs, gs), offset_of!(U, gs));
    }

    #[cfg(target_arch = "x86")]
    #[test]
    fn native_regs_offsets_match_libc() {
        use libc::user_regs_struct as U;
        assert_eq!(offset_of!(NativeRegs, ebx), offset_of!(U, ebx));
        assert_eq!(offset_of!(NativeRegs, eax), offset_of!(U, eax));
        assert_eq!(offset_of!(NativeRegs, orig_eax), offset_of!(U, orig_eax));
        assert_eq!(offset_of!(NativeRegs, eip), offset_of!(U, eip));
        assert_eq!(offset_of!(NativeRegs, esp), offset_of!(U, esp));
        assert_eq!(offset_of!(NativeRegs, xss), offset_of!(U, xss));
    }

    fn x64_with_high_bits() -> RegsX86_64 {
        RegsX86_64 {
            rbx: 0xaaaa_aaaa_0000_0001,
            rcx: 0xaaaa_aaaa_0000_0002,
            rdx: 0xaaaa_aaaa_0000_0003,
            rsi: 0xaaaa_aaaa_0000_0004,
            rdi: 0xaaaa_aaaa_0000_0005,
            rbp: 0xaaaa_aaaa_0000_0006,
            r10: 0xbbbb_bbbb_0000_0007,
            r8: 0xbbbb_bbbb_0000_0008,
            r9: 0xbbbb_bbbb_0000_0009,
            ..RegsX86_64::default()
        }
    }

    #[test]
    fn i386_args_on_x86_64_layout_are_rbx_to_rbp_truncated() {
        let r = x64_with_high_bits();
        assert_eq!(r.args(Abi::I386), [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn x86_64_args_are_rdi_rsi_rdx_r10_r8_r9() {
        let r = x64_with_high_bits();
        assert_eq!(
            r.args(Abi::X86_64),
            [
                0xaaaa_aaaa_0000_0005,
                0xaaaa_aaaa_0000_0004,
                0xaaaa_aaaa_0000_0003,
                0xbbbb_bbbb_0000_0007,
                0xbbbb_bbbb_0000_0008,
                0xbbbb_bbbb_0000_0009,
            ]
        );
    }

    #[test]
    fn set_arg_round_trips_and_hits_the_right_register() {
        let mut r = RegsX86_64::default();
        for i in 0..6 {
            r.set_arg(Abi::X86_64, i, 0x1_0000_0000 + i as u64);
        }
        assert_eq!(
            (r.rdi, r.rsi, r.rdx),
            (0x1_0000_0000, 0x1_0000_0001, 0x1_0000_0002)
        );
        assert_eq!(
            (r.r10, r.r8, r.r9),
            (0x1_0000_0003, 0x1_0000_0004, 0x1_0000_0005)
        );
        let mut r = RegsX86_64::default();
        for i in 0..6 {
            r.set_arg(Abi::I386, i, 0xffff_ffff_0000_0010 + i as u64);
        }
        assert_eq!((r.rbx, r.rcx, r.rdx), (0x10, 0x11, 0x12));
        assert_eq!((r.rsi, r.rdi, r.rbp), (0x13, 0x14, 0x15));
        let mut r = RegsI386::default();
        for i in 0..6 {
            r.set_arg(Abi::I386, i, 0xffff_ffff_0000_0020 + i as u64);
        }
        assert_eq!((r.ebx, r.ecx, r.edx), (0x20, 0x21, 0x22));
        assert_eq!((r.esi, r.edi, r.ebp), (0x23, 0x24, 0x25));
        assert_eq!(r.args(Abi::I386), [0x20, 0x21, 0x22, 0x23, 0x24, 0x25]);
    }

    #[test]
    fn restore_args_keeps_full_64_bit_registers_of_an_i386_call() {
        let own = x64_with_high_bits();
        let mut r = own;
        for i in 0..6 {
            r.set_arg(Abi::I386, i, 7);
        }
        assert_eq!(r.rbp, 7, "set_arg of an i386 call fills the register");
        r.restore_args(Abi::I386, &own);
        assert_eq!(
            (r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp),
            (own.rbx, own.rcx, own.rdx, own.rsi, own.rdi, own.rbp)
        );
        let mut r = own;
        r.set_arg(Abi::X86_64, 3, 0);
        r.restore_args(Abi::X86_64, &own);
        assert_eq!(r.r10, own.r10);
    }

    #[test]
    fn set_ret_negative_reads_back_for_both_abis() {
        let mut r = RegsX86_64::default();
        r.set_ret(Abi::X86_64, -13);
        assert_eq!(r.ret(Abi::X86_64), -13);
        assert_eq!(r.rax, (-13i64).cast_unsigned());

        let mut r = RegsX86_64::default();
        r.set_ret(Abi::I386, -13);
        assert_eq!(r.ret(Abi::I386), -13);
        assert_eq!(
            r.rax,
            (-13i64).cast_unsigned(),
            "an i386 error is sign-extended into rax, as the kernel does"
        );
        r.set_ret(Abi::I386, 0xf700_0000);
        assert_eq!(r.rax, 0xf700_0000, "an i386 result is zero-extended");
        assert_eq!(r.ret(Abi::I386), -0x0900_0000, "(read back as 32 bits)");

        let mut r = RegsI386::default();
        r.set_ret(Abi::I386, -13);
        assert_eq!(r.ret(Abi::I386), -13);
        assert_eq!(r.eax, 0xffff_fff3);

        // Large positive i386 results (addresses) stay distinct from errors
        // only within 32 bits; a full-width x86_64 value is not cut.
        let mut r = RegsX86_64::default();
        r.set_ret(Abi::X86_64, 0x7fff_0000_1000);
        assert_eq!(r.ret(Abi::X86_64), 0x7fff_0000_1000);
    }

    #[test]
    fn orig_nr_of_i386_minus_one_is_u64_max() {
        let r = RegsI386 {
            orig_eax: 0xffff_ffff,
            ..RegsI386::default()
        };
        assert_eq!(r.orig_nr(), u64::MAX);
        let r = RegsI386 {
            orig_eax: 4,
            ..RegsI386::default()
        };
        assert_eq!(r.orig_nr(), 4);
        let mut r = RegsI386::default();
        r.set_orig_nr(u64::MAX);
        assert_eq!(r.orig_eax, 0xffff_ffff);
    }

    #[test]
    fn ip_sp_ax_and_mode() {
        let mut r = RegsX86_64 {
            rip: 0x40_1000,
            rsp: 0x7ffd_0000,
            rax: 39,
            cs: 0x33,
            ..RegsX86_64::default()
        };
        assert!(!r.is_compat_mode());
        r.set_ip(r.ip() - 2);
        assert_eq!(r.rip, 0x40_0ffe);
        assert_eq!((r.sp(), r.ax()), (0x7ffd_0000, 39));
        r.cs = 0x23;
        assert!(r.is_compat_mode());

        let mut r = RegsI386 {
            eip: 0x0804_9000,
            esp: 0xbfff_0000,
            ..RegsI386::default()
        };
        assert!(r.is_compat_mode());
        r.set_ip(r.ip() - 2);
        assert_eq!(r.eip, 0x0804_8ffe);
        assert_eq!(r.sp(), 0xbfff_0000);
        r.set_ax(0x1_0000_0005);
        assert_eq!(r.eax, 5);
    }

    #[test]
    fn sign_extend_and_truncate() {
        assert_eq!(sign_extend(Abi::I386, 0xffff_ffff), -1);
        assert_eq!(sign_extend(Abi::I386, 0xdead_0000_0001), 1);
        assert_eq!(sign_extend(Abi::I386, 0x7fff_ffff), 0x7fff_ffff);
        assert_eq!(sign_extend(Abi::X86_64, 0xffff_ffff), 0xffff_ffff);
        assert_eq!(sign_extend(Abi::X86_64, u64::MAX), -1);
        assert_eq!(truncate(Abi::I386, u64::MAX), 0xffff_ffff);
        assert_eq!(truncate(Abi::X86_64, u64::MAX), u64::MAX);
    }
}
