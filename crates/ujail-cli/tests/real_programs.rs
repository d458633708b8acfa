// SPDX-License-Identifier: GPL-3.0-or-later
//! Host-only integration tests: real x86_64 programs (`/bin/sh`, coreutils, python3,
//! gcc) produce the same stdout and exit status under `ujail run` as without it.
//!
//! The QEMU i386 VM has none of these programs, so this file only exists for the
//! x86_64 build, and it never skips: a missing program fails the test (`cargo xtask
//! test` installs them). Every jailed command runs under the watchdog of
//! `common::run_with_timeout`.
#![cfg(target_arch = "x86_64")]
#![forbid(unsafe_code)]

mod common;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Watchdog for one command, seconds (gcc and python make many calls).
const WATCHDOG: u64 = 180;

fn run(mut cmd: Command) -> Output {
    common::run_with_timeout(&mut cmd, WATCHDOG)
}

use common::{shell_status, show, text};

/// `PROG ARGS` in `dir`, bare (`jail` None) or under `ujail OPTS --`.
fn command(jail: Option<&[&str]>, dir: &Path, prog: &str, args: &[&str]) -> Command {
    let mut c = match jail {
        Some(opts) => {
            let mut c = Command::new(common::ujail_bin());
            c.args(opts).arg("--").arg(prog);
            c
        }
        None => Command::new(prog),
    };
    c.args(args).current_dir(dir);
    c
}

/// Runs `PROG ARGS` bare and under `ujail run`, asserts same stdout and status, and
/// returns the jailed output.
fn same(dir: &Path, prog: &str, args: &[&str]) -> Output {
    let b = run(command(None, dir, prog, args));
    let j = run(command(Some(&["run"]), dir, prog, args));
    assert!(
        j.stdout == b.stdout && shell_status(j.status) == shell_status(b.status),
        "`ujail run -- {prog} {}` differs from the bare run\n  bare:   {}\n  jailed: {}",
        args.join(" "),
        show(&b),
        show(&j)
    );
    j
}

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("ujail-real-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).expect("create temp dir");
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Debian's python3 (not a pyenv shim) when present, else the one in PATH.
fn python3() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

fn root() -> &'static Path {
    Path::new("/")
}

#[test]
fn sh_script_with_pipes_and_loops() {
    let script = r#"
        for i in 1 2 3 4 5; do echo "line $i"; done | sort -r | tr a-z A-Z
        n=0; while [ $n -lt 50 ]; do n=$((n+1)); done; echo "n=$n"
        x=$(echo sub | cat); echo "x=$x"
        ( exit 3 ); echo "sub status $?"
        exit 7
    "#;
    let j = same(root(), "/bin/sh", &["-c", script]);
    assert_eq!(j.status.code(), Some(7), "{}", show(&j));
    assert!(text(&j.stdout).contains("LINE 5\nLINE 4"), "{}", show(&j));
}

#[test]
fn coreutils() {
    let j = same(
        root(),
        "/bin/sh",
        &["-c", "ls -la /usr/bin | sort | head -n 20"],
    );
    assert_eq!(text(&j.stdout).lines().count(), 20, "{}", show(&j));
    same(root(), "/bin/cat", &["/etc/passwd"]);
    same(root(), "/usr/bin/wc", &["-l", "-c", "/etc/passwd"]);
    // Not `/`: its /tmp entry changes while other tests run.
    same(root(), "/bin/ls", &["-la", "/usr/lib"]);
    let j = same(root(), "/bin/cat", &["/nonexistent-ujail-real"]);
    assert_eq!(j.status.code(), Some(1), "{}", show(&j));
}

#[test]
fn python3_json_listdir() {
    let py = python3();
    let j = same(
        root(),
        py,
        &[
            "-c",
            r#"import json,os; print(json.dumps(sorted(os.listdir("/"))))"#,
        ],
    );
    assert!(text(&j.stdout).starts_with("[\""), "{}", show(&j));
}

#[test]
fn gcc_compile_link_run() {
    let src = "#include <stdio.h>\n\
               int main(int argc, char **argv) {\n\
                   printf(\"compiled %d %s\\n\", argc, argc > 1 ? argv[1] : \"-\");\n\
                   return 5;\n\
               }\n";
    let bare_dir = TempDir::new("gcc-bare");
    let jail_dir = TempDir::new("gcc-jail");
    for d in [&bare_dir, &jail_dir] {
        fs::write(d.0.join("prog.c"), src).expect("write prog.c");
    }
    // Compile: same status and output, and the same object file.
    let cc = |jail: Option<&[&str]>, d: &Path, args: &[&str]| run(command(jail, d, "gcc", args));
    let b = cc(None, &bare_dir.0, &["-O1", "-c", "prog.c", "-o", "prog.o"]);
    assert!(b.status.success(), "bare gcc -c failed: {}", show(&b));
    let j = cc(
        Some(&["run"]),
        &jail_dir.0,
        &["-O1", "-c", "prog.c", "-o", "prog.o"],
    );
    assert!(
        j.status.success() && j.stdout == b.stdout,
        "ujail run -- gcc -c: {}",
        show(&j)
    );
    let ob = fs::read(bare_dir.0.join("prog.o")).expect("bare prog.o");
    let oj = fs::read(jail_dir.0.join("prog.o")).unwrap_or_default();
    assert!(
        ob == oj,
        "gcc -c under ujail produced a different object file"
    );
    // Link under ujail.
    let j = cc(Some(&["run"]), &jail_dir.0, &["prog.o", "-o", "prog"]);
    assert!(
        j.status.success(),
        "ujail run -- gcc prog.o -o prog: {}",
        show(&j)
    );
    // Run the result bare and under ujail.
    let prog = jail_dir.0.join("prog");
    let prog = prog.to_str().expect("utf-8 temp path");
    let j = same(&jail_dir.0, prog, &["arg"]);
    assert_eq!(text(&j.stdout), "compiled 2 arg\n", "{}", show(&j));
    assert_eq!(j.status.code(), Some(5), "{}", show(&j));
}

/// The contract's own log example, on a real dynamic program.
#[test]
fn trace_cat_shows_the_openat() {
    let dir = TempDir::new("trace-cat");
    let log = dir.0.join("log");
    let mut c = Command::new(common::ujail_bin());
    c.args([OsStr::new("trace"), OsStr::new("--log"), log.as_os_str()])
        .args(["--", "/bin/cat", "/etc/hostname"]);
    let o = run(c);
    let want = fs::read("/etc/hostname").expect("/etc/hostname");
    assert!(
        o.status.success() && o.stdout == want,
        "ujail trace -- cat /etc/hostname: {}",
        show(&o)
    );
    let log = fs::read_to_string(&log).unwrap_or_default();
    assert!(
        log.lines()
            .any(|l| l
                .split_once(' ')
                .is_some_and(|(pid, rest)| pid.parse::<u32>().is_ok()
                    && rest.starts_with("x86_64 openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY")
                    && rest.ends_with(") = 3"))),
        "no `x86_64 openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = 3` line\nlog:\n{log}"
    );
}

/// The issue's example: a denied openat makes cat fail with "Permission denied"
/// (the dynamic loader is the first to be refused).
#[test]
fn deny_openat_for_cat() {
    let o = run(command(
        Some(&["run", "--deny-syscall", "openat=EACCES"]),
        root(),
        "/bin/cat",
        &["/etc/hostname"],
    ));
    assert!(
        !o.status.success() && o.stdout.is_empty() && text(&o.stderr).contains("Permission denied"),
        "ujail run --deny-syscall openat=EACCES -- cat /etc/hostname: {}",
        show(&o)
    );
}

/// A pipeline of real programs under `ujail trace` still behaves (tracing must not
/// change what the programs do).
#[test]
fn traced_pipeline_matches() {
    let dir = TempDir::new("trace-sh");
    let log = dir.0.join("log");
    let script = "ls /usr/bin | sort | uniq | wc -l";
    let b = run(command(None, root(), "/bin/sh", &["-c", script]));
    let log_s = log.to_str().expect("utf-8 temp path");
    let j = run(command(
        Some(&["trace", "--log", log_s]),
        root(),
        "/bin/sh",
        &["-c", script],
    ));
    assert!(
        j.stdout == b.stdout && j.status.code() == b.status.code(),
        "traced pipeline differs\n  bare:   {}\n  traced: {}",
        show(&b),
        show(&j)
    );
    let log = fs::read_to_string(&log).unwrap_or_default();
    let mut pids: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(p, _)| p)
        .collect();
    pids.sort_unstable();
    pids.dedup();
    assert!(
        pids.len() >= 5,
        "expected the shell and 4 children in the log, saw pids {pids:?}"
    );
}

/// Calls made by a signal handler go through the policy, also when the signal
/// lands between the skipped exit and the real entry of a forwarded call (the
/// hybrid engine's window). Python's C-level handler writes one byte to the
/// wakeup pipe per SIGALRM while the main loop makes forwarded getppid calls at
/// full speed; with `write` denied (EAGAIN, which the handler ignores) no byte
/// may reach the pipe. The exit status is the number of bytes found (max 100).
#[test]
fn signal_handler_calls_go_through_policy() {
    let script = r#"
import os, signal, time
r, w = os.pipe()
os.set_blocking(r, False)
os.set_blocking(w, False)
signal.signal(signal.SIGALRM, lambda s, f: None)
signal.set_wakeup_fd(w, warn_on_full_buffer=False)
signal.setitimer(signal.ITIMER_REAL, 0.0003, 0.0003)
end = time.monotonic() + 2
while time.monotonic() < end:
    os.getppid()
signal.setitimer(signal.ITIMER_REAL, 0, 0)
try:
    n = len(os.read(r, 65536))
except BlockingIOError:
    n = 0
os._exit(min(n, 100))
"#;
    let py = python3();
    let b = run(command(None, root(), py, &["-c", script]));
    assert_eq!(
        b.status.code(),
        Some(100),
        "bare: the handler should write: {}",
        show(&b)
    );
    let j = run(command(Some(&["run"]), root(), py, &["-c", script]));
    assert_eq!(
        j.status.code(),
        Some(100),
        "jailed, write allowed: {}",
        show(&j)
    );
    let d = run(command(
        Some(&["run", "--deny-syscall", "write=EAGAIN"]),
        root(),
        py,
        &["-c", script],
    ));
    assert_eq!(
        d.status.code(),
        Some(0),
        "jailed, write denied: handler writes reached the pipe: {}",
        show(&d)
    );
}

/// A non-leader thread calls execve: the kernel kills the other threads and the
/// exec'ing thread takes over the leader's pid (ptrace(2), "execve(2) under ptrace").
#[test]
fn exec_from_a_thread() {
    let script = r#"
import threading, os, time
threading.Thread(target=lambda: os.execv("/bin/echo", ["echo", "from thread"])).start()
time.sleep(10)
"#;
    let j = same(root(), python3(), &["-c", script]);
    assert_eq!(text(&j.stdout), "from thread\n", "{}", show(&j));
}

/// subprocess uses vfork-style clone (CLONE_VM|CLONE_VFORK) and exec.
#[test]
fn python_subprocess() {
    let script = r#"
import subprocess
r = subprocess.run(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], capture_output=True)
print(r.returncode, r.stdout, r.stderr)
print(subprocess.check_output(["/bin/ls", "/usr/lib"]).count(b"\n") > 0)
"#;
    let j = same(root(), python3(), &["-c", script]);
    assert_eq!(
        text(&j.stdout),
        "3 b'out\\n' b'err\\n'\nTrue\n",
        "{}",
        show(&j)
    );
}

/// `clone(CLONE_UNTRACED)` would start a child the kernel does not attach to the
/// tracer: the jail refuses it (EPERM) instead of letting it run unwatched.
#[test]
fn clone_untraced_is_refused() {
    let script = r#"
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
pid = libc.syscall(56, 0x00800000 | 17, 0, 0, 0, 0)  # clone(CLONE_UNTRACED|SIGCHLD)
if pid == 0:
    os._exit(0)
if pid < 0:
    print("clone:", os.strerror(ctypes.get_errno()))
else:
    print("child", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"#;
    let b = run(command(None, root(), python3(), &["-c", script]));
    assert_eq!(text(&b.stdout), "child 0\n", "bare: {}", show(&b));
    let j = run(command(Some(&["run"]), root(), python3(), &["-c", script]));
    assert_eq!(
        text(&j.stdout),
        "clone: Operation not permitted\n",
        "jailed: {}",
        show(&j)
    );
}

/// Bad pointers in arguments: the program gets EFAULT from the kernel as without
/// ujail, and the log shows the address instead of failing.
#[test]
fn bad_pointers_under_trace() {
    let script = r#"
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for nr, args in ((257, (-100, ctypes.c_void_p(1), 0)), (1, (1, ctypes.c_void_p(1), 10))):
    r = libc.syscall(nr, *args)
    print(nr, r, os.strerror(ctypes.get_errno()))
"#;
    let dir = TempDir::new("efault");
    let log = dir.0.join("log");
    let log_s = log.to_str().expect("utf-8 temp path");
    let b = run(command(None, root(), python3(), &["-c", script]));
    assert_eq!(
        text(&b.stdout),
        "257 -1 Bad address\n1 -1 Bad address\n",
        "bare: {}",
        show(&b)
    );
    let j = run(command(
        Some(&["trace", "--log", log_s]),
        root(),
        python3(),
        &["-c", script],
    ));
    assert!(
        j.stdout == b.stdout && j.status.success(),
        "traced: {}",
        show(&j)
    );
    let log = fs::read_to_string(&log).unwrap_or_default();
    assert!(
        log.lines()
            .any(|l| l.ends_with(" x86_64 write(1, 0x1, 10) = -1 EFAULT (Bad address)")),
        "no `write(1, 0x1, 10) = -1 EFAULT (Bad address)` line\nlog:\n{log}"
    );
}

/// exit_group from the main thread while another thread sleeps.
#[test]
fn exit_with_a_sleeping_thread() {
    let script = "import threading, time, sys\n\
                  threading.Thread(target=lambda: time.sleep(100), daemon=True).start()\n\
                  print('bye'); sys.exit(3)\n";
    let j = same(root(), python3(), &["-c", script]);
    assert_eq!(j.status.code(), Some(3), "{}", show(&j));
}

/// Many short processes, in sequence and 8 at a time (process tracking under load).
#[test]
fn many_processes() {
    let j = same(
        root(),
        "/bin/sh",
        &[
            "-c",
            "for i in $(seq 1 200); do /bin/true; done; echo seq done",
        ],
    );
    assert_eq!(text(&j.stdout), "seq done\n", "{}", show(&j));
    let j = same(
        root(),
        "/bin/sh",
        &[
            "-c",
            "seq 1 64 | xargs -P 8 -n 1 sh -c 'echo $0; ls /usr/bin >/dev/null' | sort -n | md5sum",
        ],
    );
    assert!(j.status.success(), "{}", show(&j));
}

/// The main thread leaves with pthread_exit while a worker goes on: the process
/// lives until the worker's exit_group, whose status is the program's.
#[test]
fn main_thread_exits_first() {
    let script = r#"
import ctypes, threading, time, os
def w():
    time.sleep(0.3)
    os.write(1, b"worker done\n")
    os._exit(5)
threading.Thread(target=w).start()
ctypes.CDLL(None).pthread_exit(None)
"#;
    let j = same(root(), python3(), &["-c", script]);
    assert_eq!(text(&j.stdout), "worker done\n", "{}", show(&j));
    assert_eq!(j.status.code(), Some(5), "{}", show(&j));
}

/// With SIGCHLD ignored, exited children are reaped by the kernel: the parent
/// finds none to wait for, traced or not.
#[test]
fn ignored_sigchld_auto_reaps() {
    let script = r#"
import os, signal, time
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
for i in range(20):
    if os.fork() == 0:
        os._exit(i)
time.sleep(0.5)
try:
    os.wait()
    print("waited a child")
except ChildProcessError:
    print("all auto-reaped")
"#;
    let j = same(root(), python3(), &["-c", script]);
    assert_eq!(text(&j.stdout), "all auto-reaped\n", "{}", show(&j));
}

/// A blocking read interrupted 10 ms apart by a SA_RESTART handler is restarted
/// by the kernel (ERESTARTSYS, ip rewound) again and again; the engine's own
/// rewinding must not get in the way, with (trace) or without (run) results.
#[test]
fn sa_restart_read_is_restarted() {
    let script = r#"
import signal, os, threading
signal.signal(signal.SIGALRM, lambda s, f: None)
signal.siginterrupt(signal.SIGALRM, False)
# The C-level handler writes one byte per signal here: proof they arrived.
cr, cw = os.pipe()
os.set_blocking(cr, False)
os.set_blocking(cw, False)
signal.set_wakeup_fd(cw, warn_on_full_buffer=False)
signal.setitimer(signal.ITIMER_REAL, 0.01, 0.01)
r, w = os.pipe()
threading.Timer(0.5, lambda: os.write(w, b"data")).start()
d = os.read(r, 10)
signal.setitimer(signal.ITIMER_REAL, 0, 0)
print(d, len(os.read(cr, 4096)) > 10)
"#;
    let j = same(root(), python3(), &["-c", script]);
    assert_eq!(text(&j.stdout), "b'data' True\n", "{}", show(&j));
    let dir = TempDir::new("restart");
    let log = dir.0.join("log");
    let log_s = log.to_str().expect("utf-8 temp path");
    let t = run(command(
        Some(&["trace", "--log", log_s]),
        root(),
        python3(),
        &["-c", script],
    ));
    assert_eq!(text(&t.stdout), "b'data' True\n", "traced: {}", show(&t));
}

/// SIGSTOP to a jailed multi-threaded program stops every thread (no output while
/// stopped) and SIGCONT resumes them; ujail does not resume a group-stop itself.
#[test]
fn sigstop_stops_all_threads() {
    use std::io::Read;
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let script = r#"
import threading, os, time
def work():
    while True:
        os.getppid()
for _ in range(4):
    threading.Thread(target=work, daemon=True).start()
end = time.monotonic() + 4
while time.monotonic() < end:
    os.write(1, b"t")
    time.sleep(0.05)
"#;
    let mut child = Command::new(common::ujail_bin())
        .args(["run", "--", python3(), "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn ujail");
    // Ticks are counted by a reader thread.
    let mut out = child.stdout.take().expect("piped");
    let ticks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t2 = ticks.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            t2.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let count = || ticks.load(std::sync::atomic::Ordering::SeqCst);
    let kill = |sig: &str, pid: u32| {
        Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .is_ok_and(|s| s.success())
    };
    // Every wait below has a limit; ujail itself gets a watchdog at the end.
    let end = Instant::now() + Duration::from_secs(30);
    while count() == 0 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    let jailed = fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
                s.rsplit_once(')')
                    .and_then(|(_, r)| r.split_whitespace().nth(1))
                    .is_some_and(|pp| pp == child.id().to_string())
            })
        });
    let result = (|| {
        let pid = jailed.ok_or("no jailed python found")?;
        if count() == 0 {
            return Err("python never ticked");
        }
        if !kill("-STOP", pid) {
            return Err("kill -STOP failed");
        }
        std::thread::sleep(Duration::from_millis(300));
        let stopped_at = count();
        std::thread::sleep(Duration::from_secs(1));
        let during = count() - stopped_at;
        if !kill("-CONT", pid) {
            return Err("kill -CONT failed");
        }
        std::thread::sleep(Duration::from_millis(500));
        let after = count() - stopped_at - during;
        if during != 0 {
            return Err("ticks arrived while the program was stopped");
        }
        if after == 0 {
            return Err("no ticks after SIGCONT");
        }
        Ok(())
    })();
    // Watchdog for ujail itself.
    let limit = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Ok(Some(s)) = child.try_wait() {
            break Some(s);
        }
        if Instant::now() >= limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(result, Ok(()), "multi-threaded SIGSTOP/SIGCONT under ujail");
    assert!(
        status.is_some_and(|s| s.success()),
        "ujail status {status:?}"
    );
}

/// exit_group and SIGKILL while 8 threads are busy making system calls: every
/// thread goes, ujail reports the status without hanging.
#[test]
fn exit_and_kill_with_busy_threads() {
    let script = |end: &str| {
        format!(
            "import threading, os, time\n\
             def w():\n    while True: os.getppid()\n\
             for _ in range(8): threading.Thread(target=w, daemon=True).start()\n\
             time.sleep(0.3); {end}\n"
        )
    };
    let j = same(root(), python3(), &["-c", &script("os._exit(4)")]);
    assert_eq!(j.status.code(), Some(4), "{}", show(&j));
    let j = same(
        root(),
        python3(),
        &["-c", &script("os.kill(os.getpid(), 9)")],
    );
    assert_eq!(j.status.code(), Some(137), "{}", show(&j));
}

/// Queued real-time signals are each delivered (each is a signal-delivery-stop the
/// tracer re-injects), a standard signal sent five times while blocked once.
#[test]
fn realtime_signals_are_queued() {
    let script = r#"
import os, signal
sig = signal.SIGRTMIN + 1
signal.signal(sig, lambda s, f: None)
signal.signal(signal.SIGUSR1, lambda s, f: None)
r, w = os.pipe()
os.set_blocking(r, False)
os.set_blocking(w, False)
signal.set_wakeup_fd(w, warn_on_full_buffer=False)
signal.pthread_sigmask(signal.SIG_BLOCK, [sig, signal.SIGUSR1])
for _ in range(5):
    os.kill(os.getpid(), sig)
    os.kill(os.getpid(), signal.SIGUSR1)
signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig, signal.SIGUSR1])
data = os.read(r, 100)
print("rt", data.count(bytes([sig])), "usr1", data.count(bytes([signal.SIGUSR1])))
"#;
    let j = same(root(), python3(), &["-c", script]);
    assert_eq!(text(&j.stdout), "rt 5 usr1 1\n", "{}", show(&j));
}
