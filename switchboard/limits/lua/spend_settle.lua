-- Release ARGV[1] from reserved (never below 0) and add ARGV[2] to spent in KEYS[1].
-- ARGV[3]: key ttl seconds, 0 = keep forever.
local reserved = (tonumber(redis.call('HGET', KEYS[1], 'reserved')) or 0) - tonumber(ARGV[1])
if reserved < 0 then reserved = 0 end
redis.call('HSET', KEYS[1], 'reserved', reserved)
if tonumber(ARGV[2]) ~= 0 then redis.call('HINCRBY', KEYS[1], 'spent', ARGV[2]) end
local ttl = tonumber(ARGV[3])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return 0
