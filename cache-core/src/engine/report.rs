//! Per cache name counts, for admin views that poll (see [`NameReport`]).

use super::Cache;
use crate::metrics::NameReport;

impl Cache {
    /// Per cache name, what `cache.requests`, `cache.coalesced` and `cache.load.duration`
    /// have counted: the same counters the OpenTelemetry exporter reads, so a page polling
    /// this every second and `/metrics` agree. Cheap: a few atomic loads per name. Empty when
    /// the cache was built without a [`meter`](crate::CacheBuilder::meter), since nothing is
    /// counted per name then; [`stats`](Cache::stats) has the whole-cache totals either way.
    ///
    /// # Examples
    ///
    /// ```
    /// use cache_core::{Cache, CacheKey, LocalTier, Options};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let meter = opentelemetry::global::meter("example");
    /// let cache = Cache::builder().local(LocalTier::new(1 << 20)).meter(meter).build();
    /// let key = CacheKey::new("users", &1);
    /// for _ in 0..3 {
    ///     let _: Result<u8, ()> = cache.get_or_load(&key, &Options::new(), || async { Ok(1) }).await;
    /// }
    /// let users = &cache.name_reports()[0];
    /// assert_eq!(users.name, "users");
    /// assert_eq!(users.loads(), 1);
    /// assert_eq!(users.local.miss, 1);
    /// assert!(users.request.hit + users.local.hit >= 2);
    /// # }
    /// ```
    pub fn name_reports(&self) -> Vec<NameReport> {
        self.inner.recorder.name_reports()
    }
}
