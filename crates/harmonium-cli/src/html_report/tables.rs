//! The report's tables: the groups of the comparison (n, mean ± std, min, max), the
//! differences between levels (Welch's and the paired interval, the one that applies marked),
//! and the published figures beside the groups. Every number is also in a `data-` attribute,
//! as the JSON gives it.

use std::collections::HashMap;
use std::fmt::Write;

use super::Report;
use super::page::{PALETTE, attr, esc, label, swatch};
use crate::report::{fmt_p, signed};
use crate::table::fmt_metric;

pub fn comparison(r: &Report, colour: &HashMap<Vec<Option<String>>, usize>) -> String {
    let c = &r.comparison;
    let m = &c.metric;
    let f = |v: Option<f64>| v.map_or("–".to_string(), |v| fmt_metric(m, Some(v)));
    let finished = r.counts.get("finished").copied().unwrap_or(0);
    let mut s = format!(
        "<section id=\"comparison\"><h2>{} by group</h2><p>Finished runs ({finished}), by {}: \
         per group the runs, those with a value (n), mean ± standard deviation, minimum and \
         maximum.</p>",
        esc(m),
        esc(&if c.by.is_empty() {
            "nothing (all runs together)".to_string()
        } else {
            c.by.join(" × ")
        })
    );
    s.push_str("<table class=\"grid\" id=\"group-table\"><thead><tr><th></th>");
    for k in &c.by {
        let _ = write!(s, "<th>{}</th>", esc(k));
    }
    s.push_str("<th class=\"num\">runs</th><th class=\"num\">n</th><th class=\"num\">mean ± std</th><th class=\"num\">min</th><th class=\"num\">max</th></tr></thead><tbody>");
    for g in &c.groups {
        let i = colour.get(&g.group).copied().unwrap_or(0);
        let st = &g.stat;
        let _ = write!(
            s,
            "<tr data-group=\"{i}\"><td>{}</td>",
            swatch(PALETTE[i % PALETTE.len()])
        );
        for v in &g.group {
            let _ = write!(
                s,
                "<td class=\"param\">{}</td>",
                esc(v.as_deref().unwrap_or("∅"))
            );
        }
        let mean_std = match st.std {
            Some(sd) => format!("{} ± {}", f(st.mean), f(Some(sd))),
            None => f(st.mean),
        };
        let _ = write!(
            s,
            "<td class=\"num\">{}</td><td class=\"num\" data-n=\"{}\">{}</td>\
             <td class=\"num mean-std\" data-mean=\"{}\" data-std=\"{}\">{}</td>\
             <td class=\"num\" data-value=\"{}\">{}</td><td class=\"num\" data-value=\"{}\">{}</td></tr>",
            g.runs,
            st.n,
            st.n,
            attr(st.mean),
            attr(st.std),
            mean_std,
            attr(st.min),
            f(st.min),
            attr(st.max),
            f(st.max)
        );
    }
    s.push_str("</tbody></table>");
    s.push_str(&contrasts(r));
    s.push_str("</section>\n");
    s
}

fn contrasts(r: &Report) -> String {
    let c = &r.comparison;
    let m = &c.metric;
    if c.contrasts.is_empty() {
        return String::new();
    }
    let pct = format!("{:.0}%", 100.0 * c.level);
    let interval = |lo: Option<f64>, hi: Option<f64>| match (lo, hi) {
        (Some(lo), Some(hi)) => format!("[{}, {}]", signed(m, lo), signed(m, hi)),
        _ => "needs ≥ 2 runs per group".into(),
    };
    let pooled: String = c
        .paired_on
        .iter()
        .map(|k| format!(" and the same {}", esc(k)))
        .collect();
    let mut s = format!(
        "<h3>Differences between levels of {}</h3><p>Each level against the first, within \
         every combination of the other params: the difference of means with Welch's {pct} \
         interval, and the runs paired by seed{pooled} (same seed: same data subset and order) \
         with the paired t interval and the sign-flip permutation p-value. ✓ marks the interval \
         that applies: the paired one when every run of both levels has its pair.</p>",
        esc(&c.by[0])
    );
    s.push_str("<table class=\"grid\" id=\"contrast-table\"><thead><tr>");
    let _ = write!(s, "<th>{}: a − b</th>", esc(&c.by[0]));
    for k in &c.by[1..] {
        let _ = write!(s, "<th>{}</th>", esc(k));
    }
    let _ = write!(
        s,
        "<th class=\"num\">a − b</th><th class=\"num\">Welch {pct}</th><th class=\"num\">dof</th>\
         <th class=\"num\">pairs</th><th class=\"num\">paired Δ</th><th class=\"num\">paired {pct}</th>\
         <th class=\"num\">sign-flip p</th><th>applies</th></tr></thead><tbody>"
    );
    let mark = |yes: bool| if yes { " ✓" } else { "" };
    for k in &c.contrasts {
        let paired = k.why_welch.is_none();
        let _ = write!(
            s,
            "<tr><td>{} − {}</td>",
            esc(k.a.as_deref().unwrap_or("∅")),
            esc(k.b.as_deref().unwrap_or("∅"))
        );
        for v in &k.within {
            let _ = write!(
                s,
                "<td class=\"param\">{}</td>",
                esc(v.as_deref().unwrap_or("∅"))
            );
        }
        let _ = write!(
            s,
            "<td class=\"num\" data-diff=\"{}\">{}</td><td class=\"num\" data-lo=\"{}\" data-hi=\"{}\">{}{}</td><td class=\"num\">{}</td>",
            k.diff,
            signed(m, k.diff),
            attr(k.lo),
            attr(k.hi),
            interval(k.lo, k.hi),
            mark(!paired),
            k.dof.map_or("–".into(), |d| format!("{d:.1}"))
        );
        match &k.paired {
            Some(p) => {
                let _ = write!(
                    s,
                    "<td class=\"num\">{}</td><td class=\"num\" data-paired-diff=\"{}\">{}</td><td class=\"num\">{}{}</td><td class=\"num\" data-p=\"{}\">{}{}</td>",
                    p.n,
                    p.diff,
                    signed(m, p.diff),
                    match (p.lo, p.hi) {
                        (Some(_), Some(_)) => interval(p.lo, p.hi),
                        _ => "needs ≥ 2 pairs".into(),
                    },
                    mark(paired),
                    p.p,
                    if p.p_exact { "" } else { "≈ " },
                    fmt_p(p.p)
                );
            }
            None => s.push_str("<td class=\"num\">0</td><td class=\"num\">–</td><td class=\"num\">–</td><td class=\"num\">–</td>"),
        }
        let applies = match k.why_welch {
            None => "paired".to_string(),
            Some(w) => format!("Welch ({w})"),
        };
        let _ = write!(s, "<td>{}</td></tr>", esc(&applies));
    }
    s.push_str("</tbody></table>");
    s
}

pub fn references(r: &Report) -> String {
    let c = &r.comparison;
    let m = &c.metric;
    let mut s = String::from("<section id=\"references\"><h2>Published figures</h2>");
    if let Some(e) = &r.reference_error {
        let _ = write!(s, "<p class=\"error\">{}</p>", esc(e));
    }
    if r.references.is_empty() {
        let _ = writeln!(
            s,
            "<p class=\"muted\">The experiment file gives no published figure of {} \
             (<code>reference:</code>).</p></section>",
            esc(m)
        );
        return s;
    }
    let f = |v: Option<f64>| v.map_or("–".to_string(), |v| fmt_metric(m, Some(v)));
    for check in &r.references {
        let rf = &check.reference;
        let by = rf
            .by
            .as_ref()
            .map(|b| format!(" (by {b})"))
            .unwrap_or_default();
        let _ = write!(
            s,
            "<div class=\"reference\"><h3>{}{}</h3><table class=\"grid references\"><thead><tr>\
             <th>group</th><th class=\"num\">published</th><th class=\"num\">measured mean ± std</th>\
             <th class=\"num\">n</th><th class=\"num\">gap</th></tr></thead><tbody>",
            esc(&rf.source),
            esc(&by)
        );
        for row in &check.rows {
            let who = match (&row.group, &row.level) {
                (Some(g), _) => label(&c.by, g),
                (None, Some(l)) => format!(
                    "{}={l} (no group)",
                    check
                        .matched_by
                        .as_deref()
                        .or(rf.by.as_deref())
                        .unwrap_or("")
                ),
                (None, None) => "(no group)".into(),
            };
            let mean = match row.std {
                Some(sd) => format!("{} ± {}", f(row.mean), f(Some(sd))),
                None => f(row.mean),
            };
            let _ = write!(
                s,
                "<tr><td>{}</td><td class=\"num\" data-published=\"{}\">{}</td><td class=\"num\" data-mean=\"{}\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\" data-gap=\"{}\">{}</td></tr>",
                esc(&who),
                row.published,
                fmt_metric(m, Some(row.published)),
                attr(row.mean),
                mean,
                if row.group.is_some() {
                    row.n.to_string()
                } else {
                    "–".into()
                },
                attr(row.gap),
                row.gap.map_or("–".into(), |g| signed(m, g))
            );
        }
        s.push_str("</tbody></table>");
        if let Some(note) = &check.note {
            let _ = write!(s, "<p class=\"muted small\">{}</p>", esc(note));
        }
        s.push_str("</div>");
    }
    s.push_str("<p class=\"muted small\">gap = measured mean − published value.</p></section>\n");
    s
}
