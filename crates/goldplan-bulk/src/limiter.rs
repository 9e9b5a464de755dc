//! The send-rate limiter: a token bucket whose rate adapts to the gateway. When WeChat Pay
//! answers 命中频率限制 the rate is halved (once per cool-down, however many calls in flight
//! were refused together) and the rate that was refused becomes a ceiling; after each clean
//! second the rate climbs back by a step, up to 90 % of that ceiling, so the run settles just
//! under the gateway's limit instead of bouncing off it. After a long clean spell the ceiling
//! is raised, so a limit that was lifted is found again.

use std::time::{Duration, Instant};

/// What the limiter did on an answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum RateChange {
    /// Nothing changed.
    None,
    /// Slowed down to this rate (ops/s).
    Slower(f64),
    /// Sped up to this rate (ops/s).
    Faster(f64),
}

/// The bucket's state; the clock is passed in so that tests need no sleeping.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    /// The rate asked for (`None`: unlimited until the gateway says otherwise).
    configured: Option<f64>,
    /// The rate in force.
    rate: Option<f64>,
    /// The lowest rate it slows down to.
    min_rate: f64,
    /// Tokens that may be spent at once.
    burst: f64,
    tokens: f64,
    last_refill: Instant,
    /// The rate that was last refused.
    ceiling: Option<f64>,
    last_change: Instant,
    last_limited: Option<Instant>,
    /// Grants in the current second, and the rate they showed: what "unlimited" was doing
    /// when the gateway first refused.
    window: (Instant, u32),
    observed: f64,
}

/// How long after a slow-down further 命中频率限制 answers are taken as the same event (calls
/// already in flight were refused together).
const COOL_DOWN: Duration = Duration::from_secs(1);
/// How often the rate may climb.
const STEP_EVERY: Duration = Duration::from_secs(1);
/// A clean spell this long raises the ceiling.
const PROBE_AFTER: Duration = Duration::from_secs(30);
/// The rate climbs to this share of the refused rate.
const BELOW_CEILING: f64 = 0.9;

impl Bucket {
    pub(crate) fn new(configured: Option<f64>, burst: u32, min_rate: f64, now: Instant) -> Bucket {
        let burst = f64::from(burst.max(1));
        Bucket {
            configured,
            rate: configured,
            min_rate: min_rate.max(0.01),
            burst,
            tokens: burst,
            last_refill: now,
            ceiling: None,
            last_change: now,
            last_limited: None,
            window: (now, 0),
            observed: 0.0,
        }
    }

    /// The rate in force (ops/s), `None` when unlimited.
    pub(crate) fn rate(&self) -> Option<f64> {
        self.rate
    }

    /// Takes a token now, or says how long to wait for one.
    pub(crate) fn try_acquire(&mut self, now: Instant) -> Result<(), Duration> {
        let Some(rate) = self.rate else {
            self.count_grant(now);
            return Ok(());
        };
        let elapsed = now
            .saturating_duration_since(self.last_refill)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(self.burst);
        self.last_refill = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.count_grant(now);
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / rate))
        }
    }

    fn count_grant(&mut self, now: Instant) {
        let (start, n) = self.window;
        let age = now.saturating_duration_since(start);
        if age >= Duration::from_secs(1) {
            self.observed = f64::from(n) / age.as_secs_f64();
            self.window = (now, 1);
        } else {
            self.window = (start, n + 1);
        }
    }

    /// The gateway answered 命中频率限制.
    pub(crate) fn on_rate_limited(&mut self, now: Instant) -> RateChange {
        if self
            .last_limited
            .is_some_and(|t| now.saturating_duration_since(t) < COOL_DOWN)
        {
            return RateChange::None;
        }
        self.last_limited = Some(now);
        let current = self.rate.unwrap_or_else(|| {
            let (start, n) = self.window;
            let age = now.saturating_duration_since(start).as_secs_f64();
            // Grants so far in this window, per second of at least one second: a young
            // window (the first refusal often comes within milliseconds of the start, once
            // the gateway's window is full) still shows what was sent, instead of reading as
            // nothing and collapsing the rate to the floor.
            let recent = f64::from(n) / age.max(1.0);
            self.observed.max(recent).max(self.min_rate)
        });
        self.ceiling = Some(current);
        let slower = (current / 2.0).max(self.min_rate);
        self.rate = Some(slower);
        // Spend nothing more this instant: the calls already refused are retried first.
        self.tokens = 0.0;
        self.last_refill = now;
        self.last_change = now;
        RateChange::Slower(slower)
    }

    /// A call went through.
    pub(crate) fn on_success(&mut self, now: Instant) -> RateChange {
        let Some(rate) = self.rate else {
            return RateChange::None;
        };
        if now.saturating_duration_since(self.last_change) < STEP_EVERY {
            return RateChange::None;
        }
        if let (Some(ceiling), Some(limited)) = (self.ceiling, self.last_limited)
            && now.saturating_duration_since(limited) >= PROBE_AFTER
        {
            // A long clean spell: the limit may have been lifted; look a little higher.
            let raised = ceiling * 1.1;
            self.ceiling = match self.configured {
                Some(c) if raised >= c => None,
                _ => Some(raised),
            };
            self.last_limited = Some(now);
        }
        let target = match (self.configured, self.ceiling) {
            (Some(c), Some(ceiling)) => c.min(ceiling * BELOW_CEILING),
            (None, Some(ceiling)) => ceiling * BELOW_CEILING,
            (Some(c), None) => c,
            (None, None) => {
                self.rate = None;
                self.last_change = now;
                return RateChange::Faster(f64::INFINITY);
            }
        };
        if rate >= target {
            return RateChange::None;
        }
        let step = (target * 0.1).max(self.min_rate);
        let faster = (rate + step).min(target);
        self.rate = Some(faster);
        self.last_change = now;
        RateChange::Faster(faster)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn spends_at_the_configured_rate_with_a_burst() {
        let t0 = Instant::now();
        let mut b = Bucket::new(Some(10.0), 2, 0.5, t0);
        assert!(b.try_acquire(t0).is_ok());
        assert!(b.try_acquire(t0).is_ok());
        let wait = b.try_acquire(t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-6, "{wait:?}");
        assert!(b.try_acquire(t0 + Duration::from_millis(100)).is_ok());
        // Idle time does not bank more than the burst.
        let later = t0 + Duration::from_secs(10);
        assert!(b.try_acquire(later).is_ok());
        assert!(b.try_acquire(later).is_ok());
        assert!(b.try_acquire(later).is_err());
    }

    #[test]
    fn halves_once_per_cool_down_then_climbs_back_under_the_ceiling() {
        let t0 = Instant::now();
        let mut b = Bucket::new(Some(100.0), 1, 1.0, t0);
        assert_eq!(b.on_rate_limited(t0), RateChange::Slower(50.0));
        // The other calls refused in the same burst do not halve it again.
        assert_eq!(
            b.on_rate_limited(t0 + Duration::from_millis(10)),
            RateChange::None
        );
        assert_eq!(
            b.on_success(t0 + Duration::from_millis(500)),
            RateChange::None
        );
        let mut t = t0;
        let mut last = 50.0;
        for _ in 0..20 {
            t += Duration::from_secs(1);
            if let RateChange::Faster(r) = b.on_success(t) {
                assert!(r > last);
                last = r;
            }
        }
        assert!(
            (last - 90.0).abs() < 1e-9,
            "settles at 90 % of the refused rate: {last}"
        );
        // A long clean spell raises the ceiling (up to the configured rate).
        t += PROBE_AFTER;
        b.on_success(t);
        for _ in 0..5 {
            t += Duration::from_secs(1);
            b.on_success(t);
        }
        assert!(b.rate().unwrap() > 90.0);
        assert!(b.rate().unwrap() <= 100.0);
    }

    #[test]
    fn unlimited_learns_a_rate_from_what_it_was_doing() {
        let t0 = Instant::now();
        let mut b = Bucket::new(None, 1, 1.0, t0);
        for i in 0..200 {
            assert!(b.try_acquire(t0 + Duration::from_millis(i * 10)).is_ok());
        }
        let RateChange::Slower(r) = b.on_rate_limited(t0 + Duration::from_secs(2)) else {
            panic!("slows down");
        };
        assert!((40.0..=60.0).contains(&r), "about half of 100/s: {r}");
        assert_eq!(b.rate(), Some(r));
        assert!(b.try_acquire(t0 + Duration::from_secs(2)).is_err());
    }
}
