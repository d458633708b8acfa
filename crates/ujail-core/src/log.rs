// SPDX-License-Identifier: GPL-3.0-or-later
//! The call log: a handler that wraps a policy and writes one line per call.
//!
//! Text lines look like strace's, prefixed with the thread id and the ABI of
//! the call: `4242 i386 write(1, "hello\n", 6) = 6`. JSON lines carry the
//! same facts as fields. Arguments are decoded from the signature table:
//! paths and strings are read from the tracee at entry, output buffers at
//! exit.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;

use ujail_mem::RemoteAddr;
use ujail_regs::signature::{signature_for, ArgKind};
use ujail_regs::Abi;

use crate::errno;
use crate::handler::{Call, Event, Handler, Memory, Pid, ResultAction, Verdict};

/// How strings and buffers are cut in the log.
const STR_LIMIT: usize = 32;
/// Longest path read from the tracee (PATH_MAX).
const PATH_LIMIT: usize = 4096;
/// Most argv/envp entries shown.
const ARRAY_LIMIT: usize = 32;

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// strace-like text.
    Text,
    /// One JSON object per line.
    Json,
}

/// A call whose line waits for its result.
#[derive(Debug)]
struct Pending {
    call: Call,
    args: Vec<String>,
    /// The wrapped policy asked for the result too.
    inner_wants_result: bool,
    /// "forward" or "rewrite".
    verdict: &'static str,
}

/// Wraps policy `H`, logging every call and its verdict to `out`.
pub struct Logger<H> {
    inner: H,
    out: Box<dyn Write>,
    format: LogFormat,
    pending: HashMap<Pid, Pending>,
    /// First write error; logging stops after it, the jail goes on.
    write_error: Option<std::io::Error>,
}

impl<H> std::fmt::Debug for Logger<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl<H: Handler> Logger<H> {
    /// Log the calls judged by `inner` to `out` in `format`.
    pub fn new(inner: H, out: Box<dyn Write>, format: LogFormat) -> Logger<H> {
        Logger {
            inner,
            out,
            format,
            pending: HashMap::new(),
            write_error: None,
        }
    }

    fn emit(&mut self, call: &Call, args: &[String], ret: Option<i64>, verdict: &str) {
        if self.write_error.is_some() {
            return;
        }
        let line = match self.format {
            LogFormat::Text => text_line(call, args, ret, verdict),
            LogFormat::Json => json_line(call, args, ret, verdict),
        };
        if let Err(e) = self
            .out
            .write_all(line.as_bytes())
            .and_then(|()| self.out.flush())
        {
            self.write_error = Some(e);
        }
    }
}

impl<H: Handler> Handler for Logger<H> {
    fn on_call(&mut self, call: &Call, mem: &mut dyn Memory) -> Verdict {
        let verdict = self.inner.on_call(call, mem);
        let args = format_args(call, mem);
        match verdict {
            Verdict::Forward | Verdict::ForwardReport => {
                let inner_wants_result = verdict == Verdict::ForwardReport;
                self.pending.insert(
                    call.pid,
                    Pending {
                        call: call.clone(),
                        args,
                        inner_wants_result,
                        verdict: "forward",
                    },
                );
                Verdict::ForwardReport
            }
            Verdict::Rewrite {
                nr,
                args: new_args,
                report,
            } => {
                // Logged as the program made it; the result is the
                // rewritten call's.
                self.pending.insert(
                    call.pid,
                    Pending {
                        call: call.clone(),
                        args,
                        inner_wants_result: report,
                        verdict: "rewrite",
                    },
                );
                Verdict::Rewrite {
                    nr,
                    args: new_args,
                    report: true,
                }
            }
            Verdict::Emulate(ret) => {
                self.emit(call, &args, Some(ret), "emulate");
                verdict
            }
            Verdict::Deny(e) => {
                self.emit(call, &args, Some(-i64::from(e)), "deny");
                verdict
            }
            Verdict::Kill => {
                self.emit(call, &args, None, "kill");
                verdict
            }
        }
    }

    fn on_result(&mut self, call: &Call, ret: Option<i64>, mem: &mut dyn Memory) -> ResultAction {
        let Some(mut p) = self.pending.remove(&call.pid) else {
            return ResultAction::Keep;
        };
        // The inner policy first: the log shows what the program gets.
        let action = if p.inner_wants_result {
            self.inner.on_result(call, ret, mem)
        } else {
            ResultAction::Keep
        };
        let ret = match action {
            ResultAction::Set(v) => Some(v),
            ResultAction::Keep | ResultAction::Repeat => ret,
        };
        if action == ResultAction::Repeat {
            p.verdict = "dropped, repeated";
        }
        if let (Some(r), Some(kinds)) = (ret, call.name.and_then(|n| signature_for(call.abi, n))) {
            for (i, kind) in kinds.iter().enumerate() {
                if *kind == ArgKind::OutBuf && r > 0 && i < p.args.len() {
                    let len = usize::try_from(r).unwrap_or(0);
                    p.args[i] = show_buf(mem, RemoteAddr(call.args[i]), len);
                }
            }
        }
        self.emit(&p.call, &p.args, ret, p.verdict);
        action
    }

    fn wants_scratch(&self) -> bool {
        self.inner.wants_scratch()
    }

    /// Flush the log (lines of calls that never returned included); the
    /// first write error met, if any.
    fn finish(&mut self) -> Result<(), std::io::Error> {
        for (_, p) in std::mem::take(&mut self.pending) {
            self.emit(&p.call, &p.args, None, p.verdict);
        }
        let inner = self.inner.finish();
        if let Some(e) = self.write_error.take() {
            return Err(e);
        }
        self.out.flush()?;
        inner
    }

    fn on_event(&mut self, event: &Event) {
        match event {
            Event::Exec { pid, former } => {
                if let Some(p) = self.pending.remove(former) {
                    self.pending.insert(*pid, p);
                }
            }
            Event::Refused { call, verdict } => {
                let args = format_args_raw(call);
                let ret = match *verdict {
                    Verdict::Deny(e) => Some(-i64::from(e)),
                    Verdict::Emulate(r) => Some(r),
                    _ => None,
                };
                self.emit(call, &args, ret, "deny");
            }
            _ => {}
        }
        self.inner.on_event(event);
    }
}

/// The arguments as raw hex, for calls whose memory is not read.
fn format_args_raw(call: &Call) -> Vec<String> {
    call.args.iter().map(|a| format!("{a:#x}")).collect()
}

/// Decode the arguments of `call` for the log; the mode of an open is shown
/// only when `O_CREAT` or `O_TMPFILE` give it a meaning (as strace does).
fn format_args(call: &Call, mem: &mut dyn Memory) -> Vec<String> {
    let mut args = format_all_args(call, mem);
    let (flags, mode) = match call.name {
        Some("open") => (1, 2),
        Some("openat") => (2, 3),
        _ => return args,
    };
    let o_creat_or_tmpfile = 0o100 | 0o20_000_000;
    if call.args[flags] & o_creat_or_tmpfile == 0 {
        args.truncate(mode);
    }
    args
}

/// Decode every argument of `call` for the log.
fn format_all_args(call: &Call, mem: &mut dyn Memory) -> Vec<String> {
    let Some(kinds) = call.name.and_then(|n| signature_for(call.abi, n)) else {
        return format_args_raw(call);
    };
    kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let v = call.args[i];
            if let Some(s) = kind.format_scalar(call.abi, v) {
                return s;
            }
            match kind {
                // Paths whole (the path policy's subject), as strace shows them.
                ArgKind::Path => show_cstr(mem, v, PATH_LIMIT, PATH_LIMIT),
                ArgKind::InBuf(len_arg) => {
                    let len = call.args.get(usize::from(*len_arg)).copied().unwrap_or(0);
                    show_buf(
                        mem,
                        RemoteAddr(v),
                        usize::try_from(len).unwrap_or(usize::MAX),
                    )
                }
                ArgKind::StrArray => show_str_array(mem, call.abi, v),
                // Output buffers are shown at exit, once filled.
                _ if v == 0 => "NULL".to_string(),
                _ => format!("{v:#x}"),
            }
        })
        .collect()
}

/// A C string at `addr` (at most `limit` bytes read), quoted and cut after
/// `cut` bytes.
fn show_cstr(mem: &mut dyn Memory, addr: u64, limit: usize, cut: usize) -> String {
    if addr == 0 {
        return "NULL".to_string();
    }
    match mem.read_cstr(RemoteAddr(addr), limit) {
        Ok(bytes) => quote_cut(&bytes, bytes.len(), cut),
        Err(_) => format!("{addr:#x}"),
    }
}

fn show_buf(mem: &mut dyn Memory, addr: RemoteAddr, len: usize) -> String {
    if addr.0 == 0 {
        return "NULL".to_string();
    }
    let mut buf = vec![0u8; len.min(STR_LIMIT)];
    match mem.read(addr, &mut buf) {
        Ok(()) => quote(&buf, len),
        Err(_) => format!("{:#x}", addr.0),
    }
}

fn show_str_array(mem: &mut dyn Memory, abi: Abi, addr: u64) -> String {
    if addr == 0 {
        return "NULL".to_string();
    }
    let word = abi.word_size();
    let mut items = Vec::new();
    for i in 0..=ARRAY_LIMIT {
        let mut raw = [0u8; 8];
        let at = addr.wrapping_add((i * word) as u64);
        if mem.read(RemoteAddr(at), &mut raw[..word]).is_err() {
            return format!("{addr:#x}");
        }
        let p = u64::from_le_bytes(raw);
        if p == 0 {
            return format!("[{}]", items.join(", "));
        }
        if i == ARRAY_LIMIT {
            break;
        }
        items.push(show_cstr(mem, p, PATH_LIMIT, STR_LIMIT));
    }
    format!("[{}, ...]", items.join(", "))
}

/// C-style quoting of the first `STR_LIMIT` bytes; `...` when `total` is longer.
fn quote(bytes: &[u8], total: usize) -> String {
    quote_cut(bytes, total, STR_LIMIT)
}

/// C-style quoting of the first `cut` bytes; `...` when `total` is longer.
fn quote_cut(bytes: &[u8], total: usize, cut: usize) -> String {
    let mut s = String::from("\"");
    for &b in bytes.iter().take(cut) {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push('"');
    if total > cut.min(bytes.len()) && total > cut {
        s.push_str("...");
    }
    s
}

fn call_name(call: &Call) -> String {
    match call.name {
        Some(n) => n.to_string(),
        None => format!("syscall_{}", call.nr),
    }
}

fn text_line(call: &Call, args: &[String], ret: Option<i64>, verdict: &str) -> String {
    let result = match ret {
        None => "?".to_string(),
        Some(r) if (-4095..0).contains(&r) => {
            let e = i32::try_from(-r).unwrap_or(0);
            match errno::internal(e) {
                // The call is restarted or becomes EINTR: not its result yet.
                Some((name, msg)) => format!("? {name} ({msg})"),
                None => format!(
                    "-1 {} ({})",
                    errno::name(e).unwrap_or("E?"),
                    errno::message(e)
                ),
            }
        }
        Some(r) if r > 0xffff && returns_address(call.name) => format!("{r:#x}"),
        Some(r) => r.to_string(),
    };
    let tag = match verdict {
        "deny" => " [denied]",
        "emulate" => " [emulated]",
        "kill" => " [killed]",
        _ => "",
    };
    format!(
        "{} {} {}({}) = {result}{tag}\n",
        call.pid,
        call.abi,
        call_name(call),
        args.join(", ")
    )
}

pub(crate) fn json_string(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", u32::from(c));
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Calls whose result is an address, shown in hex.
fn returns_address(name: Option<&str>) -> bool {
    matches!(
        name,
        Some("mmap" | "mmap2" | "old_mmap" | "brk" | "mremap" | "shmat")
    )
}

fn json_line(call: &Call, args: &[String], ret: Option<i64>, verdict: &str) -> String {
    let errno = match ret {
        Some(r) if (-4095..0).contains(&r) => {
            let e = i32::try_from(-r).unwrap_or(0);
            errno::name(e)
                .or_else(|| errno::internal(e).map(|i| i.0))
                .map_or("null".to_string(), json_string)
        }
        _ => "null".to_string(),
    };
    let ret = ret.map_or("null".to_string(), |r| r.to_string());
    let args: Vec<String> = args.iter().map(|a| json_string(a)).collect();
    format!(
        "{{\"pid\":{},\"abi\":\"{}\",\"nr\":{},\"name\":{},\"args\":[{}],\"ret\":{ret},\"errno\":{errno},\"verdict\":\"{verdict}\"}}\n",
        call.pid,
        call.abi,
        call.nr,
        json_string(&call_name(call)),
        args.join(","),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &'static str, abi: Abi) -> Call {
        let mut c = Call::named(abi, name, [0; 6]);
        c.pid = 7;
        c
    }

    #[test]
    fn quotes_and_cuts() {
        assert_eq!(quote(b"hello\n", 6), "\"hello\\n\"");
        assert_eq!(quote(b"a\"b\\\x01", 5), "\"a\\\"b\\\\\\x01\"");
        let long = [b'x'; 40];
        assert_eq!(quote(&long[..32], 40), format!("\"{}\"...", "x".repeat(32)));
    }

    #[test]
    fn text_and_json_lines() {
        let c = call("write", Abi::I386);
        let args = vec!["1".into(), "\"hi\\n\"".into(), "3".into()];
        assert_eq!(
            text_line(&c, &args, Some(3), "forward"),
            "7 i386 write(1, \"hi\\n\", 3) = 3\n"
        );
        assert_eq!(
            text_line(&c, &args, Some(-13), "deny"),
            "7 i386 write(1, \"hi\\n\", 3) = -1 EACCES (Permission denied) [denied]\n"
        );
        assert_eq!(
            text_line(&c, &args, None, "forward"),
            "7 i386 write(1, \"hi\\n\", 3) = ?\n"
        );
        let j = json_line(&c, &args, Some(-2), "forward");
        assert_eq!(
            j,
            "{\"pid\":7,\"abi\":\"i386\",\"nr\":4,\"name\":\"write\",\"args\":[\"1\",\"\\\"hi\\\\n\\\"\",\"3\"],\"ret\":-2,\"errno\":\"ENOENT\",\"verdict\":\"forward\"}\n"
        );
    }
}
