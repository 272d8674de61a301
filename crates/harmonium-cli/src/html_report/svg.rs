//! The report's learning-curve chart as inline SVG: each group's mean per step as a line in a
//! ± std band, and published figures as dashed horizontal lines with their labels. Drawn here,
//! so the chart needs no script and no library.

use std::fmt::Write;

use super::page::esc;

/// Size of the drawing and its margins, in SVG user units.
const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 340.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 44.0;

/// One group's curve.
pub struct Curve<'a> {
    /// Index of the group, shared with its legend entry and its reference lines.
    pub group: usize,
    pub color: &'a str,
    pub label: String,
    pub steps: &'a [i64],
    pub mean: Vec<Option<f64>>,
    pub std: Vec<Option<f64>>,
}

/// A published figure drawn across the chart.
pub struct Rule<'a> {
    pub value: f64,
    pub label: String,
    pub color: &'a str,
    /// The group it belongs to, when one (hidden with it).
    pub group: Option<usize>,
}

/// A linear map from values to positions.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub lo: f64,
    pub hi: f64,
    pub from: f64,
    pub to: f64,
}

impl Scale {
    pub fn at(&self, v: f64) -> f64 {
        self.from + (v - self.lo) / (self.hi - self.lo) * (self.to - self.from)
    }
}

/// The range `[lo, hi]` widened by 5 % on each side (a single value: by 5 % of itself, or 1).
pub fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let span = hi - lo;
    if span > 0.0 {
        (lo - 0.05 * span, hi + 0.05 * span)
    } else {
        let d = if lo == 0.0 { 1.0 } else { 0.05 * lo.abs() };
        (lo - d, hi + d)
    }
}

/// A round step (1, 2 or 5 × 10^k) that cuts `[lo, hi]` into about `target` parts, and the
/// multiples of it inside the range.
pub fn ticks(lo: f64, hi: f64, target: usize) -> (f64, Vec<f64>) {
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (step, (first..=last).map(|i| i as f64 * step).collect())
}

/// A tick label with as many decimals as the step needs; as a percentage when `percent`.
pub fn tick_label(v: f64, step: f64, percent: bool) -> String {
    let (v, step) = if percent {
        (100.0 * v, 100.0 * step)
    } else {
        (v, step)
    };
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let s = format!("{v:.decimals$}");
    let s = if s.starts_with('-') && s.trim_start_matches(['-', '0', '.']).is_empty() {
        s[1..].to_string()
    } else {
        s
    };
    if percent { format!("{s}%") } else { s }
}

/// The chart: curves with their bands, the rules, axes with ticks, and the axis labels.
pub fn chart(
    curves: &[Curve],
    rules: &[Rule],
    x_label: &str,
    y_label: &str,
    percent: bool,
) -> String {
    let steps = curves.iter().flat_map(|c| c.steps.iter().copied());
    let (x_lo, x_hi) = steps.fold((i64::MAX, i64::MIN), |(a, b), s| (a.min(s), b.max(s)));
    let (x_lo, x_hi) = if x_lo > x_hi {
        (0.0, 1.0)
    } else if x_lo == x_hi {
        (x_lo as f64 - 1.0, x_hi as f64 + 1.0)
    } else {
        (x_lo as f64, x_hi as f64)
    };
    let mut ys: Vec<f64> = rules.iter().map(|r| r.value).collect();
    for c in curves {
        for (m, s) in c.mean.iter().zip(&c.std) {
            if let Some(m) = m {
                let s = s.unwrap_or(0.0);
                ys.extend([m - s, m + s]);
            }
        }
    }
    let ys: Vec<f64> = ys.into_iter().filter(|v| v.is_finite()).collect();
    let (y_lo, y_hi) = ys
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let (y_lo, y_hi) = if ys.is_empty() {
        (0.0, 1.0)
    } else {
        padded(y_lo, y_hi)
    };
    let x = Scale {
        lo: x_lo,
        hi: x_hi,
        from: LEFT,
        to: WIDTH - RIGHT,
    };
    let y = Scale {
        lo: y_lo,
        hi: y_hi,
        from: HEIGHT - BOTTOM,
        to: TOP,
    };
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="curves" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" data-curves="{}" data-rules="{}">"#,
        curves.len(),
        rules.len()
    );
    s.push_str(&axes(&x, &y, percent));
    for c in curves {
        s.push_str(&curve(c, &x, &y));
    }
    let pys: Vec<f64> = rules.iter().map(|r| y.at(r.value)).collect();
    let label_ys = label_positions(&pys);
    for ((r, py), ly) in rules.iter().zip(pys).zip(label_ys) {
        let group = r
            .group
            .map(|g| format!(r#" data-group="{g}""#))
            .unwrap_or_default();
        let _ = write!(
            s,
            r#"<g class="rule"{group}><line x1="{:.1}" x2="{:.1}" y1="{py:.1}" y2="{py:.1}" stroke="{}" stroke-width="1.5" stroke-dasharray="6 4"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="{}">{}</text></g>"#,
            x.from,
            x.to,
            r.color,
            x.to - 4.0,
            ly,
            r.color,
            esc(&r.label)
        );
    }
    let _ = write!(
        s,
        r#"<text class="axis-label" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        (x.from + x.to) / 2.0,
        HEIGHT - 6.0,
        esc(x_label)
    );
    let _ = write!(
        s,
        r#"<text class="axis-label" transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        (y.from + y.to) / 2.0,
        esc(y_label)
    );
    s.push_str("</svg>");
    s
}

/// Where the labels of rules at heights `pys` go: just above each line, moved down where it
/// would overlap the label above it (labels are 12 units apart at least).
pub fn label_positions(pys: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..pys.len()).collect();
    order.sort_by(|&a, &b| pys[a].total_cmp(&pys[b]));
    let mut out = vec![0.0; pys.len()];
    let mut last = f64::NEG_INFINITY;
    for i in order {
        out[i] = (pys[i] - 4.0).max(last + 12.0);
        last = out[i];
    }
    out
}

/// The frame, grid lines and tick labels.
fn axes(x: &Scale, y: &Scale, percent: bool) -> String {
    let mut s = String::from(r#"<g class="axes">"#);
    let _ = write!(
        s,
        r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="#999"/>"##,
        x.from,
        y.to,
        x.to - x.from,
        y.from - y.to
    );
    let (_, xt) = ticks(x.lo, x.hi, 8);
    for t in xt.iter().filter(|t| t.fract() == 0.0) {
        let px = x.at(*t);
        let _ = write!(
            s,
            r##"<line x1="{px:.1}" x2="{px:.1}" y1="{:.1}" y2="{:.1}" stroke="#999"/><text x="{px:.1}" y="{:.1}" text-anchor="middle">{t}</text>"##,
            y.from,
            y.from + 4.0,
            y.from + 16.0
        );
    }
    let (step, yt) = ticks(y.lo, y.hi, 6);
    for t in yt {
        let py = y.at(t);
        let _ = write!(
            s,
            r##"<line x1="{:.1}" x2="{:.1}" y1="{py:.1}" y2="{py:.1}" stroke="#e4e4e4"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            x.from,
            x.to,
            x.from - 6.0,
            py + 4.0,
            tick_label(t, step, percent)
        );
    }
    s.push_str("</g>");
    s
}

/// Runs of consecutive indices at which `keep` holds.
fn segments(n: usize, keep: impl Fn(usize) -> bool) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut open = false;
    for i in 0..n {
        if keep(i) {
            if !open {
                out.push(Vec::new());
                open = true;
            }
            out.last_mut().expect("opened").push(i);
        } else {
            open = false;
        }
    }
    out
}

/// One group: its ± std band, its mean line (a dot where a point stands alone) and a tooltip.
fn curve(c: &Curve, x: &Scale, y: &Scale) -> String {
    let n = c.steps.len().min(c.mean.len());
    let px = |i: usize| x.at(c.steps[i] as f64);
    let mut s = format!(r#"<g class="curve" data-group="{}">"#, c.group);
    let _ = write!(s, "<title>{}</title>", esc(&c.label));
    let banded = |i: usize| c.mean[i].is_some() && c.std.get(i).copied().flatten().is_some();
    for seg in segments(n, banded).into_iter().filter(|s| s.len() > 1) {
        let (mut d, sep) = (String::new(), ["M", "L"]);
        for (k, &i) in seg.iter().enumerate() {
            let (m, sd) = (c.mean[i].unwrap_or(0.0), c.std[i].unwrap_or(0.0));
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                sep[(k > 0) as usize],
                px(i),
                y.at(m + sd)
            );
        }
        for &i in seg.iter().rev() {
            let (m, sd) = (c.mean[i].unwrap_or(0.0), c.std[i].unwrap_or(0.0));
            let _ = write!(d, "L{:.1},{:.1}", px(i), y.at(m - sd));
        }
        let _ = write!(
            s,
            r#"<path class="band" d="{d}Z" fill="{}" fill-opacity="0.15" stroke="none"/>"#,
            c.color
        );
    }
    for seg in segments(n, |i| c.mean[i].is_some()) {
        if let [i] = seg.as_slice() {
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#,
                px(*i),
                y.at(c.mean[*i].unwrap_or(0.0)),
                c.color
            );
            continue;
        }
        let mut d = String::new();
        for (k, &i) in seg.iter().enumerate() {
            let m = c.mean[i].unwrap_or(0.0);
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                ["M", "L"][(k > 0) as usize],
                px(i),
                y.at(m)
            );
        }
        let _ = write!(
            s,
            r#"<path class="mean" d="{d}" fill="none" stroke="{}" stroke-width="1.8"/>"#,
            c.color
        );
    }
    s.push_str("</g>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_steps_inside_the_range_and_labels_have_the_decimals_they_need() {
        let (step, t) = ticks(0.013, 0.031, 6);
        assert_eq!(step, 0.005);
        let t: Vec<String> = t.iter().map(|v| format!("{v:.3}")).collect();
        assert_eq!(t, ["0.015", "0.020", "0.025", "0.030"]);
        assert_eq!(ticks(1.0, 20.0, 8).1, [5.0, 10.0, 15.0, 20.0]);
        assert_eq!(ticks(1.0, 20.0, 8).0, 5.0);
        assert_eq!(tick_label(0.015, 0.005, true), "1.5%");
        assert_eq!(tick_label(-86.0, 2.0, false), "-86");
        assert_eq!(tick_label(-0.0001, 0.5, false), "0.0");
        assert_eq!(padded(1.0, 3.0), (0.9, 3.1));
        assert_eq!(padded(2.0, 2.0), (1.9, 2.1));
        // The second line's label would overlap the first's: it moves 12 below it.
        assert_eq!(
            label_positions(&[105.0, 100.0, 200.0]),
            [108.0, 96.0, 196.0]
        );
    }

    #[test]
    fn a_curve_is_its_band_and_mean_line_and_a_rule_is_a_dashed_line_at_its_value() {
        let steps = [1, 2, 3];
        let c = Curve {
            group: 0,
            color: "#123456",
            label: "lr=0.1 <n=2>".into(),
            steps: &steps,
            mean: vec![Some(0.2), Some(0.1), None],
            std: vec![Some(0.05), Some(0.05), None],
        };
        let rule = Rule {
            value: 0.3,
            label: "published 30% (A & B)".into(),
            color: "#555",
            group: None,
        };
        let svg = chart(&[c], &[rule], "epoch", "valid_error", true);
        // y: values 0.05..0.3 padded by 5 % of 0.25 → [0.0375, 0.3125] onto 296..14;
        // x: steps 1..3 onto 72..744.
        let (lo, hi) = padded(0.1 - 0.05, 0.3);
        assert!((lo - 0.0375).abs() < 1e-15 && (hi - 0.3125).abs() < 1e-15);
        let y = |v: f64| 296.0 + (v - lo) / (hi - lo) * (14.0 - 296.0);
        let mean = format!("M72.0,{:.1}L408.0,{:.1}", y(0.2), y(0.1));
        assert!(
            svg.contains(&format!(r#"<path class="mean" d="{mean}""#)),
            "{svg}"
        );
        let band = format!(
            "M72.0,{:.1}L408.0,{:.1}L408.0,{:.1}L72.0,{:.1}Z",
            y(0.25),
            y(0.15),
            y(0.05),
            y(0.15)
        );
        assert!(svg.contains(&band), "{svg}");
        let py = format!("{:.1}", y(0.3));
        assert!(
            svg.contains(&format!(
                r##"y1="{py}" y2="{py}" stroke="#555" stroke-width="1.5" stroke-dasharray="6 4""##
            )),
            "{svg}"
        );
        assert!(svg.contains("published 30% (A &amp; B)") && svg.contains("lr=0.1 &lt;n=2&gt;"));
        assert!(svg.contains(r#"data-curves="1" data-rules="1""#));
        assert!(!svg.contains("http"), "no namespace or link needed inline");
    }
}
