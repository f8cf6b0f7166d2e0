-- Admit one request and ARGV[2] tokens against every scope in KEYS, or against none.
-- KEYS[i]: a hash per scope, fields "r<epoch second>" (requests) and "t<epoch second>" (tokens).
-- ARGV[1]: now in seconds, "" for the server clock; ARGV[2]: tokens; ARGV[3]: window seconds;
-- ARGV[4]: key ttl in ms; ARGV[3 + 2i], ARGV[4 + 2i]: rpm and tpm of KEYS[i], -1 = unlimited.
-- Returns {allowed, second, now_ms, per key {requests, tokens, newest second or -1, buckets}},
-- usage counting this request when allowed; buckets {s, r, t, ...} only for a denied limit.
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[1])
end
local sec = math.floor(now)
local tokens = tonumber(ARGV[2])
local first_kept = sec - tonumber(ARGV[3]) + 1
local usages = {}
local allowed = true

for i = 1, #KEYS do
  local flat = redis.call('HGETALL', KEYS[i])
  local requests, used_tokens, newest = 0, 0, -1
  local buckets, stale = {}, {}
  for j = 1, #flat, 2 do
    local field = flat[j]
    local s = tonumber(string.sub(field, 2))
    if s < first_kept then
      stale[#stale + 1] = field
    else
      local v = tonumber(flat[j + 1])
      local b = buckets[s]
      if not b then
        b = {0, 0}
        buckets[s] = b
      end
      if string.byte(field, 1) == 114 then -- 'r'
        requests = requests + v
        b[1] = b[1] + v
      else
        used_tokens = used_tokens + v
        b[2] = b[2] + v
      end
      if s > newest then newest = s end
    end
  end
  if #stale > 0 then redis.call('HDEL', KEYS[i], unpack(stale)) end
  local rpm, tpm = tonumber(ARGV[3 + 2 * i]), tonumber(ARGV[4 + 2 * i])
  local fits = (rpm < 0 or requests + 1 <= rpm) and (tpm < 0 or used_tokens + tokens <= tpm)
  local detail = {}
  if not fits then
    allowed = false
    for s, b in pairs(buckets) do
      detail[#detail + 1] = s
      detail[#detail + 1] = b[1]
      detail[#detail + 1] = b[2]
    end
  end
  usages[i] = {requests, used_tokens, newest, detail}
end

if allowed then
  local ttl_ms = tonumber(ARGV[4])
  for i = 1, #KEYS do
    redis.call('HINCRBY', KEYS[i], 'r' .. sec, 1)
    if tokens ~= 0 then redis.call('HINCRBY', KEYS[i], 't' .. sec, tokens) end
    redis.call('PEXPIRE', KEYS[i], ttl_ms)
    local u = usages[i]
    u[1] = u[1] + 1
    u[2] = u[2] + tokens
    u[3] = sec
  end
end

local reply = {allowed and 1 or 0, sec, math.floor(now * 1000)}
for i = 1, #KEYS do reply[#reply + 1] = usages[i] end
return reply
