// SPDX-License-Identifier: GPL-3.0-or-later
//! CPU placement (`--cpu shared|free`): a jailed shell and the command it
//! runs share ujail's CPU; `--cpu free` leaves them the CPUs ujail had. Uses
//! the i386 static busybox (host and VM alike).
#![forbid(unsafe_code)]

mod common;

use std::process::Command;

const WATCHDOG: u64 = 120;

/// `Cpus_allowed_list` of a grep started by a jailed busybox shell.
fn allowed(cpu: &str) -> String {
    let mut cmd = Command::new(common::ujail_bin());
    cmd.args(["run", "--cpu", cpu, "--", "/bin/busybox", "sh", "-c"])
        .arg("/bin/busybox grep Cpus_allowed_list /proc/self/status");
    let out = common::run_with_timeout(&mut cmd, WATCHDOG);
    assert!(out.status.success(), "{}", common::show(&out));
    common::text(&out.stdout)
        .trim()
        .trim_start_matches("Cpus_allowed_list:")
        .trim()
        .to_string()
}

/// How many CPUs a `Cpus_allowed_list` value (`0-1,3`) names.
fn count(list: &str) -> usize {
    list.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('-') {
            Some((a, b)) => b.parse::<usize>().unwrap_or(0) + 1 - a.parse::<usize>().unwrap_or(0),
            None => 1,
        })
        .sum()
}

#[test]
fn a_sequential_jail_shares_one_cpu_and_free_keeps_them_all() {
    let own = std::fs::read_to_string("/proc/self/status").expect("status");
    let mine = own
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .expect("Cpus_allowed_list")
        .trim()
        .to_string();
    let shared = allowed("shared");
    let free = allowed("free");
    assert_eq!(free, mine, "--cpu free keeps the affinity");
    if count(&mine) >= 2 {
        assert_eq!(count(&shared), 1, "--cpu shared pins to one CPU: {shared}");
    } else {
        assert_eq!(shared, mine, "one CPU: nothing to pin");
    }
}
