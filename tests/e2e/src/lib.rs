//! Shared helpers of the end-to-end tests and of the round-trip benchmark: sandbox identities
//! generated once per process, sandboxes in each key mode, clients configured for them, and
//! assertions that tie a typed client error to the sandbox's own request log.
//!
//! This crate is test support only (`publish = false`); its helpers panic on set-up failures.

#![forbid(unsafe_code)]
#![allow(clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;
use std::time::Duration;

use goldplan::client::{ClientBuilder, RetryPolicy};
use goldplan::clock::{Clock, SystemClock};
use goldplan::credentials::{ApiV3Key, MerchantCredentials, PrivateKey};
use goldplan::verify::PublicKeyVerifier;
use goldplan::{ApiError, Client, Error, ErrorKind};
use goldplan_sandbox::{
    Identities, KeyMode, RequestRecord, Sandbox, SandboxConfig, SandboxControl, SandboxHandle,
    SandboxInfo,
};

pub use goldplan_sandbox::DEFAULT_SUB_MCHID as SUB;

/// Path prefix of the five Gold Plan endpoints (for faults and log filters).
pub const GOLD_PLAN_PATHS: &str = "/v3/goldplan/*";

/// Validity of the generated certificates (5 years, like WeChat Pay's).
const VALIDITY_SECS: i64 = 5 * 365 * 24 * 3600;

/// Identities generated once per process: RSA key generation is the slow part of start-up.
pub fn identities() -> Identities {
    static IDS: OnceLock<Identities> = OnceLock::new();
    IDS.get_or_init(|| {
        Identities::generate(SystemClock.now(), VALIDITY_SECS).expect("generate identities")
    })
    .clone()
}

/// How a client verifies responses and callbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Auto-downloaded, rotating platform certificates only.
    Certificates,
    /// The WeChat Pay public key only (no downloads).
    PublicKey,
    /// Both, routed by serial (merchants migrating to the public key).
    Combined,
}

impl Verification {
    /// Every mode.
    pub const ALL: [Verification; 3] = [
        Verification::Certificates,
        Verification::PublicKey,
        Verification::Combined,
    ];

    /// The sandbox merchant mode a real merchant using this client would be in.
    pub fn merchant_mode(self) -> KeyMode {
        match self {
            Verification::Certificates => KeyMode::Certificate,
            Verification::PublicKey => KeyMode::PublicKey,
            Verification::Combined => KeyMode::Combined,
        }
    }
}

/// Starts a sandbox whose built-in provider is in `mode`, with the shared identities.
pub async fn start(mode: KeyMode) -> SandboxHandle {
    trace_scan::install();
    let sandbox = Sandbox::start(SandboxConfig {
        identities: Some(identities()),
        mode,
        ..SandboxConfig::default()
    })
    .await
    .expect("start the sandbox");
    trace_scan::record_secrets(&info(&sandbox));
    sandbox
}

/// Text the end-to-end tests put in callback resources, so that it exists only once decrypted:
/// if it shows in a log, decrypted plaintext was logged.
pub const PLAINTEXT_MARKER: &str = "plaintext-marker-0c5e7d19";

/// `cargo make secret-scan`: with [`trace_scan::ENV`] naming a directory, every end-to-end test
/// process logs everything at `trace` level into `<dir>/<pid>.log` and lists the secrets it
/// holds in `<dir>/<pid>.secrets.json`; `tests/e2e/scan_secrets.py` then looks for the second
/// in the first.
pub mod trace_scan {
    use std::fs::File;
    use std::path::PathBuf;
    use std::sync::{Mutex, Once};

    use goldplan_sandbox::SandboxInfo;

    /// The variable naming the directory.
    pub const ENV: &str = "GOLDPLAN_TRACE_SCAN";

    fn dir() -> Option<PathBuf> {
        std::env::var_os(ENV).map(PathBuf::from)
    }

    /// Installs the process-wide `trace` subscriber once, when the variable is set.
    pub fn install() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            let Some(dir) = dir() else { return };
            std::fs::create_dir_all(&dir).expect("create the trace scan directory");
            let file = File::create(dir.join(format!("{}.log", std::process::id())))
                .expect("create the trace log");
            let subscriber = tracing_subscriber::fmt()
                .with_writer(Mutex::new(file))
                .with_ansi(false)
                .with_max_level(tracing::Level::TRACE)
                .finish();
            // A test binary that installed its own global subscriber keeps it.
            let _ = tracing::subscriber::set_global_default(subscriber);
        });
    }

    /// Writes the secrets of the sandbox's built-in provider beside the log.
    pub fn record_secrets(info: &SandboxInfo) {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            let Some(dir) = dir() else { return };
            let secrets = serde_json::json!({
                "private_key_pem": info.private_key_pem,
                "apiv3_key": info.apiv3_key,
                "plaintext_markers": [super::PLAINTEXT_MARKER],
            });
            std::fs::write(
                dir.join(format!("{}.secrets.json", std::process::id())),
                secrets.to_string(),
            )
            .expect("write the secrets list");
        });
    }
}

/// The sandbox's `sandbox.json`.
pub fn info(sandbox: &SandboxControl) -> SandboxInfo {
    sandbox.info().expect("sandbox info")
}

/// Bounded retries with delays short enough for tests.
pub fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
    }
}

/// The built-in provider's credentials from `sandbox.json`.
pub fn credentials(info: &SandboxInfo) -> MerchantCredentials {
    let key = PrivateKey::from_pem(&info.private_key_pem).expect("merchant private key");
    MerchantCredentials::with_certificate(&info.mchid, &info.serial_no, key, &info.certificate_pem)
        .expect("merchant credentials")
}

/// The sandbox's WeChat Pay public key.
pub fn public_key(info: &SandboxInfo) -> PublicKeyVerifier {
    PublicKeyVerifier::from_pem(&info.public_key_id, &info.public_key_pem).expect("public key")
}

/// A client builder for the built-in provider in `verification` mode, pointed at the sandbox,
/// with 3 attempts per call and millisecond back-off.
pub fn builder(info: &SandboxInfo, verification: Verification) -> ClientBuilder {
    let b = Client::builder()
        .credentials(credentials(info))
        .apiv3_key(ApiV3Key::new(&info.apiv3_key).expect("APIv3 key"))
        .base_url(&info.base_url)
        .timeout(Duration::from_secs(10))
        .retry_policy(fast_retries(3));
    match verification {
        Verification::Certificates => b,
        Verification::PublicKey => b.wechatpay_public_key(public_key(info)),
        Verification::Combined => b
            .wechatpay_public_key(public_key(info))
            .platform_certificates(true),
    }
}

/// [`builder`], built.
pub fn client(info: &SandboxInfo, verification: Verification) -> Client {
    builder(info, verification)
        .build()
        .expect("build the client")
}

/// The serial of the platform certificate the sandbox signs with now.
pub fn signing_serial(sandbox: &SandboxControl) -> String {
    sandbox
        .platform_certificates()
        .into_iter()
        .find(|c| c.signing)
        .map(|c| c.serial_no)
        .expect("a signing platform certificate")
}

/// The request log entries whose path starts with `prefix` (a trailing `*` is ignored).
pub fn requests_to(sandbox: &SandboxControl, prefix: &str) -> Vec<RequestRecord> {
    let prefix = prefix.trim_end_matches('*');
    sandbox
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with(prefix))
        .collect()
}

/// Issues a new platform certificate that signs from now on (no lead time); returns its serial.
pub async fn rotate_signing_now(sandbox: &SandboxControl) -> String {
    sandbox
        .rotate_platform_certificate(goldplan_sandbox::RotateRequest {
            sign_with_new: Some(true),
            ..goldplan_sandbox::RotateRequest::default()
        })
        .await
        .expect("rotate the platform certificate")
        .new_serial_no
}

/// How many times `GET /v3/certificates` reached the sandbox.
pub fn certificate_downloads(sandbox: &SandboxControl) -> usize {
    requests_to(sandbox, "/v3/certificates").len()
}

/// Asserts that `err` is the typed API error `status code` whose message contains `message`,
/// and that its Request-ID is the one the sandbox logged for that answer.
pub fn assert_api_error<'a>(
    sandbox: &SandboxControl,
    err: &'a Error,
    status: u16,
    code: &str,
    message: &str,
) -> &'a ApiError {
    assert_eq!(err.kind(), ErrorKind::Api, "{err}");
    let api = err.api().expect("an API error");
    assert_eq!((api.status, api.code.as_str()), (status, code), "{api:?}");
    assert!(
        api.message.contains(message),
        "expected a message containing {message:?}: {api:?}"
    );
    let id = api
        .request_id
        .as_deref()
        .expect("the error carries the Request-ID");
    assert_eq!(err.request_id(), Some(id));
    let logged = sandbox
        .requests()
        .into_iter()
        .find(|r| r.request_id.eq_ignore_ascii_case(id))
        .unwrap_or_else(|| panic!("Request-ID {id} is not in the sandbox log"));
    assert_eq!(
        (logged.status, logged.code.as_deref()),
        (status, Some(code))
    );
    api
}

/// A `redis-server` of its own on a loopback port, in a temporary directory, persisting
/// nothing; killed when dropped. Debian's `redis-server` must be installed (`.ci/run` installs
/// it with the fleet tests' task).
pub struct RedisServer {
    child: Option<std::process::Child>,
    port: u16,
    dir: std::path::PathBuf,
}

impl RedisServer {
    /// Starts one and waits until it answers.
    pub fn start() -> RedisServer {
        let dir = std::env::temp_dir().join(format!(
            "goldplan-redis-{}-{}",
            std::process::id(),
            NEXT_REDIS.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("redis directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut server = RedisServer {
            child: None,
            port,
            dir,
        };
        server.restart();
        server
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills the server (as a crash would: SIGKILL).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub fn restart(&mut self) {
        self.kill();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(&self.dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("redis-server (apt-get install redis-server)");
        self.child = Some(child);
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("redis-server did not start on port {}", self.port);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

static NEXT_REDIS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
