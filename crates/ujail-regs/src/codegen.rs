// SPDX-License-Identifier: GPL-3.0-or-later
//! Parse the kernel's `asm/unistd_{32,64}.h` and render the syscall tables.
//!
//! Shared by `cargo xtask codegen` (which writes `table_i386.rs` and
//! `table_x86_64.rs`) and by this crate's staleness test (which regenerates
//! from the installed headers and compares), so the two can never disagree
//! about the format. Pure functions plus a header lookup; no writing here.

use std::fmt;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::Abi;

/// The Debian package that ships the headers the tables are generated from.
pub const HEADER_PACKAGE: &str = "linux-libc-dev";

/// Directories searched, in order, for `unistd_32.h` / `unistd_64.h`.
///
/// Debian's multiarch location for an amd64 host comes first (the tables are
/// generated there); the i386 and plain locations let the check run on other
/// hosts that ship the same files.
pub const HEADER_DIRS: &[&str] = &[
    "/usr/include/x86_64-linux-gnu/asm",
    "/usr/include/i386-linux-gnu/asm",
    "/usr/include/asm",
];

/// File name of the kernel header listing the syscalls of `abi`.
pub fn header_name(abi: Abi) -> &'static str {
    match abi {
        Abi::I386 => "unistd_32.h",
        Abi::X86_64 => "unistd_64.h",
    }
}

/// Path of the generated table for `abi`, relative to this crate's root.
pub fn table_file(abi: Abi) -> &'static str {
    match abi {
        Abi::I386 => "src/table_i386.rs",
        Abi::X86_64 => "src/table_x86_64.rs",
    }
}

/// The first installed header for `abi` in [`HEADER_DIRS`], if any.
pub fn find_header(abi: Abi) -> Option<PathBuf> {
    HEADER_DIRS
        .iter()
        .map(|dir| Path::new(dir).join(header_name(abi)))
        .find(|p| p.is_file())
}

/// Why a header could not be turned into a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodegenError {
    /// A `#define __NR_` line whose value is not a plain decimal number.
    BadLine {
        /// 1-based line number.
        line: usize,
        /// The offending line.
        text: String,
    },
    /// Two names share one number.
    DuplicateNumber {
        /// The number.
        nr: u32,
        /// The first name seen for it.
        first: String,
        /// The second name.
        second: String,
    },
    /// One name defined twice.
    DuplicateName(String),
    /// The header defines no syscalls at all.
    Empty,
}

impl fmt::Display for CodegenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodegenError::BadLine { line, text } => {
                write!(f, "line {line}: cannot parse syscall definition `{text}`")
            }
            CodegenError::DuplicateNumber { nr, first, second } => {
                write!(
                    f,
                    "syscall number {nr} defined for both {first} and {second}"
                )
            }
            CodegenError::DuplicateName(name) => write!(f, "syscall {name} defined twice"),
            CodegenError::Empty => f.write_str("no `#define __NR_` lines found"),
        }
    }
}

impl std::error::Error for CodegenError {}

/// Parse the `#define __NR_name N` lines of a `unistd_*.h`, sorted by number.
///
/// Other lines (include guards, comments, blank lines) are ignored; a
/// `__NR_` define whose value is not a decimal literal is an error rather
/// than silently dropped, so a format change in the headers is noticed.
pub fn parse_unistd(text: &str) -> Result<Vec<(u32, String)>, CodegenError> {
    let mut out: Vec<(u32, String)> = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let mut words = line.split_whitespace();
        if words.next() != Some("#define") {
            continue;
        }
        let Some(name) = words.next().and_then(|w| w.strip_prefix("__NR_")) else {
            continue;
        };
        let bad = || CodegenError::BadLine {
            line: idx + 1,
            text: line.to_owned(),
        };
        let value = words.next().ok_or_else(bad)?;
        if words.next().is_some()
            || name.is_empty()
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(bad());
        }
        let nr: u32 = value.parse().map_err(|_| bad())?;
        out.push((nr, name.to_owned()));
    }
    if out.is_empty() {
        return Err(CodegenError::Empty);
    }
    out.sort();
    for pair in out.windows(2) {
        if pair[0].0 == pair[1].0 {
            return Err(CodegenError::DuplicateNumber {
                nr: pair[0].0,
                first: pair[0].1.clone(),
                second: pair[1].1.clone(),
            });
        }
    }
    let mut names: Vec<&str> = out.iter().map(|(_, n)| n.as_str()).collect();
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|p| p[0] == p[1]) {
        return Err(CodegenError::DuplicateName(pair[0].to_owned()));
    }
    Ok(out)
}

/// Render the Rust source of the table for `abi` from parsed entries.
///
/// The output is already in rustfmt's style, so `cargo fmt` leaves the
/// committed files alone and the staleness test compares them byte for byte.
pub fn render(abi: Abi, entries: &[(u32, String)]) -> String {
    let mut by_nr: Vec<&(u32, String)> = entries.iter().collect();
    by_nr.sort();
    let mut by_name = by_nr.clone();
    by_name.sort_by(|a, b| a.1.cmp(&b.1));

    let mut s = String::new();
    s.push_str("// SPDX-License-Identifier: GPL-3.0-or-later\n");
    // Writing to a String cannot fail.
    let _ = writeln!(
        s,
        "//! {abi} syscall numbers, from `asm/{}` ({HEADER_PACKAGE}).",
        header_name(abi)
    );
    s.push_str("//!\n");
    s.push_str("//! Generated by `cargo xtask codegen` — do not edit.\n\n");
    s.push_str("/// `(number, name)`, sorted by number.\n");
    s.push_str("pub(crate) static BY_NR: &[(u32, &str)] = &[\n");
    for (nr, name) in &by_nr {
        let _ = writeln!(s, "    ({nr}, \"{name}\"),");
    }
    s.push_str("];\n\n");
    s.push_str("/// `(name, number)`, sorted by name.\n");
    s.push_str("pub(crate) static BY_NAME: &[(&str, u32)] = &[\n");
    for (nr, name) in &by_name {
        let _ = writeln!(s, "    (\"{name}\", {nr}),");
    }
    s.push_str("];\n");
    s
}

/// Parse a header's text and render the table for `abi`.
pub fn generate(abi: Abi, header_text: &str) -> Result<String, CodegenError> {
    Ok(render(abi, &parse_unistd(header_text)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "#ifndef _ASM_UNISTD_32_H\n#define _ASM_UNISTD_32_H\n\n\
        #define __NR_write 4\n#define __NR_exit 1\n#define __NR_read 3\n\n#endif\n";

    #[test]
    fn parses_and_sorts() {
        let e = parse_unistd(SAMPLE).unwrap();
        let names: Vec<(u32, &str)> = e.iter().map(|(n, s)| (*n, s.as_str())).collect();
        assert_eq!(names, [(1, "exit"), (3, "read"), (4, "write")]);
    }

    #[test]
    fn rejects_bad_value() {
        let err = parse_unistd("#define __NR_foo (__NR_bar + 1)\n").unwrap_err();
        assert!(
            matches!(err, CodegenError::BadLine { line: 1, .. }),
            "{err}"
        );
        let err = parse_unistd("#define __NR_foo\n").unwrap_err();
        assert!(matches!(err, CodegenError::BadLine { .. }), "{err}");
    }

    #[test]
    fn rejects_duplicates_and_empty() {
        let err = parse_unistd("#define __NR_a 1\n#define __NR_b 1\n").unwrap_err();
        assert!(matches!(err, CodegenError::DuplicateNumber { nr: 1, .. }));
        let err = parse_unistd("#define __NR_a 1\n#define __NR_a 2\n").unwrap_err();
        assert_eq!(err, CodegenError::DuplicateName("a".into()));
        assert_eq!(parse_unistd("#define X 1\n"), Err(CodegenError::Empty));
    }

    #[test]
    fn renders_both_orders() {
        let out = generate(Abi::I386, SAMPLE).unwrap();
        assert!(out.starts_with("// SPDX-License-Identifier: GPL-3.0-or-later\n//! "));
        assert!(out.contains("do not edit"));
        let by_nr = out.find("(1, \"exit\"),\n    (3, \"read\"),\n    (4, \"write\"),");
        let by_name = out.find("(\"exit\", 1),\n    (\"read\", 3),\n    (\"write\", 4),");
        assert!(by_nr.is_some() && by_name.is_some(), "{out}");
    }
}
