//! Callback notifications (回调通知, spec §4): from the raw headers and body of WeChat Pay's POST
//! to a verified, fresh, decrypted [`Notification`], plus the acknowledgement to answer with.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::aead::EncryptedResource;
use crate::credentials::ApiV3Key;
use crate::error::{Error, ErrorKind, Result};
use crate::verify::{VerificationPolicy, Verifier, WechatpayHeaders, verify_signed};

/// Largest callback body accepted; real ones are a few KiB.
pub const MAX_NOTIFICATION_BODY: usize = 1024 * 1024;

/// Decides whether a notification id was already handled. WeChat re-delivers until it gets a
/// success answer, so duplicates are normal; a guard lets the handler skip them.
///
/// A duplicate is answered with *success* ([`Acknowledgement::for_error`]), so the guard must
/// say "duplicate" only for ids whose processing **completed**: record an id after your handler
/// succeeded, never when merely asked, or a notification whose first processing failed would
/// be acknowledged on re-delivery and lost.
pub trait ReplayGuard: Send + Sync + fmt::Debug {
    /// Returns true when `notification_id` was already processed to completion. Called only
    /// for authentic, decrypted notifications, so forged ids never reach it.
    fn is_duplicate(&self, notification_id: &str) -> bool;
}

/// The longest notification id [`MemoryReplayGuard`] records, in bytes. WeChat's ids are a few
/// dozen characters; the bound keeps one odd caller from filling the guard with huge keys.
pub const MAX_NOTIFICATION_ID_LEN: usize = 256;

/// The built-in [`ReplayGuard`]: the ids of the last `capacity` notifications recorded as
/// processed, in memory, oldest forgotten first. It answers for one process only; a fleet that
/// must never process a callback twice keeps its ids in a shared store behind its own guard.
pub struct MemoryReplayGuard {
    capacity: usize,
    seen: Mutex<Seen>,
}

/// The recorded ids, as a set for lookups and in recording order for eviction.
#[derive(Default)]
struct Seen {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

impl MemoryReplayGuard {
    /// A guard remembering at most `capacity` ids (at least 1): memory stays bounded at about
    /// `capacity` × ([`MAX_NOTIFICATION_ID_LEN`] + overhead) bytes however long it runs.
    pub fn new(capacity: usize) -> Result<MemoryReplayGuard> {
        if capacity == 0 {
            return Err(Error::Configuration(
                "a replay guard needs a capacity of at least 1".into(),
            ));
        }
        Ok(MemoryReplayGuard {
            capacity,
            seen: Mutex::new(Seen::default()),
        })
    }

    /// How many ids it remembers at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many ids it remembers now.
    pub fn len(&self) -> usize {
        self.seen().ids.len()
    }

    /// Whether it remembers no id.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records that `notification_id` was processed to completion: from now on (until it is
    /// evicted by `capacity` newer ids) it is reported as a duplicate. Call it only after your
    /// handler succeeded (see [`ReplayGuard`]). Recording an id twice changes nothing. An id
    /// longer than [`MAX_NOTIFICATION_ID_LEN`] is refused with [`ErrorKind::InvalidInput`]
    /// (its text is not repeated in the error).
    pub fn record_processed(&self, notification_id: &str) -> Result<()> {
        if notification_id.len() > MAX_NOTIFICATION_ID_LEN {
            return Err(Error::InvalidInput(format!(
                "a notification id of {} bytes exceeds the {MAX_NOTIFICATION_ID_LEN}-byte limit",
                notification_id.len()
            )));
        }
        let mut seen = self.seen();
        if seen.ids.contains(notification_id) {
            return Ok(());
        }
        while seen.order.len() >= self.capacity {
            match seen.order.pop_front() {
                Some(oldest) => {
                    seen.ids.remove(&oldest);
                }
                None => break,
            }
        }
        seen.ids.insert(notification_id.to_owned());
        seen.order.push_back(notification_id.to_owned());
        Ok(())
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        // Only allocation can fail between the paired updates, and that aborts: a poisoned lock
        // still holds a consistent set.
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ReplayGuard for MemoryReplayGuard {
    fn is_duplicate(&self, notification_id: &str) -> bool {
        // An id too long to record was never recorded.
        notification_id.len() <= MAX_NOTIFICATION_ID_LEN
            && self.seen().ids.contains(notification_id)
    }
}

impl fmt::Debug for MemoryReplayGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The ids are not secret, but a log line does not need thousands of them.
        f.debug_struct("MemoryReplayGuard")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

/// A verified and decrypted callback.
#[derive(Clone, PartialEq, Eq)]
pub struct Notification {
    /// Notification id; use it for de-duplication.
    pub id: String,
    /// `create_time` as sent (RFC 3339).
    pub create_time: String,
    /// e.g. `TRANSACTION.SUCCESS`.
    pub event_type: String,
    /// e.g. `encrypt-resource`.
    pub resource_type: String,
    /// Human-readable summary, when sent.
    pub summary: Option<String>,
    /// `resource.original_type`, when sent.
    pub original_type: Option<String>,
    /// `Request-ID` of the callback, when sent.
    pub request_id: Option<String>,
    /// The serial or key id that signed it.
    pub serial: String,
    plaintext: Zeroizing<String>,
}

impl Notification {
    /// The decrypted resource, a JSON document specific to `event_type`.
    pub fn plaintext(&self) -> &str {
        &self.plaintext
    }

    /// Decodes the decrypted resource into a type of the caller's choosing.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T> {
        // serde_json's messages quote the offending value or key, which here is decrypted
        // payment data: report only where decoding failed.
        serde_json::from_str(&self.plaintext).map_err(|e| {
            let what = match e.classify() {
                serde_json::error::Category::Data => "does not match the expected type",
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                    "is not valid JSON"
                }
                serde_json::error::Category::Io => "could not be read",
            };
            Error::Decode(format!(
                "the {} resource {what} (line {}, column {})",
                self.event_type,
                e.line(),
                e.column()
            ))
        })
    }
}

impl fmt::Debug for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The decrypted resource holds payment data: never print it.
        f.debug_struct("Notification")
            .field("id", &self.id)
            .field("create_time", &self.create_time)
            .field("event_type", &self.event_type)
            .field("resource_type", &self.resource_type)
            .field("summary", &self.summary)
            .field("request_id", &self.request_id)
            .field("serial", &self.serial)
            .finish_non_exhaustive()
    }
}

impl serde::Serialize for Notification {
    /// The envelope, the decrypted `plaintext`, and `resource`: the plaintext parsed as JSON
    /// (`null` when it is not JSON). What every binding hands to its caller; unlike `Debug`
    /// it carries the payment data, because the caller asked for exactly that.
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let resource = serde_json::from_str::<serde_json::Value>(self.plaintext())
            .unwrap_or(serde_json::Value::Null);
        let mut out = s.serialize_struct("Notification", 10)?;
        out.serialize_field("id", &self.id)?;
        out.serialize_field("create_time", &self.create_time)?;
        out.serialize_field("event_type", &self.event_type)?;
        out.serialize_field("resource_type", &self.resource_type)?;
        out.serialize_field("summary", &self.summary)?;
        out.serialize_field("original_type", &self.original_type)?;
        out.serialize_field("request_id", &self.request_id)?;
        out.serialize_field("serial", &self.serial)?;
        out.serialize_field("plaintext", self.plaintext())?;
        out.serialize_field("resource", &resource)?;
        out.end()
    }
}

#[derive(Deserialize)]
struct Envelope {
    id: String,
    #[serde(default)]
    create_time: String,
    #[serde(default)]
    event_type: String,
    #[serde(default)]
    resource_type: String,
    #[serde(default)]
    summary: Option<String>,
    resource: EncryptedResource,
}

/// Verifies and decrypts callbacks for one merchant.
#[derive(Debug, Clone)]
pub struct NotificationParser {
    verifier: Arc<dyn Verifier>,
    apiv3_key: ApiV3Key,
    policy: VerificationPolicy,
    replay_guard: Option<Arc<dyn ReplayGuard>>,
}

impl NotificationParser {
    /// A parser verifying with `verifier` and decrypting with `apiv3_key`, with the default
    /// 300 s clock-skew window.
    pub fn new(verifier: Arc<dyn Verifier>, apiv3_key: ApiV3Key) -> NotificationParser {
        NotificationParser {
            verifier,
            apiv3_key,
            policy: VerificationPolicy::default(),
            replay_guard: None,
        }
    }

    /// Uses another clock or skew window.
    pub fn with_policy(mut self, policy: VerificationPolicy) -> NotificationParser {
        self.policy = policy;
        self
    }

    /// Rejects notifications the guard reports as already seen, with [`ErrorKind::Replay`].
    pub fn with_replay_guard(mut self, guard: Arc<dyn ReplayGuard>) -> NotificationParser {
        self.replay_guard = Some(guard);
        self
    }

    /// Spec §4.2: check the signature type, the timestamp window and the signature over the
    /// raw body, then parse the envelope and decrypt the resource. Pass the body bytes exactly
    /// as received, before any JSON parsing. Header names are matched case-insensitively.
    pub fn parse<N, V>(
        &self,
        headers: impl IntoIterator<Item = (N, V)>,
        body: &[u8],
    ) -> Result<Notification>
    where
        N: AsRef<str>,
        V: AsRef<[u8]>,
    {
        if body.len() > MAX_NOTIFICATION_BODY {
            return Err(Error::InvalidInput(format!(
                "callback body of {} bytes exceeds the {MAX_NOTIFICATION_BODY}-byte limit",
                body.len()
            )));
        }
        let headers = WechatpayHeaders::from_pairs(headers)?;
        let verified = verify_signed(self.verifier.as_ref(), &self.policy, &headers, body)?;
        let envelope: Envelope = serde_json::from_slice(body)
            .map_err(|e| Error::Decode(format!("the callback body is not a notification: {e}")))?;
        let plaintext = envelope.resource.decrypt(&self.apiv3_key)?;
        // Validated in place: no unwiped copy of the plaintext exists on the error path.
        let plaintext = Zeroizing::new(
            std::str::from_utf8(&plaintext)
                .map_err(|_| Error::Decode("the decrypted resource is not UTF-8".into()))?
                .to_owned(),
        );
        if let Some(guard) = &self.replay_guard
            && guard.is_duplicate(&envelope.id)
        {
            return Err(Error::Replay { id: envelope.id });
        }
        Ok(Notification {
            id: envelope.id,
            create_time: envelope.create_time,
            event_type: envelope.event_type,
            resource_type: envelope.resource_type,
            summary: envelope.summary,
            original_type: envelope.resource.original_type,
            request_id: verified.request_id,
            serial: verified.serial,
            plaintext,
        })
    }
}

/// The HTTP answer to give WeChat Pay for a callback (spec §4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    /// HTTP status: 200 on success, 4xx/5xx on failure.
    pub status: u16,
    /// JSON body (`{"code":"FAIL","message":…}` on failure; empty on success).
    pub body: String,
}

impl Acknowledgement {
    /// `200` with no body: WeChat stops re-delivering.
    pub fn success() -> Acknowledgement {
        Acknowledgement {
            status: 200,
            body: String::new(),
        }
    }

    /// A failure answer: WeChat re-delivers later. `reason` is cut to 64 characters.
    pub fn failure(status: u16, reason: &str) -> Acknowledgement {
        let message: String = reason.chars().take(64).collect();
        Acknowledgement {
            status,
            body: serde_json::json!({"code": "FAIL", "message": message}).to_string(),
        }
    }

    /// The answer for a notification that failed to parse: 401 for an unauthentic message (a
    /// probe included: it must never be answered with success), 400 for undecryptable or
    /// malformed content, 500 otherwise, and *success* for a replay (it was handled already, so
    /// WeChat should stop re-sending it).
    pub fn for_error(error: &Error) -> Acknowledgement {
        Acknowledgement::for_kind(error.kind())
    }

    /// [`Acknowledgement::for_error`] from the error's kind alone (what bindings hold once the
    /// error has become a host-language exception).
    pub fn for_kind(kind: ErrorKind) -> Acknowledgement {
        if kind == ErrorKind::Replay {
            return Acknowledgement::success();
        }
        let status = if kind.is_verification_failure() {
            401
        } else if matches!(
            kind,
            ErrorKind::Decryption | ErrorKind::Decode | ErrorKind::InvalidInput
        ) {
            400
        } else {
            500
        };
        Acknowledgement::failure(status, kind.as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn acknowledgements_follow_spec_4_3_by_kind() {
        assert_eq!(Acknowledgement::success().status, 200);
        assert_eq!(Acknowledgement::for_kind(ErrorKind::Replay).status, 200);
        for &kind in ErrorKind::ALL {
            let ack = Acknowledgement::for_kind(kind);
            let expected = match kind {
                ErrorKind::Replay => 200,
                k if k.is_verification_failure() => 401,
                ErrorKind::Decryption | ErrorKind::Decode | ErrorKind::InvalidInput => 400,
                _ => 500,
            };
            assert_eq!(ack.status, expected, "{kind}");
            if expected != 200 {
                let body: serde_json::Value = serde_json::from_str(&ack.body).unwrap_or_default();
                assert_eq!(body["code"], "FAIL", "{kind}");
                assert_eq!(body["message"], kind.as_str(), "{kind}");
            }
        }
        let probe = Error::verification(ErrorKind::SignatureProbe, "probe");
        assert_eq!(Acknowledgement::for_error(&probe).status, 401);
        assert_eq!(
            Acknowledgement::failure(500, &"x".repeat(100)).body,
            format!(r#"{{"code":"FAIL","message":"{}"}}"#, "x".repeat(64))
        );
    }

    #[test]
    fn the_memory_guard_reports_only_recorded_ids_and_forgets_the_oldest() {
        assert!(MemoryReplayGuard::new(0).is_err());
        let guard = MemoryReplayGuard::new(2).unwrap();
        assert!(guard.is_empty());
        // Asking never records: a first processing that failed must be retried.
        assert!(!guard.is_duplicate("EV-1"));
        assert!(!guard.is_duplicate("EV-1"));
        guard.record_processed("EV-1").unwrap();
        assert!(guard.is_duplicate("EV-1"));
        assert!(!guard.is_duplicate("ev-1"));
        guard.record_processed("EV-1").unwrap();
        assert_eq!(guard.len(), 1);
        guard.record_processed("EV-2").unwrap();
        guard.record_processed("EV-3").unwrap();
        assert_eq!((guard.len(), guard.capacity()), (2, 2));
        assert!(!guard.is_duplicate("EV-1"), "the oldest id is evicted");
        assert!(guard.is_duplicate("EV-2") && guard.is_duplicate("EV-3"));
        assert_eq!(
            format!("{guard:?}"),
            "MemoryReplayGuard { capacity: 2, len: 2 }"
        );
    }

    #[test]
    fn the_memory_guard_refuses_absurd_ids_without_echoing_them() {
        let guard = MemoryReplayGuard::new(4).unwrap();
        let long = "Z".repeat(MAX_NOTIFICATION_ID_LEN + 1);
        let err = guard.record_processed(&long).err();
        let err = err.unwrap_or_else(|| panic!("a {}-byte id was recorded", long.len()));
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(!err.to_string().contains("ZZ"), "{err}");
        assert!(!guard.is_duplicate(&long));
        assert!(guard.is_empty());
        let longest = "Z".repeat(MAX_NOTIFICATION_ID_LEN);
        guard.record_processed(&longest).unwrap();
        assert!(guard.is_duplicate(&longest));
    }

    #[test]
    fn the_memory_guard_is_shared_between_threads() {
        let guard = Arc::new(MemoryReplayGuard::new(1000).unwrap());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let guard = Arc::clone(&guard);
                std::thread::spawn(move || {
                    for i in 0..500 {
                        let _ = guard.record_processed(&format!("EV-{t}-{i}"));
                    }
                })
            })
            .collect();
        for thread in threads {
            assert!(thread.join().is_ok());
        }
        // 2000 ids into room for 1000: exactly 1000 stay, and since the oldest go first, what
        // stays of each thread's ids is its most recent ones (which thread ran last is up to
        // the scheduler, so no particular id can be named).
        assert_eq!(guard.len(), 1000);
        let mut kept = 0;
        for t in 0..4 {
            let present: Vec<bool> = (0..500)
                .map(|i| guard.is_duplicate(&format!("EV-{t}-{i}")))
                .collect();
            let first = present.iter().position(|p| *p).unwrap_or(500);
            assert!(
                present[first..].iter().all(|p| *p),
                "thread {t}: an older id stayed while a newer one went"
            );
            kept += 500 - first;
        }
        assert_eq!(kept, 1000);
    }
}
