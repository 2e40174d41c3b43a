-- KEYS: account, e-mail index, accounts zset. ARGV: user, email, admin.
-- Creates the account (no password yet); {sec, usec} of Redis' clock, or 0 if user or e-mail
-- is taken.
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'email', ARGV[2], 'password', '', 'admin', ARGV[3], 'ms', ms)
redis.call('SET', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ms, ARGV[1])
return t
