// SPDX-License-Identifier: GPL-3.0-or-later
//! Anchored paths: the kernel walks exactly what the policy checked.
//!
//! Opens are rewritten to `openat2(RESOLVE_NO_SYMLINKS)` on the checked
//! path. The other path calls (`unlink`, `mkdir`, `rename`, `chmod`, the
//! stat family, ...) have no such flag, so the tracer takes the walk from
//! the kernel: it opens the checked object itself — or, for a call that
//! does not follow its final component, the object's parent directory —
//! with `openat2(O_PATH, RESOLVE_NO_SYMLINKS)` and rewrites the call to
//! `/proc/<mirror>/fd/<N>` (or `/proc/<mirror>/fd/<N>/<name>`). Following
//! that magic link jumps straight to the object the tracer holds, which no
//! later rename or symlink swap can change; a symlink swapped into the path
//! between the check and the tracer's open makes the open fail (`ELOOP`),
//! and the call with it. The fds are held until the call returns.
//!
//! ujail is non-dumpable, so no jailed process may follow its own
//! `/proc/<ujail>/fd` links. The links handed out are those of its *fd
//! mirror* instead: a dumpable child that shares ujail's fd table
//! (`CLONE_FILES`) and does nothing else ([`crate::sys::spawn_fd_mirror`]),
//! started at the first anchor. Following them needs the tracee's
//! filesystem ids to match ujail's ids (`ptrace_may_access` in read mode),
//! which holds unless a root-run jail's program switched to another user. Such calls
//! get the plain checked path, as before anchoring (documented in the
//! README). `execve` is not anchored either: the kernel shows its path to
//! the program (`AT_EXECFN`, a script's argument).
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use ujail_path::classify::{O_PATH, RESOLVE_NO_SYMLINKS};
use ujail_path::resolve::Resolved;

use crate::handler::Pid;
use crate::sys;

const O_DIRECTORY: u64 = 0o200_000;
const O_CLOEXEC: u64 = 0o2_000_000;

/// The tracer's held fds, per tracee thread, for the calls in flight.
#[derive(Debug)]
pub(super) struct Anchors {
    /// The tracer's process id.
    tracer: u32,
    /// The fd mirror's pid, for `/proc/<mirror>/fd`, once started; the
    /// error it failed with, if it could not be.
    mirror: Option<Result<libc::pid_t, i32>>,
    /// The tracer's uid and gid; `None` when its real, effective and saved
    /// ids differ (no tracee can follow its fd links: nothing is anchored).
    ids: Option<(u32, u32)>,
    /// Per thread: the fds, and whether the wrapped handler asked for the
    /// call's result itself.
    held: HashMap<Pid, (Vec<OwnedFd>, bool)>,
    /// Per thread: its [`Mode`] when ujail runs as root, read from its
    /// status once and kept until a call that may change its credentials
    /// ([`changes_credentials`]), an exec, or its death.
    modes: HashMap<Pid, Mode>,
}

impl Anchors {
    pub(super) fn new() -> Anchors {
        Anchors {
            tracer: std::process::id(),
            mirror: None,
            ids: sys::own_ids(),
            held: HashMap::new(),
            modes: HashMap::new(),
        }
    }

    /// True when [`Anchors::mode`] reads thread credentials (ujail runs as
    /// root): the calls that change them must then be seen.
    pub(super) fn reads_credentials(&self) -> bool {
        matches!(self.ids, Some((0, _)))
    }

    /// Forget what is known of thread `pid`'s credentials; all threads'
    /// when `pid` is `None` (an exec, or a call that may change them).
    pub(super) fn forget_credentials(&mut self, pid: Option<Pid>) {
        match pid {
            Some(pid) => {
                self.modes.remove(&pid);
            }
            None => self.modes.clear(),
        }
    }

    /// How thread `pid`'s checked paths reach the kernel. It can follow the
    /// mirror's fd links when its filesystem ids are ujail's, or it has
    /// `CAP_SYS_PTRACE` (the kernel's `ptrace_may_access` in read mode).
    /// Without privilege (ujail's uid not 0) the program cannot have
    /// changed its ids. A program of a root-run jail that switched to
    /// another user and kept no capability gets plain checked paths (not
    /// race-free, documented); one that kept capabilities is refused, so
    /// that changing its ids cannot turn anchoring off while it keeps the
    /// power to use the race.
    pub(super) fn mode(&mut self, pid: Pid) -> Mode {
        let Some((uid, gid)) = self.ids else {
            return Mode::Plain;
        };
        if uid != 0 {
            return Mode::Anchor;
        }
        if let Some(&mode) = self.modes.get(&pid) {
            return mode;
        }
        let mode = match creds(pid) {
            Some(c) if (c.fsuid, c.fsgid) == (uid, gid) || c.cap_eff & CAP_SYS_PTRACE != 0 => {
                Mode::Anchor
            }
            Some(c) if c.cap_eff == 0 => Mode::Plain,
            Some(_) => Mode::Refuse(libc::EPERM),
            // Unreadable (ujail out of fds?): fail closed, read again
            // next time.
            None => return Mode::Refuse(libc::EAGAIN),
        };
        self.modes.insert(pid, mode);
        mode
    }

    /// `/proc/<mirror>/fd/<fd>`, the mirror started if need be.
    fn link(&mut self, fd: i32) -> io::Result<Vec<u8>> {
        let mirror = *self.mirror.get_or_insert_with(|| {
            sys::spawn_fd_mirror().map_err(|e| e.raw_os_error().unwrap_or(libc::EAGAIN))
        });
        let pid = mirror.map_err(io::Error::from_raw_os_error)?;
        Ok(format!("/proc/{pid}/fd/{fd}").into_bytes())
    }

    /// The anchored path for checked `r`, the fd behind it added to `held`.
    /// `follow`: the call follows a final symlink (then the object itself
    /// is held; otherwise its parent directory). `Ok(None)`: `r` is `/`,
    /// which needs no anchor.
    pub(super) fn anchor(
        &mut self,
        r: &Resolved,
        follow: bool,
        held: &mut Vec<OwnedFd>,
    ) -> io::Result<Option<Vec<u8>>> {
        let whole = follow && !r.is_symlink;
        let (target, name) = if whole {
            (r.path.as_path(), None)
        } else {
            match (r.path.parent(), r.path.file_name()) {
                (Some(parent), Some(name)) => (parent, Some(name)),
                _ => return Ok(None),
            }
        };
        let c = CString::new(target.as_os_str().as_bytes())
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let flags = O_PATH | O_CLOEXEC | if whole { 0 } else { O_DIRECTORY };
        let fd = sys::openat2(&c, flags, RESOLVE_NO_SYMLINKS)?;
        let mut path = self.link(fd.as_raw_fd())?;
        if let Some(name) = name {
            path.push(b'/');
            path.extend_from_slice(name.as_bytes());
        }
        held.push(fd);
        Ok(Some(path))
    }

    /// A copy of tracee thread `tid`'s fd `fd` (same open file description,
    /// `pidfd_getfd`), added to `held`: its number in the tracer and the
    /// anchored path of its object, `/proc/<mirror>/fd/<N>`. What the copy
    /// refers to cannot change, unlike what the tracee's fd number does.
    pub(super) fn tracee_fd(
        &mut self,
        tid: Pid,
        tgid: Pid,
        fd: i32,
        held: &mut Vec<OwnedFd>,
    ) -> io::Result<(i32, Vec<u8>)> {
        let copy = sys::tracee_fd(tid, tgid, fd)?;
        let n = copy.as_raw_fd();
        let link = self.link(n)?;
        held.push(copy);
        Ok((n, link))
    }

    /// The fd mirror's pid, once started.
    pub(super) fn mirror(&self) -> Option<Pid> {
        match self.mirror {
            Some(Ok(pid)) => Some(pid),
            _ => None,
        }
    }

    /// The tracer's own process id.
    pub(super) fn tracer(&self) -> Pid {
        Pid::try_from(self.tracer).unwrap_or(0)
    }

    /// Hold `fds` until thread `pid`'s call returns; `report`: the wrapped
    /// handler wants the result too.
    pub(super) fn hold(&mut self, pid: Pid, fds: Vec<OwnedFd>, report: bool) {
        if fds.is_empty() {
            self.held.remove(&pid);
        } else {
            self.held.insert(pid, (fds, report));
        }
    }

    /// Thread `pid`'s call returned (or never will): close its fds.
    /// `Some(report)` if it had any, with what [`Anchors::hold`] was told.
    pub(super) fn release(&mut self, pid: Pid) -> Option<bool> {
        self.held.remove(&pid).map(|(_, report)| report)
    }

    /// Fds held now, over all threads.
    #[cfg(test)]
    pub(super) fn count(&self) -> usize {
        self.held.values().map(|(fds, _)| fds.len()).sum()
    }
}

impl Drop for Anchors {
    fn drop(&mut self) {
        if let Some(Ok(pid)) = self.mirror {
            sys::end_fd_mirror(pid);
        }
    }
}

/// The object at the checked path `path` (absolute, no symlink left),
/// opened `O_PATH` without following symlinks: `ELOOP` if one was swapped
/// in since the check. Held, it keeps its inode from being reused, so it
/// can be compared with what an exec ran.
pub(super) fn pin(path: &std::path::Path) -> io::Result<std::fs::File> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    sys::openat2(&c, O_PATH | O_CLOEXEC, RESOLVE_NO_SYMLINKS).map(std::fs::File::from)
}

/// True when `file` is the file process `pid` runs (`/proc/PID/exe`);
/// false also when either cannot be looked at.
pub(super) fn runs(pid: Pid, file: &std::fs::File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (
        std::fs::metadata(format!("/proc/{pid}/exe")),
        file.metadata(),
    ) {
        (Ok(exe), Ok(pinned)) => (exe.dev(), exe.ino()) == (pinned.dev(), pinned.ino()),
        _ => false,
    }
}

/// How a thread's checked paths reach the kernel ([`Anchors::mode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Anchored paths.
    Anchor,
    /// The plain checked path.
    Plain,
    /// Neither: the call fails with this errno.
    Refuse(i32),
}

/// Calls after which a thread's credentials may differ (both ABIs' names,
/// the i386 16- and 32-bit id variants): its own id and capability calls,
/// exec (set-user-id files, file capabilities), user namespaces, and
/// `prctl` (securebits, ambient capabilities).
pub(super) fn changes_credentials(name: &str) -> bool {
    let name = name.strip_suffix("32").unwrap_or(name);
    matches!(
        name,
        "setuid"
            | "setgid"
            | "setreuid"
            | "setregid"
            | "setresuid"
            | "setresgid"
            | "setfsuid"
            | "setfsgid"
            | "setgroups"
            | "capset"
            | "execve"
            | "execveat"
            | "prctl"
            | "unshare"
            | "setns"
    )
}

/// `CAP_SYS_PTRACE` in a capability mask.
const CAP_SYS_PTRACE: u64 = 1 << 19;

/// What [`Anchors::mode`] needs of a thread's credentials.
struct Creds {
    fsuid: u32,
    fsgid: u32,
    cap_eff: u64,
}

/// Thread `pid`'s filesystem uid and gid (fourth fields of the `Uid:` and
/// `Gid:` lines of its status) and effective capabilities.
fn creds(pid: Pid) -> Option<Creds> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = |key: &str| status.lines().find_map(|l| l.strip_prefix(key));
    let fs_id = |key: &str| -> Option<u32> { line(key)?.split_whitespace().nth(3)?.parse().ok() };
    Some(Creds {
        fsuid: fs_id("Uid:")?,
        fsgid: fs_id("Gid:")?,
        cap_eff: u64::from_str_radix(line("CapEff:")?.trim(), 16).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use ujail_regs::{table, Abi};

    /// Every call of either ABI that sets ids or capabilities, or execs,
    /// forgets what was read of the thread's credentials.
    #[test]
    fn every_credential_call_of_the_tables_is_listed() {
        let mut seen = 0;
        for abi in [Abi::I386, Abi::X86_64] {
            for (_, name) in table::all(abi) {
                // setpgid sets a process group, not a credential.
                let sets_ids = name.starts_with("set")
                    && name != "setpgid"
                    && ["uid", "gid", "groups"].iter().any(|w| name.contains(w));
                if sets_ids || name == "capset" || name.starts_with("execve") {
                    assert!(changes_credentials(name), "{abi:?} {name}");
                    seen += 1;
                }
            }
        }
        // i386: 16- and 32-bit variants of nine calls; x86_64: one each.
        assert!(seen >= 30, "only {seen} credential calls in the tables");
        for name in ["getuid", "getresuid32", "open", "stat64", "kill"] {
            assert!(!changes_credentials(name), "{name}");
        }
    }

    fn resolved(path: &str, is_symlink: bool) -> Resolved {
        Resolved {
            path: PathBuf::from(path),
            exists: true,
            is_symlink,
        }
    }

    #[test]
    fn anchors_reach_the_checked_object() {
        let dir = std::env::temp_dir().join(format!("ujail-anchor-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("d")).unwrap();
        std::fs::write(dir.join("d/f"), b"x").unwrap();
        std::os::unix::fs::symlink("f", dir.join("d/l")).unwrap();
        let mut a = Anchors::new();
        let mut held = Vec::new();
        let f = format!("{}/d/f", dir.display());

        // Follow: the object itself; its metadata through the anchor.
        let p = a
            .anchor(&resolved(&f, false), true, &mut held)
            .unwrap()
            .unwrap();
        let p = PathBuf::from(std::ffi::OsStr::from_bytes(&p));
        let Some(Ok(mirror)) = a.mirror else {
            panic!("no fd mirror: {:?}", a.mirror)
        };
        assert_ne!(u32::try_from(mirror).unwrap(), std::process::id());
        assert!(p.starts_with(format!("/proc/{mirror}/fd")));
        assert_eq!(std::fs::read(&p).unwrap(), b"x");

        // No follow: the parent, then the name; a symlink stays a symlink.
        let l = format!("{}/d/l", dir.display());
        let p = a
            .anchor(&resolved(&l, true), false, &mut held)
            .unwrap()
            .unwrap();
        let p = PathBuf::from(std::ffi::OsStr::from_bytes(&p));
        assert!(std::fs::symlink_metadata(&p)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(held.len(), 2);

        // A symlink in the checked path (swapped in after the check) is
        // refused, not followed.
        std::fs::rename(dir.join("d"), dir.join("e")).unwrap();
        std::os::unix::fs::symlink("e", dir.join("d")).unwrap();
        let e = a.anchor(&resolved(&f, false), true, &mut held).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP));
        let e = a.anchor(&resolved(&l, true), false, &mut held).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP));

        // `/` needs none.
        assert!(a
            .anchor(&resolved("/", false), false, &mut held)
            .unwrap()
            .is_none());
        a.hold(7, held, true);
        assert_eq!(a.count(), 2);
        assert_eq!(a.release(7), Some(true));
        assert_eq!(a.count(), 0);
        assert_eq!(a.release(7), None);
        drop(a);
        // The mirror is gone with its owner (dead, maybe not yet reaped).
        let dead = || {
            std::fs::read_to_string(format!("/proc/{mirror}/stat")).map_or(true, |st| {
                st.rsplit(") ").next().is_some_and(|r| r.starts_with('Z'))
            })
        };
        let mut waited = 0;
        while !dead() && waited < 100 {
            std::thread::sleep(std::time::Duration::from_millis(10));
            waited += 1;
        }
        assert!(dead(), "the fd mirror {mirror} outlived its owner");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn own_thread_can_follow_anchors() {
        let mut a = Anchors::new();
        let me = i32::try_from(std::process::id()).unwrap();
        assert_eq!(a.mode(me), Mode::Anchor);
    }
}
