// SPDX-License-Identifier: GPL-3.0-or-later
//! xtask module `bench` (work in progress).
pub fn run(_args: &[String]) -> anyhow::Result<()> { anyhow::bail!("not yet") }
