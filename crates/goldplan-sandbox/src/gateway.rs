//! The WeChat Pay side of the sandbox: routing of `/v3/…`, request authentication exactly as
//! spec §1 and §7 describe, fault injection, and the signing of every response (spec §2).

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use goldplan::certificates::encrypt_certificate_entry;
use goldplan::sign::{AUTH_SCHEME, Authorization, generate_nonce, message_to_sign, sign_base64};
use goldplan::verify::{PublicKeyVerifier, Verifier, message_to_verify};
use goldplan::x509::SerialNumber;

use crate::config::KeyMode;
use crate::gold_plan::GoldPlanOp;
use crate::model::{Fault, FaultKind, FaultTarget, RequestRecord};
use crate::server::ConnInfo;
use crate::state::Shared;

/// The value of `Wechatpay-Signature-Type` on every response.
const SIGNATURE_TYPE: &str = AUTH_SCHEME;

/// How far in the past a `stale_timestamp` fault puts the response timestamp.
const STALE_BY_SECS: i64 = 600;

/// A response before signing: status, body bytes and the WeChat error code, if any.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    pub(crate) code: Option<String>,
    /// The `Allow` header of a 405 answer: the one method the path takes.
    pub(crate) allow: Option<&'static str>,
}

impl Reply {
    pub(crate) fn json(status: u16, value: &serde_json::Value) -> Reply {
        Reply {
            status,
            body: value.to_string().into_bytes(),
            code: None,
            allow: None,
        }
    }

    pub(crate) fn no_content() -> Reply {
        Reply {
            status: 204,
            body: Vec::new(),
            code: None,
            allow: None,
        }
    }

    pub(crate) fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply {
            code: Some(code.to_owned()),
            ..Reply::json(
                status,
                &serde_json::json!({"code": code, "message": message}),
            )
        }
    }

    /// `400 INVALID_REQUEST` with `message`.
    pub(crate) fn invalid_request(message: &str) -> Reply {
        Reply::error(400, "INVALID_REQUEST", message)
    }

    /// `400 PARAM_ERROR` with a `detail` object (spec §7.2).
    pub(crate) fn param_error(
        field: &str,
        value: Option<&serde_json::Value>,
        issue: &str,
    ) -> Reply {
        let mut detail = serde_json::json!({"field": field, "issue": issue, "location": "body"});
        if let (Some(v), Some(obj)) = (value, detail.as_object_mut()) {
            obj.insert("value".into(), v.clone());
        }
        Reply {
            code: Some("PARAM_ERROR".into()),
            ..Reply::json(
                400,
                &serde_json::json!({"code": "PARAM_ERROR", "message": "参数错误", "detail": detail}),
            )
        }
    }

    fn sign_error(message: &str) -> Reply {
        Reply::error(401, "SIGN_ERROR", message)
    }

    /// The caller's `mchid` is not a registered merchant.
    pub(crate) fn unknown_merchant() -> Reply {
        Reply::sign_error("商户号不存在或未开通APIv3")
    }
}

/// What the response signer needs to know about the request.
#[derive(Debug, Default)]
pub(crate) struct Ctx {
    pub(crate) mode: Option<KeyMode>,
    pub(crate) requested_serial: Option<String>,
    pub(crate) mchid: Option<String>,
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) mchid: String,
    pub(crate) mode: KeyMode,
}

enum Route {
    Certificates,
    GoldPlan(GoldPlanOp),
    MediaUpload,
}

const MEDIA_UPLOAD_PATH: &str = "/v3/merchant/media/upload";
const CERTIFICATES_PATH: &str = "/v3/certificates";

fn route(path: &str) -> Option<(Route, &'static str)> {
    if path == CERTIFICATES_PATH {
        return Some((Route::Certificates, "GET"));
    }
    if path == MEDIA_UPLOAD_PATH {
        return Some((Route::MediaUpload, "POST"));
    }
    GoldPlanOp::ALL
        .iter()
        .find(|op| op.endpoint().path == path)
        .map(|op| (Route::GoldPlan(*op), op.endpoint().method))
}

fn header_text<'a>(headers: &'a HeaderMap, name: &header::HeaderName) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The fallback handler: every request that is not for the admin API.
pub(crate) async fn gateway(
    State(app): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnInfo>,
    req: Request,
) -> Response {
    let request_id = new_request_id();
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| path.clone(), |p| p.as_str().to_owned());
    let mut ctx = Ctx {
        requested_serial: header_text(
            &parts.headers,
            &header::HeaderName::from_static("wechatpay-serial"),
        )
        .map(str::to_owned),
        ..Ctx::default()
    };
    crate::certs::housekeeping(&app).await;
    let (fault, body_limit) = {
        let mut st = app.lock();
        let fault = st.take_fault(FaultTarget::Api, &method, &path);
        (
            fault,
            st.settings.max_upload_bytes.saturating_add(64 * 1024),
        )
    };
    let fault_kind = fault.as_ref().map(|f| f.kind);

    let early = match fault_kind {
        Some(FaultKind::SystemError) => Some(Reply::error(500, "SYSTEM_ERROR", "系统错误")),
        Some(FaultKind::TooManyRequests) => {
            Some(Reply::error(429, "RATELIMIT_EXCEEDED", "请求频率超过限制"))
        }
        Some(FaultKind::RateLimited) => Some(Reply::invalid_request("命中频率限制")),
        Some(FaultKind::ConnectionReset) => {
            conn.reset();
            log(
                &app,
                &request_id,
                &method,
                &path_and_query,
                None,
                0,
                None,
                fault_kind,
                None,
            );
            return Response::new(Body::empty());
        }
        Some(FaultKind::Delay) => {
            let ms = fault
                .as_ref()
                .and_then(|f| f.delay_ms)
                .unwrap_or(1000)
                .min(60_000);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            None
        }
        _ => None,
    };
    let reply = match early {
        Some(reply) => reply,
        None => match axum::body::to_bytes(body, body_limit).await {
            Err(_) => Reply::invalid_request("请求体过大或读取失败"),
            Ok(bytes) => {
                dispatch(
                    &app,
                    &parts.headers,
                    &method,
                    &path,
                    &path_and_query,
                    &bytes,
                    &mut ctx,
                )
                .await
            }
        },
    };
    finish(
        &app,
        reply,
        &ctx,
        fault.as_ref(),
        &request_id,
        &method,
        &path_and_query,
    )
}

async fn dispatch(
    app: &Arc<Shared>,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    path_and_query: &str,
    body: &Bytes,
    ctx: &mut Ctx,
) -> Reply {
    let Some((route, allowed)) = route(path) else {
        return Reply::error(404, "NOT_FOUND", "请求的资源不存在");
    };
    if method != allowed {
        // RFC 9110 §15.5.6: a 405 names the methods the resource does take.
        return Reply {
            allow: Some(allowed),
            ..Reply::error(405, "METHOD_NOT_ALLOWED", "请求方法不被允许")
        };
    }
    match route {
        Route::MediaUpload => crate::media::upload(app, headers, path_and_query, body, ctx).await,
        Route::Certificates => match authenticate(app, headers, method, path_and_query, b"", ctx) {
            Ok(caller) => certificates(app, &caller, path_and_query),
            Err(reply) => reply,
        },
        Route::GoldPlan(op) => {
            match authenticate(app, headers, method, path_and_query, body, ctx) {
                Ok(caller) => crate::gold_plan::handle(app, op, &caller, body),
                Err(reply) => reply,
            }
        }
    }
}

/// Spec §1 as the gateway enforces it: [`check_headers`], then the signature over
/// `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`.
pub(crate) fn authenticate(
    app: &Shared,
    headers: &HeaderMap,
    method: &str,
    canonical_url: &str,
    signed_body: &[u8],
    ctx: &mut Ctx,
) -> Result<Caller, Reply> {
    check_headers(app, headers, ctx)?.verify(app, method, canonical_url, signed_body)
}

/// A request whose headers passed [`check_headers`]; only its signature is left to check.
pub(crate) struct CheckedHeaders {
    auth: Authorization,
    signature: Vec<u8>,
    verifier: Arc<PublicKeyVerifier>,
    mode: KeyMode,
    /// Until when (protocol time) the request's timestamp passes the window check: how long
    /// its nonce must be remembered.
    replayable_until: i64,
}

impl CheckedHeaders {
    /// Verifies the signature over `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`, then refuses a
    /// nonce this merchant already used inside the timestamp window (a replayed request).
    pub(crate) fn verify(
        self,
        app: &Shared,
        method: &str,
        canonical_url: &str,
        signed_body: &[u8],
    ) -> Result<Caller, Reply> {
        let message = message_to_sign(
            method,
            canonical_url,
            self.auth.timestamp,
            &self.auth.nonce_str,
            signed_body,
        );
        self.verifier
            .verify(self.verifier.key_id(), &message, &self.signature)
            .map_err(|_| Reply::sign_error("签名错误，请检查后再试"))?;
        // Only a request whose signature verified uses up its nonce: forged ones cannot burn
        // the nonces of genuine requests.
        let fresh = {
            let mut st = app.lock();
            let now = app.protocol_now(&st.settings);
            st.nonces.first_use(
                &self.auth.mchid,
                &self.auth.nonce_str,
                self.replayable_until,
                now,
            )
        };
        if !fresh {
            return Err(Reply::sign_error("请求的随机串已使用，请勿重放请求"));
        }
        Ok(Caller {
            mchid: self.auth.mchid,
            mode: self.mode,
        })
    }
}

/// Everything of spec §1 that needs no body: `Accept`/`User-Agent`, the `Authorization`
/// header's syntax, merchant lookup, certificate serial and timestamp window. Runs before the
/// body is parsed, so that a media upload is refused for its headers before its multipart.
pub(crate) fn check_headers(
    app: &Shared,
    headers: &HeaderMap,
    ctx: &mut Ctx,
) -> Result<CheckedHeaders, Reply> {
    if header_text(headers, &header::ACCEPT).is_none()
        || header_text(headers, &header::USER_AGENT).is_none()
    {
        return Err(Reply::invalid_request("Http头缺少Accept或User-Agent"));
    }
    let Some(raw) = header_text(headers, &header::AUTHORIZATION) else {
        return Err(Reply::sign_error("Http头缺少Authorization"));
    };
    if !raw.starts_with(AUTH_SCHEME) {
        return Err(Reply::sign_error(
            "不支持的签名认证方式，请使用WECHATPAY2-SHA256-RSA2048",
        ));
    }
    let auth = Authorization::parse(raw).map_err(|_| {
        Reply::invalid_request(
            "Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》",
        )
    })?;
    let (serial_no, verifier, mode, max_skew, now) = {
        let st = app.lock();
        let Some(m) = st.merchants.get(&auth.mchid) else {
            return Err(Reply::unknown_merchant());
        };
        (
            m.serial_no.clone(),
            m.verifier.clone(),
            m.mode,
            st.settings.max_skew_secs,
            app.protocol_now(&st.settings),
        )
    };
    ctx.mode = Some(mode);
    ctx.mchid = Some(auth.mchid.clone());
    if !SerialNumber::parse(&serial_no).is_ok_and(|s| s.matches(&auth.serial_no)) {
        return Err(Reply::sign_error(
            "商户证书序列号有误。请使用签名私钥匹配的证书序列号",
        ));
    }
    if now.abs_diff(auth.timestamp) > max_skew.unsigned_abs() {
        return Err(Reply::sign_error(
            "请求的时间戳与服务器时间相差过大，请同步时间后重试",
        ));
    }
    let signature = STANDARD
        .decode(&auth.signature)
        .map_err(|_| Reply::sign_error("签名错误，signature不是合法的base64"))?;
    Ok(CheckedHeaders {
        replayable_until: auth.timestamp.saturating_add(max_skew),
        auth,
        signature,
        verifier,
        mode,
    })
}

/// `GET /v3/certificates`: every active platform certificate, encrypted under the caller's
/// APIv3 key; `404 RESOURCE_NOT_EXISTS` in public-key mode or when none is active.
fn certificates(app: &Shared, caller: &Caller, path_and_query: &str) -> Reply {
    let query = path_and_query.split_once('?').map(|(_, q)| q).unwrap_or("");
    let mut algorithm = "RSA";
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        if let Some(v) = pair.strip_prefix("algorithm_type=") {
            if !matches!(v, "RSA" | "SM2" | "ALL") {
                return Reply {
                    code: Some("PARAM_ERROR".into()),
                    ..Reply::json(
                        400,
                        &serde_json::json!({"code": "PARAM_ERROR", "message": "参数错误",
                            "detail": {"field": "algorithm_type", "value": v,
                                       "issue": "value not in enumeration", "location": "query"}}),
                    )
                };
            }
            algorithm = v;
        }
    }
    let now = app.now();
    let (certs, key) = {
        let st = app.lock();
        let Ok(m) = st.merchant(&caller.mchid) else {
            return Reply::unknown_merchant();
        };
        // The caller's own certificates: another provider's are never listed to it.
        let certs: Vec<_> = st
            .side(Some(&caller.mchid))
            .platform
            .iter()
            .filter(|p| p.is_active(now))
            .map(|p| p.certificate().clone())
            .collect();
        (certs, m.apiv3_key.clone())
    };
    if caller.mode == KeyMode::PublicKey || certs.is_empty() {
        return Reply::error(
            404,
            "RESOURCE_NOT_EXISTS",
            "无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥。",
        );
    }
    let mut data = Vec::new();
    if algorithm != "SM2" {
        for cert in &certs {
            let nonce: String = generate_nonce()
                .unwrap_or_default()
                .chars()
                .take(12)
                .collect();
            match encrypt_certificate_entry(
                cert,
                &key,
                &nonce,
                &crate::state::rfc3339_cst(cert.not_before()),
                &crate::state::rfc3339_cst(cert.not_after()),
            ) {
                Ok(entry) => data.push(entry),
                Err(e) => {
                    tracing::error!(error = %e, "cannot encrypt a platform certificate");
                    return Reply::error(500, "SYSTEM_ERROR", "系统错误");
                }
            }
        }
    }
    Reply::json(200, &serde_json::json!({ "data": data }))
}

/// A fresh `Request-ID`: 32 upper-case hex characters.
pub(crate) fn new_request_id() -> String {
    crate::identity::random_bytes::<16>()
        .map(hex::encode_upper)
        .unwrap_or_else(|_| "00000000000000000000000000000000".into())
}

#[allow(clippy::too_many_arguments)]
fn log(
    app: &Shared,
    request_id: &str,
    method: &str,
    path: &str,
    mchid: Option<String>,
    status: u16,
    code: Option<String>,
    fault: Option<FaultKind>,
    serial: Option<String>,
) {
    let mut st = app.lock();
    let at = app.protocol_now(&st.settings);
    st.log_request(RequestRecord {
        request_id: request_id.to_owned(),
        at,
        method: method.to_owned(),
        path: path.to_owned(),
        mchid,
        status,
        code,
        fault,
        wechatpay_serial: serial,
    });
}

/// Signed WeChat-style headers for `body`: `(timestamp, nonce, signature, serial)`.
pub(crate) struct SignedHeaders {
    pub(crate) timestamp: String,
    pub(crate) nonce: String,
    pub(crate) signature: String,
    pub(crate) serial: String,
}

/// Signs `ts\nnonce\nbody\n` with `key`, applying a signature fault if asked.
pub(crate) fn sign_message(
    key: &crate::state::WechatKey,
    timestamp: i64,
    body: &[u8],
    fault: Option<FaultKind>,
) -> SignedHeaders {
    let timestamp = if fault == Some(FaultKind::StaleTimestamp) {
        timestamp - STALE_BY_SECS
    } else {
        timestamp
    }
    .to_string();
    let nonce = generate_nonce().unwrap_or_else(|_| new_request_id());
    let message = message_to_verify(&timestamp, &nonce, body);
    let mut signature = match sign_base64(&key.key, &message) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "signing a response failed");
            String::new()
        }
    };
    if fault == Some(FaultKind::BadSignature) {
        signature = corrupt(&signature);
    }
    let serial = if fault == Some(FaultKind::UnknownSerial) {
        crate::identity::random_bytes::<20>()
            .map(hex::encode_upper)
            .unwrap_or_else(|_| "0".repeat(40))
    } else {
        key.id.clone()
    };
    SignedHeaders {
        timestamp,
        nonce,
        signature,
        serial,
    }
}

/// A signature that is still valid base64 of the right length but does not verify.
fn corrupt(signature: &str) -> String {
    let mut raw = STANDARD.decode(signature).unwrap_or_default();
    if let Some(last) = raw.last_mut() {
        *last ^= 0x01;
    } else {
        raw = vec![0u8; 256];
    }
    STANDARD.encode(raw)
}

fn finish(
    app: &Shared,
    reply: Reply,
    ctx: &Ctx,
    fault: Option<&Fault>,
    request_id: &str,
    method: &str,
    path_and_query: &str,
) -> Response {
    let fault_kind = fault.map(|f| f.kind);
    let (key, now) = {
        let st = app.lock();
        (
            st.response_key(
                ctx.mchid.as_deref(),
                ctx.mode,
                ctx.requested_serial.as_deref(),
                app.now(),
            ),
            app.protocol_now(&st.settings),
        )
    };
    let signed = sign_message(&key, now, &reply.body, fault_kind);
    log(
        app,
        request_id,
        method,
        path_and_query,
        ctx.mchid.clone(),
        reply.status,
        reply.code.clone(),
        fault_kind,
        Some(signed.serial.clone()),
    );
    let truncate = fault_kind == Some(FaultKind::TruncatedBody) && !reply.body.is_empty();
    let full_len = reply.body.len();
    let has_body = !reply.body.is_empty();
    let body = if truncate {
        let half = Bytes::from(reply.body[..full_len / 2].to_vec());
        Body::from_stream(futures_util::stream::unfold(0u8, move |step| {
            let half = half.clone();
            async move {
                match step {
                    0 => Some((Ok(half), 1)),
                    1 => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Some((
                            Err(std::io::Error::other("body truncated by a sandbox fault")),
                            2,
                        ))
                    }
                    _ => None,
                }
            }
        }))
    } else {
        Body::from(reply.body)
    };
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = response.headers_mut();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    put("request-id", request_id);
    put("wechatpay-nonce", &signed.nonce);
    put("wechatpay-signature", &signed.signature);
    put("wechatpay-timestamp", &signed.timestamp);
    put("wechatpay-serial", &signed.serial);
    put("wechatpay-signature-type", SIGNATURE_TYPE);
    put("server", "goldplan-sandbox");
    if let Some(allow) = reply.allow {
        put("allow", allow);
    }
    if has_body {
        put("content-type", "application/json; charset=utf-8");
    }
    if truncate {
        put("content-length", &full_len.to_string());
    }
    response
}
