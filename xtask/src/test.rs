// SPDX-License-Identifier: GPL-3.0-or-later
//! xtask module `test` (work in progress).
pub fn all(_args: &[String]) -> anyhow::Result<()> { anyhow::bail!("not yet") }
pub fn host(_args: &[String]) -> anyhow::Result<()> { anyhow::bail!("not yet") }
