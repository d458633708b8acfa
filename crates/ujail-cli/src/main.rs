// SPDX-License-Identifier: GPL-3.0-or-later
//! `ujail`: command-line front end (work in progress).
fn main() {}
