//! Entry lifetimes: TTL jitter when writing, and fresh / early-refresh / stale when reading.

use std::time::Duration;

use crate::clock;
use crate::codec::EntryMeta;

/// The state of an entry at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Freshness {
    /// Serve it.
    Fresh,
    /// Serve it, but this caller was picked (XFetch) to refresh it before it expires.
    EarlyRefresh,
    /// Past its TTL but inside the stale window: serve it while one caller refreshes.
    Stale,
    /// Past the stale window: unusable.
    Expired,
}

/// `-ln(u)` for `u` in (0, 1] never exceeds this for an f64 from `fastrand::f64` (≥ 2⁻⁵³), so an
/// entry further than `delta · beta · 37` from expiry cannot be picked and needs no random draw.
const MAX_NEG_LN: f64 = 37.0;

/// Lifetimes for an entry written now.
pub(crate) fn new_meta(
    now_ms: u64,
    ttl: Duration,
    stale: Duration,
    jitter: f64,
    load_time: Duration,
) -> EntryMeta {
    let ttl_ms = clock::millis(ttl) as f64;
    let spread = if jitter > 0.0 {
        1.0 + jitter * (2.0 * fastrand::f64() - 1.0)
    } else {
        1.0
    };
    let fresh_ms = (ttl_ms * spread).round().max(1.0) as u64;
    let fresh_until_ms = now_ms.saturating_add(fresh_ms);
    EntryMeta {
        fresh_until_ms,
        stale_until_ms: fresh_until_ms.saturating_add(clock::millis(stale)),
        load_micros: u32::try_from(load_time.as_micros()).unwrap_or(u32::MAX),
    }
}

/// Where `meta` stands at `now_ms`. `beta` enables XFetch: refresh early when
/// `now − delta·beta·ln(rand) ≥ fresh_until`, `delta` being the last load's duration.
pub(crate) fn classify(meta: &EntryMeta, now_ms: u64, beta: Option<f64>) -> Freshness {
    if now_ms >= meta.stale_until_ms {
        return Freshness::Expired;
    }
    if now_ms >= meta.fresh_until_ms {
        return Freshness::Stale;
    }
    if let Some(beta) = beta {
        let delta_ms = f64::from(meta.load_micros) / 1000.0;
        let left_ms = (meta.fresh_until_ms - now_ms) as f64;
        if delta_ms > 0.0 && left_ms <= delta_ms * beta * MAX_NEG_LN {
            let gap = delta_ms * beta * -(1.0 - fastrand::f64()).ln();
            if gap >= left_ms {
                return Freshness::EarlyRefresh;
            }
        }
    }
    Freshness::Fresh
}

/// Whether `meta` is [`Fresh`](Freshness::Fresh) at `now_ms` whatever XFetch's draw: fresh and
/// outside the window where [`classify`] could pick it for an early refresh. Lets the hit path
/// answer without drawing, so entries in the window get exactly one draw (on the full path).
#[inline]
pub(crate) fn surely_fresh(meta: &EntryMeta, now_ms: u64, beta: Option<f64>) -> bool {
    if now_ms >= meta.fresh_until_ms {
        return false;
    }
    match beta {
        None => true,
        Some(beta) => {
            let delta_ms = f64::from(meta.load_micros) / 1000.0;
            let left_ms = (meta.fresh_until_ms - now_ms) as f64;
            delta_ms <= 0.0 || left_ms > delta_ms * beta * MAX_NEG_LN
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(fresh: u64, stale: u64, load_micros: u32) -> EntryMeta {
        EntryMeta {
            fresh_until_ms: fresh,
            stale_until_ms: stale,
            load_micros,
        }
    }

    #[test]
    fn windows_are_classified_by_time() {
        let m = meta(1_000, 2_000, 0);
        assert_eq!(classify(&m, 999, Some(1.0)), Freshness::Fresh);
        assert_eq!(classify(&m, 1_000, Some(1.0)), Freshness::Stale);
        assert_eq!(classify(&m, 1_999, None), Freshness::Stale);
        assert_eq!(classify(&m, 2_000, None), Freshness::Expired);
    }

    #[test]
    fn xfetch_never_fires_far_from_expiry_and_often_fires_close_to_it() {
        // A 100 ms load: 10 s before expiry is beyond 37 · 100 ms.
        let m = meta(100_000, 200_000, 100_000);
        assert!((0..10_000).all(|_| classify(&m, 90_000, Some(1.0)) == Freshness::Fresh));
        // 1 ms before expiry with a 100 ms load, P(refresh) = 1 − e^(−1/100·…) ≈ 99 %.
        let early = (0..10_000)
            .filter(|_| classify(&m, 99_999, Some(1.0)) == Freshness::EarlyRefresh)
            .count();
        assert!(early > 9_500, "only {early} of 10000 picked");
        assert!((0..1_000).all(|_| classify(&m, 99_999, None) == Freshness::Fresh));
    }

    #[test]
    fn surely_fresh_agrees_with_classify_outside_the_xfetch_window() {
        let m = meta(100_000, 200_000, 100_000);
        assert!(surely_fresh(&m, 90_000, None));
        assert!(surely_fresh(&m, 99_999, None));
        assert!(!surely_fresh(&m, 100_000, None));
        // 37 · 100 ms = 3.7 s before expiry: outside the window far from it, inside close to it.
        assert!(surely_fresh(&m, 90_000, Some(1.0)));
        assert!(!surely_fresh(&m, 99_000, Some(1.0)));
        // No load time recorded: XFetch never fires.
        assert!(surely_fresh(&meta(100_000, 200_000, 0), 99_999, Some(1.0)));
    }

    #[test]
    fn jitter_spreads_ttl_within_bounds() {
        let ttls: Vec<u64> = (0..2_000)
            .map(|_| {
                new_meta(
                    0,
                    Duration::from_secs(100),
                    Duration::ZERO,
                    0.1,
                    Duration::ZERO,
                )
                .fresh_until_ms
            })
            .collect();
        assert!(ttls.iter().all(|t| (90_000..=110_000).contains(t)));
        let distinct: std::collections::HashSet<_> = ttls.iter().collect();
        assert!(
            distinct.len() > 1_000,
            "jitter barely varies: {}",
            distinct.len()
        );
        let exact = new_meta(
            5,
            Duration::from_secs(1),
            Duration::from_secs(2),
            0.0,
            Duration::ZERO,
        );
        assert_eq!((exact.fresh_until_ms, exact.stale_until_ms), (1_005, 3_005));
    }
}
