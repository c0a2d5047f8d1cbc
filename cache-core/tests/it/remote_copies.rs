//! A value read from the remote tier is copied only for someone who keeps or awaits it: with
//! no tier above and no caller waiting on the flight, the decoded value is returned as is.

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};

use cache_core::tier::memory::MemoryRemote;
use cache_core::{CacheKey, Options, request_scope};
use serde::{Deserialize, Serialize};

/// Clones of [`Counted`] so far (only the test below uses the type).
static CLONES: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Counted(String);

impl Clone for Counted {
    fn clone(&self) -> Counted {
        CLONES.fetch_add(1, Ordering::SeqCst);
        Counted(self.0.clone())
    }
}

#[tokio::test]
async fn a_remote_hit_with_no_tier_above_and_no_waiter_clones_nothing() {
    let remote = MemoryRemote::new();
    let cache = common::remote_only(&remote);
    let key = CacheKey::new("copies", &1);
    let opts = Options::new();
    cache.set(&key, &Counted("Seoul".into()), &opts).await;
    let before = CLONES.load(Ordering::SeqCst);
    let got: Result<Counted, String> = cache
        .get_or_load(&key, &opts, || async { Err("not loaded".to_string()) })
        .await;
    assert_eq!(got, Ok(Counted("Seoul".into())));
    assert_eq!(remote.get_count(), 1, "served by the remote tier");
    assert_eq!(
        CLONES.load(Ordering::SeqCst) - before,
        0,
        "the decoded value was copied for nobody"
    );
}

#[tokio::test]
async fn inside_a_request_scope_a_remote_hit_is_still_kept_for_the_next_read() {
    let remote = MemoryRemote::new();
    let cache = common::remote_only(&remote);
    let key = CacheKey::new("copies", &2);
    let opts = Options::new();
    cache.set(&key, &"Busan".to_string(), &opts).await;
    let reads = request_scope(async {
        let mut reads = Vec::new();
        for _ in 0..2 {
            let got: Result<String, String> = cache
                .get_or_load(&key, &opts, || async { Err("not loaded".to_string()) })
                .await;
            reads.push(got);
        }
        reads
    })
    .await;
    assert_eq!(
        reads,
        vec![Ok("Busan".to_string()), Ok("Busan".to_string())]
    );
    assert_eq!(
        remote.get_count(),
        1,
        "the second read was served by the request tier"
    );
}
