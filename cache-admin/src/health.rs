//! Health sections: what `GET health` gathers from Redis, write-back queues and the like.

use serde::Serialize;

/// One section of `GET health`. Implemented by [`RedisTier`](cache_redis::RedisTier) with the
/// `redis` feature; implement it for anything else worth watching (a write-back queue's
/// backlog, a database pool).
///
/// ```
/// use cache_admin::{HealthReport, HealthSource};
///
/// struct Queue;
///
/// #[async_trait::async_trait]
/// impl HealthSource for Queue {
///     fn name(&self) -> &str {
///         "queue"
///     }
///     async fn check(&self) -> HealthReport {
///         HealthReport::ok().detail("pending", 3)
///     }
/// }
/// ```
#[async_trait::async_trait]
pub trait HealthSource: Send + Sync + 'static {
    /// The section's name in the response.
    fn name(&self) -> &str;

    /// The current state; should answer promptly (it is polled by a page).
    async fn check(&self) -> HealthReport;
}

/// The state of one health source.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct HealthReport {
    /// Whether everything is as it should be.
    pub ok: bool,
    /// Problems worth a human's attention, each a sentence saying what to do.
    pub findings: Vec<String>,
    /// Figures (counts, states) shown as they are.
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl HealthReport {
    /// A healthy report with no details yet.
    pub fn ok() -> HealthReport {
        HealthReport {
            ok: true,
            findings: Vec::new(),
            details: serde_json::Map::new(),
        }
    }

    /// Adds a figure.
    #[must_use]
    pub fn detail(mut self, name: &str, value: impl Into<serde_json::Value>) -> HealthReport {
        self.details.insert(name.to_owned(), value.into());
        self
    }

    /// Adds a finding and marks the report unhealthy.
    #[must_use]
    pub fn finding(mut self, finding: impl Into<String>) -> HealthReport {
        self.ok = false;
        self.findings.push(finding.into());
        self
    }

    /// Adds a finding that is advice, leaving the report healthy.
    #[must_use]
    pub fn advice(mut self, finding: impl Into<String>) -> HealthReport {
        self.findings.push(finding.into());
        self
    }
}
