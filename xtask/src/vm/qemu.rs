// SPDX-License-Identifier: GPL-3.0-or-later
//! Boots the image in `qemu-system-i386` and collects the serial console,
//! under a time limit. The QEMU process is killed on every way out (a drop
//! guard, plus `setpriv --pdeathsig KILL` when xtask itself is killed).

use super::sh;
use crate::util;
use anyhow::{Context, Result};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Printed by `vm/init` once userspace runs: the boot is over.
pub const INIT_MARKER: &str = "==UJAIL-INIT==";

/// The kernel command line: console on the first serial port; on a panic
/// reboot at once (which `-no-reboot` turns into QEMU exiting). The crypto
/// self-tests (2-3 s under TCG) and the ISA PnP scan are skipped: nothing
/// here uses them.
const KERNEL_ARGS: &str = "console=ttyS0 panic=-1 quiet cryptomgr.notests noisapnp";

/// How QEMU executes the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    Kvm,
    Tcg,
}

impl Accel {
    fn args(self) -> [&'static str; 4] {
        match self {
            Accel::Kvm => ["-accel", "kvm", "-cpu", "host"],
            // `max` has `sep` (sysenter), which the suite's sysenter guest needs.
            Accel::Tcg => ["-accel", "tcg", "-cpu", "max"],
        }
    }
}

/// What to boot and how.
#[derive(Debug)]
pub struct Boot<'a> {
    pub kernel: &'a Path,
    pub initrd: &'a Path,
    /// `ujail.mode=` for `vm/init`: test, shell or probe.
    pub mode: &'a str,
    pub accel: Accel,
    pub smp: u32,
}

impl Boot<'_> {
    fn command(&self) -> Command {
        let qemu = "qemu-system-i386";
        let mut cmd = match sh::which("setpriv") {
            // Dies with us even if we are SIGKILLed.
            Some(setpriv) => {
                let mut c = Command::new(setpriv);
                c.args(["--pdeathsig", "KILL", qemu]);
                c
            }
            None => Command::new(qemu),
        };
        cmd.args(self.accel.args())
            .args(["-smp", &self.smp.to_string(), "-m", "512M"])
            // No NIC: saves the iPXE option ROM's boot delay.
            .args(["-nographic", "-no-reboot", "-nic", "none"])
            .arg("-kernel")
            .arg(self.kernel)
            .arg("-initrd")
            .arg(self.initrd)
            .arg("-append")
            .arg(format!("{KERNEL_ARGS} ujail.mode={}", self.mode));
        cmd
    }

    /// Boots with the console on our terminal (the `--shell` mode); no time
    /// limit.
    pub fn interactive(&self) -> Result<()> {
        let mut cmd = self.command();
        println!("vm: {}", util::display(&cmd));
        println!("vm: Ctrl-A X quits QEMU; `exit` in the shell powers the VM off");
        util::run(&mut cmd)
    }

    /// Boots, echoes the console (cleaned of terminal escapes) and returns
    /// it. `stop_early` sees each line and may end the run (the KVM probe).
    pub fn run(
        &self,
        limits: Limits,
        echo: bool,
        stop_early: &dyn Fn(&str) -> bool,
    ) -> Result<Console> {
        let mut cmd = self.command();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        println!("vm: {}", util::display(&cmd));
        let start = Instant::now();
        let mut guard = Guard(
            cmd.spawn()
                .with_context(|| format!("cannot start `{}`", util::display(&cmd)))?,
        );
        let (tx, rx) = mpsc::channel::<Option<String>>();
        let readers = [
            guard
                .0
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            guard
                .0
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ];
        let mut open = 0;
        for r in readers.into_iter().flatten() {
            open += 1;
            let tx = tx.clone();
            std::thread::spawn(move || pump(r, &tx));
        }
        drop(tx);

        let mut console = Console::default();
        let mut last_output = Instant::now();
        let mut cut_short = true;
        while open > 0 {
            let now = Instant::now();
            if now.duration_since(start) >= limits.total {
                console.timed_out = Some(format!("{} s in total", limits.total.as_secs()));
                break;
            }
            if now.duration_since(last_output) >= limits.idle {
                console.timed_out =
                    Some(format!("no console output for {} s", limits.idle.as_secs()));
                break;
            }
            match rx.recv_timeout(Duration::from_millis(500)) {
                Ok(Some(line)) => {
                    last_output = Instant::now();
                    if echo {
                        println!("vm| {line}");
                    }
                    if console.boot_time.is_none() && line.trim_end().ends_with(INIT_MARKER) {
                        console.boot_time = Some(start.elapsed());
                    }
                    let stop = stop_early(&line);
                    console.lines.push(line);
                    if stop {
                        break;
                    }
                }
                Ok(None) => {
                    open -= 1;
                    cut_short = open > 0;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    cut_short = false;
                    break;
                }
            }
        }
        // QEMU closed its output: it is exiting; give it a moment. Otherwise
        // (a limit, an early stop) kill it now.
        let grace = if cut_short {
            Duration::ZERO
        } else {
            Duration::from_secs(10)
        };
        console.exit = guard.finish(grace);
        console.elapsed = start.elapsed();
        Ok(console)
    }
}

/// Time limits of one boot.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub total: Duration,
    pub idle: Duration,
}

/// What a boot printed.
#[derive(Debug, Default)]
pub struct Console {
    pub lines: Vec<String>,
    /// From QEMU's start to `INIT_MARKER`.
    pub boot_time: Option<Duration>,
    pub elapsed: Duration,
    /// Why the run was cut short by a limit, if it was.
    pub timed_out: Option<String>,
    /// QEMU's exit status, or how it was stopped.
    pub exit: String,
}

/// Sends each line of `r` (terminal escapes and `\r` removed) to `tx`, then
/// `None` at the end.
fn pump(r: Box<dyn Read + Send>, tx: &mpsc::Sender<Option<String>>) {
    let mut r = BufReader::new(r);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match r.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                if tx.send(Some(clean(&buf))).is_err() {
                    return;
                }
            }
        }
    }
    let _ = tx.send(None);
}

/// Drops ANSI escape sequences (SeaBIOS clears the screen) and control
/// characters other than tab.
pub fn clean(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters, then one final byte in @..~.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
        } else if c == '\t' || !c.is_control() {
            out.push(c);
        }
    }
    out
}

/// Kills QEMU when dropped, whatever path leaves `run`.
struct Guard(Child);

impl Guard {
    /// Waits up to `grace` for QEMU to exit by itself, then kills it.
    fn finish(&mut self, grace: Duration) -> String {
        let end = Instant::now() + grace;
        loop {
            match self.0.try_wait() {
                Ok(Some(status)) => return status.to_string(),
                Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(50)),
                _ => {
                    let _ = self.0.kill();
                    return match self.0.wait() {
                        Ok(_) => "killed".to_owned(),
                        Err(e) => format!("killed (wait: {e})"),
                    };
                }
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_escapes() {
        assert_eq!(clean(b"\x1bc\x1b[?7l\x1b[2JLinux 6.1\r\n"), "Linux 6.1");
        assert_eq!(clean(b"test a ... ok\n"), "test a ... ok");
    }
}
