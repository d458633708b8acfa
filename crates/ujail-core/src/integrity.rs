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
//!   sibling thread can set `CLONE_UNTRACED` between our read and the
//!   kernel's. Until the engine can make the kernel read a copy the tracee
//!   cannot write, `clone3` is answered `ENOSYS`, which glibc (2.34+) and
//!   other libcs handle by falling back to `clone`.
#![forbid(unsafe_code)]

use crate::handler::{Call, Verdict};

/// `CLONE_UNTRACED` (include/uapi/linux/sched.h).
pub const CLONE_UNTRACED: u64 = 0x0080_0000;

/// The verdict for a call that would escape the jail, `None` for any other.
pub fn check(call: &Call) -> Option<Verdict> {
    match call.name? {
        "clone" if call.args[0] & CLONE_UNTRACED != 0 => Some(Verdict::Deny(libc::EPERM)),
        "clone3" => Some(Verdict::Deny(libc::ENOSYS)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ujail_regs::{table, Abi};

    fn call(abi: Abi, name: &str, arg0: u64) -> Call {
        let nr = table::number(abi, name).unwrap();
        Call {
            pid: 1,
            abi,
            nr,
            name: table::name(abi, nr),
            args: [arg0, 0, 0, 0, 0, 0],
            ip: 0,
            initial_exec: false,
        }
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
            assert_eq!(
                check(&call(abi, "clone3", 0)),
                Some(Verdict::Deny(libc::ENOSYS))
            );
            assert_eq!(check(&call(abi, "getpid", CLONE_UNTRACED)), None);
        }
    }
}
