// SPDX-License-Identifier: GPL-3.0-or-later
//! Errors of the tracer. Each names the operation and the pid it concerns.
#![forbid(unsafe_code)]

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why a program could not be started under the jail.
#[derive(Debug)]
pub enum SpawnError {
    /// No such program (exit status 127).
    NotFound {
        /// The program as given or resolved.
        path: PathBuf,
    },
    /// The program exists but cannot be run here (exit status 126).
    NotExecutable {
        /// The program.
        path: PathBuf,
        /// Why not, one line.
        reason: String,
    },
    /// ujail itself failed (exit status 125).
    Tracer(Error),
}

impl SpawnError {
    /// The exit status ujail reports for this error (126/127/125).
    pub fn exit_status(&self) -> i32 {
        match self {
            SpawnError::NotFound { .. } => 127,
            SpawnError::NotExecutable { .. } => 126,
            SpawnError::Tracer(_) => 125,
        }
    }
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::NotFound { path } => {
                write!(f, "{}: command not found (no such file)", path.display())
            }
            SpawnError::NotExecutable { path, reason } => {
                write!(f, "{}: cannot execute: {reason}", path.display())
            }
            SpawnError::Tracer(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SpawnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SpawnError::Tracer(e) => Some(e),
            _ => None,
        }
    }
}

impl From<Error> for SpawnError {
    fn from(e: Error) -> Self {
        SpawnError::Tracer(e)
    }
}

/// A tracer failure: an OS call on a tracee failed in a way that is not
/// "the tracee died" (that is not an error, it is an event).
#[derive(Debug)]
pub struct Error {
    op: &'static str,
    pid: i32,
    source: io::Error,
}

impl Error {
    /// An error of operation `op` on tracee `pid`.
    pub(crate) fn new(op: &'static str, pid: i32, source: io::Error) -> Error {
        Error { op, pid, source }
    }

    /// True when the tracee is gone (ESRCH): the caller waits for its death
    /// notification instead of failing.
    pub fn is_gone(&self) -> bool {
        self.source.raw_os_error() == Some(libc::ESRCH)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on tracee {} failed: {}",
            self.op, self.pid, self.source
        )
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}
