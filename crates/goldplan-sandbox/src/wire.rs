//! What the gateway's handlers share: the unsigned answer ([`Reply`]), what the response
//! signer needs to know about the request ([`Ctx`]), and request authentication exactly as
//! spec §1 and §7 describe ([`check_headers`], [`authenticate`]).

use std::sync::Arc;

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use goldplan::sign::{AUTH_SCHEME, Authorization, message_to_sign};
use goldplan::verify::{PublicKeyVerifier, Verifier};
use goldplan::x509::SerialNumber;

use crate::config::KeyMode;
use crate::state::Shared;

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

    pub(crate) fn sign_error(message: &str) -> Reply {
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
    /// The JSON body of an API call, for the request log.
    pub(crate) api_body: Option<String>,
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) mchid: String,
    pub(crate) mode: KeyMode,
}

pub(crate) fn header_text<'a>(
    headers: &'a HeaderMap,
    name: &header::HeaderName,
) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
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
        )
        .map_err(|_| Reply::sign_error("签名错误，请检查后再试"))?;
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
