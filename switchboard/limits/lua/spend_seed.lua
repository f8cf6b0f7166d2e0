-- Set the database baseline ARGV[1] of KEYS[1] unless one is set. ARGV[2]: ttl s, 0 = forever.
-- Returns 1 if this call set it.
local set = redis.call('HSETNX', KEYS[1], 'base', int(arg(1, 0)))
local ttl = arg(2, 0)
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return set
