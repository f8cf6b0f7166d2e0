-- Reserve ARGV[1] micro-dollars in the account hash KEYS[1] (account.lua) if base + spent +
-- reserved + amount stays within the budget ARGV[2]. ARGV[3]: key ttl seconds, 0 = forever.
-- KEYS[2]: this reservation's once-key: a retry of a call whose reply was lost finds the answer
-- there and reserves nothing again (kept ARGV[4] ms).
-- KEYS[3]: the account's holds; with a hold id ARGV[5] the amount is held for ARGV[6] seconds.
-- Returns {allowed, base + spent, reserved, 1 if a base (database seed) is set}.
local now = clock('')
local spent, reserved, seeded = account_read(KEYS[1], KEYS[3], now)
local amount = arg(1, 0)
local once = redis.call('GET', KEYS[2])
if once then return {tonumber(once), spent, reserved, seeded} end
local allowed = spent + reserved + amount <= arg(2, 0)
redis.call('SET', KEYS[2], allowed and '1' or '0', 'PX', arg(4, 60000))
if allowed then
  reserved = account_hold(KEYS[1], KEYS[3], amount, arg(3, 0), ARGV[5], arg(6, 900), now)
end
return {allowed and 1 or 0, spent, reserved, seeded}
