//! The receipt tester: a headless Chromium, driven over the DevTools protocol, loads the Gold
//! Plan page stand-in at WeChat's origin with the receipt in its iframe, and checks what the
//! receipt does against `APIV3.md` §9.4 and PAYMENTS.md §6.2.
//!
//! Three loads of the same page:
//! 1. the correct `check_code`, at `https://payapp.weixin.qq.com`: timing, messages, script,
//!    console, sub-resources, `jumpOut` targets (after clicking the receipt's buttons), and the
//!    screenshot;
//! 2. a wrong `check_code`: the receipt must ask for the official receipt, promptly;
//! 3. the correct `check_code` at a probe origin: a receipt that posts to `*` reaches it, one
//!    that posts to the documented origin does not (Chromium names the target it refused).
//!
//! The browser reaches no host but loopback by itself: WeChat's origins are answered by the
//! tester (the page stand-in and a stand-in of WeChat's script), every other non-loopback
//! request is made by the tester with full TLS verification and handed back, and the
//! browser's resolver maps every other name to nothing. So the host mapping lives inside this
//! browser only, and the only certificates it may accept without checking are loopback ones.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use chromiumoxide::cdp::browser_protocol::browser::{
    PermissionDescriptor, PermissionSetting, SetPermissionParams,
};
use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EnableParams, EventRequestPaused, FailRequestParams,
    FulfillRequestParams, HeaderEntry, RequestPattern, RequestStage,
};
use chromiumoxide::cdp::browser_protocol::log::{EventEntryAdded, LogEntryLevel};
use chromiumoxide::cdp::browser_protocol::network::{
    ErrorReason, EventLoadingFailed, EventRequestWillBeSent, EventResponseReceived,
};
use chromiumoxide::cdp::browser_protocol::page::{CaptureScreenshotFormat, NavigateParams};
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EvaluateParams, EventConsoleApiCalled, EventExceptionThrown,
};
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Browser, BrowserConfig, Page};
use futures_util::StreamExt;
use serde::Deserialize;

use crate::gold_plan_page::{GoldPlanPage, JGOLDPLAN_SCRIPT_URL, READY_LIMIT_MS, WECHAT_ORIGIN};
use crate::judge::{Events, Load, Loads, PageState, refused_target, verdict};
use crate::report::ReceiptReport;

/// The environment variable naming a Chromium (or Chrome) executable to use.
pub const CHROMIUM_ENV: &str = "GOLDPLAN_CHROMIUM";

/// Executables looked for on `PATH`, in order, when [`CHROMIUM_ENV`] is not set.
const CHROMIUM_NAMES: [&str; 4] = ["chromium", "chromium-browser", "google-chrome", "chrome"];

/// The stand-in's path at WeChat's origin.
const PAGE_PATH: &str = "/goldplan/receipt-test";

/// An origin that is not WeChat's, for telling `*` from the documented target origin.
const PROBE_ORIGIN: &str = "https://origin-probe.goldplan.invalid";

/// Most bytes the tester fetches for one non-loopback sub-resource.
const MAX_RESOURCE_BYTES: usize = 16 * 1024 * 1024;

/// Most requests whose URL is kept (to name the ones that fail).
const MAX_TRACKED_REQUESTS: usize = 10_000;

/// How long to watch for `jumpOut` messages and late errors after the receipt is ready.
const SETTLE: Duration = Duration::from_millis(250);

/// The width of the phone the page is shown on, in CSS pixels.
const PHONE_WIDTH: u32 = 390;

/// Why a receipt could not be tested (a page that fails a rule is a report, not an error).
#[derive(Debug, thiserror::Error)]
pub enum TesterError {
    /// No Chromium was found.
    #[error(
        "Chromium was not found (looked for ${CHROMIUM_ENV}, then chromium, chromium-browser, \
         google-chrome and chrome on PATH); install it, e.g. `apt-get install chromium` on \
         Debian or Ubuntu, or set {CHROMIUM_ENV} to a Chromium or Chrome executable"
    )]
    ChromiumMissing,
    /// The receipt URL is not an absolute `http(s)://` URL.
    #[error("the receipt URL ({len} characters) is not an absolute http:// or https:// URL")]
    BadUrl {
        /// Its length.
        len: usize,
    },
    /// An option is malformed.
    #[error("{field} ({len} characters) {issue}")]
    BadOption {
        /// The option.
        field: &'static str,
        /// Its length.
        len: usize,
        /// What is wrong.
        issue: &'static str,
    },
    /// Chromium failed to start or stopped answering.
    #[error("Chromium: {0}")]
    Browser(String),
    /// The screenshot could not be written.
    #[error("writing the screenshot to {path}: {source}")]
    Screenshot {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl From<TesterError> for goldplan::Error {
    /// The SDK's error for each case, so that the bindings raise their usual classes: a
    /// missing Chromium is a configuration problem, a bad URL or option bad input.
    fn from(e: TesterError) -> goldplan::Error {
        match e {
            TesterError::ChromiumMissing => goldplan::Error::Configuration(e.to_string()),
            TesterError::BadUrl { .. } | TesterError::BadOption { .. } => {
                goldplan::Error::InvalidInput(e.to_string())
            }
            TesterError::Browser(_) | TesterError::Screenshot { .. } => {
                goldplan::Error::Internal(e.to_string())
            }
        }
    }
}

impl From<chromiumoxide::error::CdpError> for TesterError {
    fn from(e: chromiumoxide::error::CdpError) -> TesterError {
        TesterError::Browser(e.to_string())
    }
}

/// What to test the receipt with (also read from JSON by the bindings; absent fields keep
/// their defaults).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TestOptions {
    /// The special merchant the order belongs to (`sub_mch_id`).
    pub sub_mch_id: String,
    /// The merchant order number; a fresh one (no such order) when `None`.
    pub out_trade_no: Option<String>,
    /// WeChat's transaction id of that order, which `check_code` covers; a made-up one when
    /// `None`, and the receipt then cannot find the order.
    pub transaction_id: Option<String>,
    /// Where to write a PNG of the whole Gold Plan page.
    pub screenshot: Option<PathBuf>,
    /// The Chromium executable; [`CHROMIUM_ENV`] or `PATH` when `None`.
    pub chromium: Option<PathBuf>,
}

impl Default for TestOptions {
    fn default() -> TestOptions {
        TestOptions {
            sub_mch_id: "1900000109".into(),
            out_trade_no: None,
            transaction_id: None,
            screenshot: None,
            chromium: None,
        }
    }
}

/// The Chromium executable the tester would use, if there is one.
pub fn find_chromium(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return path.is_file().then(|| path.to_owned());
    }
    if let Some(path) = std::env::var_os(CHROMIUM_ENV) {
        let path = PathBuf::from(path);
        return path.is_file().then_some(path);
    }
    let dirs = std::env::var_os("PATH")?;
    CHROMIUM_NAMES.iter().find_map(|name| {
        std::env::split_paths(&dirs)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// Tests the receipt page at `url` (the link configured in the partner portal) as the Gold
/// Plan page would load it, and returns the verdict.
pub async fn test_receipt(url: &str, options: &TestOptions) -> Result<ReceiptReport, TesterError> {
    let started = Instant::now();
    let receipt = ReceiptUnderTest::new(url, options)?;
    let chromium =
        find_chromium(options.chromium.as_deref()).ok_or(TesterError::ChromiumMissing)?;
    let session = Session::start(&chromium, &receipt.link).await?;
    let browser_start_ms = millis(started.elapsed());
    let outcome = run_loads(&session, &receipt, options.screenshot.as_deref()).await;
    session.close().await;
    let loads = outcome?;
    Ok(verdict(&receipt, loads, started, browser_start_ms, options))
}

/// The receipt link and the order it is tested with.
pub(crate) struct ReceiptUnderTest {
    link: String,
    sub_mch_id: String,
    out_trade_no: String,
    transaction_id: String,
}

impl ReceiptUnderTest {
    fn new(url: &str, options: &TestOptions) -> Result<ReceiptUnderTest, TesterError> {
        let parsed =
            reqwest::Url::parse(url).map_err(|_| TesterError::BadUrl { len: url.len() })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(TesterError::BadUrl { len: url.len() });
        }
        let check = |field: &'static str, value: &str, ok: bool, issue: &'static str| {
            if ok {
                Ok(())
            } else {
                Err(TesterError::BadOption {
                    field,
                    len: value.len(),
                    issue,
                })
            }
        };
        let sub = &options.sub_mch_id;
        check(
            "sub_mch_id",
            sub,
            (1..=32).contains(&sub.len()) && sub.bytes().all(|b| b.is_ascii_digit()),
            "must be 1 to 32 digits",
        )?;
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let out_trade_no = match &options.out_trade_no {
            Some(o) => {
                let allowed = |b: u8| b.is_ascii_alphanumeric() || b"_-|*".contains(&b);
                check(
                    "out_trade_no",
                    o,
                    (6..=32).contains(&o.len()) && o.bytes().all(allowed),
                    "must be 6 to 32 letters, digits or _-|*",
                )?;
                o.clone()
            }
            None => format!("RECEIPTTEST{}", nonce % 1_000_000_000_000),
        };
        let transaction_id = match &options.transaction_id {
            Some(t) => {
                check(
                    "transaction_id",
                    t,
                    (1..=32).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric()),
                    "must be 1 to 32 letters or digits",
                )?;
                t.clone()
            }
            None => format!("42000{:023}", nonce % 10u128.pow(23)),
        };
        Ok(ReceiptUnderTest {
            link: url.to_owned(),
            sub_mch_id: sub.clone(),
            out_trade_no,
            transaction_id,
        })
    }

    /// The URL the Gold Plan page puts in its iframe (`APIV3.md` §9.2).
    pub(crate) fn url_with(&self, check_code: &str) -> String {
        format!(
            "{}?sub_mch_id={}&out_trade_no={}&check_code={check_code}",
            self.link, self.sub_mch_id, self.out_trade_no
        )
    }

    pub(crate) fn check_code(&self) -> String {
        goldplan::receipt::expected_check_code(
            &self.link,
            &self.sub_mch_id,
            &self.out_trade_no,
            &self.transaction_id,
        )
    }

    fn page(&self, check_code: &str) -> GoldPlanPage {
        GoldPlanPage {
            receipt_url: Some(self.url_with(check_code)),
            merchant_name: format!("特约商户 {}", self.sub_mch_id),
            description: "receipt test".into(),
            total: None,
            out_trade_no: self.out_trade_no.clone(),
            transaction_id: self.transaction_id.clone(),
        }
    }
}

/// The browser, its page, and what the interception handler answers with.
struct Session {
    browser: Browser,
    page: Page,
    pages: Arc<Mutex<HashMap<String, String>>>,
    events: Arc<Mutex<Events>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _profile: tempfile::TempDir,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking listener leaves plain data behind; reading it is still sound.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Session {
    async fn start(chromium: &Path, link: &str) -> Result<Session, TesterError> {
        let profile = tempfile::Builder::new()
            .prefix("goldplan-receipt-")
            .tempdir()
            .map_err(|e| TesterError::Browser(format!("a profile directory: {e}")))?;
        let mut config = BrowserConfig::builder()
            .chrome_executable(chromium)
            .user_data_dir(profile.path())
            .respect_https_errors()
            .disable_default_args()
            .new_headless_mode()
            .window_size(PHONE_WIDTH, 844)
            .viewport(None)
            .launch_timeout(Duration::from_secs(20))
            .request_timeout(Duration::from_secs(15))
            // chromiumoxide writes the leading "--".
            .args([
                "disable-background-networking",
                "disable-breakpad",
                "disable-component-update",
                "disable-default-apps",
                "disable-dev-shm-usage",
                "disable-extensions",
                "disable-sync",
                "no-first-run",
                "no-default-browser-check",
                "hide-scrollbars",
                "mute-audio",
                "force-color-profile=srgb",
                "lang=zh-CN",
                // The receipt's iframe stays in the page's process, so that one DevTools
                // session sees (and intercepts) the page and its receipt alike.
                "disable-site-isolation-trials",
                "disable-features=IsolateOrigins,site-per-process,HttpsUpgrades,LocalNetworkAccessChecks,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults,BlockInsecurePrivateNetworkRequests,MediaRouter,Translate",
                // Nothing resolves but loopback: every other host is answered by the tester.
                "host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]",
            ]);
        if is_loopback_https(link) {
            // Only loopback hosts are reachable (above), so this accepts a local test
            // server's self-signed certificate and nothing else.
            config = config.arg("ignore-certificate-errors");
        }
        if running_as_root() {
            // Chromium refuses to start its sandbox as root (containers, CI).
            config = config.no_sandbox();
        }
        let config = config.build().map_err(TesterError::Browser)?;
        let (browser, mut handler) = Browser::launch(config).await?;
        // Drives the DevTools connection until the browser goes away; a message this
        // protocol version cannot read is not a reason to stop.
        let mut tasks = vec![tokio::spawn(async move {
            while handler.next().await.is_some() {}
        })];
        // The stand-ins are "public" origins embedding a loopback receipt: Chromium's local
        // network access checks block that unless the origin holds the permission.
        // Chromium has named the permission three ways; unknown names are refused, so each
        // is tried and one is enough.
        let mut granted = 0;
        for origin in [WECHAT_ORIGIN, PROBE_ORIGIN] {
            for name in ["local-network-access", "local-network", "loopback-network"] {
                let grant = SetPermissionParams::new(
                    PermissionDescriptor::new(name),
                    PermissionSetting::Granted,
                );
                let grant = SetPermissionParams {
                    origin: Some(origin.into()),
                    ..grant
                };
                if browser.execute(grant).await.is_ok() {
                    granted += 1;
                }
            }
        }
        tracing::debug!(
            granted,
            "local network permissions granted to the stand-in origins"
        );
        let page = browser.new_page("about:blank").await?;
        let pages = Arc::new(Mutex::new(HashMap::new()));
        let events = Arc::new(Mutex::new(Events::default()));
        tasks.extend(listen(&page, &pages, &events).await?);
        page.execute(EnableParams {
            patterns: Some(vec![RequestPattern {
                url_pattern: Some("*".into()),
                resource_type: None,
                request_stage: Some(RequestStage::Request),
            }]),
            handle_auth_requests: None,
        })
        .await?;
        page.enable_log().await?;
        Ok(Session {
            browser,
            page,
            pages,
            events,
            tasks,
            _profile: profile,
        })
    }

    async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        for task in self.tasks {
            task.abort();
        }
    }

    /// Loads the stand-in for `page` at `origin` and waits until it settles (a valid
    /// `onIframeReady`, or the 3-second limit) or `enough` says what was seen suffices.
    async fn load(
        &self,
        origin: &str,
        page: &GoldPlanPage,
        load_id: u32,
        enough: fn(&PageState, &Events) -> bool,
    ) -> Result<Load, TesterError> {
        let url = format!("{origin}{PAGE_PATH}?load={load_id}");
        lock(&self.pages).insert(url.clone(), page.render());
        *lock(&self.events) = Events::default();
        self.page.execute(NavigateParams::new(url.clone())).await?;
        let deadline = Instant::now() + Duration::from_millis(READY_LIMIT_MS + 5000);
        let state = loop {
            if let Some(state) = self.read_state(&url).await?
                && (state.outcome.is_some() || enough(&state, &lock(&self.events)))
            {
                break state;
            }
            if Instant::now() > deadline {
                return Err(TesterError::Browser(
                    "the Gold Plan page did not settle in 8 s".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        Ok(Load {
            state,
            events: lock(&self.events).clone(),
        })
    }

    /// The page's record, once the document at `url` is the one loaded.
    async fn read_state(&self, url: &str) -> Result<Option<PageState>, TesterError> {
        let expression =
            "JSON.stringify({href: location.href, state: window.__goldplanPage || null})";
        let Ok(result) = self.page.evaluate(expression).await else {
            // Between documents: no context to evaluate in yet.
            return Ok(None);
        };
        let Ok(text) = result.into_value::<String>() else {
            return Ok(None);
        };
        #[derive(Deserialize)]
        struct Read {
            href: String,
            state: Option<PageState>,
        }
        let read: Read = serde_json::from_str(&text)
            .map_err(|e| TesterError::Browser(format!("the page's record: {e}")))?;
        Ok((read.href == url).then_some(read.state).flatten())
    }

    /// Clicks each button of the receipt (as a user looking for "view order" would), so that
    /// `jumpOut` messages are posted, then reads the page's record again.
    async fn click_receipt_buttons(&self, url: &str) -> Result<Option<PageState>, TesterError> {
        let main = self.page.mainframe().await?;
        for frame in self.page.frames().await? {
            if Some(&frame) == main.as_ref() {
                continue;
            }
            let Some(context) = self.page.frame_execution_context(frame).await? else {
                continue;
            };
            let click = EvaluateParams::builder()
                .expression(CLICK_BUTTONS_JS)
                .context_id(context)
                .await_promise(true)
                .build()
                .map_err(TesterError::Browser)?;
            // A receipt that navigates away mid-click still leaves its messages recorded.
            let _ = self.page.execute(click).await;
        }
        tokio::time::sleep(SETTLE).await;
        self.read_state(url).await
    }

    async fn screenshot(&self, path: &Path) -> Result<(), TesterError> {
        let png = self
            .page
            .screenshot(
                ScreenshotParams::builder()
                    .format(CaptureScreenshotFormat::Png)
                    .full_page(true)
                    .build(),
            )
            .await?;
        std::fs::write(path, png).map_err(|source| TesterError::Screenshot {
            path: path.to_owned(),
            source,
        })
    }
}

/// Clicks the receipt's buttons (not form submissions), 50 ms apart.
const CLICK_BUTTONS_JS: &str = r#"(async () => {
  const all = document.querySelectorAll("button, [role=button], [onclick], [data-jump-out]");
  const buttons = Array.from(all).filter((b) => !(b.type === "submit" && b.form)).slice(0, 10);
  for (const b of buttons) { b.click(); await new Promise((r) => setTimeout(r, 50)); }
  return buttons.length;
})()"#;

async fn run_loads(
    session: &Session,
    receipt: &ReceiptUnderTest,
    screenshot: Option<&Path>,
) -> Result<Loads, TesterError> {
    let check_code = receipt.check_code();
    let page = receipt.page(&check_code);
    let settled = |_: &PageState, _: &Events| false;
    let mut correct = session.load(WECHAT_ORIGIN, &page, 1, settled).await?;
    let ready = correct
        .state
        .outcome
        .as_ref()
        .is_some_and(|o| o.ready_ms.is_some());
    if ready {
        // WeChat shows the receipt now: its buttons are what a user can press.
        let url = format!("{WECHAT_ORIGIN}{PAGE_PATH}?load=1");
        tokio::time::sleep(SETTLE).await;
        if let Some(state) = session.click_receipt_buttons(&url).await? {
            correct.state = state;
        }
        correct.events = lock(&session.events).clone();
    }
    if let Some(path) = screenshot {
        session.screenshot(path).await?;
    }
    // A receipt that never got ready is not judged on check_code: no second 3-second wait.
    let wrong_code = if ready {
        let wrong = receipt.page(&wrong_check_code(&check_code));
        session.load(WECHAT_ORIGIN, &wrong, 2, settled).await?
    } else {
        Load::default()
    };
    // At the probe origin a message arrives only if posted to "*"; one posted to WeChat's
    // origin is refused, and Chromium says so at once.
    let posted = |state: &PageState, events: &Events| {
        !state.messages.is_empty() || !events.refused_targets.is_empty()
    };
    // A receipt that posted nothing within the limit has no target origin to judge.
    let probe = if posted(&correct.state, &correct.events) {
        session.load(PROBE_ORIGIN, &page, 3, posted).await?
    } else {
        Load::default()
    };
    Ok(Loads {
        correct,
        wrong_code,
        probe,
    })
}

/// `check_code` with its first hex digit changed: as long, still hex, and wrong.
fn wrong_check_code(check_code: &str) -> String {
    let mut chars: Vec<char> = check_code.chars().collect();
    if let Some(first) = chars.first_mut() {
        *first = if *first == '0' { '1' } else { '0' };
    }
    chars.into_iter().collect()
}

/// Spawns the listeners: the interception handler and the collectors of console errors,
/// failed requests and refused `postMessage` targets.
async fn listen(
    page: &Page,
    pages: &Arc<Mutex<HashMap<String, String>>>,
    events: &Arc<Mutex<Events>>,
) -> Result<Vec<tokio::task::JoinHandle<()>>, TesterError> {
    let mut tasks = Vec::new();
    let fetcher = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| TesterError::Browser(format!("an HTTP client: {e}")))?;

    let mut paused = page.event_listener::<EventRequestPaused>().await?;
    let (p, pages, ev) = (page.clone(), pages.clone(), events.clone());
    tasks.push(tokio::spawn(async move {
        while let Some(event) = paused.next().await {
            let (p, pages, ev, fetcher) = (p.clone(), pages.clone(), ev.clone(), fetcher.clone());
            tokio::spawn(async move { answer(&p, &event, &pages, &ev, &fetcher).await });
        }
    }));

    let urls: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let mut sent = page.event_listener::<EventRequestWillBeSent>().await?;
    let u = urls.clone();
    tasks.push(tokio::spawn(async move {
        while let Some(event) = sent.next().await {
            let mut urls = lock(&u);
            // Only to name failed requests: a page making endless requests stops being named.
            if urls.len() < MAX_TRACKED_REQUESTS {
                urls.insert(event.request_id.inner().clone(), event.request.url.clone());
            }
        }
    }));
    let mut failed = page.event_listener::<EventLoadingFailed>().await?;
    let (u, ev) = (urls.clone(), events.clone());
    tasks.push(tokio::spawn(async move {
        while let Some(event) = failed.next().await {
            if event.canceled == Some(true) {
                continue;
            }
            let Some(url) = lock(&u).get(event.request_id.inner()).cloned() else {
                continue;
            };
            if !is_stand_in(&url) {
                lock(&ev).failed(&url, &event.error_text);
            }
        }
    }));
    let mut responses = page.event_listener::<EventResponseReceived>().await?;
    let ev = events.clone();
    tasks.push(tokio::spawn(async move {
        while let Some(event) = responses.next().await {
            let url = &event.response.url;
            if event.response.status >= 400 && !is_stand_in(url) {
                lock(&ev).failed(url, &format!("HTTP {}", event.response.status));
            }
        }
    }));
    let mut console = page.event_listener::<EventConsoleApiCalled>().await?;
    let ev = events.clone();
    tasks.push(tokio::spawn(async move {
        while let Some(event) = console.next().await {
            if event.r#type == ConsoleApiCalledType::Error {
                let text = event
                    .args
                    .iter()
                    .map(|a| match (&a.value, &a.description) {
                        (Some(serde_json::Value::String(s)), _) => s.clone(),
                        (Some(v), _) => v.to_string(),
                        (None, Some(d)) => d.clone(),
                        (None, None) => String::new(),
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                lock(&ev).console_error(&format!("console.error: {text}"));
            }
        }
    }));
    let mut thrown = page.event_listener::<EventExceptionThrown>().await?;
    let ev = events.clone();
    tasks.push(tokio::spawn(async move {
        while let Some(event) = thrown.next().await {
            let details = &event.exception_details;
            let text = details
                .exception
                .as_ref()
                .and_then(|e| e.description.clone())
                .unwrap_or_else(|| details.text.clone());
            lock(&ev).console_error(&format!("uncaught: {text}"));
        }
    }));
    let mut log = page.event_listener::<EventEntryAdded>().await?;
    let ev = events.clone();
    tasks.push(tokio::spawn(async move {
        while let Some(event) = log.next().await {
            let entry = &event.entry;
            let mut events = lock(&ev);
            // Chromium reports a refused postMessage target as a security warning.
            if let Some(target) = refused_target(&entry.text) {
                events.refused(target);
            } else if entry.level == LogEntryLevel::Error
                && entry.url.as_deref().is_none_or(|u| !is_stand_in(u))
            {
                // Failed loads are reported as failed resources, once.
                if !entry.text.starts_with("Failed to load resource") {
                    events.console_error(&entry.text);
                }
            }
        }
    }));
    Ok(tasks)
}

/// Whether `url` is one of the stand-ins the tester serves (not the receipt's own business).
fn is_stand_in(url: &str) -> bool {
    url.starts_with(WECHAT_ORIGIN) || url.starts_with(PROBE_ORIGIN) || url == JGOLDPLAN_SCRIPT_URL
}

fn is_loopback_host(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1")
}

fn is_loopback_https(url: &str) -> bool {
    reqwest::Url::parse(url)
        .ok()
        .is_some_and(|u| u.scheme() == "https" && u.host_str().is_some_and(is_loopback_host))
}

fn running_as_root() -> bool {
    // /proc/self/status names the effective uid second on its Uid line.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}

/// Answers one paused request: the stand-ins from memory, loopback from the network as
/// Chromium would, anything else fetched by the tester with verified TLS.
async fn answer(
    page: &Page,
    event: &EventRequestPaused,
    pages: &Mutex<HashMap<String, String>>,
    events: &Mutex<Events>,
    fetcher: &reqwest::Client,
) {
    let url = event.request.url.as_str();
    let id = event.request_id.clone();
    let fulfill = |status: i64, content_type: &str, body: &[u8]| {
        FulfillRequestParams::builder()
            .request_id(id.clone())
            .response_code(status)
            .response_headers(vec![
                HeaderEntry::new("Content-Type", content_type),
                HeaderEntry::new("Cache-Control", "no-store"),
            ])
            .body(base64::engine::general_purpose::STANDARD.encode(body))
            .build()
    };
    if url.starts_with(WECHAT_ORIGIN) || url.starts_with(PROBE_ORIGIN) {
        let html = lock(pages).get(url).cloned();
        let reply = match html {
            Some(html) => fulfill(200, "text/html; charset=utf-8", html.as_bytes()),
            None => fulfill(404, "text/plain", b"not found"),
        };
        if let Ok(reply) = reply {
            let _ = page.execute(reply).await;
        }
        return;
    }
    if url == JGOLDPLAN_SCRIPT_URL {
        lock(events).script_loaded = true;
        if let Ok(reply) = fulfill(200, "application/javascript", JGOLDPLAN_STAND_IN.as_bytes()) {
            let _ = page.execute(reply).await;
        }
        return;
    }
    let parsed = reqwest::Url::parse(url).ok();
    let host = parsed
        .as_ref()
        .and_then(|u| u.host_str().map(str::to_owned));
    let is_web = parsed
        .as_ref()
        .is_some_and(|u| matches!(u.scheme(), "http" | "https"));
    if !is_web || host.as_deref().is_some_and(is_loopback_host) {
        let _ = page.execute(ContinueRequestParams::new(id)).await;
        return;
    }
    match fetch(fetcher, event).await {
        Some((status, headers, body)) => {
            let reply = FulfillRequestParams::builder()
                .request_id(id)
                .response_code(status)
                .response_headers(headers)
                .body(base64::engine::general_purpose::STANDARD.encode(body))
                .build();
            if let Ok(reply) = reply {
                let _ = page.execute(reply).await;
            }
        }
        None => {
            let _ = page
                .execute(FailRequestParams::new(id, ErrorReason::ConnectionFailed))
                .await;
        }
    }
}

/// What the tester serves for WeChat's script: the real one only provides the page's
/// surroundings, and the receipt's contract (postMessage) does not depend on it.
const JGOLDPLAN_STAND_IN: &str =
    "/* goldplan receipt tester: stand-in for WeChat's jgoldplan-1.0.0.js */\n";

/// Fetches a non-loopback request for the browser, bounded in time and size.
async fn fetch(
    fetcher: &reqwest::Client,
    event: &EventRequestPaused,
) -> Option<(i64, Vec<HeaderEntry>, Vec<u8>)> {
    let method = reqwest::Method::from_bytes(event.request.method.as_bytes()).ok()?;
    let mut request = fetcher.request(method, &event.request.url);
    if let Some(headers) = event.request.headers.inner().as_object() {
        for (name, value) in headers {
            if let Some(value) = value.as_str() {
                request = request.header(name.as_str(), value);
            }
        }
    }
    if let Some(entries) = &event.request.post_data_entries {
        let mut body = Vec::new();
        for entry in entries {
            if let Some(bytes) = &entry.bytes {
                let text: &str = bytes.as_ref();
                body.extend(
                    base64::engine::general_purpose::STANDARD
                        .decode(text)
                        .ok()?,
                );
            }
        }
        request = request.body(body);
    }
    let mut response = request.send().await.ok()?;
    let status = i64::from(response.status().as_u16());
    let headers = response
        .headers()
        .iter()
        .filter_map(|(k, v)| Some(HeaderEntry::new(k.as_str(), v.to_str().ok()?)))
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        if body.len() + chunk.len() > MAX_RESOURCE_BYTES {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    Some((status, headers, body))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_check_code_differs_and_stays_hex() {
        let code = "39f0876dd58e4eb61b66250f69d02705";
        let wrong = wrong_check_code(code);
        assert_ne!(wrong, code);
        assert_eq!(wrong.len(), 32);
        assert!(wrong.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(wrong_check_code("0abc"), "1abc");
    }

    #[test]
    fn bad_input_names_the_field_without_echoing_it() {
        let options = TestOptions {
            out_trade_no: Some("secret key pasted here".into()),
            ..TestOptions::default()
        };
        let e = ReceiptUnderTest::new("https://r.example/receipt", &options)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("out_trade_no (22 characters)"), "{e}");
        assert!(!e.contains("secret"), "{e}");
        let e = ReceiptUnderTest::new("not a url", &TestOptions::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("(9 characters)") && !e.contains("not a url"),
            "{e}"
        );
    }

    #[test]
    fn the_receipt_url_follows_the_documented_parameter_order() {
        let options = TestOptions {
            sub_mch_id: "1234567".into(),
            out_trade_no: Some("ABCDEFG".into()),
            transaction_id: Some("abcdefg".into()),
            ..TestOptions::default()
        };
        let receipt =
            ReceiptUnderTest::new("https://www.qq.com", &options).map_err(|e| e.to_string());
        let receipt = receipt.as_ref().map(|r| r.url_with(&r.check_code()));
        // APIV3.md §9.3: the check code of this example is 1a56f143…, not the guide's 39f0876d….
        assert_eq!(
            receipt.as_deref(),
            Ok(
                "https://www.qq.com?sub_mch_id=1234567&out_trade_no=ABCDEFG&check_code=1a56f1432c02f2bc0e2d3001424432d7"
            )
        );
    }
}
