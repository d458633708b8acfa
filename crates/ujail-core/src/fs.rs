// SPDX-License-Identifier: GPL-3.0-or-later
//! The filesystem policy: an open_basedir for every program.
//!
//! For each call that takes a path (classified by [`ujail_path::classify`]),
//! the path is read from the tracee, resolved the way the kernel would for
//! that thread ([`ujail_path::resolve`]: cwd, dirfd, `..`, symlinks, /proc
//! magic links) and judged by the rules ([`ujail_path::rules`]).
//!
//! **Checked equals used.** An allowed call is not forwarded as the tracee
//! made it: the tracer places the *resolved* path (absolute, no `..`, no
//! symlink left to follow) in the thread's read-only scratch area and
//! rewrites the call to use it, so a sibling thread rewriting the tracee's
//! buffer after the check changes nothing. Opens are rewritten to
//! `openat2(AT_FDCWD, path, {flags, mode, RESOLVE_NO_SYMLINKS})`: if another
//! process swaps a symlink into the checked path between the check and the
//! kernel's walk, the kernel refuses (`ELOOP`) instead of following it.
//!
//! Other path calls (`unlink`, `mkdir`, `rename`, `chmod`, the stat
//! family, ...) have no such flag: they are rewritten to an *anchored* path,
//! `/proc/<mirror>/fd/N[/name]`, over an fd the tracer opened on the
//! checked path without following symlinks (the `anchor` submodule).
//!
//! `execve` must get the path itself (the kernel shows it to the program),
//! so it gets the checked path, which the kernel walks again. The tracer
//! pins the checked program (and each `#!` interpreter in its chain) with
//! an fd opened without following symlinks, and at the exec event compares
//! `/proc/PID/exe` with the last of them: a program that is not the checked
//! one (a symlink swapped in between, a `binfmt_misc` format) is killed
//! before its first instruction.
//!
//! What remains (documented in the README): a program of a root-run jail
//! that switched to another user cannot follow the tracer's fd links, so
//! its calls get the checked path.
//! Socket calls (unix path addresses and the network policy) are in the
//! `socket` submodule.
//!
//! Jail-integrity defaults live here too, each overridable by name: the
//! calls [`ujail_path::classify::Class::Dangerous`] lists, signals to
//! processes outside the jail, namespace flags, ABI-changing personalities,
//! writes to `/proc/PID/mem`.
#![forbid(unsafe_code)]

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use ujail_mem::{MemError, RemoteAddr};
use ujail_path::classify::{
    self, open_effective_op, open_follows_last, Class, OpenHow, PathArg, PathOp, AT_FDCWD,
    CREAT_FLAGS, O_CREAT, O_TMPFILE_BIT, RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS,
    RESOLVE_NO_SYMLINKS,
};
use ujail_path::resolve::{self, FdTarget, ProcessView, Resolution};
use ujail_path::rules::{Decision, PathRules};
use ujail_regs::{table, Abi};

use crate::errno;
use crate::handler::{Call, Event, Handler, Memory, Pid, ResultAction, Verdict, Watch};
use crate::net::NetPolicy;
use anchor::Mode;

mod anchor;
mod socket;

/// Longest path read from the tracee (PATH_MAX).
const PATH_MAX: usize = 4096;
/// `struct open_how` is three u64.
const OPEN_HOW_SIZE: u64 = 24;
/// Open flags the kernel accepts in `open_how.flags` (VALID_OPEN_FLAGS);
/// `openat` ignores unknown bits, `openat2` refuses them.
const VALID_OPEN_FLAGS: u64 = 0o3
    | 0o100
    | 0o200
    | 0o400
    | 0o1000
    | 0o2000
    | 0o4000
    | 0o10000
    | 0o20000
    | 0o40000
    | 0o100000
    | 0o200000
    | 0o400000
    | 0o1000000
    | 0o2000000
    | 0o4000000
    | 0o10000000
    | 0o20000000;
/// Namespace flags of clone/unshare (CLONE_NEW*), include/uapi/linux/sched.h.
const CLONE_NEW_MASK: u64 = 0x0000_0080
    | 0x0002_0000
    | 0x0200_0000
    | 0x0400_0000
    | 0x0800_0000
    | 0x1000_0000
    | 0x2000_0000
    | 0x4000_0000;
const AF_UNIX: u16 = 1;

/// Why a call is refused, for the log.
struct Refusal {
    errno: i32,
    what: String,
    /// A policy decision (logged), not an error the kernel would give too.
    logged: bool,
}

type Checked = Result<Option<Rewrite>, Refusal>;

/// `#!` interpreters checked and pinned for one exec: as many as the
/// kernel follows (`exec_binprm` stops at depth 5).
const EXEC_INTERPRETERS: usize = 5;

/// ujail could not copy a tracee's fd (`what`): `bad_fd` when it is not
/// open (the caller's kernel answer), else `EACCES` (not logged).
fn fd_copy_refusal(e: &io::Error, bad_fd: i32, what: String) -> Refusal {
    Refusal {
        errno: if e.raw_os_error() == Some(libc::EBADF) {
            bad_fd
        } else {
            libc::EACCES
        },
        what: format!("{what}: {e}"),
        logged: false,
    }
}

/// `path` does not exist (not logged: the kernel's own answer).
fn missing(path: &Path) -> Refusal {
    Refusal {
        errno: libc::ENOENT,
        what: format!("{}: no such file", path.display()),
        logged: false,
    }
}

/// An allowed call, rewritten to read checked copies.
struct Rewrite {
    nr: u64,
    args: [u64; 6],
}

/// The filesystem policy, wrapping another handler (e.g. a deny list) that
/// is asked first.
pub struct FsPolicy<H> {
    inner: H,
    rules: PathRules,
    /// Log what would be refused, refuse nothing.
    audit: bool,
    /// Default-denied calls the policy allows anyway, by name.
    allowed: HashSet<String>,
    /// Jailed processes may read their own `/proc/PID` entries.
    proc_self: bool,
    out: Box<dyn Write>,
    tgids: HashMap<Pid, Pid>,
    /// The network policy (socket calls).
    net: NetPolicy,
    /// Calls whose result is judged, per thread, and whether the inner
    /// handler asked for the result too.
    results: HashMap<Pid, (socket::Pending, bool)>,
    /// The tracer's fds behind anchored paths, per thread.
    anchors: anchor::Anchors,
    /// Fds anchoring the call being judged now.
    anchoring: Vec<std::os::fd::OwnedFd>,
    /// Per thread, its last checked exec: the program's path and the
    /// pinned files of the program and its `#!` interpreters (the last is
    /// what the kernel must run), until the exec event or its next call.
    execs: HashMap<Pid, (PathBuf, Vec<std::fs::File>)>,
}

impl<H> std::fmt::Debug for FsPolicy<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FsPolicy")
            .field("audit", &self.audit)
            .finish_non_exhaustive()
    }
}

impl<H: Handler> FsPolicy<H> {
    /// A policy granting what `rules` grant (nothing else once any rule is
    /// given), asking `inner` first; denials are logged to `out`.
    pub fn new(inner: H, rules: PathRules, out: Box<dyn Write>) -> FsPolicy<H> {
        FsPolicy {
            inner,
            rules,
            audit: false,
            allowed: HashSet::new(),
            proc_self: true,
            out,
            tgids: HashMap::new(),
            net: NetPolicy::permissive(),
            results: HashMap::new(),
            anchors: anchor::Anchors::new(),
            anchoring: Vec::new(),
            execs: HashMap::new(),
        }
    }

    /// Judge socket calls by `net` (the default denies raw and packet
    /// sockets and allows the rest).
    pub fn with_net(mut self, net: NetPolicy) -> Self {
        self.net = net;
        self
    }

    /// Audit mode: allow everything, log what would be denied.
    pub fn audit(mut self, on: bool) -> Self {
        self.audit = on;
        self
    }

    /// Allow a call that is denied by default (`ptrace`, `io_uring_setup`,
    /// `kill` of outside processes is `kill`, ...). Unknown names are an error.
    pub fn allow_call(&mut self, name: &str) -> Result<(), crate::policy::RuleError> {
        if table::number(Abi::I386, name).is_none() && table::number(Abi::X86_64, name).is_none() {
            return Err(crate::policy::RuleError::UnknownSyscall(name.to_string()));
        }
        self.allowed.insert(name.to_string());
        Ok(())
    }

    fn tgid(&mut self, pid: Pid) -> Pid {
        *self
            .tgids
            .entry(pid)
            .or_insert_with(|| read_tgid(pid).unwrap_or(pid))
    }

    fn log_refusal(&mut self, call: &Call, r: &Refusal) {
        let comm = std::fs::read_to_string(format!("/proc/{}/comm", call.pid)).unwrap_or_default();
        let verb = if self.audit { "would deny" } else { "denied" };
        // Paths and program names are the program's choice: control
        // characters are escaped, so one denial is always one line.
        let _ = writeln!(
            self.out,
            "ujail: {verb}: pid {} ({}) {} {}: {}",
            call.pid,
            crate::net::printable(comm.trim_end_matches('\n')),
            call.name.unwrap_or("?"),
            crate::net::printable(&r.what),
            errno::name(r.errno).unwrap_or("E?")
        );
        let _ = self.out.flush();
    }

    /// Judge `call`; `Ok(None)`: forward as is; `Ok(Some)`: forward rewritten.
    fn check(&mut self, call: &Call, mem: &mut dyn Memory) -> Checked {
        let Some(name) = call.name else {
            return Err(Refusal {
                errno: libc::ENOSYS,
                what: format!("unknown system call {}", call.nr),
                logged: true,
            });
        };
        let Some(class) = classify::classify(call.abi, name) else {
            return Err(Refusal {
                errno: libc::ENOSYS,
                what: "unclassified system call".into(),
                logged: true,
            });
        };
        let mode_arg = if name == "open" { 2 } else { 3 };
        if socket::is_socket_call(name) {
            return self.check_socket(call, name, mem);
        }
        match class {
            // The integrity defaults, with or without path rules.
            Class::NoPath => self.check_no_path(call, name, mem).map(|()| None),
            Class::Dangerous(reason)
                if !self.allowed.contains(name) && !unshare_without_namespaces(call, name) =>
            {
                Err(Refusal {
                    errno: libc::EPERM,
                    what: format!("denied by default: {reason}"),
                    logged: true,
                })
            }
            Class::Dangerous(_) => Ok(None),
            // No path rule: opens for writing are still judged (on a checked
            // copy of their resolved path), for /proc/PID/mem.
            Class::Open { path, dirfd, flags }
                if !self.rules.is_empty() || writes(call.args[usize::from(flags)]) =>
            {
                self.check_open(
                    call,
                    path,
                    dirfd,
                    call.args[usize::from(flags)],
                    mode_arg,
                    mem,
                )
            }
            Class::OpenAt2 => self.check_openat2(call, mem),
            // creat always opens for writing.
            Class::Creat { path } => self.check_open(call, path, None, CREAT_FLAGS, 1, mem),
            _ if self.rules.is_empty() => Ok(None),
            Class::Paths(args) => self.check_paths(call, args, mem),
            Class::Socket => Ok(None),
            Class::FdOnly => self.check_fd(call, name, mem),
            Class::Open { .. } => Ok(None),
        }
    }

    fn view(&mut self, call: &Call) -> View {
        View {
            pid: call.pid,
            tgid: self.tgid(call.pid),
        }
    }

    /// Judge a resolved path for `op`.
    fn judge(&self, res: &Resolution, op: PathOp, mem: &dyn Memory) -> Result<(), Refusal> {
        let path = match res {
            // A magic link to a pipe, socket or other object the process
            // already holds: nothing on the filesystem to protect.
            Resolution::Anon(_) => return Ok(()),
            Resolution::Path(r) => &r.path,
        };
        if self
            .anchors
            .mirror()
            .is_some_and(|m| proc_pid(path) == Some(m))
        {
            // ujail's fd mirror is for the anchored paths ujail writes,
            // never for the program to name.
            return Err(Refusal {
                errno: libc::ENOENT,
                what: format!("{} (hidden: ujail's fd mirror)", path.display()),
                logged: true,
            });
        }
        if self.proc_self {
            if let Some(p) = proc_pid(path) {
                if mem.is_jailed(p) {
                    // Its own /proc entries: readable, never writable (a
                    // write to /proc/PID/mem would bypass the tracer).
                    return match op {
                        PathOp::Read | PathOp::Stat => Ok(()),
                        _ => Err(Refusal {
                            errno: libc::EACCES,
                            what: format!("{} ({op:?})", path.display()),
                            logged: true,
                        }),
                    };
                }
            }
        }
        if self.rules.is_empty() {
            return match proc_mem_file(path) {
                Some(_)
                    if op != PathOp::Read
                        && op != PathOp::Stat
                        && !self.allowed.contains("proc_pid_mem") =>
                {
                    Err(Refusal {
                        errno: libc::EACCES,
                        what: format!("{} ({op:?})", path.display()),
                        logged: true,
                    })
                }
                _ => Ok(()),
            };
        }
        match self.rules.decide(path, op) {
            Decision::Allow => Ok(()),
            Decision::Deny(e) => Err(Refusal {
                errno: e,
                what: format!("{} ({op:?})", path.display()),
                logged: true,
            }),
            Decision::Hide => Err(Refusal {
                errno: libc::ENOENT,
                what: format!("{} (hidden)", path.display()),
                logged: true,
            }),
        }
    }

    /// The existing file of `link`/`linkat`: allowed only under `rw` (the
    /// new name may be in a writable tree); `EPERM` as the kernel's
    /// `fs.protected_hardlinks` answers.
    fn judge_link_source(&self, res: &Resolution) -> Result<(), Refusal> {
        let Resolution::Path(r) = res else {
            return Ok(());
        };
        match self.rules.decide_link_source(&r.path) {
            Decision::Allow => Ok(()),
            Decision::Deny(e) => Err(Refusal {
                errno: e,
                what: format!("{} (link source)", r.path.display()),
                logged: true,
            }),
            Decision::Hide => Err(Refusal {
                errno: libc::ENOENT,
                what: format!("{} (hidden)", r.path.display()),
                logged: true,
            }),
        }
    }

    fn check_no_path(
        &mut self,
        call: &Call,
        name: &str,
        mem: &mut dyn Memory,
    ) -> Result<(), Refusal> {
        let a = call.args;
        let signed = |v: u64| ujail_regs::regs::sign_extend(call.abi, v);
        let outside = |pid: i64| -> bool {
            // kill(-pgrp) of a group led by a jailed process stays inside;
            // 0 (the caller's group, which holds ujail and maybe more) and
            // -1 (every process we may signal) do not.
            let p = pid.unsigned_abs();
            match i32::try_from(p) {
                Ok(p) if p != 0 && pid != -1 => !mem.is_jailed(p),
                _ => true,
            }
        };
        // Calls that name a target process with 0 meaning "the caller".
        let target = |v: u64| {
            let pid = signed(v & 0xffff_ffff);
            pid != 0 && outside(pid)
        };
        let i32_arg = |v: u64| ujail_regs::regs::sign_extend(Abi::I386, v & 0xffff_ffff);
        let (f_setown, f_setown_ex) = (8, 15);
        let (tiocsti, tioclinux, fiosetown, siocspgrp) = (0x5412, 0x541c, 0x8901, 0x8902);
        let refused = match name {
            "kill" | "rt_sigqueueinfo" if outside(signed(a[0])) => true,
            "tkill" if outside(signed(a[0])) => true,
            "tgkill" | "rt_tgsigqueueinfo" if outside(signed(a[0])) || outside(signed(a[1])) => {
                true
            }
            "pidfd_open" if outside(signed(a[0])) => true,
            "pidfd_send_signal" => {
                pidfd_target(call.pid, fd_arg(call.abi, a[0])).is_none_or(|p| outside(i64::from(p)))
            }
            // A signal owner outside the jail (SIGIO/SIGURG, F_SETSIG any).
            "fcntl" | "fcntl64" if i32_arg(a[1]) == f_setown => {
                let owner = i32_arg(a[2]);
                owner != 0 && outside(owner)
            }
            "fcntl" | "fcntl64" if i32_arg(a[1]) == f_setown_ex => true,
            // Typing into the terminal (TIOCSTI, TIOCLINUX) reaches the
            // user's shell; FIOSETOWN/SIOCSPGRP set a signal owner.
            "ioctl" => {
                matches!(a[1] & 0xffff_ffff, x if x == tiocsti || x == tioclinux || x == fiosetown || x == siocspgrp)
            }
            "prlimit64" | "sched_setaffinity" | "sched_setscheduler" | "sched_setparam"
            | "sched_setattr" | "migrate_pages" | "move_pages" => target(a[0]),
            // setpriority/ioprio_set(which, who): a process, a group or a user.
            "setpriority" => match a[0] & 0xffff_ffff {
                0 | 1 => target(a[1]),
                _ => true,
            },
            "ioprio_set" => match a[0] & 0xffff_ffff {
                1 | 2 => target(a[1]),
                _ => true,
            },
            "clone" if a[0] & CLONE_NEW_MASK != 0 => true,
            // args[0] is the tracer's read-only copy of clone_args here.
            "clone3" => {
                let mut flags = [0u8; 8];
                mem.read(RemoteAddr(a[0]), &mut flags)
                    .is_ok_and(|()| u64::from_le_bytes(flags) & CLONE_NEW_MASK != 0)
            }
            "personality" => {
                // Query (0xffffffff) or PER_LINUX / PER_LINUX32 with flags.
                let p = a[0] & 0xffff_ffff;
                p != 0xffff_ffff && !matches!(p & 0xff, 0 | 8)
            }
            _ => false,
        };
        if refused && !self.allowed.contains(name) {
            return Err(Refusal {
                errno: libc::EPERM,
                what: "outside the jail".into(),
                logged: true,
            });
        }
        Ok(())
    }

    fn read_path(&self, mem: &mut dyn Memory, addr: u64) -> Result<Vec<u8>, Refusal> {
        mem.read_cstr(RemoteAddr(addr), PATH_MAX)
            .map_err(|e| mem_refusal(&e))
    }

    fn check_paths(&mut self, call: &Call, args: &[PathArg], mem: &mut dyn Memory) -> Checked {
        let view = self.view(call);
        let mut new_args = call.args;
        let mut placed = false;
        let mode = self.anchors.mode(call.pid);
        for pa in args {
            let i = usize::from(pa.path);
            let raw = call.args[i];
            let bytes = if raw == 0 {
                Vec::new()
            } else {
                self.read_path(mem, raw)?
            };
            let dirfd = pa
                .dirfd
                .map(|d| fd_arg(call.abi, call.args[usize::from(d)]));
            let on_fd = pa.names_dirfd_object(&call.args, raw == 0, bytes.is_empty());
            if on_fd && pa.op == PathOp::Stat {
                // fstat-like: the process already holds the object.
                continue;
            }
            if on_fd && pa.op != PathOp::Exec && mode == Mode::Anchor {
                if let Some(d) = pa.dirfd {
                    if let Some(anchored) = self.anchor_dirfd_object(call, pa, d, raw == 0, mem)? {
                        new_args = anchored;
                        placed = true;
                        continue;
                    }
                }
            }
            let follows = pa.follow.follows(&call.args);
            if !on_fd && raw != 0 && follows && pa.op != PathOp::Exec {
                // A descriptor's magic link (/proc/self/fd/N): judged and
                // used through ujail's copy of the descriptor.
                if let Some(link) = self.fd_link(&view, dirfd, &bytes, mem)? {
                    let op = if is_link_source(call, pa) {
                        None
                    } else {
                        Some(pa.op)
                    };
                    new_args[i] = self.anchor_fd_link(call, link, op, mode, mem)?;
                    placed = true;
                    continue;
                }
            }
            // An exec of a descriptor runs what the descriptor holds.
            let exec_fd = match (pa.op, on_fd) {
                (PathOp::Exec, true) => Some((call.pid, dirfd.unwrap_or(-100))),
                (PathOp::Exec, false) if raw != 0 => self.fd_link(&view, dirfd, &bytes, mem)?,
                _ => None,
            };
            let res = if on_fd {
                resolve::resolve_fd(&view, dirfd.unwrap_or(-100))
            } else if raw == 0 {
                return Err(Refusal {
                    errno: libc::EFAULT,
                    what: "NULL path".into(),
                    logged: true,
                });
            } else {
                resolve::resolve(&view, dirfd, &bytes, pa.follow.follows(&call.args))
            }
            .map_err(|e| Refusal {
                errno: e.errno(),
                what: format!("{:?}: {e}", String::from_utf8_lossy(&bytes)),
                logged: false,
            })?;
            if is_link_source(call, pa) {
                self.judge_link_source(&res)?;
            } else {
                self.judge(&res, pa.op, mem)?;
            }
            if pa.op == PathOp::Exec {
                let first = match exec_fd {
                    Some(link) => Some(self.exec_fd_pin(link)?),
                    None => None,
                };
                let (shown, pins) = self.check_exec(&res, first, mem)?;
                if pins.is_empty() {
                    self.execs.remove(&call.pid);
                } else {
                    self.execs.insert(call.pid, (shown, pins));
                }
            }
            if bytes.is_empty() {
                continue; // the dirfd's own object: nothing to copy
            }
            if let Resolution::Path(r) = &res {
                if r.is_symlink && follows {
                    // The object of a magic link is a symlink (an O_PATH
                    // descriptor of one): the kernel would act on it, the
                    // checked path would follow it.
                    return Err(Refusal {
                        errno: libc::ELOOP,
                        what: format!(
                            "{}: a symlink reached through a magic link",
                            r.path.display()
                        ),
                        logged: true,
                    });
                }
            }
            let copy = match (&res, mode) {
                (Resolution::Path(r), Mode::Anchor) if pa.op != PathOp::Exec => {
                    match self.anchors.anchor(r, follows, &mut self.anchoring) {
                        Ok(Some(anchored)) => anchored,
                        Ok(None) => r.path.as_os_str().as_bytes().to_vec(),
                        Err(e) => return Err(anchor_refusal(r, &e)),
                    }
                }
                (Resolution::Path(_), Mode::Refuse(errno)) if pa.op != PathOp::Exec => {
                    return Err(cannot_anchor(errno));
                }
                (Resolution::Path(r), _) => r.path.as_os_str().as_bytes().to_vec(),
                (Resolution::Anon(_), _) => {
                    jailed_link(mem, anon_link_path(&view, dirfd, &bytes)?)?
                }
            };
            new_args[i] = place_cstr(mem, &copy)?;
            placed = true;
        }
        Ok(placed.then_some(Rewrite {
            nr: call.nr,
            args: new_args,
        }))
    }

    /// What ujail's copy `copy` of the program's fd `fd` refers to.
    fn held_object(&self, copy: i32, fd: i32) -> Result<Resolution, Refusal> {
        let tracer = self.anchors.tracer();
        let own = View {
            pid: tracer,
            tgid: tracer,
        };
        resolve::resolve_fd(&own, copy).map_err(|e| Refusal {
            errno: libc::EBADF,
            what: format!("fd {fd}: {e}"),
            logged: false,
        })
    }

    /// `Some((tid, fd))` when `bytes` (from `dirfd` or the cwd) ends in a
    /// descriptor's magic link, `/proc/<P>[/task/<T>]/fd/<N>` (also through
    /// `/proc/self`, `/dev/fd`), of a jailed thread; refused for a process
    /// outside the jail (ujail's fd mirror included).
    fn fd_link(
        &mut self,
        view: &View,
        dirfd: Option<i32>,
        bytes: &[u8],
        mem: &dyn Memory,
    ) -> Result<Option<(Pid, i32)>, Refusal> {
        let trimmed = match bytes.iter().rposition(|&b| b != b'/') {
            Some(end) => &bytes[..=end],
            None => return Ok(None),
        };
        let (dir, last): (&[u8], &[u8]) = match trimmed.iter().rposition(|&b| b == b'/') {
            Some(0) => (b"/", &trimmed[1..]),
            Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
            None => (b".", trimmed),
        };
        if last.is_empty() || !last.iter().all(u8::is_ascii_digit) {
            return Ok(None);
        }
        let Ok(fd) = std::str::from_utf8(last).unwrap_or("").parse::<i32>() else {
            return Ok(None);
        };
        let Ok(Resolution::Path(r)) = resolve::resolve(view, dirfd, dir, true) else {
            return Ok(None);
        };
        let parts: Vec<&[u8]> = r
            .path
            .as_os_str()
            .as_bytes()
            .split(|&b| b == b'/')
            .skip(1)
            .collect();
        let num = |b: &[u8]| std::str::from_utf8(b).ok()?.parse::<Pid>().ok();
        let tid = match parts.as_slice() {
            [b"proc", p, b"fd"] => num(p),
            [b"proc", _, b"task", t, b"fd"] => num(t),
            _ => None,
        };
        let Some(tid) = tid else {
            return Ok(None);
        };
        if !mem.is_jailed(tid) {
            return Err(Refusal {
                errno: libc::EACCES,
                what: format!(
                    "{}/{fd}: a descriptor of a process outside the jail",
                    r.path.display()
                ),
                logged: true,
            });
        }
        Ok(Some((tid, fd)))
    }

    /// The anchored path of descriptor `link` (a jailed thread's fd):
    /// ujail's copy of it is judged for `op` (`None`: as a link source) and
    /// the kernel follows the mirror's link to the copy, so a sibling's
    /// `dup2` onto the fd number after the check changes nothing. Placed in
    /// the scratch area; its address.
    fn anchor_fd_link(
        &mut self,
        call: &Call,
        link: (Pid, i32),
        op: Option<PathOp>,
        mode: Mode,
        mem: &mut dyn Memory,
    ) -> Result<u64, Refusal> {
        let (copy, anchored) = match mode {
            // The program cannot follow the mirror's links: the thread's own
            // link, judged as before (its process is jailed).
            Mode::Plain => {
                let view = self.view(call);
                let res = resolve::resolve_fd(&view, link.1).map_err(|e| Refusal {
                    errno: e.errno(),
                    what: format!("fd {}: {e}", link.1),
                    logged: false,
                })?;
                match op {
                    None => self.judge_link_source(&res)?,
                    Some(op) => self.judge(&res, op, mem)?,
                }
                let plain = format!("/proc/{}/fd/{}", link.0, link.1).into_bytes();
                return place_cstr(mem, &plain);
            }
            _ => self.copy_fd(link, mode)?,
        };
        let res = self.held_object(copy, link.1)?;
        match op {
            None => self.judge_link_source(&res)?,
            Some(op) => self.judge(&res, op, mem)?,
        }
        place_cstr(mem, &anchored)
    }

    /// Thread `tid`'s process id: as recorded, else from its status.
    fn tgid_of(&self, tid: Pid) -> Pid {
        self.tgids
            .get(&tid)
            .copied()
            .unwrap_or_else(|| read_tgid(tid).unwrap_or(tid))
    }

    /// ujail's copy of descriptor `link` and its anchored path, or the
    /// refusal of `mode`.
    fn copy_fd(&mut self, link: (Pid, i32), mode: Mode) -> Result<(i32, Vec<u8>), Refusal> {
        if let Mode::Refuse(errno) = mode {
            return Err(cannot_anchor(errno));
        }
        let (tid, fd) = link;
        let tgid = self.tgid_of(tid);
        self.anchors
            .tracee_fd(tid, tgid, fd, &mut self.anchoring)
            .map_err(|e| fd_copy_refusal(&e, libc::ENOENT, format!("/proc/{tid}/fd/{fd}")))
    }

    /// An open of a descriptor's magic link: rewritten to `openat2` of the
    /// anchored path of ujail's copy, judged for the open's access.
    #[allow(clippy::too_many_arguments)]
    fn open_fd_link(
        &mut self,
        call: &Call,
        view: &View,
        dirfd: Option<i32>,
        bytes: &[u8],
        flags: u64,
        mode: u64,
        resolve: u64,
        mem: &mut dyn Memory,
    ) -> Checked {
        let Some(link) = self.fd_link(view, dirfd, bytes, mem)? else {
            return Ok(None);
        };
        let anchor_mode = self.anchors.mode(call.pid);
        if anchor_mode == Mode::Plain {
            // Judged the old way (the pid is jailed).
            return Ok(None);
        }
        if resolve & RESOLVE_NO_SYMLINKS != 0 {
            return Err(Refusal {
                errno: libc::ELOOP,
                what: "a magic link with RESOLVE_NO_SYMLINKS".into(),
                logged: false,
            });
        }
        let (copy, anchored) = self.copy_fd(link, anchor_mode)?;
        let res = self.held_object(copy, link.1)?;
        let op = match &res {
            Resolution::Path(r) => open_effective_op(flags, r.exists),
            Resolution::Anon(_) => classify::open_op(flags),
        };
        self.judge(&res, op, mem)?;
        // The kernel follows the mirror's magic link: no RESOLVE_NO_SYMLINKS.
        let link = Resolution::Anon(String::new());
        self.openat2(call, &link, &anchored, flags, mode, resolve, mem)
    }

    /// A call on the object its dirfd names (`fchownat(fd, "",
    /// AT_EMPTY_PATH)`, `utimensat(fd, NULL, ...)`, `linkat(fd, "", ...,
    /// AT_EMPTY_PATH)`): judged on the tracer's copy of the fd (or, for
    /// `AT_FDCWD`, on the cwd's path, opened without symlinks) and
    /// rewritten to its anchored path, following it: a sibling's `dup2` or
    /// `chdir` after the check changes nothing. Returns the call's
    /// rewritten arguments; `None` when the follow rule cannot be forced
    /// (the call is then judged the old way).
    fn anchor_dirfd_object(
        &mut self,
        call: &Call,
        pa: &PathArg,
        dirfd_idx: u8,
        null_path: bool,
        mem: &mut dyn Memory,
    ) -> Result<Option<[u64; 6]>, Refusal> {
        let mut args = call.args;
        match pa.follow {
            classify::Follow::Always => {}
            classify::Follow::UnlessFlag { arg, bit } => {
                if null_path && args[usize::from(arg)] & 0xffff_ffff != 0 {
                    // utimensat: flags with a NULL path are EINVAL.
                    return Err(Refusal {
                        errno: libc::EINVAL,
                        what: "flags with a NULL path".into(),
                        logged: false,
                    });
                }
                args[usize::from(arg)] &= !bit;
            }
            classify::Follow::IfFlag { arg, bit } => args[usize::from(arg)] |= bit,
            classify::Follow::Never | classify::Follow::OpenFlags { .. } => return Ok(None),
        }
        let fd = fd_arg(call.abi, call.args[usize::from(dirfd_idx)]);
        let (res, anchored) = if i64::from(fd) == AT_FDCWD {
            let view = self.view(call);
            let res = resolve::resolve_fd(&view, fd).map_err(|e| Refusal {
                errno: e.errno(),
                what: format!("cwd: {e}"),
                logged: false,
            })?;
            let Resolution::Path(r) = &res else {
                return Ok(None);
            };
            match self.anchors.anchor(r, true, &mut self.anchoring) {
                Ok(Some(a)) => (res, a),
                Ok(None) => return Ok(None),
                Err(e) => return Err(anchor_refusal(r, &e)),
            }
        } else {
            let tgid = self.tgid(call.pid);
            let (copy, anchored) = self
                .anchors
                .tracee_fd(call.pid, tgid, fd, &mut self.anchoring)
                .map_err(|e| Refusal {
                    errno: libc::EBADF,
                    what: format!("fd {fd}: {e}"),
                    logged: false,
                })?;
            (self.held_object(copy, fd)?, anchored)
        };
        if is_link_source(call, pa) {
            self.judge_link_source(&res)?;
        } else {
            self.judge(&res, pa.op, mem)?;
        }
        args[usize::from(dirfd_idx)] =
            ujail_regs::regs::truncate(call.abi, AT_FDCWD.cast_unsigned());
        args[usize::from(pa.path)] = place_cstr(mem, &anchored)?;
        Ok(Some(args))
    }

    /// The program of an exec: a `#!` script also runs its interpreter
    /// (and that one's, up to the kernel's five levels), which the kernel
    /// opens without a system call: each needs Exec too. Returns the path
    /// the program was checked as and each file of the chain pinned
    /// ([`anchor::pin`]; a symlink swapped into a checked path since the
    /// check fails the exec with `ELOOP`). `first`: the program itself,
    /// already held (an exec of a descriptor: ujail's copy of it). The `#!`
    /// line is read through the pins, never through a path again.
    fn check_exec(
        &self,
        res: &Resolution,
        first: Option<std::fs::File>,
        mem: &dyn Memory,
    ) -> Result<(PathBuf, Vec<std::fs::File>), Refusal> {
        let mut path = match res {
            Resolution::Path(r) => r.path.clone(),
            Resolution::Anon(what) => PathBuf::from(what),
        };
        let shown = path.clone();
        let mut next = match (res, first) {
            (_, Some(f)) => Some(f),
            (Resolution::Path(_), None) => None,
            // An object without a path that is not a descriptor: nothing
            // the tracer can hold (the exec is still of a jailed object).
            (Resolution::Anon(_), None) => return Ok((shown, Vec::new())),
        };
        let mut pins = Vec::new();
        for _ in 0..=EXEC_INTERPRETERS {
            let file = match next.take() {
                Some(f) => f,
                None => anchor::pin(&path).map_err(|e| match e.kind() {
                    // Missing: the kernel's answer, given by the tracer (an
                    // unpinned program would be unchecked if it appeared).
                    io::ErrorKind::NotFound => missing(&path),
                    _ => Refusal {
                        errno: e.raw_os_error().unwrap_or(libc::EACCES),
                        what: format!("{}: cannot pin the checked program: {e}", path.display()),
                        logged: true,
                    },
                })?,
            };
            let interp = shebang_in(&file).map_err(|e| Refusal {
                // The kernel's answer for an exec of a non-regular file.
                errno: libc::EACCES,
                what: format!(
                    "{}: cannot read it to check its interpreter: {e}",
                    path.display()
                ),
                logged: true,
            })?;
            pins.push(file);
            let Some(interp) = interp else {
                return Ok((shown, pins));
            };
            let view = NoProcess;
            let res = resolve::resolve(&view, None, interp.as_os_str().as_bytes(), true).map_err(
                |e| Refusal {
                    errno: e.errno(),
                    what: format!("interpreter {}: {e}", interp.display()),
                    logged: false,
                },
            )?;
            self.judge(&res, PathOp::Exec, mem)?;
            let Resolution::Path(r) = res else {
                return Err(Refusal {
                    errno: libc::EACCES,
                    what: format!("interpreter {}: not a file", interp.display()),
                    logged: true,
                });
            };
            path = r.path;
        }
        // A deeper chain than the kernel follows: it fails the exec, and
        // if not, the exec event finds another program than the last pin.
        Ok((shown, pins))
    }

    /// ujail's copy of the descriptor `link` (thread, fd) that an exec
    /// names (`execveat(fd, "", AT_EMPTY_PATH)`, `/proc/self/fd/N`): what
    /// the kernel will run, whatever the descriptor's path now leads to.
    fn exec_fd_pin(&self, link: (Pid, i32)) -> Result<std::fs::File, Refusal> {
        let (tid, fd) = link;
        let tgid = self.tgid_of(tid);
        crate::sys::tracee_fd(tid, tgid, fd)
            .map(std::fs::File::from)
            .map_err(|e| fd_copy_refusal(&e, libc::EBADF, format!("exec of fd {fd}")))
    }

    /// Thread `former`'s exec completed as process `pid`: it must run the
    /// program that was checked, else it is killed before it runs (logged).
    fn verify_exec(&mut self, pid: Pid, former: Pid) {
        let Some((path, pins)) = self.execs.remove(&former) else {
            return;
        };
        let Some(last) = pins.last() else {
            return;
        };
        if anchor::runs(pid, last) {
            return;
        }
        let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
            .map_or_else(|e| format!("? ({e})"), |p| p.display().to_string());
        let verb = if self.audit { "would kill" } else { "killed" };
        let _ = writeln!(
            self.out,
            "ujail: {verb}: pid {pid} execve {}: runs {}, not the program checked",
            crate::net::printable(&path.display().to_string()),
            crate::net::printable(&exe),
        );
        let _ = self.out.flush();
        if !self.audit {
            let _ = crate::sys::kill(pid, libc::SIGKILL);
        }
    }

    fn check_open(
        &mut self,
        call: &Call,
        path: u8,
        dirfd: Option<u8>,
        flags: u64,
        mode_arg: usize,
        mem: &mut dyn Memory,
    ) -> Checked {
        let view = self.view(call);
        let bytes = self.read_path(mem, call.args[usize::from(path)])?;
        let dirfd = dirfd.map(|d| fd_arg(call.abi, call.args[usize::from(d)]));
        let mode = if flags & (O_CREAT | O_TMPFILE_BIT) != 0 {
            call.args[mode_arg] & 0o7777
        } else {
            0
        };
        if open_follows_last(flags) {
            if let Some(r) = self.open_fd_link(call, &view, dirfd, &bytes, flags, mode, 0, mem)? {
                return Ok(Some(r));
            }
        }
        let res =
            resolve::resolve(&view, dirfd, &bytes, open_follows_last(flags)).map_err(|e| {
                Refusal {
                    errno: e.errno(),
                    what: format!("{:?}: {e}", String::from_utf8_lossy(&bytes)),
                    logged: false,
                }
            })?;
        let op = match &res {
            Resolution::Path(r) => open_effective_op(flags, r.exists),
            Resolution::Anon(_) => classify::open_op(flags),
        };
        self.judge(&res, op, mem)?;
        let bytes = match &res {
            Resolution::Anon(_) => jailed_link(mem, anon_link_path(&view, dirfd, &bytes)?)?,
            Resolution::Path(_) => bytes,
        };
        self.openat2(call, &res, &bytes, flags, mode, 0, mem)
    }

    /// Rewrite an allowed open into `openat2` on the checked path.
    #[allow(clippy::too_many_arguments)]
    fn openat2(
        &self,
        call: &Call,
        res: &Resolution,
        original: &[u8],
        flags: u64,
        mode: u64,
        resolve: u64,
        mem: &mut dyn Memory,
    ) -> Checked {
        let at_fdcwd = ujail_regs::regs::truncate(call.abi, AT_FDCWD.cast_unsigned());
        let (path, resolve) = match res {
            // No symlink may be followed any more, except a final one the
            // call does not follow anyway (O_NOFOLLOW|O_PATH of a link).
            Resolution::Path(r) if !r.is_symlink => {
                (r.path.as_os_str().as_bytes(), resolve | RESOLVE_NO_SYMLINKS)
            }
            Resolution::Path(r) if open_follows_last(flags) => {
                // A symlink object of a magic link, which the kernel would
                // refuse to open (ELOOP); the checked path would follow it.
                return Err(Refusal {
                    errno: libc::ELOOP,
                    what: format!(
                        "{}: a symlink reached through a magic link",
                        r.path.display()
                    ),
                    logged: false,
                });
            }
            Resolution::Path(r) => (r.path.as_os_str().as_bytes(), resolve),
            // A magic link other than a descriptor's (/proc/self/ns/net):
            // the kernel must follow it; `original` is the link's absolute
            // path, of a jailed process.
            Resolution::Anon(_) => (original, resolve),
        };
        let path = place_cstr(mem, path)?;
        // openat2 (Linux 5.6) is in both generated tables.
        let Some(nr) = table::number(call.abi, "openat2") else {
            return Err(Refusal {
                errno: libc::ENOSYS,
                what: "no openat2 in the tables".into(),
                logged: true,
            });
        };
        let mut how = Vec::with_capacity(24);
        // openat ignores what O_PATH does not honour; openat2 refuses it.
        let flags = if flags & classify::O_PATH != 0 {
            flags & classify::O_PATH_FLAGS
        } else {
            flags & VALID_OPEN_FLAGS
        };
        how.extend_from_slice(&flags.to_le_bytes());
        how.extend_from_slice(&mode.to_le_bytes());
        how.extend_from_slice(&resolve.to_le_bytes());
        let how = mem.place(&how).ok_or_else(|| Refusal {
            errno: libc::ENOMEM,
            what: "no scratch area for open_how".into(),
            logged: true,
        })?;
        Ok(Some(Rewrite {
            nr,
            args: [at_fdcwd, path, how.0, OPEN_HOW_SIZE, 0, 0],
        }))
    }

    fn check_openat2(&mut self, call: &Call, mem: &mut dyn Memory) -> Checked {
        let size = call.args[3];
        if size < OPEN_HOW_SIZE {
            return Err(Refusal {
                errno: libc::EINVAL,
                what: "short open_how".into(),
                logged: true,
            });
        }
        let mut raw = [0u8; 24];
        mem.read(RemoteAddr(call.args[2]), &mut raw)
            .map_err(|e| mem_refusal(&e))?;
        let how = OpenHow::parse(&raw).ok_or_else(|| Refusal {
            errno: libc::EINVAL,
            what: "bad open_how".into(),
            logged: true,
        })?;
        if how.resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT) != 0 {
            // Resolution relative to a root the tracer does not model:
            // refused rather than judged on a different path.
            return Err(Refusal {
                errno: libc::ENOSYS,
                what: "openat2 RESOLVE_BENEATH/IN_ROOT".into(),
                logged: true,
            });
        }
        let view = self.view(call);
        let bytes = self.read_path(mem, call.args[1])?;
        let dirfd = Some(fd_arg(call.abi, call.args[0]));
        if how.follows_last() && how.resolve & RESOLVE_NO_MAGICLINKS == 0 {
            let (flags, mode, resolve) = (how.flags, how.mode, how.resolve);
            if let Some(r) =
                self.open_fd_link(call, &view, dirfd, &bytes, flags, mode, resolve, mem)?
            {
                return Ok(Some(r));
            }
        }
        let res =
            resolve::resolve(&view, dirfd, &bytes, how.follows_last()).map_err(|e| Refusal {
                errno: e.errno(),
                what: format!("{:?}: {e}", String::from_utf8_lossy(&bytes)),
                logged: false,
            })?;
        let op = match &res {
            Resolution::Path(r) => open_effective_op(how.flags, r.exists),
            Resolution::Anon(_) => classify::open_op(how.flags),
        };
        self.judge(&res, op, mem)?;
        let bytes = match &res {
            Resolution::Anon(_) => jailed_link(mem, anon_link_path(&view, dirfd, &bytes)?)?,
            Resolution::Path(_) => bytes,
        };
        self.openat2(call, &res, &bytes, how.flags, how.mode, how.resolve, mem)
    }

    fn check_fd(&mut self, call: &Call, name: &str, mem: &mut dyn Memory) -> Checked {
        let Some((fd_idx, op)) = classify::fd_op(call.abi, name) else {
            return Ok(None);
        };
        let view = self.view(call);
        let fd = fd_arg(call.abi, call.args[usize::from(fd_idx)]);
        if op == PathOp::SetAttr {
            match self.anchors.mode(call.pid) {
                Mode::Anchor => return self.anchor_fd_call(call, name, fd, mem),
                Mode::Refuse(errno) => return Err(cannot_anchor(errno)),
                Mode::Plain => {}
            }
        }
        // What the fd names cannot be judged: refuse (the kernel's answer for
        // a bad fd, and fail closed for one the tracer cannot see).
        let res = resolve::resolve_fd(&view, fd).map_err(|e| Refusal {
            errno: libc::EBADF,
            what: format!("fd {fd}: {e}"),
            logged: false,
        })?;
        self.judge(&res, op, &NoMemory).map(|()| None)
    }

    /// `fchmod`, `fchown`, `fsetxattr`, `fremovexattr` of fd `fd`: judged
    /// on the tracer's copy of the fd and rewritten to the path call on its
    /// anchored path, so that a sibling's `dup2` over the fd number after
    /// the check changes nothing.
    fn anchor_fd_call(
        &mut self,
        call: &Call,
        name: &str,
        fd: i32,
        mem: &mut dyn Memory,
    ) -> Checked {
        let tgid = self.tgid(call.pid);
        let (copy, anchored) = self
            .anchors
            .tracee_fd(call.pid, tgid, fd, &mut self.anchoring)
            .map_err(|e| Refusal {
                errno: libc::EBADF,
                what: format!("fd {fd}: {e}"),
                logged: false,
            })?;
        if sys_flags(copy) & libc::O_PATH != 0 {
            // The kernel's answer for fchmod & co. on an O_PATH descriptor.
            return Err(Refusal {
                errno: libc::EBADF,
                what: format!("fd {fd}: O_PATH"),
                logged: false,
            });
        }
        let res = self.held_object(copy, fd)?;
        self.judge(&res, PathOp::SetAttr, &NoMemory)?;
        let a = call.args;
        let at_fdcwd = ujail_regs::regs::truncate(call.abi, AT_FDCWD.cast_unsigned());
        let path = place_cstr(mem, &anchored)?;
        // i386 fchown takes 16-bit ids; (u16)-1 means "unchanged".
        let id16 = |v: u64| match v & 0xffff {
            0xffff => 0xffff_ffff,
            id => id,
        };
        let (to, args) = match name {
            "fchmod" => ("fchmodat", [at_fdcwd, path, a[1], 0, 0, 0]),
            "fchown" if call.abi == Abi::I386 => {
                ("fchownat", [at_fdcwd, path, id16(a[1]), id16(a[2]), 0, 0])
            }
            "fchown" | "fchown32" => ("fchownat", [at_fdcwd, path, a[1], a[2], 0, 0]),
            "fsetxattr" => ("setxattr", [path, a[1], a[2], a[3], a[4], 0]),
            "fremovexattr" => ("removexattr", [path, a[1], 0, 0, 0, 0]),
            _ => {
                return Err(Refusal {
                    errno: libc::ENOSYS,
                    what: format!("{name}: no anchored form"),
                    logged: true,
                })
            }
        };
        let nr = table::number(call.abi, to).ok_or_else(|| Refusal {
            errno: libc::ENOSYS,
            what: format!("no {to} in the tables"),
            logged: true,
        })?;
        Ok(Some(Rewrite { nr, args }))
    }
}

/// Calls of [`Class::NoPath`] that [`FsPolicy::check_no_path`] may refuse
/// (the seccomp filter must let the tracer see them).
const NO_PATH_CHECKED: &[&str] = &[
    "kill",
    "rt_sigqueueinfo",
    "tkill",
    "tgkill",
    "rt_tgsigqueueinfo",
    "pidfd_open",
    "pidfd_send_signal",
    "fcntl",
    "fcntl64",
    "ioctl",
    "prlimit64",
    "sched_setaffinity",
    "sched_setscheduler",
    "sched_setparam",
    "sched_setattr",
    "migrate_pages",
    "move_pages",
    "setpriority",
    "ioprio_set",
    "clone",
    "clone3",
    "personality",
];

impl<H: Handler> Handler for FsPolicy<H> {
    fn watch(&self, abi: Abi, nr: u64) -> Watch {
        let inner = self.inner.watch(abi, nr);
        if inner != Watch::Allow {
            return inner;
        }
        let Some(name) = table::name(abi, nr) else {
            return Watch::Trace;
        };
        if self.anchors.reads_credentials() && anchor::changes_credentials(name) {
            // Forgets the thread modes read from credentials (on_call).
            return Watch::Trace;
        }
        if socket::is_socket_call(name) {
            // Socket creation is judged even without rules (raw, packet).
            let always = matches!(name, "socket" | "socketpair" | "socketcall");
            return if always || self.net.is_active() || !self.rules.is_empty() {
                Watch::Trace
            } else {
                Watch::Allow
            };
        }
        match classify::classify(abi, name) {
            None
            | Some(
                Class::Dangerous(_) | Class::Open { .. } | Class::OpenAt2 | Class::Creat { .. },
            ) => Watch::Trace,
            Some(Class::NoPath) if NO_PATH_CHECKED.contains(&name) => Watch::Trace,
            Some(Class::NoPath) => Watch::Allow,
            Some(_) if self.rules.is_empty() => Watch::Allow,
            Some(_) => Watch::Trace,
        }
    }

    fn wants_scratch(&self) -> bool {
        // Checked copies: every path under rules, opens for writing without.
        true
    }

    fn on_call(&mut self, call: &Call, mem: &mut dyn Memory) -> Verdict {
        // An exec that failed: its pins are of no use now.
        self.execs.remove(&call.pid);
        if call.name.is_some_and(anchor::changes_credentials) {
            // Before the call runs; the thread's next call reads them anew.
            self.anchors.forget_credentials(None);
        }
        let v = self.inner.on_call(call, mem);
        if !matches!(v, Verdict::Forward | Verdict::ForwardReport) {
            return v;
        }
        let report = v == Verdict::ForwardReport;
        self.results.remove(&call.pid);
        // A previous call that never reported (abandoned for a signal).
        self.anchors.release(call.pid);
        self.anchoring.clear();
        let checked = self.check(call, mem);
        let anchored = !self.anchoring.is_empty();
        let fds = std::mem::take(&mut self.anchoring);
        if anchored && !self.audit && matches!(checked, Ok(Some(_))) {
            // Held until the call returns (on_result), else closed here.
            self.anchors.hold(call.pid, fds, report);
        }
        // A socket call whose result is judged (accept's peer, ...).
        let ours = match self.results.get_mut(&call.pid) {
            Some(p) if checked.is_ok() => {
                p.1 = report;
                true
            }
            Some(_) => {
                self.results.remove(&call.pid);
                false
            }
            None => false,
        };
        match checked {
            Ok(None) if ours => Verdict::ForwardReport,
            Ok(None) => v,
            Ok(Some(_)) if self.audit => v,
            Ok(Some(rw)) => Verdict::Rewrite {
                nr: rw.nr,
                args: rw.args,
                report: report || ours || anchored,
            },
            Err(r) if !r.logged => {
                // The kernel's own answer (ENOENT, ENOTDIR, ...), given by
                // the tracer so that it is about the path it resolved.
                if self.audit {
                    v
                } else {
                    Verdict::Deny(r.errno)
                }
            }
            Err(r) => {
                self.log_refusal(call, &r);
                if self.audit {
                    v
                } else {
                    Verdict::Deny(r.errno)
                }
            }
        }
    }

    fn on_result(&mut self, call: &Call, ret: Option<i64>, mem: &mut dyn Memory) -> ResultAction {
        // Calls with anchored paths report to close their anchors.
        let anchored = self.anchors.release(call.pid);
        let Some((pending, inner_report)) = self.results.remove(&call.pid) else {
            return if anchored == Some(false) {
                ResultAction::Keep
            } else {
                self.inner.on_result(call, ret, mem)
            };
        };
        let inner = if inner_report {
            self.inner.on_result(call, ret, mem)
        } else {
            ResultAction::Keep
        };
        match ret {
            Some(r) => match self.judge_result(call, pending, r, mem) {
                ResultAction::Keep => inner,
                ours => ours,
            },
            None => inner,
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        let net = self.net.finish();
        self.inner.finish().and(net)
    }

    fn on_event(&mut self, event: &Event) {
        if let Event::Exited { pid, .. } | Event::Killed { pid, .. } = event {
            self.tgids.remove(pid);
            self.results.remove(pid);
            self.anchors.release(*pid);
            self.anchors.forget_credentials(Some(*pid));
            self.execs.remove(pid);
        }
        if let Event::Spawned { child, .. } = event {
            self.anchors.forget_credentials(Some(*child));
        }
        if let Event::Exec { pid, former } = event {
            self.tgids.remove(former);
            self.tgids.remove(pid);
            self.anchors.forget_credentials(None);
            self.verify_exec(*pid, *former);
        }
        self.inner.on_event(event);
    }
}

/// The tracee thread as the resolver sees it, through /proc.
struct View {
    pid: Pid,
    tgid: Pid,
}

impl ProcessView for View {
    fn pid(&self) -> i32 {
        self.pid
    }
    fn tgid(&self) -> i32 {
        self.tgid
    }
    fn cwd(&self) -> io::Result<PathBuf> {
        std::fs::read_link(format!("/proc/{}/cwd", self.pid))
    }
    fn fd_path(&self, fd: i32) -> io::Result<FdTarget> {
        let target = std::fs::read_link(format!("/proc/{}/fd/{fd}", self.pid))?;
        // A memfd reads as "/memfd:NAME (deleted)": no filesystem path.
        let memfd = target.as_os_str().as_bytes().starts_with(b"/memfd:");
        Ok(if target.is_absolute() && !memfd {
            FdTarget::Path(target)
        } else {
            FdTarget::Anon(target.to_string_lossy().into_owned())
        })
    }
}

/// For paths that never depend on a process (a `#!` interpreter).
struct NoProcess;

impl ProcessView for NoProcess {
    fn pid(&self) -> i32 {
        0
    }
    fn tgid(&self) -> i32 {
        0
    }
    fn cwd(&self) -> io::Result<PathBuf> {
        Ok(PathBuf::from("/"))
    }
    fn fd_path(&self, _fd: i32) -> io::Result<FdTarget> {
        Err(io::Error::from_raw_os_error(libc::EBADF))
    }
}

/// For fd-only checks, which read no tracee memory.
struct NoMemory;

impl Memory for NoMemory {
    fn read(&mut self, addr: RemoteAddr, _buf: &mut [u8]) -> Result<(), MemError> {
        Err(MemError::Fault {
            op: ujail_mem::Access::Read,
            pid: 0,
            addr,
        })
    }
    fn read_cstr(&mut self, addr: RemoteAddr, _limit: usize) -> Result<Vec<u8>, MemError> {
        Err(MemError::Fault {
            op: ujail_mem::Access::Read,
            pid: 0,
            addr,
        })
    }
}

fn read_tgid(pid: Pid) -> Option<Pid> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|v| v.trim().parse().ok())
}

/// The process a pidfd (or a `/proc/PID` directory fd, which the pidfd
/// calls accept) of tracee `pid` refers to.
fn pidfd_target(pid: Pid, fd: i32) -> Option<Pid> {
    let link = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
    if let Some(p) = proc_pid(&link) {
        return (link.components().count() == 3).then_some(p);
    }
    let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("Pid:"))
        .and_then(|v| v.trim().parse().ok())
}

/// The absolute path of the magic link that `bytes` ends in, for a path
/// that resolves to an object without a filesystem path (a pipe behind
/// `/proc/self/fd/N`): its directory resolved, plus its last component. The
/// kernel then follows the same link whatever the cwd or dirfd become.
fn anon_link_path(view: &View, dirfd: Option<i32>, bytes: &[u8]) -> Result<Vec<u8>, Refusal> {
    let refuse = || Refusal {
        errno: libc::EACCES,
        what: format!("{:?}: not a magic link", String::from_utf8_lossy(bytes)),
        logged: true,
    };
    let trimmed = match bytes.iter().rposition(|&b| b != b'/') {
        Some(end) => &bytes[..=end],
        None => return Err(refuse()),
    };
    let (dir, last): (&[u8], &[u8]) = match trimmed.iter().rposition(|&b| b == b'/') {
        Some(0) => (b"/", &trimmed[1..]),
        Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
        None => (b".", trimmed),
    };
    if last.is_empty() || last == b"." || last == b".." {
        return Err(refuse());
    }
    match resolve::resolve(view, dirfd, dir, true) {
        Ok(Resolution::Path(r)) => {
            let mut p = r.path.as_os_str().as_bytes().to_vec();
            if p.last() != Some(&b'/') {
                p.push(b'/');
            }
            p.extend_from_slice(last);
            Ok(p)
        }
        _ => Err(refuse()),
    }
}

/// A dirfd/fd argument as the kernel reads it: the low 32 bits as an int.
fn fd_arg(_abi: Abi, v: u64) -> i32 {
    u32::try_from(v & 0xffff_ffff)
        .unwrap_or(u32::MAX)
        .cast_signed()
}

/// Open flags that ask for write access (O_WRONLY, O_RDWR, O_CREAT,
/// O_TRUNC).
fn writes(flags: u64) -> bool {
    flags & 0o3 != 0 || flags & (O_CREAT | classify::O_TRUNC) != 0
}

/// `unshare` without namespace flags (CLONE_FILES, CLONE_FS, CLONE_SYSVSEM)
/// only unshares the caller's own tables: not a default denial.
fn unshare_without_namespaces(call: &Call, name: &str) -> bool {
    name == "unshare" && call.args[0] & CLONE_NEW_MASK == 0
}

/// `Some(pid)` for `/proc/PID/mem` and `/proc/PID/task/TID/mem`.
fn proc_mem_file(path: &Path) -> Option<Pid> {
    let pid = proc_pid(path)?;
    let rest: Vec<_> = path
        .components()
        .skip(3)
        .map(|c| c.as_os_str().to_owned())
        .collect();
    let is_mem = match rest.as_slice() {
        [m] => m == "mem",
        [t, _, m] => t == "task" && m == "mem",
        _ => false,
    };
    is_mem.then_some(pid)
}

/// `Some(pid)` for `/proc/PID` and anything below it.
fn proc_pid(path: &Path) -> Option<Pid> {
    let rest = path.strip_prefix("/proc").ok()?;
    rest.components().next()?.as_os_str().to_str()?.parse().ok()
}

fn mem_refusal(e: &MemError) -> Refusal {
    match e {
        MemError::TooLong { .. } => Refusal {
            errno: libc::ENAMETOOLONG,
            what: "path too long".into(),
            logged: true,
        },
        _ => Refusal {
            errno: libc::EFAULT,
            what: format!("bad address: {e}"),
            logged: true,
        },
    }
}

/// `link`/`linkat`'s existing file (judged by
/// [`FsPolicy::judge_link_source`]).
fn is_link_source(call: &Call, pa: &PathArg) -> bool {
    matches!(call.name, Some("link" | "linkat")) && pa.op == PathOp::Write
}

/// A magic link to an object without a path must be one of a jailed
/// process (`/proc/<outside pid>/fd/0` would hand out its pipe).
fn jailed_link(mem: &dyn Memory, link: Vec<u8>) -> Result<Vec<u8>, Refusal> {
    let path = Path::new(std::ffi::OsStr::from_bytes(&link));
    match proc_pid(path) {
        Some(p) if mem.is_jailed(p) => Ok(link),
        _ => Err(Refusal {
            errno: libc::EACCES,
            what: format!(
                "{}: a magic link of a process outside the jail",
                path.display()
            ),
            logged: true,
        }),
    }
}

/// A thread whose credentials do not let it follow the mirror's links, and
/// that holds capabilities (or whose credentials cannot be read).
fn cannot_anchor(errno: i32) -> Refusal {
    Refusal {
        errno,
        what: "cannot anchor the path: the thread's credentials differ from ujail's and it holds capabilities (or they cannot be read)".into(),
        logged: true,
    }
}

/// The open flags of ujail's fd `fd` (0 if unknown).
fn sys_flags(fd: i32) -> i32 {
    crate::sys::fd_flags(fd).unwrap_or(0)
}

/// The tracer could not anchor the checked path `r`: the call fails with
/// the kernel's answer. `ELOOP` means a symlink appeared in the checked path
/// after the check: logged, as an attempt to swap it.
fn anchor_refusal(r: &ujail_path::resolve::Resolved, e: &io::Error) -> Refusal {
    let errno = e.raw_os_error().unwrap_or(libc::EACCES);
    Refusal {
        errno,
        what: format!("{}: changed after the check ({e})", r.path.display()),
        logged: errno == libc::ELOOP || errno == libc::EXDEV,
    }
}

fn place_cstr(mem: &mut dyn Memory, bytes: &[u8]) -> Result<u64, Refusal> {
    let mut v = bytes.to_vec();
    v.push(0);
    mem.place(&v).map(|a| a.0).ok_or_else(|| Refusal {
        errno: libc::ENOMEM,
        what: "no scratch area for a checked copy".into(),
        logged: true,
    })
}

/// `msg_name`/`msg_namelen` of a `struct msghdr` at `addr`.
fn read_msg_name(abi: Abi, mem: &mut dyn Memory, addr: u64) -> Result<(u64, u64), Refusal> {
    let w = abi.word_size();
    let mut raw = [0u8; 16];
    mem.read(RemoteAddr(addr), &mut raw[..2 * w])
        .map_err(|e| mem_refusal(&e))?;
    let word = |i: usize| {
        let mut b = [0u8; 8];
        b[..w].copy_from_slice(&raw[i * w..(i + 1) * w]);
        u64::from_le_bytes(b)
    };
    Ok((word(0), word(1) & 0xffff_ffff))
}

/// The interpreter of a `#!` script, if `path` is one (`None` also when it
/// cannot be read; see [`shebang_of`]).
pub fn shebang(path: &Path) -> Option<PathBuf> {
    shebang_of(path).ok().flatten()
}

/// The interpreter of a `#!` script: `Ok(None)` when `path` is not one,
/// `Err` when it cannot be read.
fn shebang_of(path: &Path) -> io::Result<Option<PathBuf>> {
    shebang_line(std::fs::File::open(path)?)
}

/// The interpreter of the `#!` script held by `file` (an `O_PATH` pin),
/// read through ujail's own `/proc/self/fd` link to it, non-blocking: a
/// program that is not a regular file is refused (the kernel does too)
/// before anything could block on it.
fn shebang_in(file: &std::fs::File) -> io::Result<Option<PathBuf>> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    if !file.metadata()?.is_file() {
        return Err(io::Error::from_raw_os_error(libc::EACCES));
    }
    let reopened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(format!("/proc/self/fd/{}", file.as_raw_fd()))?;
    shebang_line(reopened)
}

/// The interpreter named by a `#!` line at the start of `file`.
fn shebang_line(mut file: std::fs::File) -> io::Result<Option<PathBuf>> {
    use std::io::Read;
    let mut head = [0u8; 256];
    let n = file.read(&mut head)?;
    let Some(line) = head[..n].strip_prefix(b"#!") else {
        return Ok(None);
    };
    let line = line.split(|&b| b == b'\n').next().unwrap_or_default();
    Ok(line
        .split(|&b| b == b' ' || b == b'\t')
        .find(|s| !s.is_empty())
        .map(|interp| PathBuf::from(std::ffi::OsStr::from_bytes(interp))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_pid_of_paths() {
        assert_eq!(proc_pid(Path::new("/proc/123/mem")), Some(123));
        assert_eq!(proc_pid(Path::new("/proc/123")), Some(123));
        assert_eq!(proc_pid(Path::new("/proc/self")), None);
        assert_eq!(proc_pid(Path::new("/proc")), None);
        assert_eq!(proc_pid(Path::new("/etc/123")), None);
    }

    #[test]
    fn proc_mem_files() {
        assert_eq!(proc_mem_file(Path::new("/proc/12/mem")), Some(12));
        assert_eq!(proc_mem_file(Path::new("/proc/12/task/13/mem")), Some(12));
        assert_eq!(proc_mem_file(Path::new("/proc/12/maps")), None);
        assert_eq!(proc_mem_file(Path::new("/proc/12/task/13/maps")), None);
        assert_eq!(proc_mem_file(Path::new("/tmp/12/mem")), None);
        assert!(writes(0o1) && writes(0o2) && writes(0o100) && !writes(0o0) && !writes(0o2000000));
    }

    #[test]
    fn fd_arguments_are_ints() {
        assert_eq!(fd_arg(Abi::I386, 0xffff_ff9c), -100);
        assert_eq!(fd_arg(Abi::X86_64, 0xffff_ffff_ffff_ff9c), -100);
        assert_eq!(fd_arg(Abi::X86_64, 3), 3);
    }

    /// The seccomp filter lets [`Class::NoPath`] calls outside
    /// [`NO_PATH_CHECKED`] run unseen: `check_no_path` must never refuse
    /// them, whatever their arguments.
    #[test]
    fn unwatched_no_path_calls_are_never_refused() {
        let mut p = FsPolicy::new(
            crate::policy::DenyList::new(),
            PathRules::new(),
            Box::new(io::sink()),
        );
        let values = [
            0,
            1,
            2,
            8,
            15,
            0x10,
            0x5412,
            0x541c,
            0x8901,
            0x8902,
            0xffff_ffff,
            u64::MAX,
        ];
        for abi in [Abi::I386, Abi::X86_64] {
            for (nr, name) in table::all(abi) {
                if classify::classify(abi, name) != Some(Class::NoPath)
                    || NO_PATH_CHECKED.contains(&name)
                    || socket::is_socket_call(name)
                {
                    continue;
                }
                for v in values {
                    let call = Call {
                        pid: 1,
                        abi,
                        nr,
                        name: Some(name),
                        args: [v; 6],
                        ip: 0,
                        initial_exec: false,
                    };
                    assert!(
                        p.check_no_path(&call, name, &mut NoMemory).is_ok(),
                        "{abi} {name} refused with args {v:#x}: add it to NO_PATH_CHECKED"
                    );
                }
            }
        }
    }

    #[test]
    fn shebang_interpreter() {
        let dir = std::env::temp_dir().join(format!("ujail-fs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let s = dir.join("s");
        std::fs::write(&s, b"#! /usr/bin/env  python3\nprint(1)\n").unwrap();
        assert_eq!(shebang(&s), Some(PathBuf::from("/usr/bin/env")));
        std::fs::write(&s, b"\x7fELF").unwrap();
        assert_eq!(shebang(&s), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
