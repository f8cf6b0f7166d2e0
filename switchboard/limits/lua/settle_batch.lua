-- Settle a batch of admissions (admit.lua) in one call, once: KEYS[1] is the batch's done-key, so
-- a batch sent again after a lost reply changes nothing (kept ARGV[1] ms).
-- From ARGV[2], ten arguments per admission: number of rate windows, second, token delta, has
-- a lease (0/1), lease id, has an account (0/1), amount to release (without a hold), amount
-- spent, account ttl s, hold id. KEYS from 2, per admission: its rate windows, its lease set if
-- it has one, its account hash and holds if it has one.
-- Returns the number of admissions settled (0 for a batch already settled).
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', arg(1, 600000)) then return 0 end
local k, count = 2, 0
for a = 2, #ARGV, 10 do
  local n, sec, delta = arg(a, 0), arg(a + 1, 0), arg(a + 2, 0)
  for i = 0, n - 1 do
    if delta ~= 0 then window_settle(KEYS[k + i], sec, delta) end
  end
  k = k + n
  if ARGV[a + 3] == '1' then
    redis.call('ZREM', KEYS[k], ARGV[a + 4])
    k = k + 1
  end
  if ARGV[a + 5] == '1' then
    account_settle(KEYS[k], KEYS[k + 1], arg(a + 6, 0), arg(a + 7, 0), arg(a + 8, 0), ARGV[a + 9])
    k = k + 2
  end
  count = count + 1
end
return count
