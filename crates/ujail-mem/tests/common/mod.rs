// SPDX-License-Identifier: GPL-3.0-or-later
//! Test helper: a forked child stopped under `PTRACE_TRACEME`, guarded by a
//! watchdog, and anonymous memory regions whose contents the child inherits
//! at the same addresses. All test-only unsafe code lives here.
#![allow(unsafe_code, dead_code)]

use std::ffi::CStr;
use std::ptr;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ujail_mem::RemoteAddr;

/// x86 page size (4 KiB); checked against sysconf in [`Region::map`].
pub const PAGE: usize = 4096;

/// A hung test is killed after this long.
pub const WATCHDOG: Duration = Duration::from_secs(30);

/// What the child does to its own address space right after fork, before it
/// stops: doing it there (not in the multi-threaded parent) means no other
/// thread can map something into a hole we punch.
#[derive(Debug, Clone, Copy)]
pub enum Prep {
    /// `munmap(addr, len)`.
    Unmap { addr: usize, len: usize },
    /// `mprotect(addr, len, PROT_READ)`.
    ReadOnly { addr: usize, len: usize },
}

/// Converts a tracer address (same in the forked child) to a tracee address.
pub fn remote(addr: usize) -> RemoteAddr {
    RemoteAddr(u64::try_from(addr).expect("address fits u64"))
}

/// Anonymous read-write pages in the test process.
#[derive(Debug)]
pub struct Region {
    addr: usize,
    len: usize,
}

impl Region {
    /// Map `pages` zeroed pages.
    pub fn map(pages: usize) -> Region {
        // SAFETY: sysconf has no memory-safety preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        assert_eq!(
            usize::try_from(page).ok(),
            Some(PAGE),
            "tests assume 4 KiB pages"
        );
        let len = pages * PAGE;
        // SAFETY: a fresh anonymous private mapping at a kernel-chosen
        // address; it aliases nothing.
        let p = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(
            p,
            libc::MAP_FAILED,
            "mmap: {}",
            std::io::Error::last_os_error()
        );
        Region {
            addr: p.expose_provenance(),
            len,
        }
    }

    /// Address of byte `off` of the region (in the tracer and the child).
    pub fn addr(&self, off: usize) -> usize {
        self.addr + off
    }

    /// Tracee address of byte `off`.
    pub fn at(&self, off: usize) -> RemoteAddr {
        remote(self.addr(off))
    }

    /// The region's bytes in the test process.
    pub fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: [addr, addr+len) is our live read-write mapping, only
        // reachable through this &mut self.
        unsafe {
            std::slice::from_raw_parts_mut(ptr::with_exposed_provenance_mut(self.addr), self.len)
        }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping; no references into it outlive
        // the &mut borrows handed out by bytes().
        unsafe { libc::munmap(ptr::with_exposed_provenance_mut(self.addr), self.len) };
    }
}

/// Kills `pid` unless cancelled within [`WATCHDOG`].
#[derive(Debug)]
struct Watchdog {
    cancel: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    fn start(pid: i32) -> Watchdog {
        let cancel = Arc::new((Mutex::new(false), Condvar::new()));
        let c = Arc::clone(&cancel);
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + WATCHDOG;
            let (lock, cv) = &*c;
            let mut cancelled = lock.lock().unwrap();
            while !*cancelled {
                let now = Instant::now();
                if now >= deadline {
                    eprintln!("watchdog: killing tracee {pid} after {WATCHDOG:?}");
                    // SAFETY: kill has no memory-safety preconditions; the
                    // child cannot have been reaped yet (reaping cancels us
                    // first), so the pid is still ours.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                    return;
                }
                cancelled = cv.wait_timeout(cancelled, deadline - now).unwrap().0;
            }
        });
        Watchdog {
            cancel,
            thread: Some(thread),
        }
    }

    fn stop(&mut self) {
        let (lock, cv) = &*self.cancel;
        *lock.lock().unwrap() = true;
        cv.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A forked child that called `PTRACE_TRACEME` and stopped itself with
/// SIGSTOP; the calling thread is its tracer. Killed and reaped on drop.
#[derive(Debug)]
pub struct Child {
    pid: i32,
    dog: Watchdog,
    reaped: bool,
}

impl Child {
    /// Fork a traced child that applies `preps` and stops.
    pub fn spawn(preps: &[Prep]) -> Child {
        Child::spawn_inner(preps, None)
    }

    /// Like [`spawn`](Self::spawn); when continued after the first stop the
    /// child execs `argv[0]` (stopping again with SIGTRAP at the exec).
    pub fn spawn_exec(argv: &[&CStr]) -> Child {
        assert!(!argv.is_empty(), "exec needs argv[0]");
        Child::spawn_inner(&[], Some(argv))
    }

    fn spawn_inner(preps: &[Prep], exec: Option<&[&CStr]>) -> Child {
        // Built before fork: the child must not allocate.
        let argv: Option<Vec<*const libc::c_char>> = exec.map(|a| {
            a.iter()
                .map(|s| s.as_ptr())
                .chain(std::iter::once(ptr::null()))
                .collect()
        });
        // SAFETY: the child only makes async-signal-safe raw calls
        // (child_main) and never returns into Rust code of the parent.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
        if pid == 0 {
            child_main(preps, argv.as_deref());
        }
        let mut child = Child {
            pid,
            dog: Watchdog::start(pid),
            reaped: false,
        };
        assert_eq!(child.wait_stop(), libc::SIGSTOP, "first stop of the child");
        // If the test process dies, the kernel kills the child.
        // SAFETY: PTRACE_SETOPTIONS with an integer option word; the child is
        // stopped and traced by this thread.
        let r = unsafe {
            libc::ptrace(
                libc::PTRACE_SETOPTIONS,
                pid,
                ptr::null_mut::<libc::c_void>(),
                ptr::without_provenance_mut::<libc::c_void>(libc::PTRACE_O_EXITKILL as usize),
            )
        };
        assert_eq!(
            r,
            0,
            "PTRACE_SETOPTIONS: {}",
            std::io::Error::last_os_error()
        );
        child
    }

    /// The child's pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Wait for the next stop and return its signal; panics if the child
    /// ended instead (it is then reaped).
    pub fn wait_stop(&mut self) -> i32 {
        let mut status = 0;
        loop {
            // SAFETY: waitpid writes one int through a valid &mut.
            let r = unsafe { libc::waitpid(self.pid, &mut status, libc::__WALL) };
            if r == self.pid {
                break;
            }
            let err = std::io::Error::last_os_error();
            assert_eq!(
                err.kind(),
                std::io::ErrorKind::Interrupted,
                "waitpid: {err}"
            );
        }
        if libc::WIFSTOPPED(status) {
            return libc::WSTOPSIG(status);
        }
        self.reaped = true;
        panic!(
            "child {} ended instead of stopping: status {status:#x}",
            self.pid
        );
    }

    /// `PTRACE_CONT` without a signal.
    pub fn cont(&mut self) {
        // SAFETY: PTRACE_CONT with integer arguments on our stopped tracee.
        let r = unsafe {
            libc::ptrace(
                libc::PTRACE_CONT,
                self.pid,
                ptr::null_mut::<libc::c_void>(),
                ptr::null_mut::<libc::c_void>(),
            )
        };
        assert_eq!(r, 0, "PTRACE_CONT: {}", std::io::Error::last_os_error());
    }

    /// Kill the child and reap it; returns its (now free) pid.
    pub fn kill_and_reap(&mut self) -> i32 {
        self.dog.stop();
        if !self.reaped {
            // SAFETY: kill has no memory-safety preconditions; the child is
            // not reaped, so the pid is still ours.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
            let mut status = 0;
            loop {
                // SAFETY: waitpid writes one int through a valid &mut.
                let r = unsafe { libc::waitpid(self.pid, &mut status, libc::__WALL) };
                if r == self.pid && (libc::WIFEXITED(status) || libc::WIFSIGNALED(status)) {
                    break;
                }
                if r == -1
                    && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
                {
                    break;
                }
            }
            self.reaped = true;
        }
        self.pid
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

/// The forked child: only raw, async-signal-safe calls; never returns.
fn child_main(preps: &[Prep], argv: Option<&[*const libc::c_char]>) -> ! {
    for p in preps {
        // SAFETY: changes the child's own copy of a region the parent mapped;
        // nothing in the child refers to it afterwards.
        let r = unsafe {
            match *p {
                Prep::Unmap { addr, len } => {
                    libc::munmap(ptr::with_exposed_provenance_mut(addr), len)
                }
                Prep::ReadOnly { addr, len } => {
                    libc::mprotect(ptr::with_exposed_provenance_mut(addr), len, libc::PROT_READ)
                }
            }
        };
        if r != 0 {
            // SAFETY: _exit ends the child without running parent state.
            unsafe { libc::_exit(3) };
        }
    }
    // SAFETY: PTRACE_TRACEME ignores its other arguments; kill/getpid/pause/
    // execv/_exit are async-signal-safe; argv is a NULL-terminated array of
    // C strings built before fork and still mapped in the child.
    unsafe {
        if libc::ptrace(
            libc::PTRACE_TRACEME,
            0,
            ptr::null_mut::<libc::c_void>(),
            ptr::null_mut::<libc::c_void>(),
        ) != 0
        {
            libc::_exit(4);
        }
        libc::kill(libc::getpid(), libc::SIGSTOP);
        if let Some(argv) = argv {
            libc::execv(argv[0], argv.as_ptr());
            libc::_exit(5);
        }
        loop {
            libc::pause();
        }
    }
}
