// SPDX-License-Identifier: GPL-3.0-or-later
//! `ujail-guest net OP ARGS...`: one network operation (or a short fixed
//! sequence of them) for the network-policy tests.
//!
//! HOST is a numeric IPv4 or IPv6 address and picks the socket's family
//! (an IPv6 literal, `::ffff:127.0.0.1` included, gives `AF_INET6`). Each
//! OP prints the lines listed in `main.rs`'s usage and exits 0, or prints
//! `CALL: ENAME` (the system call that failed and its errno name) and
//! exits 1. Text received from a peer is printed with bytes outside
//! printable ASCII (and `\`) escaped as `\xNN`, so every output line is
//! one line and depends only on what the peer sent.
#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::netsys::{self, LowPage, SockAddr};
use crate::raw::errno_name;
use crate::{number, say, sys, Fail, Res};

/// Receive timeout of the UDP operations, in seconds.
const RECV_TIMEOUT_SECS: libc::time_t = 5;
/// Longest line read from a stream socket.
const LINE_MAX: usize = 256;
/// Largest datagram printed (longer ones are truncated by the kernel).
const DGRAM_MAX: usize = 512;

/// Runs `net OP ARGS...` (`args[0]` is OP).
pub fn run(args: &[OsString]) -> Res {
    let op = args[0].to_string_lossy().into_owned();
    let rest = &args[1..];
    let want = |n: usize| -> Res {
        if rest.len() == n {
            Ok(())
        } else {
            Err(Fail::Usage(format!("`net {op}` takes {n} argument(s)")))
        }
    };
    let inet =
        || -> Result<SocketAddr, Fail> { Ok(SocketAddr::new(host(&rest[0])?, number(&rest[1])?)) };
    match op.as_str() {
        "tcp" => want(2).and_then(|()| tcp(inet()?)),
        "udp" => want(2).and_then(|()| udp(inet()?)),
        "udp-connected" => want(2).and_then(|()| udp_connected(inet()?)),
        "connect-loop" => want(3).and_then(|()| connect_loop(inet()?, number(&rest[2])?)),
        "srcroute" => want(3).and_then(|()| {
            let via = ipv4_only(SocketAddr::new(host(&rest[2])?, 0))?;
            srcroute(ipv4_only(inet()?)?, via)
        }),
        "udp-recv-room" => want(3).and_then(|()| udp_recv_room(inet()?, number(&rest[2])?)),
        "sendmsg" => want(2).and_then(|()| sendmsg(inet()?)),
        "sendmmsg" => want(3).and_then(|()| sendmmsg(inet()?, number(&rest[2])?)),
        "fastopen" => want(2).and_then(|()| fastopen(inet()?)),
        "unix" => want(1).and_then(|()| {
            let addr = SockAddr::unix_path(rest[0].as_bytes())
                .ok_or_else(|| Fail::Usage("PATH has a NUL or is too long".into()))?;
            unix(&addr)
        }),
        "abstract" => want(1).and_then(|()| {
            let addr = SockAddr::unix_abstract(rest[0].as_bytes())
                .ok_or_else(|| Fail::Usage("NAME is too long".into()))?;
            unix(&addr)
        }),
        "socket" if (2..=3).contains(&rest.len()) => {
            let proto = rest.get(2).map_or(Ok(0), |p| constant(p, &[]))?;
            socket(
                constant(&rest[0], FAMILIES)?,
                constant(&rest[1], TYPES)?,
                proto,
            )
        }
        "socket" => Err(Fail::Usage("`net socket` takes FAMILY TYPE [PROTO]".into())),
        "socketpair" => want(0).and_then(|()| socketpair()),
        "listen" => want(2).and_then(|()| listen(inet()?)),
        "listen-unbound" => want(0).and_then(|()| listen_unbound()),
        "udp-recv" => want(2).and_then(|()| udp_recv(inet()?)),
        "socketcall-connect" => want(2).and_then(|()| socketcall_connect(ipv4_only(inet()?)?)),
        "race-connect" | "race-socketcall" => want(4).and_then(|()| {
            let port = number(&rest[2])?;
            let allowed = ipv4_only(SocketAddr::new(host(&rest[0])?, port))?;
            let denied = ipv4_only(SocketAddr::new(host(&rest[1])?, port))?;
            race(allowed, denied, number(&rest[3])?, op == "race-socketcall")
        }),
        other => Err(Fail::Usage(format!("unknown `net` operation `{other}`"))),
    }
}

/// Parses a numeric IPv4 or IPv6 address.
fn host(arg: &OsString) -> Result<IpAddr, Fail> {
    arg.to_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Fail::Usage(format!("bad address `{}`", arg.to_string_lossy())))
}

/// Refuses IPv6 where only `sockaddr_in` is supported.
fn ipv4_only(addr: SocketAddr) -> Result<SocketAddr, Fail> {
    if addr.is_ipv4() {
        Ok(addr)
    } else {
        Err(Fail::Usage(format!("`{}`: IPv4 only", addr.ip())))
    }
}

/// Names of `AF_*` constants accepted by `net socket`.
const FAMILIES: &[(&str, libc::c_int)] = &[
    ("unix", libc::AF_UNIX),
    ("inet", libc::AF_INET),
    ("inet6", libc::AF_INET6),
    ("netlink", libc::AF_NETLINK),
    ("packet", libc::AF_PACKET),
];

/// Names of `SOCK_*` types accepted by `net socket`.
const TYPES: &[(&str, libc::c_int)] = &[
    ("stream", libc::SOCK_STREAM),
    ("dgram", libc::SOCK_DGRAM),
    ("raw", libc::SOCK_RAW),
    ("seqpacket", libc::SOCK_SEQPACKET),
];

/// A name from `names`, a decimal number or `0x` hex.
fn constant(arg: &OsString, names: &[(&str, libc::c_int)]) -> Result<libc::c_int, Fail> {
    let bad = || Fail::Usage(format!("bad constant `{}`", arg.to_string_lossy()));
    let s = arg.to_str().ok_or_else(bad)?;
    if let Some(&(_, v)) = names.iter().find(|(n, _)| *n == s) {
        return Ok(v);
    }
    match s.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16)
            .map(|v| libc::c_int::from_ne_bytes(v.to_ne_bytes()))
            .map_err(|_| bad()),
        None => s.parse().map_err(|_| bad()),
    }
}

/// The errno name of an error (its text if it carries no errno).
fn ename(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(errno) => errno_name(errno),
        None => e.to_string(),
    }
}

/// Turns a failed call into "CALL: ENAME", exit status 1.
fn failed(call: &str) -> impl FnOnce(io::Error) -> Fail + '_ {
    move |e| Fail::Status(1, format!("{call}: {}", ename(&e)))
}

/// Peer-supplied bytes as one printable line: printable ASCII except `\`
/// as is, everything else as `\xNN`.
fn printable(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'\\' {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

/// An address as `ip:port`, IPv6 as `[ip]:port`.
fn show(addr: &SockAddr) -> String {
    addr.inet_addr()
        .map_or_else(|| "?".into(), |a| a.to_string())
}

/// An address's IP only (no brackets, no port).
fn show_ip(addr: &SockAddr) -> String {
    addr.ip().map_or_else(|| "?".into(), |ip| ip.to_string())
}

/// The `AF_*` family of an IP address.
fn family(ip: IpAddr) -> libc::c_int {
    match ip {
        IpAddr::V4(_) => libc::AF_INET,
        IpAddr::V6(_) => libc::AF_INET6,
    }
}

/// `socket(family of addr, ty, 0)`.
fn inet_socket(addr: SocketAddr, ty: libc::c_int) -> Result<OwnedFd, Fail> {
    netsys::socket(family(addr.ip()), ty, 0).map_err(failed("socket"))
}

/// Writes all of `msg` in one `write(2)`; a short write is an error.
fn write_msg(fd: &OwnedFd, msg: &[u8]) -> Res {
    let n = sys::write(fd.as_raw_fd(), msg).map_err(failed("write"))?;
    crate::check_len("write", n, msg.len())
}

/// Reads until a newline, EOF or [`LINE_MAX`] bytes; the bytes before the
/// newline, or `None` if EOF came before any byte.
fn read_line(fd: &OwnedFd) -> io::Result<Option<Vec<u8>>> {
    let mut buf = [0u8; LINE_MAX];
    let mut n = 0;
    while n < buf.len() && !buf[..n].contains(&b'\n') {
        match sys::read(fd.as_raw_fd(), &mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if n == 0 {
        return Ok(None);
    }
    let line = buf[..n].split(|&b| b == b'\n').next().unwrap_or_default();
    Ok(Some(line.to_vec()))
}

/// Reads a line and prints `reply LINE` (`reply ` alone on EOF).
fn reply_line(fd: &OwnedFd) -> Res {
    let line = read_line(fd).map_err(failed("read"))?.unwrap_or_default();
    say(&format!("reply {}", printable(&line)))
}

/// Sets the UDP receive timeout.
fn recv_timeout(fd: &OwnedFd) -> Res {
    netsys::set_rcvtimeo(fd, RECV_TIMEOUT_SECS).map_err(failed("setsockopt"))
}

/// `net tcp HOST PORT`.
fn tcp(addr: SocketAddr) -> Res {
    let fd = inet_socket(addr, libc::SOCK_STREAM)?;
    netsys::connect(&fd, &SockAddr::inet(addr)).map_err(failed("connect"))?;
    write_msg(&fd, b"ping\n")?;
    reply_line(&fd)
}

/// `net udp HOST PORT`: unconnected sendto/recvfrom.
fn udp(addr: SocketAddr) -> Res {
    let fd = inet_socket(addr, libc::SOCK_DGRAM)?;
    recv_timeout(&fd)?;
    let msg = b"ping";
    let n = netsys::sendto(&fd, msg, 0, Some(&SockAddr::inet(addr))).map_err(failed("sendto"))?;
    crate::check_len("sendto", n, msg.len())?;
    let mut buf = [0u8; DGRAM_MAX];
    let (n, from) = netsys::recvfrom(&fd, &mut buf).map_err(failed("recvfrom"))?;
    say(&format!(
        "reply {} from {}",
        printable(&buf[..n]),
        show(&from)
    ))
}

/// `net udp-connected HOST PORT`: connect, send, recv.
fn udp_connected(addr: SocketAddr) -> Res {
    let fd = inet_socket(addr, libc::SOCK_DGRAM)?;
    recv_timeout(&fd)?;
    netsys::connect(&fd, &SockAddr::inet(addr)).map_err(failed("connect"))?;
    let msg = b"ping";
    let n = netsys::send(&fd, msg).map_err(failed("send"))?;
    crate::check_len("send", n, msg.len())?;
    let mut buf = [0u8; DGRAM_MAX];
    let n = netsys::recv(&fd, &mut buf).map_err(failed("recv"))?;
    say(&format!("reply {}", printable(&buf[..n])))
}

/// `net connect-loop HOST PORT N`: connect one UDP socket to HOST:PORT N
/// times (no packet is sent): the cost of a judged connect, for the bench.
fn connect_loop(addr: SocketAddr, n: u64) -> Res {
    let fd = inet_socket(addr, libc::SOCK_DGRAM)?;
    let to = SockAddr::inet(addr);
    for _ in 0..n {
        netsys::connect(&fd, &to).map_err(failed("connect"))?;
    }
    say(&format!("done {n}"))
}

/// `net srcroute HOST PORT VIA`: a loose source route through VIA, set
/// with `setsockopt(IP_OPTIONS)` and sent as `IP_RETOPTS` ancillary data
/// of a `sendmsg` to HOST:PORT; one line each: "setsockopt ok" or
/// "setsockopt: ENAME", "sendmsg ok" or "sendmsg: ENAME".
fn srcroute(to: SocketAddr, via: SocketAddr) -> Res {
    let std::net::IpAddr::V4(via) = via.ip() else {
        return Err(Fail::Usage("VIA must be IPv4".into()));
    };
    // NOP, LSRR (0x83), length 7, pointer 4, one hop.
    let mut opt = vec![1u8, 0x83, 7, 4];
    opt.extend_from_slice(&via.octets());
    let fd = inet_socket(to, libc::SOCK_DGRAM)?;
    match netsys::setsockopt_bytes(&fd, libc::IPPROTO_IP, libc::IP_OPTIONS, &opt) {
        Ok(()) => say("setsockopt ok")?,
        Err(e) => say(&format!("setsockopt: {}", ename(&e)))?,
    }
    let fd = inet_socket(to, libc::SOCK_DGRAM)?;
    // struct cmsghdr {len, level, type} (len is a size_t), then the data.
    let hdr = std::mem::size_of::<libc::cmsghdr>();
    let mut control = vec![0u8; (hdr + opt.len()).next_multiple_of(std::mem::size_of::<usize>())];
    let len = (hdr + opt.len()).to_le_bytes();
    let w = std::mem::size_of::<usize>();
    control[..w].copy_from_slice(&len[..w]);
    control[w..w + 4].copy_from_slice(&libc::IPPROTO_IP.to_le_bytes());
    control[w + 4..w + 8].copy_from_slice(&libc::IP_RETOPTS.to_le_bytes());
    control[hdr..hdr + opt.len()].copy_from_slice(&opt);
    match netsys::sendmsg_control(&fd, b"route", &SockAddr::inet(to), &mut control) {
        Ok(_) => say("sendmsg ok"),
        Err(e) => say(&format!("sendmsg: {}", ename(&e))),
    }
}

/// `net udp-recv-room HOST PORT ROOM`: bind, "bound PORT", then one
/// `recvfrom` whose source buffer has ROOM bytes (5 s timeout): "got TEXT"
/// or "recvfrom: ENAME".
fn udp_recv_room(addr: SocketAddr, room: u32) -> Res {
    let fd = inet_socket(addr, libc::SOCK_DGRAM)?;
    netsys::bind(&fd, &SockAddr::inet(addr)).map_err(failed("bind"))?;
    recv_timeout(&fd)?;
    let local = netsys::getsockname(&fd).map_err(failed("getsockname"))?;
    say(&format!(
        "bound {}",
        local.inet_addr().map_or(0, |a| a.port())
    ))?;
    let mut buf = [0u8; DGRAM_MAX];
    let n = netsys::recvfrom_room(&fd, &mut buf, room).map_err(failed("recvfrom"))?;
    say(&format!("got {}", printable(&buf[..n])))
}

/// `net sendmsg HOST PORT`: sendmsg and recvmsg, both with `msg_name`.
fn sendmsg(addr: SocketAddr) -> Res {
    let fd = inet_socket(addr, libc::SOCK_DGRAM)?;
    recv_timeout(&fd)?;
    let msg = b"ping";
    let n = netsys::sendmsg(&fd, msg, &SockAddr::inet(addr)).map_err(failed("sendmsg"))?;
    crate::check_len("sendmsg", n, msg.len())?;
    let mut buf = [0u8; DGRAM_MAX];
    let (n, from) = netsys::recvmsg(&fd, &mut buf).map_err(failed("recvmsg"))?;
    say(&format!(
        "reply {} from {}",
        printable(&buf[..n]),
        show(&from)
    ))
}

/// `net sendmmsg HOST PORT N`: one sendmmsg of `m0`..`m{N-1}`.
fn sendmmsg(addr: SocketAddr, n: u32) -> Res {
    let fd = inet_socket(addr, libc::SOCK_DGRAM)?;
    let msgs: Vec<Vec<u8>> = (0..n).map(|i| format!("m{i}").into_bytes()).collect();
    let (sent, lens) =
        netsys::sendmmsg(&fd, &msgs, &SockAddr::inet(addr)).map_err(failed("sendmmsg"))?;
    say(&format!("sent {sent}"))?;
    for (i, len) in lens.iter().enumerate() {
        say(&format!("len {i} {len}"))?;
    }
    Ok(())
}

/// `net fastopen HOST PORT`: connect and send in one `sendto(MSG_FASTOPEN)`.
fn fastopen(addr: SocketAddr) -> Res {
    let fd = inet_socket(addr, libc::SOCK_STREAM)?;
    let msg = b"ping\n";
    let n = netsys::sendto(&fd, msg, libc::MSG_FASTOPEN, Some(&SockAddr::inet(addr)))
        .map_err(failed("sendto"))?;
    crate::check_len("sendto", n, msg.len())?;
    reply_line(&fd)
}

/// `net unix PATH` and `net abstract NAME`.
fn unix(addr: &SockAddr) -> Res {
    let fd = netsys::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0).map_err(failed("socket"))?;
    netsys::connect(&fd, addr).map_err(failed("connect"))?;
    write_msg(&fd, b"ping\n")?;
    reply_line(&fd)
}

/// `net socket FAMILY TYPE [PROTO]`.
fn socket(family: libc::c_int, ty: libc::c_int, proto: libc::c_int) -> Res {
    let fd = netsys::socket(family, ty, proto).map_err(failed("socket"))?;
    drop(fd);
    say("ok")
}

/// `net socketpair`: `hi` from one end to the other.
fn socketpair() -> Res {
    let (a, b) = netsys::socketpair().map_err(failed("socketpair"))?;
    write_msg(&a, b"hi")?;
    let mut buf = [0u8; 16];
    let n = sys::read(b.as_raw_fd(), &mut buf).map_err(failed("read"))?;
    say(&format!("pair {}", printable(&buf[..n])))
}

/// `net listen HOST PORT`: serve one connection.
fn listen(addr: SocketAddr) -> Res {
    let fd = inet_socket(addr, libc::SOCK_STREAM)?;
    netsys::bind(&fd, &SockAddr::inet(addr)).map_err(failed("bind"))?;
    netsys::listen(&fd, 16).map_err(failed("listen"))?;
    let local = netsys::getsockname(&fd).map_err(failed("getsockname"))?;
    let port = local.inet_addr().map_or(0, |a| a.port());
    say(&format!("listening {port}"))?;
    let (conn, peer) = netsys::accept(&fd).map_err(failed("accept"))?;
    let peer = show_ip(&peer);
    match read_line(&conn) {
        Ok(Some(line)) => {
            write_msg(&conn, b"pong\n")?;
            say(&format!("accepted {peer} {}", printable(&line)))
        }
        Ok(None) => say(&format!("accepted {peer} EOF")),
        Err(e) => Err(Fail::Status(
            1,
            format!("accepted {peer} read: {}", ename(&e)),
        )),
    }
}

/// `net listen-unbound`: listen(2) on a socket that was never bound.
fn listen_unbound() -> Res {
    let fd = netsys::socket(libc::AF_INET, libc::SOCK_STREAM, 0).map_err(failed("socket"))?;
    netsys::listen(&fd, 16).map_err(failed("listen"))?;
    say("listening")
}

/// `net udp-recv HOST PORT`: bind, then up to two datagrams.
fn udp_recv(addr: SocketAddr) -> Res {
    let fd = inet_socket(addr, libc::SOCK_DGRAM)?;
    netsys::bind(&fd, &SockAddr::inet(addr)).map_err(failed("bind"))?;
    recv_timeout(&fd)?;
    let local = netsys::getsockname(&fd).map_err(failed("getsockname"))?;
    say(&format!(
        "bound {}",
        local.inet_addr().map_or(0, |a| a.port())
    ))?;
    let mut buf = [0u8; DGRAM_MAX];
    for _ in 0..2 {
        let (n, from) = netsys::recvfrom(&fd, &mut buf).map_err(failed("recvfrom"))?;
        say(&format!(
            "got {} from {}",
            printable(&buf[..n]),
            show_ip(&from)
        ))?;
    }
    Ok(())
}

/// `net socketcall-connect HOST PORT`: socket and connect through the
/// i386 `socketcall` multiplexer, then a line as for `tcp`.
fn socketcall_connect(addr: SocketAddr) -> Res {
    let page = LowPage::new().map_err(failed("mmap"))?;
    page.put_addr(&SockAddr::inet(addr));
    let fd = page
        .socketcall_socket(libc::AF_INET, libc::SOCK_STREAM, 0)
        .map_err(failed("socketcall"))?;
    page.socketcall_connect(&fd).map_err(failed("socketcall"))?;
    drop(page);
    write_msg(&fd, b"ping\n")?;
    reply_line(&fd)
}

/// `net race-connect` / `race-socketcall ALLOWED_IP DENIED_IP PORT N`: N
/// UDP connects of one `sockaddr_in` whose address another thread flips
/// between ALLOWED and DENIED; prints `leaked K allowed A failed F` (K:
/// connected to anything but ALLOWED:PORT, read back with getpeername).
fn race(allowed: SocketAddr, denied: SocketAddr, n: u64, socketcall: bool) -> Res {
    let word = |a: SocketAddr| match a.ip() {
        IpAddr::V4(ip) => u32::from_ne_bytes(ip.octets()),
        IpAddr::V6(_) => 0,
    };
    let (a, d) = (word(allowed), word(denied));
    let page = LowPage::new().map_err(failed("mmap"))?;
    page.put_addr(&SockAddr::inet(allowed));
    let stop = AtomicBool::new(false);
    let started = AtomicBool::new(false);
    let (mut leaked, mut ok, mut failed_n) = (0u64, 0u64, 0u64);
    std::thread::scope(|s| -> Res {
        let flipper = s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                page.sin_addr().store(d, Ordering::Relaxed);
                std::hint::spin_loop();
                page.sin_addr().store(a, Ordering::Relaxed);
                started.store(true, Ordering::Relaxed);
                std::hint::spin_loop();
            }
        });
        // A thread may take longer to start than the N connects take.
        while !started.load(Ordering::Relaxed) && !flipper.is_finished() {
            std::thread::yield_now();
        }
        let res = (|| -> Res {
            for _ in 0..n {
                let (fd, conn) = if socketcall {
                    let fd = page
                        .socketcall_socket(libc::AF_INET, libc::SOCK_DGRAM, 0)
                        .map_err(failed("socketcall"))?;
                    let conn = page.socketcall_connect(&fd);
                    (fd, conn)
                } else {
                    let fd = inet_socket(allowed, libc::SOCK_DGRAM)?;
                    let conn = page.raw_connect(&fd);
                    (fd, conn)
                };
                if conn.is_err() {
                    failed_n += 1;
                    continue;
                }
                let peer = netsys::getpeername(&fd).map_err(failed("getpeername"))?;
                if peer.inet_addr() == Some(allowed) {
                    ok += 1;
                } else {
                    leaked += 1;
                }
            }
            Ok(())
        })();
        stop.store(true, Ordering::Relaxed);
        flipper
            .join()
            .map_err(|_| Fail::Status(1, "race: flipper panicked".into()))?;
        res
    })?;
    say(&format!("leaked {leaked} allowed {ok} failed {failed_n}"))
}
