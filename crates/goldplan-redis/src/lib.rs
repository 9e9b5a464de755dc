//! Redis for a goldplan fleet: [`RedisCertificateStore`], the core's
//! [`CertificateStore`], and [`RedisRateLimiter`], its
//! [`RateLimiter`], on a Redis server that every process of the
//! fleet (PHP-FPM workers, service instances) reaches.
//!
//! - One `/v3/certificates` download per merchant per refresh period across the fleet: the
//!   process that takes the refresh lease downloads and publishes; the others install the
//!   publication.
//! - A rotation is seen by every process within a second: a publication is announced on a
//!   pub/sub channel, and the announced versions are also polled every few seconds in case
//!   messages were lost (Redis restarted, a connection dropped).
//! - An unknown-serial storm costs at most one download per storm interval in total: that
//!   lease is held for the whole interval.
//! - Redis holds what WeChat Pay sent, still encrypted with the APIv3 key and signed; each
//!   process decrypts and verifies it with its own key before trusting a certificate, so a
//!   shared or poisoned Redis cannot inject one.
//! - Redis unreachable or slow: every operation is bounded in time and fails; the client then
//!   downloads for its own process and keeps verifying. Connections are re-made by themselves,
//!   and a child process after `fork()` makes its own.
//!
//! Keys (`PREFIX` is `goldplan` unless [`RedisCertificateStore::with_prefix`] says otherwise):
//! `PREFIX:certificates:MCHID` (a hash: `version`, `download`), `PREFIX:lease:KIND:MCHID`
//! (leases, with an expiry), and the channel `PREFIX:certificates`.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use arc_swap::{ArcSwap, ArcSwapOption};
use futures_util::StreamExt;
use goldplan::client::{CertificateStore, Lease, RateLimiter, StoreFuture, StoredDownload};
use goldplan::redact::Rejected;
use goldplan::{Error, Result};
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// How long one Redis command may take (the client adds its own bound around every call).
const COMMAND_TIMEOUT: Duration = Duration::from_millis(400);
/// How often the announced versions are read again, in case a pub/sub message was lost.
const POLL_INTERVAL: Duration = Duration::from_secs(3);
/// The pause before a command is sent again on a re-made connection.
const RETRY_DELAY: Duration = Duration::from_millis(50);
/// How long the watcher waits before subscribing again after its connection failed.
const RESUBSCRIBE_DELAY: Duration = Duration::from_millis(500);

/// Publishes a download: a new version, the download, and its announcement, atomically. The
/// version is at least the publisher's clock in milliseconds, so that versions keep growing
/// across a restart of an empty Redis (processes remember the version they installed).
const PUBLISH_SCRIPT: &str = r"
local old = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
local version = math.max(old + 1, tonumber(ARGV[3]))
redis.call('HSET', KEYS[1], 'version', version, 'download', ARGV[1])
redis.call('PUBLISH', KEYS[2], ARGV[2] .. ' ' .. version)
return version
";

/// Takes a token from a bucket shared by every client of the fleet: refilled by the server's
/// clock (`TIME`, so the processes' clocks do not matter), in microseconds. Returns 0 when a
/// token was taken, else the microseconds until one is due. The key expires once a full
/// bucket would have refilled, plus a minute.
const TOKEN_SCRIPT: &str = r"
local now_time = redis.call('TIME')
local now = tonumber(now_time[1]) * 1000000 + tonumber(now_time[2])
local rate = tonumber(ARGV[1]) / 1000000
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate / 1000) + 60000)
return wait
";

/// The certificate store of a fleet, on Redis. Cheap to share (`Arc`); every method is
/// bounded in time.
pub struct RedisCertificateStore {
    link: Link,
    prefix: String,
    shared: Arc<Shared>,
}

/// A Redis server and this process's connection to it (a child after `fork()` makes its own:
/// the parent's runs on a runtime the child does not have). Lock-free (`arc-swap`), so a
/// `fork()` taken while another thread is inside cannot leave a lock held in the child.
struct Link {
    client: redis::Client,
    connection: ArcSwapOption<(u32, ConnectionManager)>,
}

/// What the store and its watcher task share. Lock-free (`arc-swap`, atomics), like [`Link`].
struct Shared {
    /// The newest version announced per merchant, fed by the watcher.
    versions: ArcSwap<HashMap<String, u64>>,
    /// The process the watcher runs in (0: not started).
    watcher: AtomicU32,
}

impl fmt::Debug for RedisCertificateStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password: the prefix says which store this is.
        f.debug_struct("RedisCertificateStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Link {
    /// A server that is not connected yet; a URL that does not parse is a configuration
    /// error about `setting` that does not show it.
    fn open(url: &str, setting: &str) -> Result<Link> {
        let client = redis::Client::open(url).map_err(|_| {
            Error::Configuration(format!(
                "{setting} is not a Redis URL (redis://host:port/db); got {}",
                Rejected(url)
            ))
        })?;
        Ok(Link {
            client,
            connection: ArcSwapOption::const_empty(),
        })
    }

    /// This process's connection, made on first use (and again in a child process). Two
    /// tasks that find none at once both connect; the second connection replaces the first.
    async fn connection(&self) -> Result<ConnectionManager> {
        let pid = std::process::id();
        if let Some(held) = self.connection.load().as_ref()
            && held.0 == pid
        {
            return Ok(held.1.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let connection = tokio::time::timeout(
            COMMAND_TIMEOUT * 2,
            self.client.get_connection_manager_with_config(config),
        )
        .await
        .map_err(|_| store_error("connecting timed out"))?
        .map_err(redis_error)?;
        self.connection
            .store(Some(Arc::new((pid, connection.clone()))));
        Ok(connection)
    }

    /// Runs `command` on this process's connection, once more after a dropped connection
    /// (the first command after Redis restarted meets the old socket; the manager reconnects).
    async fn with_retry<T, F, Fut>(&self, command: F) -> Result<T>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        match command(self.connection().await?).await {
            Ok(value) => Ok(value),
            Err(e) if e.is_io_error() || e.is_connection_dropped() => {
                tokio::time::sleep(RETRY_DELAY).await;
                command(self.connection().await?).await.map_err(redis_error)
            }
            Err(e) => Err(redis_error(e)),
        }
    }
}

impl RedisCertificateStore {
    /// A store on the Redis server at `url` (`redis://[:password@]host:port/db`, or
    /// `rediss://` for TLS). Nothing is connected until the first use, so this never blocks;
    /// a URL that does not parse is a configuration error that does not show it.
    pub fn open(url: &str) -> Result<RedisCertificateStore> {
        Ok(RedisCertificateStore {
            link: Link::open(url, "certificate_store")?,
            prefix: "goldplan".to_owned(),
            shared: Arc::new(Shared {
                versions: ArcSwap::from_pointee(HashMap::new()),
                watcher: AtomicU32::new(0),
            }),
        })
    }

    /// The same store under another key prefix (several fleets, or tests, on one server).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> RedisCertificateStore {
        self.prefix = prefix.into();
        self
    }

    /// The `certificate_store` setting's factory for the core's
    /// [`register_store_scheme`](goldplan::client::register_store_scheme).
    pub fn factory(url: &str) -> Result<Arc<dyn CertificateStore>> {
        Ok(Arc::new(RedisCertificateStore::open(url)?))
    }

    fn certificates_key(&self, mchid: &str) -> String {
        format!("{}:certificates:{mchid}", self.prefix)
    }

    fn channel(&self) -> String {
        format!("{}:certificates", self.prefix)
    }

    fn lease_key(&self, lease: Lease, mchid: &str) -> String {
        format!("{}:lease:{}:{mchid}", self.prefix, lease.as_str())
    }

    /// Runs `command` on this process's connection (see [`Link::with_retry`]).
    async fn with_retry<T, F, Fut>(&self, command: F) -> Result<T>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let result = self.link.with_retry(command).await;
        self.start_watcher();
        result
    }

    /// Starts the task that keeps [`CertificateStore::version_hint`] current, once per
    /// process, on the runtime of the caller.
    fn start_watcher(&self) {
        let pid = std::process::id();
        let started = self.shared.watcher.load(Ordering::Acquire);
        if started == pid {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self
            .shared
            .watcher
            .compare_exchange(started, pid, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        runtime.spawn(watch(
            self.link.client.clone(),
            self.channel(),
            self.prefix.clone(),
            Arc::downgrade(&self.shared),
        ));
    }

    fn remember(&self, mchid: &str, version: u64) {
        remember(&self.shared, mchid, version);
    }
}

fn remember(shared: &Shared, mchid: &str, version: u64) {
    if shared
        .versions
        .load()
        .get(mchid)
        .is_some_and(|v| *v >= version)
    {
        return;
    }
    shared.versions.rcu(|versions| {
        let mut versions = HashMap::clone(versions);
        let known = versions.entry(mchid.to_owned()).or_insert(0);
        *known = (*known).max(version);
        versions
    });
}

/// The watcher: announcements from the channel, and a poll of every merchant it has heard
/// of; it ends when the store is dropped.
async fn watch(client: redis::Client, channel: String, prefix: String, shared: Weak<Shared>) {
    loop {
        if shared.strong_count() == 0 {
            return;
        }
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => {
                if pubsub.subscribe(&channel).await.is_ok() {
                    // Messages lost before this subscription are caught by the poll.
                    poll_versions(&client, &prefix, &shared).await;
                    let mut messages = pubsub.on_message();
                    let mut poll = tokio::time::interval(POLL_INTERVAL);
                    loop {
                        tokio::select! {
                            message = messages.next() => {
                                let Some(message) = message else { break };
                                let Some(shared) = shared.upgrade() else { return };
                                if let Ok(text) = message.get_payload::<String>()
                                    && let Some((mchid, version)) = text.split_once(' ')
                                    && let Ok(version) = version.parse::<u64>()
                                {
                                    remember(&shared, mchid, version);
                                }
                            }
                            _ = poll.tick() => {
                                if shared.strong_count() == 0 {
                                    return;
                                }
                                poll_versions(&client, &prefix, &shared).await;
                            }
                        }
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "certificate store: cannot subscribe yet"),
        }
        tokio::time::sleep(RESUBSCRIBE_DELAY).await;
    }
}

/// Reads the current version of every merchant the watcher has heard of.
async fn poll_versions(client: &redis::Client, prefix: &str, shared: &Weak<Shared>) {
    let Some(strong) = shared.upgrade() else {
        return;
    };
    let mchids: Vec<String> = strong.versions.load().keys().cloned().collect();
    if mchids.is_empty() {
        return;
    }
    let Ok(Ok(mut connection)) =
        tokio::time::timeout(COMMAND_TIMEOUT, client.get_multiplexed_async_connection()).await
    else {
        return;
    };
    for mchid in mchids {
        let key = format!("{prefix}:certificates:{mchid}");
        if let Ok(Ok(Some(version))) = tokio::time::timeout(
            COMMAND_TIMEOUT,
            connection.hget::<_, _, Option<u64>>(&key, "version"),
        )
        .await
        {
            remember(&strong, &mchid, version);
        }
    }
}

impl CertificateStore for RedisCertificateStore {
    fn latest<'a>(&'a self, mchid: &'a str) -> StoreFuture<'a, Option<(u64, StoredDownload)>> {
        Box::pin(async move {
            let key = self.certificates_key(mchid);
            let (version, download): (Option<u64>, Option<String>) = self
                .with_retry(|mut connection| {
                    let key = key.clone();
                    async move {
                        redis::cmd("HMGET")
                            .arg(key)
                            .arg("version")
                            .arg("download")
                            .query_async(&mut connection)
                            .await
                    }
                })
                .await?;
            let (Some(version), Some(download)) = (version, download) else {
                // Heard of from now on, so that the watcher polls it.
                self.remember(mchid, 0);
                return Ok(None);
            };
            self.remember(mchid, version);
            // A value that is not a download is treated as none (and logged by nobody: the
            // process downloads for itself and publishes over it).
            Ok(serde_json::from_str::<StoredDownload>(&download)
                .ok()
                .map(|d| (version, d)))
        })
    }

    fn publish<'a>(&'a self, mchid: &'a str, download: &'a StoredDownload) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            let text = serde_json::to_string(download)
                .map_err(|e| store_error(&format!("cannot encode a download: {e}")))?;
            let (key, channel) = (self.certificates_key(mchid), self.channel());
            let version: u64 = self
                .with_retry(|mut connection| {
                    let (key, channel, text) = (key.clone(), channel.clone(), text.clone());
                    async move {
                        redis::Script::new(PUBLISH_SCRIPT)
                            .key(key)
                            .key(channel)
                            .arg(text)
                            .arg(mchid)
                            .arg(unix_millis())
                            .invoke_async(&mut connection)
                            .await
                    }
                })
                .await?;
            self.remember(mchid, version);
            Ok(version)
        })
    }

    fn try_lease<'a>(
        &'a self,
        mchid: &'a str,
        lease: Lease,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
            let key = self.lease_key(lease, mchid);
            let taken: Option<String> = self
                .with_retry(|mut connection| {
                    let key = key.clone();
                    async move {
                        redis::cmd("SET")
                            .arg(key)
                            .arg(std::process::id())
                            .arg("NX")
                            .arg("PX")
                            .arg(millis)
                            .query_async(&mut connection)
                            .await
                    }
                })
                .await?;
            Ok(taken.is_some())
        })
    }

    fn version_hint(&self, mchid: &str) -> Option<u64> {
        self.start_watcher();
        self.shared
            .versions
            .load()
            .get(mchid)
            .copied()
            .filter(|v| *v > 0)
    }
}

/// Now, in milliseconds since the Unix epoch.
fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn redis_error(e: redis::RedisError) -> Error {
    // Redis errors name the failure (connection refused, timeout, a script error); none
    // carries the password of the URL.
    store_error(&e.to_string())
}

fn store_error(what: &str) -> Error {
    Error::Certificate(format!(
        "certificate store (Redis): {}",
        goldplan::untrusted::escape_untrusted(what, 300)
    ))
}

/// A provider's request rate shared by every process of a fleet, on Redis: the core's
/// [`RateLimiter`]. The bucket lives in the server (key
/// `goldplan:rate:KEY`), so it outlives any worker; the server's clock refills it.
pub struct RedisRateLimiter {
    link: Link,
    prefix: String,
    per_second: f64,
    burst: u32,
}

impl fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("prefix", &self.prefix)
            .field("per_second", &self.per_second)
            .field("burst", &self.burst)
            .finish_non_exhaustive()
    }
}

impl RedisRateLimiter {
    /// `per_second` requests a second, at most `burst` at once, on the server at `url`.
    /// Nothing is connected until the first use.
    pub fn open(url: &str, per_second: f64, burst: u32) -> Result<RedisRateLimiter> {
        Ok(RedisRateLimiter {
            link: Link::open(url, "rate_limit.store")?,
            prefix: "goldplan".to_owned(),
            per_second,
            burst: burst.max(1),
        })
    }

    /// The same limiter under another key prefix.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> RedisRateLimiter {
        self.prefix = prefix.into();
        self
    }

    /// The `rate_limit` setting's factory for the core's
    /// [`register_rate_limiter_scheme`](goldplan::client::register_rate_limiter_scheme).
    pub fn factory(url: &str, per_second: f64, burst: u32) -> Result<Arc<dyn RateLimiter>> {
        Ok(Arc::new(RedisRateLimiter::open(url, per_second, burst)?))
    }
}

impl RateLimiter for RedisRateLimiter {
    fn try_acquire<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Duration> {
        Box::pin(async move {
            let bucket = format!("{}:rate:{key}", self.prefix);
            let (per_second, burst) = (self.per_second, self.burst);
            let wait_micros: u64 = self
                .link
                .with_retry(|mut connection| {
                    let bucket = bucket.clone();
                    async move {
                        redis::Script::new(TOKEN_SCRIPT)
                            .key(bucket)
                            .arg(per_second)
                            .arg(burst)
                            .invoke_async(&mut connection)
                            .await
                    }
                })
                .await?;
            Ok(Duration::from_micros(wait_micros))
        })
    }
}
