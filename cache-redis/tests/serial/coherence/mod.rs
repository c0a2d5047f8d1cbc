//! A Jepsen-style history checker for cache coherence across nodes, under Redis faults.
//!
//! Several `Cache` nodes (each with its own `RedisTier` and local tier) read rows of a model
//! database through `get_or_load` while writers bump rows and `invalidate`, `set` or
//! `invalidate_tag`, and a fault task kills, freezes, fails over Redis and cuts the backplane.
//! Every operation and every backplane delivery is recorded; `checker` then finds each read
//! that returned a version the contract says must be gone:
//!
//! 1. same node: once `invalidate`/`invalidate_tag`/`set` returned, no read starting afterwards
//!    returns a value whose load began before the call;
//! 2. other nodes: the same once that node's backplane delivered the event;
//! 3. no stale sets in Redis: shows up as 1/2 and in the final sweep.
//!
//! `cargo test -p cache-redis --test serial coherence::` runs each scenario ~25 s;
//! `COHERENCE_SOAK_SECS=300` runs each for 300 s. Needs `redis-server` and `redis-cli`.

mod checker;
mod faults;
mod harness;
mod history;
mod model;
mod proxy;

use std::sync::Arc;
use std::time::Duration;

use cache_redis::RedisTier;
use cache_redis::test_support::RedisCluster;

use faults::{ClusterFaults, Failover};
use harness::{Outcome, Plan};
use history::Recorder;
use model::{node, tune};

// The scenarios share two cores with other builds; they run one after the other (and apart
// from every other test of this binary).
use crate::SERIAL;

fn verdict(name: &str, outcome: &Outcome) {
    eprintln!(
        "{}",
        checker::summary(name, &outcome.history, &outcome.violations, &outcome.sweep)
    );
    assert!(
        outcome.violations.is_empty() && outcome.sweep.is_empty(),
        "{name}: {} stale reads, {} stale entries after the run (summary above)",
        outcome.violations.len(),
        outcome.sweep.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_node_with_kills_pauses_pubsub_kills_and_failover() {
    let _serial = SERIAL.lock().await;
    let mut faults = Failover::start().await;
    let recorder = Recorder::new(3);
    let mut nodes = Vec::new();
    for index in 0..3 {
        let tier = tune(RedisTier::builder(&faults.proxy.url()))
            .connect()
            .await
            .expect("connect through the proxy");
        nodes.push(node(index, tier, &recorder));
    }
    let plan = Plan {
        name: "single node + replica behind a failover proxy",
        duration: Plan::duration(Duration::from_secs(25)),
        readers_per_node: 4,
        writers_per_node: 2,
        // One connection per tier to one server: PUBLISH order is delivery order.
        slack: Duration::ZERO,
    };
    let outcome = harness::run(&plan, &nodes, &recorder, &mut faults).await;
    verdict(plan.name, &outcome);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_with_node_kills_pauses_and_pubsub_kills() {
    let _serial = SERIAL.lock().await;
    // Nodes keep their data across a kill (AOF, fsync always), as a production Cluster does
    // through persistence or replicas. A master that restarts *empty* loses the tag sets it
    // held, and entries on other masters tagged with them then outlive `invalidate_tag` until
    // their TTL: a documented limit of set-based tags, not something fencing can repair.
    let persistent = ["--appendonly", "yes", "--appendfsync", "always"];
    let cluster = Arc::new(
        tokio::task::spawn_blocking(move || RedisCluster::start_with(&persistent))
            .await
            .unwrap(),
    );
    let recorder = Recorder::new(3);
    let mut nodes = Vec::new();
    for index in 0..3 {
        // Rotate the seeds so each node's subscriber sits on a different cluster node.
        let mut urls = cluster.urls();
        urls.rotate_left(index);
        let tier = tune(RedisTier::cluster_builder(&urls))
            .connect()
            .await
            .expect("connect to the cluster");
        nodes.push(node(index, tier, &recorder));
    }
    let plan = Plan {
        name: "3-node cluster",
        duration: Plan::duration(Duration::from_secs(25)),
        readers_per_node: 4,
        writers_per_node: 2,
        // A write's PUBLISH and its marker's may go through different cluster nodes and cross
        // the cluster bus separately, so FIFO does not hold; 50 ms covers the bus on loopback.
        slack: Duration::from_millis(50),
    };
    let mut faults = ClusterFaults { cluster };
    let outcome = harness::run(&plan, &nodes, &recorder, &mut faults).await;
    verdict(plan.name, &outcome);
}
