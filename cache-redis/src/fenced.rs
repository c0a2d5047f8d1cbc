//! Fenced values: every entry carries the token of the write that stored it, and a lease is a
//! token stored under the key itself, so one key (one Cluster slot) holds everything a fill
//! must check.
//!
//! # Layout
//!
//! | value | bytes |
//! |---|---|
//! | entry | `0xF1`, 16-byte token, envelope |
//! | lease | `0xF2`, 16-byte token |
//! | entry written before fencing | envelope (starts with its own format byte, `0xC1`) |
//!
//! The first 17 bytes (the *head*) identify a write or a lease. A fill sends the head it
//! expects and a Lua script compares it with `GETRANGE key 0 16` before writing, so the check
//! and the write are one atomic round trip and never read the whole value. An invalidation
//! (`UNLINK`), an authoritative write, a tag invalidation, the lease's expiry or a server
//! restart all change or remove the head, so a fill that began before them cannot land.

use std::sync::LazyLock;

use cache_core::{Stored, Token};
use redis::Script;

/// First byte of a fenced entry.
const ENTRY: u8 = 0xF1;
/// First byte of a lease.
const LEASE: u8 = 0xF2;
/// Length of the head: marker byte plus token.
pub const HEAD_LEN: usize = 17;

/// The head of an entry written with `token`.
pub(crate) fn entry_head(token: Token) -> [u8; HEAD_LEN] {
    head(ENTRY, token)
}

/// The value of a lease held with `token`.
pub(crate) fn lease_head(token: Token) -> [u8; HEAD_LEN] {
    head(LEASE, token)
}

fn head(marker: u8, token: Token) -> [u8; HEAD_LEN] {
    let mut out = [0; HEAD_LEN];
    out[0] = marker;
    out[1..].copy_from_slice(&token.to_bytes());
    out
}

/// `envelope` as stored by the write `token`.
pub(crate) fn entry_value(token: Token, envelope: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEAD_LEN + envelope.len());
    out.extend_from_slice(&entry_head(token));
    out.extend_from_slice(envelope);
    out
}

/// What a value read from Redis is: an entry (envelope and write token), a lease, or bytes
/// to hand to the codec as they are.
///
/// ```
/// use cache_core::Stored;
/// assert_eq!(cache_redis::fenced::parse(vec![0xC1]), Stored::Entry(vec![0xC1], None));
/// ```
pub fn parse(mut bytes: Vec<u8>) -> Stored {
    let token = |bytes: &[u8]| {
        let raw: [u8; 16] = bytes[1..HEAD_LEN].try_into().unwrap_or([0; 16]);
        Token::from_bytes(raw)
    };
    match bytes.first() {
        Some(&ENTRY) if bytes.len() >= HEAD_LEN => {
            let token = token(&bytes);
            bytes.drain(..HEAD_LEN);
            Stored::Entry(bytes, Some(token))
        }
        Some(&LEASE) if bytes.len() == HEAD_LEN => Stored::Leased(token(&bytes)),
        // Not ours to interpret: the codec decides (an old envelope, or corrupt bytes that
        // are counted and deleted).
        _ => Stored::Entry(bytes, None),
    }
}

/// The envelope of a value read from Redis (what [`cache_core::Codec`] decodes), or `None`
/// for a lease.
pub fn envelope(bytes: Vec<u8>) -> Option<Vec<u8>> {
    parse(bytes).into_entry()
}

/// Sets the tag sets `KEYS[first..]` to contain `KEYS[1]` and live at least `ttl` ms.
const INDEX_TAGS: &str = r"
local function index(first, ttl)
    for i = first, #KEYS do
        redis.call('SADD', KEYS[i], KEYS[1])
        if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
    end
end
";

/// `KEYS[1]` entry, `KEYS[2..]` tag sets (single node only); `ARGV[1]` value, `ARGV[2]` TTL
/// in ms, `ARGV[3]` the head that must still be in place. 1 if written, 0 if fenced out.
pub(crate) static FILL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"{INDEX_TAGS}
if redis.call('GETRANGE', KEYS[1], 0, 16) ~= ARGV[3] then return 0 end
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
index(2, ttl)
return 1"
    ))
});

/// `KEYS[1]` entry, `KEYS[2..]` tag sets (single node only); `ARGV[1]` lease head, `ARGV[2]`
/// TTL in ms, `ARGV[3]` a lease head to take over, or empty. Takes the lease if the key is
/// absent (or holds the lease to take over): 1, else 0.
pub(crate) static LEASE_SCRIPT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"{INDEX_TAGS}
local head = redis.call('GETRANGE', KEYS[1], 0, 16)
if head ~= '' and head ~= ARGV[3] then return 0 end
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
index(2, ttl)
return 1"
    ))
});

/// `KEYS[1]` entry; `ARGV[1]` lease head. Deletes the key only while it holds that lease.
pub(crate) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GETRANGE', KEYS[1], 0, 16) == ARGV[1] then
    return redis.call('UNLINK', KEYS[1])
end
return 0",
    )
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_foreign_bytes_are_left_to_the_codec() {
        let token = Token::new(3, 9);
        assert_eq!(
            parse(entry_value(token, b"envelope")),
            Stored::Entry(b"envelope".to_vec(), Some(token))
        );
        assert_eq!(parse(lease_head(token).to_vec()), Stored::Leased(token));
        assert_eq!(
            parse(vec![0xC1, 1, 2]),
            Stored::Entry(vec![0xC1, 1, 2], None)
        );
        assert_eq!(parse(vec![ENTRY, 1]), Stored::Entry(vec![ENTRY, 1], None));
        assert_eq!(envelope(lease_head(token).to_vec()), None);
    }
}
