// SPDX-License-Identifier: GPL-3.0-or-later
//! The only unsafe code of ujail-mem: raw `PTRACE_PEEKDATA`/`PTRACE_POKEDATA`.
//!
//! Everything here works on plain integers: tracee addresses are never turned
//! into dereferenceable tracer pointers, the kernel interprets them in the
//! tracee's address space. See ptrace(2), "PTRACE_PEEKTEXT, PTRACE_PEEKDATA".
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::io;
use std::ptr;

/// Bytes in one ptrace word: the tracer build's `long` (4 on i686, 8 on x86_64).
pub(crate) const WORD: usize = size_of::<libc::c_long>();

/// One ptrace word as native-endian bytes.
pub(crate) type Word = [u8; WORD];

// A word must round-trip through `usize`, which is how POKEDATA passes its data.
const _: () = assert!(size_of::<usize>() == WORD);

/// `PTRACE_PEEKDATA` of the word at `addr` in tracee `pid`.
///
/// The glibc wrapper returns the word itself, so -1 is also a valid word:
/// errno is cleared first and -1 is an error only if errno was set
/// (ptrace(2), RETURN VALUE).
pub(crate) fn peek_data(pid: libc::pid_t, addr: usize) -> Result<Word, io::Error> {
    // SAFETY: __errno_location returns a valid pointer to this thread's errno.
    unsafe { *libc::__errno_location() = 0 };
    // SAFETY: PTRACE_PEEKDATA reads the tracee's memory; `addr` is only
    // interpreted by the kernel in the tracee's address space and never
    // dereferenced here; `data` is ignored by the glibc wrapper for PEEK
    // requests (it supplies its own result slot).
    let ret = unsafe {
        libc::ptrace(
            libc::PTRACE_PEEKDATA,
            pid,
            ptr::without_provenance_mut::<c_void>(addr),
            ptr::null_mut::<c_void>(),
        )
    };
    if ret == -1 {
        let err = io::Error::last_os_error();
        if err.raw_os_error().is_some_and(|e| e != 0) {
            return Err(err);
        }
    }
    Ok(ret.to_ne_bytes())
}

/// `PTRACE_POKEDATA` of `word` at `addr` in tracee `pid`.
///
/// POKEDATA returns 0 or -1 with errno set, so -1 is unambiguous.
pub(crate) fn poke_data(pid: libc::pid_t, addr: usize, word: Word) -> Result<(), io::Error> {
    let data = usize::from_ne_bytes(word);
    // SAFETY: PTRACE_POKEDATA writes the tracee's memory; `addr` is only
    // interpreted in the tracee's address space and `data` is the word's
    // value passed by value (never dereferenced).
    let ret = unsafe {
        libc::ptrace(
            libc::PTRACE_POKEDATA,
            pid,
            ptr::without_provenance_mut::<c_void>(addr),
            ptr::without_provenance_mut::<c_void>(data),
        )
    };
    if ret == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
