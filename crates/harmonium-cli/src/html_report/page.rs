//! The report's HTML: one page with its style and script inline, every text escaped, the tables
//! (`tables`), the chart, the pictures, and the comparison as `compare --json` prints it
//! embedded in a `<script type="application/json">`.

use std::collections::HashMap;
use std::fmt::Write;

use base64::Engine;
use harmonium_store::references::Published;
use serde_json::json;

use super::svg::{self, Curve, Rule};
use super::{Best, Goal, Report, tables};
use crate::references::WithReferences;
use crate::table::{fmt_metric, is_error_rate};

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// The dashboard's colours, in the same order.
pub const PALETTE: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#7f7f7f", "#bcbd22",
];
/// The colour of a published figure that belongs to no one group.
const RULE: &str = "#444";

/// Text as HTML: `&`, `<`, `>`, `"` and `'` escaped (fit for element text and attributes).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `mlp.lr=0.1, seed=1`, or `all runs` when not grouped.
pub fn label(by: &[String], group: &[Option<String>]) -> String {
    if by.is_empty() {
        return "all runs".into();
    }
    by.iter()
        .zip(group)
        .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("∅")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An optional number as a `data-` attribute value (empty when missing).
pub fn attr(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The colour index of every group: the comparison's groups in order, then any group that only
/// the curves have.
fn colours(r: &Report) -> HashMap<Vec<Option<String>>, usize> {
    let mut index: HashMap<Vec<Option<String>>, usize> = HashMap::new();
    let groups = r.comparison.groups.iter().map(|g| &g.group);
    for g in groups.chain(r.curves.groups.iter().map(|c| &c.group)) {
        let next = index.len();
        index.entry(g.clone()).or_insert(next);
    }
    index
}

pub fn render(r: &Report) -> String {
    let colour = colours(r);
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} · harmonium report</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        esc(&r.name)
    );
    let _ = writeln!(
        h,
        "<header><h1>{}</h1><p class=\"desc\">{}</p><p class=\"muted small\">Report written {}.</p></header>",
        esc(&r.name),
        esc(&r.description),
        esc(&r.generated)
    );
    h.push_str(&status(r));
    h.push_str(&experiment_file(&r.yaml));
    h.push_str(&tables::comparison(r, &colour));
    h.push_str(&tables::references(r));
    h.push_str(&curves(r, &colour));
    h.push_str(&pictures(r));
    h.push_str(&data(r));
    let _ = write!(h, "<script>\n{SCRIPT}</script>\n</body>\n</html>\n");
    h
}

fn status(r: &Report) -> String {
    let order = ["queued", "running", "finished", "failed", "killed"];
    let mut keys: Vec<&String> = r.counts.keys().collect();
    keys.sort_by_key(|k| order.iter().position(|o| o == k).unwrap_or(order.len()));
    let badges: String = keys
        .iter()
        .map(|k| {
            format!(
                "<span class=\"badge {}\" data-status=\"{}\" data-count=\"{}\">{} {}</span>",
                esc(k),
                esc(k),
                r.counts[*k],
                r.counts[*k],
                esc(k)
            )
        })
        .collect();
    let total: i64 = r.counts.values().sum();
    format!(
        "<section id=\"status\"><h2>Runs</h2><p class=\"counts\">{total} runs: {badges}</p></section>\n"
    )
}

fn experiment_file(yaml: &str) -> String {
    if yaml.trim().is_empty() {
        return "<section id=\"experiment-file\"><p class=\"muted\">The experiment file was not recorded.</p></section>\n".into();
    }
    format!(
        "<section id=\"experiment-file\"><details><summary>The experiment file ({} lines)</summary><pre>{}</pre></details></section>\n",
        yaml.lines().count(),
        esc(yaml)
    )
}

pub fn swatch(colour: &str) -> String {
    format!("<span class=\"swatch\" style=\"background:{colour}\"></span>")
}

/// The published figures on the chart: one line for a figure for every group, one per level
/// otherwise, in its group's colour when exactly one group has the level.
fn rules(r: &Report, colour: &HashMap<Vec<Option<String>>, usize>) -> Vec<Rule<'static>> {
    let Some(metric) = &r.curves.metric else {
        return Vec::new();
    };
    let f = |v: f64| fmt_metric(metric, Some(v));
    let mut out = Vec::new();
    for check in &r.curves.references {
        let rf = &check.reference;
        match &rf.published {
            Published::All(v) => out.push(Rule {
                value: *v,
                label: format!("{} {} ({})", rf.metric, f(*v), rf.source),
                color: RULE,
                group: None,
            }),
            Published::Levels(levels) => {
                for (level, v) in levels {
                    let groups: Vec<usize> = check
                        .rows
                        .iter()
                        .filter(|row| row.level.as_deref() == Some(level.as_str()))
                        .filter_map(|row| row.group.as_ref())
                        .filter_map(|g| colour.get(g).copied())
                        .collect();
                    let (color, group) = match groups.as_slice() {
                        [one] => (PALETTE[one % PALETTE.len()], Some(*one)),
                        _ => (RULE, None),
                    };
                    let by = check
                        .matched_by
                        .as_deref()
                        .or(rf.by.as_deref())
                        .unwrap_or("");
                    out.push(Rule {
                        value: *v,
                        label: format!("{by}={level}: {} {} ({})", rf.metric, f(*v), rf.source),
                        color,
                        group,
                    });
                }
            }
        }
    }
    out
}

fn curves(r: &Report, colour: &HashMap<Vec<Option<String>>, usize>) -> String {
    let mut s = String::from("<section id=\"curves\"><h2>Learning curves</h2>");
    let Some(metric) = &r.curves.metric else {
        let _ = writeln!(
            s,
            "<p class=\"muted\">{}.</p></section>",
            esc(r.curves.note.as_deref().unwrap_or("no curves"))
        );
        return s;
    };
    let by = &r.comparison.by;
    let lines: Vec<Curve> = r
        .curves
        .groups
        .iter()
        .map(|g| {
            let i = colour.get(&g.group).copied().unwrap_or(0);
            let n = g.stats.iter().map(|st| st.n).max().unwrap_or(0);
            Curve {
                group: i,
                color: PALETTE[i % PALETTE.len()],
                label: format!("{} (n={n})", label(by, &g.group)),
                steps: &g.steps,
                mean: g.stats.iter().map(|st| st.mean).collect(),
                std: g.stats.iter().map(|st| st.std).collect(),
            }
        })
        .collect();
    let rules = rules(r, colour);
    let _ = write!(
        s,
        "<p>{} of the finished runs per step, mean ± standard deviation over each group's runs{}. \
         Click a group below to hide or show it.</p><figure class=\"chart\">",
        esc(metric),
        if rules.is_empty() {
            String::new()
        } else {
            "; dashed: the published figures".into()
        }
    );
    s.push_str(&svg::chart(
        &lines,
        &rules,
        "step (epoch)",
        &format!("{metric} (mean ± std)"),
        is_error_rate(metric),
    ));
    s.push_str("<ul class=\"legend\">");
    for l in &lines {
        let _ = write!(
            s,
            "<li class=\"legend-item\" data-group=\"{}\">{}{}</li>",
            l.group,
            swatch(l.color),
            esc(&l.label)
        );
    }
    s.push_str("</ul></figure></section>\n");
    s
}

fn pictures(r: &Report) -> String {
    let m = &r.comparison.metric;
    let which = match r.goal {
        Goal::Minimize => "lowest",
        Goal::Maximize => "highest",
    };
    let mut s = format!(
        "<section id=\"pictures\"><h2>Pictures of the best run of each group</h2><p>The \
         finished run with the {which} {} in each group (the goal from {}), and the last \
         picture of each kind it drew.</p>",
        esc(m),
        esc(r.goal_from)
    );
    for b in &r.best {
        s.push_str(&best(r, b));
    }
    if !r.left_out.is_empty() {
        let _ = write!(
            s,
            "<details class=\"left-out\" open><summary>Left out ({})</summary><ul>",
            r.left_out.len()
        );
        for l in &r.left_out {
            let _ = write!(s, "<li>{}</li>", esc(l));
        }
        s.push_str("</ul></details>");
    }
    s.push_str("</section>\n");
    s
}

fn best(r: &Report, b: &Best) -> String {
    let m = &r.comparison.metric;
    let mut s = format!(
        "<div class=\"best\"><h3>{}</h3>",
        esc(&label(&r.comparison.by, &b.group))
    );
    if let Some(run) = &b.run {
        let _ = write!(
            s,
            "<p data-run=\"{}\" data-value=\"{}\">run {} (seed {}): {} = {}</p>",
            run.id,
            run.value,
            run.id,
            run.seed,
            esc(m),
            fmt_metric(m, Some(run.value))
        );
    }
    if let Some(note) = &b.note {
        let _ = write!(s, "<p class=\"muted\">{}</p>", esc(note));
    }
    if b.run.is_some() && b.pictures.is_empty() {
        s.push_str("<p class=\"muted small\">No pictures embedded for this run.</p>");
    }
    if !b.pictures.is_empty() {
        s.push_str("<div class=\"pictures\">");
        for p in &b.pictures {
            let data = base64::engine::general_purpose::STANDARD.encode(&p.png);
            let step = p.step.map(|st| format!(" · step {st}")).unwrap_or_default();
            let _ = write!(
                s,
                "<figure><img alt=\"{}\" src=\"data:image/png;base64,{data}\"><figcaption>{}{step}</figcaption></figure>",
                esc(&p.kind),
                esc(&p.kind)
            );
        }
        s.push_str("</div>");
    }
    s.push_str("</div>");
    s
}

/// The numbers behind the page as JSON: `compare` is what `harmonium compare --json` prints
/// for the same groups and metric; `curves` the curves drawn. `<` is written `\u003c`, so no
/// text can end the script element.
fn data(r: &Report) -> String {
    let compare = WithReferences {
        comparison: &r.comparison,
        references: &r.references,
    };
    let v = json!({
        "compare": compare,
        "curves": {
            "metric": r.curves.metric,
            "groups": r.curves.groups,
            "references": r.curves.references,
        },
    });
    let text = serde_json::to_string(&v)
        .expect("report data serializes")
        .replace('<', "\\u003c");
    format!("<script type=\"application/json\" id=\"report-data\">{text}</script>\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_elements_and_attributes() {
        assert_eq!(
            esc("<b class=\"x\">'&'</b>"),
            "&lt;b class=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/b&gt;"
        );
        assert_eq!(
            label(
                &["mlp.lr".into(), "seed".into()],
                &[Some("0.1".into()), None]
            ),
            "mlp.lr=0.1, seed=∅"
        );
        assert_eq!(label(&[], &[]), "all runs");
    }
}
