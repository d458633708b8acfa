// SPDX-License-Identifier: GPL-3.0-or-later
//! The only place ujail-core talks to the kernel through raw `libc` calls.
//!
//! Every function here is a thin, typed wrapper: it converts the C return
//! convention into `io::Result` and nothing else. Policy and state live
//! elsewhere. References are to ptrace(2) and wait(2).

use std::ffi::CStr;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};

use libc::{c_int, c_long, c_void, pid_t};
use ujail_regs::NativeRegs;

/// ptrace requests, spelled out so that the i686 and x86_64 builds agree
/// (the libc crate does not define all of them for both targets).
pub(crate) mod req {
    use libc::c_uint;
    pub const GETREGS: c_uint = 12;
    pub const SETREGS: c_uint = 13;
    pub const CONT: c_uint = 7;
    pub const SYSCALL: c_uint = 24;
    pub const SYSEMU: c_uint = 31;
    pub const SEIZE: c_uint = 0x4206;
    pub const LISTEN: c_uint = 0x4208;
    pub const GETEVENTMSG: c_uint = 0x4201;
    pub const GETSIGINFO: c_uint = 0x4202;
    pub const GET_SYSCALL_INFO: c_uint = 0x420e;
}

/// `PTRACE_O_*` options (ptrace(2), PTRACE_SETOPTIONS).
pub(crate) mod opt {
    pub const TRACESYSGOOD: i32 = 0x01;
    pub const TRACESECCOMP: i32 = 0x80;
    pub const TRACEFORK: i32 = 0x02;
    pub const TRACEVFORK: i32 = 0x04;
    pub const TRACECLONE: i32 = 0x08;
    pub const TRACEEXEC: i32 = 0x10;
    pub const EXITKILL: i32 = 0x10_0000;
}

/// `struct ptrace_syscall_info` (include/uapi/linux/ptrace.h). The union is
/// flattened into `data`: entry = nr, args[6]; exit = rval, is_error.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawSyscallInfo {
    pub op: u8,
    pub pad: [u8; 3],
    pub arch: u32,
    pub instruction_pointer: u64,
    pub stack_pointer: u64,
    pub data: [u64; 7],
    pub ret_data: u32,
    pub pad2: u32,
}

/// An integer passed in ptrace's `data` argument (signal numbers, option
/// masks: small and non-negative).
fn int_data(v: c_int) -> *mut c_void {
    std::ptr::without_provenance_mut(usize::try_from(v).unwrap_or(0))
}

fn check(ret: c_long) -> io::Result<c_long> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Resume a stopped tracee with `request` (CONT, SYSCALL or SYSEMU),
/// delivering `sig` (0 for none).
pub(crate) fn resume(request: libc::c_uint, pid: pid_t, sig: c_int) -> io::Result<()> {
    // SAFETY: resume requests take no pointers; `data` carries the signal number.
    let r = unsafe { libc::ptrace(request, pid, std::ptr::null_mut::<c_void>(), int_data(sig)) };
    check(r).map(drop)
}

/// `PTRACE_SEIZE` with `options` (ptrace(2)): attach without stopping; group
/// stops are then reported as PTRACE_EVENT_STOP and can be kept with
/// PTRACE_LISTEN.
pub(crate) fn seize(pid: pid_t, options: c_int) -> io::Result<()> {
    // SAFETY: SEIZE takes the option mask in `data`, no pointers.
    let r = unsafe {
        libc::ptrace(
            req::SEIZE,
            pid,
            std::ptr::null_mut::<c_void>(),
            int_data(options),
        )
    };
    check(r).map(drop)
}

/// `waitpid(pid, WUNTRACED)`: wait for a child (not yet traced) to stop.
pub(crate) fn wait_stopped(pid: pid_t) -> io::Result<c_int> {
    loop {
        let mut status: c_int = 0;
        // SAFETY: status is a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WUNTRACED) };
        if r >= 0 {
            return Ok(status);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// `PTRACE_GETREGS` into the tracer build's `user_regs_struct`.
pub(crate) fn get_regs(pid: pid_t) -> io::Result<NativeRegs> {
    let mut regs = MaybeUninit::<NativeRegs>::zeroed();
    // SAFETY: NativeRegs is the repr(C) user_regs_struct of this build (layout
    // tested in ujail-regs); the kernel writes exactly that many bytes.
    let r = unsafe {
        libc::ptrace(
            req::GETREGS,
            pid,
            std::ptr::null_mut::<c_void>(),
            regs.as_mut_ptr().cast::<c_void>(),
        )
    };
    check(r)?;
    // SAFETY: zero-initialised plain integers, then filled by the kernel.
    Ok(unsafe { regs.assume_init() })
}

/// `PTRACE_SETREGS`.
pub(crate) fn set_regs(pid: pid_t, regs: &NativeRegs) -> io::Result<()> {
    // SAFETY: the kernel only reads a user_regs_struct from `regs`.
    let r = unsafe {
        libc::ptrace(
            req::SETREGS,
            pid,
            std::ptr::null_mut::<c_void>(),
            std::ptr::from_ref(regs).cast_mut().cast::<c_void>(),
        )
    };
    check(r).map(drop)
}

/// `PTRACE_GET_SYSCALL_INFO` (Linux 5.3+).
pub(crate) fn get_syscall_info(pid: pid_t) -> io::Result<RawSyscallInfo> {
    let mut info = MaybeUninit::<RawSyscallInfo>::zeroed();
    let size = std::mem::size_of::<RawSyscallInfo>();
    // SAFETY: `addr` is the buffer size, `data` a buffer of that size; the
    // kernel writes at most `size` bytes.
    let r = unsafe {
        libc::ptrace(
            req::GET_SYSCALL_INFO,
            pid,
            std::ptr::without_provenance_mut::<c_void>(size),
            info.as_mut_ptr().cast::<c_void>(),
        )
    };
    check(r)?;
    // SAFETY: plain integers, zero-initialised then (partly) filled.
    Ok(unsafe { info.assume_init() })
}

/// `PTRACE_GETEVENTMSG`: the new pid for fork/clone events, the former tid
/// for exec events.
pub(crate) fn get_event_msg(pid: pid_t) -> io::Result<u64> {
    let mut msg: libc::c_ulong = 0;
    // SAFETY: the kernel writes one unsigned long to `msg`.
    let r = unsafe {
        libc::ptrace(
            req::GETEVENTMSG,
            pid,
            std::ptr::null_mut::<c_void>(),
            std::ptr::from_mut(&mut msg).cast::<c_void>(),
        )
    };
    check(r)?;
    // c_ulong is 32 bits in the i686 build.
    #[allow(clippy::useless_conversion)]
    Ok(u64::from(msg))
}

/// `PTRACE_GETSIGINFO`. Fails with EINVAL in a group-stop (ptrace(2),
/// "Group-stop"), which is how group-stops are told from signal-delivery stops.
pub(crate) fn get_siginfo(pid: pid_t) -> io::Result<libc::siginfo_t> {
    let mut info = MaybeUninit::<libc::siginfo_t>::zeroed();
    // SAFETY: the kernel writes one siginfo_t.
    let r = unsafe {
        libc::ptrace(
            req::GETSIGINFO,
            pid,
            std::ptr::null_mut::<c_void>(),
            info.as_mut_ptr().cast::<c_void>(),
        )
    };
    check(r)?;
    // SAFETY: zero-initialised, then filled by the kernel.
    Ok(unsafe { info.assume_init() })
}

/// `waitpid(-1, &status, __WALL)`: the next stop or death of any tracee,
/// threads included. Retries on EINTR.
pub(crate) fn wait_any() -> io::Result<(pid_t, c_int)> {
    loop {
        let mut status: c_int = 0;
        // SAFETY: status is a valid out-pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
        if pid >= 0 {
            return Ok((pid, status));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// `kill(2)`.
pub(crate) fn kill(pid: pid_t, sig: c_int) -> io::Result<()> {
    // SAFETY: plain syscall with integer arguments.
    let r = unsafe { libc::kill(pid, sig) };
    check(c_long::from(r)).map(drop)
}

/// Fork a child that stops itself, then execs `path`.
///
/// Everything the child touches is prepared by the caller before the fork
/// (the child of a fork may only make async-signal-safe calls). The child
/// stops with SIGSTOP before `execve`, so the tracer seizes it first and sees
/// the `execve` as the first traced call. If `execve` fails the child exits
/// with 127; the tracer sees the failed call's result.
pub(crate) fn fork_traced(
    path: &CStr,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
    close: &[c_int],
    filter: Option<&[libc::sock_filter]>,
) -> io::Result<pid_t> {
    const MSG: &[u8] = b"ujail: cannot install the seccomp filter (no_new_privs, seccomp)\n";
    let prog = filter.map(|f| libc::sock_fprog {
        len: libc::c_ushort::try_from(f.len()).unwrap_or(0),
        filter: f.as_ptr().cast_mut(),
    });
    debug_assert!(argv.last().is_some_and(|p| p.is_null()));
    debug_assert!(envp.last().is_some_and(|p| p.is_null()));
    // SAFETY: fork in a single-threaded tracer; the child below only makes
    // async-signal-safe calls on memory prepared before the fork.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: child side: signal/raise/execve/_exit are async-signal-safe;
        // argv and envp are NULL-terminated arrays of valid C strings.
        unsafe {
            // Rust's runtime ignores SIGPIPE in ujail; an ignored disposition
            // survives exec, so give the program the default back.
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            for &fd in close {
                libc::close(fd);
            }
            libc::raise(libc::SIGSTOP);
            // The seccomp engine: the filter goes in after the tracer has
            // seized the child (a SECCOMP_RET_TRACE without a tracer fails
            // the call), so the execve below is the first call it stops.
            if let Some(prog) = &prog {
                let installed = libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
                    && libc::syscall(
                        libc::SYS_seccomp,
                        1 as c_long, // SECCOMP_SET_MODE_FILTER
                        0 as c_long,
                        std::ptr::from_ref(prog),
                    ) == 0;
                if !installed {
                    libc::write(2, MSG.as_ptr().cast(), MSG.len());
                    libc::_exit(125);
                }
            }
            libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr());
            libc::_exit(127);
        }
    }
    Ok(pid)
}

/// Make ujail non-dumpable (prctl(2), PR_SET_DUMPABLE): no process of the
/// same user — a jailed one included — may then ptrace it or open its
/// /proc/PID/mem, whatever the jail's policy lets through.
pub(crate) fn set_non_dumpable() -> io::Result<()> {
    // SAFETY: PR_SET_DUMPABLE takes integer arguments only.
    let r = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    check(c_long::from(r)).map(drop)
}

/// The standard fds (0-2) that Rust's runtime opened on `/dev/null` before
/// `main` because they were closed when ujail started: they are `/dev/null`
/// opened read-write (a shell redirection opens it read-only or
/// write-only). The jailed program must find them closed, as ujail did.
pub(crate) fn runtime_filled_stdio() -> Vec<c_int> {
    (0..3)
        .filter(|&fd| {
            // SAFETY: F_GETFL on an fd number has no memory effects.
            let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
            flags >= 0
                && flags & libc::O_ACCMODE == libc::O_RDWR
                && std::fs::read_link(format!("/proc/self/fd/{fd}"))
                    .is_ok_and(|p| p.as_os_str() == "/dev/null")
        })
        .collect()
}

/// The pid that [`forward_signals`]' handler relays to.
static FORWARD_TO: AtomicI32 = AtomicI32::new(0);

extern "C" fn relay(sig: c_int) {
    let pid = FORWARD_TO.load(Ordering::Relaxed);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe.
        unsafe { libc::kill(pid, sig) };
    }
}

/// Relay SIGINT, SIGTERM, SIGHUP and SIGQUIT received by ujail to `pid`.
///
/// The handler only calls kill(2), so it is async-signal-safe, and it needs no
/// cooperation from the wait loop (no lost wake-up while ujail is blocked in
/// waitpid). SA_RESTART keeps that waitpid going.
pub(crate) fn forward_signals(pid: pid_t) -> io::Result<()> {
    FORWARD_TO.store(pid, Ordering::Relaxed);
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
        // SAFETY: a zeroed sigaction with a valid handler and SA_RESTART.
        let r = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = relay as extern "C" fn(c_int) as usize;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut())
        };
        check(c_long::from(r))?;
    }
    Ok(())
}

/// Write `data` at `addr` in process `pid` with `process_vm_writev(2)`:
/// unlike `/proc/PID/mem` and `PTRACE_POKEDATA` it honours page
/// protections, as the kernel's own writes of results to user memory do.
pub(crate) fn write_user(pid: pid_t, addr: u64, data: &[u8]) -> io::Result<()> {
    let local = libc::iovec {
        iov_base: data.as_ptr().cast_mut().cast(),
        iov_len: data.len(),
    };
    let remote = libc::iovec {
        iov_base: std::ptr::without_provenance_mut(
            usize::try_from(addr).map_err(|_| io::Error::from_raw_os_error(libc::EFAULT))?,
        ),
        iov_len: data.len(),
    };
    // SAFETY: one local iovec over `data` (only read), one remote iovec the
    // kernel checks against the tracee's mappings.
    let n = unsafe { libc::process_vm_writev(pid, &local, 1, &remote, 1, 0) };
    match usize::try_from(n) {
        Ok(n) if n == data.len() => Ok(()),
        Ok(_) => Err(io::Error::from_raw_os_error(libc::EFAULT)),
        Err(_) => Err(io::Error::last_os_error()),
    }
}

/// A copy of the tracee's fd `fd` (`pidfd_getfd(2)`), through a pidfd of
/// thread `tid` (`PIDFD_THREAD`, Linux 6.9+, so a thread that unshared its
/// fd table is seen right) or else of its process `tgid`.
pub(crate) fn tracee_fd(tid: pid_t, tgid: pid_t, fd: c_int) -> io::Result<OwnedFd> {
    const PIDFD_THREAD: c_long = libc::O_EXCL as c_long;
    let open = |pid: pid_t, flags: c_long| -> io::Result<OwnedFd> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new fd.
        let r = unsafe { libc::syscall(libc::SYS_pidfd_open, c_long::from(pid), flags) };
        let r = c_int::try_from(r).map_err(|_| io::Error::last_os_error())?;
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `r` is a fresh fd that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(r) })
    };
    let pidfd = open(tid, PIDFD_THREAD).or_else(|_| open(tgid, 0))?;
    // SAFETY: pidfd_getfd(pidfd, targetfd, flags=0) returns a new fd.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_getfd,
            c_long::from(pidfd.as_raw_fd()),
            c_long::from(fd),
            0 as c_long,
        )
    };
    let r = c_int::try_from(r).map_err(|_| io::Error::last_os_error())?;
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above, a fresh fd.
    Ok(unsafe { OwnedFd::from_raw_fd(r) })
}

/// `getsockname(2)` (`peer` false) or `getpeername(2)` of socket `fd`: the
/// raw address bytes.
pub(crate) fn sock_name(fd: BorrowedFd<'_>, peer: bool) -> io::Result<Vec<u8>> {
    let mut buf = [0u8; 128];
    let mut len = libc::socklen_t::try_from(buf.len()).unwrap_or(0);
    let p: *mut libc::sockaddr = buf.as_mut_ptr().cast();
    // SAFETY: `buf` holds `len` writable bytes; the kernel writes at most
    // that many and updates `len`.
    let r = unsafe {
        if peer {
            libc::getpeername(fd.as_raw_fd(), p, &mut len)
        } else {
            libc::getsockname(fd.as_raw_fd(), p, &mut len)
        }
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = usize::try_from(len).unwrap_or(0).min(buf.len());
    Ok(buf[..n].to_vec())
}

/// An integer socket option (`SO_TYPE`, `SO_DOMAIN`, ...).
pub(crate) fn sock_opt(fd: BorrowedFd<'_>, level: c_int, name: c_int) -> io::Result<c_int> {
    let mut v: c_int = 0;
    let mut len = libc::socklen_t::try_from(std::mem::size_of::<c_int>()).unwrap_or(4);
    // SAFETY: `v` is a c_int the kernel writes, `len` its size.
    let r = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            std::ptr::from_mut(&mut v).cast(),
            &mut len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(v)
}

/// Abort a connection: `connect(AF_UNSPEC)` on a connected TCP socket is
/// the kernel's disconnect (`tcp_disconnect`): the peer gets a reset, the
/// queued data is dropped, and the holder of the socket reads `ENOTCONN`.
/// (shutdown(2) would leave data already queued readable.)
pub(crate) fn reset_connection(fd: BorrowedFd<'_>) -> io::Result<()> {
    let unspec = libc::sockaddr {
        sa_family: 0,
        sa_data: [0; 14],
    };
    // SAFETY: a zeroed `struct sockaddr` (family AF_UNSPEC) and its size.
    let r = unsafe {
        libc::connect(
            fd.as_raw_fd(),
            &unspec,
            libc::socklen_t::try_from(std::mem::size_of::<libc::sockaddr>()).unwrap_or(16),
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Take the datagram at the head of socket `fd`'s queue out, unread.
pub(crate) fn discard_datagram(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: a zero-length receive into no buffer: the kernel writes
    // nothing to user memory and drops the datagram.
    let r = unsafe { libc::recv(fd.as_raw_fd(), std::ptr::null_mut(), 0, libc::MSG_DONTWAIT) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Whether this kernel has seccomp filters (`prctl(PR_GET_SECCOMP)` works).
pub(crate) fn seccomp_supported() -> bool {
    // SAFETY: PR_GET_SECCOMP takes no pointer.
    unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 }
}

/// The CPU the caller runs on.
pub(crate) fn current_cpu() -> io::Result<usize> {
    // SAFETY: no arguments.
    let r = unsafe { libc::sched_getcpu() };
    usize::try_from(r).map_err(|_| io::Error::last_os_error())
}

/// The CPU affinity of thread `pid` (0: the caller).
pub(crate) fn affinity(pid: pid_t) -> io::Result<libc::cpu_set_t> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a writable cpu_set_t of the size passed.
    let r =
        unsafe { libc::sched_getaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(set)
}

/// Set the CPU affinity of thread `pid` (0: the caller).
pub(crate) fn set_affinity(pid: pid_t, set: &libc::cpu_set_t) -> io::Result<()> {
    // SAFETY: `set` is a valid cpu_set_t of the size passed.
    let r = unsafe { libc::sched_setaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), set) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The set holding only `cpu`.
pub(crate) fn single_cpu(cpu: usize) -> libc::cpu_set_t {
    // SAFETY: an all-zero cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: CPU_SET ignores a cpu beyond the set's size.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    set
}

/// How many CPUs `set` holds.
pub(crate) fn cpu_count(set: &libc::cpu_set_t) -> usize {
    // SAFETY: counts the bits of a valid cpu_set_t.
    usize::try_from(unsafe { libc::CPU_COUNT(set) }).unwrap_or(0)
}

/// `openat2(AT_FDCWD, path, {flags, 0, resolve})` in the tracer: a new fd
/// (the caller adds `O_CLOEXEC`).
pub(crate) fn openat2(path: &CStr, flags: u64, resolve: u64) -> io::Result<OwnedFd> {
    // struct open_how: flags, mode, resolve (three u64).
    let how: [u64; 3] = [flags, 0, resolve];
    // SAFETY: `path` is a NUL-terminated string and `how` an open_how of the
    // size passed; the kernel only reads both.
    let r = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            c_long::from(libc::AT_FDCWD),
            path.as_ptr(),
            how.as_ptr(),
            std::mem::size_of_val(&how),
        )
    };
    let r = c_int::try_from(r).map_err(|_| io::Error::last_os_error())?;
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `r` is a fresh fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(r) })
}

/// The tracer's real, effective and saved uid and gid, all equal: `Some((uid,
/// gid))`; `None` otherwise.
pub(crate) fn own_ids() -> Option<(u32, u32)> {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: three writable uid_t.
    if unsafe { libc::getresuid(&mut r, &mut e, &mut s) } != 0 || r != e || e != s {
        return None;
    }
    let (mut gr, mut ge, mut gs) = (0, 0, 0);
    // SAFETY: three writable gid_t.
    if unsafe { libc::getresgid(&mut gr, &mut ge, &mut gs) } != 0 || gr != ge || ge != gs {
        return None;
    }
    Some((r, gr))
}

/// `_LINUX_CAPABILITY_VERSION_3` (two 32-bit words per set).
const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// `struct __user_cap_header_struct`.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: c_int,
}

/// `struct __user_cap_data_struct`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Start ujail's fd mirror: a process that shares ujail's fd table
/// (`clone(CLONE_FILES)`), is dumpable, blocks every signal and does
/// nothing but wait for ujail to end (a pidfd of ujail). Its
/// `/proc/PID/fd/N` links are ujail's fds, which jailed processes of ujail's
/// user may follow, while ujail itself stays non-dumpable. It is a
/// grandchild whose parent exits at once, so ujail's `waitpid(-1)` never
/// sees it. Returns its pid.
pub(crate) fn spawn_fd_mirror() -> io::Result<pid_t> {
    let mut pipe = [0 as c_int; 2];
    // SAFETY: `pipe` has room for the two fds.
    check(c_long::from(unsafe {
        libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC)
    }))?;
    // SAFETY: fresh fds that nothing else owns (the fd table is shared with
    // the mirror below, which never closes them).
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(pipe[0]), OwnedFd::from_raw_fd(pipe[1])) };
    let clone_files = || {
        // SAFETY: clone without CLONE_VM and with a NULL stack is a fork that
        // also shares the fd table.
        unsafe {
            libc::syscall(
                libc::SYS_clone,
                c_long::from(libc::CLONE_FILES | libc::SIGCHLD),
                0 as c_long,
                0 as c_long,
                0 as c_long,
                0 as c_long,
            )
        }
    };
    let first = clone_files();
    if first < 0 {
        return Err(io::Error::last_os_error());
    }
    if first == 0 {
        // SAFETY: the intermediate child: only async-signal-safe calls on
        // its own copy of the memory (getppid, raw syscalls, write, _exit);
        // the grandchild likewise (sigprocmask, capset, prctl, getpid, poll, write,
        // _exit). Neither returns. `all` is a filled sigset_t; `pfd` one
        // pollfd. Exactly one of them writes 4 bytes to the pipe: the
        // mirror's pid once it is dumpable, or -1.
        unsafe {
            let say = |pid: c_int| {
                let bytes = pid.to_ne_bytes();
                libc::write(wr.as_raw_fd(), bytes.as_ptr().cast(), bytes.len());
            };
            let ujail = libc::getppid();
            let pidfd = libc::syscall(libc::SYS_pidfd_open, c_long::from(ujail), 0 as c_long);
            if pidfd < 0 {
                say(-1);
                libc::_exit(1);
            }
            let mirror = clone_files();
            if mirror == 0 {
                let mut all: libc::sigset_t = std::mem::zeroed();
                libc::sigfillset(&mut all);
                libc::sigprocmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
                // No capability at all: following a process's fd links
                // needs the caller's effective capabilities to cover the
                // process's permitted ones (commoncap), so a root-run
                // jail's program that dropped some would be refused.
                // Failing leaves it stricter, never looser.
                let header = CapHeader {
                    version: LINUX_CAPABILITY_VERSION_3,
                    pid: 0,
                };
                let none = [CapData::default(); 2];
                libc::syscall(libc::SYS_capset, &raw const header, none.as_ptr());
                if libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) != 0 {
                    say(-1);
                    libc::_exit(1);
                }
                say(libc::getpid());
                let mut pfd = libc::pollfd {
                    fd: c_int::try_from(pidfd).unwrap_or(-1),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // Readable once ujail has exited; EINTR cannot happen with
                // every signal blocked, other errors end the mirror too.
                while libc::poll(&mut pfd, 1, -1) == 0 {}
                libc::_exit(0);
            }
            if mirror < 0 {
                say(-1);
            }
            libc::_exit(0);
        }
    }
    let first = pid_t::try_from(first).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let mut bytes = [0u8; 4];
    let mut pfd = libc::pollfd {
        fd: rd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd; then `bytes` has room for the 4 bytes read.
    // (ujail holds the write end too: without the poll's timeout a mirror
    // killed before it wrote would block it for ever.)
    let n = unsafe {
        if libc::poll(&mut pfd, 1, 5000) == 1 {
            libc::read(rd.as_raw_fd(), bytes.as_mut_ptr().cast(), bytes.len())
        } else {
            -1
        }
    };
    let mut status = 0;
    // SAFETY: our own child; `status` is a valid out-pointer.
    unsafe { libc::waitpid(first, &mut status, libc::__WALL) };
    let pid = pid_t::from_ne_bytes(bytes);
    if n != 4 || pid <= 0 {
        return Err(io::Error::other("the fd mirror did not start"));
    }
    Ok(pid)
}

/// End the fd mirror `pid` (not our child: init reaps it).
pub(crate) fn end_fd_mirror(pid: pid_t) {
    // SAFETY: kill(2) takes integer arguments.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

/// The open flags (`F_GETFL`) of the tracer's fd `fd`.
pub(crate) fn fd_flags(fd: c_int) -> io::Result<c_int> {
    // SAFETY: F_GETFL on an fd number has no memory effects.
    let r = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r)
}

/// Raise ujail's soft limit on open files to its hard limit (it holds an
/// fd per anchored call in flight). Called once the program is started, so
/// the program keeps the limits it was given.
pub(crate) fn raise_nofile_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit the kernel fills, then reads.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
