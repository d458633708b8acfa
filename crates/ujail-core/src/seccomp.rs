// SPDX-License-Identifier: GPL-3.0-or-later
//! The `seccomp` engine's filter: a classic-BPF program, built from what the
//! policy watches, that the jailed program installs before its `execve`.
//!
//! For each system call the filter returns one of:
//! * `SECCOMP_RET_TRACE` — the call stops at a `PTRACE_EVENT_SECCOMP` stop
//!   before the kernel runs it, and the tracer decides as the `sysemu`
//!   engine does at an entry stop;
//! * `SECCOMP_RET_ERRNO(e)` — a static denial, answered in the kernel with
//!   no stop at all;
//! * `SECCOMP_RET_ALLOW` — a call the policy does not watch runs natively.
//!
//! Both ABIs are covered: the program checks `seccomp_data.arch` first (an
//! i386 call from a 64-bit program, `int $0x80`, is `AUDIT_ARCH_I386` with
//! i386 numbering), refuses x32 calls (`nr & __X32_SYSCALL_BIT`) with
//! `ENOSYS`, stops numbers the generated tables lack when the policy
//! watches them (else `ENOSYS`, never allowed unseen), and kills the process
//! for any other architecture (fail closed). `mmap`/`mmap2` are watched only with
//! `MAP_FIXED`/`MAP_FIXED_NOREPLACE` (what could land on a scratch area), a
//! check on the flags argument in the filter.
//!
//! Within an architecture the numbers are split into runs of equal action
//! and found by a binary search of `jge` tests: a few dozen instructions per
//! call whatever the table size. Jumps longer than the 8-bit conditional
//! offsets go through `ja`, whose offset is 32 bits.
#![forbid(unsafe_code)]

use ujail_regs::{table, Abi};

/// What the filter does with one system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// Runs natively, never seen by the tracer.
    Allow,
    /// Stops for the tracer (`SECCOMP_RET_TRACE`).
    Trace,
    /// Fails with this errno in the kernel, no stop.
    Errno(u16),
}

/// One classic-BPF instruction (`struct sock_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// Opcode.
    pub code: u16,
    /// Jump offset if true (conditional jumps).
    pub jt: u8,
    /// Jump offset if false.
    pub jf: u8,
    /// Operand.
    pub k: u32,
}

// linux/filter.h, linux/bpf_common.h
/// `BPF_LD | BPF_W | BPF_ABS` (`BPF_LD` and `BPF_W` are 0).
const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JMP_JA: u16 = 0x05;
const BPF_JEQ_K: u16 = 0x05 | 0x10;
const BPF_JGE_K: u16 = 0x05 | 0x30;
const BPF_JSET_K: u16 = 0x05 | 0x40;
const BPF_RET_K: u16 = 0x06;

// linux/seccomp.h
/// `SECCOMP_RET_KILL_PROCESS`.
pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
/// `SECCOMP_RET_TRACE`.
pub const RET_TRACE: u32 = 0x7ff0_0000;
/// `SECCOMP_RET_ERRNO`.
pub const RET_ERRNO: u32 = 0x0005_0000;
/// `SECCOMP_RET_ALLOW`.
pub const RET_ALLOW: u32 = 0x7fff_0000;

/// `struct seccomp_data` offsets: nr, arch, then ip and args[6] (u64 each).
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
const fn off_arg_lo(i: u32) -> u32 {
    16 + 8 * i
}

const X32_SYSCALL_BIT: u32 = 0x4000_0000;
/// `mseal`, both ABIs (see [`crate::tracer`]).
const NR_MSEAL: u64 = 462;

/// The highest number of `abi`'s table.
pub fn max_number(abi: Abi) -> u64 {
    table::all(abi).map(|(n, _)| n).max().unwrap_or(0)
}
const MAP_FIXED_ANY: u32 = 0x10 | 0x10_0000;
const ENOSYS: u16 = 38;

fn ret_of(w: Watch) -> u32 {
    match w {
        Watch::Allow => RET_ALLOW,
        Watch::Trace => RET_TRACE,
        Watch::Errno(e) => RET_ERRNO | u32::from(e & 0xfff),
    }
}

/// A number the tables lack: the tracer sees it if the policy wants to
/// (the call log shows it; the jail answers ENOSYS), else the filter
/// answers ENOSYS — never allowed unseen (fail closed).
fn unknown(w: Watch) -> u32 {
    match w {
        Watch::Allow => RET_ERRNO | u32::from(ENOSYS),
        w => ret_of(w),
    }
}

/// A run of numbers `[start, end)` with one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    start: u32,
    end: u32,
    ret: u32,
}

/// A program being built: instructions and forward jumps to patch.
struct Prog {
    insns: Vec<Insn>,
}

impl Prog {
    fn push(&mut self, code: u16, jt: u8, jf: u8, k: u32) -> usize {
        self.insns.push(Insn { code, jt, jf, k });
        self.insns.len() - 1
    }
    fn ret(&mut self, k: u32) {
        self.push(BPF_RET_K, 0, 0, k);
    }
    /// Patch the `ja` at `at` to land on the next instruction emitted.
    fn land(&mut self, at: usize) {
        let off = self.insns.len() - at - 1;
        self.insns[at].k = u32::try_from(off).unwrap_or(u32::MAX);
    }
}

/// The filter for a policy: `watch(abi, nr)` says what to do with each
/// number of each ABI's table; `plain_mmap(abi, nr)` what to do with an
/// `mmap`/`mmap2` without `MAP_FIXED` (one with it gets `watch`).
/// `x86_64` false: a tracer that cannot follow 64-bit calls (the i686
/// build) has the filter kill the process at the first one.
pub fn build(
    watch: impl Fn(Abi, u64) -> Watch,
    plain_mmap: impl Fn(Abi, u64) -> Watch,
    x86_64: bool,
) -> Vec<Insn> {
    let mut p = Prog { insns: Vec::new() };
    p.push(BPF_LD_W_ABS, 0, 0, OFF_ARCH);
    // jeq X86_64 → +1 (to the ja into the x86_64 part); else next.
    p.push(BPF_JEQ_K, 0, 1, ujail_regs::AUDIT_ARCH_X86_64);
    let to_64 = p.push(BPF_JMP_JA, 0, 0, 0);
    p.push(BPF_JEQ_K, 0, 1, ujail_regs::AUDIT_ARCH_I386);
    let to_32 = p.push(BPF_JMP_JA, 0, 0, 0);
    p.ret(RET_KILL_PROCESS);
    for (abi, at) in [(Abi::X86_64, to_64), (Abi::I386, to_32)] {
        p.land(at);
        if abi == Abi::X86_64 && !x86_64 {
            p.ret(RET_KILL_PROCESS);
            continue;
        }
        emit_abi(&mut p, abi, &watch, &plain_mmap);
    }
    p.insns
}

fn emit_abi(
    p: &mut Prog,
    abi: Abi,
    watch: &impl Fn(Abi, u64) -> Watch,
    plain_mmap: &impl Fn(Abi, u64) -> Watch,
) {
    p.push(BPF_LD_W_ABS, 0, 0, OFF_NR);
    if abi == Abi::X86_64 {
        // x32 calls: refused (the jail does not decode them).
        p.push(BPF_JSET_K, 0, 1, X32_SYSCALL_BIT);
        p.ret(RET_ERRNO | u32::from(ENOSYS));
    }
    let mmap = ["mmap", "mmap2"]
        .iter()
        .filter_map(|n| table::number(abi, n))
        .filter(|&nr| !(abi == Abi::I386 && table::name(abi, nr) == Some("mmap")))
        .collect::<Vec<_>>();
    let max = max_number(abi).max(NR_MSEAL);
    let mut runs: Vec<Run> = Vec::new();
    let special = |nr: u64| mmap.contains(&nr);
    for nr in 0..=max {
        let Ok(n) = u32::try_from(nr) else { break };
        let ret = if special(nr) {
            // Placeholder, handled before the search.
            RET_ALLOW
        } else if nr == NR_MSEAL {
            // Newer than the tables; the tracer injects it to seal scratch
            // areas (a program sealing its own memory is harmless).
            RET_ALLOW
        } else if table::name(abi, nr).is_none() {
            unknown(watch(abi, nr))
        } else {
            ret_of(watch(abi, nr))
        };
        match runs.last_mut() {
            Some(r) if r.ret == ret && r.end == n => r.end = n + 1,
            _ => runs.push(Run {
                start: n,
                end: n + 1,
                ret,
            }),
        }
    }
    let past = u32::try_from(max + 1).unwrap_or(u32::MAX);
    runs.push(Run {
        start: past,
        end: u32::MAX,
        ret: unknown(watch(abi, max + 1)),
    });
    // mmap/mmap2: traced only with MAP_FIXED(_NOREPLACE) in the flags.
    for nr in mmap {
        let Ok(n) = u32::try_from(nr) else { continue };
        let fixed = watch(abi, nr);
        p.push(BPF_JEQ_K, 0, 4, n);
        p.push(BPF_LD_W_ABS, 0, 0, off_arg_lo(3));
        p.push(BPF_JSET_K, 0, 1, MAP_FIXED_ANY);
        p.ret(ret_of(fixed));
        p.ret(ret_of(plain_mmap(abi, nr)));
    }
    search(p, &runs);
}

/// Binary search over `runs` (sorted, contiguous) on the number in A.
fn search(p: &mut Prog, runs: &[Run]) {
    match runs {
        [] => p.ret(RET_ERRNO | u32::from(ENOSYS)),
        [one] => p.ret(one.ret),
        _ => {
            let mid = runs.len() / 2;
            // jge runs[mid].start → (jt=0) the ja to the upper half;
            // else (jf=1) skip the ja into the lower half.
            p.push(BPF_JGE_K, 0, 1, runs[mid].start);
            let to_upper = p.push(BPF_JMP_JA, 0, 0, 0);
            search(p, &runs[..mid]);
            p.land(to_upper);
            search(p, &runs[mid..]);
        }
    }
}

/// Run `prog` on a `seccomp_data` (tests and `ujail check`-style dumps): a
/// classic-BPF interpreter for the instructions [`build`] emits.
pub fn eval(prog: &[Insn], arch: u32, nr: u32, args: [u64; 6]) -> Option<u32> {
    let load = |off: u32| -> Option<u32> {
        match off {
            OFF_NR => Some(nr),
            OFF_ARCH => Some(arch),
            o if (16..64).contains(&o) && (o - 16) % 8 == 0 => {
                let i = usize::try_from((o - 16) / 8).ok()?;
                u32::try_from(args[i] & 0xffff_ffff).ok()
            }
            _ => None,
        }
    };
    let mut a = 0u32;
    let mut pc = 0usize;
    for _ in 0..100_000 {
        let i = prog.get(pc)?;
        pc += 1;
        match i.code {
            BPF_LD_W_ABS => a = load(i.k)?,
            BPF_JMP_JA => pc += usize::try_from(i.k).ok()?,
            BPF_JEQ_K | BPF_JGE_K | BPF_JSET_K => {
                let t = match i.code {
                    BPF_JEQ_K => a == i.k,
                    BPF_JGE_K => a >= i.k,
                    _ => a & i.k != 0,
                };
                pc += usize::from(if t { i.jt } else { i.jf });
            }
            BPF_RET_K => return Some(i.k),
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(abi: Abi, nr: u64) -> Watch {
        match table::name(abi, nr) {
            Some("openat" | "execve" | "connect" | "mmap" | "mmap2") => Watch::Trace,
            Some("ptrace") => Watch::Errno(1),
            _ => Watch::Allow,
        }
    }

    /// What the policy says of an mmap without MAP_FIXED.
    fn policy_plain(_: Abi, _: u64) -> Watch {
        Watch::Allow
    }

    #[test]
    fn a_denied_mmap_is_denied_with_and_without_map_fixed() {
        let deny = |abi: Abi, nr: u64| match table::name(abi, nr) {
            Some("mmap" | "mmap2") => Watch::Errno(1),
            _ => Watch::Allow,
        };
        let prog = build(deny, deny, true);
        let mmap = u32::try_from(table::number(Abi::X86_64, "mmap").unwrap()).unwrap();
        let a64 = ujail_regs::AUDIT_ARCH_X86_64;
        assert_eq!(
            eval(&prog, a64, mmap, [0, 4096, 3, 0x22, 0, 0]),
            Some(RET_ERRNO | 1)
        );
        assert_eq!(
            eval(&prog, a64, mmap, [0, 4096, 3, 0x32, 0, 0]),
            Some(RET_ERRNO | 1)
        );
    }

    #[test]
    fn a_tracer_without_64_bit_support_kills_at_the_first_64_bit_call() {
        let prog = build(|_, _| Watch::Allow, |_, _| Watch::Allow, false);
        let a64 = ujail_regs::AUDIT_ARCH_X86_64;
        assert_eq!(eval(&prog, a64, 39, [0; 6]), Some(RET_KILL_PROCESS));
        assert_eq!(
            eval(&prog, ujail_regs::AUDIT_ARCH_I386, 20, [0; 6]),
            Some(RET_ALLOW)
        );
    }

    #[test]
    fn every_number_of_both_tables_gets_the_policy_answer() {
        let prog = build(policy, policy_plain, true);
        for (abi, arch) in [
            (Abi::X86_64, ujail_regs::AUDIT_ARCH_X86_64),
            (Abi::I386, ujail_regs::AUDIT_ARCH_I386),
        ] {
            for nr in 0..=max_number(abi) + 20 {
                let n = u32::try_from(nr).unwrap();
                let want = match table::name(abi, nr) {
                    None if nr == NR_MSEAL => RET_ALLOW,
                    // policy() says Allow for unknown numbers: ENOSYS.
                    None => RET_ERRNO | 38,
                    Some("mmap" | "mmap2") if !(abi == Abi::I386 && nr == 90) => RET_ALLOW,
                    Some(_) => ret_of(policy(abi, nr)),
                };
                assert_eq!(eval(&prog, arch, n, [0; 6]), Some(want), "{abi} {nr}");
            }
        }
    }

    #[test]
    fn mmap_is_traced_only_with_map_fixed() {
        let prog = build(policy, policy_plain, true);
        let mmap = u32::try_from(table::number(Abi::X86_64, "mmap").unwrap()).unwrap();
        let a64 = ujail_regs::AUDIT_ARCH_X86_64;
        assert_eq!(
            eval(&prog, a64, mmap, [0, 4096, 3, 0x22, 0, 0]),
            Some(RET_ALLOW)
        );
        assert_eq!(
            eval(&prog, a64, mmap, [0, 4096, 3, 0x32, 0, 0]),
            Some(RET_TRACE)
        );
        assert_eq!(
            eval(&prog, a64, mmap, [0, 4096, 3, 0x10_0022, 0, 0]),
            Some(RET_TRACE)
        );
        let mmap2 = u32::try_from(table::number(Abi::I386, "mmap2").unwrap()).unwrap();
        let a32 = ujail_regs::AUDIT_ARCH_I386;
        assert_eq!(
            eval(&prog, a32, mmap2, [0, 4096, 3, 0x32, 0, 0]),
            Some(RET_TRACE)
        );
        // i386 old_mmap (90) keeps its arguments in memory: the policy's
        // answer, whatever the registers say.
        assert_eq!(
            eval(&prog, a32, 90, [0; 6]),
            Some(ret_of(policy(Abi::I386, 90)))
        );
    }

    #[test]
    fn other_architectures_are_killed_and_x32_refused() {
        let prog = build(policy, policy_plain, true);
        assert_eq!(eval(&prog, 0xc000_00b7, 0, [0; 6]), Some(RET_KILL_PROCESS)); // aarch64
        let a64 = ujail_regs::AUDIT_ARCH_X86_64;
        assert_eq!(
            eval(&prog, a64, X32_SYSCALL_BIT | 1, [0; 6]),
            Some(RET_ERRNO | 38)
        );
        assert_eq!(eval(&prog, a64, u32::MAX, [0; 6]), Some(RET_ERRNO | 38));
    }

    #[test]
    fn unknown_numbers_are_traced_when_watched_never_allowed() {
        let a64 = ujail_regs::AUDIT_ARCH_X86_64;
        let prog = build(|_, _| Watch::Trace, |_, _| Watch::Trace, true);
        assert_eq!(eval(&prog, a64, 999, [0; 6]), Some(RET_TRACE));
        let prog = build(|_, _| Watch::Allow, |_, _| Watch::Allow, true);
        assert_eq!(eval(&prog, a64, 999, [0; 6]), Some(RET_ERRNO | 38));
        assert_eq!(eval(&prog, a64, 1, [0; 6]), Some(RET_ALLOW));
    }

    #[test]
    fn a_policy_watching_everything_is_small_and_fast() {
        let prog = build(|_, _| Watch::Trace, |_, _| Watch::Trace, true);
        assert!(prog.len() < 128, "{} instructions", prog.len());
        let prog = build(policy, policy_plain, true);
        assert!(prog.len() < 4096, "BPF_MAXINSNS: {}", prog.len());
    }
}
