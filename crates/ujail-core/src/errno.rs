// SPDX-License-Identifier: GPL-3.0-or-later
//! errno names of Linux on x86 (i386 and x86_64 share them), taken from
//! the kernel's include/uapi/asm-generic/errno-base.h and errno.h.
#![forbid(unsafe_code)]

/// `(number, name)` for every errno, sorted by number.
const ERRNOS: &[(i32, &str)] = &[
    (1, "EPERM"),
    (2, "ENOENT"),
    (3, "ESRCH"),
    (4, "EINTR"),
    (5, "EIO"),
    (6, "ENXIO"),
    (7, "E2BIG"),
    (8, "ENOEXEC"),
    (9, "EBADF"),
    (10, "ECHILD"),
    (11, "EAGAIN"),
    (12, "ENOMEM"),
    (13, "EACCES"),
    (14, "EFAULT"),
    (15, "ENOTBLK"),
    (16, "EBUSY"),
    (17, "EEXIST"),
    (18, "EXDEV"),
    (19, "ENODEV"),
    (20, "ENOTDIR"),
    (21, "EISDIR"),
    (22, "EINVAL"),
    (23, "ENFILE"),
    (24, "EMFILE"),
    (25, "ENOTTY"),
    (26, "ETXTBSY"),
    (27, "EFBIG"),
    (28, "ENOSPC"),
    (29, "ESPIPE"),
    (30, "EROFS"),
    (31, "EMLINK"),
    (32, "EPIPE"),
    (33, "EDOM"),
    (34, "ERANGE"),
    (35, "EDEADLK"),
    (36, "ENAMETOOLONG"),
    (37, "ENOLCK"),
    (38, "ENOSYS"),
    (39, "ENOTEMPTY"),
    (40, "ELOOP"),
    (42, "ENOMSG"),
    (43, "EIDRM"),
    (44, "ECHRNG"),
    (45, "EL2NSYNC"),
    (46, "EL3HLT"),
    (47, "EL3RST"),
    (48, "ELNRNG"),
    (49, "EUNATCH"),
    (50, "ENOCSI"),
    (51, "EL2HLT"),
    (52, "EBADE"),
    (53, "EBADR"),
    (54, "EXFULL"),
    (55, "ENOANO"),
    (56, "EBADRQC"),
    (57, "EBADSLT"),
    (59, "EBFONT"),
    (60, "ENOSTR"),
    (61, "ENODATA"),
    (62, "ETIME"),
    (63, "ENOSR"),
    (64, "ENONET"),
    (65, "ENOPKG"),
    (66, "EREMOTE"),
    (67, "ENOLINK"),
    (68, "EADV"),
    (69, "ESRMNT"),
    (70, "ECOMM"),
    (71, "EPROTO"),
    (72, "EMULTIHOP"),
    (73, "EDOTDOT"),
    (74, "EBADMSG"),
    (75, "EOVERFLOW"),
    (76, "ENOTUNIQ"),
    (77, "EBADFD"),
    (78, "EREMCHG"),
    (79, "ELIBACC"),
    (80, "ELIBBAD"),
    (81, "ELIBSCN"),
    (82, "ELIBMAX"),
    (83, "ELIBEXEC"),
    (84, "EILSEQ"),
    (85, "ERESTART"),
    (86, "ESTRPIPE"),
    (87, "EUSERS"),
    (88, "ENOTSOCK"),
    (89, "EDESTADDRREQ"),
    (90, "EMSGSIZE"),
    (91, "EPROTOTYPE"),
    (92, "ENOPROTOOPT"),
    (93, "EPROTONOSUPPORT"),
    (94, "ESOCKTNOSUPPORT"),
    (95, "EOPNOTSUPP"),
    (96, "EPFNOSUPPORT"),
    (97, "EAFNOSUPPORT"),
    (98, "EADDRINUSE"),
    (99, "EADDRNOTAVAIL"),
    (100, "ENETDOWN"),
    (101, "ENETUNREACH"),
    (102, "ENETRESET"),
    (103, "ECONNABORTED"),
    (104, "ECONNRESET"),
    (105, "ENOBUFS"),
    (106, "EISCONN"),
    (107, "ENOTCONN"),
    (108, "ESHUTDOWN"),
    (109, "ETOOMANYREFS"),
    (110, "ETIMEDOUT"),
    (111, "ECONNREFUSED"),
    (112, "EHOSTDOWN"),
    (113, "EHOSTUNREACH"),
    (114, "EALREADY"),
    (115, "EINPROGRESS"),
    (116, "ESTALE"),
    (117, "EUCLEAN"),
    (118, "ENOTNAM"),
    (119, "ENAVAIL"),
    (120, "EISNAM"),
    (121, "EREMOTEIO"),
    (122, "EDQUOT"),
    (123, "ENOMEDIUM"),
    (124, "EMEDIUMTYPE"),
    (125, "ECANCELED"),
    (126, "ENOKEY"),
    (127, "EKEYEXPIRED"),
    (128, "EKEYREVOKED"),
    (129, "EKEYREJECTED"),
    (130, "EOWNERDEAD"),
    (131, "ENOTRECOVERABLE"),
    (132, "ERFKILL"),
    (133, "EHWPOISON"),
];

/// The name of errno `n` ("ENOENT"), `None` for numbers Linux does not use.
pub fn name(n: i32) -> Option<&'static str> {
    ERRNOS
        .binary_search_by_key(&n, |&(k, _)| k)
        .ok()
        .map(|i| ERRNOS[i].1)
}

/// The number of errno `name`, also accepting the aliases EWOULDBLOCK,
/// EDEADLOCK and ENOTSUP.
pub fn number(name: &str) -> Option<i32> {
    match name {
        "EWOULDBLOCK" => return Some(libc::EAGAIN),
        "EDEADLOCK" => return Some(libc::EDEADLK),
        "ENOTSUP" => return Some(libc::EOPNOTSUPP),
        _ => {}
    }
    ERRNOS.iter().find(|&&(_, n)| n == name).map(|&(k, _)| k)
}

/// Kernel-internal codes (include/linux/errno.h) that a tracer sees at the
/// exit stop of an interrupted call before the kernel restarts it or turns
/// it into EINTR; user space never sees them. Messages as strace words them.
const INTERNAL: &[(i32, &str, &str)] = &[
    (512, "ERESTARTSYS", "To be restarted if SA_RESTART is set"),
    (513, "ERESTARTNOINTR", "To be restarted"),
    (514, "ERESTARTNOHAND", "To be restarted if no handler"),
    (515, "ENOIOCTLCMD", "No ioctl command"),
    (516, "ERESTART_RESTARTBLOCK", "Interrupted by signal"),
    (517, "EPROBE_DEFER", "Driver probe deferred"),
    (518, "EOPENSTALE", "Open found a stale dentry"),
    (519, "ENOPARAM", "Parameter not supported"),
];

/// The kernel-internal code `n` (512..=519): name and message.
pub fn internal(n: i32) -> Option<(&'static str, &'static str)> {
    INTERNAL
        .iter()
        .find(|&&(k, _, _)| k == n)
        .map(|&(_, name, msg)| (name, msg))
}

/// The C library's message for errno `n` ("No such file or directory").
pub fn message(n: i32) -> String {
    let s = std::io::Error::from_raw_os_error(n).to_string();
    // std appends " (os error N)".
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_agree_with_libc() {
        assert_eq!(name(libc::ENOENT), Some("ENOENT"));
        assert_eq!(name(libc::EACCES), Some("EACCES"));
        assert_eq!(name(libc::EHWPOISON), Some("EHWPOISON"));
        assert_eq!(number("EPERM"), Some(libc::EPERM));
        assert_eq!(number("EWOULDBLOCK"), Some(libc::EAGAIN));
        assert_eq!(number("EBOGUS"), None);
        assert_eq!(name(0), None);
        assert_eq!(message(libc::EACCES), "Permission denied");
        assert_eq!(
            internal(512),
            Some(("ERESTARTSYS", "To be restarted if SA_RESTART is set"))
        );
        assert_eq!(internal(514).map(|i| i.0), Some("ERESTARTNOHAND"));
        assert_eq!(internal(13), None);
        for &(n, s) in ERRNOS {
            assert_eq!(number(s), Some(n), "{s}");
        }
    }
}
