-- KEYS: user, signing key, the user's active signing keys. ARGV: kid, user, secret.
-- Stores the key for an existing user; returns TIME, or false when there is no such user.
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local now = redis.call('TIME')
local ms = now[1] * 1000 + math.floor(now[2] / 1000)
redis.call('HSET', KEYS[2], 'kid', ARGV[1], 'user', ARGV[2], 'secret', ARGV[3],
  'revoked', '0', 'ms', ms)
redis.call('ZADD', KEYS[3], ms, ARGV[1])
return now
