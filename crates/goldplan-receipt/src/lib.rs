//! The Gold Plan merchant receipt (商家小票), checked the way WeChat's Gold Plan page uses it.
//!
//! - [`gold_plan_page`]: the stand-in of the page WeChat shows after a payment, with the
//!   receipt in an iframe, the official receipt or "无法获取订单信息" when the receipt does
//!   not answer in time, and an advertising area. The sandbox serves it for a paid order.
//! - [`tester`] (feature `browser`, on by default): loads that page in a headless Chromium
//!   with a receipt page in its iframe and judges the receipt against `APIV3.md` §9.4:
//!   `onIframeReady` within 3 s, a JSON string with a known `action` and `displayStyle`,
//!   posted to `https://payapp.weixin.qq.com`, `check_code` verified, `jumpOut` to https only,
//!   no console errors or failed sub-resources; with a screenshot of the whole page.
#![forbid(unsafe_code)]

pub mod gold_plan_page;
#[cfg(feature = "browser")]
mod judge;
#[cfg(feature = "browser")]
pub mod report;
#[cfg(feature = "browser")]
pub mod tester;

#[cfg(feature = "browser")]
pub use report::{ReceiptReport, Rule, RuleResult};
#[cfg(feature = "browser")]
pub use tester::{TestOptions, TesterError, find_chromium, test_receipt};
