// SPDX-License-Identifier: GPL-3.0-or-later
//! Calls that would take a tracee out of the jail, refused before any policy.
//!
//! The jail promises that every process and thread the program starts is
//! traced. Two calls can break that promise and are therefore not up to the
//! policy:
//!
//! * `clone` with `CLONE_UNTRACED`: the kernel then does not auto-attach the
//!   child (kernel/fork.c, `copy_process`), whatever PTRACE_O_TRACE* say.
//!   The flags are in a register, so the check is race-free: denied `EPERM`.
//! * `clone3`: its flags live in tracee memory (`struct clone_args`), where a
//!   sibling thread could set `CLONE_UNTRACED` between our read and the
//!   kernel's. The tracer copies the struct into the thread's read-only
//!   scratch area ([`clone3_copy`]), checks the copy and makes the kernel
//!   read it; without a scratch area the call is answered `ENOSYS`, which
//!   glibc (2.34+) handles by falling back to `clone`.
#![forbid(unsafe_code)]

use crate::handler::{Call, Memory, Verdict};

/// `CLONE_UNTRACED` (include/uapi/linux/sched.h).
pub const CLONE_UNTRACED: u64 = 0x0080_0000;
/// `SECCOMP_SET_MODE_FILTER` and `SECCOMP_FILTER_FLAG_NEW_LISTENER`
/// (include/uapi/linux/seccomp.h).
const SECCOMP_SET_MODE_FILTER: u64 = 1;
const SECCOMP_FILTER_FLAG_NEW_LISTENER: u64 = 1 << 3;

/// The calls [`check`] (and [`clone3_copy`]) may refuse: the seccomp
/// engine's filter must stop them.
pub const JUDGED: &[&str] = &["clone", "clone3", "seccomp"];

/// The verdict for a call that would escape the jail, `None` for any other.
pub fn check(call: &Call) -> Option<Verdict> {
    match call.name? {
        "clone" if call.args[0] & CLONE_UNTRACED != 0 => Some(Verdict::Deny(libc::EPERM)),
        // A filter of the program's own with a user-notification listener
        // (SECCOMP_RET_USER_NOTIF outranks SECCOMP_RET_TRACE) could answer
        // "continue" for a call the seccomp engine must stop: refused. The
        // flag is in a register: no race. prctl(PR_SET_SECCOMP) cannot
        // make a listener; filters without one only deny more.
        "seccomp"
            if call.args[0] & 0xffff_ffff == SECCOMP_SET_MODE_FILTER
                && call.args[1] & SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 =>
        {
            Some(Verdict::Deny(libc::EPERM))
        }
        // Checked on a copy by the tracer, see `clone3_copy`.
        "clone3" => None,
        _ => None,
    }
}

/// Oldest `struct clone_args` the kernel accepts (CLONE_ARGS_SIZE_VER0).
const CLONE_ARGS_MIN: u64 = 64;
/// Largest one it accepts (one page; beyond the known fields it must be 0).
const CLONE_ARGS_MAX: u64 = 4096;

/// For `clone3(args, size)`: copy `*args` into the scratch area, refuse
/// `CLONE_UNTRACED` in the copy, and return the call's arguments pointing
/// at the copy. `Err(errno)` refuses the call.
pub fn clone3_copy(call: &Call, mem: &mut dyn Memory) -> Result<[u64; 6], i32> {
    let size = call.args[1];
    if !(CLONE_ARGS_MIN..=CLONE_ARGS_MAX).contains(&size) {
        // The kernel's answer for a bad size; nothing is read.
        return Err(libc::EINVAL);
    }
    let mut copy = vec![0u8; usize::try_from(size).map_err(|_| libc::EINVAL)?];
    mem.read(ujail_mem::RemoteAddr(call.args[0]), &mut copy)
        .map_err(|_| libc::EFAULT)?;
    let mut flags = [0u8; 8];
    flags.copy_from_slice(&copy[..8]);
    if u64::from_le_bytes(flags) & CLONE_UNTRACED != 0 {
        return Err(libc::EPERM);
    }
    let placed = mem.place(&copy).ok_or(libc::ENOSYS)?;
    let mut args = call.args;
    args[0] = placed.0;
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ujail_regs::Abi;

    fn call(abi: Abi, name: &str, arg0: u64) -> Call {
        Call::named(abi, name, [arg0, 0, 0, 0, 0, 0])
    }

    #[test]
    fn refuses_untraced_clones_on_both_abis() {
        for abi in [Abi::I386, Abi::X86_64] {
            let sigchld = 17;
            assert_eq!(check(&call(abi, "clone", sigchld)), None);
            assert_eq!(
                check(&call(abi, "clone", CLONE_UNTRACED | sigchld)),
                Some(Verdict::Deny(libc::EPERM))
            );
            // clone3 is checked on a copy (clone3_copy), not here.
            assert_eq!(check(&call(abi, "clone3", 0)), None);
            assert_eq!(check(&call(abi, "getpid", CLONE_UNTRACED)), None);
        }
    }

    /// Tracee memory with `clone_args` at 0x1000 and a scratch area at 0x9000.
    struct FakeMem {
        args: Vec<u8>,
        placed: Vec<Vec<u8>>,
        scratch: bool,
    }

    impl Memory for FakeMem {
        fn read(
            &mut self,
            addr: ujail_mem::RemoteAddr,
            buf: &mut [u8],
        ) -> Result<(), ujail_mem::MemError> {
            let fault = ujail_mem::MemError::Fault {
                op: ujail_mem::Access::Read,
                pid: 1,
                addr,
            };
            let off = usize::try_from(addr.0.checked_sub(0x1000).ok_or(fault)?).unwrap();
            let src = self
                .args
                .get(off..off + buf.len())
                .ok_or(ujail_mem::MemError::Gone { pid: 1 })?;
            buf.copy_from_slice(src);
            Ok(())
        }
        fn read_cstr(
            &mut self,
            addr: ujail_mem::RemoteAddr,
            _: usize,
        ) -> Result<Vec<u8>, ujail_mem::MemError> {
            Err(ujail_mem::MemError::Fault {
                op: ujail_mem::Access::Read,
                pid: 1,
                addr,
            })
        }
        fn place(&mut self, data: &[u8]) -> Option<ujail_mem::RemoteAddr> {
            self.scratch.then(|| {
                self.placed.push(data.to_vec());
                ujail_mem::RemoteAddr(0x9000)
            })
        }
    }

    fn clone3(flags: u64, size: u64) -> (Call, FakeMem) {
        let mut args = vec![0u8; 88];
        args[..8].copy_from_slice(&flags.to_le_bytes());
        args[32..40].copy_from_slice(&17u64.to_le_bytes()); // exit_signal
        let mut c = call(Abi::X86_64, "clone3", 0x1000);
        c.args[1] = size;
        (
            c,
            FakeMem {
                args,
                placed: vec![],
                scratch: true,
            },
        )
    }

    #[test]
    fn clone3_runs_on_a_checked_copy() {
        let (c, mut m) = clone3(0, 88);
        let args = clone3_copy(&c, &mut m).unwrap();
        assert_eq!(args[0], 0x9000, "the kernel reads the copy");
        assert_eq!(args[1], 88);
        assert_eq!(m.placed, vec![m.args.clone()]);

        let (c, mut m) = clone3(CLONE_UNTRACED, 88);
        assert_eq!(clone3_copy(&c, &mut m), Err(libc::EPERM));
        assert!(m.placed.is_empty());

        let (c, mut m) = clone3(0, 63);
        assert_eq!(clone3_copy(&c, &mut m), Err(libc::EINVAL));
        let (mut c, mut m) = clone3(0, 88);
        c.args[0] = 0;
        assert_eq!(clone3_copy(&c, &mut m), Err(libc::EFAULT));
        let (c, mut m) = clone3(0, 88);
        m.scratch = false;
        assert_eq!(clone3_copy(&c, &mut m), Err(libc::ENOSYS));
    }
}
