//! The rules of `APIV3.md` §9.4 and PAYMENTS.md §6.2, judged from what three loads of the
//! Gold Plan page recorded (the browser side is in [`crate::tester`]).

use std::time::Instant;

use serde::Deserialize;

use crate::gold_plan_page::{DISPLAY_STYLES, JGOLDPLAN_SCRIPT_URL, READY_LIMIT_MS, WECHAT_ORIGIN};
use crate::report::{FailedResource, PostedMessage, ReceiptReport, Rule, RuleResult};
use crate::tester::{ReceiptUnderTest, TestOptions};

/// What the page recorded, read back from `window.__goldplanPage`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct PageState {
    pub(crate) messages: Vec<RecordedMessage>,
    pub(crate) outcome: Option<PageOutcome>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RecordedMessage {
    pub(crate) at_ms: u64,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) data: Option<String>,
    pub(crate) parsed: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PageOutcome {
    pub(crate) display_style: Option<String>,
    pub(crate) ready_ms: Option<u64>,
}

/// What one load of the page showed.
#[derive(Debug, Default)]
pub(crate) struct Load {
    pub(crate) state: PageState,
    pub(crate) events: Events,
}

/// What Chromium reported during one load.
#[derive(Debug, Default, Clone)]
pub(crate) struct Events {
    pub(crate) console_errors: Vec<String>,
    pub(crate) failed: Vec<FailedResource>,
    pub(crate) script_loaded: bool,
    /// Target origins Chromium refused to deliver a message to.
    pub(crate) refused_targets: Vec<String>,
}

/// Most entries kept per list of [`Events`], and most characters per entry: a page that
/// floods the console cannot grow the tester's memory or the report without bound.
const MAX_ENTRIES: usize = 50;
const MAX_ENTRY_CHARS: usize = 1000;

fn bounded(text: &str) -> String {
    match text.char_indices().nth(MAX_ENTRY_CHARS) {
        Some((end, _)) => format!("{}…", text.get(..end).unwrap_or_default()),
        None => text.to_owned(),
    }
}

impl Events {
    /// Records a console error or an uncaught exception.
    pub(crate) fn console_error(&mut self, text: &str) {
        if self.console_errors.len() < MAX_ENTRIES {
            self.console_errors.push(bounded(text));
        }
    }

    /// Records a sub-resource that failed.
    pub(crate) fn failed(&mut self, url: &str, error: &str) {
        if self.failed.len() < MAX_ENTRIES {
            self.failed.push(FailedResource {
                url: bounded(url),
                error: bounded(error),
            });
        }
    }

    /// Records a target origin Chromium refused to deliver a message to.
    pub(crate) fn refused(&mut self, target: String) {
        if self.refused_targets.len() < MAX_ENTRIES {
            self.refused_targets.push(bounded(&target));
        }
    }
}

/// The three loads.
pub(crate) struct Loads {
    pub(crate) correct: Load,
    pub(crate) wrong_code: Load,
    pub(crate) probe: Load,
}

/// The target origin named in Chromium's "target origin provided ('…') does not match the
/// recipient window's origin" error.
pub(crate) fn refused_target(text: &str) -> Option<String> {
    let start = text.find("target origin provided ('")? + "target origin provided ('".len();
    let rest = text.get(start..)?;
    let end = rest.find("')")?;
    if !text.contains("does not match the recipient window's origin") {
        return None;
    }
    Some(rest.get(..end)?.to_owned())
}

/// The rules, judged from the three loads.
pub(crate) fn verdict(
    receipt: &ReceiptUnderTest,
    loads: Loads,
    started: Instant,
    browser_start_ms: u64,
    options: &TestOptions,
) -> ReceiptReport {
    let Loads {
        correct,
        wrong_code,
        probe,
    } = loads;
    let outcome = correct.state.outcome.clone();
    let ready_ms = outcome.as_ref().and_then(|o| o.ready_ms);
    let display_style = outcome.as_ref().and_then(|o| o.display_style.clone());
    let messages = &correct.state.messages;
    let mut rules = Vec::new();
    let mut rule = |rule: Rule, passed: bool, detail: String| {
        rules.push(RuleResult {
            rule,
            passed,
            detail,
        })
    };

    rule(
        Rule::ReadyInTime,
        ready_ms.is_some(),
        match ready_ms {
            Some(ms) => format!("onIframeReady after {ms} ms (limit {READY_LIMIT_MS} ms)"),
            None if messages.is_empty() => {
                format!("no message reached the Gold Plan page within {READY_LIMIT_MS} ms")
            }
            None => format!("no valid onIframeReady within {READY_LIMIT_MS} ms"),
        },
    );

    let not_string: Vec<&RecordedMessage> = messages
        .iter()
        .filter(|m| m.kind != "string" || m.parsed.as_ref().is_none_or(|p| !p.is_object()))
        .collect();
    rule(
        Rule::JsonStringMessage,
        not_string.is_empty(),
        match not_string.first() {
            None if messages.is_empty() => "no message to judge".into(),
            None => format!("{} message(s), each a JSON string", messages.len()),
            Some(m) if m.kind != "string" => format!(
                "a message was posted as a JavaScript {} instead of a JSON string (JSON.stringify it)",
                m.kind
            ),
            Some(_) => "a message was a string but not a JSON object".into(),
        },
    );

    let invalid: Vec<String> = messages
        .iter()
        .filter_map(|m| m.parsed.as_ref())
        .filter_map(message_problem)
        .collect();
    rule(
        Rule::ValidMessage,
        invalid.is_empty(),
        match invalid.first() {
            None => "every action and displayStyle is one WeChat knows".into(),
            Some(problem) => problem.clone(),
        },
    );

    let wildcard = !probe.state.messages.is_empty();
    let wrong_targets: Vec<&String> = correct
        .events
        .refused_targets
        .iter()
        .chain(&probe.events.refused_targets)
        .filter(|t| t.as_str() != WECHAT_ORIGIN)
        .collect();
    let documented = probe
        .events
        .refused_targets
        .iter()
        .any(|t| t == WECHAT_ORIGIN);
    rule(
        Rule::DocumentedOrigin,
        !wildcard && wrong_targets.is_empty(),
        if wildcard {
            format!("messages reach any origin (target origin \"*\"); post to {WECHAT_ORIGIN}")
        } else if let Some(target) = wrong_targets.first() {
            format!("messages were posted to {target}, not {WECHAT_ORIGIN}")
        } else if documented {
            format!("posted to {WECHAT_ORIGIN}")
        } else {
            "not judged: no message was posted in time".into()
        },
    );

    let wrong = wrong_code.state.outcome.as_ref();
    let wrong_style = wrong.and_then(|o| o.display_style.as_deref());
    // A receipt that never gets ready has failed already; a wrong code tells nothing more.
    let judged = ready_ms.is_some();
    rule(
        Rule::ChecksCheckCode,
        !judged || wrong_style == Some("SHOW_OFFICIAL_PAGE"),
        match wrong_style {
            _ if !judged => "not judged: the correct check_code got no onIframeReady".into(),
            Some("SHOW_OFFICIAL_PAGE") => "a wrong check_code got SHOW_OFFICIAL_PAGE".into(),
            Some(style) => format!(
                "a wrong check_code got {style}: the receipt must verify check_code and show nothing of the order"
            ),
            None => format!(
                "a wrong check_code got no valid onIframeReady within {READY_LIMIT_MS} ms (post SHOW_OFFICIAL_PAGE)"
            ),
        },
    );

    let jump_out_urls: Vec<String> = messages
        .iter()
        .filter_map(|m| m.parsed.as_ref())
        .filter(|p| p.get("action").and_then(|a| a.as_str()) == Some("jumpOut"))
        .filter_map(|p| {
            p.get("jumpOutUrl")
                .and_then(|u| u.as_str())
                .map(str::to_owned)
        })
        .collect();
    let not_https: Vec<&String> = jump_out_urls
        .iter()
        .filter(|u| !u.starts_with("https://"))
        .collect();
    rule(
        Rule::JumpOutHttps,
        not_https.is_empty(),
        match not_https.first() {
            None if jump_out_urls.is_empty() => "no jumpOut posted".into(),
            None => format!("{} jumpOut target(s), all https", jump_out_urls.len()),
            Some(url) => format!("jumpOut to a non-https URL: {url}"),
        },
    );

    rule(
        Rule::LoadsWechatScript,
        correct.events.script_loaded,
        if correct.events.script_loaded {
            "jgoldplan-1.0.0.js requested".into()
        } else {
            format!("the page does not load {JGOLDPLAN_SCRIPT_URL}")
        },
    );

    let console_errors: Vec<String> = correct
        .events
        .console_errors
        .iter()
        .filter(|e| refused_target(e).is_none())
        .cloned()
        .collect();
    rule(
        Rule::NoConsoleErrors,
        console_errors.is_empty(),
        match console_errors.first() {
            None => "no console errors".into(),
            Some(e) => format!("{} console error(s), first: {e}", console_errors.len()),
        },
    );

    let failed = correct.events.failed.clone();
    rule(
        Rule::SubResourcesLoad,
        failed.is_empty(),
        match failed.first() {
            None => "every sub-resource loaded".into(),
            Some(f) => format!("{} failed, first: {} ({})", failed.len(), f.url, f.error),
        },
    );

    let shown = match display_style.as_deref() {
        Some("SHOW_CUSTOM_PAGE") => "merchant receipt",
        Some(_) => "official receipt",
        None => "无法获取订单信息",
    };
    let passed = rules.iter().all(|r| r.passed);
    ReceiptReport {
        url: receipt.url_with(&receipt.check_code()),
        passed,
        ready_ms,
        limit_ms: READY_LIMIT_MS,
        margin_ms: ready_ms.map(|ms| {
            i64::try_from(READY_LIMIT_MS).unwrap_or(i64::MAX)
                - i64::try_from(ms).unwrap_or(i64::MAX)
        }),
        display_style,
        shown: shown.into(),
        rules,
        messages: messages
            .iter()
            .map(|m| PostedMessage {
                at_ms: m.at_ms,
                kind: m.kind.clone(),
                data: m.data.clone(),
            })
            .collect(),
        jump_out_urls,
        console_errors,
        failed_resources: failed,
        screenshot: options.screenshot.clone(),
        wall_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        browser_start_ms,
    }
}

/// What is wrong with a parsed message, if anything.
pub(crate) fn message_problem(message: &serde_json::Value) -> Option<String> {
    let action = message.get("action").and_then(|a| a.as_str());
    match action {
        Some("onIframeReady") => {
            let style = message.get("displayStyle").and_then(|s| s.as_str());
            match style {
                Some(s) if DISPLAY_STYLES.contains(&s) => {}
                Some(s) => return Some(format!("unknown displayStyle {s:?}")),
                None => return Some("onIframeReady without displayStyle".into()),
            }
            match message.get("height") {
                None => None,
                Some(h) if h.as_f64().is_some_and(|h| h > 0.0) => None,
                Some(_) => Some("height is not a positive number".into()),
            }
        }
        Some("jumpOut") => match message.get("jumpOutUrl").and_then(|u| u.as_str()) {
            Some(_) => None,
            None => Some("jumpOut without a jumpOutUrl string".into()),
        },
        Some(other) => Some(format!("unknown action {other:?}")),
        None => Some("a message without an action".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_targets_are_read_from_chromiums_message() {
        let text = "Failed to execute 'postMessage' on 'DOMWindow': The target origin provided ('https://payapp.weixin.qq.com') does not match the recipient window's origin ('https://origin-probe.goldplan.invalid').";
        assert_eq!(refused_target(text).as_deref(), Some(WECHAT_ORIGIN));
        assert_eq!(refused_target("Uncaught TypeError: x is undefined"), None);
    }

    #[test]
    fn messages_are_judged_as_wechat_reads_them() {
        let ok = serde_json::json!({"action": "onIframeReady", "displayStyle": "SHOW_CUSTOM_PAGE", "height": 960});
        assert_eq!(message_problem(&ok), None);
        let jump =
            serde_json::json!({"action": "jumpOut", "jumpOutUrl": "https://m.example/order"});
        assert_eq!(message_problem(&jump), None);
        let style = serde_json::json!({"action": "onIframeReady", "displayStyle": "SHOW"});
        assert!(message_problem(&style).is_some_and(|p| p.contains("displayStyle")));
        assert!(
            message_problem(&serde_json::json!({"displayStyle": "SHOW_CUSTOM_PAGE"})).is_some()
        );
    }
}
