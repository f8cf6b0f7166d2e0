-- Add ARGV[2] (may be negative) to the tokens of second ARGV[1] in each scope hash of KEYS (see
-- rate_reserve.lua), never below 0, keeping the total "T" in step. A bucket already pruned from
-- the window is left alone.
-- Integers are written with %d: Lua's own number formatting may say "1e+17", which HINCRBY
-- and HSET-then-HINCRBY reject. Numeric arguments are floored; a missing one is 0 (or -1).
local function int(x) return string.format('%d', x) end
local function arg(i, default) return math.floor(tonumber(ARGV[i]) or default) end
local sec = arg(1, 0)
local field = 't' .. sec
local delta = arg(2, 0)
for i = 1, #KEYS do
  local v = redis.call('HGET', KEYS[i], field)
  if v or redis.call('HEXISTS', KEYS[i], 'r' .. sec) == 1 then
    local old = tonumber(v) or 0
    local new = old + delta
    if new < 0 then new = 0 end
    if new ~= old then
      redis.call('HSET', KEYS[i], field, int(new))
      redis.call('HINCRBY', KEYS[i], 'T', int(new - old))
    end
  end
end
return 0
