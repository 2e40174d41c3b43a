-- KEYS: slug, dedup entry, the owner's render list, slug's delivery list, retry zset, then each
-- delivery's hash and attempts list. ARGV: owner, the render's list member, the delivery ids.
-- Removes the render and its deliveries (a stream entry whose delivery is gone is dropped when
-- claimed, so nothing pending is sent): 0 (nothing changed) unless the slug is the owner's.
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[4])
redis.call('ZREM', KEYS[3], ARGV[2])
for i = 3, #ARGV do redis.call('ZREM', KEYS[5], ARGV[i]) end
for i = 6, #KEYS do redis.call('DEL', KEYS[i]) end
return 1
