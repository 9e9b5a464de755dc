//! Partner JSAPI payments (PAYMENTS.md §7) driven through the real `goldplan::Client`: prepay,
//! the simulated payment, both queries, close, the payment notification and persistence.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::{SUB, TestClient, certificate_mode_client, config, paths, start, start_with};
use goldplan::credentials::ApiV3Key;
use goldplan::notification::NotificationParser;
use goldplan::payments::{
    Amount, JsapiPrepayRequest, PartnerTransaction, Payer, TradeState, TradeType,
};
use goldplan_sandbox::{
    DEFAULT_SP_APPID, DEFAULT_SP_OPENID, DEFAULT_SUB_APPID, DEFAULT_SUB_OPENID, DeliveryStatus,
    MerchantPatch, OrderRef, PayRequest, Sandbox, SandboxConfig, SandboxError, SubMerchantPatch,
};
use serde_json::{Value, json};

const SP: &str = "1900000100";

fn prepay_request(out_trade_no: &str, notify_url: &str) -> JsapiPrepayRequest {
    JsapiPrepayRequest {
        sp_appid: DEFAULT_SP_APPID.into(),
        sp_mchid: SP.into(),
        sub_appid: Some(DEFAULT_SUB_APPID.into()),
        sub_mchid: SUB.into(),
        description: "点金计划测试商品".into(),
        out_trade_no: out_trade_no.into(),
        time_expire: None,
        attach: Some("store=7".into()),
        notify_url: notify_url.into(),
        goods_tag: None,
        support_fapiao: None,
        limit_pay: None,
        amount: Amount {
            total: 100,
            currency: None,
        },
        payer: Payer {
            sp_openid: None,
            sub_openid: Some(DEFAULT_SUB_OPENID.into()),
        },
        detail: None,
        scene_info: None,
        settle_info: None,
    }
}

fn order(out_trade_no: &str) -> OrderRef {
    OrderRef {
        sp_mchid: SP.into(),
        sub_mchid: SUB.into(),
        out_trade_no: out_trade_no.into(),
    }
}

fn pay_by_order(out_trade_no: &str) -> PayRequest {
    PayRequest {
        sp_mchid: Some(SP.into()),
        sub_mchid: Some(SUB.into()),
        out_trade_no: Some(out_trade_no.into()),
        ..PayRequest::default()
    }
}

/// The API error code of a failed client call.
fn code(e: &goldplan::Error) -> (u16, String) {
    let api = e.api().unwrap_or_else(|| panic!("not an API error: {e}"));
    (api.status, api.code.clone())
}

fn refusal(e: SandboxError) -> &'static str {
    match e {
        SandboxError::PaymentRefused { code, .. } => code,
        other => panic!("expected a refused payment, got {other}"),
    }
}

/// The raw E2 answer (verified like every gateway answer), for exact-JSON assertions.
async fn raw_query(c: &TestClient, out_trade_no: &str) -> common::Resp {
    let path = format!(
        "/v3/pay/partner/transactions/out-trade-no/{out_trade_no}?sp_mchid={SP}&sub_mchid={SUB}"
    );
    let r = c.send("GET", &path, b"").await;
    c.verify(&r).expect("the answer is signed");
    r
}

#[tokio::test]
async fn an_order_is_prepaid_paid_queried_and_cannot_be_closed_once_paid() {
    let (sb, c) = start().await;
    let client = certificate_mode_client(&sb.info().unwrap());
    let req = prepay_request("ORDER20240101", "https://provider.example.com/wxpay/notify");
    let prepay_id = client.jsapi_prepay(&req).await.unwrap().data.prepay_id;
    assert_eq!(prepay_id.len(), 36, "{prepay_id}");
    assert!(prepay_id.starts_with("wx"));

    // Unpaid: exactly the §3.5 example, currency filled in although the prepay left it out.
    let r = raw_query(&c, "ORDER20240101").await;
    assert_eq!(r.status, 200);
    // serde_json's `json!` sorts keys, so the expected text is spelled out.
    assert_eq!(
        String::from_utf8(r.body.clone()).unwrap(),
        concat!(
            r#"{"sp_appid":"wx8888888888888888","sp_mchid":"1900000100","#,
            r#""sub_appid":"wxd678efh567hg6999","sub_mchid":"1900000109","#,
            r#""out_trade_no":"ORDER20240101","trade_state":"NOTPAY","#,
            r#""trade_state_desc":"订单未支付","amount":{"total":100,"currency":"CNY"}}"#
        )
    );
    let unpaid = client
        .query_order_by_out_trade_no("ORDER20240101", SP, SUB)
        .await
        .unwrap()
        .data;
    assert_eq!(unpaid.trade_state, TradeState::NotPay);
    assert_eq!(unpaid.transaction_id, None);

    let paid = sb.pay(pay_by_order("ORDER20240101")).await.unwrap();
    assert_eq!(paid.trade_state, "SUCCESS");
    // Not a loopback notify_url: nothing is sent.
    assert_eq!(paid.callback_id, None);
    let tid = paid.transaction_id.unwrap();
    assert_eq!(tid.len(), 28);
    assert!(tid.starts_with("42000") && tid.bytes().all(|b| b.is_ascii_digit()));

    let by_no = client
        .query_order_by_out_trade_no("ORDER20240101", SP, SUB)
        .await
        .unwrap()
        .data;
    let by_id = client
        .query_order_by_transaction_id(&tid, SP, SUB)
        .await
        .unwrap()
        .data;
    assert_eq!(by_no, by_id);
    assert_eq!(by_no.trade_state, TradeState::Success);
    assert_eq!(by_no.trade_state_desc.as_deref(), Some("支付成功"));
    assert_eq!(by_no.transaction_id.as_deref(), Some(tid.as_str()));
    assert_eq!(by_no.trade_type, Some(TradeType::Jsapi));
    assert_eq!(by_no.bank_type.as_deref(), Some("CMC"));
    assert_eq!(by_no.attach.as_deref(), Some("store=7"));
    let payer = by_no.payer.clone().unwrap();
    assert_eq!(payer.sp_openid.as_deref(), Some(DEFAULT_SP_OPENID));
    assert_eq!(payer.sub_openid.as_deref(), Some(DEFAULT_SUB_OPENID));
    let amount = by_no.amount.clone().unwrap();
    assert_eq!(amount.payer_total, Some(100));
    assert_eq!(amount.payer_currency.as_deref(), Some("CNY"));
    assert!(by_no.success_time.unwrap().ends_with("+08:00"));
    // The paid object keeps the key order of §3.5.
    let raw = String::from_utf8(raw_query(&c, "ORDER20240101").await.body).unwrap();
    let keys = [
        "sp_appid",
        "sp_mchid",
        "sub_appid",
        "sub_mchid",
        "out_trade_no",
        "transaction_id",
        "trade_type",
        "trade_state",
        "trade_state_desc",
        "bank_type",
        "attach",
        "success_time",
        "payer",
        "amount",
    ];
    let positions: Vec<_> = keys
        .iter()
        .map(|k| raw.find(&format!("\"{k}\":")).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{raw}");

    let e = client
        .close_order("ORDER20240101", SP, SUB)
        .await
        .unwrap_err();
    assert_eq!(code(&e), (400, "ORDERPAID".into()));
    // A paid order cannot be prepaid or paid again either.
    let e = client.jsapi_prepay(&req).await.unwrap_err();
    assert_eq!(code(&e), (400, "ORDERPAID".into()));
    let e = sb.pay(pay_by_order("ORDER20240101")).await.unwrap_err();
    assert_eq!(refusal(e), "ORDER_NOT_PAYABLE");

    // Refund (sandbox control) shows in the query.
    sb.refund(&order("ORDER20240101")).unwrap();
    let refunded = client
        .query_order_by_transaction_id(&tid, SP, SUB)
        .await
        .unwrap()
        .data;
    assert_eq!(refunded.trade_state, TradeState::Refund);
    assert_eq!(refunded.trade_state_desc.as_deref(), Some("已转入退款"));
}

#[tokio::test]
async fn a_re_prepay_must_repeat_the_order_exactly() {
    let (sb, _c) = start().await;
    let client = certificate_mode_client(&sb.info().unwrap());
    let req = prepay_request("ORDER-REPEAT", "https://provider.example.com/wxpay/notify");
    let first = client.jsapi_prepay(&req).await.unwrap().data.prepay_id;
    let again = client.jsapi_prepay(&req).await.unwrap().data.prepay_id;
    assert_eq!(first, again, "the prepay_id is still under 2 hours old");
    let mut other = req.clone();
    other.amount.total = 200;
    let e = client.jsapi_prepay(&other).await.unwrap_err();
    assert_eq!(code(&e), (403, "OUT_TRADE_NO_USED".into()));
    // The refused call changed nothing: the order still has its first amount.
    let t = sb.order(&order("ORDER-REPEAT")).unwrap();
    assert_eq!(t.amount.unwrap().total, Some(100));
}

#[tokio::test]
async fn unknown_orders_are_not_found_and_unpaid_ones_have_no_transaction_id() {
    let (sb, _c) = start().await;
    let client = certificate_mode_client(&sb.info().unwrap());
    let e = client
        .query_order_by_out_trade_no("NO-SUCH-ORDER", SP, SUB)
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(code(&e), (404, "ORDER_NOT_EXIST".into()));
    assert_eq!(e.api().unwrap().message, "订单不存在");

    let req = prepay_request("ORDER-UNPAID", "https://provider.example.com/wxpay/notify");
    client.jsapi_prepay(&req).await.unwrap();
    // Another special merchant's view of the same number is not this order.
    sb.add_sub_merchant(
        SP,
        goldplan_sandbox::SubMerchantRegistration {
            sub_mchid: "1900000110".into(),
            receipt_link: None,
        },
    )
    .unwrap();
    let e = client
        .query_order_by_out_trade_no("ORDER-UNPAID", SP, "1900000110")
        .await
        .unwrap_err();
    assert!(e.is_not_found());
    // E3 finds paid orders only: a made-up id of the right shape is unknown.
    let e = client
        .query_order_by_transaction_id("4200000000202401010000000001", SP, SUB)
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(code(&e), (404, "ORDER_NOT_EXIST".into()));
    let e = client
        .close_order("NO-SUCH-ORDER", SP, SUB)
        .await
        .unwrap_err();
    assert!(e.is_not_found());
}

#[tokio::test]
async fn closing_twice_answers_204_and_a_closed_order_stays_closed() {
    let (sb, _c) = start().await;
    let client = certificate_mode_client(&sb.info().unwrap());
    let req = prepay_request("ORDER-CLOSE", "https://provider.example.com/wxpay/notify");
    client.jsapi_prepay(&req).await.unwrap();
    client.close_order("ORDER-CLOSE", SP, SUB).await.unwrap();
    client.close_order("ORDER-CLOSE", SP, SUB).await.unwrap();
    let t = client
        .query_order_by_out_trade_no("ORDER-CLOSE", SP, SUB)
        .await
        .unwrap()
        .data;
    assert_eq!(t.trade_state, TradeState::Closed);
    assert_eq!(t.trade_state_desc.as_deref(), Some("订单已关闭"));
    assert_eq!(t.transaction_id, None);
    assert_eq!(t.payer, None);
    let e = client.jsapi_prepay(&req).await.unwrap_err();
    assert_eq!(code(&e), (400, "ORDER_CLOSED".into()));
    let e = sb.pay(pay_by_order("ORDER-CLOSE")).await.unwrap_err();
    assert_eq!(refusal(e), "ORDER_NOT_PAYABLE");
}

#[tokio::test]
async fn the_registry_checks_appids_openids_and_the_jsapi_permission() {
    let (sb, c) = start().await;
    let info = sb.info().unwrap();
    assert_eq!(info.sp_appid, DEFAULT_SP_APPID);
    let sub = info
        .sub_merchants
        .iter()
        .find(|s| s.sub_mchid == SUB)
        .unwrap();
    assert_eq!(sub.sub_appid, DEFAULT_SUB_APPID);
    assert!(sub.jsapi);
    assert_eq!(info.users[0].sp_openid, DEFAULT_SP_OPENID);
    assert_eq!(info.users[0].sub_openid, DEFAULT_SUB_OPENID);

    let client = certificate_mode_client(&info);
    let url = "https://provider.example.com/wxpay/notify";
    let mut req = prepay_request("ORDER-APPID", url);
    req.sp_appid = "wx0000000000000000".into();
    let e = client.jsapi_prepay(&req).await.unwrap_err();
    assert_eq!(code(&e), (400, "APPID_MCHID_NOT_MATCH".into()));
    let mut req = prepay_request("ORDER-APPID", url);
    req.sub_appid = Some("wx0000000000000000".into());
    let e = client.jsapi_prepay(&req).await.unwrap_err();
    assert_eq!(code(&e), (400, "APPID_MCHID_NOT_MATCH".into()));

    // The provider's OpenID in the special merchant's field.
    let mut req = prepay_request("ORDER-OPENID", url);
    req.payer.sub_openid = Some(DEFAULT_SP_OPENID.into());
    let e = client.jsapi_prepay(&req).await.unwrap_err();
    assert_eq!(code(&e), (400, "PARAM_ERROR".into()));

    // An unknown special merchant, then one without JSAPI.
    let mut req = prepay_request("ORDER-NOSUB", url);
    req.sub_mchid = "1999999999".into();
    let e = client.jsapi_prepay(&req).await.unwrap_err();
    assert_eq!(code(&e), (400, "MCH_NOT_EXISTS".into()));
    sb.update_sub_merchant(
        SP,
        SUB,
        SubMerchantPatch {
            jsapi: Some(false),
            ..Default::default()
        },
    )
    .unwrap();
    let e = client
        .jsapi_prepay(&prepay_request("ORDER-NOAUTH", url))
        .await
        .unwrap_err();
    assert_eq!(code(&e), (403, "NO_AUTH".into()));

    // What the client would refuse locally still gets WeChat's detail from the gateway.
    let mut body = serde_json::to_value(prepay_request("ORDER-RAW", url)).unwrap();
    body["amount"]["total"] = json!(0);
    let r = c
        .json("POST", "/v3/pay/partner/transactions/jsapi", body)
        .await;
    c.verify(&r).unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["detail"],
        json!({"field": "/amount/total", "value": 0,
               "issue": "must be an integer from 1 to 2^53", "location": "body"})
    );
    // sp_mchid must be the caller.
    let mut body = serde_json::to_value(prepay_request("ORDER-RAW", url)).unwrap();
    body["sp_mchid"] = json!("1900000999");
    let r = c
        .json("POST", "/v3/pay/partner/transactions/jsapi", body)
        .await;
    r.assert_error(400, "INVALID_REQUEST", "");
    // E2 without sub_mchid.
    let r = c
        .send(
            "GET",
            &format!("/v3/pay/partner/transactions/out-trade-no/ORDER-RAW?sp_mchid={SP}"),
            b"",
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["detail"]["location"], "query");
    assert_eq!(r.json()["detail"]["field"], "sub_mchid");
}

#[tokio::test]
async fn an_expired_order_can_no_longer_be_paid() {
    let (sb, _c) = start().await;
    let client = certificate_mode_client(&sb.info().unwrap());
    let req = prepay_request("ORDER-EXPIRE", "https://provider.example.com/wxpay/notify");
    client.jsapi_prepay(&req).await.unwrap();
    sb.expire_order(&order("ORDER-EXPIRE")).unwrap();
    let e = sb.pay(pay_by_order("ORDER-EXPIRE")).await.unwrap_err();
    assert_eq!(refusal(e), "ORDER_EXPIRED");
    let e = client.jsapi_prepay(&req).await.unwrap_err();
    assert_eq!(code(&e), (403, "TRADE_ERROR".into()));
    // Still NOTPAY for the query.
    let t = sb.order(&order("ORDER-EXPIRE")).unwrap();
    assert_eq!(t.trade_state, TradeState::NotPay);

    // The clock does the same: 7 days is the default window.
    let req = prepay_request("ORDER-CLOCK", "https://provider.example.com/wxpay/notify");
    client.jsapi_prepay(&req).await.unwrap();
    sb.advance_clock(7 * 24 * 3600 + 1).unwrap();
    let e = sb.pay(pay_by_order("ORDER-CLOCK")).await.unwrap_err();
    assert_eq!(refusal(e), "ORDER_EXPIRED");
}

/// One received notification.
type Seen = (Vec<(String, String)>, Vec<u8>);

async fn receive(
    State(seen): State<Arc<Mutex<Vec<Seen>>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    seen.lock().unwrap().push((
        headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        body.to_vec(),
    ));
    StatusCode::NO_CONTENT
}

async fn receiver() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route("/wxpay/notify", axum::routing::post(receive))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/wxpay/notify", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test]
async fn the_front_end_pays_and_the_notification_verifies_and_decrypts() {
    let (sb, c) = start().await;
    let info = sb.info().unwrap();
    let client = certificate_mode_client(&info);
    // Gold Plan and the receipt are open for the special merchant: the answer carries the
    // receipt URL WeChat would load.
    sb.update_merchant(
        SP,
        MerchantPatch {
            receipt_link: Some("https://receipt.example.com/r".into()),
            ..Default::default()
        },
    )
    .unwrap();
    for path in [paths::GOLD_PLAN, paths::CUSTOM_PAGE] {
        c.ok(
            "POST",
            path,
            json!({"sub_mchid": SUB, "operation_type": "OPEN"}),
        )
        .await;
    }
    let (url, seen) = receiver().await;
    let req = prepay_request("ORDER-N1", &url);
    let prepay_id = client.jsapi_prepay(&req).await.unwrap().data.prepay_id;

    // A pay-sign over the wrong AppID is refused (the payer is in the special merchant's app).
    let wrong = client
        .request_payment(DEFAULT_SP_APPID, &prepay_id)
        .await
        .unwrap();
    let as_request = |p: &goldplan::payments::RequestPayment| -> PayRequest {
        serde_json::from_value(serde_json::to_value(p).unwrap()).unwrap()
    };
    let e = sb.pay(as_request(&wrong)).await.unwrap_err();
    assert_eq!(refusal(e), "APPID_MISMATCH");
    let mut tampered = client
        .request_payment(req.payment_app_id(), &prepay_id)
        .await
        .unwrap();
    tampered.nonce_str = "A".repeat(32);
    let e = sb.pay(as_request(&tampered)).await.unwrap_err();
    assert_eq!(refusal(e), "SIGNATURE_MISMATCH");
    // A failed payment (user cancelled) leaves the order payable.
    let good = client
        .request_payment(req.payment_app_id(), &prepay_id)
        .await
        .unwrap();
    let cancelled = sb
        .pay(PayRequest {
            outcome: Some("USER_CANCEL".into()),
            ..as_request(&good)
        })
        .await
        .unwrap();
    assert_eq!(cancelled.trade_state, "NOTPAY");
    assert_eq!(cancelled.callback_id, None);
    assert!(seen.lock().unwrap().is_empty());

    // Over the admin API, as another SDK's tests would do it.
    let admin_pay = || async {
        let r = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .post(format!("{}/sandbox/v1/pay", info.base_url))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&good).unwrap())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (
            status,
            serde_json::from_slice::<Value>(&r.bytes().await.unwrap()).unwrap(),
        )
    };
    let (status, answer) = admin_pay().await;
    assert_eq!(status, 200, "{answer}");
    // Paying twice is refused with a reason, and changes nothing.
    let (status, again) = admin_pay().await;
    assert_eq!(
        (status, again["code"].as_str()),
        (400, Some("ORDER_NOT_PAYABLE"))
    );
    let tid = answer["transaction_id"].as_str().unwrap().to_owned();
    let check_code = goldplan::receipt::expected_check_code(
        "https://receipt.example.com/r",
        SUB,
        "ORDER-N1",
        &tid,
    );
    assert_eq!(
        answer["receipt_url"],
        format!(
            "https://receipt.example.com/r?sub_mch_id={SUB}&out_trade_no=ORDER-N1&check_code={check_code}"
        )
    );
    let callback_id = answer["callback_id"].as_str().unwrap();
    let record = sb
        .wait_for_callback(callback_id, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(record.status, DeliveryStatus::Delivered);

    let (headers, body) = seen.lock().unwrap()[0].clone();
    let parser = NotificationParser::new(
        Arc::new(c.verifier.clone()),
        ApiV3Key::new(&info.apiv3_key).unwrap(),
    );
    let n = parser
        .parse(
            headers.iter().map(|(a, b)| (a.as_str(), b.as_bytes())),
            &body,
        )
        .unwrap();
    assert_eq!(n.event_type, "TRANSACTION.SUCCESS");
    assert_eq!(n.summary.as_deref(), Some("支付成功"));
    let envelope: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(envelope["resource"]["associated_data"], "transaction");
    let t =
        PartnerTransaction::from_notification(n.original_type.as_deref(), n.plaintext()).unwrap();
    assert_eq!(t.trade_state, TradeState::Success);
    assert_eq!(t.transaction_id.as_deref(), Some(tid.as_str()));
    assert_eq!(t.out_trade_no, "ORDER-N1");
    // The notification carries what the query answers.
    let queried = client
        .query_order_by_out_trade_no("ORDER-N1", SP, SUB)
        .await
        .unwrap()
        .data;
    assert_eq!(t, queried);
}

#[tokio::test]
async fn a_restarted_sandbox_still_knows_a_paid_order() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = || SandboxConfig {
        state_dir: Some(dir.path().to_owned()),
        ..config()
    };
    let (sb, _c) = start_with(cfg()).await;
    let client = certificate_mode_client(&sb.info().unwrap());
    let req = prepay_request("ORDER-KEEP", "https://provider.example.com/wxpay/notify");
    client.jsapi_prepay(&req).await.unwrap();
    let tid = sb
        .pay(pay_by_order("ORDER-KEEP"))
        .await
        .unwrap()
        .transaction_id
        .unwrap();
    let before = sb.order(&order("ORDER-KEEP")).unwrap();
    sb.shutdown().await.unwrap();

    let sb = Sandbox::start(cfg()).await.unwrap();
    let client = certificate_mode_client(&sb.info().unwrap());
    let t = client
        .query_order_by_transaction_id(&tid, SP, SUB)
        .await
        .unwrap()
        .data;
    assert_eq!(t, before);
    // The id sequence survived too: the next payment gets a new id.
    client
        .jsapi_prepay(&prepay_request(
            "ORDER-NEXT",
            "https://provider.example.com/wxpay/notify",
        ))
        .await
        .unwrap();
    let next = sb
        .pay(pay_by_order("ORDER-NEXT"))
        .await
        .unwrap()
        .transaction_id
        .unwrap();
    assert_ne!(next, tid);
    sb.shutdown().await.unwrap();
}

/// GETs the Gold Plan page a payment answered with: (status, HTML).
async fn gold_plan_page(url: &str) -> (u16, String) {
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn the_gold_plan_page_follows_the_gold_plan_and_receipt_switches() {
    let (sb, c) = start().await;
    let info = sb.info().unwrap();
    let client = certificate_mode_client(&info);
    let pay = |out_trade_no: &'static str| {
        let (sb, client) = (&sb, &client);
        async move {
            let req = prepay_request(out_trade_no, "https://provider.example.com/wxpay/notify");
            client.jsapi_prepay(&req).await.unwrap();
            sb.pay(pay_by_order(out_trade_no)).await.unwrap()
        }
    };
    let switch = |path: &'static str, op: &'static str| {
        let c = &c;
        async move {
            c.ok(
                "POST",
                path,
                json!({"sub_mchid": SUB, "operation_type": op}),
            )
            .await;
        }
    };

    // Gold Plan closed: WeChat's ordinary result page, no Gold Plan page at all.
    let paid = pay("PAGE-OFF-1").await;
    assert_eq!((paid.gold_plan_page_url, paid.receipt_url), (None, None));
    let (status, html) = gold_plan_page(&format!(
        "{}/sandbox/v1/gold-plan-page?sp_mchid={SP}&sub_mchid={SUB}&out_trade_no=PAGE-OFF-1",
        info.base_url
    ))
    .await;
    assert_eq!(status, 404);
    assert!(html.contains("not open"), "{html}");

    // No receipt link: the receipt switch cannot be opened (the guide's rule).
    switch(paths::GOLD_PLAN, "OPEN").await;
    let r = c
        .json(
            "POST",
            paths::CUSTOM_PAGE,
            json!({"sub_mchid": SUB, "operation_type": "OPEN"}),
        )
        .await;
    assert_eq!(r.status, 400);

    // Gold Plan open, receipt switch off: the page, with nothing in the receipt's place.
    let paid = pay("PAGE-NORECEIPT-1").await;
    assert_eq!(paid.receipt_url, None);
    let (status, html) = gold_plan_page(paid.gold_plan_page_url.as_deref().unwrap()).await;
    assert_eq!(status, 200);
    assert!(html.contains("\"receipt_url\":null"), "{html}");
    assert!(html.contains("无法获取订单信息") && html.contains("广告位"));

    // Both open with a link: the page embeds the receipt URL with its check_code, and the
    // order as paid.
    sb.update_merchant(
        SP,
        MerchantPatch {
            receipt_link: Some("https://receipt.example.com/r".into()),
            ..Default::default()
        },
    )
    .unwrap();
    switch(paths::CUSTOM_PAGE, "OPEN").await;
    let paid = pay("PAGE-ON-1").await;
    let receipt_url = paid.receipt_url.clone().unwrap();
    let page_url = paid.gold_plan_page_url.clone().unwrap();
    assert_eq!(
        page_url,
        format!(
            "{}/sandbox/v1/gold-plan-page?sp_mchid={SP}&sub_mchid={SUB}&out_trade_no=PAGE-ON-1",
            info.base_url
        )
    );
    let (status, html) = gold_plan_page(&page_url).await;
    assert_eq!(status, 200);
    // The URL is written into the page's script with `&` escaped.
    assert!(
        html.contains(&receipt_url.replace('&', "\\u0026")),
        "{html}"
    );
    assert!(html.contains(&format!(
        "\"transaction_id\":\"{}\"",
        paid.transaction_id.unwrap()
    )));
    assert!(html.contains("\"total\":100") && html.contains("点金计划测试商品"));
    assert!(html.contains("const READY_LIMIT_MS = 3000;"));

    // Receipt switched off again, Gold Plan closed: the page loses the receipt, then itself.
    switch(paths::CUSTOM_PAGE, "CLOSE").await;
    assert_eq!(pay("PAGE-ON-2").await.receipt_url, None);
    switch(paths::GOLD_PLAN, "CLOSE").await;
    assert_eq!(pay("PAGE-ON-3").await.gold_plan_page_url, None);

    // An unpaid order has no Gold Plan page.
    client
        .jsapi_prepay(&prepay_request(
            "PAGE-UNPAID",
            "https://provider.example.com/n",
        ))
        .await
        .unwrap();
    let e = sb.gold_plan_page(&order("PAGE-UNPAID")).unwrap_err();
    assert_eq!(refusal(e), "ORDER_NOT_PAID");
}
