-- KEYS: session, the user's sessions. ARGV: prefix, user, csrf, ttl (ms), digest.
-- Records the session and prunes the user's set of sessions that expired.
for _, s in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('EXISTS', ARGV[1] .. 'session:' .. s) == 0 then redis.call('SREM', KEYS[2], s) end
end
redis.call('HSET', KEYS[1], 'user', ARGV[2], 'csrf', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[5])
return 1
