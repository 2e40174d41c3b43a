-- KEYS: delivery, retry zset, stream. ARGV: delivery id. Queues the delivery for an attempt now.
-- The new stream entry is remembered as the pending redelivery, so an attempt already in flight
-- cannot overwrite it when it finishes (finish.lua).
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[2], ARGV[1])
local entry = redis.call('XADD', KEYS[3], '*', 'id', ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'pending', 'next_at', now, 'redeliver', entry)
return 1
