// SPDX-License-Identifier: GPL-3.0-or-later
//! A tiny writer for the cpio "newc" format the kernel unpacks an initramfs
//! from (Documentation/driver-api/early-userspace/buffer-format.rst).
//!
//! The image is described as a tree of entries first, so that parent
//! directories are created implicitly and every path is written once, in
//! sorted order, with fixed owner (root) and mtime (0): the same inputs give
//! the same bytes.

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where an entry's content comes from.
#[derive(Debug, Clone)]
enum Node {
    Dir,
    File { src: PathBuf, mode: u32 },
    Bytes { data: Vec<u8>, mode: u32 },
    Symlink { target: String },
    CharDev { major: u32, minor: u32 },
}

/// The content of an initramfs, keyed by path (no leading `/`).
#[derive(Debug, Default)]
pub struct Archive {
    nodes: BTreeMap<String, Node>,
}

impl Archive {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty directory (mode 0755).
    pub fn dir(&mut self, path: &str) -> Result<()> {
        self.insert(path, Node::Dir)
    }

    /// A file copied from the host at write time.
    pub fn file(&mut self, path: &str, src: &Path, mode: u32) -> Result<()> {
        if !src.is_file() {
            bail!(
                "{} (for /{path} in the initramfs) does not exist",
                src.display()
            );
        }
        self.insert(
            path,
            Node::File {
                src: src.to_owned(),
                mode,
            },
        )
    }

    /// A file with the given content.
    pub fn bytes(&mut self, path: &str, data: Vec<u8>, mode: u32) -> Result<()> {
        self.insert(path, Node::Bytes { data, mode })
    }

    /// A symbolic link to `target`.
    pub fn symlink(&mut self, path: &str, target: &str) -> Result<()> {
        self.insert(
            path,
            Node::Symlink {
                target: target.to_owned(),
            },
        )
    }

    /// A character device node (mode 0600), e.g. `dev/console`, which the
    /// kernel opens for init before anything is mounted.
    pub fn char_dev(&mut self, path: &str, major: u32, minor: u32) -> Result<()> {
        self.insert(path, Node::CharDev { major, minor })
    }

    /// Whether `path` is already in the archive.
    pub fn contains(&self, path: &str) -> bool {
        self.nodes.contains_key(path.trim_start_matches('/'))
    }

    fn insert(&mut self, path: &str, node: Node) -> Result<()> {
        let path = path.trim_start_matches('/').trim_end_matches('/');
        if path.is_empty()
            || path
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == "..")
        {
            bail!("bad initramfs path `{path}`");
        }
        // Parents first, as directories.
        for (i, _) in path.match_indices('/') {
            let parent = &path[..i];
            match self.nodes.get(parent) {
                None => {
                    self.nodes.insert(parent.to_owned(), Node::Dir);
                }
                Some(Node::Dir) => {}
                Some(_) => bail!("initramfs: /{parent} is not a directory (needed for /{path})"),
            }
        }
        match (self.nodes.get(path), &node) {
            (None, _) | (Some(Node::Dir), Node::Dir) => {
                self.nodes.insert(path.to_owned(), node);
                Ok(())
            }
            (Some(_), _) => bail!("initramfs: /{path} added twice"),
        }
    }

    /// Writes the archive in newc format to `out`; returns the number of
    /// entries.
    pub fn write(&self, out: &mut impl Write) -> Result<usize> {
        let mut w = Counting { inner: out, n: 0 };
        for (ino, (path, node)) in (1u32..).zip(&self.nodes) {
            let mut rdev = (0, 0);
            let (mode, data) = match node {
                Node::Dir => (0o040_755, Vec::new()),
                Node::CharDev { major, minor } => {
                    rdev = (*major, *minor);
                    (0o020_600, Vec::new())
                }
                Node::File { src, mode } => (
                    0o100_000 | mode,
                    std::fs::read(src).with_context(|| format!("reading {}", src.display()))?,
                ),
                Node::Bytes { data, mode } => (0o100_000 | mode, data.clone()),
                Node::Symlink { target } => (0o120_777, target.clone().into_bytes()),
            };
            let nlink = if matches!(node, Node::Dir) { 2 } else { 1 };
            entry(&mut w, ino, mode, nlink, rdev, path, &data)?;
        }
        entry(&mut w, 0, 0, 1, (0, 0), "TRAILER!!!", &[])?;
        Ok(self.nodes.len())
    }
}

/// Counts bytes written, for the 4-byte alignment newc wants.
struct Counting<'a, W: Write> {
    inner: &'a mut W,
    n: u64,
}

impl<W: Write> Counting<'_, W> {
    fn put(&mut self, b: &[u8]) -> Result<()> {
        self.inner.write_all(b).context("writing the initramfs")?;
        self.n += u64::try_from(b.len())?;
        Ok(())
    }

    fn pad4(&mut self) -> Result<()> {
        let rem = self.n % 4;
        if rem != 0 {
            let pad = usize::try_from(4 - rem)?;
            self.put(&[0u8; 3][..pad])?;
        }
        Ok(())
    }
}

fn entry<W: Write>(
    w: &mut Counting<'_, W>,
    ino: u32,
    mode: u32,
    nlink: u32,
    (rdevmajor, rdevminor): (u32, u32),
    name: &str,
    data: &[u8],
) -> Result<()> {
    let namesize = u32::try_from(name.len() + 1).context("path too long for cpio")?;
    let filesize = u32::try_from(data.len()).context("file too large for newc cpio (4 GiB)")?;
    // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
    // rdevmajor, rdevminor, namesize, check
    let header = format!(
        "070701{ino:08x}{mode:08x}{:08x}{:08x}{nlink:08x}{:08x}{filesize:08x}{:08x}{:08x}{rdevmajor:08x}{rdevminor:08x}{namesize:08x}{:08x}",
        0, 0, 0, 0, 0, 0
    );
    w.put(header.as_bytes())?;
    w.put(name.as_bytes())?;
    w.put(&[0])?;
    w.pad4()?;
    w.put(data)?;
    w.pad4()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_parents_and_aligns() {
        let mut a = Archive::new();
        a.bytes("bin/x", b"abc".to_vec(), 0o755).unwrap();
        a.symlink("/lib/ld", "/lib32/ld").unwrap();
        let mut out = Vec::new();
        assert_eq!(a.write(&mut out).unwrap(), 4); // bin, bin/x, lib, lib/ld
        assert_eq!(out.len() % 4, 0);
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("070701"));
        assert_eq!(text.matches("070701").count(), 5);
        assert!(text.contains("bin/x\0"));
        assert!(text.contains("TRAILER!!!\0"));
        // bin/x: regular file 0755, 3 bytes.
        let at = text.find("000081ed").unwrap();
        assert_eq!(&text[at + 8 * 5..at + 8 * 6], "00000003");
    }

    #[test]
    fn rejects_duplicates_and_files_as_dirs() {
        let mut a = Archive::new();
        a.bytes("etc/f", vec![], 0o644).unwrap();
        assert!(a.bytes("etc/f", vec![], 0o644).is_err());
        assert!(a.dir("etc/f/g").is_err());
        assert!(a.dir("../x").is_err());
        a.dir("etc").unwrap();
    }
}
