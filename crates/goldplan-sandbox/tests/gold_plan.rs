//! The five Gold Plan endpoints and their business rules (spec §8).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{SUB, paths, start};
use goldplan::gold_plan::IndustryType;
use goldplan_sandbox::{
    MerchantPatch, ProviderType, REOPEN_TOO_SOON, SubMerchantPatch, SubMerchantRegistration, Switch,
};
use serde_json::json;

fn gp(op: &str) -> serde_json::Value {
    json!({"sub_mchid": SUB, "operation_type": op})
}

#[tokio::test]
async fn gold_plan_open_close_and_the_24_hour_rule() {
    let (sb, c) = start().await;
    let mchid = sb.info().unwrap().mchid;
    let r = c.ok("POST", paths::GOLD_PLAN, gp("OPEN")).await;
    assert_eq!(r.json(), json!({"sub_mchid": SUB}));
    let s = sb.sub_merchant(&mchid, SUB).unwrap();
    assert_eq!(s.gold_plan, Switch::Open);
    assert_eq!(
        s.pay_scenes,
        vec!["JSAPI"],
        "omitted scene defaults to JSAPI"
    );

    c.ok("POST", paths::GOLD_PLAN, gp("CLOSE")).await;
    assert_eq!(
        sb.sub_merchant(&mchid, SUB).unwrap().gold_plan,
        Switch::Close
    );
    let r = c.json("POST", paths::GOLD_PLAN, gp("OPEN")).await;
    r.assert_error(400, "INVALID_REQUEST", REOPEN_TOO_SOON);
    c.verify(&r).unwrap();

    sb.advance_clock(24 * 3600 - 10).unwrap();
    c.json("POST", paths::GOLD_PLAN, gp("OPEN"))
        .await
        .assert_error(400, "INVALID_REQUEST", REOPEN_TOO_SOON);
    sb.advance_clock(10).unwrap();
    let r = c.ok("POST", paths::GOLD_PLAN, gp("OPEN")).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn the_reopen_wait_is_configurable_and_scenes_are_tracked() {
    let (sb, c) = start().await;
    let mchid = sb.info().unwrap().mchid;
    sb.update_settings(&json!({"reopen_wait_secs": 0})).unwrap();
    c.ok(
        "POST",
        paths::GOLD_PLAN,
        json!({"sub_mchid": SUB, "operation_type": "OPEN", "operation_pay_scene": "JSAPI_AND_MINIPROGRAM"}),
    )
    .await;
    assert_eq!(
        sb.sub_merchant(&mchid, SUB).unwrap().pay_scenes,
        vec!["JSAPI", "MINIPROGRAM"]
    );
    // Closing one scene keeps Gold Plan open for the other.
    c.ok(
        "POST",
        paths::GOLD_PLAN,
        json!({"sub_mchid": SUB, "operation_type": "CLOSE", "operation_pay_scene": "MINIPROGRAM"}),
    )
    .await;
    let s = sb.sub_merchant(&mchid, SUB).unwrap();
    assert_eq!(
        (s.gold_plan, s.pay_scenes.clone()),
        (Switch::Open, vec!["JSAPI".to_owned()])
    );
    c.ok("POST", paths::GOLD_PLAN, gp("CLOSE")).await;
    c.ok("POST", paths::GOLD_PLAN, gp("OPEN")).await;
    let r = c
        .json(
            "POST",
            paths::GOLD_PLAN,
            json!({"sub_mchid": SUB, "operation_type": "OPEN", "operation_pay_scene": "APP"}),
        )
        .await;
    r.assert_error(400, "PARAM_ERROR", "");
    assert_eq!(r.json()["detail"]["field"], "/operation_pay_scene");
}

#[tokio::test]
async fn unknown_and_foreign_special_merchants() {
    let (sb, c) = start().await;
    c.json(
        "POST",
        paths::GOLD_PLAN,
        json!({"sub_mchid": "1999999999", "operation_type": "OPEN"}),
    )
    .await
    .assert_error(400, "MCH_NOT_EXISTS", "特约商户号不存在");
    sb.add_sub_merchant(
        "1900000100",
        SubMerchantRegistration {
            sub_mchid: "1999999999".into(),
            receipt_link: None,
        },
    )
    .unwrap();
    let r = c
        .json(
            "POST",
            paths::GOLD_PLAN,
            json!({"sub_mchid": "1999999999", "operation_type": "OPEN"}),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn the_receipt_switch_needs_a_receipt_link() {
    let (sb, c) = start().await;
    let mchid = sb.info().unwrap().mchid;
    let body = json!({"sub_mchid": SUB, "operation_type": "OPEN"});
    c.json("POST", paths::CUSTOM_PAGE, body.clone())
        .await
        .assert_error(400, "INVALID_REQUEST", "服务商未配置商家小票链接");
    // A per-merchant link is enough ...
    sb.update_sub_merchant(
        &mchid,
        SUB,
        SubMerchantPatch {
            receipt_link: Some("https://receipt.example.com/r".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let r = c.ok("POST", paths::CUSTOM_PAGE, body.clone()).await;
    assert_eq!(r.json(), json!({"sub_mchid": SUB}));
    assert_eq!(
        sb.sub_merchant(&mchid, SUB).unwrap().custom_page,
        Switch::Open
    );
    // ... and so is a provider-level one.
    sb.update_sub_merchant(
        &mchid,
        SUB,
        SubMerchantPatch {
            receipt_link: Some(String::new()),
            ..Default::default()
        },
    )
    .unwrap();
    c.json("POST", paths::CUSTOM_PAGE, body.clone())
        .await
        .assert_error(400, "INVALID_REQUEST", "服务商未配置商家小票链接");
    sb.update_merchant(
        &mchid,
        MerchantPatch {
            receipt_link: Some("https://receipt.example.com/".into()),
            ..Default::default()
        },
    )
    .unwrap();
    c.ok(
        "POST",
        paths::CUSTOM_PAGE,
        json!({"sub_mchid": SUB, "operation_type": "CLOSE"}),
    )
    .await;
    assert_eq!(
        sb.sub_merchant(&mchid, SUB).unwrap().custom_page,
        Switch::Close
    );
}

#[tokio::test]
async fn advertising_needs_gold_plan_open() {
    let (sb, c) = start().await;
    let mchid = sb.info().unwrap().mchid;
    for (method, path, body) in [
        (
            "POST",
            paths::FILTER,
            json!({"sub_mchid": SUB, "advertising_industry_filters": ["SOFTWARE"]}),
        ),
        ("PATCH", paths::OPEN_AD, json!({"sub_mchid": SUB})),
        ("POST", paths::CLOSE_AD, json!({"sub_mchid": SUB})),
    ] {
        let r = c.json(method, path, body).await;
        r.assert_error(400, "INVALID_REQUEST", "特约商户未开通点金计划");
        c.verify(&r).unwrap();
    }
    c.ok("POST", paths::GOLD_PLAN, gp("OPEN")).await;
    let r = c
        .ok("PATCH", paths::OPEN_AD, json!({"sub_mchid": SUB, "advertising_industry_filters": ["SOFTWARE", "SECURITY", "LOVE_MARRIAGE"]}))
        .await;
    assert_eq!(r.status, 204);
    let s = sb.sub_merchant(&mchid, SUB).unwrap();
    assert_eq!(s.advertising_show, Switch::Open);
    assert_eq!(
        s.advertising_industry_filters,
        vec!["SOFTWARE", "SECURITY", "LOVE_MARRIAGE"]
    );
    // Without filters the previous ones stay.
    c.ok("PATCH", paths::OPEN_AD, json!({"sub_mchid": SUB}))
        .await;
    assert_eq!(
        sb.sub_merchant(&mchid, SUB)
            .unwrap()
            .advertising_industry_filters
            .len(),
        3
    );
    c.ok("POST", paths::CLOSE_AD, json!({"sub_mchid": SUB}))
        .await;
    assert_eq!(
        sb.sub_merchant(&mchid, SUB).unwrap().advertising_show,
        Switch::Close
    );
}

#[tokio::test]
async fn industry_filters_take_one_to_three_known_tags_including_the_misspelt_ones() {
    let (sb, c) = start().await;
    let mchid = sb.info().unwrap().mchid;
    c.ok("POST", paths::GOLD_PLAN, gp("OPEN")).await;
    for tags in [
        vec!["POTOGRAPHY", "BUSSINESS", "INDUSTY"],
        vec!["E_COMMERCE"],
    ] {
        let r = c
            .ok(
                "POST",
                paths::FILTER,
                json!({"sub_mchid": SUB, "advertising_industry_filters": tags}),
            )
            .await;
        assert_eq!(r.status, 204);
        assert_eq!(
            sb.sub_merchant(&mchid, SUB)
                .unwrap()
                .advertising_industry_filters,
            tags
        );
    }
    // All 36 documented values are accepted.
    for tag in IndustryType::ALL {
        let r = c
            .json(
                "POST",
                paths::FILTER,
                json!({"sub_mchid": SUB, "advertising_industry_filters": [tag]}),
            )
            .await;
        assert_eq!(r.status, 204, "{tag}");
    }
    let bad = |body: serde_json::Value, field: &'static str| {
        let c = &c;
        async move {
            let r = c.json("POST", paths::FILTER, body).await;
            r.assert_error(400, "PARAM_ERROR", "参数错误");
            assert_eq!(r.json()["detail"]["field"], field);
        }
    };
    bad(
        json!({"sub_mchid": SUB, "advertising_industry_filters": ["PHOTOGRAPHY"]}),
        "/advertising_industry_filters/0",
    )
    .await;
    bad(
        json!({"sub_mchid": SUB, "advertising_industry_filters": []}),
        "/advertising_industry_filters",
    )
    .await;
    bad(
        json!({"sub_mchid": SUB, "advertising_industry_filters": ["CAR", "GAME", "LAW", "FOOD"]}),
        "/advertising_industry_filters",
    )
    .await;
    bad(json!({"sub_mchid": SUB}), "/advertising_industry_filters").await;
    // open-advertising-show: at most 3 as well.
    let r = c
        .json("PATCH", paths::OPEN_AD, json!({"sub_mchid": SUB, "advertising_industry_filters": ["CAR", "GAME", "LAW", "FOOD"]}))
        .await;
    r.assert_error(400, "PARAM_ERROR", "");
}

#[tokio::test]
async fn provider_and_merchant_flags_give_the_documented_errors() {
    let (sb, c) = start().await;
    let mchid = sb.info().unwrap().mchid;
    let check = |msg: &'static str| {
        let c = &c;
        async move {
            c.json("POST", paths::GOLD_PLAN, gp("OPEN"))
                .await
                .assert_error(400, "INVALID_REQUEST", msg);
        }
    };
    sb.update_merchant(
        &mchid,
        MerchantPatch {
            provider_type: Some(ProviderType::Institution),
            ..Default::default()
        },
    )
    .unwrap();
    check("调用方非普通服务商/渠道商").await;
    sb.update_merchant(
        &mchid,
        MerchantPatch {
            provider_type: Some(ProviderType::Channel),
            gold_plan_joined: Some(false),
            ..Default::default()
        },
    )
    .unwrap();
    check("服务商未开通点金计划").await;
    sb.update_merchant(
        &mchid,
        MerchantPatch {
            gold_plan_joined: Some(true),
            punished: Some(true),
            ..Default::default()
        },
    )
    .unwrap();
    check("服务商被处罚中").await;
    sb.update_merchant(
        &mchid,
        MerchantPatch {
            punished: Some(false),
            ..Default::default()
        },
    )
    .unwrap();
    sb.update_sub_merchant(
        &mchid,
        SUB,
        SubMerchantPatch {
            punished: Some(true),
            ..Default::default()
        },
    )
    .unwrap();
    check("特约商户被处罚中").await;
    sb.update_sub_merchant(
        &mchid,
        SUB,
        SubMerchantPatch {
            punished: Some(false),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        c.json("POST", paths::GOLD_PLAN, gp("OPEN")).await.status,
        200
    );
}

#[tokio::test]
async fn the_rate_limit_answers_400_ming_zhong_pin_lv_xian_zhi() {
    let (sb, c) = start().await;
    sb.update_settings(&json!({"rate_limit": {"max_requests": 2, "window_secs": 3600}}))
        .unwrap();
    assert_eq!(
        c.json("POST", paths::GOLD_PLAN, gp("OPEN")).await.status,
        200
    );
    assert_eq!(
        c.json("POST", paths::GOLD_PLAN, gp("OPEN")).await.status,
        200
    );
    let r = c.json("POST", paths::GOLD_PLAN, gp("OPEN")).await;
    r.assert_error(400, "INVALID_REQUEST", "命中频率限制");
    c.verify(&r).unwrap();
    let api = goldplan::ApiError::from_response(r.status, None, &r.body);
    assert!(api.is_rate_limited() && api.is_retryable());
    // The next window starts afresh.
    sb.advance_clock(3600).unwrap();
    assert_eq!(
        c.json("POST", paths::GOLD_PLAN, gp("OPEN")).await.status,
        200
    );
    sb.update_settings(&json!({"rate_limit": null})).unwrap();
    for _ in 0..5 {
        assert_eq!(
            c.json("POST", paths::GOLD_PLAN, gp("OPEN")).await.status,
            200
        );
    }
}

#[tokio::test]
async fn empty_filter_arrays_and_nulls_are_refused_with_the_field_named() {
    let (sb, c) = start().await;
    let mchid = sb.info().unwrap().mchid;
    c.ok("POST", paths::GOLD_PLAN, gp("OPEN")).await;
    let refused = [
        // Spec §8.5: omit the key rather than send [].
        (
            paths::OPEN_AD,
            json!({"sub_mchid": SUB, "advertising_industry_filters": []}),
            "/advertising_industry_filters",
        ),
        // Spec §0: never send null.
        (
            paths::OPEN_AD,
            json!({"sub_mchid": SUB, "advertising_industry_filters": null}),
            "/advertising_industry_filters",
        ),
        (
            paths::GOLD_PLAN,
            json!({"sub_mchid": SUB, "operation_type": "OPEN", "operation_pay_scene": null}),
            "/operation_pay_scene",
        ),
        (paths::CLOSE_AD, json!({"sub_mchid": null}), "/sub_mchid"),
        (
            paths::CLOSE_AD,
            json!({"sub_mchid": SUB, "unknown_optional": null}),
            "/unknown_optional",
        ),
    ];
    for (path, body, field) in refused {
        let method = if path == paths::OPEN_AD {
            "PATCH"
        } else {
            "POST"
        };
        let r = c.json(method, path, body.clone()).await;
        r.assert_error(400, "PARAM_ERROR", "参数错误");
        assert_eq!(r.json()["detail"]["field"], field, "{body}");
        c.verify(&r).unwrap();
    }
    let s = sb.sub_merchant(&mchid, SUB).unwrap();
    assert_eq!(s.advertising_show, Switch::Close, "nothing was applied");
    // Omitting the key works.
    let r = c
        .json("PATCH", paths::OPEN_AD, json!({"sub_mchid": SUB}))
        .await;
    assert_eq!(r.status, 204);
}
