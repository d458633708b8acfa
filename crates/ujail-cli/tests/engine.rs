// SPDX-License-Identifier: GPL-3.0-or-later
//! The engine under custom handlers, through the ujail-core library: the
//! scratch area, rewritten calls, restored registers.
//!
//! The tracer waits with `waitpid(-1)`, so two tracers in one process would
//! steal each other's children: every test takes `SERIAL` first. Each run has
//! a watchdog that kills the jailed program after `TIMEOUT`.

mod common;

use std::ffi::{OsStr, OsString};
use std::sync::Mutex;
use std::time::Duration;

use ujail_core::{Call, Handler, Memory, Outcome, ResultAction, Verdict};
use ujail_mem::RemoteAddr;
use ujail_regs::signature::{signature_for, ArgKind};

static SERIAL: Mutex<()> = Mutex::new(());
const TIMEOUT: Duration = Duration::from_secs(60);

/// Run `prog args` jailed under `handler`; the outcome and the handler.
fn jail<H: Handler>(prog: &OsStr, args: &[&str], handler: H) -> (Outcome, H) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    // The engine the suite runs under (xtask sets UJAIL_ENGINE), as the
    // `ujail` binary picks it.
    let engine = match std::env::var("UJAIL_ENGINE").as_deref() {
        Ok("sysemu") => ujail_core::Engine::Sysemu,
        Ok("patch") => ujail_core::Engine::Patch,
        Ok("seccomp") => ujail_core::Engine::Seccomp,
        _ => ujail_core::auto_engine(),
    };
    let opts = ujail_core::SpawnOptions {
        engine,
        placement: ujail_core::Placement::Free,
    };
    let mut tracer = ujail_core::spawn_with(prog, &args, handler, opts).expect("spawn");
    let root = tracer.root();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(TIMEOUT).is_err() {
            // std has no kill(2) and this file has no unsafe: use kill(1).
            let _ = std::process::Command::new("kill")
                .args(["-9", &root.to_string()])
                .status();
            panic!("watchdog: jailed program {root} still running after {TIMEOUT:?}");
        }
    });
    let outcome = tracer.run().expect("tracer run");
    let _ = done_tx.send(());
    watchdog.join().expect("watchdog");
    assert!(
        tracer.errors().is_empty(),
        "tracer problems: {:?}",
        tracer.errors()
    );
    (outcome, tracer.into_handler())
}

/// Rewrites the path of `open`/`openat` calls naming `from` to a placed
/// copy of `to`.
struct Redirect {
    from: &'static [u8],
    to: &'static [u8],
    results: Vec<Option<i64>>,
}

impl Handler for Redirect {
    fn wants_scratch(&self) -> bool {
        true
    }

    fn on_call(&mut self, call: &Call, mem: &mut dyn Memory) -> Verdict {
        let i = match call.name {
            Some("openat") => 1,
            Some("open") => 0,
            _ => return Verdict::Forward,
        };
        match mem.read_cstr(RemoteAddr(call.args[i]), 4096) {
            Ok(p) if p == self.from => {}
            _ => return Verdict::Forward,
        }
        let mut to = self.to.to_vec();
        to.push(0);
        let Some(addr) = mem.place(&to) else {
            return Verdict::Deny(libc::ENOMEM);
        };
        let mut args = call.args;
        args[i] = addr.0;
        Verdict::Rewrite {
            nr: call.nr,
            args,
            report: true,
        }
    }

    fn on_result(&mut self, _call: &Call, ret: Option<i64>, _mem: &mut dyn Memory) -> ResultAction {
        self.results.push(ret);
        ResultAction::Keep
    }
}

#[test]
fn rewritten_path_is_what_the_kernel_opens() {
    for g in common::guests() {
        let missing = "/nonexistent-ujail-redirect";
        // Baseline: the guest really fails on the missing path.
        let plain = Redirect {
            from: b"-",
            to: b"/",
            results: vec![],
        };
        let (outcome, _) = jail(g.path.as_os_str(), &["open", missing], plain);
        assert_eq!(
            outcome,
            Outcome::Exited(1),
            "{}: baseline open of {missing}",
            g.name
        );
        // Redirected to "/", which opens fine.
        let redirect = Redirect {
            from: missing.as_bytes(),
            to: b"/",
            results: vec![],
        };
        let (outcome, h) = jail(g.path.as_os_str(), &["open", missing], redirect);
        assert_eq!(outcome, Outcome::Exited(0), "{}: redirected open", g.name);
        assert_eq!(h.results.len(), 1, "{}: one rewritten call", g.name);
        assert!(
            h.results[0].is_some_and(|fd| fd >= 0),
            "{}: result {:?}",
            g.name,
            h.results
        );
    }
}

/// Rewrites every call that takes a path so that the kernel reads a placed
/// copy: heavy use of the scratch area, rewinds and register restores.
#[derive(Default)]
struct CopyAllPaths {
    rewritten: u64,
}

impl Handler for CopyAllPaths {
    fn wants_scratch(&self) -> bool {
        true
    }

    fn on_call(&mut self, call: &Call, mem: &mut dyn Memory) -> Verdict {
        let Some(kinds) = call.name.and_then(|n| signature_for(call.abi, n)) else {
            return Verdict::Forward;
        };
        let mut args = call.args;
        let mut changed = false;
        for (i, k) in kinds.iter().enumerate() {
            if *k != ArgKind::Path || args[i] == 0 {
                continue;
            }
            let Ok(mut p) = mem.read_cstr(RemoteAddr(args[i]), 4096) else {
                return Verdict::Forward;
            };
            p.push(0);
            match mem.place(&p) {
                Some(a) => {
                    args[i] = a.0;
                    changed = true;
                }
                None => return Verdict::Deny(libc::ENOMEM),
            }
        }
        if !changed {
            return Verdict::Forward;
        }
        self.rewritten += 1;
        Verdict::Rewrite {
            nr: call.nr,
            args,
            report: false,
        }
    }
}

#[test]
fn programs_run_with_every_path_rewritten() {
    for g in common::guests() {
        for args in [
            &["hello"][..],
            &["fork", "3"],
            &["threads", "4", "20"],
            &["signals"],
            &["vfork"],
        ] {
            let (outcome, _) = jail(g.path.as_os_str(), args, CopyAllPaths::default());
            assert_eq!(outcome, Outcome::Exited(0), "{} {args:?}", g.name);
        }
        // A rewritten execve: the new image keeps its own entry registers.
        let me = g.path.to_string_lossy().into_owned();
        let (outcome, _) = jail(
            g.path.as_os_str(),
            &["exec", &me, "hello"],
            CopyAllPaths::default(),
        );
        // (`hello` returns through libc's exit(), which calls the atexit
        // pointer the kernel left in rdx/edx for the new image.)
        assert_eq!(outcome, Outcome::Exited(0), "{} exec", g.name);
        let (outcome, h) = jail(
            g.path.as_os_str(),
            &["open", "/proc/self/status"],
            CopyAllPaths::default(),
        );
        assert_eq!(outcome, Outcome::Exited(0), "{} open", g.name);
        assert!(h.rewritten >= 1, "{}: the open was rewritten", g.name);
    }
    // The i386 busybox shell: many path calls, forks and execs.
    let script = "cd /proc && ls / >/dev/null && cat /proc/self/status >/dev/null && test -d /proc/self && exit 42";
    let (outcome, h) = jail(
        OsStr::new("/bin/busybox"),
        &["sh", "-c", script],
        CopyAllPaths::default(),
    );
    assert_eq!(
        outcome,
        Outcome::Exited(42),
        "busybox sh under CopyAllPaths"
    );
    assert!(h.rewritten >= 4, "busybox: {} rewritten calls", h.rewritten);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn python_runs_with_every_path_rewritten() {
    let code =
        "import json, os, email.parser; os.stat('/'); exit(42 if json.dumps([1]) == '[1]' else 1)";
    let (outcome, h) = jail(
        OsStr::new("python3"),
        &["-c", code],
        CopyAllPaths::default(),
    );
    assert_eq!(outcome, Outcome::Exited(42));
    assert!(
        h.rewritten >= 20,
        "python3: {} rewritten calls",
        h.rewritten
    );
}
