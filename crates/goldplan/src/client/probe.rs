//! [`Client::probe`]: one signed request to the gateway that tells whether this configuration
//! works there — the host answers, it accepts our signature, our clock agrees with its clock,
//! and the keys we verify with are the ones it signs with. Nothing is downloaded or changed.

use serde::Serialize;

use super::retry::Outgoing;
use super::{CERTIFICATES_PATH, Client};
use crate::error::{ApiError, Untrusted};
use crate::verify::PUBLIC_KEY_ID_PREFIX;

/// How one check of a probe came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeStatus {
    /// Fine.
    Ok,
    /// Works, but something deserves attention.
    Warn,
    /// Does not work; `fix` says what to do.
    Fail,
}

/// One check of a probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeCheck {
    /// `reachability`, `signature`, `clock_skew` or `key_mode`.
    pub check: &'static str,
    /// The outcome.
    pub status: ProbeStatus,
    /// What was found.
    pub detail: String,
    /// What to do about it, when something is wrong.
    pub fix: Option<String>,
}

/// What [`Client::probe`] found. It serialises with `ok` ([`ProbeReport::is_ok`]) first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    /// The host probed.
    pub base_url: String,
    /// The HTTP status of the answer, when there was one.
    pub status: Option<u16>,
    /// The `Request-ID` of the answer, to quote to WeChat Pay support.
    pub request_id: Option<String>,
    /// This host's clock minus the gateway's (`Wechatpay-Timestamp`), in seconds.
    pub clock_skew_secs: Option<i64>,
    /// The checks, in the order they were made.
    pub checks: Vec<ProbeCheck>,
}

impl Serialize for ProbeReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("ProbeReport", 6)?;
        out.serialize_field("ok", &self.is_ok())?;
        out.serialize_field("base_url", &self.base_url)?;
        out.serialize_field("status", &self.status)?;
        out.serialize_field("request_id", &self.request_id)?;
        out.serialize_field("clock_skew_secs", &self.clock_skew_secs)?;
        out.serialize_field("checks", &self.checks)?;
        out.end()
    }
}

impl ProbeReport {
    /// Whether no check failed.
    pub fn is_ok(&self) -> bool {
        self.checks.iter().all(|c| c.status != ProbeStatus::Fail)
    }

    fn push(
        &mut self,
        check: &'static str,
        status: ProbeStatus,
        detail: String,
        fix: Option<&str>,
    ) {
        self.checks.push(ProbeCheck {
            check,
            status,
            detail,
            fix: fix.map(str::to_owned),
        });
    }
}

/// Skew from which the probe fails: WeChat Pay refuses requests and we refuse answers at 300 s,
/// so a minute already means trouble ahead.
const SKEW_FAIL_SECS: i64 = 60;

impl Client {
    /// Sends one signed `GET /v3/certificates` to the primary host and reports, without
    /// retrying, downloading or verifying anything else: whether the host answers, whether it
    /// accepts this client's request signature, the clock skew against the gateway, and whether
    /// the keys this client verifies with match the ones the gateway signs with.
    pub async fn probe(&self) -> ProbeReport {
        let base_url = self.settings.hosts.first().cloned().unwrap_or_default();
        let mut report = ProbeReport {
            base_url: base_url.clone(),
            status: None,
            request_id: None,
            clock_skew_secs: None,
            checks: Vec::new(),
        };
        let out = Outgoing {
            method: "GET".to_owned(),
            canonical_url: CERTIFICATES_PATH.to_owned(),
            signed_body: b"",
            wire_body: b"",
            content_type: None,
            wechatpay_serial: None,
            idempotent: true,
            verify: false,
        };
        let request = match self.signed_request(&out, 0).await {
            Ok((request, _)) => request,
            Err(e) => {
                report.push(
                    "signature",
                    ProbeStatus::Fail,
                    e.to_string(),
                    Some("check the merchant private key or the signer"),
                );
                return report;
            }
        };
        let response = match self.process.transport.send(request).await {
            Ok(r) => r,
            Err(e) => {
                report.push(
                    "reachability",
                    ProbeStatus::Fail,
                    format!("{base_url}: {e}"),
                    Some("check DNS, firewall and proxy; the backup host is https://api2.mch.weixin.qq.com"),
                );
                return report;
            }
        };
        report.status = Some(response.status);
        report.request_id = response.request_id();
        report.push(
            "reachability",
            ProbeStatus::Ok,
            format!("{base_url} answered HTTP {}", response.status),
            None,
        );
        let api = ApiError::from_response(response.status, None, &response.body);
        let no_certificates = response.status == 404 && api.code == "RESOURCE_NOT_EXISTS";
        match response.status {
            200..=299 => report.push(
                "signature",
                ProbeStatus::Ok,
                "the gateway accepted our request signature".into(),
                None,
            ),
            _ if no_certificates => report.push(
                "signature",
                ProbeStatus::Ok,
                "the gateway accepted our request signature".into(),
                None,
            ),
            401 => report.push(
                "signature",
                ProbeStatus::Fail,
                format!("401 {}: {}", Untrusted(&api.code, 128), Untrusted(&api.message, 1024)),
                Some("serial_no must be the serial of the certificate issued with this private key, and mchid the merchant that owns it"),
            ),
            status => report.push(
                "signature",
                ProbeStatus::Warn,
                format!(
                    "unexpected answer {status} {}: {}",
                    Untrusted(&api.code, 128),
                    Untrusted(&api.message, 1024)
                ),
                Some("see the message; quote the Request-ID to WeChat Pay support"),
            ),
        }
        let server_time = response
            .header("Wechatpay-Timestamp")
            .and_then(|t| t.trim().parse::<i64>().ok());
        match server_time {
            Some(t) => {
                let skew = self.settings.clock.now().saturating_sub(t);
                report.clock_skew_secs = Some(skew);
                if skew.saturating_abs() >= SKEW_FAIL_SECS {
                    report.push(
                        "clock_skew",
                        ProbeStatus::Fail,
                        format!("this host is {skew} s off the gateway"),
                        Some("synchronise the clock (NTP): answers are rejected at 300 s and WeChat Pay refuses requests"),
                    );
                } else {
                    report.push("clock_skew", ProbeStatus::Ok, format!("{skew} s"), None);
                }
            }
            None => report.push(
                "clock_skew",
                ProbeStatus::Warn,
                "the gateway sent no Wechatpay-Timestamp".into(),
                Some("check this host's clock with NTP"),
            ),
        }
        self.check_key_mode(&mut report, &response, no_certificates);
        report
    }

    /// Whether the keys this client verifies with are the ones the gateway signs with.
    fn check_key_mode(
        &self,
        report: &mut ProbeReport,
        response: &crate::http::HttpResponse,
        no_certificates: bool,
    ) {
        let public_key = self.settings.public_key.as_deref();
        let certificates = self.process.certificates.is_some();
        if no_certificates {
            if public_key.is_some() {
                report.push(
                    "key_mode",
                    ProbeStatus::Ok,
                    "this merchant has no platform certificate and the WeChat Pay public key is configured".into(),
                    None,
                );
            } else {
                report.push(
                    "key_mode",
                    ProbeStatus::Fail,
                    "this merchant has no platform certificate, and no WeChat Pay public key is configured".into(),
                    Some("configure public_key_id and the WeChat Pay public key (public-key mode)"),
                );
            }
            return;
        }
        if !(200..300).contains(&response.status) {
            return;
        }
        let Some(serial) = response.header("Wechatpay-Serial").map(str::trim) else {
            report.push(
                "key_mode",
                ProbeStatus::Fail,
                "the answer carries no Wechatpay-Serial".into(),
                Some("check that base_url is a WeChat Pay gateway"),
            );
            return;
        };
        if serial.starts_with(PUBLIC_KEY_ID_PREFIX) {
            match public_key {
                Some(pk) if pk.key_id() == serial => report.push(
                    "key_mode",
                    ProbeStatus::Ok,
                    format!("the gateway signs with the configured public key {serial}"),
                    None,
                ),
                Some(pk) => report.push(
                    "key_mode",
                    ProbeStatus::Fail,
                    format!(
                        "the gateway signs with public key {serial}, but {} is configured",
                        pk.key_id()
                    ),
                    Some("copy the public key id and key again from the merchant portal (API安全)"),
                ),
                None => report.push(
                    "key_mode",
                    ProbeStatus::Fail,
                    format!("the gateway signs with public key {serial}, which is not configured"),
                    Some("configure public_key_id and the WeChat Pay public key"),
                ),
            }
        } else if certificates {
            report.push(
                "key_mode",
                ProbeStatus::Ok,
                format!("the gateway signs with platform certificate {serial}; this client downloads platform certificates"),
                None,
            );
        } else {
            report.push(
                "key_mode",
                ProbeStatus::Fail,
                format!("the gateway signs with platform certificate {serial}, but this client only trusts the public key"),
                Some("use mode combined (or certificate) until WeChat Pay signs with the public key"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_report_serialises_with_its_verdict() {
        let mut report = ProbeReport {
            base_url: "https://127.0.0.1:1".into(),
            status: Some(200),
            request_id: Some("r".into()),
            clock_skew_secs: Some(0),
            checks: Vec::new(),
        };
        report.push("reachability", ProbeStatus::Ok, "answered".into(), None);
        let shown = serde_json::to_value(&report).unwrap();
        assert_eq!(shown["ok"], true);
        assert_eq!(shown["checks"][0]["check"], "reachability");
        report.push("signature", ProbeStatus::Fail, "bad".into(), Some("fix it"));
        let shown = serde_json::to_value(&report).unwrap();
        assert_eq!(shown["ok"], false);
        assert_eq!(shown["checks"][1]["fix"], "fix it");
    }
}
