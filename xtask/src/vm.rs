// SPDX-License-Identifier: GPL-3.0-or-later
//! xtask module `vm` (work in progress).
pub fn test_vm(_args: &[String]) -> anyhow::Result<()> { anyhow::bail!("not yet") }
