//! Every Gold Plan operation, the generic `request()` and `upload_image()` in each verification
//! mode, and every error the sandbox's Gold Plan rules produce, as typed client errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use goldplan::gold_plan::{
    CHANGE_GOLD_PLAN_STATUS, CLOSE_ADVERTISING_SHOW, IndustryType, OperationPayScene, OperationType,
};
use goldplan::{Client, ErrorKind, RequestOptions};
use goldplan_e2e::*;
use goldplan_sandbox::{
    KeyMode, MerchantPatch, ProviderType, REOPEN_TOO_SOON, SandboxControl, SubMerchantPatch,
    SubMerchantRegistration, Switch,
};
use serde_json::json;

/// A tiny PNG-like payload; the sandbox checks the name, the size and the SHA-256.
const IMAGE: &[u8] = b"\x89PNG\r\n\x1a\n goldplan e2e image";

fn state(sandbox: &SandboxControl, sub: &str) -> goldplan_sandbox::SubMerchantState {
    sandbox.sub_merchant(&info(sandbox).mchid, sub).unwrap()
}

/// Runs the whole Gold Plan story, the generic request and an upload with one client, and
/// checks the sandbox state after each step and the key that signed every answer.
async fn every_operation(verification: Verification) {
    let sandbox = start(verification.merchant_mode()).await;
    let info = info(&sandbox);
    sandbox
        .update_merchant(
            &info.mchid,
            MerchantPatch {
                receipt_link: Some("https://receipt.example.com/r".into()),
                ..MerchantPatch::default()
            },
        )
        .unwrap();
    let client = client(&info, verification);
    let expected_key = match verification {
        Verification::Certificates => signing_serial(&sandbox),
        Verification::PublicKey | Verification::Combined => info.public_key_id.clone(),
    };

    let opened = client
        .change_gold_plan_status(
            SUB,
            OperationType::Open,
            Some(OperationPayScene::JsapiAndMiniprogram),
        )
        .await
        .unwrap();
    assert_eq!(opened.data.sub_mchid, SUB);
    assert!(opened.request_id.is_some());
    let st = state(&sandbox, SUB);
    assert_eq!(st.gold_plan, Switch::Open);
    assert_eq!(st.pay_scenes, ["JSAPI", "MINIPROGRAM"]);

    let receipt = client
        .change_custom_page_status(SUB, OperationType::Open)
        .await
        .unwrap();
    assert_eq!(receipt.data.sub_mchid, SUB);
    assert_eq!(state(&sandbox, SUB).custom_page, Switch::Open);

    let filtered = client
        .set_advertising_industry_filter(
            SUB,
            vec![
                IndustryType::Software,
                IndustryType::Potography,
                IndustryType::Software,
            ],
        )
        .await
        .unwrap();
    assert!(filtered.request_id.is_some());
    assert_eq!(
        state(&sandbox, SUB).advertising_industry_filters,
        ["SOFTWARE", "POTOGRAPHY", "SOFTWARE"]
    );

    client
        .open_advertising_show(SUB, Some(vec![IndustryType::Security]))
        .await
        .unwrap();
    let st = state(&sandbox, SUB);
    assert_eq!(st.advertising_show, Switch::Open);
    assert_eq!(st.advertising_industry_filters, ["SECURITY"]);
    // Without filters the previous ones stay.
    client.open_advertising_show(SUB, None).await.unwrap();
    assert_eq!(
        state(&sandbox, SUB).advertising_industry_filters,
        ["SECURITY"]
    );

    let closed = client.close_advertising_show(SUB).await.unwrap();
    assert!(closed.request_id.is_some());
    assert_eq!(state(&sandbox, SUB).advertising_show, Switch::Close);

    // The generic request reaches the same endpoints, verified like the typed calls.
    let body = json!({"sub_mchid": SUB}).to_string();
    let generic = client
        .request("POST", CLOSE_ADVERTISING_SHOW.path, Some(body.as_bytes()))
        .await
        .unwrap();
    assert_eq!(generic.status, 204);
    assert!(generic.body.is_empty());
    assert_eq!(generic.serial, expected_key);
    assert!(generic.request_id.is_some());
    let generic = client
        .request_json(
            "POST",
            CHANGE_GOLD_PLAN_STATUS.path,
            &json!({"sub_mchid": SUB, "operation_type": "CLOSE", "operation_pay_scene": "MINIPROGRAM"}),
            &RequestOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(generic.status, 200);
    assert_eq!(
        generic.json::<serde_json::Value>().unwrap(),
        json!({"sub_mchid": SUB})
    );
    assert_eq!(state(&sandbox, SUB).pay_scenes, ["JSAPI"]);
    let missing = client
        .request("GET", "/v3/no/such/endpoint", None)
        .await
        .unwrap_err();
    assert_api_error(&sandbox, &missing, 404, "NOT_FOUND", "");

    // The certificate list through the generic request: served in certificate and combined
    // modes, a typed "use the public key" error for a public-key-only merchant.
    let listing = client
        .request("GET", "/v3/certificates?algorithm_type=RSA", None)
        .await;
    match verification {
        Verification::PublicKey => {
            let err = listing.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NoPlatformCertificate, "{err}");
            assert!(err.request_id().is_some());
        }
        _ => {
            let listing = listing.unwrap();
            assert_eq!(listing.serial, expected_key);
            assert_eq!(
                listing.json::<serde_json::Value>().unwrap()["data"][0]["serial_no"],
                signing_serial(&sandbox)
            );
        }
    }

    let upload = client.upload_image("logo.png", IMAGE).await.unwrap();
    assert!(upload.request_id.is_some());
    let media = sandbox.media(&upload.data.media_id).unwrap();
    assert_eq!(
        (media.filename.as_str(), media.size, media.mchid.as_str()),
        ("logo.png", IMAGE.len(), info.mchid.as_str())
    );

    client
        .change_custom_page_status(SUB, OperationType::Close)
        .await
        .unwrap();
    client
        .change_gold_plan_status(SUB, OperationType::Close, None)
        .await
        .unwrap();
    let st = state(&sandbox, SUB);
    assert_eq!(
        (st.gold_plan, st.custom_page),
        (Switch::Close, Switch::Close)
    );
    assert!(st.pay_scenes.is_empty());

    // Every answer was signed by the key this mode should make the gateway use, and only the
    // modes with certificates downloaded them, once.
    let log = sandbox.requests();
    for record in &log {
        assert_eq!(
            record.wechatpay_serial.as_deref(),
            Some(expected_key.as_str()),
            "{record:?}"
        );
    }
    let downloads = match verification {
        Verification::PublicKey => 0,
        _ => 1,
    };
    assert_eq!(client.certificate_downloads().await, downloads);
    // The generic listing above is one more request to the same path.
    assert_eq!(certificate_downloads(&sandbox), downloads as usize + 1);
    assert!(log.iter().all(|r| r.fault.is_none()));
}

#[tokio::test]
async fn every_operation_with_platform_certificates() {
    every_operation(Verification::Certificates).await;
}

#[tokio::test]
async fn every_operation_with_the_public_key() {
    every_operation(Verification::PublicKey).await;
}

#[tokio::test]
async fn every_operation_in_combined_mode() {
    every_operation(Verification::Combined).await;
}

/// A sandbox with a public-key client and a second special merchant, `OTHER`, whose Gold Plan
/// is closed and which has no receipt link.
const OTHER: &str = "1900000201";

async fn error_fixture() -> (goldplan_sandbox::SandboxHandle, Client) {
    let sandbox = start(KeyMode::PublicKey).await;
    let info = info(&sandbox);
    sandbox
        .add_sub_merchant(
            &info.mchid,
            SubMerchantRegistration {
                sub_mchid: OTHER.into(),
                receipt_link: None,
            },
        )
        .unwrap();
    let client = client(&info, Verification::PublicKey);
    (sandbox, client)
}

fn gold_plan_calls(sandbox: &SandboxControl) -> usize {
    requests_to(sandbox, GOLD_PLAN_PATHS).len()
}

#[tokio::test]
async fn unknown_special_merchant_is_mch_not_exists_and_not_retried() {
    let (sandbox, client) = error_fixture().await;
    let err = client
        .change_gold_plan_status("1999999999", OperationType::Open, None)
        .await
        .unwrap_err();
    assert_api_error(&sandbox, &err, 400, "MCH_NOT_EXISTS", "特约商户号不存在");
    assert!(!err.is_retryable());
    let err = client
        .close_advertising_show("1999999999")
        .await
        .unwrap_err();
    assert_api_error(&sandbox, &err, 400, "MCH_NOT_EXISTS", "特约商户号不存在");
    assert_eq!(
        gold_plan_calls(&sandbox),
        2,
        "business errors are not retried"
    );
}

#[tokio::test]
async fn reopening_within_24_hours_fails_until_the_clock_moves() {
    let (sandbox, client) = error_fixture().await;
    client
        .change_gold_plan_status(OTHER, OperationType::Open, None)
        .await
        .unwrap();
    client
        .change_gold_plan_status(OTHER, OperationType::Close, None)
        .await
        .unwrap();
    let err = client
        .change_gold_plan_status(OTHER, OperationType::Open, None)
        .await
        .unwrap_err();
    assert_api_error(&sandbox, &err, 400, "INVALID_REQUEST", REOPEN_TOO_SOON);
    assert_eq!(state(&sandbox, OTHER).gold_plan, Switch::Close);

    sandbox.advance_clock(24 * 3600).unwrap();
    client
        .change_gold_plan_status(OTHER, OperationType::Open, None)
        .await
        .unwrap();
    assert_eq!(state(&sandbox, OTHER).gold_plan, Switch::Open);
}

#[tokio::test]
async fn receipt_switch_needs_a_receipt_link() {
    let (sandbox, client) = error_fixture().await;
    let err = client
        .change_custom_page_status(OTHER, OperationType::Open)
        .await
        .unwrap_err();
    assert_api_error(
        &sandbox,
        &err,
        400,
        "INVALID_REQUEST",
        "服务商未配置商家小票链接",
    );
    assert_eq!(state(&sandbox, OTHER).custom_page, Switch::Close);

    sandbox
        .update_sub_merchant(
            &info(&sandbox).mchid,
            OTHER,
            SubMerchantPatch {
                receipt_link: Some("https://receipt.example.com/other".into()),
                ..SubMerchantPatch::default()
            },
        )
        .unwrap();
    client
        .change_custom_page_status(OTHER, OperationType::Open)
        .await
        .unwrap();
    assert_eq!(state(&sandbox, OTHER).custom_page, Switch::Open);
}

#[tokio::test]
async fn advertising_needs_gold_plan_open() {
    let (sandbox, client) = error_fixture().await;
    let closed = "特约商户未开通点金计划";
    let err = client
        .open_advertising_show(OTHER, Some(vec![IndustryType::Software]))
        .await
        .unwrap_err();
    assert_api_error(&sandbox, &err, 400, "INVALID_REQUEST", closed);
    let err = client
        .set_advertising_industry_filter(OTHER, vec![IndustryType::Software])
        .await
        .unwrap_err();
    assert_api_error(&sandbox, &err, 400, "INVALID_REQUEST", closed);
    let err = client.close_advertising_show(OTHER).await.unwrap_err();
    assert_api_error(&sandbox, &err, 400, "INVALID_REQUEST", closed);
    let st = state(&sandbox, OTHER);
    assert_eq!(st.advertising_show, Switch::Close);
    assert!(st.advertising_industry_filters.is_empty());
}

#[tokio::test]
async fn an_unknown_industry_tag_is_refused_by_the_client_and_by_the_gateway() {
    let (sandbox, client) = error_fixture().await;
    // A value a caller sends must be a documented one: refused before anything is sent.
    let before = sandbox.requests().len();
    let err = client
        .set_advertising_industry_filter(SUB, vec![IndustryType::from("NOT_A_TAG")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), goldplan::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("SOFTWARE"), "{err}");
    assert_eq!(sandbox.requests().len(), before, "nothing was sent");
    // Sent anyway (a raw request), the gateway judges it the way WeChat Pay does.
    let body = br#"{"sub_mchid":"SUB","advertising_industry_filters":["NOT_A_TAG"]}"#;
    let body = String::from_utf8_lossy(body).replace("SUB", SUB);
    let err = client
        .request(
            "POST",
            goldplan::gold_plan::SET_ADVERTISING_INDUSTRY_FILTER.path,
            Some(body.as_bytes()),
        )
        .await
        .unwrap_err();
    let api = assert_api_error(&sandbox, &err, 400, "PARAM_ERROR", "参数错误");
    assert_eq!(
        api.detail_field("field"),
        Some(&json!("/advertising_industry_filters/0"))
    );
    assert_eq!(api.detail_field("value"), Some(&json!("NOT_A_TAG")));
}

#[tokio::test]
async fn provider_and_special_merchant_flags_map_to_their_errors() {
    let (sandbox, client) = error_fixture().await;
    let mchid = info(&sandbox).mchid;
    let cases = [
        (
            MerchantPatch {
                gold_plan_joined: Some(false),
                ..MerchantPatch::default()
            },
            "服务商未开通点金计划",
        ),
        (
            MerchantPatch {
                punished: Some(true),
                ..MerchantPatch::default()
            },
            "服务商被处罚中",
        ),
        (
            MerchantPatch {
                provider_type: Some(ProviderType::Institution),
                ..MerchantPatch::default()
            },
            "调用方非普通服务商/渠道商",
        ),
    ];
    let restore = MerchantPatch {
        gold_plan_joined: Some(true),
        punished: Some(false),
        provider_type: Some(ProviderType::Channel),
        ..MerchantPatch::default()
    };
    for (patch, message) in cases {
        sandbox.update_merchant(&mchid, patch).unwrap();
        let err = client
            .change_gold_plan_status(SUB, OperationType::Open, None)
            .await
            .unwrap_err();
        assert_api_error(&sandbox, &err, 400, "INVALID_REQUEST", message);
        sandbox.update_merchant(&mchid, restore.clone()).unwrap();
    }
    // Channel partners may call.
    client
        .change_gold_plan_status(SUB, OperationType::Open, None)
        .await
        .unwrap();

    let punish = |on| SubMerchantPatch {
        punished: Some(on),
        ..SubMerchantPatch::default()
    };
    sandbox
        .update_sub_merchant(&mchid, SUB, punish(true))
        .unwrap();
    let err = client.close_advertising_show(SUB).await.unwrap_err();
    assert_api_error(&sandbox, &err, 400, "INVALID_REQUEST", "特约商户被处罚中");
    sandbox
        .update_sub_merchant(&mchid, SUB, punish(false))
        .unwrap();
    client.close_advertising_show(SUB).await.unwrap();
}

#[tokio::test]
async fn invalid_input_is_rejected_before_sending() {
    let (sandbox, client) = error_fixture().await;
    let too_long = "1".repeat(33);
    let four = vec![
        IndustryType::Software,
        IndustryType::Security,
        IndustryType::Education,
        IndustryType::Finance,
    ];
    let mut errors = vec![
        client
            .set_advertising_industry_filter(SUB, vec![])
            .await
            .unwrap_err(),
        client
            .set_advertising_industry_filter(SUB, four.clone())
            .await
            .unwrap_err(),
        client
            .open_advertising_show(SUB, Some(four))
            .await
            .unwrap_err(),
    ];
    for sub in ["", too_long.as_str()] {
        errors.push(
            client
                .change_gold_plan_status(sub, OperationType::Open, None)
                .await
                .unwrap_err(),
        );
        errors.push(
            client
                .change_custom_page_status(sub, OperationType::Open)
                .await
                .unwrap_err(),
        );
        errors.push(
            client
                .set_advertising_industry_filter(sub, vec![IndustryType::Software])
                .await
                .unwrap_err(),
        );
        errors.push(client.open_advertising_show(sub, None).await.unwrap_err());
        errors.push(client.close_advertising_show(sub).await.unwrap_err());
    }
    for err in &errors {
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert_eq!(errors.len(), 13);
    assert!(
        sandbox.requests().is_empty(),
        "nothing reached the gateway: {:?}",
        sandbox.requests()
    );
}

#[tokio::test]
async fn the_gold_plan_rate_limit_is_retried_then_reported() {
    let (sandbox, client) = error_fixture().await;
    sandbox
        .update_settings(&json!({"rate_limit": {"max_requests": 1, "window_secs": 3600}}))
        .unwrap();
    client
        .change_gold_plan_status(SUB, OperationType::Open, None)
        .await
        .unwrap();
    let err = client
        .change_gold_plan_status(SUB, OperationType::Open, None)
        .await
        .unwrap_err();
    assert_api_error(&sandbox, &err, 400, "INVALID_REQUEST", "命中频率限制");
    assert!(err.is_retryable());
    let limited = requests_to(&sandbox, GOLD_PLAN_PATHS)
        .into_iter()
        .filter(|r| r.code.as_deref() == Some("INVALID_REQUEST"))
        .count();
    assert_eq!(limited, 3, "retried up to max_attempts, then reported");

    // The next window accepts calls again.
    sandbox.advance_clock(3600).unwrap();
    client
        .change_gold_plan_status(SUB, OperationType::Open, None)
        .await
        .unwrap();
}
