// SPDX-License-Identifier: GPL-3.0-or-later
//! Network rules: a `--net` mode plus firewall rules, and the decision
//! (allow, deny with an errno, log, ask) for creating a socket or for one
//! address a socket call names.
//!
//! # Rules
//!
//! One rule is `ACTION DIRECTION TARGET` (see [`Rule::parse`] for the
//! grammar), e.g. `allow connect 10.0.0.0/8:5432`, `deny=ECONNREFUSED send
//! [fd00::/8]`, `allow socket netlink:audit`, `allow connect
//! @/tmp/.X11-unix/*`. The directions are the [`Direction`]s the tracer
//! judges; `connect` covers [`Direction::Connect`] *and*
//! [`Direction::Send`], since a datagram sent to an address is a connection
//! to it in all but name; `send` covers only sends; `*` covers all five.
//!
//! # Judging
//!
//! 1. **Matching.** A rule matches when its direction covers the direction
//!    judged and its target matches. An IPv4-mapped IPv6 address
//!    (`::ffff:a.b.c.d`) is judged as the IPv4 address, since that is where
//!    the packets go: `allow connect 10.0.0.0/8` allows
//!    `[::ffff:10.1.2.3]:80`, `inet` matches it and `inet6` does not. `*`
//!    matches any inet or inet6 address. `inet`, `inet6`, `raw`, `packet`
//!    and `netlink` match the creation of such a socket; `inet` and
//!    `inet6` also match every address of their family. (`inet` does not
//!    match a `SOCK_RAW` socket of `AF_INET`: that is `raw`.)
//! 2. **Most specific wins.** Among the matching rules the longest prefix
//!    wins (an address is either IPv4 or IPv6, so only prefixes of one
//!    family compete; `*`, `inet` and `inet6` count as prefix 0), then the
//!    narrower port range, then — at equal specificity — the stricter
//!    action: deny > ask > log > allow (fail closed). For abstract names an
//!    exact name beats a prefix and a longer prefix a shorter one;
//!    `netlink:N` beats `netlink`. The rules a mode implies (its
//!    *baseline*) compete like the user's rules; their
//!    [`Decision::rule`] names the mode (`--net loopback`).
//! 3. **Modes.**
//!    * `all`: whatever no rule matches is allowed (except for 5, 6 and
//!      the allowlist of 7).
//!      With no rules and without [`NetRules::set_strict_unix`] the policy
//!      is inactive ([`NetRules::is_active`]): only the raw and packet
//!      socket defaults apply.
//!    * `loopback`: baseline `allow * 127.0.0.0/8` and `allow * [::1]`;
//!      anything else unmatched is denied.
//!    * `log`: anything unmatched (inet sockets, addresses, abstract names)
//!      is allowed and logged ([`Action::Log`]).
//!    * `ask`: unmatched inet/inet6 addresses and abstract names are asked
//!      about ([`Action::Ask`]); creating inet sockets is allowed (the
//!      question comes with the address).
//!    * `none`: creating an inet (inet6) socket is denied with `EACCES`,
//!      unless some non-deny user rule targets IPv4 (IPv6) addresses — `*`,
//!      `inet`/`inet6`, or a network of that family; then creation is
//!      allowed and the addresses are judged. Unmatched addresses are
//!      denied.
//! 4. **Incoming peers.** An [`Direction::Accept`] peer (accept(2)'s peer,
//!    recvfrom(2)'s source) is judged by the most specific rule covering
//!    `accept`; when no such rule matches, it is judged as a
//!    [`Direction::Connect`] to the same address: a reply from a
//!    destination the program may talk to is fine.
//! 5. **Socket creation defaults**, in every mode, active or not: raw and
//!    packet sockets (`AF_PACKET`, `SOCK_RAW`/`SOCK_PACKET` of
//!    `AF_INET`/`AF_INET6`) are denied with `EACCES` unless an allow, log
//!    or ask rule `socket raw` / `socket packet` matches; unix sockets are
//!    always allowed (unix path sockets are judged by the filesystem policy
//!    when they are bound or connected). When the policy is active,
//!    netlink route (protocol 0, needed by getaddrinfo and `ip`) is allowed
//!    and other netlink protocols are denied with `EACCES` unless a rule
//!    allows them; other address families are denied with `EAFNOSUPPORT`,
//!    what the kernel answers for a family it lacks, so programs fall back.
//!    When inactive, netlink and other families are allowed.
//! 6. **Addresses that are not inet.** A unix path is allowed here (the
//!    filesystem policy judges it elsewhere), and so are the unnamed unix
//!    address (autobind), `AF_UNSPEC` (a datagram disconnect) and netlink
//!    addresses (the socket was judged when created). An abstract unix name
//!    is allowed or denied by a matching `@name` rule; unmatched it is
//!    allowed in mode `all` without strict unix, logged in `log`, asked in
//!    `ask`, and otherwise denied with `EACCES` — abstract sockets escape
//!    the filesystem policy (X11, D-Bus, systemd's private sockets), so a
//!    jail with a filesystem policy must name the ones it allows. Other
//!    families are denied with `EAFNOSUPPORT` when the policy is active.
//!    Inet addresses are allowed when the policy is inactive.
//! 7. **Unmatched** in an active mode and not covered above:
//!    `Deny(EACCES)`, with the rule text `default: not allowed (--net
//!    MODE)`. In mode `all`, rules that allow, log or ask about inet
//!    addresses make an allowlist: an unmatched inet address is denied
//!    (`default: not allowed by any rule`), as with path rules; deny rules
//!    alone are a blocklist.
#![forbid(unsafe_code)]

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::addr::{SockAddr, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_UNIX};
use crate::addr::{SOCK_PACKET, SOCK_RAW, SOCK_TYPE_MASK};

// Error numbers, from include/uapi/asm-generic/errno-base.h and errno.h.
/// `EPERM`: operation not permitted.
pub const EPERM: i32 = 1;
/// `ENOENT`: no such file or directory.
pub const ENOENT: i32 = 2;
/// `EACCES`: permission denied (the default of `deny`).
pub const EACCES: i32 = 13;
/// `EAFNOSUPPORT`: address family not supported.
pub const EAFNOSUPPORT: i32 = 97;
/// `EADDRNOTAVAIL`: cannot assign the requested address.
pub const EADDRNOTAVAIL: i32 = 99;
/// `ENETUNREACH`: network is unreachable.
pub const ENETUNREACH: i32 = 101;
/// `ETIMEDOUT`: connection timed out.
pub const ETIMEDOUT: i32 = 110;
/// `ECONNREFUSED`: connection refused.
pub const ECONNREFUSED: i32 = 111;
/// `EHOSTUNREACH`: no route to host.
pub const EHOSTUNREACH: i32 = 113;

/// The errno names `deny=NAME` accepts.
pub const ERRNO_NAMES: [(&str, i32); 9] = [
    ("EACCES", EACCES),
    ("EPERM", EPERM),
    ("ECONNREFUSED", ECONNREFUSED),
    ("ENETUNREACH", ENETUNREACH),
    ("EHOSTUNREACH", EHOSTUNREACH),
    ("ETIMEDOUT", ETIMEDOUT),
    ("EADDRNOTAVAIL", EADDRNOTAVAIL),
    ("EAFNOSUPPORT", EAFNOSUPPORT),
    ("ENOENT", ENOENT),
];

/// The largest errno a system call can return (`MAX_ERRNO`,
/// include/linux/err.h).
const MAX_ERRNO: i32 = 4095;

// Netlink protocols, from include/uapi/linux/netlink.h.
/// `NETLINK_ROUTE`: routing and link information (getaddrinfo uses it).
pub const NETLINK_ROUTE: u32 = 0;
/// `NETLINK_SOCK_DIAG`: socket monitoring (`ss`).
pub const NETLINK_SOCK_DIAG: u32 = 4;
/// `NETLINK_AUDIT`: the audit subsystem.
pub const NETLINK_AUDIT: u32 = 9;
/// `NETLINK_KOBJECT_UEVENT`: kernel uevents (udev).
pub const NETLINK_KOBJECT_UEVENT: u32 = 15;

const NETLINK_NAMES: [(&str, u32); 4] = [
    ("route", NETLINK_ROUTE),
    ("sock_diag", NETLINK_SOCK_DIAG),
    ("audit", NETLINK_AUDIT),
    ("uevent", NETLINK_KOBJECT_UEVENT),
];

fn netlink_name(protocol: u32) -> Option<&'static str> {
    NETLINK_NAMES
        .iter()
        .find(|&&(_, p)| p == protocol)
        .map(|&(n, _)| n)
}

fn errno_name(errno: i32) -> Option<&'static str> {
    ERRNO_NAMES
        .iter()
        .find(|&&(_, e)| e == errno)
        .map(|&(n, _)| n)
}

/// What a socket call does with an address (or, for `Socket`, creating one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Creating a socket (socket(2), socketpair(2)).
    Socket,
    /// connect(2), and sendto(2) with `MSG_FASTOPEN`.
    Connect,
    /// A datagram's destination given to sendto(2), sendmsg(2), sendmmsg(2).
    Send,
    /// bind(2); listen(2) on an unbound socket is judged by the caller as
    /// binding `0.0.0.0:0` / `[::]:0`.
    Bind,
    /// An incoming peer: accept(2)'s peer, recvfrom(2)'s source.
    Accept,
}

impl Direction {
    /// Every direction.
    pub const ALL: [Direction; 5] = [
        Direction::Socket,
        Direction::Connect,
        Direction::Send,
        Direction::Bind,
        Direction::Accept,
    ];

    /// The name used in rules.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Socket => "socket",
            Direction::Connect => "connect",
            Direction::Send => "send",
            Direction::Bind => "bind",
            Direction::Accept => "accept",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to do with a socket call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Let the kernel do it.
    Allow,
    /// Refuse with this errno.
    Deny(i32),
    /// Allow and log the decision.
    Log,
    /// Ask the user.
    Ask,
}

impl Action {
    /// Order at equal specificity: the stricter action wins.
    fn severity(self) -> u8 {
        match self {
            Action::Allow => 0,
            Action::Log => 1,
            Action::Ask => 2,
            Action::Deny(_) => 3,
        }
    }

    /// The errno of a denial, `None` otherwise.
    pub fn errno(self) -> Option<i32> {
        match self {
            Action::Deny(e) => Some(e),
            Action::Allow | Action::Log | Action::Ask => None,
        }
    }

    fn parse(word: &str) -> Result<Action, RuleError> {
        match word {
            "allow" => return Ok(Action::Allow),
            "deny" => return Ok(Action::Deny(EACCES)),
            "log" => return Ok(Action::Log),
            "ask" => return Ok(Action::Ask),
            _ => {}
        }
        let Some(errno) = word.strip_prefix("deny=") else {
            return Err(RuleError::Action(word.to_string()));
        };
        if let Some(&(_, e)) = ERRNO_NAMES.iter().find(|&&(n, _)| n == errno) {
            return Ok(Action::Deny(e));
        }
        match parse_decimal::<i32>(errno) {
            Some(e) if (1..=MAX_ERRNO).contains(&e) => Ok(Action::Deny(e)),
            _ => Err(RuleError::Errno(errno.to_string())),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Action::Allow => f.write_str("allow"),
            Action::Deny(EACCES) => f.write_str("deny"),
            Action::Deny(e) => match errno_name(e) {
                Some(name) => write!(f, "deny={name}"),
                None => write!(f, "deny={e}"),
            },
            Action::Log => f.write_str("log"),
            Action::Ask => f.write_str("ask"),
        }
    }
}

/// The `--net` mode: what happens to whatever no rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Allowed (the default; with no rule the policy is inactive).
    All,
    /// Denied; inet sockets only when a rule allows some address.
    None,
    /// Loopback addresses allowed, the rest denied.
    Loopback,
    /// Allowed and logged.
    Log,
    /// Asked about.
    Ask,
}

impl Mode {
    /// Every mode.
    pub const ALL: [Mode; 5] = [Mode::All, Mode::None, Mode::Loopback, Mode::Log, Mode::Ask];

    /// Parse `all`, `none`, `loopback`, `log` or `ask` (exactly, lower case).
    pub fn parse(text: &str) -> Result<Mode, RuleError> {
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str() == text)
            .ok_or_else(|| RuleError::Mode(text.to_string()))
    }

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::All => "all",
            Mode::None => "none",
            Mode::Loopback => "loopback",
            Mode::Log => "log",
            Mode::Ask => "ask",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of socket socket(2) creates, as the policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketKind {
    /// `AF_UNIX`.
    Unix,
    /// `AF_INET`, not raw.
    Inet,
    /// `AF_INET6`, not raw.
    Inet6,
    /// `SOCK_RAW` of `AF_INET`/`AF_INET6`.
    Raw,
    /// `AF_PACKET`, or `SOCK_PACKET` of `AF_INET`/`AF_INET6`.
    Packet,
    /// `AF_NETLINK` with this protocol.
    Netlink(u32),
    /// Any other family (`u16::MAX` for values that are no family at all).
    Other(u16),
}

impl fmt::Display for SocketKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SocketKind::Unix => f.write_str("unix"),
            SocketKind::Inet => f.write_str("inet"),
            SocketKind::Inet6 => f.write_str("inet6"),
            SocketKind::Raw => f.write_str("raw"),
            SocketKind::Packet => f.write_str("packet"),
            SocketKind::Netlink(p) => match netlink_name(p) {
                Some(name) => write!(f, "netlink:{name}"),
                None => write!(f, "netlink:{p}"),
            },
            SocketKind::Other(family) => write!(f, "family {family}"),
        }
    }
}

/// The low 32 bits of a register: socket(2)'s arguments are C `int`s, and
/// the kernel ignores the upper half of a 64-bit register. Judging the full
/// value would let `0x1_0000_0011` (`AF_PACKET` to the kernel) pass as an
/// unknown family.
fn int_arg(reg: u64) -> u32 {
    u32::try_from(reg & u64::from(u32::MAX)).unwrap_or(u32::MAX)
}

/// Classify socket(2)'s `domain`, `type` and `protocol` register values.
/// Only the low 32 bits count (they are `int`s, as for the kernel); the
/// flags in `type` (`SOCK_NONBLOCK`, `SOCK_CLOEXEC`) are ignored.
pub fn socket_kind(domain: u64, ty: u64, protocol: u64) -> SocketKind {
    let Ok(family) = u16::try_from(int_arg(domain)) else {
        return SocketKind::Other(u16::MAX);
    };
    let ty = int_arg(ty) & SOCK_TYPE_MASK;
    match family {
        AF_UNIX => SocketKind::Unix,
        AF_INET | AF_INET6 if ty == SOCK_RAW => SocketKind::Raw,
        AF_INET | AF_INET6 if ty == SOCK_PACKET => SocketKind::Packet,
        AF_INET => SocketKind::Inet,
        AF_INET6 => SocketKind::Inet6,
        AF_PACKET => SocketKind::Packet,
        AF_NETLINK => SocketKind::Netlink(int_arg(protocol)),
        other => SocketKind::Other(other),
    }
}

/// A network rule or mode name that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleError {
    /// Not three words.
    Words {
        /// The rule text.
        text: String,
        /// How many words it has.
        count: usize,
    },
    /// An unknown action word.
    Action(String),
    /// An unknown errno after `deny=`.
    Errno(String),
    /// An unknown direction word.
    Direction(String),
    /// A target that cannot be parsed.
    Target {
        /// The target word.
        target: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A hostname where an address is needed.
    Hostname(String),
    /// A target that means nothing for the rule's direction.
    Mismatch {
        /// The direction word.
        dir: &'static str,
        /// The target word.
        target: String,
        /// Why, and what to write instead.
        why: &'static str,
    },
    /// An unknown `--net` mode.
    Mode(String),
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleError::Words { text, count } => write!(
                f,
                "network rule {text:?} has {count} words, expected ACTION DIRECTION TARGET"
            ),
            RuleError::Action(a) => write!(
                f,
                "unknown network rule action {a:?} (expected allow, deny, deny=ERRNO, log or ask)"
            ),
            RuleError::Errno(e) => write!(
                f,
                "unknown errno {e:?} in deny=ERRNO (expected a name such as EACCES or ECONNREFUSED, or a number 1..=4095)"
            ),
            RuleError::Direction(d) => write!(
                f,
                "unknown network rule direction {d:?} (expected socket, connect, send, bind, accept or *)"
            ),
            RuleError::Target { target, why } => {
                write!(f, "bad network rule target {target:?}: {why}")
            }
            RuleError::Hostname(t) => write!(
                f,
                "network rule target {t:?} is a hostname: use an IP address (rules judge the addresses a program uses, not names)"
            ),
            RuleError::Mismatch { dir, target, why } => write!(
                f,
                "network rule target {target:?} makes no sense with direction {dir}: {why}"
            ),
            RuleError::Mode(m) => write!(
                f,
                "unknown network mode {m:?} (expected all, none, loopback, log or ask)"
            ),
        }
    }
}

impl std::error::Error for RuleError {}

/// A decimal number of ASCII digits only (no sign, no spaces).
fn parse_decimal<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The directions a rule covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RuleDir {
    Socket,
    Connect,
    Send,
    Bind,
    Accept,
    Any,
}

impl RuleDir {
    fn parse(word: &str) -> Result<RuleDir, RuleError> {
        Ok(match word {
            "socket" => RuleDir::Socket,
            "connect" => RuleDir::Connect,
            "send" => RuleDir::Send,
            "bind" => RuleDir::Bind,
            "accept" => RuleDir::Accept,
            "*" => RuleDir::Any,
            _ => return Err(RuleError::Direction(word.to_string())),
        })
    }

    fn from_direction(dir: Direction) -> RuleDir {
        match dir {
            Direction::Socket => RuleDir::Socket,
            Direction::Connect => RuleDir::Connect,
            Direction::Send => RuleDir::Send,
            Direction::Bind => RuleDir::Bind,
            Direction::Accept => RuleDir::Accept,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            RuleDir::Socket => "socket",
            RuleDir::Connect => "connect",
            RuleDir::Send => "send",
            RuleDir::Bind => "bind",
            RuleDir::Accept => "accept",
            RuleDir::Any => "*",
        }
    }

    fn covers(self, dir: Direction) -> bool {
        match self {
            RuleDir::Any => true,
            RuleDir::Connect => matches!(dir, Direction::Connect | Direction::Send),
            RuleDir::Socket => dir == Direction::Socket,
            RuleDir::Send => dir == Direction::Send,
            RuleDir::Bind => dir == Direction::Bind,
            RuleDir::Accept => dir == Direction::Accept,
        }
    }
}

/// An inclusive port range; `0..=65535` is "any port".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ports {
    lo: u16,
    hi: u16,
}

impl Ports {
    const ANY: Ports = Ports {
        lo: 0,
        hi: u16::MAX,
    };

    fn exact(port: u16) -> Ports {
        Ports { lo: port, hi: port }
    }

    fn parse(text: &str, target: &str) -> Result<Ports, RuleError> {
        let bad = |why| RuleError::Target {
            target: target.to_string(),
            why,
        };
        if text == "*" {
            return Ok(Ports::ANY);
        }
        let number = |s: &str| {
            parse_decimal::<u16>(s).ok_or_else(|| bad("a port is a number 0..=65535, LO-HI or *"))
        };
        match text.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (number(lo)?, number(hi)?);
                if lo > hi {
                    return Err(bad("empty port range (LO > HI)"));
                }
                Ok(Ports { lo, hi })
            }
            None => Ok(Ports::exact(number(text)?)),
        }
    }

    fn contains(self, port: u16) -> bool {
        (self.lo..=self.hi).contains(&port)
    }

    /// Larger for narrower ranges.
    fn narrowness(self) -> u32 {
        u32::from(u16::MAX - (self.hi - self.lo))
    }
}

/// `:PORTS`, or nothing for any port.
impl fmt::Display for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Ports::ANY {
            Ok(())
        } else if self.lo == self.hi {
            write!(f, ":{}", self.lo)
        } else {
            write!(f, ":{}-{}", self.lo, self.hi)
        }
    }
}

/// Which IP family an `inet`/`inet6` target names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

/// What a rule applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// `*` or `*:PORTS`: any inet or inet6 address.
    AnyIp(Ports),
    /// An IPv4 network (host bits zero) and ports.
    V4 {
        net: Ipv4Addr,
        prefix: u8,
        ports: Ports,
    },
    /// An IPv6 network (host bits zero, never IPv4-mapped) and ports.
    V6 {
        net: Ipv6Addr,
        prefix: u8,
        ports: Ports,
    },
    /// `inet` / `inet6`: the sockets and every address of the family.
    Family(Family),
    /// `@NAME` (exact) or `@NAME*` (prefix).
    Abstract { name: Vec<u8>, prefix: bool },
    /// `netlink` (`None`: any protocol) or `netlink:N`.
    Netlink(Option<u32>),
    /// `raw`: `SOCK_RAW` sockets.
    Raw,
    /// `packet`: `AF_PACKET` and `SOCK_PACKET` sockets.
    Packet,
}

/// A match's specificity: larger is more specific (prefix or name length,
/// then port narrowness or exactness).
type Specificity = (u32, u32);

fn v4_mask(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn v6_mask(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

impl Target {
    fn parse(word: &str) -> Result<Target, RuleError> {
        let bad = |why| RuleError::Target {
            target: word.to_string(),
            why,
        };
        match word {
            "*" => return Ok(Target::AnyIp(Ports::ANY)),
            "inet" => return Ok(Target::Family(Family::V4)),
            "inet6" => return Ok(Target::Family(Family::V6)),
            "raw" => return Ok(Target::Raw),
            "packet" => return Ok(Target::Packet),
            "netlink" => return Ok(Target::Netlink(None)),
            _ => {}
        }
        if let Some(ports) = word.strip_prefix("*:") {
            return Ok(Target::AnyIp(Ports::parse(ports, word)?));
        }
        if let Some(proto) = word.strip_prefix("netlink:") {
            let p = NETLINK_NAMES
                .iter()
                .find(|&&(n, _)| n == proto)
                .map(|&(_, p)| p)
                .or_else(|| parse_decimal::<u32>(proto));
            return match p {
                Some(p) => Ok(Target::Netlink(Some(p))),
                None => Err(bad(
                    "netlink protocol is a number or route, audit, uevent, sock_diag",
                )),
            };
        }
        if let Some(name) = word.strip_prefix('@') {
            return Target::parse_abstract(name, word);
        }
        if let Some(rest) = word.strip_prefix('[') {
            return Target::parse_v6(rest, word);
        }
        for family in ["inet:", "inet6:", "raw:", "packet:"] {
            if word.starts_with(family) {
                return Err(bad(
                    "inet, inet6, raw and packet take no port (use *:PORTS)",
                ));
            }
        }
        if word.matches(':').count() >= 2 {
            return Err(bad("IPv6 addresses go in brackets: [ADDR/PREFIX]:PORTS"));
        }
        Target::parse_v4(word)
    }

    fn parse_v4(word: &str) -> Result<Target, RuleError> {
        let (net, ports) = match word.split_once(':') {
            Some((net, ports)) => (net, Ports::parse(ports, word)?),
            None => (word, Ports::ANY),
        };
        let (addr, prefix) = match net.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (net, None),
        };
        let Ok(ip) = addr.parse::<Ipv4Addr>() else {
            if addr.bytes().any(|b| b.is_ascii_alphabetic()) {
                return Err(RuleError::Hostname(word.to_string()));
            }
            return Err(RuleError::Target {
                target: word.to_string(),
                why: "not an IPv4 address (expected A.B.C.D[/PREFIX][:PORTS])",
            });
        };
        let prefix =
            match prefix {
                None => 32,
                Some(p) => parse_decimal::<u8>(p).filter(|&p| p <= 32).ok_or_else(|| {
                    RuleError::Target {
                        target: word.to_string(),
                        why: "an IPv4 prefix is 0..=32",
                    }
                })?,
            };
        Ok(Target::v4(ip, prefix, ports))
    }

    fn parse_v6(rest: &str, word: &str) -> Result<Target, RuleError> {
        let bad = |why| RuleError::Target {
            target: word.to_string(),
            why,
        };
        let Some((inner, after)) = rest.split_once(']') else {
            return Err(bad("missing ] after the IPv6 address"));
        };
        let ports = match after {
            "" => Ports::ANY,
            _ => match after.strip_prefix(':') {
                Some(ports) => Ports::parse(ports, word)?,
                None => return Err(bad("expected :PORTS after ]")),
            },
        };
        let (addr, prefix) = match inner.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (inner, None),
        };
        let Ok(ip) = addr.parse::<Ipv6Addr>() else {
            if addr
                .bytes()
                .any(|b| b.is_ascii_alphabetic() && !b.is_ascii_hexdigit())
            {
                return Err(RuleError::Hostname(word.to_string()));
            }
            return Err(bad(
                "not an IPv6 address (expected [ADDR], [ADDR/PREFIX], optionally :PORTS)",
            ));
        };
        let prefix = match prefix {
            None => 128,
            Some(p) => parse_decimal::<u8>(p)
                .filter(|&p| p <= 128)
                .ok_or_else(|| bad("an IPv6 prefix is 0..=128"))?,
        };
        let net = Ipv6Addr::from(u128::from(ip) & v6_mask(prefix));
        // An IPv4-mapped network is an IPv4 network: mapped addresses are
        // judged as IPv4, so only the IPv4 form can ever match.
        if prefix >= 96 {
            if let Some(v4) = net.to_ipv4_mapped() {
                return Ok(Target::v4(v4, prefix - 96, ports));
            }
        }
        Ok(Target::V6 { net, prefix, ports })
    }

    fn v4(ip: Ipv4Addr, prefix: u8, ports: Ports) -> Target {
        Target::V4 {
            net: Ipv4Addr::from(u32::from(ip) & v4_mask(prefix)),
            prefix,
            ports,
        }
    }

    fn parse_abstract(text: &str, word: &str) -> Result<Target, RuleError> {
        let bad = |why| RuleError::Target {
            target: word.to_string(),
            why,
        };
        // `*` is no hex digit, so a final `*` is never part of an escape.
        let (body, prefix) = match text.strip_suffix('*') {
            Some(body) => (body, true),
            None => (text, false),
        };
        let mut name = Vec::with_capacity(body.len());
        let bytes = body.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'\\' {
                let hex = body
                    .get(i + 1..i + 4)
                    .and_then(|e| e.strip_prefix('x'))
                    .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| bad("a backslash starts an escape \\xNN (two hex digits)"))?;
                name.push(hex);
                i += 4;
            } else {
                name.push(bytes[i]);
                i += 1;
            }
        }
        if name.is_empty() && !prefix {
            return Err(bad(
                "empty abstract socket name (write @NAME, or @* for every name)",
            ));
        }
        Ok(Target::Abstract { name, prefix })
    }

    /// Targets judged at socket creation.
    fn for_socket(&self) -> bool {
        matches!(
            self,
            Target::Family(_) | Target::Netlink(_) | Target::Raw | Target::Packet
        )
    }

    /// Targets judged on addresses.
    fn for_address(&self) -> bool {
        matches!(
            self,
            Target::AnyIp(_)
                | Target::V4 { .. }
                | Target::V6 { .. }
                | Target::Family(_)
                | Target::Abstract { .. }
        )
    }

    /// Whether this target names addresses of `family` (for mode `none`).
    fn names_addresses_of(&self, family: Family) -> bool {
        match self {
            Target::AnyIp(_) => true,
            Target::V4 { .. } => family == Family::V4,
            Target::V6 { .. } => family == Family::V6,
            Target::Family(f) => *f == family,
            Target::Abstract { .. } | Target::Netlink(_) | Target::Raw | Target::Packet => false,
        }
    }

    /// `ip` is already unmapped (see [`SockAddr::ip_port`]).
    fn match_ip(&self, ip: IpAddr, port: u16) -> Option<Specificity> {
        match (self, ip) {
            (Target::AnyIp(ports), _) if ports.contains(port) => Some((0, ports.narrowness())),
            (Target::V4 { net, prefix, ports }, IpAddr::V4(a))
                if u32::from(a) & v4_mask(*prefix) == u32::from(*net) && ports.contains(port) =>
            {
                Some((u32::from(*prefix), ports.narrowness()))
            }
            (Target::V6 { net, prefix, ports }, IpAddr::V6(a))
                if u128::from(a) & v6_mask(*prefix) == u128::from(*net) && ports.contains(port) =>
            {
                Some((u32::from(*prefix), ports.narrowness()))
            }
            (Target::Family(Family::V4), IpAddr::V4(_))
            | (Target::Family(Family::V6), IpAddr::V6(_)) => Some((0, 0)),
            _ => None,
        }
    }

    fn match_abstract(&self, name: &[u8]) -> Option<Specificity> {
        match self {
            Target::Abstract {
                name: n,
                prefix: false,
            } if n.as_slice() == name => Some((len_u32(n.len()), 1)),
            Target::Abstract {
                name: n,
                prefix: true,
            } if name.starts_with(n) => Some((len_u32(n.len()), 0)),
            _ => None,
        }
    }

    fn match_kind(&self, kind: SocketKind) -> Option<Specificity> {
        match (self, kind) {
            (Target::Family(Family::V4), SocketKind::Inet)
            | (Target::Family(Family::V6), SocketKind::Inet6)
            | (Target::Raw, SocketKind::Raw)
            | (Target::Packet, SocketKind::Packet)
            | (Target::Netlink(None), SocketKind::Netlink(_)) => Some((0, 0)),
            (Target::Netlink(Some(p)), SocketKind::Netlink(q)) if *p == q => Some((1, 0)),
            _ => None,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::AnyIp(ports) if *ports == Ports::ANY => f.write_str("*"),
            Target::AnyIp(ports) => write!(f, "*{ports}"),
            Target::V4 { net, prefix, ports } => {
                write!(f, "{net}")?;
                if *prefix != 32 {
                    write!(f, "/{prefix}")?;
                }
                write!(f, "{ports}")
            }
            Target::V6 { net, prefix, ports } => {
                write!(f, "[{net}")?;
                if *prefix != 128 {
                    write!(f, "/{prefix}")?;
                }
                write!(f, "]{ports}")
            }
            Target::Family(Family::V4) => f.write_str("inet"),
            Target::Family(Family::V6) => f.write_str("inet6"),
            Target::Abstract { name, prefix } => {
                f.write_str("@")?;
                // Spaces would split the rule; `*` would read as a prefix.
                crate::addr::write_escaped(f, name, b" *")?;
                if *prefix {
                    f.write_str("*")?;
                }
                Ok(())
            }
            Target::Netlink(None) => f.write_str("netlink"),
            Target::Netlink(Some(p)) => match netlink_name(*p) {
                Some(name) => write!(f, "netlink:{name}"),
                None => write!(f, "netlink:{p}"),
            },
            Target::Raw => f.write_str("raw"),
            Target::Packet => f.write_str("packet"),
        }
    }
}

/// One network rule: `ACTION DIRECTION TARGET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    action: Action,
    dir: RuleDir,
    target: Target,
}

impl Rule {
    /// Parse one rule: three whitespace-separated words.
    ///
    /// * ACTION: `allow`, `deny` (`EACCES`), `deny=ERRNO` (a name of
    ///   [`ERRNO_NAMES`] or a number 1..=4095), `log`, `ask`.
    /// * DIRECTION: `socket`, `connect` (connect and send), `send`, `bind`,
    ///   `accept`, `*` (all).
    /// * TARGET: `*` or `*:PORTS` (any inet/inet6 address); `A.B.C.D`
    ///   with optional `/PREFIX` and `:PORTS`; `[IPV6]` with optional
    ///   `/PREFIX` inside the brackets and `:PORTS` after (an IPv4-mapped
    ///   network with prefix ≥ 96 becomes the IPv4 network); `inet`,
    ///   `inet6`; `@NAME` (an abstract unix name; `\xNN` escapes a byte; a
    ///   final `*` makes it a prefix, `@*` is every name); `netlink`,
    ///   `netlink:N` or `netlink:route|audit|uevent|sock_diag`; `raw`;
    ///   `packet`. PORTS is `N`, `LO-HI` or `*`; omitted means any port.
    ///   Host bits of a network are cleared (`10.1.2.3/8` is
    ///   `10.0.0.0/8`).
    ///
    /// `socket` takes only `inet`, `inet6`, `raw`, `packet` and `netlink`;
    /// the other directions take only address targets (`*`, networks,
    /// `inet`, `inet6`, `@NAME`); `*` takes any.
    pub fn parse(text: &str) -> Result<Rule, RuleError> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let [action, dir, target] = words[..] else {
            return Err(RuleError::Words {
                text: text.to_string(),
                count: words.len(),
            });
        };
        let action = Action::parse(action)?;
        let dir = RuleDir::parse(dir)?;
        let word = target;
        let target = Target::parse(word)?;
        let mismatch = |why| RuleError::Mismatch {
            dir: dir.as_str(),
            target: word.to_string(),
            why,
        };
        match dir {
            RuleDir::Any => {}
            RuleDir::Socket if !target.for_socket() => {
                return Err(mismatch(
                    "socket rules take inet, inet6, raw, packet or netlink (addresses are judged by connect, send, bind, accept)",
                ))
            }
            RuleDir::Socket => {}
            _ if !target.for_address() => {
                return Err(mismatch(
                    "raw, packet and netlink are judged when the socket is created (use socket)",
                ))
            }
            _ => {}
        }
        Ok(Rule {
            action,
            dir,
            target,
        })
    }

    /// The rule an `ask` answer saves: `action` for `dir` to exactly this
    /// address (`/32` or `/128` and its port; an IPv4-mapped address as
    /// IPv4) or abstract name. `None` for what no rule can name: socket
    /// creation, unix paths, unnamed, unspec, netlink and other families,
    /// the empty abstract name, and an errno outside 1..=4095.
    pub fn for_answer(action: Action, dir: Direction, addr: &SockAddr) -> Option<Rule> {
        if let Action::Deny(e) = action {
            if !(1..=MAX_ERRNO).contains(&e) {
                return None;
            }
        }
        if dir == Direction::Socket {
            return None;
        }
        let target = match addr {
            SockAddr::Inet(_) | SockAddr::Inet6(_) => match addr.ip_port()? {
                (IpAddr::V4(ip), port) => Target::v4(ip, 32, Ports::exact(port)),
                (IpAddr::V6(ip), port) => Target::V6 {
                    net: ip,
                    prefix: 128,
                    ports: Ports::exact(port),
                },
            },
            SockAddr::UnixAbstract(name) if !name.is_empty() => Target::Abstract {
                name: name.clone(),
                prefix: false,
            },
            _ => return None,
        };
        Some(Rule {
            action,
            dir: RuleDir::from_direction(dir),
            target,
        })
    }

    /// What the rule does when it decides.
    pub fn action(&self) -> Action {
        self.action
    }

    /// Whether the rule's direction covers `dir`.
    pub fn covers(&self, dir: Direction) -> bool {
        self.dir.covers(dir)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.action, self.dir.as_str(), self.target)
    }
}

/// A decision and what made it, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// What to do.
    pub action: Action,
    /// Which rule decided: a rule's canonical text, `--net MODE` for a
    /// mode's baseline or unmatched default, or `default: REASON`.
    pub rule: String,
}

impl Decision {
    fn new(action: Action, rule: impl Into<String>) -> Decision {
        Decision {
            action,
            rule: rule.into(),
        }
    }
}

/// The network policy: a mode and rules (see the module documentation).
#[derive(Debug, Clone)]
pub struct NetRules {
    mode: Mode,
    rules: Vec<Rule>,
    learned: Vec<Rule>,
    baseline: Vec<Rule>,
    strict_unix: bool,
}

impl NetRules {
    /// A policy with `mode` and no rules.
    pub fn new(mode: Mode) -> NetRules {
        let baseline = match mode {
            Mode::Loopback => vec![
                Rule {
                    action: Action::Allow,
                    dir: RuleDir::Any,
                    target: Target::v4(Ipv4Addr::LOCALHOST, 8, Ports::ANY),
                },
                Rule {
                    action: Action::Allow,
                    dir: RuleDir::Any,
                    target: Target::V6 {
                        net: Ipv6Addr::LOCALHOST,
                        prefix: 128,
                        ports: Ports::ANY,
                    },
                },
            ],
            Mode::All | Mode::None | Mode::Log | Mode::Ask => Vec::new(),
        };
        NetRules {
            mode,
            rules: Vec::new(),
            learned: Vec::new(),
            baseline,
            strict_unix: false,
        }
    }

    /// Add a rule.
    pub fn add(&mut self, rule: Rule) {
        self.rules.push(rule);
    }

    /// Add a rule learned at run time (an `ask` answer): it judges like any
    /// other and is also kept in [`NetRules::learned`].
    pub fn learn(&mut self, rule: Rule) {
        self.learned.push(rule.clone());
        self.rules.push(rule);
    }

    /// Every rule, learned ones included, in the order added.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rules added by [`NetRules::learn`].
    pub fn learned(&self) -> &[Rule] {
        &self.learned
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Deny abstract unix names no rule allows, even in mode `all` (set
    /// when a filesystem policy is active: abstract sockets bypass it).
    pub fn set_strict_unix(&mut self, on: bool) {
        self.strict_unix = on;
    }

    /// False only for mode `all` without rules and without strict unix:
    /// then only the raw and packet socket defaults apply.
    pub fn is_active(&self) -> bool {
        !(self.mode == Mode::All && self.rules.is_empty() && !self.strict_unix)
    }

    /// The most specific matching rule (user rules first at a full tie).
    fn best(&self, matches: impl Fn(&Rule) -> Option<Specificity>) -> Option<Decision> {
        let mut best: Option<((u32, u32, u8), &Rule, bool)> = None;
        let all = self
            .rules
            .iter()
            .map(|r| (r, false))
            .chain(self.baseline.iter().map(|r| (r, true)));
        for (rule, baseline) in all {
            if let Some((a, b)) = matches(rule) {
                let key = (a, b, rule.action.severity());
                if best.as_ref().is_none_or(|(k, _, _)| key > *k) {
                    best = Some((key, rule, baseline));
                }
            }
        }
        best.map(|(_, rule, baseline)| {
            let text = if baseline {
                self.mode_text()
            } else {
                rule.to_string()
            };
            Decision::new(rule.action, text)
        })
    }

    fn mode_text(&self) -> String {
        format!("--net {}", self.mode)
    }

    /// Judge creating a socket of `kind`.
    pub fn judge_socket(&self, kind: SocketKind) -> Decision {
        if kind == SocketKind::Unix {
            return Decision::new(Action::Allow, "default: unix sockets allowed");
        }
        let matched = self.best(|r| {
            if r.dir.covers(Direction::Socket) {
                r.target.match_kind(kind)
            } else {
                None
            }
        });
        if let Some(d) = matched {
            return d;
        }
        match kind {
            SocketKind::Raw => Decision::new(Action::Deny(EACCES), "default: raw sockets denied"),
            SocketKind::Packet => {
                Decision::new(Action::Deny(EACCES), "default: packet sockets denied")
            }
            _ if !self.is_active() => Decision::new(Action::Allow, self.mode_text()),
            SocketKind::Unix => Decision::new(Action::Allow, "default: unix sockets allowed"),
            SocketKind::Netlink(NETLINK_ROUTE) => {
                Decision::new(Action::Allow, "default: netlink route allowed")
            }
            SocketKind::Netlink(p) => {
                let text = match netlink_name(p) {
                    Some(name) => format!("default: netlink protocol {p} ({name}) denied"),
                    None => format!("default: netlink protocol {p} denied"),
                };
                Decision::new(Action::Deny(EACCES), text)
            }
            SocketKind::Other(family) => Decision::new(
                Action::Deny(EAFNOSUPPORT),
                format!("default: address family {family} denied"),
            ),
            SocketKind::Inet | SocketKind::Inet6 => {
                let family = if kind == SocketKind::Inet {
                    Family::V4
                } else {
                    Family::V6
                };
                match self.mode {
                    Mode::None => match self.rules.iter().find(|r| {
                        !matches!(r.action, Action::Deny(_)) && r.target.names_addresses_of(family)
                    }) {
                        Some(r) => Decision::new(Action::Allow, r.to_string()),
                        None => Decision::new(Action::Deny(EACCES), self.not_allowed()),
                    },
                    Mode::Log => Decision::new(Action::Log, self.mode_text()),
                    Mode::All | Mode::Loopback | Mode::Ask => {
                        Decision::new(Action::Allow, self.mode_text())
                    }
                }
            }
        }
    }

    /// Mode `all` with a rule that allows, logs or asks about inet
    /// addresses: the rules are an allowlist (as path rules are), so an
    /// inet address no rule matches is denied. With deny rules only, they
    /// are a blocklist.
    fn is_allowlist(&self) -> bool {
        self.mode == Mode::All
            && self.rules.iter().any(|r| {
                !matches!(r.action, Action::Deny(_))
                    && (r.target.names_addresses_of(Family::V4)
                        || r.target.names_addresses_of(Family::V6))
            })
    }

    fn not_allowed(&self) -> String {
        format!("default: not allowed (--net {})", self.mode)
    }

    /// The most specific rule for `dir`; for [`Direction::Accept`] without
    /// one, the most specific rule for [`Direction::Connect`].
    fn judge_rules(
        &self,
        dir: Direction,
        matches: impl Fn(&Target) -> Option<Specificity>,
    ) -> Option<Decision> {
        let find = |d: Direction| {
            self.best(|r| {
                if r.dir.covers(d) {
                    matches(&r.target)
                } else {
                    None
                }
            })
        };
        find(dir).or_else(|| {
            if dir == Direction::Accept {
                find(Direction::Connect)
            } else {
                None
            }
        })
    }

    /// Judge the address a socket call names in direction `dir` (one of
    /// the address directions; rules for `socket` never match addresses).
    pub fn judge_addr(&self, dir: Direction, addr: &SockAddr) -> Decision {
        match addr {
            SockAddr::Unspec => Decision::new(
                Action::Allow,
                "default: unspec address allowed (datagram disconnect)",
            ),
            SockAddr::UnixPath(_) => Decision::new(
                Action::Allow,
                "default: unix path sockets are judged by the filesystem policy",
            ),
            SockAddr::UnixUnnamed => Decision::new(
                Action::Allow,
                "default: unnamed unix address allowed (autobind)",
            ),
            SockAddr::Netlink { .. } => {
                Decision::new(Action::Allow, "default: netlink addresses allowed")
            }
            SockAddr::Other(family) => {
                if self.is_active() {
                    Decision::new(
                        Action::Deny(EAFNOSUPPORT),
                        format!("default: address family {family} denied"),
                    )
                } else {
                    Decision::new(Action::Allow, self.mode_text())
                }
            }
            SockAddr::UnixAbstract(name) => self
                .judge_rules(dir, |t| t.match_abstract(name))
                .unwrap_or_else(|| match self.mode {
                    Mode::All if !self.strict_unix => {
                        Decision::new(Action::Allow, self.mode_text())
                    }
                    Mode::Log => Decision::new(Action::Log, self.mode_text()),
                    Mode::Ask => Decision::new(Action::Ask, self.mode_text()),
                    Mode::All | Mode::None | Mode::Loopback => Decision::new(
                        Action::Deny(EACCES),
                        "default: abstract unix sockets denied unless allowed by name",
                    ),
                }),
            SockAddr::Inet(_) | SockAddr::Inet6(_) => {
                if !self.is_active() {
                    return Decision::new(Action::Allow, self.mode_text());
                }
                let Some((ip, port)) = addr.ip_port() else {
                    return Decision::new(Action::Deny(EACCES), self.not_allowed());
                };
                self.judge_rules(dir, |t| t.match_ip(ip, port))
                    .unwrap_or_else(|| match self.mode {
                        Mode::All if self.is_allowlist() => {
                            Decision::new(Action::Deny(EACCES), "default: not allowed by any rule")
                        }
                        Mode::All => Decision::new(Action::Allow, self.mode_text()),
                        Mode::Log => Decision::new(Action::Log, self.mode_text()),
                        Mode::Ask => Decision::new(Action::Ask, self.mode_text()),
                        Mode::None | Mode::Loopback => {
                            Decision::new(Action::Deny(EACCES), self.not_allowed())
                        }
                    })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM};
    use std::net::{SocketAddrV4, SocketAddrV6};

    fn rule(text: &str) -> Rule {
        Rule::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn net(mode: Mode, rules: &[&str]) -> NetRules {
        let mut n = NetRules::new(mode);
        for r in rules {
            n.add(rule(r));
        }
        n
    }

    fn v4(s: &str) -> SockAddr {
        SockAddr::Inet(s.parse::<SocketAddrV4>().unwrap())
    }

    fn v6(s: &str) -> SockAddr {
        SockAddr::Inet6(s.parse::<SocketAddrV6>().unwrap())
    }

    fn abs(name: &[u8]) -> SockAddr {
        SockAddr::UnixAbstract(name.to_vec())
    }

    #[track_caller]
    fn judged(n: &NetRules, dir: Direction, addr: &SockAddr, action: Action, text: &str) {
        assert_eq!(
            n.judge_addr(dir, addr),
            Decision::new(action, text),
            "{dir} {addr}"
        );
    }

    #[track_caller]
    fn created(n: &NetRules, kind: SocketKind, action: Action, text: &str) {
        assert_eq!(
            n.judge_socket(kind),
            Decision::new(action, text),
            "socket {kind}"
        );
    }

    const DENY: Action = Action::Deny(EACCES);

    #[test]
    fn mode_names_round_trip() {
        for m in Mode::ALL {
            assert_eq!(Mode::parse(m.as_str()), Ok(m));
            assert_eq!(m.to_string(), m.as_str());
        }
        assert_eq!(Mode::parse("ALL"), Err(RuleError::Mode("ALL".into())));
        assert_eq!(
            Mode::parse("").unwrap_err().to_string(),
            "unknown network mode \"\" (expected all, none, loopback, log or ask)"
        );
    }

    #[test]
    fn socket_kind_table() {
        let f = |d: u16| u64::from(d);
        let t = |t: u32| u64::from(t);
        assert_eq!(socket_kind(f(AF_UNIX), t(SOCK_STREAM), 0), SocketKind::Unix);
        assert_eq!(socket_kind(f(AF_INET), t(SOCK_STREAM), 6), SocketKind::Inet);
        assert_eq!(
            socket_kind(f(AF_INET6), t(SOCK_DGRAM), 17),
            SocketKind::Inet6
        );
        assert_eq!(
            socket_kind(f(AF_INET6), t(SOCK_SEQPACKET), 132),
            SocketKind::Inet6
        );
        assert_eq!(socket_kind(f(AF_INET), t(SOCK_RAW), 1), SocketKind::Raw);
        assert_eq!(socket_kind(f(AF_INET6), t(SOCK_RAW), 58), SocketKind::Raw);
        assert_eq!(
            socket_kind(f(AF_INET), t(SOCK_PACKET), 3),
            SocketKind::Packet
        );
        assert_eq!(
            socket_kind(f(AF_PACKET), t(SOCK_RAW), 3),
            SocketKind::Packet
        );
        assert_eq!(
            socket_kind(f(AF_NETLINK), t(SOCK_RAW), 9),
            SocketKind::Netlink(9)
        );
        assert_eq!(socket_kind(31, t(SOCK_STREAM), 0), SocketKind::Other(31));
        assert_eq!(socket_kind(0x1_0000, 1, 0), SocketKind::Other(u16::MAX));
    }

    #[test]
    fn socket_kind_ignores_flags_and_upper_register_half() {
        // SOCK_NONBLOCK | SOCK_CLOEXEC | SOCK_RAW.
        assert_eq!(socket_kind(2, 0o4000 | 0o2000000 | 3, 0), SocketKind::Raw);
        // The kernel reads an int: this is AF_PACKET, not an unknown family.
        assert_eq!(socket_kind(0x1_0000_0011, 3, 0), SocketKind::Packet);
        assert_eq!(socket_kind(0xffff_ffff_0000_0002, 3, 0), SocketKind::Raw);
        assert_eq!(socket_kind(16, 3, 0x1_0000_0009), SocketKind::Netlink(9));
    }

    #[test]
    fn grammar_accepts_in_canonical_form() {
        let table = [
            ("allow connect *", "allow connect *"),
            ("allow  *   *:443", "allow * *:443"),
            ("allow connect *:*", "allow connect *"),
            ("deny connect 10.0.0.0/8", "deny connect 10.0.0.0/8"),
            ("deny=EACCES connect 10.0.0.0/8", "deny connect 10.0.0.0/8"),
            ("deny=13 connect 10.0.0.0/8", "deny connect 10.0.0.0/8"),
            (
                "deny=111 send 1.2.3.4:53",
                "deny=ECONNREFUSED send 1.2.3.4:53",
            ),
            ("deny=4095 bind *", "deny=4095 bind *"),
            (
                "allow connect 10.1.2.3/8:5432",
                "allow connect 10.0.0.0/8:5432",
            ),
            (
                "allow connect 10.0.0.0/8:0-65535",
                "allow connect 10.0.0.0/8",
            ),
            ("allow connect 1.2.3.4/32:80", "allow connect 1.2.3.4:80"),
            ("allow bind 0.0.0.0/0:0", "allow bind 0.0.0.0/0:0"),
            (
                "allow bind 127.0.0.1:8000-8099",
                "allow bind 127.0.0.1:8000-8099",
            ),
            ("allow connect [::1]:8080", "allow connect [::1]:8080"),
            ("allow connect [fd00::1/8]", "allow connect [fd00::/8]"),
            ("allow connect [::/0]:*", "allow connect [::/0]"),
            (
                "allow connect [::ffff:10.0.0.0/104]:5432",
                "allow connect 10.0.0.0/8:5432",
            ),
            ("allow connect [::ffff:1.2.3.4]", "allow connect 1.2.3.4"),
            ("log accept inet", "log accept inet"),
            ("ask * inet6", "ask * inet6"),
            ("allow socket inet", "allow socket inet"),
            (
                "allow connect @/tmp/.X11-unix/X0",
                "allow connect @/tmp/.X11-unix/X0",
            ),
            (
                "allow connect @/tmp/.X11-unix/*",
                "allow connect @/tmp/.X11-unix/*",
            ),
            ("allow connect @*", "allow connect @*"),
            ("allow connect @a\\x20b\\x00", "allow connect @a\\x20b\\x00"),
            ("allow connect @a*b", "allow connect @a\\x2ab"),
            ("allow connect @a\\x2a*", "allow connect @a\\x2a*"),
            ("allow socket netlink", "allow socket netlink"),
            ("allow socket netlink:9", "allow socket netlink:audit"),
            ("allow socket netlink:route", "allow socket netlink:route"),
            (
                "allow socket netlink:sock_diag",
                "allow socket netlink:sock_diag",
            ),
            ("allow socket netlink:uevent", "allow socket netlink:uevent"),
            ("allow socket netlink:31", "allow socket netlink:31"),
            ("allow socket raw", "allow socket raw"),
            ("allow * packet", "allow * packet"),
        ];
        for (text, canonical) in table {
            let r = rule(text);
            assert_eq!(r.to_string(), canonical, "{text}");
            assert_eq!(rule(canonical), r, "round trip of {text}");
        }
    }

    #[test]
    fn grammar_rejects() {
        let table: [(&str, &str); 31] = [
            ("", "has 0 words"),
            ("allow connect", "has 2 words"),
            ("allow connect 1.2.3.4 extra", "has 4 words"),
            ("permit connect *", "unknown network rule action \"permit\""),
            ("deny=EWHAT connect *", "unknown errno \"EWHAT\""),
            ("deny=0 connect *", "unknown errno \"0\""),
            ("deny=4096 connect *", "unknown errno \"4096\""),
            ("deny=-1 connect *", "unknown errno \"-1\""),
            ("allow out *", "unknown network rule direction \"out\""),
            (
                "allow connect example.com",
                "is a hostname: use an IP address",
            ),
            ("allow connect localhost:80", "is a hostname"),
            ("allow connect [foo.example]", "is a hostname"),
            ("allow connect 10.0.0.0/33", "an IPv4 prefix is 0..=32"),
            ("allow connect 10.0.0.0/", "an IPv4 prefix is 0..=32"),
            ("allow connect [::/129]", "an IPv6 prefix is 0..=128"),
            ("allow connect 1.2.3.4:90-80", "empty port range"),
            ("allow connect 1.2.3.4:65536", "a port is a number"),
            ("allow connect 1.2.3.4:+80", "a port is a number"),
            ("allow connect 1.2.3", "not an IPv4 address"),
            ("allow connect ::1", "IPv6 addresses go in brackets"),
            ("allow connect [::1", "missing ]"),
            ("allow connect [::1]80", "expected :PORTS after ]"),
            ("allow connect @", "empty abstract socket name"),
            ("allow connect @a\\x4", "escape \\xNN"),
            ("allow connect inet:80", "take no port"),
            ("allow socket netlink:xfrm", "netlink protocol is a number"),
            (
                "allow socket 10.0.0.0/8",
                "makes no sense with direction socket",
            ),
            ("allow socket *", "makes no sense with direction socket"),
            ("allow socket @x", "makes no sense with direction socket"),
            ("allow connect raw", "makes no sense with direction connect"),
            ("allow bind netlink", "makes no sense with direction bind"),
        ];
        for (text, message) in table {
            let e = Rule::parse(text).expect_err(text).to_string();
            assert!(e.contains(message), "{text}: {e}");
        }
    }

    #[test]
    fn error_messages_name_what_and_why() {
        assert_eq!(
            Rule::parse("allow connect example.com:443").unwrap_err(),
            RuleError::Hostname("example.com:443".into())
        );
        assert_eq!(
            Rule::parse("allow connect raw").unwrap_err().to_string(),
            "network rule target \"raw\" makes no sense with direction connect: \
             raw, packet and netlink are judged when the socket is created (use socket)"
        );
        assert_eq!(
            Rule::parse("allow connect 1.2.3.4:9-8")
                .unwrap_err()
                .to_string(),
            "bad network rule target \"1.2.3.4:9-8\": empty port range (LO > HI)"
        );
    }

    #[test]
    fn inactive_policy_allows_but_raw_and_packet() {
        let n = NetRules::new(Mode::All);
        assert!(!n.is_active());
        judged(
            &n,
            Direction::Connect,
            &v4("8.8.8.8:53"),
            Action::Allow,
            "--net all",
        );
        judged(
            &n,
            Direction::Bind,
            &v6("[::]:0"),
            Action::Allow,
            "--net all",
        );
        judged(
            &n,
            Direction::Connect,
            &abs(b"x"),
            Action::Allow,
            "--net all",
        );
        judged(
            &n,
            Direction::Send,
            &SockAddr::Other(31),
            Action::Allow,
            "--net all",
        );
        created(&n, SocketKind::Inet, Action::Allow, "--net all");
        created(
            &n,
            SocketKind::Netlink(NETLINK_AUDIT),
            Action::Allow,
            "--net all",
        );
        created(&n, SocketKind::Other(31), Action::Allow, "--net all");
        created(&n, SocketKind::Raw, DENY, "default: raw sockets denied");
        created(
            &n,
            SocketKind::Packet,
            DENY,
            "default: packet sockets denied",
        );
        created(
            &n,
            SocketKind::Unix,
            Action::Allow,
            "default: unix sockets allowed",
        );
    }

    #[test]
    fn allow_rules_in_mode_all_are_an_allowlist() {
        let n = net(Mode::All, &["allow connect 10.0.0.0/8:5432"]);
        let d = n.judge_addr(Direction::Connect, &v4("10.1.2.3:5432"));
        assert_eq!(d.action, Action::Allow);
        let d = n.judge_addr(Direction::Connect, &v4("10.1.2.3:80"));
        assert_eq!(d.action, Action::Deny(EACCES));
        assert_eq!(d.rule, "default: not allowed by any rule");
        // Deny rules alone: a blocklist.
        let n = net(Mode::All, &["deny connect 10.0.0.0/8"]);
        let d = n.judge_addr(Direction::Connect, &v4("192.0.2.1:80"));
        assert_eq!(d.action, Action::Allow);
    }

    #[test]
    fn is_active_flags() {
        let mut n = NetRules::new(Mode::All);
        n.set_strict_unix(true);
        assert!(n.is_active());
        n.set_strict_unix(false);
        n.add(rule("deny connect 169.254.169.254"));
        assert!(n.is_active());
        for m in [Mode::None, Mode::Loopback, Mode::Log, Mode::Ask] {
            assert!(NetRules::new(m).is_active(), "{m}");
        }
    }

    #[test]
    fn raw_and_packet_overridden_by_socket_rules() {
        let n = net(Mode::All, &["allow socket raw", "log * packet"]);
        created(&n, SocketKind::Raw, Action::Allow, "allow socket raw");
        created(&n, SocketKind::Packet, Action::Log, "log * packet");
        // A deny rule names itself; an `inet` rule does not cover raw.
        let n = net(Mode::All, &["deny=EPERM socket raw", "allow socket inet"]);
        created(
            &n,
            SocketKind::Raw,
            Action::Deny(EPERM),
            "deny=EPERM socket raw",
        );
        created(
            &n,
            SocketKind::Packet,
            DENY,
            "default: packet sockets denied",
        );
        let n = net(Mode::Log, &[]);
        created(&n, SocketKind::Raw, DENY, "default: raw sockets denied");
    }

    #[test]
    fn netlink_route_allowed_others_need_a_rule() {
        let n = net(Mode::None, &[]);
        created(
            &n,
            SocketKind::Netlink(0),
            Action::Allow,
            "default: netlink route allowed",
        );
        created(
            &n,
            SocketKind::Netlink(NETLINK_AUDIT),
            DENY,
            "default: netlink protocol 9 (audit) denied",
        );
        created(
            &n,
            SocketKind::Netlink(12),
            DENY,
            "default: netlink protocol 12 denied",
        );
        let n = net(
            Mode::None,
            &["allow socket netlink:audit", "deny socket netlink"],
        );
        // netlink:9 is more specific than netlink.
        created(
            &n,
            SocketKind::Netlink(9),
            Action::Allow,
            "allow socket netlink:audit",
        );
        created(&n, SocketKind::Netlink(0), DENY, "deny socket netlink");
        created(&n, SocketKind::Netlink(15), DENY, "deny socket netlink");
    }

    #[test]
    fn other_family_sockets_denied_when_active() {
        let n = net(Mode::Loopback, &[]);
        created(
            &n,
            SocketKind::Other(31),
            Action::Deny(EAFNOSUPPORT),
            "default: address family 31 denied",
        );
        judged(
            &n,
            Direction::Connect,
            &SockAddr::Other(31),
            Action::Deny(EAFNOSUPPORT),
            "default: address family 31 denied",
        );
        created(
            &n,
            SocketKind::Unix,
            Action::Allow,
            "default: unix sockets allowed",
        );
    }

    #[test]
    fn longer_prefix_wins_both_ways() {
        let n = net(
            Mode::None,
            &["allow connect 10.0.0.0/8", "deny connect 10.1.2.3"],
        );
        judged(
            &n,
            Direction::Connect,
            &v4("10.1.2.3:80"),
            DENY,
            "deny connect 10.1.2.3",
        );
        judged(
            &n,
            Direction::Connect,
            &v4("10.1.2.4:80"),
            Action::Allow,
            "allow connect 10.0.0.0/8",
        );
        let n = net(
            Mode::All,
            &["allow connect 10.9.0.0/16", "deny connect 10.0.0.0/8"],
        );
        judged(
            &n,
            Direction::Connect,
            &v4("10.9.1.1:1"),
            Action::Allow,
            "allow connect 10.9.0.0/16",
        );
        judged(
            &n,
            Direction::Connect,
            &v4("10.8.1.1:1"),
            DENY,
            "deny connect 10.0.0.0/8",
        );
        judged(
            &n,
            Direction::Connect,
            &v4("11.0.0.1:1"),
            DENY,
            "default: not allowed by any rule",
        );
    }

    #[test]
    fn narrower_port_range_wins() {
        let n = net(
            Mode::None,
            &[
                "deny connect 10.0.0.0/8:1-1024",
                "allow connect 10.0.0.0/8:443",
                "allow connect 10.0.0.0/8",
            ],
        );
        judged(
            &n,
            Direction::Connect,
            &v4("10.0.0.1:443"),
            Action::Allow,
            "allow connect 10.0.0.0/8:443",
        );
        judged(
            &n,
            Direction::Connect,
            &v4("10.0.0.1:22"),
            DENY,
            "deny connect 10.0.0.0/8:1-1024",
        );
        judged(
            &n,
            Direction::Connect,
            &v4("10.0.0.1:5432"),
            Action::Allow,
            "allow connect 10.0.0.0/8",
        );
    }

    #[test]
    fn stricter_action_wins_at_equal_specificity() {
        let n = net(
            Mode::All,
            &["allow connect 1.2.3.0/24", "deny=ETIMEDOUT * 1.2.3.0/24"],
        );
        judged(
            &n,
            Direction::Connect,
            &v4("1.2.3.4:80"),
            Action::Deny(ETIMEDOUT),
            "deny=ETIMEDOUT * 1.2.3.0/24",
        );
        let n = net(
            Mode::None,
            &["allow connect *", "log connect *", "ask connect *"],
        );
        judged(
            &n,
            Direction::Connect,
            &v4("1.2.3.4:80"),
            Action::Ask,
            "ask connect *",
        );
        let n = net(Mode::None, &["allow connect inet", "log connect *"]);
        judged(
            &n,
            Direction::Connect,
            &v4("1.2.3.4:80"),
            Action::Log,
            "log connect *",
        );
        // Equal action: the first rule names the decision.
        let n = net(Mode::None, &["allow connect inet", "allow connect *"]);
        judged(
            &n,
            Direction::Connect,
            &v4("1.2.3.4:80"),
            Action::Allow,
            "allow connect inet",
        );
    }

    #[test]
    fn directions_covered() {
        let n = net(
            Mode::None,
            &[
                "allow connect 1.1.1.1",
                "allow send 2.2.2.2",
                "allow bind 0.0.0.0:0",
            ],
        );
        let one = v4("1.1.1.1:53");
        let two = v4("2.2.2.2:53");
        judged(
            &n,
            Direction::Connect,
            &one,
            Action::Allow,
            "allow connect 1.1.1.1",
        );
        judged(
            &n,
            Direction::Send,
            &one,
            Action::Allow,
            "allow connect 1.1.1.1",
        );
        judged(
            &n,
            Direction::Send,
            &two,
            Action::Allow,
            "allow send 2.2.2.2",
        );
        judged(
            &n,
            Direction::Connect,
            &two,
            DENY,
            "default: not allowed (--net none)",
        );
        judged(
            &n,
            Direction::Bind,
            &one,
            DENY,
            "default: not allowed (--net none)",
        );
        judged(
            &n,
            Direction::Bind,
            &v4("0.0.0.0:0"),
            Action::Allow,
            "allow bind 0.0.0.0:0",
        );
        judged(
            &n,
            Direction::Bind,
            &v4("0.0.0.0:80"),
            DENY,
            "default: not allowed (--net none)",
        );
        assert!(rule("allow * inet").covers(Direction::Socket));
        assert!(!rule("allow send inet").covers(Direction::Connect));
    }

    #[test]
    fn star_direction_covers_socket_and_addresses() {
        let n = net(Mode::None, &["allow * inet"]);
        created(&n, SocketKind::Inet, Action::Allow, "allow * inet");
        created(
            &n,
            SocketKind::Inet6,
            DENY,
            "default: not allowed (--net none)",
        );
        judged(
            &n,
            Direction::Bind,
            &v4("0.0.0.0:0"),
            Action::Allow,
            "allow * inet",
        );
        judged(
            &n,
            Direction::Connect,
            &v6("[::2]:1"),
            DENY,
            "default: not allowed (--net none)",
        );
    }

    #[test]
    fn loopback_baseline() {
        let n = net(Mode::Loopback, &[]);
        for dir in [
            Direction::Connect,
            Direction::Send,
            Direction::Bind,
            Direction::Accept,
        ] {
            judged(
                &n,
                dir,
                &v4("127.0.0.53:53"),
                Action::Allow,
                "--net loopback",
            );
            judged(&n, dir, &v6("[::1]:8080"), Action::Allow, "--net loopback");
            judged(
                &n,
                dir,
                &v6("[::ffff:127.0.0.1]:80"),
                Action::Allow,
                "--net loopback",
            );
            judged(
                &n,
                dir,
                &v4("8.8.8.8:53"),
                DENY,
                "default: not allowed (--net loopback)",
            );
            judged(
                &n,
                dir,
                &v6("[::2]:1"),
                DENY,
                "default: not allowed (--net loopback)",
            );
        }
        created(&n, SocketKind::Inet, Action::Allow, "--net loopback");
        created(&n, SocketKind::Inet6, Action::Allow, "--net loopback");
        judged(
            &n,
            Direction::Connect,
            &abs(b"/tmp/.X11-unix/X0"),
            DENY,
            "default: abstract unix sockets denied unless allowed by name",
        );
    }

    #[test]
    fn loopback_baseline_competes_with_user_rules() {
        let n = net(
            Mode::Loopback,
            &["deny connect 127.0.0.1:6379", "allow connect 10.0.0.0/8"],
        );
        judged(
            &n,
            Direction::Connect,
            &v4("127.0.0.1:6379"),
            DENY,
            "deny connect 127.0.0.1:6379",
        );
        judged(
            &n,
            Direction::Connect,
            &v4("127.0.0.1:6380"),
            Action::Allow,
            "--net loopback",
        );
        judged(
            &n,
            Direction::Connect,
            &v4("10.2.3.4:1"),
            Action::Allow,
            "allow connect 10.0.0.0/8",
        );
        // Equal specificity: a user deny on the whole loopback net wins.
        let n = net(Mode::Loopback, &["deny bind 127.0.0.0/8"]);
        judged(
            &n,
            Direction::Bind,
            &v4("127.0.0.1:80"),
            DENY,
            "deny bind 127.0.0.0/8",
        );
        judged(
            &n,
            Direction::Connect,
            &v4("127.0.0.1:80"),
            Action::Allow,
            "--net loopback",
        );
    }

    #[test]
    fn mode_none_socket_creation_needs_a_rule_for_the_family() {
        let n = net(Mode::None, &[]);
        created(
            &n,
            SocketKind::Inet,
            DENY,
            "default: not allowed (--net none)",
        );
        created(
            &n,
            SocketKind::Inet6,
            DENY,
            "default: not allowed (--net none)",
        );
        judged(
            &n,
            Direction::Connect,
            &v4("1.1.1.1:53"),
            DENY,
            "default: not allowed (--net none)",
        );
        let n = net(
            Mode::None,
            &["deny connect *", "log connect [fd00::/8]:443"],
        );
        created(
            &n,
            SocketKind::Inet,
            DENY,
            "default: not allowed (--net none)",
        );
        created(
            &n,
            SocketKind::Inet6,
            Action::Allow,
            "log connect [fd00::/8]:443",
        );
        let n = net(Mode::None, &["allow connect [::ffff:10.0.0.0/104]"]);
        created(
            &n,
            SocketKind::Inet,
            Action::Allow,
            "allow connect 10.0.0.0/8",
        );
        created(
            &n,
            SocketKind::Inet6,
            DENY,
            "default: not allowed (--net none)",
        );
        let n = net(Mode::None, &["ask connect *"]);
        created(&n, SocketKind::Inet, Action::Allow, "ask connect *");
        created(&n, SocketKind::Inet6, Action::Allow, "ask connect *");
        // An explicit socket rule decides before the family test.
        let n = net(Mode::None, &["allow connect *", "deny socket inet6"]);
        created(&n, SocketKind::Inet6, DENY, "deny socket inet6");
    }

    #[test]
    fn mode_log_logs_unmatched() {
        let n = net(Mode::Log, &["deny connect 10.0.0.0/8"]);
        judged(
            &n,
            Direction::Connect,
            &v4("1.1.1.1:53"),
            Action::Log,
            "--net log",
        );
        judged(
            &n,
            Direction::Accept,
            &v6("[2001:db8::1]:9"),
            Action::Log,
            "--net log",
        );
        judged(
            &n,
            Direction::Connect,
            &abs(b"bus"),
            Action::Log,
            "--net log",
        );
        judged(
            &n,
            Direction::Connect,
            &v4("10.0.0.1:53"),
            DENY,
            "deny connect 10.0.0.0/8",
        );
        created(&n, SocketKind::Inet, Action::Log, "--net log");
    }

    #[test]
    fn mode_ask_asks_unmatched_addresses() {
        let n = net(Mode::Ask, &["allow connect 192.168.0.0/16"]);
        judged(
            &n,
            Direction::Connect,
            &v4("1.1.1.1:53"),
            Action::Ask,
            "--net ask",
        );
        judged(
            &n,
            Direction::Bind,
            &v6("[::]:80"),
            Action::Ask,
            "--net ask",
        );
        judged(
            &n,
            Direction::Connect,
            &abs(b"bus"),
            Action::Ask,
            "--net ask",
        );
        judged(
            &n,
            Direction::Connect,
            &v4("192.168.1.1:80"),
            Action::Allow,
            "allow connect 192.168.0.0/16",
        );
        created(&n, SocketKind::Inet6, Action::Allow, "--net ask");
        created(
            &n,
            SocketKind::Netlink(4),
            DENY,
            "default: netlink protocol 4 (sock_diag) denied",
        );
    }

    #[test]
    fn mode_all_with_rules_allows_unmatched() {
        let n = net(Mode::All, &["deny connect 169.254.169.254"]);
        judged(
            &n,
            Direction::Connect,
            &v4("169.254.169.254:80"),
            DENY,
            "deny connect 169.254.169.254",
        );
        judged(
            &n,
            Direction::Connect,
            &v4("1.1.1.1:80"),
            Action::Allow,
            "--net all",
        );
        created(&n, SocketKind::Inet, Action::Allow, "--net all");
        judged(
            &n,
            Direction::Connect,
            &abs(b"x"),
            Action::Allow,
            "--net all",
        );
    }

    #[test]
    fn mapped_v6_is_judged_as_v4() {
        let n = net(
            Mode::None,
            &["allow connect 10.0.0.0/8", "allow connect inet6"],
        );
        judged(
            &n,
            Direction::Connect,
            &v6("[::ffff:10.1.2.3]:80"),
            Action::Allow,
            "allow connect 10.0.0.0/8",
        );
        // `inet6` does not cover a mapped address: it is IPv4 traffic.
        judged(
            &n,
            Direction::Connect,
            &v6("[::ffff:11.1.2.3]:80"),
            DENY,
            "default: not allowed (--net none)",
        );
        judged(
            &n,
            Direction::Connect,
            &v6("[2001:db8::1]:80"),
            Action::Allow,
            "allow connect inet6",
        );
        let n = net(Mode::All, &["deny connect 1.2.3.4"]);
        judged(
            &n,
            Direction::Send,
            &v6("[::ffff:1.2.3.4]:53"),
            DENY,
            "deny connect 1.2.3.4",
        );
    }

    #[test]
    fn v6_networks_and_ports() {
        let n = net(
            Mode::None,
            &["allow connect [fd00::/8]:443", "deny connect [fd00::5]"],
        );
        judged(
            &n,
            Direction::Connect,
            &v6("[fd12::1]:443"),
            Action::Allow,
            "allow connect [fd00::/8]:443",
        );
        judged(
            &n,
            Direction::Connect,
            &v6("[fd00::5]:443"),
            DENY,
            "deny connect [fd00::5]",
        );
        judged(
            &n,
            Direction::Connect,
            &v6("[fd12::1]:80"),
            DENY,
            "default: not allowed (--net none)",
        );
        judged(
            &n,
            Direction::Connect,
            &v6("[fe00::1]:443"),
            DENY,
            "default: not allowed (--net none)",
        );
        // A v6 rule never matches an IPv4 address, whatever the prefix.
        let n = net(Mode::None, &["allow connect [::/0]"]);
        judged(
            &n,
            Direction::Connect,
            &v4("1.2.3.4:1"),
            DENY,
            "default: not allowed (--net none)",
        );
    }

    #[test]
    fn star_target_matches_both_families_and_ports() {
        let n = net(Mode::None, &["allow connect *:443"]);
        judged(
            &n,
            Direction::Connect,
            &v4("1.2.3.4:443"),
            Action::Allow,
            "allow connect *:443",
        );
        judged(
            &n,
            Direction::Connect,
            &v6("[2001:db8::1]:443"),
            Action::Allow,
            "allow connect *:443",
        );
        judged(
            &n,
            Direction::Connect,
            &v4("1.2.3.4:80"),
            DENY,
            "default: not allowed (--net none)",
        );
    }

    #[test]
    fn port_zero_is_a_literal() {
        let n = net(Mode::None, &["allow bind *:0"]);
        judged(
            &n,
            Direction::Bind,
            &v4("0.0.0.0:0"),
            Action::Allow,
            "allow bind *:0",
        );
        judged(
            &n,
            Direction::Bind,
            &v4("0.0.0.0:8080"),
            DENY,
            "default: not allowed (--net none)",
        );
    }

    #[test]
    fn accept_falls_back_to_connect_rules() {
        let n = net(Mode::None, &["allow connect 10.0.0.0/8:5432"]);
        judged(
            &n,
            Direction::Accept,
            &v4("10.0.0.7:5432"),
            Action::Allow,
            "allow connect 10.0.0.0/8:5432",
        );
        judged(
            &n,
            Direction::Accept,
            &v4("10.0.0.7:5433"),
            DENY,
            "default: not allowed (--net none)",
        );
        // A rule for accept decides even when connect would allow.
        let n = net(
            Mode::None,
            &["allow connect 10.0.0.0/8", "deny accept 10.0.0.0/16"],
        );
        judged(
            &n,
            Direction::Accept,
            &v4("10.0.1.1:1"),
            DENY,
            "deny accept 10.0.0.0/16",
        );
        judged(
            &n,
            Direction::Accept,
            &v4("10.1.1.1:1"),
            Action::Allow,
            "allow connect 10.0.0.0/8",
        );
        // ... even a less specific one.
        let n = net(Mode::None, &["allow connect 10.0.0.0/8", "deny accept *"]);
        judged(
            &n,
            Direction::Accept,
            &v4("10.1.1.1:1"),
            DENY,
            "deny accept *",
        );
        // Send-only and bind rules are no fallback.
        let n = net(
            Mode::None,
            &["allow send 10.0.0.0/8", "allow bind 10.0.0.0/8"],
        );
        judged(
            &n,
            Direction::Accept,
            &v4("10.1.1.1:1"),
            DENY,
            "default: not allowed (--net none)",
        );
    }

    #[test]
    fn abstract_names_in_mode_all() {
        let mut n = net(Mode::All, &[]);
        n.set_strict_unix(true);
        judged(
            &n,
            Direction::Connect,
            &abs(b"/tmp/.X11-unix/X0"),
            DENY,
            "default: abstract unix sockets denied unless allowed by name",
        );
        judged(
            &n,
            Direction::Connect,
            &v4("1.1.1.1:1"),
            Action::Allow,
            "--net all",
        );
        n.add(rule("allow connect @/tmp/.X11-unix/*"));
        n.add(rule("deny connect @/tmp/.X11-unix/X1"));
        judged(
            &n,
            Direction::Connect,
            &abs(b"/tmp/.X11-unix/X0"),
            Action::Allow,
            "allow connect @/tmp/.X11-unix/*",
        );
        judged(
            &n,
            Direction::Connect,
            &abs(b"/tmp/.X11-unix/X1"),
            DENY,
            "deny connect @/tmp/.X11-unix/X1",
        );
        judged(
            &n,
            Direction::Bind,
            &abs(b"/tmp/.X11-unix/X0"),
            DENY,
            "default: abstract unix sockets denied unless allowed by name",
        );
        n.set_strict_unix(false);
        judged(
            &n,
            Direction::Bind,
            &abs(b"/tmp/.X11-unix/X0"),
            Action::Allow,
            "--net all",
        );
    }

    #[test]
    fn abstract_exact_and_prefix_specificity() {
        let n = net(
            Mode::None,
            &[
                "deny connect @*",
                "allow connect @dbus-*",
                "ask connect @dbus-x",
                "allow connect @a\\x00",
            ],
        );
        judged(
            &n,
            Direction::Connect,
            &abs(b"dbus-abc"),
            Action::Allow,
            "allow connect @dbus-*",
        );
        judged(
            &n,
            Direction::Connect,
            &abs(b"dbus-x"),
            Action::Ask,
            "ask connect @dbus-x",
        );
        judged(
            &n,
            Direction::Connect,
            &abs(b"other"),
            DENY,
            "deny connect @*",
        );
        // Exact names compare every byte, trailing NULs included.
        judged(
            &n,
            Direction::Send,
            &abs(b"a\0"),
            Action::Allow,
            "allow connect @a\\x00",
        );
        judged(&n, Direction::Send, &abs(b"a"), DENY, "deny connect @*");
        // An exact rule beats a prefix rule of the same length.
        let n = net(Mode::None, &["deny connect @abc*", "allow connect @abc"]);
        judged(
            &n,
            Direction::Connect,
            &abs(b"abc"),
            Action::Allow,
            "allow connect @abc",
        );
        judged(
            &n,
            Direction::Connect,
            &abs(b"abcd"),
            DENY,
            "deny connect @abc*",
        );
    }

    #[test]
    fn non_inet_addresses() {
        for mode in Mode::ALL {
            let n = net(mode, &["deny * *"]);
            judged(
                &n,
                Direction::Connect,
                &SockAddr::UnixPath(b"/run/x".to_vec()),
                Action::Allow,
                "default: unix path sockets are judged by the filesystem policy",
            );
            judged(
                &n,
                Direction::Bind,
                &SockAddr::UnixUnnamed,
                Action::Allow,
                "default: unnamed unix address allowed (autobind)",
            );
            judged(
                &n,
                Direction::Connect,
                &SockAddr::Unspec,
                Action::Allow,
                "default: unspec address allowed (datagram disconnect)",
            );
            judged(
                &n,
                Direction::Send,
                &SockAddr::Netlink { pid: 0, groups: 0 },
                Action::Allow,
                "default: netlink addresses allowed",
            );
            judged(&n, Direction::Connect, &v4("8.8.8.8:1"), DENY, "deny * *");
        }
    }

    #[test]
    fn for_answer_builds_exact_rules() {
        let r = Rule::for_answer(Action::Allow, Direction::Connect, &v4("10.1.2.3:5432")).unwrap();
        assert_eq!(r.to_string(), "allow connect 10.1.2.3:5432");
        assert_eq!(rule(&r.to_string()), r);
        let r = Rule::for_answer(
            Action::Deny(ECONNREFUSED),
            Direction::Send,
            &v6("[2001:db8::1]:53"),
        )
        .unwrap();
        assert_eq!(r.to_string(), "deny=ECONNREFUSED send [2001:db8::1]:53");
        assert_eq!(rule(&r.to_string()), r);
        let r =
            Rule::for_answer(Action::Allow, Direction::Bind, &v6("[::ffff:1.2.3.4]:0")).unwrap();
        assert_eq!(r.to_string(), "allow bind 1.2.3.4:0");
        assert_eq!(rule(&r.to_string()), r);
        let r = Rule::for_answer(Action::Allow, Direction::Accept, &abs(b"x 1*\0")).unwrap();
        assert_eq!(r.to_string(), "allow accept @x\\x201\\x2a\\x00");
        assert_eq!(rule(&r.to_string()), r);
        let r = Rule::for_answer(Action::Deny(200), Direction::Connect, &v4("1.1.1.1:1")).unwrap();
        assert_eq!(r.to_string(), "deny=200 connect 1.1.1.1:1");
        assert_eq!(rule(&r.to_string()), r);
    }

    #[test]
    fn for_answer_refuses_what_no_rule_names() {
        let a = v4("1.1.1.1:1");
        assert_eq!(Rule::for_answer(Action::Allow, Direction::Socket, &a), None);
        assert_eq!(
            Rule::for_answer(Action::Deny(0), Direction::Connect, &a),
            None
        );
        assert_eq!(
            Rule::for_answer(Action::Deny(4096), Direction::Connect, &a),
            None
        );
        for other in [
            SockAddr::Unspec,
            SockAddr::UnixPath(b"/x".to_vec()),
            SockAddr::UnixUnnamed,
            SockAddr::UnixAbstract(Vec::new()),
            SockAddr::Netlink { pid: 0, groups: 0 },
            SockAddr::Other(31),
        ] {
            assert_eq!(
                Rule::for_answer(Action::Allow, Direction::Connect, &other),
                None,
                "{other}"
            );
        }
    }

    #[test]
    fn learned_rules_judge_and_are_kept() {
        let mut n = net(Mode::Ask, &["allow connect 10.0.0.0/8"]);
        let addr = v4("1.1.1.1:53");
        judged(&n, Direction::Send, &addr, Action::Ask, "--net ask");
        let answer = Rule::for_answer(Action::Allow, Direction::Send, &addr).unwrap();
        n.learn(answer.clone());
        judged(
            &n,
            Direction::Send,
            &addr,
            Action::Allow,
            "allow send 1.1.1.1:53",
        );
        judged(
            &n,
            Direction::Send,
            &v4("1.1.1.1:54"),
            Action::Ask,
            "--net ask",
        );
        assert_eq!(n.learned(), std::slice::from_ref(&answer));
        assert_eq!(n.rules().len(), 2);
        assert_eq!(n.rules()[1], answer);
        assert_eq!(n.mode(), Mode::Ask);
    }

    #[test]
    fn learning_activates_mode_all() {
        let mut n = NetRules::new(Mode::All);
        n.learn(rule("deny connect 1.1.1.1"));
        assert!(n.is_active());
        judged(
            &n,
            Direction::Connect,
            &v4("1.1.1.1:1"),
            DENY,
            "deny connect 1.1.1.1",
        );
        created(
            &n,
            SocketKind::Netlink(9),
            DENY,
            "default: netlink protocol 9 (audit) denied",
        );
    }

    #[test]
    fn action_display_and_errno() {
        assert_eq!(Action::Deny(EACCES).to_string(), "deny");
        assert_eq!(Action::Deny(EHOSTUNREACH).to_string(), "deny=EHOSTUNREACH");
        assert_eq!(Action::Deny(7).to_string(), "deny=7");
        assert_eq!(Action::Deny(ENOENT).errno(), Some(2));
        assert_eq!(Action::Log.errno(), None);
        for (name, errno) in ERRNO_NAMES {
            let r = rule(&format!("deny={name} connect *"));
            assert_eq!(r.action(), Action::Deny(errno));
            assert_eq!(rule(&r.to_string()), r);
        }
    }
}
