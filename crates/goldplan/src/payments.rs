//! Partner-mode (服务商) JSAPI payments (PAYMENTS.md), the second service under the
//! [`ApiCall`] contract: prepay (E1), query by `out_trade_no` (E2) and by `transaction_id`
//! (E3), close (E4), the front-end pay-sign (§2) and the payment notification's transaction
//! (§5). The Gold Plan page, and with it the merchant receipt, only exists after such a
//! payment, and the receipt's `check_code` needs the order's `transaction_id`.
//!
//! Transport-free like [`crate::gold_plan`]: the client sends these bodies, the sandbox
//! receives them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{Error, Result};
use crate::redact::Rejected;
use crate::service::NoContent;
pub use crate::service::{ApiCall, Endpoint};

/// E1 JSAPI prepay: `POST /v3/pay/partner/transactions/jsapi` → 200 `{prepay_id}`.
pub const JSAPI_PREPAY: Endpoint = Endpoint {
    method: "POST",
    path: "/v3/pay/partner/transactions/jsapi",
};
/// E2 query by merchant order number → 200 transaction.
pub const QUERY_BY_OUT_TRADE_NO: Endpoint = Endpoint {
    method: "GET",
    path: "/v3/pay/partner/transactions/out-trade-no/{out_trade_no}",
};
/// E3 query by WeChat Pay order number (paid orders only) → 200 transaction.
pub const QUERY_BY_TRANSACTION_ID: Endpoint = Endpoint {
    method: "GET",
    path: "/v3/pay/partner/transactions/id/{transaction_id}",
};
/// E4 close: `POST …/out-trade-no/{out_trade_no}/close` → 204.
pub const CLOSE_ORDER: Endpoint = Endpoint {
    method: "POST",
    path: "/v3/pay/partner/transactions/out-trade-no/{out_trade_no}/close",
};

/// Largest order amount in fen: the official SDKs carry it as a 32-bit integer.
pub const MAX_AMOUNT: i64 = (1 << 31) - 1;
/// Longest `description`, in characters.
pub const MAX_DESCRIPTION_LEN: usize = 127;
/// Longest `attach`, in characters.
pub const MAX_ATTACH_LEN: usize = 128;
/// Longest `notify_url`, in characters.
pub const MAX_NOTIFY_URL_LEN: usize = 255;
/// Longest id (`sp_mchid`, `sub_mchid`, an AppID, `transaction_id`), in characters.
pub const MAX_ID_LEN: usize = 32;
/// Longest OpenID, in characters.
pub const MAX_OPENID_LEN: usize = 128;
/// Most items of `detail.goods_detail`.
pub const MAX_GOODS: usize = 6000;

wire_enum! {
    /// `limit_pay`: the funding sources the payer may not use.
    LimitPay {
        /// No WeChat balance.
        NoBalance = "no_balance",
        /// No credit cards.
        NoCredit = "no_credit",
        /// No debit cards.
        NoDebit = "no_debit",
        /// WeChat balance only.
        BalanceOnly = "balance_only",
    }
}

wire_enum! {
    /// `trade_state` of a transaction (§3.3). Open: a value this version does not know is
    /// kept as `Unknown`.
    TradeState {
        /// Paid.
        Success = "SUCCESS",
        /// Paid, a refund has been started.
        Refund = "REFUND",
        /// Created, not (yet) paid.
        NotPay = "NOTPAY",
        /// Closed before payment.
        Closed = "CLOSED",
        /// Revoked (MICROPAY only).
        Revoked = "REVOKED",
        /// The payer is entering a password (MICROPAY only).
        UserPaying = "USERPAYING",
        /// Payment failed.
        PayError = "PAYERROR",
        /// Accepted, debit pending.
        Accept = "ACCEPT",
    }
}

impl TradeState {
    /// Whether the order has been paid (`SUCCESS` or `REFUND`): what the receipt accepts.
    pub fn is_paid(&self) -> bool {
        matches!(self, TradeState::Success | TradeState::Refund)
    }
}

wire_enum! {
    /// `trade_type` of a paid transaction (§3.4).
    TradeType {
        /// Official-account and Mini Program payments.
        Jsapi = "JSAPI",
        /// QR code.
        Native = "NATIVE",
        /// In-app.
        App = "APP",
        /// Payment code.
        Micropay = "MICROPAY",
        /// H5.
        Mweb = "MWEB",
        /// Face payment.
        Facepay = "FACEPAY",
    }
}

/// `amount` of a prepay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Amount {
    /// Order amount in fen (CNY cents), 1 to 2^31−1.
    pub total: i64,
    /// `CNY` (the only currency of mainland merchants); absent means CNY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// `payer` of a prepay: exactly one OpenID.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Payer {
    /// The payer's OpenID under `sp_appid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_openid: Option<String>,
    /// The payer's OpenID under `sub_appid` (requires `sub_appid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_openid: Option<String>,
}

/// One item of `detail.goods_detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GoodsDetail {
    /// The merchant's goods id.
    pub merchant_goods_id: String,
    /// WeChat Pay's goods id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wechatpay_goods_id: Option<String>,
    /// Goods name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_name: Option<String>,
    /// Quantity.
    pub quantity: i64,
    /// Unit price in fen.
    pub unit_price: i64,
}

/// `detail` of a prepay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Detail {
    /// Original bill amount in fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_price: Option<i64>,
    /// Merchant ticket id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<String>,
    /// The items (1 to 6000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_detail: Option<Vec<GoodsDetail>>,
}

/// `scene_info.store_info` of a prepay (sent as given; PAYMENTS.md §9 D7).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreInfo {
    /// Store id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Store name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Area code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area_code: Option<String>,
    /// Address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// `scene_info` of a prepay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SceneInfo {
    /// The payer's IPv4 or IPv6 address.
    pub payer_client_ip: String,
    /// Merchant device or store id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_info: Option<StoreInfo>,
}

/// `settle_info` of a prepay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettleInfo {
    /// Whether the order will be split later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profit_sharing: Option<bool>,
}

/// E1 JSAPI prepay, partner mode (§1.1–1.2); fields in the order they are sent. Re-sending
/// identical parameters for an unpaid order yields a current `prepay_id` (§1.5), so the call
/// is repeated after an ambiguous failure. `Default` leaves every optional field out (and the
/// required ones empty, which validation refuses): name the fields you send, then
/// `..JsapiPrepayRequest::default()`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsapiPrepayRequest {
    /// An AppID bound to the provider.
    pub sp_appid: String,
    /// The provider's merchant id: the client's own `mchid`.
    pub sp_mchid: String,
    /// An AppID bound to the special merchant; required with `payer.sub_openid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_appid: Option<String>,
    /// The special merchant the order belongs to.
    pub sub_mchid: String,
    /// Shown in the payer's bill (at most 127 characters).
    pub description: String,
    /// The merchant order number: 6 to 32 of `0-9 A-Z a-z _ - | *`, unique.
    pub out_trade_no: String,
    /// The last moment the payer may pay, RFC 3339 (not in the past).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_expire: Option<String>,
    /// Merchant data echoed by the query and the notification once paid (at most 128).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    /// Where the payment notification goes: `https://` (or `http://` to a loopback host), no
    /// query string, at most 255 characters.
    pub notify_url: String,
    /// Coupon or discount tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_tag: Option<String>,
    /// Whether an e-invoice entry is shown after payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_fapiao: Option<bool>,
    /// Funding sources the payer may not use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_pay: Option<Vec<LimitPay>>,
    /// `{total, currency?}`: the amount in fen.
    pub amount: Amount,
    /// `{sp_openid}` or `{sub_openid}`: exactly one.
    pub payer: Payer,
    /// `{cost_price?, invoice_id?, goods_detail?}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Detail>,
    /// `{payer_client_ip, device_id?, store_info?}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene_info: Option<SceneInfo>,
    /// `{profit_sharing?}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settle_info: Option<SettleInfo>,
}

/// The answer of a prepay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PrepayResponse {
    /// The pre-payment session id (opaque, valid 2 hours): what [`request_payment`] signs.
    pub prepay_id: String,
}

/// E2: an order by its merchant order number, in any state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryByOutTradeNoRequest {
    /// The merchant order number (sent in the path).
    #[serde(skip_serializing)]
    pub out_trade_no: String,
    /// The provider's merchant id.
    pub sp_mchid: String,
    /// The special merchant.
    pub sub_mchid: String,
}

/// E3: a paid order by its WeChat Pay order number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryByTransactionIdRequest {
    /// The WeChat Pay order number (sent in the path).
    #[serde(skip_serializing)]
    pub transaction_id: String,
    /// The provider's merchant id.
    pub sp_mchid: String,
    /// The special merchant.
    pub sub_mchid: String,
}

/// E4: closes an unpaid order. The order number goes in the path only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseOrderRequest {
    /// The merchant order number (sent in the path).
    #[serde(skip_serializing)]
    pub out_trade_no: String,
    /// The provider's merchant id.
    pub sp_mchid: String,
    /// The special merchant.
    pub sub_mchid: String,
}

/// `payer` of a transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TransactionPayer {
    /// OpenID under `sp_appid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_openid: Option<String>,
    /// OpenID under `sub_appid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_openid: Option<String>,
}

/// `amount` of a transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TransactionAmount {
    /// Order amount in fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    /// What the payer paid, after discounts (once paid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_total: Option<i64>,
    /// `CNY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The payer's currency (once paid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_currency: Option<String>,
}

/// A partner-mode transaction (§3.2): the answer of both queries and the decrypted payment
/// notification. Unknown fields are ignored and every field but the four that identify it is
/// optional (§3.2); `trade_state` keeps values it does not know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PartnerTransaction {
    /// The provider's AppID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_appid: Option<String>,
    /// The provider's merchant id.
    pub sp_mchid: String,
    /// The special merchant's AppID, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_appid: Option<String>,
    /// The special merchant.
    pub sub_mchid: String,
    /// The merchant order number.
    pub out_trade_no: String,
    /// The WeChat Pay order number, once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// `JSAPI` for orders made by prepay, once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_type: Option<TradeType>,
    /// The order's state.
    pub trade_state: TradeState,
    /// Human text; never branch on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_state_desc: Option<String>,
    /// Funding code, once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_type: Option<String>,
    /// The prepay's `attach`, once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    /// RFC 3339 payment time, once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    /// The payer, once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<TransactionPayer>,
    /// The amounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<TransactionAmount>,
    /// `{device_id?}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene_info: Option<Value>,
    /// Discounts applied, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion_detail: Option<Vec<Value>>,
}

impl PartnerTransaction {
    /// The transaction of a decrypted payment notification resource. Refuses a notification
    /// whose resource is not a transaction (`original_type` other than `transaction`, or a
    /// plaintext without the fields that identify an order) with an `invalid_input` error:
    /// the wrong callback was handed over.
    pub fn from_notification(original_type: Option<&str>, plaintext: &str) -> Result<Self> {
        if let Some(kind) = original_type
            && kind != "transaction"
        {
            return Err(Error::InvalidInput(format!(
                "the notification's resource is a {}, not a transaction",
                crate::error::Untrusted(kind, 64)
            )));
        }
        serde_json::from_str(plaintext).map_err(|e| {
            Error::InvalidInput(format!(
                "the notification's resource is not a transaction (line {}, column {})",
                e.line(),
                e.column()
            ))
        })
    }
}

/// How long [`crate::Client::resolve_transaction_id`]'s query may take by default: one
/// attempt of 1 s leaves most of the receipt page's 3 s to the page (PAYMENTS.md §6.1).
pub const RESOLVE_TIMEOUT_MS: u64 = 1000;

/// What the order query says about a receipt's order (PAYMENTS.md §6.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResolvedTransaction {
    /// The order's `transaction_id` when it is paid (`SUCCESS` or `REFUND`); `null` when the
    /// order is unknown (`404 ORDER_NOT_EXIST`) or not paid: show the official page.
    pub transaction_id: Option<String>,
    /// The order's state; `null` when there is no such order.
    pub trade_state: Option<TradeState>,
}

/// The six values a page hands to `WeixinJSBridge.invoke('getBrandWCPayRequest', …)` (§2.1),
/// serialised with exactly those key names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RequestPayment {
    /// The AppID the payer is in (§2.3).
    #[serde(rename = "appId")]
    pub app_id: String,
    /// Unix time in seconds, as a decimal string.
    #[serde(rename = "timeStamp")]
    pub time_stamp: String,
    /// 32 random characters.
    #[serde(rename = "nonceStr")]
    pub nonce_str: String,
    /// `prepay_id=` and the prepay id.
    pub package: String,
    /// `RSA`.
    #[serde(rename = "signType")]
    pub sign_type: String,
    /// base64 SHA256withRSA over [`pay_sign_message`] with the merchant key.
    #[serde(rename = "paySign")]
    pub pay_sign: String,
}

/// The message a pay-sign covers (§2.2): four lines, each ended by `\n`.
pub fn pay_sign_message(app_id: &str, time_stamp: &str, nonce_str: &str, package: &str) -> String {
    format!("{app_id}\n{time_stamp}\n{nonce_str}\n{package}\n")
}

/// Checks a pay-sign's inputs: an AppID and a prepay id are single-line, non-empty values
/// (a newline would add a line to the signed message).
pub fn validate_request_payment(app_id: &str, prepay_id: &str) -> Result<()> {
    check_id("app_id", app_id, MAX_ID_LEN)?;
    let n = prepay_id.chars().count();
    if n == 0 || n > 64 || prepay_id.chars().any(char::is_control) {
        return Err(Error::InvalidInput(format!(
            "prepay_id must be 1 to 64 characters without control characters, got {}",
            Rejected(prepay_id)
        )));
    }
    Ok(())
}

/// The front-end pay-sign (§2) with a caller-chosen time and nonce (what makes it
/// reproducible); `sign` is the merchant key's request signer. [`crate::Client::request_payment`]
/// takes the clock's time and a fresh nonce.
pub async fn request_payment(
    signer: &dyn crate::sign::Signer,
    app_id: &str,
    prepay_id: &str,
    timestamp: i64,
    nonce_str: &str,
) -> Result<RequestPayment> {
    validate_request_payment(app_id, prepay_id)?;
    // Seconds, never milliseconds: a 13-digit value breaks the signature on the device (§2.1).
    if !(1..10_000_000_000).contains(&timestamp) {
        return Err(Error::InvalidInput(format!(
            "time_stamp must be Unix seconds (at most 10 digits), got {} digits",
            timestamp.unsigned_abs().to_string().len()
        )));
    }
    if nonce_str.is_empty()
        || nonce_str.len() > 32
        || !nonce_str.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(Error::InvalidInput(format!(
            "nonce_str must be 1 to 32 of 0-9, A-Z, a-z; got {}",
            Rejected(nonce_str)
        )));
    }
    let time_stamp = timestamp.to_string();
    let package = format!("prepay_id={prepay_id}");
    let message = pay_sign_message(app_id, &time_stamp, nonce_str, &package);
    let pay_sign = signer.sign(message.as_bytes()).await?;
    Ok(RequestPayment {
        app_id: app_id.to_owned(),
        time_stamp,
        nonce_str: nonce_str.to_owned(),
        package,
        sign_type: "RSA".to_owned(),
        pay_sign,
    })
}

impl JsapiPrepayRequest {
    /// The AppID a pay-sign for this order must name (§2.3): `sub_appid` when the payer is
    /// identified by `sub_openid`, else `sp_appid`.
    pub fn payment_app_id(&self) -> &str {
        match (&self.payer.sub_openid, &self.sub_appid) {
            (Some(_), Some(sub_appid)) => sub_appid,
            _ => &self.sp_appid,
        }
    }

    /// §1.6 at the time `now` (Unix seconds): what [`ApiCall::validate`] checks with the
    /// system clock.
    pub fn validate_at(&self, now: i64) -> Result<()> {
        check_id("sp_appid", &self.sp_appid, MAX_ID_LEN)?;
        check_id("sp_mchid", &self.sp_mchid, MAX_ID_LEN)?;
        check_id("sub_mchid", &self.sub_mchid, MAX_ID_LEN)?;
        if let Some(sub_appid) = &self.sub_appid {
            check_id("sub_appid", sub_appid, MAX_ID_LEN)?;
        }
        check_len("description", &self.description, 1, MAX_DESCRIPTION_LEN)?;
        validate_out_trade_no(&self.out_trade_no)?;
        if let Some(attach) = &self.attach {
            check_len("attach", attach, 0, MAX_ATTACH_LEN)?;
        }
        if let Some(tag) = &self.goods_tag {
            check_len("goods_tag", tag, 1, MAX_ID_LEN)?;
        }
        validate_notify_url(&self.notify_url)?;
        if let Some(expire) = &self.time_expire {
            validate_time_expire(expire, now)?;
        }
        if let Some(limits) = &self.limit_pay {
            limits
                .iter()
                .try_for_each(|l| l.ensure_known("limit_pay"))?;
        }
        validate_amount(&self.amount)?;
        self.validate_payer()?;
        if let Some(detail) = &self.detail {
            validate_detail(detail)?;
        }
        if let Some(scene) = &self.scene_info {
            check_len("scene_info.payer_client_ip", &scene.payer_client_ip, 1, 45)?;
            if scene.payer_client_ip.parse::<std::net::IpAddr>().is_err() {
                return Err(Error::InvalidInput(format!(
                    "scene_info.payer_client_ip must be an IPv4 or IPv6 address, got {}",
                    Rejected(&scene.payer_client_ip)
                )));
            }
        }
        Ok(())
    }

    /// Exactly one OpenID, `sub_openid` only with `sub_appid` (§1.2).
    fn validate_payer(&self) -> Result<()> {
        match (&self.payer.sp_openid, &self.payer.sub_openid) {
            (Some(_), Some(_)) => Err(Error::InvalidInput(
                "payer must hold exactly one of sp_openid and sub_openid, not both (the \
                 pay-sign's appId would be ambiguous)"
                    .into(),
            )),
            (None, None) => Err(Error::InvalidInput(
                "payer must hold sp_openid or sub_openid".into(),
            )),
            (Some(openid), None) => check_len("payer.sp_openid", openid, 1, MAX_OPENID_LEN),
            (None, Some(openid)) => {
                if self.sub_appid.is_none() {
                    return Err(Error::InvalidInput(
                        "payer.sub_openid needs sub_appid (the AppID that OpenID belongs to)"
                            .into(),
                    ));
                }
                check_len("payer.sub_openid", openid, 1, MAX_OPENID_LEN)
            }
        }
    }
}

fn validate_amount(amount: &Amount) -> Result<()> {
    if !(1..=MAX_AMOUNT).contains(&amount.total) {
        return Err(Error::InvalidInput(format!(
            "amount.total must be a whole number of fen from 1 to {MAX_AMOUNT}, got {}",
            amount.total
        )));
    }
    match &amount.currency {
        Some(currency) if currency != "CNY" => Err(Error::InvalidInput(format!(
            "amount.currency must be CNY or absent, got {}",
            Rejected(currency)
        ))),
        _ => Ok(()),
    }
}

fn validate_detail(detail: &Detail) -> Result<()> {
    if let Some(cost) = detail.cost_price
        && !(0..=MAX_AMOUNT).contains(&cost)
    {
        return Err(Error::InvalidInput(format!(
            "detail.cost_price must be from 0 to {MAX_AMOUNT} fen, got {cost}"
        )));
    }
    let Some(goods) = &detail.goods_detail else {
        return Ok(());
    };
    if goods.is_empty() || goods.len() > MAX_GOODS {
        return Err(Error::InvalidInput(format!(
            "detail.goods_detail must hold 1 to {MAX_GOODS} items, got {}",
            goods.len()
        )));
    }
    for item in goods {
        check_len(
            "detail.goods_detail.merchant_goods_id",
            &item.merchant_goods_id,
            1,
            MAX_ID_LEN,
        )?;
        if let Some(name) = &item.goods_name {
            check_len("detail.goods_detail.goods_name", name, 1, 256)?;
        }
        if item.quantity < 1 || item.unit_price < 0 || item.unit_price > MAX_AMOUNT {
            return Err(Error::InvalidInput(format!(
                "detail.goods_detail needs quantity ≥ 1 and unit_price from 0 to {MAX_AMOUNT} \
                 fen, got {} and {}",
                item.quantity, item.unit_price
            )));
        }
    }
    Ok(())
}

/// Checks an `out_trade_no` (§1.1): 6 to 32 characters of `0-9 A-Z a-z _ - | *`.
pub fn validate_out_trade_no(out_trade_no: &str) -> Result<()> {
    let n = out_trade_no.chars().count();
    let charset_ok = out_trade_no
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*'));
    if !(6..=32).contains(&n) || !charset_ok {
        return Err(Error::InvalidInput(format!(
            "out_trade_no must be 6 to 32 characters of 0-9, A-Z, a-z, _, -, | and *; got {}{}",
            Rejected(out_trade_no),
            if charset_ok {
                ""
            } else {
                " with other characters"
            }
        )));
    }
    Ok(())
}

/// A `notify_url` (§1.6): `https://`, or `http://` to a loopback host for tests; no query;
/// at most 255 characters.
fn validate_notify_url(url: &str) -> Result<()> {
    let refuse = |why: &str| {
        Err(Error::InvalidInput(format!(
            "notify_url {why}; got {}",
            Rejected(url)
        )))
    };
    let n = url.chars().count();
    if n > MAX_NOTIFY_URL_LEN {
        return refuse("must be at most 255 characters");
    }
    if url.contains('?') {
        return refuse("must not carry a query string");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return refuse("must not contain white space");
    }
    let (secure, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return refuse("must be an absolute https:// URL");
    };
    let authority = rest.split(['/', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() {
        return refuse("must name a host");
    }
    if !secure && !matches!(host, "127.0.0.1" | "::1" | "localhost") {
        return refuse("must be https:// (http:// only for a loopback host)");
    }
    Ok(())
}

/// A `time_expire` (§1.6): RFC 3339 and not in the past.
fn validate_time_expire(text: &str, now: i64) -> Result<()> {
    let when = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
        Error::InvalidInput(format!(
            "time_expire must be an RFC 3339 time such as 2024-01-01T12:30:00+08:00, got {}",
            Rejected(text)
        ))
    })?;
    if when.unix_timestamp() < now {
        return Err(Error::InvalidInput(format!(
            "time_expire is {} s in the past (the gateway would move it to one minute after \
             the order is made)",
            now - when.unix_timestamp()
        )));
    }
    Ok(())
}

/// An id: 1 to `max` characters, no white space or control characters.
fn check_id(field: &str, value: &str, max: usize) -> Result<()> {
    check_len(field, value, 1, max)?;
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::InvalidInput(format!(
            "{field} must not contain white space or control characters, got {}",
            Rejected(value)
        )));
    }
    Ok(())
}

/// A length in Unicode scalar values (the documents count characters).
fn check_len(field: &str, value: &str, min: usize, max: usize) -> Result<()> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(Error::InvalidInput(format!(
            "{field} must be {min} to {max} characters, got {n}"
        )));
    }
    Ok(())
}

fn unix_now() -> i64 {
    crate::clock::Clock::now(&crate::clock::SystemClock)
}

impl ApiCall for JsapiPrepayRequest {
    const NAME: &'static str = "jsapi_prepay";
    const SERVICE: &'static str = "payments";
    const DOC: &'static str = "JSAPI下单 (partner): creates an order for a special merchant and answers the prepay_id a pay-sign needs.";
    const ENDPOINT: Endpoint = JSAPI_PREPAY;
    // Identical parameters for an unpaid order answer a current prepay_id (§1.5).
    const IDEMPOTENT: bool = true;
    type Reply = PrepayResponse;
    fn validate(&self) -> Result<()> {
        self.validate_at(unix_now())
    }
}

fn validate_query(sp_mchid: &str, sub_mchid: &str) -> Result<()> {
    check_id("sp_mchid", sp_mchid, MAX_ID_LEN)?;
    check_id("sub_mchid", sub_mchid, MAX_ID_LEN)
}

impl ApiCall for QueryByOutTradeNoRequest {
    const NAME: &'static str = "query_order_by_out_trade_no";
    const SERVICE: &'static str = "payments";
    const DOC: &'static str = "商户订单号查询订单 (partner): the order in any state; 404 ORDER_NOT_EXIST when there is none.";
    const ENDPOINT: Endpoint = QUERY_BY_OUT_TRADE_NO;
    const IDEMPOTENT: bool = true;
    type Reply = PartnerTransaction;
    fn validate(&self) -> Result<()> {
        validate_out_trade_no(&self.out_trade_no)?;
        validate_query(&self.sp_mchid, &self.sub_mchid)
    }
    fn path_params(&self) -> Vec<(&'static str, &str)> {
        vec![("out_trade_no", &self.out_trade_no)]
    }
    // sp_mchid first, then sub_mchid (§3.1).
    fn query(&self) -> Vec<(&'static str, String)> {
        vec![
            ("sp_mchid", self.sp_mchid.clone()),
            ("sub_mchid", self.sub_mchid.clone()),
        ]
    }
}

impl ApiCall for QueryByTransactionIdRequest {
    const NAME: &'static str = "query_order_by_transaction_id";
    const SERVICE: &'static str = "payments";
    const DOC: &'static str =
        "微信支付订单号查询订单 (partner): a paid order; 404 ORDER_NOT_EXIST otherwise.";
    const ENDPOINT: Endpoint = QUERY_BY_TRANSACTION_ID;
    const IDEMPOTENT: bool = true;
    type Reply = PartnerTransaction;
    fn validate(&self) -> Result<()> {
        check_id("transaction_id", &self.transaction_id, MAX_ID_LEN)?;
        validate_query(&self.sp_mchid, &self.sub_mchid)
    }
    fn path_params(&self) -> Vec<(&'static str, &str)> {
        vec![("transaction_id", &self.transaction_id)]
    }
    fn query(&self) -> Vec<(&'static str, String)> {
        vec![
            ("sp_mchid", self.sp_mchid.clone()),
            ("sub_mchid", self.sub_mchid.clone()),
        ]
    }
}

impl ApiCall for CloseOrderRequest {
    const NAME: &'static str = "close_order";
    const SERVICE: &'static str = "payments";
    const DOC: &'static str =
        "关闭订单 (partner): closes an unpaid order (204); a paid order cannot be closed.";
    const ENDPOINT: Endpoint = CLOSE_ORDER;
    // Closing a closed order answers 204 (§9 D10): sending it twice closes it once.
    const IDEMPOTENT: bool = true;
    type Reply = NoContent;
    fn validate(&self) -> Result<()> {
        validate_out_trade_no(&self.out_trade_no)?;
        validate_query(&self.sp_mchid, &self.sub_mchid)
    }
    fn path_params(&self) -> Vec<(&'static str, &str)> {
        vec![("out_trade_no", &self.out_trade_no)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::{request_body, request_target};

    const NOW: i64 = 1_700_000_000;

    fn j1() -> JsapiPrepayRequest {
        JsapiPrepayRequest {
            sp_appid: "wx8888888888888888".into(),
            sp_mchid: "1900000100".into(),
            sub_appid: Some("wxd678efh567hg6999".into()),
            sub_mchid: "1900000109".into(),
            description: "点金计划测试商品".into(),
            out_trade_no: "ORDER20240101".into(),
            time_expire: None,
            attach: None,
            notify_url: "https://provider.example.com/wxpay/notify".into(),
            goods_tag: None,
            support_fapiao: None,
            limit_pay: None,
            amount: Amount {
                total: 100,
                currency: Some("CNY".into()),
            },
            payer: Payer {
                sp_openid: None,
                sub_openid: Some("oSubTest0123456789abcdefABCD".into()),
            },
            detail: None,
            scene_info: None,
            settle_info: None,
        }
    }

    fn sha256_hex(bytes: &[u8]) -> String {
        hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes))
    }

    #[test]
    fn the_prepay_body_and_its_message_match_vector_j1() {
        let body = request_body(&j1()).unwrap().unwrap();
        assert_eq!(body.len(), 338);
        assert_eq!(
            sha256_hex(&body),
            "95ee69dec6d68c6f1774ce2400f4d133d96a54acc5a2b8994539b7605bc69c52"
        );
        let target = request_target(&j1()).unwrap();
        let message = crate::sign::message_to_sign(
            "POST",
            &target,
            1_700_000_000,
            "C5vqhMqqR1fVbn2Hqk6K9Uw4tPZ3mJ8e",
            &body,
        )
        .unwrap();
        assert_eq!(message.len(), 423);
        assert_eq!(
            sha256_hex(&message),
            "92d52f31c7619bf9ac44a8ddcc206a9bac7221505a6455a054fcd261f5aaad40"
        );
        j1().validate_at(NOW).unwrap();
        assert_eq!(j1().payment_app_id(), "wxd678efh567hg6999");
    }

    #[test]
    fn query_and_close_targets_match_vectors_q1_q2_c1() {
        let nonce = "C5vqhMqqR1fVbn2Hqk6K9Uw4tPZ3mJ8e";
        let q1 = QueryByOutTradeNoRequest {
            out_trade_no: "ORDER20240101".into(),
            sp_mchid: "1900000100".into(),
            sub_mchid: "1900000109".into(),
        };
        let m = crate::sign::message_to_sign("GET", &request_target(&q1).unwrap(), NOW, nonce, b"")
            .unwrap();
        assert_eq!(
            sha256_hex(&m),
            "3606ce897c7a96874cdc5c980222c2e079a15eb3236dea149e7706711f2819c4"
        );
        let q2 = QueryByTransactionIdRequest {
            transaction_id: "4200000000000000000000000001".into(),
            sp_mchid: "1900000100".into(),
            sub_mchid: "1900000109".into(),
        };
        let m = crate::sign::message_to_sign("GET", &request_target(&q2).unwrap(), NOW, nonce, b"")
            .unwrap();
        assert_eq!(m.len(), 151);
        assert_eq!(
            sha256_hex(&m),
            "0069954d029391c0c0c3963a1d9992fd89944b05310fc2ae3c2d138c5437579e"
        );
        let c1 = CloseOrderRequest {
            out_trade_no: "ORDER20240101".into(),
            sp_mchid: "1900000100".into(),
            sub_mchid: "1900000109".into(),
        };
        let body = request_body(&c1).unwrap().unwrap();
        let m =
            crate::sign::message_to_sign("POST", &request_target(&c1).unwrap(), NOW, nonce, &body)
                .unwrap();
        assert_eq!(m.len(), 162);
        assert_eq!(
            sha256_hex(&m),
            "2d8ad4936c552a25fe1551fc5622c5c15ab7e7aca9b4761ca5c8b99354fcfe26"
        );
        // `|` and `*` are percent-encoded in the path, as Go does (§3.1).
        let odd = QueryByOutTradeNoRequest {
            out_trade_no: "A|B*C-1".into(),
            ..q1
        };
        assert!(
            request_target(&odd)
                .unwrap()
                .starts_with("/v3/pay/partner/transactions/out-trade-no/A%7CB%2AC-1?")
        );
    }

    #[test]
    fn pay_sign_messages_match_vectors_p1() {
        let p1 = pay_sign_message(
            "wxd678efh567hg6999",
            "1700000000",
            "C5vqhMqqR1fVbn2Hqk6K9Uw4tPZ3mJ8e",
            "prepay_id=wx201410272009395522657a690389285100",
        );
        assert_eq!(p1.len(), 110);
        assert_eq!(
            sha256_hex(p1.as_bytes()),
            "b60877e94d724c4c3bb0692b9cd978842244e4a178563f071a9a365e9c7ea36d"
        );
        let ms = pay_sign_message(
            "wxd678efh567hg6999",
            "1700000000000",
            "C5vqhMqqR1fVbn2Hqk6K9Uw4tPZ3mJ8e",
            "prepay_id=wx201410272009395522657a690389285100",
        );
        assert_ne!(ms, p1);
        assert_ne!(p1.trim_end_matches('\n'), p1);
        assert!(validate_request_payment("wx1", "").is_err());
        assert!(validate_request_payment("wx1", "wx1\nx").is_err());
        assert!(validate_request_payment("", "wx1").is_err());
        assert!(validate_request_payment("wx1", "wx1").is_ok());
    }

    #[test]
    fn client_side_rules_name_the_field_and_never_echo_it() {
        let refused = |r: JsapiPrepayRequest, field: &str| {
            let e = r.validate_at(NOW).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{e}");
            assert!(e.to_string().contains(field), "{field}: {e}");
            e.to_string()
        };
        for total in [0, -1, MAX_AMOUNT + 1] {
            let mut r = j1();
            r.amount.total = total;
            refused(r, "amount.total");
        }
        let mut r = j1();
        r.amount.currency = Some("USD".into());
        refused(r, "amount.currency");
        for bad in ["ORDER 2024", &"A".repeat(33), "ABCDE", "订单号订单号订单"] {
            let mut r = j1();
            r.out_trade_no = bad.into();
            let e = refused(r, "out_trade_no");
            assert!(!e.contains(bad), "{e}");
        }
        let mut r = j1();
        r.out_trade_no = "A|B*C-_9".into();
        r.validate_at(NOW).unwrap();
        for expire in [
            "2023-11-14T00:00:00+08:00",
            "tomorrow",
            "2024-01-01 12:00:00",
        ] {
            let mut r = j1();
            r.time_expire = Some(expire.into());
            refused(r, "time_expire");
        }
        let mut r = j1();
        r.time_expire = Some("2023-11-15T12:00:00+08:00".into());
        r.validate_at(NOW).unwrap();
        let mut r = j1();
        r.sub_appid = None;
        refused(r, "sub_appid");
        let mut r = j1();
        r.payer.sp_openid = Some("oSp".into());
        refused(r, "payer");
        let mut r = j1();
        r.payer = Payer::default();
        refused(r, "payer");
        let mut r = j1();
        r.attach = Some("a".repeat(129));
        refused(r, "attach");
        let mut r = j1();
        r.description = "说".repeat(127);
        r.validate_at(NOW).unwrap();
        r.description.push('明');
        refused(r, "description");
        for url in [
            "http://provider.example.com/n",
            "https://provider.example.com/n?x=1",
            "ftp://x/y",
            "https:///n",
        ] {
            let mut r = j1();
            r.notify_url = url.into();
            refused(r, "notify_url");
        }
        for url in [
            "http://127.0.0.1:8080/n",
            "http://[::1]:9/n",
            "http://localhost/n",
        ] {
            let mut r = j1();
            r.notify_url = url.into();
            r.validate_at(NOW).unwrap();
        }
        let mut r = j1();
        r.scene_info = Some(SceneInfo {
            payer_client_ip: "not-an-ip".into(),
            device_id: None,
            store_info: None,
        });
        refused(r, "payer_client_ip");
    }

    #[test]
    fn the_pay_sign_app_id_follows_the_payer() {
        let mut r = j1();
        r.payer = Payer {
            sp_openid: Some("oSp".into()),
            sub_openid: None,
        };
        r.sub_appid = None;
        assert_eq!(r.payment_app_id(), "wx8888888888888888");
    }

    #[test]
    fn transactions_ignore_unknown_fields_and_keep_unknown_states() {
        let paid = r#"{"sp_appid":"wx8888888888888888","sp_mchid":"1900000100","sub_appid":"wxd678efh567hg6999",
 "sub_mchid":"1900000109","out_trade_no":"ORDER20240101",
 "transaction_id":"4200000000000000000000000001","trade_type":"JSAPI","trade_state":"SUCCESS",
 "trade_state_desc":"支付成功","bank_type":"CMC","success_time":"2024-01-01T12:00:05+08:00",
 "payer":{"sp_openid":"oSpTest0123456789abcdefABCDE","sub_openid":"oSubTest0123456789abcdefABCD"},
 "amount":{"total":100,"payer_total":100,"currency":"CNY","payer_currency":"CNY"},"new_field":1}"#;
        let t = PartnerTransaction::from_notification(Some("transaction"), paid).unwrap();
        assert!(t.trade_state.is_paid());
        assert_eq!(t.trade_type, Some(TradeType::Jsapi));
        assert_eq!(
            t.transaction_id.as_deref(),
            Some("4200000000000000000000000001")
        );
        let odd: PartnerTransaction = serde_json::from_str(
            r#"{"sp_mchid":"1","sub_mchid":"2","out_trade_no":"ORDER1","trade_state":"FROZEN"}"#,
        )
        .unwrap();
        assert_eq!(odd.trade_state, TradeState::Unknown("FROZEN".into()));
        assert!(!odd.trade_state.is_paid());
        let e = PartnerTransaction::from_notification(Some("coupon"), paid).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        let e = PartnerTransaction::from_notification(None, r#"{"stock_id":"1"}"#).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(!e.to_string().contains("stock_id"), "{e}");
    }
}
