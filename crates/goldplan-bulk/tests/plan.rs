//! Plan validation: every bad input gives a problem naming its file line, and a plan with
//! problems cannot be turned into a journal (so nothing can be sent).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use goldplan_bulk::{Plan, PlanFormat};

fn problems(name: &str, text: &str) -> Vec<(u64, Option<String>, String)> {
    let e = Plan::parse(name, text, None).expect_err("the plan is invalid");
    assert!(e.to_string().contains("nothing was sent"), "{e}");
    e.problems
        .into_iter()
        .map(|p| (p.line, p.column, p.message))
        .collect()
}

fn has(ps: &[(u64, Option<String>, String)], line: u64, column: Option<&str>, text: &str) {
    assert!(
        ps.iter()
            .any(|(l, c, m)| *l == line && c.as_deref() == column && m.contains(text)),
        "no problem on line {line} ({column:?}) containing {text:?}: {ps:#?}"
    );
}

#[test]
fn every_bad_csv_row_is_named_by_its_line() {
    let csv = "\
sub_mchid,gold_plan,pay_scene,custom_page,industry_filter,ad_show,ad_tags
1900000001,OPEN,,OPEN,SOFTWARE|GAME,OPEN,
1900000002,OPEN,,,PHOTOGRAPHY,,
1900000003,OPEN,,,SOFTWARE|SOFTWARE,,
1900000004,OPEN,,,SOFTWARE;GAME;CAR;FOOD,,
19000x0005,OPEN,,,,,
1900000001,CLOSE,,,,,
1900000007,,JSAPI,,,,
1900000008,OPEN,,,,CLOSE,SOFTWARE
1900000009,MAYBE,,,,,
1900000010,CLOSE,,OPEN,,OPEN,
1900000011,OPEN,,,SOFTWARE,OPEN,GAME
123456789012345678901234567890123,OPEN,,,,,
1900000013,OPEN,,,,OPEN,POTOGRAPHY|BUSSINESS|INDUSTY
";
    let ps = problems("plan.csv", csv);
    has(
        &ps,
        3,
        Some("industry_filter"),
        "unknown industry tag `PHOTOGRAPHY`",
    );
    has(&ps, 4, Some("industry_filter"), "appears twice");
    has(&ps, 5, Some("industry_filter"), "at most 3");
    has(&ps, 6, Some("sub_mchid"), "1 to 32 digits");
    has(&ps, 7, Some("sub_mchid"), "already planned on line 2");
    has(&ps, 8, Some("pay_scene"), "needs gold_plan OPEN");
    has(&ps, 9, Some("ad_tags"), "need ad_show OPEN");
    has(
        &ps,
        10,
        Some("gold_plan"),
        "`MAYBE` is not one of OPEN, CLOSE",
    );
    has(
        &ps,
        11,
        Some("custom_page"),
        "conflicts with gold_plan CLOSE",
    );
    has(&ps, 11, Some("ad_show"), "conflicts with gold_plan CLOSE");
    has(&ps, 12, Some("ad_tags"), "conflicts with industry_filter");
    has(&ps, 13, Some("sub_mchid"), "1 to 32 digits");
    // Valid rows (2 and 14, misspelt wire values included) give no problem.
    assert!(ps.iter().all(|(l, _, _)| *l != 2 && *l != 14), "{ps:#?}");
}

#[test]
fn unknown_columns_and_long_values_are_not_echoed() {
    let key = "0123456789abcdefghijklmnopqrstuv";
    let csv = format!("sub_mchid,gold_plan,colour\n1900000001,{key},red\n");
    let ps = problems("plan.csv", &csv);
    has(&ps, 1, None, "unknown column `colour`");
    has(
        &ps,
        2,
        Some("gold_plan"),
        "a value of 32 characters, not shown",
    );
    assert!(ps.iter().all(|(_, _, m)| !m.contains(key)));
    let ps = problems("p.csv", "sub_mchid,gold_plan\n1900000001,OPEN,extra\n");
    has(&ps, 2, None, "3 fields, the header 2");
}

#[test]
fn json_lines_rows_and_their_lines() {
    let jsonl = r#"{"sub_mchid":"1900000001","gold_plan":"OPEN","industry_filter":["SOFTWARE","GAME"]}

{"sub_mchid":1900000002}
not json
{"sub_mchid":"1900000004","ad_tags":"SOFTWARE"}
{"sub_mchid":"1900000005","wat":"x"}
"#;
    let ps = problems("plan.jsonl", jsonl);
    has(&ps, 3, Some("sub_mchid"), "must be a string");
    has(&ps, 4, None, "not JSON");
    has(&ps, 5, Some("ad_tags"), "need ad_show OPEN");
    has(&ps, 6, None, "unknown column `wat`");
    assert!(ps.iter().all(|(l, _, _)| *l != 1));

    let ok = Plan::parse(
        "rows",
        r#"{"sub_mchid":"1900000001","gold_plan":"open","industry_filter":["SOFTWARE","GAME"]}"#,
        None,
    )
    .unwrap();
    assert_eq!(ok.format(), PlanFormat::JsonLines);
    assert_eq!(ok.operations().len(), 2);
    let rows = vec![serde_json::json!({"sub_mchid": "1900000001", "ad_show": "CLOSE"})];
    let from_rows = Plan::from_rows("rows", &rows).unwrap();
    assert_eq!(
        from_rows.operations()[0].operation.as_str(),
        "close_advertising_show"
    );
}

#[test]
fn an_invalid_plan_file_creates_no_journal() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.csv");
    std::fs::write(&plan, "sub_mchid,gold_plan\nabc,OPEN\n").unwrap();
    let err = Plan::from_path(&plan).unwrap_err();
    assert!(err.to_string().contains("line 2"), "{err}");
    assert!(std::fs::read_dir(dir.path()).unwrap().count() == 1);
}
