--! include _end_sessions.lua
-- KEYS: link. ARGV: prefix, password hash. Sets the password, uses up the link and ends every
-- session of its user; the user, or false for an invalid link (nothing changed).
local user = redis.call('GET', KEYS[1])
if not user then return false end
local tagged = ARGV[1] .. '{a:' .. user .. '}:'
redis.call('HSET', tagged .. 'account', 'password', ARGV[2])
redis.call('DEL', KEYS[1], tagged .. 'link')
end_sessions(tagged .. 'sessions', ARGV[1], '')
return user
