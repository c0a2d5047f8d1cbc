//! A "database" for write-back tests: applies batches idempotently by id, with injectable
//! failures before and after its commit, and random latency.
#![allow(dead_code)]

pub mod proxy;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use cache_writeback::{Batch, FieldValue, Sink, SinkError};

#[derive(Debug, Default)]
pub struct Db {
    /// Ids of applied batches.
    pub applied: HashSet<String>,
    /// (entity, field) → sum of applied deltas.
    pub totals: HashMap<(String, String), i64>,
    /// (entity, field) → newest value by version.
    pub fields: HashMap<(String, String), FieldValue>,
    /// Deliveries of an already applied batch (ignored).
    pub repeats: u64,
    /// Deliveries refused before (`before`) and after (`after`) the commit.
    pub failed_before: u64,
    pub failed_after: u64,
    /// The largest attempt number seen.
    pub max_attempt: u32,
}

#[derive(Debug, Default)]
pub struct TestSink {
    pub db: Mutex<Db>,
    /// Probability of failing before applying.
    pub fail_before: f64,
    /// Probability of failing after applying (the commit happened, the reply was lost).
    pub fail_after: f64,
    /// Random latency up to this many milliseconds.
    pub max_delay_ms: u64,
}

impl TestSink {
    pub fn reliable() -> TestSink {
        TestSink::default()
    }

    pub fn flaky(fail_before: f64, fail_after: f64, max_delay_ms: u64) -> TestSink {
        TestSink {
            fail_before,
            fail_after,
            max_delay_ms,
            ..TestSink::default()
        }
    }

    /// Sum of every applied delta of `field`.
    pub fn total(&self, field: &str) -> i64 {
        let db = self.db.lock().unwrap();
        db.totals
            .iter()
            .filter(|((_, f), _)| f == field)
            .map(|(_, v)| v)
            .sum()
    }

    pub fn value(&self, entity: &str, field: &str) -> i64 {
        let db = self.db.lock().unwrap();
        db.totals
            .get(&(entity.to_string(), field.to_string()))
            .copied()
            .unwrap_or(0)
    }
}

#[async_trait::async_trait]
impl Sink for TestSink {
    async fn write(&self, batch: &Batch) -> Result<(), SinkError> {
        if self.max_delay_ms > 0 {
            let ms = fastrand::u64(0..=self.max_delay_ms);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if fastrand::f64() < self.fail_before {
            self.db.lock().unwrap().failed_before += 1;
            return Err(SinkError::new("injected failure before commit"));
        }
        {
            let mut db = self.db.lock().unwrap();
            db.max_attempt = db.max_attempt.max(batch.attempt);
            if !db.applied.insert(batch.id.clone()) {
                db.repeats += 1;
            } else {
                for (entity, changes) in &batch.entities {
                    for (field, delta) in &changes.deltas {
                        *db.totals
                            .entry((entity.clone(), field.clone()))
                            .or_default() += delta;
                    }
                    for (field, value) in &changes.fields {
                        let slot = db.fields.entry((entity.clone(), field.clone()));
                        let slot = slot.or_insert_with(|| FieldValue {
                            value: String::new(),
                            version: 0,
                        });
                        if value.version > slot.version {
                            *slot = value.clone();
                        }
                    }
                }
            }
        }
        if fastrand::f64() < self.fail_after {
            self.db.lock().unwrap().failed_after += 1;
            return Err(SinkError::new("injected failure after commit"));
        }
        Ok(())
    }
}
