/** Lua scripts: each runs atomically in Redis, so instances never interleave a check and its update. */

/**
 * Lua functions of the bounded stores (the response cache, the responses the router keeps): an
 * entry with its own expiry, and an index (a sorted set of entry keys by expiry time, a hash of
 * their sizes, and their total) that keeps the store within at most so many entries and so many
 * bytes (of stored values) in all, those closest to expiry (with one TTL for all: the oldest)
 * evicted first. Index members whose entry has expired leave it at the next stores. An entry
 * larger than the byte bound is not stored (and replaces nothing). Evicted entries are deleted by
 * the names the index holds, keys the script is not given: fine on one Redis, not on a cluster
 * (which the router does not use).
 */
const BOUNDED_STORE = `
local function unindex(index, sizes, total, name)
  redis.call('ZREM', index, name)
  local size = redis.call('HGET', sizes, name)
  if size then
    redis.call('HDEL', sizes, name)
    redis.call('DECRBY', total, size)
  end
end
local function store(entry, index, sizes, total, value, ttl, most, mostBytes)
  local size = #value
  if size > mostBytes then return end
  local clock = redis.call('TIME')
  local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
  unindex(index, sizes, total, entry)
  -- A bounded number per store: each store adds one member, so the expired ones cannot pile up.
  for _, name in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', now, 'LIMIT', 0, 16)) do unindex(index, sizes, total, name) end
  while redis.call('ZCARD', index) >= most or tonumber(redis.call('GET', total) or '0') + size > mostBytes do
    local oldest = redis.call('ZRANGE', index, 0, 0)[1]
    -- Nothing indexed but a total left (its hash lost to an eviction policy): start again from zero.
    if not oldest then redis.call('SET', total, 0) break end
    redis.call('DEL', oldest)
    unindex(index, sizes, total, oldest)
  end
  redis.call('SET', entry, value, 'PX', ttl)
  redis.call('ZADD', index, now + ttl, entry)
  redis.call('HSET', sizes, entry, size)
  redis.call('INCRBY', total, size)
end
`;

/**
 * A batch of the per-request operations (see RedisBatch), in order, each atomic as if it ran
 * alone. Each operation takes its keys from KEYS and its arguments from ARGV in turn:
 * - 'A' admits: refuses a key whose shared spend has reached its budget, else charges every
 *   counter or none (counters are incremented first and rolled back on a refusal, so admitting,
 *   the common case, costs one command per counter), then, when admitted, GETs the cache entry.
 *   KEYS: the spend counter if there is a budget, the counters, the cache key if any. ARGV: 'A',
 *   number of counters, 1 if there is a cache key (else 0), the budget (0 for none), then limit
 *   and cost per counter. Result: {0, 0, entry or false}, {index of the refusing counter, ms left
 *   in its window}, or {-1, 0} over budget.
 * - 'P' adds to a key's spend. KEYS: the spend counter. ARGV: 'P', amount, starting value when the
 *   counter does not exist yet. Result: the new total.
 * - 'W' stores a cache entry and keeps the cache within its bounds, as the memory cache does (see
 *   BOUNDED_STORE). KEYS: the entry, the index, the sizes, the total. ARGV: 'W', entry, ttl ms, most entries, most
 *   bytes. Result: 0.
 * - 'C' corrects token counters whose window is still open, never below zero (a counter whose
 *   window ended is created by INCRBY and removed at once). ARGV: 'C', number of counters, then a
 *   delta per counter. Result: 0.
 * ARGV[1] is the rate-limit window in ms. Returns one result per operation.
 */
export const BATCH = `${BOUNDED_STORE}
local window = tonumber(ARGV[1])
local results = {}
local a, k = 2, 1
while a <= #ARGV do
  local op = ARGV[a]
  local result = 0
  if op == 'A' then
    local n, cached, budget = tonumber(ARGV[a + 1]), ARGV[a + 2] == '1', tonumber(ARGV[a + 3])
    local first = a + 4
    a = first + n * 2
    result = {0, 0}
    if budget > 0 then
      if tonumber(redis.call('GET', KEYS[k]) or '0') >= budget then result = {-1, 0} end
      k = k + 1
    end
    for i = 1, (result[1] == 0 and n or 0) do
      local key = KEYS[k + i - 1]
      local cost = tonumber(ARGV[first + i * 2 - 1])
      local used = redis.call('INCRBY', key, cost)
      if used == cost then redis.call('PEXPIRE', key, window) end
      if used > tonumber(ARGV[first + i * 2 - 2]) then
        for j = 1, i do redis.call('DECRBY', KEYS[k + j - 1], tonumber(ARGV[first + j * 2 - 1])) end
        local ttl = redis.call('PTTL', key)
        if ttl < 0 then ttl = window end
        result = {i, ttl}
        break
      end
    end
    if result[1] == 0 and cached then result[3] = redis.call('GET', KEYS[k + n]) end
    k = k + n
    if cached then k = k + 1 end
  elseif op == 'P' then
    if redis.call('EXISTS', KEYS[k]) == 0 then redis.call('SET', KEYS[k], ARGV[a + 2]) end
    result = redis.call('INCRBY', KEYS[k], ARGV[a + 1])
    k = k + 1
    a = a + 3
  elseif op == 'W' then
    store(KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4]))
    k = k + 4
    a = a + 5
  elseif op == 'C' then
    local n = tonumber(ARGV[a + 1])
    for i = 1, n do
      local key, delta = KEYS[k + i - 1], tonumber(ARGV[a + 1 + i])
      local used = redis.call('INCRBY', key, delta)
      if used == delta then redis.call('DEL', key)
      elseif used < 0 then redis.call('SET', key, 0, 'KEEPTTL') end
    end
    k = k + n
    a = a + 2 + n
  else
    return redis.error_reply('BATCH: unknown operation ' .. tostring(op))
  end
  results[#results + 1] = result
end
return results
`;

/**
 * KEYS: failure counter, benched hash, probe claim. ARGV: target, threshold, windowMs, cooldownMs, nowMs, channel.
 * A failure on a benched target (a failed probe) benches it again at once. Returns the bench end or 0.
 */
export const RECORD_FAILURE = `
local bench = redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1
if not bench then
  local n = redis.call('INCR', KEYS[1])
  if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
  bench = n >= tonumber(ARGV[2])
end
if not bench then return 0 end
local untilMs = tonumber(ARGV[5]) + tonumber(ARGV[4])
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('HSET', KEYS[2], ARGV[1], untilMs)
redis.call('PUBLISH', ARGV[6], cjson.encode({type = 'bench', target = ARGV[1], ['until'] = untilMs}))
return untilMs
`;

/** KEYS: benched hash, probe claim. ARGV: target, channel. */
export const RECOVER = `
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[2], cjson.encode({type = 'recover', target = ARGV[1]}))
return 0
`;

/** KEYS: revoked set. ARGV: key hash, channel. */
export const REVOKE = `
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], cjson.encode({type = 'revoke', hash = ARGV[1]}))
return 0
`;

/**
 * KEYS: agents hash, heartbeats hash. ARGV: name, registration JSON, time (ms), channel, most agents.
 * A new name is refused (returns 0) once the hash holds that many: the bound is the fleet's, and
 * the check and the registration cannot interleave with another instance's. Returns 1 when registered.
 * The registration is spliced into the announcement as text: a cjson round trip would turn an
 * empty model list into an object.
 */
export const AGENT_REGISTER = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('PUBLISH', ARGV[4], '{"type":"agent","at":' .. ARGV[3] .. ',"agent":' .. ARGV[2] .. '}')
return 1
`;

/**
 * KEYS: agents hash, heartbeats hash. ARGV: name, registration JSON, time (ms), channel.
 * Heartbeat times only move forward; a registration Redis lost is stored again from the beating instance's copy.
 */
export const AGENT_HEARTBEAT = `
local created = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
local at = tonumber(ARGV[3])
local last = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if at > last then redis.call('HSET', KEYS[2], ARGV[1], ARGV[3]) else at = last end
if created == 1 then
  redis.call('PUBLISH', ARGV[4], '{"type":"agent","at":' .. string.format('%d', at) .. ',"agent":' .. ARGV[2] .. '}')
else
  redis.call('PUBLISH', ARGV[4], '{"type":"agent-beat","at":' .. string.format('%d', at) .. ',"name":' .. cjson.encode(ARGV[1]) .. '}')
end
return 0
`;

/**
 * KEYS: agents hash, heartbeats hash. ARGV: name, time (ms), channel. Forgets the agent unless a
 * heartbeat later than that time was recorded (it was heard from meanwhile, through another instance).
 */
export const AGENT_FORGET = `
local last = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if last > tonumber(ARGV[2]) then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[3], '{"type":"agent-forgotten","name":' .. cjson.encode(ARGV[1]) .. '}')
return 1
`;

/**
 * KEYS: the response's holder. ARGV: channel, the response's (kept) id. Forgets a deleted response
 * and tells every instance, whose own memory of its holder would otherwise outlive it.
 */
export const RESPONSE_FORGET = `
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], '{"type":"response-forgotten","id":' .. cjson.encode(ARGV[2]) .. '}')
return 0
`;

/**
 * Appends request-log rows to a stream and applies retention, atomically so that instances never
 * interleave. Entry ids are `N-0` with N = the writer's clock in µs-like units (ms × 1000), kept
 * strictly increasing by a counter: N is a cursor usable as a plain integer (`after_id`), and
 * N / 1000 is never earlier than a row's own time, so `since` and the age limit map onto id ranges.
 * Each call carries a token, kept for a while as a marker: a call whose token is already marked
 * appends nothing, so that a batch sent again (it timed out, and may or may not have run) is
 * written once.
 * KEYS: stream, last-id counter, the token's marker. ARGV: nowMs, cutoffMs (older rows go),
 * maxRows, marker lifetime (ms), then per row its ts, model, status (stored as fields of their own
 * so that reads can filter without decoding) and the whole row as a JSON array of values.
 */
export const APPEND_REQUESTS = `
if not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[4]) then return 0 end
local id = math.max(tonumber(redis.call('GET', KEYS[2]) or 0), tonumber(ARGV[1]) * 1000)
for i = 5, #ARGV, 4 do
  id = id + 1
  redis.call('XADD', KEYS[1], string.format('%.0f-0', id), 'ts', ARGV[i], 'model', ARGV[i + 1], 'status', ARGV[i + 2], 'row', ARGV[i + 3])
end
redis.call('SET', KEYS[2], string.format('%.0f', id))
redis.call('XTRIM', KEYS[1], 'MAXLEN', ARGV[3])
redis.call('XTRIM', KEYS[1], 'MINID', string.format('%.0f-0', tonumber(ARGV[2]) * 1000))
return 0
`;

/**
 * Scans at most ARGV[3] request-log entries, newest first, within ids ARGV[1] (highest) to ARGV[2]
 * (lowest), and returns those matching the query, so a selective filter costs Redis a short loop
 * per call instead of shipping every row to the router; the caller bounds each call's work and
 * pages on. ARGV: highest, lowest, count, since (ms), model ('' for any), lowest status, highest
 * status, matches wanted. Returns {entries scanned, id of the last scanned, id, row, id, row, …}.
 */
export const READ_REQUESTS = `
local entries = redis.call('XREVRANGE', KEYS[1], ARGV[1], ARGV[2], 'COUNT', ARGV[3])
local since, model, low, high, wanted = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local result = {#entries, false}
for _, entry in ipairs(entries) do
  local fields = entry[2]
  local status = tonumber(fields[6])
  result[2] = entry[1]
  if tonumber(fields[2]) >= since and (model == '' or fields[4] == model) and status >= low and status <= high then
    result[#result + 1] = entry[1]
    result[#result + 1] = fields[8]
    if (#result - 2) / 2 >= wanted then return result end
  end
end
return result
`;

/**
 * Keeps a response the router answered itself (see KeptResponses), within its store's bounds (see
 * BOUNDED_STORE). KEYS: the entry, the index, the sizes, the total. ARGV: the response's JSON, ttl
 * ms, most entries, most bytes.
 */
export const KEEP_RESPONSE = `${BOUNDED_STORE}
store(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
return 0
`;

/** Drops a kept response and its place in the index. KEYS: as KEEP_RESPONSE's. Returns 1 when it was kept, else 0. */
export const DROP_KEPT_RESPONSE = `${BOUNDED_STORE}
local kept = redis.call('DEL', KEYS[1])
unindex(KEYS[2], KEYS[3], KEYS[4], KEYS[1])
return kept
`;
