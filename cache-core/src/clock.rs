//! Wall-clock milliseconds, the unit entries carry across processes.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The wall clock read once at first use, and the coarse monotonic clock at the same moment.
static BASE: LazyLock<(u64, coarsetime::Instant)> =
    LazyLock::new(|| (precise_now_ms(), coarsetime::Instant::now()));

/// Milliseconds since the Unix epoch: the wall clock at first use plus the kernel's coarse
/// monotonic clock since then. Reading it costs a few nanoseconds (the precise clock costs ~20,
/// a sizeable share of an L1 hit) at a resolution of one scheduler tick (1–4 ms), far finer
/// than any useful TTL. A later step of the system clock is not followed; NTP slewing is.
pub(crate) fn now_ms() -> u64 {
    let (wall_ms, mono) = *BASE;
    wall_ms.saturating_add(coarsetime::Instant::now().duration_since(mono).as_millis())
}

/// Precise milliseconds since the Unix epoch. A clock before 1970 reads as 0.
pub(crate) fn precise_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `Duration` → whole milliseconds, saturating.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Time left until `deadline_ms`, or `None` when it has passed.
pub(crate) fn until(deadline_ms: u64, now_ms: u64) -> Option<Duration> {
    deadline_ms
        .checked_sub(now_ms)
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_coarse_clock_tracks_the_precise_one_within_a_few_ticks() {
        let (coarse, precise) = (super::now_ms(), super::precise_now_ms());
        assert!(
            coarse.abs_diff(precise) <= 20,
            "coarse {coarse} vs precise {precise}"
        );
    }
}
