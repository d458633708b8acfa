// SPDX-License-Identifier: GPL-3.0-or-later
//! Policy files: the TOML subset that holds the same rules as ujail's flags,
//! read by a small hand-written parser whose every error is one line naming
//! the file, the line, the key and the reason.
//!
//! ```toml
//! # site1.toml
//! system_ro = true                 # include the --system-ro profile
//! audit = false                    # log what would be denied, deny nothing
//! [paths]
//! "/srv/www/site1" = "rw"
//! "/srv/www/site1/cgi-bin" = "exec"
//! "/srv/www/site2" = "hide"
//! [syscalls]
//! deny = ["ptrace", "openat=EACCES"]     # NAME[=ERRNO]
//! allow = ["ptrace"]                     # override a default denial (the dangerous set)
//! [log]
//! file = "/var/log/ujail/site1.log"
//! format = "text"                        # or "json"
//! [net]
//! mode = "loopback"                      # all, none, loopback, log, ask
//! rules = ["allow connect 10.0.0.0/8:5432", "deny=ECONNREFUSED connect *:25"]
//! ```
//!
//! Top-level keys `system_ro` and `audit` (booleans) come before the first
//! table. `[paths]` maps absolute paths to `ro`, `rw`, `exec` or `hide`
//! (paths are normalised as [`crate::rules::normalise`] does; two spellings
//! of one path are an error). `[syscalls]` `deny` and `allow` are arrays of
//! system call names of the i386 or x86_64 table; a `deny` entry may carry
//! `=ERRNO`, a name (`EACCES`) or a number 1-4095 (the name itself is
//! looked up by ujail-core). Listing a name in `allow` only lifts a default
//! denial, so a name in both lists stays denied. `[log]` `file` must be an
//! absolute path, `format` is `text` or `json`. `[net]` `mode` is a
//! `--net` mode and `rules` an array of network rules in the grammar of
//! [`ujail_net::rules::Rule`], each checked here.
//!
//! **Strict**: an unknown table or key, a value of the wrong type, a key
//! given twice, and TOML that ujail does not read (inline tables, dotted
//! keys, arrays of tables, multi-line strings, numbers, dates) are errors:
//! a typo must never silently grant or drop a rule.
//!
//! Why a hand parser and not the `toml` crate: the format is five tables of
//! strings, booleans and string arrays; the parser is a few hundred lines
//! that can be read in one sitting, knows the line of every key and value
//! for error messages, and keeps serde, toml's parser and their dependencies
//! out of the trusted base of a security tool. Full TOML syntax is covered
//! for what the format uses: comments everywhere, bare and quoted keys,
//! basic strings with every TOML escape, literal strings, arrays over
//! several lines with comments and a trailing comma, CRLF line ends.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::rules::{normalise, Access, PathRules, RuleError};

/// Policy files larger than this are refused (a policy is a few hundred bytes).
pub const MAX_POLICY_BYTES: u64 = 1 << 20;

/// A parsed policy file. Paths are normalised; every value has been checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyFile {
    /// Include the `--system-ro` profile ([`crate::rules::system_ro_profile`]).
    pub system_ro: bool,
    /// Log what would be denied, deny nothing.
    pub audit: bool,
    /// The `[paths]` rules in file order.
    pub paths: Vec<(PathBuf, Access)>,
    /// `[syscalls] deny`: `NAME` or `NAME=ERRNO`.
    pub deny: Vec<String>,
    /// `[syscalls] allow`: names whose default denial is lifted.
    pub allow: Vec<String>,
    /// `[log] file`.
    pub log_file: Option<PathBuf>,
    /// `[log] format`: `text` or `json`.
    pub log_format: Option<String>,
    /// `[net] mode`: `all`, `none`, `loopback`, `log` or `ask`.
    pub net_mode: Option<String>,
    /// `[net] rules`: `ACTION DIRECTION TARGET` ([`ujail_net::rules::Rule`]).
    pub net_rules: Vec<String>,
}

impl PolicyFile {
    /// The path rules of this policy: its `[paths]`, plus the `--system-ro`
    /// profile when `system_ro` is set (an explicit rule for the same path
    /// wins over the profile's).
    pub fn path_rules(&self) -> Result<PathRules, RuleError> {
        let mut rules = PathRules::new();
        for (path, access) in &self.paths {
            rules.add(path, *access)?;
        }
        if self.system_ro {
            for (path, access) in crate::rules::system_ro_profile() {
                rules.add_default(&path, access)?;
            }
        }
        Ok(rules)
    }
}

/// Why a policy file was refused.
#[derive(Debug)]
pub enum PolicyErrorKind {
    /// The file could not be read.
    Io(std::io::Error),
    /// The file is larger than [`MAX_POLICY_BYTES`].
    TooLarge,
    /// The file is not UTF-8 (TOML is).
    NotUtf8,
    /// Not TOML.
    Syntax(String),
    /// Valid TOML that ujail policies do not use (named in the message).
    Unsupported(&'static str),
    /// A table other than `[paths]`, `[syscalls]`, `[log]`.
    UnknownTable,
    /// A key the table does not have; the text lists the keys it has.
    UnknownKey(&'static str),
    /// A key (or path) given twice.
    Duplicate {
        /// The line of the first one.
        first_line: usize,
    },
    /// A value of the wrong TOML type.
    WrongType {
        /// What the key takes.
        expected: &'static str,
        /// What was found.
        found: &'static str,
    },
    /// A value of the right type that means nothing (the text says why).
    BadValue(String),
    /// A rule path that cannot be used.
    Rule(RuleError),
}

/// A policy file error: one line naming the file, the line (when known),
/// the key and why, e.g.
/// `site1.toml:7: paths."/srv/www": unknown access "rwx" (use ro, rw, exec or hide)`.
#[derive(Debug)]
pub struct PolicyError {
    file: Option<PathBuf>,
    line: Option<usize>,
    key: Option<String>,
    kind: PolicyErrorKind,
}

impl PolicyError {
    fn new(line: Option<usize>, key: Option<String>, kind: PolicyErrorKind) -> Self {
        PolicyError {
            file: None,
            line,
            key,
            kind,
        }
    }

    /// The policy file, when the error came from [`load`].
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The 1-based line, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The key, as written in TOML (`paths."/srv/www"`), when known.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// What went wrong.
    pub fn kind(&self) -> &PolicyErrorKind {
        &self.kind
    }
}

/// Escape control characters so that a message stays on one line.
fn one_line(s: &str) -> String {
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

/// A string quoted like a TOML basic string (and a Rust one), on one line.
fn quoted(s: &str) -> String {
    format!("{s:?}")
}

/// A key as written in TOML: bare when it can be, quoted otherwise.
fn key_text(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(is_bare_key_byte) {
        s.to_string()
    } else {
        quoted(s)
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => {
                write!(f, "{}:{line}: ", one_line(&file.to_string_lossy()))?
            }
            (Some(file), None) => write!(f, "{}: ", one_line(&file.to_string_lossy()))?,
            (None, Some(line)) => write!(f, "line {line}: ")?,
            (None, None) => {}
        }
        if let Some(key) = &self.key {
            write!(f, "{}: ", one_line(key))?;
        }
        match &self.kind {
            PolicyErrorKind::Io(e) => write!(f, "cannot read: {}", one_line(&e.to_string())),
            PolicyErrorKind::TooLarge => write!(f, "larger than {MAX_POLICY_BYTES} bytes"),
            PolicyErrorKind::NotUtf8 => f.write_str("not UTF-8 text"),
            PolicyErrorKind::Syntax(m) => f.write_str(&one_line(m)),
            PolicyErrorKind::Unsupported(what) => {
                write!(f, "{what} are not supported in ujail policies")
            }
            PolicyErrorKind::UnknownTable => {
                f.write_str("unknown table (use [paths], [syscalls], [log] or [net])")
            }
            PolicyErrorKind::UnknownKey(hint) => write!(f, "unknown key ({hint})"),
            PolicyErrorKind::Duplicate { first_line } => {
                write!(f, "given twice (first on line {first_line})")
            }
            PolicyErrorKind::WrongType { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            PolicyErrorKind::BadValue(m) => f.write_str(&one_line(m)),
            PolicyErrorKind::Rule(e) => f.write_str(&one_line(&e.to_string())),
        }
    }
}

impl std::error::Error for PolicyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            PolicyErrorKind::Io(e) => Some(e),
            PolicyErrorKind::Rule(e) => Some(e),
            _ => None,
        }
    }
}

/// Read and parse the policy file at `path`; errors name the file.
pub fn load(path: &Path) -> Result<PolicyFile, PolicyError> {
    let with_file = |mut e: PolicyError| {
        e.file = Some(path.to_path_buf());
        e
    };
    let file = std::fs::File::open(path)
        .map_err(|e| with_file(PolicyError::new(None, None, PolicyErrorKind::Io(e))))?;
    let mut bytes = Vec::new();
    file.take(MAX_POLICY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| with_file(PolicyError::new(None, None, PolicyErrorKind::Io(e))))?;
    if u64::try_from(bytes.len()).map_or(true, |n| n > MAX_POLICY_BYTES) {
        return Err(with_file(PolicyError::new(
            None,
            None,
            PolicyErrorKind::TooLarge,
        )));
    }
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        with_file(PolicyError::new(Some(line), None, PolicyErrorKind::NotUtf8))
    })?;
    parse(text).map_err(with_file)
}

/// Parse policy text (see the module documentation for the format).
pub fn parse(text: &str) -> Result<PolicyFile, PolicyError> {
    let mut p = Parser {
        src: text,
        pos: 0,
        line: 1,
    };
    let mut b = Builder::default();
    // A UTF-8 byte order mark is allowed at the very start.
    if p.src.starts_with('\u{feff}') {
        p.pos = '\u{feff}'.len_utf8();
    }
    loop {
        p.skip_blank();
        match p.peek() {
            None => break,
            Some('[') => {
                let line = p.line;
                let name = p.table_header()?;
                b.table(&name, line)?;
            }
            Some(_) => {
                let line = p.line;
                let key = p.key()?;
                p.skip_ws();
                match p.peek() {
                    Some('.') => {
                        return Err(p.err_key(
                            &b.key_path(&key),
                            PolicyErrorKind::Unsupported("dotted keys (write a [table] header)"),
                        ))
                    }
                    Some('=') => {
                        p.bump();
                    }
                    _ => {
                        return Err(
                            p.syntax(format!("expected \"=\" after the key {}", key_text(&key)))
                        )
                    }
                }
                p.skip_ws();
                let value = p.value(&b.key_path(&key))?;
                p.end_of_line("the value")?;
                b.key_value(&key, value, line)?;
            }
        }
    }
    Ok(b.out)
}

fn is_bare_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// A TOML value of the kinds policies use; arrays keep each item's line.
#[derive(Debug)]
enum Value {
    Bool(bool),
    Str(String),
    Array(Vec<(Value, usize)>),
}

impl Value {
    fn type_name(&self) -> &'static str {
        match self {
            Value::Bool(_) => "a boolean",
            Value::Str(_) => "a string",
            Value::Array(_) => "an array",
        }
    }
}

/// The lexer/parser over the text, tracking the 1-based line.
struct Parser<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    /// What comes next on this line, shortened, for error messages.
    fn snippet(&self) -> String {
        self.rest()
            .chars()
            .take_while(|&c| c != '\n' && c != '\r')
            .take(12)
            .collect()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn syntax(&self, msg: String) -> PolicyError {
        PolicyError::new(Some(self.line), None, PolicyErrorKind::Syntax(msg))
    }

    fn err_key(&self, key: &str, kind: PolicyErrorKind) -> PolicyError {
        PolicyError::new(Some(self.line), Some(key.to_string()), kind)
    }

    /// Spaces and tabs.
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.bump();
        }
    }

    /// A comment up to (not including) the end of the line.
    fn skip_comment(&mut self) {
        if self.peek() == Some('#') {
            while !matches!(self.peek(), None | Some('\n')) {
                self.bump();
            }
        }
    }

    /// A line end: `\n` or `\r\n`; false if neither is here.
    fn newline(&mut self) -> bool {
        if self.rest().starts_with("\r\n") {
            self.bump();
            self.bump();
            true
        } else if self.peek() == Some('\n') {
            self.bump();
            true
        } else {
            false
        }
    }

    /// Whitespace, comments and line ends.
    fn skip_blank(&mut self) {
        loop {
            self.skip_ws();
            self.skip_comment();
            if !self.newline() {
                return;
            }
        }
    }

    /// Only whitespace and a comment may follow `what` on its line.
    fn end_of_line(&mut self, what: &str) -> Result<(), PolicyError> {
        self.skip_ws();
        self.skip_comment();
        if self.peek().is_none() || self.newline() {
            Ok(())
        } else {
            let found = self.snippet();
            Err(self.syntax(format!(
                "unexpected {} after {what} (one key = value per line)",
                quoted(&found)
            )))
        }
    }

    /// `[name]`; returns the name.
    fn table_header(&mut self) -> Result<String, PolicyError> {
        self.bump();
        if self.peek() == Some('[') {
            return Err(PolicyError::new(
                Some(self.line),
                None,
                PolicyErrorKind::Unsupported("arrays of tables ([[...]])"),
            ));
        }
        self.skip_ws();
        let name = self.key()?;
        self.skip_ws();
        match self.peek() {
            Some(']') => {
                self.bump();
            }
            Some('.') => {
                return Err(self.err_key(
                    &key_text(&name),
                    PolicyErrorKind::Unsupported("dotted table names"),
                ))
            }
            _ => return Err(self.syntax("expected \"]\" to close the table header".into())),
        }
        self.end_of_line("the table header")?;
        Ok(name)
    }

    /// A bare key or a quoted one.
    fn key(&mut self) -> Result<String, PolicyError> {
        match self.peek() {
            Some('"') => self.basic_string(),
            Some('\'') => self.literal_string(),
            _ => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii() && is_bare_key_byte(c as u8))
                {
                    self.bump();
                }
                if self.pos == start {
                    let found = self.snippet();
                    return Err(self.syntax(format!(
                        "expected a key, found {} (quote keys that are paths: \"/srv/www\")",
                        quoted(&found)
                    )));
                }
                Ok(self.src[start..self.pos].to_string())
            }
        }
    }

    /// A value after `key = `; `key` names it in errors.
    fn value(&mut self, key: &str) -> Result<Value, PolicyError> {
        match self.peek() {
            Some('"') if self.rest().starts_with("\"\"\"") => {
                Err(self.err_key(key, PolicyErrorKind::Unsupported("multi-line strings")))
            }
            Some('\'') if self.rest().starts_with("'''") => {
                Err(self.err_key(key, PolicyErrorKind::Unsupported("multi-line strings")))
            }
            Some('"') => Ok(Value::Str(self.basic_string()?)),
            Some('\'') => Ok(Value::Str(self.literal_string()?)),
            Some('[') => self.array(key),
            Some('{') => {
                Err(self.err_key(key, PolicyErrorKind::Unsupported("inline tables ({ ... })")))
            }
            None | Some('\n' | '\r' | '#') => Err(self.err_key(
                key,
                PolicyErrorKind::Syntax("missing value after \"=\"".into()),
            )),
            Some(first) => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || "_-+.:".contains(c))
                {
                    self.bump();
                }
                let word = &self.src[start..self.pos];
                match word {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    _ if first.is_ascii_digit()
                        || first == '+'
                        || first == '-'
                        || word == "inf"
                        || word == "nan" =>
                    {
                        Err(self.err_key(key, PolicyErrorKind::Unsupported("numbers and dates")))
                    }
                    "" => Err(self.err_key(
                        key,
                        PolicyErrorKind::Syntax(format!(
                            "invalid value starting with {}",
                            quoted(&first.to_string())
                        )),
                    )),
                    _ => Err(self.err_key(
                        key,
                        PolicyErrorKind::Syntax(format!(
                            "invalid value {word} (strings are quoted: \"{word}\")"
                        )),
                    )),
                }
            }
        }
    }

    /// `[ item, item, ]` over any number of lines; items are strings or
    /// booleans (nested arrays are refused before recursing).
    fn array(&mut self, key: &str) -> Result<Value, PolicyError> {
        self.bump();
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            match self.peek() {
                Some(']') => {
                    self.bump();
                    return Ok(Value::Array(items));
                }
                Some('[') => {
                    return Err(self.err_key(key, PolicyErrorKind::Unsupported("nested arrays")))
                }
                None => {
                    return Err(self.err_key(
                        key,
                        PolicyErrorKind::Syntax("unterminated array (missing \"]\")".into()),
                    ))
                }
                Some(_) => {}
            }
            let line = self.line;
            items.push((self.value(key)?, line));
            self.skip_blank();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some(']') => {}
                None => {
                    return Err(self.err_key(
                        key,
                        PolicyErrorKind::Syntax("unterminated array (missing \"]\")".into()),
                    ))
                }
                Some(c) => {
                    return Err(self.err_key(
                        key,
                        PolicyErrorKind::Syntax(format!(
                            "expected \",\" or \"]\" in the array, found {}",
                            quoted(&c.to_string())
                        )),
                    ))
                }
            }
        }
    }

    /// A control character is not allowed raw in a TOML string.
    fn check_char(&self, c: char) -> Result<(), PolicyError> {
        if c != '\t' && c.is_control() {
            Err(self.syntax(format!(
                "control character {} in a string (use an escape)",
                c.escape_default()
            )))
        } else {
            Ok(())
        }
    }

    /// `"..."` with TOML escapes.
    fn basic_string(&mut self) -> Result<String, PolicyError> {
        self.bump();
        let mut out = String::new();
        loop {
            match self.peek() {
                None | Some('\n') => {
                    return Err(self.syntax("unterminated string (missing '\"')".into()))
                }
                Some('"') => {
                    self.bump();
                    return Ok(out);
                }
                Some('\\') => {
                    self.bump();
                    let c = self.bump().unwrap_or('\n');
                    out.push(match c {
                        'b' => '\u{8}',
                        't' => '\t',
                        'n' => '\n',
                        'f' => '\u{c}',
                        'r' => '\r',
                        'e' => '\u{1b}',
                        '"' => '"',
                        '\\' => '\\',
                        'u' => self.unicode_escape('u', 4)?,
                        'U' => self.unicode_escape('U', 8)?,
                        _ => {
                            return Err(self.syntax(format!(
                                "invalid escape \\{} in a string",
                                c.escape_default()
                            )))
                        }
                    });
                }
                Some(c) => {
                    self.check_char(c)?;
                    self.bump();
                    out.push(c);
                }
            }
        }
    }

    /// The hex digits of `\uXXXX` / `\UXXXXXXXX`.
    fn unicode_escape(&mut self, letter: char, digits: usize) -> Result<char, PolicyError> {
        let hex: String = self
            .rest()
            .chars()
            .take(digits)
            .take_while(char::is_ascii_hexdigit)
            .collect();
        if hex.len() != digits {
            return Err(self.syntax(format!(
                "invalid escape \\{letter}{hex} in a string (needs {digits} hex digits)"
            )));
        }
        let c = u32::from_str_radix(&hex, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| {
                self.syntax(format!(
                    "invalid escape \\{letter}{hex} in a string (not a unicode scalar value)"
                ))
            })?;
        for _ in 0..digits {
            self.bump();
        }
        Ok(c)
    }

    /// `'...'`, no escapes.
    fn literal_string(&mut self) -> Result<String, PolicyError> {
        self.bump();
        let mut out = String::new();
        loop {
            match self.peek() {
                None | Some('\n') => {
                    return Err(self.syntax("unterminated string (missing \"'\")".into()))
                }
                Some('\'') => {
                    self.bump();
                    return Ok(out);
                }
                Some(c) => {
                    self.check_char(c)?;
                    self.bump();
                    out.push(c);
                }
            }
        }
    }
}

/// The tables of a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Table {
    Top,
    Paths,
    Syscalls,
    Log,
    Net,
}

impl Table {
    fn prefix(self) -> &'static str {
        match self {
            Table::Top => "",
            Table::Paths => "paths.",
            Table::Syscalls => "syscalls.",
            Table::Log => "log.",
            Table::Net => "net.",
        }
    }
}

/// Checks keys and values as they come and fills the [`PolicyFile`].
#[derive(Debug)]
struct Builder {
    out: PolicyFile,
    table: Table,
    tables_seen: HashMap<Table, usize>,
    /// (table, key) → line of its first appearance.
    keys_seen: HashMap<(Table, String), usize>,
    /// normalised path → (line, access) of its rule.
    paths_seen: HashMap<PathBuf, (usize, Access)>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            out: PolicyFile::default(),
            table: Table::Top,
            tables_seen: HashMap::new(),
            keys_seen: HashMap::new(),
            paths_seen: HashMap::new(),
        }
    }
}

/// `expected` for a value, when it is of another type.
fn want_type(key: &str, line: usize, expected: &'static str, v: &Value) -> PolicyError {
    PolicyError::new(
        Some(line),
        Some(key.to_string()),
        PolicyErrorKind::WrongType {
            expected,
            found: v.type_name(),
        },
    )
}

fn bad_value(key: &str, line: usize, msg: String) -> PolicyError {
    PolicyError::new(
        Some(line),
        Some(key.to_string()),
        PolicyErrorKind::BadValue(msg),
    )
}

impl Builder {
    fn key_path(&self, key: &str) -> String {
        format!("{}{}", self.table.prefix(), key_text(key))
    }

    fn table(&mut self, name: &str, line: usize) -> Result<(), PolicyError> {
        let table = match name {
            "paths" => Table::Paths,
            "syscalls" => Table::Syscalls,
            "log" => Table::Log,
            "net" => Table::Net,
            _ => {
                return Err(PolicyError::new(
                    Some(line),
                    Some(format!("[{}]", key_text(name))),
                    PolicyErrorKind::UnknownTable,
                ))
            }
        };
        if let Some(&first_line) = self.tables_seen.get(&table) {
            return Err(PolicyError::new(
                Some(line),
                Some(format!("[{name}]")),
                PolicyErrorKind::Duplicate { first_line },
            ));
        }
        self.tables_seen.insert(table, line);
        self.table = table;
        Ok(())
    }

    fn key_value(&mut self, key: &str, value: Value, line: usize) -> Result<(), PolicyError> {
        let kp = self.key_path(key);
        if self.table != Table::Paths {
            if let Some(&first_line) = self.keys_seen.get(&(self.table, key.to_string())) {
                return Err(PolicyError::new(
                    Some(line),
                    Some(kp),
                    PolicyErrorKind::Duplicate { first_line },
                ));
            }
            self.keys_seen.insert((self.table, key.to_string()), line);
        }
        match self.table {
            Table::Top => {
                let slot = match key {
                    "system_ro" => &mut self.out.system_ro,
                    "audit" => &mut self.out.audit,
                    "paths" | "syscalls" | "log" | "net" => {
                        return Err(PolicyError::new(
                            Some(line),
                            Some(kp),
                            PolicyErrorKind::UnknownKey("a table: write it as a [header] line"),
                        ))
                    }
                    _ => {
                        return Err(PolicyError::new(
                            Some(line),
                            Some(kp),
                            PolicyErrorKind::UnknownKey(
                                "top-level keys are system_ro and audit; tables are [paths], [syscalls], [log], [net]",
                            ),
                        ))
                    }
                };
                match value {
                    Value::Bool(b) => *slot = b,
                    v => return Err(want_type(&kp, line, "true or false", &v)),
                }
            }
            Table::Paths => self.path_rule(key, &kp, value, line)?,
            Table::Syscalls => {
                let is_deny = match key {
                    "deny" => true,
                    "allow" => false,
                    _ => {
                        return Err(PolicyError::new(
                            Some(line),
                            Some(kp),
                            PolicyErrorKind::UnknownKey("[syscalls] has deny and allow"),
                        ))
                    }
                };
                let Value::Array(items) = value else {
                    return Err(want_type(&kp, line, "an array of strings", &value));
                };
                for (item, item_line) in items {
                    let Value::Str(s) = item else {
                        return Err(want_type(&kp, item_line, "an array of strings", &item));
                    };
                    check_syscall_entry(&s, is_deny).map_err(|m| bad_value(&kp, item_line, m))?;
                    if is_deny {
                        self.out.deny.push(s);
                    } else {
                        self.out.allow.push(s);
                    }
                }
            }
            Table::Log => match key {
                "file" => {
                    let Value::Str(s) = value else {
                        return Err(want_type(&kp, line, "a string", &value));
                    };
                    if !s.starts_with('/') {
                        return Err(bad_value(
                            &kp,
                            line,
                            format!("log file {} is not an absolute path", quoted(&s)),
                        ));
                    }
                    self.out.log_file = Some(PathBuf::from(s));
                }
                "format" => {
                    let Value::Str(s) = value else {
                        return Err(want_type(&kp, line, "a string", &value));
                    };
                    if s != "text" && s != "json" {
                        return Err(bad_value(
                            &kp,
                            line,
                            format!("unknown format {} (use text or json)", quoted(&s)),
                        ));
                    }
                    self.out.log_format = Some(s);
                }
                _ => {
                    return Err(PolicyError::new(
                        Some(line),
                        Some(kp),
                        PolicyErrorKind::UnknownKey("[log] has file and format"),
                    ))
                }
            },
            Table::Net => match key {
                "mode" => {
                    let Value::Str(s) = value else {
                        return Err(want_type(&kp, line, "a string", &value));
                    };
                    ujail_net::rules::Mode::parse(&s)
                        .map_err(|e| bad_value(&kp, line, e.to_string()))?;
                    self.out.net_mode = Some(s);
                }
                "rules" => {
                    let Value::Array(items) = value else {
                        return Err(want_type(&kp, line, "an array of strings", &value));
                    };
                    for (item, item_line) in items {
                        let Value::Str(s) = item else {
                            return Err(want_type(&kp, item_line, "an array of strings", &item));
                        };
                        ujail_net::rules::Rule::parse(&s).map_err(|e| {
                            bad_value(&kp, item_line, format!("{}: {e}", quoted(&s)))
                        })?;
                        self.out.net_rules.push(s);
                    }
                }
                _ => {
                    return Err(PolicyError::new(
                        Some(line),
                        Some(kp),
                        PolicyErrorKind::UnknownKey("[net] has mode and rules"),
                    ))
                }
            },
        }
        Ok(())
    }

    fn path_rule(
        &mut self,
        key: &str,
        kp: &str,
        value: Value,
        line: usize,
    ) -> Result<(), PolicyError> {
        let path = normalise(Path::new(key)).map_err(|e| {
            let kind = match (&e, key) {
                // `system_ro = true` written after [paths] lands here.
                (RuleError::Relative(_), "system_ro" | "audit") => {
                    PolicyErrorKind::UnknownKey("top-level keys must come before the first [table]")
                }
                _ => PolicyErrorKind::Rule(e),
            };
            PolicyError::new(Some(line), Some(kp.to_string()), kind)
        })?;
        let Value::Str(name) = value else {
            return Err(want_type(
                kp,
                line,
                "a string: ro, rw, exec or hide",
                &value,
            ));
        };
        let Some(access) = Access::from_name(&name) else {
            return Err(bad_value(
                kp,
                line,
                format!(
                    "unknown access {} (use ro, rw, exec or hide)",
                    quoted(&name)
                ),
            ));
        };
        if let Some(&(first_line, first)) = self.paths_seen.get(&path) {
            let msg = if first == access {
                format!("given twice (first on line {first_line})")
            } else {
                format!(
                    "two rules for {}: \"{first}\" on line {first_line} and \"{access}\" here (give each path once)",
                    quoted(&path.to_string_lossy())
                )
            };
            return Err(bad_value(kp, line, msg));
        }
        self.paths_seen.insert(path.clone(), (line, access));
        self.out.paths.push((path, access));
        Ok(())
    }
}

/// Check `NAME` (allow) or `NAME[=ERRNO]` (deny): the name must be in the
/// i386 or x86_64 table; the errno a number 1-4095 or an `E...` name.
fn check_syscall_entry(entry: &str, errno_allowed: bool) -> Result<(), String> {
    let (name, errno) = match entry.split_once('=') {
        Some((n, e)) => (n, Some(e)),
        None => (entry, None),
    };
    let known = [ujail_regs::Abi::I386, ujail_regs::Abi::X86_64]
        .into_iter()
        .any(|abi| ujail_regs::table::number(abi, name).is_some());
    if !known {
        return Err(format!(
            "{}: unknown system call (not in the i386 or x86_64 table)",
            quoted(name)
        ));
    }
    match errno {
        None => Ok(()),
        Some(_) if !errno_allowed => Err(format!(
            "{}: allow takes system call names only, no =ERRNO",
            quoted(entry)
        )),
        Some(e) => {
            let number_ok = e.parse::<u16>().is_ok_and(|n| (1..=4095).contains(&n));
            let name_ok = e.len() > 1
                && e.starts_with('E')
                && e.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            if number_ok || name_ok {
                Ok(())
            } else {
                Err(format!(
                    "{}: bad errno {} (use a name like EACCES or a number 1-4095)",
                    quoted(entry),
                    quoted(e)
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"# site1.toml
system_ro = true                 # include the --system-ro profile
audit = false                    # log what would be denied, deny nothing
[paths]
"/srv/www/site1" = "rw"
"/srv/www/site1/cgi-bin" = "exec"
"/srv/www/site2" = "hide"
[syscalls]
deny = ["ptrace", "openat=EACCES"]     # NAME[=ERRNO]
allow = ["ptrace"]                     # override a default denial (the dangerous set)
[log]
file = "/var/log/ujail/site1.log"
format = "text"                        # or "json"
[net]
mode = "loopback"
rules = [
    "allow connect 10.0.0.0/8:5432",   # a database
    'deny=ECONNREFUSED connect *:25',
]
"#;

    fn err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn net_table_is_checked() {
        assert_eq!(
            err("[net]\nmode = \"lan\"\n"),
            format!(
                "line 2: net.mode: {}",
                ujail_net::rules::Mode::parse("lan").unwrap_err()
            )
        );
        let e = err("[net]\nrules = [\n  \"allow connect example.org:443\",\n]\n");
        assert!(
            e.starts_with("line 3: net.rules: \"allow connect example.org:443\": "),
            "{e}"
        );
        let e = err("[net]\nport = \"1\"\n");
        assert!(e.contains("[net] has mode and rules"), "{e}");
    }

    #[test]
    fn full_example() {
        let p = parse(EXAMPLE).unwrap();
        assert_eq!(
            p,
            PolicyFile {
                system_ro: true,
                audit: false,
                paths: vec![
                    ("/srv/www/site1".into(), Access::Rw),
                    ("/srv/www/site1/cgi-bin".into(), Access::Exec),
                    ("/srv/www/site2".into(), Access::Hide),
                ],
                deny: vec!["ptrace".into(), "openat=EACCES".into()],
                allow: vec!["ptrace".into()],
                log_file: Some("/var/log/ujail/site1.log".into()),
                log_format: Some("text".into()),
                net_mode: Some("loopback".into()),
                net_rules: vec![
                    "allow connect 10.0.0.0/8:5432".into(),
                    "deny=ECONNREFUSED connect *:25".into()
                ],
            }
        );
        let rules = p.path_rules().unwrap();
        assert_eq!(
            rules.access(Path::new("/srv/www/site1/x")),
            Some(Access::Rw)
        );
        assert_eq!(rules.access(Path::new("/usr/lib/x")), Some(Access::Exec));
        assert_eq!(
            rules.len(),
            3 + crate::rules::SYSTEM_RO.len(),
            "profile added"
        );
    }

    #[test]
    fn empty_and_minimal_files() {
        assert_eq!(parse("").unwrap(), PolicyFile::default());
        assert_eq!(parse("# nothing\n\n   \n").unwrap(), PolicyFile::default());
        let p = parse("[paths]\n'/srv' = 'ro'").unwrap();
        assert_eq!(p.paths, vec![("/srv".into(), Access::Ro)]);
        assert!(p
            .path_rules()
            .unwrap()
            .rule(Path::new("/usr/lib"))
            .is_none());
    }

    #[test]
    fn toml_syntax_that_policies_use() {
        let text = "\u{feff}audit=true\r\n[ paths ] # c\r\n\"/srv/www/\" = \"rw\"\r\n\"/a\\u00e9\\tb\" = 'ro'\r\n\
                    [syscalls]\ndeny = [\n  \"ptrace\", # why\n  # a comment line\n  \"kill=13\",\n]\nallow=[]\n";
        let p = parse(text).unwrap();
        assert!(p.audit && !p.system_ro);
        assert_eq!(
            p.paths,
            vec![
                ("/srv/www".into(), Access::Rw),
                ("/a\u{e9}\tb".into(), Access::Ro)
            ]
        );
        assert_eq!(p.deny, vec!["ptrace".to_string(), "kill=13".to_string()]);
        assert!(p.allow.is_empty());
        // A path rule of a file with a user/own rule for a profile path wins.
        let p = parse("system_ro = true\n[paths]\n\"/usr/lib\" = \"hide\"\n").unwrap();
        assert_eq!(
            p.path_rules().unwrap().rule(Path::new("/usr/lib")),
            Some(Access::Hide)
        );
    }

    #[test]
    fn bad_access_names_file_line_key() {
        let e = err("[paths]\n\"/srv/www\" = \"rw\"\n\n\n\n\n\"/srv/www/x\" = \"rwx\"\n");
        assert_eq!(
            e,
            "line 7: paths.\"/srv/www/x\": unknown access \"rwx\" (use ro, rw, exec or hide)"
        );
        let dir = std::env::temp_dir().join(format!("ujail-path-file-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("site1.toml");
        std::fs::write(&f, "system_ro = true\n[paths]\n\"/srv/www\" = \"rwx\"\n").unwrap();
        let e = load(&f).unwrap_err();
        assert_eq!(e.line(), Some(3));
        assert_eq!(e.key(), Some("paths.\"/srv/www\""));
        assert_eq!(e.file(), Some(f.as_path()));
        assert_eq!(
            e.to_string(),
            format!(
                "{}:3: paths.\"/srv/www\": unknown access \"rwx\" (use ro, rw, exec or hide)",
                f.display()
            )
        );
        std::fs::write(&f, EXAMPLE).unwrap();
        assert!(load(&f).unwrap().system_ro);
        // Not UTF-8, on line 2.
        std::fs::write(&f, b"audit = true\n\"\xff\" = 1\n").unwrap();
        assert_eq!(
            load(&f).unwrap_err().to_string(),
            format!("{}:2: not UTF-8 text", f.display())
        );
        // Too large.
        std::fs::write(&f, vec![b'#'; 2 << 20]).unwrap();
        assert!(matches!(
            load(&f).unwrap_err().kind(),
            PolicyErrorKind::TooLarge
        ));
        std::fs::remove_dir_all(&dir).unwrap();
        let missing = dir.join("missing.toml");
        let e = load(&missing).unwrap_err();
        assert!(matches!(e.kind(), PolicyErrorKind::Io(_)));
        assert!(std::error::Error::source(&e).is_some());
        assert!(e
            .to_string()
            .starts_with(&format!("{}: cannot read: ", missing.display())));
    }

    #[test]
    fn unknown_keys_and_tables() {
        assert_eq!(
            err("system-ro = true\n"),
            "line 1: system-ro: unknown key (top-level keys are system_ro and audit; tables are [paths], [syscalls], [log], [net])"
        );
        assert_eq!(
            err("\n[path]\n"),
            "line 2: [path]: unknown table (use [paths], [syscalls], [log] or [net])"
        );
        assert_eq!(
            err("[syscalls]\ndenny = []\n"),
            "line 2: syscalls.denny: unknown key ([syscalls] has deny and allow)"
        );
        assert_eq!(
            err("[log]\nlevel = \"x\"\n"),
            "line 2: log.level: unknown key ([log] has file and format)"
        );
        assert_eq!(
            err("[paths]\nsystem_ro = true\n"),
            "line 2: paths.system_ro: unknown key (top-level keys must come before the first [table])"
        );
        assert_eq!(
            err("paths = \"x\"\n"),
            "line 1: paths: unknown key (a table: write it as a [header] line)"
        );
    }

    #[test]
    fn wrong_types() {
        assert_eq!(
            err("audit = \"yes\"\n"),
            "line 1: audit: expected true or false, found a string"
        );
        assert_eq!(
            err("[paths]\n\"/srv\" = true\n"),
            "line 2: paths.\"/srv\": expected a string: ro, rw, exec or hide, found a boolean"
        );
        assert_eq!(
            err("[syscalls]\ndeny = \"ptrace\"\n"),
            "line 2: syscalls.deny: expected an array of strings, found a string"
        );
        assert_eq!(
            err("[syscalls]\ndeny = [\n\"ptrace\",\ntrue]\n"),
            "line 4: syscalls.deny: expected an array of strings, found a boolean"
        );
        assert_eq!(
            err("[log]\nfile = [\"/x\"]\n"),
            "line 2: log.file: expected a string, found an array"
        );
    }

    #[test]
    fn bad_values() {
        assert_eq!(
            err("[syscalls]\ndeny = [\n  \"ptrace\",\n  \"opnat\",\n]\n"),
            "line 4: syscalls.deny: \"opnat\": unknown system call (not in the i386 or x86_64 table)"
        );
        assert_eq!(
            err("[syscalls]\ndeny = [\"openat=EACCESS!\"]\n"),
            "line 2: syscalls.deny: \"openat=EACCESS!\": bad errno \"EACCESS!\" (use a name like EACCES or a number 1-4095)"
        );
        assert!(err("[syscalls]\ndeny = [\"openat=0\"]\n").contains("bad errno \"0\""));
        assert!(err("[syscalls]\ndeny = [\"openat=4096\"]\n").contains("bad errno \"4096\""));
        assert!(err("[syscalls]\ndeny = [\"openat=\"]\n").contains("bad errno \"\""));
        assert!(parse("[syscalls]\ndeny = [\"openat=4095\", \"stat64=EPERM\"]\n").is_ok());
        assert_eq!(
            err("[syscalls]\nallow = [\"ptrace=EPERM\"]\n"),
            "line 2: syscalls.allow: \"ptrace=EPERM\": allow takes system call names only, no =ERRNO"
        );
        assert_eq!(
            err("[log]\nformat = \"xml\"\n"),
            "line 2: log.format: unknown format \"xml\" (use text or json)"
        );
        assert_eq!(
            err("[log]\nfile = \"ujail.log\"\n"),
            "line 2: log.file: log file \"ujail.log\" is not an absolute path"
        );
    }

    #[test]
    fn rule_path_errors() {
        assert_eq!(
            err("[paths]\n\"srv/www\" = \"ro\"\n"),
            "line 2: paths.\"srv/www\": rule path \"srv/www\" is not absolute"
        );
        let e = parse("[paths]\n\"/srv/../etc\" = \"ro\"\n").unwrap_err();
        assert_eq!(e.to_string(), "line 2: paths.\"/srv/../etc\": rule path \"/srv/../etc\" contains \"..\" (write the path without it)");
        assert!(matches!(
            e.kind(),
            PolicyErrorKind::Rule(RuleError::DotDot(_))
        ));
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(
            err("[paths]\n\"\" = \"ro\"\n"),
            "line 2: paths.\"\": empty rule path (rules are absolute paths)"
        );
        assert_eq!(
            err("[paths]\n\"/srv/www\" = \"rw\"\n\"/srv//www/\" = \"ro\"\n"),
            "line 3: paths.\"/srv//www/\": two rules for \"/srv/www\": \"rw\" on line 2 and \"ro\" here (give each path once)"
        );
        assert_eq!(
            err("[paths]\n\"/srv\" = \"ro\"\n\"/srv\" = \"ro\"\n"),
            "line 3: paths.\"/srv\": given twice (first on line 2)"
        );
    }

    #[test]
    fn duplicates() {
        assert_eq!(
            err("audit = true\naudit = false\n"),
            "line 2: audit: given twice (first on line 1)"
        );
        assert_eq!(
            err("[log]\n[paths]\n[log]\n"),
            "line 3: [log]: given twice (first on line 1)"
        );
        assert_eq!(
            err("[syscalls]\ndeny = []\n\ndeny = [\"ptrace\"]\n"),
            "line 4: syscalls.deny: given twice (first on line 2)"
        );
    }

    #[test]
    fn unsupported_toml() {
        let cases: &[(&str, &str)] = &[
            ("[[paths]]\n", "line 1: arrays of tables ([[...]]) are not supported in ujail policies"),
            ("[paths.x]\n", "line 1: paths: dotted table names are not supported in ujail policies"),
            ("log.file = \"/x\"\n", "line 1: log: dotted keys (write a [table] header) are not supported in ujail policies"),
            ("[paths]\n\"/a\" = \"\"\"ro\"\"\"\n", "line 2: paths.\"/a\": multi-line strings are not supported in ujail policies"),
            ("[paths]\n\"/a\" = '''ro'''\n", "line 2: paths.\"/a\": multi-line strings are not supported in ujail policies"),
            ("paths = { \"/a\" = \"ro\" }\n", "line 1: paths: inline tables ({ ... }) are not supported in ujail policies"),
            ("audit = 1\n", "line 1: audit: numbers and dates are not supported in ujail policies"),
            ("audit = 2024-01-01\n", "line 1: audit: numbers and dates are not supported in ujail policies"),
            ("[syscalls]\ndeny = [[\"a\"]]\n", "line 2: syscalls.deny: nested arrays are not supported in ujail policies"),
        ];
        for &(text, want) in cases {
            assert_eq!(err(text), want, "{text:?}");
        }
    }

    #[test]
    fn syntax_errors() {
        let cases: &[(&str, &str)] = &[
            ("audit = yes\n", "line 1: audit: invalid value yes (strings are quoted: \"yes\")"),
            ("[paths]\n\"/a\" = rw\n", "line 2: paths.\"/a\": invalid value rw (strings are quoted: \"rw\")"),
            ("audit =\n", "line 1: audit: missing value after \"=\""),
            ("audit true\n", "line 1: expected \"=\" after the key audit"),
            ("[paths]\n/srv = \"ro\"\n", "line 2: expected a key, found \"/srv = \\\"ro\\\"\" (quote keys that are paths: \"/srv/www\")"),
            ("[paths]\n\"/srv = \"ro\"\n", "line 2: expected \"=\" after the key \"/srv = \""),
            ("[paths]\n\"/srv\" = \"ro\n", "line 2: unterminated string (missing '\"')"),
            ("[paths]\n\"/srv\" = 'ro\n", "line 2: unterminated string (missing \"'\")"),
            ("audit = true false\n", "line 1: unexpected \"false\" after the value (one key = value per line)"),
            ("[paths\n", "line 1: expected \"]\" to close the table header"),
            ("[paths] x\n", "line 1: unexpected \"x\" after the table header (one key = value per line)"),
            ("[syscalls]\ndeny = [\"a\"\n", "line 3: syscalls.deny: unterminated array (missing \"]\")"),
            ("[syscalls]\ndeny = [\"ptrace\" \"kill\"]\n", "line 2: syscalls.deny: expected \",\" or \"]\" in the array, found \"\\\"\""),
            ("[paths]\n\"/a\\q\" = \"ro\"\n", "line 2: invalid escape \\q in a string"),
            ("[paths]\n\"/a\\uD800\" = \"ro\"\n", "line 2: invalid escape \\uD800 in a string (not a unicode scalar value)"),
            ("[paths]\n\"/a\\u12\" = \"ro\"\n", "line 2: invalid escape \\u12 in a string (needs 4 hex digits)"),
            ("[paths]\n\"/a\u{1}\" = \"ro\"\n", "line 2: control character \\u{1} in a string (use an escape)"),
        ];
        for &(text, want) in cases {
            let e = err(text);
            assert_eq!(e, want, "{text:?}");
            assert!(!e.contains('\n'), "{e:?} is not one line");
        }
    }

    /// Bad input is an error, never a panic: every prefix of the example,
    /// and the example with each character replaced by a TOML delimiter.
    #[test]
    fn truncated_or_mangled_input_never_panics() {
        let mut errors = 0;
        for (i, _) in EXAMPLE.char_indices() {
            errors += usize::from(parse(&EXAMPLE[..i]).is_err());
            for c in [
                '"', '\'', '[', ']', '=', ',', '#', '\n', '{', '\\', '.', '\u{0}',
            ] {
                let mut s = EXAMPLE.to_string();
                s.replace_range(i..=i, &c.to_string());
                if let Err(e) = parse(&s) {
                    assert!(!e.to_string().contains('\n'), "{e}");
                    errors += 1;
                }
            }
        }
        assert!(
            errors > EXAMPLE.len(),
            "mangling must mostly fail ({errors})"
        );
    }

    #[test]
    fn messages_stay_on_one_line() {
        // A key with a newline escape: the message shows it escaped.
        let e = err("[paths]\n\"/a\\nb\" = \"rwx\"\n");
        assert_eq!(
            e,
            "line 2: paths.\"/a\\nb\": unknown access \"rwx\" (use ro, rw, exec or hide)"
        );
        let e = err("[paths]\n\"a\\nb\" = \"ro\"\n");
        assert!(!e.contains('\n'), "{e:?}");
    }
}
