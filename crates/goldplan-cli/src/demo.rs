//! `goldplan demo`: the whole Gold Plan story against a sandbox started in-process, with no
//! configuration: certificates, the five operations, a certificate rotation in the middle, a
//! tampered response rejected, then the payment that makes the Gold Plan page appear (prepay,
//! pay-sign, the payer pays, the notification verified and decrypted, the order queried by
//! both numbers), that order's receipt link checked, and, when Chromium is installed, the
//! demo's receipt page checked in a headless browser inside the Gold Plan page stand-in.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use goldplan::credentials::{ApiV3Key, MerchantCredentials, PrivateKey};
use goldplan::gold_plan::{IndustryType, OperationPayScene, OperationType};
use goldplan::notification::Acknowledgement;
use goldplan::payments::{Amount, JsapiPrepayRequest, PartnerTransaction, Payer};
use goldplan::{Client, Error, Reply, Result, receipt};
use goldplan_sandbox::{
    DEFAULT_SUB_APPID, DEFAULT_SUB_OPENID, DeliveryStatus, Fault, FaultKind, KeyMode,
    MerchantPatch, PayRequest, RotateRequest, Sandbox, SandboxConfig, SandboxHandle,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::output::{Out, exit};

const SUB_MCHID: &str = "1900000109";
const OUT_TRADE_NO: &str = "GOLDPLAN-DEMO-0001";

fn sandbox_error(e: goldplan_sandbox::SandboxError) -> Error {
    Error::Configuration(format!("sandbox: {e}"))
}

/// Collects the steps for `--json` and prints them as they happen otherwise.
struct Story {
    out: Out,
    steps: Vec<Value>,
}

impl Story {
    fn step(&mut self, name: &str, detail: impl Into<String>, request_id: Option<&str>) {
        let detail = detail.into();
        let n = self.steps.len() + 1;
        match request_id {
            Some(id) => self
                .out
                .line(format!("{n:>2}. {name}: {detail}  [Request-ID {id}]")),
            None => self.out.line(format!("{n:>2}. {name}: {detail}")),
        }
        self.steps
            .push(json!({"step": name, "detail": detail, "request_id": request_id}));
    }

    fn reply<T>(&mut self, name: &str, detail: impl Into<String>, reply: &Reply<T>) {
        self.step(name, detail, reply.request_id.as_deref());
    }
}

/// Runs the demo; returns the exit code.
pub async fn run(out: Out) -> Result<u8> {
    let config = SandboxConfig {
        mode: KeyMode::Certificate,
        sub_mchids: vec![SUB_MCHID.to_owned()],
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config).await.map_err(sandbox_error)?;
    let result = story(&sandbox, out).await;
    sandbox.shutdown().await.map_err(sandbox_error)?;
    let steps = result?;
    out.document(&json!({"ok": true, "steps": steps}));
    out.line("Gold Plan demo finished: every response was verified.");
    Ok(exit::OK)
}

async fn story(sandbox: &SandboxHandle, out: Out) -> Result<Vec<Value>> {
    let mut s = Story {
        out,
        steps: Vec::new(),
    };
    let info = sandbox.info().map_err(sandbox_error)?;
    s.step(
        "sandbox",
        format!(
            "WeChat Pay simulator at {} (service provider {}, special merchant {SUB_MCHID})",
            info.base_url, info.mchid
        ),
        None,
    );
    let credentials = MerchantCredentials::with_certificate(
        &info.mchid,
        &info.serial_no,
        PrivateKey::from_pem(&info.private_key_pem)?,
        &info.certificate_pem,
    )?;
    let client = Client::builder()
        .credentials(credentials)
        .apiv3_key(ApiV3Key::new(info.apiv3_key.as_bytes())?)
        .base_url(info.base_url.clone())
        .timeout(Duration::from_secs(10))
        .build()?;

    client.refresh_certificates().await?;
    s.step(
        "platform certificates",
        format!("downloaded, decrypted and verified: {}", serials(&client)),
        None,
    );

    let r = client
        .change_gold_plan_status(
            SUB_MCHID,
            OperationType::Open,
            Some(OperationPayScene::JsapiAndMiniprogram),
        )
        .await?;
    s.reply(
        "change_gold_plan_status OPEN (JSAPI_AND_MINIPROGRAM)",
        format!("Gold Plan is open for {}", r.data.sub_mchid),
        &r,
    );

    let link = crate::demo_receipt::serve(client.clone(), SUB_MCHID)
        .await
        .map_err(|e| Error::Configuration(format!("the demo's receipt page: {e}")))?;
    sandbox
        .update_merchant(
            &info.mchid,
            MerchantPatch {
                receipt_link: Some(link.clone()),
                ..MerchantPatch::default()
            },
        )
        .map_err(sandbox_error)?;
    s.step(
        "receipt link",
        format!("configured in the partner portal: {link} (the demo's receipt page)"),
        None,
    );
    let r = client
        .change_custom_page_status(SUB_MCHID, OperationType::Open)
        .await?;
    s.reply(
        "change_custom_page_status OPEN",
        "the merchant receipt replaces the official one",
        &r,
    );

    let filters = vec![
        IndustryType::Software,
        IndustryType::Security,
        IndustryType::LoveMarriage,
    ];
    let r = client
        .set_advertising_industry_filter(SUB_MCHID, filters.clone())
        .await?;
    s.reply(
        "set_advertising_industry_filter",
        format!("no ads from {}", names(&filters)),
        &r,
    );

    let rotation = sandbox
        .rotate_platform_certificate(RotateRequest {
            sign_with_new: Some(true),
            ..RotateRequest::default()
        })
        .await
        .map_err(sandbox_error)?;
    s.step(
        "certificate rotation",
        format!("WeChat Pay now signs with a new certificate {} (the old one stays valid for the overlap)", rotation.new_serial_no),
        None,
    );

    let open_filters = vec![IndustryType::ECommerce];
    let r = client
        .open_advertising_show(SUB_MCHID, Some(open_filters.clone()))
        .await?;
    s.reply(
        "open_advertising_show",
        format!(
            "ads on, excluding {}; the client picked up the new certificate by itself: {}",
            names(&open_filters),
            serials(&client)
        ),
        &r,
    );

    sandbox
        .inject_fault(Fault::new(FaultKind::BadSignature))
        .map_err(sandbox_error)?;
    match client.close_advertising_show(SUB_MCHID).await {
        Err(e) if e.kind().is_verification_failure() => s.step(
            "tampered response",
            format!(
                "rejected ({}): the outcome of that call is unknown, so it is checked again",
                e.kind()
            ),
            e.request_id(),
        ),
        Err(e) => return Err(e),
        Ok(_) => {
            return Err(Error::Configuration(
                "a tampered response was accepted".into(),
            ));
        }
    }
    let r = client.close_advertising_show(SUB_MCHID).await?;
    s.reply("close_advertising_show", "ads off", &r);

    let paid = payment(sandbox, &client, &info.sp_appid, &mut s).await?;

    let url = paid.receipt_url.ok_or_else(|| {
        Error::Configuration("the sandbox gave no receipt URL for the paid order".into())
    })?;
    let params = receipt::parse_receipt_query(&url)?;
    let valid = params.verify(&link, &paid.transaction_id);
    let forged = receipt::verify_check_code(
        &link,
        SUB_MCHID,
        "SOMEONE-ELSES-ORDER",
        &paid.transaction_id,
        &params.check_code.raw,
    );
    if !valid || forged || params.out_trade_no.decoded != OUT_TRADE_NO {
        return Err(Error::Configuration(
            "the receipt check_code check misbehaved".into(),
        ));
    }
    s.step(
        "receipt page",
        format!(
            "WeChat opens {url}: its check_code is valid for order {OUT_TRADE_NO} paid as {}; \
             the same code for another order is rejected",
            paid.transaction_id
        ),
        None,
    );
    browser_check(&mut s, &link, &paid.transaction_id).await?;
    s.step(
        "done",
        format!(
            "payment notification acknowledged with HTTP {}",
            paid.ack_status
        ),
        None,
    );
    Ok(s.steps)
}

/// The demo's receipt page in a headless Chromium, inside the Gold Plan page stand-in, when
/// Chromium is installed; a step saying how to install it otherwise.
async fn browser_check(s: &mut Story, link: &str, transaction_id: &str) -> Result<()> {
    const STEP: &str = "receipt page checked in a browser";
    if goldplan_receipt::find_chromium(None).is_none() {
        s.step(
            STEP,
            "skipped: Chromium is not installed (apt-get install chromium, or set \
             GOLDPLAN_CHROMIUM)",
            None,
        );
        return Ok(());
    }
    let options = goldplan_receipt::TestOptions {
        sub_mch_id: SUB_MCHID.to_owned(),
        out_trade_no: Some(OUT_TRADE_NO.to_owned()),
        transaction_id: Some(transaction_id.to_owned()),
        ..goldplan_receipt::TestOptions::default()
    };
    let report = goldplan_receipt::test_receipt(link, &options).await?;
    if !report.passed {
        let failed: Vec<&str> = report.failed_rules().map(|r| r.rule.name()).collect();
        return Err(Error::Configuration(format!(
            "the demo's receipt page failed in Chromium: {}",
            failed.join(", ")
        )));
    }
    s.step(
        STEP,
        format!(
            "all {} rules pass: onIframeReady {} after {} ms (limit {} ms), posted to \
             https://payapp.weixin.qq.com, a wrong check_code gets the official receipt \
             (`goldplan receipt test` in {} ms)",
            report.rules.len(),
            report.display_style.as_deref().unwrap_or_default(),
            report.ready_ms.unwrap_or_default(),
            report.limit_ms,
            report.wall_ms
        ),
        None,
    );
    Ok(())
}

/// What the payment story hands to the receipt page.
struct Paid {
    transaction_id: String,
    receipt_url: Option<String>,
    ack_status: u16,
}

type Received = mpsc::UnboundedSender<std::result::Result<PartnerTransaction, String>>;

/// The payment Gold Plan needs (PAYMENTS.md): prepay, the pay-sign for the page, the payer pays
/// (the sandbox plays WeChat's client and checks the pay-sign), the notification received like
/// a merchant back-end would (raw body, headers, verify, decrypt, acknowledge), and the order
/// queried by both of its numbers.
async fn payment(
    sandbox: &SandboxHandle,
    client: &Client,
    sp_appid: &str,
    s: &mut Story,
) -> Result<Paid> {
    async fn receive(
        State((client, tx)): State<(Client, Received)>,
        headers: HeaderMap,
        body: Bytes,
    ) -> (StatusCode, String) {
        let pairs = headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()));
        let parsed = match client.parse_notification(pairs, &body, None).await {
            Ok(n) => {
                PartnerTransaction::from_notification(n.original_type.as_deref(), n.plaintext())
            }
            Err(e) => Err(e),
        };
        let ack = match parsed {
            Ok(transaction) => {
                let _ = tx.send(Ok(transaction));
                Acknowledgement::success()
            }
            Err(e) => {
                let _ = tx.send(Err(e.to_string()));
                Acknowledgement::for_error(&e)
            }
        };
        (
            StatusCode::from_u16(ack.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            ack.body,
        )
    }

    let (tx, mut rx) = mpsc::unbounded_channel();
    let app = axum::Router::new()
        .route("/notify", axum::routing::post(receive))
        .with_state((client.clone(), tx));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| Error::Configuration(format!("cannot open the notification receiver: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Configuration(format!("notification receiver: {e}")))?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let prepay = JsapiPrepayRequest {
        sp_appid: sp_appid.to_owned(),
        sp_mchid: client.mchid().to_owned(),
        sub_appid: Some(DEFAULT_SUB_APPID.to_owned()),
        sub_mchid: SUB_MCHID.to_owned(),
        description: "点金计划演示商品".to_owned(),
        out_trade_no: OUT_TRADE_NO.to_owned(),
        notify_url: format!("http://{addr}/notify"),
        amount: Amount {
            total: 100,
            currency: None,
        },
        payer: Payer {
            sp_openid: None,
            sub_openid: Some(DEFAULT_SUB_OPENID.to_owned()),
        },
        ..JsapiPrepayRequest::default()
    };
    let r = client.jsapi_prepay(&prepay).await?;
    let prepay_id = r.data.prepay_id.clone();
    s.reply(
        "jsapi_prepay",
        format!("order {OUT_TRADE_NO} of 1.00 CNY for {SUB_MCHID}: prepay_id {prepay_id}"),
        &r,
    );

    let page = client
        .request_payment(prepay.payment_app_id(), &prepay_id)
        .await?;
    s.step(
        "request_payment",
        format!(
            "for getBrandWCPayRequest: appId {} (the payer's app), timeStamp {}, package {}, \
             signType {}, paySign of {} characters",
            page.app_id,
            page.time_stamp,
            page.package,
            page.sign_type,
            page.pay_sign.len()
        ),
        None,
    );

    let six = serde_json::to_value(&page)
        .and_then(serde_json::from_value::<PayRequest>)
        .map_err(|e| Error::Configuration(format!("pay request: {e}")))?;
    let outcome = sandbox.pay(six).await.map_err(sandbox_error)?;
    let transaction_id = outcome.transaction_id.clone().ok_or_else(|| {
        Error::Configuration(format!(
            "the payment did not go through: {}",
            outcome.trade_state
        ))
    })?;
    s.step(
        "the payer pays",
        format!("WeChat accepted the pay-sign; the order is paid as {transaction_id}"),
        None,
    );

    let callback_id = outcome
        .callback_id
        .ok_or_else(|| Error::Configuration("no payment notification was sent".into()))?;
    let record = sandbox
        .wait_for_callback(&callback_id, Duration::from_secs(10))
        .await
        .map_err(sandbox_error)?;
    server.abort();
    let notified = rx
        .recv()
        .await
        .ok_or_else(|| Error::Configuration("the notification never reached the receiver".into()))?
        .map_err(|e| Error::Configuration(format!("the notification was rejected: {e}")))?;
    let ack_status = record.attempts.last().and_then(|a| a.status).unwrap_or(0);
    if record.status != DeliveryStatus::Delivered {
        return Err(Error::Configuration(format!(
            "the notification was not acknowledged (HTTP {ack_status})"
        )));
    }
    if notified.transaction_id.as_deref() != Some(transaction_id.as_str())
        || !notified.trade_state.is_paid()
    {
        return Err(Error::Configuration(
            "the notification does not describe the payment".into(),
        ));
    }
    s.step(
        "payment notification",
        format!(
            "TRANSACTION.SUCCESS verified and decrypted: {} paid {} fen as {transaction_id}",
            notified.out_trade_no,
            notified
                .amount
                .as_ref()
                .and_then(|a| a.payer_total)
                .unwrap_or_default()
        ),
        None,
    );

    let by_number = client
        .query_order_by_out_trade_no(OUT_TRADE_NO, client.mchid(), SUB_MCHID)
        .await?;
    let by_id = client
        .query_order_by_transaction_id(&transaction_id, client.mchid(), SUB_MCHID)
        .await?;
    if by_number.data.transaction_id != by_id.data.transaction_id
        || by_id.data.transaction_id.as_deref() != Some(transaction_id.as_str())
    {
        return Err(Error::Configuration(
            "the two order queries disagree".into(),
        ));
    }
    s.reply(
        "query_order_by_out_trade_no",
        format!("{OUT_TRADE_NO}: {}", by_number.data.trade_state),
        &by_number,
    );
    s.reply(
        "query_order_by_transaction_id",
        format!("{transaction_id}: {}", by_id.data.trade_state),
        &by_id,
    );
    Ok(Paid {
        transaction_id,
        receipt_url: outcome.receipt_url,
        ack_status,
    })
}

fn serials(client: &Client) -> String {
    client
        .platform_certificates()
        .iter()
        .map(|c| c.serial_hex().to_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

fn names(list: &[IndustryType]) -> String {
    list.iter()
        .map(|i| i.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
