//! [`Admin`]: the cache an admin router serves, who may use it, and the optional sources it
//! reports from.

use std::sync::Arc;

use axum::http::request::Parts;
use cache_core::{Cache, Flags};

use crate::error::AdminError;
use crate::health::HealthSource;

/// Shares a flag change with every node (e.g. a Redis hash they all watch); the admin router
/// calls it before applying the change here, so a failed publish changes nothing anywhere.
#[async_trait::async_trait]
pub trait FlagPublisher: Send + Sync + 'static {
    /// Publishes `spec` (`name=mode, …`, already validated).
    async fn publish(&self, spec: &str) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;
}

type Authorize = dyn Fn(&Parts) -> bool + Send + Sync;

/// What an admin router serves: a cache, an authorization check, and optional health sources
/// and flag publisher. Cheap to clone.
///
/// ```
/// use cache_admin::Admin;
/// use cache_core::Cache;
///
/// // Any check on the request head: here, a header a trusted proxy sets.
/// let cache = Cache::builder().namespace("shop").build();
/// let admin = Admin::new(cache, |parts| {
///     parts.headers.get("x-admin").is_some_and(|v| v == "yes")
/// });
/// assert_eq!(admin.cache().namespace(), "shop");
/// ```
#[derive(Clone)]
pub struct Admin {
    cache: Cache,
    authorize: Arc<Authorize>,
    health: Vec<Arc<dyn HealthSource>>,
    publisher: Option<Arc<dyn FlagPublisher>>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("cache", &self.cache)
            .field("health_sources", &self.health.len())
            .field("flag_publisher", &self.publisher.is_some())
            .finish_non_exhaustive()
    }
}

impl Admin {
    /// Serves `cache` to requests `authorize` accepts (it sees the method, URI and headers;
    /// see [`BearerToken`](crate::BearerToken) for a ready-made check).
    pub fn new(cache: Cache, authorize: impl Fn(&Parts) -> bool + Send + Sync + 'static) -> Admin {
        Admin {
            cache,
            authorize: Arc::new(authorize),
            health: Vec::new(),
            publisher: None,
        }
    }

    /// Adds a section to `GET health` (a Redis tier, a write-back queue, …).
    #[must_use]
    pub fn health_source(mut self, source: impl HealthSource) -> Admin {
        self.health.push(Arc::new(source));
        self
    }

    /// Sends flag changes through `publisher` to every node before applying them here.
    #[must_use]
    pub fn flag_publisher(mut self, publisher: impl FlagPublisher) -> Admin {
        self.publisher = Some(Arc::new(publisher));
        self
    }

    /// The cache served.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    pub(crate) fn authorizes(&self, parts: &Parts) -> bool {
        (self.authorize)(parts)
    }

    pub(crate) fn health_sources(&self) -> &[Arc<dyn HealthSource>] {
        &self.health
    }

    /// What `PUT flags` does: validates `spec` whole, publishes it through the
    /// [`FlagPublisher`] if there is one, then applies it here. A spec with one bad entry, or
    /// one that could not be published, changes nothing.
    ///
    /// ```
    /// use cache_admin::{Admin, AdminError};
    /// use cache_core::{Cache, FlagMode};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let admin = Admin::new(Cache::builder().build(), |_| true);
    /// admin.change_flags("users=off").await.unwrap();
    /// assert_eq!(admin.cache().flags().mode("users"), FlagMode::Off);
    /// let refused = admin.change_flags("users=on, orders=maybe").await;
    /// assert!(matches!(refused, Err(AdminError::Flags(_))));
    /// assert_eq!(admin.cache().flags().mode("users"), FlagMode::Off);
    /// # }
    /// ```
    pub async fn change_flags(&self, spec: &str) -> Result<(), AdminError> {
        Flags::parse(spec).map_err(AdminError::Flags)?;
        if let Some(publisher) = &self.publisher {
            publisher
                .publish(spec)
                .await
                .map_err(AdminError::FlagPublish)?;
        }
        // Already validated, so nothing is rejected here.
        let rejected = self.cache.flags().apply_live(spec);
        debug_assert!(rejected.is_empty());
        Ok(())
    }
}
