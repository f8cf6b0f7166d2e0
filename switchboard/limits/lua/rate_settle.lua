-- Add ARGV[2] (may be negative) to the tokens of second ARGV[1] in each scope hash of KEYS (see
-- rate_reserve.lua), never below 0, keeping the total "T" in step. A bucket already pruned from
-- the window is left alone.
local field = 't' .. ARGV[1]
local delta = tonumber(ARGV[2])
for i = 1, #KEYS do
  local v = redis.call('HGET', KEYS[i], field)
  if v or redis.call('HEXISTS', KEYS[i], 'r' .. ARGV[1]) == 1 then
    local old = tonumber(v) or 0
    local new = old + delta
    if new < 0 then new = 0 end
    if new ~= old then
      redis.call('HSET', KEYS[i], field, new)
      redis.call('HINCRBY', KEYS[i], 'T', new - old)
    end
  end
end
return 0
