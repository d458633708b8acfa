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
use ujail_core::log::{LogFormat, Logger};
use ujail_core::policy::DenyList;
use ujail_core::{errno, Handler, Outcome, SpawnError};

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
    Run(RunArgs),
    /// Run PROG jailed, allow everything and log every call (strace-like).
    Trace(TraceArgs),
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Deny a system call by name, in every ABI that has it, with ERRNO
    /// (a name like EACCES or a number; default EPERM). Repeatable.
    #[arg(long = "deny-syscall", value_name = "NAME[=ERRNO]")]
    deny_syscall: Vec<String>,
    /// The tracing engine.
    #[arg(long, value_enum, default_value_t = Engine::Sysemu)]
    engine: Engine,
    #[command(flatten)]
    log: LogArgs,
    /// The program and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "PROG"
    )]
    program: Vec<OsString>,
}

#[derive(Args, Debug)]
struct TraceArgs {
    #[command(flatten)]
    log: LogArgs,
    /// The program and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "PROG"
    )]
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
    /// The hybrid PTRACE_SYSEMU / PTRACE_SYSCALL engine.
    Sysemu,
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
            // One line: clap's first line names the bad argument and why.
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
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
            let Engine::Sysemu = args.engine;
            let mut policy = DenyList::new();
            for rule in &args.deny_syscall {
                policy
                    .add_rule(rule)
                    .with_context(|| format!("--deny-syscall {rule}"))?;
            }
            match args.log.log {
                Some(path) => {
                    let out = open_log(&path)?;
                    jail(
                        &args.program,
                        Logger::new(policy, out, args.log.log_format.into()),
                    )
                }
                None => jail(&args.program, policy),
            }
        }
        Command::Trace(args) => {
            let out: Box<dyn Write> = match &args.log.log {
                Some(path) => open_log(path)?,
                None => Box::new(io::stderr()),
            };
            jail(
                &args.program,
                Logger::new(DenyList::new(), out, args.log.log_format.into()),
            )
        }
    }
}

fn open_log(path: &PathBuf) -> Result<Box<dyn Write>> {
    let f =
        File::create(path).with_context(|| format!("cannot create log file {}", path.display()))?;
    Ok(Box::new(io::BufWriter::new(f)))
}

/// Run `program` under `handler`; return ujail's exit status.
fn jail<H: Handler>(program: &[OsString], handler: H) -> Result<u8> {
    let (prog, args) = program.split_first().context("no program given")?;
    let mut tracer = match ujail_core::spawn(prog, args, handler) {
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
    if let Outcome::ExecFailed(e) = outcome {
        eprintln!(
            "ujail: {}: cannot execute: {}",
            prog.to_string_lossy(),
            errno::message(e)
        );
    }
    Ok(u8::try_from(outcome.exit_status() & 0xff).unwrap_or(EXIT_UJAIL_ERROR))
}
