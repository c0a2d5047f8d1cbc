//! Procedural macros for `cache-core`: [`macro@cached`] and [`derive@CacheKey`].
//!
//! Use them through `cache_core` (feature `macros`, on by default), which re-exports both:
//! `use cache_core::{cached, CacheKey};`. Generated code refers only to
//! `::cache_core::__private_<version>` (see `private.rs`), so user imports cannot break it and a
//! `cache-core` of another version fails to compile with that module's name in the error;
//! `crate = path` points it at a renamed dependency.
//!
//! Both macros read their attributes the same way (`attr.rs`), collect every error before
//! reporting (`errors.rs`), and on an error still emit the items callers use, next to the
//! `compile_error!`s.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod attr;
mod cached;
mod derive_key;
mod errors;
mod private;

use proc_macro::TokenStream;

/// Caches a function's result in the tiers of a `cache_core::Cache`.
///
/// ```
/// use cache_core::cached;
/// # #[derive(Clone)] struct Db;
/// # impl Db { async fn query(&self, _id: i64) -> Result<String, String> { Ok("Ada".into()) } }
///
/// #[cached(key = format!("user:{id}"), ttl = "10m", stale = "1h", name = "users")]
/// async fn user_name(#[cache(skip)] db: &Db, id: i64) -> Result<String, String> {
///     db.query(id).await
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert_eq!(user_name(&Db, 7).await.as_deref(), Ok("Ada"));
/// assert_eq!(user_name_cache_key(&7).as_str(), "users:user%3A7");
/// user_name_invalidate(&7).await; // the next call loads again
/// # }
/// ```
///
/// # Arguments
///
/// | argument | meaning | default |
/// | --- | --- | --- |
/// | `key = <expr>` | the key parts, computed from the arguments (`format!("user:{id}")`, `(tenant, id)`, `store.cache_key()`); must be a `KeyPart` | every argument not `#[cache(skip)]`, as a tuple |
/// | `ttl = "10m"` | fresh lifetime: a humantime string (checked at compile time) or a `Duration` expression | the cache's default TTL |
/// | `stale = "1h"` | how long a stale value may be served while one caller refreshes | none |
/// | `jitter = 0.1` | random TTL spread (fraction) | `0.1` |
/// | `early_refresh = bool` | probabilistic early refresh (XFetch) | `true` |
/// | `tags = [expr, …]` | tags for `Cache::invalidate_tag`; may use the arguments | none |
/// | `soft_timeout = "200ms"`, `hard_timeout = "2s"` | see `Options::soft_timeout` / `hard_timeout` | none |
/// | `name = "users"` | cache name: first part of every key, metric label, flag name | `module_path!()::fn_name` |
/// | `flag = "users"` | feature-flag name | `name` |
/// | `tiers = "request, local, redis"` | the tiers to use (checked at compile time) | all (`request, local` for sync fns) |
/// | `version = 3` | schema version written into the key (`name@3:…`) | `0` |
/// | `cache = <expr>` | the `Cache` to use (`&Cache`, `Cache`, `LazyLock<Cache>`, `Arc<Cache>`…) | `cache_core::global()` |
/// | `crate = path` | where `cache_core` is | `::cache_core` |
/// | `cache_none = true` | also cache `None` of an `Option` function | `false` |
/// | `none_ttl = "30s"` | cache `None` of an `Option<T>` / `Result<Option<T>, E>` function for this long (see below) | not cached (`Result`: `ttl`) |
/// | `companions = bool` | generate `<fn>_cache_key` and `<fn>_invalidate` | see below |
/// | `batch` | the function loads many ids at once and is cached per id (see below) | off |
/// | `adapt = f` | `fn(T) -> Entry<T>` deciding per loaded value its TTL, stale window, tags, or skip (see below) | every value as the options say |
/// | `companions = bool` | generate `<fn>_cache_key`, `<fn>_invalidate` and `<fn>_refresh` | see below |
///
/// Mark parameters that do not change the result (database handles, clients) with
/// `#[cache(skip)]`. With `key = …`, **every other argument must appear in the key**
/// (`self` included; `{name}` placeholders in `format!`-style strings count): forgetting one
/// would serve one caller's value to another, so it is a compile error.
///
/// # Behaviour
///
/// * `async fn` goes through `Cache::get_or_load` (the loader may borrow arguments); a sync fn
///   through `Cache::get_or_load_sync` over the request and local tiers (asking a sync fn for
///   `redis` is a compile error: it would need async I/O).
/// * `Result<T, E>`: only `Ok` is cached; `E` must be `Clone + Send + Sync + 'static` because one
///   load's error is handed to every caller waiting for it (wrap it in `Arc` otherwise).
///   `Option<T>`: only `Some` is cached unless `cache_none = true` or `none_ttl` is set. Any
///   other `T` is cached.
/// * Generic functions get `std::any::type_name` of each type parameter (and each const
///   parameter's value) in the key; methods with a receiver and a default `name` also get
///   `type_name::<Self>()`, so same-named methods of two types never share entries.
/// * Options that do not use the arguments are built once (a `static LazyLock`).
///
/// # Negative caching
///
/// `none_ttl` caches a "not found" for a short time so that repeated lookups of a missing id
/// stop reaching the database, while found values keep `ttl`. It applies to `Option<T>` and to
/// `Result<Option<T>, E>` (where `Ok(None)` is otherwise cached for the full `ttl`); on any
/// other return type it is a compile error. The cached `None` lives in every tier the function
/// uses, expires after exactly `none_ttl` (no jitter, no stale window; Redis's TTL too), and
/// `<fn>_invalidate`, `invalidate_tag` and other nodes' invalidations drop it like any value.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use cache_core::cached;
///
/// static QUERIES: AtomicUsize = AtomicUsize::new(0);
///
/// #[cached(ttl = "10m", none_ttl = "30s")]
/// async fn user_email(id: u64) -> Option<String> {
///     QUERIES.fetch_add(1, Ordering::SeqCst);
///     (id == 1).then(|| "ada@example.com".to_string())
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert_eq!(user_email(404).await, None);
/// assert_eq!(user_email(404).await, None); // served from the cache for the next 30 s
/// assert_eq!(QUERIES.load(Ordering::SeqCst), 1);
/// # }
/// ```
///
/// # Batches
///
/// `#[cached(batch)]` caches an `async fn` that loads many ids in one query, per id, through
/// `Cache::get_or_load_many`: every id is looked up in every tier (one `MGET` on Redis), the
/// body runs once with only the ids no tier had (bound to the same parameter), and the call
/// returns every id found. Its shape is fixed: the ids (`Vec<I>` or `&[I]`) are the only
/// argument not `#[cache(skip)]` (`&self` must be skipped too), and it returns
/// `Result<HashMap<I, T>, E>` or `HashMap<I, T>`; anything else is a compile error at the
/// offending token. Each id's key is the key a plain `#[cached]` function of that one id with
/// the same `name` and `version` has, so the two share entries. `ttl`, `stale`, `tags`,
/// `none_ttl` (ids not returned are cached as absent), `tiers`, `cache` and the rest apply to
/// every id and cannot use the ids; `key`, `cache_none` and the timeouts do not apply. The
/// companions take one id: `users_cache_key(id: &I)`, `users_invalidate(id: &I)`. Skipped
/// arguments the body uses must be `Copy` (references are): a load this batch waited for may
/// have been abandoned by its caller, and then the body runs a second time for those ids.
///
/// ```
/// use std::collections::HashMap;
/// use cache_core::cached;
///
/// struct Db;
///
/// #[cached(batch, ttl = "10m")]
/// async fn user_names(#[cache(skip)] db: &Db, ids: Vec<u64>) -> Result<HashMap<u64, String>, String> {
///     // SELECT id, name FROM users WHERE id = ANY($1)
///     Ok(ids.into_iter().filter(|id| *id != 404).map(|id| (id, format!("user {id}"))).collect())
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let names = user_names(&Db, vec![1, 2, 404]).await.unwrap();
/// assert_eq!((names.len(), names[&2].as_str()), (2, "user 2"));
/// # }
/// ```
///
/// # Adaptive entries
///
/// `adapt = f` hands each loaded value to `f: fn(T) -> cache_core::Entry<T>` (a function path
/// or a closure that captures nothing), which decides how that one value is cached: its own
/// TTL or stale window, extra tags, or `Entry::skip` (returned, never stored). `T` is the
/// cached value: `T` of `Result<T, E>` and `Option<T>`, the whole `Option<T>` with `none_ttl`
/// (a `None` whose entry sets no TTL still lives `none_ttl`), the return type otherwise. A
/// decider of another type is a compile error at `adapt = …`.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use cache_core::{Entry, cached};
///
/// static SEARCHES: AtomicUsize = AtomicUsize::new(0);
///
/// /// An empty result may be a hiccup upstream: return it, but do not keep it.
/// fn skip_empty(hits: Vec<u32>) -> Entry<Vec<u32>> {
///     if hits.is_empty() { Entry::skip(hits) } else { Entry::new(hits) }
/// }
///
/// #[cached(ttl = "10m", adapt = skip_empty)]
/// async fn search(query: String) -> Vec<u32> {
///     SEARCHES.fetch_add(1, Ordering::SeqCst);
///     if query == "rust" { vec![1, 2] } else { vec![] }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert_eq!(search("cobol".into()).await, Vec::<u32>::new());
/// assert_eq!(search("cobol".into()).await, Vec::<u32>::new());
/// assert_eq!(SEARCHES.load(Ordering::SeqCst), 2, "the empty result was not kept");
/// # }
/// ```
///
/// # Companions
///
/// Next to `fn load(...)` the macro generates `fn load_cache_key(...) -> CacheKey` (the key
/// for the same arguments, skipped ones left out, each taken by reference),
/// `async fn load_invalidate(...)` (removes that key from every tier) and `load_refresh(...)`
/// with the function's own signature, which loads now whatever is cached and writes the value
/// through every tier (`Options::force_refresh`; callers that miss meanwhile share that load,
/// so a webhook can refresh an entry without a burst of misses). The function itself
/// calls `load_cache_key`, so the key is computed in one place. For methods these are
/// associated functions of the same impl (`Self::load_cache_key(&self, &id)`).
///
/// A trait impl cannot gain items, and an attribute cannot see whether it is inside one, so:
/// methods with a receiver get companions only when they have a visibility (`pub`,
/// `pub(crate)`; trait impl methods never do), and functions without a receiver always get them
/// (as free functions, or as `Self::…` when their signature or body mentions `Self`).
/// `companions = true | false` overrides this, e.g. for a private inherent method or an
/// associated function in a trait impl. Without companions the key is computed inline.
///
/// # `#[async_trait]`
///
/// `#[cached]` works on the `async fn`s of an `#[async_trait]` impl (or on the default methods
/// of an `#[async_trait]` trait), written in the usual order: `#[async_trait]` on the impl,
/// `#[cached]` on the method. The impl's attribute runs first (an attribute on an item always
/// expands before those inside it, so no other order exists) and turns the method into a `fn`
/// returning `Pin<Box<dyn Future<Output = T> + Send + 'async_trait>>` whose body is
/// `Box::pin(async move { … })`. `#[cached]` recognizes exactly that shape, caches `T` as for an
/// `async fn` (same arguments, same key rules) and boxes the cached body again under the
/// rewritten signature, so calls through `&dyn Trait` are cached and `?Send` impls work too.
///
/// ```
/// use async_trait::async_trait;
/// use cache_core::cached;
///
/// #[async_trait]
/// trait Users: Sync {
///     async fn name(&self, id: u64) -> String;
/// }
///
/// struct Directory;
///
/// #[async_trait]
/// impl Users for Directory {
///     #[cached(key = id, ttl = "1m", name = "doc_users")]
///     async fn name(#[cache(skip)] &self, id: u64) -> String {
///         format!("user {id}")
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let users: &dyn Users = &Directory;
/// assert_eq!(users.name(7).await, "user 7"); // loads
/// assert_eq!(users.name(7).await, "user 7"); // a hit
/// # }
/// ```
///
/// A hand-written `fn` of that same shape is cached the same way (before, it failed to compile:
/// a boxed future cannot be stored).
///
/// # Parameter patterns
///
/// A parameter written as a pattern (`(a, b): (i32, i32)`) is renamed `__cached_arg<N>` in the
/// emitted signature and destructured at the start of the body.
#[proc_macro_attribute]
pub fn cached(args: TokenStream, item: TokenStream) -> TokenStream {
    cached::expand(args.into(), item.into()).into()
}

/// Makes a record usable as a cache key, Rails style.
///
/// ```
/// use cache_core::{CacheKey, Micros};
///
/// #[derive(CacheKey)]
/// #[cache_key(prefix = "store", id = id, version = updated_at)]
/// struct Store { id: i64, updated_at: Micros, name: String }
///
/// let store = Store { id: 42, updated_at: Micros(1_732_700_000_123_456), name: "Main".into() };
/// assert_eq!(store.cache_key().as_str(), "store/42-1732700000123456");
/// ```
///
/// `#[cache_key(prefix = "…", id = field, version = field, crate = path)]`: `prefix` and `id`
/// are required. The derive implements `KeyPart` (writing the id, then the version in
/// microseconds) and an inherent `fn cache_key(&self) -> CacheKey`: `prefix/<id>-<µs>` via
/// `CacheKey::versioned` when `version` is given (any `VersionStamp`: `SystemTime`, `Micros`,
/// chrono's `DateTime` with cache-core's `chrono` feature), else `prefix/<id>` via
/// `CacheKey::record` (the same form without the stamp; earlier releases wrote `prefix:<id>`,
/// so such entries miss once after upgrading). Tuple structs name fields by index (`id = 0`).
#[proc_macro_derive(CacheKey, attributes(cache_key))]
pub fn derive_cache_key(input: TokenStream) -> TokenStream {
    derive_key::expand(input.into()).into()
}
