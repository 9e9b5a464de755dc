//! The business state on disk: `state.json` in the state directory, next to `identities.json`
//! and `sandbox.json`. It holds what a service provider builds up while testing over several
//! days (merchants, special merchants and their Gold Plan state, settings, the clock offset,
//! the signing certificate choice, media records) so that a restart brings it back. Faults,
//! callbacks and the request log are not stored.
//!
//! Every file is written atomically: a temporary file in the same directory (owner-only
//! permissions on Unix), fsync, rename, fsync of the directory.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use goldplan::verify::PublicKeyVerifier;
use serde::{Deserialize, Serialize};

use crate::config::{KeyMode, Settings};
use crate::error::{Result, SandboxError};
use crate::identity::{Identities, StoredWechatSide, WechatSide, pem_block};
use crate::model::{MediaRecord, ProviderType, SubMerchantState};
use crate::orders::Order;
use crate::state::{Merchant, Shared, State};

/// Name of the business state file in the state directory.
pub(crate) const STATE_FILE: &str = "state.json";

/// Name of the lock file in the state directory: held (an exclusive OS file lock) for as long
/// as a sandbox runs on the directory.
pub(crate) const LOCK_FILE: &str = "sandbox.lock";

/// The newest `format_version` of `state.json` this build writes and reads.
/// Version 2 added the payment orders: an older build refuses such a file instead of dropping
/// them on its next write.
pub const STATE_FORMAT_VERSION: u32 = 2;

/// The content of `state.json`.
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredState {
    format_version: u32,
    /// Seconds the sandbox clock is ahead of the system clock.
    clock_offset_secs: i64,
    settings: Settings,
    /// Serial of the platform certificate chosen for signing (a rotation with
    /// `sign_with_new: false` keeps the old one).
    signing_serial: String,
    merchants: Vec<StoredMerchant>,
    media: Vec<MediaRecord>,
    /// Partner JSAPI orders (absent before version 2).
    #[serde(default)]
    orders: Vec<Order>,
    /// The last `transaction_id` sequence number handed out.
    #[serde(default)]
    payment_seq: u64,
}

#[derive(Serialize, Deserialize)]
struct StoredMerchant {
    mchid: String,
    /// `None` for the built-in provider, whose key lives in `identities.json`.
    key: Option<StoredMerchantKey>,
    /// A registered merchant's own WeChat Pay side (platform certificates, public key);
    /// `None` for the built-in provider (in `identities.json`) and in files written before
    /// merchants had their own (a fresh one is generated at start).
    #[serde(default)]
    wechat: Option<StoredWechatSide>,
    mode: KeyMode,
    callback_public_key_share: f64,
    receipt_link: Option<String>,
    gold_plan_joined: bool,
    punished: bool,
    provider_type: ProviderType,
    sub_merchants: Vec<SubMerchantState>,
}

/// The key material of a merchant registered through the admin API.
#[derive(Serialize, Deserialize)]
struct StoredMerchantKey {
    serial_no: String,
    public_key_pem: String,
    apiv3_key: String,
}

impl StoredState {
    /// Takes a snapshot of `state` with the clock offset.
    pub(crate) fn capture(state: &State, clock_offset_secs: i64) -> StoredState {
        let merchants = state
            .merchants
            .values()
            .map(|m| StoredMerchant {
                mchid: m.mchid.clone(),
                key: (m.mchid != state.primary_mchid).then(|| StoredMerchantKey {
                    serial_no: m.serial_no.clone(),
                    public_key_pem: pem_block("PUBLIC KEY", m.verifier.public_key_der()),
                    apiv3_key: m.apiv3_key_text.to_string(),
                }),
                wechat: (m.mchid != state.primary_mchid)
                    .then(|| state.sides.get(&m.mchid).map(WechatSide::to_stored))
                    .flatten(),
                mode: m.mode,
                callback_public_key_share: m.callback_public_key_share,
                receipt_link: m.receipt_link.clone(),
                gold_plan_joined: m.gold_plan_joined,
                punished: m.punished,
                provider_type: m.provider_type,
                sub_merchants: m.sub_merchants.values().cloned().collect(),
            })
            .collect();
        StoredState {
            format_version: STATE_FORMAT_VERSION,
            clock_offset_secs,
            settings: state.settings.clone(),
            signing_serial: state.identities.wechat.signing_serial.clone(),
            merchants,
            media: state.media.values().cloned().collect(),
            orders: state.orders.values().cloned().collect(),
            payment_seq: state.payment_seq,
        }
    }

    /// The stored orders by (`sp_mchid`, `out_trade_no`), and the `transaction_id` sequence.
    pub(crate) fn orders(&self) -> (BTreeMap<(String, String), Order>, u64) {
        let orders = self
            .orders
            .iter()
            .map(|o| ((o.sp_mchid.clone(), o.out_trade_no.clone()), o.clone()))
            .collect();
        (orders, self.payment_seq)
    }

    /// The sandbox clock offset stored.
    pub(crate) fn clock_offset_secs(&self) -> i64 {
        self.clock_offset_secs
    }

    /// The stored settings.
    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The stored choice of signing certificate.
    pub(crate) fn signing_serial(&self) -> &str {
        &self.signing_serial
    }

    /// The stored media records by id.
    pub(crate) fn media(&self) -> BTreeMap<String, MediaRecord> {
        self.media
            .iter()
            .map(|m| (m.media_id.clone(), m.clone()))
            .collect()
    }

    /// Rebuilds the merchants and the stored WeChat Pay sides of registered ones. Merchants
    /// without stored key material take the built-in provider's key from `identities`.
    /// `path` names the file in errors.
    pub(crate) fn merchants(
        &self,
        identities: &Identities,
        path: &Path,
    ) -> Result<(BTreeMap<String, Merchant>, BTreeMap<String, WechatSide>)> {
        let corrupt = |mchid: &str, e: &dyn std::fmt::Display| SandboxError::CorruptState {
            path: path.to_owned(),
            reason: format!("merchant {mchid}: {e}"),
        };
        let mut out = BTreeMap::new();
        let mut sides = BTreeMap::new();
        for s in &self.merchants {
            if let Some(side) = &s.wechat {
                let side = WechatSide::from_stored(side).map_err(|e| corrupt(&s.mchid, &e))?;
                sides.insert(s.mchid.clone(), side);
            }
            let mut m = match &s.key {
                None => Merchant::new(
                    s.mchid.clone(),
                    identities.merchant_serial_no.clone(),
                    identities.merchant_key.private_key().public_key_der(),
                    &identities.apiv3_key,
                    s.mode,
                ),
                // The core's parser wants a key id; the merchant's serial is set by
                // `Merchant::new`.
                Some(k) => PublicKeyVerifier::from_pem("PUB_KEY_ID_0", &k.public_key_pem)
                    .map_err(SandboxError::from)
                    .and_then(|v| {
                        Merchant::new(
                            s.mchid.clone(),
                            k.serial_no.clone(),
                            v.public_key_der(),
                            &k.apiv3_key,
                            s.mode,
                        )
                    }),
            }
            .map_err(|e| corrupt(&s.mchid, &e))?;
            if !(0.0..=1.0).contains(&s.callback_public_key_share) {
                return Err(corrupt(
                    &s.mchid,
                    &"callback_public_key_share is not between 0 and 1",
                ));
            }
            m.callback_public_key_share = s.callback_public_key_share;
            m.receipt_link = s.receipt_link.clone();
            m.gold_plan_joined = s.gold_plan_joined;
            m.punished = s.punished;
            m.provider_type = s.provider_type;
            m.sub_merchants = s
                .sub_merchants
                .iter()
                .map(|sub| (sub.sub_mchid.clone(), sub.clone()))
                .collect();
            out.insert(s.mchid.clone(), m);
        }
        Ok((out, sides))
    }
}

/// Just the version, read before the rest so that a newer file is reported as such.
#[derive(Deserialize)]
struct VersionOnly {
    format_version: u64,
}

/// Reads `state.json` from `dir`; `None` when there is none yet.
pub(crate) fn load(dir: &Path) -> Result<Option<(PathBuf, StoredState)>> {
    let path = dir.join(STATE_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(SandboxError::CorruptState {
                path,
                reason: e.to_string(),
            });
        }
    };
    let corrupt = |reason: String| SandboxError::CorruptState {
        path: path.clone(),
        reason,
    };
    let version: VersionOnly = serde_json::from_str(&text)
        .map_err(|e| corrupt(format!("no readable format_version: {e}")))?;
    if version.format_version > u64::from(STATE_FORMAT_VERSION) {
        return Err(SandboxError::StateFormatTooNew {
            path,
            found: version.format_version,
            supported: STATE_FORMAT_VERSION,
        });
    }
    if version.format_version == 0 {
        return Err(corrupt("format_version 0 is not a valid version".into()));
    }
    let stored: StoredState = serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
    if stored.clock_offset_secs < 0 {
        return Err(corrupt("clock_offset_secs is negative".into()));
    }
    stored
        .settings
        .check()
        .map_err(|e| corrupt(format!("settings: {e}")))?;
    Ok(Some((path, stored)))
}

/// Takes the exclusive lock of the state directory `dir` (creating it and its lock file if
/// needed), so that a second sandbox on the same directory is refused instead of overwriting
/// the first one's files. The lock lasts as long as the returned file stays open; the OS
/// releases it when the process ends, so a crash leaves no stale lock behind.
pub(crate) fn lock_state_dir(dir: &Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(LOCK_FILE);
    let mut options = std::fs::OpenOptions::new();
    // Never truncated: the file carries no content, only the lock.
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(SandboxError::StateDirInUse {
            path: dir.to_owned(),
        }),
        Err(std::fs::TryLockError::Error(e)) if locking_unavailable(&e) => {
            // A file system without locks (some network mounts) still works, unguarded:
            // refusing would make such a directory unusable for the one sandbox that is the
            // common case.
            tracing::warn!(dir = %dir.display(), "the state directory cannot be locked; make sure no other sandbox uses it");
            Ok(file)
        }
        Err(std::fs::TryLockError::Error(e)) => Err(SandboxError::Io(std::io::Error::new(
            e.kind(),
            format!("cannot lock {}: {e}", path.display()),
        ))),
    }
}

/// `ENOLCK` ("no locks available") as the OS numbers it: what NFS without a lock daemon
/// answers. `std::io::ErrorKind` has no kind for it (it comes out uncategorised), so it is
/// recognised by number; `None` where the number is not known here.
fn enolck() -> Option<i32> {
    if cfg!(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly"
    )) {
        Some(77)
    } else if cfg!(all(
        any(target_os = "linux", target_os = "android"),
        // These architectures number their errors differently.
        not(any(
            target_arch = "mips",
            target_arch = "mips32r6",
            target_arch = "mips64",
            target_arch = "mips64r6",
            target_arch = "sparc",
            target_arch = "sparc64"
        ))
    )) {
        Some(37)
    } else {
        None
    }
}

/// Whether a failed lock attempt means the file system cannot lock at all (rather than a real
/// failure): no locking on this platform or file system, or no lock service (`ENOLCK`).
fn locking_unavailable(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::Unsupported
        || e.raw_os_error().is_some_and(|n| Some(n) == enolck())
}

/// Writes `value` as pretty JSON to `path` atomically: a temporary file in the same directory
/// (readable by the owner only on Unix, as the files hold test keys), fsync, rename, and an
/// fsync of the directory so that the rename itself survives a crash.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_vec_pretty(value)
        .map_err(|e| SandboxError::Identity(format!("cannot serialise {}: {e}", path.display())))?;
    let tmp = path.with_extension("json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    // A leftover from an interrupted write may carry other permissions; start afresh.
    let _ = std::fs::remove_file(&tmp);
    {
        let mut file = options.open(&tmp)?;
        file.write_all(&text)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Writing the state directory. It lives here, not in `state.rs`, so that the state does not
/// depend on its own file format.
impl Shared {
    /// Writes `identities.json`, `sandbox.json` and `state.json` to the state directory, if
    /// there is one.
    pub(crate) fn persist(&self) -> Result<()> {
        self.write_files(true)
    }

    /// Makes the business changes made so far durable in `state.json` (identities and
    /// `sandbox.json` did not change). Returns once a write that includes them is on disk:
    /// possibly another caller's, which is how concurrent API writes share one fsync.
    pub(crate) fn persist_state(&self) -> Result<()> {
        self.write_files(false)
    }

    /// [`Shared::persist_state`] for the API path, where the change is already made: it runs
    /// on the blocking pool, so a slow disk does not stall the runtime's few workers and many
    /// callers can queue behind one write; a failure is logged, not returned. The answer still
    /// waits for the write, so an acknowledged change survives a crash.
    pub(crate) async fn persist_state_logged(self: &Arc<Self>) {
        let app = Arc::clone(self);
        let written = tokio::task::spawn_blocking(move || app.persist_state()).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot write the sandbox state file"),
            Err(e) => tracing::warn!(error = %e, "the sandbox state writer stopped"),
        }
    }

    /// Releases the state directory's lock once the last write is done. Later writes (from a
    /// request still draining, or a control handle used after the stop) are skipped: the
    /// directory may already belong to the next sandbox.
    pub(crate) fn release_state_dir(&self) {
        let _turn = self
            .persist_turn
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let lock = self
            .state_dir_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(file) = lock {
            // Closing the file releases the lock as well; unlocking first says so plainly.
            let _ = file.unlock();
        }
    }

    fn write_files(&self, all: bool) -> Result<()> {
        let Some(dir) = &self.state_dir else {
            return Ok(());
        };
        // The ticket is taken after the caller's change, so any capture that starts later
        // includes it.
        let ticket = self.persist_requested.fetch_add(1, Ordering::SeqCst) + 1;
        // Writers take turns, so that an older snapshot never overwrites a newer one.
        let _turn = self
            .persist_turn
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let released = self
            .state_dir_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none();
        if released {
            tracing::debug!("the sandbox has stopped; not writing its state directory");
            return Ok(());
        }
        if !all && self.persist_durable.load(Ordering::SeqCst) >= ticket {
            return Ok(());
        }
        // Read before the capture: every ticket up to here belongs to a change the capture
        // below sees.
        let covered = self.persist_requested.load(Ordering::SeqCst);
        let (stored, info, business) = {
            let st = self.lock();
            let business = StoredState::capture(&st, self.clock.offset());
            if all {
                (
                    Some(st.identities.to_stored()),
                    Some(st.info(&self.base_url, self.now())?),
                    business,
                )
            } else {
                (None, None, business)
            }
        };
        if let Some(stored) = stored {
            write_json(&dir.join("identities.json"), &stored)?;
        }
        if let Some(info) = info {
            write_json(&dir.join("sandbox.json"), &info)?;
        }
        write_json(&dir.join(STATE_FILE), &business)?;
        self.persist_durable.fetch_max(covered, Ordering::SeqCst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue: NFS without a lock daemon answers `ENOLCK`, which is no `ErrorKind::Unsupported`,
    /// so a sandbox on such a mount refused to start instead of running unguarded.
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    #[test]
    fn no_lock_service_counts_as_a_file_system_without_locks() {
        let enolck = if cfg!(target_os = "linux") { 37 } else { 77 };
        assert!(locking_unavailable(&std::io::Error::from_raw_os_error(
            enolck
        )));
        assert!(locking_unavailable(&std::io::Error::from(
            std::io::ErrorKind::Unsupported
        )));
        // A real failure (here EACCES) is still an error.
        assert!(!locking_unavailable(&std::io::Error::from_raw_os_error(13)));
    }
}
