//! The Gold Plan page stand-in: the post-payment page WeChat shows, with the merchant receipt
//! in an iframe at the top (`APIV3.md` §9.1), the official receipt or "无法获取订单信息" when
//! the receipt does not answer as §9.4 asks, and an advertising area below.
//!
//! The sandbox serves it for a paid order; the receipt tester renders the same page for the
//! order it is told about. Both give it the receipt URL with its `check_code` already in it.

use serde::Serialize;

/// The origin WeChat serves the Gold Plan page from, and the only target origin a receipt
/// should post its messages to (`APIV3.md` §9.4).
pub const WECHAT_ORIGIN: &str = "https://payapp.weixin.qq.com";

/// The script a receipt page must load (`APIV3.md` §9.4).
pub const JGOLDPLAN_SCRIPT_URL: &str = "https://wx.gtimg.com/pay_h5/goldplan/js/jgoldplan-1.0.0.js";

/// How long the Gold Plan page waits for `onIframeReady` after it starts loading the receipt,
/// in milliseconds; later, it shows "无法获取订单信息" (`APIV3.md` §9.4).
pub const READY_LIMIT_MS: u64 = 3000;

/// The two `displayStyle` values of `onIframeReady`.
pub const DISPLAY_STYLES: [&str; 2] = ["SHOW_CUSTOM_PAGE", "SHOW_OFFICIAL_PAGE"];

/// What the Gold Plan page shows of one paid order.
#[derive(Debug, Clone, Serialize)]
pub struct GoldPlanPage {
    /// The receipt link with `sub_mch_id`, `out_trade_no` and `check_code` appended
    /// (`APIV3.md` §9.2); `None` when the receipt switch is off or no link is configured, and
    /// the page then shows "无法获取订单信息" as WeChat does.
    pub receipt_url: Option<String>,
    /// The special merchant's name, shown under the amount.
    pub merchant_name: String,
    /// The order's `description`, shown in the official receipt.
    pub description: String,
    /// The amount paid, in fen; `None` when not known (the receipt tester, given only the
    /// order's numbers), and the page then shows no amount.
    pub total: Option<u64>,
    /// The merchant order number.
    pub out_trade_no: String,
    /// WeChat's transaction id.
    pub transaction_id: String,
}

impl GoldPlanPage {
    /// The page's HTML. Every value is written into the page's script as JSON escaped for a
    /// script element, so an order field cannot end the script or inject markup.
    pub fn render(&self) -> String {
        let order = script_json(self);
        include_str!("gold_plan_page.html")
            .replace("__GOLDPLAN_ORDER__", &order)
            .replace("__GOLDPLAN_READY_LIMIT_MS__", &READY_LIMIT_MS.to_string())
    }
}

/// `value` as JSON that is safe inside `<script>`: `<`, `>`, `&` and the two JavaScript line
/// separators are written as escapes, which JSON and JavaScript read back unchanged.
fn script_json(value: &impl Serialize) -> String {
    // Serializing a struct of strings and integers into a String cannot fail.
    let json = serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(receipt_url: Option<&str>) -> GoldPlanPage {
        GoldPlanPage {
            receipt_url: receipt_url.map(str::to_owned),
            merchant_name: "</script><script>alert(1)</script>".into(),
            description: "咖啡 & 蛋糕".into(),
            total: Some(1234),
            out_trade_no: "ORDER_001".into(),
            transaction_id: "4200000985202103031441826014".into(),
        }
    }

    #[test]
    fn order_fields_cannot_leave_the_script() {
        let html = page(Some("https://r.example/receipt?a=1&b=<2>")).render();
        assert!(!html.contains("</script><script>alert(1)"));
        assert!(html.contains("\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"));
        assert!(html.contains("https://r.example/receipt?a=1\\u0026b=\\u003c2\\u003e"));
        assert!(!html.contains("__GOLDPLAN_"));
        assert!(html.contains("const READY_LIMIT_MS = 3000;"));
    }

    #[test]
    fn a_page_without_receipt_says_so_in_its_order() {
        let html = page(None).render();
        assert!(html.contains("\"receipt_url\":null"));
        assert!(html.contains("无法获取订单信息"));
        assert!(html.contains("广告位"));
    }
}
