-- KEYS: account, the user's current link. ARGV: prefix, user, digest, ttl (ms).
-- Stores the user's one-time link, dropping the one it replaces; 0 when there is no account.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local old = redis.call('GET', KEYS[2])
if old then redis.call('DEL', ARGV[1] .. 'link:' .. old) end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
redis.call('SET', ARGV[1] .. 'link:' .. ARGV[3], ARGV[2], 'PX', ARGV[4])
return 1
