// SPDX-License-Identifier: GPL-3.0-or-later
//! Resolve a path the way the kernel's namei (`fs/namei.c`) would for a
//! traced process: component by component on the real filesystem, relative
//! to the caller's cwd, root or dirfd, with `..` after a followed symlink
//! going to the *target's* parent, the 40-link limit, trailing-slash rules and
//! the `/proc` magic links. The resolved path is what the path policy checks,
//! so every difference from the kernel is a potential escape; the known ones
//! are listed below.
//!
//! # Model
//!
//! The walk keeps the current directory as an absolute, symlink-free path in
//! the *tracer's* view of the filesystem (which is also the view the rules
//! are written in). For every component it does what `link_path_walk` does:
//!
//! * `.` stays; `..` goes to the textual parent of the current (symlink-free)
//!   directory, except at the process root where it stays;
//! * other names are looked up with `lstat`; a missing non-final name is
//!   `ENOENT`, a non-directory followed by more components is `ENOTDIR`,
//!   a name longer than 255 bytes is `ENAMETOOLONG`;
//! * a symlink is followed when it is not the last component, or when the
//!   caller asked to follow the last one, or when the path ends in `/`
//!   (`lookup_last` then forces `LOOKUP_FOLLOW | LOOKUP_DIRECTORY`, even
//!   with `O_NOFOLLOW`). A relative target continues from the link's
//!   directory, an absolute one restarts at the process root. At most 40
//!   links are followed per resolution (`MAXSYMLINKS`); the 41st is `ELOOP`.
//! * a trailing `/` (on the path, or on the body of a followed final link)
//!   requires the final object to be a directory (`ENOTDIR` otherwise);
//! * a missing final component is not an error: [`Resolved::exists`] is false
//!   (what `O_CREAT`, `mkdir`, `symlink` ... create). A dangling final symlink
//!   that is followed resolves to the (missing) target, as the kernel's
//!   `O_CREAT` through a dangling link creates the target.
//!
//! # /proc
//!
//! A filesystem is procfs when its device is that of a `proc` mount in the
//! tracer's `/proc/self/mountinfo` (the tracee is assumed to share the
//! tracer's mount and pid namespaces: `unshare`/`setns`/`mount` are denied by
//! default). In the procfs root, `self` reads as `<tgid>` and `thread-self`
//! as `<tgid>/task/<pid>` of the *traced* process, not of the tracer. Other
//! symlinks of procfs outside its root are "magic links"
//! (`/proc/<pid>/{cwd,root,exe,fd/N,map_files/..,ns/..}`, also under
//! `task/<tid>/`): the kernel jumps straight to the object, so we read the
//! link's text:
//!
//! * an absolute text is the object's path; it is verified by comparing
//!   device and inode of the object (`stat` through the link) with `lstat`
//!   of the text. A text ending in `" (deleted)"` that does not name the
//!   object is the path of a deleted object: the suffix is stripped and
//!   [`Resolved::exists`] is false; looking names up below a deleted
//!   directory is `ENOENT`, as in the kernel. Any other mismatch (object not
//!   reachable by its path, e.g. from outside a chroot or another mount
//!   namespace, or a rename race) fails closed with `EACCES`.
//! * a `type:[...]` text (`pipe:[1]`, `socket:[2]`, `anon_inode:[eventfd]`,
//!   `net:[4026531833]`) is an object without a path: [`Resolution::Anon`] as
//!   the final component, `ENOTDIR` in the middle of a path.
//!
//! # Known divergences from the kernel
//!
//! * Resolution runs with the tracer's credentials: a directory the tracer
//!   may not search gives an [`ResolveError::Io`] (`EACCES`) even where the
//!   tracee could search it, and vice versa the tracer may see more (the
//!   kernel then refuses the real call itself).
//! * The process root comes from [`ProcessView::root`], `/` by default. A
//!   tracee in a chroot is resolved correctly only if the view reports its
//!   root (readlink of `/proc/PID/root`); with the default the tracer
//!   assumes the tracee shares its root.
//! * The resolved path must fit in `PATH_MAX` for the `lstat` calls of the
//!   walk: a deep cwd plus a relative path (or link expansion) longer than
//!   4095 bytes gives `ENAMETOOLONG` where the kernel, which walks by dentry,
//!   succeeds. This fails closed.
//! * The 255-byte name limit is applied to every name looked up; the kernel
//!   leaves it to the filesystem (all common ones use 255).
//! * A trailing slash forces following the final symlink also for the calls
//!   that never follow it (`mkdir`, `unlink`, `rmdir`, `rename`, `link`,
//!   `symlink`, `mknod`, `O_CREAT`): the kernel fails those anyway on a
//!   symlink with a trailing slash (`EEXIST`, `ENOTDIR`, `EISDIR`), so only
//!   the error code can differ (e.g. a denial instead of `EEXIST`). Likewise
//!   a trailing slash on an existing non-directory is `ENOTDIR` here where
//!   `mkdir`/`link` would say `EEXIST`, and `O_CREAT` with a trailing slash is
//!   `EISDIR` in the kernel, which the caller must decide (the path is
//!   still the right one).
//! * An empty symlink body (only creatable on a few filesystems) is `ENOENT`.
//! * A symlink on procfs outside its root whose text is neither absolute nor
//!   `type:[...]` is unknown to us and fails closed (`EACCES`).
//! * The dirfd/cwd texts of [`ProcessView`] are trusted as given (unlike
//!   magic links they are not checked against the object); a
//!   `" (deleted)"` suffix on them is stripped when no object of that name
//!   exists. A cwd or dirfd directory that has since been covered by a
//!   mount is resolved through the covering mount, while the kernel uses
//!   the covered directory (same names, other objects).
//! * Magic-link texts are paths in the tracer's view (`d_path` relative to
//!   the reader's root) and are used as such, without the tracee's root.
//! * Everything here is a snapshot: another process may swap a symlink
//!   between this walk and the real call. Closing that window is the
//!   caller's job (issue 4, "no time-of-check/time-of-use gap").
//! * The input is cut at its first NUL byte, as the kernel's `getname` reads
//!   a C string.
//!
//! # Bounded work
//!
//! The input is under 4096 bytes and at most 40 link bodies (each under
//! 4096 bytes) are walked, each byte once: at most about 84 000 `lstat`
//! calls for a hostile path, a few for an ordinary one, plus one read of
//! `/proc/self/mountinfo` when a symlink on an anonymous-device filesystem
//! is followed.
#![forbid(unsafe_code)]

use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// `PATH_MAX`: an input path of this many bytes or more (without the NUL)
/// is `ENAMETOOLONG`.
pub const PATH_MAX: usize = 4096;
/// `NAME_MAX`: the longest single component.
pub const NAME_MAX: usize = 255;
/// `MAXSYMLINKS`: the most symlinks one resolution follows.
pub const MAXSYMLINKS: u32 = 40;
/// `AT_FDCWD` as the `dirfd` argument of the `*at` calls.
pub const AT_FDCWD: i32 = libc::AT_FDCWD;

/// The suffix `d_path` appends to the path of an unlinked object.
const DELETED: &[u8] = b" (deleted)";
/// `PROC_ROOT_INO`: the inode number of every procfs root directory.
const PROC_ROOT_INO: u64 = 1;

/// What the tracer knows of the calling process (the tracer implements this
/// with readlink of `/proc/PID/cwd`, `/proc/PID/fd/N`, `/proc/PID/root`).
pub trait ProcessView {
    /// Thread id of the caller (for `/proc/thread-self`).
    fn pid(&self) -> i32;
    /// Its process id (for `/proc/self`).
    fn tgid(&self) -> i32;
    /// Its current directory, absolute, as `readlink /proc/PID/cwd` gives it
    /// (a `" (deleted)"` suffix is understood).
    fn cwd(&self) -> io::Result<PathBuf>;
    /// What its descriptor `fd` refers to. A closed descriptor is an error
    /// with `EBADF` or `ENOENT` (what readlink of `/proc/PID/fd/N` says).
    fn fd_path(&self, fd: i32) -> io::Result<FdTarget>;
    /// Its root directory, absolute (`readlink /proc/PID/root`). The default
    /// is `/`: the tracee shares the tracer's root. Override it for tracees
    /// that may run in a chroot.
    fn root(&self) -> io::Result<PathBuf> {
        Ok(PathBuf::from("/"))
    }
}

/// What a file descriptor refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FdTarget {
    /// A file, directory or other object with a path (possibly ending in
    /// `" (deleted)"`).
    Path(PathBuf),
    /// An object without a path: `pipe:[123]`, `socket:[..]`,
    /// `anon_inode:[eventfd]`.
    Anon(String),
}

/// A path resolved to the object the kernel would reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Absolute and normalised: every symlink followed except the last when
    /// it is not to be followed; no `.`, `..`, `//` or trailing `/`.
    pub path: PathBuf,
    /// The final object exists (`lstat` succeeded and it is not deleted).
    pub exists: bool,
    /// The final object is a symlink that was not followed.
    pub is_symlink: bool,
}

/// The outcome of a resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// A filesystem object (or where one would be created).
    Path(Resolved),
    /// A magic link or descriptor to a non-file object, e.g.
    /// `/proc/self/fd/0` to a pipe: the text of the link.
    Anon(String),
}

impl Resolution {
    /// The resolved path, `None` for an anonymous object.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Resolution::Path(r) => Some(&r.path),
            Resolution::Anon(_) => None,
        }
    }
}

/// Why a path does not resolve; [`ResolveError::errno`] is what the kernel
/// would return.
#[derive(Debug)]
pub enum ResolveError {
    /// A non-final component is missing, or the path is empty: `ENOENT`.
    NotFound,
    /// A non-directory where a directory is needed: `ENOTDIR`.
    NotDir,
    /// More than 40 symlinks: `ELOOP`.
    Loop,
    /// The path, a name or the resolved path is too long: `ENAMETOOLONG`.
    TooLong,
    /// The dirfd is not an open descriptor: `EBADF`.
    BadFd,
    /// Anything else (permission, I/O, an unverifiable magic link).
    Io(io::Error),
}

impl ResolveError {
    /// The errno the kernel gives (positive). An [`ResolveError::Io`] error
    /// without an OS errno is `EACCES`: resolution failed closed.
    pub fn errno(&self) -> i32 {
        match self {
            ResolveError::NotFound => libc::ENOENT,
            ResolveError::NotDir => libc::ENOTDIR,
            ResolveError::Loop => libc::ELOOP,
            ResolveError::TooLong => libc::ENAMETOOLONG,
            ResolveError::BadFd => libc::EBADF,
            ResolveError::Io(e) => e.raw_os_error().unwrap_or(libc::EACCES),
        }
    }

    /// Maps an error of `lstat`/`readlink` during the walk.
    fn from_io(e: io::Error) -> Self {
        match e.raw_os_error() {
            Some(libc::ENOENT) => ResolveError::NotFound,
            Some(libc::ENOTDIR) => ResolveError::NotDir,
            Some(libc::ELOOP) => ResolveError::Loop,
            Some(libc::ENAMETOOLONG) => ResolveError::TooLong,
            _ => ResolveError::Io(e),
        }
    }

    /// A failure to resolve safely (fails closed with `EACCES`).
    fn denied(what: String) -> Self {
        ResolveError::Io(io::Error::new(io::ErrorKind::PermissionDenied, what))
    }
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::NotFound => f.write_str("resolve path: a component does not exist"),
            ResolveError::NotDir => f.write_str("resolve path: a component is not a directory"),
            ResolveError::Loop => f.write_str("resolve path: too many levels of symbolic links"),
            ResolveError::TooLong => f.write_str("resolve path: file name too long"),
            ResolveError::BadFd => f.write_str("resolve path: bad directory file descriptor"),
            ResolveError::Io(e) => write!(f, "resolve path: {e}"),
        }
    }
}

impl std::error::Error for ResolveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ResolveError::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// Resolves `path` as the kernel would for the process `view`, relative to
/// `dirfd` (`None` or [`AT_FDCWD`]: the cwd; ignored for absolute paths).
/// `follow_last`: follow a final symlink (no `AT_SYMLINK_NOFOLLOW`,
/// `O_NOFOLLOW`, ...; a trailing `/` follows it anyway). An empty path is
/// `ENOENT`: for `AT_EMPTY_PATH` call [`resolve_fd`] instead.
pub fn resolve(
    view: &dyn ProcessView,
    dirfd: Option<i32>,
    path: &[u8],
    follow_last: bool,
) -> Result<Resolution, ResolveError> {
    let path = cut_at_nul(path);
    if path.is_empty() {
        return Err(ResolveError::NotFound);
    }
    if path.len() >= PATH_MAX {
        return Err(ResolveError::TooLong);
    }
    let root = normalise_abs(
        view.root()
            .map_err(ResolveError::Io)?
            .as_os_str()
            .as_bytes(),
    )
    .ok_or_else(|| ResolveError::denied("process root is not an absolute path".into()))?;
    let start = if path.first() == Some(&b'/') {
        Dir {
            path: root.clone(),
            dead: false,
        }
    } else {
        start_dir(view, dirfd)?
    };
    let mut walk = Walk {
        view,
        root,
        cur: start,
        links: 0,
        dir_required: false,
        follow_last,
        procfs: None,
        stack: vec![Seg::new(path.to_vec())],
    };
    walk.run()
}

/// Resolves the object descriptor `fd` refers to (`AT_EMPTY_PATH` with an
/// empty path; [`AT_FDCWD`] is the cwd).
pub fn resolve_fd(view: &dyn ProcessView, fd: i32) -> Result<Resolution, ResolveError> {
    let text = if fd == AT_FDCWD {
        view.cwd().map_err(ResolveError::Io)?
    } else {
        match fd_target(view, fd)? {
            FdTarget::Path(p) => p,
            FdTarget::Anon(a) => return Ok(Resolution::Anon(a)),
        }
    };
    let bytes = text.as_os_str().as_bytes();
    let Some(norm) = normalise_abs(bytes) else {
        return Err(ResolveError::denied(format!(
            "descriptor {fd}: not an absolute path"
        )));
    };
    match fs::symlink_metadata(os(&norm)) {
        Ok(m) => Ok(Resolution::Path(Resolved {
            path: PathBuf::from(os(&norm)),
            exists: true,
            is_symlink: m.file_type().is_symlink(),
        })),
        Err(_) => {
            let path = match bytes.strip_suffix(DELETED).and_then(normalise_abs) {
                Some(stripped) => stripped,
                None => norm,
            };
            Ok(Resolution::Path(Resolved {
                path: PathBuf::from(os(&path)),
                exists: false,
                is_symlink: false,
            }))
        }
    }
}

/// The input as the kernel's `getname` sees it: up to the first NUL.
fn cut_at_nul(path: &[u8]) -> &[u8] {
    match path.iter().position(|&b| b == 0) {
        Some(n) => path.get(..n).unwrap_or(path),
        None => path,
    }
}

fn os(b: &[u8]) -> &OsStr {
    OsStr::from_bytes(b)
}

/// Lexically normalises an absolute path (`//`, `.`, `..`, trailing `/`);
/// `None` if it is not absolute. Only for texts that name directories
/// without symlinks (cwd, root, d_path of a magic link).
fn normalise_abs(p: &[u8]) -> Option<Vec<u8>> {
    if p.first() != Some(&b'/') {
        return None;
    }
    let mut out = b"/".to_vec();
    for comp in p.split(|&b| b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => pop(&mut out),
            name => push(&mut out, name),
        }
    }
    Some(out)
}

/// Appends a name to a normalised absolute path.
fn push(path: &mut Vec<u8>, name: &[u8]) {
    if path.len() > 1 {
        path.push(b'/');
    }
    path.extend_from_slice(name);
}

/// Goes to the parent of a normalised absolute path (`/` stays).
fn pop(path: &mut Vec<u8>) {
    let cut = path.iter().rposition(|&b| b == b'/').unwrap_or(0);
    path.truncate(cut.max(1));
    if path.is_empty() {
        path.push(b'/');
    }
}

fn joined(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    push(&mut p, name);
    p
}

/// The descriptor's target, with closed descriptors as `EBADF`.
fn fd_target(view: &dyn ProcessView, fd: i32) -> Result<FdTarget, ResolveError> {
    if fd < 0 {
        return Err(ResolveError::BadFd);
    }
    view.fd_path(fd).map_err(|e| match e.raw_os_error() {
        Some(libc::EBADF) | Some(libc::ENOENT) => ResolveError::BadFd,
        _ if e.kind() == io::ErrorKind::NotFound => ResolveError::BadFd,
        _ => ResolveError::Io(e),
    })
}

/// A directory the walk stands in.
#[derive(Debug, Clone)]
struct Dir {
    /// Normalised absolute path.
    path: Vec<u8>,
    /// It was deleted: names below it do not exist (`ENOENT`).
    dead: bool,
}

/// The starting directory of a relative path: the cwd or the dirfd's.
fn start_dir(view: &dyn ProcessView, dirfd: Option<i32>) -> Result<Dir, ResolveError> {
    let text = match dirfd {
        None => view.cwd().map_err(ResolveError::Io)?,
        Some(AT_FDCWD) => view.cwd().map_err(ResolveError::Io)?,
        Some(fd) => match fd_target(view, fd)? {
            FdTarget::Path(p) => p,
            FdTarget::Anon(_) => return Err(ResolveError::NotDir),
        },
    };
    let bytes = text.as_os_str().as_bytes();
    let norm = normalise_abs(bytes)
        .ok_or_else(|| ResolveError::denied("start directory is not an absolute path".into()))?;
    match fs::symlink_metadata(os(&norm)) {
        Ok(m) if m.is_dir() => Ok(Dir {
            path: norm,
            dead: false,
        }),
        Ok(_) => Err(ResolveError::NotDir),
        Err(e) => match bytes.strip_suffix(DELETED).and_then(normalise_abs) {
            Some(stripped) => Ok(Dir {
                path: stripped,
                dead: true,
            }),
            None => Err(ResolveError::from_io(e)),
        },
    }
}

/// One string being walked: the input path or a symlink body. `pos` always
/// stands on the start of the next component or at the end, so every
/// operation is O(1) per byte walked.
#[derive(Debug)]
struct Seg {
    buf: Vec<u8>,
    pos: usize,
}

impl Seg {
    fn new(buf: Vec<u8>) -> Self {
        let mut seg = Seg { buf, pos: 0 };
        seg.skip_slashes();
        seg
    }

    fn skip_slashes(&mut self) {
        while self.buf.get(self.pos) == Some(&b'/') {
            self.pos = self.pos.saturating_add(1);
        }
    }

    /// More components left?
    fn has_more(&self) -> bool {
        self.pos < self.buf.len()
    }

    /// The next component and whether a `/` follows it.
    fn next_comp(&mut self) -> (Vec<u8>, bool) {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        let len = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
        let comp = rest.get(..len).unwrap_or_default().to_vec();
        let slash = rest.get(len) == Some(&b'/');
        self.pos = self.pos.saturating_add(len);
        self.skip_slashes();
        (comp, slash)
    }
}

/// The state of one resolution.
struct Walk<'a> {
    view: &'a dyn ProcessView,
    root: Vec<u8>,
    cur: Dir,
    links: u32,
    /// Sticky `LOOKUP_DIRECTORY`: a trailing slash was seen on the last name.
    dir_required: bool,
    follow_last: bool,
    /// Devices of the procfs mounts, read on first need.
    procfs: Option<Vec<u64>>,
    /// Strings left to walk; every one below the top has a component left.
    stack: Vec<Seg>,
}

impl Walk<'_> {
    fn run(&mut self) -> Result<Resolution, ResolveError> {
        loop {
            while self.stack.last().is_some_and(|s| !s.has_more()) {
                self.stack.pop();
            }
            let Some(top) = self.stack.last_mut() else {
                return Ok(self.finish_here());
            };
            let (comp, slash) = top.next_comp();
            let is_last = !top.has_more() && self.stack.len() == 1;
            if is_last && slash {
                self.dir_required = true;
            }
            match comp.as_slice() {
                b"." => {}
                b".." => {
                    if self.cur.path != self.root {
                        pop(&mut self.cur.path);
                    }
                    self.cur.dead = false;
                }
                name => {
                    if let Some(done) = self.step(name, is_last)? {
                        return Ok(done);
                    }
                }
            }
        }
    }

    /// The result when the walk ends on the current directory (`/`, `.`,
    /// `..` or a followed link ending in one of those).
    fn finish_here(&self) -> Resolution {
        Resolution::Path(Resolved {
            path: PathBuf::from(os(&self.cur.path)),
            exists: !self.cur.dead,
            is_symlink: false,
        })
    }

    /// Looks up one name; `Some` when the walk is over.
    fn step(&mut self, name: &[u8], is_last: bool) -> Result<Option<Resolution>, ResolveError> {
        if self.cur.dead {
            return Err(ResolveError::NotFound);
        }
        if name.len() > NAME_MAX {
            return Err(ResolveError::TooLong);
        }
        let child = joined(&self.cur.path, name);
        if child.len() >= PATH_MAX {
            return Err(ResolveError::TooLong);
        }
        let meta = match fs::symlink_metadata(os(&child)) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound && is_last => {
                return Ok(Some(Resolution::Path(Resolved {
                    path: PathBuf::from(os(&child)),
                    exists: false,
                    is_symlink: false,
                })));
            }
            Err(e) => return Err(ResolveError::from_io(e)),
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            let follow = !is_last || self.follow_last || self.dir_required;
            if !follow {
                return Ok(Some(Resolution::Path(Resolved {
                    path: PathBuf::from(os(&child)),
                    exists: true,
                    is_symlink: true,
                })));
            }
            if self.links >= MAXSYMLINKS {
                return Err(ResolveError::Loop);
            }
            self.links = self.links.saturating_add(1);
            return self.follow(name, &child, &meta, is_last);
        }
        if ft.is_dir() {
            self.cur = Dir {
                path: child,
                dead: false,
            };
            return Ok(if is_last {
                Some(self.finish_here())
            } else {
                None
            });
        }
        if !is_last || self.dir_required {
            return Err(ResolveError::NotDir);
        }
        Ok(Some(Resolution::Path(Resolved {
            path: PathBuf::from(os(&child)),
            exists: true,
            is_symlink: false,
        })))
    }

    /// Follows the symlink `child` (named `name` in the current directory).
    fn follow(
        &mut self,
        name: &[u8],
        child: &[u8],
        meta: &Metadata,
        is_last: bool,
    ) -> Result<Option<Resolution>, ResolveError> {
        if self.is_procfs(meta.dev())? {
            if self.cur_is_procfs_root(meta.dev())? {
                let body = match name {
                    b"self" => Some(self.view.tgid().to_string().into_bytes()),
                    b"thread-self" => {
                        Some(format!("{}/task/{}", self.view.tgid(), self.view.pid()).into_bytes())
                    }
                    _ => None,
                };
                if let Some(body) = body {
                    self.push_body(body);
                    return Ok(None);
                }
                // /proc/mounts -> self/mounts, /proc/net -> self/net: ordinary.
            } else {
                return self.magic(child, is_last);
            }
        }
        let body = fs::read_link(os(child)).map_err(ResolveError::from_io)?;
        let body = body.as_os_str().as_bytes();
        if body.is_empty() {
            return Err(ResolveError::NotFound);
        }
        if body.len() >= PATH_MAX {
            return Err(ResolveError::TooLong);
        }
        if body.first() == Some(&b'/') {
            self.cur = Dir {
                path: self.root.clone(),
                dead: false,
            };
        }
        self.push_body(body.to_vec());
        Ok(None)
    }

    /// Continues the walk with a link body before the rest of the path.
    fn push_body(&mut self, body: Vec<u8>) {
        while self.stack.last().is_some_and(|s| !s.has_more()) {
            self.stack.pop();
        }
        self.stack.push(Seg::new(body));
    }

    /// Follows a procfs magic link: the kernel jumps to the object itself.
    fn magic(&mut self, child: &[u8], is_last: bool) -> Result<Option<Resolution>, ResolveError> {
        let text = fs::read_link(os(child)).map_err(ResolveError::from_io)?;
        let text = text.as_os_str().as_bytes();
        if text.first() != Some(&b'/') {
            let first = text.split(|&b| b == b'/').next().unwrap_or_default();
            if first.contains(&b':') {
                if is_last && !self.dir_required {
                    return Ok(Some(Resolution::Anon(
                        String::from_utf8_lossy(text).into_owned(),
                    )));
                }
                return Err(ResolveError::NotDir);
            }
            return Err(ResolveError::denied(format!(
                "unknown procfs link {} -> {}",
                String::from_utf8_lossy(child),
                String::from_utf8_lossy(text)
            )));
        }
        // The object, reached through the link in the tracer: the same one
        // the kernel reaches for the tracee.
        let object = fs::metadata(os(child)).map_err(ResolveError::from_io)?;
        let same = |p: &[u8]| {
            fs::symlink_metadata(os(p))
                .is_ok_and(|m| m.dev() == object.dev() && m.ino() == object.ino())
        };
        let (path, dead) = match normalise_abs(text) {
            Some(p) if same(&p) => (p, false),
            _ => match text.strip_suffix(DELETED).and_then(normalise_abs) {
                Some(p) => (p, true),
                None => {
                    return Err(ResolveError::denied(format!(
                        "{} -> {}: the object is not reachable by that path",
                        String::from_utf8_lossy(child),
                        String::from_utf8_lossy(text)
                    )))
                }
            },
        };
        let is_dir = object.is_dir();
        if is_last {
            if self.dir_required && !is_dir {
                return Err(ResolveError::NotDir);
            }
            return Ok(Some(Resolution::Path(Resolved {
                path: PathBuf::from(os(&path)),
                exists: !dead,
                is_symlink: object.file_type().is_symlink(),
            })));
        }
        if !is_dir {
            return Err(ResolveError::NotDir);
        }
        self.cur = Dir { path, dead };
        Ok(None)
    }

    /// Is `dev` a procfs mount? Reads the tracer's mountinfo once per walk,
    /// and only for anonymous devices (procfs never has a block device).
    fn is_procfs(&mut self, dev: u64) -> Result<bool, ResolveError> {
        if dev_major(dev) != 0 {
            return Ok(false);
        }
        if self.procfs.is_none() {
            let text = fs::read_to_string("/proc/self/mountinfo").map_err(ResolveError::Io)?;
            self.procfs = Some(procfs_devs(&text));
        }
        Ok(self.procfs.as_ref().is_some_and(|d| d.contains(&dev)))
    }

    /// Is the current directory the root of the procfs on `dev`?
    fn cur_is_procfs_root(&self, dev: u64) -> Result<bool, ResolveError> {
        let m = fs::symlink_metadata(os(&self.cur.path)).map_err(ResolveError::from_io)?;
        Ok(m.dev() == dev && m.ino() == PROC_ROOT_INO)
    }
}

/// Major number of a `dev_t` (glibc's encoding, as std's `st_dev`).
fn dev_major(dev: u64) -> u64 {
    ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff)
}

/// Encodes a major/minor pair like glibc's `makedev`.
fn make_dev(major: u64, minor: u64) -> u64 {
    ((major & 0xffff_f000) << 32)
        | ((major & 0xfff) << 8)
        | ((minor & 0xffff_ff00) << 12)
        | (minor & 0xff)
}

/// The devices of all `proc` mounts in a mountinfo text.
fn procfs_devs(mountinfo: &str) -> Vec<u64> {
    let mut devs = Vec::new();
    for line in mountinfo.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(sep) = fields.iter().skip(6).position(|f| *f == "-") else {
            continue;
        };
        if fields.get(sep.saturating_add(7)) != Some(&"proc") {
            continue;
        }
        let Some((maj, min)) = fields.get(2).and_then(|d| d.split_once(':')) else {
            continue;
        };
        if let (Ok(maj), Ok(min)) = (maj.parse::<u64>(), min.parse::<u64>()) {
            devs.push(make_dev(maj, min));
        }
    }
    devs
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::ffi::OsString;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::symlink;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A process as the tests make it up.
    #[derive(Debug)]
    struct FakeView {
        pid: i32,
        tgid: i32,
        cwd: PathBuf,
        root: PathBuf,
        fds: HashMap<i32, FdTarget>,
    }

    impl ProcessView for FakeView {
        fn pid(&self) -> i32 {
            self.pid
        }
        fn tgid(&self) -> i32 {
            self.tgid
        }
        fn cwd(&self) -> io::Result<PathBuf> {
            Ok(self.cwd.clone())
        }
        fn fd_path(&self, fd: i32) -> io::Result<FdTarget> {
            self.fds
                .get(&fd)
                .cloned()
                .ok_or_else(|| io::Error::from_raw_os_error(libc::EBADF))
        }
        fn root(&self) -> io::Result<PathBuf> {
            Ok(self.root.clone())
        }
    }

    /// A temporary directory tree, removed on drop.
    struct Tree {
        base: PathBuf,
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.base);
        }
    }

    static COUNTER: AtomicU32 = AtomicU32::new(0);

    fn cat(a: &Path, b: &str) -> PathBuf {
        let mut s = OsString::from(a);
        s.push("/");
        s.push(b);
        PathBuf::from(s)
    }

    /// base/ d/ d/sub/ d/f f, and links of every kind.
    fn tree(tag: &str) -> Tree {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let raw =
            std::env::temp_dir().join(format!("ujail-resolve-{}-{tag}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&raw);
        fs::create_dir_all(&raw).expect("create temp tree");
        let base = fs::canonicalize(&raw).expect("canonicalize temp tree");
        let t = Tree { base };
        let b = &t.base;
        fs::create_dir_all(b.join("d/sub")).expect("mkdir");
        fs::write(b.join("f"), b"f").expect("write");
        fs::write(b.join("d/f"), b"df").expect("write");
        let links: &[(&str, String)] = &[
            ("l_d", "d".into()),
            ("l_abs", b.join("d").display().to_string()),
            ("l_sub_abs", b.join("d/sub").display().to_string()),
            ("l_f", "f".into()),
            ("l_dangle", "nowhere".into()),
            ("l_dangle_deep", "nodir/x".into()),
            ("l_dangle_abs", b.join("d/newfile").display().to_string()),
            ("d/up", "..".into()),
            ("d/l_sub", "sub".into()),
            ("d/rel_to_f", "../f".into()),
            ("d/abs_f", "/f".into()),
            ("loop1", "loop2".into()),
            ("loop2", "loop1".into()),
            ("self_loop", "self_loop".into()),
            ("l_dir_slash", "d/".into()),
            ("l_file_slash", "f/".into()),
            ("l_dot", ".".into()),
            ("l_dotdot", "..".into()),
            ("l_root", "/".into()),
            ("l_l_d", "l_d".into()),
        ];
        for (name, target) in links {
            symlink(target, b.join(name)).expect("symlink");
        }
        // c0 -> c1 -> ... -> c40 -> f: c1 takes 40 links, c0 takes 41.
        for i in 0..=40 {
            let target = if i == 40 {
                "f".to_string()
            } else {
                format!("c{}", i + 1)
            };
            symlink(target, b.join(format!("c{i}"))).expect("symlink chain");
        }
        t
    }

    fn view(cwd: &Path) -> FakeView {
        FakeView {
            pid: 4243,
            tgid: 4242,
            cwd: cwd.to_path_buf(),
            root: PathBuf::from("/"),
            fds: HashMap::new(),
        }
    }

    fn res(
        v: &dyn ProcessView,
        dirfd: Option<i32>,
        p: &str,
        follow: bool,
    ) -> Result<Resolution, ResolveError> {
        resolve(v, dirfd, p.as_bytes(), follow)
    }

    #[track_caller]
    fn path_of(r: Result<Resolution, ResolveError>) -> Resolved {
        match r {
            Ok(Resolution::Path(p)) => p,
            other => panic!("expected a path, got {other:?}"),
        }
    }

    #[track_caller]
    fn errno_of(r: Result<Resolution, ResolveError>) -> i32 {
        match r {
            Err(e) => e.errno(),
            Ok(o) => panic!("expected an error, got {o:?}"),
        }
    }

    #[track_caller]
    fn is(r: Result<Resolution, ResolveError>, path: &Path, exists: bool, is_symlink: bool) {
        let got = path_of(r);
        assert_eq!(
            got,
            Resolved {
                path: path.to_path_buf(),
                exists,
                is_symlink
            }
        );
    }

    /// Compares our resolution of `rel` (relative to the fake cwd `base`, or
    /// absolute) with what the kernel says for the same absolute path:
    /// stat/lstat errno, and realpath for existing objects.
    #[track_caller]
    fn cross_check(base: &Path, rel: &[u8]) {
        cross_check_as(&view(base), base, rel);
    }

    /// [`cross_check`] for the process `v` (the test process itself when
    /// the path goes through /proc).
    #[track_caller]
    fn cross_check_as(v: &FakeView, base: &Path, rel: &[u8]) {
        let abs: Vec<u8> = if rel.first() == Some(&b'/') {
            rel.to_vec()
        } else {
            let mut a = base.as_os_str().as_bytes().to_vec();
            a.push(b'/');
            a.extend_from_slice(rel);
            a
        };
        let abs_p = Path::new(os(&abs));
        let shown = String::from_utf8_lossy(rel);
        for follow in [true, false] {
            let ours = resolve(v, None, rel, follow);
            let ours_abs = resolve(v, None, &abs, follow);
            let kernel = if follow {
                fs::metadata(abs_p)
            } else {
                fs::symlink_metadata(abs_p)
            };
            match (&ours, &kernel) {
                (Ok(Resolution::Path(r)), Ok(m)) => {
                    assert!(
                        r.exists,
                        "{shown:?} follow={follow}: kernel finds it, we say missing"
                    );
                    assert_eq!(
                        r.is_symlink,
                        m.file_type().is_symlink(),
                        "{shown:?} follow={follow}"
                    );
                    if !r.is_symlink {
                        let real = fs::canonicalize(abs_p).expect("realpath of an existing path");
                        assert_eq!(r.path, real, "{shown:?} follow={follow}: realpath differs");
                    }
                }
                (Ok(Resolution::Path(r)), Err(e)) => {
                    assert_eq!(
                        e.raw_os_error(),
                        Some(libc::ENOENT),
                        "{shown:?} follow={follow}: {r:?}"
                    );
                    assert!(
                        !r.exists,
                        "{shown:?} follow={follow}: kernel ENOENT, we say exists"
                    );
                }
                (Err(x), Err(e)) => {
                    assert_eq!(
                        Some(x.errno()),
                        e.raw_os_error(),
                        "{shown:?} follow={follow}: {x} vs {e}"
                    );
                }
                (Ok(Resolution::Anon(a)), Ok(_)) => {
                    // An object without a path: realpath cannot name it.
                    assert!(
                        fs::canonicalize(abs_p).is_err(),
                        "{shown:?}: {a} has a path"
                    );
                }
                (o, k) => panic!("{shown:?} follow={follow}: ours {o:?}, kernel {k:?}"),
            }
            // The same path made absolute resolves the same (when it fits).
            if abs.len() < PATH_MAX {
                match (&ours, &ours_abs) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b, "{shown:?} relative vs absolute"),
                    (Err(a), Err(b)) => {
                        assert_eq!(a.errno(), b.errno(), "{shown:?} relative vs absolute")
                    }
                    (a, b) => panic!("{shown:?}: relative {a:?}, absolute {b:?}"),
                }
            }
        }
    }

    const TRICKY: &[&str] = &[
        ".",
        "..",
        "./",
        ".//",
        "../",
        "d",
        "d/",
        "d//sub///",
        "d/./sub/.",
        "d/sub/..",
        "d/sub/../..",
        "d/sub/../../f",
        "f",
        "f/",
        "f/.",
        "f/..",
        "f/x",
        "l_f",
        "l_f/",
        "l_f/.",
        "l_d",
        "l_d/",
        "l_d/.",
        "l_d/..",
        "l_d/sub",
        "l_d/f",
        "l_l_d/sub/..",
        "l_abs/sub",
        "l_sub_abs/..",
        "l_sub_abs/../f",
        "d/up/f",
        "d/up/d/up/l_d/sub/..",
        "d/l_sub/../f",
        "d/rel_to_f",
        "d/rel_to_f/",
        "l_dir_slash",
        "l_dir_slash/sub",
        "l_dir_slash/",
        "l_file_slash",
        "l_file_slash/",
        "l_dot",
        "l_dot/f",
        "l_dot/l_dot/l_dot/f",
        "l_dotdot",
        "l_dotdot/",
        "l_root",
        "l_root/..",
        "nope",
        "nope/",
        "nope/x",
        "nope/..",
        "d/nope",
        "d/nope/",
        "l_dangle",
        "l_dangle/",
        "l_dangle/x",
        "l_dangle/..",
        "l_dangle_deep",
        "l_dangle_deep/x",
        "l_dangle_abs",
        "loop1",
        "loop1/",
        "loop1/x",
        "self_loop",
        "self_loop/",
        "c0",
        "c1",
        "c1/",
        "c0/x",
        "c1/x",
        "c2/.",
        "/",
        "//",
        "///.",
        "/..",
        "/../..",
        "d/../l_d/../d/sub/../../f",
    ];

    #[test]
    fn tricky_paths_match_the_kernel() {
        let t = tree("tricky");
        for p in TRICKY {
            cross_check(&t.base, p.as_bytes());
        }
        // Name length: 255 is a plain miss, 256 is ENAMETOOLONG, checked
        // only when that name is looked up.
        let a255 = "a".repeat(255);
        let a256 = "a".repeat(256);
        for p in [
            format!("d/{a255}"),
            format!("d/{a256}"),
            format!("{a256}/x"),
            format!("nope/{a256}"),
            format!("f/{a256}"),
        ] {
            cross_check(&t.base, p.as_bytes());
        }
    }

    #[test]
    fn dotdot_after_a_symlink_goes_to_the_targets_parent() {
        let t = tree("dotdot");
        let v = view(&t.base);
        // Textually l_sub_abs/../f would be base/f; the kernel reaches d/f.
        is(
            res(&v, None, "l_sub_abs/../f", true),
            &t.base.join("d/f"),
            true,
            false,
        );
        is(
            res(&v, None, "d/up/d/f", true),
            &t.base.join("d/f"),
            true,
            false,
        );
        is(
            res(&v, None, "l_dotdot", true),
            t.base.parent().expect("parent"),
            true,
            false,
        );
        is(res(&v, None, "/..", true), Path::new("/"), true, false);
        is(
            res(&v, None, "l_root/../..", true),
            Path::new("/"),
            true,
            false,
        );
    }

    #[test]
    fn symlinks_last_component_and_dangling() {
        let t = tree("links");
        let v = view(&t.base);
        is(res(&v, None, "l_f", true), &t.base.join("f"), true, false);
        is(res(&v, None, "l_f", false), &t.base.join("l_f"), true, true);
        is(res(&v, None, "l_l_d", true), &t.base.join("d"), true, false);
        // Dangling: not followed -> the link; followed -> the missing target.
        is(
            res(&v, None, "l_dangle", false),
            &t.base.join("l_dangle"),
            true,
            true,
        );
        is(
            res(&v, None, "l_dangle", true),
            &t.base.join("nowhere"),
            false,
            false,
        );
        is(
            res(&v, None, "l_dangle_abs", true),
            &t.base.join("d/newfile"),
            false,
            false,
        );
        assert_eq!(errno_of(res(&v, None, "l_dangle_deep", true)), libc::ENOENT);
        // Trailing slash follows even without follow_last and needs a dir.
        is(res(&v, None, "l_d/", false), &t.base.join("d"), true, false);
        assert_eq!(errno_of(res(&v, None, "l_f/", false)), libc::ENOTDIR);
        assert_eq!(errno_of(res(&v, None, "f/", false)), libc::ENOTDIR);
        assert_eq!(errno_of(res(&v, None, "l_file_slash", true)), libc::ENOTDIR);
        is(
            res(&v, None, "l_file_slash", false),
            &t.base.join("l_file_slash"),
            true,
            true,
        );
        is(
            res(&v, None, "l_dangle/", false),
            &t.base.join("nowhere"),
            false,
            false,
        );
        is(
            res(&v, None, "newdir/", false),
            &t.base.join("newdir"),
            false,
            false,
        );
        // Missing middle vs missing last.
        assert_eq!(errno_of(res(&v, None, "nope/x", true)), libc::ENOENT);
        is(
            res(&v, None, "d/nope", true),
            &t.base.join("d/nope"),
            false,
            false,
        );
        assert_eq!(errno_of(res(&v, None, "f/x", true)), libc::ENOTDIR);
        // Loops and the 40-link limit.
        assert_eq!(errno_of(res(&v, None, "loop1", true)), libc::ELOOP);
        is(
            res(&v, None, "loop1", false),
            &t.base.join("loop1"),
            true,
            true,
        );
        assert_eq!(errno_of(res(&v, None, "loop1/", false)), libc::ELOOP);
        is(res(&v, None, "c1", true), &t.base.join("f"), true, false);
        assert_eq!(errno_of(res(&v, None, "c0", true)), libc::ELOOP);
        is(res(&v, None, "c0", false), &t.base.join("c0"), true, true);
        // Absolute targets restart at the root.
        is(
            res(&v, None, "l_abs/sub/..", true),
            &t.base.join("d"),
            true,
            false,
        );
    }

    #[test]
    fn input_limits() {
        let t = tree("limits");
        let v = view(&t.base);
        assert_eq!(errno_of(res(&v, None, "", true)), libc::ENOENT);
        // The kernel reads a C string: the path ends at the first NUL.
        is(
            resolve(&v, None, b"f\0/garbage", true),
            &t.base.join("f"),
            true,
            false,
        );
        assert_eq!(errno_of(resolve(&v, None, b"\0f", true)), libc::ENOENT);
        // Absolute paths of exactly 4095 and 4096 bytes.
        let mut p = t.base.as_os_str().as_bytes().to_vec();
        while p.len() < PATH_MAX - 5 {
            p.extend_from_slice(b"/.");
        }
        while p.len() < PATH_MAX - 3 {
            p.push(b'/');
        }
        p.extend_from_slice(b"/f");
        assert_eq!(p.len(), PATH_MAX - 1);
        is(resolve(&v, None, &p, true), &t.base.join("f"), true, false);
        assert!(fs::metadata(os(&p)).is_ok(), "the kernel takes 4095 bytes");
        p.insert(0, b'/');
        assert_eq!(errno_of(resolve(&v, None, &p, true)), libc::ENAMETOOLONG);
        let k = fs::metadata(os(&p)).expect_err("the kernel refuses 4096 bytes");
        assert_eq!(k.raw_os_error(), Some(libc::ENAMETOOLONG));
        // Relative: the limit is on the input, not on cwd + input.
        let mut rel = Vec::new();
        while rel.len() < PATH_MAX - 2 {
            rel.extend_from_slice(b"./");
        }
        rel.push(b'f');
        assert_eq!(rel.len(), PATH_MAX - 1);
        is(
            resolve(&v, None, &rel, true),
            &t.base.join("f"),
            true,
            false,
        );
        rel.insert(0, b'.');
        rel.insert(1, b'/');
        assert_eq!(errno_of(resolve(&v, None, &rel, true)), libc::ENAMETOOLONG);
        // A resolved path of PATH_MAX bytes or more fails closed (the
        // kernel, walking by dentry, would say ENOENT here).
        let mut deep = t.base.clone();
        let seg = "x".repeat(200);
        while deep.as_os_str().len() < PATH_MAX - 300 {
            deep.push(&seg);
        }
        fs::create_dir_all(&deep).expect("deep tree");
        let v = view(&deep);
        let y = "y".repeat(255);
        assert_eq!(errno_of(res(&v, None, &y, false)), libc::ENAMETOOLONG);
        is(res(&v, None, "f", false), &deep.join("f"), false, false);
        assert!(path_of(res(&v, None, "..", false)).exists);
    }

    #[test]
    fn dirfds_and_resolve_fd() {
        let t = tree("dirfd");
        let b = &t.base;
        let mut v = view(b);
        v.fds.insert(3, FdTarget::Path(b.join("d")));
        v.fds.insert(4, FdTarget::Anon("pipe:[123]".into()));
        v.fds.insert(5, FdTarget::Path(b.join("f")));
        v.fds.insert(6, FdTarget::Path(cat(b, "gone (deleted)")));
        v.fds.insert(7, FdTarget::Path(b.join("l_f")));
        v.fds.insert(8, FdTarget::Path(PathBuf::from("relative")));
        is(res(&v, Some(3), "sub", true), &b.join("d/sub"), true, false);
        is(res(&v, Some(3), "../f", true), &b.join("f"), true, false);
        is(res(&v, Some(3), "up/l_d", true), &b.join("d"), true, false);
        is(
            res(&v, Some(AT_FDCWD), "f", true),
            &b.join("f"),
            true,
            false,
        );
        is(res(&v, None, "d/f", true), &b.join("d/f"), true, false);
        assert_eq!(errno_of(res(&v, Some(4), "x", true)), libc::ENOTDIR);
        assert_eq!(errno_of(res(&v, Some(5), "x", true)), libc::ENOTDIR);
        assert_eq!(errno_of(res(&v, Some(99), "x", true)), libc::EBADF);
        assert_eq!(errno_of(res(&v, Some(-5), "x", true)), libc::EBADF);
        assert_eq!(errno_of(res(&v, Some(8), "x", true)), libc::EACCES);
        // An absolute path ignores the dirfd, even a bad one.
        is(
            res(&v, Some(99), &b.join("f").display().to_string(), true),
            &b.join("f"),
            true,
            false,
        );
        // A deleted directory: nothing below it, "." is it, ".." its parent.
        assert_eq!(errno_of(res(&v, Some(6), "x", true)), libc::ENOENT);
        is(res(&v, Some(6), ".", true), &b.join("gone"), false, false);
        is(res(&v, Some(6), "..", true), b, true, false);
        // AT_EMPTY_PATH.
        assert_eq!(
            resolve_fd(&v, 4).expect("anon"),
            Resolution::Anon("pipe:[123]".into())
        );
        is(resolve_fd(&v, 3), &b.join("d"), true, false);
        is(resolve_fd(&v, AT_FDCWD), b, true, false);
        is(resolve_fd(&v, 6), &b.join("gone"), false, false);
        is(resolve_fd(&v, 7), &b.join("l_f"), true, true);
        assert_eq!(errno_of(resolve_fd(&v, 99)), libc::EBADF);
        assert_eq!(errno_of(resolve_fd(&v, -1)), libc::EBADF);
        // A deleted cwd.
        let v = view(&cat(b, "gone (deleted)"));
        assert_eq!(errno_of(res(&v, None, "x", true)), libc::ENOENT);
        is(res(&v, None, ".", true), &b.join("gone"), false, false);
        is(res(&v, None, "../f", true), &b.join("f"), true, false);
        is(res(&v, None, "/", true), Path::new("/"), true, false);
    }

    #[test]
    fn chrooted_process_resolves_inside_its_root() {
        let t = tree("chroot");
        let b = &t.base;
        let mut v = view(&b.join("d/sub"));
        v.root = b.join("d");
        is(res(&v, None, "/f", true), &b.join("d/f"), true, false);
        is(res(&v, None, "/..", true), &b.join("d"), true, false);
        is(res(&v, None, "/../../f", true), &b.join("d/f"), true, false);
        is(
            res(&v, None, "../../../f", true),
            &b.join("d/f"),
            true,
            false,
        );
        // d/abs_f -> "/f": the tracee's /f is base/d/f.
        is(res(&v, None, "/abs_f", true), &b.join("d/f"), true, false);
        // d/up -> "..": at the root ".." stays.
        is(res(&v, None, "/up/up/f", true), &b.join("d/f"), true, false);
    }

    /// The calling thread's id, from /proc/thread-self.
    fn my_tid() -> i32 {
        let text = fs::read_link("/proc/thread-self").expect("readlink /proc/thread-self");
        let text = text.to_string_lossy().into_owned();
        text.rsplit('/')
            .next()
            .and_then(|s| s.parse().ok())
            .expect("tid")
    }

    fn me(cwd: &Path) -> FakeView {
        let mut v = view(cwd);
        v.tgid = i32::try_from(std::process::id()).expect("pid fits");
        v.pid = my_tid();
        v
    }

    #[test]
    fn proc_self_and_magic_links() {
        let t = tree("proc");
        let b = &t.base;
        let v = me(b);
        let tgid = v.tgid;
        let tid = v.pid;
        let file = fs::File::open(b.join("d/f")).expect("open d/f");
        let dir = fs::File::open(b.join("d")).expect("open d");
        let (rd, _wr) = std::io::pipe().expect("pipe");
        let (ffd, dfd, pfd) = (file.as_raw_fd(), dir.as_raw_fd(), rd.as_raw_fd());
        let procme = PathBuf::from(format!("/proc/{tgid}"));

        is(
            res(&v, None, "/proc/self", false),
            Path::new("/proc/self"),
            true,
            true,
        );
        is(res(&v, None, "/proc/self", true), &procme, true, false);
        is(
            res(&v, None, "/proc/thread-self", true),
            &procme.join(format!("task/{tid}")),
            true,
            false,
        );
        is(
            res(&v, None, &format!("/proc/self/fd/{ffd}"), true),
            &b.join("d/f"),
            true,
            false,
        );
        is(
            res(&v, None, &format!("/proc/self/fd/{ffd}"), false),
            &procme.join(format!("fd/{ffd}")),
            true,
            true,
        );
        is(
            res(&v, None, &format!("/proc/thread-self/fd/{ffd}"), true),
            &b.join("d/f"),
            true,
            false,
        );
        is(
            res(&v, None, &format!("/proc/{tgid}/task/{tid}/fd/{ffd}"), true),
            &b.join("d/f"),
            true,
            false,
        );
        is(
            res(&v, None, &format!("/proc/self/fd/{dfd}/sub"), true),
            &b.join("d/sub"),
            true,
            false,
        );
        is(
            res(&v, None, &format!("/proc/self/fd/{dfd}/.."), true),
            b,
            true,
            false,
        );
        is(
            res(&v, None, &format!("/proc/self/fd/{dfd}/new"), true),
            &b.join("d/new"),
            false,
            false,
        );
        assert_eq!(
            errno_of(res(&v, None, &format!("/proc/self/fd/{ffd}/"), true)),
            libc::ENOTDIR
        );
        assert_eq!(
            errno_of(res(&v, None, &format!("/proc/self/fd/{ffd}/x"), true)),
            libc::ENOTDIR
        );
        match res(&v, None, &format!("/proc/self/fd/{pfd}"), true).expect("pipe") {
            Resolution::Anon(a) => assert!(a.starts_with("pipe:["), "{a}"),
            other => panic!("pipe resolved to {other:?}"),
        }
        assert_eq!(
            errno_of(res(&v, None, &format!("/proc/self/fd/{pfd}/x"), true)),
            libc::ENOTDIR
        );
        match res(&v, None, "/proc/self/ns/net", true).expect("ns") {
            Resolution::Anon(a) => assert!(a.starts_with("net:["), "{a}"),
            other => panic!("ns resolved to {other:?}"),
        }
        assert_eq!(
            errno_of(res(&v, None, "/proc/self/fd/99999/x", true)),
            libc::ENOENT
        );
        is(
            res(&v, None, "/proc/self/fd/99999", true),
            &procme.join("fd/99999"),
            false,
            false,
        );
        let cwd = fs::canonicalize(std::env::current_dir().expect("cwd")).expect("canonical cwd");
        is(res(&v, None, "/proc/self/cwd", true), &cwd, true, false);
        is(
            res(&v, None, "/proc/self/cwd/..", true),
            cwd.parent().unwrap_or(&cwd),
            true,
            false,
        );
        let exe = fs::canonicalize(std::env::current_exe().expect("exe")).expect("canonical exe");
        is(res(&v, None, "/proc/self/exe", true), &exe, true, false);
        is(
            res(&v, None, "/proc/self/root", true),
            Path::new("/"),
            true,
            false,
        );
        is(
            res(
                &v,
                None,
                &format!("/proc/self/root{}", b.join("f").display()),
                true,
            ),
            &b.join("f"),
            true,
            false,
        );
        is(
            res(&v, None, "/proc/mounts", true),
            &procme.join("mounts"),
            true,
            false,
        );
        is(
            res(&v, Some(AT_FDCWD), "../../proc/self/fd/..", true),
            &procme,
            true,
            false,
        );
        // The kernel agrees (this test process is the process of the view).
        for p in [
            "/proc/self".to_string(),
            "/proc/thread-self/fd".to_string(),
            format!("/proc/self/fd/{ffd}"),
            format!("/proc/self/fd/{dfd}/sub/.."),
            "/proc/self/cwd".into(),
            "/proc/self/root/proc/self/exe".into(),
            "/proc/mounts".into(),
        ] {
            let ours = path_of(res(&v, None, &p, true));
            assert_eq!(ours.path, fs::canonicalize(&p).expect("realpath"), "{p}");
        }
        // A process that is gone.
        let mut gone = view(b);
        gone.tgid = i32::MAX - 7;
        assert_eq!(
            errno_of(res(&gone, None, "/proc/self/fd/0", true)),
            libc::ENOENT
        );
        is(
            res(&gone, None, "/proc/self", true),
            Path::new(&format!("/proc/{}", i32::MAX - 7)),
            false,
            false,
        );
    }

    #[test]
    fn deleted_targets_of_magic_links() {
        let t = tree("deleted");
        let b = &t.base;
        let v = me(b);
        let del = b.join("del");
        fs::write(&del, b"x").expect("write del");
        let f = fs::File::open(&del).expect("open del");
        fs::remove_file(&del).expect("unlink del");
        let p = format!("/proc/self/fd/{}", f.as_raw_fd());
        is(res(&v, None, &p, true), &del, false, false);
        // A new file under the old name is not the object.
        fs::write(&del, b"y").expect("recreate del");
        is(res(&v, None, &p, true), &del, false, false);
        // A live file whose name really ends in " (deleted)".
        let keep = cat(b, "keep (deleted)");
        fs::write(&keep, b"k").expect("write keep");
        let k = fs::File::open(&keep).expect("open keep");
        is(
            res(&v, None, &format!("/proc/self/fd/{}", k.as_raw_fd()), true),
            &keep,
            true,
            false,
        );
        // A deleted directory: nothing can be looked up below it.
        let gd = b.join("gonedir");
        fs::create_dir(&gd).expect("mkdir gonedir");
        let g = fs::File::open(&gd).expect("open gonedir");
        fs::remove_dir(&gd).expect("rmdir gonedir");
        let p = format!("/proc/self/fd/{}", g.as_raw_fd());
        is(res(&v, None, &p, true), &gd, false, false);
        assert_eq!(
            errno_of(res(&v, None, &format!("{p}/x"), true)),
            libc::ENOENT
        );
        is(res(&v, None, &format!("{p}/.."), true), b, true, false);
        drop((f, k, g));
    }

    #[test]
    fn magic_links_to_symlinks_and_mappings() {
        use std::os::unix::fs::OpenOptionsExt;
        let t = tree("opath");
        let b = &t.base;
        let v = me(b);
        // An O_PATH|O_NOFOLLOW descriptor of a symlink: the magic link jumps
        // to the symlink itself and the kernel does not follow it further.
        let l = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_NOFOLLOW)
            .open(b.join("l_f"))
            .expect("O_PATH open of a symlink");
        let p = format!("/proc/self/fd/{}", l.as_raw_fd());
        is(res(&v, None, &p, true), &b.join("l_f"), true, true);
        let k = fs::metadata(&p).expect("stat through the magic link");
        assert!(
            k.file_type().is_symlink(),
            "the kernel stops at the symlink"
        );
        assert_eq!(
            errno_of(res(&v, None, &format!("{p}/x"), true)),
            libc::ENOTDIR
        );
        // map_files: whatever the kernel lets us read, we agree with it.
        let maps = fs::read_to_string("/proc/self/maps").expect("maps");
        let exe = fs::canonicalize(std::env::current_exe().expect("exe")).expect("exe");
        let range = maps
            .lines()
            .find(|l| l.ends_with(&*exe.to_string_lossy()))
            .and_then(|l| l.split_whitespace().next())
            .expect("a mapping of the test binary");
        let p = format!("/proc/self/map_files/{range}");
        match (res(&v, None, &p, true), fs::canonicalize(&p)) {
            (Ok(Resolution::Path(r)), Ok(k)) => {
                assert_eq!(r.path, k);
                assert_eq!(r.path, exe);
            }
            (Err(e), Err(k)) => assert_eq!(Some(e.errno()), k.raw_os_error()),
            (o, k) => panic!("map_files: ours {o:?}, kernel {k:?}"),
        }
    }

    #[test]
    fn worst_case_work_is_bounded() {
        let t = tree("bounded");
        let b = &t.base;
        // 40 links, each a ~4000-byte body of "d/../", then a 4095-byte
        // input of the same: the most a resolution can be made to walk.
        let unit = "d/../";
        for i in 0..40 {
            let next = if i == 39 {
                "f".to_string()
            } else {
                format!("big{}", i + 1)
            };
            let body = format!("{}{next}", unit.repeat(790));
            symlink(&body, b.join(format!("big{i}"))).expect("big symlink");
        }
        let mut input = unit.repeat(810);
        input.push_str("big0");
        assert!(input.len() < PATH_MAX);
        let v = view(b);
        let start = std::time::Instant::now();
        is(res(&v, None, &input, true), &b.join("f"), true, false);
        cross_check(b, input.as_bytes());
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn fuzz_proc_paths_against_the_kernel() {
        let t = tree("procfuzz");
        let b = &t.base;
        let v = me(b);
        let file = fs::File::open(b.join("d/f")).expect("open d/f");
        let dir = fs::File::open(b.join("d")).expect("open d");
        let tokens: Vec<String> = [
            "proc",
            "self",
            "thread-self",
            "fd",
            "cwd",
            "root",
            "exe",
            "task",
            "ns",
            "net",
            "mounts",
            "..",
            ".",
            "d",
            "f",
            "sub",
            "l_d",
            "nope",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([
            v.tgid.to_string(),
            v.pid.to_string(),
            file.as_raw_fd().to_string(),
            dir.as_raw_fd().to_string(),
        ])
        .collect();
        let mut rng = Rng(7);
        for _ in 0..3000 {
            let mut p = if rng.below(3) == 0 {
                b"/proc".to_vec()
            } else {
                b"/proc/self".to_vec()
            };
            for _ in 0..rng.below(6) {
                p.push(b'/');
                p.extend_from_slice(tokens[rng.below(tokens.len())].as_bytes());
            }
            if rng.below(5) == 0 {
                p.push(b'/');
            }
            cross_check_as(&v, b, &p);
        }
        drop((file, dir));
    }

    #[test]
    fn procfs_devices_from_mountinfo() {
        let text = "22 27 0:21 / /proc rw,relatime - proc proc rw\n\
                    25 24 0:23 / /dev/shm rw,relatime shared:5 - tmpfs tmpfs rw\n\
                    26 24 0:300 / /x/my\\040proc rw master:1 shared:2 - proc none rw\n\
                    garbage line\n\
                    1 2 x:y / /p rw - proc proc rw\n";
        assert_eq!(procfs_devs(text), vec![make_dev(0, 21), make_dev(0, 300)]);
        assert_eq!(dev_major(make_dev(259, 70000)), 259);
        assert_eq!(dev_major(make_dev(0, 300)), 0);
        // The encoding is std's: /proc's own device is listed.
        let real = fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
        let dev = fs::metadata("/proc").expect("stat /proc").dev();
        assert!(
            procfs_devs(&real).contains(&dev),
            "/proc is not procfs by mountinfo"
        );
    }

    /// xorshift64*: a small deterministic generator for the fuzz tests.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % u64::try_from(n).unwrap_or(1)).unwrap_or(0)
        }
    }

    #[test]
    fn fuzz_against_the_kernel() {
        let t = tree("fuzz");
        const TOKENS: &[&str] = &[
            "d",
            "f",
            "sub",
            "l_d",
            "l_f",
            "l_abs",
            "l_sub_abs",
            "l_dangle",
            "l_dangle_deep",
            "up",
            "l_sub",
            "rel_to_f",
            "abs_f",
            "loop1",
            "self_loop",
            "l_dir_slash",
            "l_file_slash",
            "l_dot",
            "l_dotdot",
            "l_root",
            "l_l_d",
            "c0",
            "c1",
            "c20",
            "nope",
            ".",
            "..",
            "",
            "/",
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..3000 {
            let n = 1 + rng.below(7);
            let mut p = Vec::new();
            if rng.below(8) == 0 {
                p.push(b'/');
                p.extend_from_slice(t.base.as_os_str().as_bytes());
                p.push(b'/');
            }
            for i in 0..n {
                if i > 0 {
                    p.extend(std::iter::repeat_n(b'/', 1 + rng.below(2)));
                }
                p.extend_from_slice(TOKENS[rng.below(TOKENS.len())].as_bytes());
            }
            if p.is_empty() {
                continue;
            }
            cross_check(&t.base, &p);
        }
    }

    #[test]
    fn fuzz_random_bytes_never_panic() {
        let t = tree("bytes");
        let mut v = view(&t.base);
        v.fds.insert(3, FdTarget::Path(t.base.join("d")));
        v.fds.insert(4, FdTarget::Anon("pipe:[1]".into()));
        let alphabet: &[u8] = b"//..df\0\xff\xfeaxl_c0";
        let mut rng = Rng(42);
        for i in 0..3000 {
            let len = rng.below(if i % 100 == 0 { 5000 } else { 40 });
            let p: Vec<u8> = (0..len)
                .map(|_| {
                    if rng.below(4) == 0 {
                        u8::try_from(rng.below(256)).unwrap_or(0)
                    } else {
                        alphabet[rng.below(alphabet.len())]
                    }
                })
                .collect();
            let dirfd = [None, Some(AT_FDCWD), Some(3), Some(4), Some(77), Some(-3)][rng.below(6)];
            let r = resolve(&v, dirfd, &p, rng.below(2) == 0);
            if let Ok(Resolution::Path(r)) = r {
                assert!(r.path.is_absolute());
                let s = r.path.as_os_str().as_bytes();
                assert!(
                    s == b"/" || (!s.ends_with(b"/") && !s.windows(2).any(|w| w == b"//")),
                    "{r:?}"
                );
                assert!(
                    !s.split(|&c| c == b'/').any(|c| c == b"." || c == b".."),
                    "{r:?}"
                );
            }
        }
        // Proc paths of random shapes do not panic either.
        let v = me(&t.base);
        for p in [
            "/proc/self/fd/",
            "/proc/self/fd/x",
            "/proc/self/task",
            "/proc/self/map_files/",
            "/proc//self//root//",
        ] {
            let _ = res(&v, None, p, true);
            let _ = res(&v, None, p, false);
        }
    }
}
