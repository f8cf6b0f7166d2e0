-- Admit one request and ARGV[2] tokens against every scope in KEYS[2..], or against none.
-- KEYS[1]: this reservation's once-key: a retry of a call whose reply was lost finds the answer
-- there and counts nothing again (kept ARGV[4] ms).
-- KEYS[i], i > 1: a hash per scope: "r<second>" and "t<second>" count one second's requests and tokens;
-- "R" and "T" are their sums, "o" the oldest second not yet pruned, "n" the newest second.
-- ARGV[1]: now in seconds, "" for the server clock; ARGV[2]: tokens; ARGV[3]: window seconds;
-- ARGV[4]: key ttl in ms; ARGV[1 + 2i], ARGV[2 + 2i]: rpm and tpm of KEYS[i], -1 = unlimited.
-- Returns {allowed, second, now_ms, per key {requests, tokens, newest second or -1, buckets}},
-- usage counting this request when allowed; buckets {s, r, t, ...} only for a key that is full.
-- Integers are written with %d: Lua's own number formatting may say "1e+17", which HINCRBY
-- and HSET-then-HINCRBY reject. Numeric arguments are floored; a missing one is 0 (or -1).
local function int(x) return string.format('%d', x) end
local function arg(i, default) return math.floor(tonumber(ARGV[i]) or default) end
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[1])
end
local sec = math.floor(now)
local tokens = arg(2, 0)
local window = arg(3, 60)
local first_kept = sec - window + 1

-- Recount a hash from its buckets: for an unknown layout or a clock that jumped far.
local function rebuild(key)
  local flat = redis.call('HGETALL', key)
  local r, t, o, n, stale = 0, 0, nil, nil, {}
  for j = 1, #flat, 2 do
    local field, s = flat[j], tonumber(string.sub(flat[j], 2))
    if s and s < first_kept then
      stale[#stale + 1] = field
    elseif s then
      if string.byte(field, 1) == 114 then r = r + tonumber(flat[j + 1])
      else t = t + tonumber(flat[j + 1]) end
      if not o or s < o then o = s end
      if not n or s > n then n = s end
    end
  end
  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  if n then redis.call('HSET', key, 'R', int(r), 'T', int(t), 'o', o, 'n', n)
  else redis.call('DEL', key) end
  return r, t, o, n
end

-- Drop the buckets that left the window, keeping R and T equal to the sums of those left.
local function prune(key)
  local v = redis.call('HMGET', key, 'R', 'T', 'o', 'n')
  local r, t, o, n = tonumber(v[1]), tonumber(v[2]), tonumber(v[3]), tonumber(v[4])
  if not (r and t and o and n) or first_kept - o > 2 * window then return rebuild(key) end
  if n < first_kept then
    redis.call('DEL', key)
    return 0, 0, nil, nil
  end
  if o < first_kept then
    for s = o, first_kept - 1 do
      local b = redis.call('HMGET', key, 'r' .. s, 't' .. s)
      if b[1] or b[2] then
        r = r - (tonumber(b[1]) or 0)
        t = t - (tonumber(b[2]) or 0)
        redis.call('HDEL', key, 'r' .. s, 't' .. s)
      end
    end
    o = first_kept
    redis.call('HSET', key, 'R', int(r), 'T', int(t), 'o', o)
  end
  return r, t, o, n
end

local function buckets(key)
  local flat, out = redis.call('HGETALL', key), {}
  local by_second = {}
  for j = 1, #flat, 2 do
    local s = tonumber(string.sub(flat[j], 2))
    if s then
      local b = by_second[s]
      if not b then
        b = {0, 0}
        by_second[s] = b
      end
      if string.byte(flat[j], 1) == 114 then b[1] = tonumber(flat[j + 1])
      else b[2] = tonumber(flat[j + 1]) end
    end
  end
  for s, b in pairs(by_second) do
    out[#out + 1] = s
    out[#out + 1] = b[1]
    out[#out + 1] = b[2]
  end
  return out
end

local once = redis.call('GET', KEYS[1])
if once then sec = tonumber(string.sub(once, 3)) end
local usages, states = {}, {}
local allowed = true
for i = 2, #KEYS do
  local r, t, o, n = prune(KEYS[i])
  local rpm, tpm = arg(1 + 2 * i, -1), arg(2 + 2 * i, -1)
  local detail = {}
  if once then
    if string.sub(once, 1, 1) == '0' then detail = buckets(KEYS[i]) end
  elseif not ((rpm < 0 or r + 1 <= rpm) and (tpm < 0 or t + tokens <= tpm)) then
    allowed = false
    detail = buckets(KEYS[i])
  end
  usages[i] = {r, t, n or -1, detail}
  states[i] = {o, n}
end

local ttl_ms = arg(4, 62000)
if once then
  allowed = string.sub(once, 1, 1) == '1'
else
  redis.call('SET', KEYS[1], (allowed and '1:' or '0:') .. sec, 'PX', ttl_ms)
end
if allowed and not once then
  for i = 2, #KEYS do
    local key, u, o, n = KEYS[i], usages[i], states[i][1], states[i][2]
    redis.call('HINCRBY', key, 'r' .. sec, 1)
    if tokens ~= 0 then redis.call('HINCRBY', key, 't' .. sec, int(tokens)) end
    if not o or sec < o then o = sec end
    if not n or sec > n then n = sec end
    u[1], u[2], u[3] = u[1] + 1, u[2] + tokens, n
    redis.call('HSET', key, 'R', int(u[1]), 'T', int(u[2]), 'o', o, 'n', n)
    redis.call('PEXPIRE', key, ttl_ms)
  end
end

local reply = {allowed and 1 or 0, sec, math.floor(now * 1000)}
for i = 2, #KEYS do reply[#reply + 1] = usages[i] end
return reply
