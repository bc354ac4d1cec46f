//! A line diff of two canonical policy files, so whoever replaces a policy
//! (a key holder registering, the coordinator's operator) sees exactly what
//! changed. The one diff of the project.

use serde::Serialize;

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", content = "line", rename_all = "lowercase")]
pub enum DiffLine {
    /// In both files.
    Same(String),
    /// Only in the registered (old) policy.
    Removed(String),
    /// Only in the new policy.
    Added(String),
}

/// The longest-common-subsequence diff of `old` and `new`, line by line.
/// Policies are a few hundred lines, so the quadratic table is small.
pub fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let (n, m) = (a.len(), b.len());
    // lcs[i][j] = length of the LCS of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(n.max(m));
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push(DiffLine::Same(a[i].to_owned()));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(DiffLine::Removed(a[i].to_owned()));
            i += 1;
        } else {
            out.push(DiffLine::Added(b[j].to_owned()));
            j += 1;
        }
    }
    out
}

/// The changed lines with `context` unchanged lines around each change, in
/// the style of `diff -u`; `...` marks skipped lines.
pub fn render_diff(lines: &[DiffLine], context: usize) -> String {
    let changed: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !matches!(l, DiffLine::Same(_)))
        .map(|(i, _)| i)
        .collect();
    let near = |i: usize| {
        changed
            .iter()
            .any(|&c| i + context >= c && i <= c + context)
    };
    let mut out = String::new();
    let mut skipped = false;
    for (i, line) in lines.iter().enumerate() {
        if !near(i) {
            skipped = true;
            continue;
        }
        if skipped && !out.is_empty() {
            out.push_str("  ...\n");
        }
        skipped = false;
        let (mark, text) = match line {
            DiffLine::Same(t) => (' ', t),
            DiffLine::Removed(t) => ('-', t),
            DiffLine::Added(t) => ('+', t),
        };
        out.push(mark);
        out.push(' ');
        out.push_str(text);
        out.push('\n');
    }
    out
}

/// Only the changed lines, `- ` for removed and `+ ` for added: the short
/// form that errors and log entries carry.
pub fn changed_lines(old: &str, new: &str) -> String {
    diff_lines(old, new)
        .into_iter()
        .filter_map(|l| match l {
            DiffLine::Same(_) => None,
            DiffLine::Removed(t) => Some(format!("- {t}\n")),
            DiffLine::Added(t) => Some(format!("+ {t}\n")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_lines_names_changed_lines_only() {
        let old = "a = 1\nb = 2\nc = 3\n";
        let new = "a = 1\nb = 5\nc = 3\nd = 4\n";
        assert_eq!(changed_lines(old, new), "- b = 2\n+ b = 5\n+ d = 4\n");
        assert_eq!(changed_lines(old, old), "");
    }

    #[test]
    fn shows_changed_lines_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\n";
        let new = "a\nb\nC\nd\ne\nf\ng\nh\n";
        let d = diff_lines(old, new);
        let removed: Vec<_> = d
            .iter()
            .filter(|l| matches!(l, DiffLine::Removed(_)))
            .collect();
        let added: Vec<_> = d
            .iter()
            .filter(|l| matches!(l, DiffLine::Added(_)))
            .collect();
        assert_eq!(removed, [&DiffLine::Removed("c".into())]);
        assert_eq!(
            added,
            [&DiffLine::Added("C".into()), &DiffLine::Added("h".into())]
        );
        assert_eq!(render_diff(&d, 1), "  b\n- c\n+ C\n  d\n  ...\n  g\n+ h\n");
        assert!(render_diff(&diff_lines(old, old), 2).is_empty());
    }
}
