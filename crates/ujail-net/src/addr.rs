// SPDX-License-Identifier: GPL-3.0-or-later
//! Socket addresses as the kernel reads them: the `addrlen` bytes a tracee
//! passes to connect(2), bind(2), sendto(2) or sendmsg(2) (`msg_name`),
//! decoded into a [`SockAddr`] with the kernel's own length rules, so the
//! policy judges the address the kernel will use and nothing else.
//!
//! # Length rules (what the kernel checks)
//!
//! * Fewer than 2 bytes: no family at all (the kernel answers `EINVAL`).
//! * `AF_INET` needs `sizeof(struct sockaddr_in)` = 16 bytes
//!   (`inet_stream_connect`, `inet_bind`, `udp_sendmsg`); extra bytes are
//!   ignored.
//! * `AF_INET6` needs `SIN6_LEN_RFC2133` = 24 bytes; the `sin6_scope_id`
//!   (bytes 24..28) is read only when the length covers it, else it is 0
//!   (`inet6_bind`, `ip6_datagram_connect`, `udpv6_sendmsg`).
//! * `AF_UNIX` (`unix_validate_addr`): at most `sizeof(struct sockaddr_un)`
//!   = 110 bytes. Exactly 2 bytes is the unnamed address (bind's autobind).
//!   A first path byte of 0 makes an *abstract* name: every following byte
//!   of the length, NULs included, is the name. Otherwise the path ends at
//!   the first NUL or at the end of the length (`unix_mkname_bsd`).
//! * `AF_NETLINK` needs `sizeof(struct sockaddr_nl)` = 12 bytes.
//! * Other families are not decoded: [`SockAddr::Other`] carries the
//!   family and the policy decides.
//!
//! The family is the first two bytes in the tracee's byte order; ujail
//! traces x86 (32 and 64 bit), which is little-endian.
#![forbid(unsafe_code)]

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

// Address families, from include/linux/socket.h.
/// `AF_UNSPEC`: no address (a datagram socket's connect to it disconnects).
pub const AF_UNSPEC: u16 = 0;
/// `AF_UNIX` (`AF_LOCAL`): unix domain sockets.
pub const AF_UNIX: u16 = 1;
/// `AF_INET`: IPv4.
pub const AF_INET: u16 = 2;
/// `AF_INET6`: IPv6.
pub const AF_INET6: u16 = 10;
/// `AF_NETLINK`: kernel/user messaging (routing, audit, uevents ...).
pub const AF_NETLINK: u16 = 16;
/// `AF_PACKET`: raw link-layer packets.
pub const AF_PACKET: u16 = 17;

// Socket types, from include/linux/net.h (enum sock_type).
/// `SOCK_STREAM`: connection-oriented byte stream (TCP).
pub const SOCK_STREAM: u32 = 1;
/// `SOCK_DGRAM`: datagrams (UDP).
pub const SOCK_DGRAM: u32 = 2;
/// `SOCK_RAW`: raw protocol access (needs `CAP_NET_RAW`).
pub const SOCK_RAW: u32 = 3;
/// `SOCK_SEQPACKET`: reliable datagrams with a connection.
pub const SOCK_SEQPACKET: u32 = 5;
/// `SOCK_PACKET`: the obsolete link-layer packet type of `AF_INET`.
pub const SOCK_PACKET: u32 = 10;
/// The type bits of socket(2)'s `type`; the others are flags
/// (`SOCK_NONBLOCK`, `SOCK_CLOEXEC`). From include/linux/net.h.
pub const SOCK_TYPE_MASK: u32 = 0xf;

/// `sizeof(struct sockaddr_in)`, include/uapi/linux/in.h.
const SOCKADDR_IN_LEN: usize = 16;
/// `SIN6_LEN_RFC2133`, include/uapi/linux/in6.h: the shortest
/// `sockaddr_in6` the kernel accepts (no `sin6_scope_id`).
const SOCKADDR_IN6_MIN_LEN: usize = 24;
/// `sizeof(struct sockaddr_in6)`, include/uapi/linux/in6.h.
const SOCKADDR_IN6_LEN: usize = 28;
/// `sizeof(struct sockaddr_un)`, include/uapi/linux/un.h (2 + 108).
const SOCKADDR_UN_LEN: usize = 110;
/// `sizeof(struct sockaddr_nl)`, include/uapi/linux/netlink.h.
const SOCKADDR_NL_LEN: usize = 12;

/// A socket address decoded as the kernel would decode it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SockAddr {
    /// `AF_UNSPEC`: a datagram socket's connect to it dissolves the association.
    Unspec,
    /// An IPv4 address and port.
    Inet(SocketAddrV4),
    /// An IPv6 address and port (with flow info and scope id).
    Inet6(SocketAddrV6),
    /// A unix socket in the filesystem: the path bytes, without the NUL.
    UnixPath(Vec<u8>),
    /// An abstract unix socket: the name after the leading NUL, exactly as
    /// long as the address says (trailing NULs are part of the name).
    UnixAbstract(Vec<u8>),
    /// The unnamed unix address (only the family): bind autobinds.
    UnixUnnamed,
    /// A netlink address.
    Netlink {
        /// `nl_pid`: the port id (0 is the kernel).
        pid: u32,
        /// `nl_groups`: multicast group mask.
        groups: u32,
    },
    /// A family not decoded here.
    Other(u16),
}

/// An address the kernel would refuse (`EINVAL`) for its length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrError {
    /// Not even the two bytes of the family.
    NoFamily {
        /// The address length given.
        len: usize,
    },
    /// Shorter than the family's address structure.
    TooShort {
        /// The family's name (`inet`, `inet6`, `netlink`).
        family: &'static str,
        /// The address length given.
        len: usize,
        /// The length the kernel needs.
        need: usize,
    },
    /// Longer than the family's address structure allows.
    TooLong {
        /// The family's name (`unix`).
        family: &'static str,
        /// The address length given.
        len: usize,
        /// The longest length the kernel accepts.
        max: usize,
    },
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrError::NoFamily { len } => write!(
                f,
                "address too short: {len} bytes, need 2 for the address family"
            ),
            AddrError::TooShort { family, len, need } => write!(
                f,
                "address too short for {family}: {len} bytes, need {need}"
            ),
            AddrError::TooLong { family, len, max } => write!(
                f,
                "address too long for {family}: {len} bytes, at most {max}"
            ),
        }
    }
}

impl std::error::Error for AddrError {}

fn need(bytes: &[u8], family: &'static str, need: usize) -> Result<(), AddrError> {
    if bytes.len() < need {
        Err(AddrError::TooShort {
            family,
            len: bytes.len(),
            need,
        })
    } else {
        Ok(())
    }
}

fn array<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&bytes[at..at + N]);
    out
}

impl SockAddr {
    /// Decode the `addrlen` bytes the kernel would read (see the module
    /// documentation for the length rules).
    pub fn parse(bytes: &[u8]) -> Result<SockAddr, AddrError> {
        if bytes.len() < 2 {
            return Err(AddrError::NoFamily { len: bytes.len() });
        }
        let family = u16::from_le_bytes(array(bytes, 0));
        match family {
            AF_UNSPEC => Ok(SockAddr::Unspec),
            AF_INET => {
                need(bytes, "inet", SOCKADDR_IN_LEN)?;
                let port = u16::from_be_bytes(array(bytes, 2));
                let ip = Ipv4Addr::from(array::<4>(bytes, 4));
                Ok(SockAddr::Inet(SocketAddrV4::new(ip, port)))
            }
            AF_INET6 => {
                need(bytes, "inet6", SOCKADDR_IN6_MIN_LEN)?;
                let port = u16::from_be_bytes(array(bytes, 2));
                // sin6_flowinfo is a __be32 (include/uapi/linux/in6.h).
                let flowinfo = u32::from_be_bytes(array(bytes, 4));
                let ip = Ipv6Addr::from(array::<16>(bytes, 8));
                let scope_id = if bytes.len() >= SOCKADDR_IN6_LEN {
                    u32::from_le_bytes(array(bytes, 24))
                } else {
                    0
                };
                Ok(SockAddr::Inet6(SocketAddrV6::new(
                    ip, port, flowinfo, scope_id,
                )))
            }
            AF_UNIX => {
                if bytes.len() > SOCKADDR_UN_LEN {
                    return Err(AddrError::TooLong {
                        family: "unix",
                        len: bytes.len(),
                        max: SOCKADDR_UN_LEN,
                    });
                }
                let path = &bytes[2..];
                match path.first() {
                    None => Ok(SockAddr::UnixUnnamed),
                    Some(0) => Ok(SockAddr::UnixAbstract(path[1..].to_vec())),
                    Some(_) => {
                        let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
                        Ok(SockAddr::UnixPath(path[..end].to_vec()))
                    }
                }
            }
            AF_NETLINK => {
                need(bytes, "netlink", SOCKADDR_NL_LEN)?;
                Ok(SockAddr::Netlink {
                    pid: u32::from_le_bytes(array(bytes, 4)),
                    groups: u32::from_le_bytes(array(bytes, 8)),
                })
            }
            other => Ok(SockAddr::Other(other)),
        }
    }

    /// The address family (`AF_*`).
    pub fn family(&self) -> u16 {
        match self {
            SockAddr::Unspec => AF_UNSPEC,
            SockAddr::Inet(_) => AF_INET,
            SockAddr::Inet6(_) => AF_INET6,
            SockAddr::UnixPath(_) | SockAddr::UnixAbstract(_) | SockAddr::UnixUnnamed => AF_UNIX,
            SockAddr::Netlink { .. } => AF_NETLINK,
            SockAddr::Other(f) => *f,
        }
    }

    /// The IP address and port of an inet or inet6 address; an
    /// IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is returned as the IPv4
    /// address, since that is where the packets go and how the policy
    /// judges it.
    pub fn ip_port(&self) -> Option<(IpAddr, u16)> {
        match self {
            SockAddr::Inet(a) => Some((IpAddr::V4(*a.ip()), a.port())),
            SockAddr::Inet6(a) => match a.ip().to_ipv4_mapped() {
                Some(v4) => Some((IpAddr::V4(v4), a.port())),
                None => Some((IpAddr::V6(*a.ip()), a.port())),
            },
            _ => None,
        }
    }
}

/// Write `bytes` with bytes outside `0x20..=0x7e` and `\` as `\xNN`; bytes
/// in `also` are escaped too.
pub(crate) fn write_escaped(f: &mut fmt::Formatter<'_>, bytes: &[u8], also: &[u8]) -> fmt::Result {
    for &b in bytes {
        if (0x20..=0x7e).contains(&b) && b != b'\\' && !also.contains(&b) {
            write!(f, "{}", char::from(b))?;
        } else {
            write!(f, "\\x{b:02x}")?;
        }
    }
    Ok(())
}

impl fmt::Display for SockAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SockAddr::Unspec => f.write_str("unspec"),
            SockAddr::Inet(a) => write!(f, "{a}"),
            // SocketAddrV6 shows `[ip%scope]:port`, a mapped address as
            // `::ffff:a.b.c.d`.
            SockAddr::Inet6(a) => write!(f, "{a}"),
            SockAddr::UnixPath(p) => {
                f.write_str("unix:")?;
                write_escaped(f, p, &[])
            }
            SockAddr::UnixAbstract(n) => {
                f.write_str("@")?;
                write_escaped(f, n, &[])
            }
            SockAddr::UnixUnnamed => f.write_str("unix-unnamed"),
            SockAddr::Netlink { pid, groups: 0 } => write!(f, "netlink:pid={pid}"),
            SockAddr::Netlink { pid, groups } => {
                write!(f, "netlink:pid={pid},groups={groups:#x}")
            }
            SockAddr::Other(family) => write!(f, "family {family}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inet(port: u16, ip: [u8; 4]) -> Vec<u8> {
        let mut b = vec![0u8; 16];
        b[..2].copy_from_slice(&AF_INET.to_le_bytes());
        b[2..4].copy_from_slice(&port.to_be_bytes());
        b[4..8].copy_from_slice(&ip);
        b
    }

    fn inet6(port: u16, ip: Ipv6Addr, scope: u32) -> Vec<u8> {
        let mut b = vec![0u8; 28];
        b[..2].copy_from_slice(&AF_INET6.to_le_bytes());
        b[2..4].copy_from_slice(&port.to_be_bytes());
        b[8..24].copy_from_slice(&ip.octets());
        b[24..28].copy_from_slice(&scope.to_le_bytes());
        b
    }

    fn unix(path: &[u8]) -> Vec<u8> {
        let mut b = AF_UNIX.to_le_bytes().to_vec();
        b.extend_from_slice(path);
        b
    }

    #[test]
    fn inet_port_and_address_in_network_order() {
        let a = SockAddr::parse(&inet(8080, [10, 1, 2, 3])).unwrap();
        assert_eq!(
            a,
            SockAddr::Inet(SocketAddrV4::new(Ipv4Addr::new(10, 1, 2, 3), 8080))
        );
        assert_eq!(a.family(), AF_INET);
        assert_eq!(
            a.ip_port(),
            Some((IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)), 8080))
        );
        assert_eq!(a.to_string(), "10.1.2.3:8080");
    }

    #[test]
    fn inet_extra_bytes_ignored_short_refused() {
        let mut b = inet(80, [127, 0, 0, 1]);
        b.extend_from_slice(&[0xff; 12]);
        assert_eq!(SockAddr::parse(&b).unwrap().to_string(), "127.0.0.1:80");
        let e = SockAddr::parse(&b[..8]).unwrap_err();
        assert_eq!(
            e,
            AddrError::TooShort {
                family: "inet",
                len: 8,
                need: 16
            }
        );
        assert_eq!(
            e.to_string(),
            "address too short for inet: 8 bytes, need 16"
        );
        assert!(SockAddr::parse(&b[..15]).is_err());
        assert!(SockAddr::parse(&b[..16]).is_ok());
    }

    #[test]
    fn no_family() {
        assert_eq!(
            SockAddr::parse(&[]).unwrap_err(),
            AddrError::NoFamily { len: 0 }
        );
        assert_eq!(
            SockAddr::parse(&[2]).unwrap_err().to_string(),
            "address too short: 1 bytes, need 2 for the address family"
        );
    }

    #[test]
    fn inet6_with_and_without_scope() {
        let ip: Ipv6Addr = "fe80::1".parse().unwrap();
        let b = inet6(443, ip, 3);
        assert_eq!(
            SockAddr::parse(&b).unwrap(),
            SockAddr::Inet6(SocketAddrV6::new(ip, 443, 0, 3))
        );
        // 24 bytes: RFC 2133 layout without sin6_scope_id.
        assert_eq!(
            SockAddr::parse(&b[..24]).unwrap(),
            SockAddr::Inet6(SocketAddrV6::new(ip, 443, 0, 0))
        );
        // 27 bytes: scope id not fully covered, so not read.
        assert_eq!(
            SockAddr::parse(&b[..27]).unwrap(),
            SockAddr::Inet6(SocketAddrV6::new(ip, 443, 0, 0))
        );
        assert_eq!(
            SockAddr::parse(&b[..23]).unwrap_err().to_string(),
            "address too short for inet6: 23 bytes, need 24"
        );
        assert_eq!(SockAddr::parse(&b).unwrap().to_string(), "[fe80::1%3]:443");
    }

    #[test]
    fn inet6_display_and_ip_port() {
        let a = SockAddr::parse(&inet6(8080, Ipv6Addr::LOCALHOST, 0)).unwrap();
        assert_eq!(a.to_string(), "[::1]:8080");
        assert_eq!(a.family(), AF_INET6);
        assert_eq!(a.ip_port(), Some((IpAddr::V6(Ipv6Addr::LOCALHOST), 8080)));
    }

    #[test]
    fn mapped_v6_judged_as_v4_shown_as_v6() {
        let ip = Ipv4Addr::new(1, 2, 3, 4).to_ipv6_mapped();
        let a = SockAddr::parse(&inet6(80, ip, 0)).unwrap();
        assert_eq!(
            a.ip_port(),
            Some((IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)), 80))
        );
        assert_eq!(a.to_string(), "[::ffff:1.2.3.4]:80");
        assert_eq!(a.family(), AF_INET6);
    }

    #[test]
    fn unix_path_stops_at_nul() {
        assert_eq!(
            SockAddr::parse(&unix(b"/run/x.sock\0garbage")).unwrap(),
            SockAddr::UnixPath(b"/run/x.sock".to_vec())
        );
        // No NUL: the path is the whole length.
        let a = SockAddr::parse(&unix(b"/tmp/s")).unwrap();
        assert_eq!(a, SockAddr::UnixPath(b"/tmp/s".to_vec()));
        assert_eq!(a.to_string(), "unix:/tmp/s");
        assert_eq!(a.ip_port(), None);
    }

    #[test]
    fn unix_path_of_108_bytes_and_too_long() {
        let long = vec![b'a'; 108];
        assert_eq!(
            SockAddr::parse(&unix(&long)).unwrap(),
            SockAddr::UnixPath(long.clone())
        );
        let mut longer = long;
        longer.push(b'b');
        assert_eq!(
            SockAddr::parse(&unix(&longer)).unwrap_err().to_string(),
            "address too long for unix: 111 bytes, at most 110"
        );
    }

    #[test]
    fn unix_abstract_keeps_exact_length() {
        let a = SockAddr::parse(&unix(b"\0/tmp/.X11-unix/X0\0\0")).unwrap();
        assert_eq!(a, SockAddr::UnixAbstract(b"/tmp/.X11-unix/X0\0\0".to_vec()));
        assert_eq!(a.to_string(), "@/tmp/.X11-unix/X0\\x00\\x00");
        assert_eq!(a.family(), AF_UNIX);
        // Only the leading NUL: the empty abstract name.
        assert_eq!(
            SockAddr::parse(&unix(b"\0")).unwrap(),
            SockAddr::UnixAbstract(Vec::new())
        );
    }

    #[test]
    fn unix_unnamed() {
        let a = SockAddr::parse(&AF_UNIX.to_le_bytes()).unwrap();
        assert_eq!(a, SockAddr::UnixUnnamed);
        assert_eq!(a.to_string(), "unix-unnamed");
    }

    #[test]
    fn abstract_display_escapes_backslash_and_controls() {
        let a = SockAddr::UnixAbstract(b"a\\b\n c\xff".to_vec());
        assert_eq!(a.to_string(), "@a\\x5cb\\x0a c\\xff");
    }

    #[test]
    fn netlink() {
        let mut b = AF_NETLINK.to_le_bytes().to_vec();
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&1234u32.to_le_bytes());
        b.extend_from_slice(&5u32.to_le_bytes());
        let a = SockAddr::parse(&b).unwrap();
        assert_eq!(
            a,
            SockAddr::Netlink {
                pid: 1234,
                groups: 5
            }
        );
        assert_eq!(a.to_string(), "netlink:pid=1234,groups=0x5");
        assert_eq!(
            SockAddr::Netlink { pid: 0, groups: 0 }.to_string(),
            "netlink:pid=0"
        );
        assert_eq!(
            SockAddr::parse(&b[..11]).unwrap_err().to_string(),
            "address too short for netlink: 11 bytes, need 12"
        );
    }

    #[test]
    fn unspec_and_other_families() {
        let a = SockAddr::parse(&[0, 0]).unwrap();
        assert_eq!(a, SockAddr::Unspec);
        assert_eq!(a.to_string(), "unspec");
        // AF_BLUETOOTH (31), even when short: not decoded, no error.
        let a = SockAddr::parse(&[31, 0]).unwrap();
        assert_eq!(a, SockAddr::Other(31));
        assert_eq!(a.family(), 31);
        assert_eq!(a.to_string(), "family 31");
        assert_eq!(a.ip_port(), None);
    }
}
