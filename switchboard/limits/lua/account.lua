-- Spend accounts: a hash {base: database seed, spent: since, reserved: in flight, h:<id>: one
-- hold's amount} and a sorted set of hold ids by expiry. A holder that dies before it settles (a
-- killed replica) has its hold released by the first reserve after the expiry.

-- Release up to 100 expired holds; returns base + spent, reserved, and whether a base is set.
local function account_read(key, holds, now)
  local expired = redis.call('ZRANGEBYSCORE', holds, '-inf', now, 'LIMIT', 0, 100)
  if #expired > 0 then
    local freed = 0
    for _, id in ipairs(expired) do
      freed = freed + (tonumber(redis.call('HGET', key, 'h:' .. id)) or 0)
      redis.call('HDEL', key, 'h:' .. id)
    end
    redis.call('ZREM', holds, unpack(expired))
    local left = (tonumber(redis.call('HGET', key, 'reserved')) or 0) - freed
    if left < 0 then left = 0 end
    redis.call('HSET', key, 'reserved', int(left))
  end
  local v = redis.call('HMGET', key, 'base', 'spent', 'reserved')
  return (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0), tonumber(v[3]) or 0, v[1] and 1 or 0
end

-- Add `amount` to reserved, held as `hold` for `hold_ttl` s ("" = no hold); ttl 0 = forever.
local function account_hold(key, holds, amount, ttl, hold, hold_ttl, now)
  local reserved = redis.call('HINCRBY', key, 'reserved', int(amount))
  if hold ~= '' then
    redis.call('HSET', key, 'h:' .. hold, int(amount))
    redis.call('ZADD', holds, now + hold_ttl, hold)
    if ttl > 0 then redis.call('EXPIRE', holds, ttl) end
  end
  if ttl > 0 then redis.call('EXPIRE', key, ttl) end
  return reserved
end

-- Release `hold` (what it recorded; nothing if its expiry released it already) or, without one,
-- `release`; reserved never goes below 0. Then add `actual` to spent.
local function account_settle(key, holds, release, actual, ttl, hold)
  if hold ~= '' then
    release = tonumber(redis.call('HGET', key, 'h:' .. hold)) or 0
    redis.call('HDEL', key, 'h:' .. hold)
    redis.call('ZREM', holds, hold)
  end
  local reserved = (tonumber(redis.call('HGET', key, 'reserved')) or 0) - release
  if reserved < 0 then reserved = 0 end
  redis.call('HSET', key, 'reserved', int(reserved))
  if actual ~= 0 then redis.call('HINCRBY', key, 'spent', int(actual)) end
  if ttl > 0 then redis.call('EXPIRE', key, ttl) end
end
