// SPDX-License-Identifier: GPL-3.0-or-later
//! Path rules: which access a policy grants below which path, the decision
//! (allow, deny with an errno, hide) for one operation on one *resolved*
//! path, and the documented `--system-ro` profile.
//!
//! # Matching
//!
//! Rules are absolute paths, normalised when added: `.` components, repeated
//! `/` and a trailing `/` are dropped (`"/srv/www/" == "/srv/www"`); `..` is
//! refused, because whether `/a/b/..` is `/a` depends on symlinks. A path is
//! covered by the rule with the **longest component-wise prefix**: `/srv/www`
//! covers `/srv/www` and `/srv/www/site1/x`, never `/srv/www2`. A rule on `/`
//! covers everything no longer rule covers. Two rules for one path are an
//! error naming both, never "last one wins".
//!
//! Rules are matched against the path the resolver produced (every symlink
//! followed, see [`crate::resolve`]), so a rule on a symlink (`/lib` on a
//! merged-/usr system) does not cover what the link points to: grant the
//! target (`/usr/lib`). The query path of [`PathRules::decide`] must be
//! absolute and free of `..`; anything else is denied (fail closed).
//!
//! # What each access grants
//!
//! | op \ access | ro | rw | exec | hide | not covered |
//! |-------------|----|----|------|------|-------------|
//! | Read        | ✓  | ✓  | ✓    | ENOENT | EACCES |
//! | Stat        | ✓  | ✓  | ✓    | ENOENT | EACCES (✓ on ancestors of a visible rule, see below) |
//! | Write       | EACCES | ✓ | EACCES | ENOENT | EACCES |
//! | Exec        | EACCES | EACCES | ✓ | ENOENT | EACCES |
//! | Create      | EACCES | ✓ | EACCES | ENOENT | EACCES |
//! | Remove      | EACCES | ✓ | EACCES | ENOENT | EACCES |
//! | SetAttr     | EPERM  | ✓ | EPERM  | ENOENT | EPERM  |
//! | Connect     | EACCES | ✓ | EACCES | ENOENT | EACCES |
//! | Admin       | EPERM  | EPERM | EPERM | ENOENT | EPERM |
//!
//! The errno of a denial is the one the kernel gives for the same kind of
//! permission problem ([`denial_errno`]): `EACCES` for a missing read, write,
//! search or execute permission — open(2), stat(2), execve(2), mkdir(2),
//! unlink(2) in a directory without write permission, connect(2) to a socket
//! without write permission; `EPERM` where the kernel checks ownership or
//! privilege rather than mode bits — chmod(2)/chown(2)/utimensat(2) with
//! explicit times/setxattr(2) on a file the caller does not own, and the
//! Admin calls (mount(2), chroot(2), swapon(2) ... without the capability).
//! The source (old path) of a hard link needs `rw`: a link into a writable
//! directory would otherwise give a second, writable name to a read-only
//! file. [`crate::classify`] marks it `Write`, so [`PathRules::decide`]
//! already requires `rw`, but answers `EACCES`; the kernel's
//! `fs.protected_hardlinks` answers link(2) to a file the caller may not
//! read and write with `EPERM`, and [`PathRules::decide_link_source`] does
//! the same: use it for the old path of `link`/`linkat`. `hide` answers
//! `ENOENT` for every op: the path appears not to exist.
//!
//! `Admin` is never granted by a path rule: mounting, chroot, swapon and the
//! like are not file access, and granting `rw` on a directory must not
//! grant mounting over it. With no rule at all ([`PathRules::is_empty`]) the
//! path layer is off and every op is allowed; the syscall-level policy
//! still denies its dangerous set.
//!
//! # Create and Remove
//!
//! In the kernel, creating or removing a name needs write permission on the
//! *parent directory*. Here the rule covering the created or removed path
//! itself decides — what `open_basedir` users expect: `rw` on
//! `/srv/www/site1` lets the site create and delete files below it, and
//! nothing outside it, whatever the parent directories' rules say. One
//! consequence: the rule's own root (`/srv/www/site1` itself) can be removed
//! or renamed when the real user may write `/srv/www`; whatever is created
//! in its place is still checked by its resolved path, so this widens
//! nothing. rename(2) checks both names: the old one as Remove, the new one
//! as Create.
//!
//! # Ancestors of a granted path
//!
//! `stat` of a directory that leads to a visible rule (`/`, `/srv`,
//! `/srv/www` for a rule on `/srv/www/site1`) is allowed although no rule
//! covers it: realpath(3), getcwd fallbacks, Python's and Perl's path
//! searches stat or readlink every component, and the kernel lets any
//! process traverse them too. Only metadata of the directory itself is
//! revealed: reading (listing) it stays denied, so sibling names stay
//! secret. A `hide` rule's ancestors gain nothing from it.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Bound;
use std::path::{Component, Path, PathBuf};

use crate::classify::PathOp;

/// The access a rule grants below its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    /// Read, stat, list, readlink, chdir.
    Ro,
    /// Ro plus write, create, remove, set attributes, bind/connect unix sockets.
    Rw,
    /// Ro plus execute.
    Exec,
    /// The path appears not to exist (`ENOENT` for every op).
    Hide,
}

impl Access {
    /// Every access, in the order of the policy file documentation.
    pub const ALL: [Access; 4] = [Access::Ro, Access::Rw, Access::Exec, Access::Hide];

    /// The name used on the command line and in policy files.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Ro => "ro",
            Access::Rw => "rw",
            Access::Exec => "exec",
            Access::Hide => "hide",
        }
    }

    /// Parse `ro`, `rw`, `exec` or `hide` (exactly, lower case).
    pub fn from_name(name: &str) -> Option<Access> {
        Access::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// Whether this access lets `op` happen. Written out for every op and
    /// access (no catch-all), so a new [`PathOp`] must be decided here.
    pub fn grants(self, op: PathOp) -> bool {
        match self {
            Access::Hide => false,
            Access::Ro => match op {
                PathOp::Read | PathOp::Stat => true,
                PathOp::Write
                | PathOp::Exec
                | PathOp::Create
                | PathOp::Remove
                | PathOp::SetAttr
                | PathOp::Connect
                | PathOp::Admin => false,
            },
            Access::Rw => match op {
                PathOp::Read
                | PathOp::Stat
                | PathOp::Write
                | PathOp::Create
                | PathOp::Remove
                | PathOp::SetAttr
                | PathOp::Connect => true,
                PathOp::Exec | PathOp::Admin => false,
            },
            Access::Exec => match op {
                PathOp::Read | PathOp::Stat | PathOp::Exec => true,
                PathOp::Write
                | PathOp::Create
                | PathOp::Remove
                | PathOp::SetAttr
                | PathOp::Connect
                | PathOp::Admin => false,
            },
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to do with one op on one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Let the kernel do it.
    Allow,
    /// Refuse with this errno (`EACCES`, or `EPERM` where the kernel would).
    Deny(i32),
    /// Pretend the path does not exist (`ENOENT`).
    Hide,
}

impl Decision {
    /// The errno the caller gets: `None` for [`Decision::Allow`].
    pub fn errno(self) -> Option<i32> {
        match self {
            Decision::Allow => None,
            Decision::Deny(e) => Some(e),
            Decision::Hide => Some(libc::ENOENT),
        }
    }
}

/// The errno of a denied `op`: what the kernel answers for the same kind of
/// permission problem (see the module documentation for the table).
pub fn denial_errno(op: PathOp) -> i32 {
    match op {
        PathOp::Read
        | PathOp::Write
        | PathOp::Exec
        | PathOp::Stat
        | PathOp::Create
        | PathOp::Remove
        | PathOp::Connect => libc::EACCES,
        PathOp::SetAttr | PathOp::Admin => libc::EPERM,
    }
}

/// A rule path that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleError {
    /// The empty path.
    Empty,
    /// Not absolute: rules must not depend on ujail's working directory.
    Relative(PathBuf),
    /// Contains `..`: its meaning depends on symlinks.
    DotDot(PathBuf),
    /// Contains a NUL byte (no kernel path can).
    Nul(PathBuf),
    /// Two rules for the same (normalised) path.
    Duplicate {
        /// The normalised path.
        path: PathBuf,
        /// The access of the rule already there.
        first: Access,
        /// The access of the rule being added.
        second: Access,
    },
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleError::Empty => f.write_str("empty rule path (rules are absolute paths)"),
            RuleError::Relative(p) => write!(f, "rule path {p:?} is not absolute"),
            RuleError::DotDot(p) => write!(
                f,
                "rule path {p:?} contains \"..\" (write the path without it)"
            ),
            RuleError::Nul(p) => write!(f, "rule path {p:?} contains a NUL byte"),
            RuleError::Duplicate {
                path,
                first,
                second,
            } => write!(
                f,
                "two rules for {path:?}: \"{first}\" and \"{second}\" (give each path once)"
            ),
        }
    }
}

impl std::error::Error for RuleError {}

/// Normalise a rule path: absolute, no `.`, no repeated or trailing `/`;
/// `..` and relative paths are errors.
pub fn normalise(path: &Path) -> Result<PathBuf, RuleError> {
    let bytes = path.as_os_str().as_encoded_bytes();
    if bytes.is_empty() {
        return Err(RuleError::Empty);
    }
    if bytes.contains(&0) {
        return Err(RuleError::Nul(path.to_path_buf()));
    }
    if bytes[0] != b'/' {
        return Err(RuleError::Relative(path.to_path_buf()));
    }
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir => return Err(RuleError::DotDot(path.to_path_buf())),
            Component::Normal(n) => out.push(n),
            // Only on Windows.
            Component::Prefix(_) => return Err(RuleError::Relative(path.to_path_buf())),
        }
    }
    Ok(out)
}

/// A query path ujail can decide on: absolute and without `..`.
fn is_clean(path: &Path) -> bool {
    path.as_os_str().as_encoded_bytes().first() == Some(&b'/')
        && path.components().all(|c| {
            matches!(
                c,
                Component::RootDir | Component::CurDir | Component::Normal(_)
            )
        })
}

/// The path rules of a policy, kept sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathRules {
    rules: BTreeMap<PathBuf, Access>,
}

impl PathRules {
    /// No rules: the path layer allows everything (and only logs).
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a rule. The path is normalised ([`normalise`]); a second rule for
    /// the same path is an error naming both accesses.
    pub fn add(&mut self, path: &Path, access: Access) -> Result<(), RuleError> {
        let path = normalise(path)?;
        if let Some(&first) = self.rules.get(&path) {
            return Err(RuleError::Duplicate {
                path,
                first,
                second: access,
            });
        }
        self.rules.insert(path, access);
        Ok(())
    }

    /// Add a rule unless one for exactly this path exists; returns whether
    /// it was added. For profiles: an explicit rule of the user wins over
    /// the [`system_ro_profile`] entry for the same path.
    pub fn add_default(&mut self, path: &Path, access: Access) -> Result<bool, RuleError> {
        let path = normalise(path)?;
        if self.rules.contains_key(&path) {
            return Ok(false);
        }
        self.rules.insert(path, access);
        Ok(true)
    }

    /// True when there is no rule: everything is allowed (the jail then only logs).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// The rule given for exactly this path (after normalisation), if any.
    pub fn rule(&self, path: &Path) -> Option<Access> {
        self.rules.get(&normalise(path).ok()?).copied()
    }

    /// The access of the longest rule that is a component-wise prefix of
    /// `path`; `None` when no rule covers it or `path` is relative or
    /// contains `..`.
    pub fn access(&self, path: &Path) -> Option<Access> {
        if !is_clean(path) {
            return None;
        }
        // Path's Eq and Ord compare components, so "/a/b/" finds "/a/b".
        path.ancestors().find_map(|a| self.rules.get(a).copied())
    }

    /// Whether some rule below `path` (strictly) is not `hide`.
    fn leads_to_visible_rule(&self, path: &Path) -> bool {
        // Path's order is component-wise: the rules below `path` follow it
        // in one contiguous run.
        self.rules
            .range::<Path, _>((Bound::Excluded(path), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(path))
            .any(|(_, &a)| a != Access::Hide)
    }

    /// Decide `op` on the resolved `path` (see the module documentation).
    pub fn decide(&self, path: &Path, op: PathOp) -> Decision {
        if self.is_empty() {
            return Decision::Allow;
        }
        match self.access(path) {
            Some(Access::Hide) => Decision::Hide,
            Some(a) if a.grants(op) => Decision::Allow,
            Some(_) => Decision::Deny(denial_errno(op)),
            None if op == PathOp::Stat && is_clean(path) && self.leads_to_visible_rule(path) => {
                Decision::Allow
            }
            None => Decision::Deny(denial_errno(op)),
        }
    }

    /// Decide the *source* of a hard link (link(2), linkat(2) old path):
    /// allowed only under `rw`, since the new name may be in a writable
    /// tree; denied with `EPERM` as the kernel's `fs.protected_hardlinks`
    /// does, `ENOENT` when hidden.
    pub fn decide_link_source(&self, path: &Path) -> Decision {
        if self.is_empty() {
            return Decision::Allow;
        }
        match self.access(path) {
            Some(Access::Hide) => Decision::Hide,
            Some(Access::Rw) => Decision::Allow,
            Some(Access::Ro | Access::Exec) | None => Decision::Deny(libc::EPERM),
        }
    }

    /// Every rule, sorted by path (for `ujail check`).
    pub fn grants(&self) -> Vec<(PathBuf, Access)> {
        self.rules.iter().map(|(p, &a)| (p.clone(), a)).collect()
    }
}

/// One entry of the [`system_ro_profile`], with the reason it is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileEntry {
    /// Absolute, normalised path.
    pub path: &'static str,
    /// What is granted below it.
    pub access: Access,
    /// Why an ordinary program needs it.
    pub why: &'static str,
}

const fn entry(path: &'static str, access: Access, why: &'static str) -> ProfileEntry {
    ProfileEntry { path, access, why }
}

/// The `--system-ro` profile, with reasons. Found by tracing `ls`, `id`,
/// `date`, `nproc`, `python3`, `perl`, `/bin/sh` and ujail's i686 guest on
/// Debian 12 (x86_64 with i386 multilib): what they open, stat, readlink or
/// execute to start and run. Debian merges /usr (`/lib -> usr/lib`), and
/// rules match resolved paths, so the `/usr` directories carry the weight;
/// the top-level names are listed too for systems without the merge.
///
/// Deliberately absent: `/dev/tty` (opening the controlling terminal even
/// when stdio is redirected lets a program push input into the user's
/// shell with `TIOCSTI`; programs fall back to stdin/stderr), `/dev/shm`
/// (shared with every other process of the user), `/tmp` (grant a private
/// `rw` directory and point `TMPDIR` at it), `/etc/shadow` and
/// `/etc/ssl/private` (perl's getpwuid probes the shadow file: it copes
/// with the refusal), `/home`, `/root`, `/var`. The jailed processes' own
/// `/proc/<pid>` entries and the program with its interpreter and libraries
/// are added per run by the caller.
pub const SYSTEM_RO: &[ProfileEntry] = &[
    // Programs and #! interpreters.
    entry("/usr/bin", Access::Exec, "programs and #! interpreters (sh, env, python3, perl)"),
    entry("/bin", Access::Exec, "programs on systems without the merged /usr"),
    entry("/usr/sbin", Access::Exec, "helpers run by libraries, e.g. ldconfig -p for Python's ctypes.util.find_library"),
    entry("/sbin", Access::Exec, "the same on systems without the merged /usr"),
    entry("/usr/libexec", Access::Exec, "helper programs that libraries and tools run"),
    // Loader and libraries (Exec: ld.so can also be run as a program).
    entry("/usr/lib", Access::Exec, "libraries, gconv modules, /usr/lib/locale, Python's and Perl's standard modules"),
    entry("/lib", Access::Exec, "libraries and the i386 loader /lib/ld-linux.so.2 (PT_INTERP) without the merged /usr"),
    entry("/usr/lib64", Access::Exec, "the x86_64 loader, PT_INTERP /lib64/ld-linux-x86-64.so.2"),
    entry("/lib64", Access::Exec, "the x86_64 loader without the merged /usr"),
    entry("/usr/lib32", Access::Exec, "i386 libraries of the multilib packages (libc6-i386: /lib32/libc.so.6)"),
    entry("/lib32", Access::Exec, "i386 multilib libraries without the merged /usr"),
    entry("/usr/local/bin", Access::Exec, "locally installed programs (also searched by env and execvp)"),
    entry("/usr/local/lib", Access::Exec, "locally installed libraries, Python dist-packages, Perl site modules"),
    entry("/usr/local/share", Access::Ro, "locally installed Perl modules and data"),
    // Shared, public data.
    entry("/usr/share", Access::Ro, "locale messages and locale.alias, zoneinfo (/etc/localtime points here), i18n, terminfo, perl5, ca-certificates"),
    // Loader configuration.
    entry("/etc/ld.so.cache", Access::Ro, "the loader's library index"),
    entry("/etc/locale.alias", Access::Ro, "glibc's setlocale reads the locale aliases"),
    entry("/etc/ld.so.preload", Access::Ro, "the loader checks it on every start; the admin's preloads apply as without ujail"),
    // libc configuration.
    entry("/etc/localtime", Access::Ro, "local time zone (a symlink into /usr/share/zoneinfo)"),
    entry("/etc/timezone", Access::Ro, "the time zone's name on Debian"),
    entry("/etc/nsswitch.conf", Access::Ro, "tells libc where users, groups and hosts come from"),
    entry("/etc/passwd", Access::Ro, "user names: getpwuid in id, ls -l, Python's pwd/getpass, Perl's getpwuid"),
    entry("/etc/group", Access::Ro, "group names: getgrgid in id, ls -l"),
    entry("/etc/host.conf", Access::Ro, "resolver configuration read by getaddrinfo"),
    entry("/etc/hosts", Access::Ro, "getaddrinfo(\"localhost\")"),
    entry("/etc/resolv.conf", Access::Ro, "DNS servers for getaddrinfo (whether the network is usable is not decided here)"),
    entry("/etc/gai.conf", Access::Ro, "address sorting of getaddrinfo"),
    entry("/etc/services", Access::Ro, "getservbyname, port names in socket libraries"),
    entry("/etc/protocols", Access::Ro, "getprotobyname in socket libraries"),
    entry("/etc/alternatives", Access::Ro, "Debian's symlink farm: /usr/bin/awk -> /etc/alternatives/awk -> /usr/bin/mawk"),
    entry("/etc/mime.types", Access::Ro, "file types for Python's mimetypes and CGI frameworks"),
    entry("/etc/ssl/certs", Access::Ro, "the TLS trust store (not /etc/ssl/private)"),
    entry("/etc/ssl/openssl.cnf", Access::Ro, "read by OpenSSL when a TLS library starts"),
    entry("/etc/perl", Access::Ro, "first directory of Debian perl's @INC"),
    entry("/etc/python3", Access::Ro, "Debian's Python configuration (debian_config)"),
    entry("/etc/python3.9", Access::Ro, "/usr/lib/python3.9/sitecustomize.py links here (Debian 11)"),
    entry("/etc/python3.11", Access::Ro, "/usr/lib/python3.11/sitecustomize.py links here (Debian 12)"),
    entry("/etc/python3.13", Access::Ro, "/usr/lib/python3.13/sitecustomize.py links here (Debian 13)"),
    // Devices without state.
    entry("/dev/null", Access::Rw, "discarding output; opened O_RDWR by daemons and subprocess(DEVNULL)"),
    entry("/dev/zero", Access::Rw, "zero pages for mmap, zeros for reading; writes are discarded"),
    entry("/dev/full", Access::Rw, "the always-full device, for programs that test write errors"),
    entry("/dev/urandom", Access::Ro, "randomness for programs that do not use getrandom (Perl opens it)"),
    entry("/dev/random", Access::Ro, "the same, blocking flavour"),
    // Kernel facts that are not per process.
    entry("/proc/filesystems", Access::Ro, "libselinux (ls, id) probes for selinuxfs"),
    entry("/proc/sys/kernel/ngroups_max", Access::Ro, "id sizes its getgroups buffer"),
    entry("/proc/sys/vm/overcommit_memory", Access::Ro, "glibc's malloc reads it before trimming heaps"),
    entry("/proc/meminfo", Access::Ro, "runtimes size their heaps and caches from it"),
    entry("/proc/cpuinfo", Access::Ro, "CPU feature detection in numeric libraries"),
    entry("/proc/stat", Access::Ro, "glibc's get_nprocs fallback"),
    entry("/sys/devices/system/cpu", Access::Ro, "CPU count: nproc, sysconf(_SC_NPROCESSORS_*), Python's os.cpu_count read online/possible"),
];

/// The documented `--system-ro` profile ([`SYSTEM_RO`] without the reasons):
/// what ordinary dynamically linked i386 and x86_64 programs need to start
/// and run. The caller adds the program's own needs from goblin (interpreter
/// and needed libraries outside these directories) and `/proc/<pid>` of the
/// jailed processes.
pub fn system_ro_profile() -> Vec<(PathBuf, Access)> {
    SYSTEM_RO
        .iter()
        .map(|e| (PathBuf::from(e.path), e.access))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPS: [PathOp; 9] = [
        PathOp::Read,
        PathOp::Write,
        PathOp::Exec,
        PathOp::Stat,
        PathOp::Create,
        PathOp::Remove,
        PathOp::SetAttr,
        PathOp::Connect,
        PathOp::Admin,
    ];

    fn rules(list: &[(&str, Access)]) -> PathRules {
        let mut r = PathRules::new();
        for &(p, a) in list {
            r.add(Path::new(p), a).unwrap();
        }
        r
    }

    fn p(s: &str) -> &Path {
        Path::new(s)
    }

    #[test]
    fn longest_prefix_component_wise() {
        let r = rules(&[
            ("/srv/www", Access::Ro),
            ("/srv/www/site1", Access::Rw),
            ("/srv/www/site1/cgi-bin", Access::Exec),
            ("/srv/www/site2", Access::Hide),
        ]);
        let table: &[(&str, Option<Access>)] = &[
            ("/srv/www", Some(Access::Ro)),
            ("/srv/www/", Some(Access::Ro)),
            ("/srv/www/index.html", Some(Access::Ro)),
            ("/srv/www2", None),
            ("/srv/www2/x", None),
            ("/srv/ww", None),
            ("/srv", None),
            ("/", None),
            ("/srv/www/site1", Some(Access::Rw)),
            ("/srv/www/site10", Some(Access::Ro)),
            ("/srv/www/site1/data/a.txt", Some(Access::Rw)),
            ("/srv/www/site1/cgi-bin", Some(Access::Exec)),
            ("/srv/www/site1/cgi-bin/x.cgi", Some(Access::Exec)),
            ("/srv/www/site1/cgi-bin2", Some(Access::Rw)),
            ("/srv/www/site2", Some(Access::Hide)),
            ("/srv/www/site2/secret", Some(Access::Hide)),
            ("/srv/www//site1///x", Some(Access::Rw)),
            ("/srv/www/./site1/x", Some(Access::Rw)),
            // Never decided on unresolved paths.
            ("/srv/www/site1/../site2", None),
            ("/srv/www/site1/..", None),
            ("srv/www/site1", None),
            ("", None),
        ];
        for &(path, want) in table {
            assert_eq!(r.access(p(path)), want, "{path:?}");
        }
    }

    #[test]
    fn root_rule_covers_everything_else() {
        let r = rules(&[
            ("/", Access::Ro),
            ("/tmp/jail", Access::Rw),
            ("/etc/shadow", Access::Hide),
        ]);
        assert_eq!(r.access(p("/")), Some(Access::Ro));
        assert_eq!(r.access(p("/etc/passwd")), Some(Access::Ro));
        assert_eq!(r.access(p("/tmp/jail/x")), Some(Access::Rw));
        assert_eq!(r.access(p("/tmp/jailx")), Some(Access::Ro));
        assert_eq!(r.decide(p("/etc/shadow"), PathOp::Read), Decision::Hide);
        assert_eq!(r.decide(p("/etc/shadow"), PathOp::Stat), Decision::Hide);
        assert_eq!(r.decide(p("/etc/passwd"), PathOp::Read), Decision::Allow);
        assert_eq!(
            r.decide(p("/etc/passwd"), PathOp::Write),
            Decision::Deny(libc::EACCES)
        );
        assert_eq!(
            r.decide(p("/tmp/jail/new"), PathOp::Create),
            Decision::Allow
        );
    }

    /// Every op under every access, and not covered.
    #[test]
    fn every_op_under_every_access() {
        use Decision::{Allow, Deny, Hide};
        const A: i32 = libc::EACCES;
        const P: i32 = libc::EPERM;
        let r = rules(&[
            ("/ro", Access::Ro),
            ("/rw", Access::Rw),
            ("/exec", Access::Exec),
            ("/hide", Access::Hide),
        ]);
        // Columns: ro, rw, exec, hide, not covered; rows in OPS order.
        let want: [[Decision; 5]; 9] = [
            [Allow, Allow, Allow, Hide, Deny(A)],       // Read
            [Deny(A), Allow, Deny(A), Hide, Deny(A)],   // Write
            [Deny(A), Deny(A), Allow, Hide, Deny(A)],   // Exec
            [Allow, Allow, Allow, Hide, Deny(A)],       // Stat
            [Deny(A), Allow, Deny(A), Hide, Deny(A)],   // Create
            [Deny(A), Allow, Deny(A), Hide, Deny(A)],   // Remove
            [Deny(P), Allow, Deny(P), Hide, Deny(P)],   // SetAttr
            [Deny(A), Allow, Deny(A), Hide, Deny(A)],   // Connect
            [Deny(P), Deny(P), Deny(P), Hide, Deny(P)], // Admin
        ];
        for (op, row) in OPS.into_iter().zip(want) {
            for (dir, want) in ["/ro/f", "/rw/f", "/exec/f", "/hide/f", "/other/f"]
                .into_iter()
                .zip(row)
            {
                assert_eq!(r.decide(p(dir), op), want, "{op:?} on {dir}");
            }
        }
        // Access::grants agrees with decide.
        for a in Access::ALL {
            for op in OPS {
                let path = format!("/{a}/f");
                let d = r.decide(p(&path), op);
                assert_eq!(a.grants(op), d == Allow, "{a} {op:?}");
            }
        }
    }

    #[test]
    fn hide_is_enoent_and_admin_never_granted() {
        assert_eq!(Decision::Hide.errno(), Some(libc::ENOENT));
        assert_eq!(Decision::Allow.errno(), None);
        assert_eq!(Decision::Deny(libc::EPERM).errno(), Some(libc::EPERM));
        for a in Access::ALL {
            assert!(!a.grants(PathOp::Admin), "{a}");
            assert!(!Access::Hide.grants(PathOp::Read));
        }
        let r = rules(&[("/", Access::Rw)]);
        assert_eq!(
            r.decide(p("/mnt"), PathOp::Admin),
            Decision::Deny(libc::EPERM)
        );
    }

    #[test]
    fn no_rules_allow_everything() {
        let r = PathRules::new();
        assert!(r.is_empty());
        for op in OPS {
            assert_eq!(r.decide(p("/etc/shadow"), op), Decision::Allow);
        }
        assert_eq!(r.decide_link_source(p("/etc/shadow")), Decision::Allow);
    }

    #[test]
    fn relative_or_dotdot_queries_are_denied() {
        let r = rules(&[("/", Access::Rw)]);
        assert_eq!(
            r.decide(p("etc/passwd"), PathOp::Read),
            Decision::Deny(libc::EACCES)
        );
        assert_eq!(
            r.decide(p("/a/../b"), PathOp::Stat),
            Decision::Deny(libc::EACCES)
        );
        assert_eq!(r.decide(p(""), PathOp::Stat), Decision::Deny(libc::EACCES));
    }

    #[test]
    fn stat_allowed_on_ancestors_of_visible_rules_only() {
        let r = rules(&[
            ("/srv/www/site1", Access::Rw),
            ("/opt/secret", Access::Hide),
        ]);
        for anc in ["/", "/srv", "/srv/www", "/srv/www/"] {
            assert_eq!(r.decide(p(anc), PathOp::Stat), Decision::Allow, "{anc}");
            assert_eq!(
                r.decide(p(anc), PathOp::Read),
                Decision::Deny(libc::EACCES),
                "{anc}"
            );
            assert_eq!(
                r.decide(p(anc), PathOp::Write),
                Decision::Deny(libc::EACCES),
                "{anc}"
            );
        }
        // Siblings and look-alikes are not ancestors.
        for other in [
            "/srv/www/site2",
            "/srv/www2",
            "/srv/www/site",
            "/opt",
            "/srv/www/site1x",
        ] {
            assert_eq!(
                r.decide(p(other), PathOp::Stat),
                Decision::Deny(libc::EACCES),
                "{other}"
            );
        }
        // Only a hide rule below: nothing gained.
        let r = rules(&[("/opt/secret", Access::Hide)]);
        assert_eq!(
            r.decide(p("/opt"), PathOp::Stat),
            Decision::Deny(libc::EACCES)
        );
        assert_eq!(r.decide(p("/"), PathOp::Stat), Decision::Deny(libc::EACCES));
    }

    #[test]
    fn create_and_remove_follow_the_rule_of_the_path_itself() {
        let r = rules(&[("/srv/www", Access::Ro), ("/srv/www/site1", Access::Rw)]);
        // The parent /srv/www is only ro, the new name is under rw.
        assert_eq!(
            r.decide(p("/srv/www/site1/new"), PathOp::Create),
            Decision::Allow
        );
        assert_eq!(
            r.decide(p("/srv/www/site1"), PathOp::Remove),
            Decision::Allow
        );
        // A sibling of site1 in the ro parent.
        assert_eq!(
            r.decide(p("/srv/www/site3"), PathOp::Create),
            Decision::Deny(libc::EACCES)
        );
        assert_eq!(
            r.decide(p("/srv/www/index.html"), PathOp::Remove),
            Decision::Deny(libc::EACCES)
        );
    }

    #[test]
    fn link_source_needs_rw_and_is_eperm() {
        let r = rules(&[
            ("/ro", Access::Ro),
            ("/rw", Access::Rw),
            ("/exec", Access::Exec),
            ("/hide", Access::Hide),
        ]);
        assert_eq!(r.decide_link_source(p("/rw/f")), Decision::Allow);
        assert_eq!(
            r.decide_link_source(p("/ro/f")),
            Decision::Deny(libc::EPERM)
        );
        assert_eq!(
            r.decide_link_source(p("/exec/f")),
            Decision::Deny(libc::EPERM)
        );
        assert_eq!(r.decide_link_source(p("/hide/f")), Decision::Hide);
        assert_eq!(
            r.decide_link_source(p("/elsewhere")),
            Decision::Deny(libc::EPERM)
        );
        assert_eq!(
            r.decide_link_source(p("/rw/../ro/f")),
            Decision::Deny(libc::EPERM)
        );
    }

    #[test]
    fn normalisation() {
        let ok: &[(&str, &str)] = &[
            ("/", "/"),
            ("//", "/"),
            ("/.", "/"),
            ("/srv/www/", "/srv/www"),
            ("/srv//www", "/srv/www"),
            ("//srv/www//", "/srv/www"),
            ("/srv/./www/.", "/srv/www"),
        ];
        for &(input, want) in ok {
            let got = normalise(p(input)).unwrap();
            assert_eq!(got.as_os_str(), want, "{input:?}");
        }
        assert_eq!(normalise(p("")), Err(RuleError::Empty));
        assert_eq!(
            normalise(p("srv/www")),
            Err(RuleError::Relative("srv/www".into()))
        );
        assert_eq!(
            normalise(p("./srv")),
            Err(RuleError::Relative("./srv".into()))
        );
        assert_eq!(
            normalise(p("~/www")),
            Err(RuleError::Relative("~/www".into()))
        );
        assert_eq!(
            normalise(p("/srv/../etc")),
            Err(RuleError::DotDot("/srv/../etc".into()))
        );
        assert_eq!(
            normalise(p("/srv/www/..")),
            Err(RuleError::DotDot("/srv/www/..".into()))
        );
        assert_eq!(normalise(p("/a\0b")), Err(RuleError::Nul("/a\0b".into())));
    }

    #[test]
    fn add_errors_and_duplicates() {
        let mut r = PathRules::new();
        r.add(p("/srv/www"), Access::Rw).unwrap();
        let e = r.add(p("/srv/www/"), Access::Ro).unwrap_err();
        assert_eq!(
            e,
            RuleError::Duplicate {
                path: "/srv/www".into(),
                first: Access::Rw,
                second: Access::Ro
            }
        );
        assert_eq!(
            e.to_string(),
            "two rules for \"/srv/www\": \"rw\" and \"ro\" (give each path once)"
        );
        // The same access twice is also a mistake worth reporting.
        assert!(matches!(
            r.add(p("//srv/www"), Access::Rw),
            Err(RuleError::Duplicate { .. })
        ));
        assert!(matches!(
            r.add(p("www"), Access::Rw),
            Err(RuleError::Relative(_))
        ));
        assert!(matches!(
            r.add(p("/srv/../etc"), Access::Rw),
            Err(RuleError::DotDot(_))
        ));
        assert_eq!(
            RuleError::Relative("www".into()).to_string(),
            "rule path \"www\" is not absolute"
        );
        assert_eq!(
            RuleError::DotDot("/a/..".into()).to_string(),
            "rule path \"/a/..\" contains \"..\" (write the path without it)"
        );
        assert_eq!(r.len(), 1);
        assert_eq!(r.rule(p("/srv/www/")), Some(Access::Rw));
        assert_eq!(r.rule(p("/srv/www/x")), None);
        // add_default never replaces an explicit rule.
        assert_eq!(r.add_default(p("/srv/www"), Access::Ro), Ok(false));
        assert_eq!(r.add_default(p("/usr"), Access::Ro), Ok(true));
        assert_eq!(r.rule(p("/srv/www")), Some(Access::Rw));
        assert_eq!(
            r.grants(),
            vec![
                (PathBuf::from("/srv/www"), Access::Rw),
                (PathBuf::from("/usr"), Access::Ro)
            ]
        );
    }

    #[test]
    fn access_names_round_trip() {
        for a in Access::ALL {
            assert_eq!(Access::from_name(a.as_str()), Some(a));
            assert_eq!(a.to_string(), a.as_str());
        }
        for bad in ["RO", "rwx", "r", "", "read", "hidden"] {
            assert_eq!(Access::from_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn profile_entries_are_absolute_normalised_unique_and_explained() {
        let mut r = PathRules::new();
        for e in SYSTEM_RO {
            let n = normalise(p(e.path)).unwrap();
            assert_eq!(n.as_os_str(), e.path, "not normalised");
            assert!(!e.why.is_empty(), "{} has no reason", e.path);
            r.add(p(e.path), e.access).unwrap();
        }
        assert_eq!(system_ro_profile().len(), SYSTEM_RO.len());
        assert!(!SYSTEM_RO.iter().any(|e| e.access == Access::Hide));
    }

    #[test]
    fn profile_grants_what_programs_need_and_nothing_private() {
        let mut r = PathRules::new();
        for (path, a) in system_ro_profile() {
            r.add(&path, a).unwrap();
        }
        let allowed: &[(&str, PathOp)] = &[
            (
                "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                PathOp::Exec,
            ),
            ("/usr/lib64/ld-linux-x86-64.so.2", PathOp::Read),
            ("/usr/lib/x86_64-linux-gnu/libc.so.6", PathOp::Read),
            ("/usr/lib32/libc.so.6", PathOp::Read),
            ("/usr/lib/i386-linux-gnu/libc.so.6", PathOp::Read),
            ("/usr/lib/locale/locale-archive", PathOp::Read),
            (
                "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache",
                PathOp::Read,
            ),
            ("/usr/share/locale/locale.alias", PathOp::Read),
            ("/usr/share/zoneinfo/Etc/UTC", PathOp::Read),
            ("/etc/ld.so.cache", PathOp::Read),
            ("/etc/nsswitch.conf", PathOp::Read),
            ("/etc/passwd", PathOp::Read),
            ("/etc/group", PathOp::Read),
            ("/usr/bin/python3.11", PathOp::Exec),
            ("/usr/bin/perl", PathOp::Exec),
            ("/bin/sh", PathOp::Exec),
            ("/usr/lib/python3.11/os.py", PathOp::Read),
            ("/etc/perl/Carp.pm", PathOp::Stat),
            ("/dev/null", PathOp::Write),
            ("/dev/urandom", PathOp::Read),
            ("/sys/devices/system/cpu/online", PathOp::Read),
            ("/", PathOp::Stat),
            ("/usr", PathOp::Stat),
            ("/etc", PathOp::Stat),
            ("/dev", PathOp::Stat),
        ];
        for &(path, op) in allowed {
            assert_eq!(r.decide(p(path), op), Decision::Allow, "{op:?} {path}");
        }
        let denied: &[(&str, PathOp)] = &[
            ("/etc/shadow", PathOp::Read),
            ("/etc/ssl/private/key.pem", PathOp::Read),
            ("/dev/tty", PathOp::Read),
            ("/dev/shm/x", PathOp::Create),
            ("/tmp/x", PathOp::Create),
            ("/root/.ssh/id_rsa", PathOp::Read),
            ("/home", PathOp::Stat),
            ("/etc", PathOp::Read),
            ("/usr/lib/x86_64-linux-gnu/libc.so.6", PathOp::Write),
            ("/usr/bin/new", PathOp::Create),
            ("/etc/passwd", PathOp::Write),
            ("/dev/urandom", PathOp::Write),
            ("/usr/share/doc/x", PathOp::Exec),
        ];
        for &(path, op) in denied {
            assert_ne!(r.decide(p(path), op), Decision::Allow, "{op:?} {path}");
        }
    }
}
