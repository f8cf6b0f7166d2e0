-- Set the database baseline ARGV[1] of KEYS[1] unless one is set. ARGV[2]: ttl s, 0 = forever.
-- Returns 1 if this call set it.
-- Integers are written with %d: Lua's own number formatting may say "1e+17", which HINCRBY
-- and HSET-then-HINCRBY reject. Numeric arguments are floored; a missing one is 0 (or -1).
local function int(x) return string.format('%d', x) end
local function arg(i, default) return math.floor(tonumber(ARGV[i]) or default) end
local set = redis.call('HSETNX', KEYS[1], 'base', int(arg(1, 0)))
local ttl = arg(2, 0)
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return set
