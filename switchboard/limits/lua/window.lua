-- Rate windows: a hash per scope; "r<second>" and "t<second>" count one second's requests and
-- tokens; "R" and "T" are their sums, "o" the oldest second not yet pruned, "n" the newest.

-- Recount a hash from its buckets: for an unknown layout or a clock that jumped far.
local function window_rebuild(key, first_kept)
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
-- Returns requests, tokens, oldest and newest second (nil, nil for an empty window).
local function window_prune(key, first_kept, window)
  local v = redis.call('HMGET', key, 'R', 'T', 'o', 'n')
  local r, t, o, n = tonumber(v[1]), tonumber(v[2]), tonumber(v[3]), tonumber(v[4])
  if not (r and t and o and n) or first_kept - o > 2 * window then
    return window_rebuild(key, first_kept)
  end
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

-- {second, requests, tokens, ...} of every bucket: what a refused caller needs for Retry-After.
local function window_buckets(key)
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

-- Count one request and `tokens` in second `sec`; `u` = {requests, tokens, newest} is updated.
local function window_count(key, u, o, n, sec, tokens, ttl_ms)
  redis.call('HINCRBY', key, 'r' .. sec, 1)
  if tokens ~= 0 then redis.call('HINCRBY', key, 't' .. sec, int(tokens)) end
  if not o or sec < o then o = sec end
  if not n or sec > n then n = sec end
  u[1], u[2], u[3] = u[1] + 1, u[2] + tokens, n
  redis.call('HSET', key, 'R', int(u[1]), 'T', int(u[2]), 'o', o, 'n', n)
  redis.call('PEXPIRE', key, ttl_ms)
end

-- Add `delta` (may be negative) to the tokens of second `sec`, never below 0, keeping "T" in
-- step. A bucket already pruned from the window is left alone.
local function window_settle(key, sec, delta)
  local field = 't' .. sec
  local v = redis.call('HGET', key, field)
  if v or redis.call('HEXISTS', key, 'r' .. sec) == 1 then
    local old = tonumber(v) or 0
    local new = old + delta
    if new < 0 then new = 0 end
    if new ~= old then
      redis.call('HSET', key, field, int(new))
      redis.call('HINCRBY', key, 'T', int(new - old))
    end
  end
end
