-- KEYS: hash. ARGV: field, value. Sets the field only on an existing hash; 1 if it did.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
