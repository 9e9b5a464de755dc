//! `goldplan demo`: the whole Gold Plan story against a sandbox started in-process, with no
//! configuration: certificates, the five operations, a certificate rotation in the middle, a
//! tampered response rejected, a callback verified and decrypted, a receipt link checked.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use goldplan::credentials::{ApiV3Key, MerchantCredentials, PrivateKey};
use goldplan::gold_plan::{IndustryType, OperationPayScene, OperationType};
use goldplan::notification::Acknowledgement;
use goldplan::{Client, Error, Reply, Result, receipt};
use goldplan_sandbox::{
    CallbackRequest, DeliveryStatus, Fault, FaultKind, KeyMode, MerchantPatch, RotateRequest,
    Sandbox, SandboxConfig, SandboxHandle,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::output::{Out, exit};

const SUB_MCHID: &str = "1900000109";
const RECEIPT_LINK: &str = "https://receipt.example.com/goldplan/receipt";

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

    sandbox
        .update_merchant(
            &info.mchid,
            MerchantPatch {
                receipt_link: Some(RECEIPT_LINK.to_owned()),
                ..MerchantPatch::default()
            },
        )
        .map_err(sandbox_error)?;
    s.step(
        "receipt link",
        format!("configured in the partner portal: {RECEIPT_LINK}"),
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

    let (transaction_id, ack_status) = callback(sandbox, &client, &mut s).await?;

    let out_trade_no = "GOLDPLAN-DEMO-0001";
    let check_code =
        receipt::expected_check_code(RECEIPT_LINK, SUB_MCHID, out_trade_no, &transaction_id);
    let url = format!(
        "{RECEIPT_LINK}?sub_mch_id={SUB_MCHID}&out_trade_no={out_trade_no}&check_code={check_code}"
    );
    let params = receipt::parse_receipt_query(&url)?;
    let valid = params.verify(RECEIPT_LINK, &transaction_id);
    let forged = receipt::verify_check_code(
        RECEIPT_LINK,
        SUB_MCHID,
        "SOMEONE-ELSES-ORDER",
        &transaction_id,
        &check_code,
    );
    if !valid || forged {
        return Err(Error::Configuration(
            "the receipt check_code check misbehaved".into(),
        ));
    }
    s.step(
        "receipt page",
        format!("check_code of {url} is valid; the same code for another order is rejected"),
        None,
    );
    s.step(
        "done",
        format!("callback acknowledged with HTTP {ack_status}"),
        None,
    );
    Ok(s.steps)
}

type Received = mpsc::UnboundedSender<std::result::Result<(String, String), String>>;

/// Receives one callback like a merchant back-end would: raw body, headers, verify, decrypt,
/// acknowledge.
async fn callback(
    sandbox: &SandboxHandle,
    client: &Client,
    s: &mut Story,
) -> Result<(String, u16)> {
    async fn receive(
        State((client, tx)): State<(Client, Received)>,
        headers: HeaderMap,
        body: Bytes,
    ) -> (StatusCode, String) {
        let pairs = headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()));
        let ack = match client.parse_notification(pairs, &body, None).await {
            Ok(n) => {
                let _ = tx.send(Ok((n.event_type.clone(), n.plaintext().to_owned())));
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
        .map_err(|e| Error::Configuration(format!("cannot open the callback receiver: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Configuration(format!("callback receiver: {e}")))?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let transaction_id = "4200000000202611260000000001";
    let request: CallbackRequest = serde_json::from_value(json!({
        "url": format!("http://{addr}/notify"),
        "event_type": "TRANSACTION.SUCCESS",
        "summary": "支付成功",
        "resource": {
            "sp_mchid": client.mchid(),
            "sub_mchid": SUB_MCHID,
            "out_trade_no": "GOLDPLAN-DEMO-0001",
            "transaction_id": transaction_id,
            "trade_state": "SUCCESS",
            "amount": {"total": 100, "currency": "CNY"}
        },
        "max_attempts": 1
    }))
    .map_err(|e| Error::Configuration(format!("callback request: {e}")))?;
    let sent = sandbox
        .send_callback(request)
        .await
        .map_err(sandbox_error)?;
    let record = sandbox
        .wait_for_callback(&sent.id, Duration::from_secs(10))
        .await
        .map_err(sandbox_error)?;
    server.abort();
    let received = rx
        .recv()
        .await
        .ok_or_else(|| Error::Configuration("the callback never reached the receiver".into()))?
        .map_err(|e| Error::Configuration(format!("the callback was rejected: {e}")))?;
    let status = record.attempts.last().and_then(|a| a.status).unwrap_or(0);
    if record.status != DeliveryStatus::Delivered {
        return Err(Error::Configuration(format!(
            "the callback was not acknowledged (HTTP {status})"
        )));
    }
    s.step(
        "callback",
        format!("{} verified and decrypted: {}", received.0, received.1),
        None,
    );
    Ok((transaction_id.to_owned(), status))
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
