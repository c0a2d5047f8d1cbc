//! What the run records: every read, every write, every backplane delivery seen by our own
//! listener, every fault. All times are `Instant`s taken in this process.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use cache_core::RemoteEvent;
use parking_lot::Mutex;

/// Prefix of the marker keys writers publish after each write (no cache uses such a key).
pub const MARKER: &str = "coh-marker:";

/// One `get_or_load` call.
#[derive(Debug, Clone)]
pub struct Read {
    pub node: usize,
    pub row: u32,
    pub start: Instant,
    pub end: Instant,
    pub version: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteKind {
    Invalidate,
    Set,
    InvalidateTag,
}

/// One write: the model row `row` was bumped to `version`, then the cache call ran.
#[derive(Debug, Clone)]
pub struct Write {
    /// Also the marker id.
    pub id: u64,
    pub node: usize,
    /// The row bumped (for a tag invalidation: the one row of the group that changed).
    pub row: u32,
    pub kind: WriteKind,
    pub start: Instant,
    pub end: Instant,
    pub version: u64,
    /// The tier queued something for replay during this write, so the write's own event may
    /// have been published after the marker (see `checker::REPLAY_SLACK`).
    pub queued: bool,
}

/// One injected fault.
#[derive(Debug, Clone)]
pub struct Fault {
    pub kind: &'static str,
    pub start: Instant,
    pub end: Instant,
}

#[derive(Debug)]
pub struct History {
    pub t0: Instant,
    pub nodes: usize,
    pub reads: Vec<Read>,
    pub writes: Vec<Write>,
    /// (marker id, node) → when our listener on that node saw the marker.
    pub markers: HashMap<(u64, usize), Instant>,
    /// Per node: when our listener saw `RemoteEvent::Clear` (sorted, as recorded).
    pub clears: Vec<Vec<Instant>>,
    /// Per node: other events delivered (the writes' own invalidations), for the summary.
    pub events: Vec<u64>,
    pub faults: Vec<Fault>,
    /// Per node: every non-marker event our listener saw, timestamped (for the context dump
    /// printed with a violation).
    pub log: Vec<(usize, Instant, RemoteEvent)>,
}

impl History {
    pub fn new(nodes: usize) -> History {
        History {
            t0: Instant::now(),
            nodes,
            reads: Vec::new(),
            writes: Vec::new(),
            markers: HashMap::new(),
            clears: vec![Vec::new(); nodes],
            events: vec![0; nodes],
            faults: Vec::new(),
            log: Vec::new(),
        }
    }

    /// Milliseconds since the start of the run, for printing.
    pub fn ms(&self, t: Instant) -> f64 {
        t.saturating_duration_since(self.t0).as_secs_f64() * 1e3
    }
}

/// The shared, lock-protected history the tasks append to.
#[derive(Clone)]
pub struct Recorder(pub Arc<Mutex<History>>);

impl Recorder {
    pub fn new(nodes: usize) -> Recorder {
        Recorder(Arc::new(Mutex::new(History::new(nodes))))
    }

    pub fn read(&self, read: Read) {
        self.0.lock().reads.push(read);
    }

    pub fn write(&self, write: Write) {
        self.0.lock().writes.push(write);
    }

    pub fn fault(&self, fault: Fault) {
        self.0.lock().faults.push(fault);
    }

    /// Called from our backplane listener on `node`. It was registered after the cache's own
    /// listener, and listeners run in registration order, so when this runs the cache has
    /// already applied the event: the recorded time is an upper bound of the delivery.
    pub fn delivered(&self, node: usize, event: RemoteEvent) {
        let at = Instant::now();
        let mut history = self.0.lock();
        if !matches!(&event, RemoteEvent::Invalidate(key) if key.starts_with(MARKER)) {
            history.log.push((node, at, event.clone()));
        }
        match event {
            RemoteEvent::Clear => history.clears[node].push(at),
            RemoteEvent::Invalidate(key) if key.starts_with(MARKER) => {
                if let Ok(id) = key[MARKER.len()..].parse() {
                    history.markers.entry((id, node)).or_insert(at);
                }
            }
            _ => history.events[node] += 1,
        }
    }
}
