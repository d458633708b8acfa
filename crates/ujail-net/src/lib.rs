// SPDX-License-Identifier: GPL-3.0-or-later
//! The network policy of ujail, without ptrace: socket addresses as the
//! kernel would read them from tracee memory ([`addr`]) and the firewall
//! rules that judge socket creation and the addresses given to `connect`,
//! `sendto`, `bind`, `accept` and friends ([`rules`]). ujail-core's tracer
//! reads the registers and memory and asks this crate; nothing here does
//! I/O.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod addr;
pub mod rules;
