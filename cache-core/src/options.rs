//! Per-call cache options: lifetimes, tiers, tags, timeouts.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use crate::Tiers;

/// A call's tags behind one thin pointer (not a fat `Arc<[_]>`): every local entry keeps a
/// clone, and a million entries pay for each word.
pub(crate) type Tags = Arc<Box<[Arc<str>]>>;

/// How one cached computation behaves. Build it once (it is cheap to clone) and reuse it.
///
/// Defaults: the cache's default TTL, no stale window, ±10 % TTL jitter, probabilistic early
/// refresh on, all tiers, no tags, no timeouts, a 5 s stampede lease, fail-safe throttle 1 s.
///
/// ```
/// use std::time::Duration;
/// use cache_core::{Options, Tiers};
/// let opts = Options::new()
///     .ttl(Duration::from_secs(600))
///     .stale(Duration::from_secs(3600))
///     .jitter(0.1)
///     .tags(["chain:7"])
///     .tiers(Tiers::REQUEST | Tiers::LOCAL)
///     .flag("chains");
/// assert_eq!(opts.ttl_value(), Some(Duration::from_secs(600)));
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    ttl: Option<Duration>,
    stale: Duration,
    jitter: f64,
    early_refresh: Option<f64>,
    /// `None` only for plain reads, which do not know the tags of what they backfill.
    tags: Option<Tags>,
    tiers: Tiers,
    flag: Option<Cow<'static, str>>,
    soft_timeout: Option<Duration>,
    hard_timeout: Option<Duration>,
    lease_ttl: Duration,
    fail_safe_throttle: Duration,
    none_ttl: Option<Duration>,
    force_refresh: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ttl: None,
            stale: Duration::ZERO,
            jitter: 0.1,
            early_refresh: Some(1.0),
            tags: Some(Tags::default()),
            tiers: Tiers::ALL,
            flag: None,
            soft_timeout: None,
            hard_timeout: None,
            lease_ttl: Duration::from_secs(5),
            fail_safe_throttle: Duration::from_secs(1),
            none_ttl: None,
            force_refresh: false,
        }
    }
}

impl Options {
    /// Options with the defaults listed on the type.
    pub fn new() -> Options {
        Options::default()
    }

    /// How long an entry is fresh. Unset: the cache's `default_ttl`.
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Options {
        self.ttl = Some(ttl);
        self
    }

    /// How long after going stale an entry may still be served while one caller refreshes it
    /// (and when the loader fails). Zero disables serving stale.
    #[must_use]
    pub fn stale(mut self, stale: Duration) -> Options {
        self.stale = stale;
        self
    }

    /// Random spread of the TTL as a fraction (0.1 = ±10 %), so entries written together do not
    /// expire together. Clamped to `0.0..=0.5`.
    #[must_use]
    pub fn jitter(mut self, fraction: f64) -> Options {
        self.jitter = if fraction.is_finite() {
            fraction.clamp(0.0, 0.5)
        } else {
            0.0
        };
        self
    }

    /// Probabilistic early refresh (XFetch) with `beta = 1.0`, or off. An entry is refreshed
    /// before it expires with a probability that grows as expiry nears and as loads get slower.
    #[must_use]
    pub fn early_refresh(mut self, on: bool) -> Options {
        self.early_refresh = on.then_some(1.0);
        self
    }

    /// XFetch with a custom `beta` (> 1 refreshes earlier, < 1 later).
    #[must_use]
    pub fn early_refresh_beta(mut self, beta: f64) -> Options {
        self.early_refresh = (beta.is_finite() && beta > 0.0).then_some(beta);
        self
    }

    /// Tags for group invalidation with [`Cache::invalidate_tag`](crate::Cache::invalidate_tag).
    #[must_use]
    pub fn tags<I, S>(mut self, tags: I) -> Options
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let tags: Box<[Arc<str>]> = tags.into_iter().map(|t| Arc::from(t.as_ref())).collect();
        self.tags = Some(Arc::new(tags));
        self
    }

    /// Which tiers this call uses.
    #[must_use]
    pub fn tiers(mut self, tiers: Tiers) -> Options {
        self.tiers = tiers;
        self
    }

    /// The feature-flag name that switches this cache. Unset: the key's cache name.
    #[must_use]
    pub fn flag(mut self, name: impl Into<Cow<'static, str>>) -> Options {
        self.flag = Some(name.into());
        self
    }

    /// When a stale value exists and the loader is slower than this, answer with the stale value
    /// now. With [`Cache::get_or_load_static`](crate::Cache::get_or_load_static) the load finishes
    /// in the background and updates the cache; a borrowing loader is cancelled instead.
    #[must_use]
    pub fn soft_timeout(mut self, timeout: Duration) -> Options {
        self.soft_timeout = Some(timeout);
        self
    }

    /// Stop waiting for the loader after this long: serve stale if there is any, otherwise
    /// [`try_get_or_load`](crate::Cache::try_get_or_load) returns [`LoadError::Timeout`](crate::LoadError).
    #[must_use]
    pub fn hard_timeout(mut self, timeout: Duration) -> Options {
        self.hard_timeout = Some(timeout);
        self
    }

    /// How long another process's load of the same cold key is waited for before loading anyway.
    #[must_use]
    pub fn lease_ttl(mut self, ttl: Duration) -> Options {
        self.lease_ttl = ttl;
        self
    }

    /// After a failed refresh served stale, how long the stale value counts as fresh again so
    /// a failing backend is not hammered by every request.
    #[must_use]
    pub fn fail_safe_throttle(mut self, throttle: Duration) -> Options {
        self.fail_safe_throttle = throttle;
        self
    }

    /// Negative caching: [`Cache::get_or_load_option`](crate::Cache::get_or_load_option)
    /// caches a `None` ("not found") for this long — exactly, with no stale window and no
    /// jitter, in every tier, the remote one included. Unset (the default), `None` is not
    /// cached and every call for a missing id reaches the loader.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::Options;
    /// let opts = Options::new().ttl(Duration::from_secs(600)).none_ttl(Duration::from_secs(30));
    /// assert_eq!(opts.none_ttl_value(), Some(Duration::from_secs(30)));
    /// ```
    #[must_use]
    pub fn none_ttl(mut self, ttl: Duration) -> Options {
        self.none_ttl = Some(ttl);
        self
    }

    /// Forced refresh (Rails `force: true`): read no tier, load, write through every tier. Older
    /// loads of the key on this node neither share their value with this call nor store theirs
    /// after it (remotely the write voids their fences); callers that miss share the forced load.
    ///
    /// ```
    /// # use cache_core::{Cache, CacheKey, Options};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let (cache, key) = (Cache::builder().build(), CacheKey::new("rate", &1));
    /// cache.set(&key, &1_u8, &Options::new()).await;
    /// let forced = Options::new().force_refresh(true);
    /// assert_eq!(cache.get_or_load(&key, &forced, || async { Ok::<_, ()>(2_u8) }).await, Ok(2));
    /// assert_eq!(cache.get::<u8>(&key).await, Some(2));
    /// # }
    /// ```
    #[must_use]
    pub fn force_refresh(mut self, force: bool) -> Options {
        self.force_refresh = force;
        self
    }

    /// Whether this call is a forced refresh.
    pub fn force_refresh_value(&self) -> bool {
        self.force_refresh
    }

    /// Options for `get`/`get_many`: they backfill entries whose tags they cannot know.
    pub(crate) fn plain_read() -> Options {
        Options {
            tags: None,
            early_refresh: None,
            ..Options::default()
        }
    }

    /// The configured TTL, if any.
    pub fn ttl_value(&self) -> Option<Duration> {
        self.ttl
    }

    /// The configured lifetime of a cached `None`; unset, `None` is not cached.
    pub fn none_ttl_value(&self) -> Option<Duration> {
        self.none_ttl
    }

    /// The configured stale window.
    pub fn stale_value(&self) -> Duration {
        self.stale
    }

    /// The configured tiers.
    pub fn tiers_value(&self) -> Tiers {
        self.tiers
    }

    /// Whether every tier in `tiers` may be used by this call.
    #[inline]
    pub(crate) fn uses(&self, tiers: Tiers) -> bool {
        self.tiers.contains(tiers)
    }

    /// XFetch's `beta`, or `None` when early refresh is off.
    #[inline]
    pub(crate) fn early_refresh_value(&self) -> Option<f64> {
        self.early_refresh
    }

    /// The tags of what this call writes; `None` for plain reads, which do not know them.
    pub(crate) fn tag_list(&self) -> Option<&[Arc<str>]> {
        self.tags.as_deref().map(|tags| &**tags)
    }

    /// [`tag_list`](Self::tag_list), shared, as a local entry keeps it.
    pub(crate) fn shared_tags(&self) -> Option<Tags> {
        self.tags.clone()
    }

    /// The configured TTL jitter fraction.
    pub(crate) fn jitter_value(&self) -> f64 {
        self.jitter
    }

    /// The configured soft timeout, if any.
    pub(crate) fn soft_timeout_value(&self) -> Option<Duration> {
        self.soft_timeout
    }

    /// The configured hard timeout, if any.
    pub(crate) fn hard_timeout_value(&self) -> Option<Duration> {
        self.hard_timeout
    }

    /// The configured stampede lease TTL.
    pub(crate) fn lease_ttl_value(&self) -> Duration {
        self.lease_ttl
    }

    /// The configured fail-safe throttle.
    pub(crate) fn fail_safe_throttle_value(&self) -> Duration {
        self.fail_safe_throttle
    }

    /// The flag name for `key`: the explicit flag, else the key's cache name.
    pub fn flag_name<'a>(&'a self, key: &'a crate::CacheKey) -> &'a str {
        self.flag_for(key.cache_name())
    }

    /// The flag name for cache `cache_name`: the explicit flag, else `cache_name`.
    pub(crate) fn flag_for<'a>(&'a self, cache_name: &'a str) -> &'a str {
        self.flag.as_deref().unwrap_or(cache_name)
    }
}
