-- Take a slot in the lease set KEYS[1] (lease id -> expiry) if fewer than ARGV[2] are live.
-- ARGV[1]: now in seconds, "" for the server clock; ARGV[3]: lease id; ARGV[4]: ttl seconds.
-- Re-acquiring a held lease refreshes its expiry. Returns 1 if granted, else 0.
local now = clock(ARGV[1])
if lease_fits(KEYS[1], arg(2, 0), ARGV[3], now) then
  lease_take(KEYS[1], ARGV[3], tonumber(ARGV[4]) or 600, now)
  return 1
end
return 0
