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
use crate::helpers;
use crate::media::MediaUploadResponse;
use crate::payments::{
    CloseOrderRequest, JsapiPrepayRequest, QueryByOutTradeNoRequest, QueryByTransactionIdRequest,
    RequestPayment,
};
use crate::service::{ApiCall, OperationDescriptor, describe, parameters_of, schema_of};
use crate::x509::CertificateInfo;

/// Declares the registry: one line per operation gives the [`Operation`] variant, its name,
/// its descriptor and how it runs.
///
/// - `remote` operations are [`ApiCall`]s: the request type is the argument type, the reply
///   type the result; [`Client::call_json`] signs and sends them.
/// - `client` operations are served by the client itself (uploads, the generic request, a
///   certificate download) through a function of this module taking their argument type.
/// - `local` operations are the protocol helpers that need no client (receipt check codes,
///   signature messages, certificate validation): functions of [`crate::helpers`], run by
///   [`call_local_json`].
/// - `methods` are operations of an object a binding holds (the client, a signer, a
///   verifier) that take keys or callbacks rather than JSON: listed so that every language
///   offers them under the same name, run by the object's own method.
macro_rules! registry {
    (
        remote { $($(#[$rdoc:meta])* $remote:ident => $request:ty,)+ }
        client { $($(#[$cdoc:meta])* $client:ident => $name:literal, $service:literal, $args:ty, $reply:ty, $run:ident, $idem:literal, $doc:literal,)+ }
        local { $($(#[$ldoc:meta])* $local:ident => $lname:literal, $largs:ty, $lreply:ty, $lrun:path, $ldocs:literal,)+ }
        methods { $($(#[$mdoc:meta])* $method:ident => $mname:literal, $receiver:literal, $mdocs:literal,)+ }
    ) => {
        /// Every operation of the JSON surface and every helper a binding offers, declared once
        /// in its registry. Names are the same in every language (camelCase in JavaScript, PHP
        /// and Java); [`Operation::descriptor`] describes each one as data.
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $($(#[$rdoc])* $remote,)+
            $($(#[$cdoc])* $client,)+
            $($(#[$ldoc])* $local,)+
            $($(#[$mdoc])* $method,)+
        }

        impl Operation {
            /// Every operation, in the registry's order.
            pub const ALL: &'static [Operation] = &[
                $(Operation::$remote,)+
                $(Operation::$client,)+
                $(Operation::$local,)+
                $(Operation::$method,)+
            ];

            /// The stable snake_case name, e.g. `"change_gold_plan_status"`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Operation::$remote => <$request as ApiCall>::NAME,)+
                    $(Operation::$client => $name,)+
                    $(Operation::$local => $lname,)+
                    $(Operation::$method => $mname,)+
                }
            }

            /// The HTTP method and path template of a remote call; `None` for an operation
            /// the client serves itself or a helper. Cheap (no schema is built): what routers
            /// match on.
            pub fn endpoint(self) -> Option<crate::service::Endpoint> {
                match self {
                    $(Operation::$remote => Some(<$request as ApiCall>::ENDPOINT),)+
                    _ => None,
                }
            }

            /// The service of a remote call or client operation (`gold_plan`, `payments`,
            /// `media`, `core`); `None` for helpers and methods.
            pub fn service(self) -> Option<&'static str> {
                match self {
                    $(Operation::$remote => Some(<$request as ApiCall>::SERVICE),)+
                    $(Operation::$client => Some($service),)+
                    _ => None,
                }
            }

            /// Where a binding offers it: `client` (a method of the client), `module` (a
            /// function), `signer` or `verifier` (a method of that object).
            pub fn receiver(self) -> &'static str {
                match self {
                    $(Operation::$method => $receiver,)+
                    $(Operation::$local => "module",)+
                    _ => "client",
                }
            }

            /// The operation as data: name, kind, endpoint, whether it is repeated after an
            /// ambiguous failure, and the JSON Schemas of its arguments and result.
            pub fn descriptor(self) -> OperationDescriptor {
                match self {
                    $(Operation::$remote => describe::<$request>(),)+
                    $(Operation::$client => OperationDescriptor {
                        name: $name,
                        service: Some($service),
                        kind: "client",
                        receiver: "client",
                        doc: $doc,
                        method: None,
                        path: None,
                        idempotent: $idem,
                        parameters: parameters_of(&schema_of::<$args>()),
                        arguments: schema_of::<$args>(),
                        reply: schema_of::<$reply>(),
                    },)+
                    $(Operation::$local => OperationDescriptor {
                        name: $lname,
                        service: None,
                        kind: "local",
                        receiver: "module",
                        doc: $ldocs,
                        method: None,
                        path: None,
                        idempotent: true,
                        parameters: parameters_of(&schema_of::<$largs>()),
                        arguments: schema_of::<$largs>(),
                        reply: schema_of::<$lreply>(),
                    },)+
                    $(Operation::$method => OperationDescriptor {
                        name: $mname,
                        service: None,
                        kind: "method",
                        receiver: $receiver,
                        doc: $mdocs,
                        method: None,
                        path: None,
                        idempotent: false,
                        parameters: Vec::new(),
                        arguments: Value::Null,
                        reply: Value::Null,
                    },)+
                }
            }
        }

        /// Runs a `local` operation (a helper that needs no client) with its arguments as a
        /// JSON object, and returns its result as JSON. Any other operation is an
        /// `invalid_input` error that says where it runs.
        pub fn call_local_json(operation: Operation, arguments: &[u8]) -> Result<Vec<u8>> {
            match operation {
                $(Operation::$local => {
                    let arguments: $largs = args(operation, arguments)?;
                    let result: $lreply = $lrun(arguments)?;
                    encode(&result, None).map(|reply| reply.json)
                })+
                other => Err(Error::InvalidInput(format!(
                    "{other} is not a helper: it is a method of the {}",
                    other.receiver()
                ))),
            }
        }

        impl Client {
            /// Runs `operation` with its arguments given as a JSON object (see
            /// [`Operation::descriptor`] for each one's arguments and result) and returns the
            /// result as JSON. Unknown argument names and enum values outside the documented
            /// sets are `invalid_input` errors; so is a `method` operation (it runs on its
            /// object).
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
                    other => call_local_json(other, arguments)
                        .map(|json| JsonReply { json, request_id: None }),
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
        /// JSAPI下单 (partner). Result `{prepay_id}`.
        JsapiPrepay => JsapiPrepayRequest,
        /// 商户订单号查询订单. Result: the transaction.
        QueryOrderByOutTradeNo => QueryByOutTradeNoRequest,
        /// 微信支付订单号查询订单. Result: the transaction.
        QueryOrderByTransactionId => QueryByTransactionIdRequest,
        /// 关闭订单. Result `null`.
        CloseOrder => CloseOrderRequest,
    }
    client {
        /// Image upload. Arguments `{filename, content_base64}`; result `{media_id}`.
        UploadImage => "upload_image", "media", UploadArgs, MediaUploadResponse, upload_image, true,
            "Uploads an image (JPG, PNG or BMP) for use in other calls; the answer carries its media_id.",
        /// Any signed APIv3 call. Arguments `{method, path, body?, body_text?, idempotent?,
        /// wechatpay_serial?}` (`body` is any JSON value, sent compactly; `body_text` is sent
        /// byte for byte); result `{status, request_id, serial, headers, body}` where `body`
        /// is the decoded JSON, the text when it is not JSON, or `null` when empty.
        Request => "request", "core", RequestArgs, RequestResult, request, false,
            "Any signed APIv3 call: the body is signed and sent byte for byte, the answer verified.",
        /// Downloads the platform certificates now. Arguments `{}`; result `{certificates:
        /// [{serial_no, not_before, not_after, not_before_unix, not_after_unix, pem}]}`.
        RefreshCertificates => "refresh_certificates", "core", NoArgs, CertificateList, refresh_certificates, true,
            "Downloads, verifies and trusts the platform certificates now; returns those trusted.",
        /// The front-end pay-sign of a prepay. Arguments `{app_id, prepay_id, time_stamp?,
        /// nonce_str?}`; result `{appId, timeStamp, nonceStr, package, signType, paySign}`.
        RequestPayment => "request_payment", "payments", RequestPaymentArgs, RequestPayment, request_payment, true,
            "JSAPI调起支付: the six values a page passes to getBrandWCPayRequest, signed with the merchant key.",
        /// The `transaction_id` of a receipt's order. Arguments `{sub_mch_id, out_trade_no,
        /// timeout_ms?}`; result `{transaction_id, trade_state}`.
        ResolveTransactionId => "resolve_transaction_id", "payments", ResolveArgs, crate::payments::ResolvedTransaction, resolve_transaction_id, true,
            "The transaction_id a receipt's check_code needs, by one order query within a deadline; null when the order is not paid or unknown.",
    }
    local {
        /// The string whose MD5 is a receipt's `check_code`.
        CheckCodeInput => "check_code_input", helpers::CheckCodeArgs, String, helpers::check_code_input,
            "The string whose MD5 is a merchant receipt's check_code (spec §9.3).",
        /// The `check_code` WeChat computes for an order.
        ExpectedCheckCode => "expected_check_code", helpers::CheckCodeArgs, String, helpers::expected_check_code,
            "The check_code WeChat appends to a merchant receipt link for an order: lower-case hex MD5.",
        /// Whether a received `check_code` is right.
        VerifyCheckCode => "verify_check_code", helpers::VerifyCheckCodeArgs, bool, helpers::verify_check_code,
            "Whether a received check_code is the one WeChat computed for the order (constant time, any case).",
        /// The three receipt parameters of a URL.
        ParseReceiptQuery => "parse_receipt_query", helpers::ReceiptQueryArgs, crate::receipt::ReceiptParams, helpers::parse_receipt_query,
            "The sub_mch_id, out_trade_no and check_code of a receipt page URL, each raw and decoded.",
        /// The canonical URL of a request target.
        CanonicalUrl => "canonical_url", helpers::CanonicalUrlArgs, String, helpers::canonical_url,
            "The request target as signed and sent; refuses one an HTTP library would change.",
        /// A request signature's message.
        MessageToSign => "message_to_sign", helpers::MessageToSignArgs, String, helpers::message_to_sign,
            "The five-line message a request signature covers: METHOD, URL, TIMESTAMP, NONCE, BODY.",
        /// A response or callback signature's message.
        MessageToVerify => "message_to_verify", helpers::MessageToVerifyArgs, String, helpers::message_to_verify,
            "The three-line message a response or callback signature covers: TIMESTAMP, NONCE, BODY.",
        /// Decrypts and validates a certificate download.
        DecryptCertificates => "decrypt_certificates", helpers::DecryptCertificatesArgs, crate::certificates::DownloadedCertificates, helpers::decrypt_certificates,
            "Decrypts and validates a /v3/certificates response (spec §3.3) and verifies its signature.",
    }
    methods {
        /// Verifies and decrypts a callback (client and verifier).
        ParseNotification => "parse_notification", "client", "Verifies and decrypts a callback from its raw headers and body; a replay guard refuses ids already processed.",
        /// Encrypts a sensitive field for WeChat Pay.
        EncryptSensitive => "encrypt_sensitive", "client", "Encrypts a sensitive field with the platform key; returns the ciphertext and the Wechatpay-Serial to send.",
        /// Decrypts a sensitive field of a response.
        DecryptSensitive => "decrypt_sensitive", "client", "Decrypts a sensitive field of a response with the merchant private key.",
        /// Checks the gateway.
        Probe => "probe", "client", "Checks reachability, signatures, clock skew and key mode against the gateway; a failed check is data.",
        /// Signs a request.
        SignRequest => "sign_request", "signer", "Signs a request: the Authorization header and the values that went into it.",
        /// Verifies a signed response.
        VerifyResponse => "verify", "verifier", "Verifies a signed response or callback from its headers and raw body.",
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

impl Operation {
    /// The former name of [`Operation::RefreshCertificates`].
    #[deprecated(note = "renamed RefreshCertificates, the client method's name in every language")]
    #[allow(non_upper_case_globals)]
    pub const DownloadCertificates: Operation = Operation::RefreshCertificates;
}

/// Names of earlier releases, still accepted by [`Operation::from_str`]: old name → operation.
const FORMER_NAMES: &[(&str, Operation)] =
    &[("download_certificates", Operation::RefreshCertificates)];

impl FromStr for Operation {
    type Err = Error;
    fn from_str(name: &str) -> Result<Operation> {
        if let Some((_, op)) = FORMER_NAMES.iter().find(|(old, _)| *old == name) {
            return Ok(*op);
        }
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

/// Arguments of `request_payment`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RequestPaymentArgs {
    /// The AppID the payer is in: `sub_appid` when the prepay named `sub_openid`, else
    /// `sp_appid` (PAYMENTS.md §2.3).
    app_id: String,
    /// The prepay's `prepay_id`.
    prepay_id: String,
    /// Unix seconds to sign at (default: now); fixed only to reproduce a vector.
    #[serde(default)]
    time_stamp: Option<i64>,
    /// The nonce to sign with (default: 32 fresh random characters); fixed only to reproduce a
    /// vector.
    #[serde(default)]
    nonce_str: Option<String>,
}

/// Arguments of `resolve_transaction_id`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ResolveArgs {
    /// The receipt's `sub_mch_id`.
    sub_mch_id: String,
    /// The receipt's `out_trade_no`, decoded.
    out_trade_no: String,
    /// How long the query may take, in milliseconds (default 1000, PAYMENTS.md §6.1).
    #[serde(default)]
    timeout_ms: Option<u64>,
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

/// The result of `refresh_certificates`.
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

async fn refresh_certificates(
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

async fn request_payment(
    client: &Client,
    a: RequestPaymentArgs,
) -> Result<(RequestPayment, Option<String>)> {
    let payment = match (a.time_stamp, a.nonce_str) {
        (None, None) => client.request_payment(&a.app_id, &a.prepay_id).await?,
        (time_stamp, nonce_str) => {
            client
                .request_payment_at(&a.app_id, &a.prepay_id, time_stamp, nonce_str.as_deref())
                .await?
        }
    };
    Ok((payment, None))
}

async fn resolve_transaction_id(
    client: &Client,
    a: ResolveArgs,
) -> Result<(crate::payments::ResolvedTransaction, Option<String>)> {
    let timeout = std::time::Duration::from_millis(
        a.timeout_ms
            .unwrap_or(crate::payments::RESOLVE_TIMEOUT_MS)
            .clamp(1, 60_000),
    );
    let resolved = client
        .resolve_transaction_id(&a.sub_mch_id, &a.out_trade_no, timeout)
        .await?;
    Ok((resolved, None))
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
        assert_eq!(
            "download_certificates".parse::<Operation>().unwrap(),
            Operation::RefreshCertificates
        );
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
        let _: NoArgs = args(Operation::RefreshCertificates, b"").unwrap();
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
            assert_eq!(descriptor["receiver"], op.receiver());
            if descriptor["kind"] != "method" {
                assert_eq!(descriptor["arguments"]["type"], "object", "{descriptor}");
            }
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

    #[test]
    fn helpers_run_from_json_and_methods_say_where_they_run() {
        let code = call_local_json(
            Operation::ExpectedCheckCode,
            br#"{"configured_link":"https://r.example/p","sub_mch_id":"1900000109","out_trade_no":"o%201","transaction_id":"42"}"#,
        )
        .unwrap();
        let expected =
            crate::receipt::expected_check_code("https://r.example/p", "1900000109", "o%201", "42");
        assert_eq!(code, serde_json::to_vec(&expected).unwrap());
        let valid = call_local_json(
            Operation::VerifyCheckCode,
            format!(
                r#"{{"configured_link":"https://r.example/p","sub_mch_id":"1900000109","out_trade_no":"o%201","transaction_id":"42","check_code":"{}"}}"#,
                expected.to_uppercase()
            )
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(valid, b"true");
        let parsed = call_local_json(
            Operation::ParseReceiptQuery,
            br#"{"url":"https://r.example/p?sub_mch_id=1&out_trade_no=a%20b&check_code=c"}"#,
        )
        .unwrap();
        let parsed: Value = serde_json::from_slice(&parsed).unwrap();
        assert_eq!(parsed["out_trade_no"]["raw"], "a%20b");
        assert_eq!(parsed["out_trade_no"]["decoded"], "a b");
        let message = call_local_json(
            Operation::MessageToVerify,
            br#"{"timestamp":"1","nonce":"n","body":"{}"}"#,
        )
        .unwrap();
        assert_eq!(message, br#""1\nn\n{}\n""#);
        let e = call_local_json(Operation::SignRequest, b"{}").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("signer"), "{e}");
        let e = call_local_json(Operation::CloseAdvertisingShow, b"{}").unwrap_err();
        assert!(e.to_string().contains("client"), "{e}");
    }

    #[test]
    fn a_key_given_to_a_helper_never_comes_back_in_its_error() {
        let key = "0123456789abcdefghijklmnopqrstu";
        let e = call_local_json(
            Operation::DecryptCertificates,
            format!(r#"{{"headers":[],"body":"{{}}","apiv3_key":"{key}"}}"#).as_bytes(),
        )
        .unwrap_err();
        assert!(!e.to_string().contains(key), "{e}");
        let e = call_local_json(
            Operation::DecryptCertificates,
            format!(r#"{{"headers":[],"body":"{{}}","apiv3_key":["{key}"]}}"#).as_bytes(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(!e.to_string().contains(key), "{e}");
    }
}
