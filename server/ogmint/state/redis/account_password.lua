--! include _end_sessions.lua
-- KEYS: account, the user's sessions. ARGV: prefix, password hash, session digest to keep.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'password', ARGV[2])
end_sessions(KEYS[2], ARGV[1], ARGV[3])
return 1
