use super::*;

const THREE: &str = r#"name: x
reference:
  - {best_test_error: {pretrained: 0.012, random: 0.016}, by: mlp.init, source: "Hinton, Osindero & Teh 2006"}
  - {test_recon_error: {deep: 3.00, logistic_pca: 8.01, pca: 13.87}, by: autoencoder.method, source: "Hinton & Salakhutdinov 2006"}
  - {test_logprob: -86.3, source: "Salakhutdinov & Murray 2008 (CD25)"}
  - best_test_error: {0.1: 0.02, 1000: 0.1}
    by: lr
    source: made up
sweep: {whatever: [1, 2]}
"#;

#[test]
fn references_parse_numbers_and_levels_in_file_order() {
    let refs = parse(THREE).unwrap();
    assert_eq!(refs.len(), 4);
    assert_eq!(
        refs[0],
        Reference {
            metric: "best_test_error".into(),
            by: Some("mlp.init".into()),
            published: Published::Levels(vec![
                ("pretrained".into(), 0.012),
                ("random".into(), 0.016)
            ]),
            source: "Hinton, Osindero & Teh 2006".into(),
        }
    );
    assert_eq!(
        refs[1].published,
        Published::Levels(vec![
            ("deep".into(), 3.0),
            ("logistic_pca".into(), 8.01),
            ("pca".into(), 13.87)
        ])
    );
    assert_eq!(refs[2].published, Published::All(-86.3));
    assert_eq!(refs[2].by, None);
    // Number keys are kept as the text a param value is stored as.
    assert_eq!(
        refs[3].published,
        Published::Levels(vec![("0.1".into(), 0.02), ("1000".into(), 0.1)])
    );
    assert_eq!(
        serde_json::to_string(&refs[0]).unwrap(),
        r#"{"metric":"best_test_error","by":"mlp.init","published":{"pretrained":0.012,"random":0.016},"source":"Hinton, Osindero & Teh 2006"}"#
    );
    assert_eq!(parse("name: x\n").unwrap(), vec![]);
    assert_eq!(parse("").unwrap(), vec![]);
}

fn parse_err(entry: &str) -> String {
    let text = format!("name: x\nreference:\n  - {{a: 1, source: s}}\n  - {entry}\n");
    parse(&text).expect_err(entry)
}

#[test]
fn malformed_references_name_the_entry_and_its_line() {
    let cases = [
        ("{best_test_error: 0.012}", "has no `source`"),
        ("{best_test_error: 0.012, source: '  '}", "has no `source`"),
        (
            "{best_test_error: 0.012, test_error: 0.013, source: s}",
            "two metric keys, `best_test_error` and `test_error`",
        ),
        ("{best_test_error: twelve, source: s}", "twelve"),
        (
            "{best_test_error: {random: '1.6%'}, by: init, source: s}",
            "invalid type: string \"1.6%\", expected a number",
        ),
        ("{best_test_error: {random: 0.016}, source: s}", "no `by`"),
        (
            "{best_test_error: 0.016, by: init, source: s}",
            "has no levels",
        ),
        ("{by: init, source: s}", "no metric"),
        ("{best_test_error: .inf, source: s}", "finite"),
        (
            "{best_test_error: {}, by: init, source: s}",
            "empty mapping",
        ),
        (
            "{best_test_error: {a: 1, a: 2}, by: init, source: s}",
            "level `a` is given twice",
        ),
    ];
    for (entry, says) in cases {
        let e = parse_err(entry);
        assert!(e.contains("reference[1]"), "{entry}: {e}");
        assert!(e.contains("line 4"), "{entry}: {e}");
        assert!(e.contains(says), "{entry}: {e}");
    }
}

fn stat(n: i64, mean: f64) -> Stat {
    Stat {
        n,
        mean: Some(mean),
        std: Some(0.001),
        min: Some(mean),
        max: Some(mean),
    }
}

fn g(values: &[&str]) -> Vec<Option<String>> {
    values.iter().map(|v| Some(v.to_string())).collect()
}

#[test]
fn levels_line_up_with_the_groups_of_their_param_and_absent_ones_are_listed_last() {
    let refs = parse(
        "reference:\n  - {best_test_error: {pretrained: 0.012, random: 0.016, dbm: 0.0095}, \
         by: init, source: paper}\n",
    )
    .unwrap();
    let by = vec!["mlp.init".to_string(), "mlp.lr".to_string()];
    let keys = [
        g(&["pretrained", "0.1"]),
        g(&["random", "0.1"]),
        g(&["random", "0.03"]),
    ];
    let stats = [stat(2, 0.013), stat(2, 0.02), stat(1, 0.017)];
    let groups: Vec<(&[Option<String>], Option<&Stat>)> = keys
        .iter()
        .zip(&stats)
        .map(|(k, s)| (k.as_slice(), Some(s)))
        .collect();
    let c = line_up(&refs[0], &by, &groups);
    assert_eq!(c.matched_by.as_deref(), Some("mlp.init"));
    let rows: Vec<(Option<&str>, f64, Option<f64>, i64)> = c
        .rows
        .iter()
        .map(|r| (r.level.as_deref(), r.published, r.gap, r.n))
        .collect();
    let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-12;
    assert_eq!(rows.len(), 4);
    assert_eq!(c.rows[0].group, Some(g(&["pretrained", "0.1"])));
    assert!(close(rows[0].2, 0.013 - 0.012) && rows[0].3 == 2);
    assert_eq!((rows[1].0, rows[1].1), (Some("random"), 0.016));
    assert!(close(rows[1].2, 0.004));
    assert!(close(rows[2].2, 0.001) && rows[2].3 == 1);
    assert_eq!(c.rows[2].group, Some(g(&["random", "0.03"])));
    // The level no group has: listed, without a group.
    assert_eq!(rows[3], (Some("dbm"), 0.0095, None, 0));
    assert_eq!(c.rows[3].group, None);
    assert_eq!(c.note.as_deref(), Some("no group has mlp.init = `dbm`"));

    // Grouped by another param only: every figure listed, and why none is beside a group.
    let lr = vec!["mlp.lr".to_string()];
    let c = line_up(&refs[0], &lr, &groups);
    assert_eq!(c.matched_by, None);
    assert_eq!(c.rows.len(), 3);
    assert!(c.rows.iter().all(|r| r.group.is_none() && r.gap.is_none()));
    assert!(
        c.note
            .unwrap()
            .contains("`init` is not among the group-by params (mlp.lr)")
    );
}

#[test]
fn one_figure_goes_beside_every_group() {
    let r = &parse("reference:\n  - {test_logprob: -86.3, source: S&M 2008}\n").unwrap()[0];
    let by = vec!["rbm.cd_k".to_string()];
    let keys = [g(&["1"]), g(&["25"])];
    let stats = [stat(1, -100.0), stat(1, -90.0)];
    let groups: Vec<(&[Option<String>], Option<&Stat>)> = keys
        .iter()
        .zip(&stats)
        .map(|(k, s)| (k.as_slice(), Some(s)))
        .collect();
    let c = line_up(r, &by, &groups);
    let gaps: Vec<f64> = c.rows.iter().map(|r| r.gap.unwrap()).collect();
    assert!((gaps[0] - -13.7).abs() < 1e-9 && (gaps[1] - -3.7).abs() < 1e-9);
    assert_eq!(c.note, None);
    // No groups (no finished runs): the figure alone, and a note.
    let c = line_up(r, &by, &[]);
    assert_eq!(c.rows.len(), 1);
    assert!(c.note.is_some());
}

#[test]
fn references_match_prefixed_metrics_and_the_curves_of_summary_metrics() {
    let r = |m: &str| Reference {
        metric: m.into(),
        by: None,
        published: Published::All(1.0),
        source: "s".into(),
    };
    assert!(r("test_exact_loglik").measures("rbm/test_exact_loglik"));
    assert!(r("test_exact_loglik").measures("test_exact_loglik"));
    assert!(!r("test_exact_loglik").measures("rbm/test_exact_loglik_se"));
    assert!(!r("error").measures("test_error"));
    assert!(r("best_test_error").tracks("test_error"));
    assert!(!r("best_test_error").tracks("valid_error"));
    assert!(r("test_recon_error").tracks("test_recon_error"));
    assert!(level_is("0.10", "0.1") && level_is("[300,300]", "[300, 300]"));
    assert!(!level_is("random", "pretrained") && !level_is("1", "10"));
}
