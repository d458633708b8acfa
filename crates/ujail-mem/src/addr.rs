// SPDX-License-Identifier: GPL-3.0-or-later
//! Tracee addresses and pointer widths: integers in the tracee's address
//! space, never tracer pointers.
#![forbid(unsafe_code)]

use std::fmt;

/// An address in the tracee's address space (never a tracer pointer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct RemoteAddr(pub u64);

impl RemoteAddr {
    /// The null address.
    pub const NULL: RemoteAddr = RemoteAddr(0);

    /// The address as an integer.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// Whether this is the null address.
    pub const fn is_null(self) -> bool {
        self.0 == 0
    }

    /// `self + off`, or `None` past the end of the 64-bit address space.
    pub fn checked_add(self, off: usize) -> Option<RemoteAddr> {
        let off = u64::try_from(off).ok()?;
        self.0.checked_add(off).map(RemoteAddr)
    }
}

impl From<u64> for RemoteAddr {
    fn from(addr: u64) -> RemoteAddr {
        RemoteAddr(addr)
    }
}

impl From<u32> for RemoteAddr {
    fn from(addr: u32) -> RemoteAddr {
        RemoteAddr(u64::from(addr))
    }
}

impl fmt::Display for RemoteAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl fmt::LowerHex for RemoteAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

/// Width of a pointer in the tracee's syscall ABI: decides how argv-like
/// arrays are decoded (i386: 4 bytes, x86_64: 8 bytes). The tracee's ABI,
/// not the tracer's build, chooses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PtrWidth {
    /// 4-byte pointers (i386).
    W32,
    /// 8-byte pointers (x86_64).
    W64,
}

impl PtrWidth {
    /// Bytes per pointer: 4 or 8.
    pub const fn bytes(self) -> usize {
        match self {
            PtrWidth::W32 => 4,
            PtrWidth::W64 => 8,
        }
    }

    /// Decode one native-endian (little-endian on x86) pointer from exactly
    /// [`bytes`](Self::bytes) bytes; `None` for any other length.
    pub fn decode(self, bytes: &[u8]) -> Option<RemoteAddr> {
        match self {
            PtrWidth::W32 => <[u8; 4]>::try_from(bytes)
                .ok()
                .map(|b| RemoteAddr::from(u32::from_ne_bytes(b))),
            PtrWidth::W64 => <[u8; 8]>::try_from(bytes)
                .ok()
                .map(|b| RemoteAddr(u64::from_ne_bytes(b))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_hex() {
        assert_eq!(RemoteAddr(0).to_string(), "0x0");
        assert_eq!(RemoteAddr(0xdead_beef).to_string(), "0xdeadbeef");
        assert_eq!(format!("{:x}", RemoteAddr(255)), "ff");
    }

    #[test]
    fn checked_add_stops_at_the_end() {
        assert_eq!(RemoteAddr(1).checked_add(2), Some(RemoteAddr(3)));
        assert_eq!(
            RemoteAddr(u64::MAX).checked_add(0),
            Some(RemoteAddr(u64::MAX))
        );
        assert_eq!(RemoteAddr(u64::MAX).checked_add(1), None);
    }

    #[test]
    fn ptr_width_decodes_exact_lengths_only() {
        assert_eq!(PtrWidth::W32.bytes(), 4);
        assert_eq!(PtrWidth::W64.bytes(), 8);
        assert_eq!(
            PtrWidth::W32.decode(&[0x78, 0x56, 0x34, 0x12]),
            Some(RemoteAddr(0x1234_5678))
        );
        assert_eq!(
            PtrWidth::W64.decode(&[1, 0, 0, 0, 0, 0, 0, 0x80]),
            Some(RemoteAddr(0x8000_0000_0000_0001))
        );
        assert_eq!(PtrWidth::W32.decode(&[1, 2, 3]), None);
        assert_eq!(PtrWidth::W64.decode(&[0; 4]), None);
    }
}
