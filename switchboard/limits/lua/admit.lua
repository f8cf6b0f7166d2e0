-- Admit one request against everything that limits it, in one call: the spend account, the rate
-- windows and the concurrency lease are checked, and reserved only if all of them fit.
-- KEYS[1]: the admission's once-key: a retry of a call whose reply was lost gets the same answer
-- and reserves nothing again (kept ARGV[5] ms). KEYS[2 .. 1 + ARGV[6]]: rate windows
-- (window.lua); then the lease set if ARGV[7] >= 0 (lease.lua); then the account hash and its
-- holds if ARGV[10] >= 0 (account.lua).
-- ARGV: 1 now in seconds ("" = server clock); 2 tokens; 3 window s; 4 window ttl ms; 5 once ttl
-- ms; 6 number of rate windows; 7 lease limit (-1 = no lease); 8 lease id; 9 lease ttl s;
-- 10 amount in micro-dollars (-1 = no budget); 11 budget; 12 account ttl s (0 = forever);
-- 13 hold id; 14 hold ttl s; 15 + 2(i-1), 16 + 2(i-1): rpm and tpm of rate window i (-1 = none).
-- Returns {allowed, second, now_ms, seeded, spend_ok, spent, reserved, lease_ok, rate_ok, and per
-- window {requests, tokens, newest second or -1, buckets if full}}. An account with no database
-- seed yet is not checked: the reply says seeded 0 and nothing is reserved (seed, then ask again).
local once = redis.call('GET', KEYS[1])
if once then return cmsgpack.unpack(once) end
local now = clock(ARGV[1])
local sec = math.floor(now)
local tokens, window, n = arg(2, 0), arg(3, 60), arg(6, 0)
local first_kept = sec - window + 1
local lease_limit, amount = arg(7, -1), arg(10, -1)
local next_key = 2 + n
local lease_key, account, holds, server_now
if lease_limit >= 0 then
  lease_key = KEYS[next_key]
  next_key = next_key + 1
end
local seeded, spend_ok, spent, reserved = 1, 1, 0, 0
if amount >= 0 then
  account, holds = KEYS[next_key], KEYS[next_key + 1]
  server_now = ARGV[1] == '' and now or clock('')
  spent, reserved, seeded = account_read(account, holds, server_now)
  if seeded == 0 then return {0, sec, math.floor(now * 1000), 0, 0, spent, reserved, 0, 0} end
  spend_ok = (spent + reserved + amount <= arg(11, 0)) and 1 or 0
end
local lease_ok = 1
if lease_key and not lease_fits(lease_key, lease_limit, ARGV[8], now) then lease_ok = 0 end

local usages, states, rate_ok = {}, {}, 1
for i = 1, n do
  local key = KEYS[1 + i]
  local r, t, o, nw = window_prune(key, first_kept, window)
  local rpm, tpm = arg(13 + 2 * i, -1), arg(14 + 2 * i, -1)
  local detail = {}
  if not ((rpm < 0 or r + 1 <= rpm) and (tpm < 0 or t + tokens <= tpm)) then
    rate_ok = 0
    detail = window_buckets(key)
  end
  usages[i] = {r, t, nw or -1, detail}
  states[i] = {o, nw}
end

local allowed = spend_ok == 1 and lease_ok == 1 and rate_ok == 1
local ttl_ms = arg(4, 62000)
if allowed then
  for i = 1, n do
    window_count(KEYS[1 + i], usages[i], states[i][1], states[i][2], sec, tokens, ttl_ms)
  end
  if lease_key then lease_take(lease_key, ARGV[8], tonumber(ARGV[9]) or 600, now) end
  if account then
    reserved = account_hold(account, holds, amount, arg(12, 0), ARGV[13], arg(14, 900), server_now)
  end
end
local reply = {allowed and 1 or 0, sec, math.floor(now * 1000), seeded, spend_ok, spent, reserved,
  lease_ok, rate_ok}
for i = 1, n do reply[#reply + 1] = usages[i] end
redis.call('SET', KEYS[1], cmsgpack.pack(reply), 'PX', arg(5, 60000))
return reply
