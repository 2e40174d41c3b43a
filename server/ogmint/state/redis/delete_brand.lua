-- KEYS: brand hash, owner's brand zset. ARGV: id. 1 if it existed.
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[1])
