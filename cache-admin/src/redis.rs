//! With the `redis` feature: the Redis tier's health as a section of `GET health`, and flag
//! changes published through the Redis flag hash.

use cache_redis::flags::RedisFlagSource;
use cache_redis::{BreakerState, RedisTier};

use crate::admin::FlagPublisher;
use crate::health::{HealthReport, HealthSource};

/// Breaker, backplane, replay queue and the connect-time eviction-policy finding.
#[async_trait::async_trait]
impl HealthSource for RedisTier {
    fn name(&self) -> &str {
        "redis"
    }

    async fn check(&self) -> HealthReport {
        let health = self.health();
        let stats = self.stats();
        let breaker = match health.state {
            BreakerState::Up => "up",
            BreakerState::Degraded => "degraded",
            BreakerState::BreakerOpen => "open",
            BreakerState::Probing => "probing",
            _ => "unknown",
        };
        let mut report = HealthReport::ok()
            .detail("breaker", breaker)
            .detail("backplane_connected", health.backplane_connected)
            .detail("queued_operations", health.queued_operations)
            .detail("timeouts", stats.timeouts)
            .detail("fail_fast", stats.fail_fast)
            .detail("breaker_opened", stats.breaker_opened)
            .detail("replayed", stats.replayed)
            .detail("queue_dropped", stats.queue_dropped)
            .detail("events_received", stats.events_received)
            .detail("error_replies", stats.error_replies);
        if matches!(
            health.state,
            BreakerState::BreakerOpen | BreakerState::Probing
        ) {
            report = report.finding(
                "Redis is not answering: the breaker is open, calls skip Redis and count as misses",
            );
        }
        if !health.backplane_connected {
            report = report.finding(
                "the invalidation backplane is disconnected: other nodes' invalidations are not \
                 reaching this node (local entries are trusted only for a bounded time)",
            );
        }
        if let Some(warning) = health.maxmemory_policy_warning {
            report = report.advice(warning);
        }
        report
    }
}

/// Writes the change to the shared flag hash and announces it, so every node applies it.
#[async_trait::async_trait]
impl FlagPublisher for RedisFlagSource {
    async fn publish(&self, spec: &str) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        RedisFlagSource::publish(self, spec).await?;
        Ok(())
    }
}
