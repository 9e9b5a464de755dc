//! The operation registry and the JSON surface every binding and the CLI cross: an
//! [`Operation`] named by its stable snake_case name, its arguments as JSON, its result as
//! JSON, and its [`OperationDescriptor`]. Each operation is declared once, in `registry!`
//! below; its request type (an [`ApiCall`]) is its argument type. One dispatcher here means no
//! binding writes its own; errors cross as [`crate::ErrorReport`]s.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Client, RequestOptions, Response};
use crate::error::{Error, Result};
use crate::gold_plan::{
    ChangeCustomPageStatusRequest, ChangeGoldPlanStatusRequest, CloseAdvertisingShowRequest,
    OpenAdvertisingShowRequest, SetAdvertisingIndustryFilterRequest,
};
use crate::media::MediaUploadResponse;
use crate::service::{ApiCall, OperationDescriptor, describe, parameters_of, schema_of};
use crate::x509::CertificateInfo;

/// Declares the registry: one line per operation gives the [`Operation`] variant, its name,
/// its descriptor and its arm of [`Client::call_json`].
///
/// `remote` operations are [`ApiCall`]s: the request type is the argument type, the reply type
/// the result. `client` operations are served by the client itself through a function of this
/// module taking their argument type.
macro_rules! registry {
    (
        remote { $($(#[$rdoc:meta])* $remote:ident => $request:ty,)+ }
        client { $($(#[$cdoc:meta])* $client:ident => $name:literal, $args:ty, $reply:ty, $run:ident, $idem:literal, $doc:literal,)+ }
    ) => {
        /// Every call the JSON surface offers, declared once in its registry. Names are the
        /// same in every language (camelCase in JavaScript and Java);
        /// [`Operation::descriptor`] describes each one as data.
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $($(#[$rdoc])* $remote,)+
            $($(#[$cdoc])* $client,)+
        }

        impl Operation {
            /// Every operation, in the registry's order.
            pub const ALL: &'static [Operation] = &[$(Operation::$remote,)+ $(Operation::$client,)+];

            /// The stable snake_case name, e.g. `"change_gold_plan_status"`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Operation::$remote => <$request as ApiCall>::NAME,)+
                    $(Operation::$client => $name,)+
                }
            }

            /// The HTTP method and path template of a remote call; `None` for an operation
            /// the client serves itself. Cheap (no schema is built): what routers match on.
            pub fn endpoint(self) -> Option<crate::service::Endpoint> {
                match self {
                    $(Operation::$remote => Some(<$request as ApiCall>::ENDPOINT),)+
                    $(Operation::$client => None,)+
                }
            }

            /// The operation as data: name, kind, endpoint, whether it is repeated after an
            /// ambiguous failure, and the JSON Schemas of its arguments and result.
            pub fn descriptor(self) -> OperationDescriptor {
                match self {
                    $(Operation::$remote => describe::<$request>(),)+
                    $(Operation::$client => OperationDescriptor {
                        name: $name,
                        kind: "client",
                        doc: $doc,
                        method: None,
                        path: None,
                        idempotent: $idem,
                        parameters: parameters_of(&schema_of::<$args>()),
                        arguments: schema_of::<$args>(),
                        reply: schema_of::<$reply>(),
                    },)+
                }
            }
        }

        impl Client {
            /// Runs `operation` with its arguments given as a JSON object (see
            /// [`Operation::descriptor`] for each one's arguments and result) and returns the
            /// result as JSON. Unknown argument names and enum values outside the documented
            /// sets are `invalid_input` errors.
            pub async fn call_json(
                &self,
                operation: Operation,
                arguments: &[u8],
            ) -> Result<JsonReply> {
                match operation {
                    $(Operation::$remote => {
                        let request: $request = args(operation, arguments)?;
                        let reply = self.call(&request).await?;
                        encode(&reply.data, reply.request_id)
                    })+
                    $(Operation::$client => {
                        let arguments: $args = args(operation, arguments)?;
                        let (result, request_id): ($reply, Option<String>) =
                            $run(self, arguments).await?;
                        encode(&result, request_id)
                    })+
                }
            }
        }
    };
}

registry! {
    remote {
        /// 点金计划管理. Result `{sub_mchid}`.
        ChangeGoldPlanStatus => ChangeGoldPlanStatusRequest,
        /// 商家小票管理. Result `{sub_mchid, operation_type?}`.
        ChangeCustomPageStatus => ChangeCustomPageStatusRequest,
        /// 同业过滤标签管理. Result `null`.
        SetAdvertisingIndustryFilter => SetAdvertisingIndustryFilterRequest,
        /// 开通广告展示. Result `null`.
        OpenAdvertisingShow => OpenAdvertisingShowRequest,
        /// 关闭广告展示. Result `null`.
        CloseAdvertisingShow => CloseAdvertisingShowRequest,
    }
    client {
        /// Image upload. Arguments `{filename, content_base64}`; result `{media_id}`.
        UploadImage => "upload_image", UploadArgs, MediaUploadResponse, upload_image, true,
            "Uploads an image (JPG, PNG or BMP) for use in other calls; the answer carries its media_id.",
        /// Any signed APIv3 call. Arguments `{method, path, body?, body_text?, idempotent?,
        /// wechatpay_serial?}` (`body` is any JSON value, sent compactly; `body_text` is sent
        /// byte for byte); result `{status, request_id, serial, headers, body}` where `body`
        /// is the decoded JSON, the text when it is not JSON, or `null` when empty.
        Request => "request", RequestArgs, RequestResult, request, false,
            "Any signed APIv3 call: the body is signed and sent byte for byte, the answer verified.",
        /// Downloads the platform certificates now. Arguments `{}`; result `{certificates:
        /// [{serial_no, not_before, not_after, not_before_unix, not_after_unix, pem}]}`.
        DownloadCertificates => "download_certificates", NoArgs, CertificateList, download_certificates, true,
            "Downloads, verifies and trusts the platform certificates now; returns those trusted.",
    }
}

/// Every operation's descriptor as one JSON document (an array in registry order): what the
/// bindings' generators read.
pub fn operations_json() -> Result<String> {
    let all: Vec<OperationDescriptor> = Operation::ALL.iter().map(|op| op.descriptor()).collect();
    serde_json::to_string_pretty(&all)
        .map_err(|e| Error::Internal(format!("cannot encode the operations: {e}")))
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

/// Arguments of `upload_image`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct UploadArgs {
    /// The file name (its extension gives the content type).
    filename: String,
    /// The image, base64.
    content_base64: String,
}

/// Arguments of `request`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RequestArgs {
    /// HTTP method.
    method: String,
    /// Path and query, percent-encoded.
    path: String,
    /// A JSON body, sent compactly.
    #[serde(default)]
    body: Option<Value>,
    /// A body sent byte for byte.
    #[serde(default)]
    body_text: Option<String>,
    /// Whether it may be sent again after an ambiguous failure (default: by method).
    #[serde(default)]
    idempotent: Option<bool>,
    /// `Wechatpay-Serial` to send (for encrypted fields).
    #[serde(default)]
    wechatpay_serial: Option<String>,
}

/// No arguments.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

/// The result of `request`.
#[derive(Serialize, JsonSchema)]
struct RequestResult {
    /// HTTP status.
    status: u16,
    /// `Request-ID`.
    request_id: Option<String>,
    /// The serial or key id whose signature was verified.
    serial: String,
    /// Headers, names in lower case.
    headers: std::collections::BTreeMap<String, String>,
    /// The decoded JSON, the text when it is not JSON, or `null` when empty.
    body: Value,
}

/// The result of `download_certificates`.
#[derive(Serialize, JsonSchema)]
struct CertificateList {
    /// Every certificate trusted after the download.
    certificates: Vec<CertificateInfo>,
}

async fn upload_image(
    client: &Client,
    a: UploadArgs,
) -> Result<(MediaUploadResponse, Option<String>)> {
    let bytes = STANDARD
        .decode(a.content_base64.as_bytes())
        .map_err(|_| Error::InvalidInput("content_base64 is not valid base64".into()))?;
    let reply = client.upload_image(&a.filename, &bytes).await?;
    Ok((reply.data, reply.request_id))
}

async fn request(client: &Client, a: RequestArgs) -> Result<(RequestResult, Option<String>)> {
    let body = match (a.body, a.body_text) {
        (Some(_), Some(_)) => {
            return Err(Error::InvalidInput(
                "give either body (JSON) or body_text (sent as is), not both".into(),
            ));
        }
        (Some(v), None) => Some(
            serde_json::to_vec(&v)
                .map_err(|e| Error::InvalidInput(format!("cannot serialise the body: {e}")))?,
        ),
        (None, Some(text)) => Some(text.into_bytes()),
        (None, None) => None,
    };
    let options = RequestOptions {
        idempotent: a.idempotent,
        wechatpay_serial: a.wechatpay_serial,
    };
    let response = client
        .request_with(&a.method, &a.path, body.as_deref(), &options)
        .await?;
    let request_id = response.request_id.clone();
    Ok((request_result(response), request_id))
}

async fn download_certificates(
    client: &Client,
    _: NoArgs,
) -> Result<(CertificateList, Option<String>)> {
    client.refresh_certificates().await?;
    let certificates = client
        .platform_certificates()
        .iter()
        .map(|c| c.info())
        .collect();
    Ok((CertificateList { certificates }, None))
}

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

fn encode<T: Serialize>(value: &T, request_id: Option<String>) -> Result<JsonReply> {
    let json = serde_json::to_vec(value)
        .map_err(|e| Error::Decode(format!("cannot encode the result: {e}")))?;
    Ok(JsonReply { json, request_id })
}

/// The JSON result of a generic request.
fn request_result(response: Response) -> RequestResult {
    let body = if response.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&response.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&response.body).into_owned()))
    };
    RequestResult {
        status: response.status,
        request_id: response.request_id,
        serial: response.serial,
        headers: response
            .headers
            .into_iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v))
            .collect(),
        body,
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
        let e = args::<CloseAdvertisingShowRequest>(
            Operation::CloseAdvertisingShow,
            br#"{"sub_mchid":"1","x":1}"#,
        )
        .err()
        .unwrap();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("unknown field"), "{e}");
        let _: NoArgs = args(Operation::DownloadCertificates, b"").unwrap();
        // Documented values in any case are taken; others are refused by validation.
        let a: SetAdvertisingIndustryFilterRequest = args(
            Operation::SetAdvertisingIndustryFilter,
            br#"{"sub_mchid":"1","advertising_industry_filters":["software","SPACE"]}"#,
        )
        .unwrap();
        assert_eq!(
            a.advertising_industry_filters[0],
            crate::gold_plan::IndustryType::Software
        );
        let e = a.validate().unwrap_err();
        assert!(
            e.to_string().contains("advertising_industry_filters"),
            "{e}"
        );
    }

    #[test]
    fn every_operation_is_described() {
        let all: Value = serde_json::from_str(&operations_json().unwrap()).unwrap();
        let all = all.as_array().unwrap();
        assert_eq!(all.len(), Operation::ALL.len());
        for (descriptor, op) in all.iter().zip(Operation::ALL) {
            assert_eq!(descriptor["name"], op.as_str());
            assert_eq!(descriptor["arguments"]["type"], "object", "{descriptor}");
        }
        let close = Operation::CloseAdvertisingShow.descriptor();
        assert_eq!(close.method, Some("POST"));
        assert_eq!(
            close.path,
            Some("/v3/goldplan/merchants/close-advertising-show")
        );
        assert!(close.idempotent);
        assert_eq!(close.reply["type"], "null");
        let status = Operation::ChangeGoldPlanStatus.descriptor();
        assert_eq!(
            status.arguments["properties"]["operation_type"]["enum"],
            serde_json::json!(["OPEN", "CLOSE"])
        );
        assert_eq!(
            status.arguments["required"],
            serde_json::json!(["sub_mchid", "operation_type"])
        );
    }
}
