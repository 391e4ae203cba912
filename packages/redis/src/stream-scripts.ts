/**
 * The Lua scripts of `RedisHistory`. Each runs atomically in Redis, which is what gives a
 * stream topic one order across nodes: `append` takes the next offset, stores the publication
 * and publishes it on the topic's channel in one step, so every node receives the
 * publications of a topic in offset order.
 *
 * Keys (one slot per topic, so Redis Cluster keeps a topic's two keys together):
 *   KEYS[1] `<ns>:stream:{<topic>}:meta` — a hash {epoch, offset}
 *   KEYS[2] `<ns>:stream:{<topic>}:log`  — a list of "<ms> <envelope>", oldest first
 * Both expire after the topic's TTL without use; a stream that comes back gets a new epoch.
 */

/** Shared prologue: the stream's meta (created with the candidate epoch) and the log trimmed by size and age. */
const PROLOGUE = `
local meta, log = KEYS[1], KEYS[2]
local candidate, size, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', meta) == 0 then
  redis.call('DEL', log)
  redis.call('HSET', meta, 'epoch', candidate, 'offset', 0)
end
local epoch = redis.call('HGET', meta, 'epoch')
local trim = function()
  redis.call('LTRIM', log, -size, -1)
  for _ = 1, 1000 do
    local head = redis.call('LINDEX', log, 0)
    if not head then break end
    local at = tonumber(string.match(head, '^(%d+) '))
    if at == nil or now - at <= ttl then break end
    redis.call('LPOP', log)
  end
end
`;

/**
 * Appends one publication and publishes it. ARGV: candidate epoch, size, ttl, channel, the
 * exclusion tag as JSON (null or a string), the envelope's tail (topic, event, kind, payload as
 * JSON array items), the publish command (PUBLISH, or SPUBLISH for a shard channel in the
 * keys' slot). Returns {epoch, offset}.
 */
export const APPEND = `${PROLOGUE}
local offset = redis.call('HINCRBY', meta, 'offset', 1)
local envelope = '[2,"' .. epoch .. '",' .. offset .. ',' .. ARGV[5] .. ',' .. ARGV[6] .. ']'
redis.call('RPUSH', log, now .. ' ' .. envelope)
trim()
redis.call('PEXPIRE', meta, ttl)
redis.call('PEXPIRE', log, ttl)
redis.call(ARGV[7], ARGV[4], envelope)
return {epoch, offset}
`;

/**
 * Reads after a position (ARGV[4] epoch, ARGV[5] offset) or the last n (ARGV[4] = "", ARGV[5]
 * = n). Returns {epoch, offset, status, entries...}: status "ok" with the envelopes, or "gap".
 */
export const READ = `${PROLOGUE}
trim()
redis.call('PEXPIRE', meta, ttl)
redis.call('PEXPIRE', log, ttl)
local current = tonumber(redis.call('HGET', meta, 'offset'))
local length = redis.call('LLEN', log)
local first = current - length + 1
local start
if ARGV[4] == '' then
  start = math.max(0, length - tonumber(ARGV[5]))
else
  local from = tonumber(ARGV[5])
  if ARGV[4] ~= epoch or from > current or from + 1 < first then
    return {epoch, current, 'gap'}
  end
  start = from + 1 - first
end
local out = {epoch, current, 'ok'}
if start < length then
  for _, entry in ipairs(redis.call('LRANGE', log, start, -1)) do
    out[#out + 1] = string.sub(entry, string.find(entry, ' ') + 1)
  end
end
return out
`;
