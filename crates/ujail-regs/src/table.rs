// SPDX-License-Identifier: GPL-3.0-or-later
//! Syscall name/number tables per ABI (generated, see `table_i386.rs` and
//! `table_x86_64.rs`; regenerate with `cargo xtask codegen`).

use crate::Abi;
use crate::{table_i386, table_x86_64};

fn by_nr(abi: Abi) -> &'static [(u32, &'static str)] {
    match abi {
        Abi::I386 => table_i386::BY_NR,
        Abi::X86_64 => table_x86_64::BY_NR,
    }
}

fn by_name(abi: Abi) -> &'static [(&'static str, u32)] {
    match abi {
        Abi::I386 => table_i386::BY_NAME,
        Abi::X86_64 => table_x86_64::BY_NAME,
    }
}

/// The name of syscall `nr` in `abi`, `None` for numbers the table lacks.
pub fn name(abi: Abi, nr: u64) -> Option<&'static str> {
    let nr = u32::try_from(nr).ok()?;
    let table = by_nr(abi);
    let i = table.binary_search_by_key(&nr, |&(n, _)| n).ok()?;
    Some(table[i].1)
}

/// The number of syscall `name` in `abi`, `None` if that ABI lacks it.
pub fn number(abi: Abi, name: &str) -> Option<u64> {
    let table = by_name(abi);
    let i = table.binary_search_by_key(&name, |&(n, _)| n).ok()?;
    Some(u64::from(table[i].1))
}

/// All `(number, name)` pairs of `abi`, sorted by number.
pub fn all(abi: Abi) -> impl Iterator<Item = (u64, &'static str)> {
    by_nr(abi).iter().map(|&(nr, name)| (u64::from(nr), name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codegen;

    #[test]
    fn well_known_numbers() {
        assert_eq!(number(Abi::I386, "write"), Some(4));
        assert_eq!(number(Abi::X86_64, "write"), Some(1));
        assert_eq!(name(Abi::I386, 4), Some("write"));
        assert_eq!(name(Abi::X86_64, 1), Some("write"));
        assert_eq!(number(Abi::I386, "socketcall"), Some(102));
        assert_eq!(number(Abi::I386, "ipc"), Some(117));
        assert_eq!(name(Abi::I386, 102), Some("socketcall"));
        assert_eq!(name(Abi::I386, 117), Some("ipc"));
        assert_eq!(number(Abi::X86_64, "socketcall"), None);
        for abi in [Abi::I386, Abi::X86_64] {
            assert_eq!(number(abi, "clone3"), Some(435), "{abi}");
            assert_eq!(name(abi, 435), Some("clone3"), "{abi}");
            assert_eq!(
                number(abi, "exit_group").and_then(|n| name(abi, n)),
                Some("exit_group")
            );
        }
        assert_eq!(number(Abi::X86_64, "openat"), Some(257));
        assert_eq!(number(Abi::I386, "mmap2"), Some(192));
        assert_eq!(number(Abi::X86_64, "mmap2"), None);
    }

    #[test]
    fn unknown_numbers_and_names() {
        for abi in [Abi::I386, Abi::X86_64] {
            assert_eq!(name(abi, 100_000), None);
            assert_eq!(name(abi, u64::MAX), None);
            assert_eq!(name(abi, 1 << 32 | 1), None, "no truncation to 32 bits");
            assert_eq!(number(abi, "no_such_call"), None);
            assert_eq!(number(abi, ""), None);
        }
    }

    #[test]
    fn tables_are_sorted_and_consistent() {
        for abi in [Abi::I386, Abi::X86_64] {
            assert!(by_nr(abi).windows(2).all(|w| w[0].0 < w[1].0), "{abi}");
            assert!(by_name(abi).windows(2).all(|w| w[0].0 < w[1].0), "{abi}");
            assert_eq!(by_nr(abi).len(), by_name(abi).len());
            assert!(by_nr(abi).len() > 300, "{abi}");
            for (nr, n) in all(abi) {
                assert_eq!(number(abi, n), Some(nr), "{abi} {n}");
            }
        }
    }

    /// Regenerates the tables from the installed kernel headers and compares
    /// them with the committed files. A missing header is a failure naming the
    /// package, never a silent skip.
    #[test]
    fn committed_tables_are_not_stale() {
        let committed = [
            (Abi::I386, include_str!("table_i386.rs")),
            (Abi::X86_64, include_str!("table_x86_64.rs")),
        ];
        for (abi, committed) in committed {
            let Some(header) = codegen::find_header(abi) else {
                panic!(
                    "{} not found in {:?}: install the `{}` package (apt-get install {}) \
                     so the syscall tables can be checked",
                    codegen::header_name(abi),
                    codegen::HEADER_DIRS,
                    codegen::HEADER_PACKAGE,
                    codegen::HEADER_PACKAGE,
                );
            };
            let text = std::fs::read_to_string(&header)
                .unwrap_or_else(|e| panic!("reading {}: {e}", header.display()));
            let fresh = codegen::generate(abi, &text)
                .unwrap_or_else(|e| panic!("parsing {}: {e}", header.display()));
            assert!(
                fresh == committed,
                "{} is stale against {}: run `cargo xtask codegen`",
                codegen::table_file(abi),
                header.display()
            );
        }
    }
}
