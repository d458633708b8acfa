// SPDX-License-Identifier: GPL-3.0-or-later
//! Which system calls take paths, and what they do with them.
//!
//! [`classify`] sorts every syscall of both generated tables
//! (`ujail_regs::table::all`) into a [`Class`]: no path at all, path
//! arguments with their indexes, dirfds, follow rules and the operation a
//! policy must grant ([`PathOp`]), open-like calls whose flags decide the op
//! at run time ([`open_op`]), socket addresses, fd-only changes, and the
//! calls denied by default ([`Class::Dangerous`]).
//!
//! There is no catch-all: a name that is in a table but not listed here makes
//! [`classify`] return `None` (the caller must then deny the call: fail
//! closed) and fails the test `every_syscall_of_both_tables_is_classified`,
//! so a new kernel's syscall is noticed when the tables are regenerated.
//!
//! Argument indexes are those of the raw syscall, per ABI (man 2 syscall,
//! "Architecture calling conventions"): i386 passes a 64-bit argument in two
//! registers, so `fanotify_mark`'s dirfd and path sit one slot later there.
//! Flag values are the x86 ones (`include/uapi/linux/fcntl.h`,
//! `asm-generic/fcntl.h`, `linux/mount.h`, `linux/inotify.h`,
//! `linux/fanotify.h`); both ABIs share them.
#![forbid(unsafe_code)]

use ujail_regs::{table, Abi};

/// `AT_SYMLINK_NOFOLLOW`: do not follow a final symlink.
pub const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
/// `AT_REMOVEDIR` of `unlinkat` (same value as `AT_EACCESS`).
pub const AT_REMOVEDIR: u64 = 0x200;
/// `AT_SYMLINK_FOLLOW`: follow a final symlink (`linkat`, `name_to_handle_at`).
pub const AT_SYMLINK_FOLLOW: u64 = 0x400;
/// `AT_EMPTY_PATH`: an empty path names the object the dirfd refers to.
pub const AT_EMPTY_PATH: u64 = 0x1000;
/// `AT_FDCWD`, as the kernel sees it in a 64-bit register.
pub const AT_FDCWD: i64 = -100;

/// `O_ACCMODE`: the access mode bits of open flags.
pub const O_ACCMODE: u64 = 0o3;
/// `O_WRONLY`.
pub const O_WRONLY: u64 = 0o1;
/// `O_RDWR`.
pub const O_RDWR: u64 = 0o2;
/// `O_CREAT`.
pub const O_CREAT: u64 = 0o100;
/// `O_EXCL`.
pub const O_EXCL: u64 = 0o200;
/// `O_TRUNC`.
pub const O_TRUNC: u64 = 0o1000;
/// `O_DIRECTORY`.
pub const O_DIRECTORY: u64 = 0o200_000;
/// `O_NOFOLLOW`.
pub const O_NOFOLLOW: u64 = 0o400_000;
/// `O_CLOEXEC`.
pub const O_CLOEXEC: u64 = 0o2_000_000;
/// `O_PATH`: an fd that only names the object (no read, no write).
pub const O_PATH: u64 = 0o10_000_000;
/// `__O_TMPFILE`, the bit alone; [`O_TMPFILE`] adds `O_DIRECTORY`.
pub const O_TMPFILE_BIT: u64 = 0o20_000_000;
/// `O_TMPFILE` as userspace passes it (`__O_TMPFILE | O_DIRECTORY`).
pub const O_TMPFILE: u64 = O_TMPFILE_BIT | O_DIRECTORY;
/// The flags `open(2)` keeps with `O_PATH` (`O_PATH_FLAGS` in fs/open.c).
pub const O_PATH_FLAGS: u64 = O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;
/// The flags `creat(path, mode)` stands for (man 2 open: "equivalent to open()
/// with flags equal to O_CREAT|O_WRONLY|O_TRUNC").
pub const CREAT_FLAGS: u64 = O_CREAT | O_WRONLY | O_TRUNC;

/// `RESOLVE_NO_XDEV` of `openat2` (`struct open_how.resolve`).
pub const RESOLVE_NO_XDEV: u64 = 0x01;
/// `RESOLVE_NO_MAGICLINKS`.
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
/// `RESOLVE_NO_SYMLINKS`: no symlink anywhere in the path.
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
/// `RESOLVE_BENEATH`: stay below dirfd.
pub const RESOLVE_BENEATH: u64 = 0x08;
/// `RESOLVE_IN_ROOT`: treat dirfd as `/` (changes how `..` and absolute
/// paths and symlinks resolve: the caller must resolve relative to dirfd).
pub const RESOLVE_IN_ROOT: u64 = 0x10;
/// `RESOLVE_CACHED`.
pub const RESOLVE_CACHED: u64 = 0x20;

/// `IN_DONT_FOLLOW` of `inotify_add_watch` (its mask argument).
pub const IN_DONT_FOLLOW: u64 = 0x0200_0000;
/// `FAN_MARK_DONT_FOLLOW` of `fanotify_mark` (its flags argument).
pub const FAN_MARK_DONT_FOLLOW: u64 = 0x04;
/// `UMOUNT_NOFOLLOW` of `umount2`.
pub const UMOUNT_NOFOLLOW: u64 = 0x08;
/// `MOVE_MOUNT_F_SYMLINKS`: follow a final symlink of the source.
pub const MOVE_MOUNT_F_SYMLINKS: u64 = 0x01;
/// `MOVE_MOUNT_F_EMPTY_PATH`: empty source path means the source dirfd.
pub const MOVE_MOUNT_F_EMPTY_PATH: u64 = 0x04;
/// `MOVE_MOUNT_T_SYMLINKS`: follow a final symlink of the target.
pub const MOVE_MOUNT_T_SYMLINKS: u64 = 0x10;
/// `MOVE_MOUNT_T_EMPTY_PATH`: empty target path means the target dirfd.
pub const MOVE_MOUNT_T_EMPTY_PATH: u64 = 0x40;
/// `FSPICK_SYMLINK_NOFOLLOW`.
pub const FSPICK_SYMLINK_NOFOLLOW: u64 = 0x02;
/// `FSPICK_EMPTY_PATH`.
pub const FSPICK_EMPTY_PATH: u64 = 0x08;

/// What a call does to the object a path names (decides the access a policy
/// must grant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PathOp {
    /// Read the object: open `O_RDONLY` (also listing a directory).
    Read,
    /// Change the object's contents: open for writing or with `O_TRUNC`,
    /// `truncate`; also the old path of `link` (see [`classify`]).
    Write,
    /// Execute the object: `execve`, `execveat`, `uselib`.
    Exec,
    /// Look at the object without opening it for I/O: the stat family,
    /// `access`/`faccessat*`, `statfs`, `getxattr`/`listxattr`, `readlink`,
    /// `inotify_add_watch`, `fanotify_mark`, `chdir`, `name_to_handle_at`,
    /// open `O_PATH`.
    Stat,
    /// Make a new name: `mkdir`, `mknod`, the new path of `symlink`, `link`
    /// and `rename`, open `O_CREAT` of a missing file (decided at run time,
    /// see [`open_effective_op`]), `O_TMPFILE` (in the named directory), bind
    /// of an `AF_UNIX` path.
    Create,
    /// Remove a name: `unlink`, `rmdir`, the old path of `rename`.
    Remove,
    /// Change metadata: `chmod`, `chown`, `utime*`, `setxattr`/`removexattr`.
    SetAttr,
    /// Connect to an `AF_UNIX` path socket (the kernel wants write permission
    /// on the socket inode).
    Connect,
    /// System administration on the path: mount, umount, pivot_root, chroot,
    /// swapon/swapoff, acct, quotactl: never granted by path rules.
    Admin,
}

/// Whether the last component of a path is followed when it is a symlink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Follow {
    /// Always followed (`stat`, `open` without flags, `chdir`, ...).
    Always,
    /// Never followed (`lstat`, `unlink`, `mkdir`, `readlink`, ...).
    Never,
    /// Follow unless `(args[arg] & bit) != 0` (`AT_SYMLINK_NOFOLLOW`).
    UnlessFlag {
        /// Index of the flags argument.
        arg: u8,
        /// The no-follow bit.
        bit: u64,
    },
    /// Follow only if `(args[arg] & bit) != 0` (`AT_SYMLINK_FOLLOW` of
    /// `linkat`).
    IfFlag {
        /// Index of the flags argument.
        arg: u8,
        /// The follow bit.
        bit: u64,
    },
    /// Open flags in `args[arg]`: `O_NOFOLLOW`, or `O_CREAT|O_EXCL` → the last
    /// component is not followed (see [`open_follows_last`]).
    OpenFlags {
        /// Index of the open flags argument.
        arg: u8,
    },
}

impl Follow {
    /// Whether a call with arguments `args` follows a final symlink.
    /// An out-of-range index (never produced by [`classify`]) answers `false`.
    pub fn follows(self, args: &[u64; 6]) -> bool {
        let get = |arg: u8| args.get(usize::from(arg)).copied();
        match self {
            Follow::Always => true,
            Follow::Never => false,
            Follow::UnlessFlag { arg, bit } => get(arg).is_some_and(|v| v & bit == 0),
            Follow::IfFlag { arg, bit } => get(arg).is_some_and(|v| v & bit != 0),
            Follow::OpenFlags { arg } => get(arg).is_some_and(open_follows_last),
        }
    }
}

/// One path argument of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PathArg {
    /// Index of the path argument.
    pub path: u8,
    /// Index of the dirfd argument (`None` = relative to the cwd).
    pub dirfd: Option<u8>,
    /// What the call does to the object.
    pub op: PathOp,
    /// Whether a final symlink is followed.
    pub follow: Follow,
    /// `AT_EMPTY_PATH` allowed: an empty path means "the object dirfd refers
    /// to" when `(args[arg] & bit) != 0`.
    ///
    /// Kernels from 6.11 on also accept a NULL path pointer with
    /// `AT_EMPTY_PATH` for `statx` and `fstatat`; [`PathArg::names_dirfd_object`]
    /// treats a NULL pointer with the flag set like an empty path.
    pub empty_path: Option<(u8, u64)>,
    /// A NULL path pointer names the object dirfd refers to, without any
    /// flag (`utimensat`, `futimesat`, `fanotify_mark`).
    pub null_means_dirfd: bool,
    /// An empty path names the object dirfd refers to, without any flag
    /// (`readlinkat` since Linux 2.6.39, man 2 readlink).
    pub empty_means_dirfd: bool,
}

impl PathArg {
    /// A path argument with no dirfd special cases.
    pub const fn new(path: u8, dirfd: Option<u8>, op: PathOp, follow: Follow) -> PathArg {
        PathArg {
            path,
            dirfd,
            op,
            follow,
            empty_path: None,
            null_means_dirfd: false,
            empty_means_dirfd: false,
        }
    }

    /// With `AT_EMPTY_PATH`-like `bit` in `args[arg]`.
    pub const fn with_empty_path(self, arg: u8, bit: u64) -> PathArg {
        PathArg {
            empty_path: Some((arg, bit)),
            ..self
        }
    }

    /// With a NULL path meaning the dirfd's object.
    pub const fn with_null_means_dirfd(self) -> PathArg {
        PathArg {
            null_means_dirfd: true,
            ..self
        }
    }

    /// With an empty path meaning the dirfd's object.
    pub const fn with_empty_means_dirfd(self) -> PathArg {
        PathArg {
            empty_means_dirfd: true,
            ..self
        }
    }

    /// Whether this call names the object its dirfd refers to instead of a
    /// path: `path_is_null` when the pointer is 0, `path_is_empty` when it
    /// points to `""`. When true the object is the dirfd's target (or the cwd
    /// for `AT_FDCWD`); otherwise an empty path is `ENOENT` and a NULL one
    /// `EFAULT` in the kernel.
    pub fn names_dirfd_object(
        &self,
        args: &[u64; 6],
        path_is_null: bool,
        path_is_empty: bool,
    ) -> bool {
        let flagged = self
            .empty_path
            .is_some_and(|(arg, bit)| args.get(usize::from(arg)).is_some_and(|v| v & bit != 0));
        if path_is_null {
            self.null_means_dirfd || flagged
        } else if path_is_empty {
            self.empty_means_dirfd || flagged
        } else {
            false
        }
    }
}

/// How a syscall relates to paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// No path argument and nothing path-like (read, getpid, mmap ...).
    NoPath,
    /// Takes these path arguments.
    Paths(&'static [PathArg]),
    /// open-like: flags decide the op at run time via [`open_op`]; the final
    /// symlink is followed per [`open_follows_last`].
    Open {
        /// Index of the path argument.
        path: u8,
        /// Index of the dirfd argument (`None` = relative to the cwd).
        dirfd: Option<u8>,
        /// Index of the open flags argument.
        flags: u8,
    },
    /// `creat(path, mode)`: an open with the fixed flags [`CREAT_FLAGS`]
    /// (no flags argument), relative to the cwd.
    Creat {
        /// Index of the path argument.
        path: u8,
    },
    /// `openat2(dirfd, path, how, size)`: dirfd arg 0, path arg 1; the flags
    /// live in `struct open_how` in tracee memory (arg 2, size arg 3), see
    /// [`OpenHow::parse`]; `how.resolve` changes resolution
    /// ([`RESOLVE_IN_ROOT`] resolves against dirfd as root).
    OpenAt2,
    /// Paths inside socket addresses: bind/connect/sendto/sendmsg/sendmmsg
    /// (`AF_UNIX`), and i386 `socketcall` (102); see [`socket_addr`] and
    /// [`socketcall_name`].
    Socket,
    /// Operates on an fd only, but changes the object (or the cwd) in ways
    /// the fd's open mode does not restrict: fchdir, fchmod, fchown,
    /// fsetxattr, fremovexattr, ftruncate, fallocate; see [`fd_op`].
    FdOnly,
    /// Never allowed by default; the reason string is for the log. Calls
    /// with paths list them in [`dangerous_paths`] for policies that allow
    /// the call anyway.
    Dangerous(&'static str),
}

/// What [`classify`] knows about the name.
///
/// `None` only for names not in `abi`'s table, or (a bug caught by the tests)
/// a table name nobody classified: the caller must deny the call.
pub fn classify(abi: Abi, name: &str) -> Option<Class> {
    table::number(abi, name)?;
    lookup(abi, name)
}

/// The op of an open given its flags (`O_ACCMODE`, `O_TRUNC`, `O_TMPFILE`,
/// `O_PATH` ...), on an object that exists; see [`open_may_create`] and
/// [`open_effective_op`] for `O_CREAT`.
///
/// * `O_PATH` → [`PathOp::Stat`]: the fd can neither read nor write, and
///   `open(2)` drops every other flag but `O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC`
///   (openat2 refuses them with EINVAL);
/// * `O_TMPFILE` → [`PathOp::Create`] in the named directory (the kernel
///   wants `O_WRONLY` or `O_RDWR` with it);
/// * `O_WRONLY`, `O_RDWR`, the invalid access mode 3 (Linux: "read and write
///   permission", ioctl only) or `O_TRUNC` (the kernel adds MAY_WRITE for it,
///   even with `O_RDONLY`) → [`PathOp::Write`];
/// * otherwise → [`PathOp::Read`].
pub fn open_op(flags: u64) -> PathOp {
    if flags & O_PATH != 0 {
        PathOp::Stat
    } else if flags & O_TMPFILE_BIT != 0 {
        PathOp::Create
    } else if flags & O_ACCMODE != 0 || flags & O_TRUNC != 0 {
        PathOp::Write
    } else {
        PathOp::Read
    }
}

/// Whether an open with `flags` may create a new file: `O_CREAT` (a missing
/// final component becomes a regular file; through a dangling symlink the
/// kernel creates the target) or `O_TMPFILE` (an unnamed file in the
/// directory). `O_PATH` disables both.
pub fn open_may_create(flags: u64) -> bool {
    flags & O_PATH == 0 && flags & (O_CREAT | O_TMPFILE_BIT) != 0
}

/// The op an open with `flags` performs once the caller knows whether the
/// final object exists: [`PathOp::Create`] for `O_CREAT` of a missing
/// object, else [`open_op`].
pub fn open_effective_op(flags: u64, exists: bool) -> PathOp {
    if !exists && flags & O_PATH == 0 && flags & O_CREAT != 0 {
        PathOp::Create
    } else {
        open_op(flags)
    }
}

/// Whether an open with `flags` follows a final symlink: not with
/// `O_NOFOLLOW`, not with `O_CREAT|O_EXCL` (fs/open.c `build_open_flags`
/// adds `O_NOFOLLOW` then). With `O_PATH` only the `O_PATH` flags count.
pub fn open_follows_last(flags: u64) -> bool {
    let flags = if flags & O_PATH != 0 {
        flags & O_PATH_FLAGS
    } else {
        flags
    };
    flags & O_NOFOLLOW == 0 && flags & (O_CREAT | O_EXCL) != (O_CREAT | O_EXCL)
}

/// `struct open_how` of `openat2` (`include/uapi/linux/openat2.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpenHow {
    /// Open flags, as for `openat`.
    pub flags: u64,
    /// Creation mode.
    pub mode: u64,
    /// `RESOLVE_*` bits.
    pub resolve: u64,
}

impl OpenHow {
    /// Size of the first version of the struct (`OPEN_HOW_SIZE_VER0`); the
    /// kernel refuses smaller sizes with EINVAL, and larger ones whose extra
    /// bytes are not zero with E2BIG.
    pub const SIZE_VER0: usize = 24;

    /// Decode the first [`OpenHow::SIZE_VER0`] bytes, as read from the
    /// tracee (both ABIs use the same little-endian layout). `None` when
    /// fewer bytes are given.
    pub fn parse(bytes: &[u8]) -> Option<OpenHow> {
        let word = |i: usize| -> Option<u64> {
            let b: [u8; 8] = bytes.get(i * 8..i * 8 + 8)?.try_into().ok()?;
            Some(u64::from_le_bytes(b))
        };
        Some(OpenHow {
            flags: word(0)?,
            mode: word(1)?,
            resolve: word(2)?,
        })
    }

    /// Whether the final symlink is followed: [`open_follows_last`] and no
    /// [`RESOLVE_NO_SYMLINKS`].
    pub fn follows_last(&self) -> bool {
        self.resolve & RESOLVE_NO_SYMLINKS == 0 && open_follows_last(self.flags)
    }
}

/// Where a socket call keeps its peer or local address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SockAddrArg {
    /// A `struct sockaddr *` at `addr` with its length at `len`.
    Direct {
        /// Index of the address pointer (may be NULL for sendto).
        addr: u8,
        /// Index of the address length.
        len: u8,
    },
    /// A `struct msghdr *` at `msg` (`msg_name`/`msg_namelen`).
    MsgHdr {
        /// Index of the msghdr pointer.
        msg: u8,
    },
    /// A `struct mmsghdr` array at `vec` with `vlen` entries.
    MMsgHdr {
        /// Index of the array pointer.
        vec: u8,
        /// Index of the entry count.
        vlen: u8,
    },
}

/// For the socket calls of [`Class::Socket`] (by their direct names): the op
/// an `AF_UNIX` path address needs and where the address lives. `bind`
/// creates the socket inode (its path is not followed: an existing name is
/// `EADDRINUSE`); `connect` and sending to an address connect (the kernel
/// follows symlinks and wants write permission). `None` for other names.
pub fn socket_addr(name: &str) -> Option<(PathOp, SockAddrArg)> {
    Some(match name {
        "bind" => (PathOp::Create, SockAddrArg::Direct { addr: 1, len: 2 }),
        "connect" => (PathOp::Connect, SockAddrArg::Direct { addr: 1, len: 2 }),
        "sendto" => (PathOp::Connect, SockAddrArg::Direct { addr: 4, len: 5 }),
        "sendmsg" => (PathOp::Connect, SockAddrArg::MsgHdr { msg: 1 }),
        "sendmmsg" => (PathOp::Connect, SockAddrArg::MMsgHdr { vec: 1, vlen: 2 }),
        _ => return None,
    })
}

/// The call an i386 `socketcall(call, args)` makes (`SYS_*` of
/// `linux/net.h`), named like the direct syscall so [`socket_addr`] applies
/// to the words at `args` (the argument indexes count 32-bit words there).
/// `send` and `recv` (9, 10) have no direct i386 syscall and no address.
pub fn socketcall_name(call: u64) -> Option<&'static str> {
    const NAMES: [&str; 20] = [
        "socket",
        "bind",
        "connect",
        "listen",
        "accept",
        "getsockname",
        "getpeername",
        "socketpair",
        "send",
        "recv",
        "sendto",
        "recvfrom",
        "shutdown",
        "setsockopt",
        "getsockopt",
        "sendmsg",
        "recvmsg",
        "accept4",
        "recvmmsg",
        "sendmmsg",
    ];
    let i = usize::try_from(call.checked_sub(1)?).ok()?;
    NAMES.get(i).copied()
}

/// For a [`Class::FdOnly`] call: the index of its fd argument and the op it
/// performs on the fd's object. `None` for other names.
pub fn fd_op(abi: Abi, name: &str) -> Option<(u8, PathOp)> {
    if !matches!(classify(abi, name), Some(Class::FdOnly)) {
        return None;
    }
    Some(match name {
        // Changes the cwd, i.e. what relative paths resolve against; Stat as
        // for chdir.
        "fchdir" => (0, PathOp::Stat),
        "fchmod" | "fchown" | "fchown32" | "fsetxattr" | "fremovexattr" => (0, PathOp::SetAttr),
        "ftruncate" | "ftruncate64" | "fallocate" => (0, PathOp::Write),
        _ => return None,
    })
}

/// The path arguments of a [`Class::Dangerous`] call, for policies that
/// allow it anyway: the paths must still be granted ([`PathOp::Admin`]
/// unless noted). `None` for calls without paths.
///
/// * `mount`: only the target (arg 1); the source (arg 0) is a path only for
///   block devices, `MS_BIND` and `MS_MOVE`, a name otherwise ("proc").
/// * `quotactl`: the block device (arg 1); `Q_QUOTAON` also takes the quota
///   file's path in arg 3.
/// * `acct`: a NULL path turns accounting off.
/// * `open_tree`: without `OPEN_TREE_CLONE` it is an unprivileged `O_PATH`
///   open; it is Dangerous because the clone form makes detached mounts.
pub fn dangerous_paths(abi: Abi, name: &str) -> Option<&'static [PathArg]> {
    if !matches!(classify(abi, name), Some(Class::Dangerous(_))) {
        return None;
    }
    const fn admin(path: u8, follow: Follow) -> PathArg {
        PathArg::new(path, None, PathOp::Admin, follow)
    }
    static MOUNT: [PathArg; 1] = [admin(1, Follow::Always)];
    static ARG0: [PathArg; 1] = [admin(0, Follow::Always)];
    static UMOUNT2: [PathArg; 1] = [admin(
        0,
        Follow::UnlessFlag {
            arg: 1,
            bit: UMOUNT_NOFOLLOW,
        },
    )];
    static PIVOT_ROOT: [PathArg; 2] = [admin(0, Follow::Always), admin(1, Follow::Always)];
    static QUOTACTL: [PathArg; 1] = [admin(1, Follow::Always)];
    static OPEN_TREE: [PathArg; 1] = [PathArg::new(
        1,
        Some(0),
        PathOp::Admin,
        Follow::UnlessFlag {
            arg: 2,
            bit: AT_SYMLINK_NOFOLLOW,
        },
    )
    .with_empty_path(2, AT_EMPTY_PATH)];
    static MOVE_MOUNT: [PathArg; 2] = [
        PathArg::new(
            1,
            Some(0),
            PathOp::Admin,
            Follow::IfFlag {
                arg: 4,
                bit: MOVE_MOUNT_F_SYMLINKS,
            },
        )
        .with_empty_path(4, MOVE_MOUNT_F_EMPTY_PATH),
        PathArg::new(
            3,
            Some(2),
            PathOp::Admin,
            Follow::IfFlag {
                arg: 4,
                bit: MOVE_MOUNT_T_SYMLINKS,
            },
        )
        .with_empty_path(4, MOVE_MOUNT_T_EMPTY_PATH),
    ];
    static FSPICK: [PathArg; 1] = [PathArg::new(
        1,
        Some(0),
        PathOp::Admin,
        Follow::UnlessFlag {
            arg: 2,
            bit: FSPICK_SYMLINK_NOFOLLOW,
        },
    )
    .with_empty_path(2, FSPICK_EMPTY_PATH)];
    // mount_setattr(dirfd, path, flags, attr, size) takes AT_* flags.
    static MOUNT_SETATTR: [PathArg; 1] = OPEN_TREE;
    Some(match name {
        "mount" => &MOUNT,
        "umount" | "chroot" | "swapon" | "swapoff" | "acct" => &ARG0,
        "umount2" => &UMOUNT2,
        "pivot_root" => &PIVOT_ROOT,
        "quotactl" => &QUOTACTL,
        "open_tree" => &OPEN_TREE,
        "move_mount" => &MOVE_MOUNT,
        "fspick" => &FSPICK,
        "mount_setattr" => &MOUNT_SETATTR,
        _ => return None,
    })
}

// ---- path argument lists -------------------------------------------------

use Follow::{Always, Never};
use PathOp::{Create, Exec, Remove, SetAttr, Stat, Write};

const fn cwd(path: u8, op: PathOp, follow: Follow) -> PathArg {
    PathArg::new(path, None, op, follow)
}

const fn at(dirfd: u8, path: u8, op: PathOp, follow: Follow) -> PathArg {
    PathArg::new(path, Some(dirfd), op, follow)
}

/// `AT_SYMLINK_NOFOLLOW` in `args[arg]`.
const fn nofollow_flag(arg: u8) -> Follow {
    Follow::UnlessFlag {
        arg,
        bit: AT_SYMLINK_NOFOLLOW,
    }
}

/// `*at(dirfd 0, path 1, ..., flags at arg)` with `AT_SYMLINK_NOFOLLOW` and
/// `AT_EMPTY_PATH`.
const fn at_flags(op: PathOp, arg: u8) -> PathArg {
    at(0, 1, op, nofollow_flag(arg)).with_empty_path(arg, AT_EMPTY_PATH)
}

static P0_STAT: [PathArg; 1] = [cwd(0, Stat, Always)];
static P0_STAT_NOFOLLOW: [PathArg; 1] = [cwd(0, Stat, Never)];
static P0_SETATTR: [PathArg; 1] = [cwd(0, SetAttr, Always)];
static P0_SETATTR_NOFOLLOW: [PathArg; 1] = [cwd(0, SetAttr, Never)];
static P0_WRITE: [PathArg; 1] = [cwd(0, Write, Always)];
static P0_EXEC: [PathArg; 1] = [cwd(0, Exec, Always)];
static P0_CREATE: [PathArg; 1] = [cwd(0, Create, Never)];
static P0_REMOVE: [PathArg; 1] = [cwd(0, Remove, Never)];
static AT1_CREATE: [PathArg; 1] = [at(0, 1, Create, Never)];
static AT1_REMOVE: [PathArg; 1] = [at(0, 1, Remove, Never)];
/// newfstatat/fstatat64(dirfd, path, buf, flags).
static FSTATAT: [PathArg; 1] = [at_flags(Stat, 3)];
/// statx(dirfd, path, flags, mask, buf).
static STATX: [PathArg; 1] = [at_flags(Stat, 2)];
/// faccessat(dirfd, path, mode): the syscall has no flags argument (glibc
/// emulates them); it always follows.
static FACCESSAT: [PathArg; 1] = [at(0, 1, Stat, Always)];
/// faccessat2(dirfd, path, mode, flags).
static FACCESSAT2: [PathArg; 1] = [at_flags(Stat, 3)];
/// execveat(dirfd, path, argv, envp, flags).
static EXECVEAT: [PathArg; 1] = [at_flags(Exec, 4)];
/// readlinkat(dirfd, path, buf, size): an empty path reads the link dirfd
/// refers to (an `O_PATH|O_NOFOLLOW` fd).
static READLINKAT: [PathArg; 1] = [at(0, 1, Stat, Never).with_empty_means_dirfd()];
/// fchmodat(dirfd, path, mode): no flags argument in the kernel, always
/// follows (glibc's AT_SYMLINK_NOFOLLOW goes through O_PATH + /proc).
static FCHMODAT: [PathArg; 1] = [at(0, 1, SetAttr, Always)];
/// fchownat(dirfd, path, uid, gid, flags).
static FCHOWNAT: [PathArg; 1] = [at_flags(SetAttr, 4)];
/// utimensat(dirfd, path, times, flags); a NULL path sets the times of the
/// dirfd's file (man 2 utimensat, "C library/kernel ABI differences").
static UTIMENSAT: [PathArg; 1] = [at_flags(SetAttr, 3).with_null_means_dirfd()];
/// futimesat(dirfd, path, times): fs/utimes.c `do_utimes` treats a NULL path
/// with a real dirfd as the dirfd's file too.
static FUTIMESAT: [PathArg; 1] = [at(0, 1, SetAttr, Always).with_null_means_dirfd()];
/// rename(old, new): the old name is removed, the new one created (or
/// replaced, which removes the object it named: Create covers both in a
/// directory the policy lets us write).
static RENAME: [PathArg; 2] = [cwd(0, Remove, Never), cwd(1, Create, Never)];
/// renameat(olddirfd, old, newdirfd, new) and renameat2(..., flags): with
/// `RENAME_EXCHANGE` both names are replaced, still Remove+Create in two
/// writable directories.
static RENAMEAT: [PathArg; 2] = [at(0, 1, Remove, Never), at(2, 3, Create, Never)];
/// link(old, new): a hard link makes the object reachable under the new
/// name with the new name's access, so the old name must already grant
/// Write (else an Ro file could be linked into an Rw tree and written);
/// link does not follow a final symlink of the old path (it links the link).
static LINK: [PathArg; 2] = [cwd(0, Write, Never), cwd(1, Create, Never)];
/// linkat(olddirfd, old, newdirfd, new, flags): follows old only with
/// `AT_SYMLINK_FOLLOW`; `AT_EMPTY_PATH` (needs CAP_DAC_READ_SEARCH) links the
/// olddirfd's file, e.g. an `O_TMPFILE`.
static LINKAT: [PathArg; 2] = [
    at(
        0,
        1,
        Write,
        Follow::IfFlag {
            arg: 4,
            bit: AT_SYMLINK_FOLLOW,
        },
    )
    .with_empty_path(4, AT_EMPTY_PATH),
    at(2, 3, Create, Never),
];
/// symlink(target, linkpath): the target is stored text, not resolved now
/// (a later use of the link resolves it); only linkpath is a path access.
static SYMLINK: [PathArg; 1] = [cwd(1, Create, Never)];
/// symlinkat(target, newdirfd, linkpath).
static SYMLINKAT: [PathArg; 1] = [at(1, 2, Create, Never)];
/// inotify_add_watch(fd, path, mask): `IN_DONT_FOLLOW` in the mask.
static INOTIFY_ADD_WATCH: [PathArg; 1] = [cwd(
    1,
    Stat,
    Follow::UnlessFlag {
        arg: 2,
        bit: IN_DONT_FOLLOW,
    },
)];
/// fanotify_mark(fd, flags, mask, dirfd, path) on x86_64.
static FANOTIFY_MARK_X86_64: [PathArg; 1] = [at(
    3,
    4,
    Stat,
    Follow::UnlessFlag {
        arg: 1,
        bit: FAN_MARK_DONT_FOLLOW,
    },
)
.with_null_means_dirfd()];
/// fanotify_mark(fd, flags, mask_lo, mask_hi, dirfd, path) on i386: the
/// 64-bit mask takes two registers (musl `__SYSCALL_LL_E(mask)`; the
/// kernel's compat entry has `mask0, mask1`), so dirfd is arg 4, path arg 5.
static FANOTIFY_MARK_I386: [PathArg; 1] = [at(
    4,
    5,
    Stat,
    Follow::UnlessFlag {
        arg: 1,
        bit: FAN_MARK_DONT_FOLLOW,
    },
)
.with_null_means_dirfd()];
/// name_to_handle_at(dirfd, path, handle, mount_id, flags): follows only
/// with `AT_SYMLINK_FOLLOW`. It only reveals a handle and a mount id; opening
/// a handle needs open_by_handle_at, which is Dangerous.
static NAME_TO_HANDLE_AT: [PathArg; 1] = [at(
    0,
    1,
    Stat,
    Follow::IfFlag {
        arg: 4,
        bit: AT_SYMLINK_FOLLOW,
    },
)
.with_empty_path(4, AT_EMPTY_PATH)];

/// The explicit classification of every syscall name of both tables.
/// `abi` matters only where argument indexes differ (`fanotify_mark`).
fn lookup(abi: Abi, name: &str) -> Option<Class> {
    use Class::{Dangerous, FdOnly, NoPath, Paths};
    Some(match name {
        // ---- open-like ----
        "open" => Class::Open {
            path: 0,
            dirfd: None,
            flags: 1,
        },
        "openat" => Class::Open {
            path: 1,
            dirfd: Some(0),
            flags: 2,
        },
        "creat" => Class::Creat { path: 0 },
        "openat2" => Class::OpenAt2,

        // ---- stat family and other lookups ----
        // stat/stat64/oldstat follow, the l* forms do not (i386 oldstat and
        // oldlstat are the pre-2.0 struct layouts, same arguments).
        "stat" | "stat64" | "oldstat" => Paths(&P0_STAT),
        "lstat" | "lstat64" | "oldlstat" => Paths(&P0_STAT_NOFOLLOW),
        // i386 fstatat64 is x86_64 newfstatat (same arguments).
        "newfstatat" | "fstatat64" => Paths(&FSTATAT),
        "statx" => Paths(&STATX),
        // statfs(path, buf), i386 statfs64(path, size, buf): path arg 0.
        "statfs" | "statfs64" => Paths(&P0_STAT),
        "access" => Paths(&P0_STAT),
        "faccessat" => Paths(&FACCESSAT),
        "faccessat2" => Paths(&FACCESSAT2),
        "readlink" => Paths(&P0_STAT_NOFOLLOW),
        "readlinkat" => Paths(&READLINKAT),
        // chdir changes what relative paths resolve against; looking at the
        // directory is all it does to it.
        "chdir" => Paths(&P0_STAT),
        // getxattr(path, name, value, size), listxattr(path, list, size).
        "getxattr" | "listxattr" => Paths(&P0_STAT),
        "lgetxattr" | "llistxattr" => Paths(&P0_STAT_NOFOLLOW),
        "inotify_add_watch" => Paths(&INOTIFY_ADD_WATCH),
        // Needs CAP_SYS_ADMIN for mount/filesystem marks and permission
        // events; otherwise a watch like inotify's.
        "fanotify_mark" => match abi {
            Abi::I386 => Paths(&FANOTIFY_MARK_I386),
            Abi::X86_64 => Paths(&FANOTIFY_MARK_X86_64),
        },
        "name_to_handle_at" => Paths(&NAME_TO_HANDLE_AT),

        // ---- programs ----
        "execve" => Paths(&P0_EXEC),
        "execveat" => Paths(&EXECVEAT),
        // uselib(library) maps an a.out library executable: the access of
        // executing it. Not built into x86 kernels by default (CONFIG_USELIB),
        // then ENOSYS; x86_64 never implemented it.
        "uselib" => Paths(&P0_EXEC),

        // ---- names: create, remove, rename, link ----
        "mkdir" | "mknod" => Paths(&P0_CREATE),
        "mkdirat" | "mknodat" => Paths(&AT1_CREATE),
        "rmdir" | "unlink" => Paths(&P0_REMOVE),
        // unlinkat(dirfd, path, flags): AT_REMOVEDIR changes nothing here.
        "unlinkat" => Paths(&AT1_REMOVE),
        "rename" => Paths(&RENAME),
        "renameat" | "renameat2" => Paths(&RENAMEAT),
        "link" => Paths(&LINK),
        "linkat" => Paths(&LINKAT),
        "symlink" => Paths(&SYMLINK),
        "symlinkat" => Paths(&SYMLINKAT),

        // ---- metadata and contents by path ----
        "chmod" => Paths(&P0_SETATTR),
        "fchmodat" => Paths(&FCHMODAT),
        // x86_64: chown follows, lchown not. i386: 16 lchown and 182 chown
        // are the 16-bit-id forms (sys_lchown16/sys_chown16), 198 lchown32
        // and 212 chown32 the 32-bit ones; same follow rules.
        "chown" | "chown32" => Paths(&P0_SETATTR),
        "lchown" | "lchown32" => Paths(&P0_SETATTR_NOFOLLOW),
        "fchownat" => Paths(&FCHOWNAT),
        // utime(path, times), utimes(path, tv): a NULL path is EFAULT there.
        "utime" | "utimes" => Paths(&P0_SETATTR),
        "utimensat" | "utimensat_time64" => Paths(&UTIMENSAT),
        "futimesat" => Paths(&FUTIMESAT),
        "setxattr" | "removexattr" => Paths(&P0_SETATTR),
        "lsetxattr" | "lremovexattr" => Paths(&P0_SETATTR_NOFOLLOW),
        // truncate(path, len); i386 truncate64(path, len_lo, len_hi).
        "truncate" | "truncate64" => Paths(&P0_WRITE),

        // ---- fd-only changes (see fd_op) ----
        "fchdir" | "fchmod" | "fchown" | "fchown32" | "fsetxattr" | "fremovexattr"
        | "ftruncate" | "ftruncate64" | "fallocate" => FdOnly,

        // ---- socket addresses ----
        "bind" | "connect" | "sendto" | "sendmsg" | "sendmmsg" | "socketcall" => Class::Socket,

        // ---- dangerous by default ----
        "io_uring_setup" | "io_uring_enter" | "io_uring_register" => {
            Dangerous("io_uring submits I/O (opens included) without syscalls: bypasses tracing")
        }
        "ptrace" => Dangerous("ptrace of another process: could control or escape the jail"),
        "process_vm_readv" | "process_vm_writev" => {
            Dangerous("reads or writes another process's memory")
        }
        // pidfd_getfd is not in the list, but it copies an open fd
        // out of another process of the same user (PTRACE_MODE_ATTACH, like
        // ptrace): a way around the path policy.
        "pidfd_getfd" => Dangerous("copies a file descriptor out of another process"),
        "bpf" => Dangerous("loads eBPF programs and maps"),
        "perf_event_open" => Dangerous("perf events: kernel and other processes' profiling"),
        // userfaultfd lets a thread stall kernel copies from user memory at
        // will: the classic way to win a TOCTOU race against a checker.
        "userfaultfd" => Dangerous("userfaultfd can stall the kernel mid-copy (race helper)"),
        "open_by_handle_at" => {
            Dangerous("opens a file by handle, bypassing path resolution and the path policy")
        }
        // lookup_dcookie (oprofile, needs CAP_SYS_ADMIN, removed in 6.4)
        // turns a cookie into a path.
        "lookup_dcookie" => Dangerous("lookup_dcookie reveals kernel dentry paths"),
        "kexec_load" | "kexec_file_load" => Dangerous("kexec replaces the running kernel"),
        // create_module, query_module and get_kernel_syms were removed in
        // 2.6 (ENOSYS); they stay in the module family.
        "init_module" | "finit_module" | "delete_module" | "create_module" | "query_module"
        | "get_kernel_syms" => Dangerous("kernel module loading or unloading"),
        "mount" => Dangerous("mount changes the filesystem tree"),
        // i386 umount (22) is oldumount: umount2(target, 0).
        "umount" | "umount2" => Dangerous("umount changes the filesystem tree"),
        "pivot_root" => Dangerous("pivot_root changes the root filesystem"),
        "move_mount" | "open_tree" | "fsopen" | "fsconfig" | "fsmount" | "fspick"
        | "mount_setattr" => Dangerous("new mount API changes the filesystem tree"),
        "setns" => Dangerous("setns enters another namespace"),
        // The real policy only needs to refuse unshare with namespace flags
        // (CLONE_NEW*; CLONE_FILES/CLONE_FS/CLONE_SYSVSEM are harmless), which
        // the core can check on the flags argument; classified Dangerous so
        // that nothing is missed if it does not.
        "unshare" => Dangerous("unshare may create namespaces (only CLONE_NEW* flags matter)"),
        // chroot changes how every later path of the process resolves (the
        // tracer must follow /proc/PID/root); CAP_SYS_CHROOT anyway.
        "chroot" => Dangerous("chroot changes path resolution for the process"),
        "swapon" | "swapoff" => Dangerous("swap administration"),
        "reboot" => Dangerous("reboot"),
        "acct" => Dangerous("process accounting writes records to a file"),
        "quotactl" | "quotactl_fd" => Dangerous("disk quota administration"),
        "iopl" | "ioperm" => Dangerous("direct I/O port access"),
        // modify_ldt can create 16/32-bit code segments in a 64-bit process
        // (far calls switch the bitness of the syscall instruction: the core
        // decides the ABI per stop, but there is no need to allow it).
        "modify_ldt" => Dangerous("modify_ldt creates code segments of another bitness"),
        "vm86" | "vm86old" => Dangerous("vm86 mode (i386 real-mode emulation)"),
        // nfsservctl was removed in 3.1 (ENOSYS); it administered knfsd.
        "nfsservctl" => Dangerous("NFS server administration (removed)"),

        // ---- no path ----
        // personality: only ABI-changing personalities are dangerous (e.g.
        // READ_IMPLIES_EXEC, ADDR_LIMIT_32BIT, PER_LINUX32 vs the syscall
        // ABI); the core checks the persona argument.
        "personality" => NoPath,
        // kcmp only compares kernel objects of two processes (ptrace-read
        // access); seccomp can only restrict the caller further (its filters
        // run after the ptrace syscall-entry stop since Linux 4.8).
        "kcmp" | "seccomp" => NoPath,
        // Signals: the core checks the target pids of kill/tkill/tgkill/
        // rt_(tg)sigqueueinfo/pidfd_send_signal (issue 4: no signals out of
        // the jail); there is no path.
        "kill" | "tkill" | "tgkill" | "rt_sigqueueinfo" | "rt_tgsigqueueinfo"
        | "pidfd_send_signal" | "pidfd_open" => NoPath,
        // Processes: clone/clone3/vfork/fork are checked by the core
        // (CLONE_UNTRACED, namespace flags).
        "clone" | "clone3" | "fork" | "vfork" | "exit" | "exit_group" | "wait4" | "waitid"
        | "waitpid" | "getpid" | "getppid" | "gettid" | "getpgid" | "setpgid" | "getpgrp"
        | "getsid" | "setsid" | "set_tid_address" | "set_robust_list" | "get_robust_list"
        | "restart_syscall" | "rseq" | "membarrier" | "prctl" | "arch_prctl"
        | "set_thread_area" | "get_thread_area" | "process_madvise" | "process_mrelease"
        | "getcpu" | "umask" | "getcwd" => NoPath,
        // Credentials (16- and 32-bit id forms) and capabilities.
        "getuid" | "geteuid" | "getgid" | "getegid" | "getuid32" | "geteuid32" | "getgid32"
        | "getegid32" | "setuid" | "setgid" | "setuid32" | "setgid32" | "setreuid" | "setregid"
        | "setreuid32" | "setregid32" | "setresuid" | "setresgid" | "setresuid32"
        | "setresgid32" | "getresuid" | "getresgid" | "getresuid32" | "getresgid32"
        | "setfsuid" | "setfsgid" | "setfsuid32" | "setfsgid32" | "getgroups" | "setgroups"
        | "getgroups32" | "setgroups32" | "capget" | "capset" => NoPath,
        // Landlock only restricts the caller (landlock_add_rule takes an
        // O_PATH fd that was opened under this policy).
        "landlock_create_ruleset" | "landlock_add_rule" | "landlock_restrict_self" => NoPath,
        // Scheduling, limits, priorities.
        "sched_yield"
        | "sched_setparam"
        | "sched_getparam"
        | "sched_setscheduler"
        | "sched_getscheduler"
        | "sched_get_priority_max"
        | "sched_get_priority_min"
        | "sched_rr_get_interval"
        | "sched_rr_get_interval_time64"
        | "sched_setaffinity"
        | "sched_getaffinity"
        | "sched_setattr"
        | "sched_getattr"
        | "getpriority"
        | "setpriority"
        | "nice"
        | "ioprio_get"
        | "ioprio_set"
        | "getrlimit"
        | "setrlimit"
        | "ugetrlimit"
        | "prlimit64"
        | "getrusage"
        | "times" => NoPath,
        // Signals of the caller.
        "rt_sigaction"
        | "rt_sigprocmask"
        | "rt_sigpending"
        | "rt_sigsuspend"
        | "rt_sigtimedwait"
        | "rt_sigtimedwait_time64"
        | "rt_sigreturn"
        | "sigaction"
        | "signal"
        | "sigprocmask"
        | "sigpending"
        | "sigsuspend"
        | "sigreturn"
        | "sigaltstack"
        | "sgetmask"
        | "ssetmask"
        | "pause"
        | "alarm" => NoPath,
        // Time and timers (setting the clock needs CAP_SYS_TIME).
        "time"
        | "stime"
        | "gettimeofday"
        | "settimeofday"
        | "adjtimex"
        | "clock_gettime"
        | "clock_gettime64"
        | "clock_settime"
        | "clock_settime64"
        | "clock_getres"
        | "clock_getres_time64"
        | "clock_adjtime"
        | "clock_adjtime64"
        | "clock_nanosleep"
        | "clock_nanosleep_time64"
        | "nanosleep"
        | "getitimer"
        | "setitimer"
        | "timer_create"
        | "timer_delete"
        | "timer_settime"
        | "timer_settime64"
        | "timer_gettime"
        | "timer_gettime64"
        | "timer_getoverrun"
        | "timerfd_create"
        | "timerfd_settime"
        | "timerfd_settime64"
        | "timerfd_gettime"
        | "timerfd_gettime64" => NoPath,
        // Memory. mmap/mprotect with PROT_EXEC of a file opened for reading
        // runs its code without Exec access (that is how ld.so loads
        // libraries); the policy's Exec is about execve only.
        "brk"
        | "mmap"
        | "mmap2"
        | "munmap"
        | "mremap"
        | "mprotect"
        | "pkey_mprotect"
        | "pkey_alloc"
        | "pkey_free"
        | "madvise"
        | "msync"
        | "mincore"
        | "mlock"
        | "mlock2"
        | "munlock"
        | "mlockall"
        | "munlockall"
        | "remap_file_pages"
        | "mbind"
        | "set_mempolicy"
        | "get_mempolicy"
        | "set_mempolicy_home_node"
        | "migrate_pages"
        | "move_pages"
        | "memfd_create"
        | "memfd_secret" => NoPath,
        // I/O on open fds: their access mode was granted when they were
        // opened (through this policy, or inherited on purpose). Queries by
        // fd (fstat, fstatfs, fgetxattr, flistxattr, getdents, i386 readdir)
        // reveal no more than the open that made the fd needed.
        // ioctl: FS_IOC_SETFLAGS and TIOCSTI act beyond the open mode; the
        // core may filter requests, there is no path.
        "read" | "write" | "readv" | "writev" | "pread64" | "pwrite64" | "preadv" | "pwritev"
        | "preadv2" | "pwritev2" | "lseek" | "_llseek" | "sendfile" | "sendfile64" | "splice"
        | "tee" | "vmsplice" | "copy_file_range" | "close" | "close_range" | "dup" | "dup2"
        | "dup3" | "fcntl" | "fcntl64" | "ioctl" | "flock" | "fsync" | "fdatasync" | "syncfs"
        | "sync" | "sync_file_range" | "fadvise64" | "fadvise64_64" | "readahead" | "fstat"
        | "fstat64" | "oldfstat" | "fstatfs" | "fstatfs64" | "fgetxattr" | "flistxattr"
        | "getdents" | "getdents64" | "readdir" | "pipe" | "pipe2" => NoPath,
        // Linux AIO works on open fds (no open, no path).
        "io_setup"
        | "io_destroy"
        | "io_submit"
        | "io_cancel"
        | "io_getevents"
        | "io_pgetevents"
        | "io_pgetevents_time64" => NoPath,
        // Event and notification fds (inotify_add_watch is above).
        "poll" | "ppoll" | "ppoll_time64" | "select" | "_newselect" | "pselect6"
        | "pselect6_time64" | "epoll_create" | "epoll_create1" | "epoll_ctl" | "epoll_wait"
        | "epoll_pwait" | "epoll_pwait2" | "epoll_ctl_old" | "epoll_wait_old" | "eventfd"
        | "eventfd2" | "signalfd" | "signalfd4" | "inotify_init" | "inotify_init1"
        | "inotify_rm_watch" | "fanotify_init" | "futex" | "futex_time64" | "futex_waitv" => NoPath,
        // Sockets without an address to resolve (accept, getsockname,
        // recvfrom ... only write addresses out).
        "socket" | "socketpair" | "listen" | "accept" | "accept4" | "getsockname"
        | "getpeername" | "getsockopt" | "setsockopt" | "shutdown" | "recvfrom" | "recvmsg"
        | "recvmmsg" | "recvmmsg_time64" => NoPath,
        // SysV IPC (and the i386 ipc multiplexer) lives in the IPC namespace,
        // not the filesystem. POSIX message queues are named in the mqueue
        // filesystem's private mount, not the caller's tree: mq_open's name
        // is not a path of the policy. Keys are not files.
        "ipc"
        | "msgget"
        | "msgsnd"
        | "msgrcv"
        | "msgctl"
        | "semget"
        | "semop"
        | "semctl"
        | "semtimedop"
        | "semtimedop_time64"
        | "shmget"
        | "shmat"
        | "shmdt"
        | "shmctl"
        | "mq_open"
        | "mq_unlink"
        | "mq_timedsend"
        | "mq_timedsend_time64"
        | "mq_timedreceive"
        | "mq_timedreceive_time64"
        | "mq_notify"
        | "mq_getsetattr"
        | "add_key"
        | "request_key"
        | "keyctl" => NoPath,
        // System information and administration by capability (no path):
        // ustat takes a device number, sysfs(2) filesystem type names,
        // syslog is gated by dmesg_restrict/CAP_SYSLOG.
        "uname" | "olduname" | "oldolduname" | "sysinfo" | "getrandom" | "ustat" | "sysfs"
        | "syslog" | "sethostname" | "setdomainname" | "vhangup" | "bdflush" => NoPath,
        // Not implemented by the kernel (ENOSYS), or removed (_sysctl in 5.5).
        "break" | "stty" | "gtty" | "ftime" | "prof" | "lock" | "mpx" | "ulimit" | "profil"
        | "idle" | "afs_syscall" | "getpmsg" | "putpmsg" | "security" | "tuxcall" | "vserver"
        | "_sysctl" => NoPath,

        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ujail_regs::{signature_for, ArgKind};

    const ABIS: [Abi; 2] = [Abi::I386, Abi::X86_64];

    fn paths(abi: Abi, name: &str) -> &'static [PathArg] {
        match classify(abi, name) {
            Some(Class::Paths(p)) => p,
            other => panic!("{abi} {name}: expected Paths, got {other:?}"),
        }
    }

    #[test]
    fn every_syscall_of_both_tables_is_classified() {
        let mut missing = Vec::new();
        for abi in ABIS {
            for (nr, name) in table::all(abi) {
                if classify(abi, name).is_none() {
                    missing.push(format!("{abi} {nr} {name}"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "{} unclassified syscalls (add them to classify.rs): {}",
            missing.len(),
            missing.join(", ")
        );
    }

    #[test]
    fn names_outside_the_table_are_none() {
        assert_eq!(classify(Abi::X86_64, "no_such_call"), None);
        assert_eq!(classify(Abi::X86_64, ""), None);
        // ABI-specific names only exist in their own ABI.
        assert_eq!(classify(Abi::X86_64, "socketcall"), None);
        assert_eq!(classify(Abi::X86_64, "fstatat64"), None);
        assert_eq!(classify(Abi::I386, "newfstatat"), None);
        assert_eq!(classify(Abi::I386, "kexec_file_load"), None);
        assert_eq!(classify(Abi::I386, "socketcall"), Some(Class::Socket));
    }

    /// Every argument the trace signatures of ujail-regs show as a path is a
    /// path argument here, at the same index (an independent check of the
    /// indexes), except symlink's target, which is stored text.
    #[test]
    fn path_indexes_agree_with_trace_signatures() {
        for abi in ABIS {
            for (_, name) in table::all(abi) {
                let Some(kinds) = signature_for(abi, name) else {
                    continue;
                };
                let mut expected: Vec<u8> = kinds
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| **k == ArgKind::Path)
                    .map(|(i, _)| u8::try_from(i).unwrap())
                    .collect();
                if name == "symlink" || name == "symlinkat" {
                    expected.retain(|&i| i != 0);
                }
                let mut got: Vec<u8> = match classify(abi, name).unwrap() {
                    Class::Paths(p) => p.iter().map(|a| a.path).collect(),
                    Class::Open { path, .. } | Class::Creat { path } => vec![path],
                    Class::OpenAt2 => vec![1],
                    Class::Dangerous(_) => dangerous_paths(abi, name)
                        .unwrap_or_default()
                        .iter()
                        .map(|a| a.path)
                        .collect(),
                    Class::NoPath | Class::Socket | Class::FdOnly => vec![],
                };
                expected.sort_unstable();
                got.sort_unstable();
                assert_eq!(got, expected, "{abi} {name}");
            }
        }
    }

    #[test]
    fn argument_indexes_are_sane() {
        let in_range = |i: u8| usize::from(i) < 6;
        let check_follow = |abi: Abi, name: &str, f: Follow| match f {
            Follow::UnlessFlag { arg, bit } | Follow::IfFlag { arg, bit } => {
                assert!(in_range(arg) && bit != 0, "{abi} {name}")
            }
            Follow::OpenFlags { arg } => assert!(in_range(arg), "{abi} {name}"),
            Follow::Always | Follow::Never => {}
        };
        for abi in ABIS {
            for (_, name) in table::all(abi) {
                let args: &[PathArg] = match classify(abi, name).unwrap() {
                    Class::Paths(p) => p,
                    Class::Dangerous(_) => match dangerous_paths(abi, name) {
                        Some(p) => p,
                        None => continue,
                    },
                    Class::Open { path, dirfd, flags } => {
                        assert!(in_range(path) && in_range(flags) && path != flags);
                        assert!(dirfd.is_none_or(|d| in_range(d) && d != path));
                        continue;
                    }
                    _ => continue,
                };
                assert!(!args.is_empty(), "{abi} {name}");
                for a in args {
                    assert!(in_range(a.path), "{abi} {name}");
                    assert!(
                        a.dirfd.is_none_or(|d| in_range(d) && d != a.path),
                        "{abi} {name}"
                    );
                    if let Some((arg, bit)) = a.empty_path {
                        assert!(in_range(arg) && bit != 0 && arg != a.path, "{abi} {name}");
                        assert!(a.dirfd.is_some(), "{abi} {name}: empty path needs a dirfd");
                    }
                    if a.null_means_dirfd || a.empty_means_dirfd {
                        assert!(a.dirfd.is_some(), "{abi} {name}");
                    }
                    check_follow(abi, name, a.follow);
                }
            }
        }
    }

    #[test]
    fn open_indexes_per_abi() {
        for abi in ABIS {
            assert_eq!(
                classify(abi, "openat"),
                Some(Class::Open {
                    path: 1,
                    dirfd: Some(0),
                    flags: 2
                }),
                "{abi}"
            );
            assert_eq!(
                classify(abi, "open"),
                Some(Class::Open {
                    path: 0,
                    dirfd: None,
                    flags: 1
                }),
                "{abi}"
            );
            assert_eq!(classify(abi, "creat"), Some(Class::Creat { path: 0 }));
            assert_eq!(classify(abi, "openat2"), Some(Class::OpenAt2));
        }
    }

    #[test]
    fn renameat2_has_two_path_args() {
        for abi in ABIS {
            let p = paths(abi, "renameat2");
            assert_eq!(p.len(), 2);
            assert_eq!(
                (p[0].dirfd, p[0].path, p[0].op),
                (Some(0), 1, PathOp::Remove)
            );
            assert_eq!(
                (p[1].dirfd, p[1].path, p[1].op),
                (Some(2), 3, PathOp::Create)
            );
            assert_eq!(p[0].follow, Follow::Never);
            assert_eq!(p[1].follow, Follow::Never);
        }
    }

    #[test]
    fn linkat_follows_only_with_at_symlink_follow() {
        assert_eq!(AT_SYMLINK_FOLLOW, 0x400);
        for abi in ABIS {
            let p = paths(abi, "linkat");
            assert_eq!(p.len(), 2);
            assert_eq!(p[0].follow, Follow::IfFlag { arg: 4, bit: 0x400 });
            assert_eq!(p[0].empty_path, Some((4, 0x1000)));
            let mut args = [0u64; 6];
            assert!(!p[0].follow.follows(&args));
            args[4] = 0x400;
            assert!(p[0].follow.follows(&args));
            assert_eq!(
                (p[1].dirfd, p[1].path, p[1].op),
                (Some(2), 3, PathOp::Create)
            );
            assert_eq!(paths(abi, "link")[0].follow, Follow::Never);
        }
    }

    #[test]
    fn fstatat_and_statx_flags() {
        assert_eq!((AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH), (0x100, 0x1000));
        let fstatat = [(Abi::I386, "fstatat64"), (Abi::X86_64, "newfstatat")];
        for (abi, name) in fstatat {
            let p = paths(abi, name);
            assert_eq!((p[0].dirfd, p[0].path, p[0].op), (Some(0), 1, PathOp::Stat));
            assert_eq!(p[0].follow, Follow::UnlessFlag { arg: 3, bit: 0x100 });
            assert_eq!(p[0].empty_path, Some((3, 0x1000)));
            let mut args = [0u64; 6];
            assert!(p[0].follow.follows(&args));
            args[3] = 0x100;
            assert!(!p[0].follow.follows(&args));
            assert!(!p[0].names_dirfd_object(&args, false, true));
            args[3] = 0x1000;
            assert!(p[0].names_dirfd_object(&args, false, true));
            assert!(!p[0].names_dirfd_object(&args, false, false));
        }
        for abi in ABIS {
            let p = paths(abi, "statx");
            assert_eq!(p[0].follow, Follow::UnlessFlag { arg: 2, bit: 0x100 });
            assert_eq!(p[0].empty_path, Some((2, 0x1000)));
            let p = paths(abi, "execveat");
            assert_eq!((p[0].dirfd, p[0].path, p[0].op), (Some(0), 1, PathOp::Exec));
            assert_eq!(p[0].follow, Follow::UnlessFlag { arg: 4, bit: 0x100 });
            assert_eq!(p[0].empty_path, Some((4, 0x1000)));
            let p = paths(abi, "faccessat2");
            assert_eq!(p[0].follow, Follow::UnlessFlag { arg: 3, bit: 0x100 });
            assert_eq!(p[0].empty_path, Some((3, 0x1000)));
            // faccessat and fchmodat have no flags argument in the kernel.
            assert_eq!(paths(abi, "faccessat")[0].follow, Follow::Always);
            assert_eq!(paths(abi, "fchmodat")[0].follow, Follow::Always);
            assert_eq!(paths(abi, "fchmodat")[0].empty_path, None);
            let p = paths(abi, "fchownat");
            assert_eq!(p[0].follow, Follow::UnlessFlag { arg: 4, bit: 0x100 });
            assert_eq!(p[0].empty_path, Some((4, 0x1000)));
        }
        // fchmodat2 is not in the 6.1 tables; if a regenerated table has it,
        // the completeness test names it.
        assert_eq!(classify(Abi::X86_64, "fchmodat2"), None);
    }

    #[test]
    fn utimensat_null_path_is_the_dirfd() {
        for abi in ABIS {
            for name in ["utimensat", "futimesat"] {
                let p = paths(abi, name)[0];
                assert!(p.null_means_dirfd, "{abi} {name}");
                assert!(p.names_dirfd_object(&[0; 6], true, false));
                assert!(
                    !p.names_dirfd_object(&[0; 6], false, true),
                    "{name}: empty needs the flag"
                );
            }
            assert_eq!(
                paths(abi, "utimensat")[0].follow,
                Follow::UnlessFlag { arg: 3, bit: 0x100 }
            );
            let utime = paths(abi, "utime")[0];
            assert!(!utime.names_dirfd_object(&[0; 6], true, false));
        }
        assert!(paths(Abi::I386, "utimensat_time64")[0].null_means_dirfd);
    }

    #[test]
    fn readlinkat_empty_path_is_the_dirfd() {
        for abi in ABIS {
            let p = paths(abi, "readlinkat")[0];
            assert_eq!((p.dirfd, p.path, p.follow), (Some(0), 1, Follow::Never));
            assert!(p.names_dirfd_object(&[0; 6], false, true));
        }
    }

    #[test]
    fn fanotify_mark_indexes_shift_on_i386() {
        let p = paths(Abi::X86_64, "fanotify_mark")[0];
        assert_eq!((p.dirfd, p.path), (Some(3), 4));
        let p = paths(Abi::I386, "fanotify_mark")[0];
        assert_eq!((p.dirfd, p.path), (Some(4), 5));
        for abi in ABIS {
            let p = paths(abi, "fanotify_mark")[0];
            assert_eq!(p.follow, Follow::UnlessFlag { arg: 1, bit: 0x4 });
            assert!(p.null_means_dirfd);
        }
    }

    #[test]
    fn i386_specific_forms() {
        let i = Abi::I386;
        assert_eq!(paths(i, "oldstat")[0].follow, Follow::Always);
        assert_eq!(paths(i, "oldlstat")[0].follow, Follow::Never);
        assert_eq!(paths(i, "stat64")[0].follow, Follow::Always);
        assert_eq!(paths(i, "lstat64")[0].follow, Follow::Never);
        assert_eq!(paths(i, "lchown")[0].follow, Follow::Never);
        assert_eq!(paths(i, "lchown32")[0].follow, Follow::Never);
        assert_eq!(paths(i, "chown")[0].follow, Follow::Always);
        assert_eq!(paths(i, "chown32")[0].follow, Follow::Always);
        assert_eq!(paths(i, "truncate64")[0].op, PathOp::Write);
        assert_eq!(paths(i, "statfs64")[0].path, 0);
        assert_eq!(classify(i, "readdir"), Some(Class::NoPath));
        assert_eq!(classify(i, "ipc"), Some(Class::NoPath));
        assert_eq!(classify(i, "fchown32"), Some(Class::FdOnly));
        assert_eq!(classify(i, "ftruncate64"), Some(Class::FdOnly));
        assert!(matches!(classify(i, "vm86"), Some(Class::Dangerous(_))));
        assert!(matches!(classify(i, "vm86old"), Some(Class::Dangerous(_))));
        assert!(matches!(classify(i, "umount"), Some(Class::Dangerous(_))));
    }

    #[test]
    fn lookups_with_their_own_flags() {
        for abi in ABIS {
            let p = paths(abi, "inotify_add_watch")[0];
            assert_eq!((p.dirfd, p.path, p.op), (None, 1, PathOp::Stat));
            assert_eq!(
                p.follow,
                Follow::UnlessFlag {
                    arg: 2,
                    bit: 0x0200_0000
                }
            );
            let p = paths(abi, "name_to_handle_at")[0];
            assert_eq!(p.follow, Follow::IfFlag { arg: 4, bit: 0x400 });
            assert_eq!(p.empty_path, Some((4, 0x1000)));
            let p = paths(abi, "symlinkat");
            assert_eq!(p.len(), 1, "the target is not a path access");
            assert_eq!(
                (p[0].dirfd, p[0].path, p[0].op),
                (Some(1), 2, PathOp::Create)
            );
            let p = paths(abi, "link");
            assert_eq!((p[0].op, p[1].op), (PathOp::Write, PathOp::Create));
        }
    }

    #[test]
    fn dangerous_by_default() {
        let names = [
            "io_uring_setup",
            "io_uring_enter",
            "io_uring_register",
            "ptrace",
            "process_vm_readv",
            "process_vm_writev",
            "bpf",
            "perf_event_open",
            "userfaultfd",
            "open_by_handle_at",
            "kexec_load",
            "kexec_file_load",
            "init_module",
            "finit_module",
            "delete_module",
            "mount",
            "umount",
            "umount2",
            "pivot_root",
            "move_mount",
            "open_tree",
            "fsopen",
            "fsconfig",
            "fsmount",
            "fspick",
            "mount_setattr",
            "setns",
            "unshare",
            "chroot",
            "swapon",
            "swapoff",
            "reboot",
            "acct",
            "quotactl",
            "quotactl_fd",
            "iopl",
            "ioperm",
            "modify_ldt",
            "vm86",
            "vm86old",
            "lookup_dcookie",
            "nfsservctl",
            "pidfd_getfd",
        ];
        let mut seen = 0;
        for abi in ABIS {
            for name in names {
                if table::number(abi, name).is_none() {
                    continue;
                }
                seen += 1;
                match classify(abi, name) {
                    Some(Class::Dangerous(reason)) => assert!(!reason.is_empty()),
                    other => panic!("{abi} {name}: {other:?}"),
                }
            }
        }
        assert!(seen > 70, "{seen}");
        for abi in ABIS {
            for name in ["personality", "kcmp", "seccomp", "clone", "clone3", "kill"] {
                assert_eq!(classify(abi, name), Some(Class::NoPath), "{abi} {name}");
            }
        }
    }

    #[test]
    fn dangerous_paths_for_allowed_admin_calls() {
        for abi in ABIS {
            assert_eq!(dangerous_paths(abi, "mount").unwrap()[0].path, 1);
            let p = dangerous_paths(abi, "umount2").unwrap()[0];
            assert_eq!(p.follow, Follow::UnlessFlag { arg: 1, bit: 8 });
            assert_eq!(dangerous_paths(abi, "pivot_root").unwrap().len(), 2);
            let p = dangerous_paths(abi, "quotactl").unwrap()[0];
            assert_eq!((p.path, p.op), (1, PathOp::Admin));
            let p = dangerous_paths(abi, "move_mount").unwrap();
            assert_eq!(
                (p[0].dirfd, p[0].path, p[1].dirfd, p[1].path),
                (Some(0), 1, Some(2), 3)
            );
            assert_eq!(p[0].empty_path, Some((4, 0x04)));
            assert_eq!(p[1].empty_path, Some((4, 0x40)));
            assert_eq!(dangerous_paths(abi, "chroot").unwrap()[0].op, PathOp::Admin);
            assert_eq!(dangerous_paths(abi, "ptrace"), None);
            assert_eq!(dangerous_paths(abi, "stat"), None);
        }
        assert!(dangerous_paths(Abi::I386, "umount").is_some());
    }

    #[test]
    fn fd_only_calls_have_an_op() {
        for abi in ABIS {
            for (_, name) in table::all(abi) {
                let fd_only = classify(abi, name) == Some(Class::FdOnly);
                assert_eq!(fd_op(abi, name).is_some(), fd_only, "{abi} {name}");
            }
            assert_eq!(fd_op(abi, "fchmod"), Some((0, PathOp::SetAttr)));
            assert_eq!(fd_op(abi, "ftruncate"), Some((0, PathOp::Write)));
            assert_eq!(fd_op(abi, "fchdir"), Some((0, PathOp::Stat)));
            assert_eq!(fd_op(abi, "read"), None);
        }
    }

    #[test]
    fn socket_calls() {
        for abi in ABIS {
            for name in ["bind", "connect", "sendto", "sendmsg", "sendmmsg"] {
                assert_eq!(classify(abi, name), Some(Class::Socket), "{abi} {name}");
                assert!(socket_addr(name).is_some());
            }
        }
        assert_eq!(
            socket_addr("connect"),
            Some((PathOp::Connect, SockAddrArg::Direct { addr: 1, len: 2 }))
        );
        assert_eq!(socket_addr("bind").unwrap().0, PathOp::Create);
        assert_eq!(
            socket_addr("sendto").unwrap().1,
            SockAddrArg::Direct { addr: 4, len: 5 }
        );
        assert_eq!(socket_addr("recvfrom"), None);
        assert_eq!(socketcall_name(0), None);
        assert_eq!(socketcall_name(2), Some("bind"));
        assert_eq!(socketcall_name(3), Some("connect"));
        assert_eq!(socketcall_name(11), Some("sendto"));
        assert_eq!(socketcall_name(16), Some("sendmsg"));
        assert_eq!(socketcall_name(20), Some("sendmmsg"));
        assert_eq!(socketcall_name(21), None);
        assert_eq!(socketcall_name(u64::MAX), None);
    }

    #[test]
    fn open_op_by_flags() {
        assert_eq!(open_op(0), PathOp::Read);
        assert_eq!(open_op(O_DIRECTORY), PathOp::Read);
        assert_eq!(open_op(O_WRONLY), PathOp::Write);
        assert_eq!(open_op(O_RDWR), PathOp::Write);
        assert_eq!(open_op(O_ACCMODE), PathOp::Write);
        assert_eq!(
            open_op(O_TRUNC),
            PathOp::Write,
            "O_RDONLY|O_TRUNC truncates"
        );
        assert_eq!(open_op(O_WRONLY | O_CREAT | O_TRUNC), PathOp::Write);
        assert_eq!(open_op(O_PATH), PathOp::Stat);
        assert_eq!(
            open_op(O_PATH | O_RDWR | O_TRUNC),
            PathOp::Stat,
            "O_PATH drops them"
        );
        assert_eq!(O_TMPFILE, 0o20_200_000);
        assert_eq!(open_op(O_TMPFILE | O_RDWR), PathOp::Create);
        assert_eq!(open_op(O_TMPFILE | O_WRONLY), PathOp::Create);

        assert!(!open_may_create(O_RDWR | O_TRUNC));
        assert!(open_may_create(O_CREAT));
        assert!(open_may_create(O_WRONLY | O_CREAT | O_EXCL));
        assert!(open_may_create(O_TMPFILE | O_RDWR));
        assert!(!open_may_create(O_PATH | O_CREAT));

        assert_eq!(open_effective_op(O_WRONLY | O_CREAT, false), PathOp::Create);
        assert_eq!(open_effective_op(O_WRONLY | O_CREAT, true), PathOp::Write);
        assert_eq!(open_effective_op(O_CREAT, true), PathOp::Read);
        assert_eq!(open_effective_op(0, false), PathOp::Read);
        assert_eq!(open_effective_op(O_TMPFILE | O_RDWR, true), PathOp::Create);
        assert_eq!(open_effective_op(CREAT_FLAGS, false), PathOp::Create);
        assert_eq!(open_effective_op(CREAT_FLAGS, true), PathOp::Write);
    }

    #[test]
    fn open_follow_rules() {
        assert!(open_follows_last(0));
        assert!(open_follows_last(O_CREAT));
        assert!(
            open_follows_last(O_EXCL),
            "O_EXCL alone is not O_CREAT|O_EXCL"
        );
        assert!(!open_follows_last(O_NOFOLLOW));
        assert!(!open_follows_last(O_CREAT | O_EXCL | O_WRONLY));
        assert!(!open_follows_last(O_PATH | O_NOFOLLOW));
        assert!(
            open_follows_last(O_PATH | O_CREAT | O_EXCL),
            "O_PATH drops O_CREAT"
        );
        let mut args = [0u64; 6];
        let f = Follow::OpenFlags { arg: 2 };
        assert!(f.follows(&args));
        args[2] = O_NOFOLLOW;
        assert!(!f.follows(&args));
        assert!(
            !Follow::OpenFlags { arg: 9 }.follows(&args),
            "bad index fails closed"
        );
    }

    #[test]
    fn open_how_parse() {
        let mut bytes = Vec::new();
        for v in [
            O_RDWR | O_CREAT,
            0o644,
            RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
        ] {
            bytes.extend_from_slice(&u64::to_le_bytes(v));
        }
        let how = OpenHow::parse(&bytes).unwrap();
        assert_eq!(
            how,
            OpenHow {
                flags: O_RDWR | O_CREAT,
                mode: 0o644,
                resolve: 0x0c
            }
        );
        assert!(!how.follows_last());
        assert!(OpenHow::parse(&bytes[..OpenHow::SIZE_VER0 - 1]).is_none());
        assert!(OpenHow::parse(&[]).is_none());
        let how = OpenHow { resolve: 0, ..how };
        assert!(how.follows_last());
    }

    /// Our constants against the C library's (the same on both targets).
    #[test]
    fn constants_match_libc() {
        let c = |v: libc::c_int| u64::try_from(v).unwrap();
        assert_eq!(AT_SYMLINK_NOFOLLOW, c(libc::AT_SYMLINK_NOFOLLOW));
        assert_eq!(AT_REMOVEDIR, c(libc::AT_REMOVEDIR));
        assert_eq!(AT_SYMLINK_FOLLOW, c(libc::AT_SYMLINK_FOLLOW));
        assert_eq!(AT_EMPTY_PATH, c(libc::AT_EMPTY_PATH));
        assert_eq!(AT_FDCWD, i64::from(libc::AT_FDCWD));
        assert_eq!(O_WRONLY, c(libc::O_WRONLY));
        assert_eq!(O_RDWR, c(libc::O_RDWR));
        assert_eq!(O_ACCMODE, c(libc::O_ACCMODE));
        assert_eq!(O_CREAT, c(libc::O_CREAT));
        assert_eq!(O_EXCL, c(libc::O_EXCL));
        assert_eq!(O_TRUNC, c(libc::O_TRUNC));
        assert_eq!(O_DIRECTORY, c(libc::O_DIRECTORY));
        assert_eq!(O_NOFOLLOW, c(libc::O_NOFOLLOW));
        assert_eq!(O_CLOEXEC, c(libc::O_CLOEXEC));
        assert_eq!(O_PATH, c(libc::O_PATH));
        assert_eq!(O_TMPFILE, c(libc::O_TMPFILE));
        assert_eq!(IN_DONT_FOLLOW, u64::from(libc::IN_DONT_FOLLOW));
        assert_eq!(FAN_MARK_DONT_FOLLOW, u64::from(libc::FAN_MARK_DONT_FOLLOW));
        assert_eq!(UMOUNT_NOFOLLOW, c(libc::UMOUNT_NOFOLLOW));
        assert_eq!(RESOLVE_NO_SYMLINKS, libc::RESOLVE_NO_SYMLINKS);
        assert_eq!(RESOLVE_BENEATH, libc::RESOLVE_BENEATH);
        assert_eq!(RESOLVE_IN_ROOT, libc::RESOLVE_IN_ROOT);
        assert_eq!(RESOLVE_NO_XDEV, libc::RESOLVE_NO_XDEV);
        assert_eq!(RESOLVE_NO_MAGICLINKS, libc::RESOLVE_NO_MAGICLINKS);
        assert_eq!(RESOLVE_CACHED, libc::RESOLVE_CACHED);
    }

    /// A summary for the report: class counts per ABI (printed with
    /// `--nocapture`), and a floor so the test can fail.
    #[test]
    fn class_counts() {
        for abi in ABIS {
            let mut counts = std::collections::BTreeMap::<&str, usize>::new();
            for (_, name) in table::all(abi) {
                let key = match classify(abi, name) {
                    Some(Class::NoPath) => "NoPath",
                    Some(Class::Paths(_)) => "Paths",
                    Some(Class::Open { .. }) => "Open",
                    Some(Class::Creat { .. }) => "Creat",
                    Some(Class::OpenAt2) => "OpenAt2",
                    Some(Class::Socket) => "Socket",
                    Some(Class::FdOnly) => "FdOnly",
                    Some(Class::Dangerous(_)) => "Dangerous",
                    None => "unclassified",
                };
                *counts.entry(key).or_default() += 1;
            }
            println!("{abi}: {counts:?}");
            assert!(counts.get("Paths").copied().unwrap_or(0) > 40, "{abi}");
            assert_eq!(counts.get("unclassified"), None, "{abi}");
        }
    }
}
