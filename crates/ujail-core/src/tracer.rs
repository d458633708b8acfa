// SPDX-License-Identifier: GPL-3.0-or-later
//! The `sysemu` engine: the hybrid PTRACE_SYSEMU / PTRACE_SYSCALL loop.
//!
//! Every tracee thread runs under `PTRACE_SYSEMU`, so each system call stops
//! at its entry and the kernel will skip it. At that stop the handler decides:
//!
//! * **emulate / deny** — write the result into `eax`/`rax`, resume with
//!   `PTRACE_SYSEMU`: one stop per call;
//! * **forward** — resume with `PTRACE_SYSCALL`. The next stop is the exit of
//!   the *skipped* call; there `ax = orig_ax` and `ip -=` the length of the
//!   syscall instruction (the kernel's own restart step), resume with
//!   `PTRACE_SYSCALL`: the tracee executes the instruction again, the kernel
//!   now really runs it (real entry stop, real exit stop), then
//!   `PTRACE_SYSEMU` again. When neither the handler needs the result nor
//!   the tracer has registers to put back, the real entry is resumed with
//!   `PTRACE_SYSEMU` directly: the kernel runs the call (it decided so at
//!   that entry) and reports no exit stop — three stops instead of four.
//!
//! The real entry stop is checked against the approved call: between the
//! skipped exit and the real entry a signal handler may run and make calls of
//! its own. A signal delivered there drops the approval altogether (the
//! rewound instruction comes back as a fresh `PTRACE_SYSEMU` entry and is
//! judged again), and any real entry that is not the approved call is judged
//! by the handler like any other; if refused it is cancelled (`orig_ax = -1`)
//! and its result written at the exit stop.
//!
//! Each thread's position in this dance is an explicit [`ThreadState`]; the
//! kernel's own `PTRACE_GET_SYSCALL_INFO` op (entry or exit) is checked
//! against it at every stop, and any disagreement kills the tracee (fail
//! closed) instead of guessing.
#![forbid(unsafe_code)]

use std::collections::{HashMap, HashSet};
use std::io;

use ujail_mem::{MemError, PeekPoke, ProcMem, RemoteAddr, TraceeMem};
use ujail_regs::{decode_syscall_insn, table, Abi, AbiError, NativeRegs, Registers};

use crate::errno;
use crate::error::Error;
use crate::handler::{Call, Event, Handler, Memory, Pid, ResultAction, Verdict, Watch};
use crate::placement::Pin;
use crate::stop::{PtraceEvent, Stop};
use crate::sys;

const SYSCALL_INFO_ENTRY: u8 = 1;
const SYSCALL_INFO_EXIT: u8 = 2;
const SYSCALL_INFO_SECCOMP: u8 = 3;

/// How the tracer stops system calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Every call stops under `PTRACE_SYSEMU` (this module's hybrid).
    Sysemu,
    /// A seccomp filter ([`crate::seccomp`]) stops only the calls the policy
    /// watches, at a `PTRACE_EVENT_SECCOMP` stop before the kernel runs
    /// them; the tracee otherwise runs under `PTRACE_CONT`. There, forward
    /// is resuming (one stop), emulate and deny skip the call
    /// (`orig_ax = -1`, the result in `ax`; one stop), and a call whose
    /// result or registers matter is resumed with `PTRACE_SYSCALL`, which
    /// after a seccomp stop reports its exit (Linux 4.8+, ptrace(2)). The
    /// kernel re-runs the seccomp filter on a call the tracer changed.
    Seccomp,
    /// The seed's first proof of concept, kept to compare with: as
    /// `sysemu`, but a forwarded call is run by writing a syscall
    /// instruction (`int $0x80` or `syscall`) over the two bytes after the
    /// program's own, executing it and putting the bytes back (four stops
    /// and two memory writes instead of a register rewind). Only where no
    /// other task can see the bytes meanwhile: a thread, or a process
    /// sharing its memory (`vfork`, `CLONE_VM`), falls back to the rewind,
    /// and so do fork-like calls (the child would inherit the patch).
    Patch,
}

/// How a jailed program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The program exited with this status.
    Exited(i32),
    /// The program was killed by this signal.
    Killed(i32),
    /// The program's own `execve` failed with this errno (the child exited
    /// without running it).
    ExecFailed(i32),
}

impl Outcome {
    /// The exit status ujail reports: the program's own, 128+N for signal N,
    /// 127 for a program that was not found and 126 for one that could not
    /// be executed.
    pub fn exit_status(self) -> i32 {
        match self {
            Outcome::Exited(c) => c,
            Outcome::Killed(s) => 128 + s,
            Outcome::ExecFailed(e) if e == libc::ENOENT => 127,
            Outcome::ExecFailed(_) => 126,
        }
    }
}

/// A call approved for forwarding, with what the rewind needs.
#[derive(Debug, Clone)]
struct Approved {
    call: Call,
    /// Length of the syscall instruction (what ip moves back by).
    insn_len: u8,
    /// Report the result to the handler.
    report: bool,
    /// This is the root's first execve: its failure is the program's.
    root_exec: bool,
    /// What to put back after the call (or when it is abandoned).
    after: After,
    /// The `patch` engine: the call runs from a syscall instruction
    /// written over the bytes after the program's own.
    patch: Option<Patch>,
}

/// Bytes of the program the `patch` engine overwrote, to put back.
#[derive(Debug, Clone, Copy)]
struct Patch {
    /// Where: right after the program's syscall instruction.
    at: u64,
    /// What was there.
    saved: [u8; 2],
    /// The registers at the entry: the call's arguments (at the exit of
    /// the skipped call `sysenter` has clobbered ecx and edx, which the
    /// vDSO restores after it).
    regs: NativeRegs,
}

/// Registers to put back around a forwarded call.
#[derive(Debug, Clone)]
enum After {
    /// The call is the tracee's own: nothing to restore.
    Nothing,
    /// A rewritten call: at its real exit the tracee's own number and
    /// argument registers (from these, taken at entry) come back; the
    /// result stays.
    RestoreArgs(NativeRegs),
    /// A call injected by the tracer (scratch area creation): at its real
    /// exit its result is recorded and every register comes back from these
    /// (taken at the entry of the tracee's call), rewound so that the
    /// tracee's own call is made again.
    Injected(NativeRegs),
    /// `mseal` of a new scratch area, injected right after its `mmap`: the
    /// area is used only if sealing worked (or the kernel has no mseal), so
    /// a sibling's map call approved before the area existed cannot have
    /// removed it. Registers come back from these as for `Injected`.
    Sealing(NativeRegs, Scratch),
}

/// `mseal` (Linux 6.10+), the same number for i386 and x86_64; newer than
/// the generated tables (linux-libc-dev 6.1).
const NR_MSEAL: u64 = 462;

/// Size of a thread's scratch area: two PATH_MAX paths and some structs.
pub const SCRATCH_SIZE: u64 = 16 * 1024;

/// A thread's scratch area: `len` bytes at `addr`, mapped read-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scratch {
    addr: u64,
    len: u64,
}

impl Scratch {
    fn overlaps(self, start: u64, len: u64) -> bool {
        let end = start.saturating_add(len.max(1));
        start < self.addr + self.len && self.addr < end
    }

    /// Is the area, in `maps` (the text of `/proc/PID/maps`), inside one
    /// private anonymous read-only mapping? A sibling thread's map call
    /// between the tracer's mmap and the seal (or, without mseal, the
    /// registration that makes the guard refuse such calls) could have made
    /// it writable, shared or file-backed.
    fn intact_in(self, maps: &str) -> bool {
        let end = self.addr + self.len;
        maps.lines().any(|line| {
            let mut f = line.split_whitespace();
            let (Some(range), Some(perms), Some(_off), Some(dev), Some(inode)) =
                (f.next(), f.next(), f.next(), f.next(), f.next())
            else {
                return false;
            };
            let Some((lo, hi)) = range.split_once('-') else {
                return false;
            };
            let (Ok(lo), Ok(hi)) = (u64::from_str_radix(lo, 16), u64::from_str_radix(hi, 16))
            else {
                return false;
            };
            lo <= self.addr
                && end <= hi
                // r-x: READ_IMPLIES_EXEC (an i386 program without
                // PT_GNU_STACK) makes PROT_READ executable too.
                && (perms == "r--p" || perms == "r-xp")
                && dev == "00:00"
                && inode == "0"
                && f.next().is_none()
        })
    }
}

/// Where one tracee thread stands. Named after what the *next* syscall stop
/// must be.
#[derive(Debug, Clone)]
enum ThreadState {
    /// Auto-attached child whose initial SIGSTOP has not been seen yet.
    New,
    /// Resumed with `PTRACE_SYSEMU`: the next syscall stop is an entry the
    /// kernel will skip.
    Emu,
    /// Approved at a SYSEMU entry and resumed with `PTRACE_SYSCALL`: the next
    /// syscall stop is the exit of the skipped call.
    SkippedExit(Approved),
    /// Rewound: the next syscall stop is the real entry of the call.
    RealEntry(Approved),
    /// The kernel runs the call: the next syscall stop is its real exit.
    RealExit(Approved),
    /// A call refused at a real entry was cancelled (`orig_ax = -1`); write
    /// `ret` at its exit stop.
    Cancelled {
        /// The call's ABI (for the width of the result).
        abi: Abi,
        /// The value the call returns.
        ret: i64,
    },
}

impl ThreadState {
    /// The request that resumes a thread in this state.
    fn resume_request(&self, engine: Engine) -> libc::c_uint {
        match (self, engine) {
            (ThreadState::New | ThreadState::Emu, Engine::Sysemu | Engine::Patch) => {
                sys::req::SYSEMU
            }
            (ThreadState::New | ThreadState::Emu, Engine::Seccomp) => sys::req::CONT,
            _ => sys::req::SYSCALL,
        }
    }
}

#[derive(Debug)]
struct Thread {
    state: ThreadState,
    /// `/proc/PID/mem`, opened on first use and dropped at exec (new mm).
    mem: Option<ProcMem>,
    /// The scratch area, once created; dropped at exec (new mm).
    scratch: Option<Scratch>,
    /// Creating the scratch area failed: calls needing it are refused.
    scratch_failed: bool,
}

impl Thread {
    fn new(state: ThreadState) -> Thread {
        Thread {
            state,
            mem: None,
            scratch: None,
            scratch_failed: false,
        }
    }
}

/// Tracee memory for handlers: `/proc/PID/mem` when it can be opened,
/// `PTRACE_PEEKDATA` otherwise.
struct StoppedMemory<'a> {
    pid: Pid,
    proc_mem: &'a mut Option<ProcMem>,
    scratch: Option<Scratch>,
    /// Bytes of the scratch area used by this call so far.
    used: u64,
    /// The jail's threads, for [`Memory::is_jailed`].
    jailed: Option<&'a HashMap<Pid, Thread>>,
    /// The ABI of the call being judged (what a placed pointer must fit).
    abi: Abi,
}

impl<'a> StoppedMemory<'a> {
    fn new(pid: Pid, proc_mem: &'a mut Option<ProcMem>) -> StoppedMemory<'a> {
        StoppedMemory {
            pid,
            proc_mem,
            scratch: None,
            used: 0,
            jailed: None,
            abi: Abi::X86_64,
        }
    }

    fn proc_mem(&mut self) -> Option<&mut ProcMem> {
        if self.proc_mem.is_none() {
            *self.proc_mem = ProcMem::open(self.pid).ok();
        }
        self.proc_mem.as_mut()
    }
}

impl Memory for StoppedMemory<'_> {
    fn place(&mut self, data: &[u8]) -> Option<RemoteAddr> {
        let scratch = self.scratch?;
        let len = u64::try_from(data.len()).ok()?;
        // Keep every placed object 8-byte aligned (struct open_how).
        let start = self.used.next_multiple_of(8);
        if start + len > scratch.len {
            return None;
        }
        let addr = RemoteAddr(scratch.addr + start);
        if self.abi == Abi::I386 && scratch.addr + start + len > 1 << 32 {
            // An i386 call (int $0x80 from a 64-bit program) sees only the
            // low 32 bits of a pointer: the kernel would read elsewhere.
            return None;
        }
        // /proc/PID/mem writes through the read-only protection (FOLL_FORCE).
        self.proc_mem()?.write(addr, data).ok()?;
        self.used = start + len;
        Some(addr)
    }

    fn is_jailed(&self, pid: Pid) -> bool {
        self.jailed.is_some_and(|t| t.contains_key(&pid))
    }

    fn write(&mut self, addr: RemoteAddr, data: &[u8]) -> Result<(), MemError> {
        sys::write_user(self.pid, addr.0, data).map_err(|e| match e.raw_os_error() {
            Some(libc::ESRCH) => MemError::Gone { pid: self.pid },
            _ => MemError::Fault {
                op: ujail_mem::Access::Write,
                pid: self.pid,
                addr,
            },
        })
    }

    fn read(&mut self, addr: RemoteAddr, buf: &mut [u8]) -> Result<(), MemError> {
        let pid = self.pid;
        match self.proc_mem() {
            Some(m) => m.read(addr, buf),
            None => PeekPoke::new(pid).read(addr, buf),
        }
    }

    fn read_cstr(&mut self, addr: RemoteAddr, limit: usize) -> Result<Vec<u8>, MemError> {
        let pid = self.pid;
        match self.proc_mem() {
            Some(m) => m.read_cstr(addr, limit),
            None => PeekPoke::new(pid).read_cstr(addr, limit),
        }
    }
}

/// Why a call's ABI could not be decided, or why this build cannot handle it.
#[derive(Debug)]
enum Undecided {
    /// Deny the call (fail closed) with this reason.
    Abi(AbiError),
    /// The call is of an ABI this tracer build cannot follow (a 64-bit call
    /// under the i686 build): kill the process.
    Unsupported(Abi),
}

/// The tracer: owns the handler and the state of every tracee thread.
#[derive(Debug)]
pub struct Tracer<H> {
    handler: H,
    threads: HashMap<Pid, Thread>,
    root: Pid,
    /// The root has completed its first exec (its program is running).
    root_execed: bool,
    outcome: Option<Outcome>,
    /// Problems that made the tracer kill a tracee, reported at the end.
    errors: Vec<String>,
    engine: Engine,
    /// Tracer and program share a CPU until the jail runs in parallel.
    pin: Option<Pin>,
    /// Tasks whose memory another task may run meanwhile (threads, vfork,
    /// CLONE_VM): the `patch` engine never writes code there.
    shared_mm: HashSet<Pid>,
}

impl<H: Handler> Tracer<H> {
    /// A tracer for `root`, which must be stopped at its initial SIGSTOP
    /// (see [`crate::spawn`]) with the ptrace options set.
    pub(crate) fn new(handler: H, root: Pid, engine: Engine, pin: Option<Pin>) -> Tracer<H> {
        let mut threads = HashMap::new();
        threads.insert(root, Thread::new(ThreadState::Emu));
        Tracer {
            handler,
            threads,
            root,
            root_execed: false,
            outcome: None,
            errors: Vec::new(),
            engine,
            pin,
            shared_mm: HashSet::new(),
        }
    }

    /// The engine this tracer runs.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The handler, after the run.
    pub fn into_handler(self) -> H {
        self.handler
    }

    /// The handler (e.g. to flush a log after the run).
    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }

    /// The pid of the jailed program (the first tracee).
    pub fn root(&self) -> Pid {
        self.root
    }

    /// Problems that made the tracer kill tracees (one line each).
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// Run until every tracee is gone; return how the root program ended.
    pub fn run(&mut self) -> Result<Outcome, Error> {
        // ujail holds fds for calls in flight (anchored paths); the program,
        // started already, keeps the limit it was given.
        sys::raise_nofile_limit();
        let first = ThreadState::Emu.resume_request(self.engine);
        sys::resume(first, self.root, 0).map_err(|e| Error::new("ptrace resume", self.root, e))?;
        loop {
            let (pid, status) = match sys::wait_any() {
                Ok(r) => r,
                Err(e) if e.raw_os_error() == Some(libc::ECHILD) => break,
                Err(e) => return Err(Error::new("waitpid", -1, e)),
            };
            let stop = Stop::from_wait_status(status);
            if let Err(e) = self.on_stop(pid, stop) {
                if e.is_gone() {
                    // Died under us (SIGKILL, exit of the thread group): its
                    // death is reported by waitpid next.
                    continue;
                }
                // Anything unexpected: never let the tracee run unwatched.
                self.errors.push(format!("{e}; killed tracee {pid}"));
                let _ = sys::kill(pid, libc::SIGKILL);
            }
        }
        Ok(self.outcome.unwrap_or(Outcome::Killed(libc::SIGKILL)))
    }

    fn on_stop(&mut self, pid: Pid, stop: Stop) -> Result<(), Error> {
        match stop {
            Stop::Exited(status) => {
                self.on_death(pid, Event::Exited { pid, status });
                if pid == self.root && self.outcome.is_none() {
                    self.outcome = Some(Outcome::Exited(status));
                }
                Ok(())
            }
            Stop::Killed(sig) => {
                self.on_death(pid, Event::Killed { pid, sig });
                if pid == self.root && self.outcome.is_none() {
                    self.outcome = Some(Outcome::Killed(sig));
                }
                Ok(())
            }
            Stop::Event(ev) => self.on_event_stop(pid, ev),
            Stop::Signal(sig) => self.on_signal_stop(pid, sig),
            Stop::Syscall => self.on_syscall_stop(pid),
        }
    }

    fn on_death(&mut self, pid: Pid, event: Event) {
        if let Some(t) = self.threads.remove(&pid) {
            if let ThreadState::SkippedExit(a)
            | ThreadState::RealEntry(a)
            | ThreadState::RealExit(a) = t.state
            {
                if a.report {
                    let mut proc_mem = None;
                    let mut mem = StoppedMemory::new(pid, &mut proc_mem);
                    let _ = self.handler.on_result(&a.call, None, &mut mem);
                }
            }
        }
        self.handler.on_event(&event);
    }

    fn thread(&mut self, pid: Pid) -> &mut Thread {
        // A pid we have not seen is an auto-attached child whose stop arrived
        // before its parent's PTRACE_EVENT_FORK/CLONE stop. Until that event
        // tells, it may be a thread whose siblings run the same code: the
        // patch engine must not write there.
        if !self.threads.contains_key(&pid) {
            self.shared_mm.insert(pid);
        }
        self.threads
            .entry(pid)
            .or_insert_with(|| Thread::new(ThreadState::New))
    }

    fn resume(&mut self, pid: Pid, sig: i32) -> Result<(), Error> {
        let engine = self.engine;
        let request = self.thread(pid).state.resume_request(engine);
        sys::resume(request, pid, sig).map_err(|e| Error::new("ptrace resume", pid, e))
    }

    fn get_regs(pid: Pid) -> Result<NativeRegs, Error> {
        sys::get_regs(pid).map_err(|e| Error::new("PTRACE_GETREGS", pid, e))
    }

    fn set_regs(pid: Pid, regs: &NativeRegs) -> Result<(), Error> {
        sys::set_regs(pid, regs).map_err(|e| Error::new("PTRACE_SETREGS", pid, e))
    }

    fn kill(pid: Pid) -> Result<(), Error> {
        sys::kill(pid, libc::SIGKILL).map_err(|e| Error::new("kill", pid, e))
    }

    fn on_event_stop(&mut self, pid: Pid, ev: PtraceEvent) -> Result<(), Error> {
        match ev {
            PtraceEvent::Fork | PtraceEvent::Vfork | PtraceEvent::Clone => {
                let msg = sys::get_event_msg(pid)
                    .map_err(|e| Error::new("PTRACE_GETEVENTMSG", pid, e))?;
                let child = Pid::try_from(msg).map_err(|_| {
                    Error::new(
                        "PTRACE_GETEVENTMSG",
                        pid,
                        io::Error::other(format!("child pid {msg} out of range")),
                    )
                })?;
                self.thread(child);
                if matches!(ev, PtraceEvent::Clone | PtraceEvent::Vfork) {
                    // Clone covers threads and CLONE_VM processes alike.
                    self.shared_mm.insert(pid);
                    self.shared_mm.insert(child);
                } else {
                    // A fork: the child has its own copy of the memory.
                    self.shared_mm.remove(&child);
                }
                // A second thread, or a third process: parallel work, which
                // must not share one CPU (crate::placement).
                if ev == PtraceEvent::Clone || self.threads.len() > 2 {
                    if let Some(pin) = self.pin.take() {
                        pin.release(self.threads.keys().copied());
                    }
                }
                self.handler
                    .on_event(&Event::Spawned { parent: pid, child });
            }
            PtraceEvent::Exec => {
                let msg = sys::get_event_msg(pid)
                    .map_err(|e| Error::new("PTRACE_GETEVENTMSG", pid, e))?;
                let former = Pid::try_from(msg).unwrap_or(pid);
                if former != pid {
                    // A non-leader thread exec'd and took over the leader's
                    // pid (ptrace(2), "execve(2) under ptrace").
                    if let Some(t) = self.threads.remove(&former) {
                        self.threads.insert(pid, t);
                    }
                }
                // New address space: the old /proc/PID/mem handle and the
                // scratch area are gone with the old one.
                let thread = self.thread(pid);
                thread.mem = None;
                thread.scratch = None;
                thread.scratch_failed = false;
                // The registers now belong to the new image (its entry
                // registers, rdx/edx = the atexit pointer): a rewritten
                // execve must not get the old program's arguments back.
                if let ThreadState::RealExit(approved) = &mut thread.state {
                    approved.after = After::Nothing;
                    // The patched bytes went with the old image.
                    approved.patch = None;
                }
                if pid == self.root {
                    self.root_execed = true;
                }
                self.shared_mm.remove(&pid);
                self.handler.on_event(&Event::Exec { pid, former });
            }
            PtraceEvent::Stop(sig) => return self.on_event_stop_stop(pid, sig),
            PtraceEvent::Seccomp if self.engine == Engine::Seccomp => {
                return self.on_seccomp_stop(pid)
            }
            PtraceEvent::Seccomp => {
                return Err(Error::new(
                    "ptrace event",
                    pid,
                    io::Error::other("seccomp stop under the sysemu engine"),
                ));
            }
            PtraceEvent::Other(code) => {
                return Err(Error::new(
                    "ptrace event",
                    pid,
                    io::Error::other(format!("unexpected PTRACE_EVENT {code}")),
                ));
            }
        }
        self.resume(pid, 0)
    }

    /// PTRACE_EVENT_STOP (ptrace(2), "Group-stop" and "PTRACE_LISTEN").
    fn on_event_stop_stop(&mut self, pid: Pid, sig: i32) -> Result<(), Error> {
        let thread = self.thread(pid);
        if matches!(thread.state, ThreadState::New) {
            // The first stop of an auto-attached child: start it under SYSEMU.
            thread.state = ThreadState::Emu;
            return self.resume(pid, 0);
        }
        if matches!(
            sig,
            libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU
        ) {
            // A group-stop: keep the tracee stopped until SIGCONT, as it
            // would be without the jail. It re-traps (SIGTRAP) when continued.
            return sys::resume(sys::req::LISTEN, pid, 0)
                .map_err(|e| Error::new("PTRACE_LISTEN", pid, e));
        }
        // Re-trap after PTRACE_LISTEN (continued) or an interrupt: carry on.
        self.resume(pid, 0)
    }

    fn on_signal_stop(&mut self, pid: Pid, sig: i32) -> Result<(), Error> {
        let thread = self.thread(pid);
        if matches!(thread.state, ThreadState::New) && sig == libc::SIGSTOP {
            // The initial stop of an auto-attached child: suppress it and
            // start the child under SYSEMU.
            thread.state = ThreadState::Emu;
            return self.resume(pid, 0);
        }
        if matches!(thread.state, ThreadState::New) {
            thread.state = ThreadState::Emu;
        }
        match sys::get_siginfo(pid) {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                // Group-stop (ptrace(2), "Group-stop"): do not inject. Without
                // PTRACE_SEIZE the tracee continues; job control stops of a
                // jailed program are not kept.
                self.resume(pid, 0)
            }
            Err(e) => Err(Error::new("PTRACE_GETSIGINFO", pid, e)),
            Ok(_) => {
                // Signal-delivery stop: re-inject the signal.
                if let ThreadState::RealEntry(approved) = &thread.state {
                    // The call was rewound but not yet re-executed; the
                    // handler runs first. Abandon the approval: put back the
                    // tracee's own registers (rewound), so that after the
                    // handler its call comes back as a fresh SYSEMU entry
                    // and is judged again.
                    let approved = approved.clone();
                    thread.state = ThreadState::Emu;
                    if let After::RestoreArgs(own) | After::Injected(own) | After::Sealing(own, _) =
                        approved.after
                    {
                        Self::set_regs(pid, &rewound(own, approved.insn_len))?;
                    }
                    if let Some(p) = approved.patch {
                        // Unpatch, and rewind to the program's own syscall
                        // instruction (ip is at the patched one), from the
                        // registers of its entry: this stop is not a
                        // syscall stop (an interrupt before the patched
                        // instruction ran, with a signal pending), so the
                        // kernel's orig_ax now is -1, and the program would
                        // make call -1 (ENOSYS) instead of its own.
                        poke(pid, p.at, &p.saved)?;
                        let mut regs = p.regs;
                        regs.set_ip(p.at);
                        Self::set_regs(pid, &rewound(regs, approved.insn_len))?;
                    }
                }
                self.handler.on_event(&Event::Signal { pid, sig });
                self.resume(pid, sig)
            }
        }
    }

    fn on_syscall_stop(&mut self, pid: Pid) -> Result<(), Error> {
        let info = sys::get_syscall_info(pid)
            .map_err(|e| Error::new("PTRACE_GET_SYSCALL_INFO", pid, e))?;
        let state = self.thread(pid).state.clone();
        match (info.op, state) {
            (SYSCALL_INFO_ENTRY, ThreadState::Emu | ThreadState::New) => {
                self.on_emu_entry(pid, &info)
            }
            (SYSCALL_INFO_ENTRY, ThreadState::RealEntry(approved)) => {
                self.on_real_entry(pid, &info, approved)
            }
            (SYSCALL_INFO_EXIT, ThreadState::SkippedExit(approved)) => {
                self.on_skipped_exit(pid, approved)
            }
            (SYSCALL_INFO_EXIT, ThreadState::RealExit(approved)) => {
                self.on_real_exit(pid, &info, &approved)
            }
            (SYSCALL_INFO_EXIT, ThreadState::Cancelled { abi, ret }) => {
                let mut regs = Self::get_regs(pid)?;
                regs.set_ret(abi, ret);
                Self::set_regs(pid, &regs)?;
                self.thread(pid).state = ThreadState::Emu;
                self.resume(pid, 0)
            }
            (op, state) => Err(Error::new(
                "syscall stop",
                pid,
                io::Error::other(format!(
                    "kernel reports syscall stop op {op} while the thread is in state {state:?}"
                )),
            )),
        }
    }

    /// Decide the ABI of the call at this entry stop and decode it.
    ///
    /// The kernel's `arch` is cross-checked with the instruction before ip.
    /// The three syscall instructions encode the same in 32- and 64-bit
    /// code, so the decoding mode follows the reported arch; a 64-bit process
    /// issuing `int $0x80` is reported as i386 and decodes as int 0x80.
    fn decode(&mut self, pid: Pid, info: &sys::RawSyscallInfo) -> Result<(Call, u8), Undecided> {
        let nr = info.data[0];
        let ip = info.instruction_pointer;
        if cfg!(target_arch = "x86") && info.arch == ujail_regs::AUDIT_ARCH_X86_64 {
            // Before anything else: a 32-bit tracer cannot even read the
            // instruction of a 64-bit program above 4 GiB.
            return Err(Undecided::Unsupported(Abi::X86_64));
        }
        let bitness = if info.arch == ujail_regs::AUDIT_ARCH_X86_64 {
            64
        } else {
            32
        };
        let mut bytes = [0u8; 2];
        let insn = ip
            .checked_sub(2)
            .and_then(|at| PeekPoke::new(pid).read(RemoteAddr(at), &mut bytes).ok())
            .and_then(|()| decode_syscall_insn(&bytes, bitness));
        let abi = Abi::decide(info.arch, nr, insn).map_err(Undecided::Abi)?;
        let args = std::array::from_fn(|i| ujail_regs::regs::truncate(abi, info.data[i + 1]));
        let name = table::name(abi, nr);
        let initial_exec =
            pid == self.root && !self.root_execed && matches!(name, Some("execve" | "execveat"));
        let call = Call {
            pid,
            abi,
            nr,
            name,
            args,
            ip,
            initial_exec,
        };
        Ok((call, insn.map_or(2, |i| i.len)))
    }

    /// A `PTRACE_EVENT_SECCOMP` stop: a watched call, before the kernel
    /// runs it. Judged as at a SYSEMU entry; see [`Engine::Seccomp`].
    fn on_seccomp_stop(&mut self, pid: Pid) -> Result<(), Error> {
        let info = sys::get_syscall_info(pid)
            .map_err(|e| Error::new("PTRACE_GET_SYSCALL_INFO", pid, e))?;
        let state = &self.thread(pid).state;
        if info.op != SYSCALL_INFO_SECCOMP || !matches!(state, ThreadState::Emu | ThreadState::New)
        {
            return Err(Error::new(
                "seccomp stop",
                pid,
                io::Error::other(format!(
                    "seccomp stop (op {}) while the thread is in state {state:?}",
                    info.op
                )),
            ));
        }
        self.on_emu_entry(pid, &info)
    }

    fn on_emu_entry(&mut self, pid: Pid, info: &sys::RawSyscallInfo) -> Result<(), Error> {
        self.thread(pid).state = ThreadState::Emu;
        let (call, insn_len) = match self.decode(pid, info) {
            Ok(d) => d,
            Err(Undecided::Abi(why)) => {
                self.errors
                    .push(format!("tracee {pid}: call denied with ENOSYS: {why}"));
                let abi = Abi::from_audit_arch(info.arch).unwrap_or(Abi::I386);
                return self.answer(pid, abi, -i64::from(libc::ENOSYS));
            }
            Err(Undecided::Unsupported(abi)) => {
                self.errors.push(format!(
                    "tracee {pid} made a {abi} system call, which this {} build of ujail cannot trace: killed",
                    if cfg!(target_arch = "x86") { "i686" } else { "x86_64" }
                ));
                return Self::kill(pid);
            }
        };
        let needs_scratch = call.name == Some("clone3") || self.handler.wants_scratch();
        let thread = self.thread(pid);
        if thread.scratch.is_none() && !thread.scratch_failed && needs_scratch {
            return self.inject_scratch(pid, &call, insn_len);
        }
        let verdict = self.judge(pid, &call);
        let root_exec = self.is_root_exec(&call);
        let seccomp = self.engine == Engine::Seccomp;
        match verdict {
            Verdict::Forward if seccomp && !root_exec => {
                // Runs now, unwatched to its end: one stop in all.
                self.thread(pid).state = ThreadState::Emu;
                self.resume(pid, 0)
            }
            Verdict::Forward | Verdict::ForwardReport => {
                // A child of fork/clone would start from the patched bytes
                // with nobody to put them back: those use the rewind.
                let forks = matches!(call.name, Some("fork" | "vfork" | "clone" | "clone3"));
                let patch =
                    if self.engine == Engine::Patch && !forks && !self.shared_mm.contains(&pid) {
                        let mut saved = [0u8; 2];
                        let regs = Self::get_regs(pid)?;
                        PeekPoke::new(pid)
                            .read(RemoteAddr(call.ip), &mut saved)
                            .ok()
                            .map(|()| Patch {
                                at: call.ip,
                                saved,
                                regs,
                            })
                    } else {
                        None
                    };
                let approved = Approved {
                    call,
                    insn_len,
                    report: verdict == Verdict::ForwardReport,
                    root_exec,
                    after: After::Nothing,
                    patch,
                };
                self.thread(pid).state = if seccomp {
                    ThreadState::RealExit(approved)
                } else {
                    ThreadState::SkippedExit(approved)
                };
                self.resume(pid, 0)
            }
            Verdict::Rewrite { nr, args, report } => {
                let own = Self::get_regs(pid)?;
                let mut regs = own;
                regs.set_orig_nr(nr);
                for (i, a) in args.iter().enumerate() {
                    regs.set_arg(call.abi, i, *a);
                }
                Self::set_regs(pid, &regs)?;
                let call = Call {
                    nr,
                    name: table::name(call.abi, nr),
                    args: std::array::from_fn(|i| ujail_regs::regs::truncate(call.abi, args[i])),
                    ..call
                };
                let approved = Approved {
                    call,
                    insn_len,
                    report,
                    root_exec,
                    after: After::RestoreArgs(own),
                    patch: None,
                };
                self.thread(pid).state = if seccomp {
                    ThreadState::RealExit(approved)
                } else {
                    ThreadState::SkippedExit(approved)
                };
                self.resume(pid, 0)
            }
            Verdict::Emulate(ret) => self.answer(pid, call.abi, ret),
            Verdict::Deny(errno) => self.answer(pid, call.abi, -i64::from(errno)),
            Verdict::Kill => Self::kill(pid),
        }
    }

    /// Give the thread its scratch area: make it run
    /// `mmap(NULL, SCRATCH_SIZE, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)`
    /// through the same rewind as a forwarded call, then put its registers
    /// back so that `call` is made again and judged with the area in place.
    fn inject_scratch(&mut self, pid: Pid, call: &Call, insn_len: u8) -> Result<(), Error> {
        let own = Self::get_regs(pid)?;
        let name = match call.abi {
            Abi::I386 => "mmap2",
            Abi::X86_64 => "mmap",
        };
        let Some(nr) = table::number(call.abi, name) else {
            self.thread(pid).scratch_failed = true;
            return self.on_emu_entry_again(pid, own, insn_len);
        };
        let prot_read = 1;
        // MAP_32BIT for a 64-bit call: the area must also be reachable by
        // i386 calls (int $0x80) of the same 64-bit program.
        let map_private_anonymous = match call.abi {
            Abi::X86_64 => 0x22 | 0x40,
            Abi::I386 => 0x22,
        };
        let fd = ujail_regs::regs::truncate(call.abi, u64::MAX);
        let args = [0, SCRATCH_SIZE, prot_read, map_private_anonymous, fd, 0];
        let mut regs = own;
        regs.set_orig_nr(nr);
        for (i, a) in args.iter().enumerate() {
            regs.set_arg(call.abi, i, *a);
        }
        Self::set_regs(pid, &regs)?;
        // Described exactly as the real entry will decode it, or the
        // re-check there would take it for another call.
        let injected = Call {
            nr,
            name: Some(name),
            args,
            initial_exec: false,
            ..call.clone()
        };
        let approved = Approved {
            call: injected,
            insn_len,
            report: false,
            root_exec: false,
            after: After::Injected(own),
            patch: None,
        };
        self.thread(pid).state = match self.engine {
            // The call stopped at a SYSEMU entry is skipped: rewind first.
            Engine::Sysemu | Engine::Patch => ThreadState::SkippedExit(approved),
            // At a seccomp stop the kernel runs the changed call now.
            Engine::Seccomp => ThreadState::RealExit(approved),
        };
        self.resume(pid, 0)
    }

    /// At the real exit of the scratch `mmap`: make the tracee run
    /// `mseal(area)` next, through the same syscall instruction (rewound,
    /// still under PTRACE_SYSCALL: the next stop is its real entry).
    fn inject_seal(
        &mut self,
        pid: Pid,
        mmap: &Call,
        own: NativeRegs,
        insn_len: u8,
        scratch: Scratch,
    ) -> Result<(), Error> {
        let abi = mmap.abi;
        let args = [scratch.addr, scratch.len, 0, 0, 0, 0];
        let mut regs = rewound(own, insn_len);
        regs.set_ax(NR_MSEAL);
        regs.set_orig_nr(NR_MSEAL);
        for (i, a) in args.iter().enumerate() {
            regs.set_arg(abi, i, *a);
        }
        Self::set_regs(pid, &regs)?;
        let seal = Call {
            nr: NR_MSEAL,
            name: table::name(abi, NR_MSEAL),
            args: std::array::from_fn(|i| ujail_regs::regs::truncate(abi, args[i])),
            initial_exec: false,
            ..mmap.clone()
        };
        self.thread(pid).state = ThreadState::RealEntry(Approved {
            call: seal,
            insn_len,
            report: false,
            root_exec: false,
            after: After::Sealing(own, scratch),
            patch: None,
        });
        self.resume(pid, 0)
    }

    /// Make the tracee issue its call again (registers `own` from its entry
    /// stop, rewound), to be judged at the next SYSEMU entry.
    fn on_emu_entry_again(&mut self, pid: Pid, own: NativeRegs, insn_len: u8) -> Result<(), Error> {
        Self::set_regs(pid, &rewound(own, insn_len))?;
        self.thread(pid).state = ThreadState::Emu;
        self.resume(pid, 0)
    }

    fn judge(&mut self, pid: Pid, call: &Call) -> Verdict {
        if let Some(verdict) = crate::integrity::check(call).or_else(|| self.guard_scratch(call)) {
            // Not the policy's to allow; the log still sees it.
            self.handler.on_event(&Event::Refused {
                call: call.clone(),
                verdict,
            });
            return verdict;
        }
        let (mut proc_mem, scratch) = match self.threads.get_mut(&pid) {
            Some(t) => (t.mem.take(), t.scratch),
            None => (None, None),
        };
        let mut mem = StoppedMemory {
            pid,
            proc_mem: &mut proc_mem,
            scratch,
            used: 0,
            jailed: Some(&self.threads),
            abi: call.abi,
        };
        let verdict = match call.name {
            Some("clone3") => match crate::integrity::clone3_copy(call, &mut mem) {
                // The policy sees the call as the kernel will: args[0] is
                // the read-only copy.
                Ok(args) => match self.handler.on_call(
                    &Call {
                        args,
                        ..call.clone()
                    },
                    &mut mem,
                ) {
                    // The kernel reads the checked copy of clone_args.
                    v @ (Verdict::Forward | Verdict::ForwardReport | Verdict::Rewrite { .. }) => {
                        Verdict::Rewrite {
                            nr: call.nr,
                            args,
                            report: !matches!(
                                v,
                                Verdict::Forward | Verdict::Rewrite { report: false, .. }
                            ),
                        }
                    }
                    other => other,
                },
                Err(errno) => {
                    let verdict = Verdict::Deny(errno);
                    self.handler.on_event(&Event::Refused {
                        call: call.clone(),
                        verdict,
                    });
                    verdict
                }
            },
            _ => self.handler.on_call(call, &mut mem),
        };
        if let Some(t) = self.threads.get_mut(&pid) {
            t.mem = proc_mem;
        }
        verdict
    }

    /// Refuse calls that would unmap, remap or unprotect a scratch area:
    /// the kernel reads checked copies from there, and only the tracer may
    /// write it.
    fn guard_scratch(&self, call: &Call) -> Option<Verdict> {
        let a = call.args;
        let map_fixed = 0x10;
        let map_fixed_noreplace = 0x10_0000;
        let mremap_fixed = 2;
        let ranges: &[(u64, u64)] = &match call.name? {
            "mprotect" | "pkey_mprotect" | "munmap" | "madvise" | "remap_file_pages" | "mseal" => {
                vec![(a[0], a[1])]
            }
            "mmap" | "mmap2" if call.abi == Abi::I386 && call.name == Some("mmap") => {
                // i386 old_mmap: arguments in tracee memory, flags cannot be
                // checked race-free.
                return self.any_scratch().then_some(Verdict::Deny(libc::ENOSYS));
            }
            "mmap" | "mmap2" if a[3] & (map_fixed | map_fixed_noreplace) != 0 => vec![(a[0], a[1])],
            "mremap" if a[3] & mremap_fixed != 0 => vec![(a[0], a[1]), (a[4], a[2])],
            "mremap" => vec![(a[0], a[1].max(a[2]))],
            // The segment's size is not in the call: any explicit address
            // is refused while a scratch area exists.
            "shmat" if a[1] != 0 => {
                return self.any_scratch().then_some(Verdict::Deny(libc::EPERM))
            }
            // i386 ipc(SHMAT=21, shmid, shmflg, &raddr, shmaddr)
            "ipc" if a[0] & 0xffff == 21 && a[4] != 0 => {
                return self.any_scratch().then_some(Verdict::Deny(libc::EPERM))
            }
            "shmdt" => vec![(a[0], 1)],
            // Its ranges are in tracee memory: refused while scratch
            // areas exist.
            "process_madvise" => return self.any_scratch().then_some(Verdict::Deny(libc::EPERM)),
            _ => return None,
        };
        let hit = self
            .threads
            .values()
            .filter_map(|t| t.scratch)
            .any(|s| ranges.iter().any(|&(start, len)| s.overlaps(start, len)));
        hit.then_some(Verdict::Deny(libc::EPERM))
    }

    fn any_scratch(&self) -> bool {
        self.threads.values().any(|t| t.scratch.is_some())
    }

    /// The root's own first execve: its result tells whether the program ran.
    fn is_root_exec(&self, call: &Call) -> bool {
        call.initial_exec && !self.root_execed
    }

    /// Emulate: the skipped call returns `ret`. (At a seccomp stop the
    /// call is skipped by `orig_ax = -1`; the kernel then leaves `ax`.)
    fn answer(&mut self, pid: Pid, abi: Abi, ret: i64) -> Result<(), Error> {
        let mut regs = Self::get_regs(pid)?;
        if self.engine == Engine::Seccomp {
            regs.set_orig_nr(u64::MAX);
        }
        regs.set_ret(abi, ret);
        Self::set_regs(pid, &regs)?;
        self.thread(pid).state = ThreadState::Emu;
        self.resume(pid, 0)
    }

    /// Exit stop of the skipped call: rewind so the instruction runs again.
    fn on_skipped_exit(&mut self, pid: Pid, approved: Approved) -> Result<(), Error> {
        let regs = Self::get_regs(pid)?;
        if let Some(p) = approved.patch {
            // The patch engine: a syscall instruction where ip points.
            let insn = match approved.call.abi {
                Abi::I386 => [0xcd, 0x80],
                Abi::X86_64 => [0x0f, 0x05],
            };
            poke(pid, p.at, &insn)?;
            let mut regs = p.regs;
            regs.set_ax(regs.orig_nr());
            regs.set_ip(p.at);
            // For an i386 call from the vDSO, `at` is sysenter's landing
            // pad, where the kernel returns by SYSRETL/SYSEXIT, which
            // clobber ecx/edx: the resume flag (harmless to user code)
            // makes it return by IRET instead (do_fast_syscall_32).
            if approved.call.abi == Abi::I386 {
                regs.eflags |= X86_EFLAGS_RF;
            }
            Self::set_regs(pid, &regs)?;
            self.thread(pid).state = ThreadState::RealEntry(approved);
            return self.resume(pid, 0);
        }
        Self::set_regs(pid, &rewound(regs, approved.insn_len))?;
        self.thread(pid).state = ThreadState::RealEntry(approved);
        self.resume(pid, 0)
    }

    /// Real entry: it must be the approved call; anything else is judged anew.
    fn on_real_entry(
        &mut self,
        pid: Pid,
        info: &sys::RawSyscallInfo,
        approved: Approved,
    ) -> Result<(), Error> {
        let decoded = self.decode(pid, info);
        // Under the patch engine the call comes from the patched bytes.
        let expected = Call {
            ip: approved.patch.map_or(approved.call.ip, |p| p.at + 2),
            ..approved.call.clone()
        };
        if matches!(&decoded, Ok((call, _)) if *call == expected) {
            if !approved.report
                && !approved.root_exec
                && matches!(approved.after, After::Nothing)
                && approved.patch.is_none()
            {
                // Nothing to see or restore at the exit: resume with
                // PTRACE_SYSEMU. The kernel decided at this entry (without
                // the EMU flag) to run the call, and with the TRACE flag
                // gone it reports no exit stop: three stops instead of four.
                self.thread(pid).state = ThreadState::Emu;
                return self.resume(pid, 0);
            }
            self.thread(pid).state = ThreadState::RealExit(approved);
            return self.resume(pid, 0);
        }
        if let Some(p) = approved.patch {
            let _ = poke(pid, p.at, &p.saved);
            return Err(Error::new(
                "real syscall entry",
                pid,
                io::Error::other(format!(
                    "the patched call did not come back: expected {expected:?}, got {:?}",
                    decoded.as_ref().map(|(c, _)| c)
                )),
            ));
        }
        if !matches!(approved.after, After::Nothing) {
            // The tracer changed the registers for the approved call (a
            // rewrite or an injection) and must put them back; another call
            // here means it lost track of this thread: fail closed.
            return Err(Error::new(
                "real syscall entry",
                pid,
                io::Error::other(format!(
                    "expected the changed call {:?}, got another",
                    approved.call.name
                )),
            ));
        }
        // Not the call that was approved: this one has not been judged. (Only
        // a signal handler could have run in between, and signal-delivery
        // stops abandon the approval; this is the fail-closed net.)
        let verdict = match &decoded {
            Ok((call, _)) => self.judge(pid, call),
            Err(Undecided::Abi(_)) => Verdict::Deny(libc::ENOSYS),
            Err(Undecided::Unsupported(_)) => Verdict::Kill,
        };
        let abi = match &decoded {
            Ok((c, _)) => c.abi,
            Err(_) => Abi::from_audit_arch(info.arch).unwrap_or(Abi::I386),
        };
        let ret = match (verdict, decoded) {
            (Verdict::Forward | Verdict::ForwardReport, Ok((call, insn_len))) => {
                self.thread(pid).state = ThreadState::RealExit(Approved {
                    root_exec: self.is_root_exec(&call),
                    call,
                    insn_len,
                    report: verdict == Verdict::ForwardReport,
                    after: After::Nothing,
                    patch: None,
                });
                return self.resume(pid, 0);
            }
            (Verdict::Emulate(r), _) => r,
            (Verdict::Deny(e), _) => -i64::from(e),
            // A rewrite needs the skipped entry; refuse rather than guess.
            (Verdict::Rewrite { .. }, _) => -i64::from(libc::EAGAIN),
            (Verdict::Kill | Verdict::Forward | Verdict::ForwardReport, _) => {
                return Self::kill(pid)
            }
        };
        // Cancel the call the kernel is about to run: orig_ax = -1 makes it
        // skip, and the exit stop then carries our result.
        let mut regs = Self::get_regs(pid)?;
        regs.set_orig_nr(u64::MAX);
        Self::set_regs(pid, &regs)?;
        self.thread(pid).state = ThreadState::Cancelled { abi, ret };
        self.resume(pid, 0)
    }

    /// Real exit: restore what the tracer changed, report, back to SYSEMU.
    fn on_real_exit(
        &mut self,
        pid: Pid,
        info: &sys::RawSyscallInfo,
        approved: &Approved,
    ) -> Result<(), Error> {
        let abi = approved.call.abi;
        let ret = syscall_result(abi, info.data[0]);
        if let Some(p) = approved.patch {
            // Put the program's bytes back and continue after its own
            // syscall instruction.
            poke(pid, p.at, &p.saved)?;
            let mut regs = Self::get_regs(pid)?;
            // Only if the call left ip after the patched instruction
            // (rt_sigreturn sets every register to the frame's).
            if regs.ip() == p.at + 2 {
                regs.set_ip(p.at);
                Self::set_regs(pid, &regs)?;
            }
        }
        match &approved.after {
            After::Nothing => {}
            After::RestoreArgs(own) => {
                let mut regs = Self::get_regs(pid)?;
                regs.set_orig_nr(own.orig_nr());
                regs.restore_args(abi, own);
                Self::set_regs(pid, &regs)?;
            }
            After::Injected(own) => {
                match u64::try_from(ret) {
                    Ok(addr) if ret > 0 => {
                        let scratch = Scratch {
                            addr,
                            len: SCRATCH_SIZE,
                        };
                        return self.inject_seal(
                            pid,
                            &approved.call,
                            *own,
                            approved.insn_len,
                            scratch,
                        );
                    }
                    _ => {
                        self.thread(pid).scratch_failed = true;
                        self.errors.push(format!(
                            "tracee {pid}: cannot map its scratch area ({}); calls needing it are refused",
                            errno::message(i32::try_from(-ret).unwrap_or(0))
                        ));
                    }
                }
                return self.on_emu_entry_again(pid, *own, approved.insn_len);
            }
            After::Sealing(own, scratch) => {
                let thread = self.thread(pid);
                let sealed_or_none =
                    ret == 0 || ret == -i64::from(libc::ENOSYS) || ret == -i64::from(libc::EINVAL);
                let intact = sealed_or_none
                    && std::fs::read_to_string(format!("/proc/{pid}/maps"))
                        .is_ok_and(|maps| scratch.intact_in(&maps));
                if intact {
                    // Sealed, or a kernel without mseal (older than 6.10):
                    // then the guard on map calls is the only protection.
                    // Either way it was still private, anonymous and
                    // read-only after the seal.
                    thread.scratch = Some(*scratch);
                } else {
                    // Gone or changed between mmap and mseal: a sibling's
                    // map call got there first. Never use it.
                    thread.scratch_failed = true;
                    self.errors.push(format!(
                        "tracee {pid}: its scratch area changed before it was sealed ({}); calls needing it are refused",
                        if sealed_or_none {
                            "no longer private, anonymous and read-only".to_string()
                        } else {
                            errno::message(i32::try_from(-ret).unwrap_or(0)).to_string()
                        }
                    ));
                }
                return self.on_emu_entry_again(pid, *own, approved.insn_len);
            }
        }
        if approved.root_exec && ret < 0 && !self.root_execed {
            let errno = i32::try_from(-ret).unwrap_or(libc::ENOEXEC);
            self.outcome = Some(Outcome::ExecFailed(errno));
        }
        if approved.report {
            let thread = self
                .threads
                .entry(pid)
                .or_insert_with(|| Thread::new(ThreadState::Emu));
            let mut mem = StoppedMemory::new(pid, &mut thread.mem);
            match self.handler.on_result(&approved.call, Some(ret), &mut mem) {
                ResultAction::Keep => {}
                ResultAction::Set(v) => {
                    let mut regs = Self::get_regs(pid)?;
                    regs.set_ret(abi, v);
                    Self::set_regs(pid, &regs)?;
                }
                ResultAction::Repeat => {
                    // The kernel's restart: the instruction runs again with
                    // the program's own number and arguments (restored
                    // above), and its entry is judged like any call.
                    let regs = rewound(Self::get_regs(pid)?, approved.insn_len);
                    Self::set_regs(pid, &regs)?;
                }
            }
        }
        self.thread(pid).state = ThreadState::Emu;
        self.resume(pid, 0)
    }
}

/// What the seccomp filter does with call `nr` of `abi`: the tracer's own
/// needs (exec, the clone checks of [`crate::integrity`], the calls that
/// could touch a scratch area — `mmap` only with `MAP_FIXED`, a check the
/// filter makes) and the handler's [`Handler::watch`] for the rest.
pub fn watch<H: Handler>(handler: &H, abi: Abi, nr: u64) -> Watch {
    let name = table::name(abi, nr);
    if matches!(name, Some("execve" | "execveat")) {
        // Always seen: the program's own start is let through even where
        // the policy denies exec (Call::initial_exec).
        return Watch::Trace;
    }
    let tracer_needs =
        name.is_some_and(|n| SCRATCH_GUARDED.contains(&n) || crate::integrity::JUDGED.contains(&n));
    match handler.watch(abi, nr) {
        // Denied anyway: the filter may answer it.
        Watch::Errno(e) => Watch::Errno(e),
        _ if tracer_needs => Watch::Trace,
        w => w,
    }
}

/// The calls [`Tracer::guard_scratch`] may refuse (`mmap`/`mmap2` only
/// with `MAP_FIXED`, which the filter checks).
const SCRATCH_GUARDED: &[&str] = &[
    "mmap",
    "mmap2",
    "mprotect",
    "pkey_mprotect",
    "munmap",
    "madvise",
    "process_madvise",
    "remap_file_pages",
    "mremap",
    "shmat",
    "shmdt",
    "ipc",
];

/// EFLAGS.RF (arch/x86/include/uapi/asm/processor-flags.h), in the width
/// of the native register struct.
#[cfg(target_arch = "x86_64")]
const X86_EFLAGS_RF: u64 = 1 << 16;
#[cfg(target_arch = "x86")]
const X86_EFLAGS_RF: u32 = 1 << 16;

/// Write `bytes` at `addr` of the stopped tracee `pid` (PTRACE_POKEDATA,
/// which writes through the read-only protection of code pages).
fn poke(pid: Pid, addr: u64, bytes: &[u8]) -> Result<(), Error> {
    PeekPoke::new(pid)
        .write(RemoteAddr(addr), bytes)
        .map_err(|e| Error::new("PTRACE_POKEDATA", pid, io::Error::other(e.to_string())))
}

/// Registers `regs` of a syscall stop, rewound so that the syscall
/// instruction runs again with the number in `orig_ax`: the kernel's own
/// restart step (arch/x86/kernel/signal.c).
fn rewound(mut regs: NativeRegs, insn_len: u8) -> NativeRegs {
    regs.set_ax(regs.orig_nr());
    regs.set_ip(regs.ip().wrapping_sub(u64::from(insn_len)));
    regs
}

/// A raw result register as the call's result: `-errno` for the kernel's
/// error range (-4095..-1), otherwise the value itself — unsigned for i386,
/// so that an mmap2 address above 2 GiB is not mistaken for a negative
/// number.
pub fn syscall_result(abi: Abi, raw: u64) -> i64 {
    let signed = ujail_regs::regs::sign_extend(abi, raw);
    match abi {
        Abi::I386 if !(-4095..0).contains(&signed) => {
            i64::from(u32::try_from(raw & 0xffff_ffff).unwrap_or(0))
        }
        _ => signed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A handler that would let everything run unseen.
    struct AllowAll;
    impl Handler for AllowAll {
        fn on_call(&mut self, _: &Call, _: &mut dyn Memory) -> Verdict {
            Verdict::Forward
        }
        fn watch(&self, _: Abi, _: u64) -> Watch {
            Watch::Allow
        }
    }

    #[test]
    fn scratch_must_stay_private_anonymous_and_read_only() {
        let s = Scratch {
            addr: 0x7f00_0000_1000,
            len: 0x2000,
        };
        let line = |range: &str, perms: &str, rest: &str| format!("{range} {perms} {rest}\n");
        let ok = line("7f0000001000-7f0000003000", "r--p", "00000000 00:00 0");
        assert!(s.intact_in(&ok));
        // Merged with a neighbour of the same kind: still fine.
        assert!(s.intact_in(&line(
            "7f0000000000-7f0000004000",
            "r--p",
            "00000000 00:00 0"
        )));
        // Made writable, shared, file-backed, cut short or gone: not.
        assert!(!s.intact_in(&line(
            "7f0000001000-7f0000003000",
            "rw-p",
            "00000000 00:00 0"
        )));
        assert!(!s.intact_in(&line(
            "7f0000001000-7f0000003000",
            "r--s",
            "00000000 00:01 5 /dev/zero (deleted)"
        )));
        assert!(!s.intact_in(&line(
            "7f0000001000-7f0000003000",
            "r--p",
            "00000000 08:01 1234 /tmp/f"
        )));
        assert!(!s.intact_in(&line(
            "7f0000001000-7f0000002000",
            "r--p",
            "00000000 00:00 0"
        )));
        assert!(!s.intact_in(""));
    }

    #[test]
    fn the_seccomp_filter_stops_what_the_tracer_itself_judges() {
        for abi in [Abi::I386, Abi::X86_64] {
            for name in SCRATCH_GUARDED
                .iter()
                .chain(crate::integrity::JUDGED)
                .chain(&["execve", "execveat"])
            {
                let Some(nr) = table::number(abi, name) else {
                    continue;
                };
                assert_eq!(watch(&AllowAll, abi, nr), Watch::Trace, "{abi} {name}");
            }
        }
    }

    /// A handler that denies everything.
    struct DenyAll;
    impl Handler for DenyAll {
        fn on_call(&mut self, _: &Call, _: &mut dyn Memory) -> Verdict {
            Verdict::Deny(libc::EPERM)
        }
        fn watch(&self, _: Abi, _: u64) -> Watch {
            Watch::Errno(1)
        }
    }

    #[test]
    fn exec_is_stopped_even_where_the_policy_denies_it() {
        for abi in [Abi::I386, Abi::X86_64] {
            for name in ["execve", "execveat"] {
                let nr = table::number(abi, name).expect("exec in the tables");
                assert_eq!(watch(&DenyAll, abi, nr), Watch::Trace, "{abi} {name}");
            }
            let mmap = table::number(abi, "munmap").expect("munmap");
            assert_eq!(watch(&DenyAll, abi, mmap), Watch::Errno(1), "{abi}");
        }
    }

    #[test]
    fn a_seccomp_listener_is_refused() {
        let with = Call::named(Abi::X86_64, "seccomp", [1, 8, 0, 0, 0, 0]);
        assert_eq!(
            crate::integrity::check(&with),
            Some(Verdict::Deny(libc::EPERM))
        );
        let without = Call::named(Abi::X86_64, "seccomp", [1, 1, 0, 0, 0, 0]);
        assert_eq!(crate::integrity::check(&without), None);
    }

    #[test]
    fn results_are_errno_or_unsigned_per_abi() {
        assert_eq!(syscall_result(Abi::I386, 0xffff_fff3), -13);
        assert_eq!(syscall_result(Abi::I386, 0xf7f0_0000), 0xf7f0_0000);
        assert_eq!(syscall_result(Abi::I386, 0xffff_f000), 0xffff_f000);
        assert_eq!(syscall_result(Abi::I386, 0xffff_f001), -4095);
        assert_eq!(syscall_result(Abi::X86_64, u64::MAX), -1);
        assert_eq!(
            syscall_result(Abi::X86_64, 0x7f00_0000_0000),
            0x7f00_0000_0000
        );
    }
}
