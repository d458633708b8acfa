// SPDX-License-Identifier: GPL-3.0-or-later
//! Start a program under the tracer.
//!
//! The program is resolved (PATH search like execvp(3)) and inspected with
//! goblin *before* anything is forked, so that a missing file, a non-ELF file,
//! a foreign architecture or a 64-bit program under the i686 build gets a
//! clear one-line error and the conventional exit status (127/126).
#![forbid(unsafe_code)]

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use goblin::elf::header::{EM_386, EM_X86_64};

use crate::error::{Error, SpawnError};
use crate::handler::{Handler, Pid};
use crate::placement::{Pin, Placement};
use crate::stop::{PtraceEvent, Stop};
use crate::sys;
use crate::tracer::{Engine, Tracer};

/// What kind of program is about to be run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramKind {
    /// An i386 (32-bit) ELF executable.
    Elf32,
    /// An x86_64 ELF executable.
    Elf64,
    /// A `#!` script (the kernel picks the interpreter).
    Script,
}

/// Find `program` like execvp(3): a name with a `/` is used as is, anything
/// else is looked up in `$PATH`.
pub fn resolve_program(program: &OsStr) -> Result<PathBuf, SpawnError> {
    let p = Path::new(program);
    if program.is_empty() {
        return Err(SpawnError::NotFound {
            path: p.to_path_buf(),
        });
    }
    if program.as_bytes().contains(&b'/') {
        return if p.exists() {
            Ok(p.to_path_buf())
        } else {
            Err(SpawnError::NotFound {
                path: p.to_path_buf(),
            })
        };
    }
    let path =
        std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
    let mut found_not_exec = None;
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(p);
        if let Ok(meta) = candidate.metadata() {
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                return Ok(candidate);
            }
            found_not_exec.get_or_insert(candidate);
        }
    }
    match found_not_exec {
        Some(path) => Ok(path),
        None => Err(SpawnError::NotFound {
            path: p.to_path_buf(),
        }),
    }
}

/// Check that `path` is something this build of ujail can run: an i386 or
/// x86_64 ELF executable (not a 64-bit one under the i686 build) or a `#!`
/// script.
pub fn inspect_program(path: &Path) -> Result<ProgramKind, SpawnError> {
    let not_exec = |reason: String| SpawnError::NotExecutable {
        path: path.to_path_buf(),
        reason,
    };
    let meta = path.metadata().map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => SpawnError::NotFound {
            path: path.to_path_buf(),
        },
        _ => not_exec(e.to_string()),
    })?;
    if meta.is_dir() {
        return Err(not_exec("is a directory".into()));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(not_exec("permission denied (not executable)".into()));
    }
    let mut head = [0u8; 64];
    let n = File::open(path)
        .and_then(|mut f| read_up_to(&mut f, &mut head))
        .map_err(|e| not_exec(e.to_string()))?;
    let head = &head[..n];
    if head.starts_with(b"#!") {
        return Ok(ProgramKind::Script);
    }
    if !head.starts_with(b"\x7fELF") {
        return Err(not_exec("not an ELF executable or #! script".into()));
    }
    let header = goblin::elf::Elf::parse_header(head)
        .map_err(|e| not_exec(format!("malformed ELF header: {e}")))?;
    let kind = match header.e_machine {
        EM_386 => ProgramKind::Elf32,
        EM_X86_64
            if header.e_ident[goblin::elf::header::EI_CLASS] == goblin::elf::header::ELFCLASS64 =>
        {
            ProgramKind::Elf64
        }
        EM_X86_64 => return Err(not_exec("x32 programs are not supported".into())),
        other => {
            return Err(not_exec(format!(
                "foreign architecture {} (ujail runs i386 and x86_64 programs)",
                goblin::elf::header::machine_to_str(other)
            )))
        }
    };
    if kind == ProgramKind::Elf64 && cfg!(target_arch = "x86") {
        return Err(not_exec(
            "64-bit x86_64 program; this is an i686 build of ujail, which traces i386 programs only".into(),
        ));
    }
    Ok(kind)
}

/// The ELF interpreter (PT_INTERP, e.g. `/lib64/ld-linux-x86-64.so.2`) of
/// the program at `path`; the kernel opens it without a system call.
pub fn elf_interpreter(path: &Path) -> Option<PathBuf> {
    let bytes = std::fs::read(path).ok()?;
    let elf = goblin::elf::Elf::parse(&bytes).ok()?;
    elf.interpreter.map(PathBuf::from)
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn cstring(s: &OsStr, what: &str) -> Result<CString, SpawnError> {
    CString::new(s.as_bytes()).map_err(|_| {
        SpawnError::Tracer(Error::new(
            "spawn",
            0,
            io::Error::other(format!("{what} contains a NUL byte")),
        ))
    })
}

/// Start `program` with `args` (argv[1..]) and the current environment,
/// traced by a new [`Tracer`] driving `handler`. Signals SIGINT, SIGTERM,
/// SIGHUP and SIGQUIT sent to ujail are relayed to the program.
pub fn spawn<H: Handler>(
    program: &OsStr,
    args: &[OsString],
    handler: H,
) -> Result<Tracer<H>, SpawnError> {
    spawn_with(
        program,
        args,
        handler,
        SpawnOptions {
            engine: Engine::Sysemu,
            placement: Placement::Free,
        },
    )
}

/// How [`spawn_with`] runs the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpawnOptions {
    /// The tracing engine.
    pub engine: Engine,
    /// Where tracer and program run ([`crate::placement`]).
    pub placement: Placement,
}

/// The engine `auto` picks: `seccomp` where the kernel has seccomp
/// filters, `sysemu` elsewhere.
pub fn auto_engine() -> Engine {
    if sys::seccomp_supported() {
        Engine::Seccomp
    } else {
        Engine::Sysemu
    }
}

/// [`spawn`] with the given engine. For [`Engine::Seccomp`] the child
/// installs the filter built from the handler's [`Handler::watch`] (and the
/// tracer's own needs) before its `execve`.
pub fn spawn_with<H: Handler>(
    program: &OsStr,
    args: &[OsString],
    handler: H,
    opts: SpawnOptions,
) -> Result<Tracer<H>, SpawnError> {
    let engine = opts.engine;
    let path = resolve_program(program)?;
    inspect_program(&path)?;

    let c_path = cstring(path.as_os_str(), "program path")?;
    let mut c_args = vec![cstring(program, "program name")?];
    for a in args {
        c_args.push(cstring(a, "an argument")?);
    }
    let c_env: Vec<CString> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            CString::new(kv).ok()
        })
        .collect();
    let argv: Vec<*const libc::c_char> = c_args
        .iter()
        .map(|c| c.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let envp: Vec<*const libc::c_char> = c_env
        .iter()
        .map(|c| c.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();

    let filter: Option<Vec<libc::sock_filter>> = (engine == Engine::Seccomp).then(|| {
        crate::seccomp::build(
            |abi, nr| crate::tracer::watch(&handler, abi, nr),
            |abi, nr| handler.watch(abi, nr),
            cfg!(target_arch = "x86_64"),
        )
        .into_iter()
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect()
    });
    let close = sys::runtime_filled_stdio();
    // Pinned before the fork: the program starts on the tracer's CPU.
    let pin = match opts.placement {
        Placement::Shared => Pin::start(),
        Placement::Free => None,
    };
    let pid = sys::fork_traced(&c_path, &argv, &envp, &close, filter.as_deref())
        .map_err(|e| Error::new("fork", 0, e))?;
    let seccomp = if engine == Engine::Seccomp {
        sys::opt::TRACESECCOMP
    } else {
        0
    };
    let options = seccomp
        | sys::opt::TRACESYSGOOD
        | sys::opt::TRACEEXEC
        | sys::opt::TRACEFORK
        | sys::opt::TRACEVFORK
        | sys::opt::TRACECLONE
        | sys::opt::EXITKILL;
    if let Err(e) = seize_stopped_child(pid, options) {
        let _ = sys::kill(pid, libc::SIGKILL);
        return Err(e.into());
    }
    sys::forward_signals(pid).map_err(|e| Error::new("sigaction", pid, e))?;
    sys::set_non_dumpable().map_err(|e| Error::new("prctl(PR_SET_DUMPABLE)", pid, e))?;
    Ok(Tracer::new(handler, pid, engine, pin))
}

/// Wait for the child's `raise(SIGSTOP)`, seize it (PTRACE_SEIZE keeps job
/// control working: group-stops can be kept with PTRACE_LISTEN), and wait
/// for it to re-trap as a tracee (PTRACE_EVENT_STOP; ptrace(2), "Attaching
/// and detaching": a stopped task that is attached re-traps).
fn seize_stopped_child(pid: Pid, options: i32) -> Result<(), Error> {
    let status = sys::wait_stopped(pid).map_err(|e| Error::new("waitpid", pid, e))?;
    if !libc::WIFSTOPPED(status) {
        return Err(Error::new(
            "waiting for the initial stop",
            pid,
            io::Error::other(format!("child ended before exec (wait status {status:#x})")),
        ));
    }
    sys::seize(pid, options).map_err(|e| Error::new("PTRACE_SEIZE", pid, e))?;
    let (got, status) = sys::wait_any().map_err(|e| Error::new("waitpid", pid, e))?;
    match Stop::from_wait_status(status) {
        Stop::Event(PtraceEvent::Stop(_)) if got == pid => Ok(()),
        other => Err(Error::new(
            "waiting for the seized child",
            pid,
            io::Error::other(format!("unexpected {other:?} from pid {got}")),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_through_path_and_rejects_missing() {
        assert!(resolve_program(OsStr::new("sh")).is_ok());
        let e = resolve_program(OsStr::new("no-such-program-ujail")).unwrap_err();
        assert_eq!(e.exit_status(), 127);
        let e = resolve_program(OsStr::new("/no/such/file")).unwrap_err();
        assert_eq!(e.exit_status(), 127);
    }

    #[test]
    fn inspects_kinds() {
        let exe = std::env::current_exe().unwrap();
        let kind = inspect_program(&exe).unwrap();
        if cfg!(target_arch = "x86_64") {
            assert_eq!(kind, ProgramKind::Elf64);
        } else {
            assert_eq!(kind, ProgramKind::Elf32);
        }
        let dir = std::env::temp_dir().join(format!("ujail-inspect-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = dir.join("text");
        std::fs::write(&text, b"hello").unwrap();
        std::fs::set_permissions(&text, std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = inspect_program(&text).unwrap_err();
        assert_eq!(e.exit_status(), 126);
        assert!(e.to_string().contains("not an ELF"), "{e}");
        std::fs::set_permissions(&text, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(inspect_program(&text).unwrap_err().exit_status(), 126);
        let script = dir.join("script");
        std::fs::write(&script, b"#!/bin/sh\necho hi\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(inspect_program(&script).unwrap(), ProgramKind::Script);
        assert_eq!(inspect_program(&dir).unwrap_err().exit_status(), 126);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
