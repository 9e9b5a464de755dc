//! The order model the sandbox keeps (PAYMENTS.md §7.1, §7.2): an order, its state and its
//! prepay ids, and the simulated payers. Data only: the rules that move an order live in
//! [`crate::payments`].

use goldplan::payments::{
    PartnerTransaction, TradeState, TradeType, TransactionAmount, TransactionPayer,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::clock::rfc3339_cst;
use crate::config::{DEFAULT_SP_OPENID, DEFAULT_SUB_OPENID};
use crate::model::SimulatedUser;

/// How long a `prepay_id` can be paid with (§1.3).
pub(crate) const PREPAY_VALIDITY_SECS: i64 = 2 * 3600;
/// The simulated payers (§7.1): one OpenID under the provider's AppID, one under the special
/// merchants' default AppID.
pub(crate) fn users() -> Vec<SimulatedUser> {
    vec![SimulatedUser {
        sp_openid: DEFAULT_SP_OPENID.to_owned(),
        sub_openid: DEFAULT_SUB_OPENID.to_owned(),
    }]
}

/// `trade_state` of a stored order: the four states E1–E4 and the admin API produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum OrderState {
    #[serde(rename = "NOTPAY")]
    NotPay,
    #[serde(rename = "SUCCESS")]
    Success,
    #[serde(rename = "REFUND")]
    Refund,
    #[serde(rename = "CLOSED")]
    Closed,
}

impl OrderState {
    pub(crate) fn is_paid(self) -> bool {
        matches!(self, OrderState::Success | OrderState::Refund)
    }

    pub(crate) fn wire(self) -> (TradeState, &'static str) {
        match self {
            OrderState::NotPay => (TradeState::NotPay, "订单未支付"),
            OrderState::Success => (TradeState::Success, "支付成功"),
            OrderState::Refund => (TradeState::Refund, "已转入退款"),
            OrderState::Closed => (TradeState::Closed, "订单已关闭"),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            OrderState::NotPay => "NOTPAY",
            OrderState::Success => "SUCCESS",
            OrderState::Refund => "REFUND",
            OrderState::Closed => "CLOSED",
        }
    }
}

/// One `prepay_id` handed out for an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PrepayId {
    pub(crate) id: String,
    /// Sandbox time it was issued; it can be paid with for [`PREPAY_VALIDITY_SECS`].
    pub(crate) issued_at: i64,
}

/// An order as the sandbox keeps it (§7.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Order {
    pub(crate) sp_mchid: String,
    pub(crate) sub_mchid: String,
    pub(crate) out_trade_no: String,
    /// The prepay body as received (validated): what a re-prepay is compared with.
    pub(crate) request: Value,
    pub(crate) created_at: i64,
    /// The effective last moment of payment (clamped, §7.3 step 10), sandbox time.
    pub(crate) time_expire: i64,
    pub(crate) state: OrderState,
    pub(crate) prepay_ids: Vec<PrepayId>,
    #[serde(default)]
    pub(crate) transaction_id: Option<String>,
    #[serde(default)]
    pub(crate) success_time: Option<i64>,
    #[serde(default)]
    pub(crate) bank_type: Option<String>,
    #[serde(default)]
    pub(crate) payer_sp_openid: Option<String>,
    #[serde(default)]
    pub(crate) payer_sub_openid: Option<String>,
    #[serde(default)]
    pub(crate) payer_total: Option<i64>,
}

impl Order {
    pub(crate) fn text(&self, pointer: &str) -> Option<String> {
        self.request
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    pub(crate) fn total(&self) -> i64 {
        self.request
            .pointer("/amount/total")
            .and_then(Value::as_i64)
            .unwrap_or_default()
    }

    /// The live `prepay_id` at `now`, if any.
    pub(crate) fn live_prepay(&self, now: i64) -> Option<&PrepayId> {
        self.prepay_ids
            .iter()
            .rev()
            .find(|p| now - p.issued_at < PREPAY_VALIDITY_SECS)
    }

    /// The transaction object of §3.2 for this order (fields per state as §3.5 and §7.5).
    pub(crate) fn transaction(&self) -> PartnerTransaction {
        let paid = self.state.is_paid();
        let (trade_state, desc) = self.state.wire();
        let device_id = self.text("/scene_info/device_id");
        PartnerTransaction {
            sp_appid: self.text("/sp_appid"),
            sp_mchid: self.sp_mchid.clone(),
            sub_appid: self.text("/sub_appid"),
            sub_mchid: self.sub_mchid.clone(),
            out_trade_no: self.out_trade_no.clone(),
            transaction_id: self.transaction_id.clone().filter(|_| paid),
            trade_type: paid.then_some(TradeType::Jsapi),
            trade_state,
            trade_state_desc: Some(desc.to_owned()),
            bank_type: self.bank_type.clone().filter(|_| paid),
            attach: self.text("/attach").filter(|_| paid),
            success_time: self.success_time.filter(|_| paid).map(rfc3339_cst),
            payer: paid.then(|| TransactionPayer {
                sp_openid: self.payer_sp_openid.clone(),
                sub_openid: self.payer_sub_openid.clone(),
            }),
            amount: Some(TransactionAmount {
                total: Some(self.total()),
                payer_total: self.payer_total.filter(|_| paid),
                // Mainland orders are CNY even when the prepay left `currency` out.
                currency: Some("CNY".into()),
                payer_currency: paid.then(|| "CNY".to_owned()),
            }),
            scene_info: device_id.map(|d| json!({ "device_id": d })),
            promotion_detail: None,
        }
    }
}
