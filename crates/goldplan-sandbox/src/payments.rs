//! Partner-mode JSAPI payments (PAYMENTS.md §7): prepay (E1), both queries (E2, E3) and close
//! (E4) on the gateway side, and the simulated payment, refund and expiry the admin API drives
//! (§7.4). Orders are keyed by (`sp_mchid`, `out_trade_no`) (§9 D5) and stored with the rest of
//! the business state.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use goldplan::client::Operation;
use goldplan::payments::{
    MAX_ATTACH_LEN, MAX_DESCRIPTION_LEN, MAX_GOODS, MAX_ID_LEN, MAX_NOTIFY_URL_LEN, MAX_OPENID_LEN,
    PartnerTransaction, pay_sign_message, validate_out_trade_no,
};
use goldplan::verify::Verifier;
use goldplan_receipt::gold_plan_page::GoldPlanPage;
use serde_json::{Map, Value, json};

use crate::callbacks::CallbackRequest;
use crate::config::DEFAULT_SP_APPID;
use crate::error::{Result, SandboxError};
use crate::model::{OrderRef, PayOutcome, PayRequest, Switch};
use crate::orders::{Order, OrderState, PREPAY_VALIDITY_SECS, PrepayId, users};
use crate::state::{Shared, State};
use crate::wire::{Caller, Reply};

/// An order without `time_expire` can be paid for this long (§1.5).
const DEFAULT_EXPIRE_SECS: i64 = 7 * 24 * 3600;
/// A `time_expire` earlier than this after creation is moved to it (§1.5).
const MIN_EXPIRE_SECS: i64 = 60;
/// JSON integers beyond 2^53 do not round-trip through every binding (§7.3).
const MAX_JSON_INTEGER: i64 = 1 << 53;

/// Whether this module serves `op` (the gateway routes these with their path parameters and
/// query string).
pub(crate) fn handles(op: Operation) -> bool {
    matches!(
        op,
        Operation::JsapiPrepay
            | Operation::QueryOrderByOutTradeNo
            | Operation::QueryOrderByTransactionId
            | Operation::CloseOrder
    )
}

/// `yyyyMMdd…` of `now` in China Standard Time, in the given layout.
fn cst(now: i64, format: &[time::format_description::BorrowedFormatItem<'_>]) -> String {
    time::OffsetDateTime::from_unix_timestamp(now)
        .ok()
        .map(|d| d.to_offset(time::macros::offset!(+8)))
        .and_then(|d| d.format(format).ok())
        .unwrap_or_default()
}

/// `wx` + `yyyyMMddHHmmss` (UTC+8) + 20 lower-case hex digits (§7.2).
fn new_prepay_id(now: i64) -> Option<String> {
    let stamp = cst(
        now,
        time::macros::format_description!("[year][month][day][hour][minute][second]"),
    );
    let random = crate::identity::random_bytes::<10>().ok()?;
    Some(format!("wx{stamp}{}", hex::encode(random)))
}

/// 28 digits: `4200000000`, the payment date (UTC+8) and a 10-digit sequence (§7.2). The
/// sequence is stored with the orders, so ids stay unique across restarts.
fn new_transaction_id(now: i64, seq: u64) -> String {
    let date = cst(now, time::macros::format_description!("[year][month][day]"));
    format!("4200000000{date}{:010}", seq % 10_000_000_000)
}

/// A `PARAM_ERROR` with the full `detail` of §7.3 (`value` is `""` when there is none).
fn param_error(field: &str, value: Option<&Value>, issue: &str, location: &str) -> Reply {
    let value = value
        .cloned()
        .unwrap_or_else(|| Value::String(String::new()));
    Reply {
        code: Some("PARAM_ERROR".into()),
        ..Reply::json(
            400,
            &json!({"code": "PARAM_ERROR", "message": format!("参数错误: {field} {issue}"),
                    "detail": {"field": field, "value": value, "issue": issue, "location": location}}),
        )
    }
}

fn body_error(field: &str, value: Option<&Value>, issue: &str) -> Reply {
    param_error(field, value, issue, "body")
}

fn not_found() -> Reply {
    Reply::error(404, "ORDER_NOT_EXIST", "订单不存在")
}

/// Reads a string member `key` of `obj` (JSON Pointer `base/key`), `min..=max` characters.
fn string<'a>(
    obj: &'a Map<String, Value>,
    base: &str,
    key: &str,
    required: bool,
    max: usize,
) -> Result<Option<&'a str>, Reply> {
    let field = format!("{base}/{key}");
    match obj.get(key) {
        None if required => Err(body_error(&field, None, "field is required")),
        None => Ok(None),
        Some(Value::Null) => Err(body_error(
            &field,
            None,
            "must not be null: omit the key instead",
        )),
        Some(v @ Value::String(s)) => {
            let n = s.chars().count();
            if n == 0 || n > max {
                Err(body_error(
                    &field,
                    Some(v),
                    &format!("length must be 1 to {max}"),
                ))
            } else {
                Ok(Some(s))
            }
        }
        Some(v) => Err(body_error(&field, Some(v), "must be a string")),
    }
}

fn object<'a>(
    obj: &'a Map<String, Value>,
    base: &str,
    key: &str,
    required: bool,
) -> Result<Option<&'a Map<String, Value>>, Reply> {
    let field = format!("{base}/{key}");
    match obj.get(key) {
        None if required => Err(body_error(&field, None, "field is required")),
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(v) => Err(body_error(&field, Some(v), "must be an object")),
    }
}

/// An integer member in `min..=2^53`.
fn integer(
    obj: &Map<String, Value>,
    base: &str,
    key: &str,
    required: bool,
    min: i64,
) -> Result<Option<i64>, Reply> {
    let field = format!("{base}/{key}");
    match obj.get(key) {
        None if required => Err(body_error(&field, None, "field is required")),
        None => Ok(None),
        Some(v @ Value::Number(n)) => match n.as_i64() {
            Some(i) if (min..=MAX_JSON_INTEGER).contains(&i) => Ok(Some(i)),
            Some(_) => Err(body_error(
                &field,
                Some(v),
                &format!("must be an integer from {min} to 2^53"),
            )),
            None => Err(body_error(&field, Some(v), "must be an integer")),
        },
        Some(v) => Err(body_error(&field, Some(v), "must be an integer")),
    }
}

fn boolean(obj: &Map<String, Value>, base: &str, key: &str) -> Result<(), Reply> {
    match obj.get(key) {
        None | Some(Value::Bool(_)) => Ok(()),
        Some(v) => Err(body_error(
            &format!("{base}/{key}"),
            Some(v),
            "must be a boolean",
        )),
    }
}

/// Whether `url` is `http(s)://` to 127.0.0.1, ::1 or localhost.
pub(crate) fn loopback_url(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What E1 needs from a body that passed §7.3 steps 2 and 3.
struct Prepay<'a> {
    body: &'a Map<String, Value>,
    sp_appid: &'a str,
    sp_mchid: &'a str,
    sub_appid: Option<&'a str>,
    sub_mchid: &'a str,
    out_trade_no: &'a str,
    time_expire: Option<i64>,
    sp_openid: Option<&'a str>,
    sub_openid: Option<&'a str>,
}

/// §7.3 step 3: required fields, lengths, charsets and types of §1.1–1.2, in table order.
fn validate(body: &Map<String, Value>) -> Result<Prepay<'_>, Reply> {
    let sp_appid = string(body, "", "sp_appid", true, MAX_ID_LEN)?.unwrap_or_default();
    let sp_mchid = string(body, "", "sp_mchid", true, MAX_ID_LEN)?.unwrap_or_default();
    let sub_appid = string(body, "", "sub_appid", false, MAX_ID_LEN)?;
    let sub_mchid = string(body, "", "sub_mchid", true, MAX_ID_LEN)?.unwrap_or_default();
    string(body, "", "description", true, MAX_DESCRIPTION_LEN)?;
    let out_trade_no = string(body, "", "out_trade_no", true, 32)?.unwrap_or_default();
    if validate_out_trade_no(out_trade_no).is_err() {
        return Err(body_error(
            "/out_trade_no",
            body.get("out_trade_no"),
            "must be 6 to 32 characters of 0-9 A-Z a-z _ - | *",
        ));
    }
    let time_expire = match string(body, "", "time_expire", false, 64)? {
        None => None,
        Some(t) => Some(
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map_err(|_| {
                    body_error(
                        "/time_expire",
                        body.get("time_expire"),
                        "must be an RFC 3339 date-time",
                    )
                })?
                .unix_timestamp(),
        ),
    };
    string(body, "", "attach", false, MAX_ATTACH_LEN)?;
    let notify_url = string(body, "", "notify_url", true, MAX_NOTIFY_URL_LEN)?.unwrap_or_default();
    let bad_url = |issue: &str| body_error("/notify_url", body.get("notify_url"), issue);
    if notify_url.contains('?') {
        return Err(bad_url("must not carry a query string"));
    }
    let parsed = reqwest::Url::parse(notify_url).map_err(|_| bad_url("must be an absolute URL"))?;
    let https = parsed.scheme() == "https";
    if !(https || parsed.scheme() == "http" && loopback_url(&parsed)) {
        return Err(bad_url(
            "must be https:// (http:// only for a loopback host)",
        ));
    }
    string(body, "", "goods_tag", false, 32)?;
    boolean(body, "", "support_fapiao")?;
    match body.get("limit_pay") {
        None => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if !matches!(
                    item.as_str(),
                    Some("no_balance" | "no_credit" | "no_debit" | "balance_only")
                ) {
                    return Err(body_error(
                        &format!("/limit_pay/{i}"),
                        Some(item),
                        "value not in enumeration",
                    ));
                }
            }
        }
        Some(v) => return Err(body_error("/limit_pay", Some(v), "must be an array")),
    }
    let amount = object(body, "", "amount", true)?.unwrap_or(body);
    integer(amount, "/amount", "total", true, 1)?;
    if let Some(c) = string(amount, "/amount", "currency", false, 16)?
        && c != "CNY"
    {
        return Err(body_error(
            "/amount/currency",
            amount.get("currency"),
            "only CNY is supported",
        ));
    }
    let payer = object(body, "", "payer", true)?.unwrap_or(body);
    let sp_openid = string(payer, "/payer", "sp_openid", false, MAX_OPENID_LEN)?;
    let sub_openid = string(payer, "/payer", "sub_openid", false, MAX_OPENID_LEN)?;
    if sp_openid.is_none() && sub_openid.is_none() {
        return Err(body_error(
            "/payer",
            body.get("payer"),
            "one of sp_openid and sub_openid is required",
        ));
    }
    if sub_openid.is_some() && sub_appid.is_none() {
        return Err(body_error(
            "/sub_appid",
            None,
            "field is required with payer.sub_openid",
        ));
    }
    if let Some(detail) = object(body, "", "detail", false)? {
        integer(detail, "/detail", "cost_price", false, 0)?;
        string(detail, "/detail", "invoice_id", false, 32)?;
        match detail.get("goods_detail") {
            None => {}
            Some(v @ Value::Array(items)) => {
                if items.is_empty() || items.len() > MAX_GOODS {
                    return Err(body_error(
                        "/detail/goods_detail",
                        Some(v),
                        &format!("array length must be 1 to {MAX_GOODS}"),
                    ));
                }
                for (i, item) in items.iter().enumerate() {
                    let base = format!("/detail/goods_detail/{i}");
                    let Value::Object(g) = item else {
                        return Err(body_error(&base, Some(item), "must be an object"));
                    };
                    string(g, &base, "merchant_goods_id", true, 32)?;
                    string(g, &base, "wechatpay_goods_id", false, 32)?;
                    string(g, &base, "goods_name", false, 256)?;
                    integer(g, &base, "quantity", true, 1)?;
                    integer(g, &base, "unit_price", true, 0)?;
                }
            }
            Some(v) => {
                return Err(body_error(
                    "/detail/goods_detail",
                    Some(v),
                    "must be an array",
                ));
            }
        }
    }
    if let Some(scene) = object(body, "", "scene_info", false)? {
        string(scene, "/scene_info", "payer_client_ip", true, 45)?;
        string(scene, "/scene_info", "device_id", false, 32)?;
        object(scene, "/scene_info", "store_info", false)?;
    }
    if let Some(settle) = object(body, "", "settle_info", false)? {
        boolean(settle, "/settle_info", "profit_sharing")?;
    }
    // Optional fields are omitted, never sent as `null` (APIV3.md §0); extra members pass.
    if let Some((key, _)) = body.iter().find(|(_, v)| v.is_null()) {
        return Err(body_error(
            &format!("/{key}"),
            None,
            "must not be null: omit the key instead",
        ));
    }
    Ok(Prepay {
        body,
        sp_appid,
        sp_mchid,
        sub_appid,
        sub_mchid,
        out_trade_no,
        time_expire,
        sp_openid,
        sub_openid,
    })
}

/// Whether two prepay bodies are the same order (§1.5): every field but `scene_info`.
fn same_order(a: &Value, b: &Map<String, Value>) -> bool {
    let Value::Object(a) = a else {
        return false;
    };
    let strip = |m: &Map<String, Value>| {
        let mut m = m.clone();
        m.remove("scene_info");
        m
    };
    strip(a) == strip(b)
}

/// E1 (§7.3 steps 2–10; step 1 was the gateway's). Returns the answer and whether the state
/// changed.
fn prepay(st: &mut State, now: i64, caller: &Caller, raw: &[u8]) -> Result<(Reply, bool), Reply> {
    let parsed: Value = serde_json::from_slice(raw)
        .map_err(|_| body_error("/", None, "the body is not valid JSON"))?;
    let Value::Object(body) = &parsed else {
        return Err(body_error("/", None, "the body must be a JSON object"));
    };
    let p = validate(body)?;
    if p.sp_mchid != caller.mchid {
        return Err(Reply::invalid_request("sp_mchid与请求头中的商户号不一致"));
    }
    let provider = st
        .merchants
        .get(&caller.mchid)
        .ok_or_else(Reply::unknown_merchant)?;
    let Some(sub) = provider.sub_merchants.get(p.sub_mchid) else {
        let known_elsewhere = st
            .merchants
            .values()
            .any(|m| m.sub_merchants.contains_key(p.sub_mchid));
        return Err(if known_elsewhere {
            Reply::invalid_request("特约商户与服务商不存在绑定关系")
        } else {
            Reply::error(400, "MCH_NOT_EXISTS", "特约商户号不存在")
        });
    };
    if p.sp_appid != DEFAULT_SP_APPID {
        return Err(Reply::error(
            400,
            "APPID_MCHID_NOT_MATCH",
            "sp_appid和sp_mchid不匹配",
        ));
    }
    if p.sub_appid.is_some_and(|a| a != sub.sub_appid) {
        return Err(Reply::error(
            400,
            "APPID_MCHID_NOT_MATCH",
            "sub_appid和sub_mchid不匹配",
        ));
    }
    // Step 7: an OpenID is app-specific; a known one sent in the other app's field is the
    // commonest partner mistake.
    let users = users();
    if let Some(o) = p.sp_openid
        && users.iter().any(|u| u.sub_openid == o)
    {
        return Err(body_error(
            "/payer/sp_openid",
            Some(&Value::String(o.to_owned())),
            "the OpenID does not belong to sp_appid",
        ));
    }
    if let Some(o) = p.sub_openid
        && users.iter().any(|u| u.sp_openid == o)
    {
        return Err(body_error(
            "/payer/sub_openid",
            Some(&Value::String(o.to_owned())),
            "the OpenID does not belong to sub_appid",
        ));
    }
    if !sub.jsapi {
        return Err(Reply::error(403, "NO_AUTH", "商户无此接口权限"));
    }
    let key = (p.sp_mchid.to_owned(), p.out_trade_no.to_owned());
    if let Some(order) = st.orders.get_mut(&key) {
        return match order.state {
            OrderState::Closed => Err(Reply::error(400, "ORDER_CLOSED", "订单已关闭")),
            OrderState::Success | OrderState::Refund => {
                Err(Reply::error(400, "ORDERPAID", "该订单已支付"))
            }
            OrderState::NotPay if !same_order(&order.request, p.body) => {
                Err(Reply::error(403, "OUT_TRADE_NO_USED", "商户订单号重复"))
            }
            OrderState::NotPay if now > order.time_expire => Err(Reply::error(
                403,
                "TRADE_ERROR",
                "订单已过期，请使用新的商户订单号",
            )),
            OrderState::NotPay => {
                if let Some(live) = order.live_prepay(now) {
                    return Ok((Reply::json(200, &json!({ "prepay_id": live.id })), false));
                }
                let id = new_prepay_id(now).ok_or_else(system_error)?;
                order.prepay_ids.push(PrepayId {
                    id: id.clone(),
                    issued_at: now,
                });
                Ok((Reply::json(200, &json!({ "prepay_id": id })), true))
            }
        };
    }
    let max = st.settings.order_max_expire_secs;
    let time_expire = match p.time_expire {
        Some(t) => t.clamp(now + MIN_EXPIRE_SECS, now + max),
        None => now + DEFAULT_EXPIRE_SECS,
    };
    let id = new_prepay_id(now).ok_or_else(system_error)?;
    let order = Order {
        sp_mchid: p.sp_mchid.to_owned(),
        sub_mchid: p.sub_mchid.to_owned(),
        out_trade_no: p.out_trade_no.to_owned(),
        request: parsed.clone(),
        created_at: now,
        time_expire,
        state: OrderState::NotPay,
        prepay_ids: vec![PrepayId {
            id: id.clone(),
            issued_at: now,
        }],
        transaction_id: None,
        success_time: None,
        bank_type: None,
        payer_sp_openid: None,
        payer_sub_openid: None,
        payer_total: None,
    };
    st.orders.insert(key, order);
    Ok((Reply::json(200, &json!({ "prepay_id": id })), true))
}

fn system_error() -> Reply {
    Reply::error(500, "SYSTEM_ERROR", "系统错误")
}

/// Decodes `%XX` escapes (a path segment or query value); `None` when the result is not
/// UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |j: usize| {
            bytes
                .get(j)
                .and_then(|c| char::from(*c).to_digit(16))
                .and_then(|d| u8::try_from(d).ok())
        };
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(hi * 16 + lo);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The value of the path parameter `name`, decoded.
fn path_param(params: &[(&str, String)], name: &str) -> Result<String, Reply> {
    let raw = params
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    percent_decode(raw).ok_or_else(|| {
        param_error(
            name,
            Some(&Value::String(raw.to_owned())),
            "not a valid percent-encoded value",
            "uri_template",
        )
    })
}

/// `sp_mchid` and `sub_mchid` of a query string (§3.1), both required.
fn query_ids(query: &str) -> Result<(String, String), Reply> {
    let value = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == name)
            .and_then(|(_, v)| percent_decode(v))
            .filter(|v| !v.is_empty())
    };
    let mut ids = Vec::with_capacity(2);
    for name in ["sp_mchid", "sub_mchid"] {
        match value(name) {
            Some(v) if v.chars().count() <= MAX_ID_LEN => ids.push(v),
            Some(v) => {
                return Err(param_error(
                    name,
                    Some(&Value::String(v)),
                    "length must be 1 to 32",
                    "query",
                ));
            }
            None => return Err(param_error(name, None, "field is required", "query")),
        }
    }
    let sub = ids.pop().unwrap_or_default();
    let sp = ids.pop().unwrap_or_default();
    Ok((sp, sub))
}

fn transaction_reply(order: &Order) -> Reply {
    match serde_json::to_vec(&order.transaction()) {
        Ok(body) => Reply {
            status: 200,
            body,
            code: None,
            allow: None,
        },
        Err(_) => system_error(),
    }
}

/// E2 (§7.5): any state, by merchant order number.
fn query_by_out_trade_no(
    st: &State,
    caller: &Caller,
    query: &str,
    params: &[(&str, String)],
) -> Result<Reply, Reply> {
    let out_trade_no = path_param(params, "out_trade_no")?;
    let (sp_mchid, sub_mchid) = query_ids(query)?;
    if sp_mchid != caller.mchid {
        return Err(Reply::invalid_request("sp_mchid与请求头中的商户号不一致"));
    }
    if validate_out_trade_no(&out_trade_no).is_err() {
        return Err(param_error(
            "out_trade_no",
            Some(&Value::String(out_trade_no)),
            "must be 6 to 32 characters of 0-9 A-Z a-z _ - | *",
            "uri_template",
        ));
    }
    st.orders
        .get(&(sp_mchid, out_trade_no))
        .filter(|o| o.sub_mchid == sub_mchid)
        .map(transaction_reply)
        .ok_or_else(not_found)
}

/// E3 (§7.5): paid orders only, by WeChat Pay order number.
fn query_by_transaction_id(
    st: &State,
    caller: &Caller,
    query: &str,
    params: &[(&str, String)],
) -> Result<Reply, Reply> {
    let transaction_id = path_param(params, "transaction_id")?;
    let (sp_mchid, sub_mchid) = query_ids(query)?;
    if sp_mchid != caller.mchid {
        return Err(Reply::invalid_request("sp_mchid与请求头中的商户号不一致"));
    }
    st.orders
        .values()
        .find(|o| {
            o.state.is_paid()
                && o.sp_mchid == sp_mchid
                && o.sub_mchid == sub_mchid
                && o.transaction_id.as_deref() == Some(transaction_id.as_str())
        })
        .map(transaction_reply)
        .ok_or_else(not_found)
}

/// E4 (§7.5).
fn close(
    st: &mut State,
    caller: &Caller,
    raw: &[u8],
    params: &[(&str, String)],
) -> Result<(Reply, bool), Reply> {
    let out_trade_no = path_param(params, "out_trade_no")?;
    let parsed: Value = serde_json::from_slice(raw)
        .map_err(|_| body_error("/", None, "the body is not valid JSON"))?;
    let Value::Object(body) = &parsed else {
        return Err(body_error("/", None, "the body must be a JSON object"));
    };
    let sp_mchid = string(body, "", "sp_mchid", true, MAX_ID_LEN)?.unwrap_or_default();
    let sub_mchid = string(body, "", "sub_mchid", true, MAX_ID_LEN)?.unwrap_or_default();
    if sp_mchid != caller.mchid {
        return Err(Reply::invalid_request("sp_mchid与请求头中的商户号不一致"));
    }
    let strict = st.settings.strict_close;
    let order = st
        .orders
        .get_mut(&(sp_mchid.to_owned(), out_trade_no))
        .filter(|o| o.sub_mchid == sub_mchid)
        .ok_or_else(not_found)?;
    match order.state {
        OrderState::NotPay => {
            order.state = OrderState::Closed;
            Ok((Reply::no_content(), true))
        }
        OrderState::Closed if strict => Err(Reply::error(400, "ORDER_CLOSED", "订单已关闭")),
        OrderState::Closed => Ok((Reply::no_content(), false)),
        OrderState::Success | OrderState::Refund => {
            Err(Reply::error(400, "ORDERPAID", "该订单已支付"))
        }
    }
}

/// Serves E1–E4; `query` is the request's query string, `params` the path parameters as
/// sent (percent-encoded).
pub(crate) async fn handle(
    app: &Arc<Shared>,
    op: Operation,
    caller: &Caller,
    body: &[u8],
    query: &str,
    params: &[(&str, String)],
) -> Reply {
    let outcome = {
        let now = app.now();
        let mut guard = app.lock();
        let st = &mut *guard;
        match op {
            Operation::JsapiPrepay => prepay(st, now, caller, body),
            Operation::QueryOrderByOutTradeNo => {
                query_by_out_trade_no(st, caller, query, params).map(|r| (r, false))
            }
            Operation::QueryOrderByTransactionId => {
                query_by_transaction_id(st, caller, query, params).map(|r| (r, false))
            }
            Operation::CloseOrder => close(st, caller, body, params),
            // `handles` keeps every other operation away from here.
            _ => Err(Reply::error(404, "NOT_FOUND", "请求的资源不存在")),
        }
    };
    match outcome {
        Ok((reply, changed)) => {
            if changed {
                app.persist_state_logged().await;
            }
            reply
        }
        Err(reply) => reply,
    }
}

fn refused(code: &'static str, message: impl Into<String>) -> SandboxError {
    SandboxError::PaymentRefused {
        code,
        message: message.into(),
    }
}

fn order_key(r: &OrderRef) -> (String, String) {
    (r.sp_mchid.clone(), r.out_trade_no.clone())
}

fn find_order<'a>(st: &'a mut State, r: &OrderRef) -> Result<&'a mut Order> {
    st.orders
        .get_mut(&order_key(r))
        .filter(|o| o.sub_mchid == r.sub_mchid)
        .ok_or_else(|| refused("ORDER_NOT_EXIST", "no such order"))
}

/// The order a front-end pay form names, after checking it as the WeChat client would (§7.4).
fn check_pay_form(app: &Shared, r: &PayRequest, now: i64) -> Result<OrderRef> {
    let missing = |name: &str| refused("INVALID_INPUT", format!("{name} is required"));
    let app_id = r.app_id.as_deref().ok_or_else(|| missing("appId"))?;
    let time_stamp = r
        .time_stamp
        .as_deref()
        .ok_or_else(|| missing("timeStamp"))?;
    let nonce_str = r.nonce_str.as_deref().ok_or_else(|| missing("nonceStr"))?;
    let package = r.package.as_deref().ok_or_else(|| missing("package"))?;
    let sign_type = r.sign_type.as_deref().ok_or_else(|| missing("signType"))?;
    let pay_sign = r.pay_sign.as_deref().ok_or_else(|| missing("paySign"))?;
    let prepay_id = package
        .strip_prefix("prepay_id=")
        .ok_or_else(|| refused("PACKAGE_INVALID", "package must be prepay_id=<prepay id>"))?;
    let (order, verifier) = {
        let st = app.lock();
        let order = st
            .orders
            .values()
            .find(|o| o.prepay_ids.iter().any(|p| p.id == prepay_id))
            .cloned()
            .ok_or_else(|| refused("PREPAY_NOT_FOUND", "no order has this prepay_id"))?;
        let verifier = st
            .merchants
            .get(&order.sp_mchid)
            .map(|m| m.verifier.clone())
            .ok_or_else(|| refused("MCH_NOT_EXISTS", "the order's provider is gone"))?;
        (order, verifier)
    };
    // The RSA check runs without the state lock.
    let message = pay_sign_message(app_id, time_stamp, nonce_str, package);
    let signature = STANDARD
        .decode(pay_sign)
        .map_err(|_| refused("SIGNATURE_MISMATCH", "paySign is not base64"))?;
    verifier
        .verify(verifier.key_id(), message.as_bytes(), &signature)
        .map_err(|_| {
            refused(
                "SIGNATURE_MISMATCH",
                "paySign does not verify with the merchant's key over appId, timeStamp, nonceStr and package",
            )
        })?;
    if sign_type != "RSA" {
        return Err(refused("SIGN_TYPE_INVALID", "signType must be RSA"));
    }
    if !order
        .prepay_ids
        .iter()
        .any(|p| p.id == prepay_id && now - p.issued_at < PREPAY_VALIDITY_SECS)
    {
        return Err(refused(
            "PREPAY_EXPIRED",
            "the prepay_id is more than 2 hours old",
        ));
    }
    let sp_appid = order.text("/sp_appid");
    let sub_appid = order.text("/sub_appid");
    // §2.3: the app the page runs in is the one of the payer's OpenID.
    let by_sub = order.text("/payer/sub_openid").is_some();
    let by_sp = order.text("/payer/sp_openid").is_some();
    let fits = (by_sub && sub_appid.as_deref() == Some(app_id))
        || (by_sp && sp_appid.as_deref() == Some(app_id));
    if !fits {
        return Err(refused(
            "APPID_MISMATCH",
            "appId must be the AppID of the order's payer OpenID (sub_appid for sub_openid, sp_appid for sp_openid)",
        ));
    }
    if time_stamp.len() != 10 || !time_stamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused(
            "TIMESTAMP_INVALID",
            "timeStamp must be 10 digits of Unix seconds",
        ));
    }
    Ok(OrderRef {
        sp_mchid: order.sp_mchid,
        sub_mchid: order.sub_mchid,
        out_trade_no: order.out_trade_no,
    })
}

/// The payer's ids once paid (§7.1): the OpenID given, and the same simulated user's other
/// OpenID when that app is part of the order.
fn payer_ids(order: &Order) -> (Option<String>, Option<String>) {
    let sp = order.text("/payer/sp_openid");
    let sub = order.text("/payer/sub_openid");
    let user = users()
        .into_iter()
        .find(|u| sp.as_deref() == Some(&u.sp_openid) || sub.as_deref() == Some(&u.sub_openid));
    let with_sub_app = order.text("/sub_appid").is_some();
    let sp_id = sp.or_else(|| user.as_ref().map(|u| u.sp_openid.clone()));
    let sub_id = sub.or_else(|| user.filter(|_| with_sub_app).map(|u| u.sub_openid.clone()));
    (sp_id, sub_id)
}

/// `POST /sandbox/v1/pay` (§7.4).
pub(crate) async fn pay(app: &Arc<Shared>, r: PayRequest) -> Result<PayOutcome> {
    let now = app.now();
    let front_end = r.app_id.is_some()
        || r.time_stamp.is_some()
        || r.nonce_str.is_some()
        || r.package.is_some()
        || r.sign_type.is_some()
        || r.pay_sign.is_some();
    let target = if front_end {
        check_pay_form(app, &r, now)?
    } else {
        let missing = |name: &str| {
            refused(
                "INVALID_INPUT",
                format!("{name} is required (or give the six front-end values)"),
            )
        };
        OrderRef {
            sp_mchid: r.sp_mchid.clone().ok_or_else(|| missing("sp_mchid"))?,
            sub_mchid: r.sub_mchid.clone().ok_or_else(|| missing("sub_mchid"))?,
            out_trade_no: r
                .out_trade_no
                .clone()
                .ok_or_else(|| missing("out_trade_no"))?,
        }
    };
    let outcome = match r.outcome.as_deref() {
        None | Some("SUCCESS") => None,
        Some(o @ ("USER_CANCEL" | "INSUFFICIENT_FUNDS")) => Some(o.to_owned()),
        Some(_) => {
            return Err(refused(
                "INVALID_INPUT",
                "outcome must be SUCCESS, USER_CANCEL or INSUFFICIENT_FUNDS",
            ));
        }
    };
    let (transaction, notify_url, page) = {
        let mut guard = app.lock();
        let st = &mut *guard;
        let bank_type = st.settings.bank_type.clone();
        let seq = st.payment_seq + 1;
        let order = find_order(st, &target)?;
        if order.state != OrderState::NotPay {
            return Err(refused(
                "ORDER_NOT_PAYABLE",
                format!("the order is {}, not NOTPAY", order.state.name()),
            ));
        }
        if now > order.time_expire {
            return Err(refused(
                "ORDER_EXPIRED",
                "the order's time_expire has passed",
            ));
        }
        if let Some(outcome) = outcome {
            // JSAPI failures are not terminal: the order stays payable and nobody is notified.
            return Ok(PayOutcome {
                trade_state: "NOTPAY".into(),
                outcome: Some(outcome),
                transaction_id: None,
                receipt_url: None,
                gold_plan_page_url: None,
                callback_id: None,
            });
        }
        let transaction_id = new_transaction_id(now, seq);
        let (sp_openid, sub_openid) = payer_ids(order);
        order.state = OrderState::Success;
        order.transaction_id = Some(transaction_id.clone());
        order.success_time = Some(now);
        order.bank_type = Some(bank_type);
        order.payer_sp_openid = sp_openid;
        order.payer_sub_openid = sub_openid;
        order.payer_total = Some(order.total());
        let transaction = order.transaction();
        let notify_url = order.text("/notify_url").unwrap_or_default();
        st.payment_seq = seq;
        let page = gold_plan_page(st, &target, &transaction_id);
        (transaction, notify_url, page)
    };
    let receipt_url = page.as_ref().and_then(|p| p.receipt_url.clone());
    let gold_plan_page_url = page.map(|_| gold_plan_page_url(&app.base_url, &target));
    app.persist_state()?;
    let callback_id = notify(app, &target.sp_mchid, &notify_url, &transaction).await?;
    Ok(PayOutcome {
        trade_state: "SUCCESS".into(),
        outcome: None,
        transaction_id: transaction.transaction_id,
        receipt_url,
        gold_plan_page_url,
        callback_id,
    })
}

/// What WeChat shows after paying `target` (`transaction_id`): `None` when Gold Plan is not
/// open for the special merchant (WeChat's ordinary result page, no Gold Plan page); a page
/// without receipt when the receipt switch is off or no receipt link is configured (it then
/// says "无法获取订单信息", as the guide's FAQ describes); otherwise a page embedding the
/// receipt link with `sub_mch_id`, `out_trade_no` and the `check_code` of `APIV3.md` §9.3.
fn gold_plan_page(st: &State, target: &OrderRef, transaction_id: &str) -> Option<GoldPlanPage> {
    let merchant = st.merchants.get(&target.sp_mchid)?;
    let sub = merchant.sub_merchants.get(&target.sub_mchid)?;
    if sub.gold_plan != Switch::Open {
        return None;
    }
    let link = sub
        .receipt_link
        .clone()
        .or_else(|| merchant.receipt_link.clone())
        .filter(|_| sub.custom_page == Switch::Open);
    let receipt_url = link.map(|link| {
        let check_code = goldplan::receipt::expected_check_code(
            &link,
            &target.sub_mchid,
            &target.out_trade_no,
            transaction_id,
        );
        format!(
            "{link}?sub_mch_id={}&out_trade_no={}&check_code={check_code}",
            target.sub_mchid, target.out_trade_no
        )
    });
    let order = st.orders.get(&order_key(target))?;
    Some(GoldPlanPage {
        receipt_url,
        merchant_name: format!("特约商户 {}", target.sub_mchid),
        description: order.text("/description").unwrap_or_default(),
        total: u64::try_from(order.total()).ok(),
        out_trade_no: target.out_trade_no.clone(),
        transaction_id: transaction_id.to_owned(),
    })
}

/// The sandbox URL of a paid order's Gold Plan page (`GET /sandbox/v1/gold-plan-page`).
fn gold_plan_page_url(base_url: &str, target: &OrderRef) -> String {
    // Order numbers may hold `|` and `*` (PAYMENTS.md §1.1); the rest needs no escaping.
    let escape = |s: &str| s.replace('|', "%7C").replace('*', "%2A");
    format!(
        "{base_url}/sandbox/v1/gold-plan-page?sp_mchid={}&sub_mchid={}&out_trade_no={}",
        escape(&target.sp_mchid),
        escape(&target.sub_mchid),
        escape(&target.out_trade_no)
    )
}

/// The Gold Plan page of a paid order, as `GET /sandbox/v1/gold-plan-page` serves it.
pub(crate) fn paid_order_page(app: &Shared, target: &OrderRef) -> Result<Option<GoldPlanPage>> {
    let mut guard = app.lock();
    let st = &mut *guard;
    let order = find_order(st, target)?;
    let transaction_id = match (&order.state, &order.transaction_id) {
        (OrderState::Success | OrderState::Refund, Some(id)) => id.clone(),
        _ => {
            return Err(refused(
                "ORDER_NOT_PAID",
                format!(
                    "the order is {}: WeChat shows a Gold Plan page after a payment",
                    order.state.name()
                ),
            ));
        }
    };
    Ok(gold_plan_page(st, target, &transaction_id))
}

/// Queues N1 (§7.6) when `notify_url` is a loopback URL; the sandbox reaches nothing else.
async fn notify(
    app: &Arc<Shared>,
    sp_mchid: &str,
    notify_url: &str,
    transaction: &PartnerTransaction,
) -> Result<Option<String>> {
    let deliverable = reqwest::Url::parse(notify_url).is_ok_and(|u| loopback_url(&u));
    if !deliverable {
        tracing::info!(
            notify_url,
            "payment notification not sent: not a loopback URL"
        );
        return Ok(None);
    }
    let plaintext = serde_json::to_string(transaction)
        .map_err(|e| SandboxError::InvalidInput(format!("cannot serialise the order: {e}")))?;
    let record = crate::callbacks::send(
        app,
        CallbackRequest {
            mchid: Some(sp_mchid.to_owned()),
            summary: Some("支付成功".into()),
            original_type: Some("transaction".into()),
            associated_data: Some("transaction".into()),
            // A string is sent verbatim: the key order of §3.5 survives.
            ..CallbackRequest::new(notify_url, Value::String(plaintext))
        },
    )
    .await?;
    Ok(Some(record.id))
}

/// `POST /sandbox/v1/refund`: `SUCCESS` → `REFUND` (idempotent).
pub(crate) fn refund(app: &Shared, r: &OrderRef) -> Result<PartnerTransaction> {
    let transaction = {
        let mut st = app.lock();
        let order = find_order(&mut st, r)?;
        match order.state {
            OrderState::Success => order.state = OrderState::Refund,
            OrderState::Refund => {}
            other => {
                return Err(refused(
                    "ORDER_NOT_PAID",
                    format!("the order is {}, not paid", other.name()),
                ));
            }
        }
        order.transaction()
    };
    app.persist_state()?;
    Ok(transaction)
}

/// `POST /sandbox/v1/expire`: moves an unpaid order's `time_expire` into the past, so it can
/// no longer be paid (a re-prepay answers `TRADE_ERROR`).
pub(crate) fn expire(app: &Shared, r: &OrderRef) -> Result<PartnerTransaction> {
    let now = app.now();
    let transaction = {
        let mut st = app.lock();
        let order = find_order(&mut st, r)?;
        if order.state != OrderState::NotPay {
            return Err(refused(
                "ORDER_NOT_PAYABLE",
                format!("the order is {}, not NOTPAY", order.state.name()),
            ));
        }
        order.time_expire = order.time_expire.min(now - 1);
        order.transaction()
    };
    app.persist_state()?;
    Ok(transaction)
}

/// The transaction object of an order, as E2 would answer it.
pub(crate) fn order(app: &Shared, r: &OrderRef) -> Result<PartnerTransaction> {
    let mut st = app.lock();
    find_order(&mut st, r).map(|o| o.transaction())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_have_the_documented_layout() {
        // 2024-01-01T12:00:05+08:00
        let now = 1_704_081_605;
        let t = new_transaction_id(now, 7);
        assert_eq!(t, "4200000000202401010000000007");
        assert_eq!(t.len(), 28);
        let p = new_prepay_id(now).unwrap_or_default();
        assert_eq!(p.len(), 36);
        assert!(p.starts_with("wx20240101120005"));
        assert!(
            p[16..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }

    #[test]
    fn percent_escapes_are_decoded() {
        assert_eq!(percent_decode("A%7CB%2a").as_deref(), Some("A|B*"));
        assert_eq!(percent_decode("100%").as_deref(), Some("100%"));
    }
}
