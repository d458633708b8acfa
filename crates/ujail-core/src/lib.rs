// SPDX-License-Identifier: GPL-3.0-or-later
//! The ujail tracer (work in progress).
#![deny(missing_docs)]
