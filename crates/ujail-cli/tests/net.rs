// SPDX-License-Identifier: GPL-3.0-or-later
//! Integration tests of the network policy (issue 6), on every guest
//! flavour of this build, on the host and in the i386 VM (over its
//! loopback): `--net none|loopback|log|ask`, `--allow-connect`/`-bind`/
//! `-accept`, `--net-rule`, the raw/packet/netlink defaults, abstract unix
//! names, IPv4-mapped IPv6, `sendto`/`sendmsg`/`sendmmsg`/MSG_FASTOPEN,
//! accept and datagram-source filtering, the i386 `socketcall` path (the
//! i686 guests' libc uses it for every socket call; `socketcall-connect`
//! calls it directly, from 64-bit guests too), the decision log (text and
//! JSON Lines), policy files, and the race of a sibling thread flipping the
//! sockaddr after the check.
//!
//! The servers are threads of the test process on 127.0.0.1 / ::1; denied
//! destinations are addresses nobody listens on (10.255.255.1, TEST-NET):
//! the jail refuses them before the kernel sees the call.
#![forbid(unsafe_code)]

mod common;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr as UnixAddr, UnixListener};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::Guest;

/// Watchdog for one jailed command, seconds (the VM runs under TCG).
const WATCHDOG: u64 = 120;
/// Iterations of the connect races.
const RACE_N: u32 = 2000;
/// Watchdog of a race run.
const RACE_WATCHDOG: u64 = 600;
/// An address nobody answers: the jail must refuse it first.
const NOWHERE: &str = "10.255.255.1";

// ---------------------------------------------------------------------------
// servers
// ---------------------------------------------------------------------------

/// A TCP server on `addr` (port 0: any) answering each connection's first
/// line with `pong\n`; returns its port.
fn tcp_server(addr: &str) -> u16 {
    let l = TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
    let port = l.local_addr().expect("local_addr").port();
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            std::thread::spawn(move || serve_line(c));
        }
    });
    port
}

fn serve_line<S: Read + Write>(mut c: S) {
    let mut b = [0u8; 256];
    let _ = c.read(&mut b);
    let _ = c.write_all(b"pong\n");
}

/// A UDP server on 127.0.0.1 answering each datagram with `pong`.
fn udp_server() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
    let port = s.local_addr().expect("local_addr").port();
    std::thread::spawn(move || {
        let mut b = [0u8; 256];
        while let Ok((_, from)) = s.recv_from(&mut b) {
            let _ = s.send_to(b"pong", from);
        }
    });
    port
}

fn unique(tag: &str) -> String {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    format!(
        "ujail-net-{tag}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    )
}

/// A unix path server; returns its path.
fn unix_server() -> PathBuf {
    let path = std::env::temp_dir().join(unique("sock"));
    let _ = std::fs::remove_file(&path);
    let l = UnixListener::bind(&path).expect("bind unix");
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            std::thread::spawn(move || serve_line(c));
        }
    });
    path
}

/// An abstract unix server; returns its name.
fn abstract_server() -> String {
    let name = unique("abstract");
    let addr = UnixAddr::from_abstract_name(name.as_bytes()).expect("abstract name");
    let l = UnixListener::bind_addr(&addr).expect("bind abstract");
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            std::thread::spawn(move || serve_line(c));
        }
    });
    name
}

// ---------------------------------------------------------------------------
// running guests
// ---------------------------------------------------------------------------

/// The result of one run.
#[derive(Debug, Clone)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from(o: &Output) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
    fn line(&self) -> &str {
        self.stdout.trim_end()
    }
}

fn ujail_cmd<A: AsRef<OsStr>>(g: &Guest, ujail_args: &[A], guest_args: &[&str]) -> Command {
    let mut cmd = Command::new(common::ujail_bin());
    cmd.arg("run")
        .args(ujail_args)
        .arg("--")
        .arg(&g.path)
        .arg("net")
        .args(guest_args);
    cmd.env_remove("LD_LIBRARY_PATH");
    cmd
}

/// `ujail run <ujail_args> -- <guest> net <guest_args>` under the watchdog.
fn jail<A: AsRef<OsStr>>(g: &Guest, ujail_args: &[A], guest_args: &[&str]) -> Run {
    Run::from(&common::run_with_timeout(
        &mut ujail_cmd(g, ujail_args, guest_args),
        WATCHDOG,
    ))
}

/// Collects failures; panics with all of them at the end.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }
    /// `run` printed exactly `want`.
    fn line(&mut self, g: &Guest, what: &str, run: &Run, want: &str) {
        self.check(run.line() == want, || {
            format!(
                "{} {what}: want {want:?}, got {:?} (status {:?}, stderr {:?})",
                g.name,
                run.line(),
                run.code,
                run.stderr
            )
        });
    }
    /// `run` was refused by the jail with `errno`, and the refusal logged.
    fn refused(&mut self, g: &Guest, what: &str, run: &Run, call: &str, errno: &str) {
        self.line(g, what, run, &format!("{call}: {errno}"));
        self.check(
            run.stderr.contains("ujail: net: denied: pid ") && run.stderr.contains(errno),
            || format!("{} {what}: no denial logged: {:?}", g.name, run.stderr),
        );
    }
    fn finish(self) {
        assert!(self.0.is_empty(), "{}", self.0.join("\n"));
    }
}

// ---------------------------------------------------------------------------
// modes
// ---------------------------------------------------------------------------

#[test]
fn net_none_refuses_inet_sockets_and_keeps_unix() {
    let path = unix_server();
    let path = path.to_str().expect("utf-8 temp path");
    let mut f = Failures::default();
    for g in common::guests() {
        let none = ["--net", "none"];
        f.refused(
            &g,
            "inet",
            &jail(&g, &none, &["socket", "inet", "stream"]),
            "socket",
            "EACCES",
        );
        f.refused(
            &g,
            "inet6",
            &jail(&g, &none, &["socket", "inet6", "dgram"]),
            "socket",
            "EACCES",
        );
        f.line(
            &g,
            "socketpair",
            &jail(&g, &none, &["socketpair"]),
            "pair hi",
        );
        f.line(
            &g,
            "unix path",
            &jail(&g, &none, &["unix", path]),
            "reply pong",
        );
        f.line(
            &g,
            "netlink route",
            &jail(&g, &none, &["socket", "netlink", "dgram", "0"]),
            "ok",
        );
        f.refused(
            &g,
            "netlink audit",
            &jail(&g, &none, &["socket", "netlink", "raw", "9"]),
            "socket",
            "EACCES",
        );
        let r = jail(&g, &none, &["socket", "inet", "stream"]);
        f.check(
            r.stderr.contains("[default: not allowed (--net none)]"),
            || format!("{}: the rule is not named: {:?}", g.name, r.stderr),
        );
    }
    f.finish();
}

#[test]
fn loopback_mode_allows_only_loopback_and_judges_mapped_ipv6_as_ipv4() {
    let port = tcp_server("127.0.0.1:0").to_string();
    let uport = udp_server().to_string();
    let v6 = TcpListener::bind("[::1]:0").map(|l| {
        let p = l.local_addr().expect("local_addr").port();
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                serve_line(c);
            }
        });
        p.to_string()
    });
    let lo = ["--net", "loopback"];
    let mut f = Failures::default();
    for g in common::guests() {
        f.line(
            &g,
            "tcp",
            &jail(&g, &lo, &["tcp", "127.0.0.1", &port]),
            "reply pong",
        );
        f.refused(
            &g,
            "tcp out",
            &jail(&g, &lo, &["tcp", NOWHERE, "9"]),
            "connect",
            "EACCES",
        );
        f.line(
            &g,
            "udp",
            &jail(&g, &lo, &["udp", "127.0.0.1", &uport]),
            &format!("reply pong from 127.0.0.1:{uport}"),
        );
        f.refused(
            &g,
            "udp out",
            &jail(&g, &lo, &["udp", NOWHERE, "53"]),
            "sendto",
            "EACCES",
        );
        f.line(
            &g,
            "mapped loopback",
            &jail(&g, &lo, &["tcp", "::ffff:127.0.0.1", &port]),
            "reply pong",
        );
        f.refused(
            &g,
            "mapped outside",
            &jail(&g, &lo, &["tcp", &format!("::ffff:{NOWHERE}"), "9"]),
            "connect",
            "EACCES",
        );
        // listen() on an unbound socket binds the wildcard address.
        f.refused(
            &g,
            "listen unbound",
            &jail(&g, &lo, &["listen-unbound"]),
            "listen",
            "EACCES",
        );
        match &v6 {
            Ok(p) => f.line(&g, "::1", &jail(&g, &lo, &["tcp", "::1", p]), "reply pong"),
            Err(e) => f.check(false, || format!("no IPv6 loopback here: {e}")),
        }
    }
    f.finish();
}

#[test]
fn allow_rules_are_an_allowlist_with_ports_and_errnos() {
    let a = tcp_server("127.0.0.1:0").to_string();
    let b = tcp_server("127.0.0.1:0").to_string();
    let allow_a = format!("127.0.0.1:{a}");
    let mut f = Failures::default();
    for g in common::guests() {
        // No --net: allow rules alone make an allowlist.
        let only_a = ["--allow-connect", allow_a.as_str()];
        f.line(
            &g,
            "allowed port",
            &jail(&g, &only_a, &["tcp", "127.0.0.1", &a]),
            "reply pong",
        );
        f.refused(
            &g,
            "other port",
            &jail(&g, &only_a, &["tcp", "127.0.0.1", &b]),
            "connect",
            "EACCES",
        );
        f.line(
            &g,
            "mapped, allowed as IPv4",
            &jail(&g, &only_a, &["tcp", "::ffff:127.0.0.1", &a]),
            "reply pong",
        );
        // A more specific deny inside an allowed network, with its errno.
        let deny_b = format!("deny=ECONNREFUSED connect 127.0.0.1:{b}");
        let args = ["--net", "loopback", "--net-rule", deny_b.as_str()];
        f.refused(
            &g,
            "deny=ECONNREFUSED",
            &jail(&g, &args, &["tcp", "127.0.0.1", &b]),
            "connect",
            "ECONNREFUSED",
        );
        f.line(
            &g,
            "rest of loopback",
            &jail(&g, &args, &["tcp", "127.0.0.1", &a]),
            "reply pong",
        );
        // A port range.
        let range = ["--net", "none", "--allow-connect", "127.0.0.1:1-1023"];
        f.refused(
            &g,
            "outside range",
            &jail(&g, &range, &["tcp", "127.0.0.1", &a]),
            "connect",
            "EACCES",
        );
        // MSG_FASTOPEN is a connect.
        f.refused(
            &g,
            "fastopen",
            &jail(&g, &only_a, &["fastopen", "127.0.0.1", &b]),
            "sendto",
            "EACCES",
        );
        let r = jail(&g, &only_a, &["fastopen", "127.0.0.1", &a]);
        f.check(!r.stderr.contains("ujail: net: denied"), || {
            format!(
                "{} fastopen to the allowed port was denied: {:?}",
                g.name, r.stderr
            )
        });
    }
    f.finish();
}

#[test]
fn datagram_destinations_in_sendto_sendmsg_and_sendmmsg() {
    let u = udp_server().to_string();
    let allow = format!("127.0.0.1:{u}");
    let ok = ["--allow-connect", allow.as_str()];
    let other = ["--allow-connect", "127.0.0.1:9"];
    let mut f = Failures::default();
    for g in common::guests() {
        let from = format!("reply pong from 127.0.0.1:{u}");
        f.line(
            &g,
            "sendto",
            &jail(&g, &ok, &["udp", "127.0.0.1", &u]),
            &from,
        );
        f.line(
            &g,
            "sendmsg",
            &jail(&g, &ok, &["sendmsg", "127.0.0.1", &u]),
            &from,
        );
        f.refused(
            &g,
            "sendto denied",
            &jail(&g, &other, &["udp", "127.0.0.1", &u]),
            "sendto",
            "EACCES",
        );
        f.refused(
            &g,
            "sendmsg denied",
            &jail(&g, &other, &["sendmsg", "127.0.0.1", &u]),
            "sendmsg",
            "EACCES",
        );
        f.refused(
            &g,
            "sendmmsg denied",
            &jail(&g, &other, &["sendmmsg", "127.0.0.1", &u, "3"]),
            "sendmmsg",
            "EACCES",
        );
        // sendmmsg runs as a sendmsg of the first message (see the README):
        // one sent, its msg_len written back.
        let r = jail(&g, &ok, &["sendmmsg", "127.0.0.1", &u, "3"]);
        let lines: Vec<&str> = r.stdout.lines().collect();
        f.check(
            lines.first() == Some(&"sent 1") && lines.get(1) == Some(&"len 0 2"),
            || format!("{} sendmmsg: {:?} {:?}", g.name, r.stdout, r.stderr),
        );
        // Connected datagram sockets: judged at connect.
        f.line(
            &g,
            "udp-connected",
            &jail(&g, &ok, &["udp-connected", "127.0.0.1", &u]),
            "reply pong",
        );
        f.refused(
            &g,
            "udp-connected denied",
            &jail(&g, &other, &["udp-connected", "127.0.0.1", &u]),
            "connect",
            "EACCES",
        );
    }
    f.finish();
}

#[test]
fn abstract_unix_sockets_need_a_rule_naming_them() {
    let name = abstract_server();
    let rule = format!("allow connect @{name}");
    let mut f = Failures::default();
    for g in common::guests() {
        f.line(
            &g,
            "no policy",
            &jail(&g, &[] as &[&str], &["abstract", &name]),
            "reply pong",
        );
        f.refused(
            &g,
            "loopback",
            &jail(&g, &["--net", "loopback"], &["abstract", &name]),
            "connect",
            "EACCES",
        );
        f.line(
            &g,
            "named",
            &jail(
                &g,
                &["--net", "loopback", "--net-rule", &rule],
                &["abstract", &name],
            ),
            "reply pong",
        );
        // A filesystem policy alone makes them strict: they bypass it.
        f.refused(
            &g,
            "path rules",
            &jail(&g, &["--ro", "/"], &["abstract", &name]),
            "connect",
            "EACCES",
        );
    }
    f.finish();
}

#[test]
fn raw_and_packet_sockets_are_denied_by_default() {
    let mut f = Failures::default();
    for g in common::guests() {
        let none: [&str; 0] = [];
        f.refused(
            &g,
            "raw",
            &jail(&g, &none, &["socket", "inet", "raw", "1"]),
            "socket",
            "EACCES",
        );
        f.refused(
            &g,
            "packet",
            &jail(&g, &none, &["socket", "packet", "raw"]),
            "socket",
            "EACCES",
        );
        f.refused(
            &g,
            "SOCK_PACKET",
            &jail(&g, &none, &["socket", "inet", "10"]),
            "socket",
            "EACCES",
        );
        // Allowed by a rule, the kernel decides (root: ok; else EPERM).
        let r = jail(
            &g,
            &["--net-rule", "allow socket raw"],
            &["socket", "inet", "raw", "1"],
        );
        f.check(
            (r.line() == "ok" || r.line() == "socket: EPERM") && !r.stderr.contains("denied"),
            || format!("{} allowed raw: {:?} {:?}", g.name, r.stdout, r.stderr),
        );
    }
    f.finish();
}

#[test]
fn i386_socketcall_is_judged_and_copied() {
    let a = tcp_server("127.0.0.1:0").to_string();
    let b = tcp_server("127.0.0.1:0").to_string();
    let only_a = format!("127.0.0.1:{a}");
    let mut f = Failures::default();
    for g in common::guests() {
        let args = ["--allow-connect", only_a.as_str()];
        f.line(
            &g,
            "allowed",
            &jail(&g, &args, &["socketcall-connect", "127.0.0.1", &a]),
            "reply pong",
        );
        let r = jail(&g, &args, &["socketcall-connect", "127.0.0.1", &b]);
        f.refused(&g, "denied", &r, "socketcall", "EACCES");
        f.check(r.stderr.contains("socketcall:connect 127.0.0.1:"), || {
            format!(
                "{}: the log does not name socketcall:connect: {:?}",
                g.name, r.stderr
            )
        });
        f.refused(
            &g,
            "none",
            &jail(
                &g,
                &["--net", "none"],
                &["socketcall-connect", "127.0.0.1", &a],
            ),
            "socketcall",
            "EACCES",
        );
    }
    f.finish();
}

// ---------------------------------------------------------------------------
// incoming: accept and datagram sources
// ---------------------------------------------------------------------------

/// Starts `ujail run ARGS -- guest net listen|udp-recv 127.0.0.1 0`, reads
/// the port it prints, and returns the child and the port.
fn start_server<A: AsRef<OsStr>>(
    g: &Guest,
    args: &[A],
    op: &str,
) -> (
    std::process::Child,
    BufReader<std::process::ChildStdout>,
    u16,
) {
    let mut cmd = ujail_cmd(g, args, &[op, "127.0.0.1", "0"]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn ujail");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("read the port line");
    let port: Option<u16> = first.split_whitespace().nth(1).and_then(|p| p.parse().ok());
    let Some(port) = port else {
        let _ = child.kill();
        let o = child.wait_with_output().expect("wait");
        panic!(
            "{} {op}: no port in {first:?}; stderr {:?}",
            g.name,
            String::from_utf8_lossy(&o.stderr)
        )
    };
    (child, out, port)
}

/// The rest of a server's output, under the watchdog.
fn finish_server(
    mut child: std::process::Child,
    mut out: BufReader<std::process::ChildStdout>,
) -> Run {
    let deadline = std::time::Instant::now() + Duration::from_secs(WATCHDOG);
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut stdout = String::new();
    let _ = out.read_to_string(&mut stdout);
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let status = child.wait().expect("wait");
    Run {
        code: status.code(),
        stdout,
        stderr,
    }
}

#[test]
fn accepted_connections_from_refused_peers_are_reset() {
    let mut f = Failures::default();
    for g in common::guests() {
        for (accept_from, allowed) in [("127.0.0.1", true), ("127.0.0.2", false)] {
            let args = [
                "--net",
                "none",
                "--allow-bind",
                "127.0.0.1:0",
                "--allow-accept",
                accept_from,
            ];
            let (child, out, port) = start_server(&g, &args, "listen");
            let mut reply = String::new();
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(mut c) => {
                    c.set_read_timeout(Some(Duration::from_secs(WATCHDOG)))
                        .expect("timeout");
                    let _ = c.write_all(b"ping\n");
                    let _ = c.read_to_string(&mut reply);
                }
                // The refused peer's reset can arrive before the client's
                // connect has returned (two CPUs): connect reports it.
                Err(e) if !allowed && e.kind() == std::io::ErrorKind::ConnectionReset => {}
                Err(e) => panic!("connect to the jailed server: {e}"),
            }
            let r = finish_server(child, out);
            if allowed {
                f.check(reply == "pong\n", || {
                    format!("{}: client got {reply:?}", g.name)
                });
                f.line(&g, "allowed peer", &r, "accepted 127.0.0.1 ping");
            } else {
                f.check(reply.is_empty(), || {
                    format!("{}: refused peer got {reply:?}", g.name)
                });
                f.check(
                    !r.stdout.contains("ping") && r.stdout.starts_with("accepted 127.0.0.1 "),
                    || format!("{} refused peer: {:?} {:?}", g.name, r.stdout, r.stderr),
                );
                f.check(
                    r.stderr.contains("ujail: net: denied:") && r.stderr.contains("accept"),
                    || format!("{} refused peer not logged: {:?}", g.name, r.stderr),
                );
            }
        }
    }
    f.finish();
}

#[test]
fn datagrams_from_refused_sources_are_dropped() {
    let mut f = Failures::default();
    for g in common::guests() {
        let args = [
            "--net",
            "none",
            "--allow-bind",
            "127.0.0.1:0",
            "--allow-accept",
            "127.0.0.1",
        ];
        let (child, out, port) = start_server(&g, &args, "udp-recv");
        let bad = UdpSocket::bind("127.0.0.2:0").expect("bind 127.0.0.2");
        let good = UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        bad.send_to(b"bad", ("127.0.0.1", port)).expect("send");
        std::thread::sleep(Duration::from_millis(200));
        good.send_to(b"one", ("127.0.0.1", port)).expect("send");
        std::thread::sleep(Duration::from_millis(200));
        good.send_to(b"two", ("127.0.0.1", port)).expect("send");
        let r = finish_server(child, out);
        f.check(
            r.stdout == "got one from 127.0.0.1\ngot two from 127.0.0.1\n",
            || format!("{}: {:?} {:?}", g.name, r.stdout, r.stderr),
        );
        f.check(r.stderr.contains("127.0.0.2"), || {
            format!(
                "{}: the dropped datagram is not logged: {:?}",
                g.name, r.stderr
            )
        });
    }
    f.finish();
}

// ---------------------------------------------------------------------------
// log, policy files, ask
// ---------------------------------------------------------------------------

#[test]
fn net_log_file_has_every_decision_in_json_lines() {
    let port = tcp_server("127.0.0.1:0").to_string();
    let mut f = Failures::default();
    for g in common::guests() {
        let log = std::env::temp_dir().join(unique("log"));
        let log_s = log.to_str().expect("utf-8").to_string();
        let args = [
            "--net",
            "loopback",
            "--net-log",
            &log_s,
            "--log-format",
            "json",
        ];
        f.line(
            &g,
            "allowed",
            &jail(&g, &args, &["tcp", "127.0.0.1", &port]),
            "reply pong",
        );
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        f.check(
            text.lines().any(|l| {
                l.starts_with("{\"event\":\"net\"")
                    && l.contains("\"direction\":\"connect\"")
                    && l.contains(&format!("\"target\":\"127.0.0.1:{port}\""))
                    && l.contains("\"verdict\":\"allowed\"")
                    && l.contains("\"rule\":\"--net loopback\"")
            }),
            || format!("{}: no allowed connect in {text:?}", g.name),
        );
        let _ = jail(&g, &args, &["tcp", NOWHERE, "9"]);
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        f.check(
            text.lines().any(|l| {
                l.contains("\"verdict\":\"denied\"") && l.contains("\"errno\":\"EACCES\"")
            }),
            || format!("{}: no denial in {text:?}", g.name),
        );
        let _ = std::fs::remove_file(&log);
        // --net log: everything allowed, every destination logged.
        let r = jail(&g, &["--net", "log"], &["tcp", "127.0.0.1", &port]);
        f.line(&g, "log mode", &r, "reply pong");
        f.check(
            r.stderr.contains("ujail: net: allowed: pid ")
                && r.stderr.contains(&format!("connect 127.0.0.1:{port}")),
            || format!("{}: --net log did not log: {:?}", g.name, r.stderr),
        );
    }
    f.finish();
}

#[test]
fn policy_file_net_table() {
    let a = tcp_server("127.0.0.1:0").to_string();
    let dir = std::env::temp_dir().join(unique("policy"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let policy = dir.join("site.toml");
    std::fs::write(
        &policy,
        format!("[net]\nmode = \"none\"\nrules = [\n  \"allow connect 127.0.0.1:{a}\",\n]\n"),
    )
    .expect("write policy");
    let p = policy.to_str().expect("utf-8").to_string();
    let out = common::run_with_timeout(
        Command::new(common::ujail_bin()).args(["check", &p]),
        WATCHDOG,
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success()
            && text.contains("net   mode none")
            && text.contains(&format!("net   allow connect 127.0.0.1:{a}")),
        "ujail check: {text:?} {:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut f = Failures::default();
    for g in common::guests() {
        let args = ["--policy", p.as_str()];
        f.line(
            &g,
            "allowed",
            &jail(&g, &args, &["tcp", "127.0.0.1", &a]),
            "reply pong",
        );
        f.refused(
            &g,
            "denied",
            &jail(&g, &args, &["tcp", NOWHERE, "9"]),
            "connect",
            "EACCES",
        );
    }
    // A bad rule: one line naming the file, the line and why.
    std::fs::write(
        &policy,
        "[net]\nrules = [\"allow connect example.org:443\"]\n",
    )
    .expect("write");
    let out = common::run_with_timeout(
        Command::new(common::ujail_bin()).args(["check", &p]),
        WATCHDOG,
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    f.check(
        out.status.code() == Some(125)
            && err.lines().count() == 1
            && err.contains("site.toml:2: net.rules")
            && err.contains("IP address"),
        || format!("bad rule: {:?} {err:?}", out.status),
    );
    let _ = std::fs::remove_dir_all(&dir);
    f.finish();
}

#[test]
fn ask_without_a_terminal_denies_and_says_why() {
    let port = tcp_server("127.0.0.1:0").to_string();
    let mut f = Failures::default();
    for g in common::guests() {
        // setsid: no controlling terminal, so /dev/tty cannot be opened.
        let mut cmd = Command::new("setsid");
        cmd.arg(common::ujail_bin())
            .args(["run", "--net", "ask", "--"])
            .arg(&g.path)
            .args(["net", "tcp", "127.0.0.1", &port])
            .env_remove("LD_LIBRARY_PATH");
        let r = Run::from(&common::run_with_timeout(&mut cmd, WATCHDOG));
        f.refused(&g, "ask", &r, "connect", "EACCES");
        f.check(r.stderr.contains("no terminal to ask"), || {
            format!("{}: {:?}", g.name, r.stderr)
        });
    }
    f.finish();
}

#[test]
fn audit_allows_and_logs_what_would_be_denied() {
    let mut f = Failures::default();
    for g in common::guests() {
        let r = jail(
            &g,
            &["--audit", "--net", "none"],
            &["socket", "inet", "stream"],
        );
        f.line(&g, "audit", &r, "ok");
        f.check(r.stderr.contains("ujail: net: would deny: pid "), || {
            format!("{}: {:?}", g.name, r.stderr)
        });
    }
    f.finish();
}

// ---------------------------------------------------------------------------
// checked equals used
// ---------------------------------------------------------------------------

/// A sibling thread flips the sockaddr between an allowed and a denied
/// address while the main thread connects: the kernel must only ever
/// connect where the check allowed. Liveness: some connects are allowed
/// and some refused (the flip lands on both sides of the check); under TCG
/// that may take more than one run.
fn race(op: &str) {
    let mut f = Failures::default();
    let n = RACE_N.to_string();
    for g in common::guests() {
        let mut live = false;
        for _attempt in 0..3 {
            let mut cmd = ujail_cmd(
                &g,
                &["--net", "none", "--allow-connect", "127.0.0.1:9"],
                &[op, "127.0.0.1", "127.0.0.2", "9", &n],
            );
            let r = Run::from(&common::run_with_timeout(&mut cmd, RACE_WATCHDOG));
            let words: Vec<&str> = r.line().split_whitespace().collect();
            let num = |k: &str| -> Option<u64> {
                let i = words.iter().position(|w| *w == k)?;
                words.get(i + 1)?.parse().ok()
            };
            let (Some(leaked), Some(allowed), Some(failed)) =
                (num("leaked"), num("allowed"), num("failed"))
            else {
                f.check(false, || {
                    format!("{} {op}: {:?} {:?}", g.name, r.stdout, r.stderr)
                });
                break;
            };
            f.check(leaked == 0, || {
                format!("{} {op}: {leaked} connects leaked ({})", g.name, r.line())
            });
            if allowed > 0 && failed > 0 {
                live = true;
                break;
            }
        }
        f.check(live, || {
            format!("{} {op}: the race never hit both sides", g.name)
        });
    }
    f.finish();
}

#[test]
fn race_connect_never_reaches_the_denied_address() {
    race("race-connect");
}

#[test]
fn race_socketcall_never_reaches_the_denied_address() {
    race("race-socketcall");
}

// ---------------------------------------------------------------------------
// a real client: busybox wget (i386, static; on the host and in the VM)
// ---------------------------------------------------------------------------

#[test]
fn busybox_wget_under_each_mode() {
    let port = common::http_server("hello from the server\n");
    let url = format!("http://127.0.0.1:{port}/");
    let wget = |args: &[&str]| {
        let mut cmd = Command::new(common::ujail_bin());
        cmd.arg("run")
            .args(args)
            .args(["--", "/bin/busybox", "wget", "-q", "-O", "-", &url]);
        Run::from(&common::run_with_timeout(&mut cmd, WATCHDOG))
    };
    let mut f = Failures::default();
    let r = wget(&["--net", "loopback"]);
    f.check(
        r.stdout == "hello from the server\n" && r.code == Some(0),
        || format!("loopback: {r:?}"),
    );
    let allow = format!("127.0.0.1:{port}");
    let r = wget(&["--allow-connect", &allow]);
    f.check(r.stdout == "hello from the server\n", || {
        format!("allow-connect: {r:?}")
    });
    let r = wget(&["--net", "none"]);
    f.check(
        r.stdout.is_empty()
            && r.code != Some(0)
            && r.stderr.contains("ujail: net: denied: pid ")
            && r.stderr.contains("wget: socket: Permission denied"),
        || format!("none: {r:?}"),
    );
    let r = wget(&["--allow-connect", "127.0.0.1:1"]);
    f.check(
        r.stdout.is_empty()
            && r.stderr
                .contains(&format!("connect 127.0.0.1:{port}: EACCES")),
        || format!("other port: {r:?}"),
    );
    f.finish();
}

/// `ujail-guest pty ANSWER ujail run --net ask ... -- guest net tcp ...`:
/// the question on the terminal, the answer typed.
fn ask(g: &Guest, answer: &str, extra: &[&str], port: &str) -> Run {
    let mut cmd = Command::new(&g.path);
    cmd.args(["pty", answer])
        .arg(common::ujail_bin())
        .args(["run", "--net", "ask"])
        .args(extra)
        .arg("--")
        .arg(&g.path)
        .args(["net", "tcp", "127.0.0.1", port])
        .env_remove("LD_LIBRARY_PATH");
    Run::from(&common::run_with_timeout(&mut cmd, WATCHDOG))
}

#[test]
fn ask_on_the_terminal_once_always_never() {
    let port = tcp_server("127.0.0.1:0").to_string();
    let question =
        format!("wants to connect to 127.0.0.1:{port}: allow [o]nce, [a]lways, [n]ever? ");
    let mut f = Failures::default();
    for g in common::guests() {
        let save = std::env::temp_dir().join(unique("answers"));
        let save_s = save.to_str().expect("utf-8").to_string();
        let r = ask(&g, "a", &["--net-save", &save_s], &port);
        let lines: Vec<&str> = r.stdout.lines().collect();
        f.check(
            lines.first() == Some(&"reply pong")
                && lines
                    .get(1)
                    .is_some_and(|l| l.starts_with("tty: ujail: pid ") && l.contains(&question)),
            || format!("{} always: {r:?}", g.name),
        );
        let saved = std::fs::read_to_string(&save).unwrap_or_default();
        f.check(
            saved.contains("[net]")
                && saved.contains(&format!("\"allow connect 127.0.0.1:{port}\"")),
            || format!("{} saved answers: {saved:?}", g.name),
        );
        // The saved file is a policy: the same connect needs no question.
        let r = jail(
            &g,
            &["--policy", &save_s, "--net", "none"],
            &["tcp", "127.0.0.1", &port],
        );
        f.line(&g, "saved policy", &r, "reply pong");
        let _ = std::fs::remove_file(&save);

        let r = ask(&g, "n", &[], &port);
        f.check(
            r.stdout.starts_with("connect: EACCES\n") && r.stderr.contains("[asked: never]"),
            || format!("{} never: {r:?}", g.name),
        );
        // End of input on the terminal: denied, and the log says why.
        let r = ask(&g, "-", &[], &port);
        f.check(
            r.stdout.starts_with("connect: EACCES\n")
                && r.stderr.contains("end of input on the terminal"),
            || format!("{} no answer: {r:?}", g.name),
        );
    }
    f.finish();
}

#[test]
fn source_routes_are_refused() {
    let mut f = Failures::default();
    for g in common::guests() {
        let args = ["srcroute", "127.0.0.1", "9", "127.0.0.2"];
        // Without a network policy the kernel takes the route.
        let r = jail(&g, &[] as &[&str], &args);
        f.check(r.stdout == "setsockopt ok\nsendmsg ok\n", || {
            format!("{} no policy: {r:?}", g.name)
        });
        // With one, the packet would go where the policy never looked.
        let r = jail(&g, &["--net", "loopback"], &args);
        f.check(
            r.stdout == "setsockopt: EPERM\nsendmsg: EPERM\n"
                && r.stderr.contains("source routing"),
            || format!("{} loopback: {r:?}", g.name),
        );
    }
    f.finish();
}

#[test]
fn a_receive_that_cannot_show_its_source_is_judged_as_from_an_unknown_peer() {
    let mut f = Failures::default();
    for g in common::guests() {
        let base = ["--net", "none", "--allow-bind", "127.0.0.1:0"];
        for room in ["0", "2"] {
            let mut args = base.to_vec();
            args.extend(["--allow-accept", "127.0.0.1"]);
            let mut cmd = ujail_cmd(&g, &args, &["udp-recv-room", "127.0.0.1", "0", room]);
            let r = Run::from(&common::run_with_timeout(&mut cmd, WATCHDOG));
            f.check(
                r.stdout.starts_with("bound ") && r.stdout.ends_with("\nrecvfrom: EACCES\n"),
                || format!("{} room {room}: {r:?}", g.name),
            );
        }
        // `allow accept *` takes datagrams from anyone, unknown ones too.
        let mut args = base.to_vec();
        args.extend(["--allow-accept", "*"]);
        let mut cmd = ujail_cmd(&g, &args, &["udp-recv-room", "127.0.0.1", "0", "0"]);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn ujail");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        out.read_line(&mut first).expect("read the port line");
        let port: u16 = first
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let s = UdpSocket::bind("127.0.0.2:0").expect("bind");
        let _ = s.send_to(b"hello", ("127.0.0.1", port));
        let r = finish_server(child, out);
        f.check(r.stdout == "got hello\n", || {
            format!("{} accept *: {first:?} {r:?}", g.name)
        });
    }
    f.finish();
}
