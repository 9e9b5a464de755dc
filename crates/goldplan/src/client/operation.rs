//! The JSON surface every binding and the CLI cross: an [`Operation`] named by its stable
//! snake_case name, its arguments as JSON, its result as JSON. One dispatcher here means no
//! binding writes its own; errors cross as [`crate::ErrorReport`]s.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{Client, RequestOptions, Response};
use crate::error::{Error, Result};
use crate::gold_plan::{IndustryType, OperationPayScene, OperationType};
use crate::x509::format_unix_rfc3339;

/// Every call the JSON surface offers. Names are the same in every language (camelCase in
/// JavaScript).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// 点金计划管理. Arguments `{sub_mchid, operation_type, operation_pay_scene?}`; result
    /// `{sub_mchid}`.
    ChangeGoldPlanStatus,
    /// 商家小票管理. Arguments `{sub_mchid, operation_type}`; result `{sub_mchid, …}`.
    ChangeCustomPageStatus,
    /// 同业过滤标签管理. Arguments `{sub_mchid, advertising_industry_filters: [1..3]}`;
    /// result `null`.
    SetAdvertisingIndustryFilter,
    /// 开通广告展示. Arguments `{sub_mchid, advertising_industry_filters?: [0..3]}`; result
    /// `null`.
    OpenAdvertisingShow,
    /// 关闭广告展示. Arguments `{sub_mchid}`; result `null`.
    CloseAdvertisingShow,
    /// Image upload. Arguments `{filename, content_base64}`; result `{media_id}`.
    UploadImage,
    /// Any signed APIv3 call. Arguments `{method, path, body?, body_text?, idempotent?,
    /// wechatpay_serial?}` (`body` is any JSON value, sent compactly; `body_text` is sent
    /// byte for byte); result `{status, request_id, serial, headers, body}` where `body` is the
    /// decoded JSON, the text when it is not JSON, or `null` when empty.
    Request,
    /// Downloads the platform certificates now. Arguments `{}`; result `{certificates:
    /// [{serial_no, not_before, not_after, pem}]}`.
    DownloadCertificates,
}

impl Operation {
    /// Every operation.
    pub const ALL: &'static [Operation] = &[
        Operation::ChangeGoldPlanStatus,
        Operation::ChangeCustomPageStatus,
        Operation::SetAdvertisingIndustryFilter,
        Operation::OpenAdvertisingShow,
        Operation::CloseAdvertisingShow,
        Operation::UploadImage,
        Operation::Request,
        Operation::DownloadCertificates,
    ];

    /// The stable snake_case name, e.g. `"change_gold_plan_status"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::ChangeGoldPlanStatus => "change_gold_plan_status",
            Operation::ChangeCustomPageStatus => "change_custom_page_status",
            Operation::SetAdvertisingIndustryFilter => "set_advertising_industry_filter",
            Operation::OpenAdvertisingShow => "open_advertising_show",
            Operation::CloseAdvertisingShow => "close_advertising_show",
            Operation::UploadImage => "upload_image",
            Operation::Request => "request",
            Operation::DownloadCertificates => "download_certificates",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Operation {
    type Err = Error;
    fn from_str(name: &str) -> Result<Operation> {
        Operation::ALL
            .iter()
            .copied()
            .find(|op| op.as_str() == name)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "unknown operation ({}); the operations are {}",
                    crate::redact::Rejected(name),
                    Operation::ALL
                        .iter()
                        .map(|op| op.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }
}

/// The result of [`Client::call_json`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonReply {
    /// The result as JSON text.
    pub json: Vec<u8>,
    /// The `Request-ID` of the exchange, when there was one.
    pub request_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GoldPlanStatusArgs {
    sub_mchid: String,
    operation_type: String,
    #[serde(default)]
    operation_pay_scene: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomPageArgs {
    sub_mchid: String,
    operation_type: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FilterArgs {
    sub_mchid: String,
    #[serde(default)]
    advertising_industry_filters: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubMchidArgs {
    sub_mchid: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadArgs {
    filename: String,
    content_base64: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestArgs {
    method: String,
    path: String,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    body_text: Option<String>,
    #[serde(default)]
    idempotent: Option<bool>,
    #[serde(default)]
    wechatpay_serial: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

fn args<T: DeserializeOwned>(operation: Operation, json: &[u8]) -> Result<T> {
    // An absent argument object means "no arguments".
    let json: &[u8] = if json.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        json
    };
    serde_json::from_slice(json).map_err(|e| {
        Error::InvalidInput(format!(
            "invalid arguments for {operation}: {}",
            crate::redact::redact_quoted(&e.to_string())
        ))
    })
}

fn industries(list: Option<Vec<String>>) -> Result<Option<Vec<IndustryType>>> {
    list.map(|l| {
        l.iter()
            .map(|s| IndustryType::parse_known("advertising_industry_filters", s))
            .collect()
    })
    .transpose()
}

fn encode(value: &Value, request_id: Option<String>) -> Result<JsonReply> {
    let json = serde_json::to_vec(value)
        .map_err(|e| Error::Decode(format!("cannot encode the result: {e}")))?;
    Ok(JsonReply { json, request_id })
}

fn to_value<T: serde::Serialize>(data: &T) -> Result<Value> {
    serde_json::to_value(data).map_err(|e| Error::Decode(format!("cannot encode the result: {e}")))
}

/// The JSON result of a generic request.
fn response_value(response: &Response) -> Value {
    let body = if response.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&response.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&response.body).into_owned()))
    };
    let headers: serde_json::Map<String, Value> = response
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), Value::String(v.clone())))
        .collect();
    json!({
        "status": response.status,
        "request_id": response.request_id,
        "serial": response.serial,
        "headers": headers,
        "body": body,
    })
}

impl Client {
    /// Runs `operation` with its arguments given as a JSON object (see [`Operation`] for each
    /// one's arguments and result) and returns the result as JSON. Unknown argument names and
    /// enum values outside the documented sets are `invalid_input` errors.
    pub async fn call_json(&self, operation: Operation, arguments: &[u8]) -> Result<JsonReply> {
        match operation {
            Operation::ChangeGoldPlanStatus => {
                let a: GoldPlanStatusArgs = args(operation, arguments)?;
                let op = OperationType::parse_known("operation_type", &a.operation_type)?;
                let scene = a
                    .operation_pay_scene
                    .map(|s| OperationPayScene::parse_known("operation_pay_scene", &s))
                    .transpose()?;
                let r = self
                    .change_gold_plan_status(&a.sub_mchid, op, scene)
                    .await?;
                encode(&to_value(&r.data)?, r.request_id)
            }
            Operation::ChangeCustomPageStatus => {
                let a: CustomPageArgs = args(operation, arguments)?;
                let op = OperationType::parse_known("operation_type", &a.operation_type)?;
                let r = self.change_custom_page_status(&a.sub_mchid, op).await?;
                encode(&to_value(&r.data)?, r.request_id)
            }
            Operation::SetAdvertisingIndustryFilter => {
                let a: FilterArgs = args(operation, arguments)?;
                let filters = industries(a.advertising_industry_filters)?.unwrap_or_default();
                let r = self
                    .set_advertising_industry_filter(&a.sub_mchid, filters)
                    .await?;
                encode(&Value::Null, r.request_id)
            }
            Operation::OpenAdvertisingShow => {
                let a: FilterArgs = args(operation, arguments)?;
                let filters = industries(a.advertising_industry_filters)?;
                let r = self.open_advertising_show(&a.sub_mchid, filters).await?;
                encode(&Value::Null, r.request_id)
            }
            Operation::CloseAdvertisingShow => {
                let a: SubMchidArgs = args(operation, arguments)?;
                let r = self.close_advertising_show(&a.sub_mchid).await?;
                encode(&Value::Null, r.request_id)
            }
            Operation::UploadImage => {
                let a: UploadArgs = args(operation, arguments)?;
                let bytes = STANDARD.decode(a.content_base64.as_bytes()).map_err(|_| {
                    Error::InvalidInput("content_base64 is not valid base64".into())
                })?;
                let r = self.upload_image(&a.filename, &bytes).await?;
                encode(&to_value(&r.data)?, r.request_id)
            }
            Operation::Request => {
                let a: RequestArgs = args(operation, arguments)?;
                let body = match (a.body, a.body_text) {
                    (Some(_), Some(_)) => {
                        return Err(Error::InvalidInput(
                            "give either body (JSON) or body_text (sent as is), not both".into(),
                        ));
                    }
                    (Some(v), None) => Some(serde_json::to_vec(&v).map_err(|e| {
                        Error::InvalidInput(format!("cannot serialise the body: {e}"))
                    })?),
                    (None, Some(text)) => Some(text.into_bytes()),
                    (None, None) => None,
                };
                let options = RequestOptions {
                    idempotent: a.idempotent,
                    wechatpay_serial: a.wechatpay_serial,
                };
                let response = self
                    .request_with(&a.method, &a.path, body.as_deref(), &options)
                    .await?;
                encode(&response_value(&response), response.request_id.clone())
            }
            Operation::DownloadCertificates => {
                let _: NoArgs = args(operation, arguments)?;
                self.refresh_certificates().await?;
                let certificates: Vec<Value> = self
                    .platform_certificates()
                    .iter()
                    .map(|c| {
                        json!({
                            "serial_no": c.serial_hex(),
                            "not_before": format_unix_rfc3339(c.not_before()),
                            "not_after": format_unix_rfc3339(c.not_after()),
                            "pem": c.pem(),
                        })
                    })
                    .collect();
                encode(&json!({ "certificates": certificates }), None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_operations() {
        for &op in Operation::ALL {
            assert_eq!(op.as_str().parse::<Operation>().unwrap(), op);
        }
        let e = "change_goldplan_status".parse::<Operation>().unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("change_gold_plan_status"), "{e}");
    }

    #[test]
    fn arguments_are_checked_strictly() {
        let e = args::<SubMchidArgs>(
            Operation::CloseAdvertisingShow,
            br#"{"sub_mchid":"1","x":1}"#,
        )
        .err()
        .unwrap();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("unknown field"), "{e}");
        let _: NoArgs = args(Operation::DownloadCertificates, b"").unwrap();
        let e = industries(Some(vec!["SOFTWARE".into(), "SPACE".into()])).unwrap_err();
        assert!(
            e.to_string().contains("advertising_industry_filters"),
            "{e}"
        );
    }
}
