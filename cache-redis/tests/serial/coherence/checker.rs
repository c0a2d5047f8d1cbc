//! The checker: which reads returned a value the contract says must be gone.
//!
//! A read R on node N of row r returning version v is stale if some write W of row r committed
//! a version n > v and W was *effective* on N before R started:
//! - rule 1, N is W's node: effective at `W.end` (the call returned);
//! - rule 2, another node: effective once N's backplane delivered W's event. Events carry no
//!   write id, so each writer publishes a marker through its own tier right after the write; on
//!   one connection to one Redis the marker is delivered after the event (FIFO), so the marker's
//!   delivery on N bounds the event's. A `Clear` on N after `W.end` (the subscription came back
//!   and N dropped everything) also makes W effective.
//!
//! v < n means the loader read the model before W bumped the row, i.e. before W's call began,
//! so a stale read is exactly "a value whose load began before the call". The check is sound
//! on any schedule: it only compares times this process recorded, never assumes a latency.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use super::history::{History, Read, Write, WriteKind};

/// Added to a marker's delivery when the write's tier queued operations for replay: the
/// writer publishes the marker once its queue drained, and the slack covers a replay by
/// another writer's queue racing with it.
pub const REPLAY_SLACK: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub struct Violation {
    /// 1: same node, 2: other node.
    pub rule: u8,
    pub read: Read,
    pub write: Write,
    pub effective: Instant,
}

/// When `write` became effective on `node`, or `None` if it never provably did (its marker was
/// never delivered there and no `Clear` followed). `slack` is added after a marker (Cluster:
/// the write's PUBLISH and the marker's may travel through different nodes).
pub fn effective(h: &History, write: &Write, node: usize, slack: Duration) -> Option<Instant> {
    if node == write.node {
        return Some(write.end);
    }
    let replay = if write.queued {
        REPLAY_SLACK
    } else {
        Duration::ZERO
    };
    let marker = h
        .markers
        .get(&(write.id, node))
        .map(|&t| t + slack + replay);
    // A `Clear` drops what a node may have missed, so a later read goes to Redis — which holds
    // the write's effect only if the write reached Redis before it returned. A queued write
    // reaches Redis at its replay, after which its marker is published: only the marker counts.
    let clear = h.clears[node]
        .iter()
        .filter(|&&t| t > write.end && !write.queued)
        .min()
        .copied();
    match (marker, clear) {
        (Some(m), Some(c)) => Some(m.min(c)),
        (m, c) => m.or(c),
    }
}

/// A write and when it became effective on each node.
type Timed<'a> = (&'a Write, Vec<Option<Instant>>);

/// Every stale read, at most one per read (the write with the highest version it missed; a
/// same-node write is preferred, so rule 1 wins when both apply).
pub fn check(h: &History, slack: Duration) -> Vec<Violation> {
    let rows = h.writes.iter().map(|w| w.row + 1).max().unwrap_or(0) as usize;
    let mut by_row: Vec<Vec<Timed>> = vec![Vec::new(); rows];
    for w in &h.writes {
        let eff = (0..h.nodes).map(|n| effective(h, w, n, slack)).collect();
        by_row[w.row as usize].push((w, eff));
    }
    let mut out = Vec::new();
    for read in &h.reads {
        let Some(writes) = by_row.get(read.row as usize) else {
            continue;
        };
        let worst = writes
            .iter()
            .filter(|(w, eff)| {
                w.version > read.version && eff[read.node].is_some_and(|t| t < read.start)
            })
            .max_by_key(|(w, _)| (w.node == read.node, w.version));
        if let Some((w, eff)) = worst {
            out.push(Violation {
                rule: if w.node == read.node { 1 } else { 2 },
                read: read.clone(),
                write: (*w).clone(),
                effective: eff[read.node].expect("filtered on Some"),
            });
        }
    }
    out
}

/// Markers some other node never saw (expected: a few lost while a subscription was down).
pub fn undelivered_markers(h: &History) -> usize {
    h.writes
        .iter()
        .map(|w| {
            (0..h.nodes)
                .filter(|&n| n != w.node && !h.markers.contains_key(&(w.id, n)))
                .count()
        })
        .sum()
}

/// One line per violation, times in ms since the start of the run.
pub fn describe(h: &History, v: &Violation) -> String {
    format!(
        "rule {} node {} row {}: read [{:.1}, {:.1}] ms returned v{}, but {:?} v{} by node {} \
         [{:.1}, {:.1}] ms{} was effective here at {:.1} ms",
        v.rule,
        v.read.node,
        v.read.row,
        h.ms(v.read.start),
        h.ms(v.read.end),
        v.read.version,
        v.write.kind,
        v.write.version,
        v.write.node,
        h.ms(v.write.start),
        h.ms(v.write.end),
        if v.write.queued { " (queued)" } else { "" },
        h.ms(v.effective),
    )
}

/// The summary table printed after every run.
pub fn summary(name: &str, h: &History, violations: &[Violation], sweep: &[String]) -> String {
    let mut s = String::new();
    let count = |k: WriteKind| h.writes.iter().filter(|w| w.kind == k).count();
    let rule = |r: u8| violations.iter().filter(|v| v.rule == r).count();
    let mut faults: Vec<(&str, usize)> = Vec::new();
    for f in &h.faults {
        match faults.iter_mut().find(|(k, _)| *k == f.kind) {
            Some((_, n)) => *n += 1,
            None => faults.push((f.kind, 1)),
        }
    }
    let _ = writeln!(s, "==== coherence: {name} ====");
    let _ = writeln!(s, "nodes                 {}", h.nodes);
    let _ = writeln!(
        s,
        "operations            {}",
        h.reads.len() + h.writes.len()
    );
    let _ = writeln!(s, "reads                 {}", h.reads.len());
    let _ = writeln!(
        s,
        "writes                {} (invalidate {}, set {}, invalidate_tag {}; queued {})",
        h.writes.len(),
        count(WriteKind::Invalidate),
        count(WriteKind::Set),
        count(WriteKind::InvalidateTag),
        h.writes.iter().filter(|w| w.queued).count()
    );
    let _ = writeln!(s, "faults                {} {faults:?}", h.faults.len());
    let _ = writeln!(s, "events delivered      {:?} per node", h.events);
    let _ = writeln!(
        s,
        "clears delivered      {:?} per node",
        h.clears.iter().map(Vec::len).collect::<Vec<_>>()
    );
    let _ = writeln!(s, "markers undelivered   {}", undelivered_markers(h));
    let _ = writeln!(
        s,
        "violations            {} (rule 1 same node {}, rule 2 other node {})",
        violations.len(),
        rule(1),
        rule(2)
    );
    for kind in [
        WriteKind::Invalidate,
        WriteKind::Set,
        WriteKind::InvalidateTag,
    ] {
        let of = violations.iter().filter(|v| v.write.kind == kind);
        let _ = writeln!(s, "  missed {kind:?}: {}", of.count());
    }
    // Stale reads not during a fault or its aftermath: the engine's races, not recovery's.
    let calm = violations
        .iter()
        .filter(|v| {
            let near = |f: &super::history::Fault| {
                v.read.start >= f.start && v.read.start <= f.end + Duration::from_secs(2)
            };
            !h.faults.iter().any(near)
        })
        .count();
    let _ = writeln!(s, "  not during a fault or the 2 s after: {calm}");
    let queued = violations.iter().filter(|v| v.write.queued).count();
    let _ = writeln!(s, "  missed a queued write: {queued}");
    let _ = writeln!(s, "sweep violations      {}", sweep.len());
    for r in [1, 2] {
        for v in violations.iter().filter(|v| v.rule == r).take(4) {
            let _ = writeln!(s, "  {}", describe(h, v));
        }
    }
    if let Some(first) = violations.first() {
        let _ = write!(s, "{}", context(h, first));
    }
    for line in sweep.iter().take(8) {
        let _ = writeln!(s, "  sweep: {line}");
    }
    for f in &h.faults {
        let _ = writeln!(
            s,
            "  fault {:>10.1} – {:>10.1} ms  {}",
            h.ms(f.start),
            h.ms(f.end),
            f.kind
        );
    }
    s
}

/// Everything recorded about the row of `v` around the moment it was violated: the writes of
/// its row and tag group, the reads of the row (runs of equal answers merged) and the events
/// the nodes heard for it. Printed with the first violation, to tell one cause from another.
pub fn context(h: &History, v: &Violation) -> String {
    use super::model::{GROUP, key, tag};
    let mut s = String::new();
    let (from, to) = (
        v.effective - Duration::from_millis(2000),
        v.effective + Duration::from_millis(600),
    );
    let within = |t: Instant| t >= from && t <= to;
    let row = v.read.row;
    let _ = writeln!(
        s,
        "---- context of row {row} [{:.1}, {:.1}] ms ----",
        h.ms(from),
        h.ms(to)
    );
    for w in &h.writes {
        let same_group = w.row / GROUP == row / GROUP;
        if (w.row == row || (same_group && w.kind == WriteKind::InvalidateTag))
            && (within(w.start) || within(w.end))
        {
            let _ = writeln!(
                s,
                "  write #{} node {} row {} {:?} v{} [{:.1}, {:.1}]{}",
                w.id,
                w.node,
                w.row,
                w.kind,
                w.version,
                h.ms(w.start),
                h.ms(w.end),
                if w.queued { " queued" } else { "" }
            );
        }
    }
    let (row_key, row_tag) = (key(row).as_str().to_string(), tag(row));
    for (node, at, event) in &h.log {
        let relevant = match event {
            cache_core::RemoteEvent::Invalidate(k) => k.ends_with(&row_key),
            cache_core::RemoteEvent::InvalidateTag(t) => t.ends_with(&row_tag),
            cache_core::RemoteEvent::Clear | cache_core::RemoteEvent::Cleared { .. } => true,
        };
        if relevant && within(*at) {
            let _ = writeln!(s, "  event node {node} at {:.1}: {event:?}", h.ms(*at));
        }
    }
    let mut reads: Vec<_> = h
        .reads
        .iter()
        .filter(|r| r.row == row && within(r.start))
        .collect();
    reads.sort_by_key(|r| r.start);
    let mut last = vec![None; h.nodes];
    for r in reads {
        if last[r.node] == Some(r.version) {
            continue;
        }
        last[r.node] = Some(r.version);
        let _ = writeln!(
            s,
            "  read node {} v{} [{:.1}, {:.1}]",
            r.node,
            r.version,
            h.ms(r.start),
            h.ms(r.end)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: &History, ms: u64) -> Instant {
        h.t0 + Duration::from_millis(ms)
    }

    /// Two nodes, one row: node 0 invalidates (v1) at [10, 20]; the marker reaches node 1 at 30.
    fn history() -> History {
        let mut h = History::new(2);
        let write = Write {
            id: 7,
            node: 0,
            row: 0,
            kind: WriteKind::Invalidate,
            start: at(&h, 10),
            end: at(&h, 20),
            version: 1,
            queued: false,
        };
        h.writes.push(write);
        h.markers.insert((7, 1), at(&h, 30));
        let read = |node, start, version| Read {
            node,
            row: 0,
            start: at(&h, start),
            end: at(&h, start + 5),
            version,
        };
        h.reads.extend([
            read(0, 5, 0),  // began before the write: old value allowed
            read(0, 25, 1), // after, new value
            read(1, 25, 0), // other node, before the marker: old value allowed
            read(1, 35, 1), // other node, after the marker, new value
        ]);
        h
    }

    #[test]
    fn a_clean_history_has_no_violation() {
        let h = history();
        assert!(check(&h, Duration::ZERO).is_empty());
        assert_eq!(undelivered_markers(&h), 0);
    }

    #[test]
    fn one_stale_read_on_the_writing_node_is_one_rule_1_violation() {
        let mut h = history();
        h.reads.push(Read {
            node: 0,
            row: 0,
            start: at(&h, 21),
            end: at(&h, 22),
            version: 0,
        });
        let found = check(&h, Duration::ZERO);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].rule, found[0].write.id), (1, 7));
    }

    #[test]
    fn one_stale_read_on_another_node_is_one_rule_2_violation_unless_within_slack() {
        let mut h = history();
        h.reads.push(Read {
            node: 1,
            row: 0,
            start: at(&h, 40),
            end: at(&h, 41),
            version: 0,
        });
        let found = check(&h, Duration::ZERO);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, 2);
        assert!(check(&h, Duration::from_millis(50)).is_empty());
    }

    #[test]
    fn a_clear_after_the_write_makes_it_effective_without_a_marker() {
        let mut h = history();
        h.markers.clear();
        h.reads.push(Read {
            node: 1,
            row: 0,
            start: at(&h, 60),
            end: at(&h, 61),
            version: 0,
        });
        assert!(check(&h, Duration::ZERO).is_empty(), "never effective yet");
        let clear = at(&h, 50);
        h.clears[1].push(clear);
        assert_eq!(check(&h, Duration::ZERO).len(), 1);
        assert_eq!(undelivered_markers(&h), 1);
    }
}
