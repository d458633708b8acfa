// SPDX-License-Identifier: GPL-3.0-or-later
//! `ujail-guest`: the multi-call guest program that ujail's integration tests
//! run under the jail, built for x86_64 and i686, dynamic and static.
//!
//! `ujail-guest <cmd> [args]`; every subcommand, its output and exit status
//! is specified in the team contract ("Guest subcommands"). Output goes to
//! stdout with one `write(2)` per line (no stdio buffering, so traces show
//! exactly the calls listed there); usage errors go to stderr with status 2.
//! The unsafe code (libc calls, raw syscall instructions) is in `sys` and,
//! for the socket calls of `net`, `netsys`.

#![deny(unsafe_code)]

// The only module allowed to use `unsafe` (each block with a SAFETY comment);
// `deny` rather than `forbid` at the root so that this one `allow` works.
#[allow(unsafe_code)]
mod sys;
// The socket calls of `net` (same rules as `sys`).
#[allow(unsafe_code)]
mod netsys;
// The pseudo-terminal calls of `pty` (same rules as `sys`).
#[allow(unsafe_code)]
mod ptysys;

mod fs;
mod net;
mod pty;
mod race;
mod raw;

use std::ffi::{CString, OsString};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::Ordering;
use std::time::Duration;

const USAGE: &str = "\
usage: ujail-guest <cmd> [args]
  hello | raw-write | int80 | sysenter | exit N | kill-self SIG | fork N | vfork
  threads N M | clone3 | exec PATH ARGS... | signals | open PATH | getpid
  getppid-loop N | open-loop N PATH | stat-loop N PATH | read-loop N PATH
  sleep SECS | segv
  fs OP ARGS...   one filesystem call through libc; prints one line, exit 0,
                  or \"OP: strerror\" and exit 1. OP is one of:
      read PATH (first line) | write PATH TEXT | append PATH TEXT | stat PATH
      lstat PATH | access PATH | unlink PATH | mkdir PATH | rmdir PATH
      rename A B | link A B | symlink TARGET LINK | readlink PATH
      chmod PATH OCTAL | chdir-read DIR REL | openat-read DIR REL
      exec PATH ARGS... | fexec PATH (execveat of an fd of PATH, AT_EMPTY_PATH)
      truncate PATH LEN | utimes PATH
      opath-chmod LINK OCTAL (chmod of /proc/self/fd/N, N an O_PATH fd of
      the symlink LINK) | mirror PATH (stat PATH, then find ujail's fd mirror in the checked
      copies: \"mirror fd/0: TARGET\" or \"mirror fd/0: strerror\")
      drop-stat ID PATH (stat PATH, setresgid/setresuid all to ID, stat
      PATH again: \"drop-stat ok KIND KIND\")
      capdrop-stat PATH (stat PATH, drop every capability, stat PATH again:
      \"capdrop-stat ok KIND KIND\")
  raw NR [A0..A5] one raw system call with the native instruction; arguments
                  are decimal, -decimal, 0xhex, `buf` (a zeroed 1 KiB buffer),
                  `pid` or `ppid` (getpid/getppid); prints \"ret N\" or
                  \"errno ENAME\" (exit 0)
  race-mem ALLOWED SECRET N   open a buffer N times while another thread
                  flips it between the two paths; prints
                  \"leaked K allowed A failed F eloop E\" (K: opens that read
                  other content than ALLOWED's, read before the race starts;
                  E: failures with ELOOP)
  race-dir DIR N [CALL]  open DIR/sub/f N times while another thread
                  exchanges DIR/sub (first DIR/realsub) and DIR/linksub (a
                  symlink); prints \"leaked K allowed A failed F eloop E\" (K:
                  content not that of DIR/realsub/f). CALL: open (default),
                  stat, lstat (K: another inode) or chmod (0600/0640 in turn;
                  K: succeeded, but DIR/realsub/f did not get the mode)
  race-exec PROG N  exec PROG N times (forked); prints \"leaked K allowed A
                  failed F eloop E\" (A: exit 0, K: exit 42, F: the exec
                  failed or the child was killed)
  race-flip DIR STOP  exchange DIR/sub (first DIR/realsub) and DIR/linksub
                  until STOP exists, then put them back; prints \"flips K\"
  race-fd RW RO N [CALL]  fchmod one fd number N times (0600/0640 in
                  turn; CALL futimens: set its times, new ones each call)
                  while another thread dup2s an fd of RW and one of RO over
                  it; prints \"leaked K allowed A failed F eloop E\" (K: RO
                  got the mode or the times)
  race-reopen RO N  open /proc/self/fd/K for writing N times while another
                  thread dup2s a pipe and a read-only fd of RO over K in
                  turn; prints \"leaked K allowed A failed F eloop E\" (K:
                  the open got RO for writing, A: it got the pipe)
  net OP ARGS...  socket calls (libc unless noted). HOST: numeric IPv4 or IPv6
                  address; it picks the family (AF_INET6 for any IPv6 form,
                  ::ffff:a.b.c.d too). Prints the lines shown, exit 0, or
                  \"CALL: ENAME\" (the failing call, its errno name) and exit
                  1. Peer text: non-printable bytes and \\ as \\xNN. OP is:
      tcp HOST PORT       connect, write \"ping\\n\", read a line (to \\n, EOF
                          or 256 bytes): \"reply LINE\"
      udp HOST PORT       unconnected: sendto \"ping\", recvfrom (5 s timeout):
                          \"reply TEXT from ADDR:PORT\" (IPv6 \"[ADDR]:PORT\")
      udp-connected HOST PORT   connect, send, recv (5 s): \"reply TEXT\"
      connect-loop HOST PORT N   connect one UDP socket N times (no
                          packet sent): \"done N\"
      srcroute HOST PORT VIA   (IPv4) a loose source route via VIA, by
                          setsockopt(IP_OPTIONS) and as IP_RETOPTS data of a
                          sendmsg to HOST:PORT: \"setsockopt ok\" or
                          \"setsockopt: ENAME\", then \"sendmsg ok\" or
                          \"sendmsg: ENAME\"
      udp-recv-room HOST PORT ROOM   bind: \"bound PORT\"; one recvfrom
                          with ROOM bytes for the source (5 s): \"got TEXT\"
      sendmsg HOST PORT   sendmsg, recvmsg (msg_name set; 5 s):
                          \"reply TEXT from ADDR:PORT\"
      sendmmsg HOST PORT N   one sendmmsg of \"m0\"..\"mN-1\", each to
                          HOST:PORT: \"sent K\", then \"len I L\" for each
      fastopen HOST PORT  sendto \"ping\\n\" with MSG_FASTOPEN, read a line:
                          \"reply LINE\"
      unix PATH | abstract NAME   AF_UNIX stream connect, \"ping\\n\", read a
                          line: \"reply LINE\"
      socket FAMILY TYPE [PROTO]  FAMILY unix|inet|inet6|netlink|packet|N,
                          TYPE stream|dgram|raw|seqpacket|N, PROTO N (0): \"ok\"
      socketpair          \"hi\" across an AF_UNIX socketpair: \"pair hi\"
      listen HOST PORT    bind (PORT 0: any), listen: \"listening PORT\"; accept
                          one, read a line, write \"pong\\n\":
                          \"accepted IP LINE\"; \"accepted IP EOF\" (exit 0) or
                          \"accepted IP read: ENAME\" (exit 1) if none
      listen-unbound      listen on an unbound AF_INET socket: \"listening\"
      udp-recv HOST PORT  bind: \"bound PORT\"; then 2 datagrams, 5 s timeout
                          each: \"got TEXT from IP\" (\"recvfrom: EAGAIN\", exit
                          1, on timeout)
      socketcall-connect HOST PORT   (IPv4) socket and connect through i386
                          socketcall (int $0x80), then as tcp: \"reply LINE\";
                          their errors \"socketcall: ENAME\"
      race-connect ALLOWED_IP DENIED_IP PORT N   (IPv4) N UDP sockets, each
                          connected (raw syscall) to one sockaddr_in that
                          another thread flips between the two IPs; prints
                          \"leaked K allowed A failed F\" (K: getpeername not
                          ALLOWED_IP:PORT; F: connect failed)
      race-socketcall ALLOWED_IP DENIED_IP PORT N   the same, socket and
                          connect through socketcall (int $0x80)
  pty [--stdin] ANSWER CMD [ARGS...]   run CMD (execvp) in a new session
                  whose controlling terminal is a new pty (also its stdin
                  with --stdin; stdout and stderr stay the guest's); at the
                  first \"? \" CMD writes to the terminal, write ANSWER and
                  a newline to it once (ANSWER `-`: close the pty instead,
                  so CMD reads end of input; CMD then starts with SIGHUP
                  ignored). When CMD exits: \"tty: TEXT\" (all it wrote to
                  the terminal; newline as \\n, other non-printable bytes
                  and \\ as \\xNN) and CMD's exit status (128+N if killed
                  by signal N). \"pty: ENAME\" and exit 1 if no pty can be
                  opened; CMD not started: \"CALL: ENAME\", status 127;
                  after 60 s CMD is killed: \"tty: TEXT\", \"pty: timed out
                  after 60 s\", exit 1";

/// How a subcommand ends when it does not end the process itself.
enum Fail {
    /// Bad usage: message on stderr, exit 2.
    Usage(String),
    /// The operation failed: message on stdout, exit with the given status.
    Status(i32, String),
}

type Res = Result<(), Fail>;

fn main() {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let code = match run(&args) {
        Ok(()) => 0,
        Err(Fail::Usage(msg)) => {
            // Best effort: if stderr is gone there is nobody to tell.
            let _ = sys::write_all(2, format!("ujail-guest: {msg}\n{USAGE}\n").as_bytes());
            2
        }
        Err(Fail::Status(code, msg)) => {
            if !msg.is_empty() {
                let _ = sys::write_all(1, format!("{msg}\n").as_bytes());
            }
            code
        }
    };
    sys::exit_group(code)
}

fn run(args: &[OsString]) -> Res {
    let Some(cmd) = args.first() else {
        return Err(Fail::Usage("no subcommand given".into()));
    };
    let rest = &args[1..];
    let cmd = cmd.to_string_lossy();
    let argc = |n: usize| -> Res {
        if rest.len() == n {
            Ok(())
        } else {
            Err(Fail::Usage(format!("`{cmd}` takes {n} argument(s)")))
        }
    };
    match cmd.as_ref() {
        "hello" => argc(0).and_then(|()| hello()),
        "raw-write" => argc(0).and_then(|()| raw_write()),
        "int80" => argc(0).and_then(|()| int80()),
        "sysenter" => argc(0).and_then(|()| sysenter()),
        "exit" => argc(1).and_then(|()| sys::exit_group(number(&rest[0])?)),
        "kill-self" => argc(1).and_then(|()| kill_self(number(&rest[0])?)),
        "fork" => argc(1).and_then(|()| fork(number(&rest[0])?)),
        "vfork" => argc(0).and_then(|()| vfork()),
        "threads" => argc(2).and_then(|()| threads(number(&rest[0])?, number(&rest[1])?)),
        "clone3" => argc(0).and_then(|()| clone3()),
        "exec" if !rest.is_empty() => exec(rest),
        "exec" => Err(Fail::Usage("`exec` takes PATH [ARGS...]".into())),
        "signals" => argc(0).and_then(|()| signals()),
        "open" => argc(1).and_then(|()| open(&rest[0])),
        "getpid" => argc(0).and_then(|()| getpid()),
        "getppid-loop" => argc(1).and_then(|()| getppid_loop(number(&rest[0])?)),
        "open-loop" => argc(2).and_then(|()| path_loop(number(&rest[0])?, &rest[1], false)),
        "read-loop" => argc(2).and_then(|()| read_loop(number(&rest[0])?, &rest[1])),
        "stat-loop" => argc(2).and_then(|()| path_loop(number(&rest[0])?, &rest[1], true)),
        "sleep" => argc(1).and_then(|()| sleep(&rest[0])),
        "fs" if !rest.is_empty() => fs::run(rest),
        "fs" => Err(Fail::Usage("`fs` takes OP ARGS...".into())),
        "net" if !rest.is_empty() => net::run(rest),
        "net" => Err(Fail::Usage("`net` takes OP ARGS...".into())),
        "pty" if rest.len() >= 2 => pty::run(rest),
        "pty" => Err(Fail::Usage(
            "`pty` takes [--stdin] ANSWER CMD [ARGS...]".into(),
        )),
        "raw" if (1..=7).contains(&rest.len()) => raw::run(rest),
        "raw" => Err(Fail::Usage("`raw` takes NR [A0..A5]".into())),
        "race-mem" => argc(3).and_then(|()| race::mem(&rest[0], &rest[1], number(&rest[2])?)),
        "race-reopen" => argc(2).and_then(|()| race::reopen(&rest[0], number(&rest[1])?)),
        "race-fd" if rest.len() == 4 => race::fd(
            &rest[0],
            &rest[1],
            number(&rest[2])?,
            &rest[3].to_string_lossy(),
        ),
        "race-fd" => {
            argc(3).and_then(|()| race::fd(&rest[0], &rest[1], number(&rest[2])?, "fchmod"))
        }
        "race-dir" if rest.len() == 3 => {
            race::dir(&rest[0], number(&rest[1])?, &rest[2].to_string_lossy())
        }
        "race-dir" => argc(2).and_then(|()| race::dir(&rest[0], number(&rest[1])?, "open")),
        "race-exec" => argc(2).and_then(|()| race::exec(&rest[0], number(&rest[1])?)),
        "race-flip" => argc(2).and_then(|()| race::flip(&rest[0], &rest[1])),
        "segv" => argc(0).and_then(|()| {
            sys::no_core_dump();
            sys::segv()
        }),
        other => Err(Fail::Usage(format!("unknown subcommand `{other}`"))),
    }
}

/// Parses a decimal argument.
fn number<T: std::str::FromStr>(arg: &OsString) -> Result<T, Fail> {
    arg.to_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Fail::Usage(format!("bad number `{}`", arg.to_string_lossy())))
}

/// Writes `line` and a newline to stdout in one libc `write`.
fn say(line: &str) -> Res {
    sys::write_all(1, format!("{line}\n").as_bytes())
        .map_err(|e| Fail::Status(1, format!("write: {}", errmsg(&e))))
}

/// The C library's message for an I/O error, like `perror` would print it.
fn errmsg(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(errno) => sys::strerror(errno),
        None => e.to_string(),
    }
}

/// Turns a failed step into "what: strerror", exit status 1.
fn failed(what: &str) -> impl FnOnce(std::io::Error) -> Fail + '_ {
    move |e| Fail::Status(1, format!("{what}: {}", errmsg(&e)))
}

/// Checks that a write wrote the whole buffer.
fn check_len(what: &str, wrote: usize, want: usize) -> Res {
    if wrote == want {
        Ok(())
    } else {
        Err(Fail::Status(
            1,
            format!("{what}: short write {wrote}/{want}"),
        ))
    }
}

fn hello() -> Res {
    let msg = b"hello\n";
    let n = sys::write(1, msg).map_err(failed("write"))?;
    check_len("write", n, msg.len())
}

fn raw_write() -> Res {
    let msg = b"raw\n";
    let n = sys::raw_write(msg).map_err(failed("raw-write"))?;
    check_len("raw-write", n, msg.len())
}

fn int80() -> Res {
    let msg = b"int80\n";
    let n = sys::int80_write(msg).map_err(failed("int80"))?;
    check_len("int80", n, msg.len())
}

#[cfg(target_arch = "x86")]
fn sysenter() -> Res {
    let Some(entry) = sys::kernel_vsyscall() else {
        return Err(Fail::Status(
            1,
            "sysenter: no AT_SYSINFO in the auxiliary vector".into(),
        ));
    };
    let msg = b"sysenter\n";
    let n = sys::sysenter_write(entry, msg).map_err(failed("sysenter"))?;
    check_len("sysenter", n, msg.len())
}

#[cfg(target_arch = "x86_64")]
fn sysenter() -> Res {
    Err(Fail::Status(2, "unsupported".into()))
}

fn kill_self(sig: i32) -> Res {
    sys::reset_and_raise(sig).map_err(failed("kill-self"))?;
    // Signals whose default action is to ignore (or stop) leave us running.
    Err(Fail::Status(
        1,
        format!("kill-self: still alive after signal {sig}"),
    ))
}

fn fork(n: u32) -> Res {
    let mut children = Vec::new();
    for i in 0..n {
        let code = i32::try_from(i & 0xff).unwrap_or(0);
        let pid = sys::fork_run(move || match say(&format!("child {i}")) {
            Ok(()) => code,
            Err(_) => 100,
        })
        .map_err(failed("fork"))?;
        children.push((pid, code));
    }
    let mut all_ok = true;
    for (pid, code) in children {
        let status = sys::waitpid(pid).map_err(failed("waitpid"))?;
        if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == code) {
            all_ok = false;
        }
    }
    say(&format!("reaped {n}"))?;
    if all_ok {
        Ok(())
    } else {
        Err(Fail::Status(
            1,
            "fork: a child's status did not match".into(),
        ))
    }
}

fn vfork() -> Res {
    let pid = sys::vfork_child_exits_7().map_err(failed("vfork"))?;
    let status = sys::waitpid(pid).map_err(failed("waitpid"))?;
    if libc::WIFEXITED(status) {
        say(&format!("vfork child {}", libc::WEXITSTATUS(status)))
    } else {
        Err(Fail::Status(1, format!("vfork: child status {status:#x}")))
    }
}

fn threads(n: u32, m: u32) -> Res {
    let devnull = File::options()
        .write(true)
        .open("/dev/null")
        .map_err(failed("open /dev/null"))?;
    let fd = devnull.as_raw_fd();
    let pid = sys::getpid();
    let handles: Vec<_> = (0..n)
        .map(|_| {
            std::thread::spawn(move || -> Result<(), String> {
                for _ in 0..m {
                    let p = sys::getpid();
                    if p != pid {
                        return Err(format!("getpid in thread {p} != {pid}"));
                    }
                    match sys::write(fd, b"t\n") {
                        Ok(2) => {}
                        Ok(k) => return Err(format!("short write {k}/2")),
                        Err(e) => return Err(format!("write: {}", errmsg(&e))),
                    }
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        match h.join() {
            Ok(Ok(())) => {}
            Ok(Err(msg)) => return Err(Fail::Status(1, format!("threads: {msg}"))),
            Err(_) => return Err(Fail::Status(1, "threads: a thread panicked".into())),
        }
    }
    drop(devnull);
    say(&format!("threads {n} {m} ok"))
}

fn clone3() -> Res {
    match sys::clone3_child_exits(3) {
        Ok(pid) => {
            let status = sys::waitpid(pid).map_err(failed("waitpid"))?;
            if libc::WIFEXITED(status) {
                say(&format!("clone3 child {}", libc::WEXITSTATUS(status)))
            } else {
                Err(Fail::Status(1, format!("clone3: child status {status:#x}")))
            }
        }
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => say("clone3 ENOSYS"),
        Err(e) => Err(failed("clone3")(e)),
    }
}

fn cstring(arg: &OsString) -> Result<CString, Fail> {
    CString::new(arg.as_bytes()).map_err(|_| {
        Fail::Usage(format!(
            "argument with a NUL byte: {}",
            arg.to_string_lossy()
        ))
    })
}

fn exec(args: &[OsString]) -> Res {
    let argv = args.iter().map(cstring).collect::<Result<Vec<_>, _>>()?;
    let err = sys::execv(&argv[0], &argv);
    Err(Fail::Status(126, format!("exec: {}", errmsg(&err))))
}

fn signals() -> Res {
    let fail = |what: String| Err(Fail::Status(1, format!("signals: {what}")));
    let pid = u32::try_from(sys::getpid()).unwrap_or(0);
    sys::MAIN_PID.store(pid, Ordering::SeqCst);

    // A handler that makes system calls of its own, three times.
    sys::install_usr1().map_err(failed("signals: sigaction SIGUSR1"))?;
    for _ in 0..3 {
        sys::raise(libc::SIGUSR1).map_err(failed("signals: raise"))?;
    }
    let (count, pid_ok) = (
        sys::USR1_COUNT.load(Ordering::SeqCst),
        sys::USR1_PID_OK.load(Ordering::SeqCst),
    );
    if count != 3 || pid_ok != 3 {
        return fail(format!(
            "SIGUSR1 handler ran {count} times, getpid matched {pid_ok}"
        ));
    }

    // SIGALRM without SA_RESTART interrupts pause() ...
    sys::install_alarm().map_err(failed("signals: sigaction SIGALRM"))?;
    sys::alarm(1);
    let err = sys::pause();
    if err.raw_os_error() != Some(libc::EINTR) || sys::ALRM_COUNT.load(Ordering::SeqCst) != 1 {
        return fail(format!("pause: {}", errmsg(&err)));
    }

    // ... and a read() blocked on an empty pipe, which fails with EINTR.
    let (r, w) = sys::pipe().map_err(failed("signals: pipe"))?;
    sys::alarm(1);
    let mut buf = [0u8; 1];
    let res = sys::read(r, &mut buf);
    let alarms = sys::ALRM_COUNT.load(Ordering::SeqCst);
    let _ = sys::close(r);
    let _ = sys::close(w);
    match res {
        Err(e) if e.raw_os_error() == Some(libc::EINTR) && alarms == 2 => {}
        Err(e) => return fail(format!("read: {} (alarms {alarms})", errmsg(&e))),
        Ok(n) => return fail(format!("read returned {n} (alarms {alarms})")),
    }
    say("signals ok")
}

fn open(path: &OsString) -> Res {
    let path = cstring(path)?;
    let fd = sys::open_rdonly(&path).map_err(failed("open"))?;
    let _ = sys::close(fd);
    say("open ok")
}

fn getpid() -> Res {
    say(&format!("pid {} ppid {}", sys::getpid(), sys::getppid()))
}

fn getppid_loop(n: u64) -> Res {
    for _ in 0..n {
        std::hint::black_box(sys::getppid());
    }
    say(&format!("done {n}"))
}

/// N times open(PATH)+close, or N stat(PATH) (benchmarks of the path check).
fn path_loop(n: u64, path: &OsString, stat: bool) -> Res {
    let c = CString::new(path.as_bytes()).map_err(|_| Fail::Usage("path with NUL".into()))?;
    for _ in 0..n {
        if stat {
            sys::stat_kind(&c, false).map_err(|e| Fail::Status(1, format!("stat: {e}")))?;
        } else {
            let fd = sys::open(&c, libc::O_RDONLY, 0)
                .map_err(|e| Fail::Status(1, format!("open: {e}")))?;
            sys::close(fd).map_err(|e| Fail::Status(1, format!("close: {e}")))?;
        }
    }
    say(&format!("done {n}"))
}

/// `read-loop N PATH`: open PATH once, then N reads of 4 KiB (use a file
/// that does not end, such as /dev/zero); "done N".
fn read_loop(n: u64, path: &OsString) -> Res {
    let c = CString::new(path.as_bytes()).map_err(|_| Fail::Usage("path with NUL".into()))?;
    let fd = sys::open(&c, libc::O_RDONLY, 0).map_err(|e| Fail::Status(1, format!("open: {e}")))?;
    let mut buf = [0u8; 4096];
    for _ in 0..n {
        let got = sys::read(fd, &mut buf).map_err(|e| Fail::Status(1, format!("read: {e}")))?;
        check_len("read", got, buf.len())?;
    }
    sys::close(fd).map_err(|e| Fail::Status(1, format!("close: {e}")))?;
    say(&format!("done {n}"))
}

fn sleep(secs: &OsString) -> Res {
    let secs: f64 = number(secs)?;
    let d = Duration::try_from_secs_f64(secs)
        .map_err(|_| Fail::Usage(format!("bad duration `{secs}`")))?;
    std::thread::sleep(d);
    Ok(())
}
