// SPDX-License-Identifier: GPL-3.0-or-later
//! [`PeekPoke`]: tracee memory word by word through `PTRACE_PEEKDATA` and
//! `PTRACE_POKEDATA`.
//!
//! The word is the tracer build's `long` (ptrace(2): "Read a word at the
//! address addr"): 8 bytes in the x86_64 build, 4 in the i686 build, whatever
//! the tracee's ABI. Accesses go through aligned words, so one word never
//! straddles two pages and the first failing word pins the first failing
//! address. Unaligned and partial writes read-modify-write their edge words.
//! POKEDATA writes through read-only private mappings (the kernel uses
//! `FOLL_FORCE`, as for breakpoints in text).
#![forbid(unsafe_code)]

use crate::sys::{self, Word, WORD};
use crate::{Access, MemError, RemoteAddr, TraceeMem};

/// Word-by-word access via `PTRACE_PEEKDATA`/`PTRACE_POKEDATA` (word = the
/// tracer's `long`).
///
/// Every call must come from the thread that is the tracee's tracer, while
/// the tracee is in a ptrace-stop; otherwise the kernel answers `ESRCH`
/// ([`MemError::Gone`]).
#[derive(Debug)]
pub struct PeekPoke {
    pid: i32,
}

/// One aligned word touched by an access: where it is and which part of it
/// belongs to the access.
struct Span {
    /// Aligned word address, as the tracer's `usize`.
    word: usize,
    /// First byte of the access inside the word.
    skew: usize,
    /// Bytes of the access inside the word.
    len: usize,
}

impl PeekPoke {
    /// Bytes per ptrace word in this build of the tracer.
    pub const WORD_SIZE: usize = WORD;

    /// Access for tracee `pid` (must be ptrace-stopped by this thread).
    pub fn new(pid: i32) -> PeekPoke {
        PeekPoke { pid }
    }

    /// The word holding `cur`, and how much of the `remaining` bytes from
    /// `cur` it covers. An address the tracer's `long` cannot express (above
    /// 4 GiB in the i686 build) is a fault.
    fn span(&self, op: Access, cur: RemoteAddr, remaining: usize) -> Result<Span, MemError> {
        let fault = MemError::Fault {
            op,
            pid: self.pid,
            addr: cur,
        };
        let at = usize::try_from(cur.0).map_err(|_| fault)?;
        let skew = at % WORD;
        Ok(Span {
            word: at - skew,
            skew,
            len: (WORD - skew).min(remaining),
        })
    }

    fn peek(&self, op: Access, word: usize, cur: RemoteAddr) -> Result<Word, MemError> {
        sys::peek_data(self.pid, word)
            .map_err(|e| MemError::from_os(e, op, "PTRACE_PEEKDATA", self.pid, cur))
    }

    fn poke(&self, word: usize, data: Word, cur: RemoteAddr) -> Result<(), MemError> {
        sys::poke_data(self.pid, word, data)
            .map_err(|e| MemError::from_os(e, Access::Write, "PTRACE_POKEDATA", self.pid, cur))
    }

    /// The address `done` bytes after `addr`; past the end of the address
    /// space is a fault at the last address.
    fn at(&self, op: Access, addr: RemoteAddr, done: usize) -> Result<RemoteAddr, MemError> {
        addr.checked_add(done).ok_or(MemError::Fault {
            op,
            pid: self.pid,
            addr: RemoteAddr(u64::MAX),
        })
    }
}

impl TraceeMem for PeekPoke {
    fn pid(&self) -> i32 {
        self.pid
    }

    fn read(&mut self, addr: RemoteAddr, buf: &mut [u8]) -> Result<(), MemError> {
        let mut done = 0;
        while done < buf.len() {
            let cur = self.at(Access::Read, addr, done)?;
            let s = self.span(Access::Read, cur, buf.len() - done)?;
            let word = self.peek(Access::Read, s.word, cur)?;
            let (Some(dst), Some(src)) = (
                buf.get_mut(done..done + s.len),
                word.get(s.skew..s.skew + s.len),
            ) else {
                break; // unreachable: s.len fits both by construction
            };
            dst.copy_from_slice(src);
            done += s.len;
        }
        Ok(())
    }

    fn write(&mut self, addr: RemoteAddr, data: &[u8]) -> Result<(), MemError> {
        let mut done = 0;
        while done < data.len() {
            let cur = self.at(Access::Write, addr, done)?;
            let s = self.span(Access::Write, cur, data.len() - done)?;
            // A partial word keeps its neighbours: read-modify-write.
            let mut word = if s.len == WORD {
                [0; WORD]
            } else {
                self.peek(Access::Write, s.word, cur)?
            };
            let (Some(dst), Some(src)) = (
                word.get_mut(s.skew..s.skew + s.len),
                data.get(done..done + s.len),
            ) else {
                break; // unreachable: s.len fits both by construction
            };
            dst.copy_from_slice(src);
            self.poke(s.word, word, cur)?;
            done += s.len;
        }
        Ok(())
    }

    /// Word by word, stopping at the word that holds the NUL: one
    /// PEEKDATA per `WORD_SIZE` bytes of string, never a word past it.
    fn read_cstr(&mut self, addr: RemoteAddr, limit: usize) -> Result<Vec<u8>, MemError> {
        let mut out = Vec::new();
        let mut done = 0;
        loop {
            let cur = self.at(Access::Read, addr, done)?;
            let s = self.span(Access::Read, cur, WORD)?;
            let word = self.peek(Access::Read, s.word, cur)?;
            for &b in word.get(s.skew..).unwrap_or_default() {
                if b == 0 {
                    return Ok(out);
                }
                if out.len() >= limit {
                    return Err(MemError::TooLong {
                        pid: self.pid,
                        addr,
                        limit,
                    });
                }
                out.push(b);
            }
            done += s.len;
        }
    }
}
