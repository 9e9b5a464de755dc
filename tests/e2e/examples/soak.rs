//! Fault soak (a benchmark-style run, not a test): many clients in every key mode call a
//! sandbox in its own process while the sandbox injects random faults, rotates and expires
//! platform certificates and migrates a merchant to the public key; callbacks are delivered in
//! parallel and forged ones are mixed in. Every outcome is checked against the sandbox's own
//! record of what it answered, so a wrong outcome cannot hide behind a retry.
//!
//! ```text
//! cargo make soak -- --minutes 30          # release build
//! cargo run -p goldplan-e2e --example soak -- --minutes 2 --clients 8
//! ```
//!
//! Exits non-zero when any outcome is wrong (a tampered answer accepted, a genuine one refused
//! for a reason the client could have avoided, a forged or replayed callback processed, a
//! genuine callback never acknowledged), when a call took more attempts than its retry budget,
//! when a client downloaded certificates more often than the storm rule allows, or when the
//! process's resident memory or open descriptors grew after the warm-up. Loopback only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use goldplan::client::{RefreshPolicy, RetryPolicy};
use goldplan::credentials::{ApiV3Key, MerchantCredentials, PrivateKey};
use goldplan::gold_plan::OperationType;
use goldplan::http::{HttpRequest, ReqwestTransport, Transport, TransportConfig, TransportFuture};
use goldplan::notification::{Acknowledgement, MemoryReplayGuard, ReplayGuard};
use goldplan::verify::PublicKeyVerifier;
use goldplan::{Client, ErrorKind};
use goldplan_sandbox::{
    CallbackRecord, DeliveryStatus, FaultKind, MerchantView, PlatformCertificateInfo,
    RequestRecord, Sandbox, SandboxConfig, SandboxInfo,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Attempts per call (the retry budget the soak checks).
const MAX_ATTEMPTS: u32 = 4;
/// Least time between two certificate downloads a client triggers (the storm rule), short so
/// that rotations every [`Args::rotate_every`] are each picked up in a short run.
const MIN_REFRESH: Duration = Duration::from_secs(5);
/// Share of API attempts whose answer the sandbox spoils.
const FAULT_SHARE: f64 = 0.15;
/// Per-attempt timeout of the clients; the slowest injected delay goes past it.
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// The second merchant, migrated from certificates to the public key during the run.
const MIGRATING_MCHID: &str = "1900009901";
const MIGRATING_SUB: &str = "1900009911";

struct Args {
    minutes: f64,
    clients: usize,
    rotate_every: Duration,
}

fn args() -> Args {
    let all: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        all.iter()
            .position(|a| a == name)
            .and_then(|i| all.get(i + 1))
            .and_then(|v| v.parse::<f64>().ok())
    };
    Args {
        minutes: value("--minutes").unwrap_or(2.0).clamp(0.2, 24.0 * 60.0),
        clients: value("--clients").map_or(8, |c| c as usize).clamp(4, 256),
        rotate_every: Duration::from_secs_f64(value("--rotate-every").unwrap_or(30.0).max(10.0)),
    }
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--sandbox-process") {
        return sandbox_process();
    }
    let args = args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let clean = runtime.block_on(run(args));
    std::process::exit(if clean { 0 } else { 1 });
}

// ---- the sandbox, in its own process ---------------------------------------------------------

/// The child: a sandbox on an ephemeral loopback port; prints its URL, serves until its stdin
/// closes (the soak ended or died).
fn sandbox_process() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sandbox = Sandbox::start(SandboxConfig {
            identities: Some(goldplan_e2e::identities()),
            mode: goldplan_sandbox::KeyMode::Combined,
            ..SandboxConfig::default()
        })
        .await
        .expect("start the sandbox");
        println!("{}", sandbox.base_url());
        tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
        })
        .await
        .unwrap();
        drop(sandbox);
    });
}

/// The sandbox child and its admin API.
struct SandboxProcess {
    child: Child,
    base_url: String,
    http: reqwest::Client,
}

impl SandboxProcess {
    fn start() -> SandboxProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .arg("--sandbox-process")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the sandbox process");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        SandboxProcess {
            child,
            base_url: line.trim().to_owned(),
            http: reqwest::Client::new(),
        }
    }

    async fn admin<T: DeserializeOwned>(&self, method: &str, path: &str, body: Option<Value>) -> T {
        let url = format!("{}/sandbox{path}", self.base_url);
        let mut request = self
            .http
            .request(method.parse().unwrap(), &url)
            .timeout(Duration::from_secs(30));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&body).unwrap());
        }
        let response = request.send().await.expect("admin request");
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// The resident set size of the sandbox process (for the report only).
    fn rss(&self) -> u64 {
        rss_of(&format!("/proc/{}/status", self.child.id()))
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

// ---- clients, with a transport that counts what they send ------------------------------------

/// Counts a client's attempts and certificate downloads, and when it last downloaded.
#[derive(Debug)]
struct Counting {
    inner: ReqwestTransport,
    api_attempts: AtomicU64,
    downloads: AtomicU64,
    last_download: Mutex<Option<Instant>>,
}

impl Transport for Counting {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        if request.url.contains("/v3/certificates") {
            self.downloads.fetch_add(1, Ordering::Relaxed);
            *self.last_download.lock().unwrap() = Some(Instant::now());
        } else {
            self.api_attempts.fetch_add(1, Ordering::Relaxed);
        }
        self.inner.send(request)
    }
}

impl Counting {
    fn new() -> Arc<Counting> {
        Arc::new(Counting {
            inner: ReqwestTransport::new(&TransportConfig {
                timeout: CALL_TIMEOUT,
                ..TransportConfig::default()
            })
            .unwrap(),
            api_attempts: AtomicU64::new(0),
            downloads: AtomicU64::new(0),
            last_download: Mutex::new(None),
        })
    }

    /// Whether the storm rule may be holding this client's next download back now.
    fn refresh_held_back(&self) -> bool {
        self.last_download
            .lock()
            .unwrap()
            .is_some_and(|at| at.elapsed() < MIN_REFRESH + Duration::from_secs(1))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Certificates,
    PublicKey,
    Combined,
}

struct Merchant {
    mchid: String,
    sub_mchid: String,
    credentials: MerchantCredentials,
    apiv3_key: String,
    public_key_id: String,
    public_key_pem: String,
}

impl Merchant {
    fn public_key(&self) -> PublicKeyVerifier {
        PublicKeyVerifier::from_pem(&self.public_key_id, &self.public_key_pem).unwrap()
    }
}

fn client(base_url: &str, merchant: &Merchant, mode: Mode, transport: Arc<Counting>) -> Client {
    let b = Client::builder()
        .credentials(merchant.credentials.clone())
        .apiv3_key(ApiV3Key::new(&merchant.apiv3_key).unwrap())
        .base_url(base_url)
        .timeout(CALL_TIMEOUT)
        .transport(transport)
        .retry_policy(RetryPolicy {
            max_attempts: MAX_ATTEMPTS,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
        })
        .refresh_policy(RefreshPolicy {
            min_interval: MIN_REFRESH,
            ..RefreshPolicy::default()
        });
    match mode {
        Mode::Certificates => b,
        Mode::PublicKey => b.wechatpay_public_key(merchant.public_key()),
        Mode::Combined => b
            .wechatpay_public_key(merchant.public_key())
            .platform_certificates(true),
    }
    .build()
    .unwrap()
}

// ---- the tally -------------------------------------------------------------------------------

#[derive(Default)]
struct Tally {
    calls: u64,
    successes: u64,
    /// Typed failures by kind (`Api 500 SYSTEM_ERROR`, `Timeout`, …).
    failures: BTreeMap<String, u64>,
    /// A genuine answer refused because its serial was not held while the storm rule held the
    /// client's download back: the designed behaviour, counted apart.
    held_back: u64,
    tampered_accepted: Vec<String>,
    genuine_refused: Vec<String>,
    unchecked: u64,
    max_attempts: u64,
    attempts: u64,
    callbacks_sent: u64,
    callbacks_acknowledged: u64,
    callback_attempts_tampered: u64,
    callbacks_held_back_attempts: u64,
    /// Callbacks never acknowledged because no attempt was both genuine and verifiable
    /// (tampered, or held back by the storm rule).
    callbacks_failed_attacked: u64,
    callbacks_pending: u64,
    callbacks_wrong: Vec<String>,
    faults_injected: BTreeMap<String, u64>,
    forged_sent: u64,
    forged_refused: BTreeMap<String, u64>,
    forged_accepted: Vec<String>,
    replays_processed_twice: Vec<String>,
}

impl Tally {
    fn wrong(&self) -> usize {
        self.tampered_accepted.len()
            + self.genuine_refused.len()
            + self.callbacks_wrong.len()
            + self.forged_accepted.len()
            + self.replays_processed_twice.len()
    }
}

/// A call's outcome waiting for the sandbox's record of its last answer.
struct Pending {
    request_id: Option<String>,
    result: Result<(), (ErrorKind, String)>,
    held_back: bool,
    at: Instant,
}

fn is_tampering(kind: FaultKind) -> bool {
    matches!(
        kind,
        FaultKind::BadSignature
            | FaultKind::UnknownSerial
            | FaultKind::StaleTimestamp
            | FaultKind::TruncatedBody
    )
}

fn failure_name(kind: ErrorKind, detail: &str) -> String {
    if kind == ErrorKind::Api {
        format!("Api {detail}")
    } else {
        format!("{kind:?}")
    }
}

/// Judges `pending` by the sandbox's record of the answer it ended with.
fn judge(tally: &mut Tally, pending: Pending, record: Option<&RequestRecord>) {
    let Pending {
        request_id,
        result,
        held_back,
        ..
    } = pending;
    let id = request_id.unwrap_or_default();
    match (result, record) {
        (Ok(()), Some(r)) => match r.fault {
            Some(kind) if is_tampering(kind) => tally
                .tampered_accepted
                .push(format!("{id}: {kind:?} answer accepted")),
            _ => tally.successes += 1,
        },
        (Ok(()), None) => {
            tally.unchecked += 1;
            tally.successes += 1;
        }
        (Err((kind, detail)), Some(r))
            if r.fault.is_none()
                && (200..300).contains(&r.status)
                && !matches!(
                    kind,
                    ErrorKind::Api | ErrorKind::Transport | ErrorKind::Timeout
                ) =>
        {
            let serial_not_held = matches!(
                kind,
                ErrorKind::UnknownSerial | ErrorKind::NoPlatformCertificate
            );
            if serial_not_held && held_back {
                tally.held_back += 1;
            } else {
                tally.genuine_refused.push(format!(
                    "{id}: genuine {} answer refused: {kind:?} {detail}",
                    r.status
                ));
            }
        }
        (Err((kind, detail)), _) => {
            *tally
                .failures
                .entry(failure_name(kind, &detail))
                .or_default() += 1;
        }
    }
}

// ---- callbacks: the receiver and the forger --------------------------------------------------

/// How many notification ids the receiver's replay guard and the soak's own double-processing
/// check keep: far more than the forger's pick of recent deliveries, and few enough that
/// both are full, so flat, soon after the warm-up.
const RECENT: usize = 1024;

/// The last [`RECENT`] ids, in a set.
#[derive(Default)]
struct Recent {
    ids: std::collections::HashSet<String>,
    order: VecDeque<String>,
}

impl Recent {
    /// Adds `id`; false when it was there already.
    fn insert(&mut self, id: &str) -> bool {
        if self.ids.contains(id) {
            return false;
        }
        if self.order.len() >= RECENT
            && let Some(oldest) = self.order.pop_front()
        {
            self.ids.remove(&oldest);
        }
        self.ids.insert(id.to_owned());
        self.order.push_back(id.to_owned());
        true
    }
}

/// One genuine delivery as received, kept for the forger.
#[derive(Clone)]
struct Delivery {
    merchant: usize,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

#[derive(Clone)]
struct Receiver {
    clients: Arc<Vec<(Client, Arc<Counting>)>>,
    guards: Arc<Vec<Arc<MemoryReplayGuard>>>,
    /// Ids processed lately (the forger replays only the latest deliveries), and any id
    /// processed a second time.
    processed: Arc<Mutex<Recent>>,
    processed_twice: Arc<Mutex<Vec<String>>>,
    /// Genuine deliveries refused because their serial was not held while the storm rule held
    /// the receiver's download back, by notification id.
    held_back: Arc<Mutex<HashMap<String, u32>>>,
    kept: Arc<Mutex<VecDeque<Delivery>>>,
}

/// The merchant's notify_url: verify, decrypt, process once, acknowledge. Answers which of
/// the three happened in `x-soak-outcome` (for the forger's tally only).
async fn notify(
    State(receiver): State<Receiver>,
    Path(merchant): Path<usize>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((client, transport)) = receiver.clients.get(merchant) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let guard = receiver.guards[merchant].clone();
    let pairs: Vec<(String, Vec<u8>)> = headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect();
    let forged = headers.contains_key("x-soak-forger");
    let parsed = client
        .parse_notification(pairs, &body, Some(guard.clone() as Arc<dyn ReplayGuard>))
        .await;
    let (ack, outcome) = match parsed {
        Ok(n) => {
            if !receiver.processed.lock().unwrap().insert(&n.id) {
                receiver.processed_twice.lock().unwrap().push(n.id.clone());
            }
            guard.record_processed(&n.id).unwrap();
            if !forged {
                let mut kept = receiver.kept.lock().unwrap();
                if kept.len() >= 64 {
                    kept.pop_front();
                }
                kept.push_back(Delivery {
                    merchant,
                    headers: headers
                        .iter()
                        .filter_map(|(n, v)| Some((n.to_string(), v.to_str().ok()?.to_owned())))
                        .collect(),
                    body: body.to_vec(),
                });
            }
            (Acknowledgement::success(), "processed".to_owned())
        }
        Err(e) => {
            let serial_not_held = matches!(
                e.kind(),
                ErrorKind::UnknownSerial | ErrorKind::NoPlatformCertificate
            );
            if !forged && serial_not_held && transport.refresh_held_back() {
                let id = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v["id"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                *receiver.held_back.lock().unwrap().entry(id).or_default() += 1;
            }
            (Acknowledgement::for_error(&e), format!("{:?}", e.kind()))
        }
    };
    let mut response = (StatusCode::from_u16(ack.status).unwrap(), ack.body).into_response();
    response
        .headers_mut()
        .insert("x-soak-outcome", outcome.parse().unwrap());
    response
}

/// One forgery of a genuine delivery: what was changed, and the request.
fn forge(delivery: &Delivery, variant: u64) -> (&'static str, Vec<(String, String)>, Vec<u8>) {
    let mut headers = delivery.headers.clone();
    let mut body = delivery.body.clone();
    let flip = |s: &mut String, at: usize| {
        let mut chars: Vec<char> = s.chars().collect();
        let i = at % chars.len().max(1);
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        *s = chars.into_iter().collect();
    };
    let header = |headers: &mut Vec<(String, String)>, name: &str, change: &dyn Fn(&mut String)| {
        for (n, v) in headers.iter_mut() {
            if n.eq_ignore_ascii_case(name) {
                change(v);
            }
        }
    };
    let what = match variant % 6 {
        0 => "replayed as it was",
        1 => {
            let mut envelope: Value = serde_json::from_slice(&body).unwrap();
            let mut text = envelope["resource"]["ciphertext"]
                .as_str()
                .unwrap()
                .to_owned();
            flip(&mut text, variant as usize / 6 + 7);
            envelope["resource"]["ciphertext"] = Value::String(text);
            body = serde_json::to_vec(&envelope).unwrap();
            "ciphertext changed"
        }
        2 => {
            header(&mut headers, "wechatpay-signature", &|v| flip(v, 11));
            "signature changed"
        }
        3 => {
            header(&mut headers, "wechatpay-timestamp", &|v| {
                *v = (v.parse::<i64>().unwrap_or(0) + 1).to_string();
            });
            "timestamp changed"
        }
        4 => {
            header(&mut headers, "wechatpay-nonce", &|v| flip(v, 3));
            "nonce changed"
        }
        _ => {
            let mut envelope: Value = serde_json::from_slice(&body).unwrap();
            envelope["event_type"] = Value::String("REFUND.SUCCESS".into());
            body = serde_json::to_vec(&envelope).unwrap();
            "event type changed"
        }
    };
    headers.retain(|(n, _)| {
        !["content-length", "host", "x-soak-forger"].contains(&n.to_ascii_lowercase().as_str())
    });
    headers.push(("x-soak-forger".into(), "1".into()));
    (what, headers, body)
}

/// How long after it was sent a callback's delivery is surely over: three attempts, 10 ms and
/// MIN_REFRESH + 1.5 s apart, each with a 3 s timeout.
const DELIVERY_WINDOW: Duration = Duration::from_secs(15);

/// Judges every callback sent more than `after` ago by the sandbox's record of its delivery:
/// a tampered attempt acknowledged, or a genuine one refused for any reason but the storm rule,
/// is a wrong outcome.
async fn judge_callbacks(
    sandbox: &SandboxProcess,
    tally: &Mutex<Tally>,
    sent: &Mutex<VecDeque<(String, Instant)>>,
    receiver: &Receiver,
    after: Duration,
) {
    let due: Vec<String> = {
        let mut sent = sent.lock().unwrap();
        let mut due = Vec::new();
        while sent.front().is_some_and(|(_, at)| at.elapsed() >= after) {
            if let Some((id, _)) = sent.pop_front() {
                due.push(id);
            }
        }
        due
    };
    for id in due {
        let record: CallbackRecord = sandbox
            .admin("GET", &format!("/callbacks/{id}"), None)
            .await;
        let excused = receiver.held_back.lock().unwrap().remove(&id).unwrap_or(0);
        judge_callback(&mut tally.lock().unwrap(), &record, excused);
    }
}

fn judge_callback(t: &mut Tally, record: &CallbackRecord, excused: u32) {
    let id = &record.id;
    let mut genuine_refused = 0;
    for a in &record.attempts {
        if a.fault.is_some() {
            t.callback_attempts_tampered += 1;
            if a.acknowledged {
                t.callbacks_wrong.push(format!(
                    "{id}: attempt {} tampered ({:?}) but acknowledged",
                    a.attempt, a.fault
                ));
            }
        } else if !a.acknowledged && a.status.is_some() {
            // Answered and refused (an attempt that timed out was not refused: the receiver
            // may have been waiting on a slow certificate download).
            genuine_refused += 1;
        }
    }
    t.callbacks_held_back_attempts += u64::from(excused.min(genuine_refused));
    if genuine_refused > excused {
        t.callbacks_wrong.push(format!(
            "{id}: {genuine_refused} genuine attempts refused ({excused} held back): {:?}",
            record
                .attempts
                .iter()
                .map(|a| (a.fault, a.status, a.response_body.clone()))
                .collect::<Vec<_>>()
        ));
    }
    match record.status {
        DeliveryStatus::Delivered => t.callbacks_acknowledged += 1,
        DeliveryStatus::Failed => t.callbacks_failed_attacked += 1,
        DeliveryStatus::Pending => t.callbacks_pending += 1,
    }
}

// ---- process figures -------------------------------------------------------------------------

fn rss_of(status_path: &str) -> u64 {
    std::fs::read_to_string(status_path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

// ---- the run ---------------------------------------------------------------------------------

fn merchant_from_info(info: &SandboxInfo) -> Merchant {
    let key = PrivateKey::from_pem(&info.private_key_pem).unwrap();
    Merchant {
        mchid: info.mchid.clone(),
        sub_mchid: info.sub_mchids[0].clone(),
        credentials: MerchantCredentials::with_certificate(
            &info.mchid,
            &info.serial_no,
            key,
            &info.certificate_pem,
        )
        .unwrap(),
        apiv3_key: info.apiv3_key.clone(),
        public_key_id: info.public_key_id.clone(),
        public_key_pem: info.public_key_pem.clone(),
    }
}

async fn run(args: Args) -> bool {
    let sandbox = Arc::new(SandboxProcess::start());
    let info: SandboxInfo = sandbox.admin("GET", "/info", None).await;
    // The built-in provider stays in combined mode (certificate, public-key and combined
    // clients all work with it, half of its callbacks are signed with the public key); the
    // second merchant starts on certificates and migrates to the public key mid-run.
    let _: MerchantView = sandbox
        .admin(
            "PATCH",
            &format!("/merchants/{}", info.mchid),
            Some(json!({"callback_public_key_share": 0.5})),
        )
        .await;
    let migrating: MerchantView = sandbox
        .admin(
            "POST",
            "/merchants",
            Some(json!({
                "mchid": MIGRATING_MCHID,
                "certificate_pem": info.certificate_pem,
                "apiv3_key": info.apiv3_key,
                "mode": "certificate",
                "sub_mchids": [MIGRATING_SUB],
            })),
        )
        .await;
    let primary = merchant_from_info(&info);
    let second = Merchant {
        mchid: MIGRATING_MCHID.into(),
        sub_mchid: MIGRATING_SUB.into(),
        credentials: MerchantCredentials::with_certificate(
            MIGRATING_MCHID,
            &info.serial_no,
            PrivateKey::from_pem(&info.private_key_pem).unwrap(),
            &info.certificate_pem,
        )
        .unwrap(),
        apiv3_key: info.apiv3_key.clone(),
        public_key_id: migrating.public_key_id.clone(),
        public_key_pem: migrating.public_key_pem.clone(),
    };
    let merchants = Arc::new([primary, second]);
    for m in merchants.iter() {
        let _: Value = sandbox
            .admin(
                "PATCH",
                &format!("/merchants/{}", m.mchid),
                Some(json!({
                    "gold_plan_joined": true,
                    "receipt_link": "https://receipts.example.com/goldplan",
                })),
            )
            .await;
    }

    // Callers: certificate, public-key and combined clients of the built-in provider, and
    // combined clients of the migrating merchant.
    let plan = [
        (0, Mode::Certificates),
        (0, Mode::PublicKey),
        (0, Mode::Combined),
        (1, Mode::Combined),
    ];
    let callers: Vec<(usize, Mode, Client, Arc<Counting>)> = (0..args.clients)
        .map(|i| {
            let (m, mode) = plan[i % plan.len()];
            let transport = Counting::new();
            let c = client(&sandbox.base_url, &merchants[m], mode, transport.clone());
            (m, mode, c, transport)
        })
        .collect();
    // Receivers: one combined client per merchant, with its replay guard.
    let receiver = Receiver {
        clients: Arc::new(
            (0..merchants.len())
                .map(|m| {
                    let t = Counting::new();
                    (
                        client(&sandbox.base_url, &merchants[m], Mode::Combined, t.clone()),
                        t,
                    )
                })
                .collect(),
        ),
        guards: Arc::new(
            (0..merchants.len())
                .map(|_| Arc::new(MemoryReplayGuard::new(RECENT).unwrap()))
                .collect(),
        ),
        processed: Arc::default(),
        processed_twice: Arc::default(),
        held_back: Arc::default(),
        kept: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/notify/{merchant}", axum::routing::post(notify))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let notify_base = format!("http://{}/notify", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let duration = Duration::from_secs_f64(args.minutes * 60.0);
    let started = Instant::now();
    let deadline = started + duration;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let (pending_tx, mut pending_rx) = tokio::sync::mpsc::unbounded_channel::<Pending>();
    println!(
        "soak: {} clients ({:?}), {:.1} min, sandbox in process {}, rotation every {} s",
        args.clients,
        callers
            .iter()
            .map(|(m, mode, ..)| format!("{m}:{mode:?}"))
            .collect::<Vec<_>>()
            .join(" "),
        args.minutes,
        sandbox.child.id(),
        args.rotate_every.as_secs()
    );

    // The callers.
    let mut tasks = Vec::new();
    for (i, (m, _, c, transport)) in callers.iter().enumerate() {
        let (c, transport, pending_tx, tally, merchants) = (
            c.clone(),
            transport.clone(),
            pending_tx.clone(),
            tally.clone(),
            merchants.clone(),
        );
        let sub = merchants[*m].sub_mchid.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = i as u64;
            while Instant::now() < deadline {
                n += 1;
                let before = transport.api_attempts.load(Ordering::Relaxed);
                // Gold Plan stays open (closing it bars re-opening for 24 h); the receipt page
                // goes on and off.
                let result = if n.is_multiple_of(3) {
                    let switch = if n.is_multiple_of(2) {
                        OperationType::Open
                    } else {
                        OperationType::Close
                    };
                    c.change_custom_page_status(&sub, switch)
                        .await
                        .map(|r| r.request_id)
                } else {
                    c.change_gold_plan_status(&sub, OperationType::Open, None)
                        .await
                        .map(|r| r.request_id)
                };
                let attempts = transport.api_attempts.load(Ordering::Relaxed) - before;
                {
                    let mut t = tally.lock().unwrap();
                    t.calls += 1;
                    t.attempts += attempts;
                    t.max_attempts = t.max_attempts.max(attempts);
                }
                let pending = match result {
                    Ok(id) => Pending {
                        request_id: id,
                        result: Ok(()),
                        held_back: false,
                        at: Instant::now(),
                    },
                    Err(e) => Pending {
                        request_id: e.request_id().map(str::to_owned),
                        held_back: transport.refresh_held_back(),
                        result: Err((
                            e.kind(),
                            e.api()
                                .map(|a| format!("{} {}", a.status, a.code))
                                .unwrap_or_default(),
                        )),
                        at: Instant::now(),
                    },
                };
                let _ = pending_tx.send(pending);
            }
        }));
    }
    drop(pending_tx);

    // The checker: each outcome against the sandbox's log of what it answered (the log holds
    // the last 1000 answers, read every 200 ms).
    let checker = {
        let (sandbox, tally) = (sandbox.clone(), tally.clone());
        tokio::spawn(async move {
            let mut waiting: VecDeque<Pending> = VecDeque::new();
            let mut open = true;
            while open || !waiting.is_empty() {
                tokio::time::sleep(Duration::from_millis(200)).await;
                loop {
                    match pending_rx.try_recv() {
                        Ok(p) => waiting.push_back(p),
                        Err(tokio::sync::mpsc::error::TryRecvError::Empty) => break,
                        Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => {
                            open = false;
                            break;
                        }
                    }
                }
                let log: Vec<RequestRecord> = sandbox.admin("GET", "/requests", None).await;
                let by_id: HashMap<String, &RequestRecord> = log
                    .iter()
                    .map(|r| (r.request_id.to_ascii_lowercase(), r))
                    .collect();
                let mut t = tally.lock().unwrap();
                let mut still = VecDeque::new();
                for p in waiting.drain(..) {
                    let record = p
                        .request_id
                        .as_deref()
                        .and_then(|id| by_id.get(&id.to_ascii_lowercase()).copied());
                    if record.is_some() || p.request_id.is_none() || p.at.elapsed().as_secs() >= 3 {
                        judge(&mut t, p, record);
                    } else {
                        still.push_back(p);
                    }
                }
                waiting = still;
            }
        })
    };

    // The gateway's bad day: faults on API answers and certificate downloads.
    let chaos = {
        let (sandbox, tally) = (sandbox.clone(), tally.clone());
        tokio::spawn(async move {
            let kinds = [
                FaultKind::SystemError,
                FaultKind::TooManyRequests,
                FaultKind::RateLimited,
                FaultKind::Delay,
                FaultKind::ConnectionReset,
                FaultKind::TruncatedBody,
                FaultKind::BadSignature,
                FaultKind::UnknownSerial,
                FaultKind::StaleTimestamp,
            ];
            // Faults follow the traffic: FAULT_SHARE of the attempts made since the last tick
            // get one (a fixed rate would either starve a slow run or vanish in a fast one).
            let (mut n, mut tick, mut budget, mut seen) = (0u64, 0u64, 0.0f64, 0u64);
            while Instant::now() < deadline {
                tick += 1;
                let attempts = tally.lock().unwrap().attempts;
                budget += FAULT_SHARE * attempts.saturating_sub(seen) as f64;
                seen = attempts;
                let mut faults = Vec::new();
                while budget >= 1.0 {
                    n += 1;
                    let r = splitmix(n);
                    let count = (1 + (r >> 16) % 4).min(budget as u64);
                    budget -= count as f64;
                    faults.push((
                        kinds[(r % kinds.len() as u64) as usize],
                        "/v3/goldplan/*",
                        count,
                        r,
                    ));
                }
                // Downloads are rare (a few a second in all): one fault every 3.5 s.
                if tick.is_multiple_of(70) {
                    let r = splitmix(u64::MAX - tick);
                    faults.push((
                        kinds[(r % kinds.len() as u64) as usize],
                        "/v3/certificates",
                        1,
                        r,
                    ));
                }
                for (kind, path, count, r) in faults {
                    let mut fault = json!({"kind": kind, "count": count, "path": path});
                    if kind == FaultKind::Delay {
                        fault["delay_ms"] = json!(50 + (r >> 24) % 2_500);
                    }
                    let _: Value = sandbox.admin("POST", "/faults", Some(fault)).await;
                    *tally
                        .lock()
                        .unwrap()
                        .faults_injected
                        .entry(format!("{kind:?} on {path}"))
                        .or_default() += count;
                }
                // About one callback in ten is tampered with.
                if tick.is_multiple_of(20) {
                    let kind = [
                        FaultKind::BadSignature,
                        FaultKind::UnknownSerial,
                        FaultKind::StaleTimestamp,
                    ][(splitmix(tick) % 3) as usize];
                    let _: Value = sandbox
                        .admin(
                            "POST",
                            "/faults",
                            Some(json!({"kind": kind, "target": "callback"})),
                        )
                        .await;
                    *tally
                        .lock()
                        .unwrap()
                        .faults_injected
                        .entry(format!("{kind:?} on callbacks"))
                        .or_default() += 1;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let _: Value = sandbox.admin("DELETE", "/faults", None).await;
        })
    };

    // Rotations, expiries and the migration.
    let rotations = Arc::new(AtomicU64::new(0));
    let rotator = {
        let (sandbox, merchants, rotations) =
            (sandbox.clone(), merchants.clone(), rotations.clone());
        let every = args.rotate_every;
        tokio::spawn(async move {
            let mut n: u64 = 0;
            let mut migration = 0;
            loop {
                let next = started + every * (n as u32 + 1);
                if next >= deadline {
                    break;
                }
                tokio::time::sleep_until(next.into()).await;
                n += 1;
                let m = &merchants[(n % 2) as usize];
                let mut request = json!({"mchid": m.mchid});
                if !n.is_multiple_of(3) {
                    request["sign_with_new"] = json!(true);
                }
                let _: Value = sandbox
                    .admin("POST", "/platform-certificates/rotate", Some(request))
                    .await;
                rotations.fetch_add(1, Ordering::Relaxed);
                let listed: Vec<PlatformCertificateInfo> = sandbox
                    .admin(
                        "GET",
                        &format!("/merchants/{}/platform-certificates", m.mchid),
                        None,
                    )
                    .await;
                let old: Vec<&PlatformCertificateInfo> =
                    listed.iter().filter(|c| !c.signing).collect();
                if old.len() >= 2 {
                    let _: Value = sandbox
                        .admin(
                            "POST",
                            &format!("/platform-certificates/{}/expire", old[0].serial_no),
                            None,
                        )
                        .await;
                }
                let elapsed = started.elapsed().as_secs_f64() / (deadline - started).as_secs_f64();
                let target = if elapsed >= 2.0 / 3.0 {
                    2
                } else if elapsed >= 1.0 / 3.0 {
                    1
                } else {
                    0
                };
                while migration < target {
                    migration += 1;
                    let mode = ["certificate", "combined", "public_key"][migration];
                    let _: Value = sandbox
                        .admin(
                            "PATCH",
                            &format!("/merchants/{MIGRATING_MCHID}"),
                            Some(json!({"mode": mode})),
                        )
                        .await;
                    println!(
                        "soak: {:>5.0} s  merchant {MIGRATING_MCHID} now in {mode} mode",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        })
    };

    // Callbacks from the sandbox, with faults of their own (injected by `chaos`).
    let sent: Arc<Mutex<VecDeque<(String, Instant)>>> = Arc::default();
    let sender = {
        let (sandbox, merchants, tally, sent) = (
            sandbox.clone(),
            merchants.clone(),
            tally.clone(),
            sent.clone(),
        );
        let notify_base = notify_base.clone();
        tokio::spawn(async move {
            let mut n: u64 = 0;
            while Instant::now() < deadline {
                n += 1;
                let m = (n % 2) as usize;
                let record: CallbackRecord = sandbox
                    .admin(
                        "POST",
                        "/callbacks",
                        Some(json!({
                            "url": format!("{notify_base}/{m}"),
                            "mchid": merchants[m].mchid,
                            "resource": {"out_trade_no": format!("soak-{n}"), "trade_state": "SUCCESS"},
                            "max_attempts": 3,
                            "retry_delays_ms": [10, (MIN_REFRESH.as_millis() + 1_500) as u64],
                            "timeout_ms": 3_000,
                        })),
                    )
                    .await;
                sent.lock().unwrap().push_back((record.id, Instant::now()));
                tally.lock().unwrap().callbacks_sent += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    // Each callback judged once its delivery is over (at most three attempts within 11 s).
    let callback_checker = {
        let (sandbox, tally, sent, receiver) = (
            sandbox.clone(),
            tally.clone(),
            sent.clone(),
            receiver.clone(),
        );
        tokio::spawn(async move {
            while Instant::now() < deadline {
                tokio::time::sleep(Duration::from_secs(2)).await;
                judge_callbacks(&sandbox, &tally, &sent, &receiver, DELIVERY_WINDOW).await;
            }
        })
    };

    // Forged and replayed callbacks, straight to the receiver.
    let forger = {
        let (receiver, tally) = (receiver.clone(), tally.clone());
        let notify_base = notify_base.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut n: u64 = 0;
            while Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(60)).await;
                n += 1;
                let delivery = {
                    let kept = receiver.kept.lock().unwrap();
                    if kept.is_empty() {
                        continue;
                    }
                    kept[(splitmix(n) % kept.len() as u64) as usize].clone()
                };
                let (what, headers, body) = forge(&delivery, n);
                let mut request = http
                    .post(format!("{notify_base}/{}", delivery.merchant))
                    .body(body);
                for (name, value) in &headers {
                    request = request.header(name, value);
                }
                let Ok(response) = request.send().await else {
                    continue;
                };
                let outcome = response
                    .headers()
                    .get("x-soak-outcome")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("none")
                    .to_owned();
                let mut t = tally.lock().unwrap();
                t.forged_sent += 1;
                if outcome == "processed" {
                    t.forged_accepted.push(format!("{what}: processed"));
                } else {
                    *t.forged_refused
                        .entry(format!("{what}: {outcome}"))
                        .or_default() += 1;
                }
            }
        })
    };

    // Progress, and the process figures after the warm-up (a tenth of the run, at least 10 s).
    let warm = started
        + (duration / 10)
            .max(Duration::from_secs(10))
            .min(duration / 2);
    tokio::time::sleep_until(warm.into()).await;
    let (rss_warm, fds_warm) = (rss_of("/proc/self/status"), open_fds());
    let sandbox_rss_warm = sandbox.rss();
    let mut rss_peak = rss_warm;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(10).min(deadline - Instant::now())).await;
        rss_peak = rss_peak.max(rss_of("/proc/self/status"));
        let t = tally.lock().unwrap();
        println!(
            "soak: {:>5.0} s  calls {} ok {} failed {} held back {} wrong {}  callbacks {} forged {}  rss {:.1} MiB fds {}",
            started.elapsed().as_secs_f64(),
            t.calls,
            t.successes,
            t.failures.values().sum::<u64>(),
            t.held_back,
            t.wrong(),
            t.callbacks_sent,
            t.forged_sent,
            mib(rss_of("/proc/self/status")),
            open_fds()
        );
    }
    for t in tasks {
        t.await.unwrap();
    }
    chaos.await.unwrap();
    rotator.await.unwrap();
    forger.await.unwrap();
    sender.await.unwrap();
    callback_checker.await.unwrap();
    checker.await.unwrap();
    // Pool connections idle out, figures settle; callbacks finish their retries.
    tokio::time::sleep(MIN_REFRESH + Duration::from_secs(4)).await;
    let (rss_end, fds_end) = (rss_of("/proc/self/status"), open_fds());

    // The callbacks still to judge, now that every delivery is over.
    judge_callbacks(&sandbox, &tally, &sent, &receiver, Duration::ZERO).await;
    // The storm rule: at most one triggered download per MIN_REFRESH per client, plus the first.
    let elapsed = started.elapsed();
    let download_bound = 2 + (elapsed.as_secs_f64() / MIN_REFRESH.as_secs_f64()).ceil() as u64;
    let mut downloads = Vec::new();
    let mut storm = Vec::new();
    for (i, (_, mode, c, _)) in callers.iter().enumerate() {
        let done = c.certificate_downloads().await;
        downloads.push(done);
        if done > download_bound {
            storm.push(format!(
                "client {i} ({mode:?}): {done} downloads > {download_bound}"
            ));
        }
    }
    let sent_downloads: u64 = callers
        .iter()
        .map(|(.., t)| t.downloads.load(Ordering::Relaxed))
        .sum();
    let mut t = tally.lock().unwrap();
    t.replays_processed_twice.extend(
        receiver
            .processed_twice
            .lock()
            .unwrap()
            .iter()
            .map(|id| format!("{id}: processed twice")),
    );

    let sandbox_rss_end = sandbox.rss();

    let rss_growth = rss_end.saturating_sub(rss_warm);
    let rss_flat = rss_growth <= (rss_warm / 4).max(16 << 20);
    // Each client may keep a few pooled connections; a leak per call would show in hundreds.
    let fds_flat = fds_end <= fds_warm + 16;
    let retries_bounded = t.max_attempts <= u64::from(MAX_ATTEMPTS);
    println!(
        "\n== soak report ({:.1} min, {} clients) ==",
        elapsed.as_secs_f64() / 60.0,
        args.clients
    );
    println!("calls                 {}", t.calls);
    println!("  successes           {}", t.successes);
    println!("  typed failures      {}", t.failures.values().sum::<u64>());
    for (kind, n) in &t.failures {
        println!("    {kind:<28} {n}");
    }
    println!(
        "  held back (storm)   {}  (genuine answer signed by a serial not held while the storm rule held the download back)",
        t.held_back
    );
    println!(
        "  not in the log      {}  (answer evicted from the sandbox log before it was checked)",
        t.unchecked
    );
    println!(
        "attempts per call     mean {:.2}, max {} (budget {MAX_ATTEMPTS})",
        t.attempts as f64 / t.calls.max(1) as f64,
        t.max_attempts
    );
    println!(
        "certificate downloads {} completed by {} clients (max {} per client, bound {download_bound}); {} requests sent",
        downloads.iter().sum::<u64>(),
        downloads.len(),
        downloads.iter().max().copied().unwrap_or(0),
        sent_downloads
    );
    println!(
        "faults injected       {} answers",
        t.faults_injected.values().sum::<u64>()
    );
    for (what, n) in &t.faults_injected {
        println!("    {what:<40} {n}");
    }
    println!(
        "rotations             {}",
        rotations.load(Ordering::Relaxed)
    );
    println!(
        "callbacks             {} sent, {} acknowledged, {} never acknowledged (every attempt tampered or held back), {} still pending",
        t.callbacks_sent,
        t.callbacks_acknowledged,
        t.callbacks_failed_attacked,
        t.callbacks_pending
    );
    println!(
        "  attempts            {} tampered (refused), {} genuine but held back by the storm rule",
        t.callback_attempts_tampered, t.callbacks_held_back_attempts
    );
    println!("forged callbacks      {} sent", t.forged_sent);
    for (what, n) in &t.forged_refused {
        println!("    {what:<40} {n}");
    }
    println!(
        "memory (RSS)          {:.1} MiB after warm-up, {:.1} MiB at the end, peak {:.1} MiB{}",
        mib(rss_warm),
        mib(rss_end),
        mib(rss_peak),
        if rss_flat { "" } else { "  NOT FLAT" }
    );
    println!(
        "open descriptors      {fds_warm} after warm-up, {fds_end} at the end{}",
        if fds_flat { "" } else { "  NOT FLAT" }
    );
    println!(
        "sandbox process RSS   {:.1} MiB after warm-up, {:.1} MiB at the end",
        mib(sandbox_rss_warm),
        mib(sandbox_rss_end)
    );
    let wrong: Vec<&String> = t
        .tampered_accepted
        .iter()
        .chain(&t.genuine_refused)
        .chain(&t.callbacks_wrong)
        .chain(&t.forged_accepted)
        .chain(&t.replays_processed_twice)
        .collect();
    println!("WRONG OUTCOMES        {}", wrong.len());
    for w in wrong.iter().take(20) {
        println!("    {w}");
    }
    for s in &storm {
        println!("STORM RULE BROKEN     {s}");
    }
    let clean = wrong.is_empty()
        && storm.is_empty()
        && retries_bounded
        && rss_flat
        && fds_flat
        && t.calls > 0
        && t.callbacks_acknowledged > 0
        && t.forged_sent > 0;
    println!("soak: {}", if clean { "clean" } else { "FAILED" });
    clean
}

/// A fixed pseudo-random sequence (SplitMix64): the soak makes the same choices every run.
fn splitmix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
