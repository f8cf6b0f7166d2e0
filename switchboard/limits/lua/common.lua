-- Shared by every limits script (each script is this file, its libraries and its own body).
-- Integers are written with %d: Lua's own number formatting may say "1e+17", which HINCRBY
-- and HSET-then-HINCRBY reject. Numeric arguments are floored; a missing one is the default.
local function int(x) return string.format('%d', x) end
local function arg(i, default) return math.floor(tonumber(ARGV[i]) or default) end
-- The caller's clock in seconds, or the server's for "".
local function clock(given)
  if given == '' then
    local t = redis.call('TIME')
    return tonumber(t[1]) + tonumber(t[2]) / 1000000
  end
  return tonumber(given)
end
