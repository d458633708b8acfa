// SPDX-License-Identifier: GPL-3.0-or-later
//! The network policy at the tracer: a decision per socket call, from the
//! rules of [`ujail_net::rules`], logged and, in `ask` mode, asked on the
//! terminal.
//!
//! This module decides and reports; reading socket addresses from the
//! tracee, making the kernel use exactly the checked copy and judging
//! results (accept's peer, a datagram's source) is done by the filesystem
//! policy's socket code ([`crate::fs`]), which owns the scratch areas.
//!
//! **Log.** Denials, and decisions of `log` rules or `--net log`, are one
//! line each on the policy's output (stderr unless `--net-log FILE`); with
//! `log_all` (a `--net-log` file) every decision is written. Text lines read
//! `ujail: net: denied: pid 12 (curl) connect 93.184.216.34:443: EACCES
//! [default: not allowed (--net none)]` (the direction in parentheses when
//! it differs from the call: `listen (bind) 0.0.0.0:0`); JSON Lines carry the same fields.
//!
//! **Ask.** A decision `ask` prompts on `/dev/tty` with the program, pid,
//! call and destination; the answer is `o`nce (allow this call), `a`lways
//! (allow this destination for the rest of the run) or `n`ever (deny it for
//! the rest of the run); anything else denies this call. Without a terminal
//! the call is denied and the log says why. `always` and `never` answers are
//! kept as rules and, with a save file, written there as a policy file's
//! `[net]` table after each answer.
#![forbid(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::PathBuf;

use ujail_net::addr::SockAddr;
use ujail_net::rules::{Action, Decision, Direction, NetRules, Rule, SocketKind};

use crate::errno;
use crate::handler::Pid;
use crate::log::json_string;

/// Who makes a call, for the log and the prompt.
#[derive(Debug, Clone)]
pub struct Caller<'a> {
    /// The thread.
    pub pid: Pid,
    /// The call's name (`connect`, `socketcall`, ...).
    pub call: &'a str,
}

/// What a socket call is about: a socket to create or an address.
#[derive(Debug, Clone, Copy)]
enum Subject<'a> {
    Socket(SocketKind),
    Addr(Direction, &'a SockAddr),
}

/// The network policy: rules, the decision log and the terminal to ask.
pub struct NetPolicy {
    rules: NetRules,
    out: Box<dyn Write>,
    json: bool,
    log_all: bool,
    /// Log, never refuse (`--audit`).
    audit: bool,
    tty: Option<BufReader<File>>,
    save: Option<PathBuf>,
    write_error: Option<io::Error>,
}

impl std::fmt::Debug for NetPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetPolicy")
            .field("rules", &self.rules)
            .field("json", &self.json)
            .field("log_all", &self.log_all)
            .finish_non_exhaustive()
    }
}

impl NetPolicy {
    /// A policy with `rules`, logging to `out` (JSON Lines with `json`;
    /// every decision with `log_all`, else denials and logged ones).
    pub fn new(rules: NetRules, out: Box<dyn Write>, json: bool, log_all: bool) -> NetPolicy {
        NetPolicy {
            rules,
            out,
            json,
            log_all,
            audit: false,
            tty: None,
            save: None,
            write_error: None,
        }
    }

    /// The policy of a run without network options: raw and packet sockets
    /// denied, everything else allowed; denials to stderr.
    pub fn permissive() -> NetPolicy {
        NetPolicy::new(
            NetRules::new(ujail_net::rules::Mode::All),
            Box::new(io::stderr()),
            false,
            false,
        )
    }

    /// Audit mode: decide and log, but allow.
    pub fn audit(mut self, on: bool) -> Self {
        self.audit = on;
        self
    }

    /// Write `always`/`never` answers to `path` (a policy file with a
    /// `[net]` table), rewritten after each answer.
    pub fn save_answers(mut self, path: PathBuf) -> Self {
        self.save = Some(path);
        self
    }

    /// True when socket addresses must be judged (and copied); false when
    /// only socket creation is (the raw/packet default).
    pub fn is_active(&self) -> bool {
        self.rules.is_active()
    }

    /// The rules learned from `ask` answers.
    pub fn learned(&self) -> &[Rule] {
        self.rules.learned()
    }

    /// Judge creating a socket of `kind`: `Err(errno)` refuses.
    pub fn judge_socket(&mut self, who: &Caller<'_>, kind: SocketKind) -> Result<(), i32> {
        let d = self.rules.judge_socket(kind);
        self.apply(who, Subject::Socket(kind), d)
    }

    /// Judge `addr` for `dir`: `Err(errno)` refuses.
    pub fn judge_addr(
        &mut self,
        who: &Caller<'_>,
        dir: Direction,
        addr: &SockAddr,
    ) -> Result<(), i32> {
        let d = self.rules.judge_addr(dir, addr);
        self.apply(who, Subject::Addr(dir, addr), d)
    }

    /// The first error met writing the log or the save file.
    pub fn finish(&mut self) -> io::Result<()> {
        if let Err(e) = self.out.flush() {
            self.write_error.get_or_insert(e);
        }
        match self.write_error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn apply(&mut self, who: &Caller<'_>, subject: Subject<'_>, d: Decision) -> Result<(), i32> {
        let (result, verdict, rule) = match d.action {
            Action::Allow => (Ok(()), "allowed", d.rule),
            Action::Log => {
                self.log(who, subject, "allowed", None, &d.rule, true);
                return Ok(());
            }
            Action::Deny(e) => (Err(e), "denied", d.rule),
            Action::Ask => match self.ask(who, subject) {
                Ok(ans) => ans,
                Err(why) => (Err(libc::EACCES), "denied", format!("{} ({why})", d.rule)),
            },
        };
        let errno = result.err();
        let verdict = if self.audit && errno.is_some() {
            "would deny"
        } else {
            verdict
        };
        self.log(who, subject, verdict, errno, &rule, errno.is_some());
        if self.audit {
            Ok(())
        } else {
            result
        }
    }

    /// Ask the terminal; `Err` says why nobody could be asked.
    fn ask(
        &mut self,
        who: &Caller<'_>,
        subject: Subject<'_>,
    ) -> Result<(Result<(), i32>, &'static str, String), String> {
        if self.tty.is_none() {
            let f = OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/tty")
                .map_err(|e| format!("no terminal to ask: {e}"))?;
            self.tty = Some(BufReader::new(f));
        }
        let comm = comm(who.pid);
        let what = describe(subject);
        let tty = self.tty.as_mut().ok_or("no terminal to ask")?;
        let question = format!(
            "ujail: pid {} ({}) wants to {what}: allow [o]nce, [a]lways, [n]ever? ",
            who.pid,
            printable(&comm)
        );
        tty.get_mut()
            .write_all(question.as_bytes())
            .and_then(|()| tty.get_mut().flush())
            .map_err(|e| format!("cannot write to the terminal: {e}"))?;
        let mut line = String::new();
        let n = tty
            .read_line(&mut line)
            .map_err(|e| match e.raw_os_error() {
                // A hung-up terminal reads EIO: nobody is there to answer.
                Some(libc::EIO) => "end of input on the terminal (hung up)".to_string(),
                _ => format!("cannot read the terminal: {e}"),
            })?;
        if n == 0 {
            return Err("end of input on the terminal".into());
        }
        let answer = line.trim().to_ascii_lowercase();
        let learned = |action| match subject {
            Subject::Addr(dir, addr) => Rule::for_answer(action, dir, addr),
            Subject::Socket(_) => None,
        };
        Ok(match answer.as_str() {
            "o" | "once" | "y" | "yes" => (Ok(()), "allowed", "asked: once".to_string()),
            "a" | "always" => {
                if let Some(rule) = learned(Action::Allow) {
                    self.learn(rule);
                }
                (Ok(()), "allowed", "asked: always".to_string())
            }
            "n" | "never" => {
                if let Some(rule) = learned(Action::Deny(libc::EACCES)) {
                    self.learn(rule);
                }
                (Err(libc::EACCES), "denied", "asked: never".to_string())
            }
            _ => (
                Err(libc::EACCES),
                "denied",
                format!("asked: answer {answer:?} is not once, always or never"),
            ),
        })
    }

    fn learn(&mut self, rule: Rule) {
        self.rules.learn(rule);
        if let Some(path) = &self.save {
            let mut text = String::from(
                "# ujail: answers given in --net ask mode (use with --policy)\n[net]\nrules = [\n",
            );
            for r in self.rules.learned() {
                text.push_str(&format!("    {:?},\n", r.to_string()));
            }
            text.push_str("]\n");
            if let Err(e) = std::fs::write(path, text) {
                self.write_error.get_or_insert(io::Error::new(
                    e.kind(),
                    format!("--net-save {}: {e}", path.display()),
                ));
            }
        }
    }

    fn log(
        &mut self,
        who: &Caller<'_>,
        subject: Subject<'_>,
        verdict: &str,
        errno: Option<i32>,
        rule: &str,
        notable: bool,
    ) {
        if !(notable || self.log_all) {
            return;
        }
        let comm = comm(who.pid);
        let (dir, family, target) = match subject {
            Subject::Socket(kind) => ("socket", kind_name(kind), kind_name(kind)),
            Subject::Addr(dir, addr) => (dir_name(dir), family_name(addr), addr.to_string()),
        };
        let errname = errno.map(|e| errno::name(e).unwrap_or("E?"));
        let line = if self.json {
            let mut l = format!(
                "{{\"event\":\"net\",\"pid\":{},\"comm\":{},\"call\":{},\"direction\":\"{dir}\",\"family\":\"{family}\",\"target\":{},\"verdict\":\"{verdict}\"",
                who.pid,
                json_string(&comm),
                json_string(who.call),
                json_string(&target)
            );
            if let Some(e) = errname {
                l.push_str(&format!(",\"errno\":\"{e}\""));
            }
            l.push_str(&format!(",\"rule\":{}}}\n", json_string(rule)));
            l
        } else {
            let e = errname.map(|e| format!(": {e}")).unwrap_or_default();
            // `connect 10.0.0.1:80`, `listen (bind) 0.0.0.0:0`.
            let base = who.call.rsplit(':').next().unwrap_or(who.call);
            let dir = if base == dir {
                String::new()
            } else {
                format!(" ({dir})")
            };
            format!(
                "ujail: net: {verdict}: pid {} ({}) {}{dir} {target}{e} [{rule}]\n",
                who.pid,
                printable(&comm),
                who.call
            )
        };
        if let Err(e) = self.out.write_all(line.as_bytes()) {
            self.write_error.get_or_insert(e);
        }
        let _ = self.out.flush();
    }
}

fn comm(pid: Pid) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim_end_matches('\n').to_string())
        .unwrap_or_default()
}

fn describe(subject: Subject<'_>) -> String {
    match subject {
        Subject::Socket(kind) => format!("create a {} socket", kind_name(kind)),
        Subject::Addr(Direction::Bind, a) => format!("bind to {a}"),
        Subject::Addr(Direction::Accept, a) => format!("accept from {a}"),
        Subject::Addr(Direction::Send, a) => format!("send to {a}"),
        Subject::Addr(_, a) => format!("connect to {a}"),
    }
}

fn dir_name(dir: Direction) -> &'static str {
    match dir {
        Direction::Socket => "socket",
        Direction::Connect => "connect",
        Direction::Send => "send",
        Direction::Bind => "bind",
        Direction::Accept => "accept",
    }
}

fn kind_name(kind: SocketKind) -> String {
    match kind {
        SocketKind::Unix => "unix".into(),
        SocketKind::Inet => "inet".into(),
        SocketKind::Inet6 => "inet6".into(),
        SocketKind::Raw => "raw".into(),
        SocketKind::Packet => "packet".into(),
        SocketKind::Netlink(p) => format!("netlink:{p}"),
        SocketKind::Other(f) => format!("family {f}"),
    }
}

fn family_name(addr: &SockAddr) -> String {
    match addr {
        SockAddr::Unspec => "unspec".into(),
        SockAddr::Inet(_) => "inet".into(),
        SockAddr::Inet6(_) => "inet6".into(),
        SockAddr::UnixPath(_) => "unix".into(),
        SockAddr::UnixAbstract(_) => "unix-abstract".into(),
        SockAddr::UnixUnnamed => "unix".into(),
        SockAddr::Netlink { .. } => "netlink".into(),
        SockAddr::Other(f) => format!("family {f}"),
    }
}

/// `s` with control characters escaped (a program name cannot forge log
/// lines).
pub(crate) fn printable(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use ujail_net::rules::Mode;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    impl Sink {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn v4(s: &str) -> SockAddr {
        SockAddr::Inet(s.parse().unwrap())
    }

    #[test]
    fn loopback_mode_denies_and_logs_the_rule() {
        let sink = Sink::default();
        let mut p = NetPolicy::new(
            NetRules::new(Mode::Loopback),
            Box::new(sink.clone()),
            false,
            false,
        );
        let who = Caller {
            pid: 1,
            call: "connect",
        };
        assert_eq!(
            p.judge_addr(&who, Direction::Connect, &v4("127.0.0.1:80")),
            Ok(())
        );
        assert_eq!(
            p.judge_addr(&who, Direction::Connect, &v4("10.1.2.3:80")),
            Err(libc::EACCES)
        );
        let log = sink.text();
        assert_eq!(log.lines().count(), 1, "{log}");
        assert!(
            log.contains("denied: pid 1") && log.contains(") connect 10.1.2.3:80: EACCES ["),
            "{log}"
        );
    }

    #[test]
    fn json_lines_and_log_all() {
        let sink = Sink::default();
        let mut p = NetPolicy::new(
            NetRules::new(Mode::Loopback),
            Box::new(sink.clone()),
            true,
            true,
        );
        let who = Caller {
            pid: 1,
            call: "bind",
        };
        assert_eq!(
            p.judge_addr(&who, Direction::Bind, &v4("127.0.0.1:0")),
            Ok(())
        );
        let log = sink.text();
        assert!(log.starts_with("{\"event\":\"net\",\"pid\":1,"), "{log}");
        assert!(
            log.contains("\"direction\":\"bind\",\"family\":\"inet\",\"target\":\"127.0.0.1:0\",\"verdict\":\"allowed\""),
            "{log}"
        );
    }

    #[test]
    fn audit_allows_but_logs() {
        let sink = Sink::default();
        let mut p = NetPolicy::new(
            NetRules::new(Mode::None),
            Box::new(sink.clone()),
            false,
            false,
        )
        .audit(true);
        let who = Caller {
            pid: 1,
            call: "socket",
        };
        assert_eq!(p.judge_socket(&who, SocketKind::Inet), Ok(()));
        assert!(sink.text().contains("would deny"), "{}", sink.text());
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("a\nb"), "a\\nb");
        assert_eq!(json_string("a\"\n"), "\"a\\\"\\n\"");
    }
}
