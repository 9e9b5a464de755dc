//! The sandbox clock: the system clock plus an offset that the admin API moves, so that the
//! 24-hour re-open rule, certificate expiry and rotation can be tested in milliseconds.

use std::sync::atomic::{AtomicI64, Ordering};

use goldplan::clock::{Clock, SystemClock};

/// System time plus an adjustable offset (seconds). Never goes backwards by itself; the admin
/// API can only move it forward or reset it.
#[derive(Debug, Default)]
pub struct SandboxClock {
    offset: AtomicI64,
}

impl SandboxClock {
    /// A clock that starts at system time.
    pub fn new() -> SandboxClock {
        SandboxClock::default()
    }

    /// Seconds added to the system clock.
    pub fn offset(&self) -> i64 {
        self.offset.load(Ordering::SeqCst)
    }

    /// Moves the clock forward by `seconds` (negative values are ignored; the offset saturates
    /// instead of wrapping, so time never jumps backwards).
    pub fn advance(&self, seconds: i64) {
        if seconds > 0 {
            // The closure always returns Some, so the update cannot fail.
            let _ = self
                .offset
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |o| {
                    Some(o.saturating_add(seconds))
                });
        }
    }

    /// Back to system time.
    pub fn reset(&self) {
        self.offset.store(0, Ordering::SeqCst);
    }
}

impl Clock for SandboxClock {
    fn now(&self) -> i64 {
        SystemClock.now().saturating_add(self.offset())
    }
}

/// Unix seconds as `2024-03-01T09:00:00+08:00` (China Standard Time, as WeChat Pay writes).
pub(crate) fn rfc3339_cst(t: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+08:00");
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .map(|d| d.to_offset(time::macros::offset!(+8)))
        .and_then(|d| d.format(&format).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_and_reset_returns_to_system_time() {
        let c = SandboxClock::new();
        let before = c.now();
        c.advance(86_400);
        assert!(c.now() >= before + 86_400);
        c.advance(-5);
        assert_eq!(c.offset(), 86_400);
        c.reset();
        assert!(c.now() < before + 86_400);
    }

    #[test]
    fn huge_advances_saturate_instead_of_wrapping() {
        let c = SandboxClock::new();
        c.advance(i64::MAX);
        c.advance(i64::MAX);
        assert_eq!(c.offset(), i64::MAX);
        assert!(c.now() > 0);
    }
}
