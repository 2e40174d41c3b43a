-- KEYS: signing key, the user's active signing keys. ARGV: kid, user.
-- Revokes the key if it is the user's and still active; 1 if it did.
if redis.call('HGET', KEYS[1], 'user') ~= ARGV[2] then return 0 end
if redis.call('HGET', KEYS[1], 'revoked') ~= '0' then return 0 end
redis.call('HSET', KEYS[1], 'revoked', '1')
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
