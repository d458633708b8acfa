// SPDX-License-Identifier: GPL-3.0-or-later
//! Argument kinds of syscalls, for decoding them in traces.
//!
//! INTERFACE STUB — filled in by the regs work item.

/// How to show one syscall argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// Signed decimal integer.
    Int,
    /// Unsigned integer shown in hex (flags, masks).
    Hex,
    /// A file descriptor (`AT_FDCWD` shown by name).
    Fd,
    /// Tracee pointer shown in hex.
    Ptr,
    /// Tracee pointer to a NUL-terminated path / string.
    Path,
    /// Tracee pointer to a buffer the call reads; length is argument `.0`.
    InBuf(u8),
    /// Tracee pointer to a buffer the call fills; length is the result.
    OutBuf,
    /// Tracee pointer to a NULL-terminated array of string pointers (argv, envp).
    StrArray,
}

/// The argument kinds of syscall `name`; `None` for calls without a signature
/// (they are shown with six hex arguments).
pub fn signature(name: &str) -> Option<&'static [ArgKind]> {
    let _ = name;
    todo!("regs work item")
}
