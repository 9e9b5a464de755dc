//! The admin API under `/sandbox/…`: plain JSON, no WeChat signature, loopback callers only,
//! addressed by a loopback name, never from another origin's web page.
//! Every handler is a thin wrapper over a [`SandboxControl`] method.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::callbacks::CallbackRequest;
use crate::control::SandboxControl;
use crate::error::SandboxError;
use crate::model::{
    Fault, MerchantPatch, MerchantRegistration, OrderRef, PayRequest, RotateRequest,
    SubMerchantPatch, SubMerchantRegistration,
};
use crate::server::ConnInfo;
use crate::state::Shared;

/// An admin error as JSON: `{"code": "...", "message": "..."}`.
struct AdminError(u16, &'static str, String);

impl From<SandboxError> for AdminError {
    fn from(e: SandboxError) -> AdminError {
        AdminError(e.http_status(), e.code(), e.to_string())
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(json!({"code": self.1, "message": self.2}))).into_response()
    }
}

type Answer = Result<Json<Value>, AdminError>;

fn ok<T: serde::Serialize>(value: T) -> Answer {
    serde_json::to_value(value)
        .map(Json)
        .map_err(|e| AdminError(500, "SERIALIZE", e.to_string()))
}

fn ctl(app: Arc<Shared>) -> SandboxControl {
    SandboxControl { app }
}

/// Parses a JSON body (its `Content-Type` was checked by [`admin_guard`]); an empty body
/// counts as `{}`.
fn body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, AdminError> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| AdminError(400, "INVALID_INPUT", e.to_string()))
}

/// Whether `host` (a `Host` header value, or the authority of an `Origin`) names this machine:
/// `localhost` or a loopback address, with an optional port. Anything else may be a DNS name
/// that an attacker's page re-bound to 127.0.0.1.
fn loopback_host(host: &str) -> bool {
    let (name, port) = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((name, after)) => match after {
                "" => (name, None),
                _ => match after.strip_prefix(':') {
                    Some(port) => (name, Some(port)),
                    None => return false,
                },
            },
            None => return false,
        },
        None => match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        },
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let name_ok = name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    port_ok && name_ok
}

/// Whether an `Origin` header value is a page on this machine (`http(s)://` + a loopback
/// host). Browsers send `Origin` with every cross-origin POST, PATCH and DELETE.
fn loopback_origin(origin: &str) -> bool {
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(loopback_host)
}

/// Whether the request may carry a body that changes something, and so must be JSON.
fn needs_json(req: &Request) -> bool {
    use axum::http::{Method, header};
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let headers = req.headers();
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    has_body || headers.contains_key(header::CONTENT_TYPE)
}

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// Who may use the admin API: loopback peers only (it hands out keys and can send callbacks
/// anywhere), addressing the sandbox by a loopback name (no DNS rebinding), not from a web
/// page of another origin, and with JSON bodies only (a page can POST `text/plain` to
/// 127.0.0.1 without a CORS preflight; `application/json` needs one, which the sandbox never
/// grants).
async fn admin_guard(
    ConnectInfo(conn): ConnectInfo<ConnInfo>,
    req: Request,
    next: Next,
) -> Response {
    use axum::http::header;
    let forbidden = |message: &str| AdminError(403, "FORBIDDEN", message.into()).into_response();
    if !conn.peer.ip().is_loopback() {
        return forbidden("the sandbox admin API only answers loopback callers");
    }
    // Exactly one Host header: with two, which one counts depends on who reads it (a proxy
    // may route by one while the sandbox checks the other).
    let mut hosts = req.headers().get_all(header::HOST).iter();
    let host = match (hosts.next(), hosts.next()) {
        (Some(only), None) => only.to_str().ok(),
        _ => None,
    };
    if !host.is_some_and(loopback_host) {
        return forbidden(
            "the sandbox admin API must be addressed as 127.0.0.1, [::1] or localhost (exactly \
             one Host header)",
        );
    }
    // An absolute-form target (`GET http://name/sandbox/info`) names the host HTTP/1.1 says
    // wins over `Host` (RFC 9112 §3.2.2): it must be a loopback name too.
    if let Some(authority) = req.uri().authority()
        && !loopback_host(authority.as_str())
    {
        return forbidden(
            "the sandbox admin API must be addressed as 127.0.0.1, [::1] or localhost (request \
             target)",
        );
    }
    if let Some(origin) = req.headers().get(header::ORIGIN)
        && !origin.to_str().is_ok_and(loopback_origin)
    {
        return forbidden("the sandbox admin API does not answer web pages of other origins");
    }
    if needs_json(&req) && !is_json(&req) {
        return AdminError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "admin requests with a body must be sent as Content-Type: application/json".into(),
        )
        .into_response();
    }
    next.run(req).await
}

/// The stand-in of the page WeChat shows after a payment, for a browser (HTML), or a short
/// page saying there is none when Gold Plan is not open.
fn gold_plan_page(app: Arc<Shared>, order: &OrderRef) -> Result<Response, AdminError> {
    let html = |status: StatusCode, body: String| {
        (
            status,
            [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response()
    };
    Ok(match ctl(app).gold_plan_page(order)? {
        Some(page) => html(StatusCode::OK, page.render()),
        None => html(
            StatusCode::NOT_FOUND,
            "<!doctype html><meta charset=\"utf-8\"><title>支付成功</title>\
             <p>支付成功</p><p>Gold Plan (点金计划) is not open for this special merchant: \
             WeChat shows its ordinary result page, with no Gold Plan page and no receipt.</p>"
                .into(),
        ),
    })
}

/// The admin router, to be nested under `/sandbox`.
pub(crate) fn router() -> Router<Arc<Shared>> {
    type S = State<Arc<Shared>>;
    Router::new()
        .route("/health", get(|| async { Json(json!({"ok": true})) }))
        .route("/info", get(|State(a): S| async move { ok(ctl(a).info()?) }))
        .route(
            "/settings",
            get(|State(a): S| async move { ok(ctl(a).settings()) }).patch(
                |State(a): S, b: axum::body::Bytes| async move {
                    let patch: Value = body(&b)?;
                    ok(ctl(a).update_settings(&patch)?)
                },
            ),
        )
        .route("/clock", get(|State(a): S| async move { ok(ctl(a).clock_view()) }))
        .route(
            "/clock/advance",
            post(|State(a): S, b: axum::body::Bytes| async move {
                #[derive(Deserialize)]
                struct Advance {
                    seconds: i64,
                }
                let r: Advance = body(&b)?;
                ok(ctl(a).advance_clock(r.seconds)?)
            }),
        )
        .route("/clock/reset", post(|State(a): S| async move { ok(ctl(a).reset_clock()?) }))
        .route(
            "/merchants",
            get(|State(a): S| async move { ok(ctl(a).merchants()) }).post(
                |State(a): S, b: axum::body::Bytes| async move {
                    let r: MerchantRegistration = body(&b)?;
                    ok(ctl(a).register_merchant(r)?)
                },
            ),
        )
        .route(
            "/merchants/{mchid}",
            get(|State(a): S, Path(m): Path<String>| async move { ok(ctl(a).merchant(&m)?) })
                .patch(
                    |State(a): S, Path(m): Path<String>, b: axum::body::Bytes| async move {
                        let p: MerchantPatch = body(&b)?;
                        ok(ctl(a).update_merchant(&m, p)?)
                    },
                ),
        )
        .route(
            "/merchants/{mchid}/platform-certificates",
            get(|State(a): S, Path(m): Path<String>| async move {
                ok(ctl(a).platform_certificates_of(&m)?)
            }),
        )
        .route(
            "/merchants/{mchid}/sub-merchants",
            post(
                |State(a): S, Path(m): Path<String>, b: axum::body::Bytes| async move {
                    let r: SubMerchantRegistration = body(&b)?;
                    ok(ctl(a).add_sub_merchant(&m, r)?)
                },
            ),
        )
        .route(
            "/merchants/{mchid}/sub-merchants/{sub_mchid}",
            get(
                |State(a): S, Path((m, s)): Path<(String, String)>| async move {
                    ok(ctl(a).sub_merchant(&m, &s)?)
                },
            )
            .patch(
                |State(a): S, Path((m, s)): Path<(String, String)>, b: axum::body::Bytes| async move {
                    let p: SubMerchantPatch = body(&b)?;
                    ok(ctl(a).update_sub_merchant(&m, &s, p)?)
                },
            ),
        )
        .route(
            "/platform-certificates",
            get(|State(a): S| async move { ok(ctl(a).platform_certificates()) }),
        )
        .route(
            "/platform-certificates/rotate",
            post(|State(a): S, b: axum::body::Bytes| async move {
                let r: RotateRequest = body(&b)?;
                ok(ctl(a).rotate_platform_certificate(r).await?)
            }),
        )
        .route(
            "/platform-certificates/{serial_no}/sign",
            post(|State(a): S, Path(s): Path<String>| async move {
                ctl(a.clone()).sign_with_platform_certificate(&s)?;
                ok(ctl(a).platform_certificates())
            }),
        )
        .route(
            "/platform-certificates/{serial_no}/expire",
            post(|State(a): S, Path(s): Path<String>| async move {
                ok(ctl(a).expire_platform_certificate_listed(&s)?)
            }),
        )
        .route(
            "/faults",
            get(|State(a): S| async move { ok(ctl(a).faults()) })
                .post(|State(a): S, b: axum::body::Bytes| async move {
                    let f: Fault = body(&b)?;
                    let c = ctl(a);
                    c.inject_fault(f)?;
                    ok(c.faults())
                })
                .delete(|State(a): S| async move {
                    ctl(a).clear_faults();
                    ok(json!({"cleared": true}))
                }),
        )
        .route(
            "/callbacks",
            get(|State(a): S| async move { ok(ctl(a).callbacks()) }).post(
                |State(a): S, b: axum::body::Bytes| async move {
                    let r: CallbackRequest = body(&b)?;
                    ok(ctl(a).send_callback(r).await?)
                },
            ),
        )
        .route(
            "/callbacks/{id}",
            get(|State(a): S, Path(id): Path<String>| async move { ok(ctl(a).callback(&id)?) }),
        )
        .route(
            "/requests",
            get(|State(a): S| async move { ok(ctl(a).requests()) }).delete(
                |State(a): S| async move {
                    ctl(a).clear_requests();
                    ok(json!({"cleared": true}))
                },
            ),
        )
        .route(
            "/v1/pay",
            post(|State(a): S, b: axum::body::Bytes| async move {
                let r: PayRequest = body(&b)?;
                ok(ctl(a).pay(r).await?)
            }),
        )
        .route(
            "/v1/gold-plan-page",
            get(|State(a): S, Query(r): Query<OrderRef>| async move { gold_plan_page(a, &r) }),
        )
        .route(
            "/v1/refund",
            post(|State(a): S, b: axum::body::Bytes| async move {
                let r: OrderRef = body(&b)?;
                ok(ctl(a).refund(&r)?)
            }),
        )
        .route(
            "/v1/expire",
            post(|State(a): S, b: axum::body::Bytes| async move {
                let r: OrderRef = body(&b)?;
                ok(ctl(a).expire_order(&r)?)
            }),
        )
        .route(
            "/v1/order",
            post(|State(a): S, b: axum::body::Bytes| async move {
                let r: OrderRef = body(&b)?;
                ok(ctl(a).order(&r)?)
            }),
        )
        .route(
            "/media/{media_id}",
            get(|State(a): S, Path(id): Path<String>| async move { ok(ctl(a).media(&id)?) }),
        )
        .fallback(|| async {
            AdminError(404, "NOT_FOUND", "no such admin endpoint (see the README)".into())
        })
        .layer(axum::middleware::from_fn(admin_guard))
}
