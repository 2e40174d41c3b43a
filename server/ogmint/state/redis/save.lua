-- KEYS: slug, dedup entry, claim, then optionally delivery, slug's delivery list, stream.
-- ARGV: n, the render's n field/value args, then optionally the delivery id and its fields.
-- Records the render (slug and dedup entry), drops the claim and queues the delivery, all or
-- nothing: 0 if the slug or the dedup entry exists.
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local n = tonumber(ARGV[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2, n + 1))
redis.call('HSET', KEYS[2], unpack(ARGV, 2, n + 1))
redis.call('DEL', KEYS[3])
if #KEYS > 3 then
  local id = ARGV[n + 2]
  redis.call('HSET', KEYS[4], unpack(ARGV, n + 3))
  redis.call('RPUSH', KEYS[5], id)
  redis.call('XADD', KEYS[6], '*', 'id', id)
end
return 1
