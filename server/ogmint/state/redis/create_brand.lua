-- KEYS: brand hash, owner's brand zset. ARGV: limit, score (ms), id, then field/value pairs.
-- 1 when stored; 0 if the owner has ``limit`` brands already or the id exists.
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[1]) then return 0 end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
