// SPDX-License-Identifier: GPL-3.0-or-later
//! Shared helpers of the integration tests: where the `ujail` binary and the
//! guest programs are, whether we run inside the test VM, and a watchdog
//! that runs a command with a time limit.
//!
//! Use it from a test file with `mod common;`. Discovery follows the team's
//! test-environment contract:
//! * `ujail`: `$UJAIL_BIN` if set, else Cargo's `CARGO_BIN_EXE_ujail`;
//! * guests: `$UJAIL_GUESTS` if set, else the `guests/` directory found by
//!   walking up from the test binary (i.e. `target/guests`, which
//!   `cargo xtask build-guests` fills);
//! * `UJAIL_TEST_ENV=vm`: inside the QEMU i386 VM.

// Each test binary compiles its own copy of this module and uses only part
// of it; unused helpers must not warn (clippy runs with -D warnings).
#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One build of the guest program `ujail-guest`.
#[derive(Debug, Clone)]
pub struct Guest {
    /// Flavour: `x86_64-dyn`, `x86_64-static`, `i686-dyn` or `i686-static`.
    pub name: &'static str,
    /// Absolute path of the binary.
    pub path: PathBuf,
    /// The ABI of its native system calls as ujail logs it: `x86_64` or `i386`.
    pub abi: &'static str,
    /// Statically linked (no dynamic loader, no shared libc).
    pub is_static: bool,
}

impl Guest {
    /// A `Command` running this guest with `args` (no ujail).
    pub fn command<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = Command::new(&self.path);
        cmd.args(args);
        cmd
    }
}

/// All flavours: (name, ABI, static), x86_64 first.
const FLAVOURS: [(&str, &str, bool); 4] = [
    ("x86_64-dyn", "x86_64", false),
    ("x86_64-static", "x86_64", true),
    ("i686-dyn", "i386", false),
    ("i686-static", "i386", true),
];

const NOT_BUILT: &str = "guest programs not built: run `cargo xtask build-guests`";

/// The `ujail` binary under test.
pub fn ujail_bin() -> PathBuf {
    match std::env::var_os("UJAIL_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_ujail")),
    }
}

/// Whether the tests run inside the QEMU i386 VM (`UJAIL_TEST_ENV=vm`).
/// There a missing kernel feature must fail a test, never skip it.
pub fn in_vm() -> bool {
    std::env::var_os("UJAIL_TEST_ENV").is_some_and(|v| v == "vm")
}

/// The directory holding the guests; panics with the "not built" hint.
pub fn guests_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("UJAIL_GUESTS").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        assert!(
            dir.is_dir(),
            "UJAIL_GUESTS={}: no such directory; {NOT_BUILT}",
            dir.display()
        );
        return dir;
    }
    let exe = std::env::current_exe().expect("current_exe");
    exe.ancestors()
        .skip(1)
        .map(|d| d.join("guests"))
        .find(|d| d.is_dir())
        .unwrap_or_else(|| panic!("{NOT_BUILT} (no guests/ above {})", exe.display()))
}

/// The guests this build of the tests runs: all four in an x86_64 build,
/// the two i686 ones in an i686 build. Panics when one is missing.
pub fn guests() -> Vec<Guest> {
    let dir = guests_dir();
    FLAVOURS
        .iter()
        .filter(|(_, abi, _)| cfg!(target_arch = "x86_64") || *abi == "i386")
        .map(|&(name, abi, is_static)| {
            let path = dir.join(format!("ujail-guest-{name}"));
            assert!(path.is_file(), "{} missing; {NOT_BUILT}", path.display());
            Guest {
                name,
                path,
                abi,
                is_static,
            }
        })
        .collect()
}

/// Runs `cmd` with stdin from /dev/null and stdout/stderr captured; see
/// [`run_with_input`].
pub fn run_with_timeout(cmd: &mut Command, secs: u64) -> Output {
    run_with_input(cmd, secs, None)
}

/// Runs `cmd` under a watchdog: stdin is `input` (or /dev/null), stdout and
/// stderr are captured. If it has
/// not exited and closed its output after `secs` seconds, it
/// is killed with SIGKILL and the test panics, naming the command line.
/// (Safe code only: test files may `#![forbid(unsafe_code)]`.)
pub fn run_with_input(cmd: &mut Command, secs: u64, input: Option<&[u8]>) -> Output {
    let line = format!("{cmd:?}");
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    // A program the test just wrote can be "busy" for a moment: another
    // test thread's fork may still hold the write fd until its exec.
    let mut tries = 0;
    let mut child = loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(26 /* ETXTBSY */) && tries < 50 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            r => break r.unwrap_or_else(|e| panic!("cannot start {line}: {e}")),
        }
    };
    let deadline = Instant::now() + Duration::from_secs(secs);

    // Readers and the stdin writer run in threads so a full pipe never
    // blocks the child; each sends its result through a channel.
    let (tx, rx) = mpsc::channel::<(usize, Vec<u8>)>();
    for (i, pipe) in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .enumerate()
    {
        let tx = tx.clone();
        let mut pipe = pipe.expect("piped");
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            let _ = tx.send((i, buf));
        });
    }
    drop(tx);
    if let (Some(mut stdin), Some(data)) = (child.stdin.take(), input) {
        let data = data.to_vec();
        std::thread::spawn(move || {
            use std::io::Write;
            // The child may exit without reading everything: ignore EPIPE.
            let _ = stdin.write_all(&data);
        });
    }

    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => kill_and_panic(&mut child, &line, secs),
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("waiting for {line}: {e}"),
        }
    };

    // A process the child left behind may still hold the pipes open.
    let mut outs = [Vec::new(), Vec::new()];
    for _ in 0..2 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((i, buf)) => outs[i] = buf,
            Err(_) => kill_and_panic(&mut child, &format!("{line} (output still open)"), secs),
        }
    }
    let [stdout, stderr] = outs;
    Output {
        status,
        stdout,
        stderr,
    }
}

/// Kills `child` (SIGKILL; a jailed program dies with its tracer through
/// PTRACE_O_EXITKILL), reaps it and panics.
fn kill_and_panic(child: &mut Child, line: &str, secs: u64) -> ! {
    let _ = child.kill();
    let _ = child.wait();
    panic!("watchdog: {line} still running after {secs} s; killed");
}

/// The status a shell would report: the exit code, or 128 + signal.
pub fn shell_status(s: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    s.code()
        .or_else(|| s.signal().map(|n| 128 + n))
        .unwrap_or(-1)
}

/// Bytes as text, lossily.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// One-line summary of an output for failure messages.
pub fn show(o: &Output) -> String {
    format!(
        "status {:?} (shell {}), stdout {:?}, stderr {:?}",
        o.status,
        shell_status(o.status),
        text(&o.stdout),
        text(&o.stderr)
    )
}

/// An HTTP/1.0 server on 127.0.0.1 (a thread of the test process) that
/// answers every request with `body`; its port.
pub fn http_server(body: &'static str) -> u16 {
    use std::io::Write;
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind http");
    let port = l.local_addr().expect("local_addr").port();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            let mut b = [0u8; 4096];
            let _ = c.read(&mut b);
            let _ = write!(
                c,
                "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

/// A minimal ELF32 executable for `machine` whose code is `mov ebx,CODE;
/// mov eax,1 (exit); int $0x80`: no loader, no library, no path.
pub fn elf32_exit(machine: u16, code: u8) -> Vec<u8> {
    elf32(machine, |_| {
        vec![0xbb, code, 0, 0, 0, 0xb8, 1, 0, 0, 0, 0xcd, 0x80]
    })
}

/// A minimal i386 executable without `PT_GNU_STACK` (so the kernel gives
/// it `READ_IMPLIES_EXEC`, as it does old binaries) that calls
/// `access(path, F_OK)` and exits with the errno (0 on success).
pub fn elf32_access(path: &str) -> Vec<u8> {
    elf32(3, |at| {
        let path_at = at + 25;
        let mut c = vec![0xb8, 33, 0, 0, 0, 0xbb]; // mov eax,33 (access); mov ebx,
        c.extend(path_at.to_le_bytes()); // path
        c.extend([0x31, 0xc9, 0xcd, 0x80]); // xor ecx,ecx; int $0x80
        c.extend([0x89, 0xc3, 0xf7, 0xdb]); // mov ebx,eax; neg ebx
        c.extend([0xb8, 1, 0, 0, 0, 0xcd, 0x80]); // mov eax,1 (exit); int $0x80
        c.extend(path.as_bytes());
        c.push(0);
        c
    })
}

/// A minimal ELF32 executable for `machine`: one read+execute `PT_LOAD` of
/// the headers and `code(entry address)`, entered at its first byte.
fn elf32(machine: u16, code: impl FnOnce(u32) -> Vec<u8>) -> Vec<u8> {
    let base: u32 = 0x0804_8000;
    let code = code(base + 52 + 32);
    let total = u32::try_from(52 + 32 + code.len()).expect("small");
    let mut v = vec![0x7f, b'E', b'L', b'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    v.extend(2u16.to_le_bytes()); // e_type EXEC
    v.extend(machine.to_le_bytes());
    v.extend(1u32.to_le_bytes()); // e_version
    v.extend((base + 52 + 32).to_le_bytes()); // e_entry
    v.extend(52u32.to_le_bytes()); // e_phoff
    v.extend(0u32.to_le_bytes()); // e_shoff
    v.extend(0u32.to_le_bytes()); // e_flags
    v.extend(52u16.to_le_bytes()); // e_ehsize
    v.extend(32u16.to_le_bytes()); // e_phentsize
    v.extend(1u16.to_le_bytes()); // e_phnum
    v.extend(40u16.to_le_bytes()); // e_shentsize
    v.extend(0u16.to_le_bytes()); // e_shnum
    v.extend(0u16.to_le_bytes()); // e_shstrndx
    v.extend(1u32.to_le_bytes()); // p_type LOAD
    v.extend(0u32.to_le_bytes()); // p_offset
    v.extend(base.to_le_bytes()); // p_vaddr
    v.extend(base.to_le_bytes()); // p_paddr
    v.extend(total.to_le_bytes()); // p_filesz
    v.extend(total.to_le_bytes()); // p_memsz
    v.extend(5u32.to_le_bytes()); // p_flags R+X
    v.extend(0x1000u32.to_le_bytes()); // p_align
    v.extend(code);
    v
}
