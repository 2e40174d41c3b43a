-- KEYS: session. ARGV: prefix, digest. Ends one session (unknown digests are ignored).
local user = redis.call('HGET', KEYS[1], 'user')
redis.call('DEL', KEYS[1])
if user then redis.call('SREM', ARGV[1] .. '{a:' .. user .. '}:sessions', ARGV[2]) end
return 1
