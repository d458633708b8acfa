// SPDX-License-Identifier: GPL-3.0-or-later
//! The real-workload benchmarks of `cargo xtask bench`: everyday programs
//! timed natively, under `ujail run` with a path policy that allows them,
//! under `strace` (file calls only, seccomp-bpf filtered) and under `proot`,
//! with runs interleaved so that a slow phase of the machine hits every tool
//! alike. The tracers' own peak RSS is sampled from `/proc/PID/status`.
#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::util;

/// What runs a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Native,
    /// ujail with its default engine, seccomp.
    Ujail,
    /// ujail with the sysemu engine (every call stops).
    UjailSysemu,
    /// ujail with the patch engine (the seed's proof of concept).
    UjailPatch,
    Strace,
    Proot,
}

impl Tool {
    /// The name in tables; also the tracer's `Name:` in `/proc/PID/status`.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Native => "native",
            Tool::Ujail => "ujail",
            Tool::UjailSysemu => "ujail-sysemu",
            Tool::UjailPatch => "ujail-patch",
            Tool::Strace => "strace",
            Tool::Proot => "proot",
        }
    }

    /// The tracer's `Name:` in `/proc/PID/status`.
    pub fn process_name(self) -> &'static str {
        match self {
            Tool::UjailSysemu | Tool::UjailPatch => "ujail",
            t => t.name(),
        }
    }
}

/// A tool that is available, how it is run and what it is.
#[derive(Debug, Clone)]
pub struct ToolInfo {
    pub tool: Tool,
    program: PathBuf,
    /// The command line before the workload's, for the report.
    pub command: String,
    /// Its version and remarks (e.g. proot's accelerators), for the report.
    pub about: String,
}

/// One tool's runs of one workload.
#[derive(Debug, Clone)]
pub struct ToolRuns {
    pub tool: Tool,
    pub times: Vec<Duration>,
    /// The highest VmHWM sampled of the tracer process over all runs (KiB).
    pub peak_kib: Option<u64>,
    /// Why the tool's runs were stopped, when one failed.
    pub failed: Option<String>,
    /// `ujail: denied:` lines in the first run's stderr.
    pub denials: usize,
}

/// All runs of one workload.
#[derive(Debug, Clone)]
pub struct WorkloadRuns {
    pub name: &'static str,
    /// The command, for the report.
    pub command: String,
    pub native: Vec<Duration>,
    /// Ujail, strace, proot: those available, in that order.
    pub tools: Vec<ToolRuns>,
}

/// Everything the report needs.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub runs: u32,
    pub pinned: bool,
    pub tools: Vec<ToolInfo>,
    pub workloads: Vec<WorkloadRuns>,
    pub notes: Vec<String>,
    pub elapsed: Duration,
}

/// Options of the workload runs.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub runs: u32,
    pub pinned: bool,
    /// Skip the slowest workload, tar (`--quick`).
    pub skip_slow: bool,
}

/// How much of /usr/include (then /usr/share) goes into the tarball.
const TREE_BYTES: u64 = 20 << 20;
/// How often the tracer's VmHWM is sampled.
const POLL: Duration = Duration::from_millis(10);
/// The PATH every workload runs with: the same lookups on every machine,
/// and no home-directory shims (pyenv, cargo) that a jail would refuse.
const PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Which check follows a run.
#[derive(Debug, Clone)]
enum Check {
    None,
    /// This file must exist afterwards.
    Exists(PathBuf),
}

/// A workload: its command and what it needs.
#[derive(Debug, Clone)]
struct Workload {
    name: &'static str,
    argv: Vec<String>,
    /// Paths `ujail run` grants besides `--system-ro --rw WORK`.
    ujail_extra: Vec<String>,
    /// Removed (and, when `fresh_dir`, created empty) before every run.
    reset: Option<PathBuf>,
    fresh_dir: bool,
    check: Check,
}

/// Runs the workloads; `ujail` is the release binary.
pub fn run(ujail: &Path, opts: Options) -> Result<Outcome> {
    let begin = Instant::now();
    let work = util::target_dir().join("bench/work");
    fs::create_dir_all(work.join("tmp")).with_context(|| format!("creating {}", work.display()))?;
    let mut notes = Vec::new();
    let tools = tools(ujail, &work, &mut notes)?;
    let workloads = workloads(&work, opts.skip_slow, &mut notes)?;

    let mut results = Vec::new();
    for w in &workloads {
        util::banner(&format!("workload: {}", w.name));
        // Warm the page cache (and check the workload works) untimed.
        let native_argv = argv_for(&tools[0], w, &work, opts.pinned);
        prepare(w)?;
        let warm = run_once(&native_argv, &work, None)
            .with_context(|| format!("workload `{}` fails natively", w.name))?;
        check(w)?;
        eprintln!("  warm-up (native): {:.1} ms", ms(warm.elapsed));

        let mut native = Vec::new();
        let mut runs: Vec<ToolRuns> = tools[1..]
            .iter()
            .map(|t| ToolRuns {
                tool: t.tool,
                times: Vec::new(),
                peak_kib: None,
                failed: None,
                denials: 0,
            })
            .collect();
        for rep in 0..opts.runs {
            let mut line = format!("  run {}/{}:", rep + 1, opts.runs);
            for (i, t) in tools.iter().enumerate() {
                let slot = i.checked_sub(1);
                if let Some(j) = slot {
                    if runs[j].failed.is_some() {
                        continue;
                    }
                }
                let argv = argv_for(t, w, &work, opts.pinned);
                prepare(w)?;
                let poll = (t.tool != Tool::Native).then(|| t.tool.process_name());
                let sample = run_once(&argv, &work, poll).and_then(|s| check(w).map(|()| s));
                let _ = write!(line, " {} ", t.tool.name());
                match (slot, sample) {
                    (None, Ok(s)) => {
                        let _ = write!(line, "{:.1}", ms(s.elapsed));
                        native.push(s.elapsed);
                    }
                    (None, Err(e)) => return Err(e.context(format!("workload `{}`", w.name))),
                    (Some(j), Ok(s)) => {
                        let _ = write!(line, "{:.1}", ms(s.elapsed));
                        let r = &mut runs[j];
                        r.times.push(s.elapsed);
                        r.peak_kib = r.peak_kib.max(s.peak_kib);
                        if rep == 0 {
                            r.denials = s.denials;
                        }
                    }
                    (Some(j), Err(e)) => {
                        let _ = write!(line, "FAILED");
                        eprintln!("xtask: bench: {} under {}: {e:#}", w.name, t.tool.name());
                        runs[j].failed = Some(format!("{e:#}"));
                    }
                }
                let _ = write!(line, " ms;");
            }
            eprintln!("{}", line.trim_end_matches(';'));
        }
        results.push(WorkloadRuns {
            name: w.name,
            command: w.argv.join(" "),
            native,
            tools: runs,
        });
    }
    Ok(Outcome {
        runs: opts.runs,
        pinned: opts.pinned,
        tools,
        workloads: results,
        notes,
        elapsed: begin.elapsed(),
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Native first, then ujail, strace and proot when installed.
fn tools(ujail: &Path, work: &Path, notes: &mut Vec<String>) -> Result<Vec<ToolInfo>> {
    let mut tools = vec![ToolInfo {
        tool: Tool::Native,
        program: PathBuf::new(),
        command: String::new(),
        about: String::new(),
    }];
    tools.push(ToolInfo {
        tool: Tool::Ujail,
        program: ujail.to_path_buf(),
        command: format!(
            "{} run --system-ro --rw {} [workload's extra grants] --",
            ujail.display(),
            work.display()
        ),
        about: "release build of this tree, seccomp engine (the default)".into(),
    });
    tools.push(ToolInfo {
        tool: Tool::UjailSysemu,
        program: ujail.to_path_buf(),
        command: format!(
            "{} run --engine=sysemu --system-ro --rw {} [workload's extra grants] --",
            ujail.display(),
            work.display()
        ),
        about: "release build of this tree, sysemu engine".into(),
    });
    tools.push(ToolInfo {
        tool: Tool::UjailPatch,
        program: ujail.to_path_buf(),
        command: format!(
            "{} run --engine=patch --system-ro --rw {} [workload's extra grants] --",
            ujail.display(),
            work.display()
        ),
        about: "release build of this tree, patch engine".into(),
    });
    match which("strace") {
        Some(p) => {
            let version = util::output(Command::new(&p).arg("-V"))
                .map(|v| v.lines().next().unwrap_or("").trim().to_string())
                .unwrap_or_else(|e| format!("version unknown ({e:#})"));
            tools.push(ToolInfo {
                tool: Tool::Strace,
                command: format!(
                    "{} -f -qq -o /dev/null -e trace=%file --seccomp-bpf --",
                    p.display()
                ),
                program: p,
                about: version,
            });
        }
        None => notes.push(
            "strace is not installed (`cargo xtask deps` installs it): no strace columns.".into(),
        ),
    }
    match which("proot") {
        Some(p) => {
            let text = util::output(Command::new(&p).arg("--version")).unwrap_or_default();
            tools.push(ToolInfo {
                tool: Tool::Proot,
                command: format!("{} -r /", p.display()),
                program: p,
                about: proot_about(&text),
            });
        }
        None => notes.push(
            "proot is not installed (`cargo xtask deps` installs it): no proot columns.".into(),
        ),
    }
    Ok(tools)
}

/// proot's version and whether its seccomp acceleration can be active,
/// from `proot --version` (which prints a banner, the version at the end
/// of its last line, and a "built-in accelerators" line).
pub fn proot_about(text: &str) -> String {
    let version = text
        .split_whitespace()
        .find(|t| {
            let t = t.trim_start_matches('v');
            t.contains('.') && t.chars().all(|c| c.is_ascii_digit() || c == '.')
        })
        .unwrap_or("(version unknown)");
    let accel = text
        .lines()
        .find(|l| l.contains("accelerators"))
        .map(str::trim);
    let seccomp = match accel {
        Some(a) if a.contains("seccomp_filter = yes") => {
            "seccomp acceleration built in and not disabled (PROOT_NO_SECCOMP unset); \
             proot falls back to plain ptrace silently if the kernel refuses it"
        }
        Some(a) if a.contains("seccomp_filter = no") => {
            "this build has no seccomp acceleration: every syscall stops"
        }
        _ => "seccomp acceleration unknown (no accelerators line in `proot --version`)",
    };
    match accel {
        Some(a) => format!("{version}; `{a}`: {seccomp}"),
        None => format!("{version}; {seccomp}"),
    }
}

/// `name` found in [`PATH`].
fn which(name: &str) -> Option<PathBuf> {
    PATH.split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// The workloads that can run here; the others are noted.
fn workloads(work: &Path, skip_slow: bool, notes: &mut Vec<String>) -> Result<Vec<Workload>> {
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let mut list = Vec::new();

    if skip_slow {
        notes.push("`tar -x 20 MB` skipped (--quick: the slowest workload).".into());
    } else {
        let tar = work.join("tree.tar");
        let last = make_tarball(&tar)?;
        let extract = work.join("extract");
        list.push(Workload {
            name: "tar -x 20 MB",
            argv: vec![
                "tar".into(),
                "-xf".into(),
                tar.display().to_string(),
                "-C".into(),
                extract.display().to_string(),
            ],
            ujail_extra: Vec::new(),
            reset: Some(extract.clone()),
            fresh_dir: true,
            check: Check::Exists(extract.join(last)),
        });
    }

    list.push(Workload {
        name: "find /usr/include",
        argv: s(&["find", "/usr/include"]),
        ujail_extra: s(&["--ro", "/usr/include"]),
        reset: None,
        fresh_dir: false,
        check: Check::None,
    });

    if which("python3").is_some() {
        list.push(Workload {
            name: "python3 imports",
            argv: s(&["python3", "-c", "import json, email, http.client"]),
            ujail_extra: Vec::new(),
            reset: None,
            fresh_dir: false,
            check: Check::None,
        });
    } else {
        notes.push(format!("python3 workload skipped: no python3 in {PATH}."));
    }

    if which("gcc").is_some() {
        let c = work.join("gen.c");
        fs::write(&c, generate_c()).with_context(|| format!("writing {}", c.display()))?;
        let o = work.join("gen.o");
        list.push(Workload {
            name: "gcc -O2 -c 300 lines",
            argv: vec![
                "gcc".into(),
                "-O2".into(),
                "-c".into(),
                c.display().to_string(),
                "-o".into(),
                o.display().to_string(),
            ],
            // cc1 stats its default include directories: EACCES is an error.
            ujail_extra: s(&["--ro", "/usr/include", "--ro", "/usr/local/include"]),
            reset: Some(o.clone()),
            fresh_dir: false,
            check: Check::Exists(o),
        });
    } else {
        notes.push(format!("gcc workload skipped: no gcc in {PATH}."));
    }

    list.push(Workload {
        name: "sh: 200 × /bin/true",
        argv: s(&["sh", "-c", "for i in $(seq 200); do /bin/true; done"]),
        ujail_extra: Vec::new(),
        reset: None,
        fresh_dir: false,
        check: Check::None,
    });

    Ok(list)
}

/// The full command line of workload `w` under tool `t`.
fn argv_for(t: &ToolInfo, w: &Workload, work: &Path, pinned: bool) -> Vec<String> {
    let mut argv = Vec::new();
    if pinned {
        argv.extend(["taskset", "-c", "0"].map(String::from));
    }
    let program = t.program.display().to_string();
    match t.tool {
        Tool::Native => {}
        Tool::Ujail | Tool::UjailSysemu | Tool::UjailPatch => {
            let engine = match t.tool {
                Tool::Ujail => "--engine=seccomp",
                Tool::UjailSysemu => "--engine=sysemu",
                _ => "--engine=patch",
            };
            argv.extend([
                program,
                "run".into(),
                engine.into(),
                "--system-ro".into(),
                "--rw".into(),
            ]);
            argv.push(work.display().to_string());
            argv.extend(w.ujail_extra.iter().cloned());
            argv.push("--".into());
        }
        Tool::Strace => {
            argv.push(program);
            argv.extend(
                [
                    "-f",
                    "-qq",
                    "-o",
                    "/dev/null",
                    "-e",
                    "trace=%file",
                    "--seccomp-bpf",
                    "--",
                ]
                .map(String::from),
            );
        }
        Tool::Proot => argv.extend([program, "-r".into(), "/".into()]),
    }
    argv.extend(w.argv.iter().cloned());
    argv
}

/// The untimed step before a run: reset the workload's output, then
/// `sync`, so that writing back the previous run's files (tar writes 20 MB)
/// is not charged to this one.
fn prepare(w: &Workload) -> Result<()> {
    if let Some(p) = &w.reset {
        match fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => fs::remove_dir_all(p),
            Ok(_) => fs::remove_file(p),
            Err(_) => Ok(()),
        }
        .with_context(|| format!("removing {}", p.display()))?;
        if w.fresh_dir {
            fs::create_dir_all(p).with_context(|| format!("creating {}", p.display()))?;
        }
    }
    util::output(&mut Command::new("sync")).map(|_| ())
}

/// The check after a run.
fn check(w: &Workload) -> Result<()> {
    match &w.check {
        Check::None => Ok(()),
        Check::Exists(p) if p.exists() => Ok(()),
        Check::Exists(p) => bail!("{} was not created", p.display()),
    }
}

/// What one run measured.
struct Sample {
    elapsed: Duration,
    peak_kib: Option<u64>,
    denials: usize,
}

/// Runs `argv` in `work` (stdin and stdout /dev/null, stderr to a file,
/// the environment [`PATH`], `HOME` the work directory, `TMPDIR` its `tmp`,
/// `LC_ALL=C` and nothing else),
/// timing it; with `poll`, samples VmHWM of the child while its `Name:` is
/// `poll` (after taskset has exec'd the tracer) every [`POLL`].
fn run_once(argv: &[String], work: &Path, poll: Option<&'static str>) -> Result<Sample> {
    let err_path = work.join("stderr.txt");
    let err =
        fs::File::create(&err_path).with_context(|| format!("creating {}", err_path.display()))?;
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .current_dir(work)
        // A clean environment: nothing of cargo's (its LD_LIBRARY_PATH sends
        // every dynamic load through the target and toolchain directories
        // first) and PROOT_NO_SECCOMP unset.
        .env_clear()
        .env("PATH", PATH)
        .env("HOME", work)
        .env("TMPDIR", work.join("tmp"))
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err);
    let line = util::display(&cmd);
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start `{line}`"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = poll.map(|name| {
        let (pid, stop) = (child.id(), Arc::clone(&stop));
        thread::spawn(move || {
            let mut peak = None;
            while !stop.load(Ordering::Relaxed) {
                if let Ok(s) = fs::read_to_string(format!("/proc/{pid}/status")) {
                    peak = peak.max(vm_hwm(&s, name));
                }
                thread::sleep(POLL);
            }
            peak
        })
    });
    let status = child
        .wait()
        .with_context(|| format!("waiting for `{line}`"));
    let elapsed = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    let peak_kib = sampler.and_then(|h| h.join().ok().flatten());
    let status = status?;
    let stderr = fs::read_to_string(&err_path).unwrap_or_default();
    if !status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        bail!(
            "`{line}` failed: {status}; stderr ends:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    Ok(Sample {
        elapsed,
        peak_kib,
        denials: stderr
            .lines()
            .filter(|l| l.starts_with("ujail: denied:"))
            .count(),
    })
}

/// VmHWM (KiB) from a `/proc/PID/status` text, when its `Name:` is `name`.
pub fn vm_hwm(status: &str, name: &str) -> Option<u64> {
    let mut lines = status.lines();
    let first = lines.next()?;
    if first.strip_prefix("Name:")?.trim() != name {
        return None;
    }
    lines
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()
}

/// Creates `tar` (once; delete it to rebuild) from the first ~20 MB of
/// regular files under /usr/include, then /usr/share, in name order.
/// Returns the path of its last file, relative to the extraction directory.
fn make_tarball(tar: &Path) -> Result<PathBuf> {
    let list = tar.with_extension("list");
    if tar.is_file() {
        if let Some(last) = fs::read_to_string(&list)
            .ok()
            .and_then(|l| l.lines().last().map(PathBuf::from))
        {
            return Ok(last);
        }
    }
    let mut files = Vec::new();
    let mut total = 0;
    for top in ["include", "share"] {
        walk(Path::new("/usr"), Path::new(top), &mut files, &mut total)?;
        if total >= TREE_BYTES {
            break;
        }
    }
    let Some(last) = files.last().cloned() else {
        bail!("no files under /usr/include or /usr/share for the tar workload");
    };
    let text: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    fs::write(&list, text).with_context(|| format!("writing {}", list.display()))?;
    util::run(
        Command::new("tar")
            .arg("-C")
            .arg("/usr")
            .arg("-cf")
            .arg(tar)
            .arg("-T")
            .arg(&list),
    )?;
    eprintln!(
        "xtask: bench: {} holds {} files, {:.1} MiB",
        tar.display(),
        files.len(),
        total as f64 / f64::from(1u32 << 20)
    );
    Ok(last)
}

/// Adds the regular files below `base/rel` to `files` (as paths relative to
/// `base`), in name order, until `total` reaches [`TREE_BYTES`].
fn walk(base: &Path, rel: &Path, files: &mut Vec<PathBuf>, total: &mut u64) -> Result<()> {
    let Ok(dir) = fs::read_dir(base.join(rel)) else {
        return Ok(());
    };
    let mut names: Vec<_> = dir.filter_map(|e| e.ok().map(|e| e.file_name())).collect();
    names.sort();
    for name in names {
        if *total >= TREE_BYTES {
            break;
        }
        let rel = rel.join(name);
        let Ok(meta) = fs::symlink_metadata(base.join(&rel)) else {
            continue;
        };
        if meta.is_dir() {
            walk(base, &rel, files, total)?;
        } else if meta.is_file() && rel.to_str().is_some_and(|s| !s.contains('\n')) {
            *total += meta.len();
            files.push(rel);
        }
    }
    Ok(())
}

/// A C file of about 300 lines: structs, loops, a switch and some string
/// and maths calls, enough work for the optimiser and a few headers.
pub fn generate_c() -> String {
    const FUNCTIONS: u32 = 16;
    let mut c = String::from(
        "/* Generated by cargo xtask bench: the gcc workload. */\n\
         #include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <math.h>\n\n\
         struct item { int key; double weight; char name[32]; struct item *next; };\n\n",
    );
    for i in 0..FUNCTIONS {
        let _ = write!(
            c,
            "static int step{i}(int x) {{\n\
             \x20   switch (x % 4) {{\n\
             \x20   case 0: return x / 2 + {i};\n\
             \x20   case 1: return 3 * x + 1;\n\
             \x20   default: return x ^ {i};\n\
             \x20   }}\n\
             }}\n\n\
             double work{i}(struct item *list, int n) {{\n\
             \x20   double acc = 0;\n\
             \x20   for (int k = 0; k < n && list; k++, list = list->next) {{\n\
             \x20       acc += sqrt(list->weight * {i}.5) + step{i}(list->key + k);\n\
             \x20       if (strlen(list->name) > {len}) snprintf(list->name, sizeof list->name, \"w%d\", k);\n\
             \x20   }}\n\
             \x20   return acc;\n\
             }}\n\n",
            len = i % 7 + 3,
        );
    }
    c.push_str("double work_all(struct item *list, int n) {\n    double acc = 0;\n");
    for i in 0..FUNCTIONS {
        let _ = writeln!(c, "    acc += work{i}(list, n);");
    }
    c.push_str("    return acc;\n}\n");
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hwm_only_from_the_named_process() {
        let status = "Name:\tujail\nUmask:\t0022\nVmPeak:\t   9000 kB\nVmHWM:\t    4242 kB\n";
        assert_eq!(vm_hwm(status, "ujail"), Some(4242));
        // Still taskset (before its exec), or a zombie without VmHWM.
        assert_eq!(vm_hwm(status, "strace"), None);
        assert_eq!(vm_hwm("Name:\tujail\nState:\tZ (zombie)\n", "ujail"), None);
    }

    #[test]
    fn proot_banner() {
        let text = " _____\n|__|  |__|__\\_____/\\_____/\\____| 5.1.0\n\n\
                    built-in accelerators: process_vm = yes, seccomp_filter = no\n";
        let about = proot_about(text);
        assert!(
            about.starts_with("5.1.0; `built-in accelerators"),
            "{about}"
        );
        assert!(about.contains("no seccomp acceleration"), "{about}");
        let on = proot_about(
            "proot v5.4.0\nbuilt-in accelerators: process_vm = yes, seccomp_filter = yes\n",
        );
        assert!(
            on.starts_with("v5.4.0;") && on.contains("built in and not disabled"),
            "{on}"
        );
    }

    #[test]
    fn generated_c_is_about_300_lines() {
        let n = generate_c().lines().count();
        assert!((280..=340).contains(&n), "{n} lines");
    }
}
