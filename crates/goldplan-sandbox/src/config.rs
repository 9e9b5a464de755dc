//! Start-up configuration ([`SandboxConfig`]) and the settings that can be changed while the
//! sandbox runs ([`Settings`], `PATCH /sandbox/settings`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::identity::Identities;

/// Default merchant id of the built-in service provider (the spec's example id).
pub const DEFAULT_MCHID: &str = "1900000100";

/// Default special merchant registered for the built-in service provider.
pub const DEFAULT_SUB_MCHID: &str = "1900000109";

/// The AppID bound to every service provider (`sp_appid` of a prepay, PAYMENTS.md §7.1).
pub const DEFAULT_SP_APPID: &str = "wx8888888888888888";

/// The AppID bound to a special merchant unless another one is configured (`sub_appid`).
pub const DEFAULT_SUB_APPID: &str = "wxd678efh567hg6999";

/// The simulated payer's OpenID under [`DEFAULT_SP_APPID`] (`payer.sp_openid`).
pub const DEFAULT_SP_OPENID: &str = "oSpTest0123456789abcdefABCDE";

/// The same payer's OpenID under [`DEFAULT_SUB_APPID`] (`payer.sub_openid`).
pub const DEFAULT_SUB_OPENID: &str = "oSubTest0123456789abcdefABCD";

/// Which WeChat Pay key a merchant is set up for (spec §2.6, §3.6): the client's own type, so
/// a sandbox's mode and a client's mode are one vocabulary. In the sandbox, `certificate` signs
/// every response and callback with the current platform certificate; `combined` lets the
/// request's `Wechatpay-Serial` choose (the public key id selects the public key) and signs
/// callbacks with the public key with probability `callback_public_key_share`; `public_key`
/// signs everything with the public key and answers `GET /v3/certificates` with
/// `404 RESOURCE_NOT_EXISTS`.
pub use goldplan::config::KeyMode;

/// Which clock the protocol layer (request timestamp window, `Wechatpay-Timestamp` of
/// responses and callbacks) reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtocolClock {
    /// The real system clock: clients signing with their own wall clock keep working after the
    /// sandbox clock was advanced (business time and protocol time are separate).
    System,
    /// The sandbox clock: for tests whose client shares the sandbox clock
    /// ([`crate::SandboxControl::clock`]).
    Sandbox,
}

/// Gold Plan rate limit: at most `max_requests` Gold Plan calls per provider in each window of
/// `window_secs` sandbox seconds; more are answered `400 INVALID_REQUEST` "命中频率限制".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Calls allowed per window.
    pub max_requests: u32,
    /// Window length in seconds (fixed windows on the sandbox clock).
    pub window_secs: i64,
}

/// Settings that can be changed at run time through `PATCH /sandbox/settings` or
/// [`crate::SandboxControl::update_settings`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Requests whose `timestamp` is more than this many seconds away are rejected.
    pub max_skew_secs: i64,
    /// After an explicit CLOSE, Gold Plan can be re-opened only after this many seconds.
    pub reopen_wait_secs: i64,
    /// Optional Gold Plan rate limit (none by default).
    pub rate_limit: Option<RateLimit>,
    /// The clock of the protocol layer.
    pub protocol_clock: ProtocolClock,
    /// How long a callback receiver may take to answer before the attempt counts as failed.
    pub callback_timeout_ms: u64,
    /// Most delivery attempts per callback (the first one included).
    pub callback_max_attempts: u32,
    /// Factor applied to WeChat's retry schedule (15 s, 15 s, 30 s, 3 min, ...): 0.001 turns
    /// seconds into milliseconds.
    pub callback_time_scale: f64,
    /// Validity of newly issued platform certificates.
    pub certificate_validity_secs: i64,
    /// After a rotation, how long the previous certificate stays listed.
    pub rotation_overlap_secs: i64,
    /// After a rotation, how long the new certificate is listed before it signs (at most the
    /// overlap of that rotation), so that clients refreshing on a schedule download it before
    /// they meet it. 0 makes rotations switch at once.
    pub rotation_lead_secs: i64,
    /// When set, a new platform certificate is issued automatically once the newest one is
    /// this old (checked lazily against the sandbox clock).
    pub auto_rotate_after_secs: Option<i64>,
    /// Largest accepted media upload (file part), bytes; at most [`MAX_UPLOAD_BYTES_LIMIT`].
    pub max_upload_bytes: usize,
    /// Upper clamp of a prepay's `time_expire`, seconds after creation (PAYMENTS.md §9 D6:
    /// 15 days by default; some pages say 90).
    pub order_max_expire_secs: i64,
    /// `bank_type` of simulated payments.
    pub bank_type: String,
    /// Closing an already closed order answers `400 ORDER_CLOSED` instead of `204` (§9 D10).
    pub strict_close: bool,
}

/// The highest `max_upload_bytes` the sandbox accepts (100 MiB).
pub const MAX_UPLOAD_BYTES_LIMIT: usize = 100 * 1024 * 1024;

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            max_skew_secs: 300,
            reopen_wait_secs: 24 * 3600,
            rate_limit: None,
            protocol_clock: ProtocolClock::System,
            callback_timeout_ms: 5_000,
            callback_max_attempts: 5,
            callback_time_scale: 0.001,
            certificate_validity_secs: 5 * 365 * 24 * 3600,
            rotation_overlap_secs: 10 * 24 * 3600,
            // WeChat Pay's older guide: issued 10 days before expiry, signing from 5 days
            // before; longer than any scheduled refresh interval of the reference SDKs (24 h).
            rotation_lead_secs: 5 * 24 * 3600,
            auto_rotate_after_secs: None,
            max_upload_bytes: 5 * 1024 * 1024,
            order_max_expire_secs: 15 * 24 * 3600,
            bank_type: "CMC".into(),
            strict_close: false,
        }
    }
}

/// Limits of the TCP side, so that slow or idle clients cannot hold the sandbox's sockets
/// (and file descriptors) for ever (slowloris, connection exhaustion).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Most connections served at once; beyond it a new connection is answered
    /// `503 Service Unavailable` (when the socket takes it without waiting) and closed at once.
    /// At least 1.
    pub max_connections: usize,
    /// How long a client may take to send a complete request head, counted from when the
    /// sandbox starts waiting for it. It also bounds how long an idle keep-alive connection
    /// stays open between requests. The connection is closed when it runs out.
    pub header_read_timeout: Duration,
    /// How long a request body may go without sending any data; the request then fails
    /// (`400 INVALID_REQUEST` on the gateway, `400 INVALID_INPUT` on the admin API).
    pub idle_timeout: Duration,
    /// How long a whole request (head and body) may take to arrive, counted from its first
    /// byte. A request still arriving then is answered `408 Request Timeout` and its
    /// connection closed, however steadily it trickles in: `idle_timeout` alone restarts with
    /// every byte. It also caps `header_read_timeout`.
    pub request_timeout: Duration,
}

/// Half of this process's open-file limit (at most 8 192): room for the other half, which
/// callbacks, the state directory and the client side of in-process tests use. 512 when the
/// limit cannot be read, which stays below the usual 1 024.
fn default_max_connections() -> usize {
    const FALLBACK: usize = 512;
    use std::io::Read as _;
    let mut limits = String::new();
    let read = std::fs::File::open("/proc/self/limits")
        .and_then(|f| f.take(16 * 1024).read_to_string(&mut limits));
    if read.is_err() {
        return FALLBACK;
    }
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|soft| soft.parse::<usize>().ok())
        .map_or(FALLBACK, |soft| (soft / 2).clamp(64, 8192))
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            max_connections: default_max_connections(),
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
        }
    }
}

impl ConnectionLimits {
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.max_connections == 0 {
            return Err("max_connections must be at least 1".into());
        }
        if self.header_read_timeout.is_zero()
            || self.idle_timeout.is_zero()
            || self.request_timeout.is_zero()
        {
            return Err(
                "header_read_timeout, idle_timeout and request_timeout must be positive".into(),
            );
        }
        Ok(())
    }
}

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Address to bind; `127.0.0.1:0` (random port) by default.
    pub bind: SocketAddr,
    /// Must be true to bind a non-loopback address (a warning is logged).
    pub allow_non_loopback: bool,
    /// Where `sandbox.json`, the generated identities (`identities.json`) and the business
    /// state (`state.json`) are written, and loaded from on the next start; a stored state
    /// takes precedence over `mode` and `settings`. `None` keeps everything in memory.
    pub state_dir: Option<PathBuf>,
    /// Merchant id of the built-in service provider.
    pub mchid: String,
    /// Key mode of the built-in service provider.
    pub mode: KeyMode,
    /// Special merchants registered for the built-in provider at start.
    pub sub_mchids: Vec<String>,
    /// Initial run-time settings.
    pub settings: Settings,
    /// Identities to use instead of generating (or loading) them; lets a test suite generate
    /// keys once and start many sandboxes quickly.
    pub identities: Option<Identities>,
    /// Connection cap and timeouts of the TCP side.
    pub limits: ConnectionLimits,
}

impl Default for SandboxConfig {
    fn default() -> SandboxConfig {
        SandboxConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            allow_non_loopback: false,
            state_dir: None,
            mchid: DEFAULT_MCHID.to_owned(),
            mode: KeyMode::Combined,
            sub_mchids: vec![DEFAULT_SUB_MCHID.to_owned()],
            settings: Settings::default(),
            identities: None,
            limits: ConnectionLimits::default(),
        }
    }
}

impl Settings {
    /// Applies a JSON merge patch (only the given keys change) and checks the result.
    pub fn patched(&self, patch: &serde_json::Value) -> Result<Settings, String> {
        let serde_json::Value::Object(changes) = patch else {
            return Err("the settings patch must be a JSON object".into());
        };
        let mut current = serde_json::to_value(self).map_err(|e| e.to_string())?;
        if let serde_json::Value::Object(map) = &mut current {
            for (k, v) in changes {
                if !map.contains_key(k) {
                    return Err(format!("unknown setting {k:?}"));
                }
                map.insert(k.clone(), v.clone());
            }
        }
        let next: Settings = serde_json::from_value(current).map_err(|e| e.to_string())?;
        next.check()?;
        Ok(next)
    }

    /// Checks every value; `Sandbox::start` and every patch refuse settings that fail.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.max_skew_secs < 0 || self.reopen_wait_secs < 0 {
            return Err("durations must not be negative".into());
        }
        if let Some(r) = self.rate_limit
            && (r.window_secs <= 0 || r.max_requests == 0)
        {
            return Err("rate_limit needs max_requests >= 1 and window_secs >= 1".into());
        }
        if !(self.callback_time_scale >= 0.0 && self.callback_time_scale <= 1.0) {
            return Err("callback_time_scale must be between 0 and 1".into());
        }
        if self.order_max_expire_secs < 60 {
            return Err("order_max_expire_secs must be at least 60".into());
        }
        if self.bank_type.is_empty() || self.bank_type.chars().count() > 32 {
            return Err("bank_type must be 1 to 32 characters".into());
        }
        if self.callback_max_attempts == 0 || self.callback_max_attempts > 16 {
            return Err("callback_max_attempts must be 1 to 16".into());
        }
        if self.callback_timeout_ms == 0 || self.callback_timeout_ms > 60_000 {
            return Err("callback_timeout_ms must be 1 to 60000".into());
        }
        if self.certificate_validity_secs <= 0
            || self.rotation_overlap_secs < 0
            || self.rotation_lead_secs < 0
        {
            return Err("certificate durations must be positive".into());
        }
        if self.auto_rotate_after_secs.is_some_and(|s| s <= 0) {
            return Err("auto_rotate_after_secs must be positive".into());
        }
        if self.max_upload_bytes > MAX_UPLOAD_BYTES_LIMIT {
            return Err(format!(
                "max_upload_bytes must be at most {MAX_UPLOAD_BYTES_LIMIT} (100 MiB)"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_change_only_given_keys_and_are_checked() {
        let s = Settings::default();
        let p = s
            .patched(&serde_json::json!({"reopen_wait_secs": 60, "rate_limit": {"max_requests": 2, "window_secs": 1}}))
            .unwrap();
        assert_eq!(p.reopen_wait_secs, 60);
        assert_eq!(p.max_skew_secs, 300);
        assert_eq!(p.rate_limit.map(|r| r.max_requests), Some(2));
        let cleared = p.patched(&serde_json::json!({"rate_limit": null})).unwrap();
        assert_eq!(cleared.rate_limit, None);
        assert!(s.patched(&serde_json::json!({"nope": 1})).is_err());
        assert!(
            s.patched(&serde_json::json!({"callback_max_attempts": 0}))
                .is_err()
        );
        assert!(s.patched(&serde_json::json!([1])).is_err());
        assert!(
            s.patched(&serde_json::json!({"max_upload_bytes": MAX_UPLOAD_BYTES_LIMIT}))
                .is_ok()
        );
        assert!(
            s.patched(&serde_json::json!({"max_upload_bytes": MAX_UPLOAD_BYTES_LIMIT + 1}))
                .is_err()
        );
    }
}
