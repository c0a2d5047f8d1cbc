//! Keys being refreshed right now: one refresher per stale entry, everyone else served the
//! stale value meanwhile.

use std::collections::HashSet;

use parking_lot::Mutex;

use crate::CacheKey;

/// Keys being refreshed right now; the first caller to find an entry stale refreshes it and
/// everyone else is served the stale value.
#[derive(Default)]
pub(crate) struct RefreshSet {
    keys: Mutex<HashSet<CacheKey>>,
}

pub(crate) struct RefreshGuard<'a> {
    set: &'a RefreshSet,
    key: CacheKey,
}

impl RefreshSet {
    pub(crate) fn try_acquire(&self, key: &CacheKey) -> Option<RefreshGuard<'_>> {
        self.keys.lock().insert(key.clone()).then(|| RefreshGuard {
            set: self,
            key: key.clone(),
        })
    }
}

impl Drop for RefreshGuard<'_> {
    fn drop(&mut self) {
        self.set.keys.lock().remove(&self.key);
    }
}
