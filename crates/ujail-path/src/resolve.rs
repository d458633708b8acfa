// SPDX-License-Identifier: GPL-3.0-or-later
//! `resolve` (work in progress).
