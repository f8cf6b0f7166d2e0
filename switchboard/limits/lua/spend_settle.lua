-- Release a reservation and add ARGV[2] to spent in the account hash KEYS[1].
-- With a hold id ARGV[4], release what that hold recorded (nothing if its expiry released it
-- already) and drop it from the holds KEYS[2]; without one, release ARGV[1].
-- Reserved never goes below 0. ARGV[3]: key ttl seconds, 0 = keep forever.
-- Integers are written with %d: Lua's own number formatting may say "1e+17", which HINCRBY
-- and HSET-then-HINCRBY reject. Numeric arguments are floored; a missing one is 0 (or -1).
local function int(x) return string.format('%d', x) end
local function arg(i, default) return math.floor(tonumber(ARGV[i]) or default) end
local release = arg(1, 0)
if ARGV[4] and ARGV[4] ~= '' then
  release = tonumber(redis.call('HGET', KEYS[1], 'h:' .. ARGV[4])) or 0
  redis.call('HDEL', KEYS[1], 'h:' .. ARGV[4])
  redis.call('ZREM', KEYS[2], ARGV[4])
end
local reserved = (tonumber(redis.call('HGET', KEYS[1], 'reserved')) or 0) - release
if reserved < 0 then reserved = 0 end
redis.call('HSET', KEYS[1], 'reserved', int(reserved))
local actual = arg(2, 0)
if actual ~= 0 then redis.call('HINCRBY', KEYS[1], 'spent', int(actual)) end
local ttl = arg(3, 0)
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return 0
