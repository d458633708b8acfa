// SPDX-License-Identifier: GPL-3.0-or-later
//! The [`TraceeMem`] trait: raw reads and writes from the back ends, and the
//! bounded readers built on them (C strings, argv-like pointer arrays,
//! buffers and plain-old-data values), each with a hard limit.
#![forbid(unsafe_code)]

use std::io;

use crate::{MemError, PtrWidth, RemoteAddr};

/// Scanning reads never cross a multiple of this many bytes in one request.
///
/// x86 pages are 4 KiB and every larger page size is a multiple of 4 KiB, so
/// a chunk that stops at a 4 KiB boundary never reaches into the next page:
/// a string that ends just before an unmapped page is read without touching
/// that page.
pub const SCAN_BOUNDARY: usize = 4096;

/// First chunk of a scanning read; later chunks double up to
/// [`SCAN_BOUNDARY`], so short strings cost little and long ones few calls.
const SCAN_FIRST_CHUNK: usize = 64;

/// Read and write access to a stopped tracee's memory.
///
/// Every error about a bad tracee pointer is [`MemError::Fault`] naming the
/// first address that failed; nothing here panics on tracee-supplied input.
pub trait TraceeMem {
    /// The tracee (thread) id whose memory this is.
    fn pid(&self) -> i32;

    /// Fill `buf` from tracee memory at `addr`; all or nothing.
    fn read(&mut self, addr: RemoteAddr, buf: &mut [u8]) -> Result<(), MemError>;

    /// Write `data` at `addr` (works on read-only mappings for /proc/PID/mem
    /// and POKEDATA alike).
    ///
    /// Not atomic: when it faults part way, the bytes before the failing
    /// address may already have been written.
    fn write(&mut self, addr: RemoteAddr, data: &[u8]) -> Result<(), MemError>;

    /// Read a NUL-terminated string of at most `limit` bytes (NUL excluded);
    /// `TooLong` when no NUL within the limit.
    ///
    /// Reads in chunks that stop at page boundaries, so a string ending just
    /// before an unmapped page is read successfully.
    fn read_cstr(&mut self, addr: RemoteAddr, limit: usize) -> Result<Vec<u8>, MemError> {
        let mut out = Vec::new();
        let found = scan(self, addr, limit.saturating_add(1), |chunk| {
            match chunk.iter().position(|&b| b == 0) {
                Some(nul) => {
                    out.extend_from_slice(chunk.get(..nul).unwrap_or_default());
                    true
                }
                None => {
                    out.extend_from_slice(chunk);
                    false
                }
            }
        })?;
        if found {
            Ok(out)
        } else {
            Err(too_long(self, addr, limit))
        }
    }

    /// Read `len` bytes at `addr` into a new vector; `TooLong` (before any
    /// access) when `len` exceeds `limit`. For tracee-supplied sizes
    /// (`write(fd, buf, count)`, `sockaddr` lengths).
    fn read_vec(
        &mut self,
        addr: RemoteAddr,
        len: usize,
        limit: usize,
    ) -> Result<Vec<u8>, MemError> {
        if len > limit {
            return Err(too_long(self, addr, limit));
        }
        let mut buf = vec![0; len];
        self.read(addr, &mut buf)?;
        Ok(buf)
    }

    /// Read one tracee pointer of the given ABI width.
    fn read_ptr(&mut self, addr: RemoteAddr, width: PtrWidth) -> Result<RemoteAddr, MemError> {
        let mut buf = [0u8; 8];
        let bytes = buf.get_mut(..width.bytes()).unwrap_or_default();
        self.read(addr, bytes)?;
        Ok(width.decode(bytes).unwrap_or_default())
    }

    /// Read a NULL-terminated array of tracee pointers (`argv`, `envp`) whose
    /// entries are `width` bytes wide; the NULL is not returned. `TooLong`
    /// (with `limit` = `max_count`) when there are more than `max_count`
    /// non-NULL entries.
    fn read_array_of_ptrs(
        &mut self,
        addr: RemoteAddr,
        width: PtrWidth,
        max_count: usize,
    ) -> Result<Vec<RemoteAddr>, MemError> {
        let w = width.bytes();
        let max_bytes = max_count.saturating_add(1).saturating_mul(w);
        let mut ptrs = Vec::new();
        let mut pending = Vec::with_capacity(w);
        let found = scan(self, addr, max_bytes, |chunk| {
            for &b in chunk {
                pending.push(b);
                if pending.len() == w {
                    let p = width.decode(&pending).unwrap_or_default();
                    pending.clear();
                    if p.is_null() {
                        return true;
                    }
                    ptrs.push(p);
                }
            }
            false
        })?;
        if found {
            Ok(ptrs)
        } else {
            Err(too_long(self, addr, max_count))
        }
    }

    /// Read a plain-old-data value laid out as the tracee's ABI lays it out.
    ///
    /// Generic, so not callable on `dyn TraceeMem` directly; through a
    /// `d: &mut dyn TraceeMem` write `(&mut d).read_pod::<T>(addr)`.
    fn read_pod<T: Pod>(&mut self, addr: RemoteAddr) -> Result<T, MemError>
    where
        Self: Sized,
    {
        let buf = self.read_vec(addr, T::SIZE, T::SIZE)?;
        T::decode(&buf).ok_or_else(|| MemError::Os {
            op: "decode a tracee value",
            pid: self.pid(),
            source: io::Error::new(io::ErrorKind::InvalidData, "Pod::decode rejected its SIZE"),
        })
    }

    /// Write a plain-old-data value laid out as the tracee's ABI lays it out.
    fn write_pod<T: Pod>(&mut self, addr: RemoteAddr, value: &T) -> Result<(), MemError>
    where
        Self: Sized,
    {
        let mut buf = Vec::with_capacity(T::SIZE);
        value.encode(&mut buf);
        self.write(addr, &buf)
    }
}

/// The `TooLong` error for a read starting at `addr`.
fn too_long<M: TraceeMem + ?Sized>(mem: &M, addr: RemoteAddr, limit: usize) -> MemError {
    MemError::TooLong {
        pid: mem.pid(),
        addr,
        limit,
    }
}

impl<M: TraceeMem + ?Sized> TraceeMem for &mut M {
    fn pid(&self) -> i32 {
        (**self).pid()
    }
    fn read(&mut self, addr: RemoteAddr, buf: &mut [u8]) -> Result<(), MemError> {
        (**self).read(addr, buf)
    }
    fn write(&mut self, addr: RemoteAddr, data: &[u8]) -> Result<(), MemError> {
        (**self).write(addr, data)
    }
    fn read_cstr(&mut self, addr: RemoteAddr, limit: usize) -> Result<Vec<u8>, MemError> {
        (**self).read_cstr(addr, limit)
    }
    fn read_vec(
        &mut self,
        addr: RemoteAddr,
        len: usize,
        limit: usize,
    ) -> Result<Vec<u8>, MemError> {
        (**self).read_vec(addr, len, limit)
    }
    fn read_ptr(&mut self, addr: RemoteAddr, width: PtrWidth) -> Result<RemoteAddr, MemError> {
        (**self).read_ptr(addr, width)
    }
    fn read_array_of_ptrs(
        &mut self,
        addr: RemoteAddr,
        width: PtrWidth,
        max_count: usize,
    ) -> Result<Vec<RemoteAddr>, MemError> {
        (**self).read_array_of_ptrs(addr, width, max_count)
    }
}

/// Read up to `max_len` bytes from `addr` in chunks that never cross a
/// [`SCAN_BOUNDARY`], handing each chunk to `visit` until it returns `true`.
/// Returns whether `visit` finished (`false`: `max_len` bytes seen first).
pub(crate) fn scan<M: TraceeMem + ?Sized>(
    mem: &mut M,
    addr: RemoteAddr,
    max_len: usize,
    mut visit: impl FnMut(&[u8]) -> bool,
) -> Result<bool, MemError> {
    let mut buf = vec![0u8; SCAN_BOUNDARY];
    let mut chunk = SCAN_FIRST_CHUNK;
    let mut done = 0usize;
    while done < max_len {
        let Some(cur) = addr.checked_add(done) else {
            // Past the end of the address space: nothing can be there.
            return Err(MemError::Fault {
                op: crate::Access::Read,
                pid: mem.pid(),
                addr: RemoteAddr(u64::MAX),
            });
        };
        let n = chunk.min(max_len - done).min(to_boundary(cur));
        let part = buf.get_mut(..n).unwrap_or_default();
        mem.read(cur, part)?;
        if visit(part) {
            return Ok(true);
        }
        done += n;
        chunk = (chunk * 2).min(SCAN_BOUNDARY);
    }
    Ok(false)
}

/// Bytes from `addr` to the next [`SCAN_BOUNDARY`] (1..=SCAN_BOUNDARY).
pub(crate) fn to_boundary(addr: RemoteAddr) -> usize {
    let into = addr.0 % (SCAN_BOUNDARY as u64);
    SCAN_BOUNDARY - usize::try_from(into).unwrap_or(0)
}

/// A plain-old-data value as the *tracee's* ABI lays it out, decoded and
/// encoded explicitly from native-endian bytes (no transmutes: a 32-bit
/// tracee's struct differs from the tracer's, so callers spell the layout).
///
/// Implemented for the fixed-size integers and arrays of them; callers add
/// impls for ABI structs (`timespec` of i386, `iovec` of x86_64...).
pub trait Pod: Sized {
    /// Size in tracee memory, in bytes.
    const SIZE: usize;
    /// Decode from exactly `SIZE` bytes; `None` for any other length.
    fn decode(bytes: &[u8]) -> Option<Self>;
    /// Append the `SIZE`-byte encoding to `out`.
    fn encode(&self, out: &mut Vec<u8>);
}

macro_rules! pod_int {
    ($($t:ty),*) => {$(
        impl Pod for $t {
            const SIZE: usize = size_of::<$t>();
            fn decode(bytes: &[u8]) -> Option<Self> {
                <[u8; size_of::<$t>()]>::try_from(bytes).ok().map(<$t>::from_ne_bytes)
            }
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_ne_bytes());
            }
        }
    )*};
}
pod_int!(u8, u16, u32, u64, i8, i16, i32, i64);

impl<T: Pod, const N: usize> Pod for [T; N] {
    const SIZE: usize = T::SIZE * N;
    fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != Self::SIZE {
            return None;
        }
        let items: Vec<T> = if T::SIZE == 0 {
            (0..N).map(|_| T::decode(&[])).collect::<Option<_>>()?
        } else {
            bytes
                .chunks_exact(T::SIZE)
                .map(T::decode)
                .collect::<Option<_>>()?
        };
        items.try_into().ok()
    }
    fn encode(&self, out: &mut Vec<u8>) {
        for item in self {
            item.encode(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Access;

    /// A fake tracee: `mem` at `base`, padded with 0xaa to whole pages (the
    /// granularity of real mappings), everything else unmapped; records every
    /// read request.
    struct Fake {
        base: u64,
        mem: Vec<u8>,
        reads: Vec<(u64, usize)>,
    }

    impl Fake {
        fn new(base: u64, mut mem: Vec<u8>) -> Fake {
            assert_eq!(base % SCAN_BOUNDARY as u64, 0);
            mem.resize(mem.len().div_ceil(SCAN_BOUNDARY) * SCAN_BOUNDARY, 0xaa);
            Fake {
                base,
                mem,
                reads: Vec::new(),
            }
        }
        fn fault(&self, op: Access, addr: u64) -> MemError {
            MemError::Fault {
                op,
                pid: 1,
                addr: RemoteAddr(addr),
            }
        }
    }

    impl TraceeMem for Fake {
        fn pid(&self) -> i32 {
            1
        }
        fn read(&mut self, addr: RemoteAddr, buf: &mut [u8]) -> Result<(), MemError> {
            self.reads.push((addr.0, buf.len()));
            for (i, b) in buf.iter_mut().enumerate() {
                let a = addr.0 + u64::try_from(i).unwrap();
                let off = a
                    .checked_sub(self.base)
                    .ok_or(self.fault(Access::Read, a))?;
                *b = *self
                    .mem
                    .get(usize::try_from(off).unwrap())
                    .ok_or(self.fault(Access::Read, a))?;
            }
            Ok(())
        }
        fn write(&mut self, addr: RemoteAddr, data: &[u8]) -> Result<(), MemError> {
            for (i, b) in data.iter().enumerate() {
                let a = addr.0 + u64::try_from(i).unwrap();
                let off = usize::try_from(a - self.base).unwrap();
                self.mem[off] = *b;
            }
            Ok(())
        }
    }

    const BASE: u64 = 0x10_0000;

    #[test]
    fn cstr_stops_at_nul_and_limit() {
        let mut f = Fake::new(BASE, b"hello\0world\0".to_vec());
        assert_eq!(f.read_cstr(RemoteAddr(BASE), 100).unwrap(), b"hello");
        assert_eq!(f.read_cstr(RemoteAddr(BASE), 5).unwrap(), b"hello");
        assert!(matches!(
            f.read_cstr(RemoteAddr(BASE), 4),
            Err(MemError::TooLong { limit: 4, .. })
        ));
        assert_eq!(f.read_cstr(RemoteAddr(BASE + 5), 0).unwrap(), b"");
        assert!(matches!(
            f.read_cstr(RemoteAddr(BASE), 0),
            Err(MemError::TooLong { limit: 0, .. })
        ));
    }

    #[test]
    fn cstr_chunks_stop_at_page_boundaries() {
        // One mapped page; the string's NUL is its last byte.
        let mut page = vec![b'x'; SCAN_BOUNDARY];
        page[SCAN_BOUNDARY - 1] = 0;
        let mut f = Fake::new(BASE, page);
        let s = f.read_cstr(RemoteAddr(BASE + 10), usize::MAX).unwrap();
        assert_eq!(s.len(), SCAN_BOUNDARY - 11);
        let base = BASE;
        let end = base + SCAN_BOUNDARY as u64;
        for &(a, n) in &f.reads {
            assert!(
                a >= base && a + n as u64 <= end,
                "read {a:#x}+{n} crosses the page"
            );
        }
        // Starts small: a short string costs one small read.
        let mut f = Fake::new(BASE, b"ab\0".iter().copied().chain([b'z'; 8000]).collect());
        assert_eq!(f.read_cstr(RemoteAddr(BASE), 4096).unwrap(), b"ab");
        assert_eq!(f.reads, vec![(BASE, SCAN_FIRST_CHUNK)]);
    }

    #[test]
    fn cstr_running_into_unmapped_memory_faults_there() {
        let mut f = Fake::new(BASE, vec![b'x'; SCAN_BOUNDARY]);
        let e = f.read_cstr(RemoteAddr(BASE + 100), 1 << 20).unwrap_err();
        assert!(
            matches!(e, MemError::Fault { addr, .. } if addr.0 == BASE + SCAN_BOUNDARY as u64),
            "{e:?}"
        );
    }

    #[test]
    fn ptr_arrays_of_both_widths() {
        let mut bytes = Vec::new();
        for p in [0x1111_2222u32, 0x3333_4444, 0] {
            bytes.extend_from_slice(&p.to_ne_bytes());
        }
        bytes.extend_from_slice(&[0xff; 8]);
        let mut f = Fake::new(BASE, bytes);
        let v = f
            .read_array_of_ptrs(RemoteAddr(BASE), PtrWidth::W32, 2)
            .unwrap();
        assert_eq!(v, vec![RemoteAddr(0x1111_2222), RemoteAddr(0x3333_4444)]);
        assert!(matches!(
            f.read_array_of_ptrs(RemoteAddr(BASE), PtrWidth::W32, 1),
            Err(MemError::TooLong { limit: 1, .. })
        ));
        // The same bytes as 8-byte pointers: no NULL entry at all.
        let e = f
            .read_array_of_ptrs(RemoteAddr(BASE), PtrWidth::W64, 10)
            .unwrap_err();
        assert!(matches!(e, MemError::TooLong { limit: 10, .. }), "{e:?}");
        // An array running into unmapped memory faults at its first byte.
        let page = SCAN_BOUNDARY as u64;
        let e = f
            .read_array_of_ptrs(RemoteAddr(BASE + page - 8), PtrWidth::W32, 10)
            .unwrap_err();
        assert!(
            matches!(e, MemError::Fault { addr, .. } if addr.0 == BASE + page),
            "{e:?}"
        );

        let mut bytes = Vec::new();
        for p in [0x8000_0000_0000_0001u64, 7, 0] {
            bytes.extend_from_slice(&p.to_ne_bytes());
        }
        // Unaligned start and an entry split across chunk boundaries.
        let mut padded = vec![0xee; 61];
        padded.extend_from_slice(&bytes);
        let mut f = Fake::new(BASE, padded);
        let v = f
            .read_array_of_ptrs(RemoteAddr(BASE + 61), PtrWidth::W64, 2)
            .unwrap();
        assert_eq!(v, vec![RemoteAddr(0x8000_0000_0000_0001), RemoteAddr(7)]);
        assert_eq!(
            f.read_array_of_ptrs(RemoteAddr(BASE + 61 + 16), PtrWidth::W64, 0)
                .unwrap(),
            vec![]
        );
    }

    #[test]
    fn vec_and_pod_reads() {
        let mut f = Fake::new(BASE, (0u8..32).collect());
        assert_eq!(
            f.read_vec(RemoteAddr(BASE + 2), 3, 3).unwrap(),
            vec![2, 3, 4]
        );
        assert!(matches!(
            f.read_vec(RemoteAddr(BASE), 4, 3),
            Err(MemError::TooLong { limit: 3, .. })
        ));
        assert!(f.reads.len() == 1, "TooLong must not touch memory");
        assert_eq!(
            f.read_pod::<u32>(RemoteAddr(BASE)).unwrap(),
            u32::from_ne_bytes([0, 1, 2, 3])
        );
        let arr: [u16; 3] = f.read_pod(RemoteAddr(BASE + 4)).unwrap();
        assert_eq!(
            arr,
            [
                u16::from_ne_bytes([4, 5]),
                u16::from_ne_bytes([6, 7]),
                u16::from_ne_bytes([8, 9])
            ]
        );
        f.write_pod(RemoteAddr(BASE + 8), &0x0102_0304_0506_0708u64)
            .unwrap();
        assert_eq!(
            f.read_pod::<u64>(RemoteAddr(BASE + 8)).unwrap(),
            0x0102_0304_0506_0708
        );
        assert_eq!(
            f.read_ptr(RemoteAddr(BASE + 8), PtrWidth::W32).unwrap(),
            RemoteAddr(0x0506_0708)
        );
        assert!(f
            .read_pod::<u64>(RemoteAddr(BASE - 4))
            .unwrap_err()
            .is_fault());
        assert_eq!(<[u32; 4]>::SIZE, 16);
        assert!(<[u32; 2]>::decode(&[0; 7]).is_none());
    }

    #[test]
    fn works_through_dyn() {
        let mut f = Fake::new(BASE, b"dyn\0".to_vec());
        let d: &mut dyn TraceeMem = &mut f;
        assert_eq!(d.read_cstr(RemoteAddr(BASE), 10).unwrap(), b"dyn");
        // Generic methods need a sized receiver: `&mut &mut dyn` is one.
        let mut r = d;
        assert_eq!((&mut r).read_pod::<u8>(RemoteAddr(BASE)).unwrap(), b'd');
    }

    #[test]
    fn boundary_math() {
        assert_eq!(to_boundary(RemoteAddr(0)), SCAN_BOUNDARY);
        assert_eq!(to_boundary(RemoteAddr(1)), SCAN_BOUNDARY - 1);
        assert_eq!(to_boundary(RemoteAddr(4095)), 1);
        assert_eq!(to_boundary(RemoteAddr(u64::MAX)), 1);
    }
}
