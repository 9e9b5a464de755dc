//! The admin API under `/sandbox/…`: plain JSON, no WeChat signature, loopback callers only.
//! Every handler is a thin wrapper over a [`SandboxControl`] method.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, Path, Request, State};
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
    Fault, MerchantPatch, MerchantRegistration, RotateRequest, SubMerchantPatch,
    SubMerchantRegistration,
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

/// Parses a JSON body leniently so that a missing or wrong `Content-Type` is not an error.
fn body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, AdminError> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| AdminError(400, "INVALID_INPUT", e.to_string()))
}

async fn loopback_only(
    ConnectInfo(conn): ConnectInfo<ConnInfo>,
    req: Request,
    next: Next,
) -> Response {
    if conn.peer.ip().is_loopback() {
        next.run(req).await
    } else {
        AdminError(
            403,
            "FORBIDDEN",
            "the sandbox admin API only answers loopback callers".into(),
        )
        .into_response()
    }
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
            "/platform-certificates/{serial_no}/expire",
            post(|State(a): S, Path(s): Path<String>| async move {
                ctl(a.clone()).expire_platform_certificate(&s)?;
                ok(ctl(a).platform_certificates())
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
            "/media/{media_id}",
            get(|State(a): S, Path(id): Path<String>| async move { ok(ctl(a).media(&id)?) }),
        )
        .fallback(|| async {
            AdminError(404, "NOT_FOUND", "no such admin endpoint (see the README)".into())
        })
        .layer(axum::middleware::from_fn(loopback_only))
}
