// SPDX-License-Identifier: GPL-3.0-or-later
//! Smoke test of the guest programs themselves, run WITHOUT ujail: every
//! subcommand of every guest flavour of this build gives the output and
//! exit status of the team contract. This is the baseline the jailed tests
//! compare against; if it fails, the guest (or the machine) is broken, not
//! ujail.
#![forbid(unsafe_code)]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::Output;

use common::Guest;

/// Watchdog per guest run, seconds (the `signals` subcommand takes ~2 s).
const WATCHDOG: u64 = 60;

fn run(g: &Guest, args: &[&str]) -> Output {
    common::run_with_timeout(&mut g.command(args), WATCHDOG)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts exit status `code` and exactly `want` on stdout.
#[track_caller]
fn expect(g: &Guest, args: &[&str], want: &str, code: i32) {
    let out = run(g, args);
    assert_eq!(
        (stdout(&out).as_str(), out.status.code()),
        (want, Some(code)),
        "{} {args:?}: stderr: {}",
        g.name,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Asserts death by signal `sig`.
#[track_caller]
fn expect_signal(g: &Guest, args: &[&str], sig: i32) {
    let out = run(g, args);
    assert_eq!(
        out.status.signal(),
        Some(sig),
        "{} {args:?}: {:?}",
        g.name,
        out.status
    );
}

#[test]
fn this_build_has_the_right_flavours() {
    let names: Vec<_> = common::guests().iter().map(|g| g.name).collect();
    if cfg!(target_arch = "x86_64") {
        assert_eq!(
            names,
            ["x86_64-dyn", "x86_64-static", "i686-dyn", "i686-static"]
        );
    } else {
        assert_eq!(names, ["i686-dyn", "i686-static"]);
    }
}

#[test]
fn hello_raw_write_int80() {
    for g in common::guests() {
        expect(&g, &["hello"], "hello\n", 0);
        expect(&g, &["raw-write"], "raw\n", 0);
        expect(&g, &["int80"], "int80\n", 0);
    }
}

#[test]
fn sysenter() {
    for g in common::guests() {
        if g.abi == "i386" {
            expect(&g, &["sysenter"], "sysenter\n", 0);
        } else {
            expect(&g, &["sysenter"], "unsupported\n", 2);
        }
    }
}

#[test]
fn exit_codes() {
    for g in common::guests() {
        for code in [0, 1, 3, 42, 255] {
            expect(&g, &["exit", &code.to_string()], "", code);
        }
    }
}

#[test]
fn kill_self_and_segv() {
    for g in common::guests() {
        for sig in [libc::SIGKILL, libc::SIGTERM, libc::SIGUSR1, libc::SIGINT] {
            expect_signal(&g, &["kill-self", &sig.to_string()], sig);
        }
        expect_signal(&g, &["segv"], libc::SIGSEGV);
    }
}

#[test]
fn fork() {
    for g in common::guests() {
        let out = run(&g, &["fork", "5"]);
        assert_eq!(out.status.code(), Some(0), "{}: {out:?}", g.name);
        let text = stdout(&out);
        let mut lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.pop(), Some("reaped 5"), "{}: {text}", g.name);
        lines.sort_unstable();
        assert_eq!(
            lines,
            ["child 0", "child 1", "child 2", "child 3", "child 4"],
            "{}",
            g.name
        );
    }
}

#[test]
fn vfork_and_clone3() {
    for g in common::guests() {
        expect(&g, &["vfork"], "vfork child 7\n", 0);
        // Every kernel the suite runs on (host, VM 6.1) has clone3.
        expect(&g, &["clone3"], "clone3 child 3\n", 0);
    }
}

#[test]
fn threads() {
    for g in common::guests() {
        expect(&g, &["threads", "8", "200"], "threads 8 200 ok\n", 0);
    }
}

#[test]
fn exec() {
    for g in common::guests() {
        // Exec each guest of this build from each other one (i386 <-> x86_64).
        for target in common::guests() {
            let path = target.path.to_str().expect("UTF-8 path");
            expect(&g, &["exec", path, "hello"], "hello\n", 0);
        }
        expect(
            &g,
            &["exec", "/nonexistent/prog"],
            "exec: No such file or directory\n",
            126,
        );
        expect(&g, &["exec", "/"], "exec: Permission denied\n", 126);
    }
}

#[test]
fn signals() {
    for g in common::guests() {
        expect(
            &g,
            &["signals"],
            "handler\nhandler\nhandler\nsignals ok\n",
            0,
        );
    }
}

#[test]
fn open() {
    for g in common::guests() {
        expect(&g, &["open", "/proc/self/status"], "open ok\n", 0);
        expect(
            &g,
            &["open", "/nonexistent"],
            "open: No such file or directory\n",
            1,
        );
    }
}

#[test]
fn getpid() {
    for g in common::guests() {
        let mut cmd = g.command(&["getpid"]);
        let out = common::run_with_timeout(&mut cmd, WATCHDOG);
        assert_eq!(out.status.code(), Some(0), "{}: {out:?}", g.name);
        let text = stdout(&out);
        let words: Vec<_> = text.split_whitespace().collect();
        assert!(
            matches!(words.as_slice(), ["pid", p, "ppid", q]
                if p.parse::<u32>().is_ok_and(|p| p > 1)
                    && q.parse::<u32>() == Ok(std::process::id())),
            "{}: {text:?} (test pid {})",
            g.name,
            std::process::id()
        );
    }
}

#[test]
fn getppid_loop_and_sleep() {
    for g in common::guests() {
        expect(&g, &["getppid-loop", "10000"], "done 10000\n", 0);
        expect(&g, &["sleep", "0.1"], "", 0);
    }
}

#[test]
fn usage_errors_exit_2() {
    for g in common::guests() {
        for args in [&["no-such-cmd"][..], &[], &["exit"], &["fork", "x"]] {
            let out = run(&g, args);
            assert_eq!(out.status.code(), Some(2), "{} {args:?}", g.name);
            assert!(
                out.stdout.is_empty(),
                "{} {args:?}: stdout {:?}",
                g.name,
                stdout(&out)
            );
            assert!(!out.stderr.is_empty(), "{} {args:?}: no message", g.name);
        }
    }
}
