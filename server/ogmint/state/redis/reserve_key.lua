-- KEYS: user, user's key ids (zset), user's revoked key ids (set). ARGV: key id, plan or '',
-- most active keys or ''. Creates the user (plan ``free``) or sets the plan and lists the key
-- id, unless the user already has that many active keys; returns TIME, or 0 when refused.
if ARGV[3] ~= '' and
    redis.call('ZCARD', KEYS[2]) - redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[3]) then
  return 0
end
if ARGV[2] == '' then
  redis.call('HSETNX', KEYS[1], 'plan', 'free')
else
  redis.call('HSET', KEYS[1], 'plan', ARGV[2])
end
local t = redis.call('TIME')
redis.call('ZADD', KEYS[2], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
return t
