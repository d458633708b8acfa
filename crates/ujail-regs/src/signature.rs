// SPDX-License-Identifier: GPL-3.0-or-later
//! Argument kinds of syscalls, for decoding them in traces.
//!
//! A hand-written table, keyed by the syscall's name as it appears in the
//! kernel tables, covering the calls programs make most on both ABIs. Kinds
//! that need no tracee memory can be rendered with [`ArgKind::format_scalar`];
//! the memory kinds ([`ArgKind::Path`], [`ArgKind::InBuf`], [`ArgKind::OutBuf`],
//! [`ArgKind::StrArray`]) are read by the caller.

use crate::regs::{sign_extend, truncate};
use crate::Abi;

/// How to show one syscall argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// Signed decimal integer.
    Int,
    /// Unsigned integer shown in hex (flags, masks).
    Hex,
    /// A file descriptor (`AT_FDCWD` shown by name).
    Fd,
    /// Tracee pointer shown in hex.
    Ptr,
    /// Tracee pointer to a NUL-terminated path / string.
    Path,
    /// Tracee pointer to a buffer the call reads; length is argument `.0`.
    InBuf(u8),
    /// Tracee pointer to a buffer the call fills; length is the result.
    OutBuf,
    /// Tracee pointer to a NULL-terminated array of string pointers (argv, envp).
    StrArray,
    /// `open`/`openat` flags: shown as `O_RDONLY|O_CLOEXEC`.
    OpenFlags,
    /// A file mode (permission bits): shown in octal, `0644`.
    Mode,
    /// A signal number: shown as `SIGTERM`.
    Signal,
}

impl ArgKind {
    /// True when showing this argument needs the tracee's memory.
    pub fn reads_memory(self) -> bool {
        matches!(
            self,
            ArgKind::Path | ArgKind::InBuf(_) | ArgKind::OutBuf | ArgKind::StrArray
        )
    }

    /// Render a raw register value `v` of a call of `abi`, for kinds that do
    /// not read tracee memory; `None` for the memory kinds.
    ///
    /// Values are first cut to the ABI's width, so an i386 `AT_FDCWD`
    /// (`0xffffff9c`) shows as `AT_FDCWD` and an i386 `-1` as `-1`; fds and
    /// ints passed zero-extended in a 64-bit register are read as the
    /// kernel reads them, as a 32-bit `int`.
    pub fn format_scalar(self, abi: Abi, v: u64) -> Option<String> {
        let v = truncate(abi, v);
        Some(match self {
            ArgKind::Int => int_value(abi, v).to_string(),
            ArgKind::Hex => format!("{v:#x}"),
            ArgKind::Fd => match sign_extend(Abi::I386, v) {
                AT_FDCWD => "AT_FDCWD".to_owned(),
                fd => fd.to_string(),
            },
            ArgKind::Ptr if v == 0 => "NULL".to_owned(),
            ArgKind::Ptr => format!("{v:#x}"),
            ArgKind::OpenFlags => open_flags(v),
            ArgKind::Mode => format!("0{v:o}"),
            ArgKind::Signal => match signal_name(v) {
                Some(name) => name.to_owned(),
                None => sign_extend(abi, v).to_string(),
            },
            ArgKind::Path | ArgKind::InBuf(_) | ArgKind::OutBuf | ArgKind::StrArray => return None,
        })
    }
}

/// An integer argument: a C `int` is passed in the low 32 bits of a 64-bit
/// register with the upper half zero (not sign-extended), so a value whose
/// upper half is zero and whose low half is negative as an `int` is shown
/// as that `int` (an fd of -1, `AT_FDCWD`); anything wider as a `long`.
fn int_value(abi: Abi, v: u64) -> i64 {
    if abi == Abi::X86_64 && v >> 32 == 0 {
        sign_extend(Abi::I386, v)
    } else {
        sign_extend(abi, v)
    }
}

/// `AT_FDCWD` from `<fcntl.h>`.
const AT_FDCWD: i64 = -100;

/// Open flag bits (`include/uapi/asm-generic/fcntl.h`, used by x86 for both
/// ABIs), excluding the access mode in the low two bits.
const OPEN_FLAGS: &[(u64, &str)] = &[
    (0o100, "O_CREAT"),
    (0o200, "O_EXCL"),
    (0o400, "O_NOCTTY"),
    (0o1000, "O_TRUNC"),
    (0o2000, "O_APPEND"),
    (0o4000, "O_NONBLOCK"),
    (0o10000, "O_DSYNC"),
    (0o20000, "O_ASYNC"),
    (0o40000, "O_DIRECT"),
    (0o100000, "O_LARGEFILE"),
    (0o200000, "O_DIRECTORY"),
    (0o400000, "O_NOFOLLOW"),
    (0o1000000, "O_NOATIME"),
    (0o2000000, "O_CLOEXEC"),
    (0o4000000, "__O_SYNC"),
    (0o10000000, "O_PATH"),
    (0o20000000, "__O_TMPFILE"),
];

/// Render open flags the way strace does: `O_WRONLY|O_CREAT|O_TRUNC`, with
/// unknown bits appended in hex.
pub fn open_flags(v: u64) -> String {
    let mut parts = vec![match v & 0o3 {
        0 => "O_RDONLY".to_owned(),
        1 => "O_WRONLY".to_owned(),
        2 => "O_RDWR".to_owned(),
        _ => "O_ACCMODE".to_owned(),
    }];
    let mut rest = v & !0o3;
    for &(bit, name) in OPEN_FLAGS {
        if rest & bit != 0 {
            parts.push(name.to_owned());
            rest &= !bit;
        }
    }
    if rest != 0 {
        parts.push(format!("{rest:#x}"));
    }
    parts.join("|")
}

/// Name of x86 Linux signal `n` (1..=31), `None` otherwise (real-time
/// signals and garbage are shown as numbers).
pub fn signal_name(n: u64) -> Option<&'static str> {
    const NAMES: [&str; 31] = [
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    let i = usize::try_from(n.checked_sub(1)?).ok()?;
    NAMES.get(i).copied()
}

use ArgKind::{Fd, Hex, InBuf, Int, Mode, OpenFlags, OutBuf, Path, Ptr, Signal, StrArray};

/// `(names, kinds)`: every name in a row shares the signature.
static SIGNATURES: &[(&[&str], &[ArgKind])] = &[
    // I/O
    (&["read"], &[Fd, OutBuf, Int]),
    (&["write"], &[Fd, InBuf(2), Int]),
    (&["pread64"], &[Fd, OutBuf, Int, Int]),
    (&["pwrite64"], &[Fd, InBuf(2), Int, Int]),
    (&["readv", "writev"], &[Fd, Ptr, Int]),
    (&["preadv", "pwritev"], &[Fd, Ptr, Int, Int, Int]),
    (&["lseek"], &[Fd, Int, Int]),
    (&["_llseek"], &[Fd, Hex, Hex, Ptr, Int]),
    (&["sendfile", "sendfile64"], &[Fd, Fd, Ptr, Int]),
    // Opening and closing
    (&["open"], &[Path, OpenFlags, Mode]),
    (&["openat"], &[Fd, Path, OpenFlags, Mode]),
    (&["openat2"], &[Fd, Path, Ptr, Int]),
    (&["creat"], &[Path, Mode]),
    (&["close"], &[Fd]),
    (&["close_range"], &[Fd, Fd, Hex]),
    (&["dup"], &[Fd]),
    (&["dup2"], &[Fd, Fd]),
    (&["dup3"], &[Fd, Fd, Hex]),
    (&["pipe"], &[Ptr]),
    (&["pipe2"], &[Ptr, Hex]),
    (&["ioctl"], &[Fd, Hex, Hex]),
    (&["fcntl", "fcntl64"], &[Fd, Int, Hex]),
    (&["flock"], &[Fd, Int]),
    (&["fsync", "fdatasync"], &[Fd]),
    // File metadata
    (
        &["stat", "lstat", "stat64", "lstat64", "oldstat", "oldlstat"],
        &[Path, Ptr],
    ),
    (&["fstat", "fstat64", "oldfstat"], &[Fd, Ptr]),
    (&["newfstatat", "fstatat64"], &[Fd, Path, Ptr, Hex]),
    (&["statx"], &[Fd, Path, Hex, Hex, Ptr]),
    (&["statfs", "statfs64"], &[Path, Ptr]),
    (&["fstatfs", "fstatfs64"], &[Fd, Ptr]),
    (&["access"], &[Path, Int]),
    (&["faccessat"], &[Fd, Path, Int]),
    (&["faccessat2"], &[Fd, Path, Int, Hex]),
    (&["readlink"], &[Path, OutBuf, Int]),
    (&["readlinkat"], &[Fd, Path, OutBuf, Int]),
    (&["chmod"], &[Path, Mode]),
    (&["fchmod"], &[Fd, Mode]),
    (&["fchmodat"], &[Fd, Path, Mode]),
    (
        &["chown", "lchown", "chown32", "lchown32"],
        &[Path, Int, Int],
    ),
    (&["fchown", "fchown32"], &[Fd, Int, Int]),
    (&["fchownat"], &[Fd, Path, Int, Int, Hex]),
    (&["truncate", "truncate64"], &[Path, Int]),
    (&["ftruncate", "ftruncate64"], &[Fd, Int]),
    (&["utimensat"], &[Fd, Path, Ptr, Hex]),
    (&["umask"], &[Mode]),
    // Directories and names
    (&["getcwd"], &[OutBuf, Int]),
    (&["chdir", "rmdir", "unlink", "chroot"], &[Path]),
    (&["fchdir"], &[Fd]),
    (&["mkdir"], &[Path, Mode]),
    (&["mkdirat"], &[Fd, Path, Mode]),
    (&["mknod"], &[Path, Mode, Hex]),
    (&["mknodat"], &[Fd, Path, Mode, Hex]),
    (&["unlinkat"], &[Fd, Path, Hex]),
    (&["rename", "link", "symlink"], &[Path, Path]),
    (&["renameat"], &[Fd, Path, Fd, Path]),
    (&["renameat2"], &[Fd, Path, Fd, Path, Hex]),
    (&["linkat"], &[Fd, Path, Fd, Path, Hex]),
    (&["symlinkat"], &[Path, Fd, Path]),
    (&["getdents", "getdents64"], &[Fd, Ptr, Int]),
    // Programs and processes
    (&["execve"], &[Path, StrArray, StrArray]),
    (&["execveat"], &[Fd, Path, StrArray, StrArray, Hex]),
    (&["exit", "exit_group"], &[Int]),
    (&["wait4"], &[Int, Ptr, Hex, Ptr]),
    (&["waitpid"], &[Int, Ptr, Hex]),
    (&["waitid"], &[Int, Int, Ptr, Hex, Ptr]),
    (&["clone"], &[Hex, Ptr, Ptr, Ptr, Hex]),
    (&["clone3"], &[Ptr, Int]),
    (
        &[
            "fork",
            "vfork",
            "getpid",
            "getppid",
            "gettid",
            "getuid",
            "geteuid",
            "getgid",
            "getegid",
            "getuid32",
            "geteuid32",
            "getgid32",
            "getegid32",
            "getpgrp",
            "setsid",
            "sched_yield",
            "pause",
            "rt_sigreturn",
            "sigreturn",
            "restart_syscall",
        ],
        &[],
    ),
    (&["getpgid", "getsid"], &[Int]),
    (&["setpgid"], &[Int, Int]),
    (&["uname", "olduname", "sysinfo"], &[Ptr]),
    (&["prlimit64"], &[Int, Int, Ptr, Ptr]),
    (&["getrlimit", "setrlimit", "ugetrlimit"], &[Int, Ptr]),
    (&["getrusage"], &[Int, Ptr]),
    (&["prctl"], &[Int, Hex, Hex, Hex, Hex]),
    (&["arch_prctl"], &[Hex, Hex]),
    (&["set_thread_area", "get_thread_area"], &[Ptr]),
    (&["set_tid_address"], &[Ptr]),
    (&["set_robust_list"], &[Ptr, Int]),
    (&["rseq"], &[Ptr, Int, Hex, Hex]),
    (&["futex", "futex_time64"], &[Ptr, Int, Int, Ptr, Ptr, Int]),
    (&["getrandom"], &[OutBuf, Int, Hex]),
    // Memory
    (&["mmap", "mmap2"], &[Ptr, Int, Hex, Hex, Fd, Hex]),
    (&["munmap"], &[Ptr, Int]),
    (&["mprotect"], &[Ptr, Int, Hex]),
    (&["madvise"], &[Ptr, Int, Int]),
    (&["mremap"], &[Ptr, Int, Int, Hex, Ptr]),
    (&["brk"], &[Ptr]),
    // Signals and time
    (&["kill"], &[Int, Signal]),
    (&["tkill"], &[Int, Signal]),
    (&["tgkill"], &[Int, Int, Signal]),
    (&["rt_sigaction"], &[Signal, Ptr, Ptr, Int]),
    (&["rt_sigprocmask"], &[Int, Ptr, Ptr, Int]),
    (&["rt_sigsuspend"], &[Ptr, Int]),
    (&["sigaltstack"], &[Ptr, Ptr]),
    (&["alarm"], &[Int]),
    (&["nanosleep"], &[Ptr, Ptr]),
    (
        &["clock_nanosleep", "clock_nanosleep_time64"],
        &[Int, Hex, Ptr, Ptr],
    ),
    (
        &["clock_gettime", "clock_gettime64", "clock_getres"],
        &[Int, Ptr],
    ),
    (&["gettimeofday"], &[Ptr, Ptr]),
    (&["time"], &[Ptr]),
    // Polling
    (&["poll"], &[Ptr, Int, Int]),
    (&["ppoll", "ppoll_time64"], &[Ptr, Int, Ptr, Ptr, Int]),
    (&["epoll_create1"], &[Hex]),
    (&["epoll_ctl"], &[Fd, Int, Fd, Ptr]),
    (&["epoll_wait"], &[Fd, Ptr, Int, Int]),
    (&["eventfd2"], &[Int, Hex]),
    // Sockets
    (&["socket"], &[Int, Int, Int]),
    (&["socketpair"], &[Int, Int, Int, Ptr]),
    (&["connect", "bind"], &[Fd, Ptr, Int]),
    (&["listen"], &[Fd, Int]),
    (&["accept"], &[Fd, Ptr, Ptr]),
    (&["accept4"], &[Fd, Ptr, Ptr, Hex]),
    (&["getsockname", "getpeername"], &[Fd, Ptr, Ptr]),
    (&["sendto"], &[Fd, InBuf(2), Int, Hex, Ptr, Int]),
    (&["recvfrom"], &[Fd, OutBuf, Int, Hex, Ptr, Ptr]),
    (&["sendmsg", "recvmsg"], &[Fd, Ptr, Hex]),
    (&["shutdown"], &[Fd, Int]),
    (&["setsockopt"], &[Fd, Int, Int, Ptr, Int]),
    (&["getsockopt"], &[Fd, Int, Int, Ptr, Ptr]),
    (&["socketcall"], &[Int, Ptr]),
    (&["ipc"], &[Int, Int, Int, Int, Ptr, Int]),
];

/// The argument kinds of syscall `name`; `None` for calls without a signature
/// (they are shown with six hex arguments).
///
/// The table is keyed by name only. Where one name takes different
/// arguments on the two ABIs, use [`signature_for`].
pub fn signature(name: &str) -> Option<&'static [ArgKind]> {
    SIGNATURES
        .iter()
        .find(|(names, _)| names.contains(&name))
        .map(|&(_, kinds)| kinds)
}

/// Like [`signature`], for a call of `abi`: corrects the few names whose
/// i386 arguments differ from the x86_64 ones.
///
/// * i386 `mmap` (90) is `old_mmap`, taking one pointer to a
///   `struct mmap_arg_struct` (`mmap2` is the six-argument form);
/// * i386 `pread64`/`pwrite64` pass the 64-bit offset in two registers
///   (low, high).
pub fn signature_for(abi: Abi, name: &str) -> Option<&'static [ArgKind]> {
    match (abi, name) {
        (Abi::I386, "mmap") => Some(&[Ptr]),
        (Abi::I386, "pread64") => Some(&[Fd, OutBuf, Int, Hex, Hex]),
        (Abi::I386, "pwrite64") => Some(&[Fd, InBuf(2), Int, Hex, Hex]),
        _ => signature(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table;

    /// The calls the trace decoder must know (the work item's list).
    const REQUIRED: &[&str] = &[
        "read",
        "write",
        "pread64",
        "pwrite64",
        "readv",
        "writev",
        "open",
        "openat",
        "openat2",
        "creat",
        "close",
        "stat",
        "lstat",
        "fstat",
        "newfstatat",
        "fstatat64",
        "stat64",
        "lstat64",
        "statx",
        "access",
        "faccessat",
        "faccessat2",
        "execve",
        "execveat",
        "readlink",
        "readlinkat",
        "chdir",
        "fchdir",
        "mkdir",
        "mkdirat",
        "rmdir",
        "unlink",
        "unlinkat",
        "rename",
        "renameat",
        "renameat2",
        "link",
        "linkat",
        "symlink",
        "symlinkat",
        "chmod",
        "fchmodat",
        "chown",
        "lchown",
        "fchownat",
        "truncate",
        "getcwd",
        "mmap",
        "mmap2",
        "munmap",
        "mprotect",
        "brk",
        "ioctl",
        "fcntl",
        "fcntl64",
        "dup",
        "dup2",
        "dup3",
        "pipe",
        "pipe2",
        "socket",
        "connect",
        "bind",
        "sendto",
        "recvfrom",
        "kill",
        "tgkill",
        "exit",
        "exit_group",
        "wait4",
        "clone",
        "clone3",
        "getpid",
        "getppid",
        "gettid",
        "uname",
        "nanosleep",
        "clock_nanosleep",
        "rt_sigaction",
        "rt_sigprocmask",
        "set_tid_address",
        "arch_prctl",
        "set_thread_area",
        "prlimit64",
        "getdents64",
        "lseek",
        "_llseek",
    ];

    #[test]
    fn required_calls_have_signatures() {
        for name in REQUIRED {
            assert!(signature(name).is_some(), "{name} has no signature");
        }
    }

    #[test]
    fn every_name_is_a_real_syscall_and_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for (names, kinds) in SIGNATURES {
            assert!(kinds.len() <= 6, "{names:?}");
            for name in *names {
                assert!(seen.insert(*name), "{name} listed twice");
                let known = [Abi::I386, Abi::X86_64]
                    .iter()
                    .any(|&abi| table::number(abi, name).is_some());
                assert!(known, "{name} is in neither syscall table");
            }
        }
    }

    #[test]
    fn buffer_lengths_point_at_integer_arguments() {
        for (names, kinds) in SIGNATURES {
            for k in kinds.iter() {
                if let InBuf(i) = k {
                    assert_eq!(kinds.get(usize::from(*i)), Some(&Int), "{names:?}");
                }
            }
        }
    }

    #[test]
    fn some_signatures() {
        assert_eq!(signature("write"), Some(&[Fd, InBuf(2), Int][..]));
        assert_eq!(signature("read"), Some(&[Fd, OutBuf, Int][..]));
        assert_eq!(signature("openat"), Some(&[Fd, Path, OpenFlags, Mode][..]));
        assert_eq!(signature("execve"), Some(&[Path, StrArray, StrArray][..]));
        assert_eq!(signature("getcwd"), Some(&[OutBuf, Int][..]));
        assert_eq!(signature("readv"), Some(&[Fd, Ptr, Int][..]));
        assert_eq!(signature("getpid"), Some(&[][..]));
        assert_eq!(signature("kill"), Some(&[Int, Signal][..]));
        assert_eq!(signature("no_such_call"), None);
        assert_eq!(signature(""), None);
    }

    #[test]
    fn abi_specific_signatures() {
        assert_eq!(signature_for(Abi::I386, "mmap"), Some(&[Ptr][..]));
        assert_eq!(signature_for(Abi::X86_64, "mmap").map(<[_]>::len), Some(6));
        assert_eq!(signature_for(Abi::I386, "mmap2").map(<[_]>::len), Some(6));
        assert_eq!(signature_for(Abi::I386, "pread64").map(<[_]>::len), Some(5));
        assert_eq!(
            signature_for(Abi::X86_64, "pread64").map(<[_]>::len),
            Some(4)
        );
        assert_eq!(signature_for(Abi::I386, "write"), signature("write"));
    }

    #[test]
    fn scalar_formatting() {
        assert_eq!(
            Fd.format_scalar(Abi::X86_64, (-100i64).cast_unsigned()),
            Some("AT_FDCWD".into())
        );
        assert_eq!(
            Fd.format_scalar(Abi::I386, 0xffff_ff9c),
            Some("AT_FDCWD".into())
        );
        // The kernel reads an fd as an int: the upper half does not count.
        assert_eq!(
            Fd.format_scalar(Abi::X86_64, 0xffff_ff9c),
            Some("AT_FDCWD".into())
        );
        // An int -1 passed zero-extended (mmap's fd) is -1, a long stays wide.
        assert_eq!(
            Int.format_scalar(Abi::X86_64, 0xffff_ffff),
            Some("-1".into())
        );
        assert_eq!(
            Int.format_scalar(Abi::X86_64, 0x1_0000_0000),
            Some("4294967296".into())
        );
        assert_eq!(Fd.format_scalar(Abi::I386, 3), Some("3".into()));
        assert_eq!(Int.format_scalar(Abi::I386, 0xffff_ffff), Some("-1".into()));
        assert_eq!(
            Int.format_scalar(Abi::I386, 0x1_0000_0005),
            Some("5".into())
        );
        assert_eq!(Int.format_scalar(Abi::X86_64, u64::MAX), Some("-1".into()));
        assert_eq!(Hex.format_scalar(Abi::X86_64, 255), Some("0xff".into()));
        assert_eq!(Ptr.format_scalar(Abi::X86_64, 0), Some("NULL".into()));
        assert_eq!(
            Ptr.format_scalar(Abi::I386, 0xdead_beef),
            Some("0xdeadbeef".into())
        );
        assert_eq!(Mode.format_scalar(Abi::X86_64, 0o644), Some("0644".into()));
        assert_eq!(
            Signal.format_scalar(Abi::X86_64, 15),
            Some("SIGTERM".into())
        );
        assert_eq!(Signal.format_scalar(Abi::I386, 34), Some("34".into()));
        assert_eq!(Signal.format_scalar(Abi::I386, 0), Some("0".into()));
        for k in [Path, InBuf(2), OutBuf, StrArray] {
            assert!(k.reads_memory());
            assert_eq!(k.format_scalar(Abi::X86_64, 1), None);
        }
        assert!(!Int.reads_memory());
    }

    #[test]
    fn open_flag_names() {
        assert_eq!(open_flags(0), "O_RDONLY");
        assert_eq!(open_flags(0o2000000), "O_RDONLY|O_CLOEXEC");
        assert_eq!(open_flags(0o1 | 0o100 | 0o1000), "O_WRONLY|O_CREAT|O_TRUNC");
        assert_eq!(open_flags(0o2 | 0o100000), "O_RDWR|O_LARGEFILE");
        assert_eq!(open_flags(0o3), "O_ACCMODE");
        assert_eq!(open_flags(0x8000_0000), "O_RDONLY|0x80000000");
    }

    #[test]
    fn signal_names() {
        assert_eq!(signal_name(1), Some("SIGHUP"));
        assert_eq!(signal_name(9), Some("SIGKILL"));
        assert_eq!(signal_name(31), Some("SIGSYS"));
        assert_eq!(signal_name(0), None);
        assert_eq!(signal_name(32), None);
        assert_eq!(signal_name(u64::MAX), None);
    }
}
