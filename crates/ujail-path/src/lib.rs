// SPDX-License-Identifier: GPL-3.0-or-later
//! The path policy of ujail, without ptrace: which system calls take paths
//! and what they do with them ([`classify`]), how the kernel would resolve a
//! path for a given process ([`resolve`]), and which paths a policy grants
//! ([`rules`], [`file`]). ujail-core's filesystem handler joins these to the
//! tracer.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod classify;
pub mod file;
pub mod resolve;
pub mod rules;
