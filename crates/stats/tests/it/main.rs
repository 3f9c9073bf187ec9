//! Scenario tests of the `stats` crate: known panels in, expected numbers out.

use stats::{
    AggregationOptions, AttGtConfig, BasePeriod, ControlGroup, Method, Panel, Report, StatsError, att_gt, evaluate,
};

/// mpdta from R `did` (see tests/data/README.md).
fn mpdta() -> Panel {
    let text = include_str!("../data/mpdta.csv");
    let (mut unit, mut year, mut group, mut lemp, mut lpop) = (vec![], vec![], vec![], vec![], vec![]);
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        unit.push(f[0].parse().unwrap_or(0));
        year.push(f[1].parse().unwrap_or(0));
        group.push(f[2].parse().unwrap_or(0));
        lemp.push(f[3].parse().unwrap_or(f64::NAN));
        lpop.push(f[4].parse().unwrap_or(f64::NAN));
    }
    Panel::new(unit, year, group, lemp)
        .and_then(|p| p.with_covariate("lpop", lpop))
        .unwrap_or_else(|e| panic!("mpdta fixture: {e}"))
}

fn check(config: AttGtConfig, check: impl Fn(&Report)) {
    match evaluate(&mpdta(), &config, &AggregationOptions::default()) {
        Ok(report) => check(&report),
        Err(e) => panic!("evaluation failed: {e}"),
    }
}

fn att(report: &Report, g: i64, t: i64) -> f64 {
    report
        .att_gt
        .iter()
        .find(|r| r.group == g && r.time == t)
        .and_then(|r| r.att)
        .unwrap_or(f64::NAN)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn mpdta_never_treated_matches_the_did_vignette() {
    check(AttGtConfig::default(), |r| {
        assert!(close(att(r, 2004, 2004), -0.0105, 5e-5), "{}", att(r, 2004, 2004));
        assert!(close(att(r, 2004, 2006), -0.1373, 5e-5), "{}", att(r, 2004, 2006));
        assert!(close(att(r, 2007, 2007), -0.0261, 5e-5), "{}", att(r, 2007, 2007));
        let dynamic = r.aggregations.dynamic.att.unwrap_or(f64::NAN);
        assert!(close(dynamic, -0.0772, 5e-5), "{dynamic}");
        assert_eq!(r.att_gt.len(), 12);
        assert!(r.pretest.statistic.is_some());
    });
}

#[test]
fn mpdta_with_covariates_runs_every_method() {
    for method in [Method::Dr, Method::Ipw, Method::Or] {
        for control in [ControlGroup::NeverTreated, ControlGroup::NotYetTreated] {
            let config = AttGtConfig {
                method,
                control,
                covariates: vec!["lpop".into()],
                ..AttGtConfig::default()
            };
            check(config, |r| {
                assert!(r.att_gt.iter().all(|c| c.att.is_some() && c.se.is_some()));
                let simple = r.aggregations.simple.att.unwrap_or(f64::NAN);
                assert!(simple < 0.0 && simple > -0.1, "{method:?} {control:?}: {simple}");
            });
        }
    }
}

#[test]
fn universal_base_period_reports_a_zero_cell_without_se() {
    let config = AttGtConfig {
        base_period: BasePeriod::Universal,
        ..AttGtConfig::default()
    };
    check(config, |r| {
        let base = r.att_gt.iter().find(|c| c.group == 2006 && c.time == 2005);
        assert_eq!(base.map(|c| (c.att, c.se)), Some((Some(0.0), None)));
    });
}

#[test]
fn bootstrap_is_reproducible_and_close_to_analytic() {
    let analytic = evaluate(&mpdta(), &AttGtConfig::default(), &AggregationOptions::default());
    let boot_cfg = AttGtConfig {
        bootstrap: Some(stats::Bootstrap { reps: 999, seed: 42 }),
        ..AttGtConfig::default()
    };
    let a = evaluate(&mpdta(), &boot_cfg, &AggregationOptions::default());
    let b = evaluate(&mpdta(), &boot_cfg, &AggregationOptions::default());
    match (analytic, a, b) {
        (Ok(an), Ok(a), Ok(b)) => {
            assert_eq!(a, b);
            assert!(a.critical_value > 1.96 && a.critical_value < 4.0);
            for (x, y) in an.att_gt.iter().zip(&a.att_gt) {
                let (sx, sy) = (x.se.unwrap_or(f64::NAN), y.se.unwrap_or(f64::NAN));
                assert!((sy / sx - 1.0).abs() < 0.2, "{sx} vs {sy}");
            }
        }
        _ => panic!("evaluation failed"),
    }
}

/// A panel whose ATT can be computed by hand: two treated units gain exactly 1.5.
#[test]
fn hand_computed_two_by_two() {
    // units 1,2 treated at t=2; units 3,4 never; outcomes chosen by hand.
    let unit = vec![1, 1, 2, 2, 3, 3, 4, 4];
    let time = vec![1, 2, 1, 2, 1, 2, 1, 2];
    let group = vec![2, 2, 2, 2, 0, 0, 0, 0];
    // changes: treated 2.0 and 3.0 (mean 2.5); controls 1.0 and 1.0 (mean 1.0)
    let y = vec![0.0, 2.0, 1.0, 4.0, 0.0, 1.0, 5.0, 6.0];
    let panel = Panel::new(unit, time, group, y).unwrap_or_else(|e| panic!("{e}"));
    let config = AttGtConfig {
        bootstrap: None,
        ..AttGtConfig::default()
    };
    // two units per group is below did's minimum group size of 5 for the never-treated
    let result = att_gt(&panel, &config);
    assert_eq!(result.err(), Some(StatsError::NeverTreatedTooSmall { size: 2 }));
}

#[test]
fn hand_computed_att_and_se() {
    // five treated units with changes 2..=6, five controls with changes 0..=4.
    let (mut unit, mut time, mut group, mut y) = (vec![], vec![], vec![], vec![]);
    for u in 0..10i64 {
        let treated = u < 5;
        let change = if treated { 2.0 + u as f64 } else { (u - 5) as f64 };
        for t in 1..=2 {
            unit.push(u);
            time.push(t);
            group.push(if treated { 2 } else { 0 });
            y.push(if t == 1 { 10.0 } else { 10.0 + change });
        }
    }
    let panel = Panel::new(unit, time, group, y).unwrap_or_else(|e| panic!("{e}"));
    let r = att_gt(&panel, &AttGtConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.cells.len(), 1);
    assert!(close(r.cells[0].att, 2.0, 1e-14));
    // IF_i = n/n_T (Δy_i − 4) for treated, −n/n_C (Δy_i − 2) for controls:
    // Σ IF² = 2 · 4 · (4+1+0+1+4) = 80; se = sqrt(80 / 10) / sqrt(10)
    let se = r.cells[0].se.unwrap_or(f64::NAN);
    assert!(close(se, (80.0f64 / 10.0).sqrt() / 10f64.sqrt(), 1e-14), "{se}");
}

#[test]
fn bad_input_names_the_column_and_units() {
    let unit = vec![1, 1, 2, 2];
    let time = vec![1, 2, 1, 2];
    let switching = vec![2, 0, 0, 0];
    let panel = Panel::new(unit.clone(), time.clone(), switching, vec![0.0; 4]);
    let err = panel.and_then(|p| att_gt(&p, &AttGtConfig::default()));
    let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("`group`") && msg.contains('1'), "{msg}");

    let missing = Panel::new(
        unit.clone(),
        time.clone(),
        vec![2, 2, 0, 0],
        vec![0.0, f64::NAN, 1.0, 2.0],
    );
    let err = missing.and_then(|p| att_gt(&p, &AttGtConfig::default()));
    assert_eq!(
        err.err(),
        Some(StatsError::MissingValues {
            column: "outcome".into(),
            units: vec![1]
        })
    );

    let unbalanced = Panel::new(vec![1, 1, 2], vec![1, 2, 1], vec![2, 2, 0], vec![0.0; 3]);
    let err = unbalanced.and_then(|p| att_gt(&p, &AttGtConfig::default()));
    assert!(matches!(err, Err(StatsError::Unbalanced { ref units, .. }) if units == &vec![2]));

    // periods 1, 2 and 4: a group of 3 is not a period of the panel
    let not_a_period = Panel::new(
        vec![1, 1, 1, 2, 2, 2],
        vec![1, 2, 4, 1, 2, 4],
        vec![3, 3, 3, 0, 0, 0],
        vec![0.0; 6],
    );
    let err = not_a_period.and_then(|p| att_gt(&p, &AttGtConfig::default()));
    assert_eq!(
        err.err(),
        Some(StatsError::GroupNotAPeriod {
            column: "group".into(),
            value: 3,
            units: vec![1]
        })
    );
    let _ = (unit, time);
}

#[test]
fn constant_covariate_is_an_error() {
    let p = mpdta();
    let config = AttGtConfig {
        covariates: vec!["one".into()],
        ..AttGtConfig::default()
    };
    let p = p
        .with_covariate("one", vec![1.0; 2500])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        att_gt(&p, &config).err(),
        Some(StatsError::ConstantCovariate { column: "one".into() })
    );
}

#[test]
fn clustering_by_unit_gives_the_unclustered_standard_errors() {
    let text = include_str!("../data/mpdta.csv");
    let units: Vec<i64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().and_then(|u| u.parse().ok()).unwrap_or(0))
        .collect();
    let by_unit = mpdta()
        .with_cluster("countyreal", units.clone())
        .unwrap_or_else(|e| panic!("{e}"));
    let by_state = mpdta()
        .with_cluster("state", units.iter().map(|u| u / 1000).collect())
        .unwrap_or_else(|e| panic!("{e}"));
    let clustered = AttGtConfig {
        cluster: true,
        ..AttGtConfig::default()
    };
    let plain = evaluate(&mpdta(), &AttGtConfig::default(), &AggregationOptions::default());
    let unit = evaluate(&by_unit, &clustered, &AggregationOptions::default());
    let state = evaluate(&by_state, &clustered, &AggregationOptions::default());
    match (plain, unit, state) {
        (Ok(p), Ok(u), Ok(s)) => {
            for ((a, b), c) in p.att_gt.iter().zip(&u.att_gt).zip(&s.att_gt) {
                let (sa, sb, sc) = (a.se.unwrap_or(0.0), b.se.unwrap_or(1.0), c.se.unwrap_or(f64::NAN));
                assert!(close(sa, sb, 1e-12 * sa), "{sa} vs {sb}");
                assert!(sc.is_finite() && sc > 0.0);
            }
        }
        _ => panic!("evaluation failed"),
    }
}

#[test]
fn anticipation_shifts_the_base_period() {
    let config = AttGtConfig {
        anticipation: 1,
        ..AttGtConfig::default()
    };
    check(config, |r| {
        // with one period of anticipation, group 2004 has no pre-period and is dropped
        assert!(r.att_gt.iter().all(|c| c.group != 2004));
        assert!(
            r.warnings
                .iter()
                .any(|w| w.contains("already treated in the first period"))
        );
        assert!(att(r, 2006, 2006).is_finite());
    });
}

#[test]
fn event_study_chart_has_one_marker_per_event_time_and_a_band() {
    let config = AttGtConfig {
        bootstrap: Some(stats::Bootstrap { reps: 199, seed: 3 }),
        ..AttGtConfig::default()
    };
    check(config, |r| {
        let svg = r.event_study_svg();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), r.aggregations.dynamic.by.len());
        assert!(svg.contains("uniform band"));
        assert!(r.band_critical_values[1] > 1.9);
    });
}

#[test]
fn json_has_exactly_the_documented_shape() {
    check(AttGtConfig::default(), |r| {
        let value = serde_json::to_value(r).unwrap_or_default();
        let keys: Vec<&str> = value
            .as_object()
            .map(|o| o.keys().map(|k| k.as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            ["aggregations", "att_gt", "critical_value", "pretest", "warnings"]
        );
        let text = serde_json::to_string(r).unwrap_or_default();
        assert!(text.starts_with(r#"{"att_gt":[{"group":2004,"time":2004,"att":"#));
        assert!(text.contains(r#"],"aggregations":{"simple":{"att":"#));
        assert!(text.contains(r#"},"pretest":{"statistic":"#));
        assert_eq!(value["att_gt"][0].as_object().map(|o| o.len()), Some(4));
        assert!(value["aggregations"]["dynamic"]["by"][0]["event_time"].is_i64());
        assert!(value["aggregations"]["calendar"]["by"][0]["time"].is_i64());
        assert!(value["aggregations"]["group"]["by"][0]["group"].is_i64());
        assert!(value["pretest"]["p_value"].is_f64());
    });
}
