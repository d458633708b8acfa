// SPDX-License-Identifier: GPL-3.0-or-later
//! Both back ends ([`PeekPoke`], [`ProcMem`]) against a real traced child.
//!
//! The child is forked from the test process, so it holds the same bytes at
//! the same addresses: we know what it must read. Writes go to the child's
//! copy only, which the tests check against the parent's untouched copy.
//! Every test runs under the watchdog of `common::Child`.

mod common;

use std::ffi::CString;

use common::{remote, Child, Prep, Region, PAGE};
use ujail_mem::{Access, MemError, PeekPoke, ProcMem, PtrWidth, RemoteAddr, TraceeMem};

type Open<M> = fn(i32) -> M;

fn peekpoke(pid: i32) -> PeekPoke {
    PeekPoke::new(pid)
}

fn procmem(pid: i32) -> ProcMem {
    ProcMem::open(pid).expect("open /proc/PID/mem")
}

/// Generates `peekpoke::NAME` and `procmem::NAME` for each generic test.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod peekpoke_backend {
            $( #[test] fn $name() { super::$name(super::peekpoke) } )*
        }
        mod procmem_backend {
            $( #[test] fn $name() { super::$name(super::procmem) } )*
        }
    };
}

both_backends!(
    reads_known_bytes_at_every_alignment,
    reads_c_strings,
    too_long_strings,
    writes_then_reads_back,
    partial_writes_keep_neighbours,
    crosses_mapped_pages,
    faults_at_the_first_unmapped_address,
    null_and_kernel_addresses_fault,
    writes_into_read_only_pages,
    reads_argv_like_pointer_arrays,
    reads_and_writes_pod,
);

/// A recognisable, position-dependent byte pattern without NULs.
fn pattern(i: usize) -> u8 {
    u8::try_from(i % 251).unwrap() + 1
}

fn assert_fault(r: Result<impl std::fmt::Debug, MemError>, op: Access, pid: i32, at: RemoteAddr) {
    match r {
        Err(MemError::Fault {
            op: o,
            pid: p,
            addr,
        }) => {
            assert_eq!((o, p, addr), (op, pid, at), "fault fields");
        }
        other => panic!("expected {op} fault at {at}, got {other:?}"),
    }
}

fn reads_known_bytes_at_every_alignment<M: TraceeMem>(open: Open<M>) {
    let mut r = Region::map(1);
    for (i, b) in r.bytes().iter_mut().enumerate() {
        *b = pattern(i);
    }
    let child = Child::spawn(&[]);
    let mut mem = open(child.pid());
    let want = r.bytes().to_vec();
    for off in 0..24 {
        for len in 0..40 {
            let mut buf = vec![0; len];
            mem.read(r.at(off), &mut buf).unwrap();
            assert_eq!(buf, want[off..off + len], "off {off} len {len}");
        }
    }
    let mut all = vec![0; PAGE];
    mem.read(r.at(0), &mut all).unwrap();
    assert_eq!(all, want);
}

static GREETING: &[u8] = b"hello, tracee\0";

fn reads_c_strings<M: TraceeMem>(open: Open<M>) {
    let mut r = Region::map(1);
    r.bytes()[..5].copy_from_slice(b"\0abc\0");
    let slot = |off: usize| 100 + 64 * off + off;
    for off in 0..16 {
        let s = format!("string at offset {off}\0");
        r.bytes()[slot(off)..][..s.len()].copy_from_slice(s.as_bytes());
    }
    let child = Child::spawn(&[]);
    let mut mem = open(child.pid());
    // From the test binary's read-only data.
    let g = remote(GREETING.as_ptr().expose_provenance());
    assert_eq!(mem.read_cstr(g, 100).unwrap(), b"hello, tracee");
    assert_eq!(mem.read_cstr(r.at(0), 100).unwrap(), b"");
    assert_eq!(mem.read_cstr(r.at(1), 3).unwrap(), b"abc");
    // Every start alignment.
    for off in 0..16 {
        let got = mem.read_cstr(r.at(slot(off)), 1024).unwrap();
        assert_eq!(
            String::from_utf8(got).unwrap(),
            format!("string at offset {off}")
        );
    }
}

fn too_long_strings<M: TraceeMem>(open: Open<M>) {
    let mut r = Region::map(1);
    r.bytes()[7..107].fill(b'a');
    let child = Child::spawn(&[]);
    let pid = child.pid();
    let mut mem = open(pid);
    assert_eq!(mem.read_cstr(r.at(7), 100).unwrap(), vec![b'a'; 100]);
    match mem.read_cstr(r.at(7), 99) {
        Err(MemError::TooLong {
            pid: p,
            addr,
            limit,
        }) => {
            assert_eq!((p, addr, limit), (pid, r.at(7), 99));
        }
        other => panic!("expected TooLong, got {other:?}"),
    }
    assert!(matches!(
        mem.read_cstr(r.at(7), 0),
        Err(MemError::TooLong { limit: 0, .. })
    ));
    assert!(matches!(
        mem.read_vec(r.at(7), 10, 9),
        Err(MemError::TooLong { limit: 9, .. })
    ));
}

fn writes_then_reads_back<M: TraceeMem>(open: Open<M>) {
    let mut r = Region::map(1);
    r.bytes().fill(0x11);
    let child = Child::spawn(&[]);
    let mut mem = open(child.pid());
    let payload = b"payload written by the tracer";
    mem.write(r.at(100), payload).unwrap();
    let mut back = vec![0; payload.len() + 2];
    mem.read(r.at(99), &mut back).unwrap();
    assert_eq!(back[0], 0x11);
    assert_eq!(&back[1..=payload.len()], payload);
    assert_eq!(back[payload.len() + 1], 0x11);
    // The other back end sees the same child memory.
    let mut other = vec![0; payload.len()];
    PeekPoke::new(child.pid())
        .read(r.at(100), &mut other)
        .unwrap();
    assert_eq!(other, payload);
    ProcMem::open(child.pid())
        .unwrap()
        .read(r.at(100), &mut other)
        .unwrap();
    assert_eq!(other, payload);
    // It was the child's copy that changed, not ours.
    assert!(r.bytes().iter().all(|&b| b == 0x11));
    assert!(mem.write(r.at(5), &[]).is_ok());
}

fn partial_writes_keep_neighbours<M: TraceeMem>(open: Open<M>) {
    let mut r = Region::map(1);
    for (i, b) in r.bytes().iter_mut().enumerate() {
        *b = pattern(i);
    }
    let mut model = r.bytes()[..128].to_vec();
    let child = Child::spawn(&[]);
    let mut mem = open(child.pid());
    let mut stamp = 0u8;
    for off in 0..=16 {
        for len in 1..=17 {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    stamp = stamp.wrapping_add(1);
                    stamp
                })
                .collect();
            let at = 40 + off;
            mem.write(r.at(at), &data).unwrap();
            model[at..at + len].copy_from_slice(&data);
            let mut now = vec![0; model.len()];
            mem.read(r.at(0), &mut now).unwrap();
            assert_eq!(now, model, "after writing {len} bytes at offset {at}");
        }
    }
}

fn crosses_mapped_pages<M: TraceeMem>(open: Open<M>) {
    let mut r = Region::map(2);
    let s = b"this string spans two pages";
    let start = PAGE - 7;
    r.bytes()[start..start + s.len()].copy_from_slice(s);
    r.bytes()[start + s.len()] = 0;
    let child = Child::spawn(&[]);
    let mut mem = open(child.pid());
    assert_eq!(mem.read_cstr(r.at(start), 4096).unwrap(), s);
    let mut buf = vec![0; 300];
    mem.read(r.at(PAGE - 150), &mut buf).unwrap();
    assert_eq!(buf, r.bytes()[PAGE - 150..PAGE + 150]);
    let w: Vec<u8> = (0..40).map(pattern).collect();
    mem.write(r.at(PAGE - 13), &w).unwrap();
    let mut back = vec![0; 40];
    mem.read(r.at(PAGE - 13), &mut back).unwrap();
    assert_eq!(back, w);
}

fn faults_at_the_first_unmapped_address<M: TraceeMem>(open: Open<M>) {
    // Pages: 0 mapped, 1 hole, 2 mapped, 3 hole.
    let mut r = Region::map(4);
    r.bytes()[..PAGE].fill(b'x');
    r.bytes()[PAGE - 1] = 0; // a string that ends on the last byte before a hole
    r.bytes()[2 * PAGE..3 * PAGE].fill(b'z'); // one that runs into a hole
    let holes = [1, 3].map(|p| Prep::Unmap {
        addr: r.addr(p * PAGE),
        len: PAGE,
    });
    let child = Child::spawn(&holes);
    let pid = child.pid();
    let mut mem = open(pid);
    let end = r.at(PAGE);
    // The holes really are unmapped in the child, the rest mapped.
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    for p in 0..4 {
        assert_eq!(maps_cover(&maps, r.addr(p * PAGE)), p % 2 == 0, "page {p}");
    }

    let mut buf = [0u8; 10];
    assert_fault(mem.read(r.at(PAGE - 3), &mut buf), Access::Read, pid, end);
    assert_fault(
        mem.read(r.at(PAGE + 5), &mut buf),
        Access::Read,
        pid,
        r.at(PAGE + 5),
    );
    assert_fault(mem.read_vec(r.at(PAGE - 8), 16, 16), Access::Read, pid, end);
    assert_fault(
        mem.read_array_of_ptrs(r.at(3 * PAGE - 16), PtrWidth::W32, 100),
        Access::Read,
        pid,
        r.at(3 * PAGE),
    );
    // A string running into the hole faults at the hole, not at its start.
    for start in [3 * PAGE - 10, 3 * PAGE - 1, 2 * PAGE] {
        assert_fault(
            mem.read_cstr(r.at(start), 1 << 20),
            Access::Read,
            pid,
            r.at(3 * PAGE),
        );
    }
    // Strings ending just before the hole are fine, whatever their length.
    assert_eq!(mem.read_cstr(r.at(PAGE - 50), 100).unwrap().len(), 49);
    assert_eq!(mem.read_cstr(r.at(0), PAGE).unwrap().len(), PAGE - 1);
    assert_eq!(mem.read_cstr(r.at(PAGE - 1), 0).unwrap(), b"");
    // A write that runs into the hole faults there.
    assert_fault(mem.write(r.at(PAGE - 4), &[1; 8]), Access::Write, pid, end);
    assert_fault(mem.write(r.at(PAGE), &[1]), Access::Write, pid, end);
    assert_fault(
        mem.write(r.at(PAGE + 3), &[1]),
        Access::Write,
        pid,
        r.at(PAGE + 3),
    );
    // And the mapped part still reads (the jail keeps working).
    mem.read(r.at(0), &mut buf).unwrap();
    assert_eq!(buf, [b'x'; 10]);
}

/// Whether `/proc/PID/maps` text maps `addr`.
fn maps_cover(maps: &str, addr: usize) -> bool {
    maps.lines().any(|l| {
        let range = l.split_whitespace().next().unwrap();
        let (a, b) = range.split_once('-').unwrap();
        let a = usize::from_str_radix(a, 16).unwrap();
        let b = usize::from_str_radix(b, 16).unwrap();
        (a..b).contains(&addr)
    })
}

fn null_and_kernel_addresses_fault<M: TraceeMem>(open: Open<M>) {
    let child = Child::spawn(&[]);
    let pid = child.pid();
    let mut mem = open(pid);
    let mut buf = [0u8; 8];
    let e = mem.read(RemoteAddr(0), &mut buf).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("read of tracee {pid} memory at 0x0: bad address")
    );
    assert!(e.is_fault());
    assert_fault(
        mem.read_cstr(RemoteAddr(0), 10),
        Access::Read,
        pid,
        RemoteAddr(0),
    );
    assert_fault(
        mem.read_pod::<u32>(RemoteAddr(3)),
        Access::Read,
        pid,
        RemoteAddr(3),
    );
    assert_fault(
        mem.write(RemoteAddr(0), b"x"),
        Access::Write,
        pid,
        RemoteAddr(0),
    );
    assert!(
        mem.read(RemoteAddr(0), &mut []).is_ok(),
        "empty read touches nothing"
    );
    // Kernel space, the 2^63 file-offset limit, the very end of the space,
    // and (in the i686 build) addresses a 32-bit `long` cannot express.
    for a in [
        0xffff_ffff_ffff_f000,
        1 << 63,
        (1 << 63) - 4,
        u64::MAX - 3,
        0x1_0000_0000,
        0xffff_f000,
    ] {
        assert_fault(
            mem.read(RemoteAddr(a), &mut buf),
            Access::Read,
            pid,
            RemoteAddr(a),
        );
        assert_fault(
            mem.write(RemoteAddr(a), &buf),
            Access::Write,
            pid,
            RemoteAddr(a),
        );
        assert_fault(
            mem.read_cstr(RemoteAddr(a), 64),
            Access::Read,
            pid,
            RemoteAddr(a),
        );
    }
}

fn writes_into_read_only_pages<M: TraceeMem>(open: Open<M>) {
    let mut r = Region::map(1);
    r.bytes().fill(b'r');
    let ro = Prep::ReadOnly {
        addr: r.addr(0),
        len: PAGE,
    };
    let child = Child::spawn(&[ro]);
    let pid = child.pid();
    // The page really is read-only in the child.
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let line = maps
        .lines()
        .find(|l| maps_cover(l, r.addr(0)))
        .expect("page mapped");
    assert!(
        line.split_whitespace().nth(1).unwrap().starts_with("r--"),
        "{line}"
    );
    let mut mem = open(pid);
    mem.write(r.at(10), b"forced").unwrap();
    mem.write(r.at(PAGE - 3), b"end").unwrap();
    let mut back = [0u8; 8];
    mem.read(r.at(9), &mut back).unwrap();
    assert_eq!(&back, b"rforcedr");
    mem.read(r.at(PAGE - 4), &mut back[..4]).unwrap();
    assert_eq!(&back[..4], b"rend");
}

fn native_width() -> PtrWidth {
    if size_of::<usize>() == 8 {
        PtrWidth::W64
    } else {
        PtrWidth::W32
    }
}

fn reads_argv_like_pointer_arrays<M: TraceeMem>(open: Open<M>) {
    let mut r = Region::map(1);
    let args: [&[u8]; 4] = [b"prog", b"-x", b"an argument with spaces", b""];
    let mut at = 0;
    let mut ptrs = Vec::new();
    for a in args {
        r.bytes()[at..at + a.len()].copy_from_slice(a);
        r.bytes()[at + a.len()] = 0;
        ptrs.push(r.addr(at));
        at += a.len() + 1;
    }
    // A native array at an unaligned address, NULL-terminated.
    let native = 1001;
    let mut off = native;
    for p in ptrs.iter().copied().chain([0]) {
        r.bytes()[off..off + size_of::<usize>()].copy_from_slice(&p.to_ne_bytes());
        off += size_of::<usize>();
    }
    // Foreign-width arrays: values only.
    let a32 = 2000;
    for (i, v) in [0x0804_8000u32, 0xffff_fff0, 0].iter().enumerate() {
        r.bytes()[a32 + 4 * i..][..4].copy_from_slice(&v.to_ne_bytes());
    }
    let a64 = 3003;
    for (i, v) in [0x7fff_0000_1234u64, 1, 0].iter().enumerate() {
        r.bytes()[a64 + 8 * i..][..8].copy_from_slice(&v.to_ne_bytes());
    }
    let child = Child::spawn(&[]);
    let pid = child.pid();
    let mut mem = open(pid);

    let got = mem
        .read_array_of_ptrs(r.at(native), native_width(), 16)
        .unwrap();
    assert_eq!(got, ptrs.iter().map(|&p| remote(p)).collect::<Vec<_>>());
    let strs: Vec<Vec<u8>> = got.iter().map(|&p| mem.read_cstr(p, 64).unwrap()).collect();
    assert_eq!(strs, args.map(<[u8]>::to_vec));
    assert_eq!(
        mem.read_array_of_ptrs(r.at(native), native_width(), 4)
            .unwrap()
            .len(),
        4
    );
    match mem.read_array_of_ptrs(r.at(native), native_width(), 3) {
        Err(MemError::TooLong {
            pid: p,
            addr,
            limit: 3,
        }) => assert_eq!((p, addr), (pid, r.at(native))),
        other => panic!("expected TooLong, got {other:?}"),
    }
    assert_eq!(
        mem.read_array_of_ptrs(r.at(a32), PtrWidth::W32, 2).unwrap(),
        vec![RemoteAddr(0x0804_8000), RemoteAddr(0xffff_fff0)]
    );
    assert_eq!(
        mem.read_array_of_ptrs(r.at(a64), PtrWidth::W64, 2).unwrap(),
        vec![RemoteAddr(0x7fff_0000_1234), RemoteAddr(1)]
    );
    assert_eq!(
        mem.read_ptr(r.at(a32 + 4), PtrWidth::W32).unwrap(),
        RemoteAddr(0xffff_fff0)
    );
    assert_fault(
        mem.read_array_of_ptrs(RemoteAddr(0), PtrWidth::W64, 2),
        Access::Read,
        pid,
        RemoteAddr(0),
    );
}

fn reads_and_writes_pod<M: TraceeMem>(open: Open<M>) {
    let mut r = Region::map(1);
    r.bytes()[16..24].copy_from_slice(&0x1122_3344_5566_7788u64.to_ne_bytes());
    let child = Child::spawn(&[]);
    let mut mem = open(child.pid());
    assert_eq!(
        mem.read_pod::<u64>(r.at(16)).unwrap(),
        0x1122_3344_5566_7788
    );
    assert_eq!(mem.read_pod::<u32>(r.at(16)).unwrap(), 0x5566_7788);
    // A 32-bit `struct timespec` of an i386 tracee, written and read back.
    mem.write_pod(r.at(33), &[-5i32, 999_999_999]).unwrap();
    assert_eq!(
        mem.read_pod::<[i32; 2]>(r.at(33)).unwrap(),
        [-5, 999_999_999]
    );
    mem.write_pod(r.at(41), &[1u16, 2, 3]).unwrap();
    assert_eq!(
        mem.read_vec(r.at(41), 6, 6).unwrap(),
        [1u16, 2, 3].map(u16::to_ne_bytes).concat()
    );
}

#[test]
fn peekpoke_word_is_the_tracer_long() {
    assert_eq!(PeekPoke::WORD_SIZE, size_of::<std::ffi::c_long>());
    #[cfg(target_arch = "x86_64")]
    assert_eq!(PeekPoke::WORD_SIZE, 8);
    #[cfg(target_arch = "x86")]
    assert_eq!(PeekPoke::WORD_SIZE, 4);
}

#[test]
fn peekpoke_on_a_dead_tracee_is_gone() {
    let mut child = Child::spawn(&[]);
    let pid = child.pid();
    let mut mem = PeekPoke::new(pid);
    let mut buf = [0u8; 4];
    let g = remote(GREETING.as_ptr().expose_provenance());
    mem.read(g, &mut buf).unwrap();
    child.kill_and_reap();
    assert!(matches!(mem.read(g, &mut buf), Err(MemError::Gone { pid: p }) if p == pid));
    assert!(matches!(mem.write(g, &buf), Err(MemError::Gone { .. })));
}

#[test]
fn peekpoke_on_a_running_tracee_is_gone() {
    // ptrace requests need a stopped tracee: the kernel says ESRCH.
    let mut child = Child::spawn(&[]);
    child.cont();
    let mut buf = [0u8; 4];
    let g = remote(GREETING.as_ptr().expose_provenance());
    assert!(matches!(
        PeekPoke::new(child.pid()).read(g, &mut buf),
        Err(MemError::Gone { .. })
    ));
}

#[test]
fn procmem_open_of_a_dead_tracee_is_gone() {
    let mut child = Child::spawn(&[]);
    let pid = child.kill_and_reap();
    match ProcMem::open(pid) {
        Err(MemError::Gone { pid: p }) => assert_eq!(p, pid),
        other => panic!("expected Gone, got {other:?}"),
    }
}

#[test]
fn procmem_must_be_reopened_after_exec() {
    let exe = CString::new(
        std::env::current_exe()
            .unwrap()
            .into_os_string()
            .into_encoded_bytes(),
    )
    .unwrap();
    // Harmless if it ever ran: the test binary only lists its tests.
    let list = CString::new("--list").unwrap();
    let mut r = Region::map(1);
    r.bytes()[..4].copy_from_slice(b"old\0");
    let mut child = Child::spawn_exec(&[&exe, &list]);
    let pid = child.pid();
    let mut mem = ProcMem::open(pid).unwrap();
    assert_eq!(mem.read_cstr(r.at(0), 10).unwrap(), b"old");
    child.cont();
    assert_eq!(child.wait_stop(), libc::SIGTRAP, "exec stop");
    // The old file still points at the old, dead address space.
    let mut buf = [0u8; 4];
    assert_fault(mem.read(r.at(0), &mut buf), Access::Read, pid, r.at(0));
    // The new image: read its first mapping through a fresh open.
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let first = maps.split('-').next().unwrap();
    let first = RemoteAddr(u64::from_str_radix(first, 16).unwrap());
    assert_fault(mem.read(first, &mut buf), Access::Read, pid, first);
    mem.reopen().unwrap();
    mem.read(first, &mut buf).unwrap();
    assert_eq!(&buf, b"\x7fELF", "the new image's ELF header");
}
