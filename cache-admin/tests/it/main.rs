//! cache-admin's tests: every route through the router as a service mounts it (oneshot
//! requests), the page, and the Redis sources against a throwaway redis-server.

mod common;

mod auth;
mod page;
mod redis;
mod routes;
