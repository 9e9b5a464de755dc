//! The WeChat Pay side of the sandbox: routing of `/v3/…`, request authentication (in
//! [`crate::wire`]), fault injection, and the signing of every response (spec §2, with
//! [`crate::signing`]).

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use goldplan::certificates::encrypt_certificate_entry;
use goldplan::client::Operation;
use goldplan::sign::{AUTH_SCHEME, generate_nonce};

use crate::config::KeyMode;
use crate::model::{Fault, FaultKind, FaultTarget, RequestRecord};
use crate::server::ConnInfo;
use crate::signing::{new_request_id, sign_message};
use crate::state::Shared;
use crate::wire::{Caller, Ctx, Reply, authenticate, header_text};

/// The value of `Wechatpay-Signature-Type` on every response.
const SIGNATURE_TYPE: &str = AUTH_SCHEME;

enum Route {
    Certificates,
    /// A registry operation the sandbox serves.
    Api(Operation),
    /// A payments operation, with its path parameters as sent (still percent-encoded).
    Payments(Operation, Vec<(&'static str, String)>),
    MediaUpload,
}

/// Largest API body kept in the request log (Gold Plan bodies are well under 1 KiB).
const MAX_LOGGED_BODY: usize = 64 * 1024;

const MEDIA_UPLOAD_PATH: &str = "/v3/merchant/media/upload";
const CERTIFICATES_PATH: &str = "/v3/certificates";

fn route(path: &str) -> Option<(Route, &'static str)> {
    if path == CERTIFICATES_PATH {
        return Some((Route::Certificates, "GET"));
    }
    if path == MEDIA_UPLOAD_PATH {
        return Some((Route::MediaUpload, "POST"));
    }
    // The API operations are the registry's: each at the path its service declares.
    Operation::ALL
        .iter()
        .filter(|op| crate::gold_plan::handles(**op) || crate::payments::handles(**op))
        .find_map(|op| {
            let endpoint = op.endpoint()?;
            endpoint.match_path(path).map(|params| {
                let route = if crate::payments::handles(*op) {
                    Route::Payments(*op, params)
                } else {
                    Route::Api(*op)
                };
                (route, endpoint.method)
            })
        })
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
                &ctx,
                0,
                None,
                fault_kind,
                None,
            );
            return Response::new(Body::empty());
        }
        _ => None,
    };
    let reply = match early {
        Some(reply) => reply,
        None => match axum::body::to_bytes(body, body_limit).await {
            Err(_) => Reply::invalid_request("请求体过大或读取失败"),
            Ok(bytes) => {
                // The delay comes once the request has arrived: before it, it would eat into
                // the time the client has to send the body (the whole-request deadline).
                if fault_kind == Some(FaultKind::Delay) {
                    let ms = fault
                        .as_ref()
                        .and_then(|f| f.delay_ms)
                        .unwrap_or(1000)
                        .min(60_000);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
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
        Route::Api(op) => {
            if body.len() <= MAX_LOGGED_BODY {
                ctx.api_body = std::str::from_utf8(body).ok().map(str::to_owned);
            }
            match authenticate(app, headers, method, path_and_query, body, ctx) {
                Ok(caller) => crate::gold_plan::handle(app, op, &caller, body).await,
                Err(reply) => reply,
            }
        }
        Route::Payments(op, params) => {
            if body.len() <= MAX_LOGGED_BODY {
                ctx.api_body = std::str::from_utf8(body).ok().map(str::to_owned);
            }
            match authenticate(app, headers, method, path_and_query, body, ctx) {
                Ok(caller) => {
                    let query = path_and_query.split_once('?').map_or("", |(_, q)| q);
                    crate::payments::handle(app, op, &caller, body, query, &params).await
                }
                Err(reply) => reply,
            }
        }
    }
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
            .listed(m.mode, now)
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
                &crate::clock::rfc3339_cst(cert.not_before()),
                &crate::clock::rfc3339_cst(cert.not_after()),
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

#[allow(clippy::too_many_arguments)]
fn log(
    app: &Shared,
    request_id: &str,
    method: &str,
    path: &str,
    ctx: &Ctx,
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
        mchid: ctx.mchid.clone(),
        status,
        code,
        fault,
        wechatpay_serial: serial,
        body: ctx.api_body.clone(),
    });
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
        ctx,
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
