// SPDX-License-Identifier: GPL-3.0-or-later
//! xtask module `deps` (work in progress).
pub fn ensure_all() -> anyhow::Result<()> { anyhow::bail!("not yet") }
