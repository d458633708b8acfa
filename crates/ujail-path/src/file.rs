// SPDX-License-Identifier: GPL-3.0-or-later
//! `file` (work in progress).
