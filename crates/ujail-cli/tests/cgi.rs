// SPDX-License-Identifier: GPL-3.0-or-later
//! The CGI case of issue 4, end to end: a real web server (the i386 busybox
//! httpd, present on the host and in the test VM) serves two sites on
//! loopback ports, and every CGI script of a site runs under `ujail run`
//! with that site's policy. Checked over HTTP with a small client on
//! `std::net::TcpStream`: each site's scripts read and write their own
//! files; reading the other site's files or `/etc/shadow`, and writing
//! outside the site's data directory, are refused (the script says so in
//! its response and no file appears); ujail's denial lines reach the
//! server's stderr (its error log).
//!
//! The server configuration is the one README.md "Confining CGI" documents,
//! from the fixtures in `tests/cgi/` (compiled in: the VM has only the test
//! binaries): per site, a document root, an `httpd.conf` whose one line maps
//! `*.cgi` to the site's launcher, the launcher (a few lines of `sh` that
//! `exec ujail run --policy SITE.toml -- SCRIPT ARGS`) and the policy. No
//! wrapper per script: any `*.cgi` dropped into the site runs jailed.
//!
//! Scripts: `sh.cgi` (busybox sh), `i386.cgi` (the static i686 guest program,
//! its arguments from the query string as RFC 3875 4.4 has it) and, on
//! x86_64 only, `py.cgi` (Debian's python3; the VM has no Python).
//!
//! Processes: each server runs in its own process group; a [`Site`] guard
//! kills the group (the server, its connection children, the launchers and
//! ujail, whose tracees die with it through `PTRACE_O_EXITKILL`) when it is
//! dropped, also on panic, and a watchdog thread kills it after
//! [`WATCHDOG`] seconds; every request has socket timeouts.
#![forbid(unsafe_code)]

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The i386 busybox: its `httpd` is the server, its `sh` runs the launcher
/// and `sh.cgi`.
const BUSYBOX: &str = "/bin/busybox";

/// The whole life of a site's server, seconds; the watchdog kills it after.
/// Generous: the VM runs under TCG.
const WATCHDOG: u64 = 240;

/// Socket timeout of one HTTP request, seconds.
const REQUEST_TIMEOUT: u64 = 90;

const LAUNCHER: &str = include_str!("cgi/launcher");
const HTTPD_CONF: &str = include_str!("cgi/httpd.conf");
const SITE_TOML: &str = include_str!("cgi/site.toml");
const SH_CGI: &str = include_str!("cgi/sh.cgi");
#[cfg(target_arch = "x86_64")]
const PY_CGI: &str = include_str!("cgi/py.cgi");

// ---------------------------------------------------------------------------
// the sites
// ---------------------------------------------------------------------------

/// A temporary directory tree holding two sites, removed on drop:
/// `ROOT/www/siteN/{index.html,data/{own.txt,to-other.txt},cgi-bin/*.cgi}` and
/// `ROOT/etc/siteN/{httpd.conf,launcher,site.toml}`.
struct Tree {
    root: PathBuf,
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

impl Tree {
    /// A fresh, symlink-free (policy rules match resolved paths) directory.
    fn new(test: &str) -> Tree {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("ujail-cgi-{}-{test}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the test directory");
        let root = fs::canonicalize(&dir).expect("canonicalize the test directory");
        Tree { root }
    }

    fn site_dir(&self, name: &str) -> PathBuf {
        self.root.join("www").join(name)
    }

    /// Installs site `name` as README.md "Confining CGI" describes: document
    /// root, `data/` (writable by the scripts), `cgi-bin/` with the test
    /// scripts, and outside the document root the server configuration,
    /// the launcher and the policy. Returns the config directory.
    fn install_site(&self, name: &str) -> PathBuf {
        let site = self.site_dir(name);
        let etc = self.root.join("etc").join(name);
        for d in [site.join("cgi-bin"), site.join("data"), etc.clone()] {
            fs::create_dir_all(&d).expect("create site directories");
        }
        write(
            &site.join("index.html"),
            &format!("index of {name}\n"),
            0o644,
        );
        write(
            &site.join("data/own.txt"),
            &format!("secret of {name}\n"),
            0o644,
        );
        // A symlink to the other site's file, as a script could make one.
        let other_site = if name == "site1" { "site2" } else { "site1" };
        std::os::unix::fs::symlink(
            format!("../../{other_site}/data/own.txt"),
            site.join("data/to-other.txt"),
        )
        .expect("symlink in data/");

        let policy = etc.join("site.toml");
        let launcher = etc.join("launcher");
        let site_text = site.to_str().expect("UTF-8 temp path");
        write(&policy, &SITE_TOML.replace("@SITE@", site_text), 0o644);
        let ujail = common::ujail_bin();
        let ujail_text = ujail.to_str().expect("UTF-8 ujail path");
        write(
            &launcher,
            &LAUNCHER
                .replace("@UJAIL@", ujail_text)
                .replace("@POLICY@", policy.to_str().expect("UTF-8")),
            0o755,
        );
        write(
            &etc.join("httpd.conf"),
            &HTTPD_CONF.replace("@LAUNCHER@", launcher.to_str().expect("UTF-8")),
            0o644,
        );

        write(&site.join("cgi-bin/sh.cgi"), SH_CGI, 0o755);
        #[cfg(target_arch = "x86_64")]
        write(&site.join("cgi-bin/py.cgi"), PY_CGI, 0o755);
        let guest = common::guests_dir().join("ujail-guest-i686-static");
        assert!(
            guest.is_file(),
            "{} missing; guest programs not built: run `cargo xtask build-guests`",
            guest.display()
        );
        let i386 = site.join("cgi-bin/i386.cgi");
        fs::copy(&guest, &i386).expect("copy the i686 guest into cgi-bin");
        fs::set_permissions(&i386, fs::Permissions::from_mode(0o755)).expect("chmod i386.cgi");

        // The policy must be valid as written (a typo would be an error).
        let check = common::run_with_timeout(Command::new(&ujail).arg("check").arg(&policy), 30);
        assert!(
            check.status.success(),
            "ujail check {}: {}",
            policy.display(),
            String::from_utf8_lossy(&check.stderr)
        );
        etc
    }
}

fn write(path: &Path, text: &str, mode: u32) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

// ---------------------------------------------------------------------------
// the servers
// ---------------------------------------------------------------------------

/// One busybox httpd serving one site on 127.0.0.1, in its own process
/// group. Dropping it kills the group, also when a test panics.
struct Server {
    name: String,
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    /// Tells the watchdog thread the server is gone.
    stop: Option<mpsc::Sender<()>>,
    watchdog: Option<std::thread::JoinHandle<()>>,
}

/// Kills process group `pgid` with SIGKILL (busybox's kill: safe code only).
fn kill_group(pgid: u32) {
    let _ = Command::new(BUSYBOX)
        .args(["kill", "-KILL", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The process ids whose process group is `pgid` (from /proc/PID/stat).
fn group_members(pgid: u32) -> Vec<u32> {
    let mut pids = Vec::new();
    let Ok(dir) = fs::read_dir("/proc") else {
        return pids;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...: comm may hold spaces and ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|f| f.parse::<u32>().ok());
        if pgrp == Some(pgid) && state != Some("Z") {
            pids.push(pid);
        }
    }
    pids
}

impl Server {
    /// Starts busybox httpd for site `name` (document root `docroot`,
    /// configuration `etc/httpd.conf`) on a free loopback port, with its
    /// stderr in `etc/error.log`, and waits until it accepts connections.
    fn start(name: &str, docroot: &Path, etc: &Path) -> Server {
        let log = etc.join("error.log");
        let mut last_err = String::new();
        // The port is free when we look; another process may take it before
        // httpd binds: then httpd exits and we try another one.
        for _ in 0..5 {
            let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .expect("find a free loopback port (is the loopback interface up?)");
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            let err = fs::File::create(&log).expect("create the server's error log");
            let child = Command::new(BUSYBOX)
                .args(["httpd", "-f", "-vv", "-p"])
                .arg(addr.to_string())
                .arg("-h")
                .arg(docroot)
                .arg("-c")
                .arg(etc.join("httpd.conf"))
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(err)
                .process_group(0)
                .spawn()
                .expect("start busybox httpd");
            let pgid = child.id();
            let (tx, rx) = mpsc::channel::<()>();
            let watchdog = std::thread::spawn(move || {
                if let Err(mpsc::RecvTimeoutError::Timeout) =
                    rx.recv_timeout(Duration::from_secs(WATCHDOG))
                {
                    eprintln!(
                        "watchdog: server group {pgid} still running after {WATCHDOG} s; killed"
                    );
                    kill_group(pgid);
                }
            });
            let mut server = Server {
                name: name.to_owned(),
                child,
                addr,
                log: log.clone(),
                stop: Some(tx),
                watchdog: Some(watchdog),
            };
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Ok(Some(status)) = server.child.try_wait() {
                    last_err = format!(
                        "httpd for {name} on {addr} exited ({status}): {}",
                        fs::read_to_string(&log).unwrap_or_default()
                    );
                    break;
                }
                if TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok() {
                    return server;
                }
                if Instant::now() >= deadline {
                    panic!("httpd for {name} does not accept connections on {addr} after 30 s");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            drop(server);
        }
        panic!("cannot start busybox httpd: {last_err}");
    }

    /// GET `target` with `Host: host`; the whole response.
    fn get(&self, target: &str) -> Response {
        get(self.addr, &format!("{}.test", self.name), target)
    }

    /// The server's stderr so far: its request log and the CGI's stderr,
    /// which carries ujail's denial lines.
    fn error_log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills the server's process group and waits until no process of it
    /// is left; returns those still alive after 10 s (none, normally).
    fn shutdown(&mut self) -> Vec<u32> {
        let pgid = self.child.id();
        kill_group(pgid);
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(w) = self.watchdog.take() {
            let _ = w.join();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = group_members(pgid);
            if left.is_empty() || Instant::now() >= deadline {
                return left;
            }
            kill_group(pgid);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.stop.is_some() {
            let _ = self.shutdown();
        }
    }
}

// ---------------------------------------------------------------------------
// the HTTP client
// ---------------------------------------------------------------------------

/// An HTTP response as read off the socket.
struct Response {
    /// What was asked, for messages.
    request: String,
    status: u16,
    /// Everything the server sent (status line, headers, body).
    raw: String,
    /// After the first empty line (or everything after the status line
    /// when there is none).
    body: String,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GET {} -> {:?}", self.request, self.raw)
    }
}

/// `GET target HTTP/1.0` to `addr` with a Host header; reads until the
/// server closes the connection; what it sent, or why that failed.
fn fetch(addr: SocketAddr, host: &str, target: &str) -> Result<Vec<u8>, String> {
    let timeout = Some(Duration::from_secs(REQUEST_TIMEOUT));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(timeout)
        .and_then(|()| s.set_write_timeout(timeout))
        .map_err(|e| format!("socket timeouts: {e}"))?;
    write!(
        s,
        "GET {target} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: ujail-cgi-test\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("send: {e}"))?;
    let mut bytes = Vec::new();
    s.read_to_end(&mut bytes)
        .map_err(|e| format!("read the response: {e}"))?;
    Ok(bytes)
}

/// [`fetch`], and the response parsed; panics when there is none.
fn get(addr: SocketAddr, host: &str, target: &str) -> Response {
    let request = format!("http://{host}{target} ({addr})");
    let bytes = fetch(addr, host, target).unwrap_or_else(|e| panic!("{request}: {e}"));
    let raw = String::from_utf8_lossy(&bytes).into_owned();
    let status = raw
        .strip_prefix("HTTP/1.")
        .and_then(|r| r.get(2..5))
        .and_then(|c| c.parse::<u16>().ok())
        .unwrap_or_else(|| panic!("no HTTP status line in the response to {request}: {raw:?}"));
    let after_status = raw.split_once('\n').map_or("", |(_, r)| r);
    let body = after_status
        .split_once("\r\n\r\n")
        .or_else(|| after_status.split_once("\n\n"))
        .map_or(after_status, |(_, b)| b)
        .to_owned();
    Response {
        request,
        status,
        raw,
        body,
    }
}

// ---------------------------------------------------------------------------
// the two sites, running
// ---------------------------------------------------------------------------

/// Two sites, each served by its own server, each CGI under its own policy.
struct Sites {
    // Field order is drop order: the servers die before the tree goes.
    site1: Server,
    site2: Server,
    tree: Tree,
}

impl Sites {
    fn start(test: &str) -> Sites {
        let tree = Tree::new(test);
        let etc1 = tree.install_site("site1");
        let etc2 = tree.install_site("site2");
        let site1 = Server::start("site1", &tree.site_dir("site1"), &etc1);
        let site2 = Server::start("site2", &tree.site_dir("site2"), &etc2);
        Sites { site1, site2, tree }
    }

    fn server(&self, name: &str) -> &Server {
        match name {
            "site1" => &self.site1,
            "site2" => &self.site2,
            _ => unreachable!("two sites"),
        }
    }

    /// Path of `rel` in site `name`'s directory, as a string for a URL.
    fn path(&self, name: &str, rel: &str) -> String {
        self.tree
            .site_dir(name)
            .join(rel)
            .to_str()
            .expect("UTF-8")
            .to_owned()
    }

    /// Path of `file` in site `name`'s configuration directory.
    fn config(&self, name: &str, file: &str) -> String {
        let p = self.tree.root.join("etc").join(name).join(file);
        p.to_str().expect("UTF-8").to_owned()
    }

    /// A path next to the sites, outside every document root.
    fn outside(&self, file: &str) -> String {
        self.tree
            .root
            .join(file)
            .to_str()
            .expect("UTF-8")
            .to_owned()
    }
}

/// The other site.
fn other(name: &str) -> &'static str {
    if name == "site1" {
        "site2"
    } else {
        "site1"
    }
}

/// Asserts that `resp` is a 200 whose body contains `want`.
#[track_caller]
fn expect_body(resp: &Response, want: &str) {
    assert_eq!(resp.status, 200, "{resp:?}");
    assert!(
        resp.body.contains(want),
        "expected {want:?} in the body of {resp:?}"
    );
}

/// Asserts that `resp` is a 200 that contains `want` anywhere: a program
/// that prints no CGI header (the guest) has its output where the headers
/// go, after the status line busybox httpd adds.
#[track_caller]
fn expect_raw(resp: &Response, want: &str) {
    assert_eq!(resp.status, 200, "{resp:?}");
    assert!(resp.raw.contains(want), "expected {want:?} in {resp:?}");
}

/// Asserts that the server's error log has a ujail denial line naming `path`.
#[track_caller]
fn expect_denial_logged(server: &Server, path: &str) {
    let log = server.error_log();
    assert!(
        log.lines()
            .any(|l| l.starts_with("ujail: denied: ") && l.contains(path)),
        "no `ujail: denied:` line naming {path} in {}'s error log:\n{log}",
        server.name
    );
}

/// The read/write checks of a script taking `?read=PATH` / `?write=PATH`
/// (`sh.cgi`, `py.cgi`), on both sites.
fn read_write_cases(sites: &Sites, script: &str) {
    let stem = script.trim_end_matches(".cgi");
    for name in ["site1", "site2"] {
        let server = sites.server(name);
        let url = |q: &str| format!("/cgi-bin/{script}?{q}");

        // Its own files, by absolute and by relative path (cwd: cgi-bin).
        let own = sites.path(name, "data/own.txt");
        expect_body(
            &server.get(&url(&format!("read={own}"))),
            &format!("read ok: secret of {name}"),
        );
        expect_body(
            &server.get(&url("read=../data/own.txt")),
            &format!("read ok: secret of {name}"),
        );
        expect_body(
            &server.get(&url("read=../index.html")),
            &format!("read ok: index of {name}"),
        );

        // It may create files in its data directory.
        let new = sites.path(name, &format!("data/new-by-{stem}.txt"));
        expect_body(&server.get(&url(&format!("write={new}"))), "write ok");
        let text = fs::read_to_string(&new).unwrap_or_default();
        assert!(
            text.contains(&format!("written by {script}")),
            "{new} after ?write: {text:?}"
        );

        // The other site's file (readable without the jail: this process
        // reads it), and /etc/shadow.
        let theirs = sites.path(other(name), "data/own.txt");
        assert!(fs::read_to_string(&theirs).is_ok(), "{theirs} readable");
        let r = server.get(&url(&format!("read={theirs}")));
        expect_body(&r, "read failed");
        expect_body(&r, "Permission denied");
        assert!(!r.raw.contains("secret of"), "{r:?}");
        expect_denial_logged(server, &theirs);

        // The same file through a symlink in its own data directory (an
        // old open_basedir escape), and the site's own server configuration.
        let link = sites.path(name, "data/to-other.txt");
        assert!(
            fs::read_to_string(&link).is_ok_and(|t| t.contains(other(name))),
            "{link} leads to the other site's file"
        );
        let r = server.get(&url(&format!("read={link}")));
        expect_body(&r, "read failed");
        expect_body(&r, "Permission denied");
        assert!(!r.raw.contains("secret of"), "{r:?}");
        let conf = sites.config(name, "site.toml");
        let r = server.get(&url(&format!("read={conf}")));
        expect_body(&r, "read failed");
        expect_body(&r, "Permission denied");
        expect_denial_logged(server, &conf);

        let r = server.get(&url("read=/etc/shadow"));
        expect_body(&r, "read failed");
        expect_body(&r, "Permission denied");
        expect_denial_logged(server, "/etc/shadow");

        // Writes outside its data directory: next to the sites, into the
        // other site, and into its own cgi-bin (scripts cannot plant
        // scripts).
        for target in [
            sites.outside(&format!("outside-{name}-{stem}.txt")),
            sites.path(other(name), &format!("data/from-{name}-{stem}.txt")),
            sites.path(name, &format!("cgi-bin/planted-by-{stem}.cgi")),
            sites.path(name, &format!("planted-by-{stem}.html")),
        ] {
            let r = server.get(&url(&format!("write={target}")));
            expect_body(&r, "write failed");
            expect_body(&r, "Permission denied");
            assert!(
                !Path::new(&target).exists(),
                "{target} was created by {r:?}"
            );
            expect_denial_logged(server, &target);
        }
    }
}

// ---------------------------------------------------------------------------
// tests
// ---------------------------------------------------------------------------

/// Each server serves its own document root (static files do not go
/// through ujail); a script's cwd is its own cgi-bin.
#[test]
fn two_sites_serve_their_own_documents() {
    let sites = Sites::start("static");
    for name in ["site1", "site2"] {
        let server = sites.server(name);
        let r = server.get("/index.html");
        expect_body(&r, &format!("index of {name}"));
        assert!(
            !r.raw.contains(&format!("index of {}", other(name))),
            "{r:?}"
        );
        let r = server.get("/cgi-bin/sh.cgi");
        expect_body(&r, &format!("sh.cgi in {}", sites.path(name, "cgi-bin")));
    }
}

/// busybox sh scripts: own files yes, the other site, /etc/shadow and
/// writes outside data/ no; the denials are in the server's error log.
#[test]
fn shell_cgi_is_confined_to_its_site() {
    let sites = Sites::start("sh");
    read_write_cases(&sites, "sh.cgi");
}

/// An i386 static binary as CGI (the guest program; its command line from
/// the query string, RFC 3875 4.4, through the launcher).
#[test]
fn i386_binary_cgi_is_confined_to_its_site() {
    let sites = Sites::start("i386");
    for name in ["site1", "site2"] {
        let server = sites.server(name);
        let own = sites.path(name, "data/own.txt");
        expect_raw(
            &server.get(&format!("/cgi-bin/i386.cgi?open+{own}")),
            "open ok",
        );
        expect_raw(
            &server.get("/cgi-bin/i386.cgi?open+..%2Fdata%2Fown.txt"),
            "open ok",
        );
        let theirs = sites.path(other(name), "data/own.txt");
        let r = server.get(&format!("/cgi-bin/i386.cgi?open+{theirs}"));
        expect_raw(&r, "open: Permission denied");
        expect_denial_logged(server, &theirs);
        let r = server.get("/cgi-bin/i386.cgi?open+/etc/shadow");
        expect_raw(&r, "open: Permission denied");
        expect_denial_logged(server, "/etc/shadow");
        // The jailed binary cannot run programs outside the policy either.
        let r = server.get(&format!(
            "/cgi-bin/i386.cgi?exec+{}",
            sites.path(other(name), "cgi-bin/i386.cgi")
        ));
        expect_raw(&r, "exec: Permission denied");
    }
}

/// Python scripts (host only: the VM has no Python).
#[cfg(target_arch = "x86_64")]
#[test]
fn python_cgi_is_confined_to_its_site() {
    python_cases();
}

#[cfg(target_arch = "x86_64")]
fn python_cases() {
    assert!(
        Path::new("/usr/bin/python3").exists(),
        "/usr/bin/python3 missing (Debian's python3 package; `cargo xtask deps`)"
    );
    let sites = Sites::start("py");
    read_write_cases(&sites, "py.cgi");
}

/// Shutting a server down leaves no process behind, even with a jailed CGI
/// still running (a request in flight): the group kill reaches ujail, and
/// its tracee dies with it.
#[test]
fn shutdown_leaves_no_process_behind() {
    let mut sites = Sites::start("shutdown");
    let addr = sites.site1.addr;
    // A CGI that would run for 60 s; its response never comes.
    let client =
        std::thread::spawn(move || fetch(addr, "site1.test", "/cgi-bin/i386.cgi?sleep+60"));
    // Wait until the jailed guest runs (its comm is i386.cgi).
    let pgid = sites.site1.child.id();
    let deadline = Instant::now() + Duration::from_secs(60);
    let sleeper = loop {
        let found = group_members(pgid).into_iter().find(|pid| {
            fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "i386.cgi")
        });
        if let Some(pid) = found {
            break pid;
        }
        assert!(
            !client.is_finished() && Instant::now() < deadline,
            "the jailed i386.cgi did not start ({}); error log:\n{}",
            if client.is_finished() {
                "the request ended"
            } else {
                "60 s"
            },
            sites.site1.error_log()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let status = fs::read_to_string(format!("/proc/{sleeper}/status")).unwrap_or_default();
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("TracerPid:") && l.trim_end() != "TracerPid:\t0"),
        "i386.cgi ({sleeper}) is not traced:\n{status}"
    );
    let left = sites.site1.shutdown();
    assert!(
        left.is_empty(),
        "still alive after the group kill: {left:?}"
    );
    assert!(
        !Path::new(&format!("/proc/{sleeper}")).exists()
            || fs::read_to_string(format!("/proc/{sleeper}/stat")).is_ok_and(|s| s
                .rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))),
        "the jailed CGI {sleeper} survived the shutdown"
    );
    // The server went away without an answer: the client sees the close.
    let answer = client.join().expect("client thread");
    assert!(
        answer.as_ref().map_or(true, Vec::is_empty),
        "an answer after the kill: {answer:?}"
    );
}
