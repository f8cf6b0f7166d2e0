-- Add ARGV[2] (may be negative) to the tokens of second ARGV[1] in each rate window of KEYS.
local sec, delta = arg(1, 0), arg(2, 0)
for i = 1, #KEYS do window_settle(KEYS[i], sec, delta) end
return 0
