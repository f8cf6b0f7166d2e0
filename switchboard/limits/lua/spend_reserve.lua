-- Reserve ARGV[1] micro-dollars in the account hash KEYS[1] if base + spent + reserved + amount
-- stays within the budget ARGV[2]. ARGV[3]: key ttl seconds, 0 = keep forever.
-- KEYS[2]: this reservation's once-key: a retry of a call whose reply was lost finds the answer
-- there and reserves nothing again (kept ARGV[4] ms).
-- KEYS[3]: the account's holds, hold id -> expiry. With a hold id ARGV[5], the amount is held
-- for ARGV[6] seconds as field "h:<id>": a holder that dies before it settles (a killed replica)
-- has its hold released by the first reserve after the expiry, so budget cannot leak away.
-- Returns {allowed, base + spent, reserved, 1 if a base (database seed) is set}.
-- Integers are written with %d: Lua's own number formatting may say "1e+17", which HINCRBY
-- and HSET-then-HINCRBY reject. Numeric arguments are floored; a missing one is 0 (or -1).
local function int(x) return string.format('%d', x) end
local function arg(i, default) return math.floor(tonumber(ARGV[i]) or default) end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 100)
if #expired > 0 then
  local freed = 0
  for _, id in ipairs(expired) do
    freed = freed + (tonumber(redis.call('HGET', KEYS[1], 'h:' .. id)) or 0)
    redis.call('HDEL', KEYS[1], 'h:' .. id)
  end
  redis.call('ZREM', KEYS[3], unpack(expired))
  local left = (tonumber(redis.call('HGET', KEYS[1], 'reserved')) or 0) - freed
  if left < 0 then left = 0 end
  redis.call('HSET', KEYS[1], 'reserved', int(left))
end
local v = redis.call('HMGET', KEYS[1], 'base', 'spent', 'reserved')
local spent = (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0)
local reserved = tonumber(v[3]) or 0
local amount = arg(1, 0)
local once = redis.call('GET', KEYS[2])
if once then return {tonumber(once), spent, reserved, v[1] and 1 or 0} end
local allowed = spent + reserved + amount <= arg(2, 0)
redis.call('SET', KEYS[2], allowed and '1' or '0', 'PX', arg(4, 60000))
if allowed then
  reserved = redis.call('HINCRBY', KEYS[1], 'reserved', int(amount))
  local ttl = arg(3, 0)
  if ARGV[5] ~= '' then
    redis.call('HSET', KEYS[1], 'h:' .. ARGV[5], int(amount))
    redis.call('ZADD', KEYS[3], now + arg(6, 900), ARGV[5])
    if ttl > 0 then redis.call('EXPIRE', KEYS[3], ttl) end
  end
  if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
end
return {allowed and 1 or 0, spent, reserved, v[1] and 1 or 0}
