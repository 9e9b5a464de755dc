//! `goldplan doctor`: checks a configuration end to end and says how to fix each problem. The
//! gateway checks are the core's [`goldplan::Client::probe`]; this file only words the findings.

use goldplan::client::ProbeStatus;
use goldplan::clock::{Clock, SystemClock};
use goldplan::x509::format_unix_rfc3339;
use goldplan::{ErrorKind, Result};
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
    match c.credentials() {
        Ok(_) => {
            if c.merchant_certificate.is_some() {
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
        }
        Err(e) => {
            findings.fail("merchant_certificate", e.to_string(), "set serial_no to the serial of apiclient_cert.pem (openssl x509 -noout -serial -in apiclient_cert.pem) and use the key issued with it");
            return;
        }
    }
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
    let client = match settings.client(Keys::Configured) {
        Ok(client) => client,
        Err(e) => {
            findings.fail(
                "client",
                e.to_string(),
                "fix the configuration above (base_url: https://api.mch.weixin.qq.com, or http://127.0.0.1:PORT for a sandbox)",
            );
            return;
        }
    };
    let report = client.probe().await;
    for check in report.checks {
        match check.status {
            ProbeStatus::Ok => findings.ok(check.check, check.detail),
            ProbeStatus::Warn => {
                findings.warn(check.check, check.detail, check.fix.unwrap_or_default())
            }
            _ => findings.fail(check.check, check.detail, check.fix.unwrap_or_default()),
        }
    }
    if settings.uses_certificates() {
        certificates(settings, findings).await;
    }
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
