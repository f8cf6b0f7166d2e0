-- Take a slot in the lease set KEYS[1] (lease id -> expiry) if fewer than ARGV[2] are live.
-- ARGV[1]: now in seconds, "" for the server clock; ARGV[3]: lease id; ARGV[4]: ttl seconds.
-- Re-acquiring a held lease refreshes its expiry. Returns 1 if granted, else 0.
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
local ttl = tonumber(ARGV[4]) or 600
local limit = arg(2, 0)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[3]) or redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
  local keep_ms = math.ceil(ttl * 1000)
  if redis.call('PTTL', KEYS[1]) < keep_ms then redis.call('PEXPIRE', KEYS[1], int(keep_ms)) end
  return 1
end
return 0
