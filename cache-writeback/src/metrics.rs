//! Counters behind [`WriteBack::stats`](crate::WriteBack::stats) and the OpenTelemetry
//! instruments fed from them.
//!
//! | instrument | kind | meaning |
//! |---|---|---|
//! | `cache.write_back.pending` | gauge | dirty entities not yet in a batch (last flush pass) |
//! | `cache.write_back.inflight` | gauge | batches claimed and not yet acknowledged |
//! | `cache.write_back.oldest_pending_age` | gauge, s | age of the oldest unflushed change |
//! | `cache.write_back.flush.duration` | histogram, s | one batch: sink call and acknowledgement |
//! | `cache.write_back.batches` | counter | batches the sink accepted |
//! | `cache.write_back.failures` | counter, `reason` = sink, redis, replication | failed deliveries, Redis errors, claims or writes replicas did not confirm |
//! | `cache.write_back.retries` | counter | re-deliveries (after a failure or a stopped flusher) |
//! | `cache.write_back.lost` | counter, `reason` = state, expired | state lost with Redis, or batch records that expired |
//!
//! Every instrument carries `write_back.name`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter, ObservableGauge};

/// Declares the counters (plain atomics: each event costs a Redis round trip, so contention
/// on them is noise) and the public snapshot with the same fields.
macro_rules! counters {
    (
        $(#[$snapshot_doc:meta])*
        $counters:ident => $snapshot:ident {
            $($(#[$doc:meta])* $name:ident),* $(,)?
        }
    ) => {
        #[derive(Debug, Default)]
        pub(crate) struct $counters {
            $(pub(crate) $name: AtomicU64,)*
        }

        $(#[$snapshot_doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct $snapshot { $($(#[$doc])* pub $name: u64,)* }

        impl $counters {
            pub(crate) fn snapshot(&self) -> $snapshot {
                $snapshot { $($name: self.$name.load(Relaxed),)* }
            }
        }
    };
}

counters! {
    /// What a [`WriteBack`](crate::WriteBack) did, as counted in this process.
    /// `pending_entities`, `inflight_batches` and `oldest_pending_age_ms` are as seen by
    /// this process's last flush pass (use [`WriteBack::backlog`](crate::WriteBack::backlog)
    /// for a fresh reading).
    Counters => WriteBackStats {
        /// Increments and field writes Redis acknowledged.
        writes,
        /// Increments and field writes that failed (not acknowledged).
        write_errors,
        /// Batches the sink accepted.
        batches_flushed,
        /// Entity change sets in those batches.
        entities_flushed,
        /// Deliveries the sink refused (or panicked on).
        sink_failures,
        /// Deliveries of a batch after its first (attempt > 1).
        retries,
        /// Batches taken over from a flusher that stopped or stalled past the claim timeout.
        reclaimed,
        /// Batch records that expired (TTL) before the sink accepted them.
        lost_batches,
        /// Redis errors met by flush passes.
        redis_errors,
        /// Claims (put back undelivered) and writes (failed) that fewer replicas than
        /// required confirmed within `replication_timeout`.
        unreplicated,
        /// Times a shard's state was found recreated (Redis restarted or lost it); see
        /// [`WriteBack::generation`](crate::WriteBack::generation).
        state_losses,
        /// Dirty entities not yet claimed.
        pending_entities,
        /// Batches claimed and not yet acknowledged.
        inflight_batches,
        /// Age of the oldest unflushed change, in milliseconds.
        oldest_pending_age_ms,
        /// Duration of the last delivery (sink and acknowledgement), in microseconds.
        last_flush_micros,
    }
}

/// Per-shard readings, summed (or maxed) into the gauges.
#[derive(Debug, Default)]
pub(crate) struct ShardGauges {
    pub(crate) pending: AtomicU64,
    pub(crate) inflight: AtomicU64,
    pub(crate) oldest_age_ms: AtomicU64,
}

/// Counters, gauges and the optional instruments.
pub(crate) struct Metrics {
    pub(crate) counters: Arc<Counters>,
    pub(crate) shards: Arc<Vec<ShardGauges>>,
    instruments: Option<Instruments>,
}

struct Instruments {
    duration: Histogram<f64>,
    batches: Counter<u64>,
    failures: Counter<u64>,
    retries: Counter<u64>,
    lost: Counter<u64>,
    name: KeyValue,
    _gauges: Vec<ObservableGauge<u64>>,
    _age: ObservableGauge<f64>,
}

impl Metrics {
    pub(crate) fn new(meter: Option<&Meter>, name: &str, shards: usize) -> Metrics {
        let counters = Arc::new(Counters::default());
        let shards = Arc::new((0..shards).map(|_| ShardGauges::default()).collect());
        let instruments = meter.map(|m| Instruments::new(m, name, &shards));
        Metrics {
            counters,
            shards,
            instruments,
        }
    }

    pub(crate) fn snapshot(&self) -> WriteBackStats {
        let mut stats = self.counters.snapshot();
        stats.pending_entities = self.shards.iter().map(|s| s.pending.load(Relaxed)).sum();
        stats.inflight_batches = self.shards.iter().map(|s| s.inflight.load(Relaxed)).sum();
        stats.oldest_pending_age_ms = oldest(&self.shards);
        stats
    }

    pub(crate) fn flushed(&self, entities: usize, took: Duration) {
        let c = &self.counters;
        c.batches_flushed.fetch_add(1, Relaxed);
        c.entities_flushed.fetch_add(entities as u64, Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        c.last_flush_micros.store(micros, Relaxed);
        if let Some(i) = &self.instruments {
            i.batches.add(1, std::slice::from_ref(&i.name));
            i.duration
                .record(took.as_secs_f64(), std::slice::from_ref(&i.name));
        }
    }

    pub(crate) fn failure(&self, reason: &'static str) {
        let counter = match reason {
            "sink" => &self.counters.sink_failures,
            "replication" => &self.counters.unreplicated,
            _ => &self.counters.redis_errors,
        };
        counter.fetch_add(1, Relaxed);
        if let Some(i) = &self.instruments {
            i.failures
                .add(1, &[i.name.clone(), KeyValue::new("reason", reason)]);
        }
    }

    pub(crate) fn retry(&self, reclaimed: bool) {
        self.counters.retries.fetch_add(1, Relaxed);
        if reclaimed {
            self.counters.reclaimed.fetch_add(1, Relaxed);
        }
        if let Some(i) = &self.instruments {
            i.retries.add(1, std::slice::from_ref(&i.name));
        }
    }

    pub(crate) fn lost(&self, reason: &'static str) {
        let counter = match reason {
            "state" => &self.counters.state_losses,
            _ => &self.counters.lost_batches,
        };
        counter.fetch_add(1, Relaxed);
        if let Some(i) = &self.instruments {
            i.lost
                .add(1, &[i.name.clone(), KeyValue::new("reason", reason)]);
        }
    }
}

fn oldest(shards: &[ShardGauges]) -> u64 {
    shards
        .iter()
        .map(|s| s.oldest_age_ms.load(Relaxed))
        .max()
        .unwrap_or(0)
}

impl Instruments {
    fn new(meter: &Meter, name: &str, shards: &Arc<Vec<ShardGauges>>) -> Instruments {
        let name = KeyValue::new("write_back.name", name.to_string());
        let gauge = |metric: &'static str, what: &'static str, read: fn(&ShardGauges) -> u64| {
            let (shards, attrs) = (Arc::clone(shards), [name.clone()]);
            meter
                .u64_observable_gauge(metric)
                .with_description(what)
                .with_callback(move |o| o.observe(shards.iter().map(read).sum(), &attrs))
                .build()
        };
        let gauges = vec![
            gauge(
                "cache.write_back.pending",
                "Dirty entities not yet claimed",
                |s| s.pending.load(Relaxed),
            ),
            gauge(
                "cache.write_back.inflight",
                "Batches claimed, not yet acknowledged",
                |s| s.inflight.load(Relaxed),
            ),
        ];
        let (ages, attrs) = (Arc::clone(shards), [name.clone()]);
        Instruments {
            duration: meter
                .f64_histogram("cache.write_back.flush.duration")
                .with_description("One batch: sink call and acknowledgement")
                .with_unit("s")
                .build(),
            batches: meter.u64_counter("cache.write_back.batches").build(),
            failures: meter.u64_counter("cache.write_back.failures").build(),
            retries: meter.u64_counter("cache.write_back.retries").build(),
            lost: meter.u64_counter("cache.write_back.lost").build(),
            _age: meter
                .f64_observable_gauge("cache.write_back.oldest_pending_age")
                .with_description("Age of the oldest change not yet flushed")
                .with_unit("s")
                .with_callback(move |o| o.observe(oldest(&ages) as f64 / 1000.0, &attrs))
                .build(),
            _gauges: gauges,
            name,
        }
    }
}
