// SPDX-License-Identifier: GPL-3.0-or-later
//! `ujail-guest fs OP ARGS...`: one filesystem operation through the plain
//! libc call, for the path-policy tests. Prints one line and exits 0, or
//! prints `OP: <strerror>` and exits 1.
#![forbid(unsafe_code)]

use std::ffi::{CString, OsString};

use crate::{cstring, errmsg, say, sys, Fail, Res};

/// An octal file mode argument.
fn octal(arg: &CString) -> Result<libc::mode_t, Fail> {
    arg.to_str()
        .ok()
        .and_then(|m| libc::mode_t::from_str_radix(m, 8).ok())
        .ok_or_else(|| Fail::Usage(format!("bad octal mode {arg:?}")))
}

/// Runs `fs OP ARGS...` (`args[0]` is OP).
pub fn run(args: &[OsString]) -> Res {
    let op = args[0].to_string_lossy().into_owned();
    let rest = &args[1..];
    let want = |n: usize| -> Result<Vec<CString>, Fail> {
        if rest.len() == n {
            rest.iter().map(cstring).collect()
        } else {
            Err(Fail::Usage(format!("`fs {op}` takes {n} argument(s)")))
        }
    };
    let fail = |e: std::io::Error| Fail::Status(1, format!("{op}: {}", errmsg(&e)));
    match op.as_str() {
        "read" => {
            let a = want(1)?;
            let fd = sys::open(&a[0], libc::O_RDONLY, 0).map_err(fail)?;
            first_line(fd).map_err(fail).and_then(|l| say(&l))
        }
        "write" | "append" => {
            let a = want(2)?;
            let flags = if op == "write" {
                libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC
            } else {
                libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND
            };
            let fd = sys::open(&a[0], flags, 0o644).map_err(fail)?;
            let mut text = a[1].as_bytes().to_vec();
            text.push(b'\n');
            let res = sys::write_all(fd, &text);
            let _ = sys::close(fd);
            res.map_err(fail)?;
            say(&format!("{op} ok"))
        }
        "stat" | "lstat" => {
            let a = want(1)?;
            let kind = sys::stat_kind(&a[0], op == "lstat").map_err(fail)?;
            say(&format!("{op} ok {kind}"))
        }
        "access" => {
            let a = want(1)?;
            sys::access(&a[0], libc::R_OK).map_err(fail)?;
            say("access ok")
        }
        "unlink" | "mkdir" | "rmdir" | "utimes" => {
            let a = want(1)?;
            match op.as_str() {
                "unlink" => sys::unlink(&a[0]),
                "mkdir" => sys::mkdir(&a[0]),
                "rmdir" => sys::rmdir(&a[0]),
                _ => sys::utimes_now(&a[0]),
            }
            .map_err(fail)?;
            say(&format!("{op} ok"))
        }
        "rename" | "link" | "symlink" => {
            let a = want(2)?;
            match op.as_str() {
                "rename" => sys::rename(&a[0], &a[1]),
                "link" => sys::link(&a[0], &a[1]),
                _ => sys::symlink(&a[0], &a[1]),
            }
            .map_err(fail)?;
            say(&format!("{op} ok"))
        }
        "mirror" => {
            // The maps first: reading them is a path call, whose checked
            // copy would overwrite the anchored path of the stat.
            let a = want(1)?;
            let maps = std::fs::read_to_string("/proc/self/maps").map_err(fail)?;
            sys::stat_kind(&a[0], false).map_err(fail)?;
            let Some(pid) = anchored_pid(&maps) else {
                return say("mirror not found");
            };
            let link = CString::new(format!("/proc/{pid}/fd/0"))
                .map_err(|_| fail(std::io::Error::other("nul")))?;
            match sys::readlink(&link) {
                Ok(t) => say(&format!("mirror fd/0: {}", String::from_utf8_lossy(&t))),
                Err(e) => say(&format!("mirror fd/0: {}", errmsg(&e))),
            }
        }
        "drop-stat" => {
            // stat PATH, switch all ids to ID (dropping root's
            // capabilities), stat PATH again: the jail must see the switch.
            let a = want(2)?;
            let id: libc::uid_t = a[0]
                .to_str()
                .ok()
                .and_then(|i| i.parse().ok())
                .ok_or_else(|| Fail::Usage(format!("bad id {:?}", a[0])))?;
            let before = sys::stat_kind(&a[1], false).map_err(fail)?;
            sys::set_all_ids(id).map_err(fail)?;
            let after = sys::stat_kind(&a[1], false).map_err(fail)?;
            say(&format!("drop-stat ok {before} {after}"))
        }
        "capdrop-stat" => {
            // stat PATH, drop every capability (ids unchanged), stat again.
            let a = want(1)?;
            let before = sys::stat_kind(&a[0], false).map_err(fail)?;
            sys::drop_all_caps().map_err(fail)?;
            let after = sys::stat_kind(&a[0], false).map_err(fail)?;
            say(&format!("capdrop-stat ok {before} {after}"))
        }
        "readlink" => {
            let a = want(1)?;
            let target = sys::readlink(&a[0]).map_err(fail)?;
            say(&String::from_utf8_lossy(&target))
        }
        "opath-chmod" => {
            // chmod through /proc/self/fd/N of an O_PATH|O_NOFOLLOW fd of
            // LINK (a symlink): the kernel acts on the symlink itself.
            let a = want(2)?;
            let mode = octal(&a[1])?;
            let fd = sys::open(&a[0], libc::O_PATH | libc::O_NOFOLLOW, 0).map_err(fail)?;
            let link = CString::new(format!("/proc/self/fd/{fd}"))
                .map_err(|_| Fail::Usage("fd link".into()))?;
            sys::chmod(&link, mode).map_err(fail)?;
            say("opath-chmod ok")
        }
        "chmod" => {
            let a = want(2)?;
            let mode = octal(&a[1])?;
            sys::chmod(&a[0], mode).map_err(fail)?;
            say("chmod ok")
        }
        "truncate" => {
            let a = want(2)?;
            let len: libc::off_t = a[1]
                .to_str()
                .ok()
                .and_then(|l| l.parse().ok())
                .ok_or_else(|| Fail::Usage(format!("bad length {:?}", a[1])))?;
            sys::truncate(&a[0], len).map_err(fail)?;
            say("truncate ok")
        }
        "chdir-read" => {
            let a = want(2)?;
            sys::chdir(&a[0]).map_err(fail)?;
            let fd = sys::open(&a[1], libc::O_RDONLY, 0).map_err(fail)?;
            first_line(fd).map_err(fail).and_then(|l| say(&l))
        }
        "openat-read" => {
            let a = want(2)?;
            let dir = sys::open(&a[0], libc::O_RDONLY | libc::O_DIRECTORY, 0).map_err(fail)?;
            let fd = sys::openat_rdonly(dir, &a[1]);
            let _ = sys::close(dir);
            first_line(fd.map_err(fail)?)
                .map_err(fail)
                .and_then(|l| say(&l))
        }
        "fexec" => {
            // Open PATH, then run it through the descriptor.
            let a = want(1)?;
            let fd = sys::open(&a[0], libc::O_RDONLY, 0).map_err(fail)?;
            Err(fail(sys::execveat_fd(fd, &a)))
        }
        "exec" if !rest.is_empty() => {
            let argv = rest.iter().map(cstring).collect::<Result<Vec<_>, _>>()?;
            let err = sys::execv(&argv[0], &argv);
            Err(fail(err))
        }
        _ => Err(Fail::Usage(format!("unknown fs operation `{op}`"))),
    }
}

/// Reads up to 4 KiB from `fd`, closes it, returns the first line.
pub fn first_line(fd: libc::c_int) -> std::io::Result<String> {
    let mut buf = [0u8; 4096];
    let res = sys::read(fd, &mut buf);
    let _ = sys::close(fd);
    let n = res?;
    let line = buf[..n].split(|&b| b == b'\n').next().unwrap_or(&[]);
    Ok(String::from_utf8_lossy(line).into_owned())
}

/// The pid in the first `/proc/<pid>/fd/` text found in the process's
/// private anonymous read-only mappings (where ujail puts checked copies).
fn anchored_pid(maps: &str) -> Option<u32> {
    for line in maps.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 5 || f[1] != "r--p" || f[4] != "0" {
            continue;
        }
        let (lo, hi) = f[0].split_once('-')?;
        let lo = usize::from_str_radix(lo, 16).ok()?;
        let hi = usize::from_str_radix(hi, 16).ok()?;
        let mem = sys::read_own(lo, hi - lo);
        let mut at = 0;
        while let Some(i) = mem[at..].windows(6).position(|w| w == b"/proc/") {
            let start = at + i + 6;
            let digits = mem[start..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits > 0 && mem[start + digits..].starts_with(b"/fd/") {
                return std::str::from_utf8(&mem[start..start + digits])
                    .ok()?
                    .parse()
                    .ok();
            }
            at = start;
        }
    }
    None
}
