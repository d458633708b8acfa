// SPDX-License-Identifier: GPL-3.0-or-later
//! Multi-call guest program for the integration tests (work in progress).
fn main() {}
