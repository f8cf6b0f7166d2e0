-- Add ARGV[2] (may be negative) to the tokens of second ARGV[1] in each scope hash of KEYS,
-- never below 0. A bucket that has already left the window (and was pruned) is left alone.
local field = 't' .. ARGV[1]
local delta = tonumber(ARGV[2])
for i = 1, #KEYS do
  local v = redis.call('HGET', KEYS[i], field)
  if v then
    local n = tonumber(v) + delta
    if n < 0 then n = 0 end
    redis.call('HSET', KEYS[i], field, n)
  elseif delta > 0 and redis.call('HEXISTS', KEYS[i], 'r' .. ARGV[1]) == 1 then
    redis.call('HSET', KEYS[i], field, delta)
  end
end
return 0
