//! The JSON surface every binding crosses (`cargo run -p goldplan-examples --example json_surface`):
//! a client configured from a `sandbox.json`-style document, `Client::probe`, every operation
//! through `Client::call_json`, and an error as the `ErrorReport` that bindings turn into their
//! own exceptions. A local sandbox stands in for WeChat Pay.

use goldplan::client::Operation;
use goldplan::config::ClientConfig;
use goldplan_sandbox::{KeyMode, Sandbox, SandboxConfig};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), AnyError> {
    let sandbox = Sandbox::start(SandboxConfig {
        mode: KeyMode::Combined,
        sub_mchids: vec!["1900000109".to_owned()],
        ..SandboxConfig::default()
    })
    .await?;
    // What a binding receives from its caller: configuration as JSON.
    let config_json = serde_json::to_string(&sandbox.info()?)?;
    let client = ClientConfig::from_json(&config_json, None)?.build()?;

    let probe = client.probe().await;
    println!("probe: {}", serde_json::to_string(&probe)?);
    if !probe.is_ok() {
        return Err("the probe found a problem".into());
    }

    let calls: [(Operation, &str); 7] = [
        (Operation::RefreshCertificates, "{}"),
        (
            Operation::ChangeGoldPlanStatus,
            r#"{"sub_mchid":"1900000109","operation_type":"OPEN","operation_pay_scene":"JSAPI"}"#,
        ),
        (
            Operation::SetAdvertisingIndustryFilter,
            r#"{"sub_mchid":"1900000109","advertising_industry_filters":["SOFTWARE","POTOGRAPHY"]}"#,
        ),
        (
            Operation::OpenAdvertisingShow,
            r#"{"sub_mchid":"1900000109"}"#,
        ),
        (
            Operation::CloseAdvertisingShow,
            r#"{"sub_mchid":"1900000109"}"#,
        ),
        (
            Operation::UploadImage,
            r#"{"filename":"logo.png","content_base64":"iVBORw0KGgo="}"#,
        ),
        (
            Operation::Request,
            r#"{"method":"POST","path":"/v3/goldplan/merchants/close-advertising-show","body":{"sub_mchid":"1900000109"}}"#,
        ),
    ];
    for (operation, args) in calls {
        let reply = client.call_json(operation, args.as_bytes()).await?;
        let result = String::from_utf8_lossy(&reply.json);
        let shown: String = result.chars().take(120).collect();
        println!("{operation}: {shown} (Request-ID {:?})", reply.request_id);
    }

    // Errors cross the boundary as reports: kind, family, message, Request-ID, API fields.
    let failure = client
        .call_json(
            Operation::ChangeCustomPageStatus,
            br#"{"sub_mchid":"1900000109","operation_type":"MAYBE"}"#,
        )
        .await
        .err()
        .ok_or("an unknown operation_type was accepted")?;
    println!("error report: {}", failure.report().to_json());
    sandbox.shutdown().await?;
    Ok(())
}
