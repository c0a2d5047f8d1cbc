//! The backplane's frames: what goes over the channel, and [`Wire`], a hashable copy of an
//! event for the recovery queue.
//!
//! A frame is UTF-8 text `1|<kind>|<origin>|<payload>`: version `1`; kind `K` (drop the key in
//! `payload`), `T` (drop entries tagged `payload`), `C` (drop everything, empty payload), `G`
//! (the namespace was cleared into a new generation: payload `<generation>|<namespace prefix>`)
//! or `F` (the flag hash named in `payload` changed: re-read it); `origin` is the sending tier's
//! random node id, so a node ignores its own cache frames. The payload is everything after the
//! third `|` and may itself contain `|`. Frames that do not parse are ignored, so a node of an
//! older release ignores `G` frames (and re-reads nothing); older frames decode unchanged.

use cache_core::RemoteEvent;

/// A frame as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A cache invalidation from node `origin`.
    Event {
        /// The sending tier's node id.
        origin: String,
        /// What to drop.
        event: RemoteEvent,
    },
    /// A flag hash changed. Every node re-reads it, the sender included (its frame confirms
    /// the change reached Redis); the hash is not named because a nudge re-reads them all.
    FlagChange,
}

impl Frame {
    /// The frame in `bytes`, or `None` if it is not a version-1 frame.
    pub(crate) fn parse(bytes: &[u8]) -> Option<Frame> {
        if bytes.starts_with(b"1|F|") {
            return Some(Frame::FlagChange);
        }
        let (origin, event) = decode(bytes)?;
        Some(Frame::Event { origin, event })
    }
}

/// The frame announcing `event` from node `origin`.
pub fn encode(event: &RemoteEvent, origin: &str) -> String {
    let (kind, payload) = match event {
        RemoteEvent::Invalidate(key) => ('K', key.as_str()),
        RemoteEvent::InvalidateTag(tag) => ('T', tag.as_str()),
        RemoteEvent::Clear => ('C', ""),
        RemoteEvent::Cleared {
            namespace,
            generation,
        } => return format!("1|G|{origin}|{generation}|{namespace}"),
    };
    format!("1|{kind}|{origin}|{payload}")
}

/// The frame announcing a change of the flag hash `hash` by node `origin`.
pub(crate) fn encode_flag_change(origin: &str, hash: &str) -> String {
    format!("1|F|{origin}|{hash}")
}

/// The origin and event of a cache frame, or `None` if it is not a version-1 cache frame
/// (flag-change frames included).
pub fn decode(frame: &[u8]) -> Option<(String, RemoteEvent)> {
    let text = std::str::from_utf8(frame).ok()?;
    let mut parts = text.splitn(4, '|');
    let (version, kind, origin, payload) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if version != "1" || origin.is_empty() {
        return None;
    }
    let event = match kind {
        "K" => RemoteEvent::Invalidate(payload.to_string()),
        "T" => RemoteEvent::InvalidateTag(payload.to_string()),
        "C" => RemoteEvent::Clear,
        "G" => {
            // The generation first: it has no `|`, the namespace may.
            let (generation, namespace) = payload.split_once('|')?;
            RemoteEvent::Cleared {
                namespace: namespace.to_string(),
                generation: generation.parse().ok()?,
            }
        }
        _ => return None,
    };
    Some((origin.to_string(), event))
}

/// A hashable copy of a [`RemoteEvent`], for de-duplicating queued announcements.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Wire {
    Invalidate(String),
    InvalidateTag(String),
    Clear,
    Cleared(String, u64),
}

impl From<&RemoteEvent> for Wire {
    fn from(event: &RemoteEvent) -> Wire {
        match event {
            RemoteEvent::Invalidate(k) => Wire::Invalidate(k.clone()),
            RemoteEvent::InvalidateTag(t) => Wire::InvalidateTag(t.clone()),
            RemoteEvent::Clear => Wire::Clear,
            RemoteEvent::Cleared {
                namespace,
                generation,
            } => Wire::Cleared(namespace.clone(), *generation),
        }
    }
}

impl From<Wire> for RemoteEvent {
    fn from(wire: Wire) -> RemoteEvent {
        match wire {
            Wire::Invalidate(k) => RemoteEvent::Invalidate(k),
            Wire::InvalidateTag(t) => RemoteEvent::InvalidateTag(t),
            Wire::Clear => RemoteEvent::Clear,
            Wire::Cleared(namespace, generation) => RemoteEvent::Cleared {
                namespace,
                generation,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_garbage_is_ignored() {
        for event in [
            RemoteEvent::Invalidate("ns:a|b".into()),
            RemoteEvent::InvalidateTag("chain:7".into()),
            RemoteEvent::Clear,
            RemoteEvent::Cleared {
                namespace: "a|pp:".into(),
                generation: 7,
            },
        ] {
            let frame = encode(&event, "abc");
            assert_eq!(decode(frame.as_bytes()), Some(("abc".into(), event)));
        }
        assert_eq!(
            encode(&RemoteEvent::Clear, "n"),
            "1|C|n|",
            "frames of older releases keep their form"
        );
        for bad in [
            "",
            "1|K|",
            "2|K|n|k",
            "1|X|n|k",
            "1|K||k",
            "1|G|n|x|app:",
            "1|G|n|3",
        ] {
            assert_eq!(decode(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(decode(&[0xff, 0xfe]), None);
    }

    #[test]
    fn flag_change_frames_are_frames_of_their_own() {
        let frame = encode_flag_change("n1", "app:flags");
        assert_eq!(frame, "1|F|n1|app:flags");
        assert_eq!(Frame::parse(frame.as_bytes()), Some(Frame::FlagChange));
        assert_eq!(decode(frame.as_bytes()), None, "not a cache event");
        assert_eq!(
            Frame::parse(b"1|C|n1|"),
            Some(Frame::Event {
                origin: "n1".into(),
                event: RemoteEvent::Clear
            })
        );
    }
}
