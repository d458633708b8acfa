// SPDX-License-Identifier: GPL-3.0-or-later
//! The workload report of `cargo xtask bench`: medians and ratios to native
//! as Markdown tables, the tracers' peak RSS, the machine, and the bar
//! chart of the ratios as a PNG.
#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::time::Duration;

use super::png::{Canvas, Rgb};
use super::workloads::{Outcome, Tool, ToolRuns};

/// The median of `xs` (the mean of the middle two for an even count).
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// Milliseconds of each duration.
fn ms(ds: &[Duration]) -> Vec<f64> {
    ds.iter().map(|d| d.as_secs_f64() * 1e3).collect()
}

/// A ratio to native, three significant figures or so: `1.07×`, `12.4×`, `153×`.
pub fn fmt_ratio(r: f64) -> String {
    if r < 9.995 {
        format!("{r:.2}×")
    } else if r < 99.95 {
        format!("{r:.1}×")
    } else {
        format!("{r:.0}×")
    }
}

/// Milliseconds: one decimal below 1 s, none above.
pub fn fmt_ms(ms: f64) -> String {
    if ms < 999.95 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// The tool's median over native's, when both ran.
fn ratio(native_ms: Option<f64>, t: &ToolRuns) -> Option<f64> {
    if t.failed.is_some() {
        return None;
    }
    Some(median(&ms(&t.times))? / native_ms?)
}

/// The tools with columns: those of the outcome but native.
fn tool_names(o: &Outcome) -> Vec<Tool> {
    o.tools
        .iter()
        .map(|t| t.tool)
        .filter(|&t| t != Tool::Native)
        .collect()
}

/// The wall-time table: native median, then median and ratio per tool.
pub fn time_table(o: &Outcome) -> String {
    let tools = tool_names(o);
    let mut s = String::from("| workload | native ms |");
    for t in &tools {
        let _ = write!(s, " {0} ms | {0} × |", t.name());
    }
    s.push_str("\n|---|---:|");
    s.push_str(&"---:|---:|".repeat(tools.len()));
    s.push('\n');
    for w in &o.workloads {
        let native = median(&ms(&w.native));
        let _ = write!(s, "| {} | {} |", w.name, native.map_or("—".into(), fmt_ms));
        for t in &w.tools {
            match (&t.failed, median(&ms(&t.times))) {
                (Some(_), _) => s.push_str(" failed | — |"),
                (None, Some(m)) => {
                    let r = ratio(native, t).map_or("—".into(), fmt_ratio);
                    let _ = write!(s, " {} | {} |", fmt_ms(m), r);
                }
                (None, None) => s.push_str(" — | — |"),
            }
        }
        s.push('\n');
    }
    s
}

/// The peak-RSS table: per tool, the highest VmHWM sampled of the tracer.
pub fn rss_table(o: &Outcome) -> String {
    let tools = tool_names(o);
    let mut s = String::from("| workload |");
    for t in &tools {
        let _ = write!(s, " {} KiB |", t.name());
    }
    s.push_str("\n|---|");
    s.push_str(&"---:|".repeat(tools.len()));
    s.push('\n');
    for w in &o.workloads {
        let _ = write!(s, "| {} |", w.name);
        for t in &w.tools {
            match t.peak_kib {
                Some(k) => {
                    let _ = write!(s, " {k} |");
                }
                None => s.push_str(" — |"),
            }
        }
        s.push('\n');
    }
    s
}

/// The colour of each tool's bars.
pub fn colour(t: Tool) -> Rgb {
    match t {
        Tool::Native => [128, 128, 128],
        Tool::Ujail => [31, 119, 180],
        Tool::UjailSysemu => [148, 103, 189],
        Tool::UjailPatch => [140, 86, 75],
        Tool::Strace => [255, 127, 14],
        Tool::Proot => [44, 160, 44],
    }
}

/// How the colours are named in the legend.
fn colour_name(t: Tool) -> &'static str {
    match t {
        Tool::Native => "grey",
        Tool::Ujail => "blue #1f77b4",
        Tool::UjailSysemu => "purple #9467bd",
        Tool::UjailPatch => "brown #8c564b",
        Tool::Strace => "orange #ff7f0e",
        Tool::Proot => "green #2ca02c",
    }
}

const WHITE: Rgb = [255, 255, 255];
const GRID: Rgb = [200, 200, 200];
const BLACK: Rgb = [0, 0, 0];
const MARGIN: u32 = 20;
const PLOT_H: u32 = 360;
const BAR_W: u32 = 24;
const GROUP_GAP: u32 = 32;

/// The bar chart: one group per workload (`ratios[w]`), one bar per tool
/// (`None`: no bar), grid lines every `step` (returned) integer ratios and
/// a black line at 1.0 (native). Also returns the top of the y axis.
pub fn chart(ratios: &[Vec<(Tool, Option<f64>)>]) -> (Canvas, u32, u32) {
    let max = ratios
        .iter()
        .flatten()
        .filter_map(|&(_, r)| r)
        .fold(1.0f64, f64::max);
    // The axis ends at the first whole ratio above the highest bar, with
    // room to see its top; at most 24 grid lines (steps 1, 2, 5, 10, 20, …).
    let mut top = 2u32;
    while f64::from(top) < max * 1.05 && top < 1_000_000 {
        top += 1;
    }
    let step = [1u32, 2, 5]
        .iter()
        .cycle()
        .scan(1u32, |scale, &m| {
            let s = m * *scale;
            if m == 5 {
                *scale *= 10;
            }
            Some(s)
        })
        .find(|s| top / s <= 24)
        .unwrap_or(top);
    let bars = ratios.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let group_w = BAR_W * u32::try_from(bars).unwrap_or(1) + GROUP_GAP;
    let groups = u32::try_from(ratios.len()).unwrap_or(1).max(1);
    let width = 2 * MARGIN + groups * group_w;
    let height = 2 * MARGIN + PLOT_H;
    let mut c = Canvas::new(width, height, WHITE);
    // Row of a whole ratio k (0 at the bottom of the plot).
    let row = |k: u32| MARGIN + PLOT_H - k * PLOT_H / top;
    for (g, group) in (0u32..).zip(ratios) {
        for (b, &(tool, r)) in (0u32..).zip(group) {
            let Some(r) = r else { continue };
            let x0 = MARGIN + g * group_w + GROUP_GAP / 2 + b * BAR_W;
            // Fill each row whose level is below the ratio: no float casts.
            for y in 0..PLOT_H {
                let level = f64::from(PLOT_H - y) * f64::from(top) / f64::from(PLOT_H);
                if level <= r {
                    c.fill(
                        x0 + 2,
                        MARGIN + y,
                        x0 + BAR_W - 2,
                        MARGIN + y + 1,
                        colour(tool),
                    );
                }
            }
        }
    }
    let mut k = step;
    while k <= top {
        c.fill(MARGIN / 2, row(k), width - MARGIN / 2, row(k) + 1, GRID);
        k += step;
    }
    c.fill(MARGIN / 2, row(0), width - MARGIN / 2, row(0) + 1, BLACK);
    c.fill(
        MARGIN / 2,
        row(1) - 1,
        width - MARGIN / 2,
        row(1) + 1,
        BLACK,
    );
    (c, step, top)
}

/// The ratios per workload, in column order, for [`chart`].
pub fn ratios(o: &Outcome) -> Vec<Vec<(Tool, Option<f64>)>> {
    o.workloads
        .iter()
        .map(|w| {
            let native = median(&ms(&w.native));
            w.tools.iter().map(|t| (t.tool, ratio(native, t))).collect()
        })
        .collect()
}

/// The whole of results.md but the microbenchmarks.
pub fn markdown(o: &Outcome, machine: &str, step: u32, top: u32) -> String {
    let mut s = String::from("# ujail bench: real workloads\n\n");
    let _ = writeln!(s, "Machine: {machine}.\n");
    let _ = writeln!(
        s,
        "Each workload ran {} time(s) per tool, interleaved (native, then each tool, \
         then native again, …), after one untimed native warm-up; medians of the wall \
         time (spawn to wait), and the ratio to the native median. Took {}.\n",
        o.runs,
        crate::util::fmt_duration(o.elapsed)
    );
    if o.pinned {
        s.push_str(
            "Placement: **pinned** — every run's processes (tracer and tracee alike) on \
             CPU 0 with `taskset -c 0` (`--unpinned` turns this off).\n\n",
        );
    } else {
        s.push_str(
            "Placement: **unpinned** (`--unpinned`): the scheduler places tracer and \
             tracee.\n\n",
        );
    }
    s.push_str("Tools:\n\n");
    for t in o.tools.iter().filter(|t| t.tool != Tool::Native) {
        let _ = writeln!(s, "* {}: `{}` — {}", t.tool.name(), t.command, t.about);
    }
    s.push_str(
        "\nWorkloads, run in the work directory with only PATH=/usr/local/bin:/usr/bin:/bin, \
         HOME=the work directory, TMPDIR=its `tmp/` and LC_ALL=C in the environment:\n\n",
    );
    for w in &o.workloads {
        let _ = writeln!(s, "* {}: `{}`", w.name, w.command);
    }
    s.push_str("\n## Wall time\n\n");
    s.push_str(&time_table(o));
    s.push_str("\n## Tracer peak RSS\n\n");
    s.push_str(
        "VmHWM of the tracer process itself (not the tracee), sampled from \
         /proc/PID/status every 10 ms while it runs; the highest over all runs. A \
         peak within the last 10 ms before exit can be missed.\n\n",
    );
    s.push_str(&rss_table(o));
    s.push_str(
        "\n## Chart\n\n`ratios.png`: one group per workload (in table order), one bar per tool: ",
    );
    let legend: Vec<String> = tool_names(o)
        .iter()
        .map(|&t| format!("{} {}", t.name(), colour_name(t)))
        .collect();
    s.push_str(&legend.join(", "));
    let _ = writeln!(
        s,
        ". Bar height is the ratio to native; the thick black line is 1.0 (native), \
         grey lines every {step}× up to {top}×; no bar: the tool failed.\n"
    );
    let mut notes = o.notes.clone();
    for w in &o.workloads {
        for t in &w.tools {
            if let Some(e) = &t.failed {
                let detail: Vec<&str> = e.lines().filter(|l| !l.trim().is_empty()).collect();
                notes.push(format!(
                    "{} under {} failed: {}",
                    w.name,
                    t.tool.name(),
                    detail.join(" / ")
                ));
            }
            if t.denials > 0 {
                notes.push(format!(
                    "{} under {}: {} `ujail: denied:` line(s) in a run's stderr; the program coped (exit 0).",
                    w.name,
                    t.tool.name(),
                    t.denials
                ));
            }
        }
    }
    if !notes.is_empty() {
        s.push_str("## Notes\n\n");
        for n in notes {
            let _ = writeln!(s, "* {n}");
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[1.0, 100.0, 2.0, 2.0, 1000.0]), Some(2.0));
    }

    #[test]
    fn ratios_and_times_format() {
        assert_eq!(fmt_ratio(1.0), "1.00×");
        assert_eq!(fmt_ratio(1.234), "1.23×");
        assert_eq!(fmt_ratio(9.999), "10.0×");
        assert_eq!(fmt_ratio(12.44), "12.4×");
        assert_eq!(fmt_ratio(153.4), "153×");
        assert_eq!(fmt_ratio(0.87), "0.87×");
        assert_eq!(fmt_ms(0.04), "0.0");
        assert_eq!(fmt_ms(43.25), "43.2");
        assert_eq!(fmt_ms(2481.6), "2482");
    }

    #[test]
    fn chart_axis_and_bars() {
        let (c, step, top) = chart(&[
            vec![(Tool::Ujail, Some(2.5)), (Tool::Strace, None)],
            vec![(Tool::Ujail, Some(1.0)), (Tool::Strace, Some(1.5))],
        ]);
        assert_eq!((step, top), (1, 3));
        assert_eq!(c.height(), PLOT_H + 2 * MARGIN);
        assert_eq!(c.width(), 2 * MARGIN + 2 * (2 * BAR_W + GROUP_GAP));
        // The first bar (2.5 of 3) rises to row 60 of 360 below the margin.
        let x = MARGIN + GROUP_GAP / 2 + BAR_W / 2;
        let blue = colour(Tool::Ujail);
        assert_eq!(c.get(x, MARGIN + PLOT_H - 1), blue);
        assert_eq!(c.get(x, MARGIN + 61), blue);
        assert_eq!(c.get(x, MARGIN + 59), WHITE);
        // The missing strace bar leaves its place white (but for grid lines).
        assert_eq!(c.get(x + BAR_W, MARGIN + PLOT_H - 2), WHITE);
        // Native's line at 1.0 and the grid line at 2.0 cross it.
        assert_eq!(c.get(x, MARGIN + PLOT_H - PLOT_H / 3), BLACK);
        assert_eq!(c.get(x, MARGIN + PLOT_H - 2 * PLOT_H / 3), GRID);

        let (_, step, top) = chart(&[vec![(Tool::Ujail, Some(40.0))]]);
        assert_eq!((step, top), (2, 42));
        let (_, step, top) = chart(&[vec![(Tool::Ujail, Some(300.0))]]);
        assert_eq!((step, top), (20, 315));
        let (_, step, top) = chart(&[vec![(Tool::Ujail, None)]]);
        assert_eq!((step, top), (1, 2));
    }
}
