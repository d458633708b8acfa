// SPDX-License-Identifier: GPL-3.0-or-later
//! `ujail`: run a program, and everything it starts, under a userspace
//! syscall jail. This file only parses the command line and wires handlers
//! from ujail-core together; the exit status is the jailed program's.
#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use ujail_core::fs::FsPolicy;
use ujail_core::log::{LogFormat, Logger};
use ujail_core::net::NetPolicy;
use ujail_core::policy::DenyList;
use ujail_core::{errno, Handler, Outcome, SpawnError};
use ujail_net::rules::{Mode, NetRules, Rule};
use ujail_path::file::PolicyFile;
use ujail_path::rules::{Access, PathRules};

/// Exit status for a failure of ujail itself (as env(1), timeout(1)).
const EXIT_UJAIL_ERROR: u8 = 125;

#[derive(Parser, Debug)]
#[command(
    name = "ujail",
    version,
    about = "Run a program under a userspace syscall jail (ptrace)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run PROG jailed; every call is forwarded unless a rule denies it.
    Run(Box<RunArgs>),
    /// Run PROG jailed, allow everything and log every call (strace-like).
    Trace(Jailed),
    /// Validate a policy file and print what it grants.
    Check {
        /// The policy file (TOML).
        policy: PathBuf,
    },
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Deny a system call by name, in every ABI that has it, with ERRNO
    /// (a name like EACCES or a number; default EPERM). Repeatable.
    #[arg(long = "deny-syscall", value_name = "NAME[=ERRNO]")]
    deny_syscall: Vec<String>,
    /// Allow a call that is denied by default (ptrace, io_uring_setup,
    /// bpf, mount, ...; see the README). Repeatable.
    #[arg(long = "allow-syscall", value_name = "NAME")]
    allow_syscall: Vec<String>,
    /// Grant read access below PATH (once any path is granted, everything
    /// not granted is denied). Repeatable, like --rw, --exec, --hide.
    #[arg(long, value_name = "PATH")]
    ro: Vec<PathBuf>,
    /// Grant read and write access below PATH (create, remove, change).
    #[arg(long, value_name = "PATH")]
    rw: Vec<PathBuf>,
    /// Grant read and execute access below PATH.
    #[arg(long, value_name = "PATH")]
    exec: Vec<PathBuf>,
    /// Make PATH and everything below it appear not to exist.
    #[arg(long, value_name = "PATH")]
    hide: Vec<PathBuf>,
    /// Grant what ordinary dynamically linked programs need to start
    /// (loader, libraries, locale, /dev/null, ...; see the README).
    #[arg(long = "system-ro")]
    system_ro: bool,
    /// Read rules from a policy file (TOML; see `ujail check`).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Allow everything, but log what the policy would deny.
    #[arg(long)]
    audit: bool,
    #[command(flatten)]
    net: NetArgs,
    #[command(flatten)]
    jailed: Jailed,
}

/// The network policy's flags (see the README's "Firewall").
#[derive(Args, Debug)]
struct NetArgs {
    /// Network mode: all (no rule but the defaults), none (no inet
    /// sockets), loopback (127.0.0.0/8 and ::1 only), log (allow, log every
    /// destination), ask (ask on the terminal per new destination).
    #[arg(long = "net", value_name = "MODE")]
    net_mode: Option<String>,
    /// Allow connecting (and sending datagrams) to ADDR[/PREFIX][:PORTS];
    /// IPv6 in brackets: '[::1]:8080'. Repeatable.
    #[arg(long = "allow-connect", value_name = "TARGET")]
    allow_connect: Vec<String>,
    /// Allow binding and listening on ADDR[:PORTS] (port 0: any ephemeral
    /// port the kernel picks).
    #[arg(long = "allow-bind", value_name = "TARGET")]
    allow_bind: Vec<String>,
    /// Allow accepting connections and datagrams from ADDR[/PREFIX][:PORTS].
    #[arg(long = "allow-accept", value_name = "TARGET")]
    allow_accept: Vec<String>,
    /// A network rule: ACTION DIRECTION TARGET, e.g.
    /// 'deny=ECONNREFUSED connect *:25' or 'allow connect @/tmp/.X11-unix/X0'.
    #[arg(long = "net-rule", value_name = "RULE")]
    net_rules: Vec<String>,
    /// Write every network decision to FILE (default: denials and logged
    /// decisions to stderr); JSON Lines with --log-format json.
    #[arg(long = "net-log", value_name = "FILE")]
    net_log: Option<PathBuf>,
    /// --net ask: write the `always`/`never` answers to FILE as a policy
    /// file's [net] table.
    #[arg(long = "net-save", value_name = "FILE")]
    net_save: Option<PathBuf>,
}

/// What `run` and `trace` share: the engine, the call log and the program.
#[derive(Args, Debug)]
struct Jailed {
    /// The tracing engine [default: auto, or $UJAIL_ENGINE].
    #[arg(long, value_enum)]
    engine: Option<Engine>,
    /// CPU placement: `shared` keeps the program on the tracer's CPU until
    /// it runs threads or processes in parallel (a stop across CPUs costs
    /// several times more); `free` leaves it to the scheduler.
    #[arg(long, value_enum, default_value_t = Cpu::Shared)]
    cpu: Cpu,
    #[command(flatten)]
    log: LogArgs,
    /// The program and its arguments.
    #[arg(required = true, trailing_var_arg = true, value_name = "PROG")]
    program: Vec<OsString>,
}

#[derive(Args, Debug)]
struct LogArgs {
    /// Write the call log to FILE (`run`: no log without it; `trace`: stderr).
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Format of the call log.
    #[arg(long = "log-format", value_enum, default_value_t = Format::Text)]
    log_format: Format,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Engine {
    /// seccomp where the kernel has it, else sysemu.
    Auto,
    /// A seccomp filter stops only the calls the policy watches; the rest
    /// run natively.
    Seccomp,
    /// The hybrid PTRACE_SYSEMU / PTRACE_SYSCALL engine: every call stops.
    Sysemu,
    /// As sysemu, but a forwarded call runs from a patched-in syscall
    /// instruction (the seed's proof of concept, kept to compare with).
    Patch,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Cpu {
    /// Share the tracer's CPU while the jail is not parallel.
    Shared,
    /// Let the scheduler place tracer and program.
    Free,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// strace-like lines: `PID ABI name(args) = result`.
    Text,
    /// One JSON object per line.
    Json,
}

impl From<Format> for LogFormat {
    fn from(f: Format) -> LogFormat {
        match f {
            Format::Text => LogFormat::Text,
            Format::Json => LogFormat::Json,
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help, --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // One line: clap's first paragraph names the bad argument and why.
            let rendered = e.render().to_string();
            let first: Vec<&str> = rendered
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let first = first.join(" ");
            eprintln!("ujail: {}", first.trim_start_matches("error: "));
            eprintln!("ujail: see `ujail --help`");
            return ExitCode::from(EXIT_UJAIL_ERROR);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("ujail: {e:#}");
            ExitCode::from(EXIT_UJAIL_ERROR)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Run(args) => {
            let file = match &args.policy {
                Some(p) => Some(ujail_path::file::load(p).map_err(|e| anyhow::anyhow!("{e}"))?),
                None => None,
            };
            let mut deny = DenyList::new();
            let deny_rules = file
                .iter()
                .flat_map(|f| f.deny.iter())
                .chain(&args.deny_syscall);
            for rule in deny_rules {
                deny.add_rule(rule)
                    .with_context(|| format!("--deny-syscall {rule}"))?;
            }
            let rules = path_rules(&args, file.as_ref())?;
            let audit = args.audit || file.as_ref().is_some_and(|f| f.audit);
            let net = net_policy(&args, file.as_ref(), !rules.is_empty(), audit)?;
            let mut policy = FsPolicy::new(deny, rules, Box::new(io::stderr()))
                .audit(audit)
                .with_net(net);
            for name in file
                .iter()
                .flat_map(|f| f.allow.iter())
                .chain(&args.allow_syscall)
            {
                policy
                    .allow_call(name)
                    .with_context(|| format!("--allow-syscall {name}"))?;
            }
            let log_path = args
                .jailed
                .log
                .log
                .clone()
                .or_else(|| file.as_ref().and_then(|f| f.log_file.clone()));
            let format = match file.as_ref().and_then(|f| f.log_format.as_deref()) {
                Some("json") if args.jailed.log.log.is_none() => Format::Json,
                _ => args.jailed.log.log_format,
            };
            match log_path {
                Some(path) => {
                    let out = open_log(&path)?;
                    jail(&args.jailed, Logger::new(policy, out, format.into()))
                }
                None => jail(&args.jailed, policy),
            }
        }
        Command::Check { policy } => check(&policy),
        Command::Trace(args) => {
            let out: Box<dyn Write> = match &args.log.log {
                Some(path) => open_log(path)?,
                None => Box::new(io::stderr()),
            };
            jail(
                &args,
                Logger::new(DenyList::new(), out, args.log.log_format.into()),
            )
        }
    }
}

/// The path rules of `ujail run`: the policy file's, then the flags'; the
/// program itself may be executed, with its ELF interpreter. Rule paths that
/// exist are resolved (rules match resolved paths: a rule on a symlink would
/// never match).
fn path_rules(args: &RunArgs, file: Option<&PolicyFile>) -> Result<PathRules> {
    let mut rules = match (file, &args.policy) {
        (Some(f), Some(p)) => f
            .path_rules()
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
        _ => PathRules::new(),
    };
    let flags = [
        (&args.ro, Access::Ro),
        (&args.rw, Access::Rw),
        (&args.exec, Access::Exec),
        (&args.hide, Access::Hide),
    ];
    for (paths, access) in flags {
        for p in paths {
            let flag = format!("--{}", access.as_str());
            if !p.is_absolute() {
                anyhow::bail!("{flag} {}: rule paths must be absolute", p.display());
            }
            let real = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            rules
                .add(&real, access)
                .map_err(|e| anyhow::anyhow!("{flag} {}: {e}", p.display()))?;
        }
    }
    if args.system_ro {
        for (path, access) in ujail_path::rules::system_ro_profile() {
            rules
                .add_default(&path, access)
                .map_err(|e| anyhow::anyhow!("--system-ro: {e}"))?;
        }
    }
    if !rules.is_empty() {
        // The program named on the command line may run, with its loader.
        if let Some(prog) = args.jailed.program.first() {
            if let Ok(path) = ujail_core::spawn::resolve_program(prog) {
                let real = std::fs::canonicalize(&path).unwrap_or(path);
                let interpreters = ujail_core::spawn::elf_interpreter(&real)
                    .into_iter()
                    .chain(ujail_core::fs::shebang(&real));
                for p in std::iter::once(real.clone()).chain(interpreters) {
                    let p = std::fs::canonicalize(&p).unwrap_or(p);
                    if rules.rule(&p).is_none()
                        && !matches!(rules.access(&p), Some(Access::Exec | Access::Hide))
                    {
                        let _ = rules.add(&p, Access::Exec);
                    }
                }
            }
        }
    }
    Ok(rules)
}

/// The network policy of `ujail run`: the policy file's mode and rules,
/// then the flags'.
fn net_policy(
    args: &RunArgs,
    file: Option<&PolicyFile>,
    paths_ruled: bool,
    audit: bool,
) -> Result<NetPolicy> {
    let net = &args.net;
    let mode_text = net
        .net_mode
        .as_deref()
        .or_else(|| file.and_then(|f| f.net_mode.as_deref()));
    let mode = match mode_text {
        Some(m) => Mode::parse(m).map_err(|e| anyhow::anyhow!("--net {m}: {e}"))?,
        None => Mode::All,
    };
    let mut rules = NetRules::new(mode);
    for r in file.iter().flat_map(|f| f.net_rules.iter()) {
        rules.add(Rule::parse(r).map_err(|e| anyhow::anyhow!("[net] rule {r:?}: {e}"))?);
    }
    let flags = [
        ("allow-connect", "allow connect", &net.allow_connect),
        ("allow-bind", "allow bind", &net.allow_bind),
        ("allow-accept", "allow accept", &net.allow_accept),
    ];
    for (flag, prefix, targets) in flags {
        for t in targets {
            let rule = Rule::parse(&format!("{prefix} {t}"))
                .map_err(|e| anyhow::anyhow!("--{flag} {t}: {e}"))?;
            rules.add(rule);
        }
    }
    for r in &net.net_rules {
        rules.add(Rule::parse(r).map_err(|e| anyhow::anyhow!("--net-rule {r:?}: {e}"))?);
    }
    // With a filesystem policy, abstract unix sockets (which bypass it)
    // need a rule naming them.
    rules.set_strict_unix(paths_ruled);
    let json = args.jailed.log.log_format == Format::Json;
    let (out, log_all): (Box<dyn Write>, bool) = match &net.net_log {
        Some(p) => (open_log(p)?, true),
        None => (Box::new(io::stderr()), false),
    };
    if net.net_save.is_some() && mode != Mode::Ask {
        anyhow::bail!("--net-save: only with --net ask (it saves the answers)");
    }
    let mut policy = NetPolicy::new(rules, out, json, log_all).audit(audit);
    if let Some(p) = &net.net_save {
        policy = policy.save_answers(p.clone());
    }
    Ok(policy)
}

/// `ujail check FILE`: validate and print what the policy grants.
fn check(path: &std::path::Path) -> Result<u8> {
    let file = ujail_path::file::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let rules = file
        .path_rules()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut deny = DenyList::new();
    for rule in &file.deny {
        deny.add_rule(rule)
            .map_err(|e| anyhow::anyhow!("{}: syscalls.deny {rule}: {e}", path.display()))?;
    }
    let mut out = io::stdout().lock();
    writeln!(out, "{}: ok", path.display())?;
    if rules.is_empty() {
        writeln!(out, "paths: everything (no path rule)")?;
    }
    for (p, access) in rules.grants() {
        writeln!(out, "{:<5} {}", access.as_str(), p.display())?;
    }
    for d in &file.deny {
        writeln!(out, "deny  syscall {d}")?;
    }
    for a in &file.allow {
        writeln!(out, "allow syscall {a} (denied by default)")?;
    }
    if let Some(m) = &file.net_mode {
        writeln!(out, "net   mode {m}")?;
    }
    for r in &file.net_rules {
        let rule = Rule::parse(r)
            .map_err(|e| anyhow::anyhow!("{}: [net] rule {r:?}: {e}", path.display()))?;
        writeln!(out, "net   {rule}")?;
    }
    if file.audit {
        writeln!(out, "audit: denials are logged, not enforced")?;
    }
    if let Some(l) = &file.log_file {
        writeln!(
            out,
            "log   {} ({})",
            l.display(),
            file.log_format.as_deref().unwrap_or("text")
        )?;
    }
    Ok(0)
}

fn open_log(path: &PathBuf) -> Result<Box<dyn Write>> {
    let f =
        File::create(path).with_context(|| format!("cannot create log file {}", path.display()))?;
    Ok(Box::new(io::BufWriter::new(f)))
}

/// The engine to use: `--engine`, else `$UJAIL_ENGINE`, else auto.
fn engine(choice: Option<Engine>) -> Result<ujail_core::Engine> {
    let choice = match choice {
        Some(c) => c,
        None => match std::env::var("UJAIL_ENGINE") {
            Ok(v) if !v.is_empty() => Engine::from_str(&v, true).map_err(|_| {
                anyhow::anyhow!("UJAIL_ENGINE={v}: not an engine (auto, seccomp, sysemu, patch)")
            })?,
            _ => Engine::Auto,
        },
    };
    Ok(match choice {
        Engine::Auto => ujail_core::auto_engine(),
        Engine::Seccomp => ujail_core::Engine::Seccomp,
        Engine::Sysemu => ujail_core::Engine::Sysemu,
        Engine::Patch => ujail_core::Engine::Patch,
    })
}

/// Run `program` under `handler`; return ujail's exit status.
fn jail<H: Handler>(jailed: &Jailed, handler: H) -> Result<u8> {
    let program = &jailed.program;
    let engine = engine(jailed.engine)?;
    let (prog, args) = program.split_first().context("no program given")?;
    let placement = match jailed.cpu {
        Cpu::Shared => ujail_core::Placement::Shared,
        Cpu::Free => ujail_core::Placement::Free,
    };
    let opts = ujail_core::SpawnOptions { engine, placement };
    let mut tracer = match ujail_core::spawn_with(prog, args, handler, opts) {
        Ok(t) => t,
        Err(e @ (SpawnError::NotFound { .. } | SpawnError::NotExecutable { .. })) => {
            eprintln!("ujail: {e}");
            return Ok(u8::try_from(e.exit_status()).unwrap_or(EXIT_UJAIL_ERROR));
        }
        Err(e) => return Err(e.into()),
    };
    let outcome = tracer.run()?;
    for problem in tracer.errors() {
        eprintln!("ujail: {problem}");
    }
    if let Err(e) = tracer.handler_mut().finish() {
        // The program's status stays the exit status; the log is incomplete.
        eprintln!("ujail: writing the call log failed: {e}");
    }
    if let Outcome::ExecFailed(e) = outcome {
        eprintln!(
            "ujail: {}: cannot execute: {}",
            prog.to_string_lossy(),
            errno::message(e)
        );
    }
    Ok(u8::try_from(outcome.exit_status() & 0xff).unwrap_or(EXIT_UJAIL_ERROR))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        // clap checks argument ids, flags and groups here, not at run time
        // in a release build.
        Cli::command().debug_assert();
    }
}
