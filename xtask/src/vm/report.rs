// SPDX-License-Identifier: GPL-3.0-or-later
//! Reads the VM's serial console: the markers `vm/run-tests` prints around
//! each test binary, libtest's per-test lines and summaries, and signs of a
//! dead kernel.

/// Printed with `uname -a` after it.
pub const UNAME: &str = "==UJAIL-UNAME ";
const BEGIN: &str = "==UJAIL-TEST-BEGIN ";
const END: &str = "==UJAIL-TEST-END ";
const ALL_DONE: &str = "==UJAIL-ALL-DONE==";

/// The results of one test binary.
#[derive(Debug, Default)]
pub struct Binary {
    pub name: String,
    /// Exit status from the END marker; `None`: no END marker.
    pub rc: Option<i32>,
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
    /// libtest's `test result:` line was seen.
    pub summary: bool,
    /// Tests libtest reported as FAILED.
    pub failed_tests: Vec<String>,
    /// Per-test lines seen (`test x ... ok|FAILED|ignored`).
    pub tests_seen: u64,
}

impl Binary {
    /// Why this binary counts as failed, if it does.
    pub fn problem(&self) -> Option<String> {
        match self.rc {
            None => Some(format!("{}: no end marker (crashed or cut off)", self.name)),
            Some(_) if !self.summary => Some(format!(
                "{}: no libtest summary (exit status {})",
                self.name,
                self.rc.unwrap_or(-1)
            )),
            Some(rc) if rc != 0 => Some(format!("{}: exit status {rc}", self.name)),
            Some(_) if self.failed > 0 => Some(format!("{}: {} failed", self.name, self.failed)),
            Some(_) => None,
        }
    }
}

/// Everything the console says.
#[derive(Debug, Default)]
pub struct Report {
    pub uname: Option<String>,
    pub binaries: Vec<Binary>,
    pub all_done: bool,
    /// Kernel panic / oops lines.
    pub kernel_trouble: Vec<String>,
}

impl Report {
    pub fn parse(lines: &[String]) -> Report {
        let mut r = Report::default();
        let mut current: Option<Binary> = None;
        for raw in lines {
            let line = raw.trim();
            if line.contains("Kernel panic")
                || line.contains("Oops:")
                || line.contains("BUG: unable to handle")
            {
                r.kernel_trouble.push(line.to_owned());
            }
            if let Some(rest) = marker(line, UNAME) {
                r.uname = Some(rest.to_owned());
            } else if let Some(name) = marker(line, BEGIN) {
                if let Some(b) = current.take() {
                    r.binaries.push(b);
                }
                current = Some(Binary {
                    name: name.to_owned(),
                    ..Binary::default()
                });
            } else if let Some(rest) = marker(line, END) {
                let (name, rc) = rest.rsplit_once(' ').unwrap_or((rest, ""));
                match current.take() {
                    Some(mut b) if b.name == name => {
                        b.rc = Some(rc.parse().unwrap_or(-1));
                        r.binaries.push(b);
                    }
                    other => {
                        // An END without its BEGIN: keep what we have, note it.
                        r.binaries.extend(other);
                        r.binaries.push(Binary {
                            name: format!("{name} (end marker without begin)"),
                            ..Binary::default()
                        });
                    }
                }
            } else if line.ends_with(ALL_DONE) {
                r.all_done = true;
            } else if let Some(b) = current.as_mut() {
                libtest_line(b, line);
            }
        }
        r.binaries.extend(current);
        r
    }

    pub fn passed(&self) -> u64 {
        self.binaries.iter().map(|b| b.passed).sum()
    }

    /// Failed tests, plus one for each binary that failed without a failed
    /// test to show for it (a crash, a missing summary).
    pub fn failed(&self) -> u64 {
        self.binaries
            .iter()
            .map(|b| match b.problem() {
                Some(_) => b.failed.max(1),
                None => b.failed,
            })
            .sum()
    }

    pub fn ignored(&self) -> u64 {
        self.binaries.iter().map(|b| b.ignored).sum()
    }

    /// Every reason to fail the run, given the binaries that should have run.
    pub fn problems(&self, expected: &[String]) -> Vec<String> {
        let mut p: Vec<String> = self
            .kernel_trouble
            .iter()
            .map(|l| format!("kernel: {l}"))
            .collect();
        for name in expected {
            if !self.binaries.iter().any(|b| &b.name == name) {
                p.push(format!("{name}: never started"));
            }
        }
        for b in &self.binaries {
            p.extend(b.problem());
            p.extend(
                b.failed_tests
                    .iter()
                    .map(|t| format!("{}: FAILED {t}", b.name)),
            );
        }
        if !self.all_done {
            p.push("the VM never printed its all-done marker".to_owned());
        }
        if self.uname.is_none() {
            p.push("the VM never printed its uname".to_owned());
        }
        p
    }
}

/// `==PREFIX rest==` → `rest`; the marker may follow other output on the
/// same console line (firmware text, a test's last line without newline).
fn marker<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let at = line.find(prefix)?;
    line[at + prefix.len()..].strip_suffix("==")
}

/// Takes in one line of libtest's output.
fn libtest_line(b: &mut Binary, line: &str) {
    if let Some(rest) = line.strip_prefix("test result: ") {
        // `ok. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; …`
        b.summary = true;
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(what), Some(n)) = (words.next(), words.next()) else {
                continue;
            };
            let n = n.parse().unwrap_or(0);
            match what {
                "passed" => b.passed += n,
                "failed" => b.failed += n,
                "ignored" => b.ignored += n,
                _ => {}
            }
        }
    } else if let Some(rest) = line.strip_prefix("test ") {
        // `test name ... ok`
        if let Some((name, outcome)) = rest.split_once(" ... ") {
            b.tests_seen += 1;
            if outcome.starts_with("FAILED") {
                b.failed_tests.push(name.to_owned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(str::to_owned).collect()
    }

    const GOOD: &str = "\
==UJAIL-INIT==
==UJAIL-UNAME Linux (none) 6.1.0-50-686 #1 SMP i686 GNU/Linux==
==UJAIL-TEST-BEGIN a==
running 2 tests
test x ... ok
test y ... ok
test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.1s
==UJAIL-TEST-END a 0==
==UJAIL-TEST-BEGIN b==
running 0 tests
test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.0s
==UJAIL-TEST-END b 0==
==UJAIL-ALL-DONE==
";

    #[test]
    fn counts_a_good_run() {
        let glued = GOOD.replace(
            "==UJAIL-TEST-BEGIN a",
            "Booting from ROM..==UJAIL-TEST-BEGIN a",
        );
        let r = Report::parse(&lines(&glued));
        assert_eq!((r.passed(), r.failed()), (2, 0));
        assert!(r.problems(&["a".into(), "b".into()]).is_empty());
        assert!(r.uname.unwrap().contains("686"));
    }

    #[test]
    fn a_failed_test_fails() {
        let text = GOOD
            .replace("test y ... ok", "test y ... FAILED")
            .replace("ok. 2 passed; 0 failed", "FAILED. 1 passed; 1 failed")
            .replace("END a 0", "END a 101");
        let r = Report::parse(&lines(&text));
        assert_eq!((r.passed(), r.failed()), (1, 1));
        let p = r.problems(&["a".into(), "b".into()]);
        assert!(p.iter().any(|l| l.contains("FAILED y")), "{p:?}");
    }

    #[test]
    fn crashes_panics_and_missing_binaries_fail() {
        let cut = GOOD.split("==UJAIL-TEST-END a").next().unwrap();
        let r = Report::parse(&lines(cut));
        assert!(r.failed() >= 1);
        assert!(!r.problems(&["a".into()]).is_empty());

        let crash = GOOD.replace(
            "test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.1s\n==UJAIL-TEST-END a 0",
            "==UJAIL-TEST-END a 139",
        );
        let r = Report::parse(&lines(&crash));
        assert_eq!(r.failed(), 1);

        let panic = format!("{GOOD}[ 1.0] Kernel panic - not syncing: x\n");
        assert!(!Report::parse(&lines(&panic)).problems(&[]).is_empty());

        let r = Report::parse(&lines(GOOD));
        assert!(!r.problems(&["a".into(), "c".into()]).is_empty());
    }
}
