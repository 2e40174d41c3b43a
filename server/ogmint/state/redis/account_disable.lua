--! include _end_sessions.lua
-- KEYS: account, the user's sessions. ARGV: prefix, 1 to disable (ending every session) or 0.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'disabled', ARGV[2])
if ARGV[2] == '1' then end_sessions(KEYS[2], ARGV[1], '') end
return 1
