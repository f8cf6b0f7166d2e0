-- Reserve ARGV[1] micro-dollars in the account hash KEYS[1] if base + spent + reserved + amount
-- stays within the budget ARGV[2]. ARGV[3]: key ttl seconds, 0 = keep forever.
-- KEYS[2]: this reservation's once-key: a retry of a call whose reply was lost finds the answer
-- there and reserves nothing again (kept ARGV[4] ms).
-- Returns {allowed, base + spent, reserved, 1 if a base (database seed) is set}.
-- Integers are written with %d: Lua's own number formatting may say "1e+17", which HINCRBY
-- and HSET-then-HINCRBY reject. Numeric arguments are floored; a missing one is 0 (or -1).
local function int(x) return string.format('%d', x) end
local function arg(i, default) return math.floor(tonumber(ARGV[i]) or default) end
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
  if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
end
return {allowed and 1 or 0, spent, reserved, v[1] and 1 or 0}
