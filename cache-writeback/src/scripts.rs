//! The Lua scripts. Each runs on one shard: every key it touches carries the shard's hash tag,
//! and `KEYS[1]` routes it on a Cluster. Scripts run atomically, which is what makes the
//! seed-003 race impossible: a claim reads an entity's pending changes and deletes them in
//! the same step, so an increment lands either before the claim (and is in the batch) or
//! after it (and stays pending), never in between.

use std::ops::Deref;
use std::sync::LazyLock;

use redis::Script;

/// Helpers every script starts with.
const PRELUDE: &str = r"
local function now_ms()
    local t = redis.call('TIME')
    return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function int(n) return string.format('%.0f', n) end
-- Replicas online right now: what `WAIT` must reach in auto mode. One still loading its
-- first sync cannot acknowledge (nor usefully be promoted), so it does not count yet.
local function replicas()
    local _, online = string.gsub(redis.call('INFO', 'replication'), 'state=online', '')
    return tostring(online)
end
-- The shard's epoch: created when missing (first use, or Redis lost the shard's state).
local function epoch(state, candidate, ttl)
    local e = redis.call('HGET', state, 'epoch')
    if not e then
        e = candidate
        redis.call('HSET', state, 'epoch', e)
    end
    redis.call('PEXPIRE', state, ttl)
    return e
end
-- Dirty entities, batches in flight, and the first-dirty time of the oldest pending change.
local function backlog(tag, dirty, inflight, now)
    local oldest = now
    local first = redis.call('ZRANGE', dirty, 0, 0, 'WITHSCORES')
    if first[2] then oldest = math.min(oldest, tonumber(first[2])) end
    for _, id in ipairs(redis.call('ZRANGE', inflight, 0, -1)) do
        local since = redis.call('HGET', tag .. ':b:' .. id, 'm:since')
        if since then oldest = math.min(oldest, tonumber(since)) end
    end
    return {int(redis.call('ZCARD', dirty)), int(redis.call('ZCARD', inflight)), int(oldest), int(now)}
end
";

/// A script and its source: `SCRIPT LOAD` needs the source when a pipeline's `EVALSHA`
/// meets `NOSCRIPT` (a pipeline cannot load and retry on its own).
pub(crate) struct Lua {
    script: Script,
    pub(crate) source: String,
}

impl Deref for Lua {
    type Target = Script;
    fn deref(&self) -> &Script {
        &self.script
    }
}

fn script(body: &str) -> Lua {
    let source = format!("{PRELUDE}\n{body}");
    Lua {
        script: Script::new(&source),
        source,
    }
}

/// `KEYS`: live hash, dirty set, state. `ARGV`: mode (`c` counter, `s` field), field,
/// delta or value, TTL ms, entity, epoch candidate, `1` to count replicas. Returns `{delta
/// or version, epoch, online replicas or 0}`.
pub(crate) static WRITE: LazyLock<Lua> = LazyLock::new(|| {
    script(
        r"
local ttl = tonumber(ARGV[4])
local e = epoch(KEYS[3], ARGV[6], ttl)
local out
if ARGV[1] == 'c' then
    out = redis.call('HINCRBY', KEYS[1], 'c:' .. ARGV[2], ARGV[3])
else
    local t = redis.call('TIME')
    local v = tonumber(t[1]) * 1000000 + tonumber(t[2])
    local last = tonumber(redis.call('HGET', KEYS[3], 'clock') or '0')
    if v <= last then v = last + 1 end
    redis.call('HSET', KEYS[3], 'clock', int(v))
    redis.call('HSET', KEYS[1], 's:' .. ARGV[2], int(v) .. ':' .. ARGV[3])
    out = v
end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], 'NX', now_ms(), ARGV[5])
redis.call('PEXPIRE', KEYS[2], ttl)
return {int(out), e, ARGV[7] == '1' and replicas() or '0'}",
    )
});

/// `KEYS`: dirty set, in-flight set, state. `ARGV`: tag, new batch id, owner token, claim
/// timeout ms, max entities, TTL ms, max batches in flight, epoch candidate.
///
/// Takes a due batch (failed and backed off, or abandoned by a flusher that stopped) or else
/// moves up to `max entities` dirty entities into a new batch. Returns `{kind, epoch,
/// online replicas, backlog…(4), id, batch hash flattened…}` with kind `new`, `retry`,
/// `reclaim`, `lost` (the batch's record had expired) or `none`.
pub(crate) static CLAIM: LazyLock<Lua> = LazyLock::new(|| {
    script(
        r"
local tag, ttl, now = ARGV[1], tonumber(ARGV[6]), now_ms()
local e = epoch(KEYS[3], ARGV[8], ttl)
local kind, id = 'none', ''
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1)
if #due > 0 then
    id = due[1]
    local bkey = tag .. ':b:' .. id
    if redis.call('EXISTS', bkey) == 0 then
        redis.call('ZREM', KEYS[2], id)
        kind = 'lost'
    elseif redis.call('HEXISTS', bkey, 'm:owner') == 1 then
        kind = 'reclaim'
    else
        kind = 'retry'
    end
    if kind ~= 'lost' then redis.call('HINCRBY', bkey, 'm:attempt', 1) end
elseif redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[7]) then
    local dirty = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[5]) - 1, 'WITHSCORES')
    local bkey, since = tag .. ':b:' .. ARGV[2], nil
    for i = 1, #dirty, 2 do
        local live = tag .. ':e:' .. dirty[i]
        local kv = redis.call('HGETALL', live)
        if #kv > 0 then
            local parts = {}
            for j = 1, #kv do parts[j] = #kv[j] .. ':' .. kv[j] end
            redis.call('HSET', bkey, 'e:' .. dirty[i], table.concat(parts))
            redis.call('UNLINK', live)
            if not since or tonumber(dirty[i + 1]) < tonumber(since) then since = dirty[i + 1] end
        end
        redis.call('ZREM', KEYS[1], dirty[i])
    end
    if since then
        kind, id = 'new', ARGV[2]
        redis.call('HSET', bkey, 'm:attempt', 1, 'm:since', since)
    end
end
local bkey = tag .. ':b:' .. id
if kind == 'new' or kind == 'retry' or kind == 'reclaim' then
    redis.call('HSET', bkey, 'm:owner', ARGV[3])
    redis.call('PEXPIRE', bkey, ttl)
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), id)
    redis.call('PEXPIRE', KEYS[2], ttl)
end
local out = backlog(tag, KEYS[1], KEYS[2], now)
table.insert(out, 1, replicas())
table.insert(out, 1, e)
table.insert(out, 1, kind)
out[#out + 1] = id
if kind ~= 'none' and kind ~= 'lost' then
    for _, v in ipairs(redis.call('HGETALL', bkey)) do out[#out + 1] = v end
end
return out",
    )
});

/// `KEYS`: in-flight set. `ARGV`: tag, batch id, owner token, backoff ms. Puts a failed
/// batch back, due after the backoff, if this owner still holds it. Returns 1 or 0.
pub(crate) static RELEASE: LazyLock<Lua> = LazyLock::new(|| {
    script(
        r"
local bkey = ARGV[1] .. ':b:' .. ARGV[2]
if redis.call('HGET', bkey, 'm:owner') ~= ARGV[3] then return 0 end
redis.call('HDEL', bkey, 'm:owner')
redis.call('ZADD', KEYS[1], 'XX', now_ms() + tonumber(ARGV[4]), ARGV[2])
return 1",
    )
});

/// `KEYS`: in-flight set. `ARGV`: tag, batch id. Forgets an applied batch.
pub(crate) static ACK: LazyLock<Lua> = LazyLock::new(|| {
    script(
        r"
redis.call('ZREM', KEYS[1], ARGV[2])
return redis.call('UNLINK', ARGV[1] .. ':b:' .. ARGV[2])",
    )
});

/// `KEYS`: live hash, in-flight set. `ARGV`: tag, entity. Returns `{live hash flattened,
/// {encoded changes of the entity in each batch in flight}}`.
pub(crate) static PENDING: LazyLock<Lua> = LazyLock::new(|| {
    script(
        r"
local field, blobs = 'e:' .. ARGV[2], {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    local blob = redis.call('HGET', ARGV[1] .. ':b:' .. id, field)
    if blob then blobs[#blobs + 1] = blob end
end
return {redis.call('HGETALL', KEYS[1]), blobs}",
    )
});

/// `KEYS`: state (routes to the shard's primary). Returns its online replicas.
pub(crate) static REPLICAS: LazyLock<Lua> = LazyLock::new(|| script("return replicas()"));

/// `KEYS`: dirty set, in-flight set. `ARGV`: tag. Returns the backlog figures.
pub(crate) static BACKLOG: LazyLock<Lua> =
    LazyLock::new(|| script("return backlog(ARGV[1], KEYS[1], KEYS[2], now_ms())"));
