-- KEYS: hash to create, then keys to drop with it. ARGV: field, value, … 0 if the hash exists.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
return 1
