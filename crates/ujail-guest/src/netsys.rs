// SPDX-License-Identifier: GPL-3.0-or-later
//! The unsafe half of `ujail-guest net ...`: socket calls through libc, the
//! i386 `socketcall(2)` multiplexer entered with `int $0x80` (also from
//! 64-bit code), and a page below 4 GiB whose words two threads share
//! without locks (the race tests).
//!
//! Socket addresses are the bytes the kernel reads ([`SockAddr`]), encoded
//! and decoded without `unsafe`; descriptors are `OwnedFd`s. Everything
//! returns `io::Result`; `net.rs` is safe code.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::sys::{self, cvt, cvt_raw};

/// `sizeof(struct sockaddr_storage)`.
const STORAGE_LEN: usize = 128;
/// `sizeof(struct sockaddr_un)`: the family and a 108-byte `sun_path`.
const SUN_LEN: usize = 2 + 108;

/// A socket address as the kernel reads it: the bytes of a `sockaddr_in`,
/// `sockaddr_in6` or `sockaddr_un` and their length.
#[derive(Debug)]
#[repr(C, align(8))]
pub struct SockAddr {
    bytes: [u8; STORAGE_LEN],
    len: libc::socklen_t,
}

/// `sa_family_t` (native byte order) of an `AF_*` constant.
fn family_bytes(family: libc::c_int) -> [u8; 2] {
    u16::try_from(family).unwrap_or(u16::MAX).to_ne_bytes()
}

/// A length that fits in a `socklen_t` (all of ours are below 256).
fn socklen(len: usize) -> libc::socklen_t {
    libc::socklen_t::try_from(len).unwrap_or(libc::socklen_t::MAX)
}

impl SockAddr {
    fn empty() -> Self {
        Self {
            bytes: [0; STORAGE_LEN],
            len: socklen(STORAGE_LEN),
        }
    }

    /// A `sockaddr_in` or `sockaddr_in6` (`<netinet/in.h>`): family, port
    /// in network order, then the address (in6: after a zero flowinfo,
    /// followed by the scope id).
    pub fn inet(addr: SocketAddr) -> Self {
        let mut a = Self::empty();
        a.bytes[2..4].copy_from_slice(&addr.port().to_be_bytes());
        match addr {
            SocketAddr::V4(v4) => {
                a.bytes[0..2].copy_from_slice(&family_bytes(libc::AF_INET));
                a.bytes[4..8].copy_from_slice(&v4.ip().octets());
                a.len = socklen(std::mem::size_of::<libc::sockaddr_in>());
            }
            SocketAddr::V6(v6) => {
                a.bytes[0..2].copy_from_slice(&family_bytes(libc::AF_INET6));
                a.bytes[4..8].copy_from_slice(&v6.flowinfo().to_be_bytes());
                a.bytes[8..24].copy_from_slice(&v6.ip().octets());
                a.bytes[24..28].copy_from_slice(&v6.scope_id().to_ne_bytes());
                a.len = socklen(std::mem::size_of::<libc::sockaddr_in6>());
            }
        }
        a
    }

    /// A path `sockaddr_un`: the path and its NUL (`None` if it has a NUL
    /// or does not fit in `sun_path`).
    pub fn unix_path(path: &[u8]) -> Option<Self> {
        if path.contains(&0) || 2 + path.len() + 1 > SUN_LEN {
            return None;
        }
        let mut a = Self::empty();
        a.bytes[0..2].copy_from_slice(&family_bytes(libc::AF_UNIX));
        a.bytes[2..2 + path.len()].copy_from_slice(path);
        a.len = socklen(2 + path.len() + 1);
        Some(a)
    }

    /// An abstract `sockaddr_un`: `sun_path[0]` = 0, then `name`, no NUL
    /// (the length says where the name ends; see unix(7)).
    pub fn unix_abstract(name: &[u8]) -> Option<Self> {
        if 2 + 1 + name.len() > SUN_LEN {
            return None;
        }
        let mut a = Self::empty();
        a.bytes[0..2].copy_from_slice(&family_bytes(libc::AF_UNIX));
        a.bytes[3..3 + name.len()].copy_from_slice(name);
        a.len = socklen(2 + 1 + name.len());
        Some(a)
    }

    /// The address as the kernel reads it (`len` bytes).
    pub fn as_bytes(&self) -> &[u8] {
        let len = usize::try_from(self.len).map_or(STORAGE_LEN, |l| l.min(STORAGE_LEN));
        &self.bytes[..len]
    }

    /// The IPv4 or IPv6 address and port, if it is one.
    pub fn inet_addr(&self) -> Option<SocketAddr> {
        let b = self.as_bytes();
        let family = libc::c_int::from(u16::from_ne_bytes([*b.first()?, *b.get(1)?]));
        let port = u16::from_be_bytes([*b.get(2)?, *b.get(3)?]);
        match family {
            libc::AF_INET => {
                let ip: [u8; 4] = b.get(4..8)?.try_into().ok()?;
                Some(SocketAddrV4::new(Ipv4Addr::from(ip), port).into())
            }
            libc::AF_INET6 => {
                let flow: [u8; 4] = b.get(4..8)?.try_into().ok()?;
                let ip: [u8; 16] = b.get(8..24)?.try_into().ok()?;
                let scope: [u8; 4] = b.get(24..28)?.try_into().ok()?;
                Some(
                    SocketAddrV6::new(
                        Ipv6Addr::from(ip),
                        port,
                        u32::from_be_bytes(flow),
                        u32::from_ne_bytes(scope),
                    )
                    .into(),
                )
            }
            _ => None,
        }
    }

    /// The IP address, if it is an inet address.
    pub fn ip(&self) -> Option<IpAddr> {
        self.inet_addr().map(|a| a.ip())
    }

    fn as_ptr(&self) -> *const libc::sockaddr {
        self.bytes.as_ptr().cast()
    }

    fn as_mut_ptr(&mut self) -> *mut libc::sockaddr {
        self.bytes.as_mut_ptr().cast()
    }
}

/// Takes ownership of a descriptor a successful call just returned.
fn owned(fd: libc::c_int) -> OwnedFd {
    // SAFETY: `fd` was just returned by the kernel and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// A byte count returned by a successful call.
fn count(n: libc::ssize_t) -> io::Result<usize> {
    usize::try_from(cvt(n)?).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// `socket(domain, type, protocol)`.
pub fn socket(domain: libc::c_int, ty: libc::c_int, proto: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: socket takes plain integers.
    cvt(unsafe { libc::socket(domain, ty, proto) }).map(owned)
}

/// `socketpair(AF_UNIX, SOCK_STREAM, 0)`.
pub fn socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1 as libc::c_int; 2];
    // SAFETY: `fds` is a writable array of two ints.
    cvt(unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, fds.as_mut_ptr()) })?;
    Ok((owned(fds[0]), owned(fds[1])))
}

/// `connect(fd, addr)`.
pub fn connect(fd: &OwnedFd, addr: &SockAddr) -> io::Result<()> {
    // SAFETY: `addr` points to `addr.len` readable bytes.
    cvt(unsafe { libc::connect(fd.as_raw_fd(), addr.as_ptr(), addr.len) }).map(drop)
}

/// `bind(fd, addr)`.
pub fn bind(fd: &OwnedFd, addr: &SockAddr) -> io::Result<()> {
    // SAFETY: `addr` points to `addr.len` readable bytes.
    cvt(unsafe { libc::bind(fd.as_raw_fd(), addr.as_ptr(), addr.len) }).map(drop)
}

/// `listen(fd, backlog)`.
pub fn listen(fd: &OwnedFd, backlog: libc::c_int) -> io::Result<()> {
    // SAFETY: listen takes plain integers.
    cvt(unsafe { libc::listen(fd.as_raw_fd(), backlog) }).map(drop)
}

/// `accept(fd, &peer, &len)`: the new connection and its peer's address.
pub fn accept(fd: &OwnedFd) -> io::Result<(OwnedFd, SockAddr)> {
    let mut peer = SockAddr::empty();
    // SAFETY: `peer` has `peer.len` writable bytes; the kernel stores the
    // address's real length in `peer.len`.
    let conn = cvt(unsafe { libc::accept(fd.as_raw_fd(), peer.as_mut_ptr(), &mut peer.len) })?;
    Ok((owned(conn), peer))
}

/// `getsockname(2)`.
pub fn getsockname(fd: &OwnedFd) -> io::Result<SockAddr> {
    let mut a = SockAddr::empty();
    // SAFETY: `a` has `a.len` writable bytes; the kernel updates `a.len`.
    cvt(unsafe { libc::getsockname(fd.as_raw_fd(), a.as_mut_ptr(), &mut a.len) })?;
    Ok(a)
}

/// `getpeername(2)`.
pub fn getpeername(fd: &OwnedFd) -> io::Result<SockAddr> {
    let mut a = SockAddr::empty();
    // SAFETY: `a` has `a.len` writable bytes; the kernel updates `a.len`.
    cvt(unsafe { libc::getpeername(fd.as_raw_fd(), a.as_mut_ptr(), &mut a.len) })?;
    Ok(a)
}

/// `setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, {secs, 0})`.
pub fn set_rcvtimeo(fd: &OwnedFd, secs: libc::time_t) -> io::Result<()> {
    let tv = libc::timeval {
        tv_sec: secs,
        tv_usec: 0,
    };
    let len = socklen(std::mem::size_of::<libc::timeval>());
    // SAFETY: `tv` is a readable timeval of `len` bytes, the layout the C
    // library's setsockopt expects for SO_RCVTIMEO.
    let ret = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&raw const tv).cast(),
            len,
        )
    };
    cvt(ret).map(drop)
}

/// `sendto(fd, buf, flags, to)` (a null address when `to` is `None`).
pub fn sendto(
    fd: &OwnedFd,
    buf: &[u8],
    flags: libc::c_int,
    to: Option<&SockAddr>,
) -> io::Result<usize> {
    let (addr, len) = to.map_or((std::ptr::null(), 0), |a| (a.as_ptr(), a.len));
    // SAFETY: `buf` is readable; `addr` is null with length 0 or points to
    // `len` readable bytes.
    count(unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            buf.as_ptr().cast(),
            buf.len(),
            flags,
            addr,
            len,
        )
    })
}

/// `send(fd, buf, 0)`.
pub fn send(fd: &OwnedFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is a readable slice.
    count(unsafe { libc::send(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len(), 0) })
}

/// `recv(fd, buf, 0)`.
pub fn recv(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is a writable slice.
    count(unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) })
}

/// `recvfrom(fd, buf, 0, &from, &len)`: the length and the sender.
pub fn recvfrom(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<(usize, SockAddr)> {
    let mut from = SockAddr::empty();
    // SAFETY: `buf` is writable; `from` has `from.len` writable bytes and
    // the kernel updates `from.len`.
    let n = count(unsafe {
        libc::recvfrom(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            0,
            from.as_mut_ptr(),
            &mut from.len,
        )
    })?;
    Ok((n, from))
}

/// A `msghdr` with one buffer and `msg_name` = `name`, nothing else.
fn msghdr(
    name: *mut libc::sockaddr,
    namelen: libc::socklen_t,
    iov: &mut libc::iovec,
) -> libc::msghdr {
    // SAFETY: all zeroes is a valid msghdr (null pointers, zero lengths).
    let mut m: libc::msghdr = unsafe { std::mem::zeroed() };
    m.msg_name = name.cast();
    m.msg_namelen = namelen;
    m.msg_iov = iov;
    m.msg_iovlen = 1;
    m
}

/// `sendmsg(fd, {msg_name = to, one iovec = buf}, 0)`.
pub fn sendmsg(fd: &OwnedFd, buf: &[u8], to: &SockAddr) -> io::Result<usize> {
    let mut iov = libc::iovec {
        iov_base: buf.as_ptr().cast_mut().cast(),
        iov_len: buf.len(),
    };
    let m = msghdr(to.as_ptr().cast_mut(), to.len, &mut iov);
    // SAFETY: `m` points to `to` and to `buf`, which outlive the call; the
    // kernel only reads them for sendmsg.
    count(unsafe { libc::sendmsg(fd.as_raw_fd(), &m, 0) })
}

/// `recvmsg(fd, {msg_name, one iovec = buf}, 0)`: the length and sender.
pub fn recvmsg(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<(usize, SockAddr)> {
    let mut from = SockAddr::empty();
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut m = msghdr(from.as_mut_ptr(), from.len, &mut iov);
    // SAFETY: `m` points to `from` and `buf`, writable and alive for the
    // call; the kernel stores the sender's length in `m.msg_namelen`.
    let n = count(unsafe { libc::recvmsg(fd.as_raw_fd(), &mut m, 0) })?;
    from.len = m.msg_namelen;
    Ok((n, from))
}

/// One `sendmmsg(fd, msgs, N, 0)`, every message to `to`: the number sent
/// and each message's `msg_len` as the kernel wrote it back (0 if unsent).
pub fn sendmmsg(fd: &OwnedFd, bufs: &[Vec<u8>], to: &SockAddr) -> io::Result<(usize, Vec<u32>)> {
    let mut iovs: Vec<libc::iovec> = bufs
        .iter()
        .map(|b| libc::iovec {
            iov_base: b.as_ptr().cast_mut().cast(),
            iov_len: b.len(),
        })
        .collect();
    let mut msgs: Vec<libc::mmsghdr> = iovs
        .iter_mut()
        .map(|iov| libc::mmsghdr {
            msg_hdr: msghdr(to.as_ptr().cast_mut(), to.len, iov),
            msg_len: 0,
        })
        .collect();
    let vlen = libc::c_uint::try_from(msgs.len())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `msgs` holds `vlen` headers pointing to `to`, `iovs` and
    // `bufs`, all alive for the call; the kernel reads them and writes
    // only the headers' `msg_len`.
    let ret = cvt(unsafe { libc::sendmmsg(fd.as_raw_fd(), msgs.as_mut_ptr(), vlen, 0) })?;
    let sent = usize::try_from(ret).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    Ok((sent, msgs.iter().map(|m| m.msg_len).collect()))
}

// ---------------------------------------------------------------------------
// A page below 4 GiB for `socketcall` and the connect races.
// ---------------------------------------------------------------------------

/// Word index in [`LowPage`] of the `socketcall` argument array.
const ARGS_AT: usize = 0;
/// Word index in [`LowPage`] of the socket address.
const ADDR_AT: usize = 16;
/// Word offset of `sin_addr` in a `sockaddr_in` (byte 4).
const SIN_ADDR_WORD: usize = 1;

/// One anonymous page of 32-bit words, below 4 GiB: the i386 ABI (also
/// `int $0x80` from 64-bit code) carries only 32-bit pointers, so on x86_64
/// it is mapped with `MAP_32BIT`. It holds a `socketcall` argument array
/// and a socket address; every access from Rust is an atomic word access,
/// so a second thread may rewrite the address while the kernel reads it.
#[derive(Debug)]
pub struct LowPage {
    base: NonNull<AtomicU32>,
    /// Length of the address stored at [`ADDR_AT`].
    addr_len: AtomicU32,
}

// SAFETY: the page is owned by the struct and only reached through
// `&AtomicU32`s, which may be shared between threads.
unsafe impl Send for LowPage {}
// SAFETY: as above: all shared access is atomic.
unsafe impl Sync for LowPage {}

impl LowPage {
    const LEN: usize = 4096;
    const WORDS: usize = Self::LEN / 4;

    /// Maps the page (zeroed) below 4 GiB.
    pub fn new() -> io::Result<Self> {
        #[cfg(target_arch = "x86_64")]
        let low = libc::MAP_32BIT;
        #[cfg(target_arch = "x86")]
        let low = 0;
        // SAFETY: an anonymous private mapping with no address hint.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                Self::LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | low,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let page = Self {
            base: NonNull::new(p.cast())
                .ok_or_else(|| io::Error::from_raw_os_error(libc::EFAULT))?,
            addr_len: AtomicU32::new(0),
        };
        if u32::try_from(page.base.as_ptr() as usize + Self::LEN).is_err() {
            return Err(io::Error::from_raw_os_error(libc::EFAULT));
        }
        Ok(page)
    }

    fn words(&self) -> &[AtomicU32] {
        // SAFETY: the mapping is WORDS page-aligned, zero-initialised u32s
        // (AtomicU32 has u32's layout) that live as long as `self`, and
        // Rust only reaches them through these atomics.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr(), Self::WORDS) }
    }

    /// The 32-bit address of word `i` (below 4 GiB, checked in `new`).
    fn addr32(&self, i: usize) -> u32 {
        let a = std::ptr::from_ref(&self.words()[i]) as usize;
        u32::try_from(a).unwrap_or(0)
    }

    /// Stores `bytes` (zero-padded to whole words) at word `at`.
    fn store(&self, at: usize, bytes: &[u8]) {
        for (slot, chunk) in self.words()[at..].iter().zip(bytes.chunks(4)) {
            let mut w = [0u8; 4];
            w[..chunk.len()].copy_from_slice(chunk);
            slot.store(u32::from_ne_bytes(w), Ordering::Relaxed);
        }
    }

    /// Stores `addr` as the page's socket address.
    pub fn put_addr(&self, addr: &SockAddr) {
        self.store(ADDR_AT, addr.as_bytes());
        self.addr_len.store(addr.len, Ordering::Relaxed);
    }

    /// The `sin_addr` word of the stored `sockaddr_in` (network order
    /// bytes: store `u32::from_ne_bytes(ip.octets())`).
    pub fn sin_addr(&self) -> &AtomicU32 {
        &self.words()[ADDR_AT + SIN_ADDR_WORD]
    }

    /// `socketcall(call, args)` with the `args` words stored at
    /// [`ARGS_AT`] (they may include this page's 32-bit addresses).
    fn socketcall(&self, call: u32, args: &[u32]) -> io::Result<usize> {
        for (slot, &a) in self.words()[ARGS_AT..].iter().zip(args) {
            slot.store(a, Ordering::Relaxed);
        }
        cvt_raw(int80_socketcall(call, self.addr32(ARGS_AT)))
    }

    /// `socketcall(SYS_SOCKET, {domain, type, protocol})`.
    pub fn socketcall_socket(
        &self,
        domain: libc::c_int,
        ty: libc::c_int,
        proto: libc::c_int,
    ) -> io::Result<OwnedFd> {
        let word = |v: libc::c_int| u32::from_ne_bytes(v.to_ne_bytes());
        let fd = self.socketcall(SYS_SOCKET, &[word(domain), word(ty), word(proto)])?;
        let fd =
            libc::c_int::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
        Ok(owned(fd))
    }

    /// `socketcall(SYS_CONNECT, {fd, &addr, addrlen})` on the stored address.
    pub fn socketcall_connect(&self, fd: &OwnedFd) -> io::Result<()> {
        let fd =
            u32::try_from(fd.as_raw_fd()).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
        let args = [
            fd,
            self.addr32(ADDR_AT),
            self.addr_len.load(Ordering::Relaxed),
        ];
        self.socketcall(SYS_CONNECT, &args).map(drop)
    }

    /// `connect(fd, &addr, addrlen)` on the stored address with the native
    /// raw instruction ([`sys::raw_syscall`]), so the kernel reads the page.
    pub fn raw_connect(&self, fd: &OwnedFd) -> io::Result<()> {
        let bad = || io::Error::from_raw_os_error(libc::EINVAL);
        let nr = usize::try_from(libc::SYS_connect).map_err(|_| bad())?;
        let fd = usize::try_from(fd.as_raw_fd()).map_err(|_| bad())?;
        let addr = std::ptr::from_ref(&self.words()[ADDR_AT]) as usize;
        let len = usize::try_from(self.addr_len.load(Ordering::Relaxed)).map_err(|_| bad())?;
        cvt_raw(sys::raw_syscall(nr, [fd, addr, len, 0, 0, 0])).map(drop)
    }
}

impl Drop for LowPage {
    fn drop(&mut self) {
        // SAFETY: unmapping the page we mapped; `&mut self` means no
        // reference into it remains.
        unsafe { libc::munmap(self.base.as_ptr().cast(), Self::LEN) };
    }
}

/// `socketcall` call number of `socket` (`<linux/net.h>`).
const SYS_SOCKET: u32 = 1;
/// `socketcall` call number of `connect` (`<linux/net.h>`).
const SYS_CONNECT: u32 = 3;
/// The i386 system call number of `socketcall`.
const NR_SOCKETCALL_I386: i32 = 102;

/// `socketcall(call, args)` with `int $0x80`: returns -errno on failure.
#[cfg(target_arch = "x86")]
fn int80_socketcall(call: u32, args: u32) -> isize {
    let ret: i32;
    // SAFETY: `args` is the address of words in a live LowPage; for
    // SYS_SOCKET and SYS_CONNECT the kernel only reads them (and the
    // address they point to in the same page). LLVM may reserve ebx, so
    // `call` is swapped into it around the instruction and back.
    unsafe {
        core::arch::asm!(
            "xchg {call}, ebx",
            "int 0x80",
            "xchg {call}, ebx",
            call = inout(reg) call => _,
            inlateout("eax") NR_SOCKETCALL_I386 => ret,
            in("ecx") args,
        );
    }
    isize::try_from(ret).unwrap_or(-1)
}

/// `socketcall(call, args)` with `int $0x80` from 64-bit code (the i386
/// ABI: 32-bit pointers, hence the low page): returns -errno on failure.
#[cfg(target_arch = "x86_64")]
fn int80_socketcall(call: u32, args: u32) -> isize {
    let ret: i32;
    // SAFETY: as for i686: the kernel only reads the LowPage words. rbx
    // is reserved by LLVM, so `call` is swapped in and back out. Older
    // kernels zeroed r8-r11 on a 64-bit `int $0x80`: declared clobbered.
    unsafe {
        core::arch::asm!(
            "xchg {call}, rbx",
            "int 0x80",
            "xchg {call}, rbx",
            call = inout(reg) u64::from(call) => _,
            inlateout("eax") NR_SOCKETCALL_I386 => ret,
            in("ecx") args,
            lateout("r8") _,
            lateout("r9") _,
            lateout("r10") _,
            lateout("r11") _,
        );
    }
    isize::try_from(ret).unwrap_or(-1)
}

/// `setsockopt(fd, level, name, value)`.
pub fn setsockopt_bytes(
    fd: &OwnedFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &[u8],
) -> io::Result<()> {
    let len = libc::socklen_t::try_from(value.len()).unwrap_or(0);
    // SAFETY: `value` is `len` readable bytes; the kernel only reads them.
    cvt(unsafe { libc::setsockopt(fd.as_raw_fd(), level, name, value.as_ptr().cast(), len) })
        .map(drop)
}

/// `sendmsg(fd, {to, buf, control}, 0)`: ancillary data as raw bytes.
pub fn sendmsg_control(
    fd: &OwnedFd,
    buf: &[u8],
    to: &SockAddr,
    control: &mut [u8],
) -> io::Result<usize> {
    let mut iov = libc::iovec {
        iov_base: buf.as_ptr().cast_mut().cast(),
        iov_len: buf.len(),
    };
    let mut m = msghdr(to.as_ptr().cast_mut(), to.len, &mut iov);
    m.msg_control = control.as_mut_ptr().cast();
    m.msg_controllen = control.len();
    // SAFETY: `m` points to `to`, `buf` and `control`, alive for the call;
    // the kernel only reads them for sendmsg.
    count(unsafe { libc::sendmsg(fd.as_raw_fd(), &m, 0) })
}

/// `recvfrom(fd, buf, MSG_DONTWAIT, &from, &len)` with a source buffer of
/// `room` bytes (0: the kernel writes no address): length, bytes received.
pub fn recvfrom_room(fd: &OwnedFd, buf: &mut [u8], room: u32) -> io::Result<usize> {
    let mut from = SockAddr::empty();
    let mut len: libc::socklen_t = room;
    // SAFETY: `buf` is writable; `from` holds 128 bytes, at least `room`.
    count(unsafe {
        libc::recvfrom(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            0,
            from.as_mut_ptr(),
            &mut len,
        )
    })
}
