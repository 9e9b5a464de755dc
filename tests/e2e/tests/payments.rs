//! Partner JSAPI payments end to end, in each key mode: prepay, the pay-sign, the payer pays
//! through the sandbox (which checks the pay-sign like WeChat's client), the payment
//! notification verified and decrypted into the transaction, both queries, close, and the
//! receipt's `transaction_id` resolved.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use goldplan::Client;
use goldplan::payments::{Amount, JsapiPrepayRequest, PartnerTransaction, Payer, TradeState};
use goldplan_e2e::*;
use goldplan_sandbox::{DEFAULT_SP_APPID, DEFAULT_SUB_APPID, DEFAULT_SUB_OPENID, PayRequest};
use tokio::sync::mpsc;

const SUB: &str = "1900000109";

type Notified = mpsc::UnboundedSender<goldplan::Result<PartnerTransaction>>;

async fn receive(
    State((client, tx)): State<(Client, Notified)>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let pairs = headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()));
    let parsed = match client.parse_notification(pairs, &body, None).await {
        Ok(n) => PartnerTransaction::from_notification(n.original_type.as_deref(), n.plaintext()),
        Err(e) => Err(e),
    };
    let ok = parsed.is_ok();
    tx.send(parsed).unwrap();
    if ok {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::BAD_REQUEST
    }
}

fn prepay(sp_mchid: &str, out_trade_no: &str, notify_url: &str) -> JsapiPrepayRequest {
    JsapiPrepayRequest {
        sp_appid: DEFAULT_SP_APPID.into(),
        sp_mchid: sp_mchid.into(),
        sub_appid: Some(DEFAULT_SUB_APPID.into()),
        sub_mchid: SUB.into(),
        description: "点金计划测试商品".into(),
        out_trade_no: out_trade_no.into(),
        attach: Some("store=7".into()),
        notify_url: notify_url.into(),
        amount: Amount {
            total: 2500,
            currency: None,
        },
        payer: Payer {
            sp_openid: None,
            sub_openid: Some(DEFAULT_SUB_OPENID.into()),
        },
        ..JsapiPrepayRequest::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_in_each_key_mode_from_prepay_to_the_receipt_id() {
    for verification in Verification::ALL {
        let sandbox = start(verification.merchant_mode()).await;
        let info = info(&sandbox);
        let client = client(&info, verification);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let app = axum::Router::new()
            .route("/notify", axum::routing::post(receive))
            .with_state((client.clone(), tx));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let notify_url = format!("http://{}/notify", listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, app).await });

        let out_trade_no = "PAY20261207-0001";
        let request = prepay(client.mchid(), out_trade_no, &notify_url);
        let prepay_id = client.jsapi_prepay(&request).await.unwrap().data.prepay_id;
        // Nothing is paid yet: the receipt has no transaction to show.
        let pending = client
            .resolve_transaction_id(SUB, out_trade_no, Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(pending.transaction_id, None, "{verification:?}");
        assert_eq!(pending.trade_state, Some(TradeState::NotPay));

        let page = client
            .request_payment(request.payment_app_id(), &prepay_id)
            .await
            .unwrap();
        assert_eq!(page.app_id, DEFAULT_SUB_APPID);
        assert_eq!(page.package, format!("prepay_id={prepay_id}"));
        assert_eq!(page.time_stamp.len(), 10);
        // The page hands WeChat exactly these six keys.
        let six = serde_json::to_value(&page).unwrap();
        let mut keys: Vec<&str> = six
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "appId",
                "nonceStr",
                "package",
                "paySign",
                "signType",
                "timeStamp"
            ]
        );

        // A pay-sign over the provider's app (the payer is in the special merchant's) fails
        // on the device: the sandbox refuses it and the order stays unpaid.
        let wrong = client
            .request_payment(DEFAULT_SP_APPID, &prepay_id)
            .await
            .unwrap();
        let refused = sandbox
            .pay(serde_json::from_value(serde_json::to_value(&wrong).unwrap()).unwrap())
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("APPID"), "{refused}");

        let outcome = sandbox
            .pay(serde_json::from_value::<PayRequest>(six).unwrap())
            .await
            .unwrap();
        let transaction_id = outcome.transaction_id.unwrap();
        assert_eq!(transaction_id.len(), 28);

        let notified = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("the payment notification arrives")
            .unwrap()
            .unwrap_or_else(|e| panic!("{verification:?}: notification refused: {e}"));
        assert_eq!(notified.trade_state, TradeState::Success);
        assert_eq!(notified.transaction_id.as_deref(), Some(&*transaction_id));
        assert_eq!(notified.out_trade_no, out_trade_no);
        assert_eq!(notified.attach.as_deref(), Some("store=7"));
        assert_eq!(notified.amount.as_ref().unwrap().total, Some(2500));

        let by_number = client
            .query_order_by_out_trade_no(out_trade_no, client.mchid(), SUB)
            .await
            .unwrap()
            .data;
        let by_id = client
            .query_order_by_transaction_id(&transaction_id, client.mchid(), SUB)
            .await
            .unwrap()
            .data;
        assert_eq!(by_number, by_id);
        assert_eq!(by_number, notified, "the query and the notification agree");

        let resolved = client
            .resolve_transaction_id(SUB, out_trade_no, Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(resolved.transaction_id.as_deref(), Some(&*transaction_id));
        let unknown = client
            .resolve_transaction_id(SUB, "PAY20261207-9999", Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!((unknown.transaction_id, unknown.trade_state), (None, None));
        let bad = client
            .resolve_transaction_id("19000001O9", out_trade_no, Duration::from_secs(1))
            .await
            .unwrap_err();
        assert_eq!(bad.kind(), goldplan::ErrorKind::InvalidInput);

        let paid = client
            .close_order(out_trade_no, client.mchid(), SUB)
            .await
            .unwrap_err();
        assert_eq!(paid.api().unwrap().code, "ORDERPAID");
        let missing = client
            .query_order_by_out_trade_no("PAY20261207-9999", client.mchid(), SUB)
            .await
            .unwrap_err();
        assert!(missing.is_not_found(), "{missing}");
        assert!(!missing.is_retryable());
        server.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_payments_never_reach_the_gateway() {
    let sandbox = start(goldplan_sandbox::KeyMode::PublicKey).await;
    let client = client(&info(&sandbox), Verification::PublicKey);
    sandbox.clear_requests();
    let mut zero = prepay(client.mchid(), "PAY20261207-0002", "https://p.example/n");
    zero.amount.total = 0;
    let e = client.jsapi_prepay(&zero).await.unwrap_err();
    assert_eq!(e.kind(), goldplan::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("amount.total"), "{e}");
    let e = client
        .request_payment(DEFAULT_SUB_APPID, "")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), goldplan::ErrorKind::InvalidInput);
    let e = client
        .request_payment(DEFAULT_SUB_APPID, "wx1\nappId")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), goldplan::ErrorKind::InvalidInput);
    let e = client
        .request_payment_at(DEFAULT_SUB_APPID, "wx1", Some(1_700_000_000_000), None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("seconds"), "{e}");
    assert!(sandbox.requests().is_empty(), "nothing was sent");
}
