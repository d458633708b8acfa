// SPDX-License-Identifier: GPL-3.0-or-later
//! Host-only tests of the network policy with real x86_64 clients:
//! python3's socket module and curl, against servers of the test process
//! on 127.0.0.1. The VM has neither (its clients are the guests and busybox
//! wget, in `net.rs`); a missing program fails the test, `cargo xtask test`
//! installs them.
#![cfg(target_arch = "x86_64")]
#![forbid(unsafe_code)]

mod common;

use std::process::{Command, Output};

const WATCHDOG: u64 = 180;

fn jailed(ujail_args: &[&str], prog: &[&str]) -> Output {
    let mut cmd = Command::new(common::ujail_bin());
    cmd.arg("run").args(ujail_args).arg("--").args(prog);
    common::run_with_timeout(&mut cmd, WATCHDOG)
}

/// Debian's python3 (not a pyenv shim) when present.
fn python3() -> &'static str {
    if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

#[test]
fn python3_socket_module() {
    let port = common::http_server("hi\n");
    let script = format!(
        "import socket\n\
         s = socket.create_connection(('127.0.0.1', {port}))\n\
         s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\n\
         print(s.makefile('rb').read().split(b'\\r\\n\\r\\n', 1)[1].decode(), end='')\n"
    );
    let py = python3();
    let o = jailed(&["--net", "loopback"], &[py, "-c", &script]);
    assert!(
        o.status.success() && common::text(&o.stdout) == "hi\n",
        "loopback: {}",
        common::show(&o)
    );
    let o = jailed(&["--net", "none"], &[py, "-c", &script]);
    let err = common::text(&o.stderr);
    assert!(
        !o.status.success()
            && err.contains("PermissionError")
            && err.contains("ujail: net: denied: pid "),
        "none: {}",
        common::show(&o)
    );
    // An outside destination, refused before the kernel sees it (a
    // TEST-NET address: nothing would answer anyway).
    let out = "import socket\n\
               try:\n    socket.create_connection(('192.0.2.1', 80), timeout=30)\n\
               except OSError as e:\n    print(e.errno)\n";
    let o = jailed(&["--net", "loopback"], &[py, "-c", out]);
    assert_eq!(common::text(&o.stdout), "13\n", "{}", common::show(&o));
}

#[test]
fn curl_over_http() {
    let port = common::http_server("hello curl\n");
    let url = format!("http://127.0.0.1:{port}/");
    let allow = format!("127.0.0.1:{port}");
    let o = jailed(&["--allow-connect", &allow], &["curl", "-sS", &url]);
    assert!(
        o.status.success() && common::text(&o.stdout) == "hello curl\n",
        "allowed: {}",
        common::show(&o)
    );
    let o = jailed(&["--net", "none"], &["curl", "-sS", &url]);
    assert!(
        o.status.code() == Some(7) && common::text(&o.stderr).contains("ujail: net: denied: pid "),
        "none: {}",
        common::show(&o)
    );
}
