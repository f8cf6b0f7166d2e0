-- Lease sets: lease id -> expiry, so a crashed holder's slots lapse.

-- Whether `id` holds a slot or one is free (fewer than `limit` live), after dropping expired ones.
local function lease_fits(key, limit, id, now)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  return redis.call('ZSCORE', key, id) or redis.call('ZCARD', key) < limit
end

-- Hold (or refresh) `id` for `ttl` seconds.
local function lease_take(key, id, ttl, now)
  redis.call('ZADD', key, now + ttl, id)
  local keep_ms = math.ceil(ttl * 1000)
  if redis.call('PTTL', key) < keep_ms then redis.call('PEXPIRE', key, int(keep_ms)) end
end
