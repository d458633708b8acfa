// SPDX-License-Identifier: GPL-3.0-or-later
//! Syscall-level policy: allow everything except the calls denied by name.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::fmt;

use ujail_regs::{table, Abi};

use crate::handler::{Call, Handler, Memory, Verdict, Watch};

/// A `--deny-syscall` rule that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleError {
    /// No ABI has a syscall of this name.
    UnknownSyscall(String),
    /// Not an errno name (EACCES) nor a number in 1..=4095.
    UnknownErrno(String),
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleError::UnknownSyscall(n) => write!(
                f,
                "unknown system call `{n}` (not in the i386 or x86_64 table)"
            ),
            RuleError::UnknownErrno(e) => write!(
                f,
                "unknown errno `{e}` (use a name like EACCES or a number 1-4095)"
            ),
        }
    }
}

impl std::error::Error for RuleError {}

/// Parse an errno given as a name (`EACCES`) or a number (`13`).
pub fn parse_errno(s: &str) -> Result<i32, RuleError> {
    if let Ok(n) = s.parse::<i32>() {
        return if (1..=4095).contains(&n) {
            Ok(n)
        } else {
            Err(RuleError::UnknownErrno(s.to_string()))
        };
    }
    crate::errno::number(&s.to_ascii_uppercase())
        .ok_or_else(|| RuleError::UnknownErrno(s.to_string()))
}

/// Allow every call except those denied by name, per ABI.
#[derive(Debug, Clone, Default)]
pub struct DenyList {
    denied: HashMap<(Abi, u64), i32>,
}

impl DenyList {
    /// An empty list: everything is forwarded.
    pub fn new() -> DenyList {
        DenyList::default()
    }

    /// Deny syscall `name` with `errno` in every ABI that has it.
    pub fn deny(&mut self, name: &str, errno: i32) -> Result<(), RuleError> {
        let mut found = false;
        for abi in [Abi::I386, Abi::X86_64] {
            if let Some(nr) = table::number(abi, name) {
                self.denied.insert((abi, nr), errno);
                found = true;
            }
        }
        if found {
            Ok(())
        } else {
            Err(RuleError::UnknownSyscall(name.to_string()))
        }
    }

    /// Parse and add a rule `NAME[=ERRNO]` (errno defaults to EPERM).
    pub fn add_rule(&mut self, rule: &str) -> Result<(), RuleError> {
        let (name, errno) = match rule.split_once('=') {
            Some((n, e)) => (n, parse_errno(e)?),
            None => (rule, libc::EPERM),
        };
        self.deny(name.trim(), errno)
    }
}

/// The call an i386 `ipc(call, ...)` makes (`call & 0xffff`,
/// include/uapi/linux/ipc.h), named like the direct syscall.
fn ipc_name(call: u64) -> Option<&'static str> {
    Some(match call & 0xffff {
        1 => "semop",
        2 => "semget",
        3 => "semctl",
        4 => "semtimedop",
        11 => "msgsnd",
        12 => "msgrcv",
        13 => "msgget",
        14 => "msgctl",
        21 => "shmat",
        22 => "shmdt",
        23 => "shmget",
        24 => "shmctl",
        _ => return None,
    })
}

impl DenyList {
    /// The errno for a denied sub-call of the i386 multiplexers
    /// (`socketcall`, `ipc`): denying `socket` also denies
    /// `socketcall(SYS_SOCKET, ...)`.
    fn multiplexed(&self, call: &Call) -> Option<i32> {
        let sub = match call.name? {
            "socketcall" => ujail_path::classify::socketcall_name(call.args[0])?,
            "ipc" => ipc_name(call.args[0])?,
            _ => return None,
        };
        [Abi::I386, Abi::X86_64]
            .into_iter()
            .find_map(|abi| table::number(abi, sub).and_then(|nr| self.denied.get(&(abi, nr))))
            .copied()
    }
}

impl Handler for DenyList {
    fn watch(&self, abi: Abi, nr: u64) -> Watch {
        if let Some(&errno) = self.denied.get(&(abi, nr)) {
            // execve stays traced (the tracer watches it): the program's
            // own start is let through.
            return Watch::Errno(u16::try_from(errno).unwrap_or(1));
        }
        match table::name(abi, nr) {
            // Their sub-calls are denied by name.
            Some("socketcall" | "ipc") if !self.denied.is_empty() => Watch::Trace,
            _ => Watch::Allow,
        }
    }

    fn on_call(&mut self, call: &Call, _mem: &mut dyn Memory) -> Verdict {
        if call.initial_exec {
            // Starting the program is the jail's doing, not the program's.
            return Verdict::Forward;
        }
        match self
            .denied
            .get(&(call.abi, call.nr))
            .copied()
            .or_else(|| self.multiplexed(call))
        {
            Some(errno) => Verdict::Deny(errno),
            None => Verdict::Forward,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ujail_mem::{Access, MemError, RemoteAddr};

    struct NoMem;
    impl Memory for NoMem {
        fn read(&mut self, addr: RemoteAddr, _: &mut [u8]) -> Result<(), MemError> {
            Err(MemError::Fault {
                op: Access::Read,
                pid: 0,
                addr,
            })
        }
        fn read_cstr(&mut self, addr: RemoteAddr, _: usize) -> Result<Vec<u8>, MemError> {
            Err(MemError::Fault {
                op: Access::Read,
                pid: 0,
                addr,
            })
        }
    }

    fn call(abi: Abi, name: &str) -> Call {
        Call::named(abi, name, [0; 6])
    }

    #[test]
    fn denies_by_name_in_each_abi() {
        let mut p = DenyList::new();
        p.add_rule("openat=EACCES").unwrap();
        p.add_rule("socketcall").unwrap();
        assert_eq!(
            p.on_call(&call(Abi::X86_64, "openat"), &mut NoMem),
            Verdict::Deny(libc::EACCES)
        );
        assert_eq!(
            p.on_call(&call(Abi::I386, "openat"), &mut NoMem),
            Verdict::Deny(libc::EACCES)
        );
        assert_eq!(
            p.on_call(&call(Abi::I386, "socketcall"), &mut NoMem),
            Verdict::Deny(libc::EPERM)
        );
        assert_eq!(
            p.on_call(&call(Abi::X86_64, "read"), &mut NoMem),
            Verdict::Forward
        );
        // write is 4 on i386 and 1 on x86_64: denying x86_64's write must not
        // touch i386's exit (1).
        p.add_rule("write=5").unwrap();
        assert_eq!(
            p.on_call(&call(Abi::I386, "exit"), &mut NoMem),
            Verdict::Forward
        );
        assert_eq!(
            p.on_call(&call(Abi::I386, "write"), &mut NoMem),
            Verdict::Deny(5)
        );
    }

    #[test]
    fn sees_through_i386_multiplexers() {
        let mut p = DenyList::new();
        p.add_rule("socket=EACCES").unwrap();
        p.add_rule("shmat").unwrap();
        let mut sc = call(Abi::I386, "socketcall");
        sc.args[0] = 1; // SYS_SOCKET
        assert_eq!(p.on_call(&sc, &mut NoMem), Verdict::Deny(libc::EACCES));
        sc.args[0] = 3; // SYS_CONNECT
        assert_eq!(p.on_call(&sc, &mut NoMem), Verdict::Forward);
        let mut ipc = call(Abi::I386, "ipc");
        ipc.args[0] = 21; // SHMAT
        assert_eq!(p.on_call(&ipc, &mut NoMem), Verdict::Deny(libc::EPERM));
        ipc.args[0] = 23; // SHMGET
        assert_eq!(p.on_call(&ipc, &mut NoMem), Verdict::Forward);
    }

    #[test]
    fn rejects_bad_rules() {
        let mut p = DenyList::new();
        assert_eq!(
            p.add_rule("nosuchcall"),
            Err(RuleError::UnknownSyscall("nosuchcall".into()))
        );
        assert_eq!(
            p.add_rule("openat=EBOGUS"),
            Err(RuleError::UnknownErrno("EBOGUS".into()))
        );
        assert_eq!(
            p.add_rule("openat=0"),
            Err(RuleError::UnknownErrno("0".into()))
        );
        assert_eq!(parse_errno("eacces"), Ok(libc::EACCES));
    }
}
