// SPDX-License-Identifier: GPL-3.0-or-later
//! The guest's only unsafe code: thin wrappers over libc calls and the raw
//! system-call instructions (`syscall`, `int $0x80`, `sysenter` through the
//! vDSO's `__kernel_vsyscall`) that the jail must see and handle.
//!
//! Everything here returns `io::Result` (or never returns); the subcommands
//! in `main.rs` are safe code.

use std::ffi::{CStr, CString};
use std::io;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// A process id.
pub type Pid = libc::pid_t;

/// Maps a libc-style `-1 means errno` result to `io::Result`.
pub fn cvt<T: Copy + PartialEq + From<i8>>(ret: T) -> io::Result<T> {
    if ret == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Maps a raw-instruction result (`-errno` on failure) to `io::Result`.
pub fn cvt_raw(ret: isize) -> io::Result<usize> {
    match usize::try_from(ret) {
        Ok(n) => Ok(n),
        Err(_) => {
            let errno = ret
                .checked_neg()
                .and_then(|e| i32::try_from(e).ok())
                .unwrap_or(libc::EINVAL);
            Err(io::Error::from_raw_os_error(errno))
        }
    }
}

/// `write(2)` through libc.
pub fn write(fd: libc::c_int, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is a valid readable slice of `buf.len()` bytes.
    let ret = cvt(unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) })?;
    usize::try_from(ret).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// Writes all of `buf` to `fd` with libc `write(2)`, retrying short writes.
pub fn write_all(fd: libc::c_int, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match write(fd, buf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `read(2)` through libc.
pub fn read(fd: libc::c_int, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is a valid writable slice of `buf.len()` bytes.
    let ret = cvt(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) })?;
    usize::try_from(ret).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// Ends the whole process with `exit_group(2)` (no atexit handlers, no flush).
pub fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group takes an int and never returns; nothing is borrowed.
    unsafe {
        libc::syscall(libc::SYS_exit_group, libc::c_long::from(code));
        libc::_exit(code)
    }
}

/// `getpid(2)`.
pub fn getpid() -> Pid {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::getpid() }
}

/// `getppid(2)` (glibc does not cache it: every call is a system call).
pub fn getppid() -> Pid {
    // SAFETY: getppid has no preconditions.
    unsafe { libc::getppid() }
}

/// `fork(2)`; the child runs `child` and then `_exit`s with its result, so
/// it never returns into the caller's code. Returns the child's pid.
///
/// Only called while the guest is single-threaded.
pub fn fork_run(child: impl FnOnce() -> i32) -> io::Result<Pid> {
    // SAFETY: the guest is single-threaded at this point, so the child may
    // run arbitrary code; it leaves through `_exit` and never unwinds.
    let pid = cvt(unsafe { libc::fork() })?;
    if pid == 0 {
        let code = child();
        // SAFETY: `_exit` ends the child without running the parent's
        // atexit handlers or flushing its buffers twice.
        unsafe { libc::_exit(code) }
    }
    Ok(pid)
}

/// `waitpid(pid, &status, 0)`, retrying on `EINTR`; returns the raw status.
pub fn waitpid(pid: Pid) -> io::Result<libc::c_int> {
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: `status` is a valid `int` the kernel writes to.
        match cvt(unsafe { libc::waitpid(pid, &mut status, 0) }) {
            Ok(_) => return Ok(status),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Sets `sig` to its default action, unblocks it and raises it.
pub fn reset_and_raise(sig: libc::c_int) -> io::Result<()> {
    // SAFETY: SIG_DFL is a valid disposition for any signal number. The
    // kernel refuses it (EINVAL) for SIGKILL and SIGSTOP, which cannot be
    // caught anyway, and for invalid numbers, which raise() reports below.
    unsafe { libc::signal(sig, libc::SIG_DFL) };
    // SAFETY: `set` is a local sigset_t initialised by sigemptyset before use.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
    }
    raise(sig)
}

/// `raise(3)`.
pub fn raise(sig: libc::c_int) -> io::Result<()> {
    // SAFETY: raise takes a signal number; invalid ones fail with EINVAL.
    if unsafe { libc::raise(sig) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Number of SIGUSR1 deliveries seen by [`usr1_handler`].
pub static USR1_COUNT: AtomicU32 = AtomicU32::new(0);
/// Number of SIGUSR1 deliveries whose in-handler `getpid` matched `main`'s.
pub static USR1_PID_OK: AtomicU32 = AtomicU32::new(0);
/// The pid `main` saw, compared by the handler.
pub static MAIN_PID: AtomicU32 = AtomicU32::new(0);
/// Number of SIGALRM deliveries seen by [`alarm_handler`].
pub static ALRM_COUNT: AtomicU32 = AtomicU32::new(0);

/// SIGUSR1 handler that itself makes system calls: `getpid` and a `write`
/// of "handler\n" to stdout (both async-signal-safe).
extern "C" fn usr1_handler(_sig: libc::c_int) {
    let pid = u32::try_from(getpid()).unwrap_or(0);
    if pid == MAIN_PID.load(Ordering::SeqCst) {
        USR1_PID_OK.fetch_add(1, Ordering::SeqCst);
    }
    let msg = b"handler\n";
    // SAFETY: `msg` is a valid static buffer; write is async-signal-safe.
    unsafe { libc::write(1, msg.as_ptr().cast(), msg.len()) };
    USR1_COUNT.fetch_add(1, Ordering::SeqCst);
}

/// SIGALRM handler: only counts.
extern "C" fn alarm_handler(_sig: libc::c_int) {
    ALRM_COUNT.fetch_add(1, Ordering::SeqCst);
}

/// Installs `handler` for `sig` with `sigaction(2)`, without `SA_RESTART`,
/// so a blocking call interrupted by the signal fails with `EINTR`.
fn install(sig: libc::c_int, handler: extern "C" fn(libc::c_int)) -> io::Result<()> {
    // SAFETY: `sa` is zero-initialised (a valid sigaction), its mask is
    // emptied before use, and `handler` only runs async-signal-safe code.
    let ret = unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler as libc::sighandler_t;
        sa.sa_flags = 0;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(sig, &sa, std::ptr::null_mut())
    };
    cvt(ret).map(drop)
}

/// Installs the counting SIGUSR1 handler.
pub fn install_usr1() -> io::Result<()> {
    install(libc::SIGUSR1, usr1_handler)
}

/// Installs the counting SIGALRM handler (no `SA_RESTART`).
pub fn install_alarm() -> io::Result<()> {
    install(libc::SIGALRM, alarm_handler)
}

/// `alarm(2)`.
pub fn alarm(secs: u32) {
    // SAFETY: alarm has no preconditions.
    unsafe { libc::alarm(secs) };
}

/// `pause(2)`: always returns the error it was interrupted with.
pub fn pause() -> io::Error {
    // SAFETY: pause has no preconditions.
    unsafe { libc::pause() };
    io::Error::last_os_error()
}

/// `pipe(2)`: returns (read end, write end).
pub fn pipe() -> io::Result<(libc::c_int, libc::c_int)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a valid array of two ints.
    cvt(unsafe { libc::pipe(fds.as_mut_ptr()) })?;
    Ok((fds[0], fds[1]))
}

/// `close(2)`.
pub fn close(fd: libc::c_int) -> io::Result<()> {
    // SAFETY: closing a descriptor we own; the caller does not use it after.
    cvt(unsafe { libc::close(fd) }).map(drop)
}

/// `open(path, O_RDONLY)`.
pub fn open_rdonly(path: &CStr) -> io::Result<libc::c_int> {
    // SAFETY: `path` is a valid NUL-terminated string.
    cvt(unsafe { libc::open(path.as_ptr(), libc::O_RDONLY) })
}

/// `execveat(fd, "", argv, {}, AT_EMPTY_PATH)`: runs the file open on
/// `fd`; returns only on failure.
pub fn execveat_fd(fd: libc::c_int, argv: &[CString]) -> io::Error {
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];
    // SAFETY: the empty path, every `argv` entry and `envp` are valid and
    // outlive the call; both arrays are NULL-terminated.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            fd,
            c"".as_ptr(),
            ptrs.as_ptr(),
            envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    io::Error::last_os_error()
}

/// `execv(path, argv)`; returns only on failure.
pub fn execv(path: &CStr, argv: &[CString]) -> io::Error {
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: `path` and every `argv` entry are NUL-terminated strings that
    // outlive the call, and `ptrs` is NULL-terminated.
    unsafe { libc::execv(path.as_ptr(), ptrs.as_ptr()) };
    io::Error::last_os_error()
}

/// The C library's message for `errno` (no " (os error N)" suffix).
pub fn strerror(errno: i32) -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is a writable buffer of the given length; the XSI
    // strerror_r NUL-terminates what it writes.
    let ret = unsafe { libc::strerror_r(errno, buf.as_mut_ptr().cast(), buf.len()) };
    if ret != 0 {
        return format!("Unknown error {errno}");
    }
    CStr::from_bytes_until_nul(&buf)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|_| format!("Unknown error {errno}"))
}

/// Sets `RLIMIT_CORE` to 0 so a deliberate crash does not write a core file.
pub fn no_core_dump() {
    let lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit; lowering a limit is always allowed.
    unsafe { libc::setrlimit(libc::RLIMIT_CORE, &lim) };
}

/// Stores to address 0: the process dies of SIGSEGV.
pub fn segv() -> ! {
    let null = std::hint::black_box(0usize);
    // SAFETY: not safe at all, on purpose: the store faults and the default
    // SIGSEGV action ends the process. It is done in asm so the compiler
    // cannot turn the null store into something else (e.g. `ud2`).
    unsafe { core::arch::asm!("mov byte ptr [{p}], 0", p = in(reg) null) };
    exit_group(99)
}

/// The raw `clone3` system call (number 435 on both i386 and x86_64).
const SYS_CLONE3: libc::c_long = 435;

/// `struct clone_args` version 0 (64 bytes), as in `<linux/sched.h>`.
#[repr(C)]
#[derive(Debug, Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
}

/// Raw `clone3` with flags 0 and exit signal SIGCHLD (a fork). The child
/// `_exit`s with `child_code` at once. Returns the child's pid.
pub fn clone3_child_exits(child_code: i32) -> io::Result<Pid> {
    let args = CloneArgs {
        exit_signal: u64::from(libc::SIGCHLD.unsigned_abs()),
        ..CloneArgs::default()
    };
    let size = std::mem::size_of::<CloneArgs>();
    // SAFETY: `args` is a valid clone_args of `size` bytes. Without CLONE_VM
    // the child gets a copy of the address space and stack (fork
    // semantics); the guest is single-threaded here and the child leaves
    // through `_exit` right away.
    let ret = unsafe { libc::syscall(SYS_CLONE3, &args as *const CloneArgs, size) };
    let pid = cvt(ret)?;
    if pid == 0 {
        // SAFETY: see above; the child ends here.
        unsafe { libc::_exit(child_code) }
    }
    Pid::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// A page of memory below 4 GiB (`MAP_32BIT`), for the buffers of `int $0x80`
/// issued from 64-bit code (the i386 ABI only carries 32-bit pointers).
#[cfg(target_arch = "x86_64")]
struct Low32Page(*mut libc::c_void);

#[cfg(target_arch = "x86_64")]
impl Low32Page {
    const LEN: usize = 4096;

    fn new() -> io::Result<Self> {
        // SAFETY: an anonymous private mapping with no address hint.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                Self::LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_32BIT,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Self(p))
    }

    /// Copies `data` to the start of the page; returns its 32-bit address.
    fn put(&mut self, data: &[u8]) -> io::Result<u32> {
        if data.len() > Self::LEN {
            return Err(io::Error::from_raw_os_error(libc::E2BIG));
        }
        // SAFETY: the page is ours, writable and LEN >= data.len() bytes long.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.0.cast::<u8>(), data.len()) };
        u32::try_from(self.0 as usize).map_err(|_| io::Error::from_raw_os_error(libc::EFAULT))
    }
}

#[cfg(target_arch = "x86_64")]
impl Drop for Low32Page {
    fn drop(&mut self) {
        // SAFETY: unmapping the page we mapped; no references into it remain.
        unsafe { libc::munmap(self.0, Self::LEN) };
    }
}

/// Writes `buf` to stdout with the native raw syscall instruction:
/// `syscall` with rax = 1 (x86_64 `write`).
#[cfg(target_arch = "x86_64")]
pub fn raw_write(buf: &[u8]) -> io::Result<usize> {
    let ret: isize;
    // SAFETY: write(1, buf, len) reads only `buf`; `syscall` clobbers rcx
    // and r11, which are declared.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") 1isize => ret,
            in("rdi") 1usize,
            in("rsi") buf.as_ptr(),
            in("rdx") buf.len(),
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    cvt_raw(ret)
}

/// Writes `buf` to stdout with the native raw syscall instruction:
/// `int $0x80` with eax = 4 (i386 `write`).
#[cfg(target_arch = "x86")]
pub fn raw_write(buf: &[u8]) -> io::Result<usize> {
    int80_write(buf)
}

/// Writes `buf` to stdout with `int $0x80`, eax = 4 (i386 `write`).
#[cfg(target_arch = "x86")]
pub fn int80_write(buf: &[u8]) -> io::Result<usize> {
    let ret: isize;
    // SAFETY: write(1, buf, len) reads only `buf`. LLVM may reserve ebx, so
    // the fd goes in through another register and is swapped into ebx
    // around the instruction, which restores ebx afterwards.
    unsafe {
        core::arch::asm!(
            "xchg {fd}, ebx",
            "int 0x80",
            "xchg {fd}, ebx",
            fd = inout(reg) 1usize => _,
            inlateout("eax") 4isize => ret,
            in("ecx") buf.as_ptr(),
            in("edx") buf.len(),
        );
    }
    cvt_raw(ret)
}

/// From 64-bit code, writes `buf` to stdout with `int $0x80` and i386
/// numbering (eax = 4). The buffer is copied below 4 GiB first because the
/// i386 ABI truncates pointers to 32 bits.
#[cfg(target_arch = "x86_64")]
pub fn int80_write(buf: &[u8]) -> io::Result<usize> {
    let mut page = Low32Page::new()?;
    let addr = page.put(buf)?;
    let len = u32::try_from(buf.len()).map_err(|_| io::Error::from_raw_os_error(libc::E2BIG))?;
    let ret: i32;
    // SAFETY: write(1, addr, len) on the i386 ABI reads only our low page.
    // rbx is reserved by LLVM, so the fd is swapped in and back out. Older
    // kernels zeroed r8-r11 on a 64-bit `int $0x80`: declared clobbered.
    unsafe {
        core::arch::asm!(
            "xchg {fd}, rbx",
            "int 0x80",
            "xchg {fd}, rbx",
            fd = inout(reg) 1u64 => _,
            inlateout("eax") 4i32 => ret,
            in("ecx") addr,
            in("edx") len,
            lateout("r8") _,
            lateout("r9") _,
            lateout("r10") _,
            lateout("r11") _,
        );
    }
    drop(page);
    cvt_raw(isize::try_from(ret).unwrap_or(-1))
}

/// `AT_SYSINFO` from `<elf.h>` (i386 only; the libc crate does not export it).
#[cfg(target_arch = "x86")]
const AT_SYSINFO: libc::c_ulong = 32;

/// The vDSO's `__kernel_vsyscall` entry (`AT_SYSINFO`), if the kernel gave one.
#[cfg(target_arch = "x86")]
pub fn kernel_vsyscall() -> Option<usize> {
    // SAFETY: getauxval has no preconditions; 0 means "not present".
    let entry = unsafe { libc::getauxval(AT_SYSINFO) };
    usize::try_from(entry).ok().filter(|&e| e != 0)
}

/// Writes `buf` to stdout by calling `__kernel_vsyscall` (which enters the
/// kernel with `sysenter`, or `syscall` on AMD CPUs) with eax = 4.
#[cfg(target_arch = "x86")]
pub fn sysenter_write(entry: usize, buf: &[u8]) -> io::Result<usize> {
    let ret: isize;
    // SAFETY: `entry` is the vDSO's __kernel_vsyscall (from AT_SYSINFO),
    // which preserves every register but eax. ebx may be reserved by LLVM,
    // so it is saved on the stack, loaded with the fd and restored.
    unsafe {
        core::arch::asm!(
            "push ebx",
            "mov ebx, 1",
            "call edi",
            "pop ebx",
            in("edi") entry,
            inlateout("eax") 4isize => ret,
            in("ecx") buf.as_ptr(),
            in("edx") buf.len(),
        );
    }
    cvt_raw(ret)
}

/// The raw `vfork` system call (i386 190 / x86_64 58) in asm; the child
/// does nothing but `exit_group(7)`, also in asm, so it never touches the
/// stack it shares with the suspended parent. Returns the child's pid.
#[cfg(target_arch = "x86_64")]
pub fn vfork_child_exits_7() -> io::Result<Pid> {
    let ret: isize;
    // SAFETY: the child runs only the instructions between the two
    // syscalls and exits; the parent resumes after the label with the pid.
    unsafe {
        core::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "mov edi, 7",
            "mov eax, 231",
            "syscall",
            "ud2",
            "2:",
            inlateout("rax") 58isize => ret,
            lateout("rdi") _,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    let pid = cvt_raw(ret)?;
    Pid::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// The raw `vfork` system call (i386 190 / x86_64 58) in asm; the child
/// does nothing but `exit_group(7)`, also in asm, so it never touches the
/// stack it shares with the suspended parent. Returns the child's pid.
#[cfg(target_arch = "x86")]
pub fn vfork_child_exits_7() -> io::Result<Pid> {
    let ret: isize;
    // SAFETY: the child runs only the instructions between the two
    // `int $0x80` and exits (it may clobber ebx: it never returns); the
    // parent resumes after the label with the pid and ebx untouched.
    unsafe {
        core::arch::asm!(
            "int 0x80",
            "test eax, eax",
            "jnz 2f",
            "mov ebx, 7",
            "mov eax, 252",
            "int 0x80",
            "ud2",
            "2:",
            inlateout("eax") 190isize => ret,
            options(nostack),
        );
    }
    let pid = cvt_raw(ret)?;
    Pid::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

// ---------------------------------------------------------------------------
// Filesystem calls for `fs OP ...`: plain libc calls, so each ABI's own
// system calls (open/openat, stat64/statx/newfstatat, ...) are exercised.
// ---------------------------------------------------------------------------

/// Maps a libc `int` result (0 or -1) to `io::Result<()>`.
fn cvt0(ret: libc::c_int) -> io::Result<()> {
    cvt(ret).map(drop)
}

/// `open(path, flags, mode)`.
pub fn open(path: &CStr, flags: libc::c_int, mode: libc::mode_t) -> io::Result<libc::c_int> {
    // SAFETY: `path` is a valid NUL-terminated string; mode is passed as the
    // variadic argument open(2) reads only with O_CREAT.
    cvt(unsafe { libc::open(path.as_ptr(), flags, libc::c_uint::from(mode)) })
}

/// `openat(dirfd, path, O_RDONLY)`.
pub fn openat_rdonly(dirfd: libc::c_int, path: &CStr) -> io::Result<libc::c_int> {
    // SAFETY: `path` is a valid NUL-terminated string.
    cvt(unsafe { libc::openat(dirfd, path.as_ptr(), libc::O_RDONLY) })
}

/// File type of a `st_mode`: "file", "dir", "link" or "other".
fn kind(mode: libc::mode_t) -> &'static str {
    match mode & libc::S_IFMT {
        libc::S_IFREG => "file",
        libc::S_IFDIR => "dir",
        libc::S_IFLNK => "link",
        _ => "other",
    }
}

/// `stat(2)` (or `lstat(2)` when `nofollow`).
pub fn stat(path: &CStr, nofollow: bool) -> io::Result<libc::stat> {
    // SAFETY: `st` is a zeroed stat buffer the call fills; `path` is a
    // valid NUL-terminated string.
    let (ret, st) = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        let ret = if nofollow {
            libc::lstat(path.as_ptr(), &mut st)
        } else {
            libc::stat(path.as_ptr(), &mut st)
        };
        (ret, st)
    };
    cvt0(ret)?;
    Ok(st)
}

/// The file type name of `stat(2)` (or `lstat(2)` when `nofollow`).
pub fn stat_kind(path: &CStr, nofollow: bool) -> io::Result<&'static str> {
    Ok(kind(stat(path, nofollow)?.st_mode))
}

/// `fstat(2)` of `fd`.
pub fn fstat(fd: libc::c_int) -> io::Result<libc::stat> {
    // SAFETY: `st` is a zeroed stat buffer the call fills.
    let (ret, st) = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        let ret = libc::fstat(fd, &mut st);
        (ret, st)
    };
    cvt0(ret)?;
    Ok(st)
}

/// `futimens(fd, {secs, secs})`: utimensat(fd, NULL, times, 0).
pub fn futimens(fd: libc::c_int, secs: i64) -> io::Result<()> {
    #[allow(clippy::useless_conversion)]
    let t = libc::timespec {
        tv_sec: secs.try_into().unwrap_or(0),
        tv_nsec: 0,
    };
    let times = [t, t];
    // SAFETY: `times` holds the two timespecs the call reads.
    cvt0(unsafe { libc::futimens(fd, times.as_ptr()) })
}

/// `access(path, mode)`.
pub fn access(path: &CStr, mode: libc::c_int) -> io::Result<()> {
    // SAFETY: `path` is a valid NUL-terminated string.
    cvt0(unsafe { libc::access(path.as_ptr(), mode) })
}

/// `unlink(2)`.
pub fn unlink(path: &CStr) -> io::Result<()> {
    // SAFETY: `path` is a valid NUL-terminated string.
    cvt0(unsafe { libc::unlink(path.as_ptr()) })
}

/// `mkdir(path, 0o755)`.
pub fn mkdir(path: &CStr) -> io::Result<()> {
    // SAFETY: `path` is a valid NUL-terminated string.
    cvt0(unsafe { libc::mkdir(path.as_ptr(), 0o755) })
}

/// `rmdir(2)`.
pub fn rmdir(path: &CStr) -> io::Result<()> {
    // SAFETY: `path` is a valid NUL-terminated string.
    cvt0(unsafe { libc::rmdir(path.as_ptr()) })
}

/// `rename(a, b)`.
pub fn rename(a: &CStr, b: &CStr) -> io::Result<()> {
    // SAFETY: both are valid NUL-terminated strings.
    cvt0(unsafe { libc::rename(a.as_ptr(), b.as_ptr()) })
}

/// `renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)`: `a` and `b`
/// swap names in one step.
pub fn exchange(a: &CStr, b: &CStr) -> io::Result<()> {
    // SAFETY: both are valid NUL-terminated strings; integer arguments.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    cvt0(if ret == 0 { 0 } else { -1 })
}

/// `link(a, b)`.
pub fn link(a: &CStr, b: &CStr) -> io::Result<()> {
    // SAFETY: both are valid NUL-terminated strings.
    cvt0(unsafe { libc::link(a.as_ptr(), b.as_ptr()) })
}

/// `symlink(target, link)`.
pub fn symlink(target: &CStr, link: &CStr) -> io::Result<()> {
    // SAFETY: both are valid NUL-terminated strings.
    cvt0(unsafe { libc::symlink(target.as_ptr(), link.as_ptr()) })
}

/// `readlink(2)`: the link's target bytes.
pub fn readlink(path: &CStr) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: `buf` is a writable buffer of `buf.len()` bytes; `path` is a
    // valid NUL-terminated string.
    let n = cvt(unsafe { libc::readlink(path.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) })?;
    buf.truncate(usize::try_from(n).unwrap_or(0));
    Ok(buf)
}

/// Drops to user and group `id`: no supplementary groups, then every group
/// id and every user id (root's capabilities go with the user ids).
pub fn set_all_ids(id: libc::uid_t) -> io::Result<()> {
    // SAFETY: integer arguments and a null list of length 0.
    unsafe {
        cvt0(libc::setgroups(0, std::ptr::null()))?;
        cvt0(libc::setresgid(id, id, id))?;
        cvt0(libc::setresuid(id, id, id))
    }
}

/// Drops every capability of the calling thread (effective, permitted,
/// inheritable), its ids unchanged.
pub fn drop_all_caps() -> io::Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    let header = Header {
        version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
        pid: 0,
    };
    let none = [0u32; 6]; // two {effective, permitted, inheritable}
                          // SAFETY: a valid header and two zeroed data structs the call reads.
    let ret = unsafe { libc::syscall(libc::SYS_capset, &raw const header, none.as_ptr()) };
    cvt0(if ret == 0 { 0 } else { -1 })
}

/// `chmod(path, mode)`.
pub fn chmod(path: &CStr, mode: libc::mode_t) -> io::Result<()> {
    // SAFETY: `path` is a valid NUL-terminated string.
    cvt0(unsafe { libc::chmod(path.as_ptr(), mode) })
}

/// `fchmod(2)`.
pub fn fchmod(fd: libc::c_int, mode: libc::mode_t) -> io::Result<()> {
    // SAFETY: integer arguments only.
    cvt0(unsafe { libc::fchmod(fd, mode) })
}

/// `dup2(2)`.
pub fn dup2(old: libc::c_int, new: libc::c_int) -> io::Result<()> {
    // SAFETY: integer arguments only.
    cvt(unsafe { libc::dup2(old, new) }).map(|_| ())
}

/// `chdir(2)`.
pub fn chdir(path: &CStr) -> io::Result<()> {
    // SAFETY: `path` is a valid NUL-terminated string.
    cvt0(unsafe { libc::chdir(path.as_ptr()) })
}

/// `truncate(path, len)`.
pub fn truncate(path: &CStr, len: libc::off_t) -> io::Result<()> {
    // SAFETY: `path` is a valid NUL-terminated string.
    cvt0(unsafe { libc::truncate(path.as_ptr(), len) })
}

/// `utimes(path, NULL)`: set both times to now.
pub fn utimes_now(path: &CStr) -> io::Result<()> {
    // SAFETY: `path` is a valid NUL-terminated string; NULL times mean now.
    cvt0(unsafe { libc::utimes(path.as_ptr(), std::ptr::null()) })
}

// ---------------------------------------------------------------------------
// `raw NR A0..A5`: one system call with the native instruction.
// ---------------------------------------------------------------------------

/// A copy of `len` bytes of this process's memory at `addr`, which must be
/// a readable mapping (from /proc/self/maps).
pub fn read_own(addr: usize, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    // SAFETY: the caller passes a whole readable mapping of this process;
    // `v` has room for `len` bytes.
    unsafe { std::ptr::copy_nonoverlapping(addr as *const u8, v.as_mut_ptr(), len) };
    v
}

/// A zeroed, writable buffer the `raw` subcommand can pass as a pointer
/// argument (`buf`), e.g. `struct io_uring_params` or `union bpf_attr`.
pub fn scratch_buffer() -> usize {
    static BUF: [AtomicU64; 128] = [const { AtomicU64::new(0) }; 128];
    BUF.as_ptr() as usize
}

/// One system call with `syscall`: returns the raw result (-errno on error).
#[cfg(target_arch = "x86_64")]
pub fn raw_syscall(nr: usize, a: [usize; 6]) -> isize {
    let nr = isize::from_ne_bytes(nr.to_ne_bytes());
    let ret: isize;
    // SAFETY: not safe in general: the test chooses the call and its
    // arguments (pointers are null or the zeroed `scratch_buffer`). The
    // registers the instruction clobbers (rcx, r11) are declared.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") nr => ret,
            in("rdi") a[0],
            in("rsi") a[1],
            in("rdx") a[2],
            in("r10") a[3],
            in("r8") a[4],
            in("r9") a[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// One system call with `int $0x80`: returns the raw result (-errno on error).
#[cfg(target_arch = "x86")]
pub fn raw_syscall(nr: usize, a: [usize; 6]) -> isize {
    let block: [usize; 7] = [nr, a[0], a[1], a[2], a[3], a[4], a[5]];
    let ret: isize;
    // SAFETY: as for x86_64, the test chooses the call. ebx, esi and ebp
    // may be reserved by LLVM, so they are saved on the stack and loaded
    // from `block` (read through ecx, which is loaded last), then restored.
    unsafe {
        core::arch::asm!(
            "push ebp",
            "push ebx",
            "push esi",
            "mov ebx, [ecx + 4]",
            "mov edx, [ecx + 12]",
            "mov esi, [ecx + 16]",
            "mov edi, [ecx + 20]",
            "mov ebp, [ecx + 24]",
            "mov ecx, [ecx + 8]",
            "int 0x80",
            "pop esi",
            "pop ebx",
            "pop ebp",
            inout("ecx") block.as_ptr() => _,
            inlateout("eax") block[0] => ret,
            lateout("edx") _,
            lateout("edi") _,
        );
    }
    ret
}

// ---------------------------------------------------------------------------
// `race-mem`: a path buffer another thread rewrites while it is opened.
// ---------------------------------------------------------------------------

/// Words of the shared path buffer (4096 bytes).
const RACE_WORDS: usize = 4096 / std::mem::size_of::<usize>();

/// The path buffer of `race-mem`: the opening thread passes its address to
/// open(2) while the flipping thread stores into it (atomic word stores, no
/// lock: the kernel sees whatever is there when it copies the path).
pub static RACE_PATH: [AtomicUsize; RACE_WORDS] = [const { AtomicUsize::new(0) }; RACE_WORDS];

/// Stores `path` and a NUL into [`RACE_PATH`], word by word.
pub fn race_store(words: &[usize]) {
    for (slot, &w) in RACE_PATH.iter().zip(words) {
        slot.store(w, Ordering::Relaxed);
    }
}

/// `path` + NUL padded to whole native words, for [`race_store`].
pub fn race_words(path: &[u8]) -> Vec<usize> {
    let size = std::mem::size_of::<usize>();
    let mut bytes = path.to_vec();
    bytes.push(0);
    while !bytes.len().is_multiple_of(size) {
        bytes.push(0);
    }
    bytes
        .chunks(size)
        .map(|c| {
            let mut w = [0u8; std::mem::size_of::<usize>()];
            w.copy_from_slice(c);
            usize::from_ne_bytes(w)
        })
        .take(RACE_WORDS)
        .collect()
}

/// `open(RACE_PATH, O_RDONLY)`: the kernel reads the path as it is now.
pub fn race_open() -> io::Result<libc::c_int> {
    // SAFETY: RACE_PATH is a static, always NUL-terminated buffer (every
    // stored path fits and ends in a NUL word); another thread may change
    // its bytes during the call, which is the point of the test and only
    // changes which path the kernel reads.
    cvt(unsafe { libc::open(RACE_PATH.as_ptr().cast(), libc::O_RDONLY) })
}
