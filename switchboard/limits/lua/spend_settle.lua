-- Release a reservation and add ARGV[2] to spent in the account hash KEYS[1] (account.lua).
-- With a hold id ARGV[4], release what that hold recorded and drop it from the holds KEYS[2];
-- without one, release ARGV[1]. ARGV[3]: key ttl seconds, 0 = keep forever.
account_settle(KEYS[1], KEYS[2], arg(1, 0), arg(2, 0), arg(3, 0), ARGV[4] or '')
return 0
