//! The README's Rust quick start, runnable: `cargo run -p goldplan-examples --example quickstart`.
//!
//! `main` stands a local sandbox in for WeChat Pay, writes the merchant's files the way the
//! merchant portal hands them out, and runs itself as the merchant's program; `quickstart` is
//! the README snippet, verbatim (`tests/readme.rs` checks that the two stay the same).

use goldplan::Client;
use goldplan::credentials::{ApiV3Key, MerchantCredentials, PrivateKey};
use goldplan::gold_plan::{IndustryType, OperationType};
use goldplan::verify::PublicKeyVerifier;
use goldplan_sandbox::{KeyMode, Sandbox, SandboxConfig};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// What the merchant portal gives a service provider, and where its gateway is.
struct Merchant<'a> {
    mchid: &'a str,
    serial_no: &'a str,
    public_key_id: &'a str,
    base_url: &'a str,
}

async fn quickstart(merchant: &Merchant<'_>) -> Result<(), AnyError> {
    let Merchant {
        mchid,
        serial_no,
        public_key_id,
        base_url,
    } = *merchant;
    // README:begin
    let client = Client::builder()
        .credentials(MerchantCredentials::new(
            mchid,                                           // e.g. "1900000100"
            serial_no,                                       // the API certificate's serial
            PrivateKey::from_pem_file("apiclient_key.pem")?, // PKCS#8 or PKCS#1
        )?)
        .apiv3_key(ApiV3Key::new(std::env::var("WECHATPAY_APIV3_KEY")?)?)
        // Public-key mode; without it the client downloads and rotates platform certificates,
        // with both (and `.platform_certificates(true)`) it is in combined (migration) mode.
        .wechatpay_public_key(PublicKeyVerifier::from_pem(
            public_key_id, // "PUB_KEY_ID_0114…"
            &std::fs::read_to_string("pub_key.pem")?,
        )?)
        .base_url(base_url) // omit for api.mch.weixin.qq.com
        .build()?;

    let reply = client
        .change_gold_plan_status("1900000109", OperationType::Open, None)
        .await?;
    println!(
        "{} (Request-ID {:?})",
        reply.data.sub_mchid, reply.request_id
    );
    client
        .set_advertising_industry_filter("1900000109", vec![IndustryType::Software])
        .await?;
    // Any APIv3 endpoint: the body is signed and sent byte for byte, the answer verified.
    let body = br#"{"sub_mchid":"1900000109"}"#;
    let any = client
        .request(
            "POST",
            "/v3/goldplan/merchants/close-advertising-show",
            Some(body),
        )
        .await?;
    println!("HTTP {} signed by {}", any.status, any.serial);
    // README:end
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), AnyError> {
    if let Ok(mchid) = std::env::var("QUICKSTART_MCHID") {
        // The merchant's program: its files in the working directory, its key in the
        // environment, as in production.
        let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
        let (serial_no, public_key_id, base_url) = (
            var("QUICKSTART_SERIAL_NO")?,
            var("QUICKSTART_PUBLIC_KEY_ID")?,
            var("QUICKSTART_BASE_URL")?,
        );
        return quickstart(&Merchant {
            mchid: &mchid,
            serial_no: &serial_no,
            public_key_id: &public_key_id,
            base_url: &base_url,
        })
        .await;
    }
    // Stand a sandbox in for WeChat Pay, lay out the merchant's files, run the merchant's
    // program (this same binary) against it.
    let sandbox = Sandbox::start(SandboxConfig {
        mode: KeyMode::PublicKey,
        sub_mchids: vec!["1900000109".to_owned()],
        ..SandboxConfig::default()
    })
    .await?;
    let info = sandbox.info()?;
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("apiclient_key.pem"), &info.private_key_pem)?;
    std::fs::write(dir.path().join("pub_key.pem"), &info.public_key_pem)?;
    let status = tokio::process::Command::new(std::env::current_exe()?)
        .current_dir(dir.path())
        .env("WECHATPAY_APIV3_KEY", &info.apiv3_key)
        .env("QUICKSTART_MCHID", &info.mchid)
        .env("QUICKSTART_SERIAL_NO", &info.serial_no)
        .env("QUICKSTART_PUBLIC_KEY_ID", &info.public_key_id)
        .env("QUICKSTART_BASE_URL", &info.base_url)
        .status()
        .await?;
    sandbox.shutdown().await?;
    if !status.success() {
        return Err(format!("the quick start failed: {status}").into());
    }
    Ok(())
}
