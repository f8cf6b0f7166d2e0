-- Admit one request and ARGV[2] tokens against every scope in KEYS[2..], or against none.
-- KEYS[1]: this reservation's once-key: a retry of a call whose reply was lost finds the answer
-- there and counts nothing again (kept ARGV[4] ms).
-- KEYS[i], i > 1: a rate window hash per scope (window.lua).
-- ARGV[1]: now in seconds, "" for the server clock; ARGV[2]: tokens; ARGV[3]: window seconds;
-- ARGV[4]: key ttl in ms; ARGV[1 + 2i], ARGV[2 + 2i]: rpm and tpm of KEYS[i], -1 = unlimited.
-- Returns {allowed, second, now_ms, per key {requests, tokens, newest second or -1, buckets}},
-- usage counting this request when allowed; buckets {s, r, t, ...} only for a key that is full.
local now = clock(ARGV[1])
local sec = math.floor(now)
local tokens = arg(2, 0)
local window = arg(3, 60)
local first_kept = sec - window + 1

local once = redis.call('GET', KEYS[1])
if once then sec = tonumber(string.sub(once, 3)) end
local usages, states = {}, {}
local allowed = true
for i = 2, #KEYS do
  local r, t, o, n = window_prune(KEYS[i], first_kept, window)
  local rpm, tpm = arg(1 + 2 * i, -1), arg(2 + 2 * i, -1)
  local detail = {}
  if once then
    if string.sub(once, 1, 1) == '0' then detail = window_buckets(KEYS[i]) end
  elseif not ((rpm < 0 or r + 1 <= rpm) and (tpm < 0 or t + tokens <= tpm)) then
    allowed = false
    detail = window_buckets(KEYS[i])
  end
  usages[i] = {r, t, n or -1, detail}
  states[i] = {o, n}
end

local ttl_ms = arg(4, 62000)
if once then
  allowed = string.sub(once, 1, 1) == '1'
else
  redis.call('SET', KEYS[1], (allowed and '1:' or '0:') .. sec, 'PX', ttl_ms)
end
if allowed and not once then
  for i = 2, #KEYS do
    window_count(KEYS[i], usages[i], states[i][1], states[i][2], sec, tokens, ttl_ms)
  end
end

local reply = {allowed and 1 or 0, sec, math.floor(now * 1000)}
for i = 2, #KEYS do reply[#reply + 1] = usages[i] end
return reply
