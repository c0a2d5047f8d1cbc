//! [`VersionStamp`]: the "updated at" of versioned and collection keys.

use std::time::{SystemTime, UNIX_EPOCH};

/// A point in time used as the version of a record, in microseconds since the
/// Unix epoch (see [`CacheKey::versioned`](crate::CacheKey::versioned)).
pub trait VersionStamp {
    /// Microseconds since the Unix epoch; negative before it.
    fn version_micros(&self) -> i64;
}

/// An explicit version: microseconds since the Unix epoch.
///
/// ```
/// use cache_core::{CacheKey, Micros};
///
/// let key = CacheKey::versioned("store", &42, Micros(1_732_700_000_123_456));
/// assert_eq!(key.as_str(), "store/42-1732700000123456");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Micros(pub i64);

impl VersionStamp for Micros {
    fn version_micros(&self) -> i64 {
        self.0
    }
}

impl<T: VersionStamp + ?Sized> VersionStamp for &T {
    fn version_micros(&self) -> i64 {
        (**self).version_micros()
    }
}

/// Whole microseconds since the Unix epoch, rounded down (towards the past).
impl VersionStamp for SystemTime {
    fn version_micros(&self) -> i64 {
        system_time_micros(*self)
    }
}

/// Microseconds since the Unix epoch: the same instant in any zone is the same version.
#[cfg(feature = "chrono")]
impl<Tz: chrono::TimeZone> VersionStamp for chrono::DateTime<Tz> {
    fn version_micros(&self) -> i64 {
        self.timestamp_micros()
    }
}

/// Microseconds since the Unix epoch, the value read as UTC.
#[cfg(feature = "chrono")]
impl VersionStamp for chrono::NaiveDateTime {
    fn version_micros(&self) -> i64 {
        self.and_utc().timestamp_micros()
    }
}

/// Whole microseconds between the Unix epoch and `t`, rounded down and
/// saturated to the `i64` range (± 292 000 years).
pub(crate) fn system_time_micros(t: SystemTime) -> i64 {
    let nanos = match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i128::try_from(after.as_nanos()).unwrap_or(i128::MAX),
        Err(before) => i128::try_from(before.duration().as_nanos()).map_or(i128::MIN, |n| -n),
    };
    let micros = nanos.div_euclid(1000);
    i64::try_from(micros).unwrap_or(if micros < 0 { i64::MIN } else { i64::MAX })
}

/// Writes a version as decimal microseconds, a negative one as `n<abs>`, so a
/// version never contains `-`.
pub(crate) fn push_version(out: &mut String, micros: i64) {
    use std::fmt::Write as _;
    if micros < 0 {
        out.push('n');
    }
    let _ = write!(out, "{}", micros.unsigned_abs());
}
