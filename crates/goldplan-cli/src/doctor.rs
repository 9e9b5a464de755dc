//! `goldplan doctor`: checks a configuration end to end and says how to fix each problem.

use goldplan::certificates::format_unix_rfc3339;
use goldplan::clock::{Clock, SystemClock};
use goldplan::error::Untrusted;
use goldplan::http::{
    HttpRequest, ReqwestTransport, Transport, TransportConfig, validate_base_url,
};
use goldplan::sign::{RsaSigner, sign_request};
use goldplan::{ApiError, ErrorKind, Result};
use serde_json::{Value, json};

use crate::config::{ConfigArgs, Keys, Settings};
use crate::output::{Out, exit};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    Warn,
    Fail,
}

struct Finding {
    check: &'static str,
    status: Status,
    detail: String,
    fix: Option<String>,
}

#[derive(Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn ok(&mut self, check: &'static str, detail: impl Into<String>) {
        self.0.push(Finding {
            check,
            status: Status::Ok,
            detail: detail.into(),
            fix: None,
        });
    }
    fn warn(&mut self, check: &'static str, detail: impl Into<String>, fix: impl Into<String>) {
        self.0.push(Finding {
            check,
            status: Status::Warn,
            detail: detail.into(),
            fix: Some(fix.into()),
        });
    }
    fn fail(&mut self, check: &'static str, detail: impl Into<String>, fix: impl Into<String>) {
        self.0.push(Finding {
            check,
            status: Status::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        });
    }
}

/// Runs every check; exit code 6 when any fails.
pub async fn run(args: &ConfigArgs, out: Out) -> Result<u8> {
    let mut findings = Findings::default();
    match args.resolve() {
        Ok(settings) => check_settings(&settings, &mut findings).await,
        Err(e) => findings.fail(
            "configuration",
            e.to_string(),
            "give mchid, serial_no, the private key and the APIv3 key by flag, GOLDPLAN_* variable or --config file",
        ),
    }
    let failed = findings.0.iter().any(|f| f.status == Status::Fail);
    for f in &findings.0 {
        let mark = match f.status {
            Status::Ok => "ok  ",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        };
        out.line(format!("[{mark}] {}: {}", f.check, f.detail));
        if let Some(fix) = &f.fix {
            out.line(format!("       fix: {fix}"));
        }
    }
    let list: Vec<Value> = findings
        .0
        .iter()
        .map(|f| {
            json!({
                "check": f.check,
                "status": match f.status { Status::Ok => "ok", Status::Warn => "warn", Status::Fail => "fail" },
                "detail": f.detail,
                "fix": f.fix,
            })
        })
        .collect();
    out.document(&json!({"ok": !failed, "findings": list}));
    Ok(if failed { exit::DOCTOR } else { exit::OK })
}

async fn check_settings(settings: &Settings, findings: &mut Findings) {
    let c = &settings.config;
    let key = match c.private_key() {
        Ok(k) => {
            findings.ok(
                "private_key",
                format!("RSA-{} private key loaded", k.bits()),
            );
            k
        }
        Err(e) => {
            findings.fail(
                "private_key",
                e.to_string(),
                "use apiclient_key.pem from the merchant portal (PKCS#8 or PKCS#1 PEM)",
            );
            return;
        }
    };
    drop(key);
    let credentials = match c.credentials() {
        Ok(credentials) => {
            if c.certificate_pem.is_some() {
                findings.ok(
                    "merchant_certificate",
                    "serial_no and private key match apiclient_cert.pem",
                );
            } else {
                findings.warn(
                    "merchant_certificate",
                    "no merchant certificate given: key/serial consistency not checked",
                    "pass --merchant-certificate apiclient_cert.pem",
                );
            }
            credentials
        }
        Err(e) => {
            findings.fail("merchant_certificate", e.to_string(), "set serial_no to the serial of apiclient_cert.pem (openssl x509 -noout -serial -in apiclient_cert.pem) and use the key issued with it");
            return;
        }
    };
    match c.apiv3_key() {
        Ok(Some(_)) => findings.ok("apiv3_key", "32 bytes"),
        Ok(None) => findings.warn(
            "apiv3_key",
            "not configured: certificate downloads and callbacks are impossible",
            "set GOLDPLAN_APIV3_KEY to the 32-character key from the merchant portal",
        ),
        Err(e) => findings.fail(
            "apiv3_key",
            e.to_string(),
            "use the 32-character APIv3 key set in the merchant portal, as-is",
        ),
    }
    match c.public_key() {
        Ok(Some(pk)) => findings.ok("wechatpay_public_key", format!("public key {} loaded", pk.key_id())),
        Ok(None) => findings.ok("wechatpay_public_key", "not configured: platform-certificate mode"),
        Err(e) => findings.fail("wechatpay_public_key", e.to_string(), "download the WeChat Pay public key and its PUB_KEY_ID_… from the merchant portal (API安全)"),
    }
    let base = c
        .base_url
        .clone()
        .unwrap_or_else(|| goldplan::client::DEFAULT_BASE_URL.to_owned());
    let base = match validate_base_url(&base) {
        Ok(b) => b,
        Err(e) => {
            findings.fail(
                "base_url",
                e.to_string(),
                "use https://api.mch.weixin.qq.com (or http://127.0.0.1:PORT for a sandbox)",
            );
            return;
        }
    };
    probe(&base, settings, RsaSigner::new(credentials), findings).await;
    if settings.uses_certificates() {
        certificates(settings, findings).await;
    }
}

/// One signed GET to the gateway: reachability, our signature, and clock skew.
async fn probe(base: &str, settings: &Settings, signer: RsaSigner, findings: &mut Findings) {
    let transport = match ReqwestTransport::new(&TransportConfig {
        timeout: std::time::Duration::from_secs_f64(settings.config.timeout_secs.unwrap_or(30.0)),
        ..TransportConfig::default()
    }) {
        Ok(t) => t,
        Err(e) => {
            return findings.fail(
                "reachability",
                e.to_string(),
                "check the proxy and TLS settings",
            );
        }
    };
    let path = goldplan::client::CERTIFICATES_PATH;
    let signed = match sign_request(&signer, &SystemClock, "GET", path, b"").await {
        Ok(s) => s,
        Err(e) => {
            return findings.fail("signature", e.to_string(), "check the merchant private key");
        }
    };
    let mut headers = vec![
        ("Accept".to_owned(), "application/json".to_owned()),
        (
            "User-Agent".to_owned(),
            format!("goldplan-doctor/{}", goldplan::client::VERSION),
        ),
        (
            "Authorization".to_owned(),
            signed.authorization.header_value(),
        ),
    ];
    if let Some(id) = settings
        .config
        .public_key_id
        .as_ref()
        .filter(|_| settings.config.mode() != goldplan::config::KeyMode::Certificate)
    {
        headers.push(("Wechatpay-Serial".to_owned(), id.clone()));
    }
    let response = match transport
        .send(HttpRequest {
            method: "GET".into(),
            url: format!("{base}{path}"),
            headers,
            body: Vec::new(),
        })
        .await
    {
        Ok(r) => r,
        Err(e) => {
            return findings.fail(
                "reachability",
                format!("{base}: {e}"),
                "check DNS, firewall and proxy; the backup host is https://api2.mch.weixin.qq.com",
            );
        }
    };
    findings.ok(
        "reachability",
        format!("{base} answered HTTP {}", response.status),
    );
    let api = ApiError::from_response(
        response.status,
        response.header("Request-ID").map(str::to_owned),
        &response.body,
    );
    match (response.status, api.code.as_str()) {
        (200..=299, _) | (404, "RESOURCE_NOT_EXISTS") => findings.ok("signature", "the gateway accepted our request signature"),
        (401, _) => findings.fail("signature", format!("401 {}: {}", Untrusted(&api.code, 128), Untrusted(&api.message, 1024)), "serial_no must be the serial of the certificate issued with this private key, and mchid must be the merchant that owns it"),
        (status, code) => findings.warn("signature", format!("unexpected answer {status} {}: {}", Untrusted(code, 128), Untrusted(&api.message, 1024)), "see the message; quote the Request-ID to WeChat Pay support"),
    }
    let server_time = response
        .header("Wechatpay-Timestamp")
        .and_then(|t| t.trim().parse::<i64>().ok())
        .or_else(|| response.header("Date").and_then(parse_http_date));
    match server_time {
        Some(t) => {
            let skew = SystemClock.now() - t;
            if skew.abs() >= 60 {
                findings.fail("clock_skew", format!("this host is {skew} s off the gateway"), "synchronise the clock (NTP): responses are rejected at 300 s and requests are refused by WeChat Pay");
            } else {
                findings.ok("clock_skew", format!("{skew} s"));
            }
        }
        None => findings.warn(
            "clock_skew",
            "the gateway sent no timestamp",
            "check the host clock with NTP",
        ),
    }
}

fn parse_http_date(text: &str) -> Option<i64> {
    time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc2822)
        .ok()
        .map(|t| t.unix_timestamp())
}

async fn certificates(settings: &Settings, findings: &mut Findings) {
    let client = match settings.client(Keys::WithCertificates) {
        Ok(c) => c,
        Err(e) => {
            return findings.fail(
                "platform_certificates",
                e.to_string(),
                "fix the configuration above first",
            );
        }
    };
    match client.refresh_certificates().await {
        Ok(()) => {
            let set = client.platform_certificates();
            let now = SystemClock.now();
            for cert in set.iter() {
                let days = (cert.not_after() - now) / 86_400;
                if days < 30 {
                    findings.warn("platform_certificates", format!("{} expires in {days} days ({})", cert.serial_hex(), format_unix_rfc3339(cert.not_after())), "WeChat Pay issues the next certificate before expiry; keep automatic refresh on, or move to the WeChat Pay public key");
                } else {
                    findings.ok(
                        "platform_certificates",
                        format!(
                            "{} valid until {}",
                            cert.serial_hex(),
                            format_unix_rfc3339(cert.not_after())
                        ),
                    );
                }
            }
        }
        Err(e) if e.kind() == ErrorKind::NoPlatformCertificate => findings.fail(
            "platform_certificates",
            e.to_string(),
            "configure --public-key-id and --public-key (public-key mode)",
        ),
        Err(e) if e.kind() == ErrorKind::Decryption => findings.fail(
            "platform_certificates",
            e.to_string(),
            "the APIv3 key is wrong: reset it in the merchant portal or copy it again",
        ),
        Err(e) => findings.fail(
            "platform_certificates",
            e.to_string(),
            "see the message above",
        ),
    }
}
