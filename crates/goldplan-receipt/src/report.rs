//! What the tester found: one result per rule of `APIV3.md` §9.4 and PAYMENTS.md §6.2, the
//! measurements behind them, and the verdict.

use std::path::PathBuf;

use serde::Serialize;

/// A rule a receipt page must follow. Names are stable: scripts read them from `--json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// `onIframeReady` arrived within 3 s of the receipt starting to load.
    ReadyInTime,
    /// Every message was a string holding a JSON object, as WeChat reads them.
    JsonStringMessage,
    /// Every message had a known `action`; `onIframeReady` a known `displayStyle`, `jumpOut` a
    /// `jumpOutUrl`.
    ValidMessage,
    /// Messages were posted to `https://payapp.weixin.qq.com`, not to `*` or another origin.
    DocumentedOrigin,
    /// A wrong `check_code` got the official receipt (`SHOW_OFFICIAL_PAGE`), promptly.
    ChecksCheckCode,
    /// Every `jumpOut` target is an `https://` URL.
    JumpOutHttps,
    /// The page loads WeChat's `jgoldplan-1.0.0.js`.
    LoadsWechatScript,
    /// Nothing was written to the console as an error and no script threw.
    NoConsoleErrors,
    /// Every sub-resource of the receipt loaded.
    SubResourcesLoad,
}

impl Rule {
    /// Every rule, in the order they are reported.
    pub const ALL: [Rule; 9] = [
        Rule::ReadyInTime,
        Rule::JsonStringMessage,
        Rule::ValidMessage,
        Rule::DocumentedOrigin,
        Rule::ChecksCheckCode,
        Rule::JumpOutHttps,
        Rule::LoadsWechatScript,
        Rule::NoConsoleErrors,
        Rule::SubResourcesLoad,
    ];

    /// The rule's stable name, as in `--json`.
    pub fn name(self) -> &'static str {
        match self {
            Rule::ReadyInTime => "ready_in_time",
            Rule::JsonStringMessage => "json_string_message",
            Rule::ValidMessage => "valid_message",
            Rule::DocumentedOrigin => "documented_origin",
            Rule::ChecksCheckCode => "checks_check_code",
            Rule::JumpOutHttps => "jump_out_https",
            Rule::LoadsWechatScript => "loads_wechat_script",
            Rule::NoConsoleErrors => "no_console_errors",
            Rule::SubResourcesLoad => "sub_resources_load",
        }
    }
}

/// One rule's result.
#[derive(Debug, Clone, Serialize)]
pub struct RuleResult {
    /// The rule.
    pub rule: Rule,
    /// Whether the page follows it.
    pub passed: bool,
    /// What was seen, in a sentence.
    pub detail: String,
}

/// A message the receipt posted to the Gold Plan page.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct PostedMessage {
    /// Milliseconds after the receipt started loading.
    pub at_ms: u64,
    /// The JavaScript type of the message (`string` is the only one WeChat reads).
    #[serde(rename = "type")]
    pub kind: String,
    /// The message as posted (objects are shown as JSON).
    pub data: Option<String>,
}

/// A sub-resource of the receipt that did not load.
#[derive(Debug, Clone, Serialize)]
pub struct FailedResource {
    /// Its URL.
    pub url: String,
    /// The HTTP status or the network error.
    pub error: String,
}

/// The tester's verdict on one receipt page.
#[derive(Debug, Clone, Serialize)]
pub struct ReceiptReport {
    /// The receipt URL as the Gold Plan page loaded it (with `sub_mch_id`, `out_trade_no` and
    /// `check_code`).
    pub url: String,
    /// Whether every rule passes.
    pub passed: bool,
    /// Milliseconds from the receipt starting to load to a valid `onIframeReady`.
    pub ready_ms: Option<u64>,
    /// The limit, 3000 ms.
    pub limit_ms: u64,
    /// `limit_ms - ready_ms`: how much of the budget was left.
    pub margin_ms: Option<i64>,
    /// The `displayStyle` the receipt asked for.
    pub display_style: Option<String>,
    /// What the Gold Plan page ended up showing: `merchant receipt`, `official receipt` or
    /// `无法获取订单信息`.
    pub shown: String,
    /// Each rule's result.
    pub rules: Vec<RuleResult>,
    /// The messages the receipt posted (correct `check_code`, documented origin).
    pub messages: Vec<PostedMessage>,
    /// The `jumpOut` targets, from messages posted on load and after clicking the receipt's
    /// buttons.
    pub jump_out_urls: Vec<String>,
    /// Console errors and uncaught exceptions.
    pub console_errors: Vec<String>,
    /// Sub-resources that failed.
    pub failed_resources: Vec<FailedResource>,
    /// Where the PNG of the whole Gold Plan page was written.
    pub screenshot: Option<PathBuf>,
    /// Milliseconds the whole test took, browser start included.
    pub wall_ms: u64,
    /// Milliseconds of that spent starting Chromium.
    pub browser_start_ms: u64,
}

impl ReceiptReport {
    /// The rules that failed.
    pub fn failed_rules(&self) -> impl Iterator<Item = &RuleResult> {
        self.rules.iter().filter(|r| !r.passed)
    }

    /// The report as a person reads it: one line per rule, then the measurements.
    pub fn to_text(&self) -> String {
        let mut out = format!("receipt {}\n", self.url);
        for r in &self.rules {
            let mark = if r.passed { "ok  " } else { "FAIL" };
            out.push_str(&format!("  {mark} {:<20} {}\n", r.rule.name(), r.detail));
        }
        match (self.ready_ms, self.margin_ms) {
            (Some(ready), Some(margin)) => out.push_str(&format!(
                "  onIframeReady after {ready} ms (limit {} ms, margin {margin} ms)\n",
                self.limit_ms
            )),
            _ => out.push_str(&format!(
                "  no valid onIframeReady within {} ms\n",
                self.limit_ms
            )),
        }
        out.push_str(&format!("  Gold Plan page shows: {}\n", self.shown));
        if let Some(path) = &self.screenshot {
            out.push_str(&format!("  screenshot: {}\n", path.display()));
        }
        out.push_str(&format!(
            "  {} in {} ms (browser start {} ms)\n",
            if self.passed { "PASS" } else { "FAIL" },
            self.wall_ms,
            self.browser_start_ms
        ));
        out
    }
}
