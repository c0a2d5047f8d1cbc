//! The entry points of a `#[cached(batch)]` call: adapters over [`Cache::get_or_load_many`]
//! that answer with a map of the ids found, like the function they cache.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;

use super::bounds::{CachedValue, SharedError};
use super::load::Infallible;
use crate::{Cache, CacheKey, Options};

/// `Result<HashMap<I, T>, E>`: caches every returned value per id, returns `Err` uncached.
pub async fn load_batch<I, T, E, K, F, Fut>(
    cache: &Cache,
    ids: impl IntoIterator<Item = I>,
    key_of: K,
    opts: &Options,
    load: F,
) -> Result<HashMap<I, T>, E>
where
    I: Clone + Eq + Hash,
    T: CachedValue,
    E: SharedError,
    K: Fn(&I) -> CacheKey,
    F: FnMut(Vec<I>) -> Fut,
    Fut: Future<Output = Result<HashMap<I, T>, E>>,
{
    let ids: Vec<I> = ids.into_iter().collect();
    let found = cache
        .get_or_load_many(ids.iter().cloned(), key_of, opts, load)
        .await?;
    let pairs = ids.into_iter().zip(found);
    Ok(pairs.filter_map(|(id, v)| Some((id, v?))).collect())
}

/// `HashMap<I, T>`: the same for a loader that cannot fail.
pub async fn load_batch_value<I, T, K, F, Fut>(
    cache: &Cache,
    ids: impl IntoIterator<Item = I>,
    key_of: K,
    opts: &Options,
    mut load: F,
) -> HashMap<I, T>
where
    I: Clone + Eq + Hash,
    T: CachedValue,
    K: Fn(&I) -> CacheKey,
    F: FnMut(Vec<I>) -> Fut,
    Fut: Future<Output = HashMap<I, T>>,
{
    let load = move |ids| {
        let loading = load(ids);
        async move { Ok::<_, Infallible>(loading.await) }
    };
    match load_batch(cache, ids, key_of, opts, load).await {
        Ok(found) => found,
        Err(never) => match never {},
    }
}
