//! The remote half of a batch's lookup: one `MGET` for every led key the upper tiers lacked,
//! then the stampede leases of the missing ones, taken concurrently so that they share one
//! round trip on a multiplexed connection, and concurrent waits for other nodes' loads.

use futures_util::future::join_all;

use super::super::Cache;
use super::super::freshness::Freshness;
use super::super::lease::{LeaseGuard, LeaseState, LeaseWait};
use super::super::read_remote::RemoteRead;
use super::super::store::{FillPlan, RemoteFill};
use super::lead::{Cold, Led};
use crate::metrics::{Event, Lookup};
use crate::stats::TierName;
use crate::tier::Ticket;
use crate::tier::remote::{Fence, Stored, Token};
use crate::{CacheKey, Cacheable, Options};

/// What a led key needs before it is loaded, after the remote read.
enum Need {
    /// Its lease (`Some`: replacing this process's orphaned one).
    Lease(Option<Token>),
    /// Another node is loading it: wait for its value or its lease.
    Wait,
    /// No lease: load it and fill the remote tier this way (a stale entry, a failed read).
    Fill(RemoteFill),
}

impl Cache {
    /// Answers (and completes the flights of) the led keys the remote tier has fresh; returns
    /// the others with the fence their fill needs, and apart the keys another node is loading
    /// (leased elsewhere), which the batch waits for *while* it loads its own: waiting first
    /// would let two nodes' overlapping batches each wait for the other until the leases
    /// expired, and then both load.
    pub(super) async fn lookup_remote<'a, I, S, E>(
        &'a self,
        keys: &[(I, CacheKey)],
        unknown: Vec<Led<'a>>,
        opts: &Options,
        ticket: Ticket,
        answers: &mut Vec<(usize, Option<S>)>,
    ) -> (Vec<Cold<'a>>, Vec<Led<'a>>)
    where
        S: Cacheable,
        E: Clone + Send + Sync + 'static,
    {
        let recorder = &self.inner.recorder;
        let key = |led: &Led<'_>| &keys[led.slot].1;
        let Some(remote) = self.remote_for(opts).filter(|_| !unknown.is_empty()) else {
            let cold = unknown.into_iter().map(|led| {
                recorder.record(Event::Miss);
                self.cold(key(&led), led, ticket, RemoteFill::Skip, LeaseState::Failed)
            });
            return (cold.collect(), Vec::new());
        };
        let wanted: Vec<&CacheKey> = unknown.iter().map(key).collect();
        let stored: Vec<Option<Stored>> = match remote.read_many(&wanted).await {
            Ok(stored) => stored.into_iter().map(Some).collect(),
            Err(_) => vec![None; unknown.len()],
        };
        let mut needs = Vec::new();
        for (led, stored) in unknown.into_iter().zip(stored) {
            let key = key(&led);
            let (lookup, need) = match stored {
                None => (Lookup::Error, Need::Fill(RemoteFill::Skip)),
                Some(Stored::Entry(bytes, token)) => match self
                    .decode_remote::<S>(&remote, key, opts, &bytes, token, ticket)
                    .await
                {
                    RemoteRead::Found(found, state) if state != Freshness::Stale => {
                        self.count_remote_lookup(key, Lookup::Hit);
                        recorder.record(Event::Served(TierName::Remote));
                        answers.push((led.slot, Some(found.value.clone())));
                        led.share(Ok::<S, E>(found.value));
                        continue;
                    }
                    // Reloaded with the batch, landing only while that entry is in place.
                    RemoteRead::Found(found, _) => (
                        Lookup::Stale,
                        Need::Fill(match found.token {
                            Some(token) => RemoteFill::Fenced(Fence::Entry(token)),
                            None => RemoteFill::Skip,
                        }),
                    ),
                    _ => (Lookup::Miss, Need::Lease(None)),
                },
                Some(Stored::Leased(token)) if self.is_own(token) => {
                    (Lookup::Miss, Need::Lease(Some(token)))
                }
                Some(Stored::Leased(_)) => (Lookup::Miss, Need::Wait),
                Some(Stored::Absent) => (Lookup::Miss, Need::Lease(None)),
            };
            self.count_remote_lookup(key, lookup);
            recorder.record(Event::Miss);
            needs.push((led, need));
        }
        let leases = join_all(needs.iter().map(|(led, need)| async move {
            match need {
                Need::Lease(takeover) => Some(self.take_lease(key(led), opts, *takeover).await),
                Need::Wait => Some(LeaseState::Elsewhere),
                Need::Fill(_) => None,
            }
        }))
        .await;
        let (mut cold, mut elsewhere) = (Vec::new(), Vec::new());
        for ((led, need), lease) in needs.into_iter().zip(leases) {
            let key = key(&led);
            match (need, lease) {
                (Need::Fill(fill), _) => {
                    cold.push(self.cold(key, led, ticket, fill, LeaseState::Failed));
                }
                (_, None) => {
                    let skip = RemoteFill::Skip;
                    cold.push(self.cold(key, led, ticket, skip, LeaseState::Failed));
                }
                (_, Some(LeaseState::Elsewhere)) => elsewhere.push(led),
                (_, Some(lease)) => cold.push(self.cold_with_lease(key, led, ticket, lease)),
            }
        }
        (cold, elsewhere)
    }

    /// Waits for another node's load of a key this batch leads in this process: its value
    /// answers the key (`Err` here); a lease that expired or was given up makes the key cold,
    /// to be loaded by this batch with the matching fence.
    pub(super) async fn wait_elsewhere<'a, S, E>(
        &'a self,
        key: &CacheKey,
        led: Led<'a>,
        opts: &Options,
        ticket: Ticket,
    ) -> Result<Cold<'a>, (usize, S)>
    where
        S: Cacheable,
        E: Clone + Send + Sync + 'static,
    {
        match self.await_other_process::<S>(key, opts).await {
            LeaseWait::Value(value) => {
                let slot = led.slot;
                led.share(Ok::<S, E>(value.clone()));
                Err((slot, value))
            }
            LeaseWait::Lease(lease) => Ok(self.cold_with_lease(key, led, ticket, lease)),
        }
    }

    /// A cold key whose fill is fenced by the lease state it ended with.
    fn cold_with_lease<'a>(
        &self,
        key: &CacheKey,
        led: Led<'a>,
        ticket: Ticket,
        lease: LeaseState,
    ) -> Cold<'a> {
        let fill = match lease {
            LeaseState::Held(token) => RemoteFill::Fenced(Fence::Lease(token)),
            // Read after the ticket (taken before the lookup): a clear in between fenced the
            // ticket, so a plain fill lands only in the generation current since.
            LeaseState::Unsupported => RemoteFill::Plain(self.generation_now()),
            LeaseState::Elsewhere | LeaseState::Failed => RemoteFill::Skip,
        };
        self.cold(key, led, ticket, fill, lease)
    }

    fn cold<'a>(
        &self,
        key: &CacheKey,
        led: Led<'a>,
        ticket: Ticket,
        remote: RemoteFill,
        lease: LeaseState,
    ) -> Cold<'a> {
        Cold {
            led,
            plan: FillPlan { ticket, remote },
            // Released if the load ends without filling the key, even by cancellation.
            lease: LeaseGuard::new(self, key, lease),
        }
    }
}
