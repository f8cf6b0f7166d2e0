-- Reserve ARGV[1] micro-dollars in the account hash KEYS[1] if base + spent + reserved + amount
-- stays within the budget ARGV[2]. ARGV[3]: key ttl seconds, 0 = keep forever.
-- Returns {allowed, base + spent, reserved, 1 if a base (database seed) is set}.
local v = redis.call('HMGET', KEYS[1], 'base', 'spent', 'reserved')
local spent = (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0)
local reserved = tonumber(v[3]) or 0
local amount = tonumber(ARGV[1])
local allowed = spent + reserved + amount <= tonumber(ARGV[2])
if allowed then
  reserved = redis.call('HINCRBY', KEYS[1], 'reserved', amount)
  local ttl = tonumber(ARGV[3])
  if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
end
return {allowed and 1 or 0, spent, reserved, v[1] and 1 or 0}
