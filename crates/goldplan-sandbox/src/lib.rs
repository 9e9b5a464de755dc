//! # goldplan-sandbox
//!
//! A local, loopback-only WeChat Pay APIv3 gateway simulator for the Gold Plan (点金计划)
//! service-provider API. It behaves like the real gateway: it checks request signatures,
//! signs every response, serves encrypted platform certificates, rotates them, supports
//! public-key mode and the migration to it, enforces the Gold Plan business rules, delivers
//! signed and encrypted callbacks, and injects faults on demand. It never talks to WeChat Pay.
//!
//! ```no_run
//! # async fn demo() -> Result<(), goldplan_sandbox::SandboxError> {
//! use goldplan_sandbox::{Sandbox, SandboxConfig, Fault, FaultKind};
//!
//! let sandbox = Sandbox::start(SandboxConfig::default()).await?;
//! let info = sandbox.info()?;            // what sandbox.json holds: mchid, keys, serials
//! println!("gateway at {}", sandbox.base_url());
//! sandbox.inject_fault(Fault::new(FaultKind::SystemError))?;  // next request gets a 500
//! sandbox.advance_clock(24 * 3600)?;     // the 24-hour re-open rule, in no time
//! sandbox.shutdown().await?;
//! # let _ = info; Ok(()) }
//! ```
//!
//! The admin API (`/sandbox/…`, documented in the crate README) exposes the same operations
//! over HTTP for tests written in other languages.

#![forbid(unsafe_code)]

mod admin;
mod callbacks;
mod certs;
mod clock;
mod config;
mod control;
mod error;
mod gateway;
mod gold_plan;
mod identity;
mod media;
mod model;
mod orders;
mod payments;
mod persist;
pub mod serve;
mod server;
mod signing;
mod state;
mod wire;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use axum::Router;
use goldplan::clock::{Clock, SystemClock};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use callbacks::{CallbackRequest, MAX_CALLBACK_ANSWER_BYTES, WECHAT_RETRY_SCHEDULE_SECS};
pub use clock::SandboxClock;
pub use config::{
    ConnectionLimits, DEFAULT_MCHID, DEFAULT_SP_APPID, DEFAULT_SP_OPENID, DEFAULT_SUB_APPID,
    DEFAULT_SUB_MCHID, DEFAULT_SUB_OPENID, KeyMode, MAX_UPLOAD_BYTES_LIMIT, ProtocolClock,
    RateLimit, SandboxConfig, Settings,
};
pub use control::SandboxControl;
pub use error::{Result, SandboxError};
pub use gold_plan::REOPEN_TOO_SOON;
pub use identity::{Identities, PlatformIdentity, RsaIdentity};
pub use model::{
    CallbackRecord, ClockView, DeliveryAttempt, DeliveryStatus, Fault, FaultKind, FaultTarget,
    MediaRecord, MerchantPatch, MerchantRegistration, MerchantView, OrderRef, PayOutcome,
    PayRequest, PlatformCertificateInfo, ProviderType, RequestRecord, RotateRequest,
    RotationOutcome, SandboxInfo, SimulatedUser, SubMerchantInfo, SubMerchantPatch,
    SubMerchantRegistration, SubMerchantState, Switch,
};
pub use persist::STATE_FORMAT_VERSION;

use crate::identity::{StoredIdentities, WechatSide};
use crate::state::{Merchant, Shared, State};

/// Starts sandboxes.
#[derive(Debug)]
pub struct Sandbox;

impl Sandbox {
    /// Binds, creates (or loads) the identities, writes `sandbox.json` when a state directory
    /// is configured, and starts serving on the current tokio runtime.
    ///
    /// A state directory is locked for as long as the sandbox runs: starting a second sandbox
    /// on it fails with [`SandboxError::StateDirInUse`].
    pub async fn start(config: SandboxConfig) -> Result<SandboxHandle> {
        config
            .settings
            .check()
            .map_err(|e| SandboxError::Config(format!("invalid settings: {e}")))?;
        config
            .limits
            .check()
            .map_err(|e| SandboxError::Config(format!("invalid connection limits: {e}")))?;
        if !config.bind.ip().is_loopback() {
            if !config.allow_non_loopback {
                return Err(SandboxError::Config(format!(
                    "refusing to bind the non-loopback address {} without allow_non_loopback \
                     (--bind needs --allow-non-loopback)",
                    config.bind
                )));
            }
            tracing::warn!(bind = %config.bind, "the sandbox is reachable from other hosts; it holds test keys and answers anyone (the admin API stays loopback-only)");
        }
        // Taken first: a second sandbox on the same directory must not read, let alone
        // write, what the first one is changing.
        let state_dir_lock = match &config.state_dir {
            Some(dir) => Some(persist::lock_state_dir(dir)?),
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(config.bind).await?;
        let local = listener.local_addr()?;
        let shown = if local.ip().is_unspecified() {
            SocketAddr::from(([127, 0, 0, 1], local.port()))
        } else {
            local
        };
        let base_url = format!("http://{shown}");
        // The business state is read first: a bad file is reported before keys are generated.
        let stored = match &config.state_dir {
            Some(dir) => persist::load(dir)?,
            None => None,
        };
        let identities = load_identities(&config).await?;
        let clock = Arc::new(SandboxClock::new());
        let mut state = State {
            settings: config.settings.clone(),
            sides: BTreeMap::new(),
            primary_mchid: config.mchid.clone(),
            merchants: BTreeMap::new(),
            faults: Vec::new(),
            requests: VecDeque::new(),
            callbacks: state::CallbackLog::default(),
            media: BTreeMap::new(),
            nonces: state::NonceLog::default(),
            orders: BTreeMap::new(),
            payment_seq: 0,
            identities,
        };
        if let Some((path, stored)) = &stored {
            clock.advance(stored.clock_offset_secs());
            state.settings = stored.settings().clone();
            state.identities.wechat.signing_serial = stored.signing_serial().to_owned();
            (state.merchants, state.sides) = stored.merchants(&state.identities, path)?;
            state.media = stored.media();
            (state.orders, state.payment_seq) = stored.orders();
        }
        let now = clock.now();
        // Registered merchants stored before they had a WeChat Pay side of their own get one.
        let validity = state.settings.certificate_validity_secs;
        for mchid in state.merchants.keys() {
            if *mchid != config.mchid && !state.sides.contains_key(mchid) {
                let side = WechatSide::generate(now, SystemClock.now(), validity)?;
                state.sides.insert(mchid.clone(), side);
            }
        }
        let primary_side = &mut state.identities.wechat;
        if primary_side.signing_serial.is_empty() {
            primary_side.signing_serial = primary_side
                .platform
                .iter()
                .filter(|p| p.is_active(now))
                .max_by_key(|p| p.issued_at)
                .map(|p| p.serial_no().to_owned())
                .unwrap_or_default();
        }
        // The built-in provider always uses the identities' key; a stored one keeps its
        // business state.
        let ids = &state.identities;
        let mut primary = Merchant::new(
            config.mchid.clone(),
            ids.merchant_serial_no.clone(),
            ids.merchant_key.private_key().public_key_der(),
            &ids.apiv3_key,
            config.mode,
        )?;
        if let Some(previous) = state.merchants.remove(&config.mchid) {
            primary.adopt_business_state(previous);
        }
        for sub in &config.sub_mchids {
            primary.ensure_sub(sub);
        }
        state.merchants.insert(config.mchid.clone(), primary);
        // Spec §4.3: only a 200/204 answer acknowledges, so a redirect is an answer like any
        // other and is never followed (following one would also let a receiver steer the
        // sandbox to a host it refuses to talk to).
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            // Callback headers go out as WeChat Pay spells them (`Wechatpay-Signature`), like
            // the gateway's responses, so a case-sensitive handler is caught here too.
            .http1_title_case_headers()
            .build()
            .map_err(|e| SandboxError::Config(format!("cannot build the callback client: {e}")))?;
        let app = Arc::new(Shared {
            clock,
            state: Mutex::new(state),
            base_url: base_url.clone(),
            state_dir: config.state_dir.clone(),
            state_dir_lock: Mutex::new(state_dir_lock),
            http,
            rotating: std::sync::atomic::AtomicBool::new(false),
            persist_turn: Mutex::new(()),
            persist_requested: Default::default(),
            persist_durable: Default::default(),
        });
        app.persist()?;
        let router = Router::new()
            .nest("/sandbox", admin::router())
            .fallback(gateway::gateway)
            .with_state(app.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(listener, router, config.limits, rx));
        tracing::info!(%base_url, "goldplan sandbox listening");
        Ok(SandboxHandle {
            control: SandboxControl { app },
            local_addr: local,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

async fn load_identities(config: &SandboxConfig) -> Result<Identities> {
    if let Some(ids) = &config.identities {
        return Ok(ids.clone());
    }
    if let Some(dir) = &config.state_dir {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("identities.json");
        if path.exists() {
            let text = std::fs::read_to_string(&path)?;
            let stored: StoredIdentities = serde_json::from_str(&text).map_err(|e| {
                SandboxError::Identity(format!("{} is not valid: {e}", path.display()))
            })?;
            return Identities::from_stored(&stored);
        }
    }
    let validity = config.settings.certificate_validity_secs;
    tokio::task::spawn_blocking(move || Identities::generate(SystemClock.now(), validity))
        .await
        .map_err(|e| SandboxError::Identity(format!("key generation task failed: {e}")))?
}

/// A running sandbox. Dereferences to [`SandboxControl`] for every admin operation. Dropping
/// it stops the server (without waiting); [`SandboxHandle::shutdown`] stops it gracefully.
/// Either way the state directory's lock is released when it returns.
#[derive(Debug)]
pub struct SandboxHandle {
    control: SandboxControl,
    local_addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SandboxHandle {
    /// The bound socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A cloneable control handle (for sharing with other tasks).
    pub fn control(&self) -> SandboxControl {
        self.control.clone()
    }

    /// Stops accepting connections, lets in-flight requests finish (at most 10 s), waits for
    /// the server task, writes the state directory a last time and releases its lock (another
    /// sandbox may then start on it).
    pub async fn shutdown(mut self) -> Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .map_err(|e| SandboxError::Config(format!("server task failed: {e}")))?;
        }
        // Everything is written as it changes; this last write covers what changed while
        // the server drained.
        let written = self.control.app.persist();
        self.control.app.release_state_dir();
        written
    }
}

impl Deref for SandboxHandle {
    type Target = SandboxControl;
    fn deref(&self) -> &SandboxControl {
        &self.control
    }
}

impl Drop for SandboxHandle {
    /// Stops the server without waiting, writes the state directory a last time and releases
    /// its lock at once, so that a sandbox started right after on the same directory is not
    /// refused. Requests still draining then change memory only.
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
            if let Err(e) = self.control.app.persist() {
                tracing::debug!(error = %e, "cannot write the state directory while dropping the sandbox");
            }
        }
        // Also after a failed `shutdown`, which returns before its own release.
        self.control.app.release_state_dir();
    }
}
