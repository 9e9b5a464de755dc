//! The send-rate limiter: a token bucket whose rate adapts to the gateway.
//!
//! WeChat Pay says neither its limit nor how it counts; it answers 命中频率限制 once a provider
//! goes over. The bucket therefore searches for the limit between two rates it has seen: the
//! lowest rate that was refused and the highest rate that held for a clean spell. A refusal
//! drops to the held rate (or halves, before any rate has held) — once per cool-down, however
//! many calls in flight were refused together. Each clean spell raises the held rate and tries
//! halfway to the refused one (at most a quarter higher), so the gap halves with each try;
//! once the two are within [`SETTLED`] of each other the run stays just under the held rate
//! ([`MARGIN`]) and sends no more calls that would be refused. After [`PROBE_AFTER`] without a refusal the refused
//! rate is raised a little, so that a limit that was lifted is found again.

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
    /// The lowest rate the gateway refused (since the last probe).
    refused: Option<f64>,
    /// The highest rate that held for a clean spell.
    held: Option<f64>,
    /// When the rate in force was set.
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
/// How long a rate must run without a refusal to count as held.
const CLEAN_SPELL: Duration = Duration::from_secs(2);
/// Held and refused rates this close (a share of the refused one): the search is over.
pub(crate) const SETTLED: f64 = 0.02;
/// Once settled, the run keeps this share under the held rate.
const MARGIN: f64 = 0.01;
/// One try climbs at most this factor above the held rate.
const MAX_CLIMB: f64 = 1.25;
/// A clean spell this long raises the refused rate by [`PROBE_STEP`].
pub(crate) const PROBE_AFTER: Duration = Duration::from_secs(300);
const PROBE_STEP: f64 = 1.1;

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
            refused: None,
            held: None,
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
        // Half a token more than the burst is kept: a timer that wakes a millisecond late
        // would otherwise lose that millisecond's accrual each time and lower the rate (by
        // 5-10 % at 100/s); after an idle spell the second call then follows half an interval
        // after the first, which no per-second limit notices.
        self.tokens = (self.tokens + elapsed * rate).min(self.burst + 0.5);
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
        self.refused = Some(self.refused.map_or(current, |r| r.min(current)));
        if self.held.is_some_and(|h| h >= current) {
            // What looked held was not (another client now shares the limit, or it was
            // lowered): below it, and search again from there.
            self.held = Some(current * (1.0 - SETTLED));
        }
        let slower = match self.held {
            Some(held) if held < current => held,
            _ => current / 2.0,
        }
        .max(self.min_rate);
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
        let clean_since = self
            .last_limited
            .map_or(self.last_change, |limited| limited.max(self.last_change));
        let clean = now.saturating_duration_since(clean_since);
        if clean >= CLEAN_SPELL && self.held.is_none_or(|h| h < rate) {
            self.held = Some(rate);
        }
        if let (Some(refused), Some(limited)) = (self.refused, self.last_limited)
            && now.saturating_duration_since(limited) >= PROBE_AFTER
        {
            // A long clean spell: the limit may have been lifted; look a little higher.
            let raised = refused * PROBE_STEP;
            self.refused = match self.configured {
                Some(c) if raised >= c => None,
                _ => Some(raised),
            };
            self.last_limited = Some(now);
        }
        let target = match (self.refused, self.held) {
            // Never refused (or the probe passed the configured rate): the configured rate, or
            // unlimited again.
            (None, _) => match self.configured {
                Some(c) => c,
                None => {
                    self.rate = None;
                    self.last_change = now;
                    return RateChange::Faster(f64::INFINITY);
                }
            },
            // Nothing held yet: stay until this rate has.
            (Some(_), None) => return RateChange::None,
            (Some(refused), Some(held)) => {
                if refused - held <= refused * SETTLED {
                    // Settled: a little under the held rate, which may be the limit itself,
                    // where a late timer or a slow answer would tip one call over.
                    let settled = held * (1.0 - MARGIN);
                    if settled < rate {
                        self.rate = Some(settled);
                        self.last_change = now;
                        return RateChange::Slower(settled);
                    }
                    return RateChange::None;
                }
                ((held + refused) / 2.0).min(held * MAX_CLIMB)
            }
        };
        let target = self.configured.map_or(target, |c| target.min(c));
        // Climb only from a rate that has held; the first step from a fresh slow-down waits
        // for the clean spell too.
        if target <= rate || clean < CLEAN_SPELL {
            return RateChange::None;
        }
        self.rate = Some(target);
        self.last_change = now;
        RateChange::Faster(target)
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
    fn halves_once_per_cool_down_then_searches_up_to_the_refused_rate() {
        let t0 = Instant::now();
        let mut b = Bucket::new(Some(100.0), 1, 1.0, t0);
        assert_eq!(b.on_rate_limited(t0), RateChange::Slower(50.0));
        // The other calls refused in the same burst do not halve it again.
        assert_eq!(
            b.on_rate_limited(t0 + Duration::from_millis(10)),
            RateChange::None
        );
        // No climb before the slower rate has held for a clean spell.
        assert_eq!(b.on_success(t0 + Duration::from_secs(1)), RateChange::None);
        let mut t = t0 + Duration::from_secs(1);
        let mut tries = Vec::new();
        for _ in 0..30 {
            t += Duration::from_secs(1);
            if let RateChange::Faster(r) = b.on_success(t) {
                tries.push(r);
            }
        }
        // Each try halves the gap to the refused rate (at most a quarter up at once), then stays.
        assert_eq!(
            tries,
            vec![62.5, 78.125, 89.0625, 94.53125, 97.265625, 98.6328125]
        );
        // Settled a little under the rate that held.
        assert_eq!(b.rate(), Some(98.6328125 * (1.0 - MARGIN)));
        assert!(b.rate().unwrap() >= 97.0);
        // Refused at a try: back to the rate that held, and the gap is closed from above.
        let mut b = Bucket::new(Some(200.0), 1, 1.0, t0);
        b.on_rate_limited(t0); // 200 refused: 100
        t = t0 + Duration::from_secs(3);
        assert_eq!(b.on_success(t), RateChange::Faster(125.0)); // 100 held
        t += Duration::from_secs(1);
        assert_eq!(b.on_rate_limited(t), RateChange::Slower(100.0));
        assert_eq!(b.refused, Some(125.0));
        // A long clean spell raises the refused rate again (a lifted limit is found).
        t += PROBE_AFTER;
        b.on_success(t);
        assert!(b.refused.unwrap() > 125.0);
    }

    /// A gateway that allows `limit` calls per one-second window (as the sandbox and WeChat
    /// Pay's 命中频率限制 do), a sender that sends whenever the bucket allows, answers in no
    /// time. Returns, per simulated second, (calls answered, calls refused).
    fn simulate(configured: Option<f64>, limit: u32, secs: u64) -> Vec<(u32, u32)> {
        let t0 = Instant::now();
        let mut b = Bucket::new(configured, 1, 0.5, t0);
        let mut per_second = vec![(0u32, 0u32); secs as usize];
        for ms in 0..secs * 1000 {
            let now = t0 + Duration::from_millis(ms);
            let second = (ms / 1000) as usize;
            // Unlimited: at most 20 calls a millisecond (what sixteen connections might do).
            for _ in 0..20 {
                if b.try_acquire(now).is_err() {
                    break;
                }
                let (ok, refused) = &mut per_second[second];
                if *ok < limit {
                    *ok += 1;
                    b.on_success(now);
                } else {
                    *refused += 1;
                    b.on_rate_limited(now);
                }
            }
        }
        per_second
    }

    #[test]
    fn settles_within_a_few_percent_under_a_gateway_limit_and_stops_being_refused() {
        for (configured, limit) in [(Some(200.0), 100), (None, 100), (Some(1000.0), 37)] {
            let seconds = simulate(configured, limit, 90);
            let (adapting, settled) = seconds.split_at(30);
            assert!(
                adapting.iter().any(|(_, refused)| *refused > 0),
                "{configured:?}/{limit}: the limit was found by being refused"
            );
            for (i, (ok, refused)) in settled.iter().enumerate() {
                assert_eq!(
                    *refused,
                    0,
                    "{configured:?}/{limit}: refused in second {}",
                    30 + i
                );
                assert!(
                    f64::from(*ok) >= f64::from(limit) * 0.95,
                    "{configured:?}/{limit}: only {ok} in second {}",
                    30 + i
                );
            }
        }
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
