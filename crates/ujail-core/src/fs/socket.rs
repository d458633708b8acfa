// SPDX-License-Identifier: GPL-3.0-or-later
//! Socket calls: the network policy ([`crate::net`]) and unix path sockets
//! (the filesystem rules), for the direct calls of both ABIs and the i386
//! `socketcall` multiplexer.
//!
//! **Checked equals used.** Whenever an address is judged, the kernel gets
//! the tracer's copy of it in the thread's read-only scratch area, never the
//! program's buffer: `connect`, `bind` and `sendto` get a copied sockaddr;
//! `sendmsg` a copied `msghdr` whose `msg_name` points at a copied address;
//! `socketcall` a copied argument array (so its sub-call, socket family and
//! pointers are the ones judged). `sendmmsg`, whose kernel side writes each
//! message's `msg_len` back (which a read-only copy cannot take), is run as
//! a `sendmsg` of its first message; the tracer writes `msg_len` and returns
//! 1, and the program sends the rest with its next call, as it must for any
//! partial `sendmmsg`.
//!
//! **Results.** `listen` on an inet socket that is not bound is judged as a
//! bind to the wildcard address (the kernel binds it there). An accepted
//! connection from a peer the rules refuse is reset (the peer sees a reset,
//! queued data is dropped, the program's reads fail with `ENOTCONN`). A datagram from a refused source, seen in
//! the address `recvfrom`/`recvmsg`/`recvmmsg` return, is dropped and the
//! call repeated, so the program waits for the next one; on an unconnected
//! inet datagram socket, a receive without a source buffer is judged as a
//! datagram from an unknown peer (`0.0.0.0:0`). The socket behind an fd is
//! looked at through a `pidfd_getfd(2)` copy.
#![forbid(unsafe_code)]

use super::*;
use std::os::fd::AsFd;

use ujail_net::addr::{SockAddr, AF_INET, AF_INET6, SOCK_DGRAM};
use ujail_net::rules::{socket_kind, Direction};

use crate::net::Caller;
use crate::sys;

const MSG_PEEK: u64 = 2;
const MSG_FASTOPEN: u64 = 0x2000_0000;
/// `sizeof(struct sockaddr_storage)`: longer addresses are refused by the
/// kernel (`EINVAL`), or clipped to it in a `msghdr`.
const SOCKADDR_MAX: u64 = 128;
/// Words each `socketcall` sub-call reads (`nargs` in net/socket.c).
const SOCKETCALL_NARGS: [usize; 21] = [
    0, 3, 3, 3, 2, 3, 3, 3, 4, 4, 4, 6, 6, 2, 5, 5, 3, 3, 4, 5, 4,
];

/// A result the policy judges when the call returns.
#[derive(Debug, Clone, Copy)]
pub(super) enum Pending {
    /// accept/accept4: the new fd's peer.
    Accept,
    /// A receive on an inet datagram socket (`sub` with its arguments
    /// `words`): the sources it returns, or, on a socket that was
    /// connected at the entry, that it still is.
    Receive {
        sub: &'static str,
        words: [u64; 6],
        fd: i32,
        peek: bool,
        connected: bool,
        /// recvfrom: the room for the source at entry.
        cap: u64,
    },
    /// A `sendmmsg` run as `sendmsg` of its first message at `vec`.
    SendmmsgFirst { vec: u64 },
}

/// A judged socket call: the arguments (direct) or words (socketcall) the
/// kernel must use, and its name if it changed.
struct SockOut {
    sub: &'static str,
    words: [u64; 6],
    /// Copies were placed or the name changed: rewrite.
    changed: bool,
    /// Something was judged: a socketcall's words must be copied.
    judged: bool,
}

/// What a socket call looks like to the judge.
struct SockCall<'a> {
    call: &'a Call,
    sub: &'static str,
    /// The log's name of the call (`connect`, `socketcall:connect`).
    shown: String,
}

impl<H: Handler> FsPolicy<H> {
    /// Judge a socket call: `name` is the direct call or `socketcall`.
    pub(super) fn check_socket(
        &mut self,
        call: &Call,
        name: &str,
        mem: &mut dyn Memory,
    ) -> Checked {
        if name == "socketcall" {
            return self.check_socketcall(call, mem);
        }
        let Some(sub) = socket_name(name) else {
            return Ok(None);
        };
        let sc = SockCall {
            call,
            sub,
            shown: name.to_string(),
        };
        let out = self.judge_socket_call(&sc, call.args, mem)?;
        if !out.changed {
            return Ok(None);
        }
        let nr = if out.sub == sub {
            call.nr
        } else {
            table::number(call.abi, out.sub).ok_or_else(|| Refusal {
                errno: libc::ENOSYS,
                what: format!("no {} call in this ABI", out.sub),
                logged: true,
            })?
        };
        Ok(Some(Rewrite {
            nr,
            args: out.words,
        }))
    }

    /// i386 `socketcall(call, args)`: the words are read once and, when
    /// anything was judged, the kernel reads the tracer's copy of them.
    fn check_socketcall(&mut self, call: &Call, mem: &mut dyn Memory) -> Checked {
        let Some(sub) = classify::socketcall_name(call.args[0]) else {
            return Ok(None);
        };
        let n = usize::try_from(call.args[0])
            .ok()
            .and_then(|i| SOCKETCALL_NARGS.get(i))
            .copied()
            .unwrap_or(6);
        let mut raw = [0u8; 24];
        mem.read(RemoteAddr(call.args[1]), &mut raw[..4 * n])
            .map_err(|e| mem_refusal(&e))?;
        let words: [u64; 6] = std::array::from_fn(|i| {
            u64::from(u32::from_le_bytes([
                raw[4 * i],
                raw[4 * i + 1],
                raw[4 * i + 2],
                raw[4 * i + 3],
            ]))
        });
        let sc = SockCall {
            call,
            sub,
            shown: format!("socketcall:{sub}"),
        };
        let out = self.judge_socket_call(&sc, words, mem)?;
        if !(out.changed || out.judged) {
            return Ok(None);
        }
        let number = if out.sub == sub {
            call.args[0]
        } else {
            socketcall_number(out.sub).ok_or_else(|| Refusal {
                errno: libc::ENOSYS,
                what: format!("no socketcall {}", out.sub),
                logged: true,
            })?
        };
        let bytes: Vec<u8> = out
            .words
            .iter()
            .flat_map(|w| u32::try_from(w & 0xffff_ffff).unwrap_or(0).to_le_bytes())
            .collect();
        let placed = mem.place(&bytes).ok_or_else(no_scratch)?;
        let mut args = call.args;
        args[0] = number;
        args[1] = placed.0;
        Ok(Some(Rewrite { nr: call.nr, args }))
    }

    fn caller<'a>(&self, sc: &'a SockCall<'_>) -> Caller<'a> {
        Caller {
            pid: sc.call.pid,
            call: &sc.shown,
        }
    }

    fn judge_socket_call(
        &mut self,
        sc: &SockCall<'_>,
        a: [u64; 6],
        mem: &mut dyn Memory,
    ) -> Result<SockOut, Refusal> {
        let mut out = SockOut {
            sub: sc.sub,
            words: a,
            changed: false,
            judged: false,
        };
        let active = self.net.is_active();
        let fd = fd_arg(sc.call.abi, a[0]);
        match sc.sub {
            "socket" | "socketpair" => {
                let kind = socket_kind(a[0] & 0xffff_ffff, a[1] & 0xffff_ffff, a[2] & 0xffff_ffff);
                let who = self.caller(sc);
                self.net.judge_socket(&who, kind).map_err(net_refusal)?;
                out.judged = true;
            }
            "connect" | "bind" => {
                let (dir, op) = if sc.sub == "bind" {
                    (Direction::Bind, PathOp::Create)
                } else {
                    (Direction::Connect, PathOp::Connect)
                };
                if let Some((p, l)) = self.check_addr(sc, dir, op, a[1], a[2], mem)? {
                    out.words[1] = p;
                    out.words[2] = l;
                    out.changed = true;
                }
                out.judged = true;
            }
            "sendto" => {
                let dir = if a[3] & MSG_FASTOPEN != 0 {
                    Direction::Connect
                } else {
                    Direction::Send
                };
                if let Some((p, l)) = self.check_addr(sc, dir, PathOp::Connect, a[4], a[5], mem)? {
                    out.words[4] = p;
                    out.words[5] = l;
                    out.changed = true;
                }
                out.judged = true;
            }
            "sendmsg" => {
                let dir = if a[2] & MSG_FASTOPEN != 0 {
                    Direction::Connect
                } else {
                    Direction::Send
                };
                if let Some(copy) = self.check_msghdr(sc, dir, a[1], mem, active)? {
                    out.words[1] = copy;
                    out.changed = true;
                }
                out.judged = true;
            }
            "sendmmsg" => {
                let vlen = a[2] & 0xffff_ffff;
                if vlen == 0 {
                    return Ok(out);
                }
                if !active || self.audit {
                    // Unix path names are judged (not copied): the kernel
                    // writes msg_len back into the vector.
                    let stride = mmsghdr_size(sc.call.abi);
                    for i in 0..vlen.min(1024) {
                        self.check_msghdr(sc, Direction::Send, a[1] + i * stride, mem, false)?;
                    }
                    return Ok(out);
                }
                let dir = if a[3] & MSG_FASTOPEN != 0 {
                    Direction::Connect
                } else {
                    Direction::Send
                };
                let copy = self
                    .check_msghdr(sc, dir, a[1], mem, true)?
                    .ok_or_else(no_scratch)?;
                out.sub = "sendmsg";
                out.words = [a[0], copy, a[3], 0, 0, 0];
                out.changed = true;
                out.judged = true;
                self.expect(sc.call.pid, Pending::SendmmsgFirst { vec: a[1] });
            }
            "listen" if active => {
                out.judged = true;
                self.check_listen(sc, fd)?;
            }
            "accept" | "accept4" if active => {
                out.judged = true;
                self.expect(sc.call.pid, Pending::Accept);
            }
            "recvfrom" | "recvmsg" | "recvmmsg" | "recvmmsg_time64" | "recv" if active => {
                out.judged = true;
                self.check_receive(sc, fd, a, mem)?;
            }
            "setsockopt" if active => {
                out.judged = true;
                check_sockopt(a[1] & 0xffff_ffff, a[2] & 0xffff_ffff)?;
            }
            _ => {}
        }
        Ok(out)
    }

    /// Judge the address at `addr` (`len` bytes) for `dir`; `Some((copy,
    /// len))` when the kernel must read a placed copy instead.
    fn check_addr(
        &mut self,
        sc: &SockCall<'_>,
        dir: Direction,
        op: PathOp,
        addr: u64,
        len: u64,
        mem: &mut dyn Memory,
    ) -> Result<Option<(u64, u64)>, Refusal> {
        let len = len & 0xffff_ffff;
        if addr == 0 || len > SOCKADDR_MAX {
            // No address, or one the kernel refuses (EINVAL) unread.
            return Ok(None);
        }
        let mut bytes = vec![0u8; usize::try_from(len).unwrap_or(0)];
        mem.read(RemoteAddr(addr), &mut bytes)
            .map_err(|e| mem_refusal(&e))?;
        let parsed = SockAddr::parse(&bytes);
        if let Ok(SockAddr::UnixPath(path)) = &parsed {
            if !self.rules.is_empty() {
                return self.check_unix_path(sc.call, path, op, mem).map(Some);
            }
        }
        if !self.net.is_active() {
            return Ok(None);
        }
        if let Ok(sa) = &parsed {
            let who = self.caller(sc);
            self.net.judge_addr(&who, dir, sa).map_err(net_refusal)?;
        }
        // Judged (or malformed, which the kernel refuses): the kernel reads
        // the bytes that were looked at.
        let placed = mem.place(&bytes).ok_or_else(no_scratch)?;
        Ok(Some((placed.0, len)))
    }

    /// A unix path socket: resolved, judged by the path rules, and placed
    /// as the resolved absolute path.
    fn check_unix_path(
        &mut self,
        call: &Call,
        path: &[u8],
        op: PathOp,
        mem: &mut dyn Memory,
    ) -> Result<(u64, u64), Refusal> {
        let view = self.view(call);
        let res =
            resolve::resolve(&view, None, path, op != PathOp::Create).map_err(|e| Refusal {
                errno: e.errno(),
                what: format!("socket {:?}: {e}", String::from_utf8_lossy(path)),
                logged: false,
            })?;
        self.judge(&res, op, mem)?;
        let canon: Vec<u8> = match res {
            Resolution::Path(r) => {
                let canon = r.path.as_os_str().as_bytes().to_vec();
                // Anchored (see the anchor module); a name whose anchored
                // form does not fit in sun_path is refused.
                match self.anchors.mode(call.pid) {
                    super::Mode::Anchor => {
                        let mut fds = Vec::new();
                        match self.anchors.anchor(&r, op != PathOp::Create, &mut fds) {
                            Ok(Some(a)) if a.len() < 108 => {
                                self.anchoring.append(&mut fds);
                                a
                            }
                            Ok(Some(a)) => {
                                return Err(Refusal {
                                    errno: libc::ENAMETOOLONG,
                                    what: format!(
                                        "socket path {}: its anchored form {} is too long",
                                        r.path.display(),
                                        String::from_utf8_lossy(&a)
                                    ),
                                    logged: true,
                                })
                            }
                            Ok(None) => canon,
                            Err(e) => return Err(super::anchor_refusal(&r, &e)),
                        }
                    }
                    super::Mode::Refuse(errno) => return Err(super::cannot_anchor(errno)),
                    super::Mode::Plain => canon,
                }
            }
            Resolution::Anon(_) => anon_link_path(&view, None, path)?,
        };
        if canon.len() >= 108 {
            return Err(Refusal {
                errno: libc::ENAMETOOLONG,
                what: format!("socket path {}", String::from_utf8_lossy(&canon)),
                logged: true,
            });
        }
        let mut copy = AF_UNIX.to_le_bytes().to_vec();
        copy.extend_from_slice(&canon);
        copy.push(0);
        let placed = mem.place(&copy).ok_or_else(no_scratch)?;
        Ok((placed.0, u64::try_from(copy.len()).unwrap_or(0)))
    }

    /// Judge the destination in the `msghdr` at `msg`; with `copy`, place a
    /// copy of the header (with its name copied) and return its address.
    fn check_msghdr(
        &mut self,
        sc: &SockCall<'_>,
        dir: Direction,
        msg: u64,
        mem: &mut dyn Memory,
        copy: bool,
    ) -> Result<Option<u64>, Refusal> {
        let size = msghdr_size(sc.call.abi);
        let mut hdr = vec![0u8; usize::try_from(size).unwrap_or(0)];
        mem.read(RemoteAddr(msg), &mut hdr)
            .map_err(|e| mem_refusal(&e))?;
        let w = sc.call.abi.word_size();
        let word = |i: usize| {
            let mut b = [0u8; 8];
            b[..w].copy_from_slice(&hdr[i * w..(i + 1) * w]);
            u64::from_le_bytes(b)
        };
        let (name, namelen) = (word(0), word(1) & 0xffff_ffff);
        let (control, controllen) = (word(4), word(5) & 0xffff_ffff);
        // The kernel clips a longer name to sockaddr_storage.
        let namelen = namelen.min(SOCKADDR_MAX);
        let judged = if copy || !self.rules.is_empty() {
            self.check_addr(sc, dir, PathOp::Connect, name, namelen, mem)?
        } else {
            None
        };
        if !copy {
            return Ok(None);
        }
        if let Some((p, l)) = judged {
            hdr[..w].copy_from_slice(&p.to_le_bytes()[..w]);
            hdr[w..w + 4].copy_from_slice(&u32::try_from(l).unwrap_or(0).to_le_bytes());
        }
        // Ancillary data can carry a source route (IP_RETOPTS, an IPv6
        // routing header): where the datagram really goes. Checked on a
        // copy the kernel then reads.
        if control != 0 && controllen != 0 {
            if controllen > CONTROL_MAX {
                return Err(Refusal {
                    errno: libc::ENOBUFS,
                    what: format!(
                        "ancillary data of {controllen} bytes (at most {CONTROL_MAX} are judged)"
                    ),
                    logged: true,
                });
            }
            let mut cmsgs = vec![0u8; usize::try_from(controllen).unwrap_or(0)];
            mem.read(RemoteAddr(control), &mut cmsgs)
                .map_err(|e| mem_refusal(&e))?;
            check_cmsgs(sc.call.abi, &cmsgs)?;
            let placed = mem.place(&cmsgs).ok_or_else(no_scratch)?;
            hdr[4 * w..5 * w].copy_from_slice(&placed.0.to_le_bytes()[..w]);
        }
        let placed = mem.place(&hdr).ok_or_else(no_scratch)?;
        Ok(Some(placed.0))
    }

    /// `listen` on an inet socket not yet bound binds it to the wildcard
    /// address: judged as that bind.
    fn check_listen(&mut self, sc: &SockCall<'_>, fd: i32) -> Result<(), Refusal> {
        let tgid = self.tgid(sc.call.pid);
        let Ok(sock) = sys::tracee_fd(sc.call.pid, tgid, fd) else {
            return Ok(()); // not an fd: the kernel answers EBADF
        };
        let Ok(local) = sys::sock_name(sock.as_fd(), false) else {
            return Ok(()); // not a socket: ENOTSOCK
        };
        let wildcard = match SockAddr::parse(&local) {
            Ok(SockAddr::Inet(a)) if a.port() == 0 => {
                SockAddr::Inet("0.0.0.0:0".parse().ok().unwrap_or(a))
            }
            Ok(SockAddr::Inet6(a)) if a.port() == 0 => SockAddr::Inet6(
                std::net::SocketAddrV6::new(std::net::Ipv6Addr::UNSPECIFIED, 0, 0, 0),
            ),
            _ => return Ok(()),
        };
        let who = self.caller(sc);
        self.net
            .judge_addr(&who, Direction::Bind, &wildcard)
            .map_err(net_refusal)
    }

    /// Receives on an inet datagram socket: the source is judged when the
    /// call returns. A receive that cannot show its source (no or too small
    /// a source buffer) on an unconnected socket is judged now, as from an
    /// unknown peer; on a connected one, the result is kept only if the
    /// socket is still connected (a sibling may disconnect it meanwhile).
    fn check_receive(
        &mut self,
        sc: &SockCall<'_>,
        fd: i32,
        a: [u64; 6],
        mem: &mut dyn Memory,
    ) -> Result<(), Refusal> {
        let tgid = self.tgid(sc.call.pid);
        let Ok(sock) = sys::tracee_fd(sc.call.pid, tgid, fd) else {
            return Ok(());
        };
        let domain = sys::sock_opt(sock.as_fd(), libc::SOL_SOCKET, libc::SO_DOMAIN).unwrap_or(-1);
        let ty = sys::sock_opt(sock.as_fd(), libc::SOL_SOCKET, libc::SO_TYPE).unwrap_or(-1);
        let inet = domain == i32::from(AF_INET) || domain == i32::from(AF_INET6);
        let dgram = u32::try_from(ty).is_ok_and(|t| t == SOCK_DGRAM);
        if !inet || !dgram {
            // Streams were judged at connect/accept.
            return Ok(());
        }
        let connected = sys::sock_name(sock.as_fd(), true).is_ok();
        let need: u64 = if domain == i32::from(AF_INET) { 16 } else { 24 };
        let w = sc.call.abi.word_size();
        let (flags, shows_source, cap) = match sc.sub {
            "recvfrom" => {
                let cap = if a[4] != 0 && a[5] != 0 {
                    let mut len = [0u8; 4];
                    mem.read(RemoteAddr(a[5]), &mut len)
                        .map_err(|e| mem_refusal(&e))?;
                    u64::from(u32::from_le_bytes(len))
                } else {
                    0
                };
                (a[3], cap >= need, cap)
            }
            "recvmsg" => {
                let mut hdr = [0u8; 16];
                mem.read(RemoteAddr(a[1]), &mut hdr[..2 * w])
                    .map_err(|e| mem_refusal(&e))?;
                let word = |i: usize| {
                    let mut b = [0u8; 8];
                    b[..w].copy_from_slice(&hdr[i * w..(i + 1) * w]);
                    u64::from_le_bytes(b)
                };
                (a[2], word(0) != 0 && word(1) & 0xffff_ffff >= need, 0)
            }
            "recv" => (a[3], false, 0),
            // recvmmsg: each message's source, judged at the result (an
            // entry without one is refused there).
            _ => (a[3], true, 0),
        };
        if !connected && !shows_source {
            let who = self.caller(sc);
            return self
                .net
                .judge_addr(&who, Direction::Accept, &unknown_peer(domain))
                .map_err(net_refusal);
        }
        self.expect(
            sc.call.pid,
            Pending::Receive {
                sub: sc.sub,
                words: a,
                fd,
                peek: flags & MSG_PEEK != 0,
                connected,
                cap,
            },
        );
        Ok(())
    }

    fn expect(&mut self, pid: Pid, pending: Pending) {
        self.results.insert(pid, (pending, false));
    }

    /// Judge the result of a call with a [`Pending`] check.
    pub(super) fn judge_result(
        &mut self,
        call: &Call,
        pending: Pending,
        ret: i64,
        mem: &mut dyn Memory,
    ) -> ResultAction {
        let shown = match call.name {
            Some("socketcall") => format!(
                "socketcall:{}",
                classify::socketcall_name(call.args[0]).unwrap_or("?")
            ),
            n => n.unwrap_or("?").to_string(),
        };
        let who = Caller {
            pid: call.pid,
            call: &shown,
        };
        let tgid = self.tgid(call.pid);
        match pending {
            Pending::SendmmsgFirst { vec } => {
                if ret < 0 {
                    return ResultAction::Keep;
                }
                let len_at = vec + msghdr_size(call.abi);
                let sent = u32::try_from(ret).unwrap_or(u32::MAX);
                match mem.write(RemoteAddr(len_at), &sent.to_le_bytes()) {
                    Ok(()) => ResultAction::Set(1),
                    Err(_) => ResultAction::Set(-i64::from(libc::EFAULT)),
                }
            }
            Pending::Accept => {
                let Ok(new_fd) = i32::try_from(ret) else {
                    return ResultAction::Keep;
                };
                let Ok(sock) = sys::tracee_fd(call.pid, tgid, new_fd) else {
                    return ResultAction::Keep;
                };
                let Ok(peer) = sys::sock_name(sock.as_fd(), true) else {
                    return ResultAction::Keep;
                };
                let Ok(sa) = SockAddr::parse(&peer) else {
                    return ResultAction::Keep;
                };
                if self.net.judge_addr(&who, Direction::Accept, &sa).is_err() {
                    // The program holds the fd; the connection is gone.
                    let _ = sys::reset_connection(sock.as_fd());
                }
                ResultAction::Keep
            }
            Pending::Receive {
                sub,
                words,
                fd,
                peek,
                connected,
                cap,
            } => {
                if ret < 0 {
                    return ResultAction::Keep;
                }
                let sock = sys::tracee_fd(call.pid, tgid, fd).ok();
                let domain = sock
                    .as_ref()
                    .and_then(|s| sys::sock_opt(s.as_fd(), libc::SOL_SOCKET, libc::SO_DOMAIN).ok())
                    .unwrap_or(i32::from(AF_INET));
                let still_connected = sock
                    .as_ref()
                    .is_some_and(|s| sys::sock_name(s.as_fd(), true).is_ok());
                let sources = if connected && still_connected {
                    return ResultAction::Keep;
                } else if connected {
                    // Disconnected while the call waited: its source is
                    // not known.
                    vec![None]
                } else {
                    self.sources(call.abi, sub, words, cap, ret, mem)
                };
                let mut refused = false;
                for sa in &sources {
                    let sa = sa.clone().unwrap_or_else(|| unknown_peer(domain));
                    refused |= self.net.judge_addr(&who, Direction::Accept, &sa).is_err();
                }
                if !refused {
                    return ResultAction::Keep;
                }
                if peek {
                    // The refused datagram is still queued: take it out, or
                    // the repeated peek would see it again.
                    if let Some(s) = &sock {
                        let _ = sys::discard_datagram(s.as_fd());
                    }
                }
                // What the kernel copied out must not stay for the program.
                zero_received(call.abi, sub, words, ret, cap, mem);
                ResultAction::Repeat
            }
        }
    }

    /// The source addresses a receive returned (`None`: one that cannot
    /// be read or parsed, which counts as refused).
    fn sources(
        &self,
        abi: Abi,
        sub: &str,
        a: [u64; 6],
        cap: u64,
        ret: i64,
        mem: &mut dyn Memory,
    ) -> Vec<Option<SockAddr>> {
        let read_addr = |mem: &mut dyn Memory, addr: u64, len: u64| -> Option<SockAddr> {
            let len = usize::try_from(len.min(SOCKADDR_MAX)).ok()?;
            let mut b = vec![0u8; len];
            mem.read(RemoteAddr(addr), &mut b).ok()?;
            match SockAddr::parse(&b).ok()? {
                sa @ (SockAddr::Inet(_) | SockAddr::Inet6(_)) => Some(sa),
                _ => None,
            }
        };
        let msg_name = |mem: &mut dyn Memory, at: u64| -> Option<SockAddr> {
            let (p, l) = read_msg_name(abi, mem, at).ok()?;
            read_addr(mem, p, l)
        };
        match sub {
            "recvfrom" => {
                let mut l = [0u8; 4];
                let len = mem
                    .read(RemoteAddr(a[5]), &mut l)
                    .ok()
                    .map(|()| u64::from(u32::from_le_bytes(l)).min(cap));
                vec![len.and_then(|len| read_addr(mem, a[4], len))]
            }
            "recvmsg" => vec![msg_name(mem, a[1])],
            "recv" => vec![None],
            _ => {
                let n = u64::try_from(ret).unwrap_or(0).min(1024);
                let stride = mmsghdr_size(abi);
                (0..n).map(|i| msg_name(mem, a[1] + i * stride)).collect()
            }
        }
    }
}

/// The peer a datagram is judged from when its source cannot be seen.
fn unknown_peer(domain: i32) -> SockAddr {
    if domain == i32::from(AF_INET6) {
        SockAddr::Inet6(std::net::SocketAddrV6::new(
            std::net::Ipv6Addr::UNSPECIFIED,
            0,
            0,
            0,
        ))
    } else {
        SockAddr::Inet(std::net::SocketAddrV4::new(
            std::net::Ipv4Addr::UNSPECIFIED,
            0,
        ))
    }
}

/// Zero what a refused receive (`sub` with arguments `a`, result `ret`)
/// copied into the program's memory: data and source address.
fn zero_received(abi: Abi, sub: &str, a: [u64; 6], ret: i64, cap: u64, mem: &mut dyn Memory) {
    let n = u64::try_from(ret).unwrap_or(0);
    let zero = |mem: &mut dyn Memory, addr: u64, len: u64| {
        if addr != 0 && len != 0 {
            let len = usize::try_from(len.min(1 << 20)).unwrap_or(0);
            let _ = mem.write(RemoteAddr(addr), &vec![0u8; len]);
        }
    };
    let w = abi.word_size();
    let word = |b: &[u8], i: usize| {
        let mut x = [0u8; 8];
        x[..w].copy_from_slice(&b[i * w..(i + 1) * w]);
        u64::from_le_bytes(x)
    };
    // A msghdr: name, namelen, iov, iovlen; the iovecs up to `len` bytes.
    let zero_msg = |mem: &mut dyn Memory, msg: u64, len: u64| {
        let mut hdr = [0u8; 32];
        if mem.read(RemoteAddr(msg), &mut hdr[..4 * w]).is_err() {
            return;
        }
        zero(mem, word(&hdr, 0), word(&hdr, 1) & 0xffff_ffff);
        let (iov, iovlen) = (word(&hdr, 2), word(&hdr, 3).min(1024));
        let mut left = len;
        for i in 0..iovlen {
            if left == 0 {
                break;
            }
            let mut e = [0u8; 16];
            let at = iov + i * 2 * u64::try_from(w).unwrap_or(8);
            if mem.read(RemoteAddr(at), &mut e[..2 * w]).is_err() {
                return;
            }
            let take = word(&e, 1).min(left);
            zero(mem, word(&e, 0), take);
            left -= take;
        }
    };
    match sub {
        "recvfrom" | "recv" => {
            zero(mem, a[1], n);
            if sub == "recvfrom" && a[4] != 0 {
                zero(mem, a[4], cap.min(SOCKADDR_MAX));
            }
        }
        "recvmsg" => zero_msg(mem, a[1], n),
        _ => {
            let stride = mmsghdr_size(abi);
            for i in 0..n.min(1024) {
                let at = a[1] + i * stride;
                let mut len = [0u8; 4];
                let got = mem
                    .read(RemoteAddr(at + msghdr_size(abi)), &mut len)
                    .map_or(0, |()| u64::from(u32::from_le_bytes(len)));
                zero_msg(mem, at, got);
            }
        }
    }
}

/// Ancillary data longer than this is refused when judged (`ENOBUFS`);
/// SCM_RIGHTS of 253 fds and the usual IP options fit easily.
const CONTROL_MAX: u64 = 4096;

/// Socket options that set a source route — where a packet really goes,
/// whatever address the call names: `IP_OPTIONS` (LSRR/SSRR),
/// `IPV6_RTHDR`, `IPV6_2292RTHDR`, `IPV6_2292PKTOPTIONS` (which carries
/// the latter as ancillary data). Refused while the network policy is
/// active.
fn check_sockopt(level: u64, name: u64) -> Result<(), Refusal> {
    let (sol_ip, sol_ipv6) = (0, 41);
    let refused = match level {
        l if l == sol_ip => name == 4,
        l if l == sol_ipv6 => matches!(name, 5 | 6 | 57),
        _ => false,
    };
    if refused {
        return Err(source_route());
    }
    Ok(())
}

/// Walk the ancillary data of a send (`struct cmsghdr`, or the compat one
/// of an i386 call: 12-byte header, 4-byte alignment) and refuse source
/// routes: `IP_RETOPTS`/`IP_OPTIONS`, `IPV6_RTHDR`/`IPV6_2292RTHDR`.
fn check_cmsgs(abi: Abi, b: &[u8]) -> Result<(), Refusal> {
    let (hdr, align) = match abi {
        Abi::I386 => (12usize, 4usize),
        Abi::X86_64 => (16, 8),
    };
    let int = |at: usize| -> u32 {
        b.get(at..at + 4)
            .and_then(|s| s.try_into().ok())
            .map_or(0, u32::from_le_bytes)
    };
    let mut off = 0usize;
    while off + hdr <= b.len() {
        let len = match abi {
            Abi::I386 => usize::try_from(int(off)).unwrap_or(usize::MAX),
            Abi::X86_64 => usize::try_from(u64::from(int(off)) | u64::from(int(off + 4)) << 32)
                .unwrap_or(usize::MAX),
        };
        if len < hdr {
            break; // the kernel stops (EINVAL) here too
        }
        let (level, ty) = (int(off + hdr - 8), int(off + hdr - 4));
        let refused = match level {
            0 => matches!(ty, 4 | 7),
            41 => matches!(ty, 5 | 57),
            _ => false,
        };
        if refused {
            return Err(source_route());
        }
        off = match off.checked_add(len.next_multiple_of(align)) {
            Some(o) => o,
            None => break,
        };
    }
    Ok(())
}

fn source_route() -> Refusal {
    Refusal {
        errno: libc::EPERM,
        what: "source routing (IP options, IPv6 routing header) refused by the network policy"
            .into(),
        logged: true,
    }
}

/// The socket calls this module judges, by direct name.
fn socket_name(name: &str) -> Option<&'static str> {
    [
        "socket",
        "socketpair",
        "connect",
        "bind",
        "listen",
        "accept",
        "accept4",
        "sendto",
        "sendmsg",
        "sendmmsg",
        "recvfrom",
        "recvmsg",
        "recvmmsg",
        "recvmmsg_time64",
        "setsockopt",
        // socketcall's SYS_RECV (i386 has no direct recv)
        "recv",
    ]
    .into_iter()
    .find(|n| *n == name)
}

/// True for the calls [`FsPolicy::check_socket`] judges.
pub(super) fn is_socket_call(name: &str) -> bool {
    name == "socketcall" || socket_name(name).is_some()
}

/// The `socketcall` number of a sub-call name.
fn socketcall_number(sub: &str) -> Option<u64> {
    (1..=20).find(|&n| classify::socketcall_name(n) == Some(sub))
}

/// `sizeof(struct msghdr)` per ABI (the compat one for i386).
fn msghdr_size(abi: Abi) -> u64 {
    match abi {
        Abi::I386 => 28,
        Abi::X86_64 => 56,
    }
}

/// `sizeof(struct mmsghdr)`: the header, then `msg_len` (padded).
fn mmsghdr_size(abi: Abi) -> u64 {
    match abi {
        Abi::I386 => 32,
        Abi::X86_64 => 64,
    }
}

fn net_refusal(errno: i32) -> Refusal {
    // Logged by the network policy already, with the rule that decided.
    Refusal {
        errno,
        what: String::new(),
        logged: false,
    }
}

fn no_scratch() -> Refusal {
    Refusal {
        errno: libc::ENOMEM,
        what: "no scratch area for a checked copy".into(),
        logged: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socketcall_numbers_round_trip() {
        assert_eq!(socketcall_number("socket"), Some(1));
        assert_eq!(socketcall_number("sendmsg"), Some(16));
        assert_eq!(socketcall_number("sendmmsg"), Some(20));
        assert_eq!(socketcall_number("nope"), None);
    }

    #[test]
    fn source_routes_in_ancillary_data_are_refused() {
        // x86_64: cmsg_len u64, level, type; then data, 8-aligned.
        let mut ok = Vec::new();
        ok.extend_from_slice(&20u64.to_le_bytes());
        ok.extend_from_slice(&0u32.to_le_bytes()); // SOL_IP
        ok.extend_from_slice(&2u32.to_le_bytes()); // IP_TTL
        ok.extend_from_slice(&[64, 0, 0, 0, 0, 0, 0, 0]);
        assert!(check_cmsgs(Abi::X86_64, &ok).is_ok());
        let mut bad = ok.clone();
        bad.extend_from_slice(&24u64.to_le_bytes());
        bad.extend_from_slice(&41u32.to_le_bytes()); // SOL_IPV6
        bad.extend_from_slice(&57u32.to_le_bytes()); // IPV6_RTHDR
        bad.extend_from_slice(&[0; 8]);
        assert_eq!(
            check_cmsgs(Abi::X86_64, &bad).unwrap_err().errno,
            libc::EPERM
        );
        // i386: 12-byte header, 4-aligned.
        let mut b32 = Vec::new();
        b32.extend_from_slice(&16u32.to_le_bytes());
        b32.extend_from_slice(&0u32.to_le_bytes());
        b32.extend_from_slice(&7u32.to_le_bytes()); // IP_RETOPTS
        b32.extend_from_slice(&[1, 0x83, 7, 4]);
        assert!(check_cmsgs(Abi::I386, &b32).is_err());
        assert!(check_sockopt(0, 4).is_err());
        assert!(check_sockopt(41, 57).is_err());
        assert!(check_sockopt(0, 2).is_ok()); // IP_TTL
        assert!(check_sockopt(1, 4).is_ok()); // SOL_SOCKET/SO_REUSEADDR? (2) -- any SOL_SOCKET
    }

    #[test]
    fn every_address_call_is_a_socket_call() {
        for n in [
            "connect",
            "bind",
            "sendto",
            "sendmsg",
            "sendmmsg",
            "socketcall",
            "recvmmsg",
        ] {
            assert!(is_socket_call(n), "{n}");
        }
        assert!(!is_socket_call("getsockopt"));
    }
}
